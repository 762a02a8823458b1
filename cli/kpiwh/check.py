"""Data validation with Great Expectations 1.x (`kpi check`, `kpi build --check`).

Expectation suites are project data, one GX-native suite JSON per table:
``tests/gx/<layer>/<table>.json`` with ``{"name", "meta": {"layer", "schema",
"table"}, "expectations": [{"type", "kwargs", "meta", "severity"?,
"description"?}]}`` (what ``gx.ExpectationSuite(**json)`` reads). Layers:

* ``raw`` — the raw contract (13 tables, ``raw.events_raw`` read through its
  partitioned parent): keys not null and unique, value sets, currency format,
  non-negative amounts and durations, row counts, events per day, timestamps
  not in the future beyond a tolerance. These guard what arrives, before dbt
  runs.
* ``marts`` — only what dbt's own tests do not cover: each daily mart is
  non-empty and has rows for the latest data day of its product.

Run-time suite parameters (``{"$PARAMETER": name}`` in a suite):

* ``max_timestamp`` — now (UTC) + ``future_tolerance_minutes`` (from
  ``tests/gx/parameters.json``, default 60; ``--future-tolerance`` overrides).
* ``event_domains`` / ``event_catalogue_pairs`` — the domains and
  (domain, type) pairs of ``seeds/event_catalogue.csv``.

``great_expectations`` is imported lazily (≈3.5 s) and runs in an ephemeral
context (nothing is written except the optional data docs site).
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from rich.table import Table

from . import config, db
from .errors import KpiError, UsageError

LAYERS = ("raw", "marts")
DEFAULT_FUTURE_TOLERANCE_MINUTES = 60


@dataclass
class ExpectationOutcome:
    """One expectation's result.

    Attributes:
        suite: suite name (``raw.events_raw``).
        expectation: GX expectation type (or the description of an unexpected-rows query).
        column: column(s) checked, "" for table-level expectations.
        success: whether the expectation held.
        severity: ``critical`` (fails the check) | ``warning`` | ``info`` (reported only).
        unexpected_count: rows violating it (None when not row-based, e.g. a row count).
        observed: observed value for aggregate expectations (row count), else None.
        sample: a few unexpected values (as strings).
        error: exception message when GX could not evaluate it.
    """

    suite: str
    expectation: str
    column: str
    success: bool
    severity: str
    unexpected_count: int | None
    observed: object = None
    sample: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True when this outcome fails the check (unsuccessful and critical)."""
        return not self.success and self.severity == "critical"


@dataclass
class CheckResult:
    """Outcome of ``run``: every expectation of every suite of the layer(s)."""

    layers: list[str]
    parameters: dict
    outcomes: list[ExpectationOutcome]
    docs_index: Path | None = None

    @property
    def failed(self) -> list[ExpectationOutcome]:
        """Outcomes that fail the check."""
        return [o for o in self.outcomes if o.failed]

    @property
    def success(self) -> bool:
        """True when no critical expectation failed."""
        return not self.failed

    def to_jsonable(self) -> dict:
        """A JSON-serialisable dict (``--format json``)."""
        return {
            "success": self.success,
            "layers": self.layers,
            "failed": len(self.failed),
            "expectations": len(self.outcomes),
            "parameters": {
                k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in self.parameters.items()
                if k != "event_catalogue_pairs"
            },
            "docs_index": str(self.docs_index) if self.docs_index else None,
            "results": [{**asdict(o), "observed": _plain(o.observed)} for o in self.outcomes],
        }


def _plain(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


# --------------------------------------------------------------------------- suites and parameters
def suites_dir() -> Path:
    """``<project>/tests/gx``: where the suites and ``parameters.json`` live."""
    return config.project_dir() / "tests" / "gx"


def load_suites(layer: str) -> list[dict]:
    """Read the suite JSON files of ``layer`` (sorted by file name).

    Raises:
        UsageError: unknown layer, no suite file, or a file that is not a valid suite JSON.
    """
    if layer not in LAYERS:
        raise UsageError(f"--layer: '{layer}' is not one of {', '.join(LAYERS)}")
    folder = suites_dir() / layer
    files = sorted(folder.glob("*.json"))
    if not files:
        raise UsageError(f"no expectation suite in {folder}")
    suites = []
    for f in files:
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{f}: not a readable suite JSON ({exc})") from None
        meta = d.get("meta") or {}
        if (
            not d.get("name")
            or not meta.get("table")
            or not meta.get("schema")
            or not isinstance(d.get("expectations"), list)
        ):
            raise UsageError(f"{f}: a suite needs name, meta.schema, meta.table and an expectations list")
        d["_file"] = str(f)
        suites.append(d)
    return suites


def event_catalogue() -> tuple[list[str], list[list[str]]]:
    """Domains and (domain, type) pairs of ``seeds/event_catalogue.csv``.

    Raises:
        UsageError: the seed file is missing or has no event_domain/event_type columns.
    """
    path = config.project_dir() / "seeds" / "event_catalogue.csv"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        pairs = sorted({(r["event_domain"], r["event_type"]) for r in rows})
    except (OSError, KeyError) as exc:
        raise UsageError(f"{path}: cannot read the event catalogue ({exc})") from None
    return sorted({d for d, _ in pairs}), [list(p) for p in pairs]


def parameters(future_tolerance_minutes: int | None = None, now: datetime | None = None) -> dict:
    """Run-time suite parameters (see the module docstring).

    Args:
        future_tolerance_minutes: minutes a timestamp may lie after ``now``; None = the value in
            ``tests/gx/parameters.json`` (default 60).
        now: the check's clock (UTC; default the current time).
    Raises:
        UsageError: a negative tolerance or an unreadable parameters file.
    """
    tol = future_tolerance_minutes
    if tol is None:
        f = suites_dir() / "parameters.json"
        try:
            tol = (
                json.loads(f.read_text(encoding="utf-8")).get(
                    "future_tolerance_minutes", DEFAULT_FUTURE_TOLERANCE_MINUTES
                )
                if f.exists()
                else DEFAULT_FUTURE_TOLERANCE_MINUTES
            )
        except (OSError, ValueError) as exc:
            raise UsageError(f"{f}: {exc}") from None
    if not isinstance(tol, int) or tol < 0:
        raise UsageError(f"future tolerance: {tol!r} is not a whole number of minutes >= 0")
    now = now or datetime.now(UTC)
    domains, pairs = event_catalogue()
    return {
        "future_tolerance_minutes": tol,
        "now": now,
        "max_timestamp": now + timedelta(minutes=tol),
        "event_domains": domains,
        "event_catalogue_pairs": pairs,
    }


# --------------------------------------------------------------------------- connection
def sqlalchemy_url() -> str:
    """SQLAlchemy URL (psycopg2 driver) of the database the CLI points at.

    Embedded: ``postgresql+psycopg2://postgres@localhost/<db>?host=<socket dir>`` (GX rejects a
    socket-only URL; libpq's ``host`` query parameter wins). Other targets: libpq's PG* variables.

    Raises:
        DatabaseError: the embedded server cannot be started.
    """
    if config.is_embedded():
        st = db.start()
        return f"postgresql+psycopg2://{db.PG_USER}@localhost/{quote(db.database())}?host={quote(str(st.socket_dir))}"
    env = os.environ
    user = quote(env.get("PGUSER", "postgres"), safe="")
    pw = env.get("PGPASSWORD")
    auth = f"{user}:{quote(pw, safe='')}" if pw else user
    host = env.get("PGHOST", "localhost")
    dbname = quote(env.get("PGDATABASE", "postgres"))
    if host.startswith("/"):
        return f"postgresql+psycopg2://{auth}@localhost:{env.get('PGPORT', '5432')}/{dbname}?host={quote(host)}"
    return f"postgresql+psycopg2://{auth}@{host}:{env.get('PGPORT', '5432')}/{dbname}"


def _missing_tables(suites: list[dict]) -> list[str]:
    with db.connect() as conn:
        return [
            f"{s['meta']['schema']}.{s['meta']['table']}"
            for s in suites
            if conn.execute(
                "select to_regclass(%s) is null", (f"{s['meta']['schema']}.{s['meta']['table']}",)
            ).fetchone()[0]
        ]


# --------------------------------------------------------------------------- run
def run(
    layers: list[str],
    *,
    docs_dir: Path | None = None,
    future_tolerance_minutes: int | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """Validate the database against the suites of ``layers`` with Great Expectations.

    Args:
        layers: subset of ``LAYERS``, in order.
        docs_dir: if given, write a GX data docs site (``index.html``) into this folder.
        future_tolerance_minutes: override of ``tests/gx/parameters.json`` (minutes, >= 0).
        now: the check's clock (UTC), for reproducible tests.
    Returns:
        A :class:`CheckResult` (``.success`` False when a critical expectation failed).
    Raises:
        UsageError: bad layer, suite file or parameter; a table a suite names does not exist
            (run ``kpi init``/``kpi load`` for raw, ``kpi build`` for marts).
        KpiError: GX could not run (connection, unreadable docs folder).
    """
    suites = [s for layer in layers for s in load_suites(layer)]
    params = parameters(future_tolerance_minutes, now)
    missing = _missing_tables(suites)
    if missing:
        hint = "run `kpi build` first" if any(m.startswith("marts.") for m in missing) else "run `kpi init` first"
        raise UsageError(
            f"relation(s) not found: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} ({hint})"
        )
    if docs_dir is not None:
        try:
            docs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--docs {docs_dir}: {exc.strerror or exc}") from None

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx  # noqa: PLC0415  (great_expectations: ~3.5 s import, only when a check runs, warnings silenced)
        from great_expectations.data_context.types.base import (  # noqa: PLC0415  (great_expectations, as above)
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        sites = {}
        if docs_dir is not None:
            sites["kpi"] = {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        ctx = gx.get_context(
            mode="ephemeral",
            project_config=DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                progress_bars=ProgressBarsConfig(globally=False),
                analytics_enabled=False,
                data_docs_sites=sites,
            ),
        )
        try:
            ds = ctx.data_sources.add_postgres("warehouse", connection_string=sqlalchemy_url())
        except Exception as exc:  # noqa: BLE001 - GX wraps driver errors in many types
            raise KpiError(f"great expectations cannot connect: {_one_line(exc)}") from None
        definitions = []
        for s in suites:
            meta = s["meta"]
            spec = {k: v for k, v in s.items() if k in ("name", "expectations", "meta")}
            try:
                suite = ctx.suites.add(gx.ExpectationSuite(**spec))
            except Exception as exc:  # noqa: BLE001 - pydantic/GX validation errors
                raise UsageError(f"{s['_file']}: invalid suite: {_one_line(exc)}") from None
            asset = ds.add_table_asset(s["name"], table_name=meta["table"], schema_name=meta["schema"])
            batch_def = asset.add_batch_definition_whole_table("whole table")
            definitions.append(
                ctx.validation_definitions.add(gx.ValidationDefinition(name=s["name"], data=batch_def, suite=suite))
            )
        checkpoint = ctx.checkpoints.add(
            gx.Checkpoint(
                name="kpi_check_" + "_".join(layers),
                validation_definitions=definitions,
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
            )
        )
        gx_params = {k: v for k, v in params.items() if k not in ("now", "future_tolerance_minutes")}
        try:
            cp_result = checkpoint.run(expectation_parameters=gx_params)
        except Exception as exc:  # noqa: BLE001
            raise KpiError(f"great expectations failed: {_one_line(exc)}") from None

        outcomes = []
        order = {s["name"]: i for i, s in enumerate(suites)}
        for vr in sorted(cp_result.run_results.values(), key=lambda v: order.get(v.suite_name, 0)):
            for r in vr.results:
                outcomes.append(_outcome(vr.suite_name, r))
        index = None
        if docs_dir is not None:
            try:
                ctx.build_data_docs(site_names=["kpi"])
            except Exception as exc:  # noqa: BLE001
                raise KpiError(f"--docs {docs_dir}: cannot build data docs: {_one_line(exc)}") from None
            index = docs_dir.resolve() / "index.html"
        # close GX's pooled connections now (matters when called in-process, e.g. by tests); best effort
        with contextlib.suppress(Exception):
            ds.get_engine().dispose()
    return CheckResult(layers=list(layers), parameters=params, outcomes=outcomes, docs_index=index)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _exception_message(info) -> str | None:
    """First exception message of a GX result's exception_info (flat, or keyed by metric)."""
    if not isinstance(info, dict):
        return None
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for c in candidates:
        if c.get("raised_exception"):
            msg = str(c.get("exception_message") or "exception").split("\n[SQL:")[0]
            return " ".join(msg.split())[:300]
    return None


def _outcome(suite_name: str, r) -> ExpectationOutcome:
    cfg = r.expectation_config
    kw = cfg.kwargs
    column = (
        kw.get("column")
        or ", ".join(kw.get("column_list") or [])
        or ", ".join(c for c in (kw.get("column_A"), kw.get("column_B")) if c)
    )
    name = cfg.type
    if cfg.type == "unexpected_rows_expectation":
        name = (cfg.meta or {}).get("name") or cfg.description or name
    res = r.result or {}
    error = None
    error = _exception_message(r.exception_info)
    unexpected = res.get("unexpected_count")
    observed = res.get("observed_value")
    if cfg.type == "unexpected_rows_expectation":
        unexpected, observed = observed, None
    sample = [str(v) for v in (res.get("partial_unexpected_list") or [])[:5]]
    severity = getattr(cfg.severity, "value", cfg.severity) or "critical"
    return ExpectationOutcome(
        suite=suite_name,
        expectation=name,
        column=column,
        success=bool(r.success),
        severity=str(severity),
        unexpected_count=unexpected,
        observed=observed,
        sample=sample,
        error=error,
    )


def summary_table(result: CheckResult, only_failed: bool = False):
    """A Rich table of the outcomes: suite, expectation, column, success, unexpected count, observed."""
    rows = [o for o in result.outcomes if not only_failed or not o.success]
    n_fail = len(result.failed)
    t = Table(title=f"kpi check {'+'.join(result.layers)}: {len(result.outcomes)} expectations, {n_fail} failed")
    for col in ("suite", "expectation", "column", "success", "unexpected", "observed / sample"):
        t.add_column(col, justify="right" if col == "unexpected" else "left")
    for o in rows:
        flag = "yes" if o.success else ("FAIL" if o.failed else o.severity)
        detail = o.error or (", ".join(o.sample) if o.sample else ("" if o.observed is None else str(o.observed)))
        t.add_row(
            o.suite,
            o.expectation.removeprefix("expect_"),
            o.column,
            flag,
            "" if o.unexpected_count is None else f"{o.unexpected_count:,}",
            detail[:80],
        )
    return t

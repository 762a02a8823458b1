"""Declared product analyses (issue 14): `kpi analyses list` and `kpi analyses show NAME`.

The funnels and retentions are declared in ``dbt_project.yml`` under ``vars:
product_analytics:`` (docs/product_analytics.md "Declaring analyses"). dbt checks them
while it parses (macros/product_analytics/pa_definitions.sql) and stores the checked
entries in the meta of the marts that compute them (``fct_funnel_steps``,
``metrics_retention``); this module reads them from dbt's manifest, so it lists exactly
what ``kpi build`` computes, and prints an analysis's rows from those marts.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal

from .errors import KpiError, UsageError

#: mart of each kind, and the meta key holding its checked entries
MARTS = {
    "funnel": ("fct_funnel_steps", "product_analytics_funnels"),
    "retention": ("metrics_retention", "product_analytics_retentions"),
}

#: columns `kpi analyses show` prints, per kind (the mart's own names), and their order
COLUMNS = {
    "funnel": [
        "breakdown_value",
        "step_number",
        "step_name",
        "entered_count",
        "converted_count",
        "conversion_rate_from_start",
        "conversion_rate_from_previous",
        "median_minutes_to_convert",
        "p90_minutes_to_convert",
    ],
    "retention": [
        "breakdown_value",
        "cohort_grain",
        "cohort_start",
        "period_unit",
        "period_number",
        "cohort_size",
        "retained_exact_count",
        "retention_rate_exact",
        "retained_unbounded_count",
        "retention_rate_unbounded",
        "observation_end",
    ],
}
ORDER_BY = {
    "funnel": "breakdown_value, step_number",
    "retention": "cohort_grain, breakdown_value, cohort_start, period_number",
}


@dataclass
class Analysis:
    """One declared analysis as dbt checked it.

    Attributes:
        name: its name (unique across kinds). kind: ``funnel`` or ``retention``.
        entity: the stg_platform__events column that identifies who is counted.
        shape: steps (funnel: ``name=event`` or ``name=where``) or periods (retention:
            ``day 1, 7, ...``), as one line of text.
        detail: window / ordering / exclusion / breakdown (funnel) or grains, start and
            return events, breakdown (retention), as one line of text.
        entry: the checked entry itself (JSON-able, no SQL).
    """

    name: str
    kind: str
    entity: str
    shape: str
    detail: str
    entry: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        """The analysis for ``--format json``: name, kind, entity, description and the entry's options."""
        keep = {k: v for k, v in self.entry.items() if k not in ("name", "kind", "entity", "definition_hash")}
        return {"name": self.name, "kind": self.kind, "entity": self.entity, **keep}


def _event_text(spec: dict | None) -> str:
    """``orders.order_created``, ``where event_type in [a, b]`` or both; ``any`` for any event."""
    if not spec:
        return "-"
    if spec.get("any"):
        return "any event"
    parts = []
    if spec.get("event"):
        parts.append(str(spec["event"]))
    if spec.get("where"):
        parts.append(
            "where "
            + ", ".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in spec["where"].items())
        )
    return " ".join(parts) or "-"


def _summarise(entry: dict, kind: str) -> Analysis:
    """An :class:`Analysis` from a checked entry of the manifest (see pa_summaries)."""
    if kind == "funnel":
        shape = " -> ".join(f"{s['name']}={_event_text(s)}" for s in entry.get("steps", []))
        bits = [f"ordering {entry.get('ordering')}"]
        if entry.get("window_days") is not None:
            bits.append(f"window {entry['window_days']} days")
        if entry.get("exclude"):
            ex = entry["exclude"]
            bits.append(f"exclude {_event_text(ex)} between steps {ex.get('after_step')} and {ex.get('before_step')}")
        if entry.get("breakdown"):
            bits.append(f"breakdown {entry['breakdown']}")
    else:
        shape = f"{entry.get('period_unit')} " + ", ".join(str(n) for n in entry.get("periods", []))
        bits = [
            "cohorts by " + "/".join(entry.get("cohort_grains", [])),
            f"start {_event_text(entry.get('start'))}",
            f"return {_event_text(entry.get('return'))}",
        ]
        if entry.get("breakdown"):
            bits.append(f"breakdown {entry['breakdown']}")
    return Analysis(entry["name"], kind, entry.get("entity", ""), shape, "; ".join(bits), entry)


#: a definitions error inside dbt's parse error: `product_analytics...: message`, up to dbt's
#: "> in macro ..." trace (or the end)
_DEFINITION_ERROR = re.compile(r"(product_analytics(?:\.|\[)[^\s]*?: .*?)(?:\s+>\s+in macro|\s+>\s+called by|$)")


def definition_error(message: str) -> str | None:
    """The one-line definitions error inside a failed parse's message, else None.

    Args:
        message: a one-line error (``dbt parse failed: Compilation Error in model ... product_analytics.x: msg``).
    Returns:
        ``product_analytics.funnels[x].window_days: must be a positive number`` - the entry and what is wrong.
    """
    m = _DEFINITION_ERROR.search(message)
    return m.group(1).strip() if m else None


def declared(vars_json: str | None = None) -> list[Analysis]:
    """Every declared analysis, funnels first, in declaration order.

    Args:
        vars_json: dbt ``--vars`` (YAML/JSON text) to parse with; none = the project's.
    Returns:
        the analyses dbt checked (an empty list when none is declared).
    Raises:
        UsageError: the project does not parse - e.g. a bad entry, in one line naming it
            (``product_analytics.funnels[x].window_days: must be a positive number``).
    """
    from . import runner  # noqa: PLC0415  (dbt: ~2 s import, deferred so kpi --help stays fast)

    # dbt prints a parse error on stdout whatever --quiet says: here the one line below says it
    # (and `--format json` keeps stdout for the JSON)
    os.environ.setdefault("DBT_LOG_LEVEL", "none")
    try:
        manifest = runner.parse(vars_json)
    except UsageError as exc:
        raise UsageError(definition_error(str(exc)) or str(exc)) from None
    out: list[Analysis] = []
    for kind, (model, key) in MARTS.items():
        node = next(
            (n for n in manifest.nodes.values() if n.resource_type == "model" and n.name == model),
            None,
        )
        if node is None:  # pragma: no cover - the marts are part of the project
            raise KpiError(f"model {model} is missing from the project")
        out += [_summarise(e, kind) for e in (node.config.meta or {}).get(key, [])]
    return out


def find(analyses: list[Analysis], name: str) -> Analysis:
    """The analysis called ``name``.

    Raises:
        UsageError: no analysis has that name (one line listing the declared ones).
    """
    for a in analyses:
        if a.name == name:
            return a
    names = ", ".join(a.name for a in analyses) or "none"
    raise UsageError(f"unknown analysis '{name}' (declared: {names}; see kpi analyses list)")


def jsonable(value):
    """A database value for JSON: Decimal -> float (rates keep their 4 decimals), date -> ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def rows(conn, analysis: Analysis) -> list[dict]:
    """The analysis's rows from its mart (marts.fct_funnel_steps or marts.metrics_retention).

    Args:
        conn: a psycopg connection to the warehouse. analysis: from :func:`find`.
    Returns:
        one dict per row, with the columns of :data:`COLUMNS` for its kind, in the mart's
        natural order (breakdown, step; or grain, breakdown, cohort, period).
    Raises:
        KpiError: the mart is not built yet (exit 1: run `kpi build`).
    """
    from psycopg import sql  # noqa: PLC0415  (psycopg: deferred so kpi --help stays fast)

    mart = MARTS[analysis.kind][0]
    if conn.execute("select to_regclass(%s)", [f"marts.{mart}"]).fetchone()[0] is None:
        raise KpiError(f"marts.{mart} does not exist yet: run `kpi build` first")
    cols = COLUMNS[analysis.kind]
    query = sql.SQL("select {} from {} where analysis_name = %s order by {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in cols),
        sql.Identifier("marts", mart),
        sql.SQL(ORDER_BY[analysis.kind]),
    )
    cur = conn.execute(query, [analysis.name])
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

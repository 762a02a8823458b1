"""``kpi metrics``: the semantic layer (MetricFlow) over the marts, queried through MetricFlow's Python API.

The metrics, their semantic models and MetricFlow's time spine are declared in the
project's yml (``models/marts/*/_*__semantic.yml``); dbt writes them to
``target/semantic_manifest.json`` when it parses the project. This module loads that
manifest (running ``dbt parse`` first when it is missing or older than the project's
files), hands it to a :class:`metricflow.engine.metricflow_engine.MetricFlowEngine` whose
SQL client is a psycopg connection to the CLI's database (the embedded one by default),
and renders the result as a table, JSON or CSV.

MetricFlow and dbt are imported lazily: ``import metricflow`` costs seconds.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from . import config
from .errors import KpiError, UsageError

FORMATS = ("table", "json", "csv")
SEMANTIC_MANIFEST = "semantic_manifest.json"
# MetricFlow's loggers: what they say at INFO (every statement, every plan) is not for the CLI user
_QUIET_LOGGERS = ("metricflow", "metricflow_semantics", "metricflow_semantic_interfaces", "dbt_semantic_interfaces")


@dataclass(frozen=True)
class MetricInfo:
    """One metric of the semantic layer, as ``kpi metrics list`` shows it.

    Attributes:
        name: the metric's name (what ``--metrics`` takes).
        type: simple | ratio | derived | cumulative | conversion.
        label: the human-readable label.
        description: what it measures, with its seed and unit.
        dimensions: the group-by names it accepts besides ``metric_time`` (sorted), e.g. ``tenant``,
            ``tenant__tenant_name``; empty unless asked for.
    """

    name: str
    type: str
    label: str
    description: str
    dimensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryResult:
    """Rows MetricFlow returned.

    Attributes:
        columns: output column names: the group-by names (``metric_time__week``, ``tenant``, ...), then the metrics.
        rows: one tuple per row, values as the database returned them (``date``/``datetime``, ``Decimal``,
            ``int``, ``str``, ``None``).
        sql: the SQL MetricFlow generated and ran.
        metrics: the metric names asked for (the last columns).
    """

    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    sql: str
    metrics: tuple[str, ...] = ()


def _newest_source_mtime(project: Path) -> float:
    """Newest modification time of the files that change the semantic manifest (yml, sql, dbt_project.yml)."""
    newest = (project / "dbt_project.yml").stat().st_mtime
    for folder in ("models", "macros", "seeds", "snapshots"):
        root = project / folder
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.suffix in (".yml", ".yaml", ".sql", ".md") and path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def semantic_manifest_path(refresh: bool = True) -> Path:
    """Return ``<project>/target/semantic_manifest.json``, running ``dbt parse`` first when it is stale.

    Args:
        refresh: parse when the file is missing or older than a yml/sql file of the project (default);
            False returns the path as it is.

    Raises:
        KpiError: ``dbt parse`` failed (the project does not parse; its first error line is named).
    """
    project = config.project_dir()
    path = project / "target" / SEMANTIC_MANIFEST
    if refresh and (not path.is_file() or path.stat().st_mtime < _newest_source_mtime(project)):
        _dbt_parse()
    if not path.is_file():
        raise KpiError(f"dbt parse wrote no {path}: the project declares no semantic models")
    return path


def _on_database(manifest_json: str, database: str) -> str:
    """The semantic manifest with every relation on ``database`` (the one the CLI is connected to).

    dbt writes each relation's database into ``semantic_manifest.json`` (``node_relation``:
    ``database`` and the quoted ``relation_name``); the file may come from a parse for another
    database of the same server (``KPI_PGDATABASE``), and PostgreSQL refuses a cross-database
    reference. Schemas and names stay as parsed.

    Args:
        manifest_json (str): the file's text.
        database (str): the connected database's name.
    Returns:
        the manifest as JSON text.
    Raises:
        ValueError: the text is not JSON.
    """

    def walk(node):
        if isinstance(node, dict):
            rel = node.get("node_relation")
            if isinstance(rel, dict) and rel.get("alias") and rel.get("schema_name"):
                rel["database"] = database
                rel["relation_name"] = ".".join(
                    '"' + str(part).replace('"', '""') + '"' for part in (database, rel["schema_name"], rel["alias"])
                )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    data = json.loads(manifest_json)
    walk(data)
    return json.dumps(data)


def _dbt_parse() -> None:
    """``dbt parse`` of the project for the current target (writes target/semantic_manifest.json)."""
    from . import db, runner  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    os.environ.update(db.dbt_env())
    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (dbt: ~2 s import, deferred so kpi --help stays fast)

    with contextlib.redirect_stdout(sys.stderr):  # stdout is for the result (--format json|csv)
        res = dbtRunner().invoke(["--quiet", "parse", *runner.base_args()])
    if not res.success:
        reason = " ".join(str(res.exception or "see logs/dbt.log").split())[:300]
        raise KpiError(f"dbt parse failed: {reason}")


def _quiet_metricflow() -> None:
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _one_line(exc: BaseException, limit: int = 400) -> str:
    """An exception's message on one line: MetricFlow's are multi-line, indented, with suggestions.

    A traceback MetricFlow quotes inside its message (a filter it could not parse) is replaced
    by the quoted exception's own last line.
    """
    text = str(exc)
    if "Traceback (most recent call last):" in text:
        head, _, tail = text.partition("Traceback (most recent call last):")
        raised = [m.group(1) for m in re.finditer(r"^\s*[\w.]+(?:Exception|Error): (.+)$", tail, re.M)]
        text = head + (raised[-1] if raised else "")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _PsycopgSqlClient:
    """MetricFlow's ``SqlClient`` protocol over one psycopg connection (PostgreSQL).

    MetricFlow renders every value into the SQL it generates; bind parameters, when it
    sends any, are passed to psycopg as ``%(name)s`` placeholders.
    """

    def __init__(self, conn) -> None:
        from metricflow.protocols.sql_client import SqlEngine  # noqa: PLC0415  (metricflow: slow import, lazy)
        from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer  # noqa: PLC0415  (as above)

        self._conn = conn
        self._engine = SqlEngine.POSTGRES
        self._renderer = PostgresSQLSqlPlanRenderer()

    @property
    def sql_engine_type(self):
        """``SqlEngine.POSTGRES``."""
        return self._engine

    @property
    def sql_plan_renderer(self):
        """MetricFlow's PostgreSQL dialect renderer."""
        return self._renderer

    @staticmethod
    def _params(bind) -> dict | None:
        params = dict(bind.param_dict) if bind is not None and bind.param_dict else None
        if not params:
            return None
        return {k: getattr(v, "union_value", v) for k, v in params.items()}

    def query(self, stmt: str, sql_bind_parameter_set=None):
        """Run a SELECT; return its rows as a ``MetricFlowDataTable``."""
        from metricflow.data_table.mf_table import MetricFlowDataTable  # noqa: PLC0415  (metricflow: lazy)

        with self._conn.cursor() as cur:
            cur.execute(stmt, self._params(sql_bind_parameter_set))
            names = [d.name for d in cur.description]
            rows = [tuple(_to_cell(v) for v in r) for r in cur.fetchall()]
        return MetricFlowDataTable.create_from_rows(column_names=names, rows=rows)

    def execute(self, stmt: str, sql_bind_parameter_set=None) -> None:
        """Run a statement without a result."""
        with self._conn.cursor() as cur:
            cur.execute(stmt, self._params(sql_bind_parameter_set))

    def dry_run(self, stmt: str, sql_bind_parameter_set=None) -> None:
        """EXPLAIN the statement (raises when it is not valid)."""
        with self._conn.cursor() as cur:
            cur.execute(f"explain {stmt}", self._params(sql_bind_parameter_set))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        """psycopg's named placeholder."""
        return f"%({bind_parameter_key})s"


def _to_cell(value):
    """A database value as a cell MetricFlow's data table accepts (a ``date`` becomes a midnight ``datetime``)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


class Engine:
    """MetricFlow over the project's semantic manifest and database; use as a context manager.

    Raises (on entry):
        KpiError: the semantic manifest cannot be built or read.
        DatabaseError: the database is unreachable.
    """

    def __init__(self) -> None:
        self._conn = None
        self._mf = None

    def __enter__(self) -> Engine:
        _quiet_metricflow()
        path = semantic_manifest_path()
        from metricflow.engine.metricflow_engine import MetricFlowEngine  # noqa: PLC0415  (metricflow: slow import)
        from metricflow_semantics.model.dbt_manifest_parser import (  # noqa: PLC0415  (as above)
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import (  # noqa: PLC0415  (as above)
            SemanticManifestLookup,
        )

        from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

        self._conn = db.connect()
        try:
            text = _on_database(path.read_text(encoding="utf-8"), self._conn.info.dbname)
            manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=text)
        except Exception as exc:  # a manifest MetricFlow cannot read (another version wrote it)
            self._conn.close()
            self._conn = None
            raise KpiError(f"cannot read {path}: {_one_line(exc, 300)}") from None
        self._mf = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=_PsycopgSqlClient(self._conn)
        )
        return self

    def __exit__(self, *exc) -> None:
        if self._conn is not None:
            self._conn.close()

    def list_metrics(self, with_dimensions: bool = False) -> list[MetricInfo]:
        """Every metric, sorted by name.

        Args:
            with_dimensions: also list each metric's group-by names (slower: MetricFlow resolves the joins).
        """
        out = []
        for m in self._mf.list_metrics(include_dimensions=with_dimensions):
            dims = tuple(sorted({d.dunder_name for d in m.dimensions})) if with_dimensions else ()
            out.append(
                MetricInfo(
                    name=m.name,
                    type=str(getattr(m.type, "value", m.type)).lower(),
                    label=m.label or m.name,
                    description=" ".join((m.description or "").split()),
                    dimensions=dims,
                )
            )
        return sorted(out, key=lambda i: i.name)

    def query(
        self,
        metrics: list[str],
        group_by: list[str] | None = None,
        where: list[str] | None = None,
        order_by: list[str] | None = None,
        limit: int | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> QueryResult:
        """Query metrics through MetricFlow.

        Args:
            metrics: metric names (``kpi metrics list``), at least one.
            group_by: group-by names, e.g. ``metric_time__day``, ``metric_time__week`` (ISO weeks, Monday),
                ``tenant``, ``tenant__tenant_name``, ``location``; none = one row of totals.
            where: MetricFlow filters, each a SQL condition over templated names, e.g.
                ``{{ Entity('tenant') }} = 'mer_001'`` or ``{{ TimeDimension('metric_time', 'day') }} >= '2025-06-01'``;
                several are ANDed.
            order_by: output names to sort by, ``-name`` descending; default: the group-by names.
            limit: at most this many rows.
            start: first day of metric_time (inclusive).
            end: last day of metric_time (inclusive).

        Raises:
            UsageError: an unknown metric or group-by name, a bad filter, or a query MetricFlow refuses
                (its message on one line, with its suggestions).
            DatabaseError: the generated SQL failed in the database.
        """
        import psycopg  # noqa: PLC0415  (psycopg: deferred so kpi --help stays fast)
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest  # noqa: PLC0415  (metricflow: lazy)

        from .errors import DatabaseError  # noqa: PLC0415  (kept next to its single use)

        if not metrics:
            raise UsageError("--metrics: name at least one metric (kpi metrics list)")
        group_by = list(group_by or [])
        request = MetricFlowQueryRequest.create(
            metric_names=metrics,
            group_by_names=group_by or None,
            where_constraints=list(where) if where else None,
            order_by_names=list(order_by) if order_by else (group_by or None),
            limit=limit,
            time_constraint_start=dt.datetime.combine(start, dt.time()) if start else None,
            time_constraint_end=dt.datetime.combine(end, dt.time()) if end else None,
        )
        try:
            result = self._mf.query(request)
        except psycopg.Error as exc:
            raise DatabaseError(f"the metric query failed in the database: {_one_line(exc, 300)}") from None
        except (KpiError, KeyboardInterrupt):
            raise
        except Exception as exc:  # MetricFlow's query errors: unknown names, invalid filters, impossible joins
            raise UsageError(_one_line(exc)) from None
        table = result.result_df
        columns = tuple(table.column_names)
        rows = tuple(tuple(_from_cell(v) for v in row) for row in table.rows)
        return QueryResult(columns=columns, rows=rows, sql=result.sql, metrics=tuple(metrics))


def _from_cell(value):
    """A result cell for output: a midnight ``datetime`` (how MetricFlow returns days and weeks) as a ``date``,
    a whole ``float`` (MetricFlow's data table turns numerics into floats: counts, sums) as an ``int``."""
    if isinstance(value, dt.datetime) and value.tzinfo is None and value.time() == dt.time():
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _jsonable(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def render(result: QueryResult, fmt: str) -> str:
    """The rows as ``json`` (a list of objects, one per row) or ``csv`` (a header, then one line per row).

    Args:
        result: what :meth:`Engine.query` returned.
        fmt: json | csv (the CLI draws ``table`` itself: :func:`to_table`).

    Raises:
        UsageError: another format.
    """
    if fmt == "json":
        return json.dumps([dict(zip(result.columns, map(_jsonable, r))) for r in result.rows], indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(result.columns)
        for r in result.rows:
            w.writerow([_text(v) for v in r])
        return buf.getvalue()
    raise UsageError(f"--format: '{fmt}' is not json or csv")


def to_table(result: QueryResult, title: str | None = None):
    """A Rich table of the rows: group-by columns as identifiers (never cut), metrics right-aligned.

    Args:
        result: what :meth:`Engine.query` returned.
        title: the table's title.
    """
    from rich.table import Table  # noqa: PLC0415  (kept with its only user)

    from . import output  # noqa: PLC0415  (kept with its only user)

    table = Table(title=title)
    n_group = sum(1 for c in result.columns if c not in result.metrics)
    for i, name in enumerate(result.columns):
        if i < n_group:
            output.id_column(table, name, [_text(r[i]) for r in result.rows])
        else:
            table.add_column(name, justify="right", overflow="fold")
    for r in result.rows:
        table.add_row(*(_text(v) for v in r))
    return table

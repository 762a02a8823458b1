"""``kpi status``: seed 004's operations runbook as one command.

Reads what dbt's on-run-end hook (macros/ops/ops_record_job_run.sql) records
in ``ops.etl_job_runs`` / ``ops.etl_job_run_nodes`` — every build, run, test,
seed, snapshot and ``dbt source freshness``, from ``kpi`` or a plain ``dbt``
— and checks the daily marts' coverage:

- the last runs, and the nodes that failed in the last N days with their message;
- loaded but not yet processed: the days of raw events loaded since staging's
  last run, and for each incremental daily mart the days of staging rows written
  since its load watermark (``ops.model_watermarks``): what the next build will
  recompute, however late those events are;
- coverage: for each daily mart (a model tagged ``daily`` under models/marts,
  found in the manifest), the days without a row over the N days ending at the
  data's latest day (the newest day of any daily mart) — the runbook's
  ``generate_series`` left join. A day without activity is missing too: a
  missing day is reported, never an error by itself;
- source freshness: the last recorded ``dbt source freshness`` (run it first
  with ``kpi status --freshness``). An empty source table is "empty", not stale.

Unhealthy (exit 1) when the newest recorded run other than a freshness check
is not ``success`` or a non-empty source is past its ``error_after``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from rich.table import Table
from rich.text import Text

from . import config

RUNS_TABLE = "ops.etl_job_runs"
NODES_TABLE = "ops.etl_job_run_nodes"
FAILED_NODE_STATUSES = ("error", "fail", "runtime error", "partial success")


@dataclass
class Status:
    """What ``kpi status`` reports.

    Attributes:
        runs: the last runs, newest first (dicts of ops.etl_job_runs columns).
        failures: failed nodes of the runs in the window, newest first (with run command and started_at);
            stale sources are in ``freshness`` instead.
        coverage: one dict per daily mart: model, relation, built, missing (ISO days).
        coverage_end: the data's latest day (None when no daily mart has rows); days: window length.
        unprocessed: loaded-but-not-yet-processed days: ``{"staging": [ISO days], "marts": {model: [ISO days]}}``.
        freshness: one dict per source of the last freshness check (status pass|warn|error|empty).
        freshness_checked_at: when that check ran (None: never).
        problems: one-line reasons the warehouse is unhealthy (empty = healthy).
    """

    days: int
    runs: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)
    coverage_end: date | None = None
    unprocessed: dict = field(default_factory=lambda: {"staging": [], "marts": {}})
    freshness: list[dict] = field(default_factory=list)
    freshness_checked_at: datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when nothing in :attr:`problems`."""
        return not self.problems


def _exists(conn, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _dicts(cur) -> list[dict]:
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def daily_marts(manifest: dict | None = None) -> list[dict]:
    """The daily marts: models tagged ``daily`` under models/marts, with their day column (``event_time``).

    Args:
        manifest: dbt's manifest.json as a dict; None = read <project>/target/manifest.json,
            or parse the project when there is none.
    Returns:
        ``[{"model": name, "relation": "schema.alias", "event_time": column,
        "incremental": bool}]`` sorted by model (incremental: recomputes changed days, else rebuilt whole).
    """
    if manifest is None:
        path = config.project_dir() / "target" / "manifest.json"
        manifest = _read_manifest(path)
    marts = []
    for node in manifest.get("nodes", {}).values():
        cfg = node.get("config") or {}
        if (node.get("resource_type") == "model" and "daily" in (node.get("tags") or [])
                and "marts" in (node.get("fqn") or [])[1:-1] and cfg.get("event_time")):
            marts.append({"model": node["name"], "relation": f'{node["schema"]}.{node.get("alias") or node["name"]}',
                          "event_time": cfg["event_time"],
                          "incremental": cfg.get("incremental_strategy") == "replace_days"})
    return sorted(marts, key=lambda m: m["model"])


def _read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        from . import runner  # noqa: PLC0415  (imports dbt: only without a manifest)

        return runner.parse().writable_manifest().to_dict()


def coverage(conn, marts: list[dict], days: int) -> tuple[date | None, list[dict]]:
    """Days missing from each daily mart over the ``days`` days ending at the data's latest day.

    The latest day is the newest event_time day of any built daily mart (not today: a
    warehouse loaded up to last week is judged on last week).

    Args:
        conn: psycopg connection.
        marts: from :func:`daily_marts`.
        days: window length in days (>= 1).
    Returns:
        ``(end day or None, [{"model", "relation", "built", "rows_in_window", "missing": [ISO days]}])``.
    """
    from psycopg import sql  # noqa: PLC0415

    built = [m for m in marts if _exists(conn, m["relation"])]
    end = None
    for m in built:
        schema, table = m["relation"].split(".", 1)
        d = conn.execute(sql.SQL("select max(cast({c} as date)) from {r}").format(
            c=sql.Identifier(m["event_time"]), r=sql.Identifier(schema, table))).fetchone()[0]
        if d is not None and (end is None or d > end):
            end = d
    out = []
    for m in marts:
        row = {"model": m["model"], "relation": m["relation"], "built": m in built, "missing": [],
               "rows_in_window": 0}
        if m in built and end is not None:
            schema, table = m["relation"].split(".", 1)
            missing = conn.execute(sql.SQL(
                "select d.day::date, count(t.day) from generate_series(%s::date, %s::date, interval '1 day') as d(day) "
                "left join (select cast({c} as date) as day from {r} "
                "           where cast({c} as date) between %s::date and %s::date) as t on t.day = d.day::date "
                "group by d.day order by d.day").format(
                    c=sql.Identifier(m["event_time"]), r=sql.Identifier(schema, table)),
                (end - timedelta(days=days - 1), end, end - timedelta(days=days - 1), end)).fetchall()
            row["missing"] = [d.isoformat() for d, n in missing if n == 0]
            row["rows_in_window"] = sum(n for _, n in missing)
        out.append(row)
    return end, out


STAGING = "staging.stg_platform__events"
WATERMARKS = "ops.model_watermarks"


def unprocessed(conn, marts: list[dict]) -> dict:
    """Days holding loaded events that the next build will (re)compute, however late they are.

    Args:
        conn: psycopg connection.
        marts: from :func:`daily_marts`.
    Returns:
        ``{"staging": [ISO days of raw events loaded after staging's newest _loaded_at],
        "marts": {model: [ISO days of staging rows written after the mart's watermark]}}``;
        a mart or staging not built yet is left out (its first build takes everything).
    """
    out: dict = {"staging": [], "marts": {}}
    if not _exists(conn, STAGING):
        return out
    out["staging"] = [d.isoformat() for (d,) in conn.execute(
        "select distinct (occurred_at at time zone 'UTC')::date from raw.events_raw "
        f"where _loaded_at > (select coalesce(max(_loaded_at), '-infinity') from {STAGING}) order by 1")]
    if not _exists(conn, WATERMARKS):
        return out
    for m in marts:
        if not m["incremental"] or not _exists(conn, m["relation"]):
            continue
        days = [d.isoformat() for (d,) in conn.execute(
            f"select d from (select event_date as d, dbt_loaded_at from {STAGING} "
            f"union all select previous_event_date, dbt_loaded_at from {STAGING} where previous_event_date is not null) s "
            f"where dbt_loaded_at > (select coalesce(max(staged_at), '-infinity') from {WATERMARKS} "
            f"where model_name = %s) group by d order by d", (m["relation"],))]
        if days:
            out["marts"][m["model"]] = days
    return out


def collect(conn, days: int = 7, limit: int = 10, manifest: dict | None = None) -> Status:
    """Gather the runs, failures, coverage and freshness (read-only).

    Args:
        conn: psycopg connection to the warehouse.
        days: window (days) for failures and coverage.
        limit: how many recent runs to list.
        manifest: optional manifest dict (see :func:`daily_marts`).
    Returns:
        a :class:`Status` with its problems filled in.
    """
    st = Status(days=days)
    if _exists(conn, RUNS_TABLE):
        st.runs = _dicts(conn.execute(
            f"select invocation_id, command, status, started_at, finished_at, "
            f"extract(epoch from finished_at - started_at) as seconds, nodes_total, nodes_ok, nodes_error, "
            f"nodes_skipped, nodes_warn, selector, invoked_via, run_by, target_name from {RUNS_TABLE} "
            f"order by started_at desc limit %s", (limit,)))
        st.failures = _dicts(conn.execute(
            f"select r.started_at, r.command, r.invocation_id, n.unique_id, n.resource_type, n.status, "
            f"n.batches_succeeded, n.batches_failed, n.message from {NODES_TABLE} n "
            f"join {RUNS_TABLE} r using (invocation_id) "
            f"where n.status = any(%s) and n.resource_type <> 'source' and r.started_at >= now() - make_interval(days => %s) "
            f"order by r.started_at desc, n.unique_id limit 50", (list(FAILED_NODE_STATUSES), days)))
        last_fresh = conn.execute(
            f"select invocation_id, started_at from {RUNS_TABLE} where command = 'freshness' "
            f"order by started_at desc limit 1").fetchone()
        if last_fresh:
            st.freshness_checked_at = last_fresh[1]
            st.freshness = _dicts(conn.execute(
                f"select unique_id as source, case when status = 'error' and freshness_max_loaded_at is null "
                f"then 'empty' else status end as status, freshness_max_loaded_at as max_loaded_at, "
                f"freshness_age_seconds as age_seconds, message from {NODES_TABLE} "
                f"where invocation_id = %s order by unique_id", (last_fresh[0],)))
    marts = daily_marts(manifest)
    st.coverage_end, st.coverage = coverage(conn, marts, days)
    st.unprocessed = unprocessed(conn, marts)

    last_build = next((r for r in st.runs if r["command"] != "freshness"), None)
    if last_build is not None and last_build["status"] != "success":
        st.problems.append(f"last run ({last_build['command']}, {last_build['started_at']:%Y-%m-%d %H:%M} UTC) "
                           f"{last_build['status']}: {last_build['nodes_error']} node(s) failed, "
                           f"{last_build['nodes_skipped']} skipped")
    for f in st.freshness:
        if f["status"] in ("error", "runtime error"):
            st.problems.append(f"source {f['source'].split('.', 2)[-1]} is stale: freshness {f['status']}")
    return st


def to_jsonable(st: Status) -> dict:
    """The status as JSON-ready data (what monitors read from ``kpi status --format json``)."""

    def conv(v):
        if isinstance(v, (datetime, date)):
            return v.isoformat()
        if isinstance(v, float) or type(v).__name__ == "Decimal":
            return float(v)
        return v

    def rows(items):
        return [{k: conv(v) for k, v in r.items()} for r in items]

    return {
        "healthy": st.healthy,
        "problems": st.problems,
        "days": st.days,
        "runs": rows(st.runs),
        "failures": rows(st.failures),
        "coverage": {"end": conv(st.coverage_end), "days": st.days, "marts": st.coverage},
        "unprocessed": st.unprocessed,
        "freshness": {"checked_at": conv(st.freshness_checked_at), "sources": rows(st.freshness)},
    }


def _ts(v) -> str:
    return "" if v is None else f"{v.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S}"


def render_tables(st: Status) -> list:
    """Rich renderables: runs table, failure lines, coverage and freshness tables, then the verdict line.

    Print the non-table parts with ``soft_wrap=True`` so each stays on one line.
    """
    out: list = []
    t = Table(title=f"last {len(st.runs)} dbt runs (ops.etl_job_runs)")
    for col in ("started (UTC)", "command", "status", "seconds", "nodes", "ok", "error", "skipped", "via", "by"):
        t.add_column(col, justify="right" if col in ("seconds", "nodes", "ok", "error", "skipped") else "left")
    for r in st.runs:
        t.add_row(_ts(r["started_at"]), r["command"], r["status"], f"{float(r['seconds'] or 0):.1f}",
                  str(r["nodes_total"]), str(r["nodes_ok"]), str(r["nodes_error"]), str(r["nodes_skipped"]),
                  r["invoked_via"] or "", r["run_by"] or "")
    out.append(t if st.runs else "no dbt run recorded yet (ops.etl_job_runs is empty or missing)")
    if st.failures:
        # one line per failed node (not a table: messages are long and must stay greppable)
        out.append(Text(f"failed nodes in the last {st.days} days:", style="bold"))
        for f in st.failures:
            batches = ("" if f["batches_failed"] is None
                       else f" (batches ok {f['batches_succeeded']}, failed {f['batches_failed']})")
            msg = " ".join(str(f["message"] or "").split())[:300]
            out.append(Text(f"  {_ts(f['started_at'])} {f['command']} {f['unique_id'].split('.', 2)[-1]}: "
                            f"{f['status']}{batches}: {msg}"))
    t = Table(title=f"coverage: days missing over the {st.days} days ending {st.coverage_end or '-'}")
    for col in ("daily mart", "rows in window", "missing days"):
        t.add_column(col)
    for c in st.coverage:
        if not c["built"]:
            t.add_row(c["model"], "-", "not built")
        else:
            t.add_row(c["model"], str(c["rows_in_window"]), ", ".join(c["missing"]) or "none")
    out.append(t)
    pending = sorted(set(st.unprocessed["staging"]).union(*st.unprocessed["marts"].values()))
    if pending:
        shown = ", ".join(pending[:10]) + (f" (+{len(pending) - 10} more)" if len(pending) > 10 else "")
        out.append(Text(f"loaded, not yet processed: {len(pending)} day(s): {shown} (the next `kpi build` "
                        "recomputes them)"))
    else:
        out.append(Text("loaded, not yet processed: none"))
    if st.freshness:
        t = Table(title=f"source freshness (checked {_ts(st.freshness_checked_at)} UTC)")
        for col in ("source", "status", "newest _loaded_at (UTC)", "age (hours)"):
            t.add_column(col)
        for f in st.freshness:
            age = "" if f["age_seconds"] is None else f"{float(f['age_seconds']) / 3600:.1f}"
            t.add_row(f["source"].split(".", 2)[-1], f["status"], _ts(f["max_loaded_at"]), age)
        out.append(t)
    else:
        out.append("source freshness: never checked (run `kpi status --freshness`)")
    out.append("healthy" if st.healthy else "UNHEALTHY: " + "; ".join(st.problems))
    return out

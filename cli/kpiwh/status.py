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
  data's latest day — the newest UTC day, not after today, with rows in a raw
  table the daily marts are built from (their upstream sources with an
  ``event_time``) — the runbook's ``generate_series`` left join. A missing day
  for which the staged raw rows the mart reads (of the event domains it counts)
  were loaded more than ``--max-wait-hours`` ago is *overdue*: a problem. One
  whose rows arrived since is *pending* (the next build takes it); one without
  data is a quiet day, reported only;
- source freshness: the last recorded ``dbt source freshness`` (run it first
  with ``kpi status --freshness``). An empty source table is "empty", not stale;
- partition health (seed 004 runbook "Partition health check"): per monthly
  partition of ``raw.events_raw`` its bounds, size, rows and oldest / newest UTC
  day, and which of the current and next ``PARTITIONS_AHEAD`` months have no
  partition yet (``kpi build`` creates them);
- event schema versions: the staged events whose (domain, type, schema_version)
  is not in the ``event_schema_versions`` registry seed, counted per version.

Partition gaps and unregistered versions are reported, not unhealthy: events of
an unregistered version are still staged and counted by type (the registry's
dbt test warns), and a missing future partition is created by the next build.

Unhealthy (exit 1) when the newest recorded run other than a freshness check
is not ``success``, a non-empty source is past its ``error_after``, a daily mart
has an overdue day, or loaded events have waited longer than ``--max-wait-hours``
(default 24) for the build that processes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from psycopg import sql
from rich.table import Table
from rich.text import Text

from . import config, contract, output, partitions, runner

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
        coverage: one dict per daily mart: model, relation, built, rows_in_window, missing, overdue,
            pending (ISO days; see :func:`coverage`).
        coverage_end: the data's latest day (:func:`data_end`; None without data); days: window length.
        max_wait_hours: how long loaded data may wait for a build before it is a problem.
        unprocessed: loaded-but-not-yet-processed days: ``{"staging": [ISO days], "marts": {model: [ISO days]},
            "oldest_loaded_at": datetime | None}``.
        freshness: one dict per source of the last freshness check (status pass|warn|error|empty).
        freshness_checked_at: when that check ran (None: never).
        problems: one-line reasons the warehouse is unhealthy (empty = healthy).
        partitions: :func:`partition_health` (None: no raw.events_raw).
        schema_versions: :func:`unregistered_versions` (None: staging or the registry not built).
    """

    days: int
    max_wait_hours: float = 24.0
    runs: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)
    coverage_end: date | None = None
    unprocessed: dict = field(default_factory=lambda: {"staging": [], "marts": {}})
    freshness: list[dict] = field(default_factory=list)
    freshness_checked_at: datetime | None = None
    problems: list[str] = field(default_factory=list)
    partitions: dict | None = None
    schema_versions: dict | None = None

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
        ``[{"model": name, "relation": "schema.alias", "event_time": column, "incremental": bool,
        "sources": [...], "day_sources": [...]}]`` sorted by model (incremental: recomputes changed days,
        else rebuilt whole; sources / day_sources: see :func:`_upstream`).
    """
    if manifest is None:
        path = config.project_dir() / "target" / "manifest.json"
        manifest = _read_manifest(path)
    nodes, sources = manifest.get("nodes", {}), manifest.get("sources", {})
    marts = []
    for node in nodes.values():
        cfg = node.get("config") or {}
        if (
            node.get("resource_type") == "model"
            and "daily" in (node.get("tags") or [])
            and "marts" in (node.get("fqn") or [])[1:-1]
            and cfg.get("event_time")
        ):
            domains = (cfg.get("kpi_changed_days") or {}).get("domains")
            raw, days = _upstream(node, nodes, sources, domains)
            marts.append(
                {
                    "model": node["name"],
                    "relation": f"{node['schema']}.{node.get('alias') or node['name']}",
                    "event_time": cfg["event_time"],
                    "incremental": cfg.get("incremental_strategy") == "replace_days",
                    "sources": raw,
                    "day_sources": days,
                }
            )
    return sorted(marts, key=lambda m: m["model"])


def _upstream(node: dict, nodes: dict, sources: dict, domains: list[str] | None) -> tuple[list[dict], list[dict]]:
    """What a daily mart is built from, found upstream in the manifest.

    Returns:
        ``(raw, days)``: ``raw``, every raw table upstream with an ``event_time`` (whose newest
        day is the data's latest day); ``days``, the nearest upstream relations with an
        ``event_time`` and a ``_loaded_at`` column (staging, or an intermediate that keeps
        each row's load time), whose days are the days the mart should have a row — e.g.
        a payment counts on its booking's day (int_payments_attributed.attributed_at), not on
        its raw created_at. Each ``{"relation", "event_time", "domains"}``; ``domains``, the
        model's ``kpi_changed_days.domains``, narrows an event log (a relation with an
        ``event_domain`` column) to the event domains the mart counts.
    """
    seen: set[str] = set()
    raw: dict[str, dict] = {}
    days: dict[str, dict] = {}
    todo = [(uid, True) for uid in (node.get("depends_on") or {}).get("nodes") or []]
    while todo:
        uid, nearest = todo.pop()
        if (uid, nearest) in seen:
            continue
        seen.add((uid, nearest))
        item = sources.get(uid) or nodes.get(uid)
        if item is None:
            continue
        col = (item.get("config") or {}).get("event_time")
        cols = item.get("columns") or {}
        rel = f"{item['schema']}.{item.get('identifier') or item.get('alias') or item['name']}"
        entry = {
            "relation": rel,
            "event_time": col,
            "domains": sorted(domains) if domains and "event_domain" in cols else None,
        }
        if col and uid in sources:
            raw[rel] = entry
        found = bool(col) and "_loaded_at" in cols and nearest
        if found:
            days[rel] = entry
        todo.extend((parent, nearest and not found) for parent in (item.get("depends_on") or {}).get("nodes") or [])
    return [raw[k] for k in sorted(raw)], [days[k] for k in sorted(days)]


def _read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return runner.parse().writable_manifest().to_dict()


def _data_days(conn, src: dict, start: date, end: date) -> dict[date, datetime]:
    """Days in [start, end] holding rows of one relation (see :func:`_upstream`), with each day's oldest ``_loaded_at``."""
    schema, table = src["relation"].split(".", 1)
    where = sql.SQL("")
    params: list = [start, end + timedelta(days=1)]
    if src["domains"]:
        where = sql.SQL(" and event_domain = any(%s)")
        params.append(src["domains"])
    q = sql.SQL(
        "select cast({c} at time zone 'UTC' as date), min(_loaded_at) from {r} "
        "where {c} >= cast(%s as date) at time zone 'UTC' and {c} < cast(%s as date) at time zone 'UTC'"
        "{w} group by 1"
    ).format(c=sql.Identifier(src["event_time"]), r=sql.Identifier(schema, table), w=where)
    return dict(conn.execute(q, params).fetchall())


def data_end(conn, marts: list[dict], today: date | None = None) -> date | None:
    """The data's latest day: the newest UTC day with rows in a raw table a daily mart is built from.

    Days after ``today`` (UTC) are ignored: a future timestamp is bad data (``kpi check``
    reports it), not the end of the data. When the raw tables hold nothing (all pruned by
    retention) it is the newest day of any built daily mart; None when there is neither.
    """
    today = today or datetime.now(UTC).date()
    end = None
    rels = {s["relation"]: s for m in marts for s in m["sources"]}
    for src in rels.values():
        if not _exists(conn, src["relation"]):
            continue
        schema, table = src["relation"].split(".", 1)
        d = conn.execute(
            sql.SQL(
                "select cast(max({c}) at time zone 'UTC' as date) from {r} "
                "where {c} < cast(%s as date) at time zone 'UTC'"
            ).format(c=sql.Identifier(src["event_time"]), r=sql.Identifier(schema, table)),
            (today + timedelta(days=1),),
        ).fetchone()[0]
        if d is not None and (end is None or d > end):
            end = d
    if end is not None:
        return end
    for m in marts:
        if not _exists(conn, m["relation"]):
            continue
        schema, table = m["relation"].split(".", 1)
        d = conn.execute(
            sql.SQL("select max(cast({c} as date)) from {r} where cast({c} as date) <= %s").format(
                c=sql.Identifier(m["event_time"]), r=sql.Identifier(schema, table)
            ),
            (today,),
        ).fetchone()[0]
        if d is not None and (end is None or d > end):
            end = d
    return end


def coverage(
    conn, marts: list[dict], days: int, max_wait: timedelta = timedelta(hours=24), today: date | None = None
) -> tuple[date | None, list[dict]]:
    """Days missing from each daily mart over the ``days`` days ending at the data's latest day.

    The window ends at :func:`data_end` (not today: a warehouse loaded up to last week is
    judged on last week). A day without a mart row is *missing*; it is *overdue* when the
    loaded data the mart is built from (its ``day_sources``, :func:`_upstream`: the staged raw
    rows, for the event log those of the event domains the mart counts) holds rows of that
    day loaded more than ``max_wait`` ago — data the mart should show and does not. A missing
    day whose rows all arrived within ``max_wait`` is *pending* (the next build takes it).
    A day without such rows is only missing (a quiet day). Raw rows not staged yet are
    :func:`unprocessed`'s concern.

    Args:
        conn: psycopg connection.
        marts: from :func:`daily_marts`.
        days: window length in days (>= 1).
        max_wait: how long loaded data may wait for a build before its missing day is overdue.
        today: the current UTC day (tests); default now.
    Returns:
        ``(end day or None, [{"model", "relation", "built", "rows_in_window", "missing": [ISO days],
        "overdue": [ISO days], "pending": [ISO days]}])``; a mart not built yet has ``built``
        False and nothing else (its first build takes every day).
    """
    built = [m for m in marts if _exists(conn, m["relation"])]
    end = data_end(conn, marts, today)
    now = datetime.now(UTC)
    out = []
    for m in marts:
        row = {
            "model": m["model"],
            "relation": m["relation"],
            "built": m in built,
            "missing": [],
            "overdue": [],
            "pending": [],
            "rows_in_window": 0,
        }
        if m in built and end is not None:
            start = end - timedelta(days=days - 1)
            schema, table = m["relation"].split(".", 1)
            counts = conn.execute(
                sql.SQL(
                    "select d.day::date, count(t.day) from generate_series(%s::date, %s::date, interval '1 day') as d(day) "
                    "left join (select cast({c} as date) as day from {r} "
                    "           where cast({c} as date) between %s::date and %s::date) as t on t.day = d.day::date "
                    "group by d.day order by d.day"
                ).format(c=sql.Identifier(m["event_time"]), r=sql.Identifier(schema, table)),
                (start, end, start, end),
            ).fetchall()
            missing = [d for d, n in counts if n == 0]
            oldest: dict[date, datetime] = {}
            if missing:
                for src in m["day_sources"]:
                    if _exists(conn, src["relation"]):
                        for d, loaded in _data_days(conn, src, start, end).items():
                            oldest[d] = min(loaded, oldest.get(d, loaded))
            row["missing"] = [d.isoformat() for d in missing]
            row["overdue"] = [d.isoformat() for d in missing if d in oldest and now - oldest[d] > max_wait]
            row["pending"] = [d.isoformat() for d in missing if d in oldest and now - oldest[d] <= max_wait]
            row["rows_in_window"] = sum(n for _, n in counts)
        out.append(row)
    return end, out


STAGING = "staging.stg_platform__events"
# (staging model, raw table, the day column of a waiting row) of the bookings product
BOOKINGS_STAGING = (
    ("staging.stg_bookings__bookings", "raw.bookings", "start_at"),
    ("staging.stg_bookings__payments", "raw.payments", "created_at"),
)
#: default of ``kpi status --max-wait-hours``: a daily scheduled build has run at least once since
DEFAULT_MAX_WAIT_HOURS = 24.0
WATERMARKS = "ops.model_watermarks"


def unprocessed(conn, marts: list[dict]) -> dict:
    """Days holding loaded data that the next build will (re)compute, however late they are.

    Loaded data: raw events not staged yet, staging rows a daily mart has not processed yet, and
    raw bookings / payments not staged yet (their days by start_at / created_at).

    Args:
        conn: psycopg connection.
        marts: from :func:`daily_marts`.
    Returns:
        ``{"staging": [ISO days of raw events (bookings, payments) loaded after staging's newest _loaded_at],
        "marts": {model: [ISO days of staging rows written after the mart's watermark]},
        "oldest_loaded_at": when the longest-waiting of those events was loaded (None: nothing waits)}``;
        a mart or staging not built yet is left out (its first build takes everything).
    """
    out: dict = {"staging": [], "marts": {}, "oldest_loaded_at": None}
    # the bookings product's staging (incremental by load watermark like the event log): raw rows
    # loaded after the newest _loaded_at it holds wait for the next build too
    waiting_days: set[str] = set()
    waiting_since = []
    for stg, raw, day_column in BOOKINGS_STAGING:
        if not (_exists(conn, stg) and _exists(conn, raw)):
            continue
        until = f"(select coalesce(max(_loaded_at), '-infinity') from {stg})"
        rows = conn.execute(
            f"select distinct ({day_column} at time zone 'UTC')::date from {raw} where _loaded_at > {until}"
        ).fetchall()
        waiting_days.update(d.isoformat() for (d,) in rows if d is not None)
        waiting_since.append(
            conn.execute(f"select min(_loaded_at) from {raw} where _loaded_at > {until}").fetchone()[0]
        )
    if not _exists(conn, STAGING):
        out["staging"] = sorted(waiting_days)
        waiting_since = [t for t in waiting_since if t is not None]
        out["oldest_loaded_at"] = min(waiting_since) if waiting_since else None
        return out
    staged_until = f"(select coalesce(max(_loaded_at), '-infinity') from {STAGING})"
    out["staging"] = [
        d.isoformat()
        for (d,) in conn.execute(
            "select distinct (occurred_at at time zone 'UTC')::date from raw.events_raw "
            f"where _loaded_at > {staged_until} order by 1"
        )
    ]
    oldest = [
        conn.execute(f"select min(_loaded_at) from raw.events_raw where _loaded_at > {staged_until}").fetchone()[0]
    ]
    if _exists(conn, WATERMARKS):
        for m in marts:
            if not m["incremental"] or not _exists(conn, m["relation"]):
                continue
            since = f"(select coalesce(max(staged_at), '-infinity') from {WATERMARKS} where model_name = %s)"
            days = [
                d.isoformat()
                for (d,) in conn.execute(
                    f"select d from (select event_date as d, dbt_loaded_at from {STAGING} "
                    f"union all select previous_event_date, dbt_loaded_at from {STAGING} where previous_event_date is not null) s "
                    f"where dbt_loaded_at > {since} group by d order by d",
                    (m["relation"],),
                )
            ]
            if days:
                out["marts"][m["model"]] = days
                oldest.append(
                    conn.execute(
                        f"select min(_loaded_at) from {STAGING} where dbt_loaded_at > {since}", (m["relation"],)
                    ).fetchone()[0]
                )
    out["staging"] = sorted(set(out["staging"]) | waiting_days)
    oldest = [t for t in oldest + waiting_since if t is not None]
    out["oldest_loaded_at"] = min(oldest) if oldest else None
    return out


#: the registry seed of event schema versions (schema config on the shared targets)
SCHEMA_REGISTRY = "config.event_schema_versions"
#: months after the current one whose events_raw partition should exist (seed 004's weekly
#: maintenance creates CURRENT_DATE + 2 months); ``kpi build`` creates them
PARTITIONS_AHEAD = 2


def partition_health(conn, today: date | None = None, months_ahead: int = PARTITIONS_AHEAD) -> dict | None:
    """The monthly partitions of ``raw.events_raw``: size, rows, oldest and newest day (seed 004 runbook).

    Rows and days are exact (one ``count(*)`` / ``min`` / ``max`` over each partition); size is
    ``pg_total_relation_size`` (table, indexes and TOAST).

    Args:
        conn: psycopg connection.
        today: the current UTC day (tests); default today.
        months_ahead: the current month and this many following ones should have a partition.
    Returns:
        ``{"partitions": [{"name", "range_start", "range_end", "size_bytes", "rows", "oldest_day",
        "newest_day"}] (oldest first; days None for an empty partition), "months_missing":
        ["YYYY-MM", ...] (of the current and next ``months_ahead`` months), "months_ahead":
        months_ahead, "rows": total, "size_bytes": total}``; None when raw.events_raw does not exist.
    """
    if not _exists(conn, f"{contract.RAW_SCHEMA}.{contract.PARTITIONED_TABLE}"):
        return None
    today = today or datetime.now(UTC).date()
    rows = []
    for part in partitions.list_partitions(conn):
        rel = sql.Identifier(contract.RAW_SCHEMA, part.name)
        n, oldest, newest = conn.execute(
            sql.SQL(
                "select count(*), cast(min(occurred_at) at time zone 'UTC' as date), "
                "cast(max(occurred_at) at time zone 'UTC' as date) from {}"
            ).format(rel)
        ).fetchone()
        size = conn.execute(
            "select pg_total_relation_size(%s::regclass)", (f"{contract.RAW_SCHEMA}.{part.name}",)
        ).fetchone()[0]
        rows.append(
            {
                "name": part.name,
                "range_start": part.start.astimezone(UTC).date(),
                "range_end": part.end.astimezone(UTC).date(),
                "size_bytes": int(size),
                "rows": int(n),
                "oldest_day": oldest,
                "newest_day": newest,
            }
        )
    covered = {r["range_start"] for r in rows}
    missing = [f"{m:%Y-%m}" for m in contract.months_ahead(today, months_ahead) if m not in covered]
    return {
        "partitions": rows,
        "months_missing": missing,
        "months_ahead": months_ahead,
        "rows": sum(r["rows"] for r in rows),
        "size_bytes": sum(r["size_bytes"] for r in rows),
    }


def unregistered_versions(conn) -> dict | None:
    """Staged events whose (event_domain, event_type, schema_version) is not in the registry seed.

    Returns:
        ``{"events": total, "versions": [{"event_domain", "event_type", "schema_version", "events"}]}``
        (most events first); None while staging or the registry (``config.event_schema_versions``)
        is not built.
    """
    if not (_exists(conn, STAGING) and _exists(conn, SCHEMA_REGISTRY)):
        return None
    versions = _dicts(
        conn.execute(
            f"select s.event_domain, s.event_type, s.schema_version, count(*) as events from {STAGING} s "
            f"where not exists (select 1 from {SCHEMA_REGISTRY} r where r.event_domain = s.event_domain "
            "and r.event_type = s.event_type and r.schema_version = s.schema_version) "
            "group by 1, 2, 3 order by 4 desc, 1, 2, 3"
        )
    )
    return {"events": sum(v["events"] for v in versions), "versions": versions}


def collect(
    conn, days: int = 7, limit: int = 10, manifest: dict | None = None, max_wait_hours: float = DEFAULT_MAX_WAIT_HOURS
) -> Status:
    """Gather the runs, failures, coverage and freshness (read-only).

    Args:
        conn: psycopg connection to the warehouse.
        days: window (days) for failures and coverage.
        limit: how many recent runs to list.
        manifest: optional manifest dict (see :func:`daily_marts`).
        max_wait_hours: hours loaded data may wait for a build (>= 0): a daily mart missing a
            day whose raw rows were loaded longer ago, or loaded events not processed for longer,
            make the warehouse unhealthy.
    Returns:
        a :class:`Status` with its problems filled in.
    """
    st = Status(days=days, max_wait_hours=max_wait_hours)
    max_wait = timedelta(hours=max_wait_hours)
    if _exists(conn, RUNS_TABLE):
        st.runs = _dicts(
            conn.execute(
                f"select invocation_id, command, status, started_at, finished_at, "
                f"extract(epoch from finished_at - started_at) as seconds, nodes_total, nodes_ok, nodes_error, "
                f"nodes_skipped, nodes_warn, selector, invoked_via, run_by, target_name from {RUNS_TABLE} "
                f"order by started_at desc limit %s",
                (limit,),
            )
        )
        st.failures = _dicts(
            conn.execute(
                f"select r.started_at, r.command, r.invocation_id, n.unique_id, n.resource_type, n.status, "
                f"n.batches_succeeded, n.batches_failed, n.message from {NODES_TABLE} n "
                f"join {RUNS_TABLE} r using (invocation_id) "
                f"where n.status = any(%s) and n.resource_type <> 'source' and r.started_at >= now() - make_interval(days => %s) "
                f"order by r.started_at desc, n.unique_id limit 50",
                (list(FAILED_NODE_STATUSES), days),
            )
        )
        last_fresh = conn.execute(
            f"select invocation_id, started_at from {RUNS_TABLE} where command = 'freshness' "
            f"order by started_at desc limit 1"
        ).fetchone()
        if last_fresh:
            st.freshness_checked_at = last_fresh[1]
            st.freshness = _dicts(
                conn.execute(
                    f"select unique_id as source, case when status = 'error' and freshness_max_loaded_at is null "
                    f"then 'empty' else status end as status, freshness_max_loaded_at as max_loaded_at, "
                    f"freshness_age_seconds as age_seconds, message from {NODES_TABLE} "
                    f"where invocation_id = %s order by unique_id",
                    (last_fresh[0],),
                )
            )
    marts = daily_marts(manifest)
    st.coverage_end, st.coverage = coverage(conn, marts, days, max_wait)
    st.unprocessed = unprocessed(conn, marts)
    st.partitions = partition_health(conn)
    st.schema_versions = unregistered_versions(conn)

    last_build = next((r for r in st.runs if r["command"] != "freshness"), None)
    if last_build is not None and last_build["status"] != "success":
        st.problems.append(
            f"last run ({last_build['command']}, {last_build['started_at']:%Y-%m-%d %H:%M} UTC) "
            f"{last_build['status']}: {last_build['nodes_error']} node(s) failed, "
            f"{last_build['nodes_skipped']} skipped"
        )
    for f in st.freshness:
        if f["status"] in ("error", "runtime error"):
            st.problems.append(f"source {f['source'].split('.', 2)[-1]} is stale: freshness {f['status']}")
    for c in st.coverage:
        if c["overdue"]:
            st.problems.append(
                f"{c['model']} misses {len(c['overdue'])} day(s) that have raw data loaded more "
                f"than {max_wait_hours:g} h ago: {_days_list(c['overdue'])}"
            )
    oldest = st.unprocessed["oldest_loaded_at"]
    if oldest is not None:
        waited = datetime.now(UTC) - oldest
        if waited > max_wait:
            pending = sorted(set(st.unprocessed["staging"]).union(*st.unprocessed["marts"].values()))
            st.problems.append(
                f"loaded data has waited {waited.total_seconds() / 3600:.1f} h to be processed "
                f"(over {max_wait_hours:g} h; loaded {_ts(oldest)} UTC): "
                f"{len(pending)} day(s) {_days_list(pending)}; run `kpi build`"
            )
    return st


def _days_list(days: list[str], shown: int = 10) -> str:
    """``a, b, c (+N more)``: at most ``shown`` ISO days."""
    return ", ".join(days[:shown]) + (f" (+{len(days) - shown} more)" if len(days) > shown else "")


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
        "max_wait_hours": st.max_wait_hours,
        "coverage": {"end": conv(st.coverage_end), "days": st.days, "marts": st.coverage},
        "unprocessed": {k: conv(v) for k, v in st.unprocessed.items()},
        "freshness": {"checked_at": conv(st.freshness_checked_at), "sources": rows(st.freshness)},
        "partitions": None
        if st.partitions is None
        else {**st.partitions, "partitions": rows(st.partitions["partitions"])},
        "schema_versions": st.schema_versions,
    }


def _ts(v) -> str:
    return "" if v is None else f"{v.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def render_tables(st: Status) -> list:
    """Rich renderables: runs table, failure lines, coverage and freshness tables, then the verdict line.

    Print the non-table parts with ``soft_wrap=True`` so each stays on one line.
    """
    out: list = []
    t = Table(title=f"last {len(st.runs)} dbt runs (ops.etl_job_runs)")
    rows = [
        [
            _ts(r["started_at"]),
            r["command"],
            r["status"],
            f"{float(r['seconds'] or 0):.1f}",
            str(r["nodes_total"]),
            str(r["nodes_ok"]),
            str(r["nodes_error"]),
            str(r["nodes_skipped"]),
            r["invoked_via"] or "",
            r["run_by"] or "",
        ]
        for r in st.runs
    ]
    for i, col in enumerate(
        ("started (UTC)", "command", "status", "seconds", "nodes", "ok", "error", "skipped", "via", "by")
    ):
        # values are never cut: each column is at least as wide as its longest value
        output.id_column(
            t,
            col,
            [r[i] for r in rows],
            justify="right" if col in ("seconds", "nodes", "ok", "error", "skipped") else "left",
        )
    for r in rows:
        t.add_row(*r)
    out.append(t if st.runs else "no dbt run recorded yet (ops.etl_job_runs is empty or missing)")
    if st.failures:
        # one line per failed node (not a table: messages are long and must stay greppable)
        out.append(Text(f"failed nodes in the last {st.days} days:", style="bold"))
        for f in st.failures:
            batches = (
                ""
                if f["batches_failed"] is None
                else f" (batches ok {f['batches_succeeded']}, failed {f['batches_failed']})"
            )
            msg = " ".join(str(f["message"] or "").split())[:300]
            out.append(
                Text(
                    f"  {_ts(f['started_at'])} {f['command']} {f['unique_id'].split('.', 2)[-1]}: "
                    f"{f['status']}{batches}: {msg}"
                )
            )
    t = Table(
        title=f"coverage: days missing over the {st.days} days ending {st.coverage_end or '-'} "
        f"(the latest day with raw data)",
        caption=f"OVERDUE: raw data of the day loaded more than {st.max_wait_hours:g} h ago; "
        "pending: loaded since; otherwise no raw data that day",
    )
    output.id_column(t, "daily mart", [c["model"] for c in st.coverage])
    t.add_column("rows in window", justify="right", no_wrap=True)
    output.text_column(t, "missing days")
    for c in st.coverage:
        if not c["built"]:
            t.add_row(c["model"], "-", "not built")
        else:
            mark = {**{d: f"{d} OVERDUE" for d in c["overdue"]}, **{d: f"{d} pending" for d in c["pending"]}}
            t.add_row(c["model"], str(c["rows_in_window"]), ", ".join(mark.get(d, d) for d in c["missing"]) or "none")
    out.append(t)
    pending = sorted(set(st.unprocessed["staging"]).union(*st.unprocessed["marts"].values()))
    if pending:
        since = st.unprocessed["oldest_loaded_at"]
        waiting = f", waiting since {_ts(since)} UTC" if since is not None else ""
        out.append(
            Text(
                f"loaded, not yet processed: {len(pending)} day(s): {_days_list(pending)}{waiting} "
                "(the next `kpi build` recomputes them)"
            )
        )
    else:
        out.append(Text("loaded, not yet processed: none"))
    if st.freshness:
        t = Table(title=f"source freshness (checked {_ts(st.freshness_checked_at)} UTC)")
        rows = [
            [
                f["source"].split(".", 2)[-1],
                f["status"],
                _ts(f["max_loaded_at"]),
                "" if f["age_seconds"] is None else f"{float(f['age_seconds']) / 3600:.1f}",
            ]
            for f in st.freshness
        ]
        for i, col in enumerate(("source", "status", "newest _loaded_at (UTC)", "age (hours)")):
            output.id_column(t, col, [r[i] for r in rows], justify="right" if i == 3 else "left")
        for r in rows:
            t.add_row(*r)
        out.append(t)
    else:
        out.append("source freshness: never checked (run `kpi status --freshness`)")
    out.extend(_render_partitions(st.partitions))
    sv = st.schema_versions
    if sv is None:
        out.append(Text("event schema versions: not checked (staging or the event_schema_versions seed not built)"))
    elif sv["events"]:
        listed = ", ".join(
            f"{v['event_domain']}.{v['event_type']} v{v['schema_version']} ({v['events']})" for v in sv["versions"][:10]
        )
        out.append(
            Text(
                f"event schema versions: {sv['events']} staged event(s) of {len(sv['versions'])} unregistered "
                f"version(s): {listed} (add them to seeds/event_schema_versions.csv)"
            )
        )
    else:
        out.append(Text("event schema versions: every staged event's version is registered"))
    out.append("healthy" if st.healthy else "UNHEALTHY: " + "; ".join(st.problems))
    return out


def _size(n: int) -> str:
    """Bytes as pg_size_pretty does (bytes, kB, MB, GB, TB; 1024-based)."""
    v = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if v < 10 * 1024 or unit == "GB":
            return f"{v:.0f} {unit}" if unit == "bytes" else f"{v:.1f} {unit}"
        v /= 1024
    return f"{v:.1f} TB"  # pragma: no cover


def _render_partitions(ph: dict | None) -> list:
    """The partition-health table and its line on missing months (see :func:`partition_health`)."""
    if ph is None:
        return [Text("partitions: raw.events_raw does not exist (run `kpi init`)")]
    t = Table(
        title=f"partition health: raw.events_raw, {len(ph['partitions'])} partition(s), "
        f"{ph['rows']} rows, {_size(ph['size_bytes'])}"
    )
    rows = [
        [
            p["name"],
            f"{p['range_start']} .. {p['range_end']}",
            _size(p["size_bytes"]),
            str(p["rows"]),
            str(p["oldest_day"] or "-"),
            str(p["newest_day"] or "-"),
        ]
        for p in ph["partitions"]
    ]
    for i, col in enumerate(("partition", "range [start, end)", "size", "rows", "oldest day", "newest day")):
        output.id_column(t, col, [r[i] for r in rows], justify="right" if col in ("size", "rows") else "left")
    for r in rows:
        t.add_row(*r)
    missing = ph["months_missing"]
    line = (
        f"partitions ahead: missing for {', '.join(missing)} (the next `kpi build` creates them)"
        if missing
        else f"partitions ahead: the current month and the next {ph['months_ahead']} exist"
    )
    return [t, Text(line)]

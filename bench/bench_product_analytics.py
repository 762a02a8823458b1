#!/usr/bin/env python3
"""Benchmark the declared funnel and retention (issue 14) against hand-written peers.

On a private embedded PostgreSQL (``--pgdata``, default ``bench/out/pgdata-pa``):

1. ``kpi init`` and ``kpi build --select +stg_platform__events`` on an empty database (the
   relation dbt compiles against), then ``dbt compile`` of ``int_funnel_entity_steps`` and
   ``int_retention_entity_periods`` with ``--vars`` declaring one 5-step funnel (user_id,
   bench.step_1 .. step_5, 30-day window) and one 12-period monthly retention (start
   bench.step_1, return any event): the SQL ``kpi build`` runs on a first build;
2. synthetic events in ``bench.events`` (``--users`` users, ~``--events-per-user`` events
   each over ~13 months; deterministic: ``setseed``), the compiled SQL pointed at it;
3. ``--runs`` rounds, alternating which goes first, of the declared SQL and of two
   hand-written peers per kind (:data:`PEERS`: ``bench/peer/product_analytics_<kind>_single_pass.sql``,
   one sort and window minimums like the declared SQL; ``bench/peer/product_analytics_<kind>.sql``,
   group-bys hash-joined on the entity), each as ``create table ... as``; medians and the
   ratios declared / peer;
4. the rows must equal each peer's (``EXCEPT ALL`` both ways on the peer's columns), else exit 1;
   ``EXPLAIN`` of both is written to ``bench/out/product_analytics_plans.txt``.

Prints JSON and writes ``bench/out/product_analytics.json``; CLI output goes to
``bench/out/bench_product_analytics.log``.

Usage: ``PYTHONPATH=cli .venv/bin/python bench/bench_product_analytics.py [--users 1000000] [--runs 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_platform import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
LOG = OUT / "bench_product_analytics.log"
#: per kind, two hand-written peers of the same definition: ``single_pass`` (the issue's yardstick:
#: the events read and sorted once, window minimums, one group-by per entity, no join) and
#: ``hash_join`` (one group-by per step or per start, hash-joined back on the entity)
PEERS = {
    kind: {
        "single_pass": ROOT / "bench" / "peer" / f"product_analytics_{kind}_single_pass.sql",
        "hash_join": ROOT / "bench" / "peer" / f"product_analytics_{kind}.sql",
    }
    for kind in ("funnel", "retention")
}
COMPILED = ROOT / "target" / "compiled" / "kpi_warehouse" / "models" / "intermediate" / "product_analytics" / "declared"
MODELS = {"funnel": "int_funnel_entity_steps", "retention": "int_retention_entity_periods"}
#: the peer's columns, compared with the same columns of the declared model's rows
COMPARE = {
    "funnel": "entity_key, step_number, reached_at",
    "retention": "entity_key, start_date, period_number, is_retained_exact, is_retained_unbounded",
}
DEFINITIONS = {
    "product_analytics": {
        "streams": ["bench"],
        "funnels": [
            {
                "name": "bench_funnel",
                "entity": "user_id",
                "window_days": 30,
                "steps": [{"name": f"s{k}", "event": f"bench.step_{k}"} for k in range(1, 6)],
            }
        ],
        "retentions": [
            {
                "name": "bench_monthly",
                "entity": "user_id",
                "start": {"event": "bench.step_1"},
                "return": "any",
                "cohort_grain": "month",
                "periods": list(range(1, 13)),
            }
        ],
    }
}


def kpi(*args: str, env: dict) -> None:
    """Run the CLI (output appended to the log); exit on failure."""
    with LOG.open("a") as log:
        log.write(f"\n$ kpi {' '.join(args)}\n")
        log.flush()
        rc = subprocess.run(
            [sys.executable, "-m", "kpiwh.main", *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        ).returncode
    if rc != 0:
        raise SystemExit(f"kpi {' '.join(args)} failed (exit {rc}); see {LOG}")


def compile_declared(env: dict) -> dict[str, str]:
    """Compile the two declared-analysis intermediates with the bench definitions; return their SQL."""
    code = (
        "from kpiwh import runner; runner.invoke(['compile', '--select', "
        f"'{' '.join(MODELS.values())}', '--vars', {json.dumps(json.dumps(DEFINITIONS))}], progress=False)"
    )
    with LOG.open("a") as log:
        subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True
        )
    return {kind: (COMPILED / f"{model}.sql").read_text() for kind, model in MODELS.items()}


def make_events(url: str, users: int, per_user: int) -> int:
    """Create bench.events: ``users`` users with ``per_user`` events each (random step 1-5 or noise).

    Each user starts on a random day of 2025 (an hour of it); their events follow at random gaps
    of 0-3 days, so steps come in and out of order and some fall outside the 30-day window;
    country codes repeat. Returns the event count.
    """
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("create schema if not exists bench")
        c.execute("drop table if exists bench.events")
        c.execute("select setseed(0.42)")
        c.execute(
            f"""
            create table bench.events as
            with users as (
                select u, timestamptz '2025-01-01 00:00:00+00' + (random() * 364 * 24) * interval '1 hour' as t0
                from generate_series(1, {users}) as u
            ),
            raw_events as (
                select
                    users.u,
                    users.t0 + sum(random() * 72) over (partition by users.u order by j) * interval '1 hour' as ts,
                    floor(random() * 6)::int as kind
                from users, generate_series(1, {per_user}) as j
            )
            select
                'u' || u as user_id,
                ts as occurred_at,
                (ts at time zone 'UTC')::date as event_date,
                'bench'::text as event_domain,
                case when kind = 0 then 'noise' else 'step_' || kind end as event_type,
                (array['SA', 'AE', 'EG', 'GB'])[1 + u % 4] as country_code,
                now() as dbt_loaded_at
            from raw_events
            """
        )
        c.execute("analyze bench.events")
        return c.execute("select count(*) from bench.events").fetchone()[0]


def timed(url: str, table: str, sql: str) -> float:
    """Seconds to run ``create table <table> as <sql>`` (the table is dropped first)."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"drop table if exists {table}")
        t0 = time.monotonic()
        c.execute(f"create table {table} as {sql}")
        return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--events-per-user", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pgdata", default=str(OUT / "pgdata-pa"))
    ns = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KPI_PGDATA": ns.pgdata,
        "KPI_PROJECT_DIR": str(ROOT),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "cli"), os.environ.get("PYTHONPATH")) if p),
    }
    env.pop("KPI_TARGET", None)
    kpi("db", "start", env=env)
    db = "bench_product_analytics"
    url = fresh_database(env, db)
    e = {**env, "KPI_PGDATABASE": db}
    kpi("init", env=e)
    kpi("build", "--select", "+stg_platform__events", "--exclude", "resource_type:test",
        "--exclude", "resource_type:unit_test", env=e)  # fmt: skip
    declared = compile_declared(e)
    with psycopg.connect(url, autocommit=True) as c:
        schema = c.execute(
            "select table_schema from information_schema.tables where table_name = 'stg_platform__events'"
        ).fetchone()[0]
    relation = f'"{db}"."{schema}"."stg_platform__events"'
    events = make_events(url, ns.users, ns.events_per_user)
    result: dict = {
        "parameters": {"users": ns.users, "events_per_user": ns.events_per_user, "runs": ns.runs},
        "events": events,
        "kinds": {},
    }
    plans = []
    for kind in ("funnel", "retention"):
        ours = declared[kind].replace(relation, "bench.events")
        if "bench.events" not in ours:
            raise SystemExit(f"{MODELS[kind]}: the compiled SQL does not read {relation}")
        peers = {name: path.read_text().replace("{events}", "bench.events") for name, path in PEERS[kind].items()}
        sqls = {"declared": ours, **peers}
        runs: dict[str, list] = {name: [] for name in sqls}
        for i in range(ns.runs):
            # alternating: each round starts with the next of declared / single pass / hash join
            names = list(sqls)
            for name in names[i % len(names) :] + names[: i % len(names)]:
                la = [round(x, 2) for x in os.getloadavg()]
                seconds = timed(url, f"bench.{kind}_{name}", sqls[name])
                runs[name].append({"seconds": round(seconds, 3), "loadavg": la})
        cols = COMPARE[kind]
        differ: dict[str, list[int]] = {}
        with psycopg.connect(url, autocommit=True) as c:
            for name in peers:
                only_ours = c.execute(
                    f"select count(*) from (select {cols} from bench.{kind}_declared "
                    f"except all select {cols} from bench.{kind}_{name}) d"
                ).fetchone()[0]
                only_peer = c.execute(
                    f"select count(*) from (select {cols} from bench.{kind}_{name} "
                    f"except all select {cols} from bench.{kind}_declared) d"
                ).fetchone()[0]
                differ[name] = [only_ours, only_peer]
            rows = c.execute(f"select count(*) from bench.{kind}_declared").fetchone()[0]
            for name, sql in sqls.items():
                plan = c.execute(f"explain {sql}").fetchall()
                plans.append(f"==== {kind} {name}\n" + "\n".join(r[0] for r in plan))
        med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
        result["kinds"][kind] = {
            "rows": rows,
            "runs": runs,
            "median_seconds": med,
            "declared_over": {name: round(med["declared"] / med[name], 2) if med[name] else None for name in peers},
            "equal": all(d == [0, 0] for d in differ.values()),
            "rows_only_in_declared_and_only_in_peer": differ,
        }
        (OUT / "product_analytics.json").write_text(json.dumps(result, indent=2))
    (OUT / "product_analytics_plans.txt").write_text("\n\n".join(plans) + "\n")
    print(json.dumps(result, indent=2))
    bad = [k for k, v in result["kinds"].items() if not v["equal"]]
    if bad:
        raise SystemExit(f"declared and peer rows differ: {', '.join(bad)}")


if __name__ == "__main__":
    main()

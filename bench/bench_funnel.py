#!/usr/bin/env python3
"""Benchmark the funnel() macro (macros/funnel.sql) against a hand-written peer, at growing sizes.

For each ``--days`` value (same ``--tenants`` / ``--scale``), on a private
embedded PostgreSQL (``--pgdata``, default ``bench/out/pgdata-funnel``):

1. ``kpi generate`` (cached in bench/out by parameters) and ``kpi load`` into
   a fresh database ``bench_funnel_<days>``;
2. ``kpi build --select +stg_platform__events`` (the cleaned event log, tests
   excluded), then dbt compiles ``analyses/order_funnel.sql``: the three-step
   order funnel created -> assigned -> completed with a 7-day window, its
   events passed to funnel() as a CTE;
3. ``--runs`` rounds, alternating, of the compiled funnel and of the peer
   (``bench/peer/order_funnel.sql``: one group-by per step, each joined to the
   previous step's one row per order), each as ``create table ... as``;
   medians, and seconds per 100,000 order events (constant when the cost is
   linear);
4. the two results must be equal (``EXCEPT ALL`` both ways), else exit 1.

Prints JSON and writes it to ``bench/out/funnel.json``; CLI output goes to
``bench/out/bench_funnel.log``; ``os.getloadavg()`` is recorded per round.

Usage: ``PYTHONPATH=cli .venv/bin/python bench/bench_funnel.py [--tenants 10 --scale 1 --days 30 --days 120] [--runs 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_platform import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
LOG = OUT / "bench_funnel.log"
PEER = ROOT / "bench" / "peer" / "order_funnel.sql"
COMPILED = ROOT / "target" / "compiled" / "kpi_warehouse" / "analyses" / "order_funnel.sql"


def kpi(*args: str, env: dict) -> float:
    """Run the CLI (output appended to the log); return wall seconds; exit on failure."""
    with LOG.open("a") as log:
        log.write(f"\n$ kpi {' '.join(args)}\n")
        log.flush()
        t0 = time.monotonic()
        rc = subprocess.run(
            [sys.executable, "-m", "kpiwh.main", *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        ).returncode
    if rc != 0:
        raise SystemExit(f"kpi {' '.join(args)} failed (exit {rc}); see {LOG}")
    return time.monotonic() - t0


def compile_funnel(env: dict) -> str:
    """Compile analyses/order_funnel.sql with dbt against the current database; return its SQL."""
    code = "from kpiwh import runner; runner.invoke(['compile', '--select', 'order_funnel'], progress=False)"
    with LOG.open("a") as log:
        subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True
        )
    return COMPILED.read_text()


def timed(url: str, table: str, sql: str) -> float:
    """Seconds to run ``create table <table> as <sql>`` (the table is dropped first)."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"drop table if exists {table}")
        t0 = time.monotonic()
        c.execute(f"create table {table} as {sql}")
        return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=10)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--days", type=int, action="append", help="history sizes (repeatable; default 30 and 120)")
    ap.add_argument("--start", default="2025-06-02")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pgdata", default=str(OUT / "pgdata-funnel"))
    ns = ap.parse_args()
    sizes = ns.days or [30, 120]
    OUT.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KPI_PGDATA": ns.pgdata,
        "KPI_PROJECT_DIR": str(ROOT),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "cli"), os.environ.get("PYTHONPATH")) if p),
    }
    env.pop("KPI_TARGET", None)
    start = date.fromisoformat(ns.start)
    kpi("db", "start", env=env)
    result: dict = {
        "parameters": {"tenants": ns.tenants, "scale": ns.scale, "start": ns.start, "runs": ns.runs},
        "sizes": [],
    }
    for days in sizes:
        data = OUT / f"data_t{ns.tenants}_d{days}_s{ns.scale:g}_{start.isoformat()}"
        if not (data / ".done").exists():
            kpi("generate", "--out", str(data), "--tenants", str(ns.tenants), "--days", str(days),
                "--scale", str(ns.scale), "--start", start.isoformat(), env=env)  # fmt: skip
            (data / ".done").write_text("ok")
        db = f"bench_funnel_{days}"
        url = fresh_database(env, db)
        e = {**env, "KPI_PGDATABASE": db}
        kpi("load", str(data), env=e)
        kpi("build", "--select", "+stg_platform__events", "--exclude", "resource_type:test",
            "--exclude", "resource_type:unit_test", env=e)  # fmt: skip
        funnel_sql = compile_funnel(e)
        with psycopg.connect(url, autocommit=True) as c:
            schema = c.execute(
                "select table_schema from information_schema.tables where table_name = 'stg_platform__events'"
            ).fetchone()[0]
            events, orders = c.execute(
                f"select count(*), count(distinct entity_id) from {schema}.stg_platform__events "
                "where event_domain = 'orders' and event_type in ('order_created', 'order_assigned', 'order_completed')"
            ).fetchone()
        peer_sql = PEER.read_text().replace("{events}", f"{schema}.stg_platform__events")
        runs: dict[str, list] = {"funnel": [], "peer": []}
        for _ in range(ns.runs):
            la = [round(x, 2) for x in os.getloadavg()]
            runs["funnel"].append({"seconds": round(timed(url, "bench_funnel_project", funnel_sql), 3), "loadavg": la})
            runs["peer"].append({"seconds": round(timed(url, "bench_funnel_peer", peer_sql), 3), "loadavg": la})
        with psycopg.connect(url, autocommit=True) as c:
            only_project = c.execute(
                "select count(*) from (select * from bench_funnel_project except all select * from bench_funnel_peer) d"
            ).fetchone()[0]
            only_peer = c.execute(
                "select count(*) from (select * from bench_funnel_peer except all select * from bench_funnel_project) d"
            ).fetchone()[0]
            rows = c.execute("select count(*) from bench_funnel_project").fetchone()[0]
        med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
        size = {
            "days": days,
            "order_events": events,
            "orders": orders,
            "rows": rows,
            "runs": runs,
            "median_seconds": med,
            "seconds_per_100k_events": {k: round(v * 100_000 / max(events, 1), 3) for k, v in med.items()},
            "funnel_over_peer": round(med["funnel"] / med["peer"], 2) if med["peer"] else None,
            "equal": only_project == 0 and only_peer == 0,
            "only_in_funnel": only_project,
            "only_in_peer": only_peer,
        }
        result["sizes"].append(size)
        (OUT / "funnel.json").write_text(json.dumps(result, indent=2))
        if not size["equal"]:
            print(json.dumps(result, indent=2))
            raise SystemExit(
                f"{days} days: funnel and peer differ ({only_project} rows only in the funnel, "
                f"{only_peer} only in the peer, {rows} funnel rows)"
            )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

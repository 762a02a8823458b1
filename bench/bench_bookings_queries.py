#!/usr/bin/env python3
"""Benchmark: seed 002's query latencies and the recent refresh, at ~1 M bookings.

Seed 002 states: dashboard VIEW query < 100 ms, customer profile lookup < 50 ms,
hourly (recent) refresh 5-10 s. This measures ours:

1. generates the bookings product only (``kpiwh.generate.generate`` with the
   other products' events skipped: the same bytes for the bookings tables as a
   full ``kpi generate`` with these settings), cached in ``bench/out``;
2. loads tenants, locations, customers, bookings, payments and referral
   profiles *except the last day's* (rows created on it) into a private embedded
   PostgreSQL (``bench/out/pgdata-bookings``), and builds
   ``+customer_analytics`` and ``+analytics_appointments_by_location_daily``
   (full refresh, tests excluded, ``as_of`` pinned to the end of the window);
3. **view query**: ``select * from marts.analytics_appointments_by_location_daily
   where organization_id = %s and booking_date >= month and < next month`` for
   ``--queries`` random (organization, month) pairs, as a client login mapped to
   that organization (row-level security through the view) — p50 / p95 / max;
4. **profile lookup**: ``select * from marts.customer_analytics where
   organization_id = %s and customer_id = %s`` for ``--queries`` random
   customers, as a login in ``kpi_admin`` (the mart is admin only) — p50 / p95;
   both are wall times in the client (round trip, execution and fetch), warm cache,
   each after one untimed pass;
5. **recent refresh**: runs ``kpi refresh customers --mode recent`` once (the
   previous hour of the seed's hourly job: nothing new), loads the held-back last
   day, then times the same command (the customers loaded since the last run,
   customer_analytics recomputed for them, with its tests), then once more with
   nothing new.

Usage: ``PYTHONPATH=cli .venv/bin/python bench/bench_bookings_queries.py [--scale 4.6] [--queries 500]``.
Results: printed and written to ``bench/out/bookings_queries.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TABLES = ["tenants", "locations", "customers", "bookings", "payments", "referral_profiles"]
# the column whose UTC date says a row arrived on the held-back last day
DAY_COLUMN = {
    "customers": "created_at",
    "bookings": "created_at",
    "payments": "created_at",
    "referral_profiles": "created_at",
}


def kpi(*args: str, env: dict, check: bool = True) -> float:
    """Run the CLI (output to bench/out/bench_bookings_queries.log); return wall seconds."""
    t0 = time.monotonic()
    with (OUT / "bench_bookings_queries.log").open("a") as log:
        log.write(f"\n$ kpi {' '.join(args)}\n")
        log.flush()
        r = subprocess.run([sys.executable, "-m", "kpiwh.main", *args], env=env, cwd=ROOT, stdout=log, stderr=log)
    if check and r.returncode != 0:
        raise SystemExit(f"kpi {' '.join(args)} failed with exit {r.returncode} (bench/out/bench_bookings_queries.log)")
    return time.monotonic() - t0


def generate_bookings_only(data: Path, tenants: int, days: int, start: date, scale: float) -> None:
    """The bookings product's tables of ``kpi generate`` (events of the other products skipped)."""
    from kpiwh import generate as gen  # noqa: PLC0415

    def organizations_only(ctx, plans) -> None:
        for tp in plans:
            if tp.kind == "organization":
                gen.bookings.write_tables(ctx, tp)

    gen._write_products = organizations_only  # bench only: skip the event-heavy products
    gen.generate(data, tenants=tenants, days=days, start=start, scale=scale)
    (data / ".done").write_text("ok")


def split_last_day(data: Path, history: Path, new_day: Path, last_day: str) -> None:
    """Copy the tables, rows created on ``last_day`` (UTC) into ``new_day``, the rest into ``history``."""
    for d in (history, new_day):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    for t in TABLES:
        col = DAY_COLUMN.get(t)
        if col is None:
            os.link(data / f"{t}.csv", history / f"{t}.csv")
            continue
        with (data / f"{t}.csv").open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            i = header.index(col)
            with (
                (history / f"{t}.csv").open("w", newline="", encoding="utf-8") as h,
                (new_day / f"{t}.csv").open("w", newline="", encoding="utf-8") as n,
            ):
                wh, wn = csv.writer(h, lineterminator="\n"), csv.writer(n, lineterminator="\n")
                wh.writerow(header)
                wn.writerow(header)
                for row in reader:
                    (wn if row[i].startswith(last_day) else wh).writerow(row)


def timed(conn: psycopg.Connection, sql: str, params: list[tuple]) -> list[float]:
    """Milliseconds per execution (execute + fetch all) of ``sql`` for each parameter tuple."""
    for p in params[: min(50, len(params))]:  # untimed pass: plans and pages warm
        conn.execute(sql, p).fetchall()
    ms = []
    for p in params:
        t0 = time.perf_counter()
        conn.execute(sql, p).fetchall()
        ms.append((time.perf_counter() - t0) * 1000)
    return ms


def stats(ms: list[float]) -> dict:
    """p50 / p95 / max of a list of milliseconds, rounded to 0.01 ms."""
    s = sorted(ms)
    return {
        "n": len(s),
        "p50_ms": round(statistics.median(s), 2),
        "p95_ms": round(s[max(0, int(len(s) * 0.95) - 1)], 2),
        "max_ms": round(s[-1], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scale", type=float, default=4.6)
    ap.add_argument("--start", default="2025-06-02")
    ap.add_argument("--queries", type=int, default=500)
    ns = ap.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_bookings_queries.log").write_text("")
    start = date.fromisoformat(ns.start)
    last_day = (start + timedelta(days=ns.days - 1)).isoformat()
    as_of = (start + timedelta(days=ns.days)).isoformat() + "T00:00:00+00:00"
    env = {
        **os.environ,
        "KPI_PGDATA": str(OUT / "pgdata-bookings"),
        "KPI_PROJECT_DIR": str(ROOT),
        "KPI_PGDATABASE": "bench_bookings",
    }
    env.pop("KPI_TARGET", None)

    data = OUT / f"bookings_t{ns.tenants}_d{ns.days}_s{ns.scale:g}_{ns.start}"
    t0 = time.monotonic()
    if not (data / ".done").exists():
        shutil.rmtree(data, ignore_errors=True)
        generate_bookings_only(data, ns.tenants, ns.days, start, ns.scale)
    generate_s = time.monotonic() - t0
    history, new_day = data / "history", data / "new_day"
    split_last_day(data, history, new_day, last_day)

    kpi("db", "start", env=env)

    def db_url(dbname: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "kpiwh.main", "db", "url"],
            env={**env, "KPI_PGDATABASE": dbname},
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()

    with psycopg.connect(db_url("postgres"), autocommit=True) as c:
        c.execute("drop database if exists bench_bookings with (force)")
        c.execute("create database bench_bookings")
    url = db_url("bench_bookings")
    load_s = kpi("load", str(history), env=env)
    vars_ = json.dumps({"as_of": as_of})
    build = ["build", "--full-refresh", "--select", "+customer_analytics", "--select"]
    build += ["+analytics_appointments_by_location_daily", "--exclude", "resource_type:test"]
    build += ["--exclude", "resource_type:unit_test", "--vars", vars_]
    build_s = kpi(*build, env=env)

    with psycopg.connect(url, autocommit=True) as conn:
        bookings, customers, day_rows = conn.execute(
            "select (select count(*) from raw.bookings), (select count(*) from marts.customer_analytics),"
            " (select count(*) from marts.fct_appointments_by_location_daily)"
        ).fetchone()
        orgs = [r[0] for r in conn.execute("select distinct organization_id from marts.customer_analytics order by 1")]
        months = [
            r[0]
            for r in conn.execute(
                "select distinct date_trunc('month', booking_date)::date from marts.fct_appointments_by_location_daily"
                " order by 1"
            )
        ]
        rng = random.Random(2)
        pairs = [(rng.choice(orgs), rng.choice(months)) for _ in range(ns.queries)]
        view_params = [(o, m, (m.replace(day=28) + timedelta(days=4)).replace(day=1)) for o, m in pairs]
        keys = conn.execute(
            "select organization_id, customer_id from marts.customer_analytics order by random() limit %s",
            (ns.queries,),
        ).fetchall()
        for role, group in (("bench_client", "kpi_client"), ("bench_admin", "kpi_admin")):
            conn.execute(f"drop role if exists {role}")
            conn.execute(f"create role {role} login in role {group}")
        conn.execute("delete from ops.tenant_access where role_name = 'bench_client'")
        conn.execute(
            "insert into ops.tenant_access (role_name, tenant_id) select 'bench_client', unnest(%s::text[])", (orgs,)
        )
        conn.execute("set role bench_client")
        view_ms = timed(
            conn,
            "select * from marts.analytics_appointments_by_location_daily"
            " where organization_id = %s and booking_date >= %s and booking_date < %s",
            view_params,
        )
        rows_per_month = statistics.median(
            len(
                conn.execute(
                    "select 1 from marts.analytics_appointments_by_location_daily"
                    " where organization_id = %s and booking_date >= %s and booking_date < %s",
                    p,
                ).fetchall()
            )
            for p in view_params[:50]
        )
        conn.execute("reset role")
        conn.execute("set role bench_admin")
        profile_ms = timed(
            conn, "select * from marts.customer_analytics where organization_id = %s and customer_id = %s", keys
        )
        conn.execute("reset role")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "explain (analyze, buffers) select * from marts.customer_analytics"
                " where organization_id = %s and customer_id = %s",
                keys[0],
            )
        )
        (OUT / "explain_profile_lookup.txt").write_text(plan)

    refresh = ["refresh", "customers", "--mode", "recent", "--as-of", as_of]
    # the previous hour's run of the hourly job (nothing new yet): as on a schedule, the timed
    # run then finds dbt's partial parse of the same command
    previous_hour_s = kpi(*refresh, env=env)
    kpi("load", str(new_day), env=env)
    recent_s = kpi(*refresh, env=env)
    recent_nothing_new_s = kpi(*refresh, env=env)
    with psycopg.connect(url, autocommit=True) as conn:
        new_day_bookings = conn.execute(
            "select count(*) from raw.bookings where (created_at at time zone 'UTC')::date = %s", (last_day,)
        ).fetchone()[0]

    result = {
        "parameters": {**vars(ns), "as_of": as_of, "held_back_day": last_day},
        "measured_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "loadavg_at_end": os.getloadavg(),
        "bookings": bookings,
        "customers": customers,
        "appointment_day_rows": day_rows,
        "generate_seconds": round(generate_s, 1),
        "load_seconds": round(load_s, 1),
        "full_build_seconds": round(build_s, 1),
        "view_one_org_month": {**stats(view_ms), "median_rows": rows_per_month, "as": "kpi_client login (RLS)"},
        "profile_lookup": {**stats(profile_ms), "as": "kpi_admin login"},
        "recent_refresh_previous_hour_seconds": round(previous_hour_s, 1),
        "recent_refresh_seconds": round(recent_s, 1),
        "recent_refresh_new_day_bookings": new_day_bookings,
        "recent_refresh_nothing_new_seconds": round(recent_nothing_new_s, 1),
        "refresh_command": "kpi " + " ".join(refresh),
    }
    (OUT / "bookings_queries.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()

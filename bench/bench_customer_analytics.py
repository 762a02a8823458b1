#!/usr/bin/env python3
"""Benchmark: full build of ``customer_analytics`` on >= 1 M bookings / >= 200 k customers.

Seed 002 quotes 1-5 min for a full refresh of 6,700 customers; this measures
ours on generated data far larger than that.

Steps (all through the real CLI, on a private embedded PostgreSQL in
``bench/out/pgdata``):

1. ``kpi generate`` with the generator's large settings (cached in
   ``bench/out/data`` by parameters);
2. ``kpi load`` of the tables the model reads (tenants, locations, customers,
   bookings, payments, referral_profiles);
3. ``kpi build --select +customer_analytics --full-refresh --exclude
   resource_type:test`` three times (after one warm-up), reporting the median
   wall time and the peak RSS of the CLI process (dbt runs in it), plus the
   PostgreSQL server's size on disk.

Usage: ``.venv/bin/python bench/bench_customer_analytics.py [--runs 3] [--scale 6]``.
Results: printed and written to ``bench/out/customer_analytics.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TABLES = ["tenants", "locations", "customers", "bookings", "payments", "referral_profiles"]


def kpi(*args: str, env: dict) -> tuple[float, int]:
    """Run the CLI; return (wall seconds, peak RSS in MiB of that very process, via wait4)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "kpiwh.main", *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"kpi {' '.join(args)} failed with exit {proc.returncode}")
    return wall, usage.ru_maxrss // 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tenants", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scale", type=float, default=6.0)
    ns = ap.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KPI_PGDATA": str(OUT / "pgdata"), "KPI_PROJECT_DIR": str(ROOT), "KPI_PGDATABASE": "bench"}
    env.pop("KPI_TARGET", None)
    data = OUT / f"data_t{ns.tenants}_d{ns.days}_s{ns.scale:g}"
    if not (data / ".done").exists():
        shutil.rmtree(data, ignore_errors=True)
        gen_s, _ = kpi(
            "generate",
            "--out",
            str(data),
            "--tenants",
            str(ns.tenants),
            "--days",
            str(ns.days),
            "--scale",
            str(ns.scale),
            env=env,
        )
        (data / ".done").write_text(f"{gen_s:.1f}")
    subset = OUT / "load_subset"
    shutil.rmtree(subset, ignore_errors=True)
    subset.mkdir()
    for t in TABLES:
        os.link(data / f"{t}.csv", subset / f"{t}.csv")

    kpi("db", "start", env=env)
    subprocess.run(
        [
            "psql",
            "-q",
            subprocess.run(
                [sys.executable, "-m", "kpiwh.main", "db", "url"],
                env={**env, "KPI_PGDATABASE": "postgres"},
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout.strip(),
            "-c",
            "drop database if exists bench with (force)",
            "-c",
            "create database bench",
        ],
        check=True,
    )
    load_s, _ = kpi("load", str(subset), env=env)
    url = subprocess.run(
        [sys.executable, "-m", "kpiwh.main", "db", "url"], env=env, capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    counts = subprocess.run(
        [
            "psql",
            "-At",
            url,
            "-c",
            "select (select count(*) from raw.bookings), (select count(*) from raw.customers),"
            " (select count(*) from raw.payments)",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    bookings, customers, payments = (int(x) for x in counts.split("|"))

    build = [
        "build",
        "--select",
        "+customer_analytics",
        "--full-refresh",
        "--exclude",
        "resource_type:test",
        "--exclude",
        "resource_type:unit_test",
        "--vars",
        json.dumps({"as_of": "2026-06-02T00:00:00+00:00"}),
    ]
    kpi(*build, env=env)  # warm-up (parse, caches)
    walls, rss = [], []
    for _ in range(ns.runs):
        w, r = kpi(*build, env=env)
        walls.append(w)
        rss.append(r)
    size = subprocess.run(
        ["psql", "-At", url, "-c", "select pg_database_size(current_database())"], capture_output=True, text=True
    ).stdout.strip()
    result = {
        "bookings": bookings,
        "customers": customers,
        "payments": payments,
        "load_seconds": round(load_s, 1),
        "full_build_seconds_runs": [round(w, 2) for w in walls],
        "full_build_seconds_median": round(statistics.median(walls), 2),
        "cli_peak_rss_mib": max(rss),
        "database_size_mib": round(int(size) / 2**20, 1),
        "command": "kpi " + " ".join(build),
    }
    (OUT / "customer_analytics.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

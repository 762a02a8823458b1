#!/usr/bin/env python3
"""Benchmark the platform event pipeline (seed 004) at >= 10 M events over >= 365 days.

Measures, median of ``--runs`` (default 3), on a private embedded PostgreSQL
(``bench/out/pgdata``, database ``bench_platform``):

* **full build** of the platform marts and their parents
  (``kpi build --select +path:models/marts/platform --full-refresh``, tests excluded);
* **scan floor**: one ``select count(*), sum(amount_cents) from raw.events_raw``
  — the least any build must do; reported as the ratio full build / scan floor;
* **incremental day**: one new day of events loaded on top of 365 days of history,
  then ``kpi backfill`` of that one day for the platform marts; the same on a
  database holding only 30 days of history; reported as the ratio 365 d / 30 d
  (cost must follow new data, not history);
* peak RSS of the CLI process (dbt runs in it) and the database size on disk.

The data comes from ``kpi generate`` (cached in bench/out by parameters); the
"new day" is the generator's last day, held back from the history load.

Usage: ``.venv/bin/python bench/bench_platform.py [--runs 3] [--scale 6] [--skip-full]``
Results: printed and written to ``bench/out/platform.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SELECT = "+path:models/marts/platform"
NO_TESTS = ["--exclude", "resource_type:test", "--exclude", "resource_type:unit_test"]


def kpi(*args: str, env: dict) -> tuple[float, int]:
    """Run the CLI; return (wall seconds, peak RSS MiB of that process)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "kpiwh.main", *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"kpi {' '.join(args)} failed")
    return time.monotonic() - t0, usage.ru_maxrss // 1024


def psql(url: str, q: str) -> str:
    """First column of the first row of ``q`` as text (psycopg; no psql binary needed)."""
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute(q).fetchone()
    return "" if row is None else str(row[0])


def split_events(src: Path, dst_hist: Path, dst_new: Path, first_day: date, new_day: date) -> None:
    """Write events with occurred_at in [first_day, new_day) to dst_hist and of new_day to dst_new."""
    lo, hi, nxt = first_day.isoformat(), new_day.isoformat(), (new_day + timedelta(days=1)).isoformat()
    with src.open(newline="") as fh, dst_hist.open("w", newline="") as h, dst_new.open("w", newline="") as n:
        r = csv.reader(fh)
        header = next(r)
        i = header.index("occurred_at")
        wh, wn = csv.writer(h, lineterminator="\n"), csv.writer(n, lineterminator="\n")
        wh.writerow(header)
        wn.writerow(header)
        for row in r:
            d = row[i][:10]
            if lo <= d < hi:
                wh.writerow(row)
            elif hi <= d < nxt:
                wn.writerow(row)


def fresh_database(env: dict, name: str) -> str:
    admin = {**env, "KPI_PGDATABASE": "postgres"}
    url = subprocess.run(
        [sys.executable, "-m", "kpiwh.main", "db", "url"],
        env=admin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.strip()

    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"drop database if exists {name} with (force)")
        c.execute(f"create database {name}")
    return url.replace("/postgres?", f"/{name}?")


def existing_database(env: dict, name: str) -> str | None:
    """URL of database ``name`` when it exists and holds events (for ``--keep-db``), else None."""
    admin = {**env, "KPI_PGDATABASE": "postgres"}
    url = (
        subprocess.run(
            [sys.executable, "-m", "kpiwh.main", "db", "url"],
            env=admin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        .stdout.strip()
        .replace("/postgres?", f"/{name}?")
    )
    try:
        return url if int(psql(url, "select count(*) from raw.events_raw")) > 0 else None
    except psycopg.Error:
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tenants", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scale", type=float, default=6.0)
    ap.add_argument("--start", default="2025-06-02")
    ap.add_argument("--skip-full", action="store_true", help="only the incremental measurements")
    ap.add_argument(
        "--keep-db",
        action="store_true",
        help="reuse the databases of an earlier run (history loaded): bring the models up to date "
        "with one `kpi build`, then measure",
    )
    ap.add_argument(
        "--no-refresh",
        action="store_true",
        help="with --keep-db: the reused databases' models are already current (skip their refresh)",
    )
    ns = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KPI_PGDATA": str(OUT / "pgdata"), "KPI_PROJECT_DIR": str(ROOT)}
    env.pop("KPI_TARGET", None)
    data = OUT / f"data_t{ns.tenants}_d{ns.days}_s{ns.scale:g}"
    if not (data / ".done").exists():
        kpi(
            "generate",
            "--out",
            str(data),
            "--tenants",
            str(ns.tenants),
            "--days",
            str(ns.days),
            "--scale",
            str(ns.scale),
            "--start",
            ns.start,
            env=env,
        )
        (data / ".done").write_text("ok")
    start = date.fromisoformat(ns.start)
    new_day = start + timedelta(days=ns.days - 1)
    kpi("db", "start", env=env)
    result: dict = {"events_csv": str(data / "events_raw.csv")}

    for label, hist_days in (("365d", ns.days - 1), ("30d", 30)):
        folder = OUT / f"platform_{label}"
        (folder / "hist").mkdir(parents=True, exist_ok=True)
        (folder / "new").mkdir(parents=True, exist_ok=True)
        if not (folder / ".done").exists():
            for t in ("tenants", "locations"):
                for sub in ("hist",):
                    target = folder / sub / f"{t}.csv"
                    if not target.exists():
                        os.link(data / f"{t}.csv", target)
            split_events(
                data / "events_raw.csv",
                folder / "hist" / "events_raw.csv",
                folder / "new" / "events_raw.csv",
                new_day - timedelta(days=hist_days),
                new_day,
            )
            (folder / ".done").write_text("ok")
        db = f"bench_platform_{label}"
        e = {**env, "KPI_PGDATABASE": db}
        url = existing_database(env, db) if ns.keep_db else None
        if url is None:
            url = fresh_database(env, db)
            load_s, load_rss = kpi("load", str(folder / "hist"), env=e)
            result[label] = {"load_seconds": round(load_s, 1), "load_peak_rss_mib": load_rss}
        else:
            result[label] = {"reused_database": True}
            # drop the held-back day loaded by the earlier run: it is the "new" day again
            psql(url, f"delete from raw.events_raw where occurred_at >= '{new_day.isoformat()}' returning 1")
        n_events = int(psql(url, "select count(*) from raw.events_raw"))
        result[label].update({"history_days": hist_days, "history_events": n_events})
        if not result[label].get("reused_database"):
            # first build over the history (bounded to the data's days by the CLI; month batches)
            first_s, first_rss = kpi("build", "--select", SELECT, *NO_TESTS, env=e)
            result[label]["first_build_seconds"] = round(first_s, 1)
            result[label]["first_build_peak_rss_mib"] = first_rss
        elif (label != "365d" or ns.skip_full) and not ns.no_refresh:
            # models may have changed since the earlier run: bring them up to date from scratch
            kpi("build", "--select", SELECT, "--full-refresh", *NO_TESTS, env=e)
        if label == "365d" and not ns.skip_full:
            fulls, rss = [], []
            for _ in range(ns.runs):
                w, r = kpi("build", "--select", SELECT, "--full-refresh", *NO_TESTS, env=e)
                fulls.append(w)
                rss.append(r)
            scans = []
            for _ in range(ns.runs):
                t0 = time.monotonic()
                psql(url, "select count(*), sum(amount_cents) from raw.events_raw")
                scans.append(time.monotonic() - t0)
            result[label]["full_build_seconds_runs"] = [round(x, 1) for x in fulls]
            result[label]["full_build_seconds_median"] = round(statistics.median(fulls), 1)
            result[label]["scan_floor_seconds_median"] = round(statistics.median(scans), 2)
            result[label]["full_over_scan_floor"] = round(statistics.median(fulls) / statistics.median(scans), 1)
            result[label]["build_peak_rss_mib"] = max(rss)
        kpi("load", str(folder / "new"), env=e)
        incs = []
        day, nxt = new_day.isoformat(), (new_day + timedelta(days=1)).isoformat()
        for _ in range(ns.runs):
            w, _ = kpi("backfill", "--start", day, "--end", nxt, "--select", SELECT, *NO_TESTS, env=e)
            incs.append(w)
        result[label]["incremental_day_seconds_runs"] = [round(x, 2) for x in incs]
        result[label]["incremental_day_seconds_median"] = round(statistics.median(incs), 2)
        result[label]["database_size_mib"] = round(
            int(psql(url, "select pg_database_size(current_database())")) / 2**20
        )
        print(json.dumps({label: result[label]}, indent=2), flush=True)
    result["incremental_ratio_365d_over_30d"] = round(
        result["365d"]["incremental_day_seconds_median"] / result["30d"]["incremental_day_seconds_median"], 2
    )
    (OUT / "platform.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

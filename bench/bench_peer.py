#!/usr/bin/env python3
"""Benchmark the project's marts against a hand-written plain-SQL peer.

The peer (``bench/peer/*.sql``) is one ``CREATE TABLE peer.<mart> AS SELECT``
per mart over the raw tables (and the seed tables ``config.*``), indexes after
the data; ``bench/peer/day/*.sql`` is its one-day DELETE+INSERT. Marts:
the five platform daily marts, ``metrics_cohort_retention`` and
``customer_analytics``. Steps, on a private embedded PostgreSQL
(``--pgdata``, default ``bench/out/pgdata-peer``):

1. ``kpi generate`` (cached in bench/out by parameters); the last day is held
   back (events by occurred_at, bookings-product rows by created_at) and
   ``kpi load`` loads the rest;
2. ``kpi build --full-refresh --select +<mart> ...`` of the seven marts and
   everything upstream, (a) models only (tests and unit tests excluded) and
   (b) with its tests;
3. the peer SQL;
4. every peer table must equal the project's mart: same column names and
   types, ``EXCEPT ALL`` both ways empty — else exit 1 naming the mart and the
   row counts;
5. ``--runs`` rounds of project models-only / project with tests / peer,
   alternating, medians and ratios; then the whole project's
   ``kpi build --full-refresh`` once;
6. the held-back day is loaded, then ``kpi build --select ...`` (plain,
   incremental, with its tests) is timed against the peer's one-day SQL in
   ``--day-runs`` rounds (alternating which goes first; before a later round
   the day's raw rows are stamped as loaded again, so the project recomputes
   the same day; medians), and the marts compared again; the same on a database holding only
   ``--short-history-days`` days of history (ratio long / short).

``var as_of`` (customer_analytics, cohort retention) is pinned to ``--as-of``
(default: midnight UTC after the last day) in the project (``--vars``) and in
the peer (setting ``peer.as_of``). os.getloadavg() is recorded before every
timed run. Prints JSON and writes it to ``bench/out/peer.json``.

Usage: ``PYTHONPATH=cli .venv/bin/python bench/bench_peer.py [--tenants 50 --days 365 --scale 6] [--runs 3]``
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_platform import fresh_database, psql, split_events  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PEER = ROOT / "bench" / "peer"
MARTS = [
    "metrics_daily_fulfillment",
    "metrics_daily_payments",
    "metrics_daily_calls",
    "metrics_daily_engagement",
    "metrics_daily_content",
    "metrics_cohort_retention",
    "customer_analytics",
]
SELECT = [a for m in MARTS for a in ("--select", f"+{m}")]
NO_TESTS = ["--exclude", "resource_type:test", "--exclude", "resource_type:unit_test"]
# Columns left out of the comparison (run-time-only values): customer_analytics.refreshed_at
# (when the row was last recomputed); the other marts carry no load/run timestamp
# (staged_at and dbt_loaded_at live in staging and the intermediates), and as_of /
# observation_end are pinned through var as_of (project) and peer.as_of (peer).
EXCLUDED_COLUMNS: dict[str, list[str]] = {m: [] for m in MARTS} | {"customer_analytics": ["refreshed_at"]}
# The marked COPY RULE line of every peer statement (latest received copy wins) and the
# first-received rule of the current staging model, for --copy-rule first.
COPY_ORDER = {
    "latest": "order by received_at desc nulls last, _loaded_at desc, occurred_at desc",
    "first": "order by received_at nulls last, _loaded_at, occurred_at",
}
# bookings-product tables held back by created_at with the last day's events
CREATED_AT_TABLES = ("customers", "bookings", "payments", "referral_profiles")
LOG = OUT / "bench_peer.log"


def kpi(*args: str, env: dict, check: bool = True) -> tuple[float, int]:
    """Run the CLI (output appended to bench/out/bench_peer.log); return (wall seconds, exit code)."""
    with LOG.open("a") as log:
        log.write(f"\n$ kpi {' '.join(args)}\n")
        log.flush()
        t0 = time.monotonic()
        rc = subprocess.run(
            [sys.executable, "-m", "kpiwh.main", *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        ).returncode
        seconds = time.monotonic() - t0
    if check and rc != 0:
        raise SystemExit(f"kpi {' '.join(args)} failed (exit {rc}); see {LOG}")
    return seconds, rc


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def peer_sql(path: Path, copy_rule: str) -> str:
    text = path.read_text()
    if copy_rule != "latest" and "raw.events_raw" in text:
        n = text.count(COPY_ORDER["latest"])
        if n != 1:
            raise SystemExit(f"{path}: expected one COPY RULE line, found {n}")
        text = text.replace(COPY_ORDER["latest"], COPY_ORDER[copy_rule])
    return text


def run_peer(url: str, files: list[Path], settings: dict[str, str], copy_rule: str, reset_schema: bool) -> dict:
    """Run peer SQL files in one session; return total and per-file seconds."""
    texts = [(f, peer_sql(f, copy_rule)) for f in files]
    per: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for key, value in settings.items():
            conn.execute("select set_config(%s, %s, false)", (key, value))
        t0 = time.monotonic()
        if reset_schema:
            conn.execute("drop schema if exists peer cascade; create schema peer")
        for f, text in texts:
            t1 = time.monotonic()
            conn.execute(text)
            per[f.stem] = round(time.monotonic() - t1, 3)
        total = time.monotonic() - t0
    return {"seconds": round(total, 3), "per_mart_seconds": per}


def peer_full_files() -> list[Path]:
    return [PEER / f"{m}.sql" for m in MARTS]


def peer_day_files() -> list[Path]:
    # metrics_cohort_retention has no one-day file: the observation end moves every
    # row and each user's first day needs the whole log, so the day run rebuilds it
    return [PEER / "day" / f"{m}.sql" if (PEER / "day" / f"{m}.sql").exists() else PEER / f"{m}.sql" for m in MARTS]


def compare(url: str) -> dict:
    """Every peer.<mart> against marts.<mart>: columns (names, types, order) and EXCEPT ALL both ways."""
    out: dict = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for m in MARTS:

            def columns(schema: str, m: str = m) -> list[tuple[str, str]]:
                return conn.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, m),
                ).fetchall()

            project, peer = columns("marts"), columns("peer")
            if not project or not peer:
                out[m] = {"equal": False, "error": f"missing table: marts {bool(project)}, peer {bool(peer)}"}
                continue
            excluded = set(EXCLUDED_COLUMNS.get(m, []))
            compared = [c for c, _ in project if c not in excluded]
            col_list = ", ".join(f'"{c}"' for c in compared)
            entry: dict = {
                "project_rows": conn.execute(f"select count(*) from marts.{m}").fetchone()[0],
                "peer_rows": conn.execute(f"select count(*) from peer.{m}").fetchone()[0],
                "excluded_columns": sorted(excluded),
            }
            if [c for c in project if c[0] not in excluded] != [c for c in peer if c[0] not in excluded]:
                entry["column_mismatch"] = {
                    "only_project": [f"{c} {t}" for c, t in project if (c, t) not in peer],
                    "only_peer": [f"{c} {t}" for c, t in peer if (c, t) not in project],
                }
                entry["equal"] = False
                out[m] = entry
                continue
            entry["only_in_project"] = conn.execute(
                f"select count(*) from (select {col_list} from marts.{m} except all "
                f"select {col_list} from peer.{m}) as d"
            ).fetchone()[0]
            entry["only_in_peer"] = conn.execute(
                f"select count(*) from (select {col_list} from peer.{m} except all "
                f"select {col_list} from marts.{m}) as d"
            ).fetchone()[0]
            entry["equal"] = entry["only_in_project"] == 0 and entry["only_in_peer"] == 0
            out[m] = entry
    return out


def check_equal(result: dict, stage: str, comparison: dict) -> None:
    """Record the comparison; on any difference write the JSON and exit 1 naming the marts."""
    result.setdefault("comparisons", {})[stage] = comparison
    bad = {m: c for m, c in comparison.items() if not c["equal"]}
    if bad:
        write(result)
        for m, c in bad.items():
            extra = "".join(f", {k} {json.dumps(c[k])}" for k in ("column_mismatch", "error") if k in c)
            print(
                f"{stage}: peer.{m} != marts.{m}: project {c.get('project_rows')} rows, peer "
                f"{c.get('peer_rows')} rows, only in project {c.get('only_in_project')}, only in peer "
                f"{c.get('only_in_peer')}{extra}",
                file=sys.stderr,
            )
        raise SystemExit(1)


def write(result: dict) -> None:
    (OUT / "peer.json").write_text(json.dumps(result, indent=2))


def split_by_created_at(src: Path, dst_hist: Path, dst_new: Path, first_day: date, new_day: date) -> None:
    """Rows created in [first_day, new_day) (or without created_at) to dst_hist, created on new_day to dst_new."""
    lo, hi, nxt = first_day.isoformat(), new_day.isoformat(), (new_day + timedelta(days=1)).isoformat()
    with src.open(newline="") as fh, dst_hist.open("w", newline="") as h, dst_new.open("w", newline="") as n:
        r = csv.reader(fh)
        header = next(r)
        i = header.index("created_at")
        wh, wn = csv.writer(h, lineterminator="\n"), csv.writer(n, lineterminator="\n")
        wh.writerow(header)
        wn.writerow(header)
        for row in r:
            d = row[i][:10]
            if not d or lo <= d < hi:
                wh.writerow(row)
            elif hi <= d < nxt:
                wn.writerow(row)


def prepare(data: Path, folder: Path, first_day: date, new_day: date) -> None:
    """folder/hist: history [first_day, new_day); folder/new: new_day. Other tables whole in hist."""
    if (folder / ".done").exists():
        return
    (folder / "hist").mkdir(parents=True, exist_ok=True)
    (folder / "new").mkdir(parents=True, exist_ok=True)
    split_events(
        data / "events_raw.csv",
        folder / "hist" / "events_raw.csv",
        folder / "new" / "events_raw.csv",
        first_day,
        new_day,
    )
    for t in CREATED_AT_TABLES:
        split_by_created_at(
            data / f"{t}.csv", folder / "hist" / f"{t}.csv", folder / "new" / f"{t}.csv", first_day, new_day
        )
    for f in data.glob("*.csv"):
        target = folder / "hist" / f.name
        if not target.exists():
            os.link(f, target)
    (folder / ".done").write_text("ok")


INJECT_COPIES_SQL = """
-- re-sent copies of a random share of the loaded events, same UTC day (occurred_at +/- 7 s):
-- received earlier / later / unknown, loaded later, some with another user, service or amount
select setseed(0.42);
insert into raw.events_raw (event_id, occurred_at, received_at, tenant_id, location_id, event_domain, event_type,
    user_id, session_id, entity_type, entity_id, status, provider, service_code, country_code, amount_cents,
    currency, duration_seconds, metadata, schema_version, _loaded_at)
select
    event_id,
    case when (occurred_at + interval '7 seconds') at time zone 'UTC' < (occurred_at at time zone 'UTC')::date + 1
        then occurred_at + interval '7 seconds' else occurred_at - interval '7 seconds' end,
    case when r < 0.45 then received_at - interval '5 seconds' when r < 0.55 then null
        else received_at + interval '1 hour' end,
    tenant_id, location_id, event_domain, event_type,
    case when r2 < 0.2 then 'copy_' || substr(md5(event_id::text), 1, 8) else user_id end,
    session_id, entity_type, entity_id, status, provider,
    case when r2 > 0.8 then 'copy_service' else service_code end,
    country_code, coalesce(amount_cents, 0) + 100, currency, duration_seconds, metadata, schema_version,
    _loaded_at + interval '1 minute'
from (select *, random() as r, random() as r2 from raw.events_raw order by event_id, occurred_at) as e
where random() < {share}
"""


def replay_day(conn: psycopg.Connection, loaded_before: str) -> None:
    """Mark the held-back day's raw rows as loaded again (``_loaded_at`` = now).

    Args:
        conn: autocommit connection to the bench database.
        loaded_before: the database's clock (ISO timestamp) just before that day's
            ``kpi load``: every raw row stamped at or after it belongs to that load.

    The next plain ``kpi build`` then finds exactly that load's rows new and
    recomputes the same day, entities and tests as the first time (staging ranks
    each copy against the row it staged from it: equal ``received_at`` re-stages it).
    """
    tables = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " join pg_attribute a on a.attrelid = c.oid"
        " where n.nspname = 'raw' and a.attname = '_loaded_at' and c.relkind in ('r', 'p')"
        " and not c.relispartition order by 1"
    ).fetchall()
    for (table,) in tables:
        conn.execute(
            f'update raw."{table}" set _loaded_at = clock_timestamp() where _loaded_at >= %s::timestamptz',
            (loaded_before,),
        )


def median_of(runs: list[dict]) -> float:
    return round(statistics.median(r["seconds"] for r in runs), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=50)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scale", type=float, default=6.0)
    ap.add_argument(
        "--start",
        default="auto",
        help="first generated day (YYYY-MM-DD); auto = today - days, so that the held-back last day "
        "is yesterday (any earlier start works as well: a plain `kpi build` takes whatever was loaded)",
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--short-history-days",
        type=int,
        default=30,
        help="history of the second database for the one-day run (ratio long / short)",
    )
    ap.add_argument(
        "--as-of", default=None, help="var as_of for both (ISO timestamp); default: midnight UTC after the last day"
    )
    ap.add_argument(
        "--copy-rule",
        choices=sorted(COPY_ORDER),
        default="latest",
        help="which copy of a re-sent event the peer keeps (the marked COPY RULE line)",
    )
    ap.add_argument(
        "--inject-copies",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="check the copy rule: after the history load, add re-sent copies of this share of the "
        "events (same UTC day, other received_at / user / service / amount); with the copy rule "
        "of the project's staging the marts must still be equal",
    )
    ap.add_argument("--pgdata", default=str(OUT / "pgdata-peer"))
    ap.add_argument(
        "--skip-timed",
        action="store_true",
        help="only build, compare and the one-day runs (no timed rounds, no whole-project build)",
    )
    ap.add_argument("--skip-short", action="store_true", help="no short-history database")
    ap.add_argument(
        "--day-runs",
        type=int,
        default=3,
        help="rounds of the one-day run (project and peer, alternating which goes first; medians)",
    )
    ap.add_argument(
        "--with-tests-once",
        action="store_true",
        help="with --skip-timed: one full build with its tests on the long history (no rounds)",
    )
    ap.add_argument(
        "--exclude-column",
        action="append",
        default=[],
        metavar="MART.COLUMN",
        help="leave a column out of the comparison (repeatable; recorded in the JSON)",
    )
    ns = ap.parse_args()
    for item in ns.exclude_column:
        mart, _, column = item.partition(".")
        if mart not in EXCLUDED_COLUMNS or not column:
            ap.error(f"--exclude-column {item}: not <mart>.<column> of {', '.join(MARTS)}")
        EXCLUDED_COLUMNS[mart].append(column)

    OUT.mkdir(parents=True, exist_ok=True)
    start = date.today() - timedelta(days=ns.days) if ns.start == "auto" else date.fromisoformat(ns.start)
    new_day = start + timedelta(days=ns.days - 1)
    as_of = ns.as_of or datetime.combine(new_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC).isoformat()
    vars_json = json.dumps({"as_of": as_of})
    env = {
        **os.environ,
        "KPI_PGDATA": ns.pgdata,
        "KPI_PROJECT_DIR": str(ROOT),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "cli"), os.environ.get("PYTHONPATH")) if p),
    }
    env.pop("KPI_TARGET", None)
    data = OUT / f"data_t{ns.tenants}_d{ns.days}_s{ns.scale:g}_{start.isoformat()}"
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
            start.isoformat(),
            env=env,
        )
        (data / ".done").write_text("ok")
    kpi("db", "start", env=env)
    peer_settings = {"peer.as_of": as_of}
    result: dict = {
        "parameters": {
            "tenants": ns.tenants,
            "days": ns.days,
            "scale": ns.scale,
            "start": start.isoformat(),
            "new_day": new_day.isoformat(),
            "as_of": as_of,
            "runs": ns.runs,
            "copy_rule": ns.copy_rule,
            "inject_copies": ns.inject_copies,
            "short_history_days": ns.short_history_days,
        },
        "marts": MARTS,
        "excluded_columns": EXCLUDED_COLUMNS,
        "commands": {
            "project_models_only": ["kpi", "build", "--full-refresh", *SELECT, *NO_TESTS, "--vars", vars_json],
            "project_with_tests": ["kpi", "build", "--full-refresh", *SELECT, "--vars", vars_json],
            "whole_project": ["kpi", "build", "--full-refresh", "--vars", vars_json],
            "project_day": ["kpi", "build", *SELECT, "--vars", vars_json],
            "peer_full": [str(p.relative_to(ROOT)) for p in peer_full_files()],
            "peer_day": [str(p.relative_to(ROOT)) for p in peer_day_files()],
        },
    }
    histories = [("long", ns.days - 1)] + ([] if ns.skip_short else [("short", ns.short_history_days)])
    for label, hist_days in histories:
        first_day = new_day - timedelta(days=hist_days)
        folder = OUT / f"peer_{data.name}_{label}{hist_days}"
        prepare(data, folder, first_day, new_day)
        db = f"bench_peer_{label}"
        url = fresh_database(env, db)
        e = {**env, "KPI_PGDATABASE": db}
        r: dict = {"history_days": hist_days, "database": db}
        result[label] = r
        r["load_seconds"] = round(kpi("load", str(folder / "hist"), env=e)[0], 1)
        if ns.inject_copies > 0:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(INJECT_COPIES_SQL.format(share=float(ns.inject_copies)))
                conn.execute("analyze raw.events_raw")
        r["history_events"] = int(psql(url, "select count(*) from raw.events_raw"))
        r["history_events_distinct_ids"] = int(psql(url, "select count(distinct event_id) from raw.events_raw"))

        # first build (creates seeds, schemas; the peer reads config.*), then the peer, then compare
        r["first_build_models_only"] = {
            "loadavg": loadavg(),
            "seconds": round(kpi("build", "--full-refresh", *SELECT, *NO_TESTS, "--vars", vars_json, env=e)[0], 2),
        }
        r["first_peer"] = {"loadavg": loadavg(), **run_peer(url, peer_full_files(), peer_settings, ns.copy_rule, True)}
        check_equal(result, f"{label}_full", compare(url))
        write(result)

        if label == "long" and not ns.skip_timed:
            rounds: dict[str, list[dict]] = {"project_models_only": [], "project_with_tests": [], "peer": []}
            for _ in range(ns.runs):
                la = loadavg()
                s, rc = kpi("build", "--full-refresh", *SELECT, *NO_TESTS, "--vars", vars_json, env=e, check=False)
                rounds["project_models_only"].append({"seconds": round(s, 2), "exit": rc, "loadavg": la})
                la = loadavg()
                s, rc = kpi("build", "--full-refresh", *SELECT, "--vars", vars_json, env=e, check=False)
                rounds["project_with_tests"].append({"seconds": round(s, 2), "exit": rc, "loadavg": la})
                la = loadavg()
                rounds["peer"].append(
                    {"loadavg": la, **run_peer(url, peer_full_files(), peer_settings, ns.copy_rule, True)}
                )
                write({**result, "long_rounds_so_far": rounds})
            r["full_runs"] = rounds
            med = {k: median_of(v) for k, v in rounds.items()}
            r["full_medians_seconds"] = med
            r["full_ratios"] = {
                "project_models_only_over_peer": round(med["project_models_only"] / med["peer"], 2),
                "project_with_tests_over_peer": round(med["project_with_tests"] / med["peer"], 2),
            }
            check_equal(result, "long_full_after_rounds", compare(url))
            la = loadavg()
            s, rc = kpi("build", "--full-refresh", "--vars", vars_json, env=e, check=False)
            r["whole_project_full_build"] = {
                "seconds": round(s, 2),
                "exit": rc,
                "loadavg": la,
                "over_peer": round(s / med["peer"], 2),
            }
            write(result)

        if label == "long" and ns.skip_timed and ns.with_tests_once:
            la = loadavg()
            s, rc = kpi("build", "--full-refresh", *SELECT, "--vars", vars_json, env=e, check=False)
            r["full_build_with_tests_once"] = {
                "seconds": round(s, 2),
                "exit": rc,
                "loadavg": la,
                "over_first_peer": round(s / r["first_peer"]["seconds"], 2),
            }
            write(result)

        # one scheduled day: load the held-back day, then a plain `kpi build` vs the peer's day SQL,
        # --day-runs rounds, alternating which goes first; a later round first re-stamps the day's
        # raw rows as just loaded (REPLAY_DAY_SQL), so the project recomputes the same day again
        loaded_before = psql(url, "select clock_timestamp()")
        r["day_load_seconds"] = round(kpi("load", str(folder / "new"), env=e)[0], 1)
        r["day_events"] = int(psql(url, "select count(*) from raw.events_raw")) - r["history_events"]
        day_rounds: dict[str, list[dict]] = {"project": [], "peer": []}
        day_settings = {**peer_settings, "peer.day": new_day.isoformat()}
        for i in range(ns.day_runs):
            if i > 0:
                with psycopg.connect(url, autocommit=True) as conn:
                    replay_day(conn, loaded_before)
            order = ("project", "peer") if i % 2 == 0 else ("peer", "project")
            for who in order:
                la = loadavg()
                if who == "project":
                    s, rc = kpi("build", *SELECT, "--vars", vars_json, env=e, check=False)
                    day_rounds["project"].append({"seconds": round(s, 2), "exit": rc, "loadavg": la})
                else:
                    day_rounds["peer"].append(
                        {"loadavg": la, **run_peer(url, peer_day_files(), day_settings, ns.copy_rule, False)}
                    )
            write({**result, f"{label}_day_rounds_so_far": day_rounds})
        r["day_runs"] = day_rounds
        r["project_day"] = {"seconds": median_of(day_rounds["project"]), "median_of": ns.day_runs}
        r["peer_day"] = {"seconds": median_of(day_rounds["peer"]), "median_of": ns.day_runs}
        r["day_ratio_project_over_peer"] = round(r["project_day"]["seconds"] / r["peer_day"]["seconds"], 2)
        r["database_size_mib"] = round(int(psql(url, "select pg_database_size(current_database())")) / 2**20)
        write(result)
        check_equal(result, f"{label}_after_day", compare(url))
        print(json.dumps({label: r}, indent=2), flush=True)

    if "short" in result:
        long_, short = result["long"], result["short"]
        result["day_ratios_long_over_short"] = {
            "project": round(long_["project_day"]["seconds"] / short["project_day"]["seconds"], 2),
            "peer": round(long_["peer_day"]["seconds"] / short["peer_day"]["seconds"], 2),
        }
    write(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

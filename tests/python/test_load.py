"""`kpi load`: validated upserts, idempotence, and one clear error per kind of bad input.

Each bad-input case checks the exact one-line message (file, line, column),
exit status 2, and that the target table is unchanged.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_kpi, write_csv
from kpiwh import contract
from kpiwh import load as loader
from kpiwh.errors import UsageError

BOOKING_COLS = [
    "booking_id",
    "organization_id",
    "location_id",
    "customer_id",
    "start_at",
    "status",
    "customer_note",
    "created_at",
    "updated_at",
]
GOOD_BOOKINGS = [
    [
        "b1",
        "org_1",
        "loc_1",
        "c1",
        "2025-03-01T10:00:00+00:00",
        "ACCEPTED",
        'says "hi", twice\nand more',
        "2025-02-20T10:00:00+00:00",
        "2025-02-20T10:00:00+00:00",
    ],
    [
        "b2",
        "org_1",
        "loc_1",
        "c2",
        "2025-03-02T10:00:00+00:00",
        "NO_SHOW",
        None,
        "2025-02-21T10:00:00+00:00",
        "2025-02-21T10:00:00+00:00",
    ],
    [
        "b3",
        "org_2",
        None,
        "c3",
        "2025-03-03T09:30:00+00:00",
        "ACCEPTED",
        "日本語 ✓",
        "2025-02-22T10:00:00+00:00",
        "2025-02-22T10:00:00+00:00",
    ],
]


def snapshot(conn, table: str) -> list[tuple]:
    cols = "*"
    return conn.execute(f"select {cols} from raw.{table} order by 1").fetchall()


def counts(stdout: str) -> tuple[int, int]:
    m = re.search(r"(\d[\d,]*) inserted, (\d[\d,]*) updated", stdout)
    assert m, stdout
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))


@pytest.fixture
def loaded(tmp_path, conn):
    """raw.bookings holding GOOD_BOOKINGS, loaded through the CLI."""
    d = tmp_path / "good"
    write_csv(d / "bookings.csv", BOOKING_COLS, GOOD_BOOKINGS)
    r = run_kpi("load", str(d))
    assert r.returncode == 0, r.stderr
    return d


def test_load_twice_changes_nothing_and_a_corrected_file_updates(loaded, conn):
    before = conn.execute(
        "select booking_id, status, customer_note, _loaded_at from raw.bookings order by 1"
    ).fetchall()
    assert [r[:3] for r in before] == [
        ("b1", "ACCEPTED", 'says "hi", twice\nand more'),
        ("b2", "NO_SHOW", None),
        ("b3", "ACCEPTED", "日本語 ✓"),
    ]
    r = run_kpi("load", str(loaded))
    assert r.returncode == 0, r.stderr
    assert counts(r.stdout) == (0, 0)
    after = conn.execute("select booking_id, status, customer_note, _loaded_at from raw.bookings order by 1").fetchall()
    assert after == before  # not even _loaded_at moved

    corrected = [row[:] for row in GOOD_BOOKINGS]
    corrected[1][5] = "ACCEPTED"
    corrected.append(["b4", "org_1", "loc_1", "c1", "2025-03-04T10:00:00+00:00", "PENDING", None, None, None])
    write_csv(loaded / "bookings.csv", BOOKING_COLS, corrected)
    r = run_kpi("load", str(loaded))
    assert r.returncode == 0, r.stderr
    assert counts(r.stdout) == (1, 1)
    assert conn.execute("select status from raw.bookings where booking_id = 'b2'").fetchone() == ("ACCEPTED",)


def test_load_format_json_is_the_only_stdout(loaded, conn):
    """--format json: stdout is one JSON document with the per-file counts and quality (for scripts)."""
    rows = [row[:] for row in GOOD_BOOKINGS]
    rows[0][5] = "NO_SHOW"
    write_csv(loaded / "bookings.csv", BOOKING_COLS, rows)
    r = run_kpi("load", str(loaded), "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["totals"] == {"files": 1, "inserted": 0, "updated": 1, "moved": 0, "stale": 0}
    (f,) = doc["files"]
    assert (f["table"], f["rows"], f["inserted"], f["updated"], f["unchanged"]) == ("bookings", 3, 0, 1, 2)
    assert f["quality_ok"] is False and "location_id" in f["quality"]  # b3 has no location: grouped as unknown
    r = run_kpi("load", str(loaded), "--format", "xml")
    assert r.returncode == 2 and r.stderr.strip() == "error: --format: 'xml' is not table or json"


BAD_CASES = {
    "unknown table": (
        "bookingz.csv",
        BOOKING_COLS,
        GOOD_BOOKINGS[:1],
        r"^error: bookingz\.csv: unknown table 'bookingz' \(raw tables: .*bookings.*\)$",
    ),
    "missing required column": (
        "bookings.csv",
        [c for c in BOOKING_COLS if c != "status"],
        [r[:5] + r[6:] for r in GOOD_BOOKINGS],
        r"^error: bookings\.csv line 1: required column 'status' is missing$",
    ),
    "extra column": (
        "bookings.csv",
        BOOKING_COLS + ["email"],
        [r + ["x@example.com"] for r in GOOD_BOOKINGS],
        r"^error: bookings\.csv line 1: column 'email' is not in raw\.bookings$",
    ),
    "unparsable timestamp": (
        "bookings.csv",
        BOOKING_COLS,
        [GOOD_BOOKINGS[0], GOOD_BOOKINGS[1][:4] + ["2025-13-45 25:00"] + GOOD_BOOKINGS[1][5:]],
        r"^error: bookings\.csv line 4, column start_at: '2025-13-45 25:00' is not a valid timestamp$",
    ),
    "NULL key": (
        "bookings.csv",
        BOOKING_COLS,
        [GOOD_BOOKINGS[0], [None] + GOOD_BOOKINGS[1][1:]],
        r"^error: bookings\.csv line 4, column booking_id: value is required \(NULL/empty\)$",
    ),
    "duplicate key": (
        "bookings.csv",
        BOOKING_COLS,
        [GOOD_BOOKINGS[0], GOOD_BOOKINGS[2], GOOD_BOOKINGS[0]],
        r"^error: bookings\.csv line 5, column booking_id: duplicate key \(first seen on line 2\)$",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case, loaded, conn, tmp_path):
    # line numbers count the header as line 1 and the note with a newline in record 1 as two lines
    fname, header, rows, pattern = BAD_CASES[case]
    before = snapshot(conn, "bookings")
    d = tmp_path / "bad"
    write_csv(d / fname, header, rows)
    r = run_kpi("load", str(d))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert re.match(pattern, r.stderr.strip()), r.stderr
    assert snapshot(conn, "bookings") == before


def test_unparsable_number_names_line_and_column(conn, tmp_path):
    d = tmp_path / "bad"
    write_csv(
        d / "payments.csv",
        ["payment_id", "organization_id", "amount_cents", "status", "created_at"],
        [
            ["p1", "o", "1200", "COMPLETED", "2025-03-01T10:00:00+00:00"],
            ["p2", "o", "12.5x", "COMPLETED", "2025-03-01T10:00:00+00:00"],
        ],
    )
    r = run_kpi("load", str(d))
    assert r.returncode == 2
    assert r.stderr.strip() == "error: payments.csv line 3, column amount_cents: '12.5x' is not a valid integer"
    assert conn.execute("select count(*) from raw.payments").fetchone() == (0,)


def test_malformed_csv_row(conn, tmp_path):
    d = tmp_path / "bad"
    (d).mkdir()
    (d / "bookings.csv").write_text(
        ",".join(BOOKING_COLS) + "\n" + "b1,org_1,loc_1,c1,2025-03-01T10:00:00+00:00,ACCEPTED,,,,surplus\n"
    )
    r = run_kpi("load", str(d))
    assert r.returncode == 2
    assert r.stderr.strip() == "error: bookings.csv line 2: extra data after last expected column"


def test_bad_file_in_a_folder_keeps_earlier_files_and_writes_none_of_itself(conn, tmp_path):
    d = tmp_path / "mixed"
    write_csv(d / "bookings.csv", BOOKING_COLS, GOOD_BOOKINGS)
    write_csv(
        d / "payments.csv",
        ["payment_id", "organization_id", "amount_cents", "status", "created_at"],
        [["p1", "o", "100", "COMPLETED", "2025-03-01T10:00:00+00:00"], ["p2", "o", "200", "COMPLETED", "not a time"]],
    )
    r = run_kpi("load", str(d))
    assert r.returncode == 2
    assert "payments.csv line 3, column created_at" in r.stderr
    assert conn.execute("select count(*) from raw.bookings").fetchone() == (3,)
    assert conn.execute("select count(*) from raw.payments").fetchone() == (0,)


def test_empty_string_versus_null(conn, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "bookings.csv").write_text(
        ",".join(BOOKING_COLS) + '\nb1,org_1,,c1,2025-03-01T10:00:00+00:00,ACCEPTED,"",,""\n'
    )
    r = run_kpi("load", str(d))
    assert r.returncode == 0, r.stderr
    row = conn.execute("select location_id, customer_note, created_at, updated_at from raw.bookings").fetchone()
    # unquoted empty = NULL; quoted "" = empty text, and NULL in a typed column
    assert row == (None, "", None, None)


def test_events_jsonl_creates_month_partitions_and_json_metadata(conn, tmp_path):
    d = tmp_path / "ev"
    d.mkdir()
    events = [
        {
            "event_id": "3f1c6f0e-8a4e-4a53-9a0e-2b1b1d1c0a01",
            "occurred_at": "2025-03-31T23:59:59Z",
            "event_domain": "orders",
            "event_type": "order_created",
            "metadata": {"is_gold": True},
        },
        {
            "event_id": "3f1c6f0e-8a4e-4a53-9a0e-2b1b1d1c0a02",
            "occurred_at": "2025-04-01T00:00:00Z",
            "event_domain": "payments",
            "event_type": "payment_succeeded",
            "amount_cents": 1999,
        },
    ]
    (d / "events_raw.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    r = run_kpi("load", str(d))
    assert r.returncode == 0, r.stderr
    rows = conn.execute(
        "select tableoid::regclass::text, metadata, amount_cents, schema_version from raw.events_raw order by occurred_at"
    ).fetchall()
    assert rows == [("raw.events_raw_2025_03", {"is_gold": True}, None, 1), ("raw.events_raw_2025_04", None, 1999, 1)]
    (d / "events_raw.jsonl").write_text(json.dumps(events[0]) + "\n{not json\n")
    r = run_kpi("load", str(d))
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: events_raw.jsonl line 2: invalid JSON")


def test_parquet_loads_and_rejects_bad_uuid(conn, tmp_path):
    d = tmp_path / "pq"
    d.mkdir()
    tbl = pa.table(
        {
            "payment_id": ["p1", "p2"],
            "organization_id": ["o", "o"],
            "amount_cents": [100, 250],
            "status": ["COMPLETED", "FAILED"],
            "created_at": pa.array([1740823200000000, 1740826800000000], pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(tbl, d / "payments.parquet")
    r = run_kpi("load", str(d))
    assert r.returncode == 0, r.stderr
    got = conn.execute("select payment_id, amount_cents, created_at::text from raw.payments order by 1").fetchall()
    assert got == [("p1", 100, "2025-03-01 10:00:00+00"), ("p2", 250, "2025-03-01 11:00:00+00")]


def test_check_constraint_violation_is_bad_input(conn, tmp_path):
    d = tmp_path / "t"
    write_csv(d / "tenants.csv", ["tenant_id", "kind", "name"], [["t1", "merchant", "A"], ["t2", "bank", "B"]])
    r = run_kpi("load", str(d))
    assert r.returncode == 2
    assert r.stderr.startswith("error: tenants.csv: ") and "tenants_kind_check" in r.stderr
    assert conn.execute("select count(*) from raw.tenants").fetchone() == (0,)


def test_missing_path_and_unsupported_suffix(conn, tmp_path):
    r = run_kpi("load", str(tmp_path / "nope"))
    assert r.returncode == 2 and "no such file or folder" in r.stderr
    f = tmp_path / "bookings.xlsx"
    f.write_text("x")
    r = run_kpi("load", str(f))
    assert r.returncode == 2 and "unsupported file type '.xlsx'" in r.stderr


# --------------------------------------------------------------------------- events_raw: one row per event_id
EVENT_COLS = ["event_id", "occurred_at", "received_at", "tenant_id", "event_domain", "event_type", "amount_cents"]
E1 = "00000000-0000-4000-8000-000000000001"
E2 = "00000000-0000-4000-8000-000000000002"


def _ev(event_id: str, occurred: str, received: str | None, amount: int, tenant: str = "plt_001") -> list:
    return [event_id, occurred, received, tenant, "payments", "payment_attempted", amount]


def load_events(folder: Path, rows: list[list], header: list[str] = EVENT_COLS):
    """Write ``folder/events_raw.csv`` and run ``kpi load`` on it."""
    write_csv(folder / "events_raw.csv", header, rows)
    return run_kpi("load", str(folder))


def summary(stdout: str) -> dict[str, int]:
    """The totals line: ``N files: I inserted, U updated, M moved, S stale``."""
    m = re.search(r"(\d[\d,]*) inserted, (\d[\d,]*) updated, (\d[\d,]*) moved, (\d[\d,]*) stale", stdout)
    assert m, stdout
    return dict(zip(("inserted", "updated", "moved", "stale"), (int(g.replace(",", "")) for g in m.groups())))


def events(conn) -> list[tuple]:
    """Every raw event row: id, occurred_at, received_at, amount, tenant, partition, _loaded_at."""
    return conn.execute(
        "select event_id::text, occurred_at::text, received_at::text, amount_cents, tenant_id, "
        "tableoid::regclass::text, _loaded_at from raw.events_raw order by 1, 2"
    ).fetchall()


def test_identical_resend_of_an_event_changes_nothing(conn, tmp_path):
    rows = [
        _ev(E1, "2025-03-10T10:00:00+00:00", "2025-03-10T10:00:05+00:00", 100),
        _ev(E2, "2025-03-10T11:00:00+00:00", None, 200),
    ]
    r = load_events(tmp_path / "first", rows)
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout) == {"inserted": 2, "updated": 0, "moved": 0, "stale": 0}
    before = events(conn)
    r = load_events(tmp_path / "again", rows)
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout) == {"inserted": 0, "updated": 0, "moved": 0, "stale": 0}
    row = next(line for line in r.stdout.splitlines() if "events_raw.csv" in line)  # the per-file table row
    assert re.findall(r"\w[\w.]*", row) == ["events_raw.csv", "events_raw", "2", "0", "0", "2", "0", "0"], row
    assert events(conn) == before  # one row per event, not even _loaded_at moved


def test_corrected_copy_received_later_moves_the_event_to_another_month(conn, tmp_path):
    r = load_events(
        tmp_path / "first",
        [
            _ev(E1, "2025-03-31T23:30:00+00:00", "2025-04-01T00:10:00+00:00", 100),
            _ev(E2, "2025-03-15T08:00:00+00:00", "2025-03-15T08:00:01+00:00", 1),
        ],
    )
    assert r.returncode == 0, r.stderr
    (_, _, _, _, _, part, loaded_before), e2_before = events(conn)
    assert part == "raw.events_raw_2025_03"
    # the producer corrects its clock: same event, a day and month later, received later, amount fixed
    r = load_events(tmp_path / "fix", [_ev(E1, "2025-04-01T00:05:00+00:00", "2025-04-01T00:20:00+00:00", 150)])
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout) == {"inserted": 0, "updated": 1, "moved": 1, "stale": 0}
    (eid, occurred, received, amount, _, part, loaded_after), e2_after = events(conn)
    assert (eid, occurred, received, amount, part) == (
        E1,
        "2025-04-01 00:05:00+00",
        "2025-04-01 00:20:00+00",
        150,
        "raw.events_raw_2025_04",
    )
    assert loaded_after > loaded_before  # downstream models see the event as newly loaded
    assert e2_after == e2_before
    assert conn.execute("select count(*) from raw.events_raw_2025_03 where event_id = %s", (E1,)).fetchone() == (0,)


def test_a_copy_received_earlier_than_the_held_one_is_stale(conn, tmp_path):
    r = load_events(tmp_path / "new", [_ev(E1, "2025-03-10T10:00:00+00:00", "2025-03-10T10:05:00+00:00", 200)])
    assert r.returncode == 0, r.stderr
    before = events(conn)
    # an older copy (received 10:00) and a copy with no received_at (older than any) arrive afterwards
    for i, received in enumerate(["2025-03-10T10:00:00+00:00", None]):
        r = load_events(tmp_path / f"old{i}", [_ev(E1, "2025-02-27T10:00:00+00:00", received, 100)])
        assert r.returncode == 0, r.stderr
        assert summary(r.stdout) == {"inserted": 0, "updated": 0, "moved": 0, "stale": 1}
        assert events(conn) == before
    # without a received_at column a copy counts as received "never": stale too
    r = load_events(
        tmp_path / "nocol",
        [[E1, "2025-03-10T10:00:00+00:00", "payments", "payment_attempted"]],
        header=["event_id", "occurred_at", "event_domain", "event_type"],
    )
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout)["stale"] == 1 and events(conn) == before


def test_equal_received_at_the_later_load_wins_when_it_differs(conn, tmp_path):
    rcv = "2025-03-10T10:05:00+00:00"
    r = load_events(
        tmp_path / "a", [_ev(E1, "2025-03-10T10:00:00+00:00", rcv, 200), _ev(E2, "2025-03-11T10:00:00+00:00", None, 1)]
    )
    assert r.returncode == 0, r.stderr
    # E1: same received_at, other amount and day; E2: NULL received_at held, a dated copy outranks it
    r = load_events(
        tmp_path / "b",
        [
            _ev(E1, "2025-03-09T10:00:00+00:00", rcv, 201),
            _ev(E2, "2025-03-11T10:00:00+00:00", "2025-03-11T10:00:01+00:00", 1),
        ],
    )
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout) == {"inserted": 0, "updated": 2, "moved": 1, "stale": 0}
    assert [row[:4] for row in events(conn)] == [
        (E1, "2025-03-09 10:00:00+00", "2025-03-10 10:05:00+00", 201),
        (E2, "2025-03-11 10:00:00+00", "2025-03-11 10:00:01+00", 1),
    ]


def test_several_copies_of_an_event_in_one_file_keep_the_latest_received(conn, tmp_path):
    rows = [
        _ev(E1, "2025-03-01T10:00:00+00:00", "2025-03-01T10:00:01+00:00", 1),  # line 2
        _ev(E1, "2025-03-01T10:00:00+00:00", "2025-03-01T10:05:00+00:00", 2),  # line 3: same key as line 2
        _ev(E1, "2025-02-28T09:59:00+00:00", "2025-03-01T10:05:00+00:00", 3),  # line 4: ties line 3, later line
        _ev(E1, "2025-03-02T10:00:00+00:00", None, 4),  # line 5: NULL, oldest
        _ev(E2, "2025-03-03T09:00:00+00:00", "2025-03-03T09:00:00+00:00", 5),  # line 6
        _ev(E2, "2025-03-03T09:00:00+00:00", "2025-03-03T09:00:00+00:00", 5),
    ]  # line 7: exact duplicate
    r = load_events(tmp_path / "copies", rows)
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout) == {"inserted": 2, "updated": 0, "moved": 0, "stale": 4}
    assert [row[:4] + row[5:6] for row in events(conn)] == [
        (E1, "2025-02-28 09:59:00+00", "2025-03-01 10:05:00+00", 3, "raw.events_raw_2025_02"),
        (E2, "2025-03-03 09:00:00+00", "2025-03-03 09:00:00+00", 5, "raw.events_raw_2025_03"),
    ]
    # the same file again: its winners are held, every copy is unchanged or stale
    r = load_events(tmp_path / "copies", rows)
    assert summary(r.stdout) == {"inserted": 0, "updated": 0, "moved": 0, "stale": 4}


def test_a_failed_events_file_leaves_the_held_rows(conn, tmp_path):
    r = load_events(tmp_path / "ok", [_ev(E1, "2025-03-31T23:30:00+00:00", "2025-04-01T00:10:00+00:00", 100)])
    assert r.returncode == 0, r.stderr
    before = events(conn)
    # a corrected copy moving E1 to April, then a malformed line: exit 2, E1 stays, no April partition
    r = load_events(
        tmp_path / "bad",
        [
            _ev(E1, "2025-04-01T00:05:00+00:00", "2025-04-01T00:20:00+00:00", 150),
            _ev(E2, "2025-04-02T25:00:00", None, 1),
        ],
    )
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "error: events_raw.csv line 3, column occurred_at: '2025-04-02T25:00:00' is not a valid timestamp"
    )
    assert events(conn) == before
    assert conn.execute("select to_regclass('raw.events_raw_2025_04')").fetchone() == (None,)


def test_a_move_that_fails_after_the_delete_rolls_back_whole(conn, tmp_path):
    # the old row is deleted before the new one is inserted: both in the file's transaction
    r = load_events(tmp_path / "ok", [_ev(E1, "2025-03-31T23:30:00+00:00", "2025-04-01T00:10:00+00:00", 100)])
    assert r.returncode == 0, r.stderr
    before = events(conn)
    conn.execute(
        "create function pg_temp.refuse() returns trigger language plpgsql as "
        "$$ begin raise exception 'insert refused'; end $$"
    )
    conn.execute("create trigger refuse before insert on raw.events_raw for each row execute function pg_temp.refuse()")
    path = write_csv(
        tmp_path / "fix" / "events_raw.csv",
        EVENT_COLS,
        [_ev(E1, "2025-04-01T00:05:00+00:00", "2025-04-01T00:20:00+00:00", 150)],
    )
    with pytest.raises(psycopg.errors.RaiseException, match="insert refused"):
        loader.load_file(conn, path, "events_raw", "csv", contract.tables(conn))
    assert events(conn) == before


def test_other_raw_tables_still_refuse_two_rows_with_one_key(conn, tmp_path):
    # the copy rule is events_raw's; a bookings file with one key twice stays a duplicate-key error
    d = tmp_path / "b"
    write_csv(d / "bookings.csv", BOOKING_COLS, [GOOD_BOOKINGS[1], GOOD_BOOKINGS[1]])
    r = run_kpi("load", str(d))
    assert r.returncode == 2
    assert r.stderr.strip() == "error: bookings.csv line 3, column booking_id: duplicate key (first seen on line 2)"


def test_init_creates_the_event_indexes_also_on_an_existing_database(conn, tmp_path):
    indexes = (
        "select indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index "
        "where indrelid = %s::regclass and not indisprimary order by 1"
    )
    assert run_kpi("init", "--months-ahead", "0").returncode == 0
    want = [
        (
            "raw.events_raw_event_id_idx",
            "CREATE INDEX events_raw_event_id_idx ON ONLY raw.events_raw USING btree (event_id)",
        ),
        (
            "raw.events_raw_loaded_at_idx",
            "CREATE INDEX events_raw_loaded_at_idx ON ONLY raw.events_raw USING btree (_loaded_at)",
        ),
    ]
    assert conn.execute(indexes, ("raw.events_raw",)).fetchall() == want
    # a database made before the indexes existed: a load (which applies the DDL) adds them to its partitions
    r = load_events(tmp_path / "ev", [_ev(E1, "2024-11-05T10:00:00+00:00", None, 1)])
    assert r.returncode == 0, r.stderr
    conn.execute("drop index raw.events_raw_event_id_idx, raw.events_raw_loaded_at_idx")
    assert conn.execute(indexes, ("raw.events_raw_2024_11",)).fetchall() == []
    assert run_kpi("init", "--months-ahead", "0").returncode == 0
    assert run_kpi("init", "--months-ahead", "0").returncode == 0  # and again: nothing to do
    assert conn.execute(indexes, ("raw.events_raw",)).fetchall() == want
    assert [d for _, d in conn.execute(indexes, ("raw.events_raw_2024_11",)).fetchall()] == [
        "CREATE INDEX events_raw_2024_11__loaded_at_idx ON raw.events_raw_2024_11 USING btree (_loaded_at)",
        "CREATE INDEX events_raw_2024_11_event_id_idx ON raw.events_raw_2024_11 USING btree (event_id)",
    ]


# --------------------------------------------------------------------------- load-time quality gates
Q_COLS = ["event_id", "occurred_at", "tenant_id", "event_domain", "event_type", "provider", "country_code"]


def _when(minutes_from_now: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes_from_now)).isoformat(timespec="seconds")


def _quality_rows(conn) -> list[tuple]:
    return conn.execute(
        "select file_name, raw_table, file_rows, outcome, future_tolerance_minutes, future_timestamps, "
        "invalid_country_codes, uncatalogued_event_types, null_dimensions from ops.load_quality "
        "order by load_quality_id"
    ).fetchall()


def test_quality_findings_load_with_one_warning_line_and_are_recorded(conn, tmp_path):
    # hand-counted: 1 future timestamp (line 3: 2030; line 4 is 30 min ahead, inside the 60-minute tolerance),
    # 2 invalid country codes ('XX', 'United States'; ' gb' is GB once trimmed), 1 uncatalogued type,
    # 1 payment without a provider (the order without one is not grouped by provider)
    rows = [
        [
            "00000000-0000-4000-8000-0000000000a1",
            "2025-06-01T10:00:00Z",
            "plt",
            "payments",
            "payment_attempted",
            "stripe",
            "XX",
        ],
        [
            "00000000-0000-4000-8000-0000000000a2",
            "2030-06-01T10:00:00Z",
            "plt",
            "payments",
            "payment_attempted",
            "stripe",
            "United States",
        ],
        ["00000000-0000-4000-8000-0000000000a3", _when(30), "plt", "payments", "payment_attempted", None, " gb"],
        [
            "00000000-0000-4000-8000-0000000000a4",
            "2025-06-01T11:00:00Z",
            "plt",
            "payments",
            "payment_teleported",
            "stripe",
            "GB",
        ],
        ["00000000-0000-4000-8000-0000000000a5", "2025-06-01T12:00:00Z", "plt", "orders", "order_created", None, None],
    ]
    d = tmp_path / "q"
    write_csv(d / "events_raw.csv", Q_COLS, rows)
    r = run_kpi("load", str(d))
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == (
        "warning: events_raw.csv: quality: 1 future timestamp (beyond now + 60 min; first: line 3, occurred_at "
        "2030-06-01 10:00:00+00); 2 invalid country codes ('XX', 'United States'); 1 uncatalogued event type "
        "(payments/payment_teleported); nulls in grouped dimensions (provider 1)"
    )
    assert conn.execute("select count(*) from raw.events_raw").fetchone() == (5,)  # loaded all the same
    assert _quality_rows(conn) == [("events_raw.csv", "events_raw", 5, "loaded", 60, 1, 2, 1, {"provider": 1})]

    # --strict: the same findings reject a file: one line, exit 2, nothing of it written, earlier data intact
    before = events(conn)
    rows2 = [[f"00000000-0000-4000-8000-0000000000b{i}"] + row[1:] for i, row in enumerate(rows, 1)]
    write_csv(d / "events_raw.csv", Q_COLS, rows2)
    r = run_kpi("load", "--strict", str(d))
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "error: events_raw.csv: rejected by --strict (nothing written): 1 future timestamp (beyond now + 60 min; "
        "first: line 3, occurred_at 2030-06-01 10:00:00+00); 2 invalid country codes ('XX', 'United States'); "
        "1 uncatalogued event type (payments/payment_teleported); nulls in grouped dimensions (provider 1)"
    )
    assert events(conn) == before
    assert _quality_rows(conn)[-1] == ("events_raw.csv", "events_raw", 5, "rejected", 60, 1, 2, 1, {"provider": 1})


def test_a_clean_file_says_quality_ok_and_strict_loads_it(conn, tmp_path):
    d = tmp_path / "clean"
    write_csv(
        d / "deals.csv",
        ["deal_id", "country_code", "category", "template_code", "template_version", "amount_cents", "created_at"],
        [["d1", "MN", "USED_CAR_PRIVATE", "MN_USED_CAR_PRIVATE", "1", "500000", "2025-03-01T10:00:00Z"]],
    )
    r = run_kpi("load", "--strict", str(d))
    assert r.returncode == 0, r.stderr
    assert "deals.csv: quality ok" in r.stdout and r.stderr.strip() == ""
    assert conn.execute("select count(*) from raw.deals").fetchone() == (1,)
    assert _quality_rows(conn) == [("deals.csv", "deals", 1, "loaded", 60, 0, 0, 0, {})]


def test_quality_of_other_tables_in_process(conn, tmp_path):
    """Deals grouped by country/category/version, bookings by location, tenants' country codes (no CLI: fast)."""
    d = tmp_path / "o"
    write_csv(
        d / "tenants.csv",
        ["tenant_id", "kind", "name", "country_code"],
        [["t1", "merchant", "A", "gb"], ["t2", "merchant", "B", "GBR"], ["t3", "merchant", "C", None]],
    )
    write_csv(
        d / "deals.csv",
        ["deal_id", "country_code", "category", "template_version", "amount_cents", "created_at"],
        [["d1", None, "X", None, "1", "2025-03-01T10:00:00Z"], ["d2", "KZ", None, "2", "1", "2025-03-01T10:00:00Z"]],
    )
    write_csv(d / "bookings.csv", BOOKING_COLS, GOOD_BOOKINGS)
    results = {r.table: r.quality for r in loader.load_path(conn, d)}
    assert results["tenants"].summary() == "quality: 1 invalid country code ('GBR')"
    assert results["deals"].null_dimensions == {"country_code": 1, "category": 1, "template_version": 1}
    assert results["bookings"].summary() == "quality: nulls in grouped dimensions (location_id 1)"
    # strict in process: UsageError, the table keeps its rows
    write_csv(d / "tenants.csv", ["tenant_id", "kind", "name", "country_code"], [["t9", "merchant", "Z", "ZZ"]])
    with pytest.raises(
        UsageError,
        match=r"^tenants\.csv: rejected by --strict \(nothing written\): "
        r"1 invalid country code \('ZZ'\)$",
    ):
        loader.load_path(conn, d / "tenants.csv", strict=True)
    assert conn.execute("select count(*) from raw.tenants").fetchone() == (3,)


# --------------------------------------------------------------------------- BOM and line numbers
def test_a_utf8_bom_is_accepted_in_csv_and_jsonl(conn, tmp_path):
    d = tmp_path / "bom"
    d.mkdir()
    (d / "locations.csv").write_bytes("\ufefflocation_id,tenant_id,name\nl1,t1,Café\n".encode())
    (d / "tenants.jsonl").write_bytes('\ufeff{"tenant_id": "t1", "kind": "merchant", "name": "A"}\n'.encode())
    loader.load_path(conn, d)
    assert conn.execute("select location_id, name from raw.locations").fetchall() == [("l1", "Café")]
    assert conn.execute("select tenant_id from raw.tenants").fetchall() == [("t1",)]


@pytest.mark.parametrize(
    "body, message",
    [
        # a quote opened on line 3 never closes: COPY reports the end of the file, the record starts on line 3
        (
            b'l1,t1,"ok"\nl2,t1,"bad\nl3,t1,x\nl4,t1,y\n',
            "locations.csv line 3: a quoted field is never closed (unbalanced double quote)",
        ),
        # a byte that is not UTF-8 on line 4 (line 2-3 is one record with a quoted line break)
        (
            b'l1,t1,"multi\nline"\nl2,t1,b\xe9d\nl3,t1,x\n',
            'locations.csv line 4: not UTF-8 text (invalid byte sequence for encoding "UTF8": 0xe9 0x64 0x0a)',
        ),
        # COPY names the last physical line of the bad record: the record after a two-line one starts on line 4
        (
            b'l1,t1,"multi\nline"\nl2,t1,x,extra\nl3,t1,x\n',
            "locations.csv line 4: extra data after last expected column",
        ),
        # ... and a bad record spanning lines 4-5 is named by its first line, not the last
        (
            b'l1,t1,"multi\nline"\nl2,t1,"x\ny",extra\nl3,t1,x\n',
            "locations.csv line 4: extra data after last expected column",
        ),
    ],
)
def test_malformed_csv_errors_name_the_offending_line(conn, tmp_path, body, message):
    (tmp_path / "locations.csv").write_bytes(b"location_id,tenant_id,name\n" + body)
    with pytest.raises(UsageError) as e:
        loader.load_path(conn, tmp_path / "locations.csv")
    assert str(e.value) == message
    assert conn.execute("select count(*) from raw.locations").fetchone() == (0,)


def test_a_non_utf8_jsonl_names_the_line(conn, tmp_path):
    f = tmp_path / "tenants.jsonl"
    f.write_bytes(b'{"tenant_id": "t1", "kind": "merchant"}\n{"tenant_id": "t\xff2", "kind": "merchant"}\n')
    with pytest.raises(UsageError, match=r"^tenants\.jsonl line 2: not UTF-8 text$"):
        loader.load_path(conn, f)
    assert conn.execute("select count(*) from raw.tenants").fetchone() == (0,)


# --------------------------------------------------------------------------- backfill windows
def test_backfill_window_probe_and_a_missing_contract(conn, tmp_path):
    r = run_kpi("backfill", "--start", "2025-01-01", "--end", "2025-01-02")
    assert (r.returncode, r.stderr.strip()) == (
        2,
        "error: the raw contract does not exist: run `kpi init` and `kpi load` first",
    )
    assert loader.raw_tables_with_rows_between(conn, date(2025, 1, 1), date(2025, 1, 2)) is None

    write_csv(tmp_path / "b" / "bookings.csv", BOOKING_COLS, GOOD_BOOKINGS)  # start_at 2025-03-01 .. 03-03
    loader.load_path(conn, tmp_path / "b")
    probe = loader.raw_tables_with_rows_between
    assert probe(conn, date(2025, 2, 1), date(2025, 3, 1)) == []  # end exclusive: 03-01 10:00 is outside
    assert probe(conn, date(2025, 3, 3), date(2025, 3, 4)) == ["bookings"]
    assert probe(conn, date(2025, 3, 4), date(2025, 4, 1)) == []


def test_an_appointment_booked_ahead_is_not_a_future_timestamp(conn, tmp_path):
    ahead = [["b9", "org_1", "loc_1", "c1", _when(7 * 24 * 60), "PENDING", None, _when(0), _when(0)]]
    write_csv(tmp_path / "a" / "bookings.csv", BOOKING_COLS, ahead)
    (r,) = loader.load_path(conn, tmp_path / "a")
    assert r.quality.ok, r.quality.summary()
    ahead[0][7] = _when(24 * 60)  # created tomorrow: that one is
    write_csv(tmp_path / "a" / "bookings.csv", BOOKING_COLS, ahead)
    (r,) = loader.load_path(conn, tmp_path / "a")
    assert r.quality.future_timestamps == 1 and r.quality.future_first.startswith("line 2, created_at ")

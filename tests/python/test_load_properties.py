"""Property-based tests of the CSV loader (hypothesis): whatever Python's ``csv`` writes, raw round-trips.

Rows of ``raw.bookings`` with text full of quotes, commas, CR/LF, ``\\.``,
``\\N``, emoji, right-to-left and combining characters, leading/trailing
spaces, and both kinds of "nothing" are written with the ``csv`` module and
loaded in-process (:func:`kpiwh.load.load_file`, the function behind ``kpi
load``); the table must hold exactly what was written.

Empty versus NULL (the loader's contract, see kpiwh/load.py and
docs/DECISIONLOG.md): an unquoted empty field is NULL; a quoted empty field
``""`` is the empty string in a nullable text column, NULL in a typed column
(timestamps), and rejected in a key or required column like NULL is.
Whitespace is kept as written (never trimmed by the loader). NUL (U+0000)
cannot be stored in PostgreSQL text and lone surrogates are not UTF-8, so
neither is generated.

One database for the module; each example truncates the table first.
"""

from __future__ import annotations

import csv
import io
import tempfile
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import admin_conn
from kpiwh import contract, load
from kpiwh.errors import UsageError

COLS = [
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
TEXT_NULLABLE = ["location_id", "customer_note"]
TS_NULLABLE = ["created_at", "updated_at"]

SPECIALS = [
    ",",
    '"',
    '""',
    "\n",
    "\r\n",
    "\r",
    " ",
    "  lead",
    "trail  ",
    "\t",
    "\\.",
    "\\N",
    "NULL",
    "null",
    "👍🏽",
    "👨‍👩‍👧",
    "שלום עולם",
    "مرحبا",
    "e\u0301",
    "\u202e",
    "\ufeff",
    "日本語",
    "a,b",
    '"quoted"',
    "line1\nline2",
    "\\",
    "'",
    ";",
]
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
piece = st.one_of(st.sampled_from(SPECIALS), st.text(_chars, max_size=8))
text_value = st.lists(piece, max_size=4).map("".join)
nonempty_text = text_value.filter(lambda s: s != "")
# a timestamp as an aware datetime (written ISO-8601 with its offset)
instant = st.builds(
    lambda secs, off: (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=secs)).astimezone(
        timezone(timedelta(minutes=off))
    ),
    st.integers(0, 400 * 86400),
    st.sampled_from([0, 60, -300, 330, 765]),
)
nothing = st.sampled_from([None, ""])  # unquoted empty (None) or quoted "" (the empty string)


@st.composite
def booking_rows(draw):
    keys = draw(st.lists(nonempty_text, min_size=1, max_size=6, unique=True))
    rows = []
    for k in keys:
        row = {
            "booking_id": k,
            "organization_id": draw(nonempty_text),
            "customer_id": draw(nonempty_text),
            "status": draw(nonempty_text),
            "start_at": draw(instant),
        }
        for c in TEXT_NULLABLE:
            row[c] = draw(st.one_of(nothing, text_value))
        for c in TS_NULLABLE:
            row[c] = draw(st.one_of(nothing, instant))
        rows.append(row)
    return rows


def _field(value, quote_all: bool) -> str:
    """One CSV field as Python's csv module writes it; None = unquoted empty, '' = quoted ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.isoformat()
    buf = io.StringIO()
    # a single empty field is written as "" by the csv module; any other value minimally (or always)
    # quoted. The csv module quotes only the characters of ITS line terminator: with "\r\n" both CR
    # and LF force quotes (with "\n" a bare CR would be written unquoted, see the test below)
    csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerow([value])
    return buf.getvalue()[:-2]


def _write(path: Path, rows: list[dict], quote_all: bool, crlf: bool) -> None:
    eol = "\r\n" if crlf else "\n"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(COLS) + eol)
        for r in rows:
            fh.write(",".join(_field(r[c], quote_all) for c in COLS) + eol)


def _expected(rows: list[dict]) -> list[tuple]:
    out = []
    for r in rows:
        vals = []
        for c in COLS:
            v = r[c]
            if c in TS_NULLABLE and v == "":
                v = None  # quoted "" in a typed column: NULL
            vals.append(v)
        out.append(tuple(vals))
    return sorted(out, key=lambda t: t[0].encode())


@pytest.fixture(scope="module")
def db(pg_server):
    """(connection, contract tables) of one database holding the raw contract, for the whole module."""
    name = "t_" + uuid.uuid4().hex[:12]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=name, autocommit=True) as conn:
        contract.apply(conn)
        yield conn, contract.tables(conn)
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{name}" with (force)')


def _load(conn, tables, rows, quote_all: bool, crlf: bool) -> load.FileResult:
    conn.execute("truncate raw.bookings")
    with tempfile.TemporaryDirectory(prefix="kpi-prop-") as d:
        path = Path(d) / "bookings.csv"
        _write(path, rows, quote_all, crlf)
        return load.load_file(conn, path, "bookings", "csv", tables)


@settings(
    max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(rows=booking_rows(), quote_all=st.booleans(), crlf=st.booleans())
def test_csv_round_trips_exactly(db, rows, quote_all, crlf):
    conn, tables = db
    res = _load(conn, tables, rows, quote_all, crlf)
    assert (res.rows, res.inserted, res.updated) == (len(rows), len(rows), 0)
    got = conn.execute(f"select {', '.join(COLS)} from raw.bookings").fetchall()
    got = sorted(got, key=lambda t: t[0].encode())
    assert got == _expected(rows)
    # loading the same file again changes nothing
    with tempfile.TemporaryDirectory(prefix="kpi-prop-") as d:
        path = Path(d) / "bookings.csv"
        _write(path, rows, quote_all, crlf)
        again = load.load_file(conn, path, "bookings", "csv", tables)
    assert (again.inserted, again.updated) == (0, 0)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(rows=booking_rows(), data=st.data())
def test_an_empty_key_or_required_value_is_rejected_whether_quoted_or_not(db, rows, data):
    conn, tables = db
    i = data.draw(st.integers(0, len(rows) - 1), label="row")
    col = data.draw(st.sampled_from(["booking_id", "organization_id", "status"]), label="column")  # NOT NULL text
    rows[i][col] = data.draw(nothing, label="empty")
    conn.execute("truncate raw.bookings")
    with tempfile.TemporaryDirectory(prefix="kpi-prop-") as d:
        path = Path(d) / "bookings.csv"
        _write(path, rows, quote_all=False, crlf=False)
        with pytest.raises(
            UsageError, match=rf"^bookings\.csv line \d+, column {col}: value is required \(NULL/empty\)$"
        ):
            load.load_file(conn, path, "bookings", "csv", tables)
    assert conn.execute("select count(*) from raw.bookings").fetchone()[0] == 0


def test_an_unquoted_carriage_return_is_one_line_naming_the_line(db, tmp_path):
    # Python's csv module with lineterminator="\n" writes a bare CR unquoted (RFC 4180 wants it
    # quoted); PostgreSQL refuses it rather than guessing: one clear line, nothing written
    conn, tables = db
    conn.execute("truncate raw.bookings")
    path = tmp_path / "bookings.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLS)
        w.writerow(["b1", "o", "", "c", "2025-03-01T10:00:00+00:00", "ACCEPTED", "ok", "", ""])
        w.writerow(["b2", "o", "", "c", "2025-03-01T10:00:00+00:00", "ACCEPTED", "half\rway", "", ""])
    assert b",half\rway," in path.read_bytes()  # written unquoted
    with pytest.raises(UsageError) as e:
        load.load_file(conn, path, "bookings", "csv", tables)
    assert str(e.value) == "bookings.csv line 3: unquoted carriage return found in data"
    assert conn.execute("select count(*) from raw.bookings").fetchone()[0] == 0

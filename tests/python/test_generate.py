"""Tests of the deterministic raw-data generator (kpiwh.generate)."""

from __future__ import annotations

import csv
import filecmp
import importlib
import inspect
import io
import json
import os
import random
import re
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
try:
    gen = importlib.import_module("kpiwh.generate")
except ImportError:  # package not installed: import from the source tree
    sys.path.insert(0, str(ROOT / "cli"))
    gen = importlib.import_module("kpiwh.generate")
raw_ddl = importlib.import_module("kpiwh.raw_ddl")

DDL = ROOT / "cli" / "kpiwh" / "sql" / "raw_contract.sql"
CATALOGUE = ROOT / "seeds" / "event_catalogue.csv"

START = date(2025, 6, 2)
DAYS = 45
SMALL = {"tenants": 12, "days": DAYS, "start": START, "seed": 7, "scale": 1.0}
TINY = {"tenants": 5, "days": 10, "start": START, "seed": 3, "scale": 0.2}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def parse_ddl() -> dict[str, dict]:
    """{table: {"columns": [(name, type)], "pk": [cols]}} from the contract DDL."""
    text = DDL.read_text(encoding="utf-8")
    tables: dict[str, dict] = {}
    for m in re.finditer(r"create table if not exists raw\.(\w+)\s*\((.*?)\n\)", text, re.S):
        cols: list[tuple[str, str]] = []
        pk: list[str] = []
        for line in m.group(2).splitlines():
            line = line.split("--")[0].strip().rstrip(",")
            if not line:
                continue
            tpk = re.match(r"primary key\s*\(([^)]*)\)", line)
            if tpk:
                pk = [c.strip() for c in tpk.group(1).split(",")]
                continue
            name, rest = line.split(None, 1)
            cols.append((name, rest.split()[0]))
            if "primary key" in rest:
                pk = [name]
        tables[m.group(1)] = {"columns": cols, "pk": pk}
    return tables


def read(out: Path, table: str) -> list[dict[str, str]]:
    with open(out / f"{table}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def parse_ts(value: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", value), value
    return datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("gen_small")
    counts = gen.generate(out, **SMALL)
    return out, counts


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------


def test_deterministic_and_seed_sensitive(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ca = gen.generate(a, **TINY)
    cb = gen.generate(b, **TINY)
    assert ca == cb
    for table in gen.TABLE_COLUMNS:
        assert filecmp.cmp(a / f"{table}.csv", b / f"{table}.csv", shallow=False), table
    gen.generate(c, **{**TINY, "seed": TINY["seed"] + 1})
    assert (a / "events_raw.csv").read_bytes() != (c / "events_raw.csv").read_bytes()
    assert (a / "bookings.csv").read_bytes() != (c / "bookings.csv").read_bytes()


def test_headers_match_ddl(small) -> None:
    out, counts = small
    ddl = parse_ddl()
    assert set(ddl) == set(gen.TABLE_COLUMNS) == set(counts)
    for table, spec in ddl.items():
        expected = [c for c, _ in spec["columns"] if c != "_loaded_at"]
        assert list(gen.TABLE_COLUMNS[table]) == expected
        raw = (out / f"{table}.csv").read_bytes()
        assert raw.split(b"\n", 1)[0].decode() == ",".join(expected)
        assert b"\r" not in raw
        assert counts[table] == len(read(out, table)), table


def test_ddl_parser_reads_the_contract() -> None:
    """kpiwh.raw_ddl (the headers' source) agrees with this file's own reading of the DDL, _loaded_at included."""
    assert raw_ddl.table_columns() == {t: tuple(c for c, _ in spec["columns"]) for t, spec in parse_ddl().items()}
    assert raw_ddl.table_columns(DDL.read_text(encoding="utf-8")) == raw_ddl.table_columns()


DDL_SHAPES = """
-- raw.ignored (a comment naming a table)
create table if not exists raw.things (
    thing_id   text primary key,  -- trailing comment, with a comma
    kind       text not null check (kind in ('a, b', 'it''s)')),
    "Mixed"    numeric(14, 3),
    Upper_Col  integer not null default 1,
    constraint things_kind_ck check (kind <> ''),
    unique (kind, "Mixed"),
    _loaded_at timestamptz not null default now(),
    primary key (thing_id)
) partition by range (thing_id);
do $$
begin
    create table raw.inside_a_block (x text);
end
$$;
create table raw.pairs (a text, b text, foreign key (a) references raw.things (thing_id));
create table staging.elsewhere (y text);
"""


def test_ddl_parser_handles_the_ddl_shapes() -> None:
    """Constraints are not columns; comments, quoted literals, type modifiers and do-blocks do not confuse it."""
    assert raw_ddl.table_columns(DDL_SHAPES) == {
        "things": ("thing_id", "kind", "Mixed", "upper_col", "_loaded_at"),
        "pairs": ("a", "b"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("create table staging.x (a text);", "no `create table raw"),
        ("create table raw.x (a text);\ncreate table if not exists raw.x (a text);", "created twice"),
        ("create table raw.x (a text, b numeric(14, 3)", "not closed"),
        ("create table raw.x (a text,, b text);", "empty item"),
    ],
)
def test_ddl_parser_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        raw_ddl.table_columns(text)


def test_files_are_canonical_csv(small) -> None:
    """Every file re-serialises byte-identically through csv.writer (incl. the hand-written events)."""
    out, _ = small
    for table in gen.TABLE_COLUMNS:
        raw = (out / f"{table}.csv").read_text(encoding="utf-8")
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        with open(out / f"{table}.csv", encoding="utf-8", newline="") as f:
            for row in csv.reader(f):
                assert len(row) == len(gen.TABLE_COLUMNS[table]), table
                writer.writerow(row)
        assert buf.getvalue() == raw, table


def test_every_table_has_rows(small) -> None:
    _, counts = small
    for table, n in counts.items():
        assert n > 0, table


def test_primary_keys_unique(small) -> None:
    out, _ = small
    for table, spec in parse_ddl().items():
        rows = read(out, table)
        keys = [tuple(r[c] for c in spec["pk"]) for r in rows]
        assert spec["pk"], table
        assert all(all(k) for k in keys), f"empty key part in {table}"
        dup = [k for k, n in Counter(keys).items() if n > 1]
        assert not dup, f"{table}: duplicate keys {dup[:3]}"


def test_no_quoted_empty_strings_and_not_null(small) -> None:
    out, _ = small
    ddl = parse_ddl()
    empty_field = re.compile(r'(?:^|,)""(?=,|$)', re.M)
    for table in gen.TABLE_COLUMNS:
        text = (out / f"{table}.csv").read_text(encoding="utf-8")
        assert not empty_field.search(text), table
        not_null = [c for c, _ in ddl[table]["columns"] if c != "_loaded_at"]
        text_ddl = DDL.read_text(encoding="utf-8")
        required = [
            c
            for c in not_null
            if re.search(rf"\b{c}\b[^\n]*(not null|primary key)", text_ddl.split(f"raw.{table} (")[1].split("\n);")[0])
        ]
        for row in read(out, table):
            for c in required:
                assert row[c] != "", f"{table}.{c} is null"


def test_timestamps_within_window(small) -> None:
    out, _ = small
    lo = datetime(START.year, START.month, START.day, tzinfo=UTC)
    hi = lo + timedelta(days=DAYS)
    for table, spec in parse_ddl().items():
        ts_cols = [c for c, t in spec["columns"] if t == "timestamptz" and c != "_loaded_at"]
        for row in read(out, table):
            for c in ts_cols:
                if row[c]:
                    assert lo <= parse_ts(row[c]) < hi, (table, c, row[c])


def test_tenant_kinds_and_partners(small) -> None:
    out, _ = small
    tenants = read(out, "tenants")
    kinds = Counter(t["kind"] for t in tenants)
    assert set(kinds) == {"merchant", "partner", "organization", "marketplace", "platform"}
    assert len(tenants) == SMALL["tenants"]
    prefix = {"merchant": "mer_", "partner": "par_", "organization": "org_", "marketplace": "mkt_", "platform": "plt_"}
    for t in tenants:
        assert re.fullmatch(r"[a-z]{3}_\d{3}", t["tenant_id"]) and t["tenant_id"].startswith(prefix[t["kind"]])
        assert re.fullmatch(r"[A-Z]{2}", t["country_code"])
    partners = read(out, "partners")
    assert {p["partner_id"] for p in partners} == {t["tenant_id"] for t in tenants if t["kind"] == "partner"}
    by_id = {t["tenant_id"]: t for t in tenants}
    for p in partners:
        assert p["status"] in gen.PARTNER_STATUSES
        assert by_id[p["partner_id"]]["status"] == p["status"]
        if p["status"] in ("active", "suspended", "rejected"):
            assert p["decided_at"] and p["applied_at"] and p["applied_at"] < p["decided_at"] <= p["updated_at"]
        else:
            assert not p["decided_at"]
    locs = read(out, "locations")
    per_tenant = Counter(loc["tenant_id"] for loc in locs)
    for t in tenants:
        if t["kind"] in ("merchant", "organization"):
            assert 1 <= per_tenant[t["tenant_id"]] <= 4
        else:
            assert per_tenant[t["tenant_id"]] == 0


def test_split_tenant_kinds() -> None:
    for n in range(1, 60):
        split = gen.split_tenant_kinds(n)
        assert sum(split.values()) == n
        if n >= 5:
            assert min(split.values()) >= 1
    assert gen.split_tenant_kinds(12) == {
        "merchant": 3,
        "partner": 3,
        "organization": 3,
        "marketplace": 1,
        "platform": 2,
    }


def test_events_follow_catalogue(small) -> None:
    out, _ = small
    with open(CATALOGUE, encoding="utf-8") as f:
        allowed = {(r["event_domain"], r["event_type"]) for r in csv.DictReader(f)}
    tenants = {t["tenant_id"]: t["kind"] for t in read(out, "tenants")}
    domain_kind = {"loyalty": "merchant", "partners": "partner"}
    seen = set()
    junk = 0
    events = read(out, "events_raw")
    for e in events:
        key = (e["event_domain"], e["event_type"])
        assert key in allowed, key
        seen.add(key)
        assert tenants[e["tenant_id"]] == domain_kind.get(e["event_domain"], "platform")
        u = uuid.UUID(e["event_id"])
        assert u.version == 4 and str(u) == e["event_id"]
        assert e["schema_version"] == "1"
        assert e["occurred_at"] <= e["received_at"]
        if e["metadata"]:
            meta = json.loads(e["metadata"])
            assert isinstance(meta, dict)
            assert json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == e["metadata"]
        if e["event_type"] == "scan_error":
            assert e["status"] in gen.SCAN_ERRORS
        if e["event_type"] == "api_request":
            assert e["status"] in ("success", "error")
        if e["event_type"] == "points_redeemed":
            meta = json.loads(e["metadata"])
            assert meta["reward_id"].startswith("rw_") and meta["points"] > 0
        if e["event_type"] == "horoscope_played":
            assert 0 <= json.loads(e["metadata"])["listen_pct"] <= 100
        if e["event_type"].startswith("payment_"):
            assert e["provider"] in ("stripe", "square", "paypal")
            assert isinstance(json.loads(e["metadata"])["is_fallback"], bool)
        if e["user_id"]:
            assert "@" not in e["user_id"]
        if e["country_code"] and not re.fullmatch(r"[A-Z]{2}", e["country_code"]):
            junk += 1
    # every catalogue event appears in a 45-day data set
    assert seen == allowed, sorted(allowed - seen)
    assert 0 < junk < 0.03 * len(events)
    assert len({e["event_id"] for e in events}) == len(events)


def test_bookings_statuses_and_payments(small) -> None:
    out, _ = small
    bookings = read(out, "bookings")
    customers = read(out, "customers")
    payments = read(out, "payments")
    cust_keys = {(c["organization_id"], c["customer_id"]) for c in customers}
    by_id = {b["booking_id"]: b for b in bookings}
    statuses = Counter(b["status"] for b in bookings)
    assert set(statuses) == set(gen.BOOKING_STATUSES)
    share = {k: v / len(bookings) for k, v in statuses.items()}
    assert 0.68 <= share["ACCEPTED"] <= 0.82
    for b in bookings:
        assert (b["organization_id"], b["customer_id"]) in cust_keys
        assert b["created_at"] <= b["start_at"]
        assert b["created_at"] <= b["updated_at"]
    for p in payments:
        assert p["status"] in gen.PAYMENT_STATUSES
        assert int(p["amount_cents"]) > 0 and p["currency"]
        if p["booking_id"]:
            assert p["booking_id"] in by_id
            assert by_id[p["booking_id"]]["organization_id"] == p["organization_id"]
    accepted = {b["booking_id"] for b in bookings if b["status"] == "ACCEPTED"}
    paid = {p["booking_id"] for p in payments if p["status"] == "COMPLETED" and p["booking_id"]}
    assert len(accepted & paid) > 0.8 * len(accepted)
    assert any(not p["booking_id"] for p in payments)
    # first booking after the customer's creation; some customers never book
    created = {(c["organization_id"], c["customer_id"]): c["created_at"] for c in customers}
    booked = {(b["organization_id"], b["customer_id"]) for b in bookings}
    for key in booked:
        assert created[key] is not None
    assert len(booked) < len(customers)
    for b in bookings:
        assert created[(b["organization_id"], b["customer_id"])] <= b["created_at"]
    refs = read(out, "referral_profiles")
    assert refs and all((r["organization_id"], r["customer_id"]) in cust_keys for r in refs)
    notes = [b["customer_note"] for b in bookings if b["customer_note"]]
    assert any("\n" in n for n in notes) and any('"' in n for n in notes) and any("," in n for n in notes)


def test_deals_ledger_and_disputes(small) -> None:
    out, _ = small
    deals = {d["deal_id"]: d for d in read(out, "deals")}
    changes = read(out, "deal_state_changes")
    ledger = read(out, "ledger_entries")
    disputes = read(out, "disputes")
    evidence = read(out, "dispute_evidence")
    history: dict[str, list[dict]] = defaultdict(list)
    for c in changes:
        assert c["deal_id"] in deals
        assert c["to_state"] in gen.DEAL_STATES
        history[c["deal_id"]].append(c)
    last_state = {}
    for deal_id, hs in history.items():
        hs.sort(key=lambda c: c["changed_at"])
        assert hs[0]["to_state"] == "CREATED" and hs[0]["from_state"] == ""
        for prev, cur in zip(hs, hs[1:]):
            assert cur["from_state"] == prev["to_state"]
        last_state[deal_id] = hs[-1]["to_state"]
    assert set(last_state) == set(deals)
    entries: dict[str, list[dict]] = defaultdict(list)
    for e in ledger:
        assert e["entry_type"] in gen.LEDGER_TYPES
        entries[e["deal_id"]].append(e)
        amount = int(e["amount_cents"])
        assert amount > 0 if e["entry_type"] == "HOLD" else amount < 0
    closed = 0
    for deal_id, d in deals.items():
        es = entries.get(deal_id, [])
        types = {e["entry_type"] for e in es}
        total = sum(int(e["amount_cents"]) for e in es)
        assert total >= 0
        if "HOLD" in types:
            assert [int(e["amount_cents"]) for e in es if e["entry_type"] == "HOLD"] == [int(d["amount_cents"])]
        if last_state[deal_id] == "REFUNDED" or (last_state[deal_id] == "SETTLED" and "HOLDBACK_RELEASE" in types):
            closed += 1
            assert total == 0, deal_id
        if "IMMEDIATE_RELEASE" in types and "HOLDBACK_RELEASE" in types:
            imm = -sum(int(e["amount_cents"]) for e in es if e["entry_type"] == "IMMEDIATE_RELEASE")
            hb = -sum(int(e["amount_cents"]) for e in es if e["entry_type"] == "HOLDBACK_RELEASE")
            pct = gen.TEMPLATES[int(d["template_version"])][2]
            assert imm == ((imm + hb) * pct + 50) // 100
    assert closed > 0.5 * len(deals)
    assert {d["template_version"] for d in deals.values()} == {"1", "2"}
    assert Counter(d["country_code"] for d in deals.values()).most_common(1)[0][0] == "MN"
    for x in disputes:
        assert x["deal_id"] in deals
        assert x["opened_at"] < (x["resolved_at"] or "9")
        if x["resolved_at"]:
            assert x["outcome"] in gen.DISPUTE_OUTCOMES and x["resolved_by"] in ("admin", "timer")
        else:
            assert not x["outcome"] and not x["resolved_by"]
    dispute_ids = {x["dispute_id"] for x in disputes}
    assert all(e["dispute_id"] in dispute_ids for e in evidence)
    assert 0.02 < len({x["deal_id"] for x in disputes}) / len(deals) < 0.2


def test_uuid_helper_matches_stdlib() -> None:
    rng = random.Random(1)
    for _ in range(1000):
        bits = rng.getrandbits(128)
        assert gen._uuid4_str(bits) == str(uuid.UUID(int=bits, version=4))


def test_progress_callback(tmp_path: Path) -> None:
    calls: list[tuple[str, int]] = []
    counts = gen.generate(tmp_path, **TINY, progress=lambda t, n: calls.append((t, n)))
    final = {}
    for table, n in calls:
        final[table] = n
    assert final == counts


@pytest.mark.parametrize(
    "bad",
    [
        {"tenants": 0},
        {"days": 0},
        {"scale": 0},
        {"scale": -1.0},
        {"tenants": "3"},
        {"start": "2025-06-02"},
        {"scale": float("nan")},
    ],
)
def test_bad_arguments(tmp_path: Path, bad: dict) -> None:
    with pytest.raises(ValueError):
        gen.generate(tmp_path, **{**TINY, **bad})


def test_large_settings_are_valid_arguments() -> None:
    """LARGE_SETTINGS (documented: >= 10 M events, >= 1 M bookings) are keyword arguments of generate()."""
    params = inspect.signature(gen.generate).parameters
    assert set(gen.LARGE_SETTINGS) <= set(params)
    assert list(params) == ["out_dir", "tenants", "days", "start", "seed", "scale", "progress"]


def test_cli_format_json_lists_the_rows_written(tmp_path: Path) -> None:
    """`kpi generate --format json`: stdout is the JSON of rows per table, equal to the files' data rows."""
    out = tmp_path / "gen"
    args = ["--tenants", "5", "--days", "3", "--scale", "0.2", "--seed", "3"]
    proc = subprocess.run(
        [sys.executable, "-m", "kpiwh.main", "generate", "--out", str(out), *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "cli")},
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["out"] == str(out) and doc["rows"]
    for table, rows in doc["rows"].items():
        with (out / f"{table}.csv").open(newline="", encoding="utf-8") as fh:
            assert sum(1 for _ in csv.reader(fh)) - 1 == rows, table

"""Privacy (seed 004): the PII guard (`kpi pii-check`, kpiwh.privacy) and the right to erasure (`kpi erase`)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from conftest import FIXTURES, ROOT, run_kpi
from kpiwh import erase as erase_mod
from kpiwh import partitions, privacy
from kpiwh.errors import UsageError

ALLOWLIST = ROOT / "tests" / "pii_allowlist.yml"


# --------------------------------------------------------------------------- rules, no database
@pytest.mark.parametrize(
    "column, expected",
    [
        ("email", "e-mail address"),
        ("customer_email", "e-mail address"),
        ("email_address", "e-mail address"),
        ("phone", "phone number"),
        ("contact_phone_number", "phone number"),
        ("mobile", "phone number"),
        ("given_name", "person's name"),
        ("first_name", "person's name"),
        ("lastname", "person's name"),
        ("family_name", "person's name"),
        ("full_name", "person's name"),
        ("surname", "person's name"),
        ("address", "postal address"),
        ("billing_address_line1", "postal address"),
        ("street", "postal address"),
        ("ip", "IP address"),
        ("client_ip_address", "IP address"),
        ("ipv4", "IP address"),
        ("date_of_birth", "date of birth"),
        # properties of the thing, not the thing; and words that merely contain a rule word
        ("email_type", None),
        ("emails_sent", None),
        ("mail_success_rate", None),
        ("phone_verified", None),
        ("is_email", None),
        ("email_hash", None),
        ("tenant_name", None),
        ("location_name", None),
        ("zip", None),
        ("shipping_days", None),
        ("tip_cents", None),
        ("mechanic_id", None),
        ("description", None),
    ],
)
def test_column_name_rule(column, expected):
    assert privacy.name_rule(column) == expected


@pytest.mark.parametrize(
    "text, emails, phones",
    [
        # the issue's note: plain, upper-case and obfuscated addresses; national and international numbers
        (
            "Call Jane Doe on 07700 900123 or mail jane.doe(at)example.com / JANE.DOE@EXAMPLE.COM, +44 20 7946 0958",
            ["jane.doe(at)example.com", "JANE.DOE@EXAMPLE.COM"],
            ["07700 900123", "+44 20 7946 0958"],
        ),
        ("write to ann.lee+spa@mail.example.net please", ["ann.lee+spa@mail.example.net"], []),
        (
            "ann [at] example [dot] com, ann at example dot co dot uk, ann {AT} example.org, ann @ example.com",
            ["ann [at] example [dot] com", "ann at example dot co dot uk", "ann {AT} example.org", "ann @ example.com"],
            [],
        ),
        (
            "call +1-555-123-4567 or (555) 123-4567 or 555.123.4567 on arrival",
            [],
            ["+1-555-123-4567", "(555) 123-4567", "555.123.4567"],
        ),
        (
            "0044 20 7946 0958 / +44 (0)20 7946 0958 / (020) 7946 0958 / 07700900123",
            [],
            ["0044 20 7946 0958", "+44 (0)20 7946 0958", "(020) 7946 0958", "07700900123"],
        ),
        ("+966-512345678; +966 5 1234 5678", [], ["+966-512345678", "+966 5 1234 5678"]),
        ('{"channel": "sms", "to": "555.123.4567"}', [], ["555.123.4567"]),
        ('{"note": "call\\n07700 900123"}', [], ["07700 900123"]),  # after an escaped newline in JSON text
        ("tel:+44 20 7946 0958", [], ["+44 20 7946 0958"]),
        ("ring +44 20 7946 0958 12 times", [], ["+44 20 7946 0958"]),  # the number after it is cut off
        # not PII: timestamps, dates, times, uuids, ids, amounts, percentages, a website, words with "at"
        ("2025-06-02T10:15:03+00:00", [], []),
        ("code 2025-06-02 at 10:15 (02.06.2025 10:15), 06/02/2025", [], []),
        ("00000000-0000-4000-8000-000000000001 a1b2c3d4-1234-5678-9abc-def012345678", [], []),
        ('{"n": 12345678, "amount_cents": 1999000, "order": "2025060212"}', [], []),
        ("Bring the 10% coupon, code SPRING; +18% vs last week; 1 234 567 points; $12.50", [], []),
        ("evt_00012345-0001 at 10:15; Same as last time: 45 min", [], []),
        ("user@localhost; meet at example.com; look at the cafe; price @ 3.50 each", [], []),
    ],
)
def test_content_patterns(text, emails, phones):
    assert privacy.find_emails(text) == emails
    assert privacy.find_phones(text, ("GB", "US")) == phones


def test_phone_candidates_need_libphonenumber_to_agree():
    # shaped like a number, but too short or too long for the country: libphonenumber says no
    assert privacy.find_phones("+44 1234 56") == []
    assert privacy.find_phones("+4412345678901234567") == []
    assert privacy.find_phones("+1 555 0101") == []  # "local only": no area code
    # a trunk-0 national number is read as a number of the given countries only
    assert privacy.find_phones("07700 900123", ("US",)) == []
    assert privacy.find_phones("07700 900123", ("US", "GB")) == ["07700 900123"]


def test_names_fold_and_match_as_whole_words():
    assert privacy.fold("Zoë ÓSúilleabháin Müller Łukasz Nguyễn Đức") == "zoe osuilleabhain muller lukasz nguyen duc"
    assert privacy.name_parts("Al", "van der Berg") == ["van der Berg", "Berg", "Al"]
    assert privacy.name_parts("J", "Ó Súilleabháin") == ["Ó Súilleabháin", "Súilleabháin"]
    assert privacy.name_parts(None, "") == [] and privacy.name_regex(None, " ") is None
    rx = privacy.name_regex("Zoë", "O'Brien")
    hits = [m.group(0) for m in rx.finditer(privacy.fold("Zoe's slot; ZOË OBrien, o’brien; not Zoëlle nor Brien"))]
    assert hits == ["zoe", "zoe", "obrien", "o'brien"]
    rx = privacy.name_regex("A.B+", "(x)")  # metacharacters are literal
    assert [m.group(0) for m in rx.finditer("a.b+ axb+ (x) x")] == ["a.b+", "(x)"]


def test_masked_values_do_not_repeat_the_pii():
    assert privacy.mask("john.doe@example.com") == "jo***@example.com"
    assert privacy.mask("+1-555-123-4567") == "+1-***67"
    assert privacy.mask("zoe") == "z***"


# --------------------------------------------------------------------------- the guard on the demo warehouse
def test_guard_passes_on_the_built_warehouse_and_flags_the_raw_pii(built_warehouse):
    with built_warehouse.connect() as conn:
        report = privacy.check(conn, ROOT, ALLOWLIST)
        assert report.ok, "\n".join(map(str, report.findings))
        assert not report.stale, f"stale allow-list entries: {report.stale}"
        # every row of every relation with a text or JSON column was read, none sampled
        rels = conn.execute("""
            select distinct c.table_schema, c.table_name from information_schema.columns c
            join information_schema.tables t using (table_schema, table_name)
            where c.table_schema in ('staging', 'intermediate', 'marts')
                and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb')
        """).fetchall()
        total = sum(conn.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in rels)
        assert report.relations >= 40 and report.rows_scanned == total > 10_000
        # the scrub is real: raw holds PII metadata keys and customer PII that the layers above drop
        keys = privacy.pii_metadata_keys(ROOT)
        assert conn.execute("select count(*) from raw.events_raw where metadata ?| %s", (keys,)).fetchone()[0] > 0
        raw = privacy.check(conn, ROOT, None, schemas=("raw",))
    flagged = {(f.relation, f.column, f.rule) for f in raw.findings}
    assert {("raw.customers", c, "name") for c in ("given_name", "family_name", "email", "phone")} <= flagged
    assert {
        ("raw.customers", "email", "email"),
        ("raw.customers", "phone", "phone"),
        ("raw.customers", "given_name", "person_name"),
        ("raw.customers", "family_name", "person_name"),
    } <= flagged


def _plant(conn) -> None:
    """A throwaway warehouse: one leak per rule, and one clean table full of near-misses."""
    conn.execute("""
        create schema raw; create schema staging; create schema marts;
        create table raw.customers (organization_id text, customer_id text, given_name text, family_name text);
        insert into raw.customers values ('o1', 'c1', 'Zoë', 'Okafor'), ('o1', 'c2', 'Jane', 'Doe');
        create table marts.leak_name (id int, customer_email text);
        create table marts.leak_email (id int, note text);
        insert into marts.leak_email values (1, 'fine'), (2, 'reach me at zoe.k@example.org'),
            (3, 'or ann.lee(at)example.com');
        create table marts.leak_phone (id int, details jsonb);
        insert into marts.leak_phone values (1, '{"text": "call +44 20 7946 0958"}'), (2, '{"n": [1, "07700 900123"]}');
        create table marts.leak_key (id int, payload jsonb);
        insert into marts.leak_key values (1, '{"device": {"ip_address": "10.0.0.7"}}');
        create table marts.leak_own_name (organization_id text, customer_id text, notes jsonb);
        insert into marts.leak_own_name values ('o1', 'c1', '["Zoe''s regular slot"]'), ('o2', 'c1', '["Zoë"]'),
            ('o1', 'c2', '["Zoë"]');
        create table marts.leak_full_name (id int, remark text);
        insert into marts.leak_full_name values (1, 'ask for JANE  doe'), (2, 'Jane alone'), (3, 'Doe, Jane');
        create table staging.stg_platform__events (event_id text, metadata jsonb);
        insert into staging.stg_platform__events values ('e1', '{"plan": "gold"}'), ('e2', '{"first_name": "Ann"}');
        create table marts.clean (email_type text, mail_success_rate numeric, note text, event_id text,
                                  occurred text, tenant_name text);
        insert into marts.clean values ('invite', 0.5, 'Running late — will text, 10% coupon; [name removed]',
            '00000000-0000-4000-8000-000000000001', '2025-06-02T10:15:03+00:00', 'Blue Door Spa');
    """)


EXPECTED = {
    ("marts.leak_name", "customer_email", "name"),
    ("marts.leak_email", "note", "email"),
    ("marts.leak_phone", "details", "phone"),
    ("marts.leak_key", "payload", "json_key"),
    ("marts.leak_own_name", "notes", "person_name"),
    ("marts.leak_full_name", "remark", "person_name"),
    ("staging.stg_platform__events", "metadata", "json_key"),
    ("staging.stg_platform__events", "metadata", "metadata_key"),
}


def test_guard_flags_each_rule_and_honours_the_allowlist(conn, tmp_path):
    _plant(conn)
    report = privacy.check(conn, ROOT, None)
    found = {(f.relation, f.column, f.rule): f for f in report.findings}
    assert set(found) == EXPECTED
    assert not report.ok
    assert report.rows_scanned == 15  # every row of the 8 relations with a text or JSON column
    # rows counted per column, samples redacted
    assert (found["marts.leak_email", "note", "email"].rows, found["marts.leak_email", "note", "email"].sample) == (
        2,
        "zo***@example.org",
    )
    assert found["marts.leak_phone", "details", "phone"].rows == 2
    assert found["marts.leak_own_name", "notes", "person_name"].rows == 1  # only o1/c1 is Zoë
    assert found["marts.leak_full_name", "remark", "person_name"].rows == 1  # given and family together
    meta = found["staging.stg_platform__events", "metadata", "metadata_key"]
    assert meta.detail.startswith("PII key 'first_name' survives in 1 row(s)")
    details = " ".join(f"{f.detail} {f.sample}" for f in report.findings)
    assert "zoe.k" not in details and "7946" not in details and "Zoe" not in details  # values are masked

    allow = tmp_path / "allow.yml"
    allow.write_text(
        "allow:\n"
        "  - {relation: marts.leak_email, column: note, rules: [email], reason: support inbox by design}\n"
        "  - {relation: marts.leak_*, column: details, rules: [phone], reason: test wildcard}\n"
        "  - {relation: marts.gone, column: x, rules: [name], reason: nothing left here}\n"
    )
    report = privacy.check(conn, ROOT, allow)
    assert {(f.relation, f.column, f.rule) for f in report.findings} == EXPECTED - {
        ("marts.leak_email", "note", "email"),
        ("marts.leak_phone", "details", "phone"),
    }
    assert [(f.column, a.reason) for f, a in report.allowed] == [
        ("note", "support inbox by design"),
        ("details", "test wildcard"),
    ]
    assert [a.relation for a in report.stale] == ["marts.gone"]

    # an allow-list entry without a reason, or with an unknown rule, is refused
    allow.write_text("allow:\n  - {relation: marts.leak_email, column: note, rules: [email]}\n")
    with pytest.raises(UsageError, match="has no reason"):
        privacy.check(conn, ROOT, allow)
    allow.write_text("allow:\n  - {relation: a.b, column: c, rules: [emails], reason: r}\n")
    with pytest.raises(UsageError, match="unknown rule"):
        privacy.check(conn, ROOT, allow)

    # the CLI: exit 1 with one line per finding; exit 0 once everything is allowed with a reason
    r = run_kpi("pii-check")
    assert r.returncode == 1
    assert "PII marts.leak_email.note (email): 2 row(s), e.g. zo***@example.org" in r.stderr.splitlines()
    assert "PII marts.leak_own_name.notes (person_name): 1 row(s), e.g. z***" in r.stderr.splitlines()
    assert "8 relations, 21 columns, 15 rows scanned: 8 finding(s), 0 allowed" in r.stdout
    r = run_kpi("pii-check", "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["rows_scanned"] == 15
    assert {
        "relation": "marts.leak_email",
        "column": "note",
        "rule": "email",
        "rows": 2,
        "sample": "zo***@example.org",
        "detail": "2 row(s), e.g. zo***@example.org",
    } in doc["findings"]
    r = run_kpi("pii-check", "--format", "yaml")
    assert (r.returncode, r.stderr.strip()) == (2, "error: --format: 'yaml' is not table or json")
    allow.write_text(
        "allow:\n"
        + "".join(
            f"  - {{relation: {rel}, column: {col}, rules: [{rule}], reason: planted by the test}}\n"
            for rel, col, rule in sorted(EXPECTED)
        )
    )
    r = run_kpi("pii-check", "--allowlist", str(allow))
    assert r.returncode == 0, r.stderr
    assert "0 finding(s), 8 allowed" in r.stdout


# --------------------------------------------------------------------------- free text scrubbed through the layers
ISSUE_NOTE = "Call Jane Doe on 07700 900123 or mail jane.doe(at)example.com / JANE.DOE@EXAMPLE.COM, +44 20 7946 0958"


@pytest.mark.slow
def test_notes_reach_the_marts_scrubbed_and_a_planted_leak_is_found(conn):
    """The bookings fixture with the issue's note (its customer renamed Jane Doe) and a note naming
    its customer: after a build no layer holds the PII and `kpi pii-check` finds nothing; a name
    that arrives later re-stages the customer's bookings; PII written straight into a mart is found."""
    no_tests = {"DBT_EXCLUDE_RESOURCE_TYPES": "test unit_test"}  # the unit test covers the rules
    assert run_kpi("load", str(FIXTURES / "bookings_small")).returncode == 0
    conn.execute(
        "update raw.customers set given_name = 'Jane', family_name = 'Doe' "
        "where (organization_id, customer_id) = ('org_a', 'c06')"
    )
    conn.execute("update raw.bookings set customer_note = %s where booking_id = 'b02'", (ISSUE_NOTE,))
    conn.execute("update raw.bookings set customer_note = 'Bruno prefers mornings' where booking_id = 'b03'")
    conn.execute(
        "update raw.bookings set customer_note = 'Gil''s regular slot, ask GIL PIRES' where booking_id = 'b01'"
    )  # b01 is c07's: Gil Pires
    raw_rows = conn.execute("select count(*) from raw.bookings").fetchone()[0]
    r = run_kpi("build", "--select", "+customer_analytics", env=no_tests)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]

    scrubbed = (
        "Call [name removed] [name removed] on [phone removed] or mail [email removed] / [email removed], "
        "[phone removed]"
    )
    notes_sql = "select booking_id, customer_note from staging.stg_bookings__bookings where booking_id <= 'b03'"
    assert dict(conn.execute(notes_sql).fetchall()) == {
        "b01": "[name removed]'s regular slot, ask [name removed] [name removed]",
        "b02": scrubbed,
        "b03": "Bruno prefers mornings",
    }  # b03 is c06's too: Bruno is not Jane Doe (c02 is Bruno Costa)
    assert conn.execute(
        "select booking_notes from marts.customer_analytics where (organization_id, customer_id) = ('org_a', 'c06')"
    ).fetchone()[0] == [scrubbed, "Bruno prefers mornings"]
    r = run_kpi("pii-check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 finding(s), 0 allowed" in r.stdout

    # a name loaded after its notes: the plain (incremental) build re-stages that customer's bookings
    conn.execute(
        "update raw.customers set given_name = 'Bruno', _loaded_at = now() "
        "where (organization_id, customer_id) = ('org_a', 'c06')"
    )
    r = run_kpi("build", "--select", "stg_bookings__bookings+,+customer_analytics", env=no_tests)
    assert r.returncode == 0, r.stderr[-2000:]
    rescrubbed = scrubbed.replace("[name removed] [name removed]", "Jane [name removed]")  # now Bruno Doe
    assert dict(conn.execute(notes_sql).fetchall()) == {
        "b01": "[name removed]'s regular slot, ask [name removed] [name removed]",
        "b02": rescrubbed,
        "b03": "[name removed] prefers mornings",
    }
    assert conn.execute(
        "select booking_notes from marts.customer_analytics where (organization_id, customer_id) = ('org_a', 'c06')"
    ).fetchone()[0] == [rescrubbed, "[name removed] prefers mornings"]
    assert conn.execute("select count(*) from staging.stg_bookings__bookings").fetchone()[0] == raw_rows
    assert run_kpi("pii-check").returncode == 0

    # PII planted straight into a stored profile column is found there and in the mart view
    # over it: exit 1, each column named (the first note replaced: total_notes must keep
    # matching the array, a constraint)
    conn.execute(
        "update intermediate.int_customer_analytics "
        "set booking_notes = jsonb_set(booking_notes, '{0}', '\"ring 07700 900123\"') "
        "where (organization_id, customer_id) = ('org_a', 'c06')"
    )
    r = run_kpi("pii-check")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    for relation in ("intermediate.int_customer_analytics", "marts.customer_analytics"):
        assert f"PII {relation}.booking_notes (phone): 1 row(s), e.g. 077***23" in lines
    assert "2 finding(s)" in r.stdout


# --------------------------------------------------------------------------- right to erasure
def _holders(conn, value: str) -> dict[str, int]:
    """Every table or view, in every schema, with a text column holding ``value``: rows per relation."""
    rels = conn.execute("""
        select c.table_schema, c.table_name, array_agg(c.column_name::text order by c.ordinal_position)
        from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where c.table_schema not in ('pg_catalog', 'information_schema')
            and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb')
        group by 1, 2
    """).fetchall()
    out = {}
    for schema, table, cols in rels:
        cond = " or ".join(f'"{c}"::text like %s' for c in cols)
        n = conn.execute(
            f'select count(*) from "{schema}"."{table}" where {cond}', [f"%{value}%"] * len(cols)
        ).fetchone()[0]
        if n:
            out[f"{schema}.{table}"] = n
    return out


@pytest.mark.slow
def test_erase_removes_the_user_everywhere_and_rebuilds_only_what_they_fed(conn, tmp_path):
    data = tmp_path / "data"
    assert run_kpi("generate", "--out", str(data), "--tenants", "5", "--days", "14").returncode == 0
    assert run_kpi("load", str(data)).returncode == 0
    r = run_kpi("build", "--select", "+metrics_daily_engagement +metrics_cohort_retention +fct_customer_activity")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]

    # a loyalty customer (the marts rename user_id to customer_id) active on 2-3 of the 14 days
    user, first_day = conn.execute("""
        select user_id, min((occurred_at at time zone 'UTC')::date) from raw.events_raw
        where event_domain = 'loyalty' and user_id is not null
        group by user_id
        having count(distinct (occurred_at at time zone 'UTC')::date) between 2 and 3
            and min((occurred_at at time zone 'UTC')::date) > '2025-06-02'
        order by user_id limit 1
    """).fetchone()
    user_days = {
        d
        for (d,) in conn.execute(
            "select distinct (occurred_at at time zone 'UTC')::date from raw.events_raw where user_id = %s", (user,)
        )
    }
    raw_dau_sql = (
        "select (occurred_at at time zone 'UTC')::date, count(distinct user_id) from raw.events_raw "
        "where user_id is not null group by 1"
    )
    raw_dau_before = dict(conn.execute(raw_dau_sql).fetchall())
    dau_before = dict(conn.execute("select metric_date, dau from marts.metrics_daily_engagement").fetchall())
    assert dau_before == raw_dau_before  # hand-check: the mart's DAU is distinct user_id per UTC day in raw
    cohort_before = conn.execute(
        "select cohort_size from marts.metrics_cohort_retention where cohort_grain = 'day' and cohort_start = %s",
        (first_day,),
    ).fetchone()[0]
    holders = _holders(conn, user)
    assert {"raw.events_raw", "staging.stg_platform__events", "marts.fct_customer_activity"} <= set(holders)

    r = run_kpi("erase", "--user-id", user, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "(dry run)" in r.stdout and "would remove" in r.stdout
    assert _holders(conn, user) == holders  # a dry run changes nothing

    r = run_kpi("erase", "--user-id", user)
    assert r.returncode == 0, r.stdout + r.stderr
    raw_rows = holders["raw.events_raw"]
    assert re.search(rf"raw\.events_raw\s+│\s+{raw_rows}\s", r.stdout)
    assert f"user {user} has rows on {len(user_days)} day(s)" in r.stdout
    last = max(dau_before)
    assert re.search(
        rf"rebuilt \d+ model\(s\) over days {min(user_days)} .. {last + timedelta(days=1)} \(exclusive\)", r.stdout
    )

    # nowhere: no table or view in any schema holds the id (the receipt keeps a hash)
    assert _holders(conn, user) == {}
    assert conn.execute(
        "select status, rows_removed from ops.erasure_receipts where subject_sha256 = %s", (erase_mod.user_hash(user),)
    ).fetchall() == [("done", sum(holders_removed(r.stdout)))]
    dau_after = dict(conn.execute("select metric_date, dau from marts.metrics_daily_engagement").fetchall())
    assert set(dau_after) == set(dau_before) and max(dau_after) == last
    for day, dau in dau_before.items():
        assert dau_after[day] == dau - (1 if day in user_days else 0), day
    assert dau_after == dict(conn.execute(raw_dau_sql).fetchall())
    assert (
        conn.execute(
            "select cohort_size from marts.metrics_cohort_retention where cohort_grain = 'day' and cohort_start = %s",
            (first_day,),
        ).fetchone()[0]
        == cohort_before - 1
    )

    # idempotent: a second erase finds nothing and changes nothing
    snapshot = conn.execute(
        "select md5(string_agg(t::text, '|' order by metric_date)) from marts.metrics_daily_engagement t"
    ).fetchone()[0]
    r = run_kpi("erase", "--user-id", user)
    assert r.returncode == 0, r.stderr
    assert f"nothing held for user {user} (already erased at " in r.stdout
    assert "rebuilt" not in r.stdout
    assert (
        conn.execute(
            "select md5(string_agg(t::text, '|' order by metric_date)) from marts.metrics_daily_engagement t"
        ).fetchone()[0]
        == snapshot
    )
    assert conn.execute("select count(*) from ops.erasure_receipts").fetchone()[0] == 1

    # an id never seen: a clear message, exit 0 (an erasure request is satisfied)
    r = run_kpi("erase", "--user-id", "u_never_seen")
    assert r.returncode == 0 and r.stdout.strip() == "nothing held for user u_never_seen: nothing to erase"
    r = run_kpi("erase", "--user-id", "  ")
    assert r.returncode == 2 and r.stderr.strip() == "error: --user-id: empty id"


def holders_removed(stdout: str) -> list[int]:
    """The row counts of the `kpi erase` table (``│ schema.table │ n │``)."""
    return [int(m.replace(",", "")) for m in re.findall(r"│\s*\w+\.\w+\s*│\s*([\d,]+)\s*│", stdout)]


def test_erase_reports_parquet_archives_that_still_hold_the_user(conn, tmp_path):
    import pyarrow as pa  # noqa: PLC0415  (pyarrow: ~0.2 s import, only this test writes Parquet)
    import pyarrow.parquet as pq  # noqa: PLC0415  (pyarrow, as above)

    conn.execute(partitions.OPS_DDL)
    held = tmp_path / "events_raw_2025_01.parquet"
    pq.write_table(pa.table({"event_id": ["e1", "e2", "e3"], "user_id": ["u1", None, "u1"]}), held)
    clean = tmp_path / "events_raw_2025_02.parquet"
    pq.write_table(pa.table({"event_id": ["e4"], "user_id": ["u2"]}), clean)
    for name, path in (
        ("events_raw_2025_01", held),
        ("events_raw_2025_02", clean),
        ("events_raw_2025_03", tmp_path / "deleted.parquet"),
    ):  # a file since removed
        conn.execute(
            "insert into ops.pruned_partitions values (%s, '2025-01-01', '2025-02-01', 1, %s)", (name, str(path))
        )
    assert erase_mod._exports_holding(conn, "u1") == [(held, 2)]
    assert erase_mod._exports_holding(conn, "u3") == []

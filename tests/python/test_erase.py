"""Right to erasure (`kpi erase`) of a bookings customer and of a marketplace party, and its build lock.

The platform/loyalty user case is in test_privacy.py. One database holds both
small fixtures (bookings_small, marketplace_small) built once; each step checks
what was removed against the fixture's hand-read rows, then searches every
text and JSON column of every schema (raw, staging, intermediate, marts,
snapshots, ops, config) for what identifies the subject.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from conftest import FIXTURES, run_kpi
from kpiwh import erase as erase_mod
from kpiwh import lock

AS_OF = "2025-03-31T00:00:00+00:00"
SELECT = [
    "--select",
    "+customer_analytics +fct_appointments_by_location_daily stg_core__locations stg_core__tenants",
    "--select",
    "+fct_deals",
]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"


def _text_columns(conn):
    return conn.execute("""
        select c.table_schema, c.table_name, array_agg(c.column_name::text order by c.ordinal_position),
               array_agg(c.data_type::text order by c.ordinal_position)
        from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where c.table_schema not in ('pg_catalog', 'information_schema')
            and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb')
        group by 1, 2
    """).fetchall()


def _found(conn, value: str, *, exact: bool, org: str | None = None) -> dict[str, int]:
    """Rows per relation (every schema, tables and views) where a text column equals ``value``
    (``exact``) or contains it, or a JSON column contains it; with ``org``, only rows whose
    ``organization_id`` is ``org`` (ids unique within an organization)."""
    out = {}
    for schema, table, cols, types in _text_columns(conn):
        if org is not None and "organization_id" not in cols:
            continue
        conds, params = [], []
        for c, t in zip(cols, types):
            if exact and t not in ("json", "jsonb"):
                conds.append(f'"{c}" = %s')
                params.append(value)
            else:
                conds.append(f'"{c}"::text like %s')
                params.append(f"%{value}%")
        where = f"({' or '.join(conds)})" + (" and organization_id = %s" if org else "")
        n = conn.execute(
            f'select count(*) from "{schema}"."{table}" where {where}', params + ([org] if org else [])
        ).fetchone()[0]
        if n:
            out[f"{schema}.{table}"] = n
    return out


def _counts(conn) -> dict[str, int]:
    tables = [
        "raw.customers",
        "raw.bookings",
        "raw.payments",
        "raw.referral_profiles",
        "raw.deals",
        "staging.stg_bookings__bookings",
        "staging.stg_bookings__payments",
        "intermediate.int_customer_facts",
        "intermediate.int_payments_attributed",
        "marts.customer_analytics",
        "marts.fct_appointments_by_location_daily",
        "marts.fct_deals",
    ]
    return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def _appointment_totals(conn, org: str) -> tuple:
    return conn.execute(
        "select sum(total_bookings), sum(completed_payments), sum(completed_revenue_cents), sum(new_customers) "
        "from marts.fct_appointments_by_location_daily where organization_id = %s",
        (org,),
    ).fetchone()


def _customer(conn, org: str, customer: str):
    return conn.execute(
        "select total_bookings, total_revenue_cents, first_booking_at from marts.customer_analytics "
        "where organization_id = %s and customer_id = %s",
        (org, customer),
    ).fetchone()


@pytest.mark.slow
def test_erase_a_bookings_customer_and_a_marketplace_party_everywhere(conn, pg_server):
    _ok(run_kpi("load", str(FIXTURES / "bookings_small")))
    _ok(run_kpi("load", str(FIXTURES / "marketplace_small")))
    _ok(run_kpi("build", *SELECT, "--vars", f'{{as_of: "{AS_OF}"}}'))

    # org_a's c01 is Ana Silva (bookings b13 b14 b15, payments p01 p02); org_b's c01 is someone else
    pii = ["Silva", "ana.silva@example.com", "910 000 001", "Window seat"]  # name, e-mail, phone, a note
    assert _found(conn, "Silva", exact=False) == {"raw.customers": 1}
    assert _found(conn, "c01", exact=True, org="org_a")
    before = _counts(conn)
    totals_a, totals_b = _appointment_totals(conn, "org_a"), _appointment_totals(conn, "org_b")
    other_c01 = _customer(conn, "org_b", "c01")
    assert other_c01[0] == 2

    # a build holds the lock: exit 1, one line, nothing touched
    with psycopg.connect(
        host=str(pg_server.socket_dir), user="postgres", dbname=conn.info.dbname, autocommit=True
    ) as holder:
        holder.execute("select pg_advisory_lock(%s, %s)", lock.LOCK_KEY)
        r = run_kpi("erase", "--organization-id", "org_a", "--customer-id", "c01")
        assert r.returncode == 1
        assert r.stderr.count("\n") == 1 and "the warehouse is locked by database session" in r.stderr
        assert "Traceback" not in r.stderr
        assert _counts(conn) == before
        assert conn.execute("select to_regclass('ops.erasure_receipts')").fetchone()[0] is None

    r = run_kpi("erase", "--organization-id", "org_a", "--customer-id", "c01", "--dry-run")
    _ok(r)
    assert "would remove" in r.stdout and _counts(conn) == before

    r = run_kpi("erase", "--organization-id", "org_a", "--customer-id", "c01")
    _ok(r)
    assert "customer c01 of organization org_a" in r.stdout
    after = _counts(conn)
    # hand-read from the fixture: 1 customer, 3 bookings, 2 payments (one completed: 4,500 cents)
    assert {t: before[t] - after[t] for t in before if before[t] != after[t]} == {
        "raw.customers": 1,
        "raw.bookings": 3,
        "raw.payments": 2,
        "staging.stg_bookings__bookings": 3,
        "staging.stg_bookings__payments": 2,
        "intermediate.int_customer_facts": 1,
        "intermediate.int_payments_attributed": 2,
        "marts.customer_analytics": 1,
        "marts.fct_appointments_by_location_daily": 2,
    }  # 2025-03-10 at loc_a1 and 2025-03-17 at loc_a2: c01 only
    # the aggregates were rebuilt without the customer: c01 was new on 2025-03-03 (b13 accepted)
    assert _appointment_totals(conn, "org_a") == (totals_a[0] - 3, totals_a[1] - 1, totals_a[2] - 4500, totals_a[3] - 1)
    assert _appointment_totals(conn, "org_b") == totals_b
    assert _customer(conn, "org_b", "c01") == other_c01  # the namesake in another organization is kept
    for value in pii:
        assert _found(conn, value, exact=False) == {}, value
    assert _found(conn, "c01", exact=True, org="org_a") == {}
    for value in ("b13", "b14", "b15", "p01", "p02"):
        assert _found(conn, value, exact=True) == {}, value
    subj = erase_mod.subject("customer", "org_a", "c01")
    ((kind, status, rows, removed, completed),) = conn.execute(
        "select subject_kind, status, rows_removed, removed, completed_at is not null "
        "from ops.erasure_receipts where subject_sha256 = %s",
        (subj.sha256,),
    ).fetchall()
    assert (kind, status, completed) == ("customer", "done", True)
    assert removed["raw.customers"] == 1 and removed["raw.bookings"] == 3 and removed["raw.payments"] == 2
    assert rows == sum(removed.values())

    # a rebuild that did not finish (process killed after the commit) stays pending: the next build completes it
    rid = conn.execute(
        "insert into ops.erasure_receipts (subject_kind, subject_sha256, status, rows_removed, removed, rebuild) "
        "values ('customer', repeat('0', 64), 'pending', 1, '{}', %s) returning receipt_id",
        ('{"select": ["customer_analytics"], "start": null, "end": null}',),
    ).fetchone()[0]
    built_at = conn.execute("select max(started_at) from ops.etl_job_runs").fetchone()[0]
    r = run_kpi("build", "--select", "stg_core__tenants")
    _ok(r)
    assert f"completed the pending rebuild of erasure receipt {rid}" in r.stderr
    assert conn.execute("select status from ops.erasure_receipts where receipt_id = %s", (rid,)).fetchone()[0] == "done"
    assert (
        conn.execute(
            "select count(*) from ops.etl_job_run_nodes n join ops.etl_job_runs j using (invocation_id) "
            "where j.started_at > %s and n.unique_id like %s",
            (built_at, "%.customer_analytics"),
        ).fetchone()[0]
        == 1
    )  # customer_analytics was rebuilt before the selected build
    conn.execute("delete from ops.erasure_receipts where receipt_id = %s", (rid,))

    # idempotent
    r = run_kpi("erase", "--organization-id", "org_a", "--customer-id", "c01")
    _ok(r)
    assert "nothing held for customer c01 of organization org_a (already erased at " in r.stdout
    assert _counts(conn) == after
    assert conn.execute("select count(*) from ops.erasure_receipts").fetchone()[0] == 1

    # a marketplace seller: the deals stay (escrow records of the other party), the id goes
    deals = conn.execute("select count(*) from raw.deals where buyer_id = 'usr_s1' or seller_id = 'usr_s1'").fetchone()[
        0
    ]
    assert deals >= 2
    fct_deals = conn.execute("select * from marts.fct_deals order by deal_id").fetchall()
    r = run_kpi("erase", "--party-id", "usr_s1")
    _ok(r)
    assert conn.execute("select count(*) from raw.deals").fetchone()[0] == before["raw.deals"]
    assert conn.execute("select count(*) from raw.deals where seller_id is null").fetchone()[0] == deals
    assert _found(conn, "usr_s1", exact=False) == {}
    assert conn.execute("select * from marts.fct_deals order by deal_id").fetchall() == fct_deals
    r = run_kpi("erase", "--party-id", "usr_s1")
    _ok(r)
    assert "nothing held for party usr_s1 (already erased at " in r.stdout
    r = run_kpi("erase", "--party-id", "usr_s1", "--format", "json")  # the same, for scripts
    _ok(r)
    doc = json.loads(r.stdout)
    assert (doc["subject_kind"], doc["rows_deleted"], doc["deleted"]) == ("party", 0, {})
    assert doc["previously_erased_at"] is not None and "usr_s1" not in r.stdout
    # no receipt holds an identifier: only kinds, hashes, table names and counts
    for value in ("c01", "org_a", "usr_s1"):
        assert not _found(conn, value, exact=False).get("ops.erasure_receipts"), value


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give exactly one subject: --user-id, --organization-id with --customer-id, or --party-id"),
        (
            ["--user-id", "u1", "--party-id", "p1"],
            "give exactly one subject: --user-id, --organization-id with "
            "--customer-id, or --party-id (got --user-id, --party-id)",
        ),
        (["--customer-id", "c01"], "--customer-id needs --organization-id (a customer id is unique only within it)"),
        (["--organization-id", "org_a"], "--organization-id needs --customer-id (a bookings customer is ORG + ID)"),
        (["--organization-id", " ", "--customer-id", "c01"], "--organization-id: empty id"),
        (["--party-id", ""], "--party-id: empty id"),
    ],
)
def test_erase_bad_subject_is_one_line_exit_2(args, message):
    r = run_kpi("erase", *args)
    assert r.returncode == 2 and r.stderr == f"error: {message}\n"


def test_subject_hash_never_equals_the_id_and_separates_kinds():
    a, b = erase_mod.subject("customer", "org_a", "c01"), erase_mod.subject("customer", "org_b", "c01")
    assert a.sha256 != b.sha256 and len(a.sha256) == 64 and "c01" not in a.sha256
    assert erase_mod.subject("user", "x").sha256 != erase_mod.subject("party", "x").sha256

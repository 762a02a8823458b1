"""Nulls never break a build: every nullable column of the raw contract, null in some rows of every product.

One database for the module, built once: ``kpi generate`` data (10 tenants — every product,
two partners, referral profiles, disputes with evidence — over 14 days) in which EVERY nullable column of EVERY
raw table (read from the contract's own catalog after ``kpi init``, so a column added to
the DDL is covered without touching this test) is nulled in a deterministic pattern:
column j of a table is null in the rows i with ``(i + j) % p == 0`` (p = 6, or fewer for
a table of fewer rows) and every column is null in every 18th row. ``events_raw`` counts
its rows per ``event_domain``, so every product that lives in the event log (loyalty,
partners, orders, payments, calls, ...) gets its own nulls. That data goes through
``kpi load`` and one whole ``kpi build`` (every model, every data and unit test, the
alerts included), which must pass and publish.

Then: the nulls are grouped under the explicit member 'unknown' where a mart groups by a
text dimension (docs/DECISIONLOG.md "Unknown dimension members"), never dropped — each
such mart's totals equal the rows it counts in staging, hand-counted here; and a late
event that names an order's service code moves the order's earlier day from 'unknown'
to that code through a plain incremental build (the last test: it writes).
"""

from __future__ import annotations

import csv
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from conftest import admin_conn, run_kpi, write_csv
from kpiwh import contract
from kpiwh.generate import generate

#: the generated data set: small, every product present (split_tenant_kinds(10) gives every kind)
GEN = {"tenants": 10, "days": 14, "seed": 13}
#: column j of a table is null in the rows i with (i + j) % NULL_PERIOD == 0 ...
NULL_PERIOD = 6
#: ... and every nullable column in the rows i with i % ALL_NULL_PERIOD == ALL_NULL_PERIOD - 1
ALL_NULL_PERIOD = 3 * NULL_PERIOD


def nullable_columns(conn: psycopg.Connection) -> dict[str, list[str]]:
    """The nullable columns of every raw contract table, from the catalog.

    Args:
        conn (psycopg.Connection): a connection to a database where ``kpi init`` ran.

    Returns:
        dict[str, list[str]]: table name -> its columns without NOT NULL (DDL order).
    """
    return {
        t.name: [c.name for c in t.columns if not c.required and c.default is None and c.name not in t.primary_key]
        for t in contract.tables(conn).values()
    }


def null_out(src: Path, dst: Path, nullable: dict[str, list[str]]) -> dict[tuple[str, str, str], int]:
    """Copy every ``<table>.csv`` of ``src`` to ``dst`` with nullable columns nulled in a fixed pattern.

    Rows are counted per table (per ``event_domain`` for ``events_raw``); column j of
    ``nullable[table]`` is emptied (an empty CSV field is NULL for ``kpi load``) in rows i
    with ``(i + j) % p == 0``, p = min(NULL_PERIOD, rows) but at least 2, and every nullable
    column in rows i with ``i % ALL_NULL_PERIOD == ALL_NULL_PERIOD - 1`` when the group has
    at least ALL_NULL_PERIOD rows.

    Args:
        src (Path): folder of generated CSVs (``kpi generate``).
        dst (Path): folder to write to (created).
        nullable (dict[str, list[str]]): nullable columns per table (:func:`nullable_columns`).

    Returns:
        dict[tuple[str, str, str], int]: ``(table, group, column)`` -> values nulled (group: the
        event domain for ``events_raw``, else ``""``), for every column that held values in the group.
    """
    dst.mkdir(parents=True, exist_ok=True)
    nulled: dict[tuple[str, str, str], int] = {}
    for path in sorted(src.glob("*.csv")):
        table = path.stem
        with path.open(newline="", encoding="utf-8") as fh:
            header, *rows = list(csv.reader(fh))
        cols = [(j, header.index(c), c) for j, c in enumerate(nullable[table])]
        group_of = (lambda r, h=header: r[h.index("event_domain")]) if table == "events_raw" else (lambda r: "")
        sizes: dict[str, int] = {}
        for r in rows:
            sizes[group_of(r)] = sizes.get(group_of(r), 0) + 1
        seen: dict[str, int] = {}
        for r in rows:
            g = group_of(r)
            i = seen[g] = seen.get(g, -1) + 1
            p = max(2, min(NULL_PERIOD, sizes[g]))
            all_null = sizes[g] >= ALL_NULL_PERIOD and i % ALL_NULL_PERIOD == ALL_NULL_PERIOD - 1
            for j, ci, name in cols:
                if r[ci] != "":
                    key = (table, g, name)
                    nulled.setdefault(key, 0)
                    if (i + j) % p == 0 or all_null:
                        nulled[key] += 1
                        r[ci] = ""
        with (dst / path.name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    return nulled


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-4000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def nulled_build(pg_server, tmp_path_factory):
    """The null-laden data set loaded and built once; yields (connection, nulled counts, build result)."""
    name = "t_nulls_" + uuid.uuid4().hex[:8]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    old = os.environ.get("KPI_PGDATABASE")
    os.environ["KPI_PGDATABASE"] = name
    try:
        _ok(run_kpi("init"))
        with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=name, autocommit=True) as conn:
            generated = tmp_path_factory.mktemp("nulls_generated")
            generate(generated, **GEN)
            data = tmp_path_factory.mktemp("nulls_raw")
            nulled = null_out(generated, data, nullable_columns(conn))
            _ok(run_kpi("load", str(data)))
            build = run_kpi("build")
            yield conn, nulled, build
    finally:
        if old is None:
            os.environ.pop("KPI_PGDATABASE", None)
        else:
            os.environ["KPI_PGDATABASE"] = old
        with admin_conn(pg_server) as c:
            c.execute(f'drop database if exists "{name}" with (force)')


def test_every_nullable_column_is_null_in_some_rows_of_every_product(nulled_build):
    conn, nulled, _ = nulled_build
    nullable = nullable_columns(conn)
    # every nullable column that the generator fills, in every table and every event domain,
    # was emptied in some rows (and kept in others: the rest of the build still has values)
    missed = sorted(k for k, n in nulled.items() if n == 0)
    assert not missed, f"columns never nulled: {missed}"
    for table, cols in nullable.items():
        for col in cols:
            row = conn.execute(
                f'select count(*) filter (where "{col}" is null), count(*) from raw."{table}"'
            ).fetchone()
            assert row[1] > 0, f"raw.{table} is empty: the generated data set lost a product"
            assert row[0] > 0, f"raw.{table}.{col} holds no null"
    # every domain of the event log, and every nullable column the generator fills there
    domains = {d for (t, d, _c) in nulled if t == "events_raw"}
    assert {"loyalty", "partners", "orders", "payments", "calls", "content", "notifications"} <= domains
    for (table, group, col), n in nulled.items():
        if table == "events_raw":
            held = conn.execute(
                f'select count(*) from raw.events_raw where event_domain = %s and "{col}" is null', (group,)
            ).fetchone()[0]
            assert held >= n, f"events_raw.{col} in domain {group}: {held} nulls loaded, {n} written"


def test_the_whole_build_passes_and_publishes(nulled_build):
    conn, _, build = nulled_build
    _ok(build)
    assert "FAILED" not in build.stdout
    # published (a first build publishes only when every node passed): the alert chain that
    # one null provider used to skip is there, with an evaluation
    for rel in (
        "marts.fct_alerts",
        "marts.fct_alert_events",
        "marts.metrics_daily_payments",
        "marts.metrics_daily_deals",
        "marts.customer_analytics",
        "marts.fct_pilot_daily_metrics",
        "marts.fct_partner_metrics_daily",
        "marts.rpt_pilot_kpis",
    ):
        assert conn.execute("select to_regclass(%s)", (rel,)).fetchone()[0] is not None, f"{rel} not published"
    assert conn.execute("select count(*) from marts.metrics_daily_payments").fetchone()[0] > 0


def test_payments_group_nulls_under_unknown_and_drop_nothing(nulled_build):
    conn, _, _ = nulled_build
    staged = conn.execute("""
        select count(*),
               count(*) filter (where provider is null),
               count(*) filter (where country_code is null)
        from staging.stg_platform__events
        where event_domain = 'payments' and event_type = 'payment_attempted'""").fetchone()
    mart = conn.execute("""
        select sum(attempts),
               coalesce(sum(attempts) filter (where provider = 'unknown'), 0),
               coalesce(sum(attempts) filter (where country_code = 'unknown'), 0),
               count(*) filter (where provider is null or country_code is null)
        from marts.metrics_daily_payments""").fetchone()
    assert staged[1] > 0 and staged[2] > 0, "the data set has no payment attempt without provider/country"
    assert mart == (staged[0], staged[1], staged[2], 0)
    # the alert subject of a provider-less payment is named, not null
    subjects = {
        r[0]
        for r in conn.execute(
            "select distinct subject from intermediate.int_alert_metric_values "
            "where source_model = 'metrics_daily_payments'"
        )
    }
    assert any(s.endswith("/unknown") for s in subjects) and any(s.startswith("unknown/") for s in subjects)


def test_calls_fulfillment_and_deals_group_nulls_under_unknown(nulled_build):
    conn, _, _ = nulled_build
    calls = conn.execute(
        "select count(*), count(*) filter (where service_code is null) from intermediate.int_calls_lifecycle"
    ).fetchone()
    mart = conn.execute(
        "select sum(calls_attempted), coalesce(sum(calls_attempted) filter "
        "(where service_code = 'unknown'), 0), count(*) filter (where service_code is null) "
        "from marts.metrics_daily_calls"
    ).fetchone()
    assert calls[1] > 0 and mart == (calls[0], calls[1], 0)

    # an order's events count under the order's service code, taken from any of its events
    created = conn.execute("""
        select count(*), count(*) filter (where coalesce(o.service_code, e.service_code) is null)
        from staging.stg_platform__events as e
        left join intermediate.int_orders_lifecycle as o on e.entity_id = o.order_id
        where e.event_domain = 'orders' and e.event_type = 'order_created'""").fetchone()
    mart = conn.execute(
        "select sum(orders_created), coalesce(sum(orders_created) filter "
        "(where service_code = 'unknown'), 0), count(*) filter (where service_code is null) "
        "from marts.metrics_daily_fulfillment"
    ).fetchone()
    assert created[1] > 0 and mart == (created[0], created[1], 0)

    deals = conn.execute(
        "select count(*), count(*) filter (where category is null), "
        "count(*) filter (where country_code is null), "
        "count(*) filter (where template_version is null) "
        "from staging.stg_marketplace__deals"
    ).fetchone()
    mart = conn.execute("""
        select sum(deals_created),
               coalesce(sum(deals_created) filter (where category = 'unknown'), 0),
               coalesce(sum(deals_created) filter (where country_code = 'unknown'), 0),
               coalesce(sum(deals_created) filter (where template_version is null), 0),
               count(*) filter (where category is null or country_code is null)
        from marts.metrics_daily_deals""").fetchone()
    assert min(deals[1:]) > 0 and mart == (*deals, 0)


def test_loyalty_and_bookings_keep_rows_without_tenant_or_location(nulled_build):
    conn, _, _ = nulled_build
    # loyalty events without a tenant or a location are counted under 'unknown', not dropped
    staged = conn.execute("""
        select count(*), count(*) filter (where tenant_id is null), count(*) filter (where location_id is null)
        from staging.stg_platform__events
        where event_domain = 'loyalty' and event_type in
            ('points_issued', 'points_redeemed', 'points_adjusted', 'transaction_reversed')""").fetchone()
    mart = conn.execute("""
        select sum(transactions_total),
               coalesce(sum(transactions_total) filter (where tenant_id = 'unknown'), 0),
               coalesce(sum(transactions_total) filter (where location_id = 'unknown'), 0),
               count(*) filter (where tenant_id is null or location_id is null)
        from marts.fct_pilot_daily_metrics""").fetchone()
    assert staged[1] > 0 and staged[2] > 0 and mart == (*staged, 0)

    # every booking counts on a location row; those without one on 'unknown'
    bookings = conn.execute(
        "select count(*), count(*) filter (where location_id is null) from staging.stg_bookings__bookings"
    ).fetchone()
    mart = conn.execute(
        "select sum(total_bookings), coalesce(sum(total_bookings) filter "
        "(where location_id = 'unknown'), 0), count(*) filter (where location_id is null) "
        "from marts.fct_appointments_by_location_daily"
    ).fetchone()
    assert bookings[1] > 0 and mart == (*bookings, 0)


def test_a_late_event_naming_an_orders_service_code_moves_its_earlier_days(nulled_build, tmp_path):
    """Incremental: an order created without a service code counts under 'unknown' on its day; an
    event two days later naming the code moves that day's count to the code (plain incremental builds)."""
    conn, _, _ = nulled_build
    day = conn.execute("select min(metric_date) from marts.metrics_daily_fulfillment").fetchone()[0]
    created_at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    order_id = "ord_late_code_" + uuid.uuid4().hex[:8]
    select = [
        "--select",
        "stg_platform__events int_orders_lifecycle int_order_decisions_paired metrics_daily_fulfillment",
    ]

    def created(code):
        row = conn.execute(
            "select orders_created from marts.metrics_daily_fulfillment where metric_date = %s and service_code = %s",
            (day, code),
        ).fetchone()
        return row[0] if row else 0

    def load_event(name, at, event_type, service_code):
        path = write_csv(
            tmp_path / name / "events_raw.csv",
            ["event_id", "occurred_at", "received_at", "event_domain", "event_type", "entity_id", "service_code"],
            [[str(uuid.uuid4()), at.isoformat(), at.isoformat(), "orders", event_type, order_id, service_code]],
        )
        _ok(run_kpi("load", str(path)))
        _ok(run_kpi("build", *select, env={"DBT_INDIRECT_SELECTION": "cautious"}))

    unknown_before, tarot_before = created("unknown"), created("tarot")
    load_event("created", created_at, "order_created", None)
    assert (created("unknown"), created("tarot")) == (unknown_before + 1, tarot_before)
    # two days later: the created day is recomputed because the order is, not because the event is on it
    load_event("named", created_at + timedelta(days=2), "order_submitted", "tarot")
    assert (created("unknown"), created("tarot")) == (unknown_before, tarot_before + 1)

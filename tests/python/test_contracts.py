"""Model contracts (DECISIONLOG "Contracts"): declared columns and types, invariants as constraints.

* every constraint the yml declares on a table or incremental model exists in the
  published warehouse (not null on the column, each named check on the table),
  written by the project's create_table_as after ``create table ... as``;
* an incremental table that lacks a declared constraint (created before it was
  declared) gets it on its next incremental run (post-hook kpi_ensure_constraints),
  and a row already there that breaks it fails that run, naming the constraint,
  with the table left as it was;
* an incremental table that lacks an index of its ``indexes`` config gets it on
  its next incremental run (post-hook kpi_ensure_indexes), and one present under
  another name is not created twice;
* a contract whose declared type differs from what the SQL returns fails the
  model before it writes anything;
* a uniqueness test reads no row while a unique index on exactly its columns
  guarantees what it checks, and every row without one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from conftest import FIXTURES, ROOT, project_view, run_kpi

FIX = FIXTURES / "platform_small"
SELECT = ["--select", "+metrics_daily_payments", "--exclude", "tag:alerts+"]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


def _declared(manifest: dict) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """(schema, table, column) declared not null and (schema, table, check name) of every table model."""
    not_null, checks = set(), set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"]["materialized"] not in ("table", "incremental"):
            continue
        table = (node["schema"], node["alias"] or node["name"])
        for column in node["columns"].values():
            if any(c["type"] == "not_null" for c in column.get("constraints", [])):
                not_null.add((*table, column["name"]))
        for c in node.get("constraints", []):
            if c["type"] == "check":
                checks.add((*table, c["name"]))
    return not_null, checks


def test_every_declared_constraint_is_in_the_published_warehouse(built_warehouse):
    manifest = json.loads((Path(os.environ["KPI_PROJECT_DIR"]) / "target" / "manifest.json").read_text())
    not_null, checks = _declared(manifest)
    assert len(not_null) > 250 and len(checks) > 300  # the project's contracts, not an empty manifest
    schemas = sorted({s for s, _, _ in not_null | checks})
    with built_warehouse.connect() as c:
        in_db_not_null = set(
            c.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_schema = any(%s) and is_nullable = 'NO'",
                (schemas,),
            ).fetchall()
        )
        in_db_checks = set(
            c.execute(
                "select n.nspname, r.relname, k.conname from pg_constraint k "
                "join pg_class r on r.oid = k.conrelid join pg_namespace n on n.oid = r.relnamespace "
                "where k.contype = 'c' and n.nspname = any(%s)",
                (schemas,),
            ).fetchall()
        )
    assert not_null - in_db_not_null == set()
    assert checks - in_db_checks == set()


def test_incremental_table_gets_a_missing_constraint_and_index_and_a_breaking_row_fails_naming_it(conn):
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", *SELECT))
    check = "metrics_daily_payments__success_rate_range"

    def constraints() -> tuple[bool, bool]:
        has_check = conn.execute("select count(*) from pg_constraint where conname = %s", (check,)).fetchone()[0]
        provider_not_null = conn.execute(
            "select not attnotnull from pg_attribute where attrelid = 'marts.metrics_daily_payments'::regclass "
            "and attname = 'provider'"
        ).fetchone()[0]
        return bool(has_check), not provider_not_null

    assert constraints() == (True, True)
    # a table created before these constraints were declared
    conn.execute(f"alter table marts.metrics_daily_payments drop constraint {check}")
    conn.execute("alter table marts.metrics_daily_payments alter column provider drop not null")
    assert constraints() == (False, False)
    # and before its indexes were configured (dbt-postgres creates them only with the table),
    # except one created by hand under another name: kpi_ensure_indexes adds the others, none twice
    indexes = (
        "select i.indisunique, string_agg(a.attname, ',' order by k.ord) from pg_index as i"
        " cross join lateral unnest(i.indkey) with ordinality as k (attnum, ord)"
        " join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum"
        " where i.indrelid = 'marts.metrics_daily_payments'::regclass group by i.indexrelid, i.indisunique order by 2"
    )
    built = conn.execute(indexes).fetchall()
    assert built == [(False, "metric_date,country_code,provider"), (True, "payments_day_key")]
    for (name,) in conn.execute(
        "select indexrelid::regclass::text from pg_index where indrelid = 'marts.metrics_daily_payments'::regclass"
    ).fetchall():
        conn.execute(f"drop index {name}")
    conn.execute("create unique index kept_by_hand on marts.metrics_daily_payments (payments_day_key)")
    _ok(run_kpi("build", *SELECT))
    assert constraints() == (True, True)
    assert conn.execute(indexes).fetchall() == built
    assert conn.execute(
        "select count(*) from pg_indexes where schemaname = 'marts' and indexname = 'kept_by_hand'"
    ).fetchone() == (1,)

    # a row already there that breaks the constraint: the run fails naming it, nothing changes
    conn.execute(f"alter table marts.metrics_daily_payments drop constraint {check}")
    conn.execute(
        "update marts.metrics_daily_payments set success_rate = 2 "
        "where metric_date = (select min(metric_date) from marts.metrics_daily_payments)"
    )
    before = conn.execute("select count(*), sum(success_rate) from marts.metrics_daily_payments").fetchone()
    r = run_kpi("build", *SELECT)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"constraint {check} violated" in r.stderr, r.stderr[-2000:]
    assert conn.execute("select count(*), sum(success_rate) from marts.metrics_daily_payments").fetchone() == before
    assert constraints() == (False, True)


def test_a_declared_type_the_sql_does_not_return_fails_the_model_before_it_writes(conn, tmp_path):
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", "--select", "+stg_platform__events"))
    count = conn.execute("select count(*) from staging.stg_platform__events").fetchone()[0]
    # a private view of the project whose models/ is a copy with one declared type changed
    view = project_view(tmp_path)
    (view / "models").unlink()
    shutil.copytree(ROOT / "models", view / "models")
    yml = view / "models" / "staging" / "platform" / "_platform__models.yml"
    text = yml.read_text(encoding="utf-8")
    start = text.index("- name: amount_cents\n")
    type_line = text.index("data_type: ", start)
    assert text[type_line:].startswith("data_type: bigint")
    yml.write_text(
        text[:type_line] + "data_type: text" + text[type_line + len("data_type: bigint") :], encoding="utf-8"
    )

    r = run_kpi("build", "--select", "+stg_platform__events", "--full-refresh", env={"KPI_PROJECT_DIR": str(view)})
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    out = r.stdout + r.stderr
    assert "contract" in out.lower() and "amount_cents" in out, out[-3000:]
    assert conn.execute("select count(*) from staging.stg_platform__events").fetchone()[0] == count


def test_a_uniqueness_test_reads_no_row_while_a_unique_index_guarantees_it_and_every_row_without(conn):
    """macros/testing/kpi_unique_index_condition.sql: the index vouches for the test; no index, the test scans."""
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", *SELECT))
    table = "marts.metrics_daily_payments"
    unique = "unique_metrics_daily_payments_payments_day_key"
    combination = "unique_combination_of_columns_metrics_daily_payments_metric_date__country_code__provider"

    def scans() -> int:
        conn.execute("select pg_stat_clear_snapshot()")
        return conn.execute(
            "select coalesce(seq_scan, 0) + coalesce(idx_scan, 0) from pg_stat_user_tables where relid = %s::regclass",
            (table,),
        ).fetchone()[0]

    index = conn.execute(
        "select i.indexrelid::regclass::text from pg_index i join pg_attribute a "
        "on a.attrelid = i.indrelid and a.attnum = i.indkey[0] "
        "where i.indrelid = %s::regclass and i.indisunique and i.indnkeyatts = 1 and a.attname = 'payments_day_key'",
        (table,),
    ).fetchone()[0]
    before = scans()
    _ok(run_kpi("build", "--select", unique))
    assert scans() == before  # the unique index guarantees it: the table was not read

    # without the index, a duplicate is found (and the table is read)
    conn.execute(f"drop index {index}")
    conn.execute(f"insert into {table} select * from {table} order by metric_date limit 1")
    before = scans()
    r = run_kpi("build", "--select", unique)
    assert r.returncode == 1 and unique in r.stderr, r.stdout[-2000:] + r.stderr[-2000:]
    assert scans() > before

    # a unique index over a nullable column does not vouch for unique_combination_of_columns
    # (there two nulls are equal, in the index they are distinct)
    conn.execute(f"delete from {table} where ctid = (select max(ctid) from {table})")
    conn.execute(f"create unique index metrics_daily_payments_grain on {table} (metric_date, country_code, provider)")
    conn.execute(f"alter table {table} alter column provider drop not null")
    conn.execute(f"create temp table one_row as select * from {table} order by metric_date limit 1")
    conn.execute("update one_row set provider = null")
    conn.execute(f"insert into {table} select * from one_row")
    conn.execute(f"insert into {table} select * from one_row")
    r = run_kpi("build", "--select", combination)
    assert r.returncode == 1 and combination in r.stderr, r.stdout[-2000:] + r.stderr[-2000:]

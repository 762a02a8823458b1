"""Seed 004 gaps of issue 15: moderation KPIs, the overview, readers' own rows, the schema registry, partitions.

On the hand-made `platform_m23_small` fixture (derivations in its README.md):

* metrics_daily_moderation / metrics_weekly_moderation and
  metrics_daily_reader_performance equal hand-computed CSVs; with
  `platform_small` loaded too, metrics_daily_overview does;
* a late moderation decision (received days after its day) re-classifies
  another day of the same flag: a plain `kpi build` recomputes both days
  (kpi_changed_days.entity_days), the same rows as a clean build;
* a reader login (member of kpi_reader, mapped in ops.reader_access) reads only
  its own reader_id's rows of the last 30 UTC days, and no longer the
  every-service fulfillment mart (real LOGIN roles, not the owner);
* `kpi status` (text and --format json) shows partition health and counts
  staged events of an unregistered schema version; `kpi build` creates the
  partitions of the current and next months, idempotently, and refuses a
  negative --partitions-ahead (exit 2, one line);
* the generator emits appeal reviews (a second moderation_decision after an
  appeal) without changing any other event.
"""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from conftest import FIXTURES, assert_relation_equals_csv, run_kpi, write_csv
from kpiwh import contract, partitions

FIX = FIXTURES / "platform_m23_small"
SMALL = FIXTURES / "platform_small"
EXP = FIX / "expected"
LATE_EVENT_ID = "00000000-0000-4000-8000-000000000108"  # f3's initial decision, 2025-03-04 01:00
MARTS = "+metrics_weekly_moderation +metrics_daily_reader_performance"


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _copy(dst: Path, keep=lambda r: True, change=lambda r: r) -> Path:
    """The fixture's tenants and the events ``keep`` selects, each passed through ``change``."""
    dst.mkdir(parents=True)
    (dst / "tenants.jsonl").write_bytes((FIX / "tenants.jsonl").read_bytes())
    header, rows = _rows(FIX / "events_raw.csv")
    write_csv(dst / "events_raw.csv", header, [change(list(r)) for r in rows if keep(r)])
    return dst


@pytest.mark.slow
def test_moderation_and_reader_marts_match_hand_computed_rows(conn):
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", "--select", MARTS))
    assert_relation_equals_csv(conn, "marts.metrics_daily_moderation", EXP / "metrics_daily_moderation.csv")
    assert_relation_equals_csv(conn, "marts.metrics_weekly_moderation", EXP / "metrics_weekly_moderation.csv")
    assert_relation_equals_csv(
        conn, "marts.metrics_daily_reader_performance", EXP / "metrics_daily_reader_performance.csv"
    )
    # a re-run of the days (backfill) is idempotent: byte-identical rows
    q = "select t::text from marts.{} as t order by 1"
    before = {
        m: conn.execute(q.format(m)).fetchall()
        for m in ("metrics_daily_moderation", "metrics_daily_reader_performance")
    }
    _ok(run_kpi("backfill", "--start", "2025-03-03", "--end", "2025-03-06", "--select", MARTS))
    assert {m: conn.execute(q.format(m)).fetchall() for m in before} == before


@pytest.mark.slow
def test_overview_has_one_row_per_day_across_domains(conn):
    _ok(run_kpi("load", str(SMALL)))
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", "--select", "+metrics_daily_overview", "--exclude", "tag:alerts+"))
    assert_relation_equals_csv(conn, "marts.metrics_daily_overview", EXP / "metrics_daily_overview.csv")


@pytest.mark.slow
def test_late_decision_recomputes_every_day_of_its_flag_through_a_plain_build(conn, tmp_path):
    _ok(run_kpi("load", str(_copy(tmp_path / "early", keep=lambda r: r[0] != LATE_EVENT_ID))))
    _ok(run_kpi("build", "--select", MARTS))
    assert_relation_equals_csv(conn, "marts.metrics_daily_moderation", EXP / "metrics_daily_moderation_before_late.csv")

    def received_late(r):
        r[2] = "2025-03-09T08:00:00+00:00"
        return r

    _ok(run_kpi("load", str(_copy(tmp_path / "late", keep=lambda r: r[0] == LATE_EVENT_ID, change=received_late))))
    _ok(run_kpi("build", "--select", MARTS))
    # 03-04 (the event's day) and 03-05 (f3's review, no longer its initial decision) both changed
    assert_relation_equals_csv(conn, "marts.metrics_daily_moderation", EXP / "metrics_daily_moderation.csv")
    assert_relation_equals_csv(conn, "marts.metrics_weekly_moderation", EXP / "metrics_weekly_moderation.csv")


@pytest.mark.slow
def test_a_reader_login_reads_only_its_own_rows_of_the_last_30_days(conn, pg_server, tmp_path):
    """The fixture shifted so that day A is 30 days ago (outside the window), B and C inside it."""
    today = datetime.now(UTC).date()
    shift = today - timedelta(days=30) - date(2025, 3, 3)

    def shifted(r):
        for i in (1, 2):
            ts = datetime.fromisoformat(r[i]) + shift
            r[i] = ts.isoformat()
        return r

    _ok(run_kpi("load", str(_copy(tmp_path / "recent", change=shifted))))
    _ok(run_kpi("build", "--select", MARTS + " +metrics_daily_fulfillment"))
    s = uuid.uuid4().hex[:8]
    logins = {k: f"m23_{s}_{k}" for k in ("rdr_a", "rdr_b", "unmapped", "admin", "monitor")}
    groups = {"rdr_a": "kpi_reader", "rdr_b": "kpi_reader", "unmapped": "kpi_reader", "admin": "kpi_admin"}
    groups["monitor"] = "kpi_monitor"
    try:
        for k, login in logins.items():
            conn.execute(
                sql.SQL("create role {} login in role {}").format(sql.Identifier(login), sql.Identifier(groups[k]))
            )
        conn.execute(
            "insert into ops.reader_access (role_name, reader_id) values (%s, 'rdr_a'), (%s, 'rdr_b')",
            (logins["rdr_a"], logins["rdr_b"]),
        )
        seen: dict[str, object] = {}
        for k, login in logins.items():
            with psycopg.connect(
                host=str(pg_server.socket_dir), user=login, dbname=conn.info.dbname, autocommit=True
            ) as c:
                assert c.execute(
                    "select rolsuper, rolbypassrls from pg_roles where rolname = current_user"
                ).fetchone() == (
                    False,
                    False,
                )
                try:
                    seen[k] = c.execute(
                        "select reader_id, metric_date - %s from marts.metrics_daily_reader_performance order by 1, 2",
                        (today,),
                    ).fetchall()
                except psycopg.errors.InsufficientPrivilege:
                    seen[k] = "denied"
                try:
                    c.execute("select count(*) from marts.metrics_daily_fulfillment").fetchone()
                    seen[k + "/fulfillment"] = "read"
                except psycopg.errors.InsufficientPrivilege:
                    seen[k + "/fulfillment"] = "denied"
                # a reader sees its own mapping only
                seen[k + "/mappings"] = c.execute("select count(*) from ops.reader_access").fetchone()[0]
        # day A (today - 30) is outside the window; B (today - 29) and C (today - 28) inside
        assert seen["rdr_a"] == [("rdr_a", -29), ("rdr_a", -28)]
        assert seen["rdr_b"] == [("rdr_b", -29)]
        assert seen["unmapped"] == []
        assert len(seen["admin"]) == 5 and {r[1] for r in seen["admin"]} == {-30, -29, -28}
        assert seen["monitor"] == "denied"
        # readers no longer read every service's fulfillment rows; the admin does
        assert [seen[f"{k}/fulfillment"] for k in ("rdr_a", "unmapped", "admin")] == ["denied", "denied", "read"]
        assert [seen[f"{k}/mappings"] for k in ("rdr_a", "rdr_b", "unmapped")] == [1, 1, 0]
        assert seen["admin/mappings"] >= 2
    finally:
        conn.execute("delete from ops.reader_access where role_name like %s", (f"m23_{s}_%",))
        for login in logins.values():
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login)))


@pytest.mark.slow
def test_status_shows_partition_health_and_unregistered_versions_and_build_creates_partitions(conn, tmp_path):
    def v2(r):  # one event of a version the registry does not know
        if r[0].endswith("000000000113"):
            r[19] = "2"
        return r

    _ok(run_kpi("load", str(_copy(tmp_path / "fix", change=v2))))
    ahead = contract.months_ahead(datetime.now(UTC).date(), 2)
    names_before = {p.name for p in partitions.list_partitions(conn)}
    r = run_kpi("build", "--select", "+metrics_daily_moderation event_schema_versions", "--partitions-ahead", "2")
    _ok(r)
    created = {contract.partition_name(m) for m in ahead} - names_before
    assert created and all(n in r.stderr for n in created), r.stderr  # `kpi load` made 2025-03's only
    # the registry's test warns (not an error) and names the unregistered version's rows
    assert "assert_platform_event_schema_versions_registered" in r.stdout, r.stdout[-3000:]
    names = {p.name for p in partitions.list_partitions(conn)}
    assert {contract.partition_name(m) for m in ahead} <= names
    # idempotent: a second build creates nothing
    r = run_kpi("build", "--select", "event_schema_versions")
    _ok(r)
    assert "partitions created" not in r.stderr
    assert {p.name for p in partitions.list_partitions(conn)} == names

    st = run_kpi("status", "--format", "json")
    assert st.returncode == 0, st.stdout[-2000:] + st.stderr[-2000:]
    data = json.loads(st.stdout)
    parts = {p["name"]: p for p in data["partitions"]["partitions"]}
    march = parts["events_raw_2025_03"]
    assert (march["rows"], march["oldest_day"], march["newest_day"]) == (31, "2025-03-03", "2025-03-05")
    assert (march["range_start"], march["range_end"]) == ("2025-03-01", "2025-04-01")
    assert march["size_bytes"] > 0
    empty = parts[contract.partition_name(ahead[-1])]
    assert (empty["rows"], empty["oldest_day"], empty["newest_day"]) == (0, None, None)
    assert data["partitions"]["months_missing"] == [] and data["partitions"]["rows"] == 31
    assert data["schema_versions"] == {
        "events": 1,
        "versions": [{"event_domain": "moderation", "event_type": "content_flagged", "schema_version": 2, "events": 1}],
    }
    assert data["healthy"] is True  # reported, not unhealthy (DECISIONLOG)

    text = run_kpi("status")
    assert text.returncode == 0, text.stdout[-2000:]
    out = text.stdout
    assert "partition health" in out and "events_raw_2025_03" in out and "2025-03-03" in out
    assert "partitions ahead: the current month and the next 2 exist" in out
    assert "1 staged event(s) of 1 unregistered version(s): moderation.content_flagged v2 (1)" in out

    # registering the version clears the count
    conn.execute(
        "insert into config.event_schema_versions (event_domain, event_type, schema_version, fields) "
        "values ('moderation', 'content_flagged', 2, 'entity_id')"
    )
    data = json.loads(run_kpi("status", "--format", "json").stdout)
    assert data["schema_versions"] == {"events": 0, "versions": []}
    # a partition dropped ahead is reported missing
    conn.execute(sql.SQL("drop table {}").format(sql.Identifier("raw", contract.partition_name(ahead[-1]))))
    data = json.loads(run_kpi("status", "--format", "json").stdout)
    assert data["partitions"]["months_missing"] == [f"{ahead[-1]:%Y-%m}"]
    assert "missing for" in run_kpi("status").stdout


def test_build_refuses_a_negative_partitions_ahead():
    r = run_kpi("build", "--partitions-ahead", "-1")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--partitions-ahead" in r.stderr and "Traceback" not in r.stderr


def test_ensure_ahead_is_idempotent_and_waits_for_the_raw_contract(conn):
    today = date(2031, 11, 20)
    assert partitions.ensure_ahead(conn, 2, today) == []  # no raw contract yet: nothing
    contract.apply(conn)
    first = partitions.ensure_ahead(conn, 2, today)
    assert first == ["events_raw_2031_11", "events_raw_2031_12", "events_raw_2032_01"]
    assert partitions.ensure_ahead(conn, 2, today) == []
    with pytest.raises(Exception, match="partitions-ahead"):
        partitions.ensure_ahead(conn, -1, today)


def test_generator_emits_appeal_reviews_without_changing_other_events(tmp_path, monkeypatch):
    from kpiwh.generate import generate  # noqa: PLC0415  (only this test)
    from kpiwh.generate import platform as gen_platform  # noqa: PLC0415  (only this test)

    generate(tmp_path / "with", tenants=6, days=30)
    lines = (tmp_path / "with" / "events_raw.csv").read_text(encoding="utf-8").splitlines()
    events = list(csv.DictReader(lines))
    by_flag: dict[str, list[dict]] = {}
    for e in events:
        if e["event_domain"] == "moderation":
            by_flag.setdefault(e["entity_id"], []).append(e)
    appealed = [evs for evs in by_flag.values() if any(e["event_type"] == "appeal_submitted" for e in evs)]
    reviews = set()
    for evs in appealed:
        evs.sort(key=lambda e: e["occurred_at"])
        appeal = next(e["occurred_at"] for e in evs if e["event_type"] == "appeal_submitted")
        decisions = [e for e in evs if e["event_type"] == "moderation_decision"]
        after = [e for e in decisions if e["occurred_at"] > appeal]
        # the initial removal, then (unless past the window's end) one review approving or upholding it
        assert decisions[0]["status"] == "removed" and len(after) <= 1
        assert all(e["status"] in ("approved", "removed") for e in after)
        reviews |= {e["event_id"] for e in after}
    assert reviews, "no appeal review in the demo-sized data set"
    # without the reviews (their own random stream), every other event is exactly what it was
    monkeypatch.setattr(gen_platform._Platform, "appeal_review", lambda self, ta, kind, fid: None)
    generate(tmp_path / "without", tenants=6, days=30)
    without = (tmp_path / "without" / "events_raw.csv").read_text(encoding="utf-8").splitlines()
    assert [x for x in lines if x.split(",", 1)[0] not in reviews] == without

"""Monthly partitions of raw.events_raw: ensure, prune (with Parquet export), and the backfill guard."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from conftest import run_kpi
from kpiwh import contract, partitions


def _events(path, stamps):
    path.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {
                "event_id": f"00000000-0000-4000-8000-{i:012d}",
                "occurred_at": ts,
                "event_domain": "orders",
                "event_type": "order_created",
                "metadata": {"n": i},
            }
        )
        for i, ts in enumerate(stamps)
    ]
    (path / "events_raw.jsonl").write_text("\n".join(lines) + "\n")
    return path


def test_ensure_is_idempotent_and_creates_months_ahead(conn):
    r = run_kpi("partitions", "ensure", "--months-ahead", "2")
    assert r.returncode == 0, r.stderr
    names = {p.name for p in partitions.list_partitions(conn)}
    today = date.today()
    assert contract.partition_name(today) in names and len(names) == 3
    r = run_kpi("partitions", "ensure", "--months-ahead", "2")
    assert "none (all present)" in r.stdout


def test_prune_exports_then_drops_only_partitions_entirely_past_the_window(conn, tmp_path):
    today = datetime.now(UTC)
    recent = (today - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = run_kpi(
        "load",
        str(_events(tmp_path / "ev", ["2025-01-15T10:00:00Z", "2025-01-31T23:59:59Z", "2025-02-10T00:00:00Z", recent])),
    )
    assert r.returncode == 0, r.stderr
    out = tmp_path / "archive"
    r = run_kpi("partitions", "prune", "--older-than", "90d", "--export", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["events_raw_2025_01.parquet", "events_raw_2025_02.parquet"]
    jan = pq.read_table(out / "events_raw_2025_01.parquet")
    assert jan.num_rows == 2 and sorted(jan.column("metadata").to_pylist()) == ['{"n": 0}', '{"n": 1}']
    left = {p.name for p in partitions.list_partitions(conn)}
    assert "events_raw_2025_01" not in left and "events_raw_2025_02" not in left
    assert conn.execute("select count(*) from raw.events_raw").fetchone() == (1,)  # the recent event stays
    assert conn.execute("select row_count from ops.pruned_partitions order by range_start").fetchall() == [(2,), (1,)]
    r = run_kpi("partitions", "prune", "--older-than", "90d")  # re-run: nothing left to do
    assert r.returncode == 0 and "no partition is entirely older than 90d" in r.stdout

    # prune is the whole retention run: its horizon is the 90-day cut-off (UTC midnight), not only
    # the end of the last dropped partition; a backfill into the pruned past is refused (it would
    # erase history the marts still hold)
    horizon = (today - timedelta(days=90)).date()
    assert conn.execute("select event_cutoff::date from ops.retention_runs").fetchall() == [(horizon,)] * 2
    r = run_kpi("backfill", "--start", "2025-02-20", "--end", "2025-03-05")
    assert r.returncode == 2
    assert r.stderr.strip().startswith(f"error: --start 2025-02-20: raw events before {horizon} were pruned")


def test_partition_with_rows_inside_the_window_is_never_dropped(conn, tmp_path):
    assert (
        run_kpi("load", str(_events(tmp_path / "ev", ["2025-01-20T00:00:00Z", "2025-02-20T00:00:00Z"]))).returncode == 0
    )
    now = datetime(2025, 5, 15, tzinfo=UTC)  # cutoff 2025-02-14: February still has rows inside
    dry = partitions.prune(conn, timedelta(days=90), dry_run=True, now=now)
    assert [p.name for p, _ in dry] == ["events_raw_2025_01"]
    assert conn.execute("select count(*) from raw.events_raw").fetchone() == (2,)
    done = partitions.prune(conn, timedelta(days=90), now=now)
    assert [p.name for p, _ in done] == ["events_raw_2025_01"]
    assert conn.execute("select occurred_at::date::text from raw.events_raw").fetchall() == [("2025-02-20",)]


@pytest.mark.parametrize("arg", ["ninety", "0d", "-5d", "90m"])
def test_bad_retention_argument(arg, conn):
    r = run_kpi("partitions", "prune", "--older-than", arg)
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: --older-than: '{arg}' is not an age like 90d or 12w"

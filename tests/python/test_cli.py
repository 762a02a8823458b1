"""The CLI as a scheduler sees it: instant --help, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, run_kpi


def test_help_does_not_import_dbt():
    code = ("import sys; from typer.testing import CliRunner; from kpiwh.main import app; "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
            "assert not [m for m in sys.modules if m == 'dbt' or m.startswith('dbt.')], 'dbt imported'; "
            "assert 'psycopg' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("cmd", [
    ["db", "--help"], ["init", "--help"], ["load", "--help"], ["generate", "--help"], ["build", "--help"],
    ["backfill", "--help"], ["refresh", "customers", "--help"], ["demo", "--help"], ["partitions", "ensure", "--help"],
])
def test_every_command_has_help(cmd):
    r = run_kpi(*cmd)
    assert r.returncode == 0 and "Usage" in r.stdout


def test_backfill_help_says_end_is_exclusive():
    assert "EXCLUSIVE" in run_kpi("backfill", "--help").stdout


@pytest.mark.parametrize("args, message", [
    (["backfill", "--start", "2025-02-30", "--end", "2025-03-05"],
     "error: --start: '2025-02-30' is not a date (YYYY-MM-DD)"),
    (["backfill", "--start", "2025-03-05", "--end", "2025-03-05"],
     "error: --end 2025-03-05 must be after --start 2025-03-05 (the end day is exclusive)"),
    (["generate", "--out", "/tmp/x", "--start", "yesterday"],
     "error: --start: 'yesterday' is not a date (YYYY-MM-DD)"),
    (["refresh", "customers", "--mode", "sometimes"], "error: --mode: 'sometimes' is not recent or full"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    r = run_kpi(*args)
    assert r.returncode == 2
    assert r.stderr.strip() == message


def test_generate_into_an_unwritable_place_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_kpi("generate", "--out", str(blocker / "sub"), "--tenants", "5", "--days", "3")
    assert r.returncode == 2
    assert r.stderr.strip().startswith(f"error: --out {blocker / 'sub'}: ")
    assert len(r.stderr.strip().splitlines()) == 1

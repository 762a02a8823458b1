"""Every command's bad input: exactly one line on stderr, exit 2, no traceback, nothing written.

The commands are enumerated from the CLI itself (the Click group behind `kpi --help`): a
command added without a case here fails :func:`test_every_command_has_bad_input_cases`.

Cheap on purpose: the cases run in-process (``kpiwh.main.main``, the console script's entry
point, with stdout/stderr captured) against a data folder that does not exist, so that any
use of the database would fail with exit 1, not 2 — a case passing proves the input is
judged before any work. One subprocess run checks the same through a real process.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

import pytest
import typer

from conftest import run_kpi
from kpiwh import load as loader
from kpiwh import main as cli
from kpiwh.main import app

NO_DB = "/nonexistent/kpi-pg"  # a database use would fail (exit 1), never exit 2


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Files of the wrong kind: a PNG, a JSON document, a folder without CSV, a plain file in the way."""
    d = tmp_path_factory.mktemp("bad_inputs")
    (d / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (d / "tenants.json").write_text('{"tenant_id": "t1"}\n')
    (d / "nocsv").mkdir()
    (d / "nocsv" / "README.md").write_text("nothing to load\n")
    (d / "afile").write_text("x\n")
    (d / "allow.yml").write_bytes(b"\x89PNG\r\n\x1a\n")
    return d


# (command path, arguments, the one stderr line as a regex); {d} is the files fixture folder
CASES: list[tuple[str, list[str], str]] = [
    # Click's own usage errors, one line naming the command
    ("db start", ["db", "start", "--bogus"], r"kpi db start: No such option: --bogus \(see `kpi db start --help`\)"),
    ("db stop", ["db", "stop", "extra"], r"kpi db stop: Got unexpected extra argument\(s\) \(extra\)"),
    ("db status", ["db", "status", "--format", "xml"], r"--format: 'xml' is not one of table, json"),
    ("db url", ["db", "url", "--bogus"], r"kpi db url: No such option: --bogus"),
    ("db env", ["db", "env", "--bogus"], r"kpi db env: No such option: --bogus"),
    (
        "init",
        ["init", "--months-ahead", "-1"],
        r"kpi init: Invalid value for '--months-ahead': .*greater than or equal to 0",
    ),
    ("init", ["init", "--months-ahead", "two"], r"kpi init: Invalid value for '--months-ahead': .*valid integer.*"),
    # load: missing, wrong kind, empty folder
    ("load", ["load"], r"kpi load: Missing argument 'path'\."),
    ("load", ["load", "{d}/missing"], r".*/missing: no such file or folder"),
    ("load", ["load", "{d}/img.png"], r"img\.png: unsupported file type '\.png' \(use \.csv, \.jsonl or \.parquet\)"),
    ("load", ["load", "{d}/tenants.json"], r"tenants\.json: unsupported file type '\.json' .*"),
    ("load", ["load", "{d}/nocsv"], r".*/nocsv: no \.csv, \.jsonl or \.parquet files to load"),
    # generate: unwritable folders, malformed values
    ("generate", ["generate", "--out", "/proc/kpi-nope"], r"--out /proc/kpi-nope: No such file or directory"),
    ("generate", ["generate", "--out", "{d}/afile/sub"], r"--out .*/afile/sub: Not a directory"),
    ("generate", ["generate", "--out", "{d}/afile"], r"--out .*/afile: exists and is not a folder"),
    (
        "generate",
        ["generate", "--out", "{d}/g", "--start", "2025-02-30"],
        r"--start: '2025-02-30' is not a date \(YYYY-MM-DD\)",
    ),
    ("generate", ["generate", "--out", "{d}/g", "--tenants", "0"], r"kpi generate: Invalid value for '--tenants'.*"),
    ("generate", ["generate", "--out", "{d}/g", "--scale", "lots"], r"kpi generate: Invalid value for '--scale'.*"),
    # build / backfill / refresh: checked before dbt runs
    ("build", ["build", "--vars", "{{bad"], r"--vars: '\{bad' is not valid YAML or JSON"),
    ("build", ["build", "--vars", "x"], r"--vars: 'x' is not a mapping .*"),
    ("backfill", ["backfill", "--start", "2025-01-01"], r"kpi backfill: Missing option '--end'\."),
    (
        "backfill",
        ["backfill", "--start", "01/02/2025", "--end", "2025-01-03"],
        r"--start: '01/02/2025' is not a date \(YYYY-MM-DD\)",
    ),
    (
        "backfill",
        ["backfill", "--start", "2025-01-05", "--end", "2025-01-05"],
        r"--end 2025-01-05 must be after --start 2025-01-05 \(the end day is exclusive\)",
    ),
    (
        "backfill",
        ["backfill", "--start", "2030-06-01", "--end", "2030-06-02"],
        r"--end 2030-06-02: the window reaches into the future \(today is \d{4}-\d\d-\d\d UTC, so --end is at most "
        r"\d{4}-\d\d-\d\d: the end day is exclusive\)",
    ),
    (
        "refresh customers",
        ["refresh", "customers", "--mode", "sometimes"],
        r"--mode: 'sometimes' is not recent or full",
    ),
    (
        "refresh customers",
        ["refresh", "customers", "--as-of", "last tuesday"],
        r"--as-of: 'last tuesday' is not an ISO timestamp .*",
    ),
    # check / alerts / status
    ("check", ["check", "--layer", "gold"], r"--layer: 'gold' is not raw, marts or all"),
    ("check", ["check", "--future-tolerance", "-5"], r"--future-tolerance: -5 is negative"),
    ("check", ["check", "--format", "xml"], r"--format: 'xml' is not table or json"),
    ("alerts", ["alerts", "--severity", "huge"], r"--severity: 'huge' is not info, warning or critical"),
    ("alerts", ["alerts", "--fail-on", "info"], r"--fail-on: 'info' is not warning or critical"),
    (
        "alerts",
        ["alerts", "--evaluate", "--evaluated-at", "yesterday"],
        r"--evaluated-at: 'yesterday' is not an ISO timestamp",
    ),
    ("alerts", ["alerts", "--webhook", "not-a-url"], r"--webhook: 'not-a-url' is not an http\(s\) URL"),
    ("status", ["status", "--days", "0"], r"kpi status: Invalid value for '--days': .*greater than or equal to 1.*"),
    ("status", ["status", "--format", "xml"], r"--format: 'xml' is not table or json"),
    # partitions
    (
        "partitions ensure",
        ["partitions", "ensure", "--months-ahead", "-1"],
        r"kpi partitions ensure: Invalid value for '--months-ahead'.*",
    ),
    (
        "partitions prune",
        ["partitions", "prune", "--older-than", "90x"],
        r"--older-than: '90x' is not an age like 90d or 12w",
    ),
    (
        "partitions prune",
        ["partitions", "prune", "--export", "/proc/kpi-nope"],
        r"--export /proc/kpi-nope: No such file or directory",
    ),
    (
        "retention apply",
        ["retention", "apply", "--older-than", "90x"],
        r"--older-than: '90x' is not an age like 90d or 12w",
    ),
    (
        "retention apply",
        ["retention", "apply", "--metrics-years", "0"],
        r"--metrics-years: 0 is not a positive retention period",
    ),
    (
        "retention apply",
        ["retention", "apply", "--as-of", "2025-13-01"],
        r"--as-of: '2025-13-01' is not a date \(YYYY-MM-DD\)",
    ),
    (
        "retention apply",
        ["retention", "apply", "--export", "/proc/kpi-nope"],
        r"--export /proc/kpi-nope: No such file or directory",
    ),
    # reports and exports: malformed weeks and dates, unwritable places
    ("report weekly", ["report", "weekly", "--tenant", "mer_001"], r"kpi report weekly: Missing option '--week'\."),
    (
        "report weekly",
        ["report", "weekly", "--tenant", "mer_001", "--week", "2025-03"],
        r"--week: '2025-03' is not an ISO week \(YYYY-Www, e\.g\. 2025-W03\)",
    ),
    (
        "report weekly",
        ["report", "weekly", "--tenant", "mer_001", "--week", "2025-W60"],
        r"--week: '2025-W60' does not exist \(ISO year 2025 has no week 60\)",
    ),
    (
        "report weekly",
        ["report", "weekly", "--tenant", "mer_001", "--week", "2025-W03", "--format", "pdf"],
        r"--format: 'pdf' is not one of md, json, html",
    ),
    (
        "report weekly",
        ["report", "weekly", "--tenant", "mer_001", "--week", "2025-W03", "--out", "/proc/kpi-nope/r.md"],
        r"--out /proc/kpi-nope: No such file or directory",
    ),
    (
        "report weekly",
        ["report", "weekly", "--tenant", "mer_001", "--week", "2025-W03", "--out", "{d}"],
        r"--out .*: is a folder \(give a file name\)",
    ),
    ("report pilot", ["report", "pilot"], r"kpi report pilot: Missing option '--scope'\."),
    (
        "report pilot",
        ["report", "pilot", "--scope", "MN"],
        r"--scope: 'MN' is not <country>:<category>\[:<version>\] \(e\.g\. MN:USED_CAR_PRIVATE or .*\)",
    ),
    (
        "report pilot",
        ["report", "pilot", "--scope", "MN:USED_CAR_PRIVATE", "--format", "pdf"],
        r"--format: 'pdf' is not one of md, json, html",
    ),
    (
        "export deals",
        ["export", "deals", "--out", "/proc/kpi-nope"],
        r"--out /proc/kpi-nope: No such file or directory",
    ),
    ("export deals", ["export", "deals", "--out", "{d}/afile"], r"--out .*/afile: exists and is not a folder"),
    (
        "export deals",
        ["export", "deals", "--out", "{d}/e", "--since", "2025-13-01"],
        r"--since: '2025-13-01' is not a date \(YYYY-MM-DD\)",
    ),
    (
        "export deals",
        ["export", "deals", "--out", "{d}/e", "--format", "xml"],
        r"--format: 'xml' is not one of csv, jsonl",
    ),
    # demo, privacy, lint, docs
    ("demo", ["demo", "--data", "{d}/nocsv"], r".*/nocsv: no \.csv, \.jsonl or \.parquet files to load"),
    ("demo", ["demo", "--tenants", "2"], r"kpi demo: Invalid value for '--tenants'.*"),
    ("erase", ["erase"], r"give exactly one subject: --user-id, --organization-id with --customer-id, or --party-id"),
    ("erase", ["erase", "--user-id", ""], r"--user-id: empty id"),
    ("pii-check", ["pii-check", "--allowlist", "{d}/missing.yml"], r"--allowlist .*/missing\.yml: no such file"),
    (
        "pii-check",
        ["pii-check", "--allowlist", "{d}/allow.yml"],
        r"--allowlist .*/allow\.yml: not a YAML allow-list .*",
    ),
    ("pii-check", ["pii-check", "--format", "xml"], r"--format: 'xml' is not table or json"),
    ("lint", ["lint", "--bogus"], r"kpi lint: No such option: --bogus"),
    ("docs", ["docs", "--bogus"], r"kpi docs: No such option: --bogus"),
    ("metrics list", ["metrics", "list", "--format", "xml"], r"--format: 'xml' is not table or json"),
    ("analyses list", ["analyses", "list", "--format", "xml"], r"--format: 'xml' is not table or json"),
    ("analyses show", ["analyses", "show"], r"kpi analyses show: Missing argument 'name'\."),
    ("analyses show", ["analyses", "show", "order_funnel", "--format", "csv"], r"--format: 'csv' is not table or json"),
    ("metrics query", ["metrics", "query"], r"kpi metrics query: Missing option '--metrics'\."),
    ("metrics query", ["metrics", "query", "--metrics", "a,,b"], r"--metrics: an empty name in 'a,,b'"),
    (
        "metrics query",
        ["metrics", "query", "--metrics", "m", "--format", "xml"],
        r"--format: 'xml' is not one of table, json, csv",
    ),
    (
        "metrics query",
        ["metrics", "query", "--metrics", "m", "--start", "2025-13-01"],
        r"--start: '2025-13-01' is not a date \(YYYY-MM-DD\)",
    ),
    (
        "metrics query",
        ["metrics", "query", "--metrics", "m", "--start", "2025-06-10", "--end", "2025-06-01"],
        r"--start 2025-06-10 is after --end 2025-06-01",
    ),
    (
        "metrics query",
        ["metrics", "query", "--metrics", "m", "--limit", "0"],
        r"kpi metrics query: Invalid value for '--limit'.*",
    ),
    # kpi bi: refused before anything is installed or started
    ("bi up", ["bi", "up", "--port", "0"], r"--port: 0 is not a TCP port"),
    ("bi status", ["bi", "status", "--format", "xml"], r"--format: 'xml' is not one of table, json"),
    ("bi down", ["bi", "down", "extra"], r"kpi bi down: Got unexpected extra argument\(s\) \(extra\)"),
    ("bi url", ["bi", "url", "--bogus"], r"kpi bi url: No such option: --bogus"),
    ("", ["no-such-command"], r"kpi: No such command 'no-such-command'\."),
]


def run_in_process(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``kpi args`` through the console script's entry point in this process.

    Returns:
        (exit status, stdout, stderr).
    """
    saved_env = {k: os.environ.get(k) for k in env}
    saved_argv = sys.argv
    os.environ.update(env)
    sys.argv = ["kpi", *args]
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved_argv
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def leaf_commands() -> set[str]:
    """Every runnable command path under `kpi` ("db start", "load", ...), from the CLI's Click group."""

    def walk(cmd, prefix: str):
        subs = getattr(cmd, "commands", None)
        if not subs:
            yield prefix
            return
        for name, sub in subs.items():
            yield from walk(sub, f"{prefix} {name}".strip())

    return set(walk(typer.main.get_command(app), ""))


def test_every_command_has_bad_input_cases():
    covered = {c for c, _, _ in CASES if c}
    assert leaf_commands() - covered == set(), "commands without a bad-input case in CASES"
    assert covered - leaf_commands() == set(), "CASES name commands the CLI does not have"


@pytest.mark.parametrize("command, args, pattern", CASES, ids=[" ".join(a)[:60] for _, a, _ in CASES])
def test_bad_input_is_one_line_exit_2(command, args, pattern, files, tmp_path):
    args = [a.format(d=files) for a in args]
    code, stdout, stderr = run_in_process(
        args, {"KPI_PGDATA": NO_DB, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    )
    lines = stderr.strip().splitlines()
    assert code == 2, (code, stdout, stderr)
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    # Click's own usage errors end with where to look: "(see `kpi status --help`)"
    assert re.fullmatch("error: " + pattern + r"( \(see `kpi[^`]*--help`\))?", lines[0]), lines[0]
    assert not (files / "g").exists() and not (files / "e").exists()  # nothing created by a refused command


def test_no_arguments_prints_the_help_and_exits_2():
    code, stdout, stderr = run_in_process([], {"KPI_PGDATA": NO_DB})
    assert code == 2
    assert "Usage: kpi" in stdout + stderr and "Traceback" not in stdout + stderr


def test_a_real_process_gets_the_same_one_line(files):
    r = run_kpi("status", "--days", "zero", env={"KPI_PGDATA": NO_DB})
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "error: kpi status: Invalid value for '--days': Input should be a valid integer, "
        "unable to parse string as an integer (see `kpi status --help`)"
    )
    r = run_kpi("export", "deals", "--out", "/proc/kpi-nope", env={"KPI_PGDATA": NO_DB})
    assert (r.returncode, r.stderr.strip()) == (2, "error: --out /proc/kpi-nope: No such file or directory")


def test_an_unexpected_error_is_one_line_exit_1(monkeypatch):
    """The last-resort net: an exception no handler expected is still one line (KPI_DEBUG=1 re-raises)."""

    def boom(path):
        raise RuntimeError("something\nunforeseen")

    monkeypatch.setattr(loader, "discover", boom)
    code, _, stderr = run_in_process(["load", "/tmp"], {"KPI_PGDATA": NO_DB})
    assert code == 1
    assert stderr.strip() == (
        "error: internal error: RuntimeError: something unforeseen (KPI_DEBUG=1 shows the traceback)"
    )
    with pytest.raises(RuntimeError):
        run_in_process(["load", "/tmp"], {"KPI_PGDATA": NO_DB, "KPI_DEBUG": "1"})


def test_a_deliberate_exit_status_is_not_an_internal_error(monkeypatch):
    """`raise typer.Exit(n)` inside a command (status unhealthy, alerts --fail-on: 3) keeps its status, silently."""

    def leave(path):
        raise typer.Exit(3)

    monkeypatch.setattr(loader, "discover", leave)
    code, _, stderr = run_in_process(["load", "/tmp"], {"KPI_PGDATA": NO_DB})
    assert (code, stderr) == (3, "")

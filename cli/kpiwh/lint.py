"""``kpi lint``: sqlfluff over the project's SQL, ruff over its Python, then the manifest hygiene checks.

sqlfluff runs as a subprocess (``python -m sqlfluff``) with the project's ``.sqlfluff``
(jinja templater, offline) and ``.sqlfluffignore``; the hygiene checks are
:mod:`kpiwh.hygiene` over ``dbt parse``'s manifest (no database either): dbt-bouncer
with ``dbt-bouncer.yml``, plus two checks of its own.
The fix command the lead re-runs after a merge is ``kpi lint --fix``
(= ``sqlfluff fix --exclude-rules LT04 models macros tests analyses snapshots``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import hygiene as hygiene_mod
from .errors import UsageError

# rules `--fix` leaves to a human: moving a leading comma out of a Jinja loop broke the
# loop's SQL (rpt_weekly_merchant_report); they are still reported
NO_AUTOFIX = ("LT04",)
# the folders sqlfluff lints (tests/: singular and generic SQL tests; tests/python has none)
SQL_DIRS = ("models", "macros", "tests", "analyses", "snapshots")
PYTHON_DIRS = ("cli", "tests/python", "bench")  # ruff (pyproject.toml [tool.ruff])


@dataclass
class SqlViolation:
    """One sqlfluff finding.

    Attributes:
        path: file path relative to the project.
        line: 1-based line number.
        code: sqlfluff rule code (``CP01``), ``PRS`` (unparsable) or ``TMP`` (templating).
        message: sqlfluff's description.
    """

    path: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


@dataclass
class LintResult:
    """What ``kpi lint`` found.

    Attributes:
        sql: sqlfluff violations (after ``--fix``: the ones it could not fix).
        hygiene: hygiene findings (:class:`kpiwh.hygiene.Finding`).
        files: number of SQL files sqlfluff looked at.
    """

    sql: list[SqlViolation] = field(default_factory=list)
    python: list[SqlViolation] = field(default_factory=list)
    hygiene: list = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.sql and not self.python and not self.hygiene

    def summary(self) -> str:
        """One line: counts of violations by kind."""
        if self.ok:
            return f"lint clean: {self.files} SQL files, Python (ruff) ok, manifest hygiene ok"
        return (
            f"lint failed: {len(self.sql)} SQL violation(s) in {self.files} files, "
            f"{len(self.python)} Python finding(s), {len(self.hygiene)} hygiene finding(s)"
        )


def run_sqlfluff(
    project_dir: Path, paths: list[str] | None = None, *, fix: bool = False, processes: int = 2
) -> tuple[list[SqlViolation], int]:
    """Lint (or fix, then lint) SQL files with the project's sqlfluff config.

    Args:
        project_dir (Path): the project root (holds ``.sqlfluff``); sqlfluff runs there.
        paths (list[str] | None): files/folders relative to ``project_dir``; None = :data:`SQL_DIRS`.
        fix (bool): run ``sqlfluff fix`` first (rewrites files in place).
        processes (int): sqlfluff worker processes.
    Returns:
        (violations left, number of files linted).
    Raises:
        UsageError: sqlfluff is not installed or crashed.
    """
    targets = paths or [d for d in SQL_DIRS if (project_dir / d).is_dir()]
    base = [sys.executable, "-m", "sqlfluff"]
    common = ["--processes", str(processes), "--disable-progress-bar", *targets]
    if fix:
        proc = subprocess.run(
            [*base, "fix", "--quiet", "--exclude-rules", ",".join(NO_AUTOFIX), *common],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode not in (0, 1):
            raise UsageError(f"sqlfluff fix failed: {_tail(proc)}")
    proc = subprocess.run(
        [*base, "lint", "--format", "json", "--nofail", *common],
        cwd=project_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise UsageError(f"sqlfluff lint failed: {_tail(proc)}")
    try:
        records = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise UsageError(f"sqlfluff lint: unreadable output: {_tail(proc)}") from None
    found = [
        SqlViolation(
            rec["filepath"],
            int(v.get("start_line_no") or 0),
            v["code"],
            " ".join(str(v.get("description", "")).split()),
        )
        for rec in records
        for v in rec.get("violations", [])
    ]
    return sorted(found, key=lambda v: (v.path, v.line, v.code)), len(records)


def _tail(proc: subprocess.CompletedProcess) -> str:
    text = " ".join((proc.stderr or proc.stdout or "").split())
    return text[-300:] or f"exit {proc.returncode}"


def run_ruff(project_dir: Path, *, fix: bool = False) -> list[SqlViolation]:
    """ruff (lint and format, config in pyproject.toml) over the project's Python: cli/, tests/python/, bench/.

    Args:
        project_dir (Path): the project root; folders that do not exist are skipped.
        fix (bool): let ruff fix what it can and reformat first (rewrites files in place).
    Returns:
        the lint findings left (path, line, rule, message) and one ``FORMAT`` finding per file
        ``ruff format`` would change.
    Raises:
        UsageError: ruff is not installed or crashed.
    """
    targets = [d for d in PYTHON_DIRS if (project_dir / d).is_dir()]
    if not targets:
        return []
    base = [sys.executable, "-m", "ruff"]

    def ruff(*args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                [*base, *args, *targets], cwd=project_dir, capture_output=True, text=True, timeout=600
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(f"ruff failed to run: {exc}") from None

    if fix:
        ruff("check", "--fix", "--quiet")
        ruff("format", "--quiet")
    proc = ruff("check", "--output-format", "json", "--quiet")
    if proc.returncode not in (0, 1):
        raise UsageError(f"ruff check failed: {_tail(proc)}")
    try:
        records = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        raise UsageError(f"ruff check: unreadable output: {_tail(proc)}") from None
    found = [
        SqlViolation(
            str(Path(r["filename"]).resolve().relative_to(project_dir.resolve())),
            int((r.get("location") or {}).get("row") or 0),
            str(r.get("code") or "ruff"),
            " ".join(str(r.get("message", "")).split()),
        )
        for r in records
    ]
    fmt = ruff("format", "--check", "--output-format", "json")
    if fmt.returncode not in (0, 1):
        raise UsageError(f"ruff format failed: {_tail(fmt)}")
    try:
        unformatted = json.loads(fmt.stdout or "[]")
    except json.JSONDecodeError:
        raise UsageError(f"ruff format: unreadable output: {_tail(fmt)}") from None
    for r in unformatted:
        path = str(Path(r["filename"]).resolve().relative_to(project_dir.resolve()))
        line = int((r.get("location") or {}).get("row") or 1)
        found.append(SqlViolation(path, line, "FORMAT", "ruff format would reformat this file (kpi lint --fix)"))
    return sorted(found, key=lambda v: (v.path, v.line, v.code))


def run(
    project_dir: Path,
    *,
    fix: bool = False,
    sql: bool = True,
    python: bool = True,
    hygiene: bool = True,
    target_path: Path | None = None,
) -> LintResult:
    """Run sqlfluff, ruff and/or the hygiene checks on the project.

    Args:
        project_dir (Path): the dbt project root.
        fix (bool): let sqlfluff and ruff fix what they can first.
        sql (bool): run sqlfluff.
        python (bool): run ruff over the project's Python.
        hygiene (bool): run ``dbt parse`` and the manifest checks.
        target_path (Path | None): dbt's target folder for the parse (default
            ``<project>/.kpi/lint-target``, apart from builds' ``target/``).
    Raises:
        UsageError: a tool failed to run or ``tests/lint/hygiene.yml`` is malformed.
    """
    result = LintResult()
    if sql:
        result.sql, result.files = run_sqlfluff(project_dir, fix=fix)
    if python:
        result.python = run_ruff(project_dir, fix=fix)
    if hygiene:
        result.hygiene = hygiene_mod.run(project_dir, target_path or project_dir / ".kpi" / "lint-target")
    return result

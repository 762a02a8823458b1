"""``kpi lint``: sqlfluff over the project's SQL, then the manifest hygiene checks.

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

from .errors import UsageError

# rules `--fix` leaves to a human: moving a leading comma out of a Jinja loop broke the
# loop's SQL (rpt_weekly_merchant_report); they are still reported
NO_AUTOFIX = ("LT04",)
# the folders sqlfluff lints (tests/: singular and generic SQL tests; tests/python has none)
SQL_DIRS = ("models", "macros", "tests", "analyses", "snapshots")


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
    hygiene: list = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.sql and not self.hygiene

    def summary(self) -> str:
        """One line: counts of violations by kind."""
        if self.ok:
            return f"lint clean: {self.files} SQL files, manifest hygiene ok"
        return (f"lint failed: {len(self.sql)} SQL violation(s) in {self.files} files, "
                f"{len(self.hygiene)} hygiene finding(s)")


def run_sqlfluff(project_dir: Path, paths: list[str] | None = None, *, fix: bool = False,
                 processes: int = 2) -> tuple[list[SqlViolation], int]:
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
        proc = subprocess.run([*base, "fix", "--quiet", "--exclude-rules", ",".join(NO_AUTOFIX), *common],
                              cwd=project_dir,
                              capture_output=True, text=True, check=False)
        if proc.returncode not in (0, 1):
            raise UsageError(f"sqlfluff fix failed: {_tail(proc)}")
    proc = subprocess.run([*base, "lint", "--format", "json", "--nofail", *common], cwd=project_dir,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise UsageError(f"sqlfluff lint failed: {_tail(proc)}")
    try:
        records = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise UsageError(f"sqlfluff lint: unreadable output: {_tail(proc)}") from None
    found = [
        SqlViolation(rec["filepath"], int(v.get("start_line_no") or 0), v["code"],
                     " ".join(str(v.get("description", "")).split()))
        for rec in records for v in rec.get("violations", [])
    ]
    return sorted(found, key=lambda v: (v.path, v.line, v.code)), len(records)


def _tail(proc: subprocess.CompletedProcess) -> str:
    text = " ".join((proc.stderr or proc.stdout or "").split())
    return text[-300:] or f"exit {proc.returncode}"


def run(project_dir: Path, *, fix: bool = False, sql: bool = True, hygiene: bool = True,
        target_path: Path | None = None) -> LintResult:
    """Run sqlfluff and/or the hygiene checks on the project.

    Args:
        project_dir (Path): the dbt project root.
        fix (bool): let sqlfluff fix what it can first.
        sql (bool): run sqlfluff.
        hygiene (bool): run ``dbt parse`` and the manifest checks.
        target_path (Path | None): dbt's target folder for the parse (default
            ``<project>/.kpi/lint-target``, apart from builds' ``target/``).
    Raises:
        UsageError: a tool failed to run or ``tests/lint/hygiene.yml`` is malformed.
    """
    from . import hygiene as hygiene_mod  # noqa: PLC0415

    result = LintResult()
    if sql:
        result.sql, result.files = run_sqlfluff(project_dir, fix=fix)
    if hygiene:
        result.hygiene = hygiene_mod.run(project_dir, target_path or project_dir / ".kpi" / "lint-target")
    return result

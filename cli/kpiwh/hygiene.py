"""Project-hygiene checks over dbt's manifest (``dbt parse``; no database needed).

The conventions are checked by **dbt-bouncer** (config ``dbt-bouncer.yml`` at the
project root): model and column descriptions, the grain sentence ("one row per"),
a primary-key test (``unique`` or ``unique_combination_of_columns``), naming per
layer and source folder, models only under staging / intermediate / marts, sources
read only in staging, a unique key on incremental models, seed and source
descriptions. Its failures are returned as findings with the check's name.

Three checks dbt-bouncer cannot make without a database (its column checks compare
the yml with ``catalog.json``, which ``dbt docs generate`` writes from a live
warehouse) stay here, on the manifest and the files:

- ``column-exists``: a yml column whose name appears nowhere in the model's SQL (a
  cheap check on the raw code: catches renamed or dropped columns, not every typo).
- ``seed-docs``: a seed CSV column without a documented yml column.
- ``source-columns``: a source table of schema ``raw`` whose yml columns are not the
  columns ``cli/kpiwh/sql/raw_contract.sql`` creates (names, ``_loaded_at`` included
  as the DDL declares it; order not compared), or which that DDL does not create.
  The DDL is the one source of the raw columns; the yml keeps only their
  descriptions, which dbt reads from there.

A fourth keeps the models portable (DuckDB, Spark; issue "Beyond one PostgreSQL"):

- ``portable-sql``: PostgreSQL-only SQL in a model's own code (outside Jinja, comments
  and string literals): ``::`` casts, ``distinct on``, ``jsonb``, the JSON and regex
  operators (``->``, ``->>``, ``#>``, ``~``), ``generate_series``, ``extract(isoyear |
  epoch ...)``, ``to_char``, ``ilike``, ``interval '...'``, ``date_part``, ``string_agg``,
  PostgreSQL's JSON functions and ``at time zone``. Engine-specific SQL belongs in a
  dispatched macro under ``macros/`` (``adapter.dispatch``), which the check does not read.

Exceptions to those four live in ``tests/lint/hygiene.yml`` at the project root, one
per (model, check) with a reason; an exception that no longer matches a finding is
itself reported (``stale-exception``) so the file cannot rot.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml  # PyYAML, installed with dbt-core

from . import config
from .errors import UsageError
from .raw_ddl import RAW_SCHEMA, table_columns

CONFIG_FILE = "tests/lint/hygiene.yml"
BOUNCER_CONFIG = "dbt-bouncer.yml"


@dataclass(frozen=True)
class Finding:
    """One hygiene violation.

    Attributes:
        check: check id (see the module docstring).
        node: the model or seed name.
        message: what is wrong, one line.
    """

    check: str
    node: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.node}: {self.message}"


@dataclass
class Settings:
    """What ``tests/lint/hygiene.yml`` holds.

    Attributes:
        exceptions: {(node name, check id): reason}.
    """

    exceptions: dict[tuple[str, str], str] | None = None


def load_settings(path: Path) -> Settings:
    """Read ``tests/lint/hygiene.yml``; a missing file means the defaults and no exceptions.

    Args:
        path (Path): the settings file.
    Raises:
        UsageError: the file is malformed or an exception has no reason.
    """
    if not path.is_file():
        return Settings(exceptions={})
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path.name}: not valid YAML ({' '.join(str(exc).split())[:200]})") from None
    exceptions: dict[tuple[str, str], str] = {}
    for i, item in enumerate(data.get("exceptions") or []):
        if not isinstance(item, dict) or not all(item.get(k) for k in ("node", "check", "reason")):
            raise UsageError(f"{path.name}: exceptions[{i}] needs node, check and reason")
        exceptions[(str(item["node"]), str(item["check"]))] = str(item["reason"])
    return Settings(exceptions=exceptions)


def _code_words(code: str) -> set[str]:
    code = re.sub(r"\{#.*?#\}", " ", code, flags=re.DOTALL)  # Jinja comments
    return set(re.findall(r"[a-z_][a-z0-9_]*", code.lower()))


#: PostgreSQL-only constructs the ``portable-sql`` check looks for in a model's own SQL:
#: (name shown, pattern on the code with Jinja, comments and string contents blanked)
PG_ONLY_SQL: tuple[tuple[str, str], ...] = (
    ("'::' cast", r"::"),
    ("distinct on", r"\bdistinct\s+on\b"),
    ("jsonb", r"\bjsonb\b"),
    ("JSON operator ->, ->> or #>", r"->>?|#>>?"),
    ("regex operator ~", r"!?~\*?"),
    ("generate_series", r"\bgenerate_series\s*\("),
    ("extract(isoyear|epoch)", r"\bextract\s*\(\s*(?:isoyear|epoch)\b"),
    ("to_char", r"\bto_char\s*\("),
    ("ilike", r"\bilike\b"),
    ("interval '...'", r"\binterval\s+''"),
    ("date_part", r"\bdate_part\s*\("),
    ("string_agg", r"\bstring_agg\s*\("),
    (
        "PostgreSQL JSON function",
        r"\bjsonb?_(?:build_\w+|agg|object\w*|array\w*|value|extract_path\w*|each\w*|populate\w*)\s*\(",
    ),
    ("at time zone", r"\bat\s+time\s+zone\b"),
)


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group())


def _sql_only(code: str) -> str:
    """The model's own SQL: Jinja comments, expressions and statements, SQL comments and the
    contents of string literals blanked (newlines kept, so line numbers still hold)."""
    code = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", _blank, code, flags=re.DOTALL)
    code = re.sub(r"/\*.*?\*/|--[^\n]*", _blank, code, flags=re.DOTALL)
    return re.sub(r"'(?:[^']|'')*'", lambda m: "''" + " " * (len(m.group()) - 2), code)


def _check_portable(name: str, code: str) -> list[Finding]:
    sql = _sql_only(code)
    hits = []
    for label, pattern in PG_ONLY_SQL:
        for m in re.finditer(pattern, sql, flags=re.IGNORECASE):
            hits.append((sql.count("\n", 0, m.start()) + 1, label))
    if not hits:
        return []
    listed = ", ".join(f"{label} (line {line})" for line, label in sorted(set(hits)))
    return [Finding("portable-sql", name, f"PostgreSQL-only SQL outside macros/: {listed}; use a dispatched macro")]


def _check_model(node: dict) -> list[Finding]:
    name = node["name"]
    code = node.get("raw_code") or ""
    found = _check_portable(name, code)
    words = _code_words(code)
    missing = [c for c in (node.get("columns") or {}) if c.lower() not in words] if words else []
    if missing:
        found.append(Finding("column-exists", name, "yml column(s) not in the SQL: " + ", ".join(missing)))
    return found


def _check_seed(node: dict, project_dir: Path | None) -> list[Finding]:
    name = node["name"]
    found: list[Finding] = []
    documented = {c.lower() for c, col in (node.get("columns") or {}).items() if (col.get("description") or "").strip()}
    header: list[str] = []
    path = node.get("original_file_path")
    if project_dir is not None and path and (project_dir / path).is_file():
        with (project_dir / path).open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
    missing = [c for c in header if c.strip().lower() not in documented]
    if missing:
        found.append(Finding("seed-docs", name, "undocumented column(s): " + ", ".join(missing)))
    return found


def _check_source(node: dict, ddl_columns: dict[str, tuple[str, ...]]) -> list[Finding]:
    name = f"{node.get('source_name')}.{node['name']}"
    table = (node.get("identifier") or node["name"]).lower()
    if table not in ddl_columns:
        return [Finding("source-columns", name, f"{RAW_SCHEMA}.{table} is not created by the raw contract DDL")]
    declared = [c.lower() for c in ddl_columns[table]]
    yml = [c.lower() for c in (node.get("columns") or {})]
    missing = [c for c in declared if c not in yml]
    extra = [c for c in yml if c not in declared]
    parts = ([f"DDL column(s) missing from the yml: {', '.join(missing)}"] if missing else []) + (
        [f"yml column(s) not in the DDL: {', '.join(extra)}"] if extra else []
    )
    return [Finding("source-columns", name, "; ".join(parts))] if parts else []


def check_manifest(
    manifest: dict,
    settings: Settings | None = None,
    project_dir: Path | None = None,
    ddl_columns: dict[str, tuple[str, ...]] | None = None,
) -> list[Finding]:
    """Return the ``portable-sql``, ``column-exists``, ``seed-docs`` and ``source-columns`` findings.

    Args:
        manifest (dict): dbt's ``manifest.json`` as a dict (``dbt parse`` output).
        settings (Settings | None): the exceptions; None = no exceptions.
        project_dir (Path | None): the project root, to read seed CSV headers (None: skip that).
        ddl_columns (dict[str, tuple[str, ...]] | None): ``{raw table: columns}`` to check the
            sources of schema ``raw`` against; None = the package's raw contract DDL
            (:func:`kpiwh.raw_ddl.table_columns`), read only when such a source exists.
    Returns:
        list[Finding]: sorted by node and check; exceptions that matched nothing are
        reported as ``stale-exception``.
    Raises:
        UsageError: the package's raw contract DDL could not be parsed (``ddl_columns`` None).
    """
    settings = settings or Settings(exceptions={})
    exceptions = dict(settings.exceptions or {})
    project = (manifest.get("metadata") or {}).get("project_name")
    found: list[Finding] = []
    for node in manifest.get("nodes", {}).values():
        if project and node.get("package_name") not in (None, project):
            continue
        if node.get("resource_type") == "model":
            found += _check_model(node)
        elif node.get("resource_type") == "seed":
            found += _check_seed(node, project_dir)
    for node in manifest.get("sources", {}).values():
        if (project and node.get("package_name") not in (None, project)) or node.get("schema") != RAW_SCHEMA:
            continue
        if ddl_columns is None:
            try:
                ddl_columns = table_columns()
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        found += _check_source(node, ddl_columns)
    kept = []
    used = set()
    for f in found:
        if (f.node, f.check) in exceptions:
            used.add((f.node, f.check))
        else:
            kept.append(f)
    for key in sorted(set(exceptions) - used):
        kept.append(Finding("stale-exception", key[0], f"{CONFIG_FILE} excepts '{key[1]}' but it no longer fails"))
    return sorted(kept, key=lambda f: (f.node, f.check, f.message))


def parse_manifest(project_dir: Path, target_path: Path) -> dict:
    """Run ``dbt parse`` (offline: no database connection) and return the manifest dict.

    Args:
        project_dir (Path): the dbt project.
        target_path (Path): where dbt writes ``manifest.json`` (kept apart from builds'
            ``target/`` so that their partial parsing is not invalidated).
    Raises:
        UsageError: the project does not parse.
    """
    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (dbt: ~2 s import, only when the parse runs)

    args = [
        "--quiet",
        "--no-use-colors",
        "parse",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(config.profiles_dir()),
        "--target",
        config.target(),
        "--target-path",
        str(target_path),
    ]
    # the profile renders its host from this variable; parse never connects
    had = os.environ.get("KPI_PGHOST")
    os.environ.setdefault("KPI_PGHOST", str(config.pgdata()))
    try:
        res = dbtRunner().invoke(args)
    finally:
        if had is None:
            os.environ.pop("KPI_PGHOST", None)
    if not res.success:
        raise UsageError(f"dbt parse failed: {' '.join(str(res.exception).split())[:300]}")
    return json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))


def run_bouncer(project_dir: Path, target_path: Path) -> list[Finding]:
    """Run dbt-bouncer with the project's ``dbt-bouncer.yml`` on the manifest in ``target_path``.

    Args:
        project_dir (Path): the dbt project root (holds ``dbt-bouncer.yml``).
        target_path (Path): the folder holding ``manifest.json`` (replaces the config's
            ``dbt_artifacts_dir``).
    Returns:
        list[Finding]: one per failed check, ``check`` = the dbt-bouncer check name,
        ``node`` = the resource it failed on.
    Raises:
        UsageError: the config is missing or malformed, or dbt-bouncer could not run.
    """
    if importlib.util.find_spec("dbt_bouncer") is None:
        raise UsageError("dbt-bouncer is not installed (pip install -e '.[dev]')")
    path = project_dir / BOUNCER_CONFIG
    if not path.is_file():
        raise UsageError(f"{BOUNCER_CONFIG} not found in {project_dir}")
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path.name}: not valid YAML ({' '.join(str(exc).split())[:200]})") from None
    cfg["dbt_artifacts_dir"] = str(target_path.resolve())
    with tempfile.TemporaryDirectory(prefix="kpi-bouncer-") as tmp:
        conf, out = Path(tmp) / BOUNCER_CONFIG, Path(tmp) / "failures.json"
        conf.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from dbt_bouncer.main import app; sys.exit(app())",
                "run",
                "--config-file",
                str(conf),
                "--output-file",
                str(out),
                "--output-format",
                "json",
                "--output-only-failures",
            ],
            cwd=project_dir,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "CREATE_DBT_BOUNCER_CONFIG_FILE": "false"},
        )
        if proc.returncode not in (0, 1) or not out.is_file():
            tail = " ".join((proc.stderr or proc.stdout or "").split())[-300:]
            raise UsageError(f"dbt-bouncer failed (exit {proc.returncode}): {tail}")
        failures = json.loads(out.read_text(encoding="utf-8") or "[]")
    found = []
    for f in failures:  # check_run_id = "<check name>:<index in the config>:<resource name>"
        check, _, node = str(f.get("check_run_id") or "?").partition(":")
        node = node.partition(":")[2] or str(f.get("unique_id") or "?").rsplit(".", 1)[-1]
        found.append(Finding(check, node, " ".join(str(f.get("failure_message") or "").split())[:300]))
    return sorted(found, key=lambda f: (f.node, f.check, f.message))


def run(project_dir: Path, target_path: Path) -> list[Finding]:
    """Parse the project; return dbt-bouncer's failures and this module's four checks' findings.

    Args:
        project_dir (Path): the dbt project root (holds ``dbt-bouncer.yml`` and
            ``tests/lint/hygiene.yml``).
        target_path (Path): dbt's target folder for this parse.
    Raises:
        UsageError: the project does not parse, a config is malformed, dbt-bouncer failed to run,
            or the raw contract DDL could not be parsed.
    """
    settings = load_settings(project_dir / CONFIG_FILE)
    manifest = parse_manifest(project_dir, target_path)
    return run_bouncer(project_dir, target_path) + check_manifest(manifest, settings, project_dir)

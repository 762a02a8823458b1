"""Project-hygiene checks over dbt's manifest (``dbt parse``; no database needed).

Checks (id: what is flagged):

- ``model-description``: a model without a description.
- ``grain``: a model whose description does not state its grain ("one row per ...").
- ``column-description``: a model with no documented column, or a yml column without
  a description.
- ``column-exists``: a yml column whose name appears nowhere in the model's SQL (a cheap
  check on the raw code: catches renamed or dropped columns, not every typo).
- ``primary-key``: a model with neither unique + not_null on one column nor a
  ``unique_combination_of_columns`` test.
- ``naming``: staging ``stg_<source folder>__<entity>``, intermediate ``int_``, marts
  ``fct_``/``dim_``/``rpt_`` or an allowed name (``tests/lint/hygiene.yml``).
- ``source-outside-staging``: a model outside staging that reads a ``source()`` directly.
- ``seed-docs``: a seed without a description, or a CSV column without a documented one.

Exceptions live in ``tests/lint/hygiene.yml`` at the project root, one per (model, check) with a
reason; an exception that no longer matches a finding is itself reported (``stale-exception``)
so the file cannot rot.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

CONFIG_FILE = "tests/lint/hygiene.yml"
GRAIN = re.compile(r"\bone row per\b", re.IGNORECASE)
LAYERS = ("staging", "intermediate", "marts")


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
        mart_prefixes: prefixes a mart name may start with.
        mart_names: whole mart names allowed besides the prefixes (the seeds' own table names).
        exceptions: {(node name, check id): reason}.
    """

    mart_prefixes: tuple[str, ...] = ("fct_", "dim_", "rpt_")
    mart_names: frozenset[str] = frozenset()
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
    import yaml  # noqa: PLC0415  (a dbt dependency)

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path.name}: not valid YAML ({' '.join(str(exc).split())[:200]})") from None
    naming = data.get("naming") or {}
    exceptions: dict[tuple[str, str], str] = {}
    for i, item in enumerate(data.get("exceptions") or []):
        if not isinstance(item, dict) or not all(item.get(k) for k in ("node", "check", "reason")):
            raise UsageError(f"{path.name}: exceptions[{i}] needs node, check and reason")
        exceptions[(str(item["node"]), str(item["check"]))] = str(item["reason"])
    return Settings(
        mart_prefixes=tuple(naming.get("mart_prefixes") or Settings.mart_prefixes),
        mart_names=frozenset(naming.get("mart_names") or ()),
        exceptions=exceptions,
    )


def _tests_by_model(manifest: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "test" or not node.get("test_metadata"):
            continue
        attached = node.get("attached_node")
        if attached:
            out.setdefault(attached, []).append(node)
    return out


def _has_primary_key(tests: list[dict]) -> bool:
    unique, not_null = set(), set()
    for t in tests:
        name = t["test_metadata"]["name"]
        kwargs = t["test_metadata"].get("kwargs") or {}
        column = t.get("column_name") or kwargs.get("column_name")
        if name == "unique_combination_of_columns" and kwargs.get("combination_of_columns"):
            return True
        if name == "unique" and column:
            unique.add(str(column).lower())
        elif name == "not_null" and column:
            not_null.add(str(column).lower())
    return bool(unique & not_null)


def _code_words(code: str) -> set[str]:
    code = re.sub(r"\{#.*?#\}", " ", code, flags=re.DOTALL)  # Jinja comments
    return set(re.findall(r"[a-z_][a-z0-9_]*", code.lower()))


def _check_model(node: dict, tests: list[dict], settings: Settings) -> list[Finding]:
    name = node["name"]
    found: list[Finding] = []
    desc = (node.get("description") or "").strip()
    if not desc:
        found.append(Finding("model-description", name, "no description in yml"))
    elif not GRAIN.search(desc):
        found.append(Finding("grain", name, "description does not state the grain ('one row per ...')"))

    columns = node.get("columns") or {}
    if not columns:
        found.append(Finding("column-description", name, "no column documented in yml"))
    undocumented = [c for c, col in columns.items() if not (col.get("description") or "").strip()]
    if undocumented:
        found.append(Finding("column-description", name, "no description for " + ", ".join(undocumented)))
    words = _code_words(node.get("raw_code") or "")
    if words:
        missing = [c for c in columns if c.lower() not in words]
        if missing:
            found.append(Finding("column-exists", name, "yml column(s) not in the SQL: " + ", ".join(missing)))

    if not _has_primary_key(tests):
        found.append(Finding("primary-key", name,
                             "no unique + not_null on one column nor unique_combination_of_columns"))

    fqn = node.get("fqn") or []
    layer = fqn[1] if len(fqn) > 2 and fqn[1] in LAYERS else None
    if layer == "staging":
        source = fqn[2] if len(fqn) > 3 else None
        if not (source and name.startswith(f"stg_{source}__") and len(name) > len(f"stg_{source}__")):
            found.append(Finding("naming", name, f"a staging model is named stg_{source or '<source>'}__<entity>"))
    elif layer == "intermediate":
        if not name.startswith("int_"):
            found.append(Finding("naming", name, "an intermediate model is named int_<entity>_<verb>"))
    elif layer == "marts":
        if not (name.startswith(settings.mart_prefixes) or name in settings.mart_names):
            allowed = "/".join(settings.mart_prefixes)
            found.append(Finding("naming", name, f"a mart is named {allowed}<name> or listed in {CONFIG_FILE}"))
    else:
        found.append(Finding("naming", name, "a model lives under models/staging, intermediate or marts"))

    if layer != "staging":
        sources = [s.split(".", 2)[-1] for s in (node.get("depends_on") or {}).get("nodes", [])
                   if s.startswith("source.")]
        if sources:
            found.append(Finding("source-outside-staging", name,
                                 "reads source(s) directly (go through a stg_ model): " + ", ".join(sources)))
    return found


def _check_seed(node: dict, project_dir: Path | None) -> list[Finding]:
    name = node["name"]
    found: list[Finding] = []
    if not (node.get("description") or "").strip():
        found.append(Finding("seed-docs", name, "no description in yml"))
    documented = {c.lower() for c, col in (node.get("columns") or {}).items()
                  if (col.get("description") or "").strip()}
    header: list[str] = []
    path = node.get("original_file_path")
    if project_dir is not None and path and (project_dir / path).is_file():
        with (project_dir / path).open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
    missing = [c for c in header if c.strip().lower() not in documented]
    if missing:
        found.append(Finding("seed-docs", name, "undocumented column(s): " + ", ".join(missing)))
    return found


def check_manifest(manifest: dict, settings: Settings | None = None,
                   project_dir: Path | None = None) -> list[Finding]:
    """Return every hygiene finding of the project's own models and seeds, exceptions removed.

    Args:
        manifest (dict): dbt's ``manifest.json`` as a dict (``dbt parse`` output).
        settings (Settings | None): naming rules and exceptions; None = defaults, no exceptions.
        project_dir (Path | None): the project root, to read seed CSV headers (None: skip that).
    Returns:
        list[Finding]: sorted by node and check; exceptions that matched nothing are
        reported as ``stale-exception``.
    """
    settings = settings or Settings(exceptions={})
    exceptions = dict(settings.exceptions or {})
    project = (manifest.get("metadata") or {}).get("project_name")
    tests = _tests_by_model(manifest)
    found: list[Finding] = []
    for uid, node in manifest.get("nodes", {}).items():
        if project and node.get("package_name") not in (None, project):
            continue
        if node.get("resource_type") == "model":
            found += _check_model(node, tests.get(uid, []), settings)
        elif node.get("resource_type") == "seed":
            found += _check_seed(node, project_dir)
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
    from . import config  # noqa: PLC0415

    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (lazy: ~2 s)

    args = ["--quiet", "--no-use-colors", "parse", "--project-dir", str(project_dir),
            "--profiles-dir", str(config.profiles_dir()), "--target", config.target(),
            "--target-path", str(target_path)]
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


def run(project_dir: Path, target_path: Path) -> list[Finding]:
    """Parse the project and return its hygiene findings (``tests/lint/hygiene.yml`` applied).

    Args:
        project_dir (Path): the dbt project root (holds ``tests/lint/hygiene.yml``).
        target_path (Path): dbt's target folder for this parse.
    Raises:
        UsageError: the project does not parse or ``tests/lint/hygiene.yml`` is malformed.
    """
    settings = load_settings(project_dir / CONFIG_FILE)
    manifest = parse_manifest(project_dir, target_path)
    return check_manifest(manifest, settings, project_dir)

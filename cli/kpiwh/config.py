"""Where things live: the dbt project, the embedded data folder, the dbt target.

Resolution order (first match wins):
- project directory: ``KPI_PROJECT_DIR``; the nearest parent of the current
  directory holding this project's ``dbt_project.yml``; the checkout this
  package was installed from (editable install).
- embedded data folder: ``KPI_PGDATA``; ``<project>/.kpi/pgdata``.
- dbt target: the global ``--target`` option (exported as ``KPI_TARGET``);
  ``KPI_TARGET``; ``embedded``.
- profiles: ``DBT_PROFILES_DIR``; ``<project>/profiles.yml`` if present;
  otherwise ``profiles.yml.example`` copied to ``<project>/.kpi/profiles.yml``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import UsageError

PROJECT_NAME = "kpi_warehouse"
EMBEDDED = "embedded"


def _is_project(path: Path) -> bool:
    f = path / "dbt_project.yml"
    return f.is_file() and f"name: {PROJECT_NAME}" in f.read_text(encoding="utf-8")


def project_dir() -> Path:
    """Return the dbt project directory (absolute).

    Raises:
        UsageError: no kpi-warehouse project can be found.
    """
    env = os.environ.get("KPI_PROJECT_DIR")
    if env:
        p = Path(env).expanduser().resolve()
        if not _is_project(p):
            raise UsageError(f"KPI_PROJECT_DIR={env} holds no kpi-warehouse dbt_project.yml")
        return p
    cwd = Path.cwd().resolve()
    for p in (cwd, *cwd.parents):
        if _is_project(p):
            return p
    p = Path(__file__).resolve().parents[2]
    if _is_project(p):
        return p
    raise UsageError("cannot find the kpi-warehouse project: run inside it or set KPI_PROJECT_DIR")


def state_dir() -> Path:
    """Return ``<project>/.kpi`` (created), which holds local state."""
    d = project_dir() / ".kpi"
    d.mkdir(parents=True, exist_ok=True)
    return d


def pgdata() -> Path:
    """Return the embedded PostgreSQL data folder (absolute, not created)."""
    env = os.environ.get("KPI_PGDATA")
    if env:
        return Path(env).expanduser().resolve()
    return state_dir() / "pgdata"


def target() -> str:
    """Return the dbt target name in use (``embedded`` unless told otherwise)."""
    return os.environ.get("KPI_TARGET") or EMBEDDED


def is_embedded() -> bool:
    """True when the CLI manages its own embedded PostgreSQL."""
    return target() == EMBEDDED


def profiles_dir() -> Path:
    """Return the folder whose ``profiles.yml`` dbt reads."""
    env = os.environ.get("DBT_PROFILES_DIR")
    if env:
        return Path(env).expanduser().resolve()
    proj = project_dir()
    if (proj / "profiles.yml").is_file():
        return proj
    d = state_dir()
    src = proj / "profiles.yml.example"
    dst = d / "profiles.yml"
    if not dst.exists() or dst.read_bytes() != src.read_bytes():
        shutil.copyfile(src, dst)
    return d

"""`kpi lint`: sqlfluff over the project's SQL and the manifest hygiene checks.

The project itself must be clean (a new violation fails CI); each check also has a
failing case: a bad SQL file in a temporary copy of the lint setup, and small
synthetic manifests for the hygiene checks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kpiwh import hygiene, lint

ROOT = Path(__file__).resolve().parents[2]
MART_SETTINGS = hygiene.Settings(mart_prefixes=("fct_", "dim_", "rpt_", "metrics_"),
                                 mart_names=frozenset({"customer_analytics"}), exceptions={})


# --------------------------------------------------------------------------- the project
def test_project_hygiene_is_clean(tmp_path):
    findings = hygiene.run(ROOT, tmp_path / "target")
    assert findings == [], "\n".join(map(str, findings))


@pytest.mark.slow
def test_project_sql_is_lint_clean():
    violations, files = lint.run_sqlfluff(ROOT)
    assert files > 80
    assert violations == [], "\n".join(map(str, violations))


# --------------------------------------------------------------------------- sqlfluff failing cases
@pytest.fixture(scope="module")
def lint_copy(tmp_path_factory) -> Path:
    """The lint setup (config, stand-ins, macros) without the models: a sandbox for bad SQL."""
    root = tmp_path_factory.mktemp("lintproj")
    for name in (".sqlfluff", ".sqlfluffignore", "dbt_project.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / ".sqlfluff_libs", root / ".sqlfluff_libs",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "macros", root / "macros")
    (root / "models").mkdir()
    return root


GOOD = """with

payments as (

    select * from {{ ref('stg_bookings__payments') }}

)

select
    payment_id,
    {{ utc_date('created_at') }} as payment_date,
    cast(amount_cents as {{ dbt.type_bigint() }}) as amount_cents
from payments
"""

BAD = """SELECT *
FROM {{ ref('stg_bookings__payments') }}
"""


def test_sqlfluff_flags_a_bad_model_and_fix_repairs_what_it_can(lint_copy):
    (lint_copy / "models" / "fct_good.sql").write_text(GOOD)
    bad = lint_copy / "models" / "fct_bad.sql"
    bad.write_text(BAD)
    violations, files = lint.run_sqlfluff(lint_copy, ["models"], processes=1)
    assert files == 2
    by_file = {}
    for v in violations:
        by_file.setdefault(v.path.split("/")[-1], set()).add(v.code)
    assert by_file == {"fct_bad.sql": {"CP01", "AM04"}}, violations  # upper case, select * as output

    left, _ = lint.run_sqlfluff(lint_copy, ["models/fct_bad.sql"], fix=True, processes=1)
    assert bad.read_text().startswith("select *\nfrom ")
    assert {v.code for v in left} == {"AM04"}  # a human must list the columns


def test_kpi_lint_exit_code_and_summary_on_a_violation(lint_copy, tmp_path):
    """`kpi lint --no-hygiene` in a project holding a bad model: exit 1, one summary line."""
    proj = tmp_path / "proj"
    shutil.copytree(lint_copy, proj)
    (proj / "models" / "fct_bad.sql").write_text(BAD)
    proc = subprocess.run([sys.executable, "-m", "kpiwh.main", "lint", "--no-hygiene"],
                          cwd=proj, capture_output=True, text=True, timeout=120,
                          env={**_env(), "KPI_PROJECT_DIR": str(proj)})
    assert proc.returncode == 1, proc.stderr
    listed = [line for line in proc.stdout.splitlines() if line.startswith("models/fct_bad.sql:")]
    assert "models/fct_bad.sql:1: CP01 Keywords must be lower case." in listed
    assert len(listed) == len(proc.stdout.splitlines())  # nothing flagged outside the bad model
    assert proc.stderr.strip().startswith(f"error: lint failed: {len(listed)} SQL violation(s) in ")
    assert proc.stderr.strip().endswith(", 0 hygiene finding(s)")


def _env() -> dict:
    import os  # noqa: PLC0415

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "cli") + os.pathsep + env.get("PYTHONPATH", "")
    return env


# --------------------------------------------------------------------------- hygiene failing cases
def _model(name: str, layer: str, *, sub: str = "core", desc: str = "One row per thing.",
           columns: dict | None = None, code: str = "select thing_id from x", deps=()) -> dict:
    cols = {"thing_id": "Primary key."} if columns is None else columns
    return {
        "resource_type": "model", "name": name, "package_name": "kpi_warehouse",
        "fqn": ["kpi_warehouse", layer, sub, name], "description": desc,
        "columns": {c: {"name": c, "description": d} for c, d in cols.items()},
        "raw_code": code, "depends_on": {"nodes": list(deps)},
    }


def _test(model: str, name: str, column: str | None = None, **kwargs) -> dict:
    return {"resource_type": "test", "attached_node": f"model.kpi_warehouse.{model}",
            "column_name": column, "test_metadata": {"name": name, "kwargs": kwargs}}


def _manifest(models: list[dict], tests: list[dict], seeds: list[dict] = ()) -> dict:
    nodes = {f"model.kpi_warehouse.{m['name']}": m for m in models}
    nodes.update({f"test.kpi_warehouse.t{i}": t for i, t in enumerate(tests)})
    nodes.update({f"seed.kpi_warehouse.{s['name']}": s for s in seeds})
    return {"metadata": {"project_name": "kpi_warehouse"}, "nodes": nodes}


def _pk(model: str, column: str = "thing_id") -> list[dict]:
    return [_test(model, "unique", column), _test(model, "not_null", column)]


def test_hygiene_accepts_a_well_formed_project():
    models = [
        _model("stg_core__things", "staging", deps=["source.kpi_warehouse.core.things"]),
        _model("int_things_joined", "intermediate", deps=["model.kpi_warehouse.stg_core__things"]),
        _model("fct_things", "marts", deps=["model.kpi_warehouse.int_things_joined"]),
        _model("metrics_daily_things", "marts", columns={"day": "The day.", "tenant_id": "Tenant."},
               code="select day, tenant_id from y"),
        _model("customer_analytics", "marts"),
    ]
    tests = (_pk("stg_core__things") + _pk("int_things_joined") + _pk("fct_things") + _pk("customer_analytics")
             + [_test("metrics_daily_things", "unique_combination_of_columns",
                      combination_of_columns=["day", "tenant_id"])])
    assert hygiene.check_manifest(_manifest(models, tests), MART_SETTINGS) == []


def test_hygiene_flags_each_violation():
    models = [
        _model("fct_undocumented", "marts", desc="", columns={"thing_id": ""}),
        _model("fct_no_grain", "marts", desc="Things, daily."),
        _model("fct_no_pk", "marts"),
        _model("fct_half_pk", "marts"),
        _model("fct_reads_source", "marts", deps=["source.kpi_warehouse.core.things"]),
        _model("things_report", "marts"),
        _model("stg_things", "staging"),
        _model("joined_things", "intermediate"),
        _model("fct_renamed", "marts", columns={"thing_id": "Key.", "old_name": "Gone."}),
    ]
    tests = (_pk("fct_undocumented") + _pk("fct_no_grain") + [_test("fct_half_pk", "unique", "thing_id")]
             + _pk("fct_reads_source") + _pk("things_report") + _pk("stg_things") + _pk("joined_things")
             + _pk("fct_renamed"))
    found = {(f.node, f.check) for f in hygiene.check_manifest(_manifest(models, tests), MART_SETTINGS)}
    assert found == {
        ("fct_undocumented", "model-description"),
        ("fct_undocumented", "column-description"),
        ("fct_no_grain", "grain"),
        ("fct_no_pk", "primary-key"),
        ("fct_half_pk", "primary-key"),
        ("fct_reads_source", "source-outside-staging"),
        ("things_report", "naming"),
        ("stg_things", "naming"),          # stg_<source folder>__<entity>
        ("joined_things", "naming"),
        ("fct_renamed", "column-exists"),
    }


def test_hygiene_exceptions_need_a_reason_and_go_stale(tmp_path):
    models = [_model("fct_no_pk", "marts")]
    cfg = tmp_path / "hygiene.yml"
    cfg.write_text("exceptions:\n  - {node: fct_no_pk, check: primary-key}\n")
    with pytest.raises(hygiene.UsageError, match="reason"):
        hygiene.load_settings(cfg)
    cfg.write_text("naming: {mart_prefixes: [fct_]}\nexceptions:\n"
                   "  - {node: fct_no_pk, check: primary-key, reason: a log table}\n"
                   "  - {node: fct_gone, check: grain, reason: old}\n")
    settings = hygiene.load_settings(cfg)
    found = hygiene.check_manifest(_manifest(models, []), settings)
    assert [(f.node, f.check) for f in found] == [("fct_gone", "stale-exception")]


def test_hygiene_flags_an_undocumented_seed_column(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "targets.csv").write_text("kpi,target,unit\nx,1,rate\n")
    seed = {"resource_type": "seed", "name": "targets", "package_name": "kpi_warehouse",
            "original_file_path": "seeds/targets.csv", "description": "KPI targets.",
            "columns": {"kpi": {"description": "KPI."}, "target": {"description": "Target."}}}
    found = hygiene.check_manifest(_manifest([], [], [seed]), MART_SETTINGS, tmp_path)
    assert [(f.node, f.check, f.message) for f in found] == [
        ("targets", "seed-docs", "undocumented column(s): unit")]

"""`kpi lint`: sqlfluff over the project's SQL, dbt-bouncer and the four manifest hygiene checks.

The project itself must be clean (a new violation fails CI); each check also has a
failing case: a bad SQL file in a temporary copy of the lint setup, the project's own
manifest with one convention broken per model for dbt-bouncer (``dbt-bouncer.yml``),
and small synthetic manifests for the three checks of :mod:`kpiwh.hygiene`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kpiwh import config, hygiene, lint, raw_ddl

ROOT = Path(__file__).resolve().parents[2]
NO_EXCEPTIONS = hygiene.Settings(exceptions={})


# --------------------------------------------------------------------------- the project
@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> Path:
    """A target folder holding the project's own manifest (``dbt parse``)."""
    target = tmp_path_factory.mktemp("lint-target")
    hygiene.parse_manifest(ROOT, target)
    return target


def test_project_hygiene_is_clean(parsed):
    findings = hygiene.run_bouncer(ROOT, parsed) + hygiene.check_manifest(
        json.loads((parsed / "manifest.json").read_text()), hygiene.load_settings(ROOT / hygiene.CONFIG_FILE), ROOT
    )
    assert findings == [], "\n".join(map(str, findings))


def test_schema_names_follow_the_target(parsed, tmp_path):
    """Shared targets build into the layer schemas; a developer's target into <target schema>_<layer>."""
    nodes = json.loads((parsed / "manifest.json").read_text())["nodes"].values()
    shared = {n["name"]: n["schema"] for n in nodes if n["resource_type"] == "model"}  # the default target
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            "ls",
            "--resource-type",
            "model",
            "--output",
            "json",
            "--output-keys",
            "name schema",
            "--project-dir",
            str(ROOT),
            "--profiles-dir",
            str(config.profiles_dir()),
            "--target",
            "dev",
            "--target-path",
            str(tmp_path / "dev"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**_env(), "USER": "alice", "KPI_PGHOST": os.environ.get("KPI_PGHOST", "/tmp")},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    dev = {
        r["name"]: r["schema"] for r in (json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{"))
    }
    assert shared["customer_analytics"] == "marts" and shared["stg_platform__events"] == "staging"
    assert dev["customer_analytics"] == "dev_alice_marts"
    assert dev["stg_platform__events"] == "dev_alice_staging"
    assert set(dev) == set(shared)


def test_dbt_bouncer_flags_each_broken_convention(parsed, tmp_path):
    """One convention broken on each of six real models: dbt-bouncer names each (check, model)."""
    manifest = json.loads((parsed / "manifest.json").read_text())
    nodes = manifest["nodes"]

    def model(name: str) -> dict:
        return nodes[f"model.kpi_warehouse.{name}"]

    model("metrics_daily_calls")["description"] = ""
    model("metrics_daily_content")["description"] = "Content KPIs, daily."
    model("fct_deals")["columns"]["deal_id"]["description"] = ""
    for uid in [
        u
        for u, n in nodes.items()
        if n.get("resource_type") == "test"
        and n.get("attached_node") == "model.kpi_warehouse.fct_disputes"
        and (n.get("test_metadata") or {}).get("name") in ("unique", "unique_combination_of_columns")
    ]:
        del nodes[uid]
    model("stg_bookings__customers")["name"] = "customers_staged"
    model("customer_analytics")["depends_on"]["nodes"].append("source.kpi_warehouse.bookings.bookings")
    broken = tmp_path / "target"
    broken.mkdir()
    (broken / "manifest.json").write_text(json.dumps(manifest))

    found = {(f.check, f.node) for f in hygiene.run_bouncer(ROOT, broken)}
    assert found == {
        ("check_model_description_populated", "metrics_daily_calls"),
        ("check_model_description_contains_regexp_pattern", "metrics_daily_calls"),
        ("check_model_description_contains_regexp_pattern", "metrics_daily_content"),
        ("check_model_column_description_populated", "fct_deals"),
        ("check_model_has_unique_test", "fct_disputes"),
        ("check_model_names", "stg_bookings__customers"),  # reported by its unique_id, named customers_staged
        ("check_lineage_source_cannot_be_used", "customer_analytics"),
    }


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
    shutil.copytree(ROOT / ".sqlfluff_libs", root / ".sqlfluff_libs", ignore=shutil.ignore_patterns("__pycache__"))
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
    proc = subprocess.run(
        [sys.executable, "-m", "kpiwh.main", "lint", "--no-hygiene"],
        cwd=proj,
        capture_output=True,
        text=True,
        timeout=120,
        env={**_env(), "KPI_PROJECT_DIR": str(proj)},
    )
    assert proc.returncode == 1, proc.stderr
    listed = [line for line in proc.stdout.splitlines() if line.startswith("models/fct_bad.sql:")]
    assert "models/fct_bad.sql:1: CP01 Keywords must be lower case." in listed
    assert len(listed) == len(proc.stdout.splitlines())  # nothing flagged outside the bad model
    assert proc.stderr.strip().startswith(f"error: lint failed: {len(listed)} SQL violation(s) in ")
    assert proc.stderr.strip().endswith(", 0 hygiene finding(s)")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "cli") + os.pathsep + env.get("PYTHONPATH", "")
    return env


# --------------------------------------------------------------------------- hygiene failing cases
def _model(name: str, *, columns: dict | None = None, code: str = "select thing_id from x") -> dict:
    cols = {"thing_id": "Primary key."} if columns is None else columns
    return {
        "resource_type": "model",
        "name": name,
        "package_name": "kpi_warehouse",
        "columns": {c: {"name": c, "description": d} for c, d in cols.items()},
        "raw_code": code,
    }


def _manifest(models: list[dict], seeds: list[dict] = ()) -> dict:
    nodes = {f"model.kpi_warehouse.{m['name']}": m for m in models}
    nodes.update({f"seed.kpi_warehouse.{s['name']}": s for s in seeds})
    return {"metadata": {"project_name": "kpi_warehouse"}, "nodes": nodes}


def test_hygiene_flags_a_yml_column_missing_from_the_sql():
    models = [
        _model("fct_things"),
        _model("fct_renamed", columns={"thing_id": "Key.", "old_name": "Gone."}),
        _model("{#- a comment naming old_name -#}", code="{# old_name #} select thing_id from x"),
    ]
    models[2]["name"] = "fct_commented"
    models[2]["columns"]["old_name"] = {"name": "old_name", "description": "Gone."}
    found = {(f.node, f.check, f.message) for f in hygiene.check_manifest(_manifest(models), NO_EXCEPTIONS)}
    assert found == {
        ("fct_renamed", "column-exists", "yml column(s) not in the SQL: old_name"),
        ("fct_commented", "column-exists", "yml column(s) not in the SQL: old_name"),  # a comment does not count
    }


def test_hygiene_flags_postgresql_only_sql_outside_jinja_comments_and_strings():
    code = (
        "{# a::b #}\nselect\n    x::int as y,  -- z::text\n"
        "    {{ json_get_text('m', 'k') ~ ' as k' }},\n"
        "    case when name ~ '^a' then 1 end as a,\n"
        "    'it''s ::fine ~ here' as s,\n"
        "    extract(epoch from t) as e\n"
        "from {{ ref('t') }} /* distinct on (x) */"
    )
    clean = "select {{ json_get_text('m', 'k') }} as k, cast(x as int) as y, 'a::b ~ c' as s from {{ ref('t') }}"
    models = [
        _model("fct_pg", columns={}, code=code),
        _model("fct_portable", columns={}, code=clean),
    ]
    found = [(f.node, f.check, f.message) for f in hygiene.check_manifest(_manifest(models), NO_EXCEPTIONS)]
    assert found == [
        (
            "fct_pg",
            "portable-sql",
            "PostgreSQL-only SQL outside macros/: '::' cast (line 3), regex operator ~ (line 5), "
            "extract(isoyear|epoch) (line 7); use a dispatched macro",
        )
    ]


def test_hygiene_exceptions_need_a_reason_and_go_stale(tmp_path):
    models = [_model("fct_renamed", columns={"thing_id": "Key.", "old_name": "Gone."})]
    cfg = tmp_path / "hygiene.yml"
    cfg.write_text("exceptions:\n  - {node: fct_renamed, check: column-exists}\n")
    with pytest.raises(hygiene.UsageError, match="reason"):
        hygiene.load_settings(cfg)
    cfg.write_text(
        "exceptions:\n"
        "  - {node: fct_renamed, check: column-exists, reason: a generated column}\n"
        "  - {node: fct_gone, check: column-exists, reason: old}\n"
    )
    settings = hygiene.load_settings(cfg)
    found = hygiene.check_manifest(_manifest(models), settings)
    assert [(f.node, f.check) for f in found] == [("fct_gone", "stale-exception")]


def test_hygiene_flags_an_undocumented_seed_column(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "targets.csv").write_text("kpi,target,unit\nx,1,rate\n")
    seed = {
        "resource_type": "seed",
        "name": "targets",
        "package_name": "kpi_warehouse",
        "original_file_path": "seeds/targets.csv",
        "description": "KPI targets.",
        "columns": {"kpi": {"description": "KPI."}, "target": {"description": "Target."}},
    }
    found = hygiene.check_manifest(_manifest([], [seed]), NO_EXCEPTIONS, tmp_path)
    assert [(f.node, f.check, f.message) for f in found] == [("targets", "seed-docs", "undocumented column(s): unit")]


def _source(source: str, table: str, columns: list[str], schema: str = "raw") -> dict:
    return {
        "resource_type": "source",
        "source_name": source,
        "name": table,
        "identifier": table,
        "schema": schema,
        "package_name": "kpi_warehouse",
        "columns": {c: {"name": c, "description": "A column."} for c in columns},
    }


def test_hygiene_flags_source_columns_that_differ_from_the_raw_ddl():
    """A raw source's yml columns against cli/kpiwh/sql/raw_contract.sql: a missing and an extra one are named."""
    ddl = raw_ddl.table_columns()
    tenants = [c for c in ddl["tenants"] if c != "signed_up_at"] + ["legacy_code"]
    manifest = _manifest([])
    manifest["sources"] = {
        "source.kpi_warehouse.core.tenants": _source("core", "tenants", tenants),
        "source.kpi_warehouse.core.locations": _source("core", "locations", list(ddl["locations"])),
        "source.kpi_warehouse.core.ghosts": _source("core", "ghosts", ["ghost_id", "_loaded_at"]),
        "source.kpi_warehouse.ext.feed": _source("ext", "feed", ["feed_id"], schema="ext"),  # not raw: not checked
    }
    found = [(f.node, f.check, f.message) for f in hygiene.check_manifest(manifest, NO_EXCEPTIONS)]
    assert found == [
        ("core.ghosts", "source-columns", "raw.ghosts is not created by the raw contract DDL"),
        (
            "core.tenants",
            "source-columns",
            "DDL column(s) missing from the yml: signed_up_at; yml column(s) not in the DDL: legacy_code",
        ),
    ]


# --------------------------------------------------------------------------- ruff failing case
def test_ruff_flags_python_and_fix_repairs_it(tmp_path):
    """An unused import and unformatted code: ruff names both; `--fix` repairs both."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "cli").mkdir()
    bad = tmp_path / "cli" / "bad.py"
    bad.write_text("import os\nx = {'a':1}\n")
    found = {(v.path, v.code) for v in lint.run_ruff(tmp_path)}
    assert found == {("cli/bad.py", "F401"), ("cli/bad.py", "I001"), ("cli/bad.py", "FORMAT")}
    assert lint.run_ruff(tmp_path, fix=True) == []
    assert bad.read_text() == 'x = {"a": 1}\n'


def test_project_python_is_ruff_clean():
    assert lint.run_ruff(ROOT) == []

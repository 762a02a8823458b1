"""Write-audit-publish: how ``kpi build`` builds the warehouse, and the atomic swap of what it built.

Owns the build orchestration: :func:`build` takes the build lock, completes an
erasure whose rebuild is pending (:mod:`kpiwh.erase`), and decides whether the
build runs in place or, for a first or full build of the whole project, into
shadow schemas (``<schema>__wap``) that are tested and then swapped in by
:func:`publish` in one transaction. Invoking dbt itself (parse, progress,
summaries, error translation) is :mod:`kpiwh.runner`'s.
"""

from __future__ import annotations

import os

from psycopg import sql
from rich.console import Console

from . import config, db, erase, lock, runner

#: suffix of the shadow schemas a published build writes (``marts`` -> ``marts__wap``)
SHADOW_SUFFIX = "__wap"


def _has_selection(command: list[str]) -> bool:
    return any(a in ("--select", "-s", "--exclude", "--selector", "--models", "-m") for a in command)


def _published(conn, manifest) -> bool:
    """Whether the project's incremental models exist in their published schemas (a first build has none)."""
    rels = [
        f'"{n.schema}"."{n.alias}"'
        for n in manifest.nodes.values()
        if n.resource_type == "model" and n.config.materialized == "incremental"
    ]
    return any(conn.execute("select to_regclass(%s) is not null", (r,)).fetchone()[0] for r in rels)


def _shadow_schemas(manifest) -> list[str]:
    """The published schemas a shadow build writes: every model and seed schema (snapshots keep theirs)."""
    return sorted(
        {
            n.schema
            for n in manifest.nodes.values()
            if n.resource_type in ("model", "seed") and n.config.materialized != "ephemeral"
        }
    )


def _drop_shadows(conn, schemas: list[str]) -> None:
    """Drop what an earlier publish build left behind (killed, failed): its shadow and retired schemas."""

    for s in schemas:
        for left in (s + SHADOW_SUFFIX, s + "__retired"):
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(left)))


def _carry_kept_history(conn, manifest) -> list[str]:
    """Copy each published table of a ``full_refresh: false`` model into its shadow schema.

    Such a model keeps history a rebuild cannot recreate (the alert lifecycle and its
    notification log): the shadow build then runs it incrementally on top of the copy,
    as a scheduled run would, instead of starting it empty.

    Returns:
        the ``schema.table`` names copied.
    """

    copied = []
    for n in manifest.nodes.values():
        if n.resource_type != "model" or n.config.get("full_refresh") is not False:
            continue
        published = f'"{n.schema}"."{n.alias}"'
        if not conn.execute("select to_regclass(%s) is not null", (published,)).fetchone()[0]:
            continue
        src, dst = sql.Identifier(n.schema, n.alias), sql.Identifier(n.schema + SHADOW_SUFFIX, n.alias)
        with conn.transaction():
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(n.schema + SHADOW_SUFFIX)))
            conn.execute(sql.SQL("create table {} (like {} including all)").format(dst, src))
            conn.execute(sql.SQL("insert into {} select * from {}").format(dst, src))
        copied.append(f"{n.schema}.{n.alias}")
    return copied


def publish(conn, schemas: list[str]) -> None:
    """Swap the shadow schemas in for the published ones, in ONE transaction; then drop the old ones.

    Readers resolve ``marts.x`` to the old table until the commit and to the new one after it
    (tables, their grants, row-level security policies, comments and indexes move with the
    schema; views keep pointing at the objects they were built on). The load watermarks the
    shadow models recorded (``ops.model_watermarks``, keyed ``schema.table``) move with them.

    Args:
        conn: autocommit psycopg connection (the transaction is opened here).
        schemas: published schema names (e.g. ``["config", "intermediate", "marts", "staging"]``);
            each ``<name>__wap`` must exist.
    Raises:
        psycopg.Error: the swap failed; nothing was changed (the transaction rolled back).
    """

    retired: list[str] = []
    with conn.transaction():
        for s in schemas:
            if conn.execute("select to_regnamespace(%s) is not null", (s,)).fetchone()[0]:
                conn.execute(
                    sql.SQL("alter schema {} rename to {}").format(sql.Identifier(s), sql.Identifier(s + "__retired"))
                )
                retired.append(s + "__retired")
            conn.execute(
                sql.SQL("alter schema {} rename to {}").format(sql.Identifier(s + SHADOW_SUFFIX), sql.Identifier(s))
            )
        if conn.execute("select to_regclass('ops.model_watermarks') is not null").fetchone()[0]:
            conn.execute("delete from ops.model_watermarks where split_part(model_name, '.', 1) = any(%s)", (schemas,))
            conn.execute(
                "update ops.model_watermarks set model_name = "
                "left(split_part(model_name, '.', 1), -%s) || '.' || split_part(model_name, '.', 2) "
                "where split_part(model_name, '.', 1) = any(%s)",
                (len(SHADOW_SUFFIX), [s + SHADOW_SUFFIX for s in schemas]),
            )
    for r in retired:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(r)))


def build(
    command: list[str],
    *,
    full_refresh: bool,
    vars_json: str | None,
    console: Console | None = None,
    raise_on_failure: bool = True,
) -> runner.RunSummary:
    """``dbt build`` under the build lock; a first or full build of the whole project is published atomically.

    Write-audit-publish: when ``command`` selects the whole project (no ``--select`` /
    ``--exclude``) and it is a ``--full-refresh`` or nothing has been published yet,
    every model and seed is built into shadow schemas (``<schema>__wap``, set through
    ``KPI_SCHEMA_SUFFIX``, macro generate_schema_name), one statement per model, and
    tested there; only when every node passed are the shadows swapped in, in one
    transaction (:func:`publish`). A ``full_refresh: false`` model (alert history) is
    copied into its shadow first and updated incrementally there. A failed test or a killed build leaves the
    published schemas exactly as they were (the next build drops the leftovers).
    Any other build runs in place: each incremental model replaces its recomputed
    days inside one transaction, each table model is swapped in by dbt's rename.
    An in-place build over published marts without ``--full-refresh`` (a scheduled
    run) skips dbt unit tests (``DBT_EXCLUDE_RESOURCE_TYPES=unit_test`` unless the
    caller chose resource types): their inputs are fixed, they change with the code.

    Args:
        command: e.g. ``["build", "--select", "x"]`` (``--full-refresh``/``--vars`` included).
        full_refresh: whether ``command`` holds ``--full-refresh``.
        vars_json: the ``--vars`` value in ``command``.
        console: where progress and the publish messages go (stderr console by default).
        raise_on_failure: raise :class:`kpiwh.errors.BuildFailed` when anything failed.
    Returns / Raises: as :func:`kpiwh.runner.invoke`; the build lock is held from the parse to the end.
    """

    with lock.build_lock(runner.invoked_as()):
        return _build(
            command, full_refresh=full_refresh, vars_json=vars_json, console=console, raise_on_failure=raise_on_failure
        )


def _build(
    command: list[str], *, full_refresh: bool, vars_json: str | None, console: Console | None, raise_on_failure: bool
) -> runner.RunSummary:
    console = console or Console(stderr=True)

    # an erasure whose rebuild did not finish (kpiwh.erase): completed before anything else
    for receipt_id in erase.complete_pending(console):
        console.print(f"completed the pending rebuild of erasure receipt {receipt_id}")
    manifest = runner.parse(vars_json)
    schemas = _shadow_schemas(manifest)
    with db.connect() as conn:
        _drop_shadows(conn, schemas)
        published = _published(conn, manifest)
        wap = not _has_selection(command) and (full_refresh or not published)
    if not wap:
        # a scheduled run over published marts: unit tests have fixed inputs (yml), so they only
        # change with the code; first and full builds and CI run them (dbt's own advice)
        skip_unit = (
            not full_refresh
            and published
            and "DBT_EXCLUDE_RESOURCE_TYPES" not in os.environ
            and not any(a.startswith(("--resource-type", "--exclude-resource-type")) for a in command)
        )
        if skip_unit:
            os.environ["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
        try:
            summary = runner.invoke(command, console=console, raise_on_failure=False, manifest=manifest)
        finally:
            if skip_unit:
                os.environ.pop("DBT_EXCLUDE_RESOURCE_TYPES", None)
    else:
        console.print("first or full build: built and tested in shadow schemas, published when every test passed")
        with db.connect() as conn:
            kept = _carry_kept_history(conn, manifest)
        if kept:
            console.print(f"history kept (full_refresh: false): {', '.join(kept)}")
        os.environ["KPI_SCHEMA_SUFFIX"] = SHADOW_SUFFIX
        shadow_target = str(config.project_dir() / "target" / "wap")
        try:
            shadow = runner.parse(vars_json, target_path=shadow_target)
            shadow_command = [c for c in command if c != "--full-refresh"] + ["--target-path", shadow_target]
            summary = runner.invoke(shadow_command, console=console, raise_on_failure=False, manifest=shadow)
        finally:
            os.environ.pop("KPI_SCHEMA_SUFFIX", None)
        if summary.success:
            with db.connect() as conn:
                publish(conn, schemas)
            console.print(f"published {', '.join(schemas)}")
            # target/manifest.json describes the published schemas (kpi status, BI docs); the
            # shadow run wrote its own (with the __wap schemas) to target/wap
            from dbt.parser.manifest import write_manifest  # noqa: PLC0415  (dbt: ~2 s import)

            write_manifest(manifest, str(config.project_dir() / "target"))
        else:
            console.print("not published: the previously published schemas are unchanged")
    if raise_on_failure and not summary.success:
        runner.raise_failed(summary)
    return summary

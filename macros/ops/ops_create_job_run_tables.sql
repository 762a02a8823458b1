{#-
  ops_create_job_run_tables()
  DDL (idempotent) of the job-run log, seed 004's `etl_job_runs`:
  ops.etl_job_runs (one row per dbt invocation) and ops.etl_job_run_nodes
  (one row per node an invocation executed). Rendered by ops_record_job_run;
  `kpi status` reads both; readable by kpi_admin only (seed 004's matrix)
  unless var kpi_security is false. Portable types (dbt.type_*), timestamptz via
  type_timestamp_tz().
-#}
{% macro ops_create_job_run_tables() -%}
    {%- set ts = type_timestamp_tz() -%}
    {%- set str = dbt.type_string() -%}
    {%- set int = dbt.type_int() -%}
    create schema if not exists ops;

    create table if not exists ops.etl_job_runs (
        invocation_id {{ str }} not null primary key,
        command {{ str }} not null,
        target_name {{ str }},
        selector {{ str }},
        event_time_start {{ str }},
        event_time_end {{ str }},
        started_at {{ ts }} not null,
        finished_at {{ ts }},
        status {{ str }} not null,
        nodes_total {{ int }} not null,
        nodes_ok {{ int }} not null,
        nodes_error {{ int }} not null,
        nodes_skipped {{ int }} not null,
        nodes_warn {{ int }} not null,
        invoked_via {{ str }},
        run_by {{ str }},
        dbt_version {{ str }}
    );

    create table if not exists ops.etl_job_run_nodes (
        invocation_id {{ str }} not null,
        unique_id {{ str }} not null,
        resource_type {{ str }} not null,
        status {{ str }} not null,
        rows_affected {{ dbt.type_bigint() }},
        execution_seconds {{ dbt.type_numeric() }},
        failures {{ int }},
        message {{ str }},
        batches_succeeded {{ int }},
        batches_failed {{ int }},
        freshness_max_loaded_at {{ ts }},
        freshness_age_seconds {{ dbt.type_numeric() }},
        primary key (invocation_id, unique_id)
    )
    {%- if var('kpi_security', true) %};

    -- seed 004's matrix: etl_job_runs is admin only (docs/security.md)
    grant select on ops.etl_job_runs, ops.etl_job_run_nodes to kpi_admin
    {%- endif %}
{%- endmacro %}

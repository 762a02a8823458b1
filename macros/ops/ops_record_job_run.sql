{#-
  ops_record_job_run(results)  — the project's on-run-end hook (dbt_project.yml).

  Seed 004's `etl_job_runs`, kept by dbt itself: every invocation that runs
  project hooks (dbt build / run / test / seed / snapshot / retry, and
  `dbt source freshness`) records one row in ops.etl_job_runs and one row per
  executed node in ops.etl_job_run_nodes — whether it came from `kpi` or from
  a plain `dbt build` by an analyst. `dbt ls / parse / compile / show /
  docs` run no project hooks, so they cost nothing here.

  Never fails a build: with nothing executed it records a run with 0 nodes;
  messages are truncated and quoted with ops_sql_string(). The tables are
  created when missing (ops_create_job_run_tables). Runs older than var
  ops_job_run_retention_days (default 365, seed 004's 1-year retention) are
  deleted here, so the log prunes itself on every run.

  Returns the SQL for dbt to execute (postgres__: followed by a commit).
-#}
{% macro ops_record_job_run(results) -%}
    {{ return(adapter.dispatch('ops_record_job_run', 'kpi_warehouse')(results)) }}
{%- endmacro %}

{% macro default__ops_record_job_run(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set command = flags.WHICH | string -%}
    {%- if command not in ('build', 'run', 'test', 'seed', 'snapshot', 'retry', 'freshness', 'source') -%}
        {{ return('') }}
    {%- endif -%}
    {%- if command == 'source' -%}{%- set command = 'freshness' -%}{%- endif -%}
    {%- set ok_statuses = ('success', 'pass', 'warn') -%}
    {%- set error_statuses = ('error', 'fail', 'runtime error', 'partial success') -%}
    {%- set ts = type_timestamp_tz() -%}
    {%- set node_rows = [] -%}
    {%- set counts = {'ok': 0, 'error': 0, 'skipped': 0, 'warn': 0, 'partial': 0} -%}
    {%- for r in results if r.node is defined and r.node is not none -%}
        {%- set status = (r.status | string | lower) -%}
        {%- if status in ok_statuses -%}{%- do counts.update({'ok': counts.ok + 1}) -%}
        {%- elif status in error_statuses -%}{%- do counts.update({'error': counts.error + 1}) -%}
        {%- elif status == 'skipped' -%}{%- do counts.update({'skipped': counts.skipped + 1}) -%}
        {%- endif -%}
        {%- if status == 'warn' -%}{%- do counts.update({'warn': counts.warn + 1}) -%}{%- endif -%}
        {%- if status == 'partial success' -%}{%- do counts.update({'partial': counts.partial + 1}) -%}{%- endif -%}
        {%- set resp = r.adapter_response if (r.adapter_response is defined and r.adapter_response is mapping) else {} -%}
        {%- set rows_affected = resp.get('rows_affected') -%}
        {%- set batches = r.batch_results if r.batch_results is defined else none -%}
        {%- set age = r.age if (r.age is defined and r.age is number) else none -%}
        {%- set max_loaded = r.max_loaded_at if r.max_loaded_at is defined else none -%}
        {#- an empty source table reports year 1 and an absurd age: record null ("no rows") -#}
        {%- if max_loaded is not none and max_loaded.year < 1000 -%}
            {%- set max_loaded = none -%}{%- set age = none -%}
        {%- endif -%}
        {%- do node_rows.append("("
            ~ ops_sql_string(invocation_id) ~ ", "
            ~ ops_sql_string(r.node.unique_id) ~ ", "
            ~ ops_sql_string(r.node.resource_type | string) ~ ", "
            ~ ops_sql_string(status) ~ ", "
            ~ ("cast(null as " ~ dbt.type_bigint() ~ ")" if rows_affected is not number else (rows_affected | int | string)) ~ ", "
            ~ ((r.execution_time or 0) | float | round(3) | string) ~ ", "
            ~ ("cast(null as " ~ dbt.type_int() ~ ")" if r.failures is not number else (r.failures | int | string)) ~ ", "
            ~ ops_sql_string(r.message if status not in ok_statuses or r.node.resource_type | string == 'source' else none) ~ ", "
            ~ ("cast(null as " ~ dbt.type_int() ~ ")" if batches is none else (batches.successful | length | string)) ~ ", "
            ~ ("cast(null as " ~ dbt.type_int() ~ ")" if batches is none else (batches.failed | length | string)) ~ ", "
            ~ ("cast(null as " ~ ts ~ ")" if max_loaded is none else "cast(" ~ ops_sql_string(max_loaded.isoformat()) ~ " as " ~ ts ~ ")") ~ ", "
            ~ ("cast(null as " ~ dbt.type_numeric() ~ ")" if age is none else (age | float | round(1) | string))
            ~ ")") -%}
    {%- endfor -%}
    {#- error: something failed and nothing (not even one microbatch batch) succeeded;
        partial: some nodes or batches failed or were skipped, others succeeded -#}
    {%- if counts.error > 0 and counts.ok == 0 and counts.partial == 0 -%}
        {%- set run_status = 'error' -%}
    {%- elif counts.error > 0 or counts.skipped > 0 -%}
        {%- set run_status = 'partial' -%}
    {%- else -%}
        {%- set run_status = 'success' -%}
    {%- endif -%}
    {%- set args = invocation_args_dict if invocation_args_dict is mapping else {} -%}
    {%- set sel = args.get('select') -%}
    {%- set sel_text = (sel | join(' ')) if (sel is iterable and sel is not string) else sel -%}
    {%- set now_utc = modules.datetime.datetime.now(modules.pytz.utc) -%}
    {%- set retention_days = var('ops_job_run_retention_days', 365) | int -%}
    {%- set cutoff = dbt.dateadd('day', -1 * retention_days, dbt.current_timestamp()) -%}

    {{ ops_create_job_run_tables() }};

    delete from ops.etl_job_run_nodes
    where invocation_id in (select invocation_id from ops.etl_job_runs where started_at < {{ cutoff }})
       or invocation_id = {{ ops_sql_string(invocation_id) }};
    delete from ops.etl_job_runs
    where started_at < {{ cutoff }} or invocation_id = {{ ops_sql_string(invocation_id) }};

    insert into ops.etl_job_runs (
        invocation_id, command, target_name, selector, event_time_start, event_time_end,
        started_at, finished_at, status, nodes_total, nodes_ok, nodes_error, nodes_skipped, nodes_warn,
        invoked_via, run_by, dbt_version
    ) values (
        {{ ops_sql_string(invocation_id) }},
        {{ ops_sql_string(command) }},
        {{ ops_sql_string(target.name) }},
        {{ ops_sql_string(sel_text if sel_text else none) }},
        {#- the window of a backfill (vars kpi_backfill_start/_end), or dbt's own event-time flags -#}
        {%- set window_start = var('kpi_backfill_start', none) or args.get('event_time_start') %}
        {%- set window_end = var('kpi_backfill_end', none) or args.get('event_time_end') %}
        {{ ops_sql_string(window_start | string if window_start else none) }},
        {{ ops_sql_string(window_end | string if window_end else none) }},
        cast({{ ops_sql_string(run_started_at.isoformat()) }} as {{ ts }}),
        cast({{ ops_sql_string(now_utc.isoformat()) }} as {{ ts }}),
        {{ ops_sql_string(run_status) }},
        {{ node_rows | length }}, {{ counts.ok }}, {{ counts.error }}, {{ counts.skipped }}, {{ counts.warn }},
        {{ ops_sql_string(env_var('KPI_INVOKED_VIA', 'dbt ' ~ command)) }},
        {{ ops_sql_string(env_var('KPI_RUN_BY', env_var('USER', env_var('LOGNAME', target.user)))) }},
        {{ ops_sql_string(dbt_version) }}
    );

    {%- if node_rows %}

    insert into ops.etl_job_run_nodes (
        invocation_id, unique_id, resource_type, status, rows_affected, execution_seconds, failures,
        message, batches_succeeded, batches_failed, freshness_max_loaded_at, freshness_age_seconds
    ) values
    {{ node_rows | join(',\n    ') }}
    {%- endif %}
{%- endmacro %}

{#- dbt runs on-run-end SQL outside a transaction, but psycopg2 opens one implicitly: commit it -#}
{% macro postgres__ops_record_job_run(results) -%}
    {%- set body = default__ops_record_job_run(results) -%}
    {%- if body | trim -%}
    {{ body }};
    commit
    {%- endif -%}
{%- endmacro %}


{#- A SQL string literal of any value (None -> null): quotes doubled, control
    characters kept, at most 4000 characters (a compiled-SQL error can be long). -#}
{% macro ops_sql_string(value) -%}
    {%- if value is none -%}null
    {%- else -%}'{{ (value | string)[:4000] | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

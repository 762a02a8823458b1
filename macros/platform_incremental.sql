{#-
  Incremental platform intermediates (DECISIONLOG "Incremental platform
  intermediates"): the watermark of the model being built = the latest
  stg_platform__events.dbt_loaded_at it has already processed (its staged_at
  column). Staging rows written after it are new; the entities (users) they
  touch are recomputed from all their staging rows.
-#}
{#- Rendered as a literal (read when the model runs) so that the planner sees
    how few staging rows are newer and uses the dbt_loaded_at index. -#}
{% macro platform_staged_watermark() -%}
    {{ platform_watermark_literal('select max(staged_at) from ' ~ this) }}
{%- endmacro %}

{#- The first value of `query` (a timestamptz, run when the model runs) as a SQL
    literal; 1900-01-01 when it is null or while dbt only parses. -#}
{% macro platform_watermark_literal(query) -%}
    {%- set watermark = none -%}
    {%- if execute -%}
        {%- set result = run_query('select cast((' ~ query ~ ') as ' ~ dbt.type_string() ~ ')') -%}
        {%- set watermark = result.columns[0].values()[0] -%}
    {%- endif -%}
    '{{ watermark if watermark is not none else "1900-01-01 00:00:00+00" }}'
{%- endmacro %}

{#- Distinct entity_id of `domain`'s staging rows written since the watermark (incremental runs only). -#}
{% macro platform_touched_entities(domain) -%}
    select distinct entity_id
    from {{ ref('stg_platform__events') }}
    where event_domain = '{{ domain }}'
        and entity_id is not null
        and dbt_loaded_at > {{ platform_staged_watermark() }}
{%- endmacro %}

{#- The watermark of a model that keeps it in ops.model_watermarks instead of a
    column (a mart whose rows must stay byte-identical across re-runs): a SQL
    literal; 1900-01-01 when none is recorded (then every week is recomputed). -#}
{% macro platform_recorded_watermark() -%}
    {{ platform_watermark_literal(platform_recorded_watermark_query()) }}
{%- endmacro %}

{#- SQL query of this model's recorded watermark in ops.model_watermarks (`null`
    while that table does not exist): one value, null when none is recorded. -#}
{% macro platform_recorded_watermark_query() -%}
    {%- set table = adapter.get_relation(database=this.database, schema='ops', identifier='model_watermarks')
        if execute else none -%}
    {%- if table is none -%}
        select null
    {%- else -%}
        select max(staged_at) from {{ table }} where model_name = '{{ platform_watermark_key() }}'
    {%- endif -%}
{%- endmacro %}

{#- on-run-start: ops.model_watermarks (one row per model that keeps its watermark
    outside its rows), admin only like the job-run log. Created once per dbt run,
    before any model: DDL and GRANT in post-hooks of models running in parallel
    threads collide ("tuple concurrently updated"). -#}
{% macro platform_watermark_table() -%}
    {%- set ts = type_timestamp_tz() -%}
    create schema if not exists ops;
    create table if not exists ops.model_watermarks (
        model_name {{ dbt.type_string() }} not null primary key,
        staged_at {{ ts }},
        recorded_at {{ ts }} not null
    )
    {%- if var('kpi_security', true) %};
    -- operational metadata, like the job-run log: admin only (docs/security.md)
    grant select on ops.model_watermarks to kpi_admin
    {%- endif %}
{%- endmacro %}

{#- The key of this model's row in ops.model_watermarks: schema.table, so that a
    build into another schema (a shadow being built for an atomic publish, a
    developer's own target) never moves the published tables' watermark. -#}
{% macro platform_watermark_key() -%}
    {{ this.schema }}.{{ this.identifier }}
{%- endmacro %}

{#- Post-hook of every model (dbt_project.yml): records the load watermark of a
    `replace_days` model, and of a model that names its raw load column in
    config `kpi_load_watermark` (staging); nothing for other models. -#}
{% macro kpi_record_watermark() -%}
    {%- if config.get('incremental_strategy') == 'replace_days' -%}
        {{ platform_record_watermark() }}
    {%- elif config.get('kpi_load_watermark') -%}
        {{ staging_record_load_watermark(config.get('kpi_load_watermark')) }}
    {%- endif -%}
{%- endmacro %}

{#- Staging's load watermark, a SQL literal: the newest raw load time
    (`_loaded_at`) it has staged, as recorded in ops.model_watermarks; without a
    record (a table staged before the record existed) the newest value in the
    table itself; 1900-01-01 on a first build. -#}
{% macro staging_load_watermark() -%}
    {{ platform_watermark_literal("coalesce((" ~ platform_recorded_watermark_query() ~ "), (select max(_loaded_at) from " ~ this ~ "))") }}
{%- endmacro %}

{#- Post-hook of staging: its new load watermark = the newest raw load time of
    the rows this run wrote (their dbt_loaded_at is this transaction's start),
    or the previous watermark when it wrote none. Read through the
    dbt_loaded_at index, not by a scan of the event log. -#}
{% macro staging_record_load_watermark(column) -%}
    insert into ops.model_watermarks (model_name, staged_at, recorded_at)
    select '{{ platform_watermark_key() }}', max({{ column }}), {{ dbt.current_timestamp() }}
    from {{ this }}
    where dbt_loaded_at = {{ dbt.current_timestamp() }}
    having max({{ column }}) is not null
    on conflict (model_name) do update
        set staged_at = greatest(ops.model_watermarks.staged_at, excluded.staged_at),
            recorded_at = excluded.recorded_at
{%- endmacro %}

{#- Post-hook: record in ops.model_watermarks that the model has processed every
    staging row written so far (the latest stg_platform__events.dbt_loaded_at).
    Runs after the model's rows are written, in the same dbt run (the build lock
    keeps staging still meanwhile); a failed model records nothing, so its next
    run recomputes more, never less. The table comes from the on-run-start hook
    platform_watermark_table(). -#}
{% macro platform_record_watermark() -%}
    delete from ops.model_watermarks where model_name = '{{ platform_watermark_key() }}';
    insert into ops.model_watermarks (model_name, staged_at, recorded_at)
    select '{{ platform_watermark_key() }}', max(dbt_loaded_at), {{ dbt.current_timestamp() }}
    from {{ ref('stg_platform__events') }}
{%- endmacro %}

{#- Post-hook of a model that reads the change feed (dbt_loaded_at) of other
    models: records in ops.model_watermarks that it has processed every row they
    hold so far — the newest dbt_loaded_at among `relations` (each read through
    its dbt_loaded_at index). Same transaction as the model's rows; a failed run
    records nothing, so the next one recomputes more, never less. Read back with
    platform_recorded_watermark(). -#}
{% macro kpi_record_input_watermark(relations) -%}
    {%- if relations | length == 1 -%}
        {%- set newest = '(select max(dbt_loaded_at) from ' ~ relations[0] ~ ')' -%}
    {%- else -%}
        {%- set parts = [] -%}
        {%- for relation in relations -%}
            {%- do parts.append('(select max(dbt_loaded_at) from ' ~ relation ~ ')') -%}
        {%- endfor -%}
        {%- set newest = 'greatest(' ~ parts | join(', ') ~ ')' -%}
    {%- endif -%}
    insert into ops.model_watermarks (model_name, staged_at, recorded_at)
    select '{{ platform_watermark_key() }}', {{ newest }}, {{ dbt.current_timestamp() }}
    on conflict (model_name) do update
        set staged_at = excluded.staged_at,
            recorded_at = excluded.recorded_at
{%- endmacro %}

{#- Condition: the ISO week of `day_expression` is one of the touched_weeks CTE
    (incremental runs); always true on a first build / --full-refresh. -#}
{% macro platform_in_touched_weeks(day_expression) -%}
    {%- if is_incremental() -%}
        cast({{ dbt.date_trunc('week', day_expression) }} as date) in (select week_start from touched_weeks)
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- The ISO weeks (week_start, a Monday) an incremental weekly rollup recomputes:
    the weeks of the days of `domain`'s staging rows written since the model's
    recorded watermark (their daily mart rows were rewritten), plus the weeks of
    each (relation, day expression) pair on intermediate rows recomputed since
    then (a duration counts in the week of its ending event, which can lie in
    another week than the event that changed it). Incremental runs only. -#}
{% macro platform_touched_weeks(domain, intermediates=[]) -%}
    {%- set watermark = platform_recorded_watermark() -%}
    select cast({{ dbt.date_trunc('week', 'event_date') }} as date) as week_start
    from {{ ref('stg_platform__events') }}
    where event_domain = '{{ domain }}'
        and dbt_loaded_at > {{ watermark }}
    union
    -- the week a corrected copy moved an event out of
    select cast({{ dbt.date_trunc('week', 'previous_event_date') }} as date) as week_start
    from {{ ref('stg_platform__events') }}
    where event_domain = '{{ domain }}'
        and dbt_loaded_at > {{ watermark }}
        and previous_event_date is not null
    {%- for relation, day_expression in intermediates %}
    union
    select cast({{ dbt.date_trunc('week', day_expression) }} as date) as week_start
    from {{ relation }}
    where staged_at > {{ watermark }}
        and {{ day_expression }} is not null
    {%- endfor %}
{%- endmacro %}

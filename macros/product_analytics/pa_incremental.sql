{#-
  pa_stream_events(columns)
  SQL selecting `columns` (plus dbt_loaded_at) of stg_platform__events for the event
  domains of var product_analytics.streams: what every declared analysis reads.
-#}
{% macro pa_stream_events(columns, streams) -%}
    select
        {%- for c in columns | unique | sort %}
        {{ c }},
        {%- endfor %}
        dbt_loaded_at
    from {{ ref('stg_platform__events') }}
    where event_domain in ('{{ streams | join("', '") }}')
{%- endmacro %}


{#-
  pa_touched_entities(analysis, events)
  (incremental runs) The entities of `analysis` with an event of its own staged since
  the analysis's watermark in this model: max(staged_at) of its rows with the current
  definition_hash (none = every entity: a new or edited entry is computed whole).
-#}
{% macro pa_touched_entities(analysis, events, condition) -%}
    select distinct cast({{ analysis.entity }} as {{ dbt.type_string() }}) as entity_key
    from {{ events }}
    where {{ analysis.entity }} is not null
        and dbt_loaded_at > {{ platform_watermark_literal(
            'select max(staged_at) from ' ~ this ~ " where analysis_name = '" ~ analysis.name
            ~ "' and definition_hash = '" ~ analysis.definition_hash ~ "'") }}
        and ({{ condition }})
{%- endmacro %}


{#-
  pa_delete_stale_rows(analyses)
  Pre-hook of the declared-analysis intermediates (incremental runs): deletes the rows of
  analyses no longer declared, or declared differently (another definition_hash), so an
  edited entry is recomputed whole and a removed one leaves no rows.
-#}
{% macro pa_delete_stale_rows(kind) -%}
    {%- if is_incremental() -%}
        {%- set keys = [] -%}
        {%- for a in pa_definitions()[kind] -%}
            {%- do keys.append("'" ~ a.name ~ '|' ~ a.definition_hash ~ "'") -%}
        {%- endfor -%}
        delete from {{ this }}
        {%- if keys %}
        where {{ dbt.concat(['analysis_name', "'|'", 'definition_hash']) }} not in ({{ keys | join(', ') }})
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#-
  kpi_days_to_process()
  The UTC days an incremental run of a `replace_days` model recomputes (the
  incremental manifest idea of snowplow-web: what was loaded since this model's
  last successful run, however late its events are):
    * the days of the staging events written since the model's watermark
      (stg_platform__events.dbt_loaded_at > watermark), both the day an event
      is on now (event_date) and the day a corrected copy moved it from
      (previous_event_date), restricted to the config's `domains` when given;
    * with `entity_days` true, the days of every staged event of those domains
      whose entity_id is one of the events' above (the whole history of a
      touched entity, e.g. a moderation flag whose first decision or appeal
      review a late event re-classifies; needs `domains`);
    * the days of rows of each `intermediates` pair (model name, day column;
      a column named *_at is a timestamptz, taken as its UTC day)
      recomputed since the watermark (staged_at > watermark), e.g. an order
      completed today whose creation day lies weeks back;
    * the backfill window [var kpi_backfill_start, var kpi_backfill_end), when set;
    * each of those days followed by `days_after` days, for state that a day
      carries forward (rolling WAU/MAU: 29, repeat customers' 7 days: 6);
    * never a day before the retention horizon (kpi_retention_horizon()) plus
      `days_after`: raw and staging no longer hold the events of the days
      before the horizon, so neither such a day nor a day whose rolling window
      (`days_after` days back, e.g. MAU's 29) reaches before it can be
      recomputed whole; their kept aggregates stay as they are (a late event
      older than that is staged, removed by the next retention run, and never
      recomputes its day).
  Config (model): kpi_changed_days = {'domains': [...], 'entity_days': bool, 'intermediates': [[name, column], ...], 'days_after': N}.
  Returns a sorted list of ISO date strings; none outside an incremental run
  (first build, --full-refresh, parse/compile): then the model reads everything.
  Called by the model (its filters) and by the strategy (what it deletes): both
  see the same watermark and the same staging rows, so they agree.
-#}
{% macro kpi_days_to_process() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set spec = config.get('kpi_changed_days') or {} -%}
    {%- set watermark = platform_recorded_watermark() -%}
    {%- set staging = ref('stg_platform__events') -%}
    {%- set domains = spec.get('domains') or [] -%}
    {%- set domain_filter -%}
        {%- if domains %} and event_domain in ('{{ domains | join("', '") }}'){% endif -%}
    {%- endset -%}
    {%- set query -%}
        select cast(event_date as {{ dbt.type_string() }}) from {{ staging }}
        where dbt_loaded_at > {{ watermark }}{{ domain_filter }}
        union
        select cast(previous_event_date as {{ dbt.type_string() }}) from {{ staging }}
        where dbt_loaded_at > {{ watermark }} and previous_event_date is not null{{ domain_filter }}
        {%- if spec.get('entity_days') and domains %}
        union
        -- the other days of the touched entities (index on event_domain, entity_id)
        select cast(event_date as {{ dbt.type_string() }}) from {{ staging }}
        where entity_id in (
            select entity_id from {{ staging }}
            where dbt_loaded_at > {{ watermark }} and entity_id is not null{{ domain_filter }}
        ){{ domain_filter }}
        {%- endif %}
        {%- for name, column in spec.get('intermediates') or [] %}
        {%- set day = utc_date(column) if column.endswith('_at') else column %}
        union
        select cast({{ day }} as {{ dbt.type_string() }}) from {{ ref(name) }}
        where staged_at > {{ watermark }} and {{ column }} is not null
        {%- endfor %}
    {%- endset -%}
    {%- set found = run_query(query).columns[0].values() -%}
    {%- set days = [] -%}
    {%- set dt = modules.datetime -%}
    {%- for value in found -%}
        {%- do days.append(dt.date.fromisoformat(value[:10])) -%}
    {%- endfor -%}
    {%- set backfill_start = var('kpi_backfill_start', none) -%}
    {%- set backfill_end = var('kpi_backfill_end', none) -%}
    {%- if backfill_start and backfill_end -%}
        {%- set first = dt.date.fromisoformat(backfill_start | string) -%}
        {%- set last = dt.date.fromisoformat(backfill_end | string) -%}
        {%- for offset in range((last - first).days) -%}
            {%- do days.append(first + dt.timedelta(days=offset)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set result = [] -%}
    {%- set horizon = kpi_retention_horizon() -%}
    {%- set floor = none -%}
    {%- if horizon -%}
        {%- set floor = (dt.date.fromisoformat(horizon) + dt.timedelta(days=spec.get('days_after') or 0)).isoformat() -%}
    {%- endif -%}
    {%- for day in days -%}
        {%- for offset in range((spec.get('days_after') or 0) + 1) -%}
            {%- set shown = (day + dt.timedelta(days=offset)).isoformat() -%}
            {%- if shown not in result and (floor is none or shown >= floor) -%}
                {%- do result.append(shown) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(result | sort) }}
{%- endmacro %}

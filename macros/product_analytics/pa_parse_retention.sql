{#-
  pa_parse_retention(entry, label, streams)
  One retention entry of var product_analytics, checked (one-line error naming
  `label`) and normalised (see pa_definitions). Keys: name, description, entity
  (default user_id), start and return ('any' or {event and/or where}), cohort_grain
  (day | week | month, or a list of them), period_unit (day | week | month, default the
  first cohort grain), periods (positive whole numbers, at least one), breakdown
  (a column or metadata.<key>).
-#}
{% macro pa_parse_retention(entry, label, streams) -%}
    {%- do pa_check_keys(entry, ['name', 'description', 'entity', 'start', 'return', 'cohort_grain', 'period_unit', 'periods', 'breakdown'], label) -%}
    {%- set grains_allowed = ['day', 'week', 'month'] -%}
    {%- set columns = ['occurred_at', 'event_date'] -%}
    {%- set description = entry.get('description', '') -%}
    {%- if description is not string -%}
        {{ pa_fail(label ~ '.description', 'must be text') }}
    {%- endif -%}
    {%- set entity = entry.get('entity', 'user_id') -%}
    {%- if entity is not string or entity not in pa_event_columns() -%}
        {{ pa_fail(label ~ '.entity', 'must be a column of stg_platform__events (user_id, tenant_id, session_id, entity_id, ...)') }}
    {%- endif -%}
    {%- do columns.append(entity) -%}
    {%- set parsed = {} -%}
    {%- for key in ['start', 'return'] -%}
        {%- if entry.get(key) is none -%}
            {{ pa_fail(label ~ '.' ~ key, "missing ('any' or {event and/or where})") }}
        {%- endif -%}
        {%- if entry.get(key) is mapping -%}
            {%- do pa_check_keys(entry.get(key), ['event', 'where'], label ~ '.' ~ key) -%}
        {%- endif -%}
        {%- set cond = pa_event_condition(entry.get(key), label ~ '.' ~ key, streams, allow_any=true) -%}
        {%- do columns.extend(cond.columns) -%}
        {%- set spec = entry.get(key) -%}
        {%- do parsed.update({key: {
            'condition': cond.condition,
            'event': spec.get('event') if spec is mapping else none,
            'where': spec.get('where') if spec is mapping else none,
            'any': spec == 'any',
        }}) -%}
    {%- endfor -%}
    {%- set grain_in = entry.get('cohort_grain') -%}
    {%- set grains = grain_in if pa_is_list(grain_in) else [grain_in] -%}
    {%- if grains | length == 0 or grains | unique | list | length != grains | length -%}
        {{ pa_fail(label ~ '.cohort_grain', 'must be day, week or month, or a list of distinct ones') }}
    {%- endif -%}
    {%- for g in grains -%}
        {%- if g not in grains_allowed -%}
            {{ pa_fail(label ~ '.cohort_grain', 'must be day, week or month, or a list of distinct ones') }}
        {%- endif -%}
    {%- endfor -%}
    {%- set unit = entry.get('period_unit', grains[0]) -%}
    {%- if unit not in grains_allowed -%}
        {{ pa_fail(label ~ '.period_unit', 'must be day, week or month') }}
    {%- endif -%}
    {%- set periods = entry.get('periods') -%}
    {%- if not pa_is_list(periods) or periods | length == 0 -%}
        {{ pa_fail(label ~ '.periods', 'must be a non-empty list of positive whole numbers') }}
    {%- endif -%}
    {%- for n in periods -%}
        {%- if not pa_is_number(n) or n != n | int or n <= 0 -%}
            {{ pa_fail(label ~ '.periods', 'must be a non-empty list of positive whole numbers (' ~ n ~ ' is not)') }}
        {%- endif -%}
    {%- endfor -%}
    {%- if periods | unique | list | length != periods | length -%}
        {{ pa_fail(label ~ '.periods', 'must not repeat a period') }}
    {%- endif -%}
    {%- set breakdown = entry.get('breakdown') -%}
    {%- set breakdown_sql = none -%}
    {%- if breakdown is not none -%}
        {%- set p = pa_property(breakdown, label ~ '.breakdown') -%}
        {%- set breakdown_sql = p.sql -%}
        {%- do columns.append(p.column) -%}
    {%- endif -%}
    {{ return({
        'name': entry.get('name'),
        'kind': 'retention',
        'description': description,
        'entity': entity,
        'start': parsed['start'],
        'return': parsed['return'],
        'cohort_grains': grains,
        'period_unit': unit,
        'periods': periods | map('int') | sort | list,
        'breakdown': breakdown,
        'breakdown_sql': breakdown_sql,
        'columns': columns | unique | list,
    }) }}
{%- endmacro %}

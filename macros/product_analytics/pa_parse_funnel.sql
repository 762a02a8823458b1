{#-
  pa_parse_funnel(entry, label, streams)
  One funnel entry of var product_analytics, checked (one-line error naming `label`)
  and normalised (see pa_definitions). Keys: name, description, entity (default
  user_id), steps (>= 2, each {name, event and/or where}), window_days (> 0, optional),
  ordering (same_instant | strict | unordered, default same_instant), exclude
  ({event and/or where, after_step, before_step}, ordered funnels only), breakdown
  (a column or metadata.<key>).
-#}
{% macro pa_parse_funnel(entry, label, streams) -%}
    {%- do pa_check_keys(entry, ['name', 'description', 'entity', 'steps', 'window_days', 'ordering', 'exclude', 'breakdown'], label) -%}
    {%- set columns = ['occurred_at'] -%}
    {%- set description = entry.get('description', '') -%}
    {%- if description is not string -%}
        {{ pa_fail(label ~ '.description', 'must be text') }}
    {%- endif -%}
    {%- set entity = entry.get('entity', 'user_id') -%}
    {%- if entity is not string or entity not in pa_event_columns() -%}
        {{ pa_fail(label ~ '.entity', 'must be a column of stg_platform__events (user_id, tenant_id, session_id, entity_id, ...)') }}
    {%- endif -%}
    {%- do columns.append(entity) -%}
    {%- set steps_in = entry.get('steps') -%}
    {%- if not pa_is_list(steps_in) or steps_in | length < 2 -%}
        {{ pa_fail(label ~ '.steps', 'must be a list of at least 2 steps') }}
    {%- endif -%}
    {%- set steps = [] -%}
    {%- set names = [] -%}
    {%- for step in steps_in -%}
        {%- set step_label = label ~ '.steps[' ~ (step.get('name') if step is mapping and step.get('name') is string else loop.index) ~ ']' -%}
        {%- if step is not mapping -%}
            {{ pa_fail(step_label, 'must be a mapping {name, event and/or where}') }}
        {%- endif -%}
        {%- do pa_check_keys(step, ['name', 'event', 'where'], step_label) -%}
        {%- if step.get('name') is not string or not modules.re.match('^[a-z][a-z0-9_]{0,40}$', step.get('name')) -%}
            {{ pa_fail(step_label ~ '.name', 'missing or not a lower-case identifier') }}
        {%- endif -%}
        {%- if step.get('name') in names -%}
            {{ pa_fail(step_label ~ '.name', 'duplicate step name') }}
        {%- endif -%}
        {%- do names.append(step.get('name')) -%}
        {%- set cond = pa_event_condition(step, step_label, streams) -%}
        {%- do columns.extend(cond.columns) -%}
        {%- do steps.append({'name': step.get('name'), 'condition': cond.condition, 'event': step.get('event'), 'where': step.get('where')}) -%}
    {%- endfor -%}
    {%- set window_days = entry.get('window_days') -%}
    {%- if window_days is not none and (not pa_is_number(window_days) or window_days <= 0) -%}
        {{ pa_fail(label ~ '.window_days', 'must be a positive number') }}
    {%- endif -%}
    {%- set ordering = entry.get('ordering', 'same_instant') -%}
    {%- if ordering not in ['same_instant', 'strict', 'unordered'] -%}
        {{ pa_fail(label ~ '.ordering', 'must be same_instant, strict or unordered') }}
    {%- endif -%}
    {%- set exclude = none -%}
    {%- set exclude_in = entry.get('exclude') -%}
    {%- if exclude_in is not none -%}
        {%- if ordering == 'unordered' -%}
            {{ pa_fail(label ~ '.exclude', 'not available for an unordered funnel') }}
        {%- endif -%}
        {%- if exclude_in is not mapping -%}
            {{ pa_fail(label ~ '.exclude', 'must be a mapping {event and/or where, after_step, before_step}') }}
        {%- endif -%}
        {%- do pa_check_keys(exclude_in, ['event', 'where', 'after_step', 'before_step'], label ~ '.exclude') -%}
        {%- set after_step = exclude_in.get('after_step', 1) -%}
        {%- set before_step = exclude_in.get('before_step', steps | length) -%}
        {%- if not pa_is_number(after_step) or after_step != after_step | int or after_step < 1 or after_step >= steps | length -%}
            {{ pa_fail(label ~ '.exclude.after_step', 'must be a step number from 1 to ' ~ (steps | length - 1)) }}
        {%- endif -%}
        {%- if not pa_is_number(before_step) or before_step != before_step | int or before_step <= after_step or before_step > steps | length -%}
            {{ pa_fail(label ~ '.exclude.before_step', 'must be a step number after after_step, at most ' ~ steps | length) }}
        {%- endif -%}
        {%- set cond = pa_event_condition({'event': exclude_in.get('event'), 'where': exclude_in.get('where')}, label ~ '.exclude', streams) -%}
        {%- do columns.extend(cond.columns) -%}
        {%- set exclude = {'condition': cond.condition, 'event': exclude_in.get('event'), 'where': exclude_in.get('where'), 'after_step': after_step | int, 'before_step': before_step | int} -%}
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
        'kind': 'funnel',
        'description': description,
        'entity': entity,
        'steps': steps,
        'ordering': ordering,
        'window_days': window_days,
        'window_minutes': (window_days * 1440) if window_days is not none else none,
        'exclude': exclude,
        'breakdown': breakdown,
        'breakdown_sql': breakdown_sql,
        'columns': columns | unique | list,
    }) }}
{%- endmacro %}

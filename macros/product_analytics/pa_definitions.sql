{#-
  pa_definitions()

  The analyses declared in var `product_analytics` (dbt_project.yml; format in
  docs/product_analytics.md "Declaring analyses"), checked and normalised:
  {'streams': [...], 'funnels': [...], 'retentions': [...], 'analyses': [both, in order]}.
  Every model that computes them calls it while dbt parses, so a bad entry fails
  `dbt parse` / `kpi build` with one line naming it, e.g.
  `product_analytics.funnels[order_funnel].window_days: must be a positive number`.
  What parse cannot check (an event type missing from seed event_catalogue) is left
  to the data: such a step is simply never reached.

  A normalised funnel: name, kind 'funnel', description, entity, steps [{name,
  condition (SQL over stg_platform__events columns)}], ordering (same_instant | strict
  | unordered), window_days (a number or none), window_minutes, exclude (none or
  {condition, after_step, before_step}), breakdown (none, a column or metadata.<key>),
  breakdown_sql, columns (the event columns it reads) and definition_hash (md5 of the
  normalised entry: rows of an edited entry are recomputed). A normalised retention:
  name, kind 'retention', description, entity, start / return ({condition}),
  cohort_grains (list), period_unit, periods (sorted), breakdown, breakdown_sql,
  columns, definition_hash.
-#}
{% macro pa_definitions() -%}
    {%- set raw = var('product_analytics', {}) -%}
    {%- set where_ = 'product_analytics' -%}
    {%- if raw is not mapping -%}
        {{ pa_fail(where_, 'must be a mapping with keys streams, funnels, retentions, paths, sessions') }}
    {%- endif -%}
    {%- set top_keys = ['streams', 'funnels', 'retentions', 'paths', 'sessions'] -%}
    {%- for key in raw -%}
        {%- if key not in top_keys -%}
            {{ pa_fail(where_ ~ '.' ~ key, 'unknown key (expected one of ' ~ top_keys | join(', ') ~ ')') }}
        {%- endif -%}
    {%- endfor -%}
    {%- set streams = raw.get('streams') -%}
    {%- if not pa_is_list(streams) or streams | length == 0 -%}
        {{ pa_fail(where_ ~ '.streams', 'must be a non-empty list of event domains') }}
    {%- endif -%}
    {%- for s in streams -%}
        {%- if s is not string or not modules.re.match('^[a-z][a-z0-9_]*$', s) -%}
            {{ pa_fail(where_ ~ '.streams[' ~ loop.index0 ~ ']', 'must be an event domain (lower-case identifier)') }}
        {%- endif -%}
    {%- endfor -%}
    {%- set result = {'streams': streams, 'funnels': [], 'retentions': [], 'analyses': []} -%}
    {%- set seen = {} -%}
    {%- for kind, plural in [('funnel', 'funnels'), ('retention', 'retentions')] -%}
        {%- set entries = raw.get(plural) -%}
        {%- if entries is none -%}
            {%- set entries = [] -%}
        {%- endif -%}
        {%- if not pa_is_list(entries) -%}
            {{ pa_fail(where_ ~ '.' ~ plural, 'must be a list of entries') }}
        {%- endif -%}
        {%- for entry in entries -%}
            {%- set label = where_ ~ '.' ~ plural ~ '[' ~ (entry.get('name') if entry is mapping and entry.get('name') is string else loop.index0) ~ ']' -%}
            {%- if entry is not mapping -%}
                {{ pa_fail(label, 'must be a mapping') }}
            {%- endif -%}
            {%- if entry.get('name') is none -%}
                {{ pa_fail(label ~ '.name', 'missing (every entry needs a name)') }}
            {%- endif -%}
            {%- if entry.get('name') is not string or not modules.re.match('^[a-z][a-z0-9_]{0,62}$', entry.get('name')) -%}
                {{ pa_fail(label ~ '.name', 'must be a lower-case identifier (a-z, 0-9, _)') }}
            {%- endif -%}
            {%- if entry.get('name') in seen -%}
                {{ pa_fail(label ~ '.name', 'duplicate name (also ' ~ seen[entry.get("name")] ~ ')') }}
            {%- endif -%}
            {%- do seen.update({entry.get('name'): where_ ~ '.' ~ plural ~ '[' ~ entry.get('name') ~ ']'}) -%}
            {%- if kind == 'funnel' -%}
                {%- set parsed = pa_parse_funnel(entry, label, streams) -%}
            {%- else -%}
                {%- set parsed = pa_parse_retention(entry, label, streams) -%}
            {%- endif -%}
            {%- do parsed.update({'definition_hash': local_md5(tojson(parsed, sort_keys=true))}) -%}
            {%- do result[plural].append(parsed) -%}
            {%- do result['analyses'].append(parsed) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}


{#- Raise the one-line error `<path>: <message>` (a compilation error while dbt parses). -#}
{% macro pa_fail(path, message) -%}
    {{ exceptions.raise_compiler_error(path ~ ': ' ~ message) }}
{%- endmacro %}


{#- True for a list (a YAML sequence), false for a string or a mapping. -#}
{% macro pa_is_list(value) -%}
    {{ return(value is iterable and value is not string and value is not mapping) }}
{%- endmacro %}


{#- True for an int or float that is not a boolean. -#}
{% macro pa_is_number(value) -%}
    {{ return(value is number and value is not boolean) }}
{%- endmacro %}


{#- Check that `entry` (a mapping) has only `allowed` keys. -#}
{% macro pa_check_keys(entry, allowed, label) -%}
    {%- for key in entry -%}
        {%- if key not in allowed -%}
            {{ pa_fail(label ~ '.' ~ key, 'unknown key (expected one of ' ~ allowed | join(', ') ~ ')') }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

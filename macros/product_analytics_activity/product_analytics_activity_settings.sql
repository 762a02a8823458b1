{#-
  product_analytics_activity_settings()
  The lifecycle / sessions / paths settings of var `product_analytics`
  (dbt_project.yml), checked: a dict with
    streams            the event domains feeding the marts (list of strings),
    inactivity_minutes sessions.inactivity_minutes (positive integer; 30 when absent),
    paths              [{name, domain, type, top_n, entity}] from the `paths` entries
                       (after: 'domain.type' of a stream; entity: a staging column, user_id by default).
  A bad entry stops the parse with one line naming it, e.g.
  `product_analytics.paths[after_checkout].top_n: must be a positive integer`.
-#}
{% macro product_analytics_activity_settings() -%}
    {%- set settings = var('product_analytics', {}) -%}
    {%- if settings is not mapping -%}
        {{ exceptions.raise_compiler_error("product_analytics: must be a mapping (dbt_project.yml vars)") }}
    {%- endif -%}
    {%- set streams = settings.get('streams') -%}
    {%- if streams is string or streams is not iterable or streams | length == 0 -%}
        {{ exceptions.raise_compiler_error("product_analytics.streams: must be a non-empty list of event domains") }}
    {%- endif -%}
    {%- set sessions = settings.get('sessions') or {} -%}
    {%- if sessions is not mapping -%}
        {{ exceptions.raise_compiler_error("product_analytics.sessions: must be a mapping (inactivity_minutes)") }}
    {%- endif -%}
    {%- set minutes = sessions.get('inactivity_minutes', 30) -%}
    {%- if minutes is not number or minutes is sameas true or minutes is sameas false
        or minutes != minutes | int or minutes < 1 -%}
        {{ exceptions.raise_compiler_error("product_analytics.sessions.inactivity_minutes: must be a positive integer") }}
    {%- endif -%}
    {%- set entries = settings.get('paths') or [] -%}
    {%- if entries is string or entries is mapping or entries is not iterable -%}
        {{ exceptions.raise_compiler_error("product_analytics.paths: must be a list of entries (name, after, top_n)") }}
    {%- endif -%}
    {%- set entities = ['user_id', 'session_id', 'entity_id', 'tenant_id', 'location_id'] -%}
    {%- set paths = [] -%}
    {%- set names = [] -%}
    {%- for entry in entries -%}
        {%- set label = entry.get('name') if entry is mapping and entry.get('name') is string else loop.index0 -%}
        {%- set where = 'product_analytics.paths[' ~ label ~ ']' -%}
        {%- if entry is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ ": must be a mapping (name, after, top_n, entity)") }}
        {%- endif -%}
        {%- set unknown = entry.keys() | reject('in', ['name', 'after', 'top_n', 'entity']) | list -%}
        {%- if unknown -%}
            {{ exceptions.raise_compiler_error(where ~ "." ~ unknown[0] ~ ": unknown key (allowed: name, after, top_n, entity)") }}
        {%- endif -%}
        {%- if entry.get('name') is not string or not modules.re.fullmatch('[a-z][a-z0-9_]*', entry.get('name')) -%}
            {{ exceptions.raise_compiler_error(where ~ ".name: must be lower-case letters, digits and _") }}
        {%- endif -%}
        {%- if entry['name'] in names -%}
            {{ exceptions.raise_compiler_error(where ~ ".name: declared twice") }}
        {%- endif -%}
        {%- do names.append(entry['name']) -%}
        {%- set after = entry.get('after') -%}
        {%- if after is not string or not modules.re.fullmatch('[a-z0-9_]+[.][a-z0-9_]+', after) -%}
            {{ exceptions.raise_compiler_error(where ~ ".after: must be an event as domain.type, e.g. orders.order_created") }}
        {%- endif -%}
        {%- set domain, type = after.split('.') -%}
        {%- if domain not in streams -%}
            {{ exceptions.raise_compiler_error(where ~ ".after: domain " ~ domain ~ " is not one of product_analytics.streams") }}
        {%- endif -%}
        {%- set top_n = entry.get('top_n') -%}
        {%- if top_n is not number or top_n is sameas true or top_n is sameas false
            or top_n != top_n | int or top_n < 1 -%}
            {{ exceptions.raise_compiler_error(where ~ ".top_n: must be a positive integer") }}
        {%- endif -%}
        {%- set entity = entry.get('entity', 'user_id') -%}
        {%- if entity not in entities -%}
            {{ exceptions.raise_compiler_error(where ~ ".entity: must be one of " ~ entities | join(', ')) }}
        {%- endif -%}
        {%- do paths.append({'name': entry['name'], 'domain': domain, 'type': type, 'top_n': top_n | int, 'entity': entity}) -%}
    {%- endfor -%}
    {{ return({'streams': streams | list, 'inactivity_minutes': minutes | int, 'paths': paths}) }}
{%- endmacro %}

{#- SQL list literal of the declared streams: ('orders', 'payments', ...). -#}
{% macro product_analytics_stream_list() -%}
    ('{{ product_analytics_activity_settings()['streams'] | join("', '") }}')
{%- endmacro %}

{#- sessions.inactivity_minutes, checked (a positive integer; 30 when absent). -#}
{% macro product_analytics_inactivity_minutes() -%}
    {{ return(product_analytics_activity_settings()['inactivity_minutes']) }}
{%- endmacro %}

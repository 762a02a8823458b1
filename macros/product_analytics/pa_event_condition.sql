{#-
  pa_event_columns()
  The columns of stg_platform__events an analysis may name as entity, breakdown or
  in a `where` condition (metadata is read through `metadata.<key>` only).
-#}
{% macro pa_event_columns() -%}
    {{ return([
        'event_id', 'occurred_at', 'event_date', 'received_at', 'tenant_id', 'location_id',
        'event_domain', 'event_type', 'user_id', 'session_id', 'entity_type', 'entity_id',
        'status', 'provider', 'service_code', 'country_code', 'is_country_code_invalid',
        'amount_cents', 'currency', 'duration_seconds', 'schema_version',
    ]) }}
{%- endmacro %}


{#-
  pa_property(name, label)
  SQL for an event property as text: a column of stg_platform__events
  (`country_code`) or a key of its metadata JSON (`metadata.campaign`). Fails with one
  line naming `label` for anything else. Returns {'sql': ..., 'column': the column read}.
-#}
{% macro pa_property(name, label) -%}
    {%- if name is not string -%}
        {{ pa_fail(label, 'must be an event column or metadata.<key>') }}
    {%- endif -%}
    {%- if name.startswith('metadata.') -%}
        {%- set key = name[9:] -%}
        {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', key) -%}
            {{ pa_fail(label, "'" ~ name ~ "' is not metadata.<key> with a key of letters, digits and _") }}
        {%- endif -%}
        {{ return({'sql': json_get_text('metadata', key), 'column': 'metadata'}) }}
    {%- endif -%}
    {%- if name not in pa_event_columns() -%}
        {{ pa_fail(label, "'" ~ name ~ "' is not a column of stg_platform__events nor metadata.<key>") }}
    {%- endif -%}
    {{ return({'sql': 'cast(' ~ name ~ ' as ' ~ dbt.type_string() ~ ')', 'column': name}) }}
{%- endmacro %}


{#- A SQL string literal of a scalar (text, number or boolean as the text the column or JSON holds). -#}
{% macro pa_literal(value) -%}
    {%- if value is boolean -%}
        {{ return("'" ~ ('true' if value else 'false') ~ "'") }}
    {%- endif -%}
    {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{%- endmacro %}


{#-
  pa_event_condition(spec, label, streams, allow_any=false)
  A step / start / return / exclusion event as SQL over stg_platform__events:
    event: domain.type            event_domain and event_type equal (the domain one of `streams`)
    where: {property: value | [values]}   each property (a column or metadata.<key>) equal to
                                  the value (text comparison) or one of the values; all must hold
  Both may be given (both hold). With allow_any, the string 'any' is any event of the streams.
  Returns {'condition': sql, 'columns': [columns read]}.
-#}
{% macro pa_event_condition(spec, label, streams, allow_any=false) -%}
    {%- if allow_any and spec == 'any' -%}
        {{ return({'condition': '1 = 1', 'columns': []}) }}
    {%- endif -%}
    {%- if spec is not mapping -%}
        {{ pa_fail(label, 'must be a mapping with event and/or where' ~ (", or 'any'" if allow_any else '')) }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- set columns = [] -%}
    {%- if spec.get('event') is none and spec.get('where') is none -%}
        {{ pa_fail(label, 'needs event (domain.type) or where') }}
    {%- endif -%}
    {%- if spec.get('event') is not none -%}
        {%- set event = spec.get('event') -%}
        {%- if event is not string or not modules.re.match('^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$', event) -%}
            {{ pa_fail(label ~ '.event', 'must be domain.type, e.g. orders.order_created') }}
        {%- endif -%}
        {%- set domain, type_ = event.split('.') -%}
        {%- if domain not in streams -%}
            {{ pa_fail(label ~ '.event', "domain '" ~ domain ~ "' is not one of product_analytics.streams") }}
        {%- endif -%}
        {%- do parts.append("event_domain = '" ~ domain ~ "' and event_type = '" ~ type_ ~ "'") -%}
        {%- do columns.extend(['event_domain', 'event_type']) -%}
    {%- endif -%}
    {%- if spec.get('where') is not none -%}
        {%- set where = spec.get('where') -%}
        {%- if where is not mapping or where | length == 0 -%}
            {{ pa_fail(label ~ '.where', 'must be a non-empty mapping {property: value or [values]}') }}
        {%- endif -%}
        {%- for prop, value in where.items() -%}
            {%- set p = pa_property(prop, label ~ '.where.' ~ prop) -%}
            {%- set values = value if pa_is_list(value) else [value] -%}
            {%- if values | length == 0 -%}
                {{ pa_fail(label ~ '.where.' ~ prop, 'needs a value or a non-empty list of values') }}
            {%- endif -%}
            {%- set literals = [] -%}
            {%- for v in values -%}
                {%- if v is none or v is mapping or pa_is_list(v) -%}
                    {{ pa_fail(label ~ '.where.' ~ prop, 'values must be text, numbers or booleans') }}
                {%- endif -%}
                {%- do literals.append(pa_literal(v)) -%}
            {%- endfor -%}
            {%- if literals | length == 1 -%}
                {%- do parts.append(p.sql ~ ' = ' ~ literals[0]) -%}
            {%- else -%}
                {%- do parts.append(p.sql ~ ' in (' ~ literals | join(', ') ~ ')') -%}
            {%- endif -%}
            {%- do columns.append(p.column) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return({'condition': '(' ~ parts | join(' and ') ~ ')', 'columns': columns}) }}
{%- endmacro %}

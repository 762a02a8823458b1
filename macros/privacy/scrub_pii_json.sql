{#-
  scrub_pii_json(expr): the JSON value `expr` with e-mail addresses and phone
  numbers in its string values replaced as scrub_pii_text does (keys and
  structure unchanged). The replacements hold no quote or backslash and the
  patterns never span one, so the text stays valid JSON. Null in, null out.
  PostgreSQL: jsonb → text → jsonb; dispatched.
-#}
{% macro scrub_pii_json(expr) -%}
    {{ return(adapter.dispatch('scrub_pii_json', 'kpi_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__scrub_pii_json(expr) -%}
    {{ exceptions.raise_compiler_error("scrub_pii_json is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro postgres__scrub_pii_json(expr) -%}
    cast({{ scrub_pii_text('cast(' ~ expr ~ ' as text)') }} as jsonb)
{%- endmacro %}

{#-
  scrub_pii_json(expr): the JSON value `expr` with e-mail addresses and phone
  numbers in its string values replaced as scrub_pii_text does (keys and
  structure unchanged). The replacements hold no quote or backslash and the
  patterns never span one, so the text stays valid JSON. Null in, null out.
  PostgreSQL: jsonb → text → jsonb for a value that may hold one; dispatched.
-#}
{% macro scrub_pii_json(expr) -%}
    {{ return(adapter.dispatch('scrub_pii_json', 'kpi_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__scrub_pii_json(expr) -%}
    {{ exceptions.raise_compiler_error("scrub_pii_json is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- Only a value whose text passes the cheap candidate test goes through text and
    back (jsonb → text → regexp_replace → jsonb); any other value is returned as
    it is, neither serialised twice nor parsed again (the same result: a value
    with no candidate is left unchanged by scrub_pii_text). -#}
{% macro postgres__scrub_pii_json(expr) -%}
    {%- set as_text = 'cast(' ~ expr ~ ' as text)' -%}
    case
        when {{ as_text }} ~ '{{ postgres__pii_candidate_regex() }}'
            then cast(regexp_replace(
                regexp_replace({{ as_text }}, '{{ postgres__pii_email_regex() }}', '[email removed]', 'gi'),
                '{{ postgres__pii_phone_regex() }}',
                '[phone removed]',
                'g'
            ) as jsonb)
        else {{ expr }}
    end
{%- endmacro %}

{#-
  scrub_pii_text(expr): the free text `expr` with e-mail addresses replaced by
  '[email removed]' and phone numbers by '[phone removed]' (seeds 002 notes,
  004 "no PII storage"). The patterns are the ones `kpi pii-check`
  (cli/kpiwh/privacy.py EMAIL_RE / PHONE_RE) looks for: international numbers
  (+CC, 8-15 digits with spaces, dots, dashes, parentheses) and 3-3-4
  North-American numbers, never inside a longer token (ids, uuids, dates).
  Names in free text cannot be recognised reliably and are not touched.
  Null in, null out. No portable regexp_replace: dispatched.
-#}
{% macro scrub_pii_text(expr) -%}
    {{ return(adapter.dispatch('scrub_pii_text', 'kpi_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__scrub_pii_text(expr) -%}
    {{ exceptions.raise_compiler_error("scrub_pii_text is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro postgres__scrub_pii_text(expr) -%}
    regexp_replace(
        regexp_replace(
            {{ expr }},
            '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}',
            '[email removed]',
            'g'
        ),
        '(?<![[:alnum:]_+-])(\+[0-9]{1,3}[ .-]?(\([0-9]{1,4}\)[ .-]?)?[0-9]{1,4}([ .-]?[0-9]{2,5}){1,4}|\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4})(?![[:alnum:]_-])',
        '[phone removed]',
        'g'
    )
{%- endmacro %}

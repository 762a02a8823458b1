{#-
  scrub_pii_text(expr, names=[]): the free text `expr` with the personal data
  in it replaced (seed 004 "no PII storage" over seed 002's notes):
    - e-mail addresses, plain (jane.doe@example.com, JANE.DOE@EXAMPLE.COM,
      jane @ example.com) and obfuscated with a bracketed "at"/"dot"
      (jane.doe(at)example.com, jane [at] example [dot] com) or, only when the
      dots are spelled out too, a bare one (jane at example dot com)
      → '[email removed]';
    - phone numbers: international (+44 20 7946 0958, +44 (0)20 7946 0958,
      0044 20 7946 0958, +966-512345678: 8-15 digits with the country code),
      national with a trunk 0 (07700 900123, (020) 7946 0958: 9-12 digits) and
      North-American 3-3-4 ((555) 123-4567, 555.123.4567), separated by
      spaces, dots, dashes or parentheses, never inside a longer token (ids,
      uuids), a date, or a time → '[phone removed]';
    - the subject's own names, when `names` lists SQL expressions of them (the
      customer's given and family name): whole words, case- and
      accent-insensitive ("Zoe's", "ZOË" for Zoë; "Muller" for Müller),
      regex metacharacters in a name taken literally (pii_name_pattern)
      → '[name removed]'.
  Order: e-mails, then phones, then names (an address's local part "jane.doe"
  goes with the address). Ordinary text survives: dates (2025-06-02,
  02.06.2025 10:15), times, uuids, prices, '45 min', '10% coupon', a bare
  "at example.com". Null in, null out. `kpi pii-check` (cli/kpiwh/privacy.py)
  checks the result with its own detectors (libphonenumber for phones).
  No portable regexp_replace with these features: dispatched.
-#}
{% macro scrub_pii_text(expr, names=[]) -%}
    {{ return(adapter.dispatch('scrub_pii_text', 'kpi_warehouse')(expr, names)) }}
{%- endmacro %}

{% macro default__scrub_pii_text(expr, names=[]) -%}
    {{ exceptions.raise_compiler_error("scrub_pii_text is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- PostgreSQL advanced regular expressions (lookbehind needs 9.6+). In JSON text
    (scrub_pii_json) a phone may follow an escaped newline (\n), and an e-mail
    never starts right after a backslash, so an escape sequence stays whole. -#}
{% macro postgres__pii_email_regex() -%}
    {%- set sp = '[[:space:]]' -%}
    {%- set spelled_dot = '(' ~ sp ~ '*[([{<]' ~ sp ~ '*dot' ~ sp ~ '*[]})>]' ~ sp ~ '*|' ~ sp ~ '+dot' ~ sp ~ '+)' -%}
    {%- set any_dot = '(\\.|' ~ spelled_dot ~ ')' -%}
    {%- set local = '[[:alnum:]_.%+-]+' -%}
    {%- set label = '[[:alnum:]-]+' -%}
    {%- set tld = '[[:alpha:]]{2,}(?![[:alnum:]])' -%}
    {%- set at = sp ~ '*(@|[([{<]' ~ sp ~ '*at' ~ sp ~ '*[]})>])' ~ sp ~ '*' -%}
    {%- set marked = local ~ at ~ label ~ '(' ~ any_dot ~ label ~ ')*' ~ any_dot ~ tld -%}
    {%- set spelled = local ~ sp ~ '+at' ~ sp ~ '+' ~ label ~ '(' ~ spelled_dot ~ label ~ ')*' ~ spelled_dot ~ tld -%}
    (?<!\\)({{ marked }}|{{ spelled }})
{%- endmacro %}

{% macro postgres__pii_phone_regex() -%}
    {%- set start = '(?:(?<=\\\\[nrt])|(?<![[:alnum:]_+/.\\\\-])(?<![0-9]:))' -%}
    {%- set international = '(\\+|00)[1-9]([ .()-]{0,3}[0-9]){7,14}' -%}
    {%- set national = '\\(?0[1-9]([ .()-]{0,2}[0-9]){7,10}' -%}
    {%- set nanp = '(\\+?1[ .-]?)?\\(?[2-9][0-9]{2}\\)?[ .-]?[0-9]{3}[ .-][0-9]{4}' -%}
    {%- set stop = '(?![[:alnum:]_/-])(?!:[0-9])(?![.,][0-9])' -%}
    {{ start }}({{ international }}|{{ national }}|{{ nanp }}){{ stop }}
{%- endmacro %}

{#- A cheap test first, implied by every match of the full patterns: an '@', an
    "at" between spaces or brackets, or 8 digits with at most 3 separators
    between each, not followed by a letter, digit, '_', '/' or '-' (so ISO
    timestamps fail it). The full patterns, with their lookarounds, cost
    ~15 µs a value; most values (event metadata) never reach them. -#}
{% macro postgres__pii_candidate_regex() -%}
    @|[[:space:]([{<][aA][tT][]})>[:space:]]|[0-9]([ .()-]{0,3}[0-9]){7}($|[^[:alnum:]_/-])
{%- endmacro %}

{% macro postgres__scrub_pii_text(expr, names=[]) -%}
    {%- set scrubbed -%}
    case
        when {{ expr }} ~ '{{ postgres__pii_candidate_regex() }}'
            then regexp_replace(
                regexp_replace({{ expr }}, '{{ postgres__pii_email_regex() }}', '[email removed]', 'gi'),
                '{{ postgres__pii_phone_regex() }}',
                '[phone removed]',
                'g'
            )
        else {{ expr }}
    end
    {%- endset -%}
    {%- if names | length > 0 %}
    case
        when {{ expr }} is not null
            then regexp_replace(
                {{ scrubbed }},
                coalesce({{ pii_name_pattern(names) }}, '\Za'),
                '[name removed]',
                'gi'
            )
    end
    {%- else %}
    {{ scrubbed }}
    {%- endif %}
{%- endmacro %}

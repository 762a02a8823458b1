{#-
  pii_name_pattern(names): an SQL expression yielding a regular expression that
  matches, as whole words, any of the person's names given by `names` (a list
  of SQL expressions, e.g. ['customers.given_name', 'customers.family_name']),
  or null when there is none. Each name matches as written and, for a name of
  several parts, each capitalised part of 3+ letters ("Da Costa" → also
  "Costa"; "van der Berg" → also "Berg", never "van" or "der"); names and
  parts under 2 letters ("J") are ignored. Matching is case-insensitive (flag
  'i') and accent-insensitive: every letter matches its accented forms
  (Zoë ~ Zoe ~ ZOË, Müller ~ Muller); spaces match any run of white space, an
  apostrophe matches ' or ’ or nothing (O'Brien ~ OBrien), a hyphen matches
  '-', a space or nothing; any other regex metacharacter is taken literally.
  Used by scrub_pii_text. No portable form: dispatched.
-#}
{% macro pii_name_pattern(names) -%}
    {{ return(adapter.dispatch('pii_name_pattern', 'kpi_warehouse')(names)) }}
{%- endmacro %}

{% macro default__pii_name_pattern(names) -%}
    {{ exceptions.raise_compiler_error("pii_name_pattern is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- letter → its accented forms (lower case; flag 'i' covers upper case) -#}
{% macro pii_name_letter_variants() -%}
    {{ return({
        'a': 'àáâãäåāăąạảấầẩẫậắằẳẵặ', 'c': 'çćč', 'd': 'ďðđ', 'e': 'èéêëēėęěẹẻẽếềểễệ', 'g': 'ğ',
        'i': 'ìíîïīįıỉị', 'l': 'ł', 'n': 'ñńň', 'o': 'òóôõöøōőọỏốồổỗộơớờởỡợ', 'r': 'ř', 's': 'śšş',
        't': 'ťţ', 'u': 'ùúûüūůűụủưứừửữự', 'y': 'ýÿỳỵỷỹ', 'z': 'źżž',
    }) }}
{%- endmacro %}

{% macro postgres__pii_name_pattern(names) -%}
    {%- set variants = pii_name_letter_variants() -%}
    {%- set accented = variants.values() | join('') -%}
    {%- set ns = namespace(plain='') -%}
    {%- for letter, forms in variants.items() -%}
        {%- set ns.plain = ns.plain ~ (letter * (forms | length)) -%}
    {%- endfor -%}
    {#- fold accents and case, then escape every character that is not a letter, digit or space -#}
    {%- set ns.pattern -%}
        regexp_replace(
            lower(translate(name_part, '{{ accented ~ (accented | upper) ~ "’" }}', '{{ ns.plain ~ ns.plain ~ "''" }}')),
            '([^[:alnum:][:space:]])', '\\\1', 'g'
        )
    {%- endset -%}
    {%- for letter, forms in variants.items() -%}
        {%- set ns.pattern = "replace(" ~ ns.pattern ~ ", '" ~ letter ~ "', '[" ~ letter ~ forms ~ "]')" -%}
    {%- endfor -%}
    {%- set ns.pattern = "replace(replace(regexp_replace(" ~ ns.pattern ~ ", '[[:space:]]+', '[[:space:]]+', 'g'), "
        ~ "'\\''', '[''’]?'), '\\-', '[-[:space:]]?')" -%}
    (
        select '(?<![[:alnum:]])(' || string_agg(pattern, '|' order by length(pattern) desc, pattern) || ')(?![[:alnum:]])'
        from (
            select distinct {{ ns.pattern }} as pattern
            from (
                select btrim(full_name) as name_part
                from unnest(array[{{ names | join(', ') }}]::text[]) as full_names (full_name)
                union
                select part
                from unnest(array[{{ names | join(', ') }}]::text[]) as full_names (full_name),
                    regexp_split_to_table(btrim(full_name), '[[:space:]-]+') as parts (part)
                where char_length(part) >= 3 and part ~ '^[[:upper:]]'
            ) as name_parts
            where char_length(name_part) >= 2
        ) as patterns
    )
{%- endmacro %}

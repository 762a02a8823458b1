{#-
  surrogate_key(field_list)
  A single-column key for a composite grain whose parts may be null
  (e.g. a fact row without a location): md5 of the parts cast to text, joined
  with '|', a null part written as '_null_'. Portable: dbt.hash, dbt.concat.
  md5('org_a|loc_a1|2025-03-03') for ('org_a', 'loc_a1', date '2025-03-03').
-#}
{% macro surrogate_key(field_list) -%}
    {%- set parts = [] -%}
    {%- for field in field_list -%}
        {%- do parts.append("coalesce(cast(" ~ field ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}
            {%- do parts.append("'|'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

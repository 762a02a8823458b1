{#-
  partner_rate(numerator, denominator, cap=true)
  numerator / denominator as numeric, NULL when the denominator is 0 (never 0
  for "no data"). cap=true bounds it to 1.0: a day's completions or
  acceptances may answer attempts of earlier days (DECISIONLOG
  "partner metrics"). cap=false for averages (mechanics per partner).
-#}
{% macro partner_rate(numerator, denominator, cap=true) -%}
    {%- set ratio = "cast(" ~ numerator ~ " as " ~ dbt.type_numeric() ~ ") / nullif(" ~ denominator ~ ", 0)" -%}
    {%- if cap -%}
        case when ({{ denominator }}) = 0 then null else least(cast(1.0 as {{ dbt.type_numeric() }}), {{ ratio }}) end
    {%- else -%}
        {{ ratio }}
    {%- endif -%}
{%- endmacro %}

{#-
  rounded_rate(numerator, denominator, cap=false)
  numerator / denominator as numeric rounded to 4 decimal places, NULL unless
  the denominator is > 0 (never 0 for "no data"). cap=true bounds it to 1
  (a day's redemptions may answer points issued on earlier days).
-#}
{% macro rounded_rate(numerator, denominator, cap=false) -%}
    {%- set ratio = "round(cast(" ~ numerator ~ " as " ~ dbt.type_numeric() ~ ") / (" ~ denominator ~ "), 4)" -%}
    case
        when ({{ denominator }}) > 0
            then {% if cap %}least(cast(1 as {{ dbt.type_numeric() }}), {{ ratio }}){% else %}{{ ratio }}{% endif %}
    end
{%- endmacro %}

{#-
  expression_is_true: the boolean SQL `expression` holds on every row (a row
  where it is false or null fails). Attached to a column, the expression is
  appended to the column name: `expression: ">= 0"` on column x tests x >= 0.
  Shaped like dbt-utils' test. Rows can be restricted with dbt's standard test
  config `where`.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

{%- set tested = (column_name ~ " " ~ expression) if column_name else expression %}

select *
from {{ model }}
where not coalesce(({{ tested }}), false)

{% endtest %}

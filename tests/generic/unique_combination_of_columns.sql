{#-
  unique_combination_of_columns: no two rows share the same values of
  combination_of_columns (the composite primary key of a grain). Nulls compare
  equal here, as in group by, so two rows (org_a, null, 2025-03-03) are
  duplicates. Shaped like dbt-utils' test.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

with validation_errors as (
    select
        {{ columns_csv }},
        count(*) as n_rows
    from {{ model }}
    group by {{ columns_csv }}
    having count(*) > 1
)

select *
from validation_errors

{% endtest %}

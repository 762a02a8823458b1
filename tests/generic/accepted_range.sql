{#-
  accepted_range: every non-null value of the column lies within
  [min_value, max_value] (bounds inclusive unless inclusive=false; either bound
  may be omitted). Shaped like dbt-utils' test of the same name. Rows can be
  restricted with dbt's standard test config `where`.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("accepted_range needs min_value, max_value or both") }}
{%- endif %}

with meet_condition as (
    select {{ column_name }} as tested_value
    from {{ model }}
    where {{ column_name }} is not null
),

validation_errors as (
    select tested_value
    from meet_condition
    where
        1 = 2
        {%- if min_value is not none %}
        or not (tested_value {{ ">=" if inclusive else ">" }} {{ min_value }})
        {%- endif %}
        {%- if max_value is not none %}
        or not (tested_value {{ "<=" if inclusive else "<" }} {{ max_value }})
        {%- endif %}
)

select tested_value
from validation_errors

{% endtest %}

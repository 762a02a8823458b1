{#-
  bookings_previous_customer_id(current_relation, held_relation='held')
  On an incremental run, the customer the replaced row (the stored version,
  {{ this }} joined as held_relation) counted for, when the new version counts
  for another customer or for none: int_customer_facts recomputes that customer
  too. Null when the customer did not change, when nothing was replaced, and on
  a first or full build (a text null).
-#}
{% macro bookings_previous_customer_id(current_relation, held_relation='held') -%}
    {%- if is_incremental() -%}
    case
        when {{ current_relation }}.customer_id is null
            or {{ held_relation }}.customer_id <> {{ current_relation }}.customer_id
            then {{ held_relation }}.customer_id
    end
    {%- else -%}
    cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

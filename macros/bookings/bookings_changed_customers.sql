{#-
  bookings_changed_customers(watermark): SQL selecting the distinct
  (organization_id, customer_id) whose bookings or attributed payments were
  (re)written after `watermark` (their dbt_loaded_at, read through its
  indexes), and the customers such a row no longer counts for
  (previous_customer_id). The change feed of int_customer_facts and
  int_customer_analytics.
-#}
{% macro bookings_changed_customers(watermark) -%}
    select organization_id, customer_id
    from {{ ref('stg_bookings__bookings') }}
    where dbt_loaded_at > {{ watermark }}
        and customer_id is not null

    union

    select organization_id, previous_customer_id as customer_id
    from {{ ref('stg_bookings__bookings') }}
    where dbt_loaded_at > {{ watermark }}
        and previous_customer_id is not null

    union

    select organization_id, customer_id
    from {{ ref('int_payments_attributed') }}
    where dbt_loaded_at > {{ watermark }}
        and customer_id is not null

    union

    select organization_id, previous_customer_id as customer_id
    from {{ ref('int_payments_attributed') }}
    where dbt_loaded_at > {{ watermark }}
        and previous_customer_id is not null
{%- endmacro %}

{#-
  bookings_is_cancelled(status)
  True when a booking status is a cancellation (seed 002): CANCELLED_BY_CUSTOMER
  or CANCELLED_BY_SELLER. DECLINED (the seller never accepted) is not one
  (docs/DECISIONLOG.md).
-#}
{% macro bookings_is_cancelled(status) -%}
    {{ status }} in ('CANCELLED_BY_CUSTOMER', 'CANCELLED_BY_SELLER')
{%- endmacro %}

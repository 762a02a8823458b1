{#-
  MetricFlow's time spine: one row per UTC day from var kpi_calendar_start
  (inclusive) to var kpi_calendar_end (exclusive). Cumulative metrics (WAU, MAU)
  and metric_time join to it; dim_date adds the calendar attributes.
-#}
with

days as (

    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('kpi_calendar_start', '2020-01-01') ~ "' as date)",
        "cast('" ~ var('kpi_calendar_end', '2031-01-01') ~ "' as date)"
    ) }}

)

select cast(date_day as date) as date_day
from days

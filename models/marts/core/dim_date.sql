{#-
  The calendar: one row per UTC day of metricflow_time_spine, with the ISO week
  (Monday start, as every weekly mart), the month and the year.
  The ISO day of week is counted from Monday 1970-01-05 (portable: dbt.datediff).
-#}
with

spine as (

    select date_day from {{ ref('metricflow_time_spine') }}

),

calendar as (

    select
        date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(
            mod({{ dbt.datediff("cast('1970-01-05' as date)", 'date_day', 'day') }}, 7) + 1 as integer
        ) as iso_day_of_week
    from spine

),

final as (

    select
        date_day,
        {{ iso_week_label('date_day') }} as iso_week,
        week_start,
        cast({{ dbt.dateadd('day', 6, 'week_start') }} as date) as week_end,
        month_start,
        calendar_year,
        iso_day_of_week,
        iso_day_of_week >= 6 as is_weekend
    from calendar

)

select
    date_day,
    iso_week,
    week_start,
    week_end,
    month_start,
    calendar_year,
    iso_day_of_week,
    is_weekend
from final

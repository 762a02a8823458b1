{#-
  One row per user (non-null user_id of any event, as DAU) with the first and
  last UTC day they were active and whether they were active exactly on their
  first day + N, N in 1, 7, 30, 90 (seed 004 cohort retention; read by
  metrics_cohort_retention, so the cohorts aggregate users, not events).
  Incremental (delete+insert on user_id): a run recomputes only the users with
  staging rows written since its last run (dbt_loaded_at > max(staged_at)), each
  by index look-ups on int_user_activity_daily (user_id, activity_date): min /
  max day and one existence probe per N — the cost follows the day's users, not
  their history. A first build / --full-refresh computes every user from the
  user-day table (DECISIONLOG "Incremental platform intermediates").
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='user_id',
    indexes=[{'columns': ['user_id'], 'unique': true}, {'columns': ['staged_at']}],
) }}

{% set days = [1, 7, 30, 90] %}

with

{% if is_incremental() %}
touched_users as (

    select
        user_id,
        max(dbt_loaded_at) as staged_at
    from {{ ref('stg_platform__events') }}
    where user_id is not null
        and dbt_loaded_at > {{ platform_staged_watermark() }}
    group by user_id

),

bounds as (

    select
        touched_users.user_id,
        (
            select min(user_days.activity_date)
            from {{ ref('int_user_activity_daily') }} as user_days
            where user_days.user_id = touched_users.user_id
        ) as first_date,
        (
            select max(user_days.activity_date)
            from {{ ref('int_user_activity_daily') }} as user_days
            where user_days.user_id = touched_users.user_id
        ) as last_date,
        touched_users.staged_at
    from touched_users

),
{% else %}
bounds as (

    select
        user_id,
        min(activity_date) as first_date,
        max(activity_date) as last_date,
        -- every user is computed from all staging rows written so far
        (select max(dbt_loaded_at) from {{ ref('stg_platform__events') }}) as staged_at
    from {{ ref('int_user_activity_daily') }}
    group by user_id

),
{% endif %}

flags as (

    select
        bounds.user_id,
        bounds.first_date,
        bounds.last_date,
        {% for n in days %}
        exists(
            select 1
            from {{ ref('int_user_activity_daily') }} as user_days
            where user_days.user_id = bounds.user_id
                and user_days.activity_date = cast({{ dbt.dateadd('day', n, 'bounds.first_date') }} as date)
        ) as active_d{{ n }},
        {% endfor %}
        bounds.staged_at
    from bounds

)

select
    user_id,
    first_date,
    last_date,
    {% for n in days %}
    active_d{{ n }},
    {% endfor %}
    staged_at
from flags

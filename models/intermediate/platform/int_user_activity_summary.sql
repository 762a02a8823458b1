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
  After a retention run (`kpi retention apply`) the user-days before the
  horizon are gone: a returning user keeps the first day and the day-N flags
  this table already held for days before it, so cohorts do not move.
-#}
{{ config(
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
-- read by flags directly, or through kept after a retention run
bounds as (  -- noqa: ST03

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
{%- set horizon = kpi_retention_horizon() if is_incremental() else none %}
{%- if horizon %}

kept as (

    -- retention (kpi retention apply) removed the user-days before the horizon: a returning
    -- user keeps the first day (and the day-N flags) this table knew from before it
    select
        bounds.user_id,
        case
            when known.first_date < cast('{{ horizon }}' as date) then known.first_date
            else bounds.first_date
        end as first_date,
        coalesce(bounds.last_date, known.last_date) as last_date,
        {% for n in days %}
        known.active_d{{ n }} as known_active_d{{ n }},
        {% endfor %}
        bounds.staged_at
    from bounds
    left join {{ this }} as known
        on bounds.user_id = known.user_id

),
{%- endif %}

flags as (

    select
        user_bounds.user_id,
        user_bounds.first_date,
        user_bounds.last_date,
        {% for n in days %}
        {%- set probe = dbt.dateadd('day', n, 'user_bounds.first_date') %}
        {%- if horizon %}
        case
            when cast({{ probe }} as date) < cast('{{ horizon }}' as date)
                then coalesce(user_bounds.known_active_d{{ n }}, false)
            else exists (
                select 1
                from {{ ref('int_user_activity_daily') }} as user_days
                where user_days.user_id = user_bounds.user_id
                    and user_days.activity_date = cast({{ probe }} as date)
            )
        end as active_d{{ n }},
        {%- else %}
        exists(
            select 1
            from {{ ref('int_user_activity_daily') }} as user_days
            where user_days.user_id = user_bounds.user_id
                and user_days.activity_date = cast({{ probe }} as date)
        ) as active_d{{ n }},
        {%- endif %}
        {% endfor %}
        user_bounds.staged_at
    from {{ 'kept' if horizon else 'bounds' }} as user_bounds

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

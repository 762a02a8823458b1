{#-
  Daily lifecycle per tenant and event domain of the declared streams (PostHog's
  lifecycle, DECISIONLOG "Lifecycle, stickiness, sessions and paths"): one row per
  (UTC day, tenant_id, event_domain) with an active or a dormant user in that
  scope, 'all' tenants and/or 'all' domains included. Of the users active that
  day: new (no earlier active day in the scope), returning (active the day
  before), resurrecting (not the day before, active some day earlier);
  active_users = new + returning + resurrecting. dormant_users: active the day
  before, not that day (a positive count; PostHog plots it below zero).
  From int_product_user_periods (grain day: each user-day with the user's previous
  and next active day). Incremental (replace_days on metric_date, days_after 1: a
  day's users are the next day's dormant ones): a run recomputes the days of the
  streams' events staged since its last run and the days whose user-day state
  changed since then (kpi_changed_days.intermediates: a late first event turns
  the user's next active day from new into resurrecting, however far it is).
-#}
{%- set settings = product_analytics_activity_settings() %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='metric_date',
    tags=['daily'],
    kpi_changed_days={
        'domains': settings['streams'],
        'days_after': 1,
        'intermediates': [
            ['int_product_user_periods', "case when period_grain = 'day' then period_start end"],
        ],
    },
    indexes=[
        {'columns': ['metric_date', 'tenant_id', 'event_domain'], 'unique': true},
    ],
) }}

-- the load watermark and the days to recompute are read from staging (kpi_days_to_process)
-- depends_on: {{ ref('stg_platform__events') }}

{{ product_analytics_lifecycle('day', 'metric_date', recomputed_days_only=true) }}

{#-
  Weekly lifecycle per tenant and event domain of the declared streams (PostHog's
  lifecycle by ISO week, Monday start; DECISIONLOG "Lifecycle, stickiness, sessions
  and paths"): one row per (week_start, tenant_id, event_domain) with an active or
  a dormant user in that scope, 'all' tenants and/or 'all' domains included. Of
  the users active in the week: new (no earlier active week in the scope),
  returning (active the week before), resurrecting (not the week before, active
  some week earlier); dormant: active the week before, not this week.
  A table rebuilt whole by every run from int_product_user_periods (grain week,
  incremental by touched user): it reads user-weeks, not events, so a late event
  reaches its week and the weeks after on the next plain build.
-#}
{{ config(
    indexes=[{'columns': ['week_start', 'tenant_id', 'event_domain'], 'unique': true}],
) }}

{{ product_analytics_lifecycle('week', 'week_start') }}

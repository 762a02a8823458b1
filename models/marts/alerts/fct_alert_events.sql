{#-
  Audit log of alert transitions: one row per (alert episode, transition,
  evaluation instant) — opened, still_firing, resolved, reopened — taken from
  the rows fct_alerts changed (last_transition at last_transition_at).
  Incremental append with a unique key (event_key = md5 of alert_key |
  transition | evaluated_at, delete+insert): each run adds the transitions made
  at its evaluation instant T (a backfill evaluates instants older than the
  log's latest) and any at or after the latest one already logged, so
  re-running an evaluation rewrites the same rows, never duplicates them. full_refresh: false — the log is never rebuilt away.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_key',
    indexes=[{'columns': ['event_key'], 'unique': true}],
    full_refresh=false,
    tags=['alerts'],
) }}

with

alerts as (

    select
        alert_key,
        rule_id,
        subject,
        episode,
        severity,
        status,
        last_value,
        threshold,
        message,
        last_transition,
        last_transition_at
    from {{ ref('fct_alerts') }}
    {% if is_incremental() -%}
    -- this evaluation's transitions (also when T is older than the log's latest: a backfill
    -- of alert history), and any later one a previous run did not log
    where last_transition_at = {{ alerts_evaluated_at() }}
        or last_transition_at >= (
            select coalesce(max(evaluated_at), cast('1900-01-01T00:00:00+00:00' as {{ type_timestamp_tz() }}))
            from {{ this }}
        )
    {%- endif %}

)

select
    {{ surrogate_key(['alert_key', 'last_transition', 'last_transition_at']) }} as event_key,
    alert_key,
    rule_id,
    subject,
    episode,
    last_transition as event_type,
    last_transition_at as evaluated_at,
    severity,
    status as status_after,
    last_value as metric_value,
    threshold,
    message
from alerts

{#-
  Alert lifecycle (seed 001: dedup and auto-resolution; rules from
  seeds/alert_rules.csv): one row per alert episode — alert_key = md5 of
  rule_id | subject | episode. Each run evaluates at T = alerts_evaluated_at()
  against the previous state of this table ({{ this }}) and writes only the rows
  that change (delete+insert on alert_key):
  - firing, latest episode open and last seen before T → still_firing:
    last_seen_at = T, occurrences + 1, severity/value/message refreshed (dedup:
    the same row);
  - firing, no episode yet → opened (episode 1); latest episode resolved before
    T → reopened (a new episode, number + 1);
  - latest episode open, last seen before T, not firing → resolved at T.
  Only the rules of alerts_selected_rules() are judged (`kpi alerts --evaluate
  --rule R`): other rules' episodes are left as they are.
  Rows already seen at T (last_seen_at >= T) or resolved at/after T are left
  alone, so re-running the same evaluation time changes nothing, and an
  evaluation older than the state is a no-op. notified_at /
  resolved_notified_at are set by `kpi alerts --webhook` and carried over.
  full_refresh: false — the history is never rebuilt away.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='alert_key',
    indexes=[{'columns': ['alert_key'], 'unique': true}],
    full_refresh=false,
    on_schema_change='append_new_columns',
    tags=['alerts'],
) }}

with

firing as (

    select
        rule_id,
        subject,
        severity,
        observed_day,
        metric_value,
        threshold,
        message,
        evaluated_at
    from {{ ref('int_alert_firing') }}

),

evaluation as (

    select {{ alerts_evaluated_at() }} as evaluated_at

),

existing as (

    {% if is_incremental() -%}
    select
        alert_key, rule_id, subject, episode, severity, status, first_seen_at, last_seen_at,
        occurrences, resolved_at, observed_day, last_value, threshold, message, last_transition,
        last_transition_at, notified_at, resolved_notified_at
    from {{ this }}
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as alert_key,
        cast(null as {{ dbt.type_string() }}) as rule_id,
        cast(null as {{ dbt.type_string() }}) as subject,
        cast(null as {{ dbt.type_int() }}) as episode,
        cast(null as {{ dbt.type_string() }}) as severity,
        cast(null as {{ dbt.type_string() }}) as status,
        cast(null as {{ type_timestamp_tz() }}) as first_seen_at,
        cast(null as {{ type_timestamp_tz() }}) as last_seen_at,
        cast(null as {{ dbt.type_int() }}) as occurrences,
        cast(null as {{ type_timestamp_tz() }}) as resolved_at,
        cast(null as date) as observed_day,
        cast(null as {{ dbt.type_numeric() }}) as last_value,
        cast(null as {{ dbt.type_numeric() }}) as threshold,
        cast(null as {{ dbt.type_string() }}) as message,
        cast(null as {{ dbt.type_string() }}) as last_transition,
        cast(null as {{ type_timestamp_tz() }}) as last_transition_at,
        cast(null as {{ type_timestamp_tz() }}) as notified_at,
        cast(null as {{ type_timestamp_tz() }}) as resolved_notified_at
    where 1 = 0
    {%- endif %}

),

latest as (

    -- the latest episode of each (rule, subject)
    select *
    from (
        select
            existing.*,
            row_number() over (partition by rule_id, subject order by episode desc) as episode_rank
        from existing
    ) as ranked
    where episode_rank = 1

),

latest_open as (

    -- latest episodes still open and last seen before T: refreshed if firing, else resolved
    select latest.*
    from latest
    cross join evaluation
    where latest.status = 'open'
        and latest.last_seen_at < evaluation.evaluated_at
        -- a one-rule evaluation (`--rule R`) neither refreshes nor resolves other rules' alerts
        and {{ alerts_rule_predicate('latest.rule_id') }}

),

still_firing as (

    select
        latest_open.alert_key,
        latest_open.rule_id,
        latest_open.subject,
        latest_open.episode,
        firing.severity,
        'open' as status,
        latest_open.first_seen_at,
        evaluation.evaluated_at as last_seen_at,
        latest_open.occurrences + 1 as occurrences,
        cast(null as {{ type_timestamp_tz() }}) as resolved_at,
        firing.observed_day,
        firing.metric_value as last_value,
        firing.threshold,
        firing.message,
        'still_firing' as last_transition,
        evaluation.evaluated_at as last_transition_at,
        latest_open.notified_at,
        latest_open.resolved_notified_at
    from firing
    cross join evaluation
    inner join latest_open
        on firing.rule_id = latest_open.rule_id
        and firing.subject = latest_open.subject

),

opened as (

    select
        {{ surrogate_key(['firing.rule_id', 'firing.subject', 'coalesce(latest.episode, 0) + 1']) }} as alert_key,
        firing.rule_id,
        firing.subject,
        coalesce(latest.episode, 0) + 1 as episode,
        firing.severity,
        'open' as status,
        evaluation.evaluated_at as first_seen_at,
        evaluation.evaluated_at as last_seen_at,
        1 as occurrences,
        cast(null as {{ type_timestamp_tz() }}) as resolved_at,
        firing.observed_day,
        firing.metric_value as last_value,
        firing.threshold,
        firing.message,
        case when latest.episode is null then 'opened' else 'reopened' end as last_transition,
        evaluation.evaluated_at as last_transition_at,
        cast(null as {{ type_timestamp_tz() }}) as notified_at,
        cast(null as {{ type_timestamp_tz() }}) as resolved_notified_at
    from firing
    cross join evaluation
    left join latest
        on firing.rule_id = latest.rule_id
        and firing.subject = latest.subject
    where latest.alert_key is null
        or (latest.status = 'resolved' and latest.resolved_at < evaluation.evaluated_at)

),

resolved as (

    select
        latest_open.alert_key,
        latest_open.rule_id,
        latest_open.subject,
        latest_open.episode,
        latest_open.severity,
        'resolved' as status,
        latest_open.first_seen_at,
        latest_open.last_seen_at,
        latest_open.occurrences,
        evaluation.evaluated_at as resolved_at,
        latest_open.observed_day,
        latest_open.last_value,
        latest_open.threshold,
        latest_open.message,
        'resolved' as last_transition,
        evaluation.evaluated_at as last_transition_at,
        latest_open.notified_at,
        latest_open.resolved_notified_at
    from latest_open
    cross join evaluation
    left join firing
        on latest_open.rule_id = firing.rule_id
        and latest_open.subject = firing.subject
    where firing.rule_id is null

),

changes as (

    select * from still_firing
    union all
    select * from opened
    union all
    select * from resolved

)

select
    alert_key,
    rule_id,
    subject,
    cast(episode as {{ dbt.type_int() }}) as episode,
    severity,
    {{ alert_severity_rank('severity') }} as severity_rank,
    status,
    first_seen_at,
    last_seen_at,
    cast(occurrences as {{ dbt.type_int() }}) as occurrences,
    resolved_at,
    observed_day,
    cast(last_value as {{ dbt.type_numeric() }}) as last_value,
    cast(threshold as {{ dbt.type_numeric() }}) as threshold,
    message,
    last_transition,
    last_transition_at,
    notified_at,
    resolved_notified_at
from changes

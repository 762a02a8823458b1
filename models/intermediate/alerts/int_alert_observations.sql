{#-
  What the alert rules look at, at the evaluation instant T
  (alerts_evaluated_at()): one row per (source_model, metric, subject).
  - day-grain values: int_alert_metric_values on the last complete UTC day
    before T (observed_day = utc_date(T) - 1), so an hourly evaluation never
    judges a half-built day;
  - evaluation-grain values: the int_alert_conditions_* models, observed at T
    (observed_day null).
-#}
{#- a table, not a view: built once per run, so the tests and the marts that read it
    do not each re-compute every alert source (as a view, three tests re-ran it for 35 s) -#}
{{ config(materialized='table', tags=['alerts']) }}

{%- set condition_models = [
    'int_alert_conditions_stuck_applications',
    'int_alert_conditions_approval_backlog',
    'int_alert_conditions_inactive_partners',
    'int_alert_conditions_expired_invitations',
    'int_alert_conditions_low_invite_acceptance',
    'int_alert_conditions_rollback_triggers',
] %}

with

evaluation as (

    select
        {{ alerts_evaluated_at() }} as evaluated_at,
        cast({{ dbt.dateadd('day', -1, utc_date(alerts_evaluated_at())) }} as date) as observed_day

),

day_values as (

    select
        metric_values.source_model,
        metric_values.metric,
        metric_values.subject,
        metric_values.metric_date as observed_day,
        metric_values.metric_value
    from {{ ref('int_alert_metric_values') }} as metric_values
    inner join evaluation
        on metric_values.metric_date = evaluation.observed_day

),

condition_values as (

    {% for m in condition_models -%}
    select
        cast('{{ m }}' as {{ dbt.type_string() }}) as source_model,
        metric,
        subject,
        cast(null as date) as observed_day,
        metric_value
    from {{ ref(m) }}
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

unioned as (

    select source_model, metric, subject, observed_day, metric_value from day_values
    union all
    select source_model, metric, subject, observed_day, metric_value from condition_values

)

select
    {{ surrogate_key(['unioned.source_model', 'unioned.metric', 'unioned.subject']) }} as observation_key,
    unioned.source_model,
    unioned.metric,
    unioned.subject,
    unioned.observed_day,
    unioned.metric_value,
    evaluation.evaluated_at
from unioned
cross join evaluation

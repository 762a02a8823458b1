{#-
  The alerts firing at the evaluation instant: one row per (rule_id, subject)
  whose observed value breaks the rule (seeds/alert_rules.csv), with its
  severity and rendered message.
  lt/lte/gt/gte: critical when the value breaks critical_level (if set), else
  warning when it breaks warning_level; between: severity_if_no_levels when
  warning_level <= value <= critical_level. A null value never fires.
  Only the rules of alerts_selected_rules() (all unless `--rule` names some).
-#}
{#- a table, not a view: built once per run, so the tests and the marts that read it
    do not each re-compute every alert source (as a view, three tests re-ran it for 35 s) -#}
{{ config(materialized='table', tags=['alerts']) }}

with

rules as (

    select
        rule_id,
        source_model,
        metric,
        grain,
        comparator,
        warning_level,
        critical_level,
        severity_if_no_levels,
        message_template
    from {{ ref('alert_rules') }}
    -- `kpi alerts --evaluate --rule R` judges one rule (macro alerts_selected_rules)
    where {{ alerts_rule_predicate('rule_id') }}

),

observations as (

    select
        source_model,
        metric,
        subject,
        observed_day,
        metric_value,
        evaluated_at
    from {{ ref('int_alert_observations') }}
    where metric_value is not null

),

matched as (

    select
        rules.rule_id,
        rules.comparator,
        rules.warning_level,
        rules.critical_level,
        rules.severity_if_no_levels,
        rules.message_template,
        observations.subject,
        observations.observed_day,
        observations.metric_value,
        observations.evaluated_at
    from rules
    inner join observations
        on rules.source_model = observations.source_model
        and rules.metric = observations.metric
        and (
            (rules.grain = 'day' and observations.observed_day is not null)
            or (rules.grain = 'evaluation' and observations.observed_day is null)
        )

),

classified as (

    select
        matched.*,
        case
            when comparator = 'between' then
                case when metric_value >= warning_level and metric_value <= critical_level
                    then coalesce(severity_if_no_levels, 'info') end
            when comparator = 'lt' then
                case
                    when critical_level is not null and metric_value < critical_level then 'critical'
                    when metric_value < warning_level then 'warning'
                end
            when comparator = 'lte' then
                case
                    when critical_level is not null and metric_value <= critical_level then 'critical'
                    when metric_value <= warning_level then 'warning'
                end
            when comparator = 'gt' then
                case
                    when critical_level is not null and metric_value > critical_level then 'critical'
                    when metric_value > warning_level then 'warning'
                end
            when comparator = 'gte' then
                case
                    when critical_level is not null and metric_value >= critical_level then 'critical'
                    when metric_value >= warning_level then 'warning'
                end
        end as severity
    from matched

),

firing as (

    select
        rule_id,
        subject,
        severity,
        observed_day,
        metric_value,
        evaluated_at,
        case
            when comparator = 'between' then warning_level
            when severity = 'critical' then critical_level
            else warning_level
        end as threshold,
        message_template
    from classified
    where severity is not null

)

select
    rule_id,
    subject,
    severity,
    {{ alert_severity_rank('severity') }} as severity_rank,
    observed_day,
    metric_value,
    threshold,
    replace(replace(replace(replace(message_template,
        '{value}', {{ alert_number_text('round(metric_value, 4)') }}),
        '{threshold}', {{ alert_number_text('threshold') }}),
        '{subject}', subject),
        '{day}', coalesce(cast(observed_day as {{ dbt.type_string() }}), '')) as message,
    evaluated_at
from firing

{#-
  Seed 003's final report "Recommendations", generated from the stated rules of seed
  pilot_recommendation_rules: one row per scope (as rpt_pilot_scope_kpis) x rule that
  fires, its sentence with {scope}, {value}, {target} and {previous_value} filled in
  (rates as percentages with one decimal, hours with one decimal and ' h').
  Conditions read the scope's cumulative KPIs (not_met, met, no_target, all_met), the
  comparison of its template version with the previous one (improved, worsened; an
  'all' scope uses its latest version's comparison) and its rollback history
  (rollback_triggered = the trigger fired in any week). A table rebuilt whole by
  every run.
-#}
with

kpis as (

    select scope, country_code, category, version_scope, template_version, kpi, unit, value, target, is_met
    from {{ ref('rpt_pilot_scope_kpis') }}
    where period_type = 'cumulative'

),

rules as (

    select rule_id, sort_order, kpi, condition, sentence
    from {{ ref('pilot_recommendation_rules') }}

),

comparisons as (

    select country_code, category, kpi, template_version, previous_value, value, is_improved
    from {{ ref('rpt_pilot_version_comparison') }}

),

history as (

    select scope, max(case when is_triggered then 1 else 0 end) as was_triggered
    from {{ ref('rpt_pilot_rollback_history') }}
    group by scope

),

scopes as (

    select
        scope,
        country_code,
        category,
        version_scope,
        max(template_version) as template_version,
        sum(case when target is not null then 1 else 0 end) as kpis_with_target,
        sum(case when target is not null and is_met then 1 else 0 end) as kpis_met
    from kpis
    group by scope, country_code, category, version_scope

),

latest_versions as (

    select country_code, category, max(template_version) as template_version
    from comparisons
    group by country_code, category

),

scope_comparisons as (

    -- a version scope: its own version against the previous one; an 'all' scope: the latest version's
    select scopes.scope, comparisons.kpi, comparisons.previous_value, comparisons.value, comparisons.is_improved
    from scopes
    left join latest_versions
        on scopes.country_code = latest_versions.country_code
        and scopes.category = latest_versions.category
    inner join comparisons
        on scopes.country_code = comparisons.country_code
        and scopes.category = comparisons.category
        and comparisons.template_version = case
            when scopes.version_scope = 'all' then latest_versions.template_version
            else scopes.template_version
        end

),

fired as (

    -- a KPI against its target
    select rules.rule_id, rules.sort_order, rules.sentence, kpis.scope, kpis.unit, kpis.value, kpis.target,
        cast(null as {{ dbt.type_numeric() }}) as previous_value
    from rules
    inner join kpis
        on rules.kpi = kpis.kpi
    where (rules.condition = 'not_met' and kpis.is_met = false)
        or (rules.condition = 'met' and kpis.is_met = true)
        or (rules.condition = 'no_target' and kpis.target is null and kpis.value is not null)

    union all

    -- the template version against the previous one
    select rules.rule_id, rules.sort_order, rules.sentence, scope_comparisons.scope, kpis.unit, scope_comparisons.value,
        kpis.target, scope_comparisons.previous_value
    from rules
    inner join scope_comparisons
        on rules.kpi = scope_comparisons.kpi
    inner join kpis
        on scope_comparisons.scope = kpis.scope
        and scope_comparisons.kpi = kpis.kpi
    where (rules.condition = 'improved' and scope_comparisons.is_improved = true)
        or (
            rules.condition = 'worsened' and scope_comparisons.is_improved = false
            and scope_comparisons.value != scope_comparisons.previous_value
        )

    union all

    -- the scope as a whole
    select rules.rule_id, rules.sort_order, rules.sentence, scopes.scope, cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_numeric() }}), cast(null as {{ dbt.type_numeric() }}),
        cast(null as {{ dbt.type_numeric() }})
    from rules
    cross join scopes
    left join history
        on scopes.scope = history.scope
    where (rules.condition = 'rollback_triggered' and history.was_triggered = 1)
        or (rules.condition = 'all_met' and scopes.kpis_with_target > 0 and scopes.kpis_met = scopes.kpis_with_target)

),

formatted as (

    select
        rule_id,
        sort_order,
        scope,
        value,
        target,
        previous_value,
        {%- for name in ['value', 'target', 'previous_value'] %}
        case
            when {{ name }} is null then 'n/a'
            when unit = 'rate' then cast(round({{ name }} * 100, 1) as {{ dbt.type_string() }}) || '%'
            when unit = 'hours' then cast(round({{ name }}, 1) as {{ dbt.type_string() }}) || ' h'
            else cast({{ name }} as {{ dbt.type_string() }})
        end as {{ name }}_text,
        {%- endfor %}
        sentence
    from fired

)

select
    {{ surrogate_key(['scope', 'rule_id']) }} as recommendation_key,
    scope,
    rule_id,
    sort_order,
    value,
    target,
    previous_value,
    replace(replace(replace(replace(sentence, '{scope}', scope), '{value}', value_text), '{target}', target_text),
        '{previous_value}', previous_value_text) as recommendation
from formatted

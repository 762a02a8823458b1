{#-
  Seed 000's weekly merchant report: one row per tenant and ISO week (Monday to
  Sunday, UTC) in which the tenant has loyalty activity. Built from the daily
  facts: counts summed, customers counted distinct from fct_customer_activity,
  rates recomputed from the week's counts (never averaged). Compared with the
  previous ISO week of the same tenant (null when that week has no row), top 5
  rewards as a JSON array, and a plain-English summary from week-over-week
  changes crossing the thresholds of the report_thresholds seed.
-#}
{%- set compared = ['transactions_total', 'active_customers', 'repeat_customers', 'redemption_rate',
                    'error_rate', 'scan_errors_total', 'reverse_transactions', 'adjust_transactions'] -%}

with

daily as (

    select
        tenant_id,
        location_id,
        cast({{ dbt.date_trunc('week', 'metric_date') }} as date) as week_start,
        metric_date,
        issue_transactions,
        redeem_transactions,
        adjust_transactions,
        reverse_transactions,
        transactions_total,
        scan_errors_total,
        scan_errors_expired_qr,
        scan_errors_insufficient_balance,
        scan_errors_unauthorized_device
    from {{ ref('fct_pilot_daily_metrics') }}

),

customer_days as (

    select
        tenant_id,
        customer_id,
        cast({{ dbt.date_trunc('week', 'activity_date') }} as date) as week_start,
        transactions
    from {{ ref('fct_customer_activity') }}

),

reward_days as (

    select
        tenant_id,
        reward_id,
        cast({{ dbt.date_trunc('week', 'usage_date') }} as date) as week_start,
        redemptions,
        points_redeemed
    from {{ ref('fct_reward_usage') }}

),

thresholds as (

    select
        metric,
        label,
        direction,
        min_relative_change,
        min_absolute_change,
        value_kind,
        sort_order
    from {{ ref('report_thresholds') }}

),

counts_weekly as (

    select
        tenant_id,
        week_start,
        count(distinct metric_date) as days_with_activity,
        count(distinct nullif(location_id, 'unknown')) as locations_active,
        cast(sum(issue_transactions) as {{ dbt.type_bigint() }}) as issue_transactions,
        cast(sum(redeem_transactions) as {{ dbt.type_bigint() }}) as redeem_transactions,
        cast(sum(adjust_transactions) as {{ dbt.type_bigint() }}) as adjust_transactions,
        cast(sum(reverse_transactions) as {{ dbt.type_bigint() }}) as reverse_transactions,
        cast(sum(transactions_total) as {{ dbt.type_bigint() }}) as transactions_total,
        cast(sum(scan_errors_total) as {{ dbt.type_bigint() }}) as scan_errors_total,
        cast(sum(scan_errors_expired_qr) as {{ dbt.type_bigint() }}) as scan_errors_expired_qr,
        cast(sum(scan_errors_insufficient_balance) as {{ dbt.type_bigint() }}) as scan_errors_insufficient_balance,
        cast(sum(scan_errors_unauthorized_device) as {{ dbt.type_bigint() }}) as scan_errors_unauthorized_device
    from daily
    group by tenant_id, week_start

),

customer_weeks as (

    select
        tenant_id,
        week_start,
        customer_id,
        cast(sum(transactions) as {{ dbt.type_bigint() }}) as transactions
    from customer_days
    group by tenant_id, week_start, customer_id

),

customers_weekly as (

    -- a repeat customer of the week: >= 2 transactions at the tenant in that ISO week
    select
        tenant_id,
        week_start,
        count(*) as active_customers,
        cast(sum(case when transactions >= 2 then 1 else 0 end) as {{ dbt.type_bigint() }}) as repeat_customers
    from customer_weeks
    group by tenant_id, week_start

),

rewards_weekly as (

    select
        tenant_id,
        week_start,
        reward_id,
        cast(sum(redemptions) as {{ dbt.type_bigint() }}) as redemptions,
        cast(sum(points_redeemed) as {{ dbt.type_bigint() }}) as points_redeemed
    from reward_days
    group by tenant_id, week_start, reward_id

),

rewards_ranked as (

    select
        tenant_id,
        week_start,
        reward_id,
        redemptions,
        points_redeemed,
        row_number() over (
            partition by tenant_id, week_start
            order by redemptions desc, points_redeemed desc, reward_id asc
        ) as reward_rank
    from rewards_weekly

),

top_rewards as (

    select
        tenant_id,
        week_start,
        {{ json_array_agg(
            json_build_object([
                ('rank', 'reward_rank'),
                ('reward_id', 'reward_id'),
                ('redemptions', 'redemptions'),
                ('points_redeemed', 'points_redeemed'),
            ]),
            'reward_rank') }} as top_rewards
    from rewards_ranked
    where reward_rank <= 5
    group by tenant_id, week_start

),

weekly as (

    select
        counts_weekly.tenant_id,
        counts_weekly.week_start,
        counts_weekly.days_with_activity,
        counts_weekly.locations_active,
        coalesce(customers_weekly.active_customers, 0) as active_customers,
        coalesce(customers_weekly.repeat_customers, 0) as repeat_customers,
        counts_weekly.issue_transactions,
        counts_weekly.redeem_transactions,
        counts_weekly.adjust_transactions,
        counts_weekly.reverse_transactions,
        counts_weekly.transactions_total,
        {{ rounded_rate('counts_weekly.redeem_transactions', 'counts_weekly.issue_transactions', cap=true) }}
            as redemption_rate,
        counts_weekly.scan_errors_total,
        counts_weekly.scan_errors_expired_qr,
        counts_weekly.scan_errors_insufficient_balance,
        counts_weekly.scan_errors_unauthorized_device,
        {{ rounded_rate('counts_weekly.scan_errors_total', 'counts_weekly.transactions_total') }} as error_rate
    from counts_weekly
    left join customers_weekly
        on counts_weekly.tenant_id = customers_weekly.tenant_id
        and counts_weekly.week_start = customers_weekly.week_start

),

compared as (

    select
        weekly.tenant_id,
        weekly.week_start,
        weekly.days_with_activity,
        weekly.locations_active,
        weekly.active_customers,
        weekly.repeat_customers,
        weekly.issue_transactions,
        weekly.redeem_transactions,
        weekly.adjust_transactions,
        weekly.reverse_transactions,
        weekly.transactions_total,
        weekly.redemption_rate,
        weekly.scan_errors_total,
        weekly.scan_errors_expired_qr,
        weekly.scan_errors_insufficient_balance,
        weekly.scan_errors_unauthorized_device,
        weekly.error_rate,
        {%- for m in compared %}
        previous_week.{{ m }} as previous_{{ m }},
        weekly.{{ m }} - previous_week.{{ m }} as {{ m }}_change,
        {%- endfor %}
        previous_week.week_start is not null as has_previous_week
    from weekly
    left join weekly as previous_week
        on weekly.tenant_id = previous_week.tenant_id
        and previous_week.week_start = cast({{ dbt.dateadd('day', -7, 'weekly.week_start') }} as date)

),

metric_changes as (

    {% for m in compared -%}
    select
        tenant_id,
        week_start,
        '{{ m }}' as metric,
        cast({{ m }} as {{ dbt.type_numeric() }}) as current_value,
        cast(previous_{{ m }} as {{ dbt.type_numeric() }}) as previous_value
    from compared
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

classified_changes as (

    select
        metric_changes.tenant_id,
        metric_changes.week_start,
        thresholds.sort_order,
        thresholds.label,
        thresholds.value_kind,
        metric_changes.current_value,
        metric_changes.previous_value,
        metric_changes.current_value - metric_changes.previous_value as change,
        case
            when (metric_changes.current_value > metric_changes.previous_value)
                = (thresholds.direction = 'higher_is_better') then 'improved'
            else 'needs_fixing'
        end as verdict
    from metric_changes
    inner join thresholds
        on metric_changes.metric = thresholds.metric
    where metric_changes.current_value is not null
        and metric_changes.previous_value is not null
        and abs(metric_changes.current_value - metric_changes.previous_value) >= thresholds.min_absolute_change
        and (
            thresholds.min_relative_change is null
            or metric_changes.previous_value = 0
            or abs(metric_changes.current_value - metric_changes.previous_value)
                >= thresholds.min_relative_change * abs(metric_changes.previous_value)
        )

),

sentences as (

    select
        tenant_id,
        week_start,
        verdict,
        sort_order,
        case
            when value_kind = 'rate' then
                label
                || case when change > 0 then ' rose ' else ' fell ' end
                || cast(round(abs(change) * 100, 1) as {{ dbt.type_string() }}) || ' points ('
                || cast(round(previous_value * 100, 1) as {{ dbt.type_string() }}) || '% to '
                || cast(round(current_value * 100, 1) as {{ dbt.type_string() }}) || '%).'
            else
                label
                || case when change > 0 then ' rose ' else ' fell ' end
                || case
                    when previous_value > 0
                        then cast(round(abs(change) * 100 / previous_value, 0) as {{ dbt.type_string() }}) || '% ('
                    else 'from none ('
                end
                || cast(cast(previous_value as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}) || ' to '
                || cast(cast(current_value as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}) || ').'
        end as sentence
    from classified_changes

),

summaries as (

    select
        tenant_id,
        week_start,
        {{ dbt.listagg("case when verdict = 'improved' then sentence end", "' '", "order by sort_order") }} as what_improved,
        {{ dbt.listagg("case when verdict = 'needs_fixing' then sentence end", "' '", "order by sort_order") }} as what_needs_fixing
    from sentences
    group by tenant_id, week_start

),

final as (

    select
        {{ surrogate_key(['compared.tenant_id', 'compared.week_start']) }} as report_key,
        compared.tenant_id,
        {{ iso_week_label('compared.week_start') }} as iso_week,
        compared.week_start,
        cast({{ dbt.dateadd('day', 6, 'compared.week_start') }} as date) as week_end,
        compared.days_with_activity,
        compared.locations_active,
        compared.active_customers,
        compared.repeat_customers,
        {{ rounded_rate('compared.repeat_customers', 'compared.active_customers') }} as repeat_customer_rate,
        compared.issue_transactions,
        compared.redeem_transactions,
        compared.adjust_transactions,
        compared.reverse_transactions,
        compared.transactions_total,
        compared.redemption_rate,
        compared.scan_errors_total,
        compared.scan_errors_expired_qr,
        compared.scan_errors_insufficient_balance,
        compared.scan_errors_unauthorized_device,
        compared.error_rate,
        compared.has_previous_week,
        {%- for m in compared %}
        compared.previous_{{ m }},
        compared.{{ m }}_change,
        {%- endfor %}
        coalesce(top_rewards.top_rewards, {{ json_empty_array() }}) as top_rewards,
        case
            when not compared.has_previous_week then 'No previous week to compare with.'
            else coalesce(summaries.what_improved, 'Nothing improved beyond its threshold.')
        end as what_improved,
        case
            when not compared.has_previous_week then 'No previous week to compare with.'
            else coalesce(summaries.what_needs_fixing, 'Nothing got worse beyond its threshold.')
        end as what_needs_fixing
    from compared
    left join top_rewards
        on compared.tenant_id = top_rewards.tenant_id
        and compared.week_start = top_rewards.week_start
    left join summaries
        on compared.tenant_id = summaries.tenant_id
        and compared.week_start = summaries.week_start

)

select
    report_key,
    tenant_id,
    iso_week,
    week_start,
    week_end,
    days_with_activity,
    locations_active,
    active_customers,
    repeat_customers,
    repeat_customer_rate,
    issue_transactions,
    redeem_transactions,
    adjust_transactions,
    reverse_transactions,
    transactions_total,
    redemption_rate,
    scan_errors_total,
    scan_errors_expired_qr,
    scan_errors_insufficient_balance,
    scan_errors_unauthorized_device,
    error_rate,
    has_previous_week,
    {%- for m in compared %}
    previous_{{ m }},
    {{ m }}_change,
    {%- endfor %}
    top_rewards,
    what_improved,
    what_needs_fixing
from final

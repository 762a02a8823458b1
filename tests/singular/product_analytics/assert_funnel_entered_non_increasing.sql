-- fct_funnel_steps (issue 14): in every funnel and breakdown value, the entities that
-- entered step k never outnumber those that entered step k-1, and entered step k =
-- converted at step k-1. Rows returned = violations.
with

steps as (

    select
        analysis_name,
        breakdown_value,
        step_number,
        entered_count,
        converted_count,
        lag(entered_count) over (partition by analysis_name, breakdown_value order by step_number) as previous_entered,
        lag(converted_count) over (partition by analysis_name, breakdown_value order by step_number) as previous_converted
    from {{ ref('fct_funnel_steps') }}

)

select
    analysis_name,
    breakdown_value,
    step_number,
    entered_count,
    previous_entered,
    previous_converted
from steps
where step_number > 1
    and (entered_count > previous_entered or entered_count != previous_converted)

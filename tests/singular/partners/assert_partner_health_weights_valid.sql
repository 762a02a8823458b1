-- seed partner_health_score_weights (seed 001 health score): every one of the five
-- components present once, weights non-negative and summing to 1, the scales the SQL
-- divides by (login_recency, mechanics) and the trailing windows positive.
-- Returns one row per problem.
with

weights as (

    select component, weight, scale
    from {{ ref('partner_health_score_weights') }}

),

problems as (

    select 'negative weight: ' || component as problem from weights where weight < 0
    union all
    select 'scale must be > 0: ' || component
    from weights
    where component in ('login_recency', 'mechanics', 'api_reliability', 'profile_activity')
        and (scale is null or scale <= 0)
    union all
    select 'weights sum to ' || cast(sum(weight) as {{ dbt.type_string() }}) || ', not 1'
    from weights
    having abs(sum(weight) - 1) > 0.0001
    union all
    select 'components: ' || cast(count(*) as {{ dbt.type_string() }}) || ', not 5'
    from weights
    having count(*) <> 5

)

select problem from problems

{#- One row per deal (seed 003): codes trimmed and upper-cased, country kept only if ISO-3166 alpha-2. -#}
with

source as (

    select * from {{ source('marketplace', 'deals') }}

),

countries as (

    select alpha_2 from {{ ref('iso_country_codes') }}

),

renamed as (

    select
        source.deal_id,
        upper(trim(source.country_code)) as raw_country_code,
        upper(trim(source.category)) as category,
        upper(trim(source.template_code)) as template_code,
        cast(source.template_version as {{ dbt.type_int() }}) as template_version,
        source.buyer_id,
        source.seller_id,
        cast(source.amount_cents as {{ dbt.type_bigint() }}) as amount_cents,
        upper(trim(source.currency)) as currency,
        source.created_at
    from source

)

select
    renamed.deal_id,
    countries.alpha_2 as country_code,
    renamed.category,
    renamed.template_code,
    renamed.template_version,
    renamed.buyer_id,
    renamed.seller_id,
    renamed.amount_cents,
    renamed.currency,
    renamed.created_at,
    {{ utc_date('renamed.created_at') }} as created_date
from renamed
left join countries
    on renamed.raw_country_code = countries.alpha_2

-- Peer of marts.customer_analytics (hand-written, plain PostgreSQL, reads raw.*).
-- One row per (organization_id, customer_id): every customer profile plus every
-- customer id seen only in bookings or payments. A payment belongs to its own
-- customer, else to the customer of its booking (same organization). Notes are
-- the non-empty booking notes (e-mail addresses, phone numbers and the customer's
-- own names masked with the project's regular expressions) in start_at order.
-- Age-based columns are relative to as_of: the setting peer.as_of (unset = now()),
-- pinned by bench_peer.py to the project's var as_of.
-- raw.bookings / raw.payments have booking_id / payment_id as primary key: one
-- version per id, nothing to de-duplicate.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
drop table if exists peer.customer_analytics;

create table peer.customer_analytics as
with

as_of as (
    select coalesce(nullif(current_setting('peer.as_of', true), '')::timestamptz, now()) as as_of
),

customer_name_patterns as (
    -- per customer: a regex of their given and family names (whole words, any case or
    -- accents, each capitalised part of 3+ letters), as the project's pii_name_pattern
    select
        customers.organization_id as pattern_organization_id,
        customers.customer_id as pattern_customer_id,
        (
                select '(?<![[:alnum:]])(' || string_agg(pattern, '|' order by length(pattern) desc, pattern) || ')(?![[:alnum:]])'
                from (
                    select distinct replace(replace(regexp_replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(regexp_replace(
                    lower(translate(name_part, 'àáâãäåāăąạảấầẩẫậắằẳẵặçćčďðđèéêëēėęěẹẻẽếềểễệğìíîïīįıỉịłñńňòóôõöøōőọỏốồổỗộơớờởỡợřśšşťţùúûüūůűụủưứừửữựýÿỳỵỷỹźżžÀÁÂÃÄÅĀĂĄẠẢẤẦẨẪẬẮẰẲẴẶÇĆČĎÐĐÈÉÊËĒĖĘĚẸẺẼẾỀỂỄỆĞÌÍÎÏĪĮIỈỊŁÑŃŇÒÓÔÕÖØŌŐỌỎỐỒỔỖỘƠỚỜỞỠỢŘŚŠŞŤŢÙÚÛÜŪŮŰỤỦƯỨỪỬỮỰÝŸỲỴỶỸŹŻŽ’', 'aaaaaaaaaaaaaaaaaaaaacccdddeeeeeeeeeeeeeeeegiiiiiiiiilnnnooooooooooooooooooooorsssttuuuuuuuuuuuuuuuyyyyyyzzzaaaaaaaaaaaaaaaaaaaaacccdddeeeeeeeeeeeeeeeegiiiiiiiiilnnnooooooooooooooooooooorsssttuuuuuuuuuuuuuuuyyyyyyzzz''')),
                    '([^[:alnum:][:space:]])', '\\\1', 'g'
                ), 'a', '[aàáâãäåāăąạảấầẩẫậắằẳẵặ]'), 'c', '[cçćč]'), 'd', '[dďðđ]'), 'e', '[eèéêëēėęěẹẻẽếềểễệ]'), 'g', '[gğ]'), 'i', '[iìíîïīįıỉị]'), 'l', '[lł]'), 'n', '[nñńň]'), 'o', '[oòóôõöøōőọỏốồổỗộơớờởỡợ]'), 'r', '[rř]'), 's', '[sśšş]'), 't', '[tťţ]'), 'u', '[uùúûüūůűụủưứừửữự]'), 'y', '[yýÿỳỵỷỹ]'), 'z', '[zźżž]'), '[[:space:]]+', '[[:space:]]+', 'g'), '\''', '[''’]?'), '\-', '[-[:space:]]?') as pattern
                    from (
                        select btrim(full_name) as name_part
                        from unnest(array[customers.given_name, customers.family_name]::text[]) as full_names (full_name)
                        union
                        select part
                        from unnest(array[customers.given_name, customers.family_name]::text[]) as full_names (full_name),
                            regexp_split_to_table(btrim(full_name), '[[:space:]-]+') as parts (part)
                        where char_length(part) >= 3 and part ~ '^[[:upper:]]'
                    ) as name_parts
                    where char_length(name_part) >= 2
                ) as patterns
        ) as name_pattern
    from raw.customers as customers
),

bookings as (
    select
        booking_id,
        organization_id,
        nullif(trim(location_id), '') as location_id,
        nullif(trim(customer_id), '') as customer_id,
        start_at,
        created_at,
        upper(trim(status)) as status,
        regexp_replace(
            case
                when customer_note ~ '@|[[:space:]([{<][aA][tT][]})>[:space:]]|[0-9]([ .()-]{0,3}[0-9]){7}($|[^[:alnum:]_/-])'
                    then regexp_replace(
                        regexp_replace(customer_note, '(?<!\\)([[:alnum:]_.%+-]+[[:space:]]*(@|[([{<][[:space:]]*at[[:space:]]*[]})>])[[:space:]]*[[:alnum:]-]+((\.|([[:space:]]*[([{<][[:space:]]*dot[[:space:]]*[]})>][[:space:]]*|[[:space:]]+dot[[:space:]]+))[[:alnum:]-]+)*(\.|([[:space:]]*[([{<][[:space:]]*dot[[:space:]]*[]})>][[:space:]]*|[[:space:]]+dot[[:space:]]+))[[:alpha:]]{2,}(?![[:alnum:]])|[[:alnum:]_.%+-]+[[:space:]]+at[[:space:]]+[[:alnum:]-]+(([[:space:]]*[([{<][[:space:]]*dot[[:space:]]*[]})>][[:space:]]*|[[:space:]]+dot[[:space:]]+)[[:alnum:]-]+)*([[:space:]]*[([{<][[:space:]]*dot[[:space:]]*[]})>][[:space:]]*|[[:space:]]+dot[[:space:]]+)[[:alpha:]]{2,}(?![[:alnum:]]))', '[email removed]', 'gi'),
                        '(?:(?<=\\[nrt])|(?<![[:alnum:]_+/.\\-])(?<![0-9]:))((\+|00)[1-9]([ .()-]{0,3}[0-9]){7,14}|\(?0[1-9]([ .()-]{0,2}[0-9]){7,10}|(\+?1[ .-]?)?\(?[2-9][0-9]{2}\)?[ .-]?[0-9]{3}[ .-][0-9]{4})(?![[:alnum:]_/-])(?!:[0-9])(?![.,][0-9])',
                        '[phone removed]', 'g')
                else customer_note
            end,
            coalesce(name_pattern, '\Za'), '[name removed]', 'gi') as customer_note
    from raw.bookings
    left join customer_name_patterns
        on pattern_organization_id = organization_id
        and pattern_customer_id = trim(customer_id)
),

payments as (
    select
        payments.organization_id,
        coalesce(nullif(trim(payments.customer_id), ''), bookings.customer_id) as customer_id,
        payments.amount_cents,
        upper(trim(payments.status)) as status,
        payments.created_at,
        coalesce(bookings.start_at, payments.created_at) as attributed_at
    from raw.payments as payments
    left join bookings
        on bookings.booking_id = nullif(trim(payments.booking_id), '')
        and bookings.organization_id = payments.organization_id
),

booking_facts as (
    select
        organization_id,
        customer_id,
        count(*) as total_bookings,
        count(*) filter (where status = 'ACCEPTED') as total_accepted_bookings,
        count(*) filter (where status = 'NO_SHOW') as total_no_shows,
        count(*) filter (where status in ('CANCELLED_BY_CUSTOMER', 'CANCELLED_BY_SELLER')) as total_cancellations,
        min(start_at) filter (where status = 'ACCEPTED') as first_booking_at,
        max(start_at) filter (where status = 'ACCEPTED') as last_booking_at,
        count(*) filter (where status = 'CANCELLED_BY_CUSTOMER') as total_cancelled_by_customer,
        count(*) filter (where status = 'CANCELLED_BY_SELLER') as total_cancelled_by_seller,
        count(*) filter (where status = 'DECLINED') as total_declined,
        count(*) filter (where status = 'PENDING') as total_pending,
        min(created_at) as first_booked_at,
        max(created_at) as last_booked_at,
        max(start_at) filter (where status = 'NO_SHOW') as last_no_show_at,
        max(start_at) filter (where status in ('CANCELLED_BY_CUSTOMER', 'CANCELLED_BY_SELLER')) as last_cancellation_at,
        count(*) filter (where customer_note is not null and trim(customer_note) <> '') as total_notes,
        count(distinct location_id) filter (where status = 'ACCEPTED') as accepted_locations,
        -- visits: ACCEPTED with start_at <= as_of; windows (as_of - N days, as_of]
        count(*) filter (where status = 'ACCEPTED' and start_at <= as_of) as total_visits,
        min(start_at) filter (where status = 'ACCEPTED' and start_at <= as_of) as first_visit_at,
        max(start_at) filter (where status = 'ACCEPTED' and start_at <= as_of) as last_visit_at,
        count(*) filter (where status = 'ACCEPTED' and start_at <= as_of and start_at > as_of - interval '30 days') as visits_last_30_days,
        count(*) filter (where status = 'ACCEPTED' and start_at <= as_of and start_at > as_of - interval '90 days') as visits_last_90_days,
        count(*) filter (where status = 'ACCEPTED' and start_at <= as_of and start_at > as_of - interval '365 days') as visits_last_365_days,
        count(*) filter (where status = 'NO_SHOW' and start_at <= as_of and start_at > as_of - interval '90 days') as no_shows_last_90_days,
        count(*) filter (where status in ('CANCELLED_BY_CUSTOMER', 'CANCELLED_BY_SELLER')
            and start_at <= as_of and start_at > as_of - interval '90 days') as cancellations_last_90_days,
        count(*) filter (where status = 'ACCEPTED' and start_at > as_of) as upcoming_bookings,
        min(start_at) filter (where status = 'ACCEPTED' and start_at > as_of) as next_booking_at,
        jsonb_agg(customer_note order by start_at, booking_id)
            filter (where customer_note is not null and trim(customer_note) <> '') as booking_notes
    from bookings
    cross join as_of
    where customer_id is not null
    group by organization_id, customer_id
),

preferred_locations as (
    -- most accepted bookings; a tie goes to the smallest location_id
    select distinct on (organization_id, customer_id)
        organization_id,
        customer_id,
        location_id as preferred_location_id
    from bookings
    where status = 'ACCEPTED'
        and customer_id is not null
        and location_id is not null
    group by organization_id, customer_id, location_id
    order by organization_id, customer_id, count(*) desc, location_id
),

preferred_weekdays as (
    -- ISO weekday (UTC) with the most accepted bookings; a tie goes to the earliest
    select distinct on (organization_id, customer_id)
        organization_id,
        customer_id,
        extract(isodow from start_at at time zone 'UTC')::integer as preferred_weekday
    from bookings
    where status = 'ACCEPTED'
        and customer_id is not null
    group by organization_id, customer_id, 3
    order by organization_id, customer_id, count(*) desc, 3
),

preferred_hours as (
    -- UTC hour with the most accepted booking starts; a tie goes to the earliest
    select distinct on (organization_id, customer_id)
        organization_id,
        customer_id,
        extract(hour from start_at at time zone 'UTC')::integer as preferred_hour_utc
    from bookings
    where status = 'ACCEPTED'
        and customer_id is not null
    group by organization_id, customer_id, 3
    order by organization_id, customer_id, count(*) desc, 3
),

first_booking_locations as (
    -- the location of the first accepted booking (start_at, then booking_id)
    select distinct on (organization_id, customer_id)
        organization_id,
        customer_id,
        location_id as first_booking_location_id
    from bookings
    where status = 'ACCEPTED'
        and customer_id is not null
    order by organization_id, customer_id, start_at, booking_id
),

payment_facts as (
    select
        organization_id,
        customer_id,
        coalesce(sum(amount_cents) filter (where status = 'COMPLETED'), 0)::bigint as total_revenue_cents,
        count(*) filter (where status = 'COMPLETED') as total_completed_payments,
        count(*) as total_payments,
        count(*) filter (where status = 'FAILED') as total_failed_payments,
        count(*) filter (where status = 'CANCELED') as total_canceled_payments,
        count(*) filter (where status = 'REFUNDED') as total_refunded_payments,
        coalesce(sum(amount_cents) filter (where status = 'REFUNDED'), 0)::bigint as total_refunded_cents,
        max(amount_cents) filter (where status = 'COMPLETED')::bigint as largest_ticket_cents,
        min(created_at) filter (where status = 'COMPLETED') as first_payment_at,
        max(created_at) filter (where status = 'COMPLETED') as last_payment_at,
        -- attributed to the booking's start_at (else the payment's created_at)
        coalesce(sum(amount_cents) filter (where status = 'COMPLETED'
            and attributed_at <= as_of and attributed_at > as_of - interval '90 days'), 0)::bigint as revenue_last_90_days_cents,
        coalesce(sum(amount_cents) filter (where status = 'COMPLETED'
            and attributed_at <= as_of and attributed_at > as_of - interval '30 days'), 0)::bigint as revenue_last_30_days_cents,
        coalesce(sum(amount_cents) filter (where status = 'COMPLETED'
            and attributed_at <= as_of and attributed_at > as_of - interval '365 days'), 0)::bigint as revenue_last_365_days_cents,
        count(*) filter (where status = 'COMPLETED'
            and attributed_at <= as_of and attributed_at > as_of - interval '90 days') as completed_payments_last_90_days
    from payments
    cross join as_of
    where customer_id is not null
    group by organization_id, customer_id
),

customer_keys as (
    select organization_id, customer_id from raw.customers
    union
    select organization_id, customer_id from booking_facts
    union
    select organization_id, customer_id from payment_facts
),

joined as (
    select
        customer_keys.organization_id,
        customer_keys.customer_id,
        customers.customer_id is not null as has_profile,
        customers.created_at as customer_created_at,
        booking_facts.first_booking_at,
        booking_facts.last_booking_at,
        coalesce(booking_facts.total_bookings, 0) as total_bookings,
        coalesce(booking_facts.total_accepted_bookings, 0) as total_accepted_bookings,
        coalesce(booking_facts.total_no_shows, 0) as total_no_shows,
        coalesce(booking_facts.total_cancellations, 0) as total_cancellations,
        coalesce(payment_facts.total_revenue_cents, 0) as total_revenue_cents,
        coalesce(payment_facts.total_completed_payments, 0) as total_completed_payments,
        referrers.customer_id is not null as is_referrer,
        referrers.created_at as referrer_enrolled_at,
        preferred_locations.preferred_location_id,
        preferred_weekdays.preferred_weekday,
        preferred_hours.preferred_hour_utc,
        first_booking_locations.first_booking_location_id,
        coalesce(booking_facts.total_cancelled_by_customer, 0) as total_cancelled_by_customer,
        coalesce(booking_facts.total_cancelled_by_seller, 0) as total_cancelled_by_seller,
        coalesce(booking_facts.total_declined, 0) as total_declined,
        coalesce(booking_facts.total_pending, 0) as total_pending,
        booking_facts.first_booked_at,
        booking_facts.last_booked_at,
        booking_facts.last_no_show_at,
        booking_facts.last_cancellation_at,
        coalesce(booking_facts.total_notes, 0) as total_notes,
        coalesce(booking_facts.accepted_locations, 0) as accepted_locations,
        coalesce(booking_facts.total_visits, 0) as total_visits,
        booking_facts.first_visit_at,
        booking_facts.last_visit_at,
        coalesce(booking_facts.visits_last_30_days, 0) as visits_last_30_days,
        coalesce(booking_facts.visits_last_90_days, 0) as visits_last_90_days,
        coalesce(booking_facts.visits_last_365_days, 0) as visits_last_365_days,
        coalesce(booking_facts.no_shows_last_90_days, 0) as no_shows_last_90_days,
        coalesce(booking_facts.cancellations_last_90_days, 0) as cancellations_last_90_days,
        coalesce(booking_facts.upcoming_bookings, 0) as upcoming_bookings,
        booking_facts.next_booking_at,
        coalesce(payment_facts.total_payments, 0) as total_payments,
        coalesce(payment_facts.total_failed_payments, 0) as total_failed_payments,
        coalesce(payment_facts.total_canceled_payments, 0) as total_canceled_payments,
        coalesce(payment_facts.total_refunded_payments, 0) as total_refunded_payments,
        coalesce(payment_facts.total_refunded_cents, 0) as total_refunded_cents,
        payment_facts.largest_ticket_cents,
        payment_facts.first_payment_at,
        payment_facts.last_payment_at,
        coalesce(payment_facts.revenue_last_90_days_cents, 0) as revenue_last_90_days_cents,
        coalesce(payment_facts.revenue_last_30_days_cents, 0) as revenue_last_30_days_cents,
        coalesce(payment_facts.revenue_last_365_days_cents, 0) as revenue_last_365_days_cents,
        coalesce(payment_facts.completed_payments_last_90_days, 0) as completed_payments_last_90_days,
        coalesce(booking_facts.booking_notes, '[]'::jsonb) as booking_notes,
        (as_of.as_of at time zone 'UTC')::date - (booking_facts.first_booking_at at time zone 'UTC')::date
            as days_since_first_booking,
        (as_of.as_of at time zone 'UTC')::date - (booking_facts.last_booking_at at time zone 'UTC')::date
            as days_since_last_booking,
        as_of.as_of
    from customer_keys
    cross join as_of
    left join raw.customers as customers
        on customers.organization_id = customer_keys.organization_id
        and customers.customer_id = customer_keys.customer_id
    left join booking_facts
        on booking_facts.organization_id = customer_keys.organization_id
        and booking_facts.customer_id = customer_keys.customer_id
    left join payment_facts
        on payment_facts.organization_id = customer_keys.organization_id
        and payment_facts.customer_id = customer_keys.customer_id
    left join preferred_locations
        on preferred_locations.organization_id = customer_keys.organization_id
        and preferred_locations.customer_id = customer_keys.customer_id
    left join preferred_weekdays
        on preferred_weekdays.organization_id = customer_keys.organization_id
        and preferred_weekdays.customer_id = customer_keys.customer_id
    left join preferred_hours
        on preferred_hours.organization_id = customer_keys.organization_id
        and preferred_hours.customer_id = customer_keys.customer_id
    left join first_booking_locations
        on first_booking_locations.organization_id = customer_keys.organization_id
        and first_booking_locations.customer_id = customer_keys.customer_id
    left join raw.referral_profiles as referrers
        on referrers.organization_id = customer_keys.organization_id
        and referrers.customer_id = customer_keys.customer_id
)

select
    organization_id,
    customer_id,
    has_profile,
    customer_created_at,
    first_booking_at,
    last_booking_at,
    total_bookings,
    total_accepted_bookings,
    total_no_shows,
    total_cancellations,
    case when total_accepted_bookings + total_no_shows > 0
        then round(total_no_shows::numeric(28, 6) / (total_accepted_bookings + total_no_shows), 4)
    end as no_show_rate,
    total_revenue_cents,
    total_completed_payments,
    case when total_completed_payments > 0
        then round(total_revenue_cents::numeric(28, 6) / total_completed_payments, 0)::bigint
    end as avg_ticket_cents,
    is_referrer,
    preferred_location_id,
    booking_notes,
    days_since_first_booking,
    days_since_last_booking,
    case
        when total_accepted_bookings = 0 then 'prospect'
        when days_since_last_booking >= 181 then 'lapsed'
        when days_since_last_booking >= 91 then 'at_risk'
        when days_since_first_booking <= 30 then 'new'
        when total_accepted_bookings >= 5 then 'loyal'
        else 'active'
    end as customer_segment,
    total_cancelled_by_customer,
    total_cancelled_by_seller,
    total_declined,
    total_pending,
    case when total_bookings > 0
        then round(total_cancellations::numeric(28, 6) / total_bookings, 4)
    end as cancellation_rate,
    case when total_bookings > 0
        then round(total_cancelled_by_customer::numeric(28, 6) / total_bookings, 4)
    end as customer_cancellation_rate,
    first_booked_at,
    last_booked_at,
    first_booking_location_id,
    last_no_show_at,
    last_cancellation_at,
    total_visits,
    first_visit_at,
    last_visit_at,
    (as_of at time zone 'UTC')::date - (last_visit_at at time zone 'UTC')::date as days_since_last_visit,
    (last_visit_at at time zone 'UTC')::date - (first_visit_at at time zone 'UTC')::date as lifetime_span_days,
    case when total_visits > 1
        then round(((last_visit_at at time zone 'UTC')::date - (first_visit_at at time zone 'UTC')::date)::numeric(28, 6) / (total_visits - 1), 1)
    end as avg_days_between_visits,
    visits_last_30_days,
    visits_last_90_days,
    visits_last_365_days,
    no_shows_last_90_days,
    cancellations_last_90_days,
    upcoming_bookings,
    next_booking_at,
    (next_booking_at at time zone 'UTC')::date - (as_of at time zone 'UTC')::date as days_until_next_booking,
    total_payments,
    total_failed_payments,
    total_canceled_payments,
    total_refunded_payments,
    total_refunded_cents,
    largest_ticket_cents,
    first_payment_at,
    last_payment_at,
    revenue_last_30_days_cents,
    revenue_last_90_days_cents,
    revenue_last_365_days_cents,
    completed_payments_last_90_days,
    case when total_visits > 0
        then round(total_revenue_cents::numeric(28, 6) / total_visits, 0)::bigint
    end as avg_revenue_per_visit_cents,
    total_notes,
    accepted_locations,
    preferred_weekday,
    preferred_hour_utc,
    referrer_enrolled_at,
    (as_of at time zone 'UTC')::date - (customer_created_at at time zone 'UTC')::date as days_since_profile_created,
    as_of
from joined;

create unique index on peer.customer_analytics (organization_id, customer_id);
create index on peer.customer_analytics (organization_id, first_booking_at);
create index on peer.customer_analytics (organization_id, customer_segment);
create index on peer.customer_analytics (organization_id, last_visit_at);
create index on peer.customer_analytics (organization_id, total_revenue_cents);
analyze peer.customer_analytics;

-- bookkeeping for the one-day run (day/customer_analytics.sql): the newest raw
-- row this build has seen; the next run recomputes the customers of newer rows
create table if not exists peer.load_watermarks (relation text primary key, loaded_at timestamptz);
insert into peer.load_watermarks (relation, loaded_at)
select 'customer_analytics', max(loaded_at)
from (
    select max(_loaded_at) as loaded_at from raw.customers
    union all select max(_loaded_at) from raw.bookings
    union all select max(_loaded_at) from raw.payments
    union all select max(_loaded_at) from raw.referral_profiles
) as sources
on conflict (relation) do update set loaded_at = excluded.loaded_at;

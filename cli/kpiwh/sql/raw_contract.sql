-- kpi-warehouse raw contract (schema `raw`), PostgreSQL 15+.
-- Idempotent: every statement may run again. The one source of the raw tables'
-- columns (read by kpiwh.raw_ddl): `kpi generate` writes its CSV headers from it, in
-- this order, which the generator's row tuples follow (reorder both together);
-- models/staging/*/_*__sources.yml documents each column, and `kpi lint` fails when
-- a source table's yml columns differ from these (hygiene check source-columns).
-- Every timestamp is timestamptz in UTC; money is integer cents; every table has
-- a primary key and a `_loaded_at` column stamped by the loader (source freshness).

create schema if not exists raw;

-- core --------------------------------------------------------------------
create table if not exists raw.tenants (
    tenant_id     text primary key,
    kind          text not null check (kind in ('merchant', 'partner', 'organization', 'marketplace', 'platform')),
    name          text,
    country_code  text,
    signed_up_at  timestamptz,
    status        text,
    updated_at    timestamptz,
    _loaded_at    timestamptz not null default now()
);

create table if not exists raw.locations (
    location_id   text primary key,
    tenant_id     text not null,
    name          text,
    created_at    timestamptz,
    _loaded_at    timestamptz not null default now()
);

-- event log: range-partitioned by month on occurred_at ----------------------
-- PostgreSQL requires the partition key in every unique constraint, so the key
-- is (event_id, occurred_at); staging deduplicates on event_id alone.
create table if not exists raw.events_raw (
    event_id          uuid not null,
    occurred_at       timestamptz not null,
    received_at       timestamptz,
    tenant_id         text,
    location_id       text,
    event_domain      text not null,
    event_type        text not null,
    user_id           text,
    session_id        text,
    entity_type       text,
    entity_id         text,
    status            text,
    provider          text,
    service_code      text,
    country_code      text,
    amount_cents      bigint,
    currency          text,
    duration_seconds  numeric(14, 3),
    metadata          jsonb,
    schema_version    integer not null default 1,
    _loaded_at        timestamptz not null default now(),
    primary key (event_id, occurred_at)
) partition by range (occurred_at);

-- `kpi load` keeps one row per event_id (the latest received copy, docs/DECISIONLOG.md):
-- it finds an event's held row in whatever partition by this index. Incremental models
-- select the rows loaded since a watermark by the _loaded_at one. Both are built on
-- every partition, present and future. Guarded by to_regclass, not only `if not exists`:
-- CREATE INDEX locks the table (SHARE) before it checks the name, and this DDL runs at
-- every `kpi load`, which would then wait for any open write on raw.events_raw.
do $$
begin
    if to_regclass('raw.events_raw_event_id_idx') is null then
        create index if not exists events_raw_event_id_idx on raw.events_raw (event_id);
    end if;
    if to_regclass('raw.events_raw_loaded_at_idx') is null then
        create index if not exists events_raw_loaded_at_idx on raw.events_raw (_loaded_at);
    end if;
end
$$;

-- bookings product (seed 002) ----------------------------------------------
create table if not exists raw.customers (
    organization_id  text not null,
    customer_id      text not null,
    created_at       timestamptz,
    given_name       text,
    family_name      text,
    email            text,
    phone            text,
    _loaded_at       timestamptz not null default now(),
    primary key (organization_id, customer_id)
);

create table if not exists raw.bookings (
    booking_id       text primary key,
    organization_id  text not null,
    location_id      text,
    customer_id      text,
    start_at         timestamptz not null,
    status           text not null,
    customer_note    text,
    created_at       timestamptz,
    updated_at       timestamptz,
    _loaded_at       timestamptz not null default now()
);

create table if not exists raw.payments (
    payment_id       text primary key,
    organization_id  text not null,
    customer_id      text,
    booking_id       text,
    amount_cents     bigint not null,
    currency         text,
    status           text not null,
    created_at       timestamptz not null,
    _loaded_at       timestamptz not null default now()
);

-- staging's load watermarks read the rows loaded since the last run through these
-- (guarded by to_regclass like the event log's indexes above)
do $$
begin
    if to_regclass('raw.bookings_loaded_at_idx') is null then
        create index if not exists bookings_loaded_at_idx on raw.bookings (_loaded_at);
    end if;
    if to_regclass('raw.payments_loaded_at_idx') is null then
        create index if not exists payments_loaded_at_idx on raw.payments (_loaded_at);
    end if;
    -- a reloaded customer's bookings are re-staged (their names scrub the notes)
    if to_regclass('raw.customers_loaded_at_idx') is null then
        create index if not exists customers_loaded_at_idx on raw.customers (_loaded_at);
    end if;
    if to_regclass('raw.bookings_customer_idx') is null then
        create index if not exists bookings_customer_idx on raw.bookings (organization_id, customer_id);
    end if;
end
$$;

create table if not exists raw.referral_profiles (
    organization_id  text not null,
    customer_id      text not null,
    created_at       timestamptz,
    _loaded_at       timestamptz not null default now(),
    primary key (organization_id, customer_id)
);

-- marketplace product (seed 003) -------------------------------------------
create table if not exists raw.deals (
    deal_id           text primary key,
    country_code      text,
    category          text,
    template_code     text,
    template_version  integer,
    buyer_id          text,
    seller_id         text,
    amount_cents      bigint not null,
    currency          text,
    created_at        timestamptz not null,
    _loaded_at        timestamptz not null default now()
);

create table if not exists raw.deal_state_changes (
    deal_id      text not null,
    from_state   text,
    to_state     text not null,
    changed_at   timestamptz not null,
    actor_role   text,
    _loaded_at   timestamptz not null default now(),
    primary key (deal_id, changed_at, to_state)
);

create table if not exists raw.disputes (
    dispute_id   text primary key,
    deal_id      text not null,
    reason_code  text,
    opened_at    timestamptz not null,
    resolved_at  timestamptz,
    outcome      text,
    resolved_by  text,
    _loaded_at   timestamptz not null default now()
);

create table if not exists raw.dispute_evidence (
    evidence_id  text primary key,
    dispute_id   text not null,
    uploaded_at  timestamptz not null,
    kind         text,
    _loaded_at   timestamptz not null default now()
);

create table if not exists raw.ledger_entries (
    entry_id      text primary key,
    deal_id       text not null,
    entry_type    text not null,
    amount_cents  bigint not null,
    booked_at     timestamptz not null,
    _loaded_at    timestamptz not null default now()
);

-- partner product state (seed 001) -----------------------------------------
create table if not exists raw.partners (
    partner_id   text primary key,
    status       text not null,
    applied_at   timestamptz,
    decided_at   timestamptz,
    updated_at   timestamptz not null,
    _loaded_at   timestamptz not null default now()
);

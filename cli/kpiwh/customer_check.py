"""``kpi check customers``: seed 002's sanity check of ``customer_analytics`` in 8 steps.

The seed ships "a sanity check script with 8 verification steps" run after every
refresh. Here each step is one SQL query over the built warehouse that compares
the mart with what it is computed from (the staged bookings and the attributed
payments) — the reconciliations an operator runs after a refresh, not the
row-level invariants the model's constraints already enforce:

1. ``built`` — ``marts.customer_analytics`` exists and has rows.
2. ``unique_key`` — one row per (organization_id, customer_id).
3. ``coverage`` — every customer profile and every customer of a booking or a
   payment has a row, and no row has none of them.
4. ``first_booking_at`` — equals min(start_at) of the customer's ACCEPTED
   bookings (the seed's own "compare first_booking_at calculations" query).
5. ``booking_counts`` — total, accepted and no-show counts equal the staged bookings'.
6. ``revenue`` — total_revenue_cents equals the customer's COMPLETED payments.
7. ``new_customers`` — per organization, the new customers of
   ``analytics_appointments_by_location_daily`` add up to the customers with a
   first_booking_at (the seed's "new customers" fix, end to end).
8. ``refreshed`` — no raw booking or payment (of a customer or a booking) was
   loaded after the newest one the profile holds (``int_customer_facts.source_loaded_at``):
   a refresh ran since the last load.

A step that cannot run (its relations are missing) fails with the reason; the
check exits 1 when any step fails (``kpi check customers``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psycopg
from rich.table import Table

STEP_NAMES = (
    "built",
    "unique_key",
    "coverage",
    "first_booking_at",
    "booking_counts",
    "revenue",
    "new_customers",
    "refreshed",
)

_CA = "marts.customer_analytics"
_BOOKINGS = "staging.stg_bookings__bookings"
_CUSTOMERS = "staging.stg_bookings__customers"
_PAYMENTS = "intermediate.int_payments_attributed"
_FACTS = "intermediate.int_customer_facts"
_VIEW = "marts.analytics_appointments_by_location_daily"

# (step, what it checks, SQL returning (bad, total) — bad = rows that break it, total = rows checked)
_STEPS: tuple[tuple[str, str, str], ...] = (
    (
        "built",
        "marts.customer_analytics exists and has rows",
        f"select case when count(*) = 0 then 1 else 0 end, count(*) from {_CA}",
    ),
    (
        "unique_key",
        "one row per (organization_id, customer_id)",
        f"""select count(*) - count(distinct (organization_id, customer_id))
                 + count(*) filter (where organization_id is null or customer_id is null),
               count(*)
            from {_CA}""",
    ),
    (
        "coverage",
        "every profile and every customer of a booking or payment has a row; no row without one",
        f"""with sources as (
                select organization_id, customer_id from {_CUSTOMERS}
                union select organization_id, customer_id from {_BOOKINGS} where customer_id is not null
                union select organization_id, customer_id from {_PAYMENTS} where customer_id is not null
            )
            select
                (select count(*) from (
                    select organization_id, customer_id from sources
                    except select organization_id, customer_id from {_CA}) as missing)
                + (select count(*) from (
                    select organization_id, customer_id from {_CA}
                    except select organization_id, customer_id from sources) as orphans),
                (select count(*) from sources)""",
    ),
    (
        "first_booking_at",
        "first_booking_at = min(start_at) of the ACCEPTED bookings",
        f"""select count(*) filter (where ca.first_booking_at is distinct from b.first_accepted), count(*)
            from {_CA} as ca
            left join (
                select organization_id, customer_id, min(start_at) as first_accepted
                from {_BOOKINGS}
                where status = 'ACCEPTED' and customer_id is not null
                group by organization_id, customer_id
            ) as b using (organization_id, customer_id)""",
    ),
    (
        "booking_counts",
        "total / accepted / no-show bookings equal the staged bookings'",
        f"""select count(*) filter (where
                    ca.total_bookings <> coalesce(b.n, 0)
                    or ca.total_accepted_bookings <> coalesce(b.accepted, 0)
                    or ca.total_no_shows <> coalesce(b.no_shows, 0)),
                count(*)
            from {_CA} as ca
            left join (
                select organization_id, customer_id, count(*) as n,
                    count(*) filter (where status = 'ACCEPTED') as accepted,
                    count(*) filter (where status = 'NO_SHOW') as no_shows
                from {_BOOKINGS}
                where customer_id is not null
                group by organization_id, customer_id
            ) as b using (organization_id, customer_id)""",
    ),
    (
        "revenue",
        "total_revenue_cents = the customer's COMPLETED payments",
        f"""select count(*) filter (where ca.total_revenue_cents <> coalesce(p.revenue, 0)
                    or ca.total_completed_payments <> coalesce(p.n, 0)),
                count(*)
            from {_CA} as ca
            left join (
                select organization_id, customer_id, sum(amount_cents) as revenue, count(*) as n
                from {_PAYMENTS}
                where is_completed and customer_id is not null
                group by organization_id, customer_id
            ) as p using (organization_id, customer_id)""",
    ),
    (
        "new_customers",
        "per organization, new customers of the daily view = customers with a first_booking_at",
        f"""with profile as (
                select organization_id, count(first_booking_at) as n from {_CA} group by organization_id
            ),
            daily as (
                select organization_id, sum(new_customers) as n from {_VIEW} group by organization_id
            )
            select count(*) filter (where coalesce(profile.n, 0) <> coalesce(daily.n, 0)), count(*)
            from profile full join daily using (organization_id)""",
    ),
    (
        "refreshed",
        "no booking or payment loaded after the newest one the profile holds",
        f"""with held as (select max(source_loaded_at) as at from {_FACTS})
            select
                (select count(*) from raw.bookings
                 where nullif(trim(customer_id), '') is not null and _loaded_at > coalesce((select at from held), '-infinity'))
                + (select count(*) from raw.payments
                   where (nullif(trim(customer_id), '') is not null or nullif(trim(booking_id), '') is not null)
                     and _loaded_at > coalesce((select at from held), '-infinity')),
                (select count(*) from raw.bookings) + (select count(*) from raw.payments)""",
    ),
)

assert tuple(s[0] for s in _STEPS) == STEP_NAMES


@dataclass
class StepResult:
    """One verification step's outcome.

    Attributes:
        step: 1-based position (1..8).
        name: short name (one of ``STEP_NAMES``).
        description: what the step checks.
        passed: whether it held.
        bad_rows: rows that break it (customers, organizations or raw rows); None when it could not run.
        checked_rows: rows it looked at; None when it could not run.
        error: the reason it could not run (a missing relation), else None.
    """

    step: int
    name: str
    description: str
    passed: bool
    bad_rows: int | None
    checked_rows: int | None
    error: str | None = None

    @property
    def detail(self) -> str:
        """One line for people: ``0 of 12``, or the reason the step could not run."""
        if self.error:
            return self.error
        return f"{self.bad_rows:,} of {self.checked_rows:,} wrong"


def run(conn: psycopg.Connection) -> list[StepResult]:
    """Run the 8 steps in order, each in its own transaction (a failed step does not stop the next).

    Args:
        conn: an autocommit connection to the warehouse (``db.connect()``).
    Returns:
        One ``StepResult`` per step, in order. A step whose relations are missing (not built)
        fails with ``error`` set to a one-line reason; no exception escapes for that.
    Raises:
        psycopg.OperationalError: the connection broke.
    """
    results: list[StepResult] = []
    for i, (name, description, sql) in enumerate(_STEPS, start=1):
        try:
            with conn.transaction():
                bad, total = conn.execute(sql).fetchone()
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn, psycopg.errors.InvalidSchemaName) as exc:
            first = str(exc).strip().splitlines()[0]
            results.append(StepResult(i, name, description, False, None, None, f"cannot run: {first}"))
            continue
        results.append(StepResult(i, name, description, int(bad) == 0, int(bad), int(total)))
    return results


def to_jsonable(results: list[StepResult]) -> dict:
    """The results as JSON-ready data: ``{"success": bool, "steps": [...]}`` (``--format json``)."""
    return {
        "success": all(r.passed for r in results),
        "steps": [{**asdict(r), "detail": r.detail} for r in results],
    }


def summary_table(results: list[StepResult]) -> Table:
    """A rich table: step, name, result (pass / FAIL), detail, what it checks."""
    table = Table(title="customer_analytics sanity check (seed 002)")
    for header in ("step", "check", "result", "detail", "what"):
        table.add_column(header)
    for r in results:
        table.add_row(
            f"{r.step}/{len(results)}",
            r.name,
            "[green]pass[/green]" if r.passed else "[red]FAIL[/red]",
            r.detail,
            r.description,
        )
    return table

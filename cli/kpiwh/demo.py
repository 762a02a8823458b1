"""``kpi demo``: the main job end to end on the embedded default.

start the database → generate a data set (or take ``--data``) → ``kpi load`` it
→ ``dbt build`` (models + tests) → print a KPI summary read from the marts.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from . import config, db, output, publish, report, runner
from . import generate as gen
from . import load as loader
from .errors import KpiError


def _generate_if_needed(err: Console, tenants: int, days: int) -> Path:
    params = {"tenants": tenants, "days": days, "start": "2025-06-02", "seed": 42}
    folder = config.state_dir() / "demo-data"
    marker = folder / ".params.json"
    if marker.exists() and json.loads(marker.read_text()) == params:
        err.print(f"using the demo data set in {folder}")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    with output.progress(err, "generating the demo data set...") as st:
        gen.generate(
            folder,
            tenants=tenants,
            days=days,
            start=date.fromisoformat(params["start"]),
            seed=params["seed"],
            progress=lambda t, n: st.update(f"generating {t}: {n:,} rows"),
        )
    marker.write_text(json.dumps(params))
    return folder


def as_of_from_data(conn) -> datetime | None:
    """The demo's reference time: midnight UTC after the latest booking start.

    Returns None when there are no bookings.
    """
    row = conn.execute("select date_trunc('day', max(start_at) at time zone 'UTC') from raw.bookings").fetchone()
    return None if row[0] is None else row[0] + timedelta(days=1)


def kpi_summary(conn, as_of: datetime) -> tuple[Table, Table]:
    """Query the bookings marts for the headline KPIs.

    Args:
        conn: connection to the warehouse.
        as_of: reference time (naive UTC) for "last 7 days".
    Returns:
        (headline table, top-locations table) ready for Rich.
    """
    head = conn.execute(
        """
        select count(*) as customers,
               count(*) filter (where first_booking_at is not null) as booked_customers,
               count(*) filter (where first_booking_at >= %(as_of)s::timestamp at time zone 'UTC' - interval '7 days'
                                  and first_booking_at < %(as_of)s::timestamp at time zone 'UTC') as new_7d,
               coalesce(sum(total_revenue_cents), 0) as revenue_cents,
               sum(total_no_shows)::numeric / nullif(sum(total_no_shows + total_accepted_bookings), 0) as no_show_rate,
               count(*) filter (where is_referrer) as referrers
        from marts.customer_analytics
        """,
        {"as_of": as_of},
    ).fetchone()
    t = Table(title=f"Bookings KPIs (seed 002) as of {as_of:%Y-%m-%d %H:%M} UTC")
    t.add_column("KPI")
    t.add_column("value", justify="right")
    customers, booked, new_7d, revenue, nsr, referrers = head
    t.add_row("customers (profiles + bookers)", f"{customers:,}")
    t.add_row("customers with an accepted booking", f"{booked:,}")
    t.add_row("new customers, last 7 days (by first_booking_at)", f"{new_7d:,}")
    t.add_row("revenue (completed payments)", f"{revenue / 100:,.2f}")
    t.add_row("no-show rate", "n/a" if nsr is None else f"{float(nsr):.1%}")
    t.add_row("referrers", f"{referrers:,}")
    for seg, n in conn.execute(
        "select customer_segment, count(*) from marts.customer_analytics group by 1 order by 2 desc"
    ):
        t.add_row(f"segment: {seg}", f"{n:,}")

    locs = Table(title="Top locations by accepted appointments")
    rows = []
    for org, loc, acc, new, ns, rev in conn.execute(
        """
        select organization_id, coalesce(location_id, '(none)'), sum(accepted_appointments),
               sum(new_customers), sum(no_shows), sum(completed_revenue_cents)
        from marts.fct_appointments_by_location_daily
        group by 1, 2 order by 3 desc, 1, 2 limit 5
        """
    ):
        rows.append([org, loc, f"{acc:,}", f"{new:,}", f"{ns:,}", f"{(rev or 0) / 100:,.2f}"])
    for i, col in enumerate(("organization", "location", "accepted", "new customers", "no-shows", "revenue")):
        output.id_column(locs, col, [r[i] for r in rows], justify="left" if i < 2 else "right")
    for r in rows:
        locs.add_row(*r)
    return t, locs


def platform_summary(conn, as_of: datetime) -> Table:
    """Seed 004 headline KPIs over the 7 days before ``as_of`` (rates recomputed from counts)."""
    q = """
        with e as (select * from marts.metrics_daily_engagement
                   where metric_date >= %(d)s::date - 7 and metric_date < %(d)s::date),
             p as (select sum(successes) s, sum(attempts) a, sum(revenue_cents) rev, sum(refunds) r
                   from marts.metrics_daily_payments where metric_date >= %(d)s::date - 7 and metric_date < %(d)s::date),
             c as (select sum(calls_answered) ans, sum(calls_attempted) att, sum(calls_dropped) dr
                   from marts.metrics_daily_calls where metric_date >= %(d)s::date - 7 and metric_date < %(d)s::date),
             f as (select sum(orders_created) cr, sum(orders_completed) co, sum(approvals) ap, sum(orders_decided) de
                   from marts.metrics_daily_fulfillment where metric_date >= %(d)s::date - 7 and metric_date < %(d)s::date)
        select (select dau from e order by metric_date desc limit 1),
               (select mau from e order by metric_date desc limit 1),
               (select stickiness from e order by metric_date desc limit 1),
               p.s::numeric / nullif(p.a, 0), p.rev, c.ans::numeric / nullif(c.att, 0),
               c.dr::numeric / nullif(c.ans, 0), f.cr, f.co, f.ap::numeric / nullif(f.de, 0)
        from p, c, f
    """
    dau, mau, stick, pay_rate, rev, answer, drop, created, completed, approval = conn.execute(
        q, {"d": as_of.date()}
    ).fetchone()
    pct = lambda v: "n/a" if v is None else f"{float(v):.1%}"  # noqa: E731
    t = Table(title=f"Platform KPIs (seed 004), 7 days to {as_of:%Y-%m-%d}")
    t.add_column("KPI")
    t.add_column("value", justify="right")
    t.add_row("DAU / MAU (last day)", f"{dau or 0:,} / {mau or 0:,}")
    t.add_row("stickiness DAU/MAU", pct(stick))
    t.add_row("payment success rate", pct(pay_rate))
    t.add_row("payment revenue", f"{(rev or 0) / 100:,.2f}")
    t.add_row("call answer rate / drop rate", f"{pct(answer)} / {pct(drop)}")
    t.add_row("orders created / completed", f"{created or 0:,} / {completed or 0:,}")
    t.add_row("order approval rate", pct(approval))
    return t


def pilot_kpi_table(conn) -> Table:
    """Seed 003 pilot KPIs per template version (cumulative) against their targets."""
    t = Table(title="Escrow pilot KPIs (seed 003), cumulative, against targets")
    for col in ("kpi", "template", "value", "target", "met"):
        t.add_column(col, justify="left" if col == "kpi" else "right")
    for kpi, version, value, unit, comp, target, met in conn.execute(
        """select kpi, template_version, value, unit, comparator, target, is_met
           from marts.rpt_pilot_kpis where period_type = 'cumulative' order by kpi, template_version"""
    ):
        shown = "n/a" if value is None else (f"{float(value):.1%}" if unit == "rate" else f"{float(value):,.1f} h")
        goal = (
            "-"
            if target is None
            else (f"{comp} {float(target):.0%}" if unit == "rate" else f"{comp} {float(target):,.0f} h")
        )
        t.add_row(kpi, f"v{version}", shown, goal, "-" if met is None else ("yes" if met else "NO"))
    return t


def open_alerts_table(conn) -> Table:
    """Open alerts (seed 001's engine), most severe first."""
    rows = conn.execute(
        """select severity, rule_id, subject, occurrences, message from marts.fct_alerts
           where status = 'open' order by severity_rank desc, rule_id, subject limit 15"""
    ).fetchall()
    t = Table(title=f"Open alerts ({len(rows)}{'+' if len(rows) == 15 else ''})")
    cells = [[sev, rule, subj or "-", str(occ), msg or ""] for sev, rule, subj, occ, msg in rows]
    for i, col in enumerate(("severity", "rule", "subject", "seen")):
        output.id_column(t, col, [c[i] for c in cells])
    output.text_column(t, "message")
    for c in cells:
        t.add_row(*c)
    return t


def run(out: Console, err: Console, *, data: Path | None, tenants: int, days: int) -> None:
    """Run the demo and print the KPI summary.

    Args:
        out/err: consoles for results and progress.
        data: folder to load instead of generating one.
        tenants/days: size of the generated data set.
    Raises:
        KpiError: any step failed (its one-line reason).
    """
    t0 = time.monotonic()
    if config.is_embedded():
        st = db.start()
        err.print(f"embedded PostgreSQL running (data {st.pgdata})")
    folder = data or _generate_if_needed(err, tenants, days)
    with db.connect() as conn:
        with output.progress(err, "loading...") as status:
            results = loader.load_path(conn, folder, lambda r: status.update(f"loaded {r.path.name}"))
        err.print(
            f"loaded {sum(r.rows for r in results):,} rows from {len(results)} files "
            f"({sum(r.inserted for r in results):,} new, {sum(r.updated for r in results):,} updated)"
        )
        as_of = as_of_from_data(conn)
    if as_of is None:
        raise KpiError(f"{folder}: no bookings loaded, nothing to report")
    vars_json = json.dumps({"as_of": as_of.isoformat() + "+00:00"})
    # alerts are evaluated at the data's "now" too (macro alerts_evaluated_at reads this)
    os.environ["KPI_ALERTS_EVALUATED_AT"] = as_of.isoformat() + "+00:00"
    summary = publish.build(["build", "--vars", vars_json], full_refresh=False, vars_json=vars_json, console=err)
    output.print_table(out, runner.summary_table(summary))
    with db.connect() as conn:
        head, locs = kpi_summary(conn, as_of)
    output.print_table(out, head)
    output.print_table(out, locs)
    with db.connect() as conn:
        output.print_table(out, platform_summary(conn, as_of))
        output.print_table(out, pilot_kpi_table(conn))
    print_merchant_report(out, err)
    with db.connect() as conn:
        output.print_table(out, open_alerts_table(conn))
    kpi = output.kpi_command()
    out.print(
        f'demo finished in {time.monotonic() - t0:.0f}s — explore with: psql "$({kpi} db url)"; '
        f"dashboards in a browser: {kpi} bi up (installs Apache Superset once, then prints the URL)",
        highlight=False,
        soft_wrap=True,
    )


def print_merchant_report(out: Console, err: Console) -> None:
    """Print the busiest merchant's weekly loyalty report (seed 000) for its latest complete ISO week, in Markdown.

    Prints a one-line note instead when there is no loyalty data or no complete week.
    """
    with db.connect() as conn:
        if conn.execute("select to_regclass('marts.rpt_weekly_merchant_report')").fetchone()[0] is None:
            err.print("no loyalty marts built: skipping the weekly merchant report")
            return
        tenant = report.busiest_merchant(conn)
        week = report.latest_complete_week(conn, tenant) if tenant else None
        if week is None:
            err.print("no complete week of loyalty data: skipping the weekly merchant report")
            return
        text = report.render_markdown(report.build_report(conn, tenant, week))
    if out.is_terminal:
        out.print(Markdown(text))
    else:  # a pipe or a log: the Markdown itself, every value whole (Rich would cut table cells at 80 columns)
        out.print(text, markup=False, highlight=False, soft_wrap=True)

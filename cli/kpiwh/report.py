"""``kpi report weekly``: seed 000's weekly merchant report, read from the loyalty marts.

The numbers and the plain-English sentences are computed by dbt
(``marts.rpt_weekly_merchant_report``, ``marts.fct_pilot_daily_metrics``,
``marts.fct_customer_activity``, ``marts.fct_onboarding_funnel``,
``marts.rpt_onboarding_funnel_summary``); this module only reads and renders
them as JSON, Markdown or one self-contained HTML file (plotly.js inlined, so
the file opens without network).

The HTML page is the Jinja2 template ``templates/weekly_report.html``, rendered
with autoescape on (every value from the report is HTML-escaped once; only the
plotly chart fragments are inserted as they are) and ``StrictUndefined`` (a
name the template uses but is not given fails instead of printing nothing).
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import jinja2
from markupsafe import Markup

from .errors import KpiError, UsageError

__all__ = ["FORMATS", "build_report", "parse_week", "render", "latest_complete_week", "busiest_merchant"]

FORMATS = ("md", "json", "html")
_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")

# (column, label) of the weekly metrics compared with the previous week, in display order
_COMPARED = [
    ("transactions_total", "Transactions"),
    ("active_customers", "Active customers"),
    ("repeat_customers", "Repeat customers"),
    ("redemption_rate", "Redemption rate"),
    ("error_rate", "Scan error rate"),
    ("scan_errors_total", "Scan errors"),
    ("reverse_transactions", "Reversals"),
    ("adjust_transactions", "Balance adjustments"),
]
_RATES = {"redemption_rate", "error_rate", "repeat_customer_rate"}
_WEEK_COLUMNS = [
    "iso_week",
    "week_start",
    "week_end",
    "days_with_activity",
    "locations_active",
    "active_customers",
    "repeat_customers",
    "repeat_customer_rate",
    "issue_transactions",
    "redeem_transactions",
    "adjust_transactions",
    "reverse_transactions",
    "transactions_total",
    "redemption_rate",
    "scan_errors_total",
    "scan_errors_expired_qr",
    "scan_errors_insufficient_balance",
    "scan_errors_unauthorized_device",
    "error_rate",
    "has_previous_week",
    "top_rewards",
    "what_improved",
    "what_needs_fixing",
]


def parse_week(week: str) -> tuple[date, date]:
    """Parse an ISO week ``YYYY-Www`` (e.g. ``2025-W03``).

    Args:
        week: the ISO week label.
    Returns:
        (monday, sunday) of that ISO week.
    Raises:
        UsageError: malformed label or a week the ISO year does not have (e.g. W53 of 2025).
    """
    m = _WEEK_RE.match(week or "")
    if not m:
        raise UsageError(f"--week: '{week}' is not an ISO week (YYYY-Www, e.g. 2025-W03)")
    try:
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise UsageError(f"--week: '{week}' does not exist (ISO year {m.group(1)} has no week {m.group(2)})") from None
    return monday, monday + timedelta(days=6)


def _plain(value: Any) -> Any:
    """JSON-ready value: Decimal -> float, date -> ISO string, JSON text -> object."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(conn, sql: str, params: dict) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d.name for d in cur.description]
    return [{k: _plain(v) for k, v in zip(names, r)} for r in cur.fetchall()]


def _require_marts(conn) -> None:
    row = conn.execute("select to_regclass('marts.rpt_weekly_merchant_report')").fetchone()
    if row[0] is None:
        raise KpiError("marts.rpt_weekly_merchant_report does not exist: run `kpi build` first")


def build_report(conn, tenant: str, week: str) -> dict:
    """Assemble the weekly report of one merchant for one ISO week.

    Args:
        conn: psycopg connection to the warehouse.
        tenant: merchant tenant id (raw.tenants.tenant_id of kind merchant).
        week: ISO week ``YYYY-Www``; any past or current week (a week without activity
            gives a report with zero counts and ``has_data`` false).
    Returns:
        A JSON-ready dict: tenant, week, summary, previous_week, change, retention,
        friction, top_rewards, what_improved, what_needs_fixing, daily, onboarding.
    Raises:
        UsageError: malformed week, or tenant unknown / not a merchant (exit 2).
        KpiError: the marts are not built (exit 1).
    """
    monday, sunday = parse_week(week)
    if conn.execute("select to_regclass('raw.tenants') is null").fetchone()[0]:
        # nothing loaded yet: every tenant is unknown (not a database failure)
        raise UsageError(f"--tenant: unknown tenant '{tenant}' (no tenants loaded yet: `kpi load` creates raw.tenants)")
    t = conn.execute("select tenant_id, kind, name from raw.tenants where tenant_id = %s", (tenant,)).fetchone()
    if t is None:
        raise UsageError(f"--tenant: unknown tenant '{tenant}'")
    if t[1] != "merchant":
        raise UsageError(
            f"--tenant: '{tenant}' is a {t[1]} tenant, not a merchant (the loyalty report is per merchant)"
        )
    _require_marts(conn)
    p = {"tenant": tenant, "monday": monday, "sunday": sunday, "prev": monday - timedelta(days=7)}
    cols = ", ".join(_WEEK_COLUMNS + [f"previous_{c}" for c, _ in _COMPARED] + [f"{c}_change" for c, _ in _COMPARED])
    found = _rows(
        conn,
        f"select {cols} from marts.rpt_weekly_merchant_report where tenant_id = %(tenant)s and week_start = %(monday)s",
        p,
    )
    if found:
        row = found[0]
    else:  # a week without any activity: zeros, compared with the previous week if it has a row
        prev = _rows(
            conn,
            "select " + ", ".join(c for c, _ in _COMPARED) + " from marts.rpt_weekly_merchant_report "
            "where tenant_id = %(tenant)s and week_start = %(prev)s",
            p,
        )
        row = {c: 0 for c in _WEEK_COLUMNS if c not in ("iso_week", "week_start", "week_end")}
        row.update(
            repeat_customer_rate=None,
            redemption_rate=None,
            error_rate=None,
            top_rewards=[],
            has_previous_week=bool(prev),
        )
        for c, _ in _COMPARED:
            pv = prev[0][c] if prev else None
            row[f"previous_{c}"] = pv
            row[f"{c}_change"] = None if pv is None or row[c] is None else row[c] - pv
        row["what_improved"] = row["what_needs_fixing"] = "No loyalty activity recorded this week."
    top = row["top_rewards"]
    if isinstance(top, str):
        top = json.loads(top)
    daily = _rows(
        conn,
        """
        with d as (
            select metric_date, sum(issue_transactions)::bigint as issue, sum(redeem_transactions)::bigint as redeem,
                   sum(adjust_transactions)::bigint as adjust, sum(reverse_transactions)::bigint as reverse,
                   sum(transactions_total)::bigint as transactions, sum(scan_errors_total)::bigint as scan_errors
            from marts.fct_pilot_daily_metrics
            where tenant_id = %(tenant)s and metric_date between %(monday)s and %(sunday)s
            group by metric_date),
        c as (
            select activity_date, count(*) as active_customers
            from marts.fct_customer_activity
            where tenant_id = %(tenant)s and activity_date between %(monday)s and %(sunday)s
            group by activity_date)
        select d.metric_date as day, d.transactions, d.issue, d.redeem, d.adjust, d.reverse, d.scan_errors,
               coalesce(c.active_customers, 0) as active_customers
        from d left join c on c.activity_date = d.metric_date
        order by d.metric_date""",
        p,
    )
    funnel = _rows(conn, "select * from marts.fct_onboarding_funnel where tenant_id = %(tenant)s", p)
    funnel_summary = _rows(
        conn,
        "select step_order, step_name, merchants_reached, conversion_from_previous, "
        "median_minutes_from_signup from marts.rpt_onboarding_funnel_summary "
        "order by step_order",
        p,
    )
    f = funnel[0] if funnel else {}
    criteria = _success_criteria(conn, tenant, monday)
    return {
        "tenant_id": tenant,
        "tenant_name": t[2],
        "iso_week": f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}",
        "week_start": monday.isoformat(),
        "week_end": sunday.isoformat(),
        "has_data": bool(found),
        "summary": {
            c: row[c]
            for c in (
                "days_with_activity",
                "locations_active",
                "transactions_total",
                "issue_transactions",
                "redeem_transactions",
                "adjust_transactions",
                "reverse_transactions",
                "active_customers",
                "repeat_customers",
                "redemption_rate",
                "scan_errors_total",
                "error_rate",
            )
        },
        "previous_week": None if not row["has_previous_week"] else {c: row[f"previous_{c}"] for c, _ in _COMPARED},
        "change": None if not row["has_previous_week"] else {c: row[f"{c}_change"] for c, _ in _COMPARED},
        "retention": {
            "active_customers": row["active_customers"],
            "repeat_customers": row["repeat_customers"],
            "repeat_customer_rate": row["repeat_customer_rate"],
        },
        "friction": {
            "scan_errors_total": row["scan_errors_total"],
            "scan_errors_expired_qr": row["scan_errors_expired_qr"],
            "scan_errors_insufficient_balance": row["scan_errors_insufficient_balance"],
            "scan_errors_unauthorized_device": row["scan_errors_unauthorized_device"],
            "error_rate": row["error_rate"],
            "reversals": row["reverse_transactions"],
            "adjustments": row["adjust_transactions"],
        },
        "top_rewards": top,
        "what_improved": row["what_improved"],
        "what_needs_fixing": row["what_needs_fixing"],
        "success_criteria": criteria,
        "daily": daily,
        "onboarding": {
            "merchant": {
                k: f.get(k)
                for k in (
                    "signed_up_at",
                    "first_location_created_at",
                    "first_staff_invited_at",
                    "first_device_registered_at",
                    "first_scan_at",
                    "minutes_to_location",
                    "minutes_to_staff",
                    "minutes_to_device",
                    "minutes_to_first_scan",
                    "is_completed",
                    "steps_reached",
                )
            },
            "pilot_funnel": funnel_summary,
        },
    }


def _success_criteria(conn, tenant: str, monday: date) -> list[dict]:
    """The playbook's success criteria of the tenant's week (``marts.rpt_weekly_success_criteria``).

    Args:
        conn: psycopg connection.
        tenant: merchant tenant id.
        monday: first day of the ISO week.
    Returns:
        One dict per criterion (kpi, label, unit, value, comparator, target, is_met) in the
        seed's order; empty when the week has no row (no activity) or the mart is not built.
    """
    if conn.execute("select to_regclass('marts.rpt_weekly_success_criteria')").fetchone()[0] is None:
        return []
    return _rows(
        conn,
        "select kpi, label, unit, value, comparator, target, is_met from marts.rpt_weekly_success_criteria "
        "where tenant_id = %(tenant)s and week_start = %(monday)s order by sort_order, kpi",
        {"tenant": tenant, "monday": monday},
    )


def _criterion_value(unit: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if unit == "rate":
        return f"{float(value):.1%}"
    return f"{float(value):,.0f} min" if unit == "minutes" else f"{value}"


def _criteria_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """(label, value, target, status) of each success criterion, for Markdown and HTML."""
    status = {True: "met", False: "not met", None: "no data"}
    return [
        (
            c["label"],
            _criterion_value(c["unit"], c["value"]),
            f"{c['comparator']} {_criterion_value(c['unit'], c['target'])}",
            status[c["is_met"]],
        )
        for c in r.get("success_criteria", [])
    ]


# --------------------------------------------------------------------------- rendering
def _fmt(metric: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if metric in _RATES:
        return f"{float(value):.1%}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _fmt_change(metric: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if metric in _RATES:
        return f"{float(value) * 100:+.1f} pts"
    return f"{int(value):+,}"


def _title(r: dict) -> str:
    name = f"{r['tenant_name']} ({r['tenant_id']})" if r.get("tenant_name") else r["tenant_id"]
    return f"Weekly loyalty report: {name}, {r['iso_week']} ({r['week_start']} to {r['week_end']})"


def _summary_rows(r: dict) -> list[tuple[str, str, str, str]]:
    prev, chg = r["previous_week"] or {}, r["change"] or {}
    out = []
    for c, label in _COMPARED:
        out.append((label, _fmt(c, r["summary"][c]), _fmt(c, prev.get(c)), _fmt_change(c, chg.get(c))))
    return out


def render_markdown(r: dict) -> str:
    """The report as GitHub-flavoured Markdown (str)."""
    lines = [f"# {_title(r)}", ""]
    if not r["has_data"]:
        lines += ["_No loyalty activity recorded this week._", ""]
    lines += ["## Summary", "", "| metric | this week | previous week | change |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _summary_rows(r)]
    s = r["summary"]
    lines += [
        "",
        f"Issued {s['issue_transactions']:,}, redeemed {s['redeem_transactions']:,}, adjusted "
        f"{s['adjust_transactions']:,}, reversed {s['reverse_transactions']:,}; active on "
        f"{s['days_with_activity']} day(s) at {s['locations_active']} location(s).",
        "",
    ]
    lines += ["## What improved", "", r["what_improved"], "", "## What needs fixing", "", r["what_needs_fixing"], ""]
    lines += ["## Success criteria", ""]
    crit = _criteria_rows(r)
    if crit:
        lines += ["| criterion | this week | target | status |", "|---|---:|---:|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in crit]
    else:
        lines.append("No criterion evaluated (no activity this week).")
    lines.append("")
    ret, fr = r["retention"], r["friction"]
    lines += [
        "## Retention signals",
        "",
        f"- Active customers: {ret['active_customers']:,}",
        f"- Repeat customers (2+ transactions this week): {ret['repeat_customers']:,} "
        f"({_fmt('repeat_customer_rate', ret['repeat_customer_rate'])} of active)",
        "",
        "## Friction signals",
        "",
        f"- Scan errors: {fr['scan_errors_total']:,} (expired QR {fr['scan_errors_expired_qr']:,}, "
        f"insufficient balance {fr['scan_errors_insufficient_balance']:,}, unauthorized device "
        f"{fr['scan_errors_unauthorized_device']:,}); error rate {_fmt('error_rate', fr['error_rate'])} "
        "of transactions",
        f"- Reversals: {fr['reversals']:,}; balance adjustments: {fr['adjustments']:,}",
        "",
    ]
    lines += ["## Top rewards", ""]
    if r["top_rewards"]:
        lines += ["| # | reward | redemptions | points |", "|---:|---|---:|---:|"]
        lines += [
            f"| {t['rank']} | {t['reward_id']} | {t['redemptions']:,} | {t['points_redeemed']:,} |"
            for t in r["top_rewards"]
        ]
    else:
        lines.append("No reward redeemed this week.")
    lines += ["", "## Daily breakdown", ""]
    if r["daily"]:
        lines += [
            "| day | transactions | issued | redeemed | adjusted | reversed | scan errors | active customers |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {d['day']} | {d['transactions']:,} | {d['issue']:,} | {d['redeem']:,} | {d['adjust']:,} | "
            f"{d['reverse']:,} | {d['scan_errors']:,} | {d['active_customers']:,} |"
            for d in r["daily"]
        ]
    else:
        lines.append("No activity.")
    m = r["onboarding"]["merchant"]
    lines += ["", "## Onboarding", ""]
    if m.get("signed_up_at"):
        steps = [
            ("location created", "minutes_to_location"),
            ("staff invited", "minutes_to_staff"),
            ("device registered", "minutes_to_device"),
            ("first scan", "minutes_to_first_scan"),
        ]
        lines.append(
            f"Signed up {m['signed_up_at']}; "
            + "; ".join(f"{label}: {'not yet' if m[k] is None else f'{float(m[k]):,.0f} min'}" for label, k in steps)
            + (". Onboarding complete." if m["is_completed"] else ".")
        )
    else:
        lines.append("No signup recorded.")
    return "\n".join(lines) + "\n"


def _figures_html(r: dict) -> tuple[str, str]:
    """(daily chart, funnel chart) as HTML fragments; plotly.js inlined in the first one."""
    import plotly.graph_objects as go  # noqa: PLC0415  (plotly: ~0.15 s import, only for the HTML charts)

    days = [d["day"] for d in r["daily"]]
    daily = go.Figure()
    for key, label in (("issue", "issued"), ("redeem", "redeemed"), ("adjust", "adjusted"), ("reverse", "reversed")):
        daily.add_bar(x=days, y=[d[key] for d in r["daily"]], name=label)
    daily.add_scatter(x=days, y=[d["scan_errors"] for d in r["daily"]], name="scan errors", mode="lines+markers")
    daily.add_scatter(
        x=days,
        y=[d["active_customers"] for d in r["daily"]],
        name="active customers",
        mode="lines+markers",
        line={"dash": "dot"},
    )
    daily.update_layout(
        barmode="stack",
        title="Daily breakdown",
        height=420,
        margin={"t": 50, "b": 40},
        xaxis={"type": "category", "title": "day"},
        yaxis={"title": "count"},
    )
    steps = r["onboarding"]["pilot_funnel"]
    funnel = go.Figure(
        go.Funnel(
            y=[s["step_name"].replace("_", " ") for s in steps],
            x=[s["merchants_reached"] for s in steps],
            textinfo="value+percent initial",
        )
    )
    funnel.update_layout(title="Onboarding funnel (all pilot merchants)", height=380, margin={"t": 50, "b": 30})
    return (
        daily.to_html(include_plotlyjs=True, full_html=False, div_id="daily-chart"),
        funnel.to_html(include_plotlyjs=False, full_html=False, div_id="funnel-chart"),
    )


def _thousands(value: Any) -> str:
    """``value`` with a thousands separator (``1234567`` -> ``'1,234,567'``); the ``thousands`` template filter."""
    return f"{value:,}"


@functools.cache
def _templates():
    """The Jinja2 environment over ``kpiwh/templates`` (built once per process).

    ``*.html`` templates are autoescaped: every value they print is HTML-escaped unless it is
    ``markupsafe.Markup`` (only the plotly chart fragments are). An undefined variable raises
    ``jinja2.UndefinedError`` instead of printing nothing.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kpiwh", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = _thousands
    return env


def render_html(r: dict) -> str:
    """The report as one self-contained HTML page (str): no external resource is referenced.

    Args:
        r: a report as returned by :func:`build_report`.
    Returns:
        The page, rendered from ``kpiwh/templates/weekly_report.html``; every value taken from
        ``r`` is HTML-escaped.
    Raises:
        jinja2.UndefinedError: the template uses a value ``r`` does not have.
    """
    daily_html, funnel_html = _figures_html(r)
    m = r["onboarding"]["merchant"]
    onboarding_rows = [
        (
            label,
            str(m.get(ts) or "not yet"),
            "" if mk is None or m.get(mk) is None else f"{float(m[mk]):,.0f}",
        )
        for label, ts, mk in (
            ("signup", "signed_up_at", None),
            ("first location", "first_location_created_at", "minutes_to_location"),
            ("first staff invite", "first_staff_invited_at", "minutes_to_staff"),
            ("first device", "first_device_registered_at", "minutes_to_device"),
            ("first scan", "first_scan_at", "minutes_to_first_scan"),
        )
    ]
    return (
        _templates()
        .get_template("weekly_report.html")
        .render(
            title=_title(r),
            has_data=r["has_data"],
            summary_rows=_summary_rows(r),
            what_improved=r["what_improved"],
            what_needs_fixing=r["what_needs_fixing"],
            criteria_rows=_criteria_rows(r),
            retention=r["retention"],
            repeat_customer_rate=_fmt("repeat_customer_rate", r["retention"]["repeat_customer_rate"]),
            friction=r["friction"],
            top_rewards=r["top_rewards"],
            onboarding_rows=onboarding_rows,
            # plotly's HTML (its figure JSON escapes <, > and /): inserted as is
            daily_chart=Markup(daily_html),
            funnel_chart=Markup(funnel_html),
        )
    )


def render(report: dict, fmt: str) -> str:
    """Render ``report`` as ``fmt`` (md | json | html).

    Raises:
        UsageError: unknown format.
    """
    if fmt == "json":
        return json.dumps(report, indent=2, default=_plain) + "\n"
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    raise UsageError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}")


# --------------------------------------------------------------------------- demo helpers
def busiest_merchant(conn) -> str | None:
    """The merchant tenant with the most loyalty transactions (ties: smallest id), or None."""
    row = conn.execute(
        "select tenant_id from marts.fct_pilot_daily_metrics group by tenant_id "
        "order by sum(transactions_total) desc, tenant_id limit 1"
    ).fetchone()
    return row[0] if row else None


def latest_complete_week(conn, tenant: str) -> str | None:
    """The tenant's latest ISO week that ends before the last day of loyalty data (a complete week), or None."""
    row = conn.execute(
        "select iso_week from marts.rpt_weekly_merchant_report where tenant_id = %s "
        "and week_end <= (select max(metric_date) from marts.fct_pilot_daily_metrics) "
        "order by week_start desc limit 1",
        (tenant,),
    ).fetchone()
    return row[0] if row else None

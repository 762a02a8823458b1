"""``kpi report pilot``: seed 003's final pilot report for one scope, read from the marketplace marts.

A scope is ``<country>:<category>`` (every template version) or
``<country>:<category>:<version>`` (one version), e.g. ``MN:USED_CAR_PRIVATE`` — the
seed's recommended pilot. Every number and every recommendation sentence is computed
by dbt (``marts.rpt_pilot_scope_kpis``, ``rpt_pilot_daily_summary``,
``rpt_pilot_version_comparison``, ``rpt_pilot_rollback_history``,
``rpt_pilot_recommendations``, ``fct_disputes``/``fct_deals`` for the dispute reasons);
this module only selects the scope's rows and renders them as JSON, Markdown or one
self-contained HTML page (the Jinja2 template ``templates/pilot_report.html``, autoescaped).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from .errors import KpiError, UsageError

__all__ = ["FORMATS", "KPI_ORDER", "parse_scope", "build_report", "render"]

FORMATS = ("md", "json", "html")
_SCOPE_RE = re.compile(r"^([A-Za-z]{2}|unknown):([A-Za-z0-9_]+)(?::([0-9]+|unknown|all))?$")
# seed 003's primary metrics first, then the secondary one
KPI_ORDER = (
    "settlement_completion_rate",
    "time_to_settle_avg_hours",
    "time_to_settle_median_hours",
    "dispute_frequency",
    "evidence_completeness",
    "admin_intervention_rate",
)
_LABELS = {
    "settlement_completion_rate": "Settlement completion rate",
    "time_to_settle_avg_hours": "Average time to settle",
    "time_to_settle_median_hours": "Median time to settle",
    "dispute_frequency": "Dispute frequency",
    "evidence_completeness": "Evidence completeness",
    "admin_intervention_rate": "Admin intervention rate",
}
_MARTS = (
    "rpt_pilot_scope_kpis",
    "rpt_pilot_daily_summary",
    "rpt_pilot_version_comparison",
    "rpt_pilot_rollback_history",
    "rpt_pilot_recommendations",
    "fct_deals",
    "fct_disputes",
)


def parse_scope(scope: str) -> tuple[str, str, str]:
    """Parse ``--scope``: ``<country>:<category>[:<version>]``.

    Args:
        scope: e.g. ``MN:USED_CAR_PRIVATE`` or ``mn:used_car_private:2`` (case-insensitive;
            ``unknown`` names the unknown member of a dimension, ``all`` = every version).
    Returns:
        (canonical scope as the marts spell it, country, category), e.g.
        ``("MN:USED_CAR_PRIVATE:2", "MN", "USED_CAR_PRIVATE")``.
    Raises:
        UsageError: not of that shape (exit 2).
    """
    m = _SCOPE_RE.match((scope or "").strip())
    if not m:
        raise UsageError(
            f"--scope: '{scope}' is not <country>:<category>[:<version>] (e.g. MN:USED_CAR_PRIVATE or "
            "MN:USED_CAR_PRIVATE:2)"
        )
    country = "unknown" if m.group(1).lower() == "unknown" else m.group(1).upper()
    category = "unknown" if m.group(2).lower() == "unknown" else m.group(2).upper()
    version = (m.group(3) or "all").lower()
    canonical = f"{country}:{category}" + (
        "" if version == "all" else f":{int(version) if version.isdigit() else version}"
    )
    return canonical, country, category


def _plain(value: Any) -> Any:
    """JSON-ready value: Decimal -> int/float, date -> ISO string."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(conn, sql: str, params: dict) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d.name for d in cur.description]
    return [{k: _plain(v) for k, v in zip(names, r)} for r in cur.fetchall()]


def _require_marts(conn) -> None:
    for name in _MARTS:
        if conn.execute("select to_regclass(%s)", (f"marts.{name}",)).fetchone()[0] is None:
            raise KpiError(f"marts.{name} does not exist: run `kpi build` first")


def build_report(conn, scope: str) -> dict:
    """Assemble the final pilot report of one scope (seed 003 "Pilot Completion: Final Report").

    Args:
        conn: psycopg connection to the warehouse.
        scope: ``<country>:<category>[:<version>]`` (see :func:`parse_scope`).
    Returns:
        A JSON-ready dict: scope, country_code, category, version_scope, deals,
        first_deal_at, last_deal_at, metrics (cumulative KPIs against targets), weekly
        (per ISO week: KPIs against the week-1 baseline and the week's activity), daily
        (the daily summary), version_comparison, dispute_reasons, disputes (evidence
        completeness and admin intervention counts), rollback_history, recommendations.
        Rates are in [0,1], times in hours.
    Raises:
        UsageError: malformed scope, or a scope without deals (exit 2).
        KpiError: the marts are not built (exit 1).
    """
    canonical, country, category = parse_scope(scope)
    _require_marts(conn)
    p = {"scope": canonical, "country": country, "category": category}
    metrics = _rows(
        conn,
        "select kpi, unit, numerator, denominator, value, comparator, target, is_met, baseline_period, "
        "baseline_value, change_vs_baseline, version_scope, template_version "
        "from marts.rpt_pilot_scope_kpis where scope = %(scope)s and period_type = 'cumulative'",
        p,
    )
    if not metrics:
        known = [
            r[0]
            for r in conn.execute(
                "select distinct country_code || ':' || category from marts.rpt_pilot_scope_kpis order by 1 limit 6"
            ).fetchall()
        ]
        hint = f" (scopes with deals: {', '.join(known)}{' ...' if len(known) == 6 else ''})" if known else ""
        raise UsageError(f"--scope: unknown scope '{scope}': no deals{hint}")
    version_scope = metrics[0]["version_scope"]
    template_version = metrics[0]["template_version"]
    order = {k: i for i, k in enumerate(KPI_ORDER)}
    metrics.sort(key=lambda r: order.get(r["kpi"], len(order)))
    for m in metrics:
        m["label"] = _LABELS.get(m["kpi"], m["kpi"])
        del m["version_scope"], m["template_version"]
    deal_filter = (
        "coalesce(d.country_code, 'unknown') = %(country)s and coalesce(d.category, 'unknown') = %(category)s"
        + ("" if version_scope == "all" else " and coalesce(d.template_version::text, 'unknown') = %(version)s")
    )
    p["version"] = version_scope
    span = _rows(
        conn,
        f"select count(*) as deals, min(created_at) as first_deal_at, max(created_at) as last_deal_at "
        f"from marts.fct_deals d where {deal_filter}",
        p,
    )[0]
    weekly_kpis = _rows(
        conn,
        "select period, period_start, pilot_week, kpi, value, is_met, baseline_value, change_vs_baseline "
        "from marts.rpt_pilot_scope_kpis where scope = %(scope)s and period_type = 'iso_week' "
        "order by period_start, kpi",
        p,
    )
    activity = {
        r["iso_week"]: r
        for r in _rows(
            conn,
            "select iso_week, sum(deals_created)::bigint as deals_created, sum(deals_settled)::bigint as deals_settled, "
            "sum(disputes_opened)::bigint as disputes_opened, max(issues_identified)::bigint as issues_identified_max "
            "from marts.rpt_pilot_daily_summary where scope = %(scope)s group by iso_week",
            p,
        )
    }
    weeks: dict[str, dict] = {}
    for r in weekly_kpis:
        w = weeks.setdefault(
            r["period"],
            {"iso_week": r["period"], "week_start": r["period_start"], "pilot_week": r["pilot_week"], "kpis": {}},
        )
        w["kpis"][r["kpi"]] = {k: r[k] for k in ("value", "is_met", "baseline_value", "change_vs_baseline")}
    for w in weeks.values():
        a = activity.get(w["iso_week"], {})
        w["activity"] = {
            k: a.get(k, 0) for k in ("deals_created", "deals_settled", "disputes_opened", "issues_identified_max")
        }
    daily = _rows(
        conn,
        "select metric_date as day, deals_created, deals_settled, disputes_opened, deals_in_inspection, deals_stuck, "
        "disputes_open_without_evidence, issues_identified from marts.rpt_pilot_daily_summary "
        "where scope = %(scope)s order by metric_date",
        p,
    )
    comparison = _rows(
        conn,
        "select kpi, unit, template_version, previous_version, value, previous_value, change, comparator, target, "
        "is_met, previous_is_met, is_improved, deals, previous_deals, inspection_ttl_days, "
        "previous_inspection_ttl_days, dispute_ttl_hours, previous_dispute_ttl_hours, holdback_ratio, "
        "previous_holdback_ratio from marts.rpt_pilot_version_comparison "
        "where country_code = %(country)s and category = %(category)s order by template_version, kpi",
        p,
    )
    comparison.sort(key=lambda r: (r["template_version"], order.get(r["kpi"], len(order))))
    reasons = _rows(
        conn,
        f"""select coalesce(x.reason_code, 'unknown') as reason_code, count(*) as disputes,
               count(*) filter (where x.has_evidence) as with_evidence,
               count(*) filter (where x.is_resolved) as resolved,
               count(*) filter (where x.is_admin_resolved) as admin_resolved,
               count(*) filter (where not x.is_resolved) as still_open
        from marts.fct_disputes x join marts.fct_deals d on d.deal_id = x.deal_id
        where {deal_filter}
        group by 1 order by 2 desc, 1""",
        p,
    )
    by_kpi = {m["kpi"]: m for m in metrics}
    ev, adm = by_kpi.get("evidence_completeness", {}), by_kpi.get("admin_intervention_rate", {})
    history = _rows(
        conn,
        "select iso_week, week_start, pilot_week, deals_created_to_date, deals_settled_to_date, "
        "settlement_completion_rate_to_date, comparator, threshold, is_triggered, is_first_trigger "
        "from marts.rpt_pilot_rollback_history where scope = %(scope)s order by week_start",
        p,
    )
    recommendations = _rows(
        conn,
        "select rule_id, recommendation from marts.rpt_pilot_recommendations where scope = %(scope)s "
        "order by sort_order, rule_id",
        p,
    )
    return {
        "scope": canonical,
        "country_code": country,
        "category": category,
        "version_scope": version_scope,
        "template_version": template_version,
        "deals": span["deals"],
        "first_deal_at": _plain_ts(span["first_deal_at"]),
        "last_deal_at": _plain_ts(span["last_deal_at"]),
        "metrics": metrics,
        "weekly": list(weeks.values()),
        "daily": daily,
        "version_comparison": comparison,
        "dispute_reasons": reasons,
        "disputes": {
            "disputes": ev.get("denominator"),
            "with_evidence": ev.get("numerator"),
            "evidence_completeness": ev.get("value"),
            "resolved": adm.get("denominator"),
            "admin_resolved": adm.get("numerator"),
            "admin_intervention_rate": adm.get("value"),
        },
        "rollback_history": history,
        "rollback_triggered": any(h["is_triggered"] for h in history),
        "recommendations": recommendations,
    }


def _plain_ts(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# --------------------------------------------------------------------------- rendering
def fmt_value(unit: str | None, value: Any) -> str:
    """A KPI value for people: rates as a percentage with one decimal, hours with one decimal and ' h'.

    Args:
        unit: ``rate`` (value in [0,1]) | ``hours`` | anything else (printed as is).
        value: the value, or None (printed ``n/a``).
    """
    if value is None:
        return "n/a"
    if unit == "rate":
        return f"{float(value):.1%}"
    if unit == "hours":
        return f"{float(value):,.1f} h"
    return str(value)


def _fmt_change(unit: str | None, value: Any) -> str:
    if value is None:
        return "n/a"
    if unit == "rate":
        return f"{float(value) * 100:+.1f} pts"
    return f"{float(value):+,.1f} h"


def _met(value: Any) -> str:
    return {True: "met", False: "not met"}.get(value, "no target" if value is None else str(value))


def _target(m: dict) -> str:
    return "none" if m["target"] is None else f"{m['comparator']} {fmt_value(m['unit'], m['target'])}"


def _title(r: dict) -> str:
    which = "every template version" if r["version_scope"] == "all" else f"template version {r['version_scope']}"
    return f"Pilot report: {r['country_code']} {r['category']}, {which}"


def _tables(r: dict) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every table of the report as (header, rows of strings), shared by Markdown and HTML."""
    units = {m["kpi"]: m["unit"] for m in r["metrics"]}
    t: dict[str, tuple[list[str], list[list[str]]]] = {}
    t["metrics"] = (
        ["metric", "value", "target", "status", "of", "week 1", "change vs week 1"],
        [
            [
                m["label"],
                fmt_value(m["unit"], m["value"]),
                _target(m),
                _met(m["is_met"]),
                "" if m["denominator"] is None else f"{m['denominator']:,}",
                fmt_value(m["unit"], m["baseline_value"]),
                _fmt_change(m["unit"], m["change_vs_baseline"]),
            ]
            for m in r["metrics"]
        ],
    )
    t["weekly"] = (
        [
            "week",
            "pilot week",
            "created",
            "settled",
            "disputes",
            "settlement rate (vs wk 1)",
            "dispute freq. (vs wk 1)",
            "avg time to settle (vs wk 1)",
        ],
        [
            [
                w["iso_week"],
                str(w["pilot_week"]),
                f"{w['activity']['deals_created']:,}",
                f"{w['activity']['deals_settled']:,}",
                f"{w['activity']['disputes_opened']:,}",
                *(
                    f"{fmt_value(units.get(k), w['kpis'].get(k, {}).get('value'))} "
                    f"({_fmt_change(units.get(k), w['kpis'].get(k, {}).get('change_vs_baseline'))})"
                    for k in ("settlement_completion_rate", "dispute_frequency", "time_to_settle_avg_hours")
                ),
            ]
            for w in r["weekly"]
        ],
    )
    t["daily"] = (
        ["day", "created", "settled", "disputes opened", "in inspection", "stuck", "disputes w/o evidence", "issues"],
        [
            [str(d["day"])]
            + [
                f"{d[k]:,}"
                for k in (
                    "deals_created",
                    "deals_settled",
                    "disputes_opened",
                    "deals_in_inspection",
                    "deals_stuck",
                    "disputes_open_without_evidence",
                    "issues_identified",
                )
            ]
            for d in r["daily"]
        ],
    )
    t["comparison"] = (
        ["metric", "versions", "previous", "this", "change", "target", "previous status", "status", "improved"],
        [
            [
                _LABELS.get(c["kpi"], c["kpi"]),
                f"v{c['previous_version']} → v{c['template_version']}",
                fmt_value(c["unit"], c["previous_value"]),
                fmt_value(c["unit"], c["value"]),
                _fmt_change(c["unit"], c["change"]),
                "none" if c["target"] is None else f"{c['comparator']} {fmt_value(c['unit'], c['target'])}",
                _met(c["previous_is_met"]),
                _met(c["is_met"]),
                {True: "yes", False: "no"}.get(c["is_improved"], "n/a"),
            ]
            for c in r["version_comparison"]
        ],
    )
    params: dict[tuple, dict] = {}
    for c in r["version_comparison"]:
        params.setdefault((c["previous_version"], c["template_version"]), c)
    t["adjustments"] = (
        ["versions", "deals", "inspection TTL (days)", "dispute TTL (hours)", "holdback"],
        [
            [
                f"v{pv} → v{v}",
                f"{c['previous_deals']:,} → {c['deals']:,}",
                f"{c['previous_inspection_ttl_days']} → {c['inspection_ttl_days']}",
                f"{c['previous_dispute_ttl_hours']} → {c['dispute_ttl_hours']}",
                f"{fmt_value('rate', c['previous_holdback_ratio'])} → {fmt_value('rate', c['holdback_ratio'])}",
            ]
            for (pv, v), c in params.items()
        ],
    )
    t["reasons"] = (
        ["reason", "disputes", "with evidence", "resolved", "by admin", "open"],
        [
            [x["reason_code"]]
            + [f"{x[k]:,}" for k in ("disputes", "with_evidence", "resolved", "admin_resolved", "still_open")]
            for x in r["dispute_reasons"]
        ],
    )
    t["rollback"] = (
        ["week", "pilot week", "created to date", "settled to date", "completion rate", "threshold", "triggered"],
        [
            [
                h["iso_week"],
                str(h["pilot_week"]),
                f"{h['deals_created_to_date']:,}",
                f"{h['deals_settled_to_date']:,}",
                fmt_value("rate", h["settlement_completion_rate_to_date"]),
                f"{h['comparator']} {fmt_value('rate', h['threshold'])}",
                ("YES (first)" if h["is_first_trigger"] else "yes") if h["is_triggered"] else "no",
            ]
            for h in r["rollback_history"]
        ],
    )
    return t


def _md_table(header: list[str], rows: list[list[str]], empty: str) -> list[str]:
    if not rows:
        return [empty]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def _disputes_sentence(r: dict) -> str:
    d = r["disputes"]
    if not d["disputes"]:
        return "No dispute was opened."
    return (
        f"{d['with_evidence']:,} of {d['disputes']:,} disputes had evidence before their resolution "
        f"(evidence completeness {fmt_value('rate', d['evidence_completeness'])}); admins resolved "
        f"{d['admin_resolved']:,} of {d['resolved']:,} resolved disputes (admin intervention "
        f"{fmt_value('rate', d['admin_intervention_rate'])})."
    )


def _rollback_sentence(r: dict) -> str:
    first = next((h for h in r["rollback_history"] if h["is_first_trigger"]), None)
    if first is None:
        return "The rollback trigger (settlement completion rate below its threshold) never fired."
    return (
        f"The rollback trigger fired first in {first['iso_week']} (pilot week {first['pilot_week']}): "
        f"settlement completion {fmt_value('rate', first['settlement_completion_rate_to_date'])} "
        f"{first['comparator']} {fmt_value('rate', first['threshold'])}."
    )


def render_markdown(r: dict) -> str:
    """The report as GitHub-flavoured Markdown (str)."""
    t = _tables(r)
    lines = [
        f"# {_title(r)}",
        "",
        f"Scope `{r['scope']}`: {r['deals']:,} deals created from {r['first_deal_at']} to {r['last_deal_at']}.",
        "",
        "## Metrics against targets",
        "",
        *_md_table(*t["metrics"], "No metric."),
        "",
        "## Weekly trends against the week-1 baseline",
        "",
        *_md_table(*t["weekly"], "No week."),
        "",
        "## Daily summary",
        "",
        *_md_table(*t["daily"], "No day to report."),
        "",
        "## Template versions compared",
        "",
        *_md_table(*t["comparison"], "Only one template version has deals in this country and category."),
        "",
        *(["### Template adjustments", "", *_md_table(*t["adjustments"], ""), ""] if t["adjustments"][1] else []),
        "## Disputes: reasons, evidence and admin intervention",
        "",
        _disputes_sentence(r),
        "",
        *_md_table(*t["reasons"], "No dispute."),
        "",
        "## Rollback-trigger history",
        "",
        _rollback_sentence(r),
        "",
        *_md_table(*t["rollback"], "No week."),
        "",
        "## Recommendations",
        "",
        *([f"- {x['recommendation']}" for x in r["recommendations"]] or ["No rule fired."]),
    ]
    return "\n".join(lines) + "\n"


def render_html(r: dict) -> str:
    """The report as one self-contained HTML page (str), from ``kpiwh/templates/pilot_report.html``.

    Every value taken from ``r`` is HTML-escaped (autoescape).

    Raises:
        jinja2.UndefinedError: the template uses a value ``r`` does not have.
    """
    from .report import _templates  # noqa: PLC0415  (the shared Jinja2 environment; imports jinja2)

    return (
        _templates()
        .get_template("pilot_report.html")
        .render(
            title=_title(r),
            r=r,
            tables=_tables(r),
            disputes_sentence=_disputes_sentence(r),
            rollback_sentence=_rollback_sentence(r),
        )
    )


def render(report: dict, fmt: str) -> str:
    """Render ``report`` (from :func:`build_report`) as ``fmt`` (md | json | html).

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

"""Alerts (seed 001): evaluate the alert models, list marts.fct_alerts, post to a webhook.

The lifecycle (open, dedup, auto-resolve, reopen) lives in dbt
(models/marts/alerts/fct_alerts.sql); this module only runs the alert models at
an evaluation time, reads the table, and notifies a webhook.

Evaluation options: ``--rule R`` judges one rule of ``seeds/alert_rules.csv``
(env var ``KPI_ALERTS_RULES`` → macro alerts_selected_rules(); other rules'
alerts are left as they are); ``--from/--to/--every 1h|1d`` evaluates every
instant of a past window in order (a backfill of alert history). Re-running a
window is a no-op: fct_alerts never rewrites a (rule, subject) already seen at
or after an instant, and fct_alert_events has a unique key per transition.

Webhook protocol: one ``POST`` of ``{"alerts": [...]}`` (JSON, UTF-8) holding
every alert not yet notified: episodes whose opening was never posted
(``notified_at`` null) and resolved episodes whose resolution was never posted
(``resolved_notified_at`` null). Only after a 2xx answer are they marked
(``notified_at`` / ``resolved_notified_at`` = now), so a failed post is retried
by the next run.
"""

from __future__ import annotations

import csv
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from . import config, publish, runner
from .errors import KpiError, UsageError

SEVERITY_RANK = {"info": 1, "warning": 2, "critical": 3}
ALERTS_TABLE = "marts.fct_alerts"
#: what `kpi alerts --evaluate` builds: the rules seed and every model tagged `alerts`
EVALUATE_SELECT = ["alert_rules", "tag:alerts"]
#: what a backfill's middle instants skip: the alert models that do not depend on the instant
LIGHT_EXCLUDE = "int_alert_metric_values"
#: the steps `--every` accepts (the seed's cron: hourly alert checks, daily metrics)
EVERY = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}
#: most instants one backfill evaluates (a year of hourly checks): a typo in --from stays cheap
MAX_INSTANTS = 24 * 366

COLUMNS = (
    "alert_key",
    "rule_id",
    "subject",
    "episode",
    "severity",
    "status",
    "first_seen_at",
    "last_seen_at",
    "occurrences",
    "resolved_at",
    "observed_day",
    "last_value",
    "threshold",
    "message",
    "notified_at",
    "resolved_notified_at",
)


def parse_evaluated_at(value: str | None) -> str:
    """Normalise an evaluation time to ISO-8601 UTC with seconds.

    Args:
        value: ISO timestamp (``2025-07-01T10:00:00+00:00``, naive = UTC) or date
            (its UTC midnight); None = now (UTC, whole seconds).
    Returns:
        ``YYYY-MM-DDTHH:MM:SS+00:00``.
    Raises:
        UsageError: not a timestamp.
    """
    if value is None:
        dt = datetime.now(UTC).replace(microsecond=0)
    else:
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--evaluated-at: '{value}' is not an ISO timestamp") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        dt = dt.astimezone(UTC).replace(microsecond=0)
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _parse_instant(option: str, value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: '{value}' is not an ISO timestamp") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0)


def known_rules() -> list[str]:
    """Rule ids of the project's ``seeds/alert_rules.csv``, in file order.

    Raises:
        UsageError: the project or its rules file cannot be found.
    """
    path = config.project_dir() / "seeds" / "alert_rules.csv"
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return [row["rule_id"].strip() for row in csv.DictReader(fh) if row.get("rule_id")]
    except (OSError, KeyError) as exc:
        raise UsageError(f"cannot read the alert rules ({path}): {exc}") from None


def check_rule(rule: str) -> str:
    """Validate ``--rule``: a rule id of ``seeds/alert_rules.csv``.

    Args:
        rule: the rule id as typed (surrounding blanks ignored).
    Returns:
        the rule id.
    Raises:
        UsageError: no such rule (the message lists the known ones).
    """
    rule = rule.strip()
    rules = known_rules()
    if rule not in rules:
        raise UsageError(f"--rule: unknown rule '{rule}' (known: {', '.join(rules)})")
    return rule


def evaluation_instants(start: str, end: str, every: str) -> list[str]:
    """The instants of a backfill window: ``start``, ``start + every``, ... up to ``end`` inclusive.

    Args:
        start: ``--from``, ISO timestamp (naive = UTC; a date = its UTC midnight).
        end: ``--to``, same format; must not be before ``start``.
        every: ``1h`` or ``1d`` (the seed's hourly alert cron, or one check a day).
    Returns:
        ISO-8601 UTC instants (the format of :func:`parse_evaluated_at`), oldest first.
    Raises:
        UsageError: a bad timestamp, ``--from`` after ``--to``, an unknown step, or more
            than :data:`MAX_INSTANTS` instants.
    """
    if every not in EVERY:
        raise UsageError(f"--every: '{every}' is not one of {', '.join(EVERY)}")
    lo, hi = _parse_instant("--from", start), _parse_instant("--to", end)
    if lo > hi:
        raise UsageError(f"--from {lo.isoformat()} is after --to {hi.isoformat()}")
    step = EVERY[every]
    count = int((hi - lo) / step) + 1
    if count > MAX_INSTANTS:
        raise UsageError(f"--from/--to/--every: {count} evaluations, more than {MAX_INSTANTS}; use a larger step")
    return [(lo + i * step).strftime("%Y-%m-%dT%H:%M:%S+00:00") for i in range(count)]


def backfill(
    instants: list[str],
    rule: str | None = None,
    console=None,
    on_instant: Callable[[int, str], None] | None = None,
) -> int:
    """Evaluate the alerts at each instant of a past window, oldest first (alert history backfill).

    The project is parsed once; the first and last instants are a full ``dbt build`` of the alert
    models (seed, models, data tests), the instants between a ``dbt run`` of the models that
    depend on the instant (``light``): the lifecycle is the same as the hourly cron's, its tests
    judge the final state. Idempotent: instants already evaluated change nothing.

    Args:
        instants: from :func:`evaluation_instants`.
        rule: judge only this rule (validated by :func:`check_rule`); None = every rule.
        console: Rich console for dbt's messages (stderr by default).
        on_instant: called with (index from 1, instant) before each evaluation (progress).
    Returns:
        the number of evaluations run.
    Raises:
        BuildFailed: a model or test failed at some instant (the earlier ones are kept).
    """
    manifest = runner.parse()
    for i, at in enumerate(instants, start=1):
        if on_instant is not None:
            on_instant(i, at)
        evaluate(at, console=console, manifest=manifest, rule=rule, light=1 < i < len(instants))
    return len(instants)


def evaluate(evaluated_at: str, console=None, manifest=None, rule: str | None = None, light: bool = False):
    """Run ``dbt build`` of the alert models at an evaluation instant.

    The instant reaches dbt as env var ``KPI_ALERTS_EVALUATED_AT`` (read by the
    macro alerts_evaluated_at() when var ``alerts_evaluated_at`` is unset).

    Args:
        evaluated_at: ISO-8601 UTC instant (from :func:`parse_evaluated_at`).
        console: Rich console for progress (stderr by default).
        manifest: a Manifest from ``runner.parse()`` to reuse (several evaluations in one
            process parse once; the instant is rendered at run time, not at parse time).
        rule: judge only this rule id (env var ``KPI_ALERTS_RULES``, macro
            alerts_selected_rules()); None = every rule.
        light: ``dbt run`` of the models that depend on the instant only — no seed, no
            int_alert_metric_values (the same at every instant), no data tests: the middle
            instants of a backfill, whose first and last instants run the full build.
    Returns:
        the runner's RunSummary.
    Raises:
        BuildFailed: a model or test failed (exit 1).
    """
    # the env var, not --vars: a new --vars value forces dbt to re-parse the whole project
    # (macros/alerts_evaluated_at.sql reads var alerts_evaluated_at, then this env var)
    os.environ["KPI_ALERTS_EVALUATED_AT"] = evaluated_at
    if rule:
        os.environ["KPI_ALERTS_RULES"] = rule
    else:
        os.environ.pop("KPI_ALERTS_RULES", None)
    if light:
        cmd = ["run", "--select", "tag:alerts", "--exclude", LIGHT_EXCLUDE]
    else:
        cmd = ["build"]
        for s in EVALUATE_SELECT:
            cmd += ["--select", s]
        # unit tests belong to CI / `kpi build`, not to the hourly evaluation
        cmd += ["--exclude-resource-type", "unit_test"]
    try:
        if manifest is not None:
            return runner.invoke(cmd, console=console, manifest=manifest, progress=False)
        return publish.build(cmd, full_refresh=False, vars_json=None, console=console)
    finally:
        os.environ.pop("KPI_ALERTS_EVALUATED_AT", None)
        os.environ.pop("KPI_ALERTS_RULES", None)


def _table_exists(conn) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (ALERTS_TABLE,)).fetchone()[0]


def list_alerts(conn, open_only: bool = False, severity: str | None = None) -> list[dict]:
    """Alerts from marts.fct_alerts, newest first.

    Args:
        conn: psycopg connection.
        open_only: only status ``open``.
        severity: only this severity (info | warning | critical).
    Returns:
        one dict per alert episode (keys: :data:`COLUMNS`).
    Raises:
        KpiError: the table does not exist yet.
    """
    if not _table_exists(conn):
        raise KpiError(f"{ALERTS_TABLE} does not exist: run `kpi alerts --evaluate` (or `kpi build`) first")
    where, params = [], []
    if open_only:
        where.append("status = 'open'")
    if severity:
        where.append("severity = %s")
        params.append(severity)
    sql = (
        f"select {', '.join(COLUMNS)} from {ALERTS_TABLE}"
        + (f" where {' and '.join(where)}" if where else "")
        + " order by status desc, severity_rank desc, last_seen_at desc, rule_id, subject, episode"
    )
    cur = conn.execute(sql, params)
    return [dict(zip(COLUMNS, row)) for row in cur.fetchall()]


def to_jsonable(alert: dict) -> dict:
    """Copy of an alert dict with datetimes as ISO text and decimals as floats."""
    out = {}
    for k, v in alert.items():
        if isinstance(v, (datetime, date)):
            out[k] = v.isoformat()
        elif isinstance(v, Decimal):
            out[k] = float(v)
        else:
            out[k] = v
    return out


def worst_open_rank(alerts: list[dict]) -> int:
    """Highest severity rank (info 1, warning 2, critical 3) among open alerts; 0 if none."""
    return max((SEVERITY_RANK.get(a["severity"], 0) for a in alerts if a["status"] == "open"), default=0)


def pending_notifications(conn) -> list[dict]:
    """Alerts the webhook has not been told about (new openings and resolutions)."""
    if not _table_exists(conn):
        raise KpiError(f"{ALERTS_TABLE} does not exist: run `kpi alerts --evaluate` (or `kpi build`) first")
    cur = conn.execute(
        f"select {', '.join(COLUMNS)} from {ALERTS_TABLE}"
        " where notified_at is null or (status = 'resolved' and resolved_notified_at is null)"
        " order by first_seen_at, rule_id, subject, episode"
    )
    return [dict(zip(COLUMNS, row)) for row in cur.fetchall()]


def post_webhook(conn, url: str, timeout: float = 10.0) -> int:
    """POST every not-yet-notified alert to ``url``; mark them notified after a 2xx.

    Args:
        conn: psycopg connection (autocommit).
        url: http(s) URL.
        timeout: seconds to wait for the server.
    Returns:
        number of alerts posted (0: nothing to send, no request made).
    Raises:
        UsageError: the URL is not http(s).
        KpiError: connection refused / timeout / non-2xx answer (nothing is marked).
    """
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--webhook: '{url}' is not an http(s) URL")
    alerts = pending_notifications(conn)
    if not alerts:
        return 0
    body = json.dumps({"alerts": [to_jsonable(a) for a in alerts]}).encode("utf-8")
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "kpi-alerts"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http(s) checked above)
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise KpiError(f"webhook {url}: HTTP {exc.code}; {len(alerts)} alert(s) left unsent") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise KpiError(f"webhook {url}: {reason}; {len(alerts)} alert(s) left unsent") from None
    if not 200 <= status < 300:
        raise KpiError(f"webhook {url}: HTTP {status}; {len(alerts)} alert(s) left unsent")
    keys = [a["alert_key"] for a in alerts]
    with conn.transaction():
        conn.execute(
            f"update {ALERTS_TABLE} set notified_at = now() where notified_at is null and alert_key = any(%s)", (keys,)
        )
        conn.execute(
            f"update {ALERTS_TABLE} set resolved_notified_at = now() where status = 'resolved' "
            "and resolved_notified_at is null and alert_key = any(%s)",
            (keys,),
        )
    return len(alerts)

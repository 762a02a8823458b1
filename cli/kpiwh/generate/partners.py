"""Partners: partner tenants' sign-up and review, then their workshops' activity (events_raw)."""

from __future__ import annotations

import random

from ._common import (
    _HOUR_TABLES,
    DAY,
    HOUR,
    MINUTE,
    _Ctx,
    _dumps,
    _iso_offset,
    _lognormal_seconds,
    _moment,
    _poisson,
    _Tenant,
)
from ._sinks import _EventSink

# volumes per unit of scale (see the package docstring)
PARTNER_API_PER_DAY = 20.0
PARTNER_LOGINS_PER_DAY = 3.0
PARTNER_INVITES_PER_DAY = 0.5
PARTNER_PROFILE_UPDATES_PER_DAY = 0.15
PARTNER_STATUSES = ("pending", "active", "suspended", "rejected")
API_ENDPOINTS = ("/v1/jobs", "/v1/quotes", "/v1/mechanics", "/v1/invoices", "/v1/availability")
_API_OK = tuple(f'{{"endpoint":"{e}","http_status":200}}' for e in API_ENDPOINTS)


def plan_partner(ctx: _Ctx, rng: random.Random, tp: _Tenant) -> None:
    """Plan a partner's sign-up attempts, application, review decision and suspension.

    Args:
        ctx (_Ctx): the run context (window end).
        rng (random.Random): the tenant's plan RNG (draws continue from the caller's).
        tp (_Tenant): the partner's plan; sets ``signed_up_at``, ``attempts``,
            ``applied_at``, ``decided_at``, ``decision``, ``suspended_at``,
            ``status`` (one of ``PARTNER_STATUSES``) and ``updated_at``.
    """
    end = ctx.end
    if tp.index == 1:
        t0 = int(HOUR + rng.random() * 5 * HOUR)
    else:
        t0 = int(rng.random() * 0.8 * end)
    t0 = min(end - 1, t0)
    tp.signed_up_at = t0
    t = t0
    for attempt in range(4):
        # partner 2 always fails its first attempt so that small data sets show the failure path
        if attempt < 3 and (rng.random() < 0.3 or (tp.index == 2 and attempt == 0)):
            fail = t + _lognormal_seconds(rng, 6 * MINUTE, 0.6, MINUTE, HOUR)
            tp.attempts.append((t, fail, rng.choice(("validation_error", "validation_error", "system_error"))))
            t = fail + _lognormal_seconds(rng, 5 * HOUR, 1.3, 10 * MINUTE, 4 * DAY)
        else:
            tp.attempts.append((t, None, None))
            tp.applied_at = t + _lognormal_seconds(rng, 9 * MINUTE, 0.5, 2 * MINUTE, HOUR)
            break
    status = "pending"
    updated = t0
    if tp.applied_at is not None and tp.applied_at < end:
        updated = tp.applied_at
        delay = _lognormal_seconds(rng, 16 * HOUR, 0.8, 30 * MINUTE, 9 * DAY)
        decided = tp.applied_at + delay
        decision = "approved" if rng.random() < 0.8 else "rejected"
        if tp.index in (1, 3):  # small data sets show both outcomes: partner 1 approved, 3 rejected
            decision = "approved" if tp.index == 1 else "rejected"
        if decided < end:
            tp.decided_at = decided
            tp.decision = decision
            updated = decided
            status = "active" if decision == "approved" else "rejected"
            if decision == "approved" and rng.random() < 0.12:
                susp = decided + int((7 + rng.random() * 50) * DAY)
                if susp < end:
                    tp.suspended_at = susp
                    status = "suspended"
                    updated = susp
    else:
        tp.applied_at = None
    tp.status = status
    tp.updated_at = updated


def write_events(ctx: _Ctx, tp: _Tenant, ev: _EventSink) -> None:
    """Write a partner's events: sign-up and review with their e-mails, then its workshop's daily activity.

    Args:
        ctx (_Ctx): the run context.
        tp (_Tenant): the partner's plan (from ``plan_partner``).
        ev (_EventSink): the events_raw writer; bound to this tenant's event RNG.
    """
    partner = _Partner(ctx, tp, ev)
    partner.signup()
    if tp.decided_at is None:
        ev.maybe_flush()
        return
    partner.decision()
    if tp.decision == "rejected":
        partner.rejected_logins()
        ev.maybe_flush()
        return
    partner.active_days()


class _Partner:
    """One partner tenant's event writer (its owner, e-mails and invites so far)."""

    def __init__(self, ctx: _Ctx, tp: _Tenant, ev: _EventSink) -> None:
        rng = ctx.rng("events", tp.tenant_id)
        ev.bind(rng)
        self.ctx, self.tp, self.ev, self.emit = ctx, tp, ev, ev.emit
        self.rng, self.rand = rng, rng.random
        self.tid, self.cc, self.owner, self.scale = tp.tenant_id, tp.country, tp.owner_id, ctx.scale
        self.hours = _HOUR_TABLES["office"]
        self.email_seq = 0
        self.invite_seq = 0
        self.mechanics: list[tuple[int, str]] = []  # (accepted at, user id) of accepted invites

    def session(self) -> str:
        """A new session id."""
        return f"s_{self.rng.getrandbits(48):012x}"

    def email(self, t: int, email_type: str, user: str | None) -> None:
        """An e-mail sent at ``t`` (3 % fail first and are sent again up to 3 h later)."""
        emit, tid, cc, rng = self.emit, self.tid, self.cc, self.rng
        self.email_seq += 1
        eid = f"em_{self.tp.gindex:03d}{self.email_seq:07d}"
        meta = {"email_type": email_type}
        if rng.random() < 0.03:
            emit(
                t,
                tid,
                None,
                "partners",
                "email_failed",
                user,
                None,
                "email",
                eid,
                "failed",
                "sendgrid",
                None,
                cc,
                None,
                None,
                None,
                _dumps({**meta, "error": "smtp_timeout"}),
            )
            t += _lognormal_seconds(rng, 15 * MINUTE, 0.6, MINUTE, 3 * HOUR)
        emit(
            t,
            tid,
            None,
            "partners",
            "email_sent",
            user,
            None,
            "email",
            eid,
            "sent",
            "sendgrid",
            None,
            cc,
            None,
            None,
            None,
            _dumps(meta),
        )

    def signup(self) -> None:
        """Sign-up attempts (a failed one starts a new session), then the completed application."""
        emit, tid, cc, owner, rng, tp = self.emit, self.tid, self.cc, self.owner, self.rng, self.tp
        sess = self.session()
        for start_t, fail_t, reason in tp.attempts:
            emit(
                start_t,
                tid,
                None,
                "partners",
                "signup_started",
                owner,
                sess,
                "partner",
                tid,
                "started",
                None,
                None,
                cc,
                None,
                None,
                None,
                None,
            )
            if fail_t is not None:
                emit(
                    fail_t,
                    tid,
                    None,
                    "partners",
                    "signup_failed",
                    owner,
                    sess,
                    "partner",
                    tid,
                    reason,
                    None,
                    None,
                    cc,
                    None,
                    None,
                    None,
                    _dumps({"step": rng.choice(("business_info", "documents", "payout"))}),
                )
                sess = self.session()
        if tp.applied_at is not None:
            emit(
                tp.applied_at,
                tid,
                None,
                "partners",
                "signup_completed",
                owner,
                sess,
                "partner",
                tid,
                "completed",
                None,
                None,
                cc,
                None,
                None,
                None,
                None,
            )

    def decision(self) -> None:
        """The review's decision by an admin, and its e-mail to the owner."""
        emit, tid, cc, owner, rng, tp = self.emit, self.tid, self.cc, self.owner, self.rng, self.tp
        admin = f"admin_{1 + int(rng.random() * 3):02d}"
        review_hours = round((tp.decided_at - tp.applied_at) / HOUR, 2)
        etype = "application_approved" if tp.decision == "approved" else "application_rejected"
        emit(
            tp.decided_at,
            tid,
            None,
            "partners",
            etype,
            admin,
            None,
            "application",
            f"app_{tid}",
            tp.decision,
            None,
            None,
            cc,
            None,
            None,
            None,
            _dumps({"review_hours": review_hours}),
        )
        email_type = "approval" if tp.decision == "approved" else "rejection"
        self.email(tp.decided_at + 5 + int(rng.random() * 120), email_type, owner)

    def rejected_logins(self) -> None:
        """A rejected partner's owner logs in up to twice within three days of the decision."""
        emit, tid, cc, owner, rng, tp = self.emit, self.tid, self.cc, self.owner, self.rng, self.tp
        for _ in range(int(rng.random() * 3)):
            emit(
                tp.decided_at + int(rng.random() * 3 * DAY),
                tid,
                None,
                "partners",
                "dashboard_login",
                owner,
                self.session(),
                "user",
                owner,
                "success",
                None,
                None,
                cc,
                None,
                None,
                None,
                None,
            )

    def active_days(self) -> None:
        """Every day from the approval until the window's end or a suspension."""
        ctx, tp = self.ctx, self.tp
        stop = tp.suspended_at if tp.suspended_at is not None else ctx.end
        for d in range(tp.decided_at // DAY, ctx.days):
            day0 = d * DAY
            if day0 >= stop:
                break
            f = ctx.season("partner", d) * ctx.trend[d]
            lo_t = max(day0, tp.decided_at + 60)
            self.invites(day0, lo_t, stop, f)
            self.logins(day0, lo_t, stop, f)
            self.profile_updates(day0, lo_t, stop, f)
            self.api_requests(day0, lo_t, stop, f)
            self.ev.maybe_flush()

    def invites(self, day0: int, lo_t: int, stop: int, f: float) -> None:
        """Invites of the day: sent, then accepted (70 %) before expiry, else expired.

        Like every section of an active day, events fall in ``[lo_t, stop)`` and
        ``f`` is the day's season x trend.
        """
        emit, tid, cc, owner = self.emit, self.tid, self.cc, self.owner
        rng, rand, hours = self.rng, self.rand, self.hours
        gi = self.tp.gindex
        for _ in range(_poisson(rng, PARTNER_INVITES_PER_DAY * self.scale * f)):
            t = _moment(rand, day0, hours)
            if t < lo_t or t >= stop:
                continue
            self.invite_seq += 1
            invite_seq = self.invite_seq
            inv = f"inv_{gi:03d}{invite_seq:06d}"
            expires = t + 7 * DAY
            meta = {"expires_at": _iso_offset(self.ctx, expires)}
            if rand() < 0.03:
                meta["email"] = f"mechanic{invite_seq}@example.com"
            emit(
                t,
                tid,
                None,
                "partners",
                "invite_sent",
                owner,
                None,
                "invite",
                inv,
                "sent",
                None,
                None,
                cc,
                None,
                None,
                None,
                _dumps(meta),
            )
            self.email(t + 2 + int(rand() * 60), "invite", owner)
            if rand() < 0.7:
                acc_t = t + _lognormal_seconds(rng, 20 * HOUR, 1.2, 10 * MINUTE, 7 * DAY - 60)
                mech = f"mech_{rng.getrandbits(48):012x}"
                if emit(
                    acc_t,
                    tid,
                    None,
                    "partners",
                    "invite_accepted",
                    mech,
                    self.session(),
                    "invite",
                    inv,
                    "accepted",
                    None,
                    None,
                    cc,
                    None,
                    None,
                    None,
                    None,
                ):
                    self.mechanics.append((acc_t, mech))
            else:
                emit(
                    expires,
                    tid,
                    None,
                    "partners",
                    "invite_expired",
                    None,
                    None,
                    "invite",
                    inv,
                    "expired",
                    None,
                    None,
                    cc,
                    None,
                    None,
                    None,
                    None,
                )

    def logins(self, day0: int, lo_t: int, stop: int, f: float) -> None:
        """Dashboard logins of the day, by the owner or (half the time) a mechanic who accepted an invite."""
        emit, tid, cc, owner = self.emit, self.tid, self.cc, self.owner
        rng, rand, hours = self.rng, self.rand, self.hours
        mechanics = self.mechanics
        for _ in range(_poisson(rng, PARTNER_LOGINS_PER_DAY * self.scale * f)):
            t = _moment(rand, day0, hours)
            if t < lo_t or t >= stop:
                continue
            user = owner
            if mechanics and rand() < 0.5:
                at, m = mechanics[int(rand() * len(mechanics))]
                if at < t:
                    user = m
            emit(
                t,
                tid,
                None,
                "partners",
                "dashboard_login",
                user,
                self.session(),
                "user",
                user,
                "success",
                None,
                None,
                cc,
                None,
                None,
                None,
                None,
            )

    def profile_updates(self, day0: int, lo_t: int, stop: int, f: float) -> None:
        """Profile updates of the day (two fields each; a phone number sometimes in the metadata)."""
        emit, tid, cc, owner = self.emit, self.tid, self.cc, self.owner
        rng, rand, hours = self.rng, self.rand, self.hours
        for _ in range(_poisson(rng, PARTNER_PROFILE_UPDATES_PER_DAY * self.scale * f)):
            t = _moment(rand, day0, hours)
            if t < lo_t or t >= stop:
                continue
            meta = {"fields": sorted(rng.sample(["address", "hours", "services", "logo", "phone"], 2))}
            if "phone" in meta["fields"] and rand() < 0.5:
                meta["phone"] = f"+1-555-{100 + int(rand() * 900)}-{1000 + int(rand() * 9000)}"
            emit(
                t,
                tid,
                None,
                "partners",
                "profile_updated",
                owner,
                None,
                "partner",
                tid,
                "success",
                None,
                None,
                cc,
                None,
                None,
                None,
                _dumps(meta),
            )

    def api_requests(self, day0: int, lo_t: int, stop: int, f: float) -> None:
        """API requests of the day with their latency (3 % errors: HTTP 500 or 429)."""
        emit, tid, cc, owner = self.emit, self.tid, self.cc, self.owner
        rng, rand, hours = self.rng, self.rand, self.hours
        for _ in range(_poisson(rng, PARTNER_API_PER_DAY * self.scale * f)):
            t = _moment(rand, day0, hours)
            if t < lo_t or t >= stop:
                continue
            k = int(rand() * len(API_ENDPOINTS))
            latency = round(0.03 + rand() * rand() * 1.5, 3)
            if rand() < 0.03:
                code = 500 if rand() < 0.5 else 429
                emit(
                    t,
                    tid,
                    None,
                    "partners",
                    "api_request",
                    owner,
                    None,
                    "api",
                    API_ENDPOINTS[k],
                    "error",
                    None,
                    None,
                    cc,
                    None,
                    None,
                    latency,
                    f'{{"endpoint":"{API_ENDPOINTS[k]}","http_status":{code}}}',
                )
            else:
                emit(
                    t,
                    tid,
                    None,
                    "partners",
                    "api_request",
                    owner,
                    None,
                    "api",
                    API_ENDPOINTS[k],
                    "success",
                    None,
                    None,
                    cc,
                    None,
                    None,
                    latency,
                    _API_OK[k],
                )

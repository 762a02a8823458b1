"""Platform: a consumer app's orders, payments, calls, notifications, content and moderation (events_raw)."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate

from ._common import (
    _HOUR_TABLES,
    DAY,
    HOUR,
    MINUTE,
    PLATFORM_COUNTRIES,
    _Ctx,
    _dumps,
    _lognormal_seconds,
    _moment,
    _poisson,
    _Population,
    _Tenant,
    _uuid4_str,
    _weighted,
)
from ._sinks import _EventSink

# volumes per unit of scale (see the package docstring)
PLATFORM_ORDERS_PER_DAY = 25.0
PLATFORM_TOPUPS_PER_DAY = 4.0
PLATFORM_CALLS_PER_DAY = 15.0
PLATFORM_NOTIFICATIONS_PER_DAY = 80.0
PLATFORM_PLAYS_PER_DAY = 60.0
PLATFORM_FLAGS_PER_DAY = 2.0
PLATFORM_USERS_BASE = 300.0
PLATFORM_USERS_PER_DAY = 40.0

SERVICE_CODES = ("tarot", "astrology", "healing", "coffee_cup", "dream_interpretation")
SERVICE_WEIGHTS = (40, 25, 15, 12, 8)
SERVICE_PRICES = {
    "tarot": (1500, 2500, 4000),
    "astrology": (2000, 3500, 6000),
    "healing": (3000, 5000),
    "coffee_cup": (1000, 1500),
    "dream_interpretation": (1200, 2000),
}
ZODIAC = (
    "aries",
    "taurus",
    "gemini",
    "cancer",
    "leo",
    "virgo",
    "libra",
    "scorpio",
    "sagittarius",
    "capricorn",
    "aquarius",
    "pisces",
)

_SERVICE_CUM = tuple(accumulate(SERVICE_WEIGHTS))
_NOT_FALLBACK = '{"is_fallback":false}'
_IS_FALLBACK = '{"is_fallback":true}'
_RECORDED = ('{"recorded":false}', '{"recorded":true}')
_ZODIAC_META = tuple(f'{{"zodiac_sign":"{z}"}}' for z in ZODIAC)


def _service(rand: Callable[[], float]) -> str:
    """A service code drawn by ``SERVICE_WEIGHTS``."""
    return SERVICE_CODES[bisect_right(_SERVICE_CUM, rand() * _SERVICE_CUM[-1])]


def write_events(ctx: _Ctx, tp: _Tenant, ev: _EventSink) -> None:
    """Write a platform tenant's events, day by day.

    Orders with their payments, wallet top-ups, calls, notifications, horoscope
    uploads and plays, and moderation, by a population of users.

    Args:
        ctx (_Ctx): the run context.
        tp (_Tenant): the platform tenant's plan.
        ev (_EventSink): the events_raw writer; bound to this tenant's event RNG.
    """
    _Platform(ctx, tp, ev).write_days()


class _Platform:
    """One platform tenant's event writer: its users, readers and staff, and the ids issued so far."""

    def __init__(self, ctx: _Ctx, tp: _Tenant, ev: _EventSink) -> None:
        rng = ctx.rng("events", tp.tenant_id)
        ev.bind(rng)
        s = ctx.scale
        end = ctx.end
        pop = _Population(
            rng,
            int(math.ceil(s * (PLATFORM_USERS_BASE + PLATFORM_USERS_PER_DAY * ctx.days))),
            end,
            initial_share=0.10,
            initial_span=3 * DAY,
            alpha=1.15,
            cap=400.0,
            zero_share=0.0,
        )
        bits = rng.getrandbits
        users = [_uuid4_str(bits(128)) for _ in range(pop.size)]
        countries = [_weighted(rng, PLATFORM_COUNTRIES) for _ in range(pop.size)]
        pop.avail = [bisect_left(pop.join, d * DAY + DAY) for d in range(ctx.days + 2)]
        readers = [f"rdr_{bits(40):010x}" for _ in range(8 + int(rng.random() * 20))]
        staff = [f"stf_{bits(40):010x}" for _ in range(3)]
        self.ctx, self.ev, self.emit = ctx, ev, ev.emit
        self.rng, self.rand, self.bits = rng, rng.random, bits
        self.tid, self.gi, self.scale = tp.tenant_id, tp.gindex, s
        self.pop, self.pick = pop, pop.pick
        self.users, self.countries, self.readers, self.staff = users, countries, readers, staff
        self.hours = _HOUR_TABLES["consumer"]
        self.seq = {"ord": 0, "pay": 0, "call": 0, "ntf": 0, "flag": 0}
        self.play_meta: dict[tuple[int, int], str] = {}
        # appeal reviews: a stream of their own, so adding them changed no other event
        self.appeal_rng = ctx.rng("appeals", tp.tenant_id)

    def write_days(self) -> None:
        """Write every day's events, section by section."""
        ctx, pop = self.ctx, self.pop
        for d in range(ctx.days):
            day0 = d * DAY
            hi = pop.avail[d]
            lo = pop.avail[max(0, d - 14)]
            f = ctx.season("platform", d) * ctx.trend[d]
            self.orders(day0, hi, lo, f)
            self.topups(day0, hi, lo, f)
            self.calls(day0, hi, lo, f)
            self.notifications(day0, hi, lo, f)
            published = self.horoscopes(d)
            if published:
                self.plays(day0, hi, lo, f, published)
            self.moderation(day0, hi, lo, f)
            self.ev.maybe_flush()

    def sid(self) -> str:
        """A new session id."""
        return f"s_{self.bits(48):012x}"

    def payment(self, t: int, user: str, cc: str, amount: int, svc: str | None, order_id: str | None) -> bool:
        """attempt -> success, or failure then a fallback provider; returns success."""
        emit, tid, rng, rand, seq, gi = self.emit, self.tid, self.rng, self.rand, self.seq, self.gi
        seq["pay"] += 1
        pid = f"pay_{gi:03d}{seq['pay']:09d}"
        x = rand()
        provider = "stripe" if x < 0.6 else ("square" if x < 0.85 else "paypal")
        for attempt in range(2):
            meta = _NOT_FALLBACK if attempt == 0 else _IS_FALLBACK
            if not emit(
                t,
                tid,
                None,
                "payments",
                "payment_attempted",
                user,
                None,
                "payment",
                pid,
                "attempted",
                provider,
                svc,
                cc,
                amount,
                "USD",
                None,
                meta,
            ):
                return False
            t += 1 + int(rand() * 8)
            fail_p = 0.09 if attempt == 0 else 0.12
            if rand() < fail_p:
                emit(
                    t,
                    tid,
                    None,
                    "payments",
                    "payment_failed",
                    user,
                    None,
                    "payment",
                    pid,
                    "failed",
                    provider,
                    svc,
                    cc,
                    amount,
                    "USD",
                    None,
                    _dumps(
                        {
                            "error_code": rng.choice(("card_declined", "insufficient_funds", "network_error")),
                            "is_fallback": attempt == 1,
                        }
                    ),
                )
                if attempt == 0 and rand() < 0.75:
                    provider = "square" if provider == "stripe" else "stripe"
                    t += 5 + int(rand() * 60)
                    continue
                return False
            emit(
                t,
                tid,
                None,
                "payments",
                "payment_succeeded",
                user,
                None,
                "payment",
                pid,
                "succeeded",
                provider,
                svc,
                cc,
                amount,
                "USD",
                None,
                meta if order_id is None else _dumps({"is_fallback": attempt == 1, "order_id": order_id}),
            )
            if rand() < 0.03:
                rt = t + _lognormal_seconds(rng, 2 * DAY, 1.0, HOUR, 20 * DAY)
                ramount = amount if rand() < 0.7 else max(100, amount // 2)
                emit(
                    rt,
                    tid,
                    None,
                    "payments",
                    "refund_issued",
                    user,
                    None,
                    "payment",
                    pid,
                    "refunded",
                    provider,
                    svc,
                    cc,
                    ramount,
                    "USD",
                    None,
                    _dumps({"reason": rng.choice(("customer_request", "service_issue"))}),
                )
            return True
        return False

    def orders(self, day0: int, hi: int, lo: int, f: float) -> None:
        """Orders of the day starting at ``day0``.

        ``f`` is the day's season x trend; users are drawn among the first ``hi``
        members of the population (recent ones from ``lo``), as in every section.
        """
        rng, pick, users, countries = self.rng, self.pick, self.users, self.countries
        for _ in range(_poisson(rng, PLATFORM_ORDERS_PER_DAY * self.scale * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            self.order(day0, users[i], countries[i])

    def order(self, day0: int, user: str, cc: str) -> None:
        """One order: created, paid (else cancelled), assigned to a reader, reviewed, completed."""
        emit, tid, rng, rand, hours, seq, gi = self.emit, self.tid, self.rng, self.rand, self.hours, self.seq, self.gi
        t = _moment(rand, day0, hours)
        svc = _service(rand)
        prices = SERVICE_PRICES[svc]
        amount = prices[int(rand() * len(prices))]
        seq["ord"] += 1
        oid = f"ord_{gi:03d}{seq['ord']:08d}"
        sess = self.sid()
        if not emit(
            t,
            tid,
            None,
            "orders",
            "order_created",
            user,
            sess,
            "order",
            oid,
            "new",
            None,
            svc,
            cc,
            amount,
            "USD",
            None,
            '{"is_gold":true}' if rand() < 0.12 else '{"is_gold":false}',
        ):
            return
        paid = self.payment(t + 5 + int(rand() * 90), user, cc, amount, svc, oid)
        if not paid or rand() < 0.04:
            emit(
                t + 10 * MINUTE + int(rand() * 2 * HOUR),
                tid,
                None,
                "orders",
                "order_cancelled",
                user,
                sess,
                "order",
                oid,
                "cancelled",
                None,
                svc,
                cc,
                None,
                None,
                None,
                '{"reason":"payment_failed"}' if not paid else '{"reason":"client_request"}',
            )
            return
        t += _lognormal_seconds(rng, 12 * MINUTE, 1.0, 30, 12 * HOUR)
        reader = self.readers[int(rand() * rand() * len(self.readers))]
        if not emit(
            t,
            tid,
            None,
            "orders",
            "order_assigned",
            user,
            None,
            "order",
            oid,
            "assigned",
            None,
            svc,
            cc,
            None,
            None,
            None,
            f'{{"reader_id":"{reader}"}}',
        ):
            return
        if rand() < 0.03:
            emit(
                t + int(rand() * 6 * HOUR),
                tid,
                None,
                "orders",
                "order_cancelled",
                user,
                None,
                "order",
                oid,
                "cancelled",
                None,
                svc,
                cc,
                None,
                None,
                None,
                '{"reason":"reader_unavailable"}',
            )
            return
        t, approved = self.review(t, user, oid, svc, cc)
        if approved:
            t += _lognormal_seconds(rng, 5 * MINUTE, 1.0, 10, 3 * HOUR)
            emit(
                t,
                tid,
                None,
                "orders",
                "order_completed",
                user,
                None,
                "order",
                oid,
                "completed",
                None,
                svc,
                cc,
                amount,
                "USD",
                None,
                None,
            )

    def review(self, t: int, user: str, oid: str, svc: str, cc: str) -> tuple[int, bool]:
        """Submit the reading, up to three times until approved; returns (last event time, approved)."""
        emit, tid, rng, rand = self.emit, self.tid, self.rng, self.rand
        approved = False
        for _loop in range(3):
            t += _lognormal_seconds(rng, 2 * HOUR, 1.0, 5 * MINUTE, 2 * DAY)
            if not emit(
                t,
                tid,
                None,
                "orders",
                "order_submitted",
                user,
                None,
                "order",
                oid,
                "submitted",
                None,
                svc,
                cc,
                None,
                None,
                None,
                None,
            ):
                break
            t += _lognormal_seconds(rng, 40 * MINUTE, 1.0, 2 * MINUTE, DAY)
            if rand() < 0.86 or _loop == 2:
                approved = emit(
                    t,
                    tid,
                    None,
                    "orders",
                    "order_approved",
                    user,
                    None,
                    "order",
                    oid,
                    "approved",
                    None,
                    svc,
                    cc,
                    None,
                    None,
                    None,
                    None,
                )
                break
            if not emit(
                t,
                tid,
                None,
                "orders",
                "order_rejected",
                user,
                None,
                "order",
                oid,
                "rejected",
                None,
                svc,
                cc,
                None,
                None,
                None,
                _dumps({"reason": rng.choice(("too_short", "off_topic", "quality"))}),
            ):
                break
        return t, approved

    def topups(self, day0: int, hi: int, lo: int, f: float) -> None:
        """Wallet top-ups of the day: payments without an order."""
        rng, rand, pick, hours = self.rng, self.rand, self.pick, self.hours
        users, countries = self.users, self.countries
        for _ in range(_poisson(rng, PLATFORM_TOPUPS_PER_DAY * self.scale * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            self.payment(
                _moment(rand, day0, hours),
                users[i],
                countries[i],
                (1000, 2000, 5000, 10000)[int(rand() * 4)],
                None,
                None,
            )

    def calls(self, day0: int, hi: int, lo: int, f: float) -> None:
        """Calls of the day: started, answered (85 %), then ended or dropped."""
        emit, tid, rng, rand, pick, hours = self.emit, self.tid, self.rng, self.rand, self.pick, self.hours
        users, countries, seq, gi = self.users, self.countries, self.seq, self.gi
        for _ in range(_poisson(rng, PLATFORM_CALLS_PER_DAY * self.scale * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            user, cc = users[i], countries[i]
            t = _moment(rand, day0, hours)
            seq["call"] += 1
            cid = f"call_{gi:03d}{seq['call']:08d}"
            svc = _service(rand)
            if not emit(
                t,
                tid,
                None,
                "calls",
                "call_started",
                user,
                None,
                "call",
                cid,
                "ringing",
                "twilio",
                svc,
                cc,
                None,
                None,
                None,
                None,
            ):
                continue
            if rand() < 0.15:
                continue  # missed
            t += 3 + int(rand() * 40)
            if not emit(
                t,
                tid,
                None,
                "calls",
                "call_answered",
                user,
                None,
                "call",
                cid,
                "answered",
                "twilio",
                svc,
                cc,
                None,
                None,
                None,
                None,
            ):
                continue
            dur = round(min(7200.0, max(5.0, 600.0 * math.exp(rng.gauss(0.0, 0.8)))), 3)
            if rand() < 0.1:
                dur = round(dur * rand(), 3)
                emit(
                    t + int(dur),
                    tid,
                    None,
                    "calls",
                    "call_dropped",
                    user,
                    None,
                    "call",
                    cid,
                    "dropped",
                    "twilio",
                    svc,
                    cc,
                    None,
                    None,
                    dur,
                    _dumps({"reason": rng.choice(("network", "client_hangup_error"))}),
                )
            else:
                emit(
                    t + int(dur),
                    tid,
                    None,
                    "calls",
                    "call_ended",
                    user,
                    None,
                    "call",
                    cid,
                    "ended",
                    "twilio",
                    svc,
                    cc,
                    None,
                    None,
                    dur,
                    _RECORDED[rand() < 0.6],
                )

    def notifications(self, day0: int, hi: int, lo: int, f: float) -> None:
        """Notifications of the day: sent, then opted out, or delivered and sometimes opened."""
        emit, tid, rng, rand, pick, hours = self.emit, self.tid, self.rng, self.rand, self.pick, self.hours
        users, countries, seq, gi = self.users, self.countries, self.seq, self.gi
        for _ in range(_poisson(rng, PLATFORM_NOTIFICATIONS_PER_DAY * self.scale * f)):
            i = pick(rng, hi, lo, 0.2)
            if i < 0:
                continue
            user, cc = users[i], countries[i]
            t = _moment(rand, day0, hours)
            seq["ntf"] += 1
            nid = f"ntf_{gi:03d}{seq['ntf']:09d}"
            x = rand()
            if x < 0.7:
                channel, provider = "push", "fcm"
            elif x < 0.9:
                channel, provider = "email", "sendgrid"
            else:
                channel, provider = "sms", "twilio"
            template = "daily_horoscope" if rand() < 0.6 else "order_update"
            if channel == "sms" and rand() < 0.1:
                meta = _dumps({"channel": channel, "phone": f"+966-5{int(rand() * 1e8):08d}", "template": template})
            else:
                meta = f'{{"channel":"{channel}","template":"{template}"}}'
            if not emit(
                t,
                tid,
                None,
                "notifications",
                "notification_sent",
                user,
                None,
                "notification",
                nid,
                "sent",
                provider,
                None,
                cc,
                None,
                None,
                None,
                meta,
            ):
                continue
            if rand() < 0.003:
                emit(
                    t + 30 + int(rand() * HOUR),
                    tid,
                    None,
                    "notifications",
                    "notification_opted_out",
                    user,
                    None,
                    "notification",
                    nid,
                    "opted_out",
                    provider,
                    None,
                    cc,
                    None,
                    None,
                    None,
                    f'{{"channel":"{channel}"}}',
                )
                continue
            if rand() < 0.95:
                t += 1 + int(rand() * rand() * 300)
                if (
                    emit(
                        t,
                        tid,
                        None,
                        "notifications",
                        "notification_delivered",
                        user,
                        None,
                        "notification",
                        nid,
                        "delivered",
                        provider,
                        None,
                        cc,
                        None,
                        None,
                        None,
                        None,
                    )
                    and rand() < 0.22
                ):
                    emit(
                        t + _lognormal_seconds(rng, 20 * MINUTE, 1.4, 5, 2 * DAY),
                        tid,
                        None,
                        "notifications",
                        "notification_opened",
                        user,
                        None,
                        "notification",
                        nid,
                        "opened",
                        provider,
                        None,
                        cc,
                        None,
                        None,
                        None,
                        None,
                    )

    def horoscopes(self, d: int) -> list[tuple[str, int, int]]:
        """Day ``d``'s horoscopes, one per sign (coverage sometimes < 12).

        Returns:
            list[tuple[str, int, int]]: the published ones as (horoscope id, sign index, published at).
        """
        rng, rand = self.rng, self.rand
        day_tag = self.ctx.day_str[d][:10].replace("-", "")
        nsigns = 12 if rand() < 0.85 else 9 + int(rand() * 3)
        published: list[tuple[str, int, int]] = []
        for z in sorted(rng.sample(range(12), nsigns)):
            p = self.horoscope(d * DAY, day_tag, z)
            if p is not None:
                published.append(p)
        return published

    def horoscope(self, day0: int, day_tag: str, z: int) -> tuple[str, int, int] | None:
        """Sign ``z``'s horoscope of the day: uploaded and reviewed (again after a rejection), then published.

        Returns:
            tuple[str, int, int] | None: (horoscope id, z, published at), or None if it is not
            published within the window.
        """
        emit, tid, rng, rand, staff = self.emit, self.tid, self.rng, self.rand, self.staff
        hid = f"horo_{tid}_{day_tag}_{ZODIAC[z]}"
        t = day0 + int(rand() * 5 * HOUR)
        up = staff[int(rand() * 3)]
        for attempt in range(3):
            if not emit(
                t,
                tid,
                None,
                "content",
                "horoscope_uploaded",
                up,
                None,
                "horoscope",
                hid,
                "uploaded",
                None,
                None,
                None,
                None,
                None,
                None,
                _ZODIAC_META[z],
            ):
                break
            t += _lognormal_seconds(rng, 45 * MINUTE, 0.9, 2 * MINUTE, 10 * HOUR)
            if rand() < 0.93 or attempt == 2:
                if emit(
                    t,
                    tid,
                    None,
                    "content",
                    "horoscope_approved",
                    staff[0],
                    None,
                    "horoscope",
                    hid,
                    "approved",
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    _ZODIAC_META[z],
                ):
                    t += 30 + int(rand() * 20 * MINUTE)
                    if emit(
                        t,
                        tid,
                        None,
                        "content",
                        "horoscope_published",
                        None,
                        None,
                        "horoscope",
                        hid,
                        "published",
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        _ZODIAC_META[z],
                    ):
                        return hid, z, t
                break
            emit(
                t,
                tid,
                None,
                "content",
                "horoscope_rejected",
                staff[0],
                None,
                "horoscope",
                hid,
                "rejected",
                None,
                None,
                None,
                None,
                None,
                None,
                _dumps({"reason": "audio_quality", "zodiac_sign": ZODIAC[z]}),
            )
            t += _lognormal_seconds(rng, HOUR, 0.7, 10 * MINUTE, 6 * HOUR)
        return None

    def plays(self, day0: int, hi: int, lo: int, f: float, published: list[tuple[str, int, int]]) -> None:
        """Plays of the day's published horoscopes, each after its publication."""
        emit, tid, rng, rand, pick, hours = self.emit, self.tid, self.rng, self.rand, self.pick, self.hours
        users, countries, play_meta = self.users, self.countries, self.play_meta
        for _ in range(_poisson(rng, PLATFORM_PLAYS_PER_DAY * self.scale * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            hid, z, pt = published[int(rand() * len(published))]
            t = _moment(rand, day0, hours)
            if t <= pt:
                t = pt + 1 + int(rand() * 2 * HOUR)
            pct = int(100 * (rand() ** 0.45)) if rand() < 0.8 else int(rand() * 40)
            key = (pct, z)
            meta = play_meta.get(key)
            if meta is None:
                meta = play_meta[key] = f'{{"listen_pct":{pct},"zodiac_sign":"{ZODIAC[z]}"}}'
            emit(
                t,
                tid,
                None,
                "content",
                "horoscope_played",
                users[i],
                self.sid(),
                "horoscope",
                hid,
                "played",
                None,
                None,
                countries[i],
                None,
                None,
                round(180.0 * pct / 100.0, 3),
                meta,
            )

    def moderation(self, day0: int, hi: int, lo: int, f: float) -> None:
        """Content flags of the day: flagged, decided by staff, and some removals appealed."""
        emit, tid, rng, rand, pick, hours = self.emit, self.tid, self.rng, self.rand, self.pick, self.hours
        users, countries, staff, seq, gi = self.users, self.countries, self.staff, self.seq, self.gi
        for _ in range(_poisson(rng, PLATFORM_FLAGS_PER_DAY * self.scale * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            seq["flag"] += 1
            fid = f"flag_{gi:03d}{seq['flag']:07d}"
            t = _moment(rand, day0, hours)
            kind = rng.choice(("review", "message", "profile"))
            meta = {"reason": rng.choice(("spam", "abuse", "off_platform_contact", "other"))}
            if meta["reason"] == "off_platform_contact" and rand() < 0.5:
                meta["email"] = f"reader{int(rand() * 999)}@example.com"
            if not emit(
                t,
                tid,
                None,
                "moderation",
                "content_flagged",
                users[i],
                None,
                kind,
                fid,
                "flagged",
                None,
                None,
                countries[i],
                None,
                None,
                None,
                _dumps(meta),
            ):
                continue
            t += _lognormal_seconds(rng, 3 * HOUR, 1.0, 5 * MINUTE, 3 * DAY)
            removed = rand() < 0.4
            if (
                emit(
                    t,
                    tid,
                    None,
                    "moderation",
                    "moderation_decision",
                    staff[1],
                    None,
                    kind,
                    fid,
                    "removed" if removed else "approved",
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                )
                and removed
                and rand() < 0.15
            ):
                ta = t + _lognormal_seconds(rng, 8 * HOUR, 1.0, 10 * MINUTE, 5 * DAY)
                if emit(
                    ta,
                    tid,
                    None,
                    "moderation",
                    "appeal_submitted",
                    users[i],
                    None,
                    kind,
                    fid,
                    "appealed",
                    None,
                    None,
                    countries[i],
                    None,
                    None,
                    None,
                    None,
                ):
                    self.appeal_review(ta, kind, fid)

    def appeal_review(self, ta: int, kind: str, fid: str) -> None:
        """The moderator's review of an appeal submitted at ``ta``: a second moderation_decision.

        ``approved`` reinstates the content (the removal is overturned, 30 %), ``removed``
        upholds it. Drawn from a random stream of its own (``appeals``), bound to the
        event writer only for this event: every other event of the tenant stays exactly
        what it was before appeal reviews were generated.
        """
        ev, rng = self.ev, self.appeal_rng
        ev.bind(rng)
        try:
            tr = ta + _lognormal_seconds(rng, 6 * HOUR, 1.0, 10 * MINUTE, 4 * DAY)
            overturned = rng.random() < 0.3
            ev.emit(
                tr,
                self.tid,
                None,
                "moderation",
                "moderation_decision",
                self.staff[1],
                None,
                kind,
                fid,
                "approved" if overturned else "removed",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
        finally:
            ev.bind(self.rng)

"""Loyalty: merchant tenants' onboarding and their point transactions (events_raw)."""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable

from ._common import (
    _HOUR_TABLES,
    DAY,
    HOUR,
    LOCATION_NAMES,
    MINUTE,
    _Ctx,
    _dumps,
    _lognormal_seconds,
    _moment,
    _poisson,
    _Population,
    _Tenant,
    _weighted_index,
)
from ._sinks import _EventSink

# volumes per unit of scale (see the package docstring)
MERCHANT_TX_PER_LOCATION_DAY = 30.0
MERCHANT_CUSTOMERS_BASE = 60.0
MERCHANT_CUSTOMERS_PER_DAY = 2.5
SCAN_ERRORS = ("expired_qr", "insufficient_balance", "unauthorized_device")
REWARD_COSTS = (50, 80, 100, 150, 200, 300, 500)
_ISSUE_META = tuple(f'{{"points":{p}}}' for p in range(0, 200))  # by points issued


def plan_merchant(ctx: _Ctx, rng: random.Random, tp: _Tenant) -> None:
    """Plan a merchant's onboarding: sign-up, locations, staff invites and devices.

    Merchant 1 signs up in the window's first hours and never stops early;
    the others sign up in the first half of the window and 24 % stop early
    (after their first location, or after inviting staff). A location goes live when its
    device is registered.

    Args:
        ctx (_Ctx): the run context (window end).
        rng (random.Random): the tenant's plan RNG (draws continue from the caller's).
        tp (_Tenant): the merchant's plan; sets ``signed_up_at``, ``locations``,
            ``onboarding``, ``golive``, ``updated_at`` and ``status`` (active | onboarding).
    """
    end = ctx.end
    if tp.index == 1:
        t0 = int(HOUR + rng.random() * 3 * HOUR)
    else:
        t0 = int(rng.random() * 0.5 * end)
    t0 = min(end - 1, t0)
    tp.signed_up_at = t0
    nloc = 1 + _weighted_index(rng, (0.3, 0.3, 0.25, 0.15))
    r = rng.random()
    stop = "none" if tp.index == 1 else ("location" if r < 0.12 else ("staff" if r < 0.24 else "none"))
    if stop != "none":
        nloc = 1
    ob = tp.onboarding
    ob.append((t0, "merchant_signed_up", None, "merchant", tp.tenant_id))
    t = t0 + _lognormal_seconds(rng, 25 * MINUTE, 1.0, 2 * MINUTE, 2 * DAY)
    locs = []
    for k in range(1, nloc + 1):
        lid = f"loc_{tp.tenant_id}_{k}"
        locs.append((lid, t))
        ob.append((t, "location_created", lid, "location", lid))
        if t < end:
            tp.locations.append((lid, f"{tp.name} {LOCATION_NAMES[k - 1]}", t))
        t += _lognormal_seconds(rng, 2 * DAY, 1.0, HOUR, 20 * DAY)
    staff_t = locs[0][1]
    if stop != "location":
        for _ in range(1 + _weighted_index(rng, (0.5, 0.3, 0.2))):
            staff_t += _lognormal_seconds(rng, 90 * MINUTE, 1.1, 5 * MINUTE, 3 * DAY)
            ob.append((staff_t, "staff_invited", locs[0][0], "staff", f"stf_{rng.getrandbits(40):010x}"))
        if stop != "staff":
            for lid, lt in locs:
                dt = max(lt, staff_t) + _lognormal_seconds(rng, 3 * HOUR, 1.0, 10 * MINUTE, 4 * DAY)
                ob.append((dt, "device_registered", lid, "device", f"dev_{rng.getrandbits(40):010x}"))
                if dt < end:
                    tp.golive[lid] = dt
    done = [x[0] for x in ob if x[0] < end]
    tp.updated_at = max(done) if done else t0
    tp.status = "active" if tp.golive else "onboarding"


def write_events(ctx: _Ctx, tp: _Tenant, ev: _EventSink) -> None:
    """Write a merchant's loyalty events: its onboarding, then point transactions per live location and day.

    Args:
        ctx (_Ctx): the run context.
        tp (_Tenant): the merchant's plan (from ``plan_merchant``).
        ev (_EventSink): the events_raw writer; bound to this tenant's event RNG.
    """
    rng = ctx.rng("events", tp.tenant_id)
    ev.bind(rng)
    _onboarding_events(tp, ev.emit)
    if not tp.golive:
        ev.maybe_flush()
        return
    _Merchant(ctx, tp, ev, rng).write_days()


def _onboarding_events(tp: _Tenant, emit: Callable[..., bool]) -> None:
    """The merchant's onboarding steps (planned by ``plan_merchant``) as events by its owner."""
    tid, cc = tp.tenant_id, tp.country
    for t, etype, lid, etype_entity, eid in tp.onboarding:
        meta = '{"plan":"pilot"}' if etype == "merchant_signed_up" else None
        emit(
            t,
            tid,
            lid,
            "loyalty",
            etype,
            tp.owner_id,
            None,
            etype_entity,
            eid,
            None,
            None,
            None,
            cc,
            None,
            None,
            None,
            meta,
        )


def _customers(ctx: _Ctx, rng: random.Random, tp: _Tenant) -> tuple[_Population, list[str]]:
    """The merchant's customers, first seen from the day its first location goes live.

    Returns:
        tuple[_Population, list[str]]: the population (``avail`` per day) and its user ids.
    """
    s = ctx.scale
    nlive = len(tp.golive)
    size = int(math.ceil(s * nlive * (MERCHANT_CUSTOMERS_BASE + MERCHANT_CUSTOMERS_PER_DAY * ctx.days)))
    pop = _Population(
        rng, size, ctx.end, initial_share=0.25, initial_span=7 * DAY, alpha=1.3, cap=300.0, zero_share=0.0
    )
    users = [f"u_{rng.getrandbits(64):016x}" for _ in range(pop.size)]
    first_live = min(tp.golive.values())
    # shift joins to after the merchant goes live: members are "first seen" from then on
    span = max(1, ctx.end - first_live)
    pop_join_offset = [first_live + int(j * span / ctx.end) for j in pop.join]
    pop.avail = [bisect_left(pop_join_offset, d * DAY + DAY) for d in range(ctx.days + 2)]
    return pop, users


def _rewards(rng: random.Random, tid: str) -> tuple[list[float], list[str]]:
    """The merchant's 2-5 rewards, each at a random point cost; the k-th is redeemed with weight 1 / k ** 1.1.

    Returns:
        tuple[list[float], list[str]]: cumulative redemption weights, and each reward's
        ``points_redeemed`` metadata.
    """
    rewards = []
    for k in range(1, 3 + int(rng.random() * 4)):
        rewards.append((f"rw_{tid}_{k:02d}", rng.choice(REWARD_COSTS)))
    reward_cum = []
    acc = 0.0
    for k in range(len(rewards)):
        acc += 1.0 / (k + 1) ** 1.1
        reward_cum.append(acc)
    redeem_meta = [f'{{"points":{cost},"reward_id":"{rid}"}}' for rid, cost in rewards]
    return reward_cum, redeem_meta


class _Merchant:
    """A live merchant's transaction writer: its customers, rewards and live locations."""

    def __init__(self, ctx: _Ctx, tp: _Tenant, ev: _EventSink, rng: random.Random) -> None:
        self.pop, self.users = _customers(ctx, rng, tp)
        self.reward_cum, self.redeem_meta = _rewards(rng, tp.tenant_id)
        # (location id, live from, volume factor, share of scan errors)
        self.locs = [
            (lid, golive, 0.6 + 0.8 * rng.random(), 0.02 + 0.03 * rng.random()) for lid, golive in tp.golive.items()
        ]
        self.ctx, self.ev, self.emit, self.rng, self.rand = ctx, ev, ev.emit, rng, rng.random
        self.tid, self.cc, self.cur = tp.tenant_id, tp.country, tp.currency
        self.tx_seq = 0
        self.tx_prefix = f"tx_{tp.gindex:03d}"
        self.recent_issues: list[tuple[str, int]] = []  # up to 64 (transaction id, points) that may be reversed

    def write_days(self) -> None:
        """Every day's transactions at every live location (ramping up over its first 14 days)."""
        ctx, rng, rand, pop, users = self.ctx, self.rng, self.rand, self.pop, self.users
        pick = pop.pick
        hours = _HOUR_TABLES["retail"]
        base = MERCHANT_TX_PER_LOCATION_DAY * ctx.scale
        transaction = self.transaction
        for d in range(ctx.days):
            day0 = d * DAY
            hi = pop.avail[d]
            lo = pop.avail[max(0, d - 14)]
            seasonal = ctx.season("merchant", d) * ctx.trend[d]
            for lid, golive, factor, err_share in self.locs:
                if golive >= day0 + DAY:
                    continue
                age_days = max(0.0, (day0 - golive) / DAY)
                ramp = 0.3 + 0.7 * min(1.0, age_days / 14.0)
                n = _poisson(rng, base * seasonal * factor * ramp)
                for _ in range(n):
                    t = _moment(rand, day0, hours)
                    if t < golive:
                        continue
                    i = pick(rng, hi, lo)
                    if i < 0:
                        continue
                    transaction(t, lid, err_share, users[i])
            self.ev.maybe_flush()

    def transaction(self, t: int, lid: str, err_share: float, user: str) -> None:
        """One transaction by ``user`` at location ``lid``, at second offset ``t``.

        A scan error (a share ``err_share`` of them), else points issued (~71 %),
        redeemed (~22 %) or adjusted, or a reversal of a recent issue.
        """
        emit, rand, tid, cc, cur = self.emit, self.rand, self.tid, self.cc, self.cur
        r = rand()
        self.tx_seq += 1
        tx_seq = self.tx_seq
        txid = f"{self.tx_prefix}{tx_seq:09d}"
        if r < err_share:
            x = rand()
            code = "expired_qr" if x < 0.55 else ("insufficient_balance" if x < 0.85 else "unauthorized_device")
            emit(
                t,
                tid,
                lid,
                "loyalty",
                "scan_error",
                user,
                None,
                "scan",
                txid,
                code,
                None,
                None,
                cc,
                None,
                None,
                None,
                None,
            )
        elif r < 0.745:
            amount = 300 + int(rand() * rand() * 4500)
            points = amount // 100
            if emit(
                t,
                tid,
                lid,
                "loyalty",
                "points_issued",
                user,
                None,
                "transaction",
                txid,
                None,
                None,
                None,
                cc,
                amount,
                cur,
                None,
                _ISSUE_META[points if points < 200 else 199],
            ):
                if len(self.recent_issues) < 64:
                    self.recent_issues.append((txid, points))
                else:
                    self.recent_issues[tx_seq & 63] = (txid, points)
        elif r < 0.965:
            reward_cum = self.reward_cum
            k = bisect_right(reward_cum, rand() * reward_cum[-1])
            if k >= len(reward_cum):
                k = len(reward_cum) - 1
            emit(
                t,
                tid,
                lid,
                "loyalty",
                "points_redeemed",
                user,
                None,
                "transaction",
                txid,
                None,
                None,
                None,
                cc,
                None,
                None,
                None,
                self.redeem_meta[k],
            )
        elif r < 0.983:
            delta = self.rng.choice((-50, -20, -10, 5, 10, 20, 25, 50))
            emit(
                t,
                tid,
                lid,
                "loyalty",
                "points_adjusted",
                user,
                None,
                "transaction",
                txid,
                None,
                None,
                None,
                cc,
                None,
                None,
                None,
                _dumps({"points": delta, "reason": "staff_correction"}),
            )
        elif self.recent_issues:
            orig, pts = self.recent_issues[int(rand() * len(self.recent_issues))]
            emit(
                t,
                tid,
                lid,
                "loyalty",
                "transaction_reversed",
                user,
                None,
                "transaction",
                txid,
                None,
                None,
                None,
                cc,
                None,
                None,
                None,
                _dumps({"points": -pts, "reversed_entity_id": orig}),
            )

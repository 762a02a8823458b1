"""Marketplace: escrow deals, their state changes, disputes with evidence, and the ledger.

Marketplace conventions (seed 003)
----------------------------------
Deal states CREATED -> FUNDED -> INSPECTION -> SETTLED, or INSPECTION ->
DISPUTED -> SETTLED | REFUNDED. About 6 % of deals stay CREATED and 3 % stay
FUNDED (stuck); deals whose next step falls after the window stay open. A first
dispute that an admin resolves with RELEASE_TO_SELLER sometimes (30 %) sends
the deal back to INSPECTION, where the buyer may dispute again (deals disputed
twice). Unresolved disputes have NULL resolved_at/outcome/resolved_by; a
dispute resolved by the timer (resolved_by 'timer', at opened_at + dispute
TTL) is released to the seller. ``template_version`` is 1 for deals created
before ``start + days // 2`` and 2 from then on:

* v1: inspection 3 days, dispute TTL 48 h, immediate 85 % / holdback 15 %,
  holdback released 7 days after settlement;
* v2: inspection 2 days, dispute TTL 36 h, immediate 90 % / holdback 10 %,
  holdback released 5 days after settlement.

Ledger sign convention: amounts are seen from the escrow account. ``HOLD`` is
positive (+amount into escrow when the deal is FUNDED); ``IMMEDIATE_RELEASE``,
``HOLDBACK_RELEASE`` and ``REFUND`` are negative (out of escrow). For a settled
remainder ``m`` (amount minus any partial refund) ``immediate = round_half_up(m
* pct / 100)`` as integer cents and ``holdback = m - immediate``. A deal is
*closed* when it is REFUNDED or SETTLED with its HOLDBACK_RELEASE booked; the
entries of a closed deal sum to zero.
"""

from __future__ import annotations

import math

from ._common import (
    _HOUR_TABLES,
    DAY,
    HOUR,
    MINUTE,
    _Ctx,
    _lognormal_seconds,
    _moment,
    _poisson,
    _round_half_up_pct,
    _Tenant,
    _weighted,
    _weighted_index,
)

# volumes per unit of scale (see the package docstring)
MARKET_DEALS_PER_DAY = 3.0
DEAL_STATES = ("CREATED", "FUNDED", "INSPECTION", "DISPUTED", "SETTLED", "REFUNDED")
DISPUTE_OUTCOMES = ("RELEASE_TO_SELLER", "REFUND_BUYER", "PARTIAL_REFUND")
LEDGER_TYPES = ("HOLD", "IMMEDIATE_RELEASE", "HOLDBACK_RELEASE", "REFUND")

TEMPLATES = {  # version -> (inspection days, dispute TTL hours, immediate %, holdback release days)
    1: (3, 48, 85, 7),
    2: (2, 36, 90, 5),
}

DEAL_CATEGORIES = (
    ("USED_CAR_PRIVATE", 85),
    ("MOTORCYCLE_PRIVATE", 8),
    ("HEAVY_EQUIPMENT_PRIVATE", 4),
    ("ELECTRONICS_PRIVATE", 3),
)
DEAL_COUNTRIES = (("MN", 92), ("KZ", 5), ("UZ", 3))
DEAL_MEDIAN_MAJOR = {
    "USED_CAR_PRIVATE": 20_000_000,
    "MOTORCYCLE_PRIVATE": 4_000_000,
    "HEAVY_EQUIPMENT_PRIVATE": 90_000_000,
    "ELECTRONICS_PRIVATE": 1_500_000,
}
DISPUTE_REASONS = ("NOT_AS_DESCRIBED", "MECHANICAL_DEFECT", "DOCUMENTS_MISSING", "ODOMETER_MISMATCH", "NOT_DELIVERED")
EVIDENCE_KINDS = ("photo", "video", "document", "inspection_report")


def write_tables(ctx: _Ctx, tp: _Tenant) -> None:
    """Write a marketplace tenant's deals with their state changes, disputes, evidence and ledger entries.

    Args:
        ctx (_Ctx): the run context; rows go to its ``deals``,
            ``deal_state_changes``, ``disputes``, ``dispute_evidence`` and
            ``ledger_entries`` sinks.
        tp (_Tenant): the marketplace tenant's plan.
    """
    _Marketplace(ctx, tp).write_days()


class _Marketplace:
    """One marketplace tenant's writer: its buyers and sellers, and the ids issued so far."""

    def __init__(self, ctx: _Ctx, tp: _Tenant) -> None:
        rng = ctx.rng("deals", tp.tenant_id)
        self.ctx, self.rng, self.rand, self.ts, self.end = ctx, rng, rng.random, ctx.ts, ctx.end
        sinks = ctx.sinks
        self.sk_d, self.sk_s, self.sk_l = sinks["deals"], sinks["deal_state_changes"], sinks["ledger_entries"]
        self.sk_x, self.sk_e = sinks["disputes"], sinks["dispute_evidence"]
        self.gi = tp.gindex
        self.switch = (ctx.days // 2) * DAY  # deals created from then on use template version 2
        s = ctx.scale
        self.buyers = [f"usr_{rng.getrandbits(48):012x}" for _ in range(max(20, int(40 * s * ctx.days / 10)))]
        self.sellers = [f"usr_{rng.getrandbits(48):012x}" for _ in range(max(10, int(20 * s * ctx.days / 10)))]
        self.n_deal = self.n_disp = self.n_ev = self.n_le = 0

    def write_days(self) -> None:
        """Every day's new deals, each run through its whole lifecycle."""
        ctx, rng, rand = self.ctx, self.rng, self.rand
        hours = _HOUR_TABLES["market"]
        for d in range(ctx.days):
            day0 = d * DAY
            f = ctx.season("marketplace", d) * ctx.trend[d]
            for _ in range(_poisson(rng, MARKET_DEALS_PER_DAY * ctx.scale * f)):
                _Deal(self, _moment(rand, day0, hours)).run()
            self.sk_d.maybe_flush()
            self.sk_s.maybe_flush()
            self.sk_l.maybe_flush()

    def ledger(self, deal_id: str, etype: str, amount: int, t: int) -> None:
        """A ledger entry booked at ``t``, if within the window (amount signed as seen from escrow)."""
        if t < self.end:
            self.n_le += 1
            self.sk_l.add((f"le_{self.gi:03d}{self.n_le:09d}", deal_id, etype, amount, self.ts(t)))


class _Deal:
    """One deal: created at ``t``, then funded, inspected (perhaps disputed), settled or refunded."""

    def __init__(self, m: _Marketplace, t: int) -> None:
        rng, rand = m.rng, m.rand
        m.n_deal += 1
        deal_id = f"dl_{m.gi:03d}{m.n_deal:08d}"
        cc = _weighted(rng, DEAL_COUNTRIES)
        cat = _weighted(rng, DEAL_CATEGORIES)
        version = 1 if t < m.switch else 2
        self.insp_days, self.ttl_h, self.imm_pct, self.hb_days = TEMPLATES[version]
        major = DEAL_MEDIAN_MAJOR[cat] * math.exp(rng.gauss(0.0, 0.5))
        amount = int(round(major / 1000.0)) * 1000 * 100  # round to 1,000 major units, then cents
        currency = {"MN": "MNT", "KZ": "KZT", "UZ": "UZS"}[cc]
        buyer = m.buyers[int(rand() * rand() * len(m.buyers))]
        seller = m.sellers[int(rand() * rand() * len(m.sellers))]
        m.sk_d.add((deal_id, cc, cat, f"{cc}_{cat}", version, buyer, seller, amount, currency, m.ts(t)))
        m.sk_s.add((deal_id, None, "CREATED", m.ts(t), "buyer"))
        self.m, self.deal_id, self.amount = m, deal_id, amount
        self.state = "CREATED"
        self.t = t  # the deal's clock: when its last step happened
        self.insp_end = 0  # when the inspection period ends
        self.disputes = 0
        self.refunded = 0  # partial refund, cents

    def move(self, to: str, at: int, actor: str) -> bool:
        """Change state at ``at``; False (and no change) if that is beyond the window."""
        if at >= self.m.end:
            return False
        self.m.sk_s.add((self.deal_id, self.state, to, self.m.ts(at), actor))
        self.state = to
        return True

    def run(self) -> None:
        """Fund, hand over for inspection, then settle (releasing escrow) or refund."""
        m, rng, rand = self.m, self.m.rng, self.m.rand
        deal_id, amount = self.deal_id, self.amount
        t = self.t
        if rand() < 0.06:
            return  # abandoned: stays CREATED
        t += _lognormal_seconds(rng, 8 * HOUR, 1.0, 10 * MINUTE, 4 * DAY)
        if not self.move("FUNDED", t, "buyer"):
            return
        m.ledger(deal_id, "HOLD", amount, t)
        if rand() < 0.03:
            return  # stuck: seller never hands over
        t += _lognormal_seconds(rng, 20 * HOUR, 0.8, HOUR, 5 * DAY)
        if not self.move("INSPECTION", t, "seller"):
            return
        self.t = t
        self.insp_end = t + self.insp_days * DAY
        settle_t = self.inspection()
        if settle_t is not None:
            remainder = amount - self.refunded
            immediate = _round_half_up_pct(remainder, self.imm_pct)
            m.ledger(deal_id, "IMMEDIATE_RELEASE", -immediate, settle_t)
            m.ledger(deal_id, "HOLDBACK_RELEASE", -(remainder - immediate), settle_t + self.hb_days * DAY)

    def inspection(self) -> int | None:
        """The inspection period, with disputes; returns when the deal settled, or None if it did not."""
        rand = self.m.rand
        while True:
            if rand() < (0.075 if self.disputes == 0 else 0.5):
                back_to_inspection, settle_t = self.dispute()
                if back_to_inspection:
                    continue
                return settle_t
            # no dispute: buyer approves or the inspection timer auto-approves
            t, insp_end = self.t, self.insp_end
            if rand() < 0.65:
                st = t + 60 + int((insp_end - t - 120) * rand() * rand())
                actor = "buyer"
            else:
                st = insp_end
                actor = "system"
            return st if self.move("SETTLED", st, actor) else None

    def dispute(self) -> tuple[bool, int | None]:
        """A dispute by the buyer with its evidence, resolved by an admin (65 %) or by the timer.

        Returns:
            tuple[bool, int | None]: whether the deal went back to INSPECTION, and when it
            settled (None if it did not: refunded, or still open at the window's end).
        """
        m, rng, rand, ts, end = self.m, self.m.rng, self.m.rand, self.m.ts, self.m.end
        deal_id, amount, ttl_h = self.deal_id, self.amount, self.ttl_h
        t, insp_end = self.t, self.insp_end
        td = t + 60 + int((insp_end - t - 120) * rand())
        if not self.move("DISPUTED", td, "buyer"):
            return False, None
        self.disputes += 1
        m.n_disp += 1
        dsp = f"dsp_{m.gi:03d}{m.n_disp:07d}"
        ttl_end = td + ttl_h * HOUR
        if rand() < 0.65:
            resolved_by = "admin"
            rt = td + int((ttl_h * HOUR - 2 * HOUR) * (0.05 + 0.9 * rand()))
            x = rand()
            outcome = "RELEASE_TO_SELLER" if x < 0.45 else "REFUND_BUYER" if x < 0.75 else "PARTIAL_REFUND"
        else:
            resolved_by = "timer"
            rt = ttl_end
            outcome = "RELEASE_TO_SELLER"
        nev = _weighted_index(rng, (0.08, 0.32, 0.35, 0.25))
        for _e in range(nev):
            et = td + 60 + int((rt - td - 120) * rand())
            if et < end:
                m.n_ev += 1
                m.sk_e.add((f"evd_{m.gi:03d}{m.n_ev:08d}", dsp, ts(et), EVIDENCE_KINDS[int(rand() * 4)]))
        reason = DISPUTE_REASONS[int(rand() * len(DISPUTE_REASONS))]
        if rt >= end:
            m.sk_x.add((dsp, deal_id, reason, ts(td), None, None, None))
            return False, None
        m.sk_x.add((dsp, deal_id, reason, ts(td), ts(rt), outcome, resolved_by))
        t = self.t = rt + 1
        actor = "admin" if resolved_by == "admin" else "system"
        if outcome == "RELEASE_TO_SELLER" and resolved_by == "admin" and self.disputes == 1 and rand() < 0.3:
            if not self.move("INSPECTION", t, actor):
                return False, None
            self.insp_end = max(insp_end, t + DAY)
            return True, None
        if outcome == "REFUND_BUYER":
            if self.move("REFUNDED", t, actor):
                m.ledger(deal_id, "REFUND", -amount, t)
            return False, None
        if outcome == "PARTIAL_REFUND":
            self.refunded = _round_half_up_pct(amount, 10 + int(rand() * 31))
        if not self.move("SETTLED", t, actor):
            return False, None
        if self.refunded:
            m.ledger(deal_id, "REFUND", -self.refunded, t)
        return False, t

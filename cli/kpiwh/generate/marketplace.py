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
    rng = ctx.rng("deals", tp.tenant_id)
    sk_d, sk_s = ctx.sinks["deals"], ctx.sinks["deal_state_changes"]
    sk_x, sk_e, sk_l = ctx.sinks["disputes"], ctx.sinks["dispute_evidence"], ctx.sinks["ledger_entries"]
    ts = ctx.ts
    end = ctx.end
    s = ctx.scale
    rand = rng.random
    switch = (ctx.days // 2) * DAY
    hours = _HOUR_TABLES["market"]
    nh = len(hours)
    gi = tp.gindex
    buyers = [f"usr_{rng.getrandbits(48):012x}" for _ in range(max(20, int(40 * s * ctx.days / 10)))]
    sellers = [f"usr_{rng.getrandbits(48):012x}" for _ in range(max(10, int(20 * s * ctx.days / 10)))]
    n_deal = n_disp = n_ev = n_le = 0

    def ledger(deal_id: str, etype: str, amount: int, t: int) -> None:
        nonlocal n_le
        if t < end:
            n_le += 1
            sk_l.add((f"le_{gi:03d}{n_le:09d}", deal_id, etype, amount, ts(t)))

    for d in range(ctx.days):
        day0 = d * DAY
        f = ctx.season("marketplace", d) * ctx.trend[d]
        for _ in range(_poisson(rng, MARKET_DEALS_PER_DAY * s * f)):
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
            n_deal += 1
            deal_id = f"dl_{gi:03d}{n_deal:08d}"
            cc = _weighted(rng, DEAL_COUNTRIES)
            cat = _weighted(rng, DEAL_CATEGORIES)
            version = 1 if t < switch else 2
            insp_days, ttl_h, imm_pct, hb_days = TEMPLATES[version]
            major = DEAL_MEDIAN_MAJOR[cat] * math.exp(rng.gauss(0.0, 0.5))
            amount = int(round(major / 1000.0)) * 1000 * 100  # round to 1,000 major units, then cents
            currency = {"MN": "MNT", "KZ": "KZT", "UZ": "UZS"}[cc]
            buyer = buyers[int(rand() * rand() * len(buyers))]
            seller = sellers[int(rand() * rand() * len(sellers))]
            sk_d.add((deal_id, cc, cat, f"{cc}_{cat}", version, buyer, seller, amount, currency, ts(t)))
            state = "CREATED"
            sk_s.add((deal_id, None, "CREATED", ts(t), "buyer"))

            def move(to: str, at: int, actor: str, deal_id: str = deal_id) -> bool:
                nonlocal state
                if at >= end:
                    return False
                sk_s.add((deal_id, state, to, ts(at), actor))
                state = to
                return True

            if rand() < 0.06:
                continue  # abandoned: stays CREATED
            t += _lognormal_seconds(rng, 8 * HOUR, 1.0, 10 * MINUTE, 4 * DAY)
            if not move("FUNDED", t, "buyer"):
                continue
            ledger(deal_id, "HOLD", amount, t)
            if rand() < 0.03:
                continue  # stuck: seller never hands over
            t += _lognormal_seconds(rng, 20 * HOUR, 0.8, HOUR, 5 * DAY)
            if not move("INSPECTION", t, "seller"):
                continue
            insp_end = t + insp_days * DAY
            refunded = 0
            disputes = 0
            final: str | None = None  # SETTLED | REFUNDED
            settle_t = 0
            while True:
                p_disp = 0.075 if disputes == 0 else 0.5
                if rand() < p_disp:
                    td = t + 60 + int((insp_end - t - 120) * rand())
                    if not move("DISPUTED", td, "buyer"):
                        break
                    disputes += 1
                    n_disp += 1
                    dsp = f"dsp_{gi:03d}{n_disp:07d}"
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
                            n_ev += 1
                            sk_e.add((f"evd_{gi:03d}{n_ev:08d}", dsp, ts(et), EVIDENCE_KINDS[int(rand() * 4)]))
                    reason = DISPUTE_REASONS[int(rand() * len(DISPUTE_REASONS))]
                    if rt >= end:
                        sk_x.add((dsp, deal_id, reason, ts(td), None, None, None))
                        break
                    sk_x.add((dsp, deal_id, reason, ts(td), ts(rt), outcome, resolved_by))
                    t = rt + 1
                    actor = "admin" if resolved_by == "admin" else "system"
                    if outcome == "RELEASE_TO_SELLER" and resolved_by == "admin" and disputes == 1 and rand() < 0.3:
                        if not move("INSPECTION", t, actor):
                            break
                        insp_end = max(insp_end, t + DAY)
                        continue
                    if outcome == "REFUND_BUYER":
                        if move("REFUNDED", t, actor):
                            ledger(deal_id, "REFUND", -amount, t)
                        break
                    if outcome == "PARTIAL_REFUND":
                        refunded = _round_half_up_pct(amount, 10 + int(rand() * 31))
                    if move("SETTLED", t, actor):
                        final, settle_t = "SETTLED", t
                        if refunded:
                            ledger(deal_id, "REFUND", -refunded, t)
                    break
                # no dispute: buyer approves or the inspection timer auto-approves
                if rand() < 0.65:
                    st = t + 60 + int((insp_end - t - 120) * rand() * rand())
                    actor = "buyer"
                else:
                    st = insp_end
                    actor = "system"
                if move("SETTLED", st, actor):
                    final, settle_t = "SETTLED", st
                break
            if final == "SETTLED":
                remainder = amount - refunded
                immediate = _round_half_up_pct(remainder, imm_pct)
                ledger(deal_id, "IMMEDIATE_RELEASE", -immediate, settle_t)
                ledger(deal_id, "HOLDBACK_RELEASE", -(remainder - immediate), settle_t + hb_days * DAY)
        sk_d.maybe_flush()
        sk_s.maybe_flush()
        sk_l.maybe_flush()

"""Tenants and their locations: the kinds, names, countries and sign-up plans."""

from __future__ import annotations

import random

from ._common import (
    HOUR,
    LOCATION_NAMES,
    MINUTE,
    PLATFORM_COUNTRIES,
    _Ctx,
    _lognormal_seconds,
    _Tenant,
    _weighted,
    _weighted_index,
)
from .loyalty import plan_merchant
from .partners import plan_partner

KIND_ORDER = ("merchant", "partner", "organization", "marketplace", "platform")
KIND_SHARES = {"merchant": 0.25, "partner": 0.25, "organization": 0.20, "marketplace": 0.10, "platform": 0.20}
KIND_PRIORITY = ("merchant", "organization", "platform", "partner", "marketplace")  # tenants < 5
KIND_PREFIX = {"merchant": "mer", "partner": "par", "organization": "org", "marketplace": "mkt", "platform": "plt"}

CURRENCY = {
    "US": "USD",
    "GB": "GBP",
    "CA": "CAD",
    "AU": "AUD",
    "IE": "EUR",
    "DE": "EUR",
    "FR": "EUR",
    "NL": "EUR",
    "NZ": "NZD",
    "SA": "SAR",
    "AE": "AED",
    "MN": "MNT",
    "KZ": "KZT",
}
NAME_ADJ = (
    "Blue Door",
    "Golden",
    "Northside",
    "Riverside",
    "Maple",
    "Copper",
    "Little",
    "Old Town",
    "Harbor",
    "Sunny",
    "Cedar",
    "Silver",
    "Corner",
    "Urban",
    "Green Leaf",
    "Lantern",
)
NAME_NOUN = {
    "merchant": ("Coffee", "Bakery", "Deli", "Juice Bar", "Bagels", "Tea House", "Pizzeria", "Books & Café"),
    "partner": ("Auto Workshop", "Garage", "Motors Service", "Tyre & Brake", "Car Care", "Auto Repair"),
    "organization": ("Hair Studio", "Spa", "Barbers", "Nail Lounge", "Wellness Clinic", "Massage & Co."),
    "marketplace": ("Escrow", "Safe Deal", "Trust Market"),
    "platform": ("Tarot", "Stars Readings", "Astro Line", "Mystic Hub"),
}
MERCHANT_COUNTRIES = ("US", "US", "GB", "CA", "AU", "IE", "NZ")
ORG_COUNTRIES = ("US", "US", "US", "CA", "GB")
PARTNER_COUNTRIES = ("CA", "CA", "US")


def split_tenant_kinds(tenants: int) -> dict[str, int]:
    """Split a tenant count over the five tenant kinds.

    Args:
        tenants (int): total number of tenants, >= 1.

    Returns:
        dict[str, int]: tenants per kind (keys in ``KIND_ORDER``), summing to
        ``tenants``; every kind gets at least one tenant when ``tenants >= 5``.

    Raises:
        ValueError: if ``tenants < 1``.
    """
    if tenants < 1:
        raise ValueError(f"tenants must be >= 1, got {tenants}")
    if tenants < 5:
        chosen = set(KIND_PRIORITY[:tenants])
        return {k: (1 if k in chosen else 0) for k in KIND_ORDER}
    raw = {k: tenants * KIND_SHARES[k] for k in KIND_ORDER}
    counts = {k: max(1, int(raw[k])) for k in KIND_ORDER}
    # largest remainder (ties broken by KIND_ORDER), never below one per kind
    order = sorted(KIND_ORDER, key=lambda k: (-(raw[k] - int(raw[k])), KIND_ORDER.index(k)))
    i = 0
    while sum(counts.values()) < tenants:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts.values()) > tenants:  # only possible through the max(1, ...) floor
        biggest = max(KIND_ORDER, key=lambda k: (counts[k], -KIND_ORDER.index(k)))
        counts[biggest] -= 1
    return counts


def _company_name(rng: random.Random, kind: str) -> str:
    return f"{rng.choice(NAME_ADJ)} {rng.choice(NAME_NOUN[kind])}"


def plan_tenants(ctx: _Ctx, tenants: int) -> list[_Tenant]:
    """Plan every tenant: id, name, country, sign-up, status and locations.

    Args:
        ctx (_Ctx): the run context (window, seed).
        tenants (int): total number of tenants, >= 1 (split by ``split_tenant_kinds``).

    Returns:
        list[_Tenant]: one plan per tenant, kinds in ``KIND_ORDER`` and ids
        ascending within a kind; merchants and partners carry their onboarding
        (``loyalty.plan_merchant``, ``partners.plan_partner``).
    """
    counts = split_tenant_kinds(tenants)
    end = ctx.end
    plans: list[_Tenant] = []
    g = 0
    for kind in KIND_ORDER:
        for i in range(1, counts[kind] + 1):
            tid = f"{KIND_PREFIX[kind]}_{i:03d}"
            rng = ctx.rng("plan", tid)
            name = _company_name(rng, kind)
            if kind == "merchant":
                country = rng.choice(MERCHANT_COUNTRIES)
            elif kind == "organization":
                country = rng.choice(ORG_COUNTRIES)
            elif kind == "partner":
                country = rng.choice(PARTNER_COUNTRIES)
            elif kind == "marketplace":
                country = "MN"
            else:
                country = _weighted(rng, PLATFORM_COUNTRIES)
            tp = _Tenant(tid, kind, i, g, name, country, CURRENCY.get(country, "USD"), 0)
            tp.owner_id = f"own_{rng.getrandbits(48):012x}"
            g += 1
            if kind == "merchant":
                plan_merchant(ctx, rng, tp)
            elif kind == "partner":
                plan_partner(ctx, rng, tp)
            else:
                tp.signed_up_at = min(end - 1, int(rng.random() * 2 * HOUR))
                tp.updated_at = tp.signed_up_at
                if kind == "organization":
                    nloc = 1 + _weighted_index(rng, (0.3, 0.3, 0.25, 0.15))
                    t = tp.signed_up_at
                    for k in range(1, nloc + 1):
                        t = min(end - 1, t + _lognormal_seconds(rng, 10 * MINUTE, 0.7, MINUTE, 2 * HOUR))
                        tp.locations.append((f"loc_{tid}_{k}", f"{name} {LOCATION_NAMES[k - 1]}", t))
                    tp.updated_at = t
            plans.append(tp)
    return plans


def write_tenant_tables(ctx: _Ctx, plans: list[_Tenant]) -> None:
    """Write the planned tenants, their locations and the partners into ``ctx.sinks``.

    Args:
        ctx (_Ctx): the run context; rows go to its ``tenants``, ``locations`` and ``partners`` sinks.
        plans (list[_Tenant]): every tenant's plan (from ``plan_tenants``).
    """
    sinks, ts = ctx.sinks, ctx.ts
    for tp in plans:
        sinks["tenants"].add(
            (tp.tenant_id, tp.kind, tp.name, tp.country, ts(tp.signed_up_at), tp.status, ts(tp.updated_at))
        )
        for lid, lname, created in tp.locations:
            sinks["locations"].add((lid, tp.tenant_id, lname, ts(created)))
        if tp.kind == "partner":
            sinks["partners"].add((tp.tenant_id, tp.status, ts(tp.applied_at), ts(tp.decided_at), ts(tp.updated_at)))

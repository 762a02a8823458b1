"""Deterministic, realistic synthetic data for every table of the raw contract.

`generate()` writes one CSV per raw table (``<table>.csv``, header = the
contract columns in DDL order without ``_loaded_at``) into an output directory.
The same arguments always give byte-identical files: every random draw comes
from a ``random.Random`` seeded with a string built from ``(seed, purpose,
tenant_id)`` (string seeds are hashed with SHA-512, independent of
``PYTHONHASHSEED``); nothing reads the clock, the global RNG or set/dict order
that depends on hash randomisation.

CSV conventions
---------------
UTF-8, ``\\n`` line endings, ``csv`` minimal quoting. NULL is an empty unquoted
field; a non-null text value is never the empty string. Timestamps are
ISO-8601 UTC with second precision (``2025-06-02T09:15:03+00:00``). ``metadata``
is compact JSON with sorted keys. Money is integer cents (minor units).
Every timestamp lies in ``[start 00:00 UTC, start + days)``: lifecycles that
would run past the end are cut there (the entity stays open), so the data ends
like a real extract taken at the window's end.

Tenants
-------
``tenants`` is split over the kinds with shares merchant 25 %, partner 25 %,
organization 20 %, marketplace 10 %, platform 20 % (largest remainder, at
least one of each when ``tenants >= 5``; below 5 the kinds are taken in the
order merchant, organization, platform, partner, marketplace). Ids are
``mer_001``, ``par_001``, ``org_001``, ``mkt_001``, ``plt_001``. Merchants and
organizations have 1-4 locations (``loc_<tenant_id>_<n>``). Each partner
tenant is one partner (workshop): ``partners.partner_id = tenant_id``.

Volumes (``s`` = scale, ``D`` = days, ``L`` = live locations of a tenant,
``season`` = the kind's day-of-week factor (mean ~0.9-1.0), ``trend(d) = 1 +
0.0015 d`` i.e. +18 % after 120 days, +55 % after 365; daily counts are Poisson)
--------------------------------------------------------------------------
* merchant (loyalty events): per live location and day ``30 s season trend
  ramp factor`` transactions (ramp 0.3 -> 1 over the 14 days after the
  location's device is registered; factor 0.6-1.4 per location). One event
  each: ~71 % points_issued, ~22 % points_redeemed (redeemed/issued ~0.31),
  1.8 % points_adjusted, 1.7 % transaction_reversed, 2-5 % scan_error. Plus
  5-12 onboarding events per merchant. Customer pool ``s L (60 + 2.5 D)``.
* partner (partners events): signup attempts (30 % fail and retry), one
  decision (80 % approved) and its e-mail, then per active day ``20 s`` API
  requests, ``3 s`` dashboard logins, ``0.5 s`` invites (~3 events each) and
  ``0.15 s`` profile updates: ~22 s events per active partner-day.
* platform: per day ``25 s`` orders (~5.3 order + ~2.3 payment events each),
  ``4 s`` wallet top-ups, ``15 s`` calls (~2.7 events), ``80 s``
  notifications (~2.2 events), ``60 s`` horoscope plays, ``2 s`` moderation
  flags, plus up to 12 horoscope uploads (not scaled, ~36 events): ~470 s + 36
  events per platform-day (x trend). User pool ``s (300 + 40 D)``.
* organization (bookings): per location and day ``20 s season trend factor``
  bookings; customers ``0.25 x expected bookings + 20`` per organization (15 %
  never book); ~0.84 payments per booking; referral_profiles ~5 % of customers.
* marketplace: per day ``3 s season trend`` deals per marketplace tenant;
  per deal ~3.8 state changes, ~2.7 ledger entries, ~0.07 disputes.

Rule of thumb: ``events_raw ~= D x mean(trend) x s x (470 P + 70 M + 22 Pa) +
36 P D`` and ``bookings ~= 20 x D x mean(trend) x s x (organization
locations)``, with P, M, Pa the platform, (live) merchant and partner tenants.

Measured (2-core sandbox, CPython 3.11, one core used, ``/usr/bin/time -v``)
----------------------------------------------------------------------------
* default ``tenants=12, days=120, scale=1``: 157,970 events, 21,826 bookings,
  5,626 customers, 206,696 rows in all (43 MB); 1.6 s wall, 56 MB peak RSS.
* ``tenants=50, days=365, scale=4``: 10,180,226 events (12.2 M rows, 2.6 GB);
  94 s wall, 93 MB peak RSS.
* ``tenants=50, days=365, scale=6`` (``LARGE_SETTINGS``): 15,149,418 events,
  1,301,303 bookings, 325,692 customers (18.2 M rows, 3.9 GB); 139 s wall,
  98 MB peak RSS. Throughput is ~130 k rows/s; memory stays bounded because
  rows are streamed in chunks of ``CHUNK_ROWS`` and only one tenant's
  population (<= ~100 k ids) is held at a time.

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

import contextlib
import csv
import json
import math
import random
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

__all__ = [
    "LARGE_SETTINGS",
    "TABLE_COLUMNS",
    "generate",
    "split_tenant_kinds",
]

# ---------------------------------------------------------------------------
# contract
# ---------------------------------------------------------------------------

#: Columns of every raw table in DDL order, without the loader's `_loaded_at`.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "tenants": ("tenant_id", "kind", "name", "country_code", "signed_up_at", "status", "updated_at"),
    "locations": ("location_id", "tenant_id", "name", "created_at"),
    "events_raw": (
        "event_id",
        "occurred_at",
        "received_at",
        "tenant_id",
        "location_id",
        "event_domain",
        "event_type",
        "user_id",
        "session_id",
        "entity_type",
        "entity_id",
        "status",
        "provider",
        "service_code",
        "country_code",
        "amount_cents",
        "currency",
        "duration_seconds",
        "metadata",
        "schema_version",
    ),
    "customers": ("organization_id", "customer_id", "created_at", "given_name", "family_name", "email", "phone"),
    "bookings": (
        "booking_id",
        "organization_id",
        "location_id",
        "customer_id",
        "start_at",
        "status",
        "customer_note",
        "created_at",
        "updated_at",
    ),
    "payments": (
        "payment_id",
        "organization_id",
        "customer_id",
        "booking_id",
        "amount_cents",
        "currency",
        "status",
        "created_at",
    ),
    "referral_profiles": ("organization_id", "customer_id", "created_at"),
    "deals": (
        "deal_id",
        "country_code",
        "category",
        "template_code",
        "template_version",
        "buyer_id",
        "seller_id",
        "amount_cents",
        "currency",
        "created_at",
    ),
    "deal_state_changes": ("deal_id", "from_state", "to_state", "changed_at", "actor_role"),
    "disputes": ("dispute_id", "deal_id", "reason_code", "opened_at", "resolved_at", "outcome", "resolved_by"),
    "dispute_evidence": ("evidence_id", "dispute_id", "uploaded_at", "kind"),
    "ledger_entries": ("entry_id", "deal_id", "entry_type", "amount_cents", "booked_at"),
    "partners": ("partner_id", "status", "applied_at", "decided_at", "updated_at"),
}

#: A documented setting that yields >= 10 M events_raw rows, >= 1 M bookings
#: and >= 200 k customers (pass as ``generate(out, **LARGE_SETTINGS)``).
LARGE_SETTINGS: dict[str, float | int] = {"tenants": 50, "days": 365, "scale": 6.0}

CHUNK_ROWS = 20_000  # rows buffered per table before csv.writerows
PROGRESS_EVERY = 100_000  # progress callback cadence (rows per table)

DAY = 86_400
HOUR = 3_600
MINUTE = 60

KIND_ORDER = ("merchant", "partner", "organization", "marketplace", "platform")
KIND_SHARES = {"merchant": 0.25, "partner": 0.25, "organization": 0.20, "marketplace": 0.10, "platform": 0.20}
KIND_PRIORITY = ("merchant", "organization", "platform", "partner", "marketplace")  # tenants < 5
KIND_PREFIX = {"merchant": "mer", "partner": "par", "organization": "org", "marketplace": "mkt", "platform": "plt"}

# volumes per unit of scale (see module docstring)
MERCHANT_TX_PER_LOCATION_DAY = 30.0
MERCHANT_CUSTOMERS_BASE = 60.0
MERCHANT_CUSTOMERS_PER_DAY = 2.5
ORG_BOOKINGS_PER_LOCATION_DAY = 20.0
ORG_CUSTOMERS_PER_BOOKING = 0.25
PLATFORM_ORDERS_PER_DAY = 25.0
PLATFORM_TOPUPS_PER_DAY = 4.0
PLATFORM_CALLS_PER_DAY = 15.0
PLATFORM_NOTIFICATIONS_PER_DAY = 80.0
PLATFORM_PLAYS_PER_DAY = 60.0
PLATFORM_FLAGS_PER_DAY = 2.0
PLATFORM_USERS_BASE = 300.0
PLATFORM_USERS_PER_DAY = 40.0
PARTNER_API_PER_DAY = 20.0
PARTNER_LOGINS_PER_DAY = 3.0
PARTNER_INVITES_PER_DAY = 0.5
PARTNER_PROFILE_UPDATES_PER_DAY = 0.15
MARKET_DEALS_PER_DAY = 3.0
TREND_PER_DAY = 0.0015

SEASON = {  # Monday .. Sunday
    "merchant": (0.85, 0.90, 0.95, 1.00, 1.15, 1.30, 1.05),  # cafés: weekend peak
    "organization": (0.80, 0.95, 1.00, 1.05, 1.20, 1.40, 0.50),  # salons: Saturday peak, Sunday dip
    "platform": (0.92, 0.92, 0.95, 1.00, 1.05, 1.10, 1.15),  # consumer app: weekend peak
    "partner": (1.15, 1.15, 1.10, 1.10, 1.05, 0.50, 0.35),  # B2B: weekend dip
    "marketplace": (1.00, 0.95, 0.95, 1.00, 1.05, 1.20, 0.85),
}

HOURS = {  # relative activity per UTC hour 0..23
    "retail": (0, 0, 0, 0, 0, 0, 1, 4, 8, 7, 6, 7, 10, 9, 6, 5, 6, 7, 6, 4, 3, 1, 0, 0),
    "consumer": (3, 2, 1, 1, 1, 1, 2, 3, 4, 4, 4, 5, 5, 5, 5, 5, 6, 7, 8, 9, 10, 9, 7, 5),
    "office": (0, 0, 0, 0, 0, 0, 1, 3, 7, 9, 9, 8, 6, 8, 9, 8, 7, 4, 2, 1, 1, 0, 0, 0),
    "market": (0, 0, 0, 0, 0, 0, 1, 2, 4, 6, 7, 7, 6, 7, 7, 7, 7, 7, 6, 5, 4, 3, 1, 0),
}

BOOKING_STATUS_WEIGHTS = (  # outside the trailing PENDING window
    ("ACCEPTED", 78.0),
    ("NO_SHOW", 6.0),
    ("CANCELLED_BY_CUSTOMER", 10.5),
    ("CANCELLED_BY_SELLER", 3.2),
    ("DECLINED", 2.3),
)
BOOKING_STATUSES = ("ACCEPTED", "NO_SHOW", "CANCELLED_BY_CUSTOMER", "CANCELLED_BY_SELLER", "DECLINED", "PENDING")
PAYMENT_STATUSES = ("COMPLETED", "FAILED", "CANCELED", "REFUNDED")
PARTNER_STATUSES = ("pending", "active", "suspended", "rejected")
DEAL_STATES = ("CREATED", "FUNDED", "INSPECTION", "DISPUTED", "SETTLED", "REFUNDED")
DISPUTE_OUTCOMES = ("RELEASE_TO_SELLER", "REFUND_BUYER", "PARTIAL_REFUND")
LEDGER_TYPES = ("HOLD", "IMMEDIATE_RELEASE", "HOLDBACK_RELEASE", "REFUND")
SCAN_ERRORS = ("expired_qr", "insufficient_balance", "unauthorized_device")

TEMPLATES = {  # version -> (inspection days, dispute TTL hours, immediate %, holdback release days)
    1: (3, 48, 85, 7),
    2: (2, 36, 90, 5),
}

COUNTRY_ALPHA3 = {
    "US": "USA",
    "GB": "GBR",
    "CA": "CAN",
    "AU": "AUS",
    "IE": "IRL",
    "DE": "DEU",
    "FR": "FRA",
    "NL": "NLD",
    "SA": "SAU",
    "AE": "ARE",
    "EG": "EGY",
    "KW": "KWT",
    "QA": "QAT",
    "JO": "JOR",
    "MA": "MAR",
    "MN": "MNG",
    "KZ": "KAZ",
    "NZ": "NZL",
}
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
JUNK_COUNTRIES = ("UK", "XX", "N/A", "EU", "--", "ZZ")

_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET = (4 << 76) | (0x8000 << 48)

# ---------------------------------------------------------------------------
# names and texts
# ---------------------------------------------------------------------------

GIVEN_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Mateo",
    "Sofía",
    "Chloé",
    "Zoë",
    "José",
    "Aaliyah",
    "Mia",
    "Ethan",
    "Amelia",
    "Lucas",
    "Harper",
    "Élodie",
    "Björn",
    "Saanvi",
    "Wei",
    "Yuki",
    "Fatima",
    "Omar",
    "Grace",
    "Jack",
    "Isla",
    "Leo",
    "Nora",
    "Aarav",
    "Maya",
    "Siobhán",
    "Chidi",
    "Ana",
    "Luca",
    "Hana",
    "Kai",
    "Ines",
    "Tomás",
    "Priya",
    "Ngozi",
)
FAMILY_NAMES = (
    "Smith",
    "Johnson",
    "García",
    "Müller",
    "O'Brien",
    "Nguyen",
    "Kim",
    "Patel",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Silva",
    "Brown",
    "Lee",
    "Martin",
    "Hernández",
    "Novak",
    "Tanaka",
    "Cohen",
    "Andersson",
    "Ivanova",
    "Okafor",
    "Walker",
    "Wright",
    "López",
    "Chen",
    "Singh",
    "Murphy",
    "Schmidt",
    "Johansson",
    "Da Costa",
    "van der Berg",
    "Ó Súilleabháin",
    "Nakamura",
)
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net", "example.co.uk")
CUSTOMER_NOTES = (
    "Prefers the quiet room, please",
    'Asked for "extra hot" towels',
    "Running late — will text",
    "First visit; referred by a friend",
    "Allergic to lavender, nuts",
    "Please call on arrival\nuse the side entrance",
    "Zoë's regular slot",
    "Birthday treat 🎉",
    "Needs wheelchair access, ground floor",
    "Première visite — parle français",
    "Bring the 10% coupon, code SPRING",
    "No fragrance products",
    "Same as last time: 45 min, medium pressure",
    "お客様はラベンダーアレルギーあり",
    'Said: "don\'t cut too short, thanks"',
    "Regular, likes Saturday mornings",
)
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
LOCATION_NAMES = ("Downtown", "Main St", "Airport", "Mall", "Station", "Harbourfront", "Uptown", "Old Town")
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
PLATFORM_COUNTRIES = (
    ("SA", 30),
    ("AE", 15),
    ("EG", 12),
    ("KW", 8),
    ("QA", 5),
    ("JO", 5),
    ("US", 10),
    ("GB", 7),
    ("DE", 4),
    ("MA", 4),
)
MERCHANT_COUNTRIES = ("US", "US", "GB", "CA", "AU", "IE", "NZ")
ORG_COUNTRIES = ("US", "US", "US", "CA", "GB")
PARTNER_COUNTRIES = ("CA", "CA", "US")
REWARD_NAMES = ("Free coffee", "Free pastry", "10% off", "Free upsize", "Tote bag", "Free lunch")
REWARD_COSTS = (50, 80, 100, 150, 200, 300, 500)
API_ENDPOINTS = ("/v1/jobs", "/v1/quotes", "/v1/mechanics", "/v1/invoices", "/v1/availability")
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

_B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum()) or "user"


_GIVEN_SLUG = tuple(_ascii_slug(n) for n in GIVEN_NAMES)
_FAMILY_SLUG = tuple(_ascii_slug(n) for n in FAMILY_NAMES)

# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


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


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        limit = math.exp(-lam)
        k = 0
        p = rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))


def _hour_table(weights: tuple[int, ...]) -> tuple[int, ...]:
    table: list[int] = []
    for hour, w in enumerate(weights):
        table.extend([hour * HOUR] * w)
    return tuple(table)


_HOUR_TABLES = {k: _hour_table(v) for k, v in HOURS.items()}


def _weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


_B32_PAIRS = tuple(a + b for b in _B32 for a in _B32)  # index = lo5 | hi5 << 5


def _code(n: int, salt: int, chars: int = 10) -> str:
    """Unique-looking base32 code; a bijection of n for n < 2**(5*chars). chars must be even."""
    bits = 5 * chars
    mask = (1 << bits) - 1
    x = (n * 0x2545F4914F6CDD1D + salt) & mask  # odd multiplier: bijective mod 2**bits
    x ^= x >> (bits // 2)  # xorshift: bijective
    x = (x * 0x9E3779B97F4A7C15) & mask
    pairs = _B32_PAIRS
    out = []
    for _ in range(chars // 2):
        out.append(pairs[x & 1023])
        x >>= 10
    return "".join(out)


def _uuid4_str(bits: int) -> str:
    """Same text as ``str(uuid.UUID(int=bits, version=4))``, faster."""
    h = "%032x" % ((bits & _UUID_CLEAR) | _UUID_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _lognormal_seconds(rng: random.Random, median: float, sigma: float, lo: float, hi: float) -> int:
    return int(min(hi, max(lo, median * math.exp(rng.gauss(0.0, sigma)))))


def _round_half_up_pct(amount: int, pct: int) -> int:
    return (amount * pct + 50) // 100


def _dumps(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------
# sinks
# ---------------------------------------------------------------------------


class _Sink:
    """Buffered CSV writer for one table."""

    def __init__(self, path: Path, table: str, progress: Callable[[str, int], None] | None) -> None:
        self.table = table
        self.f = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115  (closed by close() / generate()'s finally)
        self.writer = csv.writer(self.f, lineterminator="\n")
        self.writer.writerow(TABLE_COLUMNS[table])
        self.rows: list[tuple] = []
        self.count = 0
        self.progress = progress
        self.next_report = PROGRESS_EVERY

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def maybe_flush(self) -> None:
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.writerows(self.rows)
            self.count += len(self.rows)
            self.rows.clear()
            if self.progress is not None and self.count >= self.next_report:
                self.progress(self.table, self.count)
                self.next_report = (self.count // PROGRESS_EVERY + 1) * PROGRESS_EVERY

    def close(self) -> int:
        self.flush()
        self.f.close()
        if self.progress is not None:
            self.progress(self.table, self.count)
        return self.count


class _EventSink(_Sink):
    """events_raw writer: assigns event_id, received_at and country noise."""

    def __init__(self, path: Path, progress, end: int, day_str: list[str], tod_str: list[str]) -> None:
        super().__init__(path, "events_raw", progress)
        self.end = end
        self.day_str = day_str
        self.tod_str = tod_str
        self.rng: random.Random | None = None
        self._bits = None
        self._rand = None

    def bind(self, rng: random.Random) -> None:
        self.rng = rng
        self._bits = rng.getrandbits
        self._rand = rng.random

    def emit(
        self,
        t,
        tenant_id,
        location_id,
        domain,
        event_type,
        user_id,
        session_id,
        entity_type,
        entity_id,
        status,
        provider,
        service_code,
        country_code,
        amount_cents,
        currency,
        duration,
        metadata,
    ) -> bool:
        """Append one event occurring at second offset t; False if t is outside the window."""
        end = self.end
        if t >= end or t < 0:
            return False
        h = "%032x" % ((self._bits(128) & _UUID_CLEAR) | _UUID_SET)
        u = self._rand()
        if u < 0.005:  # late arrival: 1-4 days later
            r = t + DAY * (1 + int(u * 800.0)) + int(u * 700_000.0) % HOUR
        else:
            r = t + 1 + int(u * u * u * u * 120.0)  # 1-121 s, mean ~25 s
        if r >= end:
            r = end - 1
        if country_code is not None:
            v = self._rand()
            if v < 0.01:
                k = int(v * 4000.0) % 4
                if k == 0:
                    country_code = country_code.lower()
                elif k == 1:
                    country_code = COUNTRY_ALPHA3.get(country_code, "XXX")
                elif k == 2:
                    country_code = " " + country_code.lower()
                else:
                    country_code = JUNK_COUNTRIES[int(v * 60000.0) % len(JUNK_COUNTRIES)]
        ds = self.day_str
        ts = self.tod_str
        # Hand-formatted CSV line, byte-identical to csv.writer (QUOTE_MINIMAL): every text field
        # here is free of commas, quotes and newlines by construction, except metadata (JSON,
        # always containing quotes, hence always quoted). None -> empty unquoted field.
        self.rows.append(
            f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]},"
            f"{ds[t // DAY]}{ts[t % DAY]},{ds[r // DAY]}{ts[r % DAY]},{tenant_id},{location_id or ''},"
            f"{domain},{event_type},{user_id or ''},{session_id or ''},{entity_type or ''},"
            f"{entity_id or ''},{status or ''},{provider or ''},{service_code or ''},{country_code or ''},"
            f"{'' if amount_cents is None else amount_cents},{currency or ''},"
            f"{'' if duration is None else duration},"
            f"{'' if metadata is None else chr(34) + metadata.replace(chr(34), chr(34) * 2) + chr(34)},1\n"
        )
        return True

    def flush(self) -> None:
        if self.rows:
            self.f.write("".join(self.rows))
            self.count += len(self.rows)
            self.rows.clear()
            if self.progress is not None and self.count >= self.next_report:
                self.progress(self.table, self.count)
                self.next_report = (self.count // PROGRESS_EVERY + 1) * PROGRESS_EVERY


# ---------------------------------------------------------------------------
# populations (customers / users) with heavy-tailed activity
# ---------------------------------------------------------------------------


class _Population:
    """A growing population with heavy-tailed (Pareto) activity weights.

    Members are sorted by join time; ``avail[d]`` is the number that joined
    before day ``d`` starts. ``pick`` favours members who joined recently (so
    retention decays) and otherwise draws by weight from everyone available.
    """

    def __init__(
        self,
        rng: random.Random,
        size: int,
        end: int,
        *,
        initial_share: float,
        initial_span: int,
        alpha: float,
        cap: float,
        zero_share: float,
    ) -> None:
        size = max(1, size)
        n0 = int(size * initial_share)
        span0 = max(1, min(initial_span, end))
        joins = [int(rng.random() * span0) for _ in range(n0)]
        k = TREND_PER_DAY / DAY
        total = end + k * end * end / 2.0
        for _ in range(size - n0):  # density proportional to the trend
            x = (-1.0 + math.sqrt(1.0 + 2.0 * k * rng.random() * total)) / k
            joins.append(min(end - 1, int(x)))
        joins.sort()
        self.join = joins
        cum: list[float] = []
        acc = 0.0
        paretov = rng.paretovariate
        rand = rng.random
        for _ in range(size):
            if rand() >= zero_share:
                acc += min(cap, paretov(alpha))
            cum.append(acc)
        self.cum = cum
        self.size = size
        ndays = end // DAY + 2
        self.avail = [bisect_left(joins, d * DAY) for d in range(ndays + 1)]

    def pick(self, rng: random.Random, hi: int, lo_recent: int, p_recent: float = 0.35) -> int:
        """Index of a member among the first ``hi``; -1 if none is available."""
        if hi <= 0:
            return -1
        cum = self.cum
        if lo_recent < hi and rng.random() < p_recent:
            base = cum[lo_recent - 1] if lo_recent > 0 else 0.0
            span = cum[hi - 1] - base
            if span > 0.0:
                i = bisect_right(cum, base + rng.random() * span, lo_recent, hi)
                return i if i < hi else hi - 1
        total = cum[hi - 1]
        if total <= 0.0:
            return -1
        i = bisect_right(cum, rng.random() * total, 0, hi)
        return i if i < hi else hi - 1


# ---------------------------------------------------------------------------
# tenant plans
# ---------------------------------------------------------------------------


@dataclass
class _Tenant:
    tenant_id: str
    kind: str
    index: int  # 1-based within kind
    gindex: int  # 0-based over all tenants
    name: str
    country: str
    currency: str
    signed_up_at: int
    status: str = "active"
    updated_at: int = 0
    locations: list[tuple[str, str, int]] = field(default_factory=list)  # (id, name, created)
    # merchant onboarding: (t, event_type, location_id, entity_type, entity_id)
    onboarding: list[tuple[int, str, str | None, str, str]] = field(default_factory=list)
    golive: dict[str, int] = field(default_factory=dict)  # location_id -> device registered at
    owner_id: str = ""
    # partner: signup attempts [(start, fail_or_None)], completion, decision
    attempts: list[tuple[int, int | None, str | None]] = field(default_factory=list)
    applied_at: int | None = None
    decided_at: int | None = None
    decision: str | None = None
    suspended_at: int | None = None


class _Ctx:
    def __init__(self, out_dir: Path, start: date, days: int, seed: int, scale: float, progress) -> None:
        self.out_dir = out_dir
        self.start = start
        self.days = days
        self.seed = seed
        self.scale = scale
        self.end = days * DAY
        self.start_dow = start.weekday()
        self.day_str = [(start + timedelta(days=d)).isoformat() + "T" for d in range(days)]
        self.tod_str = [f"{h:02d}:{m:02d}:{s:02d}+00:00" for h in range(24) for m in range(60) for s in range(60)]
        self.trend = [1.0 + TREND_PER_DAY * d for d in range(days)]
        self.progress = progress
        self.sinks: dict[str, _Sink] = {}

    def rng(self, purpose: str, key: str = "") -> random.Random:
        return random.Random(f"kpiwh:{self.seed}:{purpose}:{key}")

    def ts(self, t: int | None) -> str | None:
        if t is None:
            return None
        return self.day_str[t // DAY] + self.tod_str[t % DAY]

    def season(self, kind: str, d: int) -> float:
        return SEASON[kind][(self.start_dow + d) % 7]


def _company_name(rng: random.Random, kind: str) -> str:
    return f"{rng.choice(NAME_ADJ)} {rng.choice(NAME_NOUN[kind])}"


def _plan_tenants(ctx: _Ctx, tenants: int) -> list[_Tenant]:
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
                _plan_merchant(ctx, rng, tp)
            elif kind == "partner":
                _plan_partner(ctx, rng, tp)
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


def _weighted_index(rng: random.Random, weights: tuple[float, ...]) -> int:
    x = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def _plan_merchant(ctx: _Ctx, rng: random.Random, tp: _Tenant) -> None:
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


def _plan_partner(ctx: _Ctx, rng: random.Random, tp: _Tenant) -> None:
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


# ---------------------------------------------------------------------------
# loyalty (merchant tenants)
# ---------------------------------------------------------------------------


def _gen_merchant(ctx: _Ctx, tp: _Tenant, ev: _EventSink) -> None:
    rng = ctx.rng("events", tp.tenant_id)
    ev.bind(rng)
    emit = ev.emit
    tid, cc, cur = tp.tenant_id, tp.country, tp.currency
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
    if not tp.golive:
        ev.maybe_flush()
        return
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
    rewards = []
    for k in range(1, 3 + int(rng.random() * 4)):
        rewards.append((f"rw_{tid}_{k:02d}", rng.choice(REWARD_COSTS)))
    reward_cum = []
    acc = 0.0
    for k in range(len(rewards)):
        acc += 1.0 / (k + 1) ** 1.1
        reward_cum.append(acc)
    redeem_meta = [f'{{"points":{cost},"reward_id":"{rid}"}}' for rid, cost in rewards]
    issue_meta = [f'{{"points":{p}}}' for p in range(0, 200)]
    locs = []
    for lid, golive in tp.golive.items():
        locs.append((lid, golive, 0.6 + 0.8 * rng.random(), 0.02 + 0.03 * rng.random()))
    hours = _HOUR_TABLES["retail"]
    nh = len(hours)
    rand = rng.random
    pick = pop.pick
    base = MERCHANT_TX_PER_LOCATION_DAY * s
    tx_seq = 0
    tx_prefix = f"tx_{tp.gindex:03d}"
    recent_issues: list[tuple[str, int]] = []
    for d in range(ctx.days):
        day0 = d * DAY
        hi = pop.avail[d]
        lo = pop.avail[max(0, d - 14)]
        seasonal = ctx.season("merchant", d) * ctx.trend[d]
        for lid, golive, factor, err_share in locs:
            if golive >= day0 + DAY:
                continue
            age_days = max(0.0, (day0 - golive) / DAY)
            ramp = 0.3 + 0.7 * min(1.0, age_days / 14.0)
            n = _poisson(rng, base * seasonal * factor * ramp)
            for _ in range(n):
                t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
                if t < golive:
                    continue
                i = pick(rng, hi, lo)
                if i < 0:
                    continue
                user = users[i]
                r = rand()
                tx_seq += 1
                txid = f"{tx_prefix}{tx_seq:09d}"
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
                        issue_meta[points if points < 200 else 199],
                    ):
                        if len(recent_issues) < 64:
                            recent_issues.append((txid, points))
                        else:
                            recent_issues[tx_seq & 63] = (txid, points)
                elif r < 0.965:
                    k = bisect_right(reward_cum, rand() * acc)
                    if k >= len(rewards):
                        k = len(rewards) - 1
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
                        redeem_meta[k],
                    )
                elif r < 0.983:
                    delta = rng.choice((-50, -20, -10, 5, 10, 20, 25, 50))
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
                elif recent_issues:
                    orig, pts = recent_issues[int(rand() * len(recent_issues))]
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
        ev.maybe_flush()


# ---------------------------------------------------------------------------
# partner onboarding (partner tenants)
# ---------------------------------------------------------------------------


def _gen_partner(ctx: _Ctx, tp: _Tenant, ev: _EventSink) -> None:
    rng = ctx.rng("events", tp.tenant_id)
    ev.bind(rng)
    emit = ev.emit
    tid, cc = tp.tenant_id, tp.country
    owner = tp.owner_id
    end = ctx.end
    email_seq = [0]

    def session() -> str:
        return f"s_{rng.getrandbits(48):012x}"

    def email(t: int, email_type: str, user: str | None, extra: dict | None = None) -> None:
        email_seq[0] += 1
        eid = f"em_{tp.gindex:03d}{email_seq[0]:07d}"
        meta = {"email_type": email_type}
        if extra:
            meta.update(extra)
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

    sess = session()
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
            sess = session()
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
    if tp.decided_at is not None:
        admin = f"admin_{1 + int(rng.random() * 3):02d}"
        hours = round((tp.decided_at - tp.applied_at) / HOUR, 2)
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
            _dumps({"review_hours": hours}),
        )
        email_type = "approval" if tp.decision == "approved" else "rejection"
        email(tp.decided_at + 5 + int(rng.random() * 120), email_type, owner)
    if tp.decided_at is None:
        ev.maybe_flush()
        return
    if tp.decision == "rejected":
        for _ in range(int(rng.random() * 3)):
            emit(
                tp.decided_at + int(rng.random() * 3 * DAY),
                tid,
                None,
                "partners",
                "dashboard_login",
                owner,
                session(),
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
        ev.maybe_flush()
        return
    stop = tp.suspended_at if tp.suspended_at is not None else end
    s = ctx.scale
    hours = _HOUR_TABLES["office"]
    nh = len(hours)
    rand = rng.random
    mechanics: list[tuple[int, str]] = []
    invite_seq = 0
    api_ok = [f'{{"endpoint":"{e}","http_status":200}}' for e in API_ENDPOINTS]
    first_day = tp.decided_at // DAY
    for d in range(first_day, ctx.days):
        day0 = d * DAY
        if day0 >= stop:
            break
        f = ctx.season("partner", d) * ctx.trend[d]
        lo_t = max(day0, tp.decided_at + 60)
        # invites: sent -> accepted (70 %) before expiry, else expired
        for _ in range(_poisson(rng, PARTNER_INVITES_PER_DAY * s * f)):
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
            if t < lo_t or t >= stop:
                continue
            invite_seq += 1
            inv = f"inv_{tp.gindex:03d}{invite_seq:06d}"
            expires = t + 7 * DAY
            meta = {"expires_at": _iso_offset(ctx, expires)}
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
            email(t + 2 + int(rand() * 60), "invite", owner)
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
                    session(),
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
                    mechanics.append((acc_t, mech))
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
        for _ in range(_poisson(rng, PARTNER_LOGINS_PER_DAY * s * f)):
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
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
                session(),
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
        for _ in range(_poisson(rng, PARTNER_PROFILE_UPDATES_PER_DAY * s * f)):
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
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
        for _ in range(_poisson(rng, PARTNER_API_PER_DAY * s * f)):
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
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
                    api_ok[k],
                )
        ev.maybe_flush()


def _iso_offset(ctx: _Ctx, t: int) -> str:
    """ISO text of second offset t, also beyond the window (for metadata only)."""
    dt = datetime(ctx.start.year, ctx.start.month, ctx.start.day) + timedelta(seconds=t)
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


# ---------------------------------------------------------------------------
# platform (orders, payments, calls, notifications, moderation, content)
# ---------------------------------------------------------------------------


def _gen_platform(ctx: _Ctx, tp: _Tenant, ev: _EventSink) -> None:
    rng = ctx.rng("events", tp.tenant_id)
    ev.bind(rng)
    emit = ev.emit
    tid = tp.tenant_id
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
    hours = _HOUR_TABLES["consumer"]
    nh = len(hours)
    rand = rng.random
    pick = pop.pick
    gi = tp.gindex
    seq = {"ord": 0, "pay": 0, "call": 0, "ntf": 0, "flag": 0}
    svc_cum = []
    acc = 0
    for w in SERVICE_WEIGHTS:
        acc += w
        svc_cum.append(acc)
    not_fallback = '{"is_fallback":false}'
    is_fallback = '{"is_fallback":true}'
    recorded = ('{"recorded":false}', '{"recorded":true}')
    zodiac_meta = [f'{{"zodiac_sign":"{z}"}}' for z in ZODIAC]
    play_meta = {}

    def sid() -> str:
        return f"s_{bits(48):012x}"

    def payment(t: int, user: str, cc: str, amount: int, svc: str | None, order_id: str | None) -> bool:
        """attempt -> success, or failure then a fallback provider; returns success."""
        seq["pay"] += 1
        pid = f"pay_{gi:03d}{seq['pay']:09d}"
        x = rand()
        provider = "stripe" if x < 0.6 else ("square" if x < 0.85 else "paypal")
        for attempt in range(2):
            meta = not_fallback if attempt == 0 else is_fallback
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

    for d in range(ctx.days):
        day0 = d * DAY
        hi = pop.avail[d]
        lo = pop.avail[max(0, d - 14)]
        f = ctx.season("platform", d) * ctx.trend[d]
        # orders with their payment
        for _ in range(_poisson(rng, PLATFORM_ORDERS_PER_DAY * s * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            user, cc = users[i], countries[i]
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
            svc = SERVICE_CODES[bisect_right(svc_cum, rand() * acc)]
            prices = SERVICE_PRICES[svc]
            amount = prices[int(rand() * len(prices))]
            seq["ord"] += 1
            oid = f"ord_{gi:03d}{seq['ord']:08d}"
            sess = sid()
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
                continue
            paid = payment(t + 5 + int(rand() * 90), user, cc, amount, svc, oid)
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
                continue
            t += _lognormal_seconds(rng, 12 * MINUTE, 1.0, 30, 12 * HOUR)
            reader = readers[int(rand() * rand() * len(readers))]
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
                continue
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
                continue
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
        # wallet top-ups (payments without an order)
        for _ in range(_poisson(rng, PLATFORM_TOPUPS_PER_DAY * s * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            payment(
                day0 + hours[int(rand() * nh)] + int(rand() * HOUR),
                users[i],
                countries[i],
                (1000, 2000, 5000, 10000)[int(rand() * 4)],
                None,
                None,
            )
        # calls
        for _ in range(_poisson(rng, PLATFORM_CALLS_PER_DAY * s * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            user, cc = users[i], countries[i]
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
            seq["call"] += 1
            cid = f"call_{gi:03d}{seq['call']:08d}"
            svc = SERVICE_CODES[bisect_right(svc_cum, rand() * acc)]
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
                    recorded[rand() < 0.6],
                )
        # notifications
        for _ in range(_poisson(rng, PLATFORM_NOTIFICATIONS_PER_DAY * s * f)):
            i = pick(rng, hi, lo, 0.2)
            if i < 0:
                continue
            user, cc = users[i], countries[i]
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
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
        # content: horoscope uploads for today's signs (coverage sometimes < 12)
        day_tag = ctx.day_str[d][:10].replace("-", "")
        nsigns = 12 if rand() < 0.85 else 9 + int(rand() * 3)
        published: list[tuple[str, int, int]] = []
        for z in sorted(rng.sample(range(12), nsigns)):
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
                    zodiac_meta[z],
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
                        zodiac_meta[z],
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
                            zodiac_meta[z],
                        ):
                            published.append((hid, z, t))
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
        if published:
            for _ in range(_poisson(rng, PLATFORM_PLAYS_PER_DAY * s * f)):
                i = pick(rng, hi, lo)
                if i < 0:
                    continue
                hid, z, pt = published[int(rand() * len(published))]
                t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
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
                    sid(),
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
        # moderation
        for _ in range(_poisson(rng, PLATFORM_FLAGS_PER_DAY * s * f)):
            i = pick(rng, hi, lo)
            if i < 0:
                continue
            seq["flag"] += 1
            fid = f"flag_{gi:03d}{seq['flag']:07d}"
            t = day0 + hours[int(rand() * nh)] + int(rand() * HOUR)
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
                emit(
                    t + _lognormal_seconds(rng, 8 * HOUR, 1.0, 10 * MINUTE, 5 * DAY),
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
                )
        ev.maybe_flush()


# ---------------------------------------------------------------------------
# bookings (organization tenants)
# ---------------------------------------------------------------------------


def _gen_organization(ctx: _Ctx, tp: _Tenant) -> None:
    rng = ctx.rng("bookings", tp.tenant_id)
    sk_c, sk_b = ctx.sinks["customers"], ctx.sinks["bookings"]
    sk_p, sk_r = ctx.sinks["payments"], ctx.sinks["referral_profiles"]
    ts = ctx.ts
    end = ctx.end
    s = ctx.scale
    org = tp.tenant_id
    cur = tp.currency
    locs = [(lid, created, 0.6 + 0.8 * rng.random()) for lid, _, created in tp.locations]
    expected = 0.0
    for d in range(ctx.days):
        f = ORG_BOOKINGS_PER_LOCATION_DAY * s * ctx.season("organization", d) * ctx.trend[d]
        expected += sum(f * lf for _, _, lf in locs)
    size = int(math.ceil(ORG_CUSTOMERS_PER_BOOKING * expected)) + 20
    pop = _Population(rng, size, end, initial_share=0.35, initial_span=3 * DAY, alpha=2.0, cap=12.0, zero_share=0.15)
    salt = rng.getrandbits(50)
    cust_ids = []
    rand = rng.random
    ng, nf = len(GIVEN_NAMES), len(FAMILY_NAMES)
    for i, joined in enumerate(pop.join):
        cid = _code(i, salt, 10) + _code(rng.getrandbits(50), 0, 10)
        cust_ids.append(cid)
        gi_, fi_ = int(rand() * ng), int(rand() * nf)
        mail = None
        if rand() < 0.88:
            mail = f"{_GIVEN_SLUG[gi_]}.{_FAMILY_SLUG[fi_]}{int(rand() * 100)}@{EMAIL_DOMAINS[int(rand() * 4)]}"
        phone = f"+1-555-{100 + int(rand() * 900)}-{1000 + int(rand() * 9000)}" if rand() < 0.8 else None
        sk_c.add((org, cid, ts(joined), GIVEN_NAMES[gi_], FAMILY_NAMES[fi_], mail, phone))
        if rand() < 0.05:
            rt = joined + int(rand() * rand() * 60 * DAY)
            if rt < end:
                sk_r.add((org, cid, ts(rt)))
    prices = (4500, 6500, 8500, 12000, 18000)
    pending_days = max(2, round(ctx.days * 0.045))
    pending_from = end - pending_days * DAY
    status_w = BOOKING_STATUS_WEIGHTS
    status_total = sum(w for _, w in status_w)
    bsalt = tp.gindex << 36  # booking/payment codes are bijections of (tenant, seq): globally unique
    nb = 0
    np_ = 0
    last = end - 1

    def pay(cid: str | None, bid: str | None, amount: int, status: str, t: int) -> None:
        nonlocal np_
        np_ += 1
        sk_p.add((f"pay_{_code(bsalt | np_, 0x3C3C3C3, 12)}", org, cid, bid, amount, cur, status, ts(min(t, last))))

    for d in range(ctx.days):
        day0 = d * DAY
        hi = pop.avail[d]
        lo = pop.avail[max(0, d - 21)]
        f = ORG_BOOKINGS_PER_LOCATION_DAY * s * ctx.season("organization", d) * ctx.trend[d]
        for lid, lcreated, lf in locs:
            for _ in range(_poisson(rng, f * lf)):
                i = pop.pick(rng, hi, lo, 0.25)
                if i < 0:
                    continue
                cid = cust_ids[i]
                start_t = day0 + 9 * HOUR + 900 * int(rand() * 40)
                lead = int(rng.expovariate(1.0 / (4 * DAY))) if rand() < 0.85 else int(rand() * 2 * HOUR)
                created = max(start_t - lead, pop.join[i] + 60, lcreated + 60)
                if created > start_t:
                    created = start_t
                if start_t >= pending_from and rand() < 0.9:
                    status = "PENDING"
                else:
                    x = rand() * status_total
                    status = status_w[-1][0]
                    for st, w in status_w:
                        x -= w
                        if x < 0:
                            status = st
                            break
                dur = (30, 45, 60, 90, 120)[int(rand() * 5)] * MINUTE
                if status == "ACCEPTED":
                    updated = start_t + dur
                elif status == "NO_SHOW":
                    updated = start_t + 15 * MINUTE + int(rand() * 45 * MINUTE)
                elif status in ("CANCELLED_BY_CUSTOMER", "CANCELLED_BY_SELLER"):
                    updated = created + int((start_t - created) * rand())
                elif status == "DECLINED":
                    updated = min(start_t, created + 5 * MINUTE + int(rand() * 6 * HOUR))
                else:
                    updated = created
                nb += 1
                bid = _code(bsalt | nb, 0x5A5A5A5, 12) + _code(rng.getrandbits(40), 0, 8)
                note = CUSTOMER_NOTES[int(rand() * len(CUSTOMER_NOTES))] if rand() < 0.12 else None
                sk_b.add((bid, org, lid, cid, ts(start_t), status, note, ts(created), ts(min(updated, last))))
                price = prices[int(rand() * rand() * 5)]
                if status == "ACCEPTED":
                    x = rand()
                    tip = (0, 0, 10, 15, 20)[int(rand() * 5)]
                    amount = price + price * tip // 100
                    paid_t = start_t + dur
                    if x < 0.03:
                        pass  # paid in cash, outside the system
                    elif x < 0.09:
                        pay(cid, bid, amount, "FAILED", paid_t)
                        pay(cid, bid, amount, "COMPLETED", paid_t + MINUTE + int(rand() * 10 * MINUTE))
                    elif x < 0.11:
                        pay(cid, bid, amount, "REFUNDED", paid_t)
                    else:
                        pay(cid, bid, amount, "COMPLETED", paid_t)
                elif status == "NO_SHOW" and rand() < 0.25:
                    pay(cid, bid, 2500, "COMPLETED", start_t + HOUR)
                elif status == "CANCELLED_BY_CUSTOMER" and rand() < 0.12:
                    pay(cid, bid, 2000, "CANCELED", updated)
        # retail sales without a booking
        for _ in range(_poisson(rng, 0.8 * s * len(locs) * ctx.trend[d])):
            i = pop.pick(rng, hi, lo, 0.0)
            cid = cust_ids[i] if i >= 0 and rand() < 0.7 else None
            t = day0 + 10 * HOUR + int(rand() * 9 * HOUR)
            pay(cid, None, 1500 + 100 * int(rand() * 45), "COMPLETED" if rand() < 0.97 else "FAILED", t)
        sk_b.maybe_flush()
        sk_p.maybe_flush()


# ---------------------------------------------------------------------------
# marketplace (deals, escrow)
# ---------------------------------------------------------------------------


def _gen_marketplace(ctx: _Ctx, tp: _Tenant) -> None:
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


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------


def generate(
    out_dir: Path,
    *,
    tenants: int = 12,
    days: int = 120,
    start: date = date(2025, 6, 2),
    seed: int = 42,
    scale: float = 1.0,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Write deterministic, realistic CSVs for every raw table into ``out_dir``.

    One file per table, ``<table>.csv``, with the contract columns (DDL order,
    without ``_loaded_at``) as header. The same arguments always produce
    byte-identical files. Volumes are described in the module docstring;
    ``LARGE_SETTINGS`` gives >= 10 M events and >= 1 M bookings.

    Args:
        out_dir (Path): directory to write into; created (with parents) if
            missing. Existing ``<table>.csv`` files are replaced, only once
            every table is written (each is first written to a hidden
            ``.<table>.csv.partial`` and renamed at the end); on any failure
            the partial files are removed and existing files are untouched.
        tenants (int): number of tenants over all kinds, 1..1000.
        days (int): length of the window in days, 1..3660; every timestamp
            lies in ``[start 00:00 UTC, start + days)``.
        start (date): first day of the window (UTC). A ``datetime`` is
            truncated to its date.
        seed (int): random seed; a different seed gives different data.
        scale (float): multiplier of every per-tenant daily volume, > 0 and
            <= 1000 (1.0 = the small demo data set).
        progress (Callable[[str, int], None] | None): called as
            ``progress(table, rows_written_so_far)`` about every 100,000 rows
            of a table and once when each table is complete.

    Returns:
        dict[str, int]: rows written per table (header excluded), keyed by
        table name in contract order.

    Raises:
        ValueError: if an argument is out of range or of the wrong type.
        OSError: if ``out_dir`` cannot be created or written (e.g. ENOSPC); no
            ``<table>.csv`` was written or changed.
    """
    if isinstance(tenants, bool) or not isinstance(tenants, int) or not 1 <= tenants <= 1000:
        raise ValueError(f"tenants must be an integer in 1..1000, got {tenants!r}")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
        raise ValueError(f"days must be an integer in 1..3660, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (0 < scale <= 1000) or math.isnan(scale):
        raise ValueError(f"scale must be a number in (0, 1000], got {scale!r}")
    if isinstance(start, datetime):
        start = start.date()
    if not isinstance(start, date):
        raise ValueError(f"start must be a date, got {start!r}")
    try:
        (start + timedelta(days=days + 30)).isoformat()
    except OverflowError as exc:  # pragma: no cover - only near date.max
        raise ValueError(f"start + days is out of range: {start} + {days}") from exc

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = _Ctx(out_dir, start, days, int(seed), float(scale), progress)
    plans = _plan_tenants(ctx, tenants)

    counts: dict[str, int] = {}
    sinks: dict[str, _Sink] = {}
    # every table is written to a hidden partial file (`kpi load` skips dot files) and renamed to
    # <table>.csv only when ALL tables are complete: a failure (disk full, interrupt) leaves no
    # half-written <table>.csv, and an earlier data set in out_dir stays whole
    partial = {table: out_dir / f".{table}.csv.partial" for table in TABLE_COLUMNS}
    done = False
    try:
        for table in TABLE_COLUMNS:
            path = partial[table]
            if table == "events_raw":
                sinks[table] = _EventSink(path, progress, ctx.end, ctx.day_str, ctx.tod_str)
            else:
                sinks[table] = _Sink(path, table, progress)
        ctx.sinks = sinks
        ts = ctx.ts
        for tp in plans:
            sinks["tenants"].add(
                (tp.tenant_id, tp.kind, tp.name, tp.country, ts(tp.signed_up_at), tp.status, ts(tp.updated_at))
            )
            for lid, lname, created in tp.locations:
                sinks["locations"].add((lid, tp.tenant_id, lname, ts(created)))
            if tp.kind == "partner":
                sinks["partners"].add(
                    (tp.tenant_id, tp.status, ts(tp.applied_at), ts(tp.decided_at), ts(tp.updated_at))
                )
        for name in ("tenants", "locations", "partners"):
            counts[name] = sinks[name].close()
        ev = sinks["events_raw"]
        assert isinstance(ev, _EventSink)
        for tp in plans:
            if tp.kind == "merchant":
                _gen_merchant(ctx, tp, ev)
            elif tp.kind == "partner":
                _gen_partner(ctx, tp, ev)
            elif tp.kind == "platform":
                _gen_platform(ctx, tp, ev)
            elif tp.kind == "organization":
                _gen_organization(ctx, tp)
            else:
                _gen_marketplace(ctx, tp)
        for name, sink in sinks.items():
            if name not in counts:
                counts[name] = sink.close()
        for table, path in partial.items():
            path.replace(out_dir / f"{table}.csv")
        done = True
    finally:
        for sink in sinks.values():
            if not sink.f.closed:
                # the buffered tail may not be writable either (disk full)
                with contextlib.suppress(OSError):
                    sink.f.close()
        if not done:
            for path in partial.values():
                path.unlink(missing_ok=True)
    return {name: counts[name] for name in TABLE_COLUMNS}

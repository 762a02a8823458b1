"""What every product's generator shares.

The raw contract's columns, time units, seasonality and hours of activity,
small random helpers, populations with heavy-tailed activity, the tenant plan
and the run context (one seeded ``random.Random`` per purpose and tenant).
"""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from ..raw_ddl import table_columns

if TYPE_CHECKING:
    from ._sinks import _Sink

# ---------------------------------------------------------------------------
# contract
# ---------------------------------------------------------------------------

#: Columns of every raw table in DDL order, parsed from ``sql/raw_contract.sql`` (the one
#: source), without the loader's ``_loaded_at``: the CSV header the generator writes.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(c for c in cols if not c.startswith("_")) for table, cols in table_columns().items()
}

CHUNK_ROWS = 20_000  # rows buffered per table before csv.writerows
PROGRESS_EVERY = 100_000  # progress callback cadence (rows per table)

DAY = 86_400
HOUR = 3_600
MINUTE = 60

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

#: Tenant countries of the platform, weighted; also the countries of its users.
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
LOCATION_NAMES = ("Downtown", "Main St", "Airport", "Mall", "Station", "Harbourfront", "Uptown", "Old Town")

_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET = (4 << 76) | (0x8000 << 48)

# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


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


def _weighted_index(rng: random.Random, weights: tuple[float, ...]) -> int:
    x = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


_B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
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


def _moment(rand: Callable[[], float], day0: int, hours: tuple[int, ...]) -> int:
    """A random second of the day that starts at offset ``day0``, its hour drawn from ``hours``.

    ``hours`` is an ``_HOUR_TABLES`` entry; ``rand`` is called twice (the hour, then the second).
    """
    return day0 + hours[int(rand() * len(hours))] + int(rand() * HOUR)


def _lognormal_seconds(rng: random.Random, median: float, sigma: float, lo: float, hi: float) -> int:
    return int(min(hi, max(lo, median * math.exp(rng.gauss(0.0, sigma)))))


def _round_half_up_pct(amount: int, pct: int) -> int:
    return (amount * pct + 50) // 100


def _dumps(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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
# tenant plans and the run context
# ---------------------------------------------------------------------------


@dataclass
class _Tenant:
    """A tenant's plan: who it is, and its sign-up and onboarding timeline (second offsets)."""

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
    """The run: window, seed and scale, the text of every day and second, and the table sinks."""

    def __init__(self, start: date, days: int, seed: int, scale: float) -> None:
        self.start = start
        self.days = days
        self.seed = seed
        self.scale = scale
        self.end = days * DAY
        self.start_dow = start.weekday()
        self.day_str = [(start + timedelta(days=d)).isoformat() + "T" for d in range(days)]
        self.tod_str = [f"{h:02d}:{m:02d}:{s:02d}+00:00" for h in range(24) for m in range(60) for s in range(60)]
        self.trend = [1.0 + TREND_PER_DAY * d for d in range(days)]
        self.sinks: dict[str, _Sink] = {}

    def rng(self, purpose: str, key: str = "") -> random.Random:
        return random.Random(f"kpiwh:{self.seed}:{purpose}:{key}")

    def ts(self, t: int | None) -> str | None:
        if t is None:
            return None
        return self.day_str[t // DAY] + self.tod_str[t % DAY]

    def season(self, kind: str, d: int) -> float:
        return SEASON[kind][(self.start_dow + d) % 7]


def _iso_offset(ctx: _Ctx, t: int) -> str:
    """ISO text of second offset t, also beyond the window (for metadata only)."""
    dt = datetime(ctx.start.year, ctx.start.month, ctx.start.day) + timedelta(seconds=t)
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")

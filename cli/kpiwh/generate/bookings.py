"""Bookings: organization tenants' customers, bookings, payments and referral profiles."""

from __future__ import annotations

import math
import unicodedata

from ._common import DAY, HOUR, MINUTE, _code, _Ctx, _poisson, _Population, _Tenant

# volumes per unit of scale (see the package docstring)
ORG_BOOKINGS_PER_LOCATION_DAY = 20.0
ORG_CUSTOMERS_PER_BOOKING = 0.25

BOOKING_STATUS_WEIGHTS = (  # outside the trailing PENDING window
    ("ACCEPTED", 78.0),
    ("NO_SHOW", 6.0),
    ("CANCELLED_BY_CUSTOMER", 10.5),
    ("CANCELLED_BY_SELLER", 3.2),
    ("DECLINED", 2.3),
)
BOOKING_STATUSES = ("ACCEPTED", "NO_SHOW", "CANCELLED_BY_CUSTOMER", "CANCELLED_BY_SELLER", "DECLINED", "PENDING")
PAYMENT_STATUSES = ("COMPLETED", "FAILED", "CANCELED", "REFUNDED")

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


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum()) or "user"


_PRICES = (4500, 6500, 8500, 12000, 18000)  # of a booked service, cents
_GIVEN_SLUG = tuple(_ascii_slug(n) for n in GIVEN_NAMES)
_FAMILY_SLUG = tuple(_ascii_slug(n) for n in FAMILY_NAMES)


def write_tables(ctx: _Ctx, tp: _Tenant) -> None:
    """Write an organization's customers, referral profiles, bookings and payments.

    Args:
        ctx (_Ctx): the run context; rows go to its ``customers``, ``bookings``,
            ``payments`` and ``referral_profiles`` sinks.
        tp (_Tenant): the organization's plan (its locations).
    """
    _Organization(ctx, tp).write_days()


class _Organization:
    """One organization's writer: its locations, customers, and the bookings and payments issued so far."""

    def __init__(self, ctx: _Ctx, tp: _Tenant) -> None:
        rng = ctx.rng("bookings", tp.tenant_id)
        self.ctx, self.rng, self.rand, self.ts = ctx, rng, rng.random, ctx.ts
        self.sk_b, self.sk_p = ctx.sinks["bookings"], ctx.sinks["payments"]
        self.org, self.cur, self.scale = tp.tenant_id, tp.currency, ctx.scale
        self.last = ctx.end - 1
        # (location id, created at, volume factor)
        self.locs = [(lid, created, 0.6 + 0.8 * rng.random()) for lid, _, created in tp.locations]
        expected = 0.0
        for d in range(ctx.days):
            f = ORG_BOOKINGS_PER_LOCATION_DAY * self.scale * ctx.season("organization", d) * ctx.trend[d]
            expected += sum(f * lf for _, _, lf in self.locs)
        size = int(math.ceil(ORG_CUSTOMERS_PER_BOOKING * expected)) + 20
        self.pop = _Population(
            rng, size, ctx.end, initial_share=0.35, initial_span=3 * DAY, alpha=2.0, cap=12.0, zero_share=0.15
        )
        self.cust_ids = self.customers()
        pending_days = max(2, round(ctx.days * 0.045))
        self.pending_from = ctx.end - pending_days * DAY  # bookings starting from then are mostly still PENDING
        self.status_total = sum(w for _, w in BOOKING_STATUS_WEIGHTS)
        self.bsalt = tp.gindex << 36  # booking/payment codes are bijections of (tenant, seq): globally unique
        self.nb = 0
        self.np = 0

    def customers(self) -> list[str]:
        """Write the customers (names, e-mail 88 %, phone 80 %) and referral profiles (5 %); returns their ids."""
        ctx, rng, rand, ts, org = self.ctx, self.rng, self.rand, self.ts, self.org
        sk_c, sk_r = ctx.sinks["customers"], ctx.sinks["referral_profiles"]
        end = ctx.end
        salt = rng.getrandbits(50)
        cust_ids = []
        ng, nf = len(GIVEN_NAMES), len(FAMILY_NAMES)
        for i, joined in enumerate(self.pop.join):
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
        return cust_ids

    def pay(self, cid: str | None, bid: str | None, amount: int, status: str, t: int) -> None:
        """One payment row (``t`` capped at the window's last second)."""
        self.np += 1
        pid = f"pay_{_code(self.bsalt | self.np, 0x3C3C3C3, 12)}"
        self.sk_p.add((pid, self.org, cid, bid, amount, self.cur, status, self.ts(min(t, self.last))))

    def write_days(self) -> None:
        """Every day's bookings at every location, and retail sales without a booking."""
        ctx, rng, rand, pop, cust_ids, pay = self.ctx, self.rng, self.rand, self.pop, self.cust_ids, self.pay
        for d in range(ctx.days):
            day0 = d * DAY
            hi = pop.avail[d]
            lo = pop.avail[max(0, d - 21)]
            f = ORG_BOOKINGS_PER_LOCATION_DAY * self.scale * ctx.season("organization", d) * ctx.trend[d]
            for lid, lcreated, lf in self.locs:
                for _ in range(_poisson(rng, f * lf)):
                    i = pop.pick(rng, hi, lo, 0.25)
                    if i < 0:
                        continue
                    self.booking(day0, lid, lcreated, i)
            # retail sales without a booking
            for _ in range(_poisson(rng, 0.8 * self.scale * len(self.locs) * ctx.trend[d])):
                i = pop.pick(rng, hi, lo, 0.0)
                cid = cust_ids[i] if i >= 0 and rand() < 0.7 else None
                t = day0 + 10 * HOUR + int(rand() * 9 * HOUR)
                pay(cid, None, 1500 + 100 * int(rand() * 45), "COMPLETED" if rand() < 0.97 else "FAILED", t)
            self.sk_b.maybe_flush()
            self.sk_p.maybe_flush()

    def booking(self, day0: int, lid: str, lcreated: int, i: int) -> None:
        """One booking by customer ``i`` at location ``lid`` (created at ``lcreated``), and its payments."""
        rng, rand, ts, last = self.rng, self.rand, self.ts, self.last
        cid = self.cust_ids[i]
        start_t = day0 + 9 * HOUR + 900 * int(rand() * 40)
        lead = int(rng.expovariate(1.0 / (4 * DAY))) if rand() < 0.85 else int(rand() * 2 * HOUR)
        created = max(start_t - lead, self.pop.join[i] + 60, lcreated + 60)
        if created > start_t:
            created = start_t
        status = self.status(start_t)
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
        self.nb += 1
        bid = _code(self.bsalt | self.nb, 0x5A5A5A5, 12) + _code(rng.getrandbits(40), 0, 8)
        note = CUSTOMER_NOTES[int(rand() * len(CUSTOMER_NOTES))] if rand() < 0.12 else None
        self.sk_b.add((bid, self.org, lid, cid, ts(start_t), status, note, ts(created), ts(min(updated, last))))
        self.booking_payments(cid, bid, status, start_t + dur, start_t, updated)

    def status(self, start_t: int) -> str:
        """A booking's status: mostly PENDING near the window's end, else by ``BOOKING_STATUS_WEIGHTS``."""
        rand = self.rand
        if start_t >= self.pending_from and rand() < 0.9:
            return "PENDING"
        x = rand() * self.status_total
        for st, w in BOOKING_STATUS_WEIGHTS:
            x -= w
            if x < 0:
                return st
        return BOOKING_STATUS_WEIGHTS[-1][0]

    def booking_payments(self, cid: str, bid: str, status: str, end_t: int, start_t: int, updated: int) -> None:
        """A booking's payments: the service with a tip, a no-show fee or a cancellation fee.

        The service is paid at ``end_t`` (the booking's end), except 3 % in cash
        (no row); 6 % fail first and 2 % are refunded.
        """
        rand, pay = self.rand, self.pay
        price = _PRICES[int(rand() * rand() * 5)]
        if status == "ACCEPTED":
            x = rand()
            tip = (0, 0, 10, 15, 20)[int(rand() * 5)]
            amount = price + price * tip // 100
            if x < 0.03:
                pass  # paid in cash, outside the system
            elif x < 0.09:
                pay(cid, bid, amount, "FAILED", end_t)
                pay(cid, bid, amount, "COMPLETED", end_t + MINUTE + int(rand() * 10 * MINUTE))
            elif x < 0.11:
                pay(cid, bid, amount, "REFUNDED", end_t)
            else:
                pay(cid, bid, amount, "COMPLETED", end_t)
        elif status == "NO_SHOW" and rand() < 0.25:
            pay(cid, bid, 2500, "COMPLETED", start_t + HOUR)
        elif status == "CANCELLED_BY_CUSTOMER" and rand() < 0.12:
            pay(cid, bid, 2000, "CANCELED", updated)

"""Writes events_raw.csv of the product_activity_small fixture (hand-designed rows; see README.md).

Two tenants (pa_a, pa_b), users u1 u2 u3 u5, four days. Events 220 and 221 are the late
ones (received 40 days after they occurred): the test loads them after a first build.
Event n has id 00000000-0000-4000-8000-<n as 12 digits>.
Run: python make_events.py
"""

import csv
from datetime import datetime, timedelta

D1, D2, D3, D4 = "2025-03-03", "2025-03-04", "2025-03-05", "2025-03-10"
H = [
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
]
rows = []


def ev(n, day, time, tenant, domain, etype, user, *, sid=None, ent=None, late=False):
    occ = datetime.fromisoformat(f"{day}T{time}+00:00")
    rec = occ + timedelta(days=40) if late else occ
    ent_type = {"orders": "order", "payments": "payment", "content": "horoscope"}[domain]
    rows.append(
        [
            f"00000000-0000-4000-8000-{n:012d}",
            occ.isoformat(),
            rec.isoformat(),
            tenant,
            None,
            domain,
            etype,
            user,
            sid,
            ent_type,
            ent,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            1,
        ]
    )


# D1 (Mon 2025-03-03)
ev(201, D1, "09:00:00", "pa_a", "orders", "order_created", "u1", ent="o1")
ev(202, D1, "09:10:00", "pa_a", "payments", "payment_attempted", "u1", ent="p1")
ev(203, D1, "09:20:00", "pa_a", "payments", "payment_succeeded", "u1", ent="p1")
ev(204, D1, "10:30:00", "pa_a", "orders", "order_created", "u1", ent="o2")  # 70 min later: a new session
ev(205, D1, "12:00:00", "pa_a", "content", "horoscope_played", "u2", sid="s1", ent="h1")
ev(206, D1, "12:40:00", "pa_a", "content", "horoscope_played", "u2", sid="s1", ent="h1")  # 40 min, same session_id
ev(207, D1, "15:00:00", "pa_b", "orders", "order_created", "u3", ent="o3")
ev(221, D1, "18:00:00", "pa_b", "content", "horoscope_played", "u5", ent="h2", late=True)
# D2
ev(208, D2, "08:00:00", "pa_a", "orders", "order_assigned", "u1", ent="o1")
ev(209, D2, "09:00:00", "pa_b", "orders", "order_created", "u3", ent="o4")
ev(210, D2, "09:05:00", "pa_b", "orders", "order_cancelled", "u3", ent="o4")
ev(220, D2, "10:00:00", "pa_a", "content", "horoscope_played", "u2", ent="h1", late=True)
# D3
ev(211, D3, "11:00:00", "pa_a", "content", "horoscope_played", "u2", ent="h1")
ev(213, D3, "07:00:00", "pa_a", "content", "horoscope_published", None, ent="h3")  # no user, no session: no one's
# D4 (Mon 2025-03-10)
ev(212, D4, "09:00:00", "pa_b", "content", "horoscope_played", "u5", ent="h2")

with open("events_raw.csv", "w", newline="", encoding="utf-8") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(H)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])

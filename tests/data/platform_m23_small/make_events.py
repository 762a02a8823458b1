"""Writes events_raw.csv of the platform_m23_small fixture (hand-designed rows; see README.md).

Moderation flags and orders with their readers, on the days of platform_small (and
the same tenant), so both fixtures load into one database. Event n has id
00000000-0000-4000-8000-<n as 12 digits>, n >= 100 (platform_small's ids are below).
Run: python make_events.py
"""
import csv

A, B, C = "2025-03-03", "2025-03-04", "2025-03-05"
H = ["event_id", "occurred_at", "received_at", "tenant_id", "location_id", "event_domain", "event_type",
     "user_id", "session_id", "entity_type", "entity_id", "status", "provider", "service_code", "country_code",
     "amount_cents", "currency", "duration_seconds", "metadata", "schema_version"]
rows = []


def ev(n, day, time, domain, etype, user, ent_type, ent, *, status=None, svc=None, cc=None, meta=None):
    occ = f"{day}T{time}+00:00"
    rows.append([f"00000000-0000-4000-8000-{n:012d}", occ, occ, "plt_001", None, domain, etype, user,
                 None, ent_type, ent, status, None, svc, cc, None, None, None, meta, 1])


# --- moderation: five flags -------------------------------------------------------------------
M = "moderation"
ev(101, A, "09:00:00", M, "content_flagged", "u1", "review", "f1", status="flagged", cc="SA", meta='{"reason":"spam"}')
ev(102, A, "10:00:00", M, "moderation_decision", "mod_1", "review", "f1", status="removed")
ev(103, B, "08:00:00", M, "appeal_submitted", "u1", "review", "f1", status="appealed", cc="SA")
ev(104, B, "12:00:00", M, "moderation_decision", "mod_1", "review", "f1", status="approved")  # overturned
ev(105, A, "11:00:00", M, "content_flagged", "u2", "message", "f2", status="flagged", cc="SA", meta='{"reason":"abuse"}')
ev(106, A, "13:00:00", M, "moderation_decision", "mod_1", "message", "f2", status="approved")
ev(107, A, "22:00:00", M, "content_flagged", "u3", "profile", "f3", status="flagged", cc="EG", meta='{"reason":"other"}')
# the late event of the tests: f3's initial decision (without it, f3's appeal review counts as its initial decision)
ev(108, B, "01:00:00", M, "moderation_decision", "mod_1", "profile", "f3", status="removed")
ev(109, C, "09:00:00", M, "appeal_submitted", "u3", "profile", "f3", status="appealed", cc="EG")
ev(110, C, "10:00:00", M, "moderation_decision", "mod_1", "profile", "f3", status="removed")  # upheld
ev(111, B, "10:00:00", M, "content_flagged", "u4", "review", "f4", status="flagged", cc="SA", meta='{"reason":"spam"}')
ev(112, B, "10:30:00", M, "moderation_decision", "mod_1", "review", "f4", status="removed")
ev(113, C, "08:00:00", M, "content_flagged", "u5", "review", "f5", status="flagged", cc="EG", meta='{"reason":"spam"}')
# --- orders with their readers ----------------------------------------------------------------
ORD = "orders"
for n, day, t, et, meta in ((120, A, "10:00:00", "order_created", None),
                            (121, A, "10:05:00", "order_assigned", '{"reader_id":"rdr_a"}'),
                            (122, A, "11:00:00", "order_submitted", None), (123, A, "11:30:00", "order_approved", None),
                            (124, A, "12:00:00", "order_completed", None)):
    ev(n, day, t, ORD, et, "u1", "order", "o11", status=et.split("_")[1], svc="tarot", cc="SA", meta=meta)
for n, day, t, et, meta in ((130, A, "20:00:00", "order_created", None),
                            (131, A, "20:10:00", "order_assigned", '{"reader_id":"rdr_b"}'),
                            (132, A, "23:00:00", "order_submitted", None), (133, B, "00:30:00", "order_rejected", None),
                            (134, B, "02:00:00", "order_submitted", None), (135, B, "03:00:00", "order_approved", None),
                            (136, B, "03:30:00", "order_completed", None)):
    ev(n, day, t, ORD, et, "u2", "order", "o12", status=et.split("_")[1], svc="astrology", cc="SA", meta=meta)
for n, day, t, et, meta in ((140, B, "09:00:00", "order_created", None),
                            (141, B, "09:20:00", "order_assigned", '{"reader_id":"rdr_a"}'),
                            (142, B, "10:00:00", "order_submitted", None), (143, B, "10:20:00", "order_approved", None),
                            (144, C, "08:00:00", "order_completed", None)):
    ev(n, day, t, ORD, et, "u3", "order", "o13", status=et.split("_")[1], svc="tarot", cc="EG", meta=meta)
ev(150, C, "09:00:00", ORD, "order_created", "u4", "order", "o14", status="created", svc="tarot", cc="SA")

with open("events_raw.csv", "w", newline="", encoding="utf-8") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(H)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])

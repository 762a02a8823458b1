"""Writes events_raw.csv of the product_analytics_small fixture (README.md says what each event is for).

Run from this folder: python make_events.py. Event ids are uuid5 of the row's label, so they are stable.
"""

import csv
import json
import uuid

HEADER = (
    "event_id,occurred_at,received_at,tenant_id,location_id,event_domain,event_type,user_id,session_id,"
    "entity_type,entity_id,status,provider,service_code,country_code,amount_cents,currency,duration_seconds,"
    "metadata,schema_version"
).split(",")

# label, occurred_at (UTC), tenant, domain, type, user_id, entity_id, country_code, metadata
EVENTS = [
    # --- orders (order_funnel: entity_id; user_purchase: user_id) ------------------------------
    ("o1_created", "2025-03-01 10:00", "plt_001", "orders", "order_created", "u1", "o1", "SA", None),
    ("o1_assigned", "2025-03-01 10:00", "plt_001", "orders", "order_assigned", "u1", "o1", "SA", None),
    ("u1_pay_same_instant", "2025-03-01 10:00", "plt_001", "payments", "payment_succeeded", "u1", "p1", "SA", None),
    ("u1_pay", "2025-03-01 10:05", "plt_001", "payments", "payment_succeeded", "u1", "p2", "SA", None),
    ("o1_completed_edge", "2025-03-08 10:00", "plt_001", "orders", "order_completed", "u1", "o1", "SA", None),
    ("o2_created", "2025-03-01 12:00", "plt_001", "orders", "order_created", "u2", "o2", "SA", None),
    ("u2_pay", "2025-03-01 12:30", "plt_001", "payments", "payment_succeeded", "u2", "p3", "SA", None),
    ("o2_cancelled", "2025-03-01 12:45", "plt_001", "orders", "order_cancelled", "u2", "o2", "SA", None),
    ("o2_completed_early", "2025-03-01 13:00", "plt_001", "orders", "order_completed", "u2", "o2", "SA", None),
    ("o2_assigned", "2025-03-01 14:00", "plt_001", "orders", "order_assigned", "u2", "o2", "SA", None),
    ("o2_completed", "2025-03-02 09:00", "plt_001", "orders", "order_completed", "u2", "o2", "SA", None),
    ("o3_created", "2025-03-02 10:00", "plt_001", "orders", "order_created", "u3", "o3", None, None),
    ("o3_assigned_late", "2025-03-09 10:01", "plt_001", "orders", "order_assigned", "u3", "o3", None, None),
    ("o4_assigned_only", "2025-03-03 09:00", "plt_001", "orders", "order_assigned", None, "o4", "SA", None),
    # --- payments (monthly_payers: user_id, breakdown country_code) ------------------------------
    ("u1_pay_april", "2025-04-10 09:00", "plt_001", "payments", "payment_succeeded", "u1", "p4", "SA", None),
    ("u4_pay", "2025-04-15 09:00", "plt_001", "payments", "payment_succeeded", "u4", "p5", "AE", None),
    ("u4_pay_may", "2025-05-20 09:00", "plt_001", "payments", "payment_succeeded", "u4", "p6", "AE", None),
    # --- notifications / content (notification_engagement: unordered, breakdown metadata.campaign)
    ("u5_opened", "2025-03-03 08:00", "plt_001", "notifications", "notification_opened", "u5", "n1", None,
     {"campaign": "spring"}),
    ("u5_delivered", "2025-03-03 09:00", "plt_001", "notifications", "notification_delivered", "u5", "n1", None,
     {"campaign": "spring"}),
    ("u5_played_edge", "2025-03-04 08:00", "plt_001", "content", "horoscope_played", "u5", "h1", None,
     {"listen_pct": 80}),
    ("u6_delivered", "2025-03-03 10:00", "plt_001", "notifications", "notification_delivered", "u6", "n2", None, {}),
    ("u6_delivered_again", "2025-03-03 11:00", "plt_001", "notifications", "notification_delivered", "u6", "n3",
     None, {}),
    ("u6_played_outside", "2025-03-05 10:00", "plt_001", "content", "horoscope_played", "u6", "h1", None,
     {"listen_pct": 10}),
    # --- the last day: a user seen once (every period too young) ---------------------------------
    ("u8_call", "2025-05-20 10:00", "plt_001", "calls", "call_started", "u8", "c1", None, None),
    # --- loyalty onboarding (pilot_onboarding: tenant_id) ----------------------------------------
    ("m1_signup", "2025-03-01 09:00", "m1", "loyalty", "merchant_signed_up", None, None, None, None),
    ("m1_location", "2025-03-01 09:10", "m1", "loyalty", "location_created", None, None, None, None),
    ("m1_staff", "2025-03-01 09:30", "m1", "loyalty", "staff_invited", None, None, None, None),
    ("m1_device", "2025-03-01 10:00", "m1", "loyalty", "device_registered", None, None, None, None),
    ("m1_first_scan", "2025-03-01 11:00", "m1", "loyalty", "points_issued", None, None, None, {"points": 10}),
    ("m2_signup", "2025-03-02 09:00", "m2", "loyalty", "merchant_signed_up", None, None, None, None),
]

#: the late event the tests load after a first build (o3 assigned within its window)
LATE = ("o3_assigned_in_window", "2025-03-03 10:00", "plt_001", "orders", "order_assigned", "u3", "o3", None, None)


def row(event, received=None):
    """One CSV row of an event tuple (received_at = occurred_at unless given)."""
    label, at, tenant, domain, type_, user, entity, country, metadata = event
    ts = at.replace(" ", "T") + ":00+00:00"
    entity_type = {"orders": "order", "payments": "payment", "notifications": "notification",
                   "content": "horoscope", "calls": "call"}.get(domain, "")
    return [
        str(uuid.uuid5(uuid.NAMESPACE_URL, "pa_small/" + label)), ts, received or ts, tenant, "", domain, type_,
        user or "", "", entity_type if entity else "", entity or "", "", "", "", country or "", "", "", "",
        json.dumps(metadata) if metadata is not None else "", "1",
    ]


if __name__ == "__main__":
    with open("events_raw.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for e in EVENTS:
            w.writerow(row(e))

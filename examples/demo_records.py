#!/usr/bin/env python3
"""Writes the demo's input records (KEY<TAB>JSON per line) for the segments
of examples/rules.yaml, stamped relative to now so that rolling windows hold
them under the wall clock. One user per scenario of SCENARIOS.md, plus two
records segd must refuse.

Usage: demo_records.py > records.tsv
"""
import json
import time

NOW = int(time.time() * 1000)
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
out = []


def rec(user, ts, event=None, props=None, set_=None):
    r = {"user_id": user, "ts": ts}
    if event:
        r["event"] = event
    if props:
        r["props"] = props
    if set_:
        r["set"] = set_
    out.append(f"{user}\t{json.dumps(r, separators=(',', ':'))}")


for d in range(24, 3, -1):                      # 1: 21 active days in the last 30
    rec("u1", NOW - d * DAY, "visit")
for d in range(29, 14, -1):                     # 2 and 12: 15 active days, none since
    rec("u2", NOW - d * DAY, "visit")
rec("u3", NOW - 2 * DAY, "coupon_claim", {"coupon": "A"})          # 3
rec("u4", NOW - 2 * HOUR, "signup_start")                          # 4: stopped at step 2
rec("u4", NOW - 2 * HOUR + MIN, "send_code")
rec("u5", NOW - HOUR, "activity_signup", {"activity": "X"})        # 5: online and listed
rec("u6", NOW - 2 * DAY, set_={"contact_count": 5})                # 6: growing
for d in (3, 2, 1):                                                 # 7
    rec("u7", NOW - d * DAY, "cart_calc")
rec("u8", NOW - DAY, set_={"gender": "male", "age": 23})           # 8
rec("u9", NOW - 3 * DAY, set_={"level": 12})                       # 9
rec("u9", NOW - 3 * DAY, "comment")
rec("u9", NOW - 3 * DAY, "like")
for i in range(11):
    rec("u9", NOW - 2 * DAY + i * MIN, "gift_send")
rec("u10", 1484445600000, "register")                              # 10: 2017-01-15
rec("u10", 1488340800000, "view_credit")                           # 2017-03-01
for d in (20, 15, 10, 5, 1):                                        # 11: 5 x 700
    rec("u11", NOW - d * DAY, "purchase", {"amount": 700})
rec("u12", NOW, "order_submit", {"order": "o-1"})                  # demo: 15 s to pay
out.append('u13\t{"user_id":"u13","event":"visit","ts":1.5}')     # refused: invalid_ts
out.append("u14\tnot json at all")                                 # refused: invalid_json
print("\n".join(out))

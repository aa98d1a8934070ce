#!/usr/bin/env python3
"""A changed rule set over kept state (SEMANTICS.md §4, §5): `segd replay`
with --data, first under one rule set, then under a changed one.

- an unchanged segment keeps its generation and memberships;
- a changed rule is generation 2: members re-evaluated silently (its
  emit_initial is off), later changes numbered from 1 again;
- a new segment with emit_initial is evaluated over every known user at
  once, and its entries go out with cause `definition` at the clock;
- a deleted segment emits nothing;
- a feature the new rule needs that was not kept starts counting now (the
  sum of `amount` ignores the purchase made before the change);
- a segment deleted and created again starts a new generation (no change
  id repeats);
- changing the time zone while state exists is refused.

Usage: rule_change_test.py SEGD_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime

A = """timezone: Asia/Shanghai
segments:
  - {id: visited, rule: 'did(visit)'}
  - {id: buyer, rule: 'did(purchase)'}
  - {id: heavy, rule: 'count(visit, 7d) >= 2'}
"""
B = """timezone: Asia/Shanghai
segments:
  - {id: visited, rule: 'did(visit)'}
  - {id: heavy, rule: 'count(visit, 7d) >= 3'}
  - {id: anyone, rule: 'not did(invest)', emit_initial: true}
  - {id: spender, rule: 'sum(purchase.amount, 30d) >= 10'}
"""
C = B.replace("Asia/Shanghai", "UTC")
# heavy deleted (another rule keeps the visits of the week), then created
# again: a new generation, so no id repeats.
D = B.replace("  - {id: heavy, rule: 'count(visit, 7d) >= 3'}\n",
              "  - {id: weekly, rule: 'did(visit, 7d)'}\n")
E = B.replace("'count(visit, 7d) >= 3'}", "'count(visit, 7d) >= 3', emit_initial: true}")


def rec(user, event, day, hour, **props):
    r = {"user_id": user, "event": event, "ts": f"2026-11-{day:02d}T{hour:02d}:00:00+08:00"}
    if props:
        r["props"] = props
    return json.dumps(r) + "\n"


FIRST = [rec("u1", "visit", 1, 10), rec("u1", "visit", 2, 10),
         rec("u2", "purchase", 2, 11, amount=50)]
SECOND = [rec("u1", "visit", 3, 10), rec("u2", "purchase", 3, 11, amount=20)]

def at(day, hour):
    return int(datetime.fromisoformat(f"2026-11-{day:02d}T{hour:02d}:00:00+08:00")
               .timestamp() * 1000)


EXPECTED_FIRST = [
    ("visited:1:1:u1", "enter", "event", at(1, 10)),
    ("heavy:1:1:u1", "enter", "event", at(2, 10)),
    ("buyer:1:1:u2", "enter", "event", at(2, 11)),
]
# The new segment enters at the clock of the moment the rules changed: the
# last record's time, Nov 2 11:00.
EXPECTED_SECOND = [
    ("anyone:1:1:u1", "enter", "definition", at(2, 11)),
    ("anyone:1:1:u2", "enter", "definition", at(2, 11)),
    ("heavy:2:1:u1", "enter", "event", at(3, 10)),
    ("spender:1:1:u2", "enter", "event", at(3, 11)),
]


def replay(segd, rules_text, lines, data):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(rules_text)
    try:
        return subprocess.run([segd, "replay", "--rules", f.name, "--data", data, "--input", "-"],
                              input="".join(lines), capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(f.name)


def changes(proc):
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(l) for l in proc.stdout.splitlines()]
    return sorted((c["id"], c["change"], c["cause"], c["at"]) for c in out)


def main():
    segd = sys.argv[1]
    ok = True
    with tempfile.TemporaryDirectory() as data:
        for name, got, want in [
                ("first rule set", changes(replay(segd, A, FIRST, data)), EXPECTED_FIRST),
                ("changed rule set", changes(replay(segd, B, SECOND, data)), EXPECTED_SECOND)]:
            good = got == sorted(want)
            ok &= good
            print(("ok   " if good else "FAIL ") + name)
            if not good:
                print("     expected", sorted(want), "\n     got     ", got)
        for name, got, want in [
                ("segment deleted", changes(replay(segd, D, [], data)), []),
                ("segment created again", changes(replay(segd, E, [], data)),
                 [("heavy:3:1:u1", "enter", "definition", at(3, 11))])]:
            good = got == sorted(want)
            ok &= good
            print(("ok   " if good else "FAIL ") + name)
            if not good:
                print("     expected", sorted(want), "\n     got     ", got)
        proc = replay(segd, C, [], data)
        good = proc.returncode != 0 and "time zone" in proc.stderr
        ok &= good
        print(("ok   " if good else "FAIL ") + "a time zone change is refused: " +
              proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

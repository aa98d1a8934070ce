#!/usr/bin/env python3
"""Golden tests: each folder under tests/golden/cases holds rules.yaml,
records.jsonl and expected.txt. `segd replay` of the records must print
exactly the expected change records, written for people as

    <id> <change> <cause> <at as RFC 3339 in the case's zone offset>

(one per line, '#' comments allowed; `at` in the rule set's time zone).
The JSON fields are checked against the id as well, so the readable form
loses nothing. Changes are compared per user, in order (SEMANTICS.md §4).

Usage: run_golden.py SEGD_BINARY CASES_DIR [CASE...]
"""
import json
import os
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo


def zone_of(case_dir):
    # `at` is printed in the rule set's time zone, with that instant's offset.
    with open(os.path.join(case_dir, "rules.yaml")) as f:
        for line in f:
            if line.startswith("timezone:"):
                return ZoneInfo(line.split(":", 1)[1].strip())
    return ZoneInfo("UTC")


def by_user(lines):
    # SEMANTICS.md §4: only each user's own order is specified.
    users = {}
    for line in lines:
        users.setdefault(line.split()[0].split(":", 3)[3], []).append(line)
    return users


def readable(change, tz):
    seg, gen, n, user = change["id"].split(":", 3)
    assert user == change["user_id"], change
    assert seg == change["segment"], change
    assert set(change) == {"id", "user_id", "segment", "change", "at", "cause"}, change
    at = datetime.fromtimestamp(change["at"] / 1000, tz)
    text = at.isoformat(timespec="milliseconds" if change["at"] % 1000 else "seconds")
    return f'{change["id"]} {change["change"]} {change["cause"]} {text}'


def run_case(segd, case_dir):
    with open(os.path.join(case_dir, "expected.txt")) as f:
        expected = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    proc = subprocess.run(
        [segd, "replay", "--rules", os.path.join(case_dir, "rules.yaml"),
         "--input", os.path.join(case_dir, "records.jsonl")],
        capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return [f"segd replay exited {proc.returncode}: {proc.stderr}"]
    tz = zone_of(case_dir)
    got = [readable(json.loads(l), tz) for l in proc.stdout.splitlines() if l.strip()]
    if by_user(got) == by_user(expected):
        return []
    lines = ["expected:"] + ["  " + l for l in expected] + ["got:"] + ["  " + l for l in got]
    return lines


def main():
    segd, cases = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or sorted(os.listdir(cases))
    failed = 0
    for name in names:
        problems = run_case(segd, os.path.join(cases, name))
        print(("FAIL " if problems else "ok   ") + name)
        for p in problems:
            print("     " + p)
        failed += bool(problems)
    print(f"{len(names) - failed} of {len(names)} golden cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

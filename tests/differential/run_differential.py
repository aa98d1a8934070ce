#!/usr/bin/env python3
"""The randomized differential test (TESTING.md, "Semantics").

For each seed: segd_gen writes a generated history and rule set (and fails
if the history did not reach every construct and kind of boundary it was
built to reach); segd_reference — SEMANTICS.md implemented again by brute
force, linking nothing of segd — prints the change records it expects; and
`segd replay` must print exactly those, per user, in order: id, change,
cause and at.

Usage: run_differential.py SEGD SEGD_GEN SEGD_REFERENCE [--users N] [--days D]
(--users defaults to $SEGD_DIFF_USERS, else 400; five seeds, so 2000 users)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# (seed, time zone, start day, segd replay batch size): zones whose DST
# changes fall inside the generated weeks (two skip midnight, one shifts by
# 30 minutes), and batches from one record up.
RUNS = [
    (1, "America/New_York", "2025-10-20", 10000),
    (2, "Europe/Berlin", "2026-03-15", 7),
    (3, "America/Santiago", "2026-08-25", 1),
    (4, "America/Havana", "2026-03-01", 100),
    (5, "Australia/Lord_Howe", "2026-03-25", 33),
]


def by_user(text):
    users = {}
    for line in text.splitlines():
        c = json.loads(line)
        users.setdefault(c["user_id"], []).append((c["id"], c["change"], c["cause"], c["at"]))
    return users


def run(args, **kw):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def one(tool, seed, zone, start, batch, users, days, work):
    rules, records = os.path.join(work, "rules.yaml"), os.path.join(work, "records.jsonl")
    gen = run([tool.gen, "--seed", str(seed), "--users", str(users), "--days", str(days),
               "--timezone", zone, "--start", start, "--rules-out", rules,
               "--records-out", records, "--require-coverage"])
    expected = by_user(run([tool.reference, "--rules", rules, "--input", records]).stdout)
    got = by_user(run([tool.segd, "replay", "--rules", rules, "--input", records,
                       "--batch", str(batch)]).stdout)
    changes = sum(len(v) for v in expected.values())
    bad = sorted(u for u in set(expected) | set(got) if expected.get(u) != got.get(u))
    print(f"{'FAIL' if bad else 'ok  '} seed {seed} {zone}: {len(expected)} users with changes, "
          f"{changes} changes, batch {batch}")
    for u in bad[:5]:
        e, g = expected.get(u, []), got.get(u, [])
        i = next(i for i in range(max(len(e), len(g)))
                 if i >= len(e) or i >= len(g) or e[i] != g[i])
        print(f"     user {u}, change #{i + 1}:\n       reference: {e[i:i + 3]}\n"
              f"       segd:      {g[i:i + 3]}")
    if seed == RUNS[0][0]:
        print("     " + "\n     ".join(l for l in gen.stdout.splitlines() if "boundary" in l))
    return not bad


def main():
    p = argparse.ArgumentParser()
    p.add_argument("segd")
    p.add_argument("gen")
    p.add_argument("reference")
    # SEGD_DIFF_USERS lets the sanitizer run use fewer users (scripts/test).
    p.add_argument("--users", type=int, default=int(os.environ.get("SEGD_DIFF_USERS", "400")))
    p.add_argument("--days", type=int, default=42)
    tool = p.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as work:
        for seed, zone, start, batch in RUNS:
            ok &= one(tool, seed, zone, start, batch, tool.users, tool.days, work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The randomized differential test (TESTING.md, "Semantics").

For each seed: segd_gen writes a generated history and rule set (and fails
if the history did not reach every construct and kind of boundary it was
built to reach); segd_reference — SEMANTICS.md implemented again by brute
force, linking nothing of segd — prints the change records it expects; and
`segd replay` must print exactly those, per user, in order: id, change,
cause and at.

One run splits the stream into partitions by user id, as Kafka's Java
client partitions keys (murmur2, written again in tests/kafka_murmur2.py),
and replays it with `segd replay --partitions N --workers 2`: each
partition has its own clock (SEMANTICS.md §2), so the reference replays
each partition's records on their own and the outputs must match
partition by partition.

Usage: run_differential.py SEGD SEGD_GEN SEGD_REFERENCE [--users N] [--days D]
(--users defaults to $SEGD_DIFF_USERS, else 400; six seeds, so 2400 users)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kafka_murmur2 import kafka_partition  # noqa: E402

# (seed, time zone, start day, segd replay batch size, partitions): zones
# whose DST changes fall inside the generated weeks (two skip midnight, one
# shifts by 30 minutes), batches from one record up, and one run on three
# partitions.
RUNS = [
    (1, "America/New_York", "2025-10-20", 10000, 1),
    (2, "Europe/Berlin", "2026-03-15", 7, 1),
    (3, "America/Santiago", "2026-08-25", 1, 1),
    (4, "America/Havana", "2026-03-01", 100, 1),
    (5, "Australia/Lord_Howe", "2026-03-25", 33, 1),
    (6, "Europe/London", "2026-03-20", 50, 3),
]


def partition_of(line, partitions):
    """The partition of a record line: its user id's, as a Kafka key. A line
    without a usable user id is refused whichever partition reads it."""
    try:
        user = json.loads(line).get("user_id")
    except (ValueError, AttributeError):
        return 0
    if isinstance(user, bool) or not isinstance(user, (str, int)):
        return 0
    return kafka_partition(str(user).encode(), partitions)


def split(records, partitions, work):
    paths = [os.path.join(work, f"records.p{i}.jsonl") for i in range(partitions)]
    files = [open(p, "w") for p in paths]
    with open(records) as f:
        for line in f:
            files[partition_of(line, partitions)].write(line)
    for f in files:
        f.close()
    return paths


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


def one(tool, seed, zone, start, batch, partitions, users, days, work):
    rules, records = os.path.join(work, "rules.yaml"), os.path.join(work, "records.jsonl")
    gen = run([tool.gen, "--seed", str(seed), "--users", str(users), "--days", str(days),
               "--timezone", zone, "--start", start, "--rules-out", rules,
               "--records-out", records, "--require-coverage"])
    expected = {}
    for path in split(records, partitions, work) if partitions > 1 else [records]:
        # Each partition's users are its own: the outputs do not overlap.
        expected.update(by_user(run([tool.reference, "--rules", rules, "--input", path]).stdout))
    parts = ["--partitions", str(partitions), "--workers", "2"] if partitions > 1 else []
    got = by_user(run([tool.segd, "replay", "--rules", rules, "--input", records,
                       "--batch", str(batch)] + parts).stdout)
    changes = sum(len(v) for v in expected.values())
    bad = sorted(u for u in set(expected) | set(got) if expected.get(u) != got.get(u))
    print(f"{'FAIL' if bad else 'ok  '} seed {seed} {zone}: {len(expected)} users with changes, "
          f"{changes} changes, batch {batch}, {partitions} partition(s)")
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
        for seed, zone, start, batch, partitions in RUNS:
            ok &= one(tool, seed, zone, start, batch, partitions, tool.users, tool.days, work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

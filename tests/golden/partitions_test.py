#!/usr/bin/env python3
"""`segd replay --partitions N --workers W` (issue 12, scale up): the stream
split by user id as Kafka's clients partition keys, each partition with its
own state and clock, run on W threads.

- each partition's output equals a one-partition replay of that
  partition's records alone, in input order (per-partition clocks,
  SEMANTICS.md §2), and the partition of each user is murmur2 of its id
  (checked against the Java clients' values);
- the output does not depend on the number of workers (byte for byte);
- a data folder written by a partitioned replay resumes: replaying the
  second half onto it gives what one run over the whole gives.

Usage: partitions_test.py SEGD SEGD_LOADGEN
"""
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests"))
from kafka_murmur2 import kafka_partition, murmur2  # noqa: E402
RULES = os.path.join(REPO, "bench", "rules.yaml")
N = 3


def partition_of(user):
    return kafka_partition(user.encode(), N)


def replay(segd, lines, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.writelines(lines)
    try:
        out = subprocess.run([segd, "replay", "--rules", RULES, "--input", f.name, "--batch", "700",
                              *args], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    return out.splitlines()


def main():
    segd, loadgen = sys.argv[1], sys.argv[2]
    failures = []

    def check(what, ok, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if not ok and detail else ""))
        if not ok:
            failures.append(what)

    # Kafka's own murmur2 test values (as signed 32-bit ints).
    check("murmur2 is Kafka's", [murmur2(b) - (1 << 32) if murmur2(b) >= 1 << 31 else murmur2(b)
                                 for b in (b"21", b"foobar", b"abc")] ==
          [-973932308, -790332482, 479470107])
    lines = subprocess.run([loadgen, "--users", "400", "--records", "8000", "--days", "20",
                            "--seed", "7"], capture_output=True, text=True,
                           check=True).stdout.splitlines(True)
    by_part = [[] for _ in range(N)]
    for l in lines:
        by_part[partition_of(json.loads(l)["user_id"])].append(l)
    check("every partition has records", all(by_part), [len(p) for p in by_part])

    one = replay(segd, lines, "--partitions", str(N), "--workers", "1")
    two = replay(segd, lines, "--partitions", str(N), "--workers", "2")
    check("the output does not depend on the number of workers", one == two and len(one) > 100,
          f"{len(one)} vs {len(two)} lines")
    got = [[] for _ in range(N)]
    for c in one:
        got[partition_of(json.loads(c)["user_id"])].append(c)
    for i in range(N):
        alone = replay(segd, by_part[i])
        check(f"partition {i} is a one-partition replay of its records", got[i] == alone,
              f"{len(got[i])} vs {len(alone)}")

    with tempfile.TemporaryDirectory() as data:
        half = len(lines) // 2
        first = replay(segd, lines[:half], "--partitions", str(N), "--workers", "2", "--data", data)
        second = replay(segd, lines[half:], "--partitions", str(N), "--workers", "2", "--data", data)
        resumed = [[] for _ in range(N)]
        for c in first + second:
            resumed[partition_of(json.loads(c)["user_id"])].append(c)
        check("a partitioned data folder resumes", resumed == got)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

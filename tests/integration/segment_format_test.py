#!/usr/bin/env python3
"""`segd run` with input.format=segment on a real broker.

The Segment-spec calls of tests/golden/segment/records.segment.jsonl go to
a one-partition input topic keyed by user; segd runs with the event clock
and examples/rules.yaml. A read_committed consumer of the output must see
exactly what `segd replay --input-format segment` prints for the same
file, and the dead-letter topic must hold the group and alias calls with
`segd.reason=unsupported_type`.

Usage: segment_format_test.py SEGD
Broker: $SEGD_TEST_BROKERS, else one started with scripts/kafka-local.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDS = os.path.join(REPO, "tests", "golden", "segment", "records.segment.jsonl")
RULES = os.path.join(REPO, "examples", "rules.yaml")


def read(brokers, topic, fmt="%s\n"):
    return subprocess.run(
        ["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt,
         "-X", "isolation.level=read_committed"],
        capture_output=True, text=True, timeout=60).stdout.splitlines()


def main():
    segd = sys.argv[1]
    work = tempfile.mkdtemp(prefix="segd-segment-")
    own_broker = None
    brokers = os.environ.get("SEGD_TEST_BROKERS")
    if not brokers:
        own_broker = os.path.join(work, "broker")
        brokers = subprocess.run([f"{REPO}/scripts/kafka-local", "start", own_broker],
                                 capture_output=True, text=True, check=True).stdout.split()[-1]
    proc = None
    try:
        tag = f"segment{os.getpid()}"
        subprocess.run([segd, "topics", "create", "--brokers", brokers, "--partitions", "1",
                        f"{tag}-in"], check=True)
        with open(RECORDS) as f:
            lines = [l.strip() for l in f if l.strip()]
        keyed = ""
        for line in lines:
            call = json.loads(line)
            keyed += f"{call.get('userId') or call['anonymousId']}\t{line}\n"
        subprocess.run(["kcat", "-P", "-b", brokers, "-t", f"{tag}-in", "-K", "\t"],
                       input=keyed, text=True, check=True, timeout=60)
        want = sorted(subprocess.run(
            [segd, "replay", "--rules", RULES, "--input", RECORDS, "--input-format", "segment"],
            capture_output=True, text=True, check=True, timeout=120).stdout.splitlines())
        assert len(want) > 10, want

        proc = subprocess.Popen(
            [segd, "run", "--rules", RULES, "--data_dir", os.path.join(work, "data"),
             "--clock", "event", "--kafka.brokers", brokers, "--kafka.group_id", tag,
             "--topics.input", f"{tag}-in", "--topics.output", f"{tag}-out",
             "--topics.dead_letter", f"{tag}-dlq", "--input.format", "segment",
             "--admin.listen", "127.0.0.1:0"],
            stderr=open(os.path.join(work, "segd.log"), "w"))
        end = time.monotonic() + 90
        got = []
        while time.monotonic() < end and len(got) < len(want) and proc.poll() is None:
            time.sleep(1)
            got = read(brokers, f"{tag}-out")
        if sorted(got) != want:
            with open(os.path.join(work, "segd.log")) as f:
                sys.exit(f"output differs from replay:\n got {got}\n want {want}\n{f.read()}")
        reasons = read(brokers, f"{tag}-dlq", "%h\n")
        unsupported = [l for l in lines if json.loads(l)["type"] in ("group", "alias")]
        assert len(reasons) == len(unsupported) and all(
            "segd.reason=unsupported_type" in r for r in reasons), reasons
        print(f"ok: {len(got)} changes as replay gives them, {len(reasons)} dead letters")
        return 0
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)
        if own_broker:
            subprocess.run([f"{REPO}/scripts/kafka-local", "stop", own_broker],
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

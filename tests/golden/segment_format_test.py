#!/usr/bin/env python3
"""The Segment-spec preset against segd's own format, through `segd replay`.

tests/golden/segment/ holds one stream written twice: records.jsonl in the
segd format and records.segment.jsonl as Segment track/identify/page/screen
calls, plus a group and an alias call. Replayed with the same rules, both
must give exactly the same change records (ids included), the segd file no
refusal, and the Segment file exactly its group and alias calls, refused as
`unsupported_type`.

Usage: segment_format_test.py SEGD REPO
"""
import json
import os
import subprocess
import sys


def replay(segd, rules, records, fmt):
    proc = subprocess.run(
        [segd, "replay", "--rules", rules, "--input", records, "--input-format", fmt],
        capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        sys.exit(f"segd replay --input-format {fmt} exited {proc.returncode}: {proc.stderr}")
    changes = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
    refused = [json.loads(l) for l in proc.stderr.splitlines() if l.strip()]
    return changes, refused


def main():
    segd, repo = sys.argv[1], sys.argv[2]
    case = os.path.join(repo, "tests", "golden", "segment")
    segd_file = os.path.join(case, "records.jsonl")
    segment_file = os.path.join(case, "records.segment.jsonl")
    with open(segment_file) as f:
        calls = [json.loads(l) for l in f]
    unsupported = [i + 1 for i, c in enumerate(calls) if c["type"] in ("group", "alias")]
    failures = []
    for rules, min_changes in ((os.path.join(repo, "examples", "rules.yaml"), 15),
                               (os.path.join(case, "pages.yaml"), 2)):
        name = os.path.relpath(rules, repo)
        want, want_refused = replay(segd, rules, segd_file, "segd")
        got, got_refused = replay(segd, rules, segment_file, "segment")
        if len(want) < min_changes:
            failures.append(f"{name}: only {len(want)} changes from the segd file")
        if got != want:
            failures.append(f"{name}: changes differ\n  segd:    {want}\n  segment: {got}")
        if want_refused:
            failures.append(f"{name}: the segd file had refusals: {want_refused}")
        lines = [r["line"] for r in got_refused]
        reasons = {r["reason"] for r in got_refused}
        if lines != unsupported or reasons != {"unsupported_type"}:
            failures.append(f"{name}: expected unsupported_type at lines {unsupported}, "
                            f"got {got_refused}")
        print(f"{'FAIL' if failures else 'ok  '} {name}: {len(want)} changes, "
              f"{len(got_refused)} refused")
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

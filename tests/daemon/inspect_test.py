#!/usr/bin/env python3
"""`segd inspect user` and `segd export` on data folders made by `segd replay`.

Each golden case's records are split over two partitions by user
(`events-0`, `events-1`) and replayed into one data_dir. Then:
- `segd export SEG` prints exactly the users whose last change record in
  SEG was an enter, partition by partition, in user id order (csv, jsonl);
- `segd inspect user U --json` reports that membership, and `--explain SEG`
  a verdict equal to it;
- every explained next change that flips is an instant at which the engine
  emits a time-caused change for that user and segment: a probe record at
  the earliest such instant makes replay emit exactly those;
- both commands work while another `segd replay` holds the folder open;
- with `--rules`, inspect reads the lists uploaded through the admin API
  from the data_dir's catalog.json.

Usage: inspect_test.py SEGD_BINARY CASES_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def replay(segd, rules, lines, data):
    proc = run([segd, "replay", "--rules", rules, "--input", "-", "--data", data],
               input="".join(lines))
    if proc.returncode != 0:
        raise RuntimeError(f"segd replay failed: {proc.stderr}")
    return [json.loads(l) for l in proc.stdout.splitlines()]


def partition_of(user):
    return zlib.crc32(user.encode()) % 2


def user_of(line):
    """The record's user id, or None for a line replay refuses."""
    try:
        rec = json.loads(line)
        user = rec.get("user_id") if isinstance(rec, dict) else None
    except ValueError:
        return None
    return str(user) if isinstance(user, (str, int)) and not isinstance(user, bool) else None


PROBES = []  # explained flips the engine was checked against, per probe


def check_case(segd, case_dir, failures, part):
    """Checks the state after the first `part` of the case's records."""
    rules = os.path.join(case_dir, "rules.yaml")
    name = os.path.basename(case_dir)
    uses_lists = "in_list" in open(rules).read()
    with open(os.path.join(case_dir, "records.jsonl")) as f:
        lines = [l if l.endswith("\n") else l + "\n" for l in f if l.strip()]
    lines = lines[:max(1, int(len(lines) * part))]
    with tempfile.TemporaryDirectory() as data:
        parts = {0: [], 1: []}
        for line in lines:
            user = user_of(line)
            parts[partition_of(user) if user else 0].append(line)
        member = {}  # (user, segment) -> bool, from the change records
        users = {0: set(), 1: set()}
        for p in (0, 1):
            for c in replay(segd, rules, parts[p], os.path.join(data, f"events-{p}")):
                member[(c["user_id"], c["segment"])] = c["change"] == "enter"
            for line in parts[p]:
                user = user_of(line)
                if user and run([segd, "inspect", "user", user, "--data",
                                 os.path.join(data, f"events-{p}")]).returncode == 0:
                    users[p].add(user)  # stored: its record was accepted
        all_users = sorted(users[0] | users[1])
        first = run([segd, "inspect", "user", all_users[0], "--data", data, "--json"])
        if first.returncode != 0:
            failures.append(f"{name}: inspect {all_users[0]}: {first.stderr}")
            return
        segments = [s["id"] for s in json.loads(first.stdout)["segments"]]

        for seg in segments:
            expected = []
            for p in (0, 1):
                expected += sorted((u for u in users[p] if member.get((u, seg))),
                                   key=lambda u: u.encode())
            csv = run([segd, "export", seg, "--data", data])
            if csv.returncode != 0 or csv.stdout.splitlines() != ["user_id"] + expected:
                failures.append(f"{name}: export {seg}: {csv.stdout!r} {csv.stderr}, "
                                 f"expected {expected}")
            jl = run([segd, "export", seg, "--data", data, "--format", "jsonl"])
            got = [json.loads(l)["user_id"] for l in jl.stdout.splitlines()]
            if jl.returncode != 0 or got != expected:
                failures.append(f"{name}: export {seg} jsonl: {got}, expected {expected}")

        rules_args = ["--rules", rules] if uses_lists else []
        flips = {0: [], 1: []}  # (at, user, segment)
        for user in all_users[:8]:
            p = partition_of(user)
            rep = run([segd, "inspect", "user", user, "--data", data, "--json"])
            if rep.returncode != 0:
                failures.append(f"{name}: inspect {user}: {rep.stderr}")
                continue
            report = json.loads(rep.stdout)
            if report["partition"] != f"events-{p}" or report["user_id"] != user:
                failures.append(f"{name}: inspect {user}: partition {report['partition']}")
            for s in report["segments"]:
                want = member.get((user, s["id"]), False)
                if s["member"] != want or (not uses_lists and s["verdict"] != want):
                    failures.append(f"{name}: inspect {user}: {s}, expected member {want}")
            text = run([segd, "inspect", "user", user, "--data", data])
            if text.returncode != 0 or f"user {user} (dense id" not in text.stdout:
                failures.append(f"{name}: inspect {user} (text): {text.stdout} {text.stderr}")
            for seg in segments:
                ex = run([segd, "inspect", "user", user, "--data", data, "--explain", seg,
                          "--json"] + rules_args)
                if ex.returncode != 0:
                    failures.append(f"{name}: explain {user} {seg}: {ex.stderr}")
                    continue
                x = json.loads(ex.stdout)
                want = member.get((user, seg), False)
                if x["verdict"] != want or x["member"] != want:
                    failures.append(f"{name}: explain {user} {seg}: verdict {x['verdict']} "
                                    f"member {x['member']}, expected {want}")
                nc = x["next_change"]
                if nc is not None and nc["flips"]:
                    if not nc["reasons"]:
                        failures.append(f"{name}: explain {user} {seg}: no reason")
                    flips[p].append((nc["at"], user, seg))

        # The engine agrees on the earliest explained instant of each partition.
        for p in (0, 1):
            if not flips[p]:
                continue
            at = min(f[0] for f in flips[p])
            due = sorted((u, s) for t, u, s in flips[p] if t == at)
            probe = json.dumps({"user_id": f"probe-{p}", "set": {}, "ts": at}) + "\n"
            if partition_of(f"probe-{p}") != p:
                probe = json.dumps({"user_id": f"probe{p}x", "set": {}, "ts": at}) + "\n"
            changes = replay(segd, rules, [probe], os.path.join(data, f"events-{p}"))
            fired = sorted((c["user_id"], c["segment"]) for c in changes
                           if c["cause"] == "time" and c["at"] == at
                           and (c["user_id"], c["segment"]) in
                           {(u, s) for _, u, s in flips[p]})
            PROBES.append(len(due))
            if fired != due:
                failures.append(f"{name}: partition {p}: at {at} the engine changed {fired}, "
                                f"the explanations said {due}")
    return len(segments)


def check_while_running(segd, case_dir, failures):
    rules = os.path.join(case_dir, "rules.yaml")
    with open(os.path.join(case_dir, "records.jsonl")) as f:
        lines = [l if l.endswith("\n") else l + "\n" for l in f if l.strip()]
    user = user_of(lines[0])
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen([segd, "replay", "--rules", rules, "--input", "-", "--data", data,
                                 "--batch", "1"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            proc.stdin.write("".join(lines[: len(lines) // 2]))
            proc.stdin.flush()
            deadline = time.time() + 30
            while True:
                r = run([segd, "inspect", "user", user, "--data", data])
                if r.returncode == 0 or time.time() > deadline:
                    break
                time.sleep(0.1)
            if r.returncode != 0 or proc.poll() is not None:
                failures.append(f"inspect while replay runs: {r.stderr}")
            e = run([segd, "export", "anything", "--data", data])
            if e.returncode != 2 or "defines segment anything" not in e.stderr:
                failures.append(f"export of an unknown segment: {e.returncode} {e.stderr}")
            proc.stdin.write("".join(lines[len(lines) // 2:]))
        finally:
            proc.stdin.close()
            proc.wait(timeout=60)
        if proc.returncode != 0:
            failures.append(f"replay next to readers failed: {proc.stderr.read()}")
        r = run([segd, "inspect", "user", "nobody", "--data", data])
        if r.returncode != 1 or "is not in" not in r.stderr:
            failures.append(f"inspect of an unknown user: {r.returncode} {r.stderr}")
        r = run([segd, "inspect", "user", user, "--data", data, "--explain", "nope"])
        if r.returncode != 2:
            failures.append(f"explain of an unknown segment: {r.returncode} {r.stderr}")


def check_uploaded_lists(segd, failures):
    """With --rules, inspect reads the lists uploaded through the admin API
    (and the API's segments) from the data_dir's catalog.json, as segd run
    keeps them there: given the data_dir or one of its partition stores."""
    rules_text = ("timezone: UTC\nsegments:\n"
                  "  - id: vip_visitor\n    rule: in_list(\"vip\") and did(visit)\n")
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.yaml")
        with open(rules, "w") as f:
            f.write(rules_text)
        data = os.path.join(tmp, "data")
        replay(segd, rules, ['{"user_id":"u1","ts":1763856000000,"event":"visit"}\n',
                             '{"user_id":"u2","ts":1763856001000,"event":"visit"}\n'],
               os.path.join(data, "events-0"))

        def verdicts(data_arg):
            out = {}
            for user in ("u1", "u2"):
                r = run([segd, "inspect", "user", user, "--data", data_arg, "--rules", rules,
                         "--explain", "vip_visitor", "--json"])
                if r.returncode != 0:
                    failures.append(f"inspect {user} --data {data_arg}: {r.returncode} {r.stderr}")
                    return None
                x = json.loads(r.stdout)
                if x["partition"] != "events-0":
                    failures.append(f"inspect --data {data_arg} named the partition "
                                    f"{x['partition']!r}")
                out[user] = x["verdict"]
            return out

        if verdicts(data) != {"u1": False, "u2": False}:
            failures.append("in_list true before any list was uploaded")
        with open(os.path.join(data, "catalog.json"), "w") as f:
            json.dump({"version": 1, "mirror": False, "segments": [],
                       "lists": [{"name": "vip", "updated_ms": 0, "users": ["u1"]}]}, f)
        for data_arg in (data, os.path.join(data, "events-0"), os.path.join(data, "events-0/")):
            got = verdicts(data_arg)
            if got != {"u1": True, "u2": False}:
                failures.append(f"uploaded list not read from catalog.json (--data {data_arg}): "
                                f"{got}")


def main():
    segd, cases = sys.argv[1], sys.argv[2]
    failures = []
    checked = 0
    for case in sorted(os.listdir(cases)):
        for part in (0.3, 0.6, 1.0):
            checked += check_case(segd, os.path.join(cases, case), failures, part) or 0
    check_while_running(segd, os.path.join(cases, sorted(os.listdir(cases))[1]), failures)
    check_uploaded_lists(segd, failures)
    for f in failures:
        print("FAIL", f)
    print(f"{checked} segments checked, {len(PROBES)} probes over {sum(PROBES)} explained "
          f"changes, {len(failures)} failures")
    if len(PROBES) < 8:
        print("FAIL too few explained changes were checked against the engine")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

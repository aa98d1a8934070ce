#!/usr/bin/env python3
"""Several `segd run` instances in one consumer group on a real broker
(issue 12: scale out, state that follows its partition).

Each instance has its own data folder, `changelog.enabled` and the event
clock. Modes:

  kill   three instances on a six-partition input; mid-stream one is
         SIGKILLed and replaced, under the same instance id, by one with an
         EMPTY data folder: its partitions' state must come back from the
         changelog;
  scale  one instance, then three (the new ones start empty and restore
         what the rebalance gives them), then one again (it gets back
         partitions whose local copy is stale and must restore them). A
         segment is created through the first instance's API before the
         stream starts: the later instances must read it from the
         definitions topic.
  definitions
         three instances consume the stream; then a did(purchase) segment
         is created through one instance's API, a list uploaded through
         another, and the segment deleted through the third. Each must
         reach all three, and the segment's member counts summed over the
         instances (each answering for its partitions) must equal the count
         a `segd replay` of the whole input gives.

  standby
         three instances with standby_replicas: 2 (each keeps a copy of
         every partition the others own); mid-stream one is SIGKILLed and
         not replaced: the two left take its partitions over and must
         restore only the tail after their standby copies.

In kill, scale and standby modes, at the end a read_committed consumer of the output
must see, for every input partition, exactly what `segd replay` of that
partition's records in offset order prints — none missing, none twice, each
user's in order, ids equal — and the instances' logs must show restores.

Usage: scale_test.py SEGD SEGD_LOADGEN [--mode kill|scale|definitions|standby] [--records M] [--users U]
Broker: $SEGD_TEST_BROKERS.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_test import REPO, Producer, compare_with_replay, free_port, metric, wait_for  # noqa: E402

PARTITIONS = 6
TOKEN = "scale-token"
# Created through the API in scale mode (a clock-dependent rule: each
# partition's own clock decides it, as in a per-partition replay).
API_SEGMENT = {"id": "api_repeat_buyer", "rule": "count(purchase, 30d) >= 2"}


class Instance:
    def __init__(self, segd, work, tag, name, brokers, topic_in, standbys=0):
        self.segd, self.name = segd, name
        self.data = os.path.join(work, name, "data")
        os.makedirs(self.data, exist_ok=True)
        self.admin = f"127.0.0.1:{free_port()}"
        self.config = os.path.join(work, name, "segd.yaml")
        self.log_path = os.path.join(work, name, "segd.log")
        with open(self.config, "w") as f:
            f.write(f"rules: {REPO}/bench/rules.yaml\ndata_dir: {self.data}\nclock: event\n"
                    f"workers: 1\nchangelog:\n  enabled: true\n"
                    f"kafka:\n  brokers: {brokers}\n  group_id: {tag}\n  instance_id: {name}\n"
                    f"  consumer:\n    session.timeout.ms: '6000'\n"
                    f"    heartbeat.interval.ms: '1000'\n"
                    f"topics:\n  input: [{topic_in}]\n  output: {tag}-out\n"
                    f"  dead_letter: {tag}-dlq\n"
                    f"admin:\n  listen: {self.admin}\n  token: {TOKEN}\nlog:\n  level: info\n"
                    f"batch:\n  max_records: 2000\n  max_ms: 50\n"
                    f"standby_replicas: {standbys}\n")
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.segd, "run", "--config", self.config], stdout=log,
                                     stderr=log)

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def wipe(self):
        shutil.rmtree(self.data)
        os.makedirs(self.data)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def call(self, method, path, body=None, content_type="application/json"):
        """(status, parsed JSON body) of an admin API call."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(f"http://{self.admin}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {TOKEN}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=180) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")
        except OSError:
            return None, None

    def partitions(self):
        """How many partitions this instance holds, by its lag gauges."""
        try:
            import urllib.request
            text = urllib.request.urlopen(f"http://{self.admin}/metrics", timeout=2).read().decode()
        except OSError:
            return None
        return sum(1 for l in text.splitlines() if l.startswith("segd_consumer_lag_records{"))


def report(checks, instances):
    for what, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if all(ok for _, ok in checks):
        return 0
    for i in instances:  # what the instances said, for the failure's cause
        print(f"--- {i.name} (exit {i.proc.poll() if i.proc else None}), last lines of its log:")
        print("".join(i.log().splitlines(True)[-25:]))
    return 1


def start_sharing(instances, checks):
    """Starts every instance and checks that each comes to hold partitions."""
    for i in instances:
        i.start()
    checks.append(("three instances share the six partitions", wait_for(
        lambda: sum(shared := [i.partitions() or 0 for i in instances]) == PARTITIONS
        and min(shared) > 0, 120)))


def definitions_mode(a, work, instances, producer, lines, checks):
    start_sharing(instances, checks)
    producer.start()
    producer.join()
    consumed = wait_for(lambda: sum(metric(i.admin, "segd_records_total") or 0
                                    for i in instances) >= len(lines), 300)
    checks.append((f"the {len(lines)} records are consumed", consumed))

    # A rule that does not depend on the clock: the whole input decides it.
    only = os.path.join(work, "buyers.yaml")
    with open(only, "w") as f:
        f.write("segments:\n  - id: api_buyers\n    rule: did(purchase)\n")
    out = subprocess.run([a.segd, "replay", "--rules", only, "--input", "-"],
                         input="".join(l.split("\t", 1)[1] for l in lines),
                         capture_output=True, text=True, check=True).stdout
    members = set()
    for l in out.splitlines():
        c = json.loads(l)
        (members.add if c["change"] == "enter" else members.discard)(c["user_id"])
    print(f"segd replay of the whole input: {len(members)} members", flush=True)

    status, body = instances[1].call("PUT", "/segments/api_buyers",
                                     json.dumps({"rule": "did(purchase)"}))
    checks.append((f"segment created through instance 1 ({status})", status == 201))
    answers = {}

    def everyone_has_it():
        for i in instances:
            st, b = i.call("GET", "/segments/api_buyers")
            if st != 200:
                return False
            answers[i.name] = b
        return True

    checks.append(("every instance applied it", wait_for(everyone_has_it, 60)))
    covered = [p["partition"] for b in answers.values() for p in b["partitions"]]
    total = sum(b["members"] for b in answers.values())
    print(f"members per instance: {[(n, b['members'], len(b['partitions'])) for n, b in answers.items()]}")
    checks.append((f"the instances' answers cover each partition once ({sorted(covered)})",
                   sorted(covered) == list(range(PARTITIONS))))
    checks.append((f"member counts summed over the instances ({total}) equal replay's "
                   f"({len(members)})", total == len(members) and total > 0))

    listed = sorted(members)[:50]
    status, _ = instances[2].call("PUT", "/lists/vip", "\n".join(listed) + "\n", "text/plain")
    checks.append((f"list uploaded through instance 2 ({status})", status == 200))

    def list_everywhere():
        for i in instances:
            st, b = i.call("GET", "/lists")
            if st != 200 or not any(x["name"] == "vip" and x["users"] == len(listed)
                                    for x in b["lists"]):
                return False
        return True

    checks.append(("every instance has the list", wait_for(list_everywhere, 60)))
    status, _ = instances[0].call("DELETE", "/segments/api_buyers")
    checks.append((f"segment deleted through instance 0 ({status})", status == 200))
    checks.append(("every instance deleted it", wait_for(
        lambda: all(i.call("GET", "/segments/api_buyers")[0] == 404 for i in instances), 60)))
    return report(checks, instances)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("segd")
    p.add_argument("loadgen")
    p.add_argument("--mode", choices=["kill", "scale", "definitions", "standby"], default="kill")
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--rate", type=int, default=5000)
    a = p.parse_args()
    brokers = os.environ["SEGD_TEST_BROKERS"]
    work = tempfile.mkdtemp(prefix="segd-scale-")
    instances = []
    checks = []
    try:
        tag = f"scale{os.getpid()}"
        topic_in = f"{tag}-in"
        subprocess.run([a.segd, "topics", "create", "--brokers", brokers, "--partitions",
                        str(PARTITIONS), topic_in], check=True)
        lines = subprocess.run([a.loadgen, "--users", str(a.users), "--records", str(a.records),
                                "--days", "10", "--seed", "5", "--keyed"],
                               capture_output=True, text=True, check=True).stdout.splitlines(True)
        instances = [Instance(a.segd, work, tag, f"segd-{i}", brokers, topic_in,
                              standbys=2 if a.mode == "standby" else 0)
                     for i in range(3)]
        producer = Producer(brokers, topic_in, lines, a.rate)

        def holding(insts, n):
            ok = wait_for(lambda: sum(i.partitions() or 0 for i in insts) == n, 90)
            if not ok:
                print(f"partitions held: {[i.partitions() for i in instances]}", flush=True)
            return ok

        rules = f"{REPO}/bench/rules.yaml"
        if a.mode == "definitions":
            return definitions_mode(a, work, instances, producer, lines, checks)
        if a.mode == "standby":
            start_sharing(instances, checks)
            producer.start()
            # Each keeps copies of the four partitions it does not own.
            checks.append(("each instance keeps standby copies of the others' partitions",
                           wait_for(lambda: all(metric(i.admin, "segd_standby_partitions") == 4
                                                for i in instances), 90)))
            time.sleep(a.records / a.rate / 3)
            victim, left = instances[1], [instances[0], instances[2]]
            before = {i.name: len(i.log().splitlines()) for i in left}
            victim.kill()
            checks.append(("the two left take all six partitions", holding(left, PARTITIONS)))
            producer.join()
            restores = [l for i in left for l in i.log().splitlines()[before[i.name]:]
                        if "Partition restored from its changelog" in l]
            tail = sum("kind=tail" in l for l in restores)
            checks.append((f"the partitions taken over were restored ({len(restores)}), each "
                           f"from the tail after its standby copy ({tail})",
                           len(restores) >= 2 and tail == len(restores)))
            copied = sum(metric(i.admin, "segd_standby_records_total") or 0 for i in left)
            checks.append((f"the standby copies applied changelog records ({copied:.0f})",
                           copied > 0))
        elif a.mode == "kill":
            start_sharing(instances, checks)
            producer.start()
            time.sleep(a.records / a.rate / 3)
            victim = instances[1]
            victim.kill()
            victim.wipe()
            victim.start()
            checks.append(("the replacement takes its partitions back",
                           wait_for(lambda: (victim.partitions() or 0) > 0, 90)))
            producer.join()
            restored = victim.log().count("Partition restored from its changelog")
            checks.append((f"the replacement restored its partitions from the changelog "
                           f"({restored})", restored > 0))
        else:
            first, others = instances[0], instances[1:]
            first.start()
            checks.append(("one instance holds all six partitions", holding([first], PARTITIONS)))
            status, _ = first.call("PUT", f"/segments/{API_SEGMENT['id']}",
                                   json.dumps({"rule": API_SEGMENT["rule"]}))
            checks.append((f"segment created through the first instance's API ({status})",
                           status == 201))
            producer.start()
            time.sleep(a.records / a.rate / 3)
            for i in others:
                i.start()
            checks.append(("scaled to three: each holds partitions",
                           wait_for(lambda: all((i.partitions() or 0) > 0 for i in instances),
                                    90)))
            time.sleep(a.records / a.rate / 3)
            for i in others:
                i.stop()
            checks.append(("scaled back to one: it holds all six again",
                           holding([first], PARTITIONS)))
            producer.join()
            restored_new = sum(i.log().count("Partition restored from its changelog")
                               for i in others)
            back = [l for l in first.log().splitlines()
                    if "Partition restored from its changelog" in l]
            tail = sum("kind=tail" in l for l in back)
            checks.append((f"the new instances restored from the changelog ({restored_new})",
                           restored_new > 0))
            # It kept its copies when it gave the partitions up: only what
            # the others wrote since is read back.
            checks.append((f"the first restored the partitions it got back ({len(back)}), each "
                           f"from the tail after its own copy ({tail})",
                           len(back) > 0 and tail == len(back)))
            # The output compared below includes the API segment's changes
            # from every instance.
            with open(f"{REPO}/bench/rules.yaml") as f:
                text = f.read()
            rules = os.path.join(work, "rules-with-api-segment.yaml")
            with open(rules, "w") as f:
                f.write(text.rstrip("\n") + f"\n  - id: {API_SEGMENT['id']}\n"
                        f"    rule: {API_SEGMENT['rule']}\n")
        print(f"{producer.sent} records produced", flush=True)

        # Every partition's records, in offset order, replayed one by one.
        bad, total = compare_with_replay(a.segd, brokers, topic_in, f"{tag}-out", rules)
        refused = sum(i.log().count("Cannot take partition") for i in instances)
        checks.append((f"no partition refused ({refused})", refused == 0))
        checks.append(("the output is exactly what replay gives per partition",
                       not bad and total > 0))
        return report(checks, instances)
    finally:
        for i in instances:
            if i.proc and i.proc.poll() is None:
                i.proc.kill()
                i.proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

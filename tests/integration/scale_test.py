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
         partitions whose local copy is stale and must restore them).

Either way, at the end a read_committed consumer of the output must see,
for every input partition, exactly what `segd replay` of that partition's
records in offset order prints — none missing, none twice, each user's in
order, ids equal — and the instances' logs must show restores.

Usage: scale_test.py SEGD SEGD_LOADGEN [--mode kill|scale] [--records M] [--users U]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_test import REPO, Producer, free_port, read_topic, wait_for  # noqa: E402

PARTITIONS = 6


class Instance:
    def __init__(self, segd, work, tag, name, brokers, topic_in):
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
                    f"admin:\n  listen: {self.admin}\nlog:\n  level: info\n"
                    f"batch:\n  max_records: 2000\n  max_ms: 50\n")
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

    def partitions(self):
        """How many partitions this instance holds, by its lag gauges."""
        try:
            import urllib.request
            text = urllib.request.urlopen(f"http://{self.admin}/metrics", timeout=2).read().decode()
        except OSError:
            return None
        return sum(1 for l in text.splitlines() if l.startswith("segd_consumer_lag_records{"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("segd")
    p.add_argument("loadgen")
    p.add_argument("--mode", choices=["kill", "scale"], default="kill")
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
        instances = [Instance(a.segd, work, tag, f"segd-{i}", brokers, topic_in)
                     for i in range(3)]
        producer = Producer(brokers, topic_in, lines, a.rate)

        def holding(insts, n):
            ok = wait_for(lambda: sum(i.partitions() or 0 for i in insts) == n, 90)
            if not ok:
                print(f"partitions held: {[i.partitions() for i in instances]}", flush=True)
            return ok

        if a.mode == "kill":
            for i in instances:
                i.start()
            checks.append(("three instances share the six partitions", wait_for(
                lambda: sum(shared := [i.partitions() or 0 for i in instances]) == PARTITIONS
                and min(shared) > 0, 120)))
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
            restored_back = first.log().count("Partition restored from its changelog")
            checks.append((f"the new instances restored from the changelog ({restored_new})",
                           restored_new > 0))
            checks.append((f"the first restored the partitions it got back ({restored_back})",
                           restored_back > 0))
        print(f"{producer.sent} records produced", flush=True)

        # Every partition's records, in offset order, replayed one by one.
        raw = read_topic(brokers, topic_in, "%p\t%o\t%s\n", committed=False)
        parts = {}
        for line in raw.splitlines():
            part, off, value = line.split("\t", 2)
            parts.setdefault(int(part), []).append((int(off), value))
        expected = {}
        for part, recs in parts.items():
            recs.sort()
            out = subprocess.run([a.segd, "replay", "--rules", f"{REPO}/bench/rules.yaml",
                                  "--input", "-"], input="".join(v + "\n" for _, v in recs),
                                 capture_output=True, text=True, check=True).stdout
            for l in out.splitlines():
                c = json.loads(l)
                expected.setdefault(c["user_id"], []).append(c["id"] + " " + l)
        total = sum(len(v) for v in expected.values())

        def output():
            got = {}
            for l in read_topic(brokers, f"{tag}-out", "%s\n").splitlines():
                c = json.loads(l)
                got.setdefault(c["user_id"], []).append(c["id"] + " " + l)
            return got

        wait_for(lambda: sum(len(v) for v in output().values()) >= total, 300)
        time.sleep(3)  # anything extra would show now
        got = output()
        bad = [u for u in set(expected) | set(got) if expected.get(u) != got.get(u)]
        print(f"expected {total} change records for {len(expected)} users; "
              f"got {sum(len(v) for v in got.values())}; users differing: {len(bad)}")
        for u in sorted(bad)[:5]:
            e, g = expected.get(u, []), got.get(u, [])
            print(f"  {u}: expected {len(e)}, got {len(g)}")
            for x, y in zip(e + [""] * len(g), g + [""] * len(e)):
                if x != y:
                    print(f"    first difference:\n      expected {x[:160]}\n      got      {y[:160]}")
                    break
        refused = sum(i.log().count("Cannot take partition") for i in instances)
        checks.append((f"no partition refused ({refused})", refused == 0))
        checks.append(("the output is exactly what replay gives per partition",
                       not bad and total > 0))
        for what, ok in checks:
            print(f"{'ok  ' if ok else 'FAIL'} {what}")
        return 0 if all(ok for _, ok in checks) else 1
    finally:
        for i in instances:
            if i.proc and i.proc.poll() is None:
                i.proc.kill()
                i.proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

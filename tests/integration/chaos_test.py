#!/usr/bin/env python3
"""Kill -9 chaos on a real broker (issue: exactly-once pipeline).

While a generated stream flows into a 3-partition topic (rate-limited, so
there is always input in flight), segd is SIGKILLed at random instants and
restarted each time (stable group.instance.id and transactional.id). Each
kill must hit work in flight: records produced but not yet counted by segd.
At the end, a read_committed consumer of the output topic must see, for
every input partition, exactly what `segd replay` of that partition's
records in offset order prints (the event clock: SEMANTICS.md §2) — none
missing, none twice, each user's in order, ids equal.

Before the random kills, segd is also made to _exit at each deterministic
crash point (SEGD_TEST_CRASH_AT: right after an LMDB commit, in the middle
of producing, right before the Kafka commit), each of which must be reached.

Usage: chaos_test.py SEGD SEGD_LOADGEN [--kills N] [--records M] [--users U]
Broker: $SEGD_TEST_BROKERS, else one started with scripts/kafka-local.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(admin, name):
    try:
        text = urllib.request.urlopen(f"http://{admin}/metrics", timeout=2).read().decode()
    except OSError:
        return None
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


class Producer(threading.Thread):
    """Feeds KEY<TAB>JSON lines to kcat in small timed chunks."""

    def __init__(self, brokers, topic, lines, per_second):
        super().__init__(daemon=True)
        self.brokers, self.topic, self.lines, self.rate = brokers, topic, lines, per_second
        self.sent = 0

    def run(self):
        chunk = max(1, self.rate // 10)
        for i in range(0, len(self.lines), chunk):
            part = self.lines[i:i + chunk]
            # While the broker is down (--broker-restart) the chunk is
            # retried; a chunk is sent whole or not at all.
            while subprocess.run(["kcat", "-P", "-b", self.brokers, "-t", self.topic, "-K", "\t",
                                  "-X", "enable.idempotence=true"],
                                 input="".join(part), text=True,
                                 capture_output=True).returncode != 0:
                time.sleep(1)
            self.sent += len(part)
            time.sleep(0.1)


def read_topic(brokers, topic, fmt, committed=True):
    args = ["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt]
    if committed:
        args += ["-X", "isolation.level=read_committed"]
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=300).stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("segd")
    p.add_argument("loadgen")
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--rate", type=int, default=5000, help="records per second produced")
    p.add_argument("--broker-restart", action="store_true",
                   help="also stop the (own) broker for a few seconds mid-stream")
    a = p.parse_args()

    work = tempfile.mkdtemp(prefix="segd-chaos-")
    own_broker = None
    brokers = None if a.broker_restart else os.environ.get("SEGD_TEST_BROKERS")
    if not brokers:
        own_broker = os.path.join(work, "broker")
        brokers = subprocess.run([f"{REPO}/scripts/kafka-local", "start", own_broker],
                                 capture_output=True, text=True, check=True).stdout.split()[-1]
    segd_proc = None
    try:
        tag = f"chaos{os.getpid()}"
        topic_in, topic_out, topic_dlq = f"{tag}-in", f"{tag}-out", f"{tag}-dlq"
        subprocess.run([a.segd, "topics", "create", "--brokers", brokers, "--partitions", "3",
                        topic_in], check=True)
        lines = subprocess.run([a.loadgen, "--users", str(a.users), "--records", str(a.records),
                                "--days", "10", "--seed", "42", "--keyed"],
                               capture_output=True, text=True, check=True).stdout.splitlines(True)
        # Poison records among the valid ones: each must reach the dead-letter
        # topic, and none may cost a valid record its effect.
        poison = 0
        for i in range(997, len(lines), 1000):
            key = lines[i].split("\t", 1)[0]
            lines[i] = f"{key}\t{{\"user_id\":\"{key}\",\"event\":\"visit\",\"ts\":1.5}}\n"
            poison += 1
        rules = os.path.join(REPO, "bench", "rules.yaml")
        admin = f"127.0.0.1:{free_port()}"
        config = os.path.join(work, "segd.yaml")
        with open(config, "w") as f:
            f.write(f"rules: {rules}\ndata_dir: {work}/data\nclock: event\n"
                    f"kafka:\n  brokers: {brokers}\n  group_id: {tag}\n  instance_id: chaos-1\n"
                    f"topics:\n  input: [{topic_in}]\n  output: {topic_out}\n"
                    f"  dead_letter: {topic_dlq}\nbatch:\n  max_records: 2000\n  max_ms: 50\n"
                    f"admin:\n  listen: {admin}\nlog:\n  level: warn\n")
        log = open(os.path.join(work, "segd.log"), "a")

        def start(crash_at=None):
            env = dict(os.environ)
            if crash_at:
                env["SEGD_TEST_CRASH_AT"] = crash_at
                env["SEGD_TEST_CRASH_AFTER"] = "3"
            return subprocess.Popen([a.segd, "run", "--config", config], stdout=log, stderr=log,
                                    env=env)

        producer = Producer(brokers, topic_in, lines, a.rate)
        segd_proc = start()
        producer.start()
        rng = random.Random(7)
        in_flight = 0
        # Each deterministic crash point, then the random kills.
        crashed = {}
        for point in ("after_lmdb_commit", "mid_produce", "before_kafka_commit"):
            segd_proc.kill()
            segd_proc.wait()
            segd_proc = start(crash_at=point)
            try:
                crashed[point] = segd_proc.wait(timeout=60) == 86
            except subprocess.TimeoutExpired:
                crashed[point] = False
            segd_proc = start()
        for k in range(a.kills):
            time.sleep(rng.uniform(0.3, 1.2))
            in_flight += producer.is_alive()
            segd_proc.kill()
            segd_proc.wait()
            segd_proc = start()
            if a.broker_restart and k == a.kills // 2:
                subprocess.run([f"{REPO}/scripts/kafka-local", "stop", own_broker],
                               capture_output=True, check=True)
                time.sleep(5)
                unready = metric(admin, "segd_ready")
                subprocess.run([f"{REPO}/scripts/kafka-local", "start", own_broker],
                               capture_output=True, check=True)
                print(f"broker stopped for 5 s and started again (segd_ready meanwhile: "
                      f"{unready})", flush=True)
        producer.join()
        print(f"crash points reached: {crashed}; {a.kills} kills, {in_flight} while input was "
              f"still flowing; {producer.sent} records produced", flush=True)

        # Every partition's records, in offset order, replayed one by one.
        raw = read_topic(brokers, topic_in, "%p\t%o\t%s\n", committed=False)
        parts = {}
        for line in raw.splitlines():
            part, off, value = line.split("\t", 2)
            parts.setdefault(int(part), []).append((int(off), value))
        expected = {}
        for part, recs in parts.items():
            recs.sort()
            out = subprocess.run([a.segd, "replay", "--rules", rules, "--input", "-"],
                                 input="".join(v + "\n" for _, v in recs), capture_output=True,
                                 text=True, check=True).stdout
            for l in out.splitlines():
                c = json.loads(l)
                expected.setdefault(c["user_id"], []).append(c["id"] + " " + l)
        total = sum(len(v) for v in expected.values())

        deadline = time.time() + 300
        got = {}
        while time.time() < deadline:
            got = {}
            for l in read_topic(brokers, topic_out, "%s\n").splitlines():
                c = json.loads(l)
                got.setdefault(c["user_id"], []).append(c["id"] + " " + l)
            if sum(len(v) for v in got.values()) >= total:
                break
            time.sleep(3)
        time.sleep(3)  # anything extra would show now
        got = {}
        for l in read_topic(brokers, topic_out, "%s\n").splitlines():
            c = json.loads(l)
            got.setdefault(c["user_id"], []).append(c["id"] + " " + l)
        bad = [u for u in set(expected) | set(got) if expected.get(u) != got.get(u)]
        dead = read_topic(brokers, topic_dlq, "%h\n").splitlines()
        dead_ok = len(dead) == poison and all("segd.reason=invalid_ts" in d for d in dead)
        print(f"dead letters: {len(dead)} of {poison} poison records"
              + ("" if dead_ok else " — WRONG"))
        print(f"expected {total} change records for {len(expected)} users; "
              f"got {sum(len(v) for v in got.values())}; users differing: {len(bad)}")
        for u in sorted(bad)[:5]:
            e, g = expected.get(u, []), got.get(u, [])
            print(f"  {u}: expected {len(e)}, got {len(g)}")
            for x, y in zip(e + [""] * len(g), g + [""] * len(e)):
                if x != y:
                    print(f"    first difference:\n      expected {x[:160]}\n      got      {y[:160]}")
                    break
        ok = not bad and dead_ok and in_flight >= a.kills // 2 and all(crashed.values())
        if in_flight < a.kills // 2:
            print("too few kills hit work in flight")
        return 0 if ok else 1
    finally:
        if segd_proc and segd_proc.poll() is None:
            segd_proc.send_signal(signal.SIGTERM)
            try:
                segd_proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                segd_proc.kill()
        if own_broker:
            subprocess.run([f"{REPO}/scripts/kafka-local", "stop", own_broker],
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

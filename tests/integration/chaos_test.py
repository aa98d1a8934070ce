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

Other modes, each with the same final assertion:
  --broker-restart  also stops the (own) broker for a few seconds mid-stream;
  --sigterm         SIGTERM instead of SIGKILL: each stop must finish its
                    batch, commit and exit 0 promptly;
  --disk-full       the data folder is a small tmpfs that is filled up: segd
                    must stop committing and say so (/readyz 503,
                    segd_storage_full 1), and finish once space returns;
  --backpressure    a tiny timer budget and backlog bound: partitions must be
                    paused and resumed on the way;
  --changelog-wipe  the crash points run without a changelog; then
                    changelog.enabled is turned on (segd must first send
                    each store's whole content to its changelog), and every
                    other kill also deletes the data folder: the restarted
                    segd must restore each partition from its changelog.

Usage: chaos_test.py SEGD SEGD_LOADGEN [--kills N] [--records M] [--users U] [MODE]
Broker: $SEGD_TEST_BROKERS, else one started with scripts/kafka-local.
Exit 77 (skipped) when --disk-full cannot mount a tmpfs (not root).
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
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(admin, name):
    """The sum of a metric's samples (over its labels); None when unreachable or absent."""
    try:
        text = urllib.request.urlopen(f"http://{admin}/metrics", timeout=2).read().decode()
    except OSError:
        return None
    values = [float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)]
    return sum(values) if values else None


def readyz(admin):
    try:
        return urllib.request.urlopen(f"http://{admin}/readyz", timeout=2).status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def wait_for(pred, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.5)
    return False


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
    # Changelog keys are binary: undecodable bytes are replaced.
    return subprocess.run(args, capture_output=True, text=True, errors="replace", check=True,
                          timeout=300).stdout


def compare_with_replay(segd, brokers, topic_in, topic_out, rules, timeout=300):
    """Replays each partition of `topic_in` (records in offset order) with
    `segd replay`, waits for a read_committed consumer of `topic_out` to see
    as many change records, and compares per user (ids and records, in
    order). Prints what differs; returns (users differing, records expected)."""
    raw = read_topic(brokers, topic_in, "%p\t%o\t%s\n", committed=False)
    parts = {}
    for line in raw.splitlines():
        part, off, value = line.split("\t", 2)
        parts.setdefault(int(part), []).append((int(off), value))
    expected = {}
    for part, recs in parts.items():
        recs.sort()
        out = subprocess.run([segd, "replay", "--rules", rules, "--input", "-"],
                             input="".join(v + "\n" for _, v in recs), capture_output=True,
                             text=True, check=True).stdout
        for l in out.splitlines():
            c = json.loads(l)
            expected.setdefault(c["user_id"], []).append(c["id"] + " " + l)
    total = sum(len(v) for v in expected.values())

    def output():
        got = {}
        for l in read_topic(brokers, topic_out, "%s\n").splitlines():
            c = json.loads(l)
            got.setdefault(c["user_id"], []).append(c["id"] + " " + l)
        return got

    wait_for(lambda: sum(len(v) for v in output().values()) >= total, timeout)
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
    return bad, total


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
    p.add_argument("--outage", type=int, default=10,
                   help="seconds the broker stays away with --broker-restart")
    p.add_argument("--sigterm", action="store_true", help="stop with SIGTERM instead of SIGKILL")
    p.add_argument("--disk-full", action="store_true", help="fill the data folder's file system")
    p.add_argument("--backpressure", action="store_true", help="tiny timer budget and bounds")
    p.add_argument("--changelog-wipe", action="store_true",
                   help="changelog on; every other kill also deletes the data folder")
    a = p.parse_args()

    work = tempfile.mkdtemp(prefix="segd-chaos-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    mounted = False
    if a.disk_full:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", data],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"SKIP: cannot mount a tmpfs for the disk-full test: {r.stderr.strip()}")
            shutil.rmtree(work, ignore_errors=True)
            return 77
        mounted = True
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
            f.write(f"rules: {rules}\ndata_dir: {data}\nclock: event\n"
                    f"kafka:\n  brokers: {brokers}\n  group_id: {tag}\n  instance_id: chaos-1\n"
                    f"topics:\n  input: [{topic_in}]\n  output: {topic_out}\n"
                    f"  dead_letter: {topic_dlq}\n"
                    f"admin:\n  listen: {admin}\nlog:\n  level: {'info' if a.backpressure or a.changelog_wipe else 'warn'}\n"
                    f"batch:\n  max_records: 2000\n  max_ms: 50\n")
            if a.backpressure:
                f.write("  max_timers: 20\nbackpressure:\n  max_timer_backlog: 100\n")
            if a.disk_full:
                f.write("lmdb:\n  initial_map_bytes: 1MiB\n")

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
        crashed = {}
        checks = []  # (what, passed) of the mode's own assertions
        wipes = 0

        def work_in_flight():
            # Input not yet consumed or output not yet delivered, by segd's
            # own gauges; before they are served (just restarted), the
            # records produced while it was down are unconsumed.
            lag = metric(admin, "segd_consumer_lag_records")
            outbox = metric(admin, "segd_outbox_entries")
            if lag is None and outbox is None:
                return producer.is_alive()
            if a.changelog_wipe and producer.is_alive():
                return True  # restoring: the lag gauge is not known yet
            return (lag or 0) + (outbox or 0) > 0

        if a.disk_full:
            # Leave about 2 MiB: the stores (1 MiB maps) soon need more.
            time.sleep(2)
            st = os.statvfs(data)
            ballast = os.path.join(data, "ballast")
            with open(ballast, "wb") as f:
                os.posix_fallocate(f.fileno(), 0, max(st.f_bavail * st.f_frsize - (2 << 20), 1))
            full = wait_for(lambda: metric(admin, "segd_storage_full") == 1
                            and readyz(admin) == 503, 120)
            errors = metric(admin, "segd_storage_errors_total") or 0
            print(f"disk filled: segd_storage_full=1 and /readyz 503: {full}; "
                  f"storage errors so far: {errors}", flush=True)
            checks.append(("stops and reports when the disk is full", full and errors > 0))
            time.sleep(3)
            os.remove(ballast)
            back = wait_for(lambda: metric(admin, "segd_storage_full") == 0
                            and readyz(admin) == 200, 120)
            print(f"space returned: ready again: {back}", flush=True)
            checks.append(("resumes when space returns", back))
        elif a.backpressure:
            producer.join()
        else:
            if not a.sigterm:
                # Each deterministic crash point first.
                for point in ("after_lmdb_commit", "mid_produce", "before_kafka_commit"):
                    segd_proc.kill()
                    segd_proc.wait()
                    segd_proc = start(crash_at=point)
                    try:
                        rc = segd_proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        rc = "timeout"
                    crashed[point] = rc == 86
                    if rc != 86:
                        print(f"crash point {point}: exit {rc}", flush=True)
                    segd_proc = start()
            if a.changelog_wipe:
                # Turned on over existing stores: each store's content goes
                # to its changelog once, 500 keys a batch (so in many
                # parts); wait until every partition's has.
                with open(config, "a") as f:
                    f.write("changelog:\n  enabled: true\n  seed_keys: 500\n")
                segd_proc.kill()
                segd_proc.wait()
                segd_proc = start()
                changelog = f"{tag}-{topic_in}-changelog"

                def seeded():
                    # Each store's seed is in its first transactions, at the
                    # head of its changelog partition, `mchangelog` last: a
                    # few seconds' read from the beginning holds it. (Not
                    # "read to the end": while segd
                    # writes, kcat -e may not see every partition's end.)
                    # Produced is enough here; the output check below is
                    # read_committed.
                    args = ["kcat", "-C", "-b", brokers, "-t", changelog, "-o", "beginning",
                            "-e", "-q", "-f", "%p %k\n"]
                    try:
                        r = subprocess.run(args, capture_output=True, timeout=5)
                        if r.returncode != 0:
                            return False  # the topic is not there yet
                        out = r.stdout
                    except subprocess.TimeoutExpired as e:
                        out = e.stdout or b""
                    keys = out.decode(errors="replace").splitlines()
                    return {k.split(" ")[0] for k in keys if k.endswith(" mchangelog")} == \
                        {"0", "1", "2"}
                t_seed = time.time()
                ok = wait_for(seeded, 120)
                print(f"changelog seeded after {time.time() - t_seed:.1f} s; producer running: "
                      f"{producer.is_alive()}", flush=True)
                checks.append(("the stores' content reached the changelog", ok))
            slow_stops = 0
            for k in range(a.kills):
                time.sleep(rng.uniform(0.3, 1.2))
                # Then the first moment with work in flight (the gauges move
                # after each batch; a fast segd is often idle between the
                # producer's chunks), for up to a second.
                hit = work_in_flight()
                give_up = time.time() + 1.0
                while not hit and time.time() < give_up:
                    time.sleep(0.005)
                    hit = work_in_flight()
                in_flight += hit
                if a.sigterm:
                    t0 = time.time()
                    segd_proc.send_signal(signal.SIGTERM)
                    try:
                        rc = segd_proc.wait(timeout=45)
                    except subprocess.TimeoutExpired:
                        segd_proc.kill()
                        rc = "timeout"
                    if rc != 0 or time.time() - t0 > 40:
                        slow_stops += 1
                        print(f"SIGTERM {k}: exit {rc} after {time.time() - t0:.1f} s", flush=True)
                else:
                    segd_proc.kill()
                    segd_proc.wait()
                    if a.changelog_wipe and k % 2 == 1:
                        shutil.rmtree(data)
                        os.makedirs(data)
                        wipes += 1
                segd_proc = start()
                if a.broker_restart and k == a.kills // 2:
                    subprocess.run([f"{REPO}/scripts/kafka-local", "stop", own_broker],
                                   capture_output=True, check=True)
                    unready = wait_for(lambda: readyz(admin) == 503, a.outage)
                    time.sleep(max(0, a.outage - 5))
                    subprocess.run([f"{REPO}/scripts/kafka-local", "start", own_broker],
                                   capture_output=True, check=True)
                    ready = wait_for(lambda: readyz(admin) == 200, 120)
                    print(f"broker stopped for about {a.outage} s and started again: /readyz "
                          f"503 meanwhile: {unready}, 200 after: {ready}", flush=True)
                    checks.append(("/readyz 503 while the broker is away, 200 after",
                                   unready and ready))
            if a.sigterm:
                checks.append(("every SIGTERM exits 0 promptly", slow_stops == 0))
            checks.append((f"kills hit work in flight ({in_flight} of {a.kills})",
                           in_flight >= a.kills // 2))
            if not a.sigterm:
                checks.append((f"crash points reached {crashed}", all(crashed.values())))
        producer.join()
        print(f"{producer.sent} records produced", flush=True)
        # Every partition's records, in offset order, replayed one by one.
        bad, total = compare_with_replay(a.segd, brokers, topic_in, topic_out, rules)
        dead = read_topic(brokers, topic_dlq, "%h\n").splitlines()
        dead_ok = len(dead) == poison and all("segd.reason=invalid_ts" in d for d in dead)
        print(f"dead letters: {len(dead)} of {poison} poison records"
              + ("" if dead_ok else " — WRONG"))
        if a.changelog_wipe:
            # Kills may cut restores short (the next start restores again);
            # by now the last one has finished.
            with open(os.path.join(work, "segd.log")) as f:
                text = f.read()
            restored = text.count("Partition restored from its changelog")
            refused = text.count("Cannot take partition")
            checks.append((f"partitions restored from the changelog ({restored}) after {wipes} "
                           f"wipes, none refused ({refused})",
                           wipes > 0 and restored > 0 and refused == 0))
        if a.backpressure:
            with open(os.path.join(work, "segd.log")) as f:
                text = f.read()
            paused, resumed = text.count("Partitions paused"), text.count("Partitions resumed")
            checks.append((f"partitions paused ({paused}) and resumed ({resumed})",
                           paused > 0 and resumed > 0))
        for what, passed in checks:
            print(f"{'ok  ' if passed else 'FAIL'} {what}")
        ok = not bad and dead_ok and all(passed for _, passed in checks)
        if not ok:  # what segd said, for the failure's cause
            with open(os.path.join(work, "segd.log")) as f:
                print("--- last lines of segd's log:\n" + "".join(f.readlines()[-60:]))
            if os.environ.get("SEGD_TEST_KEEP"):
                keep = tempfile.mkdtemp(prefix="segd-chaos-log-")
                shutil.copy(os.path.join(work, "segd.log"), keep)
                print(f"segd's whole log kept in {keep}")
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
        if mounted:
            subprocess.run(["umount", "-l", data], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

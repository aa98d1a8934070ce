#!/usr/bin/env python3
"""examples/push_webhook.py against a real broker and a local webhook.

The change records are real ones: `segd replay` of the Segment golden
stream (tests/golden/segment/records.jsonl) with examples/rules.yaml. They
go to a 3-partition topic keyed by user id, in committed Kafka
transactions, plus one aborted transaction holding a fake enter that
read_committed must hide. Then:

1. The webhook accepts two calls, answers 500 for a while (the consumer
   retries, then goes on), accepts three more, then answers 500 until the
   consumer, retrying, is SIGKILLed; a second consumer is started.
2. The webhook gets exactly the enter records of the chosen segment: every
   one of them (none lost to the 500s or the kill), nothing else, each
   user's in order, each call's Idempotency-Key equal to the change's id
   and its body equal to the record (repeats after the kill are allowed:
   the key lets the receiver drop them).
3. A third run calls nothing: the offsets were committed after the calls.

Usage: push_webhook_test.py SEGD
Broker: $SEGD_TEST_BROKERS, else one started with scripts/kafka-local.
Runs under the examples' virtualenv (scripts/install-deps makes it); when
started with another Python it re-executes itself there.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("SEGD_CACHE", os.path.expanduser("~/.cache/segd"))
VENV_PYTHON = os.path.join(CACHE, "examples-venv", "bin", "python")
SEGMENT = "cart_heavy"

try:
    from confluent_kafka import Producer
except ImportError:
    if os.path.realpath(sys.executable) == os.path.realpath(VENV_PYTHON) or \
            not os.path.exists(VENV_PYTHON):
        sys.exit(f"confluent-kafka is missing: run scripts/install-deps ({VENV_PYTHON})")
    os.execv(VENV_PYTHON, [VENV_PYTHON] + sys.argv)


class Webhook:
    """A push receiver that records every call. It answers 200 to the first
    two calls, 500 for the next `fail_seconds`, 200 to three more calls,
    then 500 until heal() is called, then 200."""

    def __init__(self, fail_seconds):
        self.fail_seconds = fail_seconds
        self.lock = threading.Lock()
        self.calls = []  # (status, idempotency key, body as dict)
        self.phase, self.phase_oks, self.failing_since, self.healed = 0, 0, None, False
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with hook.lock:
                    status = hook.next_status()
                    hook.calls.append((status, self.headers.get("Idempotency-Key"), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_status(self):  # REQUIRES: self.lock held
        if self.phase in (0, 2):
            self.phase_oks += 1
            if self.phase_oks == (2 if self.phase == 0 else 3):
                self.phase, self.phase_oks = self.phase + 1, 0
            return 200
        if self.phase == 1:
            if self.failing_since is None:
                self.failing_since = time.monotonic()
            if time.monotonic() - self.failing_since < self.fail_seconds:
                return 500
            self.phase, self.phase_oks = 2, 0
            return self.next_status()
        return 200 if self.healed else 500

    def heal(self):
        with self.lock:
            self.healed = True

    def snapshot(self):
        with self.lock:
            return list(self.calls)


def change_records(segd):
    out = subprocess.run(
        [segd, "replay", "--rules", f"{REPO}/examples/rules.yaml",
         "--input", f"{REPO}/tests/golden/segment/records.jsonl"],
        capture_output=True, text=True, check=True, timeout=120).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def produce(brokers, topic, changes):
    p = Producer({"bootstrap.servers": brokers, "transactional.id": f"{topic}-writer",
                  "partitioner": "murmur2_random"})
    p.init_transactions(30)
    half = len(changes) // 2
    for batch, commit in ((changes[:half], True), (
            [{"id": f"{SEGMENT}:1:99:ghost", "user_id": "ghost", "segment": SEGMENT,
              "change": "enter", "at": 0, "cause": "event"}], False), (changes[half:], True)):
        p.begin_transaction()
        for c in batch:
            p.produce(topic, key=c["user_id"], value=json.dumps(c, separators=(",", ":")))
        p.flush(30)
        if commit:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)


def consumer(brokers, topic, webhook, *extra):
    return subprocess.Popen(
        [VENV_PYTHON, f"{REPO}/examples/push_webhook.py", "--brokers", brokers, "--topic", topic,
         "--group", f"{topic}-push", "--segment", SEGMENT, "--webhook", webhook,
         "--backoff-initial", "0.1", "--backoff-max", "0.4", "--commit-interval", "0.2",
         # The killed member leaves the group within seconds, not the default 45.
         "--kafka", "session.timeout.ms=6000", "--kafka", "heartbeat.interval.ms=500",
         *extra])


def wait_for(what, predicate, timeout=60):
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def second_outage_failures(hook):
    calls = hook.snapshot()
    oks = [i for i, c in enumerate(calls) if c[0] == 200]
    return 0 if len(oks) < 5 else sum(1 for c in calls[oks[4] + 1:] if c[0] == 500)


def by_user(changes):
    users = {}
    for c in changes:
        users.setdefault(c["user_id"], []).append(c["id"])
    return users


def main():
    segd = sys.argv[1]
    work = tempfile.mkdtemp(prefix="segd-push-")
    own_broker = None
    brokers = os.environ.get("SEGD_TEST_BROKERS")
    if not brokers:
        own_broker = os.path.join(work, "broker")
        brokers = subprocess.run([f"{REPO}/scripts/kafka-local", "start", own_broker],
                                 capture_output=True, text=True, check=True).stdout.split()[-1]
    procs = []
    try:
        topic = f"push{os.getpid()}-changes"
        subprocess.run([segd, "topics", "create", "--brokers", brokers, "--partitions", "3",
                        topic], check=True)
        changes = change_records(segd)
        expected = [c for c in changes if c["segment"] == SEGMENT and c["change"] == "enter"]
        assert len(expected) >= 3, f"the stream has too few {SEGMENT} enters: {expected}"
        assert len(expected) < len(changes) and any(
            c["segment"] == SEGMENT and c["change"] == "leave" for c in changes), \
            "the stream must hold records the consumer has to skip"
        produce(brokers, topic, changes)
        everything = subprocess.run(
            ["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q",
             "-X", "isolation.level=read_uncommitted"],
            capture_output=True, text=True, check=True, timeout=60).stdout
        assert '"user_id":"ghost"' in everything, "the aborted transaction is not in the topic"

        hook = Webhook(fail_seconds=1.5)
        first = consumer(brokers, topic, hook.url)
        procs.append(first)
        # Through the first outage the consumer retries and goes on, then
        # it is killed in the middle of the second one.
        wait_for("the second outage", lambda: hook.phase == 3, timeout=90)
        wait_for("retries in the second outage", lambda: second_outage_failures(hook) >= 3)
        first.send_signal(signal.SIGKILL)
        first.wait()
        before_kill = hook.snapshot()
        hook.heal()
        second = consumer(brokers, topic, hook.url, "--idle-exit", "3")
        procs.append(second)
        assert second.wait(timeout=120) == 0, "the consumer failed"

        calls = hook.snapshot()
        failed = [c for c in calls if c[0] == 500]
        ok = [c for c in calls if c[0] == 200]
        for _, key, body in calls:
            assert key == body["id"], f"Idempotency-Key {key} is not the id of {body}"
        by_id = {c["id"]: c for c in expected}
        for _, key, body in ok:
            assert body == by_id.get(key), f"pushed a change it should not have: {body}"
        delivered = []
        for _, key, body in ok:  # first delivery of each, in call order
            if key not in delivered:
                delivered.append(key)
        missing = set(by_id) - set(delivered)
        assert not missing, f"changes lost: {sorted(missing)}"
        assert by_user([by_id[k] for k in delivered]) == by_user(expected), \
            "a user's enters were pushed out of order"
        assert all(c[1] in by_id for c in failed), "a failed call was not a wanted change"
        # The first outage was ridden out by the first consumer itself: the
        # change it failed on, and three more, went through before the kill.
        first_failed = next(c[1] for c in before_kill if c[0] == 500)
        ok_before_kill = [c[1] for c in before_kill if c[0] == 200]
        assert first_failed in ok_before_kill and len(ok_before_kill) == 5, before_kill
        repeats = len(ok) - len(delivered)

        third = consumer(brokers, topic, hook.url, "--idle-exit", "2")
        procs.append(third)
        assert third.wait(timeout=60) == 0, "the third consumer failed"
        assert len(hook.snapshot()) == len(calls), "offsets were not committed after the calls"

        print(f"ok: {len(expected)} enters of {SEGMENT} pushed out of {len(changes)} changes; "
              f"{len(failed)} calls answered 500 and retried, {repeats} repeated after kill -9")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if own_broker:
            subprocess.run([f"{REPO}/scripts/kafka-local", "stop", own_broker],
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

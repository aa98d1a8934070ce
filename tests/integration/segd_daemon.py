"""A `segd run` on a real broker for the admin API tests.

    with SegdDaemon(segd, "apifuzz", token="t0ken") as d:
        d.produce(records)            # [(user_id, json_text)], keyed by user
        d.wait_records(len(records))  # segd_records_total on /metrics
        status, headers, body = d.get("/segments")

The broker is $SEGD_TEST_BROKERS, else one started with scripts/kafka-local
for this daemon. The input topic (`<tag>-in`, 2 partitions by default) is
created here; segd runs with examples/rules.yaml, the event clock and an
admin server on a free loopback port, its log in the work folder (kept,
with the folder, when SEGD_KEEP_WORK is set or the test fails).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(REPO, "examples", "rules.yaml")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric_value(text, name):
    """The sum of every sample of `name` (any labels), None when absent."""
    values = re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text or "", re.M)
    return sum(float(v) for v in values) if values else None


class SegdDaemon:
    def __init__(self, segd, tag, token=None, partitions=2, extra=None):
        self.segd = segd
        self.tag = f"{tag}{os.getpid()}"
        self.token = token
        self.partitions = partitions
        self.extra = extra or {}
        self.work = tempfile.mkdtemp(prefix=f"segd-{tag}-")
        self.topic = f"{self.tag}-in"
        self.admin = f"127.0.0.1:{free_port()}"
        self.url = f"http://{self.admin}"
        self.proc = None
        self.own_broker = None
        self.brokers = None
        self.failed = False

    def __enter__(self):
        self.brokers = os.environ.get("SEGD_TEST_BROKERS")
        if not self.brokers:
            self.own_broker = os.path.join(self.work, "broker")
            out = subprocess.run([f"{REPO}/scripts/kafka-local", "start", self.own_broker],
                                 capture_output=True, text=True, check=True).stdout
            self.brokers = out.split()[-1]
        subprocess.run([self.segd, "topics", "create", "--brokers", self.brokers,
                        "--partitions", str(self.partitions), self.topic], check=True)
        config = {
            "rules": RULES, "data_dir": os.path.join(self.work, "data"), "clock": "event",
            "kafka": {"brokers": self.brokers, "group_id": self.tag,
                      "instance_id": f"{self.tag}-1"},
            "topics": {"input": [self.topic], "output": f"{self.tag}-out",
                       "dead_letter": f"{self.tag}-dlq"},
            "batch": {"max_ms": 50}, "lmdb": {"max_map_bytes": "1GiB"},
            "admin": {"listen": self.admin},
        }
        if self.token is not None:
            config["admin"]["token"] = self.token
        self.config = os.path.join(self.work, "segd.yaml")
        with open(self.config, "w") as f:
            json.dump(config, f)  # JSON is YAML
        self.log = os.path.join(self.work, "segd.log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [self.segd, "run", "--config", self.config] +
                [f"--{k}={v}" for k, v in self.extra.items()], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while self.get("/healthz", check_alive=True)[0] != 200:
            if time.monotonic() > deadline:
                self.fail("the admin server did not answer /healthz in 30 s")
            time.sleep(0.2)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.own_broker:
            subprocess.run([f"{REPO}/scripts/kafka-local", "stop", self.own_broker],
                           capture_output=True)
        if exc_type is None and not self.failed and not os.environ.get("SEGD_KEEP_WORK"):
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"work folder kept: {self.work} (segd log: {self.log})")
        return False

    def fail(self, message):
        """Stops the test with `message` and the tail of segd's log."""
        self.failed = True
        tail = ""
        if os.path.exists(self.log):
            with open(self.log, errors="replace") as f:
                tail = "".join(f.readlines()[-20:])
        sys.exit(f"FAIL: {message}\n--- segd log (tail) ---\n{tail}")

    def produce(self, records):
        """records: [(user_id, json text)], each keyed by its user id."""
        data = "".join(f"{user}\t{text}\n" for user, text in records)
        subprocess.run(["kcat", "-P", "-b", self.brokers, "-t", self.topic, "-K", "\t"],
                       input=data, text=True, check=True, timeout=60)

    def request(self, method, path, body=None, headers=None, check_alive=False):
        """(status, headers, body text); status 0 when nothing answered."""
        if not check_alive and self.proc.poll() is not None:
            self.fail(f"segd exited with {self.proc.returncode}")
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode(errors="replace")
        except OSError:
            return 0, {}, ""

    def get(self, path, check_alive=False):
        return self.request("GET", path, check_alive=check_alive)

    def metrics(self):
        return self.get("/metrics")[2]

    def wait_records(self, n, timeout=90):
        """Waits until segd counted n records and committed a batch after them."""
        deadline = time.monotonic() + timeout
        while (metric_value(self.metrics(), "segd_records_total") or 0) < n:
            if time.monotonic() > deadline:
                self.fail(f"segd did not count {n} records in {timeout} s")
            time.sleep(0.5)
        time.sleep(2)  # one more batch round: per-partition gauges after the commit


def example_records(now, users=20):
    """[(user_id, json text)] that put users into several segments of
    examples/rules.yaml. Every user's last record has ts `now`, so with the
    event clock every partition's clock ends at `now` — as it does in a
    `segd replay` of all of them — and the final memberships agree."""
    def rec(user, ts, **fields):
        return user, json.dumps({"user_id": user, "ts": ts, **fields}, separators=(",", ":"))

    minute = 60_000
    out = []
    for i in range(users):
        u = f"u{i}"
        if i % 2 == 0:  # activity_x_online
            out.append(rec(u, now - 5 * minute, event="activity_signup",
                           props={"activity": "X"}))
        if i % 3 == 0:  # young_men (every sixth also 30, not young)
            out.append(rec(u, now - 4 * minute,
                           set={"gender": "male", "age": 30 if i % 6 == 0 else 20}))
        if i % 4 == 1:  # cart_heavy
            out += [rec(u, now - k * minute, event="cart_calc") for k in (3, 2, 1)]
        if i % 5 == 2:  # coupon_unused
            out.append(rec(u, now - 3 * minute, event="coupon_claim", props={"coupon": "A"}))
        if i % 7 == 3:  # sleeper_jan_2017: a late record of 2017
            out.append(rec(u, 1484000000000, event="register"))
            out.append(rec(u, now - 2 * minute, event="view_credit"))
        if i % 4 == 3:  # signup_stuck_at_code: the deadline passes at `now`
            out.append(rec(u, now - 40 * minute, event="signup_start"))
            out.append(rec(u, now - 39 * minute, event="send_code"))
        out.append(rec(u, now, event="visit"))  # u5, u6: activity_x_offline
    return out

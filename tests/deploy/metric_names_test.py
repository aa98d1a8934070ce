#!/usr/bin/env python3
"""Every metric the dashboard and the alerts query is one segd exports.

Starts `segd run` against a real broker with the Kubernetes ConfigMap's
segd.yaml (so the shipped configuration is also one segd accepts; flags point
it at this test's broker, topics and folders), feeds it valid and refused
records so that labelled and per-partition metrics have series, then reads
/metrics and checks each name found in deploy/grafana/*.json and
deploy/prometheus/alerts.yml against the families there (histograms by their
_bucket/_sum/_count series). The page must also pass `promtool check metrics`.

Usage: metric_names_test.py SEGD
Broker: $SEGD_TEST_BROKERS, else one started with scripts/kafka-local.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import promql_names  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(admin):
    try:
        return urllib.request.urlopen(f"http://{admin}/metrics", timeout=2).read().decode()
    except OSError:
        return None


def sample(text, name):
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text or "", re.M)
    return float(m.group(1)) if m else None


def families(text):
    """{name: type} from the # TYPE lines, plus every sample name seen."""
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    samples = set(re.findall(r"^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]", text, re.M))
    return types, samples


def exported(name, types, samples):
    if name in types and types[name] not in ("histogram", "summary"):
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) == "histogram":
            return True
        if base and suffix != "_bucket" and types.get(base) == "summary":
            return True
    return name in samples and name not in types


def main():
    segd = sys.argv[1]
    work = tempfile.mkdtemp(prefix="segd-metric-names-")
    own_broker = None
    brokers = os.environ.get("SEGD_TEST_BROKERS")
    if not brokers:
        own_broker = os.path.join(work, "broker")
        brokers = subprocess.run([f"{REPO}/scripts/kafka-local", "start", own_broker],
                                 capture_output=True, text=True, check=True).stdout.split()[-1]
    proc = None
    try:
        tag = f"names{os.getpid()}"
        topic = f"{tag}-in"
        subprocess.run([segd, "topics", "create", "--brokers", brokers, "--partitions", "2",
                        topic], check=True)
        configmap = yaml.safe_load(open(os.path.join(REPO, "deploy", "k8s", "configmap.yaml")))
        config = os.path.join(work, "segd.yaml")
        with open(config, "w") as f:
            f.write(configmap["data"]["segd.yaml"])
        admin = f"127.0.0.1:{free_port()}"
        flags = {"rules": os.path.join(REPO, "examples", "rules.yaml"),
                 "data_dir": os.path.join(work, "data"), "kafka.brokers": brokers,
                 "kafka.group_id": tag, "kafka.instance_id": "names-1",
                 "topics.input": topic, "topics.output": f"{tag}-out",
                 "topics.dead_letter": f"{tag}-dlq", "admin.listen": admin,
                 "lmdb.max_map_bytes": "1GiB", "batch.max_ms": "50"}
        log = open(os.path.join(work, "segd.log"), "w")
        proc = subprocess.Popen([segd, "run", "--config", config] +
                                [f"--{k}={v}" for k, v in flags.items()],
                                stdout=log, stderr=log)
        now = int(time.time() * 1000)
        # Visits with a nested prop (an ignored value), sign-ups that enter
        # activity_x_online of examples/rules.yaml (changes and members).
        records = "".join(
            f'u{i}\t{{"user_id":"u{i}","event":"visit","ts":{now},"props":{{"n":{{"x":1}}}}}}\n'
            f'u{i}\t{{"user_id":"u{i}","event":"activity_signup","ts":{now},'
            f'"props":{{"activity":"X"}}}}\n'
            for i in range(10))
        records += 'u1\t{"user_id":"u1","event":"visit","ts":1.5}\n'  # refused: invalid_ts
        subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic, "-K", "\t"], input=records,
                       text=True, check=True)
        text, deadline = None, time.time() + 90
        while time.time() < deadline:
            if proc.poll() is not None:
                sys.exit(f"FAIL: segd exited with {proc.returncode}; log in {work}/segd.log")
            text = scrape(admin)
            if (sample(text, "segd_records_total") or 0) >= 21:
                break
            time.sleep(0.5)
        else:
            sys.exit(f"FAIL: segd did not count the 21 records in 90 s; log in {work}/segd.log")
        time.sleep(2)  # one more batch round: per-partition gauges after the commit
        text = scrape(admin)
        types, samples = families(text)
        print(f"/metrics: {len(types)} families")

        missing = {}
        for name, sources in sorted(promql_names.deploy_names(REPO).items()):
            if not exported(name, types, samples):
                missing[name] = sources
        used = promql_names.deploy_names(REPO)
        print(f"names queried by the dashboard and alerts: {len(used)}")
        check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               capture_output=True)
        failed = False
        if missing:
            failed = True
            print("FAIL: queried but not exported by segd:")
            for name, sources in missing.items():
                print(f"  {name}  ({', '.join(sources)})")
        if check.returncode != 0:
            failed = True
            print("FAIL: promtool check metrics:\n" + check.stdout + check.stderr)
        if failed:
            sys.exit(1)
        print("every queried metric is exported; promtool check metrics is clean")
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if own_broker:
            subprocess.run([f"{REPO}/scripts/kafka-local", "stop", own_broker],
                           capture_output=True)
        if not os.environ.get("SEGD_KEEP_WORK"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

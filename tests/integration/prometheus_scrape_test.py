#!/usr/bin/env python3
"""A real Prometheus server scrapes segd and sees each segment's members.

Starts `segd run` (examples/rules.yaml, event clock, a 2-partition input
topic) and feeds it records that put users into several segments, then a
Prometheus server (/usr/bin/prometheus) with a temporary configuration that
scrapes segd's admin address every second and a temporary storage folder.
Once a scrape after the records has landed, the HTTP API's answer to

    sum by (segment) (segd_segment_members)

must hold every segment of the rule file, each with the member count that
`segd replay` of the same records gives (its change records, last change
per user and segment). The target must be up and the /metrics page must
pass `promtool check metrics`.

Usage: prometheus_scrape_test.py SEGD
Broker: $SEGD_TEST_BROKERS, else one started with scripts/kafka-local.
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from segd_daemon import RULES, SegdDaemon, example_records, free_port  # noqa: E402

import yaml  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
QUERY = "sum by (segment) (segd_segment_members)"


def replay_members(segd, records, work):
    """{segment: members} after `segd replay --clock event` of `records`."""
    path = os.path.join(work, "records.jsonl")
    with open(path, "w") as f:
        f.write("".join(text + "\n" for _, text in records))
    out = subprocess.run([segd, "replay", "--rules", RULES, "--input", path, "--clock", "event"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    last = {}
    for line in out.splitlines():
        change = json.loads(line)
        last[(change["segment"], change["user_id"])] = change["change"]
    members = collections.Counter()
    for (segment, _), change in last.items():
        members[segment] += change == "enter"
    return members


def query(prom, expr):
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        answer = json.loads(urllib.request.urlopen(url, timeout=5).read())
    except OSError:
        return None
    if answer.get("status") != "success":
        return None
    return answer["data"]["result"]


def start_prometheus(work, target):
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "segd", "scrape_interval": "1s",
                                "scrape_timeout": "1s",
                                "static_configs": [{"targets": [target]}]}],
        }, f)
    listen = f"127.0.0.1:{free_port()}"
    log = open(os.path.join(work, "prometheus.log"), "w")
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={work}/tsdb",
         f"--web.listen-address={listen}", "--storage.tsdb.retention.time=1h",
         "--log.level=warn"], stdout=log, stderr=log)
    return proc, f"http://{listen}"


def main():
    segd = sys.argv[1]
    if not os.access(PROMETHEUS, os.X_OK):
        sys.exit(f"FAIL: {PROMETHEUS} missing (scripts/install-deps installs prometheus)")
    segments = [s["id"] for s in yaml.safe_load(open(RULES))["segments"]]
    with SegdDaemon(segd, "promscrape") as d:
        records = example_records(int(time.time() * 1000))
        want = replay_members(segd, records, d.work)
        assert sum(1 for s in segments if want[s] > 0) >= 5, f"too few segments reached: {want}"
        d.produce(records)
        d.wait_records(len(records))

        page = d.metrics()
        check = subprocess.run(["promtool", "check", "metrics"], input=page, text=True,
                               capture_output=True)
        if check.returncode != 0:
            d.fail("promtool check metrics:\n" + check.stdout + check.stderr)

        prom, url = start_prometheus(d.work, d.admin)
        try:
            got, up, deadline = {}, None, time.monotonic() + 60
            # The first scrapes may predate the records' commit: wait until
            # Prometheus's answer is the replay's (or the deadline).
            while time.monotonic() < deadline:
                if prom.poll() is not None:
                    d.fail(f"prometheus exited with {prom.returncode}; see "
                           f"{d.work}/prometheus.log")
                up = query(url, 'up{job="segd"}')
                result = query(url, QUERY) or []
                got = {r["metric"].get("segment"): float(r["value"][1]) for r in result}
                if up and all(got.get(s) == want[s] for s in segments):
                    break
                time.sleep(1)
        finally:
            prom.terminate()
            try:
                prom.wait(timeout=30)
            except subprocess.TimeoutExpired:
                prom.kill()

        problems = []
        if not up or up[0]["value"][1] != "1":
            problems.append(f'up{{job="segd"}} is {up}: Prometheus did not scrape segd')
        for s in segments:
            if s not in got:
                problems.append(f"{s}: no series in Prometheus's answer")
            elif got[s] != want[s]:
                problems.append(f"{s}: {got[s]:g} members in Prometheus, replay gives {want[s]}")
        for s in sorted(set(got) - set(segments), key=str):
            problems.append(f"{s}: in Prometheus's answer, not a segment of the rule file")
        if problems:
            d.fail("\n  ".join(["Prometheus's view of segd_segment_members:"] + problems))
        print(f"ok: {QUERY} as Prometheus scraped it, {len(segments)} segments:")
        for s in segments:
            print(f"  {s}: {want[s]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Static checks of deploy/ (CTest label `deploy`; no services needed).

  deploy_check.py alerts            promtool: alerts.yml, its unit tests, prometheus.yml
  deploy_check.py dashboard         the dashboard's JSON, layout and PromQL (through promtool)
  deploy_check.py k8s               kubernetes-validate --strict with bundled schemas; the
                                    ServiceMonitor against deploy/k8s/schemas/; references
  deploy_check.py hadolint          the Dockerfile, and what it copies
  deploy_check.py systemd SEGD      unit (systemd-analyze verify/security), sysusers, tmpfiles
  deploy_check.py compose           compose.yaml's mounts, images and scrape target

The PyPI tools live in ${SEGD_CACHE:-~/.cache/segd}/venv (scripts/install-deps);
a missing tool is a failure, not a skip.
"""
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(REPO, "deploy")
VENV = os.path.join(os.environ.get("SEGD_CACHE", os.path.expanduser("~/.cache/segd")), "venv")
sys.path.insert(0, HERE)
import promql_names  # noqa: E402

errors = []


def fail(msg):
    errors.append(msg)


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def venv_tool(name):
    path = os.path.join(VENV, "bin", name)
    if not os.path.exists(path):
        sys.exit(f"FAIL: {path} missing: run scripts/install-deps")
    return path


def check_alerts():
    prom = os.path.join(DEPLOY, "prometheus")
    run(["promtool", "check", "rules", os.path.join(prom, "alerts.yml")])
    run(["promtool", "test", "rules", "alerts_test.yml"], cwd=prom)
    run(["promtool", "check", "config", os.path.join(prom, "prometheus.yml")])
    # Every alert has a unit test that expects it to fire.
    tests = yaml.safe_load(open(os.path.join(prom, "alerts_test.yml")))
    fired = {t["alertname"] for g in tests["tests"] for t in g["alert_rule_test"]
             if t.get("exp_alerts")}
    rules = yaml.safe_load(open(os.path.join(prom, "alerts.yml")))
    for r in (r for g in rules["groups"] for r in g["rules"]):
        if r["alert"] not in fired:
            fail(f"alerts_test.yml: no test where {r['alert']} fires")
        if r.get("labels", {}).get("severity") not in ("warning", "critical"):
            fail(f"alerts.yml: {r['alert']} has no severity warning/critical")


def check_dashboard():
    for path in glob.glob(os.path.join(DEPLOY, "grafana", "*.json")):
        d = json.load(open(path))
        ids, cells = set(), {}
        for p in d["panels"]:
            if p["id"] in ids:
                fail(f"{path}: panel id {p['id']} twice")
            ids.add(p["id"])
            g = p["gridPos"]
            if g["x"] + g["w"] > 24:
                fail(f"{path}: panel {p['title']!r} wider than the grid")
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    if (x, y) in cells:
                        fail(f"{path}: panels {cells[(x, y)]!r} and {p['title']!r} overlap")
                    cells[(x, y)] = p["title"]
            if p["type"] != "row" and p.get("datasource", {}).get("uid") != "${datasource}":
                fail(f"{path}: panel {p['title']!r} does not use the $datasource variable")
        # The PromQL must parse: promtool checks it as recording rules, with
        # Grafana's variables replaced by values.
        exprs = promql_names.dashboard_exprs(path)
        rules = [{"record": f"segd:dashboard:{i}",
                  "expr": re.sub(r"\$__rate_interval", "5m",
                                 re.sub(r"\$instance", ".*", e))}
                 for i, e in enumerate(exprs)]
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
            f.flush()
            run(["promtool", "check", "rules", f.name])
        # What the dashboard is for: each of these is queried.
        used = {n for e in exprs for n in promql_names.names_in(e)}
        for need in ["segd_records_total", "segd_consumer_lag_records",
                     "segd_processing_latency_seconds_bucket",
                     "segd_end_to_end_latency_seconds_bucket", "segd_changes_total",
                     "segd_segment_members", "segd_outbox_entries", "segd_timers_due",
                     "segd_lmdb_map_used_bytes"]:
            if need not in used:
                fail(f"{path}: no panel queries {need}")


def strict(schema):
    """The CRD schema as the API server applies it (unknown fields pruned)
    made strict: an object with properties and no other allowance refuses
    unknown keys, so a misspelt field fails instead of vanishing."""
    s = copy.deepcopy(schema)

    def walk(n):
        if isinstance(n, dict):
            if (n.get("type") == "object" and "properties" in n
                    and "additionalProperties" not in n
                    and not n.get("x-kubernetes-preserve-unknown-fields")):
                n["additionalProperties"] = False
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(s)
    return s


def check_k8s():
    venv_tool("kubernetes-validate")
    code = r'''
import json, sys, jsonschema, yaml
import kubernetes_validate.utils as kv
schema = json.loads(sys.stdin.read())
failed = 0
for path in sys.argv[2:]:
    for doc in (d for d in yaml.safe_load_all(open(path)) if d):
        kind = doc["kind"]
        if kind == "Kustomization":
            continue
        if kind == "ServiceMonitor":
            errs = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
            for e in errs:
                print(f"ERROR {path}: ServiceMonitor {list(e.path)}: {e.message}")
            failed |= bool(errs)
            continue
        for version in sys.argv[1].split(","):
            try:
                kv.validate(doc, version, strict=True)
            except kv.ValidationError as e:
                print(f"ERROR {path}: {kind} against {version}: {list(e.path)}: {e.message}")
                failed = 1
            except kv.SchemaNotFoundError as e:
                print(f"ERROR {path}: {e.message}")
                failed = 1
sys.exit(failed)
'''
    k8s = os.path.join(DEPLOY, "k8s")
    schema_file = os.path.join(k8s, "schemas", "servicemonitor-monitoring-v1.json")
    schema = json.dumps(strict(json.load(open(schema_file))))
    files = sorted(glob.glob(os.path.join(k8s, "*.yaml")))
    python = os.path.join(VENV, "bin", "python")
    versions = "1.28.0,1.37.0"
    run([python, "-c", code, versions] + files, input=schema)

    # The validator must refuse what it should: a misspelt ServiceMonitor
    # field and a StatefulSet field of the wrong type.
    docs = {d["kind"]: d for f in files for d in yaml.safe_load_all(open(f)) if d}
    with tempfile.TemporaryDirectory() as tmp:
        bad_sm = copy.deepcopy(docs["ServiceMonitor"])
        bad_sm["spec"]["endpoints"][0]["intervall"] = "15s"
        bad_sts = copy.deepcopy(docs["StatefulSet"])
        bad_sts["spec"]["replicas"] = "one"
        for name, doc in (("sm", bad_sm), ("sts", bad_sts)):
            p = os.path.join(tmp, f"{name}.yaml")
            yaml.safe_dump(doc, open(p, "w"))
            r = subprocess.run([python, "-c", code, versions, p], input=schema,
                               capture_output=True, text=True)
            if r.returncode == 0:
                fail(f"k8s validation accepted a broken {doc['kind']}")

    # References between the manifests.
    kust = docs["Kustomization"]
    listed = set(kust["resources"])
    present = {os.path.basename(f) for f in files} - {"kustomization.yaml"}
    if listed != present:
        fail(f"kustomization.yaml resources {sorted(listed)} != files {sorted(present)}")
    sts, svc, sm = docs["StatefulSet"], docs["Service"], docs["ServiceMonitor"]
    pdb, cm, secret = docs["PodDisruptionBudget"], docs["ConfigMap"], docs["Secret"]
    pod = sts["spec"]["template"]
    labels = pod["metadata"]["labels"]
    for what, sel in (("Service", svc["spec"]["selector"]),
                      ("PodDisruptionBudget", pdb["spec"]["selector"]["matchLabels"]),
                      ("StatefulSet", sts["spec"]["selector"]["matchLabels"])):
        if not sel.items() <= labels.items():
            fail(f"{what} selector {sel} does not match the pod labels {labels}")
    if not sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items():
        fail("ServiceMonitor selector does not match the Service's labels")
    if sts["spec"]["serviceName"] != svc["metadata"]["name"]:
        fail("StatefulSet serviceName is not the Service")
    c = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    if {e["port"] for e in sm["spec"]["endpoints"]} - {p["name"] for p in svc["spec"]["ports"]}:
        fail("ServiceMonitor endpoint port is not a Service port")
    for p in svc["spec"]["ports"]:
        if p["targetPort"] not in ports:
            fail(f"Service targetPort {p['targetPort']} is not a container port")
    probes = {k: c.get(k, {}).get("httpGet", {}) for k in
              ("startupProbe", "livenessProbe", "readinessProbe")}
    if probes["livenessProbe"].get("path") != "/healthz" or \
       probes["readinessProbe"].get("path") != "/readyz":
        fail(f"probes: liveness must be /healthz and readiness /readyz: {probes}")
    for k, p in probes.items():
        if p.get("port") not in ports:
            fail(f"{k} port {p.get('port')} is not a container port")
    admin_port = ports["admin"]
    env = {e["name"]: e for e in c.get("env", [])}
    listen = env.get("SEGD_ADMIN_LISTEN", {}).get("value", "")
    if listen != f"0.0.0.0:{admin_port}":
        fail(f"SEGD_ADMIN_LISTEN is {listen!r}, not 0.0.0.0:{admin_port}")
    ref = env.get("SEGD_ADMIN_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef", {})
    if ref.get("name") != secret["metadata"]["name"] or \
       ref.get("key") not in secret.get("stringData", {}):
        fail(f"SEGD_ADMIN_TOKEN does not come from the Secret: {ref}")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    claims = [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]]
    config = yaml.safe_load(cm["data"]["segd.yaml"])
    if mounts.get(claims[0]) != config["data_dir"]:
        fail(f"the PersistentVolumeClaim is not mounted at data_dir {config['data_dir']}")
    vols = {v["name"]: v for v in pod["spec"]["volumes"]}
    cm_vol = [n for n, v in vols.items() if v.get("configMap", {}).get("name") ==
              cm["metadata"]["name"]]
    if not cm_vol or os.path.join(mounts[cm_vol[0]], "rules.yaml") != config["rules"]:
        fail("the ConfigMap is not mounted where segd.yaml's rules: points")
    if cm["data"]["rules.yaml"] != open(os.path.join(REPO, "examples", "rules.yaml")).read():
        fail("configmap.yaml's rules.yaml differs from examples/rules.yaml")


def check_hadolint():
    dockerfile = os.path.join(DEPLOY, "docker", "Dockerfile")
    run([venv_tool("hadolint"), "--failure-threshold", "info", dockerfile])
    text = open(dockerfile).read()
    for src in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for s in src.split():
            if not os.path.exists(os.path.join(REPO, s)):
                fail(f"Dockerfile copies {s}, which is not in the repository")
    # The build stage installs the build dependencies of scripts/install-deps.
    deps = open(os.path.join(REPO, "scripts", "install-deps")).read()
    for pkg in re.findall(r"\b(lib[a-z0-9.+-]+-dev|prometheus-cpp-dev)\b", text):
        if pkg not in deps:
            fail(f"Dockerfile installs {pkg}, which scripts/install-deps does not")
    for pkg in ("librdkafka-dev", "liblmdb-dev", "libroaring-dev", "libsimdjson-dev",
                "libyaml-cpp-dev", "prometheus-cpp-dev", "libhowardhinnant-date-dev"):
        if pkg not in text:
            fail(f"Dockerfile's build stage lacks {pkg}")
    if "ENV SEGD_ADMIN_LISTEN=0.0.0.0:9464" not in text or "/healthz" not in text:
        fail("Dockerfile: the admin server must listen on 0.0.0.0:9464 and be health-checked")


HARDENING = ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
             "CapabilityBoundingSet=", "ReadWritePaths=/var/lib/segd", "PrivateDevices=yes",
             "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
             "MemoryDenyWriteExecute=yes", "User=segd"]


def check_systemd(segd):
    sysd = os.path.join(DEPLOY, "systemd")
    unit = open(os.path.join(sysd, "segd.service")).read()
    lines = set(unit.splitlines())
    for h in HARDENING:
        if h not in lines:
            fail(f"segd.service lacks {h}")
    with tempfile.TemporaryDirectory() as tmp:
        # verify resolves ExecStart: point it at the binary just built.
        path = os.path.join(tmp, "segd.service")
        open(path, "w").write(unit.replace("/usr/bin/segd", os.path.abspath(segd)))
        run(["systemd-analyze", "verify", path])
        r = run(["systemd-analyze", "security", "--offline=true", "--threshold=20", path])
        m = re.search(r"Overall exposure level for segd.service: ([0-9.]+)", r.stdout)
        if not m or float(m.group(1)) > 2.0:
            fail(f"systemd-analyze security: exposure {m and m.group(1)} above 2.0 (OK)")
        # sysusers then tmpfiles into an empty root: the user, then its folder.
        root = os.path.join(tmp, "root")
        os.makedirs(os.path.join(root, "etc"))
        run(["systemd-sysusers", f"--root={root}", os.path.join(sysd, "segd.sysusers")])
        pw = open(os.path.join(root, "etc", "passwd")).read()
        if not re.search(r"^segd:x:\d+:\d+:[^:]*:/var/lib/segd:/usr/sbin/nologin$", pw, re.M):
            fail(f"systemd-sysusers made no segd user: {pw!r}")
        run(["systemd-tmpfiles", f"--root={root}", "--create",
             os.path.join(sysd, "segd.tmpfiles")])
        st = os.stat(os.path.join(root, "var", "lib", "segd"))
        if oct(st.st_mode & 0o777) != "0o750":
            fail(f"systemd-tmpfiles made /var/lib/segd {oct(st.st_mode & 0o777)}, not 0750")


def check_compose():
    cdir = os.path.join(DEPLOY, "compose")
    comp = yaml.safe_load(open(os.path.join(cdir, "compose.yaml")))
    svcs = comp["services"]
    for need in ("kafka", "topics", "segd", "prometheus", "grafana"):
        if need not in svcs:
            fail(f"compose.yaml has no {need} service")
    for name, s in svcs.items():
        for v in s.get("volumes", []):
            src = v.split(":")[0]
            if src.startswith(".") and not os.path.exists(os.path.join(cdir, src)):
                fail(f"compose.yaml: {name} mounts {src}, which does not exist")
        b = s.get("build")
        if b and not os.path.exists(os.path.join(cdir, b["context"], b["dockerfile"])):
            fail(f"compose.yaml: {name} builds from a missing Dockerfile")
    kafka_version = re.search(r"SEGD_KAFKA_VERSION=(\S+)",
                              open(os.path.join(REPO, "scripts", "kafka-version.sh")).read())
    if svcs["kafka"]["image"] != f"apache/kafka:{kafka_version.group(1)}":
        fail(f"compose.yaml: Kafka image {svcs['kafka']['image']} is not the tested "
             f"broker version {kafka_version.group(1)}")
    topics = svcs["topics"]["command"]
    for t in ("events", "segd-changes", "segd-dead-letter"):
        if t not in topics:
            fail(f"compose.yaml: topic {t} is not created")
    prom = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus", "prometheus.yml")))
    targets = [t for j in prom["scrape_configs"] if j["job_name"] == "segd"
               for c in j["static_configs"] for t in c["targets"]]
    if targets != ["segd:9464"]:
        fail(f"prometheus.yml scrapes {targets}, not segd:9464")
    if "../../examples/rules.yaml:/etc/segd/rules.yaml:ro" not in svcs["segd"]["volumes"]:
        fail("compose.yaml: segd does not load examples/rules.yaml")
    for f in glob.glob(os.path.join(cdir, "grafana", "*", "*.yml")):
        yaml.safe_load(open(f))


def main():
    what = sys.argv[1]
    {"alerts": check_alerts, "dashboard": check_dashboard, "k8s": check_k8s,
     "hadolint": check_hadolint, "compose": check_compose,
     "systemd": lambda: check_systemd(sys.argv[2])}[what]()
    if errors:
        print("\n".join(f"FAIL: {e}" for e in errors))
        sys.exit(1)
    print(f"{what}: ok")


if __name__ == "__main__":
    main()

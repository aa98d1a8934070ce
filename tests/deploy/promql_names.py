"""The metric names that deploy/grafana/*.json and deploy/prometheus/alerts.yml
query, read from their PromQL expressions.

A small lexer, not a PromQL parser: it drops string literals, Grafana
variables, label matchers ({...}), range and subquery selectors ([...]) and
the label lists of by/without/on/ignoring/group_left/group_right, and keeps
each remaining identifier that is not a function (followed by "("), a
keyword or a number. What is left are metric names.
"""
import glob
import json
import os
import re

import yaml

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "atan2", "inf", "nan"}
LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def names_in(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\$\{[^}]*\}|\$\w+", "1", e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = LABEL_LIST.sub(" ", e)
    e = re.sub(r"\b\d+(\.\d+)?([eE][-+]?\d+)?\b", " ", e)
    found = set()
    for m in IDENT.finditer(e):
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or m.group(0).lower() in KEYWORDS:
            continue
        found.add(m.group(0))
    return found


def dashboard_exprs(path):
    """Every PromQL expression of a dashboard: panel targets (nested rows
    too) and query variables (label_values(metric, label) counts as metric)."""
    exprs = []

    def panels(items):
        for p in items:
            for t in p.get("targets", []):
                if t.get("expr"):
                    exprs.append(t["expr"])
            panels(p.get("panels", []))

    d = json.load(open(path))
    panels(d.get("panels", []))
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = re.match(r"\s*label_values\((.*),\s*\w+\s*\)\s*$", q)
        exprs.append(m.group(1) if m else q)
    return exprs


def alert_exprs(path):
    doc = yaml.safe_load(open(path))
    return [str(r["expr"]) for g in doc["groups"] for r in g["rules"]]


def deploy_exprs(repo):
    """{source: [expr, ...]} for every dashboard and the alerts."""
    out = {}
    for path in sorted(glob.glob(os.path.join(repo, "deploy", "grafana", "*.json"))):
        out[os.path.relpath(path, repo)] = dashboard_exprs(path)
    alerts = os.path.join(repo, "deploy", "prometheus", "alerts.yml")
    out[os.path.relpath(alerts, repo)] = alert_exprs(alerts)
    return out


def deploy_names(repo):
    """{metric name: sorted sources that use it}."""
    used = {}
    for source, exprs in deploy_exprs(repo).items():
        for e in exprs:
            for n in names_in(e):
                used.setdefault(n, set()).add(source)
    return {n: sorted(s) for n, s in used.items()}

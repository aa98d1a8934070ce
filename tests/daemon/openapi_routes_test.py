#!/usr/bin/env python3
"""docs/openapi.yaml and the admin server's route table name the same routes.

The route table of daemon/admin_api.cc (kRoutes) is a C++ array literal of
`{"METHOD", "/path"}` entries; every such pair of string literals in the
file is a route. The test compares (method, path) both ways, so a route
added to one side only fails it, and it fails when the file holds no route
at all (a table that moved or changed shape must not pass by finding none).

Usage: openapi_routes_test.py [REPO]
"""
import os
import re
import sys

import yaml

REPO = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")

# {"GET", "/segments/{id}"}: a brace, a method literal, a comma, a path
# literal starting with "/" (whitespace and line breaks allowed between).
ROUTE = re.compile(r'\{\s*"(' + "|".join(METHODS) + r')"\s*,\s*"(/[^"\\]*)"')


def strip_comments(source):
    """C++ source without // and /* */ comments (string literals kept)."""
    out, i, n = [], 0, len(source)
    while i < n:
        c = source[i]
        if c == '"':
            j = i + 1
            while j < n and source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            out.append(source[i:j + 1])
            i = j + 1
        elif source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
        elif source.startswith("/*", i):
            j = source.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def server_routes(path):
    with open(path, encoding="utf-8") as f:
        pairs = ROUTE.findall(strip_comments(f.read()))
    routes = set(pairs)
    dup = len(pairs) - len(routes)
    return routes, dup


def spec_routes(path):
    with open(path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    assert spec.get("openapi", "").startswith("3."), "docs/openapi.yaml: not OpenAPI 3"
    routes = set()
    for p, item in (spec.get("paths") or {}).items():
        for key in item:
            if key.upper() in METHODS:
                routes.add((key.upper(), p))
    return routes


def main():
    cc = os.path.join(REPO, "daemon", "admin_api.cc")
    doc = os.path.join(REPO, "docs", "openapi.yaml")
    server, dup = server_routes(cc)
    spec = spec_routes(doc)
    failed = []
    if not server:
        failed.append(f'no {{"METHOD", "/path"}} route entries found in {cc}')
    if not spec:
        failed.append(f"no paths in {doc}")
    if dup:
        failed.append(f"{dup} duplicate route entr{'y' if dup == 1 else 'ies'} in {cc}")
    only_server = sorted(server - spec, key=lambda r: (r[1], r[0]))
    only_spec = sorted(spec - server, key=lambda r: (r[1], r[0]))
    for method, path in only_server:
        failed.append(f"{method} {path}: a route of admin_api.cc, not in docs/openapi.yaml")
    for method, path in only_spec:
        failed.append(f"{method} {path}: in docs/openapi.yaml, not a route of admin_api.cc")
    if failed:
        print("FAIL:\n  " + "\n  ".join(failed))
        return 1
    print(f"ok: {len(server)} routes, the same in admin_api.cc and docs/openapi.yaml")
    for method, path in sorted(server, key=lambda r: (r[1], r[0])):
        print(f"  {method:6} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The admin API over real HTTP against `segd run` on a real broker (issue 11).

- a segment created at run time answers the right member count over the
  users segd already has, is persisted across a restart, and then emits;
- the members export returns exactly the members, page by page, in jsonl and
  csv, and /segments/{id}/members/{user} agrees;
- an explanation's verdict agrees with the membership;
- a list upload makes the seen listed users of a segment reading it enter
  (cause `list`), a replacing upload makes the dropped ones leave, unseen
  listed users emit nothing, and uploads persist without repeating output;
- writes without the token get 401; malformed JSON, unknown fields, bad
  rules (with line and column), oversized bodies, unknown ids and routes get
  4xx JSON errors; a segment others depend on cannot be deleted;
- under another group_id (an empty definitions topic) the API segments and
  lists are dropped with a warning and a copy, which moved to catalog.json
  publishes them to the new topic.

Usage: admin_api_test.py SEGD SEGD_LOADGEN   (broker: $SEGD_TEST_BROKERS)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "t0ken-for-tests"
failures = []


def check(what, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail and not ok else ""),
          flush=True)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(admin, method, path, body=None, token=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{admin}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=180) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def jcall(*args, **kw):
    status, headers, body = call(*args, **kw)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def produce(brokers, topic, lines):
    subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic, "-K", "\t"], input="".join(lines),
                   text=True, check=True)


def read_topic(brokers, topic):
    out = subprocess.run(["kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q",
                          "-X", "isolation.level=read_committed"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def main():
    segd, loadgen = sys.argv[1], sys.argv[2]
    brokers = os.environ["SEGD_TEST_BROKERS"]
    work = tempfile.mkdtemp(prefix="segd-api-")
    proc = None
    try:
        tag = f"api{os.getpid()}"
        topic_in, topic_out = f"{tag}-in", f"{tag}-out"
        subprocess.run([segd, "topics", "create", "--brokers", brokers, "--partitions", "2",
                        topic_in], check=True)
        lines = subprocess.run([loadgen, "--users", "300", "--records", "6000", "--days", "5",
                                "--seed", "11", "--keyed"],
                               capture_output=True, text=True, check=True).stdout.splitlines(True)
        admin = f"127.0.0.1:{free_port()}"
        config = os.path.join(work, "segd.yaml")
        with open(config, "w") as f:
            f.write(f"rules: {REPO}/bench/rules.yaml\ndata_dir: {work}/data\nclock: event\n"
                    f"kafka:\n  brokers: {brokers}\n  group_id: {tag}\n  instance_id: api-1\n"
                    f"topics:\n  input: [{topic_in}]\n  output: {topic_out}\n"
                    f"  dead_letter: {tag}-dlq\nadmin:\n  listen: {admin}\n  token: {TOKEN}\n"
                    f"log:\n  level: warn\n")
        log = open(os.path.join(work, "segd.log"), "a")

        def start():
            p = subprocess.Popen([segd, "run", "--config", config], stdout=log, stderr=log)
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if call(admin, "GET", "/healthz")[0] == 200:
                        return p
                except OSError:
                    pass
                time.sleep(0.2)
            raise RuntimeError("segd did not start")

        proc = start()
        produce(brokers, topic_in, lines[:4000])
        users_in = {json.loads(l.split("\t", 1)[1])["user_id"] for l in lines[:4000]}

        def users_seen():
            s, body = jcall(admin, "GET", "/segments")
            return s == 200 and len(body["partitions"]) == 2

        deadline = time.time() + 60
        while time.time() < deadline and not users_seen():
            time.sleep(0.5)
        # Wait until the first 4000 records are processed: the lag gauge is 0.
        def caught_up():
            _, _, text = call(admin, "GET", "/metrics")
            lags = [float(l.split()[-1]) for l in text.splitlines()
                    if l.startswith("segd_consumer_lag_records{")]
            users = [float(l.split()[-1]) for l in text.splitlines()
                     if l.startswith("segd_users{")]
            return lags and sum(lags) == 0 and sum(users) == len(users_in)
        deadline = time.time() + 60
        while time.time() < deadline and not caught_up():
            time.sleep(0.5)
        check("segd took in the first records", caught_up())

        # The segment's expected members: users who did gift_send (all time).
        def did(event, recs):
            return {json.loads(l.split("\t", 1)[1])["user_id"] for l in recs
                    if json.loads(l.split("\t", 1)[1]).get("event") == event}
        rule = {"rule": "did(gift_send)", "name": "Sent a gift", "emit_initial": False}

        s, body = jcall(admin, "PUT", "/segments/gifters", rule)
        check("PUT without a token is 401", s == 401 and body.get("error") == "unauthorized")
        s, body = jcall(admin, "PUT", "/segments/gifters", rule, token="wrong")
        check("PUT with a wrong token is 401", s == 401)
        s, body = jcall(admin, "PUT", "/segments/gifters", b"{not json", token=TOKEN)
        check("malformed JSON is 400 bad_request", s == 400 and body.get("error") == "bad_request")
        s, body = jcall(admin, "PUT", "/segments/gifters", {"rule": "did(x)", "colour": 1},
                        token=TOKEN)
        check("an unknown field is 400", s == 400 and "colour" in body.get("message", ""))
        s, body = jcall(admin, "PUT", "/segments/gifters",
                        {"rule": "did(gift_send) and\n  count(visit, 7d) >= \"x\""}, token=TOKEN)
        check("a bad rule is 400 invalid_rule with line and column",
              s == 400 and body.get("error") == "invalid_rule" and body.get("line") == 2
              and body.get("column", 0) > 1, body)
        s, body = jcall(admin, "PUT", "/segments/bad%20id", rule, token=TOKEN)
        check("a bad segment id is 400", s == 400)
        big = {"rule": "did(gift_send)", "name": "x" * (1 << 20)}
        s, body = jcall(admin, "PUT", "/segments/gifters", big, token=TOKEN)
        check("a body over 1 MiB is 413", s == 413 and body.get("error") == "payload_too_large")
        s, body = jcall(admin, "GET", "/segments/nope")
        check("an unknown segment is 404 JSON", s == 404 and body.get("error") == "not_found")
        s, body = jcall(admin, "GET", "/nowhere")
        check("an unknown route is 404 JSON", s == 404 and body.get("error") == "not_found")
        s, body = jcall(admin, "POST", "/segments")
        check("a wrong method is 405 JSON", s == 405 and body.get("error") == "method_not_allowed")
        file_seg = json.loads(call(admin, "GET", "/segments")[2])["segments"][0]["id"]
        s, body = jcall(admin, "PUT", f"/segments/{file_seg}", rule, token=TOKEN)
        check("a rule-file segment cannot be replaced (409)", s == 409)

        expected = did("gift_send", lines[:4000])
        s, body = jcall(admin, "PUT", "/segments/gifters", rule, token=TOKEN)
        check("PUT creates the segment (201) with the member count over existing users",
              s == 201 and body.get("members") == len(expected) and body.get("source") == "api",
              f"{s} {body} expected {len(expected)}")
        s, body = jcall(admin, "GET", "/segments/gifters")
        check("GET /segments/{id} shows it", s == 200 and body["rule"] == "did(gift_send)"
              and body["members"] == len(expected), body)

        # Export, paged, in both formats.
        got, cursor, pages = [], None, 0
        while True:
            q = "/segments/gifters/members?limit=7" + (f"&cursor={cursor}" if cursor else "")
            s, headers, text = call(admin, "GET", q)
            pages += 1
            got += [json.loads(l)["user_id"] for l in text.splitlines()]
            cursor = headers.get("X-Next-Cursor")
            if s != 200 or not cursor or pages > 1000:
                break
        check("the paged jsonl export is exactly the members",
              sorted(got) == sorted(expected) and len(got) == len(set(got)),
              f"{len(got)} vs {len(expected)}")
        s, _, text = call(admin, "GET", "/segments/gifters/members?format=csv&limit=100000")
        rows = text.splitlines()
        check("the csv export is exactly the members",
              rows[0] == "user_id" and sorted(rows[1:]) == sorted(expected))
        s, body = jcall(admin, "GET", "/segments/gifters/members?limit=0")
        check("a bad limit is 400", s == 400)
        s, body = jcall(admin, "GET", "/segments/gifters/members?cursor=zz")
        check("a bad cursor is 400", s == 400)
        some_member = sorted(expected)[0]
        some_other = sorted(users_in - expected)[0]
        s, body = jcall(admin, "GET", f"/segments/gifters/members/{some_member}")
        check("membership of a member", s == 200 and body["member"] and body["seen"])
        s, body = jcall(admin, "GET", f"/segments/gifters/members/{some_other}")
        check("membership of a non-member", s == 200 and not body["member"] and body["seen"])
        s, body = jcall(admin, "GET", "/segments/gifters/members/never-seen")
        check("membership of an unseen user", s == 200 and not body["seen"])

        # One user's state and an explanation that agrees with the membership.
        s, body = jcall(admin, "GET", f"/users/{some_member}")
        check("GET /users/{user}", s == 200 and body.get("topic") == topic_in, str(body)[:200])
        s, body = jcall(admin, "GET", "/users/never-seen")
        check("an unseen user is 404", s == 404)
        agree = True
        for u in [some_member, some_other]:
            s, body = jcall(admin, "GET", f"/users/{u}/explain/gifters")
            agree = (agree and s == 200 and body.get("verdict") == (u in expected)
                     and body.get("member") == (u in expected) and body.get("user_id") == u)
        check("explanations agree with the membership", agree)

        # Explained next changes, for users with no later record: when the
        # later records move their partition's clock past the instant, the
        # engine emits exactly that time-caused change there.
        later_users = {json.loads(l.split("\t", 1)[1])["user_id"] for l in lines[4000:]}
        s, body = jcall(admin, "GET", "/segments")
        segment_ids = [x["id"] for x in body["segments"] if x["source"] == "file"]
        predicted = []
        for u in sorted(users_in - later_users)[:40]:
            for seg in segment_ids:
                s, body = jcall(admin, "GET", f"/users/{u}/explain/{seg}")
                nxt = body.get("next_change") if s == 200 else None
                if nxt and nxt["flips"]:
                    predicted.append((u, seg, body["now"]["at"], nxt["at"],
                                      "leave" if body["verdict"] else "enter"))
        check("some explained next changes flip", len(predicted) >= 5, predicted)

        # In-segment dependents block deletion.
        s, body = jcall(admin, "PUT", "/segments/gifters_active",
                        {"rule": "in_segment(gifters) and did(visit, 3d)"}, token=TOKEN)
        check("a dependent segment is created", s == 201, body)
        s, body = jcall(admin, "DELETE", "/segments/gifters", token=TOKEN)
        check("a segment others depend on cannot be deleted (409)", s == 409, body)
        s, body = jcall(admin, "DELETE", "/segments/gifters_active", token=TOKEN)
        check("DELETE removes a segment", s == 200 and body == {"deleted": "gifters_active"})
        s, _ = jcall(admin, "GET", "/segments/gifters_active")
        check("a deleted segment is 404", s == 404)

        # Lists: an upload makes the seen listed users enter a segment that
        # reads the list; a replacing upload makes the dropped ones leave.
        s, body = jcall(admin, "PUT", "/segments/offline_gifters",
                        {"rule": 'in_list("offline_y") and did(gift_send)'}, token=TOKEN)
        check("a segment on a list not uploaded yet has no member",
              s == 201 and body.get("members") == 0, body)
        gifters, others = sorted(expected), sorted(users_in - expected)
        first = set(gifters[:6] + others[:4] + ["never-seen-1"])
        s, body = jcall(admin, "PUT", "/lists/offline_y", "\n".join(sorted(first)).encode() + b"\n")
        check("a list upload without the token is 401", s == 401)
        s, body = jcall(admin, "PUT", "/lists/offline_y",
                        ("\r\n".join(sorted(first)) + "\n\n" + gifters[0] + "\n").encode(),
                        token=TOKEN, content_type="text/plain")
        check("PUT /lists/{name} (text) stores the distinct ids",
              s == 200 and body == {"name": "offline_y", "users": len(first)}, body)

        def list_changes():
            return [c for c in read_topic(brokers, topic_out)
                    if c["segment"] == "offline_gifters" and c["cause"] == "list"]

        def wait_changes(n):
            deadline = time.time() + 60
            got = list_changes()
            while time.time() < deadline and len(got) < n:
                time.sleep(1)
                got = list_changes()
            return got

        entered = set(gifters[:6])
        got = wait_changes(len(entered))
        check("the seen listed members enter with cause list (unseen and non-members emit nothing)",
              sorted((c["user_id"], c["change"]) for c in got) ==
              sorted((u, "enter") for u in entered), got)
        s, body = jcall(admin, "GET", "/segments/offline_gifters")
        check("the list's segment counts them", body.get("members") == len(entered), body)
        second = gifters[3:9]
        s, body = jcall(admin, "PUT", "/lists/offline_y", {"users": second}, token=TOKEN)
        check("PUT /lists/{name} (JSON) replaces the list",
              s == 200 and body == {"name": "offline_y", "users": len(second)}, body)
        want = ([(u, "enter") for u in gifters[:6]] + [(u, "leave") for u in gifters[:3]] +
                [(u, "enter") for u in gifters[6:9]])
        got = wait_changes(len(want))
        check("a replacing upload: dropped members leave, added ones enter",
              sorted((c["user_id"], c["change"]) for c in got) == sorted(want), got)
        check("list-caused ids count each user's changes",
              {c["id"] for c in got if c["user_id"] == gifters[0]} ==
              {f"offline_gifters:1:1:{gifters[0]}", f"offline_gifters:1:2:{gifters[0]}"}, got)
        s, body = jcall(admin, "GET", "/lists")
        lists = {l["name"]: l for l in body.get("lists", [])} if s == 200 else {}
        check("GET /lists shows uploaded and rule-file lists",
              lists.get("offline_y", {}).get("users") == len(second)
              and lists["offline_y"]["source"] == "api"
              and any(l["source"] == "file" for l in lists.values()), body)
        file_list = next((n for n, l in lists.items() if l["source"] == "file"), "none")
        s, body = jcall(admin, "PUT", f"/lists/{file_list}", {"users": ["x"]}, token=TOKEN)
        check("a rule-file list cannot be replaced (409)", s == 409, body)
        s, body = jcall(admin, "PUT", "/lists/bad%20name", {"users": ["x"]}, token=TOKEN)
        check("a bad list name is 400", s == 400 and body.get("error") == "bad_request", body)
        s, body = jcall(admin, "PUT", "/lists/offline_z", {"users": [1]}, token=TOKEN)
        check("a non-string user id is 400", s == 400, body)
        s, body = jcall(admin, "PUT", "/lists/offline_z", b"a,b", token=TOKEN,
                        content_type="text/csv")
        check("another content type is 400", s == 400, body)
        list_records = len(got)

        # Persisted across a restart; then the new segment emits.
        proc.terminate()
        proc.wait(timeout=60)
        proc = start()
        s, body = jcall(admin, "GET", "/segments/gifters")
        check("the API segment survives a restart", s == 200 and body["source"] == "api")
        s, body = jcall(admin, "GET", "/lists")
        check("the uploaded list survives a restart",
              any(l["name"] == "offline_y" and l["users"] == len(second)
                  for l in body.get("lists", [])), body)
        produce(brokers, topic_in, lines[4000:])
        all_expected = did("gift_send", lines)
        new_members = all_expected - expected
        deadline = time.time() + 60
        entered = set()
        while time.time() < deadline:
            entered = {c["user_id"] for c in read_topic(brokers, topic_out)
                       if c["segment"] == "gifters" and c["change"] == "enter"}
            if entered >= new_members:
                break
            time.sleep(1)
        check("the created segment emits for later records (and none for earlier ones)",
              entered == new_members, f"{len(entered)} vs {len(new_members)}")
        s, body = jcall(admin, "GET", "/segments/gifters")
        check("its member count follows", body.get("members") == len(all_expected))
        check("a restart does not repeat list changes", len(list_changes()) == list_records)

        out = read_topic(brokers, topic_out)
        due, right = 0, 0
        for u, seg, then, at_ms, change in predicted:
            s, body = jcall(admin, "GET", f"/users/{u}/explain/{seg}")
            if s != 200 or body["now"]["at"] < at_ms:
                continue  # the partition's clock did not get there
            due += 1
            # After the explanation: the first change is the predicted one.
            after = sorted((c["at"], c["change"], c["cause"]) for c in out
                           if c["user_id"] == u and c["segment"] == seg and c["at"] > then)
            right += bool(after) and after[0] == (at_ms, change, "time")
        check("the engine emits each explained next change at its instant",
              due > 0 and right == due, f"{right} of {due} (of {len(predicted)} predicted)")

        # Another group_id: its definitions topic is empty, so the API
        # segments and lists are dropped, with a warning and a copy that
        # publishes them again once moved to catalog.json.
        proc.terminate()
        proc.wait(timeout=60)
        with open(config) as f:
            text = f.read()
        with open(config, "w") as f:
            f.write(text.replace(f"group_id: {tag}\n", f"group_id: {tag}b\n"))
        data = os.path.join(work, "data")
        proc = start()
        s, _ = jcall(admin, "GET", "/segments/gifters")
        copies = [n for n in os.listdir(data) if n.startswith("catalog.json.dropped-")]
        with open(os.path.join(work, "segd.log")) as f:
            warned = "The definitions topic is empty" in f.read()
        check("an empty definitions topic drops the mirrored API segments, with a warning "
              "and a copy", s == 404 and warned and len(copies) == 1, f"{s} {warned} {copies}")
        proc.terminate()
        proc.wait(timeout=60)
        if copies:
            os.replace(os.path.join(data, copies[0]), os.path.join(data, "catalog.json"))
        proc = start()
        s, body = jcall(admin, "GET", "/segments/gifters")
        restored = s == 200 and body.get("source") == "api"
        s, body = jcall(admin, "GET", "/lists")
        restored = restored and any(l["name"] == "offline_y" and l["users"] == len(second)
                                    for l in body.get("lists", []))
        check("the copy moved to catalog.json publishes them to the new topic again", restored,
              body)
        return 1 if failures else 0
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

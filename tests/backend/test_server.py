"""The server end to end: a real uvicorn on 127.0.0.1 and a real WebSocket
client. Each test names the behaviour it checks."""
from __future__ import annotations

import json
import threading

import pytest
from websockets.exceptions import ConnectionClosed

from backend.sessions import EVENT_COLUMNS
from tests.backend.conftest import WS, create, recipe, ws_url


def _state_hashes(state):
    return [p["state_hash"] for p in state["panes"]]


def test_create_returns_id_owner_token_and_share_url(client):
    out = create(client, recipe())
    assert set(out) == {"id", "owner_token", "share_url"}
    assert out["share_url"].endswith(f"/s/{out['id']}")
    assert out["owner_token"] not in out["share_url"]
    got = client.get(f"/api/sessions/{out['id']}").json()
    assert got["nr_steps"] == 0 and got["recipe"]["workload"]["scenario"] == "anon-loop"
    assert got["summary"][0]["nr_access"] == 0


def test_scenarios_and_policies_are_listed(client):
    sc = client.get("/api/scenarios").json()
    assert {"anon-loop", "file-loop"} <= {s["name"] for s in sc}
    assert all(s["watch"] and isinstance(s["params"], dict) for s in sc)
    pol = {p["key"]: p for p in client.get("/api/policies").json()}
    assert {"lru", "lru_gen", "clock", "clock_py", "s3fifo"} <= set(pol)
    assert pol["lru_gen"]["view"] == "generations" and pol["lru_gen"]["debugfs"] == "lru_gen"
    assert pol["s3fifo"]["knobs"]["small_percent"] == {"type": "int", "default": 10, "min": 1, "max": 90,
                                                       "help": pol["s3fifo"]["knobs"]["small_percent"]["help"]}
    assert {"min_ttl_ms", "tiers", "look_around", "walk_mm", "bloom_filter",
            "pid_controller"} <= set(pol["lru_gen"]["knobs"])
    # every policy, a plug-in too, runs under each kernel profile (a recipe's policies[i].kernel)
    from engine.kernels import DEFAULT_KERNEL, KERNELS
    for p in pol.values():
        assert p["kernel_profiles"] == {k: v["title"] for k, v in KERNELS.items()}, p["key"]
        assert p["default_kernel"] == DEFAULT_KERNEL


# shrink passes start at DEF_PRIORITY (scan size >> 12): on a small machine
# the first passes scan nothing, so take enough of them to reach real scanning.
@pytest.mark.parametrize("unit,count", [("access", 2), ("scan", 2), ("shrink", 8)])
def test_step_by_each_unit_advances_history_and_reports_events(client, server, unit, count):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        hello, frame, state = ws.opening()
        assert hello["v"] == 4 and hello["role"] == "owner" and hello["nr_steps"] == 0
        ws.send(type="step", unit=unit, count=count)
        f = ws.recv()
        assert f["type"] == "step" and f["step"] == count and f["nr_steps"] == count
        p = f["panes"][0]
        assert p["steps_applied"] == count and p["nr_access"] > 0
        assert p["events"]["n"] > 0 and len(p["events"]["kind"]) == p["events"]["n"]
        assert len(p["vmstat"]) == len(hello["names"]["vmstat"])
        if unit != "access":  # a scan batch means reclaim ran
            names = hello["names"]["vmstat"]
            scanned = sum(v for k, v in p["vmstat_delta"].items() if k.startswith("pgscan"))
            assert scanned > 0, p["vmstat_delta"]
            assert sum(p["vmstat"][names.index(k)] for k in names if k.startswith("pgscan")) > 0


def test_aging_unit_under_mglru_and_rejected_under_classic(client, server):
    s = create(client, recipe(policies=("lru_gen",)))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        _, before, _ = ws.opening()
        ws.send(type="step", unit="aging", count=1)
        f = ws.recv()
        assert f["panes"][0]["steps_applied"] == 1
        # aging = until the next inc_max_seq
        assert f["panes"][0]["gens"]["max_seq"] == before["panes"][0]["gens"]["max_seq"] + 1
        # with should_run_aging()'s verdict on the lruvec the frame shows (the pane's aging line)
        g = f["panes"][0]["gens"]
        assert g["aging"]["max_seq"] == g["max_seq"] and g["aging"]["min_seq"] == min(g["min_seq"])
        assert g["aging"]["why"] in ("out_of_cold", "young_over_half", "old_under_quarter", "min_gens",
                                     "more_gens", "balanced")
        assert g["aging"]["young"] == sum(next(x for x in g["gens"] if x["seq"] == g["max_seq"])["nr_pages"])
    s = create(client, recipe(policies=("lru",)))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="aging")
        e = ws.recv()
        assert e["type"] == "error" and e["code"] == "unsupported"
        ws.send(type="step", unit="access")   # the connection keeps working
        assert ws.recv()["step"] == 1


def test_back_and_seek_reach_exactly_the_state_of_that_step(client, server):
    s = create(client, recipe(accesses=3000))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        hashes = {}
        for i in range(1, 6):
            ws.send(type="step", unit="scan")
            assert ws.recv()["step"] == i
            ws.send(type="state")
            st = ws.recv()
            hashes[i] = (_state_hashes(st), st["panes"][0]["vmstat"])
        ws.send(type="back", count=3)
        f, st = ws.recv(), ws.recv()
        assert f["step"] == 2 and f["cause"] == "back" and st["step"] == 2
        assert (_state_hashes(st), st["panes"][0]["vmstat"]) == hashes[2]
        ws.send(type="seek", step=5)
        f, st = ws.recv(), ws.recv()
        assert (f["step"], _state_hashes(st)) == (5, hashes[5][0])
        ws.send(type="seek", step=0)
        f, st = ws.recv(), ws.recv()
        assert f["step"] == 0 and st["panes"][0]["nr_access"] == 0
        ws.send(type="seek", step=10**9)   # clamped at the head
        assert ws.recv()["step"] == 5


def test_seek_frame_carries_the_events_of_that_step(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="scan")
        first = ws.recv()
        ws.send(type="step", unit="scan")
        ws.recv()
        ws.send(type="seek", step=1)
        again = ws.recv()
        ws.recv()
        # the binary step message (read by its documented layout) and the
        # JSON frame of a seek to the same step say the same
        assert first["type"] == "step" and again["type"] == "frame"
        cols = ["n", "dropped", *EVENT_COLUMNS]
        assert first["panes"][0]["events"]["n"] > 0
        assert {c: first["panes"][0]["events"][c] for c in cols} == \
            {c: again["panes"][0]["events"][c] for c in cols}
        for key in ("vmstat", "vmstat_delta", "sizes", "gens", "time_ns", "nr_access"):
            assert again["panes"][0][key] == first["panes"][0][key], key


def test_compare_mode_runs_both_panes_in_lockstep_by_access_count(client, server):
    s = create(client, recipe(policies=("lru", "lru_gen")))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        hello, frame, state = ws.opening()
        assert hello["compare"] and [p["policy"] for p in hello["panes"]] == ["lru", "lru_gen"]
        assert len(state["panes"]) == 2
        for unit in ("access", "scan", "shrink", "aging"):
            ws.send(type="step", unit=unit)
            f = ws.recv()
            a, b = f["panes"]
            assert a["nr_access"] == b["nr_access"] > 0, unit
            assert (a["policy"], b["policy"]) == ("lru", "lru_gen")
        assert f["panes"][1]["gens"] is not None and f["panes"][0]["gens"] is None


def test_compare_two_knob_sets_of_one_policy(client, server):
    s = create(client, recipe(policies=({"policy": "lru_gen"},
                                        {"policy": "lru_gen", "lru_gen": {"tiers": False}})))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        hello, _, _ = ws.opening()
        assert hello["panes"][1]["config"]["lru_gen"]["tiers"] is False
        ws.send(type="step", unit="scan", count=3)
        f = ws.recv()
        assert f["panes"][0]["nr_access"] == f["panes"][1]["nr_access"]


def test_reconnect_resumes_at_the_head(client, server):
    s = create(client, recipe())
    url = ws_url(server, s["id"], s["owner_token"])
    with WS(url) as ws:
        ws.opening()
        ws.send(type="step", unit="scan", count=3)
        f = ws.recv()
        ws.send(type="state")
        before = ws.recv()
    with WS(url) as ws:
        hello, frame, state = ws.opening()
        assert hello["nr_steps"] == hello["cursor"] == 3 and frame["step"] == 3
        assert _state_hashes(state) == _state_hashes(before)
        ws.send(type="step", unit="scan")
        assert ws.recv()["step"] == 4


def test_share_url_viewer_sees_the_step_and_cannot_mutate(client, server):
    s = create(client, recipe(policies=("lru_gen",)))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="scan", count=4)
        ws.recv()
        ws.send(type="seek", step=2)
        ws.recv()
        owner_at_2 = ws.recv()
    page = client.get(f"/s/{s['id']}", params={"step": 2})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    with WS(ws_url(server, s["id"], step=2)) as ws:
        hello, frame, state = ws.opening()
        assert hello["role"] == "viewer" and frame["step"] == 2
        assert _state_hashes(state) == _state_hashes(owner_at_2)
        # A viewer walks the existing history ...
        ws.send(type="step", unit="scan", count=2)
        assert ws.recv()["step"] == 4
        # ... but cannot extend it, write debugfs, or claim ownership with a guess.
        ws.send(type="step", unit="scan")
        assert ws.recv()["code"] == "read_only"
        ws.send(type="debugfs", text="+ 0 0 4\n")
        assert ws.recv()["code"] == "read_only"
        ws.send(type="auth", token="not-the-token")
        assert ws.recv()["code"] == "bad_token"
        ws.send(type="back")
        assert ws.recv()["step"] == 3
    assert client.get(f"/api/sessions/{s['id']}").json()["nr_steps"] == 4


def test_auth_message_makes_the_owner(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"])) as ws:
        hello, _, _ = ws.opening()
        assert hello["role"] == "viewer"
        ws.send(type="auth", token=s["owner_token"])
        assert ws.recv()["type"] == "auth_ok"
        ws.send(type="step", unit="access")
        assert ws.recv()["nr_steps"] == 1


def test_owner_stepping_after_back_branches_and_keeps_the_later_history(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="scan", count=4)
        ws.recv()
        ws.send(type="back", count=2)
        ws.recv(), ws.recv()
        ws.send(type="step", unit="access")
        e = ws.recv()
        assert e["type"] == "error" and e["code"] == "branch_needed"
        ws.send(type="step", unit="access", branch=True)
        f = ws.recv()
        assert (f["step"], f["nr_steps"], f["truncated"]) == (3, 3, True)
    h = client.get(f"/api/sessions/{s['id']}/history").json()
    assert h["nr_steps"] == 3 and h["log"] == [["scan", 2, None], ["access", 1, None]]
    kept = client.get(f"/api/sessions/{f['kept']['id']}/history").json()
    assert kept == {"nr_steps": 4, "log": [["scan", 4, None]]}
    info = client.get(f"/api/sessions/{f['kept']['id']}").json()
    assert info["immutable"] and info["parent"] == {"id": s["id"], "step": 4}


def test_permalink_endpoint_pins_a_prefix_and_unknown_links_are_html(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="scan", count=3)
        ws.recv()
    r = client.post(f"/api/sessions/{s['id']}/permalink", json={"step": 2})
    assert r.status_code == 201
    p = r.json()
    assert p["step"] == 2 and p["share_url"].endswith(f"/s/{p['id']}?step=2")
    assert client.get(f"/api/sessions/{p['id']}/history").json()["nr_steps"] == 2
    assert client.post(f"/api/sessions/{s['id']}/permalink", json={"step": 2}).json()["id"] == p["id"]
    assert client.post("/api/sessions/nope/permalink", json={}).status_code == 404
    g = client.get("/s/no-such-session?step=3")
    assert g.status_code == 404 and g.headers["content-type"].startswith("text/html")
    assert "No session <code>no-such-session</code>" in g.text


def test_fork_gives_an_editable_copy_at_a_step(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="scan", count=4)
        ws.recv()
        ws.send(type="seek", step=3)
        ws.recv()
        at3 = ws.recv()
    r = client.post(f"/api/sessions/{s['id']}/fork", json={"step": 3})
    assert r.status_code == 201
    fk = r.json()
    assert fk["id"] != s["id"]
    meta = client.get(f"/api/sessions/{fk['id']}").json()
    assert meta["parent"] == {"id": s["id"], "step": 3} and meta["nr_steps"] == 3
    with WS(ws_url(server, fk["id"], fk["owner_token"])) as ws:
        hello, frame, state = ws.opening()
        assert _state_hashes(state) == _state_hashes(at3)
        ws.send(type="step", unit="scan")
        assert ws.recv()["nr_steps"] == 4
    assert client.get(f"/api/sessions/{s['id']}").json()["nr_steps"] == 4
    # the original's owner token does not own the fork
    with WS(ws_url(server, fk["id"], s["owner_token"])) as ws:
        assert ws.opening()[0]["role"] == "viewer"


def test_play_is_server_paced_one_frame_per_step_and_pause_stops_it(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="play", unit="access", rate=200)
        started = ws.recv()
        assert started == {"type": "play_state", "playing": True, "unit": "access", "rate": 200.0,
                           "reason": "started"}
        steps = [ws.recv()["step"] for _ in range(5)]
        assert steps == list(range(1, 6))
        ws.send(type="pause")
        stopped, frames = ws.recv_type("play_state")
        assert stopped["playing"] is False and stopped["reason"] == "paused"
        last = frames[-1]["step"] if frames else 5
        ws.send(type="ping", id=1)
        assert ws.recv() == {"type": "pong", "id": 1}   # nothing more was played
        assert client.get(f"/api/sessions/{s['id']}").json()["nr_steps"] == last


def test_play_stops_at_the_end_of_the_workload(client, server):
    s = create(client, recipe(accesses=30))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="play", unit="access", rate=1000)
        stop, frames = ws.recv_type("play_state", timeout=30)
        stop, frames = ws.recv_type("play_state", timeout=30)
        assert stop["reason"] == "end"
        assert frames[-1]["done"] is True and frames[-1]["step"] == 30


def test_debugfs_plus_creates_a_generation_and_errors_carry_errno(client, server):
    s = create(client, recipe(policies=("lru_gen",)))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        _, frame, _ = ws.opening()
        max_seq = frame["panes"][0]["gens"]["max_seq"]
        ws.send(type="debugfs", text=f"+ 0 0 {max_seq}\n")
        f = ws.recv()
        assert f["type"] == "step" and f["cause"] == "debugfs"
        assert f["panes"][0]["gens"]["max_seq"] == max_seq + 1 and f["nr_steps"] == 1
        ws.send(type="debugfs", text="bogus\n")
        e = ws.recv()
        assert e["type"] == "error" and e["code"] == "debugfs" and e["errno"] == "EINVAL"
        ws.send(type="lru_gen", full=False)
        t = ws.recv()
        assert t["type"] == "lru_gen" and "memcg" in t["text"]
        assert client.get(f"/api/sessions/{s['id']}").json()["nr_steps"] == 1


def test_inspect_folio_gives_flags_and_history_across_steps(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        hello, _, _ = ws.opening()
        ws.send(type="step", unit="access")
        f = ws.recv()
        ev = f["panes"][0]["events"]
        pfn = next(p for p in ev["pfn"] if p >= 0)
        ws.send(type="step", unit="scan", count=3)
        ws.recv()
        ws.send(type="seek", step=1)
        ws.recv(), ws.recv()
        ws.send(type="inspect", pfn=pfn)
        info = ws.recv()
        assert info["type"] == "folio" and info["pfn"] == pfn and info["step"] == 1
        assert info["folio"] is not None and info["identity"] is not None
        assert info["history"]["n"] >= 1 and max(info["history"]["step"]) <= 1
        assert info["page_state"] is not None


def test_bad_messages_get_error_frames_and_the_connection_keeps_working(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.conn.send("this is not json")
        assert ws.recv()["code"] == "bad_json"
        ws.send(type="warp", speed=9)
        e = ws.recv()
        assert e["code"] == "bad_message" and "warp" in e["message"]
        ws.send(type="step", unit="teleport")
        e = ws.recv()
        assert e["code"] == "bad_message" and "unit" in e["message"]
        ws.send(type="step", unit="access", count=-1)
        assert "count" in ws.recv()["message"]
        ws.send(type="step", unit="scan", count=10**9)
        assert ws.recv()["code"] == "limit"
        ws.conn.send(json.dumps({"type": "ping", "id": "x" * 70000}))
        assert ws.recv()["code"] == "too_large"
        ws.send(type="step", unit="access")
        f = ws.recv()
        assert f["type"] == "step" and f["step"] == 1


def test_bad_step_in_the_url_gets_an_error_and_the_head(server, client):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], step="abc")) as ws:
        hello = ws.recv()
        err = ws.recv()
        assert hello["cursor"] == 0 and err["code"] == "bad_message" and "abc" in err["message"]
        assert ws.recv()["type"] == "frame" and ws.recv()["type"] == "state"


def test_unknown_session_closes_the_socket_with_1008(server, client):
    ws = WS(ws_url(server, "no-such-session"))
    with pytest.raises(ConnectionClosed) as ei:
        ws.recv()
    assert ei.value.rcvd.code == 1008
    assert client.get("/api/sessions/no-such-session").status_code == 404
    assert client.post("/api/sessions/no-such-session/fork", json={}).status_code == 404
    assert client.get("/s/no-such-session").status_code == 404


def test_invalid_recipes_get_422_with_field_errors(client):
    cases = [
        ({"workload": {"scenario": "anon-loop"}, "machine": {"ram_pages": 10}}, "ram_pages"),
        ({"workload": {"scenario": "anon-loop"}, "machine": {"ram_pages": 1 << 24}}, "ram_pages"),
        ({"workload": {"scenario": "anon-loop"}, "machine": {"swappiness": 201}}, "swappiness"),
        ({"workload": {"scenario": "anon-loop"}, "machine": {"swap_kind": "floppy"}}, "swap_kind"),
        ({"workload": {"scenario": "anon-loop"},
          "machine": {"watermarks": {"min": 5, "low": 4, "high": 9}}}, "watermarks"),
        ({"workload": {"scenario": "anon-loop"}, "policies": []}, "policies"),
        ({"workload": {"scenario": "anon-loop"}, "policies": [{"policy": "no_such_policy"}]}, "policy"),
        ({"workload": {"scenario": "anon-loop"},
          "policies": [{"policy": "lru_gen", "lru_gen": {"min_ttl_ms": -1}}]}, "min_ttl_ms"),
        ({"workload": {"scenario": "anon-loop"},
          "policies": [{"policy": "s3fifo", "s3fifo": {"small_percent": 99}}]}, "small_percent"),
        ({"workload": {"scenario": "anon-loop"},
          "policies": [{"policy": "lru", "lru_gen": {"tiers": False}}]}, "policies"),
        ({"workload": {"scenario": "anon-loop"},
          "policies": [{"policy": "clock_py", "kernel": "5.10"}]}, "kernel"),
        ({"workload": {"scenario": "no-such-scenario"}}, "scenario"),
        ({"workload": {"scenario": "anon-loop", "accesses": 10**12}}, "accesses"),
        ({"workload": {}}, "workload"),
        ({"workload": {"trace_id": "nope"}}, "trace_id"),
        ({"workload": {"scenario": "anon-loop"}, "bogus": 1}, "bogus"),
        ({"workload": {"scenario": "anon-loop"}, "seed": True}, "seed"),
    ]
    for body, field in cases:
        r = client.post("/api/sessions", json=body)
        assert r.status_code == 422, (body, r.text)
        detail = r.json()["detail"]
        assert isinstance(detail, list) and detail, r.text
        assert any(field in json.dumps(d) for d in detail), (field, detail)
    assert client.post("/api/sessions", json={"workload": {"scenario": "anon-loop"},
                                              "machine": {"ram_pages": 256}}).status_code == 201


def test_trace_upload_creates_a_session_and_the_trace_downloads_as_v1(client, server):
    text = "# tiny\n" + "".join(f"A app {i % 300}\n" for i in range(900)) + "R log 5\nU app\n"
    r = client.post("/api/traces", files={"file": ("tiny.trace", text.encode())})
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["nr_accesses"] == 902
    s = create(client, {"machine": {"ram_pages": 256}, "workload": {"trace_id": up["trace_id"]}})
    body = client.get(f"/api/sessions/{s['id']}/trace").text
    lines = [ln for ln in body.splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 902 and lines[0] == "A app 0" and lines[-1] == "U app"
    r = client.post("/api/sessions/upload", data={"recipe": json.dumps({"machine": {"ram_pages": 256}})},
                    files={"file": ("t.trace", text.encode())})
    assert r.status_code == 201, r.text
    rec = client.get(f"/api/sessions/{r.json()['id']}/recipe").json()
    assert rec["workload"]["trace_id"] == up["trace_id"] and rec["machine"]["ram_pages"] == 256


def test_bad_and_oversized_uploads_are_rejected_and_the_server_keeps_going(client, server):
    r = client.post("/api/traces", files={"file": ("bad.trace", b"A app\nQ 1 2\n")})
    # a list of field errors, like every 422 (the schema says so)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]
    assert r.json()["detail"][0]["msg"].startswith("bad.trace:1: missing field: vpn")
    big = b"A 0 1\n" * 40_000   # 240 kB > this server's 200 kB limit
    r = client.post("/api/traces", files={"file": ("big.trace", big)})
    assert r.status_code == 413
    assert client.get("/api/scenarios").status_code == 200
    create(client, recipe())


def test_twenty_sessions_stepping_concurrently_all_make_progress(client, server):
    sessions = [create(client, recipe(seed=i)) for i in range(20)]
    results, errors = {}, []

    def run(s):
        try:
            with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
                ws.opening()
                for _ in range(5):
                    ws.send(type="step", unit="scan")
                    f = ws.recv()
                results[s["id"]] = f["step"]
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert sorted(results.values()) == [5] * 20


def test_frontend_is_served_with_javascript_mime(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    r = client.get("/ui/js/main.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    r = client.get("/s/does-not-exist")
    assert r.status_code == 404
    r = client.get("/openapi.json")
    assert r.status_code == 200 and "/api/sessions" in r.json()["paths"]


def test_viewer_play_walks_the_history_and_stops_at_the_head(client, server):
    s = create(client, recipe())
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="scan", count=4)
        ws.recv()
    with WS(ws_url(server, s["id"], step=1)) as ws:
        ws.opening()
        ws.send(type="play", unit="scan", rate=500)
        assert ws.recv()["reason"] == "started"
        stop, frames = ws.recv_type("play_state")
        assert stop["reason"] == "head"
        # one step message per tick; a late tick jumps to the newest step (coalescing,
        # protocol.md §3.5), so at 500/s on a busy machine 3 may be skipped
        steps = [f["step"] for f in frames]
        assert all(f["type"] == "step" and f["cause"] == "play" for f in frames)
        assert steps[0] == 2 and steps[-1] == 4 and steps == sorted(set(steps))
    assert client.get(f"/api/sessions/{s['id']}").json()["nr_steps"] == 4


def test_a_heavy_session_does_not_stall_another(client, server):
    """Engine work runs in worker threads: while one session runs a long
    run-ahead, another connection is answered (pong and a step frame come
    back before the heavy step's frame)."""
    heavy = create(client, recipe(ram_pages=65536, accesses=3_000_000))
    light = create(client, recipe())
    order = []
    with WS(ws_url(server, heavy["id"], heavy["owner_token"])) as a, \
            WS(ws_url(server, light["id"], light["owner_token"])) as b:
        a.opening()
        b.opening()

        def wait_heavy():
            order.append(("heavy", a.recv(timeout=120)["panes"][0]["steps_applied"]))

        a.send(type="step", unit="access", count=3_000_000)
        t = threading.Thread(target=wait_heavy)
        t.start()
        b.send(type="ping", id="light")
        assert b.recv()["id"] == "light"
        b.send(type="step", unit="scan")
        assert b.recv()["step"] == 1
        order.append(("light", 1))
        t.join(120)
    assert order[0] == ("light", 1) and order[1] == ("heavy", 3_000_000)


def test_big_machine_state_frame_has_the_location_layout_and_hash_on_request(client, server):
    ram = 20000   # above the 16,384-frame limit of the order layout
    s = create(client, recipe(policies=("lru", "lru_gen"), ram_pages=ram, accesses=30000))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        _, _, state = ws.opening()
        for p in state["panes"]:
            assert p["layout"] == "location" and p["nr_frames"] == ram
            assert p["state_hash"] is None
            assert len(state["_arrays"][f"p{p['pane']}.loc"]) == ram
        ws.send(type="step", unit="access", count=25000)
        ws.recv()
        ws.send(type="state", hash=True)
        st = ws.recv()
        for p in st["panes"]:
            assert len(p["state_hash"]) == 64
            loc = st["_arrays"][f"p{p['pane']}.loc"]
            on_lru = int((loc != 255).sum())
            assert on_lru == sum(v for k, v in p["sizes"].items() if k != "nr_free")


def test_run_until_sends_progress_refuses_other_commands_and_cancels_at_a_step(client, server):
    s = create(client, recipe(accesses=2_000_000, ram_pages=16384))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="run_until", until={"kind": "end"})
        p, _ = ws.recv_type("progress")
        assert p["ref"] == "run_until" and p["total"] == 2_000_000 and 0 < p["nr_access"] < p["total"]
        ws.send(type="step", unit="scan")          # a key pressed meanwhile: refused, not queued
        e, _ = ws.recv_type("error")
        assert e["code"] == "busy" and e["ref"] == "step"
        ws.send(type="cancel")
        f, _ = ws.recv_type("step")
        r, _ = ws.recv_type("run_result")
        assert r["reason"] == "cancelled" and f["cause"] == "run" and f["step"] == r["step"]
        assert 0 < r["step"] < 2_000_000 and r["steps"] == r["step"]
        n = r["step"]
        ws.send(type="ping", id=1)
        assert ws.recv_type("pong")[0]["id"] == 1
    h = client.get(f"/api/sessions/{s['id']}/history").json()
    assert h["nr_steps"] == n and sum(e[1] for e in h["log"]) == n
    info = client.get(f"/api/sessions/{s['id']}").json()
    assert info["summary"][0]["nr_access"] == n and not info["summary"][0]["done"]


def test_run_until_an_event_answers_a_frame_of_that_step(client, server):
    s = create(client, recipe(scenario="stream-hot-file"))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        hello, _, _ = ws.opening()
        ws.send(type="run_until", unit="access", until={"kind": "event", "events": ["workingset_refault"]})
        f, _ = ws.recv_type("step")
        r, _ = ws.recv_type("run_result")
        assert r["reason"] == "found" and r["event"]["kind"] == "workingset_refault"
        kinds = [hello["names"]["event_kinds"][k] for k in f["panes"][0]["events"]["kind"]]
        assert "workingset_refault" in kinds and f["step"] == r["event"]["step"] == r["step"]

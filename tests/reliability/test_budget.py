"""Memory admission: a session is admitted against the budget before it is
built. Over budget is a 503 with a JSON message, never a 500 or an OOM;
idle sessions make room, connected ones are parked, and the server stays
alive through 1,000 creations against a small budget."""
from __future__ import annotations

import concurrent.futures
import contextlib
import json
import threading
import time

import httpx
from websockets.sync.client import connect

from backend.budget import session_bytes
from backend.protocol import unpack_state
from backend.recipes import Recipe
from tests.reliability.conftest import MiB, Server

SMALL = {"machine": {"ram_pages": 256}, "workload": {"scenario": "anon-loop", "accesses": 4000}}
# The measured attack: 64 frames and 64 Mi swap slots, two policies (1.03 GiB per POST).
HUGE_SWAP = {"machine": {"ram_pages": 64, "swap_pages": 67_108_864},
             "workload": {"scenario": "anon-loop", "accesses": 1000},
             "policies": [{"policy": "lru"}, {"policy": "lru_gen"}]}


def _need(body) -> int:
    r = Recipe.model_validate(body)
    return session_bytes(r.engine_configs(), body["workload"]["accesses"])


@contextlib.contextmanager
def _owner(server, s):
    with connect(f"{server.ws_url}/ws/sessions/{s['id']}", max_size=2**26,
                 compression=None) as ws:
        for _ in range(3):
            ws.recv(timeout=60)
        ws.send(json.dumps({"type": "auth", "token": s["owner_token"]}))
        assert json.loads(ws.recv(timeout=30))["type"] == "auth_ok"
        yield ws


def _hash(ws) -> list:
    ws.send(json.dumps({"type": "state", "hash": True}))
    while True:
        m = ws.recv(timeout=60)
        if isinstance(m, bytes):
            return [p["state_hash"] for p in unpack_state(m)[0]["panes"]]


def test_the_estimate_covers_what_a_session_really_costs(tmp_path):
    """RSS growth of a real server per live (connected, stepped) session is
    below the admission estimate, so admitting by the estimate bounds RSS."""
    body = {"machine": {"ram_pages": 65536}, "workload": {"scenario": "anon-loop",
                                                          "accesses": 200_000}}
    srv = Server(tmp_path / "d").start()
    try:
        rss0 = srv.rss()
        with contextlib.ExitStack() as stack:
            for i in range(3):
                s = httpx.post(f"{srv.url}/api/sessions", json={**body, "seed": i},
                               timeout=120).json()
                ws = stack.enter_context(_owner(srv, s))
                ws.send(json.dumps({"type": "step", "unit": "access", "count": 200_000}))
                ws.recv(timeout=120)
            grown = srv.rss() - rss0
        assert grown < 3 * _need(body), (grown, _need(body))
    finally:
        srv.stop()


def test_the_measured_swap_attack_is_a_503_with_a_message_and_the_server_lives(tmp_path):
    srv = Server(tmp_path / "d", memory_budget_bytes=256 * MiB).start()
    try:
        rss0 = srv.rss()
        for _ in range(5):
            r = httpx.post(f"{srv.url}/api/sessions", json=HUGE_SWAP, timeout=60)
            assert r.status_code == 503, r.text
            assert "needs an estimated" in r.json()["detail"] and "budget" in r.json()["detail"]
            assert r.headers["retry-after"]
        assert srv.rss() - rss0 < 64 * MiB        # refused before anything was built
        assert httpx.post(f"{srv.url}/api/sessions", json=SMALL).status_code == 201
    finally:
        srv.stop()


def test_a_thousand_creations_against_a_small_budget(tmp_path):
    need = _need(SMALL)
    budget = 12 * need
    srv = Server(tmp_path / "d", memory_budget_bytes=budget, max_live_sessions=10_000).start()
    try:
        # Hold 9 sessions connected (and active: not parkable), leaving room
        # for about 3 more at a time.
        pinned = [httpx.post(f"{srv.url}/api/sessions", json={**SMALL, "seed": i}).json()
                  for i in range(9)]
        with contextlib.ExitStack() as stack:
            for s in pinned:
                stack.enter_context(_owner(srv, s))
            rss0 = srv.rss()

            local = threading.local()

            def create(i):
                if not hasattr(local, "c"):   # one keep-alive client per thread
                    local.c = httpx.Client(base_url=srv.url, timeout=120)
                r = local.c.post("/api/sessions", json={**SMALL, "seed": 100 + i})
                return r.status_code, r.json()

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                results = list(pool.map(create, range(1000)))
            codes = [c for c, _ in results]
            assert set(codes) <= {201, 503}, set(codes)
            assert codes.count(201) >= 100          # unconnected sessions make room for others
            assert all("needs an estimated" in b["detail"] for c, b in results if c == 503)
            # live sessions never held more than the budget (plus the interpreter's slack)
            assert srv.rss() - rss0 < budget + 64 * MiB
        assert srv.alive()
        print(f"1000 creations: {codes.count(201)} created, {codes.count(503)} refused (503)")
    finally:
        srv.stop()


def test_a_connected_idle_session_is_parked_and_comes_back_identical(tmp_path):
    need = _need(SMALL)
    srv = Server(tmp_path / "d", memory_budget_bytes=2 * need + MiB, park_idle_seconds=0.5).start()
    try:
        a, b, c = (httpx.post(f"{srv.url}/api/sessions", json={**SMALL, "seed": i}).json()
                   for i in range(3))
        with _owner(srv, a) as wa:
            for _ in range(5):
                wa.send(json.dumps({"type": "step", "unit": "scan"}))
                wa.recv(timeout=60)
            before = _hash(wa)
            with _owner(srv, b):          # a and b fill the budget; both connected
                time.sleep(1.0)           # a and b idle past park_idle_seconds
                with _owner(srv, c) as wc:   # c's rebuild parks one of them
                    assert _hash(wc)
                    assert _hash(wa) == before    # a comes back (parking another)
                    wa.send(json.dumps({"type": "step", "unit": "scan"}))
                    assert unpack_state(wa.recv(timeout=60))[0]["type"] == "step"
        assert srv.log().count("parked") >= 2, srv.log()[-2000:]
    finally:
        srv.stop()

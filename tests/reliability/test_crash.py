"""Crashes and attacks on what a session is: `kill -9` of the server during
a run-ahead, with state hashes compared after the restart; the trace
replacement attack; random bytes posing as oracleGeneral; the rendered
trace download computed once."""
from __future__ import annotations

import json
import os
import time

import httpx
import numpy as np
from websockets.sync.client import connect

from backend.protocol import unpack_state
from backend.recipes import Recipe
from backend.sessions import SessionManager
from backend.settings import Settings
from backend.store import SqliteStore
from tests.reliability.conftest import Server


class Owner:
    def __init__(self, server, s, step=None):
        q = "" if step is None else f"?step={step}"
        self._cm = connect(f"{server.ws_url}/ws/sessions/{s['id']}{q}", max_size=2**26,
                           compression=None)
        self.ws = self._cm.__enter__()
        self.hello = json.loads(self.ws.recv(timeout=60))
        self.ws.recv(timeout=60)
        self.ws.recv(timeout=60)
        if s.get("owner_token"):
            self.send(type="auth", token=s["owner_token"])
            assert self.json()["type"] == "auth_ok"

    def send(self, **m):
        self.ws.send(json.dumps(m))

    def json(self):
        """The next JSON message or binary step message (its header)."""
        while True:
            m = self.ws.recv(timeout=120)
            if not isinstance(m, bytes):
                return json.loads(m)
            if m[4:18] == b'{"type":"step"':
                return unpack_state(m)[0]

    def hashes(self, step=None) -> list:
        if step is not None:
            self.send(type="seek", step=step)
            assert self.json()["step"] == step
        self.send(type="state", hash=True)
        while True:
            m = self.ws.recv(timeout=120)
            if isinstance(m, bytes):
                h = unpack_state(m)[0]
                # the hashed answer, not the seek's own state frame (no hash unless asked)
                if h["type"] == "state" and h["panes"][0]["state_hash"] is not None and \
                        (step is None or h["step"] == step):
                    return [p["state_hash"] for p in h["panes"]]

    def close(self):
        self._cm.__exit__(None, None, None)


def _replayed_hashes(recipe: dict, log: list, nr_steps: int, tmp) -> list:
    """The state at the head of `log`, computed independently in-process."""
    m = SessionManager(SqliteStore(tmp / "replay.sqlite3"), Settings(data_dir=tmp))
    s, _ = m.create(Recipe.model_validate(recipe), log=log, nr_steps=nr_steps)
    header, _ = unpack_state(s.state_at(nr_steps, True))
    return [p["state_hash"] for p in header["panes"]]


def test_kill_9_during_a_run_ahead_keeps_every_committed_step(tmp_path):
    data = tmp_path / "d"
    recipe = {"machine": {"ram_pages": 4096}, "workload": {"scenario": "anon-loop",
                                                           "accesses": 3_000_000},
              "policies": [{"policy": "lru"}, {"policy": "lru_gen"}]}
    srv = Server(data).start()
    s = httpx.post(f"{srv.url}/api/sessions", json=recipe, timeout=60).json()
    o = Owner(srv, s)
    for _ in range(5):
        o.send(type="step", unit="scan")
        o.json()
    h5 = o.hashes()
    o.send(type="step", unit="access", count=2_900_000)   # seconds of engine work
    time.sleep(0.5)
    srv.kill()                                            # mid run-ahead, no shutdown
    o.close()
    srv = Server(data).start()
    try:
        hist = httpx.get(f"{srv.url}/api/sessions/{s['id']}/history").json()
        assert hist["nr_steps"] in (5, 5 + 2_900_000), hist
        o = Owner(srv, {"id": s["id"]})
        assert o.hashes(5) == h5
        head = o.hashes(hist["nr_steps"])
        assert head == _replayed_hashes(recipe, hist["log"], hist["nr_steps"], tmp_path)
        o.close()
    finally:
        srv.stop()


def _v1_trace(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lines = "".join(f"A 0 {int(p)}\n" for p in rng.integers(0, 600, n))
    return lines.encode()


def test_re_uploading_a_victims_bytes_cannot_change_the_victims_session(tmp_path):
    data = tmp_path / "d"
    victim_bytes = _v1_trace(3000, 1)
    victim_bytes += b"#" * (-len(victim_bytes) % 24)        # a multiple of 24, as in the attack
    srv = Server(data).start()
    up = httpx.post(f"{srv.url}/api/traces", files={"file": ("victim.trace", victim_bytes)}).json()
    s = httpx.post(f"{srv.url}/api/sessions", json={"machine": {"ram_pages": 256},
                                                    "workload": {"trace_id": up["trace_id"]}}).json()
    o = Owner(srv, s)
    for _ in range(5):
        o.send(type="step", unit="scan")
        o.json()
    before = o.hashes()
    o.close()
    # the attack: the same bytes under names that choose another format
    r = httpx.post(f"{srv.url}/api/traces", files={"file": ("evil.oracleGeneral", victim_bytes)})
    assert r.status_code == 422 and "not an oracleGeneral trace" in r.json()["detail"][0]["msg"]
    r = httpx.post(f"{srv.url}/api/traces", files={"file": ("evil.txt", victim_bytes)})
    assert r.status_code == 201 and r.json()["trace_id"] == up["trace_id"]
    assert r.json()["filename"] == "victim.trace"            # the stored row, unchanged
    srv.kill()
    srv = Server(data).start()
    try:
        o = Owner(srv, {"id": s["id"]})
        assert o.hashes(5) == before
        o.close()
        recipe = httpx.get(f"{srv.url}/api/sessions/{s['id']}").json()["recipe"]
        assert recipe["trace_pin"]["format"] == "v1"
    finally:
        srv.stop()


def test_random_bytes_are_no_oracle_general_trace(server):
    rng = np.random.default_rng(3)
    for n in (24, 24 * 10, 24 * 1000):
        raw = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        r = httpx.post(f"{server.url}/api/traces", files={"file": ("r.oracleGeneral", raw)})
        if n == 24:   # one record: nothing to contradict, so it is accepted
            assert r.status_code in (201, 422)
            continue
        assert r.status_code == 422, r.text
        assert "not an oracleGeneral trace" in r.json()["detail"][0]["msg"]


def test_the_trace_download_is_rendered_once(server):
    s = httpx.post(f"{server.url}/api/sessions", json={
        "machine": {"ram_pages": 256}, "workload": {"scenario": "anon-loop", "accesses": 50_000}}).json()
    first = httpx.get(f"{server.url}/api/sessions/{s['id']}/trace", timeout=60)
    assert first.status_code == 200 and first.text.startswith("# reclaimlab trace v1")
    cached = list((server.data / "cache").glob("*.trace"))
    assert len(cached) == 1
    inode = os.stat(cached[0]).st_ino
    again = httpx.get(f"{server.url}/api/sessions/{s['id']}/trace", timeout=60)
    assert again.content == first.content
    assert os.stat(cached[0]).st_ino == inode          # served from the cache, not re-rendered
    assert httpx.get(f"{server.url}/api/sessions/nope/trace").status_code == 404

"""Server test fixtures: a real uvicorn on 127.0.0.1 in a thread, small
recipes, and helpers for the WebSocket protocol."""
from __future__ import annotations

import json

import httpx
import pytest
from websockets.sync.client import connect

from backend.app import create_app
from backend.live import LiveServer
from backend.protocol import unpack_state, unpack_step
from backend.settings import Settings
from engine.names import VMSTAT_NAMES

SMALL = 256          # frames: big enough for reclaim, small enough to be quick


def recipe(policies=("lru",), scenario="anon-loop", ram_pages=SMALL, accesses=4000, seed=7, **machine):
    pol = [p if isinstance(p, dict) else {"policy": p} for p in policies]
    return {"machine": {"ram_pages": ram_pages, **machine},
            "workload": {"scenario": scenario, "accesses": accesses},
            "policies": pol, "seed": seed}


def live_server(settings: Settings) -> LiveServer:
    return LiveServer(create_app(settings))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    s = Settings.from_env(data_dir=data, max_trace_bytes=200_000, max_live_sessions=64,
                          checkpoint_every=16)
    live = live_server(s).start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def create(client, body) -> dict:
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


class WS:
    """A protocol client: JSON in, frames out (binary state frames decoded)."""

    def __init__(self, url: str):
        self._cm = connect(url, max_size=2**26, compression=None, open_timeout=10)
        self.conn = self._cm.__enter__()

    def send(self, **msg):
        self.conn.send(json.dumps(msg))

    def recv(self, timeout=30):
        m = self.conn.recv(timeout=timeout)
        self.last_raw = m
        if isinstance(m, bytes) and m[4:18] == b'{"type":"step"':
            return unpack_step(m, VMSTAT_NAMES)
        if isinstance(m, bytes):
            header, arrays = unpack_state(m)
            header["_arrays"] = arrays
            return header
        return json.loads(m)

    def recv_type(self, *types, timeout=30):
        """The next message of one of `types` (others in between are returned too)."""
        skipped = []
        while True:
            m = self.recv(timeout)
            if m["type"] in types:
                return m, skipped
            skipped.append(m)

    def opening(self):
        hello = self.recv()
        frame = self.recv()
        state = self.recv()
        assert (hello["type"], frame["type"], state["type"]) == ("hello", "frame", "state")
        return hello, frame, state

    def close(self):
        self._cm.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def ws_url(server, sid, token=None, step=None) -> str:
    q = []
    if token:
        q.append(f"token={token}")
    if step is not None:
        q.append(f"step={step}")
    return f"{server.ws_url}/ws/sessions/{sid}" + ("?" + "&".join(q) if q else "")

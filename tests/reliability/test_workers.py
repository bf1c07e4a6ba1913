"""`reclaimlab serve --workers 2` (backend/workers.py): a real parent and
two real worker processes on 127.0.0.1. Every request naming a session
reaches the worker that holds it live (the worker's index is in the hello
frame's limits and in the `x-reclaimlab-worker` header of plain HTTP);
hostile request heads are closed by the router without harming anyone
else; a worker killed with SIGKILL is restarted and loses no step a client
saw."""
from __future__ import annotations

import json
import os
import signal
import socket
import time

import httpx
import pytest
from websockets.sync.client import connect

from backend.workers import key_of_head, key_of_path, route_of
from tests.reliability.conftest import Server
from tests.reliability.test_crash import Owner

RECIPE = {"machine": {"ram_pages": 4096}, "workload": {"scenario": "anon-loop",
                                                       "accesses": 200_000}}


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("data"), extra_args=("--workers", "2"),
               router_head_timeout=1.0, log_level="info").start()
    yield s
    s.stop()


def _create(srv, n: int) -> list[dict]:
    return [httpx.post(f"{srv.url}/api/sessions", json={**RECIPE, "seed": i}, timeout=60).json()
            for i in range(n)]


def _worker_of_response(r: httpx.Response) -> int:
    assert r.headers["connection"] == "close"   # one request per routed connection
    return int(r.headers["x-reclaimlab-worker"])


def test_route_of_is_a_stable_hash_and_paths_name_their_session():
    assert route_of("QrDFLNm8hSZ4", 1) == 0
    # crc32, not Python's salted hash(): the same in every process and restart
    assert [route_of(k, 2) for k in ("a", "b", "c", "d")] == [1, 1, 1, 0]
    assert key_of_path("/ws/sessions/abc") == "abc"
    assert key_of_path("/api/sessions/abc/fork") == "abc"
    assert key_of_path("/s/abc") == "abc"
    assert key_of_path("/api/sweeps/sw1/cells/k/session") == "sw1"
    assert key_of_path("/sweeps/sw1/cells/k/open") == "sw1"
    assert key_of_path("/api/sessions") is None
    assert key_of_path("/api/sessions/upload") is None
    assert key_of_path("/api/limits") is None
    assert key_of_path("/ui/js/main.js") is None
    # decoded as Starlette decodes it: %-escapes cannot steer a session elsewhere
    assert key_of_path("/ws/sessions/%61bc") == "abc"
    assert key_of_head(b"GET /s/abc?step=3 HTTP/1.1\r\nHost: x\r\n\r\n") == "abc"
    assert key_of_head(b"GET http://x:1/api/sessions/abc HTTP/1.1\r\n\r\n") == "abc"
    assert key_of_head(b"\x00\x01garbage\r\n\r\n") is None


def test_sessions_are_spread_over_both_workers_and_every_request_reaches_the_owner(two):
    sessions = _create(two, 6)
    owners = {s["id"]: route_of(s["id"], 2) for s in sessions}
    assert set(owners.values()) == {0, 1}           # creates go round robin
    pids = {}
    for s in sessions:
        o = Owner(two, s)
        w = o.hello["limits"]["worker"]
        assert (w["index"], w["workers"]) == (owners[s["id"]], 2)
        pids.setdefault(w["index"], w["pid"])
        assert pids[w["index"]] == w["pid"]
        for _ in range(3):
            o.send(type="step", unit="scan")
            assert o.json()["type"] == "step"
        # a viewer lands in the owner's process and sees its latest step at once
        with connect(f"{two.ws_url}/ws/sessions/{s['id']}", compression=None) as v:
            hello = json.loads(v.recv(timeout=60))
            assert hello["limits"]["worker"]["pid"] == w["pid"]
            assert hello["nr_steps"] == 3
        o.close()
        for path in ("", "/recipe", "/history"):
            r = httpx.get(f"{two.url}/api/sessions/{s['id']}{path}", timeout=60)
            assert r.status_code == 200 and _worker_of_response(r) == owners[s["id"]]
        assert httpx.get(f"{two.url}/api/sessions/{s['id']}/history",
                         timeout=60).json()["nr_steps"] > 0
        r = httpx.get(f"{two.url}/s/{s['id']}", timeout=60)
        assert _worker_of_response(r) == owners[s["id"]]
    assert pids[0] != pids[1]


def test_a_viewer_sees_the_owners_latest_step_at_once(two):
    s, = _create(two, 1)
    o = Owner(two, s)
    for _ in range(5):
        o.send(type="step", unit="scan")
        head = o.json()
    with connect(f"{two.ws_url}/ws/sessions/{s['id']}", compression=None) as v:
        hello = json.loads(v.recv(timeout=60))
        assert hello["limits"]["worker"]["pid"] == o.hello["limits"]["worker"]["pid"]
        assert hello["nr_steps"] == head["step"] == 5
    o.close()


def test_a_fork_a_branch_and_a_permalink_land_where_they_are_routed(two):
    s, = _create(two, 1)
    me = route_of(s["id"], 2)
    o = Owner(two, s)
    for _ in range(4):
        o.send(type="step", unit="scan")
        o.json()
    # a branch: the session keeps its id (and worker); the history it
    # replaced is pinned under a content address, served where that routes
    o.send(type="seek", step=2)
    assert o.json()["step"] == 2
    o.send(type="step", unit="shrink", branch=True)
    reply = o.json()
    assert reply["truncated"] and reply["kept"]["nr_steps"] == 4
    kept = reply["kept"]["id"]
    g = httpx.get(f"{two.url}/api/sessions/{kept}", timeout=60)
    assert _worker_of_response(g) == route_of(kept, 2)
    assert g.json()["nr_steps"] == 4 and g.json()["immutable"]
    h = httpx.get(f"{two.url}/api/sessions/{s['id']}/history", timeout=60)
    assert _worker_of_response(h) == me and h.json()["nr_steps"] == 3
    o.close()
    for _ in range(4):   # several forks: each is drawn on its creator's worker
        r = httpx.post(f"{two.url}/api/sessions/{s['id']}/fork", json={"step": 2}, timeout=60)
        assert r.status_code == 201 and _worker_of_response(r) == me
        fork = r.json()
        assert route_of(fork["id"], 2) == me
        f = Owner(two, fork)
        assert f.hello["limits"]["worker"]["index"] == me and f.hello["nr_steps"] == 2
        f.close()
    r = httpx.post(f"{two.url}/api/sessions/{s['id']}/permalink", json={"step": 3}, timeout=60)
    assert r.status_code == 201 and _worker_of_response(r) == me
    pid = r.json()["id"]
    # content-addressed: it routes by its own id, and that worker rebuilds it from the store
    g = httpx.get(f"{two.url}/api/sessions/{pid}", timeout=60)
    assert g.status_code == 200 and _worker_of_response(g) == route_of(pid, 2)
    assert g.json()["nr_steps"] == 3 and g.json()["immutable"]


def _raw(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send `data`, then read until the server closes (b"" if it just closes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        got = b""
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not b:
                break
            got += b
        return got
    finally:
        s.close()


def test_hostile_heads_are_closed_without_harming_the_others(two):
    s, = _create(two, 1)
    o = Owner(two, s)
    # a head that never ends: closed after router_head_timeout (1 s here)
    t0 = time.monotonic()
    assert _raw(two.port, b"GET /api/limits HTTP/1.1\r\nHost: x\r\n") == b""
    assert 0.8 < time.monotonic() - t0 < 4.5
    # a 1 MiB head: refused at 16 KiB, never buffered whole
    got = _raw(two.port, b"GET /api/limits HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 431") or got == b""
    # garbage that ends like a head: a worker's HTTP parser answers 400
    assert _raw(two.port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").startswith(b"HTTP/1.1 400")
    # the owner's connection never noticed, and new requests are served
    o.send(type="step", unit="scan")
    assert o.json()["type"] == "step"
    o.close()
    assert httpx.get(f"{two.url}/api/limits", timeout=10).status_code == 200


def test_kill_9_of_a_worker_restarts_it_and_the_session_state_is_kept(two):
    s, = _create(two, 1)
    o = Owner(two, s)
    for _ in range(20):
        o.send(type="step", unit="scan")
        o.json()
    o.send(type="step", unit="access", count=5000)   # a run-ahead too
    head = o.json()["step"]
    assert head == 5020                              # each access is a step
    before = o.hashes()
    victim = o.hello["limits"]["worker"]["pid"]
    index = o.hello["limits"]["worker"]["index"]
    other = [s2 for s2 in _create(two, 4) if route_of(s2["id"], 2) != index]
    os.kill(victim, signal.SIGKILL)
    with pytest.raises(Exception):          # its connection died with it
        for _ in range(3):
            o.send(type="step", unit="scan")
            o.json()
    # the other worker was never affected
    if other:
        p = Owner(two, other[0])
        assert p.hello["limits"]["worker"]["pid"] != victim
        p.close()
    # the parent restarts the worker; the session comes back from the store
    deadline = time.monotonic() + 60
    while True:
        try:
            again = Owner(two, s)
            break
        except Exception:
            assert time.monotonic() < deadline, two.log()[-2000:]
            time.sleep(0.2)
    w = again.hello["limits"]["worker"]
    assert w["index"] == index and w["pid"] != victim
    assert again.hello["nr_steps"] == head
    assert again.hashes() == before
    again.close()
    assert f"worker {index} (pid {victim}) exited with -9; restarting it" in two.log()


def test_sigterm_stops_the_parent_and_every_worker(tmp_path):
    srv = Server(tmp_path / "d", extra_args=("--workers", "2")).start()
    s, = _create(srv, 1)
    o = Owner(srv, s)
    pids = {o.hello["limits"]["worker"]["pid"]}
    o.close()
    while len(pids) < 2:
        pids.add(httpx.get(f"{srv.url}/api/limits", timeout=10).json()["worker"]["pid"])
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(30) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    srv._close_log()
    # the WAL was folded into the file by the last worker to close it
    assert not (tmp_path / "d" / "reclaimlab.sqlite3-wal").exists() or \
        (tmp_path / "d" / "reclaimlab.sqlite3-wal").stat().st_size == 0


def test_workers_exit_when_their_parent_is_killed(tmp_path):
    srv = Server(tmp_path / "d", extra_args=("--workers", "2")).start()
    pids = set()
    deadline = time.monotonic() + 30
    while len(pids) < 2 and time.monotonic() < deadline:
        pids.add(httpx.get(f"{srv.url}/api/limits", timeout=10).json()["worker"]["pid"])
    assert len(pids) == 2
    srv.kill()              # SIGKILL: no signal forwarded, only the socket's end of file
    deadline = time.monotonic() + 20
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                pids.discard(pid)
        time.sleep(0.1)
    assert not pids, "workers outlived their parent"


def test_an_upload_streams_its_body_past_the_router_and_its_session_is_the_workers(two):
    """The router reads only the head (and what came with it); the worker
    reads the rest of a 3.4 MiB multipart body from the socket itself."""
    text = b"".join(b"A 0 %d\n" % (i % 512) for i in range(400_000))   # ~3.4 MiB
    assert len(text) > 2 << 20
    r = httpx.post(f"{two.url}/api/sessions/upload", timeout=120,
                   data={"recipe": json.dumps({"machine": {"ram_pages": 1024}})},
                   files={"file": ("big.trace", text)})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert route_of(sid, 2) == _worker_of_response(r)
    h = httpx.get(f"{two.url}/api/sessions/{sid}", timeout=60)
    assert _worker_of_response(h) == route_of(sid, 2)
    assert h.json()["recipe"]["workload"]["trace_id"]
    o = Owner(two, r.json())
    o.send(type="step", unit="access", count=1000)
    assert o.json()["step"] == 1000
    o.close()

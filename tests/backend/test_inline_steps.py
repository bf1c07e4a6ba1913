"""Small steps run on the event loop (docs/server.md "Small steps run on the
event loop"): the same bytes as the worker-thread path, and a step that
has to wait for a busy session waits in a thread, never on the loop."""
from __future__ import annotations

import time

import httpx
import pytest

from backend.settings import Settings
from tests.backend.conftest import WS, create, live_server, recipe, ws_url


def _replies(server, body: dict) -> list:
    """The raw bytes of every answer to one fixed script: small steps (the
    loop's path when inline_max_frames allows), a seek and a branch (always
    a thread), a viewer's steps through the history."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        s = create(client, body)
        out = []
        with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
            ws.opening()
            script = [dict(unit="scan")] * 5 + [dict(unit="access", count=3), dict(unit="shrink"),
                                                dict(unit="scan", count=4)]
            for m in script:
                ws.send(type="step", **m)
                ws.recv()
                out.append(ws.last_raw)
            ws.send(type="seek", step=3)
            ws.recv_type("state")
            ws.send(type="step", unit="scan", branch=True)
            ws.recv_type("step")
            out.append(ws.last_raw)
            ws.send(type="step", unit="scan")
            ws.recv()
            out.append(ws.last_raw)
        with WS(ws_url(server, s["id"], step=1)) as viewer:
            viewer.opening()
            for _ in range(3):
                viewer.send(type="step")
                viewer.recv()
                out.append(viewer.last_raw)
        return out


@pytest.mark.parametrize("policies", [("lru",), ("lru", "lru_gen")])
def test_small_steps_send_the_same_bytes_on_the_loop_as_in_a_thread(tmp_path, policies):
    body = recipe(policies=policies, ram_pages=512, accesses=20000)
    runs = []
    for k, inline in enumerate((32768, 0)):   # 0: every step in a worker thread, as before
        settings = Settings.from_env(data_dir=tmp_path / str(k), inline_max_frames=inline)
        with live_server(settings) as server:
            runs.append(_replies(server, body))
    assert len(runs[0]) == len(runs[1]) == 13
    for i, (a, b) in enumerate(zip(*runs)):
        assert isinstance(a, bytes) and a == b, f"reply {i} differs"


def test_a_step_waiting_for_a_busy_session_does_not_hold_up_the_event_loop(client, server):
    """While a run_until holds session A's lock, a small step on A from a
    second connection must wait; it waits in a worker thread, so session
    B's steps keep being answered meanwhile, and A's step is answered once
    the run is cancelled."""
    a = create(client, recipe(ram_pages=512, accesses=400_000))
    b = create(client, recipe())
    with WS(ws_url(server, a["id"], a["owner_token"])) as runner, \
            WS(ws_url(server, a["id"], a["owner_token"])) as waiter, \
            WS(ws_url(server, b["id"], b["owner_token"])) as other:
        for ws in (runner, waiter, other):
            ws.opening()
        # an event that never comes (no OOM here): it runs until cancelled,
        # one recorded access step at a time, holding A's lock throughout
        runner.send(type="run_until", unit="access", max_steps=10_000_000,
                    until={"kind": "event", "events": ["oom_kill"]})
        assert runner.recv(timeout=60)["type"] == "progress"   # the run holds the lock now
        waiter.send(type="step", unit="scan")
        t0 = time.monotonic()
        for i in range(1, 21):
            other.send(type="step", unit="scan")
            assert other.recv(timeout=10)["step"] == i
        assert time.monotonic() - t0 < 10
        runner.send(type="cancel")
        while True:
            m = runner.recv(timeout=60)
            if m["type"] == "run_result":
                break
        assert m["reason"] == "cancelled" and m["steps"] > 0
        # the waiting step ran after the run: its cursor (0) is below the head now
        answer = waiter.recv(timeout=60)
        assert answer["type"] == "error" and answer["code"] == "branch_needed", answer


def _threads_of(monkeypatch, name: str) -> list:
    """The threads that run Session.<name> from now on (the live server is
    in this process, so the event loop's thread is the server's thread)."""
    import threading

    from backend.sessions import Session
    seen, f = [], getattr(Session, name)

    def spy(self, *a, **k):
        seen.append(threading.current_thread())
        return f(self, *a, **k)
    monkeypatch.setattr(Session, name, spy)
    return seen


def test_a_big_machines_step_runs_on_the_loop_only_on_the_servers_only_connection(
        tmp_path, monkeypatch):
    """A machine over inline_max_frames (here 512 frames over 256): its
    one-unit step runs on the loop while its connection is the only one
    (the ~1 ms thread hop is a tenth of a 1 Mi-frame keypress), and in a
    thread again as soon as another connection is open, which a rare long
    step on the loop would stall."""
    settings = Settings.from_env(data_dir=tmp_path, inline_max_frames=256)
    with live_server(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        s = create(client, recipe(ram_pages=512, accesses=20000))
        seen = _threads_of(monkeypatch, "step")
        with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
            ws.opening()
            ws.send(type="step", unit="scan")
            assert ws.recv()["type"] == "step"
            assert seen[-1] is server.thread, "alone: on the loop"
            ws.send(type="step", unit="scan", count=2)
            assert ws.recv()["type"] == "step"
            assert seen[-1] is not server.thread, "two units of a big machine: a thread"
            with WS(ws_url(server, s["id"])) as viewer:
                viewer.opening()
                ws.send(type="step", unit="scan")
                assert ws.recv()["type"] == "step"
                assert seen[-1] is not server.thread, "another connection open: a thread"
            ws.send(type="ping", id=1)      # the viewer's close has been handled
            while ws.recv()["type"] != "pong":
                pass
            ws.send(type="step", unit="scan")
            assert ws.recv()["type"] == "step"
            assert seen[-1] is server.thread, "alone again: on the loop"


def test_a_steps_checkpoint_is_taken_after_its_reply_in_a_thread(tmp_path, monkeypatch):
    """A step on the loop leaves its checkpoint (~50-60 ms at 1 Mi frames)
    to a worker thread after the reply is sent; it is there before the
    connection's next command is answered."""
    settings = Settings.from_env(data_dir=tmp_path, checkpoint_every=2)
    with live_server(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        s = create(client, recipe(ram_pages=512, accesses=20000))
        steps, cps = _threads_of(monkeypatch, "step"), _threads_of(monkeypatch, "_take_checkpoint")
        with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
            ws.opening()
            for _ in range(4):
                ws.send(type="step", unit="scan")
                assert ws.recv()["type"] == "step"
            ws.send(type="ping", id=1)
            while ws.recv()["type"] != "pong":
                pass
        assert steps and all(t is server.thread for t in steps)
        assert len(cps) == 2 and all(t is not server.thread for t in cps), cps
        session = server.app.state.manager.get(s["id"])
        assert {2, 4} <= set(session.checkpoints)

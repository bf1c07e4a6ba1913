"""Sessions survive a server restart: a new process with the same data dir
rebuilds them from the store (recipe + command log) to the same state."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.backend.conftest import WS, recipe

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data: Path, port: int) -> subprocess.Popen:
    path = [x for x in (os.environ.get("PYTHONPATH"), str(ROOT)) if x]
    env = {**os.environ, "RECLAIMLAB_DATA": str(data), "PYTHONPATH": os.pathsep.join(path)}
    if (ROOT / "backend" / "cli.py").exists():
        cmd = [sys.executable, "-m", "backend", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--data", str(data)]
    else:  # the same app, started the way the CLI starts it
        cmd = [sys.executable, "-m", "uvicorn", "backend.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--ws-per-message-deflate", "false",
               "--log-level", "warning"]
    p = subprocess.Popen(cmd, cwd=ROOT, env=env)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/limits", timeout=1).status_code == 200:
                return p
        except httpx.HTTPError:
            time.sleep(0.1)
        if p.poll() is not None:
            raise RuntimeError(f"server exited with {p.returncode}")
    p.kill()
    raise RuntimeError("server did not start")


def _stop(p: subprocess.Popen) -> None:
    p.terminate()
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


@pytest.mark.parametrize("policies", [("lru",), ("lru", "lru_gen")])
def test_share_url_after_restart_shows_the_identical_state(tmp_path, policies):
    data = tmp_path / "data"
    port = _free_port()
    p = _serve(data, port)
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/api/sessions", json=recipe(policies=policies))
        s = r.json()
        with WS(f"ws://127.0.0.1:{port}/ws/sessions/{s['id']}?token={s['owner_token']}") as ws:
            ws.opening()
            ws.send(type="step", unit="scan", count=3)
            ws.recv()
            ws.send(type="step", unit="access", count=5)
            ws.recv()
            if "lru_gen" in policies:
                ws.send(type="step", unit="aging")
                f = ws.recv()
                k = policies.index("lru_gen")
                max_seq = f["panes"][k]["gens"]["max_seq"]
                ws.send(type="debugfs", text=f"+ 0 0 {max_seq}\n", pane=k)
                assert ws.recv()["panes"][k]["gens"]["max_seq"] == max_seq + 1
            ws.send(type="step", unit="scan", count=2)
            ws.recv()
            ws.send(type="seek", step=6)
            ws.recv()
            at6 = ws.recv()
            ws.send(type="seek", step=10**6)
            ws.recv()
            head = ws.recv()
    finally:
        _stop(p)
    port = _free_port()
    p = _serve(data, port)
    try:
        meta = httpx.get(f"http://127.0.0.1:{port}/api/sessions/{s['id']}").json()
        assert meta["nr_steps"] == head["step"]
        page = httpx.get(f"http://127.0.0.1:{port}/s/{s['id']}?step=6")
        assert page.status_code == 200
        for step, want in ((6, at6), (head["step"], head)):
            with WS(f"ws://127.0.0.1:{port}/ws/sessions/{s['id']}?step={step}") as ws:
                hello, frame, state = ws.opening()
                assert hello["role"] == "viewer" and state["step"] == step
                for got_pane, want_pane in zip(state["panes"], want["panes"]):
                    assert got_pane["state_hash"] == want_pane["state_hash"]
                    assert got_pane["vmstat"] == want_pane["vmstat"]
                # and the share link still cannot extend it
                if step == head["step"]:
                    ws.send(type="step", unit="scan")
                    assert ws.recv()["code"] == "read_only"
        # the owner token still works after the restart
        with WS(f"ws://127.0.0.1:{port}/ws/sessions/{s['id']}?token={s['owner_token']}") as ws:
            hello, _, _ = ws.opening()
            assert hello["role"] == "owner"
            ws.send(type="step", unit="scan")
            assert ws.recv()["nr_steps"] == head["step"] + 1
    finally:
        _stop(p)


def test_a_session_recorded_by_another_engine_says_so_in_its_hello(tmp_path):
    """A session is rebuilt from its recipe by the engine the server runs now. The
    stored recipe keeps the engine that recorded it (engine_version) and that
    engine's machine (engine_config); the hello adds the engine replaying it, so the
    page can tell a reader the two differ (frontend/js/engineNote.js)."""
    import json
    import sqlite3
    data = tmp_path / "data"
    port = _free_port()
    p = _serve(data, port)
    try:
        s = httpx.post(f"http://127.0.0.1:{port}/api/sessions",
                       json=recipe(ram_pages=16384, guest=True, swap_kind="ssd")).json()
        with WS(f"ws://127.0.0.1:{port}/ws/sessions/{s['id']}?token={s['owner_token']}") as ws:
            hello, _, _ = ws.opening()
            now = hello["engine_version"]
            assert now and hello["recipe"]["engine_version"] == now
            assert hello["recipe"]["engine_config"][0]["zone_dma_holes"] > 0
    finally:
        _stop(p)
    # the store as an engine before the zones' holes left it: an older version, no holes key
    db = next(data.glob("*.sqlite3"))
    with sqlite3.connect(db) as con:
        stored = json.loads(con.execute("SELECT recipe FROM sessions WHERE id = ?", (s["id"],)).fetchone()[0])
        stored["engine_version"] = "0.7.3"
        del stored["engine_config"][0]["zone_dma_holes"]
        con.execute("UPDATE sessions SET recipe = ? WHERE id = ?", (json.dumps(stored), s["id"]))
    port = _free_port()
    p = _serve(data, port)
    try:
        with WS(f"ws://127.0.0.1:{port}/ws/sessions/{s['id']}") as ws:
            hello, _, _ = ws.opening()
            assert hello["engine_version"] == now != hello["recipe"]["engine_version"] == "0.7.3"
            assert "zone_dma_holes" not in hello["recipe"]["engine_config"][0]
            assert hello["panes"][0]["config"]["zone_dma_holes"] > 0
    finally:
        _stop(p)

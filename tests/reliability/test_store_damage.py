"""A damaged store: found at start-up (quick_check), moved aside with one
log line or refused with a one-line reason; missing tables recreated with a
warning; a damaged row is a 409 / an `error` frame naming its session while
the others keep working; `reclaimlab store check|backup`."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import httpx
import pytest
from websockets.sync.client import connect

from tests.reliability.conftest import ROOT, Server, free_port

SMALL = {"machine": {"ram_pages": 256}, "workload": {"scenario": "anon-loop", "accesses": 4000}}


def _cli(*args, data=None, timeout=60):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if data is not None:
        env["RECLAIMLAB_DATA"] = str(data)
    return subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _populated(data, n=3) -> list[dict]:
    srv = Server(data).start()
    try:
        return [httpx.post(f"{srv.url}/api/sessions", json={**SMALL, "seed": i}).json()
                for i in range(n)]
    finally:
        srv.stop()


def _db(data):
    return data / "reclaimlab.sqlite3"


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_store_is_moved_aside_with_one_log_line(tmp_path, damage):
    data = tmp_path / "d"
    _populated(data)
    db = _db(data)
    raw = db.read_bytes()
    db.write_bytes(os.urandom(len(raw)) if damage == "garbage" else raw[:len(raw) // 2 + 100])
    srv = Server(data).start()
    try:
        lines = [l for l in srv.log().splitlines() if "damaged" in l]
        assert len(lines) == 1 and "moved aside to" in lines[0], srv.log()
        assert "Traceback" not in srv.log()
        aside = [p for p in data.iterdir() if ".damaged-" in p.name and p.suffix != ".sqlite3-wal"]
        assert aside and aside[0].read_bytes()[:100] == db.parent.joinpath(aside[0].name).read_bytes()[:100]
        assert httpx.post(f"{srv.url}/api/sessions", json=SMALL).status_code == 201
    finally:
        srv.stop()


def test_refuse_on_damage_exits_with_a_one_line_reason(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    _db(data).write_bytes(b"this is not a database" * 100)
    r = _cli("serve", "--port", str(free_port()), "--data", str(data), "--on-damage", "refuse")
    assert r.returncode == 1, r
    assert len(r.stderr.strip().splitlines()) == 1 and "damaged" in r.stderr, r.stderr
    assert _db(data).read_bytes().startswith(b"this is not")     # left where it was


def test_an_empty_file_or_a_dropped_table_starts_with_a_warning(tmp_path):
    data = tmp_path / "d"
    made = _populated(data, 2)
    with sqlite3.connect(_db(data)) as db:
        db.execute("DROP TABLE sessions")
    srv = Server(data).start()
    try:
        assert "had no table 'sessions'" in srv.log()
        assert httpx.get(f"{srv.url}/api/sessions/{made[0]['id']}").status_code == 404
        assert httpx.post(f"{srv.url}/api/sessions", json=SMALL).status_code == 201
    finally:
        srv.stop()
    _db(data).write_bytes(b"")
    for side in ("-wal", "-shm"):
        (data / f"reclaimlab.sqlite3{side}").unlink(missing_ok=True)
    srv = Server(data).start()
    try:
        assert "is empty (0 bytes)" in srv.log()
        assert httpx.post(f"{srv.url}/api/sessions", json=SMALL).status_code == 201
    finally:
        srv.stop()


def test_a_damaged_row_is_isolated_and_named(tmp_path):
    data = tmp_path / "d"
    good, bad_json, bad_log = _populated(data, 3)
    with sqlite3.connect(_db(data)) as db:
        db.execute("UPDATE sessions SET recipe = '{not json' WHERE id = ?", (bad_json["id"],))
        db.execute("UPDATE sessions SET nr_steps = 7 WHERE id = ?", (bad_log["id"],))
    r = _cli("store", "check", data=data)
    assert r.returncode == 1
    assert bad_json["id"] in r.stdout and bad_log["id"] in r.stdout and good["id"] not in r.stdout
    srv = Server(data).start()
    try:
        for s in (bad_json, bad_log):
            r = httpx.get(f"{srv.url}/api/sessions/{s['id']}")
            assert r.status_code == 409 and s["id"] in r.json()["detail"], r.text
            with connect(f"{srv.ws_url}/ws/sessions/{s['id']}", compression=None) as ws:
                err = json.loads(ws.recv(timeout=30))
                assert err["type"] == "error" and err["code"] == "damaged" and s["id"] in err["message"]
                try:
                    ws.recv(timeout=30)
                    raise AssertionError("not closed")
                except Exception as e:
                    assert e.rcvd.code == 1011
        assert httpx.get(f"{srv.url}/api/sessions/{good['id']}").status_code == 200
    finally:
        srv.stop()


def test_store_backup_is_a_sound_copy_while_the_server_runs(tmp_path):
    data = tmp_path / "d"
    made = _populated(data, 2)
    srv = Server(data).start()
    try:
        httpx.post(f"{srv.url}/api/sessions", json=SMALL)
        dest = tmp_path / "backup.sqlite3"
        r = _cli("store", "backup", str(dest), data=data)
        assert r.returncode == 0, r.stderr
        assert _cli("store", "backup", str(dest), data=data).returncode == 1   # never overwrites
    finally:
        srv.stop()
    copy = tmp_path / "copy"
    copy.mkdir()
    dest.rename(_db(copy))
    r = _cli("store", "check", data=copy)
    assert r.returncode == 0 and "3 sessions, 0 traces, 0 problem(s)" in r.stdout, r.stdout
    with sqlite3.connect(_db(copy)) as db:
        assert {row[0] for row in db.execute("SELECT id FROM sessions")} >= {m["id"] for m in made}
    assert _cli("store", "check", data=tmp_path / "nowhere").returncode == 1


def test_the_cli_names_an_unreadable_trace_in_one_line(tmp_path):
    # FIFOs and stdin are inputs now (simulate streams a trace with bounded
    # memory); a directory or a missing file is a one-line error
    for path in (str(tmp_path), str(tmp_path / "missing.trace")):
        r = _cli("simulate", "--trace", path, timeout=30)
        assert r.returncode == 1, r
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr

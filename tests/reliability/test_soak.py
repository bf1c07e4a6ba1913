"""Long runs (`make soak`, not `make test`): run-ahead storms against a
light session, repeated kill -9 / restart cycles, and the open-loop load
test (100 clients at 10 steps/s on 16 Ki-frame machines, p99 reported)."""
from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import threading
import time

import httpx
import pytest
from websockets.sync.client import connect

from tests.reliability.conftest import ROOT, Server
from tests.reliability.test_crash import Owner, _replayed_hashes

pytestmark = pytest.mark.soak
SMALL = {"machine": {"ram_pages": 256}, "workload": {"scenario": "anon-loop", "accesses": 4000}}


def test_fifty_run_aheads_do_not_starve_a_light_session(tmp_path):
    """More long steps in flight than the default thread pool has threads
    (40): they queue on the heavy limiter, and a light session's steps are
    still answered at once."""
    srv = Server(tmp_path / "d", max_live_sessions=200).start()
    try:
        heavy = {"machine": {"ram_pages": 256}, "workload": {"scenario": "anon-loop",
                                                             "accesses": 3_000_000}}
        sessions = [httpx.post(f"{srv.url}/api/sessions", json={**heavy, "seed": i},
                               timeout=120).json() for i in range(50)]
        light = httpx.post(f"{srv.url}/api/sessions", json=SMALL).json()
        owners = [Owner(srv, s) for s in sessions]
        lo = Owner(srv, light)
        for o in owners:
            o.send(type="step", unit="access", count=2_900_000)
        time.sleep(1.0)
        lat = []
        for _ in range(20):
            t = time.monotonic()
            lo.send(type="step", unit="scan")
            assert lo.json()["type"] == "step"
            lat.append(time.monotonic() - t)
        for o in owners:
            assert o.json()["type"] == "step"
            o.close()
        lo.close()
        lat.sort()
        print(f"light session under 50 run-aheads: median {lat[10] * 1000:.0f} ms, "
              f"max {lat[-1] * 1000:.0f} ms")
        assert lat[-1] < 2.0, lat
    finally:
        srv.stop()


def test_ten_kill_9_cycles_lose_no_committed_step(tmp_path):
    data = tmp_path / "d"
    recipe = {"machine": {"ram_pages": 2048}, "workload": {"scenario": "anon-loop",
                                                           "accesses": 2_000_000},
              "policies": [{"policy": "lru"}, {"policy": "lru_gen"}]}
    srv = Server(data).start()
    s = httpx.post(f"{srv.url}/api/sessions", json=recipe, timeout=60).json()
    for cycle in range(10):
        o = Owner(srv, s)
        for _ in range(3):
            o.send(type="step", unit="scan")
            o.json()
        o.send(type="step", unit="access", count=100_000)
        time.sleep(0.05 * cycle)
        srv.kill()
        o.close()
        srv = Server(data).start()
        hist = httpx.get(f"{srv.url}/api/sessions/{s['id']}/history").json()
        o = Owner(srv, s)
        assert o.hashes(hist["nr_steps"]) == _replayed_hashes(recipe, hist["log"],
                                                              hist["nr_steps"], tmp_path / str(cycle))
        o.close()
    srv.stop()


def test_open_loop_load_100_clients_at_10_steps_per_second():
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_load.py"), "--clients", "100",
                          "--rate", "10", "--seconds", "30", "--frames", "16384"],
                         capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout.strip().splitlines()[-1])
    print(row)
    assert row["errors"] == 0 and row["steps"] == 100 * 10 * 30

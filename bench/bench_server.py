"""Server benchmarks, one JSON object per line (collected by run_all.py):

- scan_step_rtt_ms: one `scan` step round trip over the WebSocket on
  loopback at 1 Mi frames (target: median <= 5 ms);
- seek_ms: seek (frame + binary state) to random steps of a 10 M-access
  session at 1 Mi frames (target: <= 200 ms);
- frame_bytes: bytes per step frame and per state frame, by machine size;
- sessions_per_gib: live sessions per GiB of server memory.

Usage: python bench/bench_server.py [--quick] [--seek]   (--quick: smaller sizes, for a smoke
run; --seek: only the seek bench)
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from backend.app import create_app  # noqa: E402
from backend.live import LiveServer  # noqa: E402
from backend.settings import Settings  # noqa: E402
from common import emit  # noqa: E402

QUICK = "--quick" in sys.argv
MI = 1 << 20


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Server(LiveServer):
    def __init__(self, **overrides):
        self.tmp = tempfile.TemporaryDirectory()
        s = Settings.from_env(data_dir=self.tmp.name, max_live_sessions=1000, **overrides)
        super().__init__(create_app(s))
        self.start()
        self.http = httpx.Client(base_url=self.url, timeout=600)

    def create(self, ram_pages, policies=("lru",), scenario="anon-loop", accesses=None):
        r = self.http.post("/api/sessions", json={
            "machine": {"ram_pages": ram_pages},
            "workload": {"scenario": scenario, "accesses": accesses},
            "policies": [{"policy": p} for p in policies], "seed": 1})
        r.raise_for_status()
        return r.json()

    def ws(self, s):
        # the token in a header, never the URL (docs/protocol.md §3)
        return connect(f"{self.ws_url}/ws/sessions/{s['id']}",
                       additional_headers={"Authorization": f"Bearer {s['owner_token']}"},
                       max_size=2**28, compression=None, open_timeout=600, close_timeout=5)

    def stop(self):
        super().stop()
        self.tmp.cleanup()


def opening(ws):
    hello = json.loads(ws.recv(timeout=600))
    frame = ws.recv(timeout=600)
    state = ws.recv(timeout=600)
    return hello, frame, state


def request(ws, n_replies, **msg):
    t0 = time.perf_counter()
    ws.send(json.dumps(msg))
    replies = [ws.recv(timeout=600) for _ in range(n_replies)]
    return (time.perf_counter() - t0) * 1000, replies


def bench_scan_rtt(srv, policy):
    ram = (64 * 1024) if QUICK else MI
    s = srv.create(ram, policies=(policy,), accesses=int(ram * 3))
    with srv.ws(s) as ws:
        opening(ws)
        # fill RAM first (run-ahead), so every scan step is one reclaim batch
        request(ws, 1, type="step", unit="access", count=int(ram * 1.1))
        times, sizes = [], []
        for _ in range(10):
            request(ws, 1, type="step", unit="scan")
        for _ in range(200):
            ms, (f,) = request(ws, 1, type="step", unit="scan")
            times.append(ms)
            sizes.append(len(f))
        emit(name="scan_step_rtt_ms", policy=policy, ram_pages=ram, n=len(times),
             median=round(statistics.median(times), 3),
             p90=round(sorted(times)[int(0.9 * len(times))], 3), target_median=5.0)
        emit(name="frame_bytes", kind="step:scan", policy=policy, ram_pages=ram,
             median=int(statistics.median(sizes)), max=max(sizes))
        ms_a, (fa,) = request(ws, 1, type="step", unit="access")
        emit(name="frame_bytes", kind="step:access", policy=policy, ram_pages=ram, bytes=len(fa))
        ms, (st,) = request(ws, 1, type="state")
        emit(name="frame_bytes", kind="state", layout="location", policy=policy, ram_pages=ram,
             bytes=len(st), ms=round(ms, 2))
        # What the page fetches after each step on a large machine: the
        # location delta, and the zoom windows of what it shows folio by folio.
        dsz, dms = [], []
        for _ in range(20):
            request(ws, 1, type="step", unit="scan")
            ms, (d,) = request(ws, 1, type="state", delta=True)
            dsz.append(len(d))
            dms.append(ms)
        emit(name="frame_bytes", kind="state:delta after a scan step", layout="location",
             policy=policy, ram_pages=ram, median=int(statistics.median(dsz)), max=max(dsz),
             ms_median=round(statistics.median(dms), 2))
        name = "LRU_INACTIVE_ANON" if policy == "lru" else None
        if name is None:
            hdr = json.loads(d[4:4 + int.from_bytes(d[:4], "little")])   # the newest gens
            g = max(hdr["panes"][0]["gens"]["gens"], key=lambda g: g["nr_pages"][0])
            name = f"gen{g['seq']}.anon"
        zsz, zms = [], []
        for k in range(10):
            ms, (z,) = request(ws, 1, type="zoom", list=name, offset=k * 20000, count=16384)
            zsz.append(len(z))
            zms.append(ms)
        emit(name="zoom_window", policy=policy, ram_pages=ram, list=name, count=16384,
             bytes=max(zsz), ms_median=round(statistics.median(zms), 2), ms_max=round(max(zms), 2))


def bench_state_small(srv):
    for policy in ("lru", "lru_gen"):
        ram = 16384
        s = srv.create(ram, policies=(policy,), accesses=ram * 3)
        with srv.ws(s) as ws:
            opening(ws)
            request(ws, 1, type="step", unit="access", count=int(ram * 1.2))
            ms, (st,) = request(ws, 1, type="state")
            emit(name="frame_bytes", kind="state", layout="order", policy=policy, ram_pages=ram,
                 bytes=len(st), ms=round(ms, 2))
            ms, (f,) = request(ws, 1, type="step", unit="scan")
            emit(name="frame_bytes", kind="step:scan", policy=policy, ram_pages=ram, bytes=len(f))
    s = srv.create(16384, policies=("lru", "lru_gen"), accesses=16384 * 3)
    with srv.ws(s) as ws:
        opening(ws)
        request(ws, 1, type="step", unit="access", count=20000)
        ms, (f,) = request(ws, 1, type="step", unit="scan")
        emit(name="frame_bytes", kind="step:scan", policy="compare", ram_pages=16384, bytes=len(f))


def bench_seek(srv, policy, label="default"):
    ram = (64 * 1024) if QUICK else MI
    n = 1_000_000 if QUICK else 10_000_000
    t0 = time.perf_counter()
    s = srv.create(ram, policies=(policy,), accesses=n)
    create_s = time.perf_counter() - t0
    with srv.ws(s) as ws:
        opening(ws)
        t0 = time.perf_counter()
        left = n
        while left > 0:   # the history: n access steps, run ahead in chunks
            k = min(left, 2_000_000)
            request(ws, 1, type="step", unit="access", count=k)
            left -= k
        build_s = time.perf_counter() - t0
        rng = random.Random(1)
        times = []
        for _ in range(20):
            ms, _ = request(ws, 2, type="seek", step=rng.randrange(1, n + 1))
            times.append(ms)
        st = srv.app.state.settings
        sess = srv.app.state.manager.get(s["id"] if isinstance(s, dict) else s)
        cps, cp_mib = len(sess.checkpoints), sess._cp_bytes >> 20
        emit(name="seek_ms", policy=policy, ram_pages=ram, accesses=n, n=len(times), config=label,
             checkpoint_replay_ms=st.checkpoint_replay_ms, checkpoints=cps, checkpoint_mib=cp_mib,
             checkpoint_budget_mib=st.checkpoint_budget_bytes >> 20,
             median=round(statistics.median(times), 1), max=round(max(times), 1),
             target=200.0, create_s=round(create_s, 2), run_s=round(build_s, 2))


def bench_sessions_per_gib(srv, ram, n=None):
    n = n or (4 if QUICK else 12)
    before = rss_bytes()
    conns = []
    for i in range(n):
        s = srv.create(ram, accesses=ram * 3)
        ws = srv.ws(s).__enter__()
        opening(ws)
        request(ws, 1, type="step", unit="access", count=int(ram * 1.5))
        request(ws, 1, type="step", unit="scan", count=20)
        conns.append(ws)
    per = (rss_bytes() - before) / n
    emit(name="sessions_per_gib", ram_pages=ram, n=n, rss_per_session_mib=round(per / MI, 2),
         sessions_per_gib=round((1 << 30) / per, 1) if per > 0 else None)
    for ws in conns:
        ws.__exit__(None, None, None)


def main():
    if "--seek" in sys.argv:   # only the seek bench (it takes minutes)
        srv = Server()
        try:
            for policy in ("lru", "lru_gen"):
                bench_seek(srv, policy)
        finally:
            srv.stop()
        return
    srv = Server()
    try:
        bench_state_small(srv)
        for policy in ("lru", "lru_gen"):
            bench_scan_rtt(srv, policy)
        for policy in ("lru", "lru_gen"):
            bench_seek(srv, policy)
    finally:
        srv.stop()
    # The trade-off: sparser checkpoints (the old default: half the memory per
    # session) for slower seeks.
    srv = Server(checkpoint_replay_ms=160.0, checkpoint_accesses=1 << 20, checkpoint_budget_bytes=1 << 29)
    try:
        bench_seek(srv, "lru", label="sparse")
    finally:
        srv.stop()
    for ram, n in ((16384, None), (65536, None), (MI, 4)):
        if QUICK and ram == MI:
            continue
        srv = Server()
        try:
            bench_sessions_per_gib(srv, ram, n)
        finally:
            srv.stop()


if __name__ == "__main__":
    main()

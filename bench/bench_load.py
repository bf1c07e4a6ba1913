"""Load on a real `reclaimlab serve` subprocess: many owners stepping at once.

Open loop (the default): `--clients` owners (100), each on its own session
of `--frames` frames (16 Ki), each sending one `step` every 1/`--rate`
seconds (10/s) on a fixed schedule whatever the answers do, for
`--seconds`, once every owner is connected and has taken its first step
(which fills the empty machine first). The owners' schedules are
spread over the period (independent players do not press in step);
`--aligned` sends them all at the same instants, a burst of 100 requests
every 100 ms. The latency of a step is from its *scheduled* send time to its
answer (the binary step message, protocol.md §3.5), so a server that falls behind is charged for the queue it built
(no coordinated omission). Reports p50/p90/p99/max, the steps/s achieved,
errors, and the server's CPU and RSS.

Closed loop (`--closed N`): N owners each send the next step as soon as the
previous step message arrives: the server's throughput ceiling.

Prints one JSON line per run (bench/run_all.py collects them). Not part of
`make test`; `make soak` and `make bench` run it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, env_extra: dict, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    p = subprocess.Popen([sys.executable, "-m", "backend", "serve", "--host", "127.0.0.1",
                          "--port", str(port), "--data", str(data), "--workers", str(workers)],
                         cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/api/limits", timeout=1).status_code == 200:
                return p, url
        except httpx.HTTPError:
            time.sleep(0.1)
    p.kill()
    raise RuntimeError("server did not start")


def proc_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds, RSS bytes) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat)."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def tree_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds, RSS bytes) of a process and its children: `--workers N`
    is a parent (the router) and N worker processes."""
    cpu, rss = proc_stat(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            c, r = tree_stat(int(child))
            cpu, rss = cpu + c, rss + r
    return cpu, rss


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def is_step(m) -> bool:
    """A binary step message (its JSON header starts right after the length)."""
    return isinstance(m, bytes) and m[4:18] == b'{"type":"step"'


async def owner(ws_url: str, s: dict):
    ws = await connect(f"{ws_url}/ws/sessions/{s['id']}", max_size=2**26, compression=None)
    for _ in range(3):
        await ws.recv()
    await ws.send(json.dumps({"type": "auth", "token": s["owner_token"]}))
    assert json.loads(await ws.recv())["type"] == "auth_ok"
    return ws


async def first_step(ws, unit: str) -> None:
    await ws.send(json.dumps({"type": "step", "unit": unit}))
    while not is_step(await ws.recv()):
        pass


async def open_loop_client(ws, rate, seconds, unit, lat, errors, t0):
    n = int(seconds * rate)
    sched = [t0 + i / rate for i in range(n)]

    async def sender():
        for t in sched:
            delay = t - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(json.dumps({"type": "step", "unit": unit}))

    async def receiver():
        got = 0
        while got < n:
            m = await ws.recv()
            if is_step(m):
                lat.append(time.monotonic() - sched[got])
                got += 1
                continue
            if isinstance(m, bytes):
                continue
            m = json.loads(m)
            if m["type"] == "error":
                errors.append(m["code"])
                got += 1

    try:
        await asyncio.gather(sender(), receiver())
    finally:
        await ws.close()


async def closed_loop_client(ws_url, s, seconds, unit, counts):
    ws = await owner(ws_url, s)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        await ws.send(json.dumps({"type": "step", "unit": unit}))
        while True:
            m = await ws.recv()
            if is_step(m) or (not isinstance(m, bytes) and json.loads(m)["type"] == "error"):
                break
        n += 1
    counts.append(n)
    await ws.close()


def create_sessions(url: str, n: int, frames: int, accesses: int) -> list[dict]:
    out = []
    with httpx.Client(base_url=url, timeout=120) as c:
        for i in range(n):
            r = c.post("/api/sessions", json={
                "machine": {"ram_pages": frames},
                "workload": {"scenario": "anon-loop", "accesses": accesses}, "seed": i})
            r.raise_for_status()
            out.append(r.json())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--rate", type=float, default=10.0, help="steps per second per client")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--frames", type=int, default=16384)
    ap.add_argument("--unit", default="scan")
    ap.add_argument("--aligned", action="store_true",
                    help="open loop: every client sends at the same instants (a burst of N each period)")
    ap.add_argument("--closed", type=int, default=0, metavar="N",
                    help="closed loop with N clients instead")
    ap.add_argument("--workers", type=int, default=1, metavar="N",
                    help="serve --workers N (the server's CPU is the parent's and the workers')")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp), {"RECLAIMLAB_MAX_LIVE_SESSIONS": "1000"}, args.workers)
        ws_url = url.replace("http", "ws")
        try:
            n = args.closed or args.clients
            sessions = create_sessions(url, n, args.frames, max(100_000, args.frames * 8))
            cpu0, _ = tree_stat(proc.pid)
            router0, _ = proc_stat(proc.pid)
            me0, _ = proc_stat(os.getpid())
            busy0 = machine_busy()
            lat, errors, counts = [], [], []

            async def run():
                if args.closed:
                    await asyncio.gather(*(closed_loop_client(ws_url, s, args.seconds, args.unit,
                                                              counts) for s in sessions))
                else:
                    # every owner connected first (hello, frame and state sent,
                    # authenticated): the schedule measures stepping, not the
                    # connection burst; independent players press out of step
                    # with each other (--aligned: all at the same instants)
                    wss = await asyncio.gather(*(owner(ws_url, s) for s in sessions))
                    # and past its first step, which first fills the empty
                    # machine (~16 Ki accesses before the first scan batch)
                    await asyncio.gather(*(first_step(ws, args.unit) for ws in wss))
                    t0 = time.monotonic() + 0.5
                    await asyncio.gather(*(open_loop_client(
                        ws, args.rate, args.seconds, args.unit, lat, errors,
                        t0 + (0 if args.aligned else i / (args.rate * len(wss))))
                        for i, ws in enumerate(wss)))

            wall0 = time.monotonic()
            asyncio.run(run())
            wall = time.monotonic() - wall0
            cpu1, rss = tree_stat(proc.pid)
            router1, _ = proc_stat(proc.pid)
            me1, _ = proc_stat(os.getpid())
            busy1 = machine_busy()
        finally:
            proc.terminate()
            proc.wait(15)
    row = {"what": "load_closed" if args.closed else "load_open", "clients": n,
           "phases": None if args.closed else ("aligned" if args.aligned else "staggered"),
           "workers": args.workers, "frames": args.frames, "unit": args.unit,
           "seconds": round(wall, 2),
           "server_cpu_s": round(cpu1 - cpu0, 2), "server_cpu_cores": round((cpu1 - cpu0) / wall, 2),
           "server_rss_mib": rss >> 20, "errors": len(errors),
           # the clients share the machine: what they take is not the server's to use
           "client_cpu_cores": round((me1 - me0) / wall, 2),
           # the other processes of a shared machine, in cores: what the run did not get
           "others_cpu_cores": round(((busy1 - busy0) - (cpu1 - cpu0) - (me1 - me0)) / wall, 2)}
    if args.workers > 1:   # the parent: accepting and routing connections
        row["router_cpu_cores"] = round((router1 - router0) / wall, 2)
    steps = sum(counts) if args.closed else len(lat)
    # What a step costs the server, whatever share of the cores it got (the
    # client and other jobs share them): the figure that compares runs.
    row["server_cpu_ms_per_step"] = round(1000 * (cpu1 - cpu0) / max(1, steps), 3)
    if args.closed:
        row["steps_per_s"] = round(sum(counts) / args.seconds, 1)
    else:
        ms = [x * 1000 for x in lat]
        row.update({"rate_per_client": args.rate, "steps": len(lat),
                    "steps_per_s": round(len(lat) / wall, 1),
                    "p50_ms": round(pct(ms, 0.5), 1), "p90_ms": round(pct(ms, 0.9), 1),
                    "p99_ms": round(pct(ms, 0.99), 1), "max_ms": round(max(ms or [0]), 1)})
    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

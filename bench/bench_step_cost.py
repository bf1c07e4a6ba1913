"""In-process cost of one `scan` step of a Session with a connection (the
binary step message built, `Session.step(..., wire=...)`), no transport:
the median and p90 of `time.thread_time` per step, and a breakdown of the
message's parts. One JSON object per line.

With --gap, each step comes 50 ms after the last, with 64 MiB of other
memory traffic in between (what a person pressing a key sees: the caches
cold), and the wall time per step is reported too.

Usage: python bench/bench_step_cost.py [--quick] [--profile] [--gap] [--only=16384|1048576]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend import wire as W  # noqa: E402
from backend.recipes import Recipe  # noqa: E402
from backend.sessions import SessionManager  # noqa: E402
from backend.settings import Settings  # noqa: E402
from backend.store import SqliteStore  # noqa: E402
from common import emit  # noqa: E402

QUICK = "--quick" in sys.argv
PROFILE = "--profile" in sys.argv
GAP = "--gap" in sys.argv
ONLY = [int(a.split("=")[1]) for a in sys.argv if a.startswith("--only=")]


def session(mgr, ram_pages, policies, warm):
    recipe = Recipe.model_validate({
        "machine": {"ram_pages": ram_pages, "swap_kind": "zram", "swap_pages": ram_pages // 2},
        "workload": {"scenario": "stream-hot-file", "params": {}, "accesses": warm * 4},
        "policies": [{"policy": p} for p in policies], "seed": 1})
    s, _ = mgr.create(recipe)
    s.step(0, "access", warm, True)
    return s


def main():
    tmp = tempfile.TemporaryDirectory()
    settings = Settings.from_env(data_dir=tmp.name, max_live_sessions=100)
    mgr = SessionManager(SqliteStore(Path(tmp.name) / "db.sqlite"), settings)
    sizes = [(16384, 40_000, 300), (1 << 20, 1_200_000, 60)]
    if QUICK:
        sizes = [(16384, 40_000, 100)]
    if ONLY:
        sizes = [x for x in sizes if x[0] in ONLY]
    junk = np.zeros(64 << 20, np.uint8) if GAP else None
    for ram, warm, steps in sizes:
        for policies in (("lru",), ("lru_gen",), ("lru", "lru_gen")):
            s = session(mgr, ram, policies, warm)
            wire = W.Wire()
            s.state_at(s.nr_steps, base=wire)
            times, walls, sizes_b = [], [], []
            if PROFILE:
                import cProfile
                import pstats
                pr = cProfile.Profile()
                pr.enable()
            for _ in range(steps):
                if GAP:
                    time.sleep(0.05)
                    junk += 1                  # evicts the caches, as other work would
                t0, w0 = time.thread_time(), time.perf_counter()
                _, msg = s.step(s.nr_steps, "scan", 1, True, wire=wire)
                times.append((time.thread_time() - t0) * 1e3)
                walls.append((time.perf_counter() - w0) * 1e3)
                sizes_b.append(len(msg))
            if PROFILE:
                pr.disable()
                pstats.Stats(pr).sort_stats("tottime").print_stats(18)
            times.sort()
            walls.sort()
            emit(metric="step_cpu_ms", ram_pages=ram, policies=list(policies), gap=GAP,
                 median=round(statistics.median(times), 3),
                 p90=round(times[int(0.9 * len(times))], 3),
                 wall_median=round(statistics.median(walls), 3),
                 msg_bytes_median=int(statistics.median(sizes_b)), steps=steps)
            mgr.evict(now=float("inf"))
    tmp.cleanup()


if __name__ == "__main__":
    main()

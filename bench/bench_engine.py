"""Engine benchmark: run-ahead accesses/s, scan-step latency and state size per frame.

Prints one JSON line per (policy, frames). The workload is a Zipf(0.99) mix of
anon (4 processes) and file read()s, overcommitted 2x, generated with numpy.
Usage: python bench/bench_engine.py [--frames 65536,262144,1048576,4194304] [--policies lru,lru_gen]
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import ACCESS_DTYPE, POLICIES, Simulator  # noqa: E402


def zipf_ranks(rng, n_items, size, s=0.99):
    """Bounded Zipf(s) ranks in [0, n_items) by inverse transform of the continuous power law."""
    u = rng.random(size)
    a = 1.0 - s
    x = ((n_items ** a - 1.0) * u + 1.0) ** (1.0 / a)
    return np.minimum(x.astype(np.int64) - 1, n_items - 1)


def make_workload(frames, n, seed=1, overcommit=2.0, anon_share=0.6):
    rng = np.random.Generator(np.random.PCG64(seed))
    anon_pages = int(frames * overcommit * anon_share)
    file_pages = int(frames * overcommit * (1 - anon_share))
    w = np.zeros(n, dtype=ACCESS_DTYPE)
    is_anon = rng.random(n) < anon_share
    n_anon = int(is_anon.sum())
    # hot ranks are spread over the address space in runs of 64 pages (spatial locality)
    perm_a = rng.permutation(anon_pages // 64 + 1)
    ra = zipf_ranks(rng, anon_pages, n_anon)
    va = perm_a[ra // 64] * 64 + ra % 64
    w["op"][is_anon] = 0
    w["owner"][is_anon] = va % 4
    w["page"][is_anon] = va // 4
    w["write"][is_anon] = rng.random(n_anon) < 0.3
    perm_f = rng.permutation(file_pages // 64 + 1)
    rf = zipf_ranks(rng, file_pages, n - n_anon)
    vf = perm_f[rf // 64] * 64 + rf % 64
    w["op"][~is_anon] = 1
    w["owner"][~is_anon] = vf % 8
    w["page"][~is_anon] = vf // 8
    return w


def first_touch(frames, overcommit=2.0, anon_share=0.6):
    """Every page of the footprint once, in order: memory is really overcommitted."""
    anon_pages = int(frames * overcommit * anon_share)
    file_pages = int(frames * overcommit * (1 - anon_share))
    w = np.zeros(anon_pages + file_pages, dtype=ACCESS_DTYPE)
    w["op"][anon_pages:] = 1
    va = np.arange(anon_pages)
    w["owner"][:anon_pages] = va % 4
    w["page"][:anon_pages] = va // 4
    vf = np.arange(file_pages)
    w["owner"][anon_pages:] = vf % 8
    w["page"][anon_pages:] = vf // 8
    return w


def bench(policy, frames, n_accesses, n_scans):
    sim = Simulator({"policy": policy, "ram_pages": frames, "swap_pages": frames})
    touch = first_touch(frames)
    w = np.concatenate([touch, make_workload(frames, n_accesses)])
    sim.set_workload(w)
    t0 = time.perf_counter()
    sim.run(len(touch) + n_accesses // 4)                   # fill + warm up
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    c0 = time.process_time()
    done = sim.run(n_accesses // 2)
    t_run = time.perf_counter() - t0
    c_run = time.process_time() - c0
    # scan steps (events on), in the steady state with workload left
    times = []
    for _ in range(n_scans):
        t0 = time.perf_counter()
        got = sim.step("scan", 1)
        times.append(time.perf_counter() - t0)
        assert got == 1, "workload ran out during the scan measurement"
    state = sim.state_bytes()
    state_noev = sim.state_bytes(events=False)
    vm = sim.vmstat()
    return {
        "policy": policy, "frames": frames, "accesses": done,
        "accesses_per_s": round(done / t_run), "accesses_per_cpu_s": round(done / c_run),
        "warmup_accesses_per_s": round((len(touch) + n_accesses // 4) / t_warm),
        "scan_step_median_ms": round(statistics.median(times) * 1e3, 4),
        "scan_step_p99_ms": round(sorted(times)[int(len(times) * 0.99) - 1] * 1e3, 4),
        "scans_per_s": round(len(times) / sum(times)),
        "state_bytes_per_frame": round(len(state) / frames, 2),
        "state_bytes_per_frame_without_event_ring": round(len(state_noev) / frames, 2),
        "allocated_bytes_per_frame": round(sim.allocated_bytes() / frames, 2),
        "pgscan": vm["pgscan_kswapd"] + vm["pgscan_direct"], "pgsteal": vm["pgsteal_kswapd"] + vm["pgsteal_direct"],
        "pswpout": vm["pswpout"], "workingset_refault": vm["workingset_refault_anon"] + vm["workingset_refault_file"],
        "sim_time_s": round(sim.time_ns / 1e9, 3),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", default="65536,262144,1048576,4194304")
    ap.add_argument("--policies", default=",".join(sorted(POLICIES)))
    ap.add_argument("--accesses", type=int, default=0, help="zipf accesses; default: max(8M, 4 x frames), at most 24M")
    ap.add_argument("--scans", type=int, default=300)
    args = ap.parse_args()
    for policy in args.policies.split(","):
        for frames in (int(f) for f in args.frames.split(",")):
            n = args.accesses or min(24_000_000, max(8_000_000, 4 * frames))
            print(json.dumps(bench(policy, frames, n, args.scans)), flush=True)


if __name__ == "__main__":
    main()

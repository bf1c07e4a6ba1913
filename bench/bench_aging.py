"""MGLRU aging cost: one `aging` step, and the page-table walk against the
address-space size, with and without Bloom filters.

Prints one JSON object per measurement (bench/run_all.py collects them).
No assertions: this measures, the tests check behaviour.

For each mapped size N (anonymous pages of one process, all resident):
populate, age once (no filter exists yet: every young table is walked,
which fills the filter with the dense ones), then three rounds of
"touch a hot 1/8 of the tables densely and 1 page in 16 of the others, age".
The last round is timed: wall time of one try_to_inc_max_seq() with events
off as on the run-ahead path (the walk plus inc_max_seq, whose inc_min_seq
moves the oldest generation), PTEs scanned (mm-walk stat T), tables walked (F), and
the simulated walk time charged (costs.walk_pte per PTE).

Usage: python bench/bench_aging.py [--quick]
"""
import json
import sys
import time

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

from engine import Simulator, ACCESS_DTYPE

OP_ANON = 0


def anon(pages):
    a = np.zeros(len(pages), dtype=ACCESS_DTYPE)
    a["op"] = OP_ANON
    a["owner"] = 0
    a["page"] = pages
    return a


def run_accesses(sim, acc):
    sim.set_workload(acc)
    sim.run_to_end()


def measure(mapped, bloom, rounds=3):
    ram = mapped + mapped // 8 + 4096
    sim = Simulator({"policy": "lru_gen", "ram_pages": ram, "swap_pages": 1024,
                     "watermarks": {"min": 16, "low": 32, "high": 48},
                     "lru_gen": {"bloom_filter": bloom}})
    pol = sim.policy
    run_accesses(sim, anon(np.arange(mapped, dtype=np.uint64)))
    sim.debugfs_write(f"+ 0 0 {pol.max_seq} 60 0")
    n_tables = mapped // 512
    hot_tables = np.arange(0, n_tables, 8)
    cold_tables = np.setdiff1d(np.arange(n_tables), hot_tables)
    hot = (hot_tables[:, None] * 512 + np.arange(512)[None, :]).ravel()
    sparse = (cold_tables[:, None] * 512 + np.arange(0, 512, 16)[None, :]).ravel()
    pattern = anon(np.concatenate([hot, sparse]).astype(np.uint64))
    result = None
    for r in range(rounds):
        run_accesses(sim, pattern)
        st0 = pol.mm_walk_stats()
        k0 = sim.kswapd_time_ns + sim.time_ns
        t0 = time.perf_counter()
        pol.age(60, False, True)         # try_to_inc_max_seq(max_seq, 60, force_scan=false), events off
        wall = time.perf_counter() - t0
        st1 = pol.mm_walk_stats()
        result = {
            "bench": "aging_walk", "mapped_pages": mapped, "bloom_filter": bloom,
            "wall_ms": round(wall * 1e3, 3),
            "ptes_scanned": st1["total"] - st0["total"],
            "ptes_young": st1["young"] - st0["young"],
            "tables_walked": st1["found"] - st0["found"],
            "tables_added": st1["added"] - st0["added"],
            "tables_total": n_tables,
            "sim_walk_ms": round((sim.kswapd_time_ns + sim.time_ns - k0) / 1e6, 3),
            "ns_per_pte": round(wall * 1e9 / max(1, st1["total"] - st0["total"]), 2),
        }
    return result


def aging_step(mapped=1 << 18):
    """Wall time of sim.step("aging") under memory pressure (kswapd/direct
    reclaim drive get_nr_to_scan() until it ages)."""
    ram = mapped // 2
    sim = Simulator({"policy": "lru_gen", "ram_pages": ram, "swap_pages": mapped})
    rng = np.random.Generator(np.random.PCG64(1))
    pages = np.concatenate([np.arange(mapped), rng.integers(0, mapped, 4 * mapped)]).astype(np.uint64)
    sim.set_workload(anon(pages))
    sim.run(mapped)                                  # fill memory first
    times = []
    for _ in range(5):
        a0 = sim.nr_access
        t0 = time.perf_counter()
        done = sim.step("aging")
        times.append(time.perf_counter() - t0)
        if not done:
            break
    return {"bench": "aging_step", "mapped_pages": mapped, "ram_pages": ram,
            "steps": len(times), "median_ms": round(float(np.median(times)) * 1e3, 3),
            "accesses_between": int(sim.nr_access - a0)}


def main(argv):
    sizes = [1 << 16, 1 << 18, 1 << 20] if "--quick" in argv else [1 << 16, 1 << 18, 1 << 20, 1 << 22]
    for n in sizes:
        for bloom in (True, False):
            print(json.dumps(measure(n, bloom)), flush=True)
    print(json.dumps(aging_step()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

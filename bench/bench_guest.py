"""Guest benchmark: run-ahead accesses/s on the rig's 7.3 guest (large folios, compaction).

`simulate --ram-mb N --kernel 7.3` builds this machine (engine/kernels.py
guest_machine()): ext4's large folios for read() and compaction's migrations,
whose scanner must not walk every frame when nothing is left to migrate
(docs/kernels.md "Large folios"). The workload reads three files, together 1.5x
the machine, sequentially and in turn, over and over: at least 3M reads.
Prints one JSON line per (policy, frames).
Usage: python bench/bench_guest.py [--frames 65536,1048576] [--policies lru,lru_gen]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import ACCESS_DTYPE, Simulator  # noqa: E402
from engine.kernels import guest_machine  # noqa: E402

FILES = 3


def file_loop(frames):
    pages = frames // 2                      # per file: 1.5x the machine in all
    passes = max(3, -(-3_000_000 // (pages * FILES)))
    one = np.zeros(pages * FILES, dtype=ACCESS_DTYPE)
    one["op"] = 1
    one["owner"] = np.repeat(np.arange(FILES), pages)
    one["page"] = np.tile(np.arange(pages), FILES)
    return np.tile(one, passes)


def bench(policy, frames):
    cfg = guest_machine("7.3", frames) | {"kernel": "7.3", "policy": policy, "swap_kind": "ssd",
                                          "swap_pages": frames // 4, "readahead_pages": 32}
    sim = Simulator(cfg)
    w = file_loop(frames)
    sim.set_workload(w)
    t0, c0 = time.perf_counter(), time.process_time()
    done = sim.run(len(w))
    t_run, c_run = time.perf_counter() - t0, time.process_time() - c0
    vm = sim.vmstat()
    return {"policy": policy, "frames": cfg["ram_pages"], "available_frames": frames, "accesses": done,
            "accesses_per_s": round(done / t_run), "accesses_per_cpu_s": round(done / c_run),
            "pgmigrate_success": vm["pgmigrate_success"], "pgpgin": vm["pgpgin"],
            "pgscan": vm["pgscan_kswapd"] + vm["pgscan_direct"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", default="65536,1048576")
    ap.add_argument("--policies", default="lru,lru_gen")
    args = ap.parse_args()
    for policy in args.policies.split(","):
        for frames in (int(f) for f in args.frames.split(",")):
            print(json.dumps(bench(policy, frames)), flush=True)


if __name__ == "__main__":
    main()

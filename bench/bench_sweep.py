"""A 200-cell sweep of 1 M-access cells: wall time on the local process
pool against the serial time (every cell run one after another in this
process) divided by the cores. Prints one JSON line (bench/run_all.py).

    python bench/bench_sweep.py [--cells-per-dim-seeds N]

The machine is shared with other work while this runs: the figures are
what one run saw, not a best of several.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.store import SqliteStore                       # noqa: E402
from backend.sweep import LocalExecutor, run_cell, run_sweep  # noqa: E402
from backend.sweep_spec import load_spec                    # noqa: E402

GRID = [("scenario", ["anon-loop", "file-loop", "stream-hot-file", "zipf-anon", "table-switch"]),
        ("accesses", [1_000_000]),
        ("policy", ["lru", "lru_gen"]),
        ("ram_mb", [16, 24, 32, 48, 64]),
        ("swap_ratio", [2]),
        ("seed", [1, 2, 3, 4])]


def main() -> int:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    grid = [(k, v if k != "seed" else list(range(1, seeds + 1))) for k, v in GRID]
    sw = load_spec(None, grid)
    cores = os.cpu_count() or 1
    t0 = time.perf_counter()
    serial = {}
    for c in sw.cells:
        t = time.perf_counter()
        run_cell(c.recipe)
        serial[c.key] = time.perf_counter() - t
    serial_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        store = SqliteStore(Path(d) / "reclaimlab.sqlite3")
        t0 = time.perf_counter()
        stats = run_sweep(sw, store, LocalExecutor(cores))
        pool_s = time.perf_counter() - t0
        store.close()
    assert stats["ran"] == len(sw.cells)
    print(json.dumps({
        "bench": "sweep_local_pool", "cells": len(sw.cells), "accesses_per_cell": 1_000_000,
        "cores": cores, "serial_s": round(serial_s, 2), "pool_wall_s": round(pool_s, 2),
        "ideal_s": round(serial_s / cores, 2), "efficiency": round(serial_s / cores / pool_s, 3),
        "cell_s_median": round(sorted(serial.values())[len(serial) // 2], 3),
        "cell_s_max": round(max(serial.values()), 3),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

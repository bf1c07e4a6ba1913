"""Shared helpers: small seeded workloads for the engine tests.

The example Python policies of policies/ are registered for the whole test
session, so every test parametrized over engine.POLICIES (the contract tests,
the views) runs them too, and the in-process servers offer them.
"""
from pathlib import Path

import numpy as np

import engine

EXAMPLE_POLICIES = Path(__file__).resolve().parent.parent / "policies"
engine.load_policy_dir(EXAMPLE_POLICIES)


def read_stream(pages, files=1):
    """read() each of `files` files' pages 0 .. pages - 1 once, file after file."""
    from engine import ACCESS_DTYPE

    a = np.zeros(pages * files, dtype=ACCESS_DTYPE)
    a["op"] = 1
    a["owner"] = np.repeat(np.arange(files), pages)
    a["page"] = np.tile(np.arange(pages), files)
    return a


def make_workload(seed, n, ram_pages, kind="mixed"):
    """A seeded ACCESS_DTYPE workload sized against ram_pages (vectorised, no Python loop)."""
    from engine import ACCESS_DTYPE

    rng = np.random.Generator(np.random.PCG64(seed))
    w = np.zeros(n, dtype=ACCESS_DTYPE)
    if kind == "anon-loop":            # anon set 1.3x RAM looped over 2 mms
        span = int(ram_pages * 1.3)
        idx = np.arange(n) % span
        w["op"] = 0
        w["owner"] = idx % 2
        w["page"] = idx // 2
        w["write"] = (idx % 3 == 0)
    elif kind == "file-stream-hot":    # hot file set read() repeatedly + a use-once stream
        hot = max(4, ram_pages // 4)
        is_hot = rng.random(n) < 0.5
        w["op"] = 1
        w["owner"] = np.where(is_hot, 0, 1)
        w["page"] = np.where(is_hot, rng.integers(0, hot, n), np.arange(n))
    elif kind == "mixed":              # anon + read/write + mmap/exec + exits
        ops = rng.choice(6, n, p=[0.45, 0.25, 0.08, 0.12, 0.08, 0.02])
        w["op"] = ops
        w["owner"] = np.where(ops == 0, rng.integers(0, 4, n),
                              np.where(ops == 5, rng.integers(0, 4, n), rng.integers(0, 3, n)))
        w["page"] = np.where(ops == 5, 0, (rng.zipf(1.3, n) - 1) % int(ram_pages * 0.8))
        w["write"] = (rng.random(n) < 0.3) & ((ops == 0) | (ops == 3))
    else:
        raise ValueError(kind)
    return w


WORKLOAD_KINDS = ("anon-loop", "file-stream-hot", "mixed")

"""Write a synthetic libCacheSim oracleGeneral trace: seeded bounded
Zipf(s) requests over N objects, 4 KiB each, object ids scattered over
uint64 (a multiplicative hash of the rank).

    python bench/gen_oracle_trace.py --requests 20000000 --objects 2000000 -o T.oracleGeneral
    python bench/gen_oracle_trace.py --requests 1000000000 -o - | reclaimlab simulate --trace - ...

Output goes out in chunks of 1 Mi records, so a billion requests need no
more memory than 20 million. next_access_vtime is -1 (unknown): neither
reclaimlab nor LRU/Clock use it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.trace import ORACLE_GENERAL_DTYPE  # noqa: E402
from engine.workloads import _GUIDE_BITS, _zipf_tables  # noqa: E402
from engine.sampling import zipf_invert  # noqa: E402

CHUNK = 1 << 20


def records(n_requests: int, n_objects: int, s: float, seed: int, obj_size: int = 4096):
    rng = np.random.Generator(np.random.PCG64(seed))
    cdf, guide = _zipf_tables(n_objects, s)
    for lo in range(0, n_requests, CHUNK):
        c = min(CHUNK, n_requests - lo)
        ranks = zipf_invert(cdf, guide, rng.random(c), _GUIDE_BITS).astype(np.uint64)
        r = np.empty(c, dtype=ORACLE_GENERAL_DTYPE)
        r["clock_time"] = (np.arange(lo, lo + c) // 1000).astype(np.uint32)
        r["obj_id"] = (ranks + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        r["obj_size"] = obj_size
        r["next_access_vtime"] = -1
        yield r


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=20_000_000)
    p.add_argument("--objects", type=int, default=2_000_000)
    p.add_argument("--s", type=float, default=0.99)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("-o", "--output", default="-")
    a = p.parse_args(argv)
    out = sys.stdout.buffer if a.output == "-" else open(a.output, "wb")
    try:
        for r in records(a.requests, a.objects, a.s, a.seed):
            out.write(r.tobytes())
    except BrokenPipeError:
        return 1
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

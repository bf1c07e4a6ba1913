"""The two held-out traces that write files (validation/traces/write-log and
db-write, replayed on the rig on 2026-12-05): no built-in scenario writes a
file through write() at this rate, so they are made here, deterministically.

    python validation/write_traces.py DIR     # writes DIR/write-log.trace, DIR/db-write.trace

* write-log: 300,000 records, half of them write() appending one page to
  log.bin (never reread), half read() of a hot.db of half of 64 MiB at random;
* db-write: 300,000 records over a table.db of 1.5x 64 MiB, pages drawn
  Zipf(0.99) (ranks permuted over the file), 30 % of them write().
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

RAM_PAGES = 16384        # the rig's 64 MiB available
RECORDS = 300_000


def write_log(path: Path, rng) -> None:
    hot = RAM_PAGES // 2
    with open(path, "w") as f:
        f.write("# reclaimlab trace v1\n# file 0 hot.db\n# file 1 log.bin\n")
        nxt = 0
        for _ in range(RECORDS):
            if rng.random() < 0.5:
                f.write(f"W log.bin {nxt}\n")
                nxt += 1
            else:
                f.write(f"R hot.db {int(rng.integers(0, hot))}\n")


def db_write(path: Path, rng) -> None:
    size = int(1.5 * RAM_PAGES)
    p = np.arange(1, size + 1, dtype=float) ** -0.99
    p /= p.sum()
    perm = rng.permutation(size)
    pages = perm[rng.choice(size, size=RECORDS, p=p)]
    writes = rng.random(RECORDS) < 0.3
    with open(path, "w") as f:
        f.write("# reclaimlab trace v1\n# file 0 table.db\n")
        for pg, w in zip(pages, writes):
            f.write(f"{'W' if w else 'R'} table.db {pg}\n")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    rng = np.random.default_rng(5)          # one generator, in this order
    write_log(out / "write-log.trace", rng)
    db_write(out / "db-write.trace", rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())

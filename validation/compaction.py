"""Compaction's migrations on the rig's boots, and the rate a 7.3 guest migrates at.

7.3 reads read() files into large folios, whose high-order allocations compact
memory: kcompactd and direct compaction migrate LRU folios, and each migrated
folio is added to the LRU again with its flags (folio_migrate_flags(),
folio_add_lru(); docs/kernels.md "Large folios"). Under MGLRU a referenced
file folio added that way goes to min_seq + 1 and stays resident for the rest
of a loop (docs/validation.md, 7.3's file-loop). The engine has no
fragmentation, so it cannot tell when compaction runs; a guest migrates one
folio per `compaction_migrate_every` pages read into large folios
(engine/kernels.py GUEST_COMPACTION_MIGRATE_EVERY), and `--fit` picks that rate
from GRID: the one whose simulated `pgmigrate_success` over the 7.3
calibration replays in validation/compaction.csv (both policies; the held-out
replays' rows are data, kept out of the fit) comes nearest the real total, in
log terms. 6.1 and 6.12 read no large folios and migrate (almost) nothing.

    python validation/compaction.py LOG... [--out validation/compaction.csv]
    python validation/compaction.py --fit [--jobs N]
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import zone_dma_skips as Z  # noqa: E402
CSV = HERE / "compaction.csv"
RAW = ("pgmigrate_success", "compact_stall", "compact_daemon_wake")
COLUMNS = ("run", "trace", "kernel", "policy", "tag") + RAW
GRID = (5, 10, 15, 20, 25, 30, 40, 50, 100, 200)


def load(path: Path = CSV) -> list[dict]:
    return Z.load(path)


def migrations(every: int, key: str = "7.3", jobs: int = 2) -> tuple[int, int]:
    """(simulated, real) pgmigrate_success over release `key`'s calibration
    replays in compaction.csv, each simulated as make validate does with one
    folio migrated per `every` pages read into large folios."""
    from concurrent.futures import ProcessPoolExecutor
    from validation import validate as V
    real = {r["run"]: int(r["pgmigrate_success"]) for r in load()}
    rows = [r for r in V.fitted(V.load_real(sorted(str(p) for p in (HERE / "real").glob("*.csv"))))
            if V.profile(r["kernel"]) == key and r["run"] in real]
    jobs_ = [(r["trace"], dict(V.sim_config(r, V.POLICY[r["policy"]]), compaction_migrate_every=every),
              "pgmigrate_success") for r in rows]
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        sim = sum(ex.map(Z.simulated, jobs_))
    return sim, sum(real[r["run"]] for r in rows)


miss = Z.miss


def fit(jobs: int = 2) -> int:
    return Z.nearest(GRID, lambda every: migrations(every, jobs=jobs), "7.3 pgmigrate_success")


def main(argv=None) -> int:
    args = Z.arguments(__doc__, CSV, "fit the 7.3 guest's rate instead", argv)
    if args.fit:
        print("GUEST_COMPACTION_MIGRATE_EVERY['7.3'] =", fit(args.jobs))
        return 0
    rows = Z.write_replays(args.logs, args.out, lambda p: Z.replay_row(p, RAW, missing=0), COLUMNS)
    print(f"{len(rows)} replays -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

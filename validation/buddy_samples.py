"""The buddy allocator's free blocks on the rig's boots, sampled during the replay.

These boots ran with `validation/rig-buddy-samples.patch` applied to the rig's
guest/init.sh: the sampler copies /proc/pagetypeinfo (each zone's free blocks
per migratetype and order) into its block after every vmstat sample (at
GT_SAMPLE_MS=100 here); `validation/rig-trace-pagetypeinfo.patch`'s `@@PT`
lines (pageblocks.py) sum each list over the orders, which is what the
holes need, but not which blocks an order-5 allocation finds. For the
samples taken while the replay ran (from its `@@GT MARK start` to its last
MARK), each row gives how many had no free block
of order 5 or more in ZONE_DMA32's unmovable, movable and reclaimable lists
(what `__zone_watermark_ok()` looks for a 128 KiB folio: 7.3 page_alloc.c
:3584-3630), the median of those blocks and of the zone's free pages in those
lists; and how many samples had those free pages, less the 31 a 32-page
folio cannot use, above the zone's low mark (its zoneinfo's, without a
boost), and how many of these had no such block: where only the block was
missing. Last, ZONE_DMA's one unmovable pageblock (the engine's holes of
that zone, 224 free pages when a replay starts): the median of its free pages
and of the largest order among them. docs/validation.md "kswapd's order"
reads them: the engine has no buddy orders, so its order-5 test is its free
pages alone.

    python validation/buddy_samples.py LOG... [--out validation/buddy-samples.csv]
    python validation/buddy_samples.py --sim LOG...

`--sim` prints, for each log's trace, release and policy, the median and
range of the engine's free ZONE_DMA holes (`Simulator.kswapd["hole_free"]`)
every 1,000 accesses once reclaim has begun, under the validation rule.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import zone_dma_skips as Z  # noqa: E402

CSV = HERE / "buddy-samples.csv"
PATCH = "rig-buddy-samples.patch"
ORDER = 5                                   # a 128 KiB folio: the rig's readahead
UNUSABLE = (1 << ORDER) - 1                 # __zone_watermark_unusable_free() at that order
TYPES = ("Unmovable", "Movable", "Reclaimable")   # MIGRATE_PCPTYPES
COLUMNS = ("run", "trace", "kernel", "policy", "tag", "samples", "no_block", "no_block_above_low",
           "above_low", "blocks_median", "free_median", "low", "dma_unmovable_free_median",
           "dma_unmovable_order_median")

SAMPLE = re.compile(r"^@@GT S t=([\d.]+).*?\n@@GT LRUGEN_BEGIN\n(.*?)@@GT LRUGEN_END", re.S | re.M)
MARK = re.compile(r"^@@GT MARK (\w+) t=([\d.]+)", re.M)
FREE = re.compile(r"zone\s+(\w+), type\s+(\w+)\s+([\d ]+)$", re.M)
LOW = re.compile(r"zone\s+DMA32\n\s+pages free\s+\d+\n\s+min\s+\d+\n\s+low\s+(\d+)")


def zone_free(table: str, zone: str = "DMA32", types=TYPES) -> tuple[int, int, int]:
    """(free blocks of order >= ORDER, free pages, the largest order with a free
    block, -1 for none) of `zone`'s lists of `types` in one /proc/pagetypeinfo."""
    blocks = pages = 0
    top = -1
    for z, kind, counts in FREE.findall(table):
        if z != zone or kind not in types:
            continue
        n = [int(c) for c in counts.split()]
        blocks += sum(n[ORDER:])
        pages += sum(c << o for o, c in enumerate(n))
        top = max([top] + [o for o, c in enumerate(n) if c])
    return blocks, pages, top


def row_of(path: Path) -> dict | None:
    text = path.read_text()
    if "Free pages count per migrate type" not in text:
        raise ValueError(f"{path.name}: no pagetypeinfo samples: a boot without {PATCH}")
    run = re.search(r"@@GT RUN run=(\S+)", text).group(1)
    marks = [float(t) for _, t in MARK.findall(text)]
    low = int(LOW.search(Z.block(text, "ZONEINFO")).group(1))
    tables = [table for t, table in SAMPLE.findall(text) if marks[0] <= float(t) <= marks[-1]]
    if not tables:
        return None
    during = [zone_free(table)[:2] for table in tables]
    dma = [zone_free(table, "DMA", ("Unmovable",)) for table in tables]
    above = [(b, p) for b, p in during if p - UNUSABLE > low]
    return {**Z.identity(run), "samples": len(during),
            "no_block": sum(1 for b, _ in during if b == 0),
            "no_block_above_low": sum(1 for b, _ in above if b == 0),
            "above_low": len(above),
            "blocks_median": statistics.median(b for b, _ in during),
            "free_median": statistics.median(p for _, p in during), "low": low,
            "dma_unmovable_free_median": statistics.median(p for _, p, _ in dma),
            "dma_unmovable_order_median": statistics.median(o for _, _, o in dma)}


def load(path: Path = CSV) -> list[dict]:
    return Z.load(path)


def simulated_holes(log: Path, chunk: int = 1000) -> dict:
    """The engine's free ZONE_DMA holes every `chunk` accesses once reclaim
    began, on the machine and trace of the replay `log` stands for."""
    from validation.kswapd_runs import simulator_for
    sim, holes = simulator_for(log), []
    while not sim.done:
        sim.run(chunk)
        vm = sim.vmstat()
        if vm["pgscan_kswapd"] + vm["pgscan_direct"]:
            holes.append(sim.kswapd["hole_free"]["dma"])
    return {"samples": len(holes), "median": statistics.median(holes), "min": min(holes), "max": max(holes)}


def main(argv=None) -> int:
    # --sim reads the logs' names only; without it the logs are extracted (Z.report())
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--sim", action="store_true")
    args, rest = ap.parse_known_args(argv)
    if args.sim:
        for p in map(Path, rest):
            if not p.name.endswith(".console.log"):
                print(p.name, "engine's ZONE_DMA holes free:", simulated_holes(p))
        return 0
    return Z.report(__doc__, CSV, row_of, COLUMNS,
                    lambda r: f"{r['run']:55s} {r['no_block']:>3}/{r['samples']:<3} without a block of order {ORDER}; "
                              f"{r['no_block_above_low']}/{r['above_low']} of those above low + {UNUSABLE}",
                    rest)


if __name__ == "__main__":
    sys.exit(main())

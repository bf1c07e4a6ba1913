"""ZONE_DMA's watermark boosts, and both zones' fallbacks, on the rig's boots,
counted by the kernel's tracepoints.

Where a zone's movable free pages run out, __rmqueue_fallback() takes a page
from another migratetype's pageblock and may boost the zone's watermarks
(docs/kernels.md "Watermark boost"); the runs for ZONE_DMA alone that follow
leave `pgskip_dma32` on the classic LRU and no counter on MGLRU. These
boots ran with `validation/rig-trace-dma-boosts.patch` applied to the rig's
guest/init.sh, which enables three tracepoints for the replay and prints a
summary block (`@@GT BEGIN_TRACE_SUMMARY`) at its end:

* `vmscan:mm_vmscan_wakeup_kswapd` filtered on `zid == 0`: kswapd woken for
  ZONE_DMA alone; rmqueue()'s wakeup after a boost carries no gfp flags
  ("none"; 7.3 page_alloc.c:3442-3445);
* `vmscan:mm_vmscan_kswapd_wake` on `zid == 0`: the runs that followed;
* `kmem:mm_page_alloc_extfrag`: every migratetype fallback, the ones that
  may boost (boost_watermark() from try_to_claim_block(), 7.3 :2331), per
  zone (pfn below 0x1000: ZONE_DMA), allocation order and migratetypes. A
  fallback of order 4 or more (`fo` >= pageblock_order / 2) means a claim was
  tried, and each try boosts the zone first (6.12 try_to_steal_block() :1985,
  7.3 try_to_claim_block() :2331-2332): __rmqueue_claim() looks from the
  largest order down and gives up below 4 (should_try_claim_block(), 7.3
  :2227). One of a smaller order is a single page stolen, __rmqueue_steal(),
  with no boost of its own (a claim that failed on a larger block before it
  has boosted).

    python validation/dma_boosts.py LOG... [--out validation/dma-boosts.csv]
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import zone_dma_skips as Z  # noqa: E402
CSV = HERE / "dma-boosts.csv"
COUNTS = ("wakeup_kswapd_dma", "wakeup_kswapd_dma_boost", "kswapd_wake_dma",
          "extfrag_dma", "extfrag_dma_order0", "extfrag_dma_large", "extfrag_dma32",
          "extfrag_dma_fo4", "extfrag_dma32_fo4")
RAW = ("pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct", "pgskip_dma32", "pgrefill",
       "pgalloc_dma", "pgpgin")
COLUMNS = ("run", "trace", "kernel", "policy", "tag") + COUNTS + RAW


def load(path: Path = CSV) -> list[dict]:
    return Z.load(path)


def summary(text: str) -> dict:
    """The counts of one log's TRACE_SUMMARY block."""
    lines = Z.block(text, "TRACE_SUMMARY", "rig-trace-dma-boosts.patch").splitlines()
    out = dict.fromkeys(COUNTS, 0)
    for line in lines:
        p = line.split()
        if p[0] == "wakeup_kswapd_dma_total":
            out["wakeup_kswapd_dma"] = int(p[1])
        elif p[0] == "kswapd_wake_dma":
            out["kswapd_wake_dma"] = int(p[1])
        elif p[0] == "wake_gfp" and p[2] == "none":
            out["wakeup_kswapd_dma_boost"] += int(p[1])
        elif p[0] == "extfrag":
            # extfrag ZONE aoN foN amtN fmtN fragN ownN COUNT
            n = int(p[-1])
            zone = "dma" if p[1] == "DMA" else "dma32"
            out[f"extfrag_{zone}"] += n
            if int(p[3][2:]) >= 4:
                out[f"extfrag_{zone}_fo4"] += n
            if zone == "dma":
                out["extfrag_dma_order0" if p[2] == "ao0" else "extfrag_dma_large"] += n
    return out


def row_of(path: Path) -> dict:
    return {**Z.replay_row(path, RAW), **summary(path.read_text())}


def main(argv=None) -> int:
    rows = Z.extract(__doc__, CSV, row_of, COLUMNS, argv)
    print(f"{len(rows)} boots written")
    return 0


if __name__ == "__main__":
    sys.exit(main())

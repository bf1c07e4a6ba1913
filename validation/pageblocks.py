"""The free pages of the rig's guests that lie in pageblocks of another
migratetype, and what one page-allocator fallback takes of them: the measured
facts behind each kernel profile's "pageblocks" (engine/kernels.py;
docs/kernels.md "Watermark boost").

Two kinds of rig logs feed it:

* boots run with `validation/rig-trace-pagetypeinfo.patch`, whose guest prints
  an `@@PT` line every 0.2 s of the replay with the free pages of each zone per
  migratetype (/proc/pagetypeinfo's free counts x 2^order) and its pageblocks
  per migratetype;
* boots run with `validation/rig-trace-dma-boosts.patch`, whose TRACE_SUMMARY
  counts every `mm_page_alloc_extfrag` by zone, allocation order, fallback
  order and migratetypes.

    python validation/pageblocks.py LOG... [--out validation/pageblocks.csv]

(the logs: validation/logs/session-2026-12-06-pageblocks.tar.xz's *.pt1.log,
*.pt2.log and *.tr2.log, and session-2026-12-05-dma-boosts.tar.xz's)

prints each release's facts; `facts()` derives them from the CSV:

* dma_holes: ZONE_DMA's free pages in its unmovable pageblock when a replay
  starts (the same on every boot);
* normal_holes: the median, over the release's boots, of each boot's median free
  pages in ZONE_DMA32's unmovable and reclaimable pageblocks, sampled from one
  second after the replay's start to its end;
* normal_claimable: the median of those free pages when a replay starts, less
  normal_holes: what the first fallbacks claim for the movable type;
* fallback_pages: the pages one fallback moves to the movable free list.
  6.1 moves every free page of the pageblock when the free page it found is
  of order >= pageblock_order / 2, whether or not it claims the block
  (can_steal_fallback() page_alloc.c:2725 -> steal_suitable_fallback() :2791,
  move_freepages_block() :2825): a pageblock's worth at most, 512; a smaller
  page is moved alone, 2^its order. 6.12 and 7.3 move a block's free pages
  only when they claim it, and otherwise take the one page the allocation
  asked for and leave the rest where it was (__rmqueue_steal(), 6.12 :2266,
  7.3 :2438: page_del_and_expand()): 1. The order is the median fallback
  order of the order-0 movable allocations that fell back in ZONE_DMA, over
  the release's traced boots (6.1: 5 to 9, every one).
"""
from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import dma_boosts as D  # noqa: E402
from validation import zone_dma_skips as Z  # noqa: E402
from validation.validate import profile  # noqa: E402

CSV = HERE / "pageblocks.csv"
COLUMNS = ("run", "trace", "kernel", "policy", "tag", "samples", "dma_holes_start", "dma32_holes_start",
           "dma32_holes_median",
           "dma32_unmovable_blocks_start", "dma32_unmovable_blocks_end", "dma_fallback_orders", "kswapd_wake_dma")
SETTLE_S = 1.0      # the first second of a replay fills memory; its claims settle the pageblocks


def samples(text: str) -> tuple[dict, list[dict]]:
    """A log's @@PT samples: the one taken as the replay starts, and those a
    second after it and later (the settled ones), each as {"ZONE.TYPE": pages, ...}."""
    start = None
    out = []
    for line in text.splitlines():
        if line.startswith("@@GT WL_BEGIN"):
            start = float(re.search(r"\bt=([0-9.]+)", line).group(1))
        elif line.startswith("@@PT "):
            kind, *fields = line.split()[1:]
            d = dict(f.split("=", 1) for f in fields if "=" in f)
            out.append((kind, d))
    if start is None or not out:
        raise ValueError("no @@GT WL_BEGIN line or no @@PT samples: not a pagetypeinfo log")
    first = next(d for kind, d in out if kind == "start")
    settled = [d for kind, d in out if kind == "s" and float(d["t"]) >= start + SETTLE_S]
    if not settled:
        raise ValueError("no @@PT sample a second after the replay's start")
    return first, settled


def pagetypeinfo(text: str) -> dict:
    """A log's @@PT samples: the holes at the start and their median once settled."""
    first, settled = samples(text)
    holes = [int(d["DMA32.U"]) + int(d["DMA32.R"]) for d in settled]

    def nonmovable_blocks(d):     # B.ZONE=unmovable,movable,reclaimable
        unmovable, _, reclaimable = d["B.DMA32"].split(",")
        return int(unmovable) + int(reclaimable)
    return {"samples": len(settled), "dma_holes_start": int(first["DMA.U"]) + int(first["DMA.R"]),
            "dma32_holes_start": int(first["DMA32.U"]) + int(first["DMA32.R"]),
            "dma32_holes_median": round(statistics.median(holes)),
            "dma32_unmovable_blocks_start": nonmovable_blocks(first),
            "dma32_unmovable_blocks_end": nonmovable_blocks(settled[-1])}


def fallbacks(text: str) -> dict:
    """A traced log's order-0 movable fallbacks in ZONE_DMA: how many per
    fallback order ("ORDER:COUNT;..."), and its kswapd runs for ZONE_DMA alone."""
    summary = Z.block(text, "TRACE_SUMMARY", "rig-trace-dma-boosts.patch")
    orders = {}
    for line in summary.splitlines():
        f = line.split()
        # extfrag ZONE ao<alloc order> fo<fallback order> amt<alloc mt> fmt<fallback mt> frag own COUNT
        if len(f) == 9 and f[0] == "extfrag" and f[1] == "DMA" and f[2] == "ao0" and f[4] == "amt1":
            orders[int(f[3][2:])] = orders.get(int(f[3][2:]), 0) + int(f[8])
    return {"dma_fallback_orders": ";".join(f"{o}:{n}" for o, n in sorted(orders.items())),
            "kswapd_wake_dma": D.summary(text)["kswapd_wake_dma"]}


def row_of(path: Path) -> dict:
    text = path.read_text(errors="replace")
    ident = Z.identity(re.search(r"@@GT RUN run=(\S+)", text).group(1))
    row = {**ident, **{c: "" for c in COLUMNS if c not in ident}}
    if "@@PT " not in text and "BEGIN_TRACE_SUMMARY" not in text:
        raise ValueError(f"{path}: neither @@PT samples nor a TRACE_SUMMARY block")
    if "@@PT " in text:
        row.update(pagetypeinfo(text))
    if "BEGIN_TRACE_SUMMARY" in text:
        row.update(fallbacks(text))
    return row


def load(path: Path = CSV) -> list[dict]:
    return Z.load(path)


PAGEBLOCK_ORDER = 9    # x86-64's pageblocks: 2 MiB


def fallback_pages(key: str, order: int) -> int:
    """What one fallback that found a free page of this order moves to the
    movable list on this release (the module docstring)."""
    if key != "6.1":
        return 1
    return 1 << PAGEBLOCK_ORDER if order >= PAGEBLOCK_ORDER // 2 else 1 << order


def facts(rows=None) -> dict:
    """profile -> {"dma_holes", "normal_holes", "normal_claimable", "fallback_pages"}
    from the rows (the module docstring's rules)."""
    rows = load() if rows is None else rows
    out = {}
    for key in ("6.1", "6.12", "7.3"):
        mine = [r for r in rows if profile(r["kernel"]) == key]
        starts = {int(r["dma_holes_start"]) for r in mine if r["dma_holes_start"] != ""}
        if len(starts) != 1:
            raise ValueError(f"{key}: ZONE_DMA's holes at the start differ between boots: {sorted(starts)}")
        medians = [float(r["dma32_holes_median"]) for r in mine if r["dma32_holes_median"] != ""]
        orders = [int(o) for r in mine if r["dma_fallback_orders"]
                  for o, n in (p.split(":") for p in r["dma_fallback_orders"].split(";")) for _ in range(int(n))]
        normal = round(statistics.median(medians))
        at_start = statistics.median(int(r["dma32_holes_start"]) for r in mine if r["dma32_holes_start"] != "")
        out[key] = {"dma_holes": starts.pop(), "normal_holes": normal,
                    "normal_claimable": max(0, round(at_start) - normal),
                    "fallback_pages": fallback_pages(key, statistics.median_low(orders))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=CSV)
    args = ap.parse_args(argv)
    rows = sorted((row_of(p) for p in args.logs if not p.name.endswith(".console.log")), key=lambda r: r["run"])
    with open(args.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    for key, f in facts(load(args.out)).items():
        print(key, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

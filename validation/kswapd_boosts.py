"""What wakes kswapd on the rig's guests (7.3, 6.12, 6.1), and what the zones' free pages
in pageblocks of other migratetypes (the engine's holes) have to do with it
(docs/validation.md "kswapd woken by boosts").

The logs are boots run with `validation/rig-trace-kswapd-boosts.patch`: the
`@@PT` samples of rig-trace-pagetypeinfo.patch (every 0.2 s, the free pages
of each zone per migratetype and its pageblocks per migratetype), a
WAKE_HIST block (a histogram of `mm_vmscan_wakeup_kswapd` by order, gfp flags
and zone: gfp_flags 0 is rmqueue()'s wakeup after a fallback boosted a zone,
7.3 mm/page_alloc.c:3442-3445; any other an allocation's slow path), an
EXTFRAG_HIST block (`mm_page_alloc_extfrag` by 4096-pfn bucket: pfn 0-4095 is
ZONE_DMA) and a RUN_TRACE block with every balance_pgdat() run
(validation/kswapd_runs.py reads it).

    python validation/kswapd_boosts.py LOG... [--out validation/kswapd-boosts.csv]

(the logs: validation/logs/session-2026-12-06-kswapd-boosts.tar.xz)

Per boot: `holes_median`, the median free pages of ZONE_DMA32's unmovable and
reclaimable pageblocks a second into the replay and after
(validation/pageblocks.py); `free_mean`, `dma_movable_free_mean` and
`dma32_movable_free_mean`, the mean free pages over the same samples, of
every zone and type, and of the movable type in ZONE_DMA and ZONE_DMA32;
`boost_wakes_dma32`, `boost_wakes_dma` and `alloc_wakes`, the wakeups by what
made them; `extfrag_dma32` and `extfrag_dma`, the fallbacks; `runs`,
`reclaimed`, and of those `boost_runs` / `boost_reclaimed`, kswapd's runs
whose highest_zoneidx is ZONE_DMA or ZONE_DMA32 (rmqueue()'s wakeup names the
zone that was boosted; an allocation's names the highest zone it may use,
ZONE_MOVABLE on these guests), blank on 6.1 and 6.12, which have no
balance_pgdat tracepoints; the replay's `pgsteal_kswapd` and `pgsteal_direct`
(vmstat after - before).
"""
from __future__ import annotations

import functools
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import kswapd_runs as R  # noqa: E402
from validation import pageblocks as P  # noqa: E402
from validation import zone_dma_skips as Z  # noqa: E402

CSV = HERE / "kswapd-boosts.csv"
PATCH = "rig-trace-kswapd-boosts.patch"
RAW = ("pgsteal_kswapd", "pgsteal_direct")
COUNTS = ("holes_median", "free_mean", "dma_movable_free_mean", "dma32_movable_free_mean",
          "boost_wakes_dma32", "boost_wakes_dma", "alloc_wakes", "extfrag_dma32", "extfrag_dma",
          "runs", "reclaimed", "boost_runs", "boost_reclaimed")
COLUMNS = ("run", "trace", "kernel", "policy", "tag") + COUNTS + RAW
_WAKE = re.compile(r"order:\s*\d+, gfp_flags:\s*(\d+), zid:\s*(\d+) \} hitcount:\s*(\d+)")
_EXTFRAG = re.compile(r"pfn: ~ (\d+)-\d+, alloc_migratetype:\s*\d+ \} hitcount:\s*(\d+)")
_ZONE_TYPE = re.compile(r"DMA(32)?\.[A-Z]")


def free_means(text: str) -> dict:
    """The mean free pages of the settled @@PT samples (pageblocks.py's)."""
    _, settled = P.samples(text)
    # ZONE.TYPE keys: a release shows the migratetypes it was built with (7.3 CMA, 6.12 not)
    return {"free_mean": round(statistics.mean(sum(int(v) for k, v in d.items() if _ZONE_TYPE.fullmatch(k))
                                               for d in settled)),
            "dma_movable_free_mean": round(statistics.mean(int(d["DMA.M"]) for d in settled)),
            "dma32_movable_free_mean": round(statistics.mean(int(d["DMA32.M"]) for d in settled))}


def wakes(text: str) -> dict:
    out = {"boost_wakes_dma32": 0, "boost_wakes_dma": 0, "alloc_wakes": 0}
    for gfp, zid, n in _WAKE.findall(Z.block(text, "WAKE_HIST", PATCH)):
        key = "alloc_wakes" if gfp != "0" else "boost_wakes_dma" if zid == "0" else "boost_wakes_dma32"
        out[key] += int(n)
    return out


def extfrag(text: str) -> dict:
    out = {"extfrag_dma32": 0, "extfrag_dma": 0}
    for start, n in _EXTFRAG.findall(Z.block(text, "EXTFRAG_HIST", PATCH)):
        out["extfrag_dma" if start == "0" else "extfrag_dma32"] += int(n)
    return out


def runs(text: str) -> dict:
    """kswapd's runs and what they reclaimed; blank on 6.1 and 6.12, which
    have no balance_pgdat tracepoints."""
    rs = R.runs(text)
    if not rs and "balance_pgdat_begin" not in Z.block(text, "RUN_TRACE", PATCH):
        return {k: "" for k in ("runs", "reclaimed", "boost_runs", "boost_reclaimed")}
    boosted = [r for r in rs if r["zone"] in ("DMA", "DMA32")]
    return {"runs": len(rs), "reclaimed": sum(r["reclaimed"] for r in rs),
            "boost_runs": len(boosted), "boost_reclaimed": sum(r["reclaimed"] for r in boosted)}


def row_of(path: Path) -> dict:
    text = path.read_text(errors="replace")
    return {**Z.replay_row(path, RAW), "holes_median": P.pagetypeinfo(text)["dma32_holes_median"],
            **free_means(text), **wakes(text), **extfrag(text), **runs(text)}


load = functools.partial(Z.load, path=CSV)


def main(argv=None) -> int:
    return Z.report(__doc__, CSV, row_of, COLUMNS, lambda r: (
        f"{r['run']:52s} holes {r['holes_median']:>4} free {r['free_mean']:>5} "
        f"boost wakes {r['boost_wakes_dma32']:>4} alloc wakes {r['alloc_wakes']:>5} "
        f"boost runs reclaimed {r['boost_reclaimed']:>6} of {r['reclaimed']:>6}"), argv)


if __name__ == "__main__":
    raise SystemExit(main())

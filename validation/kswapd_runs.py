"""kswapd's runs on the rig's 7.3 boots, and what its runs for ZONE_DMA alone skipped.

These boots ran with `validation/rig-trace-kswapd-runs.patch` applied to the
rig's guest/init.sh: 7.3's `vmscan:mm_vmscan_balance_pgdat_begin` / `_end`
(every balance_pgdat() run, its order, highest_zoneidx and nr_reclaimed) and
`vmscan:mm_vmscan_lru_isolate` filtered on `highest_zoneidx == 0` (every
isolate_lru_folios() call of a run for ZONE_DMA alone: the list, the folios
it passed, skipped and took), printed in a `@@GT BEGIN_RUN_TRACE` block.
6.1 and 6.12 have no balance_pgdat tracepoints. docs/validation.md "The
stats flush's phase" sets them against the simulator's runs.

    python validation/kswapd_runs.py LOG...
"""
from __future__ import annotations

import argparse
import collections
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import zone_dma_skips as Z  # noqa: E402

BEGIN = re.compile(r"balance_pgdat_begin: nid=\d+ order=(\d+) highest_zoneidx=(\w+)")
END = re.compile(r"balance_pgdat_end: .*nr_reclaimed=(\d+)")
ISOLATE = re.compile(r"^(\S+)\s.*lru_isolate: \d+ nr_scanned=(\d+) nr_skipped=(\d+) nr_taken=(\d+) lru=(\w+)")


def runs(text: str) -> list[dict]:
    """kswapd's balance_pgdat() runs of one log's RUN_TRACE block, in order; a
    run for ZONE_DMA alone carries its isolate calls' sums, per list."""
    out, cur = [], None
    for line in Z.block(text, "RUN_TRACE", "rig-trace-kswapd-runs.patch").splitlines():
        if b := BEGIN.search(line):
            cur = {"order": int(b.group(1)), "zone": b.group(2), "isolates": 0, "scanned": 0,
                   "skipped": 0, "taken": 0, "skipped_by_list": collections.Counter()}
        elif (e := END.search(line)) and cur is not None:
            out.append({**cur, "reclaimed": int(e.group(1))})
            cur = None
        elif (i := ISOLATE.search(line)) and cur is not None and i.group(1).startswith("kswapd"):
            scanned, skipped, taken = (int(i.group(k)) for k in (2, 3, 4))
            cur["isolates"] += 1
            cur["scanned"] += scanned
            cur["skipped"] += skipped
            cur["taken"] += taken
            if skipped:
                cur["skipped_by_list"][i.group(5)] += skipped
    return out


def summary(rs: list[dict]) -> dict:
    dma = [r for r in rs if r["zone"] == "DMA"]
    by_list = collections.Counter()
    for r in dma:
        by_list.update(r["skipped_by_list"])
    return {"runs": len(rs), "dma_runs": len(dma),
            "dma_skipped": sum(r["skipped"] for r in dma),
            "dma_skipped_median": statistics.median(r["skipped"] for r in dma) if dma else 0,
            "dma_reclaimed_median": statistics.median(r["reclaimed"] for r in dma) if dma else 0,
            "dma_skipped_by_list": dict(by_list)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logs", nargs="+", type=Path)
    args = ap.parse_args(argv)
    for p in args.logs:
        if not p.name.endswith(".console.log"):
            print(p.name, summary(runs(p.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

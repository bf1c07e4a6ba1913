"""What becomes of rmqueue()'s wakeups of kswapd for a boosted ZONE_DMA on the
rig's guests: how long kswapd takes to run after one, and how many of them turn
into a run for ZONE_DMA alone rather than into a run for every zone (docs/
validation.md "kswapd's wakeup after a boost").

The logs are boots run with `validation/rig-trace-isolate-dma.patch`, whose
RUN_TRACE block holds every `mm_vmscan_kswapd_wake`, every
`mm_vmscan_wakeup_kswapd` for ZONE_DMA (zid 0; the tracepoint fires only when
kswapd was asleep, after wakeup_kswapd()'s waitqueue test) and every
`mm_vmscan_lru_isolate` of a run for ZONE_DMA alone (highest_zoneidx 0).

    python validation/kswapd_wake.py LOG... [--out validation/kswapd-wake.csv]

(the logs: validation/logs/session-2026-12-06-kswapd-wake.tar.xz,
session-2026-12-06-kswapd-wake-128m.tar.xz, and the kr1 boot of
session-2026-12-06-pageblocks.tar.xz)

Per boot: `boost_wakeups`, the rmqueue() wakeups (gfp_flags none) of a sleeping
kswapd for ZONE_DMA; `wake_latency_us`, the median time from one to the next
`mm_vmscan_kswapd_wake` (kswapd running balance_pgdat()); `dma_runs`, the runs
(from one `mm_vmscan_kswapd_wake` to the next) with an isolation for ZONE_DMA
alone, and `dma_run_skipped`, the folios those isolations skipped; and the
replay's `pgskip_dma32` and `pgalloc_dma` (vmstat after - before);
`high_order_wakes`, the `mm_vmscan_kswapd_wake`s of an order above 0 (an
allocation of a large folio failed its watermark check, docs/validation.md
"kswapd at 128 MiB").
"""
from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import zone_dma_skips as Z  # noqa: E402

CSV = HERE / "kswapd-wake.csv"
RAW = ("pgskip_dma32", "pgalloc_dma")
COUNTS = ("boost_wakeups", "wake_latency_us", "dma_runs", "dma_run_skipped", "high_order_wakes")
COLUMNS = ("run", "trace", "kernel", "policy", "tag") + COUNTS + RAW
_LINE = re.compile(r"^\S+\s+([0-9.]+): (\w+): (.*)$")


def runs(trace: str) -> dict:
    """COUNTS of one RUN_TRACE block (the module docstring)."""
    woken = None
    latency = []
    boost = dma_runs = skipped = high_order = 0
    run_is_dma = False
    for line in trace.splitlines():
        m = _LINE.match(line.strip())
        if m is None:
            continue
        t, event, fields = float(m.group(1)), m.group(2), m.group(3)
        if event == "wakeup_kswapd" and "gfp_flags=none" in fields:
            boost += 1
            if woken is None:
                woken = t
        elif event == "kswapd_wake":
            high_order += int(re.search(r"order=(\d+)", fields).group(1)) > 0
            if woken is not None:
                latency.append((t - woken) * 1e6)
                woken = None
            run_is_dma = False
        elif event == "lru_isolate":
            if not run_is_dma:
                dma_runs += 1
                run_is_dma = True
            skipped += int(re.search(r"nr_skipped=(\d+)", fields).group(1))
    return {"boost_wakeups": boost, "wake_latency_us": round(statistics.median(latency)) if latency else "",
            "dma_runs": dma_runs, "dma_run_skipped": skipped, "high_order_wakes": high_order}


def row_of(path: Path) -> dict:
    return {**Z.replay_row(path, RAW),
            **runs(Z.block(path.read_text(errors="replace"), "RUN_TRACE", "rig-trace-isolate-dma.patch"))}


def load(path: Path = CSV) -> list[dict]:
    return Z.load(path)


def main(argv=None) -> int:
    return Z.report(__doc__, CSV, row_of, COLUMNS, lambda r: (
        f"{r['run']:52s} boost wakeups {r['boost_wakeups']:>4} latency {r['wake_latency_us']:>5} us "
        f"runs for ZONE_DMA alone {r['dma_runs']:>3} skipping {r['dma_run_skipped']:>6} "
        f"high-order wakes {r['high_order_wakes']:>4}"), argv)


if __name__ == "__main__":
    raise SystemExit(main())

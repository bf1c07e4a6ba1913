"""The pages a rig guest's per-CPU free lists hand back once reclaim runs: the
measured facts behind engine/kernels.py GUEST_PCP_PAGES (docs/kernels.md
"Per-CPU lists").

Pages on a per-CPU list are in no figure a replay's start lines give:
not in NR_FREE_PAGES (so not in MemFree, MemAvailable or a watermark check) and
on no LRU. Since v6.7 nr_pcp_high() lets each list grow to `high_max` on frees
and trims it to `high_min` once kswapd's balance_pgdat() has set
ZONE_RECLAIM_ACTIVE, and what it held above goes back to the buddy lists. Each
`@@GT MARK` line of a rig log has nr_free_pages and the LRU lists; their sum
(with nr_unevictable) grows by those pages between the replay's start and its
marks after the first reclaim. Per boot, the growth is the median of the
later marks' sums less the start's; per release and guest size, the median
over the boots with the rig's default knobs (`r1`, `r2`, ..., and the second
host's `h2`, `h2s1g`).

    python validation/pcp_pages.py LOG... [--out validation/pcp-pages.csv]

(the logs: /work/shared/realkernel/calibration/logs and every
validation/logs/*.tar.xz, extracted) writes one row per boot, beside the rows
the CSV holds for boots not given, and prints each release's medians by size;
`facts()` derives them from the CSV.
"""
from __future__ import annotations

import csv
import glob
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import zone_dma_skips as Z  # noqa: E402
from validation.validate import default_knobs, load_real, profile, ram_mb  # noqa: E402

CSV = HERE / "pcp-pages.csv"
COLUMNS = ("run", "trace", "kernel", "policy", "tag", "available_mb", "marks", "start_pages", "growth_pages")
SUMMED = ("nr_free_pages", "nr_active_file", "nr_inactive_file", "nr_active_anon", "nr_inactive_anon",
          "nr_unevictable")


def mark_sums(text: str) -> list[int]:
    """Free pages, LRU lists and unevictable pages at each `@@GT MARK` line, in order."""
    out = []
    for line in text.splitlines():
        if line.startswith("@@GT MARK "):
            kv = dict(x.split("=", 1) for x in line.split()[3:] if "=" in x)
            if all(k in kv for k in SUMMED):
                out.append(sum(int(kv[k]) for k in SUMMED))
    return out


def row_of(path: Path, real: dict) -> dict | None:
    run = path.name[:-len(".log")]
    r = real.get(run)
    if r is None or not default_knobs(r):
        return None
    sums = mark_sums(path.read_text(errors="replace"))
    if len(sums) < 3:
        return None
    return {"run": run, "trace": r["trace"], "kernel": r["kernel"], "policy": r["policy"], "tag": r["tag"],
            "available_mb": ram_mb(r), "marks": len(sums), "start_pages": sums[0],
            "growth_pages": round(statistics.median(sums[1:]) - sums[0])}


def load(path: Path = CSV) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def facts(rows) -> dict:
    """release -> {available MiB: the median growth of its boots, pages}."""
    by = {}
    for r in rows:
        by.setdefault(profile(r["kernel"]), {}).setdefault(int(r["available_mb"]), []).append(int(r["growth_pages"]))
    return {key: {mb: round(statistics.median(v)) for mb, v in sorted(sizes.items())}
            for key, sizes in sorted(by.items())}


def main(argv=None) -> int:
    real = {r["run"]: r for r in load_real(sorted(glob.glob(str(HERE / "real" / "*.csv"))))}
    for key, sizes in facts(Z.extract(__doc__, CSV, lambda log: row_of(log, real), COLUMNS, argv)).items():
        print(key, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

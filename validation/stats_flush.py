"""When the rig's guests flush their memcg stats, measured with the function tracer.

6.12's and 7.3's reclaim reads list sizes and counters from the memcg's copy,
which flush_memcg_stats_dwork() refreshes every FLUSH_TIME (2 s; docs/kernels.md
"Classic LRU"). The engine needs to know where in that cycle a replay starts.
These boots ran with `validation/rig-trace-stats-flush.patch` applied to the
rig's guest/init.sh: the function tracer on flush_memcg_stats_dwork() and
mem_cgroup_flush_stats() (the ratelimited path's flush, when the worker is a
cycle late), and a trace_marker at the replay's start and end, printed in a
`@@GT BEGIN_FLUSH_TRACE` block (their logs:
validation/logs/session-2026-12-06-stats-flush.tar.xz).

Per boot: how long after the replay's start the first periodic flush ran
(`first_flush_s`), the mean period between flushes, and how many flushes of
either kind ran during the replay.

    python validation/stats_flush.py LOG... [--out validation/stats-flush.csv]
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from engine.kernels import FLUSH_TIME_MS  # noqa: E402
from validation import zone_dma_skips as Z  # noqa: E402
CSV = HERE / "stats-flush.csv"
COLUMNS = ("run", "trace", "kernel", "policy", "tag", "replay_s", "first_flush_s", "period_s",
           "flushes_periodic", "flushes_ratelimited")


def load(path: Path = CSV) -> list[dict]:
    return Z.load(path)


def flushes(text: str) -> dict:
    """The replay's window and the flushes of one log's FLUSH_TRACE block."""
    start = end = None
    periodic, ratelimited = [], []
    for line in Z.block(text, "FLUSH_TRACE", "rig-trace-stats-flush.patch").splitlines():
        t = re.search(r"\s(\d+\.\d+): (\S+?):? ", line + " ")
        if not t:
            continue                      # the filter's function names
        when, what = float(t.group(1)), t.group(2)
        if what == "tracing_mark_write":
            if "replay_start" in line:
                start = when
            elif "replay_end" in line:
                end = when
        elif what == "flush_memcg_stats_dwork":
            periodic.append(when)
        elif what == "mem_cgroup_flush_stats":
            ratelimited.append(when)
    if start is None or end is None:
        raise ValueError("FLUSH_TRACE has no replay_start/replay_end marker")
    after = [t for t in periodic if t >= start]
    if not after:
        raise ValueError("no periodic flush after the replay started")
    gaps = [b - a for a, b in zip(periodic, periodic[1:])]
    return {"replay_s": round(end - start, 3), "first_flush_s": round(after[0] - start, 3),
            "period_s": round(sum(gaps) / len(gaps), 3) if gaps else "",
            "flushes_periodic": sum(start <= t <= end for t in periodic),
            "flushes_ratelimited": sum(start <= t <= end for t in ratelimited)}


def row_of(path: Path) -> dict:
    text = path.read_text()
    return {**Z.identity(re.search(r"@@GT RUN run=(\S+)", text).group(1)), **flushes(text)}


def share(row) -> float:
    """One boot's delay of the first flush after the replay's start, as a share
    of the kernel's period (FLUSH_TIME)."""
    return float(row["first_flush_s"]) * 1000 / FLUSH_TIME_MS


def first_flush_share(rows) -> float:
    """The mean of share() over the boots."""
    return sum(share(r) for r in rows) / len(rows)


def main(argv=None) -> int:
    rows = Z.extract(__doc__, CSV, row_of, COLUMNS, argv)
    print(f"{len(rows)} boots written; first flush a mean {first_flush_share(rows):.3f} "
          f"of FLUSH_TIME after the replay's start")
    return 0


if __name__ == "__main__":
    sys.exit(main())

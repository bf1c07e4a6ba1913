"""kswapd's runs on the rig's 7.3 boots, and what its runs for ZONE_DMA alone skipped.

These boots ran with `validation/rig-trace-kswapd-runs.patch` applied to the
rig's guest/init.sh: 7.3's `vmscan:mm_vmscan_balance_pgdat_begin` / `_end`
(every balance_pgdat() run, its order, highest_zoneidx and nr_reclaimed) and
`vmscan:mm_vmscan_lru_isolate` filtered on `highest_zoneidx == 0` (every
isolate_lru_folios() call of a run for ZONE_DMA alone: the list, the folios
it passed, skipped and took), printed in a `@@GT BEGIN_RUN_TRACE` block.
6.1 and 6.12 have no balance_pgdat tracepoints. docs/validation.md "The
stats flush's phase" sets them against the simulator's runs.

`--sim` also runs the simulator on each log's trace under the validation rule
(validate.py's sim_config(), the release and policy the log's name gives) and
prints the same summary of its kswapd runs, read from its event log: a run is
a `mm_vmscan_kswapd_wake` to the next `mm_vmscan_kswapd_sleep` (or wake), for
ZONE_DMA alone when the wake says so; skipped are the folios
isolate_lru_folios() put back for their zone (`ZONE_SKIP`), per list, and
reclaimed the folios freed meanwhile (`pgsteal`, a direct reclaimer's
included). The simulator counts folios where the tracepoints count pages:
the same on traces of anon and 4 KiB file folios only.

    python validation/kswapd_runs.py [--sim] LOG...
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
    working = [r for r in dma if r["skipped"] or r["reclaimed"]]
    by_list = collections.Counter()
    for r in dma:
        by_list.update(r["skipped_by_list"])
    return {"runs": len(rs), "dma_runs": len(dma),
            "dma_skipped": sum(r["skipped"] for r in dma),
            "dma_skipped_median": statistics.median(r["skipped"] for r in dma) if dma else 0,
            "dma_reclaimed_median": statistics.median(r["reclaimed"] for r in dma) if dma else 0,
            "dma_skipped_by_list": dict(by_list),
            # a boosted run that finds ZONE_DMA balanced reclaims without swap and,
            # with no file folio of the zone to take, stops at once
            "dma_runs_working": len(working),
            "working_skipped_median": statistics.median(r["skipped"] for r in working) if working else 0,
            "working_reclaimed_median": statistics.median(r["reclaimed"] for r in working) if working else 0}


LISTS = ("inactive_anon", "active_anon", "inactive_file", "active_file")


def sim_runs(sim, chunk: int = 1000) -> list[dict]:
    """The simulator's kswapd runs over the rest of its workload, with the fields
    of runs()'s that summary() reads (`order` is always 0: the engine's kswapd
    balances for order 0)."""
    from engine import names
    wake, sleep = names.EVENT_KINDS.index("mm_vmscan_kswapd_wake"), names.EVENT_KINDS.index("mm_vmscan_kswapd_sleep")
    putback, steal = names.EVENT_KINDS.index("putback"), names.EVENT_KINDS.index("pgsteal")
    zone_skip = names.REASON_NAMES.index("ZONE_SKIP")
    out, cur, seq = [], None, sim.event_seq
    while not sim.done:
        sim.step("access", chunk)
        ev = sim.events_since(seq)
        if len(ev) and ev["seq"][0] != seq:
            raise RuntimeError("the event ring wrapped: raise events_capacity or lower chunk")
        seq = sim.event_seq
        for kind, reason, index, src in zip(ev["kind"], ev["reason"], ev["index"], ev["src"]):
            if kind == wake or kind == sleep:
                if cur is not None:
                    out.append(cur)
                cur = None if kind == sleep else {
                    "order": 0, "zone": "DMA" if index == 0 else "Normal", "skipped": 0, "reclaimed": 0,
                    "skipped_by_list": collections.Counter()}
            elif cur is None:
                continue
            elif kind == putback and reason == zone_skip:
                cur["skipped"] += 1
                cur["skipped_by_list"][LISTS[src]] += 1
            elif kind == steal:
                cur["reclaimed"] += 1
    if cur is not None:
        out.append(cur)
    return out


def simulator_for(log: Path, **config):
    """The simulator on the machine of the validation rule for the replay `log`
    stands for (its trace, release and policy), the trace loaded; `config`
    added to the machine's."""
    from engine import Simulator
    from engine.trace import read_trace
    from validation import validate as V
    try:
        who = Z.identity(log.name.removesuffix(".log"))
    except AttributeError:      # no match: not a rig run's name
        raise SystemExit(f"{log.name} is not a replay log (TRACE.RELEASE.POLICY.TAG.log)") from None
    trace, release, policy = who["trace"], who["kernel"], who["policy"]
    rows = [r for r in V.load_real(sorted((V.HERE / "real").glob("*.csv")))
            if r["trace"] == trace and V.profile(r["kernel"]) == V.profile(release) and V.is_default(r)]
    if not rows:
        raise SystemExit(f"no default boot of {trace} on {release} in validation/real to take the machine from")
    # the rule's machine is the same for every default boot of a trace and release
    sim = Simulator({**V.sim_config(rows[0], V.POLICY[policy]), **config})
    sim.set_workload(read_trace(str(V.trace_path(trace))).accesses)
    return sim


def simulated(log: Path) -> dict:
    """summary() of the simulator's runs on the replay `log` stands for."""
    return summary(sim_runs(simulator_for(log, events_capacity=1 << 22)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--sim", action="store_true", help="the simulator's runs on each log's trace too")
    args = ap.parse_args(argv)
    for p in args.logs:
        if not p.name.endswith(".console.log"):
            print(p.name, summary(runs(p.read_text())))
            if args.sim:
                print("  simulated", simulated(p))
    return 0


if __name__ == "__main__":
    sys.exit(main())

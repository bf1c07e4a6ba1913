"""A replay's lru_gen samples beside the simulator's at the same record counts.

The rig's logs hold a `@@GT LRUGEN_BEGIN..END` block once a second (the
debugfs lru_gen text: per generation `seq age_ms anon_pages file_pages`; the
second column is jiffies_to_msecs(jiffies - birth), the generation's age) and
`@@GT MARK`/`@@GT S` lines with the time (and, on MARK lines, the record
count). Each sample is placed at the record count interpolated between the
MARK lines around it; the simulator runs the replay's trace under the
validation rule (validate.py's sim_config()) to each of those counts and
prints its own generations' pages of the same type. docs/kernels.md "Large
folios" and docs/validation.md quote these for stream-hot-file, file-loop and
anon-loop.

    python validation/lru_gen_samples.py TRACE POLICY LOG [--kernel K] [--type file|anon]
        [--pace engine|rig] [--large-folios 0|1] [--births]

POLICY is the engine's (lru_gen); LOG a replay log of the release K (7.3 by
default), e.g.
/work/shared/realkernel/calibration/logs/file-loop.7.3.4+deb13-amd64.mglru.r1.log.
--births prints when each generation was born instead: the real one at the
record count of the median of its samples' time - age, the simulator's at its
inc_max_seq() (the aging's rhythm, docs/validation.md "What is not met").
"""
from __future__ import annotations

import argparse
import bisect
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from validation import validate as V  # noqa: E402

COLUMN = {"anon": 2, "file": 3}


def _parse(lines) -> tuple[list[tuple[float, int]], list[tuple[float, list[tuple[int, int, int, int]]]]]:
    """The MARK lines' (time, records) and each sample's (time, [(seq, age_ms, anon, file)])."""
    marks, samples, cur, t_last = [], [], None, None
    for line in lines:
        if line.startswith("@@GT MARK") or line.startswith("@@GT S "):
            t_last = float(re.search(r" t=([\d.]+)", line).group(1))
            m = re.search(r" rec=(\d+)", line)
            if m:
                marks.append((t_last, int(m.group(1))))
        if line.startswith("@@GT LRUGEN_BEGIN"):
            cur = []
        elif line.startswith("@@GT LRUGEN_END"):
            samples.append((t_last, cur))
            cur = None
        elif cur is not None:
            f = line.split()
            if len(f) == 4 and f[0].isdigit():
                cur.append((int(f[0]), int(f[1]), int(f[2]), int(f[3])))
    return marks, samples


def record_at(marks: list[tuple[float, int]], t: float) -> int | None:
    # the record count at time t, linear between the MARK lines around it
    ts = [m[0] for m in marks]
    i = bisect.bisect_left(ts, t)
    if i == 0 or i >= len(marks):
        return None
    (t0, r0), (t1, r1) = marks[i - 1], marks[i]
    return round(r0 + (r1 - r0) * (t - t0) / max(t1 - t0, 1e-9))


def real_samples(path: str, column: int = COLUMN["file"]) -> list[tuple[int, list[tuple[int, int]]]]:
    """[(record count, [(seq, pages), ...]), ...] from one replay log; column 2
    is the anon pages, 3 the file pages."""
    with open(path, errors="replace") as f:
        marks, samples = _parse(f)
    out = []
    for t, gens in samples:
        rec = record_at(marks, t)
        if rec is not None:
            out.append((rec, [(g[0], g[column]) for g in gens]))
    return out


def real_births(lines) -> list[tuple[int, int | None]]:
    """[(seq, record count at its birth), ...]: each sample gives a generation's
    birth as the sample's time less its age; the median over its samples, at the
    record count interpolated between the MARK lines (None before the first)."""
    marks, samples = _parse(lines)
    born: dict[int, list[float]] = {}
    for t, gens in samples:
        for seq, age_ms, _anon, _file in gens:
            born.setdefault(seq, []).append(t - age_ms / 1000.0)
    return [(seq, record_at(marks, statistics.median(born[seq]))) for seq in sorted(born)]


def sim_births(sim) -> list[tuple[int, int]]:
    """[(seq, record count), ...] of the simulator's inc_max_seq() over the rest of its workload."""
    from engine.names import EVENT_KINDS
    kind = EVENT_KINDS.index("inc_max_seq")
    out, seq = [], 0
    while not sim.done:
        sim.step("access", 500)
        ev = sim.events_since(seq)
        if len(ev):
            seq = int(ev["seq"][-1]) + 1
            out += [(int(e["index"]), int(e["nr_access"])) for e in ev if e["kind"] == kind]
    return out


def main() -> int:
    from engine import Simulator
    from engine.lru_gen_debugfs import parse_lru_gen
    from engine.trace import read_trace
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("policy")
    ap.add_argument("log")
    ap.add_argument("--kernel", default="7.3", help="the profile of the log's release (6.1, 6.12, 7.3)")
    ap.add_argument("--type", choices=tuple(COLUMN), default="file")
    ap.add_argument("--pace", choices=("engine", "rig"), default=V.PACE)
    ap.add_argument("--large-folios", type=int, choices=(0, 1), default=1)
    ap.add_argument("--births", action="store_true", help="when each generation was born, real and simulated")
    args = ap.parse_args()
    V.PACE = args.pace
    rows = [r for r in V.load_real(sorted((V.HERE / "real").glob("*.csv")))
            if r["trace"] == args.trace and V.profile(r["kernel"]) == args.kernel and V.default_knobs(r)]
    cfg = V.sim_config(rows[0], args.policy)
    if args.kernel == "7.3":
        cfg["large_folios"] = args.large_folios
    sim = Simulator(cfg)
    sim.set_workload(read_trace(str(V.trace_path(args.trace))).accesses)
    if args.births:
        with open(args.log, errors="replace") as f:
            real = dict(real_births(f))
        simulated = dict(sim_births(sim))
        for seq in sorted(set(real) | set(simulated)):
            r, s = real.get(seq), simulated.get(seq)
            print(f"seq {seq:3d}  real {'-' if r is None else r:>7}  sim {'-' if s is None else s:>7}")
        return 0
    done = 0
    for rec, gens in real_samples(args.log, COLUMN[args.type]):
        if rec > done:
            sim.run(rec - done)
            done = rec
        g = parse_lru_gen(sim.lru_gen_text())["memcgs"][0]["nodes"][0]["gens"]
        real = " ".join(f"{s}:{n}" for s, n in gens)
        simt = " ".join(f"{x['seq']}:{x['nr_pages'][COLUMN[args.type] - 2]}" for x in g)
        print(f"rec {rec:6d}  real {real:40s} sim {simt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

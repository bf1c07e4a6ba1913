"""A replay's lru_gen samples beside the simulator's at the same record counts.

The rig's logs hold a `@@GT LRUGEN_BEGIN..END` block once a second (the
debugfs lru_gen text: per generation `seq birth_ms anon_pages file_pages`) and
`@@GT MARK`/`@@GT S` lines with the time (and, on MARK lines, the record count).
Each sample is placed at the record count interpolated between the MARK lines
around it; the simulator runs the replay's trace under the validation rule
(validate.py's sim_config()) to each of those counts and prints its own
generations' file pages. docs/kernels.md "Large folios" and docs/validation.md
quote these for stream-hot-file and file-loop.

    python validation/lru_gen_samples.py TRACE POLICY LOG [--large-folios 0|1]

POLICY is the engine's (lru_gen); LOG a replay log of the 7.3 rig, e.g.
/work/shared/realkernel/calibration/logs/file-loop.7.3.4+deb13-amd64.mglru.r1.log.
"""
from __future__ import annotations

import argparse
import bisect
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from validation import validate as V  # noqa: E402


def real_samples(path: str) -> list[tuple[int, list[tuple[int, int]]]]:
    """[(record count, [(seq, file pages), ...]), ...] from one replay log."""
    marks, samples, cur, t_last = [], [], None, None
    for line in open(path, errors="replace"):
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
                cur.append((int(f[0]), int(f[3])))
    ts = [m[0] for m in marks]
    out = []
    for t, gens in samples:
        i = bisect.bisect_left(ts, t)
        if i == 0 or i >= len(marks):
            continue
        (t0, r0), (t1, r1) = marks[i - 1], marks[i]
        out.append((int(r0 + (r1 - r0) * (t - t0) / max(t1 - t0, 1e-9)), gens))
    return out


def main() -> int:
    from engine import Simulator
    from engine.lru_gen_debugfs import parse_lru_gen
    from engine.trace import read_trace
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("policy")
    ap.add_argument("log")
    ap.add_argument("--large-folios", type=int, choices=(0, 1), default=1)
    args = ap.parse_args()
    rows = [r for r in V.load_real(sorted((V.HERE / "real").glob("*.csv")))
            if r["trace"] == args.trace and r["kernel"].startswith("7.3.") and V.is_default(r)]
    cfg = V.sim_config(rows[0], args.policy) | {"large_folios": args.large_folios}
    sim = Simulator(cfg)
    sim.set_workload(read_trace(str(V.trace_path(args.trace))).accesses)
    done = 0
    for rec, gens in real_samples(args.log):
        if rec > done:
            sim.run(rec - done)
            done = rec
        g = parse_lru_gen(sim.lru_gen_text())["memcgs"][0]["nodes"][0]["gens"]
        real = " ".join(f"{s}:{n}" for s, n in gens)
        simt = " ".join(f"{x['seq']}:{x['nr_pages'][1]}" for x in g)
        print(f"rec {rec:6d}  real {real:40s} sim {simt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

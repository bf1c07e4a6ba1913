"""A replay's once-a-second counters beside the simulator's at the same record counts.

The rig's logs hold `@@GT S` lines once a second and `@@GT MARK` lines at the
start, after each tenth of the records (`rec=`) and at the end; an S line
carries only the counters that changed since the line before it. Each line is
placed at the record count interpolated between the MARK lines around it; the
simulator runs the replay's trace under the validation rule (validate.py's
sim_config()) and the log's policy to each of those counts. Printed as
real/sim: by default the file LRU lists, pgactivate, pgdeactivate,
workingset_refault/activate/restore_file, pgscan_file, pgsteal_file and
pgrefill; `--keys` names any other /proc/vmstat fields of the MARK lines
(pgscan_kswapd, pgscan_direct, pswpout, nr_free_pages, ...). An event counter
is counted from the replay's start (the MARK start line: the boot's own
drop_caches deactivations are not the workload's); an `nr_` gauge is shown as
it stands. docs/validation.md quotes it for hot-reread-stream, zipf-mixed-s1
and desktop.

    python validation/lru_samples.py TRACE LOG [--keys k1,k2,...] [--marks]

LOG is a replay log of the rig, e.g.
/work/shared/realkernel/calibration/logs/desktop.7.3.4+deb13-amd64.mglru.r1.log;
its name gives the release (so the profile), the policy and the boot (r1,
nolf, ...). --marks prints the MARK lines only (every tenth of the records).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from validation import validate as V  # noqa: E402
from validation.lru_gen_samples import record_at  # noqa: E402

KEYS = ("nr_active_file", "nr_inactive_file", "pgactivate", "pgdeactivate", "workingset_refault_file",
        "workingset_activate_file", "workingset_restore_file", "pgscan_file", "pgsteal_file", "pgrefill")
SHORT = ("active", "inactive", "pgactivate", "pgdeact", "refault", "ws_activate", "ws_restore", "scan_file",
         "steal_file", "pgrefill")


def real_samples(path: str, marks_only: bool = False) -> list[tuple[int, dict]]:
    """[(record count, {counter: value}), ...] from one replay log; the event
    counters (all but the `nr_` gauges, `t` and `rec`) less their value at the
    MARK start line."""
    marks, samples, last = [], [], {}
    for line in open(path, errors="replace"):
        if not (line.startswith("@@GT MARK") or (line.startswith("@@GT S ") and not marks_only)):
            continue
        d = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)
        last.update(d)              # an S line has only what changed
        t = float(d["t"])
        if "rec" in d:
            marks.append((t, int(d["rec"])))
        samples.append((t, dict(last)))
    at_mark = dict(marks)
    start = samples[0][1] if samples else {}
    out = []
    for t, d in samples:
        rec = at_mark[t] if t in at_mark else record_at(marks, t)
        if rec is not None:
            out.append((rec, {k: v if k.startswith("nr_") or k in ("t", "rec") else
                              str(int(v) - int(start.get(k, 0))) for k, v in d.items()}))
    return out


def main() -> int:
    from engine import Simulator
    from engine.trace import read_trace
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("log")
    ap.add_argument("--keys", help="comma-separated /proc/vmstat fields of the log's MARK lines")
    ap.add_argument("--marks", action="store_true", help="the MARK lines only (each tenth of the records)")
    args = ap.parse_args()
    # the rig names a log TRACE.RELEASE.POLICY.TAG.log
    m = re.fullmatch(re.escape(args.trace) + r"\.(.+)\.(classic|mglru)\.([^.]+)\.log", Path(args.log).name)
    if not m:
        raise SystemExit(f"{args.log} is not a replay log of {args.trace} (TRACE.RELEASE.POLICY.TAG.log)")
    keys = tuple(args.keys.split(",")) if args.keys else KEYS
    short = tuple(k[:15] for k in keys) if args.keys else SHORT
    rows = [r for r in V.load_real(sorted((V.HERE / "real").glob("*.csv")))
            if r["trace"] == args.trace and V.profile(r["kernel"]) == V.profile(m.group(1))
            and r["tag"] == m.group(3)]
    if not rows:
        raise SystemExit(f"no replay of {args.trace} on {m.group(1)} ({m.group(3)}) in validation/real")
    sim = Simulator(V.sim_config(rows[0], V.POLICY[m.group(2)]))
    sim.set_workload(read_trace(str(V.trace_path(args.trace))).accesses)
    print("records  " + " ".join(f"{s:>15s}" for s in short) + "   (real/sim)")
    done = 0
    for rec, d in real_samples(args.log, args.marks):
        if rec > done:
            sim.run(rec - done)
            done = rec
        v = sim.vmstat()
        print(f"{rec:7d}  " + " ".join(f"{int(d.get(k, -1)):>7d}/{int(v.get(k, -1)):<7d}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())

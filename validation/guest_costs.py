"""The rig's TCG guests measured: what an access, a fault, an I/O and a scanned
folio cost on the clock of the replaying process (docs/validation.md "The
guests' pace", engine/kernels.py GUEST_COSTS).

Every replay log has a `@@GT MARK` line at its start, after each tenth of its
records and at its end, with the time and the vmstat counters. The ten
intervals between two marks give two kinds of equation, one per clock the
engine keeps:

* the replaying process: an interval's wall time is the sum, over what the
  process did in it, of a count times a cost. The counts are the trace's own
  records between the two marks (A accesses, M/X accesses, R/W calls), the
  process's minor faults (self_minflt), pswpin, the pages read from the data
  disk (pgpgin/4 - pswpin), the folios direct reclaim scanned (pgscan_direct)
  and pswpout;
* kswapd: in an interval with direct reclaim (allocstall rose) kswapd was
  awake and behind all along, so the interval's wall time is what it scanned
  (pgscan_kswapd) times the same scan cost.

The costs are the non-negative least-squares solution of both sets together,
over every interval of every replay, the three kernels in one table (fitted
one by one, the kernels' tables are unstable: terms trade places and drop to
0 between them; docs/validation.md "The guests' pace").

The engine's own pace is faster: `engine-pace` simulates every fitted replay
with the default knobs at the engine's costs, without the stats flush, and
prints per release the median of its simulated time over the replay's
elapsed_s (engine/kernels.py ENGINE_PACE_OF_GUEST, which puts the flush's 2 s
of guest time on the engine's clock), and how far the boots' own elapsed times
are from their mean (PACE_DRIFT, how far the engine's median may drift before
the constant is refitted).

    python validation/guest_costs.py extract LOGDIR... [--csv validation/guest_marks.csv]
    python validation/guest_costs.py fit [--csv ...]       # prints the table as JSON
    python validation/guest_costs.py engine-pace [--jobs N]
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MARKS_CSV = HERE / "guest_marks.csv"
# engine cost key -> the interval column it is fitted on
TERMS = (("access", "anon_accesses"), ("mmap_access", "mmap_accesses"), ("read_hit", "calls"), ("minor_fault", "self_minflt"),
         ("swap_read", "pswpin"), ("file_read_page", "file_in"), ("scan_folio", "pgscan_direct"),
         ("swap_write", "pswpout"))
_MARK_KEYS = ("t", "rec", "pgscan_kswapd", "pgscan_direct", "pswpin", "pswpout", "pgpgin",
              "self_minflt", "self_majflt", "allocstall_movable", "allocstall_normal")


def nnls(a: np.ndarray, b: np.ndarray, iters: int = 200) -> np.ndarray:
    """Lawson and Hanson's active-set NNLS (what scipy.optimize.nnls solves)."""
    n = a.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    for _ in range(iters):
        w = a.T @ (b - a @ x)
        if passive.all() or w[~passive].max() <= 1e-10 * max(1.0, abs(w).max()):
            break
        j = np.argmax(np.where(passive, -np.inf, w))
        passive[j] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            neg = passive & (z <= 0)
            alpha = np.min(x[neg] / (x[neg] - z[neg]))
            x = x + alpha * (z - x)
            passive &= x > 1e-12
            x[~passive] = 0.0
    return x


def load(path=MARKS_CSV) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def fit(rows: list[dict]) -> dict:
    """Nanoseconds per unit of each term, and how well the replaying process's
    sums predict its replays' elapsed times."""
    a = np.array([[float(r[col]) for _, col in TERMS] for r in rows])
    y = np.array([float(r["dt_s"]) for r in rows]) * 1e9
    behind = [r for r in rows if int(r["allocstall"]) > 0]
    k = np.zeros((len(behind), len(TERMS)))
    k[:, [key for key, _ in TERMS].index("scan_folio")] = [float(r["pgscan_kswapd"]) for r in behind]
    ky = np.array([float(r["dt_s"]) for r in behind]) * 1e9
    x = nnls(np.vstack([a, k]), np.concatenate([y, ky]))
    pred = a @ x
    runs: dict = {}
    for r, p, t in zip(rows, pred, y):
        s = runs.setdefault(r["run"], [0.0, 0.0])
        s[0] += p
        s[1] += t
    ratio = np.array([p / t for p, t in runs.values()])
    return {"ns": {k: int(round(v)) for (k, _), v in zip(TERMS, x)},
            "intervals": len(rows), "kswapd_behind_intervals": len(behind), "replays": len(runs),
            "replay_elapsed_ratio": {"median": round(float(np.median(ratio)), 2),
                                     "p10": round(float(np.percentile(ratio, 10)), 2),
                                     "p90": round(float(np.percentile(ratio, 90)), 2)}}


def extract(logdirs, out=MARKS_CSV) -> int:
    """The intervals of every replay in validation/real/*.csv but the held-out
    ones (validate.HELD_OUT) from its rig log."""
    sys.path.insert(0, str(HERE.parent))
    from engine.trace import read_trace
    from validation.validate import fitted, load_real, profile, rig_logs, trace_path
    logs = rig_logs(logdirs)
    ops_of, out_rows = {}, []
    for row in fitted(load_real(sorted(HERE.glob("real/*.csv")))):
        text = Path(logs[row["run"]]).read_text()
        marks = []
        for m in re.finditer(r"^@@GT MARK (\S+) (.*)$", text, re.M):
            kv = dict(f.split("=", 1) for f in m.group(2).split())
            marks.append((m.group(1), {k: float(kv.get(k, 0)) for k in _MARK_KEYS}))
        if row["trace"] not in ops_of:
            ops_of[row["trace"]] = read_trace(str(trace_path(row["trace"]))).accesses["op"]
        ops = ops_of[row["trace"]]
        for (_, a), (name, b) in zip(marks, marks[1:]):
            d = {k: b[k] - a[k] for k in _MARK_KEYS}
            cnt = np.bincount(ops[int(a["rec"]):int(b["rec"])], minlength=6)
            out_rows.append({
                "run": row["run"], "kernel": profile(row["kernel"]), "policy": row["policy"], "mark": name,
                "dt_s": f"{d['t']:.3f}", "records": int(d["rec"]),
                "anon_accesses": int(cnt[0]), "mmap_accesses": int(cnt[3] + cnt[4]),
                "calls": int(cnt[1] + cnt[2]),
                "self_minflt": int(d["self_minflt"]), "pswpin": int(d["pswpin"]),
                "file_in": max(0, int(d["pgpgin"]) // 4 - int(d["pswpin"])),
                "pgscan_direct": int(d["pgscan_direct"]), "pgscan_kswapd": int(d["pgscan_kswapd"]),
                "pswpout": int(d["pswpout"]),
                "allocstall": int(d["allocstall_movable"] + d["allocstall_normal"])})
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out_rows[0]))
        w.writeheader()
        w.writerows(out_rows)
    return len(out_rows)


def _simulated_ns(job) -> int:
    """(trace, config) -> the simulated time at the trace's end; in a worker."""
    from validation.validate import replayed
    return replayed(*job).time_ns


def _fitted_default_rows():
    """validate's module and the fitted replays with the default knobs."""
    sys.path.insert(0, str(HERE.parent))
    from validation import validate as V
    return V, [r for r in V.fitted(V.load_real(sorted(HERE.glob("real/*.csv")))) if V.is_default(r)]


def engine_pace(jobs: int = 2) -> dict:
    """Per release, the median over the fitted replays with the default knobs of
    (simulated time at the engine's pace, without the flush) / elapsed_s."""
    import statistics
    from concurrent.futures import ProcessPoolExecutor
    V, rows = _fitted_default_rows()
    keys = [(r["trace"], V.sim_config(r, V.POLICY[r["policy"]]) | {"flush_time_ms": 0}) for r in rows]
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        ns = list(ex.map(_simulated_ns, keys))
    ratios = {}
    for r, t in zip(rows, ns):
        ratios.setdefault(V.profile(r["kernel"]), []).append(t / 1e9 / float(r["elapsed_s"]))
    return {k: statistics.median(v) for k, v in sorted(ratios.items())}


def elapsed_spread() -> float:
    """How far a boot's elapsed time is from the mean of its trace, release and
    policy's boots: the median |elapsed / mean - 1| over the fitted replays with
    the default knobs that were booted more than once (engine/kernels.py
    PACE_DRIFT)."""
    import statistics
    V, rows = _fitted_default_rows()
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["trace"], V.profile(r["kernel"]), r["policy"]), []).append(float(r["elapsed_s"]))
    return statistics.median(abs(t / statistics.mean(ts) - 1) for ts in groups.values() if len(ts) > 1 for t in ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("logdirs", nargs="+")
    e.add_argument("--csv", default=str(MARKS_CSV))
    f = sub.add_parser("fit")
    f.add_argument("--csv", default=str(MARKS_CSV))
    f.add_argument("--by-kernel", action="store_true")
    p = sub.add_parser("engine-pace")
    p.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if args.cmd == "extract":
        print(extract(args.logdirs, args.csv), "intervals")
        return 0
    if args.cmd == "engine-pace":
        print(json.dumps({k: round(v, 4) for k, v in engine_pace(args.jobs).items()}))
        print(f"boots' elapsed time from their mean: {elapsed_spread():.3f}")
        return 0
    rows = load(args.csv)
    out = {"all": fit(rows)}
    if args.by_kernel:
        for k in sorted({r["kernel"] for r in rows}):
            out[k] = fit([r for r in rows if r["kernel"] == k])
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

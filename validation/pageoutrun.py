"""How often kswapd runs on the rig's boots, and on the simulated machines.

`pageoutrun` counts balance_pgdat()'s runs; with `pgsteal_kswapd` it says how
much kswapd reclaims a run. Both come from each log's `VMSTAT_BEFORE` and
`VMSTAT_AFTER` blocks, and the same counters from the simulator under the
validation rule (validate.py's sim_config()). docs/validation.md "kswapd's
runs" reads the table this prints.

    python validation/pageoutrun.py LOG... [--out validation/pageoutrun.csv] [--jobs N]

(the logs: /work/shared/realkernel/calibration/logs and every
validation/logs/*.tar.xz, extracted; boots with the rig's default knobs only)
"""
from __future__ import annotations

import argparse
import csv
import glob
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import validate as V  # noqa: E402
from validation import zone_dma_skips as Z  # noqa: E402

CSV = HERE / "pageoutrun.csv"
COUNTERS = ("pageoutrun", "pgsteal_kswapd")
COLUMNS = ("run", "trace", "kernel", "policy", "tag") + tuple(f"{w}_{c}" for w in ("real", "sim") for c in COUNTERS)


def real_counters(log: Path) -> dict:
    text = log.read_text(errors="replace")
    before, after = Z.vmstat_block(text, "VMSTAT_BEFORE"), Z.vmstat_block(text, "VMSTAT_AFTER")
    return {c: after[c] - before.get(c, 0) for c in COUNTERS}


def simulated(job) -> dict:
    v = V.replayed(*job).vmstat()
    return {c: v[c] for c in COUNTERS}


def summary(rows) -> dict:
    """(release, policy) -> (boots, median sim/real runs, median pages a run real, sim), over
    the boots with more than 50 runs."""
    by = {}
    for r in rows:
        if int(r["real_pageoutrun"]) > 50:
            by.setdefault((V.profile(r["kernel"]), r["policy"]), []).append(r)
    return {k: (len(v), statistics.median(int(r["sim_pageoutrun"]) / int(r["real_pageoutrun"]) for r in v),
                statistics.median(int(r["real_pgsteal_kswapd"]) / int(r["real_pageoutrun"]) for r in v),
                statistics.median(int(r["sim_pgsteal_kswapd"]) / max(1, int(r["sim_pageoutrun"])) for r in v))
            for k, v in sorted(by.items())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=CSV)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    real = {r["run"]: r for r in V.load_real(sorted(glob.glob(str(HERE / "real" / "*.csv"))))}
    logs = {}
    for p in args.logs:
        run = p.name[:-len(".log")]
        if p.name.endswith(".log") and not p.name.endswith(".console.log") and run in real and \
                V.default_knobs(real[run]):
            logs[run] = p
    runs = sorted(logs)
    with ProcessPoolExecutor(args.jobs) as ex:
        sims = list(ex.map(simulated, [(real[r]["trace"], V.sim_config(real[r], V.POLICY[real[r]["policy"]]))
                                       for r in runs], chunksize=4))
    rows = []
    for run, sim in zip(runs, sims):
        r = real[run]
        got = real_counters(logs[run])
        rows.append({"run": run, "trace": r["trace"], "kernel": r["kernel"], "policy": r["policy"], "tag": r["tag"],
                     **{f"real_{c}": got[c] for c in COUNTERS}, **{f"sim_{c}": sim[c] for c in COUNTERS}})
    with open(args.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    for (key, policy), (n, ratio, real_per_run, sim_per_run) in summary(rows).items():
        print(f"{key} {policy}: {n} boots, simulated runs / real {ratio:.2f}, "
              f"pages reclaimed a run real {real_per_run:.0f}, simulated {sim_per_run:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

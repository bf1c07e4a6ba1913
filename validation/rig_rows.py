"""Rows for validation/real/*.csv from the rig's results directory.

The rig (shared/realkernel) writes one summary.csv row per replay; the rule
from a replay to a simulated machine also reads the guest's tmpfs, anon and
reclaimable slab when the replay started (validate.py's docstring), which
only the replay's log has, on its `@@GT MEMINFO_MARK start` line (Shmem,
AnonPages, SReclaimable, in kB). This joins the two, in the column order of
validation/real/calibration.csv, for the runs named (all of the directory's
if none are).

    python validation/rig_rows.py RESULTS_DIR [RUN ...] > validation/real/NEW.csv
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import guest_boot  # noqa: E402

# the log's start line -> the column it fills
START = {"Shmem": "shmem_start_kb", "AnonPages": "anonpages_start_kb", "SReclaimable": "sreclaimable_start_kb"}


def header() -> list[str]:
    with open(HERE / "real" / "calibration.csv", newline="") as fh:
        return next(csv.reader(fh))


def meminfo_start(log: Path) -> dict:
    """The start columns from a replay log's `@@GT MEMINFO_MARK start` line."""
    try:
        fields = guest_boot.meminfo_start(log.read_text(errors="replace"))
    except ValueError as e:
        raise ValueError(f"{log}: {e}") from None
    missing = [k for k in START if k not in fields]
    if missing:
        raise ValueError(f"{log}: its MEMINFO_MARK start line has no {', '.join(missing)}")
    return {col: fields[k] for k, col in START.items()}


def rows(results: Path, runs: list[str] | None = None) -> list[dict]:
    with open(results / "summary.csv", newline="") as fh:
        summary = list(csv.DictReader(fh))
    known = {r["run"] for r in summary}
    unknown = [r for r in runs or () if r not in known]
    if unknown:
        raise ValueError(f"{results / 'summary.csv'} has no run {', '.join(unknown)}")
    cols = header()
    out = []
    for r in summary:
        if runs and r["run"] not in runs:
            continue
        row = {**{k.strip(): v.strip() for k, v in r.items()}, **meminfo_start(results / f"{r['run']}.log")}
        absent = [c for c in cols if c not in row]
        if absent:
            raise ValueError(f"run {r['run']}: no {', '.join(absent)} in the summary or the log")
        out.append({c: row[c] for c in cols})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path, help="the rig's results directory (its summary.csv and logs)")
    ap.add_argument("runs", nargs="*", help="runs to take (default: every run in summary.csv)")
    args = ap.parse_args(argv)
    try:
        out = rows(args.results, args.runs)
    except (OSError, ValueError) as e:
        ap.error(str(e))
    w = csv.DictWriter(sys.stdout, fieldnames=header(), lineterminator="\n")
    w.writeheader()
    w.writerows(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

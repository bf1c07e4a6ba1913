"""The rig's guests when a replay starts: what the boot left in memory
(engine/kernels.py KERNELS[...]["boot"], docs/kernels.md "Boot footprint").

Every replay log has a `@@GT MEMINFO_MARK start` line (/proc/meminfo just
before the first record) and a `@@GT MARK start` line (/proc/vmstat). This
keeps, per replay of validation/real/*.csv, the columns the boot facts are
measured from that the rig's summary does not have: Mapped (the tmpfs pages
some process maps) beside Shmem and AnonPages, the anon LRU split, the
pgactivate/pgdeactivate the boot counted, and on an MGLRU guest the anon
pages of its two youngest generations (`@@GT BEGIN_LRUGEN_BEFORE`,
/sys/kernel/debug/lru_gen just before the replay).

    python validation/guest_boot.py extract LOGDIR... [--csv validation/guest_boot.csv]
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOOT_CSV = HERE / "guest_boot.csv"
_MEMINFO = (("shmem_kb", "Shmem"), ("mapped_kb", "Mapped"), ("anonpages_kb", "AnonPages"),
            ("active_anon_kb", "Active(anon)"), ("inactive_anon_kb", "Inactive(anon)"),
            ("active_file_kb", "Active(file)"), ("inactive_file_kb", "Inactive(file)"))
_VMSTAT = ("pgactivate", "pgdeactivate")


def extract(logdirs, out=BOOT_CSV) -> int:
    """One row per replay in validation/real/*.csv, from its rig log."""
    sys.path.insert(0, str(HERE.parent))
    from validation.validate import load_real, profile, rig_logs
    logs = rig_logs(logdirs)
    # the rig's logs of the earlier held-out replays are gone: their rows stay as extracted
    kept = {r["run"]: r for r in load(out)} if Path(out).exists() else {}
    rows = []
    for row in load_real(sorted(HERE.glob("real/*.csv"))):
        if row["run"] not in logs:
            if row["run"] not in kept:
                raise SystemExit(f"no log of {row['run']} in {' '.join(map(str, logdirs))} and no row in {out}")
            rows.append(kept[row["run"]])
            continue
        text = Path(logs[row["run"]]).read_text(errors="replace")
        mem = meminfo_start(text)
        vm = dict(f.split("=", 1) for f in re.search(r"^@@GT MARK start (.*)$", text, re.M).group(1).split()
                  if "=" in f)
        rows.append({"run": row["run"], "kernel": profile(row["kernel"]), "policy": row["policy"],
                     **{col: int(mem[key]) for col, key in _MEMINFO},
                     **{key: int(vm[key]) for key in _VMSTAT},
                     **lru_gen_youngest(text)})
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["run", "kernel", "policy", *(col for col, _ in _MEMINFO), *_VMSTAT,
                                           "lru_gen_young_anon", "lru_gen_old_anon"], restval="")
        w.writeheader()
        w.writerows(rows)
    return len(rows)


def meminfo_start(text: str) -> dict:
    """The fields of a replay log's `@@GT MEMINFO_MARK start` line, as strings (kB)."""
    m = re.search(r"^@@GT MEMINFO_MARK start (.*)$", text, re.M)
    if m is None:
        raise ValueError("no @@GT MEMINFO_MARK start line")
    return dict(f.split("=", 1) for f in m.group(1).split() if "=" in f)


def lru_gen_youngest(text: str) -> dict:
    """The anon pages of max_seq and of max_seq - 1 in a log's lru_gen before
    the replay ("" for a classic guest): each line of a node is `seq birth_ms
    anon file`, oldest first."""
    m = re.search(r"^@@GT BEGIN_LRUGEN_BEFORE\n(.*?)^@@GT END_LRUGEN_BEFORE", text, re.M | re.S)
    gens = [f for f in (line.split() for line in m.group(1).splitlines()) if len(f) == 4 and f[0].isdigit()] if m else []
    if len(gens) < 2:
        return {"lru_gen_young_anon": "", "lru_gen_old_anon": ""}
    return {"lru_gen_young_anon": int(gens[-1][2]), "lru_gen_old_anon": int(gens[-2][2])}


def load(path=BOOT_CSV) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("extract")
    ex.add_argument("logdirs", nargs="+")
    ex.add_argument("--csv", default=str(BOOT_CSV))
    args = ap.parse_args(argv)
    n = extract(args.logdirs, args.csv)
    print(f"{n} replays -> {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The page cache's shadow-only xarray nodes at the end of each replay, real and simulated.

Every rig log ends with `/proc/vmstat` (`@@GT BEGIN_VMSTAT_AFTER`): the gauge
workingset_nodes (the nodes whose entries are all shadows, on the list
mm/workingset.c's shadow shrinker counts) and workingset_nodereclaim (the
nodes it freed), and nr_slab_reclaimable, which those nodes' radix_tree_node
slab is part of (before and after the replay). Each row is one boot with the
rig's default knobs, beside the simulator's gauge and count for the machine the
validation rule gives its trace, release and policy (validate.py's
sim_config()), which docs/kernels.md "Shadow nodes" sets against them.

    python validation/shadow_nodes.py LOG... [--out validation/shadow-nodes.csv]
"""
from __future__ import annotations

import argparse
import csv
import functools
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from validation import zone_dma_skips as Z  # noqa: E402

CSV = HERE / "shadow-nodes.csv"
COLUMNS = ("run", "trace", "kernel", "policy", "tag", "workingset_nodes", "workingset_nodereclaim",
           "slab_reclaimable_growth", "sim_workingset_nodes", "sim_workingset_nodereclaim")


@functools.lru_cache(maxsize=None)
def _simulated(trace: str, config: tuple) -> tuple[int, int]:
    from validation import validate as V
    vm = V.replayed(trace, V._thawed(config)).vmstat()
    return vm["workingset_nodes"], vm["workingset_nodereclaim"]


def simulated(real: dict) -> tuple[int, int]:
    """The rule's machine for the boot `real` (a validation/real row): its
    workingset_nodes and workingset_nodereclaim at the replay's end."""
    from validation import validate as V
    return _simulated(real["trace"], V._frozen(V.sim_config(real, V.POLICY[real["policy"]])))


def row(path: Path) -> dict | None:
    """One log's row, or None for a boot the validation does not judge (knobs
    other than the rig's defaults, a size it did not calibrate)."""
    from validation import validate as V
    text = path.read_text(errors="replace")
    who = Z.identity(path.name.removesuffix(".log"))
    real = {r["run"]: r for r in V.load_real(sorted((V.HERE / "real").glob("*.csv")))}.get(who["run"])
    if real is None or not V.default_knobs(real):
        return None
    before, after = Z.vmstat_block(text, "VMSTAT_BEFORE"), Z.vmstat_block(text, "VMSTAT_AFTER")
    nodes, reclaimed = simulated(real)
    return {**who, "workingset_nodes": after["workingset_nodes"],
            "workingset_nodereclaim": after["workingset_nodereclaim"] - before["workingset_nodereclaim"],
            "slab_reclaimable_growth": after["nr_slab_reclaimable"] - before["nr_slab_reclaimable"],
            "sim_workingset_nodes": nodes, "sim_workingset_nodereclaim": reclaimed}


def load(path: Path = CSV) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=CSV)
    args = ap.parse_args(argv)
    rows = [r for r in (row(p) for p in sorted(args.logs) if not p.name.endswith(".console.log")) if r]
    rows.sort(key=lambda r: r["run"])
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} replays -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

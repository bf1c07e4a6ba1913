"""How much of a real classic LRU's pgscan is folios it skipped, not scanned.

isolate_lru_folios() (6.1 vmscan.c:2226-2288, 6.12 :1695-1757, 7.3 :1700-1765)
adds every folio it passes to `total_scan`, including those above
`sc->reclaim_idx` that it moves aside (`PGSCAN_SKIP`), and hands `total_scan`
back as `nr_scanned`: shrink_inactive_list() counts it in `pgscan_*`,
shrink_active_list() in `pgrefill`. A folio is above `reclaim_idx` only in a
kswapd run for ZONE_DMA alone, which a watermark boost of ZONE_DMA starts
(rmqueue(): `wakeup_kswapd(zone, 0, 0, zone_idx(zone))`, 7.3 page_alloc.c:3445);
then every ZONE_DMA32 folio on the node's lists is "scanned" on the way to the
ZONE_DMA ones. This splits the rig's `pgskip_dma32` between the two lists,
from the replay's own counters:

    skipped on the active lists   = pgrefill - pgdeactivate - exec rotations
    skipped on the inactive lists = pgskip_dma32 - that
    pgscan without skips          = pgscan - skipped on the inactive lists

7.3 counts the exec rotations: its `pgrotate_anon + pgrotate_file` are
shrink_inactive_list()'s `nr_scanned - nr_reclaimed` (vmscan.c:2036-2038,
skips included) plus shrink_active_list()'s rotations (:2147), so the
rotations are pgrotate - (pgscan - pgsteal). 6.1 and 6.12 have no such
counter; there the split is exact for traces without executable mappings and
for the others (desktop, mmap-exec) puts the rotations among the active skips.

    python validation/zone_dma_skips.py LOG... [--out validation/zone-dma-skips.csv]

writes one row per replay log, classic and MGLRU. The split reads the
classic rows; the MGLRU rows keep those boots' `pgalloc_dma` and `pgrefill`,
which docs/validation.md quotes (on the read() traces their ZONE_DMA is handed
out once and nothing is sorted as ineligible). The logs are the rig's (`*.log` with `@@GT
BEGIN_VMSTAT_BEFORE`/`AFTER` blocks: the only place the rig keeps pgskip and
pgrotate; they bracket the replay a little wider than validation/real/'s
start/done marks, so pgscan here is up to 1.3 % above the judged one). docs/validation.md ("What is not met")
quotes the result against validation/sim.csv; tests/engine/test_validation.py
checks the simulator against `pgscan_unskipped`.

The simulated guests' boosts come where the page allocator falls back into a
zone's free pages of another migratetype (engine/kernels.py "pageblocks",
measured by validation/pageblocks.py; docs/kernels.md "Watermark boost"); up to
engine 0.9.6 they came at a rate per ZONE_DMA page fitted to this file's skips.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
CSV = HERE / "zone-dma-skips.csv"
# the scenarios whose traces map executables (X records): their exec folios'
# rotations are in pgrefill as well as the skips (split())
EXEC_SCENARIOS = ("desktop", "mmap-exec")
RAW = ("pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct", "pgskip_dma32",
       "pgrefill", "pgdeactivate", "pgrotate_anon", "pgrotate_file", "compact_daemon_wake",
       "pgalloc_dma", "pgalloc_dma32")
COLUMNS = ("run", "trace", "kernel", "policy", "tag") + RAW


def has_exec_mappings(trace: str) -> bool:
    """A trace of validation/traces/ exported from an EXEC_SCENARIOS scenario
    (desktop, desktop-x0.4, mmap-exec-s2, ...)."""
    return trace.startswith(EXEC_SCENARIOS)


def block(text: str, name: str, patch: str = "") -> str:
    """The lines of a rig log's `@@GT BEGIN_<name>` block; a log without it
    raises, naming the patch of validation/ that prints it, if one does."""
    m = re.search(rf"@@GT BEGIN_{name}\n(.*?)@@GT END_{name}", text, re.S)
    if m is None:
        raise ValueError(f"no {name} block" + (f": a boot without {patch}" if patch else ""))
    return m.group(1)


def vmstat_block(text: str, name: str) -> dict:
    return {k: int(v) for k, v in (line.split()[:2] for line in block(text, name).splitlines()
                                   if len(line.split()) >= 2 and line.split()[1].lstrip("-").isdigit())}


def identity(run: str) -> dict:
    """The rig's run name TRACE.RELEASE.POLICY.TAG as columns; a trace name may
    hold dots (shf-hot0.4), a release starts with its version."""
    trace, kernel, policy, tag = re.fullmatch(r"(.+?)\.(\d+\.\d+\.\d+[-+][^.]*-amd64)\.(classic|mglru)\.(\w+)", run).groups()
    return {"run": run, "trace": trace, "kernel": kernel, "policy": policy, "tag": tag}


def replay_row(path: Path, raw, missing="") -> dict:
    """One replay's `raw` counters: vmstat AFTER - BEFORE (the rig takes them
    around the replay); a counter the kernel does not have is `missing`."""
    text = path.read_text()
    run = re.search(r"@@GT RUN run=(\S+)", text).group(1)
    before, after = vmstat_block(text, "VMSTAT_BEFORE"), vmstat_block(text, "VMSTAT_AFTER")
    row = identity(run)
    for k in raw:
        row[k] = after[k] - before.get(k, 0) if k in after else missing
    return row


def row_of(path: Path) -> dict:
    # 6.1 and 6.12 have no pgrotate_*: left blank, not 0
    return replay_row(path, RAW)


def split(row: dict) -> dict:
    """The skips of one classic replay, per list (the module docstring's arithmetic)."""
    n = {k: int(row[k]) for k in RAW if row[k] != ""}
    pgscan = n["pgscan_kswapd"] + n["pgscan_direct"]
    pgsteal = n["pgsteal_kswapd"] + n["pgsteal_direct"]
    skip = n.get("pgskip_dma32", 0)
    exact = "pgrotate_anon" in n or not has_exec_mappings(row["trace"])
    rotated = n["pgrotate_anon"] + n["pgrotate_file"] - (pgscan - pgsteal) if "pgrotate_anon" in n else 0
    skip_active = min(skip, max(0, n["pgrefill"] - n["pgdeactivate"] - rotated))
    return {"pgscan": pgscan, "pgsteal": pgsteal, "pgskip_dma32": skip,
            "skip_active": skip_active, "skip_inactive": skip - skip_active,
            "pgscan_unskipped": pgscan - (skip - skip_active), "exact": exact}


def load(path: Path = CSV, policy: str | None = None) -> list[dict]:
    with open(path, newline="") as fh:
        return [r for r in csv.DictReader(fh) if policy is None or r["policy"] == policy]


def simulated(job) -> int:
    """(trace, config, counter) -> that vmstat counter at the trace's end; in a worker."""
    name, cfg, counter = job
    from validation.validate import replayed
    return replayed(name, cfg).vmstat()[counter]


def miss(sim: int, real: int) -> float:
    """How far a simulated total is from the real one, in log terms."""
    import math
    return abs(math.log((sim + 1) / (real + 1)))


def nearest(grid, measure, what: str) -> int:
    """The rate of `grid` whose measure(rate) -> (simulated, real) is nearest."""
    best = None
    for every in grid:
        sim, real = measure(every)
        print(f"{what} every {every:5d}: simulated {sim:9,d}, real {real:9,d} ({(sim + 1) / (real + 1):.2f})")
        if best is None or miss(sim, real) < best[0]:
            best = (miss(sim, real), every)
    return best[1]


def arguments(doc: str, out: Path, fit_help: str, argv=None):
    """The command line of an extractor with a fit (compaction.py): LOG... [--out CSV], or --fit [--jobs N].
    Returns the parsed arguments; without logs or --fit it exits with the usage."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("logs", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=out)
    ap.add_argument("--fit", action="store_true", help=fit_help)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if not args.fit and not args.logs:
        ap.error("give the rig's logs, or --fit")
    return args


def extract(doc: str, out: Path, row, columns, argv=None) -> list[dict]:
    """The command line of an extractor without a fit, LOG... [--out CSV]:
    write_replays() of the logs given; returns the rows written."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=out)
    args = ap.parse_args(argv)
    return write_replays(args.logs, args.out, row, columns)


def report(doc: str, out: Path, row, columns, line, argv=None) -> int:
    """extract(), then line(row) printed for each row written: an extractor's main()."""
    for r in extract(doc, out, row, columns, argv):
        print(line(r))
    return 0


def write_replays(logs, out: Path, row, columns) -> list[dict]:
    """row(log) of every replay log given (its console log left out, and a log
    row() gives None for), written to `out` by run beside the rows `out` already
    holds for the runs not given: the rig's logs of the earlier held-out replays
    are gone, so their rows stay as they were extracted (validation/logs/ keeps
    the logs since the r2 boots)."""
    given = {r["run"]: r for r in (row(p) for p in logs if not p.name.endswith(".console.log")) if r is not None}
    kept = {r["run"]: {**r, **identity(r["run"])} for r in load(out)} if out.exists() else {}
    rows = sorted({**kept, **given}.values(), key=lambda r: r["run"])
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    return rows


def main(argv=None) -> int:
    rows = extract(__doc__, CSV, row_of, COLUMNS, argv)
    sim_path = HERE / "sim.csv"
    sims = {r["run"]: r for r in load(sim_path)} if sim_path.exists() else {}
    print(f"{'run':50s} {'pgscan':>7} {'pgsteal':>7} {'skipped':>7} {'inactive':>8} {'unskipped':>9} "
          f"{'sim/pgscan':>10} {'sim/unskipped':>13}")
    rows = [r for r in rows if r["policy"] == "classic"]
    for r in rows:
        s = split(r)
        sim = float(sims[r["run"]]["pgscan"]) if r["run"] in sims else float("nan")
        print(f"{r['run']:50s} {s['pgscan']:7d} {s['pgsteal']:7d} {s['pgskip_dma32']:7d} "
              f"{s['skip_inactive']:8d} {s['pgscan_unskipped']:9d}{' ' if s['exact'] else '?'}"
              f"{sim / s['pgscan']:10.2f} {sim / s['pgscan_unskipped']:13.2f}")
    print(f"{len(rows)} classic replays (and their MGLRU boots) written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

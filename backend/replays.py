"""The real-kernel replays of validation/ as something a session can open.

validation/real/*.csv holds the counters the real Debian kernels recorded
replaying the traces in validation/traces/ (shared/realkernel's rig: a
booted guest with 64 MiB available, or 128 MiB for the `-128m` traces, a
256 MiB swap disk, swappiness 60),
and validation/sim.csv what `make validate` simulated for each of them.
`load()` reads both, once, into what GET /api/replays serves; `recipe()`
is the session that steps one of those traces on the rig's machine (the
rule docs/validation.md is made with: `machine.guest`, each pane its
profile's guest) with the classic LRU beside MGLRU, so the pane counters at
the trace's end are the simulated column of docs/validation.md.

Each trace is served on one machine: that of its boots with the rig's
default knobs, r1, r2, ... of the host every judged boot ran on. Apart from
them, as `second_host`, go the boots of a second host on the same machine
(`h2`, docs/validation.md "A second host"); the `ra0`, `nolf` and `h2s1g`
boots of such a trace ran other machines. A trace only the second host
booted (the held-out exports of "A second host" and of the "Held out at"
sections at 32-256 MiB) is served on its boots' machine, the default knobs'
(`h2`) where it has them, else the 1 GiB swap disk's (`h2s1g`), with no
`runs`: its panes show that host's numbers, not a ratio to them, every boot
of that machine (`h2s1g2`, `h2s1g3`: the loop booted again, "The loop's two
outcomes"); the traced boots (`tr1`...) are not served.
"""
from __future__ import annotations

import csv
import functools
import json
import re
from pathlib import Path
from typing import Optional

from engine.kernels import KERNELS, rig_available_mb

# where validation/ is: beside the backend package in a checkout (`make run`),
# else the working directory's (the image's WORKDIR is the checkout)
_CANDIDATES = (Path(__file__).resolve().parent.parent / "validation", Path.cwd() / "validation")
# validation/validate.py's rules for reading the rig's rows (POLICY, PROFILE_OF,
# SWAP_KIND, the r1/r2 default boots), kept here because validation/ is data
# beside a checkout, not a package the server can import
POLICY = {"classic": "lru", "mglru": "lru_gen"}
PROFILE_OF = (("6.1.", "6.1"), ("6.12.", "6.12"), ("7.3.", "7.3"))
SWAP_KIND = {"disk": "ssd", "zram": "zram", "none": "none"}
# the counters docs/validation.md shows, in its order (file_in: pages read from
# the data disk, pgpgin less swap-ins and the trace's own reads)
COUNTERS = ("pgscan", "pgsteal", "pswpin", "file_in", "pswpout", "workingset_refault_anon",
            "workingset_refault_file", "pgactivate")
# validate.py HOST2's tags, the default knobs' first, and the host they name
# (h2s1g2, h2s1g3: the same machine as h2s1g booted again)
SECOND_HOST_TAGS = ("h2", "h2s1g", "h2s1g2", "h2s1g3")
SECOND_HOST = "an AMD EPYC host of 2 cores (2026-12-07)"
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,63}")
# a boot with the rig's default knobs (validate.py is_default())
_DEFAULT_TAG = re.compile(r"r\d+")


def validation_dir() -> Optional[Path]:
    for d in _CANDIDATES:
        if (d / "real").is_dir() and (d / "traces").is_dir():
            return d
    return None


def _profile(release: str) -> Optional[str]:
    for prefix, key in PROFILE_OF:
        if release.startswith(prefix):
            return key
    return None


def _header(path: Path) -> dict:
    """The export line a trace carries (export_scenario.py): scenario, params,
    accesses, the RAM its sizes were scaled for, seed."""
    import gzip
    with gzip.open(path, "rt", errors="replace") as f:
        for _ in range(4):
            line = f.readline()
            if line.startswith("# exported by export_scenario.py:"):
                return json.loads(line.split(":", 1)[1])
    return {}


# the traced boots' free pages in ZONE_DMA32's unmovable and reclaimable
# pageblocks (their median over the replay, /proc/pagetypeinfo): file, column
HOLES = (("pageblocks.csv", "dma32_holes_median"), ("kswapd-boosts.csv", "holes_median"))


def _holes(d: Path) -> dict[str, list]:
    """Per trace, what each traced boot kept (validation/pageblocks.py,
    kswapd_boosts.py): the hole counts a replay session may be given."""
    out: dict[str, list] = {}
    for name, column in HOLES:
        if not (d / name).exists():
            continue
        with open(d / name, newline="") as fh:
            for r in csv.DictReader(fh):
                key = _profile(r["kernel"])
                if key is None or not r.get(column):
                    continue
                out.setdefault(r["trace"], []).append(
                    {"kernel": key, "release": r["kernel"], "policy": POLICY[r["policy"]], "tag": r["tag"],
                     "holes": int(r[column]), "source": name})
    return out


def _run(r: dict) -> dict:
    """One boot's row as GET /api/replays serves it."""
    return {"kernel": _profile(r["kernel"]), "release": r["kernel"], "policy": POLICY[r["policy"]],
            "tag": r["tag"], "source": r["source"], "elapsed_s": float(r["elapsed_s"]),
            "counters": {c: int(r[c]) for c in COUNTERS}}


@functools.lru_cache(maxsize=1)
def load() -> tuple:
    """Every replayed trace with its real boots and simulated counters, as
    GET /api/replays serves them (a tuple of dicts, read once)."""
    d = validation_dir()
    if d is None:
        return ()
    real: dict[str, list] = {}
    second: dict[str, list] = {}
    for p in sorted((d / "real").glob("*.csv")):
        with open(p, newline="") as fh:
            for r in csv.DictReader(fh):
                key = _profile(r["kernel"])
                if r.get("rc", "0") != "0" or key is None:
                    continue
                r["source"] = p.name
                if _DEFAULT_TAG.fullmatch(r["tag"]):
                    real.setdefault(r["trace"], []).append(r)
                elif r["tag"] in SECOND_HOST_TAGS:
                    second.setdefault(r["trace"], []).append(r)
    simulated: dict[str, list] = {}
    sim_csv = d / "sim.csv"
    if sim_csv.exists():
        with open(sim_csv, newline="") as fh:
            for r in csv.DictReader(fh):
                simulated.setdefault(r["trace"], []).append(r)
    holes = _holes(d)
    out = []
    for name in sorted(set(real) | set(second)):
        path = d / "traces" / f"{name}.trace.gz"
        if not _NAME.fullmatch(name) or not path.exists():
            continue
        rows = real.get(name, [])
        served = _DEFAULT_TAG.fullmatch
        if not rows:
            # booted on the second host alone: on its default knobs' machine if it has one
            tag = next(t for t in SECOND_HOST_TAGS if any(r["tag"] == t for r in second[name]))
            served = tag.__eq__
        machine_rows = rows or [r for r in second[name] if served(r["tag"])]
        first = machine_rows[0]
        # the MiB the rig sized its guests for (every boot of a trace ran one size)
        available_mb = {rig_available_mb(_profile(r["kernel"]), r["mem_mb"]) for r in machine_rows}
        if len(available_mb) != 1 or None in available_mb:
            continue
        mb = available_mb.pop()
        header = _header(path)
        runs = [_run(r) for r in rows]
        others = [_run(r) for r in second.get(name, [])
                  if rig_available_mb(_profile(r["kernel"]), r["mem_mb"]) == mb and r["swap_mb"] == first["swap_mb"]]
        seen, sims = set(), []
        for r in simulated.get(name, []):
            k = (r["profile"], r["policy"])
            # one machine per profile: every served boot's row holds the same numbers
            if not served(r["tag"]) or k in seen:
                continue
            seen.add(k)
            sims.append({"kernel": r["profile"], "policy": POLICY[r["policy"]],
                         "counters": {c: int(r[c]) for c in COUNTERS}})
        out.append({
            "name": name,
            "scenario": header.get("scenario"), "params": header.get("params", {}),
            # a trace made by hand has no export line: the rig's own count of its records
            "accesses": header.get("accesses", int(first["records"])), "sized_for_pages": header.get("ram_pages"),
            "seed": header.get("seed"),
            "machine": {"ram_pages": mb * 256, "guest": True, "swap_kind": SWAP_KIND[first["swap"]],
                        "swap_pages": int(first["swap_mb"]) * 256, "swappiness": int(first["swappiness"]),
                        "readahead_pages": int(first["read_ahead_kb"]) // 4},
            # the profiles it was booted under, on either host
            "kernels": sorted({run["kernel"] for run in runs + others},
                              key=lambda k: tuple(map(int, k.split(".")))),
            "trace_id": trace_id_of(path),
            "runs": runs, "simulated": sims,
            # the same machine's boots on another host, not in the runs' mean
            "second_host": {"host": SECOND_HOST, "runs": others},
            # what the traced boots kept, beside each profile's median (a guest's default)
            "holes": holes.get(name, []),
            "profile_holes": {k: KERNELS[k]["pageblocks"]["normal_holes"] for k in KERNELS},
        })
    return tuple(out)


def trace_path(name: str) -> Optional[Path]:
    d = validation_dir()
    if d is None or not _NAME.fullmatch(name):
        return None
    p = d / "traces" / f"{name}.trace.gz"
    return p if p.exists() and any(r["name"] == name for r in load()) else None


def trace_id_of(path: Path) -> str:
    # the id an upload of these bytes gets (backend/store.py trace_id(); the
    # replays are v1 text, gzip'd)
    from backend.store import trace_id
    return trace_id(path.read_bytes(), "v1")


def recipe(replay: dict, kernel: str, trace_id: str, zone_normal_holes: Optional[int] = None) -> dict:
    """The classic LRU beside MGLRU under `kernel` on the rig's machine,
    with the profile's holes or, given, a boot's own."""
    machine = dict(replay["machine"])
    if zone_normal_holes is not None:
        machine["zone_normal_holes"] = zone_normal_holes
    return {"machine": machine, "workload": {"trace_id": trace_id},
            "policies": [{"policy": "lru", "kernel": kernel}, {"policy": "lru_gen", "kernel": kernel}]}

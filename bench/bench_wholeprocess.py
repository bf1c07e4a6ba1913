"""Whole-process speed: `reclaimlab simulate` beside libCacheSim on the same trace.

Every measurement is a fresh process (start-up, imports, reading the input,
simulating, printing), timed from outside: wall time, CPU time (user + sys of
the child) and peak RSS (ru_maxrss from wait4). Each command runs `--repeat`
times, interleaved, and the medians are printed as JSON lines.

1. The trace: bench/gen_oracle_trace.py writes a seeded Zipf(0.99)
   oracleGeneral trace (20 M requests over 1.55 M objects, ~1.3 M of them
   requested, 4 KiB each) into a temporary directory.
2. libCacheSim (PyPI `libcachesim`, its C simulator run by
   `cache.process_trace()`): LRU and Clock with a 4 GiB cache (1 Mi objects).
   Skipped, and said so, when the package is not installed.
3. `reclaimlab simulate --trace T --policy lru|lru_gen --ram-mb 4096
   --swap-kind none --swap-mb 0 --json`, from the file and from a pipe.
4. `reclaimlab simulate --scenario zipf-anon --ram-mb 4096 --swap-mb 8192
   --accesses 20000000` for lru, lru_gen and both.
5. A billion requests (`--big`, default 1e9; 0 skips) generated through a
   pipe into `--trace -`: wall time and peak RSS, which must not grow with
   the trace length.

Usage: python bench/bench_wholeprocess.py [--repeat 3] [--requests 20000000] [--big 1000000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
RECLAIMLAB = [PY, "-m", "backend"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

LCS = """
import sys, libcachesim as lcs
reader = lcs.TraceReader(sys.argv[1], lcs.TraceType.ORACLE_GENERAL_TRACE)
cache = getattr(lcs, sys.argv[2])(cache_size=4 << 30)
miss_ratio, byte_miss_ratio = cache.process_trace(reader)
print(miss_ratio)
"""


def run_measured(cmd: str) -> dict:
    """Run a shell command line in a wrapper process that reports its wall
    time, the CPU time of its process tree and the peak RSS of the largest
    process in it (ru_maxrss of the waited children is a maximum)."""
    wrapper = (
        "import os, resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(['/bin/sh', '-c', sys.argv[1]], stdout=subprocess.PIPE)\n"
        "wall = time.perf_counter() - t\n"
        "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "sys.stderr.write(json.dumps({'wall': wall, 'cpu': ru.ru_utime + ru.ru_stime,"
        " 'maxrss_kb': ru.ru_maxrss, 'rc': p.returncode}) + '\\n')\n"
        "sys.stdout.buffer.write(p.stdout)\n"
    )
    r = subprocess.run([PY, "-c", wrapper, cmd], capture_output=True, env=ENV, cwd=ROOT)
    lines = r.stderr.decode().strip().splitlines()
    stats = json.loads(lines[-1])
    if stats["rc"] != 0:
        raise RuntimeError(f"{cmd}: exit {stats['rc']}: {r.stderr.decode()[-2000:]}")
    stats["stdout"] = r.stdout
    return stats


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def emit(row: dict) -> None:
    print(json.dumps(row), flush=True)


def load() -> float:
    return os.getloadavg()[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--requests", type=int, default=20_000_000)
    ap.add_argument("--objects", type=int, default=1_550_000)
    ap.add_argument("--big", type=int, default=1_000_000_000)
    ap.add_argument("--skip-scenarios", action="store_true")
    a = ap.parse_args(argv)

    import importlib.util
    have_lcs = importlib.util.find_spec("libcachesim") is not None
    if not have_lcs:
        emit({"what": "libcachesim", "skipped": "not installed (pip install libcachesim)"})

    gen = f"{shlex.quote(PY)} {shlex.quote(str(HERE / 'gen_oracle_trace.py'))}"
    rl = " ".join(shlex.quote(x) for x in RECLAIMLAB)
    with tempfile.TemporaryDirectory(prefix="reclaimlab-bench-") as tmp:
        trace = Path(tmp) / "zipf.oracleGeneral"
        t = time.perf_counter()
        subprocess.run(f"{gen} --requests {a.requests} --objects {a.objects} -o {trace}",
                       shell=True, check=True, env=ENV)
        # Written back before anything reads it: a trace still dirty in the
        # page cache made the first readers pay ~1.5-2 s of system time
        # (measured on this machine), whichever tool they were.
        os.sync()
        emit({"what": "trace", "requests": a.requests, "bytes": trace.stat().st_size,
              "generate_s": round(time.perf_counter() - t, 2)})

        machine = "--ram-mb 4096 --swap-kind none --swap-mb 0 --json"
        cmds = {}
        if have_lcs:
            lcs_py = Path(tmp) / "lcs.py"
            lcs_py.write_text(LCS)
            for algo in ("LRU", "Clock"):
                cmds[f"libcachesim {algo}"] = f"{shlex.quote(PY)} {lcs_py} {trace} {algo}"
        for pol in ("lru", "lru_gen"):
            cmds[f"reclaimlab {pol}"] = f"{rl} simulate --trace {trace} --policy {pol} {machine}"
            cmds[f"reclaimlab {pol} (stdin)"] = (f"cat {trace} | {rl} simulate --trace - "
                                                 f"--policy {pol} {machine}")
        runs = {k: [] for k in cmds}
        loads = []
        lcs_names = [k for k in cmds if k.startswith("libcachesim")]
        rl_names = [k for k in cmds if not k.startswith("libcachesim")]
        for rep in range(a.repeat):
            # Interleaved (load drifts); the reclaimlab commands take turns to
            # run first after libCacheSim's. In one fixed order the file run
            # right after libCacheSim's two 720 MiB runs was 0.1-0.3 s slower
            # than the other policy's, whichever policy it was (BENCHMARKS.md
            # "Whole process", 12:17 UTC).
            k = (0, 2, 1, 3)[rep % 4] % len(rl_names)
            for name in lcs_names + rl_names[k:] + rl_names[:k]:
                loads.append(load())
                runs[name].append(run_measured(cmds[name]))
        out = {}
        for name, rs in runs.items():
            row = {"what": "trace whole process", "command": name, "requests": a.requests,
                   "wall_s": round(median_of(rs, "wall"), 3), "cpu_s": round(median_of(rs, "cpu"), 3),
                   "maxrss_mib": round(median_of(rs, "maxrss_kb") / 1024, 1),
                   "walls": [round(r["wall"], 3) for r in rs],
                   "requests_per_s_wall": round(a.requests / median_of(rs, "wall"))}
            if name.startswith("libcachesim"):
                row["miss_ratio"] = float(rs[0]["stdout"].decode().split()[-1])
            else:
                v = json.loads(rs[0]["stdout"])["vmstat"]
                row["miss_ratio"] = round(v["pgpgin"] / 4 / a.requests, 5)
            out[name] = row
            emit(row)
        if have_lcs:
            for pol in ("lru", "lru_gen"):
                for algo in ("LRU", "Clock"):
                    for kind in ("wall_s", "cpu_s"):
                        emit({"what": "ratio", "reclaimlab": pol, "libcachesim": algo, "kind": kind,
                              "speedup": round(out[f"libcachesim {algo}"][kind]
                                               / out[f"reclaimlab {pol}"][kind], 2)})
        emit({"what": "load during trace runs", "median_loadavg_1m": round(statistics.median(loads), 2)})

    if not a.skip_scenarios:
        n = 20_000_000
        runs = {p: [] for p in ("lru", "lru_gen", "both")}
        for _ in range(a.repeat):
            for pol in runs:
                runs[pol].append(run_measured(
                    f"{rl} simulate --scenario zipf-anon --ram-mb 4096 --swap-mb 8192 "
                    f"--accesses {n} --policy {pol} --json"))
        for pol, rs in runs.items():
            emit({"what": "scenario whole process", "scenario": "zipf-anon", "policy": pol,
                  "accesses": n, "wall_s": round(median_of(rs, "wall"), 3),
                  "cpu_s": round(median_of(rs, "cpu"), 3),
                  "maxrss_mib": round(median_of(rs, "maxrss_kb") / 1024, 1),
                  "walls": [round(r["wall"], 3) for r in rs],
                  "accesses_per_s_wall": round(n / median_of(rs, "wall"))})

    if a.big:
        for n in (a.requests, a.big):
            r = run_measured(f"{gen} --requests {n} --objects {a.objects} -o - | "
                             f"{rl} simulate --trace - --trace-format oracleGeneral "
                             f"--policy lru {machine}")
            res = json.loads(r["stdout"])
            emit({"what": "pipe", "requests": n, "wall_s": round(r["wall"], 1),
                  "maxrss_mib": round(r["maxrss_kb"] / 1024, 1),
                  "accesses": res["workload"]["accesses"], "objects": res["workload"]["objects"],
                  "requests_per_s_wall": round(n / r["wall"]), "loadavg_1m": round(load(), 2)})
    return 0


if __name__ == "__main__":
    sys.exit(main())

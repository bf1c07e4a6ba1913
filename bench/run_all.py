"""Run every bench/bench_*.py script and collect their JSON lines.

Each script prints one JSON object per measurement on stdout. The collected
results go to bench/results.json together with the machine they ran on, so
BENCHMARKS.md can quote medians and ratios with their provenance.
"""
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def main(argv: list[str]) -> int:
    only = set(argv)
    results, failed = [], []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"== {script.name}", flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        sys.stderr.write(proc.stderr)
        for line in proc.stdout.splitlines():
            print(line, flush=True)
            if line.startswith("{"):
                row = json.loads(line)
                row.setdefault("bench", script.stem)
                results.append(row)
        if proc.returncode != 0:
            failed.append(script.name)
    path = HERE / "results.json"
    if only and path.exists():
        # a subset replaces its own benches' rows and keeps the others' (with
        # the machine they ran on) instead of dropping them
        ran = {r["bench"] for r in results} | only
        kept = [r for r in json.loads(path.read_text())["results"] if r.get("bench") not in ran]
        results = kept + results
    out = {"machine": machine(), "results": results}
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(results)} results written to bench/results.json")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

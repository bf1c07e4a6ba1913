"""Per-file counters (Simulator.file_counters(), `files` in simulate --json):
each file's share of pgpgin, workingset_refault_file and file pgsteal, kept
where page_cache_fill() reads a page and __remove_mapping() frees one."""
import json
import subprocess
import sys

import pytest

from engine import Simulator
from engine.workloads import SCENARIOS


def run(policy, kernel="7.3"):
    wl = SCENARIOS["hot-reread-stream"].generate(4096, seed=1, accesses=60000)
    sim = Simulator({"policy": policy, "kernel": kernel, "ram_pages": 4096, "swap_pages": 2048})
    sim.set_workload(wl.accesses)
    sim.run(30000)
    return sim, wl


@pytest.mark.parametrize("policy", ["lru", "lru_gen", "clock"])
def test_per_file_counters_add_up_to_pgpgin_workingset_refault_file_and_pgsteal_file(policy):
    sim, wl = run(policy)
    c, v = sim.file_counters(), sim.vmstat()
    assert set(c) <= set(range(len(wl.names["file"])))
    assert sum(x["reads"] for x in c.values()) == v["pgpgin"] // 4 - v["pswpin"]
    assert sum(x["refaults"] for x in c.values()) == v["workingset_refault_file"]
    assert sum(x["evictions"] for x in c.values()) == v["pgsteal_file"]
    assert v["workingset_refault_file"] > 0 or policy == "lru"


def test_per_file_counters_survive_the_state_image():
    a, wl = run("lru_gen")
    b = Simulator(a.config)
    b.set_workload(wl.accesses)
    b.load_state(a.state_bytes())
    assert b.file_counters() == a.file_counters()
    a.run(10000)
    b.run(10000)
    assert b.file_counters() == a.file_counters()


def test_simulate_json_names_each_files_reads_refaults_and_evictions():
    out = subprocess.run([sys.executable, "-m", "backend", "simulate", "--scenario", "hot-reread-stream",
                          "--ram-mb", "16", "--accesses", "60000", "--policy", "both", "--json"],
                         capture_output=True, text=True, check=True)
    res = json.loads(out.stdout)
    for r in res:
        assert set(r["files"]) == {"hot.db", "stream.log"}
        assert sum(f["refaults"] for f in r["files"].values()) == r["vmstat"]["workingset_refault_file"]
    # the stream is read once and never refaults, under either policy
    assert all(r["files"]["stream.log"]["refaults"] == 0 for r in res)

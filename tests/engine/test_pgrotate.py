"""7.3's PGROTATE_ANON / PGROTATE_FILE (/proc/vmstat pgrotate_anon, pgrotate_file):
what reclaim scanned and put back, the input of 7.3's cost model
(prepare_scan_control()). The classic LRU counts them in shrink_inactive_list()
and shrink_active_list() (7.3 vmscan.c:2036-2039, :2146-2147), MGLRU in
evict_folios() (:4961-4963); 6.1 and 6.12 have no such counters."""
import numpy as np
import pytest

from engine import ACCESS_DTYPE, Simulator


def machine(kernel, policy, ram=256):
    return Simulator({"policy": policy, "kernel": kernel, "ram_pages": ram, "swap_pages": 128,
                      "swap_kind": "zram", "readahead_pages": 0,
                      "watermarks": {"min": 1, "low": 2, "high": 3}})


def vm(sim, *names):
    v = sim.vmstat()
    return tuple(v[n] for n in names)


def _mapped_file(sim, pages):
    for p in range(pages):
        sim.access("M", 0, p)


def test_7_3_shrink_inactive_list_counts_scanned_less_reclaimed_in_pgrotate_file__shrink_inactive_list():
    sim = machine("7.3", "lru")
    _mapped_file(sim, 8)
    for p in (1, 3, 5):
        sim.access("M", 0, p)             # young: kept (PG_referenced), not reclaimed
    before = vm(sim, "pgscan_kswapd", "pgsteal_kswapd", "pgrotate_file", "pgrotate_anon")
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 8)
    scanned, stolen, rotated, anon = (a - b for a, b in zip(
        vm(sim, "pgscan_kswapd", "pgsteal_kswapd", "pgrotate_file", "pgrotate_anon"), before))
    # all eight mapped at first fault are young once: kept; nothing reclaimed
    assert scanned == 8 and stolen == 0
    assert rotated == scanned - stolen and anon == 0
    # a second pass: the three touched again are activated, the rest reclaimed
    before = vm(sim, "pgscan_kswapd", "pgsteal_kswapd", "pgrotate_file")
    for p in (1, 3, 5):
        sim.access("M", 0, p)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 8)
    scanned, stolen, rotated = (a - b for a, b in zip(
        vm(sim, "pgscan_kswapd", "pgsteal_kswapd", "pgrotate_file"), before))
    assert (scanned, stolen) == (8, 5) and rotated == 3
    assert sim.lruvec["rotated"] == [0, sim.vmstat()["pgrotate_file"]]


def test_7_3_shrink_active_list_counts_exec_folios_it_keeps_active_in_pgrotate_file__shrink_active_list():
    sim = machine("7.3", "lru")
    sim.access("X", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)       # exec: activated at once
    sim.access("X", 0, 0)                                    # young on the active list
    before = sim.vmstat()["pgrotate_file"]
    sim.policy.shrink_list_now("LRU_ACTIVE_FILE", 32)
    assert sim.vmstat()["pgrotate_file"] == before + 1       # nr_rotated, vmscan.c:2126, :2147
    assert sim.vmstat()["pgdeactivate"] == 0


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_6_1_and_6_12_have_no_pgrotate_counters__lru_note_cost(kernel, policy):
    # before 7.x reclaim charges rotations straight to lru_note_cost() (6.12
    # swap.c:271) or not at all (6.1); /proc/vmstat has no pgrotate_anon/file
    sim = machine(kernel, policy)
    w = np.zeros(3000, dtype=ACCESS_DTYPE)
    w["op"] = 0
    w["page"] = np.arange(3000) % 400
    sim.set_workload(w)
    sim.run_to_end()
    assert sim.vmstat()["pgscan_anon"] > 0
    assert vm(sim, "pgrotate_anon", "pgrotate_file") == (0, 0)


def test_7_3_mglru_evict_folios_counts_isolated_less_reclaimed_in_pgrotate__evict_folios():
    # a hot anon set reread while a colder one cycles: eviction isolates young
    # folios it must put back (folio_check_references(), lru_gen_set_refs())
    sim = machine("7.3", "lru_gen")
    rng = np.random.default_rng(3)
    pages = np.where(rng.random(40000) < 0.5, rng.integers(0, 64, 40000), rng.integers(64, 420, 40000))
    w = np.zeros(len(pages), dtype=ACCESS_DTYPE)
    w["op"] = 0
    w["page"] = pages
    sim.set_workload(w)
    sim.run_to_end()
    v = sim.vmstat()
    # every folio scan_folios() isolates is counted once in pgscan; what no pass
    # of evict_folios() (nor its retry) reclaimed is rotated
    assert v["pgrotate_anon"] == v["pgscan_anon"] - v["pgsteal_anon"] > 0
    assert v["pgrotate_file"] == v["pgscan_file"] - v["pgsteal_file"] == 0

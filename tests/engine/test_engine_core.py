"""The machine around the policies: exit, mlock, OOM without a victim, flushers,
writeback timing, clocks and views."""
import numpy as np

from engine import ACCESS_DTYPE, Simulator
from engine.names import EVENT_KINDS

VM_LOCKED, VM_SHARED = 2, 16


def make(**cfg):
    # one page per miss (readahead_pages 0): these behaviours are about the machine,
    # readahead has its own tests (test_readahead.py)
    base = {"ram_pages": 128, "swap_pages": 64, "watermarks": {"min": 4, "low": 8, "high": 12},
            "readahead_pages": 0}
    base.update(cfg)
    return Simulator(base)


def test_exit_mmap_frees_anon_folios_and_swap_slots():
    sim = make()
    for v in range(6):
        sim.access("A", 3, v, write=True)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 6)        # young: all kept, PG_referenced
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 2)        # the two oldest swapped out
    swapped = [v for v in range(6) if sim.page_state("A", 3, v)["state"] == "swap"]
    assert len(swapped) == 2 and sim.meminfo()["SwapFree"] == (64 - 2) * 4
    free = sim.nr_free
    sim.access("U", 3)
    assert sim.nr_free == free + 4
    assert sim.meminfo()["SwapFree"] == 64 * 4
    assert all(sim.page_state("A", 3, v)["state"] == "none" for v in range(6))
    vm = sim.vmstat()
    assert vm["nr_anon_pages"] == 0 and vm["nr_inactive_anon"] == 0
    ev = sim.events_since(0)
    assert (ev["kind"] == EVENT_KINDS.index("free")).sum() == 4
    assert sim.check_invariants() == []
    sim.access("A", 3, 0)                                    # the owner may come back
    assert sim.page_state("A", 3, 0)["state"] == "resident"


def test_vm_locked_mapping_makes_folios_unevictable__lru_add():
    sim = make()
    sim.set_vma_flags("M", 0, VM_SHARED | VM_LOCKED)
    sim.access("M", 0, 0)
    p = sim.page_state("M", 0, 0)["pfn"]
    assert sim.folio(p)["list"] == "LRU_UNEVICTABLE" and "PG_unevictable" in sim.folio(p)["flags"]
    assert sim.vmstat()["unevictable_pgs_culled"] == 1 and sim.vmstat()["nr_unevictable"] == 1
    assert sim.meminfo()["Mlocked"] == 4
    r = sim.reclaim(32, priority=0)
    assert r["nr_reclaimed"] == 0 and sim.page_state("M", 0, 0)["state"] == "resident"
    # an existing folio met by the rmap walk under VM_LOCKED
    sim.access("X", 1, 0)
    q = sim.page_state("X", 1, 0)["pfn"]
    sim.set_vma_flags("X", 1, 1 | VM_LOCKED)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    assert sim.folio(q)["list"] == "LRU_UNEVICTABLE"
    assert sim.check_invariants() == []


def test_allocation_fails_visibly_when_nothing_is_killable__out_of_memory():
    sim = make(swap_kind="none", swap_pages=0)
    sim.set_vma_flags("M", 0, VM_SHARED | VM_LOCKED)
    w = np.zeros(200, dtype=ACCESS_DTYPE)
    w["op"] = 3
    w["page"] = np.arange(200)
    sim.set_workload(w)
    assert sim.step("access", 200) == 200 and sim.done
    assert sim.nr_free == 0 and sim.nr_alloc_fail == 200 - 128
    assert sim.vmstat()["oom_kill"] == 0 and sim.vmstat()["allocstall_movable"] > 0
    ev = sim.events_since(0)
    fails = ev[(ev["kind"] == EVENT_KINDS.index("oom_kill")) & (ev["mapping"] == 0xFFFFFFFF)]
    assert len(fails) == 200 - 128
    assert sim.check_invariants() == []


def test_background_flusher_above_dirty_background_ratio_and_writeback_latency():
    sim = make(ram_pages=1024, watermarks={"min": 4, "low": 8, "high": 12})
    lat = sim.config["costs"]["file_write"]
    k = 0
    prev = None
    while sim.vmstat()["nr_writeback"] == 0:
        k += 1
        sim.access("W", 0, k)
        vm = sim.vmstat()
        if vm["nr_writeback"] == 0:
            prev = (vm["nr_dirty"], sim.nr_free + vm["nr_file_pages"])
    # balance_dirty_pages: woken once nr_dirty > 10 % of free + file pages
    assert prev[0] * 10 <= prev[1] and k * 10 > sim.nr_free + sim.vmstat()["nr_file_pages"]
    assert sim.vmstat()["nr_dirty"] == 0 and sim.vmstat()["nr_writeback"] == k
    t_submit = sim.time_ns
    sim.access("R", 0, 1)                                    # a page-cache hit: 200 ns later
    assert sim.vmstat()["nr_writeback"] == k
    while sim.time_ns < t_submit + lat:
        sim.access("R", 0, 1)
    sim.access("R", 0, 1)
    assert sim.vmstat()["nr_writeback"] == 0 and sim.vmstat()["pgrotated"] == 0   # no PG_reclaim


def test_clocks_advance_by_the_cost_table():
    sim = make(costs={"access": 7, "minor_fault": 11, "read_hit": 13, "file_read": 17})
    sim.access("A", 0, 0)
    assert sim.time_ns == 11
    sim.access("A", 0, 0)
    assert sim.time_ns == 18
    sim.access("R", 0, 0)
    assert sim.time_ns == 35
    sim.access("R", 0, 0)
    assert sim.time_ns == 48
    sim.access("M", 0, 0)                                    # page-cache hit through a new mapping
    assert sim.time_ns == 59
    assert sim.kswapd_time_ns == 0


def test_folio_and_page_state_views():
    sim = make()
    sim.access("A", 2, 77, write=True)
    st = sim.page_state("A", 2, 77)
    f = sim.folio(st["pfn"])
    assert f["type"] == "anon" and f["mapping"] == 2 and f["index"] == 77 and f["mapcount"] == 1
    assert f["list"] == "LRU_INACTIVE_ANON" and f["young"] == [{"mm": 2, "young": True, "dirty": True}]
    assert sim.page_state("R", 9, 9) == {"state": "none"}
    fr = sim.frames()
    assert fr["mapping"][st["pfn"]] == 5 and fr["index"][st["pfn"]] == 77   # mm id = owner + 3

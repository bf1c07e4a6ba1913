"""Spec §6 behaviours 1-28 (classic LRU and refault detection), one test each.

Each test builds a tiny machine with watermarks low enough that kswapd never
runs by itself, drives it with the `sim.access` hook and scans with the classic
policy's `shrink_list_now` hook (one shrink_list() call) or `sim.reclaim`
(one whole shrink_node pass), and asserts the flags, list positions, counters
and clock values the spec states.
"""
import numpy as np
import pytest

from engine import ACCESS_DTYPE, Simulator
from engine.names import EVENT_KINDS, PG, REASON_NAMES

VM_EXEC, VM_LOCKED, VM_SHARED = 1, 2, 16
PG_referenced, PG_reclaim, PG_workingset = PG["PG_referenced"], PG["PG_reclaim"], PG["PG_workingset"]
PGDAT_DIRTY = 1


def make(ram=256, swap=128, kind="zram", wm=(1, 2, 3), **extra):
    # one page per miss: the behaviours are reclaim's, readahead has test_readahead.py
    cfg = {"ram_pages": ram, "swap_pages": swap, "swap_kind": kind, "readahead_pages": 0,
           "watermarks": {"min": wm[0], "low": wm[1], "high": wm[2]}}
    if kind == "none":
        cfg["swap_pages"] = 0
    cfg.update(extra)
    return Simulator(cfg)


def pfn(sim, op, owner, page):
    st = sim.page_state(op, owner, page)
    assert st["state"] in ("resident", "swapcache"), st
    return st["pfn"]


def flags(sim, p):
    return set(sim.folio(p)["flags"])


def lst(sim, name):
    return [int(x) for x in sim.lists()[name]]


def vm(sim, name):
    return sim.vmstat()[name]


def fill_workload(sim, op, owner, pages, write=False):
    """Run accesses through the fast path (for big lists)."""
    w = np.zeros(len(pages), dtype=ACCESS_DTYPE)
    w["op"] = op
    w["owner"] = owner
    w["page"] = pages
    w["write"] = write
    sim.set_workload(w)
    assert sim.run(len(pages)) == len(pages)


def activate_anon(sim, vpns, owner=0):
    """Fault, scan (KEEP: young once), touch again, scan (ACTIVATE)."""
    for v in vpns:
        sim.access("A", owner, v)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", len(vpns))
    for v in vpns:
        sim.access("A", owner, v)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", len(vpns))
    for v in vpns:
        assert "PG_active" in flags(sim, pfn(sim, "A", owner, v))


def test_b01_read_creates_inactive_referenced_second_read_activates__lru_add_folio_mark_accessed_filemap_read():
    sim = make()
    sim.access("R", 0, 0)
    p0 = pfn(sim, "R", 0, 0)
    assert lst(sim, "LRU_INACTIVE_FILE")[0] == p0                  # inactive-file head
    assert flags(sim, p0) >= {"PG_referenced", "PG_lru"} and "PG_active" not in flags(sim, p0)
    sim.access("R", 0, 0)                                          # continues inside the same page
    assert "PG_active" not in flags(sim, p0) and vm(sim, "pgactivate") == 0
    age = sim.lruvec["nonresident_age"]
    sim.access("R", 0, 1)
    sim.access("R", 0, 0)                                          # a second read() call on it
    assert lst(sim, "LRU_ACTIVE_FILE")[0] == p0                    # active head
    assert "PG_active" in flags(sim, p0) and "PG_referenced" not in flags(sim, p0)
    assert vm(sim, "pgactivate") == 1
    assert sim.lruvec["nonresident_age"] == age + 1
    assert sim.check_invariants() == []


def test_b02_read_of_active_page_only_sets_referenced__folio_mark_accessed():
    sim = make()
    for page in (0, 1, 0):
        sim.access("R", 0, page)
    p0 = pfn(sim, "R", 0, 0)
    assert "PG_active" in flags(sim, p0) and "PG_referenced" not in flags(sim, p0)
    sim.access("R", 0, 2)
    before_active, before_inactive = lst(sim, "LRU_ACTIVE_FILE"), lst(sim, "LRU_INACTIVE_FILE")
    act, age = vm(sim, "pgactivate"), sim.lruvec["nonresident_age"]
    sim.access("R", 0, 0)
    assert flags(sim, p0) >= {"PG_active", "PG_referenced"}
    assert lst(sim, "LRU_ACTIVE_FILE") == before_active == [p0]   # nothing moves
    assert lst(sim, "LRU_INACTIVE_FILE") == before_inactive
    assert vm(sim, "pgactivate") == act and sim.lruvec["nonresident_age"] == age
    sim.access("R", 0, 2)
    sim.access("R", 0, 0)                                          # active and referenced: unchanged
    assert flags(sim, p0) >= {"PG_active", "PG_referenced"}
    assert vm(sim, "pgactivate") == act + 1                        # only page 2's activation


def test_b03_new_anon_fault_goes_to_inactive_anon_head__folio_add_lru_vma_lru_add():
    sim = make()
    sim.access("A", 0, 5)
    sim.access("A", 0, 6)
    p6 = pfn(sim, "A", 0, 6)
    assert lst(sim, "LRU_INACTIVE_ANON")[0] == p6
    assert "PG_active" not in flags(sim, p6) and "PG_referenced" not in flags(sim, p6)
    assert sim.page_state("A", 0, 6)["young"] is True
    assert vm(sim, "pgfault") == 2 and vm(sim, "nr_inactive_anon") == 2


def test_b04_clean_unmapped_file_folio_freed_in_one_pass__shrink_folio_list_remove_mapping_workingset_eviction():
    # a read at the start of the file opens a window of 2 with ra_pages 2
    # (page_cache_sync_ra() + get_init_ra_size()): folio 0's neighbour 1 comes in unreferenced
    sim = make(readahead_pages=2)
    sim.access("R", 3, 0)                   # folio 0 (PG_referenced) + read-ahead folio 1 (unreferenced)
    p1 = pfn(sim, "R", 3, 1)
    assert "PG_referenced" not in flags(sim, p1) and "PG_readahead" in flags(sim, p1)
    assert lst(sim, "LRU_INACTIVE_FILE") == [p1, pfn(sim, "R", 3, 0)]
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)       # tail first: the referenced one goes (clean)
    age = sim.lruvec["nonresident_age"]
    scan, steal = vm(sim, "pgscan_kswapd"), vm(sim, "pgsteal_kswapd")
    assert lst(sim, "LRU_INACTIVE_FILE") == [p1]
    res = sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    assert res["nr_reclaimed"] == 1
    assert vm(sim, "pgscan_kswapd") == scan + 1 and vm(sim, "pgsteal_kswapd") == steal + 1
    st = sim.page_state("R", 3, 1)
    assert st["state"] == "shadow" and st["eviction"] == age and st["workingset"] is False
    assert sim.lruvec["nonresident_age"] == age + 1
    assert sim.folio(p1)["free"]
    assert sim.check_invariants() == []


def _mapped_pair(sim):
    sim.access("M", 0, 0)
    sim.access("M", 0, 1)
    return pfn(sim, "M", 0, 0), pfn(sim, "M", 0, 1)


def test_b05_mapped_folio_young_once_is_kept_and_referenced__folio_check_references_keep():
    sim = make()
    p0, p1 = _mapped_pair(sim)
    assert lst(sim, "LRU_INACTIVE_FILE") == [p1, p0]
    assert "PG_referenced" not in flags(sim, p0)            # a fault does not mark accessed
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    assert "PG_referenced" in flags(sim, p0) and "PG_active" not in flags(sim, p0)
    assert sim.page_state("M", 0, 0)["young"] is False       # young bit cleared
    assert lst(sim, "LRU_INACTIVE_FILE") == [p0, p1]          # back to the inactive head
    assert vm(sim, "pgactivate") == 0 and vm(sim, "pgsteal_kswapd") == 0


def test_b06_young_again_at_next_scan_is_activated__folio_check_references():
    sim = make()
    p0, p1 = _mapped_pair(sim)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)        # KEEP: p0 to the head
    sim.access("M", 0, 0)                                    # young again
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 2)        # p1 (young once: keep), then p0
    assert "PG_active" in flags(sim, p0)
    assert lst(sim, "LRU_ACTIVE_FILE") == [p0]
    assert vm(sim, "pgactivate") == 1
    assert "PG_active" not in flags(sim, p1)


def test_b07_young_in_two_vmas_or_one_exec_vma_activates_at_first_scan__folio_check_references():
    sim = make()
    sim.set_vma_flags("X", 0, VM_SHARED)                     # second mapping of file 0, not exec
    sim.access("M", 0, 0)
    sim.access("X", 0, 0)
    p = pfn(sim, "M", 0, 0)
    assert sim.folio(p)["mapcount"] == 2
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    assert "PG_active" in flags(sim, p) and vm(sim, "pgactivate") == 1
    ev = sim.events_since(0)
    act = ev[(ev["kind"] == EVENT_KINDS.index("pgactivate")) & (ev["pfn"] == p)]
    assert REASON_NAMES[act[-1]["reason"]] == "FOLIOREF_ACTIVATE_MULTI"
    # a file folio young in one VM_EXEC mapping
    sim.access("X", 1, 0)
    q = pfn(sim, "X", 1, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    assert "PG_active" in flags(sim, q) and vm(sim, "pgactivate") == 2
    ev = sim.events_since(0)
    act = ev[(ev["kind"] == EVENT_KINDS.index("pgactivate")) & (ev["pfn"] == q)]
    assert REASON_NAMES[act[-1]["reason"]] == "FOLIOREF_ACTIVATE_EXEC"
    # an anon folio is never activated for VM_EXEC; one young sighting keeps it
    sim.access("A", 0, 0)
    a = pfn(sim, "A", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    assert "PG_active" not in flags(sim, a)


@pytest.mark.parametrize("kernel", ["6.12", "7.3"])
def test_b08_referenced_only_anon_reclaimed_file_reclaimed_if_clean__folio_check_references_reclaim_clean(kernel):
    # the last case differs: 7.3 has no FOLIOREF_RECLAIM_CLEAN and reclaim never
    # writes a file folio (folio_check_references() 7.3 vmscan.c:867-922,
    # shrink_folio_list() :1369-1382)
    sim = make(kernel=kernel)
    # anon: old PTE + PG_referenced -> RECLAIM (swapped out and freed)
    sim.access("A", 0, 0)
    a = pfn(sim, "A", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # young -> KEEP, PG_referenced
    assert "PG_referenced" in flags(sim, a)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    assert sim.page_state("A", 0, 0)["state"] == "swap" and vm(sim, "pswpout") == 1
    # unmapped clean file folio with PG_referenced -> RECLAIM_CLEAN -> freed
    sim.access("R", 0, 0)
    assert "PG_referenced" in flags(sim, pfn(sim, "R", 0, 0))
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    assert sim.page_state("R", 0, 0)["state"] == "shadow"
    # dirty: rule 11 - PG_reclaim, activated, nr_vmscan_immediate_reclaim
    sim.access("W", 1, 0)
    w = pfn(sim, "W", 1, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1, reclaimer="direct")
    assert flags(sim, w) >= {"PG_reclaim", "PG_active"}
    assert vm(sim, "nr_vmscan_immediate_reclaim") == 1
    # kswapd meeting a dirty referenced folio with PG_reclaim under PGDAT_DIRTY: kept, not written
    # (PG_referenced comes from read(); write() does not mark accessed: FGP_WRITEBEGIN)
    sim.access("R", 2, 0)
    sim.access("W", 2, 0)
    k = pfn(sim, "W", 2, 0)
    assert {"PG_referenced", "PG_dirty"} <= flags(sim, k)
    sim.debug_set_folio_flags(k, set_mask=PG_reclaim)
    sim.debug_set_lruvec_flags(PGDAT_DIRTY)
    writes = vm(sim, "nr_vmscan_write")
    # the flushers have cleaned w meanwhile and its completion rotated it to the tail
    # ahead of k: scan the whole list (w is clean and unreferenced, so simply freed)
    assert lst(sim, "LRU_INACTIVE_FILE") == [k, w] and "PG_dirty" not in flags(sim, w)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 2, reclaimer="kswapd")
    assert sim.page_state("W", 1, 0)["state"] == "shadow"
    assert vm(sim, "nr_vmscan_write") == writes
    if kernel == "7.3":
        # RECLAIM, then dirty file: immediate reclaim, activated with PG_reclaim
        assert flags(sim, k) >= {"PG_reclaim", "PG_active"}
        assert vm(sim, "nr_vmscan_immediate_reclaim") == 2
        return
    assert "PG_active" not in flags(sim, k)
    assert lst(sim, "LRU_INACTIVE_FILE")[0] == k
    assert vm(sim, "nr_vmscan_immediate_reclaim") == 1
    ev = sim.events_since(0)
    put = ev[(ev["pfn"] == k) & (ev["kind"] == EVENT_KINDS.index("putback"))]
    assert REASON_NAMES[put[-1]["reason"]] == "FOLIOREF_RECLAIM_CLEAN"


def test_6_12_kswapd_writes_a_dirty_file_folio_seen_before_under_pgdat_dirty_7_3_never__shrink_folio_list():
    # 6.12 vmscan.c:1349-1360: kswapd, PG_reclaim and PGDAT_DIRTY -> pageout();
    # 7.3 :1369-1382: immediate reclaim whoever reclaims
    for kernel, written in (("6.12", 1), ("7.3", 0)):
        sim = make(kernel=kernel)
        sim.access("W", 0, 0)
        w = pfn(sim, "W", 0, 0)
        sim.debug_set_folio_flags(w, set_mask=PG_reclaim)
        sim.debug_set_lruvec_flags(PGDAT_DIRTY)
        sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1, reclaimer="kswapd")
        assert vm(sim, "nr_vmscan_write") == written, kernel
        assert vm(sim, "nr_vmscan_immediate_reclaim") == 1 - written, kernel


def test_b09_shrink_active_list_deactivates_even_young_except_exec_file__shrink_active_list():
    sim = make()
    activate_anon(sim, [0])
    for v in range(40):                                      # lrusize large enough that costs are not halved
        sim.access("A", 1, v)
    a = pfn(sim, "A", 0, 0)
    sim.access("A", 0, 0)                                    # young PTE while active
    sim.policy.shrink_list_now("LRU_ACTIVE_ANON", 32)
    assert "PG_active" not in flags(sim, a) and "PG_workingset" in flags(sim, a)
    assert lst(sim, "LRU_INACTIVE_ANON")[0] == a
    assert vm(sim, "pgdeactivate") == 1
    # exec file folio: rotates on the active list, file_cost += nr_rotated
    sim.access("X", 0, 0)
    x = pfn(sim, "X", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)        # exec: activated at once
    assert "PG_active" in flags(sim, x)
    sim.access("X", 0, 0)
    sim.access("M", 1, 0)
    m = pfn(sim, "M", 1, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    sim.access("M", 1, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    assert "PG_active" in flags(sim, m)
    sim.access("M", 1, 0)                                    # young, but not exec
    sim.access("X", 0, 0)
    cost, rotated = sim.lruvec["file_cost"], sim.lruvec["rotated"][1]
    sim.policy.shrink_list_now("LRU_ACTIVE_FILE", 32)
    assert "PG_active" in flags(sim, x) and lst(sim, "LRU_ACTIVE_FILE")[0] == x
    assert "PG_active" not in flags(sim, m) and "PG_workingset" in flags(sim, m)
    # 7.3 counts the rotation (PGROTATE_FILE, vmscan.c:2147) for the next
    # prepare_scan_control() instead of lru_note_cost(file_cost += nr_rotated)
    assert sim.lruvec["file_cost"] == cost and sim.lruvec["rotated"][1] == rotated + 1
    assert vm(sim, "pgdeactivate") == 2
    assert sim.check_invariants() == []


def test_b10_active_list_scanned_only_if_inactive_low_or_refault_activations__prepare_scan_control_shrink_list():
    sim = make(ram=1024, swap=0, kind="none")
    for page in range(10):
        sim.access("R", 0, page)
    for page in range(10):
        sim.access("R", 0, 20 + page)
    for page in range(10):                                   # 10 active, 10 inactive: not low
        sim.access("R", 0, page)
    assert vm(sim, "nr_active_file") == 10 and vm(sim, "nr_inactive_file") == 10
    sim.policy.snapshot_refaults_now()
    r = sim.reclaim(1, priority=0)
    assert not (r["may_deactivate"] & 2) and r["skipped_deactivate"]
    assert vm(sim, "pgrefill") == 0
    # inactive now low (the pass freed inactive folios): the active list is scanned
    sim2 = make(ram=1024, swap=0, kind="none")
    for page in range(10):
        sim2.access("R", 0, page)
    for page in range(10):
        sim2.access("R", 0, 20 + page)
    for page in range(10):
        sim2.access("R", 0, page)
    sim2.policy.shrink_list_now("LRU_INACTIVE_FILE", 5)
    assert vm(sim2, "nr_inactive_file") < vm(sim2, "nr_active_file")
    r = sim2.reclaim(1, priority=0)
    assert r["may_deactivate"] & 2 and vm(sim2, "pgrefill") > 0
    # workingset activations since the last snapshot also allow it, inactive not low
    sim3 = make(ram=1024)
    sim3.access("A", 0, 0)
    sim3.access("A", 0, 1)
    for page in range(10):
        sim3.access("R", 0, page)
    sim3.policy.snapshot_refaults_now()
    sim3.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)      # evict page 0
    sim3.access("R", 0, 0)                                   # recent refault: workingset_activate_file
    assert vm(sim3, "workingset_activate_file") == 1
    assert not sim3.policy.snapshot()["inactive_is_low"]["file"]
    r = sim3.reclaim(1, priority=12)
    assert r["may_deactivate"] & 2


def test_b11_inactive_is_low_ratio_below_1g_and_at_4g__inactive_is_low():
    pol = make().policy
    assert pol.inactive_is_low_for(100, 101) and not pol.inactive_is_low_for(100, 100)   # < 1 GiB: 1:1
    four_g = 1 << 20                                          # 4 GiB of 4 KiB pages in total
    inactive = four_g // 7
    active = four_g - inactive
    assert 6 * inactive < active and pol.inactive_is_low_for(inactive, active)
    inactive2 = four_g // 7 + 1000
    active2 = four_g - inactive2
    assert not (6 * inactive2 < active2) and not pol.inactive_is_low_for(inactive2, active2)
    assert pol.inactive_is_low_for(1000, 10 * 1000 + 1 + (10 << 18)) is True   # 10 GiB -> ratio 10
    sim = make()
    sim.access("A", 0, 0)
    assert sim.policy.snapshot()["inactive_is_low"]["anon"] is False


def test_b12_priority_12_scan_target_4095_is_0_4096_is_1__get_scan_count():
    for n, expect in ((4095, 0), (4096, 1)):
        # file + free <= high and inactive_anon >> 12 != 0: file_is_tiny -> SCAN_ANON keeps the 1
        sim = make(ram=4200, swap=4096, wm=(10, 20, 200))
        fill_workload(sim, 0, 0, np.arange(n))
        r = sim.reclaim(32, priority=12)
        assert r["targets"][0] == expect
        if expect:
            assert sim.policy.last_scan_balance()["balance"] == "SCAN_ANON"
    # SCAN_FRACT with zero costs: 1 * 60 / 200 -> 0
    sim = make(ram=16384, swap=8192)
    fill_workload(sim, 0, 0, np.arange(4096))
    r = sim.reclaim(32, priority=12)
    assert sim.policy.last_scan_balance()["balance"] == "SCAN_FRACT" and r["targets"][0] == 0


def test_b13_one_shrink_list_call_processes_at_most_32__shrink_lruvec():
    sim = make(ram=1024, swap=0, kind="none")
    fill_workload(sim, 1, 0, np.arange(200))
    before = sim.nr_batches
    seq = sim.event_seq
    r = sim.reclaim(1000, priority=0)
    ev = sim.events_since(seq)
    isolate = EVENT_KINDS.index("mm_vmscan_lru_isolate")
    summary = EVENT_KINDS.index("mm_vmscan_lru_shrink_inactive")
    per_batch = np.diff(np.flatnonzero(np.isin(ev["kind"], [summary])), prepend=-1)
    batches = ev["batch"][ev["kind"] == isolate]
    counts = np.unique(batches, return_counts=True)[1]
    assert counts.max() <= 32 and counts.max() == 32
    assert r["nr_batches"] == sim.nr_batches - before == len(counts)
    assert r["nr_scanned"] == 200 and len(per_batch) == len(counts)


def test_b14_swappiness_0_never_scans_inactive_anon_but_ages_active_anon__get_scan_count_shrink_lruvec():
    sim = make(ram=1024, swap=512, swappiness=0)
    activate_anon(sim, list(range(20)))
    for v in range(20, 25):
        sim.access("A", 0, v)                                # inactive anon 5 < active anon 20: low
    for page in range(300):
        sim.access("R", 0, page)                             # ample file
    scanned_anon = vm(sim, "pgscan_anon")
    for prio in (12, 6, 1, 0):
        sim.reclaim(32, priority=prio)
    assert vm(sim, "pgscan_anon") == scanned_anon             # inactive anon never scanned
    assert vm(sim, "pgdeactivate") > 0                        # active anon still deactivated
    assert vm(sim, "nr_active_anon") < 20


def test_b15_no_free_swap_scan_file_but_anon_still_aged_while_swap_exists__get_scan_count_can_age_anon_pages():
    sim = make(ram=1024, swap=4)
    for v in range(4):                                       # fill the swap device
        sim.access("A", 5, v)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 4)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 4)
    assert sim.meminfo()["SwapFree"] == 0
    activate_anon(sim, list(range(20)))
    for page in range(100):
        sim.access("R", 0, page)
    deact = vm(sim, "pgdeactivate")
    sim.reclaim(32, priority=0)
    assert sim.policy.last_scan_balance()["balance"] == "SCAN_FILE"
    assert vm(sim, "pgdeactivate") > deact                   # full swap device: anon still aged
    # no swap configured at all: anon is not aged
    sim2 = make(ram=1024, kind="none")
    activate_anon(sim2, list(range(10)))
    for page in range(100):
        sim2.access("R", 0, page)
    scanned = vm(sim2, "pgscan_anon")
    sim2.reclaim(32, priority=0)
    assert sim2.policy.last_scan_balance()["balance"] == "SCAN_FILE"
    assert vm(sim2, "pgdeactivate") == 0 and vm(sim2, "pgscan_anon") == scanned
    assert vm(sim2, "nr_active_anon") == 10


def _tiny_file_machine(swappiness):
    # file + free <= high: only anon pages and a few file pages, free small
    sim = make(ram=300, swap=300, wm=(5, 10, 100), swappiness=swappiness)
    fill_workload(sim, 0, 0, np.arange(250))
    for page in range(10):
        sim.access("R", 0, page)
    return sim


@pytest.mark.parametrize("swappiness", [0, 60, 200])
def test_b16_file_is_tiny_scans_only_anon_except_priority_0__prepare_scan_control_get_scan_count(swappiness):
    sim = _tiny_file_machine(swappiness)
    r = sim.reclaim(32, priority=4)
    assert r["file_is_tiny"] == 1
    assert sim.policy.last_scan_balance()["balance"] == "SCAN_ANON"
    assert r["targets"][2] == 0 and r["targets"][0] > 0
    sim = _tiny_file_machine(swappiness)
    sim.reclaim(32, priority=0)
    assert sim.policy.last_scan_balance()["balance"] == ("SCAN_EQUAL" if swappiness else "SCAN_ANON")


def test_b17_priority_0_with_swappiness_scans_both_by_size__get_scan_count():
    sim = make(ram=1024, swap=512)
    for v in range(30):
        sim.access("A", 0, v)
    for page in range(50):
        sim.access("R", 0, page)
    r = sim.reclaim(1000, priority=0)
    assert sim.policy.last_scan_balance()["balance"] == "SCAN_EQUAL"
    assert r["targets"][0] == 30 and r["targets"][2] == 50


def test_b18_zero_costs_swappiness_60_fractions_are_60_140__get_scan_count():
    sim = make(ram=16384, swap=8192)
    for v in range(30):
        sim.access("A", 0, v)
    for page in range(50):
        sim.access("R", 0, page)
    assert sim.lruvec["anon_cost"] == 0 and sim.lruvec["file_cost"] == 0
    sim.reclaim(32, priority=12)
    b = sim.policy.last_scan_balance()
    assert b == {"balance": "SCAN_FRACT", "ap": 60, "fp": 140}


def test_b19_dirty_file_by_direct_reclaim_immediate_then_rotated_and_freed__shrink_folio_list_folio_rotate_reclaimable():
    sim = make()
    sim.access("W", 0, 0)
    p = pfn(sim, "W", 0, 0)
    res = sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1, reclaimer="direct")
    assert flags(sim, p) >= {"PG_reclaim", "PG_active"}
    assert lst(sim, "LRU_ACTIVE_FILE") == [p]
    assert vm(sim, "nr_vmscan_immediate_reclaim") == 1 and vm(sim, "nr_vmscan_write") == 0
    assert res["nr_unqueued_dirty"] == 1
    # every taken folio was dirty and unqueued: the flushers were woken and write it
    assert "PG_writeback" in flags(sim, p) and vm(sim, "nr_writeback") == 1
    sim.access("R", 0, 1)                                    # another inactive folio at the head
    sim.writeback_complete_all()
    assert vm(sim, "pgrotated") == 1
    assert "PG_reclaim" not in flags(sim, p) and "PG_active" not in flags(sim, p)
    assert lst(sim, "LRU_INACTIVE_FILE")[-1] == p             # inactive tail
    res = sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    assert res["nr_reclaimed"] == 1 and sim.page_state("W", 0, 0)["state"] == "shadow"
    assert sim.check_invariants() == []


def test_b20_folio_under_writeback_gets_pg_reclaim_and_is_activated__shrink_folio_list():
    sim = make()
    sim.access("W", 0, 0)
    p = pfn(sim, "W", 0, 0)
    assert sim.wakeup_flusher_threads() == 1
    assert "PG_writeback" in flags(sim, p) and "PG_reclaim" not in flags(sim, p)
    act = vm(sim, "pgactivate")
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1, reclaimer="direct")
    assert flags(sim, p) >= {"PG_reclaim", "PG_active", "PG_writeback"}
    assert vm(sim, "pgactivate") == act + 1


@pytest.mark.parametrize("kind", ["zram", "ssd"])
def test_b21_anon_reclaim_swap_cache_and_pageout_sync_or_async__shrink_folio_list_pageout(kind):
    sim = make(kind=kind)
    sim.access("A", 0, 0)
    sim.access("A", 0, 1)
    p = pfn(sim, "A", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 2)        # young: keep both
    # both KEEP; move_folios_to_lru() puts them back tail-first to the head, so vpn 0's
    # folio (the older) is the tail again
    assert lst(sim, "LRU_INACTIVE_ANON")[-1] == p
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    tail_vpn = 0
    assert sim.page_state("A", 0, 1)["state"] == "resident"
    assert vm(sim, "pswpout") == 1 and vm(sim, "nr_vmscan_write") == 1
    if kind == "zram":
        assert sim.page_state("A", 0, tail_vpn)["state"] == "swap"   # freed in the same pass
        assert vm(sim, "pgsteal_kswapd") == 1
    else:
        st = sim.page_state("A", 0, tail_vpn)
        assert st["state"] == "swapcache"                   # still on the LRU under writeback
        q = st["pfn"]
        assert flags(sim, q) >= {"PG_writeback", "PG_reclaim", "PG_swapcache"}
        assert vm(sim, "pgsteal_kswapd") == 0
        sim.access("R", 0, 0)
        sim.writeback_complete_all()
        assert vm(sim, "pgrotated") == 1 and lst(sim, "LRU_INACTIVE_ANON")[-1] == q
        sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
        assert sim.page_state("A", 0, tail_vpn)["state"] == "swap"
        assert vm(sim, "pswpout") == 1 and vm(sim, "pgsteal_kswapd") == 1
    assert sim.check_invariants() == []


def swap_out_then_in(sim, write=False):
    """Fault A 0 0, reclaim it to swap (sync or async), fault it back."""
    sim.access("A", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # young: keep
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    sim.writeback_complete_all()
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # async: freed after completion
    assert sim.page_state("A", 0, 0)["state"] == "swap" and vm(sim, "pswpout") == 1
    sim.access("A", 0, 0, write=write)
    return pfn(sim, "A", 0, 0)


def test_b22_clean_swapcache_anon_freed_without_io__shrink_folio_list():
    sim = make(kind="ssd", swap=128)
    p = swap_out_then_in(sim)                                # read fault through the swap cache
    assert "PG_swapcache" in flags(sim, p) and "PG_dirty" not in flags(sim, p)
    assert vm(sim, "pswpin") == 1 and vm(sim, "nr_swapcached") == 1
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # young: keep
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    assert sim.page_state("A", 0, 0)["state"] == "swap"
    assert vm(sim, "pswpout") == 1 and vm(sim, "nr_vmscan_write") == 1   # no second write
    assert vm(sim, "nr_swapcached") == 0 and sim.check_invariants() == []


def test_b22_zram_swapin_skips_swap_cache_so_reclaim_writes_again__do_swap_page():
    # SWP_SYNCHRONOUS_IO with swap count 1: no swap cache, slot released at once
    sim = make(kind="zram", swap=128)
    free_before = sim.meminfo()["SwapFree"]
    p = swap_out_then_in(sim)
    assert "PG_swapcache" not in flags(sim, p) and "PG_dirty" not in flags(sim, p)
    assert vm(sim, "pswpin") == 1 and vm(sim, "pgmajfault") == 1 and vm(sim, "nr_swapcached") == 0
    assert sim.meminfo()["SwapFree"] == free_before
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # young: keep
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # add_to_swap() again, pageout()
    assert sim.page_state("A", 0, 0)["state"] == "swap"
    assert vm(sim, "pswpout") == 2 and vm(sim, "nr_vmscan_write") == 2
    assert sim.check_invariants() == []


def test_swapin_frees_slot_when_swap_more_than_half_full__should_try_to_free_swap():
    # vm_swap_full(): nr_swap_free * 2 < total frees the slot even on a read fault
    sim = make(kind="ssd", swap=1)
    p = swap_out_then_in(sim)
    assert "PG_swapcache" not in flags(sim, p) and "PG_dirty" in flags(sim, p)
    assert sim.meminfo()["SwapFree"] == sim.meminfo()["SwapTotal"] and vm(sim, "nr_swapcached") == 0
    # with swap mostly free a read fault keeps the slot
    sim = make(kind="ssd", swap=128)
    p = swap_out_then_in(sim)
    assert "PG_swapcache" in flags(sim, p)


def test_store_to_mapped_swapcache_folio_keeps_slot__do_swap_page_maps_writable():
    sim = make(kind="ssd", swap=128)
    p = swap_out_then_in(sim)
    swap_free = sim.meminfo()["SwapFree"]
    sim.access("A", 0, 0, write=True)                        # no fault: only the PTE dirty bit
    assert "PG_swapcache" in flags(sim, p) and "PG_dirty" not in flags(sim, p)
    assert sim.meminfo()["SwapFree"] == swap_free and vm(sim, "nr_swapcached") == 1
    # reclaim: try_to_unmap() moves the dirty bit to the folio, pageout() rewrites the slot
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # young: keep
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    assert vm(sim, "pswpout") == 2 and sim.meminfo()["SwapFree"] == swap_free
    assert sim.check_invariants() == []


def test_b23_kswapd_woken_at_low_stops_above_high_targets_high__wakeup_kswapd_balance_pgdat_kswapd_shrink_node():
    sim = make(ram=512, swap=256, wm=(10, 20, 40), costs={"read_hit": 1_000_000})
    w = np.zeros(900, dtype=ACCESS_DTYPE)
    w["op"] = 1
    w["page"] = np.minimum(np.arange(900), 493)             # then re-reads: 1 ms hits, no allocation
    sim.set_workload(w)
    woke_at = None
    for _ in range(600):
        free_before = sim.nr_free
        sim.step("access")
        if sim.kswapd["state"] != "sleeping":
            woke_at = free_before
            break
    assert woke_at is not None and woke_at <= 20 and woke_at > 19   # the first allocation at free <= low
    ev = sim.events_since(0)
    assert (ev["kind"] == EVENT_KINDS.index("mm_vmscan_kswapd_wake")).sum() == 0
    # run until kswapd naps/sleeps: the node is balanced, free > high
    for _ in range(2000):
        sim.step("access")
        if sim.kswapd["state"] != "running":
            break
    # balanced (free > high, strictly) and not hopeless: kswapd_try_to_sleep() naps
    assert sim.kswapd["state"] == "napping"
    assert sim.nr_free > 40 and sim.kswapd["kswapd_failures"] == 0
    assert sim.kswapd["nr_to_reclaim"] == max(40, 32)
    assert sim.kswapd["last_pass"]["nr_to_reclaim"] == 40
    assert vm(sim, "pageoutrun") == 1
    # after the nap prepare_kswapd_sleep() finds it still balanced: the full sleep
    sleeps = EVENT_KINDS.index("mm_vmscan_kswapd_sleep")
    assert (sim.events_since(0)["kind"] == sleeps).sum() == 0
    for _ in range(2000):
        sim.step("access")
        if sim.kswapd["state"] != "napping":
            break
    assert sim.kswapd["state"] == "sleeping" and sim.nr_free > 40
    assert (sim.events_since(0)["kind"] == sleeps).sum() == 1
    assert vm(sim, "kswapd_high_wmark_hit_quickly") == 0


def test_b24_kswapd_lowers_priority_only_if_short_of_target_or_nothing_reclaimed__balance_pgdat():
    from tests.conftest import make_workload
    sim = make(ram=2048, swap=1024, wm=(64, 128, 256))
    sim.set_workload(make_workload(7, 20000, 2048, "anon-loop"))
    seen = 0
    last = sim.kswapd["nr_passes"]
    while not sim.done and seen < 200:
        sim.step("shrink")
        k = sim.kswapd
        if k["nr_passes"] != last:
            last = k["nr_passes"]
            lp = k["last_pass"]
            short = max(lp["nr_scanned"], lp["nr_reclaimed"]) < lp["nr_to_reclaim"]
            lowered = lp["next_priority"] == lp["priority"] - 1
            assert lowered == (short or lp["nr_reclaimed"] == 0), lp
            assert lp["nr_to_reclaim"] == 256
            seen += 1
    assert seen > 20


def test_b25_direct_reclaim_stops_at_32_but_priority_12_finishes_targets__do_try_to_free_pages_shrink_lruvec():
    n = 1 << 18                                              # inactive file >> 12 = 64 per pass
    sim = make(ram=n + 4096, swap=0, kind="none", wm=(10, 20, 30))
    fill_workload(sim, 1, 0, np.arange(n))
    r = sim.reclaim(32, "direct", priority=12)
    assert r["targets"][2] == 64 and r["nr_reclaimed"] == 64        # proportional: the whole target
    r = sim.reclaim(32, "direct", priority=11)
    assert r["targets"][2] == (n - 64) >> 11 and r["nr_reclaimed"] == 32   # stops once 32 are reclaimed
    # through the allocator (free costs: kswapd cannot keep up): each direct reclaim
    # ends as soon as it has 32
    sim = make(ram=1024, swap=0, kind="none", wm=(100, 200, 300),
               costs={"file_read": 0, "read_hit": 0, "minor_fault": 0})
    w = np.zeros(2000, dtype=ACCESS_DTYPE)
    w["op"] = 1
    w["page"] = np.arange(2000)
    sim.set_workload(w)
    sim.step("access", 2000)
    assert vm(sim, "allocstall_movable") >= 1
    ev = sim.events_since(0)
    ends = ev[ev["kind"] == EVENT_KINDS.index("mm_vmscan_direct_reclaim_end")]
    assert len(ends) == vm(sim, "allocstall_movable")
    assert (ends["index"] >= 32).all()


# --- refault detection -----------------------------------------------------------------------

def _evict_file_page(sim, page=0):
    sim.access("R", 0, page)
    p = pfn(sim, "R", 0, page)
    while sim.page_state("R", 0, page)["state"] == "resident":
        sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    return p


def test_b26_file_refault_activated_iff_distance_within_workingset__workingset_test_recent_workingset_refault():
    # with swap: workingset = active_file + active_anon + inactive_anon
    sim = make()
    _evict_file_page(sim)
    st = sim.page_state("R", 0, 0)
    assert st["refault_distance"] == 1 and st["workingset_size"] == 0
    sim.access("R", 0, 0)                                    # 1 > 0: not recent
    p = pfn(sim, "R", 0, 0)
    assert "PG_active" not in flags(sim, p) and lst(sim, "LRU_INACTIVE_FILE")[0] == p
    assert vm(sim, "workingset_refault_file") == 1 and vm(sim, "workingset_activate_file") == 0
    sim = make()
    sim.access("A", 0, 0)                                    # inactive anon 1
    sim.access("A", 0, 1)
    _evict_file_page(sim)
    st = sim.page_state("R", 0, 0)
    assert st["refault_distance"] <= st["workingset_size"] == 2
    age = sim.lruvec["nonresident_age"]
    act = vm(sim, "pgactivate")
    sim.access("R", 0, 0)
    p = pfn(sim, "R", 0, 0)
    assert "PG_active" in flags(sim, p) and lst(sim, "LRU_ACTIVE_FILE")[0] == p
    assert vm(sim, "workingset_refault_file") == 1 and vm(sim, "workingset_activate_file") == 1
    assert sim.lruvec["nonresident_age"] == age + 1            # the refault activation ages the clock
    assert vm(sim, "pgactivate") == act                       # not counted for refault activations
    # without swap: workingset = active_file only
    sim = make(kind="none")
    sim.access("A", 0, 0)
    sim.access("A", 0, 1)
    _evict_file_page(sim)
    assert sim.page_state("R", 0, 0)["workingset_size"] == 0
    sim.access("R", 0, 0)
    assert "PG_active" not in flags(sim, pfn(sim, "R", 0, 0))


def test_b27_anon_refault_compares_against_file_lists_and_active_anon__workingset_test_recent():
    sim = make()
    sim.access("A", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    st = sim.page_state("A", 0, 0)
    assert st["state"] == "swap" and st["workingset_size"] == 0
    sim.access("A", 0, 0)
    assert "PG_active" not in flags(sim, pfn(sim, "A", 0, 0))
    assert vm(sim, "workingset_refault_anon") == 1 and vm(sim, "workingset_activate_anon") == 0
    sim = make()
    for page in range(3):
        sim.access("R", 0, page)                             # inactive file counts for anon refaults
    sim.access("A", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    st = sim.page_state("A", 0, 0)
    assert st["workingset_size"] == 3 and st["refault_distance"] == 1
    sim.access("A", 0, 0)
    assert "PG_active" in flags(sim, pfn(sim, "A", 0, 0))
    assert vm(sim, "workingset_activate_anon") == 1


def restored_file_refault(kernel):
    """A file folio evicted with PG_workingset and read again soon enough to
    be restored; returns (sim, its file_cost just before the refault)."""
    sim = make(ram=1024, swap=512, kernel=kernel)
    for v in range(200):
        sim.access("A", 1, v)                                # inactive anon: workingset size, lru size
    for page in (0, 1, 0):
        sim.access("R", 0, page)
    p = pfn(sim, "R", 0, 0)
    sim.policy.shrink_list_now("LRU_ACTIVE_FILE", 1)          # deactivated with PG_workingset
    assert "PG_workingset" in flags(sim, p)
    while sim.page_state("R", 0, 0)["state"] == "resident":
        sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    st = sim.page_state("R", 0, 0)
    assert st["workingset"] is True and st["refault_distance"] <= st["workingset_size"]
    cost = sim.lruvec["file_cost"]
    sim.access("R", 0, 0)
    q = pfn(sim, "R", 0, 0)
    assert flags(sim, q) >= {"PG_workingset", "PG_active"}
    assert vm(sim, "workingset_restore_file") == 1
    return sim, cost


def test_b28_workingset_refault_restores_pg_workingset_and_costs_32__workingset_refault_lru_note_cost_refault():
    # 6.12 (swap.c:271, :323): lru_note_cost_refault() charges nr_pages x SWAP_CLUSTER_MAX at once
    sim, cost = restored_file_refault("6.12")
    assert sim.lruvec["file_cost"] == cost + 32


def test_6_1_lru_note_cost_charges_pages_unweighted_and_no_rotations__lru_note_cost_folio_shrink_active_list():
    # 6.1 swap.c:290-333: lru_note_cost(nr_pages) adds the pages restored or written,
    # no SWAP_CLUSTER_MAX weight; its shrink_active_list() charges no rotations
    sim, cost = restored_file_refault("6.1")
    assert sim.lruvec["file_cost"] == cost + 1
    sim.access("X", 1, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 64)        # exec: activated at once
    sim.access("X", 1, 0)
    before = sim.lruvec["file_cost"]
    sim.policy.shrink_list_now("LRU_ACTIVE_FILE", 64, may_deactivate=3)
    assert "PG_active" in flags(sim, pfn(sim, "X", 1, 0))       # rotated on the active list
    assert sim.lruvec["file_cost"] == before


def test_7_3_reclaim_cost_is_folded_from_counters_in_prepare_scan_control__prepare_scan_control():
    # 7.3 vmscan.c:2310-2357: no lru_note_cost(); prepare_scan_control() adds the
    # WORKINGSET_RESTORE_FILE and PGROTATE_FILE deltas (I/O x SWAP_CLUSTER_MAX) since
    # its last call and halves both costs until they are at most a quarter of the LRU
    sim, cost = restored_file_refault("7.3")
    assert sim.lruvec["file_cost"] == cost                      # not charged at the refault
    anon = sim.lruvec["anon_cost"]
    rotated = sim.lruvec["rotated"][1]
    lrusize = sum(sim.policy.snapshot()["nr_pages"][k] for k in
                  ("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE"))
    got = sim.policy.prepare_scan_control_now()
    want_file, want_anon = cost + 32 + rotated, anon
    while want_file + want_anon > lrusize // 4:
        want_file, want_anon = want_file // 2, want_anon // 2
    assert got == {"anon_cost": want_anon, "file_cost": want_file} and want_file > 0
    assert sim.lruvec["file_cost"] == want_file
    assert sim.policy.prepare_scan_control_now() == got         # the deltas were consumed


def test_b13b_shrink_lruvec_makes_one_proportional_nudge_then_stops__shrink_lruvec():
    # kswapd, priority 0 (SCAN_EQUAL): targets 200 anon / 1000 file. Round 1 scans 32
    # of each (anon kept: young; file freed) and meets nr_to_reclaim = 32; the nudge
    # stops anon (83 % left) and scales file to 1000 * 17 % - 32 = 138; one more round
    # of 32 file folios, then the smaller type is 0 and the loop breaks.
    sim = make(ram=2048, swap=1024)
    fill_workload(sim, 0, 0, np.arange(200))
    fill_workload(sim, 1, 0, np.arange(1000))
    r = sim.reclaim(32, "kswapd", priority=0)
    assert r["targets"] == [200, 0, 1000, 0]
    assert vm(sim, "pgscan_anon") == 32 and vm(sim, "pgscan_file") == 64
    assert r["nr_reclaimed"] == 64 and r["nr_batches"] == 3


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_write_does_not_mark_accessed_nor_refault__filemap_get_folio_fgp_writebegin(policy):
    sim = make(policy=policy)
    sim.access("W", 0, 0)
    sim.access("W", 0, 0)
    sim.access("W", 0, 0)
    p = pfn(sim, "W", 0, 0)
    assert not ({"PG_referenced", "PG_active", "PG_workingset"} & flags(sim, p))
    assert vm(sim, "pgactivate") == 0 and vm(sim, "pgpgin") == 0    # a whole-page write reads nothing
    # a read marks it (filemap_read), so write() alone is what did not
    sim.access("R", 0, 0)
    assert {"PG_referenced"} & flags(sim, p) or policy == "lru_gen"
    # evict a written folio, then write over its shadow: not a refault (__GFP_WRITE)
    sim.access("W", 0, 1)
    sim.writeback_complete_all()
    q = pfn(sim, "W", 0, 1)
    for _ in range(20):
        if sim.page_state("W", 0, 1)["state"] == "shadow":
            break
        sim.reclaim(reclaimer="direct", priority=0)
        sim.writeback_complete_all()
    assert sim.page_state("W", 0, 1)["state"] == "shadow"
    refaults = {k: vm(sim, k) for k in ("workingset_refault_file", "workingset_activate_file",
                                         "workingset_restore_file", "pgpgin")}
    sim.access("W", 0, 1)
    assert {k: vm(sim, k) for k in refaults} == refaults
    assert sim.page_state("W", 0, 1)["state"] == "resident"
    # the same shadow met by read() is a refault
    for _ in range(20):
        if sim.page_state("W", 0, 1)["state"] == "shadow":
            break
        sim.writeback_complete_all()
        sim.reclaim(reclaimer="direct", priority=0)
    assert sim.page_state("W", 0, 1)["state"] == "shadow"
    sim.access("R", 0, 1)
    assert vm(sim, "workingset_refault_file") == refaults["workingset_refault_file"] + 1
    assert vm(sim, "pgpgin") == refaults["pgpgin"] + 4
    assert sim.check_invariants() == []


def _fruitless_kswapd(exit_mid_last_pass):
    # anon without swap is unreclaimable; dirty file pages stay under writeback
    sim = make(ram=1024, kind="none", wm=(4, 100, 120), costs={"file_write": 10**12})
    a = np.zeros(200, dtype=ACCESS_DTYPE); a["op"] = 0; a["owner"] = 0; a["page"] = np.arange(200)
    f = np.zeros(760, dtype=ACCESS_DTYPE); f["op"] = 2; f["owner"] = 1; f["page"] = np.arange(760)
    h = np.zeros(20000, dtype=ACCESS_DTYPE); h["owner"] = 1        # hits keep the workload's clock going
    sim.set_workload(np.concatenate([a, f, h]))
    for _ in range(3000):
        k = sim.kswapd
        if k["state"] == "running" and k["nr_passes"] > 0 and k["last_pass"]["next_priority"] == 1:
            break
        sim.step("scan")
    passes = sim.kswapd["nr_passes"]
    sim.step("scan")                                         # first batch of the priority-1 pass
    assert sim.kswapd["nr_passes"] == passes and sim.kswapd["priority"] == 1
    assert sim.kswapd["kswapd_failures"] == 0 and sim.nr_free <= 100
    if exit_mid_last_pass:
        sim.access("U", 0)                                   # free > high before the pass ends
        assert sim.nr_free > 120
    while sim.kswapd["nr_passes"] == passes:
        sim.step("scan")
    return sim


def test_kswapd_exhausted_priority_loop_restarts_even_if_freed_meanwhile__balance_pgdat():
    # the restart / failure count are on balance_pgdat()'s fall-through after priority 1,
    # not on the free count: memory freed during the last pass does not skip them
    sim = _fruitless_kswapd(True)
    assert sim.kswapd["priority"] == 12                     # cache_trim_mode_failed: goto restart
    for _ in range(50):
        if sim.kswapd["state"] != "running":
            break
        sim.step("access")
    assert sim.kswapd["state"] == "napping" and sim.kswapd["kswapd_failures"] == 0   # then balanced: out
    # without the exit: the restart's sweep fails too and kswapd_failures counts it
    sim = _fruitless_kswapd(False)
    assert sim.kswapd["kswapd_failures"] == 0                # the restart, not a failure yet
    for _ in range(200):
        if sim.kswapd["kswapd_failures"]:
            break
        sim.step("scan")
    assert sim.kswapd["kswapd_failures"] == 1 and sim.nr_free <= 120


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_fruitless_direct_reclaim_retries_full_walk_and_oom_on_17th__do_try_to_free_pages_should_reclaim_retry(policy):
    # anon without swap: nothing can be reclaimed
    sim = make(ram=256, kind="none", wm=(4, 8, 12), policy=policy)
    w = np.zeros(400, dtype=ACCESS_DTYPE)
    w["page"] = np.arange(400)
    sim.set_workload(w)
    ends = EVENT_KINDS.index("mm_vmscan_direct_reclaim_end")
    oom = EVENT_KINDS.index("oom_kill")
    while sim.direct_reclaim["nr_direct_reclaims"] == 0:
        sim.step("shrink")
    passes = 1
    while sim.direct_reclaim["active"]:
        sim.step("shrink")                                   # one shrink_node pass (priority)
        passes += 1
    assert passes == 2 * 13
    # one try_to_free_pages: the sweep, snapshot_refaults(), "goto retry" with memcg_full_walk
    # (above the ALLOCSTALL count), a second fruitless sweep, no skipped_deactivate: return 0
    assert sim.direct_reclaim["nr_direct_reclaims"] == 1 and vm(sim, "allocstall_movable") == 2
    assert sim.direct_reclaim["no_progress_loops"] == 1
    while vm(sim, "oom_kill") == 0:
        sim.step("shrink")
    # should_reclaim_retry(): no_progress_loops > MAX_RECLAIM_RETRIES (16) -> the 17th round OOMs
    assert sim.direct_reclaim["nr_direct_reclaims"] == 17 and vm(sim, "allocstall_movable") == 34
    ev = sim.events_since(0)
    assert (ev["kind"] == ends).sum() == 17 and (ev["kind"] == oom).sum() == 1


def test_pgdeactivate_leaves_out_folio_mlocked_by_rmap_walk__shrink_active_list_move_folios_to_lru():
    VM_LOCKED, VM_SHARED = 2, 16                            # engine enum values (test_engine_core)
    sim = make()
    sim.access("R", 0, 0)
    sim.access("R", 0, 1)
    sim.access("R", 0, 0)                                    # second mark: active
    sim.access("R", 0, 32)                                   # outside page 0's fault-around window
    sim.access("R", 0, 33)
    sim.access("R", 0, 32)
    sim.access("M", 0, 0)                                    # mapped, before the VMA is locked
    p, q = pfn(sim, "R", 0, 0), pfn(sim, "R", 0, 32)
    assert lst(sim, "LRU_ACTIVE_FILE") == [q, p] and "PG_mlocked" not in flags(sim, p)
    sim.set_vma_flags("M", 0, VM_SHARED | VM_LOCKED)
    sim.policy.shrink_list_now("LRU_ACTIVE_FILE", 2)
    assert "PG_unevictable" in flags(sim, p) and "PG_active" not in flags(sim, q)
    assert vm(sim, "pgdeactivate") == 1 and vm(sim, "unevictable_pgs_culled") == 1
    assert lst(sim, "LRU_INACTIVE_FILE")[0] == q


def test_exit_under_writeback_does_not_end_next_owners_writeback__folio_end_writeback():
    sim = make(kind="ssd", costs={"access": 10_000, "swap_write": 80_000, "file_write": 300_000})
    sim.access("A", 0, 0)
    p = pfn(sim, "A", 0, 0)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # young: keep
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)        # async pageout
    assert "PG_writeback" in flags(sim, p)
    t_swap_done = sim.time_ns + 80_000
    sim.access("U", 0)                                       # exit: the frame is freed at once
    sim.access("W", 1, 0)                                    # the next owner of the same frame
    assert pfn(sim, "W", 1, 0) == p
    sim.wakeup_flusher_threads()
    t_file_done = sim.time_ns + 300_000
    assert "PG_writeback" in flags(sim, p) and t_file_done > t_swap_done
    sim.access("A", 2, 0)
    while sim.time_ns <= t_swap_done + 10_000:
        sim.access("A", 2, 0)                                # hits: time passes
    assert sim.time_ns < t_file_done
    # the exited folio's completion was cancelled; the new folio's I/O is still in flight
    assert "PG_writeback" in flags(sim, p) and vm(sim, "nr_writeback") == 1
    sim.writeback_complete_all()
    assert "PG_writeback" not in flags(sim, p) and vm(sim, "nr_writeback") == 0
    assert sim.check_invariants() == []


def _first_kswapd_pass(n, op):
    # fill n frames with n + 64 distinct file pages; kswapd wakes at low and runs
    # one zone: with ZONE_DMA kswapd_shrink_node() adds its max(high, 32) to the target
    sim = make(ram=n, kind="none", wm=(8, 16, 24), zone_dma_pages=0)   # target max(24, 32) = 32
    w = np.zeros(n + 64, dtype=ACCESS_DTYPE)
    w["op"] = op
    w["page"] = np.arange(n + 64)
    sim.set_workload(w)
    while sim.kswapd["nr_passes"] == 0:
        sim.step("shrink")
    return sim, sim.kswapd["last_pass"]


def test_b24_constructed_cases_with_known_answers__balance_pgdat_kswapd_shrink_node():
    # A: ~140k clean read() pages: inactive_file >> 12 = 34 >= 32 scanned, all freed
    #    (RECLAIM_CLEAN) -> met the target and reclaimed: priority stays 12
    sim, lp = _first_kswapd_pass(140_000, 1)
    assert lp["priority"] == 12 and lp["nr_to_reclaim"] == 32
    assert lp["nr_scanned"] >= 32 and lp["nr_reclaimed"] >= 32 and lp["next_priority"] == 12
    # B: the same number of M-mapped pages, every PTE young: scanned >= target but the
    #    first sighting of a young mapped file folio is KEEP, nothing reclaimed -> drops
    sim, lp = _first_kswapd_pass(140_000, 3)
    assert lp["priority"] == 12 and lp["nr_scanned"] >= 32 and lp["nr_reclaimed"] == 0
    assert lp["next_priority"] == 11 and vm(sim, "pgsteal_kswapd") == 0
    # C: 4 Ki frames: priority 12 scans 4096 >> 12 = 0 (drops), priority 11 scans
    #    ~4096 >> 11 clean pages and frees them: reclaimed > 0 but short -> drops
    sim, lp = _first_kswapd_pass(4096, 1)
    assert lp["priority"] == 12 and lp["nr_scanned"] == 0 and lp["next_priority"] == 11
    sim.step("shrink")
    lp = sim.kswapd["last_pass"]
    assert lp["priority"] == 11 and 0 < lp["nr_scanned"] < 32
    assert lp["nr_reclaimed"] == lp["nr_scanned"] and lp["next_priority"] == 10

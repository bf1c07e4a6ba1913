"""MGLRU (lru_gen) behaviours 29-40 of spec §6, each named with its number and
kernel function, plus the window, switch and state invariants.

A small machine with swap and watermarks far below what the tests allocate,
so that nothing reclaims unless a test asks for it (debugfs '-', the
evict_once() hook or sim.reclaim()). Ages use the debugfs '+' command or the
policy's age() hook. Every test asserts exact gens, flags and counters.
"""

import numpy as np
import pytest

engine = pytest.importorskip("engine")
from engine import Simulator  # noqa: E402
from engine import DebugfsError  # noqa: E402

from engine.names import PG  # noqa: E402

# folio flags and bit fields (engine/_types.pxd)
PG_lru, PG_active, PG_referenced, PG_workingset = (PG[n] for n in ("PG_lru", "PG_active", "PG_referenced",
                                                                   "PG_workingset"))
PG_dirty, PG_writeback, PG_reclaim = PG["PG_dirty"], PG["PG_writeback"], PG["PG_reclaim"]
LRU_GEN_PGOFF, LRU_REFS_PGOFF = 16, 19
OP_ANON, OP_READ, OP_WRITE, OP_MMAP = 0, 1, 2, 3
ANON, FILE = 0, 1


def make(ram=1024, swap=1024, kernel="7.3", readahead=0, large_folios=None, **lru_gen):
    # readahead 0: one page per miss unless a test asks (readahead has test_readahead.py)
    extra = {} if large_folios is None else {"large_folios": large_folios}
    sim = Simulator({"policy": "lru_gen", "ram_pages": ram, "swap_pages": swap, "kernel": kernel,
                     "readahead_pages": readahead, **extra,
                     "watermarks": {"min": 2, "low": 3, "high": 4}, "lru_gen": lru_gen})
    assert sim.check_invariants() == []
    return sim


def policy(sim):
    return sim.policy


def flags(sim, pfn):
    return int(sim.frames()["flags"][pfn])


def gen_field(sim, pfn):
    return ((flags(sim, pfn) >> LRU_GEN_PGOFF) & 7) - 1


def refs_field(sim, pfn):
    return (flags(sim, pfn) >> LRU_REFS_PGOFF) & 3


def seq_of(sim, pfn):
    """The seq the folio's gen field names (lazily promoted folios included)."""
    gen = gen_field(sim, pfn)
    assert gen >= 0, f"folio {pfn} is not on a generation list"
    seq = policy(sim).max_seq
    while seq % 4 != gen:
        seq -= 1
    return seq


def list_seq_of(sim, pfn):
    """(seq, type, position from the head) of the list the folio is on."""
    for g in sim.lists()["gens"]:
        for t in (ANON, FILE):
            hits = np.nonzero(g["folios"][t] == pfn)[0]
            if len(hits):
                return g["seq"], t, int(hits[0]), len(g["folios"][t])
    return None


def pfn_of(sim, op, owner, page):
    st = sim.page_state(op, owner, page)
    assert st["state"] == "resident", st
    return st["pfn"]


def gone(sim, op, owner, page):
    return sim.page_state(op, owner, page)["state"] in ("shadow", "swap", "none")


def touch(sim, op, owner, pages, write=False):
    for p in pages:
        sim.access(op, owner, p, write)


def vm(sim):
    return sim.vmstat()


def ok(sim):
    assert sim.check_invariants() == []


# --- 29 ---------------------------------------------------------------------------

def test_b29_fault_lands_in_max_seq_minus_1_read_in_oldest__lru_gen_folio_seq():
    # 7.3: a fault marks a non-workingset folio accessed instead of activating it
    # (mm/folio.c:468-490), read() marks its folio while it still sits in the lru_add
    # batch, and lru_gen_folio_seq() (mm_inline.h:250) puts a referenced folio in
    # max_seq - 2: only the read-ahead neighbour, never marked, lands in the oldest
    sim = make(readahead=2)
    p = policy(sim)
    assert (p.max_seq, p.min_seq) == (3, [0, 0])
    touch(sim, OP_ANON, 0, [0])
    touch(sim, OP_READ, 0, [0])            # start of file: a window of 2 (pages 0 and 1)
    a = pfn_of(sim, OP_ANON, 0, 0)
    f = pfn_of(sim, OP_READ, 0, 0)
    ra = pfn_of(sim, OP_READ, 0, 1)
    assert seq_of(sim, a) == 2 and list_seq_of(sim, a)[:2] == (2, ANON)
    assert flags(sim, a) & PG_referenced
    assert seq_of(sim, f) == 1 and list_seq_of(sim, f)[:2] == (1, FILE) and flags(sim, f) & PG_referenced
    assert seq_of(sim, ra) == 0 and list_seq_of(sim, ra)[:2] == (0, FILE) and not flags(sim, ra) & PG_referenced
    for pfn in (a, f, ra):
        assert not flags(sim, pfn) & PG_active
    # two youngest generations count as active
    assert vm(sim)["nr_active_anon"] == 1 and vm(sim)["nr_inactive_file"] == 2
    ok(sim)


def test_b29_workingset_refault_in_fault_lands_in_max_seq__lru_gen_add_folio():
    sim = make()
    p = policy(sim)
    # five read()s: refs saturate and PG_workingset is set (lru_gen_inc_refs)
    # (filemap_read() marks a folio accessed only when the previous read was elsewhere)
    touch(sim, OP_READ, 0, [0, 100] * 4 + [0])
    f = pfn_of(sim, OP_READ, 0, 0)
    assert flags(sim, f) & (PG_referenced | PG_workingset) == PG_referenced | PG_workingset
    assert refs_field(sim, f) == 3
    # 7.3: the first read() marked it in the lru_add batch, so lru_gen_folio_seq()
    # (mm_inline.h:250) filed it in max_seq - 2 = seq 1, not the oldest gen
    assert seq_of(sim, f) == 1
    # first eviction pass (evict_folios() first flushes the empty seq 0, 7.3
    # vmscan.c:4894): the lazy-promotion marker protects it into min_seq + 1 = seq 2
    sim.debugfs_write("- 0 0 0")
    assert seq_of(sim, f) == 2 and not flags(sim, f) & PG_referenced and refs_field(sim, f) == 0
    assert p.min_seq == [2, 2]
    # second, after one aging makes seq 2 evictable: tier 3 is not above tier_idx 3
    # (no refaults yet) -> evicted with its PG_workingset
    sim.debugfs_write("+ 0 0 3")
    sim.debugfs_write("- 0 0 2")
    assert gone(sim, OP_READ, 0, 0)
    before = vm(sim)
    touch(sim, OP_MMAP, 0, [0])           # refault inside a page fault
    f = pfn_of(sim, OP_MMAP, 0, 0)
    after = vm(sim)
    assert after["workingset_refault_file"] - before["workingset_refault_file"] == 1
    assert after["workingset_activate_file"] - before["workingset_activate_file"] == 1
    assert after["workingset_restore_file"] - before["workingset_restore_file"] == 1
    assert flags(sim, f) & PG_workingset
    # 7.3 mm/folio.c:468-490: a PG_workingset folio is activated in the fault
    assert seq_of(sim, f) == p.max_seq == 4
    ok(sim)


def test_b29_rotated_after_writeback_goes_to_oldest_tail__folio_rotate_reclaimable():
    sim = make()
    p = policy(sim)
    touch(sim, OP_WRITE, 0, [0])          # dirty page-cache folio in the oldest file gen
    f = pfn_of(sim, OP_WRITE, 0, 0)
    assert seq_of(sim, f) == 0 and flags(sim, f) & PG_dirty
    sim.reclaim(1, reclaimer="direct", priority=0)
    # sort_folio: dirty -> folio_inc_gen(reclaiming) with PG_reclaim; every file
    # folio taken was dirty and unqueued, so try_to_shrink_lruvec() woke the flushers
    assert flags(sim, f) & (PG_reclaim | PG_writeback) == PG_reclaim | PG_writeback
    before = vm(sim)["pgrotated"]
    sim.writeback_complete_all()
    assert vm(sim)["pgrotated"] - before == 1
    seq, t, pos, n = list_seq_of(sim, f)
    assert (seq, t) == (p.min_seq[FILE], FILE) and pos == n - 1   # the tail
    ok(sim)


# --- 30 ---------------------------------------------------------------------------

def test_b30_walk_promotes_only_on_second_sighting__folio_update_gen():
    sim = make()
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(80))      # >= MIN_LRU_BATCH pages or should_skip_mm() skips the mm
    a = pfn_of(sim, OP_ANON, 0, 5)
    other = pfn_of(sim, OP_ANON, 0, 6)
    # 7.3 mm/folio.c:468-490: the fault marked every new folio accessed (PG_referenced),
    # which folio_update_gen() (7.3 vmscan.c:3279) counts as the first sighting (:3279-3283); folio_deactivate()
    # (the deactivate() hook, MADV_COLD's folio half: lru_gen_clear_refs(), 7.3
    # mm/folio.c:379-388) gives page 5 a fresh start (the anon folio is re-added in
    # max_seq - 1 = seq 2, at the head); MADV_COLD would also clear the PTE's young bit,
    # so the page is accessed again to make it young
    assert flags(sim, a) & (PG_referenced | PG_workingset) == PG_referenced
    p.deactivate(a)
    touch(sim, OP_ANON, 0, [5])
    assert flags(sim, a) & (PG_referenced | PG_workingset) == 0
    assert seq_of(sim, a) == 2 and vm(sim)["pgdeactivate"] == 1
    sim.debugfs_write("+ 0 0 3")
    # first sighting: PG_referenced only, no promotion
    assert flags(sim, a) & (PG_referenced | PG_workingset) == PG_referenced
    assert seq_of(sim, a) == 2 and p.max_seq == 4
    assert p.mm_walk_stats()["young"] == 80
    # the fault-marked neighbour was sighted the second time: promoted to the max_seq
    # of the walk (3) with PG_workingset, still on the list of seq 2
    assert flags(sim, other) & (PG_referenced | PG_workingset) == PG_workingset
    assert seq_of(sim, other) == 3 and list_seq_of(sim, other)[:2] == (2, ANON)
    touch(sim, OP_ANON, 0, [5])
    sim.debugfs_write("+ 0 0 4")
    # second: gen field = max_seq's at the walk, PG_workingset, PG_referenced cleared
    assert flags(sim, a) & (PG_referenced | PG_workingset) == PG_workingset
    assert seq_of(sim, a) == 4 and p.max_seq == 5
    # not moved: still on the list of seq 2 until sort_folio meets it
    assert list_seq_of(sim, a)[:2] == (2, ANON)
    # not young this time: left where the first walk put it
    assert seq_of(sim, other) == 3 and flags(sim, other) & (PG_referenced | PG_workingset) == PG_workingset
    ok(sim)


# --- 31 ---------------------------------------------------------------------------

def test_b31_young_pte_keep_then_activate__folio_check_references_lru_gen_set_refs():
    sim = make(walk_mm=False)
    p = policy(sim)
    # older file folios hold min_seq[anon] at max_seq - 2 (try_to_inc_min_seq coupling),
    # so a kept anon folio is not "rejected" out of the oldest generation
    touch(sim, OP_READ, 0, range(10))
    touch(sim, OP_ANON, 0, [0])
    a = pfn_of(sim, OP_ANON, 0, 0)
    # 7.3 mm/folio.c:468-490: the fault set PG_referenced; folio_deactivate() (the
    # deactivate() hook, MADV_COLD's folio half: lru_gen_clear_refs(), 7.3
    # mm/folio.c:379-388) clears it so that the first young PTE meets neither flag
    # (MADV_COLD also clears the young bit: the page is accessed again)
    assert flags(sim, a) & (PG_referenced | PG_workingset) == PG_referenced
    p.deactivate(a)
    touch(sim, OP_ANON, 0, [0])
    assert flags(sim, a) & (PG_referenced | PG_workingset) == 0
    p.age(); p.age()                      # no walk: the PTE stays young
    assert (p.max_seq, seq_of(sim, a), p.min_seq[ANON]) == (5, 2, 2)
    v0 = vm(sim)
    p.evict_once(swappiness=200)
    # young, neither flag -> KEEP: PG_referenced, back to max_seq - 1
    assert flags(sim, a) & (PG_referenced | PG_workingset | PG_active) == PG_referenced
    assert seq_of(sim, a) == p.max_seq - 1
    assert vm(sim)["pgscan_direct"] - v0["pgscan_direct"] == 1
    assert vm(sim)["pgactivate"] == v0["pgactivate"]
    touch(sim, OP_ANON, 0, [0])
    p.age(); p.age()
    assert seq_of(sim, a) == p.min_seq[ANON]
    v1 = vm(sim)
    p.evict_once(swappiness=200)
    # young again with PG_referenced but folio_lru_refs() == 1: 7.3 vmscan.c:853-857
    # activates it via folio_mark_accessed() (refs 1) without PG_workingset, so
    # lru_gen_folio_seq() (mm_inline.h:242) files it in max_seq - 1
    assert flags(sim, a) & (PG_referenced | PG_workingset | PG_active) == PG_referenced
    assert refs_field(sim, a) == 1
    assert seq_of(sim, a) == p.max_seq - 1
    assert vm(sim)["pgactivate"] - v1["pgactivate"] == 1
    touch(sim, OP_ANON, 0, [0])
    p.age(); p.age()
    assert seq_of(sim, a) == p.min_seq[ANON]
    v2 = vm(sim)
    p.evict_once(swappiness=200)
    # young a third time, folio_lru_refs() == 2 > 1 -> ACTIVATE into max_seq with PG_workingset
    assert flags(sim, a) & (PG_referenced | PG_workingset | PG_active) == PG_workingset
    assert refs_field(sim, a) == 0
    assert seq_of(sim, a) == p.max_seq
    assert vm(sim)["pgactivate"] - v2["pgactivate"] == 1
    ok(sim)


# --- 32 ---------------------------------------------------------------------------

def test_b32_unmapped_clean_file_freed_despite_referenced__sort_folio_folio_check_references():
    sim = make()
    p = policy(sim)
    touch(sim, OP_READ, 0, [0])           # PG_referenced, tier 0
    touch(sim, OP_READ, 0, [1, 2] * 5)    # lazy-promotion marker (refs 4 + PG_workingset)
    f0, f1 = pfn_of(sim, OP_READ, 0, 0), pfn_of(sim, OP_READ, 0, 1)
    assert flags(sim, f0) & PG_referenced
    v0 = vm(sim)
    sim.debugfs_write("- 0 0 0")
    v1 = vm(sim)
    assert gone(sim, OP_READ, 0, 0)                                    # freed
    assert v1["pgsteal_file"] - v0["pgsteal_file"] == 1
    assert v1["pgscan_file"] - v0["pgscan_file"] == 1
    assert v1["pgrefill"] - v0["pgrefill"] == 2
    # 7.3: all three read() folios were marked in the lru_add batch and filed in
    # max_seq - 2 = seq 1 (mm_inline.h:250); evict_folios() first flushed the empty
    # seq 0 (vmscan.c:4893-4894), so min_seq[file] was 1 when sort_folio() met them
    # the marker: into min_seq + 1, refs and PG_referenced cleared, not counted as protected
    assert seq_of(sim, f1) == 2 and refs_field(sim, f1) == 0
    assert flags(sim, f1) & (PG_referenced | PG_workingset) == PG_workingset
    assert p.pid_state()["avg_total"][FILE] == [0, 0, 0, 0]
    ok(sim)


def test_b32_tier_above_tier_idx_is_protected__sort_folio():
    sim = make(pid_controller=False)      # tier_idx 0: every tier above 0 is protected
    p = policy(sim)
    touch(sim, OP_READ, 0, [0, 1, 2, 0, 2])   # pages 0 and 2: two fd accesses, refs 2 -> tier 1
    f = pfn_of(sim, OP_READ, 0, 0)
    assert p.tier_idx(FILE) == 0
    p.evict_once(swappiness=1)
    # 7.3: read() folios start in max_seq - 2 = seq 1 (mm_inline.h:250) and evict_folios()
    # first flushes the empty seq 0 (vmscan.c:4893-4894): protected into min_seq + 1 = seq 2
    assert seq_of(sim, f) == 2 and refs_field(sim, f) == 0 and not flags(sim, f) & PG_referenced
    assert vm(sim)["pgrefill"] == 2 and vm(sim)["pgscan_file"] == 1    # page 1 (tier 0) went
    assert gone(sim, OP_READ, 0, 1)
    # the two protected folios were counted in tier 1, then folded into avg_total
    # when min_seq[file] moved past the emptied generation: (0 + 2) / 2
    assert p.pid_state()["avg_total"][FILE] == [0, 1, 0, 0]
    ok(sim)


# --- 33 ---------------------------------------------------------------------------

def test_b33_dirty_file_folio_goes_to_min_seq_plus_1_with_reclaim__sort_folio():
    # 6.1 vmscan.c:4801 ("waiting for writeback"): sort_folio() files it at once
    sim = make(kernel="6.1")
    touch(sim, OP_WRITE, 0, [0])
    f = pfn_of(sim, OP_WRITE, 0, 0)
    assert seq_of(sim, f) == 1          # 6.1 places a new read()/write() folio at min_seq + 1
    sim.debugfs_write("+ 0 0 3 1 1")    # a fourth generation, so that min_seq holds it
    policy(sim).evict_once(swappiness=1)
    assert seq_of(sim, f) == 2 and list_seq_of(sim, f)[:3] == (2, FILE, 0)   # the head
    assert flags(sim, f) & (PG_reclaim | PG_dirty) == PG_reclaim | PG_dirty
    assert vm(sim)["pgscan_file"] == 0 and vm(sim)["pgrefill"] == 1


@pytest.mark.parametrize("kernel", ["6.12", "7.3"])
def test_b33_dirty_file_folio_is_isolated_and_activated_with_reclaim__shrink_folio_list(kernel):
    # 6.12 and 7.3 have no writeback case in sort_folio() (7.3 vmscan.c:4653-4700): the
    # dirty folio is isolated, shrink_folio_list() tags it PG_reclaim for immediate
    # reclaim after writeback and activates it (activate_locked), and the putback
    # files the active folio in max_seq on 6.12 (mm_inline.h:252) and in max_seq - 1
    # on 7.3 (mm_inline.h:242 lru_gen_folio_seq(): no PG_workingset)
    sim = make(kernel=kernel)
    touch(sim, OP_WRITE, 0, [0])
    f = pfn_of(sim, OP_WRITE, 0, 0)
    if kernel == "6.12":
        sim.debugfs_write("+ 0 0 3 1 1")    # 6.12 placed it at min_seq + 1: make that the oldest
    policy(sim).evict_once(swappiness=1)
    assert vm(sim)["pgscan_file"] == 1 and vm(sim)["pgsteal_file"] == 0
    assert vm(sim)["nr_vmscan_immediate_reclaim"] == 1
    assert flags(sim, f) & (PG_reclaim | PG_dirty) == PG_reclaim | PG_dirty
    assert seq_of(sim, f) == policy(sim).max_seq - (0 if kernel == "6.12" else 1)
    ok(sim)


# --- 34 ---------------------------------------------------------------------------

def test_b34_full_window_aging_moves_oldest_into_next__inc_max_seq_inc_min_seq():
    sim = make(walk_mm=False)
    p = policy(sim)
    # 7.3: a mapped (or read()) file folio is marked accessed and filed in max_seq - 2
    # (mm/folio.c:468-490, mm_inline.h:250); MADV_COLD (the deactivate() hook) clears PG_referenced
    # (lru_gen_clear_refs(), mm/folio.c:379-388) and re-adds it unreferenced, i.e. in
    # max_seq - 3 clamped to min_seq = the oldest generation (mm_inline.h:250-252)
    touch(sim, OP_MMAP, 0, range(6))
    pfns = [pfn_of(sim, OP_MMAP, 0, i) for i in range(6)]
    assert all(seq_of(sim, x) == 1 for x in pfns)
    for x in pfns:
        p.deactivate(x)
    # six folios, tier 0, in file seq 0
    assert all(seq_of(sim, x) == 0 and not flags(sim, x) & PG_referenced for x in pfns)
    assert p.age()
    assert (p.max_seq, p.min_seq) == (4, [1, 1])
    assert all(seq_of(sim, x) == 1 for x in pfns)
    assert [list_seq_of(sim, x)[0] for x in pfns] == [1] * 6
    # counted as protected in tier 0, then folded: avg_total = (0 + 6) / 2
    assert p.pid_state()["avg_total"][FILE] == [3, 0, 0, 0]
    for _ in range(12):
        p.age()
        for t in (ANON, FILE):
            assert 2 <= p.max_seq - p.min_seq[t] + 1 <= 4
    ok(sim)


# --- 35 ---------------------------------------------------------------------------

def test_b35_priority_12_never_ages_and_two_gens_do_nothing__get_nr_to_scan():
    sim = make()
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(100))
    v0, aging0 = vm(sim), sim.nr_aging
    sim.reclaim(32, reclaimer="direct", priority=12)
    assert sim.nr_aging == aging0 and p.max_seq == 3
    assert vm(sim)["pgscan_direct"] == v0["pgscan_direct"]
    # kswapd's set_initial_priority(): fls(reclaimable) - 1 - fls(nr_to_reclaim - 1), in [6, 12]
    assert p.initial_priority(32) == 12                 # nr_to_reclaim < MIN_LRU_BATCH: unchanged
    reclaimable = vm(sim)["nr_inactive_file"] + vm(sim)["nr_inactive_anon"]
    expect = max(6, min(12, reclaimable.bit_length() - 1 - (63).bit_length()))
    assert p.initial_priority(64) == expect
    assert p.initial_priority(64, priority=11) == 11


def test_b35_two_generations_evict_nothing_until_aged__should_run_aging():
    # before 7.x get_nr_to_scan() ages below DEF_PRIORITY whatever nr_to_scan is
    # (6.12 vmscan.c:4736-4747: should_run_aging() -> try_to_inc_max_seq(), return -1);
    # 7.3: see the _7_3 test
    sim = make(walk_mm=False, kernel="6.12")
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(10))     # seq 2; seqs 0 and 1 are empty
    # nothing to isolate; try_to_inc_min_seq() retires the empty generations
    assert p.evict_once(swappiness=60) == 0
    assert p.min_seq == [2, 2] and p.max_seq == 3
    v0, aging0 = vm(sim), sim.nr_aging
    sim.reclaim(32, reclaimer="direct", priority=12)
    assert (p.max_seq, sim.nr_aging) == (3, aging0)
    assert vm(sim)["pgscan_direct"] == v0["pgscan_direct"]
    # below DEF_PRIORITY get_nr_to_scan() ages (and the pass ends: it returned -1)
    sim.reclaim(32, reclaimer="direct", priority=11)
    assert (p.max_seq, sim.nr_aging) == (4, aging0 + 1)
    assert vm(sim)["pgscan_direct"] == v0["pgscan_direct"]
    ok(sim)


def test_b35_two_generations_evict_nothing_until_aged_7_3__should_run_aging():
    sim = make(walk_mm=False)
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(10))     # seq 2; seqs 0 and 1 are empty
    # nothing to isolate; try_to_inc_min_seq() retires the empty generations
    assert p.evict_once(swappiness=60) == 0
    assert p.min_seq == [2, 2] and p.max_seq == 3
    v0, aging0 = vm(sim), sim.nr_aging
    sim.reclaim(32, reclaimer="direct", priority=12)
    assert (p.max_seq, sim.nr_aging) == (3, aging0)
    assert vm(sim)["pgscan_direct"] == v0["pgscan_direct"]
    # 7.3: try_to_shrink_lruvec() loops only while nr_to_scan = evictable >> priority
    # is positive (vmscan.c:5011, :5059); 10 >> 11 == 0: still nothing
    sim.reclaim(32, reclaimer="direct", priority=11)
    assert (p.max_seq, sim.nr_aging) == (3, aging0)
    assert vm(sim)["pgscan_direct"] == v0["pgscan_direct"]
    # 10 >> 3 == 1: should_run_aging() must age with two generations (vmscan.c:4973-4975),
    # then one batch of min(nr_to_scan, MIN_LRU_BATCH) = 1 looked-at folio is evicted and
    # root reclaim stops after the batch that followed an aging (vmscan.c:5068-5087)
    sim.reclaim(32, reclaimer="direct", priority=3)
    assert (p.max_seq, sim.nr_aging) == (4, aging0 + 1)
    assert vm(sim)["pgscan_direct"] - v0["pgscan_direct"] == 1
    ok(sim)


# --- 36 ---------------------------------------------------------------------------

def test_b36_one_evict_isolates_at_most_64__scan_folios():
    # readahead on: the read-ahead folios wait in the oldest generation (one page
    # per miss would be marked in the lru_add batch and filed in max_seq - 2);
    # 4 KiB folios (large ones: the _large_folios test below)
    sim = make(ram=2048, readahead=32, large_folios=0)
    p = policy(sim)
    touch(sim, OP_READ, 0, range(200))
    v0 = vm(sim)
    scanned = p.evict_once(swappiness=1)
    v1 = vm(sim)
    assert v1["pgscan_direct"] - v0["pgscan_direct"] == 64
    assert v1["pgscan_file"] - v0["pgscan_file"] == 64
    assert v1["pgsteal_file"] - v0["pgsteal_file"] == 64
    # 7.3 evict_folios() returns what scan_folios() looked at (vmscan.c:4896, :4965; scan_folios() :4798);
    # the pre-7.x "+ 1 when try_to_inc_min_seq() retired empty gens" is gone
    assert scanned == 64
    ok(sim)


def test_b36_one_evict_counts_pages_and_stops_after_the_folio_that_reaches_64__scan_folios_large_folios():
    # 7.3 scan_folios() adds each folio's pages (delta = folio_nr_pages(), vmscan.c:4756-4772)
    # and breaks once isolated >= MIN_LRU_BATCH (:4774), after the folio that got it
    # there: here 1+1+1+4+4+4+8+8+16+16 = 63 pages, then a 32-page folio, 95 pages
    sim = make(ram=2048, readahead=32)
    p = policy(sim)
    touch(sim, OP_READ, 0, range(200))
    v0 = vm(sim)
    tail = [sim.folio(int(f))["order"] for f in p.gen_folios(p.min_seq[1], 1)[::-1]]
    scanned = p.evict_once(swappiness=1)
    v1 = vm(sim)
    taken = 0
    for order in tail:                      # the oldest folios, as scan_folios() meets them
        taken += 1 << order
        if taken >= 64:
            break
    assert v1["pgscan_direct"] - v0["pgscan_direct"] == taken
    assert v1["pgsteal_file"] - v0["pgsteal_file"] == taken == 95
    assert scanned == taken
    ok(sim)


def test_b36_scan_budget_is_4096_per_type__scan_folios():
    # before 7.x scan_folios() looks at up to MAX_LRU_BATCH folios of a type
    # (6.12 vmscan.c:4400 remaining = MAX_LRU_BATCH); 7.3: see the _7_3 test
    sim = make(ram=6000, swap=64, kernel="6.12")
    p = policy(sim)
    acc = np.zeros(5000 * 5, dtype=engine.ACCESS_DTYPE)
    acc["op"] = OP_READ
    acc["page"] = np.tile(np.arange(5000), 5)         # each page read 5 times: lazy-promotion marker
    sim.set_workload(acc)
    sim.run_to_end()
    # 6.12 filed the read() folios in min_seq + 1 (mm_inline.h:261): make that the oldest
    sim.debugfs_write("+ 0 0 3 1 1")
    assert (p.max_seq, p.min_seq) == (4, [1, 1])
    v0 = vm(sim)
    scanned = p.evict_once(swappiness=1)
    v1 = vm(sim)
    assert scanned == 4096                 # no empty generation left to retire: no + 1
    assert v1["pgrefill"] - v0["pgrefill"] == 4096
    assert v1["pgscan_file"] == v0["pgscan_file"]
    ok(sim)


def test_b36_scan_budget_is_the_batch_and_stays_with_the_type_7_3__scan_folios():
    # 7.3: try_to_shrink_lruvec() hands evict_folios() nr_batch = min(nr_to_scan,
    # MIN_LRU_BATCH) (vmscan.c:5074-5075) and scan_folios() looks at no more than that
    # (:4737, :4775); with nothing isolated it still returns what it looked at, and
    # isolate_folios() stays with that type for its second round (:4862-4868)
    sim = make(ram=6000, swap=64)
    p = policy(sim)
    acc = np.zeros(5000 * 5, dtype=engine.ACCESS_DTYPE)
    acc["op"] = OP_READ
    acc["page"] = np.tile(np.arange(5000), 5)         # each page read 5 times: lazy-promotion marker
    sim.set_workload(acc)
    sim.run_to_end()
    assert (p.max_seq, p.min_seq) == (3, [0, 0])
    v0, aging0 = vm(sim), sim.nr_aging
    # nr_to_scan = 5000 >> 6 = 78 (vmscan.c:5011): one batch of 64, looked at twice
    # over the file type (swappiness 1: get_type_to_scan() says file, anon is evictable
    # too, so two rounds); 128 >= 78 ends the loop; min_seq 0 + 2 < max_seq 3: no aging
    r = sim.reclaim(32, reclaimer="direct", priority=6, swappiness=1)
    v1 = vm(sim)
    assert r["nr_batches"] == 1 and sim.nr_aging == aging0
    assert v1["pgrefill"] - v0["pgrefill"] == 2 * 64
    assert v1["pgscan_file"] == v0["pgscan_file"] and r["nr_scanned"] == 0
    ok(sim)


# --- 37 ---------------------------------------------------------------------------

def test_b37_swappiness_picks_the_type__get_type_to_scan():
    sim = make()
    p = policy(sim)
    assert [p.type_to_scan(s) for s in (0, 1, 200, 201)] == [FILE, FILE, ANON, ANON]
    # no refaults: the PID controller's error is positive -> file
    assert p.type_to_scan(60) == FILE


def test_b37_type_with_two_gens_is_skipped_for_the_other__isolate_folios():
    sim = make(walk_mm=False)
    p = policy(sim)
    # 7.3 mm/folio.c:468-490: a file fault only marks the folio accessed, which
    # lru_gen_folio_seq() files in max_seq - 2 = 1 (mm_inline.h:250); no aging needed
    touch(sim, OP_MMAP, 0, range(100))    # file, max_seq - 2 = 1
    touch(sim, OP_ANON, 0, range(10))     # anon in max_seq - 1 = 2
    assert p.max_seq == 3
    v0 = vm(sim)
    # 7.3 evict_folios() trims the empty old gens before isolating (vmscan.c:4893-4894):
    # min_seq[anon] runs to max_seq - 1 (file is not behind max_seq - 2, :3986-3992),
    # then anon first (swappiness 200), but it has two generations
    p.evict_once(swappiness=200)
    assert p.min_seq == [2, 1] and p.max_seq == 3
    v1 = vm(sim)
    assert v1["pgscan_anon"] == v0["pgscan_anon"]
    assert v1["pgscan_file"] - v0["pgscan_file"] == 64
    ok(sim)


# --- 38 ---------------------------------------------------------------------------

def test_b38_min_seq_advances_and_pid_averages_fold__try_to_inc_min_seq_reset_ctrl_pos():
    sim = make()
    p = policy(sim)
    touch(sim, OP_READ, 0, range(10))
    sim.debugfs_write("- 0 0 0")
    # evict_folios(): isolate, try_to_inc_min_seq() (folds the empty slot), then
    # shrink_folio_list() counts the 10 evictions in the new min_seq's slot
    st = p.pid_state()
    assert p.min_seq == [2, 2] and p.max_seq == 3   # empty generations retired up to max_seq - 1
    assert st["evicted"][FILE] == [10, 0, 0, 0] and st["avg_total"][FILE] == [0, 0, 0, 0]
    p.age()                                     # two generations left: eviction needs aging first
    touch(sim, OP_READ, 0, range(100, 106))     # into min_seq[file] = 2
    sim.debugfs_write("- 0 0 2")
    st = p.pid_state()
    assert st["avg_total"][FILE] == [(0 + 10) // 2, 0, 0, 0]
    assert st["evicted"][FILE] == [6, 0, 0, 0]
    ok(sim)


def test_b38_min_seqs_coupled_near_young_end__try_to_inc_min_seq():
    sim = make()
    p = policy(sim)
    # 7.3: read() marks its folio accessed (max_seq - 2, mm_inline.h:250), but write()
    # does not (generic_perform_write(), FGP_WRITEBEGIN without FGP_ACCESSED,
    # include/linux/pagemap.h:720): unreferenced folios land in the oldest gen
    touch(sim, OP_WRITE, 0, range(100))   # file only, in seq 0
    assert {seq_of(sim, pfn_of(sim, OP_WRITE, 0, i)) for i in range(100)} == {0}
    p.evict_once(swappiness=60)           # 64 of them isolated, 36 still in seq 0
    assert len(p.gen_folios(0, FILE)) == 36
    # anon is empty and would run to max_seq - 1; it is held at max_seq - 2 while file lags
    # (7.3 vmscan.c:3986-3992)
    assert p.min_seq == [1, 0]
    ok(sim)


# --- 39 ---------------------------------------------------------------------------

def test_b39_refault_recent_iff_fewer_than_4_gens__lru_gen_test_recent_lru_gen_refault():
    sim = make(walk_mm=False)
    p = policy(sim)
    touch(sim, OP_READ, 0, [0, 1])
    sim.debugfs_write("- 0 0 0")
    # evicted after try_to_inc_min_seq() retired the emptied generations: token min_seq 2
    assert p.max_seq == 3 and p.min_seq[FILE] == 2
    v0 = vm(sim)
    touch(sim, OP_READ, 0, [0])           # |3 - 0| < 4: recent, but not in a fault
    v1 = vm(sim)
    assert v1["workingset_refault_file"] - v0["workingset_refault_file"] == 1
    assert v1["workingset_activate_file"] == v0["workingset_activate_file"]
    assert p.pid_state()["refaulted"][FILE][0] == 1
    p.age(); p.age()
    assert p.max_seq == 5                  # |5 - 2| = 3: still recent
    p.age()                                # |6 - 2| = 4: no longer recent
    touch(sim, OP_MMAP, 0, [1])
    v2 = vm(sim)
    assert v2["workingset_refault_file"] - v1["workingset_refault_file"] == 1
    assert v2["workingset_activate_file"] == v1["workingset_activate_file"]
    ok(sim)


def test_b39_recent_refault_in_fault_counts_activation__lru_gen_refault():
    sim = make()
    touch(sim, OP_READ, 0, [0])
    sim.debugfs_write("- 0 0 0")
    v0 = vm(sim)
    touch(sim, OP_MMAP, 0, [0])
    v1 = vm(sim)
    assert v1["workingset_refault_file"] - v0["workingset_refault_file"] == 1
    assert v1["workingset_activate_file"] - v0["workingset_activate_file"] == 1
    assert v1["workingset_restore_file"] == v0["workingset_restore_file"]


def _refault_events(sim, seq0):
    from engine.names import EVENT_KINDS, REASON_NAMES
    ev = sim.events_since(seq0)
    return [(EVENT_KINDS[e["kind"]], REASON_NAMES[e["reason"]], int(e["src_seq"]), int(e["dst_seq"]))
            for e in ev if EVENT_KINDS[e["kind"]].startswith("workingset_")]


def test_b39_refault_events_name_the_mglru_test__lru_gen_test_recent():
    # the reason is lru_gen_test_recent()'s (gens between min_seq at eviction
    # and max_seq now), not workingset_test_recent()'s refault distance
    sim = make(walk_mm=False)
    p = policy(sim)
    touch(sim, OP_READ, 0, [0, 1])
    sim.debugfs_write("- 0 0 0")
    assert p.max_seq == 3 and p.min_seq[FILE] == 2
    seq0 = sim.event_seq
    touch(sim, OP_MMAP, 0, [0])            # |3 - 2| < 4, in a fault: refault + activate
    assert _refault_events(sim, seq0) == [("workingset_refault", "LRU_GEN_REFAULT_RECENT", 2, 3),
                                          ("workingset_activate", "LRU_GEN_REFAULT_RECENT", -1, -1)]
    p.age(); p.age(); p.age(); p.age()     # |7 - 2| >= 4
    seq1 = sim.event_seq
    touch(sim, OP_MMAP, 0, [1])
    assert _refault_events(sim, seq1) == [("workingset_refault", "LRU_GEN_REFAULT_NOT_RECENT", 2, 7)]
    ok(sim)


# --- 40 ---------------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["- 0 0 2", "- 0 0 3", "+ 0 0 4", "+ 0 0 99"])
def test_b40_out_of_range_seq_is_einval__run_eviction_run_aging(cmd):
    sim = make()
    before = sim.state_hash()
    with pytest.raises(DebugfsError) as e:
        sim.debugfs_write(cmd)
    assert e.value.errno == "EINVAL"
    assert sim.state_hash() == before


@pytest.mark.parametrize("cmd", ["+ 0 1 3", "+ 1 0 3", "* 0 0 3", "+ 0 0", "+ 0 0 3 202",
                                 "+ 0 0 3 60 1 x", "+x 0 0 3"])
def test_b40_bad_command_is_einval__run_cmd(cmd):
    sim = make()
    with pytest.raises(DebugfsError) as e:
        sim.debugfs_write(cmd)
    assert e.value.errno == "EINVAL"
    assert policy(sim).max_seq == 3


def test_b40_commands_run_in_order_until_the_first_error__lru_gen_seq_write():
    sim = make()
    p = policy(sim)
    sim.debugfs_write("+ 0 0 3; + 0 0 4\n+ 0 0 5 201 0")
    assert p.max_seq == 6
    with pytest.raises(DebugfsError):
        sim.debugfs_write("+ 0 0 6, - 0 0 9, + 0 0 7")
    assert p.max_seq == 7                  # the first ran, the third did not


def test_lru_gen_text_needs_lru_gen_policy():
    sim = Simulator({"policy": "lru", "ram_pages": 256})
    with pytest.raises(engine.PolicyError):
        sim.lru_gen_text()
    with pytest.raises(engine.PolicyError):
        sim.debugfs_write("+ 0 0 3")


# --- switches -------------------------------------------------------------------

def test_walk_mm_off_ages_without_touching_ptes__iterate_mm_list_nowalk():
    sim = make(walk_mm=False)
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(80))
    a = pfn_of(sim, OP_ANON, 0, 0)
    # 7.3 mm/folio.c:468-490: the fault itself marked the folio accessed
    assert flags(sim, a) & (PG_referenced | PG_workingset) == PG_referenced and refs_field(sim, a) == 0
    sim.debugfs_write("+ 0 0 3")
    assert p.max_seq == 4 and p.mm_walk_stats()["total"] == 0
    # no folio_update_gen(): the flags are as the fault left them (no PG_workingset)
    assert flags(sim, a) & (PG_referenced | PG_workingset) == PG_referenced and refs_field(sim, a) == 0
    # no walk: every young bit is still set, and no gen field moved
    assert all(sim.page_state(OP_ANON, 0, i)["young"] for i in range(80))
    assert seq_of(sim, a) == 2


def test_bloom_filter_limits_second_walk_to_dense_tables__walk_pmd_range():
    def run(bloom):
        sim = make(ram=4096, bloom_filter=bloom)
        p = policy(sim)
        touch(sim, OP_ANON, 0, range(2048))             # 4 page-table pages
        sim.debugfs_write("+ 0 0 3 60 0")                # no filter yet: walks all 4
        touch(sim, OP_ANON, 0, range(0, 512))           # one dense table
        touch(sim, OP_ANON, 0, range(512, 2048, 64))    # three sparse ones
        sim.debugfs_write("+ 0 0 4 60 0")                # walks young tables in the filter
        touch(sim, OP_ANON, 0, range(0, 512))
        touch(sim, OP_ANON, 0, range(512, 2048, 64))
        t0 = p.mm_walk_stats()["total"]
        sim.debugfs_write("+ 0 0 5 60 0")
        return p.mm_walk_stats()["total"] - t0
    assert run(True) == 512
    assert run(False) == 2048


def test_state_bytes_round_trip_is_bit_exact():
    sim = make()
    touch(sim, OP_ANON, 0, range(100))
    touch(sim, OP_READ, 0, range(50))
    sim.debugfs_write("+ 0 0 3")
    data = sim.state_bytes()
    sim2 = make()
    sim2.load_state(data)
    assert sim2.state_hash() == sim.state_hash()
    assert sim2.lru_gen_text(True) == sim.lru_gen_text(True)
    ok(sim2)


# --- min_ttl_ms, the aging step ----------------------------------------------------

def _overcommitted(sim, n=60_000, pages=12_000, seed=3):
    rng = np.random.Generator(np.random.PCG64(seed))
    acc = np.zeros(n, dtype=engine.ACCESS_DTYPE)
    acc["op"] = OP_ANON
    acc["owner"] = rng.integers(0, 3, n)
    acc["page"] = rng.integers(0, pages // 3, n)
    sim.set_workload(acc)


@pytest.mark.parametrize("min_ttl_ms", [0, 10**6])
def test_min_ttl_only_decides_the_oom_check__lru_gen_age_node(min_ttl_ms):
    sim = Simulator({"policy": "lru_gen", "ram_pages": 8192, "swap_pages": 16384,
                     "lru_gen": {"min_ttl_ms": min_ttl_ms}})
    _overcommitted(sim)
    sim.run_to_end()
    v = vm(sim)
    if min_ttl_ms:
        # every generation is younger than 1000 s: each kswapd wake-up OOM-kills in
        # lru_gen_age_node() before kswapd_shrink_node() runs
        assert v["oom_kill"] == v["pageoutrun"] > 0
    else:
        assert v["oom_kill"] == 0 and v["pgscan_kswapd"] > 0
    ok(sim)


def test_aging_step_runs_until_inc_max_seq_and_emits_events__inc_max_seq():
    from engine.names import EVENT_KINDS
    sim = Simulator({"policy": "lru_gen", "ram_pages": 2048, "swap_pages": 8192})
    _overcommitted(sim, n=200_000, pages=3000)
    sim.run(20_000)
    seq0, aging0, max0 = sim.event_seq, sim.nr_aging, policy(sim).max_seq
    assert sim.step("aging") == 1
    assert sim.nr_aging == aging0 + 1 and policy(sim).max_seq == max0 + 1
    ev = sim.events_since(seq0)
    kinds = [EVENT_KINDS[k] for k in ev["kind"]]
    assert kinds.count("inc_max_seq") == 1
    # 7.3: the aging runs inside try_to_shrink_lruvec()'s loop and the same iteration
    # evicts one batch of <= MIN_LRU_BATCH looked-at folios right after it
    # (vmscan.c:5068-5075); the step stops at the end of that batch
    tail = kinds[kinds.index("inc_max_seq") + 1:]
    assert tail.count("mm_vmscan_lru_shrink_inactive") == 1
    assert kinds[-1] == "mm_vmscan_lru_shrink_inactive"
    assert "access" not in tail and "inc_max_seq" not in tail
    assert 0 < tail.count("mm_vmscan_lru_isolate") <= tail.count("mm_vmscan_lru_isolate") + \
        tail.count("pgrefill") <= 64
    ok(sim)


def test_deactivation_clears_refs_and_moves_unless_oldest__lru_gen_clear_refs():
    sim = make()
    p = policy(sim)
    touch(sim, OP_READ, 0, [0, 1, 0, 1, 0, 1, 0, 1, 0])   # page 0: refs saturated + PG_workingset
    f0 = pfn_of(sim, OP_READ, 0, 0)
    assert flags(sim, f0) & (PG_referenced | PG_workingset) == PG_referenced | PG_workingset
    # 7.3: the read() folios were marked in the lru_add batch and filed in max_seq - 2
    # = seq 1 (mm_inline.h:250); one aging retires the empty seq 0, making seq 1 the oldest
    assert seq_of(sim, f0) == 1
    sim.debugfs_write("+ 0 0 3")
    assert (p.max_seq, p.min_seq[FILE]) == (4, 1)
    # 7.3 mm/folio.c:468-490: a faulted file folio is only marked accessed -> max_seq - 2
    touch(sim, OP_MMAP, 1, [0])
    m0 = pfn_of(sim, OP_MMAP, 1, 0)
    # already in the oldest generation: flags cleared, nothing moves
    p.deactivate(f0)
    assert flags(sim, f0) & (PG_referenced | PG_workingset) == 0 and refs_field(sim, f0) == 0
    assert seq_of(sim, f0) == 1 and vm(sim)["pgdeactivate"] == 0
    # elsewhere: re-added by the placement table (file, no flags: the oldest generation)
    assert seq_of(sim, m0) == 2
    p.deactivate(m0)
    assert seq_of(sim, m0) == 1 and vm(sim)["pgdeactivate"] == 1
    assert not flags(sim, m0) & (PG_active | PG_referenced)
    ok(sim)


# --- look-around (§4.6) ------------------------------------------------------------

@pytest.mark.parametrize("reclaimer", ["kswapd", "direct"])
def test_look_around_promotes_young_neighbours__lru_gen_look_around(reclaimer):
    sim = make()
    p = policy(sim)
    # 7.3 mm/folio.c:468-490: the fault leaves every folio young with PG_referenced (refs 0),
    # the first sighting that the v6.15 setup got from a walk; two agings without a walk
    touch(sim, OP_ANON, 0, range(100))
    assert p.age(walk=False) and p.age(walk=False)   # max_seq 5; the folios are in min_seq 2
    assert (p.max_seq, p.min_seq[ANON]) == (5, 2)
    pfns = [pfn_of(sim, OP_ANON, 0, i) for i in range(100)]
    assert all(flags(sim, x) & (PG_referenced | PG_workingset) == PG_referenced for x in pfns)
    v0 = vm(sim)
    p.evict_once(swappiness=200, reclaimer=reclaimer)
    v1 = vm(sim)
    # the batch isolated the 64 oldest (vpn 0..63); each was young with PG_referenced and
    # folio_lru_refs() == 1: 7.3 lru_gen_set_refs() (vmscan.c:853-857) marks it accessed
    # (refs 1) and ACTIVATEs it without PG_workingset -> max_seq - 1 (mm_inline.h:242)
    assert v1["pgscan_anon"] - v0["pgscan_anon"] == 64
    for x in pfns[:64]:
        assert seq_of(sim, x) == 4 and list_seq_of(sim, x)[0] == 4
        assert flags(sim, x) & (PG_referenced | PG_workingset) == PG_referenced and refs_field(sim, x) == 1
    # vpn 63's window is [31, 95): its young neighbours on the lists are 64..94
    for i in range(64, 95):
        assert not sim.page_state(OP_ANON, 0, i)["young"]
        # 7.3 walk_update_folio() (vmscan.c:3526-3534): with a walk buffer (kswapd)
        # folio_update_gen() promotes (second sighting) to max_seq with PG_workingset,
        # sorted later; without, lru_gen_set_refs() as above and folio_activate()
        if reclaimer == "kswapd":
            assert flags(sim, pfns[i]) & (PG_referenced | PG_workingset) == PG_workingset
            assert seq_of(sim, pfns[i]) == 5 and list_seq_of(sim, pfns[i])[0] == 2
        else:
            assert flags(sim, pfns[i]) & (PG_referenced | PG_workingset) == PG_referenced
            assert refs_field(sim, pfns[i]) == 1
            assert seq_of(sim, pfns[i]) == 4 and list_seq_of(sim, pfns[i])[0] == 4
    for i in range(95, 100):
        assert sim.page_state(OP_ANON, 0, i)["young"]
        assert seq_of(sim, pfns[i]) == 2 and flags(sim, pfns[i]) & PG_referenced
    activated = 64 + (0 if reclaimer == "kswapd" else 31)
    assert v1["pgactivate"] - v0["pgactivate"] == activated
    ok(sim)


def test_look_around_off_touches_only_the_folio__lru_gen_look_around():
    sim = make(look_around=False)
    p = policy(sim)
    # 7.3: the same setup as above (a walk would promote the fault-marked folios, 7.3
    # mm/folio.c:468-490 + vmscan.c:3279, and the batch would isolate nothing)
    touch(sim, OP_ANON, 0, range(100))
    p.age(walk=False); p.age(walk=False)
    v0 = vm(sim)
    p.evict_once(swappiness=200, reclaimer="kswapd")
    assert vm(sim)["pgscan_anon"] - v0["pgscan_anon"] == 64
    assert not any(sim.page_state(OP_ANON, 0, i)["young"] for i in range(64))
    assert all(sim.page_state(OP_ANON, 0, i)["young"] for i in range(64, 100))
    ok(sim)


# --- PID controller (§4.8) ----------------------------------------------------------

def test_pid_refaulting_tier_gets_protected_and_type_flips__get_tier_idx_get_type_to_scan():
    sim = make()
    p = policy(sim)
    twice = list(range(0, 200, 2))
    once = list(range(1, 200, 2))
    touch(sim, OP_READ, 0, range(200))
    touch(sim, OP_READ, 0, twice)          # every other page: refs 2 -> tier 1
    assert p.tier_idx(FILE) == 3 and p.type_to_scan(60) == FILE    # no refaults yet
    # 7.3: read() folios sit in max_seq - 2 = seq 1 (mm_inline.h:250), so evict up to seq 1;
    # all 200 evicted (nothing protected at tier_idx 3)
    sim.debugfs_write("- 0 0 1")
    assert all(gone(sim, OP_READ, 0, i) for i in range(200))
    touch(sim, OP_READ, 0, twice)          # 100 recent refaults, token refs 2 -> tier 1
    st = p.pid_state()
    assert st["refaulted"][FILE] == [0, 100, 0, 0]
    # tier 1 refaults (100 of 100) versus tier 0 (0 of 100): protect tiers >= 1
    assert p.tier_idx(FILE) == 0
    # file refaults, anon none: scan anon
    assert p.type_to_scan(60) == ANON
    assert p.type_to_scan(1) == FILE       # swappiness <= 1 overrides the controller
    ok(sim)


@pytest.mark.parametrize("swappiness,scanned_type", [(0, FILE), (201, ANON)])
def test_b37_debugfs_swappiness_0_and_201_evict_one_type__run_eviction(swappiness, scanned_type):
    sim = make(walk_mm=False)
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(50))
    touch(sim, OP_READ, 0, range(50))
    p.age(); p.age()                       # both types' folios now sit in min_seq 2
    assert p.min_seq == [2, 2] and p.max_seq == 5
    sim.debugfs_write(f"- 0 0 2 {swappiness}")
    v = vm(sim)
    other = ANON if scanned_type == FILE else FILE
    names = {ANON: "pgscan_anon", FILE: "pgscan_file"}
    assert v[names[scanned_type]] > 0 and v[names[other]] == 0
    ok(sim)


@pytest.mark.parametrize("tiers", [True, False])
def test_inc_min_seq_lazy_exclusion_follows_tiers_switch__inc_min_seq_sort_folio(tiers):
    sim = make(tiers=tiers)
    for i in range(12):                                      # fd reads: refs 4 + PG_workingset
        sim.access("R", 0, i % 2)
    for page in (0, 1):
        f = sim.folio(sim.page_state("R", 0, page)["pfn"])
        # 7.3: marked in the lru_add batch -> max_seq - 2 = seq 1 (mm_inline.h:250)
        assert f["refs"] == 4 and "PG_workingset" in f["flags"] and f["seq"] == 1
    sim.debugfs_write("+ 0 0 3")                             # full window: inc_min_seq() retires the empty gen 0
    assert policy(sim).pid_state()["avg_total"][1] == [0, 0, 0, 0]
    sim.debugfs_write("+ 0 0 4")                             # full window: inc_min_seq() moves gen 1
    for page in (0, 1):
        assert sim.folio(sim.page_state("R", 0, page)["pfn"])["seq"] == 2
    # refs + ws == 5 is the lazily promoted case only with tiers; without, both count as
    # protected (tier 0), folded by reset_ctrl_pos(): avg_total = (0 + 2) / 2
    assert policy(sim).pid_state()["avg_total"][1] == ([0, 0, 0, 0] if tiers else [1, 0, 0, 0])


@pytest.mark.parametrize("cmd", ["- 0 0 +3", "+ +0 0 3", "+ 0 +0 3", "+ 0 0 3 +60"])
def test_b40_leading_plus_is_einval__vsscanf(cmd):
    sim = make()
    with pytest.raises(DebugfsError) as e:
        sim.debugfs_write(cmd)
    assert e.value.errno == "EINVAL"
    assert policy(sim).max_seq == 3


def test_b40_u_fields_truncate_to_unsigned_int__vsscanf():
    # %u stores simple_strntoull() as unsigned int: memcg 2^32 is memcg 0, node 2^32 + 0 is node 0
    sim = make()
    sim.debugfs_write(f"+ {1 << 32} {1 << 32} 3")
    assert policy(sim).max_seq == 4
    with pytest.raises(DebugfsError):
        sim.debugfs_write(f"+ {(1 << 32) + 1} 0 4")          # memcg 1
    assert policy(sim).max_seq == 4


@pytest.mark.parametrize("madv", [1 << 2, 1 << 3])           # VM_SEQ_READ, VM_RAND_READ
def test_b39_fault_on_vma_without_recency_is_not_in_lru_fault__lru_gen_enter_fault_lru_gen_refault(madv):
    # current->in_lru_fault = vma_has_recency(vma): the same refault through a
    # MADV_SEQUENTIAL/MADV_RANDOM mapping counts no activation
    sim = make()
    sim.set_vma_flags("M", 0, 16 | madv)                     # VM_SHARED | madv
    touch(sim, OP_READ, 0, [0])
    sim.debugfs_write("- 0 0 0")
    v0 = vm(sim)
    touch(sim, OP_MMAP, 0, [0])
    v1 = vm(sim)
    assert v1["workingset_refault_file"] - v0["workingset_refault_file"] == 1
    assert v1["workingset_activate_file"] == v0["workingset_activate_file"]
    assert "PG_active" not in sim.folio(sim.page_state("M", 0, 0)["pfn"])["flags"]


def test_debugfs_eviction_has_a_walk_buffer_even_with_walk_mm_off__lru_gen_seq_write_set_mm_walk():
    # lru_gen_seq_write() calls set_mm_walk(NULL, true) whatever the capabilities
    # say, so look-around during a debugfs '-' promotes neighbours with
    # folio_update_gen() (sorted later, no pgactivate), never folio_activate()
    sim = make()
    p = policy(sim)
    # 7.3 mm/folio.c:468-490: the fault leaves all 100 young with PG_referenced (the first
    # sighting the v6.15 setup got from a walk); two agings without a walk: min_seq 2
    touch(sim, OP_ANON, 0, range(100))
    assert p.age(walk=False) and p.age(walk=False)
    assert (p.max_seq, p.min_seq[ANON]) == (5, 2)
    p.sw_walk_mm = False                  # capability 0x0002 cleared from here on
    pfns = [pfn_of(sim, OP_ANON, 0, i) for i in range(100)]
    v0 = vm(sim)
    sim.debugfs_write("- 0 0 2 200 64")
    v1 = vm(sim)
    # 64 isolated in the first batch and activated by lru_gen_set_refs(); their
    # look-around neighbours 64..94 got folio_update_gen() and were moved by sort_folio();
    # 95..99 (outside every window) were isolated in the second batch and activated
    assert v1["pgscan_anon"] - v0["pgscan_anon"] == 64 + 5
    assert v1["pgactivate"] - v0["pgactivate"] == 64 + 5
    assert v1["pgrefill"] - v0["pgrefill"] == 31
    for i in range(64, 95):
        assert flags(sim, pfns[i]) & (PG_referenced | PG_workingset) == PG_workingset
        assert list_seq_of(sim, pfns[i])[0] == seq_of(sim, pfns[i]) == 5
    # the activated ones had folio_lru_refs() == 1: 7.3 lru_gen_set_refs() (vmscan.c:853-857)
    # activates them without PG_workingset, into max_seq - 1 (mm_inline.h:242)
    for i in range(64):
        assert flags(sim, pfns[i]) & (PG_referenced | PG_workingset) == PG_referenced
        assert list_seq_of(sim, pfns[i])[0] == seq_of(sim, pfns[i]) == 4
    # the second batch emptied seqs 2 and 3, so min_seq[anon] reached max_seq - 1 = 4 before
    # the putback: max_seq - 1 is the oldest gen and evict_folios() treats 95..99 as rejected,
    # clearing their PG_referenced and refs (7.3 vmscan.c:4933-4935)
    assert p.min_seq[ANON] == 4
    for i in range(95, 100):
        assert flags(sim, pfns[i]) & (PG_referenced | PG_workingset) == 0 and refs_field(sim, pfns[i]) == 0
        assert list_seq_of(sim, pfns[i])[0] == seq_of(sim, pfns[i]) == 4
    ok(sim)


def test_event_reasons_match_what_inc_min_seq_and_sort_folio_did__inc_min_seq_sort_folio():
    from engine.names import EVENT_KINDS, REASONS
    sim = make()
    touch(sim, OP_ANON, 0, [0])           # anon in seq 2
    touch(sim, OP_READ, 0, [0])           # file in seq 0
    seq0 = sim.event_seq
    sim.debugfs_write("+ 0 0 3 0")        # swappiness 0: anon is not evictable
    ev = [e for e in sim.events_since(seq0) if EVENT_KINDS[e["kind"]] == "inc_min_seq"]
    assert sorted(int(e["mapping"]) for e in ev) == [ANON, FILE]     # emit_arg: mapping = type
    # the anon list is recycled in place (no folio moves), the file one moved up
    for e in ev:
        assert "recycled" in REASONS[e["reason"]]
        assert "evictable" in REASONS[e["reason"]] and "protected" in REASONS[e["reason"]]
    # sort_folio's "waiting for writeback" case takes dirty *file* folios only
    assert "dirty file folio" in REASONS[_reason_index("GEN_WRITEBACK")]
    # a promoted folio's gen field can come from look-around too, not only the aging walk
    assert "look-around" in REASONS[_reason_index("GEN_PROMOTED")]


def _reason_index(name):
    from engine.names import REASON_NAMES
    return REASON_NAMES.index(name)


@pytest.mark.parametrize("ages", [0, 2, 3])
def test_b39_shadow_view_predicts_the_refault_test__lru_gen_eviction_lru_gen_test_recent(ages):
    sim = make(walk_mm=False)
    p = policy(sim)
    touch(sim, OP_READ, 0, [0, 1, 0])     # page 0: read twice -> refs 2, token refs field 1
    sim.debugfs_write("- 0 0 0")
    st = sim.page_state(OP_READ, 0, 0)
    assert st["state"] == "shadow"
    # evict_folios() ran try_to_inc_min_seq() before shrink_folio_list(): min_seq[file] was 2
    assert st["min_seq_at_eviction"] == p.min_seq[FILE] == 2 and st["refs"] == 2
    for _ in range(ages):
        p.age()
    st = sim.page_state(OP_READ, 0, 0)
    assert st["gens_since_eviction"] == p.max_seq - 2
    assert st["recent"] == (p.max_seq - 2 < 4)
    before = p.pid_state()["refaulted"][FILE]
    touch(sim, OP_READ, 0, [0])
    after = p.pid_state()["refaulted"][FILE]
    # a recent refault is counted in the tier of the restored refs (2 -> tier 1)
    assert (after[1] - before[1] == 1) == st["recent"]
    ok(sim)


def test_event_locations_refault_from_shadow_or_swap_and_exit_free_from_its_gen__lru_gen_refault_exit_mmap():
    from engine.names import EVENT_KINDS, LOCATIONS
    sim = make()
    touch(sim, OP_READ, 0, [0])
    touch(sim, OP_ANON, 0, range(70))
    sim.debugfs_write("+ 0 0 3; + 0 0 4")  # the walk clears the young bits; anon reaches min_seq
    sim.debugfs_write("- 0 0 2 200")      # anon first, then file: everything to swap or shadow
    assert gone(sim, OP_READ, 0, 0) and all(gone(sim, OP_ANON, 0, i) for i in range(70))
    seq0 = sim.event_seq
    touch(sim, OP_READ, 0, [0])
    touch(sim, OP_ANON, 0, [0])
    ev = [e for e in sim.events_since(seq0) if EVENT_KINDS[e["kind"]] == "workingset_refault"]
    # the refault comes from where the folio left its shadow, as under the classic policy
    assert [LOCATIONS[e["src"]] for e in ev] == ["shadow", "swap"]
    a = pfn_of(sim, OP_ANON, 0, 0)
    gen_seq = seq_of(sim, a)
    seq1 = sim.event_seq
    sim.access("U", 0)
    free = [e for e in sim.events_since(seq1) if EVENT_KINDS[e["kind"]] == "free" and e["pfn"] == a]
    assert len(free) == 1
    assert LOCATIONS[free[0]["src"]] == "gen" and int(free[0]["src_seq"]) == gen_seq
    ok(sim)


def test_new_mm_after_an_iteration_is_force_scanned__lru_gen_add_mm_iterate_mm_list():
    # lru_gen_add_mm(): the first mm added since the last iteration ended becomes
    # mm_state->tail; iterate_mm_list() force-scans from it on, so its page tables
    # are walked although the Bloom filter has never seen them
    sim = make()
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(80))
    sim.debugfs_write("+ 0 0 3 60 0")    # first iteration: everything forced; tail ends at the FIFO
    t0 = p.mm_walk_stats()["total"]
    touch(sim, OP_ANON, 1, range(80))    # a new process
    sim.debugfs_write("+ 0 0 4 60 0")    # force_scan not asked for
    assert p.mm_walk_stats()["total"] - t0 == 512      # only the new mm's page-table page
    b = pfn_of(sim, OP_ANON, 1, 0)
    # 7.3 mm/folio.c:468-490: the fault was the first sighting (PG_referenced), so the walk's
    # folio_update_gen() promotes it to the walk's max_seq 4 with PG_workingset (vmscan.c:3279-3296)
    assert flags(sim, b) & (PG_referenced | PG_workingset) == PG_workingset
    assert seq_of(sim, b) == 4
    assert not sim.page_state(OP_ANON, 1, 0)["young"]
    # the iteration after that forces nothing: mm 1 did not run, so it is skipped
    t1 = p.mm_walk_stats()["total"]
    sim.debugfs_write("+ 0 0 5 60 0")
    assert p.mm_walk_stats()["total"] == t1
    ok(sim)


def test_debugfs_eviction_batch_is_what_is_left_to_reclaim_7_3__run_eviction():
    # 7.3 vmscan.c:5704-5705 run_eviction(): nr_batch = min(nr_to_reclaim - nr_reclaimed,
    # MAX_LRU_BATCH) is scan_folios()'s budget, so '- ... 10' looks at 10 folios, not 64
    sim = make()
    p = policy(sim)
    touch(sim, OP_READ, 0, range(100))    # clean, unmapped, PG_referenced: seq 1 (mm_inline.h:250)
    v0 = vm(sim)
    sim.debugfs_write("- 0 0 1 1 10")
    v1 = vm(sim)
    assert v1["pgscan_file"] - v0["pgscan_file"] == 10
    assert v1["pgsteal_file"] - v0["pgsteal_file"] == 10
    assert p.min_seq[FILE] == 1 and len(p.gen_folios(1, FILE)) == 90
    ok(sim)


def test_7_3_activates_an_executable_file_folio_on_its_first_young_sighting__folio_update_gen_is_exec_file_folio():
    """7.3 vmscan.c:3279-3283 (folio_update_gen) and :843-846 (lru_gen_set_refs):
    a file folio young through a VM_EXEC mapping skips the first-sighting rule
    and is promoted with PG_workingset; through a plain shared mapping the first
    young sighting does not promote, as for anon (b30)."""
    OP_EXEC = 4
    sim = make()
    p = policy(sim)
    touch(sim, OP_EXEC, 0, range(80))       # >= MIN_LRU_BATCH pages or should_skip_mm() skips the mm
    touch(sim, OP_MMAP, 1, range(80))
    x, m = pfn_of(sim, OP_EXEC, 0, 5), pfn_of(sim, OP_MMAP, 1, 5)
    for f, op, owner in ((x, OP_EXEC, 0), (m, OP_MMAP, 1)):
        p.deactivate(f)                      # lru_gen_clear_refs(): a fresh start
        touch(sim, op, owner, [5])           # young again
        assert flags(sim, f) & (PG_referenced | PG_workingset) == 0
    seq_before = seq_of(sim, x)
    sim.debugfs_write("+ 0 0 %d" % p.max_seq)
    assert flags(sim, x) & (PG_referenced | PG_workingset) == PG_workingset
    assert seq_of(sim, x) == p.max_seq - 1 != seq_before      # the walk's max_seq
    # the shared mapping's folio is not promoted (its PG_referenced from the first
    # sighting is then cleared by inc_min_seq()'s folio_inc_gen(), as the aging
    # to a fifth generation moves min_seq)
    assert not flags(sim, m) & PG_workingset
    assert seq_of(sim, m) < p.max_seq - 1
    ok(sim)


# --- 6.1's reclaim loop: lru_gen_shrink_lruvec(), should_abort_scan(), lru_gen_age_node() ---

def test_6_1_starts_every_pass_at_def_priority__no_set_initial_priority():
    # set_initial_priority() came with v6.5; 6.1's kswapd and direct reclaim
    # start at DEF_PRIORITY (6.1 vmscan.c has no such function)
    sim = make(kernel="6.1")
    touch(sim, OP_ANON, 0, range(600))
    assert policy(sim).initial_priority(64) == 12
    newer = make(kernel="6.12")
    touch(newer, OP_ANON, 0, range(600))
    assert policy(newer).initial_priority(64) < 12


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_6_1_kswapd_stopping_early_counts_min_lru_batch_as_reclaimed__should_abort_scan(kernel):
    # 6.1 :5167-5193: kswapd stops once it reclaimed nr_to_reclaim since its
    # last lru_gen_age_node(), at DEF_PRIORITY - 2 or below and with every zone
    # above its high mark -- and adds MIN_LRU_BATCH to sc->nr_reclaimed; 6.12
    # stops as soon as nr_reclaimed reaches nr_to_reclaim and adds nothing
    sim = Simulator({"policy": "lru_gen", "ram_pages": 4096, "swap_pages": 0, "kernel": kernel,
                     "readahead_pages": 0})
    touch(sim, OP_READ, 0, range(12_000))                 # full of clean page cache
    steal0 = vm(sim)["pgsteal_kswapd"]
    r = sim.reclaim(32, reclaimer="kswapd", priority=0)
    stolen = vm(sim)["pgsteal_kswapd"] - steal0
    assert stolen >= 32
    assert r["nr_reclaimed"] == stolen + (64 if kernel == "6.1" else 0)


def test_6_1_kswapd_skips_the_aging_once_after_an_eviction_that_needed_none__lru_gen_age_node():
    # 6.1 :4563-4575: lru_gen_age_node() records sc->last_reclaimed, then, if
    # the eviction path cleared memcgs_need_aging (a pass that reclaimed a batch
    # without needing the aging, :5242-5244), sets it again and returns before
    # age_lruvec(); balance_pgdat()'s fresh scan_control starts with it clear
    sim = make(kernel="6.1", walk_mm=False)
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(300))
    p.evict_once(swappiness=60)                           # retires the empty gens: two left
    assert p.min_seq == [2, 2] and p.max_seq == 3
    max0 = p.max_seq
    skipped = p.kswapd_age_node_now(nr_reclaimed=77, memcgs_need_aging=False)
    assert skipped == {"max_seq": max0, "last_reclaimed": 77, "memcgs_need_aging": True}
    aged = p.kswapd_age_node_now(memcgs_need_aging=True)
    assert aged["max_seq"] == max0 + 1                    # two gens: should_run_aging() says age


def _faulted_then_aged(kernel, young_again=None):
    """100 anon folios faulted into max_seq (6.1 / 6.12 fault into max_seq, M2),
    aged until they are the oldest generation; `young_again`: with their young
    bits cleared by a walk first, the vpns touched again before eviction."""
    sim = make(kernel=kernel)
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(100))
    p.age(walk=young_again is not None)
    p.age(walk=False)
    p.evict_once(swappiness=200)                          # retires the empty oldest gens
    if young_again is not None:
        touch(sim, OP_ANON, 0, young_again)
    return sim, p, [pfn_of(sim, OP_ANON, 0, i) for i in range(100)]


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
@pytest.mark.parametrize("reclaimer", ["kswapd", "direct"])
def test_6_x_look_around_without_a_walk_buffer_activates_the_young_neighbours__lru_gen_look_around(
        kernel, reclaimer):
    # Before v6.14, look-around without a walk buffer (direct reclaim that has not
    # aged) activates a young neighbour in an older gen: folio_activate() moves it
    # to max_seq now and counts pgactivate (6.1 vmscan.c:4705-4710, 6.12
    # :4155-4161, after folio_clear_lru_refs()); kswapd's walk buffer makes it
    # folio_update_gen(): max_seq in the flags, moved when sorted, no pgactivate.
    # Of the isolated batch (vpn 0..63) only vpn 63 is young; its window reaches
    # the six young neighbours 64..69 on the lists. On 6.1 vpn 63 itself is
    # activated too (test below).
    sim, p, pfns = _faulted_then_aged(kernel, young_again=range(63, 70))
    v0 = vm(sim)
    assert p.evict_once(swappiness=200, reclaimer=reclaimer) == 64
    direct = reclaimer == "direct"
    itself = 1 if kernel == "6.1" else 0
    assert vm(sim)["pgactivate"] - v0["pgactivate"] == (6 if direct else 0) + itself
    for i in range(64, 70):
        assert not sim.page_state(OP_ANON, 0, i)["young"]
        assert seq_of(sim, pfns[i]) == p.max_seq
        assert list_seq_of(sim, pfns[i])[0] == (p.max_seq if direct else p.min_seq[ANON])
    assert all(seq_of(sim, pfns[i]) < p.max_seq for i in range(70, 100))
    ok(sim)


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_6_x_look_around_leaves_its_isolated_batch_referenced_and_it_is_kept__lru_gen_look_around(kernel):
    # 6.1's and 6.12's get_pfn_folio() (6.1 vmscan.c:3870-3891, 6.12 :3369-3386)
    # does not skip a folio off the lists: the first folio's look-around clears
    # the young bits of the rest of its isolated batch and leaves them
    # PG_referenced (6.12 :4156-4157, 6.1 :4692), and shrink_folio_list() keeps a
    # mapped PG_referenced folio without looking at its PTEs ("folio_update_gen()
    # tried to promote this page?", 6.12 :1110, 6.1 :1685). The folio itself:
    # 6.12 clears its own young bit first (:4087), so it is kept (referenced_ptes 1);
    # 6.1 runs look-around before clearing it (mm/rmap.c:829-847), so it comes out
    # PG_referenced and is activated. No other look-around runs, so the window of
    # vpn 0 ([0, 64)) is all it reaches: 64..99 stay young in their gen.
    from engine.names import REASON_NAMES
    sim, p, pfns = _faulted_then_aged(kernel)
    v0 = vm(sim)
    seq0 = sim.events_since(0)["seq"][-1] + 1
    assert p.evict_once(swappiness=200, reclaimer="direct") == 64
    v1 = vm(sim)
    assert v1["pgsteal_anon"] == v0["pgsteal_anon"] and v1["pswpout"] == v0["pswpout"]
    # the event log says why the other 63 stayed, in shrink_folio_list()'s terms
    kept = {int(e["pfn"]) for e in sim.events_since(seq0)
            if REASON_NAMES[e["reason"]] == "LRU_GEN_KEEP_REFERENCED"}
    assert kept == set(pfns[1:64])
    assert v1["pgactivate"] - v0["pgactivate"] == (1 if kernel == "6.1" else 0)
    for i in range(64):
        assert not sim.page_state(OP_ANON, 0, i)["young"]
        assert seq_of(sim, pfns[i]) == p.max_seq
    for i in range(64, 100):
        assert sim.page_state(OP_ANON, 0, i)["young"]
        assert seq_of(sim, pfns[i]) < p.max_seq
    ok(sim)


def test_7_3_look_around_passes_over_isolated_folios__get_pfn_folio():
    # 7.3's get_pfn_folio() skips a folio off the lists (vmscan.c:3491): every
    # folio of the isolated batch keeps its young bit for its own look-around,
    # and vpn 63's window [31, 95) reaches the neighbours 64..94 on the lists
    sim = make(kernel="7.3")
    p = policy(sim)
    touch(sim, OP_ANON, 0, range(100))
    p.age(walk=False); p.age(walk=False)
    p.evict_once(swappiness=200, reclaimer="direct")
    assert not any(sim.page_state(OP_ANON, 0, i)["young"] for i in range(95))
    assert all(sim.page_state(OP_ANON, 0, i)["young"] for i in range(95, 100))
    ok(sim)


def test_6_1_look_around_moves_15_or_more_by_folio_update_gen__lru_gen_look_around():
    # 6.1 :4705-4728: PAGEVEC_SIZE or more folios to promote in one window are
    # moved by folio_update_gen() under the lru_lock, not folio_activate(); here
    # only vpn 63 of the batch is young and its window holds 31 young neighbours.
    # 6.1 activates vpn 63 itself (it comes out of its look-around PG_referenced).
    for kernel, activated in (("6.1", 1), ("6.12", 31)):
        sim, p, pfns = _faulted_then_aged(kernel, young_again=range(63, 95))
        v0 = vm(sim)
        assert p.evict_once(swappiness=200, reclaimer="direct") == 64
        assert vm(sim)["pgactivate"] - v0["pgactivate"] == activated, kernel
        assert all(seq_of(sim, pfns[i]) == p.max_seq for i in range(64, 95))
        ok(sim)



def _gens_back(sim, pages):
    mx = sim.lists()["max_seq"]
    return [mx - sim.folio(sim.page_state("R", 0, p)["pfn"])["seq"] for p in pages]


def _make73(**cfg):
    base = {"policy": "lru_gen", "kernel": "7.3", "ram_pages": 4096, "swap_kind": "none", "swap_pages": 0,
            "watermarks": {"min": 8, "low": 16, "high": 24}, "readahead_pages": 32}
    base.update(cfg)
    return Simulator(base)


def test_a_folio_read_while_in_the_lru_add_batch_is_placed_referenced__folio_batch_add_and_move():
    # 7.3 (M1b): folio_add_lru() queues a small folio in the per-CPU batch
    # (mm/folio.c:223-225); read() marks it there, and lru_gen_folio_seq() files it
    # in max_seq - 2 when the batch drains (mm_inline.h:250). Without large folios
    # the sync window (0-3) and the next (4-11) wait in the batch while they are
    # read; the 16-page window after them is drained by the one after it (31
    # folios, folio_batch.h) before its pages are read, and stays in the oldest gen.
    sim = _make73(large_folios=0)
    touch(sim, OP_READ, 0, range(41))
    assert _gens_back(sim, range(28)) == [2] * 12 + [3] * 16
    # one page per miss: every 31st add fills the batch and drains it unread
    sim = _make73(readahead_pages=0)
    touch(sim, OP_READ, 0, range(70))
    got = _gens_back(sim, range(70))
    assert [p for p in range(70) if got[p] == 3] == [30, 61] and got.count(2) == 68


def test_a_large_folio_drains_the_lru_add_batch__folio_may_be_lru_cached():
    # 7.3 with large folios: the second window's order-2 folios are not cached
    # (mm/internal.h:46) and drain the batch at once, before pages 1-3 are read:
    # only the requested page of the sync window is placed referenced
    sim = _make73()
    touch(sim, OP_READ, 0, range(41))
    assert _gens_back(sim, range(28)) == [2] + [3] * 27


def test_direct_reclaim_drains_the_workloads_lru_add_batch__shrink_node():
    # a write() adds its folio unmarked (FGP_WRITEBEGIN has no FGP_ACCESSED); a read()
    # while it waits in the batch files it in max_seq - 2, but shrink_node()'s
    # lru_add_drain() on the workload's CPU (vmscan.c:5249) files it first
    for drain, expect in ((False, 2), (True, 3)):
        sim = _make73(readahead_pages=0)
        sim.access("W", 0, 7)
        if drain:
            sim.reclaim(1, reclaimer="direct")
        sim.access("R", 0, 6)
        sim.access("R", 0, 7)
        assert _gens_back(sim, [7]) == [expect]


@pytest.mark.parametrize("kernel,want", [
    # 6.1/6.12 (folio_inc_refs(): PG_referenced, then PG_workingset, then the field;
    # folio_lru_refs() = field + PG_workingset, tier order_base_2(refs + 1), 6.1
    # mm_inline.h:135-145) against 7.3 (lru_gen_inc_refs(): field + 1, tier
    # order_base_2(refs), PG_workingset only after the field saturates)
    ("6.1", [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3)]),
    ("6.12", [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3)]),
    ("7.3", [(1, 0), (2, 1), (3, 2), (4, 2), (4, 3)]),
])
def test_the_inspectors_refs_and_tier_are_the_releases_folio_lru_refs_and_tier__lru_tier_from_refs(kernel, want):
    sim = make(kernel=kernel)
    got = []
    for _ in range(5):
        sim.access("R", 0, 0)
        f = sim.folio(sim.page_state("R", 0, 0)["pfn"])
        sim.access("R", 0, 1)       # the next read of page 0 is not pos_same_folio()'s
        got.append((f["refs"], f["tier"]))
    assert got == want
    # the events sort_folio() would record read the same numbers
    pfn = sim.page_state("R", 0, 0)["pfn"]
    assert tuple(policy(sim).folio_refs_tier(pfn)) == want[-1]


def test_a_classic_folio_has_no_refs_or_tier_in_the_inspector__folio_mark_accessed():
    sim = Simulator({"policy": "lru", "ram_pages": 1024, "swap_pages": 1024, "readahead_pages": 0})
    sim.access("R", 0, 0)
    sim.access("R", 0, 0)
    f = sim.folio(sim.page_state("R", 0, 0)["pfn"])
    assert "PG_referenced" in f["flags"] or "PG_active" in f["flags"]
    assert f["refs"] is None and f["tier"] is None


@pytest.mark.parametrize("kernel,fn,reasons", [
    ("6.1", "folio_inc_refs", ["ACCESSED_FIRST", "REFS_SECOND", "REFS_INC"]),
    ("6.12", "folio_inc_refs", ["ACCESSED_FIRST", "REFS_SECOND", "REFS_INC"]),
    ("7.3", "lru_gen_inc_refs", ["ACCESSED_FIRST", "REFS_INC", "REFS_INC"]),
])
def test_an_fd_access_is_named_after_the_releases_function__folio_inc_refs_lru_gen_inc_refs(kernel, fn, reasons):
    """folio_mark_accessed() under MGLRU calls folio_inc_refs() before v6.14 (6.1
    swap.c:424-450: PG_referenced, then PG_workingset) and lru_gen_inc_refs() in
    7.3 (folio.c:355-378: PG_referenced, then the refs field); the event log
    names the function and the step of that release."""
    from engine.names import EVENT_KINDS, KERNEL_FNS, REASON_NAMES
    sim = make(kernel=kernel)
    got = []
    for _ in range(3):
        seq = sim.event_seq
        sim.access("R", 0, 0)
        sim.access("R", 0, 1)       # the next read of page 0 is not pos_same_folio()'s
        ev = [e for e in sim.events_since(seq) if EVENT_KINDS[e["kind"]] == "mark_accessed"]
        assert {KERNEL_FNS[e["fn"]] for e in ev} == {fn}
        got.append(REASON_NAMES[ev[0]["reason"]])
    assert got == reasons


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_a_refault_before_6_14_is_recent_while_min_seq_has_not_moved__lru_gen_refault(kernel):
    """6.1 lru_gen_refault() (workingset.c:275-277) and 6.12 lru_gen_test_recent()
    (:276-277) call a refault recent when the shadow's min_seq is min_seq now;
    7.3's rule (max_seq within MAX_NR_GENS) is not theirs, so neither are its
    reasons. 6.1 counts only a recent one in workingset_refault and never
    workingset_activate; 6.12 counts every refault and activates the recent."""
    from engine.names import EVENT_KINDS, REASON_NAMES
    sim = make(kernel=kernel)
    p = policy(sim)
    touch(sim, OP_READ, 0, range(1500))                  # evicts the first pages
    for _ in range(3):                                    # min_seq moves on
        p.age()
        sim.reclaim(400, reclaimer="direct")
    v0 = dict(vm(sim))
    seq = sim.event_seq
    for i in range(0, 600, 7):
        sim.access("R", 0, i)
    ev = [(EVENT_KINDS[e["kind"]], REASON_NAMES[e["reason"]], int(e["src_seq"]), int(e["dst_seq"]))
          for e in sim.events_since(seq) if EVENT_KINDS[e["kind"]].startswith("workingset_")]
    refaults = [e for e in ev if e[0] == "workingset_refault"]
    same = [e for e in refaults if e[1] == "REFAULT_SAME_MIN_SEQ"]
    moved = [e for e in refaults if e[1] == "REFAULT_MIN_SEQ_MOVED"]
    assert same and moved and len(same) + len(moved) == len(refaults)
    assert all(src == dst for _, _, src, dst in same) and all(src != dst for _, _, src, dst in moved)
    d = {k: vm(sim)[k] - v0[k] for k in ("workingset_refault_file", "workingset_activate_file")}
    activations = [e for e in ev if e[0] == "workingset_activate"]
    if kernel == "6.1":
        assert d == {"workingset_refault_file": len(same), "workingset_activate_file": 0} and not activations
    else:
        assert d == {"workingset_refault_file": len(refaults), "workingset_activate_file": len(same)}
        assert [e[1] for e in activations] == ["REFAULT_SAME_MIN_SEQ"] * len(same)


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_the_shadow_view_predicts_the_refault_test_before_6_14__lru_gen_refault(kernel):
    """page_state() of an evicted MGLRU page says what a refault now would meet:
    before v6.14 recent while min_seq has not moved since the eviction (6.1
    workingset.c:275-277, 6.12 :276-277), not 7.3's MAX_NR_GENS window."""
    from engine.names import EVENT_KINDS, REASON_NAMES
    sim = make(kernel=kernel)
    p = policy(sim)
    touch(sim, OP_READ, 0, range(1500))
    shadows = [pg for pg in range(600) if sim.page_state("R", 0, pg)["state"] == "shadow"]
    st = sim.page_state("R", 0, shadows[0])
    assert st["min_seq_now"] == p.min_seq[FILE] and st["recent"] == (st["min_seq_at_eviction"] == p.min_seq[FILE])
    for _ in range(3):
        p.age()
        sim.reclaim(400, reclaimer="direct")
    verdicts = {}
    for pg in range(0, 600, 7):
        st = sim.page_state("R", 0, pg)
        if st["state"] != "shadow":
            continue
        assert st["min_seq_now"] == p.min_seq[FILE]
        seq = sim.event_seq
        sim.access("R", 0, pg)
        e = [e for e in sim.events_since(seq) if EVENT_KINDS[e["kind"]] == "workingset_refault"][0]
        verdicts.setdefault(st["recent"], set()).add(REASON_NAMES[e["reason"]])
    assert verdicts == {True: {"REFAULT_SAME_MIN_SEQ"}, False: {"REFAULT_MIN_SEQ_MOVED"}}

"""Readahead as mm/readahead.c and mm/filemap.c do it (docs/kernels.md, "Shared
by every profile"): on-demand windows, their ramp, context readahead, the async
marker, mmap read-around with mmap_miss, the end of the file."""
import numpy as np
import pytest

from engine.names import REASON_NAMES
from engine import ACCESS_DTYPE, Simulator

OP_READ, OP_MMAP = 1, 3


def make(ra=32, **extra):
    cfg = {"policy": "lru", "ram_pages": 4096, "swap_kind": "none", "swap_pages": 0,
           "watermarks": {"min": 8, "low": 16, "high": 24}, "readahead_pages": ra}
    cfg.update(extra)
    return Simulator(cfg)


def cached(sim, op, f, n):
    return [p for p in range(n) if sim.page_state(op, f, p)["state"] == "resident"]


def flags(sim, op, f, p):
    return sim.folio(sim.page_state(op, f, p)["pfn"])["flags"]


def test_start_of_file_opens_a_window_of_four_with_its_marker__page_cache_sync_ra_get_init_ra_size():
    sim = make()
    sim.access("R", 0, 0)
    assert cached(sim, "R", 0, 64) == [0, 1, 2, 3]          # get_init_ra_size(1, 32) = 4
    assert "PG_readahead" in flags(sim, "R", 0, 1)           # async_size 3: the marker 3 before the end
    assert "PG_referenced" in flags(sim, "R", 0, 0) and "PG_referenced" not in flags(sim, "R", 0, 2)
    assert sim.vmstat()["pgpgin"] == 4 * 4


def test_marker_hit_pushes_the_window_forward_and_ramps_it__page_cache_async_ra_get_next_ra_size():
    sim = make()
    sim.access("R", 0, 0)
    sim.access("R", 0, 1)                                    # reaches the marker
    assert cached(sim, "R", 0, 64) == list(range(12))        # next window: 4..11 (2 x 4)
    assert "PG_readahead" not in flags(sim, "R", 0, 1) and "PG_readahead" in flags(sim, "R", 0, 4)
    for p in range(2, 200):
        sim.access("R", 0, p)
    got = cached(sim, "R", 0, 400)
    assert got == list(range(len(got))) and 200 < len(got) <= 200 + 2 * 32   # ramped to ra_pages 32
    assert sim.vmstat()["pgmajfault"] == 0


def test_standalone_random_read_reads_one_page__page_cache_sync_ra():
    sim = make()
    sim.access("R", 1, 500)
    assert cached(sim, "R", 1, 600) == [500]
    sim.access("R", 1, 501)                                  # right after the previous read: sequential
    assert cached(sim, "R", 1, 600) == [500, 501, 502, 503, 504]


def test_miss_after_cached_history_reads_as_much_ahead__page_cache_sync_ra_context():
    sim = make()
    for p in range(100, 110):
        sim.access("R", 2, p)
    sim.access("R", 2, 0)                                    # elsewhere: prev_pos is no longer 109
    have = set(cached(sim, "R", 2, 400))
    nxt = max(have) + 1                                      # the first page not yet read ahead
    sim.access("R", 2, nxt + 40)                             # history before it? none: one page
    assert nxt + 40 in cached(sim, "R", 2, 400) and nxt + 41 not in cached(sim, "R", 2, 400)
    sim.access("R", 2, 0)
    before = set(cached(sim, "R", 2, 400))
    sim.access("R", 2, nxt)                                  # contiguous history before it: a window
    new = set(cached(sim, "R", 2, 400)) - before
    assert len(new) > 1 and min(new) == nxt


def test_mmap_fault_reads_around_and_stops_after_lots_of_misses__do_sync_mmap_readahead():
    sim = make(ram_pages=1 << 16, watermarks={"min": 8, "low": 16, "high": 24})
    sim.access("M", 3, 100)
    assert cached(sim, "M", 3, 200) == list(range(84, 116))  # ra_pages 32 centred on the fault
    # 101 more major faults far apart: mmap_miss passes MMAP_LOTSAMISS (100), read-around stops
    for i in range(1, 102):
        sim.access("M", 3, 1000 * i)
    n = len(cached(sim, "M", 3, 110_000))
    sim.access("M", 3, 200_000)
    assert len(cached(sim, "M", 3, 210_000)) == n + 1


def test_readahead_stops_at_the_end_of_the_file__do_page_cache_ra():
    sim = make()
    w = np.zeros(3, dtype=ACCESS_DTYPE)
    w["op"] = OP_READ
    w["owner"] = 4
    w["page"] = [0, 1, 5]                                    # the file ends at page 5
    sim.set_workload(w)
    sim.run_to_end()
    assert max(cached(sim, "R", 4, 64)) == 5


def test_readahead_off_reads_only_the_page__force_page_cache_ra():
    sim = make(ra=0)
    sim.access("R", 0, 0)
    sim.access("M", 1, 50)
    assert cached(sim, "R", 0, 64) == [0] and cached(sim, "M", 1, 100) == [50]


@pytest.mark.parametrize("kernel", ["6.1", "6.12", "7.3"])
def test_readahead_folios_refault_against_their_shadows__filemap_add_folio_workingset_refault(kernel):
    sim = make(kernel=kernel)
    for p in range(64):
        sim.access("R", 5, p)
    sim.reclaim(4096, reclaimer="direct", priority=0)
    gone = [p for p in range(64) if sim.page_state("R", 5, p)["state"] == "shadow"]
    assert gone
    refaults = sim.vmstat()["workingset_refault_file"]
    sim.access("R", 5, 64 + 40)                              # elsewhere first
    sim.access("R", 5, 0)                                    # start of file: a window over shadows
    assert sim.vmstat()["workingset_refault_file"] > refaults + 1


def resident(sim, f, pages):
    return [p for p in pages if sim.page_state("R", f, p)["state"] == "resident"]


@pytest.mark.parametrize("policy,kernel", [("lru", "6.1"), ("lru", "7.3"), ("lru_gen", "6.12"), ("lru_gen", "7.3")])
def test_shrink_folio_list_keeps_a_readahead_folio_whose_read_is_in_flight__folio_trylock(policy, kernel):
    # filemap_add_folio() adds a readahead folio locked (7.3 filemap.c:971);
    # read_pages() submits the window and the folio unlocks when its read
    # completes, the device's latency (cost file_read, 80 us) later. Reclaim
    # that meets it first fails folio_trylock() and keeps it (6.1 vmscan.c:1669,
    # 6.12 :1079, 7.3 :1088). The sync window 0-3 completed while the reader
    # waited for page 0; the async window 4-11 the marker on page 1 submitted
    # has not.
    sim = make(policy=policy, kernel=kernel)
    sim.access("R", 0, 0)
    sim.access("R", 0, 1)
    assert resident(sim, 0, range(12)) == list(range(12))
    seq0 = sim.event_seq
    sim.reclaim(4096, reclaimer="direct", priority=0)
    assert resident(sim, 0, range(2, 12)) == list(range(4, 12))
    # and the log says why, in the kernel's terms (the inspector's "why kept")
    ev = sim.events_since(seq0)
    locked = {int(e["pfn"]) for e in ev if REASON_NAMES[e["reason"]] == "FOLIO_LOCKED"}
    heads = {sim.folio(sim.page_state("R", 0, p)["pfn"]).get("head", sim.page_state("R", 0, p)["pfn"])
             for p in range(4, 12)}
    assert locked == heads
    # a miss elsewhere: the reader waits 80 us, the window's read is done
    sim.access("R", 1, 1000)
    for _ in range(20):                      # MGLRU: kept folios went to a young generation
        if not resident(sim, 0, range(2, 12)):
            break
        sim.reclaim(4096, reclaimer="direct", priority=0)
    assert resident(sim, 0, range(2, 12)) == []
    assert sim.check_invariants() == []


def test_evict_folios_files_a_folio_it_could_not_lock_out_of_the_oldest_generation__lru_gen_folio_seq():
    # 7.3 evict_folios(): a clean unmapped survivor is retried once, then, as
    # lru_gen_folio_seq() would put it back into min_seq, it is given PG_active
    # ("don't add rejected folios to the oldest generation"): max_seq - 1, where
    # the real 7.3.4's stream-hot-file replays hold 621-675 such file pages
    # (pgscan - pgsteal, pgrotate_file)
    sim = make(policy="lru_gen", kernel="7.3")
    sim.access("R", 0, 0)
    sim.access("R", 0, 1)
    before = sim.vmstat()
    max_seq = sim.lists()["max_seq"]
    sim.reclaim(4096, reclaimer="direct", priority=0)
    after = sim.vmstat()
    lists = sim.lists()
    seq_of = {int(pfn): g["seq"] for g in lists["gens"] for pfn in g["folios"][1]}
    heads = {sim.folio(sim.page_state("R", 0, p)["pfn"])["head"] for p in range(4, 12)}
    assert {seq_of[h] for h in heads} == {max_seq - 1}
    scanned = after["pgscan_direct"] - before["pgscan_direct"]
    stolen = after["pgsteal_direct"] - before["pgsteal_direct"]
    assert scanned - stolen == 8                 # isolated (pgscan), kept: the window's 8 pages

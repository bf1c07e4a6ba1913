"""7.3's large page-cache folios (docs/kernels.md "Large folios"): read()'s
readahead allocates folios of rising order (mm/readahead.c:page_cache_ra_order()),
and filemap_read() marks a folio once per read() of any of its pages, so its
pages share one reference state. 6.1 and 6.12 (whose ext4 has no large folios)
and a 7.3 with `large_folios` 0 (the rig's `nolf` boots) keep 4 KiB folios."""
import pytest

from engine import Simulator
from engine.config import ConfigError


def make(policy="lru_gen", **extra):
    cfg = {"policy": policy, "kernel": "7.3", "ram_pages": 4096, "swap_kind": "none", "swap_pages": 0,
           "watermarks": {"min": 8, "low": 16, "high": 24}, "readahead_pages": 32}
    cfg.update(extra)
    return Simulator(cfg)


def folio(sim, f, p):
    st = sim.page_state("R", f, p)
    return sim.folio(st["pfn"]) if st["state"] == "resident" else None


def orders(sim, f, n):
    return [folio(sim, f, p)["order"] for p in range(n)]


def read(sim, f, pages):
    for p in pages:
        sim.access("R", f, p)


def test_the_window_ramps_its_folio_order_and_ends_on_a_folio_boundary__page_cache_ra_order():
    sim = make()
    read(sim, 0, range(130))
    got = orders(sim, 0, 192)
    # sync window 0-3 at order 0 (readahead.c:647); then each async window takes
    # ra->order + 2, capped by ilog2(size) and the index's alignment (:509-531), and
    # is cut to end on a boundary of that size (:711-718): 4-11 and 12-15 at order 2,
    # 16-31 at 3, 32-63 at 4, then one 32-page folio per window (ilog2(ra_pages) = 5)
    assert got[:4] == [0] * 4 and got[4:16] == [2] * 12 and got[16:32] == [3] * 16
    assert got[32:64] == [4] * 32 and got[64:192] == [5] * 128
    # the marker sits on the folio at the window's start (:467-469), a flag of the
    # folio (its head's), which every page of it reports
    assert all("PG_readahead" in folio(sim, 0, p)["flags"] for p in range(160, 192))
    assert {folio(sim, 0, p)["head"] for p in range(160, 192)} == {folio(sim, 0, 160)["pfn"]}
    assert not any("PG_readahead" in folio(sim, 0, p)["flags"] for p in range(128, 160))


def test_without_large_folios_every_page_is_its_own_folio__large_folios_0():
    sim = make(large_folios=0)
    read(sim, 0, range(130))
    assert set(orders(sim, 0, 160)) == {0}


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_only_7_3s_ext4_has_large_folios__config(kernel):
    sim = make(kernel=kernel)
    read(sim, 0, range(130))
    assert set(orders(sim, 0, 160)) == {0}
    with pytest.raises(ConfigError):
        make(kernel=kernel, large_folios=1)
    assert Simulator({"kernel": "7.3"}).config["large_folios"] == 1


def test_a_cached_page_in_the_window_leaves_the_rest_to_single_pages__page_cache_ra_order_eexist():
    sim = make()
    read(sim, 0, range(64))                                  # the window now reaching 64-95
    sim.access("R", 0, 100)                                  # a standalone read caches 100 alone
    read(sim, 0, range(64, 97))
    # 96-127 would be one order-5 folio, but 100 is cached: filemap_add_folio()
    # fails (-EEXIST) and do_page_cache_ra() reads the rest page by page (:550-559)
    got = orders(sim, 0, 128)
    assert got[64:96] == [5] * 32 and got[96:128] == [0] * 32


def test_a_read_of_any_page_marks_the_whole_folio_once__filemap_read_folio_mark_accessed():
    sim = make()
    read(sim, 0, range(130))
    # the sequential pass marked 64-95 once: pos_same_folio() skips the folio's
    # other 31 reads (filemap.c:2847-2853)
    assert {folio(sim, 0, p)["refs"] for p in range(64, 96)} == {1}
    sim.access("R", 0, 80)                                   # elsewhere in the file first
    assert {folio(sim, 0, p)["refs"] for p in range(64, 96)} == {2}
    assert folio(sim, 0, 96)["refs"] == 1
    sim.access("R", 0, 81)                                   # the previous read ended in this folio
    assert {folio(sim, 0, p)["refs"] for p in range(64, 96)} == {2}
    sim.access("R", 0, 10)
    sim.access("R", 0, 90)
    assert {folio(sim, 0, p)["refs"] for p in range(64, 96)} == {3}
    # with 4 KiB folios the same reads raise page 80's refs alone
    small = make(large_folios=0)
    read(small, 0, range(130))
    small.access("R", 0, 80)
    assert folio(small, 0, 80)["refs"] == 2 and folio(small, 0, 81)["refs"] == 1


def test_classic_activates_a_large_folio_on_a_second_read_of_any_page__folio_mark_accessed():
    sim = make("lru")
    read(sim, 0, range(130))
    assert not any("PG_active" in folio(sim, 0, p)["flags"] for p in range(64, 96))
    sim.access("R", 0, 70)
    # inactive and PG_referenced: folio_activate() moves the whole folio
    assert all("PG_active" in folio(sim, 0, p)["flags"] for p in range(64, 96))
    assert "PG_active" not in folio(sim, 0, 96)["flags"]


def test_random_reads_keep_a_hot_file_in_large_folios_resident__sort_folio_tier():
    # stream-hot-file in miniature: a hot file read sequentially once (large
    # folios), then random reads of it beside a use-once stream. With 4 KiB folios
    # a hot page needs two reads of itself before eviction to reach tier 1; a
    # 32-page folio gets there from reads of any two of its pages, sort_folio()
    # protects it (vmscan.c:4677-4690, counted in pgrefill) and it stays.
    import numpy as np
    rng = np.random.Generator(np.random.PCG64(3))
    hot, n = 3000, 60_000
    out = {}
    for lf in (1, 0):
        sim = make(ram_pages=4096, large_folios=lf)
        read(sim, 0, range(hot))
        stream = 0
        for _ in range(n):
            if rng.random() < 0.5:
                sim.access("R", 1, stream)
                stream += 1
            else:
                sim.access("R", 0, int(rng.integers(0, hot)))
        resident = sum(sim.page_state("R", 0, p)["state"] == "resident" for p in range(hot))
        out[lf] = sim.file_counters()[0]["refaults"], resident, sim.vmstat()["pgrefill"]
        rng = np.random.Generator(np.random.PCG64(3))
    assert out[1][0] * 5 < out[0][0], out
    assert out[1][1] >= hot - 5 and out[1][1] > out[0][1], out
    assert out[1][2] >= hot * 9 // 10, out       # the hot file went through sort_folio()'s protection


@pytest.mark.parametrize("policy", ["lru_gen", "lru", "clock"])
def test_a_machine_loaded_from_its_state_image_marks_the_same_folios__filemap_mark_accessed(policy):
    # A tail page names its head (page_folio()); that link is state, in the image
    # and the hash, so a machine loaded from an image marks and reclaims the same
    # folios as the one that wrote it -- here under reclaim (whole folios evicted,
    # their frames reused as other folios' heads and tails).
    import numpy as np

    def run(sim, rng, n, stream):
        for _ in range(n):
            if rng.random() < 0.5:
                sim.access("R", 1, stream)
                stream += 1
            else:
                sim.access("R", 0, int(rng.integers(0, 3000)))
        return stream

    cfg = {"policy": policy, "kernel": "7.3", "ram_pages": 4096, "swap_kind": "none", "swap_pages": 0,
           "watermarks": {"min": 8, "low": 16, "high": 24}, "readahead_pages": 32}
    sims = [Simulator(cfg), Simulator(cfg)]
    for sim in sims:
        read(sim, 0, range(3000))
    # the second machine is reloaded twice from its own image
    image = sims[1].state_bytes()
    sims[1] = Simulator(cfg)
    sims[1].load_state(image)
    rngs = [np.random.Generator(np.random.PCG64(5)) for _ in sims]
    streams = [run(sim, rng, 30_000, 0) for sim, rng in zip(sims, rngs)]
    image = sims[1].state_bytes()
    assert image == sims[0].state_bytes()
    sims[1] = Simulator(cfg)
    sims[1].load_state(image)
    for sim, rng, stream in zip(sims, rngs, streams):
        run(sim, rng, 30_000, stream)
    assert sims[0].vmstat()["pgsteal_kswapd"] + sims[0].vmstat()["pgsteal_direct"] > 20_000
    assert sims[0].check_invariants() == [] and sims[1].check_invariants() == []
    assert sims[0].state_hash() == sims[1].state_hash()
    assert sims[0].vmstat() == sims[1].vmstat()


# --- one LRU entry per large folio (7.3: a folio is the unit of the LRU) ------------

def frames_of(sim, f, pages):
    return [sim.page_state("R", f, p)["pfn"] for p in pages]


def test_a_read_marks_the_folio_once_on_its_head__filemap_read_lru_gen_inc_refs():
    # folio_mark_accessed(folio) -> lru_gen_inc_refs(folio) (7.3 mm/swap.c): one flag
    # word, the head's; the tail pages hold nothing but their head's name
    sim = make()
    read(sim, 0, range(130))
    head = folio(sim, 0, 64)["pfn"]
    seq0 = sim.event_seq
    sim.access("R", 0, 80)
    marks = [e for e in sim.events_since(seq0) if e["kind"] == sim_kind(sim, "mark_accessed")]
    assert [int(e["pfn"]) for e in marks] == [head]
    raw = sim.frames()["flags"]
    PG_tail, PG_referenced = 1 << 14, 1 << 2
    assert raw[head] & PG_referenced and not raw[head] & PG_tail
    assert all(raw[p] & PG_tail and not raw[p] & PG_referenced for p in frames_of(sim, 0, range(65, 96)))
    assert {int(sim.links()[p]) for p in frames_of(sim, 0, range(65, 96))} == {head}
    assert sim.check_invariants() == []


def sim_kind(sim, name):
    from engine.names import EVENT_KINDS
    return EVENT_KINDS.index(name)


def test_only_the_head_is_on_the_lru_and_the_sizes_count_pages__lruvec_add_folio():
    # lruvec_add_folio() links folio->lru once; update_lru_size() / lru_gen_update_size()
    # add folio_nr_pages() (mm_inline.h)
    for policy in ("lru", "lru_gen", "clock"):
        sim = make(policy)
        read(sim, 0, range(130))
        on_lists = [int(p) for name, pfns in sim.lists().items() if name.startswith("LRU_") for p in pfns] \
            if policy != "lru_gen" else [int(p) for g in sim.lists()["gens"] for t in g["folios"] for p in t]
        tails = set(frames_of(sim, 0, range(5, 8))) | set(frames_of(sim, 0, range(65, 96)))
        assert not tails & set(on_lists)
        assert folio(sim, 0, 64)["pfn"] in on_lists
        v = sim.vmstat()
        # 160 pages cached (the window reached 191), 5 system pages... all counted as pages
        assert v["nr_inactive_file"] + v["nr_active_file"] == v["nr_file_pages"]
        assert sim.check_invariants() == []


def test_reclaim_evicts_a_large_folio_whole_and_counts_its_pages__shrink_folio_list_isolate_lru_folios():
    # isolate_lru_folios() scans and takes folio_nr_pages() (vmscan.c:1699-1740),
    # shrink_folio_list() counts sc->nr_scanned and nr_reclaimed by it (:1111, :1504),
    # and __remove_mapping() frees every page of the folio
    sim = make("lru")
    read(sim, 0, range(130))
    v0 = sim.vmstat()
    sim.reclaim(100, reclaimer="direct", priority=0)
    v1 = sim.vmstat()
    gone = [p for p in range(192) if sim.page_state("R", 0, p)["state"] != "resident"]
    assert gone, "reclaim freed nothing"
    # whole folios only: a folio's pages are all resident or all gone
    for p in range(192):
        o = folio(sim, 0, p)
        if o is not None and o["order"]:
            base = p & ~((1 << o["order"]) - 1)
            assert not set(range(base, base + (1 << o["order"]))) & set(gone)
    stolen = v1["pgsteal_direct"] - v0["pgsteal_direct"]
    assert stolen == len(gone) == v1["pgsteal_file"] - v0["pgsteal_file"]
    assert v0["nr_file_pages"] - v1["nr_file_pages"] == stolen
    assert sim.nr_free - 0 >= stolen
    assert v1["pgscan_direct"] - v0["pgscan_direct"] >= stolen
    assert sim.check_invariants() == []


def test_the_shadow_covers_the_folio_range_and_a_refault_counts_its_pages__page_cache_delete_workingset_refault():
    # page_cache_delete() stores the shadow over the folio's whole range (filemap.c:137-142):
    # every index finds it; a read that refaults there creates what readahead creates, and
    # workingset_refault() counts that folio's pages (workingset.c:572-587)
    sim = make("lru")
    read(sim, 0, range(130))
    sim.reclaim(4096, reclaimer="direct", priority=0)
    st = [sim.page_state("R", 0, p) for p in range(64, 96)]
    assert {s["state"] for s in st} == {"shadow"}
    assert len({str(s.get("shadow")) for s in st}) == 1
    assert sim.check_invariants() == []
    shadows = {p for p in range(192) if sim.page_state("R", 0, p)["state"] == "shadow"}
    v0 = sim.vmstat()
    seq0 = sim.event_seq
    read(sim, 0, range(64, 130))       # sync, then ramping async windows: large folios again
    refaults = sim.vmstat()["workingset_refault_file"] - v0["workingset_refault_file"]
    back = [p for p in shadows if sim.page_state("R", 0, p)["state"] == "resident"]
    assert refaults == len(back) > 32
    # one refault per folio: a large folio's is counted on its head, for all its pages
    heads = {int(e["pfn"]) for e in sim.events_since(seq0) if e["kind"] == sim_kind(sim, "workingset_refault")}
    big = {folio(sim, 0, p)["head"] for p in back if folio(sim, 0, p)["order"]}
    assert big and big <= heads
    assert not {folio(sim, 0, p)["pfn"] for p in back if folio(sim, 0, p)["pfn"] != folio(sim, 0, p)["head"]} & heads
    assert sim.check_invariants() == []


def test_sort_folio_moves_a_large_folio_whole_and_counts_its_pages__sort_folio():
    # sort_folio() moves the folio (list_move(&folio->lru, ...)) and scan_folios()
    # counts its delta = folio_nr_pages() in pgrefill (vmscan.c:4659-4690, :4756-4766).
    # A folio whose refs are saturated with PG_workingset is always moved on
    # (lazily promoted, :4677): six reads of pages of 64-95, each after a read elsewhere
    sim = make("lru_gen")
    read(sim, 0, range(130))
    for _ in range(6):
        sim.access("R", 0, 10)
        sim.access("R", 0, 80)
    p = sim.policy
    head = folio(sim, 0, 64)
    assert head["tier"] == 3 and head["seq"] == p.min_seq[1] == 0
    v0 = sim.vmstat()
    p.evict_once(swappiness=1)
    v1 = sim.vmstat()
    # both folios read six times moved on whole: 8-11 (4 pages) and 64-95 (32)
    assert v1["pgrefill"] - v0["pgrefill"] == 4 + 32
    assert {folio(sim, 0, q)["seq"] for q in range(64, 96)} == {1}
    assert {folio(sim, 0, q)["seq"] for q in range(8, 12)} == {1}
    assert all(sim.page_state("R", 0, q)["state"] == "resident" for q in range(64, 96))
    assert sim.check_invariants() == []


def test_a_write_dirties_the_whole_folio__folio_mark_dirty():
    # folio_mark_dirty() -> folio_account_dirtied(): NR_FILE_DIRTY += folio_nr_pages()
    sim = make("lru")
    read(sim, 0, range(130))
    d0 = sim.vmstat()["nr_dirty"]
    sim.access("W", 0, 70)
    assert sim.vmstat()["nr_dirty"] - d0 == 32
    assert all("PG_dirty" in folio(sim, 0, p)["flags"] for p in range(64, 96))
    assert sim.check_invariants() == []


def test_a_young_pte_of_any_page_references_the_large_folio__folio_referenced():
    # folio_referenced_one() walks every PTE of the folio in the VMA (rmap.c:922-1033):
    # a young PTE of a tail page references the folio, and the look is a clear
    sim = make("lru")
    read(sim, 0, range(130))
    sim.access("M", 0, 90)                    # fault-around maps 80-95 young
    p = sim.policy
    v0 = sim.vmstat()
    young = [y for q in range(80, 96) for y in folio(sim, 0, q)["young"] if y["young"]]
    assert young
    sim.reclaim(4096, reclaimer="direct", priority=0)
    # mapped and young: kept (activated), its pages all resident
    assert all(sim.page_state("R", 0, q)["state"] == "resident" for q in range(64, 96))
    assert not any(y["young"] for q in range(80, 96) for y in folio(sim, 0, q)["young"])
    assert sim.check_invariants() == []


def test_check_invariants_catches_reference_state_on_a_tail_page__page_folio():
    # the folio's state is its head's alone: a tail page holds PG_tail, the order
    # and its head's name, nothing else (check_invariants() also holds every tail
    # to a head of its order and range, and every head to its tails)
    sim = make("lru_gen")
    read(sim, 0, range(130))
    assert sim.check_invariants() == []
    tail = folio(sim, 0, 70)["pfn"]
    sim.debug_set_folio_flags(tail, set_mask=1 << 2)          # PG_referenced
    errs = sim.check_invariants()
    assert any(f"tail pfn {tail} has flags" in e for e in errs), errs


def test_reclaim_unmaps_every_pte_of_a_large_folio__try_to_unmap():
    # try_to_unmap() walks every page of the folio in each VMA (page_vma_mapped_walk());
    # the folio counts its mapped pages (folio_mapped(): _nr_pages_mapped)
    sim = make("lru")
    read(sim, 0, range(130))
    sim.access("M", 0, 90)                    # fault-around maps 80-95 young
    mapped0 = sim.vmstat()["nr_mapped"]
    assert mapped0 >= 16
    sim.access("R", 1, 10_000)                # a miss: the last window's read (160-191) completes meanwhile
    for _ in range(20):
        if sim.page_state("R", 0, 64)["state"] != "resident":
            break
        sim.reclaim(4096, reclaimer="direct", priority=0)
        assert sim.check_invariants() == []
    assert all(sim.page_state("R", 0, q)["state"] == "shadow" for q in range(64, 96))
    assert sim.vmstat()["nr_mapped"] == mapped0 - 16
    assert sim.check_invariants() == []

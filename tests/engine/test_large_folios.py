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
    # the marker sits on the folio at the window's start (:467-469): its first page
    assert "PG_readahead" in folio(sim, 0, 160)["flags"]
    assert not any("PG_readahead" in folio(sim, 0, p)["flags"] for p in range(161, 192))


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
def test_a_machine_loaded_from_its_state_image_marks_the_same_pages__filemap_mark_accessed(policy):
    # filemap_mark_accessed() finds a large folio's pages through hints that
    # page_cache_ra_order() leaves (a tail page's `swap` names its head, the head a
    # run of its pages), not through the page cache. The hints are not state: the
    # image has none, and a loaded machine falls back to page-cache lookups until
    # it has renewed them. Both must mark the same pages -- here under reclaim
    # (pages of a folio evicted one by one, frames reused) and with the hint runs
    # wrapping (4096 entries for 60 k reads of large folios).
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
    # the second machine loses its hints twice: it differs from the first in
    # hints only, and the images must not show that
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

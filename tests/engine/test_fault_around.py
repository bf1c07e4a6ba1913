"""A read fault on a file mapping first maps what is cached around it:
mm/memory.c:do_read_fault() -> do_fault_around() -> filemap_map_pages(), a
16-page window (fault_around_bytes 64 KiB), every cached folio that is not
PG_readahead and whose PTE is none, young (x86's vm_page_prot has the accessed
bit). Each release counts those folios against mmap_miss differently, and 7.3
reads executable mappings forward (docs/kernels.md "Shared by every profile")."""
import pytest

from engine import Simulator


def machine(kernel="7.3", ra=0):
    return Simulator({"policy": "lru", "kernel": kernel, "ram_pages": 4096, "swap_pages": 0,
                      "swap_kind": "none", "readahead_pages": ra})


def mapping_of(sim, op, file, page):
    st = sim.page_state("R", file, page)
    if st.get("pfn") is None:
        return None
    want = "exec" if op == "X" else "shared"
    return next((y for y in sim.folio(st["pfn"])["young"] if y["mm"] == want), None)


def cached(sim, file, pages):
    return [p for p in pages if sim.page_state("R", file, p).get("pfn") is not None]


@pytest.mark.parametrize("kernel", ["6.1", "6.12", "7.3"])
def test_a_read_fault_maps_its_cached_16_page_window_young__do_fault_around_filemap_map_pages(kernel):
    sim = machine(kernel)
    for p in range(40):
        sim.access("R", 0, p)                                 # cached by read(), not mapped
    v0 = sim.vmstat()
    sim.access("M", 0, 21)
    mapped = [p for p in range(40) if mapping_of(sim, "M", 0, p)]
    assert mapped == list(range(16, 32))                      # the aligned window, not 15 or 32
    assert all(mapping_of(sim, "M", 0, p)["young"] for p in mapped)
    v = sim.vmstat()
    assert v["pgfault"] - v0["pgfault"] == 1 and v["pgmajfault"] == v0["pgmajfault"]
    assert v["nr_mapped"] - v0["nr_mapped"] == 16
    # a neighbour's own access later is a hit: no second fault
    sim.access("M", 0, 30)
    assert sim.vmstat()["pgfault"] == v["pgfault"]


def test_a_write_fault_to_a_shared_mapping_maps_only_its_page__do_shared_fault():
    sim = machine()
    for p in range(16):
        sim.access("R", 0, p)
    sim.access("M", 0, 3, write=True)
    assert [p for p in range(16) if mapping_of(sim, "M", 0, p)] == [3]


def test_fault_around_stops_at_i_size_and_leaves_pg_readahead_to_filemap_fault__next_uptodate_folio():
    sim = machine(ra=32)
    sim.access("R", 0, 0)                                     # opens a readahead window
    sim.access("R", 0, 1)
    marked = [p for p in cached(sim, 0, range(64))
              if "PG_readahead" in sim.folio(sim.page_state("R", 0, p)["pfn"])["flags"]]
    # one folio holds the marker (7.3: 4-7, order 2); every page of it reports its flag
    assert len({sim.folio(sim.page_state("R", 0, p)["pfn"])["head"] for p in marked}) == 1
    r = marked[0]
    sim.access("M", 0, r - 1)
    window = range((r - 1) & ~15, ((r - 1) & ~15) + 16)
    assert all(mapping_of(sim, "M", 0, p) is None for p in marked)    # skipped, PTEs none
    assert all(mapping_of(sim, "M", 0, p) for p in cached(sim, 0, window) if p not in marked)

    import numpy as np
    from engine import ACCESS_DTYPE
    small = machine()
    wl = np.zeros(20, dtype=ACCESS_DTYPE)
    wl["op"] = 1                                              # R: a file of 20 pages (i_size)
    wl["owner"] = 1
    wl["page"] = np.arange(20)
    small.set_workload(wl)
    small.run_to_end()
    assert small.file_ra(1)["nr_pages"] == 20
    small.access("M", 1, 17)
    assert [p for p in range(20) if mapping_of(small, "M", 1, p)] == [16, 17, 18, 19]


def _mmap_miss_after_a_fault_on_a_read_around_window(kernel, op):
    # ten misses through the mapping, 64 pages apart: each reads 32 pages around
    # itself (mmap_miss + 1, nothing cached in its fault-around window); then a
    # fault on the last window, whose 16-page block is cached
    sim = machine(kernel, ra=32)
    for j in range(10):
        sim.access(op, 0, 64 * j)
    before = sim.file_ra(0)["mmap_miss"]
    sim.access(op, 0, 64 * 9 + 1)
    return before, sim.file_ra(0)["mmap_miss"]


@pytest.mark.parametrize("kernel,after", [("6.1", 0), ("6.12", 0), ("7.3", 9)])
def test_filemap_map_pages_counts_mmap_miss_hits_as_each_release_does(kernel, after):
    """6.1 (filemap.c:3494): every cached folio of the window is a hit; 6.12
    (:3559): every one without PG_workingset; 7.3 (:3971-3992): only the folio
    that satisfied the fault, if it is not PG_workingset and the mapping is
    neither VM_SEQ_READ nor VM_EXEC."""
    assert _mmap_miss_after_a_fault_on_a_read_around_window(kernel, "M") == (10, after)


def test_7_3_executable_mappings_keep_no_mmap_miss__do_sync_mmap_readahead():
    assert _mmap_miss_after_a_fault_on_a_read_around_window("7.3", "X") == (0, 0)
    assert _mmap_miss_after_a_fault_on_a_read_around_window("6.12", "X") == (10, 0)


@pytest.mark.parametrize("kernel,first", [("6.1", 84), ("6.12", 84), ("7.3", 100)])
def test_exec_read_around_reads_forward_on_7_3_and_around_the_fault_before__do_sync_mmap_readahead(kernel, first):
    """7.3 mm/filemap.c:3416-3430 (v6.16): an executable mapping reads ra_pages
    from the fault on (exec_folio_order() is 0 on x86), none of it asynchronous;
    6.1 and 6.12 read ra_pages centred on the fault with a quarter marked."""
    sim = machine(kernel, ra=32)
    sim.access("X", 0, 100)
    got = cached(sim, 0, range(0, 200))
    assert got == list(range(first, first + 32))
    marked = [p for p in got if "PG_readahead" in sim.folio(sim.page_state("R", 0, p)["pfn"])["flags"]]
    assert marked == ([] if kernel == "7.3" else [first + 32 - 8])

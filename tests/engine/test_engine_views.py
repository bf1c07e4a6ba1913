"""Vectorised engine views (young_bits, nr_shadows) against the per-page views
(folio(), page_state()) they summarise, on seeded workloads with read-ahead on."""
import numpy as np
import pytest

from engine import POLICIES, Simulator
from engine.workloads import generate

RAM = 512
READAHEAD = 4
ANON_OP, FILE_OPS = 0, (1, 2, 3, 4)


def machine(policy):
    return Simulator({"policy": policy, "ram_pages": RAM, "swap_pages": RAM // 2,
                      "watermarks": {"min": 8, "low": 16, "high": 24},
                      "readahead_pages": READAHEAD, "events_capacity": 1 << 12})


def young_per_folio(sim):
    return np.array([any(pte["young"] for pte in sim.folio(pfn)["young"]) for pfn in range(RAM)],
                    dtype=np.uint8)


def shadows_per_page(sim, done):
    """Shadows found by asking page_state() of every page the workload (or
    readahead) could have cached: a window of ra_pages never starts more than
    ra_pages / 2 before an accessed page (mmap read-around) and never ends more
    than two windows after one (the async window pushed forward)."""
    anon = {(int(o), int(p)) for o, p in zip(done["owner"][done["op"] == ANON_OP],
                                             done["page"][done["op"] == ANON_OP])}
    fsel = np.isin(done["op"], FILE_OPS)
    named = {(int(o), int(p)) for o, p in zip(done["owner"][fsel], done["page"][fsel])}
    files = {(o, p + d) for o, p in named for d in range(-READAHEAD, 2 * READAHEAD + 1) if p + d >= 0}
    states = {k: sim.page_state("R", *k)["state"] for k in files}
    unnamed = sum(st != "none" for k, st in states.items() if k not in named)
    return ({"file": sum(st == "shadow" for st in states.values()),
             "anon": sum(sim.page_state("A", o, p)["state"] == "swap" for o, p in anon)}, unnamed)


# scenario -> which shadows it must produce, so no comparison is vacuous
SCENARIOS = {"desktop": "file", "zipf-mixed": "file", "mmap-exec": "file", "anon-loop": "anon"}
# ... and where readahead caches pages no access names (mmap read-around,
# sequential windows); zipf-mixed's random read()s read just the page
READS_AHEAD = {"desktop", "mmap-exec"}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_young_bits_and_nr_shadows_match_the_per_page_views(policy, scenario):
    w = generate(scenario, ram_pages=RAM, seed=7, accesses=6000).accesses
    sim = machine(policy)
    sim.set_workload(w)
    seen_young = seen_file = seen_anon = seen_readahead = 0
    while not sim.done:
        sim.step("access", 1500)
        sim.step("scan", 3)
        young = sim.young_bits()
        assert young.dtype == np.uint8 and young.shape == (RAM,)
        np.testing.assert_array_equal(young, young_per_folio(sim))
        sh = sim.nr_shadows()
        expect, unnamed = shadows_per_page(sim, w[:sim.position])
        assert sh == expect
        seen_readahead += unnamed
        seen_young += int(young.sum())
        seen_file += sh["file"]
        seen_anon += sh["anon"]
    # not vacuous: young PTEs, file shadows and page-cache entries that only
    # read-ahead made (the case the old server-side derivation could not count)
    assert seen_young > 0
    if SCENARIOS[scenario] == "file":
        assert seen_file > 0
    if scenario in READS_AHEAD:
        assert seen_readahead > 0
    else:
        assert seen_anon > 0
    assert sim.check_invariants() == []


def test_young_bits_clear_when_the_rmap_walk_clears_the_accessed_bit():
    sim = machine("lru")
    sim.access("A", 3, 0)
    pfn = sim.page_state("A", 3, 0)["pfn"]
    assert sim.young_bits()[pfn] == 1
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)     # folio_referenced() tests and clears it
    assert sim.page_state("A", 3, 0)["pfn"] == pfn
    assert sim.young_bits()[pfn] == 0


@pytest.mark.parametrize("swap_kind", ["zram"])
def test_the_anon_shadow_count_follows_swap_ins_and_state_images(swap_kind):
    """nr_shadows()["anon"] is a counter kept where swap slots change (not a
    walk of the swap map): a swap-in through the swap cache (ssd) turns a
    shadow slot into a folio slot, zram frees it; an image carries it."""
    w = generate("anon-loop", ram_pages=RAM, seed=7, accesses=6000).accesses
    cfg = {"policy": "lru", "ram_pages": RAM, "swap_pages": RAM // 2, "swap_kind": swap_kind,
           "watermarks": {"min": 8, "low": 16, "high": 24}, "events_capacity": 1 << 12}
    sim = Simulator(cfg)
    sim.set_workload(w)
    seen, image, at = set(), None, None
    while not sim.done:
        sim.step("access", 700)
        if swap_kind != "zram":
            sim.writeback_complete_all()   # the swap-outs land: slots hold shadows
        n = sim.nr_shadows()["anon"]
        assert n == shadows_per_page(sim, w[:sim.position])[0]["anon"]
        assert sim.check_invariants() == []
        seen.add(n)
        if image is None and n:
            image, at = sim.state_bytes(), n
    assert len(seen) > 2 and image is not None
    other = Simulator(cfg)
    other.set_workload(w)
    other.load_state(image)
    assert other.nr_shadows()["anon"] == at and other.check_invariants() == []

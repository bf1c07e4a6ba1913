"""ZONE_DMA below the rest of memory: the page allocator's zone order, the
per-zone watermarks, and MGLRU's per-zone generation lists (scan_folios()
takes the highest zone's list first) against the classic LRU's one list per
node. docs/kernels.md "Zones"."""
import pytest

from engine import ConfigError, Simulator
from tests.conftest import read_stream

OP_READ = 1
RAM, DMA = 2048, 512


def machine(policy, **extra):
    cfg = {"policy": policy, "ram_pages": RAM, "zone_dma_pages": DMA, "swap_pages": 0,
           "swap_kind": "none", "readahead_pages": 32}
    cfg.update(extra)
    return Simulator(cfg)


def resident_pages_in_zone_dma(sim, pages):
    # the file page held by each ZONE_DMA frame, -1 for a free one
    return sorted(p for p in range(pages)
                  if (st := sim.page_state(OP_READ, 0, p)) and st.get("pfn") is not None
                  and 0 <= st["pfn"] < DMA)


def test_zone_dma_is_x86_64s_first_16_mib_on_machines_of_64_mib_and_more():
    assert Simulator({"ram_pages": 16384}).config["zone_dma_pages"] == 3840
    assert Simulator({"ram_pages": 4096}).config["zone_dma_pages"] == 0
    with pytest.raises(ConfigError, match="^zone_dma_pages: must be <= 1024"):
        Simulator({"ram_pages": 2048, "zone_dma_pages": 1025})


def test_get_page_from_freelist_takes_zone_dma_only_below_zone_normals_low_watermark():
    sim = machine("lru", readahead_pages=0)
    wm = sim.watermarks
    low_normal = wm["low"] - wm["low"] * DMA // RAM
    normal = RAM - DMA
    sim.set_workload(read_stream(normal - low_normal))
    sim.run_to_end()
    # ZONE_NORMAL's frames so far, lowest pfn first; ZONE_DMA untouched
    assert sim.nr_free == RAM - (normal - low_normal)
    pfns = [sim.page_state(OP_READ, 0, p)["pfn"] for p in range(normal - low_normal)]
    assert min(pfns) == DMA and all(p >= DMA for p in pfns)
    # at the low watermark the zonelist falls back to ZONE_DMA
    sim.access("R", 0, normal)
    assert sim.page_state(OP_READ, 0, normal)["pfn"] < DMA


def test_scan_folios_evicts_the_highest_zone_first_so_zone_dma_folios_stay__lru_gen():
    # a use-once read() stream 4x the size of memory, read ahead into the oldest
    # generation (7.3: lru_gen_folio_seq() gives an unreferenced folio max_seq - 3):
    # that generation is a list per zone and scan_folios() fills its batch from
    # ZONE_NORMAL's, so the folios that went to ZONE_DMA while ZONE_NORMAL was
    # low, during the first pass, are never reached
    sim = machine("lru_gen")
    sim.set_workload(read_stream(4 * RAM))
    sim.run_to_end()
    assert sim.check_invariants() == []
    in_dma = resident_pages_in_zone_dma(sim, 4 * RAM)
    assert len(in_dma) > DMA * 3 // 4
    assert max(in_dma) < RAM


def test_isolate_lru_folios_takes_one_list_per_node_so_zone_dma_is_recycled__classic():
    # the classic LRU has one list per node: ZONE_DMA's folios age with the rest
    sim = machine("lru")
    sim.set_workload(read_stream(4 * RAM))
    sim.run_to_end()
    assert sim.check_invariants() == []
    in_dma = resident_pages_in_zone_dma(sim, 4 * RAM)
    assert in_dma and min(in_dma) >= 3 * RAM


def kswapd_passes(policy, dma):
    # a use-once read() stream on 64 Ki frames; (reclaimed, nr_to_reclaim) of
    # each kswapd_shrink_node() pass. 200 ZONE_DMA frames are below their own
    # lowmem_reserve against ZONE_NORMAL allocations, (65536 - 200) / 256 = 255,
    # as x86_64's 3,840 are from about 3.8 GiB of RAM up
    ram = 1 << 16
    sim = Simulator({"policy": policy, "ram_pages": ram, "zone_dma_pages": dma, "swap_pages": 0,
                     "swap_kind": "none", "readahead_pages": 0,
                     "watermarks": {"min": 256, "low": 512, "high": 768}})
    sim.set_workload(read_stream(2 * ram))
    passes, last = [], 0
    while not sim.done:
        sim.run(64)
        k = sim.kswapd
        if k["nr_passes"] != last:
            last = k["nr_passes"]
            passes.append((k["last_pass"]["nr_reclaimed"], k["last_pass"]["nr_to_reclaim"]))
    assert len(passes) > 20
    return passes


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_kswapd_shrink_node_reclaims_each_zones_high_mark_or_32__kswapd_shrink_node(policy):
    # sc->nr_to_reclaim = sum over the managed zones of max(high_wmark_pages(zone),
    # SWAP_CLUSTER_MAX) (6.1 vmscan.c:6953-6960, 6.12 :6790-6797, 7.3 :7096-7099):
    # ZONE_NORMAL's 766 + max(ZONE_DMA's 2, 32); one zone: the node's 768
    assert {t for _, t in kswapd_passes(policy, 200)} == {766 + 32}
    assert {t for _, t in kswapd_passes(policy, 0)} == {768}


def test_should_abort_scan_waits_for_zone_dma_above_high_plus_lowmem_reserve__lru_gen():
    # should_abort_scan() lets kswapd stop early only when every zone up to
    # reclaim_idx passes zone_watermark_ok(zone, 0, high + MIN_LRU_BATCH,
    # reclaim_idx), which adds the zone's lowmem_reserve[reclaim_idx] (6.12
    # vmscan.c:4766-4776, 7.3 :5032-5041; page_alloc.c __zone_watermark_ok()).
    # A ZONE_DMA smaller than its reserve never passes: each pass reclaims the
    # whole nr_to_reclaim (but for a pass that ends after an aging, 7.3
    # try_to_shrink_lruvec()), where one zone stops at free > high + 64
    with_dma = kswapd_passes("lru_gen", 200)
    assert sum(r >= t for r, t in with_dma) >= len(with_dma) * 9 // 10
    assert all(r < t for r, t in kswapd_passes("lru_gen", 0))


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_state_image_keeps_both_zones_free_lists(policy):
    a = machine(policy)
    a.set_workload(read_stream(3 * RAM))
    a.run(RAM + 100)
    b = machine(policy)
    b.set_workload(read_stream(3 * RAM))
    b.load_state(a.state_bytes())
    assert b.state_hash() == a.state_hash() and b.check_invariants() == []
    a.run_to_end()
    b.run_to_end()
    assert b.state_hash() == a.state_hash()
    with pytest.raises(ValueError, match="different configuration"):
        machine(policy, zone_dma_pages=256).load_state(a.state_bytes())


def test_folio_names_its_zone():
    sim = machine("lru_gen")
    assert sim.folio(0)["zone"] == "DMA" and sim.folio(DMA - 1)["zone"] == "DMA"
    assert sim.folio(DMA)["zone"] == "Normal"
    assert Simulator({"ram_pages": 1024}).folio(0)["zone"] == "Normal"


def test_simulate_zone_dma_mb_sets_or_removes_zone_dma():
    import json
    import subprocess
    import sys
    base = [sys.executable, "-m", "backend", "simulate", "--scenario", "hot-reread-stream", "--ram-mb", "64",
            "--accesses", "20000", "--policy", "lru_gen", "--json"]
    run = lambda *extra: json.loads(subprocess.run(base + list(extra), capture_output=True, text=True,
                                                   check=True).stdout)
    assert run()["config"]["zone_dma_pages"] == 3840
    assert run("--zone-dma-mb", "0")["config"]["zone_dma_pages"] == 0
    bad = subprocess.run(base[:6] + ["--ram-mb", "16", "--zone-dma-mb", "9"], capture_output=True, text=True)
    assert bad.returncode == 2 and "zone_dma_pages: must be <= 2048" in bad.stderr


def test_simulate_zone_normal_holes_gives_a_guest_the_holes_a_boot_kept():
    """--zone-normal-holes sets the free pages in other migratetypes' pageblocks
    of the zone above ZONE_DMA: the 7.3 boot of table-switch that kept 398
    (validation/kswapd-boosts.csv) was woken by boosts and stole 88k pages;
    given its holes, the guest steals half as much again as on the profile's
    264. A count the zone cannot hold is refused by name."""
    import json
    import subprocess
    import sys
    from validation import kswapd_boosts as K
    from validation import validate as V
    base = [sys.executable, "-m", "backend", "simulate", "--trace", str(V.trace_path("table-switch")),
            "--kernel", "7.3", "--policy", "lru", "--ram-mb", "64", "--swap-kind", "ssd", "--swap-mb", "1024",
            "--json"]
    run = lambda *extra: json.loads(subprocess.run(base + list(extra), capture_output=True, text=True,
                                                   check=True).stdout)
    median, kept = run(), run("--zone-normal-holes", "398")
    assert median["config"]["zone_normal_holes"] == 264 and kept["config"]["zone_normal_holes"] == 398
    boot = next(r for r in K.load() if r["run"] == "table-switch.7.3.4+deb13-amd64.classic.ks")
    assert int(boot["holes_median"]) == 398
    steal = lambda r: r["vmstat"]["pgsteal_kswapd"] + r["vmstat"]["pgsteal_direct"]
    assert steal(kept) > 1.4 * steal(median)
    assert 0.8 < steal(kept) / (int(boot["pgsteal_kswapd"]) + int(boot["pgsteal_direct"])) < 1.2
    # half the zone above ZONE_DMA (7,909 pages, the per-CPU lists' among them) less
    # the 1,746 claimable ones of the profile
    for holes in ("99999", "6164"):
        bad = subprocess.run(base + ["--zone-normal-holes", holes], capture_output=True, text=True)
        assert bad.returncode == 2 and f"zone_normal_holes: must be <= 6163, got {holes}" in bad.stderr

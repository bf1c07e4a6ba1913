"""Compaction's migrations (docs/kernels.md "Large folios"): 7.3's large folios'
high-order allocations compact memory, and each LRU folio compaction migrates is
added to the LRU again with its flags (folio_migrate_flags(), folio_add_lru()).
The engine migrates one folio per `compaction_migrate_every` pages read into
large folios, passing over the folios compaction would not take and those it
already migrated (their kernel copies sit above its migrate scanner)."""
import numpy as np
import pytest

from engine import ConfigError, Simulator
from engine.names import EVENT_KINDS, REASON_NAMES
from tests.conftest import read_stream

LRU_ADD = EVENT_KINDS.index("mm_lru_insertion")
MIGRATED = REASON_NAMES.index("MIGRATED")


def run(policy, every, pages=3000, **extra):
    cfg = {"policy": policy, "kernel": "7.3", "ram_pages": 4096, "swap_kind": "none", "swap_pages": 0,
           "readahead_pages": 32, "compaction_migrate_every": every, "events_capacity": 1 << 18}
    cfg.update(extra)
    sim = Simulator(cfg)
    sim.set_workload(read_stream(pages, files=3))
    evs = []
    while not sim.done:
        seq = sim.event_seq
        sim.step("access", 200)
        evs.append(sim.events_since(seq))
    assert sim.check_invariants() == []
    ev = np.concatenate(evs)
    return sim, ev[(ev["kind"] == LRU_ADD) & (ev["reason"] == MIGRATED)]


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_one_folio_migrated_per_n_large_folio_pages_and_added_back__migrate_pages(policy):
    sim, mig = run(policy, 64)
    # read() of three 3,000-page files: ~8.8k pages read into large folios ask
    # for ~140 migrations; fewer are made, each folio once per frame
    # (test_a_migrated_folio_is_not_migrated_again_until_freed below)
    assert 50 <= len(mig) <= 9000 // 64
    # pgmigrate_success counts pages; below the allocation's order, so mostly
    # small folios (skip_isolation_on_order())
    assert sim.vmstat()["pgmigrate_success"] >= len(mig)
    assert sim.vmstat()["pgmigrate_success"] < 32 * len(mig)
    # back on the same kind of list it was taken from: the classic LRU keeps its
    # list (PG_active kept), MGLRU places it by lru_gen_folio_seq() (a later or the
    # same generation, never an older one)
    if policy == "lru":
        assert (mig["src"] == mig["dst"]).all()
    else:
        assert (mig["dst_seq"] >= mig["src_seq"]).all()


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_a_migrated_folio_is_not_migrated_again_until_freed__compact_scanners_met(policy):
    # Nothing is reclaimed on 16,384 frames, so no frame is freed: the migrate
    # scanner, wrapping round the frames many times at one folio per 8 pages,
    # takes each folio it can once; the kernel's copy sits above it, on a page
    # the free scanner found (compaction.c:1467-1471)
    sim, mig = run(policy, 8, ram_pages=16384)
    assert sim.vmstat()["pgsteal_kswapd"] + sim.vmstat()["pgsteal_direct"] == 0
    pfns = mig["pfn"].tolist()
    assert len(pfns) > 20
    assert len(set(pfns)) == len(pfns)
    # ~8.8k pages read into large folios: the rate alone would have asked for ~1,100
    assert len(pfns) < 9000 // 8
    for pfn in pfns:
        assert "FOLIO_MIGRATED" in sim.folio(pfn)["flags"]


def test_a_freed_frame_can_be_migrated_again__free_frame():
    # under pressure frames are freed and reused: a reused frame's new folio is
    # not the one compaction moved, and may be migrated in its turn
    sim, mig = run("lru", 8)
    pfns = mig["pfn"].tolist()
    assert len(set(pfns)) < len(pfns)
    free = [p for p in range(4096) if sim.folio(p)["free"]]
    assert free and all(sim.folio(p)["raw_flags"] == 0 for p in free[:100])


def test_an_attempt_that_finds_nothing_defers_the_next_ones__defer_compaction():
    # 16,384 frames and no reclaim: once every small folio has been migrated,
    # attempts find nothing, and each failure doubles the attempts skipped, up
    # to 1 << COMPACT_MAX_DEFER_SHIFT (compaction.c:127-158); a migration resets
    # it (compaction_defer_reset())
    cfg = {"policy": "lru_gen", "kernel": "7.3", "ram_pages": 16384, "swap_kind": "none", "swap_pages": 0,
           "readahead_pages": 32, "compaction_migrate_every": 2}
    sim = Simulator(cfg)
    sim.set_workload(read_stream(3000, files=3))
    prev, resets = sim.compaction, 0
    while not sim.done:
        migrated = sim.vmstat()["pgmigrate_success"]
        sim.step("access", 1)
        c = sim.compaction
        assert 0 <= c["defer_shift"] <= 6 and c["considered"] <= 1 << c["defer_shift"]
        if c["defer_shift"] < prev["defer_shift"]:
            assert sim.vmstat()["pgmigrate_success"] > migrated
            resets += 1
        prev = c
    assert prev["defer_shift"] == 6 and resets > 0


def test_an_attempt_looks_at_16_pageblocks_from_where_the_last_stopped__isolate_migratepages():
    # the workload's folios start above a 12,288-page ZONE_DMA: the first attempt
    # finds nothing in its 8,192 frames and defers; the next one it makes goes on
    # from there and finds one
    cfg = {"policy": "lru", "kernel": "7.3", "ram_pages": 65536, "zone_dma_pages": 12288, "swap_kind": "none",
           "swap_pages": 0, "readahead_pages": 32, "compaction_migrate_every": 64}
    sim = Simulator(cfg)
    sim.set_workload(read_stream(1000))
    while sim.compaction["defer_shift"] == 0 and not sim.done:
        sim.step("access", 1)
    assert sim.compaction["migrate_pfn"] == 16 * 512 and sim.compaction["defer_shift"] == 1
    assert sim.vmstat()["pgmigrate_success"] == 0
    while not sim.vmstat()["pgmigrate_success"] and not sim.done:
        sim.step("access", 1)
    assert sim.compaction["defer_shift"] == 0 and 12288 < sim.compaction["migrate_pfn"] <= 2 * 16 * 512


def test_no_migration_without_a_rate_or_without_large_folios__migrate_pages():
    for extra in ({"every": 0}, {"every": 1, "large_folios": 0}):
        every = extra.pop("every")
        sim, mig = run("lru_gen", every, **extra)
        assert len(mig) == 0 and sim.vmstat()["pgmigrate_success"] == 0


def test_compaction_passes_over_folios_of_the_allocations_order_or_larger__skip_isolation_on_order():
    sim, mig = run("lru_gen", 8)
    assert len(mig) > 0
    # the largest folios read ahead are order 5 (32 pages): never taken
    for pfn in mig["pfn"][:200]:
        f = sim.folio(int(pfn))
        assert f is None or f.get("order", 0) < 5


def test_compaction_migrate_every_is_checked():
    with pytest.raises(ConfigError, match="^compaction_migrate_every: must be >= 0"):
        Simulator({"compaction_migrate_every": -1})
    assert Simulator({}).config["compaction_migrate_every"] == 0


def test_only_the_7_3_guest_migrates__guest_machine():
    from engine.kernels import GUEST_COMPACTION_MIGRATE_EVERY, guest_machine
    assert GUEST_COMPACTION_MIGRATE_EVERY["6.1"] == GUEST_COMPACTION_MIGRATE_EVERY["6.12"] == 0
    for key, every in GUEST_COMPACTION_MIGRATE_EVERY.items():
        assert guest_machine(key, 64 * 256)["compaction_migrate_every"] == every
    assert GUEST_COMPACTION_MIGRATE_EVERY["7.3"] > 0

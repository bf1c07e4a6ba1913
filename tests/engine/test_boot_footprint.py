"""The machine a workload meets has booted: the system's own swappable pages
(config `system_pages`, the guest's tmpfs and init) are resident as idle anon
of an address space of their own, and `simulate --ram-mb N` builds the guest
of the kernel profile on which N MiB are available (docs/kernels.md "Boot
footprint", engine/kernels.py guest_machine())."""
import json
import subprocess
import sys

import numpy as np
import pytest

from engine import ACCESS_DTYPE, Simulator
from engine.config import ConfigError
from engine.kernels import (ENGINE_PACE_OF_GUEST, FLUSH_FIRST_SHARE, FLUSH_TIME_MS, GUEST_COMPACTION_MIGRATE_EVERY,
                            GUEST_MLOCKED_PAGES, GUEST_PCP_PAGES, KERNELS, guest_machine)
from engine.names import EVENT_KINDS, REASON_NAMES

MM_SYSTEM = 2               # engine/core.pxd: anon owner o is mm o + 3


def anon_writes(pages, owner=0):
    w = np.zeros(pages, dtype=ACCESS_DTYPE)
    w["owner"] = owner
    w["page"] = np.arange(pages)
    w["write"] = 1
    return w


def system_resident(sim):
    return sum(1 for pfn in range(sim.config["ram_pages"])
               if not (f := sim.folio(pfn))["free"] and f["type"] == "anon" and f["mm"] == MM_SYSTEM)


def test_system_pages_are_resident_written_anon_before_the_workload__do_anonymous_page():
    sim = Simulator({"ram_pages": 4096, "system_pages": 500, "swap_kind": "ssd", "swap_pages": 4096})
    mi = sim.meminfo()
    assert mi["AnonPages"] == 500 * 4 and mi["MemFree"] == (4096 - 500) * 4
    assert sim.vmstat()["pgfault"] == 500 and sim.position == 0
    assert sim.page_state("A", 0, 0).get("pfn") is None     # owner 0 is the workload's, not the system's
    assert system_resident(sim) == 500
    one = next(sim.folio(p) for p in range(4096) if sim.folio(p).get("mm") == MM_SYSTEM)
    assert one["type"] == "anon" and one["mapping"] == -1   # the system's, not a workload owner's
    assert Simulator({"ram_pages": 4096}).meminfo()["AnonPages"] == 0


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_idle_system_pages_are_swapped_out_under_pressure__shrink_folio_list(policy):
    """Written once and never touched again, the system's pages age like the
    guest's tmpfs: reclaim swaps them out before the workload's hot anon."""
    sim = Simulator({"policy": policy, "ram_pages": 4096, "system_pages": 1000,
                     "swap_kind": "ssd", "swap_pages": 8192})
    hot = anon_writes(3400)                                 # fits only once the system's are out
    sim.set_workload(np.concatenate([hot] * 6))
    sim.run_to_end()
    # the room for the hot set came from the system's pages: none of the
    # workload's went out and came back
    assert sim.vmstat()["pswpin"] == 0 and sim.vmstat()["pgmajfault"] == 0
    assert system_resident(sim) + 3400 <= 4096


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_out_of_memory_never_picks_the_system_address_space__oom_unkillable_task(policy):
    # no swap: the system's pages cannot go anywhere and the workload runs out
    sim = Simulator({"policy": policy, "ram_pages": 1024, "system_pages": 400,
                     "swap_kind": "none", "swap_pages": 0})
    sim.set_workload(anon_writes(900))
    sim.step("access", 900)                                  # with events
    assert sim.vmstat()["oom_kill"] >= 1
    ev = sim.events_since(0)
    kills = ev[ev["kind"] == EVENT_KINDS.index("oom_kill")]
    assert len(kills) and set(kills["mapping"].tolist()) <= {0, 0xFFFFFFFF}
    assert system_resident(sim) == 400


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_mlocked_system_pages_stay_on_the_unevictable_list_under_pressure__mlock_folio(policy):
    """The rig's replayer mlocks its trace buffer: those system pages are on
    LRU_UNEVICTABLE from the start (mlock_folio() -> __mlock_folio()), counted in
    AnonPages and Mlocked, and reclaim swaps out only the others."""
    sim = Simulator({"policy": policy, "ram_pages": 4096, "system_pages": 1000, "system_mlocked_pages": 200,
                     "swap_kind": "ssd", "swap_pages": 8192})
    v, mi = sim.vmstat(), sim.meminfo()
    assert v["nr_unevictable"] == 200 and v["nr_inactive_anon"] + v["nr_active_anon"] == 800
    assert mi["Mlocked"] == mi["Unevictable"] == 200 * 4 and mi["AnonPages"] == 1000 * 4
    sim.set_workload(np.concatenate([anon_writes(3400)] * 6))
    sim.run_to_end()
    locked = [f for pfn in range(4096) if (f := sim.folio(pfn))["list"] == "LRU_UNEVICTABLE"]
    assert len(locked) == 200 and all(f["mm"] == MM_SYSTEM and "PG_mlocked" in f["flags"] for f in locked)
    # the other 800 made room: most went out
    assert system_resident(sim) - 200 < 800 // 2 and sim.vmstat()["pswpout"] > 400
    assert sim.check_invariants() == []


def test_mlocked_pages_are_not_in_a_file_refaults_workingset_size__workingset_test_recent():
    """workingset_test_recent() adds NR_ACTIVE_ANON and NR_INACTIVE_ANON (with swap)
    to a file refault's workingset size; an mlocked folio is on neither list."""
    base = {"ram_pages": 4096, "system_pages": 1000, "swap_kind": "ssd", "swap_pages": 4096}
    assert Simulator(base).workingset_size(True) == 1000
    assert Simulator(base | {"system_mlocked_pages": 256}).workingset_size(True) == 1000 - 256


def test_unmapped_tmpfs_system_pages_go_at_their_first_scan_mapped_ones_at_their_second__folio_check_references():
    """A tmpfs page no process maps has no PTE folio_referenced() can find young,
    and drop_caches' deactivate_file_folio() cleared its PG_referenced: the
    first look swaps it out (FOLIOREF_RECLAIM). A mapped one's young PTE
    keeps it once (FOLIOREF_KEEP, PG_referenced set); the second look, with
    the PTE old, reclaims it (docs/kernels.md "Boot footprint")."""
    cfg = {"ram_pages": 4096, "system_pages": 300, "system_unmapped_pages": 100,
           "swap_kind": "ssd", "swap_pages": 4096}
    sim = Simulator(cfg)
    inactive = sim.lists()["LRU_INACTIVE_ANON"]                  # head -> tail
    assert len(inactive) == 300 and sim.vmstat()["nr_active_anon"] == 0
    young = {p: sim.folio(p)["young"][0]["young"] for p in inactive}
    # the unmapped ones are newer (lru_deactivate_file_fn() adds them at the head)
    assert [young[p] for p in inactive] == [False] * 100 + [True] * 200
    assert all(sim.folio(p)["mm"] == MM_SYSTEM for p in inactive)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 300)
    assert sim.vmstat()["pswpout"] == 100
    kept = sim.lists()["LRU_INACTIVE_ANON"]
    assert all("PG_referenced" in sim.folio(p)["flags"] for p in kept if sim.folio(p)["swap_slot"] is None)
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 300)
    assert sim.vmstat()["pswpout"] == 300
    # every page mapped: the first look reclaims none of them
    all_mapped = Simulator(cfg | {"system_unmapped_pages": 0})
    all_mapped.policy.shrink_list_now("LRU_INACTIVE_ANON", 300)
    assert all_mapped.vmstat()["pswpout"] == 0
    assert sim.check_invariants() == [] and all_mapped.check_invariants() == []


def test_a_classic_guest_starts_with_mapped_system_pages_active_that_drop_caches_left__lru_deactivate_file_fn():
    """The rig's classic guests start every replay with ~440 pages of
    Active(anon): mapped tmpfs pages, which drop_caches does not deactivate
    (lru_deactivate_file_fn() returns for a mapped folio, 6.1 swap.c:578-580).
    shrink_active_list() must deactivate them before reclaim can take them,
    where the inactive ones go at the first or second look."""
    cfg = {"ram_pages": 4096, "system_pages": 300, "system_unmapped_pages": 100, "system_active_pages": 150,
           "swap_kind": "ssd", "swap_pages": 4096}
    sim = Simulator(cfg)
    lists = sim.lists()
    active = lists["LRU_ACTIVE_ANON"]
    assert len(active) == 150 and len(lists["LRU_INACTIVE_ANON"]) == 150
    assert all(sim.folio(p)["mm"] == MM_SYSTEM and sim.folio(p)["young"][0]["young"] for p in active)
    assert sim.vmstat()["pgactivate"] == 0            # the boot's, not the workload's
    for _ in range(3):
        sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 300)
        sim.writeback_complete_all()
    assert sim.vmstat()["pswpout"] == 150              # the inactive ones only
    assert all("PG_active" in sim.folio(p)["flags"] and sim.folio(p)["swap_slot"] is None for p in active)
    sim.policy.shrink_list_now("LRU_ACTIVE_ANON", 150)
    assert sim.vmstat()["pgdeactivate"] == 150
    for _ in range(2):
        sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 300)
        sim.writeback_complete_all()
    assert sim.vmstat()["pswpout"] == 300
    # MGLRU files them by generation: no active list to put them on
    gen = Simulator(cfg | {"policy": "lru_gen"})
    assert gen.vmstat()["nr_active_anon"] + gen.vmstat()["nr_inactive_anon"] == 300
    with pytest.raises(ConfigError):
        Simulator(cfg | {"system_active_pages": 201})  # more than the mapped ones
    assert sim.check_invariants() == [] and gen.check_invariants() == []


@pytest.mark.parametrize("key", list(KERNELS))
def test_the_guests_active_anon_at_boot_is_the_classic_boots_mean__guest_boot_csv(key):
    from validation.guest_boot import load
    kb = [int(r["active_anon_kb"]) for r in load() if r["kernel"] == key and r["policy"] == "classic"]
    assert len(kb) >= 20 and KERNELS[key]["boot"]["active_anon_pages"] == round(sum(kb) / len(kb) / 4)
    sim = Simulator({**guest_machine(key, 16384), "kernel": key, "swap_kind": "ssd", "swap_pages": 16384})
    assert sim.vmstat()["nr_active_anon"] == KERNELS[key]["boot"]["active_anon_pages"]


def test_unmapped_system_pages_are_at_most_the_unlocked_ones():
    with pytest.raises(ConfigError):
        Simulator({"ram_pages": 4096, "system_pages": 300, "system_mlocked_pages": 100,
                   "system_unmapped_pages": 201})
    assert Simulator({"ram_pages": 4096, "system_pages": 300, "system_mlocked_pages": 100,
                      "system_unmapped_pages": 200}).config["system_unmapped_pages"] == 200


def test_state_image_keeps_the_system_pages():
    a = Simulator({"ram_pages": 2048, "system_pages": 300, "swap_kind": "ssd", "swap_pages": 2048})
    a.set_workload(anon_writes(3000))
    a.run(2000)
    b = Simulator(a.config)
    b.set_workload(anon_writes(3000))
    b.load_state(a.state_bytes())
    assert b.state_hash() == a.state_hash() and b.check_invariants() == []
    assert system_resident(b) == system_resident(a) > 0


@pytest.mark.parametrize("key", list(KERNELS))
def test_guest_machine_adds_the_profiles_boot_footprint_to_what_is_available(key):
    boot = KERNELS[key]["boot"]
    m = guest_machine(key, 16384)
    pcp = GUEST_PCP_PAGES[key].get(64, 0)
    assert m == {"ram_pages": 16384 + boot["free_over_available_pages"] + boot["system_pages"] + pcp,
                 "pcp_pages": pcp, "zone_dma_pages": 3840, "system_pages": boot["system_pages"], "system_mlocked_pages": GUEST_MLOCKED_PAGES,
                 "system_unmapped_pages": boot["unmapped_pages"],
                 "system_active_pages": boot["active_anon_pages"],
                 "zone_dma_holes": KERNELS[key]["pageblocks"]["dma_holes"],
                 "zone_normal_holes": KERNELS[key]["pageblocks"]["normal_holes"],
                 "zone_normal_claimable": KERNELS[key]["pageblocks"]["normal_claimable"],
                 "zone_hole_chunk": KERNELS[key]["pageblocks"]["fallback_pages"],
                 "compaction_migrate_every": GUEST_COMPACTION_MIGRATE_EVERY[key],
                 "flush_time_ms": round(FLUSH_TIME_MS * ENGINE_PACE_OF_GUEST[key]),
                 "flush_first_ms": round(round(FLUSH_TIME_MS * ENGINE_PACE_OF_GUEST[key]) * FLUSH_FIRST_SHARE)}
    # what is left for the workload at boot is MemAvailable less the reserve that
    # si_mem_available() takes out (6.1: plus the slab it counts and we do not model);
    # the per-CPU lists' pages come on top once reclaim runs
    assert m["ram_pages"] - m["system_pages"] - m["pcp_pages"] - 16384 == boot["free_over_available_pages"]
    # a teaching-sized machine is bare: 7.5 MiB of system pages would be most of it
    assert guest_machine(key, 8191) == {"ram_pages": 8191, "system_pages": 0}
    # a guest has x86_64's ZONE_DMA at any size, where a bare machine has one zone
    # below 64 MiB of frames (docs/validation.md "Held out below 64 MiB")
    assert guest_machine(key, 8192)["zone_dma_pages"] == m["zone_dma_pages"] == 3840


def _simulate(*args):
    out = subprocess.run([sys.executable, "-m", "backend", "simulate", "--scenario", "hot-reread-stream",
                          "--accesses", "20000", "--policy", "lru_gen", "--json", *args],
                         capture_output=True, text=True)
    return out


def test_simulate_ram_mb_is_memory_available_on_a_booted_guest_and_bare_is_exact():
    guest = json.loads(_simulate("--ram-mb", "64", "--kernel", "6.1").stdout)
    assert {k: guest["config"][k] for k in ("ram_pages", "zone_dma_pages", "system_pages", "system_mlocked_pages",
                                             "system_unmapped_pages", "system_active_pages", "zone_dma_holes",
                                             "zone_normal_holes", "zone_normal_claimable", "zone_hole_chunk",
                                             "compaction_migrate_every", "flush_time_ms", "flush_first_ms", "pcp_pages")} == \
        guest_machine("6.1", 64 * 256)
    assert guest["config"]["swap_pages"] == 32 * 256               # half of --ram-mb
    bare = json.loads(_simulate("--ram-mb", "64", "--bare").stdout)
    assert bare["config"]["ram_pages"] == 64 * 256 and bare["config"]["system_pages"] == 0
    assert bare["config"]["zone_dma_holes"] == bare["config"]["zone_normal_holes"] == 0
    # the scenario is sized by the memory available to it, so the workload is the same
    assert guest["workload"]["accesses"] == bare["workload"]["accesses"]
    assert guest["vmstat"]["pgfault"] - bare["vmstat"]["pgfault"] >= guest["config"]["system_pages"] - 64
    err = _simulate("--bare")
    assert err.returncode == 2 and "--bare goes with --ram-mb" in err.stderr


def test_simulate_ram_mb_below_64_is_still_a_booted_guest_with_its_zone_dma_down_to_32():
    """The rig's guests sized for 48 and 32 MiB available are booted kernels with
    the same footprint and ZONE_DMA (docs/validation.md "Held out below 64 MiB"):
    --ram-mb 48 is that guest, where a bare 48 MiB machine has one zone and no
    system pages; below 32 MiB the machine is bare."""
    guest = json.loads(_simulate("--ram-mb", "48", "--kernel", "6.12").stdout)["config"]
    assert guest["zone_dma_pages"] == 3840 and guest["system_pages"] == KERNELS["6.12"]["boot"]["system_pages"]
    assert guest["ram_pages"] == guest_machine("6.12", 48 * 256)["ram_pages"] > 48 * 256
    bare = json.loads(_simulate("--ram-mb", "48", "--kernel", "6.12", "--bare").stdout)["config"]
    assert (bare["ram_pages"], bare["zone_dma_pages"], bare["system_pages"]) == (48 * 256, 0, 0)
    small = json.loads(_simulate("--ram-mb", "31").stdout)["config"]
    assert (small["ram_pages"], small["zone_dma_pages"], small["system_pages"]) == (31 * 256, 0, 0)


NOFS_KEEP = REASON_NAMES.index("NOFS_KEEP")


@pytest.mark.parametrize("policy,kernel", [("lru", "6.1"), ("lru", "6.12"), ("lru", "7.3"), ("lru_gen", "7.3")])
def test_reclaim_without_gfp_fs_keeps_a_dirty_tmpfs_folio__may_enter_fs(policy, kernel):
    """A page-cache miss allocates in readahead under memalloc_nofs_save() (6.1
    readahead.c:224, :525; 7.3 :241, :516), so the direct reclaim it enters has
    no __GFP_FS, and may_enter_fs() will not let shrink_folio_list() write a
    dirty tmpfs folio that is not in the swap cache yet (6.1 vmscan.c:1621-1626,
    7.3 :1385-1386): the unmapped tmpfs pages are kept. With __GFP_FS the same
    pass writes them to swap."""
    cfg = {"policy": policy, "kernel": kernel, "ram_pages": 4096, "system_pages": 300,
           "system_unmapped_pages": 100, "swap_kind": "ssd", "swap_pages": 4096}

    def direct_pass(gfp_nofs):
        sim = Simulator(cfg)
        if policy == "lru_gen":
            # two agings, so that anon has a generation eviction may take
            max_seq = sim.lists()["max_seq"]
            sim.debugfs_write(f"+ 0 0 {max_seq} 1 1")
            sim.debugfs_write(f"+ 0 0 {max_seq + 1} 1 1")
        sim.reclaim(300, reclaimer="direct", priority=0, gfp_nofs=gfp_nofs)
        return sim

    nofs, fs = direct_pass(True), direct_pass(False)
    ev = nofs.events_since(0)
    kept = ev[ev["reason"] == NOFS_KEEP]
    assert len(kept) == 100 and nofs.vmstat()["pswpout"] == 0
    for pfn in kept["pfn"].tolist():
        f = nofs.folio(int(pfn))
        assert f["mm"] == MM_SYSTEM and f["swap_slot"] is None and "PG_lru" in f["flags"]
    assert fs.vmstat()["pswpout"] == 100 and not (fs.events_since(0)["reason"] == NOFS_KEEP).any()
    assert nofs.check_invariants() == [] and fs.check_invariants() == []


def test_only_direct_reclaim_for_a_page_cache_miss_runs_without_gfp_fs__page_cache_ra_unbounded():
    """On the rig's 6.12 zipf-mixed replay (classic), every tmpfs folio kept
    for want of __GFP_FS was kept inside a direct reclaim (between its begin
    and end events) that a read(), mmap or exec access's miss entered, and
    kswapd (GFP_KERNEL) wrote the others to swap."""
    from validation import validate as V
    row = next(r for r in V.load_real(sorted(str(p) for p in (V.HERE / "real").glob("*.csv")))
               if r["trace"] == "zipf-mixed" and V.profile(r["kernel"]) == "6.12" and r["policy"] == "classic"
               and V.is_default(r))
    from engine.trace import read_trace
    from engine.workloads import OP_EXEC, OP_MMAP, OP_READ
    workload = read_trace(str(V.trace_path("zipf-mixed"))).accesses
    sim = Simulator(V.sim_config(row, "lru") | {"events_capacity": 1 << 20})
    sim.set_workload(workload)
    begin = EVENT_KINDS.index("mm_vmscan_direct_reclaim_begin")
    end = EVENT_KINDS.index("mm_vmscan_direct_reclaim_end")
    kept_by = []                 # the op of the access whose direct reclaim kept the folio (None: outside)
    entered_by = None
    while not sim.done:
        seq = sim.event_seq
        sim.step("access", 4096)
        for e in sim.events_since(seq):
            if e["kind"] == begin:
                entered_by = int(workload["op"][e["nr_access"]])     # the access that stalled
            elif e["kind"] == end:
                entered_by = None
            elif e["reason"] == NOFS_KEEP:
                kept_by.append(entered_by)
    assert len(kept_by) > 100 and set(kept_by) <= {OP_READ, OP_MMAP, OP_EXEC}
    assert sim.vmstat()["pswpout"] > 0

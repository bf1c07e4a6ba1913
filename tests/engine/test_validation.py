"""Known answers from real kernels (validation/): a few replays the simulator
matches within 20 % today, so that a change which loses that agreement fails
here and not only in `make validate`. The whole set is docs/validation.md."""

import pytest

from engine.kernels import ENGINE_PACE_OF_GUEST, FLUSH_FIRST_SHARE, GUEST_MLOCKED_PAGES, GUEST_PCP_PAGES, KERNELS
from validation import validate as V

# (trace, kernel release prefix, policy): counters judged within 20 % of every repeat
KNOWN = [
    ("stream-hot-file", "6.1.", "classic", ("pgscan", "pgsteal", "file_in")),
    ("stream-hot-file", "6.1.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # (anon-loop's 6.1 classic left with engine 0.10.0: its runs for ZONE_DMA alone
    # skip 77k folios where the boots skipped 10k and 25k, and keep the loop resident)
    ("zipf-anon", "6.1.", "mglru", ("pgscan", "pgsteal", "pswpin")),
    # (7.3's MGLRU anon-loop left this list with engine 0.7.2: its two boots differ
    # by 46 %, and on the machine with the replayer's 256 mlocked pages the
    # simulator is 1.01-1.03x the r2 boot and 1.51-1.53x r1, 1.22x their mean)
    # (stream-hot-file's and file-search's 6.12 classic left with engine 0.10.0: a
    # run for ZONE_DMA alone at the first fill rotates the oldest folios back to the
    # head, and the simulated guest rereads 0.72-0.79x what the boots did)
    # kswapd's runs for a boosted ZONE_DMA sort the loop's ZONE_DMA32 folios out
    # of the oldest generation (sort_folio()); without them 1.3-1.9x (engine 0.7.3)
    ("anon-loop", "6.12.", "mglru", ("pgscan", "pgsteal", "pswpin")),
    ("mmap-exec", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # kept by ZONE_DMA and scan_folios()'s zone order: MGLRU's loss on a reread hot set
    ("hot-reread-stream", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("hot-reread-stream", "6.1.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("file-loop", "6.1.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # 7.3's large folios: a hot file read at random keeps its folios referenced
    ("stream-hot-file", "7.3.", "classic", ("pgscan", "pgsteal", "file_in")),
    ("shf-hot0.6", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # compaction's migrations re-add referenced folios to min_seq + 1, once each
    # (engine 0.9.0; 1.28-1.35x before: the migrate scanner took the same folios again)
    ("file-loop", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # held out (the replays of 2026-12-05, simulated before any change was measured on them)
    ("stream-hot-anon", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("file-search", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("zipf-mixed", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # held out (the replays of 2026-12-06, simulated before their boots)
    ("shf-hot0.3", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("shf-hot0.3", "6.12.", "classic", ("pgscan", "pgsteal", "file_in")),
    ("zipf-mixed-a0.5", "6.1.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # held out, on guests sized for 128 MiB (simulated before their boots)
    ("stream-hot-file-128m", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # the zones' holes (engine 0.10.0): runs for ZONE_DMA alone where the page
    # allocator falls back, not at a fitted rate; their skips count in pgscan
    ("zipf-anon", "7.3.", "classic", ("pgscan", "pgsteal", "pswpin")),
    # (mmap-exec's 7.3 classic `pgscan` left with engine 0.12.0: the per-CPU lists'
    # pages, back at kswapd's first run, keep ZONE_DMA32 above its low mark longer
    # and its runs for ZONE_DMA alone skip more, 1.37x the boots' mean)
    ("mmap-exec", "7.3.", "classic", ("pgsteal", "file_in")),
    ("shifting-hotspot", "7.3.", "classic", ("pgscan", "pgsteal", "file_in")),
    ("zipf-anon-128m", "6.12.", "classic", ("pgscan", "pgsteal", "pswpin")),
    ("table-switch-128m", "6.12.", "classic", ("pgscan", "pgsteal", "file_in")),
    # the per-CPU lists' pages, which the guests' free pages and LRU lists gain once
    # kswapd runs (engine 0.12.0; before, 1.31-1.45x, 1.29-1.59x and up to 1.27x)
    ("anon-loop", "6.12.", "classic", ("pgscan", "pgsteal", "pswpin")),
    ("table-switch-128m", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("table-switch-0.7", "6.12.", "mglru", ("pgscan", "pgsteal", "file_in")),
]

# held out on guests sized for 256, 192, 128, 96, 80, 48 and 32 MiB, at the hidden checks' flags
# (docs/validation.md "Held out at 96 MiB", "Held out below 64 MiB", "Held out at
# 256 MiB"): one boot each, on the second host (tag h2s1g), so not in KNOWN's
# default boots. The 256, 96 and 32 MiB ones were simulated before their boots;
# at 48 MiB the guest's machine was built after them, by the same rule
KNOWN_SIZES = [
    ("desktop-96m", "6.12.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("desktop-96m", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("file-search-96m", "6.12.", "classic", ("pgscan", "pgsteal", "file_in")),
    ("anon-loop-96m", "6.1.", "classic", ("pgscan", "pgsteal", "pswpin")),
    ("zipf-mixed-96m", "6.1.", "mglru", ("pgscan", "pgsteal", "pswpin", "file_in")),
    ("stream-hot-file-48m", "6.12.", "classic", ("pgscan", "pgsteal", "file_in")),
    ("anon-loop-32m", "6.1.", "classic", ("pgscan", "pgsteal", "pswpin")),
    ("desktop-32m", "7.3.", "classic", ("pgscan", "pgsteal", "file_in")),
    ("file-search-32m", "6.1.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("stream-hot-file-32m", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("zipf-mixed-256m", "7.3.", "mglru", ("pgscan", "pgsteal", "pswpin", "file_in")),
    ("table-switch-256m", "6.12.", "classic", ("pgscan", "pgsteal", "file_in")),
    # 80 MiB, predicted before their boots by engine 0.12.0 with its per-CPU
    # pages interpolated, now the boots' measured ones (docs/validation.md
    # "Held out at 80 MiB")
    ("stream-hot-file-80m", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("zipf-anon-80m", "7.3.", "mglru", ("pgscan", "pgsteal", "pswpin")),
    ("table-switch-80m", "6.12.", "mglru", ("pgscan", "pgsteal", "file_in")),
    # and 128 MiB, predicted likewise (docs/validation.md "Held out at 128 MiB, again")
    ("file-loop-128m", "6.1.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("desktop-128m", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
    ("shifting-hotspot-128m", "6.12.", "classic", ("pgscan", "pgsteal", "file_in")),
    # and 192 MiB, predicted by engines 0.12.1 and 0.12.2 (docs/validation.md "Held
    # out at 192 MiB")
    ("anon-loop-192m", "7.3.", "mglru", ("pgscan", "pgsteal", "pswpin")),
    ("zipf-anon-192m", "6.12.", "mglru", ("pgscan", "pgsteal", "pswpin")),
    ("mmap-exec-192m", "7.3.", "classic", ("pgscan", "pgsteal", "file_in")),
    ("table-switch-192m", "7.3.", "mglru", ("pgscan", "pgsteal", "file_in")),
]


@pytest.fixture(scope="module")
def real_rows():
    return V.load_real(sorted((V.HERE / "real").glob("*.csv")))


@pytest.mark.parametrize("trace,kernel,policy,judged", KNOWN)
def test_known_answer_within_20_percent_of_the_real_kernel(real_rows, trace, kernel, policy, judged):
    rows = [r for r in real_rows if r["trace"] == trace and r["kernel"].startswith(kernel)
            and r["policy"] == policy and V.is_default(r)]
    assert len(rows) >= 1
    # one machine per profile (the rule), so its answer is the mean over the boots
    sim = V.simulate((trace, V.sim_config(rows[0], V.POLICY[policy])))
    for c in judged:
        real = sum(float(r[c]) for r in rows) / len(rows)
        assert abs(sim[c] / real - 1) <= V.TOL, (c, sim[c], real)


@pytest.mark.parametrize("trace,kernel,policy,judged", KNOWN_SIZES)
def test_known_answer_at_another_size_within_20_percent_of_the_real_kernel(real_rows, trace, kernel, policy, judged):
    mb = int(trace.rsplit("-", 1)[1][:-1])
    row = next(r for r in real_rows if r["trace"] == trace and r["kernel"].startswith(kernel)
               and r["policy"] == policy and r["source"] == f"session-2026-12-07-{mb}m.csv")
    assert V.ram_mb(row) == mb and row["swap_mb"] == "1024"
    sim = V.simulate((trace, V.sim_config(row, V.POLICY[policy])))
    for c in judged:
        assert abs(sim[c] / float(row[c]) - 1) <= V.TOL, (c, sim[c], row[c])


def test_one_rule_maps_a_replay_to_a_machine__simulate_ram_mb_64():
    row = {"run": "t.6.12.117+deb13-amd64.mglru.r1", "kernel": "6.12.117+deb13-amd64", "mem_mb": "138",
           "swap": "disk", "swap_mb": "256", "swappiness": "60", "read_ahead_kb": "128", "memfree_start_kb": "67424", "shmem_start_kb": "5988",
           "anonpages_start_kb": "1220"}
    # 64 MiB available on a booted 6.12 guest: MemFree - MemAvailable and the
    # system's swappable pages (faulted in at boot) from the profile, not the row
    boot = KERNELS["6.12"]["boot"]
    assert V.sim_config(row, "lru_gen") == {
        "policy": "lru_gen", "kernel": "6.12",
        "ram_pages": 64 * 256 + boot["free_over_available_pages"] + boot["system_pages"] + GUEST_PCP_PAGES["6.12"][64],
        # the per-CPU lists' pages, which no start line counts, handed back once kswapd runs
        "pcp_pages": GUEST_PCP_PAGES["6.12"][64],
        "zone_dma_pages": 3840, "system_pages": boot["system_pages"], "system_mlocked_pages": GUEST_MLOCKED_PAGES,
        "system_unmapped_pages": boot["unmapped_pages"],
        "system_active_pages": boot["active_anon_pages"],
        # ZONE_DMA's and ZONE_DMA32's free pages in other migratetypes' pageblocks
        "zone_dma_holes": 224, "zone_normal_holes": KERNELS["6.12"]["pageblocks"]["normal_holes"],
        "zone_normal_claimable": KERNELS["6.12"]["pageblocks"]["normal_claimable"],
        "zone_hole_chunk": 1, "compaction_migrate_every": 0,
        # the memcg stats flush every 2 s of the guest's time, on the engine's clock
        "flush_time_ms": round(2000 * ENGINE_PACE_OF_GUEST["6.12"]),
        # and the workload starts where the rig's boots did in its cycle, on average
        "flush_first_ms": round(round(2000 * ENGINE_PACE_OF_GUEST["6.12"]) * FLUSH_FIRST_SHARE),
        "swap_kind": "ssd",
        "swap_pages": 256 * 256, "swappiness": 60, "readahead_pages": 32}
    row73 = {**row, "kernel": "7.3.4+deb13-amd64", "mem_mb": "155"}
    assert V.sim_config({**row73, "swap": "none", "read_ahead_kb": "0"}, "lru")["swap_pages"] == 0
    # the rig's nolf boots mount the data disk data=journal: no large folios
    assert V.sim_config({**row73, "tag": "nolf"}, "lru")["large_folios"] == 0
    assert "large_folios" not in V.sim_config({**row73, "tag": "r1"}, "lru")


def test_a_guest_the_rig_sized_for_128_mib_is_simulate_ram_mb_128():
    """The RAM is the one the rig sized the guest for (its calibration's target),
    read from the guest's mem_mb per release, so a 128 MiB replay is the machine
    of `simulate --ram-mb 128`; a guest size the rig never calibrated is refused
    by name instead of being simulated as 64 MiB."""
    from engine.kernels import guest_machine
    row = {"run": "t.7.3.4+deb13-amd64.classic.r1", "kernel": "7.3.4+deb13-amd64", "mem_mb": "223",
           "swap": "disk", "swap_mb": "256", "swappiness": "60", "read_ahead_kb": "128"}
    cfg = V.sim_config(row, "lru")
    assert cfg["ram_pages"] == guest_machine("7.3", 128 * 256)["ram_pages"]
    # 64 MiB more available, and the larger reserve si_mem_available() leaves out
    assert cfg["ram_pages"] - V.sim_config({**row, "mem_mb": "155"}, "lru")["ram_pages"] > 64 * 256
    # and one it sized for 96 MiB (docs/validation.md "Held out at 96 MiB")
    assert V.sim_config({**row, "mem_mb": "189"}, "lru")["ram_pages"] == guest_machine("7.3", 96 * 256)["ram_pages"]
    with pytest.raises(ValueError, match="t.7.3.4.*200 MiB.*RIG_GUEST_MEM_MB"):
        V.sim_config({**row, "mem_mb": "200"}, "lru")


@pytest.mark.parametrize("key", list(KERNELS))
def test_a_profiles_boot_footprint_is_the_mean_of_its_replays_start_lines(real_rows, key):
    """engine/kernels.py's boot facts are measurements: MemFree - MemAvailable and
    Shmem + AnonPages when each replay on that release starts (docs/kernels.md
    "Boot footprint"), so new replays that move the mean move this test."""
    # at 64 MiB, the size the rule's profiles are measured at (a 128 MiB guest's
    # larger watermarks keep more of MemFree out of MemAvailable)
    rows = [r for r in real_rows if V.profile(r["kernel"]) == key and V.ram_mb(r) == 64]
    assert len(rows) >= 20
    free_over = sum(int(r["memfree_start_kb"]) - int(r["memavail_start_kb"]) for r in rows) / len(rows) / 4
    system = sum(int(r["shmem_start_kb"]) + int(r["anonpages_start_kb"]) for r in rows) / len(rows) / 4
    boot = KERNELS[key]["boot"]
    assert abs(boot["free_over_available_pages"] - free_over) <= 8    # 32 KiB
    assert abs(boot["system_pages"] - system) <= 8


@pytest.mark.parametrize("key", list(KERNELS))
@pytest.mark.parametrize("mb,growth", [(32, (-220, -100)), (48, (-120, -50)), (96, (100, 200)), (128, (200, 350)),
                                       (256, (500, 900))])
def test_a_guest_of_another_size_leaves_out_of_memavailable_what_si_mem_available_does__calculate_totalreserve_pages(
        real_rows, key, mb, growth):
    """MemFree - MemAvailable grows with the guest: totalreserve_pages (the zones'
    high marks and ZONE_DMA's lowmem_reserve) and, on 6.1 with its 9.7 MiB of
    reclaimable slab, the low marks that cap the slab si_mem_available() counts.
    The rule's machine for 128 MiB starts with the MemFree the rig's 128 MiB
    boots started with (the 64 MiB footprint plus that growth: 6.1 +330, 6.12
    and 7.3 +200 pages), where the 64 MiB footprint alone is 200-330 pages short;
    and so, held out, do its machines for 256, 96, 48 and 32 MiB, sizes the
    growth was not measured at (6.1 +841, +174, -99 and -205; 6.12 and 7.3 about
    +545, +110, -58 and -120; docs/validation.md "Held out at 96 MiB", "Held out
    below 64 MiB", "Held out at 256 MiB")."""
    from engine.kernels import guest_machine
    rows = [r for r in real_rows if V.profile(r["kernel"]) == key and V.ram_mb(r) == mb]
    assert len(rows) >= 8
    real = sum(int(r["memfree_start_kb"]) - int(r["memavail_start_kb"]) for r in rows) / len(rows) / 4
    boot = KERNELS[key]["boot"]
    m = guest_machine(key, mb * 256)
    free_over = m["ram_pages"] - mb * 256 - boot["system_pages"] - m["pcp_pages"]
    assert abs(free_over - real) <= 16
    assert growth[0] <= real - boot["free_over_available_pages"] <= growth[1]
    # at 64 MiB the machine is the measured footprint, unchanged
    m = guest_machine(key, 64 * 256)
    assert m["ram_pages"] - m["pcp_pages"] == 64 * 256 + boot["free_over_available_pages"] + boot["system_pages"]


@pytest.mark.parametrize("key", list(KERNELS))
def test_a_profiles_unmapped_tmpfs_is_shmem_less_mapped_of_its_replays_start_lines(real_rows, key):
    """boot["unmapped_pages"] is Shmem - Mapped when each replay starts
    (validation/guest_boot.csv, one row per replay of validation/real/*.csv):
    the tmpfs no process maps, which drop_caches' deactivate_file_folio() left
    inactive and unreferenced. The file LRU is a few pages then, so Mapped is
    tmpfs; the classic boots' Active(anon) is about 440 pages on every release,
    the mapped programs' pages, not these."""
    from validation.guest_boot import load
    boot_rows = {r["run"]: r for r in load()}
    assert {r["run"] for r in real_rows} <= set(boot_rows)
    rows = [boot_rows[r["run"]] for r in real_rows if V.profile(r["kernel"]) == key and V.ram_mb(r) == 64]
    unmapped = sum(int(r["shmem_kb"]) - int(r["mapped_kb"]) for r in rows) / len(rows) / 4
    assert abs(KERNELS[key]["boot"]["unmapped_pages"] - unmapped) <= 8
    assert max(int(r["active_file_kb"]) + int(r["inactive_file_kb"]) for r in rows) <= 64
    # 6.12's and 7.3's classic boots count a pgdeactivate for at least each of
    # them before the first record (6.1's counts 778: fewer were active)
    if key != "6.1":
        assert all(int(r["pgdeactivate"]) >= (int(r["shmem_kb"]) - int(r["mapped_kb"])) // 4
                   for r in rows if r["policy"] == "classic")


def test_6_1_classic_refaults_a_reread_hot_set_it_cannot_activate__workingset_test_recent(real_rows):
    """hot-reread-stream on 6.1.192, classic, on a boot whose first fill had no
    kswapd run for ZONE_DMA alone (the machine without ZONE_DMA's holes; next
    test): a pass over the hot file and the stream between two reads of a hot
    page need ~16.4k pages, the file LRU holds ~14.4k, so each reread refaults at
    a distance of ~1.7-2.0k. With swap, workingset_test_recent() compares it with
    the active file list plus the anon lists: ~1.5k pages, as the replayer's 256
    mlocked pages are on LRU_UNEVICTABLE. The real r1 boot refaults 66,683 pages
    in its first 150,000 records and activates none (its q5 MARK line:
    workingset_activate_file 0, pgactivate +2); counted as anon, those 256 pages
    lift the size over the distances and the simulated hot set is activated from
    30,000 records on."""
    from engine import Simulator
    from engine.trace import read_trace
    row = next(r for r in real_rows if r["trace"] == "hot-reread-stream" and r["kernel"].startswith("6.1.")
               and r["policy"] == "classic" and V.is_default(r))
    accesses = read_trace(str(V.trace_path("hot-reread-stream"))).accesses
    out = {}
    for mlocked in (GUEST_MLOCKED_PAGES, 0):
        sim = Simulator(V.sim_config(row, "lru") | {"system_mlocked_pages": mlocked, "zone_dma_holes": 0})
        sim.set_workload(accesses)
        sim.run(150_000)
        out[mlocked] = sim.vmstat()
    v = out[GUEST_MLOCKED_PAGES]
    assert v["workingset_activate_file"] == 0 and v["pgactivate"] == 0
    assert abs(v["workingset_refault_file"] / 66_683 - 1) <= 0.05, v["workingset_refault_file"]
    assert out[0]["workingset_activate_file"] > 5_000 and out[0]["workingset_refault_file"] < 0.5 * 66_683


def test_6_1_classic_keeps_a_reread_hot_set_after_a_first_fill_run_for_zone_dma_alone__isolate_lru_folios(
        real_rows, tmp_path):
    """The same replay on the guest as the rule builds it: when the file cache
    first fills ZONE_DMA32 and then ZONE_DMA, ZONE_DMA's movable pages run out
    while its unmovable pageblock still has free pages, the fallback boosts it,
    and kswapd's run for ZONE_DMA alone passes over every older ZONE_DMA32 folio
    (isolate_lru_folios(), 6.1 vmscan.c:2226) to the head of its list: the hot
    file's first pass, which the next pass then finds resident and activates.
    The traced 6.1 boot (tag kr1, validation/rig-trace-isolate-dma.patch) skips
    10,181 folios in that one run and reads 168k file pages; of the three boots
    of 2026-12-06 with the default knobs the two that skipped ~10.7k read ~165k,
    the one that skipped none ~300k (the earlier r1 and r2: 13.4k skipped late in
    the replay and 239k read, 0.5k and 297k; docs/validation.md "The zones'
    holes"). The simulated guest
    has the run, skips within 20 % of the traced boot, and reads the ~165k of the
    boots that had it."""
    from validation import zone_dma_skips as Z
    _pageblock_logs(tmp_path)
    trace = (tmp_path / "hot-reread-stream.6.1.0-56-amd64.classic.kr1.log").read_text()
    from validation import kswapd_wake as K
    traced = K.runs(Z.block(trace, "RUN_TRACE", "rig-trace-isolate-dma.patch"))
    assert traced["dma_runs"] == 1 and traced["dma_run_skipped"] == 10_181
    first_run = traced["dma_run_skipped"]
    rows = [r for r in real_rows if r["trace"] == "hot-reread-stream" and r["kernel"].startswith("6.1.")
            and r["policy"] == "classic" and V.is_default(r)]
    logs = {p.name[:-4]: p for p in tmp_path.glob("hot-reread-stream.6.1.0-56-amd64.classic.r*.log")
            if not p.name.endswith(".console.log")}
    skipped = {r["run"]: Z.replay_row(logs[r["run"]], ["pgskip_dma32"])["pgskip_dma32"] for r in rows
               if r["run"] in logs}
    with_run = [float(r["file_in"]) for r in rows if skipped.get(r["run"], 0) >= 10_000]
    without = [float(r["file_in"]) for r in rows if r["run"] in skipped and skipped[r["run"]] < 1_000]
    assert len(with_run) == 2 and len(without) == 1 and max(with_run) < 0.6 * min(without)
    sim = V.replayed("hot-reread-stream", V.sim_config(rows[0], "lru"))
    v = sim.vmstat()
    # the traced boot's one run is all it skipped (pgskip_dma32 10,181 over the replay)
    assert abs(v["pgskip_dma32"] / first_run - 1) <= V.TOL, v["pgskip_dma32"]
    file_in = V.counters(v)["file_in"]
    assert abs(file_in / (sum(with_run) / len(with_run)) - 1) <= V.TOL, (file_in, with_run)


def test_mglru_loses_on_a_reread_hot_set_as_the_real_7_3_does__scan_folios_zone_order(real_rows):
    """hot-reread-stream on 7.3.4: MGLRU reads 1.27x the file pages the classic LRU
    reads over two boots of each (1.36x and 1.18x; the classic boots agree within
    1 %). The folios MGLRU placed in ZONE_DMA stay unreached while ZONE_NORMAL's
    list of the oldest generation fills scan_folios()'s batches, so its working
    cache is smaller; the bar is the same direction and half the size (in log terms)."""
    import math
    boots = {p: [r for r in real_rows if r["trace"] == "hot-reread-stream" and r["kernel"].startswith("7.3.")
                 and V.is_default(r) and r["policy"] == p] for p in ("classic", "mglru")}
    assert [len(b) for b in boots.values()] == [2, 2]
    rows = {p: b[0] for p, b in boots.items()}
    real = V.mean([float(r["file_in"]) for r in boots["mglru"]]) / V.mean([float(r["file_in"]) for r in boots["classic"]])
    sim = {p: V.simulate(("hot-reread-stream", V.sim_config(rows[p], V.POLICY[p])))["file_in"]
           for p in ("classic", "mglru")}
    ratio = sim["mglru"] / sim["classic"]
    assert real > 1.25
    assert math.log(ratio) >= math.log(real) / 2, (ratio, real)
    # and without ZONE_DMA the simulated MGLRU keeps the hot set: the zone is the
    # mechanism, less than half the loss (in log terms) is left without it
    no_zone = V.sim_config(rows["mglru"], "lru_gen") | {"zone_dma_pages": 0, "zone_dma_holes": 0}
    left = V.simulate(("hot-reread-stream", no_zone))["file_in"] / sim["classic"]
    assert math.log(left) < math.log(ratio) / 2, (left, ratio)


def test_7_3s_large_folios_keep_a_randomly_read_hot_file__filemap_read_folio_mark_accessed(real_rows):
    """stream-hot-file under the classic LRU: the real 7.3.4 reads 158-165k file
    pages with ext4's large folios and 220k on the boot without them (`nolf`).
    A read() of any page of a large folio marks the whole folio, so the hot file's
    folios are activated from reads of any two of their pages (docs/kernels.md
    "Large folios"); the simulated 7.3 with large folios is within 20 % of the
    first, with `large_folios` 0 within 20 % of the second."""
    rows = [r for r in real_rows if r["trace"] == "stream-hot-file" and r["kernel"].startswith("7.3.")
            and r["policy"] == "classic"]
    lf = [r for r in rows if V.is_default(r)]
    nolf = [r for r in rows if r["tag"] == "nolf"]
    assert len(lf) >= 2 and len(nolf) == 1
    sim_lf = V.simulate(("stream-hot-file", V.sim_config(lf[0], "lru")))["file_in"]
    sim_nolf = V.simulate(("stream-hot-file", V.sim_config(nolf[0], "lru")))["file_in"]
    real_lf = sum(float(r["file_in"]) for r in lf) / len(lf)
    assert abs(sim_lf / real_lf - 1) <= V.TOL, (sim_lf, real_lf)
    assert abs(sim_nolf / float(nolf[0]["file_in"]) - 1) <= V.TOL, (sim_nolf, nolf[0]["file_in"])
    assert sim_nolf > 1.3 * sim_lf


# The real 7.3.4 boots' file-loop under MGLRU: file pages in min_seq + 1 at the
# replay's last lru_gen sample (record count, pages; validation/lru_gen_samples.py
# on calibration/logs/file-loop.7.3.4+deb13-amd64.mglru.r1.log and r2.log)
REAL_FILE_LOOP_MIN_SEQ_PLUS_1 = {"r1": (289519, 9031), "r2": (284620, 9221)}


@pytest.mark.parametrize("run", sorted(REAL_FILE_LOOP_MIN_SEQ_PLUS_1))
def test_7_3_mglru_keeps_folios_compaction_migrated_in_min_seq_plus_1__lru_gen_folio_seq(real_rows, run):
    """On file-loop the real 7.3 never ages the file type and sorts nothing
    (`pgrefill` 0), yet min_seq + 1 grows to 9k file pages: each is a read,
    so referenced, folio that compaction migrated and folio_add_lru() added
    again, which lru_gen_folio_seq() places one generation above the oldest
    (7.3 mm_inline.h:241-252). The migrate scanner takes a folio once, its copy
    landing above it (compact_scanners_met()); the simulated replay holds at
    least 0.6 of the real count there (0.34 when the engine took the same
    folios again and again, engine 0.8.0), and at most 1.25 of it (1.21 / 1.17
    of r1 / r2 since engine 0.9.4's boost rate, one per 30 ZONE_DMA pages: each
    boosted run wakes kcompactd; 0.79 / 0.77 at one per 50)."""
    from engine import Simulator
    from engine.lru_gen_debugfs import parse_lru_gen
    from engine.trace import read_trace
    rows = [r for r in real_rows if r["trace"] == "file-loop" and V.profile(r["kernel"]) == "7.3"
            and r["policy"] == "mglru" and V.is_default(r)]
    rec, real = REAL_FILE_LOOP_MIN_SEQ_PLUS_1[run]
    sim = Simulator(V.sim_config(rows[0], "lru_gen"))
    sim.set_workload(read_trace(str(V.trace_path("file-loop"))).accesses)
    sim.run(rec)
    gens = parse_lru_gen(sim.lru_gen_text())["memcgs"][0]["nodes"][0]["gens"]
    assert sim.vmstat()["pgrefill"] == 0
    second = gens[1]["nr_pages"][1]          # the second oldest generation's file pages
    assert 0.6 * real <= second <= 1.25 * real, (second, real)


def test_simulate_ram_mb_64_is_the_rules_machine_on_the_real_7_3s_reread_loss(real_rows):
    """The command a reviewer runs on a replayed trace (the rig's contract:
    `simulate --trace T --ram-mb 64 …`) builds the rule's machine, so it gives
    docs/validation.md's answer: hot-reread-stream's file reads within 20 % of
    the real 7.3.4's under both policies, and MGLRU's loss."""
    import json
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "backend", "simulate", "--trace",
                          str(V.trace_path("hot-reread-stream")), "--kernel", "7.3", "--policy", "both",
                          "--ram-mb", "64", "--swap-kind", "ssd", "--swap-mb", "1024", "--swappiness", "60",
                          "--json"], capture_output=True, text=True, check=True)
    sim = {r["policy"]: V.counters(r["vmstat"])["file_in"] for r in json.loads(out.stdout)}
    real = {}
    for policy, key in (("classic", "lru"), ("mglru", "lru_gen")):
        rows = [r for r in real_rows if r["trace"] == "hot-reread-stream" and r["kernel"].startswith("7.3.")
                and r["policy"] == policy and V.is_default(r)]
        real[key] = sum(float(r["file_in"]) for r in rows) / len(rows)
        assert abs(sim[key] / real[key] - 1) <= V.TOL, (policy, sim[key], real[key])
    # the real loss (MGLRU reads 1.27x what the classic LRU reads) in the bar's terms:
    # the same direction and at least half its size, in log terms
    assert real["lru_gen"] > 1.25 * real["lru"]
    assert V.direction_met([real["lru"], real["lru_gen"]], [sim["lru"], sim["lru_gen"]]) is True


def test_7_3_pgrotate_is_inactive_scanned_minus_reclaimed_skips_included__shrink_inactive_list():
    """7.3's shrink_inactive_list() adds `nr_scanned - nr_reclaimed` to
    PGROTATE_ANON/FILE (vmscan.c:2036-2038) and shrink_active_list() adds only
    its exec rotations (:2147), so on traces without executable mappings
    pgrotate is pgscan - pgsteal, with the skipped ZONE_DMA32 folios in
    both: the reading zone_dma_skips.split() rests on. Exactly, but for a batch
    in flight when the rig read /proc/vmstat: isolate_lru_folios()'s scan is
    counted before shrink_folio_list() runs (:2017-2019), the steal and the
    rotation after it (:2034-2039), so a boot whose kswapd and direct reclaim were each
    inside one batch counts up to SWAP_CLUSTER_MAX more scanned pages apiece
    (zipf-anon-80m's: 3)."""
    from validation import zone_dma_skips as Z
    rows = [r for r in Z.load(policy="classic") if r["pgrotate_anon"] != "" and not Z.has_exec_mappings(r["trace"])]
    assert len(rows) >= 15
    assert sum(int(r["pgskip_dma32"]) for r in rows) > 100_000
    exact = 0
    for r in rows:
        s = Z.split(r)
        in_flight = s["pgscan"] - s["pgsteal"] - int(r["pgrotate_anon"]) - int(r["pgrotate_file"])
        assert 0 <= in_flight <= 2 * 32, (r["run"], in_flight)
        exact += in_flight == 0
    assert exact >= len(rows) - 2


def test_7_3_classic_keeps_a_hot_file_beside_a_write_stream_on_stale_stats__lruvec_page_state(real_rows):
    """write-log on 7.3.4, classic: half the records append to a log, half read
    a hot file of half of RAM. Both real boots read 14.8-15.0k file pages (the
    hot file about twice). Their inactive_is_low() and refault test read memcg
    stats the worker flushed up to 2 s before (docs/kernels.md "Classic LRU");
    the guest at the engine's pace flushes every 2 s of the guest's time on its
    clock (ENGINE_PACE_OF_GUEST, engine 0.9.1) and is within 20 % of both
    boots. Reading the counters exact (flush_time_ms 0, engine 0.9.0) it reread
    the hot file: 2.9x the real file reads."""
    rows = [r for r in real_rows if r["trace"] == "write-log" and r["kernel"].startswith("7.3.")
            and r["policy"] == "classic" and V.is_default(r)]
    assert len(rows) == 2
    cfg = V.sim_config(rows[0], "lru")
    assert cfg["flush_time_ms"] == round(2000 * ENGINE_PACE_OF_GUEST["7.3"])
    stale = V.simulate(("write-log", cfg))["file_in"]
    exact = V.simulate(("write-log", cfg | {"flush_time_ms": 0}))["file_in"]
    for r in rows:
        assert abs(stale / float(r["file_in"]) - 1) <= V.TOL, (stale, r["file_in"])
    assert exact > 2 * max(float(r["file_in"]) for r in rows)


def test_boots_of_one_trace_are_paired_and_their_ratios_span_every_pairing():
    """docs/validation.md "How the real kernels repeat" pairs the boots of one
    trace, release and policy (default knobs only, either boot of judged size),
    and the direction table flags a trace whose boots disagree on MGLRU/classic."""
    import math

    def row(trace, policy, tag, pswpin, kernel="6.12.117+deb13-amd64"):
        return {"trace": trace, "kernel": kernel, "policy": policy, "tag": tag, "pswpin": str(pswpin)}
    rows = [row("t", "classic", "r1", 3988), row("t", "classic", "r2", 691), row("t", "classic", "ra0", 9000),
            row("t", "mglru", "r1", 1025), row("t", "mglru", "r2", 2517),
            row("u", "classic", "r1", 10), row("u", "classic", "r2", 1500),       # both small: not judged
            row("t", "classic", "r3", 4000, kernel="7.3.4+deb13-amd64")]          # another release
    pairs = V.boot_pairs(rows, "pswpin")
    assert sorted((a["policy"], a["tag"], b["tag"]) for _, a, b in pairs) == [
        ("classic", "r1", "r2"), ("mglru", "r1", "r2")]
    assert {round(math.exp(d), 2) for d, _, _ in pairs} == {5.76, 2.45}
    by = {"classic": rows[:2], "mglru": rows[3:5]}
    ratios = sorted(V.boot_ratios(by, "pswpin"))
    assert [round(x, 2) for x in ratios] == [0.26, 0.63, 1.48, 3.64]


def test_every_replay_table_shows_the_simulation_each_boot_is_set_against(real_rows):
    """docs/validation.md "Every replay": a boot's ratios are against its own
    simulated machine, and the table shows that machine's line before it; a
    `nolf` boot (ext4 without large folios) and an r1 boot of the same release
    and policy are two machines (the nolf line used to stand for both)."""
    rows = [r for r in real_rows if r["trace"] == "hot-reread-stream" and r["kernel"].startswith("7.3.")
            and r["policy"] == "mglru"]
    assert {r["tag"] for r in rows} >= {"nolf", "r1"}
    sims = {}
    for r in rows:
        key = ("hot-reread-stream", V._frozen(V.sim_config(r, "lru_gen")))
        sims.setdefault(key, {c: 1000 * (len(sims) + 1) for c in V.ALL})
    text = V.render(rows, sims)
    table = text.split("### hot-reread-stream")[1]
    sim_lines = [line for line in table.splitlines() if "**sim**" in line]
    assert len(sim_lines) == len(sims) == 2
    assert "no large folios" in sim_lines[0] and "no large folios" not in sim_lines[1]
    nolf = next(line for line in table.splitlines() if "| nolf (" in line)
    r1 = next(line for line in table.splitlines() if "| r1 (" in line)
    assert table.index(sim_lines[0]) < table.index(nolf) < table.index(sim_lines[1]) < table.index(r1)


def test_7_3_rotations_table_sets_each_boots_pgrotate_against_the_simulation(real_rows):
    """docs/validation.md "7.3's rotations": per trace and policy the 7.3 boots'
    pgrotate_anon / pgrotate_file from the rig's logs (zone-dma-skips.csv), then
    the simulated ones (engine 0.9.2's vmstat; shrink_inactive_list(),
    shrink_active_list(), evict_folios()); no row for 6.1 or 6.12."""
    from validation.zone_dma_skips import load
    logs = {r["run"]: r for r in load()}
    rows = [r for r in real_rows if r["trace"] == "desktop" and V.is_default(r)]
    sims = {}
    for r in rows:
        key = ("desktop", V._frozen(V.sim_config(r, V.POLICY[r["policy"]])))
        sims.setdefault(key, {c: 7000 + len(sims) for c in V.ALL})
    table = V.render(rows, sims).split("## 7.3's rotations")[1].split("## Every replay")[0]
    lines = [line for line in table.splitlines() if line.startswith("| desktop |")]
    assert [line.split(" | ")[1] for line in lines] == ["classic", "mglru"]
    for line, policy in zip(lines, ("classic", "mglru")):
        boots = [r for r in rows if r["policy"] == policy and r["kernel"].startswith("7.3.")]
        sim = sims[("desktop", V._frozen(V.sim_config(boots[0], V.POLICY[policy])))]
        want = " · ".join(f"{int(logs[r['run']]['pgrotate_anon']):,}" for r in boots)
        assert f"| {want} / {sim['pgrotate_anon']:,} |" in line
    assert "classic median" in table and "mglru median" in table



def test_a_second_hosts_boots_are_set_against_the_simulator_and_the_first_hosts_boots():
    """docs/validation.md "A second host": a boot tagged h2 (or h2s1g) is judged
    against its own simulated machine and set against the mean of the first
    host's default boots of the same trace, release and policy; it does not
    enter the first host's tables (is_default())."""
    def row(tag, pgscan, swap_mb="256", kernel="7.3.4+deb13-amd64"):
        return {"trace": "anon-loop", "kernel": kernel, "policy": "classic", "tag": tag, "run": f"anon-loop.{tag}",
                "source": "x.csv", "mem_mb": "155", "swap": "disk", "swap_mb": swap_mb, "swappiness": "60",
                "read_ahead_kb": "128", "pgsteal": "0", "pswpin": "0", "file_in": "0", "pgscan": str(pgscan)}
    rows = [row("r1", 190_000), row("r2", 210_000), row("h2", 150_000), row("h2s1g", 200_000, swap_mb="1024")]
    assert [V.is_default(r) for r in rows] == [True, True, False, False]
    sims = {("anon-loop", V._frozen(V.sim_config(r, "lru"))): {c: 0 for c in V.ALL} | {"pgscan": 240_000}
            for r in rows}
    lines = V.second_host(rows, sims)
    summary = {line.split(" | ")[1]: line for line in lines if line.startswith("| 7.3 | `")}
    # sim 240k: 1.60x h2 (out), 1.20x h2s1g (in); 1.26x and 1.14x the first host's boots; h2 0.75x their mean
    assert summary["`h2`"] == "| 7.3 | `h2` | 1 | 0/1 | 1/2 | 0/1 |"
    assert summary["`h2s1g`"] == "| 7.3 | `h2s1g` | 1 | 1/1 | 1/2 | 1/1 |"
    per_boot = next(line for line in lines if line.startswith("| anon-loop | 7.3 | classic | `h2` |"))
    assert "| **0.75** · **1.60** |" in per_boot
    assert V.second_host([r for r in rows if V.is_default(r)], sims) == []


def test_a_second_hosts_boots_are_counted_by_the_guests_size_with_their_mglru_classic_directions():
    """docs/validation.md "A second host", its table by the guest's size (the
    held-out exports at 32-128 MiB): per size and tag, the cells within 20 %
    per release and the MGLRU/classic differences above 25 % reproduced with
    half their size in log terms (direction_met(), the bar's test)."""
    def row(policy, pgscan, mem_mb, trace="t"):
        return {"trace": trace, "kernel": "6.12.117+deb13-amd64", "policy": policy, "tag": "h2s1g",
                "run": f"{trace}.{policy}.{mem_mb}", "source": "x.csv", "mem_mb": mem_mb, "swap": "disk",
                "swap_mb": "1024", "swappiness": "60", "read_ahead_kb": "128", "pgsteal": "0", "pswpin": "0",
                "file_in": "0", "pgscan": str(pgscan)}
    # real MGLRU/classic 0.4 at 48 MiB (120 is 6.12's 48 MiB guest), 1.0 at 96 (172)
    rows = [row("classic", 100_000, "120"), row("mglru", 40_000, "120"),
            row("classic", 100_000, "172"), row("mglru", 100_000, "172")]
    simulated = {"120": {"classic": 100_000, "mglru": 50_000}, "172": {"classic": 130_000, "mglru": 100_000}}
    sims = {(r["trace"], V._frozen(V.sim_config(r, V.POLICY[r["policy"]]))):
            {c: 0 for c in V.ALL} | {"pgscan": simulated[r["mem_mb"]][r["policy"]]} for r in rows}
    lines = V.second_host(rows, sims)
    by_size = {line.split(" | ")[0]: line for line in lines if line.startswith(("| 48 |", "| 96 |"))}
    # 48: both cells within 20 % of 100k / 40k? 50k is 1.25x: out; sim 0.5 against the real 0.4: met
    assert by_size["| 48"] == "| 48 | `h2s1g` | 2 | 0/0 | 1/2 | 0/0 | 1/1 |"
    # 96: 130k is 1.30x (out), 100k in; a real difference within 25 % is not counted
    assert by_size["| 96"] == "| 96 | `h2s1g` | 2 | 0/0 | 1/2 | 0/0 | 0/0 |"
    assert V.direction_met([100, 40], [100, 90]) is False and V.direction_met([100, 110], [100, 10]) is None
def test_the_rig_logs_rows_name_the_replays_of_validation_real(real_rows):
    """validation/zone-dma-skips.csv and compaction.csv take a replay's trace,
    release, policy and boot from the rig's run name, TRACE.RELEASE.POLICY.TAG,
    where a trace name may hold a dot (shf-hot0.4): each row names a replay of
    validation/real/ and a trace of validation/traces/ (the first split at the
    first dot and named both shf-hot0.4 and shf-hot0.6 "shf-hot0")."""
    from validation import compaction as C
    from validation import zone_dma_skips as Z
    real = {r["run"]: r for r in real_rows}
    for rows in (Z.load(), Z.load(C.CSV)):
        assert {r["run"] for r in rows} == set(real)
        for r in rows:
            assert {k: r[k] for k in ("trace", "kernel", "policy", "tag")} == \
                {k: real[r["run"]][k] for k in ("trace", "kernel", "policy", "tag")}
            assert V.trace_path(r["trace"]).exists()


# (trace, release): most of the real classic pgscan is skipped folios
SKIPPED = [("zipf-anon", "7.3."), ("zipf-anon", "6.12.")]


@pytest.mark.parametrize("trace,kernel", SKIPPED)
def test_pgscan_counts_zone_dma_only_kswapd_runs_skipped_folios_as_the_real_one__isolate_lru_folios(
        real_rows, trace, kernel):
    """isolate_lru_folios() counts the folios above `reclaim_idx` it moves aside
    in `nr_scanned` (7.3 vmscan.c:1700, :1765), and a kswapd run for ZONE_DMA
    alone (a boosted ZONE_DMA's wakeup, page_alloc.c:3445) passes every
    ZONE_DMA32 folio: 25-67k of the real pgscan here. The guest's boosts (its
    fallbacks into ZONE_DMA's holes) make the simulated pgscan hold skips too, at least
    half as many as the real boots' mean; without them its pgscan was
    0.55-0.75 of the real one (the real pgscan less its inactive lists' skips,
    engine 0.7.3). On 6.12 the pgscan is within 20 % of the boots' mean. On 7.3
    it was too up to engine 0.9.3 (1.11 / 0.81 of r1 / r2); since the stats
    flush comes where the boots had it (0.9.4) it is 0.78 / 0.57: it skips as
    much as r1 (25.7k against 24.7k and 67.5k) but its direct reclaim scans
    16.8k folios against the boots' 35.2k and 17.5k (docs/validation.md "The
    stats flush's phase")."""
    from validation import zone_dma_skips as Z
    runs = {r["run"] for r in real_rows if r["trace"] == trace and r["kernel"].startswith(kernel)
            and r["policy"] == "classic" and V.is_default(r)}
    skips = [Z.split(r) for r in Z.load() if r["run"] in runs]
    assert len(skips) == len(runs) >= 2
    row = next(r for r in real_rows if r["run"] in runs)
    v = V.replayed(trace, V.sim_config(row, "lru")).vmstat()
    pgscan = V.counters(v)["pgscan"]
    raw = sum(s["pgscan"] for s in skips) / len(skips)
    assert sum(s["skip_inactive"] for s in skips) / len(skips) > 0.15 * raw
    assert v["pgskip_dma32"] > 0.5 * sum(s["pgskip_dma32"] for s in skips) / len(skips)
    if kernel == "6.12.":
        assert abs(pgscan / raw - 1) <= V.TOL, (pgscan, raw)
    else:
        assert 0.5 * raw < pgscan < raw, (pgscan, raw)


@pytest.mark.parametrize("trace", ["file-loop", "file-search", "stream-hot-anon"])
def test_mglru_hands_out_zone_dma_once_on_a_read_trace_as_the_7_3_boots__scan_folios(real_rows, trace):
    """scan_folios() takes the oldest generation's ZONE_DMA32 list before
    ZONE_DMA's (7.3 vmscan.c:4751), so on a read() trace the real 7.3 MGLRU
    boots hand out ZONE_DMA's pages about once (pgalloc_dma ~ the zone) and
    sort nothing as ineligible (pgrefill 0: no kswapd run for ZONE_DMA alone),
    where their classic boots skip more than ten thousand folios in such runs
    (validation/zone-dma-skips.csv). The simulated MGLRU hands ZONE_DMA out
    within 20 % of the real boots and has no ineligible sort either: its one
    fill of ZONE_DMA meets the zone's holes once (docs/validation.md "The
    zones' holes"), where a rate of boosts per ZONE_DMA page with readahead's
    wakeups gave it runs for ZONE_DMA alone ("The watermark boost")."""
    from validation import zone_dma_skips as Z
    rows = [r for r in Z.load() if r["trace"] == trace and r["kernel"].startswith("7.3")
            and V.is_default(r)]
    mglru = [r for r in rows if r["policy"] == "mglru"]
    classic = [r for r in rows if r["policy"] == "classic"]
    assert mglru and classic
    zone_dma = 3840          # x86_64's ZONE_DMA less its first MiB
    for r in mglru:
        assert int(r["pgrefill"]) == 0 and int(r["pgalloc_dma"]) < 1.25 * zone_dma, r["run"]
    assert all(int(r["pgskip_dma32"]) > 10000 for r in classic)
    row = next(r for r in real_rows if r["trace"] == trace and V.profile(r["kernel"]) == "7.3"
               and r["policy"] == "mglru" and V.is_default(r))
    sim = V.replayed(trace, V.sim_config(row, "lru_gen"))
    assert sim.config["zone_dma_pages"] == zone_dma and sim.config["zone_dma_holes"] > 0
    real = sum(int(r["pgalloc_dma"]) for r in mglru) / len(mglru)
    assert abs(sim.kswapd["nr_dma_alloc"] / real - 1) <= V.TOL, (sim.kswapd["nr_dma_alloc"], real)
    assert sim.vmstat()["pgrefill"] == 0


def _pageblock_logs(tmp_path):
    import tarfile
    for name in ("session-2026-12-06-pageblocks.tar.xz", "session-2026-12-05-dma-boosts.tar.xz"):
        with tarfile.open(V.HERE / "logs" / name) as tar:
            tar.extractall(tmp_path, filter="data")
    return sorted(map(str, [*tmp_path.glob("*.pt?.log"), *tmp_path.glob("*.tr?.log")]))


def test_pageblocks_csv_is_what_the_rigs_logs_say(tmp_path):
    """validation/pageblocks.csv is regenerated, byte for byte, from the boots
    sampled with validation/rig-trace-pagetypeinfo.patch and those traced with
    validation/rig-trace-dma-boosts.patch; a log of neither is refused by name."""
    from validation import pageblocks as P
    out = tmp_path / "pageblocks.csv"
    assert P.main([*_pageblock_logs(tmp_path), "--out", str(out)]) == 0
    assert out.read_text() == P.CSV.read_text()
    plain = next(tmp_path.glob("hot-reread-stream.6.1.0-56-amd64.classic.r3.log"))
    with pytest.raises(ValueError, match="r3.log: neither"):
        P.row_of(plain)


def test_kswapd_wake_csv_is_what_the_rigs_logs_say(tmp_path):
    """validation/kswapd-wake.csv is regenerated, byte for byte, from the boots
    traced with validation/rig-trace-isolate-dma.patch; a log without the
    patch's RUN_TRACE block is refused by name."""
    import tarfile
    from validation import kswapd_wake as K
    for name in ("session-2026-12-06-kswapd-wake.tar.xz", "session-2026-12-06-kswapd-wake-128m.tar.xz"):
        with tarfile.open(V.HERE / "logs" / name) as tar:
            tar.extractall(tmp_path, filter="data")
    with tarfile.open(V.HERE / "logs" / "session-2026-12-06-pageblocks.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data", members=[m for m in tar if ".kr1." in m.name or ".r3." in m.name])
    out = tmp_path / "kswapd-wake.csv"
    assert K.main([*map(str, sorted(tmp_path.glob("*.kr?.log"))), "--out", str(out)]) == 0
    assert out.read_text() == K.CSV.read_text()
    plain = next(tmp_path.glob("hot-reread-stream.6.1.0-56-amd64.classic.r3.log"))
    with pytest.raises(ValueError, match="rig-trace-isolate-dma.patch"):
        K.row_of(plain)


def test_kswapd_boosts_csv_is_what_the_rigs_logs_say(tmp_path):
    """validation/kswapd-boosts.csv is regenerated, byte for byte, from the boots
    traced with validation/rig-trace-kswapd-boosts.patch; a log without the
    patch's histograms is refused by name. Its 7.3 rows hold the finding of
    docs/validation.md "kswapd woken by boosts": the classic replays whose holes
    sat highest were woken by boosts, the lowest by allocations."""
    import tarfile
    from validation import kswapd_boosts as K
    with tarfile.open(V.HERE / "logs" / "session-2026-12-06-kswapd-boosts.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    out = tmp_path / "kswapd-boosts.csv"
    assert K.main([*map(str, sorted(tmp_path.glob("*.ks.log"))), "--out", str(out)]) == 0
    assert out.read_text() == K.CSV.read_text()
    classic = sorted((r for r in K.load() if V.profile(r["kernel"]) == "7.3" and r["policy"] == "classic"),
                     key=lambda r: int(r["holes_median"]))
    for r in classic[-3:]:
        assert int(r["boost_wakes_dma32"]) > 5 * int(r["alloc_wakes"]), r["run"]
    for r in classic[:3]:
        assert int(r["alloc_wakes"]) > int(r["boost_wakes_dma32"]), r["run"]
    with tarfile.open(V.HERE / "logs" / "session-2026-12-06-pageblocks.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data", members=[m for m in tar if ".pt1." in m.name])
    with pytest.raises(ValueError, match="rig-trace-kswapd-boosts.patch"):
        K.row_of(next(tmp_path.glob("*.pt1.log")))


def test_buddy_samples_csv_is_what_the_rigs_logs_say__zone_watermark_ok(tmp_path):
    """validation/buddy-samples.csv is regenerated, byte for byte, from the boots
    sampled with validation/rig-buddy-samples.patch; a log without the patch's
    pagetypeinfo samples is refused by name. Its rows hold the finding of
    docs/validation.md "kswapd's order": on the 7.3 classic stream traces a
    ZONE_DMA32 whose free pages passed the low mark at order 5 always had a
    free block of that order (the order-5 test fails on the free pages, which
    the engine has), where on mmap-exec and desktop a block was missing in a
    quarter of those samples or more (which it has not); 6.1 and 6.12 always
    had one. ZONE_DMA's unmovable pageblock, 224 free pages at the start, held
    fewer through every replay but the 7.3 classic table-switch's."""
    import tarfile
    from validation import buddy_samples as B
    with tarfile.open(V.HERE / "logs" / "session-2026-12-07-buddy.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    out = tmp_path / "buddy-samples.csv"
    assert B.main([*map(str, sorted(tmp_path.glob("*.bd1.log"))), "--out", str(out)]) == 0
    assert out.read_text() == B.CSV.read_text()
    rows = {(r["trace"], V.profile(r["kernel"]), r["policy"]): r for r in B.load()}
    for trace in ("hot-reread-stream", "stream-hot-file-128m"):
        r = rows[(trace, "7.3", "classic")]
        assert int(r["no_block_above_low"]) == 0 < int(r["above_low"]), trace
    for trace in ("mmap-exec", "desktop"):
        r = rows[(trace, "7.3", "classic")]
        assert 4 * int(r["no_block_above_low"]) >= int(r["above_low"]) > 0, trace
    assert all(int(r["no_block"]) == 0 for k, r in rows.items() if k[1] in ("6.1", "6.12"))
    assert {k for k, r in rows.items() if float(r["dma_unmovable_free_median"]) >= 224} == \
        {("table-switch", "7.3", "classic")}
    with tarfile.open(V.HERE / "logs" / "session-2026-12-06-kswapd-boosts.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data", members=[m for m in tar if m.name.startswith("desktop.") and m.name.endswith(".ks.log")])
    with pytest.raises(ValueError, match="rig-buddy-samples.patch"):
        B.row_of(next(tmp_path.glob("*.ks.log")))


@pytest.mark.parametrize("key", list(KERNELS))
def test_each_profiles_pageblocks_are_the_measured_ones__boost_watermark(key):
    """The free pages in other migratetypes' pageblocks a guest starts with and
    keeps, and what one fallback takes of them (engine/kernels.py "pageblocks")
    are validation/pageblocks.py's facts from the rig's logs, not fitted."""
    from validation import pageblocks as P
    assert KERNELS[key]["pageblocks"] == P.facts()[key]


def _runs_for_zone_dma_alone(real_rows, trace, key, policy):
    import numpy as np
    from engine.names import EVENT_KINDS
    wake = EVENT_KINDS.index("mm_vmscan_kswapd_wake")
    row = next(r for r in real_rows if r["trace"] == trace and V.profile(r["kernel"]) == key
               and r["policy"] == policy and V.is_default(r))
    from engine import Simulator
    from engine.trace import read_trace
    sim = Simulator(V.sim_config(row, V.POLICY[policy]) | {"events_capacity": 1 << 20})
    sim.set_workload(read_trace(str(V.trace_path(trace))).accesses)
    runs = 0
    while not sim.done:
        seq = sim.event_seq
        sim.step("access", 4096)
        ev = sim.events_since(seq)
        runs += int(np.count_nonzero((ev["kind"] == wake) & (ev["index"] == 0)))
    return runs


@pytest.mark.parametrize("run", ["file-loop.6.1.0-56-amd64.classic.tr2", "file-loop.6.12.117+deb13-amd64.classic.tr1",
                                 "file-loop.6.12.117+deb13-amd64.mglru.tr1", "file-loop.7.3.4+deb13-amd64.classic.tr1",
                                 "file-loop.7.3.4+deb13-amd64.mglru.tr1", "db-write.7.3.4+deb13-amd64.classic.tr1",
                                 "zipf-mixed-s1.6.1.0-56-amd64.classic.kr2", "zipf-mixed-s1.6.12.117+deb13-amd64.classic.kr2",
                                 "write-log.6.12.117+deb13-amd64.classic.kr2",
                                 "write-log.7.3.4+deb13-amd64.classic.kr2", "stream-hot-file.7.3.4+deb13-amd64.classic.kr5",
                                 "stream-hot-file-128m.6.12.117+deb13-amd64.classic.kr5",
                                 "zipf-anon-128m.7.3.4+deb13-amd64.classic.kr5",
                                 "anon-loop.6.1.0-56-amd64.classic.td1", "anon-loop.6.1.0-56-amd64.mglru.td1",
                                 "zipf-anon.6.1.0-56-amd64.classic.td1", "zipf-mixed.6.1.0-56-amd64.classic.td1",
                                 "zipf-mixed.6.1.0-56-amd64.mglru.td1"])
def test_runs_for_zone_dma_alone_come_about_as_often_as_on_the_traced_boots__try_to_claim_block(real_rows, run):
    """kswapd runs for ZONE_DMA alone when a fallback into its holes boosted it
    (try_to_claim_block() -> boost_watermark(), rmqueue()'s wakeup) and nothing
    asked for the zone above since its last run began: the traced boots ran
    1-21 of them a replay (mm_vmscan_kswapd_wake on zid 0, validation/pageblocks.csv;
    runs with an isolation for ZONE_DMA alone, validation/kswapd-wake.csv),
    the classic LRU, which recycles ZONE_DMA, more than MGLRU, which fills it
    once. The simulated guests, whose holes are measured and whose fallbacks are
    not fitted, run within a factor of three of them (plus one); all but
    db-write's MGLRU on 7.3, which runs once where the traced boot ran 9 times,
    6.1's write-log (10 where the boot ran once, 63 before engine 0.14.0 moved a
    6.1 fallback's whole pageblock: its kswapd woke 35 times for a
    boost and read the zone to reclaim after the writer had asked for ZONE_DMA32)
    6.12's zipf-anon (2 against 10), 7.3's zipf-mixed-s1 (1 against 7: since
    engine 0.12.0 the per-CPU lists' pages keep ZONE_DMA32 above its low mark,
    so fewer allocations fall to ZONE_DMA), and at 128 MiB 7.3's stream-hot-file (28
    against none: its boot's kswapd woke 2,824 times for a large folio, each
    such allocation asking for every zone) and table-switch (19 against 2)
    (docs/validation.md "The zones' holes", "kswapd's wakeup after a boost",
    "kswapd at 128 MiB")."""
    from validation import dma_boosts as D
    from validation import kswapd_wake as K
    from validation import pageblocks as P
    from validation import zone_dma_skips as Z
    traced = {r["run"]: int(r["kswapd_wake_dma"]) for r in P.load() if r["kswapd_wake_dma"] != ""}
    traced.update({r["run"]: int(r["kswapd_wake_dma"]) for r in D.load()})
    traced.update({r["run"]: int(r["dma_runs"]) for r in K.load()})
    real = traced[run]
    boot = Z.identity(run)
    sim = _runs_for_zone_dma_alone(real_rows, boot["trace"], V.profile(boot["kernel"]), boot["policy"])
    assert real / 3 - 1 <= sim <= 3 * real + 1, (sim, real)


def test_7_3_guest_compaction_rate_is_the_grids_nearest_to_the_real_migrations__migrate_pages():
    """GUEST_COMPACTION_MIGRATE_EVERY["7.3"] is fitted (validation/compaction.py
    --fit): the rate of GRID whose simulated pgmigrate_success over the 7.3
    calibration replays comes nearest the real one. Its neighbours must not."""
    from engine.kernels import GUEST_COMPACTION_MIGRATE_EVERY
    from validation import compaction as C
    every = GUEST_COMPACTION_MIGRATE_EVERY["7.3"]
    i = C.GRID.index(every)
    best = C.miss(*C.migrations(every))
    for j in (i - 1, i + 1):
        if 0 <= j < len(C.GRID):
            assert C.miss(*C.migrations(C.GRID[j])) >= best, C.GRID[j]


# The real boots' agings on anon-loop under MGLRU: max_seq at the end of the
# replay (its last lru_gen sample, validation/lru_gen_samples.py --births) less
# the boot's MIN_NR_GENS + 1, beside their pgscan (validation/real/calibration.csv).
REAL_ANON_LOOP_AGINGS = {("6.1", "r1"): 39 - 3, ("6.1", "r2"): 44 - 3,
                         ("6.12", "r1"): 32 - 3, ("6.12", "r2"): 29 - 3}


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_mglru_ages_once_per_as_many_folios_scanned_as_the_real_kernel__get_nr_to_scan(real_rows, kernel):
    """On anon-loop every aging is forced by the eviction: should_run_aging()
    (6.1 vmscan.c:4459-4514, 6.12 :4661-4719) asks for it when the oldest
    generations are used up (2 left, or 3 with the oldest under a quarter), so
    the agings follow the folios scanned. The real 6.12 ages 26-29 times for
    167-178k folios scanned (6.1 36-41 for 202-236k); the simulator ages more
    often (39 on 6.12, docs/validation.md "What is not met") because it scans
    more, at the same ~6k folios per aging."""
    rows = [r for r in real_rows if r["trace"] == "anon-loop" and V.profile(r["kernel"]) == kernel
            and r["policy"] == "mglru" and V.is_default(r)]
    sim = V.replayed("anon-loop", V.sim_config(rows[0], "lru_gen"))
    v = sim.vmstat()
    per_aging = (v["pgscan_kswapd"] + v["pgscan_direct"]) / sim.nr_aging
    for r in rows:
        real = float(r["pgscan"]) / REAL_ANON_LOOP_AGINGS[(kernel, r["run"].rsplit(".", 1)[1])]
        assert abs(per_aging / real - 1) <= V.TOL, (r["run"], per_aging, real)


def test_lru_gen_samples_dates_a_generation_by_its_samples_time_less_its_age():
    from validation.lru_gen_samples import real_births, real_samples
    log = """@@GT MARK start t=10.000 rec=0
@@GT S t=11.000 pswpin=0
@@GT LRUGEN_BEGIN
memcg     1 /
 node     0
          3       1000        500           7
          4        400        100           0
@@GT LRUGEN_END
@@GT S t=12.000 pswpin=0
@@GT LRUGEN_BEGIN
memcg     1 /
 node     0
          3       2000        300           7
          4       1400        100           0
          5        200         50           0
@@GT LRUGEN_END
@@GT MARK q1 t=20.000 rec=10000
""".splitlines(keepends=True)
    # seq 3 born at 10.0 s (the start), 4 at 10.6 s, 5 at 11.8 s: records 0, 600, 1,800
    assert real_births(log) == [(3, None), (4, 600), (5, 1800)]
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
        f.writelines(log)
        f.flush()
        assert real_samples(f.name, column=2) == [(1000, [(3, 500), (4, 100)]),
                                                  (2000, [(3, 300), (4, 100), (5, 50)])]
        assert real_samples(f.name)[0] == (1000, [(3, 7), (4, 0)])


def test_the_held_out_write_traces_are_what_validation_write_traces_makes(tmp_path):
    """validation/traces/write-log and db-write come from validation/write_traces.py
    (no built-in scenario writes files at that rate), deterministically."""
    import gzip
    import subprocess
    import sys
    subprocess.run([sys.executable, str(V.HERE / "write_traces.py"), str(tmp_path)], check=True, timeout=120)
    for name in ("write-log", "db-write"):
        with gzip.open(V.HERE / "traces" / f"{name}.trace.gz", "rb") as f:
            assert f.read() == (tmp_path / f"{name}.trace").read_bytes(), name


def test_dma_boosts_csv_is_what_the_traced_boots_logs_say(tmp_path):
    """validation/dma-boosts.csv is regenerated, byte for byte, from the logs of
    the boots traced with validation/rig-trace-dma-boosts.patch (2026-12-05's,
    2026-12-07's of anon-loop-96m's classic LRU, and of 6.1's anon-loop,
    zipf-anon and zipf-mixed); a log without the trace summary is refused by
    name."""
    import tarfile
    from validation import dma_boosts as D
    for name in ("session-2026-12-05-dma-boosts", "session-2026-12-07-loop-fallbacks",
                 "session-2026-12-07-6-1-fallbacks"):
        with tarfile.open(V.HERE / "logs" / f"{name}.tar.xz") as tar:
            tar.extractall(tmp_path, filter="data")
    out = tmp_path / "dma-boosts.csv"
    assert D.main([*sorted(map(str, tmp_path.glob("*.log"))), "--out", str(out)]) == 0
    assert out.read_text() == D.CSV.read_text()
    with pytest.raises(ValueError, match="TRACE_SUMMARY"):
        D.summary("@@GT BEGIN_VMSTAT_BEFORE\n@@GT END_VMSTAT_BEFORE\n")


@pytest.mark.parametrize("kernel", ["6.12", "7.3"])
def test_mglru_fills_zone_dma_once_where_the_classic_lru_recycles_it__scan_folios(real_rows, kernel):
    """On file-loop the real MGLRU takes about ZONE_DMA's size from it over the
    whole replay (its generations are lists per zone and scan_folios() drains
    the zone above ZONE_DMA first, 7.3 vmscan.c:4748-4751), the classic LRU,
    one list per type, recycles ZONE_DMA 14-19 times (pgalloc_dma of the traced
    boots, validation/dma-boosts.csv); so do the simulated ones."""
    from validation import dma_boosts as D
    real = {r["policy"]: int(r["pgalloc_dma"]) for r in D.load()
            if r["trace"] == "file-loop" and V.profile(r["kernel"]) == kernel}
    sim = {}
    for policy in ("classic", "mglru"):
        row = next(r for r in real_rows if r["trace"] == "file-loop" and V.profile(r["kernel"]) == kernel
                   and r["policy"] == policy and V.is_default(r))
        sim[policy] = V.replayed("file-loop", V.sim_config(row, V.POLICY[policy])).kswapd["nr_dma_alloc"]
    assert abs(sim["mglru"] / real["mglru"] - 1) <= 0.2, (sim, real)
    assert real["classic"] > 10 * real["mglru"] and sim["classic"] > 10 * sim["mglru"], (sim, real)


def _subset_csv(tmp_path, prefix):
    lines = (V.HERE / "real" / "calibration.csv").read_text().splitlines()
    path = tmp_path / "real.csv"
    path.write_text("\n".join([lines[0]] + [l for l in lines[1:] if l.startswith(prefix)]) + "\n")
    return path


def _sim_rows(path):
    from validation.zone_dma_skips import load
    return {r["run"]: r for r in load(path)}


@pytest.fixture
def validate_globals(monkeypatch):
    """V.main() sets RULE, PACE and SET; each is restored after the test."""
    for name in ("RULE", "PACE", "SET"):
        monkeypatch.setattr(V, name, getattr(V, name))


def test_validate_set_changes_every_simulated_machine_and_the_page_names_it(tmp_path, monkeypatch, validate_globals):
    real = _subset_csv(tmp_path, "anon-loop.6.12.117+deb13-amd64.classic.")
    assert V.main(["--real", str(real), "--jobs", "1", "--out", str(tmp_path / "a.md"),
                   "--csv", str(tmp_path / "a.csv")]) == 0
    assert V.main(["--real", str(real), "--jobs", "1", "--out", str(tmp_path / "b.md"),
                   "--csv", str(tmp_path / "b.csv"), "--set", "costs.swap_write=1000000"]) == 0
    a, b = _sim_rows(tmp_path / "a.csv"), _sim_rows(tmp_path / "b.csv")
    assert set(a) == set(b) and len(a) == 2
    row = V.load_real([str(real)])[0]
    monkeypatch.setattr(V, "SET", [])
    cfg = V.sim_config(row, "lru")
    assert "costs" not in cfg
    # the set machine is the rule's with that one cost changed, nothing else
    want = V.counters(V.replayed("anon-loop", V.with_set(cfg, [("costs.swap_write", 1000000)])).vmstat())
    for run in b:
        assert int(b[run]["pswpin"]) == want["pswpin"] != int(a[run]["pswpin"])
    assert "This run set `costs.swap_write=1000000`" in (tmp_path / "b.md").read_text()
    assert "This run set" not in (tmp_path / "a.md").read_text()


def test_validate_set_refuses_a_bad_key_before_simulating_and_leaves_the_page(tmp_path, capsys, validate_globals):
    real = _subset_csv(tmp_path, "anon-loop.6.12.117+deb13-amd64.classic.")
    out = tmp_path / "page.md"
    out.write_text("kept\n")
    for arg, said in (("costs.swap_wrte=5", "costs.swap_wrte: unknown cost"),
                      ("bogus=1", "bogus: unknown configuration key"),
                      ("swappiness.x=1", "swappiness is not a section of the config"),
                      ("costs.swap_write", "expected KEY=VALUE")):
        with pytest.raises(SystemExit) as e:
            V.main(["--real", str(real), "--out", str(out), "--set", arg])
        assert e.value.code == 2 and said in capsys.readouterr().err, arg
    assert out.read_text() == "kept\n"


def test_with_set_copies_the_sections_it_changes():
    cfg = {"costs": {"access": 1}, "swappiness": 60}
    out = V.with_set(cfg, [("costs.swap_write", 7), ("swappiness", 100), ("lru_gen.min_ttl_ms", 5)])
    assert out == {"costs": {"access": 1, "swap_write": 7}, "swappiness": 100, "lru_gen": {"min_ttl_ms": 5}}
    assert cfg == {"costs": {"access": 1}, "swappiness": 60}


def test_zone_dma_runs_table_sets_each_boots_pgskip_dma32_against_the_simulation(real_rows):
    """docs/validation.md "Runs for ZONE_DMA alone": per trace, release and
    policy the default boots' pgskip_dma32 from the rig's logs, then the
    simulated pgskip (isolate_lru_folios()'s skips above reclaim_idx); a pair
    under SMALL on both sides is "small", one outside half the fewest to twice
    the most of the boots is named under the table."""
    from validation.zone_dma_skips import load
    logs = {r["run"]: int(r["pgskip_dma32"] or 0) for r in load()}
    rows = [r for r in real_rows if r["trace"] == "shifting-hotspot" and V.is_default(r)]
    sims = {}
    for r in rows:
        key = ("shifting-hotspot", V._frozen(V.sim_config(r, V.POLICY[r["policy"]])))
        # the 6.1 classic machine skips within the boots' span, every other none
        ok = V.profile(r["kernel"]) == "6.1" and r["policy"] == "classic"
        sims.setdefault(key, {**{c: 0 for c in V.ALL}, "pgskip": 23_000 if ok else 0})
    table = V.render(rows, sims).split("## Runs for ZONE_DMA alone")[1].split("## 7.3's rotations")[0]
    line = next(l for l in table.splitlines() if l.startswith("| shifting-hotspot |"))
    cells = line.strip("| ").split(" | ")[1:]
    boots = [r for r in rows if r["policy"] == "classic" and r["kernel"].startswith("6.1.")]
    assert cells[0] == " · ".join(f"{logs[r['run']]:,}" for r in boots) + " / 23,000"
    assert cells[1] == "small"          # MGLRU's boots skip nothing here
    boots73 = [r for r in rows if r["policy"] == "classic" and r["kernel"].startswith("7.3.")]
    assert cells[4] == " · ".join(f"{logs[r['run']]:,}" for r in boots73) + " / 0"
    assert "shifting-hotspot 7.3 classic" in table and "shifting-hotspot 6.1 classic" not in table


def test_direct_reclaim_table_sets_the_default_boots_pgsteal_direct_against_the_simulation(real_rows):
    """docs/validation.md "Direct reclaim": per profile and policy, the share of
    pgsteal the default boots reclaimed directly (the rig's steal_direct), then
    the simulated share over the same boots; ra0 boots left out."""
    rows = [r for r in real_rows if r["trace"] in ("desktop", "zipf-anon")]
    assert any(not V.is_default(r) for r in rows)
    sims = {}
    for r in rows:
        key = (r["trace"], V._frozen(V.sim_config(r, V.POLICY[r["policy"]])))
        n = len(sims) + 1
        sims.setdefault(key, {**{c: 0 for c in V.ALL}, "pgsteal": 1000 * n, "steal_direct": 10 * n})
    table = V.render(rows, sims).split("## Direct reclaim")[1].split("## 7.3's rotations")[0]
    lines = [line for line in table.splitlines() if line.startswith("| 7.3 | classic |")]
    assert len(lines) == 1
    boots = [r for r in rows if V.is_default(r) and r["policy"] == "classic" and r["kernel"].startswith("7.3.")]
    assert {r["trace"] for r in boots} == {"desktop", "zipf-anon"}
    real = sum(int(r["steal_direct"]) for r in boots) / sum(int(r["pgsteal"]) for r in boots)
    sim = [sims[(r["trace"], V._frozen(V.sim_config(r, "lru")))] for r in boots]
    share = sum(s["steal_direct"] for s in sim) / sum(s["pgsteal"] for s in sim)
    per_trace = sorted(sum(int(r["steal_direct"]) for r in boots if r["trace"] == t)
                       / sum(int(r["pgsteal"]) for r in boots if r["trace"] == t) for t in ("desktop", "zipf-anon"))
    assert lines[0].startswith(f"| 7.3 | classic | {real:.1%} | {share:.1%} | {per_trace[0]:.1%}-{per_trace[1]:.1%} | 1.0%-1.0% |")


@pytest.mark.parametrize("kernel", ["6.1."])
def test_desktop_classic_swaps_in_as_the_boots_do_with_the_boots_active_anon_active__shrink_active_list(
        real_rows, kernel):
    """The classic guests start with ~440 mapped tmpfs pages on the active anon
    list (engine/kernels.py active_anon_pages); reclaim reaches them only after
    shrink_active_list() deactivates them. Filed inactive (engine 0.9.2) the
    simulator swapped desktop's idle system pages instead and swapped in 0.72x
    the boots' mean on 6.1; with them active it was within 20 %. Since engine
    0.10.0 (the zones' holes: runs for ZONE_DMA alone where the allocator falls
    back) 6.1's desktop swaps in within 20 % either way (7,894 with them active,
    8,096 without); 6.12 and 7.3, which read 2 s old list sizes, had stopped
    turning on these pages with engine 0.9.4. Kept as the known answer."""
    rows = [r for r in real_rows if r["trace"] == "desktop" and r["kernel"].startswith(kernel)
            and r["policy"] == "classic" and V.is_default(r)]
    real = sum(float(r["pswpin"]) for r in rows) / len(rows)
    cfg = V.sim_config(rows[0], "lru")
    assert cfg["system_active_pages"] > 400
    active = V.simulate(("desktop", cfg))["pswpin"]
    assert abs(active / real - 1) <= V.TOL, (active, real)


def test_a_spread_guest_is_simulates_machine_for_that_many_more_or_fewer_available_pages(real_rows):
    """validate.SPREAD: sim_config(row, policy, f) is the rule's guest with f
    times its MemAvailable, the machine `simulate --ram-mb` builds for that many
    pages (guest_machine()), not the rule's machine with frames added."""
    from engine.kernels import guest_machine
    row = next(r for r in real_rows if r["trace"] == "anon-loop-192m" and r["kernel"].startswith("6.12."))
    for f in V.SPREAD:
        cfg = V.sim_config(row, "lru_gen", f)
        want = guest_machine("6.12", round(V.ram_mb(row) * 256 * f))
        assert {k: cfg[k] for k in want} == want, f
    assert V.sim_config(row, "lru_gen", 1.0) == V.sim_config(row, "lru_gen")
    small, big = (V.sim_config(row, "lru_gen", f)["ram_pages"] for f in (min(V.SPREAD), max(V.SPREAD)))
    assert small < V.sim_config(row, "lru_gen")["ram_pages"] < big


def test_a_missed_cell_is_in_the_spread_when_a_guest_within_2_percent_meets_the_boot():
    """docs/validation.md "The boots' own spread of MemAvailable": a judged cell
    the rule's machine misses counts as in the spread when one of SPREAD's
    guests is within 20 % of the boot (listed by trace), and a simulated counter
    those guests take more than 25 % apart counts as moved; without the
    spread's simulations there is no section."""
    def row(trace, tag, pgscan):
        return {"trace": trace, "kernel": "6.1.0-56-amd64", "policy": "mglru", "tag": tag, "run": f"{trace}.{tag}",
                "source": "x.csv", "mem_mb": "276", "swap": "disk", "swap_mb": "1024", "swappiness": "60",
                "read_ahead_kb": "128", "pgsteal": "0", "pswpin": "0", "file_in": "0", "pgscan": str(pgscan)}
    rows = [row("loop", "h2s1g", 500_000), row("steady", "h2s1g", 100_000)]
    # the rule's loop machine scans 740k (1.48x: missed); the 0.98x guest 530k (1.06x)
    scanned = {"loop": {1.0: 740_000, 0.98: 530_000, 0.99: 735_000, 1.01: 750_000, 1.02: 745_000},
               "steady": {1.0: 150_000, 0.98: 151_000, 0.99: 150_000, 1.01: 149_000, 1.02: 150_500}}
    sims = {(r["trace"], V._frozen(V.sim_config(r, "lru_gen", f))): {c: 0 for c in V.ALL} | {"pgscan": n}
            for r in rows for f, n in scanned[r["trace"]].items()}
    lines = V.spread(rows, sims)
    # loop's 530-750k are 1.42x apart (moved), steady's 149-151k are not
    assert "| 6.1 | second host | 2 | 0 | 1 | 1 | 1/2 |" in lines
    knife = next(line for line in lines if line.startswith("Missed cells in the spread"))
    assert "loop 6.1 mglru (pgscan)" in knife and "steady" not in knife
    rule_only = {k: v for k, v in sims.items() if k[1] == V._frozen(V.sim_config(rows[0], "lru_gen"))}
    assert V.spread(rows, rule_only) == []


def test_a_missed_mglru_classic_direction_names_the_spread_guest_that_meets_it():
    """docs/validation.md "MGLRU against the classic LRU": a direction the
    rule's guests miss names the first SPREAD multiple at which both
    policies' guests (one --ram-mb for both) meet it (direction_met())."""
    import csv
    with open(V.HERE / "real" / "calibration.csv", newline="") as fh:
        columns = next(csv.reader(fh))

    def row(policy):
        return {c: "0" for c in columns} | {
            "trace": "t", "kernel": "6.1.0-56-amd64", "policy": policy, "tag": "r1", "run": f"t.{policy}",
            "source": "x.csv", "mem_mb": "143", "swap": "disk", "swap_mb": "256", "swappiness": "60",
            "read_ahead_kb": "128", "pgscan": "100000" if policy == "classic" else "40000"}
    by = {p: [row(p)] for p in ("classic", "mglru")}
    # real MGLRU/classic 0.40; the rule's guests 0.90 (missed), 0.99x's 0.50, 1.02x's 0.45
    mglru = {1.0: 90_000, 0.98: 95_000, 0.99: 50_000, 1.01: 88_000, 1.02: 45_000}
    sims = {("t", V._frozen(V.sim_config(by[p][0], V.POLICY[p], f))):
            {c: 0 for c in V.ALL} | {"pgscan": 100_000 if p == "classic" else n}
            for p in by for f, n in mglru.items()}
    assert V.direction_met([100_000, 40_000], [100_000, 90_000]) is False
    assert V.spread_direction(sims, by, "pgscan", [100_000, 40_000]) == 0.99
    assert V.spread_direction(sims, by, "pgscan", [100_000, 200_000]) is None
    rule_only = {k: v for k, v in sims.items() if k[1] in {V._frozen(V.sim_config(by[p][0], V.POLICY[p])) for p in by}}
    assert V.spread_direction(rule_only, by, "pgscan", [100_000, 40_000]) is None
    page = V.render(by["classic"] + by["mglru"], sims)
    assert "| t | 6.1 | 0.40 / 0.90 ✗ (met at 0.99x) |" in page and "(validate.SPREAD; 1 of the 1 missed)" in page


def test_within_reach_counts_the_boots_one_simulated_value_can_meet():
    """One machine stands for all boots of a trace, release and policy (the
    rule): boots more than (1 + TOL) / (1 - TOL) = 1.5x apart cannot all be
    within 20 % of it, and the page's "at best" column counts what can."""
    assert V.within_reach([100.0, 149.0]) == 2
    assert V.within_reach([100.0, 151.0]) == 1
    assert V.within_reach([100.0, 120.0, 140.0, 300.0]) == 3
    assert V.within_reach([100.0, 120.0, 160.0]) == 2
    assert V.within_reach([]) == 0
    assert V.within_reach([0.0, 1763.0]) == 1       # a boot that read nothing: only 0 is near it


def test_rig_rows_joins_the_rigs_summary_row_and_its_logs_start_meminfo_in_the_real_csvs_order(tmp_path):
    import csv

    from validation import rig_rows as R
    cols = R.header()
    rig_cols = [c for c in cols if c not in R.START.values()]
    run = "zipf-anon-s0.8.7.3.4+deb13-amd64.classic.r1"
    summary = {c: str(i) for i, c in enumerate(rig_cols)}
    summary.update(run=run, trace="zipf-anon-s0.8", kernel="7.3.4+deb13-amd64", policy="classic", tag="r1")
    with open(tmp_path / "summary.csv", "w", newline="") as fh:
        # the rig writes its rows with CRLF line ends
        w = csv.DictWriter(fh, fieldnames=rig_cols)
        w.writeheader()
        w.writerow(summary)
    (tmp_path / f"{run}.log").write_text(
        "@@GT MEMINFO_MARK boot MemTotal=1 Shmem=1 AnonPages=1 SReclaimable=1\n"
        "@@GT MEMINFO_MARK start MemTotal=107716 MemFree=65668 Shmem=5700 AnonPages=1290 SReclaimable=1012\n"
        "@@GT MEMINFO_MARK done MemTotal=107716 Shmem=1 AnonPages=2 SReclaimable=3\n")
    [row] = R.rows(tmp_path)
    assert list(row) == cols
    assert (row["shmem_start_kb"], row["anonpages_start_kb"], row["sreclaimable_start_kb"]) == ("5700", "1290", "1012")
    assert all(row[c] == summary[c] for c in rig_cols)
    assert V.profile(row["kernel"]) == "7.3"
    with pytest.raises(ValueError, match="has no run nope"):
        R.rows(tmp_path, ["nope"])
    (tmp_path / f"{run}.log").write_text("@@GT MEMINFO_MARK start MemTotal=1 Shmem=2\n")
    with pytest.raises(ValueError, match="no AnonPages, SReclaimable"):
        R.rows(tmp_path)


def test_every_exported_validation_trace_regenerates_from_the_recipe_in_its_header():
    # validation/traces keeps the replayed traces; the scenario exports carry the
    # recipe (scenario, RAM, seed, length, parameters) that makes them again
    import numpy as np

    from backend.replays import _header    # the export line, as GET /api/replays reads it
    from engine.trace import read_trace
    from engine.workloads import generate
    exported = 0
    for p in sorted((V.HERE / "traces").glob("*.trace.gz")):
        meta = _header(p)
        if not meta:
            continue
        wl = generate(meta["scenario"], meta["ram_pages"], meta["seed"], meta["accesses"], **meta["params"])
        replayed = read_trace(str(p)).accesses
        fields = ["op", "write", "owner", "page"]
        assert np.array_equal(np.asarray(replayed)[fields], np.asarray(wl.accesses)[fields]), p.name
        exported += 1
    assert exported >= 19


def test_a_swap_disk_past_half_full_writes_swapped_in_folios_again_as_the_real_7_3_does__vm_swap_full(real_rows):
    """zipf-anon-x3 (docs/validation.md "A second host") swaps out 130-180 MiB:
    on a 256 MiB disk past half full every swap-in frees its slot
    (do_swap_page() → should_try_to_free_swap(): mem_cgroup_swap_full(),
    7.3 mm/memory.c:4665, :5234), so a folio reclaimed again unchanged is written again;
    on the hidden checks' 1 GiB disk it keeps its slot and is dropped clean.
    The real 7.3's pswpout falls to 0.81x; the simulator's, within 20 % of
    each boot, falls by the same share."""
    rows = {r["swap_mb"]: r for r in real_rows if r["trace"] == "zipf-anon-x3"
            and r["kernel"].startswith("7.3.") and r["policy"] == "classic"}
    assert set(rows) == {"256", "1024"}
    sim = {mb: V.simulate(("zipf-anon-x3", V.sim_config(r, "lru"))) for mb, r in rows.items()}
    for mb, r in rows.items():
        for c in ("pswpout", "pswpin", "pgsteal"):
            assert V.within(sim[mb][c], float(r[c])), (mb, c, sim[mb][c], r[c])
    real = float(rows["1024"]["pswpout"]) / float(rows["256"]["pswpout"])
    simulated = sim["1024"]["pswpout"] / sim["256"]["pswpout"]
    assert real < 0.85 and abs(simulated - real) < 0.05, (real, simulated)
    # the swap-ins do not move: the same folios fault back either way
    assert abs(sim["1024"]["pswpin"] / sim["256"]["pswpin"] - 1) < 0.05


def test_pageoutrun_csv_is_what_the_boots_logs_and_the_simulator_say__balance_pgdat(tmp_path):
    """validation/pageoutrun.csv: each boot's balance_pgdat() runs and kswapd's
    steals from its log's vmstat blocks, beside the simulator's on the rule's
    machine (checked on the 80 MiB boots, whose logs the project keeps); and
    what docs/validation.md "kswapd's runs" reads from it: 6.12's classic kswapd
    reclaims about twice the pages a run that the simulated one does."""
    import csv
    import tarfile
    from validation import pageoutrun as P
    with tarfile.open(V.HERE / "logs" / "session-2026-12-07-80m.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    rows = {r["run"]: r for r in csv.DictReader(open(P.CSV))}
    for run in ("zipf-anon-80m.7.3.4+deb13-amd64.mglru.h2s1g", "anon-loop-80m.6.12.117+deb13-amd64.classic.h2s1g"):
        row = rows[run]
        assert P.real_counters(tmp_path / f"{run}.log") == {c: int(row[f"real_{c}"]) for c in P.COUNTERS}
        real = next(r for r in V.load_real([V.HERE / "real" / "session-2026-12-07-80m.csv"]) if r["run"] == run)
        assert P.simulated((real["trace"], V.sim_config(real, V.POLICY[real["policy"]]))) == \
            {c: int(row[f"sim_{c}"]) for c in P.COUNTERS}
    n, ratio, real_per_run, sim_per_run = P.summary(rows.values())[("6.12", "classic")]
    assert n >= 100 and ratio > 1.5 and real_per_run > 1.8 * sim_per_run


def test_shadow_nodes_csv_is_what_the_rigs_logs_say_and_the_engine_keeps__count_shadow_nodes(tmp_path):
    """validation/shadow-nodes.csv is regenerated, byte for byte, from the second
    host's boots (their /proc/vmstat at the replay's end) and the simulator on the
    validation rule's machines. Its rows hold what docs/kernels.md "Shadow nodes"
    reads: the page cache's shadow-only nodes sit at one per 8 LRU pages once a
    stream or a log has passed (~2,100 on a 64 MiB guest, every release, both
    policies), where the engine keeps them within 20 % of the boot on every 6.1
    replay, and its shrinker frees write-log's 6.1 classic excess as the boot's did
    (workingset_nodereclaim 128 / 129); a trace whose files stay cached (table-
    switch) keeps almost none."""
    import tarfile
    from validation import shadow_nodes as S
    with tarfile.open(V.HERE / "logs" / "session-2026-12-07-host2.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    out = tmp_path / "shadow-nodes.csv"
    assert S.main([*map(str, sorted(tmp_path.glob("*.log"))), "--out", str(out)]) == 0
    assert out.read_text() == S.CSV.read_text()
    rows = S.load()
    by = {r["run"]: {k: int(v) for k, v in r.items() if k.startswith(("workingset", "sim_", "slab"))} for r in rows}
    for release in ("6.1.0-56-amd64", "6.12.117+deb13-amd64", "7.3.4+deb13-amd64"):
        for policy in ("classic", "mglru"):
            r = by[f"write-log.{release}.{policy}.h2"]
            assert 2000 < r["workingset_nodes"] < 2300 and 2000 < r["sim_workingset_nodes"] < 2300
            assert by[f"table-switch.{release}.{policy}.h2"]["sim_workingset_nodes"] < 20
    six = [r for r in rows if r["kernel"].startswith("6.1.")]
    assert len(six) == 64 and all(
        abs(int(r["sim_workingset_nodes"]) - int(r["workingset_nodes"])) <= max(0.2 * int(r["workingset_nodes"]), 100)
        for r in six)
    r = by["write-log.6.1.0-56-amd64.classic.h2"]
    assert r["workingset_nodereclaim"] == 128 and r["sim_workingset_nodereclaim"] == 129

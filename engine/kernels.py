"""Kernel profiles: which Debian kernel release the engine imitates.

A profile is a small table of facts; the engine branches on its ``version``
code (major * 100 + minor, so ``m.kernel < 614`` reads "before v6.14") at the
few points where reclaim changed between the releases. docs/kernels.md lists
every branch with the kernel function and the release it changed in; the
real-kernel rig's recorded counters for each profile are in validation/.
"""
from __future__ import annotations

import math

__all__ = ["DEFAULT_KERNEL", "ENGINE_PACE_OF_GUEST", "FLUSH_TIME_MS", "GUEST_COSTS", "GUEST_FACTS_AVAILABLE_PAGES", "GUEST_MIN_AVAILABLE_PAGES", "GUEST_MLOCKED_PAGES", "GUEST_PCP_PAGES",
           "KERNELS", "PACES", "PACE_DRIFT", "RIG_GUEST_MEM_MB", "guest_costs", "guest_machine", "guest_pcp_pages", "guest_unavailable_pages",
           "kernel_version", "rig_available_mb"]

# key -> facts. "debian" is the package the real-kernel rig boots (its uname -r);
# "source" the linux-source package whose mm/ the branches were read from.
KERNELS = {
    "6.1": {"version": 601, "release": "6.1.192", "debian": "6.1.0-56-amd64",
            "source": "linux-source-6.1 6.1.192-3",
            "title": "Linux 6.1 (Debian 12 bookworm)",
            "boot": {"free_over_available_pages": -1595, "system_pages": 1730, "unmapped_pages": 907, "active_anon_pages": 437,
                     "managed_over_available_pages": 7305, "reclaimable_pages": 2488},
            "pageblocks": {"dma_holes": 224, "normal_holes": 172, "normal_claimable": 966, "fallback_pages": 512}, "large_folios": False},
    "6.12": {"version": 612, "release": "6.12.117", "debian": "6.12.117+deb13-amd64",
             "source": "linux-source-6.12 6.12.117-1",
             "title": "Linux 6.12 (Debian 13 trixie)",
             "boot": {"free_over_available_pages": 403, "system_pages": 1804, "unmapped_pages": 979, "active_anon_pages": 444,
                      "managed_over_available_pages": 7776, "reclaimable_pages": 245},
             "pageblocks": {"dma_holes": 224, "normal_holes": 227, "normal_claimable": 1533, "fallback_pages": 1}, "large_folios": False},
    "7.3": {"version": 703, "release": "7.3.4", "debian": "7.3.4+deb13-amd64",
            "source": "linux-source-7.3 7.3.4-1~bpo13+1",
            "title": "Linux 7.3 (Debian 13 backports)",
            "boot": {"free_over_available_pages": 434, "system_pages": 1915, "unmapped_pages": 1090, "active_anon_pages": 444,
                     "managed_over_available_pages": 10545, "reclaimable_pages": 275},
            "pageblocks": {"dma_holes": 224, "normal_holes": 264, "normal_claimable": 1746, "fallback_pages": 1}, "large_folios": True},
}
DEFAULT_KERNEL = "7.3"

# "boot": what a booted Debian guest of that release holds beside the memory
# available to a workload, measured on the real-kernel rig (validation/real/*.csv,
# each replay's MEMINFO_MARK start line, means over 28-48 boots at MemAvailable
# ~64 MiB; the spread is under 0.03 MiB):
#   free_over_available_pages  MemFree - MemAvailable. si_mem_available() takes
#       totalreserve_pages (watermarks + lowmem_reserve) out of MemFree and adds
#       the reclaimable slab, which the engine has no model of: 6.1 boots with
#       ~9.7 MiB of it (-6.2 MiB), 6.12 and 7.3 with ~1 MiB (+1.6 / +1.7 MiB).
#   system_pages  Shmem + AnonPages: the guest's tmpfs and init, swappable, idle,
#       and the replayer's mlocked buffer (GUEST_MLOCKED_PAGES of them).
#   unmapped_pages  Shmem - Mapped: the tmpfs pages no process maps (the
#       initramfs's modules and the unmapped parts of its programs), which the
#       rig's drop_caches leaves inactive and unreferenced (deactivate_file_folio())
#       and the first scan swaps out; validation/guest_boot.csv, the same lines.
#   active_anon_pages  Active(anon) of the classic boots (437 / 444 / 444, spread
#       under 10 pages): mapped tmpfs pages of the programs that ran, on the active
#       list where drop_caches, which skips mapped folios, left them; the same lines.
#   managed_over_available_pages  the zones' managed pages (the logs' zoneinfo)
#       less 64 MiB, and reclaimable_pages  KReclaimable at the start: what
#       si_mem_available() needs to say how MemFree - MemAvailable grows on a
#       guest sized for more than 64 MiB (guest_unavailable_pages()).
# docs/kernels.md "Boot footprint".
# "pageblocks": the free pages of the guest's zones that lie in pageblocks of another
# migratetype than a workload's pages (movable), measured on the rig's boots
# (validation/pageblocks.py, validation/pageblocks.csv; docs/kernels.md "Watermark
# boost"):
#   dma_holes  ZONE_DMA's one unmovable pageblock: 224 free pages at every replay's
#       start on every release, never claimable (under half a pageblock).
#   normal_holes  the free pages of ZONE_DMA32's unmovable and reclaimable pageblocks,
#       the median of /proc/pagetypeinfo's samples after a replay's first second.
#   normal_claimable  what they hold beyond that when a replay starts (the median):
#       the pageblocks at least half free, which the first fallbacks claim.
#   fallback_pages  the most one fallback of an order-0 movable allocation moves
#       to the movable list: on 6.1 every free page of the pageblock, as its
#       fallbacks find free pages of order >= pageblock_order / 2 (mm_page_alloc_extfrag's
#       fallback_order 5-9: steal_suitable_fallback() -> move_freepages_block());
#       on 6.12 and 7.3, which move a block's pages only when they claim it, the
#       one page (__rmqueue_steal()).
# "large_folios": the release's ext4 caches a file read through read() readahead in
# folios of more than one page (ext4 since v6.16; docs/kernels.md "Large folios").


# The real-kernel rig's guests: their RAM (MiB, the summary's mem_mb) per profile ->
# the MiB available to the workload when a replay starts (MemAvailable), what the
# rig sized them for and `simulate --ram-mb` takes. 64 MiB is the rig's
# replay_mem_mb (shared/realkernel run.sh); 128 MiB what `./run.sh calibrate 128`
# asked for on each release (2026-12-06: MemAvailable a mean 127.7 / 130.1 /
# 127.3 MiB over its four boots; docs/validation.md "Held out at 128 MiB"), 96 MiB
# what `./run.sh calibrate 96` asked for (2026-12-07, on the second host: 96.1 MiB
# at 176; 94.8 at 171 and 97.6 at 191, whence 172 and 189; "Held out at 96 MiB"),
# and 48 and 32 MiB likewise (47.8 at 124, 47.9 at 120, 46.3 at 136, whence 138;
# 32.3 at 108, 31.6 at 103, 29.8 at 117, whence 119; "Held out below 64 MiB"),
# and 256 MiB (255.9 at 341, 253.7 at 337 and 259.0 at 358, whence 339 and 355;
# "Held out at 256 MiB"), and 80 MiB (what the rig asked for: 159 / 156 / 171; "Held
# out at 80 MiB"), and 192 MiB (276 / 274 / 291; "Held out at 192 MiB").
RIG_GUEST_MEM_MB = {"6.1": {108: 32, 124: 48, 143: 64, 159: 80, 176: 96, 208: 128, 276: 192, 341: 256},
                    "6.12": {103: 32, 120: 48, 138: 64, 156: 80, 172: 96, 204: 128, 274: 192, 339: 256},
                    "7.3": {119: 32, 138: 48, 155: 64, 171: 80, 189: 96, 223: 128, 291: 192, 355: 256}}


def rig_available_mb(key: str, mem_mb) -> int | None:
    """The MiB the rig sized a guest of `mem_mb` MiB of RAM under profile `key`
    for (RIG_GUEST_MEM_MB), or None for a size it never calibrated."""
    return RIG_GUEST_MEM_MB.get(key, {}).get(int(mem_mb))


# The size the profiles' boot facts are measured at: the rig's default guests,
# 64 MiB available (guest_machine() moves MemFree - MemAvailable from there).
GUEST_FACTS_AVAILABLE_PAGES = 16384
# The smallest guest: 32 MiB available. The rig boots guests sized for 32 and 48
# MiB as readily as for 64 (docs/validation.md "Held out below 64 MiB"), and a
# guest's ZONE_DMA (its first 16 MiB) is already half of such a machine's frames;
# below it the machine is bare, as a teaching example's is (~7.5 MiB of system
# pages would be most of its memory).
GUEST_MIN_AVAILABLE_PAGES = 8192
# Of the system pages, the ones mlocked: the rig's replayer mlocks its 1 MiB
# trace buffer (shared/realkernel gtwork.c, RP_BUF), so every replay starts with
# Unevictable and Mlocked at 1,024 kB and nr_unevictable at 256 (all 118 logs,
# every release). They are part of AnonPages but sit on LRU_UNEVICTABLE: never
# reclaimed, and not in the anon lists workingset_test_recent() adds to a file
# refault's workingset size (docs/kernels.md "Boot footprint").
GUEST_MLOCKED_PAGES = 256


# The pace of the rig's guests (QEMU TCG, two vCPUs on a two-core host), one
# table for the three kernels, in ns: the non-negative least-squares fit over
# the 1,180 tenths of the 118 replays in validation/real/*.csv (their `@@GT
# MARK` lines, validation/guest_marks.csv; validation/guest_costs.py) of two
# clocks at once: the replaying process's wall time as the sum of what it did,
# and, in the 1,037 tenths with direct reclaim, kswapd's as what it scanned.
#   access        an A record (3.0 us; the replayer's utime is 1-3 us a record)
#   mmap_access   an M/X record, whatever it finds, beside its faults (118 us)
#   read_hit      a pread/pwrite call (34 us)
#   minor_fault   the process's minor faults (2.1 us)
#   swap_read     a swap-in from the virtio swap disk (273 us)
#   file_read     a read() miss or major fault: the call and the page it waits
#                 for (34 + 1.3 us); readahead_page: every other page read (1.3 us)
#   scan_folio    a folio scanned, by kswapd or direct reclaim (81 us: the
#                 guests' kswapd scanned a median 7-16k folios a second while
#                 direct reclaim ran)
#   swap_write, file_write   a page written out (51 us), as the write's latency
# walk_pte and direct_stall keep their defaults (no counter in the logs).
# docs/validation.md "The guests' pace".
GUEST_COSTS = {"access": 2_962, "mmap_access": 117_630, "read_hit": 34_345, "minor_fault": 2_119,
               "swap_read": 273_259, "file_read": 34_345 + 1_320, "readahead_page": 1_320,
               "scan_folio": 81_428, "swap_write": 51_123, "file_write": 51_123}
# mm/memcontrol.c FLUSH_TIME (2 * HZ): the period of flush_memcg_stats_dwork(),
# how old the counters 6.12's and 7.3's classic reclaim reads may be (config
# flush_time_ms; docs/kernels.md "Classic LRU"). The period is the guest's
# time: a machine at the guests' measured pace flushes every FLUSH_TIME of its
# clock, one at the engine's pace every FLUSH_TIME x ENGINE_PACE_OF_GUEST.
FLUSH_TIME_MS = 2000
# Where in that cycle a replay starts: the rig's guests ran their first periodic
# flush a mean FLUSH_FIRST_SHARE of FLUSH_TIME after the replay's start (0.02-0.98
# over 20 boots of 6.12 and 7.3 traced with validation/rig-trace-stats-flush.patch,
# validation/stats-flush.csv: the deferrable worker's phase drifts from boot to
# boot), and the ratelimited path never flushed. A guest's workload starts on a
# fresh copy and is flushed first that far into the period (config flush_first_ms;
# before engine 0.9.4 a whole period in, the latest a boot can see).
FLUSH_FIRST_SHARE = 0.42
# The engine's pace against the guests': at the engine's own costs a replay
# takes a median this fraction of the rig's elapsed time for it (engine seconds
# per guest second over the fitted replays with the default knobs, simulated
# without the flush; validation/guest_costs.py engine-pace). The flush, which
# the kernel runs every FLUSH_TIME of the guest's time, is then as old, in
# records, as on the rig (docs/validation.md "The stats flush at the engine's
# pace"). A measurement, refitted when the engine's median leaves it by more than
# PACE_DRIFT: the boots of one trace, release and policy take a median 10 % more
# or less than their mean (validation/guest_costs.py elapsed_spread()), so a
# smaller drift is within what the guests' own pace does from boot to boot
# (docs/validation.md "Look-around's isolated folios").
ENGINE_PACE_OF_GUEST = {"6.1": 0.0974, "6.12": 0.1889, "7.3": 0.1024}
PACE_DRIFT = 0.10
# the keys that belong to the rig's virtio disks, not to its CPUs
_SWAP_DEVICE_COSTS = ("swap_read", "swap_write")
_DATA_DISK_COSTS = ("file_read", "readahead_page", "file_write")


def guest_costs(swap_kind: str = "ssd") -> dict:
    """GUEST_COSTS for a guest whose swap device is `swap_kind`: the rig's swap
    disk is a virtio disk ("ssd"); another kind keeps its own swap latencies
    (engine/config.py default_costs()), and "hdd" its own data disk too."""
    out = dict(GUEST_COSTS)
    drop = () if swap_kind == "ssd" else _SWAP_DEVICE_COSTS
    if swap_kind == "hdd":
        drop += _DATA_DISK_COSTS
    for k in drop:
        del out[k]
    return out


# A guest's clock: the engine's own costs (a machine of today's hardware), or
# the rig's TCG guests' measured pace; 6.12/7.3's stats flush runs on either
# every 2 s of the guest's time (FLUSH_TIME_MS, ENGINE_PACE_OF_GUEST). The
# rig's pace is opt-in: it moves 6.12's classic LRU closer to the rig (60 -> 72
# of 87 judged cells) but turns desktop's MGLRU/classic swap-in ratio on 6.12
# and 7.3 the wrong way round (real 0.67 / 0.78, simulated 1.90 / 1.80), and a
# folio scanned in 81 us is the emulator's, not a kernel's (docs/validation.md
# "The guests' pace").
PACES = ("engine", "rig")

# Guests with these multiples of a guest's MemAvailable: the spread of the real
# boots' own. The rig's default-knob boots start their replays with 0.971-1.019x
# the MemAvailable it sized them for (5th-95th percentile of 804 boots), and a
# loop's MGLRU on 6.1 or 6.12 goes from one outcome to the other within it, on
# the boots as in the engine (docs/validation.md "The loop's two outcomes").
# `simulate --spread` and `make validate` simulate them beside the guest.
GUEST_SPREAD = (0.98, 0.99, 1.01, 1.02)


def spread_is_wide(values) -> bool:
    """A counter those guests take more than 25 % apart: a result on a knife
    edge (`simulate --spread`'s knife_edge, docs/validation.md's "moved")."""
    return max(values) > 1.25 * max(min(values), 1)


def rig_counters(vmstat: dict) -> dict:
    """The four counters the real-kernel rig's summary judges, from a vmstat
    dict, as its replay.py sums them: scans and steals of kswapd and direct
    reclaim, swap-ins, and pages read from storage (pgpgin counts KiB) less
    the swap-ins."""
    v = vmstat
    return {"pgscan": v["pgscan_kswapd"] + v["pgscan_direct"],
            "pgsteal": v["pgsteal_kswapd"] + v["pgsteal_direct"],
            "pswpin": v["pswpin"],
            "file_in": max(0, v["pgpgin"] - 4 * v["pswpin"]) // 4}


# Compaction's migrations on the rig's 7.3 guests (config compaction_migrate_every):
# one LRU folio migrated, and so added to the LRU again, per that many pages read
# into large folios, whose high-order allocations compact memory. Fitted so that
# the 7.3 calibration replays migrate as many pages (pgmigrate_success) as the
# real boots did (validation/compaction.py --fit); 6.1 and 6.12 read no large
# folios (docs/kernels.md "Large folios").
GUEST_COMPACTION_MIGRATE_EVERY = {"6.1": 0, "6.12": 0, "7.3": 25}


ZONE_DMA_MANAGED_PAGES = 3840     # every guest's zoneinfo; a bare machine's ZONE_DMA from 64 MiB up (engine/config.py)
LOWMEM_RESERVE_RATIO_DMA = 256    # sysctl_lowmem_reserve_ratio[ZONE_DMA]
WATERMARK_SCALE_FACTOR = 10


def min_free_kbytes(lowmem_kbytes: int) -> int:
    """calculate_min_free_kbytes() (7.3 page_alloc.c:6748): int_sqrt(16 x the
    lowmem kB), clamped to 128 kB .. 256 MiB."""
    return min(max(math.isqrt(lowmem_kbytes * 16), 128), 262144)


def watermark_step(wmin: int, pages: int) -> int:
    """__setup_per_zone_wmarks() (:6636): low is min plus this, high low plus
    this again: a quarter of min, or watermark_scale_factor of the pages."""
    return max(wmin >> 2, pages * WATERMARK_SCALE_FACTOR // 10000)


def guest_unavailable_pages(key: str, available_pages: int) -> int:
    """What si_mem_available() leaves out of MemFree when a guest of profile `key`
    sized for `available_pages` starts: totalreserve_pages less the part of the
    reclaimable slab it counts in (7.3 mm/show_mem.c:33-73, 6.12 :32-72, 6.1
    page_alloc.c:6036), on the watermarks the kernel sets for the guest's managed
    pages: min_free_kbytes(), __setup_per_zone_wmarks() (each zone's share of
    the min mark, low and high watermark_step() apart), setup_per_zone_lowmem_reserve()
    (:6591; ZONE_DMA keeps ZONE_DMA32's managed pages / 256) and
    calculate_totalreserve_pages() (:6541; each zone's high mark plus its largest
    reserve). The file LRU is empty when a replay starts (drop_caches). On the
    rig's boots these reproduce MemAvailable to the page at 64 and 128 MiB; the
    profile's boot facts are measured at 64 MiB, and guest_machine() adds the
    difference this makes at another size (docs/validation.md "Held out at 128 MiB")."""
    boot = KERNELS[key]["boot"]
    managed = available_pages + boot["managed_over_available_pages"]
    pages_min = min_free_kbytes(managed * 4) >> 2
    totalreserve = low = 0
    for zone_pages, reserve in ((ZONE_DMA_MANAGED_PAGES, (managed - ZONE_DMA_MANAGED_PAGES) // LOWMEM_RESERVE_RATIO_DMA),
                                (managed - ZONE_DMA_MANAGED_PAGES, 0)):
        wmin = pages_min * zone_pages // managed
        step = watermark_step(wmin, zone_pages)
        low += wmin + step
        totalreserve += min(zone_pages, wmin + 2 * step + reserve)
    reclaimable = boot["reclaimable_pages"]
    return totalreserve - (reclaimable - min(reclaimable // 2, low))


# The pages a guest's per-CPU free lists hold when a replay starts and hand back
# once kswapd first runs (config pcp_pages): by the MiB available to the workload,
# the median growth of the boots' free pages and LRU lists from the replay's start
# to its marks after the first reclaim (validation/pcp_pages.py,
# validation/pcp-pages.csv; docs/kernels.md "Per-CPU lists"). 6.1's lists are not
# tuned by nr_pcp_high() (v6.7) and its boots grow by none (-169 to +9 pages).
GUEST_PCP_PAGES = {"6.1": {},
                   "6.12": {32: 502, 48: 408, 64: 384, 80: 617, 96: 756, 128: 545, 192: 1270, 256: 439},
                   "7.3": {32: 542, 48: 794, 64: 925, 80: 1121, 96: 1396, 128: 1740, 192: 1658, 256: 1949}}


def guest_pcp_pages(key: str, available_pages: int) -> int:
    """GUEST_PCP_PAGES of profile `key` for a guest sized for `available_pages`:
    linear between the sizes measured, the nearest one's beyond them."""
    table = sorted(GUEST_PCP_PAGES[key].items())
    if not table:
        return 0
    mb = available_pages / 256
    if mb <= table[0][0]:
        return table[0][1]
    for (lo, plo), (hi, phi) in zip(table, table[1:]):
        if mb <= hi:
            return round(plo + (phi - plo) * (mb - lo) / (hi - lo))
    return table[-1][1]


def guest_machine(key: str, available_pages: int, swap_kind: str = "ssd", pace: str = "engine") -> dict:
    """The config keys of a guest of profile `key` on which `available_pages`
    are available to the workload when it starts (MemAvailable, the way the
    real-kernel rig sizes its guests): the frames the workload can take once
    the system's pages are swapped out, those pages, faulted in at boot (the
    replayer's mlocked buffer among them, never swapped out, and the tmpfs
    pages no process maps), the pages its per-CPU lists hand back once reclaim
    runs (guest_pcp_pages()), its zones' free pages in pageblocks of other migratetypes
    (the page-allocator fallbacks that boost a zone's watermarks) and compaction's
    migrations, the memcg stats flush period on the clock of `pace` (2 s of the
    guest's time), and with `pace` "rig" the rig's guests' pace (guest_costs(swap_kind)).
    Every guest has x86_64's ZONE_DMA, whatever its size. Below
    GUEST_MIN_AVAILABLE_PAGES, exactly `available_pages` frames at the engine's
    default costs."""
    if pace not in PACES:
        raise ValueError(f"pace must be one of {', '.join(PACES)}, got {pace!r}")
    if available_pages < GUEST_MIN_AVAILABLE_PAGES:
        return {"ram_pages": available_pages, "system_pages": 0}
    boot = KERNELS[key]["boot"]
    blocks = KERNELS[key]["pageblocks"]
    system = boot["system_pages"]
    # MemFree - MemAvailable as measured at 64 MiB, and as si_mem_available() moves it
    free_over_available = (boot["free_over_available_pages"] + guest_unavailable_pages(key, available_pages)
                           - guest_unavailable_pages(key, GUEST_FACTS_AVAILABLE_PAGES))
    pcp = guest_pcp_pages(key, available_pages)
    machine = {"ram_pages": available_pages + free_over_available + system + pcp, "pcp_pages": pcp,
               "zone_dma_pages": ZONE_DMA_MANAGED_PAGES,
               "system_pages": system, "system_mlocked_pages": GUEST_MLOCKED_PAGES,
               "system_unmapped_pages": boot["unmapped_pages"],
               "system_active_pages": boot["active_anon_pages"],
               "zone_dma_holes": blocks["dma_holes"], "zone_normal_holes": blocks["normal_holes"],
               "zone_normal_claimable": blocks["normal_claimable"], "zone_hole_chunk": blocks["fallback_pages"],
               "compaction_migrate_every": GUEST_COMPACTION_MIGRATE_EVERY[key]}
    flush = FLUSH_TIME_MS if pace == "rig" else round(FLUSH_TIME_MS * ENGINE_PACE_OF_GUEST[key])
    machine.update(flush_time_ms=flush, flush_first_ms=round(flush * FLUSH_FIRST_SHARE))
    if pace == "rig":
        machine["costs"] = guest_costs(swap_kind)
    return machine


def kernel_version(key: str) -> int:
    """The version code the engine branches on (601, 612, 703)."""
    return KERNELS[key]["version"]

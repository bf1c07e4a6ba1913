"""Simulator configuration: validation, defaults and derived watermarks.

Everything is checked before anything is allocated; a bad value raises
ConfigError (a ValueError) whose message starts with the offending key.
"""
from __future__ import annotations

from engine.kernels import DEFAULT_KERNEL, KERNELS, ZONE_DMA_MANAGED_PAGES, min_free_kbytes, watermark_step

__all__ = ["ConfigError", "DEFAULT_COSTS", "KERNELS", "SWAP_KINDS", "default_costs", "derive_watermarks", "normalize_config"]


class ConfigError(ValueError):
    """A bad simulator configuration; ``.key`` names the offending key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


SWAP_KINDS = ("none", "zram", "ssd", "hdd")
COST_KEYS = ("access", "minor_fault", "read_hit", "file_read", "file_write", "swap_read",
             "swap_write", "scan_folio", "walk_pte", "direct_stall", "readahead_page",
             "mmap_access")
MAX_RAM_PAGES = 16 << 20
DEFAULT_RA_PAGES = 32              # VM_READAHEAD_PAGES: read_ahead_kb 128
MIN_RAM_PAGES = 64
ZONE_DMA_MIN_RAM = 16384           # 64 MiB: below it, one zone


def default_costs(swap_kind: str = "zram") -> dict:
    """Simulated nanoseconds per operation; storage and swap latencies follow swap_kind."""
    file_io = 5_000_000 if swap_kind == "hdd" else 80_000
    swap_read, swap_write = {"none": (0, 0), "zram": (5_000, 0), "ssd": (80_000, 80_000),
                             "hdd": (5_000_000, 5_000_000)}[swap_kind]
    return {"access": 50, "minor_fault": 500, "read_hit": 200, "file_read": file_io,
            "file_write": file_io, "swap_read": swap_read, "swap_write": swap_write,
            "scan_folio": 100, "walk_pte": 10, "direct_stall": 0, "readahead_page": 0,
            "mmap_access": 0}


DEFAULT_COSTS = default_costs("zram")


def derive_watermarks(ram_pages: int) -> dict:
    """Mirrors mm/page_alloc.c:calculate_min_free_kbytes() + __setup_per_zone_wmarks();
    the node's marks (the simulator splits them between its zones in proportion
    to their pages); simplified: watermark_scale_factor 10, no boost."""
    wmin = min_free_kbytes(ram_pages * 4) >> 2
    delta = watermark_step(wmin, ram_pages)
    return {"min": wmin, "low": wmin + delta, "high": wmin + 2 * delta}


def _int(key, value, lo=None, hi=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"must be an integer, got {value!r}")
    if lo is not None and value < lo:
        raise ConfigError(key, f"must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise ConfigError(key, f"must be <= {hi}, got {value}")
    return value


def normalize_config(config: dict | None) -> dict:
    """Return the full config (every key filled in) or raise ConfigError."""
    from engine.registry import POLICIES, POLICY_INFO, normalize_knobs

    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError("config", "must be a dict")
    known = {"policy", "kernel", "ram_pages", "zone_dma_pages", "system_pages", "system_mlocked_pages", "system_unmapped_pages", "system_active_pages", "zone_dma_boost_every", "zone_dma_holes", "zone_normal_holes", "zone_normal_claimable", "zone_hole_chunk", "compaction_migrate_every", "pcp_pages", "swap_pages", "swap_kind", "swappiness", "watermarks",
             "readahead_pages", "large_folios", "costs", "events_capacity", "flush_time_ms", "flush_first_ms"}
    for key in config:
        if key not in known and key not in POLICY_INFO:
            raise ConfigError(str(key), "unknown configuration key")
    out = {}
    policy = config.get("policy", "lru")
    if policy not in POLICIES:
        raise ConfigError("policy", f"unknown policy {policy!r}; known: {sorted(POLICIES)}")
    out["policy"] = policy
    kernel = config.get("kernel", DEFAULT_KERNEL)
    if kernel not in KERNELS:
        raise ConfigError("kernel", f"unknown kernel profile {kernel!r}; known: {', '.join(KERNELS)}")
    out["kernel"] = kernel
    ram = _int("ram_pages", config.get("ram_pages", 65536), MIN_RAM_PAGES, MAX_RAM_PAGES)
    out["ram_pages"] = ram
    # x86_64 puts the first 16 MiB in ZONE_DMA (3,840 managed pages on every
    # replay's guest, docs/kernels.md); smaller machines are modelled with one zone
    default_dma = ZONE_DMA_MANAGED_PAGES if ram >= ZONE_DMA_MIN_RAM else 0
    out["zone_dma_pages"] = _int("zone_dma_pages", config.get("zone_dma_pages", default_dma), 0, ram // 2)
    # the system's own swappable pages, resident before the workload (docs/kernels.md
    # "Boot footprint"); at most half of RAM so the workload always has room
    out["system_pages"] = _int("system_pages", config.get("system_pages", 0), 0, ram // 2)
    # of them, mlocked: on LRU_UNEVICTABLE, never reclaimed (the rig's replayer mlocks
    # its 1 MiB trace buffer, docs/kernels.md "Boot footprint")
    out["system_mlocked_pages"] = _int("system_mlocked_pages", config.get("system_mlocked_pages", 0),
                                       0, out["system_pages"])
    # of the others, the tmpfs pages no process maps: no PTE can be found young, and
    # the guest's drop_caches left them inactive and unreferenced (docs/kernels.md
    # "Boot footprint")
    out["system_unmapped_pages"] = _int("system_unmapped_pages", config.get("system_unmapped_pages", 0),
                                        0, out["system_pages"] - out["system_mlocked_pages"])
    # of the mapped ones, on the classic LRU's active list at boot, as the guests'
    # Active(anon) (docs/kernels.md "Boot footprint")
    out["system_active_pages"] = _int("system_active_pages", config.get("system_active_pages", 0),
                                      0, out["system_pages"] - out["system_mlocked_pages"] - out["system_unmapped_pages"])
    # ZONE_DMA's watermark boosts at a fixed rate (docs/kernels.md "Watermark
    # boost"): one per this many pages ZONE_DMA hands out, whatever its free lists
    # hold, 0 = never. A stand-in for the page-allocator fallbacks, which the
    # zones' holes below model; booted guests had fitted rates up to engine 0.9.6
    out["zone_dma_boost_every"] = _int("zone_dma_boost_every", config.get("zone_dma_boost_every", 0), 0, 1 << 30)
    # each zone's free pages in pageblocks of another migratetype (the kernel's
    # unmovable and reclaimable blocks, /proc/pagetypeinfo): a movable allocation
    # takes one only when the zone has no other free page, and that fallback boosts
    # the zone's watermarks (docs/kernels.md "Watermark boost"); 0 = none. A
    # booted guest gets its release's (guest_machine())
    out["zone_dma_holes"] = _int("zone_dma_holes", config.get("zone_dma_holes", 0), 0, out["zone_dma_pages"])
    # and, beside them, the free pages of ZONE_NORMAL's pageblocks of another
    # migratetype that are at least half free: the first fallbacks claim them
    # for the movable type a pageblock at a time (try_to_claim_block()). Both
    # share half the zone; the claimable pages are checked first, so a hole
    # count too large for what a profile claims is refused by its own name
    half = (ram - out["zone_dma_pages"]) // 2
    out["zone_normal_claimable"] = _int("zone_normal_claimable", config.get("zone_normal_claimable", 0), 0, half)
    out["zone_normal_holes"] = _int("zone_normal_holes", config.get("zone_normal_holes", 0),
                                    0, half - out["zone_normal_claimable"])
    # the pages one such fallback moves to the movable free list (the order of the
    # free page it takes, moved whole: steal_suitable_fallback() / try_to_claim_block())
    out["zone_hole_chunk"] = _int("zone_hole_chunk", config.get("zone_hole_chunk", 1), 1, 512)
    # compaction's migrations (docs/kernels.md "Large folios"): one LRU folio migrated
    # per this many pages read into large folios, 0 = never; only a machine with
    # large folios reads any (a 7.3 guest gets its rate, guest_machine())
    out["compaction_migrate_every"] = _int("compaction_migrate_every",
                                           config.get("compaction_migrate_every", 0), 0, 1 << 30)
    # the pages the per-CPU free lists hold until reclaim first runs (docs/kernels.md
    # "Per-CPU lists"), taken from ZONE_NORMAL's free pages; 0 = none. A booted 6.12 or
    # 7.3 guest gets its release's (guest_machine())
    out["pcp_pages"] = _int("pcp_pages", config.get("pcp_pages", 0), 0,
                            max(0, ram - out["zone_dma_pages"] - out["zone_normal_claimable"]
                                - out["zone_normal_holes"] - out["system_pages"]) // 2)
    kind = config.get("swap_kind", "zram")
    if kind not in SWAP_KINDS:
        raise ConfigError("swap_kind", f"must be one of {SWAP_KINDS}, got {kind!r}")
    out["swap_kind"] = kind
    swap = _int("swap_pages", config.get("swap_pages", 0 if kind == "none" else ram // 2), 0, 1 << 28)
    if kind == "none" and swap:
        raise ConfigError("swap_pages", "must be 0 with swap_kind 'none'")
    out["swap_pages"] = swap
    out["swappiness"] = _int("swappiness", config.get("swappiness", 60), 0, 200)
    wm = config.get("watermarks")
    if wm is None:
        wm = derive_watermarks(ram)
    else:
        if not isinstance(wm, dict) or set(wm) != {"min", "low", "high"}:
            raise ConfigError("watermarks", "must be a dict with exactly the keys min, low, high")
        wm = {k: _int(f"watermarks.{k}", wm[k], 0, ram - 1) for k in ("min", "low", "high")}
        if not wm["min"] < wm["low"] < wm["high"]:
            raise ConfigError("watermarks", f"must be strictly increasing min < low < high, got {wm}")
    if wm["high"] >= ram:
        raise ConfigError("watermarks", f"high ({wm['high']}) must be below ram_pages ({ram})")
    out["watermarks"] = dict(wm)
    # the block device's ra_pages: read_ahead_kb / 4, the kernel's default 128 KiB
    out["readahead_pages"] = _int("readahead_pages", config.get("readahead_pages", DEFAULT_RA_PAGES), 0, 1024)
    # page-cache folios larger than a page (docs/kernels.md "Large folios"): 7.3's
    # ext4 reads a file through read() readahead into folios of up to ilog2(ra_pages)
    # order (v6.16); 6.1's and 6.12's ext4 has none. 0 is a 7.3 guest whose data disk
    # is mounted data=journal, as the rig's `nolf` boots are.
    lf = config.get("large_folios", KERNELS[kernel]["large_folios"])
    if lf not in (0, 1) or isinstance(lf, float):
        raise ConfigError("large_folios", f"must be 0 or 1 (or a bool), got {lf!r}")
    if lf and not KERNELS[kernel]["large_folios"]:
        raise ConfigError("large_folios", f"kernel {kernel}'s ext4 has no large folios")
    out["large_folios"] = int(lf)
    # mm/memcontrol.c FLUSH_TIME: how stale 6.12's and 7.3's lruvec_page_state()
    # reads may get; 0 reads the counters exact (the default clock's costs are
    # nominal, so a period on it would mean nothing)
    out["flush_time_ms"] = _int("flush_time_ms", config.get("flush_time_ms", 0), 0, 600_000)
    # where in that cycle the workload starts: the first flush this long into it
    # (the copy it starts with is fresh); by default one whole period. Without a
    # period there is nothing to place, and the key means nothing (0).
    first = _int("flush_first_ms", config.get("flush_first_ms", out["flush_time_ms"]), 0, 600_000)
    if first > out["flush_time_ms"] > 0:
        raise ConfigError("flush_first_ms", f"must be <= flush_time_ms ({out['flush_time_ms']}), got {first}")
    out["flush_first_ms"] = first if out["flush_time_ms"] else 0
    costs = default_costs(kind)
    given = config.get("costs", {})
    if not isinstance(given, dict):
        raise ConfigError("costs", "must be a dict")
    for k, v in given.items():
        if k not in COST_KEYS:
            raise ConfigError(f"costs.{k}", "unknown cost")
        costs[k] = _int(f"costs.{k}", v, 0, 10**12)
    out["costs"] = costs
    cap = _int("events_capacity", config.get("events_capacity", 65536), 16, 1 << 24)
    if cap & (cap - 1):
        raise ConfigError("events_capacity", f"must be a power of two, got {cap}")
    out["events_capacity"] = cap
    # policy knobs live under the policy's key (config["lru_gen"] = MGLRU's);
    # the selected policy's are filled in, any other policy's given are checked
    for key in POLICY_INFO:
        if key == policy or key in config:
            knobs = normalize_knobs(key, config.get(key))
            if knobs or key in config:
                out[key] = knobs
    return out

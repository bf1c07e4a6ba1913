# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# The Simulator: owns every buffer of the machine (struct mem), plays the
# kernel core (faults, page cache, swap cache, watermarks, kswapd, direct
# reclaim, OOM, flushers, writeback completion) and calls the policy at the
# kernel's branch points. See docs/engine-api.md for the Python API and
# docs/engine.md for what is simplified.
#
# Two actors with their own clocks interleave deterministically: before each
# workload access, kswapd runs its scan batches while its clock is <= the
# workload's. Reclaim is resumable: the kernel's nested loops (balance_pgdat's
# and do_try_to_free_pages' priority loops, shrink_lruvec's rounds) are state
# in sim_state / scan_control, advanced one scan batch per call of advance().

import hashlib

import numpy as np

from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memset, memcpy
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from engine._types cimport *
from engine.core cimport *
from engine.policy cimport ReclaimPolicy, STEP_DONE, STEP_BATCH, STEP_BATCH_LAST, STEP_AGED, STEP_OOM

from engine.config import ConfigError, normalize_config
from engine.kernels import kernel_version
from engine.names import FOLIO_FLAGS, VMSTAT_NAMES, LOCATIONS

STATE_MAGIC = b"RLABSTAT"
# C enum sizes, for checking the name tables of engine/names.py
ENUM_COUNTS = {"vmstat": NR_VMSTAT_ITEMS, "event_kinds": NR_EV_KINDS, "kernel_fns": NR_KFNS,
               "reasons": NR_REASONS, "locations": LOC_NONE + 1}
# 3: the image names its policy by key (32 bytes after the header)
# 4: ZONE_DMA's free list and zone watermarks in the header
# 5: the event record grew to 80 bytes (decision inputs)
# 6: per-file counters (file_ra_state.nr_read, nr_refault, nr_evict)
# 8: 7.3's cost counters in the lruvec; 6.1's MGLRU fields in scan_control
# 9: mem.nr_swap_shadows (was padding)
# 10: cost_table.readahead_page and .mmap_access; lruvec.stat (the memcg's flushed counters)
# 12: a large folio is one LRU entry: PG_tail pages name their head in `next`
# 13: file_ra_state.io_start, io_nr, io_done_ns (readahead reads in flight)
# 14: ZONE_DMA's watermark boost; kswapd's highest_zoneidx; scan_control.dma_only;
#     compaction's migrations; vmstat pgmigrate_success
# 15: FOLIO_MIGRATED; compaction's deferral (mem.compact_defer_shift, compact_considered)
# 16: vmstat pgrotate_anon / pgrotate_file (7.3); lruvec.rotated gone (they are its counters)
# 17: the zones' holes (free pages of other migratetypes) and ZONE_NORMAL's watermark boost
# 18: FOLIO_SHMEM (the system's unmapped tmpfs folios); scan_control.gfp_nofs
# 19: mem.nr_pcp_held (the per-CPU lists' pages, config pcp_pages)
# 20: vmstat pgskip_dma (appended); pgskip_normal is pgskip_dma32, allocstall_normal allocstall_movable
STATE_VERSION = 20
STATE_KEY_BYTES = 32
# mm/filemap.c: stop mmap read-around for a file that misses this much more than it hits
cdef enum:
    MMAP_LOTSAMISS = 100
    # mm/compaction.c: defer_compaction() skips at most 1 << 6 attempts
    COMPACT_MAX_DEFER_SHIFT = 6
    # the engine's bound on one migration attempt's scan: 16 pageblocks (32 MiB)
    COMPACT_SCAN_FRAMES = 16 * PAGEBLOCK_NR_PAGES
    # mm/memory.c: fault_around_bytes (64 KiB) / PAGE_SIZE, the window
    # do_fault_around() hands to filemap_map_pages()
    FAULT_AROUND_PAGES = 16
UNITS = ("access", "scan", "shrink", "aging")

ctypedef struct access_rec:       # ACCESS_DTYPE
    uint8_t op
    uint8_t write
    uint16_t _pad
    uint32_t owner
    uint64_t page

ACCESS_DTYPE = np.dtype([("op", "u1"), ("write", "u1"), ("_pad", "u2"), ("owner", "u4"), ("page", "u8")])


cdef dict _event_layout():
    cdef vm_event_rec e
    cdef char* b = <char*>&e
    return {
        "names": ["seq", "time_ns", "nr_access", "batch", "index", "pfn", "mapping", "kind",
                  "reason", "fn", "src", "dst", "src_seq", "dst_seq",
                  "why_a", "why_b", "why_c", "why_d", "refs", "tier", "tier_idx", "why"],
        "formats": ["u8", "i8", "u8", "u8", "u8", "i4", "u4", "u2", "u2", "u2", "i1", "i1", "i4", "i4",
                    "i4", "i4", "u2", "u2", "i1", "i1", "i1", "u1"],
        "offsets": [<char*>&e.seq - b, <char*>&e.time_ns - b, <char*>&e.nr_access - b, <char*>&e.batch - b,
                    <char*>&e.index - b, <char*>&e.pfn - b, <char*>&e.mapping - b, <char*>&e.kind - b,
                    <char*>&e.reason - b, <char*>&e.fn - b, <char*>&e.src - b, <char*>&e.dst - b,
                    <char*>&e.src_seq - b, <char*>&e.dst_seq - b,
                    <char*>&e.why_a - b, <char*>&e.why_b - b, <char*>&e.why_c - b, <char*>&e.why_d - b,
                    <char*>&e.refs - b, <char*>&e.tier - b, <char*>&e.tier_idx - b, <char*>&e.why - b],
        "itemsize": sizeof(vm_event_rec),
    }


EVENT_DTYPE = np.dtype(_event_layout())
if EVENT_DTYPE.itemsize != sizeof(vm_event_rec):
    raise ImportError("EVENT_DTYPE does not match struct vm_event_rec")
FOLIO_DTYPE = np.dtype({"names": ["flags", "prev", "next", "mapping", "swap", "mapcount", "_pad", "index"],
                        "formats": ["u4", "i4", "i4", "u4", "u4", "u2", "u2", "u8"],
                        "offsets": [0, 4, 8, 12, 16, 20, 22, 24], "itemsize": sizeof(folio)})
if sizeof(folio) != 32:
    raise ImportError("struct folio is not 32 bytes")

cdef enum:
    KS_SLEEP = 0                  # kswapd fully asleep (schedule())
    KS_RUN = 1                    # in balance_pgdat()
    KS_NAP = 2                    # kswapd_try_to_sleep(): the HZ/10 short sleep
    K_START = 0                   # balance_pgdat(): entry
    K_LOOP = 1                    # top of the priority loop: balanced?
    K_AGE = 2                     # kswapd_age_node()
    K_SHRINK_BEGIN = 3            # kswapd_shrink_node(): start a pass
    K_SHRINK = 4                  # in the pass
    DR_IDLE = 0
    DR_BEGIN = 1                  # start a shrink_node pass at dsc.priority
    DR_PASS = 2
    NEED_RECLAIM = 1
    PENDING_NONE = 0
    PENDING_WORKLOAD = 1
    PENDING_HOOK = 2

cdef extern from *:
    """
    #define RL_HZ_TENTH_NS (100LL * 1000 * 1000)
    #define RL_PREFETCH(p) __builtin_prefetch((const void*)(p), 0, 1)
    """
    const int64_t HZ_TENTH_NS "RL_HZ_TENTH_NS"
    void prefetch "RL_PREFETCH"(const void* p) noexcept nogil

cdef enum:
    PF_FAR = 40                   # run-ahead prefetch: hash slots of access i + 40
    PF_MID = 20                   # the PTE / page-cache value of access i + 20 (< 32: the hint ring)
    PF_NEAR = 6                   # the folio of access i + 6

ctypedef struct sim_state:
    int64_t position              # accesses of the workload consumed
    int64_t nr_workload
    int32_t pending               # PENDING_*: an access waiting for a frame (direct reclaim in progress)
    uint8_t p_op
    uint8_t p_write
    uint8_t alloc_force           # OOM found no victim: take the last frames or fail the access
    uint8_t dr_memcg_full_walk    # do_try_to_free_pages(): sc->memcg_full_walk (retry once after a fruitless sweep)
    uint32_t p_owner
    uint32_t _pad1
    uint64_t p_page
    # direct reclaim: try_to_free_pages / do_try_to_free_pages
    int32_t dr_state
    int32_t no_progress_loops     # __alloc_pages_slowpath: direct reclaim sweeps without progress
    scan_control dsc
    # kswapd: balance_pgdat / kswapd_try_to_sleep
    int32_t kswapd_state
    int32_t k_phase
    int32_t kswapd_failures
    int32_t k_zoneidx             # balance_pgdat()'s highest_zoneidx, this run's
    int64_t k_nap_end
    int64_t k_iter_reclaimed      # sc.nr_reclaimed at the start of this priority iteration
    scan_control ksc
    # results
    int64_t nr_alloc_fail         # accesses that failed: OOM found nothing to kill
    int64_t nr_oom_kills
    int64_t nr_direct_reclaims
    # kswapd's last kswapd_shrink_node() pass (tests, snapshot)
    int64_t k_last_scanned
    int64_t k_last_newly
    int64_t k_last_target
    int32_t k_last_priority
    int32_t k_last_next_priority
    int64_t k_nr_passes
    # pgdat->kswapd_highest_zoneidx: the highest zone asked for since the run began
    # (-1: none, MAX_NR_ZONES in the kernel)
    int32_t k_req_zoneidx
    int32_t _pad3
    int64_t k_nr_boost_reclaim    # balance_pgdat()'s nr_boost_reclaim
    int64_t k_zone_boost          # zone_boosts[ZONE_DMA]: the boost this run took on
    int64_t k_zone_boost_normal   # zone_boosts[ZONE_NORMAL]


cdef inline int64_t max64(int64_t a, int64_t b) noexcept nogil:
    return a if a > b else b


# struct mem up to its `layout` member: the machine's state in a state image
# (the layout pass's stamps are not state, so images and hashes do not
# depend on whether anyone drew the machine)
cdef mem _mem_probe
cdef size_t MEM_STATE_BYTES = <size_t>(<char*>&_mem_probe.layout - <char*>&_mem_probe)
assert MEM_STATE_BYTES + sizeof(layout_stamps) == sizeof(mem)
cdef uint64_t _layout_tokens = 0


ctypedef struct workload_files:
    uint32_t max_op              # the highest op (set_workload() refuses unknown ones)
    bint any_file                # some access names a file
    uint32_t top_file            # the highest file named
    bint one_file                # every file access names the same file ...
    uint64_t top_page            # ... and this is the highest page of it


cdef workload_files scan_workload_files(const access_rec* a, int64_t n) noexcept nogil:
    # one pass over a chunk (tens of MiB for a trace's): what set_workload()
    # checks and note_file_sizes() needs
    cdef workload_files w
    cdef int64_t i
    w.max_op = 0; w.any_file = False; w.top_file = 0; w.one_file = True; w.top_page = 0
    for i in range(n):
        if a[i].op > w.max_op:
            w.max_op = a[i].op
        if OP_READ <= a[i].op <= OP_EXEC:
            if not w.any_file:
                w.any_file = True
                w.top_file = a[i].owner
            elif a[i].owner != w.top_file:
                w.one_file = False
                if a[i].owner > w.top_file:
                    w.top_file = a[i].owner
            if a[i].page > w.top_page:
                w.top_page = a[i].page
    return w


cdef class Simulator:
    """The simulated machine; see docs/engine-api.md."""
    cdef mem m
    cdef sim_state s
    cdef readonly ReclaimPolicy policy
    cdef object _workload
    cdef access_rec* wl
    cdef int64_t nr_fed           # accesses of the chunks before the current one (feed())
    cdef dict _config
    cdef readonly object info    # the policy's PolicyInfo (engine/registry.py)
    cdef bint _alive
    cdef uint32_t anon_vm_flags   # what an anon first touch's VMA has: VM_LOCKED for the boot's mlocked pages
    cdef bint ra_join             # page_cache_ra_order()'s fallback: the same read_pages() batch
    # run-ahead hints, not state: ptp index of access `pos` found by prefetch_ahead
    cdef int64_t pf_pos[32]
    cdef int32_t pf_ptp[32]           # an anon access: its ptp; a read(): the page's pfn (-1: none)
    # which machine a layout base was taken from: a new one for every
    # Simulator and every load_state(), whose frames the stamps did not see
    cdef readonly uint64_t layout_token

    def __cinit__(self):
        global _layout_tokens
        memset(&self.m, 0, sizeof(mem))
        memset(&self.s, 0, sizeof(sim_state))
        self.s.k_req_zoneidx = -1
        self.s.k_zoneidx = ZONE_NORMAL
        self.wl = NULL
        self._alive = False
        self.pf_reset()
        _layout_tokens += 1
        self.layout_token = _layout_tokens

    cdef void pf_reset(self) noexcept nogil:
        cdef int i
        for i in range(32):
            self.pf_pos[i] = -1
            self.pf_ptp[i] = -1

    def __init__(self, config=None):
        from engine.registry import POLICY_INFO
        cfg = normalize_config(config)          # raises ConfigError before any allocation
        self._config = cfg
        self.info = POLICY_INFO[cfg["policy"]]
        self._allocate(cfg)
        self.policy = self.info.factory()
        self.policy.attach(&self.m, cfg)
        self._alive = True
        self.set_workload(np.zeros(0, dtype=ACCESS_DTYPE))
        # the active ones go to a policy with an active anon list (the classic LRU);
        # MGLRU files its boot pages by generation (docs/kernels.md "Boot footprint")
        self._boot_system_pages(cfg["system_pages"], cfg["system_mlocked_pages"], cfg["system_unmapped_pages"],
                                cfg["system_active_pages"] if "LRU_ACTIVE_ANON" in self.info.lists else 0)
        # the flush the booted guest last ran: the workload starts on fresh stats
        memcg_flush_stats(&self.m)
        self.m.lv.stat_flush_ns = <int64_t>cfg["flush_time_ms"] * 1000000
        self.m.lv.stat_next_flush_ns = <int64_t>cfg["flush_first_ms"] * 1000000

    cdef _boot_system_pages(self, int64_t n, int64_t nr_mlocked, int64_t nr_unmapped, int64_t nr_active):
        # The machine a workload meets has already booted: its tmpfs and init's
        # anon (Shmem + AnonPages when the rig's replays start, docs/kernels.md
        # "Boot footprint") are resident, written once, and never touched again,
        # so they age and are swapped out under pressure as the guest's are.
        # They count in pgfault like the guest's boot does in /proc/vmstat.
        # The last nr_mlocked of them are mlocked (the rig's replayer mlocks its
        # trace buffer): folio_add_lru() files them on LRU_UNEVICTABLE, where
        # reclaim never scans them and workingset_test_recent() does not count
        # them (it adds NR_ACTIVE_ANON and NR_INACTIVE_ANON only, 6.1
        # workingset.c:472-483, 6.12 :511-524, 7.3 :521-534).
        # The nr_unmapped before them are tmpfs pages no process maps (Shmem -
        # Mapped). The guest's `echo 3 > drop_caches` cannot evict them (dirty,
        # mapping_evict_folio()) and hands each to deactivate_file_folio() (6.1
        # truncate.c:552-559, 6.12 :528, 7.3 :569), which leaves mapped folios
        # alone and puts these at the inactive head with PG_active and
        # PG_referenced cleared (lru_deactivate_file_fn(), 6.1 swap.c:570-594;
        # lru_deactivate_file(), 6.12 swap.c:557-571, 7.3 folio.c:532-546): newer
        # than the mapped ones, and, with no PTE, nothing folio_referenced() can
        # find young, so the first scan swaps them out. The engine gives every
        # anon folio a PTE; theirs is old, which folio_referenced() and the
        # MGLRU page-table walk read the same way.
        cdef mem* m = &self.m
        cdef int64_t vpn
        cdef uint64_t boot_activations
        cdef uint32_t* pte
        if n <= 0:
            return
        m.mms[<int>MM_SYSTEM].alive = 1          # _allocate() made room for the internal mms
        m.events_on = 0
        try:
            for vpn in range(n):
                if vpn == n - nr_mlocked:
                    self.anon_vm_flags = VM_LOCKED
                self.do_anon(MM_SYSTEM, <uint64_t>vpn, True, -1)
                if n - nr_mlocked - nr_unmapped <= vpn < n - nr_mlocked:
                    pte = pte_lookup(m, MM_SYSTEM, <uint64_t>vpn)
                    pte[0] &= ~(<uint32_t>PTE_YOUNG)
                    folio_set(m, <folio_idx_t>(pte[0] & PTE_PFN_MASK), FOLIO_SHMEM)
            # The classic guests start with ~440 pages of Active(anon) (437 / 444 /
            # 444 on 6.1 / 6.12 / 7.3, every classic boot, validation/guest_boot.csv):
            # mapped tmpfs pages of the programs that ran, which short-lived busybox
            # children found young as they exited (zap_pte_range() marks a young
            # PTE's page accessed, 6.1 memory.c:1446-1448) and which drop_caches
            # leaves where they are because they are mapped (lru_deactivate_file_fn()
            # "Some processes are using the folio", 6.1 swap.c:578-580). The boot's
            # lru_add batches were drained long before the replay starts.
            if nr_active:
                m.lru_batch_nr = 0
            boot_activations = m.vmstat[<int>PGACTIVATE]
            for vpn in range(nr_active):
                pte = pte_lookup(m, MM_SYSTEM, <uint64_t>vpn)
                self.policy.folio_activate(<folio_idx_t>(pte[0] & PTE_PFN_MASK))
            m.vmstat[<int>PGACTIVATE] = boot_activations
        finally:
            self.anon_vm_flags = 0
            m.events_on = 1

    cdef void _allocate(self, dict cfg) except *:
        cdef mem* m = &self.m
        cdef int32_t n = cfg["ram_pages"]
        cdef int32_t i
        cdef dict c = cfg["costs"]
        m.nr_frames = n
        m.nr_swap_slots = cfg["swap_pages"]
        m.swap_kind = {"none": SWAP_NONE, "zram": SWAP_ZRAM, "ssd": SWAP_SSD, "hdd": SWAP_HDD}[cfg["swap_kind"]]
        m.swappiness = cfg["swappiness"]
        m.wmark_min = cfg["watermarks"]["min"]
        m.wmark_low = cfg["watermarks"]["low"]
        m.wmark_high = cfg["watermarks"]["high"]
        # ZONE_DMA below the rest: __setup_per_zone_wmarks() gives each zone the
        # node's marks in proportion to its pages; setup_per_zone_lowmem_reserve()
        # protects ZONE_DMA by the pages above it / sysctl_lowmem_reserve_ratio (256)
        m.nr_dma = cfg["zone_dma_pages"]
        for i, mark in enumerate((m.wmark_min, m.wmark_low, m.wmark_high)):
            m.zone_wmark[ZONE_DMA * 3 + i] = mark * m.nr_dma // n
            m.zone_wmark[ZONE_NORMAL * 3 + i] = mark - mark * m.nr_dma // n
        m.lowmem_reserve_dma = (n - m.nr_dma) // 256 if m.nr_dma else 0
        m.dma_boost_every = cfg["zone_dma_boost_every"]
        m.nr_holes_dma = cfg["zone_dma_holes"]
        m.nr_holes_normal = cfg["zone_normal_holes"]
        m.hole_chunk = cfg["zone_hole_chunk"]
        m.nr_claimable_normal = cfg["zone_normal_claimable"]
        m.nr_holes_normal += m.nr_claimable_normal
        m.compact_every = cfg["compaction_migrate_every"]
        m.readahead_pages = cfg["readahead_pages"]
        m.policy_id = self.info.state_id
        m.kernel = kernel_version(cfg["kernel"])
        m.large_folios = cfg["large_folios"]
        m.cost.access = c["access"]
        m.cost.minor_fault = c["minor_fault"]
        m.cost.read_hit = c["read_hit"]
        m.cost.file_read = c["file_read"]
        m.cost.file_write = c["file_write"]
        m.cost.swap_read = c["swap_read"]
        m.cost.swap_write = c["swap_write"]
        m.cost.scan_folio = c["scan_folio"]
        m.cost.walk_pte = c["walk_pte"]
        m.cost.direct_stall = c["direct_stall"]
        m.cost.readahead_page = c["readahead_page"]
        m.cost.mmap_access = c["mmap_access"]
        m.folios = <folio*>calloc(n + NR_LIST_HEADS, sizeof(folio))
        m.free_stack = <folio_idx_t*>malloc(n * sizeof(folio_idx_t))
        m.vmstat = <int64_t*>calloc(NR_VMSTAT_ITEMS, sizeof(int64_t))
        m.swap_map = <uint64_t*>calloc(max(m.nr_swap_slots, 1), sizeof(uint64_t))
        m.wb_time = <int64_t*>malloc(2 * <size_t>n * sizeof(int64_t))
        m.wb_pfn = <int32_t*>malloc(2 * <size_t>n * sizeof(int32_t))
        m.events_cap = cfg["events_capacity"]
        m.events = <vm_event_rec*>calloc(m.events_cap, sizeof(vm_event_rec))
        advise_huge(m.folios, (n + NR_LIST_HEADS) * sizeof(folio))
        advise_huge(m.free_stack, n * sizeof(folio_idx_t))
        advise_huge(m.swap_map, max(m.nr_swap_slots, 1) * sizeof(uint64_t))
        m.pt_hash_mask = 1023
        m.pt_hash_keys = <uint64_t*>calloc(1024, sizeof(uint64_t))
        m.pt_hash_vals = <int32_t*>calloc(1024, sizeof(int32_t))
        m.pc_mask = 1023
        m.pc_keys = <uint64_t*>calloc(2 * 1024, sizeof(uint64_t))   # interleaved (key, value) slots
        m.pc_vals = m.pc_keys + 1
        if (m.folios == NULL or m.free_stack == NULL or m.vmstat == NULL or m.swap_map == NULL
                or m.wb_time == NULL or m.wb_pfn == NULL or m.events == NULL or m.pt_hash_keys == NULL
                or m.pt_hash_vals == NULL or m.pc_keys == NULL or xa_init(m, 512, 1024) < 0):
            raise MemoryError("simulator buffers")
        # free lists: LIFO, lowest pfn of each zone handed out first; ZONE_DMA's
        # stack grows down from the top of the same array. A zone's holes (its
        # first pfns) lie at the far end of its stack, in the same order
        for i in range(m.nr_holes_normal):
            m.free_stack[i] = m.nr_dma + m.nr_holes_normal - 1 - i
        # the per-CPU lists' pages (the top pfns) are held off the free stack until
        # release_pcp_pages() hands them back, LIFO, so they go out first
        m.nr_pcp_held = cfg["pcp_pages"]
        for i in range(n - m.nr_dma - m.nr_holes_normal - m.nr_pcp_held):
            m.free_stack[m.nr_holes_normal + i] = n - 1 - m.nr_pcp_held - i
        for i in range(m.nr_dma - m.nr_holes_dma):
            m.free_stack[n - m.nr_dma + i] = m.nr_holes_dma + i
        for i in range(m.nr_holes_dma):
            m.free_stack[n - m.nr_holes_dma + i] = i
        m.nr_hole_free_dma = m.nr_holes_dma
        m.nr_hole_free_normal = m.nr_holes_normal
        for i in range(n):
            m.folios[i].prev = -1
            m.folios[i].next = -1
        m.nr_free = n - m.nr_pcp_held
        m.nr_free_dma = m.nr_dma
        m.vmstat[<int>NR_FREE_PAGES] = m.nr_free
        for i in range(NR_LIST_HEADS):
            list_init(m, n + i)
        m.nr_swap_free = m.nr_swap_slots
        if mm_ensure_py(m, NR_INTERNAL_MMS) < 0:
            raise MemoryError("mms")
        m.mms[<int>MM_SHARED].alive = 1
        m.mms[<int>MM_EXEC].alive = 1
        m.cur_actor = RECLAIMER_NONE
        m.events_on = 1

    def __dealloc__(self):
        cdef mem* m = &self.m
        free(m.layout.stamp)
        free(m.folios)
        free(m.free_stack)
        free(m.vmstat)
        free(m.mms)
        free(m.vmas)
        free(m.file_first_vma)
        free(m.file_prev_index)
        free(m.file_ra)
        free(m.ptes)
        free(m.ptp_key)
        free(m.ptp_next)
        free(m.ptp_young)
        free(m.ptp_nr_present)
        free(m.pt_hash_keys)
        free(m.pt_hash_vals)
        free(m.pc_keys)                          # pc_vals lives in the same block
        free(m.xa_nodes)
        free(m.xa_hkeys)
        free(m.xa_hvals)
        free(m.swap_map)
        free(m.wb_time)
        free(m.wb_pfn)
        free(m.events)
        memset(m, 0, sizeof(mem))

    # ======================================================================
    # the machine (nogil)
    # ======================================================================

    cdef int file_ensure(self, uint32_t file) except -1 nogil:
        cdef mem* m = &self.m
        cdef int32_t newcap, i
        cdef int32_t* fv
        cdef uint64_t* pi
        cdef file_ra_state* ra
        if <int32_t>file < m.cap_files:
            if <int32_t>file >= m.nr_files:
                m.nr_files = file + 1
            return 0
        if file >= (1 << 20):
            with gil:
                raise ValueError(f"file id {file} too large (max {(1 << 20) - 1})")
        newcap = m.cap_files * 2 if m.cap_files else 64
        while newcap <= <int32_t>file:
            newcap *= 2
        fv = <int32_t*>realloc(m.file_first_vma, newcap * sizeof(int32_t))
        if fv == NULL:
            with gil:
                raise MemoryError("files")
        m.file_first_vma = fv
        pi = <uint64_t*>realloc(m.file_prev_index, newcap * sizeof(uint64_t))
        if pi == NULL:
            with gil:
                raise MemoryError("files")
        m.file_prev_index = pi
        ra = <file_ra_state*>realloc(m.file_ra, newcap * sizeof(file_ra_state))
        if ra == NULL:
            with gil:
                raise MemoryError("files")
        m.file_ra = ra
        memset(&m.file_ra[m.cap_files], 0, (newcap - m.cap_files) * sizeof(file_ra_state))
        for i in range(m.cap_files, newcap):
            m.file_first_vma[i] = -1
            m.file_prev_index[i] = <uint64_t>-1
        m.cap_files = newcap
        m.nr_files = file + 1
        return 0

    cdef int32_t vma_get(self, uint32_t mm, uint32_t file, uint32_t create_flags) except -2 nogil:
        # the VMA mapping `file` in internal mm `mm`; created on first use
        cdef mem* m = &self.m
        cdef int32_t v
        cdef vma* p
        self.file_ensure(file)
        v = m.file_first_vma[file]
        while v >= 0:
            if m.vmas[v].mm == mm:
                return v
            v = m.vmas[v].next_of_file
        if m.nr_vmas == m.cap_vmas:
            p = <vma*>realloc(m.vmas, (m.cap_vmas * 2 + 16) * sizeof(vma))
            if p == NULL:
                with gil:
                    raise MemoryError("vmas")
            m.vmas = p
            m.cap_vmas = m.cap_vmas * 2 + 16
        v = m.nr_vmas
        m.nr_vmas += 1
        m.vmas[v].mm = mm
        m.vmas[v].file = file
        m.vmas[v].vm_flags = create_flags
        m.vmas[v].next_of_file = m.file_first_vma[file]
        m.file_first_vma[file] = v
        return v

    cdef void wakeup_kswapd(self, int highest_zoneidx=ZONE_NORMAL) noexcept nogil:
        """Mirrors mm/vmscan.c:wakeup_kswapd(); simplified: order 0. An allocation
        asks for every zone (ZONE_NORMAL here); rmqueue() asks for ZONE_DMA alone
        after a boost of it."""
        cdef mem* m = &self.m
        if self.s.k_req_zoneidx < highest_zoneidx:
            self.s.k_req_zoneidx = highest_zoneidx
        if self.s.kswapd_state == KS_RUN:
            return
        if self.s.kswapd_failures >= MAX_RECLAIM_RETRIES:
            return                               # hopeless node: direct reclaim's job now
        if pgdat_balanced(m, highest_zoneidx) and not (
                m.watermark_boost_dma or (highest_zoneidx == ZONE_NORMAL and m.watermark_boost_normal)):
            return                               # balanced and not boosted (pgdat_watermark_boosted())
        if self.s.kswapd_state == KS_NAP:
            m.vmstat[<int>KSWAPD_LOW_WMARK_HIT_QUICKLY] += 1   # woken during the short sleep
        self.s.kswapd_state = KS_RUN
        self.kswapd_start_run()
        m.kswapd_ns = max64(m.kswapd_ns, m.now_ns)

    cdef inline void kswapd_start_run(self) noexcept nogil:
        # kswapd(): the next balance_pgdat() reclaims for the highest zone asked for
        # since the last one began (kswapd_highest_zoneidx()), else the last one's;
        # requests made from now on are for the run after it
        if self.s.k_req_zoneidx >= 0:
            self.s.k_zoneidx = self.s.k_req_zoneidx
        self.s.k_req_zoneidx = -1
        self.s.k_phase = K_START

    cdef inline void rmqueue_boost_wake(self) noexcept nogil:
        # rmqueue(): ZONE_BOOSTED_WATERMARK, set by a fallback in a zone, wakes kswapd
        # for that zone on an allocation with ALLOC_KSWAPD (6.1 page_alloc.c:3914,
        # 6.12 :3170, 7.3 :3442-3445), readahead's included; here the next allocation
        cdef mem* m = &self.m
        if m.dma_boosted:
            m.dma_boosted = 0
            self.wakeup_kswapd(ZONE_DMA)
        if m.normal_boosted:
            m.normal_boosted = 0
            self.wakeup_kswapd(ZONE_NORMAL)

    cdef int alloc_gate(self) noexcept nogil:
        # __alloc_pages(): the fast path needs free > low; failing that, kswapd is
        # woken and the min watermark is tried; below it, direct reclaim.
        cdef mem* m = &self.m
        self.rmqueue_boost_wake()
        if not zone_watermark_ok(m, WMARK_LOW):
            self.wakeup_kswapd()
        if zone_watermark_ok(m, WMARK_MIN):
            return 0
        if self.s.alloc_force and m.nr_free > 0:
            return 0
        return NEED_RECLAIM

    cdef void folio_add_lru(self, folio_idx_t pfn, bint in_fault, uint32_t vm_flags, int reason,
                            int fn, int src) noexcept nogil:
        """Mirrors mm/swap.c:folio_add_lru(); simplified: no per-CPU batch. Under MGLRU a
        fault on a VMA with recency (lru_gen_in_fault) sets PG_active before 7.x, and
        in 7.3 only for PG_workingset folios."""
        cdef int64_t seq
        cdef int dst
        if self.policy.lru_gen_enabled and in_fault and vma_has_recency(vm_flags):
            if self.m.kernel < 700:
                folio_set(&self.m, pfn, PG_active)
            elif self.m.folios[pfn].flags & PG_workingset:
                # 7.3 mm/folio.c:468-490: only a workingset folio is activated in a
                # fault; any other is marked accessed (placed at max_seq - 1 or - 2)
                folio_set(&self.m, pfn, PG_active)
            elif not (self.m.folios[pfn].flags & PG_referenced):
                self.policy.folio_mark_accessed(pfn)
        if vm_flags & VM_LOCKED:
            folio_set(&self.m, pfn, PG_mlocked)
        self.policy.lru_add(pfn, False)
        self.lru_batch_add(pfn)
        if self.m.events_on:
            dst = self.policy.folio_loc(pfn, &seq)
            emit(&self.m, EV_LRU_ADD, reason, fn, pfn, src, dst, -1, seq)

    cdef inline void lru_batch_add(self, folio_idx_t pfn) noexcept nogil:
        # mm/folio.c:__folio_batch_add_and_move(): the batch drains when this add
        # fills it (PAGEVEC_SIZE, 15 in 6.1); a large folio drains it at once
        # (folio_may_be_lru_cached(), internal.h:46), which page_cache_ra_order() does
        cdef mem* m = &self.m
        cdef int64_t seq = -1
        if m.kernel < 700 or not self.policy.lru_gen_enabled:
            return                       # only 7.3's MGLRU places by what the batch saw
        self.policy.folio_loc(pfn, &seq)
        m.lru_batch_pfn[m.lru_batch_nr] = pfn
        m.lru_batch_index[m.lru_batch_nr] = m.folios[pfn].index
        m.lru_batch_seq[m.lru_batch_nr] = seq
        m.lru_batch_nr += 1
        if m.lru_batch_nr >= (15 if m.kernel < 612 else PAGEVEC_SIZE):
            m.lru_batch_nr = 0

    cdef inline bint lru_batch_has(self, folio_idx_t pfn) noexcept nogil:
        cdef mem* m = &self.m
        cdef int32_t i
        cdef int64_t seq = -1
        for i in range(m.lru_batch_nr):
            if m.lru_batch_pfn[i] == pfn and m.lru_batch_index[i] == m.folios[pfn].index:
                self.policy.folio_loc(pfn, &seq)
                return seq == m.lru_batch_seq[i]
        return False

    cdef int map_pte(self, uint32_t* pte, folio_idx_t pfn, uint32_t mm, bint write) except -1 nogil:
        cdef mem* m = &self.m
        cdef int64_t ptp = (pte - m.ptes) // PTRS_PER_PTE
        pte[0] = PTE_PRESENT | PTE_YOUNG | <uint32_t>pfn | (PTE_DIRTY if write else 0)
        m.ptp_young[ptp] = 1
        m.ptp_nr_present[ptp] += 1
        m.mms[mm].nr_ptes_present += 1
        m.folios[pfn].mapcount += 1
        if m.folios[pfn].mapcount == 1:
            m.vmstat[<int>(NR_ANON_PAGES if (m.folios[pfn].flags & PG_anon) else NR_MAPPED)] += 1
            if m.folios[pfn].flags & FOLIO_ORDER_MASK:
                m.folios[page_folio(m, pfn)].swap += 1      # the large folio's mapped pages
        return 0

    cdef void note_dirtied(self) noexcept nogil:
        # balance_dirty_pages(): background writeback above dirty_background_ratio (10 %)
        cdef mem* m = &self.m
        if m.vmstat[<int>NR_DIRTY] * 10 > m.nr_free + m.vmstat[<int>NR_FILE_PAGES]:
            wakeup_flusher_threads(m)

    cdef inline bint should_try_to_free_swap(self, folio_idx_t pfn, bint write) noexcept nogil:
        # Mirrors mm/memory.c:should_try_to_free_swap() (v6.15): swap more than half
        # used (mem_cgroup_swap_full -> vm_swap_full without memcg), an mlocked folio,
        # or a write fault (the refcount test always passes: one mapping).
        cdef mem* m = &self.m
        if not (m.folios[pfn].flags & PG_swapcache):
            return False
        if m.nr_swap_free * 2 < m.nr_swap_slots or (m.folios[pfn].flags & PG_mlocked):
            return True
        return write

    cdef int do_anon(self, uint32_t mm, uint64_t vpn, bint write, int64_t pos) except -1 nogil:
        """Mirrors mm/memory.c:handle_mm_fault() for anonymous memory: a hit sets the
        young (and dirty) bit; no PTE -> do_anonymous_page(); a swap entry ->
        do_swap_page() through the swap cache."""
        cdef mem* m = &self.m
        cdef uint32_t* pte = self.pf_pte(pos, mm, vpn) if pos >= 0 else pte_lookup(m, mm, vpn)
        cdef folio_idx_t pfn
        cdef int32_t slot
        cdef uint64_t e
        cdef int64_t ptp
        if pte != NULL and (pte[0] & PTE_PRESENT):
            # hit
            pfn = pte[0] & PTE_PFN_MASK
            pte[0] |= PTE_YOUNG | (PTE_DIRTY if write else 0)
            ptp = (pte - m.ptes) // PTRS_PER_PTE
            m.ptp_young[ptp] = 1
            m.mms[mm].ran = 1
            # a store through a present PTE only sets its dirty bit: do_swap_page()
            # mapped the exclusive folio writable, so there is no fault and the
            # swap-cache slot stays until reclaim or activation frees it
            charge(m, m.cost.access)
            if m.events_on:
                emit(m, EV_ACCESS, R_HIT, FN_HANDLE_MM_FAULT, pfn, LOC_NONE, LOC_NONE, -1, -1)
            return 0
        if pte != NULL and (pte[0] & PTE_SWAP):
            slot = pte[0] & PTE_PFN_MASK
            e = m.swap_map[slot]
            if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                # still in the swap cache: minor fault
                pfn = <folio_idx_t>(e & ENTRY_MASK)
                self.map_pte(pte, pfn, mm, write)
                m.mms[mm].ran = 1
                m.vmstat[<int>PGFAULT] += 1
                charge(m, m.cost.minor_fault)
                if self.should_try_to_free_swap(pfn, write):
                    folio_free_swap(m, pfn)
                emit(m, EV_PGFAULT, R_SWAPCACHE_HIT, FN_DO_SWAP_PAGE, pfn, LOC_NONE, LOC_NONE, -1, -1)
                return 0
            if self.alloc_gate():
                return NEED_RECLAIM
            pfn = alloc_frame(m)
            m.folios[pfn].mapping = mm
            m.folios[pfn].index = vpn
            if m.swap_kind == SWAP_ZRAM:
                # SWP_SYNCHRONOUS_IO and swap count 1 (a private anon page): "skip
                # swapcache"; the slot is released below once the PTE is mapped
                m.folios[pfn].flags = PG_anon | PG_swapbacked
                folio_flags_changed(m, pfn)
            else:
                m.folios[pfn].flags = PG_anon | PG_swapbacked | PG_swapcache
                folio_flags_changed(m, pfn)
                m.folios[pfn].swap = <uint32_t>(slot + 1)
                if (e & ~ENTRY_MASK) == ENTRY_SHADOW:
                    m.nr_swap_shadows -= 1
                m.swap_map[slot] = ENTRY_FOLIO | <uint64_t>pfn
                m.vmstat[<int>NR_SWAPCACHED] += 1
                m.vmstat[<int>NR_FILE_PAGES] += 1
            m.vmstat[<int>PSWPIN] += 1
            m.vmstat[<int>PGPGIN] += 4
            m.vmstat[<int>PGFAULT] += 1
            m.vmstat[<int>PGMAJFAULT] += 1
            charge(m, m.cost.swap_read)
            emit(m, EV_PSWPIN, R_SWAPIN, FN_DO_SWAP_PAGE, pfn, LOC_SWAP, LOC_NONE, -1, -1)
            if (e & ~ENTRY_MASK) == ENTRY_SHADOW:
                self.policy.workingset_refault(pfn, e & ENTRY_MASK, True)
            self.folio_add_lru(pfn, True, 0, R_SWAPIN, FN_DO_SWAP_PAGE, LOC_SWAP)
            self.map_pte(pte, pfn, mm, write)
            m.mms[mm].ran = 1
            if m.swap_kind == SWAP_ZRAM:
                swap_free(m, slot)               # swap_free_nr(): the PTE held the only reference
            elif self.should_try_to_free_swap(pfn, write):
                folio_free_swap(m, pfn)
            emit(m, EV_PGMAJFAULT, R_SWAPIN, FN_DO_SWAP_PAGE, pfn, LOC_NONE, LOC_NONE, -1, -1)
            return 0
        # first touch
        if self.alloc_gate():
            return NEED_RECLAIM
        pte = pte_alloc(m, mm, vpn)
        pfn = alloc_frame(m)
        m.folios[pfn].flags = PG_anon | PG_swapbacked
        folio_flags_changed(m, pfn)
        m.folios[pfn].mapping = mm
        m.folios[pfn].index = vpn
        if not m.mms[mm].alive:
            # the address space comes into being (fork/exec): lru_gen_add_mm()
            self.policy.lru_gen_add_mm(<int32_t>mm)
        m.mms[mm].alive = 1
        m.mms[mm].ran = 1
        m.vmstat[<int>PGFAULT] += 1
        charge(m, m.cost.minor_fault)
        self.folio_add_lru(pfn, True, self.anon_vm_flags, R_FAULT_ANON, FN_DO_ANONYMOUS_PAGE, LOC_FREE)
        self.map_pte(pte, pfn, mm, write)
        emit(m, EV_PGFAULT, R_FAULT_ANON, FN_DO_ANONYMOUS_PAGE, pfn, LOC_NONE, LOC_NONE, -1, -1)
        return 0

    cdef folio_idx_t page_cache_fill(self, uint32_t file, uint64_t pgoff, uint64_t e, bint in_fault,
                                     uint32_t vm_flags, int reason, int fn,
                                     bint write_begin=False) except -2 nogil:
        # a page-cache miss: new folio, refault test against its shadow, LRU insertion.
        # write_begin: the folio of a whole-page write() (FGP_WRITEBEGIN -> __GFP_WRITE):
        # no read I/O, and filemap_add_folio() skips workingset_refault() ("folios
        # getting rewritten ... is a waste of memory"); the shadow is still replaced.
        cdef mem* m = &self.m
        cdef folio_idx_t pfn = alloc_frame(m)
        m.folios[pfn].flags = 0
        folio_flags_changed(m, pfn)
        m.folios[pfn].mapping = file
        m.folios[pfn].index = pgoff
        pc_store(m, file, pgoff, ENTRY_FOLIO | <uint64_t>pfn)
        m.vmstat[<int>NR_FILE_PAGES] += 1
        cdef int64_t refaults
        if not write_begin:
            m.vmstat[<int>PGPGIN] += 4
            m.file_ra[file].nr_read += 1
        if (e & ~ENTRY_MASK) == ENTRY_SHADOW and not write_begin:
            # lru_gen_in_fault() is current->in_lru_fault = vma_has_recency(vma)
            refaults = m.vmstat[<int>WORKINGSET_REFAULT_FILE]
            self.policy.workingset_refault(pfn, e & ENTRY_MASK,
                                           in_fault and vma_has_recency(vm_flags))
            m.file_ra[file].nr_refault += m.vmstat[<int>WORKINGSET_REFAULT_FILE] - refaults
        self.folio_add_lru(pfn, in_fault, vm_flags, reason, fn,
                          LOC_PAGECACHE_SHADOW if (e & ~ENTRY_MASK) == ENTRY_SHADOW else LOC_STORAGE)
        return pfn

    # --- readahead (mm/readahead.c) ------------------------------------------------
    cdef inline bint pc_has_folio(self, uint32_t file, uint64_t index) noexcept nogil:
        return (pc_lookup(&self.m, file, index) & ~ENTRY_MASK) == ENTRY_FOLIO

    cdef int do_page_cache_ra(self, uint32_t file, uint64_t index, uint64_t nr_to_read, uint64_t lookahead,
                              uint64_t requested, bint in_fault, uint32_t vm_flags) except -1 nogil:
        """Mirrors mm/readahead.c:page_cache_ra_unbounded(): allocate and read every
        missing page of [index, index + nr_to_read), skipping cached ones, and tag
        the one `lookahead` pages before the end PG_readahead. Allocation is
        readahead_gfp_mask's (__GFP_NORETRY): it wakes kswapd at low and stops at
        min rather than reclaim. A file ends after the highest page its workload
        names (set_workload()), as the real-kernel rig sizes its files.
        Order-0 folios (7.3's large ones: page_cache_ra_order())."""
        cdef mem* m = &self.m
        cdef uint64_t i, p
        cdef uint64_t e
        cdef folio_idx_t pfn
        cdef uint64_t isize = m.file_ra[file].nr_pages
        cdef uint64_t first = 0, nr_read = 0
        # do_page_cache_ra(): never past the end of the file
        if isize:
            if index >= isize:
                return 0
            if nr_to_read > isize - index:
                nr_to_read = isize - index
        for i in range(nr_to_read):
            p = index + i
            e = pc_lookup(m, file, p)
            if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                continue
            self.rmqueue_boost_wake()
            if not zone_watermark_ok(m, WMARK_LOW):
                self.wakeup_kswapd()
            if not zone_watermark_ok(m, WMARK_MIN):
                break
            pfn = self.page_cache_fill(file, p, e, in_fault, vm_flags,
                                       R_READ_MISS if p == requested else R_READAHEAD,
                                       FN_FILEMAP_FAULT if in_fault and p == requested else
                                       (FN_FILEMAP_READ if p == requested else FN_PAGE_CACHE_RA_UNBOUNDED),
                                       False)
            if p != requested:
                # read_pages() submits the window from the reader's context; the
                # requested page is file_read's, charged by the caller
                charge(m, m.cost.readahead_page)
            if lookahead and i == nr_to_read - lookahead:
                folio_set(m, pfn, PG_readahead)
            if nr_read == 0:
                first = p
            nr_read = p - first + 1
        self.read_pages(file, first, nr_read)
        return 0

    cdef void read_pages(self, uint32_t file, uint64_t index, uint64_t nr) noexcept nogil:
        """mm/readahead.c:read_pages() submits the window's reads; each folio
        stays locked from filemap_add_folio() (7.3 filemap.c:971) until its read
        completes (folio_end_read()), the device's latency (cost file_read) after
        the submission. One range per file: a newer window's reads complete
        after the older one's, which is taken as done when the newer is
        submitted (simplified: no I/O queue); page_cache_ra_order()'s
        single-page fallback is the same window."""
        cdef mem* m = &self.m
        cdef file_ra_state* ra = &m.file_ra[file]
        cdef uint64_t end = index + nr
        if nr == 0:
            return
        if self.ra_join and ra.io_nr:
            if ra.io_start + ra.io_nr > end:
                end = ra.io_start + ra.io_nr
            if ra.io_start < index:
                index = ra.io_start
        ra.io_start = index
        ra.io_nr = end - index
        ra.io_done_ns = m.now_ns + m.cost.file_read

    cdef inline bint ra_alloc_ok(self, uint64_t nr) noexcept nogil:
        # __zone_watermark_ok() for a folio of nr pages under readahead_gfp_mask
        # (__GFP_NORETRY: no reclaim below min): free - (nr - 1) above min in a zone
        cdef mem* m = &self.m
        if m.nr_free - m.nr_free_dma - <int64_t>(nr - 1) > normal_wmark(m, WMARK_MIN):
            return True
        return m.nr_dma > 0 and (m.nr_free_dma - <int64_t>(nr - 1)
                                 > dma_wmark(m, WMARK_MIN) + m.lowmem_reserve_dma)

    cdef int page_cache_ra_order(self, uint32_t file, uint64_t requested, bint in_fault,
                                 uint32_t vm_flags) except -1 nogil:
        """Mirrors 7.3 mm/readahead.c:page_cache_ra_order() (:481-559) for the window
        in file_ra_state: with large folios (config large_folios, a read() window) the
        window is read as folios of ra->order pages, capped by ilog2(ra->size) and by
        each index's alignment, smaller at i_size; PG_readahead goes on the folio holding
        the marker, and none at i_size. A folio whose range holds a cached page is not
        added (filemap_add_folio() -EEXIST), nor one the free pages cannot hold over min
        (-ENOMEM): the rest of the window is then read as single pages
        (do_page_cache_ra()). Without large folios (or a mapping's read-around:
        not modelled, docs/kernels.md "Large folios") ra->order is 0 and every page
        is its own folio."""
        cdef mem* m = &self.m
        cdef file_ra_state* ra = &m.file_ra[file]
        cdef uint64_t start = ra.start, size = ra.size, async_size = ra.async_size
        cdef uint64_t isize = ra.nr_pages, limit, mark, index, p, n, e
        cdef uint32_t new_order = 0, order
        cdef folio_idx_t pfn
        cdef bint err = False
        if not m.large_folios or in_fault:
            ra.order = 0
            return self.do_page_cache_ra(file, start, size, async_size, requested, in_fault, vm_flags)
        # new_order = min(mapping_max_folio_order (ext4: MAX_PAGECACHE_ORDER), ra->order, ilog2(ra->size))
        while new_order < MAX_PAGECACHE_ORDER and new_order < ra.order and ((<uint64_t>2) << new_order) <= size:
            new_order += 1
        ra.order = new_order
        if new_order == 0:
            return self.do_page_cache_ra(file, start, size, async_size, requested, in_fault, vm_flags)
        limit = isize - 1 if isize else <uint64_t>-1
        if limit > start + size - 1:
            limit = start + size - 1
            mark = start + size - async_size
        else:
            mark = <uint64_t>-1          # reached the end: no readahead marker
        index = start
        while index <= limit:
            order = new_order
            if index & ((<uint64_t>1 << order) - 1):
                order = 0
                while not (index >> order) & 1:
                    order += 1
            while order > 0 and index + (<uint64_t>1 << order) - 1 > limit:
                order -= 1
            n = <uint64_t>1 << order
            for p in range(index, index + n):
                if self.pc_has_folio(file, p):
                    err = True
                    break
            if err:
                break
            self.rmqueue_boost_wake()
            if not zone_watermark_ok(m, WMARK_LOW):
                self.wakeup_kswapd()
            if not self.ra_alloc_ok(n):
                err = True
                break
            if order:
                pfn = self.filemap_add_large_folio(file, index, order, requested)
                m.lru_batch_nr = 0       # a large folio is not cached: the batch drains with it
                if m.compact_every:
                    m.compact_acc += <int64_t>n
                    while m.compact_acc >= m.compact_every:
                        m.compact_acc -= m.compact_every
                        self.migrate_one_folio(order)
            else:
                e = pc_lookup(m, file, index)
                pfn = self.page_cache_fill(file, index, e, in_fault, vm_flags,
                                           R_READ_MISS if index == requested else R_READAHEAD,
                                           FN_PAGE_CACHE_RA_ORDER)
                if index != requested:
                    charge(m, m.cost.readahead_page)
            if mark != <uint64_t>-1 and index == (mark & ~(n - 1)):
                folio_set(m, pfn, PG_readahead)
            index += n
        self.read_pages(file, start, index - start)
        if err and size > index - start:
            self.ra_join = index > start
            self.do_page_cache_ra(file, index, size - (index - start), async_size, requested,
                                  in_fault, vm_flags)
            self.ra_join = False
        return 0

    cdef void migrate_one_folio(self, uint32_t target_order) noexcept nogil:
        """Compaction's migration of one LRU folio, for its effect on the LRU: the
        migrate scanner (isolate_migratepages_block(), going up the pfns) isolates
        it, migrate_folio_move() copies its flags to the new folio
        (folio_migrate_flags(): PG_referenced, PG_active, PG_workingset, the gen's
        refs) and folio_add_lru() adds that one (7.3 migrate.c:779-810, :1414). The
        frame stays the same here: the engine has no fragmentation to undo. The
        kernel's copy lands on a free page the free scanner found, coming down from
        the zone's end (isolate_freepages(), compaction_alloc()), above the migrate
        scanner, which stops where the two meet (compact_scanners_met(),
        compaction.c:1467-1471) until their positions are reset: the engine, which
        keeps no positions, migrates a folio once (FOLIO_MIGRATED) until its frame
        is freed, and does not tell readahead's direct compaction (GFP_NOFS: anon
        folios only, :1105-1110) from kcompactd's (docs/kernels.md "Large folios"). Folios whose read is in flight, dirty or under
        writeback, unevictable or mlocked are passed over (MIGRATE_ASYNC), and so
        are folios of the order being allocated or larger (skip_isolation_on_order(),
        7.3 compaction.c:819-835: migrating them would not make a free block of that
        order). An attempt looks at up to COMPACT_SCAN_FRAMES frames from where the
        last one stopped (zone->compact_cached_migrate_pfn); one that finds nothing
        defers the next attempts as defer_compaction() does (:127-139,
        compaction_deferred() :142-158), so a machine with nothing left to migrate
        does not walk its frames at every large folio."""
        cdef mem* m = &self.m
        cdef int32_t k
        cdef int src, dst
        cdef int64_t src_seq = -1, dst_seq = -1
        cdef folio_idx_t pfn
        cdef uint32_t fl
        m.compact_considered += 1
        if m.compact_considered < (1 << m.compact_defer_shift):
            return                               # compaction_deferred()
        # whatever this attempt finds, the count starts again: compaction_defer_reset()
        # after a migration, defer_compaction() after none
        m.compact_considered = 0
        for k in range(min(m.nr_frames, COMPACT_SCAN_FRAMES)):
            pfn = m.compact_cursor
            m.compact_cursor = m.compact_cursor + 1 if m.compact_cursor + 1 < m.nr_frames else 0
            fl = m.folios[pfn].flags
            if not (fl & PG_lru) or (fl & (PG_locked | PG_dirty | PG_writeback | PG_unevictable
                                            | PG_mlocked | PG_tail | FOLIO_MIGRATED)) \
                    or folio_order(m, pfn) >= target_order:
                continue
            src = self.policy.folio_loc(pfn, &src_seq)
            self.policy.lruvec_del_folio(pfn)
            folio_clear(m, pfn, PG_lru)
            self.policy.lru_add(pfn, False)
            folio_set(m, pfn, FOLIO_MIGRATED)
            m.vmstat[<int>PGMIGRATE_SUCCESS] += folio_nr_pages(m, pfn)
            if m.events_on:
                dst = self.policy.folio_loc(pfn, &dst_seq)
                emit(m, EV_LRU_ADD, R_MIGRATED, FN_LRU_ADD, pfn, src, dst, src_seq, dst_seq)
            m.compact_defer_shift = 0            # compaction_defer_reset()
            return
        if m.compact_defer_shift < COMPACT_MAX_DEFER_SHIFT:
            m.compact_defer_shift += 1

    cdef folio_idx_t filemap_add_large_folio(self, uint32_t file, uint64_t index, uint32_t order,
                                             uint64_t requested) except -2 nogil:
        """Mirrors mm/filemap.c:filemap_add_folio() for a folio of 1 << order pages
        that ra_alloc_folio() allocated (the caller checked the free pages): every
        index of the range names one of its pages, the head (index) holds the
        folio's state and is its one LRU entry, each tail page names the head.
        __filemap_add_folio() keeps the last shadow the range held (filemap.c:876-912)
        and workingset_refault() is asked once for the folio, which counts its
        pages (workingset.c:572-587)."""
        cdef mem* m = &self.m
        cdef uint64_t n = <uint64_t>1 << order, p, e, shadow = 0
        cdef folio_idx_t pfn, head = -1
        cdef int64_t refaults
        cdef int zone = folio_alloc_zone(m, <int32_t>n)     # a folio's pages are of one zone
        for p in range(index, index + n):
            e = pc_lookup(m, file, p)
            if (e & ~ENTRY_MASK) == ENTRY_SHADOW:
                shadow = e
            pfn = alloc_frame_zone(m, zone)
            m.folios[pfn].mapping = file
            m.folios[pfn].index = p
            if head < 0:
                head = pfn
            else:
                m.folios[pfn].next = head
            m.folios[pfn].flags = (PG_tail if pfn != head else 0) | (order << FOLIO_ORDER_PGOFF)
            folio_flags_changed(m, pfn)
            pc_store(m, file, p, ENTRY_FOLIO | <uint64_t>pfn)
            if p != requested:
                # read_pages() submits the window from the reader's context; the
                # requested page is file_read's, charged by the caller
                charge(m, m.cost.readahead_page)
        m.vmstat[<int>NR_FILE_PAGES] += <int64_t>n
        m.vmstat[<int>PGPGIN] += 4 * <int64_t>n
        m.file_ra[file].nr_read += <int64_t>n
        if shadow:
            refaults = m.vmstat[<int>WORKINGSET_REFAULT_FILE]
            self.policy.workingset_refault(head, shadow & ENTRY_MASK, False)
            m.file_ra[file].nr_refault += m.vmstat[<int>WORKINGSET_REFAULT_FILE] - refaults
        self.folio_add_lru(head, False, 0,
                           R_READ_MISS if requested - index < n else R_READAHEAD, FN_PAGE_CACHE_RA_ORDER,
                           LOC_PAGECACHE_SHADOW if shadow else LOC_STORAGE)
        return head

    cdef void filemap_mark_accessed(self, uint32_t file, uint64_t pgoff, folio_idx_t pfn) noexcept nogil:
        # filemap_read()'s folio_mark_accessed() (7.3 mm/filemap.c:2847-2853): once per
        # read() unless the previous read on the file ended in the same folio
        # (pos_same_folio(), at this folio's size). pfn: the page read; the mark is
        # its folio's, whose one PG_referenced, refs counter and generation are the head's
        cdef mem* m = &self.m
        cdef folio_idx_t head = page_folio(m, pfn)
        cdef uint32_t order = folio_order(m, head)
        cdef uint64_t prev = m.file_prev_index[file]
        cdef uint32_t before
        if prev != <uint64_t>-1 and (prev >> order) == (pgoff >> order):
            return
        before = m.folios[head].flags
        self.policy.folio_mark_accessed(head)
        if (order == 0 and m.kernel >= 700 and self.policy.lru_gen_enabled and not (before & PG_referenced)
                and (m.folios[head].flags & PG_lru) and self.lru_batch_has(head)):
            # 7.3: the folio waits in the lru_add batch; lru_gen_folio_seq() will
            # place it referenced, in max_seq - 2 (mm_inline.h:250), not the oldest gen
            self.policy.lruvec_del_folio(head)
            self.policy.lruvec_add_folio(head, False)

    cdef inline uint64_t get_init_ra_size(self, uint64_t size, uint64_t max_pages) noexcept nogil:
        cdef uint64_t newsize = 1
        while newsize < size:
            newsize <<= 1
        if newsize <= max_pages // 32:
            return newsize * 4
        if newsize <= max_pages // 4:
            return newsize * 2
        return max_pages

    cdef inline uint64_t get_next_ra_size(self, file_ra_state* ra, uint64_t max_pages) noexcept nogil:
        if ra.size < max_pages // 16:
            return 4 * ra.size
        if ra.size <= max_pages // 2:
            return 2 * ra.size
        return max_pages

    cdef int page_cache_sync_ra(self, uint32_t file, uint64_t index, uint64_t req, bint in_fault,
                                uint32_t vm_flags) except -1 nogil:
        """Mirrors mm/readahead.c:page_cache_sync_ra() (6.12, 7.3) and 6.1's
        ondemand_readahead() without a folio: a new window at the start of the
        file or after the previous read (4 pages, ramping to ra_pages), a window
        over the cached history before a miss (context readahead), or just the
        page for a standalone random read."""
        cdef mem* m = &self.m
        cdef file_ra_state* ra = &m.file_ra[file]
        cdef uint64_t max_pages = <uint64_t>m.readahead_pages
        cdef uint64_t prev = m.file_prev_index[file]
        cdef uint64_t prev_index = (prev + 1) if prev != <uint64_t>-1 else (<uint64_t>-1) >> 12
        cdef uint64_t miss, contig, expected, add_pages
        cdef int64_t k
        if max_pages == 0:
            return self.do_page_cache_ra(file, index, 1, 0, index, in_fault, vm_flags)   # force_page_cache_ra()
        if m.kernel < 612 and index != 0:
            # 6.1 readahead.c ondemand_readahead(): the expected index continues the window
            expected = ra.start + ra.size - ra.async_size
            if index == expected or index == ra.start + ra.size:
                ra.start += ra.size
                add_pages = self.get_next_ra_size(ra, max_pages)
                ra.size = <uint32_t>(add_pages if add_pages > ra.size else ra.size)
                ra.async_size = ra.size
                return self.ra_readit(file, index, max_pages, in_fault, vm_flags)
        if index == 0 or req > max_pages or index - prev_index <= 1:
            ra.start = index
            ra.size = <uint32_t>self.get_init_ra_size(req, max_pages)
            if ra.size > req:
                ra.async_size = <uint32_t>(ra.size - req)
            else:
                ra.async_size = ra.size if m.kernel < 612 else ra.size >> 1
            ra.order = 0                 # 7.3 readahead.c:647: a synchronous window is order 0
            return self.ra_readit(file, index, max_pages, in_fault, vm_flags)
        # page_cache_prev_miss(index - 1, max_pages)
        miss = index - 1
        k = <int64_t>max_pages
        while k > 0:
            k -= 1
            if not self.pc_has_folio(file, miss):
                break
            if miss == 0:
                miss = <uint64_t>-1
                break
            if k:
                miss -= 1
        contig = index - miss - 1
        if contig <= req:
            return self.do_page_cache_ra(file, index, req, 0, index, in_fault, vm_flags)
        if miss == <uint64_t>-1:
            contig *= 2
        ra.start = index
        ra.size = <uint32_t>(contig + req if contig + req < max_pages else max_pages)
        ra.async_size = 1
        ra.order = 0
        return self.ra_readit(file, index, max_pages, in_fault, vm_flags)

    cdef int ra_readit(self, uint32_t file, uint64_t index, uint64_t max_pages, bint in_fault,
                       uint32_t vm_flags) except -1 nogil:
        # the readit: label; 6.1 first merges a window that would hit its own marker;
        # 7.3 reads it through page_cache_ra_order() at the window's ra->order
        cdef file_ra_state* ra = &self.m.file_ra[file]
        cdef uint64_t add_pages
        if self.m.kernel >= 700:
            return self.page_cache_ra_order(file, index, in_fault, vm_flags)
        if self.m.kernel < 612 and index == ra.start and ra.size == ra.async_size:
            add_pages = self.get_next_ra_size(ra, max_pages)
            if ra.size + add_pages <= max_pages:
                ra.async_size = <uint32_t>add_pages
                ra.size += <uint32_t>add_pages
            else:
                ra.size = <uint32_t>max_pages
                ra.async_size = <uint32_t>(max_pages >> 1)
        return self.do_page_cache_ra(file, ra.start, ra.size, ra.async_size, index, in_fault, vm_flags)

    cdef int page_cache_async_ra(self, uint32_t file, folio_idx_t pfn, uint64_t req, bint in_fault,
                                 uint32_t vm_flags) except -1 nogil:
        """Mirrors mm/readahead.c:page_cache_async_ra(): a read reached the
        PG_readahead folio: push the window forward (ramping up), or rebuild it
        from what is cached after the folio."""
        cdef mem* m = &self.m
        cdef file_ra_state* ra = &m.file_ra[file]
        cdef uint64_t max_pages = <uint64_t>m.readahead_pages
        cdef uint64_t index = m.folios[pfn].index
        cdef uint64_t start, add_pages, expected
        cdef int64_t k
        if max_pages == 0 or (m.folios[pfn].flags & PG_writeback):
            return 0
        m.folios[pfn].flags &= ~(<uint32_t>PG_readahead)
        folio_flags_changed(m, pfn)
        if m.kernel >= 700:
            # 7.3 readahead.c:702-703: the expected index is rounded down to the folio
            expected = (ra.start + ra.size - ra.async_size) & ~((<uint64_t>1 << folio_order(m, pfn)) - 1)
        else:
            expected = ra.start + ra.size - ra.async_size
        if index == expected or (m.kernel < 612 and index == ra.start + ra.size):
            ra.start += ra.size
            add_pages = self.get_next_ra_size(ra, max_pages)
            ra.size = <uint32_t>(add_pages if add_pages > ra.size else ra.size)
            ra.async_size = ra.size
            self.ra_async_align(ra, max_pages)
            return self.ra_readit(file, index, max_pages, in_fault, vm_flags)
        # page_cache_next_miss(index + 1, max_pages)
        start = index + 1
        k = <int64_t>max_pages
        while k > 0 and self.pc_has_folio(file, start):
            k -= 1
            start += 1
        if start == 0 or start - index > max_pages:
            return 0
        ra.start = start
        ra.size = <uint32_t>(start - index + req)
        ra.size = <uint32_t>self.get_next_ra_size(ra, max_pages)
        ra.async_size = ra.size
        self.ra_async_align(ra, max_pages)
        return self.ra_readit(file, index, max_pages, in_fault, vm_flags)

    cdef inline void ra_async_align(self, file_ra_state* ra, uint64_t max_pages) noexcept nogil:
        # 7.3 readahead.c:711-718 (readit: of page_cache_async_ra()): the order ramps
        # by 2 and the window is cut to end on a boundary of its folio size, at most
        # the largest power of two dividing ra_pages (without large folios ra->order
        # is 0 again after each window, so the boundary is 4 pages)
        cdef uint64_t end, aligned_end, align
        cdef uint32_t shift = 0
        if self.m.kernel < 700:
            return
        ra.order += 2
        if max_pages:
            while not (max_pages >> shift) & 1:
                shift += 1
        align = (<uint64_t>1) << (ra.order if ra.order < shift else shift)
        end = ra.start + ra.size
        aligned_end = end & ~(align - 1)
        if aligned_end > ra.start:
            ra.size -= <uint32_t>(end - aligned_end)
        ra.async_size = ra.size

    cdef int do_sync_mmap_readahead(self, uint32_t file, uint64_t pgoff, uint32_t vm_flags) except -1 nogil:
        """Mirrors mm/filemap.c:do_sync_mmap_readahead(): read-around of ra_pages
        centred on the fault (a quarter of it asynchronous), unless the VMA says
        random, or the file misses far more than it hits (mmap_miss > MMAP_LOTSAMISS)."""
        cdef mem* m = &self.m
        cdef file_ra_state* ra = &m.file_ra[file]
        cdef uint64_t ra_pages = <uint64_t>m.readahead_pages
        cdef bint exec_ra = m.kernel >= 700 and (vm_flags & VM_EXEC)
        if ((vm_flags & VM_RAND_READ) and not exec_ra) or ra_pages == 0:
            return 0
        if vm_flags & VM_SEQ_READ:
            return self.page_cache_sync_ra(file, pgoff, ra_pages, True, vm_flags)
        if exec_ra:
            # 7.3 mm/filemap.c:3416-3430 (v6.16): executable memory is read
            # ra_pages forward from the fault (exec_folio_order() is 0 on x86),
            # nothing asynchronous, and without mmap_miss's bookkeeping
            ra.start = pgoff
            ra.size = <uint32_t>ra_pages
            ra.async_size = 0
            ra.order = 0
            return self.do_page_cache_ra(file, ra.start, ra.size, ra.async_size, pgoff, True, vm_flags)
        if ra.mmap_miss < MMAP_LOTSAMISS * 10:
            ra.mmap_miss += 1
        if ra.mmap_miss > MMAP_LOTSAMISS:
            return 0
        ra.start = pgoff - ra_pages // 2 if pgoff > ra_pages // 2 else 0
        ra.size = <uint32_t>ra_pages
        ra.async_size = <uint32_t>(ra_pages // 4)
        ra.order = 0                     # 7.3 filemap.c:3424, :3438
        return self.do_page_cache_ra(file, ra.start, ra.size, ra.async_size, pgoff, True, vm_flags)

    cdef int do_async_mmap_readahead(self, uint32_t file, folio_idx_t pfn, uint32_t vm_flags) except -1 nogil:
        """Mirrors mm/filemap.c:do_async_mmap_readahead(): a fault on a cached page
        counts as a hit for mmap_miss, and one on a PG_readahead folio reads on."""
        cdef mem* m = &self.m
        if (vm_flags & VM_RAND_READ) or m.readahead_pages == 0:
            return 0
        # 7.3 (:3471-3480): VM_SEQ_READ and VM_EXEC mappings skip the increment
        # in do_sync_mmap_readahead(), so the decrement too
        if m.file_ra[file].mmap_miss and not (m.kernel >= 700 and (vm_flags & (VM_SEQ_READ | VM_EXEC))):
            m.file_ra[file].mmap_miss -= 1
        if m.folios[pfn].flags & PG_readahead:
            return self.page_cache_async_ra(file, pfn, <uint64_t>m.readahead_pages, True, vm_flags)
        return 0

    cdef int do_rw(self, bint write, uint32_t file, uint64_t pgoff) except -1 nogil:
        """Mirrors mm/filemap.c:filemap_read() and, for write(), the write_begin lookup
        (__filemap_get_folio(FGP_WRITEBEGIN)): read() reads a missing folio in and
        calls folio_mark_accessed() unless the previous read on the file ended in the
        same folio (pos_same_folio); write() never marks accessed (FGP_WRITEBEGIN has
        no FGP_ACCESSED), does no read I/O for a whole page and is not a refault."""
        cdef mem* m = &self.m
        cdef uint64_t e
        cdef folio_idx_t pfn, head
        self.file_ensure(file)
        e = pc_lookup(m, file, pgoff)
        if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
            pfn = <folio_idx_t>(e & ENTRY_MASK)
            charge(m, m.cost.read_hit)
            if m.events_on:
                emit(m, EV_ACCESS, R_HIT, FN_FILEMAP_READ, pfn, LOC_NONE, LOC_NONE, -1, -1)
            if not write:
                head = page_folio(m, pfn)
                if m.folios[head].flags & PG_readahead:
                    self.page_cache_async_ra(file, head, 1, False, 0)      # filemap_readahead()
                self.filemap_mark_accessed(file, pgoff, pfn)
        elif write:
            if self.alloc_gate():
                return NEED_RECLAIM
            pfn = self.page_cache_fill(file, pgoff, e, False, 0, R_READ_MISS, FN_FILEMAP_READ, True)
            charge(m, m.cost.read_hit)
        else:
            # filemap_get_pages(): page_cache_sync_readahead() first; the folio is
            # created on its own only if readahead could not allocate it
            if zone_watermark_ok(m, WMARK_MIN):
                self.page_cache_sync_ra(file, pgoff, 1, False, 0)
            e = pc_lookup(m, file, pgoff)
            if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                pfn = <folio_idx_t>(e & ENTRY_MASK)
            else:
                if self.alloc_gate():
                    return NEED_RECLAIM
                pfn = self.page_cache_fill(file, pgoff, e, False, 0, R_READ_MISS, FN_FILEMAP_READ)
            charge(m, m.cost.file_read)
            head = page_folio(m, pfn)
            if m.folios[head].flags & PG_readahead:
                self.page_cache_async_ra(file, head, 1, False, 0)
            self.filemap_mark_accessed(file, pgoff, pfn)
        if write:
            head = page_folio(m, pfn)        # the folio is dirty, all its pages
            if not (m.folios[head].flags & PG_dirty):
                folio_mark_dirty(m, head)
                self.note_dirtied()
        else:
            m.file_prev_index[file] = pgoff
        return 0

    cdef bint do_fault_around(self, uint32_t mm, uint32_t file, uint64_t pgoff, uint32_t vm_flags,
                              uint32_t** ptep) except -1 nogil:
        """Mirrors mm/memory.c:do_fault_around() + mm/filemap.c:filemap_map_pages(),
        tried first by a read fault (do_read_fault()): every cached folio of the
        FAULT_AROUND_PAGES-aligned window around the fault, up to i_size, that is
        not PG_readahead (next_uptodate_folio() leaves those to filemap_fault()) is
        mapped if its PTE is none -- young, as x86's vm_page_prot carries the
        accessed bit. True when that mapped the faulting page itself (no
        filemap_fault(), no async readahead). *ptep: the faulting PTE (allocated)."""
        cdef mem* m = &self.m
        cdef file_ra_state* ra = &m.file_ra[file]
        cdef uint64_t start = pgoff & ~(<uint64_t>FAULT_AROUND_PAGES - 1)
        cdef uint64_t end = start + FAULT_AROUND_PAGES - 1
        cdef uint64_t i, e
        cdef folio_idx_t pfn, head
        cdef uint32_t* pte
        cdef bint mapped_self = False, self_workingset = False
        cdef uint32_t not_workingset = 0
        if ra.nr_pages and end >= ra.nr_pages:
            end = ra.nr_pages - 1
        if ptep[0] == NULL:
            ptep[0] = pte_alloc(m, mm, file_vma_vpn(file, pgoff))
        # the window lies in one page table (16 divides 512): its PTEs are contiguous
        pte = ptep[0] - <int64_t>(pgoff - start)
        for i in range(start, end + 1):
            e = pc_lookup(m, file, i)
            if (e & ~ENTRY_MASK) != ENTRY_FOLIO:
                continue
            pfn = <folio_idx_t>(e & ENTRY_MASK)
            head = page_folio(m, pfn)        # the page's folio holds the flags
            if m.folios[head].flags & PG_readahead:
                continue
            # mmap_miss: 6.1 (:3494) counts every cached folio of the window as a
            # hit; 6.12 (:3559) only those without PG_workingset
            if m.kernel < 612:
                if ra.mmap_miss:
                    ra.mmap_miss -= 1
            elif not (m.folios[head].flags & PG_workingset):
                not_workingset += 1
            if pte[i - start] & PTE_PRESENT:
                continue
            self.map_pte(&pte[i - start], pfn, mm, False)
            if i == pgoff:
                mapped_self = True
                self_workingset = (m.folios[head].flags & PG_workingset) != 0
        if m.kernel >= 612 and m.kernel < 700:
            ra.mmap_miss = 0 if not_workingset >= ra.mmap_miss else ra.mmap_miss - not_workingset
        elif m.kernel >= 700 and mapped_self and not self_workingset \
                and not (vm_flags & (VM_SEQ_READ | VM_EXEC)) and ra.mmap_miss:
            # 7.3 (:3971-3992): one hit, for the folio that satisfied the fault
            ra.mmap_miss -= 1
        return mapped_self

    cdef int do_mmap(self, int op, uint32_t file, uint64_t pgoff, bint write) except -1 nogil:
        """Mirrors mm/memory.c:handle_mm_fault() + mm/filemap.c:filemap_fault() for a
        file mapping (M: VM_SHARED in the shared mm; X: VM_EXEC in the exec mm)."""
        cdef mem* m = &self.m
        cdef uint32_t mm = MM_EXEC if op == OP_EXEC else MM_SHARED
        cdef int32_t v = self.vma_get(mm, file, VM_EXEC if op == OP_EXEC else VM_SHARED)
        cdef uint32_t vm_flags = m.vmas[v].vm_flags
        cdef uint64_t vpn = file_vma_vpn(file, pgoff)
        cdef uint32_t* pte = pte_lookup(m, mm, vpn)
        cdef folio_idx_t pfn
        cdef uint64_t e
        cdef int64_t ptp
        if op == OP_EXEC:
            write = False
        # on the rig's TCG guests a load or jump through a file mapping costs ~30x
        # an anon one, hit or fault (validation/guest_costs.py); 0 elsewhere
        charge(m, m.cost.mmap_access)
        if pte != NULL and (pte[0] & PTE_PRESENT):
            pfn = pte[0] & PTE_PFN_MASK
            pte[0] |= PTE_YOUNG | (PTE_DIRTY if write else 0)
            ptp = (pte - m.ptes) // PTRS_PER_PTE
            m.ptp_young[ptp] = 1
            charge(m, m.cost.access)
            if m.events_on:
                emit(m, EV_ACCESS, R_HIT, FN_HANDLE_MM_FAULT, pfn, LOC_NONE, LOC_NONE, -1, -1)
        else:
            self.file_ensure(file)
            e = pc_lookup(m, file, pgoff)
            if not write and self.do_fault_around(mm, file, pgoff, vm_flags, &pte):
                # do_read_fault(): filemap_map_pages() mapped it, a minor fault
                pfn = pte[0] & PTE_PFN_MASK
                m.vmstat[<int>PGFAULT] += 1
                charge(m, m.cost.minor_fault)
                emit(m, EV_PGFAULT, R_FAULT_AROUND, FN_FILEMAP_MAP_PAGES, pfn, LOC_NONE, LOC_NONE, -1, -1)
            elif (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                pfn = <folio_idx_t>(e & ENTRY_MASK)
                if pte == NULL:
                    pte = pte_alloc(m, mm, vpn)
                self.map_pte(pte, pfn, mm, write)
                m.vmstat[<int>PGFAULT] += 1
                charge(m, m.cost.minor_fault)
                emit(m, EV_PGFAULT, R_FAULT_FILE, FN_FILEMAP_FAULT, pfn, LOC_NONE, LOC_NONE, -1, -1)
                self.do_async_mmap_readahead(file, page_folio(m, pfn), vm_flags)
            else:
                if zone_watermark_ok(m, WMARK_MIN):
                    self.do_sync_mmap_readahead(file, pgoff, vm_flags)
                    e = pc_lookup(m, file, pgoff)
                if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                    pfn = <folio_idx_t>(e & ENTRY_MASK)
                else:
                    if self.alloc_gate():
                        return NEED_RECLAIM
                    pfn = self.page_cache_fill(file, pgoff, e, True, vm_flags, R_FAULT_FILE, FN_FILEMAP_FAULT)
                if pte == NULL:
                    pte = pte_alloc(m, mm, vpn)
                self.map_pte(pte, pfn, mm, write)
                m.vmstat[<int>PGFAULT] += 1
                m.vmstat[<int>PGMAJFAULT] += 1
                charge(m, m.cost.file_read)
                emit(m, EV_PGMAJFAULT, R_FAULT_FILE, FN_FILEMAP_FAULT, pfn, LOC_NONE, LOC_NONE, -1, -1)
        m.mms[mm].ran = 1
        pfn = page_folio(m, pfn)
        if write and not (m.folios[pfn].flags & PG_dirty):
            folio_mark_dirty(m, pfn)              # the write fault / page_mkwrite dirties its folio
            self.note_dirtied()
        return 0

    cdef void free_anon_folio(self, folio_idx_t pfn, int reason, int fn) noexcept nogil:
        # zap + free of an anon folio (exit_mmap, oom kill)
        cdef mem* m = &self.m
        cdef uint32_t fl = m.folios[pfn].flags
        cdef int64_t seq = -1
        cdef int src = LOC_NONE
        if fl & PG_lru:
            src = self.policy.folio_loc(pfn, &seq)
            self.policy.lruvec_del_folio(pfn)
        if fl & PG_swapcache:
            swap_free(m, <int32_t>m.folios[pfn].swap - 1)
            m.vmstat[<int>NR_SWAPCACHED] -= 1
            m.vmstat[<int>NR_FILE_PAGES] -= 1
        if fl & PG_writeback:
            m.vmstat[<int>NR_WRITEBACK] -= 1
            wb_cancel(m, pfn)
        if m.folios[pfn].mapcount:
            m.vmstat[<int>NR_ANON_PAGES] -= 1
        # MGLRU: src_seq names the generation the folio left
        emit(m, EV_FREE, reason, fn, pfn, src, LOC_FREE, seq, -1)
        free_frame(m, pfn)

    cdef void exit_mmap(self, uint32_t mm, int reason) noexcept nogil:
        """Mirrors mm/mmap.c:exit_mmap(); simplified: only anonymous memory lives in a
        workload mm, so every present PTE frees its folio and every swap entry its slot."""
        cdef mem* m = &self.m
        cdef int32_t ptp
        cdef int64_t i, base
        cdef uint32_t pte
        cdef uint64_t e
        cdef int32_t slot
        if mm >= <uint32_t>m.nr_mms or mm < NR_INTERNAL_MMS:
            return
        ptp = m.mms[mm].first_ptp
        while ptp >= 0:
            base = <int64_t>ptp * PTRS_PER_PTE
            if m.ptp_nr_present[ptp] or True:
                for i in range(PTRS_PER_PTE):
                    pte = m.ptes[base + i]
                    if pte & PTE_PRESENT:
                        m.folios[pte & PTE_PFN_MASK].mapcount = 1
                        self.free_anon_folio(pte & PTE_PFN_MASK, reason, FN_EXIT_MMAP)
                    elif pte & PTE_SWAP:
                        slot = pte & PTE_PFN_MASK
                        e = m.swap_map[slot]
                        if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                            m.folios[e & ENTRY_MASK].mapcount = 0
                            self.free_anon_folio(<folio_idx_t>(e & ENTRY_MASK), reason, FN_EXIT_MMAP)
                        else:
                            swap_free(m, slot)
                    m.ptes[base + i] = 0
            m.ptp_nr_present[ptp] = 0
            m.ptp_young[ptp] = 0
            ptp = m.ptp_next[ptp]
        m.mms[mm].nr_ptes_present = 0
        m.mms[mm].alive = 0
        m.mms[mm].ran = 0

    cdef int out_of_memory(self) noexcept nogil:
        """Mirrors mm/oom_kill.c:out_of_memory(); simplified: the victim is the workload
        address space with the most resident + swapped anon pages (ties: lowest id)."""
        cdef mem* m = &self.m
        cdef uint32_t mm, victim = 0
        cdef int64_t best = 0, score, i, base
        cdef int32_t ptp
        for mm in range(NR_INTERNAL_MMS, m.nr_mms):
            if not m.mms[mm].alive:
                continue
            score = 0
            ptp = m.mms[mm].first_ptp
            while ptp >= 0:
                base = <int64_t>ptp * PTRS_PER_PTE
                for i in range(PTRS_PER_PTE):
                    if m.ptes[base + i] & (PTE_PRESENT | PTE_SWAP):
                        score += 1
                ptp = m.ptp_next[ptp]
            if score > best:
                best = score
                victim = mm
        if best == 0:
            return 0
        m.vmstat[<int>OOM_KILL] += 1
        self.s.nr_oom_kills += 1
        emit_arg(m, EV_OOM_KILL, R_OOM, FN_OUT_OF_MEMORY, victim - NR_INTERNAL_MMS, <uint64_t>best)
        self.exit_mmap(victim, R_OOM)
        return 1

    cdef int try_access(self, int op, bint write, uint32_t owner, uint64_t page, int64_t pos) except -1 nogil:
        self.m.cur_actor = RECLAIMER_NONE
        if op == OP_ANON:
            return self.do_anon(mm_of_owner(owner), page, write, pos)
        if op == OP_READ:
            return self.do_rw(False, owner, page)
        if op == OP_WRITE:
            return self.do_rw(True, owner, page)
        if op == OP_MMAP or op == OP_EXEC:
            return self.do_mmap(op, owner, page, write)
        if op == OP_EXIT:
            self.exit_mmap(mm_of_owner(owner), R_PROCESS_EXIT)
            return 0
        with gil:
            raise ValueError(f"unknown access op {op}")

    cdef void folio_end_writeback(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/filemap.c:folio_end_writeback(): a PG_reclaim folio is rotated."""
        cdef mem* m = &self.m
        if pfn < 0 or not (m.folios[pfn].flags & PG_writeback):
            return                               # cancelled: freed meanwhile (exit)
        m.folios[pfn].flags &= ~PG_writeback
        folio_flags_changed(m, pfn)
        m.vmstat[<int>NR_WRITEBACK] -= folio_nr_pages(m, pfn)
        emit(m, EV_WRITEBACK_END, R_NONE, FN_FOLIO_END_WRITEBACK, pfn, LOC_NONE, LOC_NONE, -1, -1)
        if folio_test_clear(m, pfn, PG_reclaim):
            self.policy.folio_rotate_reclaimable(pfn)

    cdef void complete_writeback(self, int64_t now) noexcept nogil:
        # both device FIFOs, merged in completion-time order
        cdef mem* m = &self.m
        cdef int q
        cdef int64_t t0, t1, slot
        while True:
            t0 = m.wb_time[m.wb_head[0] % m.nr_frames] if m.wb_head[0] < m.wb_tail[0] else -1
            t1 = m.wb_time[m.nr_frames + m.wb_head[1] % m.nr_frames] if m.wb_head[1] < m.wb_tail[1] else -1
            if t0 >= 0 and t0 <= now and (t1 < 0 or t0 <= t1):
                q = 0
            elif t1 >= 0 and t1 <= now:
                q = 1
            else:
                return
            slot = <int64_t>q * m.nr_frames + m.wb_head[q] % m.nr_frames
            m.wb_head[q] += 1
            self.folio_end_writeback(m.wb_pfn[slot])

    cdef void init_sc(self, scan_control* sc, int reclaimer, int64_t nr_to_reclaim, int priority) noexcept nogil:
        memset(sc, 0, sizeof(scan_control))
        sc.nr_to_reclaim = nr_to_reclaim
        sc.priority = priority
        sc.reclaimer = reclaimer
        sc.swappiness = -1
        sc.may_writepage = 1                      # !laptop_mode
        sc.may_unmap = 1
        sc.may_swap = 1

    cdef void pass_done(self, scan_control* sc) noexcept nogil:
        # shrink_node_memcgs() / 7.3 shrink_one(): shrink_slab() after the lruvec's pass
        shrink_shadow_nodes(&self.m, sc.priority)
        # shrink_node(): a pass that reclaimed anything makes the node hopeful again
        self.m.nr_shrink_passes += 1
        if sc.nr_reclaimed > sc.nr_reclaimed_start:
            self.s.kswapd_failures = 0

    cdef void direct_begin(self) noexcept nogil:
        """Mirrors mm/vmscan.c:try_to_free_pages(): nr_to_reclaim 32, priority 12."""
        cdef mem* m = &self.m
        m.cur_actor = RECLAIMER_DIRECT
        self.init_sc(&self.s.dsc, RECLAIMER_DIRECT, SWAP_CLUSTER_MAX, DEF_PRIORITY)
        # a page-cache miss allocates in readahead, under memalloc_nofs_save()
        # (page_cache_ra_unbounded(), page_cache_ra_order(): 6.1 readahead.c:224,
        # :525; 7.3 :241, :516): its reclaim runs without __GFP_FS
        self.s.dsc.gfp_nofs = self.s.p_op == OP_READ or self.s.p_op == OP_MMAP or self.s.p_op == OP_EXEC
        self.s.dr_state = DR_BEGIN
        self.s.dr_memcg_full_walk = 0
        self.s.nr_direct_reclaims += 1
        m.vmstat[<int>ALLOCSTALL_MOVABLE] += 1
        emit_arg(m, EV_DIRECT_RECLAIM_BEGIN, R_NONE, FN_TRY_TO_FREE_PAGES, 0, 0)

    cdef int direct_step(self) except -1 nogil:
        """One step of mm/vmscan.c:do_try_to_free_pages()'s priority loop: begin a
        shrink_node pass, or run one of its scan batches."""
        cdef mem* m = &self.m
        cdef scan_control* sc = &self.s.dsc
        cdef int r
        m.cur_actor = RECLAIMER_DIRECT
        self.complete_writeback(m.now_ns)
        if self.s.dr_state == DR_BEGIN:
            sc.nr_scanned = 0
            if sc.priority < DEF_PRIORITY - 2:
                sc.may_writepage = 1
            # shrink_node()'s lru_add_drain() (7.3 vmscan.c:2009, :2080, :5249) runs on
            # the CPU the allocation stalled on, the workload's; kswapd's drains its own
            m.lru_batch_nr = 0
            self.policy.shrink_node_begin(sc)
            self.s.dr_state = DR_PASS
        r = self.policy.shrink_node_step(sc)
        if r == STEP_BATCH or r == STEP_BATCH_LAST:
            m.nr_batches += 1
        if r == STEP_BATCH_LAST or r == STEP_DONE:
            self.pass_done(sc)
            if sc.nr_reclaimed >= sc.nr_to_reclaim:
                self.policy.snapshot_refaults()
                self.direct_end()
            elif sc.priority > 0:
                sc.priority -= 1
                self.s.dr_state = DR_BEGIN
            else:
                # the priority loop ran out: snapshot_refaults() after every sweep
                self.policy.snapshot_refaults()
                if sc.nr_reclaimed != 0:
                    self.direct_end()
                elif not self.s.dr_memcg_full_walk:
                    # "avoid false OOMs" with partial cgroup walks: one more full sweep,
                    # even with a single memcg
                    self.s.dr_memcg_full_walk = 1
                    self.direct_retry()
                elif sc.skipped_deactivate:
                    # retry the sweep deactivating the active lists regardless
                    sc.force_deactivate = 1
                    sc.skipped_deactivate = 0
                    self.direct_retry()
                else:
                    self.direct_end()
        return 0

    cdef void direct_retry(self) noexcept nogil:
        # do_try_to_free_pages()'s "goto retry": the label is above the ALLOCSTALL count
        self.s.dsc.priority = DEF_PRIORITY
        self.s.dr_state = DR_BEGIN
        self.m.vmstat[<int>ALLOCSTALL_MOVABLE] += 1

    cdef void direct_end(self) noexcept nogil:
        cdef mem* m = &self.m
        cdef int64_t nr = self.s.dsc.nr_reclaimed
        emit_arg(m, EV_DIRECT_RECLAIM_END, R_NONE, FN_TRY_TO_FREE_PAGES, 0, <uint64_t>nr)
        self.s.dr_state = DR_IDLE
        # __alloc_pages_slowpath(): retry the allocation; OOM after too many fruitless sweeps
        if nr > 0:
            self.s.no_progress_loops = 0
        else:
            # should_reclaim_retry(): no retry once no_progress_loops > MAX_RECLAIM_RETRIES,
            # so the 17th fruitless round goes to the OOM killer
            self.s.no_progress_loops += 1
            if self.s.no_progress_loops > MAX_RECLAIM_RETRIES:
                self.s.no_progress_loops = 0
                if not self.out_of_memory():
                    self.s.alloc_force = 1

    cdef int kswapd_step(self) except -1 nogil:
        """One step of kswapd: balance_pgdat()'s priority loop (kswapd_age_node, then
        kswapd_shrink_node one scan batch at a time) and kswapd_try_to_sleep()."""
        cdef mem* m = &self.m
        cdef scan_control* sc = &self.s.ksc
        cdef int r
        cdef int64_t newly
        cdef bint raise_priority, balanced
        m.cur_actor = RECLAIMER_KSWAPD
        if self.s.kswapd_state == KS_NAP:
            m.kswapd_ns = max64(m.kswapd_ns, self.s.k_nap_end)
            self.complete_writeback(m.kswapd_ns)
            if self.prepare_kswapd_sleep():
                self.s.kswapd_state = KS_SLEEP
                emit_arg(m, EV_KSWAPD_SLEEP, R_NONE, FN_KSWAPD_TRY_TO_SLEEP, 0, 0)
            else:
                m.vmstat[<int>KSWAPD_HIGH_WMARK_HIT_QUICKLY] += 1
                self.s.kswapd_state = KS_RUN
                self.kswapd_start_run()
            return 0
        self.complete_writeback(m.kswapd_ns)
        if self.s.k_phase == K_START:
            m.vmstat[<int>PAGEOUTRUN] += 1
            if m.nr_pcp_held and self.s.k_zoneidx == ZONE_NORMAL:
                self.release_pcp_pages()
            # balance_pgdat(): "account for the reclaim boost" of the eligible zones
            # (ZONE_DMA's, and ZONE_NORMAL's for an ordinary run), kept until the run ends
            self.s.k_zone_boost = m.watermark_boost_dma
            self.s.k_zone_boost_normal = m.watermark_boost_normal if self.s.k_zoneidx == ZONE_NORMAL else 0
            self.s.k_nr_boost_reclaim = self.s.k_zone_boost + self.s.k_zone_boost_normal
            emit_arg(m, EV_KSWAPD_WAKE, R_WATERMARK_BOOST if self.s.k_zoneidx == ZONE_DMA else
                     R_WATERMARK_BOOST_NORMAL if self.s.k_zone_boost_normal else R_NONE,
                     FN_BALANCE_PGDAT, 0, <uint64_t>self.s.k_zoneidx)
            self.init_sc(sc, RECLAIMER_KSWAPD, 0, DEF_PRIORITY)
            sc.dma_only = self.s.k_zoneidx == ZONE_DMA
            self.s.k_phase = K_LOOP
            return 0
        if self.s.k_phase == K_LOOP:
            balanced = pgdat_balanced(m, self.s.k_zoneidx)
            if not balanced and self.s.k_nr_boost_reclaim:
                # "If the pgdat is imbalanced then ignore boosting ... and restart"
                self.s.k_nr_boost_reclaim = 0
                sc.priority = DEF_PRIORITY
            if not self.s.k_nr_boost_reclaim and balanced:  # goto out
                self.balance_pgdat_out(False)
                return 0
            # "Do not writeback or swap pages for boosted reclaim"
            sc.may_writepage = not self.s.k_nr_boost_reclaim
            sc.may_swap = not self.s.k_nr_boost_reclaim
            self.s.k_phase = K_AGE
            return 0
        if self.s.k_phase == K_AGE:
            r = self.policy.age_node(sc)
            if r == STEP_OOM:
                # lru_gen_age_node(): every generation younger than min_ttl_ms (added by the lru_gen helper)
                self.out_of_memory()
            if r == STEP_BATCH or r == STEP_BATCH_LAST:
                m.nr_batches += 1
            if r != STEP_BATCH and r != STEP_AGED:
                self.s.k_phase = K_SHRINK_BEGIN
            return 0
        if self.s.k_phase == K_SHRINK_BEGIN:
            if sc.priority < DEF_PRIORITY - 2:
                sc.may_writepage = 1
            sc.nr_scanned = 0
            # kswapd_shrink_node(): "reclaim a number of pages proportional to the
            # number of zones", max(high_wmark_pages(zone), SWAP_CLUSTER_MAX) per
            # managed zone up to reclaim_idx (6.1 vmscan.c:6953-6960, 6.12
            # :6790-6797, 7.3 :7096-7099): ZONE_DMA adds at least 32
            sc.nr_to_reclaim = 0
            if not sc.dma_only:
                sc.nr_to_reclaim = max64(normal_wmark(m, WMARK_HIGH), SWAP_CLUSTER_MAX)
            if m.nr_dma:
                sc.nr_to_reclaim += max64(dma_wmark(m, WMARK_HIGH), SWAP_CLUSTER_MAX)
            self.s.k_iter_reclaimed = sc.nr_reclaimed
            self.policy.shrink_node_begin(sc)
            self.s.k_phase = K_SHRINK
        r = self.policy.shrink_node_step(sc)
        if r == STEP_BATCH or r == STEP_BATCH_LAST:
            m.nr_batches += 1
        if r == STEP_BATCH_LAST or r == STEP_DONE:
            self.pass_done(sc)
            newly = sc.nr_reclaimed - self.s.k_iter_reclaimed
            raise_priority = not (max64(sc.nr_scanned, newly) >= sc.nr_to_reclaim)
            if self.s.k_nr_boost_reclaim and sc.priority == DEF_PRIORITY - 2:
                raise_priority = False     # "Limit the priority of boosting"
            self.s.k_last_scanned = sc.nr_scanned
            self.s.k_last_newly = newly
            self.s.k_last_target = sc.nr_to_reclaim
            self.s.k_last_priority = sc.priority
            self.s.k_nr_passes += 1
            self.s.k_nr_boost_reclaim -= min(self.s.k_nr_boost_reclaim, newly)
            if self.s.k_nr_boost_reclaim and newly == 0:
                # "If reclaim made no progress for a boost, stop reclaim"
                self.balance_pgdat_out(False)
                return 0
            if raise_priority or newly == 0:
                sc.priority -= 1
            self.s.k_last_next_priority = sc.priority
            if sc.priority >= 1:
                self.s.k_phase = K_LOOP
            else:
                self.balance_pgdat_out(True)
        return 0

    cdef void release_pcp_pages(self) noexcept nogil:
        # balance_pgdat() sets ZONE_RECLAIM_ACTIVE on the zones it reclaims for
        # (set_reclaim_active(), 7.3 vmscan.c:7199, 6.12 :6904), so a run for
        # ZONE_DMA alone leaves ZONE_DMA32's lists be; from then on every free trims
        # pcp->high towards high_min (nr_pcp_high(), 7.3 page_alloc.c:2821-2826, 6.12
        # :2647-2652) and what the lists held above it goes back to the buddy lists:
        # here at once, as the first run for every zone starts. The boots' free
        # pages and LRU lists stay that much larger to the replay's end
        # (validation/pcp_pages.py), so the lists' regrowth between runs is left out
        cdef mem* m = &self.m
        cdef folio_idx_t pfn
        for pfn in range(m.nr_frames - m.nr_pcp_held, m.nr_frames):
            free_frame(m, pfn)
        m.nr_pcp_held = 0

    cdef bint prepare_kswapd_sleep(self) noexcept nogil:
        """Mirrors mm/vmscan.c:prepare_kswapd_sleep(): hopeless or balanced."""
        cdef mem* m = &self.m
        if self.s.kswapd_failures >= MAX_RECLAIM_RETRIES:
            return True
        if pgdat_balanced(m, self.s.k_zoneidx):
            m.lv.flags &= ~(PGDAT_DIRTY | PGDAT_WRITEBACK)   # clear_pgdat_congested()
            return True
        return False

    cdef void balance_pgdat_out(self, bint exhausted) noexcept nogil:
        # the end of balance_pgdat() and kswapd_try_to_sleep()'s first half.
        # exhausted: the priority loop fell through (priority < 1); the balanced exit
        # is balance_pgdat()'s "goto out", which skips the restart and the failure count
        cdef mem* m = &self.m
        cdef scan_control* sc = &self.s.ksc
        if self.s.k_zone_boost:
            # "If reclaim was boosted, account for the reclaim done in this pass"
            m.watermark_boost_dma -= min(m.watermark_boost_dma, self.s.k_zone_boost)
            self.s.k_zone_boost = 0
        if self.s.k_zone_boost_normal:
            m.watermark_boost_normal -= min(m.watermark_boost_normal, self.s.k_zone_boost_normal)
            self.s.k_zone_boost_normal = 0
        if exhausted and sc.nr_reclaimed == 0:
            if sc.cache_trim_mode_failed and not sc.no_cache_trim_mode:
                sc.no_cache_trim_mode = 1          # restart once without cache trimming
                sc.priority = DEF_PRIORITY
                self.s.k_phase = K_LOOP
                return
            self.s.kswapd_failures += 1
        self.policy.snapshot_refaults()
        if self.prepare_kswapd_sleep():
            self.s.kswapd_state = KS_NAP
            self.s.k_nap_end = m.kswapd_ns + HZ_TENTH_NS
        else:
            m.vmstat[<int>KSWAPD_HIGH_WMARK_HIT_QUICKLY] += 1
            self.kswapd_start_run()

    cdef inline uint32_t* pf_pte(self, int64_t pos, uint32_t mm, uint64_t vpn) noexcept nogil:
        # the PTE of workload access `pos`, from the run-ahead hint when it has one
        # (page-table pages are never freed, so a found ptp index stays valid)
        cdef int32_t idx
        if self.pf_pos[pos & 31] == pos:
            idx = self.pf_ptp[pos & 31]
            if idx >= 0:
                return &self.m.ptes[<int64_t>idx * PTRS_PER_PTE + <int64_t>(vpn & (PTRS_PER_PTE - 1))]
        return pte_lookup(&self.m, mm, vpn)

    cdef void prefetch_ahead(self, int64_t pos) noexcept nogil:
        # The workload is known in advance: touch the hash slots, then the PTE or
        # page-cache value, then the folio of the coming accesses so their cache
        # misses overlap. A hint only; nothing observable changes.
        cdef mem* m = &self.m
        cdef access_rec* a
        cdef uint64_t key, i, e
        cdef uint32_t* pte
        cdef folio_idx_t pfn
        cdef int64_t n = self.s.nr_workload
        if pos + PF_FAR < n:
            a = &self.wl[pos + PF_FAR]
            if a.op == OP_ANON:
                key = ((<uint64_t>(a.owner + NR_INTERNAL_MMS) << 44) | (a.page >> 9)) + 1
                i = hash64(key) & <uint64_t>m.pt_hash_mask
                prefetch(&m.pt_hash_keys[i])
                prefetch(&m.pt_hash_vals[i])
            elif a.op == OP_READ or a.op == OP_WRITE:
                i = hash64(pc_key(a.owner, a.page)) & <uint64_t>m.pc_mask
                prefetch(&m.pc_keys[2 * i])             # the value shares the line
        if pos + PF_MID < n:
            a = &self.wl[pos + PF_MID]
            if a.op == OP_ANON:
                pte = pte_lookup(m, a.owner + NR_INTERNAL_MMS, a.page)
                self.pf_pos[(pos + PF_MID) & 31] = pos + PF_MID
                self.pf_ptp[(pos + PF_MID) & 31] = -1
                if pte != NULL:
                    prefetch(pte)
                    self.pf_ptp[(pos + PF_MID) & 31] = <int32_t>((pte - m.ptes) // PTRS_PER_PTE)
            elif (a.op == OP_READ or a.op == OP_WRITE) and a.owner < <uint32_t>m.nr_files:
                e = pc_lookup(m, a.owner, a.page)
                self.pf_pos[(pos + PF_MID) & 31] = pos + PF_MID
                self.pf_ptp[(pos + PF_MID) & 31] = -1
                if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                    prefetch(&m.folios[e & ENTRY_MASK])
                    self.pf_ptp[(pos + PF_MID) & 31] = <int32_t>(e & ENTRY_MASK)
                prefetch(&m.file_prev_index[a.owner])
        if pos + PF_NEAR < n:
            a = &self.wl[pos + PF_NEAR]
            if a.op == OP_ANON:
                pte = self.pf_pte(pos + PF_NEAR, a.owner + NR_INTERNAL_MMS, a.page)
                if pte != NULL:
                    if (pte[0] & PTE_PRESENT) and a.write:
                        prefetch(&m.folios[pte[0] & PTE_PFN_MASK])
                    elif pte[0] & PTE_SWAP:
                        prefetch(&m.swap_map[pte[0] & PTE_PFN_MASK])
            elif a.op == OP_READ and self.pf_pos[(pos + PF_NEAR) & 31] == pos + PF_NEAR:
                # a tail page of a large folio: its head holds the flags a read tests
                pfn = self.pf_ptp[(pos + PF_NEAR) & 31]
                if pfn >= 0 and (m.folios[pfn].flags & PG_tail):
                    prefetch(&m.folios[m.folios[pfn].next])

    cdef int advance(self) except -1 nogil:
        """One action of the machine: a direct-reclaim step, a kswapd step, or one
        access. Returns 1 when there is nothing left to do (workload exhausted)."""
        cdef mem* m = &self.m
        cdef access_rec* a
        cdef int r
        if m.lv.stat_flush_ns and m.now_ns >= m.lv.stat_next_flush_ns and m.kernel >= 612:
            self.flush_memcg_stats_dwork()
        if self.s.dr_state != DR_IDLE:
            self.direct_step()
            return 0
        if self.s.kswapd_state == KS_RUN and m.kswapd_ns <= m.now_ns:
            self.kswapd_step()
            return 0
        if self.s.kswapd_state == KS_NAP and self.s.k_nap_end <= m.now_ns:
            self.kswapd_step()
            return 0
        if self.s.pending == PENDING_NONE:
            if self.s.position >= self.s.nr_workload:
                return 1
            a = &self.wl[self.s.position]
            self.prefetch_ahead(self.s.position)
            self.s.pending = PENDING_WORKLOAD
            self.s.p_op = a.op
            self.s.p_write = a.write
            self.s.p_owner = a.owner
            self.s.p_page = a.page
        m.cur_actor = RECLAIMER_NONE
        self.complete_writeback(m.now_ns)
        r = self.try_access(self.s.p_op, self.s.p_write, self.s.p_owner, self.s.p_page,
                            self.s.position if self.s.pending == PENDING_WORKLOAD else -1)
        if r == NEED_RECLAIM:
            if self.s.alloc_force:
                # nothing left to kill and no free frame: the access fails, visibly
                self.s.nr_alloc_fail += 1
                emit_arg(m, EV_OOM_KILL, R_OOM, FN_OUT_OF_MEMORY, 0xFFFFFFFF, 0)
            else:
                self.direct_begin()
                return 0
        if self.s.pending == PENDING_WORKLOAD:
            self.s.position += 1
        self.s.pending = PENDING_NONE
        self.s.alloc_force = 0
        m.nr_access += 1
        return 0

    cdef void flush_memcg_stats_dwork(self) noexcept nogil:
        """Mirrors mm/memcontrol.c:flush_memcg_stats_dwork() (6.12, 7.3): every
        FLUSH_TIME (2 s) of the workload's clock, whatever is pending."""
        cdef mem* m = &self.m
        memcg_flush_stats(m)
        while m.lv.stat_next_flush_ns <= m.now_ns:
            m.lv.stat_next_flush_ns += m.lv.stat_flush_ns

    cdef uint64_t unit_counter(self, int unit) noexcept nogil:
        if unit == 0:
            return self.m.nr_access
        if unit == 1:
            return self.m.nr_batches
        if unit == 2:
            return self.m.nr_shrink_passes
        return self.m.nr_aging

    # ======================================================================
    # Python API
    # ======================================================================

    def set_workload(self, accesses):
        """Keep a reference to an ACCESS_DTYPE array; the position starts at 0."""
        arr = np.ascontiguousarray(accesses)
        if arr.dtype != ACCESS_DTYPE:
            try:
                arr = np.ascontiguousarray(arr.astype(ACCESS_DTYPE))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"workload must have ACCESS_DTYPE: {exc}") from None
        if arr.ndim != 1:
            raise ValueError("workload must be one-dimensional")
        cdef const uint8_t[::1] view = arr.view(np.uint8) if len(arr) else np.zeros(16, np.uint8)
        cdef workload_files seen = scan_workload_files(<const access_rec*>&view[0], len(arr))
        if seen.max_op > OP_EXIT:
            raise ValueError("workload has an unknown op")
        self._workload = arr
        self.wl = <access_rec*>&view[0]
        self._note_file_sizes(<const access_rec*>&view[0], len(arr), &seen)
        self.pf_reset()
        self.s.position = 0
        self.s.nr_workload = len(arr)
        self.nr_fed = 0
        if self.s.pending == PENDING_WORKLOAD:
            self.s.pending = PENDING_NONE

    def note_file_sizes(self, arr):
        """Grow each file's size (in pages) to cover the highest page the workload
        names, so that readahead stops at its end as the kernel's does at i_size."""
        cdef int64_t n = len(arr)
        cdef const uint8_t[::1] view
        cdef workload_files seen
        if not n:
            return
        if arr.dtype != ACCESS_DTYPE or arr.ndim != 1:
            raise ValueError("note_file_sizes() takes a one-dimensional ACCESS_DTYPE array")
        view = np.ascontiguousarray(arr).view(np.uint8)
        seen = scan_workload_files(<const access_rec*>&view[0], n)
        self._note_file_sizes(<const access_rec*>&view[0], n, &seen)

    cdef _note_file_sizes(self, const access_rec* a, int64_t n, workload_files* seen):
        # file_ensure() refuses an id out of range before any size is touched
        # (set_workload() then fails whole); a workload of one file (a trace's
        # file 0) has its size from the scan, without a second pass
        cdef int64_t i
        cdef file_ra_state* ra
        if not seen.any_file:
            return
        self.file_ensure(seen.top_file)
        ra = self.m.file_ra
        if seen.one_file:
            if seen.top_page + 1 > ra[seen.top_file].nr_pages:
                ra[seen.top_file].nr_pages = seen.top_page + 1
            return
        with nogil:
            for i in range(n):
                if OP_READ <= a[i].op <= OP_EXEC and a[i].page + 1 > ra[a[i].owner].nr_pages:
                    ra[a[i].owner].nr_pages = a[i].page + 1

    def feed(self, accesses):
        """Continue the workload with its next chunk (streaming input).

        Like set_workload(), but only once the current chunk is consumed
        (`done`): the machine then runs on exactly as if the chunks were one
        array -- kswapd steps due before the next access run in the next
        run(), not at the end of this one. `position` restarts at 0 in the new
        chunk; `fed` counts the accesses of the chunks before it. A file's size
        (where read-ahead stops, note_file_sizes()) grows with the chunks: call
        note_file_sizes() with the whole workload first when it is known, to
        get exactly the run of one array."""
        if not self.done:
            raise RuntimeError("feed(): the current chunk is not consumed yet; run_to_end() first")
        cdef int64_t fed = self.nr_fed + self.s.nr_workload
        self.set_workload(accesses)
        self.nr_fed = fed

    @property
    def fed(self):
        return self.nr_fed

    @property
    def position(self):
        return self.s.position

    @property
    def done(self):
        return self.s.position >= self.s.nr_workload and self.s.pending == PENDING_NONE

    def step(self, unit="access", int count=1):
        """Run until `count` units completed; returns how many did."""
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        cdef int u = UNITS.index(unit)
        if unit not in self.info.units:
            return 0                            # e.g. aging under a policy without generations
        if count < 0:
            raise ValueError("count must be >= 0")
        cdef uint64_t start = self.unit_counter(u)
        self.m.events_on = 1
        with nogil:
            while self.unit_counter(u) - start < <uint64_t>count:
                if self.advance() or self.policy.failed:
                    break
        self._check_policy()
        return int(self.unit_counter(u) - start)

    cdef _check_policy(self):
        # a plug-in policy's hook failed: end the step with its error (the
        # caller -- a session -- rolls back to a known state)
        if self.policy.failed:
            raise self.policy.hook_error

    def run(self, int64_t n_accesses):
        """Run-ahead: n accesses on the nogil fast path, no events recorded."""
        if n_accesses < 0:
            raise ValueError("n_accesses must be >= 0")
        cdef uint64_t start = self.m.nr_access
        self.m.events_on = 0
        try:
            with nogil:
                while self.m.nr_access - start < <uint64_t>n_accesses:
                    if self.advance() or self.policy.failed:
                        break
        finally:
            self.m.events_on = 1
        self._check_policy()
        return int(self.m.nr_access - start)

    def run_to_end(self):
        return self.run(max(0, self.s.nr_workload - self.s.position + (1 if self.s.pending else 0)))

    # --- test hooks ---------------------------------------------------------------

    def access(self, op, owner, page=0, write=False):
        """Perform one access outside the workload now (reclaim runs as needed).
        `op` is an int or a trace letter (A R W M X U). Returns page_state() after it."""
        cdef int o = _op_code(op)
        if self.s.pending != PENDING_NONE:
            raise RuntimeError("an access is pending in direct reclaim; step it first")
        if owner < 0 or page < 0:
            raise ValueError("owner and page must be >= 0")
        self.s.pending = PENDING_HOOK
        self.s.p_op = o
        self.s.p_write = 1 if write else 0
        self.s.p_owner = owner
        self.s.p_page = page
        self.m.events_on = 1
        with nogil:
            while self.s.pending == PENDING_HOOK and not self.policy.failed:
                self.advance()
        self._check_policy()
        return self.page_state(o, owner, page) if o != OP_EXIT else None

    def reclaim(self, int64_t nr_to_reclaim=SWAP_CLUSTER_MAX, reclaimer="kswapd", int priority=DEF_PRIORITY,
                swappiness=None, force_deactivate=False, reclaim_idx="Normal", gfp_nofs=False):
        """Run one whole shrink_node pass now; returns its scan_control results.
        reclaim_idx "DMA" reclaims for ZONE_DMA alone, as kswapd does for a boost;
        gfp_nofs without __GFP_FS, as direct reclaim for readahead's allocation does."""
        cdef scan_control sc
        cdef int r
        cdef int rc = {"kswapd": RECLAIMER_KSWAPD, "direct": RECLAIMER_DIRECT}.get(reclaimer, -1)
        if rc < 0:
            raise ValueError("reclaimer must be 'kswapd' or 'direct'")
        if not 0 <= priority <= DEF_PRIORITY:
            raise ValueError("priority must be 0..12")
        if reclaim_idx not in ("DMA", "Normal"):
            raise ValueError("reclaim_idx must be 'DMA' or 'Normal'")
        self.init_sc(&sc, rc, nr_to_reclaim, priority)
        sc.dma_only = reclaim_idx == "DMA"
        if swappiness is not None:
            sc.swappiness = swappiness
        sc.force_deactivate = 1 if force_deactivate else 0
        sc.gfp_nofs = 1 if gfp_nofs else 0
        cdef uint64_t b0 = self.m.nr_batches
        self.m.events_on = 1
        with nogil:
            self.m.cur_actor = rc
            if rc == RECLAIMER_KSWAPD:
                self.m.kswapd_ns = max64(self.m.kswapd_ns, self.m.now_ns)   # runs now, as wakeup_kswapd() starts its clock
            if rc == RECLAIMER_DIRECT:
                self.m.lru_batch_nr = 0              # the workload's CPU: lru_add_drain()
            self.policy.shrink_node_begin(&sc)
            while True:
                r = self.policy.shrink_node_step(&sc)
                if r == STEP_BATCH or r == STEP_BATCH_LAST:
                    self.m.nr_batches += 1
                if r == STEP_BATCH_LAST or r == STEP_DONE:
                    break
            self.pass_done(&sc)
            self.m.cur_actor = RECLAIMER_NONE
        self._check_policy()
        return {"nr_scanned": sc.nr_scanned, "nr_reclaimed": sc.nr_reclaimed,
                "nr_batches": int(self.m.nr_batches - b0), "may_deactivate": sc.may_deactivate,
                "cache_trim_mode": sc.cache_trim_mode, "file_is_tiny": sc.file_is_tiny,
                "targets": [sc.targets[i] for i in range(4)], "skipped_deactivate": sc.skipped_deactivate}

    # --- MGLRU debugfs (added by the lru_gen helper: delegates to MultiGenLru) ---
    def lru_gen_text(self, full=False):
        """/sys/kernel/debug/lru_gen (full=False) or lru_gen_full text; MGLRU only."""
        from engine import PolicyError
        if not self.info.debugfs:
            raise PolicyError(f"policy {self.info.key!r} has no debugfs interface")
        return (<object>self.policy).lru_gen_text(bool(full))

    def debugfs_write(self, text):
        """Write commands to /sys/kernel/debug/lru_gen ('+'/'-', see docs/mglru.md);
        raises engine.DebugfsError("EINVAL" / "EEXIST") as the kernel's write would."""
        from engine import PolicyError
        if not self.info.debugfs:
            raise PolicyError(f"policy {self.info.key!r} has no debugfs interface")
        if not isinstance(text, str):
            raise TypeError("debugfs_write() takes a str")
        self.m.events_on = 1
        # cur_actor is not saved in state_bytes(): left at kswapd by a previous
        # step, it would charge this write to the kswapd clock only when no
        # load_state() came in between (server replay diverged).
        self.m.cur_actor = RECLAIMER_NONE
        (<object>self.policy).debugfs_write(text)

    def writeback_complete_all(self):
        """Complete all in-flight I/O now (at the latest completion time)."""
        cdef int64_t t = 0
        cdef int q
        for q in range(2):
            if self.m.wb_head[q] < self.m.wb_tail[q]:
                t = max(t, self.m.wb_time[q * self.m.nr_frames + (self.m.wb_tail[q] - 1) % self.m.nr_frames])
        self.m.events_on = 1
        self.m.cur_actor = RECLAIMER_NONE
        # every queued completion, whatever its time (FIFOs need not be sorted)
        while self.m.wb_head[0] < self.m.wb_tail[0] or self.m.wb_head[1] < self.m.wb_tail[1]:
            self.complete_writeback(1 << 62)
        if t > self.m.now_ns:
            self.m.now_ns = t

    def set_vma_flags(self, mm_kind, int file, int flags):
        """Set the vm_flags of the M ("shared") or X ("exec") mapping of a file."""
        cdef uint32_t mm
        if mm_kind in ("M", "shared", OP_MMAP):
            mm = MM_SHARED
        elif mm_kind in ("X", "exec", OP_EXEC):
            mm = MM_EXEC
        else:
            raise ValueError("mm_kind must be 'M'/'shared' or 'X'/'exec'")
        if file < 0:
            raise ValueError("file must be >= 0")
        cdef int32_t v = self.vma_get(mm, file, VM_EXEC if mm == MM_EXEC else VM_SHARED)
        self.m.vmas[v].vm_flags = flags

    def wakeup_flusher_threads(self):
        """Wake the flusher threads now (test hook); returns folios queued for writeback."""
        self.m.cur_actor = RECLAIMER_NONE
        return wakeup_flusher_threads(&self.m)

    def debug_set_folio_flags(self, int pfn, int set_mask=0, int clear_mask=0):
        """Test hook: set/clear PG_referenced, PG_reclaim, PG_workingset (no gauge effects)."""
        allowed = PG_referenced | PG_reclaim | PG_workingset
        if (set_mask | clear_mask) & ~allowed:
            raise ValueError("only PG_referenced, PG_reclaim and PG_workingset may be set directly")
        if not 0 <= pfn < self.m.nr_frames:
            raise IndexError(pfn)
        self.m.folios[pfn].flags = (self.m.folios[pfn].flags | set_mask) & ~clear_mask
        folio_flags_changed(&self.m, pfn)

    def debug_set_lruvec_flags(self, int flags):
        """Test hook: PGDAT_DIRTY (1) | PGDAT_WRITEBACK (2)."""
        self.m.lv.flags = flags & (PGDAT_DIRTY | PGDAT_WRITEBACK)

    def kswapd_wake(self):
        """wakeup_kswapd() now (test hook)."""
        self.wakeup_kswapd()

    # --- progress ------------------------------------------------------------------

    @property
    def nr_access(self):
        return self.m.nr_access

    @property
    def nr_batches(self):
        return self.m.nr_batches

    @property
    def nr_shrink_passes(self):
        return self.m.nr_shrink_passes

    @property
    def nr_aging(self):
        return self.m.nr_aging

    @property
    def time_ns(self):
        return self.m.now_ns

    @property
    def kswapd_time_ns(self):
        return self.m.kswapd_ns

    @property
    def kswapd(self):
        return {"state": ("sleeping", "running", "napping")[self.s.kswapd_state],
                "kswapd_failures": self.s.kswapd_failures, "priority": self.s.ksc.priority,
                "nr_reclaimed": self.s.ksc.nr_reclaimed, "nr_to_reclaim": self.s.ksc.nr_to_reclaim,
                "last_pass": {"priority": self.s.k_last_priority, "nr_scanned": self.s.k_last_scanned,
                              "nr_reclaimed": self.s.k_last_newly, "nr_to_reclaim": self.s.k_last_target,
                              "next_priority": self.s.k_last_next_priority},
                "nr_passes": self.s.k_nr_passes,
                # balance_pgdat()'s highest_zoneidx; ZONE_DMA's watermark boost
                "highest_zoneidx": ("ZONE_DMA", "ZONE_NORMAL")[self.s.k_zoneidx],
                "watermark_boost_dma": self.m.watermark_boost_dma,
                "watermark_boost_normal": self.m.watermark_boost_normal,
                # __rmqueue_fallback()s into each zone's holes (mm_page_alloc_extfrag)
                "nr_fallback": {"dma": self.m.nr_fallback[ZONE_DMA], "normal": self.m.nr_fallback[ZONE_NORMAL]},
                "hole_free": {"dma": self.m.nr_hole_free_dma, "normal": self.m.nr_hole_free_normal},
                "claimable": self.m.nr_claimable_normal,
                "nr_dma_alloc": self.m.dma_alloc_count,
                # the per-CPU lists' pages not yet handed back (config pcp_pages)
                "pcp_held": self.m.nr_pcp_held}

    @property
    def compaction(self):
        # compaction's migrate scanner (migrate_one_folio()): where the next attempt
        # starts, and defer_compaction()'s state
        return {"migrate_pfn": self.m.compact_cursor, "defer_shift": self.m.compact_defer_shift,
                "considered": self.m.compact_considered}

    @property
    def direct_reclaim(self):
        return {"active": self.s.dr_state != DR_IDLE, "priority": self.s.dsc.priority,
                "nr_reclaimed": self.s.dsc.nr_reclaimed, "no_progress_loops": self.s.no_progress_loops,
                "nr_direct_reclaims": self.s.nr_direct_reclaims}

    @property
    def nr_alloc_fail(self):
        return self.s.nr_alloc_fail

    @property
    def nr_free(self):
        return self.m.nr_free

    @property
    def watermarks(self):
        return {"min": self.m.wmark_min, "low": self.m.wmark_low, "high": self.m.wmark_high}

    @property
    def config(self):
        import copy
        return copy.deepcopy(self._config)

    @property
    def lruvec(self):
        return {"anon_cost": self.m.lv.anon_cost, "file_cost": self.m.lv.file_cost,
                "nonresident_age": self.m.lv.nonresident_age,
                "refaults": [self.m.lv.refaults[0], self.m.lv.refaults[1]], "flags": self.m.lv.flags,
                "rotated": [self.m.vmstat[<int>PGROTATE_ANON], self.m.vmstat[<int>PGROTATE_FILE]]}   # 7.3

    @property
    def memcg_stats(self):
        """What classic reclaim reads through lruvec_page_state(): on 6.12 and 7.3
        with flush_time_ms the copy the periodic flush left (engine/core.pxd),
        otherwise the counters themselves; and when the flush runs next (6.12, 7.3)."""
        cdef int i
        names = ("nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
                 "workingset_activate_anon", "workingset_activate_file", "workingset_restore_anon",
                 "workingset_restore_file", "nr_vmscan_write", "pgrotate_anon", "pgrotate_file")
        out = {names[i]: int(lruvec_page_state(&self.m, i)) for i in range(NR_MEMCG_STATS)}
        out["next_flush_ns"] = (int(self.m.lv.stat_next_flush_ns)
                                if self.m.kernel >= 612 and self.m.lv.stat_flush_ns else None)
        return out

    # --- state views ----------------------------------------------------------------

    def vmstat(self):
        cdef int i
        return {VMSTAT_NAMES[i]: self.m.vmstat[i] for i in range(NR_VMSTAT_ITEMS)}

    def meminfo(self, int64_t mlocked=-1):
        """/proc/meminfo. `mlocked`: the count of PG_mlocked frames when the
        caller has it (layout_order()/layout_location() count them in their
        pass), which saves a pass over the folio table."""
        v = self.m.vmstat
        kb = 4
        cdef int32_t i
        cdef mem* m = &self.m
        if mlocked < 0:
            mlocked = 0
            with nogil:
                for i in range(m.nr_frames):
                    if m.folios[i].flags & PG_mlocked:
                        mlocked += folio_nr_pages(m, i)     # NR_MLOCK counts pages
        return {
            "MemTotal": self.m.nr_frames * kb, "MemFree": self.m.nr_free * kb,
            "Active": (v[<int>NR_ACTIVE_ANON] + v[<int>NR_ACTIVE_FILE]) * kb,
            "Inactive": (v[<int>NR_INACTIVE_ANON] + v[<int>NR_INACTIVE_FILE]) * kb,
            "Active(anon)": v[<int>NR_ACTIVE_ANON] * kb, "Inactive(anon)": v[<int>NR_INACTIVE_ANON] * kb,
            "Active(file)": v[<int>NR_ACTIVE_FILE] * kb, "Inactive(file)": v[<int>NR_INACTIVE_FILE] * kb,
            "Unevictable": v[<int>NR_UNEVICTABLE] * kb, "Mlocked": mlocked * kb,
            "SwapTotal": self.m.nr_swap_slots * kb, "SwapFree": self.m.nr_swap_free * kb,
            "SwapCached": v[<int>NR_SWAPCACHED] * kb, "Dirty": v[<int>NR_DIRTY] * kb, "Writeback": v[<int>NR_WRITEBACK] * kb,
            "AnonPages": v[<int>NR_ANON_PAGES] * kb, "Mapped": v[<int>NR_MAPPED] * kb,
            "Cached": (v[<int>NR_FILE_PAGES] - v[<int>NR_SWAPCACHED]) * kb,
        }

    cdef object list_array(self, int head):
        cdef mem* m = &self.m
        cdef folio_idx_t h = m.nr_frames + head
        cdef folio_idx_t p = m.folios[h].next
        cdef int64_t n = 0
        while p != h and n <= m.nr_frames:
            n += 1
            p = m.folios[p].next
        out = np.empty(n, dtype=np.int32)
        cdef int32_t[::1] o = out
        p = m.folios[h].next
        n = 0
        while p != h and n < o.shape[0]:
            o[n] = p
            n += 1
            p = m.folios[p].next
        return out

    def list_pfns(self, int head):
        """pfns on list head `head` (core.pxd HEAD_*), head -> tail."""
        if not 0 <= head < NR_LIST_HEADS:
            raise ValueError("bad list head")
        return self.list_array(head)

    def lists(self):
        cdef int lru
        if self.info.view == "generations":
            snap = self.policy.snapshot()
            out = {k: snap[k] for k in ("max_seq", "min_seq", "gens") if k in snap}
            out["LRU_UNEVICTABLE"] = self.list_array(HEAD_LRU + LRU_UNEVICTABLE)
            return out
        out = {LOCATIONS[lru]: self.list_array(HEAD_LRU + lru) for lru in range(NR_LRU_LISTS)}
        view = getattr(self.policy, "lists_view", None)
        own = view() if view is not None else None
        if own:
            out.update(own)                   # a Python policy's own order of each list
        return out

    def workingset_size(self, file):
        """mm/workingset.c:workingset_test_recent()'s workingset size (classic lists)."""
        return int(workingset_size(&self.m, bool(file)))

    def frames(self):
        n = self.m.nr_frames
        cdef uint8_t[::1] view = <uint8_t[:(n + NR_LIST_HEADS) * sizeof(folio)]><uint8_t*>self.m.folios
        arr = np.asarray(view).view(FOLIO_DTYPE)[:n]
        arr.flags.writeable = False
        return {"flags": arr["flags"], "mapping": arr["mapping"], "index": arr["index"],
                "mapcount": arr["mapcount"]}

    def links(self):
        """int32 per frame, then per list head (core.pxd HEAD_*): the `next`
        index of the folio table, zero-copy and read-only. Entry nr_frames +
        head is a list's head: its next is the list's first folio, and the
        last folio's next is the head. Meaningful only for folios on a list
        (PG_lru); the step message's list layout is built from it."""
        n = self.m.nr_frames
        cdef uint8_t[::1] view = <uint8_t[:(n + NR_LIST_HEADS) * sizeof(folio)]><uint8_t*>self.m.folios
        arr = np.asarray(view).view(FOLIO_DTYPE)["next"]
        arr.flags.writeable = False
        return arr

    def young_bits(self):
        """uint8 per frame: 1 where the folio in that frame is mapped by at
        least one PTE with its accessed bit set -- what folio_referenced() and
        the MGLRU walk would find; 0 for free and unmapped frames.

        Walks each mapped folio's rmap in C (anon: its one PTE; file: the PTE
        of every VMA of its file), the same walk as folio()["young"]."""
        cdef mem* m = &self.m
        out = np.zeros(m.nr_frames, dtype=np.uint8)
        cdef uint8_t[::1] o = out
        with nogil:
            _fill_young_bits(m, &o[0] if m.nr_frames > 0 else NULL)
        return out

    def layout_order(self, uint32_t[::1] flags, int32_t[::1] nxt, uint8_t[::1] young, bint diff,
                     uint32_t[::1] d_pfn, uint32_t[::1] d_flags, int32_t[::1] d_next,
                     uint8_t[::1] d_young):
        """The step message's order layout (backend/wire.py) in one pass
        without the GIL: `flags`/`nxt`/`young` (nr_frames, nr_frames +
        NR_LIST_HEADS, nr_frames entries: a connection's base) are brought
        up to date in place; with `diff`, the entries that changed are
        written to the d_* arrays (their length is the most that may be
        written). Returns (entries written, or -1 when more changed or
        without `diff`; the number of PG_mlocked frames, for meminfo())."""
        cdef mem* m = &self.m
        cdef int64_t cap = d_pfn.shape[0], cnt, ml = 0
        if flags.shape[0] != m.nr_frames or young.shape[0] != m.nr_frames \
                or nxt.shape[0] != m.nr_frames + NR_LIST_HEADS:
            raise ValueError("layout arrays of the wrong size")
        if d_flags.shape[0] < cap or d_next.shape[0] < cap or d_young.shape[0] < cap:
            raise ValueError("delta arrays shorter than d_pfn")
        if m.nr_frames == 0:
            return 0, 0
        with nogil:
            cnt = _layout_order(m, &flags[0], &nxt[0], &young[0], diff,
                                &d_pfn[0] if cap else NULL, &d_flags[0] if cap else NULL,
                                &d_next[0] if cap else NULL, &d_young[0] if cap else NULL, cap, &ml)
        return int(cnt), int(ml)

    def layout_location(self, const uint8_t[::1] lut, uint8_t[::1] loc, uint32_t[::1] flags,
                        bint diff, uint32_t[::1] d_pfn, uint8_t[::1] d_val,
                        int64_t since=-1, int64_t mlocked=0):
        """The location layout (protocol.md §3.3) without the GIL, as
        layout_order(): `lut` maps the 7-bit key of a frame's flags (PG_lru,
        PG_active, PG_swapbacked, PG_unevictable, then the 3-bit MGLRU gen
        field) to its location byte; `flags` is the base's copy of every
        frame's flags. `since` (-1: read every frame): what the pass that
        last brought this base up to date returned, on this machine (the
        same `layout_token`) and with the same `lut`; then only frames
        whose flags were written since are read, and `mlocked` is the
        base's PG_mlocked count, kept up to date. Returns (entries written
        or -1, PG_mlocked frames, the `since` of the next pass)."""
        cdef mem* m = &self.m
        cdef int64_t cap = d_pfn.shape[0], cnt, ml = mlocked
        cdef int64_t nblocks = (<int64_t>m.nr_frames + NR_LIST_HEADS + (1 << LAYOUT_BLOCK_SHIFT) - 1) \
            >> LAYOUT_BLOCK_SHIFT
        if lut.shape[0] != 128 or loc.shape[0] != m.nr_frames or flags.shape[0] != m.nr_frames \
                or d_val.shape[0] < cap:
            raise ValueError("layout arrays of the wrong size")
        if m.layout.stamp == NULL:
            m.layout.stamp = <uint32_t*>calloc(nblocks, sizeof(uint32_t))
            if m.layout.stamp == NULL:
                raise MemoryError()
            m.layout.seq = 1
            since = -1
        if since > m.layout.seq:
            raise ValueError("a `since` this machine's passes never returned")
        if m.nr_frames > 0:
            with nogil:
                cnt = _layout_location(m, &lut[0], &loc[0], &flags[0], diff, since,
                                       &d_pfn[0] if cap else NULL, &d_val[0] if cap else NULL, cap, &ml)
        else:
            cnt = 0 if diff else -1
        m.layout.seq += 1
        return int(cnt), int(ml), int(m.layout.seq)

    def file_counters(self):
        """Per file id that has had a page read: pages read from storage, of them
        refaults (workingset_refault_file's share), and evictions (file pgsteal's)."""
        cdef mem* m = &self.m
        cdef int32_t i
        return {i: {"reads": int(m.file_ra[i].nr_read), "refaults": int(m.file_ra[i].nr_refault),
                    "evictions": int(m.file_ra[i].nr_evict)}
                for i in range(m.nr_files) if m.file_ra[i].nr_read or m.file_ra[i].nr_evict}

    def nr_shadows(self):
        """Shadow entries the engine holds now: {"file": page-cache entries
        holding the shadow of an evicted file page, "anon": swap slots holding
        the shadow of a swapped-out page (a used slot holds either that or a
        swap-cache folio)}."""
        # Both are counters kept where the entries change (the server asks
        # every step; walking the 512 Ki slots of a 1 Mi-frame machine's swap
        # map was 0.35 ms of it, cold)
        return {"file": int(self.m.nr_shadows), "anon": int(self.m.nr_swap_shadows)}

    def folio(self, int pfn):
        cdef mem* m = &self.m
        cdef int64_t seq = -1                    # -1 unless folio_loc() names a generation
        if not 0 <= pfn < m.nr_frames:
            raise IndexError(f"pfn {pfn} out of range")
        cdef folio* f = &m.folios[pfn]
        # a tail page of a large folio is reported with its folio's state (the
        # head's flags, list, gen, refs), its own index, mapcount and PTEs
        cdef folio_idx_t hp = page_folio(m, pfn)
        cdef uint32_t fl = m.folios[hp].flags | (f.flags & PG_tail)
        flags = [n for i, n in enumerate(FOLIO_FLAGS) if fl & (1 << i)]
        free_ = f.flags == 0 and f.prev == -1 and f.mapcount == 0 and not self._is_resident(pfn)
        loc = self.policy.folio_loc(hp, &seq) if not free_ else LOC_FREE
        # refs and tier are MGLRU's, by the pane's release (pre-6.14 kernels count
        # PG_workingset as one more ref); the classic LRU and plug-ins have none
        refs = tier = None
        refs_tier = getattr(self.policy, "folio_refs_tier", None)
        young = []
        if not free_:
            young = self._young_bits(pfn)
            if refs_tier is not None:
                refs, tier = refs_tier(hp)
        return {
            "pfn": pfn, "free": bool(free_), "flags": flags, "raw_flags": fl,
            "zone": "DMA" if pfn < m.nr_dma else "Normal",
            "type": "anon" if fl & PG_swapbacked else "file",
            "list": LOCATIONS[loc], "gen": folio_lru_gen(m, hp), "seq": seq,
            "refs": refs, "tier": tier,
            # the workload's owner of an anon folio; -1: the system's own (MM_SYSTEM)
            "mapping": (<int64_t>f.mapping - NR_INTERNAL_MMS) if fl & PG_anon else f.mapping,
            "mm": f.mapping if fl & PG_anon else None,
            "index": f.index, "mapcount": f.mapcount,
            # 7.3 large folios: the folio is 1 << order pages from its head's index
            "order": (fl & FOLIO_ORDER_MASK) >> FOLIO_ORDER_PGOFF,
            "head": hp,
            "swap_slot": (f.swap - 1) if fl & PG_swapcache else None,
            "young": young,
        }

    cdef bint _is_resident(self, int pfn):
        cdef int32_t i
        if pfn >= self.m.nr_frames - self.m.nr_pcp_held:
            return False                         # on a per-CPU list
        for i in range(self.m.nr_free):
            if free_pfn(&self.m, i) == pfn:
                return False
        return True

    cdef list _young_bits(self, int pfn):
        cdef mem* m = &self.m
        cdef folio* f = &m.folios[pfn]
        cdef uint32_t* pte
        cdef int32_t v
        out = []
        if f.flags & PG_anon:
            pte = pte_lookup(m, f.mapping, f.index)
            if pte != NULL and (pte[0] & PTE_PRESENT) and <int>(pte[0] & PTE_PFN_MASK) == pfn:
                out.append({"mm": <int64_t>f.mapping - NR_INTERNAL_MMS, "young": bool(pte[0] & PTE_YOUNG),
                            "dirty": bool(pte[0] & PTE_DIRTY)})
        elif f.mapping < <uint32_t>m.nr_files:
            v = m.file_first_vma[f.mapping]
            while v >= 0:
                pte = pte_lookup(m, m.vmas[v].mm, file_vma_vpn(f.mapping, f.index))
                if pte != NULL and (pte[0] & PTE_PRESENT) and <int>(pte[0] & PTE_PFN_MASK) == pfn:
                    out.append({"mm": "exec" if m.vmas[v].mm == MM_EXEC else "shared",
                                "young": bool(pte[0] & PTE_YOUNG), "dirty": bool(pte[0] & PTE_DIRTY),
                                "vm_flags": m.vmas[v].vm_flags})
                v = m.vmas[v].next_of_file
        return out

    def file_ra(self, file):
        """A file's struct file_ra_state: the readahead window (start, size,
        async_size), mmap_miss and i_size in pages (nr_pages; 0 = not known yet)."""
        if not 0 <= file < self.m.nr_files:
            raise ValueError(f"no file {file}")
        cdef file_ra_state* ra = &self.m.file_ra[<uint32_t>file]
        return {"start": ra.start, "size": ra.size, "async_size": ra.async_size,
                "mmap_miss": ra.mmap_miss, "nr_pages": ra.nr_pages}

    def page_state(self, kind, owner, page=0):
        """Where a page of the workload is now: resident, in swap, a shadow, or never seen."""
        cdef mem* m = &self.m
        cdef int o = _op_code(kind)
        cdef uint32_t* pte
        cdef uint64_t e = 0
        cdef int32_t slot
        if o == OP_ANON or o == OP_EXIT:
            # owner -1: a booted guest's own pages (MM_SYSTEM), as folio() names them
            if owner < -1:
                return {"state": "none"}
            pte = pte_lookup(m, MM_SYSTEM if owner == -1 else mm_of_owner(owner), page)
            if pte == NULL or pte[0] == 0:
                return {"state": "none"}
            if pte[0] & PTE_PRESENT:
                return {"state": "resident", "pfn": int(pte[0] & PTE_PFN_MASK),
                        "young": bool(pte[0] & PTE_YOUNG), "dirty": bool(pte[0] & PTE_DIRTY)}
            slot = pte[0] & PTE_PFN_MASK
            e = m.swap_map[slot]
            if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                return {"state": "swapcache", "pfn": int(e & ENTRY_MASK), "swap_slot": slot}
            out = {"state": "swap", "swap_slot": slot}
            out.update(self._shadow_info(e & ENTRY_MASK, False))
            return out
        if owner >= m.nr_files:
            return {"state": "none"}
        e = pc_lookup(m, owner, page)
        if e == 0:
            return {"state": "none"}
        if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
            out = {"state": "resident", "pfn": int(e & ENTRY_MASK)}
            if o in (OP_MMAP, OP_EXEC):
                pte = pte_lookup(m, MM_EXEC if o == OP_EXEC else MM_SHARED, file_vma_vpn(owner, page))
                out["mapped"] = bool(pte != NULL and (pte[0] & PTE_PRESENT))
                out["young"] = bool(pte != NULL and (pte[0] & PTE_PRESENT) and (pte[0] & PTE_YOUNG))
            return out
        out = {"state": "shadow"}
        out.update(self._shadow_info(e & ENTRY_MASK, True))
        return out

    cdef dict _shadow_info(self, uint64_t shadow, bint file):
        out = {"shadow": int(shadow), "workingset": bool(shadow & 1), "eviction": int(shadow >> 1)}
        if self.info.shadow is not None:
            out.update(self.info.shadow(self, int(shadow), bool(file)))
        return out

    def snapshot(self):
        return {
            "policy": self._config["policy"], "config": self.config, "vmstat": self.vmstat(),
            "meminfo": self.meminfo(), "watermarks": self.watermarks,
            "progress": {"nr_access": self.m.nr_access, "nr_batches": self.m.nr_batches,
                         "nr_shrink_passes": self.m.nr_shrink_passes, "nr_aging": self.m.nr_aging,
                         "time_ns": self.m.now_ns, "kswapd_time_ns": self.m.kswapd_ns,
                         "position": self.s.position, "done": self.done},
            "kswapd": self.kswapd, "direct_reclaim": self.direct_reclaim,
            "nr_alloc_fail": self.s.nr_alloc_fail, "lruvec": self.lruvec,
            "policy_state": _json_ready(self.policy.snapshot()),
        }

    # --- events ------------------------------------------------------------------------

    @property
    def event_seq(self):
        return self.m.events_seq

    def events_since(self, seq=0):
        cdef uint64_t end = self.m.events_seq
        cdef uint64_t cap = <uint64_t>self.m.events_cap
        cdef uint64_t start = <uint64_t>max(0, seq)
        if end > cap and start < end - cap:
            start = end - cap
        if start >= end:
            return np.zeros(0, dtype=EVENT_DTYPE)
        cdef uint8_t[::1] view = <uint8_t[:cap * sizeof(vm_event_rec)]><uint8_t*>self.m.events
        ring = np.asarray(view).view(EVENT_DTYPE).reshape(-1)
        idx = (np.arange(start, end, dtype=np.uint64) & np.uint64(cap - 1)).astype(np.intp)
        return ring[idx].copy()

    # --- serialization ----------------------------------------------------------------

    def state_bytes(self, events=True):
        """Every buffer and scalar of the machine + the policy's private state.
        events=False leaves the event ring out (for comparing runs with and without events)."""
        cdef mem* m = &self.m
        cdef mem hdr
        cdef list parts = []
        cdef int q
        cdef int64_t k
        cdef int32_t n = m.nr_frames
        memcpy(&hdr, m, sizeof(mem))
        # pointers and hash-table geometry are not state
        hdr.folios = NULL; hdr.free_stack = NULL; hdr.vmstat = NULL; hdr.mms = NULL; hdr.vmas = NULL
        hdr.file_first_vma = NULL; hdr.file_prev_index = NULL; hdr.file_ra = NULL; hdr.ptes = NULL
        hdr.ptp_key = NULL
        hdr.ptp_next = NULL; hdr.ptp_young = NULL; hdr.ptp_nr_present = NULL; hdr.pt_hash_keys = NULL
        hdr.pt_hash_vals = NULL; hdr.pc_keys = NULL; hdr.pc_vals = NULL; hdr.swap_map = NULL
        hdr.wb_time = NULL; hdr.wb_pfn = NULL; hdr.events = NULL
        hdr.pt_hash_mask = 0; hdr.pc_mask = 0
        # the xarray nodes' pool and hash: rebuilt from the page cache on load,
        # the shadow-only list's order kept below
        hdr.xa_nodes = NULL; hdr.xa_hkeys = NULL; hdr.xa_hvals = NULL
        hdr.xa_cap = 0; hdr.xa_free = 0; hdr.xa_head = 0; hdr.xa_tail = 0; hdr.xa_hmask = 0
        hdr.xa_last_key = 0; hdr.xa_last_idx = 0
        hdr.cap_mms = 0; hdr.cap_vmas = 0; hdr.cap_files = 0; hdr.cap_ptps = 0
        hdr.events_on = 0; hdr.cur_actor = 0
        if not events:
            hdr.events_seq = 0
        parts.append(STATE_MAGIC)
        parts.append(np.array([STATE_VERSION, MEM_STATE_BYTES, sizeof(sim_state), sizeof(folio)], dtype=np.uint32).tobytes())
        parts.append(self.info.key.encode().ljust(STATE_KEY_BYTES, b"\0"))
        parts.append(PyBytes_FromStringAndSize(<char*>&hdr, MEM_STATE_BYTES))
        parts.append(PyBytes_FromStringAndSize(<char*>&self.s, sizeof(sim_state)))
        # (a tail page's `next` names its head: state, as every field of the table)
        parts.append(PyBytes_FromStringAndSize(<char*>m.folios, (n + NR_LIST_HEADS) * sizeof(folio)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.free_stack, (m.nr_free - m.nr_free_dma) * sizeof(folio_idx_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>(m.free_stack + n - m.nr_free_dma), m.nr_free_dma * sizeof(folio_idx_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.vmstat, NR_VMSTAT_ITEMS * sizeof(int64_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.mms, m.nr_mms * sizeof(mm_struct)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.vmas, m.nr_vmas * sizeof(vma)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.file_first_vma, m.nr_files * sizeof(int32_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.file_prev_index, m.nr_files * sizeof(uint64_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.file_ra, m.nr_files * sizeof(file_ra_state)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.ptes, <int64_t>m.nr_ptps * PTRS_PER_PTE * sizeof(uint32_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.ptp_key, m.nr_ptps * sizeof(uint64_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.ptp_next, m.nr_ptps * sizeof(int32_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.ptp_young, m.nr_ptps * sizeof(uint8_t)))
        parts.append(PyBytes_FromStringAndSize(<char*>m.ptp_nr_present, m.nr_ptps * sizeof(uint16_t)))
        # page cache: canonical order (sorted by key), independent of the table's history
        cdef uint64_t[::1] kvv = <uint64_t[:2 * (m.pc_mask + 1)]>m.pc_keys
        kv_pairs = np.asarray(kvv)
        keys = kv_pairs[0::2]
        used = np.flatnonzero(keys)
        order = used[np.argsort(keys[used], kind="stable")]
        parts.append(np.ascontiguousarray(keys[order]).tobytes())
        parts.append(np.ascontiguousarray(kv_pairs[1::2][order]).tobytes())
        parts.append(self.shadow_node_keys().tobytes())
        if m.nr_swap_slots:
            parts.append(PyBytes_FromStringAndSize(<char*>m.swap_map, m.nr_swap_slots * sizeof(uint64_t)))
        for q in range(2):
            times = []
            pfns = []
            for k in range(m.wb_head[q], m.wb_tail[q]):
                times.append(m.wb_time[q * n + k % n])
                pfns.append(m.wb_pfn[q * n + k % n])
            parts.append(np.array(times, dtype=np.int64).tobytes())
            parts.append(np.array(pfns, dtype=np.int32).tobytes())
        if events:
            parts.append(PyBytes_FromStringAndSize(<char*>m.events, m.events_cap * sizeof(vm_event_rec)))
        pol = self.policy.state_bytes()
        parts.append(np.array([len(pol)], dtype=np.int64).tobytes())
        parts.append(pol)
        return b"".join(parts)

    @staticmethod
    def _check_shadow_node_list(keys, vals, list_keys):
        # an image's shadow-only list names each node whose page-cache entries are
        # all shadows, once
        node = (keys - np.uint64(1)) & ~np.uint64(XA_CHUNK_SIZE - 1)
        shadow = (vals >> np.uint64(62)) == np.uint64(2)
        nodes, inv = np.unique(node, return_inverse=True)
        only = np.bincount(inv, minlength=len(nodes)) == np.bincount(inv, weights=shadow, minlength=len(nodes))
        want = np.sort(nodes[only] + np.uint64(1))
        if len(np.unique(list_keys)) != len(list_keys) or not np.array_equal(np.sort(list_keys), want):
            raise ValueError("state image's shadow node list does not match its page cache")

    def shadow_node_keys(self):
        """The page cache's shadow-only xarray nodes, oldest first (the shadow
        shrinker's order): each node's pc_key(file, first index)."""
        cdef mem* m = &self.m
        cdef int32_t idx = m.xa_head
        out = np.empty(m.vmstat[<int>WORKINGSET_NODES], dtype=np.uint64)
        cdef uint64_t[::1] keys = out
        cdef int64_t k = 0
        while idx >= 0 and k < keys.shape[0]:
            keys[k] = m.xa_nodes[idx].key
            k += 1
            idx = m.xa_nodes[idx].next
        return out

    cdef _rebuild_xa_nodes(self, keys, vals, list_keys):
        # the nodes' counts from the page cache, then the shadow-only list in the
        # image's order (_check_shadow_node_list() accepted it)
        cdef mem* m = &self.m
        cdef int32_t cap = 512
        cdef int64_t k
        cdef int32_t idx
        cdef uint64_t key
        while cap < len(keys):
            cap *= 2
        if xa_init(m, cap, 2 * <int64_t>cap) < 0:
            raise MemoryError("load_state")
        for k in range(len(keys)):
            key = <uint64_t>keys[k] - 1
            if xa_count_entry(m, <uint32_t>(key >> 40), key & ((1ULL << 40) - 1), 1, is_shadow(vals[k])) < 0:
                raise MemoryError("load_state")
        m.vmstat[<int>WORKINGSET_NODES] = 0
        for k in range(len(list_keys)):
            xa_list_add_tail(m, xa_find(m, <uint64_t>list_keys[k]))

    def load_state(self, bytes data):
        """Restore a state_bytes() image taken from a Simulator with the same config."""
        cdef mem* m = &self.m
        cdef mem hdr
        cdef sim_state st
        cdef int64_t off = 0, sz, q, k, cnt
        cdef int32_t n = m.nr_frames
        cdef const char* buf = PyBytes_AS_STRING(data)
        cdef int64_t total = len(data)
        if data[:8] != STATE_MAGIC:
            raise ValueError("not a reclaimlab state image")
        meta = np.frombuffer(data, dtype=np.uint32, count=4, offset=8)
        if int(meta[0]) != STATE_VERSION or int(meta[1]) != MEM_STATE_BYTES or int(meta[2]) != sizeof(sim_state):
            raise ValueError(f"state image version {int(meta[0])} does not match this engine ({STATE_VERSION})")
        key = data[24:24 + STATE_KEY_BYTES].rstrip(b"\0").decode(errors="replace")
        if key != self.info.key:
            raise ValueError(f"state image was taken under policy {key!r}; this simulator runs "
                             f"policy {self.info.key!r}")
        off = 24 + STATE_KEY_BYTES
        if total < off + <int64_t>MEM_STATE_BYTES + <int64_t>sizeof(sim_state):
            raise ValueError("state image truncated")
        memcpy(&hdr, buf + off, MEM_STATE_BYTES)
        off += MEM_STATE_BYTES
        memcpy(&st, buf + off, sizeof(sim_state))
        off += sizeof(sim_state)
        if (hdr.nr_frames != m.nr_frames or hdr.nr_swap_slots != m.nr_swap_slots
                or hdr.events_cap != m.events_cap or hdr.policy_id != m.policy_id
                or hdr.kernel != m.kernel):
            raise ValueError("state image was taken with a different configuration")

        pos = [off]

        def take(nbytes):
            o = pos[0]
            if nbytes < 0 or o + nbytes > total:
                raise ValueError("state image truncated")
            pos[0] = o + nbytes
            return data[o:o + nbytes]

        folios_b = take((n + NR_LIST_HEADS) * sizeof(folio))
        if hdr.nr_dma != m.nr_dma or hdr.nr_free_dma < 0 or hdr.nr_free_dma > hdr.nr_free:
            raise ValueError("state image was taken with a different configuration")
        free_b = take((hdr.nr_free - hdr.nr_free_dma) * sizeof(folio_idx_t))
        free_dma_b = take(hdr.nr_free_dma * sizeof(folio_idx_t))
        vmstat_b = take(NR_VMSTAT_ITEMS * sizeof(int64_t))
        mms_b = take(hdr.nr_mms * sizeof(mm_struct))
        vmas_b = take(hdr.nr_vmas * sizeof(vma))
        ffv_b = take(hdr.nr_files * sizeof(int32_t))
        fpi_b = take(hdr.nr_files * sizeof(uint64_t))
        fra_b = take(hdr.nr_files * sizeof(file_ra_state))
        ptes_b = take(<int64_t>hdr.nr_ptps * PTRS_PER_PTE * sizeof(uint32_t))
        pkey_b = take(hdr.nr_ptps * sizeof(uint64_t))
        pnext_b = take(hdr.nr_ptps * sizeof(int32_t))
        pyoung_b = take(hdr.nr_ptps * sizeof(uint8_t))
        pnr_b = take(hdr.nr_ptps * sizeof(uint16_t))
        pck_b = take(hdr.pc_used * sizeof(uint64_t))
        pcv_b = take(hdr.pc_used * sizeof(uint64_t))
        nr_list = int(np.frombuffer(vmstat_b, dtype=np.int64)[<int>WORKINGSET_NODES])
        xal_b = take(nr_list * sizeof(uint64_t))
        swap_b = take(hdr.nr_swap_slots * sizeof(uint64_t)) if hdr.nr_swap_slots else b""
        wb = []
        for q in range(2):
            cnt = hdr.wb_tail[q] - hdr.wb_head[q]
            wb.append((take(cnt * 8), take(cnt * 4)))
        events_b = take(hdr.events_cap * sizeof(vm_event_rec))
        plen = int(np.frombuffer(take(8), dtype=np.int64)[0])
        pol_b = take(plen)
        if pos[0] != total:
            raise ValueError("state image has trailing bytes")
        self._check_shadow_node_list(np.frombuffer(pck_b, dtype=np.uint64), np.frombuffer(pcv_b, dtype=np.uint64),
                                     np.frombuffer(xal_b, dtype=np.uint64))
        # the policy first: it may refuse the image before anything changed
        self.policy.load_state(pol_b)
        # growable arrays: reallocate to the image's sizes
        cdef int32_t cap_mms = max(hdr.nr_mms, 16)
        cdef int32_t cap_vmas = max(hdr.nr_vmas, 16)
        cdef int32_t cap_files = max(hdr.nr_files, 64)
        cdef int32_t cap_ptps = max(hdr.nr_ptps, 64)
        cdef int64_t hcap = 1024
        while hcap < 2 * (hdr.nr_ptps + 1):
            hcap *= 2
        cdef int64_t pcap = 1024
        while pcap < 2 * (hdr.pc_used + 1):
            pcap *= 2
        free(m.mms); free(m.vmas); free(m.file_first_vma); free(m.file_prev_index); free(m.file_ra); free(m.ptes)
        free(m.ptp_key); free(m.ptp_next); free(m.ptp_young); free(m.ptp_nr_present)
        free(m.pt_hash_keys); free(m.pt_hash_vals); free(m.pc_keys)
        free(m.xa_nodes); free(m.xa_hkeys); free(m.xa_hvals)
        cdef folio* folios = m.folios
        cdef folio_idx_t* free_stack = m.free_stack
        cdef int64_t* vmstat = m.vmstat
        cdef uint64_t* swap_map = m.swap_map
        cdef int64_t* wb_time = m.wb_time
        cdef int32_t* wb_pfn = m.wb_pfn
        cdef vm_event_rec* events = m.events
        memcpy(m, &hdr, MEM_STATE_BYTES)      # m.layout stays: not state
        self.layout_token = _new_layout_token()
        m.folios = folios; m.free_stack = free_stack; m.vmstat = vmstat; m.swap_map = swap_map
        m.wb_time = wb_time; m.wb_pfn = wb_pfn; m.events = events
        m.mms = <mm_struct*>calloc(cap_mms, sizeof(mm_struct)); m.cap_mms = cap_mms
        m.vmas = <vma*>calloc(cap_vmas, sizeof(vma)); m.cap_vmas = cap_vmas
        m.file_first_vma = <int32_t*>malloc(cap_files * sizeof(int32_t))
        m.file_prev_index = <uint64_t*>malloc(cap_files * sizeof(uint64_t)); m.cap_files = cap_files
        m.file_ra = <file_ra_state*>calloc(cap_files, sizeof(file_ra_state))
        m.ptes = <uint32_t*>malloc(<int64_t>cap_ptps * PTRS_PER_PTE * sizeof(uint32_t))
        m.ptp_key = <uint64_t*>malloc(cap_ptps * sizeof(uint64_t))
        m.ptp_next = <int32_t*>malloc(cap_ptps * sizeof(int32_t))
        m.ptp_young = <uint8_t*>malloc(cap_ptps * sizeof(uint8_t))
        m.ptp_nr_present = <uint16_t*>malloc(cap_ptps * sizeof(uint16_t)); m.cap_ptps = cap_ptps
        m.pt_hash_keys = <uint64_t*>calloc(hcap, sizeof(uint64_t))
        m.pt_hash_vals = <int32_t*>calloc(hcap, sizeof(int32_t)); m.pt_hash_mask = hcap - 1
        m.pc_keys = <uint64_t*>calloc(2 * pcap, sizeof(uint64_t))
        m.pc_vals = m.pc_keys + 1; m.pc_mask = pcap - 1
        advise_huge(m.ptes, <int64_t>cap_ptps * PTRS_PER_PTE * sizeof(uint32_t))
        if (m.mms == NULL or m.vmas == NULL or m.file_first_vma == NULL or m.file_prev_index == NULL
                or m.file_ra == NULL
                or m.ptes == NULL or m.ptp_key == NULL or m.ptp_next == NULL or m.ptp_young == NULL
                or m.ptp_nr_present == NULL or m.pt_hash_keys == NULL or m.pc_keys == NULL):
            raise MemoryError("load_state")
        for i in range(hdr.nr_mms, cap_mms):
            m.mms[i].first_ptp = -1
        for i in range(cap_files):
            m.file_first_vma[i] = -1
            m.file_prev_index[i] = <uint64_t>-1
        _copy(<char*>m.folios, folios_b)
        _copy(<char*>m.free_stack, free_b)
        _copy(<char*>(m.free_stack + n - hdr.nr_free_dma), free_dma_b)
        _copy(<char*>m.vmstat, vmstat_b)
        _copy(<char*>m.mms, mms_b)
        _copy(<char*>m.vmas, vmas_b)
        _copy(<char*>m.file_first_vma, ffv_b)
        _copy(<char*>m.file_prev_index, fpi_b)
        _copy(<char*>m.file_ra, fra_b)
        _copy(<char*>m.ptes, ptes_b)
        _copy(<char*>m.ptp_key, pkey_b)
        _copy(<char*>m.ptp_next, pnext_b)
        _copy(<char*>m.ptp_young, pyoung_b)
        _copy(<char*>m.ptp_nr_present, pnr_b)
        cdef int32_t i2
        for i2 in range(m.nr_ptps):
            pt_hash_insert(m, m.ptp_key[i2] + 1, i2)
        keys = np.frombuffer(pck_b, dtype=np.uint64)
        vals = np.frombuffer(pcv_b, dtype=np.uint64)
        m.pc_used = 0
        m.nr_shadows = 0
        for k in range(len(keys)):
            _pc_insert_raw(m, keys[k], vals[k])
        self._rebuild_xa_nodes(keys, vals, np.frombuffer(xal_b, dtype=np.uint64))
        if m.nr_swap_slots:
            _copy(<char*>m.swap_map, swap_b)
        for q in range(2):
            times = np.frombuffer(wb[q][0], dtype=np.int64)
            pfns = np.frombuffer(wb[q][1], dtype=np.int32)
            for k in range(len(times)):
                m.wb_time[q * n + (hdr.wb_head[q] + k) % n] = times[k]
                m.wb_pfn[q * n + (hdr.wb_head[q] + k) % n] = pfns[k]
        _copy(<char*>m.events, events_b)
        memcpy(&self.s, &st, sizeof(sim_state))
        self.pf_reset()
        m.events_on = 1
        m.cur_actor = RECLAIMER_NONE
        if self.s.pending == PENDING_HOOK:
            self.s.pending = PENDING_NONE
        # the workload is not in the image: keep the array set on this object
        self.s.nr_workload = 0 if self._workload is None else len(self._workload)

    def allocated_bytes(self):
        """Bytes of C memory the machine holds (all buffers at their current capacity)."""
        cdef mem* m = &self.m
        return int((m.nr_frames + NR_LIST_HEADS) * sizeof(folio) + m.nr_frames * sizeof(folio_idx_t)
                   + NR_VMSTAT_ITEMS * 8 + m.cap_mms * sizeof(mm_struct) + m.cap_vmas * sizeof(vma)
                   + m.cap_files * 12 + <int64_t>m.cap_ptps * (PTRS_PER_PTE * 4 + 8 + 4 + 1 + 2)
                   + (m.pt_hash_mask + 1) * 12 + (m.pc_mask + 1) * 16 + max(m.nr_swap_slots, 1) * 8
                   + <int64_t>m.xa_cap * sizeof(xa_node) + (m.xa_hmask + 1) * 12
                   + <int64_t>m.nr_frames * 2 * 12 + m.events_cap * sizeof(vm_event_rec))

    def state_hash(self):
        return hashlib.sha256(self.state_bytes()).hexdigest()

    # --- invariants ----------------------------------------------------------------------

    def check_invariants(self):
        """[] when every invariant of the machine and the policy holds."""
        errs = []
        cdef mem* m = &self.m
        cdef int32_t n = m.nr_frames
        cdef int32_t i, h, nv
        cdef folio_idx_t head, p, prev
        cdef int64_t count, resident = 0
        cdef uint32_t pte, fl
        cdef int64_t base, j
        cdef uint64_t e, vpn
        cdef int32_t ptp, v
        cdef int mm
        cdef int q
        cdef int64_t k
        # each device's writeback queue is in completion-time order, and a live entry
        # names a folio under writeback
        for q in range(2):
            for k in range(m.wb_head[q] + 1, m.wb_tail[q]):
                if m.wb_time[q * n + k % n] < m.wb_time[q * n + (k - 1) % n]:
                    errs.append(f"writeback queue {q} out of order at {k}")
                    break
            for k in range(m.wb_head[q], m.wb_tail[q]):
                if m.wb_pfn[q * n + k % n] >= 0 and not (m.folios[m.wb_pfn[q * n + k % n]].flags & PG_writeback):
                    errs.append(f"writeback queue {q}: pfn {m.wb_pfn[q * n + k % n]} is not under writeback")
                    break
        on_list = np.zeros(n, dtype=np.int32)
        cdef int32_t[::1] onl = on_list
        mapcnt = np.zeros(n, dtype=np.int64)
        cdef int64_t[::1] mc = mapcnt
        is_free = np.zeros(n, dtype=np.uint8)
        cdef uint8_t[::1] isf = is_free
        for i in range(m.nr_free):
            p = free_pfn(m, i)
            if isf[p]:
                errs.append(f"pfn {p} twice on the free list")
            if (p < m.nr_dma) != (i >= m.nr_free - m.nr_free_dma):
                errs.append(f"pfn {p} on the other zone's free list")
            elif not frame_is_hole(m, p) and (i < m.nr_hole_free_normal if p >= m.nr_dma
                                              else i >= m.nr_free - m.nr_hole_free_dma):
                errs.append(f"pfn {p} among its zone's holes in the free list")
            isf[p] = 1
        for p in range(n - m.nr_pcp_held, n):
            if isf[p]:
                errs.append(f"pfn {p} on a per-CPU list and the free list")
            if m.folios[p].flags:
                errs.append(f"pfn {p} on a per-CPU list has flags {m.folios[p].flags:#x}")
            isf[p] = 1                           # neither resident nor on an LRU, as a free one
        if m.nr_free != m.vmstat[<int>NR_FREE_PAGES]:
            errs.append(f"nr_free {m.nr_free} != nr_free_pages {m.vmstat[<int>NR_FREE_PAGES]}")
        for h in range(NR_LIST_HEADS):
            head = n + h
            prev = head
            p = m.folios[head].next
            count = 0
            while p != head:
                if p < 0 or p >= n:
                    errs.append(f"list {h}: bad link {p}")
                    break
                if m.folios[p].prev != prev:
                    errs.append(f"list {h}: pfn {p} prev link broken")
                onl[p] += 1
                count += 1
                if count > n:
                    errs.append(f"list {h}: cycle")
                    break
                gh = (h - HEAD_GEN) if HEAD_GEN <= h < HEAD_PRIVATE else (h - HEAD_GEN_DMA) if h >= HEAD_GEN_DMA else -1
                if HEAD_PRIVATE <= h < HEAD_PRIVATE + NR_PRIVATE_HEADS:
                    errs.append(f"pfn {p} left on private list {h} between steps")
                elif h < HEAD_GEN and not self.policy.lru_gen_enabled and folio_lru_list(m, p) != h:
                    errs.append(f"pfn {p} on list {LOCATIONS[h]} but flags select {LOCATIONS[folio_lru_list(m, p)]}")
                elif gh >= 0 and (folio_lru_gen(m, p) < 0 or folio_type(m, p) != gh % 2):
                    # the gen field may name a younger generation than the list
                    # (lazy promotion, folio_update_gen); MultiGenLru.check_invariants checks that
                    errs.append(f"pfn {p} on gen list {gh // 2} type {gh % 2} "
                                f"but gen field {folio_lru_gen(m, p)} type {folio_type(m, p)}")
                prev = p
                p = m.folios[p].next
        for i in range(n):
            fl = m.folios[i].flags
            if isf[i]:
                if onl[i]:
                    errs.append(f"free pfn {i} is on a list")
                if fl:
                    errs.append(f"free pfn {i} has flags {fl:#x}")
                continue
            resident += 1
            if fl & PG_tail:
                # a large folio's tail page: off the lists, the folio's state on its
                # head, which it names and whose range holds it
                h = m.folios[i].next
                if onl[i]:
                    errs.append(f"tail pfn {i} is on a list")
                if fl & ~(<uint32_t>(PG_tail | FOLIO_ORDER_MASK)) or not (fl & FOLIO_ORDER_MASK) or m.folios[i].swap:
                    errs.append(f"tail pfn {i} has flags {fl:#x} (only PG_tail and the order) or swap {m.folios[i].swap}")
                elif (h < 0 or h >= n or isf[h] or (m.folios[h].flags & (PG_tail | PG_anon))
                        or (m.folios[h].flags & FOLIO_ORDER_MASK) != (fl & FOLIO_ORDER_MASK)
                        or m.folios[h].mapping != m.folios[i].mapping or folio_zone(m, h) != folio_zone(m, i)
                        or m.folios[i].index - m.folios[h].index - 1 >= <uint64_t>folio_nr_pages(m, h) - 1):
                    errs.append(f"tail pfn {i} names {h}, which is not the head of its folio")
                continue
            if onl[i] != 1:
                errs.append(f"resident pfn {i} is on {onl[i]} lists")
            if not (fl & PG_lru):
                errs.append(f"resident pfn {i} is isolated (no PG_lru) between steps")
            if fl & FOLIO_ORDER_MASK:
                if (fl & PG_anon) or m.folios[i].index & <uint64_t>(folio_nr_pages(m, i) - 1):
                    errs.append(f"large folio {i} is anon or not aligned to its order")
                count = 1 if m.folios[i].mapcount else 0
                for j in range(1, folio_nr_pages(m, i)):
                    e = pc_lookup(m, m.folios[i].mapping, m.folios[i].index + <uint64_t>j)
                    p = <folio_idx_t>(e & ENTRY_MASK)
                    if ((e & ~ENTRY_MASK) != ENTRY_FOLIO or not (m.folios[p].flags & PG_tail)
                            or m.folios[p].next != i):
                        errs.append(f"large folio {i}: page {j} is not its tail")
                        break
                    count += 1 if m.folios[p].mapcount else 0
                if count != m.folios[i].swap:
                    errs.append(f"large folio {i}: {m.folios[i].swap} pages mapped, its pages say {count}")
        if resident + m.nr_free + m.nr_pcp_held != n:
            errs.append(f"free {m.nr_free} + resident {resident} + per-CPU {m.nr_pcp_held} != frames {n}")
        if m.vmstat[<int>NR_ISOLATED_ANON] or m.vmstat[<int>NR_ISOLATED_FILE]:
            errs.append("nr_isolated_* not zero between steps")
        # page tables
        cdef int64_t anon_mapped = 0, file_mapped = 0
        for mm in range(m.nr_mms):
            ptp = m.mms[mm].first_ptp
            count = 0
            while ptp >= 0:
                base = <int64_t>ptp * PTRS_PER_PTE
                nv = 0
                for j in range(PTRS_PER_PTE):
                    pte = m.ptes[base + j]
                    vpn = ((m.ptp_key[ptp] & ((1ULL << 44) - 1)) << 9) | <uint64_t>j
                    if pte & PTE_PRESENT:
                        nv += 1
                        p = pte & PTE_PFN_MASK
                        if p >= n or isf[p]:
                            errs.append(f"mm {mm} vpn {vpn}: PTE maps free pfn {p}")
                            continue
                        mc[p] += 1
                        fl = m.folios[p].flags
                        if mm >= NR_FILE_MMS:
                            if not (fl & PG_anon) or m.folios[p].mapping != <uint32_t>mm or m.folios[p].index != vpn:
                                errs.append(f"mm {mm} vpn {vpn}: PTE maps pfn {p} of another page")
                        else:
                            if (fl & PG_anon) or file_vma_vpn(m.folios[p].mapping, m.folios[p].index) != vpn:
                                errs.append(f"mm {mm} vpn {vpn}: PTE maps pfn {p} of another file page")
                    elif pte & PTE_SWAP:
                        e = m.swap_map[pte & PTE_PFN_MASK] if (pte & PTE_PFN_MASK) < <uint32_t>m.nr_swap_slots else 0
                        if e == 0:
                            errs.append(f"mm {mm} vpn {vpn}: swap entry to free slot {pte & PTE_PFN_MASK}")
                        elif (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                            p = e & ENTRY_MASK
                            if m.folios[p].swap != (pte & PTE_PFN_MASK) + 1:
                                errs.append(f"swap slot {pte & PTE_PFN_MASK} names pfn {p} which is not its swap cache folio")
                    count += 1 if pte & PTE_PRESENT else 0
                if nv != m.ptp_nr_present[ptp]:
                    errs.append(f"ptp {ptp}: nr_present {m.ptp_nr_present[ptp]} != {nv}")
                ptp = m.ptp_next[ptp]
            if count != m.mms[mm].nr_ptes_present:
                errs.append(f"mm {mm}: nr_ptes_present {m.mms[mm].nr_ptes_present} != {count}")
        cdef int64_t file_pages = 0, dirty = 0, wb = 0, swapcached = 0
        for i in range(n):
            if isf[i]:
                continue
            fl = m.folios[i].flags
            if mc[i] != m.folios[i].mapcount:
                errs.append(f"pfn {i}: mapcount {m.folios[i].mapcount} but {mc[i]} PTEs map it")
            if m.folios[i].mapcount:
                if fl & PG_anon:
                    anon_mapped += 1
                else:
                    file_mapped += 1
            if fl & PG_writeback:
                wb += folio_nr_pages(m, i)
            if fl & PG_swapcache:
                swapcached += 1
                file_pages += 1
                if m.folios[i].swap == 0 or m.swap_map[m.folios[i].swap - 1] != (ENTRY_FOLIO | <uint64_t>i):
                    errs.append(f"pfn {i}: PG_swapcache but its slot does not name it")
            if not (fl & PG_anon):
                file_pages += 1
                if fl & PG_dirty:
                    dirty += folio_nr_pages(m, i)
                e = pc_lookup(m, m.folios[i].mapping, m.folios[i].index)
                if e != (ENTRY_FOLIO | <uint64_t>i):
                    errs.append(f"pfn {i}: file folio not in the page cache at ({m.folios[i].mapping}, {m.folios[i].index})")
        for name, item, val in (("nr_anon_pages", NR_ANON_PAGES, anon_mapped), ("nr_mapped", NR_MAPPED, file_mapped),
                                ("nr_file_pages", NR_FILE_PAGES, file_pages), ("nr_dirty", NR_DIRTY, dirty),
                                ("nr_writeback", NR_WRITEBACK, wb), ("nr_swapcached", NR_SWAPCACHED, swapcached)):
            if m.vmstat[<int>item] != val:
                errs.append(f"{name} {m.vmstat[<int>item]} != recomputed {val}")
        # page cache entries
        cdef int64_t used = 0, shadows = 0
        for j in range(m.pc_mask + 1):
            if m.pc_keys[2 * j] == 0:
                continue
            used += 1
            e = m.pc_vals[2 * j]
            if (e & ~ENTRY_MASK) == ENTRY_SHADOW:
                shadows += 1
            elif (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                p = e & ENTRY_MASK
                if p >= n or isf[p] or (m.folios[p].flags & PG_anon) or pc_key(m.folios[p].mapping, m.folios[p].index) != m.pc_keys[2 * j]:
                    errs.append(f"page-cache entry names pfn {p} which is not that file page")
            else:
                errs.append("page-cache entry with a bad tag")
        if used != m.pc_used or shadows != m.nr_shadows:
            errs.append(f"page cache counts {m.pc_used}/{m.nr_shadows} != {used}/{shadows}")
        # its xarray nodes: counts, and the shadow-only list
        cdef uint64_t[::1] kvv = <uint64_t[:2 * (m.pc_mask + 1)]>m.pc_keys
        kv = np.asarray(kvv)
        present = np.flatnonzero(kv[0::2])
        try:
            self._check_shadow_node_list(kv[0::2][present], kv[1::2][present], self.shadow_node_keys())
        except ValueError:
            errs.append("the shadow-only node list is not the page cache's shadow-only nodes")
        cdef int32_t xi
        cdef int64_t nodes_used = 0
        for xi in range(m.xa_cap):
            if m.xa_nodes[xi].key:
                nodes_used += 1
                if xa_find(m, m.xa_nodes[xi].key) != xi:
                    errs.append(f"xarray node {xi} is not found under its key")
        node_keys, inv = np.unique((kv[0::2][present] - np.uint64(1)) & ~np.uint64(XA_CHUNK_SIZE - 1),
                                   return_inverse=True)
        if nodes_used != m.xa_used or nodes_used != len(node_keys):
            errs.append(f"xarray nodes {m.xa_used}/{nodes_used} != {len(node_keys)} the page cache spans")
        want_count = np.bincount(inv, minlength=len(node_keys))
        want_values = np.bincount(inv, weights=(kv[1::2][present] >> np.uint64(62)) == np.uint64(2),
                                  minlength=len(node_keys))
        for k in range(len(node_keys)):
            xi = xa_find(m, <uint64_t>node_keys[k] + 1)
            if xi < 0 or m.xa_nodes[xi].count != want_count[k] or m.xa_nodes[xi].nr_values != want_values[k]:
                errs.append(f"xarray node of key {int(node_keys[k]) + 1} does not count its page-cache entries")
                break
        # swap
        cdef int64_t in_use = 0, swap_shadows = 0
        for j in range(m.nr_swap_slots):
            e = m.swap_map[j]
            if e:
                in_use += 1
                if (e & ~ENTRY_MASK) == ENTRY_SHADOW:
                    swap_shadows += 1
                if (e & ~ENTRY_MASK) == ENTRY_FOLIO:
                    p = e & ENTRY_MASK
                    if p >= n or isf[p] or m.folios[p].swap != j + 1:
                        errs.append(f"swap slot {j} names pfn {p} which is not in the swap cache there")
        if swap_shadows != m.nr_swap_shadows:
            errs.append(f"swap shadow count {m.nr_swap_shadows} != {swap_shadows} slots holding one")
        if in_use + m.nr_swap_free != m.nr_swap_slots:
            errs.append(f"swap slots in use {in_use} + free {m.nr_swap_free} != {m.nr_swap_slots}")
        errs.extend(self.policy.check_invariants())
        return errs[:50]


cdef inline bint _pte_young_at(uint32_t* pte, int32_t pfn) noexcept nogil:
    return pte != NULL and (pte[0] & PTE_PRESENT) != 0 and <int32_t>(pte[0] & PTE_PFN_MASK) == pfn \
        and (pte[0] & PTE_YOUNG) != 0


cdef uint64_t _new_layout_token():
    global _layout_tokens
    _layout_tokens += 1
    return _layout_tokens


cdef inline uint8_t _folio_young(mem* m, int32_t pfn) noexcept nogil:
    # the rmap walk of Simulator._young_bits(); an unmapped folio (mapcount
    # 0) has no PTE to look at.
    cdef folio* f = &m.folios[pfn]
    cdef int32_t v
    if f.mapcount <= 0:
        return 0
    if f.flags & PG_anon:
        return _pte_young_at(pte_lookup(m, f.mapping, f.index), pfn)
    if f.mapping < <uint32_t>m.nr_files:
        v = m.file_first_vma[f.mapping]
        while v >= 0:
            if _pte_young_at(pte_lookup(m, m.vmas[v].mm, file_vma_vpn(f.mapping, f.index)), pfn):
                return 1
            v = m.vmas[v].next_of_file
    return 0


cdef void _fill_young_bits(mem* m, uint8_t* out) noexcept nogil:
    cdef int32_t pfn
    for pfn in range(m.nr_frames):
        out[pfn] = _folio_young(m, pfn)


cdef inline uint32_t _loc_key(uint32_t fl) noexcept nogil:
    # the flag bits that decide a frame's location, packed into 7 bits
    # (backend/frames.py builds the 128-entry table it indexes)
    # bit 0 PG_lru, 1 PG_active, 2 PG_swapbacked (bit 4), 3 PG_unevictable (bit 8), 4-6 the gen field
    return (fl & 3) | ((fl >> 2) & 4) | ((fl >> 5) & 8) | (((fl >> LRU_GEN_PGOFF) & 7) << 4)


cdef int64_t _layout_order(mem* m, uint32_t* pf, int32_t* pn, uint8_t* py, bint diff,
                           uint32_t* d_pfn, uint32_t* d_flags, int32_t* d_next, uint8_t* d_young,
                           int64_t cap, int64_t* mlocked) noexcept nogil:
    # One pass over the folio table: the order layout's flags, next (-1 off
    # any list) and young bit of every frame, then each list head's next,
    # written over the caller's base; with `diff`, what differed from it is
    # also written out (ascending, heads last) while it fits in `cap`.
    # Returns the number of entries written out, or -1 when more than `cap`
    # changed (or without `diff`): then the base is the whole answer.
    cdef int32_t n = m.nr_frames, pfn, h, nx
    cdef uint32_t fl
    cdef uint8_t y
    cdef int64_t cnt = 0, ml = 0
    cdef bint over = not diff
    cdef folio* f
    for pfn in range(n):
        f = &m.folios[pfn]
        fl = f.flags
        nx = f.next if fl & PG_lru else -1
        if fl & PG_mlocked:
            ml += folio_nr_pages(m, pfn)
        if fl & PG_tail:
            fl = m.folios[f.next].flags | PG_tail   # drawn with its folio's state
        y = _folio_young(m, pfn)
        if fl != pf[pfn] or nx != pn[pfn] or y != py[pfn]:
            pf[pfn], pn[pfn], py[pfn] = fl, nx, y
            if not over:
                if cnt == cap:
                    over = True
                else:
                    d_pfn[cnt], d_flags[cnt], d_next[cnt], d_young[cnt] = pfn, fl, nx, y
                    cnt += 1
    for h in range(NR_LIST_HEADS):
        nx = m.folios[n + h].next
        if nx != pn[n + h]:
            pn[n + h] = nx
            if not over:
                if cnt == cap:
                    over = True
                else:
                    # heads carry no flags or young bit: 0, as the frames' arrays end at n
                    d_pfn[cnt], d_flags[cnt], d_next[cnt], d_young[cnt] = n + h, 0, nx, 0
                    cnt += 1
    mlocked[0] = ml
    return -1 if over else cnt


cdef int64_t _layout_location(mem* m, const uint8_t* lut, uint8_t* loc, uint32_t* fb, bint diff,
                              int64_t since, uint32_t* d_pfn, uint8_t* d_val, int64_t cap,
                              int64_t* mlocked) noexcept nogil:
    # The location layout's pass, as _layout_order(), one byte per frame.
    # With `since` (a base this pass brought up to date, pass number since
    # - 1), only the blocks whose flags were written since are read: a scan
    # step writes a few hundred of 1 Mi frames, so the pass skips the 32 MiB
    # folio table but for them. `fb` is the base's copy of the flags, which
    # keeps the base's PG_mlocked count exact without a full pass.
    cdef int32_t n = m.nr_frames, pfn, hi
    cdef int64_t k
    cdef int64_t b, nblocks = (<int64_t>n + (1 << LAYOUT_BLOCK_SHIFT) - 1) >> LAYOUT_BLOCK_SHIFT
    cdef uint32_t fl, old
    cdef uint8_t v
    cdef int64_t cnt = 0, ml = mlocked[0] if since >= 0 else 0
    cdef bint over = not diff
    if since >= 0:
        # a tail page is drawn where its folio is, so a write of a large folio's
        # flags moves its tails too: their blocks are read in this pass as well
        for b in range(nblocks):
            if m.layout.stamp[b] < since:
                continue
            pfn = <int32_t>(b << LAYOUT_BLOCK_SHIFT)
            hi = min(n, pfn + (1 << LAYOUT_BLOCK_SHIFT))
            while pfn < hi:
                fl = m.folios[pfn].flags
                if (fl & FOLIO_ORDER_MASK) and not (fl & PG_tail):
                    for k in range(1, folio_nr_pages(m, pfn)):
                        m.layout.stamp[folio_page(m, pfn, k) >> LAYOUT_BLOCK_SHIFT] = m.layout.seq
                pfn += 1
    for b in range(nblocks):
        if since >= 0 and m.layout.stamp[b] < since:
            continue
        pfn = <int32_t>(b << LAYOUT_BLOCK_SHIFT)
        hi = min(n, pfn + (1 << LAYOUT_BLOCK_SHIFT))
        while pfn < hi:
            fl = m.folios[pfn].flags
            old = fb[pfn]
            if since < 0:
                if fl & PG_mlocked:
                    ml += flags_nr_pages(fl)
                fb[pfn] = fl
            elif fl != old:
                if fl & PG_mlocked:
                    ml += flags_nr_pages(fl)
                if old & PG_mlocked:
                    ml -= flags_nr_pages(old)
                fb[pfn] = fl
            v = lut[_loc_key(m.folios[m.folios[pfn].next].flags if fl & PG_tail else fl)]
            if v != loc[pfn]:
                loc[pfn] = v
                if not over:
                    if cnt == cap:
                        over = True
                    else:
                        d_pfn[cnt], d_val[cnt] = pfn, v
                        cnt += 1
            pfn += 1
    mlocked[0] = ml
    return -1 if over else cnt


cdef int mm_ensure_py(mem* m, uint32_t nr) except -1:
    cdef int32_t i
    cdef int32_t cap = 16
    while cap < <int32_t>nr:
        cap *= 2
    m.mms = <mm_struct*>calloc(cap, sizeof(mm_struct))
    if m.mms == NULL:
        return -1
    for i in range(cap):
        m.mms[i].first_ptp = -1
    m.cap_mms = cap
    m.nr_mms = nr
    return 0


cdef void _copy(char* dst, bytes src):
    if len(src):
        memcpy(dst, PyBytes_AS_STRING(src), len(src))


cdef void _pc_insert_raw(mem* m, uint64_t key, uint64_t val) noexcept nogil:
    cdef uint64_t i = hash64(key) & <uint64_t>m.pc_mask
    while m.pc_keys[2 * i] != 0:
        i = (i + 1) & <uint64_t>m.pc_mask
    m.pc_keys[2 * i] = key
    m.pc_vals[2 * i] = val
    m.pc_used += 1
    if (val & ~ENTRY_MASK) == ENTRY_SHADOW:
        m.nr_shadows += 1


def _json_ready(obj):
    # numpy arrays and scalars inside a policy snapshot become plain lists / ints
    if isinstance(obj, dict):
        return {k: _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


cdef int _op_code(op) except -1:
    if isinstance(op, str):
        codes = {"A": OP_ANON, "R": OP_READ, "W": OP_WRITE, "M": OP_MMAP, "X": OP_EXEC, "U": OP_EXIT}
        if op not in codes:
            raise ValueError(f"unknown op {op!r}")
        return codes[op]
    if not 0 <= op <= OP_EXIT:
        raise ValueError(f"unknown op {op!r}")
    return op

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False, nonecheck=False
"""The multi-generational LRU (MGLRU, ``lru_gen``) on the shared engine core.

Mirrors the "the aging", "the eviction", "PID controller", "rmap/PT walk
feedback" and "debugfs interface" sections of mm/vmscan.c, the lru_gen_*
helpers of include/linux/mm_inline.h and the MGLRU half of mm/workingset.c,
at v6.14+ semantics (spec §3.7, §4). The shared reclaim code
(shrink_folio_list, folio_referenced, move_folios_to_lru) lives in
policy.pyx and calls back into this class at the lru_gen_enabled() branch
points declared in policy.pxd.

Simplified (see docs/mglru.md for the full list):
  * one node, one memcg (memcg id 0, no memcg LRU); two zones, ZONE_DMA
    and the one above it, each generation a list per zone;
  * NR_HIST_GENS = 1, as without CONFIG_LRU_GEN_STATS;
  * one walker at a time, so the mm walk's batched size updates
    (update_batch_size/reset_batch_size) are applied at once;
  * jiffies are simulated nanoseconds (the later of the workload and kswapd
    clocks), shown in milliseconds;
  * folios are 4 KiB: every delta is 1.
"""

from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset, memcpy
cimport cython

from engine._types cimport *
from engine.core cimport *
from engine.policy cimport ReclaimPolicy, STEP_DONE, STEP_BATCH, STEP_BATCH_LAST, STEP_AGED, STEP_OOM, shrink_node_reset_counts

# --- constants of the reference kernel not in _types.pxd ------------------------
cdef enum:
    NR_BLOOM_FILTERS = 2
    BLOOM_FILTER_SHIFT = 15
    BLOOM_WORDS = (1 << 15) // 64
    NR_MM_STATS = 4               # MM_LEAF_TOTAL, MM_LEAF_YOUNG, MM_NONLEAF_FOUND, MM_NONLEAF_ADDED
    MM_LEAF_TOTAL = 0
    MM_LEAF_YOUNG = 1
    MM_NONLEAF_FOUND = 2
    MM_NONLEAF_ADDED = 3
    PTES_PER_CACHELINE = 8        # suitable_to_scan(): clamp(64 / sizeof(pte_t), 2, 8) on x86-64
    MM_ITER_NULL = -2             # mm_state->head/tail == NULL
    MM_ITER_FIFO = -1             # mm_state->head/tail == &mm_list->fifo

# should_run_aging()'s verdicts (aging_verdict()): > 0 ages, < 0 does not
cdef enum:
    AGING_OUT_OF_COLD = 1         # min_seq + MIN_NR_GENS > max_seq: nothing old enough to evict
    AGING_YOUNG_OVER_HALF = 2     # before v6.14: max_seq holds over 1 / MIN_NR_GENS of the pages
    AGING_OLD_UNDER_QUARTER = 3   # before v6.14: the oldest holds under 1 / (MIN_NR_GENS + 2)
    AGING_MIN_GENS = 4            # since v6.14: only MIN_NR_GENS + 1 generations left
    AGING_NO_MORE_GENS = -1       # more than MIN_NR_GENS + 1 generations: evict first
    AGING_NO_BALANCED = -2        # before v6.14: the pages spread evenly enough

# pass phases kept in scan_control.phase (the loop of try_to_shrink_lruvec)
cdef enum:
    PASS_IDLE = 0
    PASS_LOOP = 1
    PASS_OVER = 2

cdef extern from *:
    """
    #define RL_GOLDEN_RATIO_64 0x61C8864680B583EBULL
    """
    const uint64_t GOLDEN_RATIO_64 "RL_GOLDEN_RATIO_64"

# struct lru_gen_folio + struct lru_gen_mm_state + the experiment switches'
# private counters. Plain data: state_bytes() is this struct's bytes.
ctypedef struct lrugen_state:
    int64_t max_seq
    int64_t min_seq[2]                         # [LRU_GEN_ANON, LRU_GEN_FILE]
    int64_t timestamps[4]                      # birth of gen (ns of the simulated clock)
    int64_t nr_pages[4][2]                     # per gen, type (both zones)
    int64_t avg_refaulted[2][4]                # PID: per type, tier
    int64_t avg_total[2][4]
    int64_t refaulted[1][2][4]                 # [NR_HIST_GENS][type][tier]
    int64_t evicted[1][2][4]
    int64_t protected[1][2][4]
    # struct lru_gen_mm_state
    int64_t mm_seq                             # completed mm-list iterations (starts at MIN_NR_GENS)
    int32_t mm_head                            # MM_ITER_NULL, MM_ITER_FIFO or an mm id
    int32_t mm_tail
    int64_t mm_stats[1][4]                     # [NR_HIST_GENS][NR_MM_STATS], cumulative (NR_HIST_GENS == 1)
    uint8_t filter_alloc[2]                    # Bloom filter allocated (a missing one means "scan everything")
    uint8_t _pad[6]
    uint64_t filters[2][512]                   # 2^15 bits each
    # pid_controller=False: pages isolated per type, for the swappiness-only split
    int64_t nr_isolated_type[2]


# --- small helpers of mm_inline.h ------------------------------------------------
cdef inline int lru_gen_from_seq(int64_t seq) noexcept nogil:
    return <int>(seq % MAX_NR_GENS)

cdef inline int lru_hist_from_seq(int64_t seq) noexcept nogil:
    return <int>(seq % NR_HIST_GENS)

cdef inline int order_base_2(int n) noexcept nogil:
    cdef int r = 0
    cdef int v = 1
    while v < n:
        v <<= 1
        r += 1
    return r

cdef void hook_sc(scan_control* sc, int reclaimer, int swappiness) noexcept nogil:
    # the scan_control of the test hooks: a reclaimer with every may_* at DEF_PRIORITY
    memset(sc, 0, sizeof(scan_control))
    sc.may_writepage = 1
    sc.may_unmap = 1
    sc.may_swap = 1
    sc.priority = DEF_PRIORITY
    sc.swappiness = swappiness
    sc.reclaimer = reclaimer


cdef inline int folio_lru_refs(mem* m, folio_idx_t f) noexcept nogil:
    # 0 without PG_referenced, else refs field + 1 (v6.14 LRU_REFS_FLAGS)
    cdef uint32_t fl = m.folios[f].flags
    if not (fl & PG_referenced):
        return 0
    return <int>((fl & LRU_REFS_MASK) >> LRU_REFS_PGOFF) + 1

cdef inline int fls_long(uint64_t x) noexcept nogil:
    cdef int r = 0
    while x:
        x >>= 1
        r += 1
    return r

cdef inline int min_type(int swappiness) noexcept nogil:
    return 1 if swappiness == 0 else 0

cdef inline int max_type(int swappiness) noexcept nogil:
    return 1 if swappiness < SWAPPINESS_ANON_ONLY else 0

cdef inline bint folio_evictable(mem* m, folio_idx_t f) noexcept nogil:
    return (m.folios[f].flags & (PG_mlocked | PG_unevictable)) == 0

cdef inline uint16_t ctrl_rate(int64_t* pos) noexcept nogil:
    # a ctrl_pos's refaulted / total in 0.01 % (saturating), for the events
    cdef int64_t v
    if pos[1] <= 0:
        return 0 if pos[0] <= 0 else 65535
    v = pos[0] * 10000 // pos[1]
    return <uint16_t>(v if v < 65535 else 65535)

cdef inline void vmstat_add(mem* m, int item, int64_t delta) noexcept nogil:
    # core.pyx:vmstat_add() inlined: it is a cross-module call on the hot paths
    m.vmstat[item] += delta


@cython.final
cdef class MultiGenLru(ReclaimPolicy):
    """Mirrors the kernel's MGLRU (CONFIG_LRU_GEN, v6.14+); simplified: one
    node, one memcg, NR_HIST_GENS = 1."""

    cdef lrugen_state s
    # experiment switches (config["lru_gen"]); the kernel has none of these
    cdef public bint sw_pid_controller
    cdef public bint sw_tiers
    cdef public bint sw_look_around
    cdef public bint sw_walk_mm
    cdef public bint sw_bloom_filter
    cdef public int64_t min_ttl_ms
    # kernel profile (docs/kernels.md): before v6.14's "rework workingset
    # protection" (6.1, 6.12) tiers, placement, protection and refaults differ
    cdef readonly bint pre614
    cdef readonly int kernel
    # a 2026 proposal, off by default (docs/policies.md): promote a file folio
    # (lru_activate()) on its second fd access instead of waiting for tier protection
    cdef public bint sw_promote_file_on_access
    # What the PID controller last concluded (get_tier_idx(), or get_type_to_scan()
    # before v6.14), for the events of the scan_folios() that uses its tier_idx.
    # Recorded only while events are on; not state: every batch recomputes it.
    cdef uint16_t pid_rate                     # refaulted/total of the tier it stopped at, 0.01 %
    cdef uint16_t pid_ref_rate                 # the same of the tier 0 it compared that with
    cdef uint8_t pid_why                       # WHY_PID | WHY_PID_TYPE, 0 with the controller off

    def __cinit__(self, *args, **kwargs):
        self.lru_gen_enabled = True
        self.sw_pid_controller = True
        self.sw_tiers = True
        self.sw_look_around = True
        self.sw_walk_mm = True
        self.sw_bloom_filter = True
        self.min_ttl_ms = 0
        self.sw_promote_file_on_access = False
        memset(&self.s, 0, sizeof(lrugen_state))
        self.s.max_seq = MIN_NR_GENS + 1
        self.s.mm_seq = MIN_NR_GENS
        self.s.mm_head = MM_ITER_NULL
        self.s.mm_tail = MM_ITER_NULL

    cdef int attach(self, mem* m, dict config) except -1:
        ReclaimPolicy.attach(self, m, config)
        self.lru_gen_enabled = True
        self.kernel = m.kernel
        self.pre614 = m.kernel < 614
        self.configure(config.get("lru_gen") if config else None)
        self.lru_gen_init_lruvec()
        return 0

    cdef int folio_loc(self, folio_idx_t pfn, int64_t* seq) noexcept nogil:
        cdef int gen = folio_lru_gen(self.m, pfn)
        if gen >= 0:
            seq[0] = self.seq_of_gen(gen)
            return LOC_GEN
        return ReclaimPolicy.folio_loc(self, pfn, seq)

    def configure(self, cfg):
        """Apply config["lru_gen"] (already validated by the simulator)."""
        cfg = cfg or {}
        self.sw_pid_controller = bool(cfg.get("pid_controller", True))
        self.sw_tiers = bool(cfg.get("tiers", True))
        self.sw_look_around = bool(cfg.get("look_around", True))
        self.sw_walk_mm = bool(cfg.get("walk_mm", True))
        self.sw_bloom_filter = bool(cfg.get("bloom_filter", True))
        self.min_ttl_ms = int(cfg.get("min_ttl_ms", 0))
        self.sw_promote_file_on_access = bool(cfg.get("promote_file_on_access", False))

    cdef void lru_gen_init_lruvec(self) noexcept nogil:
        """Mirrors mm/vmscan.c:lru_gen_init_lruvec() (two zones: ZONE_DMA and the one above it)."""
        cdef int i
        cdef int64_t now = self.jiffies()
        for i in range(MAX_NR_GENS * ANON_AND_FILE):
            list_init(self.m, list_head(self.m, HEAD_GEN + i))
            list_init(self.m, list_head(self.m, HEAD_GEN_DMA + i))
        for i in range(MAX_NR_GENS):
            self.s.timestamps[i] = now

    # --- clock ---------------------------------------------------------------------
    cdef inline int64_t jiffies(self) noexcept nogil:
        # one machine-wide clock: whichever actor is furthest ahead
        if self.m == NULL:
            return 0
        return self.m.now_ns if self.m.now_ns > self.m.kswapd_ns else self.m.kswapd_ns

    # --- lruvec accounting (lru_gen_update_size) -----------------------------------
    cdef inline bint lru_gen_is_active(self, int gen) noexcept nogil:
        return gen == lru_gen_from_seq(self.s.max_seq) or gen == lru_gen_from_seq(self.s.max_seq - 1)

    cdef inline folio_idx_t gen_head_z(self, int gen, int type, int zone) noexcept nogil:
        """lrugen->folios[gen][type][zone]: each generation is a list per zone."""
        return self.m.nr_frames + (HEAD_GEN if zone == ZONE_NORMAL else HEAD_GEN_DMA) + gen * 2 + type

    cdef inline folio_idx_t folio_gen_head(self, folio_idx_t f, int gen, int type) noexcept nogil:
        return self.gen_head_z(gen, type, folio_zone(self.m, f))

    cdef inline bint gen_empty(self, int gen, int type) noexcept nogil:
        return list_empty(self.m, self.gen_head_z(gen, type, ZONE_NORMAL)) and list_empty(self.m, self.gen_head_z(gen, type, ZONE_DMA))

    cdef void lru_gen_update_size(self, folio_idx_t f, int old_gen, int new_gen) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lru_gen_update_size(): by the
        folio's pages (delta = folio_nr_pages())."""
        cdef int type = folio_type(self.m, f)
        cdef int lru = type * LRU_INACTIVE_FILE
        cdef int64_t delta = folio_nr_pages(self.m, f)
        if old_gen >= 0:
            self.s.nr_pages[old_gen][type] -= delta
        if new_gen >= 0:
            self.s.nr_pages[new_gen][type] += delta
        if old_gen < 0:
            # addition
            if self.lru_gen_is_active(new_gen):
                lru += 1
            vmstat_add(self.m, NR_INACTIVE_ANON + lru, delta)
            return
        if new_gen < 0:
            # deletion
            if self.lru_gen_is_active(old_gen):
                lru += 1
            vmstat_add(self.m, NR_INACTIVE_ANON + lru, -delta)
            return
        # promotion; demotion needs isolation
        if not self.lru_gen_is_active(old_gen) and self.lru_gen_is_active(new_gen):
            vmstat_add(self.m, NR_INACTIVE_ANON + lru, -delta)
            vmstat_add(self.m, NR_INACTIVE_ANON + lru + 1, delta)

    cdef int64_t lru_gen_folio_seq(self, folio_idx_t f, bint reclaiming) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lru_gen_folio_seq() (v6.14+)."""
        cdef uint32_t fl = self.m.folios[f].flags
        cdef int type = folio_type(self.m, f)
        cdef int ws = 1 if fl & PG_workingset else 0
        cdef int gen
        cdef int64_t seq
        if self.pre614:
            return self.lru_gen_folio_seq_pre614(f, reclaiming)
        if fl & PG_active:
            gen = MIN_NR_GENS - ws
        elif reclaiming:
            gen = MAX_NR_GENS
        elif (type == LRU_GEN_ANON and not (fl & PG_swapcache)) or \
                ((fl & PG_reclaim) and (fl & (PG_dirty | PG_writeback))):
            gen = MIN_NR_GENS
        elif self.kernel >= 700:
            # 7.3 mm_inline.h:250: PG_referenced counts as well as PG_workingset
            gen = MAX_NR_GENS - (1 if fl & (PG_workingset | PG_referenced) else 0)
        else:
            gen = MAX_NR_GENS - ws
        seq = self.s.max_seq - gen + 1
        if seq < self.s.min_seq[type]:
            seq = self.s.min_seq[type]
        return seq

    cdef int64_t lru_gen_folio_seq_pre614(self, folio_idx_t f, bint reclaiming) noexcept nogil:
        """The placement of include/linux/mm_inline.h:lru_gen_add_folio() before
        v6.14 (6.1 mm_inline.h:245-254, 6.12 :252-261): active -> max_seq; anon
        outside the swap cache or dirty/writeback under PG_reclaim -> max_seq - 1;
        otherwise min_seq + 1, or min_seq when reclaiming or with only 3 gens."""
        cdef uint32_t fl = self.m.folios[f].flags
        cdef int type = folio_type(self.m, f)
        if fl & PG_active:
            return self.s.max_seq
        if (type == LRU_GEN_ANON and not (fl & PG_swapcache)) or \
                ((fl & PG_reclaim) and (fl & (PG_dirty | PG_writeback))):
            return self.s.max_seq - 1
        if reclaiming or self.s.min_seq[type] + MIN_NR_GENS >= self.s.max_seq:
            return self.s.min_seq[type]
        return self.s.min_seq[type] + 1

    cdef bint lru_gen_add_folio(self, folio_idx_t f, bint reclaiming) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lru_gen_add_folio()."""
        cdef int type
        cdef int64_t seq
        cdef int gen
        cdef int64_t src_seq
        if self.m.folios[f].flags & PG_unevictable:
            return False
        type = folio_type(self.m, f)
        seq = self.lru_gen_folio_seq(f, reclaiming)
        gen = lru_gen_from_seq(seq)
        if self.kernel >= 612 and self.pre614 and (self.m.folios[f].flags & PG_active):
            # 6.12 mm_inline.h:271: activation also resets the tier bits
            self.m.folios[f].flags &= ~(<uint32_t>(LRU_REFS_MASK | PG_referenced))
            folio_flags_changed(self.m, f)
        self.m.folios[f].flags = (self.m.folios[f].flags & ~(<uint32_t>(LRU_GEN_MASK | PG_active))) | \
            (<uint32_t>(gen + 1) << LRU_GEN_PGOFF)
        folio_flags_changed(self.m, f)
        self.lru_gen_update_size(f, -1, gen)
        if reclaiming:
            list_add_tail(self.m, f, self.folio_gen_head(f, gen, type))
        else:
            list_add(self.m, f, self.folio_gen_head(f, gen, type))
        return True

    cdef bint lru_gen_del_folio(self, folio_idx_t f, bint reclaiming) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lru_gen_del_folio()."""
        cdef int gen = folio_lru_gen(self.m, f)
        cdef uint32_t keep
        if gen < 0:
            return False
        keep = PG_active if (not reclaiming and self.lru_gen_is_active(gen)) else 0
        self.m.folios[f].flags = (self.m.folios[f].flags & ~(<uint32_t>LRU_GEN_MASK)) | keep
        folio_flags_changed(self.m, f)
        self.lru_gen_update_size(f, gen, -1)
        list_del(self.m, f)
        return True

    # --- ReclaimPolicy: LRU membership ---------------------------------------------
    cdef void lruvec_add_folio(self, folio_idx_t pfn, bint tail) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lruvec_add_folio() / _tail(): MGLRU
        first, the shared unevictable list otherwise."""
        if self.lru_gen_add_folio(pfn, tail):
            return
        vmstat_add(self.m, NR_UNEVICTABLE, folio_nr_pages(self.m, pfn))
        if tail:
            list_add_tail(self.m, pfn, list_head(self.m, HEAD_LRU + LRU_UNEVICTABLE))
        else:
            list_add(self.m, pfn, list_head(self.m, HEAD_LRU + LRU_UNEVICTABLE))

    cdef void lruvec_del_folio(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lruvec_del_folio()."""
        if self.lru_gen_del_folio(pfn, False):
            return
        vmstat_add(self.m, NR_UNEVICTABLE, -folio_nr_pages(self.m, pfn))
        list_del(self.m, pfn)

    # --- accesses ------------------------------------------------------------------
    cdef void folio_mark_accessed(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/swap.c:lru_gen_inc_refs() (folio_mark_accessed under
        lru_gen_enabled()); v6.14+."""
        cdef uint32_t fl = self.m.folios[pfn].flags
        if fl & PG_unevictable:
            return
        if (self.sw_promote_file_on_access and (fl & PG_referenced) and (fl & PG_lru)
                and not (fl & PG_swapbacked)):
            # the proposal: a file folio accessed twice through a file descriptor
            # is promoted now, as the classic folio_mark_accessed() activates it
            # (MGLRU-FG, Kairui Song 2026; the kernel has no such switch)
            self.folio_activate(pfn)
            return
        if self.pre614:
            self.folio_inc_refs(pfn)
            return
        if not (fl & PG_referenced):
            self.m.folios[pfn].flags = (fl & ~(<uint32_t>LRU_REFS_MASK)) | PG_referenced
            folio_flags_changed(self.m, pfn)
            if self.m.events_on:
                emit(self.m, EV_MARK_ACCESSED, R_ACCESSED_FIRST, FN_LRU_GEN_INC_REFS, pfn,
                     LOC_GEN, LOC_GEN, self.folio_seq(pfn), self.folio_seq(pfn))
            return
        if (fl & LRU_REFS_MASK) == LRU_REFS_MASK:
            if not (fl & PG_workingset):
                self.m.folios[pfn].flags = fl | PG_workingset
                folio_flags_changed(self.m, pfn)
                if self.m.events_on:
                    emit(self.m, EV_MARK_ACCESSED, R_REFS_WORKINGSET, FN_LRU_GEN_INC_REFS, pfn,
                         LOC_GEN, LOC_GEN, self.folio_seq(pfn), self.folio_seq(pfn))
            return
        self.m.folios[pfn].flags = fl + (1 << LRU_REFS_PGOFF)
        folio_flags_changed(self.m, pfn)
        if self.m.events_on:
            emit(self.m, EV_MARK_ACCESSED, R_REFS_INC, FN_LRU_GEN_INC_REFS, pfn,
                 LOC_GEN, LOC_GEN, self.folio_seq(pfn), self.folio_seq(pfn))

    cdef void folio_inc_refs(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/swap.c:folio_inc_refs() before v6.14 (6.1 swap.c:424,
        6.12 swap.c:414): PG_referenced, then PG_workingset, then refs up to 3."""
        cdef uint32_t fl = self.m.folios[pfn].flags
        cdef int reason
        if not (fl & PG_referenced):
            self.m.folios[pfn].flags = fl | PG_referenced
            folio_flags_changed(self.m, pfn)
            reason = R_ACCESSED_FIRST
        elif not (fl & PG_workingset):
            self.m.folios[pfn].flags = fl | PG_workingset
            folio_flags_changed(self.m, pfn)
            reason = R_REFS_SECOND
        elif (fl & LRU_REFS_MASK) == LRU_REFS_MASK:
            return
        else:
            self.m.folios[pfn].flags = fl + (1 << LRU_REFS_PGOFF)
            folio_flags_changed(self.m, pfn)
            reason = R_REFS_INC
        if self.m.events_on:
            emit(self.m, EV_MARK_ACCESSED, reason, FN_FOLIO_INC_REFS, pfn,
                 LOC_GEN, LOC_GEN, self.folio_seq(pfn), self.folio_seq(pfn))

    cdef void folio_activate(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/swap.c:lru_activate() under MGLRU: re-add into max_seq
        (PG_workingset) or max_seq - 1, pgactivate."""
        cdef int64_t src = -1
        if self.m.folios[pfn].flags & (PG_active | PG_unevictable):
            return
        if not (self.m.folios[pfn].flags & PG_lru):
            return
        if self.m.events_on:
            src = self.folio_seq(pfn)
        self.lruvec_del_folio(pfn)
        self.m.folios[pfn].flags |= PG_active
        folio_flags_changed(self.m, pfn)
        self.lruvec_add_folio(pfn, False)
        vmstat_add(self.m, PGACTIVATE, folio_nr_pages(self.m, pfn))
        if self.m.events_on:
            emit(self.m, EV_PGACTIVATE, R_LOOK_AROUND, FN_LRU_ACTIVATE, pfn, LOC_GEN, LOC_GEN,
                 src, self.folio_seq(pfn))

    cdef inline int64_t folio_seq(self, folio_idx_t f) noexcept nogil:
        # the seq the folio's gen field names inside the current window, -1 if none
        cdef int gen = folio_lru_gen(self.m, f)
        if gen < 0:
            return -1
        return self.seq_of_gen(gen)

    cdef inline int lru_refs(self, folio_idx_t f) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:folio_lru_refs(): v6.14+ 0 without
        PG_referenced, else the refs field + 1; before v6.14 (6.1 mm_inline.h:143)
        the refs field + PG_workingset, i.e. fd accesses beyond the first."""
        if self.pre614:
            return folio_lru_refs_field(self.m, f) + (1 if self.m.folios[f].flags & PG_workingset else 0)
        return folio_lru_refs(self.m, f)

    cdef int lru_tier_from_refs(self, int refs, bint workingset) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lru_tier_from_refs(): v6.14+
        workingset ? 3 : order_base_2(refs); before v6.14 (6.1 mm_inline.h:135)
        order_base_2(refs + 1). Every folio is tier 0 when the `tiers` switch is off."""
        if not self.sw_tiers:
            return 0
        if self.pre614:
            return order_base_2(refs + 1)
        if workingset:
            return MAX_NR_TIERS - 1
        return order_base_2(refs)

    cdef bint lru_gen_set_refs(self, folio_idx_t f, uint32_t vm_flags) noexcept nogil:
        """Mirrors mm/swap.c:lru_gen_set_refs() (v6.14+); 7.3 (vmscan.c:839-859)
        promotes to PG_workingset only from the second referenced sighting on and
        otherwise counts one more access. vm_flags: of the VMA the young PTE was in."""
        cdef uint32_t fl = self.m.folios[f].flags
        if not (fl & (PG_referenced | PG_workingset)):
            if self.is_exec_file_folio(f, vm_flags):
                # 7.3 :843-846: a file folio young in a VM_EXEC mapping is
                # activated on its first sighting
                self.m.folios[f].flags = (fl & ~(<uint32_t>PG_referenced)) | PG_workingset
                folio_flags_changed(self.m, f)
                return True
            self.m.folios[f].flags = (fl & ~(<uint32_t>LRU_REFS_MASK)) | PG_referenced
            folio_flags_changed(self.m, f)
            return False
        if self.kernel >= 700 and folio_lru_refs(self.m, f) <= 1:
            self.folio_mark_accessed(f)
            return True
        self.m.folios[f].flags = (fl & ~(<uint32_t>(LRU_REFS_MASK | PG_referenced))) | PG_workingset
        folio_flags_changed(self.m, f)
        return True

    cdef bint lru_gen_clear_refs(self, folio_idx_t f) noexcept nogil:
        """Mirrors mm/swap.c:lru_gen_clear_refs(): forget PG_referenced, refs and
        PG_workingset; true if no move is needed (not on a list, or already in
        its type's oldest generation)."""
        cdef int gen = folio_lru_gen(self.m, f)
        if gen < 0:
            return True
        self.folio_clear_lru_refs(f)
        return gen == lru_gen_from_seq(self.s.min_seq[folio_type(self.m, f)])

    cdef inline void folio_clear_lru_refs(self, folio_idx_t f) noexcept nogil:
        # include/linux/mm_inline.h:folio_clear_lru_refs(): refs, PG_referenced, PG_workingset
        self.m.folios[f].flags &= ~(<uint32_t>(LRU_REFS_MASK | PG_referenced | PG_workingset))
        folio_flags_changed(self.m, f)

    cdef void folio_deactivate(self, folio_idx_t f) noexcept nogil:
        """Mirrors mm/swap.c:folio_deactivate() + lru_deactivate() under MGLRU
        (MADV_COLD); simplified: applied at once."""
        cdef int64_t src = -1
        if self.m.folios[f].flags & PG_unevictable or not (self.m.folios[f].flags & PG_lru):
            return
        if self.lru_gen_clear_refs(f):
            return
        if self.m.events_on:
            src = self.folio_seq(f)
        self.lruvec_del_folio(f)
        self.m.folios[f].flags &= ~(<uint32_t>(PG_active | PG_referenced))
        folio_flags_changed(self.m, f)
        self.lruvec_add_folio(f, False)
        vmstat_add(self.m, PGDEACTIVATE, folio_nr_pages(self.m, f))
        if self.m.events_on:
            emit(self.m, EV_PGDEACTIVATE, R_NONE, FN_NONE, f, LOC_GEN, LOC_GEN, src, self.folio_seq(f))

    cdef inline bint is_exec_file_folio(self, folio_idx_t f, uint32_t vm_flags) noexcept nogil:
        # 7.3 vmscan.c:267-271; the releases before have no such rule in MGLRU
        return self.kernel >= 700 and (vm_flags & VM_EXEC) != 0 and folio_is_file_lru(self.m, f)

    cdef int folio_update_gen(self, folio_idx_t f, int gen, uint32_t vm_flags) noexcept nogil:
        """Mirrors mm/vmscan.c:folio_update_gen(): first sighting only sets
        PG_referenced; otherwise the gen field becomes max_seq's (lazy)."""
        cdef uint32_t fl = self.m.folios[f].flags
        cdef int old_gen
        if self.pre614:
            # 6.1 vmscan.c:3674 / 6.12 :3157: straight to max_seq, tier state cleared;
            # an isolated folio gets PG_referenced for shrink_folio_list()
            if not (fl & LRU_GEN_MASK):
                self.m.folios[f].flags = fl | PG_referenced
                folio_flags_changed(self.m, f)
                return -1
            old_gen = <int>((fl & LRU_GEN_MASK) >> LRU_GEN_PGOFF) - 1
            self.m.folios[f].flags = (fl & ~(<uint32_t>(LRU_GEN_MASK | LRU_REFS_MASK | PG_referenced |
                                                       PG_workingset))) | (<uint32_t>(gen + 1) << LRU_GEN_PGOFF)
            folio_flags_changed(self.m, f)
            if self.m.events_on:
                emit(self.m, EV_FOLIO_UPDATE_GEN, R_WALK_PROMOTE, FN_FOLIO_UPDATE_GEN, f, LOC_GEN, LOC_GEN,
                     self.seq_of_gen(old_gen), self.s.max_seq)
            return old_gen
        if not (fl & (PG_referenced | PG_workingset)) and not self.is_exec_file_folio(f, vm_flags):
            # first sighting: flags only, no event (a walk would flood the ring);
            # 7.3 (:3279-3283) promotes an executable file folio at once
            self.m.folios[f].flags = (fl & ~(<uint32_t>LRU_REFS_MASK)) | PG_referenced
            folio_flags_changed(self.m, f)
            return -1
        if not (fl & LRU_GEN_MASK):
            return -1
        old_gen = <int>((fl & LRU_GEN_MASK) >> LRU_GEN_PGOFF) - 1
        self.m.folios[f].flags = (fl & ~(<uint32_t>(LRU_GEN_MASK | LRU_REFS_MASK | PG_referenced))) | \
            (<uint32_t>(gen + 1) << LRU_GEN_PGOFF) | PG_workingset
        folio_flags_changed(self.m, f)
        if self.m.events_on:
            emit(self.m, EV_FOLIO_UPDATE_GEN, R_WALK_PROMOTE, FN_FOLIO_UPDATE_GEN, f, LOC_GEN, LOC_GEN,
                 self.seq_of_gen(old_gen), self.s.max_seq)
        return old_gen

    cdef inline int64_t seq_of_gen(self, int gen) noexcept nogil:
        # the seq in [max_seq - 3, max_seq] whose gen is gen
        return self.s.max_seq - ((lru_gen_from_seq(self.s.max_seq) - gen + MAX_NR_GENS) % MAX_NR_GENS)

    cdef int folio_inc_gen(self, folio_idx_t f, bint reclaiming) noexcept nogil:
        """Mirrors mm/vmscan.c:folio_inc_gen(): into min_seq + 1 unless the walk
        already promoted it."""
        cdef int type = folio_type(self.m, f)
        cdef int old_gen = lru_gen_from_seq(self.s.min_seq[type])
        cdef uint32_t fl = self.m.folios[f].flags
        cdef int new_gen = <int>((fl & LRU_GEN_MASK) >> LRU_GEN_PGOFF) - 1
        if new_gen >= 0 and new_gen != old_gen:
            return new_gen
        new_gen = (old_gen + 1) % MAX_NR_GENS
        # LRU_REFS_FLAGS: v6.14+ PG_referenced (7.3 mmzone.h:522); before, also
        # PG_workingset (6.1 vmscan.c:3147), so protection forgets the tier
        fl = (fl & ~(<uint32_t>(LRU_GEN_MASK | LRU_REFS_MASK | PG_referenced |
                                (PG_workingset if self.pre614 else 0)))) | \
            (<uint32_t>(new_gen + 1) << LRU_GEN_PGOFF)
        if reclaiming:
            fl |= PG_reclaim
        self.m.folios[f].flags = fl
        folio_flags_changed(self.m, f)
        self.lru_gen_update_size(f, old_gen, new_gen)
        if self.m.events_on:
            emit(self.m, EV_FOLIO_INC_GEN, R_NONE, FN_FOLIO_INC_GEN, f, LOC_GEN, LOC_GEN,
                 self.s.min_seq[type], self.s.min_seq[type] + 1)
        return new_gen

    # --- reclaim: references -------------------------------------------------------
    cdef int folio_check_references(self, folio_idx_t pfn, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:folio_check_references(), lru_gen_enabled()
        branch (v6.14+): PG_referenced alone never keeps a folio."""
        cdef uint32_t vm_flags = 0
        cdef int referenced_ptes
        cdef uint32_t fl0 = self.m.folios[pfn].flags   # before lru_gen_set_refs(), for the events
        if self.pre614:
            # shrink_folio_list() 6.1 vmscan.c:1685 / 6.12 :1110: "folio_update_gen()
            # tried to promote this page?" keeps it; then the classic rules
            if self.m.folios[pfn].mapcount and (self.m.folios[pfn].flags & PG_referenced):
                folio_set_decision(self.m, pfn, 0, R_LRU_GEN_KEEP_REFERENCED)
                return FOLIOREF_KEEP
            return self.folio_check_references_classic(pfn, sc)
        referenced_ptes = self.folio_referenced(pfn, &vm_flags, sc)
        if vm_flags & VM_LOCKED:
            folio_set_decision(self.m, pfn, 0, R_FOLIOREF_ACTIVATE_LOCKED)
            if self.m.events_on:
                emit(self.m, EV_REFERENCED, R_FOLIOREF_ACTIVATE_LOCKED, FN_FOLIO_CHECK_REFERENCES, pfn,
                     LOC_ISOLATED, LOC_ISOLATED, -1, -1)
            return FOLIOREF_ACTIVATE
        if referenced_ptes == -1:
            return FOLIOREF_KEEP
        # the rule's inputs, for the event of whatever shrink_folio_list() decides
        folio_set_references(self.m, pfn, referenced_ptes, (fl0 & PG_referenced) != 0, vm_flags)
        if referenced_ptes == 0:
            return FOLIOREF_RECLAIM
        if self.lru_gen_set_refs(pfn, vm_flags):
            folio_set_decision(self.m, pfn, 0, R_SET_REFS_ACTIVATE)
            if self.m.events_on:
                emit(self.m, EV_REFERENCED, R_SET_REFS_ACTIVATE, FN_LRU_GEN_SET_REFS, pfn,
                     LOC_ISOLATED, LOC_ISOLATED, -1, -1)
                self.event_set_refs_inputs(fl0, pfn)
            return FOLIOREF_ACTIVATE
        folio_set_decision(self.m, pfn, 0, R_SET_REFS_KEEP)
        if self.m.events_on:
            emit(self.m, EV_REFERENCED, R_SET_REFS_KEEP, FN_LRU_GEN_SET_REFS, pfn,
                 LOC_ISOLATED, LOC_ISOLATED, -1, -1)
            self.event_set_refs_inputs(fl0, pfn)
        return FOLIOREF_KEEP

    cdef void event_set_refs_inputs(self, uint32_t fl, folio_idx_t pfn) noexcept nogil:
        # lru_gen_set_refs()'s inputs: the young PTEs found, and the refs and
        # PG_referenced / PG_workingset it read (fl, before it changed them)
        cdef vm_event_rec* e = last_event(self.m)
        event_set_references(e, self.m.folios[pfn]._pad)
        e.refs = <int8_t>(<int>((fl & LRU_REFS_MASK) >> LRU_REFS_PGOFF) + 1 if fl & PG_referenced else 0)
        e.tier = <int8_t>self.lru_tier_from_refs(e.refs, (fl & PG_workingset) != 0)
        e.why = (e.why & ~(<uint8_t>(WHY_REFERENCED | WHY_WORKINGSET))) | \
            (WHY_REFERENCED if fl & PG_referenced else 0) | (WHY_WORKINGSET if fl & PG_workingset else 0)

    cdef bint has_walk_buffer(self, scan_control* sc) noexcept nogil:
        # current->reclaim_state->mm_walk: kswapd's per-node one; a direct
        # reclaimer's after it aged in this invocation; debugfs always.
        # lru_gen_seq_write() calls set_mm_walk(NULL, true) whatever the caps
        # say, so the walk_mm switch (capability 0x0002) does not take it away.
        if sc == NULL:
            return False
        if sc.reclaimer == RECLAIMER_KSWAPD or sc.reclaimer == RECLAIMER_DEBUGFS:
            return True
        return sc.aged != 0

    cdef void walk_update_folio(self, folio_idx_t f, int new_gen, bint dirty, bint walk,
                                uint32_t vm_flags) noexcept nogil:
        """Mirrors mm/vmscan.c:walk_update_folio()."""
        cdef uint32_t fl
        cdef int old_gen
        if f < 0:
            return
        fl = self.m.folios[f].flags
        if dirty and not (fl & PG_dirty) and \
                not ((fl & PG_anon) and (fl & PG_swapbacked) and not (fl & PG_swapcache)):
            folio_mark_dirty(self.m, f)
        if walk:
            old_gen = self.folio_update_gen(f, new_gen, vm_flags)
            if old_gen >= 0 and old_gen != new_gen:
                self.lru_gen_update_size(f, old_gen, new_gen)
        elif self.pre614:
            # look-around without a walk buffer (6.1 vmscan.c:4705-4710, 6.12
            # :4155-4161): a folio in an older gen is activated (folio_activate(),
            # pgactivate), in 6.12 after folio_clear_lru_refs() (mm_inline.h:158-161)
            old_gen = folio_lru_gen(self.m, f)
            if old_gen < 0:
                # isolated: left PG_referenced for shrink_folio_list() (6.1 :4692, 6.12 :4156)
                folio_set(self.m, f, PG_referenced)
            elif old_gen != new_gen:
                if self.kernel >= 612:
                    self.folio_clear_lru_refs(f)
                self.folio_activate(f)
        elif self.lru_gen_set_refs(f, vm_flags):
            old_gen = folio_lru_gen(self.m, f)
            if old_gen >= 0 and old_gen != new_gen:
                self.folio_activate(f)

    cdef int age_young_ptes(self, uint32_t* ptes, int lo, int hi, int gen, bint walk,
                            uint32_t vm_flags) noexcept nogil:
        """The PTE loop shared by mm/vmscan.c:walk_pte_range() and
        lru_gen_look_around(): over ptes[lo:hi], clear the young bit of each
        present young PTE, and walk_update_folio() each folio once per run of its
        PTEs (carrying the dirty bits). 7.3's get_pfn_folio() (:3491) skips a
        folio off the lists (isolated for reclaim); 6.1's and 6.12's (6.1
        :3870-3891, 6.12 :3369-3386) do not, and the folio comes out
        PG_referenced, which shrink_folio_list() keeps it on. vm_flags: the
        VMA's, for 7.3's executable file folios. The PTEs of a large folio's
        pages are one run of its folio (get_pfn_folio(): page_folio()).
        Returns the number of young PTEs."""
        cdef int i, young = 0
        cdef uint32_t p
        cdef folio_idx_t f, last = -1
        cdef bint dirty = False
        for i in range(lo, hi):
            p = ptes[i]
            if not (p & PTE_PRESENT) or not (p & PTE_YOUNG):
                continue
            f = page_folio(self.m, <folio_idx_t>(p & PTE_PFN_MASK))
            if folio_lru_gen(self.m, f) < 0 and not self.pre614:
                continue
            ptes[i] = p & ~(<uint32_t>PTE_YOUNG)
            if last != f:
                self.walk_update_folio(last, gen, dirty, walk, vm_flags)
                last = f
                dirty = False
            if p & PTE_DIRTY:
                dirty = True
            young += 1
        self.walk_update_folio(last, gen, dirty, walk, vm_flags)
        return young

    cdef int nr_to_promote(self, uint32_t* ptes, int lo, int hi, int gen) noexcept nogil:
        # 6.1 lru_gen_look_around()'s bitmap: young PTEs of folios in a gen other than `gen`
        cdef int i, n = 0, old_gen
        cdef uint32_t p
        for i in range(lo, hi):
            p = ptes[i]
            if (p & PTE_PRESENT) and (p & PTE_YOUNG):
                old_gen = folio_lru_gen(self.m, page_folio(self.m, <folio_idx_t>(p & PTE_PFN_MASK)))
                if old_gen >= 0 and old_gen != gen:
                    n += 1
        return n

    cdef void look_around(self, uint32_t mm, uint64_t vpn, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:lru_gen_look_around(); called by folio_referenced()
        for a PTE it found young (and cleared). Simplified: the VMA of an
        anonymous mm spans its whole address space; a file mapping's VMA is the
        file's window of the mapping mm."""
        cdef uint64_t start, end, pmd_start
        cdef uint64_t vm_start, vm_end
        cdef uint32_t vm_flags = 0
        cdef uint32_t* ptes
        cdef int i, young = 1
        cdef bint walk
        cdef int gen = lru_gen_from_seq(self.s.max_seq)
        cdef uint64_t ptp_key
        if not self.sw_look_around:
            return
        self.vma_range(mm, vpn, &vm_start, &vm_end, &vm_flags)
        pmd_start = vpn & ~(<uint64_t>(PTRS_PER_PTE - 1))
        start = pmd_start if pmd_start > vm_start else vm_start
        end = pmd_start + PTRS_PER_PTE
        if end > vm_end:
            end = vm_end
        if end - start == 1 and self.kernel >= 612:
            return
        if end - start > MIN_LRU_BATCH:
            if vpn - start < MIN_LRU_BATCH // 2:
                end = start + MIN_LRU_BATCH
            elif end - vpn < MIN_LRU_BATCH // 2:
                start = end - MIN_LRU_BATCH
            else:
                start = vpn - MIN_LRU_BATCH // 2
                end = vpn + MIN_LRU_BATCH // 2
        ptes = pte_lookup(self.m, mm, pmd_start)
        if ptes == NULL:
            return
        walk = self.has_walk_buffer(sc)
        if self.kernel < 612:
            # 6.1 (vmscan.c:4625) counts from 0: the faulting PTE is still young
            # and the loop below counts it (clear_young_and_look_around())
            young = 0
        i = <int>(end - start)
        if not walk and self.kernel < 612 and \
                self.nr_to_promote(ptes, <int>(start - pmd_start), <int>(end - pmd_start), gen) >= 15:
            # 6.1 (:4705-4728): PAGEVEC_SIZE folios or more to promote are moved by
            # folio_update_gen() under the lru_lock instead of folio_activate()
            walk = True
        young += self.age_young_ptes(ptes, <int>(start - pmd_start), <int>(end - pmd_start), gen, walk,
                                     vm_flags)
        charge(self.m, self.m.cost.walk_pte * i)
        if young * PTES_PER_CACHELINE >= i:
            ptp_key = (<uint64_t>mm << 44) | (vpn >> 9)
            self.update_bloom_filter(self.s.max_seq, ptp_key)

    cdef void vma_range(self, uint32_t mm, uint64_t vpn, uint64_t* vm_start, uint64_t* vm_end,
                        uint32_t* vm_flags) noexcept nogil:
        # [start, end) and flags of the VMA containing vpn. An anonymous mm is
        # one VMA over everything; in the internal file-mapping mms every file
        # has its own slot from file_vma_vpn(file, 0) (core.pyx).
        cdef uint64_t file
        cdef int32_t v
        vm_start[0] = 0
        vm_end[0] = <uint64_t>1 << 62
        vm_flags[0] = 0
        if mm >= NR_FILE_MMS:
            return
        file = (vpn >> 32) - 1
        vm_start[0] = file_vma_vpn(<uint32_t>file, 0)
        vm_end[0] = file_vma_vpn(<uint32_t>file + 1, 0)
        if file >= <uint64_t>self.m.nr_files:
            return
        v = self.m.file_first_vma[file]
        while v >= 0:
            if self.m.vmas[v].mm == mm:
                vm_flags[0] = self.m.vmas[v].vm_flags
                return
            v = self.m.vmas[v].next_of_file

    # --- Bloom filters ---------------------------------------------------------------
    cdef inline void get_item_key(self, uint64_t item, uint32_t* k0, uint32_t* k1) noexcept nogil:
        # hash_ptr(item, 2 * BLOOM_FILTER_SHIFT), split into two 15-bit keys
        cdef uint32_t h = <uint32_t>((item * GOLDEN_RATIO_64) >> (64 - 2 * BLOOM_FILTER_SHIFT))
        k0[0] = h & ((1 << BLOOM_FILTER_SHIFT) - 1)
        k1[0] = h >> BLOOM_FILTER_SHIFT

    cdef bint test_bloom_filter(self, int64_t seq, uint64_t item) noexcept nogil:
        """Mirrors mm/vmscan.c:test_bloom_filter(); a missing filter says yes."""
        cdef int gen = <int>(seq % NR_BLOOM_FILTERS)
        cdef uint32_t k0, k1
        if not self.sw_bloom_filter or not self.s.filter_alloc[gen]:
            return True
        self.get_item_key(item, &k0, &k1)
        return ((self.s.filters[gen][k0 >> 6] >> (k0 & 63)) & 1) != 0 and \
            ((self.s.filters[gen][k1 >> 6] >> (k1 & 63)) & 1) != 0

    cdef void update_bloom_filter(self, int64_t seq, uint64_t item) noexcept nogil:
        """Mirrors mm/vmscan.c:update_bloom_filter()."""
        cdef int gen = <int>(seq % NR_BLOOM_FILTERS)
        cdef uint32_t k0, k1
        if not self.s.filter_alloc[gen]:
            return
        self.get_item_key(item, &k0, &k1)
        self.s.filters[gen][k0 >> 6] |= (<uint64_t>1) << (k0 & 63)
        self.s.filters[gen][k1 >> 6] |= (<uint64_t>1) << (k1 & 63)

    cdef void reset_bloom_filter(self, int64_t seq) noexcept nogil:
        """Mirrors mm/vmscan.c:reset_bloom_filter() (allocates on first use)."""
        cdef int gen = <int>(seq % NR_BLOOM_FILTERS)
        self.s.filter_alloc[gen] = 1
        memset(&self.s.filters[gen][0], 0, sizeof(uint64_t) * BLOOM_WORDS)

    # --- the aging -------------------------------------------------------------------
    cdef inline int64_t get_nr_gens(self, int type) noexcept nogil:
        return self.s.max_seq - self.s.min_seq[type] + 1

    cdef int64_t evictable_min_seq(self, int swappiness) noexcept nogil:
        cdef int64_t seq = -1
        cdef int type
        cdef bint first = True
        for type in range(min_type(swappiness), max_type(swappiness) + 1):
            if first or self.s.min_seq[type] < seq:
                seq = self.s.min_seq[type]
                first = False
        return seq

    cdef void reset_ctrl_pos(self, int type, bint carryover) noexcept nogil:
        """Mirrors mm/vmscan.c:reset_ctrl_pos()."""
        cdef int tier
        cdef bint clear = (NR_HIST_GENS == 1) if carryover else (NR_HIST_GENS > 1)
        cdef int64_t seq = self.s.min_seq[type] if carryover else self.s.max_seq + 1
        cdef int hist
        if not carryover and not clear:
            return
        hist = lru_hist_from_seq(seq)
        for tier in range(MAX_NR_TIERS):
            if carryover and self.pre614:
                # 6.12 vmscan.c reset_ctrl_pos(): protected[] one tier down
                self.s.avg_refaulted[type][tier] = (self.s.avg_refaulted[type][tier] +
                                                    self.s.refaulted[hist][type][tier]) // 2
                self.s.avg_total[type][tier] = (self.s.avg_total[type][tier] +
                                                self.s.evicted[hist][type][tier] +
                                                (self.s.protected[hist][type][tier - 1] if tier else 0)) // 2
            elif carryover:
                self.s.avg_refaulted[type][tier] = (self.s.avg_refaulted[type][tier] +
                                                    self.s.refaulted[hist][type][tier]) // 2
                self.s.avg_total[type][tier] = (self.s.avg_total[type][tier] +
                                                self.s.protected[hist][type][tier] +
                                                self.s.evicted[hist][type][tier]) // 2
            if clear:
                self.s.refaulted[hist][type][tier] = 0
                self.s.evicted[hist][type][tier] = 0
                self.s.protected[hist][type][tier] = 0

    cdef void inc_min_seq(self, int type, int swappiness) noexcept nogil:
        """Mirrors mm/vmscan.c:inc_min_seq(): the oldest generation of an
        evictable type moves to the tail of the next one (counted as protected);
        a non-evictable type's oldest generation is recycled as it is."""
        cdef int hist = lru_hist_from_seq(self.s.min_seq[type])
        cdef int old_gen = lru_gen_from_seq(self.s.min_seq[type])
        cdef int new_gen, refs, tier
        cdef bint ws
        cdef folio_idx_t head
        cdef folio_idx_t f
        cdef int zone
        if not ((swappiness > MAX_SWAPPINESS) if type else (swappiness == 0)):
            for zone in range(2):                # for (zone = 0; zone < MAX_NR_ZONES; zone++)
                head = self.gen_head_z(old_gen, type, zone)
                while not list_empty(self.m, head):
                    f = self.m.folios[head].prev
                    refs = self.lru_refs(f)
                    ws = (self.m.folios[f].flags & PG_workingset) != 0
                    new_gen = self.folio_inc_gen(f, False)
                    list_move_tail(self.m, f, self.gen_head_z(new_gen, type, zone))
                    # the lazy-promotion exclusion follows the same tiers switch as sort_folio();
                    # before v6.14 inc_min_seq() counts nothing (6.12 vmscan.c inc_min_seq())
                    if not self.pre614 and not (self.sw_tiers and refs + ws == (1 << LRU_REFS_WIDTH) + 1):
                        tier = self.lru_tier_from_refs(refs, ws)
                        # by the folio's pages (7.3 vmscan.c:3933-3938)
                        self.s.protected[hist][type][tier] += folio_nr_pages(self.m, f)
        self.reset_ctrl_pos(type, True)
        self.s.min_seq[type] += 1
        if self.m.events_on:
            emit_arg(self.m, EV_INC_MIN_SEQ, R_INC_MIN_SEQ, FN_INC_MIN_SEQ, <uint32_t>type,
                     <uint64_t>self.s.min_seq[type])

    cdef bint try_to_inc_min_seq(self, int swappiness) noexcept nogil:
        """Mirrors mm/vmscan.c:try_to_inc_min_seq() (v6.14+ coupling)."""
        cdef int64_t min_seq[2]
        cdef int type
        cdef bint success = False
        cdef int64_t seq
        min_seq[0] = self.s.min_seq[0]
        min_seq[1] = self.s.min_seq[1]
        for type in range(min_type(swappiness), max_type(swappiness) + 1):
            while min_seq[type] + MIN_NR_GENS <= self.s.max_seq:
                if not self.gen_empty(lru_gen_from_seq(min_seq[type]), type):
                    break
                min_seq[type] += 1
        if self.pre614 and swappiness:
            # 6.1 vmscan.c try_to_inc_min_seq(): anon may not pass file, and file
            # never goes back
            if min_seq[LRU_GEN_FILE] < min_seq[LRU_GEN_ANON]:
                min_seq[LRU_GEN_ANON] = min_seq[LRU_GEN_FILE]
            min_seq[LRU_GEN_FILE] = min_seq[LRU_GEN_ANON] if min_seq[LRU_GEN_ANON] > self.s.min_seq[LRU_GEN_FILE] \
                else self.s.min_seq[LRU_GEN_FILE]
        elif swappiness and swappiness <= MAX_SWAPPINESS:
            seq = self.s.max_seq - MIN_NR_GENS
            if min_seq[LRU_GEN_ANON] > seq and min_seq[LRU_GEN_FILE] < seq:
                min_seq[LRU_GEN_ANON] = seq
            elif min_seq[LRU_GEN_FILE] > seq and min_seq[LRU_GEN_ANON] < seq:
                min_seq[LRU_GEN_FILE] = seq
        for type in range(min_type(swappiness), max_type(swappiness) + 1):
            if min_seq[type] <= self.s.min_seq[type]:
                continue
            self.reset_ctrl_pos(type, True)
            self.s.min_seq[type] = min_seq[type]
            success = True
            if self.m.events_on:
                emit_arg(self.m, EV_INC_MIN_SEQ, R_NONE, FN_TRY_TO_INC_MIN_SEQ, <uint32_t>type,
                         <uint64_t>min_seq[type])
        return success

    cdef bint inc_max_seq(self, int64_t seq, int swappiness) noexcept nogil:
        """Mirrors mm/vmscan.c:inc_max_seq()."""
        cdef int type, prev, nxt, lru
        cdef int64_t delta
        if seq != self.s.max_seq:
            return False
        for type in range(ANON_AND_FILE):
            if self.get_nr_gens(type) != MAX_NR_GENS:
                continue
            self.inc_min_seq(type, swappiness)
        # compat sizes: max_seq - 1 becomes inactive, max_seq + 1 (recycled) active
        prev = lru_gen_from_seq(self.s.max_seq - 1)
        nxt = lru_gen_from_seq(self.s.max_seq + 1)
        for type in range(ANON_AND_FILE):
            lru = type * LRU_INACTIVE_FILE
            delta = self.s.nr_pages[prev][type] - self.s.nr_pages[nxt][type]
            if delta:
                vmstat_add(self.m, NR_INACTIVE_ANON + lru, delta)
                vmstat_add(self.m, NR_INACTIVE_ANON + lru + 1, -delta)
        for type in range(ANON_AND_FILE):
            self.reset_ctrl_pos(type, False)
        self.s.timestamps[nxt] = self.jiffies()
        self.s.max_seq += 1
        self.m.nr_aging += 1
        if self.m.events_on:
            emit_arg(self.m, EV_INC_MAX_SEQ, R_NONE, FN_INC_MAX_SEQ, 0, <uint64_t>self.s.max_seq)
        return True

    cdef int32_t mm_list_next(self, int32_t pos) noexcept nogil:
        # the mm after pos on the mm list (alive mms in id order), FIFO at the end
        cdef int32_t i = 0 if pos < 0 else pos + 1
        while i < self.m.nr_mms:
            if self.m.mms[i].alive:
                return i
            i += 1
        return MM_ITER_FIFO

    cdef void lru_gen_add_mm(self, int32_t mm) noexcept nogil:
        """Mirrors mm/vmscan.c:lru_gen_add_mm(); simplified: the mm list is in id
        order, not insertion order. The first mm added since the last iteration
        ended becomes the tail, so the next iteration force-scans from it on."""
        if self.s.mm_tail == MM_ITER_FIFO:
            self.s.mm_tail = mm

    cdef bint should_skip_mm(self, int32_t mm, int swappiness, bint force_scan) noexcept nogil:
        """Mirrors mm/vmscan.c:should_skip_mm(): not run since the last walk,
        or fewer than MIN_LRU_BATCH pages of the types being aged."""
        cdef int64_t size
        if not force_scan and not self.m.mms[mm].ran:
            return True
        self.m.mms[mm].ran = 0
        size = self.mm_nr_pages(mm, swappiness)
        return size < MIN_LRU_BATCH

    cdef int64_t mm_nr_pages(self, int32_t mm, int swappiness) noexcept nogil:
        # get_mm_counter(MM_FILEPAGES) / (MM_ANONPAGES + MM_SHMEMPAGES): an mm
        # with file VMAs is a file-mapping mm in the simulator
        cdef bint file_mm = self.mm_is_file(mm)
        if file_mm or swappiness:
            return self.m.mms[mm].nr_ptes_present
        return 0

    cdef inline bint mm_is_file(self, int32_t mm) noexcept nogil:
        # the internal M / X address spaces map files; the others are anonymous
        return mm < NR_FILE_MMS

    cdef void walk_mm(self, int32_t mm, int swappiness, bint force_scan) noexcept nogil:
        """Mirrors mm/vmscan.c:walk_mm() and walk_pmd_range()/walk_pte_range():
        every page-table page of the mm, filtered by the non-leaf accessed bit
        and the Bloom filter of this seq, scanned PTE by PTE."""
        cdef int32_t ptp = self.m.mms[mm].first_ptp
        cdef bint file_mm = self.mm_is_file(mm)
        cdef int gen = lru_gen_from_seq(self.s.max_seq)
        cdef int64_t seq = self.s.max_seq
        cdef uint64_t key
        cdef uint32_t* ptes
        cdef uint32_t vm_flags
        cdef int total, young
        cdef uint64_t vm_start, vm_end
        cdef int64_t nr_scanned = 0
        cdef int hist = lru_hist_from_seq(seq)
        # should_skip_vma(): anonymous VMAs when swappiness is 0; file VMAs
        # when it is 201 (anon only)
        if not file_mm and swappiness == 0:
            return
        if file_mm and swappiness > MAX_SWAPPINESS:
            return
        while ptp >= 0:
            key = self.m.ptp_key[ptp]
            if file_mm:
                self.vma_range(<uint32_t>mm, (key & ((<uint64_t>1 << 44) - 1)) << 9,
                               &vm_start, &vm_end, &vm_flags)
                if (vm_flags & (VM_LOCKED | VM_SEQ_READ | VM_RAND_READ)):
                    ptp = self.m.ptp_next[ptp]
                    continue
            if not force_scan:
                # non-leaf PMD accessed bit (capability 0x0004), cleared as seen
                if not self.m.ptp_young[ptp]:
                    ptp = self.m.ptp_next[ptp]
                    continue
                self.m.ptp_young[ptp] = 0
                if not self.test_bloom_filter(seq, key):
                    ptp = self.m.ptp_next[ptp]
                    continue
            self.s.mm_stats[hist][MM_NONLEAF_FOUND] += 1
            ptes = self.m.ptes + <int64_t>ptp * PTRS_PER_PTE
            total = PTRS_PER_PTE
            young = self.age_young_ptes(ptes, 0, PTRS_PER_PTE, gen, True, vm_flags if file_mm else 0)
            self.s.mm_stats[hist][MM_LEAF_TOTAL] += total
            self.s.mm_stats[hist][MM_LEAF_YOUNG] += young
            nr_scanned += total
            if young * PTES_PER_CACHELINE >= total:
                self.s.mm_stats[hist][MM_NONLEAF_ADDED] += 1
                self.update_bloom_filter(seq + 1, key)
            ptp = self.m.ptp_next[ptp]
        charge(self.m, self.m.cost.walk_pte * nr_scanned)

    cdef bint try_to_inc_max_seq(self, int64_t seq, int swappiness, bint force_scan,
                                 bint has_walk) noexcept nogil:
        """Mirrors mm/vmscan.c:try_to_inc_max_seq() with iterate_mm_list() /
        iterate_mm_list_nowalk(); one walker at a time, so one call finishes
        the whole mm-list iteration."""
        cdef int32_t mm
        cdef bint first_found = False
        if seq <= self.s.mm_seq:
            return False
        if not self.sw_walk_mm or not has_walk:
            # iterate_mm_list_nowalk()
            self.s.mm_head = MM_ITER_NULL
            self.s.mm_tail = MM_ITER_NULL
            self.s.mm_seq += 1
            return self.inc_max_seq(seq, swappiness)
        if self.s.mm_head == MM_ITER_NULL:
            self.s.mm_head = MM_ITER_FIFO
        while True:
            # iterate_mm_list(): advance the head, force-scanning whatever
            # joined after the last iteration ended
            self.s.mm_head = self.mm_list_next(self.s.mm_head)
            if self.s.mm_head == MM_ITER_FIFO:
                self.s.mm_seq += 1
                break
            if self.s.mm_tail == MM_ITER_NULL or self.s.mm_tail == self.s.mm_head or \
                    (self.s.mm_tail >= 0 and not self.m.mms[self.s.mm_tail].alive and
                     self.mm_list_next(self.s.mm_tail) == self.s.mm_head):
                self.s.mm_tail = self.mm_list_next(self.s.mm_head)
                force_scan = True
            mm = self.s.mm_head
            if self.should_skip_mm(mm, swappiness, force_scan):
                continue
            if not first_found:
                first_found = True
                self.reset_bloom_filter(seq + 1)
            self.walk_mm(mm, swappiness, force_scan)
        return self.inc_max_seq(seq, swappiness)

    cdef bint should_run_aging(self, int64_t max_seq, int swappiness, int64_t* nr_to_scan) noexcept nogil:
        """Mirrors mm/vmscan.c:should_run_aging()."""
        cdef int64_t young, old, total
        return self.aging_verdict(max_seq, swappiness, nr_to_scan, &young, &old, &total) > 0

    cdef int aging_verdict(self, int64_t max_seq, int swappiness, int64_t* nr_to_scan,
                        int64_t* young, int64_t* old, int64_t* total) noexcept nogil:
        """should_run_aging()'s verdict (AGING_*, > 0: age) and what it compared:
        the pages of max_seq (young), of max_seq - MIN_NR_GENS (old) and of
        every generation of the evictable types (total)."""
        cdef int type
        cdef int64_t seq, v
        nr_to_scan[0] = 0
        young[0] = 0
        old[0] = 0
        total[0] = 0
        for type in range(min_type(swappiness), max_type(swappiness) + 1):
            seq = self.s.min_seq[type]
            while seq <= max_seq:
                v = self.s.nr_pages[lru_gen_from_seq(seq)][type]
                if v > 0:
                    total[0] += v
                    if seq == max_seq:
                        young[0] += v
                    elif seq + MIN_NR_GENS == max_seq:
                        old[0] += v
                seq += 1
        if self.pre614:
            # 6.1 vmscan.c:4459-4514 / 6.12 :4661-4719: age with 2 gens, not with 4,
            # with 3 when the youngest holds over half or the oldest under a quarter
            nr_to_scan[0] = total[0]
            seq = self.s.min_seq[min_type(swappiness)]
            if seq + MIN_NR_GENS > max_seq:
                # 6.12 :4672: "completely out of cold folios": nothing to scan
                if self.kernel >= 612:
                    nr_to_scan[0] = 0
                return AGING_OUT_OF_COLD
            if seq + MIN_NR_GENS < max_seq:
                return AGING_NO_MORE_GENS
            if young[0] * MIN_NR_GENS > total[0]:
                return AGING_YOUNG_OVER_HALF
            if old[0] * (MIN_NR_GENS + 2) < total[0]:
                return AGING_OLD_UNDER_QUARTER
            return AGING_NO_BALANCED
        if self.evictable_min_seq(swappiness) + MIN_NR_GENS > max_seq:
            return AGING_OUT_OF_COLD
        nr_to_scan[0] = total[0]             # lruvec_evictable_size()
        return AGING_MIN_GENS if self.evictable_min_seq(swappiness) + MIN_NR_GENS == max_seq else AGING_NO_MORE_GENS

    cdef int64_t get_nr_to_scan(self, scan_control* sc, int swappiness) noexcept nogil:
        """Mirrors mm/vmscan.c:get_nr_to_scan(): -1 after a successful aging."""
        cdef int64_t nr_to_scan
        cdef bint success = self.should_run_aging(self.s.max_seq, swappiness, &nr_to_scan)
        if self.kernel < 612:
            sc.need_aging = success
            # 6.1 vmscan.c:5114-5142: kswapd leaves the aging to lru_gen_age_node();
            # a direct reclaimer ages and goes on evicting
            nr_to_scan >>= sc.priority
            if not success:
                return nr_to_scan
            if sc.priority != DEF_PRIORITY:
                if sc.reclaimer == RECLAIMER_KSWAPD:
                    return 0
                if self.sw_walk_mm:
                    sc.aged = 1
                if self.try_to_inc_max_seq(self.s.max_seq, swappiness, False, True):
                    return nr_to_scan
            return nr_to_scan if self.s.min_seq[min_type(swappiness)] + MIN_NR_GENS <= self.s.max_seq else 0
        if not success or sc.priority == DEF_PRIORITY:
            return nr_to_scan >> sc.priority
        # try_to_inc_max_seq() gives a direct reclaimer a walk buffer that it
        # keeps for the rest of this shrink_node pass (set_mm_walk(NULL, true))
        if self.sw_walk_mm:
            sc.aged = 1
        if self.try_to_inc_max_seq(self.s.max_seq, swappiness, False, True):
            return -1
        return 0

    # --- PID controller --------------------------------------------------------------
    cdef void read_ctrl_pos(self, int type, int tier, int gain, int64_t* pos) noexcept nogil:
        """Mirrors mm/vmscan.c:read_ctrl_pos(); pos = {refaulted, total, gain}."""
        cdef int hist = lru_hist_from_seq(self.s.min_seq[type])
        cdef int i = tier % MAX_NR_TIERS
        cdef int hi = tier if tier < MAX_NR_TIERS - 1 else MAX_NR_TIERS - 1
        pos[0] = 0
        pos[1] = 0
        pos[2] = gain
        if self.pre614 and tier < MAX_NR_TIERS:
            # 6.1 vmscan.c:3605-3618: one tier; protected[] is kept one tier down
            pos[0] = self.s.avg_refaulted[type][tier] + self.s.refaulted[hist][type][tier]
            pos[1] = self.s.avg_total[type][tier] + self.s.evicted[hist][type][tier]
            if tier:
                pos[1] += self.s.protected[hist][type][tier - 1]
            return
        while i <= hi:
            pos[0] += self.s.avg_refaulted[type][i] + self.s.refaulted[hist][type][i]
            pos[1] += self.s.avg_total[type][i] + self.s.protected[hist][type][i] + \
                self.s.evicted[hist][type][i]
            i += 1

    cdef inline bint positive_ctrl_err(self, int64_t* sp, int64_t* pv) noexcept nogil:
        """Mirrors mm/vmscan.c:positive_ctrl_err() (unsigned long arithmetic)."""
        return <uint64_t>pv[0] < MIN_LRU_BATCH or \
            <uint64_t>pv[0] * <uint64_t>(sp[1] + MIN_LRU_BATCH) * <uint64_t>sp[2] <= \
            <uint64_t>(sp[0] + 1) * <uint64_t>pv[1] * <uint64_t>pv[2]

    cdef int get_tier_idx(self, int type) noexcept nogil:
        """Mirrors mm/vmscan.c:get_tier_idx(); 0 with the PID controller off."""
        cdef int64_t sp[3]
        cdef int64_t pv[3]
        cdef int tier
        if not self.sw_pid_controller:
            self.pid_why = 0
            return 0
        # gains 2:3 since v6.14 (7.3 vmscan.c:4811); 1:2 before (6.1 vmscan.c:4935)
        self.read_ctrl_pos(type, 0, 1 if self.pre614 else 2, sp)
        tier = 1
        while tier < MAX_NR_TIERS:
            self.read_ctrl_pos(type, tier, 2 if self.pre614 else 3, pv)
            if not self.positive_ctrl_err(sp, pv):
                break
            tier += 1
        if self.m.events_on:
            # pv: the tier that stopped the loop (or the last one, tier 3)
            self.pid_rate = ctrl_rate(pv)
            self.pid_ref_rate = ctrl_rate(sp)
            self.pid_why = WHY_PID
        return tier - 1

    cdef int get_type_to_scan(self, int swappiness) noexcept nogil:
        """Mirrors mm/vmscan.c:get_type_to_scan(). With the PID controller off:
        split the pages isolated between the types in the ratio
        swappiness : (200 - swappiness), as SCAN_FRACT does with equal costs."""
        cdef int64_t sp[3]
        cdef int64_t pv[3]
        if swappiness <= MIN_SWAPPINESS + 1:
            return LRU_GEN_FILE
        if swappiness >= MAX_SWAPPINESS:
            return LRU_GEN_ANON
        if not self.sw_pid_controller:
            if self.s.nr_isolated_type[LRU_GEN_ANON] * (MAX_SWAPPINESS - swappiness) <= \
                    self.s.nr_isolated_type[LRU_GEN_FILE] * swappiness:
                return LRU_GEN_ANON
            return LRU_GEN_FILE
        self.read_ctrl_pos(LRU_GEN_ANON, MAX_NR_TIERS, swappiness, sp)
        self.read_ctrl_pos(LRU_GEN_FILE, MAX_NR_TIERS, MAX_SWAPPINESS - swappiness, pv)
        return 1 if self.positive_ctrl_err(sp, pv) else 0

    # --- the eviction ----------------------------------------------------------------
    cdef bint sort_folio(self, folio_idx_t f, scan_control* sc, int tier_idx) noexcept nogil:
        """Mirrors mm/vmscan.c:sort_folio(): true if the folio was re-filed."""
        cdef int gen = folio_lru_gen(self.m, f)
        cdef int type = folio_type(self.m, f)
        cdef int refs = self.lru_refs(f)
        cdef bint ws = (self.m.folios[f].flags & PG_workingset) != 0
        cdef int tier = self.lru_tier_from_refs(refs, ws)
        # v6.14+: lazily promoted workingset (refs saturated + PG_workingset);
        # before: refs == BIT(LRU_REFS_WIDTH), ≥ 5 fd accesses (6.1 vmscan.c:4781)
        cdef bint lazy = self.sw_tiers and not self.pre614 and refs + ws == (1 << LRU_REFS_WIDTH) + 1
        cdef bint saturated = self.sw_tiers and self.pre614 and refs == (1 << LRU_REFS_WIDTH)
        cdef bint dirty, writeback
        cdef int64_t src = self.s.min_seq[type]
        cdef uint32_t fl
        cdef uint32_t fl0 = self.m.folios[f].flags     # as the rules read it, for the events
        # unevictable: let it through and the generic path will cull it (7.3
        # vmscan.c sort_folio(), 6.12 :4325, 6.1 :4761): shrink_folio_list()
        # activates it and the putback files it on LRU_UNEVICTABLE
        if not folio_evictable(self.m, f):
            return False
        # promoted
        if gen != lru_gen_from_seq(self.s.min_seq[type]):
            list_move(self.m, f, self.folio_gen_head(f, gen, type))
            if self.m.events_on:
                emit(self.m, EV_PGREFILL, R_GEN_PROMOTED, FN_SORT_FOLIO, f, LOC_GEN, LOC_GEN,
                     src, self.seq_of_gen(gen))
                self.event_sort_inputs(fl0, type, tier_idx)
            return True
        # protected
        if self.pre614 and (tier > tier_idx or saturated):
            # 6.1 vmscan.c:4781-4790: to the tail of min_seq + 1, counted one tier
            # down; 6.1 also counts it as a workingset activation
            gen = self.folio_inc_gen(f, False)
            list_move_tail(self.m, f, self.folio_gen_head(f, gen, type))
            self.s.protected[lru_hist_from_seq(self.s.min_seq[type])][type][tier - 1] += folio_nr_pages(self.m, f)
            if self.kernel < 612:
                vmstat_add(self.m, WORKINGSET_ACTIVATE_ANON + type, folio_nr_pages(self.m, f))
            if self.m.events_on:
                emit(self.m, EV_PGREFILL, R_GEN_PROTECTED, FN_SORT_FOLIO, f, LOC_GEN, LOC_GEN, src, src + 1)
                self.event_sort_inputs(fl0, type, tier_idx)
            return True
        if tier > tier_idx or lazy:
            gen = self.folio_inc_gen(f, False)
            list_move(self.m, f, self.folio_gen_head(f, gen, type))
            if not lazy:
                # by the folio's pages (vmscan.c:4659, :4686-4687)
                self.s.protected[lru_hist_from_seq(self.s.min_seq[type])][type][tier] += folio_nr_pages(self.m, f)
            if self.m.events_on:
                emit(self.m, EV_PGREFILL, R_GEN_LAZY_PROMOTED if lazy else R_GEN_PROTECTED, FN_SORT_FOLIO,
                     f, LOC_GEN, LOC_GEN, src, src + 1)
                self.event_sort_inputs(fl0, type, tier_idx)
            return True
        # ineligible: off the LRU, or in a zone above sc->reclaim_idx (6.1 :4794,
        # 6.12 :4348, 7.3 :4693: kswapd's runs for ZONE_DMA alone)
        if not (self.m.folios[f].flags & PG_lru) or (sc.dma_only and f >= self.m.nr_dma):
            gen = self.folio_inc_gen(f, False)
            list_move_tail(self.m, f, self.folio_gen_head(f, gen, type))
            if self.m.events_on:
                emit(self.m, EV_PGREFILL, R_ZONE_SKIP if self.m.folios[f].flags & PG_lru else R_GEN_INELIGIBLE,
                     FN_SORT_FOLIO, f, LOC_GEN, LOC_GEN, src, src + 1)
                self.event_sort_inputs(fl0, type, tier_idx)
            return True
        fl = self.m.folios[f].flags
        dirty = (fl & PG_dirty) != 0
        writeback = (fl & PG_writeback) != 0
        if type == LRU_GEN_FILE and dirty:
            sc.nr_file_taken += folio_nr_pages(self.m, f)
            if not writeback:
                sc.nr_unqueued_dirty += folio_nr_pages(self.m, f)
        # waiting for writeback: 6.1 vmscan.c:4801; from 6.12 on such folios are
        # isolated and shrink_folio_list() handles them (6.12 vmscan.c:4312-4355)
        if self.kernel < 612 and (writeback or (type == LRU_GEN_FILE and dirty)):
            gen = self.folio_inc_gen(f, True)
            list_move(self.m, f, self.folio_gen_head(f, gen, type))
            if self.m.events_on:
                emit(self.m, EV_PGREFILL, R_GEN_WRITEBACK, FN_SORT_FOLIO, f, LOC_GEN, LOC_GEN, src, src + 1)
                self.event_sort_inputs(fl0, type, tier_idx)
            return True
        return False

    cdef void event_sort_inputs(self, uint32_t fl, int type, int tier_idx) noexcept nogil:
        # sort_folio()'s inputs, added to the event it just emitted: the folio's refs,
        # tier and flags as the rules read them (fl), the generation window, and the
        # PID controller's tier_idx with the refault rates it compared
        cdef vm_event_rec* e = last_event(self.m)
        cdef bint ws = (fl & PG_workingset) != 0
        cdef int refs = <int>((fl & LRU_REFS_MASK) >> LRU_REFS_PGOFF)
        # as lru_refs(): before v6.14 refs field + PG_workingset, else 0 without PG_referenced
        if self.pre614:
            refs += 1 if ws else 0
        elif fl & PG_referenced:
            refs += 1
        else:
            refs = 0
        e.why_a = <int32_t>self.s.max_seq
        e.why_b = <int32_t>self.s.min_seq[type]
        e.refs = <int8_t>refs
        e.tier = <int8_t>self.lru_tier_from_refs(refs, ws)
        e.tier_idx = <int8_t>tier_idx
        e.why = self.pid_why | (WHY_REFERENCED if fl & PG_referenced else 0) | \
            (WHY_WORKINGSET if ws else 0) | (WHY_PRE614 if self.pre614 else 0)
        if self.pid_why:
            e.why_c = self.pid_rate
            e.why_d = self.pid_ref_rate

    cdef bint isolate_folio(self, folio_idx_t f, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:isolate_folio(); simplified: every context has
        __GFP_IO and nothing races."""
        cdef uint32_t fl = self.m.folios[f].flags
        if not (fl & PG_lru):
            return False
        fl &= ~(<uint32_t>PG_lru)
        if self.pre614:
            # 6.1 vmscan.c:4836-4841: tier state kept only with PG_referenced,
            # which is cleared for shrink_folio_list() either way
            if not (fl & PG_referenced):
                fl &= ~(<uint32_t>(LRU_REFS_MASK | PG_workingset))
            fl &= ~(<uint32_t>PG_referenced)
        elif not (fl & PG_referenced):
            fl &= ~(<uint32_t>LRU_REFS_MASK)
        fl &= ~(<uint32_t>PG_reclaim)
        self.m.folios[f].flags = fl
        folio_flags_changed(self.m, f)
        self.lru_gen_del_folio(f, True)
        return True

    cdef int scan_folios(self, scan_control* sc, int type, int tier_idx, folio_idx_t lst,
                         int64_t* nr_sorted, int64_t nr_to_scan=MAX_LRU_BATCH,
                         int* isolated_out=NULL) noexcept nogil:
        """Mirrors mm/vmscan.c:scan_folios(): at most nr_to_scan folios looked at
        (MAX_LRU_BATCH before 7.x; the loop's batch of ≤ MIN_LRU_BATCH in 7.3,
        vmscan.c scan_folios(nr_to_scan, ...)), MIN_LRU_BATCH isolated, from the
        tail of min_seq's generation. The counts are of pages (delta =
        folio_nr_pages(), 7.3 vmscan.c:4756-4772); `remaining` counts folios."""
        cdef int sorted_ = 0, scanned = 0, isolated = 0, skipped = 0, skipped_zone, zone, delta, i
        cdef int remaining = <int>nr_to_scan
        cdef int gen
        cdef folio_idx_t head, f
        cdef folio_idx_t moved = self.m.nr_frames + HEAD_PRIVATE + 2
        cdef int64_t seq
        cdef uint32_t fl
        if self.get_nr_gens(type) == MIN_NR_GENS:
            return 0
        gen = lru_gen_from_seq(self.s.min_seq[type])
        seq = self.s.min_seq[type]
        # zone = (sc->reclaim_idx + i) % MAX_NR_ZONES: the highest zone's list first,
        # ZONE_DMA's only when that one cannot fill the batch (6.1 vmscan.c:4872,
        # 6.12 :4414, 7.3 :4751); with reclaim_idx ZONE_DMA, ZONE_DMA's first and the
        # one above it (all sorted as ineligible) last. The classic LRU has one list per node.
        for i in range(2):
            zone = (ZONE_DMA if i == 0 else ZONE_NORMAL) if sc.dma_only else (ZONE_NORMAL if i == 0 else ZONE_DMA)
            head = self.gen_head_z(gen, type, zone)
            skipped_zone = 0
            list_init(self.m, moved)
            while not list_empty(self.m, head):
                f = self.m.folios[head].prev
                delta = <int>folio_nr_pages(self.m, f)
                scanned += delta
                fl = self.m.folios[f].flags        # as sort_folio() reads it, for the event
                if self.sort_folio(f, sc, tier_idx):
                    sorted_ += delta
                elif self.isolate_folio(f, sc):
                    list_add(self.m, f, lst)
                    isolated += delta
                    if self.m.events_on:
                        emit(self.m, EV_ISOLATE, R_NOT_PROTECTED, FN_SORT_FOLIO, f, LOC_GEN, LOC_ISOLATED, seq, -1)
                        self.event_sort_inputs(fl, type, tier_idx)
                else:
                    list_move(self.m, f, moved)
                    skipped_zone += delta
                    self.m.vmstat[pgskip_item(self.m, f)] += delta
                remaining -= 1
                if remaining == 0 or (isolated if isolated > skipped_zone else skipped_zone) >= MIN_LRU_BATCH:
                    break
            if skipped_zone:
                # list_splice(&moved, head)
                while not list_empty(self.m, moved):
                    f = self.m.folios[moved].prev
                    list_move(self.m, f, head)
                skipped += skipped_zone
            if remaining == 0 or isolated >= MIN_LRU_BATCH:
                break
        # isolated folios are charged by shrink_folio_list(), as in the classic
        # policy; scan_folio is a page's cost (pgscan's unit, engine/kernels.py)
        charge(self.m, self.m.cost.scan_folio * (scanned - isolated))
        if sc.reclaimer == RECLAIMER_KSWAPD:
            vmstat_add(self.m, PGSCAN_KSWAPD, isolated)
        else:
            vmstat_add(self.m, PGSCAN_DIRECT, isolated)
        vmstat_add(self.m, PGREFILL, sorted_)
        vmstat_add(self.m, PGSCAN_ANON + type, isolated)
        if type == LRU_GEN_FILE:
            sc.nr_file_taken += isolated
        self.s.nr_isolated_type[type] += isolated
        nr_sorted[0] += sorted_
        if isolated_out != NULL:
            isolated_out[0] = isolated
        if self.kernel >= 700:
            return scanned               # 7.3: what it looked at, isolated or not
        return scanned if (isolated or not remaining) else 0

    cdef int isolate_folios(self, scan_control* sc, int swappiness, int* type_scanned,
                            folio_idx_t lst, int64_t* nr_sorted, int64_t nr_to_scan) noexcept nogil:
        """Mirrors mm/vmscan.c:isolate_folios()."""
        cdef int type
        cdef int i, scanned, tier
        cdef int isolated = 0, total = 0
        if self.pre614:
            return self.isolate_folios_pre614(sc, swappiness, type_scanned, lst, nr_sorted)
        type = self.get_type_to_scan(swappiness)
        if self.kernel >= 700:
            # 7.3 vmscan.c isolate_folios(): stay with a type that had folios to look
            # at even if none could be isolated (keeps positive_ctrl_err()'s bias)
            type_scanned[0] = type
            for i in range(min_type(swappiness), max_type(swappiness) + 1):
                tier = self.get_tier_idx(type)
                scanned = self.scan_folios(sc, type, tier, lst, nr_sorted, nr_to_scan, &isolated)
                total += scanned
                if isolated:
                    type_scanned[0] = type
                    break
                if not scanned:
                    type = 1 - type
            return total
        for i in range(min_type(swappiness), max_type(swappiness) + 1):
            tier = self.get_tier_idx(type)
            type_scanned[0] = type
            scanned = self.scan_folios(sc, type, tier, lst, nr_sorted)
            if scanned:
                return scanned
            type = 1 - type
        return 0

    cdef int get_type_to_scan_pre614(self, int swappiness, int* tier_idx) noexcept nogil:
        """Mirrors mm/vmscan.c:get_type_to_scan() before v6.14 (6.1 :4946-4972):
        tier 0 of anon against tier 0 of file, gains swappiness : 200 - swappiness;
        then the chosen type's tiers against the other type's tier 0."""
        cdef int64_t sp[3]
        cdef int64_t pv[3]
        cdef int gain[2]
        cdef int type, tier
        gain[0] = swappiness
        gain[1] = MAX_SWAPPINESS - swappiness
        if not self.sw_pid_controller:
            tier_idx[0] = 0
            self.pid_why = 0
            if self.s.nr_isolated_type[LRU_GEN_ANON] * (MAX_SWAPPINESS - swappiness) <= \
                    self.s.nr_isolated_type[LRU_GEN_FILE] * swappiness:
                return LRU_GEN_ANON
            return LRU_GEN_FILE
        self.read_ctrl_pos(LRU_GEN_ANON, 0, gain[0], sp)
        self.read_ctrl_pos(LRU_GEN_FILE, 0, gain[1], pv)
        type = 1 if self.positive_ctrl_err(sp, pv) else 0
        self.read_ctrl_pos(1 - type, 0, gain[1 - type], sp)
        tier = 1
        while tier < MAX_NR_TIERS:
            self.read_ctrl_pos(type, tier, gain[type], pv)
            if not self.positive_ctrl_err(sp, pv):
                break
            tier += 1
        tier_idx[0] = tier - 1
        if self.m.events_on:
            self.pid_rate = ctrl_rate(pv)
            self.pid_ref_rate = ctrl_rate(sp)
            self.pid_why = WHY_PID | WHY_PID_TYPE
        return type

    cdef int isolate_folios_pre614(self, scan_control* sc, int swappiness, int* type_scanned,
                                   folio_idx_t lst, int64_t* nr_sorted) noexcept nogil:
        """Mirrors mm/vmscan.c:isolate_folios() before v6.14 (6.1 :4974-5014): the
        type with the older min_seq first, else swappiness 1 / 200, else the PID
        controller; the other type only when nothing could be isolated."""
        cdef int type, i, scanned = 0
        cdef int tier = -1
        if swappiness == 0:
            type = LRU_GEN_FILE
        elif self.s.min_seq[LRU_GEN_ANON] < self.s.min_seq[LRU_GEN_FILE]:
            type = LRU_GEN_ANON
        elif swappiness == 1:
            type = LRU_GEN_FILE
        elif swappiness == MAX_SWAPPINESS:
            type = LRU_GEN_ANON
        else:
            type = self.get_type_to_scan_pre614(swappiness, &tier)
        for i in range(1 if swappiness == 0 else 0, ANON_AND_FILE):
            if tier < 0:
                tier = self.get_tier_idx(type)
            scanned = self.scan_folios(sc, type, tier, lst, nr_sorted)
            if scanned:
                break
            type = 1 - type
            tier = -1
        type_scanned[0] = type
        return scanned

    cdef int64_t evict_folios(self, scan_control* sc, int swappiness, bint* did_work,
                              int64_t nr_to_scan=MAX_LRU_BATCH) noexcept nogil:
        """Mirrors mm/vmscan.c:evict_folios(): one isolation batch, the shared
        shrink_folio_list(), one retry of clean unmapped survivors."""
        cdef int type = 0
        cdef int64_t scanned, reclaimed, nr_sorted = 0
        cdef folio_idx_t lst = self.m.nr_frames + HEAD_PRIVATE
        cdef folio_idx_t ret = self.m.nr_frames + HEAD_PRIVATE + 1
        cdef folio_idx_t clean = self.m.nr_frames + HEAD_PRIVATE + 2
        cdef folio_idx_t f, nxt
        cdef bint skip_retry = False
        cdef reclaim_stat stat
        cdef uint32_t fl
        cdef int64_t src_seq
        cdef int64_t nr_isolated = 0, total_reclaimed = 0
        list_init(self.m, lst)
        list_init(self.m, ret)
        if self.kernel >= 700:
            # 7.3 vmscan.c evict_folios(): flush empty old gens before and after
            self.try_to_inc_min_seq(swappiness)
            nr_isolated = -(self.m.vmstat[<int>PGSCAN_ANON] + self.m.vmstat[<int>PGSCAN_FILE])
            scanned = self.isolate_folios(sc, swappiness, &type, lst, &nr_sorted, nr_to_scan)
            nr_isolated += self.m.vmstat[<int>PGSCAN_ANON] + self.m.vmstat[<int>PGSCAN_FILE]
            if scanned:
                self.try_to_inc_min_seq(swappiness)
        else:
            scanned = self.isolate_folios(sc, swappiness, &type, lst, &nr_sorted, nr_to_scan)
            if self.try_to_inc_min_seq(swappiness):
                scanned += 1
            if self.evictable_min_seq(swappiness) + MIN_NR_GENS > self.s.max_seq:
                scanned = 0
        list_init(self.m, clean)
        did_work[0] = nr_sorted > 0 or not list_empty(self.m, lst)
        if list_empty(self.m, lst):
            return scanned
        if type == LRU_GEN_ANON:
            sc.need_swapping = 1                  # 6.1 evict_folios() :5103
        while True:
            list_init(self.m, ret)
            reclaimed = self.shrink_folio_list(lst, ret, sc, &stat)
            sc.nr_unqueued_dirty += stat.nr_unqueued_dirty
            sc.nr_reclaimed += reclaimed
            total_reclaimed += reclaimed
            # survivors (on ret, as shrink_folio_list leaves them), tail to head
            f = self.m.folios[ret].prev
            while f != ret:
                nxt = self.m.folios[f].prev
                fl = self.m.folios[f].flags
                if not folio_evictable(self.m, f):
                    f = nxt
                    continue
                if self.pre614:
                    self.putback_pre614(f, clean, skip_retry)
                    f = nxt
                    continue
                # retry folios that may have missed folio_rotate_reclaimable()
                if not skip_retry and not (fl & (PG_active | PG_dirty | PG_writeback)) and \
                        not folio_mapped(self.m, f):
                    list_move(self.m, f, clean)
                    if self.m.events_on:
                        emit(self.m, EV_PUTBACK, self.kept_why(f, R_RETRY), FN_EVICT_FOLIOS, f, LOC_ISOLATED, LOC_ISOLATED, -1, -1)
                    f = nxt
                    continue
                # don't add rejected folios to the oldest generation
                if self.lru_gen_folio_seq(f, False) == self.s.min_seq[type]:
                    self.m.folios[f].flags = (fl & ~(<uint32_t>(LRU_REFS_MASK | PG_referenced))) | PG_active
                    folio_flags_changed(self.m, f)
                    folio_set_decision(self.m, f, EV_PUTBACK, self.kept_why(f, R_REJECTED))
                f = nxt
            self.move_folios_to_lru(ret)
            if sc.reclaimer == RECLAIMER_KSWAPD:
                vmstat_add(self.m, PGSTEAL_KSWAPD, reclaimed)
            else:
                vmstat_add(self.m, PGSTEAL_DIRECT, reclaimed)
            vmstat_add(self.m, PGSTEAL_ANON + type, reclaimed)
            if self.m.events_on:
                emit_arg(self.m, EV_SHRINK_INACTIVE, R_NONE, FN_EVICT_FOLIOS, <uint32_t>type, <uint64_t>reclaimed)
            # list_splice_init(&clean, &list)
            if list_empty(self.m, clean):
                break
            while not list_empty(self.m, clean):
                f = self.m.folios[clean].next
                list_move_tail(self.m, f, lst)
            skip_retry = True
        # 7.3 :4961-4963: what the first isolation took and no pass reclaimed
        if nr_isolated > total_reclaimed:
            vmstat_add(self.m, PGROTATE_ANON + type, nr_isolated - total_reclaimed)
        return scanned

    cdef void putback_pre614(self, folio_idx_t f, folio_idx_t clean, bint skip_retry) noexcept nogil:
        """evict_folios()' survivor rules before v6.14 (6.1 vmscan.c:5039-5068):
        dirty/writeback under PG_reclaim keep their tier; anything referenced,
        mapped, dirty or already retried goes to max_seq with its tier forgotten;
        clean unmapped folios are retried once."""
        cdef uint32_t fl = self.m.folios[f].flags
        if (fl & PG_reclaim) and (fl & (PG_dirty | PG_writeback)):
            if fl & PG_workingset:
                self.m.folios[f].flags = fl | PG_referenced
                folio_flags_changed(self.m, f)
            return
        if skip_retry or (fl & (PG_active | PG_referenced | PG_dirty | PG_writeback)) or \
                self.m.folios[f].mapcount:
            self.m.folios[f].flags = (fl & ~(<uint32_t>(LRU_REFS_MASK | PG_referenced | PG_workingset))) | \
                PG_active
            folio_flags_changed(self.m, f)
            folio_set_decision(self.m, f, EV_PUTBACK, self.kept_why(f, R_REJECTED))
            return
        list_move(self.m, f, clean)
        if self.m.events_on:
            emit(self.m, EV_PUTBACK, self.kept_why(f, R_RETRY), FN_EVICT_FOLIOS, f, LOC_ISOLATED, LOC_ISOLATED, -1, -1)

    cdef inline int kept_why(self, folio_idx_t f, int why) noexcept nogil:
        # a folio shrink_folio_list() kept because folio_trylock() failed (its
        # read in flight), or because it was mapped and PG_referenced (before
        # v6.14), says so when evict_folios() retries or rejects it
        cdef int r = folio_decision_reason(self.m, f)
        return r if r == R_FOLIO_LOCKED or r == R_LRU_GEN_KEEP_REFERENCED else why

    cdef int get_swappiness(self, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:get_swappiness(): 0 without may_swap or with
        fewer than MIN_LRU_BATCH free swap slots."""
        if not sc.may_swap:
            return 0
        if self.m.nr_swap_free < MIN_LRU_BATCH:
            return 0
        if sc.swappiness >= 0:
            return sc.swappiness
        return self.m.swappiness

    cdef void set_initial_priority(self, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:set_initial_priority() (v6.5; 6.1 starts at DEF_PRIORITY)."""
        cdef int64_t reclaimable
        cdef int priority
        if self.kernel < 612 or sc.priority != DEF_PRIORITY or sc.nr_to_reclaim < MIN_LRU_BATCH:
            return
        reclaimable = self.m.vmstat[<int>NR_INACTIVE_FILE]
        if self.m.nr_swap_free > 0:
            reclaimable += self.m.vmstat[<int>NR_INACTIVE_ANON]
        if reclaimable < 0:
            reclaimable = 0
        priority = fls_long(<uint64_t>reclaimable) - 1 - fls_long(<uint64_t>(sc.nr_to_reclaim - 1))
        if priority < DEF_PRIORITY // 2:
            priority = DEF_PRIORITY // 2
        if priority > DEF_PRIORITY:
            priority = DEF_PRIORITY
        sc.priority = priority

    cdef bint should_abort_scan_61(self, scan_control* sc) noexcept nogil:
        """6.1's mm/vmscan.c:should_abort_scan() (:5145-5194): a direct reclaimer
        stops after aging twice, or once it met its target by swapping; kswapd
        goes on until it reclaimed nr_to_reclaim since its last
        lru_gen_age_node(). Then neither stops above DEF_PRIORITY - 2 or while
        a zone is below its mark (high for kswapd, low for direct reclaim);
        stopping counts MIN_LRU_BATCH as reclaimed."""
        cdef mem* m = self.m
        cdef int mark = WMARK_HIGH if sc.reclaimer == RECLAIMER_KSWAPD else WMARK_LOW
        if sc.reclaimer != RECLAIMER_KSWAPD:
            if self.s.max_seq - sc.seq_start > 1:
                return True
            if sc.nr_reclaimed >= sc.nr_to_reclaim and sc.need_swapping:
                return True
        elif sc.nr_reclaimed - sc.last_reclaimed < sc.nr_to_reclaim:
            return False
        if sc.priority > DEF_PRIORITY - 2:
            return False
        # the zones up to sc->reclaim_idx (:5180)
        if not sc.dma_only and normal_wmark(m, mark) > m.nr_free - m.nr_free_dma:
            return False
        if m.nr_dma and dma_wmark(m, mark) > m.nr_free_dma:
            return False
        sc.nr_reclaimed += MIN_LRU_BATCH
        return True

    cdef bint should_abort_scan(self, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:should_abort_scan() (root reclaim): kswapd stops
        once every eligible zone is above its high mark + MIN_LRU_BATCH."""
        cdef mem* m = self.m
        cdef int64_t gap = 2 << sc.order
        if self.kernel < 612:
            return self.should_abort_scan_61(sc)
        if sc.nr_reclaimed >= (sc.nr_to_reclaim if sc.nr_to_reclaim > gap else gap):
            return True
        if sc.reclaimer != RECLAIMER_KSWAPD or sc.order:
            return False
        # every zone up to sc->reclaim_idx, each with the lowmem_reserve against
        # reclaim_idx (ZONE_DMA's against itself is 0)
        if sc.dma_only:
            return m.nr_free_dma > dma_wmark(m, WMARK_HIGH) + MIN_LRU_BATCH
        if m.nr_free - m.nr_free_dma <= normal_wmark(m, WMARK_HIGH) + MIN_LRU_BATCH:
            return False
        return m.nr_dma == 0 or \
            m.nr_free_dma > dma_wmark(m, WMARK_HIGH) + MIN_LRU_BATCH + m.lowmem_reserve_dma

    cdef void shrink_node_begin(self, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:lru_gen_shrink_node() up to shrink_one(); the
        loop of try_to_shrink_lruvec() runs in shrink_node_step()."""
        shrink_node_reset_counts(sc)              # nr_reclaimed_start: lru_gen_shrink_node()'s "reclaimed"
        sc.nr_to_scan = 0
        sc.aged = 0
        if not sc.may_writepage or not sc.may_unmap:
            sc.phase = PASS_OVER
            return
        self.set_initial_priority(sc)
        if sc.reclaimer == RECLAIMER_KSWAPD and self.kernel >= 612:
            sc.nr_reclaimed = 0                   # lru_gen_shrink_node() (v6.3); 6.1 counts on
        sc.seq_start = self.s.max_seq
        sc.need_swapping = 0
        sc.need_aging = 0
        sc.cursor = self.get_swappiness(sc)
        sc.phase = PASS_LOOP
        if self.kernel >= 700:
            # 7.3 vmscan.c get_nr_to_scan(): the evictable size >> priority, once per pass
            sc.nr_to_scan = self.evictable_size(sc.cursor) >> sc.priority

    cdef void shrink_node_end(self, scan_control* sc) noexcept nogil:
        # end of try_to_shrink_lruvec() and lru_gen_shrink_node()
        if sc.nr_unqueued_dirty and sc.nr_unqueued_dirty == sc.nr_file_taken:
            wakeup_flusher_threads(self.m)
        if sc.reclaimer == RECLAIMER_KSWAPD and self.kernel >= 612:
            sc.nr_reclaimed += sc.nr_reclaimed_start
        sc.phase = PASS_OVER

    cdef int64_t evictable_size(self, int swappiness) noexcept nogil:
        # 7.3 lruvec_evictable_size(): every generation of the evictable types
        cdef int64_t size = 0, seq, v
        cdef int type
        for type in range(min_type(swappiness), max_type(swappiness) + 1):
            seq = self.s.min_seq[type]
            while seq <= self.s.max_seq:
                v = self.s.nr_pages[lru_gen_from_seq(seq)][type]
                if v > 0:
                    size += v
                seq += 1
        return size

    cdef int shrink_node_step_73(self, scan_control* sc) noexcept nogil:
        """One iteration of 7.3's mm/vmscan.c:try_to_shrink_lruvec() loop: age
        when should_run_aging() says so (not at DEF_PRIORITY unless it must), then
        evict one batch of ≤ MIN_LRU_BATCH looked-at folios; root reclaim leaves
        after the batch that followed an aging."""
        cdef int64_t delta, nr_batch
        cdef bint did_work = False, should_age = False
        cdef int swappiness = sc.cursor
        cdef int64_t min_seq = self.evictable_min_seq(swappiness)
        if sc.nr_to_scan <= 0:
            self.shrink_node_end(sc)
            return STEP_DONE
        if min_seq + MIN_NR_GENS > self.s.max_seq or \
                (sc.priority != DEF_PRIORITY and min_seq + MIN_NR_GENS == self.s.max_seq):
            if self.sw_walk_mm:
                sc.aged = 1
            self.try_to_inc_max_seq(self.s.max_seq, swappiness, False, True)
            should_age = True
        nr_batch = sc.nr_to_scan if sc.nr_to_scan < MIN_LRU_BATCH else MIN_LRU_BATCH
        delta = self.evict_folios(sc, swappiness, &did_work, nr_batch)
        if not delta:
            self.shrink_node_end(sc)
            if did_work:
                return STEP_BATCH_LAST
            return STEP_AGED if should_age else STEP_DONE
        sc.nr_scanned_pass += delta
        sc.nr_to_scan -= delta
        if self.should_abort_scan(sc) or should_age or sc.nr_to_scan <= 0:
            self.shrink_node_end(sc)
            return STEP_BATCH_LAST
        return STEP_BATCH

    cdef int shrink_node_step(self, scan_control* sc) noexcept nogil:
        """One iteration of mm/vmscan.c:try_to_shrink_lruvec()'s loop: one
        get_nr_to_scan() and, unless that aged or said stop, one evict_folios()."""
        cdef int64_t nr_to_scan, delta
        cdef bint did_work = False
        cdef int swappiness
        if sc.phase != PASS_LOOP:
            return STEP_DONE
        if self.kernel >= 700:
            return self.shrink_node_step_73(sc)
        swappiness = sc.cursor
        nr_to_scan = self.get_nr_to_scan(sc, swappiness)
        sc.nr_to_scan = nr_to_scan
        if nr_to_scan <= 0:
            self.shrink_node_end(sc)
            return STEP_AGED if nr_to_scan < 0 else STEP_DONE
        delta = self.evict_folios(sc, swappiness, &did_work)
        if not delta:
            self.shrink_node_end(sc)
            return STEP_BATCH_LAST if did_work else STEP_DONE
        sc.nr_scanned_pass += delta
        if sc.nr_scanned_pass >= nr_to_scan or self.should_abort_scan(sc):
            # 6.1 lru_gen_shrink_lruvec() (:5242-5244): a pass that reclaimed a batch
            # without needing the aging lets kswapd skip its next lru_gen_age_node()
            if self.kernel < 612 and sc.nr_reclaimed - sc.nr_reclaimed_start >= MIN_LRU_BATCH \
                    and not sc.need_aging:
                sc.memcgs_need_aging = 0
            self.shrink_node_end(sc)
            return STEP_BATCH_LAST
        return STEP_BATCH

    cdef int age_node(self, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:lru_gen_age_node(): the aging for kswapd in 6.1
        (age_lruvec()), none from 6.12 on; with min_ttl_ms set, OOM-kill if the
        oldest generation is younger."""
        cdef int64_t total
        cdef int swappiness
        cdef bint reclaimable
        cdef int64_t nr_to_scan
        self.set_initial_priority(sc)
        if self.kernel < 612:
            # 6.1 lru_gen_age_node() (:4555-4575): remember what kswapd had reclaimed
            # (should_abort_scan() counts from here), and skip the aging once after
            # an eviction pass that did not need it
            sc.last_reclaimed = sc.nr_reclaimed
            if not sc.memcgs_need_aging:
                sc.memcgs_need_aging = 1
                return STEP_DONE
            # 6.1 vmscan.c:4516-4608 age_lruvec(): kswapd runs the aging here
            swappiness = self.get_swappiness(sc)
            if self.should_run_aging(self.s.max_seq, swappiness, &nr_to_scan):
                if self.min_ttl_ms == 0 or self.s.timestamps[lru_gen_from_seq(self.s.min_seq[LRU_GEN_FILE])] + \
                        self.min_ttl_ms * 1000000 <= self.jiffies():
                    self.try_to_inc_max_seq(self.s.max_seq, swappiness, False, True)
        if self.min_ttl_ms == 0:
            return STEP_DONE
        swappiness = self.get_swappiness(sc)
        total = self.evictable_size(swappiness)
        reclaimable = (total >> sc.priority) != 0 and \
            self.s.timestamps[lru_gen_from_seq(self.evictable_min_seq(swappiness))] + \
            self.min_ttl_ms * 1000000 < self.jiffies()
        if not reclaimable:
            # out_of_memory() is the simulator's: ask for it (the oom_lock is always free here)
            return STEP_OOM
        return STEP_DONE

    cdef void snapshot_refaults(self) noexcept nogil:
        # only the classic policy snapshots refaults (prepare_scan_control)
        pass

    # --- workingset (mm/workingset.c, MGLRU half) -------------------------------------
    cdef uint64_t workingset_eviction(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/workingset.c:lru_gen_eviction(): token = min_seq << 2 |
        max(refs - 1, 0); counts the eviction in its tier."""
        cdef int type = folio_type(self.m, pfn)
        cdef int refs = self.lru_refs(pfn)
        # the shadow's workingset bit: PG_workingset since v6.14 (7.3 workingset.c:266),
        # refs != 0 before (6.1 workingset.c:244 pack_shadow(..., refs))
        cdef bint ws = (refs != 0) if self.pre614 else (self.m.folios[pfn].flags & PG_workingset) != 0
        cdef int tier = self.lru_tier_from_refs(refs, ws)
        cdef int64_t min_seq = self.s.min_seq[type]
        cdef uint64_t token = (<uint64_t>min_seq << LRU_REFS_WIDTH) | <uint64_t>(refs - 1 if refs > 1 else 0)
        self.s.evicted[lru_hist_from_seq(min_seq)][type][tier] += folio_nr_pages(self.m, pfn)   # workingset.c:243, :262
        return ((token << 1) | (1 if ws else 0)) & ((<uint64_t>1 << 61) - 1)

    cdef void workingset_refault(self, folio_idx_t pfn, uint64_t shadow, bint in_fault) noexcept nogil:
        """Mirrors mm/workingset.c:lru_gen_refault() and lru_gen_test_recent()."""
        cdef int type = folio_type(self.m, pfn)
        cdef bint ws = (shadow & 1) != 0
        cdef uint64_t token = shadow >> 1
        cdef uint64_t mask = ((<uint64_t>1 << 60) - 1) >> LRU_REFS_WIDTH
        cdef uint64_t max_seq = (<uint64_t>self.s.max_seq) & mask
        cdef uint64_t evict_seq = token >> LRU_REFS_WIDTH
        cdef uint64_t diff = max_seq - evict_seq if max_seq > evict_seq else evict_seq - max_seq
        cdef bint recent = diff < MAX_NR_GENS
        cdef int refs, tier
        cdef int64_t delta = folio_nr_pages(self.m, pfn)    # workingset.c:301, the folio's pages
        if self.pre614:
            self.workingset_refault_pre614(pfn, type, ws, token, in_fault)
            return
        vmstat_add(self.m, WORKINGSET_REFAULT_ANON + type, delta)
        if self.m.events_on:
            # from the shadow the folio left behind, as the classic workingset_refault() says
            emit(self.m, EV_WORKINGSET_REFAULT, R_LRU_GEN_REFAULT_RECENT if recent else R_LRU_GEN_REFAULT_NOT_RECENT,
                 FN_LRU_GEN_REFAULT, pfn, LOC_SWAP if type == LRU_GEN_ANON else LOC_PAGECACHE_SHADOW, LOC_NONE,
                 <int64_t>evict_seq, self.s.max_seq)
            self.event_refault_inputs(type, ws, <int>(token & ((1 << LRU_REFS_WIDTH) - 1)) + 1)
        if not recent:
            return
        refs = <int>(token & ((1 << LRU_REFS_WIDTH) - 1)) + 1
        tier = self.lru_tier_from_refs(refs, ws)
        self.s.refaulted[lru_hist_from_seq(self.s.min_seq[type])][type][tier] += delta
        if in_fault:
            vmstat_add(self.m, WORKINGSET_ACTIVATE_ANON + type, delta)
            if self.m.events_on:
                emit(self.m, EV_WORKINGSET_ACTIVATE, R_LRU_GEN_REFAULT_RECENT, FN_LRU_GEN_REFAULT, pfn,
                     LOC_NONE, LOC_NONE, -1, -1)
        if ws:
            self.m.folios[pfn].flags |= PG_workingset
            folio_flags_changed(self.m, pfn)
            vmstat_add(self.m, WORKINGSET_RESTORE_ANON + type, delta)
            if self.m.events_on:
                emit(self.m, EV_WORKINGSET_RESTORE, R_REFAULT_WORKINGSET, FN_LRU_GEN_REFAULT, pfn,
                     LOC_NONE, LOC_NONE, -1, -1)
        else:
            self.m.folios[pfn].flags = (self.m.folios[pfn].flags & ~(<uint32_t>LRU_REFS_MASK)) | \
                (<uint32_t>(refs - 1) << LRU_REFS_PGOFF)
            folio_flags_changed(self.m, pfn)

    cdef void event_refault_inputs(self, int type, bint ws, int refs) noexcept nogil:
        # lru_gen_test_recent()'s other side: the generation window now (src_seq holds
        # the shadow's eviction seq) and the refs / tier the shadow token carried
        cdef vm_event_rec* e = last_event(self.m)
        e.why_a = <int32_t>self.s.max_seq
        e.why_b = <int32_t>self.s.min_seq[type]
        e.refs = <int8_t>refs
        e.tier = <int8_t>self.lru_tier_from_refs(refs, ws)
        e.why = (WHY_WORKINGSET if ws else 0) | (WHY_PRE614 if self.pre614 else 0)

    cdef void workingset_refault_pre614(self, folio_idx_t pfn, int type, bint ws, uint64_t token,
                                        bint in_fault) noexcept nogil:
        """Mirrors mm/workingset.c:lru_gen_refault() before v6.14: recent only if
        min_seq has not moved since the eviction (6.1 :276, 6.12 :277); 6.1 counts
        only recent refaults (:285), 6.12 all (:297). A refault in a fault, or of
        a folio read ≥ 4 times, comes back with every refs bit and PG_workingset
        (tier 3, always protected by sort_folio())."""
        cdef uint64_t mask = ((<uint64_t>1 << 60) - 1) >> LRU_REFS_WIDTH
        cdef uint64_t evict_seq = token >> LRU_REFS_WIDTH
        cdef bint recent = evict_seq == ((<uint64_t>self.s.min_seq[type]) & mask)
        cdef int refs = <int>(token & ((1 << LRU_REFS_WIDTH) - 1)) + (1 if ws else 0)
        if self.kernel >= 612 or recent:
            vmstat_add(self.m, WORKINGSET_REFAULT_ANON + type, 1)
        if self.m.events_on:
            emit(self.m, EV_WORKINGSET_REFAULT, R_REFAULT_SAME_MIN_SEQ if recent else R_REFAULT_MIN_SEQ_MOVED,
                 FN_LRU_GEN_REFAULT, pfn, LOC_SWAP if type == LRU_GEN_ANON else LOC_PAGECACHE_SHADOW, LOC_NONE,
                 <int64_t>evict_seq, self.s.min_seq[type])
            self.event_refault_inputs(type, ws, refs)
        if not recent:
            return
        self.s.refaulted[lru_hist_from_seq(self.s.min_seq[type])][type][self.lru_tier_from_refs(refs, ws)] += 1
        if self.kernel >= 612:
            vmstat_add(self.m, WORKINGSET_ACTIVATE_ANON + type, 1)
            if self.m.events_on:
                emit(self.m, EV_WORKINGSET_ACTIVATE, R_REFAULT_SAME_MIN_SEQ, FN_LRU_GEN_REFAULT, pfn,
                     LOC_NONE, LOC_NONE, -1, -1)
        if in_fault or refs >= (1 << LRU_REFS_WIDTH) - 1:
            self.m.folios[pfn].flags |= LRU_REFS_MASK | PG_workingset
            folio_flags_changed(self.m, pfn)
            vmstat_add(self.m, WORKINGSET_RESTORE_ANON + type, 1)
            if self.m.events_on:
                emit(self.m, EV_WORKINGSET_RESTORE, R_REFAULT_WORKINGSET, FN_LRU_GEN_REFAULT, pfn,
                     LOC_NONE, LOC_NONE, -1, -1)

    # --- Python side -------------------------------------------------------------------
    @property
    def max_seq(self):
        return self.s.max_seq

    @property
    def min_seq(self):
        return [self.s.min_seq[0], self.s.min_seq[1]]

    def gen_folios(self, int64_t seq, int type):
        """Folios on the lists of generation seq, head to tail in eviction order:
        ZONE_DMA's list, then the zone above it, whose tail is evicted first."""
        cdef folio_idx_t head, f
        cdef int zone
        out = []
        for zone in range(2):
            head = self.gen_head_z(lru_gen_from_seq(seq), type, zone)
            f = self.m.folios[head].next
            while f != head:
                out.append(f)
                f = self.m.folios[f].next
        return out

    def pid_state(self):
        """avg_refaulted, avg_total, refaulted, evicted, protected as nested lists."""
        cdef int t, i
        return {
            "avg_refaulted": [[self.s.avg_refaulted[t][i] for i in range(4)] for t in range(2)],
            "avg_total": [[self.s.avg_total[t][i] for i in range(4)] for t in range(2)],
            "refaulted": [[self.s.refaulted[0][t][i] for i in range(4)] for t in range(2)],
            "evicted": [[self.s.evicted[0][t][i] for i in range(4)] for t in range(2)],
            "protected": [[self.s.protected[0][t][i] for i in range(4)] for t in range(2)],
        }

    def aging_test(self):
        """should_run_aging() on the lruvec as it is, with the swappiness
        get_swappiness() gives a reclaimer (0 with under MIN_LRU_BATCH free swap
        slots): whether the next reclaim pass would age, why (the AGING_* verdict,
        by name), and the page counts it compared. Read-only."""
        cdef int64_t nr_to_scan, young, old, total
        cdef scan_control sc
        hook_sc(&sc, RECLAIMER_DIRECT, -1)
        cdef int swappiness = self.get_swappiness(&sc)
        cdef int why = self.aging_verdict(self.s.max_seq, swappiness, &nr_to_scan, &young, &old, &total)
        names = {AGING_OUT_OF_COLD: "out_of_cold", AGING_YOUNG_OVER_HALF: "young_over_half",
                 AGING_OLD_UNDER_QUARTER: "old_under_quarter", AGING_MIN_GENS: "min_gens",
                 AGING_NO_MORE_GENS: "more_gens", AGING_NO_BALANCED: "balanced"}
        return {"age": why > 0, "why": names[why], "young": young, "old": old, "total": total,
                "min_seq": self.evictable_min_seq(swappiness), "max_seq": self.s.max_seq,
                "swappiness": swappiness, "pre614": bool(self.pre614)}

    def mm_walk_stats(self):
        return {"total": self.s.mm_stats[0][MM_LEAF_TOTAL], "young": self.s.mm_stats[0][MM_LEAF_YOUNG],
                "found": self.s.mm_stats[0][MM_NONLEAF_FOUND], "added": self.s.mm_stats[0][MM_NONLEAF_ADDED],
                "mm_seq": self.s.mm_seq}

    def tier_idx(self, int type):
        return self.get_tier_idx(type)

    def folio_refs_tier(self, int pfn):
        """(folio_lru_refs(), lru_tier_from_refs()) of the folio at pfn by this
        release's formulas, as sort_folio() would read them (the inspector's)."""
        cdef int refs = self.lru_refs(pfn)
        return refs, self.lru_tier_from_refs(refs, (self.m.folios[pfn].flags & PG_workingset) != 0)

    def type_to_scan(self, int swappiness):
        return self.get_type_to_scan(swappiness)

    def age(self, swappiness=None, bint force_scan=False, bint walk=True):
        """try_to_inc_max_seq(max_seq, ...) as a test hook; returns success."""
        cdef int sw = self.m.swappiness if swappiness is None else int(swappiness)
        cdef bint ok
        with nogil:
            ok = self.try_to_inc_max_seq(self.s.max_seq, sw, force_scan, walk)
        return ok

    cdef int fill_gen(self, int64_t seq, int type, int32_t[::1] out, int64_t* tiers) noexcept nogil:
        # folios of seq's list head->tail into out; tiers[] counts the folios
        # whose gen field is that generation (lazily promoted ones are not)
        # (ZONE_DMA's list, then the one above it, as gen_folios())
        cdef int gen = lru_gen_from_seq(seq)
        cdef folio_idx_t head, f
        cdef int n = 0, zone
        for zone in range(2):
            head = self.gen_head_z(gen, type, zone)
            f = self.m.folios[head].next
            while f != head and n < out.shape[0]:
                out[n] = f
                n += 1
                if folio_lru_gen(self.m, f) == gen:
                    tiers[self.lru_tier_from_refs(self.lru_refs(f),
                                                  (self.m.folios[f].flags & PG_workingset) != 0)] += 1
                f = self.m.folios[f].next
        return n

    cdef int64_t list_len(self, folio_idx_t head) noexcept nogil:
        cdef folio_idx_t f = self.m.folios[head].next
        cdef int64_t n = 0
        while f != head:
            n += 1
            f = self.m.folios[f].next
        return n

    def evict_once(self, swappiness=None, str reclaimer="direct"):
        """One evict_folios() as a test hook (a reclaimer with may_* all set,
        priority 12); returns its "scanned" result."""
        cdef scan_control sc
        cdef bint did_work
        cdef int64_t scanned
        cdef int sw
        hook_sc(&sc, RECLAIMER_KSWAPD if reclaimer == "kswapd" else RECLAIMER_DIRECT,
                -1 if swappiness is None else int(swappiness))
        sc.nr_to_reclaim = SWAP_CLUSTER_MAX
        sw = self.get_swappiness(&sc)
        with nogil:
            scanned = self.evict_folios(&sc, sw, &did_work)
        return scanned

    def deactivate(self, int pfn):
        """folio_deactivate() (MADV_COLD) on one folio, as a test hook."""
        if not 0 <= pfn < self.m.nr_frames:
            raise ValueError(f"pfn {pfn} out of range")
        self.folio_deactivate(pfn)

    def kswapd_age_node_now(self, int64_t nr_reclaimed=0, bint memcgs_need_aging=True):
        """lru_gen_age_node() for kswapd at DEF_PRIORITY now, as a test hook;
        returns max_seq after it and the scan_control fields it set."""
        cdef scan_control sc
        hook_sc(&sc, RECLAIMER_KSWAPD, -1)
        sc.nr_reclaimed = nr_reclaimed
        sc.memcgs_need_aging = memcgs_need_aging
        self.m.cur_actor = RECLAIMER_KSWAPD
        self.age_node(&sc)
        self.m.cur_actor = RECLAIMER_NONE
        return {"max_seq": self.s.max_seq, "last_reclaimed": sc.last_reclaimed,
                "memcgs_need_aging": bool(sc.memcgs_need_aging)}

    def initial_priority(self, int64_t nr_to_reclaim, int priority=DEF_PRIORITY):
        """set_initial_priority() on a scan_control with these fields."""
        cdef scan_control sc
        memset(&sc, 0, sizeof(scan_control))
        sc.nr_to_reclaim = nr_to_reclaim
        sc.priority = priority
        sc.may_swap = 1
        self.set_initial_priority(&sc)
        return sc.priority

    cpdef dict snapshot(self):
        """The generations as debugfs lru_gen shows them, plus the folios of
        each list (head to tail), tiers and the PID and walk state."""
        import numpy as np
        cdef int64_t seq, lo
        cdef int type, gen, n, k
        cdef int64_t now = self.jiffies()
        cdef int64_t tiers[4]
        cdef int32_t[::1] buf
        cdef folio_idx_t head, f
        gens = []
        lo = self.s.min_seq[0] if self.s.min_seq[0] < self.s.min_seq[1] else self.s.min_seq[1]
        seq = lo
        while seq <= self.s.max_seq:
            gen = lru_gen_from_seq(seq)
            folios = []
            nr = []
            tier_list = []
            for type in range(2):
                memset(tiers, 0, sizeof(tiers))
                if seq >= self.s.min_seq[type]:
                    arr = np.empty(self.list_len(self.gen_head_z(gen, type, ZONE_NORMAL))
                                   + self.list_len(self.gen_head_z(gen, type, ZONE_DMA)), dtype=np.int32)
                    buf = arr
                    n = self.fill_gen(seq, type, buf, tiers)
                    nr.append(int(self.s.nr_pages[gen][type]) if self.s.nr_pages[gen][type] > 0 else 0)
                else:
                    arr = np.empty(0, dtype=np.int32)
                    nr.append(0)
                folios.append(arr)
                tier_list.append([int(tiers[k]) for k in range(MAX_NR_TIERS)])
            gens.append({"seq": int(seq), "gen": gen,
                         "age_ms": int((now - self.s.timestamps[gen]) // 1000000) if now > self.s.timestamps[gen] else 0,
                         "nr_pages": nr, "folios": folios, "tiers": tier_list})
            seq += 1
        head = list_head(self.m, HEAD_LRU + LRU_UNEVICTABLE)
        unevictable = np.empty(self.list_len(head), dtype=np.int32)
        buf = unevictable
        f = self.m.folios[head].next
        n = 0
        while f != head:
            buf[n] = f
            n += 1
            f = self.m.folios[f].next
        return {"max_seq": int(self.s.max_seq), "min_seq": [int(self.s.min_seq[0]), int(self.s.min_seq[1])],
                "gens": gens, "LRU_UNEVICTABLE": unevictable,
                "pid": self.pid_state(), "mm_walk": self.mm_walk_stats()}

    cpdef bytes state_bytes(self):
        return (<char*>&self.s)[:sizeof(lrugen_state)]

    cpdef load_state(self, bytes data):
        if len(data) != sizeof(lrugen_state):
            raise ValueError(f"lru_gen state: expected {sizeof(lrugen_state)} bytes, got {len(data)}")
        memcpy(&self.s, <const char*>data, sizeof(lrugen_state))

    cpdef list check_invariants(self):
        cdef list errs = []
        cdef int type, gen, g
        cdef int64_t nr_gens, seq
        cdef int64_t counted[4][2]
        cdef int64_t on_list[4][2]
        cdef int64_t active[2]
        cdef int64_t inactive[2]
        cdef folio_idx_t head, f
        cdef int n, zone
        memset(counted, 0, sizeof(counted))
        memset(on_list, 0, sizeof(on_list))
        for type in range(2):
            nr_gens = self.s.max_seq - self.s.min_seq[type] + 1
            if nr_gens < MIN_NR_GENS or nr_gens > MAX_NR_GENS:
                errs.append(f"lru_gen: type {type} has {nr_gens} generations "
                            f"(max_seq {self.s.max_seq}, min_seq {self.s.min_seq[type]})")
        for g in range(MAX_NR_GENS):
            for type in range(2):
                for zone in range(2):
                    head = self.gen_head_z(g, type, zone)
                    f = self.m.folios[head].next
                    n = 0
                    while f != head:
                        n += 1
                        if n > self.m.nr_frames:
                            errs.append(f"lru_gen: list gen {g} type {type} is corrupt")
                            break
                        if self.m.folios[f].flags & PG_active:
                            errs.append(f"lru_gen: folio {f} on gen list {g} has PG_active")
                        if self.m.folios[f].flags & PG_unevictable:
                            errs.append(f"lru_gen: folio {f} on gen list {g} is unevictable")
                        if folio_zone(self.m, f) != zone:
                            errs.append(f"lru_gen: folio {f} on the other zone's list of gen {g}")
                        if folio_type(self.m, f) != type:
                            errs.append(f"lru_gen: folio {f} of the wrong type on gen list {g}")
                        if self.m.folios[f].flags & PG_tail:
                            errs.append(f"lru_gen: tail page {f} on gen list {g}")
                        gen = folio_lru_gen(self.m, f)
                        if gen < 0:
                            errs.append(f"lru_gen: folio {f} on gen list {g} has no gen field")
                        else:
                            # the gen field may differ from the list: lazily promoted by
                            # folio_update_gen(), or left behind when inc_min_seq() recycled
                            # a non-evictable type's oldest list (the kernel's "cold/hot
                            # inversion"); sizes follow the gen field
                            counted[gen][type] += folio_nr_pages(self.m, f)
                        on_list[g][type] += 1
                        f = self.m.folios[f].next
        active[0] = active[1] = inactive[0] = inactive[1] = 0
        for g in range(MAX_NR_GENS):
            for type in range(2):
                if counted[g][type] != self.s.nr_pages[g][type]:
                    errs.append(f"lru_gen: nr_pages[{g}][{type}] = {self.s.nr_pages[g][type]} "
                                f"but the folios that carry that gen have {counted[g][type]} pages")
                if self.lru_gen_is_active(g):
                    active[type] += self.s.nr_pages[g][type]
                else:
                    inactive[type] += self.s.nr_pages[g][type]
                # a gen list outside the window must be empty
                seq = self.seq_of_gen(g)
                if seq < self.s.min_seq[type] and on_list[g][type]:
                    errs.append(f"lru_gen: gen {g} (seq {seq}) of type {type} is below min_seq "
                                f"{self.s.min_seq[type]} but holds {on_list[g][type]} folios")
        if active[0] != self.m.vmstat[<int>NR_ACTIVE_ANON] or inactive[0] != self.m.vmstat[<int>NR_INACTIVE_ANON]:
            errs.append(f"lru_gen: nr_active_anon/nr_inactive_anon {self.m.vmstat[<int>NR_ACTIVE_ANON]}/"
                        f"{self.m.vmstat[<int>NR_INACTIVE_ANON]} != gens {active[0]}/{inactive[0]}")
        if active[1] != self.m.vmstat[<int>NR_ACTIVE_FILE] or inactive[1] != self.m.vmstat[<int>NR_INACTIVE_FILE]:
            errs.append(f"lru_gen: nr_active_file/nr_inactive_file {self.m.vmstat[<int>NR_ACTIVE_FILE]}/"
                        f"{self.m.vmstat[<int>NR_INACTIVE_FILE]} != gens {active[1]}/{inactive[1]}")
        return errs

    # --- debugfs -------------------------------------------------------------------------
    cpdef str lru_gen_text(self, bint full):
        """Mirrors mm/vmscan.c:lru_gen_seq_show() (+ lru_gen_seq_show_full())
        for memcg 0, node 0; memcg disabled, so the path is empty."""
        cdef int64_t seq, max_seq = self.s.max_seq
        cdef int64_t now = self.jiffies()
        cdef int type, tier, gen, i, hist
        cdef int64_t size
        out = ["memcg %5d %s\n" % (0, ""), " node %5d\n" % 0]
        if not full:
            seq = self.evictable_min_seq(MAX_SWAPPINESS // 2)
        elif max_seq >= MAX_NR_GENS:
            seq = max_seq - MAX_NR_GENS + 1
        else:
            seq = 0
        while seq <= max_seq:
            gen = lru_gen_from_seq(seq)
            age = (now - self.s.timestamps[gen]) // 1000000
            out.append(" %10d %10d" % (seq, age & 0xffffffff))
            for type in range(2):
                size = self.s.nr_pages[gen][type]
                mark = "x" if full and seq < self.s.min_seq[type] else " "
                out.append(" %10d%s" % (size if size > 0 else 0, mark))
            out.append("\n")
            if full:
                hist = lru_hist_from_seq(seq)
                for tier in range(MAX_NR_TIERS):
                    out.append("            %10d" % tier)
                    for type in range(2):
                        s = "xxx"
                        n = [0, 0, 0]
                        if seq == max_seq:
                            s = "RTx"
                            n[0] = self.s.avg_refaulted[type][tier]
                            n[1] = self.s.avg_total[type][tier]
                        elif seq == self.s.min_seq[type] or NR_HIST_GENS > 1:
                            s = "rep"
                            n[0] = self.s.refaulted[hist][type][tier]
                            n[1] = self.s.evicted[hist][type][tier]
                            # before v6.14 protected[] is kept one tier down and the
                            # tier's line shows it (6.1 vmscan.c:5556, 6.12 :5307;
                            # 7.3 :5579 shows protected[tier])
                            if not self.pre614:
                                n[2] = self.s.protected[hist][type][tier]
                            elif tier:
                                n[2] = self.s.protected[hist][type][tier - 1]
                        for i in range(3):
                            out.append(" %10d%s" % (n[i], s[i]))
                    out.append("\n")
                out.append("                      ")
                for i in range(NR_MM_STATS):
                    s = "xxxx"
                    v = 0
                    if seq == max_seq and NR_HIST_GENS == 1:
                        s = "TYFA"
                        v = self.s.mm_stats[hist][i]
                    elif seq != max_seq and NR_HIST_GENS > 1:
                        s = "tyfa"
                        v = self.s.mm_stats[hist][i]
                    out.append(" %10d%s" % (v, s[i]))
                out.append("\n")
            seq += 1
        return "".join(out)

    cpdef debugfs_write(self, str text):
        """Mirrors mm/vmscan.c:lru_gen_seq_write() + run_cmd(): commands split
        on ',', ';' or newline, each parsed as "%c %u %u %lu %n %u %n %lu %n".
        The first failing command stops processing; earlier ones took effect,
        as in the kernel."""
        from engine import DebugfsError
        import re
        cdef int err
        for cur in re.split(r"[,;\n]", text):
            cur = cur.lstrip(" \t\n\v\f\r")
            if not cur:
                continue
            parsed = _parse_cmd(cur)
            if parsed is None:
                raise DebugfsError("EINVAL", f"lru_gen: cannot parse {cur!r}: expected "
                                   "'+|- memcg_id node_id seq [swappiness [opt]]'")
            cmd, memcg_id, nid, seq, swappiness, opt = parsed
            err = self.run_cmd(cmd, memcg_id, nid, seq, swappiness, opt)
            if err == 1:
                raise DebugfsError("EINVAL", f"lru_gen: invalid command {cur!r} (max_seq {self.s.max_seq}, "
                                   f"min_seq {self.s.min_seq[0]}/{self.s.min_seq[1]})")
            if err == 2:
                raise DebugfsError("EEXIST", f"lru_gen: aging of seq {self.s.max_seq} already done ({cur!r})")

    cdef int run_cmd(self, str cmd, uint64_t memcg_id, uint64_t nid, uint64_t seq, int64_t swappiness,
                     uint64_t opt):
        # 0 = ok, 1 = EINVAL, 2 = EEXIST
        cdef int sw
        cdef scan_control sc
        cdef int64_t evict_min
        cdef bint did_work
        cdef int old_actor
        cdef int64_t nr_batch
        if nid != 0:
            return 1
        if memcg_id != 0:
            return 1
        memset(&sc, 0, sizeof(scan_control))
        sc.may_writepage = 1
        sc.may_unmap = 1
        sc.may_swap = 1
        sc.reclaimer = RECLAIMER_DEBUGFS
        sc.swappiness = -1
        sc.priority = 0
        # unsigned int swappiness = -1 as an int: negative means "the lruvec's"
        sw = <int>(<uint32_t>swappiness)
        if sw < MIN_SWAPPINESS:
            sw = self.get_swappiness(&sc)
        elif sw > MAX_SWAPPINESS + 1:
            return 1
        if cmd == "+":
            # run_aging()
            if seq > <uint64_t>self.s.max_seq:
                return 1
            return 0 if self.try_to_inc_max_seq(self.s.max_seq, sw, opt != 0, True) else 2
        if cmd == "-":
            # run_eviction()
            if seq + MIN_NR_GENS > <uint64_t>self.s.max_seq:
                return 1
            sc.nr_to_reclaim = <int64_t>(opt >> 1) if opt > <uint64_t>0x7fffffffffffffff else <int64_t>opt
            sc.nr_reclaimed = 0
            while True:
                evict_min = self.evictable_min_seq(sw)
                if seq < <uint64_t>evict_min:
                    return 0
                if sc.nr_reclaimed >= sc.nr_to_reclaim:
                    return 0
                if self.kernel >= 700:
                    # 7.3 vmscan.c:5704-5705 run_eviction(): nr_batch = min(nr_to_reclaim -
                    # nr_reclaimed, MAX_LRU_BATCH) is scan_folios()'s budget
                    nr_batch = sc.nr_to_reclaim - sc.nr_reclaimed
                    if nr_batch > MAX_LRU_BATCH:
                        nr_batch = MAX_LRU_BATCH
                    if not self.evict_folios(&sc, sw, &did_work, nr_batch):
                        return 0
                elif not self.evict_folios(&sc, sw, &did_work):
                    return 0
        return 1


def _parse_cmd(str cur):
    """sscanf(cur, "%c %u %u %lu %n %u %n %lu %n") with the cur[end] check;
    None when it would be EINVAL."""
    import re
    # vsscanf() starts an integer conversion only on a digit (no leading '+')
    mt = re.fullmatch(r"(.)\s*(\d+)\s+(\d+)\s+(\d+)(?:\s+(\d+)(?:\s+(\d+))?)?\s*", cur, re.S)
    if mt is None:
        # %c may take a space-less digit run after the command character
        return None
    cmd = mt.group(1)
    memcg_id = int(mt.group(2))
    nid = int(mt.group(3))
    seq = int(mt.group(4))
    # %u stores simple_strntoull() truncated to unsigned int, without an error
    memcg_id &= 0xFFFFFFFF
    nid &= 0xFFFFFFFF
    if seq >= 1 << 64:
        return None
    swappiness = (int(mt.group(5)) & 0xFFFFFFFF) if mt.group(5) is not None else (1 << 32) - 1
    opt = int(mt.group(6)) if mt.group(6) is not None else (1 << 64) - 1
    if opt >= 1 << 64:
        return None
    return cmd, memcg_id, nid, seq, swappiness, opt

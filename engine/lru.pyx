# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# ActiveInactiveLru: the classic two-list LRU, the !lru_gen_enabled() half of
# mm/vmscan.c, mm/swap.c and mm/workingset.c (spec §2, §3.1-3.5).
#
# shrink_node() is split into shrink_node_begin() (prepare_scan_control +
# get_scan_count) and shrink_node_step(), which runs exactly one scan batch of
# shrink_lruvec()'s loop per call: one shrink_list() on an inactive list
# (isolate <= 32, decide, putback) or one shrink_active_list(). The loop
# counters live in the scan_control: sc.cursor is the next lru of the current
# round, sc.phase 1 = in the loop, 2 = after the loop (final anon aging).

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.string cimport memset
from engine._types cimport *
from engine.core cimport *
from engine.policy cimport *

cdef enum:
    DEACTIVATE_ANON = 1
    DEACTIVATE_FILE = 2
    SCAN_EQUAL = 0
    SCAN_FRACT = 1
    SCAN_ANON = 2
    SCAN_FILE = 3
    PHASE_IDLE = 0
    PHASE_LOOP = 1
    PHASE_AFTER_LOOP = 2

cdef extern from *:
    """
    #define RL_EVICTION_MASK ((1ULL << 61) - 1)
    """
    const uint64_t EVICTION_MASK "RL_EVICTION_MASK"


cdef inline int64_t lru_size(mem* m, int lru) noexcept nogil:
    return m.vmstat[NR_INACTIVE_ANON + lru]


cdef inline int64_t workingset_size_stat(mem* m, bint file) noexcept nogil:
    # workingset_test_recent() (6.1 workingset_refault() :380, 6.12 :419, 7.3
    # :430): workingset_size() from lruvec_page_state(), the swap space exact
    cdef int64_t size = lruvec_page_state(m, MS_LRU + LRU_ACTIVE_FILE)
    if not file:
        size += lruvec_page_state(m, MS_LRU + LRU_INACTIVE_FILE)
    if m.nr_swap_free > 0:
        size += lruvec_page_state(m, MS_LRU + LRU_ACTIVE_ANON)
        if file:
            size += lruvec_page_state(m, MS_LRU + LRU_INACTIVE_ANON)
    return size


cdef void event_add_inactive_is_low(mem* m, uint64_t seq0, bint low, int64_t* v) noexcept nogil:
    # the events since seq0: inactive_is_low()'s inputs {inactive, active, inactive_ratio}
    cdef uint64_t s
    cdef vm_event_rec* e
    if m.events_seq - seq0 > <uint64_t>m.events_cap:
        seq0 = m.events_seq - <uint64_t>m.events_cap
    for s in range(seq0, m.events_seq):
        e = &m.events[s & <uint64_t>(m.events_cap - 1)]
        if e.kind != EV_PGDEACTIVATE and e.kind != EV_SHRINK_ACTIVE:
            continue        # e.g. lru_add()'s unevictable_pgs_culled of a just-mlocked folio
        e.why_a = <int32_t>(v[0] if v[0] < 0x7FFFFFFF else 0x7FFFFFFF)
        e.why_b = <int32_t>(v[1] if v[1] < 0x7FFFFFFF else 0x7FFFFFFF)
        e.why_c = <uint16_t>(v[2] if v[2] < 0xFFFF else 0xFFFF)
        e.why = WHY_INACTIVE_LOW if low else 0


cdef class ActiveInactiveLru(ReclaimPolicy):
    """The classic active/inactive LRU (policy key "lru")."""
    cdef int last_balance         # get_scan_count(): SCAN_* of the last pass (tests, snapshot)
    cdef int64_t last_ap
    cdef int64_t last_fp

    def __cinit__(self):
        self.lru_gen_enabled = False

    # --- LRU membership ---------------------------------------------------------

    cdef void lruvec_add_folio(self, folio_idx_t pfn, bint tail) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lruvec_add_folio() (the node's lists)."""
        node_lru_add(self.m, pfn, tail)

    cdef void lruvec_del_folio(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors include/linux/mm_inline.h:lruvec_del_folio() (the node's lists)."""
        node_lru_del(self.m, pfn)

    # --- accesses -----------------------------------------------------------------

    cdef void folio_mark_accessed(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/swap.c:folio_mark_accessed() (classic): unreferenced -> referenced;
        inactive + referenced -> active head, unreferenced, workingset_activation()."""
        cdef mem* m = self.m
        cdef uint32_t fl = m.folios[pfn].flags
        cdef int src
        if not (fl & PG_referenced):
            folio_set(m, pfn, PG_referenced)
            if m.events_on:
                src = folio_lru_list(m, pfn)
                emit(m, EV_MARK_ACCESSED, R_ACCESSED_FIRST, FN_FOLIO_MARK_ACCESSED, pfn, src, src, -1, -1)
        elif fl & PG_unevictable:
            pass
        elif not (fl & PG_active):
            if fl & PG_lru:
                self.folio_activate(pfn)
            else:
                folio_set(m, pfn, PG_active)     # __lru_cache_activate_folio()
            folio_clear(m, pfn, PG_referenced)
            m.lv.nonresident_age += folio_nr_pages(m, pfn)   # workingset_activation() (workingset.c:605)

    cdef void folio_activate(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/swap.c:lru_activate(); simplified: applied at once."""
        cdef mem* m = self.m
        cdef uint32_t fl = m.folios[pfn].flags
        cdef int src
        if (fl & (PG_active | PG_unevictable)) or not (fl & PG_lru):
            return
        src = folio_lru_list(m, pfn)
        self.lruvec_del_folio(pfn)
        folio_set(m, pfn, PG_active)
        self.lruvec_add_folio(pfn, False)
        m.vmstat[<int>PGACTIVATE] += folio_nr_pages(m, pfn)
        emit(m, EV_PGACTIVATE, R_ACCESSED_ACTIVATE, FN_FOLIO_MARK_ACCESSED, pfn, src,
             folio_lru_list(m, pfn), -1, -1)

    # --- reclaim decisions ----------------------------------------------------------

    cdef int folio_check_references(self, folio_idx_t pfn, scan_control* sc) noexcept nogil:
        return self.folio_check_references_classic(pfn, sc)

    cdef void look_around(self, uint32_t mm, uint64_t vpn, scan_control* sc) noexcept nogil:
        pass    # MGLRU only

    cdef bint inactive_is_low(self, int inactive_lru) noexcept nogil:
        """Mirrors mm/vmscan.c:inactive_is_low(): inactive * int_sqrt(10 * GiB) < active."""
        cdef int64_t v[3]
        return self.inactive_is_low_inputs(inactive_lru, v)

    cdef bint inactive_is_low_inputs(self, int inactive_lru, int64_t* v) noexcept nogil:
        # inactive_is_low() with what it compared: v = {inactive, active, inactive_ratio}
        cdef int64_t inactive = lruvec_page_state(self.m, MS_LRU + inactive_lru)
        cdef int64_t active = lruvec_page_state(self.m, MS_LRU + inactive_lru + 1)
        cdef uint64_t gb = <uint64_t>(inactive + active) >> 18
        cdef int64_t ratio = <int64_t>int_sqrt(10 * gb) if gb else 1
        v[0] = inactive
        v[1] = active
        v[2] = ratio
        return inactive * ratio < active

    cdef void prepare_scan_control(self, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:prepare_scan_control(); simplified: global reclaim."""
        cdef mem* m = self.m
        cdef int64_t file, free_
        if m.kernel >= 700:
            self.fold_reclaim_cost()
        sc.anon_cost = m.lv.anon_cost
        sc.file_cost = m.lv.file_cost
        if sc.force_deactivate:
            sc.may_deactivate = DEACTIVATE_ANON | DEACTIVATE_FILE
        else:
            sc.may_deactivate = 0
            if (lruvec_page_state(m, MS_WS_ACTIVATE) != m.lv.refaults[0]
                    or self.inactive_is_low(LRU_INACTIVE_ANON)):
                sc.may_deactivate |= DEACTIVATE_ANON
            if (lruvec_page_state(m, MS_WS_ACTIVATE + 1) != m.lv.refaults[1]
                    or self.inactive_is_low(LRU_INACTIVE_FILE)):
                sc.may_deactivate |= DEACTIVATE_FILE
        sc.cache_trim_mode = 1 if ((lruvec_page_state(m, MS_LRU + LRU_INACTIVE_FILE) >> sc.priority) != 0
                                   and not (sc.may_deactivate & DEACTIVATE_FILE)
                                   and not sc.no_cache_trim_mode) else 0
        file = lru_size(m, LRU_ACTIVE_FILE) + lru_size(m, LRU_INACTIVE_FILE)
        free_ = m.nr_free
        sc.file_is_tiny = 1 if (file + free_ <= m.wmark_high
                                and not (sc.may_deactivate & DEACTIVATE_ANON)
                                and (lru_size(m, LRU_INACTIVE_ANON) >> sc.priority) != 0) else 0

    cdef void fold_reclaim_cost(self) noexcept nogil:
        """7.3's prepare_scan_control() (vmscan.c:2310-2357): the rotations and the
        I/O (WORKINGSET_RESTORE_*, plus NR_VMSCAN_WRITE for anon) since the last
        call, I/O x SWAP_CLUSTER_MAX, into a decaying average halved until it is
        at most a quarter of the LRU pages."""
        cdef mem* m = self.m
        cdef int f
        cdef int64_t io, lrusize
        cdef int64_t delta[2]
        cdef int64_t rotated
        for f in range(2):
            rotated = lruvec_page_state(m, MS_ROTATED + f)
            io = lruvec_page_state(m, MS_WS_RESTORE + f)
            if f == 0:
                io += lruvec_page_state(m, MS_VMSCAN_WRITE)
            delta[f] = (io - m.lv.last_io[f]) * SWAP_CLUSTER_MAX + rotated - m.lv.last_rotated[f]
            m.lv.last_rotated[f] = rotated
            m.lv.last_io[f] = io
        m.lv.anon_cost += delta[0]
        m.lv.file_cost += delta[1]
        lrusize = (lruvec_page_state(m, MS_LRU) + lruvec_page_state(m, MS_LRU + 1)
                   + lruvec_page_state(m, MS_LRU + 2) + lruvec_page_state(m, MS_LRU + 3))
        while m.lv.anon_cost + m.lv.file_cost > lrusize // 4:
            m.lv.anon_cost //= 2
            m.lv.file_cost //= 2

    cdef void get_scan_count(self, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:get_scan_count(); simplified: no memcg protection,
        root memcg (truncating division)."""
        cdef mem* m = self.m
        cdef int swappiness = sc.swappiness if sc.swappiness >= 0 else m.swappiness
        cdef int balance
        cdef int64_t total_cost, anon_cost, file_cost, ap = 0, fp = 0, denominator = 0
        cdef int64_t size, scan
        cdef int lru, file
        if not sc.may_swap or m.nr_swap_free <= 0:
            balance = SCAN_FILE                  # no usable swap
        elif swappiness == SWAPPINESS_ANON_ONLY:
            balance = SCAN_ANON                  # proactive "anon only"
        elif sc.priority == 0 and swappiness:
            balance = SCAN_EQUAL                 # near OOM: scan both by size
        elif sc.file_is_tiny:
            balance = SCAN_ANON
        elif sc.cache_trim_mode:
            balance = SCAN_FILE                  # plenty of inactive cache: trim it
        else:
            balance = SCAN_FRACT
            total_cost = sc.anon_cost + sc.file_cost
            anon_cost = total_cost + sc.anon_cost
            file_cost = total_cost + sc.file_cost
            total_cost = anon_cost + file_cost
            ap = swappiness * (total_cost + 1) // (anon_cost + 1)
            fp = (MAX_SWAPPINESS - swappiness) * (total_cost + 1) // (file_cost + 1)
            denominator = ap + fp
        for lru in range(4):
            file = lru >> 1
            # lruvec_lru_size(lruvec, lru, sc->reclaim_idx): the eligible zones' pages
            size = m.nr_lru_dma[lru] if sc.dma_only else lru_size(m, lru)
            scan = size >> sc.priority
            if balance == SCAN_FRACT:
                scan = scan * (fp if file else ap) // denominator if denominator else 0
            elif balance == SCAN_FILE:
                if not file:
                    scan = 0
            elif balance == SCAN_ANON:
                if file:
                    scan = 0
            sc.nr[lru] = scan
            sc.targets[lru] = scan
        sc.nr[<int>LRU_UNEVICTABLE] = 0
        sc.targets[<int>LRU_UNEVICTABLE] = 0
        # kept for tests and snapshots: the balance mode and the fractions
        self.last_balance = balance
        self.last_ap = ap
        self.last_fp = fp

    cdef void shrink_node_begin(self, scan_control* sc) noexcept nogil:
        """Mirrors the start of mm/vmscan.c:shrink_node() + shrink_lruvec(): reset sc->nr,
        prepare_scan_control(), get_scan_count(), proportional_reclaim."""
        shrink_node_reset_counts(sc)
        sc.nr_reclaimed_pass = 0
        self.prepare_scan_control(sc)
        self.get_scan_count(sc)
        sc.proportional_reclaim = 1 if (sc.reclaimer != RECLAIMER_KSWAPD and sc.priority == DEF_PRIORITY) else 0
        sc.scan_adjusted = 0
        sc.cursor = 0
        sc.phase = PHASE_LOOP

    cdef int shrink_lruvec_round_end(self, scan_control* sc) noexcept nogil:
        # shrink_lruvec(): after a round, once the target is met, stop the smaller
        # type and scale the other to the share of its target not yet scanned.
        # Returns 1 to leave the loop.
        cdef int64_t nr_file, nr_anon, scan_target, percentage, nr_scanned
        cdef int lru
        if sc.nr_reclaimed_pass < sc.nr_to_reclaim or sc.proportional_reclaim:
            return 0
        nr_file = sc.nr[<int>LRU_INACTIVE_FILE] + sc.nr[<int>LRU_ACTIVE_FILE]
        nr_anon = sc.nr[<int>LRU_INACTIVE_ANON] + sc.nr[<int>LRU_ACTIVE_ANON]
        if not nr_file or not nr_anon:
            return 1
        if nr_file > nr_anon:
            scan_target = sc.targets[<int>LRU_INACTIVE_ANON] + sc.targets[<int>LRU_ACTIVE_ANON] + 1
            lru = LRU_INACTIVE_ANON
            percentage = nr_anon * 100 // scan_target
        else:
            scan_target = sc.targets[<int>LRU_INACTIVE_FILE] + sc.targets[<int>LRU_ACTIVE_FILE] + 1
            lru = LRU_INACTIVE_FILE
            percentage = nr_file * 100 // scan_target
        sc.nr[lru] = 0
        sc.nr[lru + 1] = 0
        lru = LRU_INACTIVE_ANON if lru == LRU_INACTIVE_FILE else LRU_INACTIVE_FILE
        nr_scanned = sc.targets[lru] - sc.nr[lru]
        sc.nr[lru] = sc.targets[lru] * (100 - percentage) // 100
        sc.nr[lru] -= min(sc.nr[lru], nr_scanned)
        lru += 1
        nr_scanned = sc.targets[lru] - sc.nr[lru]
        sc.nr[lru] = sc.targets[lru] * (100 - percentage) // 100
        sc.nr[lru] -= min(sc.nr[lru], nr_scanned)
        # no flag: the smaller type is now 0, so the next round end breaks
        # ("only make one nudge towards proportionality")
        sc.scan_adjusted = 1
        return 0

    cdef int shrink_node_step(self, scan_control* sc) noexcept nogil:
        """One scan batch of mm/vmscan.c:shrink_lruvec()'s loop (shrink_list with <= 32
        folios), or its final anon deactivation; then shrink_node()'s kswapd bookkeeping."""
        cdef mem* m = self.m
        cdef int lru
        cdef int64_t n
        while True:
            if sc.phase == PHASE_LOOP:
                if sc.cursor == 0 and not (sc.nr[<int>LRU_INACTIVE_ANON] or sc.nr[<int>LRU_ACTIVE_FILE]
                                           or sc.nr[<int>LRU_INACTIVE_FILE]):
                    sc.phase = PHASE_AFTER_LOOP
                    continue
                if sc.cursor >= 4:
                    sc.cursor = 0
                    if self.shrink_lruvec_round_end(sc):
                        sc.phase = PHASE_AFTER_LOOP
                    continue
                lru = sc.cursor
                sc.cursor += 1
                if sc.nr[lru] <= 0:
                    continue
                n = min(sc.nr[lru], <int64_t>SWAP_CLUSTER_MAX)
                sc.nr[lru] -= n
                if self.shrink_list(lru, n, sc):
                    return STEP_BATCH
            elif sc.phase == PHASE_AFTER_LOOP:
                sc.nr_reclaimed += sc.nr_reclaimed_pass
                sc.phase = PHASE_IDLE
                # even if we did not try to evict anon pages at all, we want to
                # rebalance the anon lru active/inactive ratio
                if m.nr_swap_slots > 0 and self.inactive_is_low(LRU_INACTIVE_ANON):
                    self.shrink_active_list(SWAP_CLUSTER_MAX, LRU_ACTIVE_ANON, sc, R_INACTIVE_LOW)
                    self.shrink_node_end(sc)
                    return STEP_BATCH_LAST
                self.shrink_node_end(sc)
                return STEP_DONE
            else:
                return STEP_DONE

    cdef void shrink_node_end(self, scan_control* sc) noexcept nogil:
        # shrink_node() after shrink_node_memcgs(): kswapd's node flags
        cdef mem* m = self.m
        if sc.reclaimer == RECLAIMER_KSWAPD:
            if sc.nr_writeback and sc.nr_writeback == sc.nr_taken_total:
                m.lv.flags |= PGDAT_WRITEBACK
            if sc.nr_unqueued_dirty and sc.nr_unqueued_dirty == sc.nr_file_taken:
                m.lv.flags |= PGDAT_DIRTY
        if sc.cache_trim_mode and sc.nr_reclaimed == sc.nr_reclaimed_start:
            sc.cache_trim_mode_failed = 1

    cdef bint shrink_list(self, int lru, int64_t nr_to_scan, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:shrink_list(); returns whether a scan batch ran."""
        cdef int bit
        if lru == LRU_ACTIVE_ANON or lru == LRU_ACTIVE_FILE:
            bit = DEACTIVATE_FILE if lru == LRU_ACTIVE_FILE else DEACTIVATE_ANON
            if sc.may_deactivate & bit:
                return self.shrink_active_list(nr_to_scan, lru, sc, R_DEACTIVATE) > 0
            sc.skipped_deactivate = 1
            return False
        return self.shrink_inactive_list(nr_to_scan, lru, sc) > 0

    cdef int64_t isolate_lru_folios(self, int64_t nr_to_scan, int lru, folio_idx_t dst,
                                    scan_control* sc, int64_t* nr_scanned) noexcept nogil:
        """Mirrors mm/vmscan.c:isolate_lru_folios(): one list per node whatever
        the zone. Takes folios from the tail onto the head of dst, clearing PG_lru;
        a mapped folio under !may_unmap goes back to the head. A folio in a zone
        above reclaim_idx (kswapd's runs for ZONE_DMA alone) is skipped: back to
        the head, counted in nr_scanned and PGSCAN_SKIP but not in the scan that
        nr_to_scan bounds (6.1 vmscan.c:2226-2288, 6.12 :1695-1757; 7.3 :1700-1765
        skips at most SWAP_CLUSTER_MAX_SKIPPED folios a call). Scanned and taken
        count the folios' pages (vmscan.c:1699-1740), so is nr_to_scan."""
        cdef mem* m = self.m
        cdef folio_idx_t head = m.nr_frames + HEAD_LRU + lru
        cdef folio_idx_t pfn
        cdef int64_t scan = 0, taken = 0, nr_pages, skipped = 0, nr_skipped_folios = 0
        # the kernel moves skipped folios off the list until the loop ends; here they go
        # back to the head at once, so the list counts as empty once every folio on it
        # was skipped or taken
        cdef int64_t listed = lru_size(m, lru)
        while scan < nr_to_scan and not list_empty(m, head) and skipped + taken < listed:
            pfn = m.folios[head].prev
            nr_pages = folio_nr_pages(m, pfn)
            if sc.dma_only and pfn >= m.nr_dma and (
                    m.kernel < 700 or nr_skipped_folios < SWAP_CLUSTER_MAX_SKIPPED):
                list_move(m, pfn, head)
                skipped += nr_pages
                nr_skipped_folios += 1
                m.vmstat[pgskip_item(m, pfn)] += nr_pages
                emit(m, EV_PUTBACK, R_ZONE_SKIP, FN_ISOLATE_LRU_FOLIOS, pfn, lru, lru, -1, -1)
                continue
            scan += nr_pages
            if not sc.may_unmap and folio_mapped(m, pfn):
                list_move(m, pfn, head)
                continue
            self.lruvec_del_folio(pfn)
            folio_clear(m, pfn, PG_lru)
            list_add(m, pfn, dst)
            taken += nr_pages
            emit(m, EV_ISOLATE, R_NONE, FN_ISOLATE_LRU_FOLIOS, pfn, lru, LOC_ISOLATED, -1, -1)
        nr_scanned[0] = scan + skipped         # total_scan
        return taken

    cdef int64_t shrink_active_list(self, int64_t nr_to_scan, int lru, scan_control* sc,
                                    int why) noexcept nogil:
        """Mirrors mm/vmscan.c:shrink_active_list(): every folio is deactivated (to the
        inactive head, PG_workingset) except file folios young in a VM_EXEC mapping,
        which rotate to the active head. PG_referenced is not looked at. Returns the
        number of folios scanned."""
        cdef mem* m = self.m
        cdef bint file = lru >= LRU_INACTIVE_FILE
        cdef folio_idx_t l_hold = m.nr_frames + HEAD_PRIVATE
        cdef folio_idx_t l_active = m.nr_frames + HEAD_PRIVATE + 1
        cdef folio_idx_t l_inactive = m.nr_frames + HEAD_PRIVATE + 2
        cdef int64_t nr_scanned = 0, nr_taken, nr_rotated = 0, nr_deactivate = 0
        cdef folio_idx_t pfn
        cdef uint32_t vm_flags
        cdef uint64_t seq0
        cdef int64_t low_in[3]
        cdef bint low = False
        if m.events_on:
            # what the deactivation was for: inactive_is_low() as this pass starts
            low = self.inactive_is_low_inputs(lru - 1, low_in)
        nr_taken = self.isolate_lru_folios(nr_to_scan, lru, l_hold, sc, &nr_scanned)
        m.vmstat[<int>(NR_ISOLATED_FILE if file else NR_ISOLATED_ANON)] += nr_taken
        m.vmstat[<int>PGREFILL] += nr_scanned
        charge(m, nr_scanned * m.cost.scan_folio)
        while not list_empty(m, l_hold):
            pfn = m.folios[l_hold].prev
            list_del(m, pfn)
            if folio_test(m, pfn, PG_unevictable) or folio_test(m, pfn, PG_mlocked):
                folio_set_decision(m, pfn, EV_PUTBACK, R_FOLIOREF_ACTIVATE_LOCKED)
                list_add(m, pfn, l_active)
                continue
            # referenced or rmap lock contention: rotate exec file folios
            if self.folio_referenced(pfn, &vm_flags, sc) != 0:
                if (vm_flags & VM_EXEC) and folio_is_file_lru(m, pfn):
                    nr_rotated += folio_nr_pages(m, pfn)      # vmscan.c:2126
                    folio_set_decision(m, pfn, EV_PUTBACK, R_EXEC_ROTATE)
                    list_add(m, pfn, l_active)
                    continue
            folio_clear(m, pfn, PG_active)
            folio_set(m, pfn, PG_workingset)
            folio_set_decision(m, pfn, EV_PGDEACTIVATE, why)
            list_add(m, pfn, l_inactive)
        self.move_folios_to_lru(l_active)
        # nr_deactivate = move_folios_to_lru(): a folio the rmap walk just mlocked goes
        # to the unevictable list and is not a deactivation
        seq0 = m.events_seq
        nr_deactivate = self.move_folios_to_lru(l_inactive)
        if m.events_on:
            # the events move_folios_to_lru() just wrote for l_inactive
            event_add_inactive_is_low(m, seq0, low, low_in)
        m.vmstat[<int>PGDEACTIVATE] += nr_deactivate
        m.vmstat[<int>(NR_ISOLATED_FILE if file else NR_ISOLATED_ANON)] -= nr_taken
        if nr_rotated and m.kernel >= 612:         # 6.1's shrink_active_list() charges nothing
            self.lru_note_cost(file, 0, nr_rotated)
        emit_arg(m, EV_SHRINK_ACTIVE, why, FN_SHRINK_ACTIVE_LIST, <uint32_t>lru,
                 <uint64_t>nr_taken | (<uint64_t>nr_deactivate << 20) | (<uint64_t>nr_rotated << 40))
        if m.events_on:
            event_add_inactive_is_low(m, m.events_seq - 1, low, low_in)
        return nr_scanned

    cdef int64_t shrink_inactive_list(self, int64_t nr_to_scan, int lru, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:shrink_inactive_list(); simplified: no throttling on
        too_many_isolated. Returns the number of folios scanned by the isolation."""
        cdef mem* m = self.m
        cdef bint file = lru >= LRU_INACTIVE_FILE
        cdef folio_idx_t folio_list = m.nr_frames + HEAD_PRIVATE
        cdef folio_idx_t ret_list = m.nr_frames + HEAD_PRIVATE + 1
        cdef int64_t nr_scanned = 0, nr_taken, nr_reclaimed
        cdef reclaim_stat stat
        nr_taken = self.isolate_lru_folios(nr_to_scan, lru, folio_list, sc, &nr_scanned)
        m.vmstat[<int>(NR_ISOLATED_FILE if file else NR_ISOLATED_ANON)] += nr_taken
        if sc.reclaimer == RECLAIMER_KSWAPD:
            m.vmstat[<int>PGSCAN_KSWAPD] += nr_scanned
        else:
            m.vmstat[<int>PGSCAN_DIRECT] += nr_scanned
        m.vmstat[PGSCAN_ANON + file] += nr_scanned
        sc.nr_scanned_pass += nr_scanned
        if nr_taken == 0:
            return nr_scanned
        nr_reclaimed = self.shrink_folio_list(folio_list, ret_list, sc, &stat)
        self.move_folios_to_lru(ret_list)
        m.vmstat[<int>(NR_ISOLATED_FILE if file else NR_ISOLATED_ANON)] -= nr_taken
        if sc.reclaimer == RECLAIMER_KSWAPD:
            m.vmstat[<int>PGSTEAL_KSWAPD] += nr_reclaimed
        else:
            m.vmstat[<int>PGSTEAL_DIRECT] += nr_reclaimed
        m.vmstat[PGSTEAL_ANON + file] += nr_reclaimed
        sc.nr_reclaimed_pass += nr_reclaimed
        self.lru_note_cost(file, stat.nr_pageout, nr_scanned - nr_reclaimed)
        # every taken folio dirty and not queued for I/O: kick the flushers
        if stat.nr_unqueued_dirty == nr_taken:
            wakeup_flusher_threads(m)
        sc.nr_dirty += stat.nr_dirty
        sc.nr_congested += stat.nr_congested
        sc.nr_unqueued_dirty += stat.nr_unqueued_dirty
        sc.nr_writeback += stat.nr_writeback
        sc.nr_immediate += stat.nr_immediate
        sc.nr_taken_total += nr_taken
        if file:
            sc.nr_file_taken += nr_taken
        emit_arg(m, EV_SHRINK_INACTIVE, R_NONE, FN_SHRINK_INACTIVE_LIST, <uint32_t>lru,
                 <uint64_t>nr_scanned | (<uint64_t>nr_reclaimed << 32))
        return nr_scanned

    cdef int age_node(self, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:kswapd_age_node() (classic): deactivate anon when the
        inactive anon list is low and anon can be aged (a swap device exists)."""
        if self.m.nr_swap_slots > 0 and self.inactive_is_low(LRU_INACTIVE_ANON):
            if self.shrink_active_list(SWAP_CLUSTER_MAX, LRU_ACTIVE_ANON, sc, R_INACTIVE_LOW) > 0:
                return STEP_BATCH_LAST
        return STEP_DONE

    cdef void snapshot_refaults(self) noexcept nogil:
        """Mirrors mm/vmscan.c:snapshot_refaults()."""
        self.m.lv.refaults[0] = lruvec_page_state(self.m, MS_WS_ACTIVATE)
        self.m.lv.refaults[1] = lruvec_page_state(self.m, MS_WS_ACTIVATE + 1)

    # --- workingset ---------------------------------------------------------------------

    cdef uint64_t workingset_eviction(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/workingset.c:workingset_eviction() (classic): the clock is read
        before it is advanced; shadow = eviction << 1 | PG_workingset."""
        cdef mem* m = self.m
        cdef uint64_t eviction = <uint64_t>m.lv.nonresident_age & EVICTION_MASK
        m.lv.nonresident_age += folio_nr_pages(m, pfn)   # workingset.c:407-409: by the folio's pages
        return (eviction << 1) | (1 if folio_test(m, pfn, PG_workingset) else 0)

    cdef void workingset_refault(self, folio_idx_t pfn, uint64_t shadow, bint in_fault) noexcept nogil:
        """Mirrors mm/workingset.c:workingset_refault() + workingset_test_recent()
        (classic); simplified: one memcg, bucket_order 0. pgactivate is not counted."""
        cdef mem* m = self.m
        cdef bint file = folio_is_file_lru(m, pfn)
        cdef uint64_t eviction = (shadow & ENTRY_MASK) >> 1
        cdef bint workingset = (shadow & 1) != 0
        cdef uint64_t distance = (<uint64_t>m.lv.nonresident_age - eviction) & EVICTION_MASK
        cdef int64_t size = workingset_size_stat(m, file)
        cdef int64_t nr = folio_nr_pages(m, pfn)     # workingset.c:572-587: the folio's pages
        m.vmstat[WORKINGSET_REFAULT_ANON + file] += nr
        if distance > <uint64_t>size:
            emit(m, EV_WORKINGSET_REFAULT, R_REFAULT_NOT_RECENT, FN_WORKINGSET_REFAULT, pfn,
                 LOC_SWAP if not file else LOC_PAGECACHE_SHADOW, LOC_NONE, <int64_t>distance, size)
            return
        emit(m, EV_WORKINGSET_REFAULT, R_REFAULT_RECENT, FN_WORKINGSET_REFAULT, pfn,
             LOC_SWAP if not file else LOC_PAGECACHE_SHADOW, LOC_NONE, <int64_t>distance, size)
        folio_set(m, pfn, PG_active)
        m.lv.nonresident_age += nr
        m.vmstat[WORKINGSET_ACTIVATE_ANON + file] += nr
        emit(m, EV_WORKINGSET_ACTIVATE, R_REFAULT_RECENT, FN_WORKINGSET_REFAULT, pfn,
             LOC_NONE, LOC_NONE, -1, -1)
        if workingset:
            folio_set(m, pfn, PG_workingset)
            self.lru_note_cost(file, nr, 0)      # lru_note_cost_refault()
            m.vmstat[WORKINGSET_RESTORE_ANON + file] += nr
            emit(m, EV_WORKINGSET_RESTORE, R_REFAULT_WORKINGSET, FN_WORKINGSET_REFAULT, pfn,
                 LOC_NONE, LOC_NONE, -1, -1)

    # --- Python side ------------------------------------------------------------------------

    cpdef dict snapshot(self):
        cdef mem* m = self.m
        return {
            "nonresident_age": m.lv.nonresident_age,
            "anon_cost": m.lv.anon_cost,
            "file_cost": m.lv.file_cost,
            "refaults": [m.lv.refaults[0], m.lv.refaults[1]],
            "pgdat_flags": [n for b, n in ((PGDAT_DIRTY, "PGDAT_DIRTY"), (PGDAT_WRITEBACK, "PGDAT_WRITEBACK"))
                            if m.lv.flags & b],
            "nr_pages": {name: m.vmstat[NR_INACTIVE_ANON + i] for i, name in enumerate(
                ("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE", "LRU_UNEVICTABLE"))},
            "inactive_is_low": {"anon": bool(self.inactive_is_low(LRU_INACTIVE_ANON)),
                                "file": bool(self.inactive_is_low(LRU_INACTIVE_FILE))},
        }

    cpdef bytes state_bytes(self):
        # everything the classic policy knows lives in mem (lists, lruvec, vmstat)
        return b""

    cpdef load_state(self, bytes data):
        if data:
            raise ValueError("ActiveInactiveLru has no private state")

    cpdef list check_invariants(self):
        cdef mem* m = self.m
        cdef list errs = []
        cdef int lru
        cdef int64_t n, n_dma
        cdef folio_idx_t head, pfn
        for lru in range(NR_LRU_LISTS):
            head = m.nr_frames + HEAD_LRU + lru
            n = n_dma = 0
            pfn = m.folios[head].next
            while pfn != head and n <= m.nr_frames:
                if folio_lru_list(m, pfn) != lru:
                    errs.append(f"pfn {pfn} on list {lru} but its flags select {folio_lru_list(m, pfn)}")
                if folio_lru_gen(m, pfn) >= 0:
                    errs.append(f"pfn {pfn} has a gen field under the classic policy")
                if m.folios[pfn].flags & PG_tail:
                    errs.append(f"tail page {pfn} on list {lru}")
                n += folio_nr_pages(m, pfn)
                if pfn < m.nr_dma:
                    n_dma += folio_nr_pages(m, pfn)
                pfn = m.folios[pfn].next
            if n != m.vmstat[NR_INACTIVE_ANON + lru]:
                errs.append(f"list {lru} holds folios of {n} pages, vmstat says {m.vmstat[NR_INACTIVE_ANON + lru]}")
            if n_dma != m.nr_lru_dma[lru]:
                errs.append(f"list {lru} holds {n_dma} ZONE_DMA pages, nr_lru_dma says {m.nr_lru_dma[lru]}")
        for lru in list(range(HEAD_GEN, HEAD_PRIVATE)) + list(range(HEAD_GEN_DMA, NR_LIST_HEADS)):
            if not list_empty(m, m.nr_frames + lru):
                errs.append(f"generation list head {lru} is not empty under the classic policy")
        return errs

    def snapshot_refaults_now(self):
        """Test hook: snapshot_refaults() now."""
        self.snapshot_refaults()

    def inactive_is_low_for(self, int64_t inactive, int64_t active):
        """inactive_is_low()'s arithmetic for given list sizes (tests)."""
        cdef uint64_t gb = <uint64_t>(inactive + active) >> 18
        cdef int64_t ratio = <int64_t>int_sqrt(10 * gb) if gb else 1
        return inactive * ratio < active

    def prepare_scan_control_now(self):
        """Test hook: prepare_scan_control() for a kswapd pass now; the reclaim
        costs it hands get_scan_count()."""
        cdef scan_control sc
        memset(&sc, 0, sizeof(scan_control))
        sc.priority = DEF_PRIORITY
        sc.reclaimer = RECLAIMER_KSWAPD
        sc.swappiness = -1
        self.prepare_scan_control(&sc)
        return {"anon_cost": sc.anon_cost, "file_cost": sc.file_cost}

    def shrink_list_now(self, lru, int64_t nr_to_scan, reclaimer="kswapd", int priority=DEF_PRIORITY,
                        int may_deactivate=3):
        """Test hook: one shrink_list() call on `lru` (a LOCATIONS name or index) now."""
        cdef scan_control sc
        cdef int l = lru if isinstance(lru, int) else ("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON",
                                                       "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE").index(lru)
        cdef int64_t scanned
        memset(&sc, 0, sizeof(scan_control))
        sc.nr_to_reclaim = SWAP_CLUSTER_MAX
        sc.priority = priority
        sc.reclaimer = RECLAIMER_DIRECT if reclaimer == "direct" else RECLAIMER_KSWAPD
        sc.swappiness = -1
        sc.may_writepage = 1
        sc.may_unmap = 1
        sc.may_swap = 1
        sc.may_deactivate = may_deactivate
        self.m.cur_actor = sc.reclaimer
        if sc.reclaimer == RECLAIMER_KSWAPD and self.m.kswapd_ns < self.m.now_ns:
            self.m.kswapd_ns = self.m.now_ns         # runs now, as wakeup_kswapd() starts its clock
        self.m.events_on = 1
        scanned = self.shrink_list(l, nr_to_scan, &sc)
        self.shrink_node_end(&sc)
        self.m.cur_actor = RECLAIMER_NONE
        return {"nr_scanned": sc.nr_scanned, "nr_reclaimed": sc.nr_reclaimed_pass,
                "nr_taken": sc.nr_taken_total, "nr_immediate": sc.nr_immediate,
                "nr_writeback": sc.nr_writeback, "nr_unqueued_dirty": sc.nr_unqueued_dirty,
                "skipped_deactivate": sc.skipped_deactivate}

    # for tests: the last get_scan_count() decision
    def last_scan_balance(self):
        return {"balance": ("SCAN_EQUAL", "SCAN_FRACT", "SCAN_ANON", "SCAN_FILE")[self.last_balance],
                "ap": self.last_ap, "fp": self.last_fp}

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# ReclaimPolicy: the base of both policies. The methods marked "subclass" in
# policy.pxd are stubs here that shout (an unraisable NotImplementedError is
# printed) if a policy forgot one; the rest is the kernel code both policies
# share, written once: the rmap walk (folio_referenced), shrink_folio_list,
# move_folios_to_lru, folio_rotate_reclaimable and lru_note_cost.

from libc.stdint cimport int32_t, int64_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset
from engine._types cimport *
from engine.core cimport *


cdef enum:
    ACT_FREE = 0
    ACT_ACTIVATE = 1
    ACT_KEEP = 2


cdef inline void stub(str name) noexcept nogil:
    with gil:
        raise NotImplementedError(f"ReclaimPolicy.{name}() must be implemented by the subclass")


cdef class ReclaimPolicy:
    """Base of the reclaim policies; see policy.pxd for the interface."""

    def __cinit__(self):
        self.m = NULL
        self.lru_gen_enabled = False
        self.failed = False
        self.hook_error = None

    cdef int attach(self, mem* m, dict config) except -1:
        self.m = m
        return 0

    # --- subclass methods: stubs ----------------------------------------------
    cdef void lruvec_add_folio(self, folio_idx_t pfn, bint tail) noexcept nogil:
        stub("lruvec_add_folio")

    cdef void lruvec_del_folio(self, folio_idx_t pfn) noexcept nogil:
        stub("lruvec_del_folio")

    cdef void folio_mark_accessed(self, folio_idx_t pfn) noexcept nogil:
        stub("folio_mark_accessed")

    cdef void folio_activate(self, folio_idx_t pfn) noexcept nogil:
        stub("folio_activate")

    cdef int folio_check_references(self, folio_idx_t pfn, scan_control* sc) noexcept nogil:
        stub("folio_check_references")
        return FOLIOREF_KEEP

    cdef int folio_check_references_classic(self, folio_idx_t pfn, scan_control* sc) noexcept nogil:
        """Mirrors mm/vmscan.c:folio_check_references() without an lru_gen branch: the
        classic LRU's, and MGLRU's before v6.14 (6.1, 6.12)."""
        cdef mem* m = self.m
        cdef uint32_t vm_flags = 0
        cdef int referenced_ptes = self.folio_referenced(pfn, &vm_flags, sc)
        cdef bint referenced_folio
        if vm_flags & VM_LOCKED:
            folio_set_decision(m, pfn, 0, R_FOLIOREF_ACTIVATE_LOCKED)
            return FOLIOREF_ACTIVATE
        referenced_folio = folio_test_clear(m, pfn, PG_referenced)
        # the rule's inputs, for the event of whatever shrink_folio_list() decides
        folio_set_references(m, pfn, referenced_ptes, referenced_folio, vm_flags)
        if referenced_ptes > 0:
            # first sighting sets PG_referenced: a second one activates
            folio_set(m, pfn, PG_referenced)
            if referenced_folio:
                folio_set_decision(m, pfn, 0, R_FOLIOREF_ACTIVATE_TWICE)
                return FOLIOREF_ACTIVATE
            if referenced_ptes > 1:
                folio_set_decision(m, pfn, 0, R_FOLIOREF_ACTIVATE_MULTI)
                return FOLIOREF_ACTIVATE
            if (vm_flags & VM_EXEC) and folio_is_file_lru(m, pfn):
                folio_set_decision(m, pfn, 0, R_FOLIOREF_ACTIVATE_EXEC)
                return FOLIOREF_ACTIVATE
            folio_set_decision(m, pfn, 0, R_FOLIOREF_KEEP)
            return FOLIOREF_KEEP
        # "reclaim if clean, defer dirty folios to writeback"; 7.3 has no such case
        # (reclaim never writes a file folio, below)
        if referenced_folio and folio_is_file_lru(m, pfn) and m.kernel < 700:
            folio_set_decision(m, pfn, 0, R_FOLIOREF_RECLAIM_CLEAN)
            return FOLIOREF_RECLAIM_CLEAN
        folio_set_decision(m, pfn, 0, R_FOLIOREF_RECLAIM)
        return FOLIOREF_RECLAIM

    cdef void look_around(self, uint32_t mm, uint64_t vpn, scan_control* sc) noexcept nogil:
        stub("look_around")

    cdef void shrink_node_begin(self, scan_control* sc) noexcept nogil:
        stub("shrink_node_begin")

    cdef int shrink_node_step(self, scan_control* sc) noexcept nogil:
        stub("shrink_node_step")
        return STEP_DONE

    cdef int age_node(self, scan_control* sc) noexcept nogil:
        stub("age_node")
        return STEP_DONE

    cdef void snapshot_refaults(self) noexcept nogil:
        stub("snapshot_refaults")

    cdef uint64_t workingset_eviction(self, folio_idx_t pfn) noexcept nogil:
        stub("workingset_eviction")
        return 0

    cdef void workingset_refault(self, folio_idx_t pfn, uint64_t shadow, bint in_fault) noexcept nogil:
        stub("workingset_refault")

    cpdef dict snapshot(self):
        raise NotImplementedError("ReclaimPolicy.snapshot() must be implemented by the subclass")

    cpdef bytes state_bytes(self):
        raise NotImplementedError("ReclaimPolicy.state_bytes() must be implemented by the subclass")

    cpdef load_state(self, bytes data):
        raise NotImplementedError("ReclaimPolicy.load_state() must be implemented by the subclass")

    cpdef list check_invariants(self):
        raise NotImplementedError("ReclaimPolicy.check_invariants() must be implemented by the subclass")

    cdef void lru_gen_add_mm(self, int32_t mm) noexcept nogil:
        # only MGLRU keeps an mm list (mm/vmscan.c:lru_gen_add_mm())
        pass

    # --- shared code ----------------------------------------------------------------

    cdef int folio_loc(self, folio_idx_t pfn, int64_t* seq) noexcept nogil:
        seq[0] = -1
        if folio_lru_gen(self.m, pfn) >= 0:
            return LOC_GEN
        if not folio_test(self.m, pfn, PG_lru):
            return LOC_ISOLATED
        return folio_lru_list(self.m, pfn)

    cdef void lru_add(self, folio_idx_t pfn, bint tail) noexcept nogil:
        """Mirrors mm/swap.c:lru_add(); simplified: applied at once (no per-CPU batch)."""
        cdef mem* m = self.m
        folio_clear(m, pfn, PG_unevictable)
        if folio_test(m, pfn, PG_mlocked):
            # unevictable: VM_LOCKED seen by the rmap walk (mlock_vma_folio)
            folio_clear(m, pfn, PG_active)
            folio_set(m, pfn, PG_unevictable)
            m.vmstat[<int>UNEVICTABLE_PGS_CULLED] += folio_nr_pages(m, pfn)    # 7.3 folio.c:145
            emit(m, EV_UNEVICTABLE, R_FOLIOREF_ACTIVATE_LOCKED, FN_LRU_ADD, pfn, LOC_NONE,
                 LRU_UNEVICTABLE, -1, -1)
        folio_set(m, pfn, PG_lru)
        self.lruvec_add_folio(pfn, tail)

    cdef int folio_referenced(self, folio_idx_t pfn, uint32_t* vm_flags, scan_control* sc) noexcept nogil:
        """Mirrors mm/rmap.c:folio_referenced(); simplified: no rmap lock contention, no
        page-idle flag; one PTE per VMA. Anon: the folio's own PTE (mm = mapping, vpn =
        index); file: every VMA of the file. Young bits are tested and cleared; each VMA
        with a young PTE counts once and ORs its vm_flags; VM_LOCKED stops the walk."""
        cdef mem* m = self.m
        cdef folio* f = &m.folios[pfn]
        cdef int referenced = 0
        cdef uint32_t* pte
        cdef uint32_t mm
        cdef uint64_t vpn
        cdef int32_t v
        cdef vma* vm
        vm_flags[0] = 0
        if f.flags & FOLIO_ORDER_MASK:
            return self.folio_referenced_large(pfn, vm_flags, sc)
        if f.mapcount == 0:
            return 0
        if f.flags & PG_anon:
            mm = f.mapping
            vpn = f.index
            pte = pte_lookup(m, mm, vpn)
            if pte != NULL and (pte[0] & PTE_PRESENT) and <folio_idx_t>(pte[0] & PTE_PFN_MASK) == pfn:
                if pte[0] & PTE_YOUNG:
                    referenced += self.clear_young_and_look_around(pte, mm, vpn, sc)
        else:
            if f.mapping < <uint32_t>m.nr_files:
                v = m.file_first_vma[f.mapping]
                vpn = file_vma_vpn(f.mapping, f.index)
                while v >= 0:
                    vm = &m.vmas[v]
                    v = vm.next_of_file
                    if not vma_has_recency(vm.vm_flags):
                        continue
                    pte = pte_lookup(m, vm.mm, vpn)
                    if pte == NULL or not (pte[0] & PTE_PRESENT) or <folio_idx_t>(pte[0] & PTE_PFN_MASK) != pfn:
                        continue
                    if vm.vm_flags & VM_LOCKED:
                        # mlock_vma_folio(): the folio becomes unevictable at putback
                        vm_flags[0] |= VM_LOCKED
                        folio_set(m, pfn, PG_mlocked)
                        break
                    if pte[0] & PTE_YOUNG:
                        referenced += self.clear_young_and_look_around(pte, vm.mm, vpn, sc)
                        vm_flags[0] |= vm.vm_flags
        if referenced:
            emit(m, EV_REFERENCED, R_NONE, FN_FOLIO_CHECK_REFERENCES, pfn, LOC_ISOLATED, LOC_ISOLATED,
                 referenced, <int64_t>vm_flags[0])
        return referenced

    cdef int clear_young_and_look_around(self, uint32_t* pte, uint32_t mm, uint64_t vpn,
                                         scan_control* sc) noexcept nogil:
        # folio_referenced_one() for a young PTE: the number of references it counts.
        # 6.1 (mm/rmap.c:829-847) runs MGLRU's look-around first, whose window holds
        # the young PTE itself: look-around clears it and leaves the isolated folio
        # PG_referenced (6.1 vmscan.c:4692), so folio_check_references() activates it
        # (referenced_ptes 1 and referenced_folio). 6.12 and 7.3 clear it first, in
        # lru_gen_look_around() itself (6.12 vmscan.c:4087).
        cdef int referenced = 0
        if self.lru_gen_enabled and self.m.kernel < 612:
            self.look_around(mm, vpn, sc)
            referenced = 1
            if not (pte[0] & PTE_YOUNG):
                return referenced
        pte[0] &= ~(<uint32_t>PTE_YOUNG)
        referenced += 1
        if self.lru_gen_enabled and self.m.kernel >= 612:
            self.look_around(mm, vpn, sc)
        return referenced

    cdef int folio_referenced_large(self, folio_idx_t pfn, uint32_t* vm_flags, scan_control* sc) noexcept nogil:
        # folio_referenced() of a large file folio (7.3 mm/rmap.c:folio_referenced_one(),
        # :922-1033): in each VMA every PTE that maps one of its pages is looked at
        # and its young bit cleared; a VMA with any young PTE counts once and ORs its
        # vm_flags; MGLRU's look-around runs from the first young one (one batch of
        # PTEs here, where the kernel runs it per batch, folio_pte_batch()); a
        # VM_LOCKED VMA mlocks the folio only if it maps all its pages (:937-954)
        cdef mem* m = self.m
        cdef uint32_t file = m.folios[pfn].mapping
        cdef uint64_t base = m.folios[pfn].index
        cdef int64_t n = folio_nr_pages(m, pfn), i, ptes
        cdef folio_idx_t pages[1 << MAX_PAGECACHE_ORDER]
        cdef int referenced = 0
        cdef bint young
        cdef uint32_t* pte
        cdef uint64_t vpn, first
        cdef int32_t v
        cdef vma* vm
        if not folio_mapped(m, pfn) or file >= <uint32_t>m.nr_files:
            return 0
        for i in range(n):
            pages[i] = folio_page(m, pfn, i)
        v = m.file_first_vma[file]
        while v >= 0:
            vm = &m.vmas[v]
            v = vm.next_of_file
            if not vma_has_recency(vm.vm_flags):
                continue
            ptes = 0
            young = False
            first = 0
            for i in range(n):
                if not m.folios[pages[i]].mapcount:
                    continue
                vpn = file_vma_vpn(file, base + <uint64_t>i)
                pte = pte_lookup(m, vm.mm, vpn)
                if pte == NULL or not (pte[0] & PTE_PRESENT) or <folio_idx_t>(pte[0] & PTE_PFN_MASK) != pages[i]:
                    continue
                ptes += 1
                if vm.vm_flags & VM_LOCKED:
                    continue
                if pte[0] & PTE_YOUNG:
                    pte[0] &= ~(<uint32_t>PTE_YOUNG)
                    if not young:
                        first = vpn
                    young = True
            if vm.vm_flags & VM_LOCKED:
                if ptes == n:
                    vm_flags[0] |= VM_LOCKED
                    folio_set(m, pfn, PG_mlocked)
                    break
                continue
            if young:
                referenced += 1
                vm_flags[0] |= vm.vm_flags
                if self.lru_gen_enabled:
                    self.look_around(vm.mm, first, sc)
        if referenced:
            emit(m, EV_REFERENCED, R_NONE, FN_FOLIO_CHECK_REFERENCES, pfn, LOC_ISOLATED, LOC_ISOLATED,
                 referenced, <int64_t>vm_flags[0])
        return referenced

    cdef int64_t shrink_folio_list(self, folio_idx_t folio_list, folio_idx_t ret_list,
                                   scan_control* sc, reclaim_stat* stat) noexcept nogil:
        """Mirrors mm/vmscan.c:shrink_folio_list(); simplified: the folio lock fails only
        for a readahead folio whose read is in flight (shrink_folio()), no
        extra references (pageout and __remove_mapping never refuse), no demotion, no
        lazyfree, no buffer heads. Survivors go to the head of ret_list with their
        decision recorded for move_folios_to_lru(); freed folios return to the free list."""
        cdef mem* m = self.m
        cdef folio_idx_t pfn
        cdef uint32_t fl
        cdef int action, reason, kind
        cdef int64_t nr_reclaimed = 0, nr_pages
        cdef int64_t pgactivate = 0
        cdef int stage
        memset(stat, 0, sizeof(reclaim_stat))
        for stage in range(2):
            pfn = m.folios[folio_list].next
            while pfn != folio_list:
                prefetch_rmap(m, pfn, stage)
                pfn = m.folios[pfn].next
        while not list_empty(m, folio_list):
            pfn = m.folios[folio_list].prev
            list_del(m, pfn)
            reason = R_NONE
            m.folios[pfn]._pad = 0      # no decision yet (a retried folio kept its first one)
            action = self.shrink_folio(pfn, sc, stat, &reason)
            nr_pages = folio_nr_pages(m, pfn)
            if action == ACT_FREE:
                self.remove_mapping(pfn)
                nr_reclaimed += nr_pages         # vmscan.c:1504, the folio's pages
            elif action == ACT_ACTIVATE:
                fl = m.folios[pfn].flags
                # the swap slot goes when swap is getting full or the folio is mlocked
                if (fl & PG_swapcache) and (m.nr_swap_free * 2 < m.nr_swap_slots or (fl & PG_mlocked)):
                    folio_free_swap(m, pfn)
                kind = EV_PUTBACK
                if not (fl & PG_mlocked):
                    folio_set(m, pfn, PG_active)
                    stat.nr_activate[0 if (fl & PG_swapbacked) else 1] += nr_pages   # vmscan.c:1532-1533
                    pgactivate += nr_pages
                    kind = EV_PGACTIVATE
                folio_set_decision(m, pfn, kind, reason)
                list_add(m, pfn, ret_list)
            else:
                folio_set_decision(m, pfn, EV_PUTBACK, reason)
                list_add(m, pfn, ret_list)
        m.vmstat[<int>PGACTIVATE] += pgactivate
        return nr_reclaimed

    cdef int shrink_folio(self, folio_idx_t pfn, scan_control* sc, reclaim_stat* stat,
                          int* reason) noexcept nogil:
        # The rules of shrink_folio_list() for one folio, first match wins;
        # returns ACT_FREE (go on to __remove_mapping), ACT_ACTIVATE or ACT_KEEP.
        cdef mem* m = self.m
        cdef uint32_t fl = m.folios[pfn].flags
        cdef bint is_file = folio_is_file_lru(m, pfn)
        cdef bint dirty, writeback
        cdef int references
        cdef int32_t slot
        cdef int64_t nr_pages = folio_nr_pages(m, pfn)
        cdef file_ra_state* ra
        # 1. folio_trylock() (6.1 vmscan.c:1669, 6.12 :1079, 7.3 :1088): a folio
        # readahead added is locked until its read completes, and one that fails
        # the lock is kept, neither counted nor charged. Read once (referenced) or
        # mapped, its read is done: the reader waited for it.
        if is_file and not (fl & (PG_referenced | PG_swapbacked)) and not folio_mapped(m, pfn):
            ra = &m.file_ra[m.folios[pfn].mapping]
            if actor_now(m) < ra.io_done_ns and ra.io_start <= m.folios[pfn].index < ra.io_start + ra.io_nr:
                reason[0] = R_FOLIO_LOCKED
                return ACT_KEEP
        # 2. count the scan: the folio's
        # pages (vmscan.c:1108-1111), each stat below too, and its cost (the
        # rig's scan_folio was fitted against pgscan, which counts pages)
        sc.nr_scanned += nr_pages
        charge(m, m.cost.scan_folio * nr_pages)
        if sc.reclaimer == RECLAIMER_DIRECT:
            charge(m, m.cost.direct_stall)
        # 3. unevictable
        if fl & (PG_unevictable | PG_mlocked):
            reason[0] = R_FOLIOREF_ACTIVATE_LOCKED
            return ACT_ACTIVATE
        # 4. mapped and !may_unmap
        if not sc.may_unmap and folio_mapped(m, pfn):
            reason[0] = R_NO_RECLAIM_CONTEXT
            return ACT_KEEP
        # 5. folio_check_dirty_writeback(): file folios only (anon reports clean)
        dirty = (fl & PG_dirty) != 0
        writeback = (fl & PG_writeback) != 0
        if is_file:
            if dirty or writeback:
                stat.nr_dirty += nr_pages
            if dirty and not writeback:
                stat.nr_unqueued_dirty += nr_pages
            if writeback and (fl & PG_reclaim):
                stat.nr_congested += nr_pages
        # 6. under writeback
        if writeback:
            if (sc.reclaimer == RECLAIMER_KSWAPD and (fl & PG_reclaim)
                    and (m.lv.flags & PGDAT_WRITEBACK)):
                stat.nr_immediate += nr_pages       # case 1: kswapd meets it again
            else:
                folio_set(m, pfn, PG_reclaim)       # case 2: tag it, move on
                stat.nr_writeback += nr_pages
            reason[0] = R_WRITEBACK_ACTIVATE
            return ACT_ACTIVATE
        # 7. references (the subclass may record its own reason in _pad)
        m.folios[pfn]._pad = 0
        references = self.folio_check_references(pfn, sc)
        if references == FOLIOREF_ACTIVATE:
            reason[0] = folio_decision_reason(m, pfn)
            if reason[0] == 0:
                reason[0] = R_FOLIOREF_ACTIVATE_TWICE
            return ACT_ACTIVATE
        if references == FOLIOREF_KEEP:
            stat.nr_ref_keep += nr_pages
            reason[0] = folio_decision_reason(m, pfn)
            if reason[0] == 0:
                reason[0] = R_FOLIOREF_KEEP
            return ACT_KEEP
        fl = m.folios[pfn].flags
        # a dirty tmpfs folio goes to swap through pageout() -> shmem_writeout(),
        # which may_enter_fs() refuses to reclaim without __GFP_FS until the folio
        # is in the swap cache: kept (6.1 vmscan.c:1621-1626, 7.3 shrink_folio_list()
        # :1385-1386)
        if (fl & FOLIO_SHMEM) and sc.gfp_nofs and not (fl & PG_swapcache):
            reason[0] = R_NOFS_KEEP
            return ACT_KEEP
        # 9. anon not in the swap cache: add_to_swap()
        if (fl & PG_anon) and (fl & PG_swapbacked) and not (fl & PG_swapcache):
            slot = -1
            if sc.may_swap and m.nr_swap_slots > 0:
                slot = swap_alloc(m)
            if slot < 0:
                reason[0] = R_SWAP_FULL
                return ACT_ACTIVATE
            m.swap_map[slot] = ENTRY_FOLIO | <uint64_t>pfn
            m.folios[pfn].swap = <uint32_t>(slot + 1)
            folio_set(m, pfn, PG_swapcache)
            m.vmstat[<int>NR_SWAPCACHED] += 1
            m.vmstat[<int>NR_FILE_PAGES] += 1
            folio_mark_dirty(m, pfn)
        # 10. try_to_unmap()
        if folio_mapped(m, pfn):
            try_to_unmap(m, pfn)
            if folio_mapped(m, pfn):
                stat.nr_unmap_fail += nr_pages
                reason[0] = R_UNMAP_FAIL
                return ACT_ACTIVATE
        # 11. dirty
        fl = m.folios[pfn].flags
        if fl & PG_dirty:
            # 6.1/6.12: only kswapd writes a file folio, and only one it saw dirty
            # before (PG_reclaim) while the node is PGDAT_DIRTY; 7.3 never does
            # (shrink_folio_list(), 7.3 vmscan.c:1369-1382)
            if is_file and (m.kernel >= 700 or not (sc.reclaimer == RECLAIMER_KSWAPD
                                                    and (fl & PG_reclaim)
                                                    and (m.lv.flags & PGDAT_DIRTY))):
                # immediate reclaim: the flushers write it; rotated to the tail at completion
                m.vmstat[<int>NR_VMSCAN_IMMEDIATE_RECLAIM] += 1
                folio_set(m, pfn, PG_reclaim)
                emit(m, EV_IMMEDIATE_RECLAIM, R_DIRTY_IMMEDIATE, FN_SHRINK_FOLIO_LIST, pfn,
                     LOC_ISOLATED, LOC_ISOLATED, -1, -1)
                reason[0] = R_DIRTY_IMMEDIATE
                return ACT_ACTIVATE
            if references == FOLIOREF_RECLAIM_CLEAN:
                reason[0] = R_FOLIOREF_RECLAIM_CLEAN
                return ACT_KEEP
            if not sc.may_writepage:
                reason[0] = R_NO_RECLAIM_CONTEXT
                return ACT_KEEP
            # pageout(): PG_reclaim, hand it to the writer
            folio_set(m, pfn, PG_reclaim)
            m.vmstat[<int>NR_VMSCAN_WRITE] += nr_pages
            stat.nr_pageout += nr_pages
            if fl & PG_swapcache:
                m.vmstat[<int>PSWPOUT] += 1
                emit(m, EV_PSWPOUT, R_NONE, FN_PAGEOUT, pfn, LOC_ISOLATED, LOC_SWAP, -1, -1)
                if m.swap_kind == SWAP_ZRAM:
                    # synchronous device: folio_end_writeback() runs inside pageout();
                    # the folio is isolated, so nothing rotates; free it now
                    folio_clear_dirty(m, pfn)
                    folio_clear(m, pfn, PG_reclaim)
                    m.vmstat[<int>PGPGOUT] += 4
                    charge(m, m.cost.swap_write)
                    emit(m, EV_WRITE_FOLIO, R_PAGEOUT_SYNC, FN_PAGEOUT, pfn, LOC_ISOLATED,
                         LOC_ISOLATED, -1, -1)
                    return ACT_FREE
                folio_start_writeback(m, pfn, 1, m.cost.swap_write)
            else:
                folio_start_writeback(m, pfn, 0, m.cost.file_write)
            emit(m, EV_WRITE_FOLIO, R_PAGEOUT_ASYNC, FN_PAGEOUT, pfn, LOC_ISOLATED,
                 LOC_ISOLATED, -1, -1)
            reason[0] = R_PAGEOUT_ASYNC
            return ACT_KEEP
        # 13. clean: __remove_mapping()
        reason[0] = R_CLEAN_SWAPCACHE if (fl & PG_swapcache) else R_FREED
        return ACT_FREE

    cdef void remove_mapping(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/vmscan.c:__remove_mapping(); simplified: never refused. The
        shadow from workingset_eviction() replaces the folio in the page cache or swap
        cache slot, and the frame is freed. A large folio's shadow goes over its
        whole range, so that each of its indices finds it (page_cache_delete(),
        filemap.c:137-142), and all its frames are freed."""
        cdef mem* m = self.m
        cdef uint32_t fl = m.folios[pfn].flags
        cdef uint64_t shadow
        cdef int32_t slot
        cdef int dst
        cdef int64_t i, n = folio_nr_pages(m, pfn)
        cdef folio_idx_t q
        shadow = self.workingset_eviction(pfn) & ENTRY_MASK
        if fl & PG_swapcache:
            slot = <int32_t>m.folios[pfn].swap - 1
            if (m.swap_map[slot] & ~ENTRY_MASK) != ENTRY_SHADOW:
                m.nr_swap_shadows += 1
            m.swap_map[slot] = ENTRY_SHADOW | shadow
            m.vmstat[<int>NR_SWAPCACHED] -= 1
            m.vmstat[<int>NR_FILE_PAGES] -= 1
            dst = LOC_SWAP
        else:
            for i in range(n - 1, 0, -1):
                q = <folio_idx_t>(pc_replace(m, m.folios[pfn].mapping, m.folios[pfn].index + <uint64_t>i,
                                             ENTRY_SHADOW | shadow) & ENTRY_MASK)
                free_frame(m, q)
            pc_store(m, m.folios[pfn].mapping, m.folios[pfn].index, ENTRY_SHADOW | shadow)
            m.vmstat[<int>NR_FILE_PAGES] -= n
            m.file_ra[m.folios[pfn].mapping].nr_evict += n
            dst = LOC_PAGECACHE_SHADOW
        emit(m, EV_PGSTEAL, R_FREED, FN_REMOVE_MAPPING, pfn, LOC_ISOLATED, dst, -1, -1)
        if m.events_on:
            event_set_references(last_event(m), m.folios[pfn]._pad)
        free_frame(m, pfn)

    cdef int64_t move_folios_to_lru(self, folio_idx_t list_head) noexcept nogil:
        """Mirrors mm/vmscan.c:move_folios_to_lru(); simplified: one lruvec. Oldest
        survivor first, each to the head of the list its flags select; a folio put back
        with PG_active ages the refault clock (workingset_age_nonresident). Returns
        nr_moved, which leaves out unevictable folios (folio_putback_lru)."""
        cdef mem* m = self.m
        cdef folio_idx_t pfn
        cdef int kind, reason, dst
        cdef int64_t seq
        cdef int64_t nr_moved = 0
        cdef uint16_t pad
        while not list_empty(m, list_head):
            pfn = m.folios[list_head].prev
            list_del(m, pfn)
            pad = m.folios[pfn]._pad
            kind = folio_decision_kind(m, pfn)
            reason = folio_decision_reason(m, pfn)
            m.folios[pfn]._pad = 0
            self.putback_decided(pfn, kind, reason)
            # the folio's pages (vmscan.c:1913-1916)
            if not folio_test(m, pfn, PG_unevictable):
                nr_moved += folio_nr_pages(m, pfn)
            if folio_test(m, pfn, PG_active):
                m.lv.nonresident_age += folio_nr_pages(m, pfn)
            if m.events_on:
                dst = self.folio_loc(pfn, &seq)
                emit(m, kind if kind else EV_PUTBACK, reason, FN_MOVE_FOLIOS_TO_LRU, pfn,
                     LOC_ISOLATED, dst, -1, seq)
                event_set_references(last_event(m), pad)
        return nr_moved

    cdef void putback_decided(self, folio_idx_t pfn, int kind, int reason) noexcept nogil:
        self.lru_add(pfn, False)

    cdef void folio_rotate_reclaimable(self, folio_idx_t pfn) noexcept nogil:
        """Mirrors mm/swap.c:folio_rotate_reclaimable() + lru_move_tail(); simplified:
        applied at once. A clean evictable folio on the LRU goes to the inactive tail
        of its type (MGLRU: the oldest generation's tail), pgrotated += 1."""
        cdef mem* m = self.m
        cdef uint32_t fl = m.folios[pfn].flags
        cdef int src, dst
        cdef int64_t sseq, dseq
        if (fl & (PG_locked | PG_dirty | PG_unevictable)) or not (fl & PG_lru):
            return
        src = self.folio_loc(pfn, &sseq)
        self.lruvec_del_folio(pfn)
        folio_clear(m, pfn, PG_active)
        self.lruvec_add_folio(pfn, True)
        m.vmstat[<int>PGROTATED] += folio_nr_pages(m, pfn)
        if m.events_on:
            dst = self.folio_loc(pfn, &dseq)
            emit(m, EV_PGROTATED, R_WRITEBACK_ROTATE, FN_FOLIO_ROTATE_RECLAIMABLE, pfn, src, dst,
                 sseq, dseq)

    cdef void lru_note_cost(self, bint file, int64_t nr_io, int64_t nr_rotated) noexcept nogil:
        """Mirrors mm/swap.c:lru_note_cost() (6.1 :290, 6.12 :271); simplified: one
        lruvec, no ancestors. 6.1 charges the pages written or restored, unweighted,
        and no rotations; 6.12 I/O x SWAP_CLUSTER_MAX plus rotations. 7.3 has no
        lru_note_cost(): reclaim counts PGROTATE_{ANON,FILE} (vmscan.c:2038, :2147)
        and prepare_scan_control() folds the counters in (lru.pyx)."""
        cdef mem* m = self.m
        cdef int64_t cost = nr_io * SWAP_CLUSTER_MAX + nr_rotated
        if m.kernel >= 700:
            m.vmstat[<int>PGROTATE_ANON + file] += nr_rotated
            return
        if m.kernel < 612:
            cost = nr_io
        if file:
            m.lv.file_cost += cost
        else:
            m.lv.anon_cost += cost
        if m.lv.file_cost + m.lv.anon_cost > lru_pages(m) // 4:
            m.lv.file_cost //= 2
            m.lv.anon_cost //= 2


cdef inline void _unmap_pte(mem* m, folio_idx_t pfn, uint32_t* pte, uint32_t mm, uint32_t new_pte,
                            int mapped_item, folio_idx_t head) noexcept nogil:
    # try_to_unmap_one() for one present PTE of page pfn: the dirty bit passes to
    # its folio (head), the PTE becomes new_pte, and the last unmap leaves mapped_item
    cdef folio* f = &m.folios[pfn]
    if pte[0] & PTE_DIRTY:
        folio_mark_dirty(m, head)
    pte[0] = new_pte
    m.ptp_nr_present[(pte - m.ptes) // PTRS_PER_PTE] -= 1
    m.mms[mm].nr_ptes_present -= 1
    f.mapcount -= 1
    if f.mapcount == 0:
        m.vmstat[mapped_item] -= 1
        if f.flags & FOLIO_ORDER_MASK:
            m.folios[head].swap -= 1            # the folio's mapped pages


cdef void try_to_unmap(mem* m, folio_idx_t pfn) noexcept nogil:
    """Mirrors mm/rmap.c:try_to_unmap(); simplified: anon PTEs become swap entries of
    the folio's slot, file PTEs are cleared; a dirty PTE dirties the folio."""
    cdef folio* f = &m.folios[pfn]
    cdef uint32_t* pte
    cdef int32_t v
    cdef vma* vm
    cdef uint64_t vpn
    cdef int64_t i
    cdef folio_idx_t q
    if f.flags & FOLIO_ORDER_MASK:
        # a large file folio: every PTE of every page (page_vma_mapped_walk())
        for i in range(folio_nr_pages(m, pfn)):
            q = folio_page(m, pfn, i)
            v = m.file_first_vma[f.mapping] if f.mapping < <uint32_t>m.nr_files else -1
            vpn = file_vma_vpn(f.mapping, f.index + <uint64_t>i)
            while v >= 0 and m.folios[q].mapcount:
                vm = &m.vmas[v]
                v = vm.next_of_file
                pte = pte_lookup(m, vm.mm, vpn)
                if pte == NULL or not (pte[0] & PTE_PRESENT) or <folio_idx_t>(pte[0] & PTE_PFN_MASK) != q:
                    continue
                _unmap_pte(m, q, pte, vm.mm, 0, NR_MAPPED, pfn)
        return
    if f.flags & PG_anon:
        pte = pte_lookup(m, f.mapping, f.index)
        if pte != NULL and (pte[0] & PTE_PRESENT) and <folio_idx_t>(pte[0] & PTE_PFN_MASK) == pfn:
            _unmap_pte(m, pfn, pte, f.mapping, PTE_SWAP | <uint32_t>(f.swap - 1), NR_ANON_PAGES, pfn)
        return
    if f.mapping >= <uint32_t>m.nr_files:
        return
    v = m.file_first_vma[f.mapping]
    vpn = file_vma_vpn(f.mapping, f.index)
    while v >= 0 and f.mapcount:
        vm = &m.vmas[v]
        v = vm.next_of_file
        pte = pte_lookup(m, vm.mm, vpn)
        if pte == NULL or not (pte[0] & PTE_PRESENT) or <folio_idx_t>(pte[0] & PTE_PFN_MASK) != pfn:
            continue
        _unmap_pte(m, pfn, pte, vm.mm, 0, NR_MAPPED, pfn)

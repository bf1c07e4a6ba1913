# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# PluginPolicy: the shared reclaim loop of plug-in policies, and PythonPolicy,
# the adapter that runs a plain-Python policy behind it. See plugin.pxd for the
# layout and docs/policies.md for how to write a policy.
#
# The loop is shrink_node() reduced to what every policy shares: a pass splits
# its scan budget between anon and file by swappiness, and each
# shrink_node_step() runs one scan batch -- the policy picks <= 32 folios
# (isolate_folios), shrink_folio_list() decides each one with the policy's
# folio_check_references(), survivors are put back and the policy hears every
# outcome. The two kernel policies keep their own loops (their pass shapes are
# what they teach); everything below shrink_folio_list() is the same code.

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from engine._types cimport *
from engine.core cimport *
from engine.policy cimport *

cdef enum:
    PHASE_IDLE = 0
    PHASE_LOOP = 1

cdef extern from *:
    """
    #define RL_PLUGIN_EVICTION_MASK ((1ULL << 61) - 1)
    """
    const uint64_t EVICTION_MASK "RL_PLUGIN_EVICTION_MASK"

OUTCOMES = ("reclaimed", "kept", "activated", "rotated", "written back")
_LRU_NAMES = ("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE", "LRU_UNEVICTABLE")


class PolicyHookError(RuntimeError):
    """A plug-in policy's hook raised or returned garbage; names the policy and the hook."""

    def __init__(self, policy, hook, message):
        super().__init__(f"policy {policy!r}, hook {hook}(): {message}")
        self.policy = policy
        self.hook = hook


cdef class PluginPolicy(ReclaimPolicy):
    """Base of the plug-in policies: owns the scan-batch loop; see plugin.pxd."""

    def __cinit__(self):
        self.lru_gen_enabled = False

    # --- LRU membership: the list the flags select (like the classic policy) ------

    cdef void lruvec_add_folio(self, folio_idx_t pfn, bint tail) noexcept nogil:
        node_lru_add(self.m, pfn, tail)

    cdef void lruvec_del_folio(self, folio_idx_t pfn) noexcept nogil:
        node_lru_del(self.m, pfn)

    # --- accesses ----------------------------------------------------------------

    cdef void folio_mark_accessed(self, folio_idx_t pfn) noexcept nogil:
        """fd access: PG_referenced, the bit second-chance policies test (the
        classic folio_mark_accessed() without its activation)."""
        cdef mem* m = self.m
        cdef int src
        if not folio_test(m, pfn, PG_referenced):
            folio_set(m, pfn, PG_referenced)
            if m.events_on:
                src = folio_lru_list(m, pfn) if folio_test(m, pfn, PG_lru) else LOC_ISOLATED
                emit(m, EV_MARK_ACCESSED, R_ACCESSED_FIRST, FN_FOLIO_MARK_ACCESSED, pfn, src, src, -1, -1)

    cdef void folio_activate(self, folio_idx_t pfn) noexcept nogil:
        pass    # only the classic folio_mark_accessed() calls lru_activate()

    # --- decision points (defaults) ---------------------------------------------

    cdef int folio_check_references(self, folio_idx_t pfn, scan_control* sc) noexcept nogil:
        """Second chance: a young PTE or PG_referenced (both cleared) keeps the folio,
        otherwise it is reclaimed; VM_LOCKED activates (it becomes unevictable)."""
        cdef mem* m = self.m
        cdef uint32_t vm_flags = 0
        cdef int referenced_ptes = self.folio_referenced(pfn, &vm_flags, sc)
        cdef bint referenced_folio
        if vm_flags & VM_LOCKED:
            folio_set_decision(m, pfn, 0, R_FOLIOREF_ACTIVATE_LOCKED)
            return FOLIOREF_ACTIVATE
        referenced_folio = folio_test_clear(m, pfn, PG_referenced)
        if referenced_ptes > 0 or referenced_folio:
            folio_set_decision(m, pfn, 0, R_FOLIOREF_KEEP)
            return FOLIOREF_KEEP
        folio_set_decision(m, pfn, 0, R_FOLIOREF_RECLAIM)
        return FOLIOREF_RECLAIM

    cdef int64_t isolate_folios(self, scan_control* sc, int t, int64_t nr_to_scan,
                                folio_idx_t dst) noexcept nogil:
        """Default: FIFO from the tail of the type's inactive list, then its active list;
        a mapped folio under !may_unmap goes back to the head (isolate_lru_folios()).
        nr_to_scan, what is scanned and what is taken are pages, as there."""
        cdef mem* m = self.m
        cdef folio_idx_t head, pfn
        cdef int64_t scan = 0, taken = 0
        cdef int lru
        for lru in range(2 * t, 2 * t + 2):
            head = m.nr_frames + HEAD_LRU + lru
            while scan < nr_to_scan and not list_empty(m, head):
                pfn = m.folios[head].prev
                scan += folio_nr_pages(m, pfn)
                if not sc.may_unmap and folio_mapped(m, pfn):
                    list_move(m, pfn, head)
                    continue
                if self.isolate_folio(pfn, dst):
                    taken += folio_nr_pages(m, pfn)
        return taken

    cdef void putback_folio(self, folio_idx_t pfn, int outcome) noexcept nogil:
        self.lru_add(pfn, False)

    cdef bint refault_activate(self, folio_idx_t pfn, bint workingset) noexcept nogil:
        return False

    cdef void folio_evicted(self, folio_idx_t pfn) noexcept nogil:
        pass

    cdef void look_around(self, uint32_t mm, uint64_t vpn, scan_control* sc) noexcept nogil:
        pass    # MGLRU only

    cdef int age_node(self, scan_control* sc) noexcept nogil:
        return STEP_DONE    # no background aging: kswapd goes straight to shrinking

    cdef void snapshot_refaults(self) noexcept nogil:
        self.m.lv.refaults[0] = self.m.vmstat[<int>WORKINGSET_ACTIVATE_ANON]
        self.m.lv.refaults[1] = self.m.vmstat[<int>WORKINGSET_ACTIVATE_FILE]

    # --- the loop ----------------------------------------------------------------

    cdef void shrink_node_begin(self, scan_control* sc) noexcept nogil:
        """The start of shrink_node(): each type's budget is its evictable size >> priority,
        weighted by swappiness (anon x swappiness/100, file x (200 - swappiness)/100) and
        capped at its size; anon only if it can be reclaimed (swap space, may_swap).
        Simplified: a fixed ratio instead of get_scan_count()'s cost model."""
        cdef mem* m = self.m
        cdef int swappiness = sc.swappiness if sc.swappiness >= 0 else m.swappiness
        cdef int64_t anon = m.vmstat[<int>NR_INACTIVE_ANON] + m.vmstat[<int>NR_ACTIVE_ANON]
        cdef int64_t file = m.vmstat[<int>NR_INACTIVE_FILE] + m.vmstat[<int>NR_ACTIVE_FILE]
        cdef int64_t wa = min(swappiness, 200)
        cdef int64_t wf = 0 if swappiness > 200 else 200 - wa
        shrink_node_reset_counts(sc)
        sc.nr_reclaimed_pass = 0
        sc.nr[0] = 0
        if sc.may_swap and m.nr_swap_free > 0:
            sc.nr[0] = min(anon, ((anon >> sc.priority) * wa) // 100)
        sc.nr[2] = min(file, ((file >> sc.priority) * wf) // 100)
        sc.targets[0] = sc.nr[0]
        sc.targets[2] = sc.nr[2]
        sc.cursor = 0
        sc.phase = PHASE_LOOP

    cdef int shrink_node_step(self, scan_control* sc) noexcept nogil:
        """One scan batch of the pass: the types take turns, <= 32 folios per batch,
        until nr_to_reclaim is met or both budgets are spent."""
        cdef int t, lru
        cdef int64_t n, taken
        while sc.phase == PHASE_LOOP:
            if sc.nr_reclaimed_pass >= sc.nr_to_reclaim or (sc.nr[0] <= 0 and sc.nr[2] <= 0) or self.failed:
                sc.nr_reclaimed += sc.nr_reclaimed_pass
                sc.phase = PHASE_IDLE
                self.shrink_node_end(sc)
                return STEP_DONE
            t = sc.cursor
            sc.cursor ^= 1
            lru = 2 * t
            if sc.nr[lru] <= 0:
                continue
            n = min(sc.nr[lru], <int64_t>SWAP_CLUSTER_MAX)
            sc.nr[lru] -= n
            taken = self.scan_batch(sc, t, n)
            if taken <= 0:
                sc.nr[lru] = 0        # nothing to take: this type is done for the pass
                continue
            if sc.nr_reclaimed_pass >= sc.nr_to_reclaim or (sc.nr[0] <= 0 and sc.nr[2] <= 0):
                sc.nr_reclaimed += sc.nr_reclaimed_pass
                sc.phase = PHASE_IDLE
                self.shrink_node_end(sc)
                return STEP_BATCH_LAST
            return STEP_BATCH
        return STEP_DONE

    cdef void shrink_node_end(self, scan_control* sc) noexcept nogil:
        # shrink_node() after the lruvec: kswapd's node flags, as the classic policy
        cdef mem* m = self.m
        if sc.reclaimer == RECLAIMER_KSWAPD:
            if sc.nr_writeback and sc.nr_writeback == sc.nr_taken_total:
                m.lv.flags |= PGDAT_WRITEBACK
            if sc.nr_unqueued_dirty and sc.nr_unqueued_dirty == sc.nr_file_taken:
                m.lv.flags |= PGDAT_DIRTY

    cdef bint isolate_folio(self, folio_idx_t pfn, folio_idx_t dst) noexcept nogil:
        """Take one folio off its list onto dst (PG_lru cleared, nr_isolated_*, by its
        pages); False if it is not on an evictable list (free, isolated already,
        unevictable, a tail page)."""
        cdef mem* m = self.m
        cdef uint32_t fl = m.folios[pfn].flags
        cdef int src, t
        cdef int64_t nr = folio_nr_pages(m, pfn)
        if not (fl & PG_lru) or (fl & PG_unevictable):
            return False
        src = folio_lru_list(m, pfn)
        list_del(m, pfn)
        m.vmstat[NR_INACTIVE_ANON + src] -= nr
        if pfn < m.nr_dma:
            m.nr_lru_dma[src] -= nr
        folio_clear(m, pfn, PG_lru)
        list_add(m, pfn, dst)
        t = folio_type(m, pfn)
        self.nr_taken_type[t] += nr
        m.vmstat[NR_ISOLATED_ANON + t] += nr
        emit(m, EV_ISOLATE, R_NONE, FN_ISOLATE_LRU_FOLIOS, pfn, src, LOC_ISOLATED, -1, -1)
        return True

    cdef int64_t scan_batch(self, scan_control* sc, int t, int64_t nr_to_scan) noexcept nogil:
        """shrink_inactive_list() for a policy's picks: isolate, shrink_folio_list(),
        putback, the counters. Returns the number of pages taken."""
        cdef mem* m = self.m
        cdef folio_idx_t folio_list = m.nr_frames + HEAD_PRIVATE
        cdef folio_idx_t ret_list = m.nr_frames + HEAD_PRIVATE + 1
        cdef int64_t nr_taken, nr_reclaimed
        cdef reclaim_stat stat
        cdef int k
        self.nr_taken_type[0] = 0
        self.nr_taken_type[1] = 0
        self.nr_reclaimed_type[0] = 0
        self.nr_reclaimed_type[1] = 0
        nr_taken = self.isolate_folios(sc, t, nr_to_scan, folio_list)
        if self.failed:
            self.putback_list(folio_list)
            return 0
        if nr_taken == 0:
            return 0
        # a policy's pick is its scan: what it looked at and took
        if sc.reclaimer == RECLAIMER_KSWAPD:
            m.vmstat[<int>PGSCAN_KSWAPD] += nr_taken
        else:
            m.vmstat[<int>PGSCAN_DIRECT] += nr_taken
        for k in range(2):
            m.vmstat[PGSCAN_ANON + k] += self.nr_taken_type[k]
        sc.nr_scanned_pass += nr_taken
        nr_reclaimed = self.shrink_folio_list(folio_list, ret_list, sc, &stat)
        self.move_folios_to_lru(ret_list)
        for k in range(2):
            m.vmstat[NR_ISOLATED_ANON + k] -= self.nr_taken_type[k]
            m.vmstat[PGSTEAL_ANON + k] += self.nr_reclaimed_type[k]
        if sc.reclaimer == RECLAIMER_KSWAPD:
            m.vmstat[<int>PGSTEAL_KSWAPD] += nr_reclaimed
        else:
            m.vmstat[<int>PGSTEAL_DIRECT] += nr_reclaimed
        sc.nr_reclaimed_pass += nr_reclaimed
        # every taken folio dirty and not queued for I/O: kick the flushers
        if stat.nr_unqueued_dirty == nr_taken:
            wakeup_flusher_threads(m)
        sc.nr_dirty += stat.nr_dirty
        sc.nr_congested += stat.nr_congested
        sc.nr_unqueued_dirty += stat.nr_unqueued_dirty
        sc.nr_writeback += stat.nr_writeback
        sc.nr_immediate += stat.nr_immediate
        sc.nr_taken_total += nr_taken
        sc.nr_file_taken += self.nr_taken_type[1]
        emit_arg(m, EV_SHRINK_INACTIVE, R_NONE, FN_SHRINK_INACTIVE_LIST, <uint32_t>(2 * t),
                 <uint64_t>nr_taken | (<uint64_t>nr_reclaimed << 32))
        return nr_taken

    cdef void putback_list(self, folio_idx_t list_head) noexcept nogil:
        cdef mem* m = self.m
        cdef folio_idx_t pfn
        cdef int t
        while not list_empty(m, list_head):
            pfn = m.folios[list_head].prev
            list_del(m, pfn)
            t = folio_type(m, pfn)
            m.vmstat[NR_ISOLATED_ANON + t] -= folio_nr_pages(m, pfn)
            self.nr_taken_type[t] -= folio_nr_pages(m, pfn)
            self.lru_add(pfn, False)

    cdef void putback_decided(self, folio_idx_t pfn, int kind, int reason) noexcept nogil:
        """move_folios_to_lru() with the outcome told to the policy: the same order
        and events as policy.pyx's, but putback_folio() decides where each goes."""
        cdef int outcome
        if kind == EV_PGACTIVATE:
            outcome = OUT_ACTIVATED
        elif folio_test(self.m, pfn, PG_writeback) or reason == R_DIRTY_IMMEDIATE:
            outcome = OUT_WRITEBACK
        else:
            outcome = OUT_KEPT
        self.putback_folio(pfn, outcome)

    # --- workingset: the classic nonresident clock ----------------------------------

    cdef int64_t refault_window(self, bint file) noexcept nogil:
        # every evictable folio that could have been reclaimed in between: the
        # file lists, plus anon when there is swap (workingset_test_recent()'s idea
        # with the policy's lists instead of the active list)
        cdef mem* m = self.m
        cdef int64_t size = m.vmstat[<int>NR_INACTIVE_FILE] + m.vmstat[<int>NR_ACTIVE_FILE]
        if m.nr_swap_free > 0:
            size += m.vmstat[<int>NR_INACTIVE_ANON] + m.vmstat[<int>NR_ACTIVE_ANON]
        return size

    cdef uint64_t workingset_eviction(self, folio_idx_t pfn) noexcept nogil:
        """The classic shadow: eviction = nonresident_age (read before it advances) << 1
        | PG_workingset."""
        cdef mem* m = self.m
        cdef uint64_t eviction = <uint64_t>m.lv.nonresident_age & EVICTION_MASK
        self.nr_reclaimed_type[folio_type(m, pfn)] += folio_nr_pages(m, pfn)
        self.folio_evicted(pfn)
        m.lv.nonresident_age += folio_nr_pages(m, pfn)
        return (eviction << 1) | (1 if folio_test(m, pfn, PG_workingset) else 0)

    cdef void workingset_refault(self, folio_idx_t pfn, uint64_t shadow, bint in_fault) noexcept nogil:
        """workingset_refault(): the refault distance against refault_window(); a recent
        refault is activated only if the policy's refault_activate() says so."""
        cdef mem* m = self.m
        cdef bint file = folio_is_file_lru(m, pfn)
        cdef uint64_t eviction = (shadow & ENTRY_MASK) >> 1
        cdef bint workingset = (shadow & 1) != 0
        cdef uint64_t distance = (<uint64_t>m.lv.nonresident_age - eviction) & EVICTION_MASK
        cdef int64_t size = self.refault_window(file)
        cdef int src = LOC_SWAP if not file else LOC_PAGECACHE_SHADOW
        cdef int64_t nr = folio_nr_pages(m, pfn)
        m.vmstat[WORKINGSET_REFAULT_ANON + file] += nr
        if distance > <uint64_t>size:
            emit(m, EV_WORKINGSET_REFAULT, R_REFAULT_NOT_RECENT, FN_WORKINGSET_REFAULT, pfn,
                 src, LOC_NONE, <int64_t>distance, size)
            return
        emit(m, EV_WORKINGSET_REFAULT, R_REFAULT_RECENT, FN_WORKINGSET_REFAULT, pfn,
             src, LOC_NONE, <int64_t>distance, size)
        if workingset:
            folio_set(m, pfn, PG_workingset)
        if self.refault_activate(pfn, workingset):
            folio_set(m, pfn, PG_active)
            m.lv.nonresident_age += nr
            m.vmstat[WORKINGSET_ACTIVATE_ANON + file] += nr
            emit(m, EV_WORKINGSET_ACTIVATE, R_REFAULT_RECENT, FN_WORKINGSET_REFAULT, pfn,
                 LOC_NONE, LOC_NONE, -1, -1)

    # --- Python side ------------------------------------------------------------------

    cpdef dict snapshot(self):
        cdef mem* m = self.m
        return {"nonresident_age": m.lv.nonresident_age,
                "nr_pages": {name: m.vmstat[NR_INACTIVE_ANON + i] for i, name in enumerate(_LRU_NAMES)}}

    cpdef bytes state_bytes(self):
        # a Cython plug-in keeps its state in mem (lists, flags, lruvec); a policy
        # with private fields overrides this and load_state()
        return b""

    cpdef load_state(self, bytes data):
        if data:
            raise ValueError(f"{type(self).__name__} has no private state")

    cpdef list check_invariants(self):
        cdef mem* m = self.m
        cdef list errs = []
        cdef int lru
        cdef int64_t n
        cdef folio_idx_t head, pfn
        for lru in range(NR_LRU_LISTS):
            head = m.nr_frames + HEAD_LRU + lru
            n = 0
            pfn = m.folios[head].next
            while pfn != head and n <= m.nr_frames:
                if folio_lru_gen(m, pfn) >= 0:
                    errs.append(f"pfn {pfn} has a gen field under a plug-in policy")
                if m.folios[pfn].flags & PG_tail:
                    errs.append(f"tail page {pfn} on list {_LRU_NAMES[lru]}")
                n += folio_nr_pages(m, pfn)
                pfn = m.folios[pfn].next
            if n != m.vmstat[NR_INACTIVE_ANON + lru]:
                errs.append(f"list {_LRU_NAMES[lru]} holds folios of {n} pages, vmstat says {m.vmstat[NR_INACTIVE_ANON + lru]}")
        for lru in list(range(HEAD_GEN, HEAD_PRIVATE)) + list(range(HEAD_GEN_DMA, NR_LIST_HEADS)):
            if not list_empty(m, m.nr_frames + lru):
                errs.append(f"generation list head {lru} is not empty under a plug-in policy")
        return errs

    def lists_view(self):
        """None: the view is the classic lists in engine order (Simulator.lists())."""
        return None


# --------------------------------------------------------------------------------------
# PythonPolicy: a plain-Python policy (engine.policy_api.Policy) behind PluginPolicy.
# Every hook takes the GIL; whatever it raises or returns wrong ends the step with a
# PolicyHookError naming the policy and the hook (Simulator raises hook_error), and
# from then on the policy is not called again: the engine finishes the step safely.

cdef inline bint _is_pfn(object v):
    return isinstance(v, int) and not isinstance(v, bool)


cdef class PythonPolicy(PluginPolicy):
    """Adapter: a plain-Python policy object behind the Cython hooks."""

    def __init__(self, impl_cls, key):
        self.impl_cls = impl_cls
        self.impl = None
        self.key = key
        self.has_active = bool(getattr(impl_cls, "active_lists", False))
        self.has_check = getattr(impl_cls, "check_references", None) not in (None, _base_check())
        self.quiet = False
        self.refault_pfn = -1

    cdef int attach(self, mem* m, dict config) except -1:
        # the policy object is made here: its knobs are config[key] (validated)
        self.m = m
        knobs = (config or {}).get(self.key) or {}
        try:
            self.impl = self.impl_cls(dict(knobs))
        except BaseException as e:
            raise PolicyHookError(self.key, "__init__", f"{type(e).__name__}: {e}") from e
        self.impl.nr_frames = m.nr_frames
        self.impl.folio_nr_pages = self.folio_nr_pages
        return 0

    def folio_nr_pages(self, pfn):
        """folio_nr_pages() of the folio a pfn the policy holds names (1, or a 7.3
        large page-cache folio's 2..32)."""
        if not _is_pfn(pfn) or not 0 <= pfn < self.m.nr_frames:
            raise ValueError(f"{pfn!r} is not a pfn (0..{self.m.nr_frames - 1})")
        return int(folio_nr_pages(self.m, pfn))

    cdef object _call(self, str hook, object fn, tuple args):
        # every hook goes through here (GIL held): the watchdog interrupts one
        # that runs longer than the hook timeout
        _WATCHDOG.enter(self.key, hook)
        try:
            return fn(*args)
        finally:
            _WATCHDOG.leave()

    cdef void fail(self, str hook, object exc) noexcept:
        if self.failed:
            return
        self.failed = True
        msg = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        self.hook_error = PolicyHookError(self.key, hook, msg)

    # --- membership ---------------------------------------------------------------

    cdef void lruvec_add_folio(self, folio_idx_t pfn, bint tail) noexcept nogil:
        cdef bint active = False
        cdef bint is_new = not self.quiet and not self.failed and not folio_test(self.m, pfn, PG_unevictable)
        if is_new:
            with gil:
                try:
                    refault = None
                    if self.refault_pfn == pfn:
                        refault = {"distance": self.refault_distance, "recent": bool(self.refault_recent),
                                   "workingset": bool(self.refault_workingset)}
                    r = self._call("folio_added", self.impl.folio_added, (pfn, bool(folio_is_file_lru(self.m, pfn)), refault))
                    active = bool(r) and self.has_active
                except BaseException as e:
                    self.fail("folio_added", e)
            if active and not folio_test(self.m, pfn, PG_unevictable):
                folio_set(self.m, pfn, PG_active)
                if self.refault_pfn == pfn:
                    # a recent refault the policy activated: workingset_activate
                    self.m.lv.nonresident_age += folio_nr_pages(self.m, pfn)
                    self.m.vmstat[WORKINGSET_ACTIVATE_ANON + folio_is_file_lru(self.m, pfn)] += \
                        folio_nr_pages(self.m, pfn)
                    emit(self.m, EV_WORKINGSET_ACTIVATE, R_REFAULT_RECENT, FN_WORKINGSET_REFAULT, pfn,
                         LOC_NONE, LOC_NONE, -1, -1)
            self.refault_pfn = -1
        if not self.has_active:
            folio_clear(self.m, pfn, PG_active)
        PluginPolicy.lruvec_add_folio(self, pfn, tail)

    cdef void lruvec_del_folio(self, folio_idx_t pfn) noexcept nogil:
        cdef bint theirs = not folio_test(self.m, pfn, PG_unevictable)
        PluginPolicy.lruvec_del_folio(self, pfn)
        if theirs and not self.quiet and not self.failed:
            with gil:
                try:
                    self._call("folio_removed", self.impl.folio_removed, (pfn,))
                except BaseException as e:
                    self.fail("folio_removed", e)

    cdef void folio_mark_accessed(self, folio_idx_t pfn) noexcept nogil:
        PluginPolicy.folio_mark_accessed(self, pfn)
        if not self.failed:
            with gil:
                try:
                    self._call("folio_accessed", self.impl.folio_accessed, (pfn,))
                except BaseException as e:
                    self.fail("folio_accessed", e)

    # --- reclaim ----------------------------------------------------------------------

    cdef int64_t isolate_folios(self, scan_control* sc, int t, int64_t nr_to_scan,
                                folio_idx_t dst) noexcept nogil:
        cdef int64_t taken = 0
        cdef folio_idx_t pfn
        if self.failed:
            return 0
        with gil:
            try:
                picks = self._call("isolate", self.impl.isolate, (int(nr_to_scan), bool(t)))
                if picks is None:
                    picks = ()
                if not isinstance(picks, (list, tuple)):
                    raise TypeError(f"must return a list of pfns, got {type(picks).__name__}")
                if len(picks) > nr_to_scan:
                    raise ValueError(f"returned {len(picks)} candidates, at most {nr_to_scan} were asked for")
                for v in picks:
                    if not _is_pfn(v) or not 0 <= v < self.m.nr_frames:
                        raise ValueError(f"{v!r} is not a pfn (0..{self.m.nr_frames - 1})")
                    pfn = v
                    if not sc.may_unmap and folio_mapped(self.m, pfn):
                        continue
                    if not self.isolate_folio(pfn, dst):
                        raise ValueError(f"pfn {v} is not on the policy's lists "
                                         f"(free, unevictable, or picked twice)")
                    taken += folio_nr_pages(self.m, pfn)
            except BaseException as e:
                self.fail("isolate", e)
        return taken

    cdef int folio_check_references(self, folio_idx_t pfn, scan_control* sc) noexcept nogil:
        cdef uint32_t vm_flags = 0
        cdef int referenced_ptes
        cdef bint referenced_folio
        cdef int r = -1
        if not self.has_check or self.failed:
            return PluginPolicy.folio_check_references(self, pfn, sc)
        referenced_ptes = self.folio_referenced(pfn, &vm_flags, sc)
        if vm_flags & VM_LOCKED:
            folio_set_decision(self.m, pfn, 0, R_FOLIOREF_ACTIVATE_LOCKED)
            return FOLIOREF_ACTIVATE
        referenced_folio = folio_test_clear(self.m, pfn, PG_referenced)
        with gil:
            try:
                v = self._call("check_references", self.impl.check_references, (pfn, int(referenced_ptes), bool(referenced_folio)))
                if v not in ("reclaim", "keep", "activate"):
                    raise ValueError(f"must return 'reclaim', 'keep' or 'activate', got {v!r}")
                r = ("reclaim", "keep", "activate").index(v)
            except BaseException as e:
                self.fail("check_references", e)
        if r == 2:
            folio_set_decision(self.m, pfn, 0, R_FOLIOREF_ACTIVATE_TWICE)
            return FOLIOREF_ACTIVATE
        if r == 0:
            folio_set_decision(self.m, pfn, 0, R_FOLIOREF_RECLAIM)
            return FOLIOREF_RECLAIM
        folio_set_decision(self.m, pfn, 0, R_FOLIOREF_KEEP)
        return FOLIOREF_KEEP

    cdef void putback_folio(self, folio_idx_t pfn, int outcome) noexcept nogil:
        self.quiet = True
        self.lru_add(pfn, False)
        self.quiet = False
        if not folio_test(self.m, pfn, PG_unevictable):
            self.tell(pfn, outcome)
        elif not self.failed:
            # culled to the unevictable list (mlocked): off the policy's lists
            with gil:
                try:
                    self._call("folio_removed", self.impl.folio_removed, (pfn,))
                except BaseException as e:
                    self.fail("folio_removed", e)

    cdef void tell(self, folio_idx_t pfn, int outcome) noexcept nogil:
        if self.failed:
            return
        with gil:
            try:
                self._call("outcome", self.impl.outcome, (pfn, OUTCOMES[outcome]))
            except BaseException as e:
                self.fail("outcome", e)

    cdef void folio_evicted(self, folio_idx_t pfn) noexcept nogil:
        self.tell(pfn, OUT_RECLAIMED)

    cdef void folio_rotate_reclaimable(self, folio_idx_t pfn) noexcept nogil:
        cdef uint32_t fl = self.m.folios[pfn].flags
        if (fl & (PG_locked | PG_dirty | PG_unevictable)) or not (fl & PG_lru):
            return
        self.quiet = True
        PluginPolicy.folio_rotate_reclaimable(self, pfn)
        self.quiet = False
        self.tell(pfn, OUT_ROTATED)

    cdef void workingset_refault(self, folio_idx_t pfn, uint64_t shadow, bint in_fault) noexcept nogil:
        # remember what the refault found for folio_added(), which follows
        cdef mem* m = self.m
        cdef uint64_t eviction = (shadow & ENTRY_MASK) >> 1
        cdef uint64_t distance = (<uint64_t>m.lv.nonresident_age - eviction) & EVICTION_MASK
        self.refault_pfn = pfn
        self.refault_distance = <int64_t>distance
        self.refault_recent = distance <= <uint64_t>self.refault_window(folio_is_file_lru(m, pfn))
        self.refault_workingset = (shadow & 1) != 0
        PluginPolicy.workingset_refault(self, pfn, shadow, in_fault)

    # --- Python side ------------------------------------------------------------------

    cpdef dict snapshot(self):
        out = PluginPolicy.snapshot(self)
        out["policy"] = self.key
        return out

    cpdef bytes state_bytes(self):
        import pickle
        try:
            if hasattr(self.impl, "state_bytes"):
                data = self.impl.state_bytes()
                if not isinstance(data, bytes):
                    raise TypeError("must return bytes")
                return data
            # Plain containers pickle deterministically (dicts keep order), but the
            # memo follows object identity (an attribute name shared with a dict
            # key): one round trip gives the fixed point, so an image re-saved
            # after load_state() is byte-identical.
            data = pickle.dumps({k: v for k, v in vars(self.impl).items()
                                 if k not in ("nr_frames", "folio_nr_pages")}, protocol=4)
            return pickle.dumps(pickle.loads(data), protocol=4)
        except BaseException as e:
            raise PolicyHookError(self.key, "state_bytes", f"{type(e).__name__}: {e}") from e

    cpdef load_state(self, bytes data):
        import pickle
        try:
            if hasattr(self.impl, "load_state"):
                self.impl.load_state(data)
            else:
                # only ever our own state_bytes() of this process (checkpoints are
                # in memory; the store keeps recipes and command logs, never state)
                # replace the attribute dict whole: update() would keep the old key
                # objects and so change what the next state_bytes() memoizes
                d = vars(self.impl)
                nr_frames = d.get("nr_frames")
                d.clear()
                d.update(pickle.loads(data))
                d["nr_frames"] = nr_frames
                d["folio_nr_pages"] = self.folio_nr_pages
        except BaseException as e:
            raise PolicyHookError(self.key, "load_state", f"{type(e).__name__}: {e}") from e
        self.failed = False
        self.hook_error = None
        self.refault_pfn = -1

    cpdef list check_invariants(self):
        cdef list errs = PluginPolicy.check_invariants(self)
        view = self._policy_lists("check_invariants")
        if view is None:
            return errs + [str(self.hook_error)]
        engine_sets = {}
        for lru, name in enumerate(_LRU_NAMES[:4]):
            engine_sets[name] = set(self._engine_list(lru))
        theirs = {name: view.get(name, []) for name in _LRU_NAMES[:4]}
        for name in _LRU_NAMES[:4]:
            got = theirs[name]
            if len(set(got)) != len(got):
                errs.append(f"policy {self.key!r}: a pfn is twice on its list {name}")
            if set(got) != engine_sets[name]:
                lost = engine_sets[name] - set(got)
                extra = set(got) - engine_sets[name]
                errs.append(f"policy {self.key!r}: list {name} differs from the engine's "
                            f"(missing {sorted(lost)[:5]}, not resident there {sorted(extra)[:5]})")
        try:
            errs.extend(self.impl.check_invariants())
        except BaseException as e:
            errs.append(f"policy {self.key!r}: check_invariants() raised {type(e).__name__}: {e}")
        return errs

    cdef list _engine_list(self, int lru):
        cdef mem* m = self.m
        cdef folio_idx_t head = m.nr_frames + HEAD_LRU + lru
        cdef folio_idx_t p = m.folios[head].next
        out = []
        while p != head and len(out) <= m.nr_frames:
            out.append(p)
            p = m.folios[p].next
        return out

    def _policy_lists(self, hook):
        try:
            view = self._call("lists", self.impl.lists, ())
            if not isinstance(view, dict):
                raise TypeError(f"must return a dict, got {type(view).__name__}")
            for name, pfns in view.items():
                if name not in _LRU_NAMES[:4]:
                    raise ValueError(f"unknown list {name!r}; lists are named {_LRU_NAMES[:4]}")
                if not all(_is_pfn(v) for v in pfns):
                    raise TypeError(f"list {name} holds something that is not a pfn")
            return view
        except BaseException as e:
            self.fail("lists", e)
            return None

    def lists_view(self):
        """The policy's own order of each list (head first), for the views."""
        import numpy as np
        view = self._policy_lists("lists")
        if view is None:
            raise self.hook_error
        return {name: np.asarray(view.get(name, []), dtype=np.int32) for name in _LRU_NAMES[:4]}


class PolicyHookTimeout(BaseException):
    """Raised inside a hook that ran longer than the hook timeout (asynchronously,
    by the watchdog thread); a BaseException so a hook's own `except Exception`
    cannot swallow it."""

    def __str__(self):
        return (f"took longer than {_WATCHDOG.limit:g} s (a hook spinning in Python is "
                f"interrupted; RECLAIMLAB_POLICY_HOOK_TIMEOUT sets the limit)")


class _Watchdog:
    """Interrupts a Python policy hook that runs too long, so a policy stuck in a
    loop ends its session's step with an error instead of hanging the session
    (and, with the engine's lock held, the server thread serving it). It raises
    PolicyHookTimeout in the hook's thread with PyThreadState_SetAsyncExc, which
    takes effect at the hook's next bytecode; a hook blocked inside a C call is
    interrupted only when that call returns."""

    def __init__(self):
        import os
        import threading
        self.lock = threading.Lock()
        self.busy = {}          # thread id -> [deadline, fired]
        self.thread = None
        self.limit = float(os.environ.get("RECLAIMLAB_POLICY_HOOK_TIMEOUT", "5"))

    def enter(self, key, hook):
        import threading
        import time
        tid = threading.get_ident()
        with self.lock:
            self.busy[tid] = [time.monotonic() + self.limit, False]
            if self.thread is None:
                self.thread = threading.Thread(target=self.run, name="policy-hook-watchdog", daemon=True)
                self.thread.start()

    def leave(self):
        import ctypes
        import threading
        tid = threading.get_ident()
        with self.lock:
            rec = self.busy.pop(tid, None)
            if rec is not None and rec[1]:
                # fired just as the hook returned: drop the exception still pending
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)

    def run(self):
        import ctypes
        import time
        while True:
            time.sleep(min(0.1, self.limit / 4))
            now = time.monotonic()
            with self.lock:
                for tid, rec in self.busy.items():
                    if not rec[1] and now > rec[0]:
                        rec[1] = True
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(tid), ctypes.py_object(PolicyHookTimeout))


_WATCHDOG = _Watchdog()


def set_hook_timeout(seconds):
    """The longest a Python policy hook may run (default 5 s, or
    $RECLAIMLAB_POLICY_HOOK_TIMEOUT); returns the previous limit."""
    old = _WATCHDOG.limit
    _WATCHDOG.limit = float(seconds)
    return old


def _base_check():
    from engine.policy_api import Policy
    return Policy.check_references

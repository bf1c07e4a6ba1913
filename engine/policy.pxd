# The reclaim-policy interface: the points where mm/vmscan.c, mm/swap.c,
# mm/workingset.c and include/linux/mm_inline.h branch on lru_gen_enabled().
# See policy.pyx for the shared reclaim code (shrink_folio_list, rmap,
# putback) and lru.pyx / lru_gen.pyx for the two policies.
#
# A subclass must implement every method marked "subclass". A policy never
# allocates frames and never loops over the workload: the simulator owns the
# loop, the priority loops of kswapd and direct reclaim, and the clock.
#
# Resumable reclaim: the kernel runs shrink_node() as nested loops; the
# simulator must be able to stop after any scan batch (the `scan` step unit),
# so a pass is split into shrink_node_begin() + repeated shrink_node_step().
# All loop state of a pass lives in the scan_control (never in the policy),
# because kswapd and a direct reclaimer may each be in the middle of a pass.

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from engine._types cimport *
from engine.core cimport mem, scan_control, reclaim_stat

# shrink_node_step() results
cdef enum:
    STEP_DONE = 0                # the pass is over (nothing was done in this call)
    STEP_BATCH = 1               # one scan batch ran (isolate + decide + putback); more may follow
    STEP_BATCH_LAST = 2          # one scan batch ran and the pass is over
    STEP_AGED = 3                # MGLRU: inc_max_seq ran (an aging step); more may follow
    STEP_OOM = 4                 # age_node(): invoke out_of_memory() (MGLRU lru_gen_age_node with min_ttl_ms); added by the lru_gen helper

# The start of shrink_node(): memset(&sc->nr, 0, sizeof(sc->nr)) and the
# reclaimed count the pass is measured from; both policies' shrink_node_begin()
cdef inline void shrink_node_reset_counts(scan_control* sc) noexcept nogil:
    sc.nr_dirty = 0
    sc.nr_unqueued_dirty = 0
    sc.nr_congested = 0
    sc.nr_writeback = 0
    sc.nr_immediate = 0
    sc.nr_taken_total = 0
    sc.nr_file_taken = 0
    sc.nr_scanned_pass = 0
    sc.nr_reclaimed_start = sc.nr_reclaimed

cdef class ReclaimPolicy:
    cdef mem* m                                  # the machine (owned by the Simulator)
    cdef readonly bint lru_gen_enabled           # the kernel's lru_gen_enabled()
    # A hook of a plug-in policy failed (a Python policy raised or returned
    # garbage): the simulator stops its loop and raises hook_error. Built-in
    # policies never set it.
    cdef readonly bint failed
    cdef public object hook_error

    # --- LRU membership (mm_inline.h: lruvec_add_folio / _tail / lruvec_del_folio) --- subclass
    cdef void lruvec_add_folio(self, folio_idx_t pfn, bint tail) noexcept nogil
    cdef void lruvec_del_folio(self, folio_idx_t pfn) noexcept nogil
    # --- accesses --- subclass
    cdef void folio_mark_accessed(self, folio_idx_t pfn) noexcept nogil     # fd access (read/write)
    cdef void folio_activate(self, folio_idx_t pfn) noexcept nogil         # lru_activate()
    # --- reclaim --- subclass
    cdef int folio_check_references(self, folio_idx_t pfn, scan_control* sc) noexcept nogil
    cdef int folio_check_references_classic(self, folio_idx_t pfn, scan_control* sc) noexcept nogil  # shared
    cdef void look_around(self, uint32_t mm, uint64_t vpn, scan_control* sc) noexcept nogil  # MGLRU: lru_gen_look_around(); classic: nothing
    cdef void shrink_node_begin(self, scan_control* sc) noexcept nogil
    cdef int shrink_node_step(self, scan_control* sc) noexcept nogil       # returns STEP_*
    cdef int age_node(self, scan_control* sc) noexcept nogil               # kswapd_age_node(); returns STEP_*
    cdef void snapshot_refaults(self) noexcept nogil
    # --- workingset --- subclass
    cdef uint64_t workingset_eviction(self, folio_idx_t pfn) noexcept nogil
    cdef void workingset_refault(self, folio_idx_t pfn, uint64_t shadow, bint in_fault) noexcept nogil

    # --- shared kernel code, implemented once in policy.pyx ---
    cdef int folio_referenced(self, folio_idx_t pfn, uint32_t* vm_flags, scan_control* sc) noexcept nogil
    cdef int clear_young_and_look_around(self, uint32_t* pte, uint32_t mm, uint64_t vpn,
                                         scan_control* sc) noexcept nogil
    cdef int folio_referenced_large(self, folio_idx_t pfn, uint32_t* vm_flags, scan_control* sc) noexcept nogil
    cdef int64_t shrink_folio_list(self, folio_idx_t folio_list, folio_idx_t ret_list,
                                   scan_control* sc, reclaim_stat* stat) noexcept nogil
    cdef int64_t move_folios_to_lru(self, folio_idx_t list_head) noexcept nogil   # nr_moved: folios put on an evictable list
    cdef void putback_decided(self, folio_idx_t pfn, int kind, int reason) noexcept nogil  # move_folios_to_lru's lru_add(); plug-ins tell their policy the outcome
    cdef void folio_rotate_reclaimable(self, folio_idx_t pfn) noexcept nogil
    cdef void lru_note_cost(self, bint file, int64_t nr_io, int64_t nr_rotated) noexcept nogil

    # --- added by the engine core ---
    cdef int attach(self, mem* m, dict config) except -1     # called once by the Simulator before any use; subclasses extend (call the base)
    cdef int folio_loc(self, folio_idx_t pfn, int64_t* seq) noexcept nogil  # where the folio is: lru_list, or LOC_GEN with *seq (MGLRU overrides)
    cdef int shrink_folio(self, folio_idx_t pfn, scan_control* sc, reclaim_stat* stat, int* reason) noexcept nogil  # one folio's rules
    cdef void remove_mapping(self, folio_idx_t pfn) noexcept nogil                # __remove_mapping + workingset_eviction + free
    cdef void lru_add(self, folio_idx_t pfn, bint tail) noexcept nogil     # mm/swap.c:lru_add(): evictability (PG_unevictable, culled), PG_lru, lruvec_add_folio

    # --- Python side ---
    cpdef dict snapshot(self)                    # JSON-ready view in the kernel's own shapes
    cpdef bytes state_bytes(self)                # policy-private state (not in mem); restore with load_state
    cpdef load_state(self, bytes data)
    cpdef list check_invariants(self)            # [] if fine, else messages
    # appended (second MGLRU review): kernel/fork.c -> lru_gen_add_mm(); classic: nothing
    cdef void lru_gen_add_mm(self, int32_t mm) noexcept nogil

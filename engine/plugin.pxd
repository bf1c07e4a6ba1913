# PluginPolicy: the base of plug-in policies (CLOCK, S3-FIFO, Python policies).
# See plugin.pyx. It owns the resumable shrink_node pass (batches of <= 32,
# shrink_folio_list(), putback, the counters); a policy supplies only the
# decision points marked "decision" below. The two kernel policies (lru.pyx,
# lru_gen.pyx) keep their own loops: those loops *are* the kernel code they
# imitate (shrink_lruvec(), try_to_shrink_lruvec()).
#
# Layout: a plug-in policy's folios live on the classic list heads
# (HEAD_LRU + lru_list), the list its flags select (type, PG_active), so the
# machine's gauges (nr_inactive_anon, ...), /proc/meminfo, the invariants and
# the browser's list view work unchanged. A policy names what the lists mean
# to it (PolicyInfo.lists: "clock ring", "small FIFO", "main FIFO").

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from engine._types cimport *
from engine.core cimport mem, scan_control, reclaim_stat
from engine.policy cimport ReclaimPolicy

# the outcome of a folio that reclaim isolated, as reported to the policy
cdef enum:
    OUT_RECLAIMED = 0            # freed (__remove_mapping); its shadow stays
    OUT_KEPT = 1                 # put back where its flags say (FOLIOREF_KEEP, !may_unmap, ...)
    OUT_ACTIVATED = 2            # put back with PG_active (pgactivate)
    OUT_ROTATED = 3              # writeback ended: folio_rotate_reclaimable() moved it to the tail
    OUT_WRITEBACK = 4            # put back under writeback (pageout() started, or it was already)

cdef class PluginPolicy(ReclaimPolicy):
    cdef int64_t nr_taken_type[2]          # the running batch: folios isolated per type (anon, file)
    cdef int64_t nr_reclaimed_type[2]      # the running batch: folios freed per type

    # --- decision points (override; the defaults make a per-type FIFO with second chance) ---
    cdef int64_t isolate_folios(self, scan_control* sc, int t, int64_t nr_to_scan,
                                folio_idx_t dst) noexcept nogil   # which folios reclaim takes; returns nr_taken
    cdef void putback_folio(self, folio_idx_t pfn, int outcome) noexcept nogil  # where a survivor goes (default lru_add at the head)
    cdef bint refault_activate(self, folio_idx_t pfn, bint workingset) noexcept nogil  # recent refault: PG_active? (default no)
    cdef void folio_evicted(self, folio_idx_t pfn) noexcept nogil   # reclaim freed it (before the shadow is stored)

    # --- shared by every plug-in policy ---
    cdef bint isolate_folio(self, folio_idx_t pfn, folio_idx_t dst) noexcept nogil  # False if not on an evictable list
    cdef int64_t scan_batch(self, scan_control* sc, int t, int64_t nr_to_scan) noexcept nogil
    cdef void putback_list(self, folio_idx_t list_head) noexcept nogil   # undo an isolation (a failed hook)
    cdef void shrink_node_end(self, scan_control* sc) noexcept nogil
    cdef int64_t refault_window(self, bint file) noexcept nogil     # what a refault distance is compared with


cdef class PythonPolicy(PluginPolicy):
    cdef readonly object impl_cls          # the engine.policy_api.Policy subclass
    cdef readonly object impl              # its instance, made by attach() with the knobs
    cdef readonly str key
    cdef bint has_active                   # the policy keeps active lists (PG_active survives putback)
    cdef bint has_check                    # it defines check_references()
    cdef bint quiet                        # the engine is moving a folio: no added/removed hooks
    cdef folio_idx_t refault_pfn           # the folio workingset_refault() just saw (-1: none)
    cdef int64_t refault_distance
    cdef bint refault_recent
    cdef bint refault_workingset
    cdef object _call(self, str hook, object fn, tuple args)             # a hook, under the watchdog
    cdef void fail(self, str hook, object exc) noexcept
    cdef void tell(self, folio_idx_t pfn, int outcome) noexcept nogil    # outcome() hook
    cdef list _engine_list(self, int lru)

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# CLOCK (second chance; Corbato 1968, the textbook replacement the kernel's
# PG_referenced test descends from) as a Cython plug-in policy. The whole
# policy is what differs from PluginPolicy's defaults: one ring per type (the
# inactive list; there is no active list), the hand at the tail. A folio
# with a young PTE or PG_referenced gets a second chance (the bit is
# cleared, it goes back to the head); otherwise it is reclaimed. The scan
# batches, shrink_folio_list(), putback and counters are PluginPolicy's.

from engine._types cimport *
from engine.core cimport *
from engine.plugin cimport PluginPolicy


cdef class ClockPolicy(PluginPolicy):
    """CLOCK (second chance), policy key "clock"."""

    cdef void lruvec_add_folio(self, folio_idx_t pfn, bint tail) noexcept nogil:
        # one ring per type: whatever shrink_folio_list() activated stays in the ring
        folio_clear(self.m, pfn, PG_active)
        PluginPolicy.lruvec_add_folio(self, pfn, tail)


from engine.registry import PolicyInfo  # noqa: E402

POLICY = PolicyInfo(
    key="clock", title="CLOCK (second chance)", factory=ClockPolicy,
    follows="Corbato 1968, 'A paging experiment with the Multics system'; the kernel's PG_referenced test",
    lists={"LRU_INACTIVE_ANON": "clock ring (anon)", "LRU_INACTIVE_FILE": "clock ring (file)"},
    source="engine/clock.pyx")

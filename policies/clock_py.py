"""CLOCK (second chance) in plain Python: the teaching example of docs/policies.md.

One ring per type, like the kernel's per-type lists. A new folio enters at
the head; reclaim's hand takes folios from the tail. The engine tests each
one (a young PTE or PG_referenced) and reports what happened: a referenced
folio was "kept" -- its bits are cleared and it goes back to the head (its
second chance) -- an unreferenced one was "reclaimed".
"""
from collections import OrderedDict

from engine.policy_api import Policy


class Clock(Policy):
    key = "clock_py"
    title = "CLOCK (second chance), Python"
    follows = "Corbato 1968; engine/clock.pyx is the same policy in Cython"
    list_names = {"LRU_INACTIVE_ANON": "clock ring (anon)", "LRU_INACTIVE_FILE": "clock ring (file)"}

    def __init__(self, knobs):
        super().__init__(knobs)
        # per type: pfn -> None, oldest first (the tail is where the hand is)
        self.ring = [OrderedDict(), OrderedDict()]
        self.file_of = {}

    def folio_added(self, pfn, file, refault):
        self.ring[file][pfn] = None
        self.file_of[pfn] = file

    def folio_removed(self, pfn):
        del self.ring[self.file_of.pop(pfn)][pfn]

    def isolate(self, nr, file):
        ring = self.ring[file]
        picks, pages = [], 0
        for pfn in ring:                        # oldest first
            if pages >= nr:                     # nr is pages; a 7.3 large folio counts all of its
                break
            picks.append(pfn)
            pages += self.folio_nr_pages(pfn)
        for pfn in picks:
            del ring[pfn]                       # isolated: off the ring until the outcome
        return picks

    def outcome(self, pfn, result):
        if result == "reclaimed":
            del self.file_of[pfn]
            return
        ring = self.ring[self.file_of[pfn]]
        ring.pop(pfn, None)                     # a rotated folio was still on the ring
        ring[pfn] = None                        # kept, activated, written back: the head
        if result == "rotated":                 # writeback ended: next in line for the hand
            ring.move_to_end(pfn, last=False)

    def lists(self):
        return {"LRU_INACTIVE_ANON": list(reversed(self.ring[0])),
                "LRU_INACTIVE_FILE": list(reversed(self.ring[1]))}

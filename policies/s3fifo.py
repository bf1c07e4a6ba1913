"""S3-FIFO (Yang et al., SOSP 2023): three FIFO queues, per type here.

S, a small FIFO (10 % of the folios), takes new folios; M, the main FIFO,
the ones that proved themselves; G, the ghost FIFO, remembers recently
evicted ones -- here the engine's shadow entries do that: a refault whose
shadow is recent ("refault.recent") goes straight to M.

Reclaim evicts from S while S holds more than its share, else from M. A
folio leaving S that was accessed (a young PTE or PG_referenced) moves to M
("activate"); one leaving M that was accessed is reinserted into M with its
bit cleared ("keep"); otherwise it is reclaimed. The paper's 2-bit frequency
is the engine's 1-bit referenced test.
"""
from collections import OrderedDict

from engine.policy_api import Knob, Policy


class S3Fifo(Policy):
    key = "s3fifo"
    title = "S3-FIFO"
    follows = "Yang et al., 'FIFO queues are all you need for cache eviction', SOSP 2023"
    knobs = {"small_percent": Knob("int", 10, "share of each type's folios the small FIFO S holds",
                                   min=1, max=90)}
    list_names = {"LRU_INACTIVE_ANON": "small FIFO S (anon)", "LRU_ACTIVE_ANON": "main FIFO M (anon)",
             "LRU_INACTIVE_FILE": "small FIFO S (file)", "LRU_ACTIVE_FILE": "main FIFO M (file)"}
    active_lists = True

    def __init__(self, knobs):
        super().__init__(knobs)
        self.small_percent = self.knobs.get("small_percent", 10)
        self.small = [OrderedDict(), OrderedDict()]     # pfn -> None, oldest first
        self.main = [OrderedDict(), OrderedDict()]
        self.where = {}                                 # pfn -> (file, in_main); isolated ones too

    def folio_added(self, pfn, file, refault):
        in_main = bool(refault and refault["recent"])   # a ghost hit
        (self.main if in_main else self.small)[file][pfn] = None
        self.where[pfn] = (file, in_main)
        return in_main                                   # True: the engine's active list

    def folio_removed(self, pfn):
        file, in_main = self.where.pop(pfn)
        (self.main if in_main else self.small)[file].pop(pfn, None)

    def isolate(self, nr, file):
        s, m = self.small[file], self.main[file]
        total = len(s) + len(m)
        picks = []
        while len(picks) < nr and (s or m):
            q = s if s and len(s) * 100 >= total * self.small_percent or not m else m
            pfn, _ = q.popitem(last=False)
            picks.append(pfn)
        return picks

    def check_references(self, pfn, young, referenced):
        file, in_main = self.where[pfn]
        if young or referenced:
            return "keep" if in_main else "activate"    # M: reinsert; S: promote to M
        return "reclaim"

    def outcome(self, pfn, result):
        if result == "reclaimed":
            del self.where[pfn]
            return
        file, in_main = self.where[pfn]
        (self.main if in_main else self.small)[file].pop(pfn, None)   # rotated: still queued
        if result == "rotated":
            # writeback ended: the engine put it at the tail of its inactive list
            # (folio_rotate_reclaimable()), i.e. next to leave S
            self.small[file][pfn] = None
            self.small[file].move_to_end(pfn, last=False)
            self.where[pfn] = (file, False)
            return
        in_main = in_main or result == "activated"
        (self.main if in_main else self.small)[file][pfn] = None
        self.where[pfn] = (file, in_main)

    def lists(self):
        return {"LRU_INACTIVE_ANON": list(reversed(self.small[0])),
                "LRU_ACTIVE_ANON": list(reversed(self.main[0])),
                "LRU_INACTIVE_FILE": list(reversed(self.small[1])),
                "LRU_ACTIVE_FILE": list(reversed(self.main[1]))}

"""The binary `step` message (docs/protocol.md §3.5): what one step (or a
coalesced run of play ticks) did — frame, events, counters and the list
layout — in one message, built from the engine's own arrays.

No per-folio or per-event Python: events go out as the raw bytes of the
engine's EVENT_DTYPE records (their layout, read from the dtype, is in the
header, so new event fields need no change here), counters as one uint64
array in `names.vmstat` order, and the list layout as a delta of per-frame
arrays against the layout this connection was last sent (`Wire`). The
GIL is held for a few NumPy calls per pane, not per folio or event.

Layouts (the same split as the `state` frame, §3.3):
  1. order (≤ order_layout_max_frames): per frame `flags` (uint32), `young`
     (uint8) and `next` (int32, the next pfn on the frame's list), plus
     NR_HEADS list heads after the frames (entry nr_frames + head: the
     list's first folio; a list's last folio points back at its head; -1
     for frames on no list). The `state` frame carries `next` too, so it is
     a base. A step moves a few dozen folios, and the
     `next` links change only around them, so the delta is small while the
     client rebuilds every list's order by walking the links.
  2. location: `loc` (uint8 per frame) as in §3.3.
A delta is the entries that changed (`d_pfn` ascending and the new values);
when more than a fifth changed, the whole arrays are smaller and are sent.
"""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np

# engine/core.pxd list heads: + lru_list; MGLRU + gen * 2 + type in ZONE_NORMAL and in
# ZONE_DMA (a generation's order is its ZONE_DMA list, then the one above, as gen_folios());
# 13..15 are isolation's private lists, empty between steps; NR_LIST_HEADS in _types.pxd
HEAD_LRU, HEAD_GEN, HEAD_GEN_DMA, NR_HEADS = 0, 5, 16, 24
LRU_UNEVICTABLE, MAX_NR_GENS = 4, 4
PG_lru = 1 << 0                           # engine/_types.pxd


class Wire:
    """One connection's view of what it was sent: the base of layout deltas.

    `layout` maps a pane to ("order", flags, next, young) or ("location",
    loc) as last sent; `id` numbers the layouts sent on this connection (a
    message says which one it is a delta against, so a client that lost
    one can tell and ask for a whole `state`)."""

    def __init__(self):
        self.layout: dict = {}
        self.id = 0
        self.lock = threading.Lock()

    def next_id(self) -> int:
        with self.lock:
            self.id += 1
            return self.id


def event_layout(dtype: np.dtype) -> dict:
    """{"itemsize", "fields": [[name, "u8"|"i4"|..., offset], ...]} of a
    little-endian structured dtype, in offset order."""
    fields = sorted(((name, dtype.fields[name][0].str[1:], dtype.fields[name][1])
                     for name in dtype.names), key=lambda f: f[2])
    return {"itemsize": dtype.itemsize, "fields": [list(f) for f in fields]}


def order_links(sim, flags: np.ndarray, n: int) -> np.ndarray:
    """int32 `next` per frame and per list head (see the module comment):
    the engine's own links (sim.links(), zero-copy), -1 for frames on no list."""
    raw = sim.links()
    nxt = np.empty(n + NR_HEADS, dtype=np.int32)
    nxt[:n] = np.where(flags & PG_lru, raw[:n], -1)
    nxt[n:] = raw[n:n + NR_HEADS]
    return nxt


def order_part(p: str, prev: Optional[tuple], flags: np.ndarray, nxt: np.ndarray,
               young: np.ndarray) -> tuple[list, bool]:
    """The arrays of an order layout: a delta against `prev` when it is one
    of the same size and fewer than a fifth of the entries changed."""
    n = len(flags)
    if prev is not None and prev[0] == "order" and len(prev[2]) == len(nxt):
        _, pf, pn, py = prev
        changed = nxt != pn
        changed[:n] |= (flags != pf) | (young != py)
        idx = np.flatnonzero(changed).astype(np.uint32)
        if 5 * len(idx) < len(nxt):
            fy = idx[idx < n]
            f = np.zeros(len(idx), np.uint32)
            y = np.zeros(len(idx), np.uint8)
            f[:len(fy)], y[:len(fy)] = flags[fy], young[fy]   # heads sort last: 0 for them
            return [(p + "d_pfn", idx), (p + "d_flags", f), (p + "d_next", nxt[idx]),
                    (p + "d_young", y)], True
    return [(p + "flags", flags), (p + "next", nxt), (p + "young", young)], False


def location_part(p: str, prev: Optional[tuple], loc: np.ndarray) -> tuple[list, bool]:
    if prev is not None and prev[0] == "location" and len(prev[1]) == len(loc):
        idx = np.flatnonzero(prev[1] != loc).astype(np.uint32)
        if 5 * len(idx) < len(loc):
            return [(p + "loc_pfn", idx), (p + "loc_val", loc[idx])], True
    return [(p + "loc", loc)], False


class StepMessage(bytes):
    """A packed step message, with what the transport needs to know of it."""
    steps_applied: int = 0
    done: bool = False

"""The binary `step` message (docs/protocol.md §3.5): what one step (or a
coalesced run of play ticks) did — frame, events, counters and the list
layout — in one message, built from the engine's own arrays.

No per-folio or per-event Python: events go out as the raw bytes of the
engine's EVENT_DTYPE records (their layout, read from the dtype, is in the
header, so new event fields need no change here), counters as one uint64
array in `names.vmstat` order, and the list layout as a delta of per-frame
arrays against the layout this connection was last sent (`Wire`). The
layout and its delta come from one pass of the engine over its folio
table without the GIL (Simulator.layout_order / layout_location), which
also updates the connection's base in place: no copy of the frames.

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

import hashlib
import threading
from typing import Optional

import numpy as np

# engine/core.pxd list heads: + lru_list; MGLRU + gen * 2 + type in ZONE_NORMAL and in
# ZONE_DMA (a generation's order is its ZONE_DMA list, then the one above, as gen_folios());
# 13..15 are isolation's private lists, empty between steps; NR_LIST_HEADS in _types.pxd
HEAD_LRU, HEAD_GEN, HEAD_GEN_DMA, NR_HEADS = 0, 5, 16, 24
LRU_UNEVICTABLE, MAX_NR_GENS = 4, 4


class Wire:
    """One connection's view of what it was sent: the base of layout deltas.

    `layout` maps a pane to ("order", flags, next, young) or ("location",
    loc, ...) as last sent (see order_part and location_part); `id` numbers the layouts sent on this connection (a
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

    def copy(self) -> "Wire":
        """What this connection was sent, as arrays of its own: a peek
        (protocol.md §3.6) builds its delta on the copy, since order_part()
        and location_part() bring their base up to date in place. The
        location table stays shared: location_part() tests it by identity."""
        w = Wire()
        w.id = self.id
        for k, base in self.layout.items():
            if base[0] == "order":
                w.layout[k] = ("order",) + tuple(a.copy() for a in base[1:])
            else:
                _, loc, flags, *rest = base
                w.layout[k] = ("location", loc.copy(), flags.copy(), *rest)
        return w


def event_layout(dtype: np.dtype) -> dict:
    """{"itemsize", "fields": [[name, "u8"|"i4"|..., offset], ...]} of a
    little-endian structured dtype, in offset order."""
    fields = sorted(((name, dtype.fields[name][0].str[1:], dtype.fields[name][1])
                     for name in dtype.names), key=lambda f: f[2])
    return {"itemsize": dtype.itemsize, "fields": [list(f) for f in fields]}


def _delta_cap(length: int) -> int:
    """The most entries a delta of arrays of `length` entries may have: a
    fifth or more changed and the whole arrays are smaller."""
    return max(0, (length - 1) // 5)


def order_part(p: str, sim, n: int, prev: Optional[tuple]) -> tuple[list, bool, tuple, int]:
    """The arrays of an order layout, from one engine pass without the GIL
    (Simulator.layout_order): a delta against `prev` when it is one of the
    same size and fewer than a fifth of the entries changed. `prev`'s
    arrays are brought up to date in place (they are this connection's
    own). Returns (arrays, is a delta, the new base, PG_mlocked frames)."""
    if prev is not None and prev[0] == "order" and len(prev[1]) == n:
        _, flags, nxt, young = prev
        cap = _delta_cap(n + NR_HEADS)
        d_pfn, d_flags = np.empty(cap, np.uint32), np.empty(cap, np.uint32)
        d_next, d_young = np.empty(cap, np.int32), np.empty(cap, np.uint8)
        cnt, mlocked = sim.layout_order(flags, nxt, young, True, d_pfn, d_flags, d_next, d_young)
        if cnt >= 0:
            return [(p + "d_pfn", d_pfn[:cnt]), (p + "d_flags", d_flags[:cnt]),
                    (p + "d_next", d_next[:cnt]), (p + "d_young", d_young[:cnt])], True, prev, mlocked
    else:
        # uninitialised is fine: the pass writes every entry that differs from the engine's
        flags, nxt, young = np.empty(n, np.uint32), np.empty(n + NR_HEADS, np.int32), np.empty(n, np.uint8)
        none32 = np.empty(0, np.uint32)
        _, mlocked = sim.layout_order(flags, nxt, young, False, none32, none32,
                                      np.empty(0, np.int32), np.empty(0, np.uint8))
    return ([(p + "flags", flags), (p + "next", nxt), (p + "young", young)], False,
            ("order", flags, nxt, young), mlocked)


def location_part(p: str, sim, n: int, lut: np.ndarray,
                  prev: Optional[tuple]) -> tuple[list, bool, tuple, int]:
    """The location layout's arrays (protocol.md §3.3), as order_part():
    `lut` is the 128-entry table of Simulator.layout_location(). The base
    is ("location", loc, flags, token, since, lut, mlocked): when it was
    last brought up to date on this very machine (`sim.layout_token`) with
    the same table, the engine reads only the frames whose flags were
    written since; otherwise every frame."""
    if prev is not None and prev[0] == "location" and len(prev[1]) == n:
        _, loc, flags, token, since, plut, mlocked = prev
        if token != sim.layout_token or plut is not lut:
            since, mlocked = -1, 0
        cap = _delta_cap(n)
        d_pfn, d_val = np.empty(cap, np.uint32), np.empty(cap, np.uint8)
        cnt, mlocked, since = sim.layout_location(lut, loc, flags, True, d_pfn, d_val, since, mlocked)
        base = ("location", loc, flags, sim.layout_token, since, lut, mlocked)
        if cnt >= 0:
            return [(p + "loc_pfn", d_pfn[:cnt]), (p + "loc_val", d_val[:cnt])], True, base, mlocked
    else:
        loc, flags = np.empty(n, np.uint8), np.empty(n, np.uint32)
        _, mlocked, since = sim.layout_location(lut, loc, flags, False, np.empty(0, np.uint32),
                                                np.empty(0, np.uint8))
        base = ("location", loc, flags, sim.layout_token, since, lut, mlocked)
    return [(p + "loc", loc)], False, base, mlocked


class StepMessage(bytes):
    """A packed step message, with what the transport needs to know of it."""
    steps_applied: int = 0
    done: bool = False
    # a peek's: the digest of the step message the owner's step would send
    # (protocol.md §3.6), which `step_ok` stands for
    digest: bytes = b""


def digest(message: bytes) -> bytes:
    return hashlib.blake2b(message, digest_size=16).digest()

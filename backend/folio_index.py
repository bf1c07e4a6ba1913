"""Per-folio history: the bounded event index of each pane, and `inspect`,
which names one folio (by frame, page or event) and gives its events across
steps, from the index or, when the index has gaps, by a scratch replay.
The index is fed by History._record; `inspect` is mixed into
backend.sessions.Session."""
from __future__ import annotations

from typing import Optional

import numpy as np

from backend import protocol as P
from backend.frames import EVENT_COLUMNS
from backend.session_common import SessionError, _engine, _guarded, _jsonable

NR_INTERNAL_MMS = 3        # engine/core.pxd: anon owner o is mm o + 3 (0, 1: the M and X address spaces, 2: the system's)
ANON_LISTS, FILE_LISTS = (0, 1), (2, 3)   # enum lru_list
# engine.names.LOCATIONS: a folio that leaves for (or comes back from) a swap
# slot is anon; a page-cache shadow or storage is file (MGLRU events name
# "gen", not a list, so these are what tell the two apart there)
LOC_SWAP, LOC_SHADOW, LOC_STORAGE = 8, 9, 10

# --- per-folio event history -------------------------------------------------------

class FolioIndex:
    """Every recorded folio event with the step it belongs to, in one bounded
    ring per pane (numpy, `max_events` rows), so that a folio's history
    across steps is a vectorized filter on its identity (mapping, index).
    Bounded by events, not folios: ~88 bytes per event.

    The ring is allocated at full size by np.zeros, whose calloc leaves the
    pages uncommitted until written, instead of doubling as it fills: a
    doubling copies the whole ring (4 ms at 64 Ki rows), and sessions
    stepped alike double at the same step, which stalled 100 played
    sessions together for over a second (bench_load)."""

    def __init__(self, max_events: int, per_folio: int):
        self.cap, self.per_folio = max_events, per_folio
        self.rows = None          # structured array: EVENT_DTYPE fields + step
        self.n = 0                # rows written so far (the ring position is n % cap)
        self.high = 0             # steps <= high are indexed already (re-visits add nothing)
        # Steps <= gap_high may have folio events that are not here: steps only
        # replayed (run-ahead, seeks past unvisited steps, a rebuilt session),
        # events the engine's ring lost, and rows this ring overwrote.
        self.gap_high = 0

    def _live(self) -> np.ndarray:
        """The rows written so far (the ring is allocated whole, written from 0)."""
        return self.rows[:min(self.n, len(self.rows))]

    def add(self, ev: np.ndarray, steps: np.ndarray, first: int = 0, last: int = 0,
            lost: int = 0) -> None:
        """Index events `ev` of steps first..last (`steps` per event); `lost`
        events of those steps are known to be missing."""
        if last > self.high:
            if first > self.high + 1:
                self.gap_high = max(self.gap_high, first - 1)
            if lost:
                self.gap_high = max(self.gap_high, last)
        if len(ev) == 0:
            self.high = max(self.high, last)
            return
        keep = (steps > self.high) & (ev["pfn"] >= 0)
        self.high = max(self.high, last)
        if not keep.any():
            return
        self.high = max(self.high, int(steps.max()))
        ev, steps = np.ascontiguousarray(ev[keep]), steps[keep]
        if self.rows is None:
            # The engine's record bytes as they are, then the step: a row is
            # filled by one byte copy instead of one fancy assignment per
            # field (21 of them: 0.12 ms of a 16 Ki-frame scan step's ~0.5).
            names = list(ev.dtype.names)
            dtype = np.dtype({"names": names + ["step"],
                              "formats": [ev.dtype.fields[n][0] for n in names] + ["i8"],
                              "offsets": [ev.dtype.fields[n][1] for n in names] + [ev.itemsize],
                              "itemsize": ev.itemsize + 8})
            self.rows = np.zeros(self.cap, dtype=dtype)
        size = len(self.rows)
        if len(ev) > size:
            ev, steps = ev[-size:], steps[-size:]
        at = self.n % size
        if at + len(ev) <= size:
            pos = slice(at, at + len(ev))   # no wrap: slices copy without an index array
        else:
            pos = (self.n + np.arange(len(ev))) % size
        if self.n + len(ev) > size:   # overwriting: those steps' histories are now partial
            old = self.rows["step"][pos]   # (rows never written hold step 0: no effect)
            if (old >= 0).any():
                self.gap_high = max(self.gap_high, int(old.max()))
        width = ev.itemsize
        raw = self.rows.view(np.uint8).reshape(size, self.rows.itemsize)
        raw[pos, :width] = ev.view(np.uint8).reshape(len(ev), width)
        self.rows["step"][pos] = steps
        self.n += len(ev)

    def complete(self, upto_step: int) -> bool:
        """Every folio event of steps 1..upto_step is in the ring."""
        return self.gap_high == 0 and upto_step <= self.high

    def event(self, seq: int):
        """(mapping, index, pfn, step) of the event with this engine seq, or None."""
        if self.rows is None:
            return None
        r = self._live()
        hit = np.flatnonzero((r["seq"] == seq) & (r["step"] >= 0))
        if len(hit) == 0:
            return None
        r = r[hit[0]]
        return int(r["mapping"]), int(r["index"]), int(r["pfn"]), int(r["step"])

    def truncate(self, nr_steps: int) -> None:
        """Forget events of steps after nr_steps (the history was rewritten)."""
        self.high = min(self.high, nr_steps)
        self.gap_high = min(self.gap_high, nr_steps)
        if self.rows is not None:
            step = self._live()["step"]
            step[step > nr_steps] = -1

    def last_at_pfn(self, pfn: int, upto_step: int):
        """(mapping, index, anon or None) of the newest event at this pfn."""
        if self.rows is None:
            return None
        r = self._live()
        hit = np.flatnonzero((r["pfn"] == pfn) & (r["step"] >= 0) & (r["step"] <= upto_step))
        if len(hit) == 0:
            return None
        row = r[hit[np.argmax(r["seq"][hit])]]
        return int(row["mapping"]), int(row["index"]), self.anon_of((int(row["mapping"]), int(row["index"])))

    def anon_of(self, key: tuple):
        """Anon or file, from the LRU lists the folio's events name (None if none do)."""
        sel = self._select(key, None)
        if self.rows is None or len(sel) == 0:
            return None
        return anon_of_locations(np.concatenate([self.rows["src"][sel], self.rows["dst"][sel]]))

    def _select(self, key: tuple, upto_step) -> np.ndarray:
        if self.rows is None:
            return np.zeros(0, dtype=np.intp)
        r = self._live()
        m = (r["mapping"] == key[0]) & (r["index"] == key[1]) & (r["step"] >= 0)
        if upto_step is not None:
            m &= r["step"] <= upto_step
        sel = np.flatnonzero(m)
        return sel[np.argsort(r["seq"][sel], kind="stable")]

    def history(self, key: tuple, upto_step: int) -> dict:
        sel = self._select(key, upto_step)
        dropped = max(0, len(sel) - self.per_folio)
        sel = sel[len(sel) - min(len(sel), self.per_folio):]
        cols = {"n": int(len(sel)), "dropped": dropped,
                "step": self.rows["step"][sel].tolist() if len(sel) else []}
        for c in EVENT_COLUMNS:
            cols[c] = self.rows[c][sel].tolist() if len(sel) else []
        return cols


def anon_of_locations(locs: np.ndarray):
    """Anon (True), file (False) or unknown (None) from the locations a
    folio's events name: LRU lists, or a swap slot vs a page-cache shadow."""
    if np.isin(locs, ANON_LISTS + (LOC_SWAP,)).any():
        return True
    if np.isin(locs, FILE_LISTS + (LOC_SHADOW, LOC_STORAGE)).any():
        return False
    return None


class KeyFilter(FolioIndex):
    """A FolioIndex stand-in for history replay: keeps every event of one
    folio identity, unbounded (one folio's events are few)."""

    def __init__(self, key: tuple):
        super().__init__(1 << 62, 1 << 30)
        self.key, self.parts, self.lost = key, [], 0

    def add(self, ev, steps, first=0, last=0, lost=0):
        self.lost += lost
        m = (ev["mapping"] == self.key[0]) & (ev["index"] == self.key[1]) & (ev["pfn"] >= 0)
        if m.any():
            self.parts.append((ev[m], steps[m]))


class FolioInspect:
    """Folio lookup and per-folio history of a Session (mixin)."""

    def owner_name(self, anon: bool, mapping: int) -> Optional[str]:
        """The workload's name of mm / file `mapping` (trace or scenario), if any;
        anon mm -1 is a booted guest's own pages (MM_SYSTEM: its tmpfs and init,
        docs/kernels.md "Boot footprint")."""
        if anon and mapping == -1:
            return "the booted guest's own (tmpfs, init)"
        names = getattr(self.workload, "names", None) or {}
        lst = names.get("mm" if anon else "file") or []
        return str(lst[mapping]) if 0 <= mapping < len(lst) else None

    def owner_names(self, cap: int = 4096) -> dict:
        """The workload's mm and file names by owner id (the first `cap` of each)."""
        names = getattr(self.workload, "names", None) or {}
        return {k: [str(x) for x in (names.get(k) or [])[:cap]] for k in ("mm", "file")}

    @_guarded
    def inspect(self, cursor: int, pane: int, pfn: Optional[int] = None,
                mapping: Optional[int] = None, index: Optional[int] = None,
                anon: Optional[bool] = None, event: Optional[int] = None) -> P.FolioInfo:
        """One folio: by frame (`pfn`: its occupant, or the last folio there
        when it is free), by page (`mapping`, `index`, `anon`), or by an event
        (`event`: the page that event named, wherever it is now)."""
        with self.lock:
            self.touch()
            if pane >= len(self.sims):
                raise SessionError("bad_message", f"no pane {pane}")
            sim = self.sims[pane]
            cursor = max(0, min(cursor, self.nr_steps))
            self._goto(cursor)
            folio = None
            ix = self.index[pane]
            raw = None          # the engine's folio.mapping: anon mm ids are owner + NR_INTERNAL_MMS
            then = None         # the frame an event named
            hit = ix.event(event) if event is not None else None
            if event is not None and hit is None and pfn is None:
                raise SessionError("bad_message", f"no event {event} in pane {pane}'s index")
            if hit is not None:
                raw, index, then, _ = hit
                anon = ix.anon_of((raw, index))
                pfn = None
            elif pfn is not None:   # (also an event the index no longer holds: its frame)
                n = self.configs[pane]["ram_pages"]
                if pfn >= n:
                    raise SessionError("bad_message", f"pfn {pfn} is outside RAM (0..{n - 1})")
                folio = _jsonable(sim.folio(pfn))
                if folio and not folio.get("free") and folio.get("mapping") is not None:
                    anon = _is_anon(folio)
                    mapping, index = folio["mapping"], folio["index"]
                    raw = folio.get("mm") if anon and folio.get("mm") is not None else mapping
                else:
                    last = ix.last_at_pfn(pfn, cursor)
                    if last is not None:
                        raw, index, anon = last
                        then = pfn
            elif mapping is not None and index is not None:
                # the workload's owner ids are uint32 and page numbers < 2^40
                # (engine/workloads.py ACCESS_DTYPE, engine/trace.py MAX_PAGE)
                if mapping > 0xFFFF_FFFF - NR_INTERNAL_MMS or index > (1 << 40) - 1:
                    raise SessionError("bad_message", f"no page ({mapping}, {index}): mapping "
                                       f"must be < 2^32 and index < 2^40")
                if mapping < 0 and not anon:
                    raise SessionError("bad_message", f"no page ({mapping}, {index}): mapping -1 is "
                                       f"a booted guest's own anon pages (anon: true)")
                raw = mapping + NR_INTERNAL_MMS if anon else mapping
            if raw is None or index is None:
                if pfn is None:
                    raise SessionError("bad_message", "inspect needs 'pfn', 'event', or 'mapping' and 'index'")
                return P.FolioInfo(pane=pane, pfn=pfn, step=cursor, folio=folio, identity=None,
                                   page_state=None, history=P.Events(n=0))
            raw, index = int(raw), int(index)
            page_state = None
            if anon is None:   # no event named a list, swap or shadow: ask the page tables and cache
                tries = [(a, _jsonable(sim.page_state("A" if a else "R", raw - NR_INTERNAL_MMS if a else raw,
                                                      index)))
                         for a in (True, False) if not a or raw >= NR_INTERNAL_MMS]
                known = [(a, ps) for a, ps in tries if ps.get("state") != "none"]
                if len(known) == 1:
                    anon, page_state = known[0]
            mapping = raw - NR_INTERNAL_MMS if anon else raw
            if page_state is None and anon is not None:
                page_state = _jsonable(sim.page_state("A" if anon else "R", int(mapping), index))
            if pfn is None and page_state and page_state.get("pfn") is not None:
                pfn = int(page_state["pfn"])      # resident (or in the swap cache) now
                folio = _jsonable(sim.folio(pfn))
            elif pfn is None:
                pfn = then
            hist = self._folio_history(pane, (raw, index), cursor)
            identity = {"mapping": int(mapping), "index": index, "anon": anon,
                        "name": self.owner_name(bool(anon), int(mapping)) if anon is not None else None}
            if then is not None:
                identity["pfn_then"] = then
            return P.FolioInfo(pane=pane, pfn=pfn, step=cursor, folio=folio, identity=identity,
                               page_state=page_state, history=P.Events(**hist))

    def _folio_history(self, pane: int, key: tuple, cursor: int) -> dict:
        """The folio's events at steps <= cursor: from the event index when it
        holds every step, else rebuilt by replay (cached per folio)."""
        ix = self.index[pane]
        if ix.complete(cursor):
            return {**ix.history(key, cursor), "source": "ring"}
        cached = self._hist_cache.get((pane, key))
        if cached is None or cached[0] < cursor:
            if self._cost_at(cursor) > self.settings.history_replay_s:
                return {**ix.history(key, cursor), "source": "incomplete"}
            cached = (cursor, self._replay_history(pane, key, cursor))
            self._hist_cache[(pane, key)] = cached
        ev, steps = cached[1]
        sel = np.flatnonzero(steps <= cursor)
        dropped = max(0, len(sel) - self.settings.max_history_per_folio)
        sel = sel[dropped:]
        cols = {"n": int(len(sel)), "dropped": dropped, "step": steps[sel].tolist(),
                "source": "replay"}
        for c in EVENT_COLUMNS:
            cols[c] = ev[c][sel].tolist()
        return cols

    def _replay_history(self, pane: int, key: tuple, upto: int) -> tuple:
        """Every event of one folio identity up to step `upto`, by replaying
        the history from step 0 with events on in a scratch copy of this
        session (the engine is deterministic, so these are the events the
        live steps had). Run-ahead access steps are stepped in chunks small
        enough for the engine's event ring."""
        from backend.sessions import Session   # (it imports this module)
        scratch = Session(self.record, self.recipe, self.workload, self.settings, self.engine_mod)
        scratch.index = [KeyFilter(key) if k == pane else KeyFilter((-1, -1))
                         for k in range(len(scratch.sims))]
        chunk = {"access": 512, "scan": 8, "shrink": 1}
        for (unit, count, arg), s0 in zip(self.log, self._prefix):
            if s0 >= upto:
                break
            count = min(count, upto - s0)
            if arg and arg.get("run"):
                arg = None      # the same state as run(), with events
            done = 0
            while done < count:
                k = min(count - done, chunk.get(unit, 1))
                got = scratch._record(unit, k, arg).steps
                if got != k:
                    raise RuntimeError(f"history replay diverged at step {s0 + done}")
                done += k
        parts = scratch.index[pane].parts
        if not parts:
            empty = np.zeros(0, dtype=_engine().EVENT_DTYPE)
            return empty, np.zeros(0, dtype=np.int64)
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))



def _is_anon(folio: dict) -> Optional[bool]:
    if "anon" in folio:
        return bool(folio["anon"])
    t = folio.get("type")
    if isinstance(t, str):
        return t == "anon"
    flags = folio.get("flags")
    if isinstance(flags, (list, tuple)):
        return "PG_anon" in flags or "PG_swapbacked" in flags
    if isinstance(flags, dict):
        return bool(flags.get("PG_anon") or flags.get("PG_swapbacked"))
    return None

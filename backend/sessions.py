"""Sessions: one or two engines, their recipe, history, checkpoints and the
per-folio event index. Domain only: imports no web framework, and every
method is synchronous (the transport calls them in a worker thread, so the
engine, which releases the GIL, never blocks the event loop).

History. Step n is the state after the n-th command unit. The history is a
run-length log of [unit, count, arg]; `arg` is only used by debugfs writes
({"text", "panes"}). A session's state at any step is rebuilt by loading the
nearest checkpoint (sim.state_bytes()) and replaying the log (accesses on the
engine's fast path), so the log plus the recipe is all the store keeps.

Compare mode (docs/protocol.md §5). The unit is applied to pane A; then B
runs accesses until its position equals A's. B's state therefore depends
only on how many accesses it has run, which is what makes replay in bigger
chunks give the same state.

Locking. Each Session has one lock; every public method takes it, so a
session's engines are used by one thread at a time. The manager has its own
lock for the table of live sessions.
"""
from __future__ import annotations

import base64
import bisect
import collections
import functools
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from backend import protocol as P
from backend.budget import Ledger, OverBudget, accesses_of_recipe, session_bytes
from backend.recipes import Recipe
from backend import wire as W
from backend.store import (DamagedRecord, SessionRecord, Store, TraceRecord, hash_token, new_id,
                           token_matches, trace_id)

LISTS = ("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE",
         "LRU_UNEVICTABLE")
# engine/_types.pxd folio flag bits (the state frame's location array is derived from them)
PG_lru, PG_active, PG_swapbacked, PG_unevictable = 1 << 0, 1 << 1, 1 << 4, 1 << 8
LRU_GEN_PGOFF, MAX_NR_GENS = 16, 4
LOC_OFF_LRU, LOC_GEN_BASE = 255, 16
_LOC_MASK = PG_lru | PG_active | PG_swapbacked | PG_unevictable | (7 << LRU_GEN_PGOFF)
_LOC_KEYS = [sum(bit for i, bit in enumerate((PG_lru, PG_active, PG_swapbacked, PG_unevictable))
                 if c >> i & 1) | (slot << LRU_GEN_PGOFF) for c in range(16) for slot in range(8)]
EVENT_COLUMNS = ("seq", "time_ns", "nr_access", "pfn", "mapping", "index", "kind", "reason",
                 "fn", "src", "dst", "src_seq", "dst_seq",
                 # the decision's inputs (docs/engine.md "Decision inputs")
                 "why_a", "why_b", "why_c", "why_d", "refs", "tier", "tier_idx", "why")
NR_INTERNAL_MMS = 2        # engine/core.pxd: anon owner o is mm o + 2 (0, 1: the M and X address spaces)
ANON_LISTS, FILE_LISTS = (0, 1), (2, 3)   # enum lru_list
# engine.names.LOCATIONS: a folio that leaves for (or comes back from) a swap
# slot is anon; a page-cache shadow or storage is file (MGLRU events name
# "gen", not a list, so these are what tell the two apart there)
LOC_SWAP, LOC_SHADOW, LOC_STORAGE = 8, 9, 10
log = logging.getLogger("reclaimlab.sessions")
RUN_AHEAD_ACCESSES = 4096   # an access step longer than this runs without events
PERMALINK_PREFIX = "h"      # + 24 base32 letters of sha256(recipe, log prefix): a pinned history
IMMUTABLE_OWNER = ""        # owner_hash of a permalink session: no token hashes to it
HEAD_LRU, HEAD_GEN = 0, 5   # engine/core.pxd list heads: + lru_list; + gen * 2 + type


class SessionError(Exception):
    """A request the session cannot do; `code` is the protocol's error code."""

    def __init__(self, code: str, message: str, errno: Optional[str] = None):
        super().__init__(message)
        self.code, self.message, self.errno = code, message, errno


class UnknownSession(KeyError):
    def __init__(self, sid: str):
        super().__init__(sid)
        self.sid = sid

    def __str__(self):
        return f"unknown session {self.sid!r}"


class UnknownTrace(KeyError):
    def __str__(self):
        return f"unknown trace {self.args[0]!r}"


def _engine():
    import engine
    return engine


def _names() -> dict:
    from engine import names as N
    return {"vmstat": list(N.VMSTAT_NAMES), "event_kinds": list(N.EVENT_KINDS),
            "reasons": list(N.REASONS), "reason_names": list(N.REASON_NAMES), "kernel_fns": list(N.KERNEL_FNS),
            "locations": list(N.LOCATIONS), "lists": list(LISTS)}


# --- workloads -------------------------------------------------------------------

def _accesses_of(obj) -> np.ndarray:
    return obj.accesses if hasattr(obj, "accesses") else np.asarray(obj)


def build_workload(recipe: Recipe, store: Store, trace: Optional[TraceRecord] = None):
    """The workload object (accesses + names) a recipe names. A trace is read
    in the format it was stored as (its id covers it), never re-guessed."""
    w = recipe.workload
    if w.trace_id is not None:
        rec = trace or store.get_trace(w.trace_id)
        if rec is None:
            raise UnknownTrace(w.trace_id)
        return parse_trace(rec.data, rec.filename, rec.format)
    from engine import workloads
    return workloads.generate(w.scenario, recipe.machine.ram_pages, recipe.seed, w.accesses,
                              **w.params)


def parse_trace(data: bytes, filename: str, format: Optional[str] = None, settings=None):
    from engine import trace
    if settings is None:
        return trace.read_trace_bytes(data, filename, format=format)
    return trace.read_trace_bytes(data, filename, format=format,
                                  max_decompressed=settings.max_trace_decompressed,
                                  max_ratio=settings.max_trace_ratio)


def write_trace_file(workload, path, comment: Optional[str] = None) -> None:
    """The workload as a plain-text v1 trace (DESIGN §5.2), names declared."""
    from engine import trace
    trace.write_trace(path, workload, comment=comment)


# --- per-folio event history -------------------------------------------------------

class FolioIndex:
    """Every recorded folio event with the step it belongs to, in one bounded
    ring per pane (numpy, `max_events` rows, grown on demand), so that a
    folio's history across steps is a vectorized filter on its identity
    (mapping, index). Bounded by events, not folios: ~88 bytes per event."""

    def __init__(self, max_events: int, per_folio: int):
        self.cap, self.per_folio = max_events, per_folio
        self.rows = None          # structured array: EVENT_DTYPE fields + step
        self.n = 0                # rows written so far (the ring position is n % len)
        self.high = 0             # steps <= high are indexed already (re-visits add nothing)
        # Steps <= gap_high may have folio events that are not here: steps only
        # replayed (run-ahead, seeks past unvisited steps, a rebuilt session),
        # events the engine's ring lost, and rows this ring overwrote.
        self.gap_high = 0

    def _grow(self, dtype, need: int) -> None:
        size = 0 if self.rows is None else len(self.rows)
        if size >= self.cap or self.n + need <= size:
            return
        new = min(self.cap, max(1024, 2 * size, 1 << (self.n + need - 1).bit_length()))
        rows = np.zeros(new, dtype=dtype)
        rows["step"] = -1
        if self.rows is not None:
            rows[:size] = self.rows   # not wrapped yet: the ring only wraps at cap
        self.rows = rows

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
        ev, steps = ev[keep], steps[keep]
        if self.rows is None:
            dtype = np.dtype([(name, ev.dtype.fields[name][0]) for name in ev.dtype.names]
                             + [("step", "i8")])
        else:
            dtype = self.rows.dtype
        self._grow(dtype, len(ev))
        size = len(self.rows)
        if len(ev) > size:
            ev, steps = ev[-size:], steps[-size:]
        pos = (self.n + np.arange(len(ev))) % size
        if self.n + len(ev) > size:   # overwriting: those steps' histories are now partial
            old = self.rows["step"][pos]
            if (old >= 0).any():
                self.gap_high = max(self.gap_high, int(old.max()))
        for name in ev.dtype.names:
            self.rows[name][pos] = ev[name]
        self.rows["step"][pos] = steps
        self.n += len(ev)

    def _valid(self) -> np.ndarray:
        if self.rows is None:
            return np.zeros(0, dtype=bool)
        return self.rows["step"] >= 0

    def complete(self, upto_step: int) -> bool:
        """Every folio event of steps 1..upto_step is in the ring."""
        return self.gap_high == 0 and upto_step <= self.high

    def event(self, seq: int):
        """(mapping, index, pfn, step) of the event with this engine seq, or None."""
        if self.rows is None:
            return None
        hit = np.flatnonzero((self.rows["seq"] == seq) & (self.rows["step"] >= 0))
        if len(hit) == 0:
            return None
        r = self.rows[hit[0]]
        return int(r["mapping"]), int(r["index"]), int(r["pfn"]), int(r["step"])

    def truncate(self, nr_steps: int) -> None:
        """Forget events of steps after nr_steps (the history was rewritten)."""
        self.high = min(self.high, nr_steps)
        self.gap_high = min(self.gap_high, nr_steps)
        if self.rows is not None:
            self.rows["step"][self.rows["step"] > nr_steps] = -1

    def last_at_pfn(self, pfn: int, upto_step: int):
        """(mapping, index, anon or None) of the newest event at this pfn."""
        if self.rows is None:
            return None
        r = self.rows
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
        r = self.rows
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


# --- one session -----------------------------------------------------------------------

@dataclass
class Applied:
    """What one command did to the panes (for the frame)."""
    steps: int
    events: list            # per pane: (events array, dropped)
    vmstat_before: list     # per pane: dict
    partial: bool = False   # the last step is a unit cut short by the end of the workload


def _guarded(method):
    """Run a public Session method under the session lock; if the engine
    fails unexpectedly, put the engines back to a known state (step 0; any
    step is rebuilt from there) so the next request works."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            if self.parked:
                self._unpark()
            try:
                return method(self, *args, **kwargs)
            except SessionError:
                raise
            except Exception as e:
                self._recover()
                if type(e).__name__ == "PolicyHookError":
                    # a plug-in policy failed inside the step: this session's step
                    # ends with its error; the engines are back at a known state
                    raise SessionError("policy", str(e)) from None
                raise
    return wrapper


class Session:
    def __init__(self, rec: SessionRecord, recipe: Recipe, workload, settings, engine_mod=None):
        eng = engine_mod or _engine()
        self.id = rec.id
        self.record = rec
        self.recipe = recipe
        self.settings = settings
        self.workload = workload
        self.accesses = np.ascontiguousarray(_accesses_of(workload))
        self.configs = recipe.engine_configs()
        self.sims = []
        for cfg in self.configs:
            sim = eng.Simulator(cfg)
            sim.set_workload(self.accesses)
            self.sims.append(sim)
        self.compare = len(self.sims) == 2
        self.policies = [c["policy"] for c in self.configs]
        # what each pane's policy says about itself (engine/registry.py): units,
        # view, list names, debugfs -- nothing here tests a policy's key
        self.infos = [eng.policy_info(p) for p in self.policies]
        self.lock = threading.RLock()
        self.log: list = [list(e) for e in rec.log]
        self.nr_steps = rec.nr_steps
        self._prefix = self._build_prefix()
        self.cur = 0                       # the step the engines are at
        self.share_of_total: Callable[[], int] = lambda: settings.checkpoint_total_bytes
        self._partial = False
        self.checkpoints: dict[int, list[bytes]] = {}
        self._cp_bytes = 0
        self._cp_size = 0
        # Replay cost, measured: seconds of engine work from step 0 to self.cur
        # along the history, and its value at each checkpoint.
        self._cost = 0.0
        self._replay_from = 0.0
        self._cp_cost: dict[int, float] = {}
        self._cp_acc: dict[int, int] = {}      # workload position at each checkpoint
        self._take_checkpoint()
        self.index = [FolioIndex(settings.max_history_events, settings.max_history_per_folio)
                      for _ in self.sims]
        self._series_lock = threading.Lock()
        self._series_state = None          # the timeline's scratch replay (see series())
        self._last_events: list = []       # per pane: the last _record's events, uncut
        self._hist_cache: dict = {}        # (pane, key) -> (upto step, replayed history)
        self.engine_mod = engine_mod
        self.names = _names()
        self.last_used = time.monotonic()
        self.refs = 0                      # open connections
        self.on_log_change: Optional[Callable[["Session"], None]] = None
        # (session, nr_steps) -> id of an immutable copy of the first nr_steps steps
        self.on_branch: Optional[Callable[["Session", int], str]] = None
        # Parking (SessionManager.make_room): a connected session idle for
        # park_idle_seconds gives up its engines, checkpoints and workload;
        # `rebuild` (set by the manager: admission + a fresh Session from the
        # store) brings them back on its next request.
        self.parked = self._unparking = False
        self.rebuild: Optional[Callable[[str], "Session"]] = None

    def budget(self) -> int:
        """Checkpoint bytes this session may hold: its own cap, and its share of
        the server-wide cap among the live sessions (soft: enforced by
        thinning when it next takes a checkpoint)."""
        return min(self.settings.checkpoint_budget_bytes, self.share_of_total())

    # --- log helpers
    def _build_prefix(self) -> list[int]:
        out, s = [], 0
        for e in self.log:
            out.append(s)
            s += e[1]
        assert s == self.nr_steps, "log and nr_steps disagree"
        return out

    def _append_log(self, unit: str, count: int, arg=None) -> None:
        if count <= 0:
            return
        if self.log and self.log[-1][0] == unit and unit != "debugfs" and self.log[-1][2] == arg:
            self.log[-1][1] += count
        else:
            self._prefix.append(self.nr_steps)
            self.log.append([unit, count, arg])
        self.nr_steps += count

    def log_prefix(self, n: int) -> list:
        """The run-length log of the first n steps (a new list)."""
        keep = []
        for e, s0 in zip(self.log, self._prefix):
            if s0 >= n:
                break
            keep.append([e[0], min(e[1], n - s0), e[2]])
        return keep

    @property
    def immutable(self) -> bool:
        return self.record.owner_hash == IMMUTABLE_OWNER

    def _truncate_log(self, n: int) -> None:
        """Drop history after step n."""
        keep = []
        for e, s0 in zip(self.log, self._prefix):
            if s0 >= n:
                break
            keep.append([e[0], min(e[1], n - s0), e[2]])
        self.log = keep
        self.nr_steps = n
        self._prefix = self._build_prefix()
        for s in [s for s in self.checkpoints if s > n]:
            self._drop_checkpoint(s)
        for ix in self.index:
            ix.truncate(n)
        self._hist_cache.clear()

    # --- checkpoints
    def _take_checkpoint(self) -> None:
        if self.cur in self.checkpoints:
            return
        blobs = [sim.state_bytes() for sim in self.sims]
        self.checkpoints[self.cur] = blobs
        self._cp_cost[self.cur] = self._cost
        self._cp_size = sum(len(b) for b in blobs)
        self._cp_bytes += self._cp_size
        self._cp_acc[self.cur] = self.sims[0].position
        budget = self.budget()
        while self._cp_bytes > budget and len(self.checkpoints) > 2:
            # Over budget: drop the checkpoint (never step 0 or the newest)
            # whose removal leaves the cheapest merged gap, so the longest
            # replay grows as slowly as the memory allows.
            steps = sorted(self.checkpoints)
            gap = [self._gap_cost(steps[i - 1], steps[i + 1]) for i in range(1, len(steps) - 1)]
            self._drop_checkpoint(steps[1 + int(np.argmin(gap))])

    def _gap_cost(self, a: int, b: int) -> float:
        """Replay cost from checkpoint a to checkpoint b, in ms: the measured
        engine time, or the access count at the nominal rate, whichever is more."""
        t = (self._cp_cost[b] - self._cp_cost[a]) * 1000
        acc = self._cp_acc[b] - self._cp_acc[a]
        return max(t, acc * self.settings.checkpoint_replay_ms / self.settings.checkpoint_accesses)

    def _drop_checkpoint(self, s: int) -> None:
        blobs = self.checkpoints.pop(s)
        self._cp_cost.pop(s, None)
        self._cp_acc.pop(s, None)
        self._cp_bytes -= sum(len(b) for b in blobs)

    def _maybe_checkpoint(self, replaying: bool = False, by_steps: bool = True) -> None:
        """Checkpoint when replaying from the last one would cost more than
        `checkpoint_replay_ms` of engine time (measured as the steps were
        applied, so a reclaim-heavy stretch gets denser checkpoints than a
        run of page-cache hits) or `checkpoint_accesses` accesses, or, live,
        after `checkpoint_every` steps."""
        last = max((s for s in self.checkpoints if s <= self.cur), default=0)
        # measured engine time, or accesses at the nominal rate (the time is
        # noisy on a busy machine; the access count is not)
        cost = max(self._cost - self._cp_cost.get(last, 0.0),
                   (self.sims[0].position - self._cp_acc.get(last, 0))
                   * self.settings.checkpoint_replay_ms / self.settings.checkpoint_accesses / 1000)
        if replaying:
            # A seek pays for every checkpoint it takes (40-90 ms at 1 Mi
            # frames), so replay only fills real gaps (after thinning or a
            # rebuild), not ones that look long because this machine is busy;
            # a replay that is long anyway (a rebuild) lays them at the
            # normal spacing.
            long_replay = (self._cost - self._replay_from) * 1000 > 2 * self.settings.checkpoint_replay_ms
            if cost * 1000 < (1 if long_replay else 2) * self.settings.checkpoint_replay_ms:
                return
        elif (cost * 1000 < self.settings.checkpoint_replay_ms
              and (not by_steps or self.cur - last < self.settings.checkpoint_every)):
            return
        if replaying and self._cp_size:
            # A seek pays for every checkpoint it takes (~50 ms at 1 Mi
            # frames); while replaying, only fill gaps that fit the budget
            # rather than churn through thinning.
            if self._cp_bytes + self._cp_size > self.budget():
                return
        self._take_checkpoint()

    # --- applying units
    #
    # The engine's state_bytes() include its event ring, so replay must call
    # the engine exactly as the live step did: `step()` (events recorded) or
    # `run()` (the fast path, no events). The log says which: a run-ahead
    # access entry carries arg {"run": true}. Compare mode replays unit by
    # unit for the same reason (pane B's catch-up is a step or a run
    # depending on the gap).

    def _catch_up(self, d: int) -> None:
        """Compare mode: the other pane runs accesses up to the driver's position."""
        lead = self.sims[d].position
        for k, sim in enumerate(self.sims):
            gap = lead - sim.position
            if k == d or gap <= 0:
                continue
            if gap <= RUN_AHEAD_ACCESSES:
                sim.step("access", gap)
            else:
                sim.run(gap)

    def _driver(self, unit: str) -> int:
        """The pane a unit is applied to: A, except a unit only some policies have
        (MGLRU's `aging`), which goes to the first pane whose policy has it."""
        for k, info in enumerate(self.infos):
            if unit in info.units:
                return k
        return -1

    def _check_unit(self, unit: str) -> None:
        """SessionError unless some pane's policy has the step unit."""
        if self._driver(unit) < 0:
            have = [i.title for i in _engine().POLICY_INFO.values() if unit in i.units]
            raise SessionError("unsupported", f"the {unit} unit needs a pane running "
                                              f"{' or '.join(have) or 'a policy that has it'}")

    def _apply(self, unit: str, count: int, arg=None, live: bool = False) -> int:
        t0 = time.perf_counter()
        try:
            return self._apply_units(unit, count, arg, live)
        finally:
            self._cost += time.perf_counter() - t0

    def _apply_units(self, unit: str, count: int, arg=None, live: bool = False) -> int:
        """Apply `count` history steps of `unit` to the engines; returns how many
        steps the history gains.

        A unit cut short by the end of the workload (a `scan` that ran the
        last accesses without completing a batch) still changed the state:
        live, it is reported through self._partial, and logged as one more
        step with arg {"end": true}, which replay repeats as step(unit, 1)."""
        if unit == "debugfs":
            for k in arg["panes"]:
                self.sims[k].debugfs_write(arg["text"])
            return 1
        d = self._driver(unit)
        if d < 0:
            return 0
        a = self.sims[d]
        if unit == "access":   # an access is atomic: no partial units
            if arg and arg.get("run"):
                n = a.run(count)
                for sim in self.sims:
                    if sim is not a and a.position > sim.position:
                        sim.run(a.position - sim.position)
                return n
            n = a.step("access", count)
            self._catch_up(d)
            return n
        if arg and arg.get("end"):
            a.step(unit, 1)
            self._catch_up(d)
            return 1
        if not live and not self.compare:
            return a.step(unit, count)
        done = 0
        for _ in range(count):
            before = _fingerprint(a)
            got = a.step(unit, 1)
            self._catch_up(d)
            if got == 0:
                self._partial = live and _fingerprint(a) != before
                break
            done += got
        return done

    def _replay(self, target: int) -> None:
        """Bring the engines from self.cur (<= target) to step target, no events needed."""
        self._replay_from = self._cost
        i = max(0, self._entry_of(self.cur))
        while self.cur < target:
            unit, count, arg = self.log[i]
            s0 = self._prefix[i]
            end = min(s0 + count, target)
            while self.cur < end:
                k = end - self.cur
                # Chunk long entries so checkpoints land inside them.
                if unit == "access":
                    k = min(k, self.settings.checkpoint_chunk)
                else:
                    k = min(k, self.settings.checkpoint_every)
                got = self._apply(unit, k, arg)
                if got != k:
                    raise RuntimeError(f"replay diverged at step {self.cur}: {unit} x{k} gave {got}")
                self.cur += k
                self._maybe_checkpoint(replaying=True)
            i += 1

    def _entry_of(self, step: int) -> int:
        """Index of the log entry that holds step+1 (the next unit after `step`)."""
        return bisect.bisect_right(self._prefix, step) - 1

    def _goto(self, target: int) -> None:
        if target == self.cur:
            return
        if target < self.cur or not self.checkpoints:
            base = max(s for s in self.checkpoints if s <= target)
        else:
            base = max((s for s in self.checkpoints if s <= target), default=0)
            if base <= self.cur:
                base = None  # going forward from here is cheapest
        if base is not None:
            for sim, blob in zip(self.sims, self.checkpoints[base]):
                sim.load_state(blob)
            self.cur = base
            self._cost = self._cp_cost[base]
        self._replay(target)

    def _record(self, unit: str, count: int, arg=None, live: bool = False) -> Applied:
        """Apply with events on, for a frame: a new command (live) or one
        step of the history again (as its log entry says)."""
        before = [sim.vmstat() for sim in self.sims]
        seqs = [sim.event_seq for sim in self.sims]
        marks = [(sim.nr_access, sim.nr_batches) for sim in self.sims]
        base = self.cur
        self._partial = False
        n = self._apply(unit, count, arg, live)
        partial = self._partial
        n += partial
        events = []
        full = []          # per pane: every event the ring still held (run_until matches on these)
        cap = self.settings.max_events_per_frame
        for k, sim in enumerate(self.sims):
            total = sim.event_seq - seqs[k]
            ev = sim.events_since(seqs[k]) if total else None
            if ev is None:
                ev = np.zeros(0, dtype=_engine().EVENT_DTYPE)
            lost = total - len(ev)
            # The step each event belongs to, for the folio index.
            if n <= 1 or unit in ("shrink", "aging", "debugfs"):
                steps = np.full(len(ev), base + max(n, 1), dtype=np.int64)
            elif unit == "access":
                steps = base + 1 + (ev["nr_access"].astype(np.int64) - marks[k][0])
            else:
                steps = base + 1 + (ev["batch"].astype(np.int64) - marks[k][1])
            steps = np.clip(steps, base + 1, base + max(n, 1))
            self.index[k].add(ev, steps, base + 1, base + n, total - len(ev))
            full.append(ev)
            if len(ev) > cap:
                lost += len(ev) - cap
                ev = ev[-cap:]
            events.append((ev, lost))
        self.cur += n
        self._last_events = full
        return Applied(n, events, before, partial)

    def _run_ahead(self, count: int, arg: dict) -> Applied:
        """A long access step on the fast path, in chunks so that checkpoints
        land inside it (seeks into it then replay at most one chunk)."""
        before = [sim.vmstat() for sim in self.sims]
        done = 0
        while done < count:
            k = min(count - done, self.settings.checkpoint_chunk)
            got = self._apply("access", k, arg)
            self.cur += got
            self._append_log("access", got, arg)
            done += got
            if got < k:
                break
            # each access is a step here: only the replay cost decides
            self._maybe_checkpoint(by_steps=False)
        empty = np.zeros(0, dtype=_engine().EVENT_DTYPE)
        return Applied(done, [(empty, 0) for _ in self.sims], before)

    # --- frames
    def _pane_frame(self, k: int, applied: Optional[Applied]) -> P.PaneFrame:
        sim = self.sims[k]
        vm = sim.vmstat()
        names = self.names["vmstat"]
        if applied is not None:
            before = applied.vmstat_before[k]
            delta = {n: vm[n] - before.get(n, 0) for n in names if vm[n] != before.get(n, 0)}
            ev, lost = applied.events[k]
            steps_applied = applied.steps
        else:
            delta, ev, lost, steps_applied = {}, None, 0, 0
        if ev is None or len(ev) == 0:
            events = P.Events(n=0, dropped=lost)
        else:
            events = P.Events(n=len(ev), dropped=lost, **{c: ev[c].tolist() for c in EVENT_COLUMNS})
        sizes, gens = self._sizes(k, vm)
        return P.PaneFrame(pane=k, policy=self.policies[k], time_ns=int(sim.time_ns),
                           nr_access=int(sim.position), done=bool(sim.done),
                           steps_applied=steps_applied, events=events,
                           vmstat=[int(vm[n]) for n in names], vmstat_delta=delta,
                           sizes=sizes, gens=gens)

    def _sizes(self, k: int, vm: dict, lists: Optional[dict] = None):
        """Per-list sizes (and MGLRU's generations) without copying any folio list:
        the classic sizes are vmstat gauges; MGLRU's come from debugfs lru_gen."""
        sim = self.sims[k]
        sizes = {"nr_free": int(sim.nr_free)}
        if self.infos[k].view != "generations":
            for name in LISTS:
                sizes[name] = int(vm.get("nr_" + name[4:].lower(), 0))
            return sizes, None
        gens = _gens_of(sim, lists)
        sizes.update({"anon": sum(g["nr_pages"][0] for g in gens["gens"]),
                      "file": sum(g["nr_pages"][1] for g in gens["gens"]),
                      "LRU_UNEVICTABLE": int(vm.get("nr_unevictable", 0))})
        return sizes, gens

    def _frame(self, cause: str, applied: Optional[Applied] = None,
               truncated: bool = False, kept: Optional[dict] = None) -> P.Frame:
        panes = [self._pane_frame(k, applied) for k in range(len(self.sims))]
        return P.Frame(step=self.cur, nr_steps=self.nr_steps, truncated=truncated, cause=cause,
                       kept=kept,
                       partial=bool(applied and applied.partial),
                       done=all(p.done for p in panes), panes=panes)

    def _reply(self, cause: str, applied: Optional[Applied], truncated: bool = False,
               kept: Optional[dict] = None, wire: Optional[W.Wire] = None):
        """The answer to a step-like command: the JSON-shaped `Frame` for
        callers without a connection, the binary step message for one."""
        if wire is None:
            return self._frame(cause, applied, truncated, kept)
        return self._step_message(cause, applied, truncated, kept, wire)

    def _step_message(self, cause: str, applied: Optional[Applied], truncated: bool,
                      kept: Optional[dict], wire: W.Wire) -> W.StepMessage:
        """protocol.md §3.5: frame, events, counters and the list-layout delta
        against what `wire` was last sent, from the engine's arrays."""
        base_id = wire.id
        header = {"type": "step", "step": self.cur, "nr_steps": self.nr_steps,
                  "truncated": truncated, "kept": kept, "partial": bool(applied and applied.partial),
                  "cause": cause, "done": True, "layout_id": wire.next_id(), "layout_base": None,
                  "event_dtype": _event_layout(), "panes": []}
        arrays = []
        for k, sim in enumerate(self.sims):
            vm = sim.vmstat()
            now = np.fromiter(vm.values(), np.uint64, len(vm))
            if applied is not None:
                before = np.fromiter(applied.vmstat_before[k].values(), np.uint64, len(vm))
                ev, lost = applied.events[k]
            else:
                before, ev, lost = now, None, 0
            if ev is None:
                ev = np.zeros(0, dtype=_engine().EVENT_DTYPE)
            n = self.configs[k]["ram_pages"]
            sizes, gens = self._sizes(k, vm)
            flags = np.array(sim.frames()["flags"], dtype=np.uint32)   # a copy: a delta base
            p, prev = f"p{k}.", wire.layout.get(k)
            if n <= self.settings.order_layout_max_frames:
                nxt, young = W.order_links(sim, flags, n), sim.young_bits()
                part, delta = W.order_part(p, prev, flags, nxt, young)
                wire.layout[k] = ("order", flags, nxt, young)
            else:
                loc = self._locations(k, flags, gens)
                part, delta = W.location_part(p, prev, loc)
                wire.layout[k] = ("location", loc)
            if delta:
                header["layout_base"] = base_id
            done = bool(sim.done)
            header["done"] &= done
            header["panes"].append({
                "pane": k, "policy": self.policies[k], "nr_frames": n,
                "layout": "order" if n <= self.settings.order_layout_max_frames else "location",
                "layout_delta": delta, "time_ns": int(sim.time_ns), "nr_access": int(sim.position),
                "done": done, "steps_applied": applied.steps if applied is not None else 0,
                "events": {"n": len(ev), "dropped": int(lost)}, "sizes": sizes, "gens": gens,
                "meminfo": sim.meminfo(), "watermarks": dict(sim.watermarks),
                "nr_free": int(sim.nr_free), "nr_shadow": sim.nr_shadows(),
                "lru_gen": sim.lru_gen_text() if self.infos[k].debugfs else None})
            arrays += [(p + "vmstat", now),
                       (p + "vmstat_delta", now.astype(np.int64) - before.astype(np.int64)),
                       (p + "events", np.ascontiguousarray(ev).view(np.uint8))] + part
        msg = W.StepMessage(P.pack_message(header, arrays))
        msg.steps_applied = applied.steps if applied is not None else 0
        msg.done = header["done"]
        return msg

    def _state_bytes_frame(self, with_hash: Optional[bool] = None, base: Optional[W.Wire] = None,
                           delta: bool = False) -> bytes:
        header = {"type": "state", "step": self.cur, "nr_steps": self.nr_steps, "panes": []}
        if base is not None:
            header["layout_id"] = base.next_id()
        arrays = []
        for k, sim in enumerate(self.sims):
            vm = sim.vmstat()
            n = self.configs[k]["ram_pages"]
            order = n <= self.settings.order_layout_max_frames
            lists = sim.lists() if order else None
            sizes, gens = self._sizes(k, vm, lists)
            # sha256 of the whole state (~2 ms at 16 Ki frames, its 1 MiB event
            # ring included; ~200 ms at 1 Mi): only when a `state` request asks.
            hashed = bool(with_hash)
            flags = np.array(sim.frames()["flags"], dtype=np.uint32)   # a copy: a delta base
            pane = {"pane": k, "policy": self.policies[k], "nr_frames": n,
                    "layout": "order" if order else "location",
                    "time_ns": int(sim.time_ns), "nr_access": int(sim.position),
                    "done": bool(sim.done), "vmstat": {a: int(b) for a, b in vm.items()},
                    "meminfo": sim.meminfo(), "watermarks": dict(sim.watermarks),
                    "nr_free": int(sim.nr_free), "sizes": sizes, "gens": gens,
                    "state_hash": sim.state_hash() if hashed else None,
                    "lru_gen": sim.lru_gen_text() if self.infos[k].debugfs else None,
                    "nr_shadow": sim.nr_shadows()}
            header["panes"].append(pane)
            p = f"p{k}."
            if order:
                if self.infos[k].view == "generations":
                    for g in lists["gens"]:
                        arrays.append((f"{p}gen{int(g['seq'])}.anon", np.asarray(g["folios"][0], np.int32)))
                        arrays.append((f"{p}gen{int(g['seq'])}.file", np.asarray(g["folios"][1], np.int32)))
                    arrays.append((p + "LRU_UNEVICTABLE",
                                   np.asarray(lists.get("LRU_UNEVICTABLE", ()), np.int32)))
                else:
                    for name in LISTS:
                        arrays.append((p + name, np.asarray(lists.get(name, ()), np.int32)))
                young = sim.young_bits()
                arrays.append((p + "flags", flags))
                arrays.append((p + "young", young))
                # the links too: the base of the next step message's layout delta (wire.py)
                nxt = W.order_links(sim, flags, n)
                arrays.append((p + "next", nxt))
                if base is not None:
                    base.layout[k] = ("order", flags, nxt, young)
            else:
                loc = self._locations(k, flags, gens)
                prev = base.layout.get(k) if base is not None else None
                prev = prev[1] if prev is not None and prev[0] == "location" else None
                changed = None
                if delta and prev is not None and len(prev) == len(loc):
                    # Only what moved since the last state this connection got:
                    # a scan step changes a few dozen frames of 1 Mi (5 bytes
                    # each; when more than a fifth moved, the whole array is smaller).
                    changed = np.flatnonzero(prev != loc).astype(np.uint32)
                    if 5 * len(changed) >= len(loc):
                        changed = None
                if changed is not None:
                    pane["loc_delta"] = True
                    arrays.append((p + "loc_pfn", changed))
                    arrays.append((p + "loc_val", loc[changed]))
                else:
                    arrays.append((p + "loc", loc))
                if base is not None:
                    base.layout[k] = ("location", loc)
        return P.pack_state(header, arrays)

    def _locations(self, k: int, flags: np.ndarray, gens: Optional[dict]) -> np.ndarray:
        """One uint8 per frame (protocol.md §3.3): a lookup table indexed by the
        flag bits that decide the location, so 1 Mi frames cost one AND and
        one gather."""
        lut = np.full(_LOC_MASK + 1, LOC_OFF_LRU, dtype=np.uint8)
        for bits in _LOC_KEYS:
            if not bits & PG_lru:
                continue
            file = 0 if bits & PG_swapbacked else 1
            slot = (bits >> LRU_GEN_PGOFF) & 7
            if bits & PG_unevictable:
                lut[bits] = 4
            elif gens is None:
                lut[bits] = 2 * file + (1 if bits & PG_active else 0)
            elif slot:
                lo = gens["min_seq"][file]
                for seq in range(lo, gens["max_seq"] + 1):
                    if seq % MAX_NR_GENS + 1 == slot:
                        lut[bits] = LOC_GEN_BASE + 2 * (seq - lo) + file
        return lut[flags & _LOC_MASK]

    def _list_head(self, k: int, name: str) -> int:
        """The engine list head of a list name of the protocol ("LRU_*" or "gen<seq>.<type>")."""
        if name in LISTS:
            if self.infos[k].view == "generations" and name != "LRU_UNEVICTABLE":
                raise SessionError("bad_message", f"pane {k} runs {self.infos[k].title}: its lists are "
                                                  f"generations ('gen<seq>.anon'/'gen<seq>.file') "
                                                  f"and LRU_UNEVICTABLE")
            return HEAD_LRU + LISTS.index(name)
        if not name.startswith("gen") or self.infos[k].view != "generations":
            raise SessionError("bad_message", f"no list {name!r} in pane {k} ({self.policies[k]})")
        seq_s, _, kind = name[3:].partition(".")
        seq, t = int(seq_s), (0 if kind == "anon" else 1)
        gens = _gens_of(self.sims[k])
        if not gens["min_seq"][t] <= seq <= gens["max_seq"]:
            raise SessionError("bad_message", f"no generation seq {seq} for {kind} (min_seq "
                                              f"{gens['min_seq'][t]}, max_seq {gens['max_seq']})")
        return HEAD_GEN + (seq % MAX_NR_GENS) * 2 + t

    # --- public API (each takes the lock; `cursor` is the caller's step)
    def touch(self) -> None:
        self.last_used = time.monotonic()

    @_guarded
    def frame_at(self, step: int, cause: str, wire: Optional[W.Wire] = None,
                 truncated: bool = False, kept: Optional[dict] = None):
        """Seek to `step` (clamped) and describe it, with the events of step `step` itself."""
        with self.lock:
            self.touch()
            step = max(0, min(step, self.nr_steps))
            if step == 0:
                self._goto(0)
                return 0, self._reply(cause, None, truncated, kept, wire)
            self._goto(step - 1)
            i = self._entry_of(step - 1)
            unit, _, arg = self.log[i]
            applied = self._record(unit, 1, arg=arg)
            if applied.steps != 1:
                raise RuntimeError(f"replay diverged at step {step}")
            return self.cur, self._reply(cause, applied, truncated, kept, wire)

    @_guarded
    def state_at(self, step: int, with_hash: Optional[bool] = None, base: Optional[dict] = None,
                 delta: bool = False) -> bytes:
        """The binary state frame. `base` is the caller's (one connection's)
        {pane: location array} of the last state frame it was sent; it is
        updated, and with `delta` the location layout sends only the changes."""
        with self.lock:
            self.touch()
            self._goto(max(0, min(step, self.nr_steps)))
            return self._state_bytes_frame(with_hash, base, delta)

    @_guarded
    def zoom(self, cursor: int, pane: int, name: str, offset: int, count: int) -> bytes:
        """The folio order of list `name`, positions offset .. offset+count-1
        (head = 0), with each folio's flags and young bit: a binary `zoom` frame."""
        with self.lock:
            self.touch()
            if pane >= len(self.sims):
                raise SessionError("bad_message", f"no pane {pane}")
            count = min(count, P.ZOOM_MAX)
            self._goto(max(0, min(cursor, self.nr_steps)))
            sim = self.sims[pane]
            order = sim.list_pfns(self._list_head(pane, name))
            pfns = np.ascontiguousarray(order[offset:offset + count], dtype=np.int32)
            flags = np.asarray(sim.frames()["flags"])[pfns].astype(np.uint32)
            header = {"type": "zoom", "step": self.cur, "pane": pane, "list": name,
                      "offset": offset, "count": int(len(pfns)), "total": int(len(order))}
            return P.pack_state(header, [("pfn", pfns), ("flags", flags),
                                         ("young", sim.young_bits()[pfns])])

    @_guarded
    def step(self, cursor: int, unit: str, count: int, owner: bool,
             cause: str = "step", branch: bool = False, wire: Optional[W.Wire] = None):
        """Owner: apply `count` units at `cursor`; below the head only with
        `branch` (the history after the cursor is first kept as an immutable
        permalink session, then replaced). Viewer: walk the existing history forward."""
        limit = self.settings.max_count.get(unit, 1)
        if count > limit:
            raise SessionError("limit", f"count {count} is over this server's limit for "
                                        f"{unit!r} steps ({limit})")
        with self.lock:
            self.touch()
            cursor = max(0, min(cursor, self.nr_steps))
            if not owner:
                if cursor >= self.nr_steps:
                    raise SessionError("read_only", "read-only viewer at the end of the history: "
                                                    "fork the session to extend it")
                return self.frame_at(min(cursor + count, self.nr_steps), cause, wire)
            self._check_unit(unit)
            truncated = cursor < self.nr_steps
            kept = self._branch(cursor, branch) if truncated else None
            self._goto(cursor)
            if truncated:
                self._truncate_log(cursor)
            arg = {"run": True} if unit == "access" and count > RUN_AHEAD_ACCESSES else None
            if arg is None:
                applied = self._record(unit, count, arg, live=True)
                self._append_log(unit, applied.steps - applied.partial, arg)
                if applied.partial:
                    self._append_log(unit, 1, {"end": True})
            else:
                applied = self._run_ahead(count, arg)
            self._maybe_checkpoint()
            if truncated or applied.steps:
                self._log_changed()
            return self.cur, self._reply(cause, applied, truncated, kept, wire)

    def _branch(self, cursor: int, branch: bool) -> dict:
        """Before the owner rewrites history from `cursor`: refuse unless
        asked to branch; then keep the whole current history (so every link
        made into it stays true) as an immutable session."""
        if not branch:
            raise SessionError("branch_needed",
                               f"step {cursor} is below the head ({self.nr_steps}): stepping here "
                               f"starts a new branch (send branch: true); steps {cursor + 1}.."
                               f"{self.nr_steps} are then kept at a permalink")
        if self.on_branch is None:
            return None
        return {"id": self.on_branch(self, self.nr_steps), "nr_steps": self.nr_steps}

    # --- the whole-run timeline
    SERIES = ("nr_free_pages", "pgscan", "pgsteal", "workingset_refault", "pswpout", "pswpin")

    def series(self, upto: Optional[int] = None, points: int = 1000) -> dict:
        """Counter samples of every pane over the history (steps 0..upto, by
        default the head), at most ~`points` per pane: every `stride`-th step,
        stride a power of two. Built by a scratch replay that is kept and
        extended as the history grows (dropped when it is rewritten), so it
        never moves this session's engines or holds its lock while replaying."""
        with self.lock:
            upto = self.nr_steps if upto is None else max(0, min(upto, self.nr_steps))
            log, prefix = [list(e) for e in self.log], list(self._prefix)
        with self._series_lock:
            st = self._series_state
            if st is None or not _same_prefix(st["log"], log, st["at"]):
                scratch = Session(self.record, self.recipe, self.workload, self.settings, self.engine_mod)
                st = {"sess": scratch, "at": 0, "stride": 1, "log": log,
                      "samples": [[self._sample(sim)] for sim in scratch.sims], "steps": [0]}
                self._series_state = st
            st["log"] = log
            stride = 1
            while upto // stride > points:
                stride *= 2
            if stride > st["stride"]:   # thin what is there to the new spacing
                keep = [i for i, s in enumerate(st["steps"]) if s % stride == 0]
                st["steps"] = [st["steps"][i] for i in keep]
                st["samples"] = [[smp[i] for i in keep] for smp in st["samples"]]
                st["stride"] = stride
            stride = st["stride"]
            sess = st["sess"]
            if st["at"] < upto and st["steps"][-1] % stride:   # a partial sample at the old end
                st["steps"].pop()
                for smp in st["samples"]:
                    smp.pop()
            i = bisect.bisect_right(prefix, st["at"]) - 1
            while st["at"] < upto:
                unit, count, arg = log[i]
                end = min(prefix[i] + count, upto)
                while st["at"] < end:
                    nxt = min(end, (st["at"] // stride + 1) * stride)
                    k = nxt - st["at"]
                    got = sess._apply(unit, k, arg)
                    if got != k:
                        raise RuntimeError(f"series replay diverged at step {st['at']}")
                    st["at"] = nxt
                    if nxt % stride == 0:
                        st["steps"].append(nxt)
                        for smp, sim in zip(st["samples"], sess.sims):
                            smp.append(self._sample(sim))
                i += 1
            if st["steps"][-1] < st["at"]:      # the head, between two strides
                st["steps"].append(st["at"])
                for smp, sim in zip(st["samples"], sess.sims):
                    smp.append(self._sample(sim))
            n = bisect.bisect_right(st["steps"], upto)
            panes = []
            for smp in st["samples"]:
                cols = {"step": st["steps"][:n]}
                for j, name in enumerate(self.SERIES):
                    cols[name] = [row[j] for row in smp[:n]]
                panes.append(cols)
            return {"nr_steps": upto, "stride": stride, "panes": panes}

    @staticmethod
    def _sample(sim) -> tuple:
        v = sim.vmstat()
        return (v["nr_free_pages"], v["pgscan_kswapd"] + v["pgscan_direct"],
                v["pgsteal_kswapd"] + v["pgsteal_direct"],
                v["workingset_refault_anon"] + v["workingset_refault_file"], v["pswpout"], v["pswpin"])

    # --- run until
    def _matcher(self, until: "P.Until", pane: int) -> Callable:
        """A predicate over one step (its pane events, the engine) for run_until;
        validates the condition first (SessionError naming what is wrong)."""
        from engine import names as N
        sim = self.sims[pane]
        if until.kind == "counter":
            if until.counter not in N.VMSTAT_NAMES:
                raise SessionError("bad_message", f"no vmstat counter {until.counter!r}")
            name, v0 = until.counter, sim.vmstat()[until.counter]

            def counter(ev, sim):
                v = sim.vmstat()[name]
                ok = v != v0 if until.op == "changes" else v >= until.value
                return {"counter": name, "value": int(v), "was": int(v0)} if ok else None
            return counter
        kinds = ["inc_max_seq"] if until.kind == "aging" else until.events
        if until.kind == "aging" and "aging" not in self.infos[pane].units:
            raise SessionError("unsupported", f"pane {pane} runs {self.infos[pane].title}: it never ages")
        bad = [k for k in kinds if k not in N.EVENT_KINDS]
        if not kinds or bad:
            raise SessionError("bad_message", f"run_until needs event kinds from names.event_kinds"
                                              f"{': no ' + repr(bad[0]) if bad else ''}")
        codes = [N.EVENT_KINDS.index(k) for k in kinds]
        raw = None
        if until.mapping is not None:
            raw = until.mapping + NR_INTERNAL_MMS if until.anon else until.mapping

        def event(ev, sim):
            m = np.isin(ev["kind"], codes)
            if raw is not None:
                m &= ev["mapping"] == raw
                if until.anon is not None:   # anon mm m and file m + 2 share a raw id: tell by where they go
                    locs_a = np.isin(ev["src"], ANON_LISTS + (LOC_SWAP,)) | np.isin(ev["dst"], ANON_LISTS + (LOC_SWAP,))
                    locs_f = (np.isin(ev["src"], FILE_LISTS + (LOC_SHADOW, LOC_STORAGE))
                              | np.isin(ev["dst"], FILE_LISTS + (LOC_SHADOW, LOC_STORAGE)))
                    m &= ~(locs_f if until.anon else locs_a)
            if until.index_lo is not None:
                m &= ev["index"] >= until.index_lo
            if until.index_hi is not None:
                m &= ev["index"] <= until.index_hi
            hit = np.flatnonzero(m)
            if len(hit) == 0:
                return None
            r = ev[hit[0]]
            return {"seq": int(r["seq"]), "kind": N.EVENT_KINDS[int(r["kind"])], "pfn": int(r["pfn"]),
                    "mapping": int(r["mapping"]), "index": int(r["index"])}
        return event

    @_guarded
    def run_until(self, cursor: int, until: "P.Until", unit: str, pane: int, max_steps: int,
                  owner: bool, branch: bool = False, progress: Optional[Callable] = None,
                  cancel=None, wire: Optional[W.Wire] = None):
        """Owner: step by `unit` until the condition holds, the workload ends,
        `max_steps` steps were taken, or `cancel` (a threading.Event) is set;
        every step is a step of the history, so the session stays consistent
        at whatever step boundary it stopped. `progress(P.Progress)` is called
        about every 100 ms (from this worker thread)."""
        if not owner:
            raise SessionError("read_only", "run until extends the history: fork the session first")
        with self.lock:
            self.touch()
            if pane >= len(self.sims):
                raise SessionError("bad_message", f"no pane {pane}")
            self._check_unit(unit)
            cursor = max(0, min(cursor, self.nr_steps))
            self._goto(cursor)
            match = None if until.kind in ("accesses", "end") else self._matcher(until, pane)
            truncated = cursor < self.nr_steps
            kept = self._branch(cursor, branch) if truncated else None
            if truncated:
                self._truncate_log(cursor)
            sim, total = self.sims[pane], len(self.accesses)
            start, t0 = self.cur, time.monotonic()
            last = [t0 - 1.0]      # the first report comes after the first unit
            reason, found, applied = "limit", None, None

            def report():
                now = time.monotonic()
                if progress is not None and now - last[0] >= 0.1:
                    last[0] = now
                    progress(P.Progress(ref="run_until", steps=self.cur - start,
                                        nr_access=int(sim.position), total=total,
                                        elapsed_ms=int((now - t0) * 1000)))
            if match is None:
                target = total if until.kind == "end" else min(total, int(sim.position) + until.n)
                arg = {"run": True}
                while sim.position < target:
                    if cancel is not None and cancel.is_set():
                        reason = "cancelled"
                        break
                    k = min(target - int(sim.position), self.settings.checkpoint_chunk)
                    got = self._apply("access", k, arg)
                    self.cur += got
                    self._append_log("access", got, arg)
                    self._maybe_checkpoint(by_steps=False)
                    if got < k:
                        break
                    report()
                else:
                    reason = "found"
                if reason != "cancelled" and sim.position < target:
                    reason = "end"
            else:
                while self.cur - start < max_steps:
                    if cancel is not None and cancel.is_set():
                        reason = "cancelled"
                        break
                    applied = self._record(unit, 1, None, live=True)
                    self._append_log(unit, applied.steps - applied.partial, None)
                    if applied.partial:
                        self._append_log(unit, 1, {"end": True})
                    self._maybe_checkpoint()
                    if applied.steps == 0:
                        reason = "end"
                        break
                    found = match(self._last_events[pane], sim)
                    if found is not None:
                        reason = "found"
                        found["step"] = self.cur
                        break
                    if sim.done:
                        reason = "end"
                        break
                    report()
            if self.cur != start or truncated:
                self._log_changed()
            if applied is not None:
                frame = self._reply("run", applied, truncated, kept, wire)
            else:
                _, frame = self.frame_at(self.cur, "run", wire, truncated, kept)
            return self.cur, frame, P.RunResult(reason=reason, steps=self.cur - start, step=self.cur,
                                                event=found)

    @_guarded
    def debugfs(self, cursor: int, text: str, pane: Optional[int],
                branch: bool = False, wire: Optional[W.Wire] = None):
        with self.lock:
            self.touch()
            eng = _engine()
            panes = [pane] if pane is not None else [k for k, i in enumerate(self.infos) if i.debugfs]
            if (not panes or any(k >= len(self.sims) for k in panes)
                    or any(not self.infos[k].debugfs for k in panes)):
                raise SessionError("debugfs", "debugfs needs a pane whose policy has a debugfs "
                                              "interface (MGLRU's lru_gen)", errno="EPERM")
            cursor = max(0, min(cursor, self.nr_steps))
            self._goto(cursor)
            # Try it first and roll back, so a rejected write changes nothing
            # and an accepted one is then recorded after the history is cut.
            saved = [sim.state_bytes() for sim in self.sims]
            arg = {"text": text, "panes": panes}
            try:
                for k in panes:
                    self.sims[k].debugfs_write(text)
            except _debugfs_errors(eng) as e:
                raise SessionError("debugfs", f"{self.infos[panes[0]].debugfs} write rejected: {e}",
                                   errno=getattr(e, "errno", None) or "EINVAL") from None
            finally:
                for sim, blob in zip(self.sims, saved):
                    sim.load_state(blob)
            truncated = cursor < self.nr_steps
            kept = self._branch(cursor, branch) if truncated else None
            self._goto(cursor)
            if truncated:
                self._truncate_log(cursor)
            applied = self._record("debugfs", 1, arg=arg)
            self._append_log("debugfs", 1, arg)
            self._log_changed()
            return self.cur, self._reply("debugfs", applied, truncated, kept, wire)

    @_guarded
    def lru_gen_text(self, cursor: int, pane: int, full: bool) -> P.LruGenText:
        with self.lock:
            self.touch()
            if pane >= len(self.sims) or not self.infos[pane].debugfs:
                raise SessionError("unsupported", f"pane {pane} runs no policy with a debugfs "
                                                  f"interface (MGLRU's lru_gen)")
            self._goto(max(0, min(cursor, self.nr_steps)))
            return P.LruGenText(pane=pane, full=full, text=self.sims[pane].lru_gen_text(full))

    def owner_name(self, anon: bool, mapping: int) -> Optional[str]:
        """The workload's name of mm / file `mapping` (trace or scenario), if any."""
        names = getattr(self.workload, "names", None) or {}
        lst = names.get("mm" if anon else "file") or []
        return str(lst[mapping]) if 0 <= mapping < len(lst) else None

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

    def _cost_at(self, step: int) -> float:
        """Measured engine seconds from step 0 to `step` (an estimate from the
        nearest checkpoint, or the current position, below it)."""
        known = {s: c for s, c in self._cp_cost.items() if s <= step}
        if self.cur <= step:
            known[self.cur] = self._cost
        base = max(known)
        per_step = known[base] / base if base else 0.0
        return known[base] + per_step * (step - base)

    def _replay_history(self, pane: int, key: tuple, upto: int) -> tuple:
        """Every event of one folio identity up to step `upto`, by replaying
        the history from step 0 with events on in a scratch copy of this
        session (the engine is deterministic, so these are the events the
        live steps had). Run-ahead access steps are stepped in chunks small
        enough for the engine's event ring."""
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

    @_guarded
    def summary(self) -> list[dict]:
        with self.lock:
            self._goto(self.nr_steps)
            small = [c["ram_pages"] <= self.settings.order_layout_max_frames for c in self.configs]
            return [{"policy": self.policies[k], "nr_access": int(sim.position),
                     "time_ns": int(sim.time_ns), "done": bool(sim.done),
                     "state_hash": sim.state_hash() if small[k] else None,
                     "vmstat": sim.vmstat()}
                    for k, sim in enumerate(self.sims)]

    def hello(self, role: str, cursor: int, limits: dict) -> P.Hello:
        from engine.kernels import KERNELS
        # the title names the kernel profile too: compare mode may put one policy under two
        return P.Hello(session=self.id, role=role, nr_steps=self.nr_steps, cursor=cursor,
                       compare=self.compare, pinned=self.immutable,
                       panes=[{"policy": p, "kernel": s.config["kernel"],
                               "title": f'{i.title} · {s.config["kernel"]}',
                               "kernel_title": KERNELS[s.config["kernel"]]["title"],
                               "config": _jsonable(s.config), "info": i.public()}
                              for p, i, s in zip(self.policies, self.infos, self.sims)],
                       recipe=self.record.recipe, names={**self.names, "owners": self.owner_names()},
                       limits=limits)

    def owner_names(self, cap: int = 4096) -> dict:
        """The workload's mm and file names by owner id (the first `cap` of each)."""
        names = getattr(self.workload, "names", None) or {}
        return {k: [str(x) for x in (names.get(k) or [])[:cap]] for k in ("mm", "file")}

    _LIVE_STATE = ("workload", "accesses", "sims", "checkpoints", "_cp_bytes", "_cp_size", "_cost",
                   "_replay_from", "_cp_cost", "_cp_acc", "index", "cur", "_partial")

    def park(self) -> bool:
        """Drop what a rebuild can recreate; False if the session is busy."""
        if not self.lock.acquire(blocking=False):
            return False
        try:
            if self.parked or self._unparking:   # (the lock is re-entrant)
                return self.parked
            self.sims, self.checkpoints, self.index = [], {}, []
            self.workload = self.accesses = None
            self._cp_bytes = 0
            self.parked = True
            return True
        finally:
            self.lock.release()

    def _unpark(self) -> None:
        self._unparking = True
        try:
            fresh = self.rebuild(self.id)   # may raise OverBudget: a 503 / an error frame
        finally:
            self._unparking = False
        for k in self._LIVE_STATE:
            setattr(self, k, getattr(fresh, k))
        self.parked = False

    @_guarded
    def ensure_live(self) -> None:
        """Unpark (by the decorator) if parked; nothing otherwise."""

    def _recover(self) -> None:
        for sim, blob in zip(self.sims, self.checkpoints[0]):
            sim.load_state(blob)
        self.cur = 0
        self._cost = 0.0

    def is_owner(self, token: Optional[str]) -> bool:
        return token_matches(token, self.record.owner_hash)

    def _log_changed(self) -> None:
        if self.on_log_change is not None:
            self.on_log_change(self)


def _same_prefix(a: list, b: list, n: int) -> bool:
    """Do run-length logs a and b agree on their first n steps?"""
    def cut(log):
        out, s = [], 0
        for unit, count, arg in log:
            if s >= n:
                break
            out.append([unit, min(count, n - s), arg])
            s += count
        return out
    return cut(a) == cut(b)


def _gens_of(sim, lists: Optional[dict] = None) -> dict:
    """MGLRU's generation window: {max_seq, min_seq: [anon, file], gens: [...]}, oldest first.

    From debugfs lru_gen (one line per gen: seq, age_ms, nr anon, nr file)
    and the policy's seq counters: sim.lists() would copy every folio list
    (~30 ms at 1 Mi frames), this costs microseconds."""
    pol = getattr(sim, "policy", None)
    if lists is None and pol is not None and hasattr(pol, "max_seq") and hasattr(pol, "min_seq"):
        gens = []
        for line in sim.lru_gen_text().splitlines():
            parts = line.split()
            if len(parts) == 4 and all(p.isdigit() for p in parts):
                seq, age, anon, file = map(int, parts)
                gens.append({"seq": seq, "gen": seq % MAX_NR_GENS, "age_ms": age,
                             "nr_pages": [anon, file]})
        return {"max_seq": int(pol.max_seq), "min_seq": [int(x) for x in pol.min_seq], "gens": gens}
    lists = lists if lists is not None else sim.lists()
    gens = [{"seq": int(g["seq"]), "gen": int(g["gen"]), "age_ms": int(g.get("age_ms", 0)),
             "nr_pages": [int(x) for x in g["nr_pages"]]} for g in lists["gens"]]
    gens.sort(key=lambda g: g["seq"])
    return {"max_seq": int(lists["max_seq"]), "min_seq": [int(x) for x in lists["min_seq"]],
            "gens": gens}


@functools.lru_cache(maxsize=1)
def _event_layout() -> dict:
    """The engine's event record layout, for the step message header (wire.py)."""
    return W.event_layout(_engine().EVENT_DTYPE)


def _fingerprint(sim) -> tuple:
    """Cheap evidence that a call changed the engine's state."""
    return (sim.position, sim.event_seq, sim.nr_batches, sim.nr_shrink_passes, sim.nr_aging,
            sim.time_ns)


def _debugfs_errors(eng) -> tuple:
    errs = [getattr(eng, "DebugfsError", None)]
    try:
        from engine import errors
        errs.append(errors.DebugfsError)
    except ImportError:
        pass
    return tuple(e for e in errs if isinstance(e, type))


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, bytes):
        return x.hex()
    return x


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


# --- the manager -------------------------------------------------------------------

class SessionManager:
    """Creates, finds, forks and drops sessions. Live sessions are kept in
    memory (LRU, bounded; idle ones dropped) and rebuilt from the store.

    Memory admission (backend/budget.py): every session's estimated
    footprint is reserved in `ledger` *before* its workload or engines are
    built — on create, fork, and rebuild from the store. When it does not
    fit, `make_room` drops idle unconnected sessions (LRU first), then parks
    connected ones idle for `park_idle_seconds`; if it still does not fit,
    OverBudget (the routes answer 503)."""

    def __init__(self, store: Store, settings, engine_mod=None):
        self.store, self.settings, self.engine_mod = store, settings, engine_mod
        self._live: "collections.OrderedDict[str, Session]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self.ledger = Ledger(settings.budget_bytes())

    # --- admission
    def _need(self, recipe: Recipe, nr_accesses: int) -> int:
        return session_bytes(recipe.engine_configs(), nr_accesses)

    def make_room(self, deficit: int) -> int:
        """Free at least `deficit` reserved bytes if possible; returns how many."""
        freed, now = 0, time.monotonic()
        with self._lock:
            for sid, s in list(self._live.items()):      # least recently used first
                if freed >= deficit:
                    break
                if s.refs == 0:
                    del self._live[sid]
                    freed += self.ledger.held(sid)
                    self.ledger.release(sid)
            parkable = [s for s in self._live.values()
                        if s.refs > 0 and not s.parked
                        and now - s.last_used > self.settings.park_idle_seconds]
        for s in parkable:
            if freed >= deficit:
                break
            held = self.ledger.held(s.id)
            if s.park():
                freed += held
                self.ledger.release(s.id)
                log.info("session %s parked to make room (idle %.0f s, %d MiB)", s.id,
                         now - s.last_used, held >> 20)
        return freed

    def _build(self, rec: SessionRecord, recipe: Recipe, trace: Optional[TraceRecord],
               nr_accesses: int, workload=None) -> Session:
        """Admit, then build; the reservation is released if the build fails.
        MemoryError (the estimate was short, or the machine is busy) is an
        OverBudget too: never a 500."""
        need = self._need(recipe, nr_accesses)
        self.ledger.admit(rec.id, need, self.make_room)
        try:
            if workload is None:
                workload = build_workload(recipe, self.store, trace)
            n = len(_accesses_of(workload))
            if n > self.settings.max_accesses:
                raise ValueError(f"workload has {n} accesses; this server's max_accesses is "
                                 f"{self.settings.max_accesses}")
            return Session(rec, recipe, workload, self.settings, self.engine_mod)
        except MemoryError:
            self.ledger.release(rec.id)
            raise OverBudget(need, self.ledger.used(), self.ledger.budget,
                             "this session (the build ran out of memory)") from None
        except BaseException:
            self.ledger.release(rec.id)
            raise

    def _trace_of(self, recipe: Recipe) -> Optional[TraceRecord]:
        if recipe.workload.trace_id is None:
            return None
        rec = self.store.get_trace(recipe.workload.trace_id)
        if rec is None:
            raise UnknownTrace(recipe.workload.trace_id)
        return rec

    def create(self, recipe: Recipe, parent: Optional[tuple[str, int]] = None,
               log: Optional[list] = None, nr_steps: int = 0) -> tuple[Session, str]:
        """Admit, validate by building it, then store. Raises ValueError (e.g.
        the engine's ConfigError or a WorkloadError) naming the problem, or
        OverBudget."""
        trace = self._trace_of(recipe)
        n = accesses_of_recipe(recipe, trace.nr_accesses if trace else None)
        if n > self.settings.max_accesses:
            raise ValueError(f"workload has {n} accesses; this server's max_accesses is "
                             f"{self.settings.max_accesses}")
        token = new_id(24)
        stored = recipe.model_dump(mode="json")
        rec = SessionRecord(id=new_id(), recipe=stored, owner_hash=hash_token(token),
                            log=log or [], nr_steps=nr_steps,
                            parent_id=parent[0] if parent else None,
                            parent_step=parent[1] if parent else None)
        session = self._build(rec, recipe, trace, n)
        rec.recipe = {**stored, "engine_config": [_jsonable(s.config) for s in session.sims],
                      "engine_version": _engine_version()}
        if trace is not None:
            # The recipe pins the trace: its bytes and format, checked on rebuild.
            rec.recipe["trace_pin"] = {"sha256": trace.sha256, "format": trace.format}
        self.store.create_session(rec)
        self._adopt(session)
        return session, token

    def fork(self, sid: str, step: Optional[int]) -> tuple[Session, str]:
        src = self.get(sid)
        with src.lock:
            if src.parked:
                src._unpark()
            n = src.nr_steps if step is None else max(0, min(step, src.nr_steps))
            log = src.log_prefix(n)
            recipe = src.recipe
            workload = src.workload
        token = new_id(24)
        stored = {k: v for k, v in src.record.recipe.items()}
        rec = SessionRecord(id=new_id(), recipe=stored, owner_hash=hash_token(token), log=log,
                            nr_steps=n, parent_id=sid, parent_step=n)
        session = self._build(rec, recipe, None, len(_accesses_of(workload)), workload)
        self.store.create_session(rec)
        self._adopt(session)
        return session, token

    def permalink(self, sid: str, step: Optional[int]) -> tuple[str, int]:
        """An immutable session holding the first `step` steps of `sid`:
        content-addressed (its id is a hash of the stored recipe and that
        history prefix, so the same state always gets the same link) and
        owned by no one (no token hashes to its owner_hash), so no later
        step, branch or rewrite of `sid` can change what it shows."""
        src = self.get(sid)
        with src.lock:
            n = src.nr_steps if step is None else max(0, min(step, src.nr_steps))
            log = src.log_prefix(n)
            stored = dict(src.record.recipe)
        return self._pin(stored, log, n, sid), n

    def _pin(self, stored: dict, log: list, n: int, parent: str) -> str:
        canon = json.dumps({"recipe": {k: v for k, v in stored.items() if k != "engine_version"},
                            "log": log}, sort_keys=True, separators=(",", ":"))
        pid = PERMALINK_PREFIX + base64.b32encode(
            hashlib.sha256(canon.encode()).digest()[:15]).decode().lower()
        if self.store.get_session(pid) is None:
            rec = SessionRecord(id=pid, recipe=stored, owner_hash=IMMUTABLE_OWNER, log=log,
                                nr_steps=n, parent_id=parent, parent_step=n)
            try:
                self.store.create_session(rec)
            except Exception:
                if self.store.get_session(pid) is None:   # not a concurrent twin: a real failure
                    raise
        return pid
    def _load(self, sid: str) -> Session:
        """A Session rebuilt from its stored record (admitted first). A row or
        trace that cannot be used raises DamagedRecord naming the session."""
        rec = self.store.get_session(sid)
        if rec is None:
            raise UnknownSession(sid)
        recipe_data = {k: v for k, v in rec.recipe.items()
                       if k not in ("engine_config", "engine_version", "trace_pin")}
        try:
            recipe = Recipe.model_validate(recipe_data)
        except ValueError as e:
            raise DamagedRecord("session", sid, f"its recipe no longer validates: "
                                f"{str(e).splitlines()[0]}") from None
        try:
            trace = self._trace_of(recipe)
        except DamagedRecord as e:
            raise DamagedRecord("session", sid, str(e)) from None
        except UnknownTrace as e:
            raise DamagedRecord("session", sid, f"its {e}") from None
        pin = rec.recipe.get("trace_pin")
        if trace is not None and pin is not None and (
                pin.get("sha256") != trace.sha256 or pin.get("format") != trace.format):
            raise DamagedRecord("session", sid, f"trace {trace.id!r} is not the one its "
                                "recipe was built from")
        n = accesses_of_recipe(recipe, trace.nr_accesses if trace else None)
        try:
            return self._build(rec, recipe, trace, n)
        except (ValueError, AssertionError) as e:   # e.g. a log the engine cannot replay
            raise DamagedRecord("session", sid, str(e).splitlines()[0] if str(e) else
                                type(e).__name__) from None

    def _rebuild_parked(self, sid: str) -> Session:
        return self._load(sid)

    def get(self, sid: str) -> Session:
        with self._lock:
            s = self._live.get(sid)
            if s is not None:
                self._live.move_to_end(sid)
                s.touch()
        if s is not None:
            if s.parked:
                s.ensure_live()
            return s
        with self._lock:
            load_lock = self._loading.setdefault(sid, threading.Lock())
        try:
            with load_lock:  # one rebuild per id even when many ask at once
                with self._lock:
                    s = self._live.get(sid)
                    if s is not None:
                        return s
                s = self._load(sid)
                self._adopt(s)
                return s
        finally:
            with self._lock:
                self._loading.pop(sid, None)

    def exists(self, sid: str) -> bool:
        with self._lock:
            if sid in self._live:
                return True
        try:
            return self.store.get_session(sid) is not None
        except DamagedRecord:
            return True

    def _adopt(self, s: Session) -> None:
        s.on_log_change = self._save
        s.on_branch = lambda sess, n: self._pin(dict(sess.record.recipe), sess.log_prefix(n),
                                                n, sess.id)
        s.share_of_total = self._share
        s.rebuild = self._rebuild_parked
        with self._lock:
            self._live[s.id] = s
            self._live.move_to_end(s.id)
        self.evict()

    def _share(self) -> int:
        """Each live session's share of the checkpoint memory beyond step 0:
        checkpoint_total_bytes, or what the memory budget leaves over, split
        equally."""
        live = list(self._live.values())
        # the step-0 checkpoints are in the reservations already, and in the
        # sessions' checkpoint bytes too: add them back to what is left over
        step0 = sum(sum(len(b) for b in s.checkpoints.get(0, [])) for s in live)
        pool = min(self.settings.checkpoint_total_bytes, self.ledger.left_over() + step0)
        return pool // max(1, len(live))

    def _save(self, s: Session) -> None:
        self.store.save_log(s.id, s.log, s.nr_steps)

    def evict(self, now: Optional[float] = None) -> list[str]:
        """Drop idle sessions (no connection) past idle_seconds, then the least
        recently used ones while over max_live_sessions. They stay in the store."""
        now = time.monotonic() if now is None else now
        dropped = []
        with self._lock:
            for sid, s in list(self._live.items()):
                if s.refs == 0 and now - s.last_used > self.settings.idle_seconds:
                    del self._live[sid]
                    dropped.append(sid)
            over = len(self._live) - self.settings.max_live_sessions
            for sid, s in list(self._live.items()):
                if over <= 0:
                    break
                if s.refs == 0:
                    del self._live[sid]
                    dropped.append(sid)
                    over -= 1
        for sid in dropped:
            self.ledger.release(sid)
        return dropped

    def live_ids(self) -> list[str]:
        with self._lock:
            return list(self._live)

    def upload_trace(self, data: bytes, filename: str) -> TraceRecord:
        """Parse (size-capped), then store under its content address (bytes +
        format). Uploading the same bytes again returns the stored record
        unchanged; the same bytes as another format get another id."""
        if len(data) > self.settings.max_trace_bytes:
            raise ValueError(f"trace is {len(data)} bytes; the limit is {self.settings.max_trace_bytes}")
        wl = parse_trace(data, filename, None, self.settings)
        n = len(_accesses_of(wl))
        if n > self.settings.max_accesses:
            raise ValueError(f"trace has {n} accesses; this server's max_accesses is "
                             f"{self.settings.max_accesses}")
        fmt = wl.meta["format"]
        sha = hashlib.sha256(data).hexdigest()
        rec = TraceRecord(id=trace_id(data, fmt), filename=filename, sha256=sha, nr_accesses=n,
                          data=data, format=fmt)
        return self.store.put_trace(rec)


@functools.lru_cache(maxsize=1)
def _engine_version() -> str:   # importlib.metadata reads the dist-info: ~1 ms a call
    try:
        from importlib.metadata import version
        return version("reclaimlab")
    except Exception:
        return "unknown"

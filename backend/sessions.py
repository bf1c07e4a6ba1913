"""Sessions: one or two engines, their recipe, history, checkpoints and the
per-folio event index. Domain only: imports no web framework, and every
method is synchronous (the transport calls them in a worker thread, except
the small steps `small_step` names, which it runs on its event loop).

The session's parts live in their own modules, mixed into Session here:
backend/history.py (command log, checkpoints, replay), backend/frames.py
(frames, step messages, state and zoom views) and backend/folio_index.py
(the per-folio event index and `inspect`). This module keeps the Session
core (its state, the commands that extend the history, run_until, debugfs,
the timeline, parking) and the SessionManager.

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
from typing import Callable, Optional

import numpy as np

from backend import protocol as P
from backend.budget import Ledger, OverBudget, accesses_of_recipe, session_bytes
from backend.recipes import Recipe
from backend import wire as W
from backend.workers import route_of
from backend.store import (DamagedRecord, SessionRecord, Store, TraceRecord, hash_token, new_id,
                           token_matches, trace_id)
# Also re-exported: the routes, the CLI and the tests import SessionError,
# UnknownSession, UnknownTrace, EVENT_COLUMNS, LISTS and _gens_of from here.
from backend.session_common import (SessionError, UnknownSession, UnknownTrace,  # noqa: F401
                                    _engine, _guarded, _jsonable)
from backend.history import RUN_AHEAD_ACCESSES, History, _same_prefix  # noqa: F401
from backend.frames import EVENT_COLUMNS, LISTS, Frames, _gens_of  # noqa: F401
from backend.folio_index import (ANON_LISTS, FILE_LISTS, LOC_SHADOW, LOC_STORAGE, LOC_SWAP,  # noqa: F401
                                 NR_INTERNAL_MMS, FolioIndex, FolioInspect)

log = logging.getLogger("reclaimlab.sessions")
PERMALINK_PREFIX = "h"      # + 24 base32 letters of sha256(recipe, log prefix): a pinned history
IMMUTABLE_OWNER = ""        # owner_hash of a permalink session: no token hashes to it


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


class Session(History, Frames, FolioInspect):
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

    @property
    def immutable(self) -> bool:
        return self.record.owner_hash == IMMUTABLE_OWNER

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
    def step(self, cursor: int, unit: str, count: int, owner: bool,
             cause: str = "step", branch: bool = False, wire: Optional[W.Wire] = None,
             checkpoint: bool = True):
        """Owner: apply `count` units at `cursor`; below the head only with
        `branch` (the history after the cursor is first kept as an immutable
        permalink session, then replaced). Viewer: walk the existing history forward.
        `checkpoint=False` leaves a due checkpoint to the caller (`settle()`
        once the reply is sent): at 1 Mi frames it is ~50-60 ms of engine
        copying that the step's reply need not wait for."""
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
            if checkpoint:
                self._maybe_checkpoint()
            if truncated or applied.steps:
                self._log_changed()     # before the reply: a step a client has seen is on disk
            return self.cur, self._reply(cause, applied, truncated, kept, wire)

    # Units a peek may compute ahead: those an owner steps through one key at
    # a time (an aging unit or a long run is not worth computing twice).
    PEEK_UNITS = ("access", "scan", "shrink")

    def peek(self, cursor: int, unit: str, count: int, wire: W.Wire) -> Optional[W.StepMessage]:
        """The owner's next step, computed ahead and undone (protocol.md
        §3.6): the step message `step(cursor, unit, count)` would send, built
        on a copy of `wire`, or None when a peek does not apply (not at the
        head, a big machine, a long or other unit, the workload done, a
        parked session). The engines are saved first and loaded back after,
        and nothing is logged or indexed, so neither this session's history
        nor anyone's view of it changes; the step, when the owner takes it,
        is computed again from the same state and commands and so gives the
        same bytes (the engine is deterministic)."""
        if (unit not in self.PEEK_UNITS or count > self.INLINE_UNITS
                or sum(c["ram_pages"] for c in self.configs) > self.settings.peek_max_frames):
            return None
        with self.lock:
            if self.parked or cursor != self.nr_steps or self.cur != cursor or self._driver(unit) < 0:
                return None
            saved = [sim.state_bytes() for sim in self.sims]
            kept = (self.cur, self._cost, self._partial, self._last_events)
            try:
                applied = self._record(unit, count, None, live=True, index=False)
                if applied.steps == 0:
                    return None
                return self._step_message("step", applied, False, None, wire.copy(),
                                          peek={"unit": unit, "count": count})
            finally:
                for sim, blob in zip(self.sims, saved):
                    sim.load_state(blob)
                self.cur, self._cost, self._partial, self._last_events = kept

    def checkpoint_due(self) -> bool:
        """Whether `settle()` would take a checkpoint now (read without the
        lock: a stale answer only moves the checkpoint to the next step)."""
        return not self.parked and self._checkpoint_due()

    @_guarded
    def settle(self) -> None:
        """The checkpoint a `step(checkpoint=False)` left, if it is still due.
        Checkpoints only shorten replays (they are memory, not the disk), so
        taking one a moment after the step changes no reply."""
        if self._checkpoint_due():
            self._take_checkpoint()

    # Small steps (docs/server.md "Small steps run on the event loop"): at
    # most ~2 ms of work at 32 Ki frames (MGLRU aging is 6-9 ms: never).
    INLINE_ACCESSES, INLINE_UNITS = 64, 8

    def small_step(self, cursor: int, unit: str, count: int, owner: bool,
                   alone: bool = False) -> bool:
        """Whether stepping from `cursor` is cheap enough to run on the
        caller's thread: a small machine, a few units, and no seek, branch or
        unpark first (the engines are at `cursor`). Read without the lock:
        the caller checks again while holding it (`inline_ready`).

        A big machine's (up to `inline_alone_max_frames`) one-unit step
        counts as small only when `alone` (the caller's is the server's only
        open connection): its median is ~1-2 ms at 1 Mi frames, but a rare
        one is 50-120 ms in the engine (cold memory, a table growing), and
        no connection but its own may wait behind that."""
        frames = sum(c["ram_pages"] for c in self.configs)
        if frames <= 0 or self.parked:
            return False
        if frames > self.settings.inline_max_frames:
            if not (alone and count == 1 and frames <= self.settings.inline_alone_max_frames):
                return False
        if self.cur != cursor or cursor > self.nr_steps:
            return False
        if owner and cursor == self.nr_steps:
            if unit == "access":
                return count <= self.INLINE_ACCESSES
            return unit in ("scan", "shrink") and count <= self.INLINE_UNITS
        if owner or count != 1 or cursor >= self.nr_steps:
            return False   # an owner's branch, or a viewer's seek
        # a viewer's (or a replayed play tick's) next step: one logged unit
        # again. The log may be rewritten meanwhile (a branch): then say no.
        try:
            return self.log[self._entry_of(cursor)][0] in ("access", "scan", "shrink")
        except (IndexError, TypeError):
            return False

    def inline_ready(self, cursor: int) -> bool:
        """Under the lock: `small_step`'s assumptions still hold."""
        return not self.parked and self.cur == cursor

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
                       limits=limits, engine_version=_engine_version())

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



def _debugfs_errors(eng) -> tuple:
    errs = [getattr(eng, "DebugfsError", None)]
    try:
        from engine import errors
        errs.append(errors.DebugfsError)
    except ImportError:
        pass
    return tuple(e for e in errs if isinstance(e, type))


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

    def new_session_id(self) -> str:
        """A fresh session id that `serve --workers N` routes to this process
        (backend/workers.py: a hash of the id modulo N), so that every request
        naming the session reaches the one process holding it live. Drawn
        until one fits: N tries on average."""
        n, me = self.settings.workers, self.settings.worker_index
        while True:
            sid = new_id()
            if n <= 1 or route_of(sid, n) == me:
                return sid

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
        rec = SessionRecord(id=self.new_session_id(), recipe=stored, owner_hash=hash_token(token),
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
        rec = SessionRecord(id=self.new_session_id(), recipe=stored, owner_hash=hash_token(token),
                            log=log, nr_steps=n, parent_id=sid, parent_step=n)
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

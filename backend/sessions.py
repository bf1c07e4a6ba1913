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

import bisect
import collections
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from backend import protocol as P
from backend.recipes import Recipe
from backend.store import SessionRecord, Store, TraceRecord, hash_token, new_id, token_matches

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
                 "fn", "src", "dst", "src_seq", "dst_seq")
NR_INTERNAL_MMS = 2        # engine/core.pxd: anon owner o is mm o + 2 (0, 1: the M and X address spaces)
ANON_LISTS, FILE_LISTS = (0, 1), (2, 3)   # enum lru_list
RUN_AHEAD_ACCESSES = 4096   # an access step longer than this runs without events
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
            "reasons": list(N.REASONS), "kernel_fns": list(N.KERNEL_FNS),
            "locations": list(N.LOCATIONS), "lists": list(LISTS)}


# --- workloads -------------------------------------------------------------------

def _accesses_of(obj) -> np.ndarray:
    return obj.accesses if hasattr(obj, "accesses") else np.asarray(obj)


def build_workload(recipe: Recipe, store: Store):
    """The workload object (accesses + names) a recipe names."""
    w = recipe.workload
    if w.trace_id is not None:
        rec = store.get_trace(w.trace_id)
        if rec is None:
            raise UnknownTrace(w.trace_id)
        return parse_trace(rec.data, rec.filename)
    from engine import workloads
    return workloads.generate(w.scenario, recipe.machine.ram_pages, recipe.seed, w.accesses,
                              **w.params)


def parse_trace(data: bytes, filename: str):
    from engine import trace
    return trace.read_trace_bytes(data, filename)


def write_trace_file(workload, path, comment: Optional[str] = None) -> None:
    """The workload as a plain-text v1 trace (DESIGN §5.2), names declared."""
    from engine import trace
    trace.write_trace(path, workload, comment=comment)


# --- per-folio event history -------------------------------------------------------

class FolioIndex:
    """Every recorded folio event with the step it belongs to, in one bounded
    ring per pane (numpy, `max_events` rows, grown on demand), so that a
    folio's history across steps is a vectorized filter on its identity
    (mapping, index). Bounded by events, not folios: ~72 bytes per event."""

    def __init__(self, max_events: int, per_folio: int):
        self.cap, self.per_folio = max_events, per_folio
        self.rows = None          # structured array: EVENT_DTYPE fields + step
        self.n = 0                # rows written so far (the ring position is n % len)
        self.high = 0             # steps <= high are indexed already (re-visits add nothing)

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

    def add(self, ev: np.ndarray, steps: np.ndarray) -> None:
        if len(ev) == 0:
            return
        keep = (steps > self.high) & (ev["pfn"] >= 0)
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
        for name in ev.dtype.names:
            self.rows[name][pos] = ev[name]
        self.rows["step"][pos] = steps
        self.n += len(ev)

    def _valid(self) -> np.ndarray:
        if self.rows is None:
            return np.zeros(0, dtype=bool)
        return self.rows["step"] >= 0

    def truncate(self, nr_steps: int) -> None:
        """Forget events of steps after nr_steps (the history was rewritten)."""
        self.high = min(self.high, nr_steps)
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
        locs = np.concatenate([self.rows["src"][sel], self.rows["dst"][sel]])
        if np.isin(locs, ANON_LISTS).any():
            return True
        if np.isin(locs, FILE_LISTS).any():
            return False
        return None

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
        self.names = _names()
        self.last_used = time.monotonic()
        self.refs = 0                      # open connections
        self.on_log_change: Optional[Callable[["Session"], None]] = None

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
            self.index[k].add(ev, steps)
            if len(ev) > cap:
                lost += len(ev) - cap
                ev = ev[-cap:]
            events.append((ev, lost))
        self.cur += n
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
               truncated: bool = False) -> P.Frame:
        panes = [self._pane_frame(k, applied) for k in range(len(self.sims))]
        return P.Frame(step=self.cur, nr_steps=self.nr_steps, truncated=truncated, cause=cause,
                       partial=bool(applied and applied.partial),
                       done=all(p.done for p in panes), panes=panes)

    def _state_bytes_frame(self, with_hash: Optional[bool] = None, base: Optional[dict] = None,
                           delta: bool = False) -> bytes:
        header = {"type": "state", "step": self.cur, "nr_steps": self.nr_steps, "panes": []}
        arrays = []
        for k, sim in enumerate(self.sims):
            vm = sim.vmstat()
            n = self.configs[k]["ram_pages"]
            order = n <= self.settings.order_layout_max_frames
            lists = sim.lists() if order else None
            sizes, gens = self._sizes(k, vm, lists)
            # sha256 of the whole state costs ~200 ms at 1 Mi frames: by default
            # only small machines carry it; a `state` request can ask for it.
            hashed = order if with_hash is None else with_hash
            flags = np.asarray(sim.frames()["flags"], dtype=np.uint32)
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
                arrays.append((p + "flags", flags))
                arrays.append((p + "young", sim.young_bits()))
            else:
                loc = self._locations(k, flags, gens)
                prev = base.get(k) if base is not None else None
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
                    base[k] = loc
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
    def frame_at(self, step: int, cause: str) -> tuple[int, P.Frame]:
        """Seek to `step` (clamped) and describe it, with the events of step `step` itself."""
        with self.lock:
            self.touch()
            step = max(0, min(step, self.nr_steps))
            if step == 0:
                self._goto(0)
                return 0, self._frame(cause)
            self._goto(step - 1)
            i = self._entry_of(step - 1)
            unit, _, arg = self.log[i]
            applied = self._record(unit, 1, arg=arg)
            if applied.steps != 1:
                raise RuntimeError(f"replay diverged at step {step}")
            return self.cur, self._frame(cause, applied)

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
             cause: str = "step") -> tuple[int, P.Frame]:
        """Owner: apply `count` units at `cursor` (dropping any later history).
        Viewer: walk the existing history forward."""
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
                return self.frame_at(min(cursor + count, self.nr_steps), cause)
            if self._driver(unit) < 0:
                have = [i.title for i in _engine().POLICY_INFO.values() if unit in i.units]
                raise SessionError("unsupported", f"the {unit} unit needs a pane running "
                                                  f"{' or '.join(have) or 'a policy that has it'}")
            truncated = cursor < self.nr_steps
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
            return self.cur, self._frame(cause, applied, truncated)

    @_guarded
    def debugfs(self, cursor: int, text: str, pane: Optional[int]) -> tuple[int, P.Frame]:
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
            if truncated:
                self._truncate_log(cursor)
            applied = self._record("debugfs", 1, arg=arg)
            self._append_log("debugfs", 1, arg)
            self._log_changed()
            return self.cur, self._frame("debugfs", applied, truncated)

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
    def inspect(self, cursor: int, pane: int, pfn: Optional[int] = None,
                mapping: Optional[int] = None, index: Optional[int] = None,
                anon: Optional[bool] = None) -> P.FolioInfo:
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
            if pfn is not None:
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
                        mapping = raw - NR_INTERNAL_MMS if anon else raw
            elif mapping is not None and index is not None:
                raw = mapping + NR_INTERNAL_MMS if anon else mapping
            if raw is None or index is None:
                if pfn is None:
                    raise SessionError("bad_message", "inspect needs 'pfn', or 'mapping' and 'index'")
                return P.FolioInfo(pane=pane, pfn=pfn, step=cursor, folio=folio, identity=None,
                                   page_state=None, history=P.Events(n=0))
            page_state = None
            if anon is not None and mapping >= 0:
                page_state = _jsonable(sim.page_state("A" if anon else "R", int(mapping), int(index)))
            hist = ix.history((int(raw), int(index)), cursor)
            return P.FolioInfo(pane=pane, pfn=pfn, step=cursor, folio=folio,
                               identity={"mapping": int(mapping), "index": int(index), "anon": anon},
                               page_state=page_state, history=P.Events(**hist))

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
                       compare=self.compare,
                       panes=[{"policy": p, "kernel": s.config["kernel"],
                               "title": f'{i.title} · {s.config["kernel"]}',
                               "kernel_title": KERNELS[s.config["kernel"]]["title"],
                               "config": _jsonable(s.config), "info": i.public()}
                              for p, i, s in zip(self.policies, self.infos, self.sims)],
                       recipe=self.record.recipe, names=self.names, limits=limits)

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
    memory (LRU, bounded; idle ones dropped) and rebuilt from the store."""

    def __init__(self, store: Store, settings, engine_mod=None):
        self.store, self.settings, self.engine_mod = store, settings, engine_mod
        self._live: "collections.OrderedDict[str, Session]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def create(self, recipe: Recipe, parent: Optional[tuple[str, int]] = None,
               log: Optional[list] = None, nr_steps: int = 0) -> tuple[Session, str]:
        """Validate by building it, then store. Raises ValueError (e.g. the
        engine's ConfigError or a WorkloadError) with a message naming the problem."""
        workload = build_workload(recipe, self.store)
        n = len(_accesses_of(workload))
        if n > self.settings.max_accesses:
            raise ValueError(f"workload has {n} accesses; this server's max_accesses is "
                             f"{self.settings.max_accesses}")
        token = new_id(24)
        stored = recipe.model_dump(mode="json")
        rec = SessionRecord(id=new_id(), recipe=stored, owner_hash=hash_token(token),
                            log=log or [], nr_steps=nr_steps,
                            parent_id=parent[0] if parent else None,
                            parent_step=parent[1] if parent else None)
        session = Session(rec, recipe, workload, self.settings, self.engine_mod)
        rec.recipe = {**stored, "engine_config": [_jsonable(s.config) for s in session.sims],
                      "engine_version": _engine_version()}
        self.store.create_session(rec)
        self._adopt(session)
        return session, token

    def fork(self, sid: str, step: Optional[int]) -> tuple[Session, str]:
        src = self.get(sid)
        with src.lock:
            n = src.nr_steps if step is None else max(0, min(step, src.nr_steps))
            log = []
            for e, s0 in zip(src.log, src._prefix):
                if s0 >= n:
                    break
                log.append([e[0], min(e[1], n - s0), e[2]])
            recipe = src.recipe
            workload = src.workload
        token = new_id(24)
        stored = {k: v for k, v in src.record.recipe.items()}
        rec = SessionRecord(id=new_id(), recipe=stored, owner_hash=hash_token(token), log=log,
                            nr_steps=n, parent_id=sid, parent_step=n)
        session = Session(rec, recipe, workload, self.settings, self.engine_mod)
        self.store.create_session(rec)
        self._adopt(session)
        return session, token

    def get(self, sid: str) -> Session:
        with self._lock:
            s = self._live.get(sid)
            if s is not None:
                self._live.move_to_end(sid)
                s.touch()
                return s
            load_lock = self._loading.setdefault(sid, threading.Lock())
        with load_lock:  # one rebuild per id even when many ask at once
            with self._lock:
                s = self._live.get(sid)
                if s is not None:
                    return s
            rec = self.store.get_session(sid)
            if rec is None:
                with self._lock:
                    self._loading.pop(sid, None)
                raise UnknownSession(sid)
            recipe_data = {k: v for k, v in rec.recipe.items()
                           if k not in ("engine_config", "engine_version")}
            recipe = Recipe.model_validate(recipe_data)
            s = Session(rec, recipe, build_workload(recipe, self.store), self.settings,
                        self.engine_mod)
            self._adopt(s)
            with self._lock:
                self._loading.pop(sid, None)
            return s

    def exists(self, sid: str) -> bool:
        with self._lock:
            if sid in self._live:
                return True
        return self.store.get_session(sid) is not None

    def _adopt(self, s: Session) -> None:
        s.on_log_change = self._save
        s.share_of_total = self._share
        with self._lock:
            self._live[s.id] = s
            self._live.move_to_end(s.id)
        self.evict()

    def _share(self) -> int:
        return self.settings.checkpoint_total_bytes // max(1, len(self._live))

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
        return dropped

    def live_ids(self) -> list[str]:
        with self._lock:
            return list(self._live)

    def upload_trace(self, data: bytes, filename: str) -> TraceRecord:
        if len(data) > self.settings.max_trace_bytes:
            raise ValueError(f"trace is {len(data)} bytes; the limit is {self.settings.max_trace_bytes}")
        wl = parse_trace(data, filename)
        n = len(_accesses_of(wl))
        if n > self.settings.max_accesses:
            raise ValueError(f"trace has {n} accesses; this server's max_accesses is "
                             f"{self.settings.max_accesses}")
        sha = hashlib.sha256(data).hexdigest()
        rec = TraceRecord(id=sha[:20], filename=filename, sha256=sha, nr_accesses=n, data=data)
        self.store.put_trace(rec)
        return rec


def _engine_version() -> str:
    try:
        from importlib.metadata import version
        return version("reclaimlab")
    except Exception:
        return "unknown"

"""A session's history: the run-length command log, its checkpoints, and the
replay that rebuilds any step from them. Mixed into backend.sessions.Session,
which owns the state these methods read and write (its __init__ sets it up).

History. Step n is the state after the n-th command unit. The history is a
run-length log of [unit, count, arg]; `arg` is only used by debugfs writes
({"text", "panes"}). A session's state at any step is rebuilt by loading the
nearest checkpoint (sim.state_bytes()) and replaying the log (accesses on the
engine's fast path), so the log plus the recipe is all the store keeps.

Compare mode (docs/protocol.md §5). The unit is applied to pane A; then B
runs accesses until its position equals A's. B's state therefore depends
only on how many accesses it has run, which is what makes replay in bigger
chunks give the same state.
"""
from __future__ import annotations

import bisect
import time
from dataclasses import dataclass

import numpy as np

from backend.session_common import SessionError, _engine

RUN_AHEAD_ACCESSES = 4096   # an access step longer than this runs without events


@dataclass
class Applied:
    """What one command did to the panes (for the frame)."""
    steps: int
    events: list            # per pane: (events array, dropped)
    vmstat_before: list     # per pane: dict
    partial: bool = False   # the last step is a unit cut short by the end of the workload


class History:
    """The log, checkpoints and replay of a Session (mixin)."""

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

    def _truncate_log(self, n: int) -> None:
        """Drop history after step n."""
        self.log = self.log_prefix(n)
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
        if self._checkpoint_due(replaying, by_steps):
            self._take_checkpoint()

    def _checkpoint_due(self, replaying: bool = False, by_steps: bool = True) -> bool:
        """_maybe_checkpoint()'s test alone (no engine call, nothing written)."""
        if not self.sims:
            return False    # parked
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
                return False
        elif (cost * 1000 < self.settings.checkpoint_replay_ms
              and (not by_steps or self.cur - last < self.settings.checkpoint_every)):
            return False
        if replaying and self._cp_size:
            # A seek pays for every checkpoint it takes (~50 ms at 1 Mi
            # frames); while replaying, only fill gaps that fit the budget
            # rather than churn through thinning.
            if self._cp_bytes + self._cp_size > self.budget():
                return False
        return self.cur not in self.checkpoints

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

    def _record(self, unit: str, count: int, arg=None, live: bool = False,
                index: bool = True) -> Applied:
        """Apply with events on, for a frame: a new command (live) or one
        step of the history again (as its log entry says). `index=False`
        (a peek, undone at once) leaves the folio index as it was."""
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
            else:
                if unit == "access":
                    steps = base + 1 + (ev["nr_access"].astype(np.int64) - marks[k][0])
                else:
                    steps = base + 1 + (ev["batch"].astype(np.int64) - marks[k][1])
                steps = np.clip(steps, base + 1, base + n)
            if index:
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

    def _cost_at(self, step: int) -> float:
        """Measured engine seconds from step 0 to `step` (an estimate from the
        nearest checkpoint, or the current position, below it)."""
        known = {s: c for s, c in self._cp_cost.items() if s <= step}
        if self.cur <= step:
            known[self.cur] = self._cost
        base = max(known)
        per_step = known[base] / base if base else 0.0
        return known[base] + per_step * (step - base)



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


def _fingerprint(sim) -> tuple:
    """Cheap evidence that a call changed the engine's state."""
    return (sim.position, sim.event_seq, sim.nr_batches, sim.nr_shrink_passes, sim.nr_aging,
            sim.time_ns)

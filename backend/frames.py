"""What a session sends: the JSON-shaped frame, the binary step message
(protocol.md §3.5; the layout delta itself is backend/wire.py), the binary
state and zoom frames, and the per-frame location array they are built
from. Mixed into backend.sessions.Session."""
from __future__ import annotations

import functools
from typing import Optional

import numpy as np

from backend import protocol as P
from backend import wire as W
from backend.history import Applied
from backend.session_common import SessionError, _engine, _guarded

LISTS = ("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE",
         "LRU_UNEVICTABLE")
LRU_GEN_PGOFF, MAX_NR_GENS = 16, 4
LOC_OFF_LRU, LOC_GEN_BASE = 255, 16
EVENT_COLUMNS = ("seq", "time_ns", "nr_access", "pfn", "mapping", "index", "kind", "reason",
                 "fn", "src", "dst", "src_seq", "dst_seq",
                 # the decision's inputs (docs/engine.md "Decision inputs")
                 "why_a", "why_b", "why_c", "why_d", "refs", "tier", "tier_idx", "why")
HEAD_LRU, HEAD_GEN = 0, 5   # engine/core.pxd list heads: + lru_list; + gen * 2 + type


class Frames:
    """Frames, step messages and state views of a Session (mixin)."""

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
                      kept: Optional[dict], wire: W.Wire,
                      peek: Optional[dict] = None) -> W.StepMessage:
        """protocol.md §3.5: frame, events, counters and the list-layout delta
        against what `wire` was last sent, from the engine's arrays.
        `peek` ({unit, count}, §3.6): the engines stand one unlogged step
        ahead; the message is the one that step would send, marked as a
        peek, with that one's digest."""
        base_id = wire.id
        header = {"type": "step", "step": self.cur, "nr_steps": self.cur if peek else self.nr_steps,
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
            p, prev = f"p{k}.", wire.layout.get(k)
            if n <= self.settings.order_layout_max_frames:
                part, delta, wire.layout[k], mlocked = W.order_part(p, sim, n, prev)
            else:
                part, delta, wire.layout[k], mlocked = W.location_part(p, sim, n, _loc_lut(_gen_window(gens)), prev)
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
                "meminfo": sim.meminfo(mlocked), "watermarks": dict(sim.watermarks),
                "nr_free": int(sim.nr_free), "nr_shadow": sim.nr_shadows(), "files": _files(sim),
                "lru_gen": sim.lru_gen_text() if self.infos[k].debugfs else None})
            arrays += [(p + "vmstat", now),
                       (p + "vmstat_delta", now.astype(np.int64) - before.astype(np.int64)),
                       (p + "events", np.ascontiguousarray(ev).view(np.uint8))] + part
        packed = P.pack_message(header, arrays)
        if peek:
            header["peek"] = peek
            digest, packed = W.digest(packed), P.pack_message(header, arrays)
        msg = W.StepMessage(packed)
        if peek:
            msg.digest = digest
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
            p = f"p{k}."
            prev = base.layout.get(k) if base is not None else None
            if order:
                # a fresh base: the state frame replaces whatever the connection had
                part, _, layout, mlocked = W.order_part(p, sim, n, None)
            else:
                part, changed, layout, mlocked = W.location_part(
                    p, sim, n, _loc_lut(_gen_window(gens)), prev if delta else None)
            if base is not None:
                base.layout[k] = layout
            pane = {"pane": k, "policy": self.policies[k], "nr_frames": n,
                    "layout": "order" if order else "location",
                    "time_ns": int(sim.time_ns), "nr_access": int(sim.position),
                    "done": bool(sim.done), "vmstat": {a: int(b) for a, b in vm.items()},
                    "meminfo": sim.meminfo(mlocked), "watermarks": dict(sim.watermarks),
                    "nr_free": int(sim.nr_free), "sizes": sizes, "gens": gens,
                    "state_hash": sim.state_hash() if hashed else None,
                    "lru_gen": sim.lru_gen_text() if self.infos[k].debugfs else None,
                    "nr_shadow": sim.nr_shadows(), "files": _files(sim)}
            header["panes"].append(pane)
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
                _, flags, nxt, young = layout
                arrays.append((p + "flags", flags))
                arrays.append((p + "young", young))
                # the links too: the base of the next step message's layout delta (wire.py)
                arrays.append((p + "next", nxt))
            elif changed:
                # Only what moved since the last state this connection got: a
                # scan step changes a few dozen frames of 1 Mi (5 bytes each;
                # when a fifth or more moved, the whole array is smaller).
                pane["loc_delta"] = True
                arrays += [(p + "loc_pfn", part[0][1]), (p + "loc_val", part[1][1])]
            else:
                arrays += part
        return P.pack_state(header, arrays)

    def _locations(self, k: int) -> np.ndarray:
        """One uint8 per frame (protocol.md §3.3), from one engine pass."""
        sim, n = self.sims[k], self.configs[k]["ram_pages"]
        gens = _gens_of(sim) if self.infos[k].view == "generations" else None
        return W.location_part("", sim, n, _loc_lut(_gen_window(gens)), None)[2][1]

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



def _gen_window(gens: Optional[dict]) -> Optional[tuple]:
    return None if gens is None else (gens["min_seq"][0], gens["min_seq"][1], gens["max_seq"])


@functools.lru_cache(maxsize=256)
def _loc_lut(window: Optional[tuple]) -> np.ndarray:
    """The location byte (protocol.md §3.3) of each 7-bit key of
    Simulator.layout_location(): bit 0 PG_lru, 1 PG_active, 2 PG_swapbacked,
    3 PG_unevictable, 4-6 MGLRU's gen field (gen + 1 on a generation list).
    `window`: MGLRU's (min_seq anon, min_seq file, max_seq), or None for
    the classic lists. A generation is numbered from its type's min_seq."""
    lut = np.full(128, LOC_OFF_LRU, dtype=np.uint8)
    for key in range(128):
        if not key & 1:
            continue
        active, file, unevictable, slot = key >> 1 & 1, 0 if key >> 2 & 1 else 1, key >> 3 & 1, key >> 4
        if unevictable:
            lut[key] = 4
        elif window is None:
            lut[key] = 2 * file + active
        elif slot:
            lo = window[file]
            for seq in range(lo, window[2] + 1):
                if seq % MAX_NR_GENS + 1 == slot:
                    lut[key] = LOC_GEN_BASE + 2 * (seq - lo) + file
    lut.flags.writeable = False
    return lut


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
        return {"max_seq": int(pol.max_seq), "min_seq": [int(x) for x in pol.min_seq], "gens": gens,
                **_aging_of(pol)}
    lists = lists if lists is not None else sim.lists()
    gens = [{"seq": int(g["seq"]), "gen": int(g["gen"]), "age_ms": int(g.get("age_ms", 0)),
             "nr_pages": [int(x) for x in g["nr_pages"]]} for g in lists["gens"]]
    gens.sort(key=lambda g: g["seq"])
    return {"max_seq": int(lists["max_seq"]), "min_seq": [int(x) for x in lists["min_seq"]],
            "gens": gens, **_aging_of(pol)}


def _aging_of(pol) -> dict:
    """{"aging": should_run_aging()'s verdict on the lruvec now} for MGLRU
    (MultiGenLru.aging_test()), else nothing: the view says why the next pass
    ages or evicts."""
    test = getattr(pol, "aging_test", None)
    return {"aging": test()} if test is not None else {}


@functools.lru_cache(maxsize=1)
def _event_layout() -> dict:
    """The engine's event record layout, for the step message header (wire.py)."""
    return W.event_layout(_engine().EVENT_DTYPE)


def _files(sim) -> dict:
    """Per file id (a string key, names in the hello's owners.file): its reads,
    refaults and evictions so far (Simulator.file_counters())."""
    return {str(i): c for i, c in sim.file_counters().items()}

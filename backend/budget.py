"""The memory budget: what a session will cost, estimated from its recipe
before anything is built, and the ledger that admits sessions against it.

Measured on the engine (`len(sim.state_bytes())` and RSS growth, 2026-12):
a pane's state is ~42 bytes per RAM frame (folio table, free stack,
writeback queue), 8 bytes per swap slot (the swap map, which calloc only
makes real as it is used, so a fresh machine looks cheap and a used one does
not), the event ring (16 Ki x 80 B), and page tables plus page-cache slots
that grow with the pages the workload touches (~24 bytes each). A live
session holds each pane twice from the start (the engine and the step-0
checkpoint), plus the workload array (16 bytes per access). Further
checkpoints are not part of the admission estimate: they are bounded by
what the budget leaves over (`checkpoint_share`), and thinned to fit.

Imports no web framework.
"""
from __future__ import annotations

import threading
from typing import Optional

FRAME_BYTES = 44            # per RAM frame, per pane (42 measured, rounded up)
SWAP_SLOT_BYTES = 8         # per swap slot, per pane
TOUCHED_PAGE_BYTES = 24     # page tables and page-cache slots, per distinct page touched
ACCESS_BYTES = 16           # engine.workloads.ACCESS_DTYPE
EVENT_BYTES = 80            # engine.EVENT_DTYPE.itemsize
FIXED_BYTES = 1 << 20       # Python objects, the folio index ring's first block


class OverBudget(Exception):
    """A session that does not fit in the memory budget; str() says by how much."""

    def __init__(self, need: int, used: int, budget: int, what: str = "this session"):
        self.need, self.used, self.budget = need, used, budget
        super().__init__(
            f"{what} needs an estimated {_mib(need)} of server memory; "
            f"{_mib(used)} of the {_mib(budget)} budget is in use by live sessions "
            f"that cannot be dropped (connected and active). Try a smaller machine "
            f"(ram_pages, swap_pages), a shorter workload, one policy, or later.")


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def pane_bytes(cfg: dict, nr_accesses: int) -> int:
    """Estimated bytes of one engine of this config after running the workload."""
    ram = int(cfg["ram_pages"])
    swap = int(cfg.get("swap_pages", ram // 2))
    touched = min(nr_accesses, 4 * (ram + swap) + (1 << 16))
    return (FRAME_BYTES * ram + SWAP_SLOT_BYTES * swap + TOUCHED_PAGE_BYTES * touched
            + EVENT_BYTES * int(cfg.get("events_capacity", 16384)))


def session_bytes(configs: list[dict], nr_accesses: int) -> int:
    """A live session: every pane twice (engine + step-0 checkpoint) and the workload."""
    return (sum(2 * pane_bytes(c, nr_accesses) for c in configs)
            + ACCESS_BYTES * nr_accesses + FIXED_BYTES)


class Ledger:
    """Reservations against the budget, by session id. Thread-safe.

    `admit()` is called before a session is built; it asks `make_room` (the
    manager's eviction of idle sessions) for space when the reservation does
    not fit, and raises OverBudget when it still does not."""

    def __init__(self, budget: int):
        self.budget = budget
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def used(self) -> int:
        with self._lock:
            return sum(self._held.values())

    def held(self, key: str) -> int:
        with self._lock:
            return self._held.get(key, 0)

    def admit(self, key: str, need: int, make_room=None, what: str = "this session") -> None:
        for attempt in (0, 1):
            with self._lock:
                used = sum(v for k, v in self._held.items() if k != key)
                if used + need <= self.budget:
                    self._held[key] = need
                    return
            if attempt == 0 and make_room is not None:
                make_room(used + need - self.budget)
        raise OverBudget(need, used, self.budget, what)

    def release(self, key: str) -> None:
        with self._lock:
            self._held.pop(key, None)

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            if old in self._held:
                self._held[new] = self._held.pop(old)

    def left_over(self) -> int:
        return max(0, self.budget - self.used())


def accesses_of_recipe(recipe, trace_accesses: Optional[int] = None) -> int:
    """The workload length a recipe will build, without building it."""
    w = recipe.workload
    if w.trace_id is not None:
        return int(trace_accesses or 0)
    if w.accesses is not None:
        return int(w.accesses)
    from engine import workloads
    sc = workloads.SCENARIOS.get(w.scenario)
    return sc.accesses_for(recipe.machine.ram_pages) if sc is not None else 0

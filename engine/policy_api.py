"""The plain-Python policy interface: subclass Policy in one .py file.

The hooks are cut where the kernel, cache_ext and libCacheSim cut them (see
docs/policies.md): a folio is added (new or refaulted), accessed through a
file descriptor, removed outside reclaim; reclaim asks for up to N candidates
and the engine -- not the policy -- runs folio_referenced() and
shrink_folio_list() on them, then reports each outcome. A pfn (page frame
number, an int) names a folio while it is resident: its first page. A folio
is one page but for 7.3's large page-cache folios (2-32 pages, one LRU
entry): ``self.folio_nr_pages(pfn)``, set by the engine, tells; the ``nr``
budget of isolate() and the engine's counters are pages.

Hooks run with the GIL, one call per event, inside the engine's step: keep
them short. Whatever a hook raises or returns wrong ends the step with an
error naming the policy and the hook; the session rolls back.
"""
from __future__ import annotations

__all__ = ["Policy", "Knob", "OUTCOMES"]

# what happened to a folio reclaim isolated (Policy.outcome)
OUTCOMES = ("reclaimed", "kept", "activated", "rotated", "written back")


class Knob:
    """A policy parameter: type ("int" or "bool"), default, range and one line of help."""

    def __init__(self, type: str, default, help: str = "", min: int | None = None, max: int | None = None):
        if type not in ("int", "bool"):
            raise ValueError("Knob type is 'int' or 'bool'")
        self.type, self.default, self.help, self.min, self.max = type, default, help, min, max

    def as_dict(self) -> dict:
        out = {"type": self.type, "default": self.default, "help": self.help}
        if self.type == "int":
            out["min"], out["max"] = self.min, self.max
        return out


class Policy:
    """Base class of a plain-Python reclaim policy.

    Class attributes describe it (they become its PolicyInfo):
    ``key`` (registry key, [a-z0-9_]+), ``title``, ``follows`` (the paper or
    kernel code it imitates), ``knobs`` ({name: Knob}), ``list_names`` (what each
    engine list means to it: {"LRU_INACTIVE_FILE": "clock ring (file)", ...};
    lists it does not name stay empty), ``active_lists`` (True if it uses the
    LRU_ACTIVE_* lists: then an "activated" folio, or a folio_added() that
    returns True, goes there).

    The engine keeps each resident folio on the list its flags select (type,
    PG_active), so the machine's gauges and /proc/meminfo stay right; the
    policy keeps its own order and reports it in lists().
    """

    key = ""
    title = ""
    follows = ""
    knobs: dict = {}
    list_names: dict = {}
    active_lists = False

    def __init__(self, knobs: dict):
        self.knobs = dict(knobs)

    # --- membership ----------------------------------------------------------
    def folio_added(self, pfn: int, file: bool, refault: dict | None) -> bool | None:
        """A folio entered memory (fault, read, swap-in). ``refault`` is None for a
        first touch, else {"distance", "recent", "workingset"} from its shadow entry.
        Return True to start it on the active list (only with active_lists)."""
        raise NotImplementedError

    def folio_accessed(self, pfn: int) -> None:
        """A read() or write() touched it (folio_mark_accessed()); the engine has
        already set PG_referenced. Page-table accesses set only the young bit."""

    def folio_removed(self, pfn: int) -> None:
        """It left outside reclaim (process exit, munmap, mlock culling)."""
        raise NotImplementedError

    # --- reclaim -------------------------------------------------------------
    def isolate(self, nr: int, file: bool) -> list:
        """Up to ``nr`` pfns to reclaim from, of type ``file`` preferably (the
        engine's budget for this batch is of that type, ``nr`` pages; a folio of
        several pages counts as one pick here). Return [] for none."""
        raise NotImplementedError

    def check_references(self, pfn: int, young: int, referenced: bool) -> str:
        """Optional: decide one isolated folio. ``young`` = PTEs found young (and
        cleared), ``referenced`` = PG_referenced (cleared). Return "reclaim",
        "keep" or "activate". Without it: young or referenced keeps it."""
        raise NotImplementedError

    def outcome(self, pfn: int, result: str) -> None:
        """What became of a folio it isolated (one of OUTCOMES). "reclaimed":
        gone (its shadow stays); the others: back on an engine list at the head."""
        raise NotImplementedError

    # --- views and state -----------------------------------------------------
    def lists(self) -> dict:
        """{list name: [pfns, head first]} for the names in ``list_names``; the engine
        checks they hold exactly the folios on those engine lists."""
        raise NotImplementedError

    def check_invariants(self) -> list:
        """Optional: messages for broken internal invariants ([] when fine)."""
        return []

    # state_bytes() / load_state(data): optional. Without them the adapter
    # pickles the instance's attributes (keep them plain dicts, lists, ints).

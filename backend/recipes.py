"""The recipe: everything needed to rebuild a session's machine and workload.

Pydantic models with static limits (what the engine can take); the server's
own, configurable limits (settings.py) are checked by `check_limits()`,
which returns errors in the same shape as pydantic's so a route can answer
422 with field errors either way.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.strict import Bool, Int, Number

ENGINE_MAX_FRAMES = 16 * (1 << 20)
# The engine's event ring per pane: it is part of state_bytes(), so of every
# checkpoint; 16 Ki events (1 MiB) hold any one step's events shown in a
# frame (max_events_per_frame is 4 Ki) at a quarter of the default's memory.
EVENTS_CAPACITY = 16384


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Watermarks(Strict):
    min: Int = Field(ge=1)
    low: Int = Field(ge=1)
    high: Int = Field(ge=1)

    @model_validator(mode="after")
    def _increasing(self):
        if not (self.min < self.low < self.high):
            raise ValueError("watermarks must be strictly increasing: min < low < high")
        return self


class Machine(Strict):
    ram_pages: Int = Field(16384, ge=64, le=ENGINE_MAX_FRAMES, description="frames of 4 KiB")
    swap_kind: Literal["none", "zram", "ssd", "hdd"] = "zram"
    swap_pages: Optional[Int] = Field(None, ge=0, le=4 * ENGINE_MAX_FRAMES,
                                      description="null = ram_pages // 2")
    swappiness: Int = Field(60, ge=0, le=200)
    watermarks: Optional[Watermarks] = None
    readahead_pages: Int = Field(32, ge=0, le=256, description="ra_pages = read_ahead_kb / 4; 0 = off")

    @model_validator(mode="after")
    def _fits(self):
        if self.watermarks is not None and self.watermarks.high >= self.ram_pages:
            raise ValueError("watermarks.high must be below ram_pages")
        return self


class LruGenKnobs(Strict):
    min_ttl_ms: Int = Field(0, ge=0, le=60_000)
    pid_controller: Bool = True
    tiers: Bool = True
    look_around: Bool = True
    walk_mm: Bool = True
    bloom_filter: Bool = True


class PolicySpec(Strict):
    policy: Literal["lru", "lru_gen"] = "lru"
    # the kernel profile this pane imitates (engine/kernels.py); compare mode
    # may put the same policy under two profiles
    kernel: Literal["6.1", "6.12", "7.3"] = "7.3"
    lru_gen: Optional[LruGenKnobs] = None

    @model_validator(mode="after")
    def _knobs_only_for_mglru(self):
        if self.lru_gen is not None and self.policy != "lru_gen":
            raise ValueError("lru_gen knobs are only accepted with policy 'lru_gen'")
        return self


class Workload(Strict):
    scenario: Optional[str] = Field(None, max_length=64)
    params: dict[str, Number] = Field(default_factory=dict, max_length=32)
    accesses: Optional[Int] = Field(None, ge=1)
    trace_id: Optional[str] = Field(None, max_length=64)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.scenario is None) == (self.trace_id is None):
            raise ValueError("give exactly one of 'scenario' or 'trace_id'")
        if self.trace_id is not None and (self.params or self.accesses is not None):
            raise ValueError("'params' and 'accesses' go with 'scenario', not 'trace_id'")
        return self


class Recipe(Strict):
    machine: Machine = Field(default_factory=Machine)
    workload: Workload
    policies: list[PolicySpec] = Field(default_factory=lambda: [PolicySpec()],
                                       min_length=1, max_length=2)
    seed: Int = Field(1, ge=0, le=2**32 - 1)

    @property
    def compare(self) -> bool:
        return len(self.policies) == 2

    def engine_configs(self) -> list[dict]:
        """The Simulator config of each pane (docs/engine-api.md)."""
        m = self.machine
        out = []
        for p in self.policies:
            cfg = {"policy": p.policy, "kernel": p.kernel, "ram_pages": m.ram_pages, "swap_kind": m.swap_kind,
                   "swappiness": m.swappiness, "readahead_pages": m.readahead_pages,
                   "events_capacity": EVENTS_CAPACITY}
            if m.swap_pages is not None:
                cfg["swap_pages"] = m.swap_pages
            if m.swap_kind == "none":
                cfg["swap_pages"] = 0
            if m.watermarks is not None:
                cfg["watermarks"] = m.watermarks.model_dump()
            if p.policy == "lru_gen":
                cfg["lru_gen"] = (p.lru_gen or LruGenKnobs()).model_dump()
            out.append(cfg)
        return out


def check_limits(recipe: Recipe, settings, scenarios: Optional[dict] = None) -> list[dict]:
    """Errors (pydantic's shape) for limits that depend on the server's settings."""
    errs = []
    if recipe.machine.ram_pages > settings.max_frames:
        errs.append({"loc": ["body", "machine", "ram_pages"], "type": "less_than_equal",
                     "msg": f"Input should be less than or equal to {settings.max_frames} "
                            f"(this server's max_frames)", "input": recipe.machine.ram_pages})
    w = recipe.workload
    if w.accesses is not None and w.accesses > settings.max_accesses:
        errs.append({"loc": ["body", "workload", "accesses"], "type": "less_than_equal",
                     "msg": f"Input should be less than or equal to {settings.max_accesses} "
                            f"(this server's max_accesses)", "input": w.accesses})
    if scenarios is not None and w.scenario is not None and w.scenario not in scenarios:
        errs.append({"loc": ["body", "workload", "scenario"], "type": "enum",
                     "msg": f"unknown scenario {w.scenario!r}; known: {', '.join(sorted(scenarios))}",
                     "input": w.scenario})
    return errs

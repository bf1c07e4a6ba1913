"""The recipe: everything needed to rebuild a session's machine and workload.

Pydantic models with static limits (what the engine can take); the server's
own, configurable limits (settings.py) are checked by `check_limits()`,
which returns errors in the same shape as pydantic's so a route can answer
422 with field errors either way.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.strict import Int, Number

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
    guest: bool = Field(False, description="a booted guest of each pane's kernel profile, as `simulate "
                                           "--ram-mb` builds: ram_pages is what is available to the workload "
                                           "(docs/kernels.md \"Boot footprint\"); false = exactly ram_pages frames")
    zone_normal_holes: Optional[Int] = Field(
        None, ge=0, le=ENGINE_MAX_FRAMES,
        description="the free pages the zone above ZONE_DMA (a guest's ZONE_DMA32) keeps in unmovable and "
                    "reclaimable pageblocks, as a boot's /proc/pagetypeinfo shows them: above the zone's low "
                    "mark only the fallbacks' boosts wake kswapd (docs/validation.md \"kswapd woken by "
                    "boosts\"); null = a guest's profile median, none on a bare machine")

    @model_validator(mode="after")
    def _fits(self):
        if self.watermarks is not None and self.watermarks.high >= self.ram_pages:
            raise ValueError("watermarks.high must be below ram_pages")
        from engine.kernels import GUEST_MIN_AVAILABLE_PAGES
        if self.guest and self.ram_pages < GUEST_MIN_AVAILABLE_PAGES:
            raise ValueError(f"a booted guest needs ram_pages of at least {GUEST_MIN_AVAILABLE_PAGES} "
                             f"({GUEST_MIN_AVAILABLE_PAGES // 256} MiB available, the smallest guest the "
                             f"real-kernel rig was checked with)")
        if self.guest and self.watermarks is not None:
            raise ValueError("a booted guest has its kernel's watermarks: give either guest or watermarks")
        return self


class PolicySpec(BaseModel):
    """One pane's policy: {"policy": key, key: {knob: value}} -- a policy's knobs
    live under its own key (MGLRU's under "lru_gen"), as in the engine config.
    Which keys and knobs exist comes from the engine's registry (PolicyInfo)."""
    model_config = ConfigDict(extra="allow")

    policy: str = Field("lru", max_length=32)

    # the kernel profile this pane imitates (engine/kernels.py); compare mode
    # may put the same policy under two profiles
    kernel: Literal["6.1", "6.12", "7.3"] = "7.3"

    @field_validator("policy")
    @classmethod
    def _installed(cls, v):
        from engine.registry import POLICY_INFO
        if v not in POLICY_INFO:
            raise ValueError(f"unknown policy {v!r}; installed: {', '.join(POLICY_INFO)}")
        return v

    @model_validator(mode="after")
    def _knobs_of_this_policy(self):
        from engine.registry import POLICY_INFO
        for key, value in (self.model_extra or {}).items():
            if value is None:
                continue                      # recipes stored before knobs moved under the key
            if key in POLICY_INFO:
                if key != self.policy:
                    raise ValueError(f"{key} knobs are only accepted with policy '{key}'")
            else:
                raise ValueError(f"unknown field {key!r}")
        return self

    def knobs(self) -> dict:
        """The knobs as given (the engine fills in the defaults)."""
        return dict((self.model_extra or {}).get(self.policy) or {})


def check_knobs(recipe: "Recipe") -> list[dict]:
    """Errors (pydantic's shape) for policy knobs: each names its field
    (policies.<i>.<policy>.<knob>), checked against the policy's own description."""
    from engine.config import ConfigError
    from engine.registry import normalize_knobs
    errs = []
    for i, p in enumerate(recipe.policies):
        try:
            normalize_knobs(p.policy, (p.model_extra or {}).get(p.policy))
        except ConfigError as e:
            errs.append({"loc": ["body", "policies", i, *e.key.split(".")], "type": "value_error",
                         "msg": str(e), "input": None})
    return errs


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
            if m.guest:
                # the machine `simulate --ram-mb N --kernel K` builds (the rule
                # docs/validation.md is made with); swap sized by what is available
                from engine.kernels import guest_machine
                cfg.update(guest_machine(p.kernel, m.ram_pages, m.swap_kind))
                cfg["swap_pages"] = m.ram_pages // 2
            if m.swap_pages is not None:
                cfg["swap_pages"] = m.swap_pages
            if m.swap_kind == "none":
                cfg["swap_pages"] = 0
            if m.watermarks is not None:
                cfg["watermarks"] = m.watermarks.model_dump()
            if m.zone_normal_holes is not None:
                cfg["zone_normal_holes"] = m.zone_normal_holes
            # the selected policy's knobs, defaults filled in (so the stored
            # recipe and the engine config say every value)
            from engine.registry import normalize_knobs
            knobs = normalize_knobs(p.policy, p.knobs())
            if knobs:
                cfg[p.policy] = knobs
            out.append(cfg)
        return out


# the machine fields whose bounds depend on the rest of the machine and on each
# pane's kernel profile: the engine's own check names them (a guest's frames are
# what is available plus its profile's footprint, which may pass the engine's cap)
_MACHINE_KEYS = {"zone_normal_holes", "ram_pages"}


def check_machine(recipe: Recipe) -> list[dict]:
    """Errors (pydantic's shape) for machine fields the engine's config check
    refuses, e.g. more holes than a profile's zone holds beside its claimable
    pageblocks; each names the field and, in compare mode, the pane's kernel."""
    from engine.config import ConfigError, normalize_config
    errs = []
    for p, cfg in zip(recipe.policies, recipe.engine_configs()):
        try:
            normalize_config(cfg)
        except ConfigError as e:
            if e.key in _MACHINE_KEYS and not any(x["loc"][-1] == e.key for x in errs):
                value = getattr(recipe.machine, e.key)
                # the loc names the field; the engine's message begins with it too
                errs.append({"loc": ["body", "machine", e.key], "type": "value_error",
                             "msg": f"{str(e).removeprefix(e.key + ': ')} (kernel {p.kernel}'s machine)",
                             "input": value})
    return errs


def check_limits(recipe: Recipe, settings, scenarios: Optional[dict] = None) -> list[dict]:
    """Errors (pydantic's shape) for limits that depend on the server's settings."""
    # the machine is checked through each pane's engine config, which needs good knobs
    errs = check_knobs(recipe) or check_machine(recipe)
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

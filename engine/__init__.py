"""reclaimlab engine: a simulated machine running the kernel's reclaim policies.

See docs/engine-api.md for the API and docs/engine.md for how it works.
"""
from engine.config import DEFAULT_COSTS, ConfigError, default_costs, derive_watermarks


class PolicyError(RuntimeError):
    """An operation the current policy does not have (e.g. debugfs under the classic LRU)."""


class DebugfsError(ValueError):
    """A rejected lru_gen debugfs command; ``.errno`` is "EINVAL" or "EEXIST"."""

    def __init__(self, errno: str, message: str = ""):
        super().__init__(f"{errno}: {message}" if message else errno)
        self.errno = errno


# The policy registry (engine/registry.py): a built-in policy is one line here,
# naming the module whose POLICY describes it; installed ones come from entry
# points and --policies directories.
from engine.registry import (POLICIES, POLICY_INFO, POLICY_TITLES, Knob, PolicyInfo,  # noqa: E402
                             PolicyLoadError, describe, load_entry_points, load_policy_dir,
                             policy_info, register, register_module, register_python)
from engine.policy_api import Policy  # noqa: E402

register_module("engine.lru_info")
register_module("engine.lru_gen_info")
register_module("engine.clock")

from engine.plugin import PolicyHookError  # noqa: E402
from engine.simulator import ACCESS_DTYPE, EVENT_DTYPE, UNITS, Simulator  # noqa: E402

__all__ = ["Simulator", "POLICIES", "POLICY_TITLES", "POLICY_INFO", "PolicyInfo", "Knob", "Policy",
           "PolicyHookError", "PolicyLoadError", "describe", "policy_info", "register", "register_module",
           "register_python", "load_policy_dir", "load_entry_points", "ACCESS_DTYPE", "EVENT_DTYPE", "UNITS",
           "ConfigError", "PolicyError", "DebugfsError", "DEFAULT_COSTS", "default_costs", "derive_watermarks"]

"""reclaimlab engine: a simulated machine running the kernel's reclaim policies.

See docs/engine-api.md for the API and docs/engine.md for how it works.
"""
from engine.config import DEFAULT_COSTS, ConfigError, default_costs, derive_watermarks
from engine.lru import ActiveInactiveLru


class PolicyError(RuntimeError):
    """An operation the current policy does not have (e.g. debugfs under the classic LRU)."""


class DebugfsError(ValueError):
    """A rejected lru_gen debugfs command; ``.errno`` is "EINVAL" or "EEXIST"."""

    def __init__(self, errno: str, message: str = ""):
        super().__init__(f"{errno}: {message}" if message else errno)
        self.errno = errno


# The policy registry: a third policy is one .pyx file and one line here.
POLICIES = {"lru": ActiveInactiveLru}
POLICY_TITLES = {"lru": "active/inactive LRU", "lru_gen": "multi-gen LRU (MGLRU)"}

try:  # the MGLRU policy is built from engine/lru_gen.pyx when present
    from engine.lru_gen import MultiGenLru
except ImportError:  # pragma: no cover - only while lru_gen.pyx is being written
    MultiGenLru = None
else:
    POLICIES["lru_gen"] = MultiGenLru

from engine.simulator import ACCESS_DTYPE, EVENT_DTYPE, UNITS, Simulator  # noqa: E402

__all__ = ["Simulator", "POLICIES", "POLICY_TITLES", "ACCESS_DTYPE", "EVENT_DTYPE", "UNITS",
           "ConfigError", "PolicyError", "DebugfsError", "DEFAULT_COSTS", "default_costs", "derive_watermarks"]

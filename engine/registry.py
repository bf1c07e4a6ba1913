"""The policy registry: every policy describes itself with a PolicyInfo.

Everything above the engine -- config validation, the CLI's --policy choices,
the server's recipe validation and GET /api/policies, the browser's start
form, pane views, legends and text excerpts -- derives from these
descriptions; nothing outside a policy's own files tests its key.

Sources of policies, in order: the built-ins (engine/__init__.py, one line
each), the entry-point group ``reclaimlab.policies`` (load_entry_points()),
and directories of .py files (load_policy_dir(), ``--policies DIR``). Browser
users choose among installed policies; they can never upload one.
"""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from engine.config import ConfigError
from engine.kernels import DEFAULT_KERNEL, KERNELS
from engine.policy_api import Knob, Policy

__all__ = ["PolicyInfo", "Knob", "PolicyLoadError", "POLICIES", "POLICY_TITLES", "POLICY_INFO",
           "register", "unregister", "register_module", "register_python", "load_policy_dir", "load_entry_points",
           "normalize_knobs", "policy_info", "describe"]

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
LRU_NAMES = ("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE")
BASE_UNITS = ("access", "scan", "shrink")
# config keys a policy key may not shadow (its knobs live under config[key])
RESERVED = {"policy", "ram_pages", "swap_pages", "swap_kind", "swappiness", "watermarks",
            "readahead_pages", "costs", "events_capacity", "kernel", "both", "config"}


class PolicyLoadError(RuntimeError):
    """A policy could not be registered (bad description, duplicate key, import error)."""


@dataclass(frozen=True)
class PolicyInfo:
    """What a policy says about itself.

    key        registry key (config["policy"], recipes, the CLI)
    title      display name ("active/inactive LRU")
    follows    the kernel code or paper it imitates
    factory    () -> a fresh engine.policy.ReclaimPolicy (a Cython class, or a
               PythonPolicy adapter around a Policy subclass)
    knobs      {name: Knob}; config[key] holds their values
    units      the step units it supports (access, scan, shrink; MGLRU adds aging)
    view       "lists" (the classic list layout, named by `lists`) or "generations"
    lists      {LRU_* name: what that list is to this policy}; unnamed lists stay empty
    debugfs    the /sys/kernel/debug file it implements (sim.lru_gen_text and
               sim.debugfs_write work), or None
    shadow     (sim, shadow, file) -> dict: how its shadow entries decode
               (Simulator.page_state()); None: the bare eviction stamp
    language   "cython" or "python"
    source     where it came from (module, file or entry point)
    """
    key: str
    title: str
    factory: Callable
    follows: str = ""
    knobs: dict = field(default_factory=dict)
    units: tuple = BASE_UNITS
    view: str = "lists"
    lists: dict = field(default_factory=dict)
    debugfs: Optional[str] = None
    shadow: Optional[Callable] = None
    language: str = "cython"
    source: str = ""
    state_id: int = -1
    kernel: bool = False          # one of the kernel's own policies (the CLI's "both")

    def public(self) -> dict:
        """The JSON description (GET /api/policies, the CLI's --json).

        kernel_profiles are the kernel releases a pane of this policy may
        imitate (a recipe's policies[i].kernel), by title: the profile is the
        machine's, so every policy, a plug-in too, runs under each of them."""
        return {"key": self.key, "title": self.title, "follows": self.follows,
                "language": self.language, "kernel": self.kernel, "units": list(self.units), "view": self.view,
                "lists": dict(self.lists), "debugfs": self.debugfs,
                "knobs": {k: v.as_dict() for k, v in self.knobs.items()},
                "kernel_profiles": {k: v["title"] for k, v in KERNELS.items()},
                "default_kernel": DEFAULT_KERNEL}


# key -> factory (callable returning a ReclaimPolicy); POLICIES[key]() is a fresh policy
POLICIES: dict = {}
POLICY_TITLES: dict = {}
POLICY_INFO: dict = {}


def _state_id(key: str) -> int:
    # mem.policy_id in state images: the two kernel policies declare 0 and 1
    # (what older builds wrote); any other policy gets a hash of its key
    return (zlib.crc32(key.encode()) & 0x3FFFFFFF) + 2


def register(info: PolicyInfo, replace: bool = False) -> PolicyInfo:
    """Add a policy to the registry; raises PolicyLoadError on a bad description."""
    if not isinstance(info, PolicyInfo):
        raise PolicyLoadError(f"not a PolicyInfo: {info!r}")
    if not KEY_RE.match(info.key):
        raise PolicyLoadError(f"policy key {info.key!r} must match {KEY_RE.pattern}")
    if info.key in RESERVED:
        raise PolicyLoadError(f"policy key {info.key!r} is reserved (a configuration key)")
    if info.key in POLICIES and not replace and POLICY_INFO[info.key].source != info.source:
        raise PolicyLoadError(f"policy key {info.key!r} is taken (by {POLICY_INFO[info.key].source})")
    if info.view not in ("lists", "generations"):
        raise PolicyLoadError(f"policy {info.key!r}: view must be 'lists' or 'generations'")
    for name in info.lists:
        if name not in LRU_NAMES:
            raise PolicyLoadError(f"policy {info.key!r}: unknown list {name!r}; lists are {LRU_NAMES}")
    for name, k in info.knobs.items():
        if not isinstance(k, Knob) or not KEY_RE.match(name):
            raise PolicyLoadError(f"policy {info.key!r}: knob {name!r} must be an engine.policy_api.Knob")
    if info.state_id < 0:
        object.__setattr__(info, "state_id", _state_id(info.key))
    POLICIES[info.key] = info.factory
    POLICY_TITLES[info.key] = info.title
    POLICY_INFO[info.key] = info
    return info


def unregister(key: str) -> None:
    """Remove a policy (tests register deliberately broken ones for a while)."""
    POLICIES.pop(key, None)
    POLICY_TITLES.pop(key, None)
    POLICY_INFO.pop(key, None)


def register_module(name: str) -> PolicyInfo:
    """Register the POLICY (a PolicyInfo) of a module: a built-in's registry line."""
    mod = importlib.import_module(name)
    return register(mod.POLICY)


def register_python(cls, source: str = "") -> PolicyInfo:
    """Register a Policy subclass through the PythonPolicy adapter."""
    from functools import partial

    from engine.plugin import PythonPolicy

    if not (isinstance(cls, type) and issubclass(cls, Policy)):
        raise PolicyLoadError(f"{cls!r} is not a subclass of engine.policy_api.Policy")
    for hook in ("folio_added", "folio_removed", "isolate", "outcome", "lists"):
        if getattr(cls, hook) is getattr(Policy, hook):
            raise PolicyLoadError(f"policy {cls.key!r} ({source}): it must define {hook}()")
    info = PolicyInfo(key=cls.key, title=cls.title or cls.key, follows=cls.follows,
                      factory=partial(PythonPolicy, cls, cls.key), knobs=dict(cls.knobs),
                      lists=dict(cls.list_names), language="python", source=source or cls.__module__)
    return register(info)


def load_policy_dir(path) -> list:
    """Register every Policy subclass defined in the .py files of a directory
    (``--policies DIR``); returns the PolicyInfos. Files starting with _ are skipped."""
    d = Path(path).resolve()
    if not d.is_dir():
        raise PolicyLoadError(f"--policies {path}: not a directory")
    out = []
    for f in sorted(d.glob("*.py")):
        if f.name.startswith("_"):
            continue
        modname = f"reclaimlab_policies.{f.stem}"
        try:
            spec = importlib.util.spec_from_file_location(modname, f)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[modname] = mod
            spec.loader.exec_module(mod)
        except Exception as e:
            raise PolicyLoadError(f"{f}: {type(e).__name__}: {e}") from e
        for obj in list(vars(mod).values()):
            if (isinstance(obj, type) and issubclass(obj, Policy) and obj is not Policy
                    and obj.__module__ == modname and obj.key):
                out.append(register_python(obj, source=str(f)))
    return out


def load_entry_points(group: str = "reclaimlab.policies") -> list:
    """Register the policies installed packages declare in the entry-point group:
    each names a Policy subclass (Python) or a PolicyInfo (Cython)."""
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=group):
        try:
            obj = ep.load()
        except Exception as e:
            raise PolicyLoadError(f"entry point {ep.name} ({ep.value}): {type(e).__name__}: {e}") from e
        if isinstance(obj, PolicyInfo):
            out.append(register(obj))
        else:
            out.append(register_python(obj, source=f"entry point {ep.value}"))
    return out


def policy_info(key: str) -> PolicyInfo:
    try:
        return POLICY_INFO[key]
    except KeyError:
        raise ConfigError("policy", f"unknown policy {key!r}; known: {sorted(POLICIES)}") from None


def describe() -> list:
    """Every registered policy's public description, built-ins first."""
    return [info.public() for info in POLICY_INFO.values()]


def normalize_knobs(key: str, given) -> dict:
    """The knob values of policy `key` with defaults filled in, or ConfigError
    naming "<key>.<knob>"."""
    info = policy_info(key)
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ConfigError(key, "must be a dict")
    out = {name: k.default for name, k in info.knobs.items()}
    for name, v in given.items():
        k = info.knobs.get(name)
        if k is None:
            raise ConfigError(f"{key}.{name}", f"unknown knob of policy {key!r}")
        if k.type == "bool":
            if not isinstance(v, bool):
                raise ConfigError(f"{key}.{name}", f"must be true or false, got {v!r}")
        else:
            if isinstance(v, bool) or not isinstance(v, int):
                raise ConfigError(f"{key}.{name}", f"must be an integer, got {v!r}")
            if k.min is not None and v < k.min:
                raise ConfigError(f"{key}.{name}", f"must be >= {k.min}, got {v}")
            if k.max is not None and v > k.max:
                raise ConfigError(f"{key}.{name}", f"must be <= {k.max}, got {v}")
        out[name] = v
    return out

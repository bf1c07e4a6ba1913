"""Plug-in policies: the registry, the shared loop (PluginPolicy), the Python
adapter, and what a broken policy does (an error naming it and its hook,
never a crash)."""
import numpy as np
import pytest

import engine
from engine import ConfigError, Policy, PolicyHookError, PolicyLoadError, Simulator
from tests.conftest import WORKLOAD_KINDS, make_workload

RAM = 256


def machine(policy, **extra):
    cfg = {"policy": policy, "ram_pages": RAM, "swap_pages": RAM // 2,
           "watermarks": {"min": 8, "low": 16, "high": 24}, "events_capacity": 1 << 12}
    cfg.update(extra)
    return Simulator(cfg)


@pytest.mark.parametrize("kind", WORKLOAD_KINDS)
def test_python_clock_matches_cython_clock_bit_for_bit(kind):
    # the same policy through the adapter and in Cython: same decisions, same machine
    w = make_workload(3, 4000, RAM, kind)
    sims = [machine(p) for p in ("clock", "clock_py")]
    for sim in sims:
        sim.set_workload(w)
    while not sims[0].done:
        for sim in sims:
            sim.step("scan")
        assert sims[0].vmstat() == sims[1].vmstat()
        a, b = sims[0].lists(), sims[1].lists()
        for name in ("LRU_INACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_UNEVICTABLE"):
            assert np.array_equal(a[name], b[name]), name


def test_every_policy_describes_itself():
    infos = {d["key"]: d for d in engine.describe()}
    assert {"lru", "lru_gen", "clock", "clock_py", "s3fifo"} <= set(infos)
    assert infos["lru_gen"]["view"] == "generations" and "aging" in infos["lru_gen"]["units"]
    assert infos["lru_gen"]["debugfs"] == "lru_gen"
    assert infos["lru_gen"]["knobs"]["min_ttl_ms"] == {"type": "int", "default": 0, "min": 0,
                                                        "max": 10**9, "help": engine.policy_info(
                                                            "lru_gen").knobs["min_ttl_ms"].help}
    assert infos["clock_py"]["language"] == "python" and infos["clock"]["language"] == "cython"
    assert infos["s3fifo"]["knobs"]["small_percent"]["default"] == 10
    for d in infos.values():
        assert d["title"] and set(d["units"]) >= {"access", "scan", "shrink"}


def test_knobs_are_validated_under_the_policy_key():
    with pytest.raises(ConfigError) as e:
        Simulator({"policy": "s3fifo", "s3fifo": {"small_percent": 95}})
    assert e.value.key == "s3fifo.small_percent"
    with pytest.raises(ConfigError) as e:
        Simulator({"policy": "s3fifo", "s3fifo": {"bogus": 1}})
    assert e.value.key == "s3fifo.bogus"
    sim = Simulator({"policy": "s3fifo", "s3fifo": {"small_percent": 20}, "ram_pages": RAM})
    assert sim.config["s3fifo"] == {"small_percent": 20} and sim.policy.impl.small_percent == 20


def test_aging_is_a_unit_only_where_the_policy_says_so():
    for p in ("clock", "s3fifo"):
        sim = machine(p)
        sim.set_workload(make_workload(1, 500, RAM, "mixed"))
        assert sim.step("aging") == 0


def test_state_image_names_its_policy_and_refuses_another():
    a = machine("clock")
    a.set_workload(make_workload(1, 800, RAM, "mixed"))
    a.run_to_end()
    image = a.state_bytes()
    b = machine("lru")
    with pytest.raises(ValueError, match="taken under policy 'clock'; this simulator runs policy 'lru'"):
        b.load_state(image)
    c = machine("clock_py")
    with pytest.raises(ValueError, match="policy 'clock'"):
        c.load_state(image)


def test_debugfs_is_refused_under_a_policy_without_one():
    with pytest.raises(engine.PolicyError, match="'clock' has no debugfs"):
        machine("clock").lru_gen_text()


def test_a_python_policy_that_loses_a_folio_is_caught_by_the_invariants():
    sim = machine("clock_py")
    sim.set_workload(make_workload(1, 300, RAM, "mixed"))
    sim.run_to_end()
    ring = sim.policy.impl.ring[1] or sim.policy.impl.ring[0]
    ring.popitem()
    assert any("differs from the engine's" in e for e in sim.check_invariants())


# --- deliberately broken policies ------------------------------------------------

class _Fifo(Policy):
    """A correct FIFO the broken ones below spoil one hook at a time."""
    list_names = {"LRU_INACTIVE_ANON": "fifo (anon)", "LRU_INACTIVE_FILE": "fifo (file)"}

    def __init__(self, knobs):
        super().__init__(knobs)
        self.q = [{}, {}]
        self.file_of = {}

    def folio_added(self, pfn, file, refault):
        self.q[file][pfn] = None
        self.file_of[pfn] = file

    def folio_removed(self, pfn):
        del self.q[self.file_of.pop(pfn)][pfn]

    def isolate(self, nr, file):
        picks = list(self.q[file])[:nr]
        for p in picks:
            del self.q[file][p]
        return picks

    def outcome(self, pfn, result):
        if result == "reclaimed":
            del self.file_of[pfn]
        else:
            self.q[self.file_of[pfn]].pop(pfn, None)
            self.q[self.file_of[pfn]][pfn] = None

    def lists(self):
        return {"LRU_INACTIVE_ANON": list(reversed(self.q[0])), "LRU_INACTIVE_FILE": list(reversed(self.q[1]))}


class _Raises(_Fifo):
    key = "broken_raises"

    def isolate(self, nr, file):
        raise KeyError("deliberate")


class _Stranger(_Fifo):
    key = "broken_stranger"

    def isolate(self, nr, file):
        return [RAM + 5]                       # not a pfn of this machine


class _Free(_Fifo):
    key = "broken_free"

    def isolate(self, nr, file):
        return [p for p in range(RAM) if p not in self.file_of][:1] or [0, 0]   # a free frame (or twice)


class _Greedy(_Fifo):
    key = "broken_greedy"

    def isolate(self, nr, file):
        return list(self.file_of)[:nr + 1] if len(self.file_of) > nr else [0] * (nr + 1)


class _NotAList(_Fifo):
    key = "broken_notalist"

    def isolate(self, nr, file):
        return "pfns"


class _AddRaises(_Fifo):
    key = "broken_added"

    def folio_added(self, pfn, file, refault):
        if len(self.file_of) > 50:
            raise RuntimeError("deliberate")
        super().folio_added(pfn, file, refault)


BROKEN = [(_Raises, "isolate", "KeyError"), (_Stranger, "isolate", "is not a pfn"),
          (_Free, "isolate", "not on the policy's lists"), (_Greedy, "isolate", "at most"),
          (_NotAList, "isolate", "list of pfns"), (_AddRaises, "folio_added", "deliberate")]


@pytest.mark.parametrize("cls,hook,what", BROKEN, ids=[c.key for c, _, _ in BROKEN])
def test_a_broken_policy_ends_the_step_with_an_error_naming_policy_and_hook(cls, hook, what):
    engine.register_python(cls, source="tests")
    try:
        sim = machine(cls.key)
        sim.set_workload(make_workload(4, 3000, RAM, "mixed"))
        before = None
        with pytest.raises(PolicyHookError) as e:
            for _ in range(3000):
                before = sim.state_bytes()
                sim.step("scan")
        assert e.value.policy == cls.key and e.value.hook == hook
        assert f"policy {cls.key!r}, hook {hook}()" in str(e.value) and what in str(e.value)
        # the step's caller rolls back; the machine then works (until the policy fails again)
        sim.load_state(before)
        assert not sim.policy.failed
        # and other simulators never noticed
        other = machine("clock_py")
        other.set_workload(make_workload(4, 500, RAM, "mixed"))
        other.run_to_end()
        assert other.check_invariants() == []
    finally:
        engine.registry.unregister(cls.key)


def test_loading_refuses_bad_policies(tmp_path):
    (tmp_path / "dup.py").write_text(
        "from engine.policy_api import Policy\n"
        "class P(Policy):\n    key = 'lru'\n"
        "    def folio_added(s, *a): pass\n    def folio_removed(s, *a): pass\n"
        "    def isolate(s, *a): return []\n    def outcome(s, *a): pass\n    def lists(s): return {}\n")
    with pytest.raises(PolicyLoadError, match="'lru' is taken"):
        engine.load_policy_dir(tmp_path)
    (tmp_path / "dup.py").write_text(
        "from engine.policy_api import Policy\nclass P(Policy):\n    key = 'half_done'\n"
        "    def folio_added(s, *a): pass\n")
    with pytest.raises(PolicyLoadError, match="must define folio_removed"):
        engine.load_policy_dir(tmp_path)
    (tmp_path / "dup.py").write_text("raise SystemError('boom')\n")
    with pytest.raises(PolicyLoadError, match="dup.py: SystemError: boom"):
        engine.load_policy_dir(tmp_path)
    assert "half_done" not in engine.POLICIES


# --- an MGLRU variant as a knob set: a 2026 proposal (docs/policies.md) -----------

def test_mglru_promote_file_on_access_promotes_on_the_second_fd_access():
    sim = Simulator({"policy": "lru_gen", "ram_pages": RAM, "lru_gen": {"promote_file_on_access": True}})
    st = sim.access("R", 0, 5)
    pfn = st["pfn"]
    for _ in range(3):                     # age: the folio's generation falls behind max_seq
        sim.debugfs_write(f"+ 0 0 {sim.lists()['max_seq']}\n")
    assert sim.folio(pfn)["seq"] < sim.lists()["max_seq"]
    seq = sim.folio(pfn)["seq"]
    # read() another page in between, so filemap_read() marks page 5 each time
    sim.access("R", 0, 4)
    sim.access("R", 0, 5)                  # first fd access: PG_referenced (lru_gen_inc_refs)
    sim.access("R", 0, 4)
    assert sim.folio(pfn)["seq"] == seq and "PG_referenced" in sim.folio(pfn)["flags"]
    sim.access("R", 0, 5)                  # second: promoted at access time
    # lru_activate() under MGLRU: max_seq - 1 (max_seq with PG_workingset)
    assert sim.folio(pfn)["seq"] == sim.lists()["max_seq"] - 1 > seq, "promoted at access time"
    assert sim.vmstat()["pgactivate"] == 2      # page 4 was read twice too
    plain = Simulator({"policy": "lru_gen", "ram_pages": RAM})
    assert plain.config["lru_gen"]["promote_file_on_access"] is False


def test_mglru_promote_file_on_access_cuts_refaults_on_stream_hot_file():
    from engine.workloads import generate
    w = generate("stream-hot-file", 4096, 0)
    out = {}
    for on in (False, True):
        sim = Simulator({"policy": "lru_gen", "ram_pages": 4096, "lru_gen": {"promote_file_on_access": on}})
        sim.set_workload(w.accesses)
        sim.run_to_end()
        out[on] = sim.vmstat()["workingset_refault_file"]
    assert out[True] < out[False]


def test_entry_points_register_python_and_cython_policies(monkeypatch):
    import importlib.metadata

    from engine.policy_api import Policy as _P

    class Ep:
        def __init__(self, name, obj):
            self.name, self.value, self._obj = name, f"fake:{name}", obj

        def load(self):
            return self._obj

    class FromEntryPoint(_Fifo):
        key = "ep_fifo"

    clock_info = engine.policy_info("clock")
    import dataclasses
    cython_info = dataclasses.replace(clock_info, key="ep_clock", source="fake:ep_clock", state_id=-1)
    calls = []

    def fake(group):
        calls.append(group)
        return [Ep("ep_fifo", FromEntryPoint), Ep("ep_clock", cython_info)]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    try:
        got = engine.load_entry_points()
        assert calls == ["reclaimlab.policies"]
        assert [i.key for i in got] == ["ep_fifo", "ep_clock"]
        for key in ("ep_fifo", "ep_clock"):
            sim = machine(key)
            sim.set_workload(make_workload(2, 1500, RAM, "mixed"))
            sim.run_to_end()
            assert sim.check_invariants() == []
        assert issubclass(FromEntryPoint, _P)
    finally:
        engine.registry.unregister("ep_fifo")
        engine.registry.unregister("ep_clock")


class _Spins(_Fifo):
    key = "broken_spins"

    def isolate(self, nr, file):
        while True:                            # a policy stuck in a loop
            pass


def test_a_hook_that_never_returns_is_interrupted_by_the_watchdog():
    from engine.plugin import set_hook_timeout
    engine.register_python(_Spins, source="tests")
    old = set_hook_timeout(0.3)
    try:
        sim = machine("broken_spins")
        sim.set_workload(make_workload(4, 3000, RAM, "mixed"))
        with pytest.raises(PolicyHookError) as e:
            sim.run_to_end()
        assert e.value.hook == "isolate" and "took longer than 0.3 s" in str(e.value)
        other = machine("clock_py")          # later hooks in this thread are not hit
        other.set_workload(make_workload(4, 800, RAM, "mixed"))
        other.run_to_end()
        assert other.check_invariants() == []
    finally:
        set_hook_timeout(old)
        engine.registry.unregister("broken_spins")

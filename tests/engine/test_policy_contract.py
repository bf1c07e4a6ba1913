"""Contract tests run over every policy in the registry (MGLRU joins automatically),
under every kernel profile (engine/kernels.py) where the profile changes the code path.

Invariants after every step of seeded workloads for every step unit, nothing
lost, determinism, bit-exact serialization, step-vs-run equivalence, config
errors, OOM, and the event ring's layout.
"""
import numpy as np
import pytest

import engine
from engine import ACCESS_DTYPE, EVENT_DTYPE, POLICIES, UNITS, ConfigError, Simulator
from engine.kernels import KERNELS
from engine.names import EVENT_KINDS, KERNEL_FNS, LOCATIONS, REASONS, VMSTAT_NAMES
from tests.conftest import WORKLOAD_KINDS, make_workload

RAM = 256


def machine(policy, ram=RAM, **extra):
    cfg = {"policy": policy, "ram_pages": ram, "swap_pages": ram // 2,
           "watermarks": {"min": 8, "low": 16, "high": 24}, "events_capacity": 1 << 12}
    cfg.update(extra)
    return Simulator(cfg)


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("kind", WORKLOAD_KINDS)
@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_invariants_hold_after_every_step(policy, kernel, kind, unit):
    sim = machine(policy, kernel=kernel)
    sim.set_workload(make_workload(11, 1500, RAM, kind))
    assert sim.check_invariants() == []
    steps = 0
    while not sim.done and steps < 400:
        n = sim.step(unit, 5 if unit == "access" else 1)
        steps += 1
        errs = sim.check_invariants()
        assert errs == [], (unit, steps, errs[:5])
        if n == 0 and unit == "aging" and not sim.policy.lru_gen_enabled:
            break                                           # classic: no aging unit
    if unit == "aging" and not sim.policy.lru_gen_enabled:
        assert sim.step("aging") == 0 and sim.nr_aging == 0
    sim.run_to_end()
    assert sim.done and sim.check_invariants() == []


@pytest.mark.parametrize("kind", WORKLOAD_KINDS)
@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_nothing_lost(policy, kernel, kind):
    sim = machine(policy, kernel=kernel, swap_pages=RAM * 4)   # enough swap: no OOM kill may excuse a loss
    w = make_workload(5, 4000, RAM, kind)
    sim.set_workload(w)
    sim.run_to_end()
    assert sim.nr_access == len(w)
    exited = set()
    seen = {}
    for rec in w:                                           # last op per page decides what is expected
        op, owner, page = int(rec["op"]), int(rec["owner"]), int(rec["page"])
        if op == 5:
            exited.add(owner)
            for key in [k for k in seen if k[0] == "A" and k[1] == owner]:
                del seen[key]
            continue
        if op == 0:
            exited.discard(owner)
            seen[("A", owner, page)] = True
        else:
            seen[("F", owner, page)] = "MX"[op - 3] if op in (3, 4) else "R"
    gone = 0
    for (t, owner, page), how in seen.items():
        st = sim.page_state("A" if t == "A" else how, owner, page)
        if t == "A":
            assert st["state"] in ("resident", "swapcache", "swap"), (owner, page, st)
        else:
            assert st["state"] in ("resident", "shadow", "none"), (owner, page, st)
            gone += st["state"] == "none"
    # a file page is cached or leaves a shadow, unless the shadow shrinker freed the
    # node it was in (shadow_lru_isolate(): at most XA_CHUNK_SIZE shadows a node)
    assert gone <= 64 * sim.vmstat()["workingset_nodereclaim"]
    assert sim.vmstat()["oom_kill"] == 0 and sim.nr_alloc_fail == 0


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_determinism_same_recipe_same_state_other_seed_differs(policy, kernel):
    def run(seed):
        sim = machine(policy, kernel=kernel)
        sim.set_workload(make_workload(seed, 3000, RAM, "mixed"))
        sim.step("access", 500)
        sim.run_to_end()
        return sim.vmstat(), sim.state_bytes(), sim.state_hash()
    a, b, c = run(1), run(1), run(2)
    assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2]
    assert a[1] != c[1]


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_state_round_trip_continues_bit_identically(policy, kernel):
    w = make_workload(3, 4000, RAM, "mixed")
    sim = machine(policy, kernel=kernel)
    sim.set_workload(w)
    sim.step("access", 1500)
    sim.step("scan", 3)                                     # possibly in the middle of a reclaim pass
    image = sim.state_bytes()
    sim.step("access", 1000)
    sim.run_to_end()
    final = sim.state_bytes()
    other = machine(policy, kernel=kernel)
    other.set_workload(w)
    other.load_state(image)
    assert other.state_bytes() == image
    assert other.check_invariants() == []
    other.step("access", 1000)
    other.run_to_end()
    assert other.state_bytes() == final
    # and restoring into the same object rewinds it
    sim.load_state(image)
    assert sim.state_bytes() == image


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_load_state_rejects_other_config_and_garbage(policy):
    sim = machine(policy)
    image = sim.state_bytes()
    with pytest.raises(ValueError):
        machine(policy, ram=512).load_state(image)
    with pytest.raises(ValueError):
        sim.load_state(b"nonsense" * 10)
    with pytest.raises(ValueError):
        sim.load_state(image[:-1])
    assert sim.state_bytes() == image


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_step_by_scan_and_run_ahead_reach_the_same_state(policy, kernel):
    w = make_workload(9, 3000, RAM, "anon-loop")
    n = 2500
    fast = machine(policy, kernel=kernel)
    fast.set_workload(w)
    fast.run(n)
    slow = machine(policy, kernel=kernel)
    slow.set_workload(w)
    while slow.nr_access < n // 2:
        slow.step("scan", 2)
        slow.step("shrink", 1)
    slow.step("access", n - slow.nr_access)
    assert slow.nr_access == fast.nr_access == n
    assert slow.vmstat() == fast.vmstat()
    assert slow.state_bytes(events=False) == fast.state_bytes(events=False)
    assert len(fast.events_since(0)) == 0 and len(slow.events_since(0)) > 0


BAD_CONFIGS = [
    ({"ram_pages": 0}, "ram_pages"),
    ({"ram_pages": "big"}, "ram_pages"),
    ({"swap_pages": -1}, "swap_pages"),
    ({"swappiness": 300}, "swappiness"),
    ({"swappiness": True}, "swappiness"),
    ({"policy": "no_such_policy"}, "policy"),
    ({"bogus": 1}, "bogus"),
    ({"watermarks": {"min": 10, "low": 10, "high": 20}}, "watermarks"),
    ({"watermarks": {"min": 1, "low": 2}}, "watermarks"),
    ({"swap_kind": "floppy"}, "swap_kind"),
    ({"swap_kind": "none", "swap_pages": 10}, "swap_pages"),
    ({"events_capacity": 1000}, "events_capacity"),
    ({"costs": {"access": -1}}, "costs.access"),
    ({"costs": {"teleport": 1}}, "costs.teleport"),
    ({"lru_gen": {"min_ttl_ms": -5}}, "lru_gen.min_ttl_ms"),
    ({"lru_gen": {"tiers": "yes"}}, "lru_gen.tiers"),
    ({"readahead_pages": -1}, "readahead_pages"),
]


@pytest.mark.parametrize("cfg,key", BAD_CONFIGS)
def test_bad_config_raises_config_error_naming_the_key(cfg, key):
    with pytest.raises(ConfigError) as exc:
        Simulator(cfg)
    assert exc.value.key == key and key in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_config_is_normalized_with_derived_watermarks():
    sim = Simulator({"ram_pages": 1 << 18})                  # 1 GiB: min_free_kbytes 4096
    cfg = sim.config
    delta = max(1024 // 4, (1 << 18) * 10 // 10000)           # watermark_scale_factor wins: 262
    assert cfg["watermarks"] == {"min": 1024, "low": 1024 + delta, "high": 1024 + 2 * delta}
    assert set(cfg) >= {"policy", "ram_pages", "swap_pages", "swap_kind", "swappiness", "costs",
                        "events_capacity", "readahead_pages"}
    assert "lru_gen" not in cfg                                   # only the selected policy's knobs
    assert Simulator({"policy": "lru_gen"}).config["lru_gen"]["tiers"] is True
    assert cfg["swap_pages"] == 1 << 17 and cfg["costs"]["swap_write"] == 0
    assert Simulator(cfg).config == cfg
    assert engine.derive_watermarks(1 << 20)["min"] == 2048          # 4 GiB: 8192 KiB
    assert engine.derive_watermarks(1 << 22)["min"] == 4096          # 16 GiB: 16384 KiB


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_oom_kill_without_swap_is_visible_and_the_run_goes_on(policy):
    sim = Simulator({"policy": policy, "ram_pages": 256, "swap_kind": "none",
                     "watermarks": {"min": 8, "low": 16, "high": 24}})
    w = np.zeros(1200, dtype=ACCESS_DTYPE)
    w["op"] = 0
    w["owner"] = np.arange(1200) // 300                     # four processes of 300 pages each
    w["page"] = np.arange(1200) % 300
    sim.set_workload(w)
    sim.step("access", 1200)
    assert sim.done and sim.nr_access == 1200
    assert sim.vmstat()["oom_kill"] > 0
    ev = sim.events_since(0)
    kills = ev[ev["kind"] == EVENT_KINDS.index("oom_kill")]
    assert len(kills) >= sim.vmstat()["oom_kill"]
    assert sim.check_invariants() == []


def test_event_dtype_matches_the_c_ring():
    assert EVENT_DTYPE.itemsize == 80
    assert list(EVENT_DTYPE.names) == ["seq", "time_ns", "nr_access", "batch", "index", "pfn", "mapping",
                                       "kind", "reason", "fn", "src", "dst", "src_seq", "dst_seq",
                                       "why_a", "why_b", "why_c", "why_d", "refs", "tier", "tier_idx", "why"]
    sim = machine("lru", events_capacity=16)
    for page in range(20):
        sim.access("A", 0, page)
    ev = sim.events_since(0)
    assert len(ev) == 16 and ev["seq"][-1] == sim.event_seq - 1
    assert (np.diff(ev["seq"].astype(np.int64)) == 1).all()
    last = ev[-1]
    assert EVENT_KINDS[last["kind"]] == "pgfault" and KERNEL_FNS[last["fn"]] == "do_anonymous_page"
    assert last["index"] == 19 and last["pfn"] == sim.page_state("A", 0, 19)["pfn"]
    # a fault decides nothing: no decision inputs recorded
    assert (last["why_a"], last["why_b"], last["refs"], last["tier"], last["tier_idx"], last["why"]) == (-1, -1, -1, -1, -1, 0)
    assert len(sim.events_since(sim.event_seq)) == 0


def test_name_tables_match_the_enums():
    from engine.simulator import ENUM_COUNTS
    assert len(VMSTAT_NAMES) == ENUM_COUNTS["vmstat"]
    assert len(EVENT_KINDS) == ENUM_COUNTS["event_kinds"]
    assert len(KERNEL_FNS) == ENUM_COUNTS["kernel_fns"]
    assert len(REASONS) == ENUM_COUNTS["reasons"]
    assert len(LOCATIONS) == ENUM_COUNTS["locations"]
    assert VMSTAT_NAMES[0] == "nr_free_pages" and "pgskip_dma32" in VMSTAT_NAMES
    assert "allocstall_movable" in VMSTAT_NAMES and VMSTAT_NAMES[-5:] == ("oom_kill", "pgmigrate_success",
                                                                     "pgrotate_anon", "pgrotate_file", "pgskip_dma")
    assert EVENT_KINDS[0] == "pgfault" and EVENT_KINDS[-3:] == ("access", "mm_page_alloc_extfrag", "workingset_nodereclaim")
    assert "__remove_mapping" in KERNEL_FNS and KERNEL_FNS[0] == "none"
    assert LOCATIONS[:5] == ("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE",
                             "LRU_ACTIVE_FILE", "LRU_UNEVICTABLE") and LOCATIONS[5] == "gen"
    assert REASONS[0] == "" and all(REASONS[1:])


def test_folio_flag_names_match_the_bits_and_the_frontend_mirror():
    import re
    from pathlib import Path
    from engine.names import FOLIO_FLAGS, PG
    sim = machine("lru")
    sim.access("A", 0, 5, write=True)
    pfn = sim.page_state("A", 0, 5)["pfn"]
    f = sim.folio(pfn)
    assert {"PG_lru", "PG_swapbacked", "PG_anon"} <= set(f["flags"])
    assert sum(PG[n] for n in f["flags"]) == f["raw_flags"] & ((1 << len(FOLIO_FLAGS)) - 1)
    js = (Path(__file__).resolve().parents[2] / "frontend" / "js" / "flags.js").read_text()
    mirrored = {n: 1 << int(b) for n, b in re.findall(r"((?:PG|FOLIO)_\w+): 1 << (\d+)", js)}
    assert mirrored == PG


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_views_are_consistent(policy):
    sim = machine(policy)
    sim.set_workload(make_workload(2, 2000, RAM, "mixed"))
    sim.run_to_end()
    vm = sim.vmstat()
    mi = sim.meminfo()
    assert mi["MemFree"] == vm["nr_free_pages"] * 4 == sim.nr_free * 4
    assert mi["MemTotal"] == RAM * 4
    fr = sim.frames()
    assert len(fr["flags"]) == RAM and int((fr["flags"] != 0).sum()) == RAM - sim.nr_free
    snap = sim.snapshot()
    assert snap["policy"] == policy and snap["progress"]["nr_access"] == 2000
    lists = sim.lists()
    assert "LRU_UNEVICTABLE" in lists
    import json
    json.dumps(snap)


@pytest.mark.parametrize("swap_kind", ["ssd", "hdd", "none"])
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_invariants_with_async_swap_readahead_and_exits(policy, swap_kind):
    # swappiness 200: anon first, so that swap writeback is in flight under every policy
    cfg = {"swap_kind": swap_kind, "readahead_pages": 4, "swappiness": 200}
    if swap_kind == "none":
        cfg["swap_pages"] = 0
    sim = machine(policy, **cfg)
    w = make_workload(21, 6000, RAM, "mixed")
    sim.set_workload(w)
    while not sim.done:
        sim.step("access", 97)
        errs = sim.check_invariants()
        assert errs == [], errs[:5]
    sim.writeback_complete_all()
    assert sim.check_invariants() == []
    vm = sim.vmstat()
    assert vm["nr_writeback"] == 0
    if swap_kind != "none":
        # anon reclaim was tried; S3-FIFO keeps this workload's hot anon set in
        # its main FIFO, so it scans anon without ever swapping out
        assert vm["pswpout"] > 0 or (policy == "s3fifo" and vm["pgscan_anon"] > 0)
    # round trip in the middle of in-flight writeback
    sim2 = machine(policy, **cfg)
    sim2.set_workload(w)
    sim2.step("access", 3000)
    image = sim2.state_bytes()
    sim2.run_to_end()
    sim3 = machine(policy, **cfg)
    sim3.set_workload(w)
    sim3.load_state(image)
    sim3.run_to_end()
    assert sim3.state_bytes() == sim2.state_bytes()

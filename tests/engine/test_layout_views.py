"""Simulator.layout_order / layout_location: the step message's layout and
its delta (backend/wire.py) from one pass over the folio table. They bring
a caller's base up to date in place and name what changed, so a wrong
entry would live on in every later delta. The location pass reads only the
frames whose flags the engine wrote since the base's last pass (a stamp per
64 frames on every flags write): a write that forgot its stamp would show
here as a base that differs from the from-scratch computation. Checked
against a from-scratch NumPy computation from the engine's public views,
over many random steps of both policies, with two bases passes apart,
across load_state() (a seek), between the two machines of a compare
session, and when the delta overflows."""
import numpy as np
import pytest

from engine import Simulator
from engine.workloads import generate

VM_SHARED, VM_LOCKED = 16, 2
NR_HEADS = 24
PG_lru, PG_active, PG_swapbacked, PG_unevictable, PG_mlocked, PG_tail = 1, 2, 16, 256, 512, 1 << 14
FOLIO_ORDER_PGOFF = 24
LRU_GEN_PGOFF, MAX_NR_GENS, LOC_OFF_LRU, LOC_GEN_BASE = 16, 4, 255, 16
RAM = 4096


def machine(policy):
    sim = Simulator({"policy": policy, "ram_pages": RAM, "zone_dma_pages": 512,
                     "swap_pages": RAM, "readahead_pages": 8})
    # mlocked folios for meminfo()'s count (mlock_folio() under VM_LOCKED)
    sim.set_vma_flags("M", 0, VM_SHARED | VM_LOCKED)
    for v in range(37):
        sim.access("M", 0, v)
    sim.set_workload(generate("zipf-mixed", RAM, seed=5, accesses=RAM * 40).accesses)
    return sim


def folio_flags(sim):
    # each frame's flags, a large folio's tail page with its head's (the folio's) and PG_tail
    raw = np.array(sim.frames()["flags"], np.uint32)
    links = np.asarray(sim.links())[:RAM]
    tail = (raw & PG_tail) != 0
    out = raw.copy()
    out[tail] = raw[links[tail]] | PG_tail
    return raw, out


def reference_order(sim):
    raw, flags = folio_flags(sim)
    links = np.asarray(sim.links())
    nxt = np.concatenate([np.where(raw & PG_lru, links[:RAM], -1), links[RAM:RAM + NR_HEADS]])
    pages = 1 << ((raw >> FOLIO_ORDER_PGOFF) & 15)
    return flags, nxt.astype(np.int32), sim.young_bits(), int(pages[(raw & PG_mlocked) != 0].sum())


def window(sim):
    pol = sim.policy
    if not hasattr(pol, "max_seq"):
        return None
    return int(pol.min_seq[0]), int(pol.min_seq[1]), int(pol.max_seq)


def reference_locations(sim):
    # protocol.md §3.3 from the raw flag bits, as the server computed it
    # before the engine did (a table indexed by the deciding bits themselves);
    # a tail page is where its folio is
    flags = folio_flags(sim)[1]
    win = window(sim)
    out = np.full(RAM, LOC_OFF_LRU, np.uint8)
    on = (flags & PG_lru) != 0
    file = np.where(flags & PG_swapbacked, 0, 1)
    slot = (flags >> LRU_GEN_PGOFF) & 7
    if win is None:
        out[on] = (2 * file + ((flags & PG_active) != 0))[on]
    else:
        for seq in range(min(win[:2]), win[2] + 1):
            for t in (0, 1):
                if seq >= win[t]:
                    sel = on & (file == t) & (slot == seq % MAX_NR_GENS + 1)
                    out[sel] = LOC_GEN_BASE + 2 * (seq - win[t]) + t
    out[on & ((flags & PG_unevictable) != 0)] = 4
    return out


def lut_of(sim):
    from backend.frames import _loc_lut
    return _loc_lut(window(sim))


def order_pass(sim, base, cap):
    d = (np.empty(cap, np.uint32), np.empty(cap, np.uint32), np.empty(cap, np.int32), np.empty(cap, np.uint8))
    cnt, ml = sim.layout_order(*base, True, *d)
    return cnt, ml, d


def check_order_delta(sim, base, cap=RAM + NR_HEADS):
    before = [a.copy() for a in base]
    cnt, ml, d = order_pass(sim, base, cap)
    flags, nxt, young, mlocked = reference_order(sim)
    assert np.array_equal(base[0], flags) and np.array_equal(base[1], nxt) and np.array_equal(base[2], young)
    assert ml == mlocked == sim.meminfo()["Mlocked"] // 4
    changed = nxt != before[1]
    changed[:RAM] |= (flags != before[0]) | (young != before[2])
    idx = np.flatnonzero(changed)
    if cnt < 0:
        assert len(idx) > cap
        return len(idx)
    assert d[0][:cnt].tolist() == idx.tolist()
    fr = idx < RAM
    assert np.array_equal(d[1][:cnt][fr], flags[idx[fr]]) and not d[1][:cnt][~fr].any()
    assert np.array_equal(d[2][:cnt], nxt[idx])
    assert np.array_equal(d[3][:cnt][fr], young[idx[fr]]) and not d[3][:cnt][~fr].any()
    return cnt


class LocBase:
    """A location base as backend/wire.py keeps one: the bytes, the
    flags they were taken from, and what the incremental pass needs."""

    def __init__(self, sim):
        self.loc, self.flags = np.empty(RAM, np.uint8), np.empty(RAM, np.uint32)
        e = np.empty(0, np.uint32)
        cnt, self.mlocked, self.since = sim.layout_location(lut_of(sim), self.loc, self.flags, False, e,
                                                            np.empty(0, np.uint8))
        assert cnt == -1
        self.token, self.window = sim.layout_token, window(sim)

    def copy(self):
        c = object.__new__(LocBase)
        c.__dict__.update(self.__dict__, loc=self.loc.copy(), flags=self.flags.copy())
        return c


def check_location_delta(sim, base, cap=RAM, incremental=True):
    before = base.loc.copy()
    d_pfn, d_val = np.empty(cap, np.uint32), np.empty(cap, np.uint8)
    same = incremental and base.token == sim.layout_token and base.window == window(sim)
    since, ml0 = (base.since, base.mlocked) if same else (-1, 0)
    cnt, ml, base.since = sim.layout_location(lut_of(sim), base.loc, base.flags, True, d_pfn, d_val, since, ml0)
    base.mlocked, base.token, base.window = ml, sim.layout_token, window(sim)
    ref = reference_locations(sim)
    assert np.array_equal(base.loc, ref)
    assert np.array_equal(base.flags, np.asarray(sim.frames()["flags"]))
    assert ml == sim.meminfo()["Mlocked"] // 4
    idx = np.flatnonzero(ref != before)
    if cnt < 0:
        assert len(idx) > cap
        return len(idx)
    assert d_pfn[:cnt].tolist() == idx.tolist() and np.array_equal(d_val[:cnt], ref[idx])
    return cnt


def fresh_bases(sim):
    base = (np.empty(RAM, np.uint32), np.empty(RAM + NR_HEADS, np.int32), np.empty(RAM, np.uint8))
    e = np.empty(0, np.uint32)
    assert sim.layout_order(*base, False, e, e, np.empty(0, np.int32), np.empty(0, np.uint8))[0] == -1
    ref = reference_order(sim)
    assert all(np.array_equal(a, b) for a, b in zip(base, ref[:3]))
    loc = LocBase(sim)
    assert np.array_equal(loc.loc, reference_locations(sim))
    return base, loc


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_the_layout_passes_equal_a_from_scratch_computation_after_random_steps(policy):
    rng = np.random.default_rng(7)
    sim = machine(policy)
    sim.step("access", RAM * 3)      # under pressure: scans reclaim
    base, loc = fresh_bases(sim)
    units = ["access", "scan", "shrink"]
    snap, moved, aged, other = None, 0, 0, None
    for i in range(160):
        # an aging step runs until max_seq moves, thousands of accesses: a few
        unit = "aging" if policy == "lru_gen" and i % 40 == 39 else units[rng.integers(len(units))]
        seq = int(sim.policy.max_seq) if policy == "lru_gen" else 0
        sim.step(unit, int(rng.integers(1, 200)) if unit == "access" else 1)
        aged += policy == "lru_gen" and int(sim.policy.max_seq) != seq
        if i == 60:
            snap = sim.state_bytes()
        if i == 120:
            token = sim.layout_token
            sim.load_state(snap)       # a seek back: the bases hold a later state
            assert sim.layout_token != token    # so the next location pass reads every frame
        moved += check_order_delta(sim, base) > 0
        check_location_delta(sim, loc)
        if i % 16 == 0:                # a second connection's base, fewer passes behind
            other = loc.copy() if other is None else other
            check_location_delta(sim, other)
    assert moved > 80 and sim.meminfo()["Mlocked"] > 0 and not sim.done
    if policy == "lru_gen":
        assert aged > 0              # min_seq/max_seq moved: locations renumbered


def test_a_base_of_one_machine_is_brought_to_the_other_in_compare_mode():
    a, b = machine("lru"), machine("lru_gen")
    for sim in (a, b):
        sim.step("access", RAM * 4)
    base, loc = fresh_bases(a)
    assert check_order_delta(b, base) > 0
    assert check_location_delta(b, loc) > 0      # another machine: every frame read
    check_order_delta(a, base)
    check_location_delta(a, loc)


def test_a_delta_over_its_capacity_says_so_and_still_updates_the_base():
    sim = machine("lru_gen")
    sim.step("access", RAM * 2)
    base, loc = fresh_bases(sim)
    sim.step("access", RAM * 2)
    n = check_order_delta(sim, [a.copy() for a in base], cap=RAM + NR_HEADS)
    assert n > 3
    assert check_order_delta(sim, base, cap=3) == n      # -1 from the engine: the base is whole
    k = check_location_delta(sim, loc.copy())
    assert k > 1 and check_location_delta(sim, loc, cap=k - 1) == k
    assert check_order_delta(sim, base) == 0 and check_location_delta(sim, loc) == 0


def test_the_layout_stamps_are_not_machine_state():
    # the same steps with and without layout passes between them: the same
    # state image and hash, and an image loads into a machine never drawn
    drawn, plain = machine("lru_gen"), machine("lru_gen")
    loc = LocBase(drawn)
    for unit in ("access", "scan", "scan", "shrink", "access", "scan"):
        for sim in (drawn, plain):
            sim.step(unit, 500 if unit == "access" else 1)
        check_location_delta(drawn, loc)
    assert drawn.state_bytes() == plain.state_bytes()
    assert drawn.state_hash() == plain.state_hash()
    fresh = machine("lru_gen")
    fresh.load_state(drawn.state_bytes())
    assert fresh.state_hash() == plain.state_hash()


def test_every_write_of_folio_flags_in_the_engine_is_stamped():
    # The random steps above reach most writes, not all (rare paths, new
    # code): a write of folio.flags without folio_flags_changed() after it
    # would leave a stale location on the page until a seek.
    import re
    from pathlib import Path
    write = re.compile(r"^\s*(?:self\.)?m\.folios\[[^\]]+\]\.flags\s*(?:\||&|\+|-|\^)?=(?!=)")
    missing, seen = [], 0
    for path in sorted((Path(__file__).resolve().parents[2] / "engine").glob("*.p[yx][xd]")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if not write.match(line):
                continue
            seen += 1
            j, depth = i, line.count("(") - line.count(")")
            while lines[j].rstrip().endswith("\\") or depth > 0:
                j += 1
                depth += lines[j].count("(") - lines[j].count(")")
            if "folio_flags_changed(" not in lines[j + 1]:
                missing.append(f"{path.name}:{i + 1}")
    assert seen >= 40 and not missing, missing

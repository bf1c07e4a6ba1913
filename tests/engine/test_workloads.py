"""Scenario generators: seeded, vectorised, sized as fractions of RAM."""

import time
from pathlib import Path

import numpy as np
import pytest

from engine import workloads as W
from engine.workloads import (ACCESS_DTYPE, OP_ANON, OP_EXEC, OP_EXIT, OP_MMAP, OP_READ,
                              OP_WRITE, SCENARIOS, WorkloadError, generate, zipf_ranks)

DESIGN_NAMES = ("anon-loop", "stream-hot-anon", "stream-hot-file", "zipf-anon", "file-loop",
                "table-switch", "mmap-exec", "desktop", "zipf-mixed")
RAM = 4096
ROOT = Path(__file__).resolve().parents[2]


def ops(wl):
    return wl.accesses["op"]


def test_access_dtype_is_the_documented_16_byte_layout():
    assert ACCESS_DTYPE.names == ("op", "write", "_pad", "owner", "page")
    assert [ACCESS_DTYPE.fields[n][1] for n in ACCESS_DTYPE.names] == [0, 1, 2, 4, 8]
    assert ACCESS_DTYPE.itemsize == 16
    assert ACCESS_DTYPE == np.dtype([("op", "u1"), ("write", "u1"), ("_pad", "u2"),
                                     ("owner", "u4"), ("page", "u8")])


def test_access_dtype_is_identical_to_the_engine_one():
    import engine
    assert engine.ACCESS_DTYPE == ACCESS_DTYPE


def test_registry_has_every_design_scenario_with_docs():
    for name in DESIGN_NAMES:
        s = SCENARIOS[name]
        assert s.name == name and s.title and s.default_accesses > 0
        # "what to watch" names at least one /proc/vmstat counter
        assert any(c in s.watch for c in ("pgscan", "pgsteal", "pswp", "workingset_",
                                          "pgactivate", "pgdeactivate", "pgrefill")), name
        for p in s.params:
            assert p.lo <= p.default <= p.hi and p.doc


def test_docs_scenarios_page_describes_every_scenario():
    text = (ROOT / "docs" / "scenarios.md").read_text()
    for name in SCENARIOS:
        assert f"`{name}`" in text, name


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_is_well_formed(name):
    wl = generate(name, RAM, seed=5, accesses=20_000)
    a = wl.accesses
    assert a.dtype == ACCESS_DTYPE and len(a) == 20_000
    assert set(np.unique(a["op"])) <= set(range(6))
    assert not a["_pad"].any()
    is_mm = np.isin(a["op"], (OP_ANON, OP_EXIT))
    assert (a["owner"][is_mm] < len(wl.names["mm"])).all()
    assert (a["owner"][~is_mm] < len(wl.names["file"])).all()
    # every name is used and printable in a v1 trace
    for kind, sel in (("mm", is_mm), ("file", ~is_mm)):
        assert sorted(set(a["owner"][sel].tolist())) == list(range(len(wl.names[kind])))
        for n in wl.names[kind]:
            assert n and all(c.isalnum() or c in "_.-" for c in n)
    # writes only where the op can write: A, W, M
    assert not a["write"][np.isin(a["op"], (OP_READ, OP_EXEC, OP_EXIT))].any()
    assert a["write"][a["op"] == OP_WRITE].all()
    assert wl.meta["scenario"] == name and wl.meta["ram_pages"] == RAM


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_seed_same_workload_bit_for_bit(name):
    a = generate(name, RAM, seed=11, accesses=5000).accesses
    b = generate(name, RAM, seed=11, accesses=5000).accesses
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n not in ("anon-loop", "file-loop")])
def test_different_seed_different_workload(name):
    # long enough to get past any first-touch phase
    a = generate(name, RAM, seed=1, accesses=30_000).accesses
    b = generate(name, RAM, seed=2, accesses=30_000).accesses
    assert a.tobytes() != b.tobytes()


def test_default_length_scales_with_ram():
    s = SCENARIOS["anon-loop"]
    assert len(s.generate(W.DEFAULT_RAM_PAGES, 0)) == s.default_accesses
    assert len(s.generate(W.DEFAULT_RAM_PAGES // 16, 0)) == s.default_accesses // 16


def test_anon_loop_is_a_loop_over_1_2x_ram_and_first_pass_writes():
    wl = generate("anon-loop", RAM, seed=0, accesses=3 * 5000)
    size = round(1.2 * RAM)
    a = wl.accesses
    assert (ops(wl) == OP_ANON).all()
    assert (a["page"] == np.arange(len(a)) % size).all()
    assert a["write"][:size].all() and not a["write"][size:].any()
    assert wl.meta["sizes"]["anon_pages"] == size


def test_sizes_are_fractions_of_ram():
    for ram in (1024, 8192):
        wl = generate("zipf-anon", ram, seed=0, accesses=50_000)
        assert wl.accesses["page"].max() < round(1.4 * ram)
        assert wl.meta["sizes"]["anon_pages"] == round(1.4 * ram)


def test_zipf_sampler_is_bounded_and_follows_k_to_the_minus_s():
    rng = np.random.Generator(np.random.PCG64(3))
    n, s = 1000, 0.99
    r = zipf_ranks(rng, n, s, 2_000_000)
    assert r.min() == 0 and r.max() == n - 1
    counts = np.bincount(r, minlength=n)
    expect = np.arange(1, n + 1) ** -s
    expect = expect / expect.sum() * len(r)
    # the head ranks within 3% of the exact Zipf frequencies
    assert np.allclose(counts[:10], expect[:10], rtol=0.03)
    assert counts[0] / counts[1] == pytest.approx(2 ** s, rel=0.03)


def test_zipf_anon_hot_pages_are_spread_by_the_permutation():
    wl = generate("zipf-anon", RAM, seed=4, accesses=200_000)
    counts = np.bincount(wl.accesses["page"].astype(np.int64))
    hottest = np.argsort(counts)[-10:]
    # a shuffled rank order: the 10 hottest pages are not the first 10 vpns
    assert set(hottest.tolist()) != set(range(10))


@pytest.mark.parametrize("name, hot_op", [("stream-hot-anon", OP_ANON), ("stream-hot-file", OP_READ)])
def test_stream_is_use_once_and_hot_set_is_bounded(name, hot_op):
    wl = generate(name, RAM, seed=9, accesses=50_000)
    a = wl.accesses
    stream = wl.names["file"].index("stream.log")
    is_stream = (a["op"] == OP_READ) & (a["owner"] == stream)
    pages = a["page"][is_stream]
    assert len(np.unique(pages)) == len(pages)          # never reread
    hot = ~is_stream
    assert (a["op"][hot] == hot_op).all()
    hot_pages = wl.meta["sizes"]["anon_pages" if hot_op == OP_ANON else "file_pages"]
    assert a["page"][hot].max() < hot_pages
    # stream_ratio 0.5 of the steady state (after the hot set's first touch)
    assert is_stream[hot_pages:].mean() == pytest.approx(0.5, abs=0.02)


def test_file_loop_reads_a_file_of_1_3x_ram_sequentially():
    wl = generate("file-loop", RAM, seed=0, accesses=20_000)
    size = round(1.3 * RAM)
    assert (ops(wl) == OP_READ).all()
    assert (wl.accesses["page"] == np.arange(20_000) % size).all()


def test_table_switch_alternates_between_two_tables_over_half_of_ram():
    wl = generate("table-switch", RAM, seed=0, accesses=60_000, phase=2.0)
    a = wl.accesses
    table = wl.meta["sizes"]["table_pages"]
    assert table > RAM // 2
    phase = wl.meta["sizes"]["phase_accesses"]
    assert phase == round(2.0 * table)
    owner = a["owner"]
    switches = np.flatnonzero(np.diff(owner.astype(np.int64))) + 1
    assert list(switches) == list(range(phase, len(a), phase))
    assert set(owner[:phase].tolist()) == {0} and set(owner[phase:2 * phase].tolist()) == {1}
    assert a["page"].max() < table


def test_mmap_exec_has_exec_mmap_and_stream_on_separate_files():
    wl = generate("mmap-exec", RAM, seed=0, accesses=30_000)
    a = wl.accesses
    owner_of = {op: set(a["owner"][a["op"] == op].tolist()) for op in (OP_EXEC, OP_MMAP, OP_READ)}
    assert all(len(v) == 1 for v in owner_of.values())
    assert len(set.union(*owner_of.values())) == 3
    assert a["page"][a["op"] == OP_EXEC].max() < wl.meta["sizes"]["exec_pages"]


def test_desktop_mixes_every_op_and_one_process_exits():
    wl = generate("desktop", RAM, seed=2, accesses=40_000, exit_at=0.5)
    a = wl.accesses
    assert set(np.unique(a["op"]).tolist()) == set(range(6))
    exits = np.flatnonzero(a["op"] == OP_EXIT)
    assert len(exits) == 1 and exits[0] == 20_000
    build = a["owner"][exits[0]]
    assert wl.names["mm"][build] == "build"
    anon = a["op"] == OP_ANON
    assert not (anon[exits[0]:] & (a["owner"][exits[0]:] == build)).any()
    assert (anon[:exits[0]] & (a["owner"][:exits[0]] == build)).any()
    assert len(wl.names["mm"]) >= 3
    assert a["write"][a["op"] == OP_WRITE].all()


def test_zipf_anon_writes_the_whole_heap_first():
    wl = generate("zipf-anon", RAM, seed=0, accesses=40_000)
    size = wl.meta["sizes"]["anon_pages"]
    a = wl.accesses
    assert (a["page"][:size] == np.arange(size)).all() and a["write"][:size].all()
    assert 0.25 < a["write"][size:].mean() < 0.35              # write_ratio 0.3 after


def test_zipf_mixed_fills_both_sets_then_splits_anon_and_file():
    wl = generate("zipf-mixed", RAM, seed=0, accesses=60_000, anon_fraction=0.25)
    a = wl.accesses
    na, nf = wl.meta["sizes"]["anon_pages"], wl.meta["sizes"]["file_pages"]
    assert na + nf > RAM
    assert (ops(wl)[:na] == OP_ANON).all() and (a["page"][:na] == np.arange(na)).all()
    assert (ops(wl)[na:na + nf] == OP_READ).all() and (a["page"][na:na + nf] == np.arange(nf)).all()
    steady = ops(wl)[na + nf:]
    assert (steady == OP_ANON).mean() == pytest.approx(0.25, abs=0.02)
    assert set(np.unique(steady).tolist()) == {OP_ANON, OP_READ}


def test_bad_parameters_are_named():
    with pytest.raises(WorkloadError, match="unknown scenario 'nope'"):
        generate("nope", RAM)
    with pytest.raises(WorkloadError, match="no parameter 'bogus'"):
        generate("anon-loop", RAM, bogus=1)
    with pytest.raises(WorkloadError, match=r"'size' = 100.0 is out of range \[0.05, 8.0\]"):
        generate("anon-loop", RAM, size=100)
    with pytest.raises(WorkloadError, match="'size' must be a number"):
        generate("anon-loop", RAM, size="big")
    with pytest.raises(WorkloadError, match="ram_pages = 10 is out of range"):
        generate("anon-loop", 10)
    with pytest.raises(WorkloadError, match="accesses = 0 is out of range"):
        generate("anon-loop", RAM, accesses=0)
    with pytest.raises(WorkloadError, match="seed must be an integer"):
        generate("anon-loop", RAM, seed=1.5)


@pytest.mark.parametrize("name", ["desktop", "zipf-mixed"])
def test_ten_million_accesses_generate_in_seconds(name):
    # CPU time, not wall time: the suite shares two cores with other jobs
    t = time.process_time()
    wl = generate(name, W.DEFAULT_RAM_PAGES, seed=1, accesses=10_000_000)
    dt = time.process_time() - t
    assert len(wl) == 10_000_000
    assert dt < 4.0, f"{name}: {dt:.2f}s CPU for 10 M accesses"


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_runs_to_the_end_in_the_engine(name, policy):
    import engine
    sim = engine.Simulator({"policy": policy, "ram_pages": 512, "swap_pages": 1024})
    wl = generate(name, 512, seed=1, accesses=6000)
    sim.set_workload(wl.accesses)
    sim.run_to_end()
    assert sim.done and sim.position == 6000
    assert sim.check_invariants() == []


def _run(name, policy, ram=1024):
    import engine
    sim = engine.Simulator({"policy": policy, "ram_pages": ram, "swap_pages": 2 * ram})
    wl = generate(name, ram, seed=1)
    sim.set_workload(wl.accesses)
    sim.run_to_end()
    return wl, sim.vmstat()


# The "what to watch" texts make claims; these check the ones that a small
# machine shows reliably, so the docs cannot drift from the engine.

def test_watch_anon_loop_refaults_are_not_activated_and_mglru_swaps_in_less():
    _, lru = _run("anon-loop", "lru")
    _, gen = _run("anon-loop", "lru_gen")
    assert lru["workingset_refault_anon"] > 0
    assert lru["workingset_activate_anon"] <= lru["workingset_refault_anon"] // 10
    assert gen["pswpin"] < lru["pswpin"]


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_watch_stream_hot_anon_reclaims_the_stream_not_the_anon_set(policy):
    _, vm = _run("stream-hot-anon", policy)
    assert vm["pgsteal_file"] > 0
    assert vm["pgscan_anon"] == 0 and vm["pswpout"] == 0


def test_watch_file_loop_every_reread_is_a_refault_and_classic_never_activates():
    wl, vm = _run("file-loop", "lru")
    rereads = len(wl) - wl.meta["sizes"]["file_pages"]
    # every reread is a refault; readahead adds the few folios it read ahead
    # and lost before their read came (a second refault of the same page)
    assert rereads <= vm["workingset_refault_file"] <= rereads * 1.02
    assert vm["workingset_activate_file"] == 0


def test_watch_stream_hot_file_classic_activates_and_deactivates_the_hot_set():
    _, vm = _run("stream-hot-file", "lru")
    assert vm["pgactivate"] > 0 and vm["pgdeactivate"] > 0
    assert vm["workingset_activate_file"] > 0


def test_watch_mmap_exec_classic_rotates_exec_folios_instead_of_deactivating():
    _, vm = _run("mmap-exec", "lru")
    assert vm["pgrefill"] > vm["pgdeactivate"]

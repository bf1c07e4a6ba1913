"""The guest machine's clock runs at the rig's guests' measured pace
(engine/kernels.py GUEST_COSTS, validation/guest_costs.py) or at the engine's,
and on either 6.12's and 7.3's classic reclaim reads memcg stats the periodic
flush left 2 s of the guest's time before (mm/memcontrol.c
flush_memcg_stats_dwork(), lruvec_page_state(); ENGINE_PACE_OF_GUEST)."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import ACCESS_DTYPE, Simulator
from engine.config import ConfigError, default_costs, normalize_config
from engine.kernels import (ENGINE_PACE_OF_GUEST, PACE_DRIFT, FLUSH_FIRST_SHARE, FLUSH_TIME_MS, GUEST_COSTS, KERNELS, guest_costs,
                            guest_machine)
from validation import guest_costs as G
from validation.validate import fitted, load_real, profile

ROOT = Path(__file__).resolve().parents[2]
OP_ANON, OP_READ, OP_MMAP = 0, 1, 3


def accesses(op, pages, owner=0, write=0):
    w = np.zeros(len(pages), dtype=ACCESS_DTYPE)
    w["op"], w["owner"], w["page"], w["write"] = op, owner, pages, write
    return w


# --- the measured table --------------------------------------------------------------

def test_guest_marks_are_the_tenths_of_every_replay_in_validation_real():
    """validation/guest_marks.csv holds, per replay of validation/real/*.csv
    but the held-out ones (validate.HELD_OUT), its ten intervals between MARK lines; over a replay they add up to the
    replay's own done - start columns."""
    marks = G.load()
    real = {r["run"]: r for r in fitted(load_real(sorted((ROOT / "validation" / "real").glob("*.csv"))))}
    by_run = {}
    for r in marks:
        by_run.setdefault(r["run"], []).append(r)
    assert set(by_run) == set(real)
    for run, rows in by_run.items():
        assert len(rows) == 10
        assert rows[0]["kernel"] == profile(real[run]["kernel"])
        assert sum(int(r["records"]) for r in rows) == int(real[run]["records"])
        assert sum(int(r["pswpin"]) for r in rows) == int(real[run]["pswpin"])
        assert sum(int(r["pgscan_direct"]) + int(r["pgscan_kswapd"]) for r in rows) == int(real[run]["pgscan"])
        # from the start mark to the done mark, within half a second of the
        # replayer's own elapsed_s (taken just outside the marks)
        assert abs(sum(float(r["dt_s"]) for r in rows) - float(real[run]["elapsed_s"])) < 0.5


def test_guest_costs_are_the_least_squares_fit_of_the_replays_tenths():
    fit = G.fit(G.load())
    ns = fit["ns"]
    assert fit["intervals"] == 1180 and fit["replays"] == 118
    assert GUEST_COSTS == {
        "access": ns["access"], "mmap_access": ns["mmap_access"], "read_hit": ns["read_hit"],
        "minor_fault": ns["minor_fault"], "swap_read": ns["swap_read"],
        "file_read": ns["read_hit"] + ns["file_read_page"], "readahead_page": ns["file_read_page"],
        "scan_folio": ns["scan_folio"], "swap_write": ns["swap_write"], "file_write": ns["swap_write"]}
    # the replaying process's sums over a whole replay: a median within 15 %
    # of the guests' elapsed times (one replay's boots differ up to 2x)
    assert 0.85 <= fit["replay_elapsed_ratio"]["median"] <= 1.15


def test_nnls_solves_what_scipy_optimize_nnls_solves():
    rng = np.random.default_rng(1)
    a = rng.random((40, 5))
    x_true = np.array([1.0, 0.0, 3.0, 0.5, 0.0])
    b = a @ x_true + rng.normal(0, 0.01, 40)
    x = G.nnls(a, b)
    assert (x >= 0).all() and np.allclose(x, x_true, atol=0.05)
    # an unconstrained solution with a negative term is clamped to the boundary
    b2 = a @ np.array([1.0, -2.0, 0, 0, 0])
    x2 = G.nnls(a, b2)
    assert x2[1] == 0 and (x2 >= 0).all()


# --- the guest machine uses it ----------------------------------------------------------

def test_the_engines_pace_is_the_median_of_its_replays_time_over_the_guests__engine_pace():
    """ENGINE_PACE_OF_GUEST: per release, the median over the fitted replays with
    the default knobs of the simulated time at the engine's costs, without the
    flush, over the replay's elapsed_s (validation/guest_costs.py engine-pace),
    within PACE_DRIFT of today's engine: the boots' own elapsed times are that
    far from their mean (next test), so a smaller drift is no new measurement."""
    got = G.engine_pace()
    assert set(got) == set(ENGINE_PACE_OF_GUEST)
    for key, ratio in got.items():
        assert abs(ratio / ENGINE_PACE_OF_GUEST[key] - 1) <= PACE_DRIFT, (key, ratio)


def test_the_pace_may_drift_as_far_as_the_boots_own_elapsed_times_are_from_their_mean():
    assert abs(G.elapsed_spread() - PACE_DRIFT) < 0.01


@pytest.mark.parametrize("key", list(KERNELS))
def test_guest_machine_runs_at_the_guests_pace_with_the_kernels_flush_time(key):
    m = guest_machine(key, 16384, pace="rig")
    assert m["costs"] == GUEST_COSTS and m["flush_time_ms"] == FLUSH_TIME_MS == 2000
    # at the engine's pace (the default) the machine of today's hardware, whose
    # flush comes after as many records as 2 s of the guest's time hold
    engine = guest_machine(key, 16384)
    assert "costs" not in engine
    assert engine["flush_time_ms"] == round(2000 * ENGINE_PACE_OF_GUEST[key]) < 500
    # on either clock the workload starts where the rig's boots did in the flush's cycle
    for machine in (m, engine):
        assert machine["flush_first_ms"] == round(machine["flush_time_ms"] * FLUSH_FIRST_SHARE)
    # another swap device keeps its own latencies; a bare teaching machine the defaults
    assert set(GUEST_COSTS) - set(guest_costs("zram")) == {"swap_read", "swap_write"}
    assert "file_read" not in guest_costs("hdd")
    small = guest_machine(key, 8191, pace="rig")
    assert "costs" not in small and "flush_time_ms" not in small


def test_the_guests_first_flush_share_is_where_the_rigs_boots_had_it__flush_memcg_stats_dwork():
    """FLUSH_FIRST_SHARE is a measurement: the mean delay from a traced boot's
    replay start to its first flush_memcg_stats_dwork(), in periods
    (validation/stats-flush.csv, validation/stats_flush.py). The deferrable
    worker's phase drifts, so the boots spread over the whole cycle; and the
    ratelimited path (mem_cgroup_flush_stats() when the worker is a cycle
    late) never flushed, so the periodic worker is all the engine models."""
    from validation import stats_flush as SF
    rows = SF.load()
    assert len(rows) >= 20 and {r["kernel"][:4] for r in rows} == {"6.12", "7.3."}
    shares = [SF.share(r) for r in rows]
    assert min(shares) < 0.1 and max(shares) > 0.9
    assert FLUSH_FIRST_SHARE == round(SF.first_flush_share(rows), 2)
    assert all(int(r["flushes_ratelimited"]) == 0 for r in rows)
    assert all(1.95 < float(r["period_s"]) < 2.2 for r in rows)


def test_stats_flush_reads_the_first_periodic_flush_after_the_replay_starts():
    from validation import stats_flush as SF
    block = """@@GT BEGIN_FLUSH_TRACE
flush_memcg_stats_dwork
mem_cgroup_flush_stats
kworker/u8:1-37      [000] .....     5.100000: flush_memcg_stats_dwork <-process_one_work
init-1       [001] ...1.     6.000000: tracing_mark_write: replay_start
kworker/u8:1-37      [000] .....     7.120000: flush_memcg_stats_dwork <-process_one_work
gtwork-90    [001] .....     8.000000: mem_cgroup_flush_stats <-prepare_scan_control
kworker/u8:1-37      [001] .....     9.140000: flush_memcg_stats_dwork <-process_one_work
init-1       [000] ...1.     9.500000: tracing_mark_write: replay_end
@@GT END_FLUSH_TRACE
"""
    assert SF.flushes(block) == {"replay_s": 3.5, "first_flush_s": 1.12, "period_s": 2.02,
                                 "flushes_periodic": 2, "flushes_ratelimited": 1}
    with pytest.raises(ValueError, match="no FLUSH_TRACE block"):
        SF.flushes("@@GT RUN run=x\n")
    with pytest.raises(ValueError, match="no replay_start/replay_end"):
        SF.flushes(block.replace("replay_end", "other"))


def _simulate(*args):
    out = subprocess.run([sys.executable, "-m", "backend", "simulate", "--scenario", "zipf-anon",
                          "--accesses", "5000", "--policy", "lru", "--json", *args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_simulates_machine_line_names_the_stats_flush_where_reclaim_reads_its_copy():
    """A reviewer pasting the summary should see how old 6.12's and 7.3's
    counters get; 6.1 reads them exact, so its line says nothing of it."""
    def machine_line(kernel):
        out = subprocess.run([sys.executable, "-m", "backend", "simulate", "--scenario", "zipf-anon",
                              "--accesses", "2000", "--policy", "lru", "--ram-mb", "64", "--kernel", kernel],
                             capture_output=True, text=True, check=True).stdout
        return next(line for line in out.splitlines() if line.startswith("machine"))
    m = guest_machine("7.3", 64 * 256)
    assert (f"memcg stats flushed every {m['flush_time_ms']} ms of its clock, first at "
            f"{m['flush_first_ms']} ms") in machine_line("7.3")
    assert "memcg stats" not in machine_line("6.1")
    # a booted guest's frames are no whole MiB: one decimal, the pages exact
    assert machine_line("7.3").startswith(f"machine    RAM {m['ram_pages'] / 256:.1f} MiB ({m['ram_pages']:,d} pages, ")


def test_simulate_pace_rig_uses_the_guests_costs_and_the_default_and_bare_the_engines():
    guest = _simulate("--ram-mb", "64", "--kernel", "6.12", "--swap-kind", "ssd", "--pace", "rig")
    assert guest["config"]["costs"] == {**default_costs("ssd"), **GUEST_COSTS}
    assert guest["config"]["flush_time_ms"] == 2000
    zram = _simulate("--ram-mb", "64", "--kernel", "6.12", "--pace", "rig")   # the engine's default device
    assert zram["config"]["costs"]["swap_read"] == default_costs("zram")["swap_read"]
    assert zram["config"]["costs"]["scan_folio"] == GUEST_COSTS["scan_folio"]
    for engine_pace, flush in ((("--bare",), 0), ((), round(2000 * ENGINE_PACE_OF_GUEST["6.12"]))):
        m = _simulate("--ram-mb", "64", "--kernel", "6.12", *engine_pace)
        assert m["config"]["costs"] == default_costs("zram") and m["config"]["flush_time_ms"] == flush
    bad = subprocess.run([sys.executable, "-m", "backend", "simulate", "--scenario", "zipf-anon",
                          "--ram-mb", "64", "--bare", "--pace", "rig"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--pace rig is a guest's" in bad.stderr


def test_readahead_charges_the_reader_each_page_beyond_the_one_it_waits_for__read_pages():
    costs = {k: 0 for k in default_costs("ssd")} | {"file_read": 1_000_000, "readahead_page": 1_000}
    sim = Simulator({"ram_pages": 4096, "swap_kind": "ssd", "readahead_pages": 32, "costs": costs})
    sim.set_workload(accesses(OP_READ, [0, 1000]))      # file 0 sized to 1001 pages
    sim.run_to_end()
    v = sim.vmstat()
    pages_read = v["pgpgin"] // 4
    assert pages_read > 2
    assert sim.time_ns == 2 * 1_000_000 + (pages_read - 2) * 1_000


def test_mmap_access_is_charged_for_every_file_mapping_access_hit_or_fault__do_mmap():
    costs = {k: 0 for k in default_costs("ssd")} | {"mmap_access": 7_000}
    sim = Simulator({"ram_pages": 4096, "swap_kind": "ssd", "costs": costs})
    sim.set_workload(np.concatenate([accesses(OP_MMAP, [0, 1, 0, 1, 0]), accesses(OP_ANON, [5, 5])]))
    sim.run_to_end()
    assert sim.time_ns == 5 * 7_000


# --- the 2 s stats flush ---------------------------------------------------------------

def _machine(kernel, flush_ms=2000):
    # 1 ms an access: the clock crosses 2 s after 2,000 of them
    costs = {k: 0 for k in default_costs("ssd")} | {"read_hit": 1_000_000, "file_read": 1_000_000}
    return Simulator({"kernel": kernel, "policy": "lru", "ram_pages": 8192, "swap_kind": "ssd",
                      "readahead_pages": 0, "costs": costs, "flush_time_ms": flush_ms})


@pytest.mark.parametrize("kernel", ["6.12", "7.3"])
def test_lruvec_page_state_is_the_copy_flushed_every_2s__flush_memcg_stats_dwork(kernel):
    sim = _machine(kernel)
    booted = sim.memcg_stats
    assert booted["next_flush_ns"] == 2_000_000_000 and booted["nr_inactive_file"] == 0
    sim.set_workload(accesses(OP_READ, np.arange(2500)))
    sim.run(1500)                                       # 1.5 s: no flush yet
    assert sim.vmstat()["nr_inactive_file"] == 1500
    assert sim.memcg_stats["nr_inactive_file"] == 0
    sim.run(600)                                        # the worker ran at 2 s
    s = sim.memcg_stats
    assert s["next_flush_ns"] == 4_000_000_000
    assert s["nr_inactive_file"] == 2000 and sim.vmstat()["nr_inactive_file"] == 2100


@pytest.mark.parametrize("kernel", ["6.12", "7.3"])
def test_the_workload_starts_flush_first_ms_before_the_first_flush__flush_memcg_stats_dwork(kernel):
    """A booted guest's replay starts somewhere in the worker's 2 s cycle (the
    rig's boots: a mean 0.42 of it before the first flush, validation/
    stats-flush.csv): the copy is fresh at the start, refreshed first at
    flush_first_ms and every period after that."""
    costs = {k: 0 for k in default_costs("ssd")} | {"read_hit": 1_000_000, "file_read": 1_000_000}
    sim = Simulator({"kernel": kernel, "policy": "lru", "ram_pages": 8192, "swap_kind": "ssd",
                     "readahead_pages": 0, "costs": costs, "flush_time_ms": 2000, "flush_first_ms": 500})
    assert sim.memcg_stats["next_flush_ns"] == 500_000_000
    sim.set_workload(accesses(OP_READ, np.arange(3000)))
    sim.run(400)                                        # 0.4 s: the boot's copy
    assert sim.memcg_stats["nr_inactive_file"] == 0
    sim.run(200)                                        # the worker ran at 0.5 s
    assert sim.memcg_stats["nr_inactive_file"] == 500
    assert sim.memcg_stats["next_flush_ns"] == 2_500_000_000
    sim.run(1950)                                       # 2.55 s: and again at 2.5 s
    assert sim.memcg_stats["nr_inactive_file"] == 2500
    assert sim.memcg_stats["next_flush_ns"] == 4_500_000_000


def test_flush_first_ms_is_within_the_period_and_means_nothing_without_one():
    assert normalize_config({"flush_time_ms": 2000})["flush_first_ms"] == 2000   # a whole period in
    assert normalize_config({"flush_time_ms": 2000, "flush_first_ms": 0})["flush_first_ms"] == 0
    assert normalize_config({"flush_first_ms": 700})["flush_first_ms"] == 0      # exact counters
    with pytest.raises(ConfigError, match=r"flush_first_ms: must be <= flush_time_ms \(2000\), got 2001"):
        normalize_config({"flush_time_ms": 2000, "flush_first_ms": 2001})
    with pytest.raises(ConfigError, match="flush_first_ms: must be >= 0"):
        normalize_config({"flush_time_ms": 2000, "flush_first_ms": -1})


def test_6_1_reads_the_counters_exact__prepare_scan_control_mem_cgroup_flush_stats():
    sim = _machine("6.1")
    sim.set_workload(accesses(OP_READ, np.arange(1500)))
    sim.run_to_end()
    s = sim.memcg_stats
    assert s["next_flush_ns"] is None and s["nr_inactive_file"] == 1500
    # and a machine without a flush period reads them exact on 6.12 too
    sim = _machine("6.12", flush_ms=0)
    sim.set_workload(accesses(OP_READ, np.arange(1500)))
    sim.run_to_end()
    assert sim.memcg_stats["nr_inactive_file"] == 1500 and sim.memcg_stats["next_flush_ns"] is None


@pytest.mark.parametrize("kernel,stale", [("6.1", False), ("6.12", True), ("7.3", True)])
def test_inactive_is_low_reads_the_flushed_list_sizes__inactive_is_low_lruvec_page_state(kernel, stale):
    """Read twice, 500 file folios are active and none inactive: the exact sizes
    make the inactive file list low; 6.12's and 7.3's copy, flushed at boot
    and not again before 2 s, still has both lists empty."""
    sim = _machine(kernel)
    twice = np.tile(np.arange(500), 2)
    sim.set_workload(accesses(OP_READ, twice))
    sim.run_to_end()                                    # 1 s
    assert sim.vmstat()["nr_active_file"] == 500 and sim.vmstat()["nr_inactive_file"] == 0
    low = sim.snapshot()["policy_state"]["inactive_is_low"]["file"]
    assert low is (not stale)


@pytest.mark.parametrize("kernel,stale", [("6.1", False), ("6.12", True), ("7.3", True)])
def test_refault_distance_is_judged_against_the_flushed_workingset__workingset_test_recent(kernel, stale):
    """1,000 active file folios, then a stream that evicts, then the evicted
    pages again, all within 1.4 s: 6.1 compares the refault distances with
    the exact workingset (its active file list) and activates the recent
    ones; 6.12 and 7.3 compare them with the size the boot flush left, 0."""
    costs = {k: 0 for k in default_costs("none")} | {"read_hit": 100_000, "file_read": 100_000}
    sim = Simulator({"kernel": kernel, "policy": "lru", "ram_pages": 8192, "swap_kind": "none",
                     "readahead_pages": 0, "costs": costs, "flush_time_ms": 2000})
    hot = np.arange(1000)
    sim.set_workload(np.concatenate([accesses(OP_READ, hot), accesses(OP_READ, hot),
                                     accesses(OP_READ, np.arange(9000), owner=1),
                                     accesses(OP_READ, np.arange(3000, 0, -1), owner=1)]))
    sim.run_to_end()
    assert sim.time_ns < 2_000_000_000
    v = sim.vmstat()
    assert v["workingset_refault_file"] > 2000
    if stale:
        assert v["workingset_activate_file"] == 0
    else:
        assert v["workingset_activate_file"] > 400


def test_kswapd_runs_sums_a_zone_dma_runs_isolate_calls_per_list__balance_pgdat():
    from validation import kswapd_runs as KR
    block = """@@GT BEGIN_RUN_TRACE
overrun overrun: 0 commit overrun: 0
init-1       5.702759: tracing_mark_write: replay_start
kswapd0-52      6.0: balance_pgdat_begin: nid=0 order=5 highest_zoneidx=Movable
kswapd0-52      6.1: balance_pgdat_end: nid=0 order=0 highest_zoneidx=Movable  nr_reclaimed=33
kswapd0-52      6.2: balance_pgdat_begin: nid=0 order=0 highest_zoneidx=DMA
kswapd0-52      6.3: lru_isolate: 32 nr_scanned=0 nr_skipped=0 nr_taken=0 lru=active_anon
kswapd0-52      6.4: lru_isolate: 26 nr_scanned=185 nr_skipped=159 nr_taken=26 lru=inactive_file
gtwork-90       6.45: lru_isolate: 32 nr_scanned=40 nr_skipped=8 nr_taken=32 lru=inactive_file
kswapd0-52      6.5: lru_isolate: 32 nr_scanned=100 nr_skipped=68 nr_taken=32 lru=active_file
kswapd0-52      6.6: balance_pgdat_end: nid=0 order=0 highest_zoneidx=DMA      nr_reclaimed=163
@@GT END_RUN_TRACE
"""
    rs = KR.runs(block)
    assert [(r["zone"], r["order"], r["reclaimed"]) for r in rs] == [("Movable", 5, 33), ("DMA", 0, 163)]
    dma = rs[1]
    # the direct reclaimer's call (gtwork) inside the run is not kswapd's
    assert (dma["isolates"], dma["scanned"], dma["skipped"], dma["taken"]) == (3, 285, 227, 58)
    assert dma["skipped_by_list"] == {"inactive_file": 159, "active_file": 68}
    assert KR.summary(rs) == {"runs": 2, "dma_runs": 1, "dma_skipped": 227, "dma_skipped_median": 227,
                              "dma_reclaimed_median": 163,
                              "dma_skipped_by_list": {"inactive_file": 159, "active_file": 68},
                              "dma_runs_working": 1, "working_skipped_median": 227,
                              "working_reclaimed_median": 163}
    with pytest.raises(ValueError, match="no RUN_TRACE block"):
        KR.runs("@@GT RUN run=x\n")


def test_kswapd_runs_reads_the_simulators_runs_for_zone_dma_alone_from_its_events__balance_pgdat(tmp_path):
    from engine.trace import read_trace
    from validation import kswapd_runs as KR
    from validation import validate as V
    row = next(r for r in load_real([V.HERE / "real" / "calibration.csv"])
               if r["trace"] == "anon-loop" and profile(r["kernel"]) == "7.3" and r["policy"] == "classic")
    sim = Simulator({**V.sim_config(row, "lru"), "events_capacity": 1 << 20})
    # the first pass and a half: the first runs for ZONE_DMA alone that skip (record ~30,200)
    sim.set_workload(read_trace(str(V.trace_path("anon-loop"))).accesses[:40000])
    rs = KR.sim_runs(sim)
    v = sim.vmstat()
    # one run per balance_pgdat() (PAGEOUTRUN), each skip inside one for ZONE_DMA alone
    assert len(rs) == v["pageoutrun"]
    dma = [r for r in rs if r["zone"] == "DMA"]
    assert 0 < len(dma) < len(rs)
    assert sum(r["skipped"] for r in dma) == v["pgskip_dma32"] > 0
    assert sum(r["skipped"] for r in rs if r["zone"] != "DMA") == 0
    assert sum(r["reclaimed"] for r in rs) <= v["pgsteal_kswapd"] + v["pgsteal_direct"]
    assert set(KR.summary(rs)["dma_skipped_by_list"]) <= set(KR.LISTS)
    # a log's name gives the trace, even one with a dot in its name, and the release
    with pytest.raises(SystemExit, match="not a replay log"):
        KR.simulated(tmp_path / "anon-loop.5.4.0.classic.rt.log")


def test_lru_samples_counts_events_from_the_replays_start_and_places_s_lines_between_marks(tmp_path):
    from validation.lru_samples import real_samples
    log = tmp_path / "desktop.7.3.4+deb13-amd64.mglru.r1.log"
    log.write_text(
        "@@GT MARK start t=8.0 pgdeactivate=1177 pgscan_kswapd=0 nr_active_anon=1660 rec=0\n"
        "@@GT S t=9.0 pgscan_kswapd=500 nr_active_anon=9000\n"
        "@@GT MARK q1 t=10.0 pgdeactivate=1177 pgscan_kswapd=1802 nr_active_anon=9869 rec=30000\n"
        "@@GT S t=10.5 pgdeactivate=1200\n"
        "@@GT MARK done t=11.0 pgdeactivate=1277 pgscan_kswapd=7385 nr_active_anon=11313 rec=60000\n")
    every = real_samples(str(log))
    # the S line at t=9.0 sits halfway between the MARK lines at 0 and 30,000 records
    assert [rec for rec, _ in every] == [0, 15000, 30000, 45000, 60000]
    at = dict(every)
    # drop_caches' 1,177 deactivations before the replay are not the workload's;
    # an S line carries only what changed, the rest is the line before's
    assert [at[r]["pgdeactivate"] for r in (0, 15000, 30000, 45000, 60000)] == ["0", "0", "0", "23", "100"]
    assert at[15000]["pgscan_kswapd"] == "500"
    # a gauge is shown as it stands
    assert at[0]["nr_active_anon"] == "1660" and at[60000]["nr_active_anon"] == "11313"
    assert [rec for rec, _ in real_samples(str(log), marks_only=True)] == [0, 30000, 60000]

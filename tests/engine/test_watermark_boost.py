"""ZONE_DMA's watermark boost and kswapd's runs for ZONE_DMA alone: a fallback
boosts the zone (boost_watermark()), rmqueue() wakes kswapd for that zone
(wakeup_kswapd(zone, 0, 0, zone_idx(zone))), and balance_pgdat() reclaims with
reclaim_idx = ZONE_DMA, which makes the classic LRU skip every folio of the zone
above (isolate_lru_folios(): back to the list head, counted in pgscan and
PGSCAN_SKIP) and MGLRU sort them as ineligible (sort_folio(): to min_seq + 1,
counted in pgrefill). docs/kernels.md "Watermark boost"."""
import numpy as np
import pytest

from engine import ConfigError, Simulator
from engine.names import EVENT_KINDS, REASON_NAMES
from tests.conftest import read_stream

RAM, DMA = 16384, 3840          # x86_64's ZONE_DMA: 3,840 pages, over 4 pageblocks
WAKE = EVENT_KINDS.index("mm_vmscan_kswapd_wake")
SLEEP = EVENT_KINDS.index("mm_vmscan_kswapd_sleep")
STEAL = EVENT_KINDS.index("pgsteal")
ISOLATE = EVENT_KINDS.index("mm_vmscan_lru_isolate")
PGREFILL = EVENT_KINDS.index("pgrefill")
ZONE_SKIP = REASON_NAMES.index("ZONE_SKIP")
BOOST = REASON_NAMES.index("WATERMARK_BOOST")


def machine(policy, **extra):
    cfg = {"policy": policy, "ram_pages": RAM, "swap_pages": 0, "swap_kind": "none", "readahead_pages": 0}
    cfg.update(extra)
    return Simulator(cfg)


def filled(policy, pages, **extra):
    # read() pages once each: ZONE_NORMAL's frames go first, ZONE_DMA's once it is low
    sim = machine(policy, **extra)
    sim.set_workload(read_stream(pages))
    sim.run_to_end()
    assert sim.vmstat()["pgscan_kswapd"] == 0 and sim.config["zone_dma_pages"] == DMA
    return sim


def test_isolate_lru_folios_skips_folios_above_reclaim_idx_to_the_list_head_counted_in_pgscan__isolate_lru_folios():
    sim = filled("lru", RAM - 1200)
    v0, seq = sim.vmstat(), sim.event_seq
    sim.reclaim(32, "kswapd", priority=4, reclaim_idx="DMA")
    ev = sim.events_since(seq)
    v1 = sim.vmstat()
    skipped = ev[(ev["kind"] == EVENT_KINDS.index("putback")) & (ev["reason"] == ZONE_SKIP)]
    stolen = ev[ev["kind"] == STEAL]
    isolated = ev[ev["kind"] == ISOLATE]
    assert len(stolen) > 0 and (stolen["pfn"] < DMA).all()
    assert (isolated["pfn"] < DMA).all()
    # the list's oldest folios are ZONE_NORMAL's (read first): passed over, each once
    assert len(skipped) > 100 and (skipped["pfn"] >= DMA).all()
    assert len(set(skipped["pfn"].tolist())) == len(skipped)
    # PGSCAN_SKIP and pgscan (total_scan) count them, the scan bound does not
    assert v1["pgskip_normal"] - v0["pgskip_normal"] == len(skipped)
    assert v1["pgscan_kswapd"] - v0["pgscan_kswapd"] == len(skipped) + len(isolated)
    # list_splice(&folios_skipped, src): at the head, the last one passed first
    head = [int(p) for p in sim.lists()["LRU_INACTIVE_FILE"][:len(skipped)]]   # head -> tail
    assert head == skipped["pfn"][::-1].tolist()
    assert sim.check_invariants() == []


def test_isolate_lru_folios_reclaims_from_every_zone_without_a_boost__isolate_lru_folios():
    sim = filled("lru", RAM - 1200)
    seq = sim.event_seq
    sim.reclaim(32, "kswapd", priority=4)
    ev = sim.events_since(seq)
    assert sim.vmstat()["pgskip_normal"] == 0
    assert (ev[ev["kind"] == STEAL]["pfn"] >= DMA).any()


@pytest.mark.parametrize("kernel", ["6.1", "6.12", "7.3"])
def test_sort_folio_moves_folios_above_reclaim_idx_to_min_seq_plus_1_as_ineligible__sort_folio(kernel):
    # 40 pages in ZONE_DMA: scan_folios() takes ZONE_DMA's list of the oldest
    # generation first (zone = (reclaim_idx + i) % MAX_NR_ZONES), then the one
    # above, whose folios are all ineligible
    sim = filled("lru_gen", RAM - DMA + 40, kernel=kernel)
    v0, seq = sim.vmstat(), sim.event_seq
    for _ in range(8):
        # 6.1 and 6.12 may spend a pass moving min_seq up first
        sim.reclaim(32, "kswapd", priority=4, reclaim_idx="DMA")
    ev = sim.events_since(seq)
    sorted_ = ev[(ev["kind"] == PGREFILL) & (ev["reason"] == ZONE_SKIP)]
    stolen = ev[ev["kind"] == STEAL]
    assert len(stolen) > 0 and (stolen["pfn"] < DMA).all()
    assert len(sorted_) > 0 and (sorted_["pfn"] >= DMA).all()
    # folio_inc_gen(): one generation younger than the one it was sorted from
    assert (sorted_["dst_seq"] == sorted_["src_seq"] + 1).all()
    assert sim.vmstat()["pgrefill"] - v0["pgrefill"] >= len(sorted_)
    assert sim.check_invariants() == []


def boosted_run(policy, every, **extra):
    """The zipf-anon replay (validation/traces) on the 7.3 guest of the real-kernel
    rig with a ZONE_DMA boost every `every` ZONE_DMA pages: every event, and
    the boosts seen between steps."""
    from engine.kernels import guest_machine
    from engine.trace import read_trace
    from validation.validate import trace_path
    cfg = {"policy": policy, "kernel": "7.3", "swap_kind": "ssd", "swap_pages": 256 * 256,
           "events_capacity": 1 << 20, **guest_machine("7.3", 64 * 256)}
    cfg.update(zone_dma_boost_every=every, **extra)
    sim = Simulator(cfg)
    sim.set_workload(read_trace(str(trace_path("zipf-anon"))).accesses)
    evs, boosts = [], set()
    while not sim.done:
        seq = sim.event_seq
        sim.step("access", 2000)
        evs.append(sim.events_since(seq))
        boosts.add(sim.kswapd["watermark_boost_dma"])
    assert sim.check_invariants() == []
    return sim, np.concatenate(evs), boosts


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_boost_wakes_kswapd_for_zone_dma_alone_which_reclaims_only_there__balance_pgdat(policy):
    sim, ev, boosts = boosted_run(policy, 50)
    # boost_watermark(): a pageblock at a time, at most max(pageblock, 1.5 x high)
    assert boosts <= {0, 512} and 512 in boosts
    marks = np.nonzero((ev["kind"] == WAKE) | (ev["kind"] == SLEEP))[0]
    boosted = [i for i in marks if ev[i]["kind"] == WAKE and ev[i]["reason"] == BOOST]
    assert len(boosted) >= 10
    # the workload's direct reclaim (every zone) may run meanwhile: its events are
    # between its begin and end marks
    direct = np.zeros(len(ev), dtype=bool)
    begins = np.nonzero(ev["kind"] == EVENT_KINDS.index("mm_vmscan_direct_reclaim_begin"))[0]
    ends = np.nonzero(ev["kind"] == EVENT_KINDS.index("mm_vmscan_direct_reclaim_end"))[0]
    for b in begins:
        e = ends[ends > b]
        direct[b:e[0] if len(e) else len(ev)] = True
    for i in boosted:
        end = marks[marks > i]
        run = ev[i:end[0] if len(end) else len(ev)][~direct[i:end[0] if len(end) else len(ev)]]
        assert (run[run["kind"] == STEAL]["pfn"] < DMA).all()
        assert (run[run["kind"] == ISOLATE]["pfn"] < DMA).all()
    # every skip or ineligible sort is of a ZONE_NORMAL folio, in such a run
    skip = ev[ev["reason"] == ZONE_SKIP]
    assert len(skip) > 100 and (skip["pfn"] >= DMA).all()
    if policy == "lru":
        assert sim.vmstat()["pgskip_normal"] == len(skip)
    else:
        assert (skip["kind"] == PGREFILL).all() and sim.vmstat()["pgskip_normal"] == 0


@pytest.mark.parametrize("extra", [{"zone_dma_boost_every": 0},
                                   {"zone_dma_boost_every": 1, "zone_dma_pages": 2047}])
def test_no_boost_without_a_rate_or_on_a_zone_dma_under_four_pageblocks__boost_watermark(extra):
    extra = dict(extra)
    sim, ev, boosts = boosted_run("lru", extra.pop("zone_dma_boost_every"), **extra)
    assert boosts == {0}
    assert not ((ev["kind"] == WAKE) & (ev["reason"] == BOOST)).any()
    assert sim.vmstat()["pgskip_normal"] == 0 and not (ev["reason"] == ZONE_SKIP).any()


def test_zone_dma_boost_every_is_checked():
    with pytest.raises(ConfigError, match="^zone_dma_boost_every: must be >= 0"):
        Simulator({"ram_pages": RAM, "zone_dma_boost_every": -1})
    with pytest.raises(ConfigError, match="^zone_dma_boost_every: must be an integer"):
        Simulator({"ram_pages": RAM, "zone_dma_boost_every": 1.5})
    assert Simulator({"ram_pages": RAM}).config["zone_dma_boost_every"] == 0


def test_guest_machine_gets_its_releases_boost_rate():
    from engine.kernels import GUEST_DMA_BOOST_EVERY, guest_machine
    for key, every in GUEST_DMA_BOOST_EVERY.items():
        assert guest_machine(key, 64 * 256)["zone_dma_boost_every"] == every
    # small machines are bare: no system pages, no boosts
    assert "zone_dma_boost_every" not in guest_machine("7.3", 1024)


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_state_image_keeps_the_boost_and_kswapds_zone(policy):
    def fresh():
        s = machine(policy, zone_dma_boost_every=64)
        s.set_workload(read_stream(3 * RAM))
        return s
    a = fresh()
    while not a.done and a.kswapd["watermark_boost_dma"] == 0:
        a.step("access", 50)
    assert a.kswapd["watermark_boost_dma"] == 512
    b = fresh()
    b.load_state(a.state_bytes())
    assert b.state_hash() == a.state_hash() and b.kswapd == a.kswapd
    a.run_to_end()
    b.run_to_end()
    assert b.state_hash() == a.state_hash()

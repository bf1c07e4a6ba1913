"""The per-CPU free lists' pages (docs/kernels.md "Per-CPU lists"): since v6.7
nr_pcp_high() lets the lists grow on frees and trims them once balance_pgdat()
has set ZONE_RECLAIM_ACTIVE, so a 6.12 or 7.3 guest's free pages and LRU lists
grow by what they held once kswapd runs; MemFree and MemAvailable never
counted them."""
import numpy as np
import pytest

from engine import ConfigError, Simulator
from engine.kernels import GUEST_PCP_PAGES, guest_machine, guest_pcp_pages
from engine.names import EVENT_KINDS
from tests.conftest import read_stream
from validation import pcp_pages as P

RAM, DMA, PCP = 4096, 1024, 300
WAKE = EVENT_KINDS.index("mm_vmscan_kswapd_wake")


def machine(policy, **extra):
    return Simulator({"policy": policy, "ram_pages": RAM, "zone_dma_pages": DMA, "pcp_pages": PCP,
                      "swap_pages": 0, "swap_kind": "none", "readahead_pages": 0, **extra})


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_per_cpu_lists_hand_their_pages_back_when_balance_pgdat_sets_zone_reclaim_active__nr_pcp_high(policy):
    sim = machine(policy)
    assert sim.nr_free == RAM - PCP and sim.meminfo()["MemFree"] == (RAM - PCP) * 4
    assert sim.kswapd["pcp_held"] == PCP and sim.check_invariants() == []
    sim.set_workload(read_stream(2 * RAM))
    held_until = None
    while not sim.done:
        seq = sim.event_seq
        sim.step("access", 1)
        ev = sim.events_since(seq)
        woke = ev[(ev["kind"] == WAKE) & (ev["index"] == 1)]        # a run for every zone
        if len(woke):
            held_until = sim.position
            break
        # until then they are neither free nor anyone's: the reads fill the rest
        assert sim.kswapd["pcp_held"] == PCP
        assert sim.nr_free + sim.vmstat()["nr_file_pages"] == RAM - PCP
    assert held_until is not None and held_until < RAM
    assert sim.kswapd["pcp_held"] == 0 and sim.check_invariants() == []
    # back on the free lists, last freed, first handed out: the next reads take them
    sim.run(PCP // 2)
    pfns = {sim.page_state(1, 0, p)["pfn"] for p in range(held_until, held_until + PCP // 2)
            if sim.page_state(1, 0, p).get("pfn") is not None}
    assert pfns & set(range(RAM - PCP, RAM))
    sim.run_to_end()
    assert sim.check_invariants() == []


def test_a_machine_with_the_per_cpu_lists_pages_starts_reclaim_as_early_and_ends_with_more_resident():
    # the held pages are outside the watermark checks, so reclaim starts when it
    # does on a machine without them; once back, the file set has that many more
    # frames (one zone: the zones' marks are split by their frames)
    def run(pcp):
        sim = Simulator({"policy": "lru", "ram_pages": RAM - PCP + pcp, "zone_dma_pages": 0, "pcp_pages": pcp,
                         "watermarks": {"min": 16, "low": 20, "high": 24}, "swap_pages": 0, "swap_kind": "none",
                         "readahead_pages": 0})
        sim.set_workload(read_stream(2 * RAM))
        first = None
        while not sim.done:
            seq = sim.event_seq
            sim.step("access", 1)
            if first is None and np.any(sim.events_since(seq)["kind"] == WAKE):
                first = sim.position
        return first, sim.meminfo()["MemFree"] // 4 + sim.vmstat()["nr_file_pages"]
    (first0, held0), (first1, held1) = run(0), run(PCP)
    assert first1 == first0
    assert held1 - held0 == PCP


def test_pcp_pages_is_checked():
    with pytest.raises(ConfigError, match="^pcp_pages: must be <= 1536, got 1537"):
        machine("lru", pcp_pages=1537)
    with pytest.raises(ConfigError, match="^pcp_pages: must be >= 0"):
        machine("lru", pcp_pages=-1)


def test_guest_pcp_pages_are_the_boots_median_growth_once_kswapd_runs():
    """engine/kernels.py GUEST_PCP_PAGES is what validation/pcp_pages.py measures
    on the rig's logs (validation/pcp-pages.csv): 6.12's and 7.3's medians by
    guest size; 6.1, whose lists nr_pcp_high() does not tune (before v6.7), grows
    by none."""
    facts = P.facts(P.load())
    for key in ("6.12", "7.3"):
        assert GUEST_PCP_PAGES[key] == facts[key]
    assert GUEST_PCP_PAGES["6.1"] == {} and all(v <= 10 for v in facts["6.1"].values())
    # 7.3's lists hold more on a larger guest (high_max is a zone's managed pages / 8);
    # not at every size, since each size's boots are of other traces and a size's
    # boots spread with the trace (192 MiB: 818-2,294 pages)
    assert facts["7.3"][32] < facts["7.3"][64] < facts["7.3"][128] < facts["7.3"][256]


def test_guest_pcp_pages_between_and_beyond_the_sizes_measured():
    t = GUEST_PCP_PAGES["7.3"]
    assert guest_pcp_pages("7.3", 64 * 256) == t[64]
    assert guest_pcp_pages("7.3", 88 * 256) == round(t[80] + (t[96] - t[80]) / 2)
    assert guest_pcp_pages("7.3", 1024 * 256) == t[256]
    assert guest_pcp_pages("6.1", 64 * 256) == 0
    m = guest_machine("7.3", 88 * 256)
    assert m["pcp_pages"] == guest_pcp_pages("7.3", 88 * 256)
    assert Simulator({"policy": "lru", "kernel": "7.3", "swap_kind": "ssd", "swap_pages": 1024, **m}).nr_free == \
        m["ram_pages"] - m["pcp_pages"] - m["system_pages"]


def test_pcp_pages_csv_rows_are_what_the_boots_logs_say(tmp_path):
    """validation/pcp-pages.csv, extracted again from the 80 MiB boots' logs (the
    project keeps them) beside its other rows, is the same file: each boot's
    growth is the median of its marks after the first less its start."""
    import shutil
    import tarfile
    with tarfile.open(P.HERE / "logs" / "session-2026-12-07-80m.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    out = tmp_path / "pcp-pages.csv"
    shutil.copy(P.CSV, out)
    assert P.main([*sorted(map(str, tmp_path.glob("*.log"))), "--out", str(out)]) == 0
    assert out.read_text() == P.CSV.read_text()
    assert P.mark_sums("@@GT MARK start t=1 nr_free_pages=10 nr_active_file=1 nr_inactive_file=2 "
                       "nr_active_anon=3 nr_inactive_anon=4 nr_unevictable=5\n@@GT MARK q1 t=2\n") == [25]

"""Decision events carry the inputs of the rule that decided them (why_a ..
why; docs/engine.md "Decision inputs"), read at decision time: each test
computes them from the folio and lruvec state the rule saw and compares.
"""
import numpy as np
import pytest

from engine import Simulator
from engine.names import EVENT_KINDS, KERNEL_FNS, PG, REASON_NAMES

PG_referenced, PG_workingset = PG["PG_referenced"], PG["PG_workingset"]
LRU_REFS_PGOFF = 19
FILE = 1
# engine/core.pxd WHY_*
WHY_REFERENCED, WHY_WORKINGSET, WHY_YOUNG, WHY_EXEC = 1, 2, 4, 8
WHY_INACTIVE_LOW, WHY_PID, WHY_PID_TYPE, WHY_PRE614 = 16, 32, 64, 128
MIN_LRU_BATCH = 64
INC_MAX_SEQ, ISOLATE = EVENT_KINDS.index("inc_max_seq"), EVENT_KINDS.index("mm_vmscan_lru_isolate")


def mglru(kernel, **lru_gen):
    return Simulator({"policy": "lru_gen", "kernel": kernel, "ram_pages": 1024, "swap_pages": 1024,
                      "readahead_pages": 0, "watermarks": {"min": 2, "low": 3, "high": 4},
                      "lru_gen": lru_gen})


def classic(**extra):
    cfg = {"policy": "lru", "ram_pages": 256, "swap_pages": 128, "swap_kind": "zram",
           "readahead_pages": 0, "watermarks": {"min": 1, "low": 2, "high": 3}}
    cfg.update(extra)
    return Simulator(cfg)


def events(sim, seq0, kind, fn=None):
    ev = sim.events_since(seq0)
    sel = ev["kind"] == EVENT_KINDS.index(kind)
    if fn is not None:
        sel &= ev["fn"] == KERNEL_FNS.index(fn)
    return ev[sel]


def order_base_2(n):
    return max(0, (n - 1).bit_length())


def refs_and_tier(fl, kernel):
    """include/linux/mm_inline.h folio_lru_refs() / lru_tier_from_refs() of each profile."""
    ws = bool(fl & PG_workingset)
    field = (fl >> LRU_REFS_PGOFF) & 3
    if kernel in ("6.1", "6.12"):
        refs = field + ws
        return refs, order_base_2(refs + 1)
    refs = field + 1 if fl & PG_referenced else 0
    return refs, 3 if ws else order_base_2(refs)


def ctrl_rate(refaulted, total):
    """The events' PID rate: refaulted / total in 0.01 %."""
    return min(65535, refaulted * 10000 // total) if total > 0 else (0 if refaulted <= 0 else 65535)


def ctrl_pos(st, type_, tier, kernel):
    """mm/vmscan.c read_ctrl_pos() (NR_HIST_GENS 1) from pid_state(): refaulted, total."""
    if kernel in ("6.1", "6.12"):
        total = st["avg_total"][type_][tier] + st["evicted"][type_][tier]
        if tier:
            total += st["protected"][type_][tier - 1]
        return st["avg_refaulted"][type_][tier] + st["refaulted"][type_][tier], total
    return (st["avg_refaulted"][type_][tier] + st["refaulted"][type_][tier],
            st["avg_total"][type_][tier] + st["protected"][type_][tier] + st["evicted"][type_][tier])


@pytest.mark.parametrize("kernel", ["6.1", "6.12", "7.3"])
def test_sort_folio_event_records_refs_tier_gen_window_and_tier_idx__sort_folio(kernel):
    sim = mglru(kernel)
    p = sim.policy
    for i in range(6):
        sim.access("R", 0, 0)                       # hot: refs saturate (protected or lazily promoted)
        sim.access("R", 0, 200 + i)                 # read once: tier 0, isolated
    sim.access("R", 0, 100)
    sim.access("R", 0, 100)                         # read twice
    sim.debugfs_write("+ 0 0 %d 1 1" % p.max_seq)
    fr = sim.frames()
    pfns = [sim.page_state("R", 0, pg)["pfn"] for pg in (0, 100, 200, 201, 202, 203, 204, 205)]
    before = {pfn: int(fr["flags"][pfn]) for pfn in pfns}
    max_seq, min_seq = p.max_seq, p.min_seq[FILE]
    tier_idx = p.tier_idx(FILE)
    seq0 = sim.event_seq
    p.evict_once(swappiness=1)
    sorted_ = events(sim, seq0, "pgrefill", "sort_folio")
    isolated = events(sim, seq0, "mm_vmscan_lru_isolate", "sort_folio")
    assert len(isolated) >= 6 and len(sorted_) >= 1
    for e in np.concatenate([sorted_, isolated]):
        fl = before[int(e["pfn"])]
        refs, tier = refs_and_tier(fl, kernel)
        assert (e["why_a"], e["why_b"], e["src_seq"]) == (max_seq, min_seq, min_seq)
        assert (e["refs"], e["tier"], e["tier_idx"]) == (refs, tier, tier_idx)
        assert bool(e["why"] & WHY_REFERENCED) == bool(fl & PG_referenced)
        assert bool(e["why"] & WHY_WORKINGSET) == bool(fl & PG_workingset)
        assert bool(e["why"] & WHY_PRE614) == (kernel != "7.3")
        assert e["why"] & WHY_PID and not e["why"] & WHY_PID_TYPE    # swappiness 1: get_tier_idx()
    # the branch matches the numbers: isolated ones are not above tier_idx
    assert all(e["tier"] <= e["tier_idx"] for e in isolated)
    hot = sorted_[sorted_["pfn"] == pfns[0]][0]
    assert REASON_NAMES[hot["reason"]] in ("GEN_PROTECTED", "GEN_LAZY_PROMOTED")
    assert sim.check_invariants() == []


def test_pid_rates_on_sort_folio_events_are_what_get_tier_idx_compared__get_tier_idx():
    # 7.3: every recent refault counts (6.1 and 6.12 only those while min_seq has not moved)
    kernel = "7.3"
    sim = mglru(kernel)
    p = sim.policy
    twice = list(range(0, 400, 2))
    for pg in range(400):
        sim.access("R", 0, pg)
    for pg in twice:                                # refs 2 (tier 1)
        sim.access("R", 0, pg)
    while any(sim.page_state("R", 0, pg)["state"] == "resident" for pg in range(400)):
        sim.debugfs_write("+ 0 0 %d 1 1" % p.max_seq)
        sim.debugfs_write("- 0 0 %d" % (p.max_seq - 2))
    for pg in twice:                                # refaults of tier 1 folios
        sim.access("R", 0, pg)
    for pg in range(1000, 1100):                    # fresh tier 0 folios
        sim.access("R", 0, pg)
    sim.debugfs_write("+ 0 0 %d 1 1" % p.max_seq)
    st = p.pid_state()
    tier_idx = p.tier_idx(FILE)
    gains = (2, 3)
    sp = ctrl_pos(st, FILE, 0, kernel)
    # get_tier_idx(): the first tier whose positive_ctrl_err() fails, else tier 3
    cmp = tier_idx + 1 if tier_idx < 3 else 3
    pv = ctrl_pos(st, FILE, cmp, kernel)
    assert pv[0] > 0, "the refaults must give the controller something to compare"
    if tier_idx < 3:
        assert not (pv[0] < MIN_LRU_BATCH or pv[0] * (sp[1] + MIN_LRU_BATCH) * gains[0] <= (sp[0] + 1) * pv[1] * gains[1])
    min_seq = p.min_seq[FILE]
    seq0 = sim.event_seq
    p.evict_once(swappiness=1)
    ev = np.concatenate([events(sim, seq0, "pgrefill", "sort_folio"),
                         events(sim, seq0, "mm_vmscan_lru_isolate", "sort_folio")])
    assert len(ev) and p.min_seq[FILE] >= min_seq
    assert (ev["tier_idx"] == tier_idx).all()
    assert (ev["why_c"] == ctrl_rate(*pv)).all() and (ev["why_d"] == ctrl_rate(*sp)).all()
    assert (ev["why"] & WHY_PID).all()


def test_pre_6_14_type_choice_records_get_type_to_scan_against_the_other_type__get_type_to_scan():
    sim = mglru("6.1")
    p = sim.policy
    for pg in range(300):
        sim.access("R", 0, pg)
        sim.access("A", 0, pg)
    sim.debugfs_write("+ 0 0 %d 1 1" % p.max_seq)
    sim.debugfs_write("+ 0 0 %d 1 1" % p.max_seq)
    seq0 = sim.event_seq
    p.evict_once(swappiness=60)                     # equal min_seqs: the PID controller picks the type
    ev = np.concatenate([events(sim, seq0, "pgrefill", "sort_folio"),
                         events(sim, seq0, "mm_vmscan_lru_isolate", "sort_folio")])
    assert len(ev)
    assert ((ev["why"] & (WHY_PID | WHY_PID_TYPE | WHY_PRE614)) == (WHY_PID | WHY_PID_TYPE | WHY_PRE614)).all()


def test_pid_controller_off_records_tier_idx_0_without_rates__get_tier_idx():
    sim = mglru("7.3", pid_controller=False)
    p = sim.policy
    for pg in range(20):
        sim.access("R", 0, pg)
    sim.debugfs_write("+ 0 0 %d 1 1" % p.max_seq)
    seq0 = sim.event_seq
    p.evict_once(swappiness=1)
    ev = events(sim, seq0, "mm_vmscan_lru_isolate", "sort_folio")
    assert len(ev) and (ev["tier_idx"] == 0).all() and not (ev["why"] & WHY_PID).any()
    assert (ev["why_c"] == 0).all() and (ev["why_d"] == 0).all()


@pytest.mark.parametrize("kernel", ["6.1", "7.3"])
def test_lru_gen_refault_event_records_the_window_and_the_token__lru_gen_test_recent(kernel):
    sim = mglru(kernel)
    p = sim.policy
    for pg in range(8):
        sim.access("R", 0, pg)
        sim.access("R", 0, pg)                      # refs 2 in the shadow token
    sim.debugfs_write("+ 0 0 %d 1 1" % p.max_seq)
    sim.debugfs_write("- 0 0 %d" % (p.max_seq - 2))
    shadow = sim.page_state("R", 0, 3)
    assert shadow["state"] == "shadow"
    max_seq, min_seq = p.max_seq, p.min_seq[FILE]
    seq0 = sim.event_seq
    sim.access("R", 0, 3)
    e = events(sim, seq0, "workingset_refault", "lru_gen_refault")[0]
    # lru_gen_test_recent() compares the shadow's min_seq with max_seq (v6.14+) or min_seq (before)
    assert (e["src_seq"], e["why_a"], e["why_b"]) == (shadow["min_seq_at_eviction"], max_seq, min_seq)
    # the token's refs bits + 1 (v6.14+) or + the workingset bit (before)
    ws = shadow["shadow"] & 1
    refs = (shadow["shadow"] >> 1 & 3) + (1 if kernel == "7.3" else ws)
    assert (e["refs"], bool(e["why"] & WHY_WORKINGSET)) == (refs, bool(ws))
    assert e["tier"] == (order_base_2(refs + 1) if kernel == "6.1" else 3 if ws else order_base_2(refs))
    assert bool(e["why"] & WHY_PRE614) == (kernel == "6.1")


def test_classic_decisions_record_young_ptes_pg_referenced_and_vm_exec__folio_check_references():
    sim = classic()
    sim.set_vma_flags("X", 0, 1)                    # VM_EXEC mapping of file 0
    sim.access("A", 0, 0)                           # anon, young once
    a = sim.page_state("A", 0, 0)["pfn"]
    seq0 = sim.event_seq
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)
    keep = events(sim, seq0, "putback")[-1]
    assert keep["pfn"] == a and REASON_NAMES[keep["reason"]] == "FOLIOREF_KEEP"
    assert keep["why_a"] == 1 and keep["why"] == WHY_YOUNG      # one young PTE, PG_referenced was clear
    seq0 = sim.event_seq
    sim.policy.shrink_list_now("LRU_INACTIVE_ANON", 1)          # old PTE, PG_referenced set: reclaim
    steal = events(sim, seq0, "pgsteal")[-1]
    assert steal["pfn"] == a and steal["why_a"] == 0 and steal["why"] == WHY_REFERENCED
    sim.access("X", 0, 5)                           # a file folio young in a VM_EXEC mapping
    x = sim.page_state("X", 0, 5)["pfn"]
    seq0 = sim.event_seq
    sim.policy.shrink_list_now("LRU_INACTIVE_FILE", 1)
    act = events(sim, seq0, "pgactivate")[-1]
    assert act["pfn"] == x and REASON_NAMES[act["reason"]] == "FOLIOREF_ACTIVATE_EXEC"
    assert act["why_a"] == 1 and act["why"] == WHY_YOUNG | WHY_EXEC


def test_deactivation_events_record_inactive_is_low_and_its_ratio__shrink_active_list_inactive_is_low():
    sim = classic(ram_pages=2048, swap_pages=1024)
    for _ in range(2):                              # read twice: active file
        for pg in range(600):
            sim.access("R", 0, pg)
    lists = sim.lists()
    inactive, active = len(lists["LRU_INACTIVE_FILE"]), len(lists["LRU_ACTIVE_FILE"])
    assert active == 600
    seq0 = sim.event_seq
    sim.policy.shrink_list_now("LRU_ACTIVE_FILE", 32)
    deact = events(sim, seq0, "pgdeactivate")
    summary = events(sim, seq0, "mm_vmscan_lru_shrink_active")
    assert len(deact) == 32 and len(summary) == 1
    ratio = 1                                      # int_sqrt(10 * GiB) below 1 GiB
    for e in np.concatenate([deact, summary]):
        assert (e["why_a"], e["why_b"], e["why_c"]) == (inactive, active, ratio)
        assert bool(e["why"] & WHY_INACTIVE_LOW) == (inactive * ratio < active)
    assert sim.check_invariants() == []


def test_decision_inputs_are_deterministic_and_survive_a_state_round_trip():
    def run():
        sim = mglru("7.3")
        rng = np.random.default_rng(5)
        for pg in rng.integers(0, 3000, 6000):
            sim.access("R" if pg % 2 else "A", 0, int(pg))
        return sim
    a, b = run(), run()
    assert a.state_bytes() == b.state_bytes()
    ev = a.events_since(0)
    assert (ev["tier_idx"] >= 0).any()
    c = mglru("7.3")
    c.load_state(a.state_bytes())
    assert c.state_bytes() == a.state_bytes()
    assert (c.events_since(0) == ev).all()


def lru_gen_sizes(sim):
    """debugfs lru_gen: seq -> (anon, file) pages."""
    from engine.lru_gen_debugfs import parse_lru_gen
    gens = parse_lru_gen(sim.lru_gen_text())["memcgs"][0]["nodes"][0]["gens"]
    return {g["seq"]: tuple(g["nr_pages"]) for g in gens}


def check_aging_test(sim):
    """aging_test() against debugfs and against what a reclaim pass does first."""
    t = sim.policy.aging_test()
    gens = lru_gen_sizes(sim)
    assert t["max_seq"] == sim.policy.max_seq and t["min_seq"] == min(sim.policy.min_seq)
    assert t["young"] == sum(gens[t["max_seq"]])
    assert t["old"] == sum(gens.get(t["max_seq"] - 2, (0, 0)))
    assert t["total"] == sum(a + f for s, (a, f) in gens.items() if s >= t["min_seq"])
    probe = Simulator(sim.config)
    probe.load_state(sim.state_bytes())
    seq0 = probe.event_seq
    probe.reclaim(32, reclaimer="direct", priority=6)
    first = [k for k in probe.events_since(seq0)["kind"] if k in (INC_MAX_SEQ, ISOLATE)][:1]
    # a pass's first step: inc_max_seq() if the verdict ages, else folios
    # isolated from the oldest generation (or nothing, when the pass asks for
    # none). At the start min_seq may still name empty generations, which the
    # first eviction skips (try_to_inc_min_seq()) before asking again: not checked.
    if gens.get(t["min_seq"], (0, 0)) != (0, 0):
        assert first == [INC_MAX_SEQ] if t["age"] else first in ([], [ISOLATE]), (sim.position, t, first)
    return t


@pytest.mark.parametrize("kernel", ["6.1", "6.12", "7.3"])
def test_aging_test_is_the_verdict_reclaim_acts_on_with_the_pages_it_compared__should_run_aging(kernel):
    """MultiGenLru.aging_test() (the pane's "ages next" / "no aging" line) is
    should_run_aging() on the lruvec as it stands: its young / old / total are
    the pages of max_seq, of max_seq - MIN_NR_GENS and of every generation
    (debugfs lru_gen), and a direct reclaim pass below DEF_PRIORITY starts
    with inc_max_seq() exactly when it says "age". Before v6.14 three
    generations age only when max_seq holds over half of the pages or the
    oldest under a quarter (6.12 vmscan.c:4713-4716); since v6.14 three are
    enough (7.3 should_run_aging())."""
    from engine.workloads import generate
    sim = mglru(kernel)
    sim.set_workload(generate("zipf-mixed", 1024, seed=3, accesses=40_000).accesses)
    seen = set()
    while not sim.done:
        sim.step("access", 997)
        seen.add(check_aging_test(sim)["why"])
    assert "more_gens" in seen
    # three generations: evict down to them (debugfs "-", run_eviction())
    sim.debugfs_write("- 0 0 %d" % (sim.policy.max_seq - 3))
    assert sim.policy.max_seq - min(sim.policy.min_seq) == 2
    t = check_aging_test(sim)
    seen.add(t["why"])
    if kernel == "7.3":
        assert t["why"] == "min_gens" and t["age"] and not t["pre614"]
    else:
        assert t["pre614"] and t["why"] in ("balanced", "old_under_quarter", "young_over_half")
        assert t["age"] == (t["young"] * 2 > t["total"] or t["old"] * 4 < t["total"])
        assert {"balanced", "old_under_quarter"} <= seen       # the run met both sides of the test

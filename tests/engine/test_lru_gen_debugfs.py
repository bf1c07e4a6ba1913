"""Golden debugfs text for a small seeded run, and the parser round trip.

The golden files tests/data/lru_gen.txt and tests/data/lru_gen_full.txt were
generated once by this module's run() and checked by eye against
mm/vmscan.c:lru_gen_seq_show()/lru_gen_seq_show_full() and spec §4.11:
  * "memcg     0 " (id in %5hu, a space, the empty path) then " node     0";
  * lru_gen starts at min(min_seq[anon], min_seq[file]) and lru_gen_full at
    max_seq - 3; each generation line is " %10lu %10u" (seq, age in ms)
    followed by " %10lu%c" for anon and file, the marker a space in lru_gen
    and 'x' in lru_gen_full for a seq below that type's min_seq;
  * lru_gen_full: four tier lines (12 spaces + "%10d", then for anon and file
    three " %10lu%c" fields: R T x on the max_seq line, r e p on min_seq's,
    x x x otherwise) and the walk line (22 spaces + four " %10lu%c": T Y F A
    on max_seq, x elsewhere, since NR_HIST_GENS == 1);
  * the sizes equal the generations' nr_pages in sim.lists(), the ages the
    simulated clock minus each generation's birth.
"""
from pathlib import Path

import numpy as np
import pytest

engine = pytest.importorskip("engine")
from engine import Simulator, ACCESS_DTYPE  # noqa: E402
from engine.lru_gen_debugfs import parse_lru_gen, format_lru_gen  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"


def run():
    rng = np.random.Generator(np.random.PCG64(7))
    n = 60_000
    acc = np.zeros(n, dtype=ACCESS_DTYPE)
    kind = rng.random(n)
    acc["op"] = np.where(kind < 0.6, 0, np.where(kind < 0.9, 1, 3))   # A, R, M
    acc["owner"] = np.where(acc["op"] == 0, rng.integers(0, 2, n), rng.integers(0, 3, n))
    hot = rng.random(n) < 0.7
    acc["page"] = np.where(hot, rng.integers(0, 150, n), rng.integers(0, 1200, n))
    sim = Simulator({"policy": "lru_gen", "ram_pages": 1024, "swap_pages": 1024})
    sim.set_workload(acc)
    sim.run_to_end()
    assert sim.check_invariants() == []
    return sim


@pytest.fixture(scope="module")
def sim():
    return run()


@pytest.mark.parametrize("full,name", [(False, "lru_gen.txt"), (True, "lru_gen_full.txt")])
def test_debugfs_text_matches_golden(sim, full, name):
    assert sim.lru_gen_text(full) == (DATA / name).read_text()


def test_debugfs_sizes_match_the_generations(sim):
    parsed = parse_lru_gen(sim.lru_gen_text(False))
    gens = {g["seq"]: g for g in sim.lists()["gens"]}
    rows = parsed["memcgs"][0]["nodes"][0]["gens"]
    assert [r["seq"] for r in rows] == list(range(min(sim.lists()["min_seq"]), sim.lists()["max_seq"] + 1))
    for r in rows:
        assert r["nr_pages"] == list(gens[r["seq"]]["nr_pages"])
        assert r["age_ms"] == gens[r["seq"]]["age_ms"]


@pytest.mark.parametrize("full", [False, True])
def test_parser_round_trip(sim, full):
    text = sim.lru_gen_text(full)
    parsed = parse_lru_gen(text)
    assert format_lru_gen(parsed) == text
    node = parsed["memcgs"][0]["nodes"][0]
    assert parsed["memcgs"][0]["id"] == 0 and parsed["memcgs"][0]["path"] == "" and node["nid"] == 0
    if full:
        assert len(node["gens"]) == 4
        assert all(len(g["tiers"]) == 4 and len(g["mm_walk"]) == 4 for g in node["gens"])
        assert [c for _, c in node["gens"][-1]["mm_walk"]] == list("TYFA")


def test_parser_rejects_garbage():
    with pytest.raises(ValueError, match="line 3"):
        parse_lru_gen("memcg     0 \n node     0\n bogus\n")

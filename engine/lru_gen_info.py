"""The multi-gen LRU describes itself (engine/lru_gen.pyx holds the policy):
its knobs, the aging step unit, the generations view, the lru_gen debugfs
interface and how its shadow entries decode."""
from engine.lru_gen import MultiGenLru
from engine.policy_api import Knob
from engine.registry import BASE_UNITS, PolicyInfo


def decode_shadow(sim, shadow: int, file: bool) -> dict:
    """lru_gen_eviction()'s token = min_seq << LRU_REFS_WIDTH | the refs bits, and
    the test a refault now would meet: 7.3's lru_gen_test_recent() compares
    min_seq at eviction with max_seq now (within MAX_NR_GENS), before v6.14
    with min_seq now (unchanged: 6.12 lru_gen_test_recent(), 6.1
    lru_gen_refault()), where the refs are the token's + PG_workingset (the
    shadow's low bit) instead of + 1 (mm_inline.h folio_lru_refs())."""
    mask = ((1 << 60) - 1) >> 2
    token = int(shadow >> 1)
    evict_seq = token >> 2
    p = sim.policy
    max_seq = int(p.max_seq) & mask
    out = {"min_seq_at_eviction": evict_seq, "gens_since_eviction": max_seq - evict_seq}
    if p.pre614:
        min_seq = int(p.min_seq[1 if file else 0]) & mask
        return {**out, "min_seq_now": min_seq, "recent": evict_seq == min_seq, "refs": (token & 3) + (shadow & 1)}
    return {**out, "recent": abs(max_seq - evict_seq) < 4, "refs": (token & 3) + 1}


KNOBS = {
    "min_ttl_ms": Knob("int", 0, "lru_gen/min_ttl_ms: protect the working set of the last N ms "
                                 "from eviction (0 = off)", min=0, max=10**9),
    "pid_controller": Knob("bool", True, "balance refaults between tiers with the PID controller "
                                         "(tiers eviction)"),
    "tiers": Knob("bool", True, "track accesses through file descriptors in tiers (refs) instead "
                                "of promoting at once"),
    "look_around": Knob("bool", True, "lru_gen_look_around(): scan the PTEs around a young one "
                                      "found by rmap"),
    "walk_mm": Knob("bool", True, "walk page tables during aging (lru_gen/enabled 0x0002)"),
    "bloom_filter": Knob("bool", True, "skip PMDs with few young PTEs using the Bloom filters"),
    # not a kernel knob: a 2026 proposal to try (peers-2026 G5, docs/policies.md)
    "promote_file_on_access": Knob("bool", False, "proposal (2026, MGLRU-FG): promote a file folio "
                                                  "(lru_activate(): max_seq - 1) on its second read() access"),
}

POLICY = PolicyInfo(
    key="lru_gen", title="multi-gen LRU (MGLRU)", factory=MultiGenLru,
    follows="mm/vmscan.c with lru_gen_enabled() true, Documentation/mm/multigen_lru.rst (the release: the kernel profile)",
    knobs=KNOBS, units=BASE_UNITS + ("aging",), view="generations", debugfs="lru_gen",
    shadow=decode_shadow, kernel=True, state_id=1, source="engine/lru_gen.pyx")

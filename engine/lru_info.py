"""The classic active/inactive LRU describes itself (engine/lru.pyx holds the policy)."""
from engine.lru import ActiveInactiveLru
from engine.registry import PolicyInfo


def decode_shadow(sim, shadow: int, file: bool) -> dict:
    """workingset_test_recent() (classic): the refault distance and what it is compared with."""
    return {"refault_distance": int((sim.lruvec["nonresident_age"] - (shadow >> 1)) & ((1 << 61) - 1)),
            "workingset_size": int(sim.workingset_size(file))}


POLICY = PolicyInfo(
    key="lru", title="active/inactive LRU", factory=ActiveInactiveLru,
    follows="mm/vmscan.c, mm/swap.c, mm/workingset.c with lru_gen_enabled() false (the release: the kernel profile)",
    lists={"LRU_INACTIVE_ANON": "inactive anon", "LRU_ACTIVE_ANON": "active anon",
           "LRU_INACTIVE_FILE": "inactive file", "LRU_ACTIVE_FILE": "active file"},
    shadow=decode_shadow, kernel=True, state_id=0, source="engine/lru.pyx")

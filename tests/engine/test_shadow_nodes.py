"""The page cache's xarray nodes that hold only shadow entries (mm/workingset.c):
workingset_update_node() keeps them on the list count_shadow_nodes() counts
(vmstat workingset_nodes), and shrink_slab()'s shadow shrinker frees the oldest
of them beyond one per 8 LRU pages (do_shrink_slab() with seeks = 0), each counted
in workingset_nodereclaim, their shadows gone: a page read back there is a first
fault. docs/kernels.md "Shadow nodes"."""
import numpy as np
import pytest

from engine import Simulator
from tests.conftest import read_stream

RAM = 512
CHUNK = 64                      # XA_CHUNK_SIZE: indices per leaf node


def machine(policy, **extra):
    cfg = {"policy": policy, "kernel": "6.12", "ram_pages": RAM, "swap_pages": 0, "swap_kind": "none",
           "readahead_pages": 0, "watermarks": {"min": 8, "low": 16, "high": 24}}
    cfg.update(extra)
    return Simulator(cfg)


def node_key(file, index):
    return ((file << 40) | (index & ~(CHUNK - 1))) + 1


def shadow_only_nodes(sim, file, pages):
    """The nodes of `file` whose cached entries (page_state() of every index) are
    all shadows: what the list should hold."""
    state = {}
    for p in range(pages):
        s = sim.page_state("R", file, p)["state"]
        if s != "none":
            state.setdefault(p // CHUNK, []).append(s == "shadow")
    return {node_key(file, n * CHUNK) for n, v in state.items() if all(v)}


def reads(file, pages):
    w = read_stream(len(pages))
    w["owner"] = file
    w["page"] = pages
    return w


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_a_node_whose_entries_are_all_shadows_is_listed_and_leaves_when_one_refaults__workingset_update_node(policy):
    sim = machine(policy)
    # file 0's first node read, then file 1 streamed past until all of it is evicted
    sim.set_workload(np.concatenate([reads(0, np.arange(CHUNK)), reads(1, np.arange(4 * RAM))]))
    sim.run_to_end()
    listed = set(int(k) for k in sim.shadow_node_keys())
    assert node_key(0, 0) in listed
    assert listed == shadow_only_nodes(sim, 0, CHUNK) | shadow_only_nodes(sim, 1, 4 * RAM)
    assert sim.vmstat()["workingset_nodes"] == len(listed) > 1
    # a refault in the node puts a folio back: off the list, the gauge follows
    sim.feed(reads(0, np.array([5])))
    sim.run_to_end()
    listed = set(int(k) for k in sim.shadow_node_keys())
    assert sim.page_state("R", 0, 5)["state"] == "resident"
    assert node_key(0, 0) not in listed
    assert listed == shadow_only_nodes(sim, 0, CHUNK) | shadow_only_nodes(sim, 1, 4 * RAM)
    assert sim.vmstat()["workingset_nodes"] == len(listed)
    assert sim.check_invariants() == []


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_the_shadow_shrinker_frees_the_oldest_nodes_past_one_per_8_lru_pages__count_shadow_nodes_do_shrink_slab(policy):
    sim = machine(policy)
    stream = 60 * RAM                    # 480 nodes of shadows, against ~60 allowed
    sim.set_workload(reads(0, np.arange(stream)))
    sim.run_to_end()
    v = sim.vmstat()
    lru = v["nr_inactive_file"] + v["nr_active_file"] + v["nr_inactive_anon"] + v["nr_active_anon"]
    assert v["workingset_nodereclaim"] > 0
    # what is left is over the limit by less than do_shrink_slab() leaves: it walks
    # SHRINK_BATCH (128) at a time and only once half the excess reaches a batch
    assert lru // 8 < v["workingset_nodes"] <= lru // 8 + 2 * 128
    # each freed node was one of the oldest: the stream's first pages have no shadow
    # left, its recent ones do, and the nodes listed are the newest
    assert sim.page_state("R", 0, 0)["state"] == "none"
    assert sim.page_state("R", 0, stream - 2 * RAM)["state"] == "shadow"
    bases = sorted((int(k) - 1) & ((1 << 40) - 1) for k in sim.shadow_node_keys())
    assert bases == list(range(bases[0], bases[0] + CHUNK * len(bases), CHUNK))
    freed = (stream // CHUNK) - v["workingset_nodes"] - len({p // CHUNK for p in range(stream)
                                                             if sim.page_state("R", 0, p)["state"] == "resident"})
    assert abs(freed - v["workingset_nodereclaim"]) <= 1      # the node holding both residents and shadows
    # a page of a freed node reads back as a first fault, one of a kept node refaults
    r0 = sim.vmstat()["workingset_refault_file"]
    sim.feed(reads(0, np.array([0])))
    sim.run_to_end()
    assert sim.vmstat()["workingset_refault_file"] == r0
    sim.feed(reads(0, np.array([stream - 2 * RAM])))
    sim.run_to_end()
    assert sim.vmstat()["workingset_refault_file"] == r0 + 1
    assert sim.check_invariants() == []


def test_the_shadow_node_list_and_its_order_survive_a_state_image():
    cfg_stream = reads(0, np.arange(40 * RAM))
    a = machine("lru")
    a.set_workload(cfg_stream)
    a.run(20 * RAM)
    assert a.vmstat()["workingset_nodes"] > 0
    image = a.state_bytes()
    b = machine("lru")
    b.set_workload(cfg_stream)
    b.load_state(image)
    assert b.state_bytes() == image and b.check_invariants() == []
    assert (b.shadow_node_keys() == a.shadow_node_keys()).all()
    a.run_to_end()
    b.run_to_end()
    assert a.vmstat()["workingset_nodereclaim"] > 0
    assert a.state_hash() == b.state_hash()


def test_a_state_image_whose_shadow_node_list_is_not_its_page_cache_is_refused():
    w = reads(0, np.arange(20 * RAM))
    a = machine("lru")
    a.set_workload(w)
    a.run(10 * RAM)
    image = a.state_bytes()
    keys = a.shadow_node_keys()
    assert len(keys) > 1
    at = image.index(keys.tobytes())
    bogus = image[:at] + np.array([node_key(7, 0)], dtype=np.uint64).tobytes() + image[at + 8:]
    b = machine("lru")
    b.set_workload(w)
    before = b.state_bytes()
    with pytest.raises(ValueError, match="shadow node list"):
        b.load_state(bogus)
    assert b.state_bytes() == before and b.check_invariants() == []


def test_each_node_the_shadow_shrinker_frees_is_an_event_naming_its_pages_and_the_limit__shadow_lru_isolate():
    from engine.names import EVENT_KINDS, KERNEL_FNS, REASON_NAMES
    sim = machine("lru_gen", events_capacity=1 << 16)
    sim.set_workload(reads(0, np.arange(60 * RAM)))
    seq, freed = sim.event_seq, []
    while not sim.done:
        sim.step("access", 1000)
        ev = sim.events_since(seq)
        assert len(ev) == 0 or ev["seq"][0] == seq      # the ring did not wrap
        seq = sim.event_seq
        freed.append(ev[ev["kind"] == EVENT_KINDS.index("workingset_nodereclaim")])
    freed = np.concatenate(freed)
    assert len(freed) == sim.vmstat()["workingset_nodereclaim"] > 0
    assert (freed["fn"] == KERNEL_FNS.index("shadow_lru_isolate")).all()
    assert (freed["reason"] == REASON_NAMES.index("SHADOW_NODES_OVER")).all()
    assert (freed["pfn"] == -1).all() and (freed["mapping"] == 0).all() and (freed["index"] % CHUNK == 0).all()
    # count_shadow_nodes()'s numbers: over the limit when the shrinker ran
    assert (freed["why_a"] > freed["why_b"]).all() and (freed["why_b"] > 0).all()
    # the node's pages have no entry left unless read again since (this stream reads each once)
    assert all(sim.page_state("R", 0, int(i) + k)["state"] == "none" for i in freed["index"][:20] for k in range(CHUNK))

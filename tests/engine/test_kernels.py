"""Kernel profiles (engine/kernels.py): the config key, the state image, the
branches each profile takes (docs/kernels.md)."""
import typing

import pytest

from engine import ConfigError, Simulator
from engine.kernels import DEFAULT_KERNEL, KERNELS


def test_kernel_profile_defaults_to_the_newest_and_rejects_unknown_ones():
    assert Simulator({"ram_pages": 256}).config["kernel"] == DEFAULT_KERNEL == "7.3"
    with pytest.raises(ConfigError, match=r"^kernel: unknown kernel profile '5\.10'"):
        Simulator({"ram_pages": 256, "kernel": "5.10"})


def test_state_image_refuses_to_load_into_another_kernel_profile():
    a = Simulator({"ram_pages": 256, "kernel": "6.1"})
    b = Simulator({"ram_pages": 256, "kernel": "7.3"})
    with pytest.raises(ValueError, match="different configuration"):
        b.load_state(a.state_bytes())


def test_recipe_kernel_choices_are_the_engine_profiles():
    from backend.recipes import PolicySpec
    assert typing.get_args(PolicySpec.model_fields["kernel"].annotation) == tuple(KERNELS)


# --- MGLRU before v6.14 (6.1, 6.12): docs/kernels.md M1-M6 --------------------------------

PG_referenced, PG_workingset = 1 << 2, 1 << 3
LRU_REFS_PGOFF = 19


def mglru(kernel, **extra):
    cfg = {"policy": "lru_gen", "kernel": kernel, "ram_pages": 1024, "swap_pages": 1024,
           "readahead_pages": 0, "watermarks": {"min": 2, "low": 3, "high": 4}}
    cfg.update(extra)
    return Simulator(cfg)


def seq_of(sim, op, owner, page):
    pfn = sim.page_state(op, owner, page)["pfn"]
    for g in sim.lists()["gens"]:
        for t in (0, 1):
            if pfn in g["folios"][t]:
                return g["seq"]
    return None


def raw_flags(sim, op, owner, page):
    return int(sim.frames()["flags"][sim.page_state(op, owner, page)["pfn"]])


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_read_folio_lands_in_min_seq_plus_1_before_6_14__lru_gen_add_folio(kernel):
    # 6.1 mm_inline.h:251-254: neither active nor pending writeback: min_seq + 1 with 4 gens
    sim = mglru(kernel)
    sim.access("R", 0, 0)
    sim.access("A", 0, 0)
    assert sim.policy.min_seq == [0, 0] and sim.policy.max_seq == 3
    assert seq_of(sim, "R", 0, 0) == 1
    assert seq_of(sim, "A", 0, 0) == 3                     # a fault: PG_active -> max_seq (swap.c:510-528)


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_fd_accesses_set_referenced_then_workingset_then_refs__folio_inc_refs(kernel):
    sim = mglru(kernel)
    seen = []
    for i in range(6):                                    # each read elsewhere first: filemap_read marks
        sim.access("R", 0, 0)
        fl = raw_flags(sim, "R", 0, 0)
        seen.append((bool(fl & PG_referenced), bool(fl & PG_workingset), (fl >> LRU_REFS_PGOFF) & 3))
        sim.access("R", 0, 100)
    assert seen == [(True, False, 0), (True, True, 0), (True, True, 1), (True, True, 2), (True, True, 3),
                    (True, True, 3)]


def test_refault_counts_only_while_min_seq_has_not_moved_on_6_1__lru_gen_refault():
    # 6.1 workingset.c:276-285: a refault whose min_seq moved on is not counted at all;
    # 6.12 :297 counts every refault
    counts = {}
    for kernel in ("6.1", "6.12"):
        sim = mglru(kernel)
        for p in range(8):
            sim.access("R", 0, p)
        sim.debugfs_write("+ 0 0 3 1 1")                   # four gens: min_seq 1 holds the folios
        sim.debugfs_write("- 0 0 1 1")                     # evict them from min_seq
        evicted = [p for p in range(8) if sim.page_state("R", 0, p)["state"] == "shadow"]
        assert evicted
        for _ in range(3):                                 # min_seq moves on
            sim.debugfs_write("+ 0 0 %d 1 1" % sim.policy.max_seq)
            sim.debugfs_write("- 0 0 %d 1" % (sim.policy.max_seq - 2))
        before = sim.vmstat()["workingset_refault_file"]
        for p in evicted:
            sim.access("R", 0, p)
        counts[kernel] = sim.vmstat()["workingset_refault_file"] - before
    assert counts["6.1"] == 0 and counts["6.12"] == len(evicted) > 0


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_protection_forgets_the_tier_before_6_14__sort_folio_folio_inc_gen(kernel):
    # 6.1 vmscan.c:4781-4790 + :3689: refs 4 is always protected, into min_seq + 1,
    # with refs, PG_referenced and PG_workingset cleared
    sim = mglru(kernel)
    for i in range(6):
        sim.access("R", 0, 0)
        sim.access("R", 0, 200 + i)                        # read once each: tier 0
    sim.debugfs_write("+ 0 0 3 1 1")
    oldest = sim.policy.min_seq[1]
    assert seq_of(sim, "R", 0, 0) == oldest and raw_flags(sim, "R", 0, 0) & PG_workingset
    sim.policy.evict_once(swappiness=1)
    fl = raw_flags(sim, "R", 0, 0)
    assert seq_of(sim, "R", 0, 0) == oldest + 1
    assert not fl & (PG_referenced | PG_workingset) and not (fl >> LRU_REFS_PGOFF) & 3
    assert all(sim.page_state("R", 0, 200 + i)["state"] == "shadow" for i in range(6))
    assert sim.vmstat()["pgrefill"] == 1 and sim.vmstat()["pgsteal_file"] == 6

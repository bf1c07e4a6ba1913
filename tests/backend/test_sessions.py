"""SessionManager and Session with no transport: history, time travel by
checkpoint + replay, compare lockstep, fork, eviction and rebuild."""
from __future__ import annotations

import numpy as np
import pytest

from backend.recipes import Recipe
from backend.sessions import SessionError, SessionManager, UnknownSession
from backend.settings import Settings
from backend.store import SqliteStore
from tests.backend.conftest import recipe


@pytest.fixture
def manager(tmp_path):
    st = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(st, Settings(data_dir=tmp_path, checkpoint_every=4, max_live_sessions=4,
                                    idle_seconds=60))
    yield m
    st.close()


def _hashes(s):
    for sim in s.sims:   # the engine's debug check, after every step the tests take
        assert sim.check_invariants() == []
    return [sim.state_hash() for sim in s.sims]


def _walk(s, commands):
    """Apply commands as the owner; return the state hash after every step."""
    hashes = {0: _hashes(s)}
    cur = 0
    for unit, count in commands:
        for _ in range(count):
            cur, f = s.step(cur, unit, 1, owner=True)
            hashes[cur] = _hashes(s)
    return cur, hashes


def test_seek_anywhere_reaches_the_state_recorded_when_stepping(manager):
    s, _ = manager.create(Recipe.model_validate(recipe(policies=("lru_gen",))))
    head, hashes = _walk(s, [("scan", 6), ("access", 5), ("shrink", 2), ("aging", 1), ("scan", 4)])
    assert head == s.nr_steps == 18
    assert len(s.checkpoints) > 2   # checkpoints were taken along the way
    for step in (17, 3, 0, 11, 18, 1, 9):
        cur, frame = s.frame_at(step, "seek")
        assert cur == frame.step == step
        assert _hashes(s) == hashes[step], step


def test_seek_is_exact_after_run_ahead_and_compare_steps(manager):
    s, _ = manager.create(Recipe.model_validate(recipe(policies=("lru", "lru_gen"),
                                                       accesses=20000)))
    cur, hashes = 0, {0: _hashes(s)}
    for unit, count in [("access", 5000), ("scan", 3), ("access", 2), ("aging", 1),
                        ("access", 6000), ("shrink", 2), ("scan", 2)]:
        cur, f = s.step(cur, unit, count, owner=True)
        hashes[cur] = _hashes(s)
    assert s.log[0] == ["access", 5000, {"run": True}]
    for step in sorted(hashes, reverse=True) + [5001, 5003]:
        got_cur, _ = s.frame_at(step, "seek")
        if step in hashes:
            assert _hashes(s) == hashes[step], step
    # and a rebuild from the store agrees
    s.last_used -= 10**6
    manager.evict()
    again = manager.get(s.id)
    for step in (5000, 5005, max(hashes)):
        again.frame_at(step, "seek")
        assert _hashes(again) == hashes[step], step


def test_unit_cut_short_by_the_end_of_the_workload_is_a_step(manager):
    # found by the property test below: the last scan ran the remaining
    # accesses without completing a batch, which changed the state
    s, _ = manager.create(Recipe.model_validate(recipe(policies=("lru_gen",), accesses=3000)))
    cur, hashes = 0, {}
    for _ in range(1000):                     # scan in sixes until the workload ends
        cur, f = s.step(cur, "scan", 6, owner=True)
        hashes[cur] = _hashes(s)
        if f.done:
            break
    assert f.partial and f.done and 1 <= f.panes[0].steps_applied <= 6
    assert s.log[-1] == ["scan", 1, {"end": True}]
    assert s.sims[0].position == 3000
    cur2, f2 = s.step(cur, "scan", 1, owner=True)
    assert cur2 == cur and f2.panes[0].steps_applied == 0 and not f2.partial
    for step in sorted(hashes, reverse=True):
        s.frame_at(step, "seek")
        assert _hashes(s) == hashes[step], step


def test_step_with_count_equals_single_steps(manager):
    r = Recipe.model_validate(recipe())
    a, _ = manager.create(r)
    b, _ = manager.create(r)
    _walk(a, [("scan", 5), ("access", 40)])
    b.step(0, "scan", 5, owner=True)
    b.step(5, "access", 40, owner=True)
    assert _hashes(a) == _hashes(b) and a.nr_steps == b.nr_steps == 45


def test_rebuilt_from_store_after_eviction_gives_identical_state(manager):
    s, _ = manager.create(Recipe.model_validate(recipe(policies=("lru", "lru_gen"))))
    _, hashes = _walk(s, [("scan", 5), ("aging", 1), ("access", 7)])
    s.touch()
    s.last_used -= 3600
    assert s.id in manager.evict()
    assert s.id not in manager.live_ids()
    again = manager.get(s.id)
    assert again is not s and again.nr_steps == s.nr_steps
    for step in (s.nr_steps, 4, 0):
        again.frame_at(step, "seek")
        assert _hashes(again) == hashes[step]


def test_compare_panes_stay_at_the_same_access_count(manager):
    s, _ = manager.create(Recipe.model_validate(recipe(policies=("lru", "lru_gen"))))
    cur = 0
    for unit in ("scan", "access", "shrink", "aging", "scan"):
        cur, f = s.step(cur, unit, 2, owner=True)
        a, b = f.panes
        assert a.nr_access == b.nr_access == s.sims[0].position == s.sims[1].position


def test_viewer_cannot_extend_and_owner_truncates(manager):
    s, _ = manager.create(Recipe.model_validate(recipe()))
    s.step(0, "scan", 4, owner=True)
    with pytest.raises(SessionError) as ei:
        s.step(4, "scan", 1, owner=False)
    assert ei.value.code == "read_only"
    cur, f = s.step(1, "scan", 1, owner=False)   # walking the history is fine
    assert cur == 2 and s.nr_steps == 4
    cur, f = s.step(2, "access", 3, owner=True)
    assert f.truncated and s.nr_steps == 5 and s.log == [["scan", 2, None], ["access", 3, None]]
    assert manager.store.get_session(s.id).log == s.log


def test_checkpoints_stay_within_the_memory_budget(tmp_path):
    st = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(st, Settings(data_dir=tmp_path, checkpoint_every=1))
    s, _ = m.create(Recipe.model_validate(recipe()))
    one = len(s.sims[0].state_bytes())
    m.settings = s.settings = Settings(data_dir=tmp_path, checkpoint_every=1,
                                       checkpoint_budget_bytes=6 * one)
    _, hashes = _walk(s, [("scan", 30)])
    assert s._cp_bytes <= 6 * one + one and len(s.checkpoints) <= 7
    assert 0 in s.checkpoints
    for step in (29, 2, 15):
        s.frame_at(step, "seek")
        assert _hashes(s) == hashes[step]
    st.close()


def test_live_sessions_share_the_server_wide_checkpoint_budget(tmp_path):
    st = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(st, Settings(data_dir=tmp_path, checkpoint_every=1))
    a, _ = m.create(Recipe.model_validate(recipe(seed=1)))
    one = len(a.sims[0].state_bytes())
    m.settings = Settings(data_dir=tmp_path, checkpoint_every=1, checkpoint_total_bytes=12 * one)
    b, _ = m.create(Recipe.model_validate(recipe(seed=2)))
    for s in (a, b):
        s.settings = m.settings
        assert s.budget() == 6 * one          # two live sessions: half each
        _, hashes = _walk(s, [("scan", 25)])
        assert s._cp_bytes <= 7 * one
        s.frame_at(11, "seek")
        assert _hashes(s) == hashes[11]
    st.close()


def test_fork_copies_the_history_up_to_the_step(manager):
    s, tok = manager.create(Recipe.model_validate(recipe()))
    _, hashes = _walk(s, [("scan", 5)])
    f, ftok = manager.fork(s.id, 3)
    assert f.nr_steps == 3 and ftok != tok and not f.is_owner(tok) and f.is_owner(ftok)
    f.frame_at(3, "seek")
    assert _hashes(f) == hashes[3]
    assert manager.store.get_session(f.id).parent_id == s.id


def test_unknown_session_raises(manager):
    with pytest.raises(UnknownSession):
        manager.get("nope")


def test_live_sessions_are_bounded_lru_and_open_ones_are_kept(manager):
    made = [manager.create(Recipe.model_validate(recipe(seed=i)))[0] for i in range(6)]
    live = manager.live_ids()
    assert len(live) == 4 and live == [s.id for s in made[2:]]
    made[2].refs = 1   # an open connection pins it
    manager.create(Recipe.model_validate(recipe(seed=99)))
    assert made[2].id in manager.live_ids() and made[3].id not in manager.live_ids()


def test_folio_history_is_indexed_by_identity_and_bounded(tmp_path):
    st = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(st, Settings(data_dir=tmp_path, max_history_events=1024,
                                    max_history_per_folio=3))
    s, _ = m.create(Recipe.model_validate(recipe()))
    cur = 0
    for _ in range(40):
        cur, _ = s.step(cur, "scan", 1, owner=True)
    ix = s.index[0]
    assert ix.n > 1024 and len(ix.rows) == 1024     # the ring wrapped: bounded
    r = ix.rows[ix.rows["step"] >= 0]
    newest = r[np.argmax(r["seq"])]
    key = (int(newest["mapping"]), int(newest["index"]))
    full = ix._select(key, None)
    info = s.inspect(cur, 0, mapping=key[0] - 2 if ix.anon_of(key) else key[0], index=key[1],
                     anon=ix.anon_of(key))
    assert info.history.n == min(3, len(full)) and info.history.dropped == max(0, len(full) - 3)
    assert all(st_ <= cur for st_ in info.history.step)
    assert all(m_ == key[0] for m_ in info.history.mapping)
    assert info.history.seq == sorted(info.history.seq)
    st.close()


def test_generation_sizes_from_debugfs_match_the_folio_lists(manager):
    from backend.sessions import _gens_of
    s, _ = manager.create(Recipe.model_validate(recipe(policies=("lru_gen",))))
    cur = 0
    for unit in ("scan", "aging", "scan", "aging", "access"):
        cur, f = s.step(cur, unit, 3, owner=True)
        sim = s.sims[0]
        light, full = _gens_of(sim), _gens_of(sim, sim.lists())
        assert light == full
        assert f.panes[0].gens == light
        assert sum(g["nr_pages"][0] + g["nr_pages"][1] for g in light["gens"]) > 0


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_location_layout_puts_every_frame_on_its_list_or_generation(tmp_path, policy):
    from backend.protocol import unpack_state
    st = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(st, Settings(data_dir=tmp_path, order_layout_max_frames=0))
    s, _ = m.create(Recipe.model_validate(recipe(policies=(policy,), scenario="desktop")))
    cur = 0
    for unit in ("scan", "scan", "access", "scan"):
        cur, _ = s.step(cur, unit, 5, owner=True)
    header, arrays = unpack_state(s.state_at(cur))
    assert header["panes"][0]["layout"] == "location"
    loc = arrays["p0.loc"]
    sim = s.sims[0]
    lists = sim.lists()
    want = {}
    if policy == "lru":
        for code, name in enumerate(("LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE",
                                     "LRU_ACTIVE_FILE", "LRU_UNEVICTABLE")):
            want.update({int(p): code for p in lists[name]})
    else:
        # A folio's generation is the one in its flags: folio_update_gen()
        # moves it there at once, the list move waits for sort_folio().
        for pfn in range(len(loc)):
            f = sim.folio(pfn)
            if f["gen"] >= 0:
                t = 0 if f["type"] == "anon" else 1
                want[pfn] = 16 + 2 * (f["seq"] - int(lists["min_seq"][t])) + t
        want.update({int(p): 4 for p in lists["LRU_UNEVICTABLE"]})
    assert len(want) > 0
    for pfn in range(len(loc)):
        assert loc[pfn] == want.get(pfn, 255), pfn
    st.close()


from hypothesis import HealthCheck, given, settings as hsettings, strategies as hst  # noqa: E402

_commands = hst.lists(hst.tuples(hst.sampled_from(["access", "scan", "shrink", "aging", "back",
                                                  "run", "debugfs"]),
                                 hst.integers(1, 6)), min_size=1, max_size=12)


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cmds=_commands, policies=hst.sampled_from([("lru",), ("lru_gen",), ("lru", "lru_gen")]))
def test_any_command_sequence_replays_to_the_same_states(tmp_path, cmds, policies):
    """Owner commands in any order (including stepping after going back, which
    rewrites the history): afterwards every step of the final history seeks to
    the state it had when it was made."""
    st = SqliteStore(":memory:")
    m = SessionManager(st, Settings(data_dir=tmp_path, checkpoint_every=3))
    s, _ = m.create(Recipe.model_validate(recipe(policies=policies, accesses=12000)))
    cur, hashes = 0, {0: _hashes(s)}
    for unit, count in cmds:
        if unit == "back":
            cur, _ = s.frame_at(max(0, cur - count), "back")
            continue
        if unit in ("aging", "debugfs") and "lru_gen" not in policies:
            continue
        if unit == "debugfs":   # create a generation (+) or evict from the oldest (-)
            s.frame_at(cur, "seek")
            k = policies.index("lru_gen")
            max_seq = s.sims[k].policy.max_seq
            text = f"+ 0 0 {max_seq}\n" if count % 2 else f"- 0 0 {max_seq - 2} 0 {8 * count}\n"
            try:
                cur, f = s.debugfs(cur, text, k)
            except SessionError as e:
                assert e.code == "debugfs" and e.errno in ("EINVAL", "EEXIST")
                continue
        elif unit == "run":   # a run-ahead access step (fast path, no events)
            cur, f = s.step(cur, "access", 4097 + count * 100, owner=True)
        else:
            cur, f = s.step(cur, unit, count, owner=True)
        hashes = {k: v for k, v in hashes.items() if k <= cur - f.panes[0].steps_applied}
        hashes[cur] = _hashes(s)
    for step in sorted(hashes, reverse=True):
        s.frame_at(step, "seek")
        assert _hashes(s) == hashes[step], step
    st.close()


def test_checkpoints_are_placed_by_replay_cost_and_a_seek_does_not_pay_for_new_ones(tmp_path):
    # Only the access criterion (the time one is set out of reach): a run-ahead
    # history gets a checkpoint every checkpoint_accesses accesses, and seeks
    # inside it replay at most that many without taking checkpoints of their own
    # (they used to take one per 4,096 replayed steps, ~50 ms each at 1 Mi frames).
    st = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(st, Settings(data_dir=tmp_path, checkpoint_accesses=1000, checkpoint_chunk=250,
                                    checkpoint_replay_ms=1e9))
    s, _ = m.create(Recipe.model_validate(recipe(accesses=12000)))
    s.step(0, "access", 10000, owner=True)
    acc = sorted(s._cp_acc.values())
    assert acc[0] == 0 and acc[-1] >= 9000
    assert max(np.diff(acc)) <= 1000
    kept = dict(s.checkpoints)
    hashes = {}
    for n in (9999, 4321, 777, 5000, 1):
        s.frame_at(n, "seek")
        hashes[n] = _hashes(s)
        assert s.checkpoints.keys() == kept.keys(), "a seek took a checkpoint it did not need"
    # and thinning over budget drops the checkpoint leaving the cheapest gap:
    # the gaps stay even instead of doubling next to step 0
    one = len(s.sims[0].state_bytes())
    s.settings = m.settings = Settings(data_dir=tmp_path, checkpoint_accesses=1000,
                                       checkpoint_chunk=250, checkpoint_replay_ms=1e9,
                                       checkpoint_budget_bytes=6 * one)
    s.step(s.nr_steps, "access", 1000, owner=True)
    acc = sorted(s._cp_acc.values())
    assert len(acc) <= 7
    gaps = np.diff(acc)
    assert max(gaps) <= 2 * min(gaps) + 1000, acc
    for n, h in hashes.items():
        s.frame_at(n, "seek")
        assert _hashes(s) == h
    st.close()


# --- plug-in policies: a Python policy's session is a session like any other ---

@pytest.mark.parametrize("policies", [("s3fifo",), ("clock_py", "lru_gen"), ("clock", "s3fifo")])
def test_plugin_policy_sessions_seek_fork_and_rebuild_exactly(manager, policies):
    s, _ = manager.create(Recipe.model_validate(recipe(policies=policies, scenario="desktop")))
    cur, hashes = _walk(s, [("scan", 5), ("access", 7), ("shrink", 2), ("scan", 3)])
    for step in (cur, 3, 0, 9, cur - 1):
        s.frame_at(step, "seek")
        assert _hashes(s) == hashes[step], step
    child, _ = manager.fork(s.id, 6)
    child.frame_at(6, "seek")
    assert _hashes(child) == hashes[6]
    c2, _ = child.step(6, "scan", 2, owner=True)
    assert c2 == 8
    s.touch()
    s.last_used -= 3600
    manager.evict()
    again = manager.get(s.id)
    again.frame_at(cur, "seek")
    assert _hashes(again) == hashes[cur]
    assert [p["info"]["key"] for p in again.hello("owner", cur, {}).panes] == list(policies)


def test_a_broken_python_policy_ends_the_step_and_the_server_goes_on(manager):
    import engine
    from engine.policy_api import Policy

    class Broken(Policy):
        key = "broken_in_session"
        list_names = {"LRU_INACTIVE_FILE": "fifo"}

        def __init__(self, knobs):
            super().__init__(knobs)
            self.q = {}

        def folio_added(self, pfn, file, refault):
            self.q[pfn] = file

        def folio_removed(self, pfn):
            del self.q[pfn]

        def isolate(self, nr, file):
            return [10**9]                  # garbage

        def outcome(self, pfn, result):
            pass

        def lists(self):
            return {}

    engine.register_python(Broken, source="tests")
    try:
        s, _ = manager.create(Recipe.model_validate(recipe(policies=("broken_in_session", "lru"))))
        other, _ = manager.create(Recipe.model_validate(recipe(policies=("clock_py",))))
        cur = 0
        with pytest.raises(SessionError) as ei:
            for _ in range(200):
                cur, _ = s.step(cur, "scan", 1, owner=True)
        assert ei.value.code == "policy"
        assert "policy 'broken_in_session', hook isolate()" in ei.value.message
        # the failed step is not in the history; earlier steps still seek
        assert s.nr_steps == cur
        s.frame_at(cur, "seek")
        s.frame_at(0, "seek")
        o, f = other.step(0, "scan", 3, owner=True)
        assert o == 3 and _hashes(other)
    finally:
        engine.registry.unregister("broken_in_session")

"""SessionManager and Session with no transport: history, time travel by
checkpoint + replay, compare lockstep, fork, eviction and rebuild."""
from __future__ import annotations

import numpy as np
import pytest

from backend.recipes import Recipe
from backend.folio_index import NR_INTERNAL_MMS
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


def test_viewer_cannot_extend_and_owner_branches_only_when_asked(manager):
    s, _ = manager.create(Recipe.model_validate(recipe()))
    s.step(0, "scan", 4, owner=True)
    with pytest.raises(SessionError) as ei:
        s.step(4, "scan", 1, owner=False)
    assert ei.value.code == "read_only"
    cur, f = s.step(1, "scan", 1, owner=False)   # walking the history is fine
    assert cur == 2 and s.nr_steps == 4
    with pytest.raises(SessionError) as ei:      # no silent rewrite of steps 3..4
        s.step(2, "access", 3, owner=True)
    assert ei.value.code == "branch_needed" and s.nr_steps == 4
    old_log = [list(e) for e in s.log]
    cur, f = s.step(2, "access", 3, owner=True, branch=True)
    assert f.truncated and s.nr_steps == 5 and s.log == [["scan", 2, None], ["access", 3, None]]
    assert manager.store.get_session(s.id).log == s.log
    # the replaced history is kept, pinned, under the id the frame names
    kept = manager.store.get_session(f.kept["id"])
    assert f.kept["nr_steps"] == 4 and kept.log == old_log and kept.nr_steps == 4


def test_a_permalink_pins_the_history_it_was_made_from(manager):
    s, token = manager.create(Recipe.model_validate(recipe(policies=("lru_gen",))))
    cur, _ = s.step(0, "scan", 6, owner=True)
    want = {}
    for n in (3, 6):
        s.frame_at(n, "seek")
        want[n] = _hashes(s)
    pid, n = manager.permalink(s.id, 3)
    assert n == 3 and manager.permalink(s.id, 3)[0] == pid      # content-addressed
    assert manager.permalink(s.id, 6)[0] != pid
    # the owner goes back to 2 and continues: the link still shows the old step 3
    s.step(2, "access", 5, owner=True, branch=True)
    p = manager.get(pid)
    assert p.immutable and not p.is_owner(token) and not p.is_owner("")
    p.frame_at(3, "seek")
    assert _hashes(p) == want[3]
    with pytest.raises(SessionError) as ei:
        p.step(3, "scan", 1, owner=False)
    assert ei.value.code == "read_only"
    # after a restart (rebuilt from the store) too
    manager._live.clear()
    p = manager.get(pid)
    p.frame_at(3, "seek")
    assert _hashes(p) == want[3]


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
    # history_replay_s=0: never rebuild by replay, so the ring's own bound shows
    m = SessionManager(st, Settings(data_dir=tmp_path, max_history_events=1024,
                                    max_history_per_folio=3, history_replay_s=0.0))
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
    info = s.inspect(cur, 0, mapping=key[0] - NR_INTERNAL_MMS if ix.anon_of(key) else key[0], index=key[1],
                     anon=ix.anon_of(key))
    assert info.history.n == min(3, len(full)) and info.history.dropped == max(0, len(full) - 3)
    assert all(st_ <= cur for st_ in info.history.step)
    assert all(m_ == key[0] for m_ in info.history.mapping)
    assert info.history.seq == sorted(info.history.seq)
    assert info.history.source == "incomplete"      # the ring wrapped: it says so
    # with replay allowed, the whole history: more than the ring still held
    s.settings = Settings(data_dir=tmp_path, max_history_per_folio=1000)
    again = s.inspect(cur, 0, mapping=info.identity["mapping"], index=key[1], anon=info.identity["anon"])
    assert again.history.source == "replay" and again.history.n > len(full)
    assert again.history.seq[-3:] == info.history.seq
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
        # a large folio's tail pages are drawn where the folio (its head) is
        for pfn in range(len(loc)):
            head = sim.folio(pfn)["head"]
            if head != pfn and head in want:
                want[pfn] = want[head]
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
                cur, f = s.debugfs(cur, text, k, branch=True)
            except SessionError as e:
                assert e.code == "debugfs" and e.errno in ("EINVAL", "EEXIST")
                continue
        elif unit == "run":   # a run-ahead access step (fast path, no events)
            cur, f = s.step(cur, "access", 4097 + count * 100, owner=True, branch=True)
        else:
            cur, f = s.step(cur, unit, count, owner=True, branch=True)
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


# --- issue #9: evicted folios explained, histories complete -------------------------

def _evictions(s, f):
    ev, names = f.panes[0].events, s.names
    return [i for i in range(ev.n) if names["event_kinds"][ev.kind[i]] == "pgsteal"]


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
@pytest.mark.parametrize("scenario,state", [("stream-hot-file", "shadow"), ("anon-loop", "swap")])
def test_an_evicted_folio_is_explained_by_frame_and_by_event(manager, policy, scenario, state):
    s, _ = manager.create(Recipe.model_validate(recipe(policies=(policy,), scenario=scenario,
                                                       accesses=20000)))
    cur = 0
    for _ in range(60):
        cur, f = s.step(cur, "scan", 1, owner=True)
        if _evictions(s, f):
            break
    ev = f.panes[0].events
    i = _evictions(s, f)[-1]
    by_event = s.inspect(cur, 0, event=ev.seq[i])
    anon = state == "swap"
    raw = ev.mapping[i]
    assert by_event.identity["index"] == ev.index[i]
    assert by_event.identity["mapping"] == (raw - NR_INTERNAL_MMS if anon else raw)
    assert by_event.identity["anon"] is anon and by_event.identity["name"]
    assert by_event.identity["pfn_then"] == ev.pfn[i]
    ps = by_event.page_state
    assert ps["state"] == state and ps["eviction"] >= 0
    if policy == "lru":
        assert {"refault_distance", "workingset_size"} <= set(ps)
    else:
        assert {"min_seq_at_eviction", "gens_since_eviction", "recent"} <= set(ps)
    if by_event.folio is not None:   # the frame was reused: the page is not its new occupant
        assert (by_event.folio["mapping"], by_event.folio["index"]) != (by_event.identity["mapping"], ev.index[i])
    by_pfn = s.inspect(cur, 0, pfn=ev.pfn[i])
    if by_pfn.folio["free"]:
        assert by_pfn.folio["seq"] == -1                       # not stack garbage
        assert by_pfn.page_state == ps and by_pfn.identity["name"] == by_event.identity["name"]
    kinds = [s.names["event_kinds"][k] for k in by_event.history.kind]
    assert "pgsteal" in kinds and by_event.history.step[-1] == cur


def test_a_history_the_ring_lost_is_rebuilt_by_replay_exactly(tmp_path):
    """A tiny event index (overwritten) and a run-ahead step (never indexed):
    the folio history comes from replay and equals what a session with a big
    index and live access steps recorded."""
    def session(max_events, steps):
        st = SqliteStore(tmp_path / f"{max_events}.sqlite3")
        m = SessionManager(st, Settings(data_dir=tmp_path, max_history_events=max_events))
        s, _ = m.create(Recipe.model_validate(recipe(policies=("lru_gen",), accesses=20000)))
        cur = 0
        for unit, count in steps:
            cur, _ = s.step(cur, unit, count, owner=True)
        return s, cur
    small, cur = session(1024, [("scan", 3), ("access", 5000), ("scan", 20)])
    # (live access steps short enough that the engine's event ring keeps them whole)
    big, cur2 = session(1 << 20, [("scan", 3)] + [("access", 1000)] * 5 + [("scan", 20)])
    assert cur == cur2 and small.log[1] == ["access", 5000, {"run": True}]
    assert not small.index[0].complete(cur) and big.index[0].complete(cur)
    for pfn in (3, 77, 200):
        a, b = small.inspect(cur, 0, pfn=pfn), big.inspect(cur, 0, pfn=pfn)
        assert (a.history.source, b.history.source) == ("replay", "ring")
        assert a.identity == b.identity and a.history.n == b.history.n > 0
        assert a.history.step == b.history.step and a.history.kind == b.history.kind
    # at an early step too (the ring of the small one no longer has step 2)
    pfn = next(p for p in range(256) if not big.inspect(2, 0, pfn=p).folio["free"])
    a, b = small.inspect(2, 0, pfn=pfn), big.inspect(2, 0, pfn=pfn)
    assert a.history.source == "replay" and a.history.n and a.history.kind == b.history.kind


def test_the_event_index_ring_never_copies_as_it_fills_and_reads_only_written_rows():
    """The folio event index is allocated once at its cap: sessions stepped
    alike used to double their rings at the same step (a whole-ring copy
    each), stalling every played session together (issue #10's load)."""
    from backend.folio_index import FolioIndex
    from engine import EVENT_DTYPE
    ix = FolioIndex(4096, 256)

    def events(step, n, mapping):
        ev = np.zeros(n, dtype=EVENT_DTYPE)
        ev["mapping"], ev["index"], ev["pfn"] = mapping, np.arange(n), np.arange(n)
        ev["seq"] = step * 1000 + np.arange(n)
        return ev, np.full(n, step, dtype=np.int64)

    ix.add(*events(1, 100, 7), first=1, last=1)
    rows = ix.rows
    assert len(rows) == 4096 and len(ix._live()) == 100
    assert ix.last_at_pfn(150, 1) is None            # an unwritten row is not step 0's event
    for step in range(2, 41):
        ix.add(*events(step, 100, 7 + step % 2), first=step, last=step)
    assert ix.rows is rows                              # filled to the cap without a copy
    assert ix.complete(40) and ix.gap_high == 0
    ix.add(*events(41, 200, 9), first=41, last=41)     # wraps over steps 1-2
    assert ix.rows is rows and not ix.complete(41) and ix.gap_high == 2
    assert ix.event(41 * 1000 + 199)[3] == 41 and ix.event(1 * 1000) is None
    ix.truncate(40)
    assert ix.event(41 * 1000 + 5) is None and ix.history((9, 3), 40)["n"] == 0


# --- issue #9: run until --------------------------------------------------------------

def _until(**kw):
    from backend.protocol import Until
    return Until(**kw)


def test_run_until_the_next_eviction_of_a_file_lands_on_that_event(manager):
    s, _ = manager.create(Recipe.model_validate(recipe(scenario="stream-hot-file", accesses=20000)))
    names = s.workload.names["file"]
    hot = names.index("hot.db") if "hot.db" in names else 0
    until = _until(kind="event", events=["pgsteal"], anon=False, mapping=hot)
    cur, frame, res = s.run_until(0, until, "scan", 0, 10_000, owner=True)
    assert res.reason == "found" and res.step == cur == s.nr_steps and res.steps == cur
    e = res.event
    assert e["kind"] == "pgsteal" and e["mapping"] == hot and e["step"] == cur
    ev = frame.panes[0].events
    hit = [i for i in range(ev.n) if ev.seq[i] == e["seq"]]
    assert hit and s.names["event_kinds"][ev.kind[hit[0]]] == "pgsteal"
    # no earlier step evicted a page of that file: replaying them finds none
    for step in range(1, cur):
        _, f = s.frame_at(step, "seek")
        p = f.panes[0].events
        assert not any(s.names["event_kinds"][p.kind[i]] == "pgsteal" and p.mapping[i] == hot
                       and s.names["locations"][p.dst[i]] == "shadow" for i in range(p.n)), step
    # the history it made replays to the same state
    s.frame_at(cur, "seek")
    h = _hashes(s)
    manager._live.clear()
    again = manager.get(s.id)
    again.frame_at(cur, "seek")
    assert _hashes(again) == h


def test_run_until_a_counter_crosses_n_and_accesses_and_cancel(manager):
    import threading
    s, _ = manager.create(Recipe.model_validate(recipe(accesses=20000)))
    cur, f, res = s.run_until(0, _until(kind="counter", counter="pswpout", op=">=", value=50),
                              "scan", 0, 10_000, owner=True)
    assert res.reason == "found" and s.sims[0].vmstat()["pswpout"] >= 50
    s.frame_at(cur - 1, "seek")
    assert s.sims[0].vmstat()["pswpout"] < 50          # the step before had not crossed it
    s.frame_at(cur, "seek")
    pos = int(s.sims[0].position)
    cur2, f, res = s.run_until(cur, _until(kind="accesses", n=3000), "scan", 0, 10, owner=True)
    assert res.reason == "found" and int(s.sims[0].position) == pos + 3000 and cur2 == cur + 3000
    reports = []
    cancel = threading.Event()

    def progress(p):
        reports.append(p)
        cancel.set()
    # cancelled mid-run: stops at a step boundary, the history is exactly what was run
    big, _ = manager.create(Recipe.model_validate(recipe(accesses=400000, ram_pages=4096)))
    c, f, res = big.run_until(0, _until(kind="end"), "scan", 0, 10, owner=True, progress=progress,
                              cancel=cancel)
    assert res.reason == "cancelled" and reports and 0 < c < 400000 and not big.sims[0].done
    assert c == big.nr_steps == int(big.sims[0].position) and f.step == c
    with pytest.raises(SessionError) as ei:
        s.run_until(cur2, _until(kind="end"), "scan", 0, 10, owner=False)
    assert ei.value.code == "read_only"
    with pytest.raises(SessionError) as ei:
        s.run_until(cur2, _until(kind="event", events=["no_such_event"]), "scan", 0, 10, owner=True)
    assert ei.value.code == "bad_message"


def test_the_timeline_samples_every_step_as_seeking_there_would(manager):
    s, _ = manager.create(Recipe.model_validate(recipe(policies=("lru", "lru_gen"), accesses=20000)))
    cur, _ = s.step(0, "scan", 6, owner=True)
    cur, _ = s.step(cur, "access", 5000, owner=True)
    cur, _ = s.step(cur, "scan", 5, owner=True)
    t = s.series(points=64)
    assert t["nr_steps"] == cur and t["stride"] == 128 and len(t["panes"]) == 2
    steps = t["panes"][0]["step"]
    assert steps[0] == 0 and steps[-1] == cur and all(x % 128 == 0 for x in steps[:-1])
    for j in (0, 3, len(steps) // 2, len(steps) - 1):
        s.frame_at(steps[j], "seek")
        for k, sim in enumerate(s.sims):
            assert tuple(t["panes"][k][n][j] for n in s.SERIES) == s._sample(sim), (steps[j], k)
    # the history grows: extended, not rebuilt; rewritten: rebuilt
    sess = s._series_state["sess"]
    cur2, _ = s.step(cur, "scan", 2, owner=True)
    t2 = s.series(points=64)
    assert s._series_state["sess"] is sess and t2["panes"][0]["step"][-1] == cur2
    s.step(10, "scan", 1, owner=True, branch=True)
    t3 = s.series(points=64)
    assert s._series_state["sess"] is not sess and t3["nr_steps"] == 11 and t3["stride"] == 1
    s.frame_at(11, "seek")
    assert tuple(t3["panes"][1][n][11] for n in s.SERIES) == s._sample(s.sims[1])


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


def test_a_plugin_policy_pane_runs_under_the_kernel_profile_its_recipe_names(manager):
    s, _ = manager.create(Recipe.model_validate(recipe(policies=({"policy": "clock_py", "kernel": "6.1"},
                                                                 {"policy": "clock_py", "kernel": "7.3"}))))
    assert [sim.config["kernel"] for sim in s.sims] == ["6.1", "7.3"]
    hello = s.hello("owner", 0, {})
    assert [p["title"] for p in hello.panes] == ["CLOCK (second chance), Python · 6.1",
                                                 "CLOCK (second chance), Python · 7.3"]
    assert [p["kernel"] for p in hello.panes] == ["6.1", "7.3"]
    assert [q["kernel"] for q in s.record.recipe["policies"]] == ["6.1", "7.3"]
    cur, _ = s.step(0, "scan", 3, owner=True)
    assert cur == 3


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


def test_frames_and_folio_histories_carry_the_decision_inputs(manager):
    # an MGLRU pane: sort_folio()'s isolations name refs, tier, the window and tier_idx
    s, _ = manager.create(Recipe.model_validate(recipe(policies=("lru_gen",), accesses=20000)))
    cur, found = 0, None
    while found is None and cur < 60:
        cur, f = s.step(cur, "scan", 1, owner=True)
        ev = f.panes[0].events
        hits = [i for i in range(ev.n) if ev.tier_idx[i] >= 0 and ev.why_a[i] >= 0]
        found = (f, hits[0]) if hits else None
    assert found, "no sort_folio decision in 60 scan steps"
    f, i = found
    ev = f.panes[0].events
    ring = s.sims[0].events_since(ev.seq[i])[0]      # the engine's own record of that event
    for c in ("why_a", "why_b", "why_c", "why_d", "refs", "tier", "tier_idx", "why"):
        assert getattr(ev, c)[i] == int(ring[c]), c
    info = s.inspect(cur, 0, event=ev.seq[i])
    h = info.history
    j = h.seq.index(ev.seq[i])
    assert (h.why_a[j], h.tier[j], h.tier_idx[j]) == (ev.why_a[i], ev.tier[i], ev.tier_idx[i])


def test_a_booted_guest_session_has_each_kernels_machine_as_simulate_ram_mb_builds__guest_machine(manager):
    """machine.guest: each pane gets the machine `simulate --ram-mb N --kernel K`
    builds (engine/kernels.py guest_machine(): N MiB available, plus that
    release's boot footprint and the rig's mlocked buffer), so panes under two
    kernel profiles have different frames; a bare recipe stays exactly ram_pages."""
    from engine.kernels import GUEST_MLOCKED_PAGES, guest_machine
    r = recipe(policies=("lru_gen", "lru_gen"), ram_pages=16384, accesses=20000)
    r["policies"] = [{"policy": "lru_gen", "kernel": "6.1"}, {"policy": "lru_gen", "kernel": "7.3"}]
    r["machine"]["guest"] = True
    s, _ = manager.create(Recipe.model_validate(r))
    for cfg, kernel in zip(s.configs, ("6.1", "7.3")):
        g = guest_machine(kernel, 16384)
        assert {k: cfg[k] for k in g} == g and cfg["swap_pages"] == 16384 // 2   # half of what is available, as simulate does
    assert s.configs[0]["ram_pages"] != s.configs[1]["ram_pages"]
    for sim in s.sims:
        assert sim.vmstat()["nr_unevictable"] == GUEST_MLOCKED_PAGES
    cur, _ = s.step(0, "scan", 5, owner=True)
    assert cur == 5 and all(sim.check_invariants() == [] for sim in s.sims)
    bare = Recipe.model_validate(recipe(ram_pages=16384)).engine_configs()[0]
    assert bare["ram_pages"] == 16384 and "system_pages" not in bare


@pytest.mark.parametrize("machine,msg", [({"ram_pages": 8191, "guest": True}, "at least 8192 .32 MiB"),
                                         ({"ram_pages": 16384, "guest": True,
                                           "watermarks": {"min": 10, "low": 20, "high": 30}}, "either guest")])
def test_a_booted_guest_recipe_is_refused_below_the_rigs_32_mib_or_with_watermarks(machine, msg):
    r = recipe()
    r["machine"] = machine
    with pytest.raises(ValueError, match=msg):
        Recipe.model_validate(r)


def test_a_recipes_zone_normal_holes_go_to_each_panes_machine_and_null_keeps_the_profiles_median():
    """machine.zone_normal_holes: the free pages a boot kept in ZONE_DMA32's
    unmovable and reclaimable pageblocks (docs/validation.md "kswapd woken by
    boosts"); null keeps each profile's median (engine/kernels.py pageblocks),
    a bare machine none."""
    from engine.kernels import KERNELS
    r = recipe(policies=("lru", "lru"), ram_pages=16384, guest=True)
    r["policies"] = [{"policy": "lru", "kernel": "6.1"}, {"policy": "lru", "kernel": "7.3"}]
    median = Recipe.model_validate(r).engine_configs()
    assert [c.get("zone_normal_holes") for c in median] == [KERNELS[k]["pageblocks"]["normal_holes"]
                                                             for k in ("6.1", "7.3")]
    r["machine"]["zone_normal_holes"] = 398
    assert [c["zone_normal_holes"] for c in Recipe.model_validate(r).engine_configs()] == [398, 398]
    bare = recipe(ram_pages=16384, zone_normal_holes=120)
    assert Recipe.model_validate(bare).engine_configs()[0]["zone_normal_holes"] == 120


def test_too_many_zone_normal_holes_are_refused_by_name_for_the_kernel_whose_zone_cannot_hold_them():
    """The holes share half the zone above ZONE_DMA with the profile's claimable
    pageblocks (engine/config.py), so the bound differs by kernel: 5,500 fit a
    7.3 guest of 64 MiB available (6,163 do) but not a 6.1 one, whose guest has
    fewer frames for the same MemAvailable (engine/kernels.py guest_machine())."""
    from backend.recipes import check_machine
    r = recipe(policies=("lru", "lru"), ram_pages=16384, guest=True, zone_normal_holes=5500)
    r["policies"] = [{"policy": "lru", "kernel": "6.1"}, {"policy": "lru", "kernel": "7.3"}]
    errs = check_machine(Recipe.model_validate(r))
    assert len(errs) == 1 and errs[0]["loc"] == ["body", "machine", "zone_normal_holes"]
    assert errs[0]["msg"] == "must be <= 5373, got 5500 (kernel 6.1's machine)"
    r["machine"]["zone_normal_holes"] = 5373
    assert check_machine(Recipe.model_validate(r)) == []
    r["machine"]["zone_normal_holes"] = -1
    with pytest.raises(ValueError, match="zone_normal_holes"):
        Recipe.model_validate(r)


def test_a_guest_whose_footprint_takes_its_frames_past_the_engines_cap_is_refused_by_name():
    """A guest's frames are what is available plus its profile's footprint and
    per-CPU lists' pages (engine/kernels.py guest_machine()), so a guest with the
    engine's largest machine available has more frames than the engine takes:
    the recipe check says so on machine.ram_pages instead of failing later."""
    from backend.recipes import ENGINE_MAX_FRAMES, check_machine
    r = recipe(policies=({"policy": "lru", "kernel": "7.3"},), ram_pages=ENGINE_MAX_FRAMES, guest=True)
    errs = check_machine(Recipe.model_validate(r))
    assert len(errs) == 1 and errs[0]["loc"] == ["body", "machine", "ram_pages"]
    assert errs[0]["msg"].startswith(f"must be <= {ENGINE_MAX_FRAMES}, got ") and "(kernel 7.3's machine)" in errs[0]["msg"]
    r["machine"]["guest"] = False
    assert check_machine(Recipe.model_validate(r)) == []


def test_a_booted_guests_own_pages_are_named_as_such_in_the_inspector(manager):
    """A classic guest starts with its boot's mapped tmpfs pages on the active
    anon list (engine/kernels.py active_anon_pages): a reader who clicks one
    at step 0 is told whose page it is, not "anon mm -1"."""
    s, _ = manager.create(Recipe.model_validate(recipe(policies=({"policy": "lru", "kernel": "7.3"},),
                                                       ram_pages=16384, guest=True)))
    active = s.sims[0].lists()["LRU_ACTIVE_ANON"]
    assert len(active) > 400
    got = s.inspect(0, 0, pfn=int(active[0]))
    assert got.folio["list"] == "LRU_ACTIVE_ANON" and got.identity["anon"] is True
    assert got.identity["mapping"] == -1 and got.identity["name"] == "the booted guest's own (tmpfs, init)"
    # the inspector then follows the page by identity, across steps and after it is swapped out
    cur, _ = s.step(0, "access", 60000, owner=True)
    again = s.inspect(cur, 0, mapping=-1, index=got.identity["index"], anon=True)
    assert again.identity == got.identity and again.page_state["state"] in ("resident", "swapcache", "swap")
    with pytest.raises(SessionError, match="anon: true"):
        s.inspect(cur, 0, mapping=-1, index=0, anon=False)

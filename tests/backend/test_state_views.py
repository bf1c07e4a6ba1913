"""What the state frame and the zoom window tell the page about folios: young
PTE bits, shadow entries, the folio order of any window of a list, and
location deltas for large machines. Each is checked against the engine's own
per-page answers (sim.page_state / sim.list_pfns) at the same step."""
from __future__ import annotations

import numpy as np
import pytest

from backend.folio_index import NR_INTERNAL_MMS
from backend.settings import Settings
from engine.names import PG
from tests.backend.conftest import WS, create, live_server, recipe, ws_url

PG_anon = PG["PG_anon"]


def _session(server, sid):
    return server.app.state.manager.get(sid)


def _engine_at(server, sid, step):
    """The session's pane-0 engine moved to `step` (under its lock by the caller)."""
    s = _session(server, sid)
    s._goto(step)
    return s, s.sims[0]


def test_order_state_frame_carries_the_young_pte_bit_of_every_mapped_folio(client, server):
    s = create(client, recipe(accesses=6000))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="access", count=600)
        ws.recv()
        ws.send(type="step", unit="scan", count=3)   # folio_referenced() clears some bits
        f = ws.recv()
        ws.send(type="state")
        st = ws.recv()
    young = st["_arrays"]["p0.young"]
    flags = st["_arrays"]["p0.flags"]
    assert young.dtype == np.uint8 and len(young) == 256
    sess, sim = _engine_at(server, s["id"], f["step"])
    with sess.lock:
        fr = sim.frames()
        truth = np.zeros(256, np.uint8)
        for pfn in np.flatnonzero((fr["mapcount"] > 0) & ((fr["flags"] & PG_anon) != 0)):
            ps = sim.page_state("A", int(fr["mapping"][pfn]) - NR_INTERNAL_MMS, int(fr["index"][pfn]))
            assert ps["state"] == "resident" and ps["pfn"] == pfn
            truth[pfn] = ps["young"]
    assert (flags & PG_anon).any()
    np.testing.assert_array_equal(young, truth)
    assert 0 < int(young.sum()) < int(((flags & PG_anon) != 0).sum())   # both kinds are drawn


@pytest.mark.parametrize("scenario,policy", [("zipf-mixed", "lru"), ("stream-hot-file", "lru_gen"),
                                             ("anon-loop", "lru_gen")])
def test_state_frame_counts_shadow_entries_in_swap_and_in_the_page_cache(client, server, scenario,
                                                                         policy):
    s = create(client, recipe(policies=(policy,), scenario=scenario, accesses=3000))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="access", count=2000)
        f = ws.recv()
        ws.send(type="state")
        st = ws.recv()
    shadow = st["panes"][0]["nr_shadow"]
    sess, sim = _engine_at(server, s["id"], f["step"])
    with sess.lock:
        done = sess.accesses[:sim.position]
        anon = {(int(o), int(p)) for o, p in zip(done["owner"][done["op"] == 0], done["page"][done["op"] == 0])}
        fsel = np.isin(done["op"], (1, 2, 3, 4))
        files = {(int(o), int(p)) for o, p in zip(done["owner"][fsel], done["page"][fsel])}
        in_swap = sum(sim.page_state("A", o, p)["state"] == "swap" for o, p in anon)
        in_cache = sum(sim.page_state("R", o, p)["state"] == "shadow" for o, p in files)
    assert shadow == {"anon": in_swap, "file": in_cache}
    assert in_swap + in_cache > 0   # the machine did reclaim, so there is something to count


def test_shadow_count_of_the_page_cache_includes_pages_only_read_ahead_inserted(client, server):
    ra = 4
    # random reads next to cached history: context readahead inserts pages the
    # workload never reads, and some are evicted before it could
    s = create(client, recipe(scenario="shifting-hotspot", accesses=3000, readahead_pages=ra))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="access", count=2500)
        f = ws.recv()
        ws.send(type="state")
        st = ws.recv()
    shadow = st["panes"][0]["nr_shadow"]
    sess, sim = _engine_at(server, s["id"], f["step"])
    with sess.lock:
        done = sess.accesses[:sim.position]
        fsel = np.isin(done["op"], (1, 2, 3, 4))
        named = {(int(o), int(p)) for o, p in zip(done["owner"][fsel], done["page"][fsel])}
        # a readahead window never starts more than ra / 2 before an accessed
        # page (mmap read-around) nor ends more than two windows after one
        pages = {(o, p + d) for o, p in named for d in range(-ra, 2 * ra + 1) if p + d >= 0}
        states = {k: sim.page_state("R", *k)["state"] for k in pages}
    in_cache = sum(st_ == "shadow" for st_ in states.values())
    ra_only_shadows = sum(st_ == "shadow" for k, st_ in states.items() if k not in named)
    assert shadow["file"] == in_cache
    assert ra_only_shadows > 0   # the case a count of accessed pages would miss
    assert isinstance(shadow["anon"], int)


def test_zoom_window_is_the_list_order_with_flags_and_young_bits(client, server):
    s = create(client, recipe(policies=("lru", "lru_gen"), accesses=6000))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="access", count=700)
        ws.recv()
        ws.send(type="state")
        st = ws.recv()
        a = st["_arrays"]
        full = a["p0.LRU_INACTIVE_ANON"]
        assert len(full) > 60
        ws.send(type="zoom", pane=0, list="LRU_INACTIVE_ANON", offset=20, count=40)
        z = ws.recv()
        assert z["type"] == "zoom" and z["step"] == st["step"]
        assert (z["offset"], z["count"], z["total"]) == (20, 40, len(full))
        np.testing.assert_array_equal(z["_arrays"]["pfn"], full[20:60])
        np.testing.assert_array_equal(z["_arrays"]["flags"], a["p0.flags"][full[20:60]])
        np.testing.assert_array_equal(z["_arrays"]["young"], a["p0.young"][full[20:60]])
        # MGLRU: a generation of one type, and a window running past the tail
        g = max(st["panes"][1]["gens"]["gens"], key=lambda g: g["nr_pages"][0])
        order = a[f"p1.gen{g['seq']}.anon"]
        ws.send(type="zoom", pane=1, list=f"gen{g['seq']}.anon", offset=len(order) - 5, count=100)
        z = ws.recv()
        assert z["count"] == 5 and z["total"] == len(order)
        np.testing.assert_array_equal(z["_arrays"]["pfn"], order[-5:])
        # bad windows are named and the connection keeps working
        for bad in ({"pane": 0, "list": "gen3.anon"}, {"pane": 1, "list": "LRU_ACTIVE_FILE"},
                    {"pane": 1, "list": "gen999999.file"}):
            ws.send(type="zoom", count=10, **bad)
            e = ws.recv()
            assert e["type"] == "error" and e["code"] == "bad_message" and e["ref"] == "zoom"
        ws.send(type="zoom", list="LRU_INACTIVE_ANON", count=16385)
        assert ws.recv()["code"] == "bad_message"
        ws.send(type="ping", id=1)
        assert ws.recv() == {"type": "pong", "id": 1}


@pytest.fixture(scope="module")
def big_server(tmp_path_factory):
    """A server whose order layout stops at 128 frames, so that a quick 256-frame
    machine gets the location layout of large machines."""
    s = Settings.from_env(data_dir=tmp_path_factory.mktemp("data"), order_layout_max_frames=128)
    live = live_server(s).start()
    yield live
    live.stop()


def test_location_state_delta_sends_only_the_frames_that_moved(big_server):
    import httpx
    with httpx.Client(base_url=big_server.url, timeout=30) as c:
        # 2048 frames: a scan step (an aging included) moves far fewer than a fifth
        s = create(c, recipe(policies=("lru", "lru_gen"), ram_pages=2048, accesses=6000))
    with WS(ws_url(big_server, s["id"], s["owner_token"])) as ws:
        _, _, st = ws.opening()
        ws.send(type="step", unit="access", count=2500)    # until reclaim runs all the time
        m = ws.recv()   # most frames moved: the whole array is smaller
        assert not any(p["layout_delta"] for p in m["panes"]) and "p1.loc" in m["_arrays"]
        ws.send(type="state", delta=True)   # nothing moved since that message
        st = ws.recv()
        assert all(p["loc_delta"] for p in st["panes"]) and len(st["_arrays"]["p0.loc_pfn"]) == 0
        locs = [m["_arrays"][f"p{k}.loc"].copy() for k in (0, 1)]
        moved = [0, 0]
        for _ in range(4):
            ws.send(type="step", unit="scan")
            d = ws.recv()   # the step message carries the layout delta itself
            assert d["type"] == "step" and d["layout_base"] == st["layout_id"]
            ws.send(type="state")   # the full one, to compare (and the next delta's base)
            full = st = ws.recv()
            for k in (0, 1):
                assert d["panes"][k]["layout_delta"] is True and d["panes"][k]["layout"] == "location"
                assert f"p{k}.loc" not in d["_arrays"]
                idx, val = d["_arrays"][f"p{k}.loc_pfn"], d["_arrays"][f"p{k}.loc_val"]
                assert 5 * len(idx) < len(locs[k]) and len(d["_arrays"][f"p{k}.loc_val"]) == len(idx)
                moved[k] += len(idx)
                locs[k][idx] = val
                np.testing.assert_array_equal(locs[k], full["_arrays"][f"p{k}.loc"])
        assert all(moved)   # each pane's folios moved in those steps, and only that was sent
        # a zoom window works on the location layout too: it is the list's order
        ws.send(type="zoom", pane=0, list="LRU_INACTIVE_ANON", offset=0, count=16384)
        z = ws.recv()
        sess = big_server.app.state.manager.get(s["id"])
        with sess.lock:
            sess._goto(z["step"])
            np.testing.assert_array_equal(z["_arrays"]["pfn"], sess.sims[0].list_pfns(0))
        assert z["total"] == full["panes"][0]["sizes"]["LRU_INACTIVE_ANON"]

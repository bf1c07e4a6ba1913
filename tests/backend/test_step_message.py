"""The binary step message (docs/protocol.md §3.5) as a real server sends
it, read by its documented layout alone: at every step, the list layout
delta applied to the previous layout rebuilds every list, every folio's
flags and young bit exactly as the engine holds them, and the counters are
the engine's. The messages of one session are also written to
tests/frontend/fixtures/step_messages.json, with what they must decode to,
so that the page's decoder is tested on the server's own bytes."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from backend import wire as W
from backend.sessions import LISTS
from tests.backend.conftest import WS, create, recipe, ws_url

FIXTURE = Path(__file__).resolve().parent.parent / "frontend" / "fixtures" / "step_messages.json"
PG_TAIL = 1 << 14


def _folio_flags(sim):
    # each frame's flags as the order layout draws it: a large folio's tail page
    # with its folio's (the head's) and PG_tail
    raw = np.array(sim.frames()["flags"], np.uint32)
    links = np.asarray(sim.links())[:len(raw)]
    tail = (raw & PG_TAIL) != 0
    out = raw.copy()
    out[tail] = raw[links[tail]] | PG_TAIL
    return out


def _walk(nxt, n, h):
    out, p = [], nxt[n + h]
    while p != n + h:
        out.append(int(p))
        p = nxt[p]
        assert len(out) <= n, "a list that does not come back to its head"
    return out


def _heads(pane):
    """{list name: its heads} of a pane, by the documented numbering (an
    MGLRU generation: its ZONE_DMA list, then the one above)."""
    if pane["gens"] is None:
        return {name: (W.HEAD_LRU + i,) for i, name in enumerate(LISTS)}
    heads = {"LRU_UNEVICTABLE": (W.HEAD_LRU + W.LRU_UNEVICTABLE,)}
    for g in pane["gens"]["gens"]:
        for t, kind in enumerate(("anon", "file")):
            i = g["seq"] % W.MAX_NR_GENS * 2 + t
            heads[f"gen{g['seq']}.{kind}"] = (W.HEAD_GEN_DMA + i, W.HEAD_GEN + i)
    return heads


def _lists(nxt, pane):
    n = pane["nr_frames"]
    return {name: sum((_walk(nxt, n, h) for h in hs), []) for name, hs in _heads(pane).items()}


def _base_of_state(st, k):
    pane, a = st["panes"][k], st["_arrays"]
    base = {"flags": a[f"p{k}.flags"].copy(), "young": a[f"p{k}.young"].copy(),
            "next": a[f"p{k}.next"].astype(np.int64)}
    # its links walk to the very lists the state frame sends in order
    for name, order in _lists(base["next"], pane).items():
        assert order == a[f"p{k}.{name}"].tolist(), name
    return base


def _apply(base, m, k):
    pane, a = m["panes"][k], m["_arrays"]
    n = pane["nr_frames"]
    if not pane["layout_delta"]:
        return {"flags": a[f"p{k}.flags"].copy(), "young": a[f"p{k}.young"].copy(),
                "next": a[f"p{k}.next"].astype(np.int64)}
    idx = a[f"p{k}.d_pfn"]
    assert 5 * len(idx) < n + W.NR_HEADS and np.all(np.diff(idx.astype(np.int64)) > 0)
    out = {key: v.copy() for key, v in base.items()}
    out["next"][idx] = a[f"p{k}.d_next"]
    fr = idx < n
    out["flags"][idx[fr]] = a[f"p{k}.d_flags"][fr]
    out["young"][idx[fr]] = a[f"p{k}.d_young"][fr]
    return out


@pytest.mark.parametrize("policies,ram_pages", [(("lru",), 512), (("lru_gen",), 512),
                                               (("lru", "lru_gen"), 512),
                                               (("lru_gen",), 16384)])   # with a ZONE_DMA
def test_step_messages_rebuild_the_engine_lists_at_every_step(client, server, policies, ram_pages):
    big = ram_pages > 512
    s = create(client, recipe(policies=policies, scenario="anon-loop" if big else "stream-hot-file",
                              ram_pages=ram_pages, accesses=200_000 if big else 30_000))
    sess = server.app.state.manager.get(s["id"])
    # a run-ahead first (no events: > 4,096 accesses), so the steps after it reclaim
    commands = [("access", 2 * ram_pages if big else 5000), ("scan", 1), ("scan", 1), ("shrink", 1), ("access", 3), ("scan", 4)]
    if "lru_gen" in policies:
        commands += [("aging", 1), ("scan", 1)]
    record, dma = [], 0
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        hello, _, st = ws.opening()
        raw_state = ws.last_raw
        bases = [_base_of_state(st, k) for k in range(len(policies))]
        layout_id, deltas = st["layout_id"], 0
        for unit, count in commands:
            ws.send(type="step", unit=unit, count=count)
            m = ws.recv()
            assert m["type"] == "step" and m["cause"] == "step"
            assert m["layout_id"] > layout_id
            if any(p["layout_delta"] for p in m["panes"]):
                assert m["layout_base"] == layout_id
            layout_id = m["layout_id"]
            expect = []
            with sess.lock:
                sess._goto(m["step"])
                for k, sim in enumerate(sess.sims):
                    pane = m["panes"][k]
                    deltas += pane["layout_delta"]
                    bases[k] = _apply(bases[k], m, k)
                    lists = _lists(bases[k]["next"], pane)
                    for name, hs in _heads(pane).items():
                        engine = sum((sim.list_pfns(h).tolist() for h in hs), [])
                        assert lists[name] == engine, (unit, k, name)
                        dma += sum(len(sim.list_pfns(h)) for h in hs if h >= W.HEAD_GEN_DMA)
                    np.testing.assert_array_equal(bases[k]["flags"], _folio_flags(sim))
                    np.testing.assert_array_equal(bases[k]["young"], sim.young_bits())
                    assert pane["vmstat"] == list(sim.vmstat().values())
                    assert pane["nr_access"] == sim.position and pane["steps_applied"] == count
                    expect.append({"lists": lists, "vmstat": pane["vmstat"],
                                   "vmstat_delta": pane["vmstat_delta"],
                                   "events": {c: v for c, v in pane["events"].items()}})
            record.append({"message": base64.b64encode(ws.last_raw).decode(), "panes": expect})
        assert deltas > 0   # the small steps went out as deltas
        assert dma > 0 if big else dma == 0   # 64 MiB and up: generations in ZONE_DMA too
    if policies == ("lru", "lru_gen"):
        text = json.dumps({"names": hello["names"], "state": base64.b64encode(raw_state).decode(),
                           "steps": record[:6]},   # not the aging step's 4,096 events
                          separators=(",", ":")) + "\n"
        if not FIXTURE.exists() or FIXTURE.read_text() != text:
            FIXTURE.write_text(text)


def test_a_step_message_is_a_delta_only_against_the_last_layout_sent(client, server):
    """After a `state` frame, the next step message diffs against it; a
    client that lost a message asks for a whole state and is a base again."""
    s = create(client, recipe(ram_pages=512))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="access", count=700)
        first = ws.recv()
        ws.send(type="state")
        st = ws.recv()
        ws.send(type="step", unit="scan")
        m = ws.recv()
        assert st["layout_id"] > first["layout_id"] and m["layout_base"] == st["layout_id"]
        assert m["panes"][0]["layout_delta"] and "p0.d_pfn" in m["_arrays"]
        assert st["panes"][0]["state_hash"] is None   # the hash only when asked

"""The owner's next step ahead (docs/protocol.md §3.6), against a real
server: a peek is byte for byte the step message the owner's step then
sends, computing it changes nothing anyone can see (the history, the
engines' state, a viewer's view), a step the page already shows from a peek
is answered `step_ok` and logged like any other, and anything else gets the
step itself."""
from __future__ import annotations

import json
import struct

import httpx
import numpy as np
import pytest

from backend import wire as W
from backend.protocol import pack_message
from backend.settings import Settings
from tests.backend.conftest import WS, create, live_server, recipe, ws_url


def _header(raw: bytes) -> dict:
    n = struct.unpack_from("<I", raw)[0]
    return json.loads(raw[4:4 + n])


def _without_peek(raw: bytes) -> bytes:
    """The peek's bytes as the step message they stand for: the header
    without its "peek" key (the container re-packed by its own rule)."""
    h = _header(raw)
    arrays = []
    for a in h.pop("arrays"):
        dt = {"int32": "<i4", "uint32": "<u4", "uint8": "u1", "int64": "<i8", "uint64": "<u8"}[a["dtype"]]
        arrays.append((a["name"], np.frombuffer(raw, dt, a["length"], a["offset"])))
    del h["peek"]
    return pack_message(h, arrays)


def _hashes(ws) -> list:
    ws.send(type="state", hash=True)
    st, _ = ws.recv_type("state")
    return [p["state_hash"] for p in st["panes"]]


@pytest.fixture(scope="module")
def location_server(tmp_path_factory):
    """A server whose 512-frame sessions use the location layout (§3.3)."""
    s = Settings.from_env(data_dir=tmp_path_factory.mktemp("peek"), order_layout_max_frames=256)
    with live_server(s) as srv:
        yield srv


@pytest.mark.parametrize("policies,layout", [(("lru",), "order"), (("lru_gen",), "order"),
                                            (("lru", "lru_gen"), "order"),
                                            (("lru_gen",), "location")])
def test_a_peek_is_the_next_step_message_byte_for_byte_and_changes_nothing(
        client, server, location_server, policies, layout):
    srv = location_server if layout == "location" else server
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        s = create(c, recipe(policies=policies, scenario="stream-hot-file", ram_pages=512,
                             accesses=30_000))
    sess = srv.app.state.manager.get(s["id"])
    with WS(ws_url(srv, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="access", count=5000)
        ws.recv_type("step")
        for unit in ("scan", "shrink", "scan", "access", "scan"):
            with sess.lock:
                stepped = [sim.state_hash() for sim in sess.sims]
            ws.send(type="step", unit=unit, count=1, peek=True)
            step = ws.recv()
            assert step["type"] == "step" and "peek" not in step
            peek = ws.recv()
            raw = ws.last_raw
            assert peek["peek"] == {"unit": unit, "count": 1}
            assert peek["panes"][0]["layout"] == layout
            n = sess.nr_steps
            assert peek["step"] == peek["nr_steps"] == n + 1 == step["step"] + 1
            # nothing moved: not the history, not the engines (a `state`
            # request here would move the layout ids, and so the bytes)
            with sess.lock:
                assert sess.nr_steps == n and sess.cur == n
                after = [sim.state_hash() for sim in sess.sims]
                sess._goto(n - 1)
                assert [sim.state_hash() for sim in sess.sims] == stepped
                sess._goto(n)
                assert [sim.state_hash() for sim in sess.sims] == after
            # the step then sends exactly what the peek said it would
            ws.send(type="step", unit=unit, count=1)
            ws.recv_type("step")
            assert ws.last_raw == _without_peek(raw)
            assert W.digest(ws.last_raw) == W.digest(_without_peek(raw))


def test_a_step_the_page_shows_from_a_peek_is_answered_step_ok_and_logged_the_same(client, server):
    """Ten steps taken from peeks (`have`) leave the session where ten plain
    steps leave a twin session: the same history, the same state hashes."""
    states = []
    for ahead in (True, False):
        s = create(client, recipe(policies=("lru_gen",), scenario="stream-hot-file", ram_pages=512,
                                  accesses=30_000, seed=3))
        with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
            ws.opening()
            ws.send(type="step", unit="access", count=4000)
            ws.recv_type("step")
            if ahead:
                ws.send(type="peek", unit="scan", count=1)
                peek = ws.recv()
                assert peek.get("peek"), peek
                for _ in range(10):
                    ws.send(type="step", unit="scan", count=1, peek=True, have=peek["step"])
                    ok = ws.recv()
                    assert ok == {"type": "step_ok", "step": peek["step"], "nr_steps": peek["step"]}
                    peek = ws.recv()
                    assert peek["peek"] and peek["step"] == ok["step"] + 1
            else:
                for _ in range(10):
                    ws.send(type="step", unit="scan", count=1)
                    ws.recv_type("step")
            states.append((server.app.state.manager.get(s["id"]).log, _hashes(ws)))
    assert states[0] == states[1]


def test_a_step_with_have_but_no_matching_peek_gets_the_step_message_itself(client, server):
    s = create(client, recipe(policies=("lru",), scenario="stream-hot-file", ram_pages=512,
                              accesses=30_000))
    with WS(ws_url(server, s["id"], s["owner_token"])) as ws:
        ws.opening()
        ws.send(type="step", unit="access", count=4000)
        ws.recv_type("step")
        # no peek at all
        ws.send(type="step", unit="scan", count=1, have=4001)
        assert ws.recv()["step"] == 4001
        # a peek of another unit
        ws.send(type="peek", unit="shrink", count=1)
        assert ws.recv()["peek"]["unit"] == "shrink"
        ws.send(type="step", unit="scan", count=1, have=4002)
        m = ws.recv()
        assert m["type"] == "step" and "peek" not in m and m["step"] == 4002
        # a peek the owner walked away from (back, then forward again)
        ws.send(type="peek", unit="scan", count=1)
        peek = ws.recv()
        ws.send(type="back", count=1)
        ws.recv_type("state")
        ws.send(type="step", unit="scan", count=1, have=peek["step"], branch=True)
        m, _ = ws.recv_type("step", "step_ok")
        assert m["type"] == "step" and m["truncated"]


def test_a_viewer_never_sees_a_peeked_step_and_cannot_ask_for_one(client, server):
    s = create(client, recipe(policies=("lru_gen",), scenario="stream-hot-file", ram_pages=512,
                              accesses=30_000))
    with WS(ws_url(server, s["id"], s["owner_token"])) as owner:
        owner.opening()
        owner.send(type="step", unit="access", count=4000, peek=True)
        owner.recv_type("step")
        owner.send(type="peek", unit="scan", count=1)
        assert owner.recv()["peek"]
        with WS(ws_url(server, s["id"])) as viewer:
            hello, frame, _ = viewer.opening()
            assert hello["nr_steps"] == frame["step"] == 4000
            viewer.send(type="step", unit="scan", count=1)
            assert viewer.recv()["code"] == "read_only"
            viewer.send(type="peek", unit="scan", count=1)
            err = viewer.recv()
            assert (err["type"], err["code"], err["ref"]) == ("error", "read_only", "peek")


def test_no_peek_where_it_does_not_apply(client, tmp_path):
    """Above peek_max_frames, for an aging unit, below the head or at the
    end of the workload, a peek is not computed: nothing is sent."""
    settings = Settings.from_env(data_dir=tmp_path, peek_max_frames=400)
    with live_server(settings) as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            big = create(c, recipe(policies=("lru",), ram_pages=512, accesses=3000))
            small = create(c, recipe(policies=("lru_gen",), ram_pages=256, accesses=3000))
        for s, asks in ((big, [("scan", None)]),
                        (small, [("aging", None), ("scan", "back"), ("scan", "end")])):
            with WS(ws_url(srv, s["id"], s["owner_token"])) as ws:
                ws.opening()
                ws.send(type="step", unit="access", count=2000)
                ws.recv_type("step")
                for unit, where in asks:
                    if where == "back":
                        ws.send(type="back", count=1)
                        ws.recv_type("state")
                    if where == "end":
                        ws.send(type="seek", step=2000)
                        ws.recv_type("state")
                        ws.send(type="step", unit="access", count=1000, branch=True)
                        assert ws.recv_type("step")[0]["done"]
                    if unit == "aging":   # no peek command for it; a step asking for one gets none
                        ws.send(type="step", unit=unit, count=1, peek=True)
                        assert ws.recv()["type"] == "step"
                    else:
                        ws.send(type="peek", unit=unit, count=1)
                    ws.send(type="ping", id=unit)
                    assert ws.recv() == {"type": "pong", "id": unit}

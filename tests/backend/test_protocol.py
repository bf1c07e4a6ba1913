"""Every wire message round-trips; unknown types and bad fields are rejected
with a message that names the problem."""
from __future__ import annotations

import json

import numpy as np
import pytest

from backend import protocol as P

CLIENT = [
    {"type": "auth", "token": "abc"},
    {"type": "step", "unit": "scan", "count": 3},
    {"type": "step", "unit": "scan", "count": 1, "peek": True, "have": 12},
    {"type": "peek", "unit": "shrink", "count": 2},
    {"type": "back", "count": 2},
    {"type": "seek", "step": 10},
    {"type": "play", "unit": "aging", "rate": 2.5},
    {"type": "pause"},
    {"type": "debugfs", "text": "+ 0 0 4\n", "pane": 1},
    {"type": "lru_gen", "full": True, "pane": 0},
    {"type": "inspect", "pfn": 12, "mapping": None, "index": None, "anon": None, "pane": 0},
    # a booted guest's own pages: anon mapping -1
    {"type": "inspect", "pfn": None, "mapping": -1, "index": 443, "anon": True, "pane": 0},
    {"type": "state", "hash": True, "delta": True},
    {"type": "zoom", "pane": 1, "list": "gen7.file", "offset": 100, "count": 500},
    {"type": "run_until", "unit": "access", "pane": 1, "max_steps": 500, "branch": True,
     "until": {"kind": "event", "events": ["pgsteal"], "anon": False, "mapping": 3,
               "index_lo": 10, "index_hi": 20}},
    {"type": "cancel"},
    {"type": "ping", "id": [1, "x"]},
]


def test_every_client_type_is_covered():
    assert sorted({m["type"] for m in CLIENT}) == sorted(P.CLIENT_TYPES)


@pytest.mark.parametrize("msg", CLIENT, ids=[m["type"] for m in CLIENT])
def test_client_message_round_trip(msg):
    m = P.parse_client(json.dumps(msg))
    assert m.type == msg["type"]
    again = P.parse_client(m.model_dump_json())
    assert again == m
    for k, v in msg.items():
        got = getattr(m, k)
        assert (got.model_dump(exclude_defaults=True) if hasattr(got, "model_dump") else got) == v


def test_defaults_of_client_messages():
    assert P.parse_client('{"type": "step"}') == P.Step(type="step", unit="access", count=1)
    assert P.parse_client('{"type": "play"}').rate == 10.0


@pytest.mark.parametrize("text,code,needle", [
    ("not json", "bad_json", "not JSON"),
    ("[1, 2]", "bad_json", "object"),
    ('{"type": "teleport"}', "bad_message", "teleport"),
    ('{"no_type": 1}', "bad_message", "unknown message type"),
    ('{"type": "step", "unit": "page"}', "bad_message", "unit"),
    ('{"type": "step", "count": 0}', "bad_message", "count"),
    ('{"type": "step", "have": 0}', "bad_message", "have"),
    ('{"type": "peek", "unit": "aging"}', "bad_message", "unit"),
    ('{"type": "seek"}', "bad_message", "step"),
    ('{"type": "seek", "step": -1}', "bad_message", "step"),
    ('{"type": "inspect", "mapping": -2, "index": 0, "anon": true}', "bad_message", "mapping"),
    ('{"type": "play", "rate": 1e9}', "bad_message", "rate"),
    ('{"type": "pause", "extra": 1}', "bad_message", "extra"),
    ('{"type": "debugfs", "text": ""}', "bad_message", "text"),
    ('{"type": "zoom", "list": "LRU_ACTIVE_ANON", "count": 16385}', "bad_message", "count"),
    ('{"type": "zoom", "list": "gen1.both", "count": 10}', "bad_message", "list"),
])
def test_bad_client_messages_are_rejected_naming_the_problem(text, code, needle):
    with pytest.raises(P.ProtocolError) as ei:
        P.parse_client(text)
    assert ei.value.code == code
    assert needle in ei.value.message


SERVER = [
    P.Hello(session="s", role="owner", nr_steps=3, cursor=2, compare=False,
            panes=[{"policy": "lru"}], recipe={"seed": 1}, names={"vmstat": ["pgfault"]},
            limits={"max_frames": 1}),
    P.Frame(step=1, nr_steps=1, cause="step", done=False, panes=[P.PaneFrame(
        pane=0, policy="lru", time_ns=5, nr_access=1, done=False, steps_applied=1,
        events=P.Events(n=1, seq=[0], time_ns=[5], nr_access=[0], pfn=[3], mapping=[0],
                        index=[9], kind=[0], reason=[0], fn=[0], src=[11], dst=[0],
                        src_seq=[-1], dst_seq=[-1]),
        vmstat=[1], vmstat_delta={"pgfault": 1}, sizes={"nr_free": 10}, gens=None)]),
    P.PlayState(playing=True, unit="scan", rate=3.0, reason="started"),
    P.LruGenText(pane=0, full=False, text="memcg 0 /\n"),
    P.FolioInfo(pane=0, pfn=3, step=1, folio={"flags": ["PG_lru"]},
                identity={"mapping": 0, "index": 9, "anon": True},
                page_state={"where": "resident"}, history=P.Events(n=0, step=[])),
    P.Error(code="debugfs", message="no", errno="EINVAL", ref="debugfs"),
    P.Pong(id=7),
    P.AuthOk(),
    P.StepOk(step=12, nr_steps=12),
]


@pytest.mark.parametrize("msg", SERVER, ids=[m.type for m in SERVER])
def test_server_message_round_trip(msg):
    back = P.server_adapter.validate_json(P.dump(msg))
    assert back == msg


def test_server_union_rejects_unknown_type():
    with pytest.raises(Exception):
        P.server_adapter.validate_python({"type": "nonsense"})


def test_hello_carries_the_version():
    assert json.loads(P.dump(SERVER[0]))["v"] == P.VERSION == 4


def test_binary_state_frame_round_trip_with_aligned_arrays():
    arrays = [("p0.LRU_INACTIVE_ANON", np.arange(1001, dtype=np.int32)),
              ("p0.loc", np.arange(77, dtype=np.uint8)),
              ("p0.flags", np.arange(13, dtype=np.uint32) * 65537)]
    data = P.pack_state({"type": "state", "step": 4, "panes": [{"pane": 0}]}, arrays)
    header, got = P.unpack_state(data)
    assert header["type"] == "state" and header["step"] == 4
    for name, a in arrays:
        assert np.array_equal(got[name], a) and got[name].dtype == a.dtype
    for m in header["arrays"]:
        assert m["offset"] % 8 == 0
    # arrays do not overlap each other or the header
    spans = sorted((m["offset"], m["offset"] + m["length"] * np.dtype(m["dtype"]).itemsize)
                   for m in header["arrays"])
    assert spans[0][0] >= 4 + int.from_bytes(data[:4], "little")
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))

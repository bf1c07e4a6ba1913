"""The WebSocket fuzz corpus: every input measured against `reclaimlab
serve` (docs/protocol.md §3) and more. Each gets an `error` frame (or, for
?step=, an error right after the hello) on a connection that stays open,
and the session's state hash is unchanged afterwards. Then a generated
corpus (hypothesis) of well-formed-looking messages from a viewer."""
from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from websockets.sync.client import connect

from backend.protocol import unpack_state

RECIPE = {"machine": {"ram_pages": 256}, "workload": {"scenario": "anon-loop", "accesses": 4000},
          "policies": [{"policy": "lru"}, {"policy": "lru_gen"}]}

# (what is sent, the error code expected). Text unless bytes.
CORPUS = [
    ("[" * 60_000, "bad_json"),                                    # RecursionError before
    ("[" * 100_000, "too_large"),
    ("{\"type\": \"ping\", \"id\": " + "[" * 5000 + "]" * 5000 + "}", "bad_json"),
    ("not json", "bad_json"),
    ("\"just a string\"", "bad_json"),
    ("[1, 2]", "bad_json"),
    ("null", "bad_json"),
    ("\xff\xfe", "bad_json"),
    ("{\"type\": \"nope\"}", "bad_message"),
    ("{\"type\": 5}", "bad_message"),
    ("{}", "bad_message"),
    ("{\"type\": \"step\", \"count\": \"5\"}", "bad_message"),         # numeric string
    ("{\"type\": \"step\", \"count\": true}", "bad_message"),          # boolean
    ("{\"type\": \"step\", \"count\": 0}", "bad_message"),
    ("{\"type\": \"step\", \"count\": -1}", "bad_message"),
    ("{\"type\": \"step\", \"count\": 1e400}", "bad_message"),
    ("{\"type\": \"step\", \"count\": 1.5}", "bad_message"),
    ("{\"type\": \"step\", \"count\": " + "9" * 5000 + "}", "bad_json"),  # int() digit limit
    ("{\"type\": \"step\", \"unit\": \"scan\", \"count\": 100000000}", "limit"),
    ("{\"type\": \"step\", \"unit\": \"reclaim\"}", "bad_message"),
    ("{\"type\": \"step\", \"extra\": 1}", "bad_message"),
    ("{\"type\": \"seek\", \"step\": 18446744073709551616}", "bad_message"),
    ("{\"type\": \"seek\", \"step\": \"3\"}", "bad_message"),
    ("{\"type\": \"back\", \"count\": false}", "bad_message"),
    ("{\"type\": \"play\", \"rate\": 0}", "bad_message"),
    ("{\"type\": \"play\", \"rate\": \"10\"}", "bad_message"),
    ("{\"type\": \"inspect\", \"mapping\": 9223372036854775808, \"index\": 0, \"anon\": true}",
     "bad_message"),                                               # >= 2^63: was `internal`
    ("{\"type\": \"inspect\", \"mapping\": 9223372036854775807, \"index\": 9223372036854775807, "
     "\"anon\": true}", "bad_message"),                             # < 2^63, > the engine's uint32
    ("{\"type\": \"inspect\", \"mapping\": 4294967295, \"index\": 1, \"anon\": true}",
     "bad_message"),
    ("{\"type\": \"inspect\", \"pfn\": 99999999}", None),             # answered or an error, no crash
    ("{\"type\": \"inspect\", \"pfn\": 1, \"anon\": \"yes\"}", "bad_message"),
    ("{\"type\": \"inspect\", \"pane\": 7}", "bad_message"),
    ("{\"type\": \"zoom\", \"list\": \"LRU_BOGUS\", \"count\": 1}", "bad_message"),
    ("{\"type\": \"zoom\", \"list\": \"gen99999999999999999999.anon\", \"count\": 1}",
     "bad_message"),
    ("{\"type\": \"zoom\", \"list\": \"LRU_ACTIVE_ANON\", \"count\": 1, "
     "\"offset\": 9223372036854775807}", None),
    ("{\"type\": \"debugfs\", \"text\": \"\"}", "bad_message"),
    ("{\"type\": \"debugfs\", \"text\": \"+ 99 99 99\\n\"}", "debugfs"),
    ("{\"type\": \"debugfs\", \"text\": \"garbage\"}", "debugfs"),
    ("{\"type\": \"lru_gen\", \"full\": 1}", "bad_message"),
    ("{\"type\": \"state\", \"delta\": \"true\"}", "bad_message"),
    ("{\"type\": \"auth\", \"token\": \"x\"}", "bad_token"),
    ("{\"type\": \"auth\", \"token\": " + json.dumps("x" * 300) + "}", "bad_message"),
    (json.dumps({"type": "step", "count": 1}).encode(), "bad_message"),   # binary JSON: not run
    (b"\x00\x01\x02", "bad_message"),
    ("{\"type\": \"ping\", \"id\": \"" + "y" * 70_000 + "\"}", "too_large"),
]


def _hashes(ws) -> list:
    ws.send(json.dumps({"type": "state", "hash": True}))
    while True:
        m = ws.recv(timeout=60)
        if isinstance(m, bytes):
            header, _ = unpack_state(m)
            # the answer to this request: not a step message of a play still
            # landing, nor the state frame of a seek (no hash unless asked)
            if header["type"] == "state" and header["panes"][0]["state_hash"] is not None:
                return [p["state_hash"] for p in header["panes"]]


@contextlib.contextmanager
def _ws(server, sid, query=""):
    with connect(f"{server.ws_url}/ws/sessions/{sid}{query}", max_size=2**26,
                 compression=None) as ws:
        yield ws


def _opening(ws):
    msgs = [ws.recv(timeout=60) for _ in range(3)]
    return json.loads(msgs[0])


@pytest.fixture(scope="module")
def session(server):
    s = httpx.post(f"{server.url}/api/sessions", json=RECIPE, timeout=60).json()
    with _ws(server, s["id"]) as ws:
        _opening(ws)
        ws.send(json.dumps({"type": "auth", "token": s["owner_token"]}))
        assert json.loads(ws.recv(timeout=30))["type"] == "auth_ok"
        for _ in range(10):
            ws.send(json.dumps({"type": "step", "unit": "scan"}))
            assert unpack_state(ws.recv(timeout=60))[0]["type"] == "step"
    return s


def test_every_corpus_input_gets_an_error_frame_and_changes_nothing(server, session):
    with _ws(server, session["id"]) as ws:
        _opening(ws)
        ws.send(json.dumps({"type": "auth", "token": session["owner_token"]}))
        assert json.loads(ws.recv(timeout=30))["type"] == "auth_ok"   # the owner: could change state
        before = _hashes(ws)
        assert all(before)
        seen = 0
        for payload, code in CORPUS:
            ws.send(payload)
            m = ws.recv(timeout=60)
            if isinstance(m, bytes):      # a binary zoom answer
                m = {"type": "zoom"}
            else:
                m = json.loads(m)
            if code is not None:
                assert m["type"] == "error" and m["code"] == code, (payload[:80], m)
                assert m["message"]
            else:
                assert m["type"] in ("folio", "zoom", "error"), (payload[:80], m)
                assert m.get("code") != "internal", m
            ws.send(json.dumps({"type": "ping", "id": seen}))   # still usable
            while True:
                m = ws.recv(timeout=60)
                if not isinstance(m, bytes) and json.loads(m).get("type") == "pong":
                    break
            seen += 1
        assert _hashes(ws) == before
    assert seen == len(CORPUS) >= 40


@pytest.mark.parametrize("step", ["²", "9" * 5000, "-1", "1e3", " ", "0x10", "１"])
def test_a_bad_step_query_gets_an_error_after_the_hello_and_the_head(server, session, step):
    with _ws(server, session["id"], "?step=" + httpx.QueryParams({"s": step})["s"]) as ws:
        hello = json.loads(ws.recv(timeout=30))
        err = json.loads(ws.recv(timeout=30))
        assert hello["type"] == "hello" and err["type"] == "error" and err["code"] == "bad_message"
        frame = json.loads(ws.recv(timeout=30))
        assert frame["type"] == "frame" and frame["step"] == hello["nr_steps"]


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=True), st.text(max_size=20))
_messages = st.fixed_dictionaries(
    {"type": st.sampled_from(["step", "back", "seek", "play", "pause", "debugfs", "lru_gen",
                              "inspect", "state", "zoom", "ping", "auth", "bogus"])},
    optional={k: _scalars for k in ("unit", "count", "step", "rate", "text", "pane", "full",
                                    "pfn", "mapping", "index", "anon", "hash", "delta", "list",
                                    "offset", "id", "token")})


def test_generated_messages_from_a_viewer_never_break_the_session(server, session):
    with _ws(server, session["id"]) as ws:
        head = _opening(ws)["nr_steps"]
        before = _hashes(ws)
        count = {"n": 0}

        @settings(max_examples=300, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(_messages)
        def one(msg):
            ws.send(json.dumps(msg, allow_nan=True))
            ws.send(json.dumps({"type": "pause"}))   # stops any play it started
            ws.send(json.dumps({"type": "ping", "id": "sync"}))
            while True:
                m = ws.recv(timeout=60)
                if isinstance(m, bytes):
                    continue
                m = json.loads(m)
                assert m.get("code") != "internal", (msg, m)
                if m.get("type") == "pong" and m.get("id") == "sync":
                    break
            count["n"] += 1

        one()
        # the viewer's cursor has wandered (seek, back, play): go back to
        # where it started; the history must be as it was
        hist = httpx.get(f"{server.url}/api/sessions/{session['id']}/history").json()
        assert hist["nr_steps"] == head
        ws.send(json.dumps({"type": "seek", "step": head}))
        assert _hashes(ws) == before
    assert count["n"] >= 300

"""Every WebSocket message as a pydantic model: the only wire schema.

docs/protocol.md describes the same messages in prose; frontend/js/protocol.js
mirrors them key for key. Client messages form a discriminated union on
"type" (`parse_client`); server messages are built with the models below
and sent as JSON, except the binary state frame (`pack_state`).
"""
from __future__ import annotations

import json
import struct
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from backend.strict import I64_MAX, Bool, Float, Int

VERSION = 4
UNITS = ("access", "scan", "shrink", "aging")
Unit = Literal["access", "scan", "shrink", "aging"]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- client -> server ---------------------------------------------------------

class Auth(_Msg):
    type: Literal["auth"]
    token: str = Field(max_length=256)


class Step(_Msg):
    type: Literal["step"]
    unit: Unit = "access"
    count: Int = Field(1, ge=1, le=I64_MAX)
    branch: Bool = False   # owner below the head: replace the later history (kept pinned)
    # The owner's next step ahead (docs/protocol.md §3.6): `peek` asks for it
    # after this step's reply; `have` says the page already shows this step's
    # result from an earlier peek (the server then answers `step_ok`).
    peek: Bool = False
    have: Optional[Int] = Field(None, ge=1, le=I64_MAX)


class Peek(_Msg):
    """The owner's next step ahead, from where it stands (§3.6)."""
    type: Literal["peek"]
    unit: Literal["access", "scan", "shrink"] = "scan"   # Session.PEEK_UNITS
    count: Int = Field(1, ge=1, le=8)                    # Session.INLINE_UNITS


class Back(_Msg):
    type: Literal["back"]
    count: Int = Field(1, ge=1, le=I64_MAX)


class Seek(_Msg):
    type: Literal["seek"]
    step: Int = Field(ge=0, le=I64_MAX)


class Play(_Msg):
    type: Literal["play"]
    unit: Unit = "access"
    rate: Float = Field(10.0, ge=0.1, le=1000.0)


class Pause(_Msg):
    type: Literal["pause"]


class Debugfs(_Msg):
    type: Literal["debugfs"]
    text: str = Field(min_length=1, max_length=4096)
    pane: Optional[Int] = Field(None, ge=0, le=1)
    branch: Bool = False


class Until(_Msg):
    """What `run_until` stops at (docs/protocol.md §3.1)."""
    kind: Literal["event", "counter", "aging", "accesses", "end"]
    # event: the next event of one of these kinds (engine.names.EVENT_KINDS),
    # optionally of one file (anon false) or mm (anon true) and a page range
    events: list[str] = Field(default_factory=list, max_length=16)
    anon: Optional[Bool] = None
    mapping: Optional[Int] = Field(None, ge=0, le=I64_MAX)
    index_lo: Optional[Int] = Field(None, ge=0, le=I64_MAX)
    index_hi: Optional[Int] = Field(None, ge=0, le=I64_MAX)
    # counter: a vmstat counter changes (op "changes") or reaches value (op ">=")
    counter: Optional[str] = Field(None, max_length=64)
    op: Literal["changes", ">="] = "changes"
    value: int = 0
    n: Int = Field(0, ge=0, le=I64_MAX)            # accesses: run this many


class RunUntil(_Msg):
    type: Literal["run_until"]
    until: Until
    unit: Unit = "scan"                # the step unit the search advances by (event/counter)
    pane: Int = Field(0, ge=0, le=1)   # whose events / counters are watched
    max_steps: Int = Field(100_000, ge=1, le=10_000_000)
    branch: Bool = False


class Cancel(_Msg):
    type: Literal["cancel"]


class LruGen(_Msg):
    type: Literal["lru_gen"]
    full: Bool = False
    pane: Int = Field(0, ge=0, le=1)


class Inspect(_Msg):
    type: Literal["inspect"]
    pfn: Optional[Int] = Field(None, ge=0, le=I64_MAX)
    # anon mapping -1: a booted guest's own pages (the identity a folio answer gives them)
    mapping: Optional[Int] = Field(None, ge=-1, le=I64_MAX)
    index: Optional[Int] = Field(None, ge=0, le=I64_MAX)
    anon: Optional[Bool] = None
    event: Optional[Int] = Field(None, ge=0, le=I64_MAX)   # the folio an event (engine seq) of this pane names
    pane: Int = Field(0, ge=0, le=1)


class StateRequest(_Msg):
    type: Literal["state"]
    hash: Optional[Bool] = None   # include state_hash (default: only machines <= 16,384 frames)
    # location layout: send only the frames whose location changed since the
    # last state frame this connection got (the client holds that one)
    delta: Bool = False


ZOOM_MAX = 16384   # folios per zoom window (the order layout's own bound)


class Zoom(_Msg):
    """The folio order of one window of one list or generation (large machines)."""
    type: Literal["zoom"]
    pane: Int = Field(0, ge=0, le=1)
    list: str = Field(pattern=r"^(LRU_[A-Z_]+|gen[0-9]{1,19}\.(anon|file))$", max_length=40)
    offset: Int = Field(0, ge=0, le=I64_MAX)
    count: Int = Field(ge=1, le=ZOOM_MAX)


class Ping(_Msg):
    type: Literal["ping"]
    id: Any = None


ClientMessage = Annotated[
    Union[Auth, Step, Peek, Back, Seek, Play, Pause, Debugfs, LruGen, Inspect, StateRequest, Zoom,
          RunUntil, Cancel,
          Ping],
    Field(discriminator="type"),
]
_client = TypeAdapter(ClientMessage)
CLIENT_TYPES = ("auth", "step", "peek", "back", "seek", "play", "pause", "debugfs", "lru_gen",
                "inspect", "state", "zoom", "run_until", "cancel", "ping")


class ProtocolError(Exception):
    """A client message that cannot be used; `code` is the error frame's code."""

    def __init__(self, code: str, message: str, ref: Optional[str] = None):
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


MAX_DEPTH = 32


def parse_client(text: str | bytes, max_depth: int = MAX_DEPTH) -> BaseModel:
    """Decode one client message or raise ProtocolError naming the problem.
    Nesting deeper than max_depth is refused before json.loads, which would
    recurse (RecursionError) on 100,000 '['."""
    from backend.limits import json_depth_ok
    if not json_depth_ok(text, max_depth):
        raise ProtocolError("bad_json", f"JSON nested deeper than {max_depth} levels")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise ProtocolError("bad_json", f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", "a message must be a JSON object")
    t = data.get("type")
    if t not in CLIENT_TYPES:
        raise ProtocolError("bad_message",
                            f"unknown message type {t!r}; known: {', '.join(CLIENT_TYPES)}",
                            ref=t if isinstance(t, str) else None)
    try:
        return _client.validate_python(data)
    except ValidationError as e:
        parts = []
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"][1:]) or "message"
            parts.append(f"{loc}: {err['msg']}")
        raise ProtocolError("bad_message", f"bad {t!r} message: " + "; ".join(parts), ref=t) from None


# --- server -> client ---------------------------------------------------------

class Hello(_Msg):
    type: Literal["hello"] = "hello"
    v: int = VERSION
    session: str
    role: Literal["owner", "viewer"]
    nr_steps: int
    cursor: int
    compare: bool
    pinned: bool = False      # an immutable permalink session (nobody can extend it)
    panes: list[dict]
    recipe: dict
    names: dict
    units: list[str] = list(UNITS)
    limits: dict
    # the engine replaying the session (recipe.engine_version: the one that recorded it)
    engine_version: str = ""


class Events(_Msg):
    n: int
    dropped: int = 0
    seq: list[int] = []
    time_ns: list[int] = []
    nr_access: list[int] = []
    pfn: list[int] = []
    mapping: list[int] = []
    index: list[int] = []
    kind: list[int] = []
    reason: list[int] = []
    fn: list[int] = []
    src: list[int] = []
    dst: list[int] = []
    src_seq: list[int] = []
    dst_seq: list[int] = []
    # the inputs of the rule that decided (docs/protocol.md, docs/engine.md "Decision inputs")
    why_a: list[int] = []
    why_b: list[int] = []
    why_c: list[int] = []
    why_d: list[int] = []
    refs: list[int] = []
    tier: list[int] = []
    tier_idx: list[int] = []
    why: list[int] = []
    step: Optional[list[int]] = None   # only in folio histories
    # folio histories: "ring" (the session's event index) or "replay" (the
    # index lacked some steps, so the history was rebuilt by deterministic
    # replay from step 0); "incomplete" when a replay would cost too much
    source: Optional[Literal["ring", "replay", "incomplete"]] = None


class PaneFrame(_Msg):
    pane: int
    policy: str
    time_ns: int
    nr_access: int
    done: bool
    steps_applied: int
    events: Events
    vmstat: list[int]
    vmstat_delta: dict[str, int]
    sizes: dict[str, int]
    gens: Optional[dict] = None


class Frame(_Msg):
    type: Literal["frame"] = "frame"
    step: int
    nr_steps: int
    truncated: bool = False
    kept: Optional[dict] = None   # {"id", "nr_steps"}: the replaced history, pinned (a branch)
    partial: bool = False   # the last step is a unit cut short by the end of the workload
    cause: Literal["step", "play", "back", "seek", "connect", "debugfs", "run"]
    done: bool
    panes: list[PaneFrame]


class PlayState(_Msg):
    type: Literal["play_state"] = "play_state"
    playing: bool
    unit: Optional[str] = None
    rate: Optional[float] = None
    reason: Literal["started", "paused", "end", "head", "error", "replaced"]


class Progress(_Msg):
    """A long command is running: sent about every 100 ms."""
    type: Literal["progress"] = "progress"
    ref: str                 # the command: "run_until"
    steps: int               # steps applied so far
    nr_access: int           # the workload position of the watched pane
    total: int               # accesses in the workload
    elapsed_ms: int


class RunResult(_Msg):
    type: Literal["run_result"] = "run_result"
    reason: Literal["found", "cancelled", "end", "limit"]
    steps: int               # steps applied (the history gained)
    step: int                # where the cursor is now
    event: Optional[dict] = None   # found by an event: its step, seq, kind, pfn, mapping, index


class LruGenText(_Msg):
    type: Literal["lru_gen"] = "lru_gen"
    pane: int
    full: bool
    text: str


class FolioInfo(_Msg):
    type: Literal["folio"] = "folio"
    pane: int
    pfn: Optional[int]
    step: int
    folio: Optional[dict]
    identity: Optional[dict]
    page_state: Optional[dict]
    history: Events


class Error(_Msg):
    type: Literal["error"] = "error"
    code: str
    message: str
    errno: Optional[str] = None
    ref: Optional[str] = None


class Pong(_Msg):
    type: Literal["pong"] = "pong"
    id: Any = None


class AuthOk(_Msg):
    type: Literal["auth_ok"] = "auth_ok"
    role: Literal["owner"] = "owner"


class StepOk(_Msg):
    """A `step` with `have`: the step is applied and logged, and its result
    is byte for byte the peek the page already shows (§3.6)."""
    type: Literal["step_ok"] = "step_ok"
    step: int
    nr_steps: int


ServerMessage = Annotated[
    Union[Hello, Frame, PlayState, LruGenText, FolioInfo, Error, Pong, AuthOk, StepOk, Progress,
          RunResult],
    Field(discriminator="type"),
]
server_adapter = TypeAdapter(ServerMessage)


def dump(msg: BaseModel) -> str:
    return msg.model_dump_json()


# --- binary state frame ---------------------------------------------------------

_ALIGN = 8


def pack_state(header: dict, arrays: list[tuple[str, np.ndarray]]) -> bytes:
    """uint32 LE header length, JSON header, pad to 8, then the arrays (8-aligned).

    The header gets an "arrays" list of {name, dtype, offset, length}; offsets
    count from the start of the message so the client can view them in place.
    """
    metas = []
    for name, a in arrays:
        metas.append({"name": name, "dtype": str(a.dtype), "offset": 0, "length": int(a.size)})
    # The header length depends on the offsets' digits: lay out twice.
    for _ in range(3):
        hdr = json.dumps({**header, "arrays": metas}, separators=(",", ":")).encode()
        off = _pad(4 + len(hdr))
        changed = False
        for m, (_, a) in zip(metas, arrays):
            if m["offset"] != off:
                m["offset"], changed = off, True
            off = _pad(off + a.nbytes)
        if not changed:
            break
    hdr = json.dumps({**header, "arrays": metas}, separators=(",", ":")).encode()
    buf = bytearray(off if arrays else _pad(4 + len(hdr)))
    struct.pack_into("<I", buf, 0, len(hdr))
    buf[4:4 + len(hdr)] = hdr
    for m, (_, a) in zip(metas, arrays):
        assert m["offset"] >= 4 + len(hdr)
        buf[m["offset"]:m["offset"] + a.nbytes] = np.ascontiguousarray(a).astype(
            a.dtype.newbyteorder("<"), copy=False).tobytes()
    return bytes(buf)


_DTYPE_NAMES = {np.dtype(t): t for t in ("int8", "uint8", "int16", "uint16", "int32", "uint32",
                                          "int64", "uint64")}


def pack_message(header: dict, arrays: list[tuple[str, np.ndarray]]) -> bytes:
    """The same container as pack_state, built with one JSON dump of the
    header: the "arrays" list is appended as text, and the header is padded
    with spaces (JSON whitespace) to a length that fixes every offset."""
    body = json.dumps(header, separators=(",", ":"))
    assert body.endswith("}") and '"arrays"' not in header
    lengths = [a.nbytes for _, a in arrays]
    # every offset below 10**10: reserve 10 digits per array, then lay out once
    metas = [f'{{"name":"{name}","dtype":"{_DTYPE_NAMES[a.dtype]}","offset":%d,"length":{a.size}}}'
             for name, a in arrays]
    start = _pad(4 + len(body) + len(',"arrays":[]') + sum(len(m) + 9 for m in metas))
    offsets, off = [], start
    for n in lengths:
        offsets.append(off)
        off = _pad(off + n)
    text = (body[:-1] + ',"arrays":[' + ",".join(m % o for m, o in zip(metas, offsets)) + "]}").encode()
    parts = [struct.pack("<I", start - 4), text, b" " * (start - 4 - len(text))]
    for (_, a), n in zip(arrays, lengths):
        if a.dtype.byteorder == ">" or not a.flags.c_contiguous:
            a = np.ascontiguousarray(a, a.dtype.newbyteorder("<"))
        parts.append(a)   # join reads the array's buffer: no tobytes() copy first
        parts.append(_ZEROS[:_pad(n) - n])
    return b"".join(parts)


_ZEROS = bytes(64)


def unpack_state(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The inverse of pack_state (used by tests and the bench)."""
    (h,) = struct.unpack_from("<I", data, 0)
    header = json.loads(data[4:4 + h])
    arrays = {}
    for m in header["arrays"]:
        dt = np.dtype(m["dtype"]).newbyteorder("<")
        arrays[m["name"]] = np.frombuffer(data, dtype=dt, count=m["length"], offset=m["offset"])
    return header, arrays


def unpack_step(data: bytes, vmstat_names: list[str]) -> dict:
    """A binary step message (§3.5) read by its documented layout alone (the
    header's `event_dtype`, not the engine's): the header, with each pane's
    `events` as columns, `vmstat` as a list and `vmstat_delta` as
    {name: change} of the non-zero changes, and the raw arrays in `_arrays`."""
    header, arrays = unpack_state(data)
    lay = header["event_dtype"]
    rec = np.dtype({"names": [f[0] for f in lay["fields"]], "formats": ["<" + f[1] for f in lay["fields"]],
                    "offsets": [f[2] for f in lay["fields"]], "itemsize": lay["itemsize"]})
    for p in header["panes"]:
        pre = f"p{p['pane']}."
        ev = arrays[pre + "events"].view(rec)
        assert len(ev) == p["events"]["n"]
        p["events"].update({name: ev[name].tolist() for name in rec.names})
        p["vmstat"] = arrays[pre + "vmstat"].tolist()
        d = arrays[pre + "vmstat_delta"]
        p["vmstat_delta"] = {vmstat_names[i]: int(d[i]) for i in np.flatnonzero(d)}
    header["_arrays"] = arrays
    return header


def _pad(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN

"""REST under /api: scenarios, policies, traces, sessions (create, get,
fork, download). Validation is pydantic's; engine work runs in the
threadpool."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Literal, Optional

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from backend.limits import json_depth_ok
from backend.recipes import ENGINE_MAX_FRAMES, Recipe, check_limits
from backend.strict import I64_MAX, Int
from backend.sessions import SessionManager, UnknownSession, UnknownTrace, write_trace_file
from backend.store import DamagedRecord

router = APIRouter(prefix="/api")

NOT_FOUND = {404: {"description": "unknown id", "content": {"application/json": {
    "example": {"detail": "unknown session 'abc'"}}}},
             409: {"description": "the session's stored record is damaged", "content": {
                 "application/json": {"example": {
                     "detail": "session 'abc' is damaged in the store: log and nr_steps disagree"}}}},
             503: {"description": "over the server's memory budget (rebuilding the session)"}}
BAD_MULTIPART = {400: {"description": "a malformed multipart body"}}
OVER_BUDGET = {503: {"description": "over the server's memory budget", "content": {
    "application/json": {"example": {"detail": "this session needs an estimated 2,048 MiB ..."}}}},
               413: {"description": "request body too large"}}


class Created(BaseModel):
    id: str
    owner_token: str
    share_url: str


class ForkRequest(BaseModel):
    step: Optional[Int] = Field(None, ge=0, le=I64_MAX, description="fork at this step (default: the head)")


class TraceUploaded(BaseModel):
    trace_id: str
    filename: str
    nr_accesses: int
    sha256: str
    bytes: int


def _manager(request: Request) -> SessionManager:
    return request.app.state.manager


def _share_url(request: Request, sid: str) -> str:
    return str(request.base_url).rstrip("/") + f"/s/{sid}"


def _scenarios() -> dict:
    from engine import workloads
    return workloads.SCENARIOS


@router.get("/scenarios")
def list_scenarios():
    from engine import workloads
    out = []
    for s in workloads.SCENARIOS.values():
        out.append({"name": s.name, "title": s.title, "watch": s.watch,
                    "default_accesses": s.default_accesses,
                    "params": {p.name: {"default": p.default, "min": p.lo, "max": p.hi,
                                        "help": p.doc, "type": "int" if p.kind is int else "float"}
                               for p in s.params}})
    return out


class ReplaySession(BaseModel):
    model_config = {"extra": "forbid"}
    kernel: Literal["6.1", "6.12", "7.3"] = Field("7.3", description="the profile both panes imitate")
    zone_normal_holes: Optional[Int] = Field(
        None, ge=0, le=ENGINE_MAX_FRAMES,
        description="the guest's free pages in ZONE_DMA32's unmovable and reclaimable pageblocks: null = the "
                    "profile's median, or what one traced boot kept (GET /api/replays' holes)")


@router.get("/replays")
def list_replays():
    """The traces validation/ replayed on real kernels: each with its real
    boots' counters and the simulator's (docs/validation.md), the rig's
    machine, and the trace_id its session steps."""
    from backend import replays
    return list(replays.load())


@router.post("/replays/{name}/sessions", status_code=201, response_model=Created,
             responses={**OVER_BUDGET, 404: {"description": "no such replay"}})
async def create_replay_session(request: Request, name: str, body: ReplaySession = ReplaySession()):
    """The classic LRU beside MGLRU under one kernel profile, stepping the
    replayed trace on the rig's machine (a booted guest, 64 MiB available)."""
    from backend import replays
    replay = next((r for r in replays.load() if r["name"] == name), None)
    path = replays.trace_path(name) if replay else None
    if path is None:
        raise HTTPException(404, f"unknown replay {name!r}")
    data = await run_in_threadpool(path.read_bytes)
    try:
        rec = await run_in_threadpool(_manager(request).upload_trace, data, path.name)
    except ValueError as e:   # over this server's max_trace_bytes or max_accesses
        raise RequestValidationError([{"loc": ["path", "name"], "type": "value_error",
                                       "msg": f"replay {name!r}: {e}", "input": name}]) from None
    recipe = Recipe.model_validate(replays.recipe(replay, body.kernel, rec.id, body.zone_normal_holes))
    try:
        return await _create(request, recipe)
    except RequestValidationError as e:
        # this body's own field, not the recipe it became
        raise RequestValidationError([{**err, "loc": ["body", "zone_normal_holes"]}
                                      if err["loc"] == ["body", "machine", "zone_normal_holes"] else err
                                      for err in e.errors()]) from None


@router.get("/policies")
def list_policies():
    """Every installed policy as it describes itself (engine/registry.py):
    key, title, what it follows, knobs with types, ranges, defaults and help,
    step units, view and list names, debugfs."""
    from engine import describe
    return describe()


@router.get("/limits")
def limits(request: Request):
    return request.app.state.settings.public_limits()


async def _read_limited(request: Request, upload: UploadFile) -> bytes:
    limit = request.app.state.settings.max_trace_bytes
    chunks, size = [], 0
    while True:
        chunk = await upload.read(1 << 20)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"trace upload is over this server's limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _store_trace(request: Request, file: UploadFile, loc: str = "file"):
    from engine.trace import TraceTooLarge
    data = await _read_limited(request, file)
    name = file.filename or "upload.trace"
    try:
        return await run_in_threadpool(_manager(request).upload_trace, data, name)
    except TraceTooLarge as e:
        raise HTTPException(413, str(e)) from None
    except ValueError as e:
        # the same list-of-field-errors shape as every other 422
        raise RequestValidationError([{"loc": ["body", loc], "type": "value_error",
                                       "msg": f"{name}: {e}" if not str(e).startswith(name)
                                       else str(e), "input": None}]) from None


@router.post("/traces", status_code=201, response_model=TraceUploaded,
             responses={**BAD_MULTIPART,
                        413: {"description": "upload (or what it decompresses to) too large"}})
async def upload_trace(request: Request, file: UploadFile = File(...)):
    rec = await _store_trace(request, file)
    return TraceUploaded(trace_id=rec.id, filename=rec.filename, nr_accesses=rec.nr_accesses,
                         sha256=rec.sha256, bytes=len(rec.data))


async def _create(request: Request, recipe: Recipe) -> Created:
    errs = check_limits(recipe, request.app.state.settings, _scenarios())
    if errs:
        raise RequestValidationError(errs)
    try:
        session, token = await run_in_threadpool(_manager(request).create, recipe)
    except UnknownTrace as e:
        raise RequestValidationError([{"loc": ["body", "workload", "trace_id"], "type": "missing",
                                       "msg": str(e), "input": recipe.workload.trace_id}]) from None
    except ValueError as e:  # engine ConfigError, WorkloadError, limits
        raise RequestValidationError([{"loc": ["body"], "type": "value_error", "msg": str(e),
                                       "input": None}]) from None
    return Created(id=session.id, owner_token=token, share_url=_share_url(request, session.id))


@router.post("/sessions", status_code=201, response_model=Created, responses=OVER_BUDGET)
async def create_session(request: Request, recipe: Recipe):
    return await _create(request, recipe)


@router.post("/sessions/upload", status_code=201, response_model=Created,
             responses={**OVER_BUDGET, **BAD_MULTIPART})
async def create_session_with_trace(request: Request, recipe: str = Form(...),
                                    file: UploadFile = File(...)):
    depth = request.app.state.settings.max_json_depth
    if not json_depth_ok(recipe, depth):
        raise RequestValidationError([{"loc": ["body", "recipe"], "type": "json_invalid",
                                       "msg": f"recipe nests deeper than {depth} levels",
                                       "input": None}])
    try:
        data = json.loads(recipe)
    except ValueError as e:
        raise RequestValidationError([{"loc": ["body", "recipe"], "type": "json_invalid",
                                       "msg": f"recipe is not JSON: {e}", "input": recipe}]) from None
    rec = await _store_trace(request, file)
    if not isinstance(data, dict):
        data = {}
    data["workload"] = {"trace_id": rec.id}
    try:
        parsed = Recipe.model_validate(data)
    except ValidationError as e:
        raise RequestValidationError(
            [{**{k: v for k, v in err.items() if k in ("type", "msg", "input")},
              "loc": ["body", "recipe", *err["loc"]]} for err in e.errors()]) from None
    return await _create(request, parsed)


async def _get(request: Request, sid: str):
    try:
        return await run_in_threadpool(_manager(request).get, sid)
    except UnknownSession as e:
        raise HTTPException(404, str(e)) from None


@router.get("/sessions/{sid}", responses=NOT_FOUND)
async def get_session(request: Request, sid: str):
    s = await _get(request, sid)
    summary = await run_in_threadpool(s.summary)
    r = s.record
    return {"id": s.id, "recipe": r.recipe, "nr_steps": s.nr_steps, "compare": s.compare,
            "immutable": s.immutable,
            "parent": {"id": r.parent_id, "step": r.parent_step} if r.parent_id else None,
            "share_url": _share_url(request, s.id), "summary": summary}


@router.post("/sessions/{sid}/fork", status_code=201, response_model=Created,
             responses={**NOT_FOUND, **OVER_BUDGET})
async def fork_session(request: Request, sid: str, body: Optional[ForkRequest] = None):
    step = body.step if body else None
    try:
        session, token = await run_in_threadpool(_manager(request).fork, sid, step)
    except UnknownSession as e:
        raise HTTPException(404, str(e)) from None
    return Created(id=session.id, owner_token=token, share_url=_share_url(request, session.id))


class Pinned(BaseModel):
    id: str
    step: int
    share_url: str


@router.post("/sessions/{sid}/permalink", status_code=201, response_model=Pinned,
             responses=NOT_FOUND)
async def permalink(request: Request, sid: str, body: Optional[ForkRequest] = None):
    """Pin the first `step` steps (default: all) as an immutable, content-
    addressed session: its link shows that state whatever the owner does next."""
    step = body.step if body else None
    try:
        pid, n = await run_in_threadpool(_manager(request).permalink, sid, step)
    except UnknownSession as e:
        raise HTTPException(404, str(e)) from None
    return Pinned(id=pid, step=n, share_url=f"{_share_url(request, pid)}?step={n}")


@router.get("/sessions/{sid}/series", responses=NOT_FOUND)
async def series(request: Request, sid: str, upto: Optional[int] = None, points: int = 1000):
    """Counter samples over the whole history (every `stride`-th step, at most
    ~`points`): what the plots draw, for every viewer."""
    s = await _get(request, sid)
    return await run_in_threadpool(s.series, upto, max(16, min(points, 4000)))


@router.get("/sessions/{sid}/recipe", responses=NOT_FOUND)
async def download_recipe(request: Request, sid: str):
    s = await _get(request, sid)
    return JSONResponse(s.record.recipe, headers={
        "Content-Disposition": f'attachment; filename="{sid}.recipe.json"'})


@router.get("/sessions/{sid}/history", responses=NOT_FOUND)
async def history(request: Request, sid: str):
    s = await _get(request, sid)
    with s.lock:
        return {"nr_steps": s.nr_steps, "log": [list(e) for e in s.log]}


_render_locks: dict[str, threading.Lock] = {}
_render_guard = threading.Lock()
TRACE_CACHE_FILES = 16     # rendered workloads kept (each up to ~400 MB at 20 M accesses)


def _rendered_trace(request: Request, sid: str) -> Path:
    """The session's workload as a v1 trace file, rendered once per workload.

    Rendering 20 M accesses costs ~9 s of CPU, so the file is kept under
    <data>/cache/, keyed by what determines the workload (the scenario,
    its parameters, the seed and the RAM size it scales with; or the trace
    id, a content address). Sessions with the same workload share it. The
    newest TRACE_CACHE_FILES are kept."""
    manager = _manager(request)
    try:
        rec = manager.store.get_session(sid)
    except DamagedRecord as e:
        raise HTTPException(409, str(e)) from None
    if rec is None and sid not in manager.live_ids():
        raise UnknownSession(sid)
    recipe = rec.recipe if rec is not None else manager.get(sid).record.recipe
    what = {"workload": recipe.get("workload"), "seed": recipe.get("seed"),
            "ram_pages": (recipe.get("machine") or {}).get("ram_pages")}
    key = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:32]
    cache = Path(request.app.state.settings.data_dir) / "cache"
    path = cache / f"{key}.trace"
    with _render_guard:
        lock = _render_locks.setdefault(key, threading.Lock())
    with lock:   # one render per workload, however many ask at once
        if not path.exists():
            cache.mkdir(parents=True, exist_ok=True)
            s = manager.get(sid)
            with s.lock:
                if s.parked:
                    s._unpark()
                workload = s.workload
            tmp = cache / f".{key}.{os.getpid()}.tmp"
            write_trace_file(workload, tmp, "reclaimlab workload")
            os.replace(tmp, path)
            old = sorted(cache.glob("*.trace"), key=lambda p: p.stat().st_mtime)
            for p in old[:-TRACE_CACHE_FILES]:
                p.unlink(missing_ok=True)
        else:
            path.touch()
    return path


@router.get("/sessions/{sid}/trace", responses=NOT_FOUND)
async def download_trace(request: Request, sid: str):
    try:
        path = await run_in_threadpool(_rendered_trace, request, sid)
    except UnknownSession as e:
        raise HTTPException(404, str(e)) from None
    return FileResponse(path, media_type="text/plain; charset=utf-8", filename=f"{sid}.trace")

"""REST under /api: scenarios, policies, traces, sessions (create, get,
fork, download). Validation is pydantic's; engine work runs in the
threadpool."""
from __future__ import annotations

import json
import os
import tempfile
from typing import Optional

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from backend.recipes import Recipe, check_limits
from backend.sessions import SessionManager, UnknownSession, UnknownTrace, write_trace_file

router = APIRouter(prefix="/api")

NOT_FOUND = {404: {"description": "unknown id", "content": {"application/json": {
    "example": {"detail": "unknown session 'abc'"}}}}}


class Created(BaseModel):
    id: str
    owner_token: str
    share_url: str


class ForkRequest(BaseModel):
    step: Optional[int] = Field(None, ge=0, description="fork at this step (default: the head)")


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


async def _store_trace(request: Request, file: UploadFile):
    data = await _read_limited(request, file)
    name = file.filename or "upload.trace"
    try:
        return await run_in_threadpool(_manager(request).upload_trace, data, name)
    except ValueError as e:
        raise HTTPException(422, f"{name}: {e}") from None


@router.post("/traces", status_code=201, response_model=TraceUploaded,
             responses={413: {"description": "upload too large"},
                        422: {"description": "unreadable trace"}})
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


@router.post("/sessions", status_code=201, response_model=Created)
async def create_session(request: Request, recipe: Recipe):
    return await _create(request, recipe)


@router.post("/sessions/upload", status_code=201, response_model=Created,
             responses={413: {"description": "upload too large"}})
async def create_session_with_trace(request: Request, recipe: str = Form(...),
                                    file: UploadFile = File(...)):
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
            "parent": {"id": r.parent_id, "step": r.parent_step} if r.parent_id else None,
            "share_url": _share_url(request, s.id), "summary": summary}


@router.post("/sessions/{sid}/fork", status_code=201, response_model=Created, responses=NOT_FOUND)
async def fork_session(request: Request, sid: str, body: Optional[ForkRequest] = None):
    step = body.step if body else None
    try:
        session, token = await run_in_threadpool(_manager(request).fork, sid, step)
    except UnknownSession as e:
        raise HTTPException(404, str(e)) from None
    return Created(id=session.id, owner_token=token, share_url=_share_url(request, session.id))


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


@router.get("/sessions/{sid}/trace", responses=NOT_FOUND)
async def download_trace(request: Request, sid: str):
    s = await _get(request, sid)
    fd, path = tempfile.mkstemp(suffix=".trace")
    os.close(fd)
    await run_in_threadpool(write_trace_file, s.workload, path, f"reclaimlab session {sid}")
    return FileResponse(path, media_type="text/plain; charset=utf-8", filename=f"{sid}.trace",
                        background=BackgroundTask(os.unlink, path))

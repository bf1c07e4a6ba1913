"""create_app(): the FastAPI app — REST under /api, the WebSocket stream,
the frontend (index.html at / and /s/{id}, the rest under /ui)."""
from __future__ import annotations

import asyncio
import contextlib
import html
import mimetypes
from pathlib import Path
from typing import Optional

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

import backend
from backend.budget import OverBudget
from backend.limits import BodyLimit, install_log_redaction
from backend.routes import sessions as session_routes
from backend.routes import stream as stream_routes
from backend.routes import sweeps as sweep_routes
from backend.sessions import SessionManager
from backend.settings import Settings
from backend.store import DamagedRecord, SqliteStore, Store, store_path

# Multipart framing around an upload (boundaries, part headers, the recipe
# field of /api/sessions/upload): the body limit of an upload route is
# max_trace_bytes plus this.
MULTIPART_SLACK = 1 << 20
UPLOAD_PATHS = ("/api/traces", "/api/sessions/upload")

# Resolved as a sibling of backend/ (importlib.resources gives a
# MultiplexedPath for a namespace package, which StaticFiles rejects).
FRONTEND = Path(backend.__file__).resolve().parent.parent / "frontend"

# ES modules only load with a JavaScript MIME type; some systems map .js oddly.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")

# A share link whose session is not in this server's store: say so in words.
_GONE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reclaimlab: no such session</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}
code{{background:#eee;padding:0 .2em}}</style>
<h1>No session <code>{sid}</code> here</h1>
<p id="gone">This link names a session that this server does not have: the id is
mistyped, or the session was made on another server (or its store was reset).
Links made with <b>Copy share URL</b> pin their history, so a session that exists
always opens at the step and folio it was shared from.</p>
<p><a href="/">Start a new session</a></p>
</html>"""

_PLACEHOLDER = """<!doctype html><meta charset="utf-8"><title>reclaimlab</title>
<p>reclaimlab server is running; the frontend (frontend/index.html) is not built yet.
See <a href="/docs">/docs</a> for the API.</p>"""


def create_app(settings: Optional[Settings] = None, store: Optional[Store] = None,
               engine_mod=None) -> FastAPI:
    settings = settings or Settings.from_env()
    store = store or SqliteStore(store_path(settings.data_dir), on_damage=settings.store_on_damage)
    manager = SessionManager(store, settings, engine_mod)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        async def reaper():
            while True:
                await asyncio.sleep(min(30.0, max(1.0, settings.idle_seconds / 4)))
                await run_in_threadpool(manager.evict)
                await run_in_threadpool(store.checkpoint)   # keep the WAL short

        install_log_redaction()   # after uvicorn configured its loggers
        app.state.heavy = stream_routes.heavy_limiter(settings.workers)   # bound to this event loop
        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()
            store.close()

    app = FastAPI(title="reclaimlab", version="1",
                  description="Sessions of the Linux memory-reclaim simulator. "
                              "The WebSocket protocol is in docs/protocol.md.",
                  lifespan=lifespan)
    app.state.settings, app.state.store, app.state.manager = settings, store, manager
    app.include_router(session_routes.router)
    app.include_router(stream_routes.router)
    app.include_router(sweep_routes.router)

    # Every refusal is JSON with a status that says whose problem it is.
    @app.exception_handler(OverBudget)
    async def over_budget(request: Request, exc: OverBudget):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(MemoryError)
    async def out_of_memory(request: Request, exc: MemoryError):
        return JSONResponse({"detail": "the server ran out of memory for this request; "
                                       "try a smaller machine or workload, or later"},
                            status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(DamagedRecord)
    async def damaged(request: Request, exc: DamagedRecord):
        return JSONResponse({"detail": str(exc)}, status_code=409)

    def body_limit(path: str) -> int:
        if path in UPLOAD_PATHS:
            return settings.max_trace_bytes + MULTIPART_SLACK
        return settings.max_json_body

    app.add_middleware(BodyLimit, limit_of=body_limit, max_depth=settings.max_json_depth)

    def index() -> object:
        page = FRONTEND / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html")
        return HTMLResponse(_PLACEHOLDER)

    @app.get("/", include_in_schema=False)
    def root():
        return index()

    @app.get("/s/{sid}", include_in_schema=False)
    async def shared(sid: str, request: Request):
        if not await run_in_threadpool(manager.exists, sid):
            return HTMLResponse(_GONE.format(sid=html.escape(sid)), status_code=404)
        return index()

    @app.get("/sweeps/{sweep_id}", include_in_schema=False)
    async def sweep_page(sweep_id: str):
        if await run_in_threadpool(store.get_sweep, sweep_id) is None:
            raise HTTPException(404, f"unknown sweep {sweep_id!r}")
        return FileResponse(FRONTEND / "sweep.html", media_type="text/html")

    if FRONTEND.is_dir():
        app.mount("/ui", StaticFiles(directory=FRONTEND, html=True), name="ui")
    return app

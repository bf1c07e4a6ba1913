"""REST for stored sweeps (docs/sweeps.md): the list, one sweep's cells with
their counters, one cell with its timeline, and a cell's interactive
session. Engine work runs in the threadpool."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from backend.sweep import METRICS, CellError, cell_session, fastest_step
from backend.sweep_report import DIM_KEYS

router = APIRouter()

NOT_FOUND = {404: {"description": "unknown sweep or cell"}}


def _store(request: Request):
    return request.app.state.store


def _sweep(request: Request, sid: str) -> dict:
    sw = _store(request).get_sweep(sid)
    if sw is None:
        raise HTTPException(404, f"unknown sweep {sid!r}")
    return sw


@router.get("/api/sweeps")
async def list_sweeps(request: Request):
    return await run_in_threadpool(_store(request).list_sweeps)


@router.get("/api/sweeps/{sid}", responses=NOT_FOUND)
async def get_sweep(request: Request, sid: str):
    """Every cell with its coordinates and, once finished, its derived
    figures and vmstat counters (no timelines: see the cell endpoint)."""
    def load():
        sw = _sweep(request, sid)
        got = _store(request).get_cells([c["key"] for c in sw["cells"]])
        cells = []
        for c in sw["cells"]:
            r = got.get(c["key"])
            cells.append({"key": c["key"], "dims": c["dims"], "done": r is not None,
                          **({"derived": r["result"]["derived"], "vmstat": r["result"]["vmstat"],
                              "accesses": r["result"]["accesses"]} if r else {})})
        dims = {k: sorted({repr(c["dims"].get(k)): c["dims"].get(k) for c in sw["cells"]}.values(),
                          key=lambda v: (isinstance(v, str), v if v is not None else 0))
                for k in DIM_KEYS}
        from engine.names import VMSTAT_NAMES
        return {"id": sw["id"], "name": sw["name"], "source": sw["source"], "spec": sw["spec"],
                "nr_cells": len(cells), "nr_done": sum(c["done"] for c in cells),
                "dims": {k: v for k, v in dims.items() if v != [None]},
                "metrics": list(METRICS) + list(VMSTAT_NAMES), "cells": cells}
    return await run_in_threadpool(load)


def _cell(request: Request, sid: str, key: str) -> dict:
    sw = _sweep(request, sid)
    if key not in {c["key"] for c in sw["cells"]}:
        raise HTTPException(404, f"sweep {sid!r} has no cell {key!r}")
    got = _store(request).get_cells([key])
    if key not in got:
        raise HTTPException(404, f"cell {key!r} has not finished")
    return got[key]


@router.get("/api/sweeps/{sid}/cells/{key}", responses=NOT_FOUND)
async def get_cell(request: Request, sid: str, key: str):
    c = await run_in_threadpool(_cell, request, sid, key)
    return {"key": key, "recipe": c["recipe"], **c["result"]}


def _check_metric(counter: str) -> str:
    from engine.names import VMSTAT_NAMES
    if counter not in METRICS and counter not in VMSTAT_NAMES:
        # a list of field errors, like every 422 (the OpenAPI schema says so)
        raise RequestValidationError([{"loc": ["query", "counter"], "type": "enum",
                                       "msg": f"unknown counter {counter!r}", "input": counter}])
    return counter


@router.post("/api/sweeps/{sid}/cells/{key}/session", status_code=201, responses=NOT_FOUND)
async def make_cell_session(request: Request, sid: str, key: str, counter: str = "refaults"):
    """The cell's session (made once, run to the end of the workload) and
    the step at which `counter` grew fastest."""
    _check_metric(counter)
    c = await run_in_threadpool(_cell, request, sid, key)
    try:
        session_id = await run_in_threadpool(cell_session, request.app.state.manager,
                                             _store(request), key)
    except (ValueError, CellError) as e:   # e.g. the trace is not readable from this server
        raise RequestValidationError([{"loc": ["path", "key"], "type": "value_error",
                                       "msg": str(e), "input": key}]) from None
    step = fastest_step(c["result"]["timeline"], counter)
    base = str(request.base_url).rstrip("/")
    return {"session_id": session_id, "step": step, "counter": counter,
            "url": f"{base}/s/{session_id}?step={step}"}


@router.get("/sweeps/{sid}/cells/{key}/open", include_in_schema=False)
async def open_cell(request: Request, sid: str, key: str, counter: str = "refaults"):
    """What a cell's link on the sweep page points at: its session, at the
    step where the chosen counter grew fastest."""
    r = await make_cell_session(request, sid, key, counter)
    return RedirectResponse(f"/s/{r['session_id']}?step={r['step']}", status_code=303)

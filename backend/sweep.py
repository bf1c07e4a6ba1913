"""Evaluation sweeps: run every cell of a spec (backend/sweep_spec.py) on a
local process pool or a Dask distributed cluster, store each result as it
arrives, and skip the cells already stored (resume).

A cell is a headless simulation of one recipe to the end of its workload.
Workers get the recipe (plain JSON) and return plain data: DESIGN §6, ship
recipes, never state. `run_cell()` is deterministic: the same recipe gives
the same result on any worker, so a cell computed by Dask is identical to
the one computed locally (tests/backend/test_sweep_dask.py).
Imports no web framework.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from typing import Callable, Iterable, Optional

import numpy as np

from backend.sweep_spec import Cell, Sweep, engine_config_of

# Figures derived from the counters (docs/sweeps.md). file_reads: pages read
# from storage into the page cache (pgpgin counts KiB of file and swap reads).
DERIVED = ("refaults", "file_reads", "swap_ins", "swap_outs", "sim_time_ns")


class CellError(RuntimeError):
    """A cell that could not run (e.g. its trace is not readable on this worker)."""


def load_workload(recipe: dict):
    """The access array of a cell, built where the cell runs: a scenario is
    generated from (name, RAM, seed, accesses, params); a trace is read from
    its path, which must be reachable from the worker, and must still have
    the content the spec was checked with."""
    w = recipe["workload"]
    if "scenario" in w:
        from engine.workloads import generate
        return generate(w["scenario"], recipe["machine"]["ram_pages"], recipe["seed"],
                        w.get("accesses"), **(w.get("params") or {}))
    from backend.sweep_spec import _sha256
    from pathlib import Path
    from engine.trace import read_trace
    p = Path(w["trace"])
    if not p.is_file():
        raise CellError(f"trace {w['trace']!r} is not readable on this worker")
    if _sha256(p) != w["sha256"]:
        raise CellError(f"trace {w['trace']!r} changed since the sweep was checked")
    options = {} if w.get("obj_pages") is None else {"obj_pages": w["obj_pages"]}
    return read_trace(str(p), format=w.get("format"), **options)


def derived(vmstat: dict, sim_time_ns: int) -> dict:
    return {"refaults": vmstat["workingset_refault_anon"] + vmstat["workingset_refault_file"],
            "file_reads": vmstat["pgpgin"] // 4 - vmstat["pswpin"],
            "swap_ins": vmstat["pswpin"], "swap_outs": vmstat["pswpout"],
            "sim_time_ns": int(sim_time_ns)}


def run_cell(recipe: dict) -> dict:
    """Run one cell to the end of its workload. The run is cut into
    `recipe["chunks"]` equal stretches of accesses; after each one every
    counter is sampled (the timeline: where a counter grew fastest is where
    a session of this cell opens). Chunking does not change the result:
    `run(n)` is exact whatever the split."""
    import engine
    t0 = time.perf_counter()
    wl = load_workload(recipe)
    acc = wl.accesses
    n = len(acc)
    sim = engine.Simulator(engine_config_of(recipe))
    sim.set_workload(acc)
    chunks = max(1, min(int(recipe.get("chunks", 64)), n))
    bounds = np.linspace(0, n, chunks + 1).round().astype(np.int64)[1:]
    at, samples, times = [], [], []
    for b in bounds:
        sim.run(int(b) - sim.position)
        at.append(int(sim.position))
        samples.append(sim.vmstat())
        times.append(int(sim.time_ns))
    vm = {k: int(v) for k, v in samples[-1].items()}
    timeline = {"at": at, "sim_time_ns": times,
                "counters": {k: [int(s[k]) for s in samples] for k in vm if vm[k] or
                             any(s[k] for s in samples)}}
    return {"vmstat": vm, "derived": derived(vm, sim.time_ns), "accesses": n,
            "timeline": timeline, "wall_s": round(time.perf_counter() - t0, 4),
            "meminfo": {k: int(v) for k, v in sim.meminfo().items()}}


def fastest_step(timeline: dict, counter: str) -> int:
    """The step (accesses run) at the end of the stretch in which `counter`
    grew the most; the end of the run when it never grew."""
    at = timeline["at"]
    vals = timeline["counters"].get(counter)
    if counter == "sim_time_ns":
        vals = timeline["sim_time_ns"]
    elif counter in ("refaults", "file_reads", "swap_ins", "swap_outs"):
        c = timeline["counters"]
        z = [0] * len(at)
        get = lambda k: c.get(k, z)   # noqa: E731
        vals = {"refaults": [a + b for a, b in zip(get("workingset_refault_anon"),
                                                   get("workingset_refault_file"))],
                "file_reads": [a // 4 - b for a, b in zip(get("pgpgin"), get("pswpin"))],
                "swap_ins": get("pswpin"), "swap_outs": get("pswpout")}[counter]
    if not vals:
        return at[-1]
    deltas = np.diff(np.asarray([0] + list(vals), dtype=np.int64))
    if deltas.max() <= 0:
        return at[-1]
    return int(at[int(np.argmax(deltas))])


METRICS = DERIVED   # besides every vmstat counter


def cell_session(manager, store, key: str) -> str:
    """The interactive session of a cell: made once from the cell's recipe
    with the existing session code (SessionManager.create), then run ahead
    to the end of its workload, so every step of the cell (one per access)
    can be opened, before and after the one a link points at. A trace cell's
    accesses are uploaded to the store as a v1 trace (the server must be able
    to read the trace's path). Raises KeyError for an unknown cell."""
    from backend.recipes import Recipe
    sid = store.get_cell_session(key)
    if sid is not None and manager.exists(sid):
        return sid
    got = store.get_cells([key])
    if key not in got:
        raise KeyError(key)
    recipe = got[key]["recipe"]
    trace_id = None
    if "trace" in recipe["workload"]:
        import tempfile
        from backend.sessions import write_trace_file
        wl = load_workload(recipe)
        with tempfile.NamedTemporaryFile(suffix=".trace") as f:
            write_trace_file(wl, f.name, f"reclaimlab sweep cell {key}")
            data = open(f.name, "rb").read()
        trace_id = manager.upload_trace(data, f"cell-{key}.trace").id
    from backend.sweep_spec import session_recipe
    session, _token = manager.create(Recipe.model_validate(session_recipe(recipe, trace_id)))
    n = got[key]["result"]["accesses"]
    session.step(0, "access", n, owner=True)
    store.put_cell_session(key, session.id)
    return session.id


# --- executors ----------------------------------------------------------------------

def _ignore_sigint():
    # Ctrl-C goes to the whole foreground process group; the parent decides
    # what happens (stop cleanly), so the pool's workers ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalExecutor:
    """A process pool on this machine (no service). Each cell runs in one
    process; the engine is single-threaded per simulation."""

    def __init__(self, jobs: Optional[int] = None):
        self.jobs = jobs or os.cpu_count() or 1
        self.name = f"local process pool ({self.jobs} processes)"

    def run(self, cells: list[Cell]) -> Iterable[tuple[Cell, dict]]:
        import concurrent.futures as cf
        import multiprocessing as mp
        if not cells:
            return
        import threading
        # fork is the cheapest start (the engine is imported already), but
        # forking a process with other threads (a test run with a live
        # server, an embedding app) can copy a lock held mid-operation
        method = "fork" if threading.active_count() == 1 else "forkserver"
        ex = cf.ProcessPoolExecutor(max_workers=min(self.jobs, len(cells)),
                                    mp_context=mp.get_context(method),
                                    initializer=_ignore_sigint)
        ok = False
        try:
            futs = {ex.submit(run_cell, c.recipe): c for c in cells}
            for f in cf.as_completed(futs):
                yield futs[f], f.result()
            ok = True
        finally:
            if ok:
                ex.shutdown(wait=True)
            else:
                # interrupted (Ctrl-C) or a cell failed: do not wait for the
                # running cells; stop the pool's own processes
                procs = list((ex._processes or {}).values())
                ex.shutdown(wait=False, cancel_futures=True)
                for p in procs:
                    if p.is_alive():
                        p.terminate()
                for p in procs:
                    p.join(5)


class DaskExecutor:
    """The same cells on a Dask distributed cluster (`dask scheduler`,
    `dask worker`). Only recipes travel; a worker builds the workload (a
    trace is read from its path, so the path must be reachable from every
    worker). A worker that dies mid-cell has its cells rescheduled by the
    scheduler; each result is taken once, by its cell key."""

    def __init__(self, address: str, timeout: float = 30.0):
        try:
            from distributed import Client
        except ImportError:
            raise RuntimeError("--scheduler needs the 'distributed' package: "
                               "pip install 'reclaimlab[dask]'") from None
        self.address = address
        self.client = Client(address, timeout=timeout, set_as_default=False)
        self.name = f"Dask cluster at {address}"

    def run(self, cells: list[Cell]) -> Iterable[tuple[Cell, dict]]:
        from distributed import as_completed
        futs = {}
        for c in cells:
            f = self.client.submit(run_cell, c.recipe, key=f"reclaimlab-cell-{c.key}", pure=False,
                                   retries=2)
            futs[f.key] = (f, c)
        seen = set()
        try:
            for f in as_completed([f for f, _ in futs.values()], loop=self.client.loop):
                _, c = futs[f.key]
                if c.key in seen:
                    continue
                seen.add(c.key)
                yield c, f.result()
        finally:
            for f, _ in futs.values():
                f.release()

    def close(self):
        self.client.close()


# --- the sweep ----------------------------------------------------------------------

class Progress:
    """A one-line progress bar with an ETA on a terminal; silent otherwise."""

    def __init__(self, total: int, done: int, stream=None, width: int = 30):
        self.total, self.done0, self.done = total, done, done
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.monotonic()
        self.width = width

    def line(self, now: Optional[float] = None) -> str:
        now = time.monotonic() if now is None else now
        frac = self.done / self.total if self.total else 1.0
        fill = int(round(frac * self.width))
        ran = self.done - self.done0
        left = self.total - self.done
        if ran and left:
            eta = (now - self.t0) / ran * left
            eta_s = f"ETA {int(eta) // 60}:{int(eta) % 60:02d}"
        elif not left:
            eta_s = "done"
        else:
            eta_s = "ETA --:--"
        return (f"[{'#' * fill}{'.' * (self.width - fill)}] {self.done}/{self.total} cells "
                f"{frac * 100:3.0f}% {eta_s}")

    def update(self, done: int) -> None:
        self.done = done
        if self.tty:
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def run_sweep(sweep: Sweep, store, executor, progress: Optional[Progress] = None,
              on_result: Optional[Callable[[Cell, dict], None]] = None) -> dict:
    """Run the cells of `sweep` that `store` does not have yet; store each
    result as it arrives. Returns {"total", "skipped", "ran"}. A
    KeyboardInterrupt propagates after the finished cells are stored."""
    store.put_sweep(sweep.id, sweep.name, sweep.source, sweep.text,
                    [{"key": c.key, "dims": c.dims} for c in sweep.cells])
    done = store.sweep_cells_done([c.key for c in sweep.cells])
    todo = [c for c in sweep.cells if c.key not in done]
    # the biggest cells first: the pool's tail is then short
    todo.sort(key=lambda c: -c.recipe["machine"]["ram_pages"])
    ran = 0
    if progress is not None:
        progress.update(len(done))
    try:
        for cell, result in executor.run(todo):
            store.put_cell(cell.key, cell.recipe, result)
            ran += 1
            if progress is not None:
                progress.update(len(done) + ran)
            if on_result is not None:
                on_result(cell, result)
    finally:
        if progress is not None:
            progress.close()
    return {"total": len(sweep.cells), "skipped": len(done), "ran": ran}

"""Feeding a workload to simulators chunk by chunk, the input read ahead.

A producer thread pulls chunks (``TraceStream``, ``WorkloadStream``, any
iterable of ACCESS_DTYPE arrays) while the simulators run the previous one:
decoding and generation are nogil loops and numpy calls, ``Simulator.run``
drops the GIL, so on two cores input and simulation overlap. Memory is the
chunks in flight (``depth`` + 2), not the workload. The simulators see
exactly the accesses in order, so the result is the one of a single
``set_workload`` + ``run_to_end`` (tests/engine/test_streaming.py) -- with
one exception: a file's size, where read-ahead stops, is what the chunks
so far show, unless the stream's ``prepare(sims)`` declares it first (a
scenario does, and a trace file by a first pass; a pipe cannot).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["run_stream"]

_END = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def run_stream(sims, chunks, on_chunk=None, depth: int = 2) -> int:
    """Feed every chunk to every simulator (``Simulator.feed`` then
    ``run_to_end``); several simulators run each chunk in parallel threads.
    ``on_chunk(nr_accesses_so_far)`` is called after each chunk. Returns the
    number of accesses fed. An exception of the producer (a malformed trace
    line) is raised here, after the chunks before it were simulated."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for c in chunks:
                if not put(c):
                    return
            put(_END)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put(_Failed(e))

    prepare = getattr(chunks, "prepare", None)
    if prepare is not None:                 # e.g. file sizes known before the first chunk
        prepare(sims)
    producer = threading.Thread(target=produce, name="reclaimlab-input", daemon=True)
    producer.start()
    pool = ThreadPoolExecutor(len(sims) - 1) if len(sims) > 1 else None
    recycle = getattr(chunks, "recycle", None)     # e.g. a TraceStream reuses the memory
    prev = None
    total = 0
    try:
        while True:
            item = q.get()
            if item is _END:
                break
            if isinstance(item, _Failed):
                raise item.exc
            for sim in sims:
                sim.feed(item)
            if prev is not None and recycle is not None:
                recycle(prev)               # every simulator holds `item` now, not `prev`
            prev = item
            if pool is None:
                sims[0].run_to_end()
            else:
                futures = [pool.submit(s.run_to_end) for s in sims[1:]]
                sims[0].run_to_end()
                for f in futures:
                    f.result()
            total += len(item)
            if on_chunk is not None:
                on_chunk(total)
    finally:
        stop.set()              # the producer gives up at its next put (a daemon thread:
        try:                    # never joined, it may be blocked reading a pipe)
            while True:
                q.get_nowait()
        except queue.Empty:
            pass
        if pool is not None:
            pool.shutdown()
    return total

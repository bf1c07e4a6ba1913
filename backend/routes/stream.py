"""WS /ws/sessions/{id}: accept, decode with protocol.py, call the Session
(small steps on the event loop, the rest in a worker thread: `Connection.call`),
encode. One connection = one cursor; play is a task paced
by the server (one step message per tick at `rate` ticks per second,
coalesced when the client falls behind)."""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from typing import Optional

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from backend import protocol as P
from backend.budget import OverBudget
from backend.sessions import Session, SessionError, UnknownSession
from backend.store import DamagedRecord
from backend import wire as W

router = APIRouter()
log = logging.getLogger("reclaimlab.stream")

STOPS_PLAY = (P.Step, P.Back, P.Seek, P.Play, P.Pause, P.Debugfs, P.RunUntil)
LONG_ACCESSES = 4096     # a run-ahead (sessions.RUN_AHEAD_ACCESSES)
LONG_UNITS = 64          # scan/shrink/aging units in one request
MAX_COALESCE = LONG_UNITS   # play: most ticks one late message may cover


def _is_long(unit: str, count: int) -> bool:
    return count > (LONG_ACCESSES if unit == "access" else LONG_UNITS)


def heavy_limiter(workers: int = 1) -> anyio.CapacityLimiter:
    """Threads for long engine work: one per core (it runs without the GIL,
    so more would only queue inside the kernel's scheduler instead), shared
    among the processes of `serve --workers N`."""
    return anyio.CapacityLimiter(max(1, (os.cpu_count() or 2) // max(1, workers)))

# Close codes (docs/protocol.md §3): 1008 unknown session (policy), 1011 a
# session whose stored record is damaged, 1013 over the memory budget (try
# again later); uvicorn itself closes with 1009 a message over ws_max_size.
CLOSE_UNKNOWN, CLOSE_DAMAGED, CLOSE_OVER_BUDGET = 1008, 1011, 1013
MAX_STEP_DIGITS = 19


def _parse_step(step: Optional[str]) -> tuple[Optional[int], bool]:
    """(cursor or None for the head, whether ?step= was bad). Only ASCII
    digits count: str.isdigit() also takes '²', which int() then refuses."""
    if step is None:
        return None, False
    t = step.strip()
    if not t or len(t) > MAX_STEP_DIGITS or not (t.isascii() and t.isdigit()):
        return None, True
    return int(t), False


def _header_token(ws: WebSocket) -> Optional[str]:
    """The owner token from `Authorization: Bearer <token>` (non-browser
    clients; a browser sends an `auth` message instead)."""
    auth = ws.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


class Connection:
    def __init__(self, ws: WebSocket, session: Session, owner: bool, cursor: int, limits: dict):
        self.ws, self.session, self.owner, self.cursor = ws, session, owner, cursor
        self.limits = limits
        state = ws.app.state
        if getattr(state, "heavy", None) is None:   # an app served without its lifespan
            state.heavy = heavy_limiter(state.settings.workers)
        self.heavy = state.heavy
        self.send_lock = asyncio.Lock()
        self.play_task: Optional[asyncio.Task] = None
        self.play_stop = asyncio.Event()
        # per pane: the list layout last sent here (the base of the deltas of
        # step messages and `state` frames; wire.py)
        self.wire = W.Wire()
        self.run_task: Optional[asyncio.Task] = None   # a run_until in progress
        self.run_cancel = threading.Event()
        # the last peek sent here: (cursor, unit, count, digest) (§3.6)
        self.peeked: Optional[tuple] = None

    async def call(self, small: bool, fn, *args):
        """`fn(*args)` of the session: on the event loop when `small` (the
        session said the step is cheap: `Session.small_step`) and its lock
        is free, else in a worker thread.

        A 16 Ki-frame scan step is ~0.45 ms of work, most of it Python
        under the GIL; the hop to a worker thread and back (a queue, two
        wake-ups, the GIL handed over twice, competing with every other
        worker for it) cost about as much again and took the loop's thread
        to ~1 ms per step. Anything that may be long (a seek, a branch, an
        unpark, a big machine, many units, a session another thread is
        using) still goes to a thread, so the loop never waits on a lock."""
        s = self.session
        if small and s.lock.acquire(blocking=False):
            try:
                if s.inline_ready(self.cursor):
                    return fn(*args)
            finally:
                s.lock.release()
        return await run_in_threadpool(fn, *args)

    def alone(self) -> bool:
        """This is the server's only open WebSocket (`Session.small_step`:
        a big machine's step may then run on the loop)."""
        return getattr(self.ws.app.state, "open_streams", 0) <= 1

    async def settle(self) -> None:
        """After a step's reply is sent: the checkpoint it left
        (`Session.step(checkpoint=False)`), in a worker thread, so neither
        the reply nor the loop waits for ~50-60 ms of copying at 1 Mi
        frames. Awaited before the next command is read, so the next step
        finds the checkpoint taken (or waits for the lock in a thread)."""
        if self.session.checkpoint_due():
            await run_in_threadpool(self.session.settle)

    async def send(self, msg) -> None:
        async with self.send_lock:
            if isinstance(msg, bytes):
                await self.ws.send_bytes(msg)
            else:
                await self.ws.send_text(P.dump(msg))

    async def error(self, code: str, message: str, errno: Optional[str] = None,
                    ref: Optional[str] = None) -> None:
        await self.send(P.Error(code=code, message=message, errno=errno, ref=ref))

    # --- commands
    async def frame_and_state(self, step: int, cause: str) -> None:
        s = self.session
        self.cursor, frame = await run_in_threadpool(s.frame_at, step, cause)
        await self.send(frame)
        await self.send(await run_in_threadpool(s.state_at, self.cursor, None, self.wire))

    async def handle(self, m) -> None:
        s = self.session
        if self.run_task is not None and not self.run_task.done():
            # One long command at a time: nothing queues behind it to re-run work.
            if isinstance(m, P.Cancel):
                self.run_cancel.set()
            elif isinstance(m, P.Ping):
                await self.send(P.Pong(id=m.id))
            else:
                raise SessionError("busy", "a run_until is in progress: wait for it or send cancel")
            return
        if isinstance(m, P.Cancel):
            return   # nothing running (it may have just ended)
        if isinstance(m, STOPS_PLAY):
            await self.stop_play("replaced" if isinstance(m, P.Play) else "paused",
                                 announce=isinstance(m, P.Pause))
        if isinstance(m, P.Step):
            peeked, self.peeked, before = self.peeked, None, self.cursor
            if self.owner and _is_long(m.unit, m.count):
                # Long engine work queues on the `heavy` limiter (one thread
                # per core), so however many owners run ahead at once, the
                # default pool keeps threads for every other session's steps.
                self.cursor, frame = await anyio.to_thread.run_sync(
                    functools.partial(s.step, self.cursor, m.unit, m.count, self.owner, "step",
                                      m.branch, self.wire),
                    limiter=self.heavy)
            else:
                small = s.small_step(self.cursor, m.unit, m.count, self.owner, self.alone())
                self.cursor, frame = await self.call(small, s.step, self.cursor, m.unit, m.count,
                                                     self.owner, "step", m.branch, self.wire, False)
                await self.send(self.confirm(m, (before, m.unit, m.count), peeked, frame))
                await self.settle()
                if m.peek:
                    await self.peek_ahead(m.unit, m.count)
                return
            await self.send(frame)
        elif isinstance(m, P.Peek):
            if not self.owner:
                raise SessionError("read_only", "a peek computes the owner's next step: "
                                                "it needs the owner token")
            await self.peek_ahead(m.unit, m.count)
        elif isinstance(m, P.Back):
            await self.frame_and_state(max(0, self.cursor - m.count), "back")
        elif isinstance(m, P.Seek):
            await self.frame_and_state(m.step, "seek")
        elif isinstance(m, P.Play):
            self.play_stop = asyncio.Event()
            self.play_task = asyncio.create_task(self.play(m.unit, m.rate, self.play_stop))
        elif isinstance(m, P.Pause):
            pass
        elif isinstance(m, P.Debugfs):
            if not self.owner:
                raise SessionError("read_only", "debugfs writes need the owner token")
            self.cursor, frame = await run_in_threadpool(s.debugfs, self.cursor, m.text, m.pane,
                                                         m.branch, self.wire)
            await self.send(frame)
        elif isinstance(m, P.LruGen):
            await self.send(await run_in_threadpool(s.lru_gen_text, self.cursor, m.pane, m.full))
        elif isinstance(m, P.Inspect):
            await self.send(await run_in_threadpool(s.inspect, self.cursor, m.pane, m.pfn,
                                                    m.mapping, m.index, m.anon, m.event))
        elif isinstance(m, P.StateRequest):
            await self.send(await run_in_threadpool(s.state_at, self.cursor, m.hash, self.wire,
                                                    m.delta))
        elif isinstance(m, P.Zoom):
            await self.send(await run_in_threadpool(s.zoom, self.cursor, m.pane, m.list, m.offset,
                                                    m.count))
        elif isinstance(m, P.RunUntil):
            self.run_cancel = threading.Event()
            self.run_task = asyncio.create_task(self.run_until(m, self.run_cancel))
        elif isinstance(m, P.Ping):
            await self.send(P.Pong(id=m.id))
        elif isinstance(m, P.Auth):
            if not s.is_owner(m.token):
                raise SessionError("bad_token", "that is not this session's owner token")
            self.owner = True
            await self.send(P.AuthOk())

    # --- the owner's next step ahead (protocol.md §3.6)
    def confirm(self, m: P.Step, at: tuple, peeked: Optional[tuple], frame):
        """A step's answer: `step_ok` when the page said it shows this step
        from a peek (`have`) and the step's message is byte for byte that
        peek's; else the message itself (which the page then draws)."""
        if (m.have is None or peeked is None or peeked[:3] != at or self.cursor != m.have
                or W.digest(frame) != peeked[3]):
            return frame
        return P.StepOk(step=self.cursor, nr_steps=self.session.nr_steps)

    async def peek_ahead(self, unit: str, count: int) -> None:
        """Send the owner's next step, computed ahead and undone
        (`Session.peek`), after the reply it follows. It is a courtesy: when
        it does not apply, or fails, nothing is sent and the next step is
        computed when asked, as without it."""
        try:
            msg = await run_in_threadpool(self.session.peek, self.cursor, unit, count, self.wire)
        except Exception:
            log.exception("session %s: peek failed", self.session.id)
            return
        if msg is not None:
            self.peeked = (self.cursor, unit, count, msg.digest)
            await self.send(msg)

    async def run_until(self, m, cancel: threading.Event) -> None:
        """In a worker thread, with progress frames; stops at a step boundary
        when cancelled, so the session is consistent wherever it stopped."""
        s, loop = self.session, asyncio.get_running_loop()

        def progress(p):
            asyncio.run_coroutine_threadsafe(self.send(p), loop)
        try:
            self.cursor, frame, result = await run_in_threadpool(
                s.run_until, self.cursor, m.until, m.unit, m.pane, m.max_steps, self.owner,
                m.branch, progress, cancel, self.wire)
            await self.send(frame)
            await self.send(result)
        except SessionError as e:
            await self.error(e.code, e.message, e.errno, "run_until")
        except Exception as e:  # a bug, or the socket went away
            log.exception("session %s: run_until failed", s.id)
            try:
                await self.error("internal", f"{type(e).__name__}: {e}", ref="run_until")
            except Exception:
                pass

    async def play(self, unit: str, rate: float, stop: asyncio.Event) -> None:
        """One step per tick; pacing by the wall clock, never inside the engine.

        Coalescing (protocol.md §3.5): each message is awaited until the
        socket took it, so a client that does not keep up holds the loop
        back instead of queuing messages. A late tick (that, or a busy
        server) applies every step that fell due since, at most
        MAX_COALESCE, as one command, and sends one step message for the
        newest state: steps_applied, vmstat_delta and the events cover
        them all."""
        s = self.session
        await self.send(P.PlayState(playing=True, unit=unit, rate=rate, reason="started"))
        period, start, i, reason = 1.0 / rate, time.monotonic(), 0, "end"
        try:
            while not stop.is_set():
                due = int((time.monotonic() - start) / period) + 1 - i
                due = max(1, min(MAX_COALESCE, due))
                if self.cursor < s.nr_steps:
                    small = s.small_step(self.cursor, unit, due, False, self.alone())
                    self.cursor, msg = await self.call(
                        small, s.frame_at, min(self.cursor + due, s.nr_steps), "play", self.wire)
                    await self.send(msg)
                elif self.owner:
                    small = s.small_step(self.cursor, unit, due, True, self.alone())
                    self.cursor, msg = await self.call(small, s.step, self.cursor, unit, due, True,
                                                       "play", False, self.wire, False)
                    await self.send(msg)
                    if msg.steps_applied == 0:
                        reason = "end"
                        break
                    await self.settle()
                else:
                    reason = "head"
                    break
                i += due
                delay = start + i * period - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(stop.wait(), delay)
                    except asyncio.TimeoutError:
                        pass
                elif delay < -1.0:
                    start = time.monotonic() - i * period  # far behind: don't burst to catch up
            else:
                return  # stopped by stop_play, which announces
        except SessionError as e:
            reason = "error"
            await self.error(e.code, e.message, e.errno, "play")
        except Exception:  # the socket went away mid-play; the receive loop cleans up
            return
        await self.send(P.PlayState(playing=False, unit=unit, rate=rate, reason=reason))
        self.play_task = None

    async def stop_play(self, reason: str, announce: bool) -> None:
        task = self.play_task
        if task is None or task.done():
            if announce:
                await self.send(P.PlayState(playing=False, reason=reason))
            return
        self.play_stop.set()
        await task   # let the step in flight land so the cursor is right
        self.play_task = None
        await self.send(P.PlayState(playing=False, reason=reason))


@router.websocket("/ws/sessions/{sid}")
async def stream(ws: WebSocket, sid: str, token: Optional[str] = None, step: Optional[str] = None):
    app = ws.app
    manager, settings = app.state.manager, app.state.settings
    await ws.accept()
    try:
        session = await run_in_threadpool(manager.get, sid)
    except UnknownSession as e:
        await ws.close(code=CLOSE_UNKNOWN, reason=str(e)[:120])
        return
    except (DamagedRecord, OverBudget) as e:
        # An error frame says what (close reasons are cut at 123 bytes), then the close code.
        code = "damaged" if isinstance(e, DamagedRecord) else "over_budget"
        await ws.send_text(P.dump(P.Error(code=code, message=str(e))))
        await ws.close(code=CLOSE_DAMAGED if code == "damaged" else CLOSE_OVER_BUDGET,
                       reason=str(e)[:120])
        return
    session.refs += 1
    app.state.open_streams = getattr(app.state, "open_streams", 0) + 1
    conn = None
    try:
        # ?token= is still read for old clients; the server's logs redact it.
        owner = session.is_owner(_header_token(ws) or token)
        want, bad_step = _parse_step(step)
        cursor = session.nr_steps if want is None else min(want, session.nr_steps)
        conn = Connection(ws, session, owner, cursor, settings.public_limits())
        await conn.send(session.hello("owner" if owner else "viewer", cursor, conn.limits))
        if bad_step:
            await conn.error("bad_message", f"?step={step[:40]!r} is not a step index; "
                                            f"showing the head")
        await conn.frame_and_state(cursor, "connect")
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                break
            data = msg.get("text")
            if data is None:
                # Commands are JSON text (protocol.md §3); a binary frame is
                # never executed, whatever it holds.
                await conn.error("bad_message", "binary frames are not commands: send each "
                                                "command as a JSON text frame")
                continue
            if len(data) > settings.max_ws_message:
                await conn.error("too_large", f"message of {len(data)} bytes is over the limit "
                                              f"of {settings.max_ws_message}")
                continue
            try:
                m = P.parse_client(data, settings.max_json_depth)
            except P.ProtocolError as e:
                await conn.error(e.code, e.message, ref=e.ref)
                continue
            try:
                await conn.handle(m)
            except SessionError as e:
                await conn.error(e.code, e.message, e.errno, m.type)
            except OverBudget as e:   # a parked session that cannot come back yet
                await conn.error("over_budget", str(e), ref=m.type)
            except DamagedRecord as e:
                await conn.error("damaged", str(e), ref=m.type)
            except (WebSocketDisconnect, asyncio.CancelledError):
                raise
            except Exception as e:  # a bug: report it, keep the connection
                log.exception("session %s: %s failed", sid, m.type)
                await conn.error("internal", f"{type(e).__name__}: {e}", ref=m.type)
    except WebSocketDisconnect:
        pass
    finally:
        if conn is not None and conn.run_task is not None:
            conn.run_cancel.set()
            try:
                await conn.run_task
            except Exception:
                pass
        if conn is not None and conn.play_task is not None:
            conn.play_stop.set()
            try:
                await conn.play_task
            except Exception:
                pass
        session.refs -= 1
        app.state.open_streams -= 1
        session.touch()

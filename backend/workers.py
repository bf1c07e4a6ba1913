"""`reclaimlab serve --workers N`: N server processes behind one socket,
each session served by one of them (docs/server.md "Several processes").

A session lives in one process's memory (its engines, checkpoints, event
index), and one Python process serves small steps on one core (the GIL).
So the parent process binds the public socket and routes: it reads each new
connection's request head, picks the worker from the session id the path
names (`route_of`: a hash of the id modulo N; anything else round robin),
and hands the connection's file descriptor, with the head it read, to that
worker over an AF_UNIX socket (SCM_RIGHTS). A worker is uvicorn serving
the connections it is handed instead of accepting its own. A worker
creates sessions only under ids that route to itself
(`SessionManager.new_session_id`), so the owner, every viewer and every
REST call of a session meet in one process; a session stored under another
N is rebuilt from the store by the worker its id now routes to.

Only the first request of a connection is routed, so with N > 1 a worker
answers plain HTTP with `Connection: close`; a WebSocket stays where it was
routed, which is the point.

Why the parent reads the head instead of peeking at it (recv(MSG_PEEK),
leaving the bytes for the worker): readiness is level-triggered, so a
connection whose head has only partly arrived stays readable and the
router would spin, or poll, until the rest came. Read bytes cannot be put
back, so they travel with the descriptor, and the worker's protocol is fed
them as its first data, before the transport reads from the socket.

This module's top imports only the standard library: the domain
(backend/sessions.py) imports `route_of` from here.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Optional
from urllib.parse import unquote

log = logging.getLogger("reclaimlab.workers")

MAX_HEAD = 16 << 10        # a request head longer than this is refused (431)
MAX_PENDING = 1000         # connections whose head is still arriving
READY_TIMEOUT = 60.0       # a worker's start-up (imports, lifespan)
HAND_TIMEOUT = 30.0        # a connection waits this long for a restarting worker
READY = b"R"               # worker -> parent on its socket: serving


def route_of(key: str, workers: int) -> int:
    """The worker that serves `key` (a session or sweep id): stable across
    processes and restarts (crc32, not Python's per-process salted hash)."""
    if workers <= 1:
        return 0
    return zlib.crc32(key.encode("utf-8", "surrogateescape")) % workers


def key_of_path(path: str) -> Optional[str]:
    """The id a request path is about, or None (route it anywhere).
    Decoded as the app decodes it, so %-escapes cannot steer a request for
    a session to another worker than its owner's."""
    parts = unquote(path).split("/")
    if len(parts) < 3 or parts[0] != "":
        return None
    if len(parts) >= 4 and parts[1] in ("ws", "api") and parts[2] in ("sessions", "sweeps") \
            and parts[3]:
        if parts[1] == "ws" and parts[2] != "sessions":
            return None
        if parts[1:] == ["api", "sessions", "upload"]:
            return None        # a create: round robin
        return parts[3]
    if parts[1] in ("s", "sweeps") and parts[2]:
        return parts[2]
    return None


def key_of_head(head: bytes) -> Optional[str]:
    """The routing key of an HTTP request head (its request line's path)."""
    line = head.split(b"\r\n", 1)[0]
    bits = line.split(b" ")
    if len(bits) != 3:
        return None
    target = bits[1].decode("latin-1")
    if "://" in target[:10]:                 # absolute-form: http://host/path
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    return key_of_path(target.split("?", 1)[0].split("#", 1)[0])


# --- the parent ---------------------------------------------------------------------

class Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self, index: int, argv: list[str], env: dict):
        self.index, self.argv, self.env = index, argv, env
        self.proc: Optional[subprocess.Popen] = None
        self.chan: Optional[socket.socket] = None
        self.ready = asyncio.Event()
        self.started_at = 0.0
        self.restarts = 0

    def spawn(self, loop: asyncio.AbstractEventLoop) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [*self.argv, "--worker-fd", str(child.fileno()), "--worker-index", str(self.index)],
                env=self.env, pass_fds=(child.fileno(),))
        finally:
            child.close()
        self.started_at = time.monotonic()
        parent.setblocking(False)
        self.chan = parent
        loop.add_reader(parent.fileno(), self._readable, loop)

    def _readable(self, loop) -> None:
        try:
            data = self.chan.recv(16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data == READY:
            log.info("worker %d (pid %d) ready", self.index, self.proc.pid)
            self.ready.set()
        elif not data:                  # it exited, or is shutting down
            self.detach(loop)

    def detach(self, loop) -> None:
        self.ready.clear()
        if self.chan is not None:
            # both, before the close: a closed descriptor left registered
            # would clash with the next socket that gets its number
            loop.remove_reader(self.chan.fileno())
            loop.remove_writer(self.chan.fileno())
            self.chan.close()
            self.chan = None

    async def hand(self, loop, conn: socket.socket, head: bytes) -> bool:
        """Pass `conn` (and the head read from it) to this worker; False if
        the worker was not there to take it within HAND_TIMEOUT."""
        deadline = loop.time() + HAND_TIMEOUT
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.ready.wait(), left)
            except TimeoutError:
                return False
            chan = self.chan
            try:
                socket.send_fds(chan, [head], [conn.fileno()])
                return True
            except BlockingIOError:
                # the worker's loop is busy and its queue full: wait for room
                fut = loop.create_future()
                loop.add_writer(chan.fileno(), lambda: fut.done() or fut.set_result(None))
                try:
                    await asyncio.wait_for(fut, max(0.01, deadline - loop.time()))
                except TimeoutError:
                    return False
                finally:
                    if self.chan is chan:       # not detached (and closed) meanwhile
                        loop.remove_writer(chan.fileno())
            except OSError:             # it died between ready and now: wait for the restart
                self.detach(loop)


class Router:
    def __init__(self, listener: socket.socket, workers: list[Worker], head_timeout: float):
        # head_timeout: seconds for a whole request head (settings.router_head_timeout)
        self.listener, self.workers, self.head_timeout = listener, workers, head_timeout
        self.n = len(workers)
        self._rr = itertools.cycle(range(self.n))
        self.pending = 0
        self.stopping = False

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def on_signal():
            self.stopping = True
            stop.set()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        for w in self.workers:
            w.spawn(loop)
        deadline = time.monotonic() + READY_TIMEOUT
        while not all(w.ready.is_set() for w in self.workers):
            dead = [w for w in self.workers if w.proc.poll() is not None]
            if dead or time.monotonic() > deadline or self.stopping:
                if dead:
                    log.error("worker %d exited with %s while starting", dead[0].index,
                              dead[0].proc.returncode)
                elif not self.stopping:
                    log.error("the workers did not start within %.0f s", READY_TIMEOUT)
                await self._stop()
                return 0 if self.stopping and not dead else 1
            await asyncio.sleep(0.05)
        host, port = self.listener.getsockname()[:2]
        log.info("%d workers serving http://%s:%d (Press CTRL+C to quit)", self.n, host, port)
        tasks = {asyncio.create_task(self._accept(loop)), asyncio.create_task(self._watch(loop)),
                 asyncio.create_task(stop.wait())}
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            t.cancel()
        failed = [t.exception() for t in done if not t.cancelled() and t.exception()]
        await self._stop()
        if failed:
            raise failed[0]
        return 0

    async def _accept(self, loop) -> None:
        self.listener.setblocking(False)
        while True:
            try:
                conn, _ = await loop.sock_accept(self.listener)
            except OSError as e:        # e.g. EMFILE: keep serving what is open
                log.warning("accept: %s", e)
                await asyncio.sleep(0.1)
                continue
            if self.pending >= MAX_PENDING:
                conn.close()
                continue
            loop.create_task(self._route(loop, conn))

    async def _route(self, loop, conn: socket.socket) -> None:
        try:
            head = await self._head(loop, conn)
            if head is None:
                return
            key = key_of_head(head)
            index = route_of(key, self.n) if key is not None else next(self._rr)
            if not await self.workers[index].hand(loop, conn, head):
                await _refuse(loop, conn, b"503 Service Unavailable")
        finally:
            conn.close()        # the worker has its own descriptor now

    async def _head(self, loop, conn: socket.socket) -> Optional[bytes]:
        """The request head and whatever came with it; None (the connection
        to be closed) for a head that is too long, too slow, or cut off."""
        self.pending += 1
        try:
            conn.setblocking(False)
            head = b""
            async with asyncio.timeout(self.head_timeout):
                while b"\r\n\r\n" not in head:
                    if len(head) >= MAX_HEAD:
                        await _refuse(loop, conn, b"431 Request Header Fields Too Large")
                        return None
                    got = await loop.sock_recv(conn, MAX_HEAD - len(head))
                    if not got:
                        return None
                    head += got
            return head
        except (TimeoutError, OSError):
            return None
        finally:
            self.pending -= 1

    async def _watch(self, loop) -> None:
        """Restart a worker that exits while the server is up. Its sessions
        are in the store (each step is written before it is answered): the
        new process rebuilds them when they are next asked for."""
        while True:
            await asyncio.sleep(0.1)
            for w in self.workers:
                rc = w.proc.poll()
                if rc is None or self.stopping:
                    continue
                w.detach(loop)
                lived = time.monotonic() - w.started_at
                w.restarts = 0 if lived > 30 else w.restarts + 1
                delay = min(10.0, 0.5 * (2 ** (w.restarts - 1))) if w.restarts else 0.0
                log.warning("worker %d (pid %d) exited with %s; restarting it%s", w.index,
                            w.proc.pid, rc, f" in {delay:.1f} s" if delay else "")
                if delay:
                    await asyncio.sleep(delay)
                if not self.stopping:
                    try:
                        w.spawn(loop)
                    except OSError as e:    # e.g. EAGAIN from fork: the next tick tries again
                        log.error("worker %d could not be started: %s", w.index, e)
                        w.started_at = time.monotonic()     # so that the retries back off

    async def _stop(self) -> None:
        """SIGTERM to every worker (uvicorn's graceful shutdown: open
        WebSockets closed with 1012, the lifespan's end checkpoints the
        store), then wait; SIGKILL what is left after 30 s."""
        self.stopping = True
        self.listener.close()
        for w in self.workers:
            if w.proc is not None and w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for w in self.workers:
            if w.proc is None:
                continue
            while w.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()


async def _refuse(loop, conn: socket.socket, status: bytes) -> None:
    try:
        await asyncio.wait_for(loop.sock_sendall(
            conn, b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"), 1)
    except (OSError, TimeoutError):
        pass


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def run_parent(listener: socket.socket, workers: int, policies: list[str],
               head_timeout: float) -> int:
    """Spawn `workers` copies of `python -m backend serve` in worker mode
    (they inherit the environment: RECLAIMLAB_DATA and the settings) and
    route connections to them until SIGTERM/SIGINT."""
    root = str(Path(__file__).resolve().parent.parent)
    path = [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    argv = [sys.executable, "-m", "backend", "serve", "--workers", str(workers)]
    for d in policies:
        argv += ["--policies", d]
    router = Router(listener, [Worker(i, argv, env) for i in range(workers)], head_timeout)
    return asyncio.run(router.run())


# --- a worker -----------------------------------------------------------------------

class CloseAfterResponse:
    """ASGI middleware: every plain HTTP response says `Connection: close`
    (uvicorn then closes the connection), because only a connection's first
    request was routed; a later one may name another worker's session. The
    response also names the worker (`x-reclaimlab-worker`: its index)."""

    def __init__(self, app, index: int):
        self.app = app
        self.index = str(index).encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_closing(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close"),
                                                  (b"x-reclaimlab-worker", self.index)]}
            await send(message)
        return await self.app(scope, receive, send_closing)


def worker_server(config, chan: socket.socket):
    """A uvicorn.Server that serves the connections its parent hands it on
    `chan` instead of binding a socket. Lifespan and shutdown are uvicorn's."""
    import uvicorn
    from uvicorn.server import STARTUP_FAILURE

    class WorkerServer(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await self.lifespan.startup()
            if self.lifespan.should_exit:
                sys.exit(STARTUP_FAILURE)
            config = self.config

            def create_protocol(_loop=None):      # as uvicorn's own startup builds it
                return config.http_protocol_class(config=config, server_state=self.server_state,
                                                  app_state=self.lifespan.state, _loop=_loop)
            loop = asyncio.get_running_loop()
            self.servers = []
            chan.setblocking(False)
            loop.add_reader(chan.fileno(), self._receive, loop, create_protocol)
            chan.send(READY)
            self.started = True

        def _receive(self, loop, create_protocol) -> None:
            while True:
                try:
                    head, fds, _flags, _ = socket.recv_fds(chan, MAX_HEAD + 1024, 4)
                except BlockingIOError:
                    return
                except OSError:
                    head, fds = b"", []
                if not head and not fds:        # the parent is gone: stop
                    loop.remove_reader(chan.fileno())
                    self.should_exit = True
                    return
                for fd in fds:
                    sock = socket.socket(fileno=fd)
                    loop.create_task(self._serve_handed(loop, create_protocol, sock, head))

        async def _serve_handed(self, loop, create_protocol, sock, head: bytes) -> None:
            def protocol():
                p = create_protocol()
                made = p.connection_made

                def connection_made(transport):
                    # runs before the transport's first read from the socket
                    made(transport)
                    p.data_received(head)
                p.connection_made = connection_made
                return p
            try:
                await loop.connect_accepted_socket(protocol, sock)
            except OSError:
                sock.close()

        async def shutdown(self, sockets=None) -> None:
            try:
                asyncio.get_running_loop().remove_reader(chan.fileno())
            except (ValueError, OSError):
                pass
            chan.close()
            await super().shutdown(sockets)

    return WorkerServer(config)

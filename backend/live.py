"""Serve an ASGI app on an ephemeral 127.0.0.1 port, in a background thread.

The tests (a real uvicorn and real sockets, never a mock transport) and the
benchmarks use it; `reclaimlab serve` is the production entry point. Binding
the socket first and handing it to uvicorn means the port is known before
the server starts and is never raced for.
"""
from __future__ import annotations

import socket
import threading
import time

import uvicorn


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        # permessage-deflate costs ~110 ms per MiB of frame (stack-notes §3)
        settings = getattr(getattr(app, "state", None), "settings", None)
        ws_max = 4 * settings.max_ws_message if settings is not None else 16 << 20
        self.server = uvicorn.Server(uvicorn.Config(app, ws_per_message_deflate=False,
                                                    ws_max_size=ws_max, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> "LiveServer":
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

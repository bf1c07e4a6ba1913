"""Reliability fixtures: the server as a real `python -m backend serve`
subprocess on 127.0.0.1 (so its memory can be read from /proc/<pid>/status
and it can be killed with SIGKILL), and raw-socket helpers for bodies that
an HTTP client library would refuse to send."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
MiB = 1 << 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m backend serve` with RECLAIMLAB_<NAME> settings; stderr (the
    log) goes to a file the tests can read."""

    def __init__(self, data: Path, log_level: str = "warning", extra_args=(), **settings):
        self.data, self.port = Path(data), free_port()
        self.log_path = self.data.parent / f"server-{self.port}.log"
        path = [x for x in (os.environ.get("PYTHONPATH"), str(ROOT)) if x]
        self.env = {**os.environ, "RECLAIMLAB_DATA": str(self.data),
                    "PYTHONPATH": os.pathsep.join(path)}
        for k, v in settings.items():
            self.env["RECLAIMLAB_" + k.upper()] = str(v)
        self.cmd = [sys.executable, "-m", "backend", "serve", "--host", "127.0.0.1",
                    "--port", str(self.port), "--data", str(self.data), *extra_args]
        self.log_level = log_level
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Server":
        env = {**self.env, "UVICORN_LOG_LEVEL": self.log_level}
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.url}/api/limits", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("server did not start")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def status(self, key: str) -> int:
        """A /proc/<pid>/status field in bytes (VmRSS now, VmHWM the peak)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(key)

    def rss(self) -> int:
        return self.status("VmRSS")

    def alive(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/limits", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no WAL checkpoint, as a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(15)
        self._close_log()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_log()

    def _close_log(self) -> None:
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None


def raw_request(port: int, head: str, chunks, read_timeout: float = 30) -> tuple[int, bytes, int]:
    """Send `head` (request line + headers) then the body pieces, stopping
    when the server answers or closes; returns (status, body, bytes sent)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    sent = 0
    try:
        s.sendall(head.encode())
        s.setblocking(False)
        for piece in chunks:
            try:
                if s.recv(1, socket.MSG_PEEK):
                    break            # the server has answered: stop sending
            except BlockingIOError:
                pass
            except OSError:
                break
            s.setblocking(True)
            try:
                s.sendall(piece)
            except OSError:          # reset by the server mid-body
                break
            sent += len(piece)
            s.setblocking(False)
        s.setblocking(True)
        s.settimeout(read_timeout)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < _expected(data):
            try:
                got = s.recv(65536)
            except OSError:
                break
            if not got:
                break
            data += got
    finally:
        s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return status, body, sent


def _expected(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + 4 + int(line.split(b":")[1])
    return len(data)


def chunked(total: int, piece: int = MiB, fill: bytes = b" "):
    """A chunked-encoding body of `total` bytes, one MiB at a time."""
    block = fill * piece
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        yield f"{n:x}\r\n".encode() + block[:n] + b"\r\n"
        sent += n
    yield b"0\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for a module: small limits so a refusal is quick to reach."""
    s = Server(tmp_path_factory.mktemp("data"), max_trace_bytes=8 * MiB,
               memory_budget_bytes=512 * MiB).start()
    yield s
    s.stop()

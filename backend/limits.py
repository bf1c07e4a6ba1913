"""Limits enforced before anything is buffered, and what the logs may say.

- `BodyLimit`: an ASGI middleware that counts request body bytes as they
  arrive and answers 413 at the limit, so neither a 1 GiB JSON body nor a
  1 GiB multipart upload is ever held (or spooled) whole. A declared
  Content-Length over the limit is refused before a byte is read.
- `json_depth_ok()`: a nesting-depth check on raw JSON text that needs no
  parse, so a message of 100,000 '[' gets a clear refusal instead of a
  RecursionError inside json.loads.
- `RedactSecrets`: a logging filter for uvicorn's loggers that replaces the
  value of `token=`-like query parameters in every record, because uvicorn
  logs each request's full path (WebSocket ones too).

Imports no FastAPI: plain ASGI, so it also sits in front of Starlette's own
routing and error handling.
"""
from __future__ import annotations

import json
import logging
import re

# Query keys whose values are secrets: the owner token, under any spelling a
# client may have used.
_SECRET_RE = re.compile(r"(?i)((?:owner_)?token|auth|key|secret|password)=[^&\s\"']*")


def redact(text: str) -> str:
    return _SECRET_RE.sub(r"\1=REDACTED", text)


class RedactSecrets(logging.Filter):
    """Rewrites every string argument (uvicorn passes the path as one) and the
    message itself, so neither the access log nor the WebSocket accept line
    can carry an owner token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


_FILTER = RedactSecrets()


def install_log_redaction() -> None:
    """Idempotent; called at start-up, after uvicorn has configured logging."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        lg = logging.getLogger(name)
        if _FILTER not in lg.filters:
            lg.addFilter(_FILTER)
        for h in lg.handlers:
            if _FILTER not in h.filters:
                h.addFilter(_FILTER)


def json_depth_ok(text: str | bytes, max_depth: int) -> bool:
    """True when no JSON array/object in `text` nests deeper than max_depth.

    Counts brackets outside strings; linear, no recursion, no allocation
    beyond the scan. It does not validate: json.loads does that after."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= max_depth:
        return True   # cannot nest deeper than it has brackets (the common case)
    depth, in_str, esc = 0, False, False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            if depth > max_depth:
                return False
        elif c in "]}":
            depth -= 1
    return True


def _json_error(status: int, detail) -> tuple[dict, bytes]:
    body = json.dumps({"detail": detail}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode()),
                         (b"connection", b"close")]}
    return start, body


class BodyLimit:
    """Refuse request bodies over a limit while they stream in.

    `limits` is a function of the path returning the limit in bytes (uploads
    get max_trace_bytes plus multipart overhead, JSON bodies max_json_body).
    JSON bodies are also checked for nesting depth once whole (they are
    small by then), so FastAPI's parser never recurses into a bomb."""

    def __init__(self, app, limit_of, max_depth: int):
        self.app, self.limit_of, self.max_depth = app, limit_of, max_depth

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.limit_of(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                n = int(declared)
            except ValueError:
                n = -1
            if n > limit:
                return await self._refuse(send, limit)
        # FastAPI parses a body as JSON when it says application/json or
        # application/*+json, or says nothing at all: check all of those.
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        is_json = ctype in (b"", b"application/json") or (
            ctype.startswith(b"application/") and ctype.endswith(b"+json"))
        if is_json:
            return await self._json(scope, receive, send, limit)

        seen = 0
        refused = False

        async def counted():
            nonlocal seen, refused
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    refused = True
                    raise _TooLarge()
            return msg

        started = False

        async def tracked_send(msg):
            # Once refused, whatever the app answers (FastAPI turns a failed
            # multipart parse into a 400) is replaced by the 413.
            nonlocal started
            if refused:
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, tracked_send)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await self._refuse(send, limit)

    async def _json(self, scope, receive, send, limit):
        # Buffer up to the limit only (it is small: max_json_body), then
        # check the depth before anything parses it.
        chunks, seen = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body = msg.get("body", b"")
            seen += len(body)
            if seen > limit:
                return await self._refuse(send, limit)
            chunks.append(body)
            if not msg.get("more_body"):
                break
        data = b"".join(chunks)
        problem = None
        # json.loads() reads bytes in the encoding their first bytes suggest (a
        # leading NUL byte means UTF-16 or UTF-32), so check that one
        encoding = json.detect_encoding(data)
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            # FastAPI would answer a bare 400; every other bad body is a 422
            problem = f"JSON body is not {encoding.upper()}: {e}"
        else:
            if not json_depth_ok(text, self.max_depth):
                problem = f"JSON nested deeper than {self.max_depth} levels"
        if problem is not None:
            start, out = _json_error(422, [{"loc": ["body"], "type": "json_invalid",
                                            "input": None, "msg": problem}])
            await send(start)
            await send({"type": "http.response.body", "body": out})
            return
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send, limit):
        start, body = _json_error(413, f"request body is over this server's limit of "
                                       f"{limit} bytes")
        await send(start)
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass

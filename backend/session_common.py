"""What the session modules share: the errors a session raises, the engine
import, and the `_guarded` wrapper every public Session method runs under."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

class SessionError(Exception):
    """A request the session cannot do; `code` is the protocol's error code."""

    def __init__(self, code: str, message: str, errno: Optional[str] = None):
        super().__init__(message)
        self.code, self.message, self.errno = code, message, errno


class UnknownSession(KeyError):
    def __init__(self, sid: str):
        super().__init__(sid)
        self.sid = sid

    def __str__(self):
        return f"unknown session {self.sid!r}"


class UnknownTrace(KeyError):
    def __str__(self):
        return f"unknown trace {self.args[0]!r}"


def _engine():
    import engine
    return engine


def _guarded(method):
    """Run a public Session method under the session lock; if the engine
    fails unexpectedly, put the engines back to a known state (step 0; any
    step is rebuilt from there) so the next request works."""
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            if self.parked:
                self._unpark()
            try:
                return method(self, *args, **kwargs)
            except SessionError:
                raise
            except Exception as e:
                self._recover()
                if type(e).__name__ == "PolicyHookError":
                    # a plug-in policy failed inside the step: this session's step
                    # ends with its error; the engines are back at a known state
                    raise SessionError("policy", str(e)) from None
                raise
    return wrapper


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, bytes):
        return x.hex()
    return x

"""Exceptions of the engine's Python API that are not configuration errors."""


class DebugfsError(Exception):
    """A write to the simulated /sys/kernel/debug/lru_gen failed as the
    kernel's would: .errno is "EINVAL" or "EEXIST" (the name, not the number)."""

    def __init__(self, errno: str, message: str):
        super().__init__(message)
        self.errno = errno
        self.message = message

    def __str__(self) -> str:
        return f"{self.errno}: {self.message}"

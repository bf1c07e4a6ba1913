"""The session store: an interface, and its SQLite implementation.

What is stored is what makes a session reproducible, not its live state:
the recipe, the command log (run-length: [unit, count, arg]), the owner
token's hash, the parent it was forked from, and uploaded traces. Sweeps
(docs/sweeps.md) keep their spec, their cells' recipes and each finished
cell's counters, keyed by the cell's content hash. Any
server process can rebuild any session from these (DESIGN §4, §6).
Imports no web framework.
"""
from __future__ import annotations

import abc
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: Optional[str], stored_hash: str) -> bool:
    """Constant-time comparison of a presented token against the stored hash."""
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)


def new_id(nbytes: int = 9) -> str:
    return secrets.token_urlsafe(nbytes)


@dataclass
class SessionRecord:
    id: str
    recipe: dict
    owner_hash: str
    log: list = field(default_factory=list)   # [[unit, count, arg], ...]
    nr_steps: int = 0
    parent_id: Optional[str] = None
    parent_step: Optional[int] = None
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class TraceRecord:
    id: str
    filename: str
    sha256: str
    nr_accesses: int
    data: bytes


class Store(abc.ABC):
    """Where sessions and traces live. SQLite here; PostgreSQL could back
    several replicas later with the same methods."""

    @abc.abstractmethod
    def create_session(self, rec: SessionRecord) -> None: ...

    @abc.abstractmethod
    def get_session(self, sid: str) -> Optional[SessionRecord]: ...

    @abc.abstractmethod
    def save_log(self, sid: str, log: list, nr_steps: int) -> None: ...

    @abc.abstractmethod
    def put_trace(self, rec: TraceRecord) -> None: ...

    @abc.abstractmethod
    def get_trace(self, tid: str) -> Optional[TraceRecord]: ...

    # --- sweeps (docs/sweeps.md) ---

    @abc.abstractmethod
    def put_sweep(self, sid: str, name: str, source: str, spec: str, cells: list) -> None:
        """Record a sweep: its spec text and its cells ([{"key", "dims"}])."""

    @abc.abstractmethod
    def get_sweep(self, sid: str) -> Optional[dict]: ...

    @abc.abstractmethod
    def list_sweeps(self) -> list[dict]:
        """Newest first: id, name, source, nr_cells, nr_done, created_at."""

    @abc.abstractmethod
    def sweep_cells_done(self, keys: list) -> set:
        """The keys among `keys` whose result is stored."""

    @abc.abstractmethod
    def put_cell(self, key: str, recipe: dict, result: dict) -> None: ...

    @abc.abstractmethod
    def get_cells(self, keys: list) -> dict:
        """key -> {"recipe", "result"} for the stored ones."""

    @abc.abstractmethod
    def get_cell_session(self, key: str) -> Optional[str]:
        """The id of the interactive session made from a cell's recipe, if any."""

    @abc.abstractmethod
    def put_cell_session(self, key: str, session_id: str) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    recipe TEXT NOT NULL,
    owner_hash TEXT NOT NULL,
    log TEXT NOT NULL DEFAULT '[]',
    nr_steps INTEGER NOT NULL DEFAULT 0,
    parent_id TEXT,
    parent_step INTEGER,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS traces (
    id TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    nr_accesses INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sweeps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    spec TEXT NOT NULL,
    cells TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_cells (
    key TEXT PRIMARY KEY,
    recipe TEXT NOT NULL,
    result TEXT NOT NULL,
    sim_time_ns INTEGER NOT NULL,
    finished_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_cell_sessions (
    key TEXT PRIMARY KEY,
    session_id TEXT NOT NULL
);
"""


class SqliteStore(Store):
    """One file under the data dir, WAL, one connection guarded by a lock
    (a write is ~10 µs: cheaper than any hop to a database thread)."""

    def __init__(self, path: Path | str):
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def create_session(self, rec: SessionRecord) -> None:
        now = time.time()
        rec.created_at = rec.updated_at = now
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions (id, recipe, owner_hash, log, nr_steps, parent_id,"
                " parent_step, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (rec.id, json.dumps(rec.recipe), rec.owner_hash, json.dumps(rec.log),
                 rec.nr_steps, rec.parent_id, rec.parent_step, now, now))

    def get_session(self, sid: str) -> Optional[SessionRecord]:
        with self._lock:
            row = self._db.execute(
                "SELECT id, recipe, owner_hash, log, nr_steps, parent_id, parent_step,"
                " created_at, updated_at FROM sessions WHERE id = ?", (sid,)).fetchone()
        if row is None:
            return None
        return SessionRecord(row[0], json.loads(row[1]), row[2], json.loads(row[3]), row[4],
                             row[5], row[6], row[7], row[8])

    def save_log(self, sid: str, log: list, nr_steps: int) -> None:
        with self._lock:
            self._db.execute("UPDATE sessions SET log = ?, nr_steps = ?, updated_at = ? WHERE id = ?",
                             (json.dumps(log), nr_steps, time.time(), sid))

    def put_trace(self, rec: TraceRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO traces (id, filename, sha256, nr_accesses, data, created_at)"
                " VALUES (?,?,?,?,?,?)",
                (rec.id, rec.filename, rec.sha256, rec.nr_accesses, rec.data, time.time()))

    def get_trace(self, tid: str) -> Optional[TraceRecord]:
        with self._lock:
            row = self._db.execute(
                "SELECT id, filename, sha256, nr_accesses, data FROM traces WHERE id = ?",
                (tid,)).fetchone()
        return None if row is None else TraceRecord(row[0], row[1], row[2], row[3], bytes(row[4]))

    def put_sweep(self, sid: str, name: str, source: str, spec: str, cells: list) -> None:
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO sweeps (id, name, source, spec, cells, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                " source = excluded.source, spec = excluded.spec, updated_at = excluded.updated_at",
                (sid, name, source, spec, json.dumps(cells), now, now))

    def get_sweep(self, sid: str) -> Optional[dict]:
        with self._lock:
            row = self._db.execute("SELECT id, name, source, spec, cells, created_at FROM sweeps"
                                   " WHERE id = ?", (sid,)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "name": row[1], "source": row[2], "spec": row[3],
                "cells": json.loads(row[4]), "created_at": row[5]}

    def list_sweeps(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT id, name, source, cells, created_at FROM sweeps"
                                    " ORDER BY created_at DESC").fetchall()
        out = []
        for r in rows:
            keys = [c["key"] for c in json.loads(r[3])]
            out.append({"id": r[0], "name": r[1], "source": r[2], "nr_cells": len(keys),
                        "nr_done": len(self.sweep_cells_done(keys)), "created_at": r[4]})
        return out

    def sweep_cells_done(self, keys: list) -> set:
        done = set()
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                q = "SELECT key FROM sweep_cells WHERE key IN (%s)" % ",".join("?" * len(part))
                done.update(r[0] for r in self._db.execute(q, part))
        return done

    def put_cell(self, key: str, recipe: dict, result: dict) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO sweep_cells (key, recipe, result, sim_time_ns, finished_at)"
                " VALUES (?,?,?,?,?)",
                (key, json.dumps(recipe, sort_keys=True), json.dumps(result),
                 int(result["derived"]["sim_time_ns"]), time.time()))

    def get_cells(self, keys: list) -> dict:
        out = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                q = ("SELECT key, recipe, result FROM sweep_cells WHERE key IN (%s)"
                     % ",".join("?" * len(part)))
                for k, rec, res in self._db.execute(q, part):
                    out[k] = {"recipe": json.loads(rec), "result": json.loads(res)}
        return out

    def get_cell_session(self, key: str) -> Optional[str]:
        with self._lock:
            row = self._db.execute("SELECT session_id FROM sweep_cell_sessions WHERE key = ?",
                                   (key,)).fetchone()
        return None if row is None else row[0]

    def put_cell_session(self, key: str, session_id: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO sweep_cell_sessions (key, session_id)"
                             " VALUES (?,?)", (key, session_id))

    def close(self) -> None:
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()

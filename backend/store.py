"""The session store: an interface, and its SQLite implementation.

What is stored is what makes a session reproducible, not its live state:
the recipe, the command log (run-length: [unit, count, arg]), the owner
token's hash, the parent it was forked from, and uploaded traces. Sweeps
(docs/sweeps.md) keep their spec, their cells' recipes and each finished
cell's counters, keyed by the cell's content hash. Any
server process can rebuild any session from these (DESIGN §4, §6).

Traces are content-addressed and immutable: the id covers the bytes and the
format they were parsed as, and a row is never replaced. A damaged file is
found at start-up (`PRAGMA quick_check`) and moved aside or refused; a
damaged row raises DamagedRecord for that row only. Imports no web framework.
"""
from __future__ import annotations

import abc
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

log = logging.getLogger("reclaimlab.store")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: Optional[str], stored_hash: str) -> bool:
    """Constant-time comparison of a presented token against the stored hash."""
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)


def new_id(nbytes: int = 9) -> str:
    return secrets.token_urlsafe(nbytes)


def trace_id(data: bytes, fmt: str) -> str:
    """Content address of a trace: its bytes *and* the format they were read
    as. The same bytes read as v1 and as oracleGeneral are two workloads, so
    they get two ids, and neither upload can change what the other names."""
    h = hashlib.sha256(fmt.encode() + b"\0")
    h.update(data)
    return h.hexdigest()[:24]


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
    format: Optional[str] = None   # the parsed format (None: a row from before formats were pinned)


class StoreDamaged(Exception):
    """The database file cannot be used; str() is one line naming it."""


class DamagedRecord(Exception):
    """One row cannot be read back; the rest of the store is fine."""

    def __init__(self, kind: str, rid: str, why: str):
        super().__init__(f"{kind} {rid!r} is damaged in the store: {why}")
        self.kind, self.rid, self.why = kind, rid, why


class Store(abc.ABC):
    """Where sessions and traces live. SQLite here; PostgreSQL could back
    several replicas later with the same methods."""

    @abc.abstractmethod
    def create_session(self, rec: SessionRecord) -> None: ...

    @abc.abstractmethod
    def get_session(self, sid: str) -> Optional[SessionRecord]:
        """None when unknown; DamagedRecord when the row cannot be read."""

    @abc.abstractmethod
    def save_log(self, sid: str, log: list, nr_steps: int) -> None: ...

    @abc.abstractmethod
    def put_trace(self, rec: TraceRecord) -> TraceRecord:
        """Store a trace unless its id is already there; never replaces a row
        (ids are content addresses). Returns the stored record."""

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

    def checkpoint(self) -> None:
        """Make what was written durable and compact (a no-op by default)."""

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
    created_at REAL NOT NULL,
    format TEXT
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
_TABLES = ("sessions", "traces", "sweeps", "sweep_cells", "sweep_cell_sessions")
_UNITS = ("access", "scan", "shrink", "aging", "debugfs")


BUSY_WAIT_S = 10.0    # how long a statement waits for another process's lock


class _Connection(sqlite3.Connection):
    """Retries a statement that found the database locked by another
    process (a sibling worker of `serve --workers N`), waiting 20 µs at
    first and doubling up to 5 ms, for at most BUSY_WAIT_S. SQLite's own
    busy handler sleeps 1 ms, then 2, 5, 10...: measured with two workers in
    a closed loop, ~4.5 % of the per-step writes took over 0.5 ms (1.5 ms on
    average), ~9 % of each worker's time on its event loop; with this
    retry, 0.53 s instead of 0.86 s in a 10 s run. Safe to repeat: every statement here is its own transaction
    (autocommit), and one refused with SQLITE_BUSY did nothing."""

    def execute(self, *args):
        return _retry(super().execute, args)

    def executescript(self, *args):
        return _retry(super().executescript, args)


def _retry(fn, args):
    delay, deadline = 20e-6, None
    while True:
        try:
            return fn(*args)
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            now = time.monotonic()
            deadline = deadline or now + BUSY_WAIT_S
            if now > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 0.005)


def store_path(data_dir) -> Path:
    """The store's file in a data directory (serve, its workers, `reclaimlab store`, sweeps)."""
    return Path(data_dir) / "reclaimlab.sqlite3"


class SqliteStore(Store):
    """One file under the data dir, WAL, one connection guarded by a lock
    (a write is ~10 µs: cheaper than any hop to a database thread)."""

    def __init__(self, path: Path | str, on_damage: str = "move", check: bool = True):
        """Open (or create) the store.

        1. A file that is not a database or fails `PRAGMA quick_check` is,
           by `on_damage`, moved aside ("move": one warning line names both
           files, and a fresh store starts) or refused (StoreDamaged, whose
           message is one line).
        2. An empty (0-byte) file starts a new store, with a warning: it was
           a store once, or someone meant it to be.
        3. Missing tables are recreated, with a warning naming them.

        `check=False` skips step 1: a worker of `serve --workers N` opens a
        file the parent process has checked, while its siblings use it (a
        worker restarted after a crash must not move a live store aside)."""
        path = Path(path)
        self.path = path
        self._lock = threading.Lock()
        memory = str(path) == ":memory:"
        if not memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        existed = not memory and path.exists()
        if existed and path.stat().st_size == 0:
            log.warning("store %s is empty (0 bytes): starting a new store", path)
        self._conn = None
        try:
            self._conn = self._open(path)
            if check:
                self._check()
        except (sqlite3.DatabaseError, StoreDamaged) as e:
            why = (str(e).splitlines() or [type(e).__name__])[0]
            if self._conn is not None:
                self._conn.close()
            if memory or on_damage == "refuse":
                raise StoreDamaged(f"store {path} is damaged ({why}); not starting "
                                   "(store_on_damage=refuse)") from None
            aside = self._move_aside(path)
            log.warning("store %s is damaged (%s): moved aside to %s, starting a new store",
                        path, why, aside)
            self._conn = self._open(path)
        self._create_tables(existed)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        # timeout=0: no SQLite busy handler; _Connection retries instead (below)
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                             timeout=0, factory=_Connection)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _check(self) -> None:
        rows = self._db.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            raise StoreDamaged("; ".join(str(r[0]) for r in rows[:3]))

    @staticmethod
    def _move_aside(path: Path) -> Path:
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
        n = 0
        while aside.exists():
            n += 1
            aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}.{n}")
        os.replace(path, aside)
        for ext in ("-wal", "-shm"):
            side = Path(str(path) + ext)
            if side.exists():
                os.replace(side, Path(str(aside) + ext))
        return aside

    def _create_tables(self, existed: bool) -> None:
        have = {r[0] for r in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if existed and have:
            for t in _TABLES:
                if t not in have:
                    log.warning("store %s had no table %r: recreated it (its rows are lost)",
                                self.path, t)
        self._db.executescript(_SCHEMA)
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(traces)")}
        if "format" not in cols:   # a store from before traces were pinned by format
            self._db.execute("ALTER TABLE traces ADD COLUMN format TEXT")

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
        try:
            recipe, steps = json.loads(row[1]), json.loads(row[3])
            if not isinstance(recipe, dict) or not isinstance(steps, list):
                raise ValueError("recipe or log has the wrong shape")
            if not all(isinstance(e, list) and len(e) == 3 and e[0] in _UNITS
                       and isinstance(e[1], int) and e[1] > 0 for e in steps):
                raise ValueError("a log entry is not [unit, count, arg]")
            if not isinstance(row[4], int) or not isinstance(row[2], str):
                raise ValueError("nr_steps or owner_hash has the wrong type")
            if sum(e[1] for e in steps) != row[4]:
                raise ValueError("log and nr_steps disagree")
        except (ValueError, TypeError) as e:
            raise DamagedRecord("session", sid, str(e)[:200]) from None
        return SessionRecord(row[0], recipe, row[2], steps, row[4],
                             row[5], row[6], row[7], row[8])

    def save_log(self, sid: str, log: list, nr_steps: int) -> None:
        with self._lock:
            self._db.execute("UPDATE sessions SET log = ?, nr_steps = ?, updated_at = ? WHERE id = ?",
                             (json.dumps(log), nr_steps, time.time(), sid))

    def put_trace(self, rec: TraceRecord) -> TraceRecord:
        with self._lock:
            # OR IGNORE, never OR REPLACE: an id is a content address, so a
            # row, once there, is what every recipe naming it was built from.
            self._db.execute(
                "INSERT OR IGNORE INTO traces (id, filename, sha256, nr_accesses, data,"
                " created_at, format) VALUES (?,?,?,?,?,?,?)",
                (rec.id, rec.filename, rec.sha256, rec.nr_accesses, rec.data, time.time(),
                 rec.format))
        return self.get_trace(rec.id)

    def get_trace(self, tid: str) -> Optional[TraceRecord]:
        with self._lock:
            row = self._db.execute(
                "SELECT id, filename, sha256, nr_accesses, data, format FROM traces WHERE id = ?",
                (tid,)).fetchone()
        if row is None:
            return None
        data = row[4]
        if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != row[2]:
            raise DamagedRecord("trace", tid, "its bytes do not match its sha256")
        return TraceRecord(row[0], row[1], row[2], row[3], bytes(data), row[5])

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

    def checkpoint(self) -> None:
        """Fold the WAL into the database (PASSIVE: never waits on readers),
        so a crash replays little and the -wal file stays small."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def backup(self, dest: Path | str) -> None:
        """A consistent copy while the store is in use (SQLite's backup API)."""
        out = sqlite3.connect(str(dest))
        try:
            with self._lock:
                self._db.backup(out)
        finally:
            out.close()

    def integrity(self) -> list[str]:
        """`PRAGMA integrity_check` (the thorough one), then every row read
        back: one line per problem, [] when the store is sound."""
        with self._lock:
            rows = self._db.execute("PRAGMA integrity_check").fetchall()
            sids = [r[0] for r in self._db.execute("SELECT id FROM sessions")]
            tids = [r[0] for r in self._db.execute("SELECT id FROM traces")]
        problems = [] if rows == [("ok",)] else [f"integrity_check: {r[0]}" for r in rows]
        for get, ids in ((self.get_session, sids), (self.get_trace, tids)):
            for rid in ids:
                try:
                    get(rid)
                except DamagedRecord as e:
                    problems.append(str(e))
        return problems

    def counts(self) -> dict:
        with self._lock:
            return {t: self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in _TABLES}

    @property
    def _db(self) -> sqlite3.Connection:
        # A closed store reopens on its next use: an app's lifespan can end
        # and start again in one process (in-process ASGI test clients).
        if self._conn is None:
            self._conn = self._open(self.path)
        return self._conn

    def close(self) -> None:
        """Checkpoint the WAL into the file and release it (no -wal/-shm left)."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._conn.close()
                self._conn = None

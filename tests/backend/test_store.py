"""The SQLite store: sessions, logs, traces and owner tokens survive a reopen."""
from __future__ import annotations

import hashlib

from backend.store import (SessionRecord, SqliteStore, TraceRecord, hash_token, token_matches,
                           trace_id)


def test_sessions_logs_and_traces_survive_reopening_the_file(tmp_path):
    path = tmp_path / "s.sqlite3"
    st = SqliteStore(path)
    st.create_session(SessionRecord(id="a", recipe={"seed": 3}, owner_hash=hash_token("t")))
    st.save_log("a", [["scan", 4, None], ["debugfs", 1, {"text": "+ 0 0 4", "panes": [0]}]], 5)
    st.put_trace(TraceRecord(id="tr", filename="x.trace", sha256=hashlib.sha256(b"A 0 1\n").hexdigest(),
                             nr_accesses=2, data=b"A 0 1\n", format="v1"))
    st.close()
    st = SqliteStore(path)
    rec = st.get_session("a")
    assert rec.recipe == {"seed": 3} and rec.nr_steps == 5
    assert rec.log == [["scan", 4, None], ["debugfs", 1, {"text": "+ 0 0 4", "panes": [0]}]]
    assert st.get_trace("tr").data == b"A 0 1\n" and st.get_trace("tr").format == "v1"
    assert st.get_session("b") is None and st.get_trace("nope") is None
    assert st._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    st.close()


def test_owner_token_is_stored_only_as_a_hash_and_checked(tmp_path):
    st = SqliteStore(tmp_path / "s.sqlite3")
    st.create_session(SessionRecord(id="a", recipe={}, owner_hash=hash_token("secret")))
    raw = (tmp_path / "s.sqlite3").read_bytes() + (tmp_path / "s.sqlite3-wal").read_bytes()
    assert b"secret" not in raw
    h = st.get_session("a").owner_hash
    assert token_matches("secret", h)
    assert not token_matches("Secret", h) and not token_matches("", h) and not token_matches(None, h)
    st.close()


def test_a_trace_row_is_never_replaced_and_its_id_covers_the_format(tmp_path):
    st = SqliteStore(tmp_path / "s.sqlite3")
    data = b"A 0 1\n"
    sha = hashlib.sha256(data).hexdigest()
    first = st.put_trace(TraceRecord(trace_id(data, "v1"), "a.trace", sha, 1, data, "v1"))
    again = st.put_trace(TraceRecord(trace_id(data, "v1"), "evil.oracleGeneral", sha, 1, data, "v1"))
    assert again == first and again.filename == "a.trace"      # OR IGNORE, not OR REPLACE
    assert trace_id(data, "v1") != trace_id(data, "oracleGeneral") != trace_id(data, "blocks")
    st.close()


def test_a_write_waits_for_another_processes_lock_and_gives_up_after_busy_wait(tmp_path, monkeypatch):
    """Two connections to one file (the workers of `serve --workers N`): a
    write that finds the other's write lock retries until it is released,
    and fails with 'database is locked' only after BUSY_WAIT_S."""
    import sqlite3
    import threading
    import time

    import pytest

    from backend import store as store_mod
    path = tmp_path / "s.sqlite3"
    st = SqliteStore(path)
    st.create_session(SessionRecord(id="a", recipe={}, owner_hash=hash_token("t")))
    other = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")            # holds the write lock, as a sibling's write does
    threading.Timer(0.2, lambda: other.execute("COMMIT")).start()
    t0 = time.monotonic()
    st.save_log("a", [["scan", 3, None]], 3)    # waits, then succeeds
    assert 0.15 < time.monotonic() - t0 < 2
    assert st.get_session("a").nr_steps == 3
    other.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(store_mod, "BUSY_WAIT_S", 0.3)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        st.save_log("a", [["scan", 4, None]], 4)
    other.execute("COMMIT")
    other.close()
    assert st.get_session("a").nr_steps == 3
    st.close()

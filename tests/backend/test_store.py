"""The SQLite store: sessions, logs, traces and owner tokens survive a reopen."""
from __future__ import annotations

from backend.store import SessionRecord, SqliteStore, TraceRecord, hash_token, token_matches


def test_sessions_logs_and_traces_survive_reopening_the_file(tmp_path):
    path = tmp_path / "s.sqlite3"
    st = SqliteStore(path)
    st.create_session(SessionRecord(id="a", recipe={"seed": 3}, owner_hash=hash_token("t")))
    st.save_log("a", [["scan", 4, None], ["debugfs", 1, {"text": "+ 0 0 4", "panes": [0]}]], 5)
    st.put_trace(TraceRecord(id="tr", filename="x.trace", sha256="00", nr_accesses=2, data=b"A 0 1\n"))
    st.close()
    st = SqliteStore(path)
    rec = st.get_session("a")
    assert rec.recipe == {"seed": 3} and rec.nr_steps == 5
    assert rec.log == [["scan", 4, None], ["debugfs", 1, {"text": "+ 0 0 4", "panes": [0]}]]
    assert st.get_trace("tr").data == b"A 0 1\n"
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

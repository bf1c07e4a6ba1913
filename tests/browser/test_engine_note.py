"""A session recorded by another engine says so: the page compares the engine
that recorded it (the stored recipe's engine_version and engine_config) with the
one replaying it (the hello's engine_version) and names the machine keys that
changed."""
import json
import sqlite3

from browser_helpers import LiveServer, open_session, recipe


def test_a_link_recorded_by_an_older_engine_names_both_engines_and_the_changed_keys(page, tmp_path):
    data = tmp_path / "data"
    with LiveServer(data) as first:
        created = first.create(recipe(ram_pages=16384, guest=True, swap_kind="ssd", swap_pages=8192,
                                      accesses=20000))
        open_session(page, first, created, owner=False)
        assert page.locator("#engine-note").is_hidden()
    # the store as engine 0.7.3 left it: another version, no holes in its machine
    db = next(data.glob("*.sqlite3"))
    with sqlite3.connect(db) as con:
        stored = json.loads(con.execute("SELECT recipe FROM sessions WHERE id = ?", (created["id"],)).fetchone()[0])
        stored["engine_version"] = "0.7.3"
        holes = stored["engine_config"][0].pop("zone_dma_holes")
        con.execute("UPDATE sessions SET recipe = ? WHERE id = ?", (json.dumps(stored), created["id"]))
    with LiveServer(data) as second:
        open_session(page, second, created, owner=False)
        note = page.locator("#engine-note")
        note.wait_for(state="visible")
        text = note.inner_text()
        assert text.startswith("Recorded with engine 0.7.3, replayed here by engine ")
        assert f"pane 1: zone_dma_holes 0 → {holes}" in text

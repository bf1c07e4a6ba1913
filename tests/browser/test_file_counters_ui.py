"""The counters panel's per-file table: each file's refaults and reads, from
the engine's file_counters(), so hot.db's refaults stand apart from stream.log's."""
from browser_helpers import open_session, recipe, wait_step


def _session(server, sid):
    return server.app.state.manager.get(sid)


def test_counters_panel_shows_each_files_refaults_and_reads_in_compare_mode(page, server):
    created = server.create(recipe(policies=("lru_gen", "lru"), scenario="hot-reread-stream",
                                   ram_pages=16384, accesses=60000))
    open_session(page, server, created)
    # run until MGLRU's pane (A) refaults a hot.db page (run-until, as a reviewer would)
    page.get_by_text("Run until…", exact=True).click()
    page.get_by_label("stop at").select_option(label="the next refault (workingset_refault)")
    page.get_by_label("of which pages").select_option(label="file hot.db (0)")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("status").filter(has_text="Run until: found").wait_for(timeout=60000)
    step = int(page.locator(".pane canvas.base").first.get_attribute("data-step"))
    wait_step(page, step, 1)
    page.wait_for_selector('#counters table.files tr[data-file="hot.db"]')
    s = _session(server, created["id"])
    with s.lock:
        s._goto(step)
        truth = [sim.file_counters() for sim in s.sims]
    names = s.owner_names()["file"]
    hot = names.index("hot.db")
    cells = page.locator('#counters table.files tr[data-file="hot.db"] td').all_inner_texts()
    as_int = lambda t: int(t.replace(",", ""))
    assert [as_int(c) for c in cells[1:]] == [truth[0][hot]["refaults"], truth[1][hot]["refaults"],
                                              truth[0][hot]["reads"], truth[1][hot]["reads"]]
    assert truth[0][hot]["refaults"] + truth[1][hot]["refaults"] > 0
    stream = page.locator('#counters table.files tr[data-file="stream.log"] td').all_inner_texts()
    assert stream[1:3] == ["0", "0"]          # a use-once stream never refaults

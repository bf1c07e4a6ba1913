"""Issue #9 in a real browser: share links pin their history (the owner may
go back and branch, the link still opens the same state and folio), and an
evicted folio is explained from a fresh link."""
from __future__ import annotations

import re

from browser_helpers import fresh_browser_page, open_session, permalink, recipe, step_until_reclaimed, wait_step


def counter(page, name, col=1):
    return page.locator(f'#counters tr[data-name="{name}"] td').nth(col).inner_text()


def inspector_pfn(page):
    m = re.search(r"pfn (\d+)", page.locator("#inspector").inner_text())
    return int(m.group(1)) if m else None


def test_a_link_made_at_step_n_keeps_opening_it_after_the_owner_branches(page, server, browser, errors):
    created = server.create(recipe(scenario="stream-hot-file"))
    open_session(page, server, created)
    for n in range(1, 7):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
    row = page.locator("#event-log li[data-pfn]").first
    pfn = int(row.get_attribute("data-pfn"))
    row.click()
    page.wait_for_function("pfn => document.querySelector('#inspector').innerText.includes('pfn ' + pfn)", arg=pfn)
    before = {name: counter(page, name) for name in ("pgscan_kswapd", "pgsteal_kswapd", "nr_free_pages")}
    link = permalink(page)
    assert "step=6" in link and f"folio={pfn}" in link and created["id"] not in link
    assert created["owner_token"] not in link

    # The owner goes back to step 3 and steps: a confirmation, then a branch.
    for n in (5, 4, 3):
        page.keyboard.press("ArrowLeft")
        wait_step(page, n)
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#branch-confirm:not([hidden])")
    assert "steps 4–6 are kept" in page.locator("#branch-text").inner_text()
    assert page.locator("#nr-steps").inner_text() == "6", "nothing is dropped before the answer"
    page.locator("#unit").select_option("access")
    page.click("#branch-yes")
    wait_step(page, 4)
    page.wait_for_function("document.querySelector('#nr-steps').textContent === '4'")
    kept = page.locator("#kept-note a")
    assert kept.count() == 1 and "steps 0–6" in kept.inner_text()
    for n in (5, 6):   # the new branch goes on past the old head
        page.keyboard.press("ArrowRight")
        wait_step(page, n)

    with fresh_browser_page(browser, errors) as other:
        other.goto(link)
        other.wait_for_selector(".pane canvas.base[data-step='6']")
        other.wait_for_function("pfn => document.querySelector('#inspector').innerText.includes('pfn ' + pfn)", arg=pfn)
        assert {name: counter(other, name) for name in before} == before
        assert other.locator("#nr-steps").inner_text() == "6"
        assert "pinned link (read-only" in other.locator("#session-info").inner_text()
        # the kept branch opens too, with the same counters at its head
        other.goto(kept.get_attribute("href"))
        other.wait_for_selector(".pane canvas.base[data-step='6']")
        assert {name: counter(other, name) for name in before} == before
    # and the owner's own branch at step 6 is a different state
    assert counter(page, "pgscan_kswapd") != before["pgscan_kswapd"] or \
        counter(page, "nr_free_pages") != before["nr_free_pages"]


def test_an_evicted_page_is_explained_here_after_a_step_and_from_a_fresh_link(page, server, browser, errors):
    created = server.create(recipe(scenario="stream-hot-file"))
    open_session(page, server, created)
    n, reclaimed = step_until_reclaimed(page, 3)
    reclaimed.last.click()
    page.wait_for_function("document.querySelector('#inspector').innerText.includes('verdict')")
    text = page.locator("#inspector").inner_text()
    name = re.search(r"file (\S+) \((\d+)\) pgoff (\d+)", text)
    assert name, text          # the page by its scenario file name, not "file 0"
    assert "Evicted from pfn" in text and "eviction stamp" in text and "shadow entry" in text
    assert re.search(r"refault distance \d+ (≤|>) workingset size \d+", text), text
    assert f"page=f{name.group(2)}.{name.group(3)}" in page.url
    # a step later the inspector answers for the new step, still about that page
    page.keyboard.press("ArrowRight")
    wait_step(page, n + 1)
    page.wait_for_function("n => document.querySelector('#inspector').innerText.includes('at step ' + n)", arg=n + 1)
    assert name.group(0) in page.locator("#inspector").inner_text()
    page.keyboard.press("ArrowLeft")
    wait_step(page, n)
    page.wait_for_function("n => document.querySelector('#inspector').innerText.includes('at step ' + n)", arg=n)
    link = permalink(page)

    with fresh_browser_page(browser, errors) as other:
        other.goto(link)
        other.wait_for_function("document.querySelector('#inspector').innerText.includes('verdict')")
        got = other.locator("#inspector").inner_text()
        assert name.group(0) in got and "eviction stamp" in got
        # a fresh viewer's index holds only step n: the rest comes from replay
        assert "reconstructed by replay" in got
        steps = [int(x) for x in re.findall(r"^step (\d+):", got, re.M)]
        assert steps and min(steps) < n, got


def test_run_until_the_next_eviction_of_a_file_lands_on_it(page, server):
    import httpx
    created = server.create(recipe(scenario="stream-hot-file"))
    open_session(page, server, created)
    page.keyboard.press("u")
    page.select_option("#run-cond", "evict")
    page.select_option("#run-who", label="file hot.db (0)")
    page.click("#run-go")
    page.wait_for_function("document.querySelector('#status').dataset.run === 'found'", timeout=30000)
    step = int(page.locator("#seek").input_value())
    assert step > 0
    wait_step(page, step)
    page.wait_for_function("document.querySelector('#inspector').innerText.includes('file hot.db')")
    sel = page.locator("#event-log li.sel")
    assert sel.filter(has_text="reclaim").count() == 1, "the eviction it stopped at is selected"
    text = page.locator("#inspector").inner_text()
    assert re.search(r"at step %d\b" % step, text) and "eviction stamp" in text
    h = httpx.get(f"{server.url}/api/sessions/{created['id']}/history").json()
    assert h["nr_steps"] == step


def test_a_long_run_shows_progress_ignores_keys_and_cancels(page, server):
    import httpx
    created = server.create(recipe(scenario="anon-loop", accesses=2_000_000, ram_pages=4096))
    open_session(page, server, created)
    page.locator("#unit").select_option("access")
    page.keyboard.press("u")
    page.select_option("#run-cond", "changes")
    page.fill("#run-counter", "oom_kill")       # never changes here: a long search, access by access
    page.click("#run-go")
    page.wait_for_selector("#busy:not([hidden])")
    page.wait_for_function("Number(document.querySelector('#busy-progress').value) > 0", timeout=20000)
    assert "run until:" in page.locator("#busy-text").inner_text()
    assert page.locator("#step").is_disabled()
    for _ in range(3):
        page.keyboard.press("ArrowRight")        # dropped, not queued
    page.click("#busy-cancel")
    page.wait_for_function("document.querySelector('#status').dataset.run === 'cancelled'", timeout=20000)
    assert page.locator("#busy").is_hidden()
    n = int(page.locator("#nr-steps").inner_text())
    assert n > 0
    wait_step(page, n)
    page.wait_for_timeout(1500)                  # nothing queued runs afterwards
    h = httpx.get(f"{server.url}/api/sessions/{created['id']}/history").json()
    assert h["nr_steps"] == n == int(page.locator("#seek").input_value())
    assert page.locator("#step").is_enabled()


def data_scan(page, step):
    d = page.evaluate("window.reclaimlab.plotData(1)")
    return d[1][d[0].index(step)]


def test_a_link_recipients_plots_show_the_whole_run_hover_and_click_to_seek(page, server, browser, errors):
    created = server.create(recipe(scenario="anon-loop"))
    open_session(page, server, created)
    page.locator("#unit").select_option("scan")
    for n in range(1, 31):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
    for n in range(29, 4, -1):
        page.keyboard.press("ArrowLeft")
        wait_step(page, n)
    link = permalink(page)
    assert "step=5" in link
    with fresh_browser_page(browser, errors) as other:
        other.goto(link.replace("step=5", "step=3"))
        other.wait_for_selector(".pane canvas.base[data-step='3']")
        other.wait_for_function("document.querySelector('#plots').dataset.timeline === '5'")
        other.wait_for_function("(window.reclaimlab.plotData(1) || [[]])[0].length === 6")
        # the pinned history is steps 0..5: every one is on the plots, not just step 3
        data = other.evaluate("window.reclaimlab.plotData(1)")
        assert data[0] == [0, 1, 2, 3, 4, 5]
        assert any(v for v in data[1][4:] if v), "scans after the recipient's step are drawn"
        # the owner's session: the whole 30-step run, though the page was opened at step 5
        other.goto(f"{server.url}/s/{created['id']}?step=5")
        other.wait_for_function("document.querySelector('#plots').dataset.timeline === '30'")
        other.wait_for_function("(window.reclaimlab.plotData(3) || [[]])[0].length === 31")
        data = other.evaluate("window.reclaimlab.plotData(3)")
        assert data[0][0] == 0 and data[0][-1] == 30 and len(data[0]) == 31
        # hover: the legend shows the step and the values under the pointer
        over = other.locator("#plots .plot .u-over").nth(1)
        over.scroll_into_view_if_needed()
        box = over.bounding_box()
        legend = "[...document.querySelectorAll('#plots .plot')][1].querySelectorAll('.u-series .u-value')"
        other.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
        other.wait_for_function(f"/^\\d+$/.test({legend}[0].textContent) && Number({legend}[0].textContent) <= 6")
        other.mouse.move(box["x"] + box["width"] * 0.95, box["y"] + box["height"] / 2)
        other.wait_for_function(f"Number({legend}[0].textContent) >= 26")
        scanned = other.evaluate(f"{legend}[1].textContent")
        at = int(other.evaluate(f"{legend}[0].textContent"))
        assert float(scanned.replace(",", "")) == data_scan(other, at)
        # click to seek
        other.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
        other.wait_for_function("Number(document.querySelector('#seek').value) > 15")
        step = int(other.locator("#seek").input_value())
        other.wait_for_selector(f".pane canvas.base[data-step='{step}']")


def test_an_evicted_mglru_folio_says_why_with_its_numbers_here_and_from_a_fresh_link(page, server, browser, errors):
    created = server.create(recipe(policies=("lru_gen",), scenario="stream-hot-file"))
    open_session(page, server, created)
    n, reclaimed = step_until_reclaimed(page, 3)
    reclaimed.last.click()
    page.wait_for_function("document.querySelector('#inspector').innerText.includes('why evicted')")
    why = page.locator("#inspector .why-evicted").inner_text()
    # sort_folio()'s branch with the folio's refs and tier, the generation and its age, and the PID numbers
    sentence = (r"sort_folio\(\) found it in gen \d \(seq (\d+), (\d+) generations? old; min_seq (\d+), max_seq (\d+)\): "
                r"refs \d, tier \d.*tier \d ≤ tier_idx \d.*not protected.*"
                r"PID get_tier_idx\(\): .*\d+\.\d\d %.*→ tier_idx \d")
    m = re.search(sentence, why)
    assert m, why
    seq, age, _, max_seq = (int(x) for x in m.groups())
    assert age == max_seq - seq
    assert "folio_check_references(): " in why and "young PTE" in why
    # the event log's row for that isolation says the same numbers
    link = permalink(page)
    with fresh_browser_page(browser, errors) as other:
        other.goto(link)
        other.wait_for_function("document.querySelector('#inspector').innerText.includes('why evicted')")
        got = other.locator("#inspector .why-evicted").inner_text()
        assert got == why

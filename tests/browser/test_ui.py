"""The visualizer in a real browser against the real server: create, step,
back, share, compare, keyboard, form errors — and a screenshot of each view
under artifacts/screenshots/ (look at them)."""
from __future__ import annotations

import re

from browser_helpers import fresh_browser_page, open_session, recipe, shot, wait_step


def lane_label(page, pane=0):
    return page.locator(".pane canvas.base").nth(pane).get_attribute("aria-label")


def counter(page, name, col=1):
    return page.locator(f'#counters tr[data-name="{name}"] td').nth(col).inner_text()


def test_start_form_bad_value_shows_its_error_and_blocks_submit(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#scenario-list .scenario")
    assert page.locator("#scenario-list .scenario").count() >= 8
    assert page.locator("#scenario-list .scenario p").first.inner_text().strip(), "each scenario says what to watch"
    params = page.locator("#scenario-list .scenario p.params").first.inner_text()
    assert re.search(r"default run: [\d,]+ accesses", params) and re.search(r"size = 1\.2 \(0\.05–8", params), params
    # a first-time visitor is told what to do, and the button is on screen at 1280x720
    assert "Start session" in page.locator(".start .intro").inner_text()
    box = page.locator("#start-submit").bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"], box
    submit = page.locator("#start-submit")
    assert submit.is_enabled()
    page.fill("#f-swappiness", "300")
    err = page.locator('.field-error[data-for="swappiness"]')
    assert "at most 200" in err.inner_text()
    assert page.locator("#f-swappiness").get_attribute("aria-invalid") == "true"
    assert submit.is_disabled()
    page.fill("#f-swap-mb", "x")
    assert "whole number" in page.locator('.field-error[data-for="swap_mb"]').inner_text()
    page.fill("#f-swappiness", "100")
    page.fill("#f-swap-mb", "4")
    assert err.inner_text() == ""
    assert submit.is_enabled()
    shot(page, "start-form")


def test_create_from_form_then_step_a_scan_moves_folios_and_counters(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#scenario-list .scenario")
    page.check('#scenario-list input[value="stream-hot-file"]')
    page.fill("#f-ram", "8")
    page.fill("#f-swap-mb", "4")
    page.fill("#f-accesses", "200000")
    page.select_option("#f-policy", "lru")
    page.click("#start-submit")
    page.wait_for_url(re.compile(r"/s/[^/?]+\?step=0"))
    wait_step(page, 0)
    before = lane_label(page)
    assert "LRU_INACTIVE_FILE" in before
    page.click("#step")
    wait_step(page, 1)
    after = lane_label(page)
    assert after != before, "a scan step changes the lists"
    log = page.locator("#event-log li[data-pfn]")
    assert log.count() > 0
    text = page.locator("#event-log").inner_text()
    assert "isolate" in text, text[:500]
    assert re.search(r"\w+\(\)", text), "each decision names its kernel function"
    scanned = page.locator("#counters tr.changed").all_inner_texts()
    assert any(re.match(r"pgscan_(kswapd|direct)", r) for r in scanned), scanned
    assert "step 1" in page.locator("#status").inner_text()
    # every plot names its x axis (step) and what its y axis counts
    labels = [page.locator("#plots .plot").nth(i).get_attribute("aria-label") for i in range(4)]
    assert all("x axis step, y axis " in s for s in labels), labels
    assert any(s.endswith("y axis pages per step") for s in labels), labels
    page.wait_for_timeout(1300)  # let the animation finish before the screenshot
    shot(page, "classic-lists")
    # back: the previous state comes back exactly
    page.click("#back")
    wait_step(page, 0)
    assert lane_label(page) == before


def test_event_click_highlights_folio_and_opens_inspector(page, server, browser, errors):
    created = server.create(recipe())
    open_session(page, server, created)
    page.click("#step")
    wait_step(page, 1)
    row = page.locator("#event-log li[data-pfn]").first
    pfn = row.get_attribute("data-pfn")
    row.click()
    page.wait_for_function("pfn => document.querySelector('#inspector').innerText.includes('pfn ' + pfn)", arg=pfn)
    assert "sel" in (row.get_attribute("class") or "")
    hist = re.search(r"history \((\d+) events", page.locator("#inspector").inner_text())
    assert hist and int(hist.group(1)) >= 1, "the folio's own events of this step are in its history"
    assert f"folio={pfn}" in page.url
    # The share URL carries the selected folio: a fresh browser inspects it too.
    url = page.locator("#share").get_attribute("data-url")
    assert f"folio={pfn}" in url
    with fresh_browser_page(browser, errors) as other:
        other.goto(url)
        other.wait_for_function("pfn => document.querySelector('#inspector').innerText.includes('pfn ' + pfn)", arg=pfn)
        assert other.locator(f"#event-log li.sel[data-pfn='{pfn}']").count() >= 1


def test_evicted_folio_shows_shadow_and_refault_distance(page, server):
    created = server.create(recipe(scenario="stream-hot-file"))
    open_session(page, server, created)
    reclaimed = page.locator("#event-log li[data-pfn]", has_text="reclaim")
    for n in range(1, 30):
        page.click("#step")
        wait_step(page, n)
        if reclaimed.count():
            break
    assert reclaimed.count(), "no folio was reclaimed in 30 scan steps"
    reclaimed.last.click()
    page.wait_for_function("document.querySelector('#inspector').innerText.includes('refault distance')")
    text = page.locator("#inspector").inner_text()
    assert "shadow" in text
    assert "workingset size" in text
    assert re.search(r"verdict\s+refault distance \d+ (<=|≤|>) workingset size \d+", text), text
    page.wait_for_timeout(1200)
    shot(page, "inspector-evicted")


def test_clicking_a_folio_highlights_its_events(page, server):
    created = server.create(recipe(scenario="anon-loop"))
    open_session(page, server, created)
    for n in (1, 2, 3):
        page.click("#step")
        wait_step(page, n)
    page.wait_for_timeout(1200)  # the animation hides moved folios until it ends
    pfns = page.locator("#event-log li[data-pfn]").evaluate_all("els => els.map((e) => Number(e.dataset.pfn))")
    target = pos = None
    for pfn in pfns:
        pos = page.evaluate("pfn => window.reclaimlab.locate(0, pfn)", pfn)
        if pos:
            target = pfn
            break
    assert target is not None, "some folio of this step is still on a list"
    page.locator(".pane canvas.base").click(position={"x": pos["x"] + 1, "y": pos["y"] + 1})
    page.wait_for_function("pfn => document.querySelector('#inspector').innerText.includes('pfn ' + pfn)", arg=target)
    sel = page.locator("#event-log li.sel")
    assert sel.count() >= 1
    assert {int(x) for x in sel.evaluate_all("els => els.map((e) => e.dataset.pfn)")} == {target}


def test_share_url_restores_the_same_step_in_a_fresh_browser(page, server, browser, errors):
    created = server.create(recipe())
    open_session(page, server, created)
    for n in (1, 2, 3):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
    url = page.locator("#share").get_attribute("data-url")
    assert url.endswith("/s/%s?step=3" % created["id"]) or "step=3" in url
    assert created["owner_token"] not in url
    label = lane_label(page)
    pgscan = counter(page, "pgscan_kswapd")
    with fresh_browser_page(browser, errors) as other:
        other.goto(url)
        other.wait_for_selector(".pane canvas.base[data-step='3']")
        assert lane_label(other) == label
        assert counter(other, "pgscan_kswapd") == pgscan
        assert "viewer" in other.locator("#session-info").inner_text()
        assert other.locator("#step").is_disabled(), "a viewer at the last recorded step cannot extend it"
        other.keyboard.press("ArrowLeft")
        other.wait_for_selector(".pane canvas.base[data-step='2']")
        assert other.locator("#step").is_enabled(), "below the head a viewer walks the history"


def test_compare_mode_shows_two_panes(page, server):
    created = server.create(recipe(policies=("lru", "lru_gen")))
    open_session(page, server, created)
    assert page.locator(".pane").count() == 2
    assert page.locator(".pane").nth(0).get_attribute("data-policy") == "lru"
    assert page.locator(".pane").nth(1).get_attribute("data-policy") == "lru_gen"
    page.click("#step")
    wait_step(page, 1, pane=0)
    wait_step(page, 1, pane=1)
    assert "max_seq" in lane_label(page, 1)
    assert "pane A" in page.locator("#log-count").inner_text()
    page.click("#log-panes button[data-pane='1']")
    page.wait_for_function("document.querySelector('#log-count').innerText.includes('pane B')")
    # both policies on each plot
    legend = page.locator("#plots").inner_text()
    assert " A" in legend and " B" in legend
    page.wait_for_timeout(1300)
    shot(page, "compare")


def test_keyboard_shortcuts_step_back_view_and_help(page, server):
    # anon-loop ages early; a file stream can hold MGLRU at four generations.
    created = server.create(recipe(policies=("lru_gen",), scenario="anon-loop"))
    open_session(page, server, created)
    page.keyboard.press("2")
    page.keyboard.press("ArrowRight")
    wait_step(page, 1)
    page.keyboard.press("n")
    wait_step(page, 2)
    page.keyboard.press("b")
    wait_step(page, 1)
    page.keyboard.press("4")
    assert page.locator("#unit").input_value() == "aging"
    seq_before = re.search(r"max_seq (\d+)", lane_label(page)).group(1)
    page.keyboard.press("ArrowRight")   # below the head: the owner confirms a branch
    page.wait_for_selector("#branch-confirm:not([hidden])")
    page.click("#branch-yes")
    wait_step(page, 2)
    seq_after = re.search(r"max_seq (\d+)", lane_label(page)).group(1)
    assert int(seq_after) == int(seq_before) + 1, "an aging step produces a new max_seq"
    page.wait_for_timeout(1300)
    shot(page, "mglru-generations")
    # debugfs: '+ memcg node max_seq' ages once; a bad write names its errno.
    page.fill(".debugfs input", f"+ 0 0 {seq_after}")
    page.press(".debugfs input", "Enter")
    wait_step(page, 3)
    assert re.search(r"max_seq (\d+)", lane_label(page)).group(1) == str(int(seq_after) + 1)
    # should_run_aging()'s verdict on what the pane shows: a few words in its
    # subtitle, the sentence with the counts in the title and the description
    sub = page.locator(".pane .sub").first
    assert re.search(r" · (ages next: |evicts: over 3 generations|no aging: )", sub.inner_text()), sub.inner_text()
    assert sub.get_attribute("title").startswith("should_run_aging(): ")
    assert "should_run_aging(): " in lane_label(page)
    page.fill(".debugfs input", "+ 0 0 999")
    page.press(".debugfs input", "Enter")
    page.wait_for_function("document.querySelector('#status').dataset.error === 'debugfs'")
    assert re.search(r"EINVAL|EEXIST", page.locator("#toast").inner_text()), page.locator("#toast").inner_text()
    page.locator(".pane canvas.base").click(position={"x": 5, "y": 5})  # leave the input for the shortcuts
    page.keyboard.press("h")
    page.wait_for_selector(".pane canvas.base[data-view='hardware']")
    shot(page, "hardware")
    page.keyboard.press("l")
    page.wait_for_selector(".pane canvas.base[data-view='generations']")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    assert "play / pause" in page.locator("#help").inner_text()
    shot(page, "help")
    page.keyboard.press("Escape")
    assert not page.locator("#help").is_visible()
    page.keyboard.press("t")
    page.wait_for_function("document.querySelector('#text-out').textContent.length > 0")
    text = page.locator("#text-out").text_content()
    assert "lru_gen" in text
    assert all(len(line) <= 80 for line in text.split("\n")), text


def test_play_advances_and_pause_stops(page, server):
    created = server.create(recipe())
    open_session(page, server, created)
    page.keyboard.press("1")
    page.keyboard.press("+")
    page.keyboard.press("+")
    page.keyboard.press(" ")
    page.wait_for_function("Number(document.querySelector('#seek').value) >= 3", timeout=20000)
    page.keyboard.press(" ")
    page.wait_for_function("document.querySelector('#play').getAttribute('aria-pressed') === 'false'")
    n = int(page.locator("#seek").input_value())
    page.wait_for_timeout(600)
    assert int(page.locator("#seek").input_value()) <= n + 1


def test_unknown_session_share_url_says_so(context, server):
    p = context.new_page()
    resp = p.goto(server.url + "/s/doesnotexist?step=3")
    assert resp.status == 404
    assert p.locator("h1").inner_text() == "No session doesnotexist here"
    assert "does not have" in p.locator("#gone").inner_text()


def test_large_machine_hardware_view_zooms_into_a_pfn_range(page, server):
    # 64 Ki frames: above the 16,384-frame limit for list order, so drawn aggregated.
    created = server.create(recipe(ram_pages=65536, accesses=100000))
    open_session(page, server, created)
    page.keyboard.press("h")
    base = page.locator(".pane canvas.base")
    page.wait_for_selector(".pane canvas.base[data-pfn-range='0-65536']")
    box = base.bounding_box()
    page.mouse.move(box["x"] + 10.5, box["y"] + 22.5)  # over pfn 0, the first cell of the grid
    for _ in range(8):
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(50)
    page.wait_for_function("document.querySelector('.pane canvas.base').dataset.pfnRange !== '0-65536'")
    lo, hi = map(int, base.get_attribute("data-pfn-range").split("-"))
    assert 0 < hi - lo < 65536 / 10, (lo, hi)
    assert lo == 0, "the frame under the cursor (pfn 0) stays in view"
    shot(page, "hardware-zoomed")
    page.keyboard.press("0")
    page.wait_for_selector(".pane canvas.base[data-pfn-range='0-65536']")


def test_upload_a_trace_from_the_start_form(page, server, tmp_path):
    trace = tmp_path / "loop.trace"
    # A file read in a loop over 1.5x a 1 MiB machine: reclaim starts quickly.
    trace.write_text("# a read() loop\n" + "".join(f"R data {i % 384}\n" for i in range(4000)))
    page.goto(server.url + "/")
    page.wait_for_selector("#scenario-list .scenario")
    page.check('input[name="source"][value="trace"]')
    assert page.locator("#start-submit").is_disabled(), "no file chosen yet"
    assert "choose a trace file" in page.locator('.field-error[data-for="trace"]').inner_text()
    page.set_input_files("#f-trace", str(trace))
    page.fill("#f-ram", "1")
    page.fill("#f-swap-mb", "1")
    page.select_option("#f-policy", "lru")
    page.click("#start-submit")
    page.wait_for_url(re.compile(r"/s/[^/?]+\?step=0"))
    wait_step(page, 0)
    page.click("#step")
    wait_step(page, 1)
    assert "LRU_INACTIVE_FILE" in lane_label(page)
    assert int(counter(page, "pgscan_kswapd").replace(",", "")) + int(counter(page, "pgscan_direct").replace(",", "")) > 0


def test_lists_view_zooms_into_part_of_every_list(page, server):
    created = server.create(recipe(ram_pages=16384, accesses=60000))
    open_session(page, server, created)
    page.click("#step")
    wait_step(page, 1)
    base = page.locator(".pane canvas.base")
    box = base.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(50)
    info = page.locator(".pane .zoom-info")
    page.wait_for_function("document.querySelector('.pane .zoom-info').textContent.startsWith('zoom:')")
    lo, hi = map(int, re.search(r"zoom: (\d+)–(\d+) %", info.inner_text()).groups())
    assert hi - lo <= 15, (lo, hi)
    page.wait_for_timeout(1200)
    shot(page, "classic-zoomed")
    page.keyboard.press("0")
    page.wait_for_function("document.querySelector('.pane .zoom-info').textContent === ''")


def test_aging_unit_is_offered_only_with_an_mglru_pane(page, server):
    created = server.create(recipe(policies=("lru",)))
    open_session(page, server, created)
    aging = page.locator('#unit option[value="aging"]')
    assert aging.is_disabled(), "aging is MGLRU's; the server refuses it for the classic policy"
    assert "no policy of this session has generations to age" in aging.get_attribute("title")
    page.keyboard.press("4")
    assert page.locator("#unit").input_value() == "scan"
    assert "no policy of this session has generations to age" in page.locator("#toast").inner_text()
    both = server.create(recipe(policies=("lru", "lru_gen")))
    open_session(page, server, both)
    assert page.locator('#unit option[value="aging"]').is_enabled()

"""The real-kernel replays in the browser: the start form's third source
starts classic beside MGLRU on a replay's trace, and the panel "On the real
kernels" beside the panes reads, at the trace's end, the same sim/real
ratios GET /api/replays gives (its `simulated` over the mean of its `runs`);
a share link of that session opened by someone else shows the panel too."""
import re

import httpx
import pytest

from browser_helpers import wait_step

REPLAY = "stream-hot-anon"      # the smallest trace: ~0.5 s of engine time to its end
KERNEL = "6.12"
# validation/validate.py: TOL, SMALL
TOL, SMALL = 0.20, 2000
LABEL = {"lru": "classic", "lru_gen": "MGLRU"}


@pytest.fixture(scope="module")
def replays(server):
    return httpx.get(server.url + "/api/replays", timeout=30).json()


def expected(replay, policy, kernel, key):
    """validate.py's cell from the API: (pane at the end, real boots, ratio text, bold)."""
    sim = next(s["counters"][key] for s in replay["simulated"] if s["kernel"] == kernel and s["policy"] == policy)
    boots = sorted((r for r in replay["runs"] if r["kernel"] == kernel and r["policy"] == policy), key=lambda r: r["tag"])
    real = sum(b["counters"][key] for b in boots) / len(boots)
    judged = max(sim, real) >= SMALL
    if real == 0:
        return sim, boots, ("–" if sim == 0 else "new"), judged
    r = sim / real
    return sim, boots, f"{r:.2f}", judged and abs(r - 1) > TOL + 1e-9


def panel_rows(page, pane):
    t = page.locator(f'#real table.real-table[data-pane="{pane}"]')
    out = {}
    for tr in t.locator("tbody tr").all():
        key = tr.get_attribute("data-counter")
        out[key] = {"real": tr.locator("td.real").inner_text() if tr.locator("td.real").count() else None,
                    "sim": tr.locator("td.sim").inner_text(), "ratio": tr.locator("td.ratio").inner_text(),
                    "bold": "off" in (tr.locator("td.ratio").get_attribute("class") or "")}
    return out


def check_panel_at_end(page, replay):
    """Both panes' rows at the trace's end against the API's numbers."""
    num = lambda n: f"{round(n):,}"
    for pane, policy in enumerate(("lru", "lru_gen")):
        rows = panel_rows(page, pane)
        assert list(rows) == ["pgscan", "pgsteal", "pswpin", "file_in", "workingset_refault_file"]
        for key, got in rows.items():
            sim, boots, ratio, bold = expected(replay, policy, KERNEL, key)
            assert got["sim"] == num(sim), (policy, key, got)
            assert got["real"] == " · ".join(num(b["counters"][key]) for b in boots), (policy, key, got)
            assert got["ratio"] == ratio, (policy, key, got)
            assert got["bold"] == bold, (policy, key, got)
        cap = page.locator(f'#real table.real-table[data-pane="{pane}"] caption').inner_text()
        assert KERNEL in cap, cap
    assert "At the trace's end" in page.locator("#real .real-note").inner_text()


def test_a_replay_started_from_the_form_reads_the_apis_ratios_at_its_end_and_its_link_shows_them(page, server, replays, browser, errors):
    replay = next(r for r in replays if r["name"] == REPLAY)
    assert KERNEL in replay["kernels"]
    page.goto(server.url + "/")
    page.wait_for_selector("#f-replay option", state="attached")
    page.check('input[name=source][value=replay]')
    # what the form does not ask for a replay is hidden or disabled, with why
    assert page.locator("#scenario-list").is_hidden() and page.locator("#f-accesses").is_hidden()
    assert page.locator("#f-ram").is_hidden() and page.locator("#f-policy").is_hidden()
    assert "rig's machine" in page.locator("#machine-replay").inner_text()
    assert "64 MiB available, a 256 MiB swap disk, swappiness 60" in page.locator("#machine-replay").inner_text()
    label = page.locator(f'#f-replay option[value="{REPLAY}"]').inner_text()
    assert label.startswith(f"{REPLAY} ({', '.join(replay['kernels'])})"), label
    page.select_option("#f-replay", REPLAY)
    page.select_option("#f-kernel", KERNEL)
    assert page.locator("#kernel-replay-note").inner_text() == ""
    with page.expect_response(lambda resp: resp.url.endswith(f"/api/replays/{REPLAY}/sessions")
                              and resp.request.method == "POST") as info:
        page.click("#start-submit")
    assert info.value.status == 201
    assert info.value.request.post_data_json == {"kernel": KERNEL}
    page.wait_for_selector(".pane canvas.base[data-step]")
    heads = page.locator(".pane h3 > span:first-child").all_inner_texts()
    assert len(heads) == 2
    assert [p.get_attribute("data-policy") for p in page.locator(".pane").all()] == ["lru", "lru_gen"]
    assert all(KERNEL in h for h in heads), heads

    # before the end: the real boots, the panes' own numbers, no ratio yet
    page.wait_for_selector("#real:not([hidden]) table.real-table")
    assert "Debian kernels booted in QEMU with 64 MiB available, a 256 MiB swap disk, swappiness 60 (docs/validation.md)" \
        in page.locator("#real").inner_text()
    assert "whole replay's" in page.locator("#real .real-note").inner_text()
    assert set(r["ratio"] for r in panel_rows(page, 0).values()) == {"…"}
    page.click("#step")
    wait_step(page, 1)
    grown = panel_rows(page, 0)["file_in"]["sim"]
    assert int(grown.replace(",", "")) > 0, grown

    # run to the trace's end
    page.get_by_text("Run until…", exact=True).click()
    page.select_option("#run-cond", "end")
    page.click("#run-go")
    page.wait_for_function("['end', 'found'].includes(document.querySelector('#status').dataset.run)", timeout=120000)
    step = int(page.locator("#seek").input_value())
    wait_step(page, step, 0)
    wait_step(page, step, 1)
    page.wait_for_function("document.querySelector('#real .real-note').textContent.startsWith('At the trace')")
    check_panel_at_end(page, replay)

    # a share link of this step, opened in a fresh browser (no owner token)
    page.click("#share")
    page.wait_for_function("Boolean(document.querySelector('#share').dataset.permalink)")
    link = page.locator("#share").get_attribute("data-permalink")
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        other = errors.watch(ctx.new_page())
        other.goto(link)
        other.wait_for_selector(".pane canvas.base[data-step]")
        n = int(re.search(r"step=(\d+)", link).group(1))
        wait_step(other, n, 0)
        wait_step(other, n, 1)
        other.wait_for_selector("#real:not([hidden]) table.real-table")
        other.wait_for_function("document.querySelector('#real .real-note').textContent.startsWith('At the trace')")
        check_panel_at_end(other, replay)
    finally:
        ctx.close()


def test_a_replay_given_a_traced_boots_holes_from_the_form_runs_on_them_and_the_panel_says_so(page, server, replays):
    """The replay's holes field lists what its traced boots under the chosen
    kernel kept (validation/kswapd-boosts.csv: 7.3's table-switch classic boot
    398); a click gives the guest that boot's, the request carries it, and
    the panel beside the panes says the boots it compares with kept their own."""
    ts = next(r for r in replays if r["name"] == "table-switch")
    boots = [h for h in ts["holes"] if h["kernel"] == "7.3"]
    page.goto(server.url + "/")
    page.wait_for_selector("#f-replay option", state="attached")
    page.check('input[name=source][value=replay]')
    page.select_option("#f-replay", "table-switch")
    page.select_option("#f-kernel", "7.3")
    assert page.locator("#holes-field").is_visible()
    assert page.locator("#holes-hint").inner_text() == "Blank: 7.3's median, 264 pages. table-switch's traced boots on 7.3 kept:"
    labels = page.locator("#holes-picks button.pick").all_inner_texts()
    assert labels == [f"{h['holes']} ({LABEL[h['policy']]}, {h['tag']})" for h in boots] and "398 (classic, ks)" in labels
    page.fill("#f-holes", "-3")
    assert "whole number of pages" in page.locator('.field-error[data-for="zone_normal_holes"]').inner_text()
    assert page.locator("#start-submit").is_disabled()
    page.get_by_role("button", name="398 (classic, ks)").click()
    assert page.locator("#f-holes").input_value() == "398" and page.locator("#start-submit").is_enabled()
    with page.expect_response(lambda resp: resp.url.endswith("/api/replays/table-switch/sessions")
                              and resp.request.method == "POST") as info:
        page.click("#start-submit")
    assert info.value.status == 201
    assert info.value.request.post_data_json == {"kernel": "7.3", "zone_normal_holes": 398}
    page.wait_for_selector("#real:not([hidden]) table.real-table")
    assert page.locator("#real .real-holes").inner_text() == (
        "This guest was given 398 free pages in ZONE_DMA32's other migratetypes' pageblocks (7.3's median is 264); "
        "the boots below kept their own, which the rig did not record.")
    # another kernel: its own boots, or none recorded
    page.goto(server.url + "/")
    page.wait_for_selector("#f-replay option", state="attached")
    page.check('input[name=source][value=replay]')
    page.select_option("#f-replay", "table-switch-128m")
    page.select_option("#f-kernel", "6.12")
    assert "No traced boot of table-switch-128m on 6.12" in page.locator("#holes-hint").inner_text()
    assert page.locator("#holes-picks button.pick").count() == 0


def test_the_form_says_when_a_replay_was_not_booted_on_the_chosen_kernel_and_the_panel_says_so(page, server, replays):
    replay = next(r for r in replays if set(r["kernels"]) != {"6.1", "6.12", "7.3"})
    missing = next(k for k in ("6.1", "6.12", "7.3") if k not in replay["kernels"])
    page.goto(server.url + "/")
    page.wait_for_selector("#f-replay option", state="attached")
    page.check('input[name=source][value=replay]')
    page.select_option("#f-replay", replay["name"])
    page.select_option("#f-kernel", missing)
    assert page.locator("#kernel-replay-note").inner_text().startswith(f"{replay['name']} was not replayed on {missing}")
    assert page.locator("#start-submit").is_enabled()
    page.click("#start-submit")
    page.wait_for_selector("#real:not([hidden]) table.real-table")
    for pane in (0, 1):
        t = page.locator(f'#real table.real-table[data-pane="{pane}"]')
        assert t.get_attribute("data-replayed") == "0"
        assert t.locator("td.not-replayed").inner_text() == f"not replayed on {missing}"
    # back to a scenario: the machine and policy fields are the form's again
    page.goto(server.url + "/")
    page.wait_for_selector("#f-replay option", state="attached")
    page.check('input[name=source][value=replay]')
    page.check('input[name=source][value=scenario]')
    assert page.locator("#f-ram").is_enabled() and page.locator("#f-policy").is_visible()
    assert page.locator("#machine-replay").is_hidden() and page.locator("#scenario-list").is_visible()


def test_an_upload_of_a_replays_file_on_another_machine_shows_the_real_numbers_but_no_ratio(page, server, replays):
    import json
    from pathlib import Path

    from browser_helpers import open_session

    replay = next(r for r in replays if r["name"] == REPLAY)
    path = Path(__file__).resolve().parents[2] / "validation" / "traces" / f"{REPLAY}.trace.gz"
    machine = {**replay["machine"], "guest": False, "swap_kind": "zram"}
    rec = {"machine": machine, "workload": {}, "policies": [{"policy": "lru", "kernel": "6.1"}]}
    r = httpx.post(server.url + "/api/sessions/upload", data={"recipe": json.dumps(rec)},
                   files={"file": (path.name, path.read_bytes())}, timeout=60)
    assert r.status_code == 201, r.text
    created = r.json()
    # the same bytes: the same trace as the replay, so the panel is there
    got = httpx.get(f"{server.url}/api/sessions/{created['id']}", timeout=10).json()
    assert got["recipe"]["workload"]["trace_id"] == replay["trace_id"]
    open_session(page, server, created)
    page.wait_for_selector("#real:not([hidden]) table.real-table")
    assert page.locator("#real table.real-table").count() == 1
    warn = page.locator("#real .real-warn").inner_text()
    assert "not the rig's" in warn and "guest false ≠ true" in warn and f"swap_kind zram ≠ {replay['machine']['swap_kind']}" in warn
    page.get_by_text("Run until…", exact=True).click()
    page.select_option("#run-cond", "end")
    page.click("#run-go")
    page.wait_for_function("['end', 'found'].includes(document.querySelector('#status').dataset.run)", timeout=120000)
    wait_step(page, int(page.locator("#seek").input_value()))
    rows = panel_rows(page, 0)
    boots = sorted((b for b in replay["runs"] if b["kernel"] == "6.1" and b["policy"] == "lru"), key=lambda b: b["tag"])
    assert rows["pgscan"]["real"] == " · ".join(f"{b['counters']['pgscan']:,}" for b in boots)
    assert {x["ratio"] for x in rows.values()} == {"–"}


def test_a_scenario_sessions_what_to_watch_names_the_replays_of_that_scenario(page, server, replays):
    from browser_helpers import open_session

    body = {"machine": {"ram_pages": 1024}, "workload": {"scenario": "zipf-mixed", "accesses": 2000},
            "policies": [{"policy": "lru"}], "seed": 1}
    r = httpx.post(server.url + "/api/sessions", json=body, timeout=30)
    assert r.status_code == 201, r.text
    open_session(page, server, r.json())
    page.wait_for_function("document.querySelector('#watch-text').textContent.includes('real kernels replayed')")
    text = page.locator("#watch-text").text_content()
    for rp in (x for x in replays if x["scenario"] == "zipf-mixed"):
        # each replay with its own guest size and length (zipf-mixed-128m: 128 MiB, 600,000)
        assert (f"{rp['name']} ({', '.join(rp['kernels'])}; {rp['machine']['ram_pages'] // 256} MiB available, "
                f"{rp['accesses']:,} accesses)") in text
    assert "zipf-mixed-128m (6.1, 6.12, 7.3; 128 MiB available, 600,000 accesses)" in text
    assert 'Start it as "a real-kernel replay"' in text


def second_host_cells(page, pane):
    t = page.locator(f'#real table.real-table[data-pane="{pane}"]')
    return {tr.get_attribute("data-counter"): tr.locator("td.second-host").inner_text()
            for tr in t.locator("tbody tr").all()}


@pytest.mark.parametrize("name,kernel,first_host,tag", [("zipf-anon-s0.8", "7.3", True, "h2"),
                                                        ("shifting-hotspot", "6.12", False, "h2"),
                                                        ("zipf-mixed-32m", "6.1", False, "h2s1g")])
def test_the_panel_shows_a_second_hosts_boots_beside_the_first_hosts_and_says_when_they_are_all_there_is(
        page, server, replays, name, kernel, first_host, tag):
    """GET /api/replays' second_host (docs/validation.md "A second host"): a
    column of that host's boot per pane, its host in the header's title, not
    in the ratio; a kernel booted on that host alone gets the form's note and
    the panel's reason beside that host's numbers, as does every kernel of a
    trace only that host booted (on a 32 MiB guest, "Held out below 64 MiB")."""
    replay = next(r for r in replays if r["name"] == name)
    page.goto(server.url + "/")
    page.wait_for_selector("#f-replay option", state="attached")
    page.check('input[name=source][value=replay]')
    page.select_option("#f-replay", name)
    page.select_option("#f-kernel", kernel)
    note = page.locator("#kernel-replay-note").inner_text()
    assert (note == "") if first_host else note.startswith(f"{name} was booted on {kernel} on a second host only")
    page.click("#start-submit")
    page.wait_for_selector("#real:not([hidden]) table.real-table")
    for pane, policy in enumerate(("lru", "lru_gen")):
        t = page.locator(f'#real table.real-table[data-pane="{pane}"]')
        boot = next(r for r in replay["second_host"]["runs"] if r["kernel"] == kernel and r["policy"] == policy)
        head = t.locator("thead th").last
        assert head.inner_text() == f"2nd host ({tag})"
        assert "AMD EPYC" in head.get_attribute("title")
        cells = second_host_cells(page, pane)
        assert cells == {k: f"{boot['counters'][k]:,}" for k in cells}
        assert list(cells) == ["pgscan", "pgsteal", "pswpin", "file_in", "workingset_refault_file"]
        assert t.get_attribute("data-replayed") == ("1" if first_host else "0")
        if not first_host:
            assert t.locator("td.not-replayed").inner_text() == f"booted on {kernel} on the second host only"
    note = page.locator("#real .real-note").inner_text()
    assert note.startswith("Only the second host booted this kernel") == (not first_host), note

"""Kernel profiles in the browser: the start form's choice reaches the recipe,
and compare mode shows one policy under two profiles with each pane naming its
kernel."""
import httpx

from browser_helpers import open_session, recipe, shot, wait_step


def test_compare_one_policy_under_two_kernel_profiles_names_each_pane(page, server):
    created = server.create(recipe(policies=({"policy": "lru_gen", "kernel": "6.1"},
                                             {"policy": "lru_gen", "kernel": "7.3"}), accesses=50000))
    open_session(page, server, created)
    panes = page.locator(".pane")
    assert panes.count() == 2
    assert "6.1" in panes.nth(0).locator("h3").first.inner_text()
    assert "7.3" in panes.nth(1).locator("h3").first.inner_text()
    page.click("#step")
    wait_step(page, 1, pane=0)
    wait_step(page, 1, pane=1)
    # the same workload under two profiles: the recipe keeps both kernels
    r = httpx.get(f"{server.url}/api/sessions/{created['id']}", timeout=10).json()
    assert [p["kernel"] for p in r["recipe"]["policies"]] == ["6.1", "7.3"]


def start_compare(page, kernel, kernel_b, policy_b="lru_gen"):
    """Starts a compare session from the form (pane A's policy as it is); the recipe sent."""
    page.select_option("#f-kernel", kernel)
    page.check("#f-compare")
    page.select_option("#f-policy-b", policy_b)
    page.select_option("#f-kernel-b", kernel_b)
    with page.expect_response(lambda resp: resp.url.endswith("/api/sessions") and resp.request.method == "POST") as info:
        page.click("#start-submit")
    body = info.value.request.post_data_json
    page.wait_for_selector(".pane canvas.base[data-step]")
    return body


def test_start_form_kernel_choice_reaches_the_recipe(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#f-kernel")
    body = start_compare(page, "6.12", "6.1")
    assert [(p["policy"], p["kernel"]) for p in body["policies"]] == [("lru_gen", "6.12"), ("lru_gen", "6.1")]


def test_start_form_shows_each_builtin_policy_and_kernel_choice_whole_at_1280_px(page, server):
    # the kernel profiles' titles were cut off in a 232 px column; a plug-in's
    # title is its author's and may be longer, so only the built-in policies count
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(server.url + "/")
    page.wait_for_selector("#f-kernel option", state="attached")
    page.check("#f-compare")
    for sid in ("f-policy", "f-kernel", "f-policy-b", "f-kernel-b"):
        text_w, box_w = page.evaluate("""id => {
            const s = document.getElementById(id);
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = getComputedStyle(s).font;
            const builtin = [...s.options].filter(o => !id.includes('policy') || ['lru', 'lru_gen', 'clock'].includes(o.value));
            return [Math.max(...builtin.map(o => ctx.measureText(o.text).width)), s.clientWidth];
        }""", sid)
        # room for the text, the padding and the drop-down arrow
        assert text_w + 32 <= box_w, f"#{sid}: choices {text_w:.0f} px wide in a {box_w} px select"


def test_start_form_booted_guest_reaches_the_recipe_and_each_pane_has_its_kernels_frames(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#f-kernel option", state="attached")
    page.check("#f-guest")
    assert "available, plus the guest's own" in page.locator("#ram-hint").inner_text()
    page.fill("#f-ram", "31")
    assert "at least 32 MiB" in page.locator('.field-error[data-for="guest"]').inner_text()
    assert page.locator("#start-submit").is_disabled()
    page.fill("#f-ram", "64")
    assert start_compare(page, "6.1", "7.3")["machine"]["guest"] is True
    sid = page.url.split("/s/", 1)[1].split("?", 1)[0]
    page.click("#step")
    wait_step(page, 1, pane=0)
    wait_step(page, 1, pane=1)
    # each pane is that release's booted guest: different frames (engine/kernels.py guest_machine())
    r = httpx.get(f"{server.url}/api/sessions/{sid}", timeout=10).json()
    assert r["recipe"]["machine"]["guest"] is True
    frames = [p["vmstat"]["nr_free_pages"] + sum(p["vmstat"][k] for k in (
        "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file", "nr_unevictable"))
        for p in r["summary"]]
    from engine.kernels import guest_machine
    assert frames == [guest_machine(k, 16384)["ram_pages"] for k in ("6.1", "7.3")], frames


def test_start_form_a_booted_guests_holes_reach_each_panes_machine_and_a_count_its_zone_cannot_hold_is_named(page, server, errors):
    """The holes field (machine.zone_normal_holes) belongs to a booted guest:
    hidden on a bare machine, blank for each profile's median; a count one
    pane's zone cannot hold beside its claimable pageblocks is refused by the
    server for that kernel, and the form keeps what was typed."""
    page.goto(server.url + "/")
    page.wait_for_selector("#f-kernel option", state="attached")
    assert page.locator("#holes-field").is_hidden()
    page.check("#f-guest")
    assert page.locator("#holes-field").is_visible()
    assert page.locator("#holes-hint").inner_text().startswith(
        "Blank: each kernel profile's median (6.1 172 · 6.12 227 · 7.3 264 pages).")
    page.fill("#f-holes", "lots")
    assert "whole number of pages" in page.locator('.field-error[data-for="zone_normal_holes"]').inner_text()
    assert page.locator("#start-submit").is_disabled()
    page.fill("#f-holes", "5500")
    page.select_option("#f-kernel", "6.1")
    page.check("#f-compare")
    page.select_option("#f-policy-b", "lru_gen")
    page.select_option("#f-kernel-b", "7.3")
    page.click("#start-submit")
    page.wait_for_function("document.querySelector('#start-error').textContent.length > 0")
    assert page.locator("#start-error").inner_text() == \
        "machine.zone_normal_holes: must be <= 5373, got 5500 (kernel 6.1's machine)"
    assert page.locator("#f-holes").input_value() == "5500" and page.locator("#start-submit").is_enabled()
    # the browser logs the refused POST itself; nothing else went wrong
    assert errors == ["console: Failed to load resource: the server responded with a status of 422 "
                      "(Unprocessable Entity)"]
    errors.clear()
    page.fill("#f-holes", "398")
    body = start_compare(page, "6.1", "7.3")
    assert body["machine"]["zone_normal_holes"] == 398
    sid = page.url.split("/s/", 1)[1].split("?", 1)[0]
    stored = httpx.get(f"{server.url}/api/sessions/{sid}/recipe", timeout=10).json()
    assert [c["zone_normal_holes"] for c in stored["engine_config"]] == [398, 398]
    # the session says its machine, for whoever opens it
    from engine.kernels import guest_machine
    frames = " / ".join(f"{guest_machine(k, 16384)['ram_pages']:,d}" for k in ("6.1", "7.3"))
    line = page.locator("#machine-line")
    assert line.inner_text() == ("booted 6.1 and 7.3 guests with 64 MiB available · ZONE_DMA32 holes 398 (given) · "
                                 "zram swap 32 MiB · swappiness 60 · readahead 128 KiB")
    assert line.get_attribute("title") == (
        f"Machine: booted 6.1 and 7.3 guests with 64 MiB available ({frames} frames) · ZONE_DMA32 holes 398 "
        "(given) · zram swap 32 MiB · swappiness 60 · readahead 128 KiB")


def test_run_until_the_next_fallback_lands_on_it_and_the_log_names_it_with_its_boost(page, server):
    """A booted 7.3 guest's ZONE_DMA32 (the engine's ZONE_NORMAL) has free pages
    in other migratetypes' pageblocks; "Run until… the next page-allocator
    fallback" stops at the access whose allocation finds only those
    (__rmqueue_fallback()), and that step's event log says so in words with
    the numbers: what became movable and the watermark boost."""
    import numpy as np
    from engine import Simulator
    from engine.names import EVENT_KINDS

    created = server.create(recipe(policies=({"policy": "lru", "kernel": "7.3"},), scenario="stream-hot-file",
                                   ram_pages=16384, accesses=40000, guest=True))
    s = server.app.state.manager.get(created["id"])
    # where the first fallback comes: the same machine and workload, with events
    sim = Simulator(s.configs[0])
    sim.set_workload(s.accesses)
    extfrag = EVENT_KINDS.index("mm_page_alloc_extfrag")
    first = None
    while first is None and not sim.done:
        seq = sim.event_seq
        sim.step("access", 2048)
        ev = sim.events_since(seq)
        hits = ev[ev["kind"] == extfrag]
        first = int(hits[0]["nr_access"]) if len(hits) else None
    assert first is not None and first > 0
    open_session(page, server, created)
    page.select_option("#unit", "access")
    page.keyboard.press("u")
    page.select_option("#run-cond", "fallback")
    assert page.locator(".rf-who").first.is_hidden()     # a fallback is of no page yet
    page.click("#run-go")
    page.wait_for_function("document.querySelector('#status').dataset.run === 'found'", timeout=30000)
    assert int(page.locator("#seek").input_value()) == first + 1
    wait_step(page, first + 1)
    row = page.locator("#event-log li[data-pfn]", has_text="fallback")
    assert row.count() == 1
    text = row.inner_text()
    assert "mm_page_alloc_extfrag" in row.get_attribute("title")
    assert "ZONE_NORMAL had no free page of the movable type" in text
    assert "claimed it for the movable type" in text and "try_to_claim_block()" in text
    assert "512 free pages became movable; boost_watermark(): the zone's watermarks 512 pages higher" in text
    assert np.isfinite(int(row.get_attribute("data-pfn")))
    shot(page, "fallback-event")

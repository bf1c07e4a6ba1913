"""What the page draws from the server's per-folio views: the young-PTE mark,
shadow entries in the hardware view, the folio order of a zoomed-in window of
a large machine's lists, and location deltas instead of whole states.
Screenshots under artifacts/screenshots/."""
from __future__ import annotations

import json

import pytest

from browser_helpers import open_session, recipe, shot, wait_step


def _session(server, sid):
    return server.app.state.manager.get(sid)


def _young_truth(server, sid, step):
    """pfn -> young of every resident folio at `step`, from the engine's own PTEs."""
    s = _session(server, sid)
    with s.lock:
        s._goto(step)
        sim = s.sims[0]
        fr = sim.frames()
        return {pfn: any(p["young"] for p in sim.folio(pfn)["young"])
                for pfn in range(len(fr["flags"])) if fr["mapcount"][pfn] > 0}


def _pixel(page, x, y):
    return page.evaluate("([x, y]) => Array.from(document.querySelector('.pane canvas.base')"
                         ".getContext('2d').getImageData(x, y, 1, 1).data)", [x, y])


def test_young_pte_mark_is_drawn_on_young_folios_only(page, server):
    created = server.create(recipe(scenario="anon-loop", ram_pages=384, accesses=20000))
    open_session(page, server, created)
    page.select_option("#unit", "scan")
    for n in (1, 2, 3):
        page.click("#step")
        wait_step(page, n)
    page.wait_for_timeout(1300)   # let the animation land
    truth = _young_truth(server, created["id"], 3)
    assert any(truth.values()) and not all(truth.values())
    drawn = {True: [], False: []}
    for pfn, young in truth.items():
        pos = page.evaluate("pfn => window.reclaimlab.locate(0, pfn)", pfn)
        if pos:
            drawn[young].append((pfn, pos))
    assert drawn[True] and drawn[False]
    cell = page.evaluate("window.reclaimlab.cell(0)")
    assert cell >= 6, "marks are drawn from 6 px cells up"
    size = cell - 1
    m = max(1, size * 2 // 7)
    o = 1 if cell >= 8 else 0
    # the centre of the bottom-right mark, and a pixel of the cell's body
    mark = lambda p: (p["x"] + size - o - m // 2 - 1, p["y"] + size - o - m // 2 - 1)
    body = lambda p: (p["x"] + size // 2, p["y"] + size // 2)
    for young, cells in drawn.items():
        for pfn, p in cells[:8]:
            at_mark, at_body = _pixel(page, *mark(p)), _pixel(page, *body(p))
            if young:
                assert at_mark != at_body, f"young pfn {pfn}: no mark"
                assert at_mark[:3] in ([0, 0, 0], [255, 255, 255])
            else:
                assert at_mark == at_body, f"pfn {pfn} is not young but has a mark"
    shot(page, "young-marks")


def test_hardware_view_draws_the_page_cache_and_swap_with_their_shadow_entries(page, server):
    created = server.create(recipe(scenario="zipf-mixed", ram_pages=1024, accesses=40000))
    s = _session(server, created["id"])
    s.step(0, "access", 30000, owner=True)   # run ahead: reclaim has evicted both kinds
    open_session(page, server, created)
    page.click("#step")
    wait_step(page, 30001)
    page.keyboard.press("h")
    page.wait_for_selector(".pane canvas.base[data-view='hardware']")
    with s.lock:
        s._goto(30001)
        shadow = s.sims[0].nr_shadows()
    assert shadow["file"] > 0 and shadow["anon"] > 0
    label = page.locator(".pane canvas.base").get_attribute("aria-label")
    assert f"{shadow['file']:,} shadow entries; swap" in label, label
    assert label.endswith(f"{shadow['anon']:,} shadow entries"), label
    assert "unknown" not in label
    shot(page, "hardware-shadows")


LISTS = ["LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE", "LRU_UNEVICTABLE"]


def _head(name):
    """engine/core.pxd list head of a protocol list name."""
    if name in LISTS:
        return LISTS.index(name)
    seq, kind = name[3:].split(".")
    return 5 + (int(seq) % 4) * 2 + (kind == "file")


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_large_machine_lists_zoom_into_the_folio_order_of_any_region(page, server, policy):
    # 4 KiB folios (no readahead): 7.3's large page-cache folios would make a
    # fraction as many list entries, each one cell
    created = server.create(recipe(policies=(policy,), ram_pages=65536, accesses=200000, readahead_pages=0))
    open_session(page, server, created)
    page.select_option("#unit", "shrink")
    page.click("#step")
    wait_step(page, 1)
    base = page.locator(".pane canvas.base")
    box = base.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    for _ in range(30):
        if base.get_attribute("data-windows"):
            break
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(80)
    page.wait_for_function("document.querySelector('.pane canvas.base').dataset.windows")
    page.wait_for_timeout(300)
    name, rng = base.get_attribute("data-windows").split()[0].split(":")
    offset, n = map(int, rng.split("+"))
    assert n > 0
    s = _session(server, created["id"])
    with s.lock:
        s._goto(1)
        order = s.sims[0].list_pfns(_head(name))
    # the folio drawn in the middle of the window is the list's folio at that position
    pfn = int(order[offset + n // 2])
    pos = page.evaluate("pfn => window.reclaimlab.locate(0, pfn)", pfn)
    assert pos, f"pfn {pfn} ({name} #{offset + n // 2}) is not drawn"
    base.click(position={"x": pos["x"] + 1, "y": pos["y"] + 1})
    page.wait_for_function("pfn => document.querySelector('#inspector').innerText.includes('pfn ' + pfn)",
                           arg=pfn)
    for _ in range(12):   # closer, until the flag and young-PTE marks show
        if page.evaluate("window.reclaimlab.cell(0)") >= 8:
            break
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(80)
    page.wait_for_timeout(400)
    shot(page, f"large-{policy}-zoomed")


def test_large_machine_steps_bring_location_deltas_in_one_message_each(page, server):
    created = server.create(recipe(ram_pages=65536, accesses=200000))
    sent, got = [], []

    def on_ws(ws):
        ws.on("framesent", lambda payload: sent.append(payload))
        ws.on("framereceived", lambda payload: got.append(payload))
    page.on("websocket", on_ws)
    open_session(page, server, created)
    first = max(len(b) for b in got if isinstance(b, bytes))
    assert first > 65536, "the opening state is the whole location array"
    page.select_option("#unit", "shrink")   # fills RAM: most frames move, a whole array
    page.click("#step")
    wait_step(page, 1)
    page.select_option("#unit", "scan")
    page.wait_for_timeout(300)
    got.clear()
    sent.clear()
    for n in (2, 3, 4):
        page.click("#step")
        wait_step(page, n)
    page.wait_for_timeout(300)
    # one binary step message per step, carrying the layout delta: the page asks for nothing
    commands = [json.loads(m)["type"] for m in sent if isinstance(m, str)]
    assert commands == ["step"] * 3, commands
    binary = [b for b in got if isinstance(b, bytes)]
    assert len(binary) == 3 and all(b[4:18] == b'{"type":"step"' for b in binary)
    assert max(len(b) for b in binary) < 16384, [len(b) for b in binary]
    # the page's location array is the server's at that step
    s = _session(server, created["id"])
    with s.lock:
        s._goto(4)
        loc = s._locations(0)
    drawn = page.evaluate("Array.from(window.reclaimlab.loc(0))")
    assert drawn == loc.tolist()


def test_inspector_names_the_zone_and_why_scan_folios_leaves_zone_dma_for_last__lru_gen(page, server):
    # 64 MiB has ZONE_DMA (3,840 frames); by the first scan both zones are full
    created = server.create(recipe(policies=("lru_gen",), scenario="hot-reread-stream",
                                   ram_pages=16384, accesses=40000))
    open_session(page, server, created)
    page.select_option("#unit", "scan")
    page.click("#step")
    wait_step(page, 1)
    s = _session(server, created["id"])
    with s.lock:
        s._goto(1)
        sim = s.sims[0]
        assert sim.config["zone_dma_pages"] == 3840
        dma = next(p for p in range(3840) if not sim.folio(p)["free"])
        above = next(p for p in range(3840, 16384) if not sim.folio(p)["free"])
    for pfn, want in ((dma, "ZONE_DMA — scan_folios() reaches its list only when the zone above"),
                      (above, "the zone above ZONE_DMA")):
        page.goto(f"{server.url}/s/{created['id']}?step=1&folio={pfn}")
        page.wait_for_function("pfn => document.querySelector('#inspector').innerText.includes('pfn ' + pfn)",
                               arg=pfn)
        assert want in page.locator("#inspector").inner_text()

"""Issue #9 polish in a real browser: a step's animated folios stay inside
their pane, and at the default 64 MiB (16 Ki frames) a click on the MGLRU
generations view opens the inspector for the folio under the pointer, with
no zooming first."""
from __future__ import annotations

import re

import pytest

from browser_helpers import open_session, recipe, shot, wait_step



@pytest.mark.parametrize("width", [1280, 1000])
def test_animated_folios_stay_inside_their_pane(browser, server, errors, width):
    ctx = browser.new_context(viewport={"width": width, "height": 720})
    try:
        page = errors.watch(ctx.new_page())
        created = server.create(recipe(policies=("lru_gen", "lru"), ram_pages=16384, accesses=400000))
        open_session(page, server, created)
        for n in (1, 2, 3):
            page.keyboard.press("ArrowRight")
            wait_step(page, n)
            wait_step(page, n, pane=1)
            # mid-animation: every painted overlay pixel lies inside what the
            # page reports it drew (so the extents below are the real ones)
            page.wait_for_timeout(450)
            mid = page.evaluate("""() => [...document.querySelectorAll('.pane canvas.overlay')].map((c, i) => {
              const e = window.reclaimlab.flightExtent(i);
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
              for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
                if (d[(y * c.width + x) * 4 + 3]) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
              }
              return {e: e && {...e}, px: x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1]};
            })""")
            for m in mid:
                if m["px"]:
                    e = m["e"]
                    assert e, "the overlay is painted but no animation extent was recorded"
                    assert e["x0"] - 1 <= m["px"][0] and e["y0"] - 1 <= m["px"][1], m
                    assert m["px"][2] <= e["x1"] + 2 and m["px"][3] <= e["y1"] + 2, m
            page.wait_for_timeout(900)   # the animation lands (1.1 s)
            got = page.evaluate("""() => [...document.querySelectorAll('.pane')].map((p, i) => ({
              e: window.reclaimlab.flightExtent(i), pane: p.getBoundingClientRect().toJSON(),
              canvas: p.querySelector('canvas.overlay').getBoundingClientRect().toJSON()}))""")
            drew = 0
            for i, g in enumerate(got):
                e = g["e"]
                if not e:
                    continue
                drew += e["boxes"]
                assert e["x0"] >= 0 and e["y0"] >= 0, (i, e)
                assert e["x1"] <= e["width"] and e["y1"] <= e["height"], (i, e)
                # in page coordinates, inside the pane's own box
                c, p = g["canvas"], g["pane"]
                assert c["left"] + e["x0"] >= p["left"] and c["left"] + e["x1"] <= p["right"], (i, e, c, p)
                assert c["top"] + e["y0"] >= p["top"] and c["top"] + e["y1"] <= p["bottom"], (i, e, c, p)
            assert drew, f"step {n} animated nothing"
        shot(page, f"animation-inside-panes-{width}")
    finally:
        ctx.close()


def _file_lists(server, sid, step):
    """seq -> pfns of gen<seq>.file (head first, both zones) in pane A at `step`:
    the engine's own generation snapshot, the order the state frame carries."""
    s = server.app.state.manager.get(sid)
    with s.lock:
        s._goto(step)
        return {g["seq"]: [int(x) for x in g["folios"][1]] for g in s.sims[0].lists()["gens"]}


@pytest.mark.parametrize("compare", [True, False], ids=["compare", "single"])
def test_a_click_on_an_mglru_folio_at_64_mib_opens_it_without_zooming(page, server, compare):
    pols = ("lru_gen", "lru") if compare else ("lru_gen",)
    # 64 MiB of 4 KiB folios (no readahead: 7.3's large page-cache folios would make
    # a fraction as many list entries, each one cell)
    created = server.create(recipe(policies=pols, ram_pages=16384, accesses=400000, readahead_pages=0))
    open_session(page, server, created)
    for n in (1, 2):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
    page.wait_for_timeout(1300)
    assert page.evaluate("window.reclaimlab.cell(0)") <= 2, "the default zoom draws folios 1-2 px wide"
    # The head (first painted cell, row-major) and tail (last) of the oldest
    # file generation's grid, found in the canvas pixels, in tier colours.
    ends = page.evaluate("""async () => {
      const {PALETTE} = await import('/ui/js/palette.js');
      const hex = (h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)).join(',');
      const tier = new Set(PALETTE.tiers.map(hex));
      const c = document.querySelector('.pane canvas.base');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const at = (x, y) => { const o = (y * c.width + x) * 4; return d[o + 3] === 255 ? `${d[o]},${d[o+1]},${d[o+2]}` : null; };
      const isTier = (x, y) => tier.has(at(x, y));
      let head = null;   // (x < 64: the row labels and their colour swatches)
      for (let x = 64; x < c.width && !head; x++) for (let y = Math.floor(c.height * 0.6); y < c.height; y++) if (isTier(x, y)) { head = [x, y]; break; }
      if (!head) return null;
      // the grid's row at the head: the run of painted pixels containing it
      let [gx0, gx1] = [head[0], head[0]];
      for (let y = head[1]; y > head[1] - 40; y--) if (isTier(head[0], y)) head[1] = y; else break;
      while (gx0 > 0 && at(gx0 - 1, head[1])) gx0--;
      while (gx1 < c.width - 1 && at(gx1 + 1, head[1])) gx1++;
      head[0] = gx0; while (!isTier(head[0], head[1])) head[0]++;
      let tail = null;
      for (let y = c.height - 1; y >= head[1] && !tail; y--) for (let x = gx1; x >= gx0; x--) if (isTier(x, y)) { tail = [x, y]; break; }
      return {head, tail};
    }""")
    assert ends and ends["tail"], ends
    lists = _file_lists(server, created["id"], 2)
    base = page.locator(".pane canvas.base").first
    picked = {}
    for end in ("head", "tail"):
        x, y = ends[end]
        base.click(position={"x": x + 0.5, "y": y + 0.5})
        # one condition, not two in turn: between the head's folio and the tail's the
        # inspector passes through a state with no pfn, which would satisfy "not the
        # head's" alone
        page.wait_for_function("prev => { const m = /pfn (\\d+)\\b/.exec(document.querySelector('#inspector').innerText);"
                               " return m && m[1] !== String(prev); }", arg=picked.get("head"))
        pfn = int(re.search(r"pfn (\d+)", page.locator("#inspector").inner_text()).group(1))
        seq = next((q for q, l in lists.items() if pfn in l), None)
        assert seq is not None, f"pfn {pfn} is on no generation's file list"
        idx, n = lists[seq].index(pfn), len(lists[seq])
        picked[end] = pfn
        if end == "head":
            assert idx == 0, f"the head cell picked #{idx} of gen{seq}.file"
            head_seq = seq
        else:
            assert seq == head_seq and idx >= n - 4, f"the tail cell picked #{idx} of {n} in gen{seq}.file"
        # the canvas outlines the folio the click picked, under the pointer
        pos = page.evaluate("pfn => window.reclaimlab.locate(0, pfn)", pfn)
        assert pos and abs(pos["x"] - x) <= 2 and abs(pos["y"] - y) <= 2, (pos, x, y)
        ring = page.evaluate("([x, y]) => Array.from(document.querySelector('.pane canvas.base').getContext('2d')"
                             ".getImageData(x - 4, y, 1, 1).data)", [pos["x"], pos["y"]])
        assert ring[:3] == [0, 0, 0] and ring[3] == 255, ring
    # a click a few pixels below the tail, on no cell, still picks the tail
    x, y = ends["tail"]
    page.keyboard.press("Escape")
    page.wait_for_function("() => !/pfn \\d+/.test(document.querySelector('#inspector').innerText)")
    base.click(position={"x": x + 0.5, "y": y + 3.5})
    page.wait_for_function("pfn => document.querySelector('#inspector').innerText.includes('pfn ' + pfn + ' ')",
                           arg=picked["tail"])
    shot(page, f"mglru-64mib-click-{'compare' if compare else 'single'}")

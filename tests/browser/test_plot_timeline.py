"""The plots under the panes: the inspected page's evictions and refaults
marked at their steps, and a drag that zooms every plot to a range of steps,
kept while stepping, with a double click to zoom out."""
from browser_helpers import open_session, recipe, wait_step, step_until_reclaimed


def test_plots_mark_the_inspected_pages_evictions_and_zoom_on_a_drag(page, server):
    created = server.create(recipe(scenario="stream-hot-file"))
    open_session(page, server, created)
    n, reclaimed = step_until_reclaimed(page, 6)
    reclaimed.last.click()
    page.wait_for_function("document.querySelector('#inspector').innerText.includes('verdict')")
    # the marker is the step of the eviction the inspector's history lists
    page.wait_for_function("window.reclaimlab.plotMarkers().some((m) => m.kind === 'evict')")
    marks = page.evaluate("window.reclaimlab.plotMarkers()")
    assert [m["step"] for m in marks if m["kind"] == "evict"] == [n]
    # the whole-run timeline: drag across the middle of the first plot
    page.wait_for_function("(window.reclaimlab.plotData(0) || [[]])[0].length > 3")
    full = page.evaluate("window.reclaimlab.plotRange(0)")
    box = page.locator("#plots .plot .u-over").first.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=8)
    page.mouse.up()
    z = [page.evaluate(f"window.reclaimlab.plotRange({i})") for i in range(4)]
    assert full["min"] < z[0]["min"] < z[0]["max"] < full["max"]
    assert all(r == z[0] for r in z), z                  # every plot zoomed alike
    assert page.locator(".pane canvas.base").first.get_attribute("data-step") == str(n)   # a drag does not seek
    page.keyboard.press("ArrowRight")
    wait_step(page, n + 1)
    assert page.evaluate("window.reclaimlab.plotRange(0)") == z[0]     # kept while stepping
    page.locator("#plots .plot .u-over").first.dblclick()
    back = page.evaluate("window.reclaimlab.plotRange(0)")
    assert back["min"] <= full["min"] and back["max"] >= full["max"]
    page.wait_for_timeout(400)
    assert page.locator(".pane canvas.base").first.get_attribute("data-step") == str(n + 1)   # and did not seek


PLOT_FITS = """() => [...document.querySelectorAll('#plots .plot')].map((box) => {
  const b = box.getBoundingClientRect(), c = box.querySelector('.uplot').getBoundingClientRect();
  return {left: b.left, right: b.right, chartLeft: c.left, chartRight: c.right, width: c.width};
})"""


def _fit(plots):
    return all(p["chartLeft"] >= p["left"] - 0.5 and p["chartRight"] <= p["right"] + 0.5 for p in plots)


def test_each_plot_fits_its_cell_and_follows_it_when_the_window_changes(page, server):
    # 1400 px: the stylesheet's four columns, which the old sizing (by the
    # container's width, two columns under 1000 px) drew twice as wide: each
    # chart ran under the next one
    page.set_viewport_size({"width": 1400, "height": 900})
    open_session(page, server, server.create(recipe(policies=("lru_gen", "lru"), accesses=20000)))
    page.keyboard.press("ArrowRight")
    wait_step(page, 1)
    four = page.evaluate(PLOT_FITS)
    assert len({round(p["left"]) for p in four}) == 4 and _fit(four), four
    # narrower than 1320 px: two columns, each chart grows into its wider cell
    page.set_viewport_size({"width": 1200, "height": 900})
    page.wait_for_function(f"(({PLOT_FITS})()).every((p) => p.right - p.left - p.width < 12)")
    two = page.evaluate(PLOT_FITS)
    assert len({round(p["left"]) for p in two}) == 2 and _fit(two), two
    assert min(p["width"] for p in two) > max(p["width"] for p in four)


def test_the_plots_show_the_steps_just_taken_before_the_whole_run_timeline_catches_up(page, server):
    # the timeline fetched on connect ends at step 0 and the next is fetched
    # 800 ms after the last step: keys pressed faster than that must not leave
    # the plots on the old timeline (they showed step 0 alone)
    open_session(page, server, server.create(recipe(policies=("lru_gen",), accesses=20000)))
    page.wait_for_function("document.querySelector('#plots').dataset.timeline === '0'")
    for n in range(1, 9):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
    page.wait_for_function("(window.reclaimlab.plotData(0) || [[]])[0].at(-1) === 8", timeout=700)
    assert page.evaluate("window.reclaimlab.plotData(0)[0]") == list(range(9))
    # and the timeline, once fetched, covers them
    page.wait_for_function("document.querySelector('#plots').dataset.timeline === '8'")
    assert page.evaluate("window.reclaimlab.plotData(0)[0]").count(8) == 1

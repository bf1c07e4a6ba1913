"""The sweep page in Debian Chromium: curves of a counter against RAM per
policy, a shareable URL that restores the selection, and a cell link that
opens the cell's session at the step where the counter grew fastest."""
from __future__ import annotations

import httpx
import pytest

from backend.store import SqliteStore
from backend.sweep import LocalExecutor, fastest_step, run_sweep
from backend.sweep_spec import load_spec
from browser_helpers import LiveServer, shot

SPEC = """\
[sweep]
name = "page"
chunks = 16

[[workload]]
scenario = "anon-loop"
accesses = 20000

[[workload]]
scenario = "file-loop"
accesses = 20000

[grid]
policy = ["lru", "lru_gen"]
ram_mb = [1, 2, 3]
swap_ratio = 2
seed = [1, 2]
"""


def sweep_into(data, text: str, jobs: int = 2):
    """Runs the spec `text` into the store of the data directory `data`."""
    spec = data / "spec.toml"
    spec.write_text(text)
    sw = load_spec(spec)
    store = SqliteStore(data / "reclaimlab.sqlite3")
    run_sweep(sw, store, LocalExecutor(jobs))
    store.close()
    return sw


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    data = tmp_path_factory.mktemp("sweepdata")
    sw = sweep_into(data, SPEC)
    with LiveServer(data) as s:
        yield s, sw


def test_the_sweep_page_draws_a_curve_per_policy_and_keeps_the_selection_in_the_url(swept, browser, errors):
    server, sw = swept
    page = errors.watch(browser.new_page(viewport={"width": 1100, "height": 900}))
    page.goto(f"{server.url}/sweeps/{sw.id}?counter=pswpin&workload=anon-loop&seed=1")
    page.wait_for_selector("#sweep-plot canvas")
    plot = page.locator("#sweep-plot")
    assert plot.get_attribute("data-series") == "2" and plot.get_attribute("data-points") == "3"
    assert page.locator("#sweep-plot .u-legend").inner_text().count("lru") >= 2
    # the table holds the same figures as the API: RAM 2 MiB, lru, seed 1
    cells = httpx.get(f"{server.url}/api/sweeps/{sw.id}").json()["cells"]
    want = next(c for c in cells if c["dims"]["workload"] == "anon-loop" and c["dims"]["ram_mb"] == 2
                and c["dims"]["policy"] == "lru" and c["dims"]["seed"] == 1)
    row = page.locator(".sweep-cells tbody tr").nth(1)
    assert row.locator("td").nth(0).inner_text() == "2"
    assert row.locator("td").nth(1).inner_text().startswith(f"{want['vmstat']['pswpin']:,d}")
    # a new selection goes into the URL; opening that URL restores it
    page.select_option("select[name=workload]", "file-loop")
    page.select_option("select[name=counter]", "pgpgin")
    assert "counter=pgpgin" in page.url and "workload=file-loop" in page.url
    shared = page.url
    other = errors.watch(browser.new_page())
    other.goto(shared)
    other.wait_for_selector("#sweep-plot canvas")
    assert other.locator("select[name=counter]").input_value() == "pgpgin"
    assert other.locator("select[name=workload]").input_value() == "file-loop"
    assert other.locator("#sweep-plot .u-title").inner_text() == "pgpgin vs RAM — file-loop"
    shot(page, "sweep-page")
    other.close()
    page.close()


def test_a_cell_link_opens_its_session_at_the_step_where_the_counter_grew_fastest(swept, browser, errors):
    server, sw = swept
    page = errors.watch(browser.new_page(viewport={"width": 1280, "height": 900}))
    page.goto(f"{server.url}/sweeps/{sw.id}?counter=pswpin&workload=anon-loop&seed=1")
    link = page.locator(".sweep-cells tbody tr").nth(2).locator("a.cell-link").nth(1)   # 3 MiB, lru_gen
    key = link.get_attribute("data-key")
    cell = httpx.get(f"{server.url}/api/sweeps/{sw.id}/cells/{key}").json()
    assert cell["recipe"]["policy"] == "lru_gen" and cell["recipe"]["machine"]["ram_pages"] == 768
    step = fastest_step(cell["timeline"], "pswpin")
    assert 0 < step < 20000
    link.click()
    page.wait_for_url(f"**/s/*?step={step}", timeout=30000)
    page.wait_for_function(
        "n => { const c = document.querySelector('.pane canvas.base'); return c && c.dataset.step === String(n); }",
        arg=step, timeout=30000)
    page.close()


GUEST_SPEC = """\
[[workload]]
scenario = "file-loop"
accesses = 3000

[grid]
kernel = "7.3"
ram_mb = 64
guest = true
zone_normal_holes = [264, 398]
swappiness = [60, 100]
"""


def test_a_sweep_of_one_ram_size_runs_its_curves_along_the_holes_and_the_x_axis_can_change(tmp_path, browser, errors):
    """A guest sweep of one RAM size over the ZONE_DMA32 holes (grid.guest,
    grid.zone_normal_holes): the page draws the counter against the holes
    the sweep varies, and "x axis" turns the curves along another numeric
    coordinate, the holes then a filter; the URL keeps the choice."""
    sw = sweep_into(tmp_path, GUEST_SPEC, jobs=1)
    with LiveServer(tmp_path) as server:
        page = errors.watch(browser.new_page(viewport={"width": 1100, "height": 900}))
        page.goto(f"{server.url}/sweeps/{sw.id}?counter=pgpgin")
        page.wait_for_selector("#sweep-plot canvas")
        assert page.locator("#sweep-plot .u-title").inner_text() == "pgpgin vs ZONE_DMA32 holes — file-loop"
        assert page.locator("select[name=x] option").all_inner_texts() == ["ZONE_DMA32 holes (pages)", "swappiness"]
        assert page.locator("select[name=zone_normal_holes]").count() == 0
        assert page.locator(".sweep-cells thead th").first.inner_text() == "zone_normal_holes"
        assert page.locator(".sweep-cells tbody td:first-child").all_inner_texts() == ["264", "398"]
        assert page.locator("#sweep-plot").get_attribute("data-points") == "2"
        page.select_option("select[name=x]", "swappiness")
        page.select_option("select[name=zone_normal_holes]", "398")
        assert "x=swappiness" in page.url and "zone_normal_holes=398" in page.url
        assert page.locator("#sweep-plot .u-title").inner_text() == "pgpgin vs swappiness — file-loop"
        assert page.locator(".sweep-cells tbody td:first-child").all_inner_texts() == ["60", "100"]
        other = errors.watch(browser.new_page())
        other.goto(page.url)
        other.wait_for_selector("#sweep-plot canvas")
        assert other.locator("select[name=x]").input_value() == "swappiness"
        assert other.locator("select[name=zone_normal_holes]").input_value() == "398"
        other.close()
        page.close()

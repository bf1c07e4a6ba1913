"""Frontend performance in headless Debian Chromium against the real server.

Prints JSON lines:
  - load_to_first_draw_ms: page navigation start -> first state drawn on the canvas
    (performance mark "reclaimlab:first-draw"), median of a few fresh loads;
  - scan_animation_frames: rAF frame intervals and JS time per frame-loop commit
    while animating `scan` steps, with 16,384 folios drawn individually
    (goal: 60 fps, p95 frame <= 16.7 ms);
  - the same two for a 1 Mi-frame machine drawn aggregated.

Headless Chromium here rasterizes on the CPU (--disable-gpu), so the figures
are a floor for a desktop browser.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from browser_helpers import ARGS, CHROMIUM, LiveServer  # noqa: E402
from common import emit, make_session, owner_page, pct, warm  # noqa: E402


def open_page(browser, server, created, step=None):
    ctx, page = owner_page(browser, server, created)
    q = f"?step={step}" if step is not None else ""
    page.goto(f"{server.url}/s/{created['id']}{q}")
    page.wait_for_selector(".pane canvas.base[data-step]", timeout=120000)
    page.wait_for_function("performance.getEntriesByName('reclaimlab:first-draw').length > 0")
    first = page.evaluate("""() => {
      const t = (n) => performance.getEntriesByName(n)[0]?.startTime ?? null;
      return {draw: t('reclaimlab:first-draw'), state: t('reclaimlab:first-state'),
              ws_open: performance.getEntriesByType('resource').find((e) => e.name.includes('/ws/'))?.startTime ?? null};
    }""")
    return ctx, page, first


def step_and_wait(page, unit, timeout=120000):
    cur = int(page.locator(".pane canvas.base").first.get_attribute("data-step"))
    page.evaluate("u => { document.querySelector('#unit').value = u; }", unit)
    page.click("#step")
    page.wait_for_function("n => document.querySelector('.pane canvas.base').dataset.step !== String(n)",
                           arg=cur, timeout=timeout)


def measure_animation(page, nsteps, unit="scan"):
    page.evaluate("""() => {
      window.__reclaimlabFrameStats = [];
      window.__rafGaps = [];
      let last = performance.now();
      const tick = (t) => { window.__rafGaps.push(t - last); last = t; if (window.__rafOn) requestAnimationFrame(tick); };
      window.__rafOn = true;
      requestAnimationFrame(tick);
    }""")
    flights = 0
    for _ in range(nsteps):
        step_and_wait(page, unit)
        flights += page.evaluate("document.querySelectorAll('#event-log li[data-pfn]').length")
        page.wait_for_timeout(1150)  # the step animation runs 1.1 s
    page.evaluate("() => { window.__rafOn = false; }")
    gaps = page.evaluate("window.__rafGaps.slice(1)")
    work = page.evaluate("window.__reclaimlabFrameStats")
    return gaps, work, flights


def bench_machine(browser, server, ram_pages, label, warm_accesses, loads=3, nsteps=6,
                  scenario="anon-loop", unit="scan"):
    created = make_session(server, ram_pages, "lru", scenario, warm_accesses * 4)
    # Fill RAM first (one run-ahead `access` step on the fast path) so that
    # every measured `scan` step reclaims right away.
    ctx, page, _ = open_page(browser, server, created)
    warm(page, warm_accesses)
    ctx.close()
    firsts = []
    for _ in range(loads):
        ctx, page, first = open_page(browser, server, created)
        firsts.append(first)
        ctx.close()
    draws = [f["draw"] for f in firsts]
    client = [f["draw"] - f["state"] for f in firsts if f["state"] is not None]
    emit(metric="load_to_first_draw_ms", machine=label, ram_pages=ram_pages,
         median=round(statistics.median(draws), 1), runs=[round(x, 1) for x in draws],
         state_received_to_drawn_ms_median=round(statistics.median(client), 1) if client else None)
    ctx, page, _ = open_page(browser, server, created)
    folios = page.evaluate("document.querySelector('.pane canvas.base').getAttribute('aria-label')")
    gaps, work, rows = measure_animation(page, nsteps, unit)
    ctx.close()
    emit(metric=f"{unit}_animation_frames", machine=label, ram_pages=ram_pages, scenario=scenario,
         steps=nsteps, logged_folio_events=rows,
         frames=len(gaps), frame_ms_p50=pct(gaps, 50), frame_ms_p95=pct(gaps, 95), frame_ms_max=pct(gaps, 100),
         fps=round(1000 / statistics.mean(gaps), 1) if gaps else None,
         js_ms_per_commit_p50=pct(work, 50), js_ms_per_commit_p95=pct(work, 95), js_ms_max=pct(work, 100),
         goal_p95_ms=16.7, lists=folios[:160])


def main():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as d, LiveServer(Path(d)) as server:
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            t0 = time.monotonic()
            bench_machine(browser, server, 16384, "16Ki frames, folios drawn individually", warm_accesses=40000)
            bench_machine(browser, server, 16384, "16Ki frames, folios drawn individually", warm_accesses=40000,
                          loads=1, nsteps=4, unit="shrink")
            bench_machine(browser, server, 1 << 20, "1Mi frames, aggregated", warm_accesses=1_200_000, loads=2,
                          nsteps=4, scenario="stream-hot-file")
            emit(metric="bench_wall_s", value=round(time.monotonic() - t0, 1))
        finally:
            browser.close()
            pw.stop()


if __name__ == "__main__":
    main()

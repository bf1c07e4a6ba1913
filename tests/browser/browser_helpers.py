"""Helpers shared by the browser tests and bench/bench_frontend.py: a real
uvicorn (backend.app:create_app) on 127.0.0.1 in a thread with a fresh data
dir, the Debian Chromium launch arguments, recipes and page helpers.
(A uniquely named module, so that it never collides with another
directory's conftest.py on sys.path.)"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from backend import live

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def require_chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing and CI is set: install chromium (make chromium)")
        pytest.skip(f"{CHROMIUM} is missing (set CI to make this a failure)")


class LiveServer(live.LiveServer):
    """The real app on a fresh data dir (`settings`: overrides)."""

    def __init__(self, data_dir: Path, **settings):
        from backend.app import create_app
        from backend.settings import Settings

        super().__init__(create_app(Settings(data_dir=data_dir, **settings)))

    def create(self, recipe: dict) -> dict:
        r = httpx.post(self.url + "/api/sessions", json=recipe, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()


def shot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def recipe(policies=("lru",), scenario="stream-hot-file", ram_pages=2048, accesses=200000, seed=3, **machine):
    pol = [p if isinstance(p, dict) else {"policy": p} for p in policies]
    return {"machine": {"ram_pages": ram_pages, "swap_kind": "zram", "swap_pages": ram_pages // 2, **machine},
            "workload": {"scenario": scenario, "params": {}, "accesses": accesses},
            "policies": pol, "seed": seed}


def open_session(page, server, created: dict, step: int | None = None, owner: bool = True):
    """Opens /s/<id>; the owner's token goes into localStorage first, as the
    start form does after creating the session."""
    page.goto(server.url + "/")
    if owner:
        page.evaluate("([id, t]) => localStorage.setItem('reclaimlab.token.' + id, t)",
                      [created["id"], created["owner_token"]])
    q = f"?step={step}" if step is not None else ""
    page.goto(f"{server.url}/s/{created['id']}{q}")
    page.wait_for_selector(".pane canvas.base[data-step]")
    return page


def wait_step(page, n: int, pane: int = 0):
    """Until pane `pane` shows step n: its canvas (drawn as the step message
    arrives, or at the key from a peek) and the log, counters and plots
    (drawn a frame after it), and the server has the step (a step shown
    from a peek is pending until its step_ok: reclaimlab.pending())."""
    page.wait_for_function(
        "([n, i]) => { const c = document.querySelectorAll('.pane canvas.base')[i];"
        " const box = document.querySelectorAll('.pane')[i];"
        " return c && c.dataset.step === String(n) && box.dataset.shown === String(n)"
        " && !window.reclaimlab.pending(); }", arg=[n, pane], timeout=20000)


def step_until_reclaimed(page, at_least: int, limit: int = 30):
    """Presses → (one scan step each) until a step's event log lists a reclaimed
    folio, at least `at_least` times; returns (steps taken, those log rows)."""
    reclaimed = page.locator("#event-log li[data-pfn]", has_text="reclaim")
    n = 0
    while (n < at_least or not reclaimed.count()) and n < limit:
        n += 1
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
    assert reclaimed.count(), f"no folio was reclaimed in {limit} scan steps"
    return n, reclaimed


def permalink(page) -> str:
    """The owner's "Copy share URL": the link it made (the page's #share data-permalink)."""
    page.click("#share")
    page.wait_for_function("document.querySelector('#share').dataset.permalink")
    return page.locator("#share").get_attribute("data-permalink")


@contextmanager
def fresh_browser_page(browser, errors):
    """A page in a new browser context -- no localStorage, so no owner token --
    whose console errors the `errors` fixture watches."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        yield errors.watch(ctx.new_page())
    finally:
        ctx.close()

"""Browser test fixtures: the live server (module scope, fresh data dir),
Debian Chromium through Playwright's plain sync API, and pages that fail
the test on any page error or console error."""
from __future__ import annotations

import pytest

from browser_helpers import ARGS, CHROMIUM, LiveServer, require_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("data")) as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield b
    b.close()
    pw.stop()


class Errors(list):
    def watch(self, page):
        page.on("pageerror", lambda e: self.append(f"pageerror: {e}"))
        page.on("console", lambda m: m.type == "error" and self.append(f"console: {m.text}"))
        return page


@pytest.fixture
def errors():
    errs = Errors()
    yield errs
    assert not errs, "errors in the page:\n" + "\n".join(errs)


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, errors):
    return errors.watch(context.new_page())



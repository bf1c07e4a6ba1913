"""Plug-in policies in the browser: the start form offers every installed
policy with its own knobs; a Python policy's session steps, goes back,
seeks, shares and forks like a built-in, beside MGLRU in compare mode; and
its views name its lists as the policy describes them."""
from __future__ import annotations

import re

from browser_helpers import fresh_browser_page, open_session, permalink, recipe, shot, wait_step


def lane_label(page, pane=0):
    return page.locator(".pane canvas.base").nth(pane).get_attribute("aria-label")


def counter(page, name, col=1):
    return page.locator(f'#counters tr[data-name="{name}"] td').nth(col).inner_text()


def fingerprint(page):
    # what pane A shows: its list sizes and the reclaim counters
    return (lane_label(page), counter(page, "pgscan_kswapd"), counter(page, "pgsteal_kswapd"),
            counter(page, "workingset_refault_file"))


def test_start_form_offers_every_installed_policy_with_its_knobs(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#scenario-list .scenario")
    keys = page.locator("#f-policy option").evaluate_all("os => os.map((o) => o.value)")
    assert {"lru", "lru_gen", "clock", "clock_py", "s3fifo"} <= set(keys)
    assert page.locator("#f-policy").input_value() == "lru_gen", "the kernel's newer policy first"
    knob = page.locator('[name="s3fifo.small_percent"]')
    assert knob.is_hidden() and knob.is_disabled(), "a policy's knobs are hidden while no pane runs it"
    page.select_option("#f-policy", "s3fifo")
    assert knob.is_enabled()
    assert "Yang" in page.locator("#policy-follows").inner_text()
    page.fill('[name="s3fifo.small_percent"]', "95")
    assert "at most 90" in page.locator('.field-error[data-for="s3fifo.small_percent"]').inner_text()
    assert page.locator("#start-submit").is_disabled()
    page.fill('[name="s3fifo.small_percent"]', "20")
    page.check('#scenario-list input[value="stream-hot-file"]')
    page.fill("#f-ram", "8")
    page.fill("#f-swap-mb", "4")
    page.fill("#f-accesses", "100000")
    page.check("#f-compare")
    page.select_option("#f-policy-b", "lru_gen")
    page.click("#start-submit")
    page.wait_for_url(re.compile(r"/s/[^/?]+\?step=0"))
    wait_step(page, 0)
    assert page.locator(".pane").nth(0).get_attribute("data-policy") == "s3fifo"
    assert "S3-FIFO" in page.locator(".pane h3").nth(0).inner_text()
    page.click("#step")
    wait_step(page, 1)
    assert "main FIFO M (file)" in page.locator("#legend").inner_text()


def test_a_python_policy_session_steps_back_seeks_shares_and_forks(page, server, browser, errors):
    created = server.create(recipe(policies=("clock_py", "lru_gen"), ram_pages=2048, accesses=100000))
    open_session(page, server, created)
    assert page.locator(".pane").nth(0).get_attribute("data-policy") == "clock_py"
    labels = {}
    for n in (1, 2, 3, 4):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
        wait_step(page, n, pane=1)
        labels[n] = fingerprint(page)
    assert labels[4] != labels[1], "scan steps move the clock hand"
    page.keyboard.press("ArrowLeft")
    wait_step(page, 3)
    assert fingerprint(page) == labels[3], "back restores the earlier step exactly"
    # stepping below the head starts a branch (after a confirmation); the same
    # unit from the same state gives the same step 4
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#branch-confirm:not([hidden])")
    page.click("#branch-yes")
    wait_step(page, 4)
    wait_step(page, 4, pane=1)
    assert fingerprint(page) == labels[4], "a Python policy replays the same step bit for bit"
    assert "clock ring (file)" in page.locator("#legend").inner_text()
    page.keyboard.press("t")
    page.wait_for_function("document.querySelector('#text-out').textContent.length > 0")
    text = page.locator("#text-out").text_content()
    assert "CLOCK (second chance), Python" in text and "clock ring" in text
    joined = re.sub(r" \\\n +", " ", text)          # the shell line, its continuations joined
    assert "--policy clock_py,lru_gen" in joined and "a Python policy; add --policies DIR" in joined
    assert "cat /sys/kernel/debug/lru_gen (pane B)" in text
    shot(page, "python-clock-vs-mglru")
    url = permalink(page)
    assert "step=4" in url and created["owner_token"] not in url
    with fresh_browser_page(browser, errors) as other:
        other.goto(url.replace("step=4", "step=2"))
        wait_step(other, 2, 0)
        wait_step(other, 2, 1)
        assert fingerprint(other) == labels[2], "a share link seeks to the same state"
        other.click("#fork")
        other.wait_for_url(re.compile(r"/s/(?!%s)[^/?]+\?step=2" % created["id"]))
        # Both panes drawn and the owner's token accepted: "any pane at step 2"
        # was sometimes pane B alone (pane A's label not there yet), and a
        # step clicked before auth_ok went out as a viewer's, refused.
        wait_step(other, 2, 0)
        wait_step(other, 2, 1)
        # ?. : a poll that lands while the fork's page is still being replaced
        # finds no #session-info, and a predicate that throws ends the wait
        other.wait_for_function("document.querySelector('#session-info')?.textContent.includes(' · owner')")
        assert fingerprint(other) == labels[2]
        other.click("#step")
        other.wait_for_selector(".pane canvas.base[data-step='3']")
        assert other.locator(".pane").nth(0).get_attribute("data-policy") == "clock_py"

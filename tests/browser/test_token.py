"""The owner token never travels in a URL: the page sends it in the first
WebSocket message (`auth`) and becomes the owner; the WebSocket URL it
opens carries no token, on the first connect or a reconnect."""
from __future__ import annotations

from browser_helpers import open_session, recipe, wait_step


def test_the_owner_token_goes_in_the_first_message_not_the_url(page, server):
    created = server.create(recipe(ram_pages=512, accesses=20000))
    urls, sent = [], []

    def on_ws(ws):
        urls.append(ws.url)
        ws.on("framesent", lambda payload: sent.append(payload))

    page.on("websocket", on_ws)
    open_session(page, server, created, step=0)
    page.wait_for_function("() => document.querySelector('#session-info')"
                           "?.textContent.includes('owner')", timeout=20000)
    assert urls and all(created["owner_token"] not in u and "token=" not in u for u in urls)
    assert created["owner_token"] in sent[0] and '"auth"' in sent[0]
    page.click("#step")          # the owner extends the history
    wait_step(page, 1)

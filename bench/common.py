"""What the bench scripts share: one JSON line per result, percentiles, and
(for the browser benches) a session and a page that holds its owner token.
Not a bench itself (run_all.py runs bench_*.py)."""
from __future__ import annotations

import json


def emit(**row):
    print(json.dumps(row), flush=True)


def pct(xs, p):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(p / 100 * (len(xs) - 1)))))
    return round(xs[k], 2)


def make_session(server, ram_pages, policy, scenario, accesses):
    import httpx
    r = httpx.post(server.url + "/api/sessions", timeout=120, json={
        "machine": {"ram_pages": ram_pages, "swap_kind": "zram", "swap_pages": ram_pages // 2},
        "workload": {"scenario": scenario, "params": {}, "accesses": accesses},
        "policies": [{"policy": policy}], "seed": 1})
    r.raise_for_status()
    return r.json()


def owner_page(browser, server, created, init_script=None):
    """A 1280x720 page of the app that holds the session's owner token (the
    start page's localStorage), before it opens the session."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    if init_script:
        ctx.add_init_script(init_script)
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.evaluate("([id, t]) => localStorage.setItem('reclaimlab.token.' + id, t)",
                  [created["id"], created["owner_token"]])
    return ctx, page


def warm(page, n):
    """One run-ahead `access` step of n accesses from the session's page, on a
    socket of its own, so that every measured `scan` step reclaims."""
    page.evaluate("""([n]) => new Promise((res) => {
      const id = location.pathname.split('/').pop();
      const ws = new WebSocket(`ws://${location.host}/ws/sessions/${id}`);
      // protocol v3: the connection opens with a JSON frame and a binary state;
      // the step is answered by one binary step message
      let sent = false;
      ws.onopen = () => {
        ws.send(JSON.stringify({type: 'auth', token: localStorage.getItem('reclaimlab.token.' + id)}));
      };
      ws.onmessage = (e) => {
        if (typeof e.data === 'string') {
          if (JSON.parse(e.data).type === 'error') { ws.close(); res(); }
          return;
        }
        if (!sent) { sent = true; ws.send(JSON.stringify({type: 'step', unit: 'access', count: n})); return; }
        ws.close(); res();
      };
    })""", [n])

"""Issue #12 in a real browser: a step's resulting state is on the pane
canvas in the first frame after its message — or, for the owner at the
head, after the key itself, drawn from the peek the server sent ahead
(docs/protocol.md §3.6) — with no waiting for the animation, the event log
or the counters; that frame carries the pane alone, and the animation
starts a frame later, flying over that final picture without changing it."""
from __future__ import annotations

import json
import re

import pytest
from websockets.sync.client import connect

from browser_helpers import open_session, recipe, wait_step


def history(server, created, steps: int) -> None:
    """The owner's `steps` scan steps, over the protocol, for a viewer to walk."""
    url = server.url.replace("http", "ws", 1) + f"/ws/sessions/{created['id']}"
    with connect(url, compression=None, additional_headers={"Authorization": f"Bearer {created['owner_token']}"}) as ws:
        for _ in range(3):
            ws.recv()                        # hello, frame, state
        ws.send(json.dumps({"type": "step", "unit": "scan", "count": steps}))
        while not isinstance(m := ws.recv(), bytes):
            pass

# A requestAnimationFrame callback asked for from the step message's own
# `message` listener (registered before the page's onmessage) runs in the
# first frame after the message. What the pane's canvas holds then is what
# that frame presents.
FIRST_FRAME = """
window.__first = [];
// FNV-1a over the canvas's pixels: two canvases compare without shipping them
window.__pixels = (c) => {
  const d = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
  let h = 2166136261;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619);
  return `${c.width}x${c.height}:${h >>> 0}`;
};
// Frames numbered by a rAF callback registered before the page's scripts,
// so it runs first in every frame: an overlay drawing op made in frame
// `__frame`'s callbacks is presented in that frame. (Reading the overlay
// from a task posted after the step's first frame raced with the next
// frame's callbacks on a busy machine.)
window.__frame = 0;
const countFrames = () => { window.__frame++; requestAnimationFrame(countFrames); };
requestAnimationFrame(countFrames);
window.__overlayOps = [];   // the frame of every drawing op on an overlay canvas (clearing is not one)
for (const op of ['fillRect', 'strokeRect', 'fillText', 'strokeText', 'fill', 'stroke', 'drawImage', 'putImageData']) {
  const native = CanvasRenderingContext2D.prototype[op];
  CanvasRenderingContext2D.prototype[op] = function (...a) {
    if (this.canvas.classList?.contains('overlay')) window.__overlayOps.push(window.__frame);
    return native.apply(this, a);
  };
}
const NativeWS = window.WebSocket;
window.WebSocket = class extends NativeWS {
  constructor(...a) {
    super(...a);
    this.addEventListener('message', (e) => {
      if (typeof e.data === 'string') return;
      const dv = new DataView(e.data instanceof ArrayBuffer ? e.data : e.data.buffer);
      const h = JSON.parse(new TextDecoder().decode(new Uint8Array(e.data, 4, dv.getUint32(0, true))));
      if (h.type !== 'step' || h.peek) return;
      window.__watch(h.step, 'message');
      // (a redraw of the log asked for in the message's own task, as a search
      // keystroke or a timeline landing beside it would)
      if (window.__askInfo) document.querySelector('#log-search').dispatchEvent(new Event('input'));
    });
  }
};
// A task between frames: what it (and the page's handler after it) draws
// is presented in the next frame, the step's first. A key's task is one
// too: the owner's step drawn from a peek is drawn there.
window.__watch = (step, via) => {
  const rec = {step, via, frame: window.__frame + 1, ops: window.__overlayOps.length};
  window.__first.push(rec);
  requestAnimationFrame(() => {
    const c = document.querySelector('.pane canvas.base');
    Object.assign(rec, {shown: c.dataset.step, logShows: c.closest('.pane').dataset.shown,
                        base: window.__pixels(c)});
  });
};
addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowRight') return;
  const c = document.querySelector('.pane canvas.base');
  window.__watch(Number(c.dataset.step) + 1, 'key');
}, true);
"""

# The record of step n's first frame: its step message's, or (no message:
# drawn from a peek) its key's.
FIRST_OF = """n => { const r = window.__first.filter((x) => x.step === n);
  return r.find((x) => x.via === 'message') || r.find((x) => x.via === 'key'); }"""


def first_frame(page, n):
    """What step n's first frame showed: the pane's step, the log's, and
    whether a message or a key brought it. Called once the log shows step n
    (a frame after the pane), when every record of that frame is made; waits
    until each is read."""
    page.wait_for_function("n => window.__first.filter((x) => x.step === n).every((x) => x.base != null)",
                           arg=n, timeout=20000)
    return page.evaluate(f"n => {{ const f = ({FIRST_OF})(n); return {{shown: f.shown, logShows: f.logShows, via: f.via}}; }}", n)


def base_pixels(page):
    return page.evaluate("() => window.__pixels(document.querySelector('.pane canvas.base'))")


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_the_first_frame_after_a_step_shows_its_final_state(context, server, errors, role):
    """The owner at the head steps from peeks (the key's task draws); a
    viewer walking the history gets step messages (their task draws)."""
    context.add_init_script(FIRST_FRAME)
    page = errors.watch(context.new_page())
    created = server.create(recipe(policies=("lru",), scenario="anon-loop"))
    if role == "viewer":
        history(server, created, 6)
    open_session(page, server, created, step=0 if role == "viewer" else None, owner=role == "owner")
    flew, via = 0, []
    for n in range(1, 6):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
        first = first_frame(page, n)
        via.append(first["via"])
        # the pane is drawn in the message's (or the key's) task: that frame
        # already shows step n, while the secondary panels still show the step before
        assert first["shown"] == str(n), first
        assert first["logShows"] == str(n - 1), "the log and counters wait for the frame after"
        page.wait_for_timeout(250)    # mid-animation (1.1 s): the folios fly
        # ... and nothing over it: the flights are planned and first drawn in
        # a later frame (their overlay and its copy were ~1 ms of this one)
        frames = page.evaluate(f"n => {{ const f = ({FIRST_OF})(n);"
                               " return {first: f.frame, ops: window.__overlayOps.slice(f.ops)}; }", n)
        assert all(f > frames["first"] for f in frames["ops"]), \
            f"step {n}: the flights drew in the step's first frame ({frames})"
        flew += page.evaluate("() => { const o = document.querySelector('.pane canvas.overlay');"
                              " return o.getContext('2d').getImageData(0, 0, o.width, o.height).data.some((v) => v); }")
        page.wait_for_timeout(1100)   # the animation lands
        # the canvas that frame presented is the final picture: the flights
        # only ever drew over it, on the overlay
        final = base_pixels(page)
        got = page.evaluate(f"n => ({FIRST_OF})(n).base", n)
        assert got == final, f"step {n}: the pane changed after its first frame"
        assert page.evaluate("() => !document.querySelector('.pane canvas.overlay').getContext('2d')"
                             ".getImageData(0, 0, 320, 260).data.some((v) => v)"), "the overlay is cleared once landed"
    assert flew, "some step's folios flew, once the frame that showed it was presented"
    if role == "viewer":
        assert via == ["message"] * 5, via
    else:   # the first key may come before the first peek does
        assert via[1:] == ["key"] * 4, via


# The key's task: the request is sent in it, and it writes nothing to the
# DOM. A DOM write there (the buttons greying out) made Chromium run a
# rendering update right after the key, and the step's reply, arriving a
# few ms later, waited behind that frame (issue #12: key -> message 7-8 ms
# with ~2 ms of server work). A MutationObserver's records are delivered
# in a microtask of the same task, so `inKey` tells which task made them.
# The key's task ends when a posted message runs; a reply fast enough to be
# taken before that task (the two task sources have no order) ends it too,
# by a listener the socket gets before the page's own. So does a rendering
# update, a timer, an idle callback or a fetch's reply run in between: their
# callbacks (the previous step's frames, still drawing; the timeline's
# series, whose reply sets an attribute) are other tasks, and their writes
# are not the key's. A counted record names its target, for whoever reads a
# failure.
KEY_TASK = """
window.__key = {inKey: false, sent: [], muts: 0};
const notKey = (cb) => function (...a) { window.__key.inKey = false; return cb.apply(this, a); };
const nativeRaf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (cb) => nativeRaf(notKey(cb));
const nativeTimeout = window.setTimeout.bind(window);
window.setTimeout = (cb, ...rest) => nativeTimeout(typeof cb === 'function' ? notKey(cb) : cb, ...rest);
const nativeInterval = window.setInterval.bind(window);
window.setInterval = (cb, ...rest) => nativeInterval(typeof cb === 'function' ? notKey(cb) : cb, ...rest);
if (window.requestIdleCallback) {
  const nativeIdle = window.requestIdleCallback.bind(window);
  window.requestIdleCallback = (cb, ...rest) => nativeIdle(notKey(cb), ...rest);
}
const notKeyThen = (p) => p.then((v) => { window.__key.inKey = false; return v; });
const nativeFetch = window.fetch.bind(window);
window.fetch = (...a) => notKeyThen(nativeFetch(...a));
for (const m of ['text', 'json']) {
  const native = Response.prototype[m];
  Response.prototype[m] = function (...a) { return notKeyThen(native.apply(this, a)); };
}
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => { window.__key.inKey = false; });
  }
};
addEventListener('keydown', () => {
  window.__key.inKey = true;
  const ch = new MessageChannel();
  ch.port1.onmessage = () => { window.__key.inKey = false; };
  ch.port2.postMessage(0);
}, true);
new MutationObserver((rs) => {
  if (!window.__key.inKey) return;
  window.__key.muts += rs.length;
  window.__key.what = rs.map((r) => `${r.type} ${r.target.nodeName}#${r.target.id || ''} ${r.attributeName || ''}`);
})
  .observe(document, {subtree: true, attributes: true, childList: true, characterData: true});
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (d) {
  window.__key.sent.push([String(d), window.__key.inKey, window.__frame]);
  return send.call(this, d);
};
"""


def test_a_step_key_sends_in_its_own_task_and_leaves_the_page_to_the_reply(context, server, errors):
    """A step that needs the server's reply (here a viewer's, walking the
    history; the owner's at the head is drawn from a peek, next test)."""
    context.add_init_script(KEY_TASK)
    page = errors.watch(context.new_page())
    created = server.create(recipe(policies=("lru",), scenario="anon-loop"))
    history(server, created, 8)
    open_session(page, server, created, step=0, owner=False)
    page.wait_for_function("!document.querySelector('#step').disabled")
    for n in range(1, 4):
        page.evaluate("() => { window.__key.sent = []; window.__key.muts = 0; }")
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
        k = page.evaluate("() => window.__key")
        steps = [s for s in k["sent"] if '"type":"step"' in s[0]]
        assert len(steps) == 1 and steps[0][1], f"the step request leaves in the keydown's task: {k}"
        assert k["muts"] == 0, f"the keydown's task wrote to the DOM ({k['muts']} mutation records: {k.get('what')})"
    # Input while the server works is dropped, whether the buttons are greyed
    # yet or not: a second key and a click in the same task send nothing more.
    page.evaluate("() => { window.__key.sent = []; }")
    page.evaluate("""() => {
      const key = () => document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
      key(); key(); document.querySelector('#step').click();
    }""")
    wait_step(page, 4)
    page.wait_for_timeout(300)
    sent = page.evaluate("() => window.__key.sent.map((s) => s[0])")
    assert sum('"type":"step"' in s for s in sent) == 1, sent
    assert page.locator("#step").is_enabled(), "the buttons are usable again once the step is answered"
    assert "busy" not in page.locator("#toast").inner_text(), "a dropped click says nothing, as a dropped key"


def test_an_owner_key_at_the_head_draws_the_peeked_step_in_its_own_task_and_the_server_logs_it(
        context, server, browser, errors):
    """The owner's step from a peek: drawn in the key's task with no message
    received in between, the step sent with `have` in a later frame (the
    server's work for it would otherwise share the cores with the frame that
    shows it), answered step_ok, and the history the server keeps is what
    the page showed: a viewer opening the same step sees the same counters."""
    context.add_init_script(KEY_TASK + FIRST_FRAME + """
window.__got = [];
const NativeWS2 = window.WebSocket;
window.WebSocket = class extends NativeWS2 {
  constructor(...a) {
    super(...a);
    this.addEventListener('message', (e) => window.__got.push([performance.now(),
      typeof e.data === 'string' ? JSON.parse(e.data).type : 'binary']));
  }
};
""")
    page = errors.watch(context.new_page())
    created = server.create(recipe(policies=("lru_gen",), scenario="stream-hot-file"))
    open_session(page, server, created)
    page.wait_for_function("!document.querySelector('#step').disabled")
    for n in range(1, 5):
        # the peek of step n (the first is asked for once the owner is
        # known, the next after each step_ok), drawn ahead for its key
        page.wait_for_function("n => window.reclaimlab.ahead().step === n", arg=n, timeout=20000)
        page.evaluate("() => { window.__key.sent = []; window.__got = []; }")
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
        page.wait_for_function(f"String({n}) === document.querySelector('#nr-steps').textContent")
        r = page.evaluate(f"""n => {{ const f = ({FIRST_OF})(n);
          return {{via: f.via, shown: f.shown, frame: f.frame, got: window.__got, sent: window.__key.sent}}; }}""", n)
        assert r["via"] == "key" and r["shown"] == str(n), r
        steps = [(json.loads(s), frame) for s, _, frame in r["sent"] if '"type":"step"' in s]
        assert [m for m, _ in steps] == [{"type": "step", "unit": "scan", "count": 1, "peek": True, "have": n}], r
        assert steps[0][1] > r["frame"], f"the step left in or before the frame that showed it: {r}"
        kinds = [k for _, k in r["got"]]
        assert kinds[0] == "step_ok" and "frame" not in kinds, kinds   # then the next peek (binary)
    owner_counters = page.evaluate("() => [...document.querySelectorAll('#counters tr[data-name]')]"
                                   ".map((tr) => [tr.dataset.name, tr.children[1].innerText])")
    viewer = browser.new_page()
    try:
        open_session(viewer, server, created, step=4, owner=False)
        wait_step(viewer, 4)
        got = viewer.evaluate("() => [...document.querySelectorAll('#counters tr[data-name]')]"
                              ".map((tr) => [tr.dataset.name, tr.children[1].innerText])")
        assert got == owner_counters and len(got) > 10
    finally:
        viewer.close()


def test_keys_pressed_faster_than_the_server_answers_keep_one_step_and_drop_the_rest(context, server, errors):
    """Three step keys in one task at the head: the first is drawn from the
    peek, the second waits for its step_ok and is then taken, the third is
    dropped (nothing queues up behind the server); the history has two steps."""
    page = errors.watch(context.new_page())
    created = server.create(recipe(policies=("lru_gen",), scenario="stream-hot-file"))
    open_session(page, server, created)
    page.wait_for_function("!document.querySelector('#step').disabled")
    page.keyboard.press("ArrowRight")
    wait_step(page, 1)
    page.wait_for_timeout(300)      # the next peek
    page.evaluate("""() => {
      const key = () => document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
      key(); key(); key();
    }""")
    wait_step(page, 3)
    page.wait_for_timeout(500)
    assert page.locator(".pane canvas.base").first.get_attribute("data-step") == "3"
    assert page.locator("#nr-steps").inner_text() == "3"


# The page's keydown listener on the pane canvas: which drawing calls it
# made there, and the pixels it left. A step drawn ahead from its peek
# (panes.js drawAhead) is copied (drawImage); one drawn by the key puts its
# pixels (putImageData). Bounded by a capture listener, which runs before
# the page's, and one added once the page has bound its own (AFTER_KEY),
# which runs after it: the frames that follow (a slide, a change's
# redraw) are not the key's.
KEY_OPS = """
window.__keyOps = null;
addEventListener('keydown', () => { window.__keyOps = []; }, true);
window.__keyEnd = () => {
  window.__keyOps.done = true;
  window.__keyDrew = window.__pixels(document.querySelector('.pane canvas.base'));
};
for (const op of ['putImageData', 'drawImage']) {
  const native = CanvasRenderingContext2D.prototype[op];
  CanvasRenderingContext2D.prototype[op] = function (...a) {
    const k = window.__keyOps;
    if (k && !k.done && this.canvas.classList?.contains('base')) k.push(op);
    return native.apply(this, a);
  };
}
"""
AFTER_KEY = "() => addEventListener('keydown', () => window.__keyEnd())"

# What each change does to the page, in the page (a synthetic event, as
# the page's own handlers take it), and whether the pane's draw depends on it.
CHANGES = {
    "none": "() => {}",
    "zoom": """() => { const c = document.querySelector('.pane canvas.base'), r = c.getBoundingClientRect();
      c.dispatchEvent(new WheelEvent('wheel', {deltaY: -100, clientX: r.left + 200, clientY: r.top + r.height / 2, bubbles: true, cancelable: true})); }""",
    "selection": """() => { const c = document.querySelector('.pane canvas.base'), r = c.getBoundingClientRect();
      let at = null;
      for (let pfn = 0; pfn < 2048 && !at; pfn++) at = window.reclaimlab.locate(0, pfn);
      c.dispatchEvent(new MouseEvent('click', {clientX: r.left + at.x + 1, clientY: r.top + at.y + 1, bubbles: true})); }""",
    "view": "() => document.querySelector('.tabs [data-view=hardware]').click()",
}
KEY = "() => document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}))"
# a frame, then the idle callbacks queued by then (the pictures drawn ahead again)
FRAME_AND_IDLE = "() => new Promise((r) => requestAnimationFrame(() => requestIdleCallback(() => r())))"


# (a resize cannot be made and keyed within one task, so it has no
# `at_once`: the picture's size is compared at the key with the rest of
# the view's call, panes.js viewCall, as the zoom is)
@pytest.mark.parametrize("change,when", [
    ("none", "settled"), ("zoom", "settled"), ("zoom", "at_once"), ("selection", "settled"),
    ("selection", "at_once"), ("view", "settled"), ("view", "at_once"), ("resize", "settled")])
def test_a_peeked_step_drawn_ahead_is_shown_only_as_the_key_would_draw_it(context, server, errors, change, when):
    """The owner's peeked step is drawn ahead of its key, and the key copies
    that picture, but only one made for the pane as it is drawn at the key:
    a zoom, a selection, a view or a size changed after the peek arrived is
    either drawn ahead again (`settled`: a frame and an idle callback later)
    or, when the key comes first (`at_once`: the change and the key in one
    task), the key draws the pane itself. Either way what the key leaves on
    the canvas, and its first frame, are what the page draws for that step
    from scratch (a redraw after the animation, when nothing is ahead any
    more)."""
    context.add_init_script(FIRST_FRAME + KEY_OPS)
    page = errors.watch(context.new_page())
    created = server.create(recipe(policies=("lru",), scenario="anon-loop"))
    open_session(page, server, created)
    page.wait_for_function("!document.querySelector('#step').disabled")
    # what the key itself left on the pane canvas, read right after the
    # page's listener (a change's redraw in the next frame would otherwise
    # cover a stale picture before any frame reads it)
    page.evaluate(AFTER_KEY)
    page.keyboard.press("ArrowRight")
    wait_step(page, 1)
    page.wait_for_function("() => window.reclaimlab.ahead().step === 2", timeout=20000)
    drawn = page.evaluate("() => window.reclaimlab.ahead().drawn")
    if when == "settled":
        if change == "resize":
            page.set_viewport_size({"width": 1000, "height": 700})
            page.wait_for_function("() => document.querySelector('.pane canvas.base').width < 980")
        else:
            page.evaluate(CHANGES[change])
        page.evaluate(FRAME_AND_IDLE)
        page.evaluate(FRAME_AND_IDLE)
        if change != "none":
            again = page.evaluate("() => window.reclaimlab.ahead()")
            assert again["step"] == 2 and again["drawn"] > drawn, \
                f"a change the pane's draw depends on draws the pictures ahead again: {again}"
        page.evaluate(KEY)
    else:
        page.evaluate(f"() => {{ ({CHANGES[change]})(); ({KEY})(); }}")
    wait_step(page, 2)
    page.wait_for_function("() => window.__first.some((x) => x.step === 2 && x.base != null)", timeout=20000)
    first = page.evaluate(f"() => ({FIRST_OF})(2)")
    ops = page.evaluate("() => [...window.__keyOps]")
    assert first["via"] == "key" and first["shown"] == "2", first
    if when == "settled":
        assert ops == ["drawImage"], f"the key copies the picture drawn ahead: {ops}"
    else:
        assert "drawImage" not in ops and "putImageData" in ops, \
            f"a picture drawn before the {change} is not shown: the key draws the pane: {ops}"
    page.wait_for_timeout(1300)     # the animation lands
    page.evaluate("() => dispatchEvent(new Event('resize'))")     # the panes drawn again, from scratch
    page.evaluate(FRAME_AND_IDLE)
    assert page.evaluate("() => window.reclaimlab.ahead().step") != 2, "nothing is drawn ahead for a shown step"
    final = base_pixels(page)
    assert page.evaluate("() => window.__keyDrew") == final, f"the key drew the step as the page draws it ({change}, {when})"
    assert first["base"] == final, f"the key's frame is the step as the page draws it ({change}, {when})"


# Every peek the page receives ({step, unit}), from the message's header.
PEEKS = """
window.__peeks = [];
const NativeWS3 = window.WebSocket;
window.WebSocket = class extends NativeWS3 {
  constructor(...a) {
    super(...a);
    this.addEventListener('message', (e) => {
      if (typeof e.data === 'string') return;
      const dv = new DataView(e.data);
      const h = JSON.parse(new TextDecoder().decode(new Uint8Array(e.data, 4, dv.getUint32(0, true))));
      if (h.type === 'step' && h.peek) window.__peeks.push({step: h.step, unit: h.peek.unit});
    });
  }
};
"""


def test_pictures_drawn_ahead_are_what_the_key_draws_itself_step_by_step_aged_steps_too(browser, server):
    """Two owners of the same recipe (the engine is deterministic) step
    through the same MGLRU `shrink` steps, some of which age (max_seq grows,
    and the step's first frame shows the generations slid right, from where
    they slide into place): one page from the pictures drawn ahead of each
    key, the other with no idle time to draw them, so its keys draw. Every
    key leaves the same pixels on the pane canvas."""
    pages, ctxs = {}, []
    try:
        for side in ("ahead", "key_draws"):
            ctx = browser.new_context(viewport={"width": 1280, "height": 720})
            ctxs.append(ctx)
            ctx.add_init_script(FIRST_FRAME + KEY_OPS + PEEKS
                                + ("window.requestIdleCallback = () => 0;" if side == "key_draws" else ""))
            page = ctx.new_page()
            errs = []
            page.on("pageerror", lambda e, errs=errs: errs.append(str(e)))
            created = server.create(recipe(policies=("lru_gen",), scenario="anon-loop"))
            open_session(page, server, created)
            page.wait_for_function("!document.querySelector('#step').disabled")
            page.evaluate(AFTER_KEY)
            page.keyboard.press("3")     # unit = shrink
            pages[side] = (page, errs)
        got = {side: [] for side in pages}
        max_seq = []
        for n in range(1, 7):
            for side, (page, _) in pages.items():
                page.wait_for_function("n => { const p = window.__peeks.at(-1);"
                                       " return p && p.step === n && p.unit === 'shrink'; }", arg=n, timeout=20000)
                if side == "ahead":
                    page.wait_for_function("n => { const a = window.reclaimlab.ahead(); return a.step === n && a.current; }",
                                           arg=n, timeout=20000)
                page.keyboard.press("ArrowRight")
                wait_step(page, n)
                got[side].append(page.evaluate("() => ({drew: window.__keyDrew, ops: [...window.__keyOps]})"))
            max_seq.append(int(re.search(r"max_seq (\d+)", pages["ahead"][0].locator(".pane .sub").first.inner_text())[1]))
        assert all(g["ops"] == ["drawImage"] for g in got["ahead"]), got["ahead"]
        assert all("putImageData" in g["ops"] and "drawImage" not in g["ops"] for g in got["key_draws"]), got["key_draws"]
        assert len(set(max_seq)) > 1, f"some step aged (its first frame slides): max_seq {max_seq}"
        for n, (a, k) in enumerate(zip(got["ahead"], got["key_draws"]), 1):
            assert a["drew"] == k["drew"], f"step {n}: the picture drawn ahead is not what the key draws (max_seq {max_seq})"
        assert all(not errs for _, errs in pages.values()), [errs for _, errs in pages.values()]
    finally:
        for ctx in ctxs:
            ctx.close()


def test_a_log_redraw_asked_for_in_a_steps_own_task_waits_for_the_frame_after(context, server, errors):
    """Whatever asks for the log, counters and plots in the task that brings a
    step (here the log's search box, in the step message's own task), the
    frame that first shows the step carries its pane alone; they follow a
    frame later (panes.js: the step's first frame draws no info)."""
    context.add_init_script(FIRST_FRAME + "window.__askInfo = true;")
    page = errors.watch(context.new_page())
    created = server.create(recipe(policies=("lru",), scenario="anon-loop"))
    history(server, created, 4)
    open_session(page, server, created, step=0, owner=False)
    for n in range(1, 4):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
        first = first_frame(page, n)
        assert first == {"shown": str(n), "logShows": str(n - 1), "via": "message"}, first

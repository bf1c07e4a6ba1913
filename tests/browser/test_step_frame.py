"""Issue #12 in a real browser: a step's resulting state is on the pane
canvas in the first frame after its message (no waiting for the animation,
the event log or the counters); that frame carries the pane alone, and the
animation starts a frame later, flying over that final picture without
changing it."""
from __future__ import annotations

from browser_helpers import open_session, recipe, wait_step

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
      if (h.type !== 'step') return;
      // a task between frames: what it (and the page's handler after it)
      // draws is presented in the next frame, the step's first
      const rec = {step: h.step, frame: window.__frame + 1, ops: window.__overlayOps.length};
      window.__first.push(rec);
      requestAnimationFrame(() => {
        const c = document.querySelector('.pane canvas.base');
        Object.assign(rec, {shown: c.dataset.step, logShows: c.closest('.pane').dataset.shown,
                            base: window.__pixels(c)});
      });
    });
  }
};
"""


def base_pixels(page):
    return page.evaluate("() => window.__pixels(document.querySelector('.pane canvas.base'))")


def test_the_first_frame_after_a_step_message_shows_its_final_state(context, server, errors):
    context.add_init_script(FIRST_FRAME)
    page = errors.watch(context.new_page())
    created = server.create(recipe(policies=("lru",), scenario="anon-loop"))
    open_session(page, server, created)
    flew = 0
    for n in range(1, 6):
        page.keyboard.press("ArrowRight")
        page.wait_for_function("n => window.__first.some((f) => f.step === n && f.base != null)", arg=n, timeout=20000)
        first = page.evaluate("n => { const f = window.__first.find((x) => x.step === n);"
                              " return {shown: f.shown, logShows: f.logShows}; }", n)
        # the pane is drawn in the message's task: that frame already shows step n,
        # while the secondary panels still show the step before
        assert first["shown"] == str(n), first
        assert first["logShows"] == str(n - 1), "the log and counters wait for the frame after"
        wait_step(page, n)
        page.wait_for_timeout(250)    # mid-animation (1.1 s): the folios fly
        # ... and nothing over it: the flights are planned and first drawn in
        # a later frame (their overlay and its copy were ~1 ms of this one)
        frames = page.evaluate("n => { const f = window.__first.find((x) => x.step === n);"
                               " return {first: f.frame, ops: window.__overlayOps.slice(f.ops)}; }", n)
        assert all(f > frames["first"] for f in frames["ops"]), \
            f"step {n}: the flights drew in the step's first frame ({frames})"
        flew += page.evaluate("() => { const o = document.querySelector('.pane canvas.overlay');"
                              " return o.getContext('2d').getImageData(0, 0, o.width, o.height).data.some((v) => v); }")
        page.wait_for_timeout(1100)   # the animation lands
        # the canvas that frame presented is the final picture: the flights
        # only ever drew over it, on the overlay
        final = base_pixels(page)
        got = page.evaluate("n => window.__first.find((x) => x.step === n).base", n)
        assert got == final, f"step {n}: the pane changed after its first frame"
        assert page.evaluate("() => !document.querySelector('.pane canvas.overlay').getContext('2d')"
                             ".getImageData(0, 0, 320, 260).data.some((v) => v)"), "the overlay is cleared once landed"
    assert flew, "some step's folios flew, once the frame that showed it was presented"


# The key's task: the request is sent in it, and it writes nothing to the
# DOM. A DOM write there (the buttons greying out) made Chromium run a
# rendering update right after the key, and the step's reply, arriving a
# few ms later, waited behind that frame (issue #12: key -> message 7-8 ms
# with ~2 ms of server work). A MutationObserver's records are delivered
# in a microtask of the same task, so `inKey` tells which task made them.
KEY_TASK = """
window.__key = {inKey: false, sent: [], muts: 0};
addEventListener('keydown', () => {
  window.__key.inKey = true;
  const ch = new MessageChannel();
  ch.port1.onmessage = () => { window.__key.inKey = false; };
  ch.port2.postMessage(0);
}, true);
new MutationObserver((rs) => { if (window.__key.inKey) window.__key.muts += rs.length; })
  .observe(document, {subtree: true, attributes: true, childList: true, characterData: true});
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (d) {
  window.__key.sent.push([String(d), window.__key.inKey]);
  return send.call(this, d);
};
"""


def test_a_step_key_sends_in_its_own_task_and_leaves_the_page_to_the_reply(context, server, errors):
    context.add_init_script(KEY_TASK)
    page = errors.watch(context.new_page())
    created = server.create(recipe(policies=("lru",), scenario="anon-loop"))
    open_session(page, server, created)
    page.wait_for_function("!document.querySelector('#step').disabled")
    for n in range(1, 4):
        page.evaluate("() => { window.__key.sent = []; window.__key.muts = 0; }")
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
        k = page.evaluate("() => window.__key")
        steps = [s for s in k["sent"] if '"type":"step"' in s[0]]
        assert len(steps) == 1 and steps[0][1], f"the step request leaves in the keydown's task: {k}"
        assert k["muts"] == 0, f"the keydown's task wrote to the DOM ({k['muts']} mutation records)"
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

// The application: wires the store, the connection, the panes and the
// controls. A server message goes through reduceMessage() (the next state
// and the effects to run); user input goes through the controls; everything
// is drawn from the store in one frame-loop commit. main.js builds the
// pieces (DOM, store, connection, frame loop) and hands them here.
import { encodeCommand } from "./protocol.js";
import { engineNote } from "./engineNote.js";
import { machineLine } from "./machineLine.js";
import { parseLocation } from "./parseLocation.js";
import { reduceMessage } from "./reduceMessage.js";
import { createControls } from "./controls.js";
import { createPanes } from "./panes.js";
import { startScreen } from "./startScreen.js";
import { tokenKey } from "./tokenKey.js";
import { fmt } from "./format.js";
import { createPlots } from "./views/plots.js";

export function createApp({ dom, store, connect, frameLoop, api, location, storage, clipboard, now }) {
  const s = store.state;
  let conn = null;
  // The step a peek shows (docs/protocol.md §3.6) leaves AFTER_FRAME_MS
  // after the key, once the frame that shows it is on the screen: the
  // server's work for it (the step again, then the next peek: ~9 ms of CPU
  // at 16 Ki frames) would otherwise share the two cores with that frame's
  // raster and swap. Any other command sends it first, so the server's
  // order is the page's.
  const AFTER_FRAME_MS = 40;
  let deferred = null;
  const flush = () => { if (deferred && conn) conn.send(deferred); deferred = null; };
  const send = (type, fields) => { flush(); if (conn) conn.send(encodeCommand(type, fields)); };
  const sendAfterFrame = (type, fields) => { flush(); deferred = encodeCommand(type, fields); setTimeout(flush, AFTER_FRAME_MS); };
  // Until step_ok, a step shown from a peek is the page's alone: what asks
  // the server about "this step" over REST (a permalink, a fork) waits for
  // it (`settled()`), and `reclaimlab.pending()` says so (tests wait on it).
  // Not a DOM attribute: the key's task writes nothing but the pane.
  let waiters = [];
  const settled = () => {
    if (s.aheadShown == null) return Promise.resolve();
    flush();
    return new Promise((resolve) => waiters.push(resolve));
  };
  function resolveSettled() {
    if (s.aheadShown != null || !waiters.length) return;
    const w = waiters;
    waiters = [];
    w.forEach((resolve) => resolve());
  }
  const plots = createPlots(dom.plots, { onSeek: (n) => { if (!s.busy) { s.anim = null; controls.work("seek", { step: Math.min(n, s.session?.nrSteps ?? n) }); } } });
  // The whole-run timeline (GET /series): fetched on connect and, debounced,
  // whenever the history grows or is rewritten.
  function fetchTimeline(nrSteps) {
    if (!s.session || nrSteps === s.timelineFor) return;
    clearTimeout(fetchTimeline.t);
    fetchTimeline.t = setTimeout(async () => {
      s.timelineFor = nrSteps;
      try {
        const tl = await api.series(s.session.id);
        s.timeline = { stride: tl.stride, nrSteps: tl.nr_steps, panes: tl.panes };
        if (dom.plots) dom.plots.dataset.timeline = String(tl.nr_steps);
        // (landing beside a step, it waits for the frame after the step's
        // first, as every redraw of the panels does: panes.js stepFirstFrame)
        loop.request("info");
      } catch { s.timelineFor = -1; }
    }, s.timelineFor < 0 ? 0 : 800);
  }
  // The panes and the controls call each other (a click selects, a debugfs
  // form steps, an animation's length follows the speed): looked up at call time.
  const panes = createPanes({
    dom, store, send, plots, now,
    loop: { request: (what) => loop.request(what), later: (fn) => loop.later(fn) },
    select: (...a) => controls.select(...a),
    ownerStep: (...a) => controls.ownerStep(...a),
    rate: () => controls.rate(),
  });
  const loop = frameLoop(panes.draw);
  const controls = createControls({ dom, store, send, sendAfterFrame, settled, api, panes, loop, location, storage, clipboard, now, show: onMessage });

  // ---- messages ----------------------------------------------------------
  function onMessage(msg) {
    const { state: next, effects } = reduceMessage(s, msg);
    Object.assign(s, next);
    resolveSettled();
    for (const e of effects) run(e);
  }

  function run(e) {
    if (e.later) { loop.later(() => run({ ...e, later: false })); return; }
    switch (e.do) {
      case "clearBusy": controls.clearBusy(); return;
      case "peekAhead": controls.peekAhead(); return;
      case "stepQueued": controls.actions.step(); return;
      case "send": send(e.type, e.fields); return;
      case "setPanes": store.setPanes(e.panes, { animate: e.animate, now: now() }); return;
      case "animate": panes.showStep(e.prev, e.panes); return;
      case "drawAhead": panes.drawAhead(e.panes); return;
      case "vmstat": e.panes.forEach((p) => s.vmstatByStep.set(`${p.pane}:${p.step}`, p.vmstat)); return;
      case "timeline": fetchTimeline(e.nrSteps); return;
      case "kept": controls.showKept(e.msg); return;
      case "nothingApplied":
        controls.toast(e.done ? "The workload has ended: there is nothing left to step through." : `No ${dom.unit.value} unit could be applied.`);
        return;
      case "inspect": controls.inspectSelected(); return;
      case "mark": globalThis.performance?.mark?.(e.name); return;
      case "seekBar":
        if (e.max) dom.nrSteps.textContent = String(e.msg.nr_steps);
        dom.seek.value = String(e.msg.step);
        if (e.max) dom.seek.max = String(e.msg.nr_steps);
        return;
      case "url": controls.updateUrl(); return;
      case "sessionInfo": controls.renderSessionInfo(); return;
      case "redraw": loop.request(e.what); return;
      case "hello":
        controls.setupRunForm(e.msg);
        panes.build(e.msg);
        controls.renderSessionInfo();
        controls.showWatch(e.msg.recipe);
        controls.showReal(e.msg);
        if (dom.engineNote) {
          const note = engineNote(e.msg);
          dom.engineNote.textContent = note || "";
          dom.engineNote.hidden = !note;
        }
        if (dom.machineLine) {
          // in the header's width: the title holds it whole
          dom.machineLine.textContent = machineLine(e.msg, { short: true });
          dom.machineLine.title = machineLine(e.msg);
        }
        return;
      case "authOk":
        dom.runUntil.hidden = e.role !== "owner";
        controls.renderSessionInfo();
        return;
      case "progress": controls.showBusy(e.msg); return;
      case "runResult": {
        const msg = e.msg;
        dom.status.dataset.run = msg.reason;
        const WHY = {
          found: msg.event ? `found ${msg.event.kind} at step ${msg.step}` : `condition met at step ${msg.step}`,
          cancelled: `cancelled at step ${msg.step}: the history now ends there`,
          end: `the workload ended at step ${msg.step} before the condition held`,
          limit: `no match in ${fmt.count(msg.steps)} steps (stopped at step ${msg.step})`,
        };
        controls.toast(`Run until: ${WHY[msg.reason]}.`);
        if (msg.reason === "found" && msg.event && msg.event.pfn >= 0) {
          const pane = Number(dom.runForm?.dataset.pane || 0);
          const row = panes.rowsOf(s.panes[pane]).find((r) => r.seq === msg.event.seq);
          if (row) controls.select(pane, row.pfn, row.i);
        }
        return;
      }
      case "playState": {
        const msg = e.msg;
        dom.play.textContent = msg.playing ? "❚❚ pause" : "▶ play";
        dom.play.setAttribute("aria-pressed", msg.playing ? "true" : "false");
        if (!msg.playing && msg.reason === "end") controls.toast("The workload has ended.");
        if (!msg.playing && msg.reason === "head") controls.toast("Reached the last recorded step (read-only viewer).");
        return;
      }
      case "error": {
        const msg = e.msg;
        dom.status.textContent = `⚠ ${msg.message}`;
        dom.status.title = msg.message;
        dom.status.dataset.error = msg.code;
        if (msg.code === "branch_needed") { controls.toast(msg.message); return; }
        if (msg.code === "read_only") controls.toast("This shared view is read-only: press Fork to make your own copy.");
        else controls.toast(msg.message + (msg.errno ? ` (${msg.errno})` : ""));
        return;
      }
      default:
        return;
    }
  }

  // ---- start -------------------------------------------------------------
  function startSession(loc) {
    dom.start.hidden = true;
    dom.app.hidden = false;
    s.session = { id: loc.id, role: "viewer", nrSteps: 0 };
    if (loc.folio != null || loc.page) s.selected = { pane: loc.pane || 0, pfn: loc.folio, i: null, event: null, page: loc.page };
    if (loc.view === "hardware") controls.setView("hardware");
    for (const b of [dom.share, dom.copyText, dom.sinceLabel]) b.hidden = false;
    controls.bind();
    controls.setBusy("connect");
    const token = storage.getItem(tokenKey(loc.id));
    const q = new URLSearchParams();
    if (loc.step != null) q.set("step", String(loc.step));
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    conn = connect(`${proto}//${location.host}/ws/sessions/${encodeURIComponent(loc.id)}?${q}`, {
      // the token goes in the first message, never in the URL (docs/protocol.md §3)
      first: () => (token ? [encodeCommand("auth", { token })] : []),
      onMessage,
      onOpen: () => { s.connected = true; s.statePending = false; },
      onClose: (e) => {
        s.connected = false;
        if (e.code === 1008) { dom.status.textContent = `⚠ ${e.reason || "unknown session"}`; dom.status.dataset.error = "unknown_session"; }
      },
      onError: (err) => controls.toast(`bad message from the server: ${err.message}`),
    });
  }

  return {
    start() {
      const loc = parseLocation(location.href);
      if (loc.id) startSession(loc);
      else startScreen({ dom, api, location, storage });
    },
    actions: controls.actions,
    // Where a folio is drawn on pane i (canvas pixels), for tests and tooling.
    locate(i, pfn) { return panes.locate(i, pfn); },
    cell(i) { return panes.cell(i); },
    // The columns plot i draws ([x, ...series]).
    plotData(i) { return plots.data(i); },
    plotRange(i) { return plots.xRange(i); },
    plotMarkers() { return plots.markers(); },
    // The extent (canvas pixels) of everything pane i's last step animation drew.
    flightExtent(i) { return s.flightExtent[i] ?? null; },
    // Pane i's per-frame location array (large machines), as rebuilt from deltas.
    loc(i) { return s.panes[i]?.loc ?? null; },
    // A step is shown from a peek and its step_ok has not come yet (§3.6).
    pending() { return s.aheadShown != null; },
    // The peeked step whose pictures are drawn ahead for its key ({step, current, drawn}).
    ahead() { return panes.ahead(); },
  };
}

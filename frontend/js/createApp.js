// The application: turns server messages into store updates, user input into
// commands, and draws everything from the store in one frame-loop commit.
// main.js builds the pieces (DOM, store, connection, frame loop) and hands
// them here.
import { buildFlights } from "./buildFlights.js";
import { DECISIONS } from "./decisions.js";
import { applyLocDelta, encodeCommand } from "./protocol.js";
import { eventFilter } from "./eventFilter.js";
import { eventRow } from "./eventRow.js";
import { explainEvent } from "./explainEvent.js";
import { FLAGS } from "./flags.js";
import { fmt } from "./format.js";
import { PALETTE } from "./palette.js";
import { paneModel } from "./paneModel.js";
import { readLayout } from "./readLayout.js";
import { parseLocation } from "./parseLocation.js";
import { shareUrl } from "./shareUrl.js";
import { SHORTCUTS } from "./shortcuts.js";
import { mailText } from "./mailText.js";
import { drawFlight } from "./views/flight.js";
import { drawGenerations } from "./views/generations.js";
import { drawHardware } from "./views/hardware.js";
import { drawLruLists, missingWindows } from "./views/lruLists.js";
import { renderCounters } from "./views/counters.js";
import { renderEventLog } from "./views/eventLog.js";
import { renderInspector } from "./views/inspector.js";
import { createPlots } from "./views/plots.js";
import { mountStartForm } from "./views/startForm.js";

const SPEEDS = [1, 2, 4, 8, 16, 32, 60];
const TOKEN_KEY = (id) => `reclaimlab.token.${id}`;

export function createApp({ dom, store, connect, frameLoop, api, location, storage, clipboard, now }) {
  const s = store.state;
  let conn = null;
  let names = null;
  let hello = null;
  // What each pane's policy says about itself (hello.panes[i].info, from
  // engine/registry.py): its view, list names, step units and debugfs file.
  const infoOf = (p) => hello?.panes?.[p?.pane ?? p]?.info || {};
  const isGen = (p) => infoOf(p).view === "generations";
  let lastFrame = null;          // decoded panes of the latest frame
  let statePending = false;
  let wantState = false;
  // Per pane: the location array of the last state frame (large machines);
  // with it the page asks for deltas instead of ~1 byte per frame per step.
  let lastLocs = [];
  // The list layout last received (state or step message): the base of the
  // next step message's delta (readLayout.js).
  let bases = { id: null, panes: [] };
  const zoomAsked = new Set();   // zoom windows requested (pane:step:list:offset:count)
  let paneEls = [];
  let drawn = [];                // per pane: the last base draw result (locate/pfnAt)
  let anim = null;               // {start, duration, flights: [], slide: []}
  let flightExtent = [];         // per pane: the extent of what the last animation drew (tooling)
  let zoom = [];                 // per pane [z0, z1] of each list (lists view)
  let hwZoom = [];               // per pane [z0, z1] of the pfn range (hardware view)
  let showAllCounters = false;
  let logPane = 0;               // compare mode: whose events the log lists
  let inspectMsg = null;
  let shownState = [];           // panes of the latest binary state (list order)
  const vmstatByStep = new Map();
  const plots = createPlots(dom.plots, { onSeek: (n) => { if (!busy) { anim = null; work("seek", { step: Math.min(n, s.session?.nrSteps ?? n) }); } } });
  // The whole-run timeline (GET /series): fetched on connect and, debounced,
  // whenever the history grows or is rewritten.
  let timelineFor = -1;
  function fetchTimeline(nrSteps) {
    if (!s.session || nrSteps === timelineFor) return;
    clearTimeout(fetchTimeline.t);
    fetchTimeline.t = setTimeout(async () => {
      timelineFor = nrSteps;
      try {
        const tl = await api.series(s.session.id);
        s.timeline = { stride: tl.stride, nrSteps: tl.nr_steps, panes: tl.panes };
        if (dom.plots) dom.plots.dataset.timeline = String(tl.nr_steps);
        loop.request("info");
      } catch { timelineFor = -1; }
    }, timelineFor < 0 ? 0 : 800);
  }
  const loop = frameLoop(draw);

  // ---- helpers -----------------------------------------------------------
  function toast(text) {
    dom.toast.textContent = text;
    dom.toast.classList.add("show");
    clearTimeout(toast.t);
    toast.t = setTimeout(() => dom.toast.classList.remove("show"), 2600);
  }
  const send = (type, fields) => conn && conn.send(encodeCommand(type, fields));
  const rate = () => SPEEDS[Number(dom.speed.value)] ?? 4;
  const rowsOf = (p) => {
    const ev = p?.events;
    if (!ev || !ev.n) return [];
    if (ev._rows) return ev._rows;
    const rows = new Array(ev.n);
    for (let i = 0; i < ev.n; i++) rows[i] = eventRow(ev, i, names);
    Object.defineProperty(ev, "_rows", { value: rows, enumerable: false });
    return rows;
  };
  // Faults, insertions and plain accesses crowd out reclaim's decisions.
  const QUIET = new Set(["fault", "add", "access"]);
  function filtered(rows) {
    if (rows._reclaim) return rows._reclaim;
    const out = rows.filter((r) => !QUIET.has(explainEvent(r).verb));
    Object.defineProperty(rows, "_reclaim", { value: out, enumerable: false });
    return out;
  }
  // A whole state: after connect it is the step messages that carry the
  // layout; this is only for a delta this page holds no base for.
  function requestState() {
    if (statePending) { wantState = true; return; }
    statePending = true;
    send("state", {});
  }
  function updateUrl() {
    if (!s.session) return;
    const sel = s.selected;
    const u = shareUrl(location.origin, { id: s.session.id, step: s.panes[0]?.step ?? 0, folio: sel?.pfn ?? null, page: sel?.page ?? null, pane: sel?.pane || null, view: s.view === "hardware" ? "hardware" : null });
    const path = u.slice(location.origin.length);
    try { globalThis.history?.replaceState(null, "", path); } catch { /* file:// or sandboxed */ }
    dom.share.dataset.url = u;
  }

  // ---- panes DOM ---------------------------------------------------------
  function buildPanes(helloMsg) {
    dom.panes.textContent = "";
    dom.panes.classList.toggle("compare", helloMsg.panes.length > 1);
    // A unit only some policies have (MGLRU's aging, which runs until the next
    // inc_max_seq()) is offered when a pane's policy has it (the server answers
    // `unsupported` otherwise).
    const hasAging = helloMsg.panes.some((p) => (p.info?.units || []).includes("aging"));
    const agingOpt = dom.unit.querySelector?.('option[value="aging"]');
    if (agingOpt) {
      agingOpt.disabled = !hasAging;
      agingOpt.title = hasAging ? "run until the next inc_max_seq(); if aging never comes, to the end of the workload"
        : "aging: no policy of this session has generations to age";
      if (!hasAging && dom.unit.value === "aging") dom.unit.value = "scan";
    }
    paneEls = helloMsg.panes.map((p, i) => {
      const box = document.createElement("section");
      box.className = "pane";
      box.dataset.pane = String(i);
      box.dataset.policy = p.policy;
      const h = document.createElement("h3");
      const title = document.createElement("span");
      title.textContent = `${helloMsg.panes.length > 1 ? (i ? "B · " : "A · ") : ""}${p.title || p.policy}`;
      const sub = document.createElement("span");
      sub.className = "sub";
      const zoomInfo = document.createElement("span");
      zoomInfo.className = "zoom-info";
      h.append(title, sub, zoomInfo);
      const stack = document.createElement("div");
      stack.className = "stack";
      const base = document.createElement("canvas");
      base.className = "base";
      base.setAttribute("role", "img");
      const overlay = document.createElement("canvas");
      overlay.className = "overlay";
      stack.append(base, overlay);
      box.append(h, stack);
      if (p.info?.debugfs) box.append(debugfsForm(i, p.info.debugfs));
      dom.panes.append(box);
      base.addEventListener("click", (e) => {
        const r = base.getBoundingClientRect();
        const pfn = drawn[i]?.pfnAt?.(e.clientX - r.left, e.clientY - r.top);
        if (pfn != null && pfn >= 0) select(i, pfn, null);
      });
      base.addEventListener("wheel", (e) => {
        const hw = s.view === "hardware";
        e.preventDefault();
        const zs = hw ? hwZoom : zoom;
        const [z0, z1] = zs[i] || [0, 1];
        const r = base.getBoundingClientRect();
        let fx = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
        if (hw) {
          // Keep the frame under the cursor under the cursor.
          const pfn = drawn[i]?.pfnAt?.(e.clientX - r.left, e.clientY - r.top);
          if (pfn != null) fx = Math.min(1, Math.max(0, (pfn / drawn[i].total - z0) / (z1 - z0)));
        }
        const span = z1 - z0;
        const ns = Math.min(1, Math.max(1 / 65536, span * (e.deltaY > 0 ? 1.5 : 1 / 1.5)));
        const c = z0 + span * fx;
        let a = c - ns * fx;
        a = Math.min(Math.max(0, a), 1 - ns);
        zs[i] = [a, a + ns];
        loop.request("panes");
      }, { passive: false });
      let drag = null;
      base.addEventListener("pointerdown", (e) => {
        const hw = s.view === "hardware";
        drag = { y: e.clientY, hw, z: ((hw ? hwZoom : zoom)[i] || [0, 1]).slice() };
      });
      base.addEventListener("pointerup", () => { drag = null; });
      base.addEventListener("pointermove", (e) => {
        if (!drag || !e.buttons) return;
        const span = drag.z[1] - drag.z[0];
        if (span >= 1) return;
        const dz = -((e.clientY - drag.y) / base.clientHeight) * span;
        const a = Math.min(Math.max(0, drag.z[0] + dz), 1 - span);
        (drag.hw ? hwZoom : zoom)[i] = [a, a + span];
        loop.request("panes");
      });
      return { box, base, overlay, sub, zoomInfo, stack };
    });
    zoom = helloMsg.panes.map(() => [0, 1]);
    hwZoom = helloMsg.panes.map(() => [0, 1]);
    drawn = [];
  }

  // Writes to the policy's simulated debugfs file (MGLRU's
  // /sys/kernel/debug/lru_gen: '+' ages, '-' evicts); the server answers a
  // frame, or an error naming the errno.
  function debugfsForm(i, name) {
    const form = document.createElement("form");
    form.className = "debugfs";
    form.innerHTML = `<label><code>echo</code> <input name="cmd" spellcheck="false" autocomplete="off" aria-label="${name} debugfs command" placeholder="+ memcg_id node_id max_gen_nr"> <code>&gt; /sys/kernel/debug/${name}</code></label> <button type="submit">write</button>`;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = form.cmd.value.trim();
      if (!text) return;
      ownerStep("debugfs", { text: `${text}\n`, pane: i });
    });
    return form;
  }

  function sizeCanvas(c, w, h) {
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; c.style.width = `${w}px`; c.style.height = `${h}px`; }
  }

  // ---- busy ----------------------------------------------------------------
  // A command the server is working on: the page says so (with progress and
  // Cancel for run_until) and ignores stepping input until the answer comes,
  // so keys pressed meanwhile never queue up and re-run work.
  let busy = null;
  function setBusy(what) {
    busy = { what, since: now() };
    clearTimeout(setBusy.t);
    setBusy.t = setTimeout(() => showBusy(null), what === "run_until" ? 0 : 300);
    for (const b of [dom.step, dom.back, dom.play]) b.disabled = true;
    if (dom.runGo) dom.runGo.disabled = true;
  }
  function showBusy(p) {
    if (!busy) return;
    dom.busy.hidden = false;
    dom.busyCancel.hidden = busy.what !== "run_until";
    const secs = ((now() - busy.since) / 1000).toFixed(1);
    if (p) {
      dom.busyProgress.max = Math.max(1, p.total);
      dom.busyProgress.value = p.nr_access;
      dom.busyText.textContent = `run until: ${fmt.count(p.steps)} steps · access ${fmt.count(p.nr_access)} of ${fmt.count(p.total)} · ${secs} s`;
    } else {
      dom.busyProgress.removeAttribute("value");
      dom.busyText.textContent = `${busy.what === "connect" ? "loading the session (replaying its history)" : `${busy.what}: the server is working`}… ${secs} s`;
      clearTimeout(showBusy.t);
      showBusy.t = setTimeout(() => { if (busy && dom.busyProgress.getAttribute("value") == null) showBusy(null); }, 500);
    }
  }
  function clearBusy() {
    busy = null;
    clearTimeout(setBusy.t);
    clearTimeout(showBusy.t);
    dom.busy.hidden = true;
    for (const b of [dom.back, dom.play]) b.disabled = false;
    if (dom.runGo) dom.runGo.disabled = false;
    renderSessionInfo();
  }
  function work(type, fields) {
    if (busy) { toast(`busy with ${busy.what}: wait for it${busy.what === "run_until" ? " or press Esc to cancel" : ""}`); return; }
    setBusy(type);
    send(type, fields);
  }

  // ---- branching -----------------------------------------------------------
  // The owner below the head: stepping there replaces the later steps, so it
  // asks first; the server keeps the replaced history pinned (frame.kept).
  let pendingBranch = null;
  function ownerStep(type, fields) {
    const p = s.panes[0];
    const below = s.session?.role === "owner" && p && p.step < s.session.nrSteps;
    if (busy) { work(type, fields); return; }
    if (!below) { work(type, fields); return; }
    pendingBranch = [type, fields];
    dom.branchText.textContent = `You are at step ${p.step} of ${s.session.nrSteps}. Stepping here starts a new branch: ` +
      `steps ${p.step + 1}–${s.session.nrSteps} are kept at a permanent link (and every link already shared stays as it is).`;
    dom.branchConfirm.hidden = false;
    dom.branchYes.focus();
  }
  function branchAnswer(yes) {
    dom.branchConfirm.hidden = true;
    const b = pendingBranch;
    pendingBranch = null;
    if (yes && b) work(b[0], { ...b[1], branch: true });
  }
  function showKept(msg) {
    if (!msg.kept) return;
    const url = shareUrl(location.origin, { id: msg.kept.id, step: msg.kept.nr_steps });
    dom.keptNote.textContent = "";
    const a = document.createElement("a");
    a.href = url;
    a.textContent = `the previous branch (steps 0–${msg.kept.nr_steps})`;
    a.target = "_blank";
    dom.keptNote.append(`New branch from step ${msg.step - (msg.panes[0]?.steps_applied || 1)}; `, a, " is kept read-only.");
    dom.keptNote.hidden = false;
  }

  // ---- run until -------------------------------------------------------------
  const RUN_EVENTS = { evict: ["pgsteal"], refault: ["workingset_refault"], activate: ["pgactivate", "workingset_activate", "folio_update_gen"] };
  function setupRunForm(msg) {
    dom.runUntil.hidden = msg.role !== "owner";
    const own = msg.names.owners || { mm: [], file: [] };
    const opts = ['<option value="">any page</option>'];
    const esc = (t) => String(t).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    own.file.forEach((n, i) => opts.push(`<option value="f:${i}">file ${esc(n)}${String(n) !== String(i) ? ` (${i})` : ""}</option>`));
    own.mm.forEach((n, i) => opts.push(`<option value="a:${i}">anon mm ${esc(n)}${String(n) !== String(i) ? ` (${i})` : ""}</option>`));
    dom.runWho.innerHTML = opts.join("");
    dom.vmstatNames.innerHTML = msg.names.vmstat.map((n) => `<option value="${n}">`).join("");
    runFormFields();
  }
  function runFormFields() {
    const c = dom.runCond.value;
    const ev = c in RUN_EVENTS;
    for (const el of dom.runForm.querySelectorAll(".rf-who")) el.hidden = !ev;
    dom.runForm.querySelector(".rf-counter").hidden = !(c === "changes" || c === "crosses");
    dom.runForm.querySelector(".rf-n").hidden = !(c === "crosses" || c === "accesses");
  }
  function runUntil() {
    const c = dom.runCond.value;
    const num = (el) => (el.value.trim() === "" ? null : Number(el.value));
    let until;
    if (c in RUN_EVENTS) {
      until = { kind: "event", events: RUN_EVENTS[c] };
      const who = dom.runWho.value;
      if (who) { until.anon = who[0] === "a"; until.mapping = Number(who.slice(2)); }
      const lo = num(dom.runLo);
      const hi = num(dom.runHi);
      if (lo != null) until.index_lo = lo;
      if (hi != null) until.index_hi = hi;
      if ([lo, hi].some((v) => v != null && !(Number.isInteger(v) && v >= 0))) { toast("offsets are whole numbers ≥ 0"); return; }
    } else if (c === "aging") until = { kind: "aging" };
    else if (c === "changes" || c === "crosses") {
      const name = dom.runCounter.value.trim();
      if (!names.vmstat.includes(name)) { toast(`no vmstat counter '${name}'`); return; }
      until = { kind: "counter", counter: name, op: c === "changes" ? "changes" : ">=", value: num(dom.runN) ?? 0 };
    } else if (c === "accesses") {
      const n = num(dom.runN);
      if (!(Number.isInteger(n) && n > 0)) { toast("N is a whole number of accesses > 0"); return; }
      until = { kind: "accesses", n };
    } else until = { kind: "end" };
    const pane = s.selected?.pane ?? logPane ?? 0;
    dom.runForm.dataset.pane = String(pane);
    ownerStep("run_until", { until, unit: dom.unit.value, pane });
  }

  // ---- selection ---------------------------------------------------------
  // A click on the canvas selects a frame (pfn); a click on an event selects
  // the page that event named (the server resolves it by the event's seq),
  // which the inspector then follows by identity across steps and seeks:
  // an evicted page is not its frame's next occupant.
  function select(pane, pfn, eventIndex) {
    const row = eventIndex != null ? rowsOf(s.panes[pane]).find((r) => r.i === eventIndex) : null;
    s.selected = { pane, pfn, i: eventIndex, event: row?.seq ?? null, page: null };
    inspectMsg = null;
    inspectSelected();
    updateUrl();
    loop.request("selection");
  }
  function inspectSelected() {
    const sel = s.selected;
    if (!sel) return;
    if (sel.event != null) send("inspect", { event: sel.event, pfn: sel.pfn, pane: sel.pane });
    else if (sel.page) send("inspect", { mapping: sel.page.mapping, index: sel.page.index, anon: sel.page.anon, pane: sel.pane });
    else send("inspect", { pfn: sel.pfn, pane: sel.pane });
  }

  // ---- messages ----------------------------------------------------------
  function onMessage(msg) {
    switch (msg.type) {
      case "hello": {
        hello = msg;
        setupRunForm(msg);
        lastLocs = [];
        bases = { id: null, panes: [] };
        names = msg.names;
        s.session = { ...(s.session || {}), role: msg.role, nrSteps: msg.nr_steps, compare: msg.compare, pinned: msg.pinned };
        buildPanes(msg);
        renderSessionInfo();
        showWatch(msg.recipe);
        return;
      }
      case "auth_ok": {
        // the owner's controls appear now: the hello (sent before the auth) said viewer
        s.session = { ...(s.session || {}), role: msg.role };
        dom.runUntil.hidden = msg.role !== "owner";
        renderSessionInfo();
        return;
      }
      case "frame": {
        if (busy && busy.what !== "run_until") clearBusy();
        const panes = paneModel.fromFrame(msg, names, s.panes);
        if (msg.truncated) timelineFor = -1;
        s.session.nrSteps = msg.nr_steps;
        fetchTimeline(msg.nr_steps);
        lastFrame = { msg, panes };
        showKept(msg);
        panes.forEach((p) => vmstatByStep.set(`${p.pane}:${p.step}`, p.vmstat));
        if (msg.cause === "step" && msg.panes.every((p) => !p.steps_applied)) {
          toast(msg.done ? "The workload has ended: there is nothing left to step through." : `No ${dom.unit.value} unit could be applied.`);
        }
        if (msg.cause === "step" || msg.cause === "play" || msg.cause === "debugfs" || msg.cause === "run") {
          // Counters and the log update now; the new list order follows.
          store.setPanes(panes.map((p, i) => ({ ...p, lists: s.panes[i]?.lists, flags: s.panes[i]?.flags })), { animate: false });
          requestState();
        } else {
          s.pendingCause = msg.cause;
        }
        dom.nrSteps.textContent = String(msg.nr_steps);
        dom.seek.value = String(msg.step);
        dom.seek.max = String(msg.nr_steps);
        renderSessionInfo();
        loop.request(["step", "play", "debugfs", "run"].includes(msg.cause) ? "info" : "panes");
        return;
      }
      case "state": {
        statePending = false;
        if (!applyLocDelta(msg, lastLocs)) { lastLocs = []; requestState(); return; }
        lastLocs = msg.panes.map((p) => msg.arrays[`p${p.pane}.loc`] || null);
        readLayout(msg, bases);
        if (!onMessage.firstState) { onMessage.firstState = true; globalThis.performance?.mark?.("reclaimlab:first-state"); }
        const fresh = paneModel.fromState(msg);
        const frameP = lastFrame?.panes;
        const merged = fresh.map((p, i) => paneModel.merge(p, frameP?.[i]));
        // zoom windows that arrived before this state (each is checked against its step)
        merged.forEach((p, i) => { if (s.panes[i]?.windows) p.windows = s.panes[i].windows; });
        const prev = shownState;
        shownState = merged;
        const forward = lastFrame && ["step", "play", "debugfs", "run"].includes(lastFrame.msg.cause) && lastFrame.msg.step === msg.step;
        merged.forEach((p) => vmstatByStep.set(`${p.pane}:${p.step}`, p.vmstat));
        store.setPanes(merged, { animate: forward, now: now() });
        if (forward) startAnimation(prev, merged);
        // The inspector answers for one step: ask again for this one.
        if (s.selected && (!inspectMsg || inspectMsg.step !== msg.step)) inspectSelected();
        dom.seek.value = String(msg.step);
        updateUrl();
        renderSessionInfo();
        loop.request("panes");
        if (wantState) { wantState = false; requestState(); }
        return;
      }
      case "step": {
        // One binary message per step (docs/protocol.md §3.5): what the
        // frame and the state after it used to carry, nothing to ask for.
        if (busy && busy.what !== "run_until") clearBusy();
        const layout = readLayout(msg, bases);
        if (!layout) { requestState(); return; }
        lastLocs = layout.map((l) => l.loc ?? null);
        const panes = paneModel.fromStep(msg, names, layout);
        if (msg.truncated) timelineFor = -1;
        s.session.nrSteps = msg.nr_steps;
        fetchTimeline(msg.nr_steps);
        lastFrame = { msg, panes };
        showKept(msg);
        if (msg.cause === "step" && panes.every((p) => !p.stepsApplied)) {
          toast(msg.done ? "The workload has ended: there is nothing left to step through." : `No ${dom.unit.value} unit could be applied.`);
        }
        panes.forEach((p, i) => { if (s.panes[i]?.windows) p.windows = s.panes[i].windows; });
        panes.forEach((p) => vmstatByStep.set(`${p.pane}:${p.step}`, p.vmstat));
        const prev = shownState;
        shownState = panes;
        store.setPanes(panes, { animate: true, now: now() });
        startAnimation(prev, panes);
        if (s.selected && (!inspectMsg || inspectMsg.step !== msg.step)) inspectSelected();
        dom.nrSteps.textContent = String(msg.nr_steps);
        dom.seek.value = String(msg.step);
        dom.seek.max = String(msg.nr_steps);
        updateUrl();
        renderSessionInfo();
        loop.request("panes");
        return;
      }
      case "zoom": {
        // The folio order of one window of a list (location layout, zoomed in).
        const p = s.panes[msg.pane];
        if (!p || p.step !== msg.step) return;
        p.windows = { ...(p.windows || {}), [msg.list]: { step: msg.step, offset: msg.offset, total: msg.total, pfn: msg.arrays.pfn, flags: msg.arrays.flags, young: msg.arrays.young } };
        loop.request("panes");
        return;
      }
      case "folio":
        if (s.selected && msg.identity && msg.identity.anon != null && (s.selected.event != null || s.selected.page)) {
          const id = msg.identity;
          s.selected.page = { mapping: id.mapping, index: id.index, anon: id.anon };
          s.selected.event = null;
          s.selected.pfn = msg.pfn ?? id.pfn_then ?? s.selected.pfn;
          updateUrl();
        }
        inspectMsg = msg;
        loop.request("inspector");
        return;
      case "progress":
        showBusy(msg);
        return;
      case "run_result": {
        clearBusy();
        dom.status.dataset.run = msg.reason;
        const WHY = {
          found: msg.event ? `found ${msg.event.kind} at step ${msg.step}` : `condition met at step ${msg.step}`,
          cancelled: `cancelled at step ${msg.step}: the history now ends there`,
          end: `the workload ended at step ${msg.step} before the condition held`,
          limit: `no match in ${fmt.count(msg.steps)} steps (stopped at step ${msg.step})`,
        };
        toast(`Run until: ${WHY[msg.reason]}.`);
        if (msg.reason === "found" && msg.event && msg.event.pfn >= 0) {
          const pane = Number(dom.runForm?.dataset.pane || 0);
          const row = rowsOf(s.panes[pane]).find((r) => r.seq === msg.event.seq);
          if (row) select(pane, row.pfn, row.i);
        }
        return;
      }
      case "lru_gen":
        if (s.panes[msg.pane]) s.panes[msg.pane].lruGenText = msg.text;
        return;
      case "play_state":
        s.playing = msg.playing;
        dom.play.textContent = msg.playing ? "❚❚ pause" : "▶ play";
        dom.play.setAttribute("aria-pressed", msg.playing ? "true" : "false");
        if (!msg.playing && msg.reason === "end") toast("The workload has ended.");
        if (!msg.playing && msg.reason === "head") toast("Reached the last recorded step (read-only viewer).");
        return;
      case "error":
        if (busy && (busy.what !== "run_until" || msg.ref === "run_until")) clearBusy();
        // A zoom window asked for a step the cursor has since left (a
        // generation aged away): the next draw asks again, nothing to show.
        if (msg.ref === "zoom" && msg.code === "bad_message") return;
        s.lastError = msg;
        dom.status.textContent = `⚠ ${msg.message}`;
        dom.status.title = msg.message;
        dom.status.dataset.error = msg.code;
        if (msg.code === "branch_needed") { toast(msg.message); return; }
        if (msg.code === "read_only") toast("This shared view is read-only: press Fork to make your own copy.");
        else toast(msg.message + (msg.errno ? ` (${msg.errno})` : ""));
        return;
      default:
        return;
    }
  }

  // ---- animation ---------------------------------------------------------
  function startAnimation(prevPanes, panes) {
    const duration = s.playing ? Math.min(900, 850 / rate()) : 1100;
    const flights = [];
    const slide = [];
    panes.forEach((p, i) => {
      const el = paneEls[i];
      const old = drawn[i];
      const rows = rowsOf(p);
      if (!el || !old || !rows.length || s.view !== "lists") { flights.push([]); slide.push(0); return; }
      const w = shownWidth(el);
      const h = el.base.height;
      const moved = new Set(rows.filter((r) => r.pfn >= 0).map((r) => r.pfn));
      const next = drawPane(i, p, { hidden: moved, dry: true });
      const typeOf = (pfn) => (p.loc ? (p.loc[pfn] - 16) & 1 : p.flags ? (p.flags[pfn] & FLAGS.PG_anon ? 0 : 1) : 1);
      const f = buildFlights(rows, {
        from: (pfn) => old.locate(pfn), to: (pfn) => next.locate(pfn),
        fromPlace: (r) => old.place?.(r.src, r.src_seq, "tail", typeOf(r.pfn)),
        toPlace: (r) => next.place?.(r.dst, r.dst_seq, "head", typeOf(r.pfn)),
        width: w, height: h, cell: next.cell, selectedPfn: s.selected?.pane === i ? s.selected.pfn : null,
      });
      flights.push(f);
      const dSeq = (p.gens && prevPanes[i]?.gens) ? p.gens.max_seq - prevPanes[i].gens.max_seq : 0;
      slide.push(dSeq > 0 && next.colW ? dSeq * (next.colW + 8) : 0);
    });
    anim = { start: now(), duration, flights, slide };
    flightExtent = [];
    loop.request("animation");
  }

  // ---- drawing -----------------------------------------------------------
  // The part of a pane's canvas its box shows (a canvas is at least 320 px
  // wide; a narrower pane clips it): animations stay inside it.
  const shownWidth = (el) => Math.min(el.overlay.width, Math.floor(el.stack.clientWidth) || el.overlay.width);
  function extend(e, boxes, el) {
    const out = e || { frames: 0, boxes: 0, x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    out.frames++;
    out.boxes += boxes.length;
    for (const [x, y, w, h] of boxes) {
      out.x0 = Math.min(out.x0, x); out.y0 = Math.min(out.y0, y);
      out.x1 = Math.max(out.x1, x + w); out.y1 = Math.max(out.y1, y + h);
    }
    out.width = shownWidth(el); out.height = el.overlay.height;
    return out;
  }
  function drawPane(i, p, { hidden = null, slide = 0, dry = false } = {}) {
    const el = paneEls[i];
    // Opt-in instrumentation for bench/bench_browser.py (keypress -> drawn step).
    const t0 = globalThis.__reclaimlabDrawn ? globalThis.performance.now() : 0;
    const w = Math.max(320, Math.floor(el.stack.clientWidth || 800));
    const h = Math.max(260, Math.floor(el.stack.clientHeight || 400));
    sizeCanvas(el.base, w, h);
    sizeCanvas(el.overlay, w, h);
    const ctx = el.base.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    const sel = s.selected && s.selected.pane === i ? s.selected.pfn : null;
    let res;
    if (s.view === "hardware") res = drawHardware(ctx, p, { width: w, height: h, zoom: hwZoom[i] || [0, 1] });
    else if (isGen(p)) res = drawGenerations(ctx, p, { width: w, height: h, hidden, selectedPfn: sel, slide, zoom: zoom[i] || [0, 1] });
    else res = drawLruLists(ctx, p, { width: w, height: h, zoom: zoom[i] || [0, 1], hidden, selectedPfn: sel, labels: infoOf(p).lists });
    if (!dry && s.view === "lists" && (res.layout || res.missing)) {
      for (const win of res.missing || missingWindows(p, res.layout)) {
        const key = `${i}:${p.step}:${win.list}:${win.offset}:${win.count}`;
        if (zoomAsked.has(key)) continue;
        if (zoomAsked.size > 512) zoomAsked.clear();
        zoomAsked.add(key);
        send("zoom", { pane: i, ...win });
      }
      el.base.dataset.windows = Object.entries(p.windows || {}).filter(([, w]) => w.step === p.step).map(([k, w]) => `${k}:${w.offset}+${w.pfn.length}`).join(" ");
    }
    if (!dry) {
      if (!drawPane.marked) { drawPane.marked = true; globalThis.performance?.mark?.("reclaimlab:first-draw"); }
      drawn[i] = res;
      el.base.dataset.step = String(p.step);
      if (res.range) el.base.dataset.pfnRange = res.range.join("-"); else delete el.base.dataset.pfnRange;
      el.base.dataset.view = s.view === "hardware" ? "hardware" : isGen(p) ? "generations" : "lists";
      el.base.setAttribute("aria-label", describe(p));
      const z = zoom[i] || [0, 1];
      el.zoomInfo.textContent = s.view === "lists" && (z[0] > 0 || z[1] < 1) ? `zoom: ${Math.round(z[0] * 100)}–${Math.round(z[1] * 100)} % of each ${isGen(p) ? "generation" : "list"} (0 resets)` : "";
      globalThis.__reclaimlabDrawn?.(i, p.step, t0);
    }
    return res;
  }

  function describe(p) {
    if (s.view === "hardware") {
      const mi = p.meminfo || {};
      const sh = p.nrShadow;
      return `${fmt.count(p.nrFrames)} page frames, ${fmt.count(p.nrFree ?? 0)} free; page cache: ${fmt.count((mi.Cached ?? 0) / 4)} folios, ` +
        `${sh && sh.file != null ? fmt.count(sh.file) : "unknown"} shadow entries; swap: ${fmt.count((mi.SwapCached ?? 0) / 4)} swap-cache folios, ` +
        `${sh ? fmt.count(sh.anon) : "unknown"} shadow entries`;
    }
    if (isGen(p) && p.gens) {
      return `MGLRU generations: max_seq ${p.gens.max_seq}, min_seq anon ${p.gens.min_seq[0]} file ${p.gens.min_seq[1]}; ` +
        p.gens.gens.map((g) => `seq ${g.seq}: anon ${g.nr_pages[0]}, file ${g.nr_pages[1]}`).join("; ");
    }
    const c = p.listCounts || {};
    return `LRU lists: ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(", ")}`;
  }

  // The scenario's "what to watch" paragraph stays at hand while stepping.
  async function showWatch(recipe) {
    const name = recipe?.workload?.scenario;
    if (!name || !dom.watch) return;
    try {
      const sc = (await api.scenarios()).find((x) => x.name === name);
      if (!sc) return;
      dom.watchTitle.textContent = `${sc.name}${sc.title ? ` — ${sc.title}` : ""}`;
      dom.watchText.textContent = sc.watch || "";
      dom.watch.hidden = false;
    } catch { /* the paragraph is a help, not a requirement */ }
  }

  function renderSessionInfo() {
    if (!s.session) return;
    const p = s.panes[0];
    const role = s.session.role === "owner" ? "owner" : s.session.pinned ? "pinned link (read-only: Fork to continue)" : "viewer (read-only)";
    dom.sessionInfo.textContent = `session ${s.session.id} · ${role}` + (p ? ` · step ${p.step} of ${s.session.nrSteps} · ${fmt.count(p.nrAccess)} accesses · ${fmt.ns(p.timeNs)} simulated${p.done ? " · workload done" : ""}` : "");
    dom.status.textContent = p ? `step ${p.step}` : "";
    // A viewer can only walk the recorded history.
    dom.step.disabled = Boolean(busy) || (s.session.role !== "owner" && p && p.step >= s.session.nrSteps);
    dom.step.title = dom.step.disabled ? "read-only: this is the last recorded step (Fork to continue)" : "step one unit (→)";
    delete dom.status.dataset.error;
    dom.fork.hidden = false;
  }

  function renderLegend() {
    if (dom.legend.dataset.built === s.view + (s.panes.map((p) => p.policy).join())) return;
    dom.legend.dataset.built = s.view + (s.panes.map((p) => p.policy).join());
    const items = [];
    const sw = (c, t) => `<span><span class="sw" style="background:${c}"></span>${t}</span>`;
    if (s.view === "hardware") {
      items.push(sw(PALETTE.LRU_INACTIVE_ANON, "inactive anon"), sw(PALETTE.LRU_ACTIVE_ANON, "active anon"), sw(PALETTE.LRU_INACTIVE_FILE, "inactive file"), sw(PALETTE.LRU_ACTIVE_FILE, "active file"), sw(PALETTE.LRU_UNEVICTABLE, "unevictable"), sw(PALETTE.isolated, "isolated"), sw(PALETTE.free, "free"), sw(PALETTE.swap, "swap used"), sw(PALETTE.shadow, "shadow entries"));
    } else {
      // each list-view policy's lists under its own names (PolicyInfo.lists)
      const named = new Map();
      for (const p of s.panes.filter((q) => !isGen(q))) {
        for (const [list, label] of Object.entries(infoOf(p).lists || {})) {
          const key = `${list}:${label}`;
          if (!named.has(key)) named.set(key, sw(PALETTE[list], label));
        }
      }
      items.push(...named.values());
      if (s.panes.some((p) => isGen(p))) items.push(...[0, 1, 2, 3].map((t) => sw(PALETTE.tiers[t], `file tier ${t}`)), ...[0, 1, 2, 3].map((t) => sw(PALETTE.tiersAnon[t], `anon tier ${t}`)), "<span>● centre dot = lazily re-filed (gen field ≠ list)</span>", "<span>each generation list: head top left (lru_gen_add_folio()), tail bottom right (evict_folios() isolates there, from min_seq)</span>");
      items.push("<span>marks (zoom in; contrast colour on dark cells): ◤ = PG_referenced · ◥ = PG_workingset · ◣ = dirty · ◢ = young PTE</span>");
      items.push(`<span>decisions: ${Object.entries(DECISIONS).filter(([k]) => ["activate", "keep", "rotate", "promote", "reclaim", "writeback", "swapout"].includes(k)).map(([, d]) => `<b style="color:${d.colour}">${d.glyph}</b> ${d.label}`).join(" · ")}</span>`);
    }
    dom.legend.innerHTML = items.join("");
  }

  function draw(what, t) {
    if (!s.panes.length || !paneEls.length) return false;
    const full = what.has("panes") || what.has("all") || what.has("view") || what.has("selection");
    const info = full || what.has("info");
    let animating = false;
    let frac = 1;
    if (anim) {
      frac = Math.min(1, (t - anim.start) / anim.duration);
      animating = frac < 1;
    }
    s.panes.forEach((p, i) => {
      if (!paneEls[i]) return;
      const flights = anim?.flights?.[i] || [];
      const slide = anim?.slide?.[i] ? anim.slide[i] * (1 - Math.min(1, frac / 0.5)) : 0;
      const hidden = animating && flights.length ? new Set(flights.map((f) => f.pfn)) : null;
      if (full || slide) drawPane(i, p, { hidden, slide });
      const el = paneEls[i];
      const octx = el.overlay.getContext("2d");
      const boxes = drawFlight(octx, animating ? flights : [], frac, { width: shownWidth(el), height: el.overlay.height, cell: drawn[i]?.cell ?? 6, title: isGen(p) ? "isolated: private list of isolate_folios() / scan_folios()" : "isolated: private list of shrink_inactive_list() / shrink_active_list()" });
      if (boxes.length) flightExtent[i] = extend(flightExtent[i], boxes, el);
      const sub = `step ${p.step} · ${fmt.count(p.nrAccess)} accesses · ${fmt.ns(p.timeNs)}` + (p.gens ? ` · max_seq ${p.gens.max_seq}` : "");
      if (el.sub.textContent !== sub) el.sub.textContent = sub;   // unchanged text: no relayout each frame
    });
    if (anim && !animating) {
      anim = null;
      s.panes.forEach((p, i) => paneEls[i] && drawPane(i, p));
    }
    if (info) {
      renderLegend();
      const multi = s.panes.length > 1;
      const rows = multi ? s.panes.flatMap((p, i) => rowsOf(p).map((r) => ({ ...r, pane: i }))) : rowsOf(s.panes[0]);
      const selPane = s.selected?.pane ?? logPane;
      if (dom.logPanes) {
        dom.logPanes.hidden = !multi;
        for (const b of dom.logPanes.querySelectorAll("button")) b.setAttribute("aria-pressed", Number(b.dataset.pane) === selPane ? "true" : "false");
      }
      const allRows = multi ? rowsOf(s.panes[selPane]) : rows;
      const reclaimOnly = dom.logFilter?.checked;
      const search = eventFilter(dom.logSearch?.value, hello?.names?.owners);
      let logRows = reclaimOnly ? filtered(allRows) : allRows;
      if (search) logRows = logRows.filter((r) => search(r, explainEvent(r).text));
      dom.logCount.textContent = `(${multi ? `pane ${selPane ? "B" : "A"}: ` : ""}${logRows.length}${logRows.length !== allRows.length ? ` of ${allRows.length}` : ""})`;
      renderEventLog(dom.eventLog, logRows, {
        selectedPfn: s.selected?.pfn ?? null, selectedIndex: s.selected?.i ?? null,
        dropped: s.panes[selPane]?.events?.dropped ?? 0,
        onSelect: (pfn, idx) => select(selPane, pfn, idx),
        hiddenCount: allRows.length - logRows.length,
      });
      renderCounters(dom.counters, s.panes, { showAll: showAllCounters });
      plots.update(s);
    }
    // Rebuilt only when its answer or the step changed (a rebuild costs a relayout).
    if ((info || what.has("inspector")) && (inspectMsg !== draw.insp || s.panes[0]?.step !== draw.inspStep)) {
      draw.insp = inspectMsg;
      draw.inspStep = s.panes[0]?.step;
      renderInspector(dom.inspector, inspectMsg, names, s.panes[0]?.step);
    }
    return animating;
  }

  // ---- commands ------------------------------------------------------------
  const actions = {
    step() {
      if (s.playing) send("pause");
      ownerStep("step", { unit: dom.unit.value, count: 1 });
    },
    back() {
      if (s.playing) send("pause");
      anim = null;
      work("back", { count: 1 });
    },
    play() {
      if (s.playing) send("pause");
      else send("play", { unit: dom.unit.value, rate: rate() });
    },
    faster() { dom.speed.value = String(Math.min(SPEEDS.length - 1, Number(dom.speed.value) + 1)); speedChanged(); },
    slower() { dom.speed.value = String(Math.max(0, Number(dom.speed.value) - 1)); speedChanged(); },
    seek() { dom.seek.focus(); dom.seek.select?.(); },
    async share() {
      // A permalink: the server pins this history prefix (content-addressed),
      // so the link opens this step and folio whatever the owner does next.
      const step = s.panes[0]?.step ?? 0;
      const sel = s.selected;
      try {
        const r = await api.permalink(s.session.id, step);
        const u = shareUrl(location.origin, { id: r.id, step: r.step, folio: sel?.pfn ?? null, page: sel?.page ?? null, pane: sel?.pane || null, view: s.view === "hardware" ? "hardware" : null });
        dom.share.dataset.permalink = u;
        copy(u, "Share URL copied");
      } catch (err) { toast(`could not make a link: ${err.message}`); }
    },
    text() { copyText(); },
    zoomReset() { zoom = zoom.map(() => [0, 1]); hwZoom = hwZoom.map(() => [0, 1]); loop.request("panes"); },
    help() { dom.help.hidden = !dom.help.hidden; },
    runUntil() {
      if (dom.runUntil.hidden) { toast("Run until extends the history: only the owner can (Fork to get your own copy)."); return; }
      dom.runUntil.open = true;
      dom.runCond.focus();
    },
    escape() {
      if (!dom.help.hidden) { dom.help.hidden = true; return; }
      if (busy && busy.what === "run_until") { send("cancel"); dom.busyText.textContent = "cancelling at the next step boundary…"; return; }
      if (!dom.branchConfirm.hidden) { branchAnswer(false); return; }
      s.selected = null; inspectMsg = null; updateUrl(); loop.request("selection");
    },
  };
  function speedChanged() {
    dom.speedOut.textContent = `${rate()}/s`;
    if (s.playing) send("play", { unit: dom.unit.value, rate: rate() });
  }
  function setView(v) {
    s.view = v;
    for (const b of dom.tabs) b.setAttribute("aria-selected", b.dataset.view === v ? "true" : "false");
    anim = null;
    updateUrl();
    loop.request("view");
  }
  async function copy(text, what) {
    dom.textOut.textContent = text;
    try { await clipboard.writeText(text); toast(`${what}: ${text.length > 90 ? text.slice(0, 90) + "…" : text}`); } catch { toast(`${what} (select it below)`); }
  }
  // Both panes, the recipe and its command line, the selected folio's story.
  async function copyText() {
    const p = s.panes[0];
    if (!p) return;
    const since = dom.since.value.trim() === "" ? NaN : Number(dom.since.value);
    const baseStep = Number.isFinite(since) && since >= 0 && since < p.step ? since : Math.max(0, p.step - 1);
    let used = 0;
    const base = s.panes.map((q) => {
      for (let k = baseStep; k >= 0; k--) { const v = vmstatByStep.get(`${q.pane}:${k}`); if (v) { used = k; return v; } }
      used = 0;
      return {};
    });
    const events = s.panes.map((q) => (dom.logFilter?.checked ? filtered(rowsOf(q)) : rowsOf(q)));
    // The link pins this history, as "Copy share URL" does.
    const pin = await api.permalink(s.session.id, p.step).catch(() => null);
    const sel = s.selected;
    const link = pin ? shareUrl(location.origin, { id: pin.id, step: pin.step, folio: sel?.pfn ?? null, page: sel?.page ?? null, pane: sel?.pane || null })
      : dom.share.dataset.url || "";
    const text = mailText({ recipe: hello?.recipe || {}, link, panes: s.panes, infos: s.panes.map((q) => infoOf(q)), base, baseStep: used, folio: inspectMsg, events, names });
    copy(text, "Text excerpt copied");
  }

  function onKey(e) {
    if (e.target.closest && e.target.closest("input, select, textarea") && e.key !== "Escape") return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const sc = SHORTCUTS.find((x) => x.key === e.key);
    if (!sc) return;
    e.preventDefault();
    const [a, arg] = sc.action.split(":");
    // While the server works, keys are dropped, not queued (Esc cancels a run).
    if (busy && ["step", "back", "play", "seek", "runUntil", "share", "text"].includes(a)) return;
    if (a === "unit") {
      const opt = dom.unit.querySelector?.(`option[value="${arg}"]`);
      if (opt?.disabled) { toast(opt.title); return; }
      dom.unit.value = arg;
      return;
    }
    if (a === "view") { setView(arg); return; }
    actions[a]?.();
  }

  function bindControls() {
    dom.step.addEventListener("click", actions.step);
    dom.back.addEventListener("click", actions.back);
    dom.play.addEventListener("click", actions.play);
    dom.speed.addEventListener("input", speedChanged);
    dom.seek.addEventListener("change", () => { const n = Number(dom.seek.value); if (Number.isInteger(n) && n >= 0) { anim = null; work("seek", { step: n }); } });
    dom.seek.addEventListener("keydown", (e) => { if (e.key === "Enter") dom.seek.dispatchEvent(new Event("change")); if (e.key === "Escape") dom.seek.blur(); });
    for (const b of dom.tabs) b.addEventListener("click", () => setView(b.dataset.view));
    dom.share.addEventListener("click", actions.share);
    dom.branchYes.addEventListener("click", () => branchAnswer(true));
    dom.busyCancel.addEventListener("click", () => actions.escape());
    dom.runForm.addEventListener("submit", (e) => { e.preventDefault(); runUntil(); });
    dom.runCond.addEventListener("change", runFormFields);
    dom.logSearch?.addEventListener("input", () => loop.request("info"));
    dom.branchNo.addEventListener("click", () => branchAnswer(false));
    dom.copyText.addEventListener("click", actions.text);
    dom.helpOpen.addEventListener("click", actions.help);
    dom.help.addEventListener("click", (e) => { if (e.target === dom.help) dom.help.hidden = true; });
    dom.fork.addEventListener("click", async () => {
      try {
        const r = await api.fork(s.session.id, s.panes[0]?.step ?? 0);
        storage.setItem(TOKEN_KEY(r.id), r.owner_token);
        location.assign(`/s/${r.id}?step=${s.panes[0]?.step ?? 0}`);
      } catch (err) { toast(`fork failed: ${err.message}`); }
    });
    dom.logFilter?.addEventListener("change", () => loop.request("info"));
    dom.logPanes?.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-pane]");
      if (!b) return;
      logPane = Number(b.dataset.pane);
      if (s.selected && s.selected.pane !== logPane) { s.selected = null; inspectMsg = null; }
      loop.request("selection");
    });
    dom.counters.addEventListener("click", (e) => {
      if (e.target.classList.contains("more-counters")) { showAllCounters = !showAllCounters; loop.request("panes"); }
    });
    globalThis.addEventListener?.("keydown", onKey);
    globalThis.addEventListener?.("resize", () => loop.request("panes"));
    dom.helpTable.innerHTML = SHORTCUTS.filter((x) => x.label).map((x) => `<tr><td><kbd>${x.label}</kbd></td><td>${x.help}</td></tr>`).join("");
    dom.speedOut.textContent = `${rate()}/s`;
  }

  // ---- start -------------------------------------------------------------
  async function startForm() {
    dom.start.hidden = false;
    dom.app.hidden = true;
    globalThis.addEventListener?.("keydown", (e) => {
      if (e.key === "?" && !e.target.closest("input, select, textarea")) dom.help.hidden = !dom.help.hidden;
      if (e.key === "Escape") dom.help.hidden = true;
    });
    dom.helpOpen.addEventListener("click", () => { dom.help.hidden = !dom.help.hidden; });
    dom.helpTable.innerHTML = SHORTCUTS.filter((x) => x.label).map((x) => `<tr><td><kbd>${x.label}</kbd></td><td>${x.help}</td></tr>`).join("");
    let scenarios = [];
    let limits = {};
    let policies = [];
    try {
      [scenarios, limits, policies] = await Promise.all([api.scenarios(), api.limits().catch(() => ({})), api.policies()]);
    } catch (err) {
      dom.startError.textContent = `could not load the scenario and policy lists: ${err.message}`;
    }
    mountStartForm(dom.startForm, {
      scenarios, limits, policies,
      async onSubmit(recipe, values) {
        dom.startError.textContent = "";
        dom.startSubmit.disabled = true;
        try {
          const r = values.source === "trace" ? await api.uploadSession(recipe, values.trace_file) : await api.createSession(recipe);
          storage.setItem(TOKEN_KEY(r.id), r.owner_token);
          location.assign(`/s/${r.id}?step=0`);
        } catch (err) {
          dom.startError.textContent = err.message;
          dom.startSubmit.disabled = false;
        }
      },
    });
  }

  function startSession(loc) {
    dom.start.hidden = true;
    dom.app.hidden = false;
    s.session = { id: loc.id, role: "viewer", nrSteps: 0 };
    if (loc.folio != null || loc.page) s.selected = { pane: loc.pane || 0, pfn: loc.folio, i: null, event: null, page: loc.page };
    if (loc.view === "hardware") setView("hardware");
    for (const b of [dom.share, dom.copyText, dom.sinceLabel]) b.hidden = false;
    bindControls();
    setBusy("connect");
    const token = storage.getItem(TOKEN_KEY(loc.id));
    const q = new URLSearchParams();
    if (loc.step != null) q.set("step", String(loc.step));
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    conn = connect(`${proto}//${location.host}/ws/sessions/${encodeURIComponent(loc.id)}?${q}`, {
      // the token goes in the first message, never in the URL (docs/protocol.md §3)
      first: () => (token ? [encodeCommand("auth", { token })] : []),
      onMessage,
      onOpen: () => { s.connected = true; statePending = false; },
      onClose: (e) => {
        s.connected = false;
        if (e.code === 1008) { dom.status.textContent = `⚠ ${e.reason || "unknown session"}`; dom.status.dataset.error = "unknown_session"; }
      },
      onError: (err) => toast(`bad message from the server: ${err.message}`),
    });
  }

  return {
    start() {
      const loc = parseLocation(location.href);
      if (loc.id) startSession(loc);
      else startForm();
    },
    actions,
    // Where a folio is drawn on pane i (canvas pixels), for tests and tooling.
    locate(i, pfn) { return drawn[i]?.locate?.(pfn) ?? null; },
    cell(i) { return drawn[i]?.cell ?? null; },
    // The columns plot i draws ([x, ...series]).
    plotData(i) { return plots.data(i); },
    // The extent (canvas pixels) of everything pane i's last step animation drew.
    flightExtent(i) { return flightExtent[i] ?? null; },
    // Pane i's per-frame location array (large machines), as rebuilt from deltas.
    loc(i) { return s.panes[i]?.loc ?? null; },
  };
}

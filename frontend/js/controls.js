// The controls: key bindings and buttons (step, back, play, speed, seek,
// views, share, copy as text, fork), the branch question, the run-until
// form, the busy indicator, selection, and the status line. They write the
// store and send commands; the panes draw what the store then holds.
import { fmt } from "./format.js";
import { mailText } from "./mailText.js";
import { machineDiff, paramsChanged, replayNote, replayOf } from "./realKernels.js";
import { shareUrl } from "./shareUrl.js";
import { SHORTCUTS } from "./shortcuts.js";
import { tokenKey } from "./tokenKey.js";

const SPEEDS = [1, 2, 4, 8, 16, 32, 60];

export function createControls({ dom, store, send, sendAfterFrame, settled, api, panes, loop, location, storage, clipboard, now, show }) {
  const s = store.state;
  function toast(text) {
    dom.toast.textContent = text;
    dom.toast.classList.add("show");
    clearTimeout(toast.t);
    toast.t = setTimeout(() => dom.toast.classList.remove("show"), 2600);
  }
  const rate = () => SPEEDS[Number(dom.speed.value)] ?? 4;
  function updateUrl() {
    if (!s.session) return;
    const sel = s.selected;
    const u = shareUrl(location.origin, { id: s.session.id, step: s.panes[0]?.step ?? 0, folio: sel?.pfn ?? null, page: sel?.page ?? null, pane: sel?.pane || null, view: s.view === "hardware" ? "hardware" : null });
    const path = u.slice(location.origin.length);
    try { globalThis.history?.replaceState(null, "", path); } catch { /* file:// or sandboxed */ }
    dom.share.dataset.url = u;
  }

  // ---- busy ------------------------------------------------------------------
  // A command the server is working on: the page says so (with progress and
  // Cancel for run_until) and ignores stepping input until the answer comes,
  // so keys pressed meanwhile never queue up and re-run work.
  //
  // s.busy drops the input at once; the buttons grey out only once the
  // command has taken BUSY_GREY_MS (at once for a run or the first load).
  // Why: any DOM write in the key's task makes Chromium run a rendering
  // update (style, layout, paint, commit; 3-5 ms with a CPU rasterizer)
  // right after it, and the step's reply, which arrives ~3 ms after the
  // key, then waited behind that frame (bench_browser: key -> message
  // 7-8 ms, of which the server's part is ~2 ms). A click on a button
  // not greyed yet is dropped as a key is (stepClick), as a disabled
  // button would drop it.
  const BUSY_GREY_MS = 100;
  function greyButtons() {
    if (!s.busy) return;
    for (const b of [dom.step, dom.back, dom.play]) b.disabled = true;
    if (dom.runGo) dom.runGo.disabled = true;
  }
  function setBusy(what) {
    s.busy = { what, since: now() };
    clearTimeout(setBusy.t);
    setBusy.t = setTimeout(() => showBusy(null), what === "run_until" ? 0 : 300);
    clearTimeout(setBusy.g);
    if (what === "run_until" || what === "connect") greyButtons();
    else setBusy.g = setTimeout(greyButtons, BUSY_GREY_MS);
  }
  function showBusy(p) {
    if (!s.busy) return;
    dom.busy.hidden = false;
    dom.busyCancel.hidden = s.busy.what !== "run_until";
    const secs = ((now() - s.busy.since) / 1000).toFixed(1);
    if (p) {
      dom.busyProgress.max = Math.max(1, p.total);
      dom.busyProgress.value = p.nr_access;
      dom.busyText.textContent = `run until: ${fmt.count(p.steps)} steps · access ${fmt.count(p.nr_access)} of ${fmt.count(p.total)} · ${secs} s`;
    } else {
      dom.busyProgress.removeAttribute("value");
      dom.busyText.textContent = `${s.busy.what === "connect" ? "loading the session (replaying its history)" : `${s.busy.what}: the server is working`}… ${secs} s`;
      clearTimeout(showBusy.t);
      showBusy.t = setTimeout(() => { if (s.busy && dom.busyProgress.getAttribute("value") == null) showBusy(null); }, 500);
    }
  }
  // Input is accepted again at once, and a busy indicator (only shown for
  // a command that took a while) goes; the buttons and the status text
  // follow after the answer's frame is presented (a step's pane first).
  function clearBusy() {
    s.busy = null;
    clearTimeout(setBusy.t);
    clearTimeout(setBusy.g);
    clearTimeout(showBusy.t);
    if (!dom.busy.hidden) dom.busy.hidden = true;
    loop.later(() => {
      if (s.busy) return;   // the next command is already under way
      for (const b of [dom.back, dom.play]) b.disabled = false;
      if (dom.runGo) dom.runGo.disabled = false;
      renderSessionInfo();
    });
  }
  function work(type, fields) {
    if (s.busy) { toast(`busy with ${s.busy.what}: wait for it${s.busy.what === "run_until" ? " or press Esc to cancel" : ""}`); return; }
    // the command leaves before the page restyles its buttons
    send(type, fields);
    setBusy(type);
  }

  // ---- branching -----------------------------------------------------------
  // The owner below the head: stepping there replaces the later steps, so it
  // asks first; the server keeps the replaced history pinned (frame.kept).
  let pendingBranch = null;
  function ownerStep(type, fields) {
    const p = s.panes[0];
    const below = s.session?.role === "owner" && p && p.step < s.session.nrSteps;
    if (s.busy) { work(type, fields); return; }
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
  // events of no page yet (a fallback hands out a free frame): no page filter
  const RUN_EVENTS_ANY = { fallback: ["mm_page_alloc_extfrag"] };
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
    } else if (c in RUN_EVENTS_ANY) until = { kind: "event", events: RUN_EVENTS_ANY[c] };
    else if (c === "aging") until = { kind: "aging" };
    else if (c === "changes" || c === "crosses") {
      const name = dom.runCounter.value.trim();
      if (!s.names.vmstat.includes(name)) { toast(`no vmstat counter '${name}'`); return; }
      until = { kind: "counter", counter: name, op: c === "changes" ? "changes" : ">=", value: num(dom.runN) ?? 0 };
    } else if (c === "accesses") {
      const n = num(dom.runN);
      if (!(Number.isInteger(n) && n > 0)) { toast("N is a whole number of accesses > 0"); return; }
      until = { kind: "accesses", n };
    } else until = { kind: "end" };
    const pane = s.selected?.pane ?? s.logPane ?? 0;
    dom.runForm.dataset.pane = String(pane);
    ownerStep("run_until", { until, unit: dom.unit.value, pane });
  }

  // ---- selection ---------------------------------------------------------
  // A click on the canvas selects a frame (pfn); a click on an event selects
  // the page that event named (the server resolves it by the event's seq),
  // which the inspector then follows by identity across steps and seeks:
  // an evicted page is not its frame's next occupant.
  function select(pane, pfn, eventIndex) {
    const row = eventIndex != null ? panes.rowsOf(s.panes[pane]).find((r) => r.i === eventIndex) : null;
    s.selected = { pane, pfn, i: eventIndex, event: row?.seq ?? null, page: null };
    s.inspectMsg = null;
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

  // GET /api/replays, fetched once (again after a failure, at the next hello)
  let replaysAsked = null;
  function replays() {
    replaysAsked ??= api.replays().catch((e) => { replaysAsked = null; throw e; });
    return replaysAsked;
  }

  // The scenario's "what to watch" paragraph stays at hand while stepping
  // (a replay's trace: the scenario it was exported from).
  async function showWatch(recipe, scenario = null) {
    const name = recipe?.workload?.scenario ?? scenario;
    if (!name || !dom.watch) return;
    try {
      const sc = (await api.scenarios()).find((x) => x.name === name);
      if (!sc) return;
      // parameters other than the scenario's defaults, which its title and
      // paragraph state: the session's own, or those a replay's trace was
      // exported with (known once GET /api/replays answers)
      const own = recipe?.workload?.scenario;
      const show = (changed) => {
        const these = changed.map(([k, v]) => `${k} = ${v}`).join(", ");
        dom.watchTitle.textContent = changed.length ? `${sc.name} with ${these}` : `${sc.name}${sc.title ? ` — ${sc.title}` : ""}`;
        dom.watchText.textContent = (changed.length ? `${own ? "This session runs it" : "This trace was exported"} with ${these} (the scenario's defaults: ${
          changed.map(([k, , d]) => `${k} = ${d}`).join(", ")}); what follows describes the defaults. ` : "") + (sc.watch || "");
      };
      show(own ? paramsChanged(recipe.workload, sc) : []);
      dom.watch.hidden = false;
      const all = await replays().catch(() => []);
      if (!own) {
        const changed = paramsChanged(replayOf(recipe, all), sc);
        if (changed.length) show(changed);
      }
      const note = replayNote(name, all, recipe);
      if (note) dom.watchText.textContent += ` ${note}`;
    } catch { /* the paragraph is a help, not a requirement */ }
  }

  // A session stepping a trace the real kernels replayed (its trace_id is
  // the replay's, whoever uploaded it, so a share link gets it too): the
  // panel "On the real kernels", which panes.js fills on every frame.
  async function showReal(helloMsg) {
    if (!dom.real || !helloMsg.recipe?.workload?.trace_id) return;
    let replay = null;
    try { replay = replayOf(helloMsg.recipe, await replays()); } catch { return; }
    if (!replay) return;
    const machine = helloMsg.recipe.machine || {};
    s.real = { replay, machine, comparable: machineDiff(machine, replay.machine).length === 0,
      panes: helloMsg.panes.map((p) => ({ policy: p.policy, kernel: p.kernel, title: p.title })) };
    dom.realTitle.textContent = `what the rig counted on ${replay.name}`;
    dom.real.hidden = false;
    if (!helloMsg.recipe.workload.scenario && replay.scenario) showWatch(helloMsg.recipe, replay.scenario);
    loop.request("info");
  }

  function renderSessionInfo() {
    if (!s.session) return;
    const p = s.panes[0];
    const role = s.session.role === "owner" ? "owner" : s.session.pinned ? "pinned link (read-only: Fork to continue)" : "viewer (read-only)";
    dom.sessionInfo.textContent = `session ${s.session.id} · ${role}` + (p ? ` · step ${p.step} of ${s.session.nrSteps} · ${fmt.count(p.nrAccess)} accesses · ${fmt.ns(p.timeNs)} simulated${p.done ? " · workload done" : ""}` : "");
    dom.status.textContent = p ? `step ${p.step}` : "";
    // A viewer can only walk the recorded history.
    dom.step.disabled = Boolean(s.busy) || (s.session.role !== "owner" && p && p.step >= s.session.nrSteps);
    dom.step.title = dom.step.disabled ? "read-only: this is the last recorded step (Fork to continue)" : "step one unit (→)";
    delete dom.status.dataset.error;
    dom.fork.hidden = false;
  }

  // ---- the owner's next step ahead (docs/protocol.md §3.6) ----------------
  // The server sends the owner's next step as a peek after each step (and
  // when the owner stands at the head): a key that takes it shows it in its
  // own task, with no trip to the server first, and sends the step with
  // `have` once that frame is out; the server computes it again (the same bytes: the engine is
  // deterministic), logs it and answers step_ok. Any other answer (the step
  // itself, an error) puts the page back on the server's step. Nothing
  // waits on the page meanwhile (commands keep their order on the socket);
  // a step key pressed before step_ok is kept, one, and taken after it.
  function peekAhead() {
    if (s.session?.role === "owner" && !s.playing) send("peek", { unit: dom.unit.value, count: 1 });
  }
  function stepAhead(fields) {
    const a = s.ahead, p = s.panes[0];
    s.ahead = null;
    if (!a || !p || s.busy || s.playing || s.session?.role !== "owner" || p.step !== s.session.nrSteps) return false;
    if (a.peek.unit !== fields.unit || a.peek.count !== fields.count) return false;
    if (a.step - (a.panes[0]?.steps_applied ?? 0) !== p.step) return false;
    // queued first: a command the step's own effects send (the inspector's
    // question for the new step) takes it along, ahead of itself
    sendAfterFrame("step", { ...fields, peek: true, have: a.step });
    show({ ...a, shown: true, of: a });
    return true;
  }

  // ---- commands ------------------------------------------------------------
  const actions = {
    step() {
      if (s.playing) send("pause");
      // a step shown from a peek and not yet the server's: this key waits for
      // its step_ok (the deferred step leaves now, not after AFTER_FRAME_MS)
      if (s.aheadShown != null) { s.stepQueued = true; settled(); return; }
      const fields = { unit: dom.unit.value, count: 1 };
      if (stepAhead(fields)) return;
      ownerStep("step", s.session?.role === "owner" ? { ...fields, peek: true } : fields);
    },
    back() {
      if (s.playing) send("pause");
      s.anim = null;
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
        await settled();   // a step shown from a peek is the server's first
        const r = await api.permalink(s.session.id, step);
        const u = shareUrl(location.origin, { id: r.id, step: r.step, folio: sel?.pfn ?? null, page: sel?.page ?? null, pane: sel?.pane || null, view: s.view === "hardware" ? "hardware" : null });
        dom.share.dataset.permalink = u;
        copy(u, "Share URL copied");
      } catch (err) { toast(`could not make a link: ${err.message}`); }
    },
    text() { copyText(); },
    zoomReset() { s.zoom = s.zoom.map(() => [0, 1]); s.hwZoom = s.hwZoom.map(() => [0, 1]); loop.request("panes"); },
    help() { dom.help.hidden = !dom.help.hidden; },
    runUntil() {
      if (dom.runUntil.hidden) { toast("Run until extends the history: only the owner can (Fork to get your own copy)."); return; }
      dom.runUntil.open = true;
      dom.runCond.focus();
    },
    escape() {
      if (!dom.help.hidden) { dom.help.hidden = true; return; }
      if (s.busy && s.busy.what === "run_until") { send("cancel"); dom.busyText.textContent = "cancelling at the next step boundary…"; return; }
      if (!dom.branchConfirm.hidden) { branchAnswer(false); return; }
      s.selected = null; s.inspectMsg = null; updateUrl(); loop.request("selection");
    },
  };
  function speedChanged() {
    dom.speedOut.textContent = `${rate()}/s`;
    if (s.playing) send("play", { unit: dom.unit.value, rate: rate() });
  }
  function setView(v) {
    s.view = v;
    for (const b of dom.tabs) b.setAttribute("aria-selected", b.dataset.view === v ? "true" : "false");
    s.anim = null;
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
      for (let k = baseStep; k >= 0; k--) { const v = s.vmstatByStep.get(`${q.pane}:${k}`); if (v) { used = k; return v; } }
      used = 0;
      return {};
    });
    const events = s.panes.map((q) => (dom.logFilter?.checked ? panes.filtered(panes.rowsOf(q)) : panes.rowsOf(q)));
    // The link pins this history, as "Copy share URL" does.
    await settled();
    const pin = await api.permalink(s.session.id, p.step).catch(() => null);
    const sel = s.selected;
    const link = pin ? shareUrl(location.origin, { id: pin.id, step: pin.step, folio: sel?.pfn ?? null, page: sel?.page ?? null, pane: sel?.pane || null })
      : dom.share.dataset.url || "";
    const text = mailText({ recipe: s.hello?.recipe || {}, link, panes: s.panes, infos: s.panes.map((q) => panes.infoOf(q)), base, baseStep: used, folio: s.inspectMsg, events, names: s.names, real: s.real });
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
    if (s.busy && ["step", "back", "play", "seek", "runUntil", "share", "text"].includes(a)) return;
    if (a === "unit") {
      const opt = dom.unit.querySelector?.(`option[value="${arg}"]`);
      if (opt?.disabled) { toast(opt.title); return; }
      dom.unit.value = arg;
      peekAhead();
      return;
    }
    if (a === "view") { setView(arg); return; }
    actions[a]?.();
  }

  function bindControls() {
    // While the server works these buttons do nothing (greyed or not yet):
    // the same rule as their keys in onKey.
    const stepClick = (action) => () => { if (!s.busy) action(); };
    dom.step.addEventListener("click", stepClick(actions.step));
    dom.back.addEventListener("click", stepClick(actions.back));
    dom.play.addEventListener("click", stepClick(actions.play));
    dom.speed.addEventListener("input", speedChanged);
    dom.unit.addEventListener("change", peekAhead);
    dom.seek.addEventListener("change", () => { const n = Number(dom.seek.value); if (Number.isInteger(n) && n >= 0) { s.anim = null; work("seek", { step: n }); } });
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
        await settled();
        const r = await api.fork(s.session.id, s.panes[0]?.step ?? 0);
        storage.setItem(tokenKey(r.id), r.owner_token);
        location.assign(`/s/${r.id}?step=${s.panes[0]?.step ?? 0}`);
      } catch (err) { toast(`fork failed: ${err.message}`); }
    });
    dom.logFilter?.addEventListener("change", () => loop.request("info"));
    dom.logPanes?.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-pane]");
      if (!b) return;
      s.logPane = Number(b.dataset.pane);
      if (s.selected && s.selected.pane !== s.logPane) { s.selected = null; s.inspectMsg = null; }
      loop.request("selection");
    });
    dom.counters.addEventListener("click", (e) => {
      if (e.target.classList.contains("more-counters")) { s.showAllCounters = !s.showAllCounters; loop.request("panes"); }
    });
    globalThis.addEventListener?.("keydown", onKey);
    globalThis.addEventListener?.("resize", () => loop.request("panes"));
    dom.helpTable.innerHTML = SHORTCUTS.filter((x) => x.label).map((x) => `<tr><td><kbd>${x.label}</kbd></td><td>${x.help}</td></tr>`).join("");
    dom.speedOut.textContent = `${rate()}/s`;
  }

  return {
    actions, bind: bindControls, toast, rate, work, setBusy, showBusy, clearBusy, ownerStep, peekAhead, showKept,
    setupRunForm, select, inspectSelected, showWatch, showReal, renderSessionInfo, setView, updateUrl,
  };
}

// A server message applied to the page's state: (state, msg) -> the next
// state and the effects the page must then run, in order. No DOM, socket or
// clock here, and the given state is not changed (the next one shares what
// did not change), so node --test can drive it with real messages.
//
// Effects are plain objects {do, ...}; createApp.js runs them:
//   clearBusy                 the command the page waited for is answered
//   send {type, fields}       a command to the server (a whole `state`)
//   setPanes {panes, animate} the store's panes (and counter samples)
//   animate {prev, panes}     a step's flights, from the panes shown before
//   vmstat {panes}            remember each pane's counters at its step
//   timeline {nrSteps}        refresh the whole-run timeline
//   kept                      say where the replaced branch is kept
//   nothingApplied {done}     a step that applied no unit
//   inspect                   ask the inspector's question again, for this step
//   mark {name}               a performance mark
//   seekBar {msg, max}        the step slider (and its end, `max`) and step count
//   redraw {what}             ask the frame loop for a draw
//   peekAhead                 ask for the owner's next step ahead (a peek)
//   drawAhead {panes}         draw a peek's panes ahead, in idle time, for its key
//   stepQueued                the step key pressed while a peek's step_ok was due
//   (any effect) later: true  run once the next frame is presented, not now
//   hello, authOk, sessionInfo, url, playState, runResult, progress, error:
//                             page glue (panes.js, controls.js)
// A step message and a state carry the list layout; readLayout() leaves its
// base in a new `bases` object, so the previous state's stays as it was.
import { applyLocDelta } from "./protocol.js";
import { paneModel } from "./paneModel.js";
import { readLayout } from "./readLayout.js";

const FORWARD = ["step", "play", "debugfs", "run"];

// A whole `state` after this one: asked now, or after the one on its way.
function requestState(next, fx) {
  if (next.statePending) { next.wantState = true; return; }
  next.statePending = true;
  fx.push({ do: "send", type: "state", fields: {} });
}

// Pane i replaced by `pane` wherever the old object was held (the store's
// panes, the latest state's and step's), as an in-place change would show.
function replacePane(state, i, pane) {
  const old = state.panes[i];
  const swap = (list) => list.map((q) => (q === old ? pane : q));
  return {
    ...state, panes: swap(state.panes), shownState: swap(state.shownState), prevPanes: swap(state.prevPanes || []),
    lastFrame: state.lastFrame && { ...state.lastFrame, panes: swap(state.lastFrame.panes) },
  };
}

// A step message's layout (against the page's base) and panes; null when
// it is a delta against a base the page does not hold.
function readStep(state, msg) {
  const bases = { ...state.bases };
  const layout = readLayout(msg, bases);
  return layout && { msg, bases, layout, panes: paneModel.fromStep(msg, state.names, layout) };
}

export function reduceMessage(state, msg) {
  const fx = [];
  const waiting = state.busy && state.busy.what !== "run_until";
  switch (msg.type) {
    case "hello": {
      const next = {
        ...state, hello: msg, lastLocs: [], bases: { id: null, panes: [] }, names: msg.names,
        session: { ...(state.session || {}), role: msg.role, nrSteps: msg.nr_steps, compare: msg.compare, pinned: msg.pinned },
      };
      fx.push({ do: "hello", msg });
      return { state: next, effects: fx };
    }
    case "auth_ok":
      // the owner's controls appear now: the hello (sent before the auth) said viewer
      fx.push({ do: "authOk", role: msg.role }, { do: "peekAhead" });
      return { state: { ...state, session: { ...(state.session || {}), role: msg.role } }, effects: fx };
    case "frame": {
      if (waiting) fx.push({ do: "clearBusy" });
      const panes = paneModel.fromFrame(msg, state.names, state.panes);
      const next = { ...state, session: { ...state.session, nrSteps: msg.nr_steps }, lastFrame: { msg, panes }, ahead: null, aheadRead: null };
      if (msg.truncated) next.timelineFor = -1;
      fx.push({ do: "timeline", nrSteps: msg.nr_steps }, { do: "kept", msg }, { do: "vmstat", panes });
      if (msg.cause === "step" && msg.panes.every((p) => !p.steps_applied)) fx.push({ do: "nothingApplied", done: msg.done });
      if (FORWARD.includes(msg.cause)) {
        // Counters and the log update now; the new list order follows.
        fx.push({ do: "setPanes", panes: panes.map((p, i) => ({ ...p, lists: state.panes[i]?.lists, flags: state.panes[i]?.flags })), animate: false });
        requestState(next, fx);
      } else {
        next.pendingCause = msg.cause;
      }
      fx.push({ do: "seekBar", msg, max: true }, { do: "sessionInfo" }, { do: "redraw", what: FORWARD.includes(msg.cause) ? "info" : "panes" });
      return { state: next, effects: fx };
    }
    case "state": {
      const next = { ...state, statePending: false, ahead: null, aheadRead: null };
      if (!applyLocDelta(msg, state.lastLocs)) {
        next.lastLocs = [];
        requestState(next, fx);
        return { state: next, effects: fx };
      }
      next.lastLocs = msg.panes.map((p) => msg.arrays[`p${p.pane}.loc`] || null);
      next.bases = { ...state.bases };
      readLayout(msg, next.bases);
      if (!state.firstStateMarked) { next.firstStateMarked = true; fx.push({ do: "mark", name: "reclaimlab:first-state" }); }
      const fresh = paneModel.fromState(msg);
      const frameP = state.lastFrame?.panes;
      const merged = fresh.map((p, i) => paneModel.merge(p, frameP?.[i]));
      // zoom windows that arrived before this state (each is checked against its step)
      merged.forEach((p, i) => { if (state.panes[i]?.windows) p.windows = state.panes[i].windows; });
      next.shownState = merged;
      const forward = state.lastFrame && FORWARD.includes(state.lastFrame.msg.cause) && state.lastFrame.msg.step === msg.step;
      fx.push({ do: "vmstat", panes: merged }, { do: "setPanes", panes: merged, animate: Boolean(forward) });
      if (forward) fx.push({ do: "animate", prev: state.shownState, panes: merged });
      // The inspector answers for one step: ask again for this one.
      if (state.selected && (!state.inspectMsg || state.inspectMsg.step !== msg.step)) fx.push({ do: "inspect" });
      fx.push({ do: "seekBar", msg, max: false }, { do: "url" }, { do: "sessionInfo" }, { do: "redraw", what: "panes" });
      if (next.wantState) { next.wantState = false; requestState(next, fx); }
      else if (msg.step === msg.nr_steps) fx.push({ do: "peekAhead" });
      return { state: next, effects: fx };
    }
    case "step": {
      // One binary message per step (docs/protocol.md §3.5): what the
      // frame and the state after it used to carry, nothing to ask for.
      // A peek (§3.6) is the owner's next step, kept until the owner takes
      // it (controls.js shows it with `shown` set, and the server answers
      // step_ok); a step message for the step a peek showed corrects it.
      // Its layout and panes are read as it arrives (`aheadRead`), so the
      // key that shows it only draws; they stand while the base they were
      // read against is still the page's.
      if (msg.peek && !msg.shown) {
        const read = readStep(state, msg);
        if (read) fx.push({ do: "drawAhead", panes: read.panes });
        return { state: { ...state, ahead: msg, aheadRead: read && { ...read, from: state.bases } }, effects: fx };
      }
      if (waiting && !msg.peek) fx.push({ do: "clearBusy" });
      if (state.stepQueued && !msg.peek) fx.push({ do: "stepQueued", later: true });
      const pre = msg.shown && state.aheadRead?.msg === msg.of && state.aheadRead.from === state.bases ? state.aheadRead : null;
      const { bases, layout, panes } = pre || readStep(state, msg) || {};
      if (!layout) {
        const next = { ...state };
        requestState(next, fx);
        return { state: next, effects: fx };
      }
      const next = {
        ...state, bases, lastLocs: layout.map((l) => l.loc ?? null),
        session: { ...state.session, nrSteps: msg.nr_steps }, lastFrame: { msg, panes }, shownState: panes,
        ahead: null, aheadRead: null, aheadShown: msg.peek ? msg.step : null, stepQueued: msg.peek ? state.stepQueued : false,
      };
      if (msg.truncated) next.timelineFor = -1;
      panes.forEach((p, i) => { if (state.panes[i]?.windows) p.windows = state.panes[i].windows; });
      // `animate` draws the step's panes at once. For a key's step or a
      // played one, what is marked `later` waits until that frame is
      // presented (frameLoop.later), so that the log, counters, plots and
      // page text never delay the pane; the answer to a long command (run
      // until, a debugfs write) updates everything as it lands, with its
      // run_result or error right behind it.
      const later = msg.cause === "step" || msg.cause === "play";
      fx.push({ do: "vmstat", panes }, { do: "setPanes", panes, animate: true }, { do: "animate", prev: state.shownState, panes });
      if (state.selected && (!state.inspectMsg || state.inspectMsg.step !== msg.step)) fx.push({ do: "inspect" });
      fx.push({ do: "timeline", nrSteps: msg.nr_steps, later }, { do: "kept", msg, later });
      if (msg.cause === "step" && panes.every((p) => !p.stepsApplied)) fx.push({ do: "nothingApplied", done: msg.done, later });
      fx.push({ do: "seekBar", msg, max: true, later }, { do: "url", later }, { do: "sessionInfo", later },
        { do: "redraw", what: "info", later });
      return { state: next, effects: fx };
    }
    case "step_ok":
      // The step a peek showed is now the server's too (nothing waited for it).
      if (state.stepQueued) fx.push({ do: "stepQueued" });
      return { state: { ...state, aheadShown: null, stepQueued: false, session: { ...state.session, nrSteps: msg.nr_steps } }, effects: fx };
    case "zoom": {
      // The folio order of one window of a list (location layout, zoomed in).
      const p = state.panes[msg.pane];
      if (!p || p.step !== msg.step) return { state, effects: fx };
      const windows = { ...(p.windows || {}), [msg.list]: { step: msg.step, offset: msg.offset, total: msg.total, pfn: msg.arrays.pfn, flags: msg.arrays.flags, young: msg.arrays.young } };
      // the pane only: a window changes no panel
      fx.push({ do: "redraw", what: "windows" });
      return { state: replacePane(state, msg.pane, { ...p, windows }), effects: fx };
    }
    case "folio": {
      const next = { ...state, inspectMsg: msg };
      const sel = state.selected;
      if (sel && msg.identity && msg.identity.anon != null && (sel.event != null || sel.page)) {
        const id = msg.identity;
        next.selected = { ...sel, page: { mapping: id.mapping, index: id.index, anon: id.anon }, event: null, pfn: msg.pfn ?? id.pfn_then ?? sel.pfn };
        fx.push({ do: "url" });
      }
      fx.push({ do: "redraw", what: "inspector" });
      return { state: next, effects: fx };
    }
    case "progress":
      fx.push({ do: "progress", msg });
      return { state, effects: fx };
    case "run_result":
      fx.push({ do: "clearBusy" }, { do: "runResult", msg });
      return { state, effects: fx };
    case "lru_gen": {
      const p = state.panes[msg.pane];
      if (!p) return { state, effects: fx };
      return { state: replacePane(state, msg.pane, { ...p, lruGenText: msg.text }), effects: fx };
    }
    case "play_state":
      fx.push({ do: "playState", msg });
      return { state: { ...state, playing: msg.playing }, effects: fx };
    case "error": {
      if (state.busy && (state.busy.what !== "run_until" || msg.ref === "run_until")) fx.push({ do: "clearBusy" });
      // A zoom window asked for a step the cursor has since left (a
      // generation aged away): the next draw asks again, nothing to show.
      if (msg.ref === "zoom" && msg.code === "bad_message") return { state, effects: fx };
      fx.push({ do: "error", msg });
      const next = { ...state, lastError: msg, ahead: null, aheadRead: null, aheadShown: null, stepQueued: false };
      // The page shows a peeked step the server did not take: back to the server's.
      if (state.aheadShown != null && msg.ref === "step") requestState(next, fx);
      return { state: next, effects: fx };
    }
    default:
      return { state, effects: fx };
  }
}

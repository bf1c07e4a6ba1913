// reduceMessage (frontend/js/reduceMessage.js) driven by messages a real
// server sent (fixtures/step_messages.json, written by
// tests/backend/test_step_message.py with what the engine held at each step).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { decodeFrame } from "../../frontend/js/protocol.js";
import { reduceMessage } from "../../frontend/js/reduceMessage.js";
import { createStore } from "../../frontend/js/store.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/step_messages.json", import.meta.url), "utf8"));
const bytes = (b64) => { const b = Buffer.from(b64, "base64"); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); };
const msgOf = (b64) => decodeFrame(bytes(b64));
const hello = { type: "hello", session: "s1", role: "owner", nr_steps: 0, cursor: 0, compare: false, pinned: false, panes: [], recipe: {}, names: fixture.names, limits: {} };
const kinds = (effects) => effects.map((e) => e.do);

// What createApp.js does with a message, minus the DOM: the next state into
// the store, and the one effect that writes the store (setPanes) run.
function feed(store, msg) {
  const { state, effects } = reduceMessage(store.state, msg);
  Object.assign(store.state, state);
  for (const e of effects) if (e.do === "setPanes") store.setPanes(e.panes, { animate: e.animate, now: 0 });
  return effects;
}

function listsOf(pane) {
  const out = {};
  for (const [name, l] of Object.entries(pane.lists || {})) if (l) out[name] = [...l];
  for (const g of pane.gens?.gens || []) if (g.folios) { out[`gen${g.seq}.anon`] = [...g.folios[0]]; out[`gen${g.seq}.file`] = [...g.folios[1]]; }
  return out;
}

test("hello: names and a fresh layout base; the session keeps what it knew", () => {
  const state = { ...createStore().state, session: { id: "s1", role: "viewer" }, bases: { id: 7, panes: [{}] }, lastLocs: [new Uint8Array(4)] };
  const { state: next, effects } = reduceMessage(state, { ...hello, nr_steps: 12 });
  assert.deepEqual(next.session, { id: "s1", role: "owner", nrSteps: 12, compare: false, pinned: false });
  assert.deepEqual(next.bases, { id: null, panes: [] });
  assert.deepEqual(next.lastLocs, []);
  assert.equal(next.names, fixture.names);
  assert.deepEqual(kinds(effects), ["hello"]);
  assert.equal(state.bases.id, 7, "the given state is left as it was");
  assert.equal(state.session.role, "viewer");
});

test("a state, then each step message, leaves in the store every list and counter the engine had", () => {
  const store = createStore();
  feed(store, hello);
  feed(store, msgOf(fixture.state));
  assert.equal(store.state.statePending, false);
  for (const { message, panes: want } of fixture.steps) {
    const before = store.state;
    const basesBefore = before.bases;
    const msg = msgOf(message);
    const effects = feed(store, msg);
    assert.ok(!effects.some((e) => e.do === "send"), `step ${msg.step}: no whole state asked for`);
    assert.deepEqual(kinds(effects).filter((k) => ["vmstat", "setPanes", "animate"].includes(k)), ["vmstat", "setPanes", "animate"]);
    // The pane is drawn by `animate` at once; nothing that writes page text
    // or lays out the log/counters runs before it or shares its frame.
    const at = kinds(effects).indexOf("animate");
    assert.ok(effects.slice(0, at).every((e) => !e.later && ["clearBusy", "vmstat", "setPanes"].includes(e.do)), kinds(effects).join());
    for (const e of effects.filter((x) => ["seekBar", "url", "sessionInfo", "redraw", "timeline", "kept"].includes(x.do))) {
      assert.equal(e.later, true, `${e.do} waits for the step's frame`);
    }
    assert.ok(!effects.some((e) => e.do === "redraw" && e.what === "panes"), "the panes are not drawn a second time");
    assert.equal(store.state.session.nrSteps, msg.nr_steps);
    assert.equal(store.state.bases.id, msg.layout_id, "the new base is this message's layout");
    assert.notEqual(store.state.bases, basesBefore, "the old base object is not reused");
    store.state.panes.forEach((p, k) => {
      const got = listsOf(p);
      for (const [name, order] of Object.entries(want[k].lists)) assert.deepEqual(got[name], order, `step ${msg.step} pane ${k} ${name}`);
      assert.deepEqual(fixture.names.vmstat.map((n) => p.vmstat[n]), want[k].vmstat);
    });
  }
});

test("a step delta against a base the page does not hold asks for one whole state, not two", () => {
  const store = createStore();
  feed(store, hello);
  feed(store, msgOf(fixture.state));
  const i = fixture.steps.findIndex((s, k) => k > 0 && msgOf(s.message).panes.some((p) => p.layout_delta));
  assert.ok(i > 0);
  const panes = store.state.panes;
  const first = feed(store, msgOf(fixture.steps[i].message));
  assert.deepEqual(first, [{ do: "send", type: "state", fields: {} }]);
  assert.equal(store.state.statePending, true);
  assert.equal(store.state.panes, panes, "nothing drawn from a delta with no base");
  const second = feed(store, msgOf(fixture.steps[i].message));
  assert.deepEqual(second, []);
  assert.equal(store.state.wantState, true);
  // the whole state arrives: the one still wanted is asked for after it
  const after = feed(store, msgOf(fixture.state));
  assert.equal(after.filter((e) => e.do === "send").length, 1);
  assert.equal(store.state.wantState, false);
  assert.equal(store.state.statePending, true);
});

test("a zoom window for the shown step goes on a new pane object; one for another step is dropped", () => {
  const store = createStore();
  feed(store, hello);
  feed(store, msgOf(fixture.state));
  feed(store, msgOf(fixture.steps[0].message));
  const s = store.state;
  const old = s.panes[0];
  const zoom = { type: "zoom", step: old.step, pane: 0, list: "LRU_INACTIVE_FILE", offset: 0, count: 2, total: 9, arrays: { pfn: new Int32Array([3, 4]), flags: new Uint32Array(2), young: new Uint8Array(2) } };
  const { state: next, effects } = reduceMessage(s, zoom);
  assert.equal(next.panes[0].windows.LRU_INACTIVE_FILE.total, 9);
  assert.equal(next.shownState[0], next.panes[0], "the latest state's pane is the same object");
  assert.equal(old.windows, undefined, "the old pane is left as it was");
  assert.deepEqual(kinds(effects), ["redraw"]);
  const stale = reduceMessage(s, { ...zoom, step: old.step + 1 });
  assert.equal(stale.state, s);
  assert.deepEqual(stale.effects, []);
});

test("errors: a zoom the cursor has left is ignored; others are kept and end the wait", () => {
  const state = { ...createStore().state, busy: { what: "step", since: 0 } };
  const z = reduceMessage(state, { type: "error", ref: "zoom", code: "bad_message", message: "no generation" });
  assert.equal(z.state.lastError, null);
  assert.deepEqual(kinds(z.effects), ["clearBusy"]);
  const err = { type: "error", ref: "step", code: "limit", message: "over the limit" };
  const e = reduceMessage(state, err);
  assert.equal(e.state.lastError, err);
  assert.deepEqual(kinds(e.effects), ["clearBusy", "error"]);
  // a run_until waits for its own answer (or its own error)
  const running = { ...state, busy: { what: "run_until", since: 0 } };
  assert.deepEqual(kinds(reduceMessage(running, err).effects), ["error"]);
  assert.deepEqual(kinds(reduceMessage(running, { ...err, ref: "run_until" }).effects), ["clearBusy", "error"]);
});

test("folio: an answer that names the page follows it by identity", () => {
  const state = { ...createStore().state, selected: { pane: 0, pfn: 5, i: 2, event: 41, page: null } };
  const folio = { type: "folio", pane: 0, pfn: 9, step: 3, identity: { mapping: 1, index: 7, anon: false } };
  const { state: next, effects } = reduceMessage(state, folio);
  assert.deepEqual(next.selected, { pane: 0, pfn: 9, i: 2, event: null, page: { mapping: 1, index: 7, anon: false } });
  assert.equal(next.inspectMsg, folio);
  assert.deepEqual(kinds(effects), ["url", "redraw"]);
  assert.equal(state.selected.event, 41);
});

// The owner's next step ahead (docs/protocol.md §3.6), on the server's own
// step messages marked as the peek a real server sends (the same bytes
// plus a `peek` key: tests/backend/test_peek.py).
test("a peek is kept, not shown; shown, it draws like its step, and a key pressed before step_ok is taken after it", () => {
  const store = createStore();
  feed(store, hello);
  feed(store, msgOf(fixture.state));
  const panes = store.state.panes;
  const peek = { ...msgOf(fixture.steps[0].message), peek: { unit: "scan", count: 1 } };
  const arrived = feed(store, peek);
  assert.equal(store.state.ahead, peek);
  assert.equal(store.state.panes, panes, "a peek that arrives changes nothing on the page");
  const read = store.state.aheadRead;
  assert.equal(read.msg, peek, "its layout and panes are read as it arrives");
  // ... and drawn ahead (panes.js, in idle time): the very pane objects the key shows
  assert.deepEqual(arrived, [{ do: "drawAhead", panes: read.panes }]);
  // the key takes it: the page draws the step now, before the server's word,
  // from what was read as it arrived
  const shown = feed(store, { ...peek, shown: true, of: peek });
  assert.equal(store.state.lastFrame.panes, read.panes);
  assert.equal(store.state.bases, read.bases);
  assert.equal(store.state.aheadRead, null);
  assert.deepEqual(kinds(shown).slice(0, 3), ["vmstat", "setPanes", "animate"]);
  assert.equal(store.state.ahead, null);
  assert.equal(store.state.aheadShown, peek.step);
  assert.equal(store.state.bases.id, peek.layout_id);
  store.state.panes.forEach((p, k) => {
    const got = listsOf(p);
    for (const [name, order] of Object.entries(fixture.steps[0].panes[k].lists)) assert.deepEqual(got[name], order, name);
  });
  store.state.stepQueued = true;   // controls.js: a step key while aheadShown is set
  const ok = feed(store, { type: "step_ok", step: peek.step, nr_steps: peek.step });
  assert.deepEqual(kinds(ok), ["stepQueued"]);
  assert.equal(store.state.aheadShown, null);
  assert.equal(store.state.stepQueued, false);
  assert.equal(store.state.session.nrSteps, peek.step);
  assert.deepEqual(feed(store, { type: "step_ok", step: peek.step, nr_steps: peek.step }), []);
});

test("a shown peek the server refuses puts the page back on the server's step", () => {
  const store = createStore();
  feed(store, hello);
  feed(store, msgOf(fixture.state));
  const peek = { ...msgOf(fixture.steps[0].message), peek: { unit: "scan", count: 1 } };
  feed(store, peek);
  feed(store, { ...peek, shown: true, of: peek });
  store.state.stepQueued = true;
  const err = feed(store, { type: "error", ref: "step", code: "branch_needed", message: "below the head" });
  assert.deepEqual(kinds(err), ["error", "send"]);
  assert.deepEqual(err[1], { do: "send", type: "state", fields: {} });
  assert.equal(store.state.aheadShown, null);
  assert.equal(store.state.stepQueued, false, "a key kept for after the peek is dropped with it");
  // an error with no peek shown asks for nothing
  assert.deepEqual(kinds(feed(store, { type: "error", ref: "step", code: "limit", message: "x" })), ["error"]);
});

test("a state or a frame drops a kept peek; a state at the head asks for the next one", () => {
  const store = createStore();
  feed(store, hello);
  feed(store, msgOf(fixture.state));
  feed(store, { ...msgOf(fixture.steps[0].message), peek: { unit: "scan", count: 1 } });
  assert.ok(store.state.ahead && store.state.aheadRead);
  const st = msgOf(fixture.state);
  const fx = feed(store, st);
  assert.equal(store.state.ahead, null);
  assert.equal(store.state.aheadRead, null);
  assert.equal(kinds(fx).includes("peekAhead"), st.step === st.nr_steps);
  assert.ok(kinds(reduceMessage(store.state, { type: "auth_ok", role: "owner" }).effects).includes("peekAhead"));
});

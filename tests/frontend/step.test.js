// The binary step message (docs/protocol.md §3.5) decoded by the page's own
// modules from bytes a real server sent: tests/backend/test_step_message.py
// writes them (fixtures/step_messages.json) together with what the engine
// held at each step (every list's order) and what the message must say
// (events, counters), having checked those against the engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { decodeFrame } from "../../frontend/js/protocol.js";
import { readLayout } from "../../frontend/js/readLayout.js";
import { paneModel } from "../../frontend/js/paneModel.js";
import { stepEvents } from "../../frontend/js/stepEvents.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/step_messages.json", import.meta.url), "utf8"));
const bytes = (b64) => { const b = Buffer.from(b64, "base64"); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); };

function listsOf(pane) {
  const out = {};
  for (const [name, l] of Object.entries(pane.lists)) if (l) out[name] = [...l];
  for (const g of pane.gens?.gens || []) { out[`gen${g.seq}.anon`] = [...g.folios[0]]; out[`gen${g.seq}.file`] = [...g.folios[1]]; }
  return out;
}

test("step messages from the server rebuild every list, counter and event the engine had", () => {
  const bases = { id: null, panes: [] };
  const state = decodeFrame(bytes(fixture.state));
  assert.equal(state.type, "state");
  assert.ok(readLayout(state, bases));
  let deltas = 0;
  for (const { message, panes: expect } of fixture.steps) {
    const msg = decodeFrame(bytes(message));
    assert.equal(msg.type, "step");
    deltas += msg.panes.filter((p) => p.layout_delta).length;
    const layout = readLayout(msg, bases);
    assert.ok(layout, `step ${msg.step}: a delta against the layout held`);
    const panes = paneModel.fromStep(msg, fixture.names, layout);
    panes.forEach((p, k) => {
      const want = expect[k];
      const got = listsOf(p);
      for (const [name, order] of Object.entries(want.lists)) assert.deepEqual(got[name], order, `step ${msg.step} pane ${k} ${name}`);
      assert.deepEqual(fixture.names.vmstat.map((n) => p.vmstat[n]), want.vmstat);
      assert.deepEqual(p.delta, want.vmstat_delta);
      for (const [col, values] of Object.entries(want.events)) {
        if (Array.isArray(values)) assert.deepEqual([...p.events[col]], values, `step ${msg.step} pane ${k} events.${col}`);
        else assert.equal(p.events[col], values, `events.${col}`);
      }
    });
  }
  assert.ok(deltas > 0, "some layouts went out as deltas");
});

test("a delta against a layout the page does not hold is refused, so it asks for a whole state", () => {
  const bases = { id: null, panes: [] };
  readLayout(decodeFrame(bytes(fixture.state)), bases);
  const second = fixture.steps.findIndex((s, i) => i > 0 && decodeFrame(bytes(s.message)).panes.some((p) => p.layout_delta));
  assert.ok(second > 0);
  assert.equal(readLayout(decodeFrame(bytes(fixture.steps[second].message)), bases), null);
});

test("stepEvents reads records by the header's layout: 64-bit halves, signed fields, any field order", () => {
  // two 16-byte records laid out as docs/protocol.md §3.5 describes them
  const buf = new ArrayBuffer(32);
  const dv = new DataView(buf);
  const rec = [[2 ** 40 + 7, -3, 300, -1], [5, 2 ** 31 - 1, 65535, 127]];
  rec.forEach(([seq, i4, u2, i1], r) => {
    dv.setBigUint64(r * 16, BigInt(seq), true);
    dv.setInt32(r * 16 + 8, i4, true);
    dv.setUint16(r * 16 + 12, u2, true);
    dv.setInt8(r * 16 + 14, i1);
  });
  const msg = {
    event_dtype: { itemsize: 16, fields: [["seq", "u8", 0], ["pfn", "i4", 8], ["kind", "u2", 12], ["src", "i1", 14]] },
    panes: [{ events: { n: 2, dropped: 4 } }], arrays: { "p0.events": new Uint8Array(buf) },
  };
  const ev = stepEvents(msg, 0);
  assert.equal(ev.dropped, 4);
  assert.deepEqual([...ev.seq], [2 ** 40 + 7, 5]);
  assert.deepEqual([...ev.pfn], [-3, 2 ** 31 - 1]);
  assert.deepEqual([...ev.kind], [300, 65535]);
  assert.deepEqual([...ev.src], [-1, 127]);
  msg.arrays["p0.events"] = new Uint8Array(buf, 0, 24);
  assert.throws(() => stepEvents(msg, 0), /24 event bytes for 2 records/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeFrame, encodeCommand } from "../../frontend/js/protocol.js";
import { paneModel } from "../../frontend/js/paneModel.js";
import { eventRow } from "../../frontend/js/eventRow.js";

// Builds a binary state frame exactly as docs/protocol.md §3.3 lays it out.
function packState(header, arrays) {
  const enc = new TextEncoder();
  let offset = 0;
  const metas = [];
  let json;
  // Offsets depend on the header length, which depends on the offsets: iterate.
  for (let pass = 0; pass < 3; pass++) {
    json = enc.encode(JSON.stringify({ ...header, arrays: metas.length ? metas : arrays.map((a) => ({ name: a.name, dtype: a.dtype, offset: 0, length: a.data.length })) }));
    offset = Math.ceil((4 + json.length) / 8) * 8;
    metas.length = 0;
    for (const a of arrays) {
      metas.push({ name: a.name, dtype: a.dtype, offset, length: a.data.length });
      offset = Math.ceil((offset + a.data.byteLength) / 8) * 8;
    }
  }
  json = enc.encode(JSON.stringify({ ...header, arrays: metas }));
  const buf = new ArrayBuffer(offset);
  new DataView(buf).setUint32(0, json.length, true);
  new Uint8Array(buf, 4, json.length).set(json);
  arrays.forEach((a, i) => new Uint8Array(buf, metas[i].offset, a.data.byteLength).set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength)));
  return buf;
}

test("encodeCommand writes the documented keys and rejects unknown ones", () => {
  assert.deepEqual(JSON.parse(encodeCommand("step", { unit: "scan", count: 3 })), { type: "step", unit: "scan", count: 3 });
  assert.deepEqual(JSON.parse(encodeCommand("seek", { step: 7 })), { type: "seek", step: 7 });
  assert.throws(() => encodeCommand("step", { units: "scan" }), /no field 'units'/);
  assert.throws(() => encodeCommand("explode"), /unknown command/);
});

test("decodeFrame reads JSON text frames and refuses typeless ones", () => {
  assert.equal(decodeFrame('{"type":"pong","id":4}').id, 4);
  assert.throws(() => decodeFrame('{"id":4}'), /without a type/);
});

test("decodeFrame maps the binary state arrays zero-copy at their offsets", () => {
  const order = new Int32Array([5, 9, 2]);
  const flags = new Uint32Array([0, 1, 7, 0xffffffff]);
  const buf = packState({ type: "state", step: 3, nr_steps: 3, panes: [] }, [
    { name: "p0.LRU_INACTIVE_FILE", dtype: "int32", data: order },
    { name: "p0.flags", dtype: "uint32", data: flags },
  ]);
  const msg = decodeFrame(buf);
  assert.equal(msg.type, "state");
  assert.equal(msg.step, 3);
  assert.deepEqual([...msg.arrays["p0.LRU_INACTIVE_FILE"]], [5, 9, 2]);
  assert.deepEqual([...msg.arrays["p0.flags"]], [0, 1, 7, 0xffffffff]);
  assert.equal(msg.arrays["p0.flags"].buffer, buf, "views share the message buffer");
});

test("decodeFrame rejects arrays that run past the end of the message", () => {
  const buf = packState({ type: "state", panes: [] }, [{ name: "p0.flags", dtype: "uint32", data: new Uint32Array(4) }]);
  const cut = buf.slice(0, buf.byteLength - 8);
  assert.throws(() => decodeFrame(cut), /out of bounds/);
});

test("paneModel joins a state frame's arrays to their lists and generations", () => {
  const header = { type: "state", step: 10, nr_steps: 12, panes: [{
    pane: 0, policy: "lru_gen", nr_frames: 8, layout: "order", time_ns: 5, nr_access: 100, done: false,
    vmstat: { pgscan_kswapd: 3 }, meminfo: { MemFree: 4 }, watermarks: { min: 1, low: 2, high: 3 }, nr_free: 1,
    sizes: { nr_free: 1, LRU_UNEVICTABLE: 0, anon: 3, file: 4 },
    gens: { max_seq: 5, min_seq: [4, 4], gens: [{ seq: 4, gen: 0, age_ms: 9, nr_pages: [1, 2] }, { seq: 5, gen: 1, age_ms: 0, nr_pages: [2, 2] }] },
    state_hash: "ab", lru_gen: "memcg 0\n" }] };
  const buf = packState(header, [
    { name: "p0.gen4.anon", dtype: "int32", data: new Int32Array([1]) },
    { name: "p0.gen4.file", dtype: "int32", data: new Int32Array([2, 3]) },
    { name: "p0.gen5.anon", dtype: "int32", data: new Int32Array([4, 5]) },
    { name: "p0.gen5.file", dtype: "int32", data: new Int32Array([6, 7]) },
    { name: "p0.flags", dtype: "uint32", data: new Uint32Array(8) },
  ]);
  const [p] = paneModel.fromState(decodeFrame(buf));
  assert.equal(p.step, 10);
  assert.deepEqual([...p.gens.gens[0].folios[1]], [2, 3]);
  assert.deepEqual([...p.gens.gens[1].folios[0]], [4, 5]);
  assert.equal(p.listCounts.file, 4);
  assert.equal(p.flags.length, 8);
  assert.equal(p.lruGenText, "memcg 0\n");
});

test("paneModel.fromFrame names the vmstat array by the hello's table and keeps the order arrays", () => {
  const names = { vmstat: ["nr_free_pages", "pgscan_kswapd"] };
  const prev = [{ lists: { LRU_INACTIVE_ANON: new Int32Array([1, 2]) }, step: 4 }];
  const frame = { type: "frame", step: 5, nr_steps: 5, cause: "step", panes: [{ pane: 0, policy: "lru", time_ns: 1, nr_access: 2, done: false,
    events: { n: 0, dropped: 0 }, vmstat: [11, 32], vmstat_delta: { pgscan_kswapd: 32 }, sizes: { nr_free: 11, LRU_INACTIVE_ANON: 2 }, gens: null }] };
  const [p] = paneModel.fromFrame(frame, names, prev);
  assert.deepEqual(p.vmstat, { nr_free_pages: 11, pgscan_kswapd: 32 });
  assert.equal(p.delta.pgscan_kswapd, 32);
  assert.equal(p.lists.LRU_INACTIVE_ANON.length, 2);
  assert.equal(p.stale, true, "order arrays are from step 4");
});

test("eventRow resolves name-table indices of one columnar event", () => {
  const names = { event_kinds: ["pgfault", "mm_vmscan_lru_isolate"], reasons: ["r0", "isolated from the tail"], kernel_fns: ["f", "isolate_lru_folios"], locations: ["LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE", "LRU_UNEVICTABLE", "gen", "isolated"] };
  const ev = { n: 1, pfn: [42], kind: [1], reason: [1], fn: [1], src: [2], dst: [6], src_seq: [-1], dst_seq: [-1] };
  const r = eventRow(ev, 0, names);
  assert.equal(r.kind, "mm_vmscan_lru_isolate");
  assert.equal(r.src, "LRU_INACTIVE_FILE");
  assert.equal(r.dst, "isolated");
  assert.equal(r.fn, "isolate_lru_folios");
  assert.equal(r.pfn, 42);
});

test("decodeFrame refuses a hello of another protocol version", () => {
  assert.equal(decodeFrame('{"type":"hello","v":4}').v, 4);
  assert.throws(() => decodeFrame('{"type":"hello","v":3}'), /protocol v3/);
});

test("applyLocDelta rebuilds a location array from the previous one and leaves that one as it was", async () => {
  const { applyLocDelta } = await import("../../frontend/js/protocol.js");
  const prev = new Uint8Array([0, 1, 2, 255, 16, 17]);
  const buf = packState({ type: "state", panes: [{ pane: 0, nr_frames: 6, layout: "location", loc_delta: true }] }, [
    { name: "p0.loc_pfn", dtype: "uint32", data: new Uint32Array([1, 3]) },
    { name: "p0.loc_val", dtype: "uint8", data: new Uint8Array([3, 2]) },
  ]);
  const msg = decodeFrame(buf);
  assert.equal(applyLocDelta(msg, [prev]), true);
  assert.deepEqual(Array.from(msg.arrays["p0.loc"]), [0, 3, 2, 2, 16, 17]);
  assert.deepEqual(Array.from(prev), [0, 1, 2, 255, 16, 17]);
  // no base (a new connection's first delta can't happen, but a lost one can): ask again
  assert.equal(applyLocDelta(decodeFrame(buf), []), false);
});

test("missingWindows asks for the visible part of each list drawn one cell per folio, once it is not loaded", async () => {
  const { missingWindows } = await import("../../frontend/js/views/lruLists.js");
  const { laneLayout } = await import("../../frontend/js/laneLayout.js");
  const counts = [400000, 0, 300000, 1000, 0];
  const pane = { layout: "location", step: 5, lists: {} };
  const wide = laneLayout({ counts, width: 900, height: 420, labelWidth: 170, minLane: 42 });
  assert.deepEqual(missingWindows(pane, wide), []);   // aggregated or 1 px cells: sizes are enough
  const near = laneLayout({ counts, width: 900, height: 420, labelWidth: 170, minLane: 42, zoom: [0.5, 0.501] });
  const want = missingWindows(pane, near);
  assert.deepEqual(want.map((w) => w.list), ["LRU_INACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE"]);
  for (const w of want) assert.ok(w.count > 0 && w.count <= 16384);
  const a = want[0];
  pane.windows = { [a.list]: { step: 5, offset: a.offset, total: counts[0], pfn: new Int32Array(a.count) } };
  assert.ok(!missingWindows(pane, near).some((w) => w.list === a.list));
  pane.step = 6;   // a window of another step is stale
  assert.ok(missingWindows(pane, near).some((w) => w.list === a.list));
  assert.deepEqual(missingWindows({ layout: "order", lists: { LRU_INACTIVE_ANON: new Int32Array(3) } }, near), []);
});

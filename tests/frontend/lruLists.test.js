import { test } from "node:test";
import assert from "node:assert/strict";
import { drawLruLists } from "../../frontend/js/views/lruLists.js";
import { LRU_LISTS } from "../../frontend/js/lists.js";

// A 2D context that keeps what putImageData wrote; every other call a no-op.
function fakeContext() {
  const noop = () => {};
  const target = {
    put: null,
    createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    putImageData(img) { target.put = new Uint32Array(img.data.buffer).slice(); },
    measureText: (t) => ({ width: 6 * String(t).length }),
  };
  return new Proxy(target, { get: (o, k) => (k in o ? o[k] : noop), set: (o, k, v) => { o[k] = v; return true; } });
}

// nr frames on the four evictable lists, flags and young bits set on many.
function pane(nr) {
  const pfns = Int32Array.from({ length: nr }, (_, i) => (i * 7919) % nr);
  const q = nr / 4;
  const lists = {};
  LRU_LISTS.forEach((name, i) => { lists[name] = i < 4 ? pfns.subarray(i * q, (i + 1) * q) : new Int32Array(0); });
  return { pane: 0, step: 1, nrFrames: nr, layout: "order", lists,
    flags: Uint32Array.from({ length: nr }, (_, i) => (i * 2654435761) >>> 9), young: Uint8Array.from({ length: nr }, (_, i) => i % 3 === 0) };
}

test("list grids: cells too small for flag marks come out the same without reading flags (the step's fast path)", () => {
  // sizes that give 1-5 px cells (the fast path) and 6+ px (the marked one)
  const cells = new Set();
  for (const [nr, w, h] of [[16384, 896, 400], [16384, 1400, 900], [4096, 896, 400], [1024, 896, 400], [256, 896, 400]]) {
    const p = pane(nr);
    const fast = fakeContext();
    const res = drawLruLists(fast, p, { width: w, height: h });
    // the same picture through the per-folio path: a highlight that dims nothing
    const slow = fakeContext();
    drawLruLists(slow, p, { width: w, height: h, highlight: new Set(Array.from({ length: nr }, (_, i) => i)) });
    assert.ok(fast.put && slow.put, "both drew their grid");
    assert.equal(fast.put.length, slow.put.length);
    let diff = 0;
    for (let i = 0; i < fast.put.length; i++) if (fast.put[i] !== slow.put[i]) diff++;
    assert.equal(diff, 0, `${nr} frames at ${w}x${h} (cell ${res.cell}): ${diff} pixels differ`);
    cells.add(res.cell);
    assert.ok(fast.put.some((v) => v !== 0), "cells were drawn");
  }
  assert.ok([...cells].some((c) => c < 6) && [...cells].some((c) => c >= 6), `cell sizes ${[...cells]}: both paths`);
});

test("list grids: a large machine's note wraps inside a compare pane, under the lanes, instead of losing its first words off the left edge", () => {
  const texts = [];
  const ctx = fakeContext();
  ctx.fillText = (t, x, y) => texts.push({ t, x, y, w: 6 * String(t).length });
  // above 16,384 frames the state frame has per-list counts, not the order
  const big = { pane: 0, step: 1, nrFrames: 18733, layout: "location",
    listCounts: { LRU_INACTIVE_ANON: 1211, LRU_ACTIVE_ANON: 444, LRU_INACTIVE_FILE: 7712, LRU_ACTIVE_FILE: 8186, LRU_UNEVICTABLE: 256 } };
  const width = 460;
  drawLruLists(ctx, big, { width, height: 420 });
  const note = texts.filter(({ t }) => !/^\d|head|tail|folios|LRU_|anon$|file$|unevictable$/.test(t));
  assert.ok(note.length >= 2, `the sentence takes several lines at ${width} px: ${JSON.stringify(note)}`);
  assert.equal(note.map(({ t }) => t).join(" "),
    "Machine above 16,384 frames: list sizes only. Wheel to zoom: at one cell per folio the order is fetched for the visible part.");
  for (const { t, x, w } of note) {
    assert.ok(x >= 0 && x + w <= width, `"${t}" at x ${x}, ${w} px wide, inside the ${width} px pane`);
  }
  // in a strip of its own: below every lane's labels and head/tail marks
  const lanes = texts.filter((e) => !note.includes(e));
  assert.ok(Math.min(...note.map((e) => e.y)) > Math.max(...lanes.map((e) => e.y)) + 11);
});

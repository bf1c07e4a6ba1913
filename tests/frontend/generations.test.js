import { test } from "node:test";
import assert from "node:assert/strict";
import { drawGenerations } from "../../frontend/js/views/generations.js";

// A 2D context that draws nothing: image data is real, every other call a no-op.
function fakeContext() {
  const noop = () => {};
  const target = {
    createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    measureText: (t) => ({ width: 6 * String(t).length }),
  };
  return new Proxy(target, { get: (o, k) => (k in o ? o[k] : noop), set: (o, k, v) => { o[k] = v; return true; } });
}

// 16 Ki frames, MGLRU order layout: four generations, anon and file rows.
function pane(nr = 16384) {
  const pfns = Int32Array.from({ length: nr }, (_, i) => (i * 7919) % nr);
  const part = nr / 8;
  const gens = [0, 1, 2, 3].map((k) => ({
    seq: 10 + k, gen: (10 + k) % 4, nr_pages: [part, part],
    folios: [pfns.subarray(2 * k * part, (2 * k + 1) * part), pfns.subarray((2 * k + 1) * part, (2 * k + 2) * part)],
  }));
  return { pane: 0, step: 5, nrFrames: nr, layout: "order", flags: new Uint32Array(nr), young: new Uint8Array(nr),
    gens: { max_seq: 13, min_seq: [10, 10], gens } };
}

test("a 16 Ki-frame generations draw places every folio without a Map entry per folio", () => {
  const p = pane();
  const set = Map.prototype.set;
  let sets = 0;
  Map.prototype.set = function (...a) { sets++; return set.apply(this, a); };
  let res;
  try {
    res = drawGenerations(fakeContext(), p, { width: 1400, height: 900 });
  } finally {
    Map.prototype.set = set;
  }
  assert.ok(sets < 64, `${sets} Map entries for one draw`);
  const seen = new Set();
  for (let pfn = 0; pfn < p.nrFrames; pfn++) {
    const c = res.locate(pfn);
    assert.ok(c && c.x > 0 && c.y > 0, `pfn ${pfn} has no cell`);
    seen.add(`${c.x},${c.y}`);
  }
  assert.equal(seen.size, p.nrFrames, "two folios share a cell");
  assert.equal(res.locate(p.nrFrames), null);
  assert.equal(res.locate(-1), null);
});

// putImageData's pixels kept; every other call a no-op.
function capturingContext() {
  const ctx = fakeContext();
  ctx.putImageData = (img) => { ctx.put = new Uint32Array(img.data.buffer).slice(); };
  return ctx;
}

test("a step's generations draw (small cells, nothing hidden) puts the same pixels and places as the per-folio path", async () => {
  const { FLAGS } = await import("../../frontend/js/flags.js");
  const cells = new Set();
  for (const [nr, w, h] of [[16384, 896, 400], [16384, 500, 300], [32768, 500, 300], [4096, 896, 400], [2048, 896, 400]]) {
    const p = pane(nr);
    // tiers, workingset, and gen fields both matching and not (lazily re-filed)
    p.flags = Uint32Array.from({ length: nr }, (_, i) => {
      const gen = i % 5;   // 0 = no gen field, 1..4 = gen + 1
      return ((gen << FLAGS.LRU_GEN_PGOFF) & FLAGS.LRU_GEN_MASK) | (i % 7 === 0 ? FLAGS.PG_workingset : 0) |
        (i % 3 === 0 ? FLAGS.PG_referenced | ((i % 4) << FLAGS.LRU_REFS_PGOFF) : 0);
    });
    const fast = capturingContext();
    const a = drawGenerations(fast, p, { width: w, height: h });
    // a highlight that dims nothing takes the per-folio path
    const slow = capturingContext();
    const b = drawGenerations(slow, p, { width: w, height: h, highlight: new Set(Array.from({ length: nr }, (_, i) => i)) });
    cells.add(a.cell);
    let diff = 0;
    for (let i = 0; i < fast.put.length; i++) if (fast.put[i] !== slow.put[i]) diff++;
    assert.equal(diff, 0, `${nr} frames at ${w}x${h} (cell ${a.cell}): ${diff} pixels differ`);
    for (let pfn = 0; pfn < nr; pfn++) assert.deepEqual(a.locate(pfn), b.locate(pfn), `pfn ${pfn}`);
  }
  assert.ok([...cells].some((c) => c < 3) && [...cells].some((c) => c >= 3 && c < 6), `cell sizes ${[...cells]}`);
});

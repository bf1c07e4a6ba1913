import { test } from "node:test";
import assert from "node:assert/strict";
import { laneLayout } from "../../frontend/js/laneLayout.js";
import { folioTier } from "../../frontend/js/folioTier.js";
import { FLAGS } from "../../frontend/js/flags.js";
import { frameColour } from "../../frontend/js/frameColour.js";
import { rgba } from "../../frontend/js/rgba.js";

test("lanes share one cell size and every folio of every lane gets a cell inside its lane", () => {
  const counts = [3000, 1200, 9000, 3184, 0];
  const L = laneLayout({ counts, width: 900, height: 420 });
  assert.equal(L.aggregated, false);
  assert.ok(L.cell >= 1);
  L.lanes.forEach((lane, i) => {
    if (!counts[i]) return;
    const last = L.locate(i, counts[i] - 1);
    assert.ok(last.y + L.cell <= lane.y + lane.h, `lane ${i} overflows`);
    assert.ok(last.x + L.cell <= 900);
  });
  // Lanes are stacked in kernel order without overlap.
  for (let i = 1; i < 5; i++) assert.ok(L.lanes[i].y >= L.lanes[i - 1].y + L.lanes[i - 1].h);
});

test("head is the first cell and the tail the last, row-major", () => {
  const L = laneLayout({ counts: [100, 0, 0, 0, 0], width: 400, height: 400 });
  const head = L.locate(0, 0);
  const second = L.locate(0, 1);
  assert.equal(head.x, L.lanes[0].x0);
  assert.equal(second.x, head.x + L.cell);
  assert.equal(second.y, head.y);
  assert.deepEqual(L.hit(head.x, head.y), { lane: 0, pos: 0 });
  const tail = L.locate(0, 99);
  assert.deepEqual(L.hit(tail.x + L.cell - 1, tail.y + L.cell - 1), { lane: 0, pos: 99 });
});

test("a machine too big for one pixel per folio is aggregated, and zoom brings single folios back", () => {
  const big = [400000, 300000, 200000, 148576, 0];
  const L = laneLayout({ counts: big, width: 900, height: 420 });
  assert.equal(L.aggregated, true);
  assert.ok(L.lanes[0].per > 1);
  const Z = laneLayout({ counts: big, width: 900, height: 420, zoom: [0.5, 0.5 + 1 / 512] });
  assert.equal(Z.aggregated, false);
  assert.equal(Z.lanes[0].start, 200000);
  assert.equal(Z.locate(0, 199999), null, "outside the zoomed range");
  assert.ok(Z.locate(0, 200000));
});

test("folioTier follows lru_tier_from_refs(): refs 0,1 -> 0; 2 -> 1; 3,4 -> 2; PG_workingset -> 3", () => {
  const refs = (n) => FLAGS.PG_referenced | (n << FLAGS.LRU_REFS_PGOFF);
  assert.equal(folioTier(0), 0);
  assert.equal(folioTier(refs(0)), 0);
  assert.equal(folioTier(refs(1)), 1);
  assert.equal(folioTier(refs(2)), 2);
  assert.equal(folioTier(refs(3)), 2);
  assert.equal(folioTier(FLAGS.PG_workingset), 3);
});

test("folioTier before v6.14 (6.1, 6.12): refs = the field + PG_workingset, tier = order_base_2(refs + 1); tiers off -> 0", () => {
  const f = (field, ws) => FLAGS.PG_referenced | (field << FLAGS.LRU_REFS_PGOFF) | (ws ? FLAGS.PG_workingset : 0);
  for (const kernel of ["6.1", "6.12"]) {
    // read twice: PG_referenced, then PG_workingset (6.1 swap.c folio_inc_refs()): refs 1, tier 1, not 3
    assert.equal(folioTier(f(0, false), { kernel }), 0);
    assert.equal(folioTier(f(0, true), { kernel }), 1);
    assert.equal(folioTier(f(1, true), { kernel }), 2);
    assert.equal(folioTier(f(2, true), { kernel }), 2);
    assert.equal(folioTier(f(3, true), { kernel }), 3);
  }
  assert.equal(folioTier(f(0, true), { kernel: "7.3" }), 3);
  assert.equal(folioTier(f(3, true), { kernel: "7.3", tiers: false }), 0);
});

test("frameColour reads the per-frame flags or the location byte", () => {
  assert.equal(frameColour(0, null), "free");
  assert.equal(frameColour(FLAGS.PG_lru | FLAGS.PG_swapbacked | FLAGS.PG_active, null), "LRU_ACTIVE_ANON");
  assert.equal(frameColour(FLAGS.PG_lru, null), "LRU_INACTIVE_FILE");
  assert.equal(frameColour(FLAGS.PG_swapbacked, null), "isolated");
  assert.equal(frameColour(0, 3), "LRU_ACTIVE_FILE");
  assert.equal(frameColour(0, 16 + 2 * 1 + 1), "LRU_INACTIVE_FILE");
  assert.equal(frameColour(0, 255), "free");
});

test("rgba packs #rrggbb as little-endian ABGR pixels", () => {
  assert.equal(rgba("#0072B2"), 0xffb27200);
  assert.equal(rgba("#ff0000", 0), 0x000000ff);
});

test("frameColour counts an MGLRU folio in the two youngest generations as active (lru_gen_is_active)", () => {
  const inGen = (g) => FLAGS.PG_lru | ((g + 1) << FLAGS.LRU_GEN_PGOFF);
  const genActive = [false, true, true, false];
  assert.equal(frameColour(inGen(1), null, genActive), "LRU_ACTIVE_FILE");
  assert.equal(frameColour(inGen(3) | FLAGS.PG_swapbacked, null, genActive), "LRU_INACTIVE_ANON");
});

test("pixelGrid marks flags in the cell corners, so state never relies on colour alone", async () => {
  const { pixelGrid } = await import("../../frontend/js/views/pixelGrid.js");
  const W = 16;
  const buf = new Uint32Array(W * W);
  const fill = 0xffe9b456; // #56B4E9, a light list colour
  pixelGrid(buf, W, 0, 0, 14, fill, FLAGS.PG_referenced | FLAGS.PG_dirty, 1);
  const px = (x, y) => buf[y * W + x];
  assert.equal(px(0, 0), fill, "marks are inset: the corner keeps the list colour");
  assert.equal(px(1, 1), 0xffffffff, "top-left white: PG_referenced");
  assert.equal(px(11, 1), fill, "top-right plain: PG_workingset clear");
  assert.equal(px(1, 11), 0xff000000, "bottom-left black: dirty");
  assert.equal(px(11, 11), 0xffffffff, "bottom-right white: young PTE");
  assert.equal(px(6, 6), fill, "the middle keeps the list colour");
  assert.equal(px(13, 6), 0, "1-px gap between cells");
  const small = new Uint32Array(W * W);
  pixelGrid(small, W, 0, 0, 3, fill, FLAGS.PG_referenced, 1);
  assert.equal(small[0], fill, "below 6 px a cell is plain colour");
});

test("pixelGrid swaps mark colours on dark cells so they stay visible", async () => {
  const { pixelGrid } = await import("../../frontend/js/views/pixelGrid.js");
  const W = 16;
  const buf = new Uint32Array(W * W);
  pixelGrid(buf, W, 0, 0, 14, 0xff00357a /* #7a3500, anon tier 3 */, FLAGS.PG_referenced | FLAGS.PG_workingset, 0);
  assert.equal(buf[1 * W + 1], 0xff000000, "PG_referenced dark on a dark cell");
  assert.equal(buf[1 * W + 11], 0xffffffff, "PG_workingset light on a dark cell");
});

test("perStep: a delta only between consecutive steps; a seek's gap stays empty, not a spike", async () => {
  const { perStep } = await import("../../frontend/js/perStep.js");
  assert.deepEqual(perStep([0, 5, 9, 400, 410], [0, 1, 2, 30, 31]), [null, 5, 4, null, 10]);
  assert.deepEqual(perStep([7], [12]), [null]);
  // the server's timeline every 4th step: the mean per step over each stride
  assert.deepEqual(perStep([0, 8, 20, 22], [0, 4, 8, 10], 4), [null, 2, 3, 1]);
  assert.deepEqual(perStep([0, 8, 20], [0, 4, 16], 4), [null, 2, null]);
});

test("fmt.round shortens big counts without cutting digits", async () => {
  const { fmt } = await import("../../frontend/js/format.js");
  assert.equal(fmt.round(1045349), "1.05M");
  assert.equal(fmt.round(12345678), "12.3M");
  assert.equal(fmt.round(10453), "10k");
  assert.equal(fmt.round(999), "999");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { pixelGrid } from "../../frontend/js/views/pixelGrid.js";
import { FLAGS } from "../../frontend/js/flags.js";

// The cell as it was drawn with a fill() per row: the pixels must not change.
function reference(buf, stride, x, y, cell, colour, flags, young) {
  const size = cell >= 4 ? cell - 1 : cell;
  for (let r = 0; r < size; r++) buf.fill(colour, (y + r) * stride + x, (y + r) * stride + x + size);
  if (cell < 6) return;
  const m = Math.max(1, Math.floor(size / 3.5));
  const o = cell >= 8 ? 1 : 0;
  const sq = (ox, oy, c) => { for (let r = 0; r < m; r++) buf.fill(c, (y + oy + r) * stride + x + ox, (y + oy + r) * stride + x + ox + m); };
  const dark = colour === 0xff202020;
  const light = dark ? 0xff000000 : 0xffffffff;
  const deep = dark ? 0xffffffff : 0xff000000;
  if (flags & FLAGS.PG_referenced) sq(o, o, light);
  if (flags & FLAGS.PG_workingset) sq(size - m - o, o, deep);
  if (flags & FLAGS.PG_dirty) sq(o, size - m - o, deep);
  if (young) sq(size - m - o, size - m - o, light);
}

test("folio cells: the same pixels as before for every size and mark, without a fill() per row", () => {
  const all = FLAGS.PG_referenced | FLAGS.PG_workingset | FLAGS.PG_dirty;
  const fill = Uint32Array.prototype.fill;
  for (const cell of [1, 2, 3, 4, 5, 6, 8, 12, 14]) {
    for (const colour of [0xff80c0e0, 0xff202020]) {
      for (const [flags, young] of [[0, 0], [all, 1], [FLAGS.PG_dirty, 0]]) {
        const a = new Uint32Array(40 * 40), b = new Uint32Array(40 * 40);
        let fills = 0;
        Uint32Array.prototype.fill = function (...args) { fills++; return fill.apply(this, args); };
        try {
          pixelGrid(a, 40, 3, 5, cell, colour, flags, young);
        } finally {
          Uint32Array.prototype.fill = fill;
        }
        reference(b, 40, 3, 5, cell, colour, flags, young);
        assert.deepEqual(a, b, `cell ${cell} colour ${colour.toString(16)} flags ${flags} young ${young}`);
        assert.equal(fills, 0, `cell ${cell}: ${fills} fill() calls`);
      }
    }
  }
});

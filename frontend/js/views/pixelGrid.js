// Paints folio cells into a Uint32Array pixel buffer. A cell is `cell` px
// square with a 1-px gap when cell >= 4; from 6 px up each cell carries its
// flag marks as small squares in the corners, so state never relies on colour
// (the position names the flag; light cells get these colours, dark cells
// the opposite):
//   top-left white = PG_referenced   top-right black = PG_workingset
//   bottom-left black = dirty        bottom-right white = young PTE
import { FLAGS } from "../flags.js";

const WHITE = 0xffffffff;
const BLACK = 0xff000000;

// Marks take the colour that contrasts with the cell: on dark cells (MGLRU's
// tier 3, active anon) the "black" marks turn white and the white ones black.
const dark = new Map();
function isDark(colour) {
  let d = dark.get(colour);
  if (d === undefined) {
    const r = colour & 0xff; const g = (colour >>> 8) & 0xff; const b = (colour >>> 16) & 0xff;
    d = 0.2126 * r + 0.7152 * g + 0.0722 * b < 90;
    dark.set(colour, d);
  }
  return d;
}

// A square of side n at (x, y), by plain stores: a cell is a few pixels
// wide, and TypedArray fill()'s own cost per call was most of a 16 Ki-folio
// draw (node, 3-px cells: 1.0 ms with a fill() per row, 0.2 ms like this).
function square(buf, stride, x, y, n, c) {
  for (let r = 0; r < n; r++) {
    const o = (y + r) * stride + x;
    for (let k = 0; k < n; k++) buf[o + k] = c;
  }
}

export function pixelGrid(buf, stride, x, y, cell, colour, flags = 0, young = 0) {
  const size = cell >= 4 ? cell - 1 : cell;
  square(buf, stride, x, y, size, colour);
  if (cell < 6) return;
  const m = Math.max(1, Math.floor(size / 3.5));
  // Inset by 1 px from 8 px up, so that a mark reads as a dot inside the
  // cell and not as a notch merged with the white gap between cells.
  const o = cell >= 8 ? 1 : 0;
  const sq = (ox, oy, c) => square(buf, stride, x + ox, y + oy, m, c);
  const inv = isDark(colour);
  const light = inv ? BLACK : WHITE;
  const deep = inv ? WHITE : BLACK;
  if (flags & FLAGS.PG_referenced) sq(o, o, light);
  if (flags & FLAGS.PG_workingset) sq(size - m - o, o, deep);
  if (flags & FLAGS.PG_dirty) sq(o, size - m - o, deep);
  if (young) sq(size - m - o, size - m - o, light);
}

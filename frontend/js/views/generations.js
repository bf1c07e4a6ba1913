// The MGLRU view: generations min_seq … max_seq as columns (oldest on the
// left, where eviction takes; youngest on the right, where aging adds), one
// row per type (anon, file). Each folio is coloured by its tier; a folio whose
// gen field already names another generation (promoted by a page-table walk,
// not yet moved by sort_folio()) carries a black centre dot: "lazily re-filed".
import { fmt } from "../format.js";
import { FLAGS } from "../flags.js";
import { folioTier } from "../folioTier.js";
import { PALETTE } from "../palette.js";
import { rgba } from "../rgba.js";
import { pixelGrid } from "./pixelGrid.js";
import { windowOf } from "./lruLists.js";

const LABEL_W = 64;
const HEAD_H = 58;
const COLS = 4;
const MIN_TARGET = 7;   // px: a click this close to a folio cell picks it
const INDEX_MAX_FRAMES = 1 << 17;   // the pfn -> cell index as an array up to here (512 KiB)
const images = new WeakMap();

function fitCell(counts, w, h, maxCell = 14) {
  for (let c = maxCell; c >= 1; c--) {
    const cols = Math.floor(w / c);
    if (counts.every((n) => Math.ceil(n / cols) * c <= h)) return { cell: c, per: 1 };
  }
  const maxN = Math.max(1, ...counts);
  return { cell: 1, per: Math.ceil(maxN / (w * h)) };
}

// zoom: the [z0, z1) fraction of every generation list shown (wheel, as in
// the classic lists view). On large machines (no order in the state frame)
// the grids drawn one cell per folio are filled from `zoom` windows; the
// result's `missing` names the windows to request.
// kernel, tiers: the pane's release and MGLRU `tiers` knob, whose formulas
// give a folio's tier (folioTier.js).
export function drawGenerations(ctx, pane, { width, height, hidden = null, selectedPfn = null, slide = 0, highlight = null, zoom = [0, 1], kernel = "7.3", tiers = true } = {}) {
  const tierOf = (f) => folioTier(f, { kernel, tiers });
  const g = pane.gens;
  if (!g) {
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = "#333";
    ctx.font = "13px system-ui, sans-serif";
    ctx.fillText("This pane runs the classic policy: it has no generations.", 12, 24);
    return { locate: () => null, pfnAt: () => null, cell: 1, missing: [] };
  }
  const colGap = 8;
  const colW = Math.floor((width - LABEL_W - colGap * COLS) / COLS);
  const rowH = Math.floor((height - HEAD_H - 8) / 2);
  const innerW = colW - 8;
  const innerH = rowH - 20;
  const gens = g.gens.slice().sort((a, b) => a.seq - b.seq);
  const listName = (gen, t) => `gen${gen.seq}.${t ? "file" : "anon"}`;
  // list length: the order if we have it, a window's total, else nr_pages
  const lengthOf = (gen, t) => gen.folios?.[t]?.length ?? windowOf(pane, listName(gen, t))?.total ?? gen.nr_pages[t];
  const range = (n) => { const a = Math.floor(zoom[0] * n); return [a, Math.max(a, Math.ceil(zoom[1] * n))]; };
  const counts = [];
  for (const gen of gens) for (let t = 0; t < 2; t++) { const [a, b] = range(lengthOf(gen, t)); counts.push(b - a); }
  const { cell, per } = fitCell(counts, innerW, innerH);
  const missing = [];
  const gridCols = Math.floor(innerW / cell);
  // max_seq sits in the rightmost column; older generations to its left.
  const colX = (seq) => LABEL_W + (COLS - 1 - (g.max_seq - seq)) * (colW + colGap) + slide;

  let img = images.get(ctx);
  if (!img || img.width !== width || img.height !== height) { img = ctx.createImageData(width, height); images.set(ctx, img); }
  const buf = new Uint32Array(img.data.buffer);
  buf.fill(0);
  const bg = rgba("#f2f2f2");
  const black = 0xff000000;
  // pfn -> its cell, packed as y * 65536 + x: no object per folio on a
  // step's critical path (16 Ki folios per draw); locate() unpacks. Up to
  // INDEX_MAX_FRAMES frames the index is an array by pfn (v + 1, 0 = not
  // drawn): a Map's set() per folio was ~1 ms of a 16 Ki-folio draw, in the
  // message's task before the frame that shows the step. A bigger machine
  // draws only its zoom windows, a few thousand folios: a Map.
  const nrFrames = pane.nrFrames > 0 && pane.nrFrames <= INDEX_MAX_FRAMES ? pane.nrFrames : 0;
  const posArr = nrFrames ? new Int32Array(nrFrames) : null;
  const posMap = nrFrames ? null : new Map();
  const pos = {
    set: (pfn, v) => { if (posMap) posMap.set(pfn, v); else if (pfn >= 0 && pfn < nrFrames) posArr[pfn] = v + 1; },
    get: (pfn) => (posMap ? posMap.get(pfn) : pfn >= 0 && pfn < nrFrames && posArr[pfn] ? posArr[pfn] - 1 : undefined),
    has: (pfn) => pos.get(pfn) !== undefined,
  };
  const at = (v) => (v === undefined ? null : { x: v % 65536, y: Math.floor(v / 65536) });
  const refiled = new Map();
  const grids = [];   // per drawn list: where its cells are, for hit testing
  for (const gen of gens) {
    const x0 = colX(gen.seq);
    if (x0 < LABEL_W - colW || x0 >= width) continue;
    for (let t = 0; t < 2; t++) {
      if (gen.seq < g.min_seq[t]) continue;
      const y0 = HEAD_H + t * (rowH + 8) + 16;
      for (let r = 0; r < innerH; r++) {
        const row = (y0 + r) * width;
        const a = Math.max(0, x0 + 4);
        const b = Math.min(width, x0 + 4 + innerW);
        if (b > a) buf.fill(bg, row + a, row + b);
      }
      const arr = gen.folios?.[t];
      const win = arr ? null : windowOf(pane, listName(gen, t));
      const [a, b] = range(lengthOf(gen, t));
      if (!arr && per === 1 && cell >= 2 && b > a && pane.layout === "location") {
        const end = Math.min(b, a + 16384);
        if (!win || win.offset > a || win.offset + win.pfn.length < Math.min(end, win.total)) {
          missing.push({ list: listName(gen, t), offset: a, count: end - a });
        }
      }
      const tiers = t === 0 ? PALETTE.tiersAnon : PALETTE.tiers;
      const tierPx = tiers.map((c) => rgba(c));
      const tierPxDim = tiers.map((c) => rgba(c, 110));
      grids.push({ x: x0 + 4, y: y0, a, n: Math.ceil((b - a) / per), arr, win });
      // Aggregated cells ("1 px = per folios"): the selected folio's cell is
      // where it is drawn, so its outline shows which folio a click picked.
      if (selectedPfn != null && per > 1 && arr) {
        const k = arr.indexOf(selectedPfn);
        if (k >= a && k < b) {
          const sl = Math.floor((k - a) / per);
          pos.set(selectedPfn, (y0 + Math.floor(sl / gridCols) * cell) * 65536 + x0 + 4 + (sl % gridCols) * cell);
        }
      }
      let nRefiled = 0;
      if (arr && per === 1 && cell < 6 && posArr && !hidden && !highlight) {
        // A step's draw at 16 Ki frames (1-5 px cells, no flag marks, nothing
        // hidden or dimmed): the same cells as the loop below, without its
        // young reads, zoom-window checks and a division per cell.
        const flags = pane.flags;
        const size = cell >= 4 ? cell - 1 : cell;   // pixelGrid's square
        const m = Math.max(1, Math.floor(cell / 3));
        const o = Math.floor((cell - 1 - m) / 2);
        let x = x0 + 4;
        let y = y0;
        let col = 0;
        for (let s = a; s < b; s++) {
          if (x >= 0 && x + cell <= width && y + cell <= height) {
            const pfn = arr[s];
            const f = flags ? flags[pfn] : 0;
            const genField = ((f & FLAGS.LRU_GEN_MASK) >>> FLAGS.LRU_GEN_PGOFF) - 1;
            const isRefiled = !!flags && genField >= 0 && genField !== gen.gen;
            if (pfn >= 0 && pfn < nrFrames) posArr[pfn] = y * 65536 + x + 1;
            const tier = tierOf(f);
            const c = tierPx[tier];
            for (let r = 0; r < size; r++) {
              const row = (y + r) * width + x;
              for (let k = 0; k < size; k++) buf[row + k] = c;
            }
            if (isRefiled) {
              nRefiled++;
              if (cell >= 3) {
                const dot = tier === 3 ? 0xffffffff : black;
                for (let r = 0; r < m; r++) buf.fill(dot, (y + o + r) * width + x + o, (y + o + r) * width + x + o + m);
              }
            }
          }
          x += cell;
          if (++col === gridCols) { col = 0; x = x0 + 4; y += cell; }
        }
        refiled.set(`${gen.seq}.${t}`, nRefiled);
        continue;
      }
      for (let s = 0; s < Math.ceil((b - a) / per); s++) {
        const x = x0 + 4 + (s % gridCols) * cell;
        const y = y0 + Math.floor(s / gridCols) * cell;
        if (x < 0 || x + cell > width || y + cell > height) continue;
        const w = win ? a + s - win.offset : -1;
        const inWin = per === 1 && win && w >= 0 && w < win.pfn.length;
        if (per > 1 || (!arr && !inWin)) { buf[y * width + x] = tierPx[1]; continue; }
        const pfn = arr ? arr[a + s] : win.pfn[w];
        const f = arr ? (pane.flags ? pane.flags[pfn] : 0) : win.flags[w];
        const genField = ((f & FLAGS.LRU_GEN_MASK) >>> FLAGS.LRU_GEN_PGOFF) - 1;
        const isRefiled = (arr ? !!pane.flags : true) && genField >= 0 && genField !== gen.gen;
        if (isRefiled) nRefiled++;
        if (posArr) { if (pfn >= 0 && pfn < nrFrames) posArr[pfn] = y * 65536 + x + 1; } else posMap.set(pfn, y * 65536 + x);
        if (hidden && hidden.has(pfn)) continue;
        const dim = highlight && !highlight.has(pfn);
        const yg = arr ? (pane.young ? pane.young[pfn] : 0) : win.young[w];
        pixelGrid(buf, width, x, y, cell, (dim ? tierPxDim : tierPx)[tierOf(f)], f, yg);
        if (isRefiled && cell >= 3) {
          const dot = tierOf(f) === 3 ? 0xffffffff : black;
          const m = Math.max(1, Math.floor(cell / 3));
          const o = Math.floor((cell - 1 - m) / 2);
          for (let r = 0; r < m; r++) buf.fill(dot, (y + o + r) * width + x + o, (y + o + r) * width + x + o + m);
        }
      }
      refiled.set(`${gen.seq}.${t}`, nRefiled);
    }
  }
  // The image covers the whole canvas (putImageData replaces pixels, alpha
  // too): no clearRect first, which cost a full-canvas clear in the step's task.
  ctx.putImageData(img, 0, 0);

  ctx.textBaseline = "top";
  ctx.font = "600 12px system-ui, sans-serif";
  for (let t = 0; t < 2; t++) {
    const y0 = HEAD_H + t * (rowH + 8);
    ctx.fillStyle = t === 0 ? PALETTE.anon : PALETTE.file;
    ctx.fillRect(4, y0 + 18, 10, 10);
    ctx.fillStyle = "#111";
    ctx.fillText(t === 0 ? "anon" : "file", 18, y0 + 16);
    ctx.font = "11px ui-monospace, monospace";
    ctx.fillStyle = "#444";
    ctx.fillText(`min_seq`, 4, y0 + 34);
    ctx.fillText(`= ${g.min_seq[t]}`, 4, y0 + 48);
    ctx.font = "600 12px system-ui, sans-serif";
  }
  const compact = colW < 240;
  for (const gen of gens) {
    const x0 = colX(gen.seq);
    if (x0 < 0 || x0 >= width) continue;
    const youngest = gen.seq === g.max_seq;
    // Each header is clipped to its column so narrow (compare) panes stay legible.
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, 0, colW + 4, height);
    ctx.clip();
    ctx.fillStyle = youngest ? "#0b3d62" : "#111";
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.fillText(`seq ${gen.seq}${youngest ? (compact ? " (max)" : " = max_seq") : ""}`, x0 + 4, 2);
    ctx.font = "11px ui-monospace, monospace";
    ctx.fillStyle = "#444";
    ctx.fillText(compact ? `age ${gen.age_ms} ms` : `gen ${gen.gen} · age ${gen.age_ms} ms`, x0 + 4, 17);
    // nr_pages counts by gen field (as the kernel does), the grid by list.
    const onList = [0, 1].map((t) => gen.folios?.[t]?.length ?? gen.nr_pages[t]);
    const cnt = (t) => `${gen.nr_pages[t]}${onList[t] !== gen.nr_pages[t] ? ` (${onList[t]} on list)` : ""}`;
    // Three widths: full sentences, words (one pane at 1280 px), initials (compare).
    const narrow = colW < 150;
    // The longest wording that fits the column (lazily re-filed folios add "(n on list)").
    // Never cut digits: past the exact wordings, counts are rounded and say so (k, M).
    const wordings = [`nr_pages anon ${cnt(0)} · file ${cnt(1)}`, `anon ${cnt(0)} · file ${cnt(1)}`,
      `a ${cnt(0)} · f ${cnt(1)}`, `a ${gen.nr_pages[0]} · f ${gen.nr_pages[1]}`,
      `a ${fmt.round(gen.nr_pages[0])} · f ${fmt.round(gen.nr_pages[1])}`,
      `a${fmt.round(gen.nr_pages[0])} f${fmt.round(gen.nr_pages[1])}`];
    const fits = wordings.slice(narrow ? 2 : compact ? 1 : 0).find((w) => ctx.measureText(w).width <= colW - 4);
    if (!fits) ctx.font = "9px ui-monospace, monospace";
    ctx.fillText(fits ?? wordings[5], x0 + 4, 30);
    const mins = [0, 1].filter((t) => g.min_seq[t] === gen.seq).map((t) => (t ? "file" : "anon"));
    if (mins.length) {
      ctx.fillStyle = "#7a3500";
      ctx.fillText(narrow ? `◂ min_seq` : compact ? `◂ min_seq[${mins.join(",")}]`
        : `◂ min_seq[${mins.join(",")}] (evicted first)`, x0 + 4, 43);
    }
    for (let t = 0; t < 2; t++) {
      const k = refiled.get(`${gen.seq}.${t}`);
      const y0 = HEAD_H + t * (rowH + 8);
      ctx.font = "10px system-ui, sans-serif";
      ctx.fillStyle = "#333";
      const [a, b] = range(lengthOf(gen, t));
      const span = (zoom[0] > 0 || zoom[1] < 1) && b > a ? `#${a}–#${b - 1}` : "▸ head";
      if (gen.seq >= g.min_seq[t]) {
        ctx.fillText(`${span}${k ? ` · ${k} lazily re-filed ●` : ""}`, x0 + 4, y0 + 3);
        // The tail is the last cell (bottom right): where evict_folios() isolates.
        if (!narrow && !k && b > a && span === "▸ head") {
          ctx.textAlign = "right";
          ctx.fillText("tail ↘", x0 + 4 + innerW, y0 + 3);
          ctx.textAlign = "left";
        }
      } else {
        // This type's min_seq has moved past this seq: its list was emptied.
        ctx.fillStyle = "#666";
        ctx.fillText(narrow ? "(< min_seq)" : `(below min_seq[${t ? "file" : "anon"}]: emptied)`, x0 + 4, y0 + 3);
      }
    }
    ctx.restore();
  }
  if (selectedPfn != null && pos.has(selectedPfn)) {
    // A ring at least MIN_TARGET wide, white inside black, so a 1-px cell's
    // selection is seen.
    const p = at(pos.get(selectedPfn));
    const m = Math.max(2, Math.ceil((MIN_TARGET + 2 - cell) / 2));
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#000";
    ctx.strokeRect(p.x - m, p.y - m, cell + 2 * m - 1, cell + 2 * m - 1);
    if (cell < 4) {
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#fff";
      ctx.strokeRect(p.x - m + 1.5, p.y - m + 1.5, cell + 2 * m - 4, cell + 2 * m - 4);
    }
  }
  // The folio cell a click at (px, py) means: the cell under the pointer, or
  // the nearest drawn cell within MIN_TARGET / 2 px (cells are 1 px at 16 Ki
  // frames). An aggregated cell stands for its first folio.
  const slop = Math.max(1, Math.ceil((MIN_TARGET - cell) / 2));
  function slotAt(gr, px, py) {
    const rows = Math.ceil(gr.n / gridCols);
    const cx = Math.min(gridCols - 1, Math.max(0, Math.floor((px - gr.x) / cell)));
    const cy = Math.min(rows - 1, Math.max(0, Math.floor((py - gr.y) / cell)));
    const cands = [cy * gridCols + cx];
    if (cands[0] >= gr.n) cands.splice(0, 1, gr.n - 1, (cy - 1) * gridCols + cx);
    let best = null;
    for (const sl of cands) {
      if (sl < 0 || sl >= gr.n) continue;
      const sx = gr.x + (sl % gridCols) * cell;
      const sy = gr.y + Math.floor(sl / gridCols) * cell;
      const d = Math.hypot(Math.max(sx - px, 0, px - (sx + cell)), Math.max(sy - py, 0, py - (sy + cell)));
      if (!best || d < best.d) best = { sl, d };
    }
    return best;
  }
  return {
    locate: (pfn) => at(pos.get(pfn)),
    // The head (top left) of a generation list, for folios not drawn one by one.
    place(loc, seq, end, type = 1) {
      if (loc !== "gen" || seq == null || seq < 0) return null;
      const x0 = colX(seq);
      if (x0 < 0 || x0 >= width) return null;
      const y0 = HEAD_H + type * (rowH + 8) + 16;
      return end === "tail" ? { x: x0 + 4 + innerW - cell, y: y0 + innerH - cell } : { x: x0 + 4, y: y0 };
    },
    pfnAt(px, py) {
      let best = null;
      for (const gr of grids) {
        if (!gr.n) continue;
        const hit = slotAt(gr, px, py);
        if (!hit || hit.d > slop || (best && hit.d >= best.d)) continue;
        const k = gr.a + hit.sl * per;
        const w = gr.win ? k - gr.win.offset : -1;
        const pfn = gr.arr ? gr.arr[k] : gr.win && w >= 0 && w < gr.win.pfn.length ? gr.win.pfn[w] : null;
        if (pfn != null) best = { pfn, d: hit.d };
      }
      return best ? best.pfn : null;
    },
    cell,
    colX,
    colW,
    missing,
  };
}

// The classic view: the five lru_list lanes in kernel order, each a grid from
// head (top left, where folios enter) to tail (bottom right, where reclaim
// isolates). Folios are pixels in one ImageData; labels are canvas text.
import { fitLines } from "../fitLines.js";
import { laneLayout } from "../laneLayout.js";
import { LRU_LISTS } from "../lists.js";
import { PALETTE } from "../palette.js";
import { rgba } from "../rgba.js";
import { pixelGrid } from "./pixelGrid.js";

const EN = new Intl.NumberFormat("en-US");   // one formatter, not one per number

const LABEL_W = 170;
const LARGE_MACHINE_NOTE = "Machine above 16,384 frames: list sizes only. Wheel to zoom: at one cell per folio the order is fetched for the visible part.";
const images = new WeakMap();
const NICE = {
  LRU_INACTIVE_ANON: "inactive anon",
  LRU_ACTIVE_ANON: "active anon",
  LRU_INACTIVE_FILE: "inactive file",
  LRU_ACTIVE_FILE: "active file",
  LRU_UNEVICTABLE: "unevictable",
};

function imageFor(ctx, w, h) {
  let img = images.get(ctx);
  if (!img || img.width !== w || img.height !== h) {
    img = ctx.createImageData(w, h);
    images.set(ctx, img);
  }
  return img;
}

// `labels`: what each list is to the pane's policy (PolicyInfo.lists, e.g.
// "clock ring (file)"); lists without a label keep the kernel's names.
export function drawLruLists(ctx, pane, { width, height, zoom = [0, 1], hidden = null, selectedPfn = null, highlight = null, labels = null } = {}) {
  const counts = LRU_LISTS.map((n) => pane.lists?.[n]?.length ?? pane.listCounts?.[n] ?? 0);
  // Above 16,384 frames the state frame has per-list counts, not the order;
  // zoomed in to one cell per folio, the page asks for the visible windows.
  // The note saying so gets a strip of its own under the lanes, wrapped to
  // the pane (a compare pane is narrower than the sentence).
  let note = null;
  if (!pane.lists?.[LRU_LISTS[0]] && pane.layout === "location") {
    ctx.font = "11px system-ui, sans-serif";
    note = fitLines(LARGE_MACHINE_NOTE, width - 20, (t) => ctx.measureText(t).width);
  }
  const noteH = note ? 14 * note.length + 6 : 0;
  const layout = laneLayout({ counts, width, height: height - noteH, labelWidth: LABEL_W, zoom, minLane: 42 });
  const gridW = layout.gridW;
  const img = imageFor(ctx, gridW, height);
  const buf = new Uint32Array(img.data.buffer);
  buf.fill(0);
  const bg = rgba("#f2f2f2");
  const flags = pane.flags;
  const young = pane.young;
  for (const L of layout.lanes) {
    for (let r = 0; r < Math.min(L.rows * L.cell, L.h - 14); r++) {
      buf.fill(bg, (L.gridY + r) * gridW, (L.gridY + r) * gridW + L.cols * L.cell);
    }
    const name = LRU_LISTS[L.index];
    const arr = pane.lists?.[name];
    const win = arr ? null : windowOf(pane, name);
    const colour = rgba(PALETTE[name]);
    const faded = rgba(PALETTE[name], 110);
    const slots = Math.ceil((L.end - L.start) / L.per);
    if (L.per === 1 && arr && !hidden && !highlight && L.cell < 6) {
      // Cells too small for flag marks, nothing hidden or dimmed: every
      // cell is the list's colour, so neither flags nor young is read (two
      // random reads per folio), and the cells go in order without a
      // division each (16 Ki folios: most of the draw, in the step's task).
      const size = L.cell >= 4 ? L.cell - 1 : L.cell;
      let x = 0;
      let y = L.gridY;
      let col = 0;
      for (let s = 0; s < slots; s++) {
        for (let r = 0; r < size; r++) {
          const o = (y + r) * gridW + x;
          for (let k = 0; k < size; k++) buf[o + k] = colour;
        }
        x += L.cell;
        if (++col === L.cols) { col = 0; x = 0; y += L.cell; }
      }
      continue;
    }
    for (let s = 0; s < slots; s++) {
      const x = (s % L.cols) * L.cell;
      const y = L.gridY + Math.floor(s / L.cols) * L.cell;
      if (L.per === 1) {
        const pos = L.start + s;
        const w = win ? pos - win.offset : -1;
        const inWin = w >= 0 && w < (win ? win.pfn.length : 0);
        const pfn = arr ? arr[pos] : inWin ? win.pfn[w] : -1;
        if (hidden && pfn >= 0 && hidden.has(pfn)) continue;
        const dim = highlight && pfn >= 0 && !highlight.has(pfn);
        const fl = arr ? (flags && pfn >= 0 ? flags[pfn] : 0) : inWin ? win.flags[w] : 0;
        const yg = arr ? (young && pfn >= 0 ? young[pfn] : 0) : inWin ? win.young[w] : 0;
        pixelGrid(buf, gridW, x, y, L.cell, dim ? faded : colour, fl, yg);
      } else {
        buf[y * gridW + x] = colour;
      }
    }
  }
  // The image replaces the grid's pixels (alpha too): only the label column
  // and the strip right of the grid are cleared, not the whole canvas.
  ctx.clearRect(0, 0, LABEL_W, height);
  ctx.clearRect(LABEL_W + gridW, 0, width - LABEL_W - gridW, height);
  ctx.putImageData(img, LABEL_W, 0);

  ctx.textBaseline = "top";
  for (const L of layout.lanes) {
    const name = LRU_LISTS[L.index];
    ctx.fillStyle = PALETTE[name];
    ctx.fillRect(4, L.y + 2, 10, 10);
    ctx.strokeStyle = "rgba(0,0,0,0.4)";
    ctx.strokeRect(4.5, L.y + 2.5, 9, 9);
    ctx.fillStyle = "#111";
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.fillText(labels?.[name] || NICE[name], 20, L.y + 1, LABEL_W - 24);
    ctx.font = "10.5px ui-monospace, monospace";
    ctx.fillStyle = "#555";
    ctx.fillText(name, 20, L.y + 15);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#222";
    ctx.fillText(`${EN.format(L.count)} folios${L.per > 1 ? ` · 1 px = ${L.per}` : ""}`, 20, L.y + 28);
    // Head and tail marks: where list_add() inserts and where isolation takes.
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = "#333";
    ctx.fillText(L.start === 0 ? "▸ head" : `▸ #${L.start}`, LABEL_W, L.y + 2);
    if (L.end > L.start) {
      const last = layout.locate(L.index, L.end - 1);
      const label = L.end === L.count ? "tail ◂" : `#${L.end - 1} ◂`;
      const tw = ctx.measureText(label).width;
      const tx = Math.min(width - tw - 2, Math.max(LABEL_W + 50, last.x + L.cell - tw));
      ctx.fillText(label, tx, L.y + 2);
      if (L.end === L.count) {
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 1;
        ctx.strokeRect(last.x - 0.5, last.y - 0.5, L.cell + 1, L.cell + 1);
      }
    }
  }
  const windowed = layout.lanes.some((L) => L.per === 1 && L.end > L.start && windowOf(pane, LRU_LISTS[L.index]));
  if (note && !windowed) {
    ctx.font = "11px system-ui, sans-serif";
    const w = Math.max(...note.map((t) => ctx.measureText(t).width));
    ctx.fillStyle = "#333";
    note.forEach((t, i) => ctx.fillText(t, width - w - 8, height - noteH + 3 + 14 * i));
  }
  // pfn -> {lane, pos}, built on first use: only a selection or a step's
  // flights (planned a frame after the step's draw) ask, so the index
  // (~0.2 ms at 16 Ki frames) stays out of the step's first frame.
  let whereFn;
  const where = () => (whereFn === undefined ? (whereFn = reverseIndex(pane) || windowIndex(pane, layout)) : whereFn);
  if (selectedPfn != null && where()) {
    const w = where()(selectedPfn);
    const p = w && layout.locate(w.lane, w.pos);
    if (p) {
      const c = layout.cell;
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#000";
      ctx.strokeRect(p.x - 2, p.y - 2, c + 3, c + 3);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1;
      ctx.strokeRect(p.x - 3.5, p.y - 3.5, c + 6, c + 6);
    }
  }
  return {
    layout,
    // pfn -> pixel (for the in-flight animation), via the pane's reverse index.
    locate(pfn) {
      const f = where();
      const w = f && f(pfn);
      return w ? layout.locate(w.lane, w.pos) : null;
    },
    // The head or tail cell of a list, by its kernel name.
    place(loc, _seq, end) {
      const lane = LRU_LISTS.indexOf(loc);
      const L = layout.lanes[lane];
      if (lane < 0 || !L) return null;
      if (L.end === L.start) return { x: L.x0, y: L.gridY };
      return layout.locate(lane, end === "tail" ? L.end - 1 : L.start);
    },
    pfnAt(px, py) {
      const h = layout.hit(px, py);
      if (!h) return null;
      const arr = pane.lists?.[LRU_LISTS[h.lane]];
      if (arr) return arr[h.pos];
      const win = windowOf(pane, LRU_LISTS[h.lane]);
      const w = win ? h.pos - win.offset : -1;
      return win && w >= 0 && w < win.pfn.length ? win.pfn[w] : null;
    },
    cell: layout.cell,
  };
}

// pfn -> {lane, pos}, built once per pane state.
const rev = new WeakMap();
function reverseIndex(pane) {
  if (!pane.lists || !pane.lists[LRU_LISTS[0]]) return null;
  let fn = rev.get(pane);
  if (fn) return fn;
  const n = pane.nrFrames || (pane.flags ? pane.flags.length : 0);
  const idx = new Int32Array(n).fill(-1);
  LRU_LISTS.forEach((name, lane) => {
    const arr = pane.lists[name];
    if (arr) for (let i = 0; i < arr.length; i++) if (arr[i] < n) idx[arr[i]] = (lane << 24) | i;
  });
  fn = (pfn) => (pfn >= 0 && pfn < n && idx[pfn] >= 0 ? { lane: idx[pfn] >>> 24, pos: idx[pfn] & 0xffffff } : null);
  rev.set(pane, fn);
  return fn;
}

// A zoom window (protocol `zoom`) of this list, if one of this very step arrived.
export function windowOf(pane, name) {
  const win = pane.windows?.[name];
  return win && win.step === pane.step ? win : null;
}

// pfn -> {lane, pos} through the zoom windows (location layout): a scan, as
// it only runs for the selected folio and the few folios of one step's flights.
function windowIndex(pane, layout) {
  if (!pane.windows) return null;
  return (pfn) => {
    for (const L of layout.lanes) {
      const win = windowOf(pane, LRU_LISTS[L.index]);
      if (!win) continue;
      const i = win.pfn.indexOf(pfn);
      if (i >= 0) return { lane: L.index, pos: win.offset + i };
    }
    return null;
  };
}

// The windows this drawing shows one folio per cell for but has no order of:
// [{list, offset, count}] for the page to request (at most 16,384 folios each).
export function missingWindows(pane, layout) {
  if (pane.layout !== "location" || pane.lists?.[LRU_LISTS[0]]) return [];
  const out = [];
  for (const L of layout.lanes) {
    if (L.per !== 1 || L.cell < 2 || L.end <= L.start) continue;
    const name = LRU_LISTS[L.index];
    const end = Math.min(L.end, L.start + 16384);
    const win = windowOf(pane, name);
    if (win && win.offset <= L.start && win.offset + win.pfn.length >= Math.min(end, win.total)) continue;
    out.push({ list: name, offset: L.start, count: end - L.start });
  }
  return out;
}

// The simulated hardware: every RAM page frame (what occupies it), the free
// pages against the min/low/high watermarks, the swap device's slots, and the
// page cache with its shadow entries.
import { fmt } from "../format.js";
import { frameColour } from "../frameColour.js";
import { PALETTE } from "../palette.js";
import { rgba } from "../rgba.js";

const images = new WeakMap();

function bar(ctx, x, y, w, h, parts, total) {
  ctx.fillStyle = "#eee";
  ctx.fillRect(x, y, w, h);
  let cx = x;
  for (const [n, colour] of parts) {
    const pw = total ? (w * n) / total : 0;
    ctx.fillStyle = colour;
    ctx.fillRect(cx, y, pw, h);
    cx += pw;
  }
  ctx.strokeStyle = "#666";
  ctx.lineWidth = 1;
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
}

export function drawHardware(ctx, pane, { width, height, zoom = [0, 1] } = {}) {
  ctx.clearRect(0, 0, width, height);
  const total = pane.nrFrames || pane.flags?.length || pane.loc?.length || 0;
  // The zoom is a pfn range; wheel over the grid narrows it around the cursor.
  const first = Math.floor(zoom[0] * total);
  const n = Math.max(1, Math.ceil(zoom[1] * total) - first);
  const gridX = 10;
  const gridY = 22;
  const gridW = width - 20;
  const gridH = Math.max(40, Math.floor(height * 0.5));
  // Frames in pfn order; one cell per frame, or `per` frames per pixel.
  let cell = 1;
  for (let c = 12; c >= 1; c--) if (Math.ceil(n / Math.floor(gridW / c)) * c <= gridH) { cell = c; break; }
  const cols = Math.floor(gridW / cell);
  const per = Math.max(1, Math.ceil(n / (cols * Math.floor(gridH / cell))));
  let img = images.get(ctx);
  if (!img || img.width !== gridW || img.height !== gridH) { img = ctx.createImageData(gridW, gridH); images.set(ctx, img); }
  const buf = new Uint32Array(img.data.buffer);
  buf.fill(rgba("#ffffff"));
  const colourOf = {};
  for (const k of ["LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE", "LRU_UNEVICTABLE", "isolated", "free"]) colourOf[k] = rgba(PALETTE[k]);
  let genActive = null;
  if (pane.gens) {
    genActive = [false, false, false, false];
    for (const g of pane.gens.gens) genActive[g.gen] = g.seq >= pane.gens.max_seq - 1;
  }
  const slots = Math.ceil(n / per);
  const size = cell >= 4 ? cell - 1 : cell;
  for (let s = 0; s < slots; s++) {
    const pfn = first + s * per;
    if (pfn >= total) break;
    const key = frameColour(pane.flags ? pane.flags[pfn] : 0, pane.loc ? pane.loc[pfn] : null, genActive);
    const x = (s % cols) * cell;
    const y = Math.floor(s / cols) * cell;
    for (let r = 0; r < size; r++) buf.fill(colourOf[key], (y + r) * gridW + x, (y + r) * gridW + x + size);
  }
  ctx.putImageData(img, gridX, gridY);
  ctx.textBaseline = "top";
  ctx.fillStyle = "#111";
  ctx.font = "600 12px system-ui, sans-serif";
  const range = n < total ? `pfn ${fmt.count(first)}–${fmt.count(first + n - 1)} of ${fmt.count(total)}` : `${fmt.count(total)} page frames`;
  ctx.fillText(`RAM: ${range} (pfn order${per > 1 ? `, 1 px = ${per} frames` : ""}); grey = free${per > 1 || n < total ? " · wheel zooms, 0 resets" : ""}`, gridX, 4);

  let y = gridY + gridH + 14;
  const wm = pane.watermarks || {};
  const free = pane.nrFree ?? 0;
  // Scale to 3 x high so the three watermarks stay apart; a larger free
  // count fills the bar and says so.
  const scale = wm.high ? wm.high * 3 : Math.max(free, 1);
  ctx.fillText(`free pages ${fmt.count(free)} vs watermarks min ${fmt.count(wm.min)} · low ${fmt.count(wm.low)} · high ${fmt.count(wm.high)}`, gridX, y);
  y += 16;
  bar(ctx, gridX, y, gridW, 18, [[Math.min(free, scale), "#9e9e9e"]], scale);
  if (free > scale) {
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = "#fff";
    ctx.fillText(`» ${fmt.count(free)} (bar scaled to 3 × high)`, gridX + gridW - 190, y + 4);
  }
  ctx.font = "10px system-ui, sans-serif";
  for (const [k, dash] of [["min", [2, 2]], ["low", [6, 3]], ["high", []]]) {
    if (wm[k] == null) continue;
    const x = gridX + (gridW * wm[k]) / scale;
    ctx.strokeStyle = PALETTE.wmark[k];
    ctx.lineWidth = 2;
    ctx.setLineDash(dash);
    ctx.beginPath(); ctx.moveTo(x, y - 3); ctx.lineTo(x, y + 21); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#111";
    ctx.fillText(k, x + 2, y + 22);
  }
  y += 40;
  ctx.fillStyle = "#111";
  const mi = pane.meminfo || {};
  // Shadow entries (docs/protocol.md nr_shadow): a swapped-out anon page
  // leaves one in its swap slot, an evicted file page one in the page cache;
  // workingset_refault() reads them back to measure the refault distance.
  const sh = pane.nrShadow || null;
  const swapTotal = (mi.SwapTotal ?? 0) / 4;
  const swapUsed = swapTotal - (mi.SwapFree ?? 0) / 4;
  const swapCached = (mi.SwapCached ?? 0) / 4;
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.fillStyle = "#111";
  ctx.fillText(swapTotal
    ? `swap device: ${fmt.count(swapUsed)} of ${fmt.count(swapTotal)} slots used — swap cache ${fmt.count(swapCached)} folios · ${sh ? `${fmt.count(sh.anon)} shadow entries (swapped out)` : `${fmt.count(swapUsed - swapCached)} swapped out`}`
    : "no swap device: anon folios cannot be reclaimed", gridX, y);
  y += 16;
  bar(ctx, gridX, y, gridW, 14, [[swapCached, PALETTE.swap], [swapUsed - swapCached, PALETTE.shadow]], swapTotal || 1);
  y += 26;
  const cached = (mi.Cached ?? 0) / 4;
  const fileShadows = sh && sh.file != null ? sh.file : null;
  ctx.fillStyle = "#111";
  // workingset_nodes: the xarray nodes holding only shadows, which the shadow shrinker trims
  const nodes = `workingset_nodes ${fmt.count(pane.vmstat?.workingset_nodes ?? 0)}`;
  const shadowText = fileShadows != null ? `${fmt.count(fileShadows)} shadow entries (evicted), ${nodes}` : nodes;
  ctx.fillText(`page cache: ${fmt.count(cached)} folios · ${shadowText} · Dirty ${fmt.count((mi.Dirty ?? 0) / 4)} · Writeback ${fmt.count((mi.Writeback ?? 0) / 4)}`, gridX, y);
  y += 16;
  bar(ctx, gridX, y, gridW, 14, [[cached, PALETTE.LRU_INACTIVE_FILE], [fileShadows ?? 0, PALETTE.shadow]], Math.max(1, cached + (fileShadows ?? 0)));
  return {
    cell, per,
    locate: () => null,
    pfnAt(px, py) {
      const x = px - gridX; const y = py - gridY;
      if (x < 0 || y < 0 || x >= cols * cell || y >= gridH) return null;
      const pfn = first + (Math.floor(y / cell) * cols + Math.floor(x / cell)) * per;
      return pfn < first + n && pfn < total ? pfn : null;
    },
    total,
    range: [first, Math.min(total, first + n)],
  };
}

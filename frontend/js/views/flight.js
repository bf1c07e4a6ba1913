// Folios in flight during a step's animation, drawn with fillRect on the
// overlay canvas: (1) from their old place to the isolation row, (2) held
// there with the decision's glyph, (3) to their new place — a list, the free
// pool, or the swap device. Everything stays inside the canvas (the pane):
// boxes are clamped to it, and the isolation row's frame and title are cut
// to its width. Returns the rectangles drawn ([x, y, w, h]).
import { DECISIONS } from "../decisions.js";

const ease = (t) => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);
const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), Math.max(lo, hi));

export function drawFlight(ctx, flights, t, { width, height, cell = 6, title = "isolated: private list of shrink_inactive_list()" } = {}) {
  ctx.clearRect(0, 0, width, height);
  const boxes = [];
  if (!flights.length || t >= 1) return boxes;
  const size = Math.max(8, Math.min(12, cell + 2));
  const staged = flights.filter((f) => f.staged);
  if (staged.length && t < 0.8) {
    const s0 = staged[0];
    const s1 = staged[staged.length - 1];
    const rows = Math.max(1, Math.round((s1.sy - s0.sy) / (size + 16)) + 1);
    const right = Math.max(...staged.map((f) => f.sx)) + size + 6;
    const x = clamp(s0.sx - 6, 0, width - 2);
    const y = clamp(s0.sy - 36, 0, height - 2);
    const w = Math.min(Math.max(right - x, 300), width - 1 - x);
    const h = Math.min(rows * (size + 16) + 26, height - 1 - y);
    ctx.fillStyle = "rgba(240, 228, 66, 0.25)";
    ctx.strokeStyle = "#8a7f00";
    ctx.lineWidth = 1;
    ctx.fillRect(x, y, w, h);
    ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    boxes.push([x, y, w, h]);
    ctx.fillStyle = "#333";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    // The longest wording that fits the frame: the full title, then "isolated".
    const text = [title, "isolated"].find((s) => ctx.measureText(s).width <= w - 8) ?? "";
    if (text) ctx.fillText(text, x + 4, y + 2);
  }
  ctx.font = `${size + 2}px system-ui, sans-serif`;
  ctx.textBaseline = "bottom";
  for (const f of flights) {
    let x; let y;
    if (!f.staged) {
      const k = ease(Math.min(1, t / 0.9));
      x = f.x0 + (f.x1 - f.x0) * k; y = f.y0 + (f.y1 - f.y0) * k;
    } else if (t < 0.35) {
      const k = ease(t / 0.35);
      x = f.x0 + (f.sx - f.x0) * k; y = f.y0 + (f.sy - f.y0) * k;
    } else if (t < 0.6) {
      x = f.sx; y = f.sy;
    } else {
      const k = ease((t - 0.6) / 0.4);
      x = f.sx + (f.x1 - f.sx) * k; y = f.sy + (f.y1 - f.sy) * k;
    }
    x = clamp(x, 0, width - size);
    y = clamp(y, 0, height - size);
    const d = DECISIONS[f.verb] || DECISIONS.other;
    ctx.fillStyle = t < 0.35 ? f.fromColour : (f.verb === "reclaim" || f.verb === "swapout" ? d.colour : f.toColour);
    ctx.fillRect(x, y, size, size);
    ctx.strokeStyle = f.selected ? "#000" : "rgba(0,0,0,0.55)";
    ctx.lineWidth = f.selected ? 2 : 1;
    ctx.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
    boxes.push([x, y, size, size]);
    if (f.staged && t >= 0.3 && t < 0.85) {
      ctx.fillStyle = d.colour === "#F0E442" ? "#8a7f00" : d.colour;
      // the glyph sits on the box, or under it when the box is at the top
      const gw = ctx.measureText(d.glyph).width;
      const gy = y - 1 >= size + 2 ? y - 1 : y + 2 * size + 3;
      const gx = clamp(x, 0, width - gw);
      ctx.fillText(d.glyph, gx, gy);
      boxes.push([gx, gy - (size + 2), gw, size + 2]);
    }
  }
  return boxes;
}

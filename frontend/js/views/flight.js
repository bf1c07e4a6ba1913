// Folios in flight during a step's animation, drawn with fillRect on the
// overlay canvas: (1) from their old place to the isolation row, (2) held
// there with the decision's glyph, (3) to their new place — a list, the free
// pool, or the swap device.
import { DECISIONS } from "../decisions.js";

const ease = (t) => (t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);

export function drawFlight(ctx, flights, t, { width, height, cell = 6, title = "isolated: private list of shrink_inactive_list()" } = {}) {
  ctx.clearRect(0, 0, width, height);
  if (!flights.length || t >= 1) return;
  const size = Math.max(8, Math.min(12, cell + 2));
  const staged = flights.filter((f) => f.staged);
  if (staged.length && t < 0.8) {
    const s0 = staged[0];
    const s1 = staged[staged.length - 1];
    ctx.fillStyle = "rgba(240, 228, 66, 0.25)";
    ctx.strokeStyle = "#8a7f00";
    ctx.lineWidth = 1;
    const w = s1.sx - s0.sx + size + 12;
    const rows = Math.max(1, Math.round((s1.sy - s0.sy) / (size + 16)) + 1);
    ctx.fillRect(s0.sx - 6, s0.sy - 36, Math.max(w, 300), rows * (size + 16) + 26);
    ctx.strokeRect(s0.sx - 6.5, s0.sy - 36.5, Math.max(w, 300), rows * (size + 16) + 26);
    ctx.fillStyle = "#333";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.fillText(title, s0.sx - 2, s0.sy - 34);
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
    const d = DECISIONS[f.verb] || DECISIONS.other;
    ctx.fillStyle = t < 0.35 ? f.fromColour : (f.verb === "reclaim" || f.verb === "swapout" ? d.colour : f.toColour);
    ctx.fillRect(x, y, size, size);
    ctx.strokeStyle = f.selected ? "#000" : "rgba(0,0,0,0.55)";
    ctx.lineWidth = f.selected ? 2 : 1;
    ctx.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
    if (f.staged && t >= 0.3 && t < 0.85) {
      ctx.fillStyle = d.colour === "#F0E442" ? "#8a7f00" : d.colour;
      ctx.fillText(d.glyph, x, y - 1);
    }
  }
}

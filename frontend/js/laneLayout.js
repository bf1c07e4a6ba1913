// Layout math for lanes of folios (pure, tested with node --test).
//
// Each lane is a grid filled row by row from the list head (top left) to the
// tail (bottom right), because reclaim isolates from the tail and new folios
// enter at the head. One cell size is shared by every lane so that a folio
// looks the same wherever it is. When even 1-pixel cells cannot hold a lane,
// the lane is aggregated: each pixel then stands for `per` consecutive folios.
//
// counts: visible folios per lane; zoom: [z0, z1) fraction of each list shown.
export function laneLayout({ counts, width, height, labelWidth = 150, gap = 6,
  minLane = 30, maxCell = 14, zoom = [0, 1] }) {
  const n = counts.length;
  const gridW = Math.max(1, width - labelWidth - 8);
  const [z0, z1] = zoom;
  const ranges = counts.map((c) => {
    const start = Math.floor(z0 * c);
    const end = Math.max(start, Math.ceil(z1 * c));
    return [start, end];
  });
  const vis = ranges.map(([s, e]) => e - s);
  const total = vis.reduce((a, b) => a + b, 0);
  const avail = Math.max(n * minLane, height - gap * (n - 1));
  const spare = avail - n * minLane;
  // Proportional heights, floored at minLane so an empty list still shows its label.
  const hs = vis.map((v) => Math.floor(minLane + (total ? (spare * v) / total : spare / n)));

  const fits = (c) => vis.every((v, i) => {
    const cols = Math.floor(gridW / c);
    return Math.ceil(v / cols) * c <= hs[i] - 14;
  });
  let cell = 0;
  for (let c = maxCell; c >= 1; c--) if (fits(c)) { cell = c; break; }

  const lanes = [];
  let y = 0;
  for (let i = 0; i < n; i++) {
    const c = cell || 1;
    const cols = Math.floor(gridW / c);
    const gridH = Math.max(1, hs[i] - 14);
    const rowsAvail = Math.floor(gridH / c);
    const per = cell ? 1 : Math.max(1, Math.ceil(vis[i] / (cols * rowsAvail)));
    const slots = Math.ceil(vis[i] / per);
    lanes.push({
      index: i, y, h: hs[i], gridY: y + 14, x0: labelWidth, cols, cell: c, per,
      start: ranges[i][0], end: ranges[i][1], count: counts[i],
      rows: Math.ceil(slots / cols),
    });
    y += hs[i] + gap;
  }
  return {
    cell: cell || 1, aggregated: cell === 0, lanes, width, height: y - gap, gridW,
    // Position in list (0 = head) -> top-left pixel of its cell, or null when
    // the position is outside the zoomed range.
    locate(laneIndex, pos) {
      const L = lanes[laneIndex];
      if (!L || pos < L.start || pos >= L.end) return null;
      const slot = Math.floor((pos - L.start) / L.per);
      return { x: L.x0 + (slot % L.cols) * L.cell, y: L.gridY + Math.floor(slot / L.cols) * L.cell };
    },
    // Pixel -> {lane, pos} (first folio of the cell), or null.
    hit(px, py) {
      for (const L of lanes) {
        if (py < L.gridY || py >= L.gridY + L.rows * L.cell) continue;
        if (px < L.x0 || px >= L.x0 + L.cols * L.cell) return null;
        const slot = Math.floor((py - L.gridY) / L.cell) * L.cols + Math.floor((px - L.x0) / L.cell);
        const pos = L.start + slot * L.per;
        return pos < L.end ? { lane: L.index, pos } : null;
      }
      return null;
    },
  };
}

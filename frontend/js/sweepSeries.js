// The curves of the sweep page: a chosen counter against one numeric
// dimension of the grid (RAM size unless another is chosen, e.g. a guest's
// holes), one series per policy (and per kernel profile when the sweep has
// several), from the cells that match the selected workload and the fixed
// values of the other dimensions. Seeds are averaged when `sel.seed` is
// "mean". Pure: no DOM, tested with node --test. Columnar output for uPlot;
// each series also names its policy and kernel (the page colours by policy
// and dashes by kernel).
const SERIES_DIMS = ["policy", "kernel"];
export const FILTER_DIMS = ["ram_mb", "swap_kind", "swap_mb", "swap_ratio", "swappiness", "guest", "zone_normal_holes", "seed"];
// the dimensions a curve can run along, with their axis labels
export const AXES = { ram_mb: "RAM (MiB)", zone_normal_holes: "ZONE_DMA32 holes (pages)", swappiness: "swappiness",
  swap_mb: "swap (MiB)", swap_ratio: "swap / RAM" };

// The x dimension (`want` if the sweep varies it, else RAM, else the first
// numeric dimension it varies) and the dimensions left to filter on.
export function sweepAxes(dims, want = null) {
  const varies = (d) => (dims[d] || []).length > 1;
  const choices = Object.keys(AXES).filter(varies);
  const x = want in AXES && varies(want) ? want : varies("ram_mb") || !choices.length ? "ram_mb" : choices[0];
  return { x, choices: choices.length ? choices : ["ram_mb"], filters: FILTER_DIMS.filter((d) => d !== x) };
}

export function sweepSeries(cells, sel, dims) {
  const metric = sel.counter;
  const along = sel.x ?? "ram_mb";
  const value = (c) => (metric in c.derived ? c.derived[metric] : c.vmstat[metric]);
  const keep = cells.filter((c) => c.done && c.dims.workload === sel.workload &&
    FILTER_DIMS.every((d) => d === along || d in c.dims === false || c.dims[d] == null || sel[d] == null ||
      (d === "seed" && sel.seed === "mean") || String(c.dims[d]) === String(sel[d])));
  const x = [...new Set(keep.map((c) => c.dims[along]))].sort((a, b) => a - b);
  const splits = SERIES_DIMS.filter((d) => (dims[d] || []).length > 0);
  const groups = new Map();
  for (const c of keep) {
    const label = splits.filter((d) => c.dims[d] != null).map((d) => (d === "kernel" ? `kernel ${c.dims[d]}` : c.dims[d])).join(" · ");
    if (!groups.has(label)) groups.set(label, { policy: c.dims.policy, kernel: c.dims.kernel ?? null, at: x.map(() => []) });
    groups.get(label).at[x.indexOf(c.dims[along])].push(c);
  }
  const series = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([label, { policy, kernel, at }]) => ({
    label,
    policy,
    kernel,
    cells: at,
    values: at.map((cs) => (cs.length ? cs.reduce((s, c) => s + value(c), 0) / cs.length : null)),
  }));
  return { x, series };
}

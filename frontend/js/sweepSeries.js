// The curves of the sweep page: a chosen counter against RAM size, one
// series per policy (and per kernel profile when the sweep has several),
// from the cells that match the selected workload and the fixed values of
// the other dimensions. Seeds are averaged when `sel.seed` is "mean".
// Pure: no DOM, tested with node --test. Columnar output for uPlot; each
// series also names its policy and kernel (the page colours by policy and
// dashes by kernel).
const SERIES_DIMS = ["policy", "kernel"];
const FILTER_DIMS = ["swap_kind", "swap_mb", "swap_ratio", "swappiness", "guest", "zone_normal_holes", "seed"];

export function sweepSeries(cells, sel, dims) {
  const metric = sel.counter;
  const value = (c) => (metric in c.derived ? c.derived[metric] : c.vmstat[metric]);
  const keep = cells.filter((c) => c.done && c.dims.workload === sel.workload &&
    FILTER_DIMS.every((d) => d in c.dims === false || c.dims[d] == null ||
      (d === "seed" && sel.seed === "mean") || String(c.dims[d]) === String(sel[d])));
  const x = [...new Set(keep.map((c) => c.dims.ram_mb))].sort((a, b) => a - b);
  const splits = SERIES_DIMS.filter((d) => (dims[d] || []).length > 0);
  const groups = new Map();
  for (const c of keep) {
    const label = splits.filter((d) => c.dims[d] != null).map((d) => (d === "kernel" ? `kernel ${c.dims[d]}` : c.dims[d])).join(" · ");
    if (!groups.has(label)) groups.set(label, { policy: c.dims.policy, kernel: c.dims.kernel ?? null, at: x.map(() => []) });
    groups.get(label).at[x.indexOf(c.dims.ram_mb)].push(c);
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

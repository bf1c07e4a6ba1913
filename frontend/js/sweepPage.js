// The sweep page (/sweeps/<id>): a counter against RAM size (or another
// numeric dimension the sweep varies: "x axis") per policy and kernel,
// drawn by the vendored uPlot, a table of the same cells in which
// every cell links to its interactive session (opened at the step where the
// counter grew fastest), and the selection kept in the URL so it can be
// shared. Wiring only; the curves come from sweepSeries.js.
import uPlot from "../vendor/uPlot.esm.js";
import { AXES, FILTER_DIMS, sweepAxes, sweepSeries } from "./sweepSeries.js";

const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
const DASHES = [undefined, [6, 3], [2, 2], [10, 3, 2, 3]];

function fmt(v) {
  if (v == null) return "–";
  return Math.abs(v) >= 1e7 ? `${(v / 1e6).toFixed(1)}M` : Math.round(v).toLocaleString("en-US");
}

export async function sweepPage(root) {
  const id = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1]);
  const res = await fetch(`/api/sweeps/${encodeURIComponent(id)}`);
  if (!res.ok) {
    root.querySelector("#sweep-title").textContent = `sweep ${id}: ${res.status}`;
    return;
  }
  const sw = await res.json();
  const q = new URLSearchParams(location.search);
  const sel = {
    counter: q.get("counter") || "refaults",
    workload: q.get("workload") || sw.dims.workload[0],
    x: sweepAxes(sw.dims, q.get("x")).x,
  };
  // every dimension's value, also the one the curve runs along (kept for
  // when another is chosen)
  for (const d of FILTER_DIMS) {
    const vals = sw.dims[d] || [];
    const want = q.get(d);
    sel[d] = d === "seed" && (want === "mean" || (want == null && vals.length > 1)) ? "mean"
      : want != null && vals.map(String).includes(want) ? want : String(vals[0] ?? "");
  }
  root.querySelector("#sweep-title").textContent =
    `sweep ${sw.name} (${sw.id}) — ${sw.nr_done} of ${sw.nr_cells} cells`;
  const controls = root.querySelector("#sweep-controls");
  function select(name, label, values, current, texts = null) {
    const l = document.createElement("label");
    l.textContent = `${label} `;
    const s = document.createElement("select");
    s.name = name;
    for (const v of values) {
      const o = document.createElement("option");
      o.value = String(v);
      o.textContent = texts?.[v] ?? String(v);
      if (String(v) === String(current)) o.selected = true;
      s.append(o);
    }
    s.addEventListener("change", () => {
      sel[name] = s.value;
      // another x axis: the dimension it leaves becomes a filter
      if (name === "x") buildControls();
      draw();
    });
    l.append(s);
    controls.append(l);
  }
  let filters = [];
  function buildControls() {
    controls.textContent = "";
    const axes = sweepAxes(sw.dims, sel.x);
    filters = axes.filters;
    select("counter", "counter", sw.metrics, sel.counter);
    select("workload", "workload", sw.dims.workload, sel.workload);
    if (axes.choices.length > 1) select("x", "x axis", axes.choices, sel.x, AXES);
    for (const d of filters) {
      const vals = sw.dims[d] || [];
      if (vals.length > 1) select(d, d, d === "seed" ? ["mean", ...vals] : vals, sel[d]);
    }
  }
  buildControls();
  const plotEl = root.querySelector("#sweep-plot");
  const tableEl = root.querySelector("#sweep-table");
  let chart = null;

  function draw() {
    const u = new URLSearchParams();
    u.set("counter", sel.counter);
    u.set("workload", sel.workload);
    if (sel.x !== "ram_mb") u.set("x", sel.x);
    for (const d of filters) if ((sw.dims[d] || []).length > 1) u.set(d, sel[d]);
    history.replaceState(null, "", `${location.pathname}?${u}`);
    const { x, series } = sweepSeries(sw.cells, sel, sw.dims);
    const axis = AXES[sel.x];
    const short = sel.x === "ram_mb" ? "RAM MiB" : sel.x;
    const policies = sw.dims.policy || [];
    const kernels = sw.dims.kernel || [null];
    if (chart) chart.destroy();
    plotEl.textContent = "";
    plotEl.setAttribute("aria-label", `${sel.counter} against ${axis}, one curve per ${series.map((s) => s.label).join(", ")}`);
    chart = new uPlot({
      title: `${sel.counter} vs ${sel.x === "ram_mb" ? "RAM" : axis.replace(/ \(.*\)$/, "")} — ${sel.workload}`,
      width: Math.min(900, Math.max(360, plotEl.clientWidth || 800)),
      height: 320,
      scales: { x: { time: false } },
      // one hue per policy, one dash per kernel profile
      series: [{ label: short }].concat(series.map((s) => ({
        label: s.label, stroke: COLOURS[Math.max(0, policies.indexOf(s.policy)) % COLOURS.length], width: 2,
        dash: DASHES[Math.max(0, kernels.indexOf(s.kernel)) % DASHES.length], points: { show: true, size: 6 },
      }))),
      axes: [{ label: axis }, { label: sel.counter, size: 70, values: (_, v) => v.map(fmt) }],
    }, [x, ...series.map((s) => s.values)], plotEl);
    plotEl.dataset.series = String(series.length);
    plotEl.dataset.points = String(x.length);
    // the table: one row per x value, one column per series; every cell links to its session
    const t = document.createElement("table");
    t.className = "sweep-cells";
    const h = t.createTHead().insertRow();
    for (const name of [short, ...series.map((s) => s.label)]) {
      const th = document.createElement("th");
      th.textContent = name;
      h.append(th);
    }
    const body = t.createTBody();
    x.forEach((at, i) => {
      const r = body.insertRow();
      r.insertCell().textContent = String(at);
      for (const s of series) {
        const td = r.insertCell();
        const v = document.createElement("span");
        v.textContent = fmt(s.values[i]);
        td.append(v);
        for (const c of s.cells[i]) {
          const a = document.createElement("a");
          a.className = "cell-link";
          a.href = `/sweeps/${encodeURIComponent(sw.id)}/cells/${c.key}/open?counter=${encodeURIComponent(sel.counter)}`;
          a.dataset.key = c.key;
          a.textContent = s.cells[i].length > 1 ? `s${c.dims.seed}` : "open";
          a.title = `an interactive session of this cell${c.dims.seed != null ? ` (seed ${c.dims.seed})` : ""}, at the step where ${sel.counter} grew fastest`;
          td.append(" ", a);
        }
      }
    });
    tableEl.replaceChildren(t);
  }
  draw();
}

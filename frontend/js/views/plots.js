// Time series under the panes, drawn by uPlot from the store's columnar
// samples: free pages against the watermarks, scans and steals, refaults,
// swap traffic. In compare mode both panes share each plot (A solid, B dashed).
import uPlot from "../../vendor/uPlot.esm.js";
import { pageMarkers } from "../pageMarkers.js";
import { perStep } from "../perStep.js";

const EN = new Intl.NumberFormat("en-US");   // one formatter, not one per number

// [series][pane]: the two series of a plot differ in hue (blue vs
// vermillion, safe for every common colour-vision deficiency) and in dash;
// pane B is the lighter shade of the same hue with a longer dash.
const PANE_COLOURS = [["#0072B2", "#56B4E9"], ["#D55E00", "#E69F00"]];
const DASHES = [[undefined, [6, 3]], [[2, 2], [10, 3, 2, 3]]];
const DEFS = [
  { title: "free pages vs watermarks", y: "pages", keys: [["nr_free_pages", "free"]], wmarks: true },
  { title: "scanned / stolen per step", y: "pages per step", keys: [["pgscan", "pgscan"], ["pgsteal", "pgsteal"]], diff: true },
  { title: "workingset refaults (cumulative)", y: "refaults", keys: [["workingset_refault", "refault"]] },
  { title: "swap traffic (cumulative)", y: "pages", keys: [["pswpout", "pswpout"], ["pswpin", "pswpin"]] },
];

const INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8];

function short(v) {
  if (v == null) return "";
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(0)}k`;
  return EN.format(v);
}


// A vertical line at the step on screen (uPlot draw hook).
function cursorLine(get) {
  return (u) => {
    const step = get();
    if (step == null || !u.data[0].length) return;
    const x = Math.round(u.valToPos(step, "x", true));
    const { ctx } = u;
    ctx.save();
    ctx.strokeStyle = "#555";
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  };
}

// Ticks at the top of the plot at the marked steps (uPlot draw hook):
// evictions vermillion, refaults blue.
function markerTicks(get) {
  return (u) => {
    const ms = get();
    if (!ms.length || !u.data[0].length) return;
    const { ctx } = u;
    ctx.save();
    ctx.lineWidth = 2 * devicePixelRatio;
    for (const m of ms) {
      const x = Math.round(u.valToPos(m.step, "x", true));
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.strokeStyle = m.kind === "evict" ? "#D55E00" : "#0072B2";
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + 8 * devicePixelRatio);
      ctx.stroke();
    }
    ctx.restore();
  };
}

// `onSeek(step)`: a click on a plot asks to go to that step. A drag across a
// plot zooms every plot to those steps (kept while stepping); a double click
// zooms back out.
// A chart as wide as its grid cell (the stylesheet sets 4 or 2 columns by
// the window's width), less the box's padding.
const widthIn = (box) => Math.max(200, Math.floor(box.clientWidth) - 4);

export function createPlots(el, { onSeek = null } = {}) {
  let charts = [];
  // The cells change width with the window (and the column count with it):
  // each chart follows its cell instead of overlapping the next one.
  const resized = globalThis.ResizeObserver ? new ResizeObserver(() => {
    for (const c of charts) {
      const w = widthIn(c.root.parentElement);
      if (w !== c.width) c.setSize({ width: w, height: c.height });
    }
  }) : null;
  resized?.observe(el);
  let nPanes = 0;
  let current = null;
  let markers = [];
  let zoom = null;          // {min, max} of the x scale the user chose, or null
  let syncing = false;
  function zoomAll(from, range) {
    syncing = true;
    for (const c of charts) if (c !== from) c.setScale("x", range);
    syncing = false;
  }
  function build(panes) {
    for (const c of charts) c.destroy();
    el.textContent = "";
    charts = [];
    nPanes = panes.length;
    for (const def of DEFS) {
      const box = document.createElement("div");
      box.className = "plot";
      // uPlot draws axis labels on its canvas: say them to screen readers too.
      box.setAttribute("role", "img");
      box.setAttribute("aria-label", `${def.title}: x axis step, y axis ${def.y}`);
      el.append(box);
      const width = widthIn(box);
      const series = [{ label: "step" }];
      panes.forEach((p, pi) => {
        def.keys.forEach(([, label], ki) => {
          series.push({
            label: nPanes > 1 ? `${label} ${pi ? "B" : "A"}` : label,
            stroke: PANE_COLOURS[ki % 2][pi],
            width: 1.75,
            dash: DASHES[ki % 2][pi],
            points: { show: false },
          });
        });
      });
      if (def.wmarks) {
        for (const [k, colour, dash] of [["min", "#D55E00", [2, 2]], ["low", "#E69F00", [6, 3]], ["high", "#009E73", []]]) {
          series.push({ label: k, stroke: colour, width: 1, dash, points: { show: false } });
        }
      }
      charts.push(new uPlot({
        title: def.title, width, height: 160, series,
        scales: { x: { time: false } },
        // Steps are whole numbers: no fractional ticks on the x axis.
        axes: [{ size: 28, font: "10px system-ui", incrs: INCRS, label: "step", labelSize: 14, labelFont: "11px system-ui" },
          // Every series counts pages or events: whole-number ticks only.
          { size: 46, font: "10px system-ui", values: (u, vals) => vals.map(short), incrs: INCRS,
            label: def.y, labelSize: 14, labelFont: "11px system-ui" }],
        // Hover shows the values at the step under the pointer.
        legend: { live: true },
        cursor: { drag: { x: true, y: false, setScale: true } },
        hooks: {
          draw: [cursorLine(() => current), markerTicks(() => markers)],
          setSelect: [(u) => {
            if (u.select.width < 4) return;
            zoom = { min: u.posToVal(u.select.left, "x"), max: u.posToVal(u.select.left + u.select.width, "x") };
          }],
          setScale: [(u, key) => { if (key === "x" && !syncing && zoom) zoomAll(u, zoom); }],
        },
      }, [[]].concat(series.slice(1).map(() => [])), box));
      const u = charts[charts.length - 1];
      u.over.style.cursor = "pointer";
      u.over.title = "click to go to this step; drag to zoom, double-click to zoom out";
      let downX = null;
      u.over.addEventListener("mousedown", (e) => { downX = e.offsetX; });
      let seekTimer = null;
      u.over.addEventListener("dblclick", () => {
        clearTimeout(seekTimer);             // a double click zooms out, it does not seek
        zoom = null;
        const x = u.data[0];
        if (x.length) zoomAll(null, { min: x[0], max: x[x.length - 1] });
      });
      u.over.addEventListener("click", (e) => {
        if (downX != null && Math.abs(e.offsetX - downX) > 3) return;   // the end of a drag
        if (!onSeek || !u.data[0].length) return;
        const v = u.posToVal(e.offsetX, "x");
        clearTimeout(seekTimer);
        if (Number.isFinite(v)) seekTimer = setTimeout(() => onSeek(Math.max(0, Math.round(v))), 250);
      });
    }
  }
  return {
    // uPlot's columns of plot i, its x range and the marked steps (tests and tooling)
    data(i) { return charts[i]?.data ?? null; },
    xRange(i) { const c = charts[i]; return c ? { min: c.scales.x.min, max: c.scales.x.max } : null; },
    markers() { return markers.slice(); },
    // The inspector answered: mark the selected page's evictions and refaults.
    mark(state) {
      markers = pageMarkers(state.inspectMsg, state.names);
      for (const c of charts) c.redraw(false);
    },
    update(state) {
      const panes = state.panes;
      if (!panes.length) return;
      if (panes.length !== nPanes || !charts.length) build(panes);
      current = panes[0].step ?? null;
      markers = pageMarkers(state.inspectMsg, state.names);
      // The server's whole-run timeline when there is one (every viewer sees
      // the whole run), else the samples of the steps this page visited. A
      // timeline is fetched 800 ms after the steps stop coming: one that
      // ends before the step on screen would show none of the steps just
      // taken, so until the next one arrives the visited steps are shown.
      const tl = state.timeline && state.timeline.panes.length === panes.length
        && state.timeline.nrSteps >= (current ?? 0) ? state.timeline : null;
      const source = tl ? tl.panes : state.series;
      const stride = tl ? tl.stride : 1;
      const x = source[0]?.step ?? [];
      DEFS.forEach((def, di) => {
        const data = [x];
        panes.forEach((p, pi) => {
          const ser = source[pi] || {};
          for (const [key] of def.keys) {
            let col = ser[key] ?? [];
            if (def.diff) col = perStep(col, ser.step ?? x, stride);
            data.push(x.map((_, i) => col[i] ?? null));
          }
        });
        if (def.wmarks) {
          const wm = panes[0].watermarks || {};
          for (const k of ["min", "low", "high"]) data.push(x.map(() => wm[k] ?? null));
        }
        charts[di].setData(data);
        if (zoom) charts[di].setScale("x", zoom);
      });
    },
  };
}

// The panes: one box per pane with its canvases (built from the hello), the
// pane drawing (lists, generations or hardware), the step animation, and the
// frame loop's draw of panes, legend, event log, counters, plots and
// inspector from the store. Input on a pane (click, wheel, drag, a debugfs
// write) goes to the controls through `select` and `ownerStep`.
import { agingSentence, agingShort } from "./agingText.js";
import { buildFlights } from "./buildFlights.js";
import { DECISIONS } from "./decisions.js";
import { eventFilter } from "./eventFilter.js";
import { eventRow } from "./eventRow.js";
import { eventVerb } from "./eventVerb.js";
import { explainEvent } from "./explainEvent.js";
import { FLAGS } from "./flags.js";
import { fmt } from "./format.js";
import { PALETTE } from "./palette.js";
import { drawFlight } from "./views/flight.js";
import { drawGenerations } from "./views/generations.js";
import { drawHardware } from "./views/hardware.js";
import { drawLruLists, missingWindows } from "./views/lruLists.js";
import { renderCounters } from "./views/counters.js";
import { renderRealKernels } from "./views/realKernels.js";
import { renderEventLog } from "./views/eventLog.js";
import { renderInspector } from "./views/inspector.js";

// `loop` is the frame loop ({request, later}); `select`, `ownerStep` and `rate` are
// the controls' (controls.js is built after the panes, so they are looked up
// at call time).
export function createPanes({ dom, store, send, plots, loop, now, select, ownerStep, rate }) {
  const s = store.state;
  let paneEls = [];
  let drawn = [];                // per pane: the last base draw result (locate/pfnAt)
  const zoomAsked = new Set();   // zoom windows requested (pane:step:list:offset:count)
  // What each pane's policy says about itself (hello.panes[i].info, from
  // engine/registry.py): its view, list names, step units and debugfs file.
  const infoOf = (p) => s.hello?.panes?.[p?.pane ?? p]?.info || {};
  const isGen = (p) => infoOf(p).view === "generations";
  const rowsOf = (p) => {
    const ev = p?.events;
    if (!ev || !ev.n) return [];
    if (ev._rows) return ev._rows;
    const rows = new Array(ev.n);
    for (let i = 0; i < ev.n; i++) rows[i] = eventRow(ev, i, s.names);
    Object.defineProperty(ev, "_rows", { value: rows, enumerable: false });
    return rows;
  };
  // Faults, insertions and plain accesses crowd out reclaim's decisions.
  const QUIET = new Set(["fault", "add", "access"]);
  function filtered(rows) {
    if (rows._reclaim) return rows._reclaim;
    const out = rows.filter((r) => !QUIET.has(eventVerb(r).verb));
    Object.defineProperty(rows, "_reclaim", { value: out, enumerable: false });
    return out;
  }

  // ---- panes DOM ---------------------------------------------------------
  // Each stack's size, kept by a ResizeObserver: reading clientWidth while
  // the page has pending style changes forces a whole-page layout (12-20 ms
  // with the log and counters) in the middle of a step's first frame.
  const sizer = globalThis.ResizeObserver ? new ResizeObserver((entries) => {
    for (const en of entries) {
      const el = paneEls.find((x) => x.stack === en.target);
      if (el) el.size = { w: Math.floor(en.contentRect.width), h: Math.floor(en.contentRect.height) };
    }
    loop.request("panes");
  }) : null;
  const sizeOf = (el) => el.size ?? (el.size = { w: Math.floor(el.stack.clientWidth), h: Math.floor(el.stack.clientHeight) });

  function buildPanes(helloMsg) {
    sizer?.disconnect();
    dom.panes.textContent = "";
    dom.panes.classList.toggle("compare", helloMsg.panes.length > 1);
    // A unit only some policies have (MGLRU's aging, which runs until the next
    // inc_max_seq()) is offered when a pane's policy has it (the server answers
    // `unsupported` otherwise).
    const hasAging = helloMsg.panes.some((p) => (p.info?.units || []).includes("aging"));
    const agingOpt = dom.unit.querySelector?.('option[value="aging"]');
    if (agingOpt) {
      agingOpt.disabled = !hasAging;
      agingOpt.title = hasAging ? "run until the next inc_max_seq(); if aging never comes, to the end of the workload"
        : "aging: no policy of this session has generations to age";
      if (!hasAging && dom.unit.value === "aging") dom.unit.value = "scan";
    }
    paneEls = helloMsg.panes.map((p, i) => {
      const box = document.createElement("section");
      box.className = "pane";
      box.dataset.pane = String(i);
      box.dataset.policy = p.policy;
      const h = document.createElement("h3");
      const title = document.createElement("span");
      title.textContent = `${helloMsg.panes.length > 1 ? (i ? "B · " : "A · ") : ""}${p.title || p.policy}`;
      const sub = document.createElement("span");
      sub.className = "sub";
      const zoomInfo = document.createElement("span");
      zoomInfo.className = "zoom-info";
      h.append(title, sub, zoomInfo);
      const stack = document.createElement("div");
      stack.className = "stack";
      const base = document.createElement("canvas");
      base.className = "base";
      base.setAttribute("role", "img");
      const overlay = document.createElement("canvas");
      overlay.className = "overlay";
      stack.append(base, overlay);
      box.append(h, stack);
      if (p.info?.debugfs) box.append(debugfsForm(i, p.info.debugfs));
      dom.panes.append(box);
      base.addEventListener("click", (e) => {
        const r = base.getBoundingClientRect();
        const pfn = drawn[i]?.pfnAt?.(e.clientX - r.left, e.clientY - r.top);
        if (pfn != null && pfn >= 0) select(i, pfn, null);
      });
      base.addEventListener("wheel", (e) => {
        const hw = s.view === "hardware";
        e.preventDefault();
        const zs = hw ? s.hwZoom : s.zoom;
        const [z0, z1] = zs[i] || [0, 1];
        const r = base.getBoundingClientRect();
        let fx = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
        if (hw) {
          // Keep the frame under the cursor under the cursor.
          const pfn = drawn[i]?.pfnAt?.(e.clientX - r.left, e.clientY - r.top);
          if (pfn != null) fx = Math.min(1, Math.max(0, (pfn / drawn[i].total - z0) / (z1 - z0)));
        }
        const span = z1 - z0;
        const ns = Math.min(1, Math.max(1 / 65536, span * (e.deltaY > 0 ? 1.5 : 1 / 1.5)));
        const c = z0 + span * fx;
        let a = c - ns * fx;
        a = Math.min(Math.max(0, a), 1 - ns);
        zs[i] = [a, a + ns];
        loop.request("panes");
      }, { passive: false });
      let drag = null;
      base.addEventListener("pointerdown", (e) => {
        const hw = s.view === "hardware";
        drag = { y: e.clientY, hw, z: ((hw ? s.hwZoom : s.zoom)[i] || [0, 1]).slice() };
      });
      base.addEventListener("pointerup", () => { drag = null; });
      base.addEventListener("pointermove", (e) => {
        if (!drag || !e.buttons) return;
        const span = drag.z[1] - drag.z[0];
        if (span >= 1) return;
        const dz = -((e.clientY - drag.y) / (base.height || 1)) * span;
        const a = Math.min(Math.max(0, drag.z[0] + dz), 1 - span);
        (drag.hw ? s.hwZoom : s.zoom)[i] = [a, a + span];
        loop.request("panes");
      });
      sizer?.observe(stack);
      return { box, base, overlay, sub, zoomInfo, stack, size: null };
    });
    s.zoom = helloMsg.panes.map(() => [0, 1]);
    s.hwZoom = helloMsg.panes.map(() => [0, 1]);
    drawn = [];
  }

  // Writes to the policy's simulated debugfs file (MGLRU's
  // /sys/kernel/debug/lru_gen: '+' ages, '-' evicts); the server answers a
  // frame, or an error naming the errno.
  function debugfsForm(i, name) {
    const form = document.createElement("form");
    form.className = "debugfs";
    form.innerHTML = `<label><code>echo</code> <input name="cmd" spellcheck="false" autocomplete="off" aria-label="${name} debugfs command" placeholder="+ memcg_id node_id max_gen_nr"> <code>&gt; /sys/kernel/debug/${name}</code></label> <button type="submit">write</button>`;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = form.cmd.value.trim();
      if (!text) return;
      ownerStep("debugfs", { text: `${text}\n`, pane: i });
    });
    return form;
  }

  function sizeCanvas(c, w, h) {
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; c.style.width = `${w}px`; c.style.height = `${h}px`; }
  }

  // ---- a step: its panes at once, then the animation -------------------
  // The step's resulting state is drawn on the base canvas now, in the
  // message's task, so the next presented frame shows it; the folios'
  // moves (old place -> isolation -> new place) are an overlay planned and
  // started a frame later (frameLoop.later), so that the frame which first
  // shows the step carries only the pane: planning the flights, drawing
  // their first frame and the overlay canvas's copy to the compositor were
  // ~1 ms of it at 16 Ki frames. On a step that aged (max_seq grew) the
  // generations slide into place over the first half, from that first frame.
  function showStep(prevPanes, panes) {
    const duration = s.playing ? Math.min(900, 850 / rate()) : 1100;
    const plans = [];
    const slide = [];
    const pre = ahead;
    ahead = [];
    aheadFor = null;
    panes.forEach((p, i) => {
      const el = paneEls[i];
      if (!el) { plans.push(null); slide.push(0); return; }
      const old = drawn[i];
      const lists = s.view === "lists";
      const dSeq = agedBy(p, prevPanes[i]);
      // the flights land where the folios end up once the slide is over
      const next = dSeq > 0 ? drawPane(i, p, { dry: true, pre: pre[i] }) : drawPane(i, p, { pre: pre[i] });
      const sl = slideOf(dSeq, next);
      if (sl) drawPane(i, p, { slide: sl, pre: pre[i] });
      slide.push(sl);
      plans.push(old && lists ? { p, el, old, next, selectedPfn: s.selected?.pane === i ? s.selected.pfn : null } : null);
    });
    recycle(pre);
    // start: the first frame's time (draw() sets it), so all of it is seen
    const anim = { start: null, duration, flights: null, flyStart: null, slide };
    s.anim = anim;
    s.flightExtent = [];
    const plan = () => {
      if (s.anim !== anim) return;   // a newer step (or a seek) replaced it
      anim.flights = plans.map((pl) => {
        const rows = pl ? rowsOf(pl.p) : [];
        if (!rows.length) return [];
        const { p, el, old, next } = pl;
        const typeOf = (pfn) => (p.loc ? (p.loc[pfn] - 16) & 1 : p.flags ? (p.flags[pfn] & FLAGS.PG_anon ? 0 : 1) : 1);
        return buildFlights(rows, {
          from: (pfn) => old.locate(pfn), to: (pfn) => next.locate(pfn),
          fromPlace: (r) => old.place?.(r.src, r.src_seq, "tail", typeOf(r.pfn)),
          toPlace: (r) => next.place?.(r.dst, r.dst_seq, "head", typeOf(r.pfn)),
          width: shownWidth(el), height: el.base.height, cell: next.cell, selectedPfn: pl.selectedPfn,
        });
      });
      loop.request("animation");
    };
    loop.later(plan);
    loop.request("animation");
    stepFirstFrame = true;
  }
  // A step that aged (max_seq grew) in the generations view: its columns
  // slide into place, from this far right in the step's first frame.
  const agedBy = (p, prev) => (s.view === "lists" && p.gens && prev?.gens ? p.gens.max_seq - prev.gens.max_seq : 0);
  const slideOf = (dSeq, next) => (dSeq > 0 && next.colW ? dSeq * (next.colW + 8) : 0);

  // ---- a peeked step, drawn ahead ----------------------------------------
  // The owner's next step arrives as a peek (docs/protocol.md §3.6) while
  // the owner still looks at this one; the key that takes it shows it in
  // its own task. Its pictures (the step's state, and where an aged step's
  // slide starts) are drawn here, in idle time after the peek's layout and
  // panes are read, on canvases of their own, so that the key's task only
  // copies them onto the panes (the pixel loop, putImageData and the labels
  // were ~1.7 of its ~2.2 ms at 16 Ki frames, lru_gen). A picture stands
  // only for the very call the key would make: the same pane object (read
  // against the same layout base), the same view function and arguments
  // (view, size, zoom, selection, slide: viewCall()) and the same
  // zoom windows; anything else is drawn in the key's task as before. A
  // change of those meanwhile (a full redraw) draws the pictures again.
  let ahead = [];                // per pane: {p, windows, pics: [{call, canvas, res}]}
  let aheadFor = null;           // the panes `ahead` was (or is to be) drawn for
  let aheadDrawn = 0;            // how many times pictures were drawn ahead (tooling)
  const spare = [];              // canvases of earlier pictures, reused
  function drawAhead(panes) {
    aheadFor = panes;
    if (drawAhead.queued) return;
    drawAhead.queued = true;
    const idle = globalThis.requestIdleCallback ?? ((fn) => setTimeout(fn, 0));
    idle(() => {
      drawAhead.queued = false;
      const want = aheadFor;
      recycle(ahead);
      ahead = [];
      if (!want || s.aheadRead?.panes !== want) { aheadFor = null; return; }
      ahead = want.map((p, i) => {
        if (!paneEls[i]) return null;
        // the zoom windows the key will give the step's pane (reduceMessage)
        const windows = s.panes[i]?.windows ?? p.windows;
        const q = windows === p.windows ? p : { ...p, windows };
        const pics = [];
        const paint = (opts) => {
          const call = viewCall(i, q, opts);
          const canvas = spare.pop() ?? document.createElement("canvas");
          sizeCanvas(canvas, call.opts.width, call.opts.height);
          const ctx = canvas.getContext("2d");
          ctx.imageSmoothingEnabled = false;
          const res = call.draw(ctx, q, call.opts);
          pics.push({ call, canvas, res });
          return res;
        };
        const sl = slideOf(agedBy(p, s.shownState?.[i]), paint({}));
        if (sl) paint({ slide: sl });
        return { p, windows, pics };
      });
      aheadDrawn++;
    }, { timeout: 200 });
  }
  function recycle(list) {
    for (const a of list) for (const pic of a?.pics ?? []) spare.push(pic.canvas);
    spare.length = Math.min(spare.length, 4);
  }
  // The view function pane i is drawn with and its arguments, as drawPane()
  // calls it: everything a picture depends on besides the pane itself.
  function viewCall(i, p, { hidden = null, slide = 0 } = {}) {
    const { w: sw, h: sh } = sizeOf(paneEls[i]);
    const width = Math.max(320, sw || 800);
    const height = Math.max(260, sh || 400);
    const zoom = (s.view === "hardware" ? s.hwZoom : s.zoom)[i]?.slice() || [0, 1];
    const selectedPfn = s.selected && s.selected.pane === i ? s.selected.pfn : null;
    if (s.view === "hardware") return { draw: drawHardware, opts: { width, height, zoom } };
    if (isGen(p)) {
      const hp = s.hello?.panes?.[p?.pane ?? i];
      return { draw: drawGenerations, opts: { width, height, hidden, selectedPfn, slide, zoom,
        kernel: hp?.kernel ?? "7.3", tiers: hp?.config?.lru_gen?.tiers !== false } };
    }
    return { draw: drawLruLists, opts: { width, height, zoom, hidden, selectedPfn, labels: infoOf(p).lists } };
  }
  function sameCall(a, b) {
    if (a.draw !== b.draw) return false;
    const ka = Object.keys(a.opts);
    return ka.length === Object.keys(b.opts).length && ka.every((k) => {
      const x = a.opts[k], y = b.opts[k];
      return x === y || (Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, j) => v === y[j]));
    });
  }

  // ---- drawing -----------------------------------------------------------
  // The part of a pane's canvas its box shows (a canvas is at least 320 px
  // wide; a narrower pane clips it): animations stay inside it.
  const shownWidth = (el) => Math.min(el.overlay.width, sizeOf(el).w || el.overlay.width);
  function extend(e, boxes, el) {
    const out = e || { frames: 0, boxes: 0, x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    out.frames++;
    out.boxes += boxes.length;
    for (const [x, y, w, h] of boxes) {
      out.x0 = Math.min(out.x0, x); out.y0 = Math.min(out.y0, y);
      out.x1 = Math.max(out.x1, x + w); out.y1 = Math.max(out.y1, y + h);
    }
    out.width = shownWidth(el); out.height = el.overlay.height;
    return out;
  }
  // `pre`: pane i's pictures drawn ahead of a peeked step (drawAhead());
  // one made for exactly this call is copied instead of drawn.
  function drawPane(i, p, { hidden = null, slide = 0, dry = false, pre = null } = {}) {
    const el = paneEls[i];
    // Opt-in instrumentation for bench/bench_browser.py (keypress -> drawn step).
    const t0 = globalThis.__reclaimlabDrawn ? globalThis.performance.now() : 0;
    const call = viewCall(i, p, { hidden, slide });
    const { width: w, height: h } = call.opts;
    const pic = pre && pre.p === p && pre.windows === p.windows ? pre.pics.find((x) => sameCall(x.call, call)) : null;
    if (pic && dry) return pic.res;
    sizeCanvas(el.base, w, h);
    sizeCanvas(el.overlay, w, h);
    const ctx = el.base.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    let res;
    if (pic) {
      // "copy": the picture replaces every pixel, transparent ones too
      ctx.globalCompositeOperation = "copy";
      ctx.drawImage(pic.canvas, 0, 0);
      ctx.globalCompositeOperation = "source-over";
      res = pic.res;
    } else res = call.draw(ctx, p, call.opts);
    if (!dry && s.view === "lists" && (res.layout || res.missing)) {
      for (const win of res.missing || missingWindows(p, res.layout)) {
        const key = `${i}:${p.step}:${win.list}:${win.offset}:${win.count}`;
        if (zoomAsked.has(key)) continue;
        if (zoomAsked.size > 512) zoomAsked.clear();
        zoomAsked.add(key);
        send("zoom", { pane: i, ...win });
      }
      el.base.dataset.windows = Object.entries(p.windows || {}).filter(([, w]) => w.step === p.step).map(([k, w]) => `${k}:${w.offset}+${w.pfn.length}`).join(" ");
    }
    if (!dry) {
      if (!drawPane.marked) { drawPane.marked = true; globalThis.performance?.mark?.("reclaimlab:first-draw"); }
      drawn[i] = res;
      el.base.dataset.step = String(p.step);
      if (res.range) el.base.dataset.pfnRange = res.range.join("-"); else delete el.base.dataset.pfnRange;
      el.base.dataset.view = s.view === "hardware" ? "hardware" : isGen(p) ? "generations" : "lists";
      el.base.setAttribute("aria-label", describe(p));
      const z = s.zoom[i] || [0, 1];
      const zi = s.view === "lists" && (z[0] > 0 || z[1] < 1) ? `zoom: ${Math.round(z[0] * 100)}–${Math.round(z[1] * 100)} % of each ${isGen(p) ? "generation" : "list"} (0 resets)` : "";
      if (el.zoomInfo.textContent !== zi) el.zoomInfo.textContent = zi;
      // inFrame: drawn inside a requestAnimationFrame callback (that frame
      // shows it), or in a task (the next frame does)
      globalThis.__reclaimlabDrawn?.(i, p.step, t0, { inFrame });
    }
    return res;
  }

  function describe(p) {
    if (s.view === "hardware") {
      const mi = p.meminfo || {};
      const sh = p.nrShadow;
      return `${fmt.count(p.nrFrames)} page frames, ${fmt.count(p.nrFree ?? 0)} free; page cache: ${fmt.count((mi.Cached ?? 0) / 4)} folios, ` +
        `${sh && sh.file != null ? fmt.count(sh.file) : "unknown"} shadow entries; swap: ${fmt.count((mi.SwapCached ?? 0) / 4)} swap-cache folios, ` +
        `${sh ? fmt.count(sh.anon) : "unknown"} shadow entries`;
    }
    if (isGen(p) && p.gens) {
      return `MGLRU generations: max_seq ${p.gens.max_seq}, min_seq anon ${p.gens.min_seq[0]} file ${p.gens.min_seq[1]}; ` +
        p.gens.gens.map((g) => `seq ${g.seq}: anon ${g.nr_pages[0]}, file ${g.nr_pages[1]}`).join("; ") +
        (p.gens.aging ? `. ${agingSentence(p.gens.aging)}` : "");
    }
    const c = p.listCounts || {};
    return `LRU lists: ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(", ")}`;
  }

  function renderLegend() {
    if (dom.legend.dataset.built === s.view + (s.panes.map((p) => p.policy).join())) return;
    dom.legend.dataset.built = s.view + (s.panes.map((p) => p.policy).join());
    const items = [];
    const sw = (c, t) => `<span><span class="sw" style="background:${c}"></span>${t}</span>`;
    if (s.view === "hardware") {
      items.push(sw(PALETTE.LRU_INACTIVE_ANON, "inactive anon"), sw(PALETTE.LRU_ACTIVE_ANON, "active anon"), sw(PALETTE.LRU_INACTIVE_FILE, "inactive file"), sw(PALETTE.LRU_ACTIVE_FILE, "active file"), sw(PALETTE.LRU_UNEVICTABLE, "unevictable"), sw(PALETTE.isolated, "isolated"), sw(PALETTE.free, "free"), sw(PALETTE.swap, "swap used"), sw(PALETTE.shadow, "shadow entries"));
    } else {
      // each list-view policy's lists under its own names (PolicyInfo.lists)
      const named = new Map();
      for (const p of s.panes.filter((q) => !isGen(q))) {
        for (const [list, label] of Object.entries(infoOf(p).lists || {})) {
          const key = `${list}:${label}`;
          if (!named.has(key)) named.set(key, sw(PALETTE[list], label));
        }
      }
      items.push(...named.values());
      if (s.panes.some((p) => isGen(p))) items.push(...[0, 1, 2, 3].map((t) => sw(PALETTE.tiers[t], `file tier ${t}`)), ...[0, 1, 2, 3].map((t) => sw(PALETTE.tiersAnon[t], `anon tier ${t}`)), "<span>● centre dot = lazily re-filed (gen field ≠ list)</span>", "<span>each generation list: head top left (lru_gen_add_folio()), tail bottom right (evict_folios() isolates there, from min_seq)</span>");
      items.push("<span>marks (zoom in; contrast colour on dark cells): ◤ = PG_referenced · ◥ = PG_workingset · ◣ = dirty · ◢ = young PTE</span>");
      items.push(`<span>decisions: ${Object.entries(DECISIONS).filter(([k]) => ["activate", "keep", "rotate", "promote", "reclaim", "writeback", "swapout"].includes(k)).map(([, d]) => `<b style="color:${d.colour}">${d.glyph}</b> ${d.label}`).join(" · ")}</span>`);
    }
    dom.legend.innerHTML = items.join("");
  }

  let inFrame = false;
  // The next frame is the one that first shows a step: its pane alone. The log,
  // counters and plots follow a frame later, whoever asked for them meanwhile
  // (a timeline or an answer landing in the same task as the step).
  let stepFirstFrame = false;
  const overlayDrawn = [];   // per pane: the overlay holds something to clear
  const slid = [];           // per pane: the base was last drawn off its place
  function draw(what, t) {
    if (!s.panes.length || !paneEls.length) return false;
    inFrame = true;
    try { return drawFrame(what, t); } finally { inFrame = false; }
  }
  function drawFrame(what, t) {
    const full = what.has("panes") || what.has("all") || what.has("view") || what.has("selection");
    let info = full || what.has("info");
    if (stepFirstFrame) {
      stepFirstFrame = false;
      if (info) { info = false; loop.request("info"); }
    }
    let animating = false;
    let frac = 1;   // of the slide, from the frame that first shows the step
    let fly = 1;    // of the flights, from the frame that first draws them
    if (s.anim) {
      const a = s.anim;
      if (a.start == null) a.start = t;
      frac = Math.min(1, (t - a.start) / a.duration);
      if (a.flights && a.flyStart == null) a.flyStart = t;
      fly = a.flights ? Math.min(1, (t - a.flyStart) / a.duration) : 0;
      animating = frac < 1 || fly < 1;
    }
    s.panes.forEach((p, i) => {
      const el = paneEls[i];
      if (!el) return;
      const flights = fly < 1 ? s.anim.flights?.[i] || [] : [];
      const slide = animating && s.anim.slide?.[i] ? Math.round(s.anim.slide[i] * (1 - Math.min(1, frac / 0.5))) : 0;
      // The base already holds the step's state: redrawn only when asked,
      // while it slides, and once more when a slide ends.
      if (full || what.has("windows") || slide || slid[i]) drawPane(i, p, { slide });
      slid[i] = slide !== 0;
      if (flights.length || overlayDrawn[i]) {
        const octx = el.overlay.getContext("2d");
        const boxes = drawFlight(octx, flights, fly, { width: shownWidth(el), height: el.overlay.height, cell: drawn[i]?.cell ?? 6, title: isGen(p) ? "isolated: private list of isolate_folios() / scan_folios()" : "isolated: private list of shrink_inactive_list() / shrink_active_list()" });
        overlayDrawn[i] = boxes.length > 0;
        if (boxes.length) s.flightExtent[i] = extend(s.flightExtent[i], boxes, el);
      }
    });
    if (s.anim && !animating) s.anim = null;
    if (full && aheadFor) drawAhead(aheadFor);
    if (info) {
      s.panes.forEach((p, i) => {
        const el = paneEls[i];
        if (!el) return;
        const aging = agingShort(p.gens?.aging);
        const sub = `step ${p.step} · ${fmt.count(p.nrAccess)} accesses · ${fmt.ns(p.timeNs)}` +
          (p.gens ? ` · max_seq ${p.gens.max_seq}` : "") + (aging ? ` · ${aging}` : "");
        if (el.sub.textContent !== sub) {                       // unchanged text: no relayout
          el.sub.textContent = sub;
          el.sub.title = agingSentence(p.gens?.aging);
        }
        // the step the log, counters and plots show (a step's pane is drawn
        // first, these a frame later): tests wait for both
        if (el.box.dataset.shown !== String(p.step)) el.box.dataset.shown = String(p.step);
      });
      renderLegend();
      const multi = s.panes.length > 1;
      const rows = multi ? s.panes.flatMap((p, i) => rowsOf(p).map((r) => ({ ...r, pane: i }))) : rowsOf(s.panes[0]);
      const selPane = s.selected?.pane ?? s.logPane;
      if (dom.logPanes) {
        dom.logPanes.hidden = !multi;
        for (const b of dom.logPanes.querySelectorAll("button")) b.setAttribute("aria-pressed", Number(b.dataset.pane) === selPane ? "true" : "false");
      }
      const allRows = multi ? rowsOf(s.panes[selPane]) : rows;
      const reclaimOnly = dom.logFilter?.checked;
      const search = eventFilter(dom.logSearch?.value, s.hello?.names?.owners);
      let logRows = reclaimOnly ? filtered(allRows) : allRows;
      if (search) logRows = logRows.filter((r) => search(r, explainEvent(r).text));
      dom.logCount.textContent = `(${multi ? `pane ${selPane ? "B" : "A"}: ` : ""}${logRows.length}${logRows.length !== allRows.length ? ` of ${allRows.length}` : ""})`;
      renderEventLog(dom.eventLog, logRows, {
        selectedPfn: s.selected?.pfn ?? null, selectedIndex: s.selected?.i ?? null,
        dropped: s.panes[selPane]?.events?.dropped ?? 0,
        onSelect: (pfn, idx) => select(selPane, pfn, idx),
        hiddenCount: allRows.length - logRows.length,
      });
      renderCounters(dom.counters, s.panes, { showAll: s.showAllCounters, fileNames: s.hello?.names?.owners?.file });
      if (s.real) renderRealKernels(dom.realBody, s.real, s.panes);
      plots.update(s);
    }
    // Rebuilt only when its answer or the step changed (a rebuild costs a relayout).
    if ((info || what.has("inspector")) && (s.inspectMsg !== draw.insp || s.panes[0]?.step !== draw.inspStep)) {
      draw.insp = s.inspectMsg;
      plots.mark(s);
      draw.inspStep = s.panes[0]?.step;
      renderInspector(dom.inspector, s.inspectMsg, s.names, s.panes[0]?.step);
    }
    return animating;
  }

  return {
    build: buildPanes, draw, showStep, drawAhead, rowsOf, filtered, infoOf,
    locate(i, pfn) { return drawn[i]?.locate?.(pfn) ?? null; },
    cell(i) { return drawn[i]?.cell ?? null; },
    // The step pictures are drawn ahead for, whether they are the newest
    // peek's (the one a key would take), and how many times any were drawn.
    ahead() {
      const a = ahead.find(Boolean);
      return { step: a?.p.step ?? null, current: Boolean(a) && s.aheadRead?.panes?.includes(a.p) === true, drawn: aheadDrawn };
    },
  };
}

// One requestAnimationFrame commit per tick (the d3-timer / uPlot commit idea):
// callers mark what is dirty as often as they like; draw runs at most once
// per frame, and keeps running while it reports an animation in progress.
//
// later(fn): work that must not share the frame that first shows a step
// (the step's flights, the event log, counters, plots, URL: their planning,
// layout and paint would hold that frame back). It runs at the start of the tick after the next one,
// so the next presented frame carries only what was drawn before it.
export function frameLoop(draw, raf = globalThis.requestAnimationFrame?.bind(globalThis)) {
  let pending = false;
  let dirty = new Set();
  let ticks = 0;
  let queued = [];
  const tick = (now) => {
    pending = false;
    ticks++;
    if (queued.length) {
      const due = queued.filter((q) => q.after < ticks);
      queued = queued.filter((q) => q.after >= ticks);
      for (const q of due) q.fn();
    }
    const what = dirty;
    dirty = new Set();
    const t0 = globalThis.performance?.now();
    const again = what.size ? draw(what, now) : false;
    // Opt-in instrumentation for bench/bench_frontend.py: JS time per commit.
    globalThis.__reclaimlabFrameStats?.push(globalThis.performance.now() - t0);
    if (again) request("animation");
    else if (queued.length && !pending) { pending = true; raf(tick); }
  };
  function request(what = "all") {
    dirty.add(what);
    if (!pending) { pending = true; raf(tick); }
  }
  function later(fn) {
    queued.push({ after: ticks + 1, fn });
    if (!pending) { pending = true; raf(tick); }
  }
  return { request, later };
}

// One requestAnimationFrame commit per tick (the d3-timer / uPlot commit idea):
// callers mark what is dirty as often as they like; draw runs at most once
// per frame, and keeps running while it reports an animation in progress.
export function frameLoop(draw, raf = globalThis.requestAnimationFrame?.bind(globalThis)) {
  let pending = false;
  let dirty = new Set();
  const tick = (now) => {
    pending = false;
    const what = dirty;
    dirty = new Set();
    const t0 = globalThis.performance?.now();
    const again = draw(what, now);
    // Opt-in instrumentation for bench/bench_frontend.py: JS time per commit.
    globalThis.__reclaimlabFrameStats?.push(globalThis.performance.now() - t0);
    if (again) request("animation");
  };
  function request(what = "all") {
    dirty.add(what);
    if (!pending) { pending = true; raf(tick); }
  }
  return { request };
}

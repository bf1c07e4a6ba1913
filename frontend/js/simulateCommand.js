// The `reclaimlab simulate` command line that reproduces a recipe headless
// (docs/cli.md), run to the end of the workload. Returns {argv, line, why}:
// `why` lists what the command line cannot say (then use the recipe JSON).
const PAGES_PER_MB = 256;
const DEFAULT_KERNEL = "7.3";
const DEFAULT_RA_PAGES = 32;   // engine/config.py: read_ahead_kb 128, what the CLI runs by default

// `trace`: the path the trace has where the command runs (a real-kernel
// replay's file in a checkout), instead of one saved from the session.
// `infos`: each pane's policy description (GET /api/policies), whose knob
// defaults the CLI runs: a knob set to its default needs no recipe JSON.
export function simulateCommand(recipe, { trace = null, infos = [] } = {}) {
  const m = recipe?.machine || {};
  const w = recipe?.workload || {};
  const pol = recipe?.policies || [];
  const why = [];
  const argv = ["reclaimlab", "simulate"];
  if (w.scenario) argv.push("--scenario", w.scenario);
  else if (trace) argv.push("--trace", trace);
  else { argv.push("--trace", "session.trace"); why.push("the trace: save it from GET /api/sessions/<id>/trace as session.trace"); }
  const kinds = pol.map((p) => p.policy);
  const kernels = pol.map((p) => p.kernel || DEFAULT_KERNEL);
  // two policies under one kernel profile: --policy A,B runs them side by
  // side in that order (the CLI takes any registered keys)
  if (pol.length === 2 && kinds[0] !== kinds[1] && kernels[0] === kernels[1]) {
    argv.push("--policy", kinds.join(","));
    if (kernels[0] !== DEFAULT_KERNEL) argv.push("--kernel", kernels[0]);
  } else if (pol.length === 2 && kinds[0] === kinds[1] && kernels[0] !== kernels[1]) {
    argv.push("--policy", kinds[0], "--kernel", kernels.join(","));
  } else if (pol.length === 1) {
    argv.push("--policy", kinds[0]);
    if (kernels[0] !== DEFAULT_KERNEL) argv.push("--kernel", kernels[0]);
  } else why.push(`panes ${kinds.join(" and ")} (kernels ${kernels.join(", ")}) as they are`);
  // a policy's knobs live under its own key; the CLI runs the defaults (the
  // start form sends every knob, its defaults too)
  const knobbed = pol.filter((p, i) => Object.entries(p[p.policy] || {})
    .some(([k, v]) => infos[i]?.knobs?.[k]?.default !== v)).map((p) => p.policy);
  for (const key of new Set(knobbed)) why.push(`${key} knobs`);
  if (m.ram_pages != null) {
    if (m.ram_pages % PAGES_PER_MB) why.push(`ram_pages ${m.ram_pages} (not whole MiB)`);
    // --bare: a session's machine is exactly its frames unless it is a booted
    // guest, while the CLI's --ram-mb of 32 or more means that much available
    // on a booted guest (docs/cli.md), ~2.2k frames more
    else argv.push("--ram-mb", String(m.ram_pages / PAGES_PER_MB), ...(m.guest ? [] : ["--bare"]));
  }
  if (m.swap_kind) argv.push("--swap-kind", m.swap_kind);
  if (m.swap_pages != null && m.swap_kind !== "none") {
    if (m.swap_pages % PAGES_PER_MB) why.push(`swap_pages ${m.swap_pages} (not whole MiB)`);
    else argv.push("--swap-mb", String(m.swap_pages / PAGES_PER_MB));
  }
  if (m.swappiness != null) argv.push("--swappiness", String(m.swappiness));
  if (m.readahead_pages != null && m.readahead_pages !== DEFAULT_RA_PAGES) argv.push("--read-ahead-kb", String(m.readahead_pages * 4));
  if (m.zone_normal_holes != null) argv.push("--zone-normal-holes", String(m.zone_normal_holes));
  if (m.watermarks) why.push("custom watermarks");
  if (w.scenario) {
    argv.push("--seed", String(recipe.seed ?? 1));
    if (w.accesses != null) argv.push("--accesses", String(w.accesses));
    for (const [k, v] of Object.entries(w.params || {})) argv.push("--param", `${k}=${v}`);
  }
  return { argv, line: argv.join(" "), why };
}

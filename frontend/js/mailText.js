// "Copy as text": a plain-ASCII report for a mailing list, every line at
// most 80 columns. Both panes side by side (compare mode) with a B - A
// column, the recipe and the `reclaimlab simulate` line that reproduces it,
// the selected folio's story, and the step's events with repeats folded
// ("12x ..."). Counter names are never cut: the name column is as wide as
// the longest name.
import { agingSentence } from "./agingText.js";
import { explainEvent } from "./explainEvent.js";
import { simulateCommand } from "./simulateCommand.js";
import { realRows, rigLine } from "./realKernels.js";

const WIDTH = 80;
const ascii = (l) => String(l).replace(/→/g, "->").replace(/[—–]/g, "--").replace(/[−]/g, "-")
  .replace(/µ/g, "u").replace(/≤/g, "<=").replace(/≥/g, ">=").replace(/…/g, "...").replace(/[^\x20-\x7e]/g, "?");
const num = (n) => (n == null ? "-" : Math.round(n).toLocaleString("en-US"));
const sgn = (n) => (n == null ? "-" : n > 0 ? `+${num(n)}` : n < 0 ? `-${num(-n)}` : "0");

function wrap(line, indent = "    ") {
  const out = [];
  let s = ascii(line).replace(/\s+$/, "");
  while (s.length > WIDTH) {
    let cut = s.lastIndexOf(" ", WIDTH);
    if (cut <= indent.length) cut = WIDTH;
    out.push(s.slice(0, cut));
    s = indent + s.slice(cut).replace(/^\s+/, "");
  }
  out.push(s);
  return out;
}

// A shell line folded with backslashes at word boundaries.
function shell(argv, indent = "  ") {
  const out = [];
  let cur = indent;
  for (const a of argv) {
    if (cur.trim() && cur.length + 1 + a.length > WIDTH - 2) { out.push(`${cur} \\`); cur = `${indent}  `; }
    cur += (cur.trim() ? " " : "") + a;
  }
  out.push(cur);
  return out;
}

// The rig's counters beside each pane's (the panel "On the real kernels"):
// sim/real once a pane is at the trace's end on the rig's machine.
function realLines({ replay, comparable = true }, panes, recipe) {
  const L = ["", ...wrap(`On the real kernels: ${replay.name} replayed by ${rigLine(replay.machine)}:`, "  ")];
  if (!comparable) L.push(...wrap("(this session's machine is not the rig's: no ratio)", "  "));
  panes.forEach((p, i) => {
    const pol = recipe?.policies?.[i] || {};
    const t = realRows(replay, { policy: p.policy ?? pol.policy, kernel: pol.kernel ?? "7.3" }, p.vmstat, Boolean(p.done), comparable);
    const who = `${panes.length > 1 ? `pane ${i ? "B" : "A"}, ` : ""}${p.policy ?? pol.policy} under ${pol.kernel ?? "7.3"}`;
    // the same machine's boots on a second host, not in the mean
    const second = t.second ? wrap(`on ${t.second.host} (${t.second.boots.join(" / ")}, not in the mean): ` +
      t.rows.map((r) => `${r.key} ${r.second.map(num).join(" / ")}`).join(", "), "  ") : [];
    if (!t.replayed) { L.push(`${who}: ${t.why}`, ...second); return; }
    L.push(`${who}, real ${t.boots.join(" / ")} against step ${p.step}${p.done ? " (the trace's end)" : ""}:`);
    const w = 24;
    const realW = Math.max(14, ...t.rows.map((r) => r.real.map(num).join(" / ").length));
    L.push(`  ${"counter".padEnd(w)} ${"real".padStart(realW)} ${"here".padStart(10)} ${"sim/real".padStart(8)}`);
    for (const r of t.rows) {
      L.push(`  ${r.label.padEnd(w)} ${r.real.map(num).join(" / ").padStart(realW)} ${num(r.sim).padStart(10)} ${(r.ratio ? r.ratio.text + (r.ratio.bold ? "*" : "") : "").padStart(8)}`);
    }
    L.push(...second);
  });
  if (panes.some((p) => p.done)) L.push(...wrap("(* outside 0.80-1.20 of the boots' mean; counts under 2,000 on both sides are not judged)", "  "));
  return L;
}

function recipeLines(r) {
  const m = r.machine || {};
  const w = r.workload || {};
  const wl = w.scenario ? `scenario ${w.scenario}${Object.keys(w.params || {}).length ? ` ${JSON.stringify(w.params)}` : ""}, ` +
    `${w.accesses != null ? `${num(w.accesses)} accesses` : "default length"}, seed ${r.seed ?? 1}` : `trace ${w.trace_id}`;
  // a policy's knobs live under its own key (recipe.policies[i][policy])
  const panes = (r.policies || []).map((p, i) => `${r.policies.length > 1 ? (i ? "B " : "A ") : ""}${p.policy} (kernel ${p.kernel || "7.3"})` +
    `${p[p.policy] && Object.keys(p[p.policy]).length ? ` ${JSON.stringify(p[p.policy])}` : ""}`);
  return [`Workload: ${wl}.`,
    `Machine: ${num(m.ram_pages)} pages RAM${m.guest ? " available on a booted guest of each pane's kernel" : ""}, swap ${m.swap_kind ?? "zram"} ${m.swap_pages != null ? `${num(m.swap_pages)} pages` : "(half of RAM)"}, ` +
      `swappiness ${m.swappiness ?? 60}, readahead ${m.readahead_pages ?? 32} pages${m.watermarks ? `, watermarks ${JSON.stringify(m.watermarks)}` : ""}` +
      `${m.zone_normal_holes != null ? `, ${num(m.zone_normal_holes)} free pages in ${m.guest ? "ZONE_DMA32" : "ZONE_NORMAL"}'s other migratetypes' pageblocks` : ""}.`,
    `Policies: ${panes.join(", ")}.`];
}

// panes: [{pane, policy, step, nrAccess, vmstat}], infos: per pane what its
// policy says about itself (hello.panes[i].info: title, debugfs, list names,
// language); base: per pane vmstat of baseStep; folio: the inspector's
// `folio` message (or null); events: per pane event rows of this step.
// real: {replay, comparable} when the session steps a real-kernel replay's
// trace (controls.showReal): its file in a checkout goes on the command line
// and the rig's counters beside each pane's.
export function mailText({ recipe, link = "", panes, infos = [], base = [], baseStep = 0, folio = null, events = [], nEvents = 20, names = null, real = null }) {
  const L = [];
  const two = panes.length > 1;
  const p0 = panes[0];
  L.push(`reclaimlab: ${two ? "A/B compare, " : ""}step ${p0.step}, ${num(p0.nrAccess)} accesses`);
  if (link) L.push(link);
  L.push("");
  L.push(...recipeLines(recipe));
  const replayTrace = real?.replay ? `validation/traces/${real.replay.name}.trace.gz` : null;
  const cmd = simulateCommand(recipe, { trace: replayTrace, infos });
  L.push("", "Reproduce (to the end of the workload):", ...shell(cmd.argv));
  if (replayTrace) L.push(...wrap(`(${replayTrace}: the real-kernel replay's trace, in a reclaimlab checkout)`));
  if (cmd.why.length) L.push(...wrap(`(the command line cannot set: ${cmd.why.join("; ")}; use the recipe JSON)`));
  // a Python policy is not built in: the CLI loads it as the server did
  const plugins = [...new Set(panes.map((p, i) => (infos[i]?.language === "python" ? p.policy : null)).filter(Boolean))];
  if (plugins.length) L.push(...wrap(`(${plugins.join(", ")}: a Python policy; add --policies DIR, the directory that holds it)`));
  // counters: every one that is non-zero in some pane
  const counters = Object.keys(p0.vmstat || {}).filter((k) => panes.some((p) => (p.vmstat?.[k] ?? 0) !== 0 || (p.vmstat?.[k] ?? 0) !== (base[p.pane]?.[k] ?? 0)));
  const nameW = Math.max(8, ...counters.map((k) => k.length));
  const col = (s, w) => String(s).padStart(w);
  L.push("");
  if (two) {
    const w = Math.floor((WIDTH - nameW - 1) / 3) - 1;
    L.push(`/proc/vmstat at step ${p0.step}:`);
    L.push(`${"counter".padEnd(nameW)} ${col("A", w)} ${col("B", w)} ${col("B - A", w)}`);
    for (const k of counters) {
      const a = panes[0].vmstat?.[k] ?? 0;
      const b = panes[1].vmstat?.[k] ?? 0;
      L.push(`${k.padEnd(nameW)} ${col(num(a), w)} ${col(num(b), w)} ${col(sgn(b - a), w)}`);
    }
  } else {
    const w = Math.floor((WIDTH - nameW - 1) / 2) - 1;
    L.push(`/proc/vmstat at step ${p0.step} (delta since step ${baseStep}):`);
    L.push(`${"counter".padEnd(nameW)} ${col("value", w)} ${col("delta", w)}`);
    for (const k of counters) {
      const v = p0.vmstat?.[k] ?? 0;
      L.push(`${k.padEnd(nameW)} ${col(num(v), w)} ${col(sgn(v - (base[p0.pane]?.[k] ?? 0)), w)}`);
    }
  }
  if (real?.replay) L.push(...realLines(real, panes, recipe));
  panes.forEach((p, i) => {
    const tag = two ? ` (pane ${i ? "B" : "A"})` : "";
    const info = infos[i] || {};
    if (info.debugfs && p.lruGenText) {
      L.push("", `# cat /sys/kernel/debug/${info.debugfs}${tag}`);
      for (const l of p.lruGenText.split("\n")) if (l.length) L.push(...wrap(l, "      "));
      // what the next reclaim does with those generations
      if (p.gens?.aging) L.push(...wrap(agingSentence(p.gens.aging)));
    } else if (p.listCounts) {
      // each list under the name its policy gives it ("clock ring (file)")
      L.push("", `LRU list sizes (pages)${tag}${info.title ? `, ${info.title}` : ""}:`);
      for (const [name, n] of Object.entries(p.listCounts)) {
        const label = info.lists?.[name];
        L.push(`  ${name.padEnd(20)} ${num(n).padStart(12)}${label ? `  ${label}` : ""}`);
      }
    }
  });
  if (folio && folio.identity) {
    const id = folio.identity;
    const who = id.anon == null ? `mapping ${id.mapping} index ${id.index}` : id.anon
      ? `anon mm ${id.name ?? id.mapping} vpn ${id.index}` : `file ${id.name ?? id.mapping} pgoff ${id.index}`;
    L.push("", `Folio: ${who}${folio.pfn != null ? `, pfn ${folio.pfn}` : ""}, at step ${folio.step}${two ? ` in pane ${folio.pane ? "B" : "A"}` : ""}:`);
    const ps = folio.page_state;
    if (ps && ps.state) {
      let s = `  now ${ps.state}`;
      if (ps.eviction != null) s += `, eviction stamp ${ps.eviction}`;
      if (ps.refault_distance != null) s += `, refault distance ${ps.refault_distance} ${ps.refault_distance <= ps.workingset_size ? "<=" : ">"} workingset size ${ps.workingset_size}`;
      if (ps.gens_since_eviction != null) s += `, evicted ${ps.gens_since_eviction} generation(s) ago (${ps.recent ? "recent" : "not recent"})`;
      L.push(...wrap(`${s}.`));
    }
    const h = folio.history;
    if (h && h.n) {
      L.push(`  history (${h.n} events${h.source === "replay" ? ", reconstructed by replay" : ""}):`);
      const rows = [];
      for (let i = 0; i < h.n; i++) rows.push({ step: h.step[i], line: explainEvent(folioRow(h, i, names)).line });
      for (const r of rows.slice(-nEvents)) L.push(...wrap(`    step ${r.step}: ${r.line}`, "      "));
    }
  }
  panes.forEach((p, i) => {
    const rows = events[i] || [];
    if (!rows.length) return;
    // Fold repeats: the same sentence for different folios is one line.
    const seen = new Map();
    for (const r of rows) {
      const line = explainEvent(r).line.replace(/\bfolio \d+\b/g, "folio N").replace(/\bpfn \d+\b/g, "pfn N");
      const e = seen.get(line);
      if (e) e.n++; else seen.set(line, { n: 1, line });
    }
    const list = [...seen.values()];
    L.push("", `Events of step ${p.step}${two ? ` in pane ${i ? "B" : "A"}` : ""} (${rows.length}, ${list.length} distinct):`);
    for (const e of list.slice(-nEvents)) L.push(...wrap(`  ${e.n > 1 ? `${e.n}x ` : ""}${e.line}`, "      "));
  });
  return L.flatMap((l) => wrap(l)).join("\n") + "\n";
}

function folioRow(h, i, names) {
  const nm = (t, v) => (names && names[t] && v >= 0 ? names[t][v] ?? v : v);
  return {
    pfn: h.pfn[i], mapping: h.mapping[i], index: h.index[i], seq: h.seq[i],
    kind: nm("event_kinds", h.kind[i]), reason: nm("reasons", h.reason[i]), fn: nm("kernel_fns", h.fn[i]),
    src: nm("locations", h.src[i]), dst: nm("locations", h.dst[i]), src_seq: h.src_seq[i], dst_seq: h.dst_seq[i],
    reason_name: nm("reason_names", h.reason[i]),
    why_a: h.why_a?.[i], why_b: h.why_b?.[i], why_c: h.why_c?.[i], why_d: h.why_d?.[i],
    refs: h.refs?.[i], tier: h.tier?.[i], tier_idx: h.tier_idx?.[i], why: h.why?.[i],
  };
}

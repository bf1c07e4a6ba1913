// The "copy as text" excerpt: plain text fit for a mailing list, every line at
// most 80 columns. Contents: the policy's debugfs text (MGLRU's lru_gen) or
// its list sizes, vmstat deltas since a chosen step, and the last events.
// `info` is what the pane's policy says about itself (GET /api/policies).
import { fmt } from "./format.js";
import { explainEvent } from "./explainEvent.js";
import { LRU_LISTS } from "./lists.js";

const WIDTH = 80;

// ASCII only: mail clients and terminals render it the same everywhere.
const ascii = (l) => l.replace(/→/g, "->").replace(/[—–]/g, "--").replace(/−/g, "-").replace(/µ/g, "u");

function wrap(line, indent = "    ") {
  const out = [];
  let s = ascii(line).replace(/\s+$/, "");
  let first = true;
  while (s.length > WIDTH) {
    const limit = first ? WIDTH : WIDTH;
    let cut = s.lastIndexOf(" ", limit);
    if (cut <= indent.length) cut = limit;
    out.push(s.slice(0, cut));
    s = indent + s.slice(cut).replace(/^\s+/, "");
    first = false;
  }
  out.push(s);
  return out;
}

export function textExcerpt(pane, { baseVmstat = null, baseStep = 0, events = [], nEvents = 12, title = "", info = {} } = {}) {
  const lines = [];
  const policy = info.title || pane.policy;
  lines.push(...wrap(`reclaimlab ${title ? title + " " : ""}— ${policy}, step ${pane.step}, ` +
    `${fmt.count(pane.nrAccess)} accesses, simulated ${fmt.ns(pane.timeNs)}`));
  lines.push("");
  if (info.debugfs && pane.lruGenText) {
    lines.push(`# cat /sys/kernel/debug/${info.debugfs}`);
    for (const l of pane.lruGenText.split("\n")) if (l.length) lines.push(...wrap(l, "      "));
  } else {
    lines.push("LRU list sizes (pages):");
    for (const name of LRU_LISTS) {
      const n = pane.listCounts?.[name] ?? 0;
      const label = info.lists?.[name];
      lines.push(`  ${fmt.pad(name, 20)} ${fmt.pad(fmt.count(n), 12, true)}${label ? `  ${label}` : ""}`);
    }
  }
  lines.push("");
  const cur = pane.vmstat || {};
  const base = baseVmstat || {};
  const deltas = Object.keys(cur)
    .filter((k) => typeof cur[k] === "number" && cur[k] - (base[k] ?? 0) !== 0)
    .map((k) => [k, cur[k] - (base[k] ?? 0)]);
  lines.push(`vmstat deltas, step ${baseStep} → ${pane.step}:`);
  if (!deltas.length) lines.push("  (no change)");
  // Two columns of 39 characters keep the block under 80 columns.
  for (let i = 0; i < deltas.length; i += 2) {
    const cell = ([k, d]) => `  ${fmt.pad(k, 26)} ${fmt.pad(fmt.delta(d), 10, true)}`;
    lines.push(cell(deltas[i]) + (deltas[i + 1] ? " " + cell(deltas[i + 1]).slice(1) : ""));
  }
  const last = events.slice(-nEvents);
  if (last.length) {
    lines.push("");
    lines.push(`last ${last.length} events:`);
    for (const ev of last) lines.push(...wrap(`  ${explainEvent(ev).line}`, "      "));
  }
  return lines.flatMap((l) => wrap(l)).join("\n") + "\n";
}

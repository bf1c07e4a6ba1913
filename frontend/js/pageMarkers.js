// The selected page's evictions (pgsteal) and refaults (workingset_refault),
// by step, from the inspector's answer (its columnar `history`): the plots
// mark them.
import { eventRow } from "./eventRow.js";

export function pageMarkers(msg, names) {
  const h = msg?.history;
  const out = [];
  for (let i = 0; i < (h?.n ?? 0); i++) {
    const row = eventRow(h, i, names);
    if (row.step == null) continue;
    if (row.kind === "pgsteal") out.push({ step: row.step, kind: "evict" });
    else if (row.kind === "workingset_refault") out.push({ step: row.step, kind: "refault" });
  }
  return out;
}

// Folds one folio's events within a step into the decision a reader cares
// about, ranked so the most consequential wins (a folio isolated, then
// written back and reclaimed is "reclaim", not "isolate").
import { eventVerb } from "./eventVerb.js";

const RANK = { free: 9, swapin: 2, rmap: 1, oom: 9, reclaimer: 0, fallback: 0, reclaim: 9, swapout: 10, writeback: 7, activate: 6, deactivate: 5, promote: 5, rotate: 4, keep: 3, refault: 2, fault: 2, add: 1, isolate: 1, access: 0, age: 0, other: 0 };



// rows: event rows (eventRow) of one step -> Map pfn -> {verb, first, last, rows}
export function decisionOf(rows) {
  const by = new Map();
  for (const ev of rows) {
    if (ev.pfn == null || ev.pfn < 0) continue;
    const e = eventVerb(ev);
    let d = by.get(ev.pfn);
    if (!d) { d = { pfn: ev.pfn, verb: e.verb, first: ev, last: ev, rows: [] }; by.set(ev.pfn, d); }
    d.rows.push(ev);
    d.last = ev;
    if ((RANK[e.verb] ?? 0) > (RANK[d.verb] ?? 0)) d.verb = e.verb;
  }
  return by;
}

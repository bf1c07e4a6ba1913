// Turns one engine event into words: the decision, where the folio went, why,
// and which kernel function decided it. Event kinds use the tracepoint/vmstat
// vocabulary of engine/names.py; unknown kinds fall back to the raw name.
import { eventVerb } from "./eventVerb.js";
import { whySentence } from "./whySentence.js";


// lruvec-wide tracepoints, in words (the tracepoint name stays in `kind`).
const RECLAIMER = {
  kswapd_wake: "kswapd woken",
  kswapd_sleep: "kswapd goes back to sleep",
  direct_reclaim_begin: "direct reclaim begins: the allocating task reclaims",
  direct_reclaim_end: "direct reclaim ends",
  lru_shrink_active: "pass over an active list done",
  lru_shrink_inactive: "pass over an inactive list done",
};

// mm_page_alloc_extfrag's zone (the event's index): the engine's two zones,
// ZONE_NORMAL standing for a guest's ZONE_DMA32
const ZONES = ["ZONE_DMA", "ZONE_NORMAL"];

function where(loc, seq) {
  if (loc == null || loc === "none") return "";
  if (loc === "isolated") return "the isolation list";
  if (loc === "gen") return seq != null && seq >= 0 ? `gen seq ${seq}` : "a generation";
  return String(loc);
}

// The rule's inputs that an event record carries (docs/engine-api.md), as
// a clause with numbers: a refault's distance against the workingset size
// (classic) or the shadow's generation against the one now (MGLRU), and the
// young PTEs and mapping flags rmap found.
const VM_EXEC = 1;
function numbers(ev, kind) {
  const said = whySentence(ev);
  if (said) return said;
  const a = ev.src_seq;
  const b = ev.dst_seq;
  if (a == null || b == null || a < 0 || b < 0) return "";
  const fn = String(ev.fn ?? "");
  if (/workingset_refault/.test(kind) && /lru_gen/.test(fn)) {
    return `evicted from generation seq ${a}; seq ${b} now, ${Math.abs(b - a)} generation(s) apart (recent while < MAX_NR_GENS = 4)`;
  }
  if (/workingset_refault/.test(kind)) {
    return `refault distance ${a} ${a <= b ? "≤" : ">"} workingset size ${b}: ${a <= b ? "activate" : "stays inactive"}`;
  }
  if (/folio_referenced/.test(kind)) {
    return `${a} young PTE${a === 1 ? "" : "s"}${b & VM_EXEC ? ", a VM_EXEC mapping" : ""}`;
  }
  return "";
}

export function explainEvent(ev) {
  const kind = String(ev.kind ?? "");
  const { verb, phrase } = eventVerb(ev);
  const from = where(ev.src, ev.src_seq);
  const to = where(ev.dst, ev.dst_seq);
  const who = ev.pfn != null && ev.pfn >= 0 ? `folio ${ev.pfn}` : "lruvec";
  let move;
  const seqMove = (name) => (ev.dst_seq != null && ev.dst_seq >= 0 ? `${name} → ${ev.dst_seq}`
    : ev.src_seq != null && ev.src_seq >= 0 ? `${name} ${ev.src_seq} → ${ev.src_seq + 1}` : `${name} advanced by one`);
  if (kind === "mm_page_alloc_extfrag") move = `${ZONES[ev.index] ?? "a zone"} had no free page of the movable type: frame ${ev.pfn} handed out from a pageblock of another migratetype`;
  // the shadow shrinker: a page-cache node of one file, 64 indices, its shadows dropped
  else if (kind === "workingset_nodereclaim") move = `shadow shrinker: file ${ev.mapping} pages ${ev.index}-${Number(ev.index) + 63}, their shadow entries dropped`;
  else if (/max_seq/.test(kind)) move = seqMove("max_seq");
  else if (/min_seq/.test(kind)) move = seqMove("min_seq");
  else if (verb === "isolate") move = `${who} ${phrase} ${from}`;
  else if (verb === "reclaimer") move = RECLAIMER[kind.replace(/^mm_vmscan_/, "")] ?? kind.replace(/^mm_vmscan_/, "");
  // A plain access carries no list (the engine leaves it unset): "accessed",
  // not "accessed on".
  else if (verb === "access" || verb === "rmap") {
    const at = from || to;
    move = at ? `${who} ${phrase} ${at}` : `${who} ${phrase.replace(/ on$/, "")}`;
  }
  // Eviction ends in the free pool, with or without a shadow entry: say that
  // in words rather than "reclaimed to shadow" (it always leaves the
  // isolation list, so that part goes unsaid).
  else if (verb === "reclaim" && to === "shadow") move = `${who} reclaimed: frame freed, shadow entry left`;
  else if (verb === "reclaim" && to === "free") move = `${who} reclaimed: frame freed`;
  else if (!to) move = `${who} ${phrase.replace(/ (to the tail of|to|into|on|of)$/, "")}${from ? ` (from ${from})` : ""}`;
  else move = `${who} ${phrase} ${to}${from && from !== to ? ` (from ${from})` : ""}`;
  const nums = numbers(ev, kind);
  const why = [ev.reason ? String(ev.reason) : "", nums].filter(Boolean).join("; ");
  const fn = ev.fn ? `${String(ev.fn).replace(/\(\)$/, "")}()` : "";
  return {
    verb,
    kind,
    text: move.trim(),
    why,
    fn,
    line: `${kind}: ${move.trim()}${why ? ` — ${why}` : ""}${fn ? ` [${fn}]` : ""}`,
  };
}

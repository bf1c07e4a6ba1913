// The inputs of the rule that decided an event, as one sentence with the
// numbers, in the terms of the kernel that ran it. The engine records them at
// decision time in why_a..why (docs/engine.md "Decision inputs"); an event
// without them gives "". Bits mirror engine/core.pxd WHY_*.
const WHY_REFERENCED = 1;
const WHY_WORKINGSET = 2;
const WHY_EXEC = 8;
const WHY_INACTIVE_LOW = 16;
const WHY_PID = 32;
const WHY_PID_TYPE = 64;
const WHY_PRE614 = 128;
const MAX_NR_GENS = 4;
const MAX_NR_TIERS = 4;

const pct = (v) => `${(v / 100).toFixed(2)} %`;
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function flagList(why, names) {
  const out = [];
  if (why & WHY_REFERENCED) out.push(names[0]);
  if (why & WHY_WORKINGSET) out.push(names[1]);
  return out.length ? `, ${out.join(", ")}` : "";
}

// What get_tier_idx() (or, before v6.14, get_type_to_scan()) concluded: the
// tier that stopped its loop against tier 0, with the gains it weighs them by.
function pidClause(ev) {
  const ti = ev.tier_idx;
  if (!(ev.why & WHY_PID)) return `tier_idx ${ti} (PID controller off)`;
  const pre = (ev.why & WHY_PRE614) !== 0;
  const byType = (ev.why & WHY_PID_TYPE) !== 0;
  const fn = byType ? "get_type_to_scan()" : "get_tier_idx()";
  const ref = byType ? "the other type's tier 0" : "tier 0";
  // positive_ctrl_err(): pv refaulted/total × sp gain ≤ sp's × pv gain
  const gain = byType ? "weighted by swappiness" : pre ? "× 2/1 margin" : "× 3/2 margin";
  const cmp = Math.min(ti + 1, MAX_NR_TIERS - 1);
  if (ti >= MAX_NR_TIERS - 1) {
    return `PID ${fn}: no tier refaulted more than ${ref} (tier ${cmp} ${pct(ev.why_c)} vs ${pct(ev.why_d)}, ${gain}) → tier_idx ${ti}, no tier protected`;
  }
  return `PID ${fn}: tier ${cmp} refaulted ${pct(ev.why_c)} vs ${ref} ${pct(ev.why_d)} (${gain}) → tier_idx ${ti}, tiers > ${ti} protected`;
}

// sort_folio(): which branch, for a folio in gen seq `seq` of the window.
function sortFolio(ev, name) {
  const maxSeq = ev.why_a;
  const minSeq = ev.why_b;
  const pre = (ev.why & WHY_PRE614) !== 0;
  // a promoted folio's gen field already names a younger generation (dst_seq)
  const seq = name === "GEN_PROMOTED" && ev.dst_seq >= 0 ? ev.dst_seq : ev.src_seq;
  const age = maxSeq - seq;
  const where = `gen ${((seq % MAX_NR_GENS) + MAX_NR_GENS) % MAX_NR_GENS} (seq ${seq}, ${plural(age, "generation")} old; min_seq ${minSeq}, max_seq ${maxSeq})`;
  const folio = `refs ${ev.refs}, tier ${ev.tier}${flagList(ev.why, ["PG_referenced", "PG_workingset"])}`;
  const pid = pidClause(ev);
  const ti = ev.tier_idx;
  let branch;
  switch (name) {
    case "GEN_PROMOTED":
      branch = `promoted: the aging already moved it to seq ${seq}`;
      break;
    case "GEN_PROTECTED":
      branch = pre && ev.refs >= MAX_NR_GENS && ev.tier <= ti
        ? `refs ${ev.refs} saturated → protected, to min_seq + 1`
        : `tier ${ev.tier} > tier_idx ${ti} → protected, to min_seq + 1`;
      break;
    case "GEN_LAZY_PROMOTED":
      branch = `refs ${ev.refs} + PG_workingset = 5 → lazily promoted to min_seq + 1 (not counted as protected)`;
      break;
    case "GEN_INELIGIBLE":
      branch = "not on the LRU now (ineligible) → to min_seq + 1";
      break;
    case "ZONE_SKIP":
      branch = "in a zone above reclaim_idx (kswapd reclaims for ZONE_DMA alone) → ineligible, to min_seq + 1";
      break;
    case "GEN_WRITEBACK":
      branch = "dirty or under writeback → to min_seq + 1 with PG_reclaim";
      break;
    default:
      branch = `tier ${ev.tier} ≤ tier_idx ${ti}${pre ? "" : ", not lazily promoted"} → not protected, isolated for eviction`;
  }
  return `in ${where}: ${folio}; ${branch}. ${pid}`;
}

// folio_check_references() (and MGLRU's lru_gen_set_refs()): what rmap found.
function references(ev) {
  const n = ev.why_a;
  const ptes = n >= 3 && ev.fn !== "lru_gen_set_refs" ? "3 or more young PTEs" : plural(n, "young PTE");
  const refd = ev.why & WHY_REFERENCED ? "PG_referenced was set" : "PG_referenced was clear";
  const exec = ev.why & WHY_EXEC ? ", in a VM_EXEC mapping" : "";
  const refs = ev.refs != null && ev.refs >= 0
    ? `; refs ${ev.refs}, tier ${ev.tier}${ev.why & WHY_WORKINGSET ? ", PG_workingset" : ""}` : "";
  return `folio_check_references(): ${ptes}${exec}, ${refd}${refs}`;
}

function inactiveIsLow(ev) {
  const low = (ev.why & WHY_INACTIVE_LOW) !== 0;
  const a = ev.why_a;
  const b = ev.why_b;
  const r = ev.why_c;
  return low
    ? `inactive_is_low(): inactive ${a} × inactive_ratio ${r} < active ${b} → the inactive list is low`
    : `inactive_is_low(): inactive ${a} × inactive_ratio ${r} ≥ active ${b} → not low (deactivating because refaults moved since the last snapshot, or force_deactivate)`;
}

// The shadow's eviction seq against the window now: 7.3's lru_gen_test_recent()
// (max_seq within MAX_NR_GENS); before v6.14 min_seq unchanged (6.12's
// lru_gen_test_recent(), inline in 6.1's lru_gen_refault()).
function lruGenRefault(ev) {
  const evicted = ev.src_seq;
  const token = `shadow token refs ${ev.refs}, tier ${ev.tier}${ev.why & WHY_WORKINGSET ? ", PG_workingset" : ""}`;
  if (ev.why & WHY_PRE614) {
    const recent = evicted === ev.why_b;
    return `before v6.14, recent if min_seq has not moved: evicted at min_seq ${evicted}, min_seq now ${ev.why_b} (max_seq ${ev.why_a}): ${recent ? "unchanged → recent" : "moved → not recent"}; ${token}`;
  }
  const d = Math.abs(ev.why_a - evicted);
  return `lru_gen_test_recent(): evicted at min_seq ${evicted}, max_seq now ${ev.why_a} (min_seq ${ev.why_b}): ${plural(d, "generation")} apart ${d < MAX_NR_GENS ? "< MAX_NR_GENS 4 → recent" : "≥ MAX_NR_GENS 4 → not recent"}; ${token}`;
}

// __rmqueue_fallback()'s numbers (the reason says which branch): what became
// movable, and the boost that makes rmqueue() wake kswapd for the zone
// count_shadow_nodes()'s comparison when the shadow shrinker ran
function nodeReclaim(ev) {
  return `${plural(ev.why_a, "node")} of the page cache held only shadows, ${ev.why_b} allowed (one per 8 LRU pages): the oldest freed, a page read back there is a first fault`;
}

function extfrag(ev) {
  const boost = ev.why_b > 0
    ? `boost_watermark(): the zone's watermarks ${plural(ev.why_b, "page")} higher until kswapd reclaims them, and rmqueue() wakes kswapd for the zone`
    : "no boost (a zone under four pageblocks)";
  return `${plural(ev.why_a, "free page")} became movable; ${boost}; ${plural(ev.why_c, "free page")} of other migratetypes left`;
}

export function whySentence(ev) {
  if (!ev || ev.why_a == null || ev.why_a < 0) return "";
  const fn = String(ev.fn ?? "");
  const kind = String(ev.kind ?? "");
  const name = ev.reason_name ?? "";
  if (fn === "sort_folio" && ev.tier_idx != null && ev.tier_idx >= 0) return sortFolio(ev, kind === "mm_vmscan_lru_isolate" ? "NOT_PROTECTED" : name);
  if (fn === "lru_gen_refault") return lruGenRefault(ev);
  if (kind === "mm_page_alloc_extfrag") return extfrag(ev);
  if (kind === "workingset_nodereclaim") return nodeReclaim(ev);
  if (kind === "pgdeactivate" || kind === "mm_vmscan_lru_shrink_active") return inactiveIsLow(ev);
  if (["move_folios_to_lru", "__remove_mapping", "lru_gen_set_refs"].includes(fn)) return references(ev);
  return "";
}

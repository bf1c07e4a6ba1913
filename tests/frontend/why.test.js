import { test } from "node:test";
import assert from "node:assert/strict";
import { whySentence } from "../../frontend/js/whySentence.js";
import { evictionWhy } from "../../frontend/js/evictionWhy.js";
import { explainEvent } from "../../frontend/js/explainEvent.js";

// engine/core.pxd WHY_* bits
const REFERENCED = 1, WORKINGSET = 2, YOUNG = 4, EXEC = 8, LOW = 16, PID = 32, PID_TYPE = 64, PRE614 = 128;
const none = { why_a: -1, why_b: -1, why_c: 0, why_d: 0, refs: -1, tier: -1, tier_idx: -1, why: 0 };

// a 7.3 sort_folio() isolation: seq 41 of max_seq 44, tier 1 not above tier_idx 1
const isolate73 = {
  pfn: 12, step: 7, kind: "mm_vmscan_lru_isolate", reason_name: "NOT_PROTECTED", fn: "sort_folio",
  src: "gen", dst: "isolated", src_seq: 41, dst_seq: -1,
  why_a: 44, why_b: 41, why_c: 1250, why_d: 800, refs: 2, tier: 1, tier_idx: 1, why: PID | REFERENCED,
};

test("sort_folio's isolation names the generation, its age, refs, tier and the PID comparison", () => {
  const s = whySentence(isolate73);
  assert.match(s, /gen 1 \(seq 41, 3 generations old; min_seq 41, max_seq 44\)/);
  assert.match(s, /refs 2, tier 1, PG_referenced;/);
  assert.match(s, /tier 1 ≤ tier_idx 1, not lazily promoted → not protected, isolated for eviction/);
  assert.match(s, /PID get_tier_idx\(\): tier 2 refaulted 12\.50 % vs tier 0 8\.00 % \(× 3\/2 margin\) → tier_idx 1, tiers > 1 protected/);
});

test("sort_folio's protection says which branch: tier above tier_idx, lazy promotion, 6.1's saturated refs", () => {
  const prot = { ...isolate73, kind: "pgrefill", reason_name: "GEN_PROTECTED", dst_seq: 42, refs: 4, tier: 2, tier_idx: 0, why: PID | WORKINGSET };
  assert.match(whySentence(prot), /tier 2 > tier_idx 0 → protected, to min_seq \+ 1/);
  assert.match(whySentence(prot), /refs 4, tier 2, PG_workingset;/);
  const lazy = { ...prot, reason_name: "GEN_LAZY_PROMOTED", refs: 4, tier: 3, tier_idx: 3 };
  assert.match(whySentence(lazy), /refs 4 \+ PG_workingset = 5 → lazily promoted/);
  assert.match(whySentence(lazy), /no tier refaulted more than tier 0 \(tier 3 12\.50 % vs 8\.00 %, × 3\/2 margin\) → tier_idx 3, no tier protected/);
  // 6.1: refs 4 saturates; the tier came from get_type_to_scan() against the other type
  const sat = { ...prot, refs: 4, tier: 3, tier_idx: 3, why: PID | PID_TYPE | PRE614 };
  assert.match(whySentence(sat), /refs 4 saturated → protected/);
  assert.match(whySentence(sat), /PID get_type_to_scan\(\): no tier refaulted more than the other type's tier 0/);
  const off = { ...isolate73, why: 0, tier_idx: 0, tier: 0 };
  assert.match(whySentence(off), /tier_idx 0 \(PID controller off\)/);
  const promoted = { ...isolate73, kind: "pgrefill", reason_name: "GEN_PROMOTED", src_seq: 41, dst_seq: 44 };
  assert.match(whySentence(promoted), /gen 0 \(seq 44, 0 generations old;.*promoted: the aging already moved it to seq 44/);
  const zone = { ...isolate73, kind: "pgrefill", reason_name: "ZONE_SKIP", src_seq: 41, dst_seq: 42 };
  assert.match(whySentence(zone), /in a zone above reclaim_idx \(kswapd reclaims for ZONE_DMA alone\) → ineligible, to min_seq \+ 1/);
});

test("folio_check_references' inputs: young PTEs, PG_referenced before, VM_EXEC", () => {
  const keep = { ...none, kind: "putback", fn: "move_folios_to_lru", reason_name: "FOLIOREF_KEEP", why_a: 1, why: YOUNG };
  assert.equal(whySentence(keep), "folio_check_references(): 1 young PTE, PG_referenced was clear");
  const twice = { ...keep, kind: "pgactivate", why_a: 3, why: YOUNG | REFERENCED | EXEC };
  assert.equal(whySentence(twice), "folio_check_references(): 3 or more young PTEs, in a VM_EXEC mapping, PG_referenced was set");
  const setRefs = { ...none, kind: "folio_referenced", fn: "lru_gen_set_refs", why_a: 1, refs: 2, tier: 1, why: YOUNG | REFERENCED };
  assert.match(whySentence(setRefs), /1 young PTE, PG_referenced was set; refs 2, tier 1$/);
  const steal = { ...none, kind: "pgsteal", fn: "__remove_mapping", why_a: 0 };
  assert.equal(whySentence(steal), "folio_check_references(): 0 young PTEs, PG_referenced was clear");
});

test("deactivation names inactive_is_low()'s sizes and ratio; refaults the MGLRU window", () => {
  const d = { ...none, kind: "pgdeactivate", fn: "move_folios_to_lru", why_a: 300, why_b: 1200, why_c: 3, why: LOW };
  assert.equal(whySentence(d), "inactive_is_low(): inactive 300 × inactive_ratio 3 < active 1200 → the inactive list is low");
  assert.match(whySentence({ ...d, why_a: 500, why: 0 }), /inactive 500 × inactive_ratio 3 ≥ active 1200 → not low/);
  const r = { ...none, kind: "workingset_refault", fn: "lru_gen_refault", src_seq: 40, dst_seq: 45, why_a: 45, why_b: 43, refs: 2, tier: 1, why: WORKINGSET };
  assert.match(whySentence(r), /evicted at min_seq 40, max_seq now 45 \(min_seq 43\): 5 generations apart ≥ MAX_NR_GENS 4 → not recent; shadow token refs 2, tier 1, PG_workingset/);
  const r61 = { ...r, dst_seq: 40, why_b: 40, why: PRE614 };
  assert.match(whySentence(r61), /evicted at min_seq 40, min_seq now 40 \(max_seq 45\): unchanged → recent/);
});

test("an event without recorded inputs gives no sentence, and explainEvent keeps its old numbers", () => {
  assert.equal(whySentence({ ...none, kind: "pgsteal", fn: "__remove_mapping" }), "");
  const classic = explainEvent({ ...none, pfn: 3, kind: "workingset_refault", fn: "workingset_refault", src: "shadow", dst: "none", src_seq: 5, dst_seq: 9 });
  assert.match(classic.why, /refault distance 5 ≤ workingset size 9: activate/);
  assert.match(explainEvent(isolate73).why, /tier 1 ≤ tier_idx 1/);
});

test("evictionWhy joins sort_folio's isolation with what folio_check_references found", () => {
  const steal = { ...none, pfn: 12, step: 7, kind: "pgsteal", fn: "__remove_mapping", src: "isolated", dst: "shadow", why_a: 0 };
  const s = evictionWhy([{ ...none, kind: "mm_lru_insertion", step: 1 }, isolate73, steal]);
  assert.match(s, /^Evicted at step 7 by evict_folios\(\): sort_folio\(\) found it in gen 1 \(seq 41, 3 generations old/);
  assert.match(s, /then folio_check_references\(\): 0 young PTEs, PG_referenced was clear → freed by __remove_mapping\(\), a shadow entry left\.$/);
  const classic = evictionWhy([{ ...none, kind: "mm_vmscan_lru_isolate", fn: "isolate_lru_folios", src: "LRU_INACTIVE_FILE", step: 4 },
    { ...steal, step: 4, why_a: 0, why: REFERENCED }]);
  assert.equal(classic, "Reclaimed at step 4 by shrink_inactive_list(): isolated from the tail of LRU_INACTIVE_FILE; then folio_check_references(): 0 young PTEs, PG_referenced was set → freed by __remove_mapping(), a shadow entry left.");
  assert.equal(evictionWhy([isolate73]), null);
});

test("a page-allocator fallback (mm_page_alloc_extfrag) says what became movable and the boost that wakes kswapd", () => {
  const steal = {
    ...none, pfn: 3612, index: 0, kind: "mm_page_alloc_extfrag", reason_name: "FALLBACK_STEAL", fn: "__rmqueue_fallback",
    src: "free", dst: "free", why_a: 32, why_b: 512, why_c: 192,
  };
  assert.equal(whySentence(steal), "32 free pages became movable; boost_watermark(): the zone's watermarks 512 pages higher "
    + "until kswapd reclaims them, and rmqueue() wakes kswapd for the zone; 192 free pages of other migratetypes left");
  const claim = { ...steal, index: 1, reason_name: "FALLBACK_CLAIM", why_a: 300, why_c: 1446 };
  assert.match(whySentence(claim), /^300 free pages became movable;.*; 1446 free pages of other migratetypes left$/);
  assert.match(whySentence({ ...steal, why_b: 0 }), /no boost \(a zone under four pageblocks\)/);
  const e = explainEvent(steal);
  assert.equal(e.text, "ZONE_DMA had no free page of the movable type: frame 3612 handed out from a pageblock of another migratetype");
  assert.match(explainEvent(claim).text, /^ZONE_NORMAL had no free page/);
  assert.match(e.line, /\[__rmqueue_fallback\(\)\]$/);
});

test("the shadow shrinker's workingset_nodereclaim names the node's file and pages and the limit it was over", () => {
  const ev = {
    ...none, pfn: -1, mapping: 2, index: 128, kind: "workingset_nodereclaim", reason_name: "SHADOW_NODES_OVER",
    fn: "shadow_lru_isolate", src: "shadow", dst: "none", why_a: 302, why_b: 60,
  };
  assert.equal(whySentence(ev), "302 nodes of the page cache held only shadows, 60 allowed (one per 8 LRU pages): "
    + "the oldest freed, a page read back there is a first fault");
  const e = explainEvent(ev);
  assert.equal(e.verb, "reclaimer");
  assert.equal(e.text, "shadow shrinker: file 2 pages 128-191, their shadow entries dropped");
  assert.match(e.line, /\[shadow_lru_isolate\(\)\]$/);
});

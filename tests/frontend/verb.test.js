import { test } from "node:test";
import assert from "node:assert/strict";
import { eventVerb } from "../../frontend/js/eventVerb.js";
import { explainEvent } from "../../frontend/js/explainEvent.js";
import { decisionOf } from "../../frontend/js/decisionOf.js";

// engine/names.py EVENT_KINDS, and a kind no engine sends
const KINDS = ["pgfault", "pgmajfault", "mm_lru_insertion", "pgactivate", "pgdeactivate", "pgrotated",
  "mm_vmscan_lru_isolate", "putback", "pgsteal", "pswpout", "mm_vmscan_write_folio",
  "nr_vmscan_immediate_reclaim", "folio_end_writeback", "pswpin", "workingset_refault",
  "workingset_activate", "workingset_restore", "pgrefill", "folio_update_gen", "folio_inc_gen",
  "inc_max_seq", "inc_min_seq", "mm_vmscan_kswapd_wake", "mm_vmscan_kswapd_sleep",
  "mm_vmscan_direct_reclaim_begin", "mm_vmscan_direct_reclaim_end", "mm_vmscan_lru_shrink_active",
  "mm_vmscan_lru_shrink_inactive", "mark_accessed", "folio_referenced", "free", "oom_kill",
  "unevictable_pgs_culled", "access", "mm_page_alloc_extfrag", "workingset_nodereclaim", "something_new"];

test("eventVerb names the same decision as explainEvent for every event kind, putback's rotate and keep included", () => {
  for (const kind of KINDS) {
    for (const reason of ["", "WRITEBACK_ROTATE", "FOLIOREF_KEEP"]) {
      for (const [src, dst] of [["LRU_INACTIVE_FILE", "LRU_INACTIVE_FILE"], ["isolated", "LRU_ACTIVE_FILE"]]) {
        const ev = { pfn: 7, kind, reason, src, dst, src_seq: -1, dst_seq: -1, fn: "shrink_folio_list" };
        assert.equal(eventVerb(ev).verb, explainEvent(ev).verb, `${kind} ${reason} ${src}->${dst}`);
      }
    }
  }
});

test("a step's decisions are found without building a sentence per event", () => {
  // The step's animation runs decisionOf over every event in the message's
  // task: it must not build explainEvent()'s sentences, which name the
  // kernel function (`fn`, a getter here that counts its readers).
  let reads = 0;
  const ev = (pfn, kind) => Object.defineProperty({ pfn, kind, reason: "", src: "LRU_INACTIVE_FILE", dst: "isolated", src_seq: -1, dst_seq: -1 },
    "fn", { get() { reads++; return "shrink_folio_list"; }, enumerable: true });
  const d = decisionOf([ev(1, "mm_vmscan_lru_isolate"), ev(1, "pgsteal"), ev(2, "pgrotated")]);
  assert.deepEqual([...d.values()].map((x) => [x.pfn, x.verb]), [[1, "reclaim"], [2, "rotate"]]);
  assert.equal(reads, 0, "a sentence per event was built");
});

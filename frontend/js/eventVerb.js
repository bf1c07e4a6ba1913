// The decision one engine event stands for ("isolate", "reclaim", ...) and
// its phrase, without the rest of explainEvent()'s sentence: the step's
// animation (decisionOf) and the reclaim filter need only the verb, for
// every event of a step, in the message's task before the frame that shows
// it (building every sentence there was ~1 ms a step at 1 Mi frames).
const VERBS = [
  [/^access$|mark_accessed|^accessed$/, "access", "accessed on"],
  [/^free$/, "free", "freed to"],
  [/pswpin|swap_?in/, "swapin", "swapped in to"],
  [/folio_referenced/, "rmap", "checked by rmap on"],
  [/oom_kill/, "oom", "killed by the OOM killer:"],
  [/kswapd_wake|kswapd_sleep|direct_reclaim|shrink_active$|shrink_inactive$/, "reclaimer", ""],
  [/alloc_extfrag/, "fallback", ""],
  [/nodereclaim/, "reclaimer", ""],
  [/isolate/, "isolate", "isolated from the tail of"],
  [/putback/, "keep", "put back on"],
  [/deactivate/, "deactivate", "deactivated to"],
  [/activate/, "activate", "activated to"],
  [/rotate/, "rotate", "rotated to the tail of"],
  [/refill|update_gen|inc_gen|promote/, "promote", "moved to"],
  [/pswpout|swap_?out/, "swapout", "swapped out to"],
  [/write_folio|writeback/, "writeback", "written back"],
  [/steal|reclaim/, "reclaim", "reclaimed to"],
  [/refault/, "refault", "refaulted into"],
  [/fault/, "fault", "faulted into"],
  [/lru_add|insertion|add/, "add", "added to"],
  [/max_seq|min_seq/, "age", "aged"],
];

export function eventVerb(ev) {
  const kind = String(ev.kind ?? "");
  let verb = "other";
  let phrase = kind;
  for (const [re, v, p] of VERBS) if (re.test(kind)) { verb = v; phrase = p; break; }
  if (verb === "keep" && ev.src === ev.dst && ev.src_seq === ev.dst_seq) phrase = "kept on";
  if (verb === "keep" && /rotat/i.test(ev.reason ?? "")) { verb = "rotate"; phrase = "rotated on"; }
  return { verb, phrase };
}

// Mirrors include/linux/mm_inline.h:folio_lru_refs() + lru_tier_from_refs()
// (v6.14+): refs = 0 without PG_referenced, else the refs field + 1;
// tier = 3 with PG_workingset, else order_base_2(refs).
import { FLAGS } from "./flags.js";

export function folioTier(flags) {
  if (flags & FLAGS.PG_workingset) return 3;
  const refs = flags & FLAGS.PG_referenced ? ((flags & FLAGS.LRU_REFS_MASK) >>> FLAGS.LRU_REFS_PGOFF) + 1 : 0;
  return refs <= 1 ? 0 : refs === 2 ? 1 : 2;
}

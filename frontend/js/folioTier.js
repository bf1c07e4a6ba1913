// Mirrors include/linux/mm_inline.h:folio_lru_refs() + lru_tier_from_refs()
// of the pane's release. v6.14+ (7.3): refs = 0 without PG_referenced, else
// the refs field + 1; tier = 3 with PG_workingset, else order_base_2(refs).
// Before v6.14 (6.1, 6.12; 6.1 mm_inline.h:135-145): refs = the refs field +
// PG_workingset, the fd accesses beyond the first; tier = order_base_2(refs + 1).
// With MGLRU's `tiers` switch off every folio is tier 0 (the engine's knob).
import { FLAGS } from "./flags.js";

const orderBase2 = (n) => (n <= 1 ? 0 : 32 - Math.clz32(n - 1));

// kernel: a profile key, "major.minor" (the engine branches on < 6.14 the same way)
export function folioTier(flags, { kernel = "7.3", tiers = true } = {}) {
  if (!tiers) return 0;
  const field = (flags & FLAGS.LRU_REFS_MASK) >>> FLAGS.LRU_REFS_PGOFF;
  const workingset = (flags & FLAGS.PG_workingset) !== 0;
  const [major, minor] = String(kernel).split(".").map(Number);
  if (major < 6 || (major === 6 && minor < 14)) return orderBase2(field + (workingset ? 1 : 0) + 1);
  if (workingset) return 3;
  return orderBase2(flags & FLAGS.PG_referenced ? field + 1 : 0);
}

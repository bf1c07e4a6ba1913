// What occupies a page frame, as a palette key, from the per-frame folio
// flags (layout "order") or the per-frame location byte (layout "location").
import { FLAGS } from "./flags.js";
import { LRU_LISTS } from "./lists.js";

export function frameColour(flags, loc) {
  if (loc != null) {
    if (loc <= 4) return LRU_LISTS[loc];
    if (loc >= 16 && loc < 24) return (loc - 16) & 1 ? "LRU_INACTIVE_FILE" : "LRU_INACTIVE_ANON";
    if (loc === 250) return "isolated";
    return "free";
  }
  if (!flags) return "free";
  if (!(flags & FLAGS.PG_lru)) return "isolated";
  if (flags & FLAGS.PG_unevictable) return "LRU_UNEVICTABLE";
  const active = flags & FLAGS.PG_active ? 1 : 0;
  return LRU_LISTS[(flags & FLAGS.PG_swapbacked ? 0 : 2) + active];
}

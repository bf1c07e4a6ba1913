// What occupies a page frame, as a palette key, from the per-frame folio
// flags (layout "order") or the per-frame location byte (layout "location").
import { FLAGS } from "./flags.js";
import { LRU_LISTS } from "./lists.js";

// genActive (MGLRU): gen index -> whether its seq is one of the two youngest,
// the kernel's own active/inactive accounting for generations (lru_gen_is_active).
export function frameColour(flags, loc, genActive = null) {
  if (loc != null) {
    if (loc <= 4) return LRU_LISTS[loc];
    if (loc >= 16 && loc < 24) return (loc - 16) & 1 ? "LRU_INACTIVE_FILE" : "LRU_INACTIVE_ANON";
    if (loc === 250) return "isolated";
    return "free";
  }
  if (!flags) return "free";
  if (!(flags & FLAGS.PG_lru)) return "isolated";
  if (flags & FLAGS.PG_unevictable) return "LRU_UNEVICTABLE";
  const gen = ((flags & FLAGS.LRU_GEN_MASK) >>> FLAGS.LRU_GEN_PGOFF) - 1;
  const active = genActive && gen >= 0 ? (genActive[gen] ? 1 : 0) : flags & FLAGS.PG_active ? 1 : 0;
  return LRU_LISTS[(flags & FLAGS.PG_swapbacked ? 0 : 2) + active];
}

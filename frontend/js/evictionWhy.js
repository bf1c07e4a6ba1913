// Why a folio was last evicted, from its history (eventRow rows, oldest
// first): the isolation that picked it (MGLRU: sort_folio()'s branch with the
// folio's refs, tier and generation and the PID controller's tier_idx;
// classic: the list it was taken from) and what folio_check_references()
// found before __remove_mapping() freed it. null if it was never evicted.
import { whySentence } from "./whySentence.js";

export function evictionWhy(rows) {
  let steal = -1;
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i].kind === "pgsteal") { steal = i; break; }
  if (steal < 0) return null;
  const ev = rows[steal];
  let iso = null;
  for (let i = steal - 1; i >= 0; i--) {
    if (rows[i].kind === "mm_vmscan_lru_isolate") { iso = rows[i]; break; }
    if (rows[i].kind === "pgsteal") break;
  }
  const at = ev.step != null ? ` at step ${ev.step}` : "";
  const parts = [];
  if (iso && iso.fn === "sort_folio") {
    const said = whySentence(iso);
    parts.push(`Evicted${at} by evict_folios(): sort_folio() found it ${said || "not protected and isolated it"}`);
  } else if (iso) {
    parts.push(`Reclaimed${at} by shrink_inactive_list(): isolated from the tail of ${iso.src}`);
  } else {
    parts.push(`Evicted${at}`);
  }
  const refs = whySentence(ev);
  if (refs) parts.push(`then ${refs} → freed by __remove_mapping()${ev.dst === "shadow" || ev.dst === "swap" ? ", a shadow entry left" : ""}`);
  else parts.push("then freed by __remove_mapping()");
  return `${parts.join("; ")}.`;
}

// The folio inspector: flags, where the folio is, its whole history, and for
// an evicted folio its shadow entry and refault distance against the
// workingset size (what workingset_refault() will compare).
import { explainEvent } from "../explainEvent.js";
import { eventRow } from "../eventRow.js";
import { evictionWhy } from "../evictionWhy.js";

const FLAG_ORDER = ["PG_lru", "PG_active", "PG_referenced", "PG_workingset", "PG_swapbacked", "PG_dirty",
  "PG_writeback", "PG_reclaim", "PG_unevictable", "PG_mlocked", "PG_swapcache", "PG_anon", "PG_readahead", "PG_tail"];

function dl(pairs) {
  const d = document.createElement("dl");
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd");
    if (v instanceof Node) dd.append(v); else dd.textContent = v === null ? "–" : typeof v === "object" ? JSON.stringify(v) : String(v);
    d.append(dt, dd);
  }
  return d;
}

// The page in the workload's own words: "file stream.log (1) pgoff 72".
export function pageName(id) {
  if (!id || id.mapping == null) return "";
  const nm = id.name != null && String(id.name) !== String(id.mapping) ? `${id.name} (${id.mapping})` : String(id.mapping);
  if (id.anon == null) return `mapping ${id.mapping} index ${id.index}`;
  return id.anon ? `anon mm ${nm} vpn ${id.index}` : `file ${nm} pgoff ${id.index}`;
}

// MGLRU: 7.3's lru_gen_refault() calls a refault recent when the generation it
// was evicted from (min_seq then) is within MAX_NR_GENS of max_seq now; before
// v6.14 (the shadow's decoding gives min_seq_now) when min_seq has not moved.
function verdictOf(ps) {
  if (ps.refault_distance != null && ps.workingset_size != null) {
    return ps.refault_distance <= ps.workingset_size
      ? `refault distance ${ps.refault_distance} ≤ workingset size ${ps.workingset_size}: a refault now would be activated (workingset_refault())`
      : `refault distance ${ps.refault_distance} > workingset size ${ps.workingset_size}: a refault now stays inactive (workingset_refault())`;
  }
  if (ps.min_seq_now != null) {
    return ps.recent
      ? `evicted at min_seq ${ps.min_seq_at_eviction}, min_seq now ${ps.min_seq_now} (before v6.14: recent while min_seq has not moved): a refault now is recent — counted in its tier (lru_gen_refault())`
      : `evicted at min_seq ${ps.min_seq_at_eviction}, min_seq now ${ps.min_seq_now} (before v6.14: recent only while min_seq has not moved): a refault now is not recent — it starts cold (lru_gen_refault())`;
  }
  if (ps.gens_since_eviction != null) {
    return ps.recent
      ? `evicted at min_seq ${ps.min_seq_at_eviction}, ${ps.gens_since_eviction} generation(s) ago (< MAX_NR_GENS 4): a refault now is recent — counted as workingset_refault, refs ${ps.refs} restored (lru_gen_refault())`
      : `evicted at min_seq ${ps.min_seq_at_eviction}, ${ps.gens_since_eviction} generations ago (≥ MAX_NR_GENS 4): a refault now is not recent — it starts cold (lru_gen_refault())`;
  }
  return null;
}

export function renderInspector(el, msg, names, step = null) {
  el.textContent = "";
  if (!msg) { const p = document.createElement("p"); p.className = "muted"; p.textContent = "Click a folio or an event."; el.append(p); return; }
  const h = document.createElement("p");
  // A free frame still reports its last folio: show it as "free now".
  const f = msg.folio && !msg.folio.free ? msg.folio : null;
  const id = msg.identity || {};
  const who = pageName(id);
  h.innerHTML = "";
  const b = document.createElement("b");
  b.textContent = msg.pfn != null ? `pfn ${msg.pfn}` : "not in RAM";
  h.append(b, ` ${who} · at step ${msg.step}${msg.pane ? ` · pane ${msg.pane === 1 ? "B" : "A"}` : ""}`);
  el.append(h);
  if (step != null && step !== msg.step) {
    const u = document.createElement("p");
    u.className = "muted updating";
    u.textContent = `updating to step ${step}…`;
    el.append(u);
  }
  const ps = msg.page_state;
  if (ps && ps.state && ps.state !== "resident") {
    const WHAT = { shadow: "evicted: a shadow entry remains in the page cache / swap slot", swap: "swapped out", swapcache: "in the swap cache", none: "not cached, no shadow" };
    const pairs = [["page state", WHAT[ps.state] ? `${ps.state} — ${WHAT[ps.state]}` : ps.state]];
    if (ps.workingset != null) pairs.push(["PG_workingset at eviction", ps.workingset ? "yes (a refault restores the workingset)" : "no"]);
    if (ps.shadow != null) pairs.push(["shadow entry", ps.shadow]);
    if (ps.eviction != null) pairs.push(["eviction stamp", ps.eviction]);
    if (ps.refault_distance != null) pairs.push(["refault distance", ps.refault_distance]);
    if (ps.workingset_size != null) pairs.push(["workingset size", ps.workingset_size]);
    const verdict = verdictOf(ps);
    if (verdict) pairs.push(["verdict", verdict]);
    for (const [k, v] of Object.entries(ps)) if (!["state", "where", "shadow", "eviction", "refault_distance", "workingset_size", "workingset", "recent"].includes(k)) pairs.push([k, v]);
    el.append(dl(pairs));
  }
  if (f) {
    const flags = document.createElement("span");
    // The engine names the set flags (a list); older shapes map name -> bool.
    const fl = Array.isArray(f.flags) ? Object.fromEntries(FLAG_ORDER.map((n) => [n, f.flags.includes(n)])) : f.flags || {};
    for (const name of FLAG_ORDER) {
      if (!(name in fl)) continue;
      const s = document.createElement("span");
      s.className = `flag${fl[name] ? "" : " off"}`;
      s.textContent = name.replace(/^PG_/, "");
      s.title = `${name} ${fl[name] ? "set" : "clear"}`;
      flags.append(s);
    }
    const onGen = f.gen != null && f.gen >= 0;
    const where = onGen ? `generation seq ${f.seq} (gen ${f.gen}) of ${f.type}` : f.list ?? f.location ?? (f.free ? "free" : null);
    const young = Array.isArray(f.young)
      ? f.young.map((y) => `mm ${y.mm}: ${y.young ? "young" : "old"}${y.dirty ? ", dirty" : ""}`).join("; ") || "not mapped"
      : f.young;
    // MGLRU's generations are a list per zone and scan_folios() takes the zone
    // above ZONE_DMA first (docs/kernels.md "Zones"); the classic lists are per node
    const zone = f.zone == null ? undefined
      : f.zone === "DMA" && onGen ? "ZONE_DMA — scan_folios() reaches its list only when the zone above cannot fill a batch"
        : f.zone === "DMA" ? "ZONE_DMA" : "the zone above ZONE_DMA";
    el.append(dl([
      ["where", where],
      ["zone", zone],
      ["type", f.type],
      // 7.3's large page-cache folio: one LRU entry, its state on the head page
      ["folio", f.order ? `${1 << f.order} pages, head pfn ${f.head}` : undefined],
      ["flags", flags],
      [onGen ? "tier · refs" : "refs", onGen ? `tier ${f.tier} · refs ${f.refs}` : f.refs != null ? String(f.refs) : undefined],
      ["PTEs", young],
      ["mapcount", f.mapcount],
      ["swap slot", f.swap_slot ?? f.swap],
    ]));
  } else if (id.pfn_then != null && ps && ps.state !== "resident") {
    const p = document.createElement("p");
    p.textContent = `Evicted from pfn ${id.pfn_then}${msg.folio && !msg.folio.free ? " (another folio holds that frame now)" : msg.folio?.free ? " (free now)" : ""}.`;
    el.append(p);
  } else if (msg.pfn != null) {
    const p = document.createElement("p");
    p.textContent = `pfn ${msg.pfn} is free now; ${who || "its last folio"} was the last folio there.`;
    el.append(p);
  }
  const hist = msg.history;
  const rows = [];
  for (let i = 0; i < (hist?.n ?? 0); i++) rows.push(eventRow(hist, i, names));
  // the last eviction's decision, with the numbers the rules read then
  const why = evictionWhy(rows);
  if (why) {
    const p = document.createElement("p");
    p.className = "why-evicted";
    p.append(Object.assign(document.createElement("b"), { textContent: "why evicted: " }), why);
    el.append(p);
  }
  if (!hist || !hist.n) {
    const t = document.createElement("p");
    t.className = "muted";
    t.textContent = `history (0 events): none up to this step${hist?.source === "replay" ? " (reconstructed by replay)" : hist?.source === "incomplete" ? " in the event ring, which no longer holds every step" : ""}`;
    el.append(t);
  } else {
    const t = document.createElement("p");
    t.innerHTML = "";
    const src = hist.source === "replay" ? ", reconstructed by replay" : hist.source === "incomplete" ? "; older steps are no longer in the event ring" : "";
    t.append(Object.assign(document.createElement("b"), { textContent: `history (${hist.n} events${hist.dropped ? `, ${hist.dropped} older not listed` : ""}${src})` }));
    if (hist.source === "replay") t.title = "the session's event ring no longer held every step of this folio, so the server replayed the history from step 0 (the engine is deterministic)";
    el.append(t);
    const ol = document.createElement("ol");
    for (const ev of rows) {
      const e = explainEvent(ev);
      const li = document.createElement("li");
      li.textContent = `step ${ev.step ?? "?"}: ${e.kind} — ${e.text}${e.why ? `; ${e.why}` : ""}${e.fn ? ` [${e.fn}]` : ""}`;
      ol.append(li);
    }
    el.append(ol);
  }
}

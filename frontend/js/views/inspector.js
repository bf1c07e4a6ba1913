// The folio inspector: flags, where the folio is, its whole history, and for
// an evicted folio its shadow entry and refault distance against the
// workingset size (what workingset_refault() will compare).
import { explainEvent } from "../explainEvent.js";
import { eventRow } from "../eventRow.js";

const FLAG_ORDER = ["PG_lru", "PG_active", "PG_referenced", "PG_workingset", "PG_swapbacked", "PG_dirty",
  "PG_writeback", "PG_reclaim", "PG_unevictable", "PG_mlocked", "PG_swapcache", "PG_anon", "PG_readahead"];

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

export function renderInspector(el, msg, names) {
  el.textContent = "";
  if (!msg) { const p = document.createElement("p"); p.className = "muted"; p.textContent = "Click a folio or an event."; el.append(p); return; }
  const h = document.createElement("p");
  // A free frame still reports its last folio: show it as "free now".
  const f = msg.folio && !msg.folio.free ? msg.folio : null;
  const id = msg.identity || {};
  const who = id.mapping != null ? (id.anon ? `anon mm ${id.mapping} vpn ${id.index}` : `file ${id.mapping} pgoff ${id.index}`) : "";
  h.innerHTML = "";
  const b = document.createElement("b");
  b.textContent = `pfn ${msg.pfn}`;
  h.append(b, ` ${who} · at step ${msg.step}${msg.pane ? ` · pane ${msg.pane === 1 ? "B" : "A"}` : ""}`);
  el.append(h);
  const ps = msg.page_state;
  if (ps && ps.state && ps.state !== "resident") {
    const WHAT = { shadow: "evicted: a shadow entry remains in the page cache / swap slot", swap: "swapped out", swapcache: "in the swap cache", none: "not cached, no shadow" };
    const pairs = [["page state", WHAT[ps.state] ? `${ps.state} — ${WHAT[ps.state]}` : ps.state]];
    if (ps.workingset != null) pairs.push(["PG_workingset at eviction", ps.workingset ? "yes (a refault restores the workingset)" : "no"]);
    if (ps.shadow != null) pairs.push(["shadow entry", ps.shadow]);
    if (ps.eviction != null) pairs.push(["eviction stamp", ps.eviction]);
    if (ps.refault_distance != null) pairs.push(["refault distance", ps.refault_distance]);
    if (ps.workingset_size != null) pairs.push(["workingset size", ps.workingset_size]);
    if (ps.refault_distance != null && ps.workingset_size != null) {
      pairs.push(["verdict", ps.refault_distance <= ps.workingset_size
        ? "distance ≤ workingset size: a refault now would be activated (workingset_refault)"
        : "distance > workingset size: a refault now stays inactive"]);
    }
    for (const [k, v] of Object.entries(ps)) if (!["state", "where", "shadow", "eviction", "refault_distance", "workingset_size", "workingset"].includes(k)) pairs.push([k, v]);
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
    el.append(dl([
      ["where", where],
      ["type", f.type],
      ["flags", flags],
      [onGen ? "tier · refs" : "refs", onGen ? `tier ${f.tier} · refs ${f.refs}` : f.refs != null ? String(f.refs) : undefined],
      ["PTEs", young],
      ["mapcount", f.mapcount],
      ["swap slot", f.swap_slot ?? f.swap],
    ]));
  } else {
    const p = document.createElement("p");
    p.textContent = `pfn ${msg.pfn} is free now; ${who || "its last folio"} was the last folio there.`;
    el.append(p);
  }
  const hist = msg.history;
  if (!hist || !hist.n) {
    const t = document.createElement("p");
    t.className = "muted";
    t.textContent = "history (0 events): none recorded up to this step";
    el.append(t);
  } else {
    const t = document.createElement("p");
    t.innerHTML = "";
    t.append(Object.assign(document.createElement("b"), { textContent: `history (${hist.n} events${hist.dropped ? `, ${hist.dropped} older dropped` : ""})` }));
    el.append(t);
    const ol = document.createElement("ol");
    for (let i = 0; i < hist.n; i++) {
      const ev = eventRow(hist, i, names);
      const e = explainEvent(ev);
      const li = document.createElement("li");
      li.textContent = `step ${ev.step ?? "?"}: ${e.kind} — ${e.text}${e.why ? `; ${e.why}` : ""}${e.fn ? ` [${e.fn}]` : ""}`;
      ol.append(li);
    }
    el.append(ol);
  }
}

// The event log of the current step: one row per engine event, with the
// decision, where the folio went, the reason and the kernel function.
// Rows are rebuilt only when the step's events change; selection only
// toggles classes.
import { DECISIONS } from "../decisions.js";
import { explainEvent } from "../explainEvent.js";

const MAX_ROWS = 600;
const built = new WeakMap();

export function renderEventLog(el, rows, { selectedPfn = null, selectedIndex = null, dropped = 0, onSelect = null, paneLabel = "", hiddenCount = 0 } = {}) {
  let cache = built.get(el);
  if (!cache || cache.rows !== rows) {
    el.textContent = "";
    const frag = document.createDocumentFragment();
    const items = [];
    // The end of a step is where its reclaim batch is: keep the newest rows.
    if (rows.length > MAX_ROWS) {
      const li = document.createElement("li");
      li.className = "more";
      li.textContent = `${rows.length - MAX_ROWS} earlier events of this step not listed.`;
      frag.append(li);
    }
    for (const ev of rows.slice(-MAX_ROWS)) {
      const e = explainEvent(ev);
      const d = DECISIONS[e.verb] || DECISIONS.other;
      const li = document.createElement("li");
      // Lruvec-wide events (kswapd wake, aging) name no folio: not selectable.
      if (ev.pfn != null && ev.pfn >= 0) {
        li.dataset.pfn = ev.pfn;
        li.tabIndex = 0;
      } else li.className = "lruvec";
      li.dataset.i = ev.i;
      const verb = document.createElement("span");
      verb.className = "verb";
      verb.style.color = d.colour === "#F0E442" ? "#7a7000" : d.colour;
      verb.textContent = `${d.glyph} ${d.label}`;
      const text = document.createElement("span");
      text.className = "what";
      text.textContent = `${paneLabel}${e.text}`;
      li.append(verb, text);
      if (e.why || e.fn) {
        const w = document.createElement("span");
        w.className = "why";
        w.textContent = e.why ? `${e.why} ` : "";
        if (e.fn) { const f = document.createElement("code"); f.className = "fn"; f.textContent = e.fn; w.append(f); }
        li.append(w);
      }
      li.title = e.line;
      frag.append(li);
      items.push(li);
    }
    if (dropped) {
      const li = document.createElement("li");
      li.className = "more";
      li.textContent = `${dropped} earlier events of this step were not sent by the server (max_events_per_frame).`;
      frag.prepend(li);
    }
    if (!rows.length) {
      const li = document.createElement("li");
      li.className = "more";
      li.textContent = hiddenCount ? `No reclaim decisions in this step (${hiddenCount} faults and accesses hidden).` : "No events in this step.";
      frag.append(li);
    }
    el.append(frag);
    cache = { rows, items, sel: [] };
    built.set(el, cache);
    if (onSelect) {
      el.onclick = (e) => {
        const li = e.target.closest("li[data-pfn]");
        if (li) onSelect(Number(li.dataset.pfn), Number(li.dataset.i));
      };
      el.onkeydown = (e) => {
        if (e.key !== "Enter") return;
        const li = e.target.closest("li[data-pfn]");
        if (li) onSelect(Number(li.dataset.pfn), Number(li.dataset.i));
      };
    }
  }
  for (const li of cache.sel) { li.classList.remove("sel"); li.removeAttribute("aria-current"); }
  cache.sel = [];
  if (selectedPfn != null) {
    let first = null;
    for (const li of cache.items) {
      if (Number(li.dataset.pfn) === selectedPfn) {
        // selected: highlighted, and said so (aria-current), not by colour alone
        li.classList.add("sel"); li.setAttribute("aria-current", "true"); cache.sel.push(li);
        if (!first || Number(li.dataset.i) === selectedIndex) first = li;
      }
    }
    if (first && first.scrollIntoView) first.scrollIntoView({ block: "nearest" });
  }
}

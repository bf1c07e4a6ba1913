// vmstat counters (cumulative and this step's delta) and meminfo, with the
// kernel's names; one column pair per pane. Rows whose delta is non-zero are
// highlighted. The table is rebuilt only when the set of rows changes.
const KEY = ["nr_free_pages", "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
  "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct", "pgactivate", "pgdeactivate",
  "pgrefill", "pgrotated", "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
  "workingset_activate_file", "pswpin", "pswpout", "pgmajfault", "allocstall_normal", "pageoutrun"];
const MEMINFO = ["MemTotal", "MemFree", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)", "SwapTotal", "SwapFree", "Cached", "Dirty"];

export function renderCounters(el, panes, { showAll = false } = {}) {
  if (!panes.length) return;
  const names = showAll ? Object.keys(panes[0].vmstat || {}) : KEY.filter((k) => k in (panes[0].vmstat || {}));
  const cols = panes.length;
  let table = el.querySelector("table.vmstat");
  const sig = `${cols}|${names.join(",")}`;
  if (!table || table.dataset.sig !== sig) {
    el.textContent = "";
    table = document.createElement("table");
    table.className = cols > 1 ? "vmstat compare" : "vmstat";
    table.dataset.sig = sig;
    const head = cols === 1 ? "<th>vmstat</th><th>total</th><th>Δ step</th>" : "<th>vmstat</th><th>A</th><th>Δ A</th><th>B</th><th>Δ B</th>";
    table.innerHTML = `<thead><tr>${head}</tr></thead><tbody></tbody>`;
    const body = table.tBodies[0];
    for (const n of names) {
      const tr = document.createElement("tr");
      tr.dataset.name = n;
      tr.innerHTML = `<td>${n}</td>` + "<td></td><td class=d></td>".repeat(cols);
      body.append(tr);
    }
    const mt = document.createElement("table");
    mt.className = "meminfo";
    mt.innerHTML = `<thead><tr><th>meminfo</th>${cols === 1 ? "<th>kB</th>" : "<th>A kB</th><th>B kB</th>"}</tr></thead><tbody>${MEMINFO.map((m) => `<tr data-name="${m}"><td>${m}</td>${"<td></td>".repeat(cols)}</tr>`).join("")}</tbody>`;
    const more = document.createElement("button");
    more.type = "button";
    more.className = "more-counters";
    more.textContent = showAll ? "show key counters" : "show all counters";
    more.dataset.all = showAll ? "1" : "0";
    el.append(table, mt, more);
  }
  // Cells are written only when their text changes: rewriting equal text
  // still makes the browser lay the page out again (bench/bench_browser.py).
  const put = (cell, text) => { if (cell.textContent !== text) cell.textContent = text; };
  for (const tr of table.tBodies[0].rows) {
    const n = tr.dataset.name;
    let changed = false;
    panes.forEach((p, i) => {
      const d = p.delta?.[n] ?? 0;
      if (d) changed = true;
      put(tr.cells[1 + 2 * i], (p.vmstat?.[n] ?? 0).toLocaleString("en-US"));
      put(tr.cells[2 + 2 * i], d ? `${d > 0 ? "+" : "−"}${Math.abs(d).toLocaleString("en-US")}` : "");
    });
    if (tr.classList.contains("changed") !== changed) tr.classList.toggle("changed", changed);
  }
  const mt = el.querySelector("table.meminfo");
  for (const tr of mt.tBodies[0].rows) {
    panes.forEach((p, i) => put(tr.cells[1 + i], p.meminfo?.[tr.dataset.name] != null ? p.meminfo[tr.dataset.name].toLocaleString("en-US") : "–"));
  }
}

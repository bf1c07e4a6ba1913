// vmstat counters (cumulative and this step's delta) and meminfo, with the
// kernel's names; one column pair per pane. Rows whose delta is non-zero are
// highlighted. The table is rebuilt only when the set of rows changes.

const EN = new Intl.NumberFormat("en-US");   // one formatter, not one per number

const KEY = ["nr_free_pages", "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
  "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct", "pgactivate", "pgdeactivate",
  "pgrefill", "pgrotated", "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
  "workingset_activate_file", "pswpin", "pswpout", "pgmajfault", "allocstall_movable", "pageoutrun"];
const MEMINFO = ["MemTotal", "MemFree", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)", "SwapTotal", "SwapFree", "Cached", "Dirty"];

// Per-file counters (the simulator's own: each file's share of pgpgin,
// workingset_refault_file and file pgsteal), the files with most reads first.
const MAX_FILES = 12;

function fileRows(panes, fileNames) {
  const ids = new Set();
  for (const p of panes) for (const id of Object.keys(p.files || {})) ids.add(id);
  const reads = (id) => Math.max(...panes.map((p) => p.files?.[id]?.reads ?? 0));
  return [...ids].sort((a, b) => reads(b) - reads(a) || Number(a) - Number(b)).slice(0, MAX_FILES)
    .map((id) => ({ id, name: fileNames?.[Number(id)] ?? `file ${id}` }));
}

export function renderCounters(el, panes, { showAll = false, fileNames = null } = {}) {
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
    const ft = document.createElement("table");
    ft.className = "files";
    el.append(table, mt, ft, more);
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
      put(tr.cells[1 + 2 * i], EN.format(p.vmstat?.[n] ?? 0));
      put(tr.cells[2 + 2 * i], d ? `${d > 0 ? "+" : "−"}${EN.format(Math.abs(d))}` : "");
    });
    if (tr.classList.contains("changed") !== changed) tr.classList.toggle("changed", changed);
  }
  const mt = el.querySelector("table.meminfo");
  for (const tr of mt.tBodies[0].rows) {
    panes.forEach((p, i) => put(tr.cells[1 + i], p.meminfo?.[tr.dataset.name] != null ? EN.format(p.meminfo[tr.dataset.name]) : "–"));
  }
  const ft = el.querySelector("table.files");
  const rows = fileRows(panes, fileNames);
  const fsig = `${cols}|${rows.map((r) => r.id).join(",")}`;
  if (ft.dataset.sig !== fsig) {
    ft.dataset.sig = fsig;
    const head = cols === 1 ? "<th>refaults</th><th>reads</th><th>evictions</th>"
      : "<th>A refaults</th><th>B refaults</th><th>A reads</th><th>B reads</th>";
    ft.innerHTML = rows.length ? `<thead><tr><th>per file</th>${head}</tr></thead><tbody></tbody>` : "";
    for (const r of rows) {
      const tr = document.createElement("tr");
      tr.dataset.file = r.name;
      const td = document.createElement("td");
      td.textContent = r.name;
      tr.append(td);
      for (let k = 0; k < (cols === 1 ? 3 : 4); k++) tr.append(document.createElement("td"));
      ft.tBodies[0].append(tr);
    }
  }
  if (!rows.length) return;
  const n = (p, id, key) => EN.format(p.files?.[id]?.[key] ?? 0);
  rows.forEach((r, j) => {
    const tr = ft.tBodies[0].rows[j];
    const vals = cols === 1 ? ["refaults", "reads", "evictions"].map((key) => n(panes[0], r.id, key))
      : [n(panes[0], r.id, "refaults"), n(panes[1], r.id, "refaults"), n(panes[0], r.id, "reads"), n(panes[1], r.id, "reads")];
    vals.forEach((v, k) => put(tr.cells[1 + k], v));
  });
}

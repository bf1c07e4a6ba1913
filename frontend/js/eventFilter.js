// The event log's search box: every word must match one event. Plain words
// match its kind, reason, kernel function, locations or text; `file=NAME|N`,
// `mm=NAME|N` and `off=A-B` (pgoff / vpn, or one number) match the page;
// `tier=N` matches a decision whose inputs name that MGLRU tier (sort_folio()'s
// protect / promote / isolate, a refault's shadow token).
// Anon mm ids are the trace's mm number + 3 in events (docs/engine-api.md);
// a folio that goes to or comes from an anon list or a swap slot is anon, one
// from a file list, a shadow or storage is file, MGLRU generation moves say
// neither (then both readings are tried).
const ANON = new Set(["LRU_INACTIVE_ANON", "LRU_ACTIVE_ANON", "swap"]);
const FILE = new Set(["LRU_INACTIVE_FILE", "LRU_ACTIVE_FILE", "shadow", "storage"]);

function ownerId(v, list) {
  if (/^\d+$/.test(v)) return Number(v);
  const i = (list || []).indexOf(v);
  return i >= 0 ? i : -1;
}

export function eventFilter(query, owners = {}) {
  const words = String(query || "").trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return null;
  const tests = words.map((w) => {
    const m = w.match(/^(file|mm|off|tier)=(.+)$/);
    if (!m) return (row, text) => text.includes(w);
    const [, key, v] = m;
    if (key === "tier") {
      const t = /^\d+$/.test(v) ? Number(v) : -1;
      return (row) => t >= 0 && row.tier === t;
    }
    if (key === "off") {
      const r = v.match(/^(\d+)(?:-(\d+))?$/);
      if (!r) return () => false;
      const lo = Number(r[1]);
      const hi = r[2] != null ? Number(r[2]) : lo;
      return (row) => row.pfn >= 0 && row.index >= lo && row.index <= hi;
    }
    const names = key === "file" ? owners.file : owners.mm;
    const exact = (names || []).find((n) => n.toLowerCase() === v);
    const id = ownerId(exact ?? v, names);
    return (row) => {
      if (row.pfn == null || row.pfn < 0 || id < 0) return false;
      const anon = ANON.has(row.src) || ANON.has(row.dst);
      const file = FILE.has(row.src) || FILE.has(row.dst);
      return key === "file" ? !anon && row.mapping === id : !file && row.mapping === id + 3;
    };
  });
  return (row, explained = "") => {
    const text = `${row.kind} ${row.reason} ${row.fn} ${row.src} ${row.dst} ${explained}`.toLowerCase();
    return tests.every((t) => t(row, text));
  };
}

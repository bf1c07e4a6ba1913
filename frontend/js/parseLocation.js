// Reads a share URL (/s/<id>?step=&folio=&view=) back into what to restore.
export function parseLocation(href) {
  const u = new URL(href);
  const m = u.pathname.match(/\/s\/([^/]+)\/?$/);
  const int = (k) => {
    const v = u.searchParams.get(k);
    return v != null && /^\d+$/.test(v) ? Number(v) : null;
  };
  // a-1: a booted guest's own anon pages (the folio answer's identity for them)
  const pm = (u.searchParams.get("page") || "").match(/^(a-1|[af]\d+)\.(\d+)$/);
  return {
    id: m ? decodeURIComponent(m[1]) : null,
    page: pm ? { anon: pm[1][0] === "a", mapping: Number(pm[1].slice(1)), index: Number(pm[2]) } : null,
    step: int("step"),
    folio: int("folio"),
    pane: int("pane") ?? 0,
    view: u.searchParams.get("view"),
  };
}

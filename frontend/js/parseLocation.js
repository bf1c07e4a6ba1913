// Reads a share URL (/s/<id>?step=&folio=&view=) back into what to restore.
export function parseLocation(href) {
  const u = new URL(href);
  const m = u.pathname.match(/\/s\/([^/]+)\/?$/);
  const int = (k) => {
    const v = u.searchParams.get(k);
    return v != null && /^\d+$/.test(v) ? Number(v) : null;
  };
  const pm = (u.searchParams.get("page") || "").match(/^([af])(\d+)\.(\d+)$/);
  return {
    id: m ? decodeURIComponent(m[1]) : null,
    page: pm ? { anon: pm[1] === "a", mapping: Number(pm[2]), index: Number(pm[3]) } : null,
    step: int("step"),
    folio: int("folio"),
    pane: int("pane") ?? 0,
    view: u.searchParams.get("view"),
  };
}

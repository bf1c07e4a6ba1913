// Share links follow DESIGN §4: /s/<session-id>?step=<n>[&folio=<pfn>][&page=<a|f><mapping>.<index>][&view=...]
// `page` names the inspected page itself (anon mm / file, vpn / pgoff), so a
// link to an evicted page shows that page, not its frame's next occupant.
// The owner token is never part of it.
export function shareUrl(origin, { id, step, folio = null, page = null, view = null, pane = null }) {
  const u = new URL(`/s/${encodeURIComponent(id)}`, origin);
  u.searchParams.set("step", String(step));
  if (folio != null) u.searchParams.set("folio", String(folio));
  if (page) u.searchParams.set("page", `${page.anon ? "a" : "f"}${page.mapping}.${page.index}`);
  if (view) u.searchParams.set("view", view);
  if (pane) u.searchParams.set("pane", String(pane));
  return u.toString();
}

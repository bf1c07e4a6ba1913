// Share links follow DESIGN §4: /s/<session-id>?step=<n>[&folio=<pfn>][&view=...]
// The owner token is never part of it.
export function shareUrl(origin, { id, step, folio = null, view = null, pane = null }) {
  const u = new URL(`/s/${encodeURIComponent(id)}`, origin);
  u.searchParams.set("step", String(step));
  if (folio != null) u.searchParams.set("folio", String(folio));
  if (view) u.searchParams.set("view", view);
  if (pane) u.searchParams.set("pane", String(pane));
  return u.toString();
}

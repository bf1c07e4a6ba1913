// REST calls under /api (docs/protocol.md §2); errors become Error objects
// whose message is the server's own words.
async function call(method, path, body, { form = false } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    if (form) init.body = body;
    else { init.body = JSON.stringify(body); init.headers["content-type"] = "application/json"; }
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    const d = data && data.detail;
    if (Array.isArray(d)) msg = d.map((e) => `${(e.loc || []).filter((x) => x !== "body").join(".")}: ${e.msg}`).join("; ");
    else if (typeof d === "string") msg = d;
    const err = new Error(msg);
    err.status = r.status;
    err.detail = d;
    throw err;
  }
  return data;
}

export const api = Object.freeze({
  scenarios: () => call("GET", "/api/scenarios"),
  policies: () => call("GET", "/api/policies"),
  limits: () => call("GET", "/api/limits"),
  session: (id) => call("GET", `/api/sessions/${encodeURIComponent(id)}`),
  createSession: (recipe) => call("POST", "/api/sessions", recipe),
  uploadSession: (recipe, file) => {
    const fd = new FormData();
    fd.append("recipe", JSON.stringify(recipe));
    fd.append("file", file);
    return call("POST", "/api/sessions/upload", fd, { form: true });
  },
  replays: () => call("GET", "/api/replays"),
  // holes: a traced boot's zone_normal_holes, null = the profile's median
  replaySession: (name, kernel, holes = null) => call("POST", `/api/replays/${encodeURIComponent(name)}/sessions`,
    holes == null ? { kernel } : { kernel, zone_normal_holes: holes }),
  series: (id) => call("GET", `/api/sessions/${encodeURIComponent(id)}/series`),
  permalink: (id, step) => call("POST", `/api/sessions/${encodeURIComponent(id)}/permalink`, { step }),
  fork: (id, step) => call("POST", `/api/sessions/${encodeURIComponent(id)}/fork`, { step }),
});

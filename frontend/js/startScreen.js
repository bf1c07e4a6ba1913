// The start screen: the recipe form (scenario or trace, policies, knobs),
// shown when the URL names no session; a created session opens in its page.
import { SHORTCUTS } from "./shortcuts.js";
import { tokenKey } from "./tokenKey.js";
import { mountStartForm } from "./views/startForm.js";

export async function startScreen({ dom, api, location, storage }) {
  dom.start.hidden = false;
  dom.app.hidden = true;
  globalThis.addEventListener?.("keydown", (e) => {
    if (e.key === "?" && !e.target.closest("input, select, textarea")) dom.help.hidden = !dom.help.hidden;
    if (e.key === "Escape") dom.help.hidden = true;
  });
  dom.helpOpen.addEventListener("click", () => { dom.help.hidden = !dom.help.hidden; });
  dom.helpTable.innerHTML = SHORTCUTS.filter((x) => x.label).map((x) => `<tr><td><kbd>${x.label}</kbd></td><td>${x.help}</td></tr>`).join("");
  let scenarios = [];
  let limits = {};
  let policies = [];
  let replays = [];
  try {
    // the replays are a third source; a server without them still starts sessions
    [scenarios, limits, policies, replays] = await Promise.all([api.scenarios(), api.limits().catch(() => ({})), api.policies(), api.replays().catch(() => [])]);
  } catch (err) {
    dom.startError.textContent = `could not load the scenario and policy lists: ${err.message}`;
  }
  mountStartForm(dom.startForm, {
    scenarios, limits, policies, replays,
    async onSubmit(recipe, values, replay) {
      dom.startError.textContent = "";
      dom.startSubmit.disabled = true;
      try {
        const r = values.source === "replay" ? await api.replaySession(replay.name, replay.kernel, replay.zone_normal_holes)
          : values.source === "trace" ? await api.uploadSession(recipe, values.trace_file) : await api.createSession(recipe);
        storage.setItem(tokenKey(r.id), r.owner_token);
        location.assign(`/s/${r.id}?step=0`);
      } catch (err) {
        dom.startError.textContent = err.message;
        dom.startSubmit.disabled = false;
      }
    },
  });
}

// The start form's third source, a real-kernel replay (pure): which replay
// and which kernel profile, and what to say beside the profile select. The
// machine and the policies are the replay's own (POST /api/replays/{name}/
// sessions: the rig's machine, the classic LRU beside MGLRU), so nothing
// else of the form applies but the guest's holes: blank, the profile's
// median, or what one traced boot kept (holesHint()). A profile the replay
// was not booted under can still be chosen: the panel then says "not
// replayed on" it.
import { optionalHoles } from "./validateRecipe.js";

export const REPLAY_POLICIES = ["lru", "lru_gen"];

// The profiles both panes' policies offer (GET /api/policies), as the
// kernel select lists them: {key: title}.
export function replayProfiles(policies = []) {
  const [a, b] = REPLAY_POLICIES.map((k) => policies.find((p) => p.key === k)?.kernel_profiles || {});
  return Object.fromEntries(Object.entries(a).filter(([k]) => k in b));
}

export function validateReplay(values, replays = [], policies = []) {
  const errors = {};
  const replay = replays.find((r) => r.name === values.replay) ?? null;
  if (!replay) errors.replay = replays.length ? "choose a replay" : "this server has no real-kernel replays (validation/ is not beside it)";
  const profiles = replayProfiles(policies);
  const kernel = values.kernel;
  if (!(kernel in profiles)) errors.kernel = `kernel profile must be one of ${Object.keys(profiles).join(", ")}`;
  const note = !replay || !(kernel in profiles) ? ""
    : !(replay.kernels || []).includes(kernel) ? `${replay.name} was not replayed on ${kernel} (only ${replay.kernels.join(", ")}): the panes run, the real column stays empty`
    // a kernel whose boots ran on the second host alone (GET /api/replays' second_host)
    : !(replay.runs || []).some((r) => r.kernel === kernel)
      ? `${replay.name} was booted on ${kernel} on a second host only: the panel shows that host's boots, with no ratio`
      : "";
  const [holes, holesError] = optionalHoles(values.zone_normal_holes, Number.MAX_SAFE_INTEGER);
  if (holesError) errors.zone_normal_holes = holesError;
  const ok = Object.keys(errors).length === 0;
  const request = ok ? { name: replay.name, kernel, ...(holes != null ? { zone_normal_holes: holes } : {}) } : null;
  return { ok, errors, note, request };
}

// What the holes field says: blank is the profile's median; a replay lists
// what its traced boots under `kernel` kept (GET /api/replays' holes, from
// validation/pageblocks.csv and kswapd-boosts.csv), each a value to pick.
// Returns {text, picks: [{holes, label}]}.
export function holesHint(replay, kernel, replays = []) {
  const medians = replay?.profile_holes ?? replays.find((r) => r.profile_holes)?.profile_holes ?? {};
  const policyName = { lru: "classic", lru_gen: "MGLRU" };
  if (!replay) {
    const list = Object.entries(medians).map(([k, v]) => `${k} ${v}`).join(" · ");
    return { text: `Blank: each kernel profile's median${list ? ` (${list} pages)` : ""}. A boot's own, read off its /proc/pagetypeinfo, puts the guest in that boot's regime: above the zone's low mark only the page allocator's fallbacks wake kswapd, by boosting the watermarks.`, picks: [] };
  }
  const boots = (replay.holes || []).filter((h) => h.kernel === kernel);
  const median = medians[kernel] != null ? `${kernel}'s median, ${medians[kernel]} pages` : "the profile's median";
  return {
    text: boots.length ? `Blank: ${median}. ${replay.name}'s traced boots on ${kernel} kept:`
      : `Blank: ${median}. No traced boot of ${replay.name} on ${kernel} recorded its holes.`,
    picks: boots.map((h) => ({ holes: h.holes, label: `${h.holes} (${policyName[h.policy] ?? h.policy}, ${h.tag})` })),
  };
}

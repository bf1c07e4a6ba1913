// The start form's third source, a real-kernel replay (pure): which replay
// and which kernel profile, and what to say beside the profile select. The
// machine and the policies are the replay's own (POST /api/replays/{name}/
// sessions: the rig's machine, the classic LRU beside MGLRU), so nothing
// else of the form applies. A profile the replay was not booted under can
// still be chosen: the panel then says "not replayed on" it.
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
  const note = replay && kernel in profiles && !(replay.kernels || []).includes(kernel)
    ? `${replay.name} was not replayed on ${kernel} (only ${replay.kernels.join(", ")}): the panes run, the real column stays empty`
    : "";
  const ok = Object.keys(errors).length === 0;
  return { ok, errors, note, request: ok ? { name: replay.name, kernel } : null };
}

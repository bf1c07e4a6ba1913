// Validates the start form as the user types (pure). Returns every field's
// error message, so each can be shown next to its field, and the recipe to
// send when there are none. Limits mirror the engine's (docs/engine-api.md)
// and are overridden by what the server announces. The policies and their
// knobs are what GET /api/policies describes (engine/registry.py): a knob's
// form field is named "<policy>.<knob>", and its values go into the recipe
// under the policy's key, only for a pane that runs that policy.
const SWAP_KINDS = ["none", "zram", "ssd", "hdd"];

export function intField(raw, { min, max, name, unit = "" }) {
  const s = String(raw ?? "").trim();
  if (s === "") return [null, `${name} is required`];
  if (!/^\d+$/.test(s)) return [null, `${name} must be a whole number${unit ? ` of ${unit}` : ""}`];
  const v = Number(s);
  if (v < min) return [null, `${name} must be at least ${min}${unit ? ` ${unit}` : ""}`];
  if (v > max) return [null, `${name} must be at most ${max.toLocaleString("en-US")}${unit ? ` ${unit}` : ""}`];
  return [v, null];
}

// The holes field (machine.zone_normal_holes, a guest's free pages in
// ZONE_DMA32's other migratetypes' pageblocks): [value, error], blank = null.
export function optionalHoles(raw, maxFrames) {
  if (String(raw ?? "").trim() === "") return [null, null];
  return intField(raw, { min: 0, max: maxFrames, name: "the holes", unit: "pages" });
}

export function validateRecipe(values, limits = {}, policies = []) {
  const maxFrames = limits.max_frames ?? 4 * 1024 * 1024;
  const maxAccesses = limits.max_accesses ?? 50_000_000;
  const errors = {};
  const out = {};
  const take = (key, raw, opts) => {
    const [v, err] = intField(raw, opts);
    if (err) errors[key] = err; else out[key] = v;
    return v;
  };

  if (values.source === "trace") {
    if (!values.trace_name) errors.trace = "choose a trace file to upload";
  } else if (!values.scenario) {
    errors.scenario = "choose a scenario";
  }
  const ramMb = take("ram_mb", values.ram_mb, { min: 1, max: Math.floor(maxFrames / 256), name: "RAM", unit: "MiB" });
  if (!SWAP_KINDS.includes(values.swap_kind)) errors.swap_kind = `swap kind must be one of ${SWAP_KINDS.join(", ")}`;
  const swapMb = take("swap_mb", values.swap_mb, { min: 0, max: 1 << 20, name: "swap size", unit: "MiB" });
  if (values.swap_kind === "none" && swapMb > 0) errors.swap_mb = "swap size must be 0 when swap kind is none";
  if (values.swap_kind && values.swap_kind !== "none" && swapMb === 0) errors.swap_mb = "a swap device needs a size above 0 MiB (or choose none)";
  take("swappiness", values.swappiness, { min: 0, max: 200, name: "swappiness" });
  take("seed", values.seed, { min: 0, max: 2 ** 32 - 1, name: "seed" });
  if (String(values.accesses ?? "").trim() !== "") {
    take("accesses", values.accesses, { min: 1, max: maxAccesses, name: "accesses" });
  }
  const byKey = new Map(policies.map((p) => [p.key, p]));
  const names = policies.map((p) => p.key).join(", ");
  const chosen = [values.policy, ...(values.compare ? [values.policy_b] : [])].filter((k) => byKey.has(k));
  const knobs = {};
  for (const key of new Set(chosen)) {
    knobs[key] = {};
    for (const [name, k] of Object.entries(byKey.get(key).knobs || {})) {
      const field = `${key}.${name}`;
      if (k.type === "bool") knobs[key][name] = values[field] ?? k.default;
      else {
        const raw = values[field] ?? String(k.default);
        knobs[key][name] = take(field, raw, { min: k.min ?? 0, max: k.max ?? Number.MAX_SAFE_INTEGER, name });
      }
    }
  }
  if (!byKey.has(values.policy)) errors.policy = `policy must be one of ${names}`;
  // each pane's kernel profile is one its policy's description lists
  const profiles = (key) => Object.keys(byKey.get(key)?.kernel_profiles || {});
  const kernel = values.kernel ?? byKey.get(values.policy)?.default_kernel;
  const kernelB = values.kernel_b ?? kernel;
  const badKernel = (key) => `kernel profile must be one of ${profiles(key).join(", ")}`;
  if (byKey.has(values.policy) && !profiles(values.policy).includes(kernel)) errors.kernel = badKernel(values.policy);
  if (values.compare) {
    if (!byKey.has(values.policy_b)) errors.policy_b = `second policy must be one of ${names}`;
    else if (!profiles(values.policy_b).includes(kernelB)) errors.kernel_b = badKernel(values.policy_b);
    else if (values.policy_b === values.policy && kernelB === kernel && !values.knobs_differ) {
      errors.policy_b = "compare two different policies or kernels (or change a knob of the second)";
    }
  }
  if (ramMb != null && swapMb != null && !errors.ram_mb && ramMb * 256 < 64) errors.ram_mb = "RAM must be at least 64 pages";
  // backend/recipes.py (engine/kernels.py GUEST_MIN_AVAILABLE_PAGES): a booted
  // guest has at least 32 MiB available, the smallest the rig was checked with
  if (values.guest && ramMb != null && ramMb < 32) errors.guest = "a booted guest needs RAM of at least 32 MiB";
  // a guest's holes: blank keeps each profile's median; the server checks
  // what each pane's zone can hold beside its claimable pageblocks
  const holes = values.guest ? optionalHoles(values.zone_normal_holes, maxFrames) : [null, null];
  if (holes[1]) errors.zone_normal_holes = holes[1];

  const ok = Object.keys(errors).length === 0;
  if (!ok) return { ok, errors, recipe: null };
  // Recipe shape of docs/protocol.md §2.1: a policy's knobs under its own key.
  const machine = {
    ram_pages: out.ram_mb * 256,
    swap_kind: values.swap_kind,
    swap_pages: out.swap_mb * 256,
    swappiness: out.swappiness,
    ...(values.guest ? { guest: true } : {}),
    ...(holes[0] != null ? { zone_normal_holes: holes[0] } : {}),
  };
  const entry = (policy, k) => (Object.keys(knobs[policy] || {}).length
    ? { policy, kernel: k, [policy]: { ...knobs[policy] } } : { policy, kernel: k });
  const panes = [entry(values.policy, kernel)];
  if (values.compare) panes.push(entry(values.policy_b, kernelB));
  const workload = values.source === "trace"
    ? {}
    : { scenario: values.scenario, params: {}, accesses: out.accesses ?? null };
  const recipe = { machine, workload, policies: panes, seed: out.seed };
  return { ok, errors, recipe };
}

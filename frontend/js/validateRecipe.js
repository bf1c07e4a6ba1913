// Validates the start form as the user types (pure). Returns every field's
// error message, so each can be shown next to its field, and the recipe to
// send when there are none. Limits mirror the engine's (docs/engine-api.md)
// and are overridden by what the server announces.
const SWAP_KINDS = ["none", "zram", "ssd", "hdd"];
const POLICIES = ["lru", "lru_gen"];
const KERNELS = ["6.1", "6.12", "7.3"];
const SWITCHES = ["pid_controller", "tiers", "look_around", "walk_mm", "bloom_filter"];

function intField(raw, { min, max, name, unit = "" }) {
  const s = String(raw ?? "").trim();
  if (s === "") return [null, `${name} is required`];
  if (!/^\d+$/.test(s)) return [null, `${name} must be a whole number${unit ? ` of ${unit}` : ""}`];
  const v = Number(s);
  if (v < min) return [null, `${name} must be at least ${min}${unit ? ` ${unit}` : ""}`];
  if (v > max) return [null, `${name} must be at most ${max.toLocaleString("en-US")}${unit ? ` ${unit}` : ""}`];
  return [v, null];
}

export function validateRecipe(values, limits = {}) {
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
  const anyMglru = values.policy === "lru_gen" || (values.compare && values.policy_b === "lru_gen");
  if (anyMglru) take("min_ttl_ms", values.min_ttl_ms, { min: 0, max: 60_000, name: "min_ttl_ms", unit: "ms" });
  if (!POLICIES.includes(values.policy)) errors.policy = "policy must be lru or lru_gen";
  const kernel = values.kernel ?? "7.3";
  const kernelB = values.kernel_b ?? kernel;
  if (!KERNELS.includes(kernel)) errors.kernel = `kernel profile must be one of ${KERNELS.join(", ")}`;
  if (values.compare) {
    if (!POLICIES.includes(values.policy_b)) errors.policy_b = "second policy must be lru or lru_gen";
    else if (!KERNELS.includes(kernelB)) errors.kernel_b = `kernel profile must be one of ${KERNELS.join(", ")}`;
    else if (values.policy_b === values.policy && kernelB === kernel && !values.knobs_differ) {
      errors.policy_b = "compare two different policies or kernels (or change a knob of the second)";
    }
  }
  if (ramMb != null && swapMb != null && !errors.ram_mb && ramMb * 256 < 64) errors.ram_mb = "RAM must be at least 64 pages";

  const ok = Object.keys(errors).length === 0;
  if (!ok) return { ok, errors, recipe: null };
  // Recipe shape of docs/protocol.md §2.1; MGLRU knobs only go with lru_gen.
  const lruGen = { min_ttl_ms: out.min_ttl_ms ?? 0 };
  for (const k of SWITCHES) lruGen[k] = values[k] !== false;
  const machine = {
    ram_pages: out.ram_mb * 256,
    swap_kind: values.swap_kind,
    swap_pages: out.swap_mb * 256,
    swappiness: out.swappiness,
  };
  const entry = (policy, k) => (policy === "lru_gen" ? { policy, kernel: k, lru_gen: { ...lruGen } } : { policy, kernel: k });
  const policies = [entry(values.policy, kernel)];
  if (values.compare) policies.push(entry(values.policy_b, kernelB));
  const workload = values.source === "trace"
    ? {}
    : { scenario: values.scenario, params: {}, accesses: out.accesses ?? null };
  const recipe = { machine, workload, policies, seed: out.seed };
  return { ok, errors, recipe };
}

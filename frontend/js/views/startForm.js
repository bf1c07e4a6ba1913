// The start form: scenarios with their "what to watch" paragraph, machine and
// policy knobs. Validates on every input (validateRecipe.js): each message
// sits next to its field and the submit button stays disabled while any
// field is invalid.
import { validateRecipe } from "../validateRecipe.js";
import { holesHint, REPLAY_POLICIES, replayProfiles, validateReplay } from "../validateReplay.js";
import { replayLabel, rigMachine } from "../realKernels.js";

function readValues(form) {
  const v = {};
  const fd = new FormData(form);
  for (const [k, val] of fd.entries()) if (typeof val === "string") v[k] = val;
  for (const cb of form.querySelectorAll("input[type=checkbox]")) v[cb.name] = cb.checked;
  const file = form.querySelector("input[type=file]")?.files?.[0];
  v.trace_name = file ? file.name : "";
  v.trace_file = file || null;
  return v;
}

// The policy selects and one fieldset of knobs per policy that has knobs, all
// from the policies' own descriptions (GET /api/policies). A knob's field is
// named "<policy>.<knob>"; a fieldset is shown while a pane runs its policy.
function mountPolicies(form, policies) {
  const selects = [form.querySelector("#f-policy"), form.querySelector("#f-policy-b")];
  // A: the kernel's newer policy, B: its older one (registry order), as the
  // form always offered; any installed policy can be chosen
  const kernel = policies.filter((p) => p.kernel);
  const preferred = [kernel[kernel.length - 1]?.key, kernel[0]?.key];
  selects.forEach((sel, i) => {
    sel.textContent = "";
    for (const p of policies) {
      const o = document.createElement("option");
      o.value = p.key;
      o.textContent = `${p.title} (${p.key})`;
      o.title = p.follows || p.title;
      sel.append(o);
    }
    const want = policies.find((p) => p.key === preferred[i]) || policies[Math.min(i, policies.length - 1)];
    if (want) sel.value = want.key;
  });
  const box = form.querySelector("#policy-knobs");
  box.textContent = "";
  for (const p of policies) {
    const entries = Object.entries(p.knobs || {});
    if (!entries.length) continue;
    const fs = document.createElement("fieldset");
    fs.className = "policy-knobs";
    fs.dataset.policy = p.key;
    const legend = document.createElement("legend");
    legend.textContent = `${p.title} knobs`;
    fs.append(legend);
    for (const [name, k] of entries) {
      const field = `${p.key}.${name}`;
      if (k.type === "bool") {
        const label = document.createElement("label");
        const cb = document.createElement("input");
        cb.type = "checkbox"; cb.name = field; cb.checked = !!k.default;
        label.title = k.help || "";
        label.append(cb, ` ${name}`);
        fs.append(label);
      } else {
        const div = document.createElement("div");
        div.className = "field inline";
        const id = `f-${p.key}-${name}`;
        const label = document.createElement("label");
        label.htmlFor = id; label.textContent = name; label.title = k.help || "";
        const input = document.createElement("input");
        input.id = id; input.name = field; input.inputMode = "numeric"; input.value = String(k.default);
        const err = document.createElement("p");
        err.className = "field-error"; err.dataset.for = field;
        div.append(label, input, err);
        fs.append(div);
      }
    }
    box.append(fs);
  }
}

// A pane's kernel profile select offers what its policy's description lists
// (kernel_profiles, by title); rebuilt when the pane's policy changes, keeping
// the chosen profile where the new policy has it.
function fillKernels(sel, info) {
  if (!info || sel.dataset.policy === info.key) return;
  sel.dataset.policy = info.key;
  const keep = sel.value;
  const profiles = info.kernel_profiles || {};
  sel.textContent = "";
  for (const [key, title] of Object.entries(profiles)) {
    const o = document.createElement("option");
    o.value = key;
    o.textContent = title;
    sel.append(o);
  }
  sel.value = keep in profiles ? keep : info.default_kernel;
}

// The replays' select: each by name and the kernels it was booted under.
function mountReplays(form, replays, scenarios) {
  const sel = form.querySelector("#f-replay");
  sel.textContent = "";
  for (const r of replays) {
    const o = document.createElement("option");
    o.value = r.name;
    o.textContent = replayLabel(r, scenarios);
    sel.append(o);
  }
  // without replays the source cannot be chosen (the server has no validation/)
  const radio = form.querySelector('input[name=source][value=replay]');
  radio.disabled = !replays.length;
  radio.parentElement.title = replays.length ? radio.parentElement.title : "this server has no real-kernel replays (validation/ is not beside it)";
}

// What a replay steps: its scenario and parameters (the trace's export line).
function replayHint(r) {
  if (!r) return "";
  const ps = Object.entries(r.params || {}).map(([k, v]) => `${k} = ${v}`).join(", ");
  return `${r.scenario ?? "a trace made by hand (validation/)"}${ps ? ` (${ps})` : ""} · ${Number(r.accesses || 0).toLocaleString("en-US")} accesses` +
    ` · booted ${r.runs.length} times: ${r.kernels.join(", ")}, classic and MGLRU`;
}

export function mountStartForm(form, { scenarios, limits, policies = [], replays = [], onSubmit }) {
  mountPolicies(form, policies);
  mountReplays(form, replays, scenarios);
  const list = form.querySelector("#scenario-list");
  list.textContent = "";
  scenarios.forEach((s, i) => {
    const label = document.createElement("label");
    label.className = "scenario";
    const input = document.createElement("input");
    input.type = "radio"; input.name = "scenario"; input.value = s.name;
    if (i === 0) input.checked = true;
    const b = document.createElement("b"); b.textContent = ` ${s.name}`;
    const title = document.createElement("span"); title.textContent = s.title ? ` — ${s.title}` : "";
    const p = document.createElement("p"); p.textContent = s.watch || "";
    // Its knobs with their ranges and its default run length (GET /api/scenarios).
    const params = document.createElement("p");
    params.className = "params";
    const ps = Object.entries(s.params || {}).map(([k, d]) => `${k} = ${d.default} (${d.min}–${d.max}${d.help ? `: ${d.help}` : ""})`);
    params.textContent = `default run: ${Number(s.default_accesses || 0).toLocaleString("en-US")} accesses at 256 MiB (scaled with RAM)` +
      (ps.length ? ` · parameters: ${ps.join("; ")}` : "");
    label.append(input, b, title, p, params);
    list.append(label);
  });
  const submit = form.querySelector("#start-submit");
  const ramHint = form.querySelector("#ram-hint");
  const replaying = () => form.querySelector("input[name=source]:checked")?.value === "replay";
  // A replay is the rig's machine with classic beside MGLRU: only its
  // kernel profile is chosen here, from what both policies offer.
  const replayKernels = { key: "replay", kernel_profiles: replayProfiles(policies), default_kernel: policies.find((p) => REPLAY_POLICIES.includes(p.key))?.default_kernel };
  // The guest's holes: shown for a booted guest and a replay, with the
  // profiles' medians or the replay's traced boots' values to pick
  const holesField = form.querySelector("#holes-field");
  const holesInput = form.querySelector("#f-holes");
  const holesPicks = form.querySelector("#holes-picks");
  function showHoles(shown, replay, kernel) {
    holesField.hidden = !shown;
    holesInput.disabled = !shown;
    if (!shown) return;
    const { text, picks } = holesHint(replay, kernel, replays);
    form.querySelector("#holes-hint").textContent = text;
    const key = picks.map((p) => p.label).join("|");
    if (holesPicks.dataset.key === key) return;
    holesPicks.dataset.key = key;
    holesPicks.textContent = "";
    for (const p of picks) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "pick";
      b.textContent = p.label;
      b.title = `give the guest the ${p.holes} pages this boot kept`;
      b.addEventListener("click", () => {
        holesInput.value = String(p.holes);
        holesInput.dispatchEvent(new Event("input", { bubbles: true }));
      });
      holesPicks.append(" ", b);
    }
  }
  function checkReplay() {
    fillKernels(form.querySelector("#f-kernel"), replayKernels);
    const r = replays.find((x) => x.name === form.querySelector("#f-replay").value);
    // before readValues(): a disabled field is not in the form's values
    showHoles(true, r ?? null, form.querySelector("#f-kernel").value);
    const values = readValues(form);
    const res = validateReplay(values, replays, policies);
    form.querySelector("#replay-hint").textContent = replayHint(r);
    form.querySelector("#kernel-replay-note").textContent = res.note;
    form.querySelector("#machine-replay").textContent = `A replay runs on the rig's machine, a booted guest with ${r ? rigMachine(r.machine) : "64 MiB available"}; only its holes may be another boot's.`;
    for (const p of form.querySelectorAll(".field-error[data-for]")) p.textContent = res.errors[p.dataset.for] || "";
    submit.disabled = !res.ok;
    return { res, values };
  }
  function sourceFields(source) {
    const replay = source === "replay";
    form.querySelector("#trace-field").hidden = source !== "trace";
    form.querySelector("#replay-field").hidden = !replay;
    list.hidden = source !== "scenario";
    // the trace fixes the run; the rig fixed the machine and the policies
    for (const id of ["#accesses-field", "#seed-field", "#compare-field", "#policy-knobs"]) form.querySelector(id).hidden = replay;
    // hidden, not only greyed: the form's values are not the rig's
    const machine = form.querySelector("#machine-fields");
    machine.disabled = replay;
    machine.hidden = replay;
    form.querySelector("#machine-replay").hidden = !replay;
    form.querySelector("#policy-replay").hidden = !replay;
    // pane A's policy is the classic LRU: the select would say otherwise
    for (const id of ["#f-policy", "#f-policy-label", "#policy-follows"]) form.querySelector(id).hidden = replay;
    form.querySelector("#f-policy").disabled = replay;
    form.querySelector("#kernel-replay-note").hidden = !replay;
  }
  const check = () => {
    sourceFields(readValues(form).source);
    if (replaying()) return checkReplay();
    const pick = (id, key) => fillKernels(form.querySelector(id), policies.find((p) => p.key === key));
    pick("#f-kernel", form.querySelector("#f-policy").value);
    pick("#f-kernel-b", form.querySelector("#f-policy-b").value);
    showHoles(form.querySelector("#f-guest").checked, null, null);
    const values = readValues(form);
    form.querySelector("#f-policy-b").disabled = !values.compare;
    form.querySelector("#f-kernel-b").disabled = !values.compare;
    // Only the knobs of the policies the panes run are shown (and sent).
    const running = new Set([values.policy, ...(values.compare ? [values.policy_b] : [])]);
    for (const fs of form.querySelectorAll(".policy-knobs")) {
      fs.disabled = !running.has(fs.dataset.policy);
      fs.hidden = fs.disabled;
    }
    const chosen = policies.find((p) => p.key === values.policy);
    form.querySelector("#policy-follows").textContent = chosen?.follows ? `${chosen.title} follows ${chosen.follows}` : "";
    const res = validateRecipe(values, limits || {}, policies);
    for (const p of form.querySelectorAll(".field-error[data-for]")) {
      const msg = res.errors[p.dataset.for] || "";
      p.textContent = msg;
      const input = form.querySelector(`[name="${p.dataset.for}"]`);
      if (input && input.type !== "radio") {
        input.setAttribute("aria-invalid", msg ? "true" : "false");
        if (!p.id) p.id = `err-${p.dataset.for}`;
        input.setAttribute("aria-describedby", p.id);
      }
    }
    const ram = Number(values.ram_mb);
    ramHint.textContent = Number.isFinite(ram) && ram > 0
      ? (values.guest
        ? `${(ram * 256).toLocaleString("en-US")} pages available, plus the guest's own (~2.2k frames)`
        : `${(ram * 256).toLocaleString("en-US")} page frames${ram * 256 > 16384 ? " — drawn aggregated (zoom in to see single folios)" : " — every folio drawn individually"}`)
      : "";
    submit.disabled = !res.ok;
    return { res, values };
  };
  form.addEventListener("input", check);
  form.addEventListener("change", check);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const { res, values } = check();
    if (res.ok) onSubmit(res.recipe, values, res.request);
  });
  check();
  return { check };
}

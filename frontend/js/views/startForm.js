// The start form: scenarios with their "what to watch" paragraph, machine and
// policy knobs. Validates on every input (validateRecipe.js): each message
// sits next to its field and the submit button stays disabled while any
// field is invalid.
import { validateRecipe } from "../validateRecipe.js";

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

export function mountStartForm(form, { scenarios, limits, onSubmit }) {
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
  const check = () => {
    const values = readValues(form);
    form.querySelector("#trace-field").hidden = values.source !== "trace";
    list.hidden = values.source === "trace";
    form.querySelector("#f-policy-b").disabled = !values.compare;
    form.querySelector("#f-kernel-b").disabled = !values.compare;
    // The knobs only exist for MGLRU: greyed out when no pane runs it.
    const mglru = values.policy === "lru_gen" || (values.compare && values.policy_b === "lru_gen");
    form.querySelector(".mglru-knobs").disabled = !mglru;
    const res = validateRecipe(values, limits || {});
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
      ? `${(ram * 256).toLocaleString("en-US")} page frames${ram * 256 > 16384 ? " — drawn aggregated (zoom in to see single folios)" : " — every folio drawn individually"}`
      : "";
    submit.disabled = !res.ok;
    return { res, values };
  };
  form.addEventListener("input", check);
  form.addEventListener("change", check);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const { res, values } = check();
    if (res.ok) onSubmit(res.recipe, values);
  });
  check();
  return { check };
}

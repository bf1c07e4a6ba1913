// The real-kernel replays (GET /api/replays, docs/validation.md) beside a
// session that steps one of their traces: which replay a recipe is, and per
// pane the real boots' counters against the pane's own (pure, no DOM).
// The counters are validation/validate.py counters()'s, from a vmstat dict.
import { fmt } from "./format.js";

// TOL and SMALL are validate.py's: a cell is judged only when either side
// reaches SMALL (the guest's own tmpfs swaps 1-1.7k pages under pressure),
// and a judged ratio outside 1 ± TOL is shown bold.
export const TOL = 0.20;
export const SMALL = 2000;

// The counters the panel shows, with the label a reader knows them by.
export const REAL_COUNTERS = Object.freeze([
  { key: "pgscan", label: "pgscan (kswapd+direct)" },
  { key: "pgsteal", label: "pgsteal (kswapd+direct)" },
  { key: "pswpin", label: "pswpin" },
  { key: "file_in", label: "file reads" },
  { key: "workingset_refault_file", label: "workingset_refault_file" },
]);

// pgpgin counts KiB read from storage: the swap-ins taken out, pages of the
// data disk remain (validate.py counters()).
export function fileIn(v) {
  return Math.floor(Math.max(0, (v.pgpgin ?? 0) - 4 * (v.pswpin ?? 0)) / 4);
}

export function paneCounters(v = {}) {
  return {
    pgscan: (v.pgscan_kswapd ?? 0) + (v.pgscan_direct ?? 0),
    pgsteal: (v.pgsteal_kswapd ?? 0) + (v.pgsteal_direct ?? 0),
    pswpin: v.pswpin ?? 0,
    file_in: fileIn(v),
    workingset_refault_file: v.workingset_refault_file ?? 0,
  };
}

// The replay a session steps: its recipe's trace is the replay's own file
// (the same bytes have the same trace_id, whoever uploaded them).
export function replayOf(recipe, replays) {
  const id = recipe?.workload?.trace_id;
  if (!id || !Array.isArray(replays)) return null;
  return replays.find((r) => r.trace_id === id) ?? null;
}

// Where a session's machine is not the rig's (an upload of a replay's file
// on another machine): each differing field as "name value ≠ rig's", so the
// panel can say its numbers do not compare. The server stores recipes with
// every machine field filled in, so a missing one differs too.
export function machineDiff(machine = {}, rig = {}) {
  return Object.keys(rig).filter((k) => machine[k] !== rig[k]).map((k) => `${k} ${machine[k] ?? "unset"} ≠ ${rig[k]}`);
}

// A session given its guest's holes (machine.zone_normal_holes, e.g. one
// traced boot's): what the panel says, since the boots it compares with kept
// their own, which the rig did not record. "" when the profile's median ran.
export function holesNote(machine = {}, replay = {}, kernels = []) {
  if (machine.zone_normal_holes == null) return "";
  const medians = [...new Set(kernels)].filter((k) => replay.profile_holes?.[k] != null)
    .map((k) => `${k}'s median is ${fmt.count(replay.profile_holes[k])}`);
  return `This guest was given ${fmt.count(machine.zone_normal_holes)} free pages in ZONE_DMA32's other migratetypes' pageblocks` +
    `${medians.length ? ` (${medians.join(", ")})` : ""}; the boots below kept their own, which the rig did not record.`;
}

// validate.py ratio_text(), keeping the number where it has one: {text, bold, small}.
export function ratioCell(sim, real) {
  const small = Math.max(sim, real) < SMALL;
  if (real === 0) return { text: sim === 0 ? "–" : "new", bold: !small, small };
  const r = sim / real;
  return { text: r.toFixed(2), bold: !small && Math.abs(r - 1) > TOL + 1e-9, small };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const byTag = (a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

// One pane's table: {boots: ["r1", ...], rows: [{key, label, real: [..],
// realMean, sim, ratio, second: [..]}]}; `replayed` false (and no rows' real
// numbers, `why` says so) when the replay was not booted under the pane's
// kernel with its policy. `second`: the same machine's boots on a second
// host (replay.second_host, docs/validation.md "A second host"), shown, not
// in the mean the ratio is over. `done`: the pane is at the trace's end, so
// its counters compare with the whole replay's; `comparable`: the session
// runs the rig's machine (machineDiff()), else there is no ratio to show.
export function realRows(replay, { policy, kernel }, vmstat, done, comparable = true) {
  const mine = (r) => r.kernel === kernel && r.policy === policy;
  const runs = (replay?.runs || []).filter(mine).sort(byTag);
  const others = (replay?.second_host?.runs || []).filter(mine).sort(byTag);
  const now = paneCounters(vmstat || {});
  const rows = REAL_COUNTERS.map(({ key, label }) => {
    const real = runs.map((r) => r.counters[key]);
    const realMean = real.length ? mean(real) : null;
    const sim = now[key];
    return { key, label, real, realMean, sim, second: others.map((r) => r.counters[key]),
      ratio: done && comparable && realMean != null ? ratioCell(sim, realMean) : null };
  });
  // why a pane has no boots: the rig booted only the kernel's own two policies
  const why = runs.length ? "" : others.length ? `booted on ${kernel} on the second host only`
    : (replay?.runs || []).some((r) => r.policy === policy) ? `not replayed on ${kernel}` : `no real boot runs ${policy}`;
  return { replayed: runs.length > 0, why, boots: runs.map((r) => r.tag), releases: [...new Set(runs.map((r) => r.release))],
    second: others.length ? { host: replay.second_host.host, boots: others.map((r) => r.tag) } : null, rows };
}

const mib = (pages) => Math.round(pages / 256);

// The rig's machine (backend/replays.py: a recipe's `machine`) in words.
export function rigMachine(machine = {}) {
  const swap = machine.swap_kind === "none" || !machine.swap_pages ? "no swap"
    : `a ${mib(machine.swap_pages)} MiB ${machine.swap_kind === "zram" ? "zram swap" : "swap disk"}`;
  return `${mib(machine.ram_pages ?? 0)} MiB available, ${swap}, swappiness ${machine.swappiness ?? 60}`;
}

export function rigLine(machine) {
  return `Debian kernels booted in QEMU with ${rigMachine(machine)} (docs/validation.md)`;
}

// The start form's label of a replay: its name, the kernels it was booted
// under and, where its scenario is a built-in one, that scenario's title.
export function replayLabel(replay, scenarios = []) {
  const sc = scenarios.find((x) => x.name === replay.scenario);
  const changed = paramsChanged(replay, sc);
  // a scenario's title states its defaults ("Zipf(0.99) over an anon set of
  // 1.4x RAM"): a trace exported with others is named by what it changed
  const what = changed.length ? `${sc.name} with ${changed.map(([k, v]) => `${k} ${v}`).join(", ")}` : sc?.title;
  return `${replay.name} (${(replay.kernels || []).join(", ")})${what ? ` — ${what}` : ""}`;
}

// [[param, the trace's value, the scenario's default], ...] for each parameter
// the replay's trace was exported with that is not the scenario's default
export function paramsChanged(replay, scenario) {
  const defs = scenario?.params || {};
  return Object.entries(replay?.params || {})
    .filter(([k, v]) => defs[k] && Number(defs[k].default) !== Number(v))
    .map(([k, v]) => [k, v, defs[k].default]);
}

// Under a built-in scenario's "What to watch": the real-kernel replays of
// that scenario, which the start form opens with the rig's counters beside
// the panes ("" when there is none, or the session already steps one).
export function replayNote(scenario, replays = [], recipe = null) {
  if (replayOf(recipe, replays)) return "";
  const mine = (replays || []).filter((r) => r.scenario === scenario);
  if (!mine.length) return "";
  // each replay on its own guest: the rig sized some for 128 MiB, with longer traces
  const which = mine.map((r) => `${r.name} (${(r.kernels || []).join(", ")}; ` +
    `${mib(r.machine?.ram_pages ?? 0)} MiB available, ${Number(r.accesses || 0).toLocaleString("en-US")} accesses)`).join("; ");
  return `The real kernels replayed this scenario on the rig: ${which}. ` +
    "Start it as \"a real-kernel replay\" to see their counters beside the panes (docs/validation.md).";
}

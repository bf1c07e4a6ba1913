import { test } from "node:test";
import assert from "node:assert/strict";
import { fileIn, holesNote, machineDiff, paneCounters, paramsChanged, ratioCell, realRows, replayLabel, replayOf, rigLine, REAL_COUNTERS, SMALL, TOL } from "../../frontend/js/realKernels.js";
import { holesHint, replayProfiles, validateReplay } from "../../frontend/js/validateReplay.js";

// A replay as GET /api/replays serves it (backend/replays.py), two boots of
// the classic LRU on 6.1 and one of MGLRU on 7.3.
const counters = (o) => ({ pgscan: 0, pgsteal: 0, pswpin: 0, file_in: 0, pswpout: 0, workingset_refault_anon: 0, workingset_refault_file: 0, pgactivate: 0, ...o });
const REPLAY = {
  name: "zipf-mixed", scenario: "zipf-mixed", params: { alpha: 0.99 }, accesses: 300000, trace_id: "abc123",
  machine: { ram_pages: 64 * 256, guest: true, swap_kind: "ssd", swap_pages: 256 * 256, swappiness: 60, readahead_pages: 32 },
  kernels: ["6.1", "7.3"],
  runs: [
    { kernel: "6.1", release: "6.1.0-56-amd64", policy: "lru", tag: "r2", counters: counters({ pgscan: 50000, pgsteal: 40000, pswpin: 9000, file_in: 30000, workingset_refault_file: 1000 }) },
    { kernel: "6.1", release: "6.1.0-56-amd64", policy: "lru", tag: "r1", counters: counters({ pgscan: 70000, pgsteal: 60000, pswpin: 11000, file_in: 10000, workingset_refault_file: 3000 }) },
    { kernel: "7.3", release: "7.3.1-1-amd64", policy: "lru_gen", tag: "r1", counters: counters({ pgscan: 90000, pgsteal: 80000, pswpin: 100, file_in: 500, workingset_refault_file: 0 }) },
  ],
  simulated: [],
};

test("file reads: pgpgin (KiB) less the swap-ins' pages, in pages, as validate.py counters() computes them", () => {
  assert.equal(fileIn({ pgpgin: 4000, pswpin: 100 }), (4000 - 4 * 100) / 4);
  // pgpgin rounds down to whole pages, and swap-ins alone never go below 0
  assert.equal(fileIn({ pgpgin: 10, pswpin: 0 }), 2);
  assert.equal(fileIn({ pgpgin: 8, pswpin: 5 }), 0);
  assert.equal(fileIn({}), 0);
});

test("a pane's counters: kswapd and direct reclaim together, as the rig's summary columns", () => {
  const v = { pgscan_kswapd: 700, pgscan_direct: 300, pgsteal_kswapd: 600, pgsteal_direct: 200, pswpin: 12, pgpgin: 4 * 12 + 4 * 50, workingset_refault_file: 33 };
  assert.deepEqual(paneCounters(v), { pgscan: 1000, pgsteal: 800, pswpin: 12, file_in: 50, workingset_refault_file: 33 });
  assert.deepEqual(REAL_COUNTERS.map((c) => c.key), Object.keys(paneCounters(v)));
});

test("a session is a replay's when its trace is the replay's file (trace_id), whoever uploaded it", () => {
  const other = { ...REPLAY, name: "file-loop", trace_id: "def456" };
  assert.equal(replayOf({ workload: { trace_id: "def456" } }, [REPLAY, other]), other);
  assert.equal(replayOf({ workload: { trace_id: "nope" } }, [REPLAY, other]), null);
  assert.equal(replayOf({ workload: { scenario: "zipf-mixed" } }, [REPLAY]), null);
  assert.equal(replayOf({ workload: { trace_id: "abc123" } }, null), null);
});

test("sim/real: validate.py's tolerance and its not-judged small counts", () => {
  assert.deepEqual(ratioCell(5000, 5000), { text: "1.00", bold: false, small: false });
  // the bounds themselves are inside (validate.py adds 1e-9)
  assert.equal(ratioCell((1 + TOL) * 10000, 10000).bold, false);
  assert.equal(ratioCell((1 - TOL) * 10000, 10000).bold, false);
  assert.equal(ratioCell(12100, 10000).bold, true);
  assert.equal(ratioCell(7900, 10000).bold, true);
  // both under SMALL: the number is kept, not judged
  const half = Math.floor((SMALL - 1) / 2);
  assert.deepEqual(ratioCell(half, SMALL - 1), { text: (half / (SMALL - 1)).toFixed(2), bold: false, small: true });
  // one side at SMALL is judged
  assert.equal(ratioCell(SMALL, 1).small, false);
  assert.deepEqual(ratioCell(SMALL * 3, 0), { text: "new", bold: true, small: false });
  assert.deepEqual(ratioCell(0, 0), { text: "–", bold: false, small: true });
});

test("a pane's table: the boots in tag order, the pane's counters, and sim/real over the boots' mean only at the end", () => {
  const vmstat = { pgscan_kswapd: 55000, pgscan_direct: 5000, pgsteal_kswapd: 30000, pgsteal_direct: 0, pswpin: 10000, pgpgin: 4 * 10000 + 4 * 21000, workingset_refault_file: 1500 };
  const boots = REPLAY.runs.filter((r) => r.kernel === "6.1" && r.policy === "lru").sort((a, b) => a.tag.localeCompare(b.tag));
  const before = realRows(REPLAY, { policy: "lru", kernel: "6.1" }, vmstat, false);
  assert.equal(before.replayed, true);
  assert.deepEqual(before.boots, ["r1", "r2"]);
  assert.deepEqual(before.releases, ["6.1.0-56-amd64"]);
  const now = paneCounters(vmstat);
  for (const row of before.rows) {
    assert.deepEqual(row.real, boots.map((b) => b.counters[row.key]));
    assert.equal(row.sim, now[row.key]);
    assert.equal(row.ratio, null, `${row.key}: no ratio before the trace's end`);
  }
  const end = realRows(REPLAY, { policy: "lru", kernel: "6.1" }, vmstat, true);
  for (const row of end.rows) {
    const mean = (boots[0].counters[row.key] + boots[1].counters[row.key]) / 2;
    assert.equal(row.realMean, mean);
    assert.deepEqual(row.ratio, ratioCell(now[row.key], mean));
  }
  // file reads: 21,000 against the boots' 20,000 is inside; pgsteal 30,000 against 50,000 is not
  assert.equal(end.rows.find((r) => r.key === "file_in").ratio.bold, false);
  assert.equal(end.rows.find((r) => r.key === "pgsteal").ratio.bold, true);
});

test("a pane under a kernel the replay was not booted on has no real numbers and no ratio", () => {
  const t = realRows(REPLAY, { policy: "lru", kernel: "6.12" }, { pgscan_kswapd: 5 }, true);
  assert.equal(t.replayed, false);
  assert.deepEqual(t.boots, []);
  for (const row of t.rows) { assert.deepEqual(row.real, []); assert.equal(row.realMean, null); assert.equal(row.ratio, null); }
  assert.equal(t.rows[0].sim, 5);
  // the policy matters as much as the kernel: 7.3 has MGLRU boots only
  assert.equal(realRows(REPLAY, { policy: "lru", kernel: "7.3" }, {}, true).replayed, false);
  assert.equal(realRows(REPLAY, { policy: "lru_gen", kernel: "7.3" }, {}, true).replayed, true);
});

test("a second host's boots are shown beside the first's and kept out of the mean the ratio is over", () => {
  const second = {
    host: "an AMD EPYC host of 2 cores (2026-12-07)",
    runs: [
      { kernel: "6.1", release: "6.1.0-56-amd64", policy: "lru", tag: "h2", counters: counters({ pgscan: 1000000, pgsteal: 7, file_in: 9 }) },
      { kernel: "6.12", release: "6.12.117+deb13-amd64", policy: "lru", tag: "h2", counters: counters({ pgscan: 4242 }) },
    ],
  };
  const replay = { ...REPLAY, kernels: ["6.1", "6.12", "7.3"], second_host: second };
  const vmstat = { pgscan_kswapd: 60000 };
  const t = realRows(replay, { policy: "lru", kernel: "6.1" }, vmstat, true);
  assert.deepEqual(t.second, { host: second.host, boots: ["h2"] });
  const scan = t.rows.find((r) => r.key === "pgscan");
  assert.deepEqual(scan.second, [1000000]);
  // the mean is the first host's r1 and r2 alone, and so is the ratio
  assert.equal(scan.realMean, 60000);
  assert.deepEqual(scan.ratio, ratioCell(60000, 60000));
  // a kernel booted on the second host only: no first-host numbers, the reason, the second host's
  const only = realRows(replay, { policy: "lru", kernel: "6.12" }, vmstat, true);
  assert.equal(only.replayed, false);
  assert.equal(only.why, "booted on 6.12 on the second host only");
  assert.deepEqual(only.rows.find((r) => r.key === "pgscan").second, [4242]);
  assert.equal(only.rows.find((r) => r.key === "pgscan").ratio, null);
  // a replay without second_host (an older server) has none
  assert.equal(realRows(REPLAY, { policy: "lru", kernel: "6.1" }, vmstat, true).second, null);
  assert.deepEqual(realRows(REPLAY, { policy: "lru", kernel: "6.1" }, vmstat, true).rows[0].second, []);
});

test("a session on another machine than the rig's: what differs, and no ratio even at the end", () => {
  assert.deepEqual(machineDiff({ ...REPLAY.machine }, REPLAY.machine), []);
  assert.deepEqual(machineDiff({ ...REPLAY.machine, swap_kind: "zram", guest: false }, REPLAY.machine),
    ["guest false ≠ true", "swap_kind zram ≠ ssd"]);
  assert.deepEqual(machineDiff({ ram_pages: REPLAY.machine.ram_pages }, { ram_pages: REPLAY.machine.ram_pages, guest: true }), ["guest unset ≠ true"]);
  const t = realRows(REPLAY, { policy: "lru", kernel: "6.1" }, { pgscan_kswapd: 60000 }, true, false);
  assert.equal(t.replayed, true);
  assert.deepEqual(t.rows[0].real, [70000, 50000]);
  for (const row of t.rows) assert.equal(row.ratio, null);
});

test("why a pane has no real numbers: the kernel, or a policy the rig never booted", () => {
  assert.equal(realRows(REPLAY, { policy: "lru", kernel: "7.3" }, {}, true).why, "not replayed on 7.3");
  assert.equal(realRows(REPLAY, { policy: "clock", kernel: "6.1" }, {}, true).why, "no real boot runs clock");
  assert.equal(realRows(REPLAY, { policy: "lru", kernel: "6.1" }, {}, true).why, "");
});

test("the rig in one line, from the replay's machine", () => {
  assert.equal(rigLine(REPLAY.machine), "Debian kernels booted in QEMU with 64 MiB available, a 256 MiB swap disk, swappiness 60 (docs/validation.md)");
  assert.match(rigLine({ ...REPLAY.machine, swap_kind: "zram", swap_pages: 8192 }), /a 32 MiB zram swap/);
  assert.match(rigLine({ ...REPLAY.machine, swap_kind: "none", swap_pages: 0 }), /, no swap,/);
});

const POLICIES = [
  { key: "lru", kernel_profiles: { "6.1": "Linux 6.1", "6.12": "Linux 6.12", "7.3": "Linux 7.3" } },
  { key: "lru_gen", kernel_profiles: { "6.12": "Linux 6.12", "7.3": "Linux 7.3" } },
  { key: "clock", kernel_profiles: { "5.0": "Linux 5.0" } },
];

test("the start form's replay: its label, the profiles both panes offer, and the note for a kernel it was not booted on", () => {
  assert.equal(replayLabel(REPLAY, [{ name: "zipf-mixed", title: "Zipf(0.99) over anon and file sets" }]), "zipf-mixed (6.1, 7.3) — Zipf(0.99) over anon and file sets");
  assert.equal(replayLabel({ ...REPLAY, scenario: null }, [{ name: "zipf-mixed", title: "x" }]), "zipf-mixed (6.1, 7.3)");
  assert.deepEqual(Object.keys(replayProfiles(POLICIES)), ["6.12", "7.3"]);
  const ok = validateReplay({ replay: "zipf-mixed", kernel: "7.3" }, [REPLAY], POLICIES);
  assert.deepEqual(ok, { ok: true, errors: {}, note: "", request: { name: "zipf-mixed", kernel: "7.3" } });
  const not = validateReplay({ replay: "zipf-mixed", kernel: "6.12" }, [REPLAY], POLICIES);
  assert.equal(not.ok, true);
  assert.match(not.note, /^zipf-mixed was not replayed on 6\.12 \(only 6\.1, 7\.3\)/);
  // booted on 6.12 by the second host alone: the note says so, and what the panel shows
  const second = { ...REPLAY, kernels: ["6.1", "6.12", "7.3"], second_host: { host: "h", runs: [] } };
  assert.equal(validateReplay({ replay: "zipf-mixed", kernel: "6.12" }, [second], POLICIES).note,
    "zipf-mixed was booted on 6.12 on a second host only: the panel shows that host's boots, with no ratio");
  assert.equal(validateReplay({ replay: "zipf-mixed", kernel: "7.3" }, [second], POLICIES).note, "");
  assert.match(validateReplay({ replay: "zipf-mixed", kernel: "6.1" }, [REPLAY], POLICIES).errors.kernel, /one of 6\.12, 7\.3/);
  assert.equal(validateReplay({ replay: "nope", kernel: "7.3" }, [REPLAY], POLICIES).errors.replay, "choose a replay");
  assert.match(validateReplay({ kernel: "7.3" }, [], POLICIES).errors.replay, /no real-kernel replays/);
});

test("a replay session may take a traced boot's holes: blank sends none, a bad count is named, the hint lists the boots under the kernel", () => {
  const r = { ...REPLAY, profile_holes: { "6.1": 172, "6.12": 227, "7.3": 264 },
    holes: [{ kernel: "7.3", release: "7.3.4+deb13-amd64", policy: "lru", tag: "ks", holes: 398, source: "kswapd-boosts.csv" },
      { kernel: "7.3", release: "7.3.4+deb13-amd64", policy: "lru_gen", tag: "ks", holes: 315, source: "kswapd-boosts.csv" },
      { kernel: "6.1", release: "6.1.0-56-amd64", policy: "lru", tag: "pt1", holes: 172, source: "pageblocks.csv" }] };
  assert.deepEqual(validateReplay({ replay: "zipf-mixed", kernel: "7.3", zone_normal_holes: " 398 " }, [r], POLICIES).request,
    { name: "zipf-mixed", kernel: "7.3", zone_normal_holes: 398 });
  assert.deepEqual(validateReplay({ replay: "zipf-mixed", kernel: "7.3", zone_normal_holes: "" }, [r], POLICIES).request,
    { name: "zipf-mixed", kernel: "7.3" });
  const bad = validateReplay({ replay: "zipf-mixed", kernel: "7.3", zone_normal_holes: "-5" }, [r], POLICIES);
  assert.equal(bad.ok, false);
  assert.match(bad.errors.zone_normal_holes, /whole number of pages/);
  const h = holesHint(r, "7.3", [r]);
  assert.equal(h.text, "Blank: 7.3's median, 264 pages. zipf-mixed's traced boots on 7.3 kept:");
  assert.deepEqual(h.picks, [{ holes: 398, label: "398 (classic, ks)" }, { holes: 315, label: "315 (MGLRU, ks)" }]);
  assert.match(holesHint(r, "6.12", [r]).text, /No traced boot of zipf-mixed on 6\.12/);
  assert.equal(holesNote({ ...r.machine, zone_normal_holes: 398 }, r, ["7.3", "7.3"]),
    "This guest was given 398 free pages in ZONE_DMA32's other migratetypes' pageblocks (7.3's median is 264); the boots below kept their own, which the rig did not record.");
  assert.equal(holesNote(r.machine, r, ["7.3"]), "", "the profile's median: nothing to say");
  // a booted guest outside a replay: the profiles' medians, from any replay listed
  assert.match(holesHint(null, null, [r]).text, /^Blank: each kernel profile's median \(6\.1 172 · 6\.12 227 · 7\.3 264 pages\)/);
});

test("a replay exported with other parameters than its scenario's defaults is named by them, not by the scenario's title", () => {
  const sc = { name: "zipf-anon", title: "Zipf(0.99) over an anon set of 1.4x RAM",
    params: { size: { default: 1.4 }, s: { default: 0.99 }, write_ratio: { default: 0.3 } } };
  const r = { ...REPLAY, name: "zipf-anon-s0.8", scenario: "zipf-anon", params: { s: 0.8, size: 1.1, write_ratio: 0.3 } };
  assert.deepEqual(paramsChanged(r, sc), [["s", 0.8, 0.99], ["size", 1.1, 1.4]]);
  assert.equal(replayLabel(r, [sc]), "zipf-anon-s0.8 (6.1, 7.3) — zipf-anon with s 0.8, size 1.1");
  // the defaults, or a parameter the scenario does not know: the title stands
  const same = { ...r, params: { s: 0.99, size: 1.4, write_ratio: 0.3, seed_extra: 7 } };
  assert.deepEqual(paramsChanged(same, sc), []);
  assert.equal(replayLabel(same, [sc]), "zipf-anon-s0.8 (6.1, 7.3) — Zipf(0.99) over an anon set of 1.4x RAM");
  assert.deepEqual(paramsChanged(null, sc), []);
  assert.deepEqual(paramsChanged(r, undefined), []);
});

test("Copy as text of a replay session: the replay's file on the command line and the rig's counters beside each pane's, sim/real at the end", async () => {
  const { mailText } = await import("../../frontend/js/mailText.js");
  const recipe = { machine: REPLAY.machine, workload: { trace_id: "abc123" }, policies: [{ policy: "lru", kernel: "6.1" }, { policy: "lru_gen", kernel: "6.1" }], seed: 1 };
  const vm = { pgscan_kswapd: 66000, pgscan_direct: 0, pgsteal_kswapd: 48000, pgsteal_direct: 2000, pswpin: 10000, pgpgin: 4 * 10000 + 4 * 20000, workingset_refault_file: 2000 };
  const pane = (i, policy, done) => ({ pane: i, policy, step: 9, nrAccess: 300000, done, vmstat: vm });
  const t = mailText({ recipe, panes: [pane(0, "lru", true), pane(1, "lru_gen", true)], real: { replay: REPLAY, comparable: true } });
  const flat = t.replace(/\s+/g, " ");
  assert.match(t, /Machine: 16,384 pages RAM available on a booted guest of each pane's kernel/);
  assert.match(t, /--trace validation\/traces\/zipf-mixed\.trace\.gz/);
  assert.doesNotMatch(t, /save it from GET/);
  assert.match(flat, /On the real kernels: zipf-mixed replayed by Debian kernels booted in QEMU with 64 MiB available, a 256 MiB swap disk, swappiness 60/);
  assert.match(t, /pane A, lru under 6\.1, real r1 \/ r2 against step 9 \(the trace's end\):/);
  // pgscan 66,000 against the boots' mean 60,000: 1.10, inside the band
  assert.match(t, /pgscan \(kswapd\+direct\)\s+70,000 \/ 50,000\s+66,000\s+1\.10\n/);
  // file reads 20,000 against 20,000; pswpin 10,000 against 10,000
  assert.match(t, /file reads\s+10,000 \/ 30,000\s+20,000\s+1\.00\n/);
  // pgsteal 50,000 against 50,000; workingset_refault_file 2,000 against 2,000: small, not judged
  assert.match(t, /workingset_refault_file\s+3,000 \/ 1,000\s+2,000\s+1\.00\n/);
  assert.match(t, /pane B, lru_gen under 6\.1: not replayed on 6\.1/);
  assert.ok(t.split("\n").every((l) => l.length <= 80), "80 columns");
  // before the end: no ratio; on another machine: no ratio and it says why
  const early = mailText({ recipe, panes: [pane(0, "lru", false), pane(1, "lru_gen", false)], real: { replay: REPLAY, comparable: true } });
  assert.match(early, /pgscan \(kswapd\+direct\)\s+70,000 \/ 50,000\s+66,000\s*\n/);
  const other = mailText({ recipe, panes: [pane(0, "lru", true), pane(1, "lru_gen", true)], real: { replay: REPLAY, comparable: false } });
  assert.match(other, /not the rig's: no ratio/);
  assert.match(other, /pgscan \(kswapd\+direct\)\s+70,000 \/ 50,000\s+66,000\s*\n/);
});

test("Copy as text names the second host's boots under each pane's table, outside the mean", async () => {
  const { mailText } = await import("../../frontend/js/mailText.js");
  const host = "an AMD EPYC host of 2 cores (2026-12-07)";
  const replay = { ...REPLAY, second_host: { host, runs: [
    { kernel: "6.1", release: "6.1.0-56-amd64", policy: "lru", tag: "h2", counters: counters({ pgscan: 123456, pgsteal: 2, pswpin: 3, file_in: 4 }) }] } };
  const recipe = { machine: REPLAY.machine, workload: { trace_id: "abc123" }, policies: [{ policy: "lru", kernel: "6.1" }, { policy: "lru_gen", kernel: "6.1" }] };
  const vm = { pgscan_kswapd: 66000 };
  const pane = (i, policy) => ({ pane: i, policy, step: 9, nrAccess: 300000, done: true, vmstat: vm });
  const t = mailText({ recipe, panes: [pane(0, "lru"), pane(1, "lru_gen")], real: { replay, comparable: true } });
  const flat = t.replace(/\s+/g, " ");
  assert.match(flat, /on an AMD EPYC host of 2 cores \(2026-12-07\) \(h2, not in the mean\): pgscan 123,456, pgsteal 2, pswpin 3, file_in 4, workingset_refault_file 0/);
  // the ratio is still over the first host's boots: 66,000 against 60,000
  assert.match(t, /pgscan \(kswapd\+direct\)\s+70,000 \/ 50,000\s+66,000\s+1\.10\n/);
  // MGLRU has no second-host boot on 6.1: nothing added under pane B
  assert.equal(t.match(/not in the mean/g).length, 1);
  assert.ok(t.split("\n").every((l) => l.length <= 80), "80 columns");
});

test("a bold (outside the band) ratio is starred in the text", async () => {
  const { mailText } = await import("../../frontend/js/mailText.js");
  const recipe = { machine: REPLAY.machine, workload: { trace_id: "abc123" }, policies: [{ policy: "lru", kernel: "6.1" }] };
  const vm = { pgscan_kswapd: 90000, pgsteal_kswapd: 50000, pswpin: 10000, pgpgin: 4 * 10000 + 4 * 20000, workingset_refault_file: 2000 };
  const t = mailText({ recipe, panes: [{ pane: 0, policy: "lru", step: 3, nrAccess: 5, done: true, vmstat: vm }], real: { replay: REPLAY, comparable: true } });
  assert.match(t, /pgscan \(kswapd\+direct\)\s+70,000 \/ 50,000\s+90,000\s+1\.50\*\n/);
  assert.match(t, /\* outside 0\.80-1\.20/);
});

test("a built-in scenario's What to watch names its real-kernel replays, unless the session steps one", async () => {
  const { replayNote } = await import("../../frontend/js/realKernels.js");
  const note = replayNote("zipf-mixed", [REPLAY, { ...REPLAY, name: "other", scenario: "file-loop", trace_id: "x" }], { workload: { scenario: "zipf-mixed" } });
  assert.equal(note, 'The real kernels replayed this scenario on the rig: zipf-mixed (6.1, 7.3; 64 MiB available, 300,000 accesses). '
    + 'Start it as "a real-kernel replay" to see their counters beside the panes (docs/validation.md).');
  // a replay on a guest sized for 128 MiB says so, with its own length
  const big = { ...REPLAY, name: "zipf-mixed-128m", accesses: 600000, machine: { ...REPLAY.machine, ram_pages: 128 * 256 } };
  assert.match(replayNote("zipf-mixed", [REPLAY, big], { workload: { scenario: "zipf-mixed" } }),
    /zipf-mixed \(6\.1, 7\.3; 64 MiB available, 300,000 accesses\); zipf-mixed-128m \(6\.1, 7\.3; 128 MiB available, 600,000 accesses\)\. /);
  assert.equal(replayNote("anon-loop", [REPLAY], { workload: { scenario: "anon-loop" } }), "");
  assert.equal(replayNote("zipf-mixed", [REPLAY], { workload: { trace_id: "abc123" } }), "");
  assert.equal(replayNote("zipf-mixed", [], null), "");
});

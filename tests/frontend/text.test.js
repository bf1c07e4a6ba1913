import { test } from "node:test";
import assert from "node:assert/strict";
import { mailText } from "../../frontend/js/mailText.js";
import { simulateCommand } from "../../frontend/js/simulateCommand.js";
import { explainEvent } from "../../frontend/js/explainEvent.js";
import { fmt } from "../../frontend/js/format.js";
import { validateRecipe as validateRecipeWith } from "../../frontend/js/validateRecipe.js";
import { shareUrl } from "../../frontend/js/shareUrl.js";
import { parseLocation } from "../../frontend/js/parseLocation.js";
import { decisionOf } from "../../frontend/js/decisionOf.js";
import { agingShort, agingSentence } from "../../frontend/js/agingText.js";

const longReason = "FOLIOREF_ACTIVATE: referenced twice while on the inactive list, so it goes back to the head of the active list instead of being reclaimed";
const events = Array.from({ length: 30 }, (_, i) => ({
  pfn: 1000 + i, kind: i % 2 ? "pgactivate" : "mm_vmscan_lru_isolate", reason: longReason,
  fn: "folio_check_references", src: "LRU_INACTIVE_FILE", dst: i % 2 ? "LRU_ACTIVE_FILE" : "isolated", src_seq: -1, dst_seq: -1,
}));

test("the mail text: two panes with B - A, full counter names, the command line, folded events, 80 columns", () => {
  const recipe = { machine: { ram_pages: 2048, swap_kind: "zram", swap_pages: 1024, swappiness: 60, readahead_pages: 0, watermarks: null },
    workload: { scenario: "stream-hot-file", params: {}, accesses: 20000 }, policies: [{ policy: "lru" }, { policy: "lru_gen" }], seed: 3 };
  const a = { pane: 0, policy: "lru", step: 42, nrAccess: 123456, listCounts: { LRU_INACTIVE_FILE: 30000, LRU_ACTIVE_FILE: 4 },
    vmstat: { pgscan_kswapd: 500, kswapd_high_wmark_hit_quickly: 1234567, nr_vmscan_immediate_reclaim: 0, pgactivate: 12 } };
  const b = { pane: 1, policy: "lru_gen", step: 42, nrAccess: 123456, lruGenText: "memcg     0     \n node     0\n          4      1234      1000        2048 " + "x".repeat(90) + "\n",
    vmstat: { pgscan_kswapd: 300, kswapd_high_wmark_hit_quickly: 7, nr_vmscan_immediate_reclaim: 0, pgactivate: 20 } };
  const folio = { pane: 1, pfn: 9, step: 42, identity: { mapping: 1, index: 72, anon: false, name: "stream.log" },
    page_state: { state: "shadow", eviction: 5, gens_since_eviction: 2, recent: true },
    history: { n: 1, source: "replay", step: [40], pfn: [9], mapping: [1], index: [72], seq: [1], kind: [0], reason: [0], fn: [0], src: [0], dst: [0], src_seq: [-1], dst_seq: [-1] } };
  const names = { event_kinds: ["pgsteal"], reasons: ["freed"], kernel_fns: ["shrink_folio_list"], locations: ["isolated"] };
  const t = mailText({ recipe, link: "http://127.0.0.1:8000/s/habc?step=42", panes: [a, b], folio, events: [events, []], names,
    infos: [{ title: "active/inactive LRU", lists: {} }, { title: "multi-gen LRU (MGLRU)", debugfs: "lru_gen" }] });
  for (const l of t.split("\n")) assert.ok(l.length <= 80, `too long (${l.length}): ${l}`);
  assert.ok(/^[\x00-\x7f]*$/.test(t), "ASCII only");
  assert.match(t, /kswapd_high_wmark_hit_quickly +1,234,567 +7 +-1,234,560/, "the full name and B - A");
  assert.match(t, /pgscan_kswapd +500 +300 +-200/);
  assert.doesNotMatch(t, /nr_vmscan_immediate_reclaim/, "zero in both panes");
  const cmd = t.replace(/ \\\n +/g, " ");   // the shell line, its continuations joined
  assert.match(cmd, /reclaimlab simulate --scenario stream-hot-file --policy lru,lru_gen --ram-mb 8 --bare --swap-kind zram --swap-mb 4 --swappiness 60 --read-ahead-kb 0 --seed 3 --accesses 20000\n/);
  assert.match(t, /Folio: file stream.log pgoff 72, pfn 9, at step 42 in pane B/);
  assert.match(t, /reconstructed by replay/);
  assert.match(t, /15x pgactivate/, "30 events, two sentences: folded");
  assert.match(t, /cat \/sys\/kernel\/debug\/lru_gen \(pane B\)/);
  assert.match(t, /LRU_INACTIVE_FILE +30,000/);
});

test("simulateCommand says what the command line cannot set", () => {
  const r = { machine: { ram_pages: 1000, swap_kind: "none", readahead_pages: 8 }, workload: { scenario: "anon-loop", params: { hot: 0.5 } },
    policies: [{ policy: "lru_gen", lru_gen: { tiers: false } }], seed: 1 };
  const c = simulateCommand(r);
  assert.equal(c.line, "reclaimlab simulate --scenario anon-loop --policy lru_gen --swap-kind none --read-ahead-kb 32 --seed 1 --param hot=0.5");
  assert.deepEqual(c.why, ["lru_gen knobs", "ram_pages 1000 (not whole MiB)"]);
  const k = simulateCommand({ machine: {}, workload: { scenario: "x" }, policies: [{ policy: "lru", kernel: "6.1" }, { policy: "lru", kernel: "7.3" }] });
  assert.match(k.line, /--policy lru --kernel 6.1,7.3/);
});

test("simulateCommand: knobs the start form sent at their defaults are what the CLI runs, so they need no recipe JSON", () => {
  const infos = [{ knobs: { tiers: { type: "bool", default: true }, min_ttl_ms: { type: "int", default: 0 } } }, { knobs: {} }];
  const recipe = (knobs) => ({ machine: {}, workload: { scenario: "x" }, seed: 1,
    policies: [{ policy: "lru_gen", lru_gen: knobs }, { policy: "lru" }] });
  assert.deepEqual(simulateCommand(recipe({ tiers: true, min_ttl_ms: 0 }), { infos }).why, []);
  assert.deepEqual(simulateCommand(recipe({ tiers: true, min_ttl_ms: 1000 }), { infos }).why, ["lru_gen knobs"]);
  // without the description the knobs cannot be told from defaults
  assert.deepEqual(simulateCommand(recipe({ tiers: true })).why, ["lru_gen knobs"]);
});

test("the mail text quotes the debugfs file the pane's policy describes, and only then", () => {
  const recipe = { machine: {}, workload: { scenario: "anon-loop" }, policies: [{ policy: "lru_gen" }], seed: 1 };
  const pane = { pane: 0, policy: "lru_gen", step: 3, nrAccess: 1, vmstat: {}, lruGenText: "memcg     0     \n node     0\n" };
  const t = mailText({ recipe, panes: [pane], infos: [{ title: "multi-gen LRU (MGLRU)", debugfs: "lru_gen" }] });
  assert.match(t, /# cat \/sys\/kernel\/debug\/lru_gen\n/);
  assert.match(t, /memcg {5}0/);
  // with should_run_aging()'s verdict on those generations, in 80 columns
  const aging = { age: false, why: "balanced", young: 1979, old: 16179, total: 18158, min_seq: 3, max_seq: 5 };
  const withAging = mailText({ recipe, panes: [{ ...pane, gens: { aging } }], infos: [{ title: "multi-gen LRU (MGLRU)", debugfs: "lru_gen" }] });
  assert.match(withAging.replace(/\n/g, " "), /node {5}0 should_run_aging\(\): 3 generations, oldest \(seq 3\) 16,179 x 4/);
  assert.ok(withAging.split("\n").every((l) => l.length <= 80));
  assert.doesNotMatch(t, /should_run_aging/);
  // a policy without a debugfs interface: its text (if any) is not quoted
  const none = mailText({ recipe, panes: [{ ...pane, listCounts: { LRU_INACTIVE_FILE: 2 } }], infos: [{ title: "X" }] });
  assert.doesNotMatch(none, /debug/);
  assert.match(none, /LRU list sizes \(pages\), X:/);
});

test("the mail text names a plug-in policy's lists as it describes them and says how to load it", () => {
  const recipe = { machine: {}, workload: { scenario: "anon-loop" }, policies: [{ policy: "clock_py" }], seed: 1 };
  const pane = { pane: 0, policy: "clock_py", step: 1, nrAccess: 1, vmstat: {}, listCounts: { LRU_INACTIVE_ANON: 3, LRU_INACTIVE_FILE: 9 } };
  const info = { title: "CLOCK (second chance, Python)", language: "python", lists: { LRU_INACTIVE_FILE: "clock ring (file)" } };
  const t = mailText({ recipe, panes: [pane], infos: [info] });
  assert.match(t, /LRU list sizes \(pages\), CLOCK \(second chance, Python\):/);
  assert.match(t, /LRU_INACTIVE_FILE +9  clock ring \(file\)/);
  assert.match(t, /LRU_INACTIVE_ANON +3\n/);
  assert.match(t, /--policy clock_py/);
  assert.match(t, /clock_py: a Python policy; add --policies DIR/);
  assert.doesNotMatch(mailText({ recipe, panes: [pane], infos: [{ ...info, language: "cython" }] }), /--policies/);
  for (const l of t.split("\n")) assert.ok(l.length <= 80, `too long: ${l}`);
});

test("explainEvent names the decision, the move, the reason and the kernel function", () => {
  const e = explainEvent({ pfn: 7, kind: "pgactivate", reason: "FOLIOREF_ACTIVATE: referenced twice", fn: "folio_check_references", src: "isolated", dst: "LRU_ACTIVE_FILE" });
  assert.equal(e.verb, "activate");
  assert.match(e.text, /folio 7 .*LRU_ACTIVE_FILE/);
  assert.equal(e.fn, "folio_check_references()");
  assert.match(e.line, /referenced twice/);
  const g = explainEvent({ pfn: 9, kind: "folio_inc_gen", src: "gen", dst: "gen", src_seq: 4, dst_seq: 5, fn: "sort_folio" });
  assert.equal(g.verb, "promote");
  assert.match(g.text, /gen seq 5/);
  assert.equal(explainEvent({ pfn: 1, kind: "pgsteal", dst: "free" }).verb, "reclaim");
  assert.equal(explainEvent({ pfn: 1, kind: "pswpout", dst: "swap" }).verb, "swapout");
});

test("decisionOf ranks a folio's events in a step: isolate then steal is a reclaim", () => {
  const d = decisionOf([
    { pfn: 5, kind: "mm_vmscan_lru_isolate", src: "LRU_INACTIVE_FILE", dst: "isolated" },
    { pfn: 5, kind: "pgsteal", src: "isolated", dst: "free" },
    { pfn: 6, kind: "mm_vmscan_lru_isolate", src: "LRU_INACTIVE_FILE", dst: "isolated" },
    { pfn: 6, kind: "pgactivate", src: "isolated", dst: "LRU_ACTIVE_FILE" },
  ]);
  assert.equal(d.get(5).verb, "reclaim");
  assert.equal(d.get(6).verb, "activate");
  assert.equal(d.get(6).first.src, "LRU_INACTIVE_FILE");
  assert.equal(d.get(6).last.dst, "LRU_ACTIVE_FILE");
  const anon = decisionOf([
    { pfn: 8, kind: "mm_vmscan_lru_isolate", src: "LRU_INACTIVE_ANON", dst: "isolated" },
    { pfn: 8, kind: "pswpout", src: "isolated", dst: "swap" },
    { pfn: 8, kind: "pgsteal", src: "isolated", dst: "free" },
  ]);
  assert.equal(anon.get(8).verb, "swapout", "an anon folio written to swap and freed was swapped out");
});

test("fmt formats counts, deltas, simulated time and page sizes", () => {
  assert.equal(fmt.count(1234567), "1,234,567");
  assert.equal(fmt.delta(-5), "−5");
  assert.equal(fmt.delta(32), "+32");
  assert.equal(fmt.ns(1500), "1.5 µs");
  assert.equal(fmt.ns(2_500_000_000), "2.500 s");
  assert.equal(fmt.pages(16384), "16,384 pages (64.0 MiB)");
  assert.equal(fmt.pad("ab", 4, true), "  ab");
});

// what GET /api/policies says about the two kernel policies (engine/registry.py)
const KERNEL_PROFILES = { kernel_profiles: { "6.1": "Linux 6.1", "6.12": "Linux 6.12", "7.3": "Linux 7.3" }, default_kernel: "7.3" };
const POLICIES = [
  { key: "lru", title: "active/inactive LRU", knobs: {}, ...KERNEL_PROFILES },
  { key: "lru_gen", title: "multi-gen LRU (MGLRU)", knobs: {
    min_ttl_ms: { type: "int", default: 0, min: 0, max: 1e9, help: "" },
    tiers: { type: "bool", default: true, help: "" } }, ...KERNEL_PROFILES },
];
const good = { source: "scenario", scenario: "anon-loop", ram_mb: "64", swap_kind: "zram", swap_mb: "32", swappiness: "60", seed: "1", accesses: "", "lru_gen.min_ttl_ms": "0", policy: "lru_gen", compare: false, policy_b: "lru" };
const validateRecipe = (values, limits = {}) => validateRecipeWith(values, limits, POLICIES);

test("validateRecipe builds the protocol recipe from good values", () => {
  const r = validateRecipe(good);
  assert.equal(r.ok, true);
  assert.deepEqual(r.recipe.machine, { ram_pages: 16384, swap_kind: "zram", swap_pages: 8192, swappiness: 60 });
  assert.deepEqual(r.recipe.workload, { scenario: "anon-loop", params: {}, accesses: null });
  assert.equal(r.recipe.policies.length, 1);
  assert.equal(r.recipe.policies[0].lru_gen.min_ttl_ms, 0);
  assert.equal(r.recipe.policies[0].lru_gen.tiers, true);
  const c = validateRecipe({ ...good, compare: true, policy_b: "lru" });
  assert.deepEqual(c.recipe.policies.map((p) => p.policy), ["lru_gen", "lru"]);
  assert.equal(c.recipe.policies[1].lru_gen, undefined, "knobs only go with lru_gen");
});

test("a booted guest goes into the recipe, needs 32 MiB, and its command line has no --bare", () => {
  const g = validateRecipe({ ...good, guest: true });
  assert.deepEqual(g.recipe.machine, { ram_pages: 16384, swap_kind: "zram", swap_pages: 8192, swappiness: 60, guest: true });
  assert.match(validateRecipe({ ...good, guest: true, ram_mb: "31" }).errors.guest, /at least 32 MiB/);
  assert.equal(validateRecipe({ ...good, guest: true, ram_mb: "32" }).ok, true);
  assert.equal(validateRecipe({ ...good, ram_mb: "31" }).ok, true, "a bare machine may be smaller");
  const cmd = (machine) => simulateCommand({ machine, workload: { scenario: "x" }, policies: [{ policy: "lru" }] }).line;
  assert.match(cmd(g.recipe.machine), /--ram-mb 64 --swap-kind/);
  assert.match(cmd({ ...g.recipe.machine, guest: undefined }), /--ram-mb 64 --bare --swap-kind/);
});

test("a booted guest's holes go into the recipe, its command line and its mail text; blank keeps the profile's median", () => {
  const g = validateRecipe({ ...good, guest: true, zone_normal_holes: "398" });
  assert.equal(g.recipe.machine.zone_normal_holes, 398);
  assert.equal(validateRecipe({ ...good, guest: true, zone_normal_holes: "" }).recipe.machine.zone_normal_holes, undefined);
  assert.equal(validateRecipe({ ...good, zone_normal_holes: "398" }).recipe.machine.zone_normal_holes, undefined, "only a guest's");
  assert.match(validateRecipe({ ...good, guest: true, zone_normal_holes: "3.5" }).errors.zone_normal_holes, /whole number/);
  const cmd = simulateCommand({ machine: g.recipe.machine, workload: { scenario: "x" }, policies: [{ policy: "lru" }] });
  assert.match(cmd.line, /--ram-mb 64 --swap-kind zram --swap-mb 32 --swappiness 60 --zone-normal-holes 398/);
  assert.deepEqual(cmd.why, []);
  const text = mailText({ recipe: { ...g.recipe, workload: { scenario: "x" } }, panes: [{ pane: 0, policy: "lru", step: 0, nrAccess: 0, vmstat: {} }] });
  assert.match(text, /398\s+free\s+pages\s+in\s+ZONE_DMA32's\s+other\s+migratetypes'\s+pageblocks\./);
});

test("validateRecipe names each bad field with a message", () => {
  const r = validateRecipe({ ...good, swappiness: "250", ram_mb: "abc", swap_kind: "none", swap_mb: "8", "lru_gen.min_ttl_ms": "-1" });
  assert.equal(r.ok, false);
  assert.equal(r.recipe, null);
  assert.match(r.errors.swappiness, /at most 200/);
  assert.match(r.errors.ram_mb, /whole number/);
  assert.match(r.errors.swap_mb, /must be 0 when swap kind is none/);
  assert.match(r.errors["lru_gen.min_ttl_ms"], /whole number/);
  assert.match(validateRecipe({ ...good, ram_mb: "999999" }, { max_frames: 1 << 20 }).errors.ram_mb, /at most 4,096/);
  assert.match(validateRecipe({ ...good, compare: true, policy_b: "lru_gen" }).errors.policy_b, /different/);
  assert.match(validateRecipe({ ...good, scenario: "" }).errors.scenario, /choose/);
});

test("a share URL round-trips through parseLocation and never carries a token", () => {
  const u = shareUrl("http://127.0.0.1:8000", { id: "k3J9-x", step: 17, folio: 4242, pane: 1 });
  assert.equal(u, "http://127.0.0.1:8000/s/k3J9-x?step=17&folio=4242&pane=1");
  assert.doesNotMatch(u, /token/);
  assert.deepEqual(parseLocation(u), { id: "k3J9-x", step: 17, folio: 4242, pane: 1, view: null, page: null });
  // the inspected page itself (an evicted page has no frame of its own)
  const v = shareUrl("http://h", { id: "h2", step: 3, folio: 9, page: { anon: false, mapping: 1, index: 72 } });
  assert.equal(v, "http://h/s/h2?step=3&folio=9&page=f1.72");
  assert.deepEqual(parseLocation(v).page, { anon: false, mapping: 1, index: 72 });
  assert.deepEqual(parseLocation("http://h/s/x?page=a0.140").page, { anon: true, mapping: 0, index: 140 });
  assert.equal(parseLocation("http://h/s/x?page=z1.2").page, null);
  // a booted guest's own pages: anon mapping -1, and only anon
  const g = shareUrl("http://h", { id: "g", step: 0, folio: 4283, page: { anon: true, mapping: -1, index: 443 } });
  assert.deepEqual(parseLocation(g).page, { anon: true, mapping: -1, index: 443 });
  assert.equal(parseLocation("http://h/s/x?page=f-1.2").page, null);
  assert.equal(parseLocation("http://h/s/x?page=a-2.2").page, null);
  assert.equal(parseLocation("http://h/").id, null);
  assert.equal(parseLocation("http://h/s/abc?step=x").step, null);
});

test("explainEvent words a generation change even when the event carries no seq", () => {
  assert.equal(explainEvent({ pfn: -1, kind: "inc_max_seq", src_seq: -1, dst_seq: 7 }).text, "max_seq → 7");
  assert.equal(explainEvent({ pfn: -1, kind: "inc_min_seq", src_seq: 3, dst_seq: -1 }).text, "min_seq 3 → 4");
  assert.equal(explainEvent({ pfn: -1, kind: "inc_max_seq", src_seq: -1, dst_seq: -1 }).text, "max_seq advanced by one");
});

test("validateRecipe ignores the MGLRU knobs when no pane runs MGLRU", () => {
  const r = validateRecipe({ ...good, policy: "lru", "lru_gen.min_ttl_ms": undefined });
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.deepEqual(r.recipe.policies, [{ policy: "lru", kernel: "7.3" }]);
  assert.match(validateRecipe({ ...good, policy: "lru", compare: true, policy_b: "lru_gen", "lru_gen.min_ttl_ms": "x" }).errors["lru_gen.min_ttl_ms"], /whole number/);
});

test("validateRecipe compares one policy under two kernel profiles, but not a pane with itself", () => {
  const r = validateRecipe({ ...good, policy: "lru_gen", kernel: "6.1", compare: true, policy_b: "lru_gen", kernel_b: "7.3" });
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.deepEqual(r.recipe.policies.map((p) => [p.policy, p.kernel]), [["lru_gen", "6.1"], ["lru_gen", "7.3"]]);
  const same = validateRecipe({ ...good, policy: "lru_gen", kernel: "6.12", compare: true, policy_b: "lru_gen", kernel_b: "6.12" });
  assert.match(same.errors.policy_b, /different policies or kernels/);
  assert.match(validateRecipe({ ...good, kernel: "5.10" }).errors.kernel, /kernel profile must be one of 6\.1, 6\.12, 7\.3/);
  // the profiles are what the pane's policy describes; the default is its default_kernel
  const only = [{ ...POLICIES[0], kernel_profiles: { "6.12": "Linux 6.12" }, default_kernel: "6.12" }, POLICIES[1]];
  const d = validateRecipeWith({ ...good, policy: "lru", kernel: undefined }, {}, only);
  assert.deepEqual(d.recipe.policies, [{ policy: "lru", kernel: "6.12" }]);
  assert.match(validateRecipeWith({ ...good, policy: "lru", kernel: "7.3" }, {}, only).errors.kernel, /must be one of 6\.12$/);
  assert.match(validateRecipeWith({ ...good, policy: "lru_gen", compare: true, policy_b: "lru", kernel_b: "6.1" }, {}, only).errors.kernel_b, /must be one of 6\.12$/);
});

test("an access without a list reads 'folio N accessed', never a dangling 'accessed on'", () => {
  const bare = explainEvent({ pfn: 355, kind: "access", reason: "resident", fn: "filemap_read" });
  assert.equal(bare.text, "folio 355 accessed");
  const onList = explainEvent({ pfn: 355, kind: "mark_accessed", src: "LRU_ACTIVE_FILE", dst: "LRU_ACTIVE_FILE" });
  assert.equal(onList.text, "folio 355 accessed on LRU_ACTIVE_FILE");
});

test("a reclaim says the frame was freed and whether a shadow entry stays", () => {
  const sh = explainEvent({ pfn: 1315, kind: "pgsteal_kswapd", src: "isolated", dst: "shadow" });
  assert.equal(sh.verb, "reclaim");
  assert.equal(sh.text, "folio 1315 reclaimed: frame freed, shadow entry left");
  const fr = explainEvent({ pfn: 5, kind: "pgsteal", src: "isolated", dst: "free" });
  assert.equal(fr.text, "folio 5 reclaimed: frame freed");
});

test("lruvec-wide tracepoints are said in words; the tracepoint name stays in the text line", () => {
  const e = explainEvent({ pfn: -1, kind: "mm_vmscan_lru_shrink_active", fn: "shrink_active_list" });
  assert.equal(e.verb, "reclaimer");
  assert.equal(e.text, "pass over an active list done");
  assert.match(e.line, /^mm_vmscan_lru_shrink_active: pass over an active list done \[shrink_active_list\(\)\]$/);
  assert.equal(explainEvent({ kind: "mm_vmscan_kswapd_wake" }).text, "kswapd woken");
});

test("eventFilter matches words, file/mm by name or number, and an offset range", async () => {
  const { eventFilter } = await import("../../frontend/js/eventFilter.js");
  const owners = { file: ["hot.db", "stream.log"], mm: ["loop"] };
  const steal = { pfn: 5, mapping: 1, index: 72, kind: "pgsteal", reason: "freed", fn: "__remove_mapping", src: "isolated", dst: "shadow" };
  const swap = { pfn: 6, mapping: 4, index: 72, kind: "pgsteal", reason: "freed", fn: "__remove_mapping", src: "isolated", dst: "swap" };
  const gen = { pfn: 7, mapping: 4, index: 9, kind: "folio_inc_gen", reason: "", fn: "inc_min_seq", src: "gen", dst: "gen" };
  const lruvec = { pfn: -1, mapping: 0, index: 0, kind: "inc_max_seq", reason: "", fn: "inc_max_seq", src: "none", dst: "none" };
  assert.equal(eventFilter(""), null);
  const f = (q) => [steal, swap, gen, lruvec].filter((r) => eventFilter(q, owners)(r)).map((r) => r.pfn);
  assert.deepEqual(f("pgsteal"), [5, 6]);
  assert.deepEqual(f("file=stream.log"), [5]);
  assert.deepEqual(f("file=1 off=70-80"), [5]);
  assert.deepEqual(f("mm=1"), [6, 7]);          // mm 1 is raw 4; the gen move may be either
  assert.deepEqual(f("file=4"), [7]);           // ...so it is also file 4's, the swap-out is not
  assert.deepEqual(f("off=9"), [7]);
  assert.deepEqual(f("remove_mapping shadow"), [5]);
  assert.deepEqual(f("file=nosuch"), []);
});

test("explainEvent narrates the numbers a decision event carries", () => {
  const classic = explainEvent({ pfn: 3, kind: "workingset_refault", reason: "refault", fn: "workingset_refault", src: "shadow", dst: "none", src_seq: 12, dst_seq: 40 });
  assert.match(classic.why, /refault distance 12 ≤ workingset size 40: activate/);
  const far = explainEvent({ pfn: 3, kind: "workingset_refault", reason: "refault", fn: "workingset_refault", src: "shadow", dst: "none", src_seq: 90, dst_seq: 40 });
  assert.match(far.why, /90 > workingset size 40: stays inactive/);
  const gen = explainEvent({ pfn: 3, kind: "workingset_refault", reason: "r", fn: "lru_gen_refault", src: "swap", dst: "none", src_seq: 5, dst_seq: 7 });
  assert.match(gen.why, /evicted from generation seq 5; seq 7 now, 2 generation\(s\) apart/);
  const rmap = explainEvent({ pfn: 3, kind: "folio_referenced", reason: "r", fn: "folio_referenced", src: "isolated", dst: "isolated", src_seq: 2, dst_seq: 1 });
  assert.match(rmap.why, /2 young PTEs, a VM_EXEC mapping/);
  assert.equal(explainEvent({ pfn: 3, kind: "pgsteal", reason: "r", src: "isolated", dst: "shadow", src_seq: -1, dst_seq: -1 }).why, "r");
});

test("validateRecipe takes any described policy and its knobs under its key", () => {
  const pols = [...POLICIES, { key: "s3fifo", title: "S3-FIFO", knobs: { small_percent: { type: "int", default: 10, min: 1, max: 90, help: "" } }, ...KERNEL_PROFILES }];
  const v = { ...good, policy: "s3fifo", "s3fifo.small_percent": "20", compare: true, policy_b: "lru" };
  const r = validateRecipeWith(v, {}, pols);
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.deepEqual(r.recipe.policies, [{ policy: "s3fifo", kernel: "7.3", s3fifo: { small_percent: 20 } }, { policy: "lru", kernel: "7.3" }]);
  assert.match(validateRecipeWith({ ...v, "s3fifo.small_percent": "95" }, {}, pols).errors["s3fifo.small_percent"], /at most 90/);
  assert.match(validateRecipeWith({ ...v, policy: "nope" }, {}, pols).errors.policy, /one of lru, lru_gen, s3fifo/);
});

test("eventFilter tier=N keeps the decisions whose inputs name that tier", async () => {
  const { eventFilter } = await import("../../frontend/js/eventFilter.js");
  const row = (tier, kind = "mm_vmscan_lru_isolate") => ({ kind, reason: "NOT_PROTECTED", fn: "sort_folio", src: "gen", dst: "isolated", tier, pfn: 5 });
  const f = eventFilter("tier=2");
  assert.equal(f(row(2)), true);
  assert.equal(f(row(1)), false);
  assert.equal(f(row(-1, "pgsteal")), false);          // a steal carries no tier
  assert.equal(eventFilter("tier=x")(row(2)), false);
  assert.equal(eventFilter("tier=2 isolate")(row(2)), true);
});

test("the machine line says what a share link's viewer needs: available RAM and each pane's frames, swap, and a guest's holes", async () => {
  const { machineLine } = await import("../../frontend/js/machineLine.js");
  const guest = { recipe: { machine: { ram_pages: 16384, guest: true, swap_kind: "ssd", swap_pages: 262144, swappiness: 60, readahead_pages: 32, zone_normal_holes: 398 } },
    panes: [{ kernel: "6.1", config: { ram_pages: 66221, swap_pages: 262144, zone_normal_holes: 398 } },
      { kernel: "7.3", config: { ram_pages: 68410, swap_pages: 262144, zone_normal_holes: 398 } }] };
  assert.equal(machineLine(guest), "Machine: booted 6.1 and 7.3 guests with 64 MiB available (66,221 / 68,410 frames) · ZONE_DMA32 holes 398 (given) · SSD swap 1,024 MiB · swappiness 60 · readahead 128 KiB");
  assert.equal(machineLine(guest, { short: true }), "booted 6.1 and 7.3 guests with 64 MiB available · ZONE_DMA32 holes 398 (given) · SSD swap 1,024 MiB · swappiness 60 · readahead 128 KiB");
  const median = { recipe: { machine: { ...guest.recipe.machine, zone_normal_holes: null } },
    panes: [{ kernel: "7.3", config: { ram_pages: 68410, swap_pages: 8192, zone_normal_holes: 264 } }] };
  assert.match(machineLine(median), /a booted 7\.3 guest with 64 MiB available \(68,410 frames\) · ZONE_DMA32 holes 264 \(the profile's median\) · SSD swap 32 MiB/);
  const bare = { recipe: { machine: { ram_pages: 1000, swap_kind: "none", swappiness: 0, readahead_pages: 0 } },
    panes: [{ kernel: "7.3", config: { ram_pages: 1000, swap_pages: 0, zone_normal_holes: 0 } }] };
  assert.equal(machineLine(bare), "Machine: 1,000 frames (1,000 pages) · no swap · swappiness 0 · no readahead");
  assert.equal(machineLine(bare, { short: true }), "1,000 frames · no swap · swappiness 0 · no readahead");
  assert.equal(machineLine({}), "");
});

test("the aging line says should_run_aging()'s verdict with the numbers it compared", () => {
  const stuck = { age: false, why: "balanced", young: 1979, old: 16179, total: 18158, min_seq: 3, max_seq: 5, pre614: true };
  assert.equal(agingShort(stuck), "no aging: pages spread evenly");
  const s = agingSentence(stuck);
  // the quarter and half tests with the pane's own counts: 16,179 x 4 against 18,158, 1,979 x 2
  assert.match(s, /^should_run_aging\(\): 3 generations, oldest \(seq 3\) 16,179 x 4 = 64,716 against 18,158 pages in all, max_seq 1,979 x 2 = 3,958/);
  assert.match(s, /no aging until that changes/);
  const quarter = { ...stuck, age: true, why: "old_under_quarter", old: 4000 };
  assert.equal(agingShort(quarter), "ages next: oldest under a quarter");
  assert.match(agingSentence(quarter), /4,000 x 4 = 16,000 against 18,158 .* under a quarter, so reclaim ages next/);
  assert.match(agingSentence({ age: false, why: "more_gens", young: 1, old: 2, total: 3, min_seq: 2, max_seq: 5 }),
    /4 generations \(min_seq 2 to max_seq 5\), more than 3: reclaim evicts without aging/);
  assert.match(agingSentence({ age: true, why: "min_gens", young: 0, old: 9, total: 9, min_seq: 4, max_seq: 6 }), /since v6\.14/);
  assert.match(agingSentence({ age: true, why: "out_of_cold", young: 0, old: 0, total: 9, min_seq: 5, max_seq: 6 }), /min_seq 5 \+ 2 > max_seq 6/);
  // a classic pane (no verdict) or a verdict this page does not know: nothing
  assert.equal(agingShort(undefined), "");
  assert.equal(agingSentence(null), "");
  assert.equal(agingShort({ why: "something_new" }), "");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { textExcerpt } from "../../frontend/js/textExcerpt.js";
import { explainEvent } from "../../frontend/js/explainEvent.js";
import { fmt } from "../../frontend/js/format.js";
import { validateRecipe as validateRecipeWith } from "../../frontend/js/validateRecipe.js";
import { shareUrl } from "../../frontend/js/shareUrl.js";
import { parseLocation } from "../../frontend/js/parseLocation.js";
import { decisionOf } from "../../frontend/js/decisionOf.js";

const longReason = "FOLIOREF_ACTIVATE: referenced twice while on the inactive list, so it goes back to the head of the active list instead of being reclaimed";
const events = Array.from({ length: 30 }, (_, i) => ({
  pfn: 1000 + i, kind: i % 2 ? "pgactivate" : "mm_vmscan_lru_isolate", reason: longReason,
  fn: "folio_check_references", src: "LRU_INACTIVE_FILE", dst: i % 2 ? "LRU_ACTIVE_FILE" : "isolated", src_seq: -1, dst_seq: -1,
}));

test("the text excerpt keeps every line within 80 columns (classic)", () => {
  const pane = { policy: "lru", step: 42, nrAccess: 123456, timeNs: 987654321,
    listCounts: { LRU_INACTIVE_ANON: 10, LRU_ACTIVE_ANON: 20, LRU_INACTIVE_FILE: 30000, LRU_ACTIVE_FILE: 4, LRU_UNEVICTABLE: 0 },
    vmstat: { pgscan_kswapd: 500, pgsteal_kswapd: 480, workingset_refault_file_with_a_very_long_name_for_wrapping: 7, pgactivate: 12 } };
  const t = textExcerpt(pane, { baseVmstat: { pgscan_kswapd: 468, pgsteal_kswapd: 450, pgactivate: 12 }, baseStep: 40, events, title: "session abcdefghijklmnopqrstuvwxyz0123456789" });
  const lines = t.split("\n");
  for (const l of lines) assert.ok(l.length <= 80, `too long (${l.length}): ${l}`);
  assert.match(t, /LRU_INACTIVE_FILE\s+30,000/);
  assert.match(t, /pgscan_kswapd\s+\+32/);
  assert.match(t, /step 40 -> 42/);
  assert.doesNotMatch(t, /pgactivate\s+\+/, "unchanged counters are left out");
  assert.match(t, /last 12 events/);
  assert.match(t, /folio_check_references/);
  assert.ok(/^[\x00-\x7f]*$/.test(t), "ASCII only");
});

test("the text excerpt quotes the lru_gen debugfs text for MGLRU, within 80 columns", () => {
  const lruGen = "memcg     0     \n node     0\n          4      1234      1000        2048 " + "x".repeat(90) + "\n";
  const pane = { policy: "lru_gen", step: 3, nrAccess: 1, timeNs: 1, lruGenText: lruGen, vmstat: {} };
  const t = textExcerpt(pane, { info: { title: "multi-gen LRU (MGLRU)", debugfs: "lru_gen" } });
  assert.match(t, /cat \/sys\/kernel\/debug\/lru_gen/);
  assert.match(t, /multi-gen LRU \(MGLRU\), step 3/);
  assert.match(t, /memcg {5}0/);
  for (const l of t.split("\n")) assert.ok(l.length <= 80, `too long: ${l}`);
});

test("the text excerpt names a plug-in policy's lists as it describes them", () => {
  const pane = { policy: "clock", step: 1, nrAccess: 1, timeNs: 1, vmstat: {},
    listCounts: { LRU_INACTIVE_ANON: 3, LRU_INACTIVE_FILE: 9 } };
  const t = textExcerpt(pane, { info: { title: "CLOCK (second chance)", lists: { LRU_INACTIVE_FILE: "clock ring (file)" } } });
  assert.match(t, /CLOCK \(second chance\), step 1/);
  assert.match(t, /LRU_INACTIVE_FILE\s+9  clock ring \(file\)/);
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
const POLICIES = [
  { key: "lru", title: "active/inactive LRU", knobs: {} },
  { key: "lru_gen", title: "multi-gen LRU (MGLRU)", knobs: {
    min_ttl_ms: { type: "int", default: 0, min: 0, max: 1e9, help: "" },
    tiers: { type: "bool", default: true, help: "" } } },
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
  assert.deepEqual(parseLocation(u), { id: "k3J9-x", step: 17, folio: 4242, pane: 1, view: null });
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

test("validateRecipe takes any described policy and its knobs under its key", () => {
  const pols = [...POLICIES, { key: "s3fifo", title: "S3-FIFO", knobs: { small_percent: { type: "int", default: 10, min: 1, max: 90, help: "" } } }];
  const v = { ...good, policy: "s3fifo", "s3fifo.small_percent": "20", compare: true, policy_b: "lru" };
  const r = validateRecipeWith(v, {}, pols);
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.deepEqual(r.recipe.policies, [{ policy: "s3fifo", kernel: "7.3", s3fifo: { small_percent: 20 } }, { policy: "lru", kernel: "7.3" }]);
  assert.match(validateRecipeWith({ ...v, "s3fifo.small_percent": "95" }, {}, pols).errors["s3fifo.small_percent"], /at most 90/);
  assert.match(validateRecipeWith({ ...v, policy: "nope" }, {}, pols).errors.policy, /one of lru, lru_gen, s3fifo/);
});

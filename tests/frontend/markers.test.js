// pageMarkers(): the steps at which the inspected page was evicted and refaulted.
import test from "node:test";
import assert from "node:assert/strict";
import { pageMarkers } from "../../frontend/js/pageMarkers.js";

const names = { event_kinds: ["pgfault", "pgsteal", "workingset_refault", "pgactivate"] };

test("pageMarkers marks the history's pgsteal and workingset_refault events by step", () => {
  const history = { n: 5, kind: [0, 1, 2, 3, 1], step: [1, 4, 9, 9, 12], pfn: [3, 3, 7, 7, 7] };
  assert.deepEqual(pageMarkers({ history }, names), [
    { step: 4, kind: "evict" }, { step: 9, kind: "refault" }, { step: 12, kind: "evict" }]);
});

test("pageMarkers is empty without an inspected page or history", () => {
  assert.deepEqual(pageMarkers(null, names), []);
  assert.deepEqual(pageMarkers({ history: { n: 0 } }, names), []);
});

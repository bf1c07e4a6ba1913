import { test } from "node:test";
import assert from "node:assert/strict";
import { fitLines } from "../../frontend/js/fitLines.js";

const mono = (t) => 6 * t.length;

test("fitLines: greedy lines within the width, every word kept in order", () => {
  const text = "Machine above 16,384 frames: list sizes only.";
  const lines = fitLines(text, 120, mono);
  assert.deepEqual(lines, ["Machine above 16,384", "frames: list sizes", "only."]);   // the first is exactly 120 px
  assert.ok(lines.every((l) => mono(l) <= 120));
  assert.deepEqual(fitLines(text, 10_000, mono), [text]);
});

test("fitLines: a word wider than the width gets its own line rather than being cut", () => {
  assert.deepEqual(fitLines("a workingset_refault_anon b", 60, mono), ["a", "workingset_refault_anon", "b"]);
  assert.deepEqual(fitLines("   ", 60, mono), []);
});

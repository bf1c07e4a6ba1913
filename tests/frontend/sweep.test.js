import { test } from "node:test";
import assert from "node:assert/strict";
import { sweepSeries } from "../../frontend/js/sweepSeries.js";

const cell = (policy, ram, seed, pswpin, kernel) => ({
  key: `${policy}-${ram}-${seed}-${kernel}`, done: true,
  dims: { workload: "w", policy, ram_mb: ram, seed, ...(kernel ? { kernel } : {}) },
  derived: { refaults: pswpin * 2 }, vmstat: { pswpin },
});

test("one series per policy, x is the sorted RAM sizes, seeds averaged for 'mean'", () => {
  const cells = [cell("lru", 4, 1, 10), cell("lru", 2, 1, 30), cell("lru", 2, 2, 50),
    cell("lru_gen", 2, 1, 5), cell("lru_gen", 4, 1, 1), { ...cell("lru", 8, 1, 0), done: false }];
  const dims = { policy: ["lru", "lru_gen"], seed: [1, 2] };
  const { x, series } = sweepSeries(cells, { counter: "pswpin", workload: "w", seed: "mean" }, dims);
  assert.deepEqual(x, [2, 4]);
  assert.deepEqual(series.map((s) => s.label), ["lru", "lru_gen"]);
  assert.deepEqual(series[0].values, [40, 10]);
  assert.equal(series[0].cells[0].length, 2);
  const one = sweepSeries(cells, { counter: "refaults", workload: "w", seed: "2" }, dims);
  assert.deepEqual(one.x, [2]);
  assert.deepEqual(one.series[0].values, [100]);
});

test("kernel profiles split the series", () => {
  const cells = [cell("lru", 2, 1, 1, "6.1"), cell("lru", 2, 1, 2, "7.3"), cell("lru_gen", 2, 1, 3, "7.3")];
  const { series } = sweepSeries(cells, { counter: "pswpin", workload: "w", seed: "1" },
    { policy: ["lru", "lru_gen"], kernel: ["6.1", "7.3"] });
  assert.deepEqual(series.map((s) => s.label), ["lru · kernel 6.1", "lru · kernel 7.3", "lru_gen · kernel 7.3"]);
  assert.deepEqual(series.map((s) => [s.policy, s.kernel]), [["lru", "6.1"], ["lru", "7.3"], ["lru_gen", "7.3"]]);
});

test("a guest sweep's holes and guest choices are filters: the plot shows the chosen one's cells", () => {
  const holed = (holes, pswpin, guest = true) => ({ ...cell("lru", 64, 1, pswpin), key: `h${holes}${guest}`,
    dims: { workload: "w", policy: "lru", ram_mb: 64, seed: 1, guest, zone_normal_holes: holes } });
  const cells = [holed(264, 10), holed(398, 70), holed(398, 5, false)];
  const pick = (sel) => sweepSeries(cells, { counter: "pswpin", workload: "w", seed: "1", ...sel }, { policy: ["lru"] });
  assert.deepEqual(pick({ guest: "true", zone_normal_holes: "398" }).series[0].values, [70]);
  assert.deepEqual(pick({ guest: "true", zone_normal_holes: "264" }).series[0].values, [10]);
  assert.deepEqual(pick({ guest: "false", zone_normal_holes: "398" }).series[0].values, [5]);
});

test("a sweep of one RAM size runs its curves along the dimension it varies, e.g. a guest's holes", async () => {
  const { sweepAxes } = await import("../../frontend/js/sweepSeries.js");
  const dims = { ram_mb: [64], zone_normal_holes: [150, 264, 398], swappiness: [60, 100], policy: ["lru", "lru_gen"] };
  assert.deepEqual(sweepAxes(dims), { x: "zone_normal_holes", choices: ["zone_normal_holes", "swappiness"],
    filters: ["ram_mb", "swap_kind", "swap_mb", "swap_ratio", "swappiness", "guest", "seed"] });
  assert.equal(sweepAxes(dims, "swappiness").x, "swappiness");
  assert.equal(sweepAxes(dims, "ram_mb").x, "zone_normal_holes", "RAM does not vary");
  assert.equal(sweepAxes({ ram_mb: [16, 32], zone_normal_holes: [1, 2] }).x, "ram_mb", "RAM first when it varies");
  const at = (holes, swappiness, policy, pswpin) => ({ key: `${holes}-${swappiness}-${policy}`, done: true,
    dims: { workload: "w", policy, ram_mb: 64, seed: 1, zone_normal_holes: holes, swappiness },
    derived: {}, vmstat: { pswpin } });
  const cells = [at(398, 60, "lru", 3), at(150, 60, "lru", 1), at(264, 60, "lru", 2), at(150, 100, "lru", 9), at(150, 60, "lru_gen", 7)];
  const { x, series } = sweepSeries(cells, { counter: "pswpin", workload: "w", seed: "1", x: "zone_normal_holes",
    zone_normal_holes: "150", swappiness: "60", ram_mb: "64" }, dims);
  assert.deepEqual(x, [150, 264, 398]);
  assert.deepEqual(series.map((s) => [s.label, s.values]), [["lru", [1, 2, 3]], ["lru_gen", [7, null, null]]]);
});

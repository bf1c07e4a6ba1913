import { test } from "node:test";
import assert from "node:assert/strict";
import { engineNote } from "../../frontend/js/engineNote.js";

const pane = (config) => ({ policy: "lru", config });

test("a session replayed by the engine that recorded it has no note", () => {
  assert.equal(engineNote({ engine_version: "0.8.0", recipe: { engine_version: "0.8.0" }, panes: [] }), null);
  assert.equal(engineNote({ engine_version: "0.8.0", recipe: {}, panes: [] }), null);
});

test("another engine: the note names both versions and the machine keys that changed", () => {
  const hello = {
    engine_version: "0.8.0",
    recipe: { engine_version: "0.7.3", engine_config: [{ kernel: "7.3", ram_pages: 18000, costs: { access: 1 } }] },
    panes: [pane({ kernel: "7.3", ram_pages: 18000, zone_dma_boost_every: 50, compaction_migrate_every: 0, costs: { access: 2 } })],
  };
  assert.equal(engineNote(hello),
    "Recorded with engine 0.7.3, replayed here by engine 0.8.0: its steps may not show what its owner saw "
    + "(pane 1: zone_dma_boost_every 0 → 50).");
  const same = { ...hello, panes: [pane({ kernel: "7.3", ram_pages: 18000 })] };
  assert.match(engineNote(same), /owner saw\.$/);
});

// A session is rebuilt from its recipe by the engine the server runs now. When
// that is not the engine that recorded it, its steps may not show what its
// owner saw: say so, with the machine keys that changed (a new engine may give
// a booted guest new facts, e.g. 0.8.0's ZONE_DMA watermark boosts).
export function engineNote(hello) {
  const recorded = hello?.recipe?.engine_version;
  const now = hello?.engine_version;
  if (!recorded || !now || recorded === now) return null;
  const was = hello.recipe.engine_config || [];
  const changed = (hello.panes || []).map((p, i) => {
    const old = was[i] || {};
    const keys = Object.keys(p.config || {}).filter((k) => typeof p.config[k] !== "object"
      && (old[k] ?? 0) !== p.config[k]);
    return keys.length ? `pane ${i + 1}: ${keys.map((k) => `${k} ${old[k] ?? 0} → ${p.config[k]}`).join(", ")}` : "";
  }).filter(Boolean);
  return `Recorded with engine ${recorded}, replayed here by engine ${now}: its steps may not show what its owner saw`
    + (changed.length ? ` (${changed.join("; ")}).` : ".");
}

// Okabe–Ito colours, chosen so every pair stays distinct for the common
// colour-vision deficiencies; each list also gets a lane label and each
// state a shape mark, so colour is never the only cue.
export const PALETTE = Object.freeze({
  LRU_INACTIVE_ANON: "#E69F00",   // orange
  LRU_ACTIVE_ANON: "#D55E00",     // vermillion
  LRU_INACTIVE_FILE: "#56B4E9",   // sky blue
  LRU_ACTIVE_FILE: "#0072B2",     // blue
  LRU_UNEVICTABLE: "#CC79A7",     // reddish purple
  free: "#d9d9d9",
  isolated: "#F0E442",            // yellow: on the private isolation list
  swap: "#009E73",                // bluish green
  shadow: "#8c8c8c",
  anon: "#D55E00",
  file: "#0072B2",
  tiers: ["#b9dcf2", "#56B4E9", "#0072B2", "#003a5c"],
  tiersAnon: ["#f7d9a3", "#E69F00", "#D55E00", "#7a3500"],
  mark: "#000000",
  markLight: "#ffffff",
  highlight: "#000000",
  wmark: { min: "#D55E00", low: "#E69F00", high: "#009E73" },
  compare: ["#0072B2", "#D55E00"],
});

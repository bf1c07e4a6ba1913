// Plans one step's animation for one pane: for each folio the step moved,
// where it starts (old layout), where it waits while reclaim decides
// (the isolation row), and where it lands (new layout, or the free pool /
// swap device when it left the LRU). Pure: positions come from functions.
import { decisionOf } from "./decisionOf.js";
import { PALETTE } from "./palette.js";

const MAX_FLIGHTS = 512;
const LOC_COLOUR = (loc, pfnFlags) => PALETTE[loc] || (loc === "gen" ? (pfnFlags ? PALETTE.file : PALETTE.anon) : "#9e9e9e");

// from/to: pfn -> pixel in the old/new layout (null when the folio is not
// drawn one by one); fromPlace/toPlace: an event row -> the pixel of the
// list end it names (tail when leaving, head when arriving), so that an
// aggregated machine still shows where each folio came from and went.
export function buildFlights(rows, { from, to, fromPlace = null, toPlace = null, width, height, cell = 6, selectedPfn = null }) {
  const decisions = decisionOf(rows);
  const flights = [];
  const size = Math.max(8, Math.min(12, cell + 2));
  // The isolation row starts left of the middle and wraps before the right
  // edge, so a narrow (compare) pane keeps every staged folio inside it.
  const left = Math.min(200, Math.max(6, Math.floor(width / 3)));
  const perRow = Math.max(1, Math.floor((width - left - 10) / (size + 4)));
  let k = 0;
  for (const d of decisions.values()) {
    if (flights.length >= MAX_FLIGHTS) break;
    const moved = d.rows.some((r) => r.src !== r.dst || r.src_seq !== r.dst_seq);
    if (!moved) continue;
    const a = from(d.pfn) || (fromPlace && fromPlace(d.first));
    const b = to(d.pfn) || (toPlace && toPlace(d.last));
    const isolated = d.rows.some((r) => /isolate/.test(String(r.kind)));
    const bin = d.verb === "swapout" ? { x: width - 60, y: height - 14 } : { x: width - 30, y: height - 14 };
    const start = a || { x: 4, y: height - 14 };
    const end = b || bin;
    // A folio with no old place (just faulted in) simply appears; only
    // moves between places fly.
    if (!a && !isolated) continue;
    if (!a && !b) continue;
    // Three rows of the isolation list are enough to read; a big step's
    // other folios fly straight to where they end up.
    const staged = isolated && k < perRow * 3;
    const f = {
      pfn: d.pfn, verb: d.verb, x0: start.x, y0: start.y, x1: end.x, y1: end.y,
      staged,
      fromColour: LOC_COLOUR(d.first.src),
      toColour: LOC_COLOUR(d.last.dst),
      selected: d.pfn === selectedPfn,
    };
    if (staged) {
      f.sx = left + (k % perRow) * (size + 4);
      f.sy = Math.floor(height * 0.42) + Math.floor(k / perRow) * (size + 16);
      k++;
    }
    flights.push(f);
  }
  return flights;
}

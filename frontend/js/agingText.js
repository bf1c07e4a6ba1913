// should_run_aging()'s verdict on an MGLRU pane's lruvec as words (pure):
// the server sends it with the generations (backend/frames.py _aging_of(),
// engine MultiGenLru.aging_test()). A lruvec can sit for a whole run with
// its anon one generation above min_seq and its file cycling through the
// oldest, because the test never fires (docs/validation.md "MGLRU's boot
// generations"); the pane says so instead of leaving the reader to count.
import { fmt } from "./format.js";

// MIN_NR_GENS; the pre-6.14 test wants max_seq under 1 / MIN_NR_GENS of the
// pages and the oldest over 1 / (MIN_NR_GENS + 2)
const MIN_NR_GENS = 2;

const SHORT = {
  out_of_cold: "ages next: nothing old enough to evict",
  young_over_half: "ages next: youngest over half",
  old_under_quarter: "ages next: oldest under a quarter",
  min_gens: "ages next: 3 generations left",
  more_gens: "evicts: over 3 generations",
  balanced: "no aging: pages spread evenly",
};

// a few words for the pane's subtitle ("" without a verdict)
export function agingShort(aging) {
  return aging ? SHORT[aging.why] ?? "" : "";
}

// the verdict with the numbers it compared, for the title and the canvas
// description
export function agingSentence(aging) {
  if (!aging) return "";
  const { why, young, old, total, min_seq: minSeq, max_seq: maxSeq } = aging;
  const gens = maxSeq - minSeq + 1;
  const spread = `oldest (seq ${maxSeq - MIN_NR_GENS}) ${fmt.count(old)} x ${MIN_NR_GENS + 2} = ${fmt.count(old * (MIN_NR_GENS + 2))}` +
    ` against ${fmt.count(total)} pages in all, max_seq ${fmt.count(young)} x ${MIN_NR_GENS} = ${fmt.count(young * MIN_NR_GENS)}`;
  switch (why) {
    case "out_of_cold":
      return `should_run_aging(): min_seq ${minSeq} + ${MIN_NR_GENS} > max_seq ${maxSeq}, nothing is old enough to evict: reclaim ages first.`;
    case "more_gens":
      return `should_run_aging(): ${gens} generations (min_seq ${minSeq} to max_seq ${maxSeq}), more than ${MIN_NR_GENS + 1}: reclaim evicts without aging.`;
    case "min_gens":
      return `should_run_aging(): ${gens} generations left (min_seq ${minSeq} to max_seq ${maxSeq}); since v6.14 that is enough to age.`;
    case "young_over_half":
      return `should_run_aging(): ${gens} generations, ${spread}: max_seq holds over half, so reclaim ages next.`;
    case "old_under_quarter":
      return `should_run_aging(): ${gens} generations, ${spread}: the oldest holds under a quarter, so reclaim ages next.`;
    case "balanced":
      return `should_run_aging(): ${gens} generations, ${spread}: the oldest holds at least a quarter and max_seq at most half, so no aging until that changes; reclaim keeps evicting the oldest generation, where new read() folios land.`;
    default:
      return "";
  }
}

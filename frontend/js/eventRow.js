// One event out of the columnar `events` of a frame, with its name-table
// indices resolved to strings (names come from the hello message).
export function eventRow(ev, i, names) {
  const nm = (table, v) => (names && names[table] && v != null && v >= 0 ? names[table][v] ?? v : v);
  const col = (k) => (ev[k] ? ev[k][i] : undefined);
  return {
    i,
    seq: col("seq"), step: col("step"), time_ns: col("time_ns"), nr_access: col("nr_access"),
    pfn: col("pfn"), mapping: col("mapping"), index: col("index"),
    kind: nm("event_kinds", col("kind")), reason: nm("reasons", col("reason")),
    fn: nm("kernel_fns", col("fn")), src: nm("locations", col("src")), dst: nm("locations", col("dst")),
    src_seq: col("src_seq"), dst_seq: col("dst_seq"), reason_name: nm("reason_names", col("reason")),
    // the decision's inputs (whySentence.js)
    why_a: col("why_a"), why_b: col("why_b"), why_c: col("why_c"), why_d: col("why_d"),
    refs: col("refs"), tier: col("tier"), tier_idx: col("tier_idx"), why: col("why"),
  };
}

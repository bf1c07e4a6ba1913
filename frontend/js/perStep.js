// Per-step deltas of a cumulative counter. Samples `stride` steps apart (the
// server's whole-run timeline thins long runs to every stride-th step) give
// the mean per step over each stride. Samples further apart than that — the
// steps a page visited, where a seek or a share URL jumps — are not "per
// step": the gap is left empty (null) rather than drawn as a spike.
export function perStep(values, steps, stride = 1) {
  const out = new Array(values.length).fill(null);
  for (let i = 1; i < values.length; i++) {
    const gap = steps[i] - steps[i - 1];
    if (gap >= 1 && gap <= stride && values[i] != null && values[i - 1] != null) out[i] = (values[i] - values[i - 1]) / gap;
  }
  return out;
}

// Per-step deltas of a cumulative counter sampled at the steps this page
// visited. A seek or a share URL jumps over steps, so two neighbouring
// samples may be many steps apart: their difference is not "per step", and
// the gap is left empty (null) rather than drawn as a spike.
export function perStep(values, steps) {
  const out = new Array(values.length).fill(null);
  for (let i = 1; i < values.length; i++) {
    if (steps[i] - steps[i - 1] === 1 && values[i] != null && values[i - 1] != null) out[i] = values[i] - values[i - 1];
  }
  return out;
}

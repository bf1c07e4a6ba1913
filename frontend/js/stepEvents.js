// The events of one pane of a binary step message (docs/protocol.md §3.5) as
// columns: the message holds the engine's event records as raw bytes, and
// the header's `event_dtype` says where each field is ([name, type, offset],
// little-endian; "u8"/"i8" read as two 32-bit halves into a Float64Array,
// exact up to 2^53). New engine fields show up here with no change.
const VIEWS = { u1: Uint8Array, i1: Int8Array, u2: Uint16Array, i2: Int16Array, u4: Uint32Array, i4: Int32Array };

export function stepEvents(msg, pane) {
  const p = msg.panes[pane];
  const { itemsize, fields } = msg.event_dtype;
  const bytes = msg.arrays[`p${pane}.events`];
  const n = p.events.n;
  if (bytes.length !== n * itemsize) throw new Error(`pane ${pane}: ${bytes.length} event bytes for ${n} records of ${itemsize}`);
  const out = { n, dropped: p.events.dropped };
  const { buffer, byteOffset } = bytes;
  const u32 = new Uint32Array(buffer, byteOffset, (n * itemsize) >> 2);
  const i32 = new Int32Array(buffer, byteOffset, (n * itemsize) >> 2);
  for (const [name, type, off] of fields) {
    if (type === "u8" || type === "i8") {
      const col = new Float64Array(n);
      const hi = type === "u8" ? u32 : i32;
      for (let i = 0, w = off >> 2, s = itemsize >> 2; i < n; i++, w += s) col[i] = hi[w + 1] * 4294967296 + u32[w];
      out[name] = col;
      continue;
    }
    const T = VIEWS[type];
    if (!T) throw new Error(`event field ${name}: unknown type '${type}'`);
    const view = new T(buffer, byteOffset, (n * itemsize) / T.BYTES_PER_ELEMENT);
    const col = new T(n);
    const s = itemsize / T.BYTES_PER_ELEMENT;
    for (let i = 0, j = off / T.BYTES_PER_ELEMENT; i < n; i++, j += s) col[i] = view[j];
    out[name] = col;
  }
  return out;
}

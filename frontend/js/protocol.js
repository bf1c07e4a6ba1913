// Mirrors backend/protocol.py (docs/protocol.md, version 4) key for key.
// Client -> server messages are JSON text; server -> client messages are JSON
// text except the binary `state`, `zoom` and `step` messages:
//   u32 LE header length H | H bytes UTF-8 JSON header | arrays at 8-aligned offsets.
const PROTOCOL_VERSION = 4;

const COMMANDS = {
  auth: ["token"],
  step: ["unit", "count", "branch", "peek", "have"],
  peek: ["unit", "count"],
  back: ["count"],
  seek: ["step"],
  play: ["unit", "rate"],
  pause: [],
  debugfs: ["text", "pane", "branch"],
  lru_gen: ["full", "pane"],
  inspect: ["pfn", "mapping", "index", "anon", "event", "pane"],
  state: ["hash", "delta"],
  zoom: ["pane", "list", "offset", "count"],
  run_until: ["until", "unit", "pane", "max_steps", "branch"],
  cancel: [],
  ping: ["id"],
};

export function encodeCommand(type, fields = {}) {
  const keys = COMMANDS[type];
  if (!keys) throw new Error(`unknown command type '${type}'`);
  const msg = { type };
  for (const k of Object.keys(fields)) {
    if (!keys.includes(k)) throw new Error(`command '${type}' has no field '${k}'`);
    if (fields[k] !== undefined) msg[k] = fields[k];
  }
  return JSON.stringify(msg);
}

const DTYPES = { int32: Int32Array, uint32: Uint32Array, uint8: Uint8Array, int64: BigInt64Array, uint64: BigUint64Array };

export function decodeFrame(data) {
  if (typeof data === "string") {
    const msg = JSON.parse(data);
    if (!msg || typeof msg.type !== "string") throw new Error("message without a type");
    if (msg.type === "hello" && msg.v !== PROTOCOL_VERSION) {
      throw new Error(`server speaks protocol v${msg.v}, this page v${PROTOCOL_VERSION}: reload the page`);
    }
    return msg;
  }
  const buf = data instanceof ArrayBuffer ? data : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  if (buf.byteLength < 4) throw new Error("binary frame shorter than its header length");
  const hlen = new DataView(buf).getUint32(0, true);
  if (4 + hlen > buf.byteLength) throw new Error("binary frame header runs past the end");
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, hlen)));
  const arrays = {};
  for (const a of header.arrays || []) {
    const T = DTYPES[a.dtype];
    if (!T) throw new Error(`unknown dtype '${a.dtype}' for ${a.name}`);
    if (a.offset % T.BYTES_PER_ELEMENT || a.offset + a.length * T.BYTES_PER_ELEMENT > buf.byteLength) {
      throw new Error(`array ${a.name} out of bounds`);
    }
    arrays[a.name] = new T(buf, a.offset, a.length);
  }
  return { ...header, type: header.type || "state", arrays, byteLength: buf.byteLength };
}

// A `state` frame of the location layout may carry only the frames that
// moved (`loc_delta`: p<k>.loc_pfn / p<k>.loc_val) since the previous state
// frame of this connection; this rebuilds the whole p<k>.loc from that one
// (a copy: the previous frame's array stays as it was, for the animation).
// Returns false when a delta has no base (the caller asks for a full state).
export function applyLocDelta(msg, prevLocs) {
  for (const p of msg.panes || []) {
    if (!p.loc_delta) continue;
    const base = prevLocs[p.pane];
    if (!base || base.length !== p.nr_frames) return false;
    const loc = new Uint8Array(base);
    const idx = msg.arrays[`p${p.pane}.loc_pfn`];
    const val = msg.arrays[`p${p.pane}.loc_val`];
    for (let i = 0; i < idx.length; i++) loc[idx[i]] = val[i];
    msg.arrays[`p${p.pane}.loc`] = loc;
  }
  return true;
}

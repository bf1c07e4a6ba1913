// "#rrggbb" -> a Uint32 pixel for an ImageData buffer (little-endian ABGR).
const cache = new Map();
export function rgba(hex, alpha = 255) {
  const key = hex + alpha;
  let v = cache.get(key);
  if (v === undefined) {
    const n = parseInt(hex.slice(1), 16);
    v = ((alpha << 24) | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff)) >>> 0;
    cache.set(key, v);
  }
  return v;
}

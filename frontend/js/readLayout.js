// The list layout of a binary `state` or `step` message (docs/protocol.md
// §3.3, §3.5), per pane, and the base it leaves for the next step message's
// delta. `bases` is this connection's {id, panes: []}: the layout last
// received, updated here. Returns null when a step message is a delta
// against a layout this page does not hold (the caller asks for a whole
// `state`, which is a new base).
//
// Order layout: per frame `flags`, `young` and `next` (the next pfn on the
// frame's list; entry nr_frames + head is a list head, whose next is the
// list's first folio). Every list's order is a walk from its head, so a
// step that moved a few folios sends only the links that changed. An MGLRU
// generation is two lists, its ZONE_DMA one then the one above.
import { LRU_LISTS } from "./lists.js";

const HEAD_LRU = 0;
const HEAD_GEN = 5;
const HEAD_GEN_DMA = 16;
const NR_HEADS = 24;
const MAX_NR_GENS = 4;

function walk(next, n, h, scratch) {
  const head = n + h;
  let k = 0;
  for (let p = next[head]; p !== head && p >= 0 && p < n && k < n; p = next[p]) scratch[k++] = p;
  return scratch.slice(0, k);
}

function orderOfStep(p, a, base) {
  const n = p.nr_frames;
  if (!p.layout_delta) return { flags: a("flags"), young: a("young"), next: a("next") };
  const flags = new Uint32Array(base.flags);
  const young = new Uint8Array(base.young);
  const next = new Int32Array(base.next);
  const idx = a("d_pfn"), dn = a("d_next"), df = a("d_flags"), dy = a("d_young");
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    next[j] = dn[i];
    if (j < n) { flags[j] = df[i]; young[j] = dy[i]; }
  }
  return { flags, young, next };
}

function listsOf(p, order) {
  const n = p.nr_frames;
  const scratch = new Int32Array(n);
  const lists = {};
  if (p.gens) {
    lists.LRU_UNEVICTABLE = walk(order.next, n, HEAD_LRU + 4, scratch);
    const genList = (seq, t) => {
      const i = (seq % MAX_NR_GENS) * 2 + t;
      const dma = walk(order.next, n, HEAD_GEN_DMA + i, scratch);
      const above = walk(order.next, n, HEAD_GEN + i, scratch);
      const out = new Int32Array(dma.length + above.length);
      out.set(dma);
      out.set(above, dma.length);
      return out;
    };
    const gens = { ...p.gens, gens: p.gens.gens.map((g) => ({ ...g, folios: [genList(g.seq, 0), genList(g.seq, 1)] })) };
    return { lists, gens };
  }
  LRU_LISTS.forEach((name, i) => { lists[name] = walk(order.next, n, HEAD_LRU + i, scratch); });
  return { lists, gens: null };
}

export function readLayout(msg, bases) {
  const step = msg.type === "step";
  if (step && msg.panes.some((p) => p.layout_delta) && msg.layout_base !== bases.id) return null;
  const out = msg.panes.map((p) => {
    const a = (name) => msg.arrays[`p${p.pane}.${name}`] || null;
    const base = bases.panes[p.pane];
    if (p.layout === "location") {
      let loc = a("loc");
      if (step && p.layout_delta) {
        loc = new Uint8Array(base.loc);
        const idx = a("loc_pfn"), val = a("loc_val");
        for (let i = 0; i < idx.length; i++) loc[idx[i]] = val[i];
      }
      return { loc, lists: {}, gens: p.gens, flags: null, young: null };
    }
    if (step && p.layout_delta && !(base?.next?.length === p.nr_frames + NR_HEADS)) return null;
    const order = step ? orderOfStep(p, a, base) : { flags: a("flags"), young: a("young"), next: a("next") };
    return { ...order, ...(step ? listsOf(p, order) : {}) };
  });
  if (out.includes(null)) return null;
  bases.id = msg.layout_id ?? null;
  bases.panes = out.map((l) => (l.loc ? { loc: l.loc } : { flags: l.flags, young: l.young, next: l.next }));
  return out;
}

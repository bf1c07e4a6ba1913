// Builds the per-pane view model the views draw from, by merging the binary
// `state` frame (list order, flags, meminfo, watermarks) with the JSON
// `frame` of each step (events, vmstat, sizes, generations).
import { LRU_LISTS } from "./lists.js";
import { stepEvents } from "./stepEvents.js";

function vmstatObject(v, names) {
  if (!Array.isArray(v)) return v || {};
  const out = {};
  (names?.vmstat || []).forEach((k, i) => { out[k] = v[i]; });
  return out;
}

function listCounts(sizes, gens) {
  const c = {};
  for (const name of LRU_LISTS) c[name] = sizes?.[name] ?? 0;
  if (gens) {
    // MGLRU has no active/inactive split; show its totals per type.
    c.anon = sizes?.anon ?? gens.gens.reduce((a, g) => a + g.nr_pages[0], 0);
    c.file = sizes?.file ?? gens.gens.reduce((a, g) => a + g.nr_pages[1], 0);
  }
  return c;
}

const EMPTY_EVENTS = Object.freeze({ n: 0, dropped: 0 });

export const paneModel = Object.freeze({
  fromState(msg) {
    return msg.panes.map((p) => {
      const a = (name) => msg.arrays[`p${p.pane}.${name}`] || null;
      const lists = {};
      for (const name of LRU_LISTS) lists[name] = a(name);
      let gens = p.gens;
      if (gens) {
        gens = { ...gens, gens: gens.gens.map((g) => ({ ...g, folios: [a(`gen${g.seq}.anon`), a(`gen${g.seq}.file`)] })) };
      }
      return {
        pane: p.pane, policy: p.policy, step: msg.step, nrSteps: msg.nr_steps,
        timeNs: p.time_ns, nrAccess: p.nr_access, done: p.done,
        nrFrames: p.nr_frames, layout: p.layout,
        vmstat: p.vmstat || {}, delta: null, meminfo: p.meminfo || {},
        watermarks: p.watermarks || null, nrFree: p.nr_free ?? p.sizes?.nr_free,
        sizes: p.sizes || {}, listCounts: listCounts(p.sizes, p.gens), gens,
        lists, flags: a("flags"), young: a("young"), loc: a("loc"),
        lruGenText: p.lru_gen ?? null, stateHash: p.state_hash ?? null,
        nrShadow: p.nr_shadow ?? null, files: p.files || {},
        events: EMPTY_EVENTS,
      };
    });
  },
  // A binary step message (§3.5): counters, events and the list layout of
  // the step together; `layout` is readLayout()'s answer for it.
  fromStep(msg, names, layout) {
    return msg.panes.map((p, i) => {
      const vm = msg.arrays[`p${p.pane}.vmstat`];
      const dv = msg.arrays[`p${p.pane}.vmstat_delta`];
      const vmstat = {};
      const delta = {};
      (names?.vmstat || []).forEach((k, j) => {
        vmstat[k] = Number(vm[j]);
        if (dv[j]) delta[k] = Number(dv[j]);
      });
      const l = layout[i];
      const gens = l.gens ?? p.gens;
      const lists = {};
      for (const name of LRU_LISTS) lists[name] = l.lists?.[name] ?? null;
      return {
        pane: p.pane, policy: p.policy, step: msg.step, nrSteps: msg.nr_steps,
        timeNs: p.time_ns, nrAccess: p.nr_access, done: p.done,
        nrFrames: p.nr_frames, layout: p.layout,
        vmstat, delta, meminfo: p.meminfo || {},
        watermarks: p.watermarks || null, nrFree: p.nr_free ?? p.sizes?.nr_free,
        sizes: p.sizes || {}, listCounts: listCounts(p.sizes, p.gens), gens,
        lists, flags: l.flags, young: l.young, loc: l.loc ?? null,
        lruGenText: p.lru_gen ?? null, stateHash: null, nrShadow: p.nr_shadow ?? null, files: p.files || {},
        events: stepEvents(msg, i), cause: msg.cause, stepsApplied: p.steps_applied,
      };
    });
  },
  // A step frame updates counters and events; the order arrays stay those of
  // the last state frame until the next one arrives (`stale` says so).
  fromFrame(msg, names, prev = []) {
    return msg.panes.map((p, i) => {
      const base = prev[i] || {};
      const gens = p.gens ? { ...p.gens, gens: p.gens.gens.map((g) => {
        const old = base.gens?.gens?.find((o) => o.seq === g.seq);
        return { ...g, folios: old ? old.folios : [null, null] };
      }) } : null;
      return {
        ...base,
        pane: p.pane, policy: p.policy, step: msg.step, nrSteps: msg.nr_steps,
        timeNs: p.time_ns, nrAccess: p.nr_access, done: p.done,
        vmstat: vmstatObject(p.vmstat, names), delta: p.vmstat_delta || {},
        sizes: p.sizes || {}, listCounts: listCounts(p.sizes, gens),
        nrFree: p.sizes?.nr_free ?? base.nrFree, gens,
        events: p.events || EMPTY_EVENTS, cause: msg.cause,
        stale: base.step !== msg.step,
      };
    });
  },
  // The state that follows a frame of the same step: take its arrays, keep
  // the frame's events and delta.
  merge(stateP, frameP) {
    if (!frameP || frameP.step !== stateP.step) return stateP;
    return { ...stateP, events: frameP.events, delta: frameP.delta, cause: frameP.cause };
  },
});

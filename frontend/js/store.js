// Latest state per pane plus a bounded history of counter samples; no DOM.
// Views read from here; messages write here, then ask the frame loop to draw.
export function createStore({ historyLimit = 5000 } = {}) {
  const listeners = new Set();
  const s = {
    session: null,          // {id, recipe, share_url, readOnly}
    panes: [],              // decoded pane states, one or two (compare)
    prevPanes: [],          // the states before the latest step (for animation)
    stepEvents: [],         // per pane: the latest step's events (columnar)
    series: [],             // per pane: {step:[], nr_free:[], pgscan:[], ...} columnar
    selected: null,         // {pane, pfn} or {pane, event}
    animStart: 0,
    lastError: null,
    connected: false,
    playing: false,
    unit: "scan",
    speed: 4,
    view: "lists",
    // The connection (reduceMessage.js): what the hello said, the latest
    // frame, and the layout bases the next step message is a delta against.
    hello: null,
    names: null,
    lastFrame: null,        // {msg, panes} of the latest frame or step message
    statePending: false,    // a `state` request is on its way
    wantState: false,       // ...and another one is wanted after it
    // Per pane: the location array of the last state frame (large machines);
    // with it the page asks for deltas instead of ~1 byte per frame per step.
    lastLocs: [],
    // The list layout last received (state or step message): the base of the
    // next step message's delta (readLayout.js).
    bases: { id: null, panes: [] },
    shownState: [],         // panes of the latest binary state (list order)
    inspectMsg: null,       // the inspector's latest `folio` answer
    firstStateMarked: false,
    vmstatByStep: new Map(), // "pane:step" -> vmstat (copy-as-text's baseline)
    timelineFor: -1,        // nr_steps the whole-run timeline was fetched for
    real: null,             // {replay, panes}: the real-kernel replay this session's trace is (controls.showReal)
    // The page (panes.js, controls.js).
    busy: null,             // {what, since}: a command the server is working on
    logPane: 0,             // compare mode: whose events the log lists
    showAllCounters: false,
    zoom: [],               // per pane [z0, z1] of each list (lists view)
    hwZoom: [],             // per pane [z0, z1] of the pfn range (hardware view)
    anim: null,             // {start, duration, flights: [], slide: []}
    flightExtent: [],       // per pane: the extent of what the last animation drew (tooling)
  };
  const SERIES = ["step", "nr_free_pages", "pgscan", "pgsteal", "workingset_refault", "pswpout", "pswpin"];
  function sample(i, pane) {
    let ser = s.series[i];
    if (!ser) { ser = s.series[i] = Object.fromEntries(SERIES.map((k) => [k, []])); }
    const v = pane.vmstat || {};
    const last = ser.step.length ? ser.step[ser.step.length - 1] : -1;
    // Going back in time truncates the samples so the plot never folds over itself.
    if (pane.step <= last) {
      let k = ser.step.length;
      while (k > 0 && ser.step[k - 1] >= pane.step) k--;
      for (const key of SERIES) ser[key].length = k;
    }
    ser.step.push(pane.step);
    ser.nr_free_pages.push(v.nr_free_pages ?? pane.nrFree ?? null);
    ser.pgscan.push((v.pgscan_kswapd ?? 0) + (v.pgscan_direct ?? 0));
    ser.pgsteal.push((v.pgsteal_kswapd ?? 0) + (v.pgsteal_direct ?? 0));
    ser.workingset_refault.push((v.workingset_refault_anon ?? 0) + (v.workingset_refault_file ?? 0));
    ser.pswpout.push(v.pswpout ?? 0);
    ser.pswpin.push(v.pswpin ?? 0);
    if (ser.step.length > historyLimit) for (const key of SERIES) ser[key].splice(0, ser[key].length - historyLimit);
  }
  return {
    state: s,
    setPanes(panes, { animate = false, now = 0 } = {}) {
      s.prevPanes = animate ? s.panes : panes;
      s.panes = panes;
      s.stepEvents = panes.map((p) => p.events);
      s.animStart = animate ? now : 0;
      panes.forEach((p, i) => sample(i, p));
      this.emit("panes");
    },
    set(key, value) { s[key] = value; this.emit(key); },
    on(fn) { listeners.add(fn); return () => listeners.delete(fn); },
    emit(what) { for (const fn of listeners) fn(what, s); },
  };
}

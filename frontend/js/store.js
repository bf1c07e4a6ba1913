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

// Wiring only: DOM lookups, the store, the connection and the frame loop.
import { api } from "./api.js";
import { connect } from "./connection.js";
import { createApp } from "./createApp.js";
import { createStore } from "./store.js";
import { frameLoop } from "./frameLoop.js";

const $ = (sel) => document.querySelector(sel);
const dom = {
  start: $("#start"), startForm: $("#start-form"), startSubmit: $("#start-submit"), startError: $("#start-error"),
  app: $("#app"), panes: $("#panes"), legend: $("#legend"), plots: $("#plots"),
  watch: $("#watch"), watchTitle: $("#watch-title"), watchText: $("#watch-text"),
  real: $("#real"), realTitle: $("#real-title"), realBody: $("#real-body"),
  eventLog: $("#event-log"), logCount: $("#log-count"), logFilter: $("#log-reclaim-only"), logPanes: $("#log-panes"), inspector: $("#inspector"), counters: $("#counters"),
  unit: $("#unit"), step: $("#step"), back: $("#back"), play: $("#play"), speed: $("#speed"), speedOut: $("#speed-out"),
  seek: $("#seek"), nrSteps: $("#nr-steps"), tabs: [...document.querySelectorAll(".tabs [data-view]")],
  status: $("#status"), sessionInfo: $("#session-info"), toast: $("#toast"),
  share: $("#share"), copyText: $("#copy-text"), fork: $("#fork"), since: $("#since"), sinceLabel: $("#since-label"), textOut: $("#text-out"),
  branchConfirm: $("#branch-confirm"), branchText: $("#branch-text"), branchYes: $("#branch-yes"), branchNo: $("#branch-no"), keptNote: $("#kept-note"), engineNote: $("#engine-note"), machineLine: $("#machine-line"),
  runUntil: $("#run-until"), runForm: $("#run-form"), runCond: $("#run-cond"), runWho: $("#run-who"), runLo: $("#run-lo"), runHi: $("#run-hi"), runCounter: $("#run-counter"), runN: $("#run-n"), vmstatNames: $("#vmstat-names"),
  runGo: $("#run-go"), busy: $("#busy"), busyProgress: $("#busy-progress"), busyText: $("#busy-text"), busyCancel: $("#busy-cancel"), logSearch: $("#log-search"),
  help: $("#help"), helpOpen: $("#help-open"), helpTable: $("#help-table"),
};

const app = createApp({
  dom,
  store: createStore(),
  connect,
  frameLoop,
  api,
  location: window.location,
  storage: window.localStorage,
  clipboard: navigator.clipboard || { writeText: () => Promise.reject(new Error("no clipboard")) },
  now: () => performance.now(),
});
window.reclaimlab = app;
app.start();

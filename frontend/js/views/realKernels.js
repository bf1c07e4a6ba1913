// "On the real kernels": per pane, what the real Debian kernels counted
// replaying the session's trace (GET /api/replays) beside the pane's own
// counters, and at the trace's end their ratio sim/real. The tables are
// built once per session; each frame writes only the text that changed
// (a rewrite of equal text still relays the page out).
import { holesNote, machineDiff, realRows, rigLine } from "../realKernels.js";

const EN = new Intl.NumberFormat("en-US");
const num = (n) => (n == null ? "–" : EN.format(Math.round(n)));

function build(el, { replay, machine, panes }) {
  el.textContent = "";
  const rig = document.createElement("p");
  rig.className = "rig";
  rig.textContent = `${replay.name}: replayed by ${rigLine(replay.machine)}.`;
  const note = document.createElement("p");
  note.className = "real-note";
  el.append(rig);
  // an upload of the replay's file on another machine: the same trace, not the same run
  const diff = machineDiff(machine, replay.machine);
  if (diff.length) {
    const warn = document.createElement("p");
    warn.className = "real-warn";
    warn.textContent = `This session's machine is not the rig's (${diff.join(", ")}): its counters do not compare with these, and no ratio is shown.`;
    el.append(warn);
  }
  const holes = holesNote(machine, replay, panes.map((p) => p.kernel));
  if (holes) {
    const h = document.createElement("p");
    h.className = "real-holes";
    h.textContent = holes;
    el.append(h);
  }
  const grid = document.createElement("div");
  grid.className = "real-panes";
  panes.forEach((p, i) => {
    const t = document.createElement("table");
    t.className = "real-table";
    t.dataset.pane = String(i);
    const cap = document.createElement("caption");
    cap.textContent = `${panes.length > 1 ? (i ? "B · " : "A · ") : ""}${p.title || p.policy}`;
    t.append(cap);
    const rows = realRows(replay, p, {}, false);
    const head = t.createTHead().insertRow();
    const boots = rows.replayed ? `real (${rows.boots.join(", ")})` : "real";
    const cols = [["counter", ""], [boots, rows.releases.join(", ")], ["this pane", "the pane's counter at its step"], ["sim/real", "at the trace's end: this pane over the boots' mean"]];
    // the same machine's boot on another host: shown, not in the mean
    if (rows.second) cols.push([`2nd host (${rows.second.boots.join(", ")})`, `${rows.second.host}: not in the boots' mean (docs/validation.md "A second host")`]);
    for (const [text, title] of cols) {
      const th = document.createElement("th");
      th.textContent = text;
      if (title) th.title = title;
      head.append(th);
    }
    const body = t.createTBody();
    for (const r of rows.rows) {
      const tr = body.insertRow();
      tr.dataset.counter = r.key;
      for (let k = 0; k < cols.length; k++) tr.insertCell();
      tr.cells[0].textContent = r.label;
      tr.cells[1].className = "real";
      tr.cells[2].className = "sim";
      tr.cells[3].className = "ratio";
      tr.cells[1].textContent = rows.replayed ? r.real.map(num).join(" · ") : "";
      if (rows.second) {
        tr.cells[4].className = "second-host";
        tr.cells[4].textContent = r.second.map(num).join(" · ");
      }
    }
    if (!rows.replayed) {
      // one cell down the real column says why it is empty
      const first = body.rows[0].cells[1];
      first.rowSpan = body.rows.length;
      first.className = "real not-replayed";
      first.textContent = rows.why;
      for (const tr of [...body.rows].slice(1)) tr.cells[1].remove();
    }
    t.dataset.replayed = rows.replayed ? "1" : "0";
    grid.append(t);
  });
  el.append(grid, note);
}

export function renderRealKernels(el, model, panes) {
  if (!el || !model) return;
  const sig = `${model.replay.name}|${model.panes.map((p) => `${p.policy}@${p.kernel}`).join(",")}`;
  if (el.dataset.sig !== sig) { build(el, model); el.dataset.sig = sig; }
  const put = (cell, text) => { if (cell && cell.textContent !== text) cell.textContent = text; };
  const tables = el.querySelectorAll("table.real-table");
  let allDone = panes.length > 0;
  let anyFirstHost = false;
  let anySecondHost = false;
  model.panes.forEach((p, i) => {
    const pane = panes[i];
    const done = Boolean(pane?.done);
    allDone = allDone && done;
    const rows = realRows(model.replay, p, pane?.vmstat, done, model.comparable);
    anyFirstHost = anyFirstHost || rows.replayed;
    anySecondHost = anySecondHost || rows.second != null;
    const body = tables[i]?.tBodies[0];
    if (!body) return;
    rows.rows.forEach((r, j) => {
      const tr = body.rows[j];
      put(tr.querySelector("td.sim"), pane ? num(r.sim) : "–");
      const rc = tr.querySelector("td.ratio");
      const text = r.ratio ? r.ratio.text : (rows.replayed && model.comparable ? "…" : "–");
      put(rc, text);
      const bold = Boolean(r.ratio?.bold);
      if (rc.classList.contains("off") !== bold) rc.classList.toggle("off", bold);
      const small = Boolean(r.ratio?.small);
      if (rc.classList.contains("small") !== small) {
        rc.classList.toggle("small", small);
        rc.title = small ? "both under 2,000: not judged (docs/validation.md)" : "";
      }
    });
  });
  put(el.querySelector(".real-note"), !model.comparable ? "The real numbers are the whole replay's, from its start to its end, on the rig's machine."
    // boots of the panes' kernels on the second host alone: nothing to set a ratio against
    : !anyFirstHost && anySecondHost
    ? "Only the second host booted this kernel: its numbers are the whole replay's, shown without a ratio (docs/validation.md \"A second host\")."
    : allDone
    ? "At the trace's end: sim/real over the mean of the boots; bold outside 0.80–1.20, and counts under 2,000 on both sides are not judged, as in docs/validation.md."
    : "The real numbers are the whole replay's, from its start to its end; this pane's grow as it steps, and sim/real is shown at the trace's end (Run until… the end of the workload).");
}

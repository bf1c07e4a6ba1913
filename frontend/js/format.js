// Plain-text formatting shared by views and the text excerpt.
// One formatter: Number.prototype.toLocaleString builds one per call, which
// made number formatting a top entry of a step's profile (counters, log).
const EN = new Intl.NumberFormat("en-US");
export const fmt = Object.freeze({
  count(n) {
    if (n == null || Number.isNaN(n)) return "–";
    return EN.format(Math.round(n));
  },
  // 1,045,349 -> "1.05M", 12,345 -> "12k": short, and every digit shown is right.
  round(n) {
    if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`;
    if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
    return String(n);
  },
  delta(n) {
    if (!n) return "0";
    return (n > 0 ? "+" : "−") + EN.format(Math.abs(Math.round(n)));
  },
  ns(ns) {
    if (ns == null) return "–";
    if (ns < 1e3) return `${ns} ns`;
    if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
    if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
    return `${(ns / 1e9).toFixed(3)} s`;
  },
  pages(n) {
    if (n == null) return "–";
    const kb = n * 4;
    if (kb < 1024) return `${n} pages (${kb} KiB)`;
    if (kb < 1024 * 1024) return `${n.toLocaleString("en-US")} pages (${(kb / 1024).toFixed(1)} MiB)`;
    return `${n.toLocaleString("en-US")} pages (${(kb / 1048576).toFixed(2)} GiB)`;
  },
  pad(s, w, right = false) {
    s = String(s);
    if (s.length >= w) return s.slice(0, w);
    return right ? s.padStart(w) : s.padEnd(w);
  },
});

// The session's machine in one line, under the header's session line
// (pure): what a viewer arriving by a share link needs to read the panes --
// RAM (what is available on a booted guest, and each pane's frames), on a
// guest the free pages its ZONE_DMA32 keeps in other migratetypes'
// pageblocks, given or the profile's median (they decide what wakes kswapd,
// docs/validation.md "kswapd woken by boosts"), swap, swappiness and
// readahead. From the hello message: the stored recipe and each pane's
// engine config. `short` leaves out the frames and the prefix (the header's
// width; the title has all).
import { fmt } from "./format.js";

const SWAP = { zram: "zram swap", ssd: "SSD swap", hdd: "HDD swap" };

const mib = (pages) => {
  const m = pages / 256;
  return Number.isInteger(m) ? `${fmt.count(m)} MiB` : `${fmt.count(pages)} pages`;
};
// one value, or each pane's when they differ ("18,140 / 18,733")
const perPane = (vals, f = fmt.count) => (new Set(vals).size === 1 ? f(vals[0]) : vals.map(f).join(" / "));

export function machineLine(hello, { short = false } = {}) {
  const m = hello?.recipe?.machine;
  const cfgs = (hello?.panes || []).map((p) => p.config || {});
  if (!m || !cfgs.length) return "";
  const kernels = [...new Set((hello.panes || []).map((p) => p.kernel))];
  const frames = perPane(cfgs.map((c) => c.ram_pages ?? m.ram_pages));
  const guests = kernels.length > 1 ? `booted ${kernels.join(" and ")} guests` : `a booted ${kernels[0]} guest`;
  const parts = [m.guest
    ? `${guests} with ${mib(m.ram_pages)} available${short ? "" : ` (${frames} frames)`}`
    : short ? `${frames} frames` : `${frames} frames (${mib(m.ram_pages)})`];
  if (m.guest || m.zone_normal_holes != null) {
    const holes = perPane(cfgs.map((c) => c.zone_normal_holes ?? 0));
    parts.push(`${m.guest ? "ZONE_DMA32" : "ZONE_NORMAL"} holes ${holes}${m.zone_normal_holes != null ? " (given)" : " (the profile's median)"}`);
  }
  const swap = cfgs[0].swap_pages ?? m.swap_pages;
  parts.push(m.swap_kind === "none" || !swap ? "no swap" : `${SWAP[m.swap_kind] ?? m.swap_kind} ${mib(swap)}`);
  parts.push(`swappiness ${m.swappiness ?? 60}`);
  const ra = m.readahead_pages ?? 32;
  parts.push(ra ? `readahead ${ra * 4} KiB` : "no readahead");
  return `${short ? "" : "Machine: "}${parts.join(" · ")}`;
}

// Every keyboard shortcut, in one table: the help overlay lists it and the
// key handler dispatches from it.
export const SHORTCUTS = Object.freeze([
  { key: "ArrowRight", label: "→ or n", action: "step", help: "step one unit forward" },
  { key: "n", label: "", action: "step", help: "" },
  { key: "ArrowLeft", label: "← or b", action: "back", help: "back one step" },
  { key: "b", label: "", action: "back", help: "" },
  { key: " ", label: "Space", action: "play", help: "play / pause" },
  { key: "1", label: "1", action: "unit:access", help: "unit = access" },
  { key: "2", label: "2", action: "unit:scan", help: "unit = scan (one isolation batch)" },
  { key: "3", label: "3", action: "unit:shrink", help: "unit = shrink (one shrink_lruvec pass)" },
  { key: "4", label: "4", action: "unit:aging", help: "unit = aging (until inc_max_seq)" },
  { key: "+", label: "+ / −", action: "faster", help: "speed up / slow down" },
  { key: "=", label: "", action: "faster", help: "" },
  { key: "-", label: "", action: "slower", help: "" },
  { key: "l", label: "l", action: "view:lists", help: "lists / generations view" },
  { key: "h", label: "h", action: "view:hardware", help: "hardware view" },
  { key: "g", label: "g", action: "seek", help: "go to step…" },
  { key: "s", label: "s", action: "share", help: "copy the share URL" },
  { key: "t", label: "t", action: "text", help: "copy as text" },
  { key: "0", label: "0", action: "zoomReset", help: "reset zoom (wheel zooms, drag pans)" },
  { key: "Escape", label: "Esc", action: "escape", help: "close help / clear selection" },
  { key: "?", label: "?", action: "help", help: "this help" },
]);

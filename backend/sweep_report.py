"""Reading a stored sweep: one flat row per cell (CSV, Parquet) and the
80-column comparison table for mailing lists (`reclaimlab sweep-report`).
Imports no web framework."""
from __future__ import annotations

import csv
import math
import textwrap
from typing import Optional

from backend.sweep import DERIVED

DIM_KEYS = ("workload", "policy", "kernel", "ram_mb", "swap_kind", "swap_mb", "swap_ratio",
            "swappiness", "guest", "zone_normal_holes", "seed")
METRIC_HELP = {
    "refaults": "workingset_refault_anon + workingset_refault_file",
    "file_reads": "pages read from storage into the page cache (pgpgin/4 - pswpin)",
    "swap_ins": "pswpin", "swap_outs": "pswpout",
    "sim_time_ns": "simulated run time, shown in seconds",
}
WIDTH = 80


class ReportError(ValueError):
    pass


def cell_rows(store, sweep_id: str) -> tuple[dict, list[dict]]:
    """(the sweep, one flat dict per finished cell in spec order): its key,
    coordinates, derived figures and every vmstat counter."""
    sw = store.get_sweep(sweep_id)
    if sw is None:
        raise ReportError(f"unknown sweep {sweep_id!r}")
    got = store.get_cells([c["key"] for c in sw["cells"]])
    rows = []
    for c in sw["cells"]:
        r = got.get(c["key"])
        if r is None:
            continue
        res, rec = r["result"], r["recipe"]
        row = {"sweep": sw["id"], "key": c["key"]}
        row.update({k: c["dims"].get(k) for k in DIM_KEYS})
        w = rec["workload"]
        row["scenario"] = w.get("scenario")
        row["trace"] = w.get("trace")
        row["ram_pages"] = rec["machine"]["ram_pages"]
        row["swap_pages"] = rec["machine"]["swap_pages"]
        row["accesses"] = res["accesses"]
        row.update(res["derived"])
        row.update(res["vmstat"])
        rows.append(row)
    return sw, rows


def filter_rows(rows: list[dict], where: list[str]) -> list[dict]:
    """Keep the rows whose coordinates match every `KEY=V1,V2` of `where`."""
    for w in where:
        key, sep, vals = w.partition("=")
        if not sep or key not in DIM_KEYS:
            raise ReportError(f"--where {w!r}: expected KEY=V1,V2 with KEY one of "
                              f"{', '.join(DIM_KEYS)}")
        want = {v.strip() for v in vals.split(",")}
        # a bool as TOML and --grid spell it (guest=true)
        rows = [r for r in rows if (str(r[key]).lower() if isinstance(r[key], bool) else str(r[key])) in want]
        if not rows:
            raise ReportError(f"--where {w!r}: no cell matches")
    return rows


def write_csv(rows: list[dict], path: str) -> None:
    if not rows:
        raise ReportError("no finished cells to export")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def write_parquet(rows: list[dict], path: str) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ReportError("Parquet export needs pyarrow: pip install 'reclaimlab[parquet]'") from None
    if not rows:
        raise ReportError("no finished cells to export")
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    pq.write_table(pa.table(cols), path)


# --- the 80-column table ------------------------------------------------------------

def _num(v: float) -> str:
    if v is None:
        return "-"
    if abs(v) >= 1e7:
        return f"{v / 1e6:,.1f}M"
    if float(v).is_integer():
        return f"{int(v):,d}"
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.3g}"


def _ratio(a: Optional[float], b: Optional[float]) -> str:
    if a is None or b is None:
        return "-"
    if a == 0:
        return "=" if b == 0 else "inf"
    r = b / a
    return f"{r:.2f}" if r < 100 else f"{r:.0f}"


def _score(a: float, b: float) -> float:
    """How different two figures are: |log| of their ratio, zero-safe."""
    return abs(math.log((b + 1.0) / (a + 1.0)))


def report(sw: dict, rows: list[dict], metric: str = "refaults", where: tuple = ()) -> str:
    """Policies side by side per workload (mean over seeds), each further
    policy's ratio to the first, and the cell where they differ most."""
    if not rows:
        raise ReportError(f"sweep {sw['id']} has no finished cells yet")
    if metric not in rows[0]:
        raise ReportError(f"unknown metric {metric!r}: one of {', '.join(DERIVED)} "
                          f"or a vmstat counter name")
    scale = 1e-9 if metric == "sim_time_ns" else 1.0
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    seeds = sorted({r["seed"] for r in rows if r["seed"] is not None})
    # the coordinates that vary (besides workload, policy and seed) make the rows
    vary = [k for k in DIM_KEYS[2:] if k != "seed" and len({repr(r[k]) for r in rows}) > 1]
    groups: dict = {}
    for r in rows:
        g = groups.setdefault(r["workload"], {})
        coord = tuple(r[k] for k in vary)
        g.setdefault(coord, {}).setdefault(r["policy"], []).append(r[metric] * scale)
    n_cells = len(sw["cells"])
    out = [f"reclaimlab sweep {sw['name']} ({sw['id']}): {len(rows)} of {n_cells} cells",
           ("only the cells where " + "; ".join(where) if where else ""),
           f"metric: {metric}"
           + (f" ({METRIC_HELP[metric]})" if metric in METRIC_HELP else ""),
           ("mean of %d seeds" % len(seeds) if len(seeds) > 1 else f"seed {seeds[0]}" if seeds else "")]
    if len(policies) > 1:
        out.append(f"ratio = {policies[1]} / {policies[0]}"
                   + (" (below 1: fewer with " + policies[1] + ")" if metric != "sim_time_ns" else ""))
    # wrapped, not cut: a metric's explanation runs past 80 columns
    out = [w for l in out if l for w in textwrap.wrap(l, WIDTH, subsequent_indent="  ", break_on_hyphens=False)]
    short = {"ram_mb": "RAM MiB", "swap_mb": "swap MiB", "swap_kind": "swap", "swap_ratio": "swap/RAM",
             "swappiness": "swappi", "kernel": "kernel", "zone_normal_holes": "holes"}
    head = [short.get(k, k) for k in vary]
    pcols = [p for p in policies]
    rcols = ["ratio"] if len(policies) == 2 else [f"/{p}" for p in policies[1:]]
    best = None
    for wl, g in groups.items():
        table = []
        for coord in sorted(g, key=lambda c: tuple((isinstance(x, str), x) for x in c)):
            means = [(sum(v) / len(v)) if (v := g[coord].get(p)) else None for p in policies]
            cells = [str(x) for x in coord] + [_num(m) for m in means]
            cells += [_ratio(means[0], m) for m in means[1:]]
            table.append(cells)
            for i, m in enumerate(means[1:], 1):
                if means[0] is not None and m is not None:
                    s = _score(means[0], m)
                    if best is None or s > best[0]:
                        best = (s, wl, coord, means[0], m, policies[i])
        hdr = head + pcols + rcols
        widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(hdr)]
        # squeeze to 80 columns: narrow the policy columns' headers first
        while sum(widths) + 2 * (len(widths) - 1) > WIDTH and max(widths) > 6:
            i = widths.index(max(widths))
            widths[i] -= 1
        out.append("")
        out.append(wl[:WIDTH])

        def fmt(cells):
            parts = []
            for i, (c, w) in enumerate(zip(cells, widths)):
                c = c[:w] if len(c) > w else c
                parts.append(c.ljust(w) if i < len(head) else c.rjust(w))
            return ("  " + "  ".join(parts)).rstrip()[:WIDTH]

        out.append(fmt(hdr))
        out.extend(fmt(t) for t in table)
    if best is not None and len(policies) > 1:
        s, wl, coord, a, b, p = best
        where = ", ".join(f"{short.get(k, k)} {v}" for k, v in zip(vary, coord))
        out += ["", "largest difference:",
                f"  {wl}" + (f", {where}" if where else ""),
                f"  {policies[0]} {_num(a)} vs {p} {_num(b)} (ratio {_ratio(a, b)})"]
        out = [l[:WIDTH] for l in out]
    return "\n".join(out)

"""Sweep specs: a TOML file (and `--grid KEY=V1,V2` options) expanded into
cells, each a recipe keyed by the hash of its content.

A spec is checked whole before anything runs: unknown keys, values the
engine would refuse (its `ConfigError`), scenario parameters out of range,
and trace files that are missing or unreadable are reported as
`FILE:LINE: what was wrong`. TOML syntax errors carry tomllib's own
position; for the others the line is found by looking the key up in the
text (`locate()`).

The cell recipe is plain JSON (docs/sweeps.md): it is what a worker gets
(DESIGN §6: ship recipes, never state) and what `cell_key()` hashes, so a
rerun of the same spec finds the cells it already has.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

PAGES_PER_MB = 256
CHUNKS = 64                      # counter samples along each cell's run (the timeline)
RECIPE_VERSION = 1

TOP_KEYS = {"sweep", "workload", "grid"}
SWEEP_KEYS = {"name", "description", "chunks"}
WORKLOAD_KEYS = {"scenario", "params", "accesses", "trace", "format", "obj_pages", "label"}
# the grid dimensions, in the order cells are enumerated and reports group them
GRID_KEYS = ("policy", "kernel", "ram_mb", "swap_kind", "swap_mb", "swap_ratio", "swappiness", "guest",
             "zone_normal_holes", "seed")
# --grid may also name workloads straight from the command line
CLI_WORKLOAD_KEYS = ("scenario", "accesses")
TRACE_FORMATS = ("v1", "oracleGeneral", "blocks")


class SpecError(ValueError):
    """A bad spec: `str()` is `FILE:LINE: message` (LINE when known)."""

    def __init__(self, source: str, line: Optional[int], message: str):
        self.source, self.line, self.message = source, line, message
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")


@dataclass
class Cell:
    key: str                 # sha256 of the canonical recipe (hex, 16 chars)
    recipe: dict             # what a worker runs (docs/sweeps.md, "The cell recipe")
    dims: dict               # the cell's coordinates, for reports and the page


@dataclass
class Sweep:
    name: str
    source: str              # the spec path, or "--grid"
    text: str                # the spec text as read (stored with the sweep)
    cells: list[Cell] = field(default_factory=list)

    @property
    def id(self) -> str:
        h = hashlib.sha256("\n".join(sorted(c.key for c in self.cells)).encode())
        return h.hexdigest()[:12]


# --- locating a key in the TOML text --------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")


def locate(text: str, path: tuple) -> Optional[int]:
    """The 1-based line of the deepest key of `path` found in `text`, e.g.
    ("workload", 1, "params", "size") or ("grid", "ram_mb"). Tables are
    `[name]`, arrays of tables `[[name]]` (the integer picks the entry),
    and inline tables are found on their key's line."""
    lines = text.splitlines()
    table: tuple = ()
    counts: dict = {}
    best = None
    want = tuple(p for p in path)
    for no, line in enumerate(lines, 1):
        m = _HEADER.match(line)
        if m:
            name = tuple(s.strip().strip('"') for s in m.group(2).split("."))
            if m.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = name + (counts[name],)
            else:
                table = name
            if want[:len(table)] == table and (best is None or len(table) > best[0]):
                best = (len(table), no)
            continue
        km = re.match(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]+\")\s*=", line)
        if not km:
            continue
        key = km.group(1).strip('"')
        full = table + (key,)
        if want[:len(full)] == full and (best is None or len(full) > best[0]):
            best = (len(full), no)
            # an inline table on this line: look for the deeper key on it
            rest = want[len(full):]
            if rest and isinstance(rest[0], str) and re.search(
                    r"[{,]\s*" + re.escape(rest[0]) + r"\s*=", line):
                best = (len(full) + 1, no)
    return None if best is None else best[1]


# --- parsing ---------------------------------------------------------------------

def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def parse_grid_option(text: str) -> tuple[str, list]:
    """`KEY=V1,V2,...` -> (key, [values]); numbers become numbers."""
    key, sep, vals = text.partition("=")
    key = key.strip()
    if not sep or not key or not vals.strip():
        raise ValueError(f"--grid {text!r}: expected KEY=V1,V2,...")
    out = []
    for v in vals.split(","):
        v = v.strip()
        try:
            out.append(int(v))
        except ValueError:
            try:
                out.append(float(v))
            except ValueError:
                out.append(v)
    return key, out


def load_spec(path: Optional[str], grid: list[tuple[str, list]] = (),
              engine_mod=None) -> Sweep:
    """Read and check a spec (and/or --grid options); expand it into cells.
    Raises SpecError naming the file and line of the first problem."""
    if path is None:
        text, source, doc = "", "--grid", {}
    else:
        source = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise SpecError(source, None, f"cannot read: {e.strerror or e}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SpecError(source, None, "not UTF-8 text") from None
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            # tomllib's message ends with "(at line L, column C)"
            m = re.search(r"\(at line (\d+), column \d+\)$", str(e))
            msg = re.sub(r"\s*\(at line \d+, column \d+\)$", "", str(e))
            raise SpecError(source, int(m.group(1)) if m else None,
                            f"TOML syntax: {msg}") from None
    base = Path(path).resolve().parent if path else Path.cwd()

    def err(where: tuple, msg: str):
        return SpecError(source, locate(text, where) if text else None, msg)

    for k in doc:
        if k not in TOP_KEYS:
            raise err((k,), f"unknown key {k!r} (known: {', '.join(sorted(TOP_KEYS))})")
    meta = doc.get("sweep", {})
    if not isinstance(meta, dict):
        raise err(("sweep",), "[sweep] must be a table")
    for k in meta:
        if k not in SWEEP_KEYS:
            raise err(("sweep", k), f"unknown key sweep.{k} (known: {', '.join(sorted(SWEEP_KEYS))})")
    chunks = meta.get("chunks", CHUNKS)
    if isinstance(chunks, bool) or not isinstance(chunks, int) or not 1 <= chunks <= 1024:
        raise err(("sweep", "chunks"), f"sweep.chunks must be an integer in 1..1024, got {chunks!r}")
    name = meta.get("name") or (Path(path).stem if path else "grid")
    if not isinstance(name, str):
        raise err(("sweep", "name"), "sweep.name must be a string")

    g = doc.get("grid", {})
    if not isinstance(g, dict):
        raise err(("grid",), "[grid] must be a table")
    g = dict(g)
    for k in g:
        if k not in GRID_KEYS:
            raise err(("grid", k), f"unknown grid key {k!r} (known: {', '.join(GRID_KEYS)})")
    workloads = doc.get("workload", [])
    if not isinstance(workloads, list):
        raise err(("workload",), "workloads are an array of tables: [[workload]]")
    workloads = [dict(w) for w in workloads]
    wl_where = [("workload", i) for i in range(len(workloads))]

    cli_wl: dict = {}
    for key, vals in grid:
        if key in GRID_KEYS:
            g[key] = vals
        elif key in CLI_WORKLOAD_KEYS:
            cli_wl[key] = vals
        else:
            raise SpecError("--grid", None, f"unknown key {key!r} (known: "
                            f"{', '.join(GRID_KEYS + CLI_WORKLOAD_KEYS)})")
    if "scenario" in cli_wl:
        acc = cli_wl.get("accesses", [None])
        workloads = [{"scenario": s, **({"accesses": a} if a is not None else {})}
                     for s in cli_wl["scenario"] for a in acc]
        wl_where = [None] * len(workloads)
    elif "accesses" in cli_wl:
        for w in workloads:
            if "scenario" in w:
                w["accesses"] = cli_wl["accesses"]
    if not workloads:
        raise SpecError(source, None, "no workloads: add [[workload]] tables or --grid scenario=...")

    eng = engine_mod
    if eng is None:
        import engine as eng
    from engine import config as engine_config

    # grid values: lists of scalars, checked here; the machine as a whole by the engine below
    dims: dict = {}
    for k in GRID_KEYS:
        if k not in g:
            continue
        vals = _as_list(g[k])
        if not vals:
            raise err(("grid", k), f"grid.{k} is an empty list")
        if len(set(map(repr, vals))) != len(vals):
            raise err(("grid", k), f"grid.{k} repeats a value")
        for v in vals:
            if k in ("policy", "swap_kind", "kernel"):
                if not isinstance(v, str) and k != "kernel":
                    raise err(("grid", k), f"grid.{k}: {v!r} is not a string")
            elif k == "guest":
                if v not in (True, False, "true", "false"):
                    raise err(("grid", k), f"grid.guest: {v!r} is not true or false")
            elif k == "swap_ratio":
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                    raise err(("grid", k), f"grid.swap_ratio: {v!r} is not a non-negative number")
            elif isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise err(("grid", k), f"grid.{k}: {v!r} is not a non-negative integer")
        dims[k] = [_grid_value(k, v) for v in vals]
    if "swap_mb" in dims and "swap_ratio" in dims:
        raise err(("grid", "swap_ratio"), "give grid.swap_mb or grid.swap_ratio, not both")
    for p in dims.get("policy", ()):
        if p not in eng.POLICIES:
            raise err(("grid", "policy"), f"unknown policy {p!r} (known: {', '.join(eng.POLICIES)})")
    if "kernel" in dims:
        kernels = getattr(engine_config, "KERNELS", None)
        if kernels is None:
            raise err(("grid", "kernel"), "this engine has no kernel profiles yet "
                      "(engine.config.KERNELS is missing): drop grid.kernel")
        for k in dims["kernel"]:
            if k not in kernels:
                raise err(("grid", "kernel"), f"unknown kernel {k!r} (known: {', '.join(kernels)})")
    dims.setdefault("policy", ["lru", "lru_gen"])
    if "ram_mb" not in dims:
        raise err(("grid",), "grid.ram_mb is required (the RAM sizes, in MiB)")

    wls = [_check_workload(w, where, base, err) for w, where in zip(workloads, wl_where)]

    sw = Sweep(name=name, source=source, text=text)
    seen = set()
    names = [d for d in GRID_KEYS if d in dims]
    variants = [v for wl in wls for v in _variants(wl)]
    for wl in variants:
        for combo in itertools.product(*(dims[d] for d in names)):
            c = dict(zip(names, combo))
            recipe = _cell_recipe(wl, c, chunks)
            try:
                # the machine as asked for (a bare one: a guest's RAM is what is
                # available, its frames come with its profile), then as a session builds it
                if not recipe["machine"].get("guest"):
                    engine_config.normalize_config({"policy": recipe["policy"], **recipe["machine"]})
                engine_config.normalize_config(engine_config_of(recipe))
            except engine_config.ConfigError as e:
                key = _SPEC_KEY_OF_CONFIG.get(e.key.split(".")[0], e.key)
                raise err(("grid", key), f"impossible machine {_fmt_dims(c)}: {e}") from None
            except ValueError as e:    # pydantic: the session recipe's static limits
                loc = e.errors()[0]["loc"] if hasattr(e, "errors") else ()
                key = _SPEC_KEY_OF_CONFIG.get(str(loc[-1]) if loc else "", "ram_mb")
                msg = e.errors()[0]["msg"] if hasattr(e, "errors") else str(e)
                raise err(("grid", key), f"impossible machine {_fmt_dims(c)}: "
                          f"{'.'.join(map(str, loc))}: {msg}") from None
            cell = Cell(key=cell_key(recipe), recipe=recipe,
                        dims={"workload": wl["label"], **c})
            if cell.key in seen:
                continue
            seen.add(cell.key)
            sw.cells.append(cell)
    return sw


def _grid_value(key: str, v):
    """A checked grid value as cells carry it: a kernel is a name even where
    TOML read a number (7.3), and --grid guest=true,false arrives as text."""
    if key == "kernel":
        return str(v)
    if key == "guest":
        return v in (True, "true")
    return v


_SPEC_KEY_OF_CONFIG = {"ram_pages": "ram_mb", "swap_pages": "swap_mb", "swap_kind": "swap_kind",
                       "swappiness": "swappiness", "policy": "policy", "kernel": "kernel",
                       "watermarks": "ram_mb", "guest": "guest", "zone_normal_holes": "zone_normal_holes",
                       "zone_normal_claimable": "zone_normal_holes"}


def _fmt_dims(c: dict) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in c.items()) + ")"


def _check_workload(w: dict, where, base: Path, err) -> dict:
    def e(sub, msg):
        if where is None:
            return SpecError("--grid", None, msg)
        return err(where + sub, msg)

    for k in w:
        if k not in WORKLOAD_KEYS:
            raise e((k,), f"unknown workload key {k!r} (known: {', '.join(sorted(WORKLOAD_KEYS))})")
    if ("scenario" in w) == ("trace" in w):
        raise e((), "a workload needs exactly one of 'scenario' or 'trace'")
    out: dict = {"label": w.get("label")}
    if "scenario" in w:
        from engine.workloads import SCENARIOS, WorkloadError
        name = w["scenario"]
        if name not in SCENARIOS:
            raise e(("scenario",), f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
        params = w.get("params", {})
        if not isinstance(params, dict):
            raise e(("params",), "params must be a table")
        keys = sorted(params)
        combos = [dict(zip(keys, vs)) for vs in itertools.product(*(_as_list(params[k]) for k in keys))]
        for combo in combos:
            for k in keys:
                try:
                    SCENARIOS[name].check_params(**{k: combo[k]})
                except WorkloadError as ex:
                    raise e(("params", k), str(ex)) from None
        accesses = _as_list(w.get("accesses", [None]))
        for a in accesses:
            if a is not None and (isinstance(a, bool) or not isinstance(a, int) or a < 1):
                raise e(("accesses",), f"accesses must be a positive integer, got {a!r}")
        out.update(kind="scenario", scenario=name, params=combos, accesses=accesses)
        out["label"] = out["label"] or name
        return out
    if "params" in w or "accesses" in w:
        raise e(("params" if "params" in w else "accesses",),
                "'params' and 'accesses' go with 'scenario', not 'trace'")
    p = Path(w["trace"])
    if not p.is_absolute():
        p = (base / p).resolve()
    fmt = w.get("format")
    if fmt is not None and fmt not in TRACE_FORMATS:
        raise e(("format",), f"unknown trace format {fmt!r} (known: {', '.join(TRACE_FORMATS)})")
    obj = w.get("obj_pages")
    if obj is not None and obj not in ("size", "one"):
        raise e(("obj_pages",), f"obj_pages must be 'size' or 'one', got {obj!r}")
    if not p.is_file():
        raise e(("trace",), f"trace file {str(p)!r} does not exist")
    from engine.trace import TraceError, read_trace
    try:
        wl = read_trace(str(p), format=fmt, **({} if obj is None else {"obj_pages": obj}))
    except TraceError as ex:
        raise e(("trace",), f"unreadable trace: {ex}") from None
    if len(wl.accesses) == 0:
        raise e(("trace",), f"trace {str(p)!r} has no accesses")
    out.update(kind="trace", trace=str(p), format=fmt, obj_pages=obj, sha256=_sha256(p))
    out["label"] = out["label"] or p.name
    return out


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _variants(wl: dict) -> list[dict]:
    """A workload entry with lists of params/accesses -> one workload per combination;
    the label names what varies."""
    if wl["kind"] != "scenario":
        return [wl]
    out = []
    many_p, many_a = len(wl["params"]) > 1, len(wl["accesses"]) > 1
    for params in wl["params"]:
        for acc in wl["accesses"]:
            label = wl["label"]
            if many_p:
                varying = [k for k in params if len({repr(p[k]) for p in wl["params"]}) > 1]
                label += " " + " ".join(f"{k}={params[k]}" for k in varying)
            if many_a:
                label += f" n={acc}"
            out.append({**wl, "params": params, "accesses": acc, "label": label})
    return out


def _cell_recipe(wl: dict, c: dict, chunks: int) -> dict:
    ram = c["ram_mb"] * PAGES_PER_MB
    kind = c.get("swap_kind", "zram")
    if kind == "none":
        swap = 0 if "swap_mb" not in c else c["swap_mb"] * PAGES_PER_MB
    elif "swap_mb" in c:
        swap = c["swap_mb"] * PAGES_PER_MB
    elif "swap_ratio" in c:
        swap = int(round(c["swap_ratio"] * ram))
    else:
        swap = ram // 2
    machine = {"ram_pages": ram, "swap_kind": kind, "swap_pages": swap,
               "swappiness": c.get("swappiness", 60)}
    # only when asked for: the cells of a spec without them keep their keys
    if c.get("guest"):
        machine["guest"] = True
    if "zone_normal_holes" in c:
        machine["zone_normal_holes"] = c["zone_normal_holes"]
    if wl["kind"] == "scenario":
        workload = {"scenario": wl["scenario"], "params": wl["params"], "accesses": wl["accesses"]}
    else:
        workload = {"trace": wl["trace"], "format": wl["format"], "obj_pages": wl["obj_pages"],
                    "sha256": wl["sha256"]}
    r = {"v": RECIPE_VERSION, "workload": workload, "machine": machine, "policy": c["policy"],
         "seed": c.get("seed", 1), "chunks": chunks}
    if "kernel" in c:
        r["kernel"] = c["kernel"]
    return r


def engine_config_of(recipe: dict) -> dict:
    """The Simulator config of a cell: the one an interactive session built
    from the same recipe uses (backend.recipes.Recipe.engine_configs()), plus
    the kernel profile when the cell names one."""
    from backend.recipes import Recipe
    return Recipe.model_validate(session_recipe(recipe, trace_id="-")).engine_configs()[0]


def session_recipe(recipe: dict, trace_id: Optional[str] = None) -> dict:
    """The interactive session's recipe (backend.recipes.Recipe) of a cell."""
    w = recipe["workload"]
    if "scenario" in w:
        workload = {"scenario": w["scenario"], "params": dict(w.get("params") or {})}
        if w.get("accesses") is not None:
            workload["accesses"] = w["accesses"]
    else:
        workload = {"trace_id": trace_id}
    pane = {"policy": recipe["policy"]}
    if "kernel" in recipe:
        pane["kernel"] = recipe["kernel"]
    return {"machine": dict(recipe["machine"]), "workload": workload, "policies": [pane],
            "seed": recipe["seed"]}


def cell_key(recipe: dict) -> str:
    """Content hash of a cell recipe and the engine version it runs on."""
    blob = json.dumps({"recipe": recipe, "engine": engine_version()}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


_ENGINE_VERSION: Optional[str] = None


def engine_version() -> str:
    """The package version and a hash of the engine's sources: a cell stored
    by another engine is not taken for one of this engine's (resume)."""
    global _ENGINE_VERSION
    if _ENGINE_VERSION is None:
        try:
            from importlib.metadata import version
            v = version("reclaimlab")
        except Exception:
            v = "unknown"
        import engine
        h = hashlib.sha256()
        src = Path(engine.__file__).resolve().parent
        for p in sorted(src.glob("*.py")) + sorted(src.glob("*.pyx")) + sorted(src.glob("*.pxd")):
            h.update(p.name.encode() + b"\0" + p.read_bytes())
        _ENGINE_VERSION = f"{v}+{h.hexdigest()[:12]}"
    return _ENGINE_VERSION


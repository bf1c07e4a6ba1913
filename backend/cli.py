"""The ``reclaimlab`` command (DESIGN §5.1): ``serve``, ``simulate``, ``scenarios``,
and ``sweep`` / ``sweep-report`` (docs/sweeps.md).

User errors (bad options, a malformed trace, an engine ConfigError) print one
line on stderr and exit non-zero -- 2 for a bad command line, 1 for anything
else -- and never a Python traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# Before numpy is first imported (engine.kernels below loads the engine): its
# OpenBLAS starts a thread per core that spins (0.1 s of CPU at import,
# measured); no command here does linear algebra worth a thread.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# numpy asks for transparent huge pages on every array of 4 MiB or more. Ours
# are streaming buffers (the trace reader's chunks, the rank cache), written
# once and handed back to malloc, so each first write zeroed a whole 2 MiB
# page again and again: 0.3-1.5 s of system time on a 20 M-request trace on
# this machine, 0.3 s with 4 KiB pages (BENCHMARKS.md "Whole process"). The
# engine's randomly indexed tables keep theirs (engine/core.pyx advise_huge()).
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

PAGES_PER_MB = 256                  # 4 KiB folios
BOTH = "both"                       # --policy both: the kernel's own policies side by side
SWAP_KINDS = ("zram", "ssd", "hdd", "none")

# The counters of the readable summary, in the order a reclaim story is told.
SUMMARY_COUNTERS = (
    "pgfault", "pgmajfault",
    "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct",
    "pgscan_anon", "pgscan_file", "pgsteal_anon", "pgsteal_file",
    "pgrefill", "pgactivate", "pgdeactivate", "pgrotated",
    "workingset_refault_anon", "workingset_refault_file",
    "workingset_activate_anon", "workingset_activate_file",
    "workingset_restore_anon", "workingset_restore_file",
    "pswpin", "pswpout", "nr_vmscan_write", "nr_vmscan_immediate_reclaim",
    "allocstall_movable", "pageoutrun", "oom_kill",
    # the guests' kswapd runs for ZONE_DMA alone and 7.3's compaction (docs/kernels.md)
    "pgskip_dma32", "pgmigrate_success",
    # the page cache's shadow-only nodes and those the shadow shrinker freed
    "workingset_nodes", "workingset_nodereclaim",
)


class UserError(Exception):
    """A problem the user can fix; printed as one line."""

    def __init__(self, msg: str, status: int = 1):
        super().__init__(msg)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (no usage dump)."""

    def error(self, message):
        raise UserError(f"{self.prog}: error: {message}", 2)


def _nonneg_int(text: str) -> int:
    try:
        v = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return v


def _pos_int(text: str) -> int:
    v = _nonneg_int(text)
    if v == 0:
        raise argparse.ArgumentTypeError("must be positive")
    return v


def _param(text: str) -> tuple[str, float]:
    key, sep, val = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    try:
        return key, float(val)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{key}: {val!r} is not a number") from None


try:  # engine.kernels is plain Python, but importing it loads the engine package
    from engine.kernels import DEFAULT_KERNEL as _DEFAULT_KERNEL, GUEST_SPREAD as _SPREAD, KERNELS as _KERNELS, \
        PACES as _PACES, guest_machine, rig_counters, spread_is_wide
    _KERNEL_KEYS = tuple(_KERNELS)
except ImportError:  # the engine is not built: cmd_simulate says so before any run
    _DEFAULT_KERNEL, _KERNEL_KEYS, _PACES, _SPREAD = "7.3", (), ("engine",), ()
    guest_machine = rig_counters = spread_is_wide = None


def _kernels(text: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in text.split(","))
    for k in keys:
        if _KERNEL_KEYS and k not in _KERNEL_KEYS:
            raise argparse.ArgumentTypeError(f"unknown kernel profile {k!r} (known: {', '.join(_KERNEL_KEYS)})")
    if not 1 <= len(keys) <= 2 or len(set(keys)) != len(keys):
        raise argparse.ArgumentTypeError("give one kernel profile or two different ones")
    return keys


def _policy_list(text: str) -> tuple:
    """--policy: a registered key, several joined by commas (side by side), or both."""
    try:
        from engine import POLICY_INFO
    except ImportError:
        POLICY_INFO = None             # reported when the engine is needed
    if text == BOTH:
        if POLICY_INFO is None:
            return (BOTH,)
        return tuple(k for k, i in POLICY_INFO.items() if i.kernel)
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    if not keys:
        raise argparse.ArgumentTypeError("no policy given")
    if POLICY_INFO is not None:
        for k in keys:
            if k not in POLICY_INFO:
                raise argparse.ArgumentTypeError(
                    f"invalid choice: {k!r} (choose from {', '.join([*POLICY_INFO, BOTH])})")
    return keys


def load_policies(argv) -> None:
    """Register installed policies (entry points) and --policies DIR before the
    command line is parsed, so --policy and the server see them."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--policies", action="append", default=[])
    known, _ = pre.parse_known_args(argv)
    try:
        import engine
    except ImportError:
        return
    try:
        engine.load_entry_points()
        for d in known.policies:
            engine.load_policy_dir(d)
    except engine.PolicyLoadError as e:
        raise UserError(f"reclaimlab: --policies: {e}", 2) from None


def _policy_help() -> str:
    try:
        from engine import POLICY_INFO
        keys = ", ".join(POLICY_INFO)
    except ImportError:
        keys = "lru, ..."
    return (f"reclaim policy: one of {keys}; several joined by commas run side by side; "
            f"{BOTH} = the kernel's own policies (default)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="reclaimlab",
                description="Interactive simulator of Linux memory reclaim "
                            "(classic LRU and MGLRU).")
    sub = p.add_subparsers(dest="command",
                           metavar="{serve,simulate,scenarios,sweep,sweep-report,store}",
                           parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("serve", help="run the web app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=_nonneg_int, default=8000)
    s.add_argument("--data", default=None, metavar="DIR",
                   help="data directory (sessions, traces); default $RECLAIMLAB_DATA or ./data")
    s.add_argument("--on-damage", choices=("move", "refuse"), default=None,
                   help="a store that fails its integrity check at start-up: move it aside "
                        "and start a new one (default), or refuse to start")
    s.add_argument("--policies", action="append", default=[], metavar="DIR",
                   help="also offer the Python policies of DIR (repeatable; see docs/policies.md)")
    s.add_argument("--workers", type=_pos_int, default=1, metavar="N",
                   help="server processes (default 1). With N > 1 a parent process routes "
                        "each connection to the worker that owns the session it names; each "
                        "worker admits against 1/N of the memory budget and of "
                        "max_live_sessions (docs/server.md)")
    # set by the parent of `--workers N` for its workers only
    s.add_argument("--worker-fd", type=int, default=None, help=argparse.SUPPRESS)
    s.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)

    m = sub.add_parser("simulate", help="run a workload headless to the end and print counters")
    src = m.add_mutually_exclusive_group(required=True)
    src.add_argument("--scenario", metavar="NAME", help="a built-in scenario (see `reclaimlab scenarios`)")
    src.add_argument("--trace", metavar="FILE",
                     help="a trace file (v1 text, oracleGeneral, or block numbers; gzip, bzip2, "
                          "xz or zstd compressed), streamed; - reads standard input")
    m.add_argument("--trace-format", choices=("v1", "oracleGeneral", "blocks"),
                   help="override trace format auto-detection")
    m.add_argument("--obj-pages", choices=("size", "one"),
                   help="oracleGeneral: an object spans ceil(size/4 KiB) pages (size, default) "
                        "or one page (one); see docs/trace-format.md")
    m.add_argument("--policy", type=_policy_list, default=BOTH, help=_policy_help())
    m.add_argument("--kernel", type=_kernels, default=None, metavar="K[,K]",
                   help="kernel profile(s) the engine imitates: " + ", ".join(_KERNEL_KEYS)
                        + f" (default {_DEFAULT_KERNEL}); two, comma-separated, run each "
                          "policy under both (docs/kernels.md)")
    m.add_argument("--policies", action="append", default=[], metavar="DIR",
                   help="load the Python policies of DIR (repeatable; see docs/policies.md)")
    m.add_argument("--ram-mb", type=_pos_int, metavar="N",
                   help="memory available to the workload when it starts (MemAvailable), as on a "
                        "booted guest of the kernel profile: its frames and its own idle tmpfs/anon "
                        "come with it (docs/kernels.md \"Boot footprint\"; default: the engine's "
                        "bare 256 MiB machine)")
    m.add_argument("--bare", action="store_true",
                   help="with --ram-mb: exactly N MiB of frames and no system pages")
    m.add_argument("--pace", choices=_PACES, default="engine",
                   help="with --ram-mb: the guest's clock: the engine's costs (default) or the "
                        "real-kernel rig's QEMU guests' measured pace, on which 6.12 and 7.3 read "
                        "memcg stats flushed every 2 s (docs/validation.md \"The guests' pace\")")
    m.add_argument("--spread", action="store_true",
                   help="with --ram-mb: also simulate guests with 0.98, 0.99, 1.01 and 1.02x that "
                        "MemAvailable (real boots start that far apart) and give each counter's range: "
                        "a result that moves by more than 25 %% across them is on a knife edge "
                        "(docs/validation.md \"The loop's two outcomes\")")
    m.add_argument("--swap-mb", type=_nonneg_int, metavar="N",
                   help="swap size (default: half of --ram-mb; 0 = no swap)")
    m.add_argument("--swap-kind", choices=SWAP_KINDS)
    m.add_argument("--swappiness", type=_nonneg_int, metavar="N", help="vm.swappiness, 0..200")
    m.add_argument("--read-ahead-kb", type=_nonneg_int, metavar="N",
                   help="the block device's read_ahead_kb (default 128, the kernel's; 0 = off)")
    m.add_argument("--no-large-folios", action="store_true",
                   help="7.3 with 4 KiB page-cache folios only, as ext4 mounted data=journal "
                        "(docs/kernels.md \"Large folios\"); 6.1 and 6.12 have none anyway")
    m.add_argument("--zone-dma-mb", type=_nonneg_int, metavar="N",
                   help="ZONE_DMA's size (default 15, x86_64's 3,840 pages, on a booted guest and on a bare "
                        "machine from 64 MiB up; 0 = one zone)")
    m.add_argument("--zone-normal-holes", type=_nonneg_int, metavar="N",
                   help="the free pages the zone above ZONE_DMA (a guest's ZONE_DMA32) keeps in unmovable "
                        "and reclaimable pageblocks, as /proc/pagetypeinfo shows them during a replay "
                        "(default with --ram-mb: the profile's median); above the zone's low mark only "
                        "the fallbacks' boosts wake kswapd (docs/validation.md \"kswapd woken by boosts\")")
    m.add_argument("--seed", type=_nonneg_int, default=0, metavar="N",
                   help="scenario seed (default 0): same seed, same workload")
    m.add_argument("--accesses", type=_pos_int, metavar="N",
                   help="scenario length (default: the scenario's, scaled with RAM)")
    m.add_argument("--param", type=_param, action="append", default=[], metavar="KEY=VALUE",
                   help="a scenario parameter (repeatable)")
    m.add_argument("--json", action="store_true", help="print one JSON object (a list of two with both)")

    st = sub.add_parser("store", help="check or back up the session store")
    st_sub = st.add_subparsers(dest="store_command", metavar="{check,backup}", parser_class=_Parser)
    st_sub.required = True
    ck = st_sub.add_parser("check", help="integrity_check and every row read back; exit 1 on damage")
    bk = st_sub.add_parser("backup", help="a consistent copy, safe while the server runs")
    bk.add_argument("dest", metavar="FILE", help="where to write the copy (must not exist)")
    for q in (ck, bk):
        q.add_argument("--data", default=None, metavar="DIR",
                       help="data directory; default $RECLAIMLAB_DATA or ./data")

    c = sub.add_parser("scenarios", help="list the built-in scenarios")
    c.add_argument("--json", action="store_true", help="names, titles, what to watch, parameters")
    c.add_argument("-v", "--verbose", action="store_true", help="also print what to watch for")

    w = sub.add_parser("sweep", help="run a grid of headless simulations (docs/sweeps.md)")
    w.add_argument("spec", nargs="?", metavar="SPEC", help="a TOML sweep spec")
    w.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="set a grid dimension (or scenario=..., accesses=...); repeatable")
    w.add_argument("--data", default=None, metavar="DIR",
                   help="the store's data directory; default $RECLAIMLAB_DATA or ./data")
    w.add_argument("--jobs", type=_pos_int, metavar="N",
                   help="local processes (default: one per core)")
    w.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the cells on this Dask distributed scheduler instead")
    w.add_argument("--csv", metavar="FILE", help="export every finished cell as CSV")
    w.add_argument("--parquet", metavar="FILE", help="... as Parquet (needs pyarrow)")
    w.add_argument("--report", action="store_true", help="print the comparison table at the end")
    w.add_argument("--metric", default="refaults", metavar="NAME",
                   help="the table's figure: refaults (default), file_reads, swap_ins, "
                        "swap_outs, sim_time_ns or any vmstat counter")
    w.add_argument("--where", action="append", default=[], metavar="KEY=V1,V2",
                   help="report and export only the cells with these coordinates; repeatable")

    r = sub.add_parser("sweep-report", help="the 80-column comparison table of a stored sweep")
    r.add_argument("sweep", metavar="SWEEP", help="a sweep id, or the spec it was run from")
    r.add_argument("--data", default=None, metavar="DIR")
    r.add_argument("--metric", default="refaults", metavar="NAME")
    r.add_argument("--where", action="append", default=[], metavar="KEY=V1,V2",
                   help="only the cells with these coordinates (e.g. kernel=7.3); repeatable")
    r.add_argument("--csv", metavar="FILE")
    r.add_argument("--parquet", metavar="FILE")
    return p


# --- scenarios ---------------------------------------------------------------------

def cmd_scenarios(args) -> int:
    from engine.workloads import SCENARIOS
    if args.json:
        out = [{"name": s.name, "title": s.title, "watch": s.watch,
                "default_accesses": s.default_accesses,
                "params": {p.name: {"default": p.default, "min": p.lo, "max": p.hi, "help": p.doc}
                           for p in s.params}} for s in SCENARIOS.values()]
        print(json.dumps(out, indent=1))
        return 0
    width = max(len(n) for n in SCENARIOS)
    for s in SCENARIOS.values():
        print(f"{s.name:<{width}}  {s.default_accesses:>9,d}  {s.title}")
        if args.verbose:
            print(_wrap(s.watch, indent=" " * (width + 2)))
    return 0


def _wrap(text: str, indent: str) -> str:
    import textwrap
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent) + "\n"


# --- simulate ---------------------------------------------------------------------

def _open_workload(args, ram_pages: int | None):
    """The workload as a stream of chunks (a scenario generated as it is
    consumed, or a trace read as it is consumed) with ``names`` and ``meta``."""
    if args.scenario is not None:
        from engine.workloads import SCENARIOS, WorkloadError
        try:
            return SCENARIOS[args.scenario].stream(ram_pages, args.seed, args.accesses,
                                                   **dict(args.param))
        except WorkloadError as e:
            raise UserError(f"reclaimlab simulate: --scenario: {e}", 2) from None
    from engine.trace import TraceError, open_trace
    if args.accesses is not None or args.param:
        raise UserError("reclaimlab simulate: error: --accesses and --param go with --scenario", 2)
    options = {} if args.obj_pages is None else {"obj_pages": args.obj_pages}
    try:
        return open_trace(args.trace, format=args.trace_format, **options)
    except TraceError as e:
        raise UserError(f"reclaimlab simulate: {e}") from None


class _Progress:
    """Progress on stderr for long runs: a bar redrawn in place on a tty, a
    line every 10 s otherwise, nothing with --json when stderr is not a tty.
    Quiet for the first second (short runs print nothing)."""

    def __init__(self, stream, as_json: bool):
        self.clock = time.monotonic
        self.t0 = self.last = self.clock()
        self.stream = stream
        self.tty = sys.stderr.isatty()
        self.on = self.tty or not as_json
        self.every = 0.2 if self.tty else 10.0
        self.drawn = False

    def __call__(self, nr_accesses: int) -> None:
        if not self.on:
            return
        now = self.clock()
        if now - self.t0 < 1.0 or now - self.last < self.every:
            return
        self.last = now
        rate = nr_accesses / max(now - self.t0, 1e-9)
        done = None
        size = getattr(self.stream, "size", None)
        if getattr(self.stream, "nr_accesses", None) and not hasattr(self.stream, "bytes_in"):
            done = nr_accesses / self.stream.nr_accesses          # a scenario: length known
        elif size:
            done = min(1.0, self.stream.bytes_in / size)          # a file: bytes read
        text = f"{nr_accesses / 1e6:,.1f} M accesses, {rate / 1e6:.1f} M/s"
        if done is not None:
            bar = "#" * int(done * 30)
            text = f"[{bar:<30}] {done * 100:5.1f}%  " + text
        if self.tty:
            sys.stderr.write("\r" + text + "\x1b[K")
            self.drawn = True
        else:
            sys.stderr.write(f"reclaimlab simulate: {text}\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _config(args, policy: str, kernel: str | None = None, scale: float = 1.0) -> dict:
    """The machine of the command line; `scale` (--spread) gives its guest that
    many times the MemAvailable, on the same swap device."""
    cfg: dict = {"policy": policy}
    if kernel is not None:
        cfg["kernel"] = kernel
    if args.ram_mb is not None:
        available = args.ram_mb * PAGES_PER_MB
        if args.bare or guest_machine is None:
            cfg["ram_pages"] = available
        else:
            # the real-kernel rig sizes its guests by MemAvailable; a guest of
            # this profile with that much available (engine/kernels.py), at the
            # engine's pace or the rig's (whose swap disk is "ssd"; the engine's default kind is zram)
            cfg.update(guest_machine(kernel or _DEFAULT_KERNEL, round(available * scale),
                                     args.swap_kind or "zram", args.pace))
        if args.swap_mb is None and args.swap_kind != "none":
            cfg["swap_pages"] = available // 2
    elif args.bare:
        raise UserError("reclaimlab simulate: error: --bare goes with --ram-mb", 2)
    if args.pace != "engine" and "costs" not in cfg:   # only a guest machine has the rig's costs
        raise UserError(f"reclaimlab simulate: error: --pace {args.pace} is a guest's: it goes with "
                        f"--ram-mb 32 or more, without --bare", 2)
    if args.swap_kind is not None:
        cfg["swap_kind"] = args.swap_kind
    if args.swap_mb is not None:
        if args.swap_kind == "none" and args.swap_mb:
            raise UserError("reclaimlab simulate: error: --swap-mb: no swap device with "
                            "--swap-kind none", 2)
        cfg["swap_pages"] = args.swap_mb * PAGES_PER_MB
    elif args.swap_kind == "none":
        cfg["swap_pages"] = 0
    if args.swappiness is not None:
        cfg["swappiness"] = args.swappiness
    if args.read_ahead_kb is not None:
        cfg["readahead_pages"] = args.read_ahead_kb // 4
    if args.no_large_folios:
        cfg["large_folios"] = 0
    if args.zone_dma_mb is not None:
        cfg["zone_dma_pages"] = args.zone_dma_mb * PAGES_PER_MB
        # a guest's ZONE_DMA holes lie in its first pageblock: no more than the zone has
        if cfg.get("zone_dma_holes"):
            cfg["zone_dma_holes"] = min(cfg["zone_dma_holes"], cfg["zone_dma_pages"])
    if args.zone_normal_holes is not None:
        cfg["zone_normal_holes"] = args.zone_normal_holes
    return cfg


def _result(sim, policy: str) -> dict:
    out = {
        "policy": policy,
        "config": sim.config,
        "vmstat": sim.vmstat(),
        "meminfo": sim.meminfo(),
        "sim_time_ns": int(sim.time_ns),
    }
    if sim.info.debugfs:
        # the policy's debugfs file (MGLRU: /sys/kernel/debug/lru_gen), keyed by its name
        out[sim.info.debugfs] = sim.lru_gen_text()
    return out


def cmd_simulate(args) -> int:
    if args.scenario is not None:
        from engine.workloads import SCENARIOS
        if args.scenario not in SCENARIOS:
            raise UserError(f"reclaimlab simulate: error: --scenario: unknown scenario "
                            f"{args.scenario!r} (known: {', '.join(SCENARIOS)})", 2)
        if args.trace_format or args.obj_pages:
            raise UserError("reclaimlab simulate: error: --trace-format and --obj-pages go "
                            "with --trace", 2)
        from engine.workloads import WorkloadError
        try:
            SCENARIOS[args.scenario].check_params(**dict(args.param))
        except WorkloadError as e:
            raise UserError(f"reclaimlab simulate: error: --param: {e}", 2) from None
    if args.spread and (args.ram_mb is None or args.bare):
        raise UserError("reclaimlab simulate: error: --spread is a guest's: it goes with --ram-mb, "
                        "without --bare", 2)
    kinds = args.policy if isinstance(args.policy, tuple) else _policy_list(args.policy)
    kernels = args.kernel or (None,)
    # one run per (kernel, policy), kernel-major: --kernel 6.1,7.3 --policy both
    # gives 6.1 lru, 6.1 lru_gen, 7.3 lru, 7.3 lru_gen
    runs = [(k, p) for k in kernels for p in kinds]
    policies = tuple(p for _, p in runs)
    configs = [_config(args, p, k) for k, p in runs]
    # --spread: after them, each run's guests of GUEST_SPREAD's sizes, run-major
    scales = _SPREAD if args.spread else ()
    configs += [_config(args, p, k, f) for k, p in runs for f in scales]
    # A trace needs no machine: open it first, so that its errors (a missing
    # file, an unknown format, a torn record) come first.
    workload = _open_workload(args, None) if args.trace is not None else None
    try:
        import engine
        engine.Simulator
    except (ImportError, AttributeError) as e:
        if "engine" in sys.modules and getattr(sys.modules["engine"], "__file__", None) is None:
            # an editable install made before engine/__init__.py existed maps
            # `engine` as a namespace package
            raise UserError("reclaimlab simulate: `engine` was found as a namespace package "
                            "(stale editable install): re-run `make build`") from None
        raise UserError(f"reclaimlab simulate: the engine is not built ({e}); run "
                        "`python setup.py build_ext --inplace` or `make build`") from None
    try:
        sims = [engine.Simulator(c) for c in configs]
    except engine.ConfigError as e:
        raise UserError(f"reclaimlab simulate: config: {e}", 2) from None
    if workload is None:
        # scenario sizes are fractions of the memory available to them
        available = args.ram_mb * PAGES_PER_MB if args.ram_mb is not None else sims[0].config["ram_pages"]
        workload = _open_workload(args, available)
    from engine.feeding import run_stream
    from engine.trace import TraceError
    progress = _Progress(workload, args.json)
    try:
        # The workload streams through the simulators chunk by chunk, read
        # ahead in a thread; several simulators (both policies, two kernels)
        # run each chunk in parallel threads (run() drops the GIL).
        total = run_stream(sims, workload, on_chunk=progress)
    except TraceError as e:
        raise UserError(f"reclaimlab simulate: {e}") from None
    except (ValueError, MemoryError, OverflowError) as e:
        # the engine rejects a workload it cannot hold (limits on address
        # spaces, files, page numbers): the user's input, not a crash
        raise UserError(f"reclaimlab simulate: engine: {e or type(e).__name__}") from None
    finally:
        progress.finish()
    if total == 0:
        raise UserError("reclaimlab simulate: the workload has no accesses")
    spread_sims, sims = sims[len(runs):], sims[:len(runs)]
    results = [_result(s, p) for s, p in zip(sims, policies)]
    if scales:
        for i, r in enumerate(results):
            r["spread"] = _spread(sims[i], spread_sims[i * len(scales):(i + 1) * len(scales)], scales)
    meta = dict(workload.meta)
    meta["accesses"] = total
    file_names = (getattr(workload, "names", None) or {}).get("file") or []
    for r, sim in zip(results, sims):
        r["workload"] = meta
        # each file's share of pgpgin, workingset_refault_file and file pgsteal
        r["files"] = {(file_names[i] if i < len(file_names) else str(i)): c
                      for i, c in sim.file_counters().items()}
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=1, default=_jsonable))
    else:
        print(render_summary(results, engine))
    return 0


def _spread(sim, others, scales) -> dict:
    """--spread's result for one run: each counter on the guests of `scales`
    and the run's own (1.0), smallest guest first, and the counters whose
    guests are more than 25 % apart (spread_is_wide())."""
    by = sorted([(1.0, sim)] + list(zip(scales, others)), key=lambda x: x[0])
    counters = [rig_counters(s.vmstat()) for _, s in by]
    values = {c: [x[c] for x in counters] for c in counters[0]}
    return {"memavailable": [f for f, _ in by], "ram_pages": [s.config["ram_pages"] for _, s in by],
            "counters": values,
            "knife_edge": [c for c, vs in values.items() if spread_is_wide(vs)]}


def _jsonable(o):
    try:
        import numpy as np
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    return str(o)


def _fmt_ns(ns: int) -> str:
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.3f} s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.3f} ms"
    return f"{ns / 1e3:.1f} us"


def render_summary(results: list[dict], engine=None) -> str:
    """Counters side by side, one column per policy, then the lru_gen text."""
    titles = getattr(engine, "POLICY_TITLES", {}) if engine else {}
    infos = getattr(engine, "POLICY_INFO", {}) if engine else {}
    w = results[0]["workload"]
    cfg = results[0]["config"]
    src = w.get("scenario") or w.get("source", "?")
    lines = [
        f"workload   {src}: {w['accesses']:,d} accesses"
        + (f" (seed {w['seed']})" if "seed" in w else ""),
        # whole MiB as such, else one decimal: the page count beside it is exact
        f"machine    RAM {round(cfg.get('ram_pages', 0) / 256, 1):g} MiB "
        f"({cfg.get('ram_pages', 0):,d} pages"
        + (f", {cfg['system_pages']:,d} of them the system's at boot" if cfg.get("system_pages") else "")
        + (f", {cfg['system_mlocked_pages']:,d} mlocked" if cfg.get("system_mlocked_pages") else "")
        + (f", {cfg['system_unmapped_pages']:,d} unmapped" if cfg.get("system_unmapped_pages") else "")
        + (f", {cfg['system_active_pages']:,d} active under the classic LRU" if cfg.get("system_active_pages") else "")
        + (f", {cfg['pcp_pages']:,d} on per-CPU lists until kswapd runs" if cfg.get("pcp_pages") else "")
        + f"), swap {cfg.get('swap_pages', 0) * 4 / 1024:g} MiB "
        f"{cfg.get('swap_kind', '?')}, swappiness {cfg.get('swappiness', '?')}"
        + (f", a ZONE_DMA watermark boost per {cfg['zone_dma_boost_every']:,d} ZONE_DMA pages"
           if cfg.get("zone_dma_boost_every") else "")
        + (f", free pages in other migratetypes' pageblocks {cfg.get('zone_dma_holes', 0):,d} in ZONE_DMA and "
           f"{cfg.get('zone_normal_holes', 0):,d} above it"
           + (f" with {cfg['zone_normal_claimable']:,d} more a fallback claims" if cfg.get("zone_normal_claimable")
              else "")
           + f" (a fallback moves up to {cfg.get('zone_hole_chunk', 1):,d} of them)"
           if cfg.get("zone_dma_holes") or cfg.get("zone_normal_holes") else "")
        + (f", a folio migrated by compaction per {cfg['compaction_migrate_every']:,d} pages read into"
           " large folios" if cfg.get("compaction_migrate_every") and cfg.get("large_folios") else "")
        # 6.1 reads the counters exact whatever the period (docs/kernels.md "Classic LRU")
        + (f", memcg stats flushed every {cfg['flush_time_ms']:,d} ms of its clock, first at "
           f"{cfg['flush_first_ms']:,d} ms" if cfg.get("flush_time_ms") and cfg.get("kernel") != "6.1" else ""),
        "",
    ]
    head = [f'{titles.get(r["policy"], r["policy"])} ({r["config"].get("kernel", "?")})' for r in results]
    rows = [("policy", head),
            ("sim time", [_fmt_ns(r["sim_time_ns"]) for r in results])]
    for k in SUMMARY_COUNTERS:
        vals = [r["vmstat"].get(k) for r in results]
        if all(v is None for v in vals):
            continue
        rows.append((k, ["-" if v is None else f"{v:,d}" for v in vals]))
    for k in ("MemFree", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
              "SwapCached", "Dirty"):
        vals = [r["meminfo"].get(k) for r in results]
        if all(v is None for v in vals):
            continue
        rows.append((k, ["-" if v is None else f"{v:,d} kB" for v in vals]))
    kw = max(len(k) for k, _ in rows)
    cw = [max(len(vals[i]) for _, vals in rows) for i in range(len(results))]
    for k, vals in rows:
        lines.append(f"{k:<{kw}}  " + "  ".join(f"{v:>{cw[i]}}" for i, v in enumerate(vals)).rstrip())
    for r in results:
        sp = r.get("spread")
        if not sp:
            continue
        fs = sp["memavailable"]
        lines += ["", f'spread ({titles.get(r["policy"], r["policy"])}, {r["config"].get("kernel", "?")}): '
                  f"guests with {fs[0]:g}-{fs[-1]:g}x the MemAvailable"]
        for c, vs in sp["counters"].items():
            lines.append((f"  {c:<8} {min(vs):>12,d} - {max(vs):<12,d}"
                          + ("  more than 25 % apart: a knife edge" if c in sp["knife_edge"] else "")).rstrip())
    for r in results:
        name = getattr(infos.get(r["policy"]), "debugfs", None)
        if name and r.get(name):
            lines += ["", f"{name} ({titles.get(r['policy'], r['policy'])}, {r['config'].get('kernel', '?')}):",
                      r[name].rstrip("\n")]
    return "\n".join(lines)


# --- sweep ------------------------------------------------------------------------

def _sweep_store(data):
    from backend.store import SqliteStore, store_path
    data = data or os.environ.get("RECLAIMLAB_DATA") or "data"
    try:
        os.makedirs(data, exist_ok=True)
    except OSError as e:
        raise UserError(f"reclaimlab: --data: cannot create {data}: {e.strerror or e}", 2) from None
    return SqliteStore(store_path(data))


def _load_sweep(spec, grid_opts, prog):
    from backend.sweep_spec import SpecError, load_spec, parse_grid_option
    grid = []
    for g in grid_opts:
        try:
            grid.append(parse_grid_option(g))
        except ValueError as e:
            raise UserError(f"{prog}: error: {e}", 2) from None
    try:
        return load_spec(spec, grid)
    except SpecError as e:
        raise UserError(f"{prog}: {e}", 2) from None


def _exports(store, sweep_id, args, prog) -> None:
    from backend.sweep_report import (ReportError, cell_rows, filter_rows, report, write_csv,
                                      write_parquet)
    try:
        sw, rows = cell_rows(store, sweep_id)
        rows = filter_rows(rows, args.where)
        if args.csv:
            write_csv(rows, args.csv)
        if args.parquet:
            write_parquet(rows, args.parquet)
        if getattr(args, "report", True):
            print(report(sw, rows, args.metric, tuple(args.where)))
    except ReportError as e:
        raise UserError(f"{prog}: {e}") from None
    except OSError as e:
        raise UserError(f"{prog}: {e.filename}: {e.strerror}") from None


def cmd_sweep(args) -> int:
    prog = "reclaimlab sweep"
    if args.spec is None and not args.grid:
        raise UserError(f"{prog}: error: give a SPEC file or --grid options", 2)
    if args.scheduler and args.jobs:
        raise UserError(f"{prog}: error: --jobs is for the local pool, not --scheduler", 2)
    if args.parquet:
        try:
            import pyarrow  # noqa: F401  (fail before running, not after)
        except ImportError:
            raise UserError(f"{prog}: error: --parquet needs pyarrow: "
                            "pip install 'reclaimlab[parquet]'", 2) from None
    sweep = _load_sweep(args.spec, args.grid, prog)
    from backend.sweep import CellError, DaskExecutor, LocalExecutor, Progress, run_sweep
    store = _sweep_store(args.data)
    try:
        if args.scheduler:
            try:
                ex = DaskExecutor(args.scheduler)
            except (RuntimeError, OSError, TimeoutError) as e:
                raise UserError(f"{prog}: --scheduler {args.scheduler}: {e}", 2) from None
        else:
            ex = LocalExecutor(args.jobs)
        done = store.sweep_cells_done([c.key for c in sweep.cells])
        print(f"sweep {sweep.name} ({sweep.id}): {len(sweep.cells)} cells, "
              f"{len(done)} already stored; on {ex.name}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        progress = Progress(len(sweep.cells), len(done))
        try:
            stats = run_sweep(sweep, store, ex, progress)
        except (CellError, ValueError, MemoryError, OverflowError) as e:
            raise UserError(f"{prog}: a cell failed: {type(e).__name__}: {e}") from None
        except KeyboardInterrupt:
            have = len(store.sweep_cells_done([c.key for c in sweep.cells]))
            print(f"\ninterrupted: {have} of {len(sweep.cells)} cells stored; run the same "
                  "command again to resume", file=sys.stderr, flush=True)
            return 130
        finally:
            if hasattr(ex, "close"):
                ex.close()
        print(f"ran {stats['ran']} cells, skipped {stats['skipped']} already stored, in "
              f"{time.monotonic() - t0:.1f} s; sweep id {sweep.id}", file=sys.stderr, flush=True)
        if args.csv or args.parquet or args.report:
            _exports(store, sweep.id, args, prog)
        return 0
    finally:
        store.close()


def cmd_sweep_report(args) -> int:
    prog = "reclaimlab sweep-report"
    store = _sweep_store(args.data)
    try:
        sid = args.sweep
        if os.path.exists(sid):
            sid = _load_sweep(sid, [], prog).id
        if store.get_sweep(sid) is None:
            raise UserError(f"{prog}: unknown sweep {args.sweep!r} (not in the store; run "
                            "`reclaimlab sweep` first)")
        _exports(store, sid, args, prog)
        return 0
    finally:
        store.close()


# --- serve -------------------------------------------------------------------------

def cmd_serve(args) -> int:
    if not 0 < args.port < 65536:
        raise UserError(f"reclaimlab serve: error: --port: {args.port} is not in 1..65535", 2)
    if args.data is not None:
        try:
            os.makedirs(args.data, exist_ok=True)
        except OSError as e:
            raise UserError(f"reclaimlab serve: --data: cannot create {args.data}: "
                            f"{e.strerror or e}", 2) from None
        os.environ["RECLAIMLAB_DATA"] = os.path.abspath(args.data)
    if args.on_damage is not None:
        os.environ["RECLAIMLAB_STORE_ON_DAMAGE"] = args.on_damage
    import uvicorn
    from backend.app import create_app   # lazily: simulate/scenarios need no web stack
    from backend.settings import Settings
    from backend.store import SqliteStore, StoreDamaged, store_path
    settings = Settings.from_env()
    # The app's own log lines (a damaged store moved aside, a session
    # parked) go to stderr beside uvicorn's.
    import logging
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    applog = logging.getLogger("reclaimlab")
    applog.addHandler(handler)
    applog.setLevel(logging.INFO)
    applog.propagate = False
    path = store_path(settings.data_dir)
    if args.workers > 1 and args.worker_fd is None:
        return _serve_parent(args, settings, path)
    store = None
    if args.worker_fd is not None:
        # the parent checked the store (and moved a damaged one aside) once
        settings = settings.for_worker(args.worker_index, args.workers)
        store = SqliteStore(path, check=False)
    try:
        app = create_app(settings, store)
    except StoreDamaged as e:
        raise UserError(f"reclaimlab serve: {e}") from None
    # Per-message deflate off: frames are already compact binary, and
    # compressing them costs more CPU than it saves (stack-notes).
    # ws_max_size: a message over it is refused by the protocol layer (close
    # 1009) before it is buffered; up to it, the app answers `too_large`.
    options = dict(ws_per_message_deflate=False, ws_max_size=ws_max_size(settings))
    if args.worker_fd is None:
        uvicorn.run(app, host=args.host, port=args.port, **options)
        return 0
    import socket

    from backend.workers import CloseAfterResponse, worker_server
    chan = socket.socket(fileno=args.worker_fd)
    config = uvicorn.Config(CloseAfterResponse(app, settings.worker_index), host=args.host,
                            port=args.port, **options)
    worker_server(config, chan).run()
    return 0


def _serve_parent(args, settings, path) -> int:
    """`--workers N`: the store's start-up check once, the socket bound
    here, then the router (backend/workers.py)."""
    from backend.store import SqliteStore, StoreDamaged
    from backend.workers import bind, run_parent
    try:
        SqliteStore(path, on_damage=settings.store_on_damage).close()
    except StoreDamaged as e:
        raise UserError(f"reclaimlab serve: {e}") from None
    try:
        listener = bind(args.host, args.port)
    except OSError as e:
        raise UserError(f"reclaimlab serve: cannot listen on {args.host}:{args.port}: "
                        f"{e.strerror or e}") from None
    return run_parent(listener, args.workers, args.policies, settings.router_head_timeout)


def ws_max_size(settings) -> int:
    """Frames up to 4x max_ws_message get a `too_large` error frame (the
    connection stays open); bigger ones are closed by uvicorn with 1009."""
    return 4 * settings.max_ws_message


# --- store -------------------------------------------------------------------------

def cmd_store(args) -> int:
    from pathlib import Path

    from backend.store import SqliteStore, StoreDamaged, store_path
    data = Path(args.data or os.environ.get("RECLAIMLAB_DATA", "data"))
    path = store_path(data)
    prog = f"reclaimlab store {args.store_command}"
    if not path.is_file():
        raise UserError(f"{prog}: no store at {path}")
    try:
        store = SqliteStore(path, on_damage="refuse")
    except StoreDamaged as e:
        raise UserError(f"{prog}: {e}") from None
    try:
        if args.store_command == "check":
            problems = store.integrity()
            counts = store.counts()
            for line in problems:
                print(f"{path}: {line}")
            print(f"{path}: {counts['sessions']} sessions, {counts['traces']} traces, "
                  f"{len(problems)} problem(s)")
            return 1 if problems else 0
        dest = Path(args.dest)
        if dest.exists():
            raise UserError(f"{prog}: {dest} exists; give a new file")
        store.backup(dest)
        print(f"{path} -> {dest}")
        return 0
    finally:
        store.close()


COMMANDS = {"serve": cmd_serve, "simulate": cmd_simulate, "scenarios": cmd_scenarios,
            "sweep": cmd_sweep, "sweep-report": cmd_sweep_report, "store": cmd_store}


def main(argv: list[str] | None = None) -> int:
    try:
        load_policies(sys.argv[1:] if argv is None else argv)
        parser = build_parser()
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except UserError as e:
        print(str(e), file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `reclaimlab simulate ... | head`: not an error worth a traceback
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seeded workload scenarios: arrays of accesses for ``Simulator.set_workload``.

Every scenario is a pure function of ``(ram_pages, seed, accesses, params)``:
``numpy.random.Generator(PCG64(seed))`` draws everything, sizes are fractions
of RAM (so ``ram_pages`` scales a scenario), and the generators are
vectorised -- a Python loop runs per phase or per component, never per
access. The result is a :class:`Workload`: the access array in
``ACCESS_DTYPE``, the interned mm and file names (index = owner id), and a
``meta`` dict (sizes in pages, parameters) for the UI and recipes.

The registry ``SCENARIOS`` maps the names fixed by DESIGN §5.1 to
:class:`Scenario` objects; ``docs/scenarios.md`` says what each one shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from engine.sampling import fill_zipf, zipf_invert

# Must stay identical to engine.ACCESS_DTYPE (docs/engine-api.md); defined here
# too so that workloads and traces work without the compiled engine.
ACCESS_DTYPE = np.dtype(
    [("op", "u1"), ("write", "u1"), ("_pad", "u2"), ("owner", "u4"), ("page", "u8")]
)

# The trace format v1 letters, in engine/_types.pxd:access_op order.
OP_ANON, OP_READ, OP_WRITE, OP_MMAP, OP_EXEC, OP_EXIT = range(6)
OP_LETTERS = "ARWMXU"
# Ops whose owner is an address space (mm); the others name a file.
MM_OPS = (OP_ANON, OP_EXIT)

DEFAULT_RAM_PAGES = 65536          # engine default: 256 MiB of 4 KiB folios
MIN_RAM_PAGES = 64
MAX_RAM_PAGES = 16 * 1024 * 1024
MAX_ACCESSES = 100_000_000         # 1.6 GB of accesses; beyond that, use a trace
MAX_STREAM_ACCESSES = 1 << 40      # a streamed scenario holds one chunk at a time


class WorkloadError(ValueError):
    """A scenario name, parameter or size is invalid; the message names it."""


@dataclass
class Workload:
    """An access array plus what is needed to display it.

    ``names["mm"][i]`` is the name of address space ``owner == i`` (ops A, U);
    ``names["file"][i]`` the name of file ``owner == i`` (ops R, W, M, X).
    """

    accesses: np.ndarray
    names: dict[str, list[str]]
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.accesses)


@dataclass(frozen=True)
class Param:
    """One documented scenario parameter with its limits (inclusive)."""

    name: str
    default: float
    lo: float
    hi: float
    doc: str
    kind: type = float

    def coerce(self, scenario: str, value) -> float | int:
        try:
            if self.kind is int:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                v = int(value)
            else:
                v = float(value)
        except (TypeError, ValueError):
            raise WorkloadError(
                f"scenario {scenario!r}: parameter {self.name!r} must be "
                f"{'an integer' if self.kind is int else 'a number'}, got {value!r}"
            ) from None
        if not (self.lo <= v <= self.hi) or v != v:
            raise WorkloadError(
                f"scenario {scenario!r}: parameter {self.name!r} = {v} is out of "
                f"range [{self.lo}, {self.hi}]"
            )
        return v


@dataclass(frozen=True)
class Scenario:
    """A named, documented, seeded workload generator."""

    name: str
    title: str
    watch: str                      # what a student should watch for
    default_accesses: int           # at DEFAULT_RAM_PAGES; scales with RAM
    params: tuple[Param, ...]
    _build: Callable = field(repr=False)
    # optional: the same accesses produced chunk by chunk (see stream())
    _stream: Callable | None = field(default=None, repr=False)

    def accesses_for(self, ram_pages: int) -> int:
        """Default length for a machine of ``ram_pages``: scaled with RAM so
        that a loop scenario makes the same number of passes at any size."""
        return max(1000, int(round(self.default_accesses * ram_pages / DEFAULT_RAM_PAGES)))

    def check_params(self, **params) -> dict:
        """Every parameter, defaults filled in; WorkloadError names a bad one."""
        known = {p.name: p for p in self.params}
        for key in params:
            if key not in known:
                raise WorkloadError(
                    f"scenario {self.name!r} has no parameter {key!r} "
                    f"(known: {', '.join(known) or 'none'})"
                )
        return {p.name: p.coerce(self.name, params.get(p.name, p.default))
                for p in self.params}

    def generate(self, ram_pages: int, seed: int = 0, accesses: int | None = None,
                 **params) -> Workload:
        ram_pages = _check_int("ram_pages", ram_pages, MIN_RAM_PAGES, MAX_RAM_PAGES)
        seed = _check_int("seed", seed, 0, 2**63 - 1)
        if accesses is None:
            accesses = self.accesses_for(ram_pages)
        accesses = _check_int("accesses", accesses, 1, MAX_ACCESSES)
        values = self.check_params(**params)
        rng = np.random.Generator(np.random.PCG64(seed))
        b = _Builder(accesses)
        sizes = self._build(b, rng, ram_pages, accesses, **values)
        wl = b.finish()
        wl.meta.update({
            "scenario": self.name, "ram_pages": ram_pages, "seed": seed,
            "accesses": accesses, "params": values, "sizes": sizes,
        })
        return wl

    def stream(self, ram_pages: int, seed: int = 0, accesses: int | None = None,
               chunk: int = 1 << 20, **params) -> "WorkloadStream":
        """The accesses of ``generate()`` with the same arguments, bit for bit,
        as chunks of at most ``chunk`` accesses (for ``Simulator.feed()``).
        A scenario with a streaming generator makes each chunk as it is
        consumed (memory bounded by the chunk); the others are generated
        whole and handed out in slices."""
        if self._stream is None:
            wl = self.generate(ram_pages, seed, accesses, **params)
            a = wl.accesses
            return WorkloadStream((a[lo:lo + chunk] for lo in range(0, len(a), chunk)),
                                  wl.names, wl.meta, len(a), whole=a)
        ram_pages = _check_int("ram_pages", ram_pages, MIN_RAM_PAGES, MAX_RAM_PAGES)
        seed = _check_int("seed", seed, 0, 2**63 - 1)
        if accesses is None:
            accesses = self.accesses_for(ram_pages)
        accesses = _check_int("accesses", accesses, 1, MAX_STREAM_ACCESSES)
        values = self.check_params(**params)
        rng = np.random.Generator(np.random.PCG64(seed))
        names, sizes, chunks = self._stream(rng, ram_pages, accesses, chunk, **values)
        meta = {"scenario": self.name, "ram_pages": ram_pages, "seed": seed,
                "accesses": accesses, "params": values, "sizes": sizes}
        return WorkloadStream(chunks, names, meta, accesses)


@dataclass
class WorkloadStream:
    """A workload handed out in chunks: iterate for ACCESS_DTYPE arrays."""

    chunks: object
    names: dict[str, list[str]]
    meta: dict
    nr_accesses: int
    whole: np.ndarray | None = None     # the array, when it was generated whole

    def __iter__(self):
        return iter(self.chunks)

    def prepare(self, sims) -> None:
        """Before the first chunk: give the simulators each file's size (where
        read-ahead stops, ``Simulator.note_file_sizes``) from the whole
        workload, so that chunks run exactly as one array. A streamed
        scenario (zipf-anon) has no files."""
        if self.whole is not None:
            for sim in sims:
                sim.note_file_sizes(self.whole)


def _check_int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise WorkloadError(f"{name} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise WorkloadError(f"{name} = {value} is out of range [{lo}, {hi}]")
    return int(value)


def pages_of(fraction: float, ram_pages: int) -> int:
    """A size given as a fraction of RAM, in pages (at least one)."""
    return max(1, int(round(fraction * ram_pages)))


class _Builder:
    """Fills one access array; interns names in first-registration order."""

    def __init__(self, n: int):
        self.a = np.zeros(n, dtype=ACCESS_DTYPE)
        self.names: dict[str, list[str]] = {"mm": [], "file": []}

    def mm(self, name: str) -> int:
        return self._intern("mm", name)

    def file(self, name: str) -> int:
        return self._intern("file", name)

    def _intern(self, kind: str, name: str) -> int:
        names = self.names[kind]
        if name not in names:
            names.append(name)
        return names.index(name)

    def put(self, where, op, owner, page, write=0):
        """Write accesses at ``where`` (a slice or index array)."""
        a = self.a
        a["op"][where] = op
        a["owner"][where] = owner
        a["page"][where] = page
        a["write"][where] = write

    def finish(self) -> Workload:
        return Workload(self.a, self.names, {})


# --- samplers --------------------------------------------------------------------

_GUIDE_BITS = 20


@lru_cache(maxsize=8)
def _zipf_tables(n_items: int, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The finite Zipf CDF and a guide table: guide[j] = the first rank whose
    CDF exceeds j / 2^20, so a sample starts next to its answer."""
    w = np.arange(1, n_items + 1, dtype=np.float64) ** -s
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    guide = np.searchsorted(cdf, np.arange(1 << _GUIDE_BITS) / (1 << _GUIDE_BITS), side="right")
    cdf.flags.writeable = False
    guide.flags.writeable = False
    return cdf, guide


def zipf_ranks(rng: np.random.Generator, n_items: int, s: float, size: int) -> np.ndarray:
    """Bounded Zipf: P(rank k) ∝ k^-s for k in 1..n_items, returned 0-based.

    numpy's ``Generator.zipf`` is unbounded and needs s > 1; inverting the
    exact finite CDF is both bounded and correct for s = 0.99. The guide
    table makes the inversion a lookup plus a few short forward steps
    (the same answer as ``searchsorted(cdf, u, "right")``), in one nogil
    loop (engine/sampling.pyx).
    """
    cdf, guide = _zipf_tables(n_items, s)
    return zipf_invert(cdf, guide, rng.random(size), _GUIDE_BITS)


def zipf_pages(rng, n_items, s, size):
    """Zipf ranks mapped through a seeded permutation, so hot pages are spread
    over the range (and over page-table pages) instead of packed at 0."""
    perm = rng.permutation(n_items)
    return perm[zipf_ranks(rng, n_items, s, size)]


def loop_pages(n: int, size: int, start: int = 0) -> np.ndarray:
    """start, start+1, ... modulo size, n of them (np.resize of one period is
    several times faster than an arange modulo size)."""
    period = np.arange(size, dtype=np.uint64)
    if start % size:
        period = np.roll(period, -(start % size))
    return np.resize(period, n)


def _writes(rng, n, ratio):
    if ratio <= 0:
        return 0
    return (rng.random(n) < ratio).astype(np.uint8)


def _populate(b, op, owner, n_pages, n, write):
    """First touch every page in order (for anon, writes: a program filling
    its memory); returns where the steady-state pattern starts."""
    k = min(n_pages, n)
    b.put(slice(0, k), op, owner, np.arange(k, dtype=np.uint64), write)
    return k


# --- the scenarios -----------------------------------------------------------------

def _anon_loop(b, rng, ram, n, *, size, write_ratio):
    mm = b.mm("loop")
    pages = pages_of(size, ram)
    b.put(slice(None), OP_ANON, mm, loop_pages(n, pages), _writes(rng, n, write_ratio))
    b.a["write"][:min(pages, n)] = 1          # first pass writes every page
    return {"anon_pages": pages}


def _stream_mix(b, rng, n, hot_op, hot_owner, hot_pages, stream_owner, stream_ratio,
                hot_write):
    """A hot set touched uniformly at random, interleaved with a use-once
    read() stream that never revisits a page."""
    k = _populate(b, hot_op, hot_owner, hot_pages, n, int(hot_op == OP_ANON))
    rest = n - k
    is_stream = rng.random(rest) < stream_ratio
    idx = np.flatnonzero(is_stream) + k
    hot_idx = np.flatnonzero(~is_stream) + k
    b.put(idx, OP_READ, stream_owner, np.arange(len(idx), dtype=np.uint64))
    b.put(hot_idx, hot_op, hot_owner, rng.integers(0, hot_pages, len(hot_idx)),
          _writes(rng, len(hot_idx), hot_write))
    return len(idx)


def _stream_hot_anon(b, rng, ram, n, *, hot, stream_ratio, write_ratio):
    hot_pages = pages_of(hot, ram)
    mm = b.mm("hot")
    f = b.file("stream.log")
    nr_stream = _stream_mix(b, rng, n, OP_ANON, mm, hot_pages, f, stream_ratio, write_ratio)
    return {"anon_pages": hot_pages, "stream_pages": nr_stream}


def _stream_hot_file(b, rng, ram, n, *, hot, stream_ratio):
    hot_pages = pages_of(hot, ram)
    f_hot = b.file("hot.db")
    f_stream = b.file("stream.log")
    nr_stream = _stream_mix(b, rng, n, OP_READ, f_hot, hot_pages, f_stream, stream_ratio, 0)
    return {"file_pages": hot_pages, "stream_pages": nr_stream}


def _zipf_anon(b, rng, ram, n, *, size, s, write_ratio):
    pages = pages_of(size, ram)
    mm = b.mm("zipf")
    # The heap is initialised first (so the whole set really exists and does
    # not fit), then read and written with Zipf popularity.
    k = _populate(b, OP_ANON, mm, pages, n, 1)
    b.put(slice(k, None), OP_ANON, mm, zipf_pages(rng, pages, s, n - k),
          _writes(rng, n - k, write_ratio))
    return {"anon_pages": pages}


def _draws_after(rng: np.random.Generator, n: int) -> np.random.Generator:
    """A generator whose next draws are the ones ``rng`` would give after n
    more doubles (``random()`` takes one 64-bit PCG64 output per double), so
    two sequential blocks of draws can be made side by side, chunk by chunk."""
    bg = np.random.PCG64()
    bg.state = rng.bit_generator.state
    bg.advance(n)
    return np.random.Generator(bg)


def _zipf_anon_stream(rng, ram, n, chunk, *, size, s, write_ratio):
    """_zipf_anon, chunk by chunk: the first touch, then Zipf accesses whose
    ranks and write flags come from the same draws in the same order (the n - k
    rank draws, then the n - k write draws, read side by side)."""
    pages = pages_of(size, ram)
    k = min(pages, n)

    def chunks():
        for lo in range(0, k, chunk):
            a = np.zeros(min(chunk, k - lo), dtype=ACCESS_DTYPE)
            a["op"] = OP_ANON
            a["write"] = 1
            a["page"] = np.arange(lo, lo + len(a), dtype=np.uint64)
            yield a
        perm = rng.permutation(pages)
        m = n - k
        w_rng = _draws_after(rng, m) if write_ratio > 0 else None
        cdf, guide = _zipf_tables(pages, s)
        for lo in range(0, m, chunk):
            c = min(chunk, m - lo)
            a = np.empty(c, dtype=ACCESS_DTYPE)
            fill_zipf(a, OP_ANON, 0, cdf, guide, _GUIDE_BITS, perm, rng.random(c),
                      w_rng.random(c) if w_rng is not None else None, write_ratio)
            yield a

    return {"mm": ["zipf"], "file": []}, {"anon_pages": pages}, chunks()


def _file_loop(b, rng, ram, n, *, size):
    pages = pages_of(size, ram)
    f = b.file("data.bin")
    b.put(slice(None), OP_READ, f, loop_pages(n, pages))
    return {"file_pages": pages}


def _table_switch(b, rng, ram, n, *, size, phase):
    pages = pages_of(size, ram)
    tables = [b.file("table-a.db"), b.file("table-b.db")]
    phase_len = max(1, int(round(phase * pages)))
    # Reads are uniform over the current table; the two alternate per phase.
    which = (np.arange(n) // phase_len) % 2
    owner = np.asarray(tables, dtype=np.uint32)[which]
    b.put(slice(None), OP_READ, owner, rng.integers(0, pages, n))
    return {"file_pages": 2 * pages, "table_pages": pages, "phase_accesses": phase_len}


def _mmap_exec(b, rng, ram, n, *, exec_size, mmap_size, stream_ratio):
    x_pages = pages_of(exec_size, ram)
    m_pages = pages_of(mmap_size, ram)
    f_x = b.file("libbig.so")
    f_m = b.file("data.mmap")
    f_s = b.file("stream.log")
    comp = rng.random(n)
    p_rest = (1.0 - stream_ratio) / 2
    is_x = comp < p_rest
    is_m = (comp >= p_rest) & (comp < 2 * p_rest)
    is_s = ~(is_x | is_m)
    ix, im, is_ = np.flatnonzero(is_x), np.flatnonzero(is_m), np.flatnonzero(is_s)
    # Code is mostly a hot core with a long tail (zipf); the mapped data
    # file is touched uniformly.
    b.put(ix, OP_EXEC, f_x, zipf_pages(rng, x_pages, 0.9, len(ix)))
    b.put(im, OP_MMAP, f_m, rng.integers(0, m_pages, len(im)), _writes(rng, len(im), 0.0))
    b.put(is_, OP_READ, f_s, np.arange(len(is_), dtype=np.uint64))
    return {"exec_pages": x_pages, "mmap_pages": m_pages, "stream_pages": len(is_)}


# desktop: (name, op, kind, size as RAM fraction, weight, pattern, write ratio)
_DESKTOP = (
    ("browser",    OP_ANON, "mm",   0.30, 0.26, "zipf", 0.3),
    ("editor",     OP_ANON, "mm",   0.06, 0.06, "uniform", 0.2),
    ("shell",      OP_ANON, "mm",   0.01, 0.02, "uniform", 0.1),
    ("build",      OP_ANON, "mm",   0.25, 0.16, "loop", 0.5),
    ("libc.so.6",  OP_EXEC, "file", 0.02, 0.08, "zipf", 0.0),
    ("libxul.so",  OP_EXEC, "file", 0.08, 0.08, "zipf", 0.0),
    ("photos.tar", OP_READ, "file", None, 0.12, "stream", 0.0),
    ("notes.txt",  OP_WRITE, "file", 0.01, 0.04, "uniform", 1.0),
    ("index.db",   OP_MMAP, "file", 0.15, 0.12, "zipf", 0.1),
    ("mail.mbox",  OP_READ, "file", 0.10, 0.06, "uniform", 0.0),
)


def _desktop(b, rng, ram, n, *, exit_at):
    owners, sizes, perms, cursor = [], {}, {}, {}
    for name, op, kind, frac, _, pattern, _ in _DESKTOP:
        owners.append(b.mm(name) if kind == "mm" else b.file(name))
        if frac is not None:
            sizes[name] = pages_of(frac, ram)
            if pattern == "zipf":
                perms[name] = rng.permutation(sizes[name])
        cursor[name] = 0
    n_exit = min(n - 1, int(round(exit_at * n))) if n > 1 else 0
    build = next(i for i, c in enumerate(_DESKTOP) if c[0] == "build")
    # Two segments: everyone while "build" lives, then "U build" and the rest.
    for lo, hi, alive in ((0, n_exit, True), (n_exit + 1, n, False)):
        m = hi - lo
        if m <= 0:
            continue
        w = np.array([c[4] for c in _DESKTOP])
        if not alive:
            w[build] = 0.0
        comp = rng.choice(len(_DESKTOP), size=m, p=w / w.sum()).astype(np.uint8)
        # group positions by component: a stable sort of uint8 keys is a radix sort
        order = np.argsort(comp, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(comp, minlength=len(_DESKTOP)))))
        # Fill a component-grouped copy with contiguous slices, then scatter
        # whole records once: much cheaper than four strided scatters each.
        grouped = _Builder(m)
        for k, (name, op, kind, frac, _, pattern, wr) in enumerate(_DESKTOP):
            idx = slice(bounds[k], bounds[k + 1])
            c = bounds[k + 1] - bounds[k]
            if c == 0:
                continue
            if pattern == "zipf":
                page = perms[name][zipf_ranks(rng, sizes[name], 0.99, c)]
            elif pattern == "uniform":
                page = rng.integers(0, sizes[name], c)
            elif pattern == "loop":
                page = loop_pages(c, sizes[name], cursor[name])
            else:  # stream: use-once, never revisited
                page = cursor[name] + np.arange(c)
            cursor[name] += c
            write = 1 if op == OP_WRITE else (_writes(rng, c, wr) if op in (OP_ANON, OP_MMAP) else 0)
            grouped.put(idx, op, owners[k], page, write)
        b.a[order + lo] = grouped.a
    if n_exit < n and n > 1:
        b.put(n_exit, OP_EXIT, owners[build], 0, 0)
    out = {f"{name}_pages": s for name, s in sizes.items()}
    out["exit_access"] = n_exit if n > 1 else None
    return out


def _heap_and_file(b, rng, n, mm, a_pages, f, f_pages, anon_fraction):
    """Write the heap once and read the file once, then split the rest of the
    run between the two: the positions of the anon and of the file accesses."""
    k = _populate(b, OP_ANON, mm, a_pages, n, 1)
    kf = min(f_pages, n - k)
    b.put(slice(k, k + kf), OP_READ, f, np.arange(kf, dtype=np.uint64))
    k += kf
    is_anon = rng.random(n - k) < anon_fraction
    return np.flatnonzero(is_anon) + k, np.flatnonzero(~is_anon) + k


def _zipf_mixed(b, rng, ram, n, *, anon_size, file_size, anon_fraction, s, write_ratio):
    a_pages = pages_of(anon_size, ram)
    f_pages = pages_of(file_size, ram)
    mm = b.mm("zipf")
    f = b.file("zipf.db")
    # Zipf over both once they exist and together exceed RAM
    ia, if_ = _heap_and_file(b, rng, n, mm, a_pages, f, f_pages, anon_fraction)
    b.put(ia, OP_ANON, mm, zipf_pages(rng, a_pages, s, len(ia)), _writes(rng, len(ia), write_ratio))
    b.put(if_, OP_READ, f, zipf_pages(rng, f_pages, s, len(if_)))
    return {"anon_pages": a_pages, "file_pages": f_pages}


# --- the reported MGLRU gaps (docs/kernels.md, docs/validation.md) -------------------

def _hot_reread_stream(b, rng, ram, n, *, hot, stream_ratio):
    """A hot file set read through again and again (a sequential pass over it,
    then the next) while a use-once read() stream flows past."""
    hot_pages = pages_of(hot, ram)
    f_hot = b.file("hot.db")
    f_stream = b.file("stream.log")
    is_stream = rng.random(n) < stream_ratio
    idx = np.flatnonzero(is_stream)
    hot_idx = np.flatnonzero(~is_stream)
    b.put(idx, OP_READ, f_stream, np.arange(len(idx), dtype=np.uint64))
    b.put(hot_idx, OP_READ, f_hot, loop_pages(len(hot_idx), hot_pages))
    return {"file_pages": hot_pages, "stream_pages": len(idx)}


def _anon_young_file_old(b, rng, ram, n, *, anon, file, anon_fraction):
    """An app's anon working set, touched through page tables (always young),
    beside a file cache it rereads with Zipf popularity."""
    a_pages = pages_of(anon, ram)
    f_pages = pages_of(file, ram)
    mm = b.mm("app")
    f = b.file("media.db")
    ia, if_ = _heap_and_file(b, rng, n, mm, a_pages, f, f_pages, anon_fraction)
    b.put(ia, OP_ANON, mm, rng.integers(0, a_pages, len(ia)).astype(np.uint64))
    b.put(if_, OP_READ, f, zipf_pages(rng, f_pages, 0.9, len(if_)))
    return {"anon_pages": a_pages, "file_pages": f_pages}


def _file_search(b, rng, ram, n, *, size, files):
    """grep -r over a file set larger than RAM, again and again: every pass
    reads every file front to back in the same order."""
    pages = pages_of(size, ram)
    per = max(1, pages // files)
    # the directory order the search walks, the same every pass (seeded)
    owners = np.asarray([b.file(f"src{i}.c") for i in range(files)], dtype=np.uint32)[rng.permutation(files)]
    pos = loop_pages(n, per * files)
    b.put(slice(None), OP_READ, owners[(pos // per).astype(np.int64)], pos % per)
    return {"file_pages": per * files, "files": files}


def _shifting_hotspot(b, rng, ram, n, *, size, phase):
    """A database table larger than RAM read with Zipf popularity whose hot
    spot moves every phase (TPC-C / YCSB-like): the file cache must be
    protected, and the protection must follow the hot spot."""
    pages = pages_of(size, ram)
    f = b.file("table.db")
    phase_len = max(1, int(round(phase * ram)))
    ranks = zipf_pages(rng, pages, 0.99, n)
    shift = (np.arange(n, dtype=np.uint64) // np.uint64(phase_len)) * np.uint64(max(1, pages // 7))
    b.put(slice(None), OP_READ, f, (ranks + shift) % np.uint64(pages))
    return {"file_pages": pages, "phase_accesses": phase_len}


def _p(name, default, lo, hi, doc, kind=float):
    return Param(name, default, lo, hi, doc, kind)


_WRITE = _p("write_ratio", 0.0, 0.0, 1.0, "fraction of anon accesses that write (after the first touch)")

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario(
        "anon-loop", "anon set of 1.2x RAM touched in a loop",
        "One process loops over an anon set larger than RAM, so every page is "
        "evicted shortly before it is needed again: pure swap thrashing. Under "
        "the classic policy new anon folios enter the head of LRU_INACTIVE_ANON; "
        "at the tail a folio whose PTE was young is kept once (PG_referenced, "
        "folio_check_references KEEP) and swapped out on its next trip (pswpout). "
        "Each swap-in is a shadow hit (workingset_refault_anon), but its refault "
        "distance -- the evictions since it left, about the 0.2x RAM overshoot "
        "-- exceeds the workingset size it is tested against (file pages plus "
        "active anon, near zero here), so workingset_activate_anon stays low and "
        "almost nothing is ever a hit. Under MGLRU faults land in max_seq - 1 and "
        "evict_folios takes them from min_seq; watch whether aging (the "
        "page-table walk) promotes part of the loop and keeps it resident: a "
        "lower pswpin than the classic run is MGLRU protecting a fraction of the "
        "set instead of cycling all of it.",
        400_000,
        (_p("size", 1.2, 0.05, 8.0, "anon set, as a fraction of RAM"), _WRITE),
        _anon_loop),
    Scenario(
        "stream-hot-anon", "hot anon set plus a use-once file stream",
        "A hot anon set (60% of RAM, touched at random) shares the machine with a "
        "read() stream that never rereads a page. The stream's folios enter "
        "LRU_INACTIVE_FILE (classic) or the oldest file generation (MGLRU, read() "
        "outside a fault) and should be reclaimed after one trip: watch pgsteal_file "
        "track the stream while pswpout and workingset_refault_anon stay near zero. "
        "Classic: while the inactive file list is large and no file refault was "
        "activated, prepare_scan_control sets cache_trim_mode and get_scan_count "
        "scans file only (SCAN_FILE), so pgscan_anon stays 0. MGLRU: "
        "get_type_to_scan weighs the two types' refault rates (PID controller, "
        "biased by swappiness); watch whether it scans anon at all (pgscan_anon, "
        "pswpout). Raise swappiness to 200 and compare again.",
        300_000,
        (_p("hot", 0.6, 0.01, 2.0, "hot anon set, as a fraction of RAM"),
         _p("stream_ratio", 0.5, 0.0, 1.0, "fraction of accesses that are stream reads"),
         _WRITE),
        _stream_hot_anon),
    Scenario(
        "stream-hot-file", "hot file set read with read() plus a use-once stream",
        "A hot file (50% of RAM) read at random with read() competes with a "
        "use-once read() stream. Classic: a second read() of a hot folio "
        "activates it (folio_mark_accessed, pgactivate) while stream folios stay "
        "on LRU_INACTIVE_FILE with PG_referenced and are freed; when the active "
        "file list outgrows the inactive one (inactive_is_low) shrink_active_list "
        "deactivates hot folios (pgdeactivate), and any that are evicted come back "
        "as workingset_refault_file / workingset_activate_file. MGLRU has no "
        "active list: read() folios start in the oldest generation and repeated "
        "reads raise their tier (refs); watch pgrefill (sort_folio protecting "
        "high tiers) versus pgsteal_file, and compare the hot-set refaults of "
        "the two policies.",
        300_000,
        (_p("hot", 0.5, 0.01, 2.0, "hot file set, as a fraction of RAM"),
         _p("stream_ratio", 0.5, 0.0, 1.0, "fraction of accesses that are stream reads")),
        _stream_hot_file),
    Scenario(
        "zipf-anon", "Zipf(0.99) over an anon set of 1.4x RAM",
        "A heap of 1.4x RAM is first written in order (so part of it is "
        "swapped out from the start), then accessed with skewed popularity "
        "(bounded Zipf, s = 0.99, ranks shuffled over the address space): "
        "the head is hot, the long tail is touched rarely. A good policy keeps the head resident, so watch "
        "pswpin and pgmajfault (lower is better) and the simulated run time. "
        "Classic: a mapped anon folio needs a young PTE at two inactive scans "
        "(folio_check_references KEEP then ACTIVATE) to reach LRU_ACTIVE_ANON, "
        "and shrink_active_list deactivates even young ones. MGLRU: the page-table "
        "walk in aging promotes young folios to max_seq (folio_update_gen) and "
        "look-around finds young neighbours during eviction.",
        500_000,
        (_p("size", 1.4, 0.05, 8.0, "anon set, as a fraction of RAM"),
         _p("s", 0.99, 0.0, 3.0, "Zipf exponent"),
         _p("write_ratio", 0.3, 0.0, 1.0, "fraction of accesses that write")),
        _zipf_anon, _zipf_anon_stream),
    Scenario(
        "file-loop", "a file of 1.3x the page cache read in a loop",
        "A file larger than the page cache is read sequentially with read(), "
        "over and over. Every page is evicted before its next read, so after the "
        "first pass every access is a refault: watch workingset_refault_file equal "
        "the reads and the hit ratio stay near zero. Classic: each page is read "
        "once per pass, so it never earns LRU_ACTIVE_FILE, and its refault "
        "distance (the evictions since it left, about 0.3x RAM) exceeds the "
        "workingset size it is tested against (the active lists, empty here): "
        "workingset_test_recent says no and workingset_activate_file stays near "
        "zero -- LRU's classic failure on loops. MGLRU: a refault is recent when "
        "the folio left fewer than MAX_NR_GENS generations ago (7.3's "
        "lru_gen_test_recent; before v6.14, 6.1 and 6.12, only while min_seq has "
        "not moved); compare pgsteal_file and refaults to see whether "
        "tier protection (sort_folio, PID controller) keeps part of the file "
        "resident.",
        400_000,
        (_p("size", 1.3, 0.05, 8.0, "file size, as a fraction of RAM"),),
        _file_loop),
    Scenario(
        "table-switch", "two file sets, each over half of RAM, read in alternating phases",
        "Two files, each 60% of RAM, are read at random, one per phase. Within a "
        "phase the current table's folios are read twice and activated "
        "(classic: LRU_ACTIVE_FILE; MGLRU: higher tiers), so at a switch the "
        "resident working set is the wrong one. Watch how fast each policy "
        "adapts: classic scans LRU_ACTIVE_FILE only when inactive_is_low or a "
        "file refault was activated since the last snapshot "
        "(prepare_scan_control), and only then does shrink_active_list "
        "deactivate the stale table (pgdeactivate), while "
        "the new table's refaults are tested against the workingset size "
        "(workingset_activate_file when the distance is short enough); MGLRU "
        "ages the stale table into min_seq and evicts it (pgsteal_file) while "
        "new folios earn tiers. workingset_refault_file per phase is the cost.",
        400_000,
        (_p("size", 0.6, 0.05, 4.0, "each table, as a fraction of RAM"),
         _p("phase", 3.0, 0.01, 1000.0, "phase length, in multiples of a table's pages")),
        _table_switch),
    Scenario(
        "mmap-exec", "executable and mmap'd file folios under read() stream pressure",
        "Instruction fetches from libbig.so (X, a VM_EXEC mapping) and accesses "
        "to data.mmap through a shared mapping (M) go through PTEs and set young "
        "bits; a use-once read() stream supplies the pressure. Classic: a file "
        "folio young in a VM_EXEC mapping is activated at its first inactive scan "
        "(folio_check_references) and shrink_active_list keeps it on "
        "LRU_ACTIVE_FILE instead of deactivating it (so pgrefill grows without "
        "pgdeactivate for them); mmap'd data needs two young sightings. MGLRU has "
        "no exec special case: protection comes from the page-table walk and "
        "look-around (promotion into max_seq, PG_workingset). Watch "
        "workingset_refault_file for the code and data files versus the stream.",
        300_000,
        (_p("exec_size", 0.2, 0.005, 2.0, "executable file, as a fraction of RAM"),
         _p("mmap_size", 0.3, 0.005, 2.0, "mmap'd file, as a fraction of RAM"),
         _p("stream_ratio", 0.5, 0.0, 1.0, "fraction of accesses that are stream reads")),
        _mmap_exec),
    Scenario(
        "desktop", "a desktop mix: heaps, shared libraries, reads, writes, an mmap, an exit",
        "Several processes (browser, editor, shell, build) with anon heaps, two "
        "shared libraries fetched through exec mappings (X), document reads, "
        "write() of notes.txt (dirty page cache: nr_dirty, writeback), a mapped "
        "index.db (M), and the build process exiting partway (U): its anon "
        "folios are freed at once and nr_free_pages jumps. Watch both anon and "
        "file lists shrink and refill, nr_vmscan_immediate_reclaim / pgrotated "
        "when reclaim meets dirty file folios, pswpout for the heaps, and which "
        "policy finishes sooner (sim time).",
        500_000,
        (_p("exit_at", 0.55, 0.0, 1.0, "when the build process exits, as a fraction of the run"),),
        _desktop),
    Scenario(
        "zipf-mixed", "Zipf(0.99) over anon and file sets (benchmarks)",
        "An anon heap (0.7x RAM) is written once and a file (0.7x RAM) read "
        "once, then half the accesses are Zipf over the heap and half Zipf "
        "read()s of the file, so the two types compete for RAM. The "
        "anon/file balance is the point: classic's get_scan_count weighs "
        "anon_cost and file_cost by swappiness, MGLRU's get_type_to_scan compares "
        "the refault rates of the tiers (PID controller). Watch pgscan_anon vs "
        "pgscan_file, pswpout vs pgsteal_file, and the refaults of each type. "
        "Under MGLRU watch lru_gen too: the lruvec can settle with the anon one "
        "generation above min_seq and the file cycling through the oldest, where "
        "new read() folios land, and age again only when that generation falls "
        "under a quarter of the lruvec (should_run_aging()); the real 6.12 boots of "
        "the 64 MiB export split between staying there (1 and 54 swap-ins) and "
        "leaving it (471-2,529; a traced one left it after a kswapd burst like a "
        "watermark boost's; "
        "docs/validation.md \"MGLRU's boot generations\").",
        1_000_000,
        (_p("anon_size", 0.7, 0.01, 8.0, "anon set, as a fraction of RAM"),
         _p("file_size", 0.7, 0.01, 8.0, "file, as a fraction of RAM"),
         _p("anon_fraction", 0.5, 0.0, 1.0, "fraction of accesses that are anon"),
         _p("s", 0.99, 0.0, 3.0, "Zipf exponent"),
         _p("write_ratio", 0.3, 0.0, 1.0, "fraction of anon accesses that write")),
        _zipf_mixed),
    Scenario(
        "hot-reread-stream", "a hot file set reread in passes while a use-once stream flows past",
        "The reported MGLRU loss (docs/validation.md): hot.db (40% of RAM) is read "
        "through sequentially again and again, interleaved with a read() stream that "
        "never rereads a page. Classic: the second read() of a hot folio activates it "
        "(folio_mark_accessed), so the hot set lives on LRU_ACTIVE_FILE and the stream "
        "cycles through the inactive list: workingset_refault_file stays near zero. "
        "MGLRU: read() folios enter the old generations and only gain tiers "
        "(lru_gen_inc_refs; folio_inc_refs before v6.14); whether sort_folio() protects them depends on the PID "
        "controller having seen their tier refault first (get_tier_idx), and on the "
        "folio still being in the oldest generation when it is read the second time. "
        "From 64 MiB the machine has ZONE_DMA: scan_folios() fills its batches from the "
        "zone above first, so the folios that went to ZONE_DMA stay and the rest of the "
        "cache is that much smaller; a hot folio read once per pass then falls out first. "
        "Watch workingset_refault_file and file reads (pgpgin) under each policy and "
        "kernel profile, and the ZONE_DMA folios in the oldest generation: the real 6.1 "
        "and 7.3 MGLRU reread the hot set from storage (docs/validation.md).",
        400_000,
        (_p("hot", 0.4, 0.01, 0.95, "hot file set, as a fraction of RAM"),
         _p("stream_ratio", 0.5, 0.0, 0.99, "fraction of accesses that are stream reads")),
        _hot_reread_stream),
    Scenario(
        "anon-young-file-old", "app anon always young, file cache reread (Android report)",
        "The HONOR/Android report (2026): anon pages touched through page tables stay "
        "in the youngest generations (the walk promotes them) while the file cache "
        "spreads over all generations and is over-reclaimed; MemAvailable is lower "
        "under MGLRU and swappiness does not help. Watch pgsteal_file against "
        "pgsteal_anon, workingset_refault_file, and Active(file)+Inactive(file) in "
        "meminfo at the end; rerun with swappiness 200.",
        400_000,
        (_p("anon", 0.5, 0.01, 2.0, "app anon set, as a fraction of RAM"),
         _p("file", 0.6, 0.01, 4.0, "file cache, as a fraction of RAM"),
         _p("anon_fraction", 0.5, 0.0, 1.0, "fraction of accesses that touch anon")),
        _anon_young_file_old),
    Scenario(
        "file-search", "a search rereads a file set larger than RAM (cache_ext report)",
        "cache_ext (SOSP'25): a repeated search over files larger than memory; both "
        "LRUs evict every page just before it is needed again (each reread is a "
        "refault) while an MRU policy would keep most of the set. Watch "
        "workingset_refault_file: close to every access after the first pass under "
        "both policies.",
        300_000,
        (_p("size", 1.3, 0.05, 8.0, "file set, as a fraction of RAM"),
         _p("files", 8, 1, 4096, "number of files", int)),
        _file_search),
    Scenario(
        "shifting-hotspot", "Zipf reads whose hot spot moves (TPC-C/YCSB-like)",
        "Kairui Song (2026): almost every MGLRU regression is a file cache the PID "
        "controller under- or over-protects. table.db (2x RAM) is read with Zipf "
        "popularity and the hot spot moves every phase; tiers must earn protection "
        "from refaults (get_tier_idx) and lose it when the spot moves. Watch "
        "workingset_refault_file, pgrefill (protected folios) and the tier columns "
        "of lru_gen_full.",
        400_000,
        (_p("size", 2.0, 0.05, 8.0, "table, as a fraction of RAM"),
         _p("phase", 3.0, 0.1, 100.0, "accesses per hot-spot position, as a multiple of RAM")),
        _shifting_hotspot),
)}


def generate(name: str, ram_pages: int = DEFAULT_RAM_PAGES, seed: int = 0,
             accesses: int | None = None, **params) -> Workload:
    """``SCENARIOS[name].generate(...)`` with a clear error for unknown names."""
    try:
        scenario = SCENARIOS[name]
    except KeyError:
        raise WorkloadError(
            f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})") from None
    return scenario.generate(ram_pages, seed, accesses, **params)

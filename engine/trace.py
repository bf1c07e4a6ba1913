"""Trace files: the plain-text format v1 (DESIGN §5.2), libCacheSim
``oracleGeneral`` binary traces, and one-number-per-line block traces.

A :class:`TraceStream` reads a trace as it is consumed -- a path, standard
input, bytes or a file object, gzip/bzip2/xz/zstd decompressed as a stream
-- and yields chunks of accesses in ``ACCESS_DTYPE``; ``read_trace`` and
``read_trace_bytes`` collect them into a :class:`engine.workloads.Workload`
(accesses, interned mm/file names, ``meta``). Every malformed input raises
:class:`TraceError` naming the file, the line (or record) and what was
wrong; ``read_trace`` returns nothing partial, a stream raises when it
reaches the bad chunk.

The v1 reader is vectorised: each chunk of a few MiB is tokenised with numpy
(comment masking, token boundaries, per-line token counts, digit parsing), so
a 10 M-line trace reads in seconds. Lines the vectorised pass flags as bad
are re-read by the small pure-Python checker ``_diagnose_line``, which
produces the message; the first bad line in the file wins. Block numbers
and oracleGeneral records are decoded by the nogil loops of
``engine/trace_decode.pyx`` (object ids numbered by a hash table, O(1) per
request). See docs/trace-format.md.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import sys

import numpy as np

from engine.trace_decode import ObjectTable, max_obj_size, parse_blocks
from engine.trace_text import (MAX_NAME_LEN, MAX_PAGE, _NAME_RE, TraceError, _diagnose_block_line,
                               _Names, _parse_v1_chunk, _read_v1_header)
from engine.workloads import (ACCESS_DTYPE, MAX_ACCESSES, OP_ANON, OP_EXIT, OP_LETTERS, OP_MMAP,
                              OP_READ, Workload)

__all__ = ["TraceError", "TraceTooLarge", "FORMATS", "TraceStream", "open_trace", "read_trace",
           "read_trace_bytes", "write_trace", "detect_format", "ORACLE_GENERAL_DTYPE",
           "MAX_PAGE", "MAX_NAME_LEN"]

HEADER = "# reclaimlab trace v1"
FORMATS = ("v1", "oracleGeneral", "blocks")
PAGE_SIZE = 4096
CHUNK_BYTES = 4 << 20
# oracleGeneral: requests whose ranks the first pass keeps for the second
# (4-6 bytes each: at most 192 MiB), beyond which the input is read again
RANK_CACHE_REQUESTS = 1 << 25

# libCacheSim libCacheSim/traceReader/customizedReader/oracle/oracleGeneralBin.h:
# packed little-endian {uint32 clock_time; uint64 obj_id; uint32 obj_size;
# int64 next_access_vtime}, 24 bytes per request.
ORACLE_GENERAL_DTYPE = np.dtype({
    "names": ["clock_time", "obj_id", "obj_size", "next_access_vtime"],
    "formats": ["<u4", "<u8", "<u4", "<i8"],
    "offsets": [0, 4, 12, 16],
    "itemsize": 24,
})
REC_BYTES = ORACLE_GENERAL_DTYPE.itemsize


# --- input: files, pipes, compression, detection --------------------------------------

_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
          (b"\x28\xb5\x2f\xfd", "zstd"))
HEAD_BYTES = 65536                  # what content detection looks at
# Uploads (read_trace_bytes): what compressed input may inflate to. A 20 M-
# access v1 trace is ~400 MB; no real trace compresses 200x, a bomb does.
MAX_DECOMPRESSED = 512 << 20
MAX_RATIO = 200
_RATIO_FLOOR = 1 << 20


class TraceTooLarge(TraceError):
    """Input that inflates past its cap (a decompression bomb): the server
    answers 413 rather than 422."""


class _Chain(io.RawIOBase):
    """``head`` bytes already read, then the rest of ``rest``."""

    def __init__(self, head: bytes, rest):
        self.head, self.rest = memoryview(head), rest

    def readable(self):
        return True

    def readinto(self, b):
        if len(self.head):
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        if hasattr(self.rest, "readinto"):
            return self.rest.readinto(b)
        data = self.rest.read(len(b))
        b[:len(data)] = data
        return len(data)


class _Counting(io.RawIOBase):
    """Counts the (compressed) bytes read from the source, for progress."""

    def __init__(self, raw):
        self.raw, self.nbytes = raw, 0

    def readable(self):
        return True

    def readinto(self, b):
        n = self.raw.readinto(b)
        self.nbytes += n or 0
        return n


def _read_full(f, n: int) -> bytes:
    """Up to n bytes, fewer only at the end of the input (pipes return less)."""
    parts, got = [], 0
    while got < n:
        b = f.read(n - got)
        if not b:
            break
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def _readinto_full(f, buf) -> int:
    mv = memoryview(buf)
    got = 0
    while got < len(mv):
        n = f.readinto(mv[got:])
        if not n:
            break
        got += n
    return got


def _strip_ext(name: str) -> str:
    for ext in (".gz", ".bz2", ".xz", ".zst"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _decompressing(raw, source: str):
    """Wrap a binary stream in the decompressor its magic bytes name (gzip,
    bzip2, xz, zstd), as a stream: nothing is decompressed ahead."""
    magic = _read_full(raw, 6)
    stream = io.BufferedReader(_Chain(magic, raw), 1 << 20)
    kind = next((k for m, k in _MAGIC if magic.startswith(m)), None)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb"), kind
    if kind == "bzip2":
        return bz2.BZ2File(stream), kind
    if kind == "xz":
        return lzma.LZMAFile(stream), kind
    if kind == "zstd":
        try:
            import zstandard
        except ImportError:
            raise TraceError(source, None, "zstd-compressed trace: decompress it "
                             "first (zstd -d) or install the 'zstandard' package") from None
        return zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True), kind
    return stream, None


def detect_format(data: bytes, filename: str = "") -> str:
    """Guess a format from the (decompressed) name, then from the content."""
    low = filename.lower()
    if low.endswith(".trace"):
        return "v1"
    if "oraclegeneral" in low:
        return "oracleGeneral"
    head = data[:HEAD_BYTES]
    if b"\x00" in head:
        return "oracleGeneral"
    # First token of the first non-comment line: a letter means v1, digits blocks.
    for raw in head.split(b"\n"):
        line = raw.split(b"#", 1)[0].strip()
        if line:
            return "blocks" if line.split()[0].isdigit() else "v1"
    return "v1"


class TraceStream:
    """A trace read as it is consumed: iterating yields ACCESS_DTYPE chunks.

    ``source`` is a path, ``"-"`` (standard input), ``bytes`` or a binary
    file object. Compressed input (gzip, bzip2, xz, zstd) is decompressed as
    a stream. Memory is bounded by the chunk and, for oracleGeneral, the
    object-id table: never by the trace length. ``names`` and ``meta`` are
    complete once the iteration has ended; ``bytes_in`` and ``size`` (None
    when unknown) are for progress. Errors are :class:`TraceError`; a bad
    line after the first chunk is reported when the reader gets there, after
    the earlier chunks were consumed.
    """

    def __init__(self, source, format: str | None = None, name: str | None = None,
                 chunk_accesses: int = 1 << 20, max_out: int | None = None,
                 plausible: bool = False, **options):
        if format is not None and format not in FORMATS:
            raise TraceError(name or str(source), None,
                             f"unknown trace format {format!r} (known: {', '.join(FORMATS)})")
        self.source, self.chunk_accesses, self.options = source, chunk_accesses, options
        # max_out: decompressed bytes allowed (None: unbounded, as for a
        # pipe); plausible: refuse oracleGeneral bytes that are no request log
        self.max_out, self.plausible, self._out = max_out, plausible, 0
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.name = name or "<upload>"
            self.size = len(source)
        elif isinstance(source, (str, os.PathLike)) and str(source) != "-":
            self.name = name or str(source)
            try:
                st = os.stat(source)
            except OSError as e:
                raise TraceError(self.name, None, f"cannot read: {e.strerror or e}") from None
            self.size = st.st_size if stat.S_ISREG(st.st_mode) else None
        else:
            self.name = name or ("<stdin>" if str(source) == "-" else
                                 getattr(source, "name", "<stream>"))
            self.size = None
        self._counter = None
        self.data, self.compression = self._open()
        self.head = _read_full(self.data, HEAD_BYTES)
        self._count_out(len(self.head))
        inner = _strip_ext(os.path.basename(self.name))
        self.format = format or detect_format(self.head, inner)
        if self.format != "oracleGeneral" and options:
            raise TraceError(self.name, None, f"option(s) {', '.join(options)} apply to "
                             f"oracleGeneral traces, not {self.format}")
        self.names = {"mm": [], "file": ["0"]}
        self.meta = {"source": os.path.basename(self.name), "format": self.format, "accesses": 0}
        self.nr_accesses = 0
        self._layout = None             # oracleGeneral: the first pass's (table, mode, cache)
        self._spares: list = []         # chunks handed back by recycle()
        if self.format == "oracleGeneral":
            self._check_oracle_options(**options)
            if self.size is not None and self.compression is None \
                    and self.size % ORACLE_GENERAL_DTYPE.itemsize:
                self._truncated(self.size)
        elif self.format == "v1":
            self._v1_names = _Names()
            _read_v1_header(self.head, self.name, self._v1_names)

    @property
    def bytes_in(self) -> int:
        """Bytes of the (possibly compressed) input read so far."""
        return self._counter.nbytes if self._counter else 0

    def _open(self):
        src = self.source
        if isinstance(src, (bytes, bytearray, memoryview)):
            raw = io.BytesIO(src)
        elif isinstance(src, (str, os.PathLike)) and str(src) != "-":
            try:
                raw = open(src, "rb", buffering=0)
            except OSError as e:
                raise TraceError(self.name, None, f"cannot read: {e.strerror or e}") from None
        elif str(src) == "-":
            raw = sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer
        else:
            raw = src
        self._raw = raw if raw is not src else None      # ours to close
        self._counter = _Counting(raw)
        try:
            return _decompressing(self._counter, self.name)
        except TraceError:
            raise
        except Exception as e:  # noqa: BLE001 - a corrupt archive header
            raise TraceError(self.name, None, f"cannot decompress: {e}") from None

    def _reopenable(self) -> bool:
        return isinstance(self.source, (bytes, bytearray, memoryview)) or (
            isinstance(self.source, (str, os.PathLike)) and str(self.source) != "-"
            and self.size is not None)

    def _blocks(self, nbytes: int):
        """The decompressed input in pieces of nbytes (the last one shorter).
        One buffer is reused: a piece is valid until the next one is asked
        for (every consumer decodes or copies it first)."""
        head, self.head = self.head, b""
        buf = bytearray(nbytes)
        while True:
            k = min(len(head), nbytes)
            buf[:k] = head[:k]
            head = head[k:]
            got = k if k == nbytes else k + self._fill(memoryview(buf)[k:])
            if got == 0:
                return
            yield memoryview(buf)[:got]
            if got < nbytes:
                return

    def _count_out(self, n: int) -> None:
        self._out += n
        if self.max_out is not None and self._out > self.max_out:
            raise TraceTooLarge(self.name, None, f"decompresses to more than {self.max_out} "
                                "bytes; this limit guards against decompression bombs")

    def _fill(self, mv) -> int:
        try:
            n = _readinto_full(self.data, mv)
            self._count_out(n)
            return n
        except TraceError:
            raise
        except (OSError, EOFError, ValueError, lzma.LZMAError) as e:
            raise TraceError(self.name, None, f"cannot decompress: {e}") from None
        except Exception as e:  # noqa: BLE001 - zstandard.ZstdError and friends
            raise TraceError(self.name, None, f"cannot decompress: {e}") from None

    def __iter__(self):
        if self.format == "oracleGeneral":
            it = self._iter_oracle()
        elif self.format == "v1":
            it = self._iter_text(self._v1_chunk)
        else:
            it = self._iter_text(self._blocks_chunk)
        try:
            for a in it:
                if len(a):
                    self.nr_accesses += len(a)
                    self.meta["accesses"] = self.nr_accesses
                    yield a
        finally:
            self.close()
        if self.format == "v1":
            self.names = self._v1_names.lists()

    # --- text formats

    def _iter_text(self, parse):
        """Whole lines of about CHUNK_BYTES at a time; the partial last line
        of a piece is carried into the next. A line longer than a chunk is an
        error: no trace line is that long (a binary file read as text)."""
        line_base, carry = 0, b""
        too_long = f"line longer than {CHUNK_BYTES} bytes (not a text trace?)"
        for block in self._blocks(CHUNK_BYTES):
            data = carry + bytes(block)
            if len(block) < CHUNK_BYTES:
                chunk, carry = data, b""
            else:
                nl = data.rfind(b"\n")
                if nl < 0:
                    raise TraceError(self.name, line_base + 1, too_long)
                chunk, carry = data[:nl + 1], data[nl + 1:]
            arr, nlines = parse(chunk, line_base)
            line_base += nlines
            yield arr
            if len(carry) >= CHUNK_BYTES:
                raise TraceError(self.name, line_base + 1, too_long)
        if carry:
            yield parse(carry, line_base)[0]

    def _v1_chunk(self, chunk: bytes, line_base: int):
        return _parse_v1_chunk(chunk, self.name, line_base, self._v1_names)

    def _blocks_chunk(self, chunk: bytes, line_base: int):
        if not chunk.endswith(b"\n"):
            chunk += b"\n"
        arr, nlines, bad = parse_blocks(chunk, MAX_PAGE)
        if bad >= 0:
            lines = chunk.split(b"\n")
            raise TraceError(self.name, line_base + bad + 1,
                             _diagnose_block_line(lines[bad].decode("utf-8", "replace")))
        return arr, nlines

    # --- oracleGeneral records

    def _check_oracle_options(self, obj_pages: str = "size", max_obj_pages: int = 256):
        if obj_pages not in ("size", "one"):
            raise TraceError(self.name, None,
                             f"obj_pages must be 'size' or 'one', got {obj_pages!r}")
        if not isinstance(max_obj_pages, int) or isinstance(max_obj_pages, bool) \
                or max_obj_pages < 1:
            raise TraceError(self.name, None, "max_obj_pages must be a positive integer")
        self.obj_pages, self.max_obj_pages = obj_pages, max_obj_pages

    def _truncated(self, nbytes: int):
        rec = ORACLE_GENERAL_DTYPE.itemsize
        n_whole = nbytes // rec
        raise TraceError(self.name, None, f"record {n_whole + 1} (byte {n_whole * rec}) is "
                         f"truncated: file size {nbytes} is not a multiple of {rec} "
                         "(not an oracleGeneral trace?)")

    def _records(self):
        """Whole records, one chunk at a time; a torn last record is an error."""
        total = 0
        for block in self._blocks(self.chunk_accesses * REC_BYTES):
            total += len(block)
            if len(block) % REC_BYTES:
                self._truncated(total)
            yield block

    def close(self):
        if getattr(self, "_raw", None) is not None and self._raw is not sys.stdin.buffer \
                and self._raw is not getattr(sys.stdin.buffer, "raw", None):
            self._raw.close()
        self._raw = None

    def _restart(self):
        """Read the input again from its start (a second pass)."""
        self.close()
        self.data, _ = self._open()
        self.head = _read_full(self.data, HEAD_BYTES)
        self._out = 0
        self._count_out(len(self.head))

    def prepare(self, sims) -> None:
        """Before the first chunk (engine/feeding.py): a first pass over an
        input that can be read twice, for each file's size (its highest page,
        where read-ahead stops as the kernel's does at i_size), declared to
        the simulators, so that the trace streams exactly as its whole array
        would run (Simulator.feed()). A pipe cannot be read twice: its files
        grow chunk by chunk (docs/trace-format.md)."""
        if not self._reopenable():
            return
        if self.format == "oracleGeneral":
            table, mode, _ = self._layout_oracle(need_count=True)
            top = table.file_pages if mode == "laid_out" else table.nr_objects
            if top:
                size = np.zeros(1, dtype=ACCESS_DTYPE)
                size["op"], size["page"] = OP_READ, top - 1
                for sim in sims:
                    sim.note_file_sizes(size)
            return
        # a text trace is parsed once more by a stream of its own (this one's
        # state, e.g. the v1 names, is left to the real pass)
        for a in TraceStream(self.source, format=self.format, name=self.name,
                             chunk_accesses=self.chunk_accesses, max_out=self.max_out):
            for sim in sims:
                sim.note_file_sizes(a)

    def _layout_oracle(self, need_count: bool):
        """The first pass over oracleGeneral records that can be read twice:
        numbers the objects (the table the second pass reuses) and keeps each
        one's largest request when sizes matter, or, with `need_count`, just
        counts them (file 0's size is the number of objects). Up to
        RANK_CACHE_REQUESTS requests, each request's rank (and pages) is kept,
        so that the second pass writes the accesses without reading or
        hashing the input again (6 bytes a request at most: bounded by the
        cap, not by the trace). Returns (table, mode, cached chunks or None)."""
        if self._layout is not None:
            return self._layout
        table = ObjectTable()
        sized = self.obj_pages == "size" and self.max_obj_pages > 1
        if not (sized or need_count):
            return table, "one", None
        if not need_count and (self.size is None or self.compression is not None
                               or self.size // REC_BYTES > RANK_CACHE_REQUESTS):
            # nothing to keep: first the cheap look, which finds no request
            # above one page in most traces (then the layout is "one")
            biggest = 0
            for block in self._records():
                biggest = max(biggest, max_obj_size(block))
            self._restart()
            if biggest <= PAGE_SIZE:
                return table, "one", None
        cache: list | None = []
        kept = 0
        keep_pages = sized and self.max_obj_pages <= 0xFFFF
        for block in self._records():
            n = len(block) // REC_BYTES
            if cache is not None and kept + n > RANK_CACHE_REQUESTS:
                cache = None                        # too long to keep: read it again
            ranks = pages = None
            if cache is not None:
                ranks = np.empty(n, dtype=np.int32)
                if keep_pages:
                    pages = np.empty(n, dtype=np.uint16)
            table.scan_extents(block, self.max_obj_pages, sized, ranks, pages)
            if cache is not None:
                # None: every request so far was one page (most traces)
                cache.append((ranks, pages if table.max_extent > 1 else None))
                kept += n
        self._restart()
        mode = "one"
        if sized and table.max_extent > 1:
            mode = "laid_out"
            if table.finish_layout() - 1 > MAX_PAGE:
                raise TraceError(self.name, None, "objects do not fit in one file's page offsets")
            if not keep_pages:
                cache = None                        # requests of more than 65,535 pages
        self._layout = (table, mode, cache)
        return self._layout

    def _iter_oracle(self):
        """Each request reads its object's pages through the page cache of
        file 0; objects are numbered in order of first appearance by a hash
        table (engine/trace_decode.pyx), O(1) per request.

        obj_pages="one": object r is page r. obj_pages="size" (an object
        spans ceil(largest request / 4096) pages, objects one after another):
        the largest request of each object is only known at the end, so a
        file is read twice (_layout_oracle()), and laid out as "one" when no
        request is above one page. From a pipe there is no second pass:
        object r owns pages [r * max_obj_pages, (r + 1) * max_obj_pages)
        ("stride" layout, docs/trace-format.md)."""
        sized = self.obj_pages == "size" and self.max_obj_pages > 1
        if self._reopenable():
            table, mode, cache = self._layout_oracle(need_count=False)
        else:
            table, mode, cache = ObjectTable(), "stride" if sized else "one", None
        requests = 0
        if cache and not self.plausible:
            # the first pass kept every request's rank: no second read
            chunks = ((table.decode_cached(r, p, mode, self._spare()), len(r)) for r, p in cache)
        else:
            chunks = self._oracle_decoded(table, mode, cache)
        for a, n in chunks:
            requests += n
            if len(a) and int(a["page"][-1]) > MAX_PAGE:
                raise TraceError(self.name, None, "objects do not fit in one file's page offsets")
            self.meta.update({"requests": requests, "objects": table.nr_objects})
            yield a
        self.meta.update({
            "requests": requests, "objects": table.nr_objects, "obj_pages": self.obj_pages,
            "file_pages": (table.file_pages if mode == "laid_out" else
                           table.nr_objects * self.max_obj_pages if mode == "stride" else
                           table.nr_objects),
        })
        if mode == "stride":
            self.meta["layout"] = "stride"

    def _oracle_decoded(self, table, mode, cache):
        """The records read (again) and decoded, each chunk checked when the
        input must look like a request log (uploads)."""
        requests = last_clock = 0
        for i, block in enumerate(self._records()):
            if self.plausible:
                last_clock = _check_oracle_plausible(
                    np.frombuffer(block, dtype=ORACLE_GENERAL_DTYPE), requests, last_clock,
                    self.name)
            n = len(block) // REC_BYTES
            requests += n
            yield (table.decode_cached(*cache[i], mode, self._spare()) if cache else
                   table.decode(block, mode, self.max_obj_pages, self._spare())), n

    def _spare(self):
        try:
            return self._spares.pop()
        except IndexError:
            return None

    def recycle(self, chunk) -> None:
        """engine/feeding.py hands back a chunk no simulator holds any more:
        the next oracleGeneral chunk is decoded into it. Fresh memory is
        zeroed by the kernel on first touch, ~0.4 s of CPU for the 320 MB of
        a 20 M-request trace on this machine (perf: clear_page_erms)."""
        while isinstance(chunk, np.ndarray) and isinstance(chunk.base, np.ndarray):
            chunk = chunk.base                      # the whole buffer, not the view
        if self.format == "oracleGeneral" and len(self._spares) < 2:
            self._spares.append(chunk)


_NEVER = np.int64(np.iinfo(np.int64).max)


def _check_oracle_plausible(reqs: np.ndarray, base: int, last_clock: int, source: str) -> int:
    """Refuse bytes that are a multiple of 24 long but no oracleGeneral
    trace (one chunk of records starting at request `base`; returns the last
    clock). A libCacheSim trace is a request log: (1) clock_time never
    decreases; (2) next_access_vtime is -1 / INT64_MAX (never again) or a
    later request's position, and (3) that request, when in this chunk, is
    for the same object (positions counted from 1 as libCacheSim's
    converters do, or from 0). Random bytes fail (1) within a few records."""
    n = len(reqs)
    if n == 0:
        return last_clock
    clock = reqs["clock_time"].astype(np.int64)
    prev = np.concatenate(([last_clock], clock[:-1]))
    down = np.flatnonzero(clock < prev)
    if len(down):
        k = int(down[0])
        raise TraceError(source, None, f"record {base + k + 1}: clock_time {int(clock[k])} is "
                         f"before the previous record's {int(prev[k])} (not an oracleGeneral trace?)")
    nxt = reqs["next_access_vtime"]
    pos = base + np.arange(n, dtype=np.int64)
    never = (nxt == -1) | (nxt == _NEVER)
    bad = ~never & (nxt <= pos)
    if bad.any():
        k = int(np.argmax(bad))
        raise TraceError(source, None, f"record {base + k + 1}: next_access_vtime {int(nxt[k])} "
                         "is not after the record itself (not an oracleGeneral trace?)")
    ids = reqs["obj_id"]
    ok = False
    for first in (1, 0):
        j = nxt - first - base
        sel = ~never & (j >= 0) & (j < n)
        if np.array_equal(ids[j[sel]], ids[sel]):
            ok = True
            break
    if not ok:
        raise TraceError(source, None, f"records {base + 1}..{base + n}: next_access_vtime "
                         "points at requests for other objects (not an oracleGeneral trace?)")
    return int(clock[-1])


def open_trace(source, format: str | None = None, **options) -> TraceStream:
    """A :class:`TraceStream` over a path, ``"-"`` (stdin), bytes or a file object."""
    return TraceStream(source, format=format, **options)


def read_trace(path, format: str | None = None, **options) -> Workload:
    """Read a whole trace file into memory; ``format`` in FORMATS overrides
    auto-detection. ``"-"`` reads standard input."""
    return _materialize(TraceStream(path, format=format, **options))


def read_trace_bytes(data: bytes, filename: str = "<upload>", format: str | None = None,
                     max_decompressed: int = MAX_DECOMPRESSED, max_ratio: int = MAX_RATIO,
                     **options) -> Workload:
    """Read a trace from bytes (an upload); ``filename`` names it in errors
    and drives auto-detection. What it decompresses to is capped at
    min(max_decompressed, max(1 MiB, max_ratio x its size)) (TraceTooLarge),
    and oracleGeneral bytes must look like a request log."""
    cap = min(max_decompressed, max(_RATIO_FLOOR, max_ratio * len(data)))
    return _materialize(TraceStream(bytes(data), format=format, name=filename, max_out=cap,
                                    plausible=True, **options))


def _materialize(ts: TraceStream) -> Workload:
    parts, total = [], 0
    for a in ts:
        total += len(a)
        if total > MAX_ACCESSES:
            raise TraceError(ts.name, None, f"expands to more than {MAX_ACCESSES} page "
                             "accesses in memory; use obj_pages='one', a smaller max_obj_pages, "
                             "or stream it (reclaimlab simulate --trace)")
        parts.append(a)
    accesses = np.concatenate(parts) if parts else np.zeros(0, dtype=ACCESS_DTYPE)
    meta = dict(ts.meta)
    meta["accesses"] = len(accesses)
    return Workload(accesses, ts.names, meta)


# --- writer ----------------------------------------------------------------------------

def write_trace(dest, workload: Workload | np.ndarray, names: dict | None = None,
                comment: str | None = None) -> None:
    """Write format v1 to a path or a text file object: the header, the name
    declarations, then one line per access. Owners without a name are written
    as their number."""
    if isinstance(workload, Workload):
        accesses, names = workload.accesses, workload.names if names is None else names
    else:
        accesses = workload
    accesses = np.asarray(accesses)
    if accesses.dtype != ACCESS_DTYPE:
        raise TypeError(f"accesses must have ACCESS_DTYPE, got {accesses.dtype}")
    names = names or {"mm": [], "file": []}
    for kind in ("mm", "file"):
        for nm in names.get(kind, []):
            if not _NAME_RE.fullmatch(nm) or len(nm) > MAX_NAME_LEN:
                raise ValueError(f"{kind} name {nm!r} cannot be written (names are [A-Za-z0-9_.-]+)")
            if nm.isdigit() and str(int(nm)) != nm:
                raise ValueError(f"{kind} name {nm!r}: numeric names must be canonical")
    if np.any(accesses["op"] > OP_EXIT):
        raise ValueError("access with an unknown op")

    def render(owner_names):
        def name_of(i):
            return owner_names[i] if i < len(owner_names) else str(i)
        return name_of

    mm_name = render(names.get("mm", []))
    file_name = render(names.get("file", []))
    close = False
    if isinstance(dest, (str, os.PathLike)):
        f = open(dest, "w", encoding="ascii", newline="\n")
        close = True
    else:
        f = dest
    try:
        f.write(HEADER + "\n")
        if comment:
            for line in comment.splitlines():
                f.write(f"# {line}\n")
        # Declarations let the reader give every name its original id; owners
        # past the end of a list are written as numbers and declared by number.
        for kind, lst in (("mm", names.get("mm", [])), ("file", names.get("file", []))):
            for i, nm in enumerate(lst):
                f.write(f"# {kind} {i} {nm}\n")
        ops = accesses["op"].tolist()
        owners = accesses["owner"].tolist()
        pages = accesses["page"].tolist()
        writes = accesses["write"].tolist()
        step = 1 << 16
        for lo in range(0, len(ops), step):
            out = []
            for op, ow, pg, w in zip(ops[lo:lo + step], owners[lo:lo + step],
                                     pages[lo:lo + step], writes[lo:lo + step]):
                if op == OP_EXIT:
                    out.append(f"U {mm_name(ow)}")
                elif op == OP_ANON:
                    out.append(f"A {mm_name(ow)} {pg} w" if w else f"A {mm_name(ow)} {pg}")
                elif op == OP_MMAP:
                    out.append(f"M {file_name(ow)} {pg} w" if w else f"M {file_name(ow)} {pg}")
                else:
                    out.append(f"{OP_LETTERS[op]} {file_name(ow)} {pg}")
            f.write("\n".join(out))
            f.write("\n")
    finally:
        if close:
            f.close()

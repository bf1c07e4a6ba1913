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
import re
import stat
import sys

import numpy as np

from engine.trace_decode import ObjectTable, max_obj_size, parse_blocks
from engine.workloads import (ACCESS_DTYPE, MAX_ACCESSES, MM_OPS, OP_ANON, OP_EXIT, OP_LETTERS,
                              OP_WRITE, OP_MMAP, Workload)

__all__ = ["TraceError", "FORMATS", "TraceStream", "open_trace", "read_trace",
           "read_trace_bytes", "write_trace", "detect_format", "ORACLE_GENERAL_DTYPE",
           "MAX_PAGE", "MAX_NAME_LEN"]

HEADER = "# reclaimlab trace v1"
FORMATS = ("v1", "oracleGeneral", "blocks")
MAX_PAGE = (1 << 40) - 1            # the engine keys the page cache by file << 40 | pgoff
MAX_NAME_LEN = 255
MAX_DIGITS = 19                     # 10**19 - 1 < 2**64: parses exactly in uint64
PAGE_SIZE = 4096
CHUNK_BYTES = 4 << 20

# libCacheSim libCacheSim/traceReader/customizedReader/oracle/oracleGeneralBin.h:
# packed little-endian {uint32 clock_time; uint64 obj_id; uint32 obj_size;
# int64 next_access_vtime}, 24 bytes per request.
ORACLE_GENERAL_DTYPE = np.dtype({
    "names": ["clock_time", "obj_id", "obj_size", "next_access_vtime"],
    "formats": ["<u4", "<u8", "<u4", "<i8"],
    "offsets": [0, 4, 12, 16],
    "itemsize": 24,
})

_HEADER_RE = re.compile(rb"#\s*reclaimlab\s+trace\s+v(\d+)\s*$")
# Name declarations the writer puts after the header, so that a round trip
# keeps the owner ids: "# mm <id> <name>" / "# file <id> <name>".
_DECL_RE = re.compile(r"#\s*(mm|file)\s+(\d+)\s+([A-Za-z0-9_.-]+)\s*$")
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")

_OP_OF_BYTE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(OP_LETTERS):
    _OP_OF_BYTE[ord(_c)] = _i
_NAME_OK = np.zeros(256, dtype=bool)
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-":
    _NAME_OK[_c] = True
_SPACE = np.zeros(256, dtype=bool)          # token separators: space, tab, CR, LF
_SPACE[[32, 9, 13, 10]] = True
_SPACE_OR_COMMA = _SPACE.copy()
_SPACE_OR_COMMA[44] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[48:58] = True
# Fields per op: (min tokens, max tokens) including the op letter.
_NTOK_MIN = np.array([3, 3, 3, 3, 3, 2], dtype=np.int64)
_NTOK_MAX = np.array([4, 3, 3, 4, 3, 2], dtype=np.int64)


class TraceError(ValueError):
    """A malformed trace; ``str()`` is ``"<file>:<line>: <what was wrong>"``."""

    def __init__(self, source: str, line: int | None, what: str):
        self.source, self.line, self.what = source, line, what
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {what}")


# --- input: files, pipes, compression, detection --------------------------------------

_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
          (b"\x28\xb5\x2f\xfd", "zstd"))
HEAD_BYTES = 65536                  # what content detection looks at


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
                 chunk_accesses: int = 1 << 20, **options):
        if format is not None and format not in FORMATS:
            raise TraceError(name or str(source), None,
                             f"unknown trace format {format!r} (known: {', '.join(FORMATS)})")
        self.source, self.chunk_accesses, self.options = source, chunk_accesses, options
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
        inner = _strip_ext(os.path.basename(self.name))
        self.format = format or detect_format(self.head, inner)
        if self.format != "oracleGeneral" and options:
            raise TraceError(self.name, None, f"option(s) {', '.join(options)} apply to "
                             f"oracleGeneral traces, not {self.format}")
        self.names = {"mm": [], "file": ["0"]}
        self.meta = {"source": os.path.basename(self.name), "format": self.format, "accesses": 0}
        self.nr_accesses = 0
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

    def _fill(self, mv) -> int:
        try:
            return _readinto_full(self.data, mv)
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
        rec = ORACLE_GENERAL_DTYPE.itemsize
        total = 0
        for block in self._blocks(self.chunk_accesses * rec):
            total += len(block)
            if len(block) % rec:
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

    def _iter_oracle(self):
        """Each request reads its object's pages through the page cache of
        file 0; objects are numbered in order of first appearance by a hash
        table (engine/trace_decode.pyx), O(1) per request.

        obj_pages="one": object r is page r. obj_pages="size" (an object
        spans ceil(largest request / 4096) pages, objects one after another):
        the largest request of each object is only known at the end, so a
        file is read twice -- unless a cheap first look finds no request
        above one page, when the layout is the same as "one". From a pipe
        there is no second pass: object r owns pages [r * max_obj_pages,
        (r + 1) * max_obj_pages) ("stride" layout, docs/trace-format.md)."""
        table = ObjectTable()
        mode = "one"
        if self.obj_pages == "size" and self.max_obj_pages > 1:
            if not self._reopenable():
                mode = "stride"
            else:
                biggest = 0
                for block in self._records():
                    biggest = max(biggest, max_obj_size(block))
                self._restart()
                if biggest > PAGE_SIZE:
                    mode = "laid_out"
                    for block in self._records():
                        table.scan_extents(block, self.max_obj_pages)
                    file_pages = table.finish_layout()
                    if file_pages - 1 > MAX_PAGE:
                        raise TraceError(self.name, None,
                                         "objects do not fit in one file's page offsets")
                    self._restart()
        requests = 0
        for block in self._records():
            requests += len(block) // ORACLE_GENERAL_DTYPE.itemsize
            a = table.decode(block, mode, self.max_obj_pages)
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


def open_trace(source, format: str | None = None, **options) -> TraceStream:
    """A :class:`TraceStream` over a path, ``"-"`` (stdin), bytes or a file object."""
    return TraceStream(source, format=format, **options)


def read_trace(path, format: str | None = None, **options) -> Workload:
    """Read a whole trace file into memory; ``format`` in FORMATS overrides
    auto-detection. ``"-"`` reads standard input."""
    return _materialize(TraceStream(path, format=format, **options))


def read_trace_bytes(data: bytes, filename: str = "<upload>", format: str | None = None,
                     **options) -> Workload:
    """Read a trace from bytes (an upload); ``filename`` names it in errors
    and drives auto-detection."""
    return _materialize(TraceStream(bytes(data), format=format, name=filename, **options))


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


# --- plain-text v1 ---------------------------------------------------------------------

class _Names:
    """Interns names per kind in first-appearance order (or declared order)."""

    def __init__(self):
        self.ids: dict[str, dict[str, int]] = {"mm": {}, "file": {}}

    def lists(self) -> dict[str, list[str]]:
        return {k: list(d) for k, d in self.ids.items()}

    def map(self, kind: str, uniq: list[str]) -> np.ndarray:
        d = self.ids[kind]
        return np.array([d.setdefault(u, len(d)) for u in uniq], dtype=np.uint32)


def _read_v1_header(data: bytes, source: str, names: _Names) -> None:
    """Check the optional version line and honour the writer's name
    declarations (only in the leading comment block of a v1-headed file)."""
    first = data[:200].split(b"\n", 1)[0].rstrip(b"\r")
    m = _HEADER_RE.match(first)
    if not m:
        return
    if m.group(1) != b"1":
        raise TraceError(source, 1, f"unsupported trace format version v{m.group(1).decode()}"
                         " (this reader knows v1)")
    pos, lineno = (data.find(b"\n") + 1) or len(data), 2
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        line = data[pos:end].decode("utf-8", "replace").strip()
        pos, lineno = end + 1, lineno + 1
        if not line:
            continue
        if not line.startswith("#"):
            break
        d = _DECL_RE.match(line)
        if d:
            kind, idx, name = d.group(1), int(d.group(2)), d.group(3)
            ids = names.ids[kind]
            if idx != len(ids) or name in ids:
                raise TraceError(source, lineno - 1, f"name declaration out of order: "
                                 f"expected {kind} {len(ids)}, got {kind} {idx} {name}")
            ids[name] = idx


def _token_bounds(ws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) of every run of non-whitespace bytes."""
    edge = np.diff(ws.view(np.int8), prepend=np.int8(1), append=np.int8(1))
    return np.flatnonzero(edge == -1), np.flatnonzero(edge == 1)


def _prefix_count(mask: np.ndarray) -> np.ndarray:
    """c[i] = number of set bytes before i, so a token [s, e) holds c[e] - c[s]."""
    c = np.zeros(len(mask) + 1, dtype=np.int32)
    np.cumsum(mask, dtype=np.int32, out=c[1:])
    return c


def _mask_comments(buf: np.ndarray, nl_pos: np.ndarray, ws: np.ndarray) -> None:
    """Mark as whitespace everything from a line's first '#' to its end."""
    hash_pos = np.flatnonzero(buf == 35)
    if len(hash_pos) == 0:
        return
    hline = np.searchsorted(nl_pos, hash_pos)
    first = np.ones(len(hash_pos), dtype=bool)
    first[1:] = hline[1:] != hline[:-1]
    delta = np.zeros(len(buf) + 1, dtype=np.int8)
    delta[hash_pos[first]] = 1
    delta[nl_pos[hline[first]]] = -1
    ws |= np.cumsum(delta[:-1], dtype=np.int8) > 0


def _parse_v1_chunk(chunk: bytes, source: str, line_base: int, names: _Names):
    """Vectorised parse of whole lines; returns (accesses, number of lines)."""
    if not chunk.endswith(b"\n"):
        chunk = chunk + b"\n"
    buf = np.frombuffer(chunk, dtype=np.uint8)
    nl = buf == 10
    nl_pos = np.flatnonzero(nl)
    nlines = len(nl_pos)
    line_start = np.empty(nlines, dtype=np.int64)
    line_start[0] = 0
    line_start[1:] = nl_pos[:-1] + 1
    ws = _SPACE[buf]
    _mask_comments(buf, nl_pos, ws)
    starts, ends = _token_bounds(ws)
    tline = np.searchsorted(nl_pos, starts)
    ntok = np.bincount(tline, minlength=nlines)
    first_tok = np.cumsum(ntok) - ntok
    lines = np.flatnonzero(ntok)                      # non-blank lines, in order
    n = len(lines)
    out = np.zeros(n, dtype=ACCESS_DTYPE)
    if n == 0:
        return out, nlines
    nt = ntok[lines]
    t0 = first_tok[lines]

    # cumulative counts of bad bytes, to test a whole token in O(1)
    bad_name = _prefix_count(~_NAME_OK[buf])
    non_digit = _prefix_count(~_DIGIT[buf])

    op_len = ends[t0] - starts[t0]
    op = _OP_OF_BYTE[buf[starts[t0]]]
    op[op_len != 1] = 255
    bad = op == 255
    opi = np.where(bad, 0, op).astype(np.int64)
    bad |= (nt < _NTOK_MIN[opi]) | (nt > _NTOK_MAX[opi])

    # name: token 1 (every op has one when the count is right)
    has1 = nt >= 2
    t1 = np.where(has1, t0 + 1, t0)
    s1, e1 = starts[t1], ends[t1]
    bad |= has1 & (((bad_name[e1] - bad_name[s1]) > 0) | ((e1 - s1) > MAX_NAME_LEN))

    # number: token 2 for every op but U
    has2 = nt >= 3
    t2 = np.where(has2, t0 + 2, t0)
    s2, e2 = starts[t2], ends[t2]
    len2 = e2 - s2
    num_ok = ((non_digit[e2] - non_digit[s2]) == 0) & (len2 <= MAX_DIGITS)
    bad |= has2 & ~num_ok
    page = _parse_uint(buf, s2, e2, has2 & num_ok)
    bad |= has2 & (page > MAX_PAGE)

    # optional 'w' flag: token 3 (A and M only, enforced by the count check)
    has3 = nt >= 4
    t3 = np.where(has3, t0 + 3, t0)
    flag_ok = ((ends[t3] - starts[t3]) == 1) & (buf[starts[t3]] == ord("w"))
    bad |= has3 & ~flag_ok

    if bad.any():
        first_bad = int(lines[np.argmax(bad)])
        lo = int(line_start[first_bad])
        hi = int(nl_pos[first_bad])
        text = chunk[lo:hi].decode("utf-8", "replace")
        raise TraceError(source, line_base + first_bad + 1, _diagnose_line(text))

    out["op"] = op
    out["page"] = np.where(has2, page, 0)
    out["write"] = has3 | (op == OP_WRITE)
    # Intern names: per kind, unique tokens in first-appearance order.
    is_mm = np.isin(op, MM_OPS)
    owner = np.empty(n, dtype=np.uint32)
    for kind, sel in (("mm", is_mm), ("file", ~is_mm)):
        idx = np.flatnonzero(sel)
        if len(idx):
            owner[idx] = _intern(buf, s1[idx], e1[idx], non_digit, names, kind)
    out["owner"] = owner
    return out, nlines


def _parse_uint(buf, s, e, ok) -> np.ndarray:
    """Parse the digit tokens [s, e) selected by ``ok`` as uint64 (Horner
    over the digit columns, right-aligned; width = the longest token)."""
    val = np.zeros(len(s), dtype=np.uint64)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return val
    s, e = s[idx], e[idx]
    width = int((e - s).max())
    acc = np.zeros(len(idx), dtype=np.uint64)
    for j in range(width):
        pos = e - (width - j)
        live = pos >= s
        d = buf[np.maximum(pos, 0)].astype(np.uint64) - np.uint64(48)
        acc = np.where(live, acc * np.uint64(10) + d, acc)
    val[idx] = acc
    return val


def _intern(buf, s, e, non_digit, names: _Names, kind: str) -> np.ndarray:
    """Owner ids for name tokens [s, e). All-digit names are canonical
    integers ("007" is "7"), so that numbered traces need no name table."""
    is_num = ((non_digit[e] - non_digit[s]) == 0) & ((e - s) <= MAX_DIGITS)
    sets = []       # (token positions, inverse into its uniques, number of uniques)
    entries = []    # (first position, name, set, unique index)
    ni = np.flatnonzero(is_num)
    if len(ni):
        v = _parse_uint(buf, s[ni], e[ni], np.ones(len(ni), dtype=bool))
        u, first, inv = np.unique(v, return_index=True, return_inverse=True)
        entries += [(int(ni[first[k]]), str(int(u[k])), len(sets), k) for k in range(len(u))]
        sets.append((ni, inv.ravel(), len(u)))
    si = np.flatnonzero(~is_num)
    if len(si):
        ss, ee = s[si], e[si]
        width = int((ee - ss).max())
        pos = ss[:, None] + np.arange(width)
        m = buf[np.minimum(pos, len(buf) - 1)]
        m[pos >= ee[:, None]] = 0
        fixed = np.ascontiguousarray(m).view(f"S{width}").ravel()
        u, first, inv = np.unique(fixed, return_index=True, return_inverse=True)
        entries += [(int(si[first[k]]), u[k].decode(), len(sets), k) for k in range(len(u))]
        sets.append((si, inv.ravel(), len(u)))
    entries.sort()
    mapped = names.map(kind, [en[1] for en in entries])
    luts = [np.empty(nu, dtype=np.uint32) for (_, _, nu) in sets]
    for en, oid in zip(entries, mapped):
        luts[en[2]][en[3]] = oid
    ids = np.empty(len(s), dtype=np.uint32)
    for (where, inv, _), lut in zip(sets, luts):
        ids[where] = lut[inv]
    return ids


def _diagnose_line(text: str) -> str:
    """What is wrong with one v1 line (the reference checker; the vectorised
    parser only decides *whether* a line is bad)."""
    fields = text.split("#", 1)[0].split()
    letter = fields[0]
    if len(letter) != 1 or letter not in OP_LETTERS:
        return f"unknown op {letter!r} (expected one of A R W M X U)"
    op = OP_LETTERS.index(letter)
    want = {"A": "A <mm> <vpn> [w]", "R": "R <file> <pgoff>", "W": "W <file> <pgoff>",
            "M": "M <file> <pgoff> [w]", "X": "X <file> <pgoff>", "U": "U <mm>"}[letter]
    if len(fields) < _NTOK_MIN[op]:
        missing = "mm name" if op in MM_OPS and len(fields) == 1 else \
                  "file name" if len(fields) == 1 else \
                  "vpn" if op == OP_ANON else "pgoff"
        return f"missing field: {missing} (expected '{want}')"
    name = fields[1]
    if not _NAME_RE.fullmatch(name):
        bad = next((c for c in name if not _NAME_RE.fullmatch(c)), "?")
        return f"bad name {name!r}: character {bad!r} not allowed (names are [A-Za-z0-9_.-]+)"
    if len(name) > MAX_NAME_LEN:
        return f"bad name: longer than {MAX_NAME_LEN} characters"
    if op == OP_EXIT:
        if len(fields) > 2:
            return f"trailing junk {' '.join(fields[2:])!r} (expected '{want}')"
        return "malformed line"
    if len(fields) >= 3:
        what = "vpn" if op == OP_ANON else "pgoff"
        num = fields[2]
        if num.startswith("-") and num[1:].isdigit():
            return f"negative {what} {num}"
        if not (num.isascii() and num.isdigit()):
            return f"{what} {num!r} is not a non-negative integer"
        if len(num) > MAX_DIGITS or int(num) > MAX_PAGE:
            return f"{what} {num} too large (max {MAX_PAGE})"
    if len(fields) > _NTOK_MAX[op]:
        return f"trailing junk {' '.join(fields[_NTOK_MAX[op]:])!r} (expected '{want}')"
    if len(fields) == 4 and fields[3] != "w":
        return f"bad flag {fields[3]!r} (only 'w' is allowed, expected '{want}')"
    return "malformed line"


# --- one number per line ---------------------------------------------------------------

def _diagnose_block_line(text: str) -> str:
    """What is wrong with one line of a block-number trace (the Cython
    parser only says which line is bad)."""
    fields = text.split("#", 1)[0].replace(",", " ").split()
    if len(fields) != 1:
        return f"expected one block number per line, got {len(fields)} fields"
    if fields[0].startswith("-"):
        return f"negative block number {fields[0]}"
    if not (fields[0].isascii() and fields[0].isdigit()):
        return f"block number {fields[0]!r} is not a non-negative integer"
    return f"block number {fields[0]} too large (max {MAX_PAGE})"


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

"""Trace files: the plain-text format v1 (DESIGN §5.2), libCacheSim
``oracleGeneral`` binary traces, and one-number-per-line block traces.

Every reader returns a :class:`engine.workloads.Workload` (accesses in
``ACCESS_DTYPE``, interned mm/file names, ``meta``). Every malformed input
raises :class:`TraceError` naming the file, the line (or record) and what was
wrong, and nothing partial is returned.

The v1 reader is vectorised: each chunk of a few MiB is tokenised with numpy
(comment masking, token boundaries, per-line token counts, digit parsing), so
a 10 M-line trace reads in seconds. Lines the vectorised pass flags as bad
are re-read by the small pure-Python checker ``_diagnose_line``, which
produces the message; the first bad line in the file wins. See
docs/trace-format.md.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
from pathlib import Path

import numpy as np

from engine.workloads import (ACCESS_DTYPE, MM_OPS, OP_ANON, OP_EXIT, OP_LETTERS, OP_WRITE,
                              OP_MMAP, OP_READ, Workload)

__all__ = ["TraceError", "FORMATS", "read_trace", "read_trace_bytes", "write_trace",
           "detect_format", "ORACLE_GENERAL_DTYPE", "MAX_PAGE", "MAX_NAME_LEN"]

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


# --- format detection ---------------------------------------------------------------

def _decompress(data: bytes, filename: str) -> tuple[bytes, str]:
    """Undo gzip/bzip2/xz (by magic bytes); zstd needs the optional module."""
    name = filename
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:3] == b"BZh":
            data = bz2.decompress(data)
        elif data[:6] == b"\xfd7zXZ\x00":
            data = lzma.decompress(data)
        elif data[:4] == b"\x28\xb5\x2f\xfd":
            try:
                import zstandard
            except ImportError:
                raise TraceError(filename, None, "zstd-compressed trace: decompress it "
                                 "first (zstd -d) or install the 'zstandard' package") from None
            data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
        else:
            return data, name
    except TraceError:
        raise
    except Exception as e:  # corrupt archive
        raise TraceError(filename, None, f"cannot decompress: {e}") from None
    for ext in (".gz", ".bz2", ".xz", ".zst"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return data, name


def detect_format(data: bytes, filename: str = "") -> str:
    """Guess a format from the (decompressed) name, then from the content."""
    low = filename.lower()
    if low.endswith(".trace"):
        return "v1"
    if "oraclegeneral" in low:
        return "oracleGeneral"
    head = data[:65536]
    if b"\x00" in head:
        return "oracleGeneral"
    # First token of the first non-comment line: a letter means v1, digits blocks.
    for raw in head.split(b"\n"):
        line = raw.split(b"#", 1)[0].strip()
        if line:
            return "blocks" if line.split()[0].isdigit() else "v1"
    return "v1"


def read_trace(path, format: str | None = None, **options) -> Workload:
    """Read a trace file; ``format`` in FORMATS overrides auto-detection."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TraceError(str(path), None, f"cannot read: {e.strerror or e}") from None
    return read_trace_bytes(data, str(path), format=format, **options)


def read_trace_bytes(data: bytes, filename: str = "<upload>", format: str | None = None,
                     **options) -> Workload:
    """Read a trace from bytes (an upload); ``filename`` names it in errors
    and drives auto-detection."""
    if format is not None and format not in FORMATS:
        raise TraceError(filename, None,
                         f"unknown trace format {format!r} (known: {', '.join(FORMATS)})")
    data, inner = _decompress(bytes(data), filename)
    fmt = format or detect_format(data, os.path.basename(inner))
    if fmt == "oracleGeneral":
        wl = _read_oracle_general(data, filename, **options)
    else:
        if options:
            raise TraceError(filename, None, f"option(s) {', '.join(options)} apply to "
                             f"oracleGeneral traces, not {fmt}")
        wl = _read_v1(data, filename) if fmt == "v1" else _read_blocks(data, filename)
    wl.meta.update({"source": os.path.basename(filename), "format": fmt,
                    "accesses": len(wl.accesses)})
    return wl


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


def _split_chunks(data: bytes, source: str):
    """Yield (offset, chunk) pieces of about CHUNK_BYTES, each ending after a
    newline (the last one may not). A line longer than a chunk is an error:
    no trace line is that long, and tokenising it would cost GBs."""
    n, start = len(data), 0
    while start < n:
        end = min(n, start + CHUNK_BYTES)
        if end < n:
            nl = data.rfind(b"\n", start, end)
            if nl < start:
                raise TraceError(source, data.count(b"\n", 0, start) + 1,
                                 f"line longer than {CHUNK_BYTES} bytes (not a text trace?)")
            end = nl + 1
        yield start, data[start:end]
        start = end


def _read_v1(data: bytes, source: str) -> Workload:
    names = _Names()
    _read_v1_header(data, source, names)
    parts = []
    line_base = 0
    for _, chunk in _split_chunks(data, source):
        arr, nlines = _parse_v1_chunk(chunk, source, line_base, names)
        parts.append(arr)
        line_base += nlines
    accesses = np.concatenate(parts) if parts else np.zeros(0, dtype=ACCESS_DTYPE)
    return Workload(accesses, names.lists(), {})


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

def _read_blocks(data: bytes, source: str) -> Workload:
    """Each non-blank line is one block number, read as ``R 0 <n>``."""
    parts = []
    line_base = 0
    for _, chunk in _split_chunks(data, source):
        if not chunk.endswith(b"\n"):
            chunk += b"\n"
        buf = np.frombuffer(chunk, dtype=np.uint8)
        nl = buf == 10
        nl_pos = np.flatnonzero(nl)
        nlines = len(nl_pos)
        line_start = np.concatenate(([0], nl_pos[:-1] + 1))
        ws = _SPACE_OR_COMMA[buf]
        _mask_comments(buf, nl_pos, ws)
        starts, ends = _token_bounds(ws)
        ntok = np.bincount(np.searchsorted(nl_pos, starts), minlength=nlines)
        lines = np.flatnonzero(ntok)
        t0 = (np.cumsum(ntok) - ntok)[lines]
        s, e = starts[t0], ends[t0]
        non_digit = _prefix_count(~_DIGIT[buf])
        ok = ((non_digit[e] - non_digit[s]) == 0) & ((e - s) <= MAX_DIGITS)
        val = _parse_uint(buf, s, e, ok)
        bad = (ntok[lines] != 1) | ~ok | (val > MAX_PAGE)
        if bad.any():
            k = int(np.argmax(bad))
            ln = int(lines[k])
            text = chunk[int(line_start[ln]):int(nl_pos[ln])].decode("utf-8", "replace")
            fields = text.split("#", 1)[0].replace(",", " ").split()
            if len(fields) != 1:
                what = f"expected one block number per line, got {len(fields)} fields"
            elif fields[0].startswith("-"):
                what = f"negative block number {fields[0]}"
            elif not fields[0].isdigit():
                what = f"block number {fields[0]!r} is not a non-negative integer"
            else:
                what = f"block number {fields[0]} too large (max {MAX_PAGE})"
            raise TraceError(source, line_base + ln + 1, what)
        a = np.zeros(len(lines), dtype=ACCESS_DTYPE)
        a["op"] = OP_READ
        a["page"] = val
        parts.append(a)
        line_base += nlines
    accesses = np.concatenate(parts) if parts else np.zeros(0, dtype=ACCESS_DTYPE)
    return Workload(accesses, {"mm": [], "file": ["0"]}, {})


# --- libCacheSim oracleGeneral -----------------------------------------------------------

def _read_oracle_general(data: bytes, source: str, obj_pages: str = "size",
                         max_obj_pages: int = 256) -> Workload:
    """Each request reads its object's pages through the page cache of file 0.

    Object ids are mapped, in order of first appearance, to consecutive page
    ranges of file "0": with ``obj_pages="size"`` an object spans
    ceil(max size seen / 4096) pages (at least 1, at most ``max_obj_pages``)
    and a request reads ceil(its size / 4096) of them, in order; with
    ``obj_pages="one"`` every object is one page.
    """
    if obj_pages not in ("size", "one"):
        raise TraceError(source, None, f"obj_pages must be 'size' or 'one', got {obj_pages!r}")
    if not isinstance(max_obj_pages, int) or max_obj_pages < 1:
        raise TraceError(source, None, "max_obj_pages must be a positive integer")
    rec = ORACLE_GENERAL_DTYPE.itemsize
    if len(data) % rec:
        n_whole = len(data) // rec
        raise TraceError(source, None, f"record {n_whole + 1} (byte {n_whole * rec}) is "
                         f"truncated: file size {len(data)} is not a multiple of {rec} "
                         "(not an oracleGeneral trace?)")
    reqs = np.frombuffer(data, dtype=ORACLE_GENERAL_DTYPE)
    n = len(reqs)
    if obj_pages == "one":
        req_pages = np.ones(n, dtype=np.int64)
    else:
        req_pages = np.clip((reqs["obj_size"].astype(np.int64) + PAGE_SIZE - 1) // PAGE_SIZE,
                            1, max_obj_pages)
    # Group requests by object with one stable sort: the group's first
    # element is the object's first appearance, and its largest request
    # sets the object's extent.
    perm = np.argsort(reqs["obj_id"], kind="stable")
    ids = reqs["obj_id"][perm]
    new_obj = np.ones(n, dtype=bool)
    new_obj[1:] = ids[1:] != ids[:-1]
    starts = np.flatnonzero(new_obj)
    first = perm[starts]
    group = np.cumsum(new_obj) - 1                   # sorted position -> object group
    extent = (np.maximum.reduceat(req_pages[perm], starts) if n else
              np.zeros(0, dtype=np.int64))
    # renumber objects by first appearance, so the layout follows the trace
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    obj = np.empty(n, dtype=np.int64)
    obj[perm] = rank[group]
    extent_by_rank = np.empty_like(extent)
    extent_by_rank[rank] = extent
    extent = extent_by_rank
    base = np.cumsum(extent) - extent
    total = int(req_pages.sum())
    if total > 100_000_000:
        raise TraceError(source, None, f"expands to {total} page accesses (max 100000000); "
                         "use obj_pages='one' or a smaller max_obj_pages")
    if len(extent) and int(base[-1] + extent[-1]) > MAX_PAGE:
        raise TraceError(source, None, "objects do not fit in one file's page offsets")
    a = np.zeros(total, dtype=ACCESS_DTYPE)
    a["op"] = OP_READ
    first_page = base[obj]
    if total == n:
        a["page"] = first_page
    else:
        # Expand each request into its pages without np.repeat: a run of +1
        # steps whose first step jumps to the request's first page.
        req_start = np.cumsum(req_pages) - req_pages
        step = np.ones(total, dtype=np.int64)
        step[req_start[0]] = first_page[0]
        step[req_start[1:]] = first_page[1:] - (first_page[:-1] + req_pages[:-1] - 1)
        a["page"] = np.cumsum(step)
    meta = {"requests": len(reqs), "objects": len(first), "file_pages": int(extent.sum()),
            "obj_pages": obj_pages}
    return Workload(a, {"mm": [], "file": ["0"]}, meta)


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

"""The plain-text trace format v1 (DESIGN §5.2): the vectorised numpy
tokeniser of one chunk of whole lines, name interning across chunks, the
header and its name declarations, and the reference checkers that word the
error of a bad line (v1 and block numbers). engine/trace.py reads the files
and hands the chunks here; see docs/trace-format.md.
"""

from __future__ import annotations

import re

import numpy as np

from engine.workloads import ACCESS_DTYPE, MM_OPS, OP_ANON, OP_EXIT, OP_LETTERS, OP_WRITE

MAX_PAGE = (1 << 40) - 1            # the engine keys the page cache by file << 40 | pgoff
MAX_NAME_LEN = 255
MAX_DIGITS = 19                     # 10**19 - 1 < 2**64: parses exactly in uint64

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
    if not fields:
        # str.split() also splits on control characters such as \x1f, which
        # the parser does not take for blanks (schemathesis found this)
        return f"no op letter: the line is {text[:40]!r}"
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

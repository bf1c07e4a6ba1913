"""Trace files: format v1 reader/writer, oracleGeneral and block-number readers."""

import gzip
import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import trace as T
from engine.trace import (MAX_PAGE, ORACLE_GENERAL_DTYPE, TraceError, detect_format,
                          read_trace, read_trace_bytes, write_trace)
from engine.workloads import ACCESS_DTYPE, SCENARIOS, Workload, generate

DATA = Path(__file__).resolve().parents[1] / "data"


def rt(text: str, name="t.trace", **kw):
    return read_trace_bytes(text.encode(), name, **kw)


def err(text: str, name="t.trace", **kw) -> TraceError:
    with pytest.raises(TraceError) as ei:
        rt(text, name, **kw)
    return ei.value


# --- a pure-Python reference parser: the spec of DESIGN §5.2, one line at a time ---

NAME = re.compile(r"[A-Za-z0-9_.-]+")


def ref_parse(text: str):
    """(list of (op, write, kind, name, page)) or (line number of the first bad line)."""
    out = []
    for no, line in enumerate(text.split("\n"), start=1):
        f = line.split("#", 1)[0].split()
        if not f:
            continue
        if f[0] not in list("ARWMXU"):
            return no
        op = "ARWMXU".index(f[0])
        nmin, nmax = {0: (3, 4), 1: (3, 3), 2: (3, 3), 3: (3, 4), 4: (3, 3), 5: (2, 2)}[op]
        if not nmin <= len(f) <= nmax or not NAME.fullmatch(f[1]) or len(f[1]) > 255:
            return no
        page = 0
        if op != 5:
            if not (f[2].isascii() and f[2].isdigit()) or int(f[2]) > MAX_PAGE:
                return no
            page = int(f[2])
        if len(f) == 4 and f[3] != "w":
            return no
        name = str(int(f[1])) if f[1].isdigit() else f[1]
        out.append((op, int(len(f) == 4 or op == 2), "mm" if op in (0, 5) else "file", name, page))
    return out


def as_tuples(wl: Workload):
    a = wl.accesses
    return [(int(o), int(w), "mm" if o in (0, 5) else "file",
             wl.names["mm" if o in (0, 5) else "file"][int(ow)], int(p))
            for o, w, ow, p in zip(a["op"], a["write"], a["owner"], a["page"])]


# --- round trips ---------------------------------------------------------------------

@pytest.mark.parametrize("name", list(SCENARIOS))
def test_round_trip_of_every_scenario_gives_the_same_arrays_and_names(name, tmp_path):
    wl = generate(name, 2048, seed=3, accesses=3000)
    path = tmp_path / f"{name}.trace"
    write_trace(path, wl)
    assert path.read_text().startswith("# reclaimlab trace v1\n")
    back = read_trace(path)
    assert back.accesses.tobytes() == wl.accesses.tobytes()
    assert back.names == wl.names
    assert back.meta["format"] == "v1" and back.meta["accesses"] == 3000


def test_declared_names_keep_their_ids_when_first_use_is_in_another_order(tmp_path):
    a = np.zeros(3, dtype=ACCESS_DTYPE)
    a["op"] = [1, 1, 0]
    a["owner"] = [2, 0, 1]
    a["page"] = [5, 6, 7]
    wl = Workload(a, {"mm": ["x", "y"], "file": ["f0", "f1", "f2"]})
    buf = io.StringIO()
    write_trace(buf, wl)
    back = rt(buf.getvalue())
    assert back.names == wl.names
    assert back.accesses.tobytes() == a.tobytes()


names_st = st.lists(st.from_regex(r"[A-Za-z_.-][A-Za-z0-9_.-]{0,12}", fullmatch=True),
                    min_size=1, max_size=5, unique=True)


@settings(max_examples=60, deadline=None)
@given(mm=names_st, files=names_st, data=st.data())
def test_round_trip_property(mm, files, data):
    n = data.draw(st.integers(0, 60))
    ops = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=np.uint8)
    a = np.zeros(n, dtype=ACCESS_DTYPE)
    a["op"] = ops
    is_mm = np.isin(ops, (0, 5))
    a["owner"] = [data.draw(st.integers(0, len(mm) - 1)) if m else
                  data.draw(st.integers(0, len(files) - 1)) for m in is_mm]
    a["page"] = [0 if o == 5 else data.draw(st.integers(0, MAX_PAGE)) for o in ops]
    a["write"] = [data.draw(st.booleans()) if o in (0, 3) else o == 2 for o in ops]
    buf = io.StringIO()
    write_trace(buf, Workload(a, {"mm": mm, "file": files}))
    back = rt(buf.getvalue())
    assert back.accesses.tobytes() == a.tobytes()
    assert back.names == {"mm": mm, "file": files}


# The vectorised parser must agree with the line-by-line reference on
# arbitrary mixes of good and bad lines: same accesses, or an error at the
# same line.
good_line = st.one_of(
    st.builds(lambda m, v, w: f"A {m} {v}{' w' if w else ''}", st.sampled_from(["p", "7", "007", "a.b"]),
              st.integers(0, 10**6), st.booleans()),
    st.builds(lambda op, f, o: f"{op} {f} {o}", st.sampled_from("RWX"), st.sampled_from(["f", "0", "lib-1.so"]),
              st.integers(0, 10**6)),
    st.builds(lambda f, o, w: f"M {f} {o}{' w' if w else ''}", st.sampled_from(["f", "map"]),
              st.integers(0, 10**6), st.booleans()),
    st.builds(lambda m: f"U {m}", st.sampled_from(["p", "7"])),
    st.sampled_from(["", "   ", "# comment", "\t# c", "A p 1 # trailing comment", "R f 2\r"]),
)
bad_line = st.sampled_from([
    "Q p 1", "A", "A p", "R f", "U", "A p -1", "R f 1.5", "R f 0x10", "R f 1 w", "A p 1 x",
    "A p 1 w w", "U p 1", "A p@ 1", "R f 99999999999999999999", f"R f {MAX_PAGE + 1}",
    "AA p 1", "a p 1", "A p 1w", "R f\u00e9 1", "X lib 3 4",
])


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.one_of(good_line, good_line, good_line, bad_line), max_size=30))
def test_vectorised_parser_agrees_with_the_reference(lines):
    text = "\n".join(lines)
    want = ref_parse(text)
    if isinstance(want, int):
        e = err(text)
        assert e.line == want, str(e)
    else:
        got = rt(text)
        assert as_tuples(got) == want


def test_line_numbers_are_right_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(T, "CHUNK_BYTES", 64)
    lines = [f"A p{i % 3} {i}" if i % 7 else "# comment" for i in range(400)]
    good = "\n".join(lines) + "\n"
    wl = rt(good)
    assert as_tuples(wl) == ref_parse(good)
    bad = lines[:]
    bad[333] = "R f"
    assert err("\n".join(bad)).line == 334


def test_a_line_longer_than_a_chunk_is_an_error(monkeypatch):
    monkeypatch.setattr(T, "CHUNK_BYTES", 64)
    e = err("A p 1\nA p 2\nR " + "x" * 200 + " 1\nA p 3\n")
    assert e.line == 3 and "line longer than 64 bytes" in str(e)


# --- each kind of error: message and line number ---------------------------------

@pytest.mark.parametrize("line, message", [
    ("Q p 1", "unknown op 'Q'"),
    ("AA p 1", "unknown op 'AA'"),
    ("A p", "missing field: vpn"),
    ("R f", "missing field: pgoff"),
    ("U", "missing field: mm name"),
    ("X", "missing field: file name"),
    ("A p@x 1", "bad name 'p@x': character '@' not allowed"),
    ("A p -5", "negative vpn -5"),
    ("R f -5", "negative pgoff -5"),
    ("R f 1.5", "pgoff '1.5' is not a non-negative integer"),
    ("A p 12abc", "vpn '12abc' is not a non-negative integer"),
    ("R f 1 2", "trailing junk '2'"),
    ("U p 3", "trailing junk '3'"),
    ("A p 1 w extra", "trailing junk 'extra'"),
    ("M f 1 x", "bad flag 'x'"),
    (f"R f {MAX_PAGE + 1}", "pgoff 1099511627776 too large"),
    # blanks to str.split() but not field separators (found by schemathesis)
    ("\x0c", "no op, only characters that are not field separators: '\\x0c'"),
    ("\xa0", "no op, only characters that are not field separators: '\\xa0'"),
    ("\x1f", "no op, only characters that are not field separators: '\\x1f'"),
])
def test_each_malformed_line_names_the_file_the_line_and_the_problem(line, message):
    text = "# reclaimlab trace v1\nA p 0 w\n\n# comment\nR f 1\n" + line + "\nA p 2\n"
    e = err(text, "bad.trace")
    assert e.line == 6 and e.source == "bad.trace"
    assert str(e).startswith("bad.trace:6: ")
    assert message in str(e)


def test_unsupported_version_header_is_an_error():
    e = err("# reclaimlab trace v2\nA p 1\n")
    assert e.line == 1 and "unsupported trace format version v2" in str(e)


def test_malformed_fixture_reports_its_line(tmp_path):
    with pytest.raises(TraceError, match=r"malformed\.trace:6: missing field: pgoff"):
        read_trace(DATA / "malformed.trace")


def test_missing_file_is_a_trace_error(tmp_path):
    with pytest.raises(TraceError, match="cannot read"):
        read_trace(tmp_path / "nope.trace")


# --- format details ------------------------------------------------------------------------

def test_comments_blank_lines_tabs_and_crlf_are_ignored():
    wl = rt("# reclaimlab trace v1\r\n\r\nA\tp 1 w\r\n   # x\r\nR f 2 # read\r\nU p\r\n")
    assert as_tuples(wl) == [(0, 1, "mm", "p", 1), (1, 0, "file", "f", 2), (5, 0, "mm", "p", 0)]


def test_mm_and_file_names_are_interned_separately_and_numbers_canonically():
    wl = rt("A x 1\nR x 2\nA 007 3\nA 7 4\nR y 5\nA x 6\n")
    assert wl.names == {"mm": ["x", "7"], "file": ["x", "y"]}
    assert wl.accesses["owner"].tolist() == [0, 0, 1, 1, 1, 0]


def test_tiny_fixture_reads_every_op():
    wl = read_trace(DATA / "tiny.trace")
    assert sorted(set(wl.accesses["op"].tolist())) == [0, 1, 2, 3, 4, 5]
    assert wl.names["mm"] == ["shell", "7"]
    assert wl.names["file"] == ["notes.txt", "index.db", "libc.so.6", "0"]
    assert len(wl) == 13


def test_writer_rejects_unprintable_names():
    a = np.zeros(1, dtype=ACCESS_DTYPE)
    with pytest.raises(ValueError, match="cannot be written"):
        write_trace(io.StringIO(), Workload(a, {"mm": ["bad name"], "file": []}))


def test_blocks_trace_is_read_as_reads_of_file_0():
    wl = read_trace(DATA / "blocks.txt")
    assert wl.meta["format"] == "blocks"
    assert as_tuples(wl) == [(1, 0, "file", "0", n) for n in (100, 101, 102, 100, 7)]


@pytest.mark.parametrize("line, message", [
    ("12 13", "expected one block number per line, got 2 fields"),
    ("-4", "negative block number -4"),
    ("4.5", "block number '4.5' is not a non-negative integer"),
])
def test_blocks_trace_errors_name_the_line(line, message):
    e = err(f"1\n2\n\n{line}\n5\n", "blk.txt")
    assert e.line == 4 and message in str(e)


def oracle_bytes(ids, sizes):
    r = np.zeros(len(ids), dtype=ORACLE_GENERAL_DTYPE)
    r["clock_time"] = np.arange(len(ids))
    r["obj_id"] = ids
    r["obj_size"] = sizes
    r["next_access_vtime"] = -1
    return r.tobytes()


def test_oracle_general_record_layout_is_24_packed_bytes():
    assert ORACLE_GENERAL_DTYPE.itemsize == 24
    raw = oracle_bytes([0x1122334455667788], [0x0A0B0C0D])
    assert raw[4:12] == bytes.fromhex("8877665544332211")   # uint64 obj_id, little-endian, at 4
    assert raw[12:16] == bytes.fromhex("0D0C0B0A")           # uint32 obj_size at 12


def test_oracle_general_objects_map_to_consecutive_page_ranges():
    # first appearance order: 900 (1 page), 5 (max 3 pages), 77 (size 0 -> 1 page)
    data = oracle_bytes([900, 5, 900, 77, 5], [4096, 10000, 100, 0, 8192])
    wl = read_trace_bytes(data, "x.oracleGeneral")
    assert wl.meta["format"] == "oracleGeneral" and wl.meta["objects"] == 3
    assert wl.accesses["page"].tolist() == [0, 1, 2, 3, 0, 4, 1, 2]
    assert (wl.accesses["op"] == 1).all() and wl.names["file"] == ["0"]
    one = read_trace_bytes(data, "x.oracleGeneral", obj_pages="one")
    assert one.accesses["page"].tolist() == [0, 1, 0, 2, 1]


@pytest.mark.parametrize("mode", ["size", "one"])
def test_oracle_general_mapping_matches_a_per_request_reference(mode):
    rng = np.random.default_rng(7)
    ids = rng.zipf(1.3, 3000) * 1_000_003          # sparse, repeated ids
    sizes = rng.integers(0, 5 * 4096, 3000)
    wl = read_trace_bytes(oracle_bytes(ids, sizes), "r.oracleGeneral", obj_pages=mode,
                          max_obj_pages=4)
    npages = [1 if mode == "one" else min(4, max(1, -(-int(sz) // 4096))) for sz in sizes]
    extent, order = {}, []
    for i, n in zip(ids.tolist(), npages):
        if i not in extent:
            order.append(i)
        extent[i] = max(extent.get(i, 0), n)
    base, nxt = {}, 0
    for i in order:
        base[i], nxt = nxt, nxt + extent[i]
    want = [base[i] + k for i, n in zip(ids.tolist(), npages) for k in range(n)]
    assert wl.accesses["page"].tolist() == want
    assert wl.meta["file_pages"] == nxt and wl.meta["objects"] == len(order)


def test_oracle_general_fixture_and_content_detection():
    raw = (DATA / "tiny.oracleGeneral").read_bytes()
    assert detect_format(raw, "upload.bin") == "oracleGeneral"
    wl = read_trace(DATA / "tiny.oracleGeneral")
    assert wl.meta["requests"] == 6 and len(wl) == 9


def test_oracle_general_truncated_record_is_an_error():
    data = oracle_bytes([1, 2], [1, 1])[:-5]
    with pytest.raises(TraceError, match=r"x\.oracleGeneral: record 2 \(byte 24\) is truncated"):
        read_trace_bytes(data, "x.oracleGeneral")


def test_gzip_compressed_trace_is_read():
    wl = read_trace_bytes(gzip.compress(b"A p 1\nR f 2\n"), "t.trace.gz")
    assert as_tuples(wl) == [(0, 0, "mm", "p", 1), (1, 0, "file", "f", 2)]


def test_format_detection_and_override():
    assert detect_format(b"A p 1\n", "x.txt") == "v1"
    assert detect_format(b"# hi\n12\n13\n", "x.txt") == "blocks"
    assert detect_format(b"12\n", "x.trace") == "v1"
    wl = read_trace_bytes(b"12\n13\n", "x.trace", format="blocks")
    assert wl.accesses["page"].tolist() == [12, 13]
    with pytest.raises(TraceError, match="unknown trace format 'csv'"):
        read_trace_bytes(b"1\n", "x", format="csv")


def test_a_million_line_trace_reads_in_seconds(tmp_path):
    wl = generate("desktop", 65536, seed=1, accesses=1_000_000)
    path = tmp_path / "big.trace"
    write_trace(path, wl)
    t = time.process_time()        # CPU time: the suite shares two cores
    back = read_trace(path)
    dt = time.process_time() - t
    assert back.accesses.tobytes() == wl.accesses.tobytes()
    assert dt < 3.0, f"{dt:.2f}s for 1 M lines"

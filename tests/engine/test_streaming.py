"""Streaming input: Simulator.feed(), scenarios made chunk by chunk, traces
read chunk by chunk (files, pipes, zstd), in bounded memory."""

import io
import tracemalloc

import numpy as np
import pytest
import zstandard
from hypothesis import given, settings, strategies as st

import engine
from engine import trace as trace_module
from engine.feeding import run_stream
from engine.trace import (MAX_PAGE, ORACLE_GENERAL_DTYPE, TraceError, open_trace, read_trace,
                          read_trace_bytes)
from engine.workloads import SCENARIOS, generate


def oracle_bytes(ids, sizes):
    r = np.zeros(len(ids), dtype=ORACLE_GENERAL_DTYPE)
    r["obj_id"] = ids
    r["obj_size"] = sizes
    r["next_access_vtime"] = -1
    return r.tobytes()


def machine_state(sim):
    """Everything observable of a finished run but the chunk-relative position."""
    lists = sim.lists()
    return (sim.vmstat(), sim.meminfo(), int(sim.time_ns), int(sim.kswapd_time_ns),
            {k: v.tobytes() for k, v in sim.frames().items()},
            repr({k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in lists.items()}),
            sim.nr_access, sim.nr_batches, sim.nr_shrink_passes)


# --- Simulator.feed: chunked == whole ----------------------------------------------

@pytest.mark.parametrize("policy", sorted(engine.POLICIES))
@pytest.mark.parametrize("scenario", ["zipf-anon", "desktop"])
def test_feeding_in_chunks_gives_the_run_of_the_whole_array(policy, scenario):
    # small swap: with zipf-anon kswapd, direct reclaim and the OOM killer all
    # run, so chunk boundaries fall inside reclaim of every kind; desktop has
    # file writes, exec and mmap faults and an exit
    wl = generate(scenario, 2048, seed=5, accesses=80_000)
    cfg = {"policy": policy, "ram_pages": 2048, "swap_pages": 256}
    whole = engine.Simulator(cfg)
    whole.set_workload(wl.accesses)
    whole.run_to_end()
    v = whole.vmstat()
    assert v["pgscan_kswapd"] > 0 and v["pswpout"] > 0
    if scenario == "zipf-anon":
        assert v["allocstall_movable"] > 0 and v["oom_kill"] > 0
    chunked = engine.Simulator(cfg)
    chunked.note_file_sizes(wl.accesses)       # where read-ahead stops: the whole files
    cuts = [0, 1, 2, 999, 1000, 17_001, 40_000, 40_001, 79_999, 80_000]
    for lo, hi in zip(cuts, cuts[1:]):
        chunked.feed(wl.accesses[lo:hi])
        chunked.run_to_end()
    assert chunked.fed + chunked.position == 80_000
    assert machine_state(chunked) == machine_state(whole)
    assert chunked.check_invariants() == []


@pytest.mark.parametrize("scenario", ["zipf-anon", "desktop"])
def test_run_stream_feeds_two_simulators_the_same_as_one_array(scenario):
    wl = generate(scenario, 1024, seed=2, accesses=30_000)
    cfgs = [{"policy": p, "ram_pages": 1024, "swap_pages": 2048} for p in ("lru", "lru_gen")]
    want = []
    for c in cfgs:
        s = engine.Simulator(c)
        s.set_workload(wl.accesses)
        s.run_to_end()
        want.append(machine_state(s))
    sims = [engine.Simulator(c) for c in cfgs]
    seen = []
    n = run_stream(sims, SCENARIOS[scenario].stream(1024, 2, 30_000, chunk=4_097),
                   on_chunk=seen.append)
    assert n == 30_000 and seen[-1] == 30_000 and len(seen) == 8
    assert [machine_state(s) for s in sims] == want


def test_feed_refuses_before_the_current_chunk_is_consumed():
    sim = engine.Simulator({"ram_pages": 256})
    a = generate("anon-loop", 256, seed=0, accesses=100).accesses
    sim.feed(a)
    sim.run(10)
    with pytest.raises(RuntimeError, match="not consumed"):
        sim.feed(a)


def test_a_producer_error_is_raised_after_the_chunks_before_it_ran():
    def chunks():
        yield generate("file-loop", 256, seed=0, accesses=500).accesses
        raise TraceError("x.trace", 7, "boom")
    sim = engine.Simulator({"ram_pages": 256})
    with pytest.raises(TraceError, match="x.trace:7: boom"):
        run_stream([sim], chunks())
    assert sim.nr_access == 500


# --- scenarios made chunk by chunk -------------------------------------------------

@pytest.mark.parametrize("name, params", [
    ("zipf-anon", {}), ("zipf-anon", {"write_ratio": 0}), ("zipf-anon", {"size": 0.2, "s": 1.3}),
    ("desktop", {}),
])
@pytest.mark.parametrize("ram, n", [(4096, 50_000), (4096, 3_000), (65536, 100_000)])
def test_a_streamed_scenario_is_generate_bit_for_bit(name, params, ram, n):
    wl = generate(name, ram, seed=11, accesses=n, **params)
    s = SCENARIOS[name].stream(ram, 11, n, chunk=7_919, **params)
    parts = list(s)
    assert all(len(p) <= 7_919 for p in parts)
    assert np.concatenate(parts).tobytes() == wl.accesses.tobytes()
    assert s.names == wl.names and s.meta == wl.meta and s.nr_accesses == n


def test_a_streamed_scenario_may_be_longer_than_an_array_scenario():
    s = SCENARIOS["zipf-anon"].stream(1024, 0, 200_000_000, chunk=1 << 16)
    it = iter(s)
    first, second = next(it), next(it)
    assert len(first) == 1434 and (first["write"] == 1).all()     # the first touch
    assert len(second) == 1 << 16 and s.nr_accesses == 200_000_000


# --- traces read chunk by chunk ----------------------------------------------------

def reference_pages(ids, sizes, mode, max_pages):
    npages = [1 if mode == "one" else min(max_pages, max(1, -(-int(sz) // 4096))) for sz in sizes]
    extent, order = {}, []
    for i, n in zip(ids, npages):
        if i not in extent:
            order.append(i)
        extent[i] = max(extent.get(i, 0), n)
    base, nxt = {}, 0
    for i in order:
        base[i], nxt = nxt, nxt + extent[i]
    return [base[i] + k for i, n in zip(ids, npages) for k in range(n)]


@pytest.mark.parametrize("mode, big", [("one", True), ("size", True), ("size", False)])
def test_oracle_general_in_small_chunks_matches_the_per_request_reference(mode, big):
    rng = np.random.default_rng(3)
    ids = (np.minimum(rng.zipf(1.2, 20_000), 10**6) * 7_777_777_777).tolist()   # sparse, repeated
    sizes = rng.integers(0, 6 * 4096 if big else 4097, 20_000).tolist()
    data = oracle_bytes(ids, sizes)
    ts = open_trace(data, "oracleGeneral", chunk_accesses=333, obj_pages=mode, max_obj_pages=4)
    got = np.concatenate(list(ts))
    assert got["page"].tolist() == reference_pages(ids, sizes, mode, 4)
    assert (got["op"] == 1).all() and (got["owner"] == 0).all() and (got["write"] == 0).all()
    assert ts.meta["requests"] == 20_000 and ts.meta["objects"] == len(set(ids))


@pytest.mark.parametrize("cap", [0, 1000, 1 << 25])
@pytest.mark.parametrize("mode", ["size", "one"])
@pytest.mark.parametrize("compress", [False, True])
def test_oracle_general_file_second_pass_from_kept_ranks_matches_reading_it_again(
        tmp_path, monkeypatch, cap, mode, compress):
    # TraceStream._layout_oracle() keeps each request's rank up to
    # RANK_CACHE_REQUESTS (1000: dropped in the middle of the file, so the
    # second pass reads it again), and prepare() declares file 0's size
    rng = np.random.default_rng(11)
    ids = (rng.zipf(1.3, 3000) * 7919).tolist()
    sizes = rng.integers(0, 3 * 4096, 3000).tolist()
    raw = oracle_bytes(ids, sizes)
    path = tmp_path / ("t.oracleGeneral.zst" if compress else "t.oracleGeneral")
    path.write_bytes(zstandard.ZstdCompressor().compress(raw) if compress else raw)
    monkeypatch.setattr(trace_module, "RANK_CACHE_REQUESTS", cap)
    ts = open_trace(path, obj_pages=mode, max_obj_pages=3, chunk_accesses=256)
    sim = engine.Simulator({"ram_pages": 256, "swap_pages": 0})
    ts.prepare([sim])
    want = reference_pages(ids, sizes, mode, 3)
    assert np.concatenate(list(ts))["page"].tolist() == want
    assert ts.meta["file_pages"] == max(want) + 1 == sim.file_ra(0)["nr_pages"]


def test_run_stream_recycles_trace_chunks_without_touching_one_a_simulator_holds(tmp_path):
    # run_stream() hands a chunk back (TraceStream.recycle()) once every
    # simulator was fed the next one; later chunks are decoded into it
    rng = np.random.default_rng(12)
    ids = rng.zipf(1.1, 40_000).tolist()
    path = tmp_path / "z.oracleGeneral"
    path.write_bytes(oracle_bytes(ids, [4096] * len(ids)))
    cfgs = [{"policy": p, "ram_pages": 1024, "swap_pages": 0} for p in ("lru", "lru_gen")]
    want = []
    for c in cfgs:
        s = engine.Simulator(c)
        s.set_workload(read_trace(path).accesses)
        s.run_to_end()
        want.append(machine_state(s))

    class Watched:
        def __init__(self, ts):
            self.ts, self.buffers = ts, []

        def __iter__(self):
            for a in self.ts:
                self.buffers.append(a.__array_interface__["data"][0])
                yield a

        def prepare(self, sims):
            self.ts.prepare(sims)

        def recycle(self, a):
            self.ts.recycle(a)

    chunks = Watched(open_trace(path, chunk_accesses=1500))
    sims = [engine.Simulator(c) for c in cfgs]
    assert run_stream(sims, chunks) == 40_000
    assert [machine_state(s) for s in sims] == want
    assert len(set(chunks.buffers)) < len(chunks.buffers) == 27     # memory was reused


def test_from_a_pipe_size_mode_lays_objects_out_by_stride_same_counters_without_readahead():
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 3000, 40_000).tolist()
    sizes = rng.integers(1, 3 * 4096, 40_000).tolist()
    data = oracle_bytes(ids, sizes)
    from_file = read_trace_bytes(data, "t.oracleGeneral", max_obj_pages=4)
    pipe = open_trace(io.BufferedReader(io.BytesIO(data)), "oracleGeneral", max_obj_pages=4)
    piped = np.concatenate(list(pipe))
    assert pipe.meta["layout"] == "stride"
    # the same page reads, renamed: object rank r starts at page 4 r instead of its base
    want = reference_pages(ids, sizes, "size", 4)
    assert len(piped) == len(want)
    rename = {}
    for a, b in zip(want, piped["page"].tolist()):
        assert rename.setdefault(a, b) == b
    assert len(set(rename.values())) == len(rename)
    results = []
    for acc in (from_file.accesses, piped):
        # read-ahead reads the neighbouring page offsets, which the two layouts
        # fill differently: only without it are the two runs the same
        sim = engine.Simulator({"ram_pages": 1024, "swap_kind": "none", "swap_pages": 0,
                                "readahead_pages": 0})
        sim.set_workload(acc)
        sim.run_to_end()
        vm = sim.vmstat()
        # which pages share an xarray node (64 offsets) is the layout's: the gauge of
        # shadow-only nodes differs, and the runs stay the same while no node is freed
        assert vm.pop("workingset_nodes") > 0 and vm["workingset_nodereclaim"] == 0
        results.append((vm, sim.meminfo(), sim.time_ns))
    assert results[0] == results[1]


def test_zstd_trace_is_read_as_a_stream(tmp_path):
    rng = np.random.default_rng(5)
    data = oracle_bytes(rng.integers(0, 50_000, 300_000).tolist(), [4096] * 300_000)
    path = tmp_path / "w.oracleGeneral.zst"
    # several frames, as zstd -T writes
    path.write_bytes(b"".join(zstandard.ZstdCompressor().compress(data[i:i + 2_400_000])
                              for i in range(0, len(data), 2_400_000)))
    want = read_trace_bytes(data, "w.oracleGeneral")
    ts = open_trace(path, chunk_accesses=10_000)
    parts = list(ts)
    assert ts.compression == "zstd" and len(parts) == 30
    assert np.concatenate(parts).tobytes() == want.accesses.tobytes()
    assert read_trace(path).accesses.tobytes() == want.accesses.tobytes()


def test_a_corrupt_zstd_stream_is_a_trace_error(tmp_path):
    path = tmp_path / "bad.trace.zst"
    good = zstandard.ZstdCompressor().compress(b"A p 1\n" * 100_000)
    path.write_bytes(good[:len(good) // 2] + b"\x00" * 64)
    with pytest.raises(TraceError, match="bad.trace.zst: cannot decompress"):
        read_trace(path)


class _Endless(io.RawIOBase):
    """n oracleGeneral records made on demand: a trace never held in memory."""

    def __init__(self, n):
        self.left = n
        self.pending = b""
        self.rng = np.random.default_rng(6)

    def readable(self):
        return True

    def readinto(self, b):
        if not self.pending and self.left:
            nrec = min(self.left, 4096)
            r = np.zeros(nrec, dtype=ORACLE_GENERAL_DTYPE)
            r["obj_id"] = self.rng.integers(0, 20_000, nrec)
            r["obj_size"] = 4096
            self.pending = r.tobytes()
            self.left -= nrec
        k = min(len(b), len(self.pending))
        b[:k] = self.pending[:k]
        self.pending = self.pending[k:]
        return k


def test_streaming_memory_is_bounded_by_the_chunk_not_the_trace():
    n = 3_000_000                                  # 72 MB of records, 48 MB of accesses
    ts = open_trace(io.BufferedReader(_Endless(n), 1 << 16), "oracleGeneral",
                    chunk_accesses=1 << 16)
    sim = engine.Simulator({"ram_pages": 4096, "swap_kind": "none", "swap_pages": 0})
    tracemalloc.start()
    try:
        total = run_stream([sim], ts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == n and sim.nr_access == n and ts.meta["objects"] == 20_000
    assert peak < 12 << 20, f"peak {peak / 2**20:.1f} MiB for a {n * 24 / 2**20:.0f} MiB trace"


def test_a_bad_line_in_a_later_chunk_names_the_file_and_line(monkeypatch):
    import engine.trace as T
    monkeypatch.setattr(T, "CHUNK_BYTES", 256)
    text = "".join(f"{i}\n" for i in range(500)) + "12 13\n7\n"
    ts = open_trace(text.encode(), name="b.txt")
    with pytest.raises(TraceError) as e:
        for _ in ts:
            pass
    assert str(e.value) == "b.txt:501: expected one block number per line, got 2 fields"


_block_line = st.one_of(
    st.integers(0, MAX_PAGE).map(str),
    st.integers(0, MAX_PAGE).map(lambda v: f"  {v},\t# c"),
    st.sampled_from(["", "# only a comment", "   ", "\r"]),
)
_bad_block_line = st.sampled_from(["-5", "1.5", "12 13", "1,2", "x", str(MAX_PAGE + 1),
                                   "9" * 25, "0x10"])


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.one_of(_block_line, _block_line, _block_line, _bad_block_line),
                      max_size=40))
def test_block_parser_agrees_with_a_reference(lines):
    def ref():
        out = []
        for ln, line in enumerate(lines, 1):
            fields = line.split("#", 1)[0].replace(",", " ").split()
            if not fields:
                continue
            if len(fields) != 1 or not fields[0].isdigit() or int(fields[0]) > MAX_PAGE:
                return ln
            out.append(int(fields[0]))
        return out
    text = "\n".join(lines) + "\n"
    want = ref()
    if isinstance(want, int):
        with pytest.raises(TraceError) as e:
            read_trace_bytes(text.encode(), "b.txt", format="blocks")
        assert e.value.line == want
    else:
        got = read_trace_bytes(text.encode(), "b.txt", format="blocks")
        assert got.accesses["page"].tolist() == want


# --- set_workload / note_file_sizes: one pass over the chunk ------------------------

def _accesses(rows):
    a = np.zeros(len(rows), dtype=engine.ACCESS_DTYPE)
    for i, (op, owner, page) in enumerate(rows):
        a[i]["op"], a[i]["owner"], a[i]["page"] = op, owner, page
    return a


READ, WRITE, MMAP, EXEC = 1, 2, 3, 4           # engine/_types.pxd OP_*


@pytest.mark.parametrize("rows, want", [
    ([(READ, 0, 7), (READ, 0, 3), (READ, 0, 41), (READ, 0, 9)], {0: 42}),
    ([(READ, 0, 7), (WRITE, 2, 30), (0, 9, 5000), (EXEC, 1, 12), (MMAP, 2, 3)], {0: 8, 1: 13, 2: 31}),
    ([(0, 3, 100), (READ, 1, 5), (READ, 1, 2)], {1: 6}),
])
def test_a_file_s_size_is_the_highest_page_its_accesses_name__i_size_where_readahead_stops(rows, want):
    # one file (a trace's file 0) or several, anon accesses ignored: each file's
    # i_size covers its highest page, set before the chunk runs
    sim = engine.Simulator({"policy": "lru", "ram_pages": 512})
    sim.set_workload(_accesses(rows))
    for f, pages in want.items():
        assert sim.file_ra(f)["nr_pages"] == pages
    # a later chunk only grows a size
    sim.run_to_end()
    sim.feed(_accesses([(READ, f, 0) for f in want]))
    for f, pages in want.items():
        assert sim.file_ra(f)["nr_pages"] == pages


def test_a_chunk_with_an_unknown_op_is_refused_whole_and_the_machine_keeps_its_workload():
    sim = engine.Simulator({"policy": "lru", "ram_pages": 512})
    sim.set_workload(_accesses([(READ, 0, 3)] * 4))
    with pytest.raises(ValueError, match="unknown op"):
        sim.set_workload(_accesses([(READ, 1, 900), (6, 0, 0)]))
    assert sim.file_ra(0)["nr_pages"] == 4
    with pytest.raises(ValueError):
        sim.file_ra(1)                          # the refused chunk named no file into being
    sim.run_to_end()
    assert sim.nr_access == 4

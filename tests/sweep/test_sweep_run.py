"""Running sweeps on the local process pool: deterministic cells, results
in the store, resume after Ctrl-C, the 80-column report, CSV and Parquet,
and the interactive session of a cell (a real uvicorn)."""
from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import engine
from backend.cli import main
from backend.live import LiveServer
from backend.store import SqliteStore
from backend.sweep import LocalExecutor, Progress, fastest_step, run_cell, run_sweep
from backend.sweep_report import cell_rows, report
from backend.sweep_spec import engine_config_of, load_spec
from engine.names import VMSTAT_NAMES

ROOT = Path(__file__).resolve().parents[2]

SPEC = """\
[sweep]
name = "small"
chunks = 16

[[workload]]
scenario = "anon-loop"
accesses = 30000

[[workload]]
scenario = "stream-hot-file"
accesses = 30000

[grid]
policy = ["lru", "lru_gen"]
ram_mb = [1, 2, 3]
swap_ratio = 2
"""


def without_wall(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "wall_s"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    p = tmp_path_factory.mktemp("spec") / "small.toml"
    p.write_text(SPEC)
    return p


@pytest.fixture(scope="module")
def ran(spec, tmp_path_factory):
    """The small sweep, run once on two local processes."""
    store = SqliteStore(tmp_path_factory.mktemp("data") / "reclaimlab.sqlite3")
    sw = load_spec(spec)
    stats = run_sweep(sw, store, LocalExecutor(2))
    yield sw, store, stats
    store.close()


def test_every_cell_runs_once_and_is_stored_with_every_counter(ran):
    sw, store, stats = ran
    assert stats == {"total": 12, "skipped": 0, "ran": 12}
    got = store.get_cells([c.key for c in sw.cells])
    assert len(got) == 12
    for c in sw.cells:
        res = got[c.key]["result"]
        assert set(res["vmstat"]) == set(VMSTAT_NAMES)
        d = res["derived"]
        assert d["refaults"] == res["vmstat"]["workingset_refault_anon"] + res["vmstat"]["workingset_refault_file"]
        assert d["swap_ins"] == res["vmstat"]["pswpin"] and d["sim_time_ns"] > 0
        assert res["accesses"] == 30000 and res["timeline"]["at"][-1] == 30000


def test_a_cell_is_the_same_as_one_uninterrupted_run_of_its_recipe(ran):
    # the timeline splits the run into chunks: the counters at the end are
    # those of run_to_end() on the same config, and the same on every run
    sw, store, _ = ran
    c = next(c for c in sw.cells if c.dims["policy"] == "lru_gen" and c.dims["ram_mb"] == 2)
    from backend.sweep import load_workload
    sim = engine.Simulator(engine_config_of(c.recipe))
    sim.set_workload(load_workload(c.recipe).accesses)
    sim.run_to_end()
    stored = store.get_cells([c.key])[c.key]["result"]
    assert stored["vmstat"] == sim.vmstat()
    assert stored["derived"]["sim_time_ns"] == sim.time_ns
    assert without_wall(run_cell(c.recipe)) == without_wall(stored)


def test_a_rerun_skips_every_stored_cell(ran):
    sw, store, _ = ran
    assert run_sweep(sw, store, LocalExecutor(2)) == {"total": 12, "skipped": 12, "ran": 0}


def test_the_report_fits_80_columns_and_puts_the_policies_side_by_side(ran):
    sw, store, _ = ran
    meta, rows = cell_rows(store, sw.id)
    text = report(meta, rows, "refaults")
    lines = text.splitlines()
    assert max(len(l) for l in lines) <= 80
    assert any(l.split() == ["RAM", "MiB", "lru", "lru_gen", "ratio"] for l in lines)
    # the largest difference is the row with the largest |log ratio|
    by = {}
    for r in rows:
        by.setdefault((r["workload"], r["ram_mb"]), {})[r["policy"]] = r["refaults"]
    import math
    wl, ram = max(by, key=lambda k: abs(math.log((by[k]["lru_gen"] + 1) / (by[k]["lru"] + 1))))
    i = lines.index("largest difference:")
    assert lines[i + 1].strip() == f"{wl}, RAM MiB {ram}"
    assert f"lru {by[(wl, ram)]['lru']:,d} vs lru_gen {by[(wl, ram)]['lru_gen']:,d}" in lines[i + 2]


def test_the_reports_header_wraps_a_metrics_explanation_instead_of_cutting_it_at_80_columns(ran):
    sw, store, _ = ran
    meta, rows = cell_rows(store, sw.id)
    lines = report(meta, rows, "file_reads").splitlines()
    assert max(len(l) for l in lines) <= 80
    i = next(k for k, l in enumerate(lines) if l.startswith("metric: file_reads"))
    header = " ".join(l.strip() for l in lines[i:i + 2])
    assert "(pages read from storage into the page cache (pgpgin/4 - pswpin))" in header


def test_csv_and_parquet_hold_one_row_per_cell_with_every_counter(ran, tmp_path, capsys):
    sw, store, _ = ran
    data = Path(store.path).parent
    rc = main(["sweep-report", sw.id, "--data", str(data), "--csv", str(tmp_path / "c.csv"),
               "--parquet", str(tmp_path / "c.parquet"), "--metric", "pswpin"])
    assert rc == 0, capsys.readouterr().err
    assert "metric: pswpin" in capsys.readouterr().out
    with open(tmp_path / "c.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12 and {r["key"] for r in rows} == {c.key for c in sw.cells}
    assert set(VMSTAT_NAMES) <= set(rows[0]) and {"refaults", "file_reads", "sim_time_ns"} <= set(rows[0])
    import pyarrow.parquet as pq
    t = pq.read_table(tmp_path / "c.parquet").to_pylist()
    assert [str(r["pswpin"]) for r in t] == [r["pswpin"] for r in rows]


def test_where_narrows_the_report_and_the_exports(ran, tmp_path, capsys):
    sw, store, _ = ran
    data = Path(store.path).parent
    rc = main(["sweep-report", sw.id, "--data", str(data), "--where", "ram_mb=1,3",
               "--where", "workload=anon-loop", "--csv", str(tmp_path / "w.csv")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "anon-loop" in out and "stream-hot-file" not in out
    assert "only the cells where ram_mb=1,3; workload=anon-loop" in out
    with open(tmp_path / "w.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["ram_mb"], r["policy"]) for r in rows) == [
        ("1", "lru"), ("1", "lru_gen"), ("3", "lru"), ("3", "lru_gen")]
    assert main(["sweep-report", sw.id, "--data", str(data), "--where", "ram_mb=99"]) == 1
    assert "no cell matches" in capsys.readouterr().err


def test_fastest_step_is_the_end_of_the_chunk_where_the_counter_grew_most():
    tl = {"at": [10, 20, 30, 40], "sim_time_ns": [1, 2, 3, 4],
          "counters": {"pswpin": [0, 5, 30, 31], "workingset_refault_anon": [1, 1, 1, 1]}}
    assert fastest_step(tl, "pswpin") == 30
    assert fastest_step(tl, "refaults") == 10          # the only growth is the first chunk
    assert fastest_step(tl, "pgsteal_kswapd") == 40    # never grew: the end


def test_the_progress_line_shows_count_and_eta():
    class Tty:
        def __init__(self):
            self.out = []

        def isatty(self):
            return True

        def write(self, s):
            self.out.append(s)

        def flush(self):
            pass

    t = Tty()
    p = Progress(10, 2, stream=t)
    p.t0 -= 8.0                  # 8 s for ...
    p.update(6)                  # ... 4 cells: 2 s per cell, 4 left
    line = p.line()
    assert "6/10 cells" in line and "ETA 0:08" in line
    assert t.out[-1].startswith("\r")


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as c:
        try:
            return c.execute("SELECT COUNT(*) FROM sweep_cells").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_ctrl_c_stops_cleanly_and_a_rerun_resumes(tmp_path):
    spec = tmp_path / "slow.toml"
    # 8 cells of ~0.15 s each on one process: time to interrupt mid-sweep
    spec.write_text('[[workload]]\nscenario = "zipf-anon"\naccesses = 1500000\n'
                    '[grid]\npolicy = ["lru", "lru_gen"]\nram_mb = [4, 8, 12, 16]\nswap_ratio = 2\n')
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "backend", "sweep", str(spec), "--data", str(data), "--jobs", "1"]
    # Ctrl-C at a terminal: SIGINT takes its default action in the sweep even
    # where the suite runs as a background job, whose shell ignores SIGINT for
    # it and so for its children (Python then installs no KeyboardInterrupt)
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        t0 = time.monotonic()
        while _stored(data / "reclaimlab.sqlite3") < 1:
            assert p.poll() is None, p.communicate()
            assert time.monotonic() - t0 < 60, "no cell finished in 60 s"
            time.sleep(0.02)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, err
    assert "interrupted:" in err and "run the same command again to resume" in err
    assert "Traceback" not in err
    first = _stored(data / "reclaimlab.sqlite3")
    assert 1 <= first < 8, f"{first} cells stored: the interrupt came too late to test resuming"
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{first} already stored" in r.stderr
    assert f"ran {8 - first} cells, skipped {first}" in r.stderr
    assert _stored(data / "reclaimlab.sqlite3") == 8
    # and the resumed cells are those an uninterrupted run gives
    sw = load_spec(spec)
    store = SqliteStore(data / "reclaimlab.sqlite3")
    try:
        c = sw.cells[-1]
        assert without_wall(store.get_cells([c.key])[c.key]["result"]) == without_wall(run_cell(c.recipe))
    finally:
        store.close()


def test_a_cell_opens_as_a_session_of_its_exact_recipe_at_the_fastest_step(ran):
    from backend.app import create_app
    from backend.settings import Settings
    _, store, _ = ran
    data = Path(store.path).parent
    # a cell under a kernel profile other than the default one
    sw = load_spec(None, [("scenario", ["anon-loop"]), ("accesses", [30000]), ("ram_mb", [2]),
                          ("swap_ratio", [2]), ("policy", ["lru_gen"]), ("kernel", ["6.1"])])
    run_sweep(sw, store, LocalExecutor(1))
    c = sw.cells[0]
    res = store.get_cells([c.key])[c.key]["result"]
    with LiveServer(create_app(Settings(data_dir=data))) as srv, \
            httpx.Client(base_url=srv.url, timeout=60) as http:
        assert sw.id in {s["id"] for s in http.get("/api/sweeps").json()}
        page = http.get(f"/api/sweeps/{sw.id}").json()
        assert page["nr_done"] == 1 and page["dims"]["kernel"] == ["6.1"]
        cell = http.get(f"/api/sweeps/{sw.id}/cells/{c.key}").json()
        assert cell["vmstat"] == res["vmstat"] and cell["timeline"]["at"][-1] == 30000
        r = http.post(f"/api/sweeps/{sw.id}/cells/{c.key}/session", params={"counter": "pswpin"})
        assert r.status_code == 201, r.text
        s = r.json()
        assert s["step"] == fastest_step(res["timeline"], "pswpin")
        # the session replays the cell's recipe: at its end, the cell's counters
        got = http.get(f"/api/sessions/{s['session_id']}").json()
        assert got["nr_steps"] == 30000
        assert got["summary"][0]["vmstat"] == res["vmstat"]
        assert got["recipe"]["policies"][0]["policy"] == "lru_gen"
        assert got["recipe"]["policies"][0]["kernel"] == "6.1"
        assert got["recipe"]["engine_config"][0]["kernel"] == "6.1"
        # the link every cell carries: a redirect to the share URL at that step; one session per cell
        o = http.get(f"/sweeps/{sw.id}/cells/{c.key}/open", params={"counter": "pswpin"},
                     follow_redirects=False)
        assert o.status_code == 303
        assert o.headers["location"] == f"/s/{s['session_id']}?step={s['step']}"
        assert http.get(f"/api/sweeps/{sw.id}/cells/nope").status_code == 404
        assert http.post(f"/api/sweeps/{sw.id}/cells/{c.key}/session",
                         params={"counter": "bogus"}).status_code == 422


def test_a_trace_cell_gives_the_counters_of_the_scenario_it_was_written_from(tmp_path):
    """A v1 trace written from a scenario's accesses: the trace cell and the
    scenario cell run the same accesses, so every counter is the same; the
    trace cell's session (its accesses uploaded to the store) ends there too."""
    from engine.trace import write_trace
    from engine.workloads import generate
    write_trace(tmp_path / "loop.trace", generate("stream-hot-file", 512, 5, 20000))
    spec = tmp_path / "t.toml"
    spec.write_text('[[workload]]\nscenario = "stream-hot-file"\naccesses = 20000\n'
                    '[[workload]]\ntrace = "loop.trace"\nlabel = "the same, as a trace"\n'
                    '[grid]\npolicy = "lru_gen"\nram_mb = 2\nseed = 5\n')
    sw = load_spec(spec)
    assert [c.dims["workload"] for c in sw.cells] == ["stream-hot-file", "the same, as a trace"]
    tr = sw.cells[1].recipe["workload"]
    assert tr["trace"] == str(tmp_path / "loop.trace") and len(tr["sha256"]) == 64
    data = tmp_path / "data"
    store = SqliteStore(data / "reclaimlab.sqlite3")
    run_sweep(sw, store, LocalExecutor(2))
    got = store.get_cells([c.key for c in sw.cells])
    a, b = (got[c.key]["result"] for c in sw.cells)
    assert a["vmstat"] == b["vmstat"] and a["derived"] == b["derived"]
    from backend.app import create_app
    from backend.settings import Settings
    with LiveServer(create_app(Settings(data_dir=data), store=store)) as srv:
        r = httpx.post(f"{srv.url}/api/sweeps/{sw.id}/cells/{sw.cells[1].key}/session", timeout=60)
        assert r.status_code == 201, r.text
        s = httpx.get(f"{srv.url}/api/sessions/{r.json()['session_id']}", timeout=60).json()
        assert "trace_id" in s["recipe"]["workload"]
        assert s["summary"][0]["vmstat"] == b["vmstat"]
        # a trace this server cannot read: a clear 422, not a crash
        other = load_spec(spec, [("policy", ["lru"])])
        run_sweep(other, store, LocalExecutor(1))
        (tmp_path / "loop.trace").unlink()
        r = httpx.post(f"{srv.url}/api/sweeps/{other.id}/cells/{other.cells[1].key}/session",
                       timeout=60)
        assert r.status_code == 422 and "is not readable" in r.json()["detail"][0]["msg"]


def test_a_trace_that_changed_after_the_check_fails_its_cell_with_a_clear_message(tmp_path):
    from backend.sweep import CellError
    (tmp_path / "a.trace").write_text("A 1 0\nA 1 1\n")
    spec = tmp_path / "t.toml"
    spec.write_text('[[workload]]\ntrace = "a.trace"\n[grid]\nram_mb = 1\npolicy = "lru"\n')
    sw = load_spec(spec)
    (tmp_path / "a.trace").write_text("A 1 0\nA 1 2\n")
    with pytest.raises(CellError, match="changed since the sweep was checked"):
        run_cell(sw.cells[0].recipe)


def test_on_a_terminal_the_sweep_draws_a_progress_bar_with_an_eta(tmp_path):
    import pty
    spec = tmp_path / "p.toml"
    spec.write_text('[[workload]]\nscenario = "anon-loop"\naccesses = 20000\n'
                    '[grid]\nram_mb = [1, 2, 3]\nswap_ratio = 2\n')
    master, slave = pty.openpty()
    try:
        p = subprocess.run([sys.executable, "-m", "backend", "sweep", str(spec), "--data",
                            str(tmp_path / "data"), "--jobs", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=slave, timeout=120)
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert p.returncode == 0
    text = out.decode()
    assert "\r[" in text and "ETA" in text and "6/6 cells 100% done" in text


def test_parquet_without_pyarrow_fails_before_anything_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)      # as if not installed
    rc = main(["sweep", "--grid", "scenario=anon-loop", "--grid", "ram_mb=1",
               "--data", str(tmp_path / "data"), "--parquet", str(tmp_path / "x.parquet")])
    err = capsys.readouterr().err
    assert rc == 2 and "pip install 'reclaimlab[parquet]'" in err
    assert not (tmp_path / "data").exists()

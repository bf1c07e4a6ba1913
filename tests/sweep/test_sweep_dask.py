"""The same sweep on a real Dask distributed cluster: a `dask scheduler`
and two `dask worker` processes on 127.0.0.1 (started here, bounded in
time, always stopped). Cells are identical to the local run; a worker
killed mid-sweep costs nothing but time."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")   # in the [test] extra

from backend.store import SqliteStore                      # noqa: E402
from backend.sweep import DaskExecutor, LocalExecutor, run_sweep  # noqa: E402
from backend.sweep_spec import load_spec                   # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DASK = str(Path(sys.executable).with_name("dask"))


def _start(args, log: Path) -> subprocess.Popen:
    f = open(log, "w")
    return subprocess.Popen([DASK, *args], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def _wait_for(log: Path, pattern: str, p: subprocess.Popen, timeout: float = 60.0) -> str:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        m = re.search(pattern, log.read_text())
        if m:
            return m.group(1) if m.groups() else m.group(0)
        if p.poll() is not None:
            raise RuntimeError(f"{p.args} exited {p.returncode}:\n{log.read_text()}")
        time.sleep(0.1)
    raise TimeoutError(f"{pattern!r} not in {log} after {timeout} s:\n{log.read_text()}")


@pytest.fixture
def cluster(tmp_path):
    """A scheduler on an ephemeral port and two single-threaded workers
    without nannies (so killing one is final)."""
    procs = []
    try:
        s = _start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
                   tmp_path / "scheduler.log")
        procs.append(s)
        addr = _wait_for(tmp_path / "scheduler.log", r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", s)
        workers = []
        for i in range(2):
            w = _start(["worker", addr, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                        "--host", "127.0.0.1", "--name", f"w{i}"], tmp_path / f"worker{i}.log")
            procs.append(w)
            workers.append(w)
        for i, w in enumerate(workers):
            _wait_for(tmp_path / f"worker{i}.log", r"Registered to", w)
        yield addr, workers
    finally:
        for p in reversed(procs):
            _stop(p)


SPEC = """\
[[workload]]
scenario = "anon-loop"
accesses = 20000

[[workload]]
scenario = "file-loop"
accesses = 20000

[grid]
policy = ["lru", "lru_gen"]
ram_mb = [1, 2]
swap_ratio = 2
seed = [1, 2]
"""


def _results(store, sw) -> dict:
    got = store.get_cells([c.key for c in sw.cells])
    return {k: {kk: vv for kk, vv in v["result"].items() if kk != "wall_s"} for k, v in got.items()}


def test_a_dask_sweep_gives_the_local_results_cell_for_cell(cluster, tmp_path):
    addr, _ = cluster
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    sw = load_spec(spec)
    local = SqliteStore(tmp_path / "local.sqlite3")
    remote = SqliteStore(tmp_path / "dask.sqlite3")
    ex = DaskExecutor(addr)
    try:
        assert run_sweep(sw, remote, ex)["ran"] == 16
        # both workers took part (cells are shipped as recipes to separate processes)
        who = ex.client.run(lambda dask_worker: len(dask_worker.data) + dask_worker.state.executed_count)
        assert len(who) == 2 and all(n > 0 for n in who.values()), who
    finally:
        ex.close()
    run_sweep(sw, local, LocalExecutor(2))
    a, b = _results(local, sw), _results(remote, sw)
    assert len(a) == len(b) == 16
    assert a == b
    local.close()
    remote.close()


def test_killing_a_worker_mid_sweep_still_stores_every_cell_once(cluster, tmp_path):
    addr, workers = cluster
    spec = tmp_path / "k.toml"
    # 12 cells of ~0.2-0.6 s: a kill after the first result lands mid-sweep
    spec.write_text('[[workload]]\nscenario = "zipf-anon"\naccesses = 1500000\n'
                    '[grid]\npolicy = ["lru", "lru_gen"]\nram_mb = [4, 6, 8, 10, 12, 16]\nswap_ratio = 2\n')
    sw = load_spec(spec)
    store = SqliteStore(tmp_path / "k.sqlite3")
    seen = []

    def on_result(cell, result):
        seen.append(cell.key)
        if len(seen) == 1:
            os.kill(workers[0].pid, signal.SIGKILL)

    ex = DaskExecutor(addr)
    t0 = time.monotonic()
    try:
        stats = run_sweep(sw, store, ex, on_result=on_result)
    finally:
        ex.close()
    assert time.monotonic() - t0 < 120
    assert workers[0].wait(10) == -signal.SIGKILL
    assert stats == {"total": 12, "skipped": 0, "ran": 12}
    assert sorted(seen) == sorted(c.key for c in sw.cells)      # each cell once
    assert len(store.get_cells([c.key for c in sw.cells])) == 12
    store.close()


def test_the_cli_runs_a_sweep_on_the_scheduler(cluster, tmp_path):
    addr, _ = cluster
    spec = tmp_path / "c.toml"
    spec.write_text(SPEC)
    r = subprocess.run([sys.executable, "-m", "backend", "sweep", str(spec), "--data",
                        str(tmp_path / "data"), "--scheduler", addr, "--report"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"on Dask cluster at {addr}" in r.stderr and "ran 16 cells" in r.stderr
    assert "largest difference:" in r.stdout

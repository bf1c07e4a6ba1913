"""The `reclaimlab` console script and `python -m backend`, run as subprocesses."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.workloads import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SCRIPT = Path(sys.executable).parent / "reclaimlab"
TINY = ["--ram-mb", "1", "--accesses", "3000", "--seed", "4"]


# The subprocesses import the in-tree packages, as pytest itself does
# (pythonpath = ["."]): an editable install's finder may predate a package's
# __init__.py and would otherwise win.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}


def run(*args, module=False, timeout=120):
    cmd = [sys.executable, "-m", "backend", *args] if module else [str(SCRIPT), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=timeout)


def one_line_error(p, status=None):
    assert p.returncode != 0
    if status is not None:
        assert p.returncode == status
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_console_script_is_installed():
    assert SCRIPT.exists()


@pytest.mark.parametrize("preset, expected", [(None, "False"), ("1", "True")])
def test_the_command_leaves_numpy_arrays_on_small_pages_unless_told(preset, expected):
    # numpy's MADV_HUGEPAGE on the trace reader's chunks cost 0.3-1.5 s of
    # page zeroing per 20 M-request trace (backend/cli.py); a user's own
    # NUMPY_MADVISE_HUGEPAGE still wins
    env = {k: v for k, v in ENV.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if preset is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = preset
    p = subprocess.run([sys.executable, "-c", "import backend.cli, numpy._core.multiarray as m; "
                        "print(m._get_madvise_hugepage())"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == expected


@pytest.mark.parametrize("module", [False, True])
def test_scenarios_lists_one_line_per_scenario(module):
    p = run("scenarios", module=module)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == len(SCENARIOS)
    for line, s in zip(lines, SCENARIOS.values()):
        fields = line.split(None, 2)
        assert fields[0] == s.name
        assert int(fields[1].replace(",", "")) == s.default_accesses
        assert fields[2] == s.title


def test_scenarios_json_carries_watch_text_and_params():
    p = run("scenarios", "--json")
    out = json.loads(p.stdout)
    assert [s["name"] for s in out] == list(SCENARIOS)
    assert all(s["watch"] and "params" in s for s in out)


def simulate_json(*args):
    p = run("simulate", *args, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parametrize("policy", ["lru", "lru_gen"])
def test_simulate_json_one_policy(policy):
    r = simulate_json("--scenario", "anon-loop", "--policy", policy, *TINY)
    assert r["policy"] == policy
    assert r["config"]["policy"] == policy and r["config"]["ram_pages"] == 256
    assert r["workload"]["scenario"] == "anon-loop" and r["workload"]["accesses"] == 3000
    # the run went to the end: every page of the 1.2x-RAM loop faulted at least
    # once, and a set larger than RAM forced reclaim
    vm = r["vmstat"]
    assert vm["pgfault"] >= round(1.2 * 256)
    assert vm["pgsteal_kswapd"] + vm["pgsteal_direct"] > 0
    assert r["sim_time_ns"] > 0
    assert r["meminfo"]["MemTotal"] == 256 * 4
    if policy == "lru_gen":
        assert r["lru_gen"].startswith("memcg")
    else:
        assert "lru_gen" not in r


def test_simulate_both_is_the_two_single_runs_side_by_side():
    both = simulate_json("--scenario", "desktop", "--policy", "both", *TINY)
    assert [r["policy"] for r in both] == ["lru", "lru_gen"]
    for r in both:
        single = simulate_json("--scenario", "desktop", "--policy", r["policy"], *TINY)
        assert r == single          # deterministic, and threads do not interfere


def test_simulate_readable_summary_for_both():
    p = run("simulate", "--scenario", "zipf-anon", "--policy", "both", *TINY)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for key in ("pgscan_kswapd", "pgsteal_direct", "pgactivate", "workingset_refault_anon",
                "pswpout", "oom_kill", "sim time"):
        assert key in out
    row = next(line for line in out.splitlines() if line.startswith("pswpout"))
    assert len(row.split()) == 3                      # name + one column per policy
    assert "lru_gen (" in out and "memcg" in out       # the MGLRU debugfs text


def test_simulate_summary_shows_the_7_3_guests_skips_and_migrations():
    # the hidden checks' command line on a validation trace: the two counters
    # that tell a 7.3 guest's runs for ZONE_DMA alone and its compaction apart
    p = run("simulate", "--trace", str(ROOT / "validation" / "traces" / "file-loop.trace.gz"), "--kernel", "7.3",
            "--policy", "both", "--ram-mb", "64", "--swap-kind", "ssd", "--swap-mb", "1024", "--swappiness", "60")
    assert p.returncode == 0, p.stderr
    rows = {line.split()[0]: line.split()[1:] for line in p.stdout.splitlines() if line.strip()}
    assert len(rows["pgskip_dma32"]) == 2
    assert all(int(v.replace(",", "")) > 0 for v in rows["pgmigrate_success"])
    # file-loop's file, 1.3x the guest's memory, leaves nodes that hold only shadows
    # (workingset_update_node()), too few for the shadow shrinker to free any
    assert all(int(v.replace(",", "")) > 0 for v in rows["workingset_nodes"])
    assert rows["workingset_nodereclaim"] == ["0", "0"]
    # and the machine line names the guest's holes, whose fallbacks boost its zones
    machine = next(line for line in p.stdout.splitlines() if line.startswith("machine"))
    assert ("free pages in other migratetypes' pageblocks 224 in ZONE_DMA and 264 above it with 1,746 more "
            "a fallback claims (a fallback moves up to 1 of them)") in machine


def test_simulate_a_trace_file():
    r = simulate_json("--trace", str(DATA / "tiny.trace"), "--policy", "lru", "--ram-mb", "1")
    assert r["workload"]["format"] == "v1" and r["workload"]["accesses"] == 13
    assert r["vmstat"]["pgfault"] > 0


def test_simulate_a_block_trace_with_format_override(tmp_path):
    path = tmp_path / "blocks.trace"
    path.write_text("1\n2\n3\n1\n")
    r = simulate_json("--trace", str(path), "--trace-format", "blocks", "--policy", "lru_gen",
                      "--ram-mb", "1")
    assert r["workload"]["format"] == "blocks" and r["workload"]["accesses"] == 4


def test_simulate_an_oracle_general_trace_with_obj_pages():
    path = str(DATA / "tiny.oracleGeneral")
    by_size = simulate_json("--trace", path, "--policy", "lru", "--ram-mb", "1")
    one = simulate_json("--trace", path, "--policy", "lru", "--ram-mb", "1", "--obj-pages", "one")
    assert by_size["workload"]["format"] == "oracleGeneral"
    assert by_size["workload"]["accesses"] == 9 and one["workload"]["accesses"] == 6
    line = one_line_error(run("simulate", "--trace", str(DATA / "tiny.trace"), "--obj-pages", "one"), 1)
    assert "apply to oracleGeneral traces, not v1" in line


def test_malformed_trace_exits_nonzero_naming_file_and_line():
    line = one_line_error(run("simulate", "--trace", str(DATA / "malformed.trace")), 1)
    assert "malformed.trace:6: missing field: pgoff" in line


def test_malformed_trace_via_python_m_backend(tmp_path):
    path = tmp_path / "x.trace"
    path.write_text("A p 1\nA p 2\nZ p 3\n")
    line = one_line_error(run("simulate", "--trace", str(path), module=True), 1)
    assert "x.trace:3: unknown op 'Z'" in line


@pytest.mark.parametrize("args, expect", [
    (["simulate", "--scenario", "nope"], "--scenario: unknown scenario 'nope'"),
    (["simulate", "--scenario", "anon-loop", "--policy", "fifo"], "argument --policy: invalid choice: 'fifo'"),
    (["simulate", "--scenario", "anon-loop", "--ram-mb", "lots"], "argument --ram-mb: 'lots' is not an integer"),
    (["simulate", "--scenario", "anon-loop", "--trace", "x.trace"], "not allowed with argument"),
    (["simulate"], "one of the arguments --scenario --trace is required"),
    (["simulate", "--scenario", "anon-loop", "--param", "size=100"], "'size' = 100.0 is out of range"),
    (["simulate", "--scenario", "anon-loop", "--param", "bogus=1"], "no parameter 'bogus'"),
    (["simulate", "--scenario", "anon-loop", "--swap-kind", "none", "--swap-mb", "4"], "--swap-mb: no swap device"),
    (["simulate", "--trace", "t.trace", "--accesses", "5"], "--accesses and --param go with --scenario"),
    (["serve", "--port", "70000"], "--port: 70000 is not in 1..65535"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["simulate", "--scenario", "anon-loop", "--policy", "clock_py"], "invalid choice: 'clock_py'"),
    (["simulate", "--scenario", "anon-loop", "--policies", "no/such/dir"], "--policies no/such/dir: not a directory"),
])
def test_bad_options_exit_2_with_one_line(args, expect):
    line = one_line_error(run(*args), 2)
    assert expect in line


def test_engine_config_errors_are_passed_through():
    line = one_line_error(run("simulate", "--scenario", "anon-loop", "--swappiness", "300", *TINY), 2)
    assert "swappiness" in line


def test_missing_trace_file_is_one_line():
    line = one_line_error(run("simulate", "--trace", "/nonexistent/x.trace"), 1)
    assert "/nonexistent/x.trace: cannot read" in line


def run_input(*args, data: bytes, timeout=120):
    return subprocess.run([str(SCRIPT), *args], input=data, capture_output=True, cwd=ROOT,
                          env=ENV, timeout=timeout)


def _oracle_records(n, seed=1):
    import numpy as np
    from engine.trace import ORACLE_GENERAL_DTYPE
    rng = np.random.default_rng(seed)
    r = np.zeros(n, dtype=ORACLE_GENERAL_DTYPE)
    r["obj_id"] = rng.integers(0, 600, n) * 1_000_003
    r["obj_size"] = 4096
    r["next_access_vtime"] = -1
    return r.tobytes()


@pytest.mark.parametrize("fmt_args", [[], ["--trace-format", "oracleGeneral"]])
def test_simulate_reads_a_trace_from_stdin_as_from_the_file(tmp_path, fmt_args):
    data = _oracle_records(20_000)
    path = tmp_path / "w.oracleGeneral"
    path.write_bytes(data)
    # --obj-pages one: the layout of a pipe is then the file's (with "size" a
    # pipe lays objects out by stride, which read-ahead sees: docs/trace-format.md)
    common = ["--policy", "both", "--ram-mb", "1", "--swap-kind", "none", "--swap-mb", "0",
              "--obj-pages", "one", "--json"]
    from_file = simulate_json("--trace", str(path), *common)
    p = run_input("simulate", "--trace", "-", *fmt_args, *common, data=data)
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""                       # --json, stderr not a tty: no progress
    piped = json.loads(p.stdout)
    for a, b in zip(from_file, piped):
        assert a["vmstat"] == b["vmstat"] and a["sim_time_ns"] == b["sim_time_ns"]
        assert b["workload"]["source"] == "<stdin>" and b["workload"]["accesses"] == 20_000
        assert b["workload"]["format"] == "oracleGeneral"
    assert from_file[0]["vmstat"]["pgpgin"] > 0


def test_simulate_reads_a_zstd_trace_from_stdin():
    import zstandard
    text = "".join(f"R f {i % 700}\n" if i % 3 else f"A p {i % 500} w\n" for i in range(30_000))
    p = run_input("simulate", "--trace", "-", "--policy", "lru", "--ram-mb", "1", "--json",
                  data=zstandard.ZstdCompressor().compress(text.encode()))
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["workload"]["format"] == "v1" and r["workload"]["accesses"] == 30_000


def test_a_bad_line_read_from_stdin_names_stdin_and_the_line():
    p = run_input("simulate", "--trace", "-", "--policy", "lru", "--ram-mb", "1",
                  data=b"1\n2\n\n3 4\n")
    assert p.returncode == 1
    assert p.stderr.decode().strip() == ("reclaimlab simulate: <stdin>:4: expected one block "
                                         "number per line, got 2 fields")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_the_app_with_the_data_dir(tmp_path):
    port = _free_port()
    data = tmp_path / "store"
    proc = subprocess.Popen([str(SCRIPT), "serve", "--port", str(port), "--data", str(data)],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/scenarios", timeout=2) as r:
                    body = json.loads(r.read())
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        assert body is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert [s["name"] for s in body] == list(SCENARIOS)
        assert data.is_dir()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_simulate_kernel_profiles_run_each_policy_under_each_kernel():
    out = run("simulate", "--scenario", "anon-loop", "--ram-mb", "4", "--accesses", "3000",
                  "--policy", "lru_gen", "--kernel", "6.1,7.3", "--json")
    assert out.returncode == 0, out.stderr
    runs = json.loads(out.stdout)
    assert [(r["policy"], r["config"]["kernel"]) for r in runs] == [("lru_gen", "6.1"), ("lru_gen", "7.3")]


def test_simulate_unknown_kernel_profile_is_a_one_line_usage_error():
    out = run("simulate", "--scenario", "anon-loop", "--kernel", "5.10")
    one_line_error(out, 2)
    assert "unknown kernel profile '5.10'" in out.stderr


def test_streamed_trace_runs_as_the_whole_array_with_readahead_stopping_at_i_size():
    # a 5 MB trace streams in two chunks; the first pass for file sizes keeps
    # readahead's EOF where the whole array has it (validation/validate.py's path)
    from validation import validate as V
    trace = ROOT / "validation" / "traces" / "stream-hot-file.trace.gz"
    p = run("simulate", "--trace", str(trace), "--policy", "lru", "--kernel", "6.1", "--ram-mb", "64",
            "--swap-kind", "ssd", "--swap-mb", "256", "--swappiness", "60", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["config"]["system_pages"] > 0                  # the booted guest of docs/kernels.md
    whole = V.simulate(("stream-hot-file", out["config"]))
    assert V.counters(out["vmstat"]) == whole


def test_simulate_python_policies_from_a_directory_side_by_side_with_a_cython_one():
    p = run("simulate", "--scenario", "stream-hot-file", "--policies", "policies",
            "--policy", "clock_py,clock,s3fifo", "--json", *TINY)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [r["policy"] for r in out] == ["clock_py", "clock", "s3fifo"]
    assert out[0]["vmstat"] == out[1]["vmstat"]          # the same CLOCK, Python and Cython
    assert out[2]["config"]["s3fifo"] == {"small_percent": 10}
    p = run("simulate", "--scenario", "stream-hot-file", "--policies", "policies", "--policy", "s3fifo",
            "--help")
    assert "s3fifo" in p.stdout and "clock_py" in p.stdout


def test_simulate_no_large_folios_gives_7_3_small_page_cache_folios():
    # the rig's nolf boots (ext4 mounted data=journal): config large_folios 0,
    # and a random reread of a hot file then refaults more (docs/kernels.md "Large folios")
    import json
    base = ("simulate", "--trace", "validation/traces/shf-hot0.6.trace.gz", "--kernel", "7.3",
            "--policy", "lru", "--ram-mb", "64", "--swap-kind", "ssd", "--swap-mb", "256", "--json")
    lf, nolf = (json.loads(run(*base, *extra).stdout) for extra in ((), ("--no-large-folios",)))
    assert lf["config"]["large_folios"] == 1 and nolf["config"]["large_folios"] == 0
    assert nolf["vmstat"]["workingset_refault_file"] > 2 * lf["vmstat"]["workingset_refault_file"]


LOOP_64 = ("simulate", "--trace", "validation/traces/anon-loop.trace.gz", "--kernel", "6.1", "--ram-mb", "64",
           "--swap-kind", "ssd", "--swap-mb", "256", "--swappiness", "60")


def test_simulate_spread_runs_guests_0_98_to_1_02x_the_memavailable__guest_machine():
    """--spread: the same workload on guests with GUEST_SPREAD's multiples of
    the MemAvailable (guest_machine(), same swap), each counter as the rig sums
    it, smallest guest first; the run's own result is the 1.0x guest's."""
    from engine import Simulator
    from engine.kernels import GUEST_SPREAD, guest_machine
    from engine.trace import read_trace
    out = json.loads(run(*LOOP_64, "--policy", "lru_gen", "--spread", "--json").stdout)
    sp = out["spread"]
    assert sp["memavailable"] == sorted(GUEST_SPREAD + (1.0,))
    assert sp["ram_pages"] == sorted(sp["ram_pages"]) and sp["ram_pages"][2] == out["config"]["ram_pages"]
    v = out["vmstat"]
    assert sp["counters"]["pswpin"][2] == v["pswpin"]
    assert sp["counters"]["pgscan"][2] == v["pgscan_kswapd"] + v["pgscan_direct"]
    # the 0.98x guest is guest_machine()'s for that many pages, run on its own
    cfg = {k: out["config"][k] for k in ("policy", "kernel", "swap_kind", "swap_pages", "swappiness")}
    sim = Simulator({**cfg, **guest_machine("6.1", round(64 * 256 * 0.98), "ssd")})
    sim.set_workload(read_trace("validation/traces/anon-loop.trace.gz").accesses)
    sim.run_to_end()
    assert sp["counters"]["pswpin"][0] == sim.vmstat()["pswpin"]
    # this loop's MGLRU is on a knife edge on 6.1 (docs/validation.md "The loop's two outcomes")
    assert "pswpin" in sp["knife_edge"] and max(sp["counters"]["pswpin"]) > 1.25 * min(sp["counters"]["pswpin"])
    assert "file_in" not in sp["knife_edge"]


def test_simulate_spread_summary_names_a_knife_edge_and_json_without_it_has_no_spread():
    text = run(*LOOP_64, "--policy", "both", "--spread").stdout
    block = text.split("spread (multi-gen LRU (MGLRU), 6.1): guests with 0.98-1.02x the MemAvailable")[1]
    assert "pswpin" in block.splitlines()[3] and "a knife edge" in block.splitlines()[3]
    assert "spread (active/inactive LRU, 6.1)" in text
    assert "spread" not in json.loads(run(*LOOP_64, "--policy", "lru", "--json").stdout)


@pytest.mark.parametrize("extra", [(), ("--ram-mb", "64", "--bare")])
def test_simulate_spread_without_a_guest_is_a_one_line_usage_error(extra):
    line = one_line_error(run("simulate", "--scenario", "anon-loop", "--accesses", "3000", *extra, "--spread"), 2)
    assert "--spread is a guest's: it goes with --ram-mb, without --bare" in line

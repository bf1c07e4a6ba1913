"""The compare-mode mail text (frontend/js/mailText.js, run with node) names a
`reclaimlab simulate` command line; run through the CLI it gives the same
counters as the session it was copied from."""

import json
import re
import shlex
import shutil
import subprocess

import pytest

from backend.protocol import Until
from backend.recipes import Recipe
from backend.sessions import SessionManager
from backend.settings import Settings
from backend.store import SqliteStore
from engine.registry import POLICY_INFO
from tests.test_cli import ENV, ROOT, SCRIPT

NODE = shutil.which("node")
DEFAULT_KNOBS = {k: v["default"] for k, v in POLICY_INFO["lru_gen"].public()["knobs"].items()}
MAIL = """
import { mailText } from "./frontend/js/mailText.js";
const a = JSON.parse(process.argv[1]);
process.stdout.write(mailText(a));
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("policies,ram_pages", [([{"policy": "lru"}, {"policy": "lru_gen"}], 2048),
                                                ([{"policy": "lru_gen", "kernel": "6.1"}, {"policy": "lru_gen"}], 2048),
                                                # the start form's default machine: 64 MiB, where the CLI's
                                                # --ram-mb alone would build a booted guest
                                                ([{"policy": "lru"}, {"policy": "lru_gen"}], 16384),
                                                # a booted guest: simulate's own --ram-mb machine, per kernel
                                                ([{"policy": "lru_gen", "kernel": "6.1"}, {"policy": "lru_gen"}],
                                                 (16384, True)),
                                                # every knob at its default, as the start form sends them
                                                ([{"policy": "lru"}, {"policy": "lru_gen", "lru_gen": DEFAULT_KNOBS}],
                                                 2048)])
def test_the_mail_texts_command_line_reproduces_the_sessions_counters(tmp_path, policies, ram_pages):
    st = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(st, Settings(data_dir=tmp_path))
    ram_pages, guest = ram_pages if isinstance(ram_pages, tuple) else (ram_pages, False)
    recipe = {"machine": {"ram_pages": ram_pages, "swap_kind": "zram", "swap_pages": 1024, "swappiness": 60,
                          "readahead_pages": 8, **({"guest": True} if guest else {})},
              "workload": {"scenario": "stream-hot-file", "params": {}, "accesses": 30000},
              "policies": policies, "seed": 3}
    s, _ = m.create(Recipe.model_validate(recipe))
    cur, _, res = s.run_until(0, Until(kind="end"), "scan", 0, 10, owner=True)
    assert res.reason == "found" and s.sims[0].done
    summary = s.summary()
    panes = [{"pane": k, "policy": p["policy"], "step": cur, "nrAccess": p["nr_access"], "vmstat": p["vmstat"]}
             for k, p in enumerate(summary)]
    arg = {"recipe": s.record.recipe, "panes": panes, "link": f"http://127.0.0.1:8000/s/{s.id}?step={cur}",
           "infos": [POLICY_INFO[p["policy"]].public() for p in summary]}
    text = subprocess.run([NODE, "--input-type=module", "-e", MAIL, json.dumps(arg)], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert all(len(line) <= 80 for line in text.splitlines())
    # the table says what the session says, name by full name
    for name in ("pgscan_kswapd", "kswapd_high_wmark_hit_quickly", "workingset_refault_file"):
        a, b = (summary[k]["vmstat"][name] for k in (0, 1))
        if a or b:
            assert re.search(rf"^{name} +{a:,} +{b:,} ", text, re.M), name
    block = text.split("Reproduce (to the end of the workload):\n", 1)[1].split("\n\n", 1)[0]
    assert "cannot set" not in block
    argv = shlex.split(block.replace("\\\n", " "))
    assert argv[:2] == ["reclaimlab", "simulate"]
    out = subprocess.run([str(SCRIPT), *argv[1:], "--json"], cwd=ROOT, env=ENV, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    runs = json.loads(out.stdout)
    assert [r["policy"] for r in runs] == [p["policy"] for p in summary]
    for k, r in enumerate(runs):
        assert r["vmstat"] == summary[k]["vmstat"], k
    st.close()


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_a_replay_sessions_mail_text_runs_the_replays_own_file_and_lists_the_rigs_counters(tmp_path):
    """A session stepping a real-kernel replay (backend/replays.py): its mail
    text's command line reads the replay's file from a checkout and gives the
    session's counters; beside each pane the rig's boots and sim/real."""
    from backend import replays
    st = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(st, Settings(data_dir=tmp_path))
    replay = next(r for r in replays.load() if r["name"] == "stream-hot-anon")
    rec = m.upload_trace(replays.trace_path(replay["name"]).read_bytes(), "x.trace.gz")
    s, _ = m.create(Recipe.model_validate(replays.recipe(replay, "6.12", rec.id)))
    cur, _, res = s.run_until(0, Until(kind="end"), "scan", 0, 10, owner=True)
    assert res.reason == "found" and all(sim.done for sim in s.sims)
    summary = s.summary()
    panes = [{"pane": k, "policy": p["policy"], "step": cur, "nrAccess": p["nr_access"], "vmstat": p["vmstat"],
              "done": p["done"]} for k, p in enumerate(summary)]
    arg = {"recipe": s.record.recipe, "panes": panes, "real": {"replay": replay, "comparable": True}}
    text = subprocess.run([NODE, "--input-type=module", "-e", MAIL, json.dumps(arg)], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert all(len(line) <= 80 for line in text.splitlines())
    lines = text.split("Reproduce (to the end of the workload):\n", 1)[1].splitlines()
    argv = shlex.split(" ".join(line.rstrip("\\") for line in lines[:next(i for i, l in enumerate(lines)
                                                                      if l.startswith("("))]))
    assert argv[argv.index("--trace") + 1] == "validation/traces/stream-hot-anon.trace.gz"
    out = subprocess.run([str(SCRIPT), *argv[1:], "--json"], cwd=ROOT, env=ENV, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for k, r in enumerate(json.loads(out.stdout)):
        assert r["vmstat"] == summary[k]["vmstat"], k
    # the rig's pgsteal beside each pane's, with sim/real at the trace's end
    for k, policy in enumerate(("lru", "lru_gen")):
        boots = sorted((b for b in replay["runs"] if b["kernel"] == "6.12" and b["policy"] == policy),
                       key=lambda b: b["tag"])
        v = summary[k]["vmstat"]
        sim = v["pgsteal_kswapd"] + v["pgsteal_direct"]
        real = sum(b["counters"]["pgsteal"] for b in boots) / len(boots)
        real_text = " / ".join(format(b["counters"]["pgsteal"], ",") for b in boots)
        row = rf"^  pgsteal \(kswapd\+direct\) +{real_text} +{sim:,} +{sim / real:.2f}\*?$"
        assert re.search(row, text, re.M), (policy, row)
    st.close()

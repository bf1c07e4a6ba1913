"""A bad sweep spec fails before anything runs, naming the file and the
line; a good one expands into the cross product, keyed by content."""
from __future__ import annotations

import textwrap

from backend.cli import main
from backend.sweep_spec import SpecError, engine_config_of, load_spec, locate, parse_grid_option

GOOD = """\
[sweep]
name = "t"

[[workload]]
scenario = "anon-loop"
accesses = 2000
params = { size = [1.1, 1.3] }

[[workload]]
scenario = "file-loop"
accesses = 2000

[grid]
policy = ["lru", "lru_gen"]
ram_mb = [1, 2]
swap_ratio = 2
seed = [1, 2]
"""


def write(tmp_path, text, name="spec.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def fails(tmp_path, capsys, text, *extra):
    """Run `reclaimlab sweep` on a bad spec: exit 2, one line naming
    FILE:LINE, and no store created (nothing ran)."""
    spec = write(tmp_path, text)
    data = tmp_path / "data"
    rc = main(["sweep", str(spec), "--data", str(data), *extra])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not data.exists(), "the store was opened before the spec was checked"
    return err


def test_a_spec_expands_into_the_cross_product_of_workloads_and_grid(tmp_path):
    sw = load_spec(write(tmp_path, GOOD))
    # (2 anon-loop sizes + 1 file-loop) x 2 policies x 2 RAM x 2 seeds
    assert len(sw.cells) == 3 * 2 * 2 * 2
    assert len({c.key for c in sw.cells}) == len(sw.cells)
    labels = {c.dims["workload"] for c in sw.cells}
    assert labels == {"anon-loop size=1.1", "anon-loop size=1.3", "file-loop"}
    c = next(c for c in sw.cells if c.dims["ram_mb"] == 2)
    assert c.recipe["machine"]["ram_pages"] == 512 and c.recipe["machine"]["swap_pages"] == 1024
    # the same spec gives the same ids; another spec text with the same cells too
    again = load_spec(write(tmp_path, "# a comment\n" + GOOD, "other.toml"))
    assert again.id == sw.id and [c.key for c in again.cells] == [c.key for c in sw.cells]


def test_grid_options_override_the_spec_and_can_stand_alone(tmp_path):
    sw = load_spec(write(tmp_path, GOOD), [("ram_mb", [4]), ("policy", ["lru"])])
    assert {c.dims["ram_mb"] for c in sw.cells} == {4} and {c.dims["policy"] for c in sw.cells} == {"lru"}
    alone = load_spec(None, [parse_grid_option("scenario=anon-loop,zipf-anon"),
                             parse_grid_option("ram_mb=1,2"), parse_grid_option("accesses=1000")])
    assert len(alone.cells) == 2 * 2 * 2          # scenarios x RAM x both policies (default)
    assert {c.recipe["workload"]["accesses"] for c in alone.cells} == {1000}


def test_a_toml_syntax_error_names_the_line(tmp_path, capsys):
    err = fails(tmp_path, capsys, "[grid]\nram_mb = [1, 2\npolicy = 'lru'\n")
    assert err.startswith("reclaimlab sweep: ") and "spec.toml:3: TOML syntax" in err


def test_an_unknown_key_names_its_line(tmp_path, capsys):
    err = fails(tmp_path, capsys, GOOD.replace("seed = [1, 2]", "seed = [1, 2]\nram_gb = [1]"))
    assert "spec.toml:18: unknown grid key 'ram_gb'" in err
    err = fails(tmp_path, capsys, GOOD.replace('accesses = 2000\n\n[grid]', 'acceses = 2000\n\n[grid]'))
    assert "spec.toml:11: unknown workload key 'acceses'" in err


def test_a_bad_scenario_parameter_names_its_line(tmp_path, capsys):
    err = fails(tmp_path, capsys, GOOD.replace("size = [1.1, 1.3]", "size = [1.1, 99]"))
    assert "spec.toml:7: " in err and "size" in err


def test_an_impossible_machine_names_the_grid_line(tmp_path, capsys):
    # no swap device but swap space asked for: the engine's ConfigError, at grid.swap_mb
    bad = GOOD.replace("swap_ratio = 2", 'swap_kind = "none"\nswap_mb = 4')
    err = fails(tmp_path, capsys, bad)
    assert "spec.toml:17: impossible machine" in err and "swap_pages" in err
    err = fails(tmp_path, capsys, GOOD.replace("ram_mb = [1, 2]", "ram_mb = [0, 2]"))
    assert "spec.toml:15: impossible machine" in err


def test_a_missing_trace_names_its_line(tmp_path, capsys):
    bad = GOOD.replace('scenario = "file-loop"\naccesses = 2000', 'trace = "nowhere.trace"')
    err = fails(tmp_path, capsys, bad)
    assert "spec.toml:10: trace file" in err and "nowhere.trace" in err and "does not exist" in err


def test_an_unreadable_trace_names_the_spec_line_and_the_trace_line(tmp_path, capsys):
    (tmp_path / "bad.trace").write_text("A 1 0\nQ 1 2\n")
    err = fails(tmp_path, capsys, GOOD.replace('scenario = "file-loop"\naccesses = 2000',
                                               'trace = "bad.trace"'))
    assert "spec.toml:10: unreadable trace" in err and "bad.trace:2" in err


def test_kernels_need_kernel_profiles_in_the_engine(tmp_path, capsys):
    from engine import config
    text = GOOD.replace("seed = [1, 2]", 'seed = [1, 2]\nkernel = ["6.1", "7.3"]')
    if not hasattr(config, "KERNELS"):
        err = fails(tmp_path, capsys, text)
        assert "spec.toml:18: " in err and "kernel" in err
    else:
        sw = load_spec(write(tmp_path, text))
        assert {c.recipe["kernel"] for c in sw.cells} == {"6.1", "7.3"}
        assert all(engine_config_of(c.recipe)["kernel"] == c.recipe["kernel"] for c in sw.cells)
        err = fails(tmp_path, capsys, GOOD.replace("seed = [1, 2]", 'seed = [1]\nkernel = ["2.4"]'))
        assert "spec.toml:18: unknown kernel '2.4'" in err


def test_locate_finds_keys_in_arrays_of_tables_and_inline_tables():
    text = GOOD
    assert locate(text, ("workload", 0, "params", "size")) == 7
    assert locate(text, ("workload", 1, "accesses")) == 11
    assert locate(text, ("grid", "seed")) == 17
    assert locate(text, ("sweep",)) == 1


def test_spec_error_text_is_file_colon_line():
    assert str(SpecError("a.toml", 3, "x")) == "a.toml:3: x"
    assert str(SpecError("a.toml", None, "x")) == "a.toml: x"


GUEST = """\
[[workload]]
scenario = "file-loop"
accesses = 3000

[grid]
policy = "lru"
kernel = "7.3"
ram_mb = 64
swap_kind = "ssd"
guest = true
zone_normal_holes = [264, 398]
"""


def test_a_sweep_may_run_booted_guests_and_sweep_their_holes(tmp_path, capsys):
    """grid.guest: each cell the booted guest `simulate --ram-mb` builds (the
    rule docs/validation.md is made with); grid.zone_normal_holes: the free
    pages its ZONE_DMA32 keeps in other migratetypes' pageblocks, which decide
    whether only the fallbacks' boosts wake kswapd (docs/validation.md "kswapd
    woken by boosts"). A spec without them keeps its cells' keys."""
    from engine.kernels import guest_machine
    from backend.store import SqliteStore
    from backend.sweep import LocalExecutor, run_sweep
    from backend.sweep_report import cell_rows, filter_rows
    sw = load_spec(write(tmp_path, GUEST))
    assert [c.dims["zone_normal_holes"] for c in sw.cells] == [264, 398]
    for c in sw.cells:
        assert c.recipe["machine"]["guest"] is True and c.dims["guest"] is True
        cfg = engine_config_of(c.recipe)
        assert cfg["ram_pages"] == guest_machine("7.3", 64 * 256)["ram_pages"]
        assert cfg["zone_normal_holes"] == c.dims["zone_normal_holes"]
    # from the command line, as text; guest = false is the bare machine a spec always ran
    cli = load_spec(write(tmp_path, GUEST), [parse_grid_option("guest=true,false")])
    assert sorted(c.dims["guest"] for c in cli.cells) == [False, False, True, True]
    bare = load_spec(write(tmp_path, GOOD))
    assert [c.key for c in load_spec(write(tmp_path, GOOD.replace("seed = [1, 2]", "seed = [1, 2]\nguest = false"),
                                           "g.toml")).cells] == [c.key for c in bare.cells]
    store = SqliteStore(tmp_path / "s.sqlite3")
    try:
        run_sweep(sw, store, LocalExecutor(1))
        rows = cell_rows(store, sw.id)[1]
        assert [(r["guest"], r["zone_normal_holes"]) for r in rows] == [(True, 264), (True, 398)]
        assert [r["zone_normal_holes"] for r in filter_rows(rows, ["guest=true", "zone_normal_holes=398"])] == [398]
    finally:
        store.close()
    # a guest below the rig's smallest, 32 MiB, a count its zone cannot hold, a guest that is not a bool
    err = fails(tmp_path, capsys, GUEST.replace("ram_mb = 64", "ram_mb = 31"))
    assert err.startswith("reclaimlab sweep: ") and "at least 8192" in err
    err = fails(tmp_path, capsys, GUEST.replace("[264, 398]", "[264, 9000]"))
    assert "spec.toml:11: impossible machine" in err and "zone_normal_holes: must be <= 6163, got 9000" in err
    err = fails(tmp_path, capsys, GUEST.replace("guest = true", 'guest = "yes"'))
    assert "spec.toml:10: grid.guest: 'yes' is not true or false" in err


def test_validations_holes_sweep_is_a_spec_of_7_3_guests_over_the_boots_range_of_holes():
    """validation/holes-sweep.toml (docs/validation.md "kswapd woken by
    boosts") checks whole: its traces are the replays', every cell a 7.3
    guest of 64 MiB available with the holes the traced boots spanned."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    sw = load_spec(root / "validation" / "holes-sweep.toml")
    assert len(sw.cells) == 4 * 2 * 11
    assert {c.recipe["workload"]["trace"] for c in sw.cells} == {
        str(root / "validation" / "traces" / f"{t}.trace.gz")
        for t in ("table-switch", "table-switch-0.7", "shifting-hotspot", "file-loop")}
    holes = sorted({c.dims["zone_normal_holes"] for c in sw.cells})
    assert holes[0] == 200 and 264 in holes and holes[-1] == 398
    cfg = engine_config_of(sw.cells[0].recipe)
    assert (cfg["kernel"], cfg["swap_kind"], cfg["swap_pages"]) == ("7.3", "ssd", 1024 * 256)

"""The real-kernel replays of validation/ as sessions (backend/replays.py):
GET /api/replays serves every replayed trace with its real boots' counters
and the simulator's, and POST /api/replays/{name}/sessions steps that trace
on the rig's machine, so a session run to the trace's end has the simulated
column of docs/validation.md."""
import csv
import re
from pathlib import Path

import httpx
import pytest

from backend import replays
from backend.recipes import Recipe
from backend.settings import Settings
from backend.sessions import SessionManager
from backend.store import SqliteStore
from tests.backend.conftest import live_server

VALIDATION = Path(__file__).resolve().parents[2] / "validation"


@pytest.fixture(scope="module")
def big_client(tmp_path_factory):
    # the default upload limit (64 MiB): the replays' traces are ~0.8 MB gzip'd
    live = live_server(Settings.from_env(data_dir=tmp_path_factory.mktemp("data"))).start()
    with httpx.Client(base_url=live.url, timeout=60) as c:
        yield c
    live.stop()


def test_every_replayed_trace_is_listed_with_its_real_boots_and_simulated_counters(big_client):
    listed = {r["name"]: r for r in big_client.get("/api/replays").json()}
    rows, second = [], set()
    for p in sorted((VALIDATION / "real").glob("*.csv")):
        with open(p, newline="") as fh:
            for r in csv.DictReader(fh):
                if r["rc"] == "0" and re.fullmatch(r"r\d+", r["tag"]):
                    rows.append({**r, "source": p.name})
                elif r["rc"] == "0" and r["tag"] in replays.SECOND_HOST_TAGS:
                    second.add(r["trace"])
    # and the traces only the second host booted
    assert set(listed) == {r["trace"] for r in rows} | second
    for r in rows:
        runs = [x for x in listed[r["trace"]]["runs"]
                if (x["release"], x["tag"], x["policy"]) == (r["kernel"], r["tag"],
                                                            {"classic": "lru", "mglru": "lru_gen"}[r["policy"]])]
        assert len(runs) == 1 and runs[0]["source"] == r["source"]
        assert runs[0]["counters"] == {c: int(r[c]) for c in replays.COUNTERS}
    zm = listed["zipf-mixed"]
    assert zm["scenario"] == "zipf-mixed" and zm["accesses"] == 300_000 and zm["kernels"] == ["6.1", "6.12", "7.3"]
    # a trace made by hand (validation/write_traces.py): no scenario, the rig's count of its records
    assert (listed["db-write"]["scenario"], listed["db-write"]["accesses"]) == (None, 300_000)
    assert zm["machine"] == {"ram_pages": 16384, "guest": True, "swap_kind": "ssd", "swap_pages": 65536,
                             "swappiness": 60, "readahead_pages": 32}
    # the rig sized these guests for 128 MiB (engine/kernels.py RIG_GUEST_MEM_MB, by the guest's mem_mb)
    assert listed["zipf-mixed-128m"]["machine"]["ram_pages"] == 128 * 256
    assert listed["zipf-mixed-128m"]["accesses"] == 600_000
    with open(VALIDATION / "sim.csv", newline="") as fh:
        sim = next(r for r in csv.DictReader(fh) if r["trace"] == "zipf-mixed" and r["profile"] == "6.12"
                   and r["policy"] == "mglru")
    got = next(x for x in zm["simulated"] if (x["kernel"], x["policy"]) == ("6.12", "lru_gen"))
    assert got["counters"] == {c: int(sim[c]) for c in replays.COUNTERS}


def test_a_replay_lists_the_second_hosts_boots_of_its_machine_apart_from_its_runs(big_client):
    """validation/real's `h2` boots (docs/validation.md "A second host") of a
    replay the first host booted are served as `second_host`, each once, never
    among `runs`; its `h2s1g` boots ran a 1 GiB swap disk, another machine,
    and are not served."""
    listed = {r["name"]: r for r in big_client.get("/api/replays").json()}
    with open(VALIDATION / "real" / "session-2026-12-07-host2.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["rc"] == "0"]
    h2 = [r for r in rows if r["tag"] == "h2" and listed[r["trace"]]["runs"]]
    assert len(h2) == 90
    for r in rows:
        if r["tag"] == "h2s1g" and listed[r["trace"]]["runs"]:
            assert all(x["tag"] == "h2" for x in listed[r["trace"]]["second_host"]["runs"])
    for r in h2:
        replay = listed[r["trace"]]
        assert replay["second_host"]["host"] == replays.SECOND_HOST
        got = [x for x in replay["second_host"]["runs"]
               if (x["release"], x["policy"]) == (r["kernel"], {"classic": "lru", "mglru": "lru_gen"}[r["policy"]])]
        assert len(got) == 1 and got[0]["tag"] == "h2"
        assert got[0]["counters"] == {c: int(r[c]) for c in replays.COUNTERS}
    assert all(x["tag"] != "h2" for rep in listed.values() for x in rep["runs"])
    assert sum(len(rep["second_host"]["runs"]) for rep in listed.values() if rep["runs"]) == 90
    # shifting-hotspot was booted on 6.12 on the second host only: 6.12 is one of its kernels
    sh = listed["shifting-hotspot"]
    assert "6.12" not in {x["kernel"] for x in sh["runs"]} and "6.12" in sh["kernels"]


def test_a_replay_session_is_the_rig_trace_on_the_rigs_machine_classic_beside_mglru(big_client):
    listed = {r["name"]: r for r in big_client.get("/api/replays").json()}
    r = big_client.post("/api/replays/stream-hot-anon/sessions", json={"kernel": "6.12"})
    assert r.status_code == 201, r.text
    recipe = big_client.get(f"/api/sessions/{r.json()['id']}/recipe").json()
    assert recipe["workload"]["trace_id"] == listed["stream-hot-anon"]["trace_id"]
    assert recipe["machine"]["guest"] is True and recipe["machine"]["swap_kind"] == "ssd"
    assert [(p["policy"], p["kernel"]) for p in recipe["policies"]] == [("lru", "6.12"), ("lru_gen", "6.12")]
    # the listing's trace_id is what an upload of the same bytes gets
    up = big_client.post("/api/traces", files={"file": ("x.trace.gz",
                                                        (VALIDATION / "traces" / "stream-hot-anon.trace.gz").read_bytes())})
    assert up.json()["trace_id"] == listed["stream-hot-anon"]["trace_id"]


@pytest.mark.parametrize("path,body,status", [("/api/replays/no-such-trace/sessions", {}, 404),
                                              ("/api/replays/..%2Fsecret/sessions", {}, 404),
                                              ("/api/replays/zipf-mixed/sessions", {"kernel": "5.15"}, 422),
                                              ("/api/replays/zipf-mixed/sessions", {"policy": "lru"}, 422)])
def test_a_replay_session_for_an_unknown_trace_or_kernel_is_refused(big_client, path, body, status):
    r = big_client.post(path, json=body)
    assert r.status_code == status, r.text
    assert big_client.get("/api/replays").status_code == 200


@pytest.mark.parametrize("name,kernel", [("stream-hot-anon", "7.3"), ("zipf-anon-128m", "6.1"), ("zipf-mixed-32m", "6.12")])
def test_a_replay_session_run_to_the_end_has_the_simulated_counters_of_docs_validation(tmp_path, name, kernel):
    """The session's panes are the machines validate.py simulates (guest_machine()
    of the profile for the RAM the rig sized the guest for, the replay's swap,
    swappiness and readahead), stepped instead of run to the end: the same
    counters, bit for bit (the engine is deterministic); a 32 MiB guest the
    second host alone booted too."""
    store = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(store, Settings(data_dir=tmp_path))
    try:
        replay = next(r for r in replays.load() if r["name"] == name)
        rec = m.upload_trace(replays.trace_path(name).read_bytes(), f"{name}.trace.gz")
        s, _ = m.create(Recipe.model_validate(replays.recipe(replay, kernel, rec.id)))
        cur = 0
        while not all(sim.done for sim in s.sims):
            cur, _ = s.step(cur, "access", 100_000, owner=True)
        for sim, policy in zip(s.sims, ("lru", "lru_gen")):
            v = sim.vmstat()
            got = {"pgscan": v["pgscan_kswapd"] + v["pgscan_direct"],
                   "pgsteal": v["pgsteal_kswapd"] + v["pgsteal_direct"], "pswpin": v["pswpin"]}
            want = next(x for x in replay["simulated"] if (x["kernel"], x["policy"]) == (kernel, policy))
            assert got == {k: want["counters"][k] for k in got}
    finally:
        store.close()


def test_a_replay_lists_its_traced_boots_holes_and_a_session_given_one_runs_that_boots_regime(big_client, tmp_path):
    """GET /api/replays names what each traced boot kept in ZONE_DMA32's other
    migratetypes' pageblocks (validation/pageblocks.csv, kswapd-boosts.csv);
    POST .../sessions with that boot's zone_normal_holes steps the guest of
    that regime: 7.3's table-switch classic boot kept 398, kswapd was woken
    by the fallbacks' boosts (try_to_claim_block()) and each was reclaimed
    whole, and the guest given 398 steals within 20 % of that boot and half as
    much again as on the profile's median (docs/validation.md "kswapd woken by
    boosts")."""
    listed = {r["name"]: r for r in big_client.get("/api/replays").json()}
    ts = listed["table-switch"]
    assert ts["profile_holes"] == {"6.1": 172, "6.12": 227, "7.3": 264}
    with open(VALIDATION / "kswapd-boosts.csv", newline="") as fh:
        boot = next(r for r in csv.DictReader(fh) if r["run"] == "table-switch.7.3.4+deb13-amd64.classic.ks")
    assert {"kernel": "7.3", "release": boot["kernel"], "policy": "lru", "tag": "ks", "holes": 398,
            "source": "kswapd-boosts.csv"} in ts["holes"]
    assert all(h["source"] in ("pageblocks.csv", "kswapd-boosts.csv") for r in listed.values() for h in r["holes"])
    r = big_client.post("/api/replays/table-switch/sessions", json={"kernel": "7.3", "zone_normal_holes": 398})
    assert r.status_code == 201, r.text
    recipe = big_client.get(f"/api/sessions/{r.json()['id']}/recipe").json()
    assert recipe["machine"]["zone_normal_holes"] == 398
    assert [c["zone_normal_holes"] for c in recipe["engine_config"]] == [398, 398]

    store = SqliteStore(tmp_path / "s.sqlite3")
    m = SessionManager(store, Settings(data_dir=tmp_path))
    try:
        rec = m.upload_trace(replays.trace_path("table-switch").read_bytes(), "table-switch.trace.gz")
        s, _ = m.create(Recipe.model_validate(replays.recipe(ts, "7.3", rec.id, 398)))
        cur = 0
        while not s.sims[0].done:
            cur, _ = s.step(cur, "access", 100_000, owner=True)
        v = s.sims[0].vmstat()
        steal = v["pgsteal_kswapd"] + v["pgsteal_direct"]
        real = int(boot["pgsteal_kswapd"]) + int(boot["pgsteal_direct"])
        median = next(x for x in ts["simulated"] if (x["kernel"], x["policy"]) == ("7.3", "lru"))
        assert 0.8 < steal / real < 1.2 and steal > 1.4 * median["counters"]["pgsteal"]
    finally:
        store.close()


@pytest.mark.parametrize("holes,msg", [(99999, "must be <= 6163, got 99999 (kernel 7.3's machine)"),
                                       (-1, "greater than or equal to 0"), ("many", "must be a number, not a str"),
                                       (2**40, "less than or equal to 16777216")])
def test_a_replay_given_holes_its_guest_cannot_hold_is_a_422_naming_the_field(big_client, holes, msg):
    r = big_client.post("/api/replays/table-switch/sessions", json={"kernel": "7.3", "zone_normal_holes": holes})
    assert r.status_code == 422, r.text
    err = r.json()["detail"][0]
    assert err["loc"] == ["body", "zone_normal_holes"] and msg in err["msg"]
    assert big_client.post("/api/replays/table-switch/sessions", json={"kernel": "7.3"}).status_code == 201


def test_a_replay_over_this_servers_trace_limits_is_a_422_naming_the_limit(tmp_path):
    live = live_server(Settings.from_env(data_dir=tmp_path, max_accesses=20_000)).start()
    try:
        with httpx.Client(base_url=live.url, timeout=60) as c:
            r = c.post("/api/replays/stream-hot-anon/sessions", json={})
            assert r.status_code == 422
            assert r.json()["detail"][0]["loc"] == ["path", "name"]
            assert "max_accesses is 20000" in r.json()["detail"][0]["msg"]
            assert c.get("/api/replays").status_code == 200
    finally:
        live.stop()


@pytest.mark.parametrize("name,tag,mb,swap_mb", [("zipf-mixed-32m", "h2s1g", 32, 1024), ("zipf-mixed-96m", "h2s1g", 96, 1024),
                                                  ("zipf-anon-x3", "h2", 64, 256)])
def test_a_trace_only_the_second_host_booted_is_served_on_its_boots_machine_with_no_runs(big_client, name, tag, mb, swap_mb):
    """The held-out exports only the second host booted (docs/validation.md "A
    second host", "Held out at 96 MiB", "Held out below 64 MiB") are listed on
    their boots' machine, the default knobs' (`h2`) where they have one (zipf-anon-x3
    has both disks), with every such boot under `second_host`, none among `runs`,
    and make validate's simulation of that machine."""
    replay = next(r for r in big_client.get("/api/replays").json() if r["name"] == name)
    rows = []
    for p in sorted((VALIDATION / "real").glob("*.csv")):
        with open(p, newline="") as fh:
            rows += [r for r in csv.DictReader(fh) if r["trace"] == name and r["rc"] == "0"]
    assert replay["runs"] == [] and replay["kernels"] == ["6.1", "6.12", "7.3"]
    assert (replay["machine"]["ram_pages"], replay["machine"]["swap_pages"]) == (mb * 256, swap_mb * 256)
    boots = replay["second_host"]["runs"]
    assert sorted((b["release"], b["policy"]) for b in boots) == sorted(
        (r["kernel"], {"classic": "lru", "mglru": "lru_gen"}[r["policy"]]) for r in rows if r["tag"] == tag)
    assert {b["tag"] for b in boots} == {tag}
    with open(VALIDATION / "sim.csv", newline="") as fh:
        sim = next(r for r in csv.DictReader(fh) if r["trace"] == name and r["tag"] == tag
                   and r["profile"] == "7.3" and r["policy"] == "mglru")
    got = next(x for x in replay["simulated"] if (x["kernel"], x["policy"]) == ("7.3", "lru_gen"))
    assert got["counters"] == {c: int(sim[c]) for c in replays.COUNTERS}


def test_a_trace_the_second_host_booted_again_lists_every_boot_of_its_machine(big_client):
    """anon-loop-192m's later boots on the second host (`h2s1g2`, `h2s1g3`:
    docs/validation.md "The loop's two outcomes") are served beside its first
    (`h2s1g`), each once, on the first boot's machine; its traced boots (`tr1`..)
    and the guests of other sizes are not."""
    replay = next(r for r in big_client.get("/api/replays").json() if r["name"] == "anon-loop-192m")
    boots = replay["second_host"]["runs"]
    six = sorted(b["tag"] for b in boots if (b["kernel"], b["policy"]) == ("6.1", "lru_gen"))
    assert six == ["h2s1g", "h2s1g2", "h2s1g3"]
    assert sorted(b["tag"] for b in boots if (b["kernel"], b["policy"]) == ("7.3", "lru")) == ["h2s1g", "h2s1g2"]
    assert not any(b["tag"].startswith("tr") for b in boots)
    with open(VALIDATION / "real" / "session-2026-12-07-192m-loop.csv", newline="") as fh:
        again = next(r for r in csv.DictReader(fh) if r["run"] == "anon-loop-192m.6.1.0-56-amd64.mglru.h2s1g3")
    got = next(b for b in boots if (b["kernel"], b["policy"], b["tag"]) == ("6.1", "lru_gen", "h2s1g3"))
    assert got["counters"] == {c: int(again[c]) for c in replays.COUNTERS}
    assert replay["runs"] == [] and replay["machine"]["ram_pages"] == 192 * 256
    # one simulated machine per profile and policy, the first boot's
    assert len(replay["simulated"]) == 6


def test_the_servers_copies_of_validates_rules_are_validates():
    """backend/replays.py keeps its own copies of validation/validate.py's rules
    (validation/ is data beside a checkout, not a package the server imports):
    a tag added to HOST2, a policy or a swap kind must be added to both."""
    from validation import validate as V
    assert replays.SECOND_HOST_TAGS == tuple(V.HOST2)
    assert (replays.POLICY, replays.SWAP_KIND, replays.PROFILE_OF) == (V.POLICY, V.SWAP_KIND, V.PROFILE_OF)

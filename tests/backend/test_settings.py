"""Limits come from the environment (RECLAIMLAB_<NAME>) and reach the API."""
from __future__ import annotations

from pathlib import Path

import httpx

from backend.settings import Settings
from tests.backend.conftest import live_server


def test_environment_overrides_every_kind_of_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("RECLAIMLAB_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("RECLAIMLAB_MAX_FRAMES", "4096")
    monkeypatch.setenv("RECLAIMLAB_IDLE_SECONDS", "2.5")
    monkeypatch.setenv("RECLAIMLAB_MAX_COUNT", "scan=7,access=99")
    s = Settings.from_env()
    assert s.data_dir == Path(tmp_path / "d") and s.max_frames == 4096 and s.idle_seconds == 2.5
    assert s.max_count["scan"] == 7 and s.max_count["access"] == 99 and s.max_count["shrink"] == 100_000


def test_a_lower_frame_limit_is_a_422_naming_the_field_and_the_limit(monkeypatch, tmp_path):
    monkeypatch.setenv("RECLAIMLAB_MAX_FRAMES", "4096")
    live = live_server(Settings.from_env(data_dir=tmp_path)).start()
    try:
        c = httpx.Client(base_url=live.url, timeout=30)
        assert c.get("/api/limits").json()["max_frames"] == 4096
        r = c.post("/api/sessions", json={"machine": {"ram_pages": 8192},
                                          "workload": {"scenario": "anon-loop"}})
        assert r.status_code == 422
        err = r.json()["detail"][0]
        assert err["loc"] == ["body", "machine", "ram_pages"] and "4096" in err["msg"]
        r = c.post("/api/sessions", json={"machine": {"ram_pages": 4096},
                                          "workload": {"scenario": "anon-loop", "accesses": 100}})
        assert r.status_code == 201
    finally:
        live.stop()

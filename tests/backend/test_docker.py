"""docker-compose.yml and the Dockerfile describe the same server (no Docker
engine runs here, so the files are checked by parsing them)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_the_server_on_port_8000_with_a_named_volume_for_the_store():
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    svc = doc["services"]["reclaimlab"]
    assert svc["build"] == "."
    assert "8000:8000" in svc["ports"]
    cmd = svc["command"]
    assert cmd[:2] == ["reclaimlab", "serve"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--data") + 1] == "/data"
    vol, _, mount = svc["volumes"][0].partition(":")
    assert mount == "/data" and vol in doc["volumes"]      # named, not a bind mount
    assert svc["environment"]["RECLAIMLAB_DATA"] == "/data"


def test_compose_dask_profile_runs_a_scheduler_and_workers_from_the_same_image():
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    svc = doc["services"]
    assert "profiles" not in svc["reclaimlab"]        # plain `up` is unchanged
    sched, worker = svc["dask-scheduler"], svc["dask-worker"]
    assert sched["profiles"] == worker["profiles"] == ["dask"]
    assert sched["image"] == worker["image"] == svc["reclaimlab"]["image"]
    assert sched["command"][:2] == ["dask", "scheduler"]
    port = sched["command"][sched["command"].index("--port") + 1]
    assert worker["command"][:3] == ["dask", "worker", f"tcp://dask-scheduler:{port}"]
    assert worker["depends_on"] == ["dask-scheduler"]
    # traces are read by the workers: the same path in the app and in every worker
    assert "./traces:/traces:ro" in worker["volumes"] and "./traces:/traces:ro" in svc["reclaimlab"]["volumes"]
    assert ".[dask]" in (ROOT / "Dockerfile").read_text()


def test_dockerfile_builds_the_engine_and_serves_on_all_interfaces():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "build-essential" in text and "pip install --no-cache-dir ." in text
    assert '"reclaimlab", "serve", "--host", "0.0.0.0"' in text and '"/data"' in text
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignore and "data" in ignore


def test_compose_file_validates_with_docker_compose_when_installed():
    exe = shutil.which("docker-compose")
    if exe is None:
        return  # the YAML checks above always run; this one needs the tool
    r = subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr

# Two commands for a fresh Debian machine with Python 3.11: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ENGINE := $(wildcard engine/*.pyx engine/*.pxd)

.PHONY: run test bench chromium build validate soak

$(PY):
	python3 -m venv $(VENV)

# Reinstall (and so rebuild the Cython extension) whenever the engine or the metadata changes.
$(STAMP): pyproject.toml setup.py $(ENGINE) | $(PY)
	$(PY) -m pip install -q -U pip setuptools wheel cython numpy
	$(PY) -m pip install -q -e '.[test]'
	$(PY) setup.py -q build_ext --inplace
	touch $@

build: $(STAMP)

# WORKERS=2: two server processes, sessions routed by id (docs/server.md "Several processes")
WORKERS ?= 1
run: $(STAMP)
	$(VENV)/bin/reclaimlab serve --host 127.0.0.1 --port 8000 --data data --workers $(WORKERS)

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

test: $(STAMP) chromium
	$(VENV)/bin/pytest -q
	node --test tests/frontend/

# Long reliability runs and the load test (not in CI): tests/reliability -m soak.
soak: $(STAMP)
	$(VENV)/bin/pytest -q -m soak tests/reliability

# libCacheSim (PyPI libcachesim) runs beside reclaimlab in bench/bench_wholeprocess.py.
bench: $(STAMP)
	$(PY) -m pip install -q 'libcachesim>=0.3'
	$(PY) bench/run_all.py

# Real kernels against the simulator (minutes; not part of make test): docs/validation.md
validate: $(STAMP)
	$(PY) validation/validate.py

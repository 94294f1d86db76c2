# make run    start the whole stack locally (Ctrl-C stops it); TSUBAME_SCALE="apps=3,auth=2"
#             starts that many instances of those services, workers or the gateway
# make scale  rescale the running stack of TSUBAME_DATA_DIR: make scale TSUBAME_SCALE="apps=1"
# make status the processes of the running stack of TSUBAME_DATA_DIR
# make test   every test: unit, integration and end-to-end
# make lint   ruff (lint and format); mypy --strict on shared/ and gateway/, mypy on services/
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tsubame-installed
TSUBAME_PORT ?= 8080
TSUBAME_DATA_DIR ?= ./.data
TSUBAME_SCALE ?=
PYTEST_ARGS ?=

.PHONY: run scale status test lint install

$(PY):
	bash scripts/bootstrap_venv.sh $(PYTHON) $(VENV)

# Reinstall only when the dependencies change.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	TSUBAME_PORT=$(TSUBAME_PORT) TSUBAME_DATA_DIR=$(TSUBAME_DATA_DIR) TSUBAME_SCALE="$(TSUBAME_SCALE)" $(PY) -m scripts.stack run

scale: install
	$(PY) -m scripts.stack scale --data-dir "$(TSUBAME_DATA_DIR)" $(TSUBAME_SCALE)

status: install
	$(PY) -m scripts.stack status --data-dir "$(TSUBAME_DATA_DIR)"

# `scripts.podman prepare`: packages and base images of the docker backend's engines
# (quick once done); `scripts.browser prepare`: chromium and its driver for the
# dashboard's browser tests. A failure shows again, with its reason, in the tests
# needing them.
test: install
	$(PY) -m scripts.rabbitmq
	-$(PY) -m scripts.podman prepare
	-$(PY) -m scripts.browser prepare
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict shared gateway
	$(VENV)/bin/mypy services

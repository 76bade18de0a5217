# Two commands on a fresh machine: `make run` (demo server) and `make test` (the test suite).
# Everything runs inside .venv, created on first use; requirement files are installed once and
# again only when they change (stamp files inside .venv).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
MANAGE := $(PY) manage.py

# The development defaults: DEBUG on unless the caller says otherwise (`make run DEBUG=0`).
DEBUG ?= 1
export DEBUG

RUNTIME_STAMP := $(VENV)/.installed-requirements
DEV_STAMP     := $(VENV)/.installed-requirements-dev

# Extra arguments: `make test PYTEST_ARGS="-k request_id"`, `make seed SEED_ARGS="--orders 5000 --force"`.
PYTEST_ARGS ?=
SEED_ARGS   ?=

.DEFAULT_GOAL := help
.PHONY: help run test migrate collectstatic seed check install install-dev

help:
	@echo "make run          create .venv, migrate, collect static, seed demo data, start web + worker + beat"
	@echo "make test         create .venv with dev requirements and run pytest"
	@echo "make migrate      apply database migrations"
	@echo "make seed         seed_demo (SEED_ARGS=\"--orders 100000 --seed 1 --force\")"
	@echo "make check        manage.py check and makemigrations --check --dry-run"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install -r requirements-dev.txt
	@touch $@

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

run: $(RUNTIME_STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput
	$(MANAGE) seed_demo --if-empty
	$(PY) scripts/devserver.py

test: $(DEV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

migrate: $(RUNTIME_STAMP)
	$(MANAGE) migrate --noinput

collectstatic: $(RUNTIME_STAMP)
	$(MANAGE) collectstatic --noinput

seed: migrate
	$(MANAGE) seed_demo $(SEED_ARGS)

check: $(RUNTIME_STAMP)
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

# Two commands for a newcomer: `make run` and `make test`. Both build .venv
# from the pinned requirements.txt when it is missing or out of date.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

# `make run` is the embedded default: debug on, SQLite, in-memory layer.
run: export DJANGO_DEBUG ?= 1

.PHONY: run test lint format migrations-check pytest

$(STAMP): requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	cp requirements.txt $@

run: $(STAMP)
	$(PYTHON) manage.py migrate --no-input
	$(PYTHON) manage.py ensure_demo_users
	$(PYTHON) manage.py runserver 127.0.0.1:8000

test: lint migrations-check pytest

pytest: $(STAMP)
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: $(STAMP)
	DJANGO_DEBUG=1 $(PYTHON) manage.py makemigrations --check --dry-run

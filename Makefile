# Two commands for a newcomer: `make run` and `make test`. Both build .venv
# from the pinned requirements.txt when it is missing or out of date.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

# `make run` is the embedded default: debug on, SQLite, in-memory layer.
run: export DJANGO_DEBUG ?= 1

# The services pass runs the suite again on PostgreSQL and Redis (what
# several processes share in production). CI always runs it; on a laptop it
# runs when both answer at these addresses.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/letstalk
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint typecheck format migrations-check pytest pytest-services

$(STAMP): requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	cp requirements.txt $@

# The certified OpenID provider of tests/certified_provider.py: Node packages from the lock file.
NODE_PACKAGES := tests/oidc_certified/node_modules
$(NODE_PACKAGES): tests/oidc_certified/package-lock.json
	npm ci --prefix tests/oidc_certified
	touch $@

# `make run PORT=8001` (or HOST=0.0.0.0) when 8000 is taken.
HOST ?= 127.0.0.1
PORT ?= 8000

run: $(STAMP)
	$(PYTHON) manage.py migrate --no-input
	$(PYTHON) manage.py ensure_demo_users
	$(PYTHON) manage.py runserver $(HOST):$(PORT)

test: lint typecheck migrations-check pytest pytest-services

# The embedded default: SQLite and the in-memory channel layer.
pytest: $(STAMP) $(NODE_PACKAGES)
	env -u DATABASE_URL -u REDIS_URL $(VENV)/bin/pytest -m "not services"

pytest-services: $(STAMP) $(NODE_PACKAGES)
	@if [ "$$CI" = "true" ] || $(PYTHON) -m tests.services "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"; then \
		echo "PostgreSQL + Redis pass"; \
		DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" $(VENV)/bin/pytest -p no:cacheprovider; \
	else \
		echo "PostgreSQL or Redis not reachable here: the PostgreSQL + Redis pass did not run (CI runs it)."; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs over the app packages (pyproject.toml [tool.mypy]); the plugin
# loads the settings, which need debug mode's development secrets here.
typecheck: $(STAMP)
	DJANGO_DEBUG=1 $(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: $(STAMP)
	DJANGO_DEBUG=1 $(PYTHON) manage.py makemigrations --check --dry-run

# Benchmark (not part of `make test`): start Let's Talk pinned to one CPU and run the
# load client's scenarios A, B, C against it; docs/PERFORMANCE.md. For example
#   make bench BENCH_ARGS="--layer redis --procs 2 --presets A"
# `make bench-compare` is the side-by-side run of docs/PERFORMANCE.md: Let's Talk's rows
# beside the original Node.js server and the bare Python ceiling, with the shared kit's
# Node load generator (needs Node 20; about 20 minutes).
# The README's screenshots, from the running site (docs/screenshots/).
.PHONY: screenshots
screenshots: $(STAMP)
	$(PYTHON) -m scripts.screenshots

.PHONY: bench bench-compare
BENCH_ARGS ?=
bench: $(STAMP)
	$(PYTHON) -m bench.local $(BENCH_ARGS)

COMPARE_ARGS ?= -s "A B C" -r 2 -t "uvicorn daphne granian hypercorn uvicorn-redis uvicorn-redis2" --retries 1 --quiet-wait 60
bench-compare: $(STAMP)
	bench/run_compare.sh $(COMPARE_ARGS)

# `make bench-search`: message search's query times (rooms.search.selector) and what its index
# adds to each message insert, on a PostgreSQL database of its own (bench/search.py). The first
# run generates 1,000,000 messages (a few minutes); later runs reuse them. For SQLite:
#   make bench-search SEARCH_ARGS="--database-url sqlite:////tmp/letstalk-search-bench.sqlite3"
.PHONY: bench-search
SEARCH_ARGS ?= --database-url postgres://postgres@127.0.0.1:5432/letstalk_search_bench
bench-search: $(STAMP)
	$(PYTHON) bench/search.py $(SEARCH_ARGS)

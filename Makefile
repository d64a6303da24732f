# Leadflow: `make run` serves the embedded default; `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
RUN_ENV := DEBUG=true SITE_URL=http://$(HOST):$(PORT)
# The suite runs with DEBUG off, as production does, so it brings a key of its own
# (settings refuse to start without one); an exported SECRET_KEY wins.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-leadflow-tests-only-not-a-secret}

.PHONY: run test lint format install install-dev migrate messages clean soak bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install messages
	mkdir -p var
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

# Compile the translations (English and Japanese) so the UI can switch language.
messages: install
	@if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
	  $(TEST_ENV) $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0; fi

run: migrate
	@if test -f var/.seeded; then $(RUN_ENV) $(BIN)/python manage.py seed_demo --logins-only; \
	else $(RUN_ENV) $(BIN)/python manage.py seed_demo && touch var/.seeded; fi
	@echo ""
	@echo "Leadflow is running at http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	@echo "Web server, Celery worker and beat start together; Ctrl-C stops all three."
	@echo ""
	$(RUN_ENV) $(BIN)/python manage.py run_all --addr $(HOST):$(PORT)

test: install-dev messages
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

# A few minutes of mixed traffic against its own gunicorn, Celery worker and beat, then a check
# that the database holds exactly what the clients were told was stored (README, "Soak test").
# PostgreSQL server from DATABASE_URL; SOAK_DATABASE (default leadflow_soak, dropped first),
# SOAK_REDIS_URL (default db 7), SOAK_SECONDS (default 180), SOAK_MAX_REQUESTS.
soak: install-dev messages
	$(BIN)/python -m soak

# SPEC §9's figures at 10k, 100k and 1M leads, each beside its baseline (README, "Performance").
# PostgreSQL server from DATABASE_URL; BENCH_SIZES=10k,100k picks tiers (default all three).
bench: install-dev messages
	$(TEST_ENV) DEBUG=false $(BIN)/python -m bench

# Lint as CI does: ruff's rules, the formatter's layout, and no model change without its migration.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var/*.sqlite3* var/.seeded staticfiles

# VideoHost: `make run` serves the site with demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run serve test lint format lock clean bench

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  VideoHost is running at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@echo
	@# The background worker (video processing) runs beside the server and stops with it.
	$(BIN)/python manage.py worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python -m videohost.server -b $(HOST) -p $(PORT)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

# The figures of docs/PERFORMANCE.md: upload memory (2 GiB, against plain daphne), the media
# pipeline's overhead over bare ffmpeg, and issue 5's real-time and delivery benchmarks (room
# fan-out, sync accuracy, idle connections, chat, API list, media bytes) over throw-away
# PostgreSQL databases and Redis databases 8-13. Takes about an hour and ~10 GiB of temporary
# disk; BENCH_QUICK=1 is a smoke run of every script with small sizes (minutes).
BENCH_QUICK ?=
export BENCH_QUICK
bench: setup
	@# wrk drives the HTTP benchmarks; nginx is media_bytes.py's baseline (and the deploy's).
	@command -v wrk >/dev/null 2>&1 && { command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1 || \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk nginx-light \
		|| { echo "make bench needs wrk and nginx: apt-get install wrk nginx-light"; exit 1; }; }
	$(BIN)/python bench/upload_memory.py $(if $(BENCH_QUICK),--size-mib 64 --paths multipart)
	$(BIN)/python bench/pipeline_overhead.py $(if $(BENCH_QUICK),--seconds 10 --rounds 1)
	$(BIN)/python bench/room_fanout.py
	$(BIN)/python bench/sync_accuracy.py
	$(BIN)/python bench/idle_connections.py
	$(BIN)/python bench/chat.py
	$(BIN)/python bench/api_list.py
	$(BIN)/python bench/media_bytes.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every dependency after editing pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --strip-extras -o requirements.lock pyproject.toml
	sed -i '/^--extra-index-url/d;/^--find-links/d' requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Trợ lý ĐTBD — the two commands a fresh machine needs: `make run` and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)

.PHONY: install index run test test-fast browser eval eval-llm bench lint serve

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[model,st-test,dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Ingest corpus/ into the index (a no-op when nothing changed), then start the chat app.
index: install
	$(BIN)/dtbd ingest

run: index
	$(BIN)/dtbd ui

serve: index
	$(BIN)/dtbd serve

# Headless Chromium for the browser test (Debian packages; needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# The whole test suite, LLM tests included (what CI runs).
test: install browser
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

eval: index
	$(BIN)/dtbd eval --llm none --json var/eval/extractive.json --html var/eval/extractive.html

eval-llm: index
	$(BIN)/dtbd eval --llm local --json var/eval/llm.json --html var/eval/llm.html

bench: install
	$(BIN)/python -m eval.bench

lint: install
	$(BIN)/ruff check assistant ingest eval tests
	$(BIN)/mypy assistant ingest eval

# Trợ lý ĐTBD — the two commands a fresh machine needs: `make run` and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)

.PHONY: install sysdeps bench-formats index run test test-fast browser eval eval-llm bench lint serve eval-real-dev eval-genres screenshots bench-legal

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[model,st-test,dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: sysdeps $(STAMP)

# Converters for the office formats (Debian packages; needs root or sudo; skipped when present):
# LibreOffice for .doc, Ghostscript + Tesseract with its Vietnamese model for scans, DejaVu fonts
# for the tests' rendered scans.
SYSDEPS_MISSING = $(strip \
  $(if $(shell command -v soffice),,libreoffice-writer-nogui) \
  $(if $(shell command -v gs),,ghostscript) \
  $(if $(shell command -v tesseract),,tesseract-ocr) \
  $(if $(wildcard /usr/share/tesseract-ocr/*/tessdata/vie.traineddata),,tesseract-ocr-vie) \
  $(if $(wildcard /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf),,fonts-dejavu-core))
sysdeps:
	@if [ -n "$(SYSDEPS_MISSING)" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "apt-get install $(SYSDEPS_MISSING)"; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSDEPS_MISSING) >/dev/null; \
	fi

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

# The whole test suite, LLM tests included (what CI runs); the slowest tests listed at the end.
test: install browser
	$(BIN)/python -m pytest -q --durations=15

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

eval: index
	$(BIN)/dtbd eval --llm none --json var/eval/extractive.json --html var/eval/extractive.html

eval-llm: index
	$(BIN)/dtbd eval --llm local --json var/eval/llm.json --html var/eval/llm.html

# Documents nobody here wrote (issue 10): each set gets its own index; only its .txt files are ingested.
REAL_DEV ?= ../shared/real-dev
eval-real-dev: install
	@if [ ! -d "$(REAL_DEV)" ]; then echo "eval-real-dev: SKIPPED, $(REAL_DEV) is not present"; exit 0; fi; \
	export DTBD_CORPUS_DIR=$(REAL_DEV) DTBD_INDEX_DIR=var/index-real-dev; \
	$(BIN)/dtbd ingest $(REAL_DEV)/*.txt && \
	$(BIN)/dtbd eval --llm none --gold eval/gold_real_dev.yaml --json var/eval/real-dev.json --html var/eval/real-dev.html

eval-genres: install
	export DTBD_CORPUS_DIR=tests/fixtures/genres DTBD_INDEX_DIR=var/index-genres; \
	$(BIN)/dtbd ingest tests/fixtures/genres/*.txt && \
	$(BIN)/dtbd eval --llm none --gold eval/gold_genres.yaml --json var/eval/genres.json --html var/eval/genres.html

bench: install
	$(BIN)/python -m eval.bench
	$(BIN)/python -m eval.bench_formats --json var/eval/bench_formats.json

# Real legal text only (../shared/bench-legal, never copied): regulation files ingest, ALQAC R@k.
bench-legal: install
	$(BIN)/python -m eval.bench --legal-only

# OCR accuracy (CER) and speed on our own scans, .doc conversion time (~3 min).
bench-formats: install
	$(BIN)/python -m eval.bench_formats --json var/eval/bench_formats.json

lint: install
	$(BIN)/ruff check assistant ingest eval tests
	$(BIN)/mypy assistant ingest eval

# The app's screenshots in docs/ (README, docs/ui.md), taken by the browser tests themselves.
screenshots: install browser
	DTBD_SCREENSHOT_DIR=docs $(BIN)/python -m pytest -q tests/e2e/test_browser.py -m "not slow" -k "highlighted or marker or phone"

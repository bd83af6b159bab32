# The README's commands. Every target creates and uses .venv itself.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DB     ?= data/pbxlens.duckdb
PORT   ?= 8050

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pbxlens demo --db $(DB) --port $(PORT)

# The browser tests need Debian's chromium and chromedriver, the operations-store tests Debian's
# PostgreSQL server binaries (the tests start a throwaway cluster themselves), the scheduled-PDF
# tests poppler's pdftotext: installed when missing (as root, or with sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

test: $(STAMP)
	@missing=""; \
	[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || missing="chromium chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/pdftotext ] || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update && $(SUDO) apt-get install -y $$missing; fi
	$(PY) -m pytest -n 2 --dist loadscope --no-loadscope-reorder

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/vulture pbxlens vulture_whitelist.py --exclude pbxlens/store/migrations
	$(PY) -m pytest -q -p no:cacheprovider tests/test_architecture.py  # the import rules

# Each script prints its table of figures and ratios; BENCH=name runs one (e.g. BENCH=billing).
BENCHES ?= simulate ingest reports coincidences callcenter activity billing missed webhook ui scale ops views

bench: $(STAMP)
	@rc=0; for b in $(if $(BENCH),$(BENCH),$(BENCHES)); do \
		if [ -f bench/$$b.py ]; then echo "== bench/$$b.py"; $(PY) bench/$$b.py || rc=1; fi; \
	done; exit $$rc

clean:
	rm -rf $(VENV) bench/out .pytest_cache .ruff_cache

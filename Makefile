# Two entry points for a fresh Debian machine: `make demo` and `make test`.
# Both install what they need (Debian packages, a virtualenv) and are quiet when it is there.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
APT_PKGS := prometheus prometheus-alertmanager chromium gcc python3-dev
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck pytest deps apt venv clean bench fuzz-scanner

demo: deps
	@$(BIN)/python -m sloctl.demo

test: deps lint typecheck pytest

lint:
	@$(BIN)/ruff check --quiet sloctl dashboard tests bench

typecheck:
	@$(BIN)/mypy --no-error-summary sloctl dashboard bench

# pytest exits 5 when it collected no test: that is a failure, never a silent pass.
pytest:
	@$(BIN)/pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

deps: apt venv

apt:
	@missing=""; \
	for b in prometheus promtool prometheus-alertmanager chromium gcc; do \
	  command -v $$b >/dev/null 2>&1 || missing=1; done; \
	$(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1 || missing=1; \
	$(PYTHON) -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' \
	  >/dev/null 2>&1 || missing=1; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(APT_PKGS) python3-venv"; \
	  $(SUDO) apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    $(APT_PKGS) python3-venv >/dev/null; \
	fi

venv: $(VENV)/.installed

# The C span scanner is compiled by this install: rebuild when its source changes.
$(VENV)/.installed: pyproject.toml sloctl/sources/_otlpscan.c
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@echo "installing Python dependencies into $(VENV)"
	@( $(BIN)/pip install -q --disable-pip-version-check --upgrade pip && \
	   $(BIN)/pip install -q --disable-pip-version-check -e '.[dev]' ) > $(VENV)/pip.log 2>&1 \
	  || { cat $(VENV)/pip.log; echo "pip install failed (log: $(VENV)/pip.log)" >&2; exit 1; }
	@touch $@

bench: deps
	@$(BIN)/python bench/eval_cycle.py

# The C span scanner under AddressSanitizer + UBSan, fed mutated payloads (FUZZ_SECONDS=60).
FUZZ_SECONDS ?= 60
fuzz-scanner: deps
	@d=$$(mktemp -d) && \
	gcc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	  -shared -fPIC -I$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])') \
	  sloctl/sources/_otlpscan.c -o $$d/_otlpscan.so && \
	LD_PRELOAD=$$(gcc -print-file-name=libasan.so):$$(gcc -print-file-name=libubsan.so) \
	ASAN_OPTIONS=detect_leaks=0 $(BIN)/python tests/fuzz/fuzz_scanner.py $$d/_otlpscan.so $(FUZZ_SECONDS); \
	rc=$$?; rm -rf $$d; exit $$rc

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache

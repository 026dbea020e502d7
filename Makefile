# Two entry points for a fresh Debian machine: `make demo` and `make test`.
# Both install what they need (Debian packages, a virtualenv) and are quiet when it is there.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
APT_PKGS := prometheus prometheus-alertmanager chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck pytest deps apt venv clean bench

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
	for b in prometheus promtool prometheus-alertmanager chromium; do \
	  command -v $$b >/dev/null 2>&1 || missing=1; done; \
	$(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1 || missing=1; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(APT_PKGS) python3-venv"; \
	  $(SUDO) apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    $(APT_PKGS) python3-venv >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@echo "installing Python dependencies into $(VENV)"
	@( $(BIN)/pip install -q --disable-pip-version-check --upgrade pip && \
	   $(BIN)/pip install -q --disable-pip-version-check -e '.[dev]' ) > $(VENV)/pip.log 2>&1 \
	  || { cat $(VENV)/pip.log; echo "pip install failed (log: $(VENV)/pip.log)" >&2; exit 1; }
	@touch $@

bench: deps
	@$(BIN)/python bench/eval_cycle.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache

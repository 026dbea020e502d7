# Two entry points for a fresh Debian machine: `make demo` and `make test`.
# Both install what they need (Debian packages, uv, a virtualenv from uv.lock) and are quiet when
# it is there. `make lock` moves the lock deliberately; CI (`.ci/run`) also runs `test-pythons`.

PYTHON     ?= python3
UV_VERSION := 0.13.10
VENV       := .venv
BIN        := $(VENV)/bin
TOOLS      := .venv-tools
UV         := $(TOOLS)/bin/uv
UV_STAMP   := $(TOOLS)/.uv-$(UV_VERSION)
# every extra (serve, dashboard, postgres: `all`) and the tools of the tests and the demo
EXTRAS     := --extra dev --extra all
APT_PKGS   := prometheus prometheus-alertmanager chromium postgresql victoria-metrics
# PostgreSQL 15 (Debian 12): the store's tests run on a throwaway cluster (tests/support/postgres.py)
PG_BIN     := /usr/lib/postgresql/15/bin
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Other supported Pythons that CI tests (test-pythons); each must be on this machine.
TEST_PYTHONS ?= 3.12 3.13

# uv uses this machine's Python and never downloads one; it copies files out of its cache
# (the cache and the work tree are often on different file systems).
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: demo test lint typecheck pytest deps apt venv lock-check lock upgrade test-pythons \
	clean bench wheel

demo: deps
	@$(BIN)/python -m sloctl.demo

test: deps lint typecheck pytest

lint:
	@$(BIN)/ruff check --quiet sloctl dashboard tests bench

typecheck:
	@$(BIN)/mypy --no-error-summary sloctl bench

# pytest exits 5 when it collected no test: that is a failure, never a silent pass.
# --durations lists the slowest tests of every run (the suite is kept well under 15 minutes).
# PYTEST_ARGS narrows a run (e.g. `make test-pythons PYTEST_ARGS=tests/unit`).
PYTEST_ARGS ?=
define run_pytest
$(1)/pytest -q -p no:cacheprovider --durations=25 $(PYTEST_ARGS); rc=$$?; \
if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc
endef

pytest:
	@$(call run_pytest,$(BIN))

deps: apt lock-check venv

apt:
	@missing=""; \
	for b in prometheus promtool prometheus-alertmanager chromium victoria-metrics; do \
	  command -v $$b >/dev/null 2>&1 || missing=1; done; \
	[ -x $(PG_BIN)/initdb ] && [ -x $(PG_BIN)/pg_ctl ] || missing=1; \
	$(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1 || missing=1; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(APT_PKGS) python3-venv"; \
	  $(SUDO) apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    $(APT_PKGS) python3-venv >/dev/null; \
	fi

# uv itself, pinned, from PyPI into its own small virtualenv (nothing but Debian's python3).
$(UV_STAMP):
	@echo "installing uv $(UV_VERSION) into $(TOOLS)"
	@rm -rf $(TOOLS) && $(PYTHON) -m venv $(TOOLS) && \
	( $(TOOLS)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION) \
	  > $(TOOLS)/pip.log 2>&1 || { cat $(TOOLS)/pip.log; echo "installing uv failed" >&2; exit 1; } )
	@touch $@

# The lock must match pyproject.toml: CI fails otherwise (no network needed when it does).
lock-check: $(UV_STAMP)
	@$(UV) lock --check --quiet --python $(PYTHON) 2> $(TOOLS)/lock.log || { cat $(TOOLS)/lock.log >&2; \
	  echo "uv.lock does not match pyproject.toml: run 'make lock' and commit uv.lock" >&2; exit 1; }

# Install exactly what uv.lock says (the project editable, extras dev and postgres) into DIR with
# the Python PY, again whenever uv.lock or pyproject.toml is newer than the last install.
define sync_env
if [ ! -f $(1)/.synced ] || [ uv.lock -nt $(1)/.synced ] || [ pyproject.toml -nt $(1)/.synced ] \
   || [ $(UV_STAMP) -nt $(1)/.synced ]; then \
  echo "installing Python dependencies from uv.lock into $(1)"; \
  UV_PROJECT_ENVIRONMENT=$(1) $(UV) sync --locked $(EXTRAS) --python $(2) --quiet \
    > $(TOOLS)/sync.log 2>&1 || { cat $(TOOLS)/sync.log; echo "uv sync into $(1) failed" >&2; exit 1; }; \
  touch $(1)/.synced; \
fi
endef

venv: $(UV_STAMP)
	@$(call sync_env,$(VENV),$(PYTHON))

# Moving the lock is deliberate: `make lock` after editing pyproject.toml (other pins stay),
# `make upgrade` to take the newest versions pyproject.toml allows. Commit uv.lock either way.
lock: $(UV_STAMP)
	@$(UV) lock --python $(PYTHON)

upgrade: $(UV_STAMP)
	@$(UV) lock --upgrade --python $(PYTHON)

# The whole pytest suite again under each of TEST_PYTHONS, each in its own .venv-3.X.
test-pythons: apt lock-check
	@for v in $(TEST_PYTHONS); do \
	  py=""; \
	  for c in $$(command -v python$$v) $(HOME)/.pyenv/versions/$$v.*/bin/python$$v; do \
	    if [ -x "$$c" ] && "$$c" -c '' >/dev/null 2>&1; then py=$$c; break; fi; \
	  done; \
	  if [ -z "$$py" ]; then echo "Python $$v not found (python$$v on PATH, or pyenv's):" \
	    "install it or leave it out of TEST_PYTHONS" >&2; exit 1; fi; \
	  $(call sync_env,.venv-$$v,$$py); \
	  echo "pytest on Python $$v ($$py)"; \
	  ( $(call run_pytest,.venv-$$v/bin) ) || exit 1; \
	done

bench: deps
	@$(BIN)/python bench/eval_cycle.py

# The wheel, into dist/ (README: Installing). setuptools' build/ is removed before and after: a
# module deleted since the last build would otherwise ship from it.
wheel: $(UV_STAMP)
	@rm -rf build && $(UV) build --wheel --quiet --out-dir dist && rm -rf build && ls dist/*.whl

clean:
	rm -rf $(VENV) $(TOOLS) .venv-3.* .demo .pytest_cache .mypy_cache .ruff_cache build dist

# Two entry points: `make dev` runs signoff on its embedded default (a local Slack in the
# browser, the offline model), `make check` runs lint, type check and every test. Both
# create .venv from the project's own files first. `make demo` is the scripted terminal tour.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev demo check browser lint typecheck test soak bench clean

# An editable install compiles none of signoff's modules, and where PYTHONDONTWRITEBYTECODE
# is set (this machine sets it) no process writes what it compiled: each `signoff` process
# then compiles the 160-220 modules of signoff it imports again (0.3 s of CPU for a command,
# 0.5 s for a bot), and the tests start hundreds. Compiled here, before the targets that
# start many; compileall redoes only the files that changed. The tests may also keep
# pytest's rewritten test modules, so a second run does not rewrite them.
COMPILE := $(BIN)/python -m compileall -q -j 0 bot sessions approvals agent_core localslack

# pip speaks as it goes (what it collects, builds and installs), and the time is printed at
# the end: on a fresh clone this is the minute a person would otherwise wait in silence.
$(STAMP): pyproject.toml
	@echo "==> setting up $(VENV): signoff and its dev tools (about a minute on a fresh clone)"
	@t0=$$(date +%s); \
	  $(PY) -m venv $(VENV) && \
	  echo "==> [1/2] pip itself" && \
	  $(BIN)/pip install --upgrade --progress-bar off pip | grep -v '^Requirement already satisfied' ; \
	  echo "==> [2/2] signoff with its dependencies and dev tools" && \
	  $(BIN)/pip install --progress-bar off -e '.[dev]' && \
	  touch $(STAMP) && \
	  echo "==> $(VENV) ready in $$(( $$(date +%s) - t0 )) s"

dev: $(STAMP)
	$(COMPILE) > /dev/null
	$(BIN)/signoff dev

demo: $(STAMP)
	$(COMPILE) > /dev/null
	$(BIN)/signoff demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# `mypy` checks the packages, bench/ and tests/*.py (pyproject); every directory under tests/
# is a rootless pytest directory, most with a conftest.py of its own, and one mypy run can hold
# only one module named conftest: each is checked in a run of its own, with its own cache,
# two runs at a time.
typecheck: $(STAMP)
	@{ echo .; ls -d tests/*/ | grep -v __pycache__; } | sed 's:/$$::' | xargs -P 2 -I{} sh -c '\
	  if [ {} = . ]; then out=$$($(BIN)/mypy 2>&1); \
	  else out=$$(MYPYPATH={} $(BIN)/mypy --cache-dir .mypy_cache/$$(echo {} | tr / -) {} 2>&1); fi; \
	  rc=$$?; echo "mypy {}: $$out"; exit $$rc'

# Two test processes per core (pytest-xdist): most tests wait on sockets, subprocesses and
# deadlines rather than compute: on 2 cores, -n 2 kept 0.9 of them busy on average and
# took 314 s; -n 4 ran the same suite in 191 s (an earlier, smaller suite). Today's takes
# about 3½ minutes (README.md), and -n 6 no less than -n 4: it is the CPU that is short now.
test: $(STAMP)
	$(COMPILE) bench tests > /dev/null
	env -u PYTHONDONTWRITEBYTECODE -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy $(BIN)/pytest -n $$(( 2 * $$(nproc) )); \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# The chaos tests of tests/e2e/test_chaos*.py for 10 minutes each instead of CI's 20-25 s (not in check).
soak: $(STAMP)
	$(COMPILE) bench tests > /dev/null
	SIGNOFF_CHAOS_SECONDS=600 env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy $(BIN)/pytest tests/e2e/test_chaos.py tests/e2e/test_chaos_governance.py -p no:cacheprovider

# Debian's Chromium for tests/browser, when missing (needs root or sudo; without it the
# browser tests skip and say why).
browser:
	@.ci/install-browser || echo "warning: could not install chromium; browser tests will skip"

check: browser lint typecheck test

bench: $(STAMP)
	$(COMPILE) bench > /dev/null
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

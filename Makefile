# The project's front door. `make report` and `make test` build .venv from nothing on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= data/sample/portfolio.yaml

.PHONY: help setup browser report test lab validate sample notebook-outputs bench lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# uv installs the locked, hash-checked packages with parallel downloads (about 3.5x faster than pip here) and
# compiles their bytecode at install, as pip does, so that the first kernels of the test suite do not.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)  ## build .venv from the lock file

report: $(STAMP)  ## run the full notebook suite on the sample client into reports/
	$(BIN)/portfolio-kit run $(CONFIG)

# Debian's chromium prints the PDF (`portfolio-kit run --pdf`) and opens the report in the browser test.
# PORTFOLIO_KIT_SKIP_BROWSER=1 skips both the install and that test, explicitly.
browser:  ## install headless Chromium (Debian's chromium) unless it is on PATH
	@if [ "$$PORTFOLIO_KIT_SKIP_BROWSER" = 1 ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; \
	then :; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "make browser: chromium is not installed; as root run: apt-get update && apt-get install -y chromium" >&2; \
	  echo "  (or set PORTFOLIO_KIT_SKIP_BROWSER=1 to test without the browser test)" >&2; exit 1; \
	else \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

test: $(STAMP) browser  ## run the whole test suite, notebooks included (and the report in headless Chromium)
	$(BIN)/python -m pytest

lab: $(STAMP)  ## open JupyterLab on the notebooks (as root too, e.g. in a container)
	$(BIN)/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

validate: $(STAMP)  ## check a client's data: make validate CONFIG=path/to/portfolio.yaml
	$(BIN)/portfolio-kit validate $(CONFIG)

sample: $(STAMP)  ## regenerate the committed sample client in data/sample/
	$(BIN)/portfolio-kit sample --out data/sample

notebook-outputs: $(STAMP)  ## re-execute notebooks on the sample and store the key-figure outputs nbval compares
	$(BIN)/python -m portfolio_kit.runner.notebook_outputs notebooks

bench: $(STAMP)  ## run the benchmarks (minutes; see benchmarks/README.md)
	$(BIN)/python -m benchmarks.run

lock: $(STAMP)  ## re-resolve requirements.lock from pyproject.toml (needs network)
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 --generate-hashes \
	    --universal -o requirements.lock

clean:  ## remove .venv (reports are never deleted by make)
	rm -rf $(VENV)

# Two commands from a fresh clone (only Python 3.11 needed):
#   make book   build the HTML book into _build/html (creates .venv from requirements.txt)
#   make test   every test: unit tests, nbval over book/, the book build with warnings as errors
# Also: make lab (JupyterLab), make bench (benchmarks/*.py), make clean.

PYTHON  ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.requirements-installed
# Two pytest-xdist workers: nbval and the book build run side by side (see tests/conftest.py).
WORKERS ?= 2
PYTEST_ARGS ?=
# One BLAS thread per process (inherited by notebook kernels): the book's matrices are small,
# and two test workers on two cores with two BLAS threads each mostly wait on each other
# (measured: a chapter's training cell 3 s with one thread, up to 66 s with two under load).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: book test lab bench clean venv student

venv: $(STAMP)

# The venv itself: made once with the system's Python 3.11.
$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# (Re)install the pinned requirements whenever requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

book: $(STAMP)
	$(BIN)/jupyter-book clean --all .
	$(BIN)/jupyter-book build . --all -n --keep-going
	@echo
	@echo "Book built. Open file://$(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile --nbval-lax --timeout=1800 \
		-p no:cacheprovider -ra tests book $(PYTEST_ARGS)

# Student edition: every chapter with solutions stubbed out, into student/ (see book/instructors.md).
student: $(STAMP)
	$(BIN)/python -m rnnbook.assign --out student/

lab: $(STAMP)
	$(BIN)/jupyter lab book/

bench: $(STAMP)
	@set -e; for script in benchmarks/*.py; do \
		[ -e "$$script" ] || { echo "no benchmarks yet"; break; }; \
		echo "== $$script"; $(BIN)/python "$$script"; done

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -not -path './$(VENV)/*' -prune -exec rm -rf {} +

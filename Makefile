# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install taguette demo test lab bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
# An editable install skips pyproject's data-files, so the JupyterLab setting that saves
# widget state with notebooks (jupyter/qualcode-widgets.json) is copied in here.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d

$(VENV)/.installed: pyproject.toml jupyter/qualcode-widgets.json | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	mkdir -p $(LAB_OVERRIDES) && cp jupyter/qualcode-widgets.json $(LAB_OVERRIDES)/
	touch $@

install: $(VENV)/.installed

# Taguette (a real client for the Taguette-import tests) pins SQLAlchemy 1.4 and
# qualcode needs 2.x, so it gets a virtual environment of its own.
TAGUETTE := $(VENV)/taguette/bin/python
$(TAGUETTE): | $(BIN)/python
	$(PYTHON) -m venv $(VENV)/taguette
	$(VENV)/taguette/bin/python -m pip install --quiet 'taguette==1.5.2' \
	  || { rm -rf $(VENV)/taguette; echo "Taguette could not be installed; its import tests will be skipped"; }

taguette: $(TAGUETTE)

demo: install
	$(BIN)/qualcode demo --out out/

test: install taguette
	$(BIN)/python -m pytest -n 2 -q

bench: install
	$(BIN)/python benchmarks/import_bench.py

lab: install
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) out .pytest_cache

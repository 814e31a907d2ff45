# The two commands of the README. Both create .venv in the repository root when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install lint clean

$(BIN)/cmrseg: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	touch $(BIN)/cmrseg

install: $(BIN)/cmrseg

demo: install
	mkdir -p demo-output
	@echo "The example is one cine frame (3D), so it is segmented with --model cine; without --model, predict uses"
	@echo "the cine model for 4D cines and the default (any-contrast) model for everything else."
	$(BIN)/cmrseg predict examples/mnms2_001_SA_ED.nii.gz -o demo-output/mnms2_001_SA_ED_labels.nii.gz --model cine --overwrite
	mkdir -p demo-output/ref demo-output/pred
	cp examples/mnms2_001_SA_ED_gt.nii.gz demo-output/ref/mnms2_001_SA_ED.nii.gz
	cp demo-output/mnms2_001_SA_ED_labels.nii.gz demo-output/pred/mnms2_001_SA_ED.nii.gz
	$(BIN)/cmrseg evaluate demo-output/pred demo-output/ref --images examples -o demo-output --overwrite
	$(BIN)/cmrseg report examples/mnms2_001_SA_ED.nii.gz --labels demo-output/mnms2_001_SA_ED_labels.nii.gz \
		--metrics demo-output/metrics.csv -o demo-output/report --overwrite
	@echo "Label map: demo-output/mnms2_001_SA_ED_labels.nii.gz (0 bg, 1 RV, 2 MYO, 3 LV)"
	@echo "Reports: open demo-output/report/index.html (the study) and demo-output/index.html (the scores) in a browser"

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf demo-output .pytest_cache

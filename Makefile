# One command surface for people and CI (.ci/run calls these targets).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INDEX_DIR ?= index
BIND ?= 127.0.0.1:8000

.PHONY: install test test-all lint format serve demo bench soak clean

$(BIN)/vnsearch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/vnsearch  ## create .venv and install vnsearch with its dev extras

test: install  ## the default test run (fast; what CI runs)
	$(BIN)/python -m pytest -q -m "not slow"

test-all: install  ## everything, including slow tests over ../shared/corpus
	$(BIN)/python -m pytest -q

lint: install  ## ruff, and mypy over indexer/ and search_api/ (config in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: install  ## build the shipped sample index and serve it on $(BIND)
	$(BIN)/vnsearch index build data/sample/articles.jsonl data/sample/pages --index-dir $(INDEX_DIR)
	$(BIN)/vnsearch serve --index-dir $(INDEX_DIR) --bind $(BIND)

serve: install  ## serve an existing index
	$(BIN)/vnsearch serve --index-dir $(INDEX_DIR) --bind $(BIND)

bench: install  ## indexing and relevance benchmarks beside peers (../shared/corpus, ../shared/eval)
	$(BIN)/python bench/index_throughput.py
	$(BIN)/python bench/relevance.py
	$(BIN)/python bench/questions.py --split both --engines vnsearch,sqlite-fts5,tantivy,bm25-syllables

SOAK_ARGS ?= --seconds 600
soak: install  ## steady mixed traffic through gunicorn on loopback (docs/reliability.md)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis *.egg-info

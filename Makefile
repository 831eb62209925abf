# Targets a newcomer can guess. `run` and `test` do all their own set-up on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test test-fast lint typecheck check schemas kafka bench setup clean help

help:
	@echo "make run        run the whole system locally (real Kafka, three services, SMTP capture, SMS sink)"
	@echo "make test       run the whole test suite (unit, service, integration and e2e on a real broker)"
	@echo "make test-fast  unit and service tests only (no broker)"
	@echo "make lint       ruff;  make typecheck: mypy --strict;  make check: both"
	@echo "make schemas    export the JSON Schema of every event into docs/schemas"
	@echo "make kafka      run only the local Kafka broker (foreground)"
	@echo "make bench      end-to-end benchmarks on a real broker (prints the figures)"

setup:
	@bash deploy/setup.sh

run: setup
	$(PY) -m deploy.local.run

test:
	@bash deploy/setup.sh test
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "unit or service" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy

check: lint typecheck

schemas: setup
	$(PY) -m shared.contracts.export docs/schemas

kafka: setup
	$(PY) -m deploy.kafka run --data-dir data/kafka --port 9092

bench: setup
	$(PY) -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf data .pytest_cache .mypy_cache .ruff_cache

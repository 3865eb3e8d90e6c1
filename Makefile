# The two commands a newcomer needs are `make run` and `make test`; the rest are for development.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Binaries are built by name, without -p, everywhere (here and in scripts/): features then resolve
# for the whole workspace, so tests, lint, the local server and the Lambda checks all share one
# set of compiled dependencies instead of each building its own.
VENV := .venv
# Written once requirements-dev.txt is installed into the venv (cfn-lint, cargo-lambda, schemathesis,
# openapi-python-client, and moto's server: the Secrets Manager stand-in).
VENV_TOOLS := $(VENV)/.requirements-installed
NODE_DEPS := node_modules/.package-lock.json

.PHONY: help run test lint deploy-check lambda-check docs-check client-check fuzz remind fmt promote bench clean

help:
	@echo "make run    serve the whole API on http://127.0.0.1:$${PORT:-3000} with DynamoDB Local"
	@echo "make test   run every test (starts and stops DynamoDB Local and the Secrets Manager and SES stand-ins by itself)"
	@echo "make lint   rustfmt, clippy and cfn-lint"
	@echo "make deploy-check   sam validate --lint and sam build; each bootstrap an aarch64 ELF within 5 MB zipped"
	@echo "make lambda-check   invoke each function binary with the payloads in events/ through cargo lambda"
	@echo "make docs-check   load the API reference page (/docs) in headless Chromium and try it out"
	@echo "make client-check   generate a Python client from the OpenAPI document and drive a session with it"
	@echo "make fuzz   Schemathesis against the running API and its OpenAPI document (about 3 minutes)"
	@echo "make remind   send the reminders due now, through the real reminders Lambda binary"
	@echo "make promote USERNAME=alice   make a local user an admin"
	@echo "make bench  cold starts, overhead over DynamoDB, upcoming at scale, a registration rush, sizes"

$(NODE_DEPS): package.json package-lock.json
	@scripts/prerequisites.sh node
	npm ci --no-audit --no-fund
	@touch $@

$(VENV_TOOLS): requirements-dev.txt
	@scripts/prerequisites.sh python
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(NODE_DEPS) $(VENV_TOOLS)
	@scripts/prerequisites.sh rust java node python
	cargo build --bin local-server
	@scripts/run-local.sh

# The API tests record every DynamoDB call each function makes (a call its policy in template.yaml
# does not allow fails its test); afterwards iam-unused fails on any grant no call needed.
IAM_CALLS_FILE := $(CURDIR)/target/iam-calls.tsv

test: $(NODE_DEPS) $(VENV_TOOLS)
	@scripts/prerequisites.sh rust java node python
	@mkdir -p target && rm -f $(IAM_CALLS_FILE)
	IAM_CALLS_FILE=$(IAM_CALLS_FILE) cargo test --workspace --all-targets
	cargo run --quiet --bin iam-unused -- $(IAM_CALLS_FILE)

lint: $(VENV_TOOLS) $(NODE_DEPS)
	@scripts/prerequisites.sh rust python
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml

# The users function embeds Swagger UI from node_modules, hence NODE_DEPS.
deploy-check: $(VENV_TOOLS) $(NODE_DEPS)
	@scripts/prerequisites.sh rust node python
	@scripts/deploy-check.sh

lambda-check: $(VENV_TOOLS) $(NODE_DEPS)
	@scripts/prerequisites.sh rust java node python
	@scripts/lambda-invoke.sh

docs-check: $(NODE_DEPS)
	@scripts/prerequisites.sh rust java node python chromium
	@scripts/docs-check.sh

client-check: $(VENV_TOOLS) $(NODE_DEPS)
	@scripts/prerequisites.sh rust java node python
	@scripts/python-client.sh

fuzz: $(VENV_TOOLS) $(NODE_DEPS)
	@scripts/prerequisites.sh rust java node python
	@scripts/schemathesis.sh

remind: $(VENV_TOOLS)
	@scripts/prerequisites.sh rust python
	@scripts/remind-local.sh

fmt:
	cargo fmt --all

# Prints figures, never passes or fails on a time (QUALITY.md, "Benchmarks"); about 10-15 minutes
# on 2 cores once built. BENCH_ARGS passes options, e.g. BENCH_ARGS="--only cold,size --runs 5".
bench: $(NODE_DEPS)
	@scripts/prerequisites.sh rust java node
	cargo build --release -p users -p events -p upcoming -p register -p reminders -p dispatch
	cargo build --release -p bench --bins
	cargo run --release --quiet -p bench --bin bench -- $(BENCH_ARGS)

promote: $(NODE_DEPS)
	@test -n "$(USERNAME)" || { echo "usage: make promote USERNAME=<username>"; exit 2; }
	TABLE_NAME=$${TABLE_NAME:-events} DYNAMODB_ENDPOINT=$${DYNAMODB_ENDPOINT:-http://127.0.0.1:$${DYNAMODB_PORT:-8000}} \
		cargo run --quiet --bin eventsctl -- promote "$(USERNAME)"

clean:
	cargo clean
	rm -rf node_modules $(VENV)

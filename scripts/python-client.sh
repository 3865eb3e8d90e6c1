#!/usr/bin/env bash
# `make client-check`: generates a Python client from the served OpenAPI document with
# openapi-python-client (pinned in requirements-dev.txt, default settings) and drives a short
# session through it (scripts/python_client_session.py). A document that a common generator
# refuses, or warns it cannot fully render, fails here.
#
# Starts its own DynamoDB Local (in memory) and local-server on free loopback ports, and stops
# them when done. Logs and the generated client stay in .local/python-client.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

LOG_DIR=.local/python-client
GENERATOR=.venv/bin/openapi-python-client
if [ ! -x "$GENERATOR" ]; then
  echo "openapi-python-client is not installed; run 'make client-check', which installs it into .venv." >&2
  exit 1
fi

source scripts/ephemeral-api.sh
on_exit stop_ephemeral_api

rm -rf "$LOG_DIR"
start_ephemeral_api "$LOG_DIR" pyclient
curl -sf "$API_URL/openapi.json" >"$LOG_DIR/openapi.json"

# The generator's default post-hooks run ruff, which it installs beside itself.
if ! (cd "$LOG_DIR" && PATH="$root/.venv/bin:$PATH" "$root/$GENERATOR" generate \
  --path openapi.json --output-path client >generate.log 2>&1); then
  cat "$LOG_DIR/generate.log" >&2
  echo "openapi-python-client refused the document" >&2
  exit 1
fi
# One warning is expected and allowed: the generator reads no image media type, so it leaves the
# body of the ticket's QR code (`image/svg+xml`) out of the generated client (the call itself is
# generated). Any other warning fails the check.
warnings=$(grep -c "^WARNING" "$LOG_DIR/generate.log" || true)
svg_only=$(grep -c "Unsupported content_type image/svg+xml" "$LOG_DIR/generate.log" || true)
if [ "$warnings" -ne "$svg_only" ] || grep -i "warning" "$LOG_DIR/generate.log" | grep -vqE "^WARNING parsing GET /events/\{id\}/registrations/me/ticket.svg |^Warning\(s\) encountered while generating"; then
  cat "$LOG_DIR/generate.log" >&2
  echo "openapi-python-client generated the client with warnings" >&2
  exit 1
fi
echo "generated $(find "$LOG_DIR/client" -name '*.py' | wc -l) Python files from the served document"
PYTHONPATH="$LOG_DIR/client" API_URL="$API_URL" .venv/bin/python scripts/python_client_session.py

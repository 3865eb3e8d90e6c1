#!/usr/bin/env bash
# `make remind`: runs the reminders function once, as a real Lambda binary behind a local Lambda
# Runtime API (`cargo lambda watch`), against the table `make run` serves. Sends the reminders due
# now (events starting within 24 hours) and prints what the run did.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PWD/.venv/bin:$PATH"
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
TABLE_NAME="${TABLE_NAME:-events}"
LOG_DIR=.local/remind
mkdir -p "$LOG_DIR"

if ! (exec 3<>"/dev/tcp/127.0.0.1/$DYNAMODB_PORT") 2>/dev/null; then
  echo "DynamoDB Local is not running on port $DYNAMODB_PORT: start the API with 'make run' first." >&2
  exit 1
fi
if [ -z "${JWT_SECRET:-}" ]; then
  if [ ! -s .local/jwt-secret ]; then
    echo "No JWT_SECRET and no .local/jwt-secret: start the API with 'make run' first." >&2
    exit 1
  fi
  JWT_SECRET="$(cat .local/jwt-secret)"
fi

cat > "$LOG_DIR/function.env" <<ENV
TABLE_NAME=$TABLE_NAME
DYNAMODB_ENDPOINT=http://127.0.0.1:$DYNAMODB_PORT
JWT_SECRET=$JWT_SECRET
RUST_LOG=info
ENV
chmod 600 "$LOG_DIR/function.env"

cargo build --quiet --bin reminders
source scripts/servers.sh
port=$(free_port)
setsid cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$port" \
  --env-file "$LOG_DIR/function.env" --timeout 300 >"$LOG_DIR/watch.log" 2>&1 &
watch=$!
trap 'kill -TERM -- "-$watch" 2>/dev/null || true; wait "$watch" 2>/dev/null || true' EXIT INT TERM
if ! wait_for_port "$port" "$watch" 60; then
  echo "cargo lambda watch did not start; see $LOG_DIR/watch.log" >&2
  exit 1
fi
echo "Reminders run:"
cargo lambda invoke reminders --invoke-address 127.0.0.1 --invoke-port "$port" \
  --data-file events/reminders/scheduled.json
echo

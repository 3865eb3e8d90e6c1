#!/usr/bin/env bash
# `make run`: DynamoDB Local with its data kept in .local/dynamodb, the table created if missing,
# and the whole API on http://127.0.0.1:${PORT:-3000}. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-3000}"
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
STATE_DIR=.local
mkdir -p "$STATE_DIR/dynamodb"

# A development secret, made once and kept, unless one is given.
if [ -z "${JWT_SECRET:-}" ]; then
  if [ ! -s "$STATE_DIR/jwt-secret" ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n' > "$STATE_DIR/jwt-secret")
  fi
  JWT_SECRET="$(cat "$STATE_DIR/jwt-secret")"
fi

source scripts/servers.sh
jar=$(dynamodb_local_jar) || exit 1

if (exec 3<>"/dev/tcp/127.0.0.1/$DYNAMODB_PORT") 2>/dev/null; then
  echo "Port $DYNAMODB_PORT is taken; set DYNAMODB_PORT to a free port." >&2
  exit 1
fi

launch_dynamodb_local "$jar" "$DYNAMODB_PORT" "$STATE_DIR/dynamodb.log" -dbPath "$STATE_DIR/dynamodb"
jvm=$DYNAMODB_LOCAL_PID
stop() {
  kill "$jvm" 2>/dev/null || true
  wait "$jvm" 2>/dev/null || true
}
trap stop EXIT INT TERM

if ! wait_for_port "$DYNAMODB_PORT" "$jvm" 60; then
  echo "DynamoDB Local did not start; see $STATE_DIR/dynamodb.log" >&2
  exit 1
fi
echo "DynamoDB Local on http://127.0.0.1:$DYNAMODB_PORT (data in $STATE_DIR/dynamodb)"

export TABLE_NAME="${TABLE_NAME:-events}"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_PORT"
export JWT_SECRET PORT
export RUST_LOG="${RUST_LOG:-info}"
./target/debug/local-server &
server=$!
trap 'kill "$server" 2>/dev/null || true; stop' EXIT INT TERM
wait "$server"

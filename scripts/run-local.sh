#!/usr/bin/env bash
# `make run`: DynamoDB Local with its data kept in .local/dynamodb, the table created if missing,
# the Secrets Manager stand-in holding the development signing key (derived from the kept secret,
# so it is the same at every start), the SES stand-in with its web inbox, and the whole API on
# http://127.0.0.1:${PORT:-3000}, which also runs the dispatch function on the table's stream.
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-3000}"
DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
SECRETS_MANAGER_PORT="${SECRETS_MANAGER_PORT:-4566}"
SES_PORT="${SES_PORT:-8005}"
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

for taken in DYNAMODB_PORT SECRETS_MANAGER_PORT SES_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${!taken}") 2>/dev/null; then
    echo "Port ${!taken} is taken; set $taken to a free port." >&2
    exit 1
  fi
done

launch_dynamodb_local "$jar" "$DYNAMODB_PORT" "$STATE_DIR/dynamodb.log" -dbPath "$STATE_DIR/dynamodb"
jvm=$DYNAMODB_LOCAL_PID
stand_ins=""
stop() {
  kill "$jvm" $stand_ins 2>/dev/null || true
  wait "$jvm" $stand_ins 2>/dev/null || true
}
trap stop EXIT INT TERM

if ! wait_for_port "$DYNAMODB_PORT" "$jvm" 60; then
  echo "DynamoDB Local did not start; see $STATE_DIR/dynamodb.log" >&2
  exit 1
fi
echo "DynamoDB Local on http://127.0.0.1:$DYNAMODB_PORT (data in $STATE_DIR/dynamodb)"
# Each stand-in is stopped on exit even if it started but never answered.
started=true
start_secrets_manager "$SECRETS_MANAGER_PORT" "$STATE_DIR/secrets-manager.log" || started=false
stand_ins=$SECRETS_MANAGER_PID
$started || exit 1
echo "Secrets Manager stand-in on http://127.0.0.1:$SECRETS_MANAGER_PORT"
start_ses "$SES_PORT" "$STATE_DIR/ses.log" || started=false
stand_ins="$stand_ins $SES_PID"
$started || exit 1
echo "Emails the API sends: the inbox at http://127.0.0.1:$SES_PORT (SES stand-in)"

export TABLE_NAME="${TABLE_NAME:-events}"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_PORT"
export SECRETS_MANAGER_ENDPOINT="http://127.0.0.1:$SECRETS_MANAGER_PORT"
export ACCESS_TOKEN_SIGNING_KEY_SECRET="${ACCESS_TOKEN_SIGNING_KEY_SECRET:-events-api/access-token-signing-key}"
export SES_ENDPOINT="http://127.0.0.1:$SES_PORT"
export EMAIL_FROM="${EMAIL_FROM:-events@example.com}"
export PUBLIC_API_URL="${PUBLIC_API_URL:-http://127.0.0.1:$PORT}"
# Webhooks may target the machine itself (a receiver on 127.0.0.1); on AWS only public https://.
export WEBHOOK_TARGETS="${WEBHOOK_TARGETS:-any}"
export JWT_SECRET PORT
export RUST_LOG="${RUST_LOG:-info}"
./target/debug/local-server &
server=$!
trap 'kill "$server" 2>/dev/null || true; stop' EXIT INT TERM
wait "$server"

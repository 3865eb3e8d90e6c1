#!/usr/bin/env bash
# `make fuzz`: Schemathesis against the running API and the document it serves.
#
# Starts DynamoDB Local and local-server on free loopback ports, signs up a user, makes them an
# admin (so that admin-only operations and other users' resources are reached too) and logs in,
# then runs Schemathesis on /openapi.json with that bearer token: every phase (the document's
# examples, coverage, fuzzing, and stateful sequences following the document's links), every
# check except positive_data_acceptance (a valid-looking id that names nothing is rightly a 404).
# scripts/schemathesis_hooks.py supplies the token, and a new admin's should the run delete the
# first one.
# Bounded: FUZZ_SECONDS (default 150) for fuzzing and stateful testing together, FUZZ_EXAMPLES
# (default 30) per operation. Prints the failures, one line per operation and a final
# "N passed, N failed" line; exits non-zero on a failure. Reports and logs go to .local/fuzz/.
#
# Needs Schemathesis (pinned in requirements-dev.txt; `make fuzz` installs it into .venv),
# Java 17 and the npm packages (`make fuzz` runs npm ci). FUZZ_SEED makes a run reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

LOG_DIR=.local/fuzz
SECONDS_BUDGET="${FUZZ_SECONDS:-150}"
EXAMPLES="${FUZZ_EXAMPLES:-30}"
SCHEMATHESIS=.venv/bin/schemathesis
if [ ! -x "$SCHEMATHESIS" ]; then
  echo "Schemathesis is not installed; run 'make fuzz', which installs it into .venv." >&2
  exit 1
fi

source scripts/ephemeral-api.sh
started=$SECONDS
on_exit stop_ephemeral_api

rm -rf "$LOG_DIR"
start_ephemeral_api "$LOG_DIR" fuzz
echo "API on $API_URL ($((SECONDS - started)) s)"

# --- A user with a token ----------------------------------------------------------------------

username="fuzzer$RANDOM"
password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
curl -sf -X POST "$API_URL/users" -H 'content-type: application/json' \
  -d "{\"username\": \"$username\", \"email\": \"$username@example.com\", \"password\": \"$password\"}" \
  >/dev/null
"$TARGET_DIR/debug/eventsctl" promote "$username" >/dev/null
token=$(curl -sf -X POST "$API_URL/auth/token" -H 'content-type: application/json' \
  -d "{\"username\": \"$username\", \"password\": \"$password\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# --- Schemathesis -----------------------------------------------------------------------------

seed=()
if [ -n "${FUZZ_SEED:-}" ]; then seed=(--seed "$FUZZ_SEED"); fi
set +e
# One worker: with two, Hypothesis's source inspection (Python's ast module, shared between the
# threads) now and then failed inside the tool with "AST constructor recursion depth mismatch".
# From the log directory, where Schemathesis and Hypothesis keep their caches. The hard limit only
# guards against a hang; the time budget is what ends the run.
(
  cd "$LOG_DIR" &&
    FUZZ_API_URL="$API_URL" FUZZ_TOKEN="$token" FUZZ_EVENTSCTL="$TARGET_DIR/debug/eventsctl" \
      SCHEMATHESIS_HOOKS="$root/scripts/schemathesis_hooks.py" \
      timeout $((SECONDS_BUDGET + 240)) "$root/$SCHEMATHESIS" --config-file "$root/scripts/schemathesis.toml" \
        run "$API_URL/openapi.json" \
      --phases examples,coverage,fuzzing,stateful \
      --checks all --exclude-checks positive_data_acceptance \
      --max-examples "$EXAMPLES" --max-time "$SECONDS_BUDGET" \
      --continue-on-failure --workers 1 --request-timeout 30 \
      --generation-database none --no-color --output-truncate true "${seed[@]}" \
      --report junit --report-junit-path junit.xml \
      >schemathesis.log 2>&1
)
status=$?
set -e

# The failures in full, then one line per operation.
sed -n '/^=* FAILURES =*$/,/^=* SUMMARY =*$/p' "$LOG_DIR/schemathesis.log" | sed '$d'
sed -n '/^=* SUMMARY =*$/,$p' "$LOG_DIR/schemathesis.log"
echo "($((SECONDS - started)) s; logs and the JUnit report in $LOG_DIR)"
python3 - "$LOG_DIR/junit.xml" "$status" <<'PY'
import sys
import xml.etree.ElementTree as ET

status = int(sys.argv[2])
try:
    cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
except (OSError, ET.ParseError) as e:
    print(f"no report ({e}); Schemathesis exited with {status}")
    print("0 passed, 1 failed")
    sys.exit()
passed = failed = 0
for case in cases:
    bad = case.find("failure") is not None or case.find("error") is not None
    failed += bad
    passed += not bad
    print(f"{'FAIL' if bad else 'ok  '}  {case.get('name')}")
if status not in (0, 1) and failed == 0:
    print(f"Schemathesis exited with {status}")
    failed = 1
print(f"{passed} passed, {failed} failed")
PY
[ "$status" -eq 0 ]

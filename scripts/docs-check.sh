#!/usr/bin/env bash
# `make docs-check`: the reference page at /docs works in a real browser with no internet.
#
# Starts DynamoDB Local and local-server on free loopback ports, then with headless Chromium:
# 1. loads /docs with --dump-dom and checks that every operation of /openapi.json is rendered;
# 2. through the DevTools protocol (scripts/docs-check.mjs), runs "Try it out" on
#    GET /categories with the page's own buttons, checks that the request went to this origin and
#    succeeded, that every request the page made stayed on this origin, and that the console
#    shows no error (such as a Content-Security-Policy violation).
# Prints one line per check and a final "N passed, N failed" line; exits non-zero on a failure.
# Logs are kept in .local/docs-check/.
#
# Needs Chromium (Debian: apt-get install chromium; CHROMIUM names another binary), Node.js
# 20.10 or newer (for its WebSocket client), Java 17 and the npm packages (`make docs-check` runs
# npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_DIR=.local/docs-check
CHROMIUM="${CHROMIUM:-chromium}"
if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
  echo "Chromium is not installed. On Debian/Ubuntu: apt-get install chromium (or set CHROMIUM)." >&2
  exit 1
fi

source scripts/ephemeral-api.sh
started=$SECONDS
profile=$(mktemp -d)
chromium_pid=""
cleanup() {
  stop_processes "$chromium_pid"
  stop_ephemeral_api
  rm -rf "$profile"
}
on_exit cleanup

rm -rf "$LOG_DIR"
start_ephemeral_api "$LOG_DIR" docs-check
echo "API on $API_URL ($((SECONDS - started)) s)"

# No network beyond loopback is needed; these flags also keep Chromium from calling home.
chromium_flags=(
  --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
  --disable-sync --no-first-run --disable-default-apps --user-data-dir="$profile"
)

passed=0
failed=0
result() {
  if [ "$1" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  printf '%-4s  %s\n' "$1" "$2"
}

# --- 1. The rendered DOM ----------------------------------------------------------------------

# The virtual time budget lets the page's scripts run (and fetch /openapi.json) before the dump.
timeout 120 "$CHROMIUM" "${chromium_flags[@]}" --virtual-time-budget=20000 --dump-dom "$API_URL/docs" \
  >"$LOG_DIR/dom.html" 2>"$LOG_DIR/chromium-dump.log" || true
curl -sf "$API_URL/openapi.json" >"$LOG_DIR/openapi.json"
while IFS= read -r line; do
  result "${line%% *}" "${line#* }"
done < <(python3 - "$LOG_DIR/openapi.json" "$LOG_DIR/dom.html" <<'PY'
import json, re, sys
spec = json.load(open(sys.argv[1]))
dom = open(sys.argv[2], encoding="utf-8", errors="replace").read()
shown = set(re.findall(r'class="opblock-summary-operation-id"[^>]*>([^<]+)<', dom))
ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
missing = [i for i in ids if i not in shown]
print(("ok" if not missing else "FAIL"), f"dump-dom: all {len(ids)} operations rendered" + (f"; missing {missing}" if missing else ""))
paths = {p for p in spec["paths"]}
shown_paths = {re.sub(r"<[^>]+>|\u200b", "", p) for p in re.findall(r'data-path="([^"]+)"', dom)}
missing = sorted(paths - shown_paths)
print(("ok" if not missing else "FAIL"), f"dump-dom: all {len(paths)} paths rendered" + (f"; missing {missing}" if missing else ""))
servers = [s["url"] for s in spec.get("servers", [])]
print(("ok" if servers == ["/"] else "FAIL"), f"the document's servers are relative (same origin): {servers}")
PY
)

# --- 2. Try it out, and where the page's requests went -----------------------------------------

"$CHROMIUM" "${chromium_flags[@]}" --remote-debugging-address=127.0.0.1 --remote-debugging-port=0 \
  about:blank >"$LOG_DIR/chromium.log" 2>&1 &
chromium_pid=$!
for _ in $(seq 1 300); do
  [ -s "$profile/DevToolsActivePort" ] && break
  kill -0 "$chromium_pid" 2>/dev/null || break
  sleep 0.1
done
if [ ! -s "$profile/DevToolsActivePort" ]; then
  result FAIL "Chromium's DevTools endpoint did not come up; see $LOG_DIR/chromium.log"
else
  # Node 22 has a WebSocket client built in; Node 20 needs the flag.
  node_flags=(--no-warnings)
  node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' || node_flags+=(--experimental-websocket)
  session=$(timeout 120 node "${node_flags[@]}" scripts/docs-check.mjs \
    "$profile/DevToolsActivePort" "$API_URL/docs" 2>&1) && status=0 || status=$?
  while IFS= read -r line; do
    case "$line" in
      "ok  "*) result ok "${line#ok    }" ;;
      "FAIL"*) result FAIL "${line#FAIL  }" ;;
      *) echo "$line" ;;
    esac
  done <<<"$session"
  if [ "$status" -ne 0 ] && ! grep -q '^FAIL' <<<"$session"; then
    result FAIL "the browser session failed (exit $status)"
  fi
fi

echo "($((SECONDS - started)) s; logs in $LOG_DIR)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Checks that the tools the project builds and runs with are installed, and says plainly what is
# missing. Usage: scripts/prerequisites.sh [rust] [java] [node] [python] [chromium]
set -euo pipefail

missing=0
fail() {
  echo "missing prerequisite: $1" >&2
  missing=1
}

for need in "$@"; do
  case "$need" in
    rust)
      command -v cargo >/dev/null 2>&1 || fail "Rust (cargo). Install it with rustup: https://rustup.rs"
      ;;
    java)
      if ! command -v java >/dev/null 2>&1; then
        fail "Java 17 or newer (DynamoDB Local runs on it). On Debian/Ubuntu: apt-get install openjdk-17-jre-headless"
      else
        major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
        if [ -z "$major" ] || [ "$major" -lt 17 ]; then
          fail "Java 17 or newer (found: $(java -version 2>&1 | head -n1))"
        fi
      fi
      ;;
    node)
      command -v node >/dev/null 2>&1 || fail "Node.js with npm (installs DynamoDB Local). On Debian/Ubuntu: apt-get install nodejs npm"
      command -v npm >/dev/null 2>&1 || fail "npm (installs DynamoDB Local). On Debian/Ubuntu: apt-get install npm"
      ;;
    python)
      command -v python3 >/dev/null 2>&1 || fail "Python 3 with venv (installs cfn-lint, cargo-lambda and schemathesis). On Debian/Ubuntu: apt-get install python3 python3-venv"
      ;;
    chromium)
      command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || fail "Chromium (loads the API reference page headless). On Debian/Ubuntu: apt-get install chromium"
      ;;
    *)
      echo "unknown prerequisite: $need" >&2
      exit 2
      ;;
  esac
done
exit "$missing"

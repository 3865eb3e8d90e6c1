#!/usr/bin/env bash
# `make deploy-check`: what `sam build` makes of a clone, checked before anything is deployed.
#
# 1. The aarch64 standard library is installed first, once (`rustup target add`): SAM builds the
#    functions in parallel, and each cargo-lambda would otherwise try to install it at the same
#    moment and most of them fail.
# 2. `sam validate --lint`, then the six functions cross-built in one cargo-lambda invocation with
#    the flags `sam build` gives each (release, arm64), then `sam build` (samconfig.toml: parallel,
#    cached), each timed. SAM's six cargo-lambda processes would wait for one another's lock on the
#    target directory and make the six release links (whole-program LTO, single-threaded, about a
#    minute each) one after another; one cargo process makes two at a time. Every function
#    resolves `shared` and its dependencies with the same features, so `sam build` then finds
#    each function built and packages it (were they to differ, it would build them itself).
#    Both have a target directory of their own, so they neither wait for nor invalidate the
#    tests' builds.
# 3. Every function of template.yaml has a `bootstrap` that is a 64-bit aarch64 ELF executable,
#    whose deployment package (the file zipped as `bootstrap`, deflate) stays within 5 MB as AWS
#    counts Lambda's package quotas (MiB: 5 × 1024 × 1024 bytes).
#
# Needs Rust (with rustup), Python and Node/npm; the SAM CLI, cargo-lambda and zig come from
# requirements-dev.txt into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
BUDGET_BYTES=$((5 * 1024 * 1024))
BUILD_DIR=.aws-sam/build
started=$SECONDS

if ! command -v rustup >/dev/null 2>&1; then
  echo "deploy-check needs rustup to install the $TARGET standard library: https://rustup.rs" >&2
  exit 1
fi
rustup target add "$TARGET"

export PATH="$PWD/.venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
export CARGO_TARGET_DIR="$PWD/target/deploy-check"

echo "==> sam validate --lint"
sam validate --lint

# The functions' packages are the folders their CodeUri names.
packages=()
for package in $(sed -n 's#^ *CodeUri: functions/\([a-z_-]*\) *$#\1#p' template.yaml); do
  packages+=(-p "$package")
done

echo "==> cargo lambda build --release --arm64 ${packages[*]}"
cross_started=$SECONDS
cargo lambda build --release --arm64 "${packages[@]}"
cross_seconds=$((SECONDS - cross_started))

echo "==> sam build (the functions for arm64, in release)"
build_started=$SECONDS
sam build
build_seconds=$((SECONDS - build_started))

echo "==> each function's bootstrap"
python3 - "$BUILD_DIR" "$BUDGET_BYTES" template.yaml <<'EOF'
import io
import os
import re
import sys
import zipfile

build_dir, budget, template = sys.argv[1], int(sys.argv[2]), sys.argv[3]

# The functions are the template's AWS::Serverless::Function resources (the template's tags, such
# as !Ref, keep a plain YAML reader from loading it; two-space indented names are resources).
functions, name = [], None
for line in open(template, encoding="utf-8"):
    match = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
    if match:
        name = match.group(1)
    elif name and line.strip() == "Type: AWS::Serverless::Function":
        functions.append(name)
if not functions:
    sys.exit(f"{template} declares no AWS::Serverless::Function")

EM_AARCH64 = 0xB7
failures = []
print(f"  {'function':<20} {'bootstrap':>12} {'zipped':>22}  within {budget / 2**20:.0f} MiB")
for function in functions:
    path = os.path.join(build_dir, function, "bootstrap")
    if not os.path.isfile(path):
        failures.append(f"{function}: no {path}")
        continue
    with open(path, "rb") as f:
        header = f.read(20)
    # ELF magic, ELFCLASS64, little-endian, ET_EXEC or ET_DYN, e_machine EM_AARCH64.
    kind = int.from_bytes(header[16:18], "little")
    machine = int.from_bytes(header[18:20], "little")
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1 or kind not in (2, 3):
        failures.append(f"{function}: bootstrap is not a 64-bit little-endian ELF executable")
        continue
    if machine != EM_AARCH64:
        failures.append(f"{function}: bootstrap is for machine {machine:#x}, not aarch64 ({EM_AARCH64:#x})")
        continue
    if not os.access(path, os.X_OK):
        failures.append(f"{function}: bootstrap is not executable")
        continue
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "bootstrap")
    zipped = len(package.getvalue())
    verdict = "yes" if zipped <= budget else "NO"
    print(
        f"  {function:<20} {os.path.getsize(path) / 2**20:>8.2f} MiB "
        f"{zipped / 10**6:>7.2f} MB ({zipped / 2**20:.2f} MiB)  {verdict}"
    )
    if zipped > budget:
        failures.append(f"{function}: zipped bootstrap {zipped} bytes, over the {budget}-byte budget")

if failures:
    print("deploy-check failed:", *failures, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"  {len(functions)} functions: aarch64 ELF executables, each zipped within the budget")
EOF
echo "deploy-check passed: the cross-build took ${cross_seconds} s, sam build ${build_seconds} s, the whole check $((SECONDS - started)) s"

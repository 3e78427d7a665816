#!/usr/bin/env bash
# The one test command: format check, build with warnings as errors, every test project.
# Prints a closing line "N passed, N failed" counted from the TRX results and exits non-zero on any failure.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

# System packages the tests need: command -> Debian package.
declare -A needed=(
  [psql]=postgresql
  [redis-server]=redis-server
  [nginx]=nginx
  [chromium]=chromium
  [docker-compose]=docker-compose
  [curl]=curl
  [dockerd]=docker.io
  [debootstrap]=debootstrap
)
missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/lib/postgresql/15/bin/$cmd" ] || [ -x "/usr/sbin/$cmd" ] || missing+=("${needed[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || echo "warning: could not install ${missing[*]}; tests that need them will fail or skip with a message" >&2
  else
    echo "warning: missing system packages (${missing[*]}); install them with apt as root. Tests that need them will say so." >&2
  fi
fi

# The Dockerfile linter for the deployment tests: pinned, installed under .build/tools rather than globally.
dockerfile_lint_version=0.16.3
lint_manifest="$root/.build/tools/node_modules/dockerfile-utils/package.json"
if ! grep -q "\"version\": \"$dockerfile_lint_version\"" "$lint_manifest" 2>/dev/null; then
  if command -v npm >/dev/null 2>&1; then
    echo "Installing dockerfile-utils $dockerfile_lint_version into .build/tools"
    mkdir -p "$root/.build/tools"
    npm install --silent --no-audit --no-fund --prefix "$root/.build/tools" "dockerfile-utils@$dockerfile_lint_version" >/dev/null \
      || echo "warning: could not install dockerfile-utils; the Dockerfile lint tests will fail and say so" >&2
  else
    echo "warning: npm is missing, so the Dockerfile linter cannot be installed; the Dockerfile lint tests will fail and say so" >&2
  fi
fi

results="$root/.build/test-results"
rm -rf "$results"; mkdir -p "$results"

fail() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }

echo "== dotnet format --verify-no-changes"
dotnet format Churn.slnx --verify-no-changes -v quiet || fail "Formatting differs: run 'dotnet format Churn.slnx'."

echo "== dotnet build"
dotnet build Churn.slnx -c Debug -nologo -v quiet -warnaserror || fail "The build failed."

echo "== dotnet test"
dotnet test Churn.slnx -c Debug --no-build --logger "trx" --results-directory "$results" -- RunConfiguration.TreatNoTestsAsError=false
test_rc=$?
# The shared test rig writes below this folder; a test host the runner stopped may not have removed its own part.
rm -rf "${TMPDIR:-/tmp}/churn-tests"

# The container tests stop the Docker engine they started; if their test host died first, stop it here. Its folder is
# named after the checkout (Churn.Container.Tests/Fixtures/DockerEngine.cs, FolderFor).
engine="/tmp/churn-docker-$(printf %s "$(pwd -P)" | sha256sum | cut -c1-10)"
if [ -f "$engine/dockerd.pid" ] && grep -qs "$engine/docker.sock" "/proc/$(cat "$engine/dockerd.pid")/cmdline"; then
  echo "Stopping the Docker engine the container tests left running in $engine"
  kill -TERM "$(cat "$engine/dockerd.pid")"
fi

passed=0; failed=0; found=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  found=1
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* timeout="\([0-9]*\)".*/\1/p' <<<"$counters")
  a=$(sed -n 's/.* aborted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
done
[ "$found" = 1 ] || failed=$((failed + 1))
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $test_rc without a failed test in the results (a test host crashed?)"
  failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

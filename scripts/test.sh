#!/usr/bin/env bash
# The test command: the Swift test suite, then the system tests (real server processes).
# Python interop clients: installed into .venv-interop on first use (PyPI).
# PostgreSQL: uses SCA_TEST_POSTGRES_URL when set; otherwise starts a throwaway cluster
# on 127.0.0.1 when initdb is available, and stops it at the end; otherwise the
# PostgreSQL tests say they were skipped (under CI=true they fail instead).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build

cluster=""
if [ -z "${SCA_TEST_POSTGRES_URL:-}" ]; then
  if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    cluster=$(mktemp -d /tmp/sca-pg-XXXXXX)
    trap 'scripts/postgres.sh stop "$cluster"' EXIT
    SCA_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$cluster" "${SCA_TEST_POSTGRES_PORT:-15433}")
    export SCA_TEST_POSTGRES_URL
    echo "test.sh: throwaway PostgreSQL cluster in $cluster"
  else
    echo "test.sh: PostgreSQL tests will be skipped: no SCA_TEST_POSTGRES_URL and no initdb on the PATH"
  fi
fi

# Interop clients nobody on the team wrote (soft-webauthn, py_webauthn, pyotp) and the
# browser driver (selenium), in a git-ignored virtual environment.
if [ -z "${SCA_TEST_PYTHON:-}" ] && ! scripts/interop-venv.sh; then
  echo "test.sh: interop tests will be skipped: soft-webauthn, webauthn and pyotp could not be installed"
fi

swift build

# Every suite runs even when one before it fails; the summary at the end counts them all.
failed_suites=()
run_suite() {  # NAME LOG COMMAND...
  local name=$1 log=$2
  shift 2
  if ! "$@" 2>&1 | tee "$log"; then failed_suites+=("$name"); fi
}
run_suite "Swift tests" .build/test.log swift test
# The storage suites again with the SQLite tunings off (docs/STORAGE.md).
run_suite "Swift storage tests, tunings off" .build/test-tunings-off.log \
  env SCA_TEST_STORAGE_TUNINGS=off swift test --skip-build --filter SCAStoreTests
run_suite "system tests" .build/system-test.log python3 blackbox/system/test_system.py
# The gate over HTTP (one-time tokens, factors, the demo bank) and in Chromium.
run_suite "auth tests" .build/auth-test.log env SCA_TEST_BIN="$PWD/.build/debug/sca" python3 blackbox/auth/test_auth.py
run_suite "browser tests" .build/browser-test.log env SCA_TEST_BIN="$PWD/.build/debug/sca" python3 blackbox/auth/test_browser.py
# Card payments: the Demo Shop checkout with the issuer's challenge in a frame, in Chromium.
run_suite "checkout tests" .build/checkout-test.log \
  env SCA_TEST_BIN="$PWD/.build/debug/sca" python3 blackbox/payments/test_checkout.py

# The grand total: Swift Testing's summaries, and each Python suite's "N passed, M failed".
count() {  # LOG -> "passed failed"
  local line total failures
  line=$(grep -oE 'Test run with [0-9]+ tests?' "$1" | tail -n 1 || true)
  if [ -n "$line" ]; then
    total=$(grep -oE '[0-9]+' <<<"$line")
    failures=$(grep -E '^✘ Test .* failed after' "$1" | grep -vc '^✘ Test run with' || true)
    echo "$((total - failures)) $failures"
    return
  fi
  line=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 || true)
  if [ -n "$line" ]; then echo "$(grep -oE '^[0-9]+' <<<"$line") $(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')"; else echo "0 1"; fi
}
total_passed=0
total_failed=0
echo
echo "== test.sh summary"
for entry in "Swift tests:.build/test.log" "Swift storage tests, tunings off:.build/test-tunings-off.log" \
  "system tests:.build/system-test.log" "auth tests:.build/auth-test.log" "browser tests:.build/browser-test.log" \
  "checkout tests:.build/checkout-test.log"; do
  name=${entry%%:*}
  log=${entry#*:}
  # A suite whose dependency is missing says so and is skipped (outside CI only).
  if skipped=$(grep -oE 'tests: skipped \(.*\)' "$log" | head -n 1) && [ -n "$skipped" ]; then
    echo "  $name: ${skipped#tests: }"
    continue
  fi
  read -r passed failed < <(count "$log")
  echo "  $name: $passed passed, $failed failed"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
done
echo "test.sh: $total_passed passed, $total_failed failed${failed_suites:+ (failing: ${failed_suites[*]})}"
[ ${#failed_suites[@]} -eq 0 ] && [ "$total_failed" -eq 0 ]

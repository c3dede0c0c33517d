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
# browser driver (selenium), in a git-ignored virtual environment; the pins resolve
# together (see ../shared/TOOLING.md).
if [ -z "${SCA_TEST_PYTHON:-}" ] && ! .venv-interop/bin/python -c "import selenium" >/dev/null 2>&1; then
  if python3 -m venv .venv-interop && .venv-interop/bin/pip install -q "cryptography==44.0.3" "fido2==1.2.0" \
      "soft-webauthn==0.1.4" "webauthn==2.7.1" "pyotp==2.12.0" "selenium==4.51.0"; then
    echo "test.sh: interop clients installed in .venv-interop"
  else
    rm -rf .venv-interop
    echo "test.sh: interop tests will be skipped: soft-webauthn, webauthn and pyotp could not be installed"
  fi
fi

swift build
swift test 2>&1 | tee .build/test.log
# The storage suites again with the SQLite tunings off (docs/STORAGE.md).
SCA_TEST_STORAGE_TUNINGS=off swift test --skip-build --filter SCAStoreTests 2>&1 | tee .build/test-tunings-off.log
python3 blackbox/system/test_system.py 2>&1 | tee .build/system-test.log
# The gate over HTTP (one-time tokens, factors, the demo bank) and in Chromium.
SCA_TEST_BIN="$PWD/.build/debug/sca" python3 blackbox/auth/test_auth.py 2>&1 | tee .build/auth-test.log
SCA_TEST_BIN="$PWD/.build/debug/sca" python3 blackbox/auth/test_browser.py 2>&1 | tee .build/browser-test.log
# Card payments: the Demo Shop checkout with the issuer's challenge in a frame, in Chromium.
SCA_TEST_BIN="$PWD/.build/debug/sca" python3 blackbox/payments/test_checkout.py 2>&1 | tee .build/checkout-test.log

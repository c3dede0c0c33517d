#!/usr/bin/env bash
# Makes .venv-interop (git-ignored) with the Python clients the tests and
# scripts/ott_transfer.py use, nobody on the team wrote: soft-webauthn, py_webauthn, pyotp,
# and selenium for the browser tests. The pins resolve together (../shared/TOOLING.md).
# Does nothing when it is there already; exit status 1 when PyPI cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/.."
if .venv-interop/bin/python -c "import selenium, soft_webauthn, webauthn, pyotp" >/dev/null 2>&1; then exit 0; fi
if python3 -m venv .venv-interop && .venv-interop/bin/pip install -q "cryptography==44.0.3" "fido2==1.2.0" \
    "soft-webauthn==0.1.4" "webauthn==2.7.1" "pyotp==2.12.0" "selenium==4.51.0"; then
  echo "interop-venv.sh: the interop clients are installed in .venv-interop"
else
  rm -rf .venv-interop
  echo "interop-venv.sh: soft-webauthn, webauthn and pyotp could not be installed" >&2
  exit 1
fi

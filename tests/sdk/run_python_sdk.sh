#!/usr/bin/env bash
# The official Microsoft Graph Python SDK (msgraph-sdk) against `deltascope emulator --tls`:
# makes a virtualenv in target/python-sdk-venv, installs msgraph-sdk from PyPI into it, and runs
# tests/sdk/python_sdk_walk.py with the deltascope binary ($DELTASCOPE_BIN, else
# target/release/deltascope when it exists, else a debug build made now).
#
# Needs the network (PyPI) the first time, so `cargo test` does not run it: run it by hand or as
# its own CI step. Prints "SKIPPED: ..." and exits 0 where Python 3, venv or pip is missing (and,
# with PYTHON_SDK_OFFLINE_OK=1, where PyPI cannot be reached); exits non-zero when the install
# or the walk fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() {
    echo "SKIPPED: $*"
    exit 0
}

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || skip "no $PYTHON on PATH (the Python SDK check needs Python 3.9 or later)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || skip "$("$PYTHON" --version 2>&1) is too old (msgraph-sdk needs Python 3.9 or later)"

VENV=${PYTHON_SDK_VENV:-target/python-sdk-venv}
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" 2>/dev/null || skip "$PYTHON cannot make a virtualenv (install python3-venv)"
fi
"$VENV/bin/python" -m pip --version >/dev/null 2>&1 || skip "no pip in the virtualenv $VENV (install python3-pip)"
if ! "$VENV/bin/python" -c 'import msgraph, msgraph_core' >/dev/null 2>&1; then
    echo "installing msgraph-sdk into $VENV"
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check msgraph-sdk; then
        # CI sets PYTHON_SDK_OFFLINE_OK=1: a machine without PyPI skips, it does not fail.
        [ "${PYTHON_SDK_OFFLINE_OK:-0}" = 1 ] && skip "msgraph-sdk could not be installed from PyPI"
        exit 1
    fi
fi
"$VENV/bin/python" -m pip show msgraph-sdk 2>/dev/null | sed -n 's/^Version: /msgraph-sdk /p'

BIN=${DELTASCOPE_BIN:-}
if [ -z "$BIN" ]; then
    if [ -x target/release/deltascope ]; then
        BIN=target/release/deltascope
    else
        cargo build --quiet --bin deltascope
        BIN=target/debug/deltascope
    fi
fi
exec "$VENV/bin/python" tests/sdk/python_sdk_walk.py --deltascope "$BIN"

#!/usr/bin/env bash
# The official Microsoft Graph JavaScript SDK (@microsoft/microsoft-graph-client) against
# `deltascope emulator --tls`: installs the SDK from npm into target/js-sdk and runs
# tests/sdk/js_sdk_walk.mjs with the deltascope binary ($DELTASCOPE_BIN, else
# target/release/deltascope when it exists, else a debug build made now).
#
# Needs the npm registry the first time, so `cargo test` does not run it. Prints "SKIPPED: ..."
# and exits 0 where Node 18+ or npm is missing (and, with JS_SDK_OFFLINE_OK=1, where the registry
# cannot be reached); exits non-zero when the walk fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() {
    echo "SKIPPED: $*"
    exit 0
}

command -v node >/dev/null 2>&1 || skip "no node on PATH (the JavaScript SDK check needs Node 18 or later)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' \
    || skip "node $(node --version) is too old (global fetch needs Node 18 or later)"
command -v npm >/dev/null 2>&1 || skip "no npm on PATH"

DIR=${JS_SDK_DIR:-target/js-sdk}
mkdir -p "$DIR"
if [ ! -d "$DIR/node_modules/@microsoft/microsoft-graph-client" ]; then
    echo "installing @microsoft/microsoft-graph-client into $DIR"
    [ -f "$DIR/package.json" ] || echo '{"private": true, "type": "module"}' > "$DIR/package.json"
    if ! npm install --prefix "$DIR" --silent --no-audit --no-fund --fetch-timeout=60000 --fetch-retries=1 @microsoft/microsoft-graph-client@3; then
        [ "${JS_SDK_OFFLINE_OK:-0}" = 1 ] && skip "@microsoft/microsoft-graph-client could not be installed from npm"
        exit 1
    fi
fi

BIN=${DELTASCOPE_BIN:-}
if [ -z "$BIN" ]; then
    if [ -x target/release/deltascope ]; then
        BIN=target/release/deltascope
    else
        cargo build --quiet --bin deltascope
        BIN=target/debug/deltascope
    fi
fi
# The script imports the SDK from the install directory.
cp tests/sdk/js_sdk_walk.mjs "$DIR/js_sdk_walk.mjs"
exec node "$DIR/js_sdk_walk.mjs" "$BIN"

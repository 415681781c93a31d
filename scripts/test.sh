#!/usr/bin/env bash
# `npm test`: install what is missing, then typecheck, lint and run the whole suite against a real dev server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-tools.sh --browser
echo "==> typecheck"; npx tsc --noEmit -p tsconfig.json
echo "==> lint"; npx eslint . && npx prettier --check . > /dev/null
# Three workers on two cores: each integration file runs its own dev server, sandbox and temp dirs, and much of
# its time is spent waiting (heartbeat timeouts, dev server start-up, the Toolkit's network calls), so a third
# file at once uses the cores the other two leave idle (measured: about 140% CPU with two).
echo "==> tests"; npx jest --maxWorkers=3 "$@"

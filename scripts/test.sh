#!/usr/bin/env bash
# `npm test`: install what is missing, then typecheck, lint and run the whole suite against a real dev server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-tools.sh --browser
echo "==> typecheck"; npx tsc --noEmit -p tsconfig.json
echo "==> lint"; npx eslint . && npx prettier --check . > /dev/null
# Two workers: each integration file runs its own dev server, sandbox and temp dirs, and most of the time is
# spent waiting on the Toolkit (a Python process per command), so two files at once halve the wall time. (Three
# were faster, but twice crashed a Jest worker in the SDK's workflow thread: "async hook stack has become
# corrupted", cf. temporalio/sdk-typescript#939.)
echo "==> tests"; npx jest --maxWorkers=2 "$@"

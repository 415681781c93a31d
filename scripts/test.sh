#!/usr/bin/env bash
# `npm test`: install what is missing, then typecheck, lint and run the whole suite against a real dev server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-tools.sh
echo "==> typecheck"; npx tsc --noEmit -p tsconfig.json
echo "==> lint"; npx eslint .
echo "==> tests"; npx jest --runInBand "$@"

#!/usr/bin/env bash
# `npm start`: install what is missing, build, then run the local stack (see scripts/local-stack.ts).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-tools.sh
npm run --silent build
exec node --import tsx scripts/local-stack.ts

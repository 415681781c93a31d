#!/usr/bin/env bash
# `npm start`: install what is missing, build, then run the local stack (see scripts/local-stack.ts).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-tools.sh
npm run --silent build
# Readable log lines for a person at the terminal (JSON everywhere else: the worker's default).
export LOG_FORMAT="${LOG_FORMAT:-pretty}"
exec node --import tsx scripts/local-stack.ts

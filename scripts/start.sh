#!/usr/bin/env bash
# `npm start` on a fresh clone: install dependencies when they are missing or stale, then run the
# demo (scripts/demo.ts), which leaves the local fleet and the console running until Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x node_modules/.bin/tsx ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing dependencies (npm ci, once)"
  npm ci --no-audit --no-fund
fi
exec node_modules/.bin/tsx scripts/demo.ts "$@"

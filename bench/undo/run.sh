#!/usr/bin/env bash
# Undo benchmark (see bench/README.md). Options: --size-mb N (default 150),
# --transactions N (default 50000), --repetitions N (default 3), --no-write.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
command -v sysbench >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq sysbench; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
# A private build: other edits in the checkout must not rebuild dist/ in the middle of a timed run.
node node_modules/typescript/bin/tsc -p bench/binlog/tsconfig.json || true
cp package.json bench/data/build/package.json  # src/version.ts reads it beside src/
# The CLI as users run it: bundled (bin/salvage runs dist/bundle/main.js).
node scripts/bundle.mjs bench/data/build/src/cli/main.js bench/data/build/bundle
exec node bench/data/build/bench/undo/run.js "$@"

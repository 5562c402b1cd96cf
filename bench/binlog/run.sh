#!/usr/bin/env bash
# Binlog reader benchmark (see bench/README.md). Options: --size-mb N (default 300),
# --repetitions N (default 5), --reuse (the binlog of the previous run), --no-write.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2"; }; }
need sysbench sysbench
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
command -v mariadb-binlog >/dev/null || { echo "mariadb-binlog is missing (Debian package mariadb-client)" >&2; exit 3; }
# A private build: other edits in the checkout must not rebuild dist/ in the middle of a timed run.
node node_modules/typescript/bin/tsc -p bench/binlog/tsconfig.json || true
cp package.json bench/data/build/package.json  # src/version.ts reads it beside src/
# The CLI as users run it: bundled (bin/salvage runs dist/bundle/main.js).
node scripts/bundle.mjs bench/data/build/src/cli/main.js bench/data/build/bundle
exec node bench/data/build/bench/binlog/run.js "$@"

#!/usr/bin/env bash
# Restore benchmark (not a test): salvage's binlog replay against
# `mariadb-binlog | mariadb` on the same restored backup, and salvage's physical
# restore against plain mariabackup. Options: --size-mb N (binlog written after
# the backup, default 150), --tables N, --table-size N, --no-write.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
command -v sysbench >/dev/null || { echo "sysbench is missing (Debian package sysbench)" >&2; exit 3; }
for tool in mariadb mariadb-binlog mariabackup mbstream; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (Debian packages mariadb-client, mariadb-backup)" >&2; exit 3; }
done
# A private build: edits elsewhere in the checkout must not rebuild anything during a timed run.
node node_modules/typescript/bin/tsc -p bench/restore/tsconfig.json >/dev/null || true
cp package.json bench/data/restore-build/package.json  # src/version.ts reads it beside src/
node scripts/bundle.mjs bench/data/restore-build/src/cli/main.js bench/data/restore-build/bundle
exec node bench/data/restore-build/bench/restore/run.js "$@"

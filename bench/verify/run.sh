#!/usr/bin/env bash
# Compiles the benchmark with the sources into a private directory (tsc emits even
# when files elsewhere in the tree do not type-check) and runs it from the checkout.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
ln -s "$root/package.json" "$build/package.json"
ln -s "$root/node_modules" "$build/node_modules"
node "$root/node_modules/typescript/bin/tsc" -p "$root/tsconfig.json" --outDir "$build/out" --rootDir "$root" >/dev/null || true
cd "$root"
node "$build/out/bench/verify/run.js"

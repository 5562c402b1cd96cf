#!/usr/bin/env bash
# Installs what salvage needs and is missing: MariaDB server, backup and client
# tools (Debian packages) and the npm dependencies. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(mariadb-server mariadb-backup mariadb-client)
# --test: also what the test suite needs: a real HAProxy for the cutover
# tests, Chromium to render the HTML report.
[[ ${1:-} == --test ]] && packages+=(haproxy chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "salvage: missing ${missing[*]} and no apt-get here; install MariaDB server, mariabackup and client tools by hand." >&2
    exit 3
  fi
  cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [[ $(id -u) -ne 0 ]]; then
    echo "salvage: missing Debian packages: ${missing[*]}" >&2
    echo "salvage: run this, then retry:  sudo apt-get update && sudo ${cmd[*]}" >&2
    exit 3
  fi
  echo "salvage: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package's own service must not start: salvage runs its own instances.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get update -qq >&2 || echo "salvage: apt-get update failed; trying the install with the lists we have" >&2
  "${cmd[@]}" >&2
  ((created_policy)) && rm -f "$policy"
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "salvage: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --ignore-scripts >&2
fi

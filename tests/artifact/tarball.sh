#!/usr/bin/env bash
# tarball.sh DIR: the collection tarball to check. $TARBALL when set (make test passes the one make
# artifact built and imported), else a fresh `ansible-galaxy collection build` of the checkout into DIR.
# Prints its path.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${TARBALL:-}" ]; then
  echo "$TARBALL"
else
  (cd "$top" && "$top/.venv/bin/ansible-galaxy" collection build --force --output-path "$1" >/dev/null)
  ls "$1"/linkops-cluster_linking-*.tar.gz
fi

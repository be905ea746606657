#!/usr/bin/env bash
# make artifact: build the collection tarball as a release does (ansible-galaxy collection build, the
# build_ignore of galaxy.yml) into build/, then import it with galaxy-importer in local mode
# (tests/artifact/galaxy-importer.cfg). Fails unless the import reports 0 errors and 0 warnings, or
# unless the changelog this version would release is clean (tests/artifact/changelog.sh).
# Prints the tarball's path last.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$top/.venv}
out=$top/build
mkdir -p "$out"
cd "$top"
version=$(sed -n 's/^version: *//p' galaxy.yml)
tarball=$out/linkops-cluster_linking-$version.tar.gz
rm -f "$tarball"
"$venv/bin/ansible-galaxy" collection build --force --output-path "$out" >/dev/null
log=$out/galaxy-importer.log
# The importer runs ansible-doc and ansible-lint from PATH, outside this checkout (no ansible.cfg).
status=0
(cd "$out" && env -u ANSIBLE_CONFIG PATH="$venv/bin:$PATH" GALAXY_IMPORTER_CONFIG="$top/tests/artifact/galaxy-importer.cfg" \
   "$venv/bin/python" -m galaxy_importer.main "$tarball") >"$log" 2>&1 || status=$?
errors=$(grep -c '^ERROR' "$log" || true)
warnings=$(grep -c '^WARNING' "$log" || true)
grep -E '^(ERROR|WARNING)' "$log" || true
echo "galaxy-importer $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))') on $(basename "$tarball"): $errors errors, $warnings warnings (log: ${log#"$top"/})"
if [ "$status" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$warnings" -ne 0 ]; then
  echo "make artifact: the import is not clean (exit $status)" >&2
  exit 1
fi
VENV=$venv bash "$top/tests/artifact/changelog.sh"
echo "$tarball"

#!/usr/bin/env bash
# ansible-test sanity on what ships: build the collection tarball (ansible-galaxy collection build,
# galaxy.yml's build_ignore), unpack it at .../ansible_collections/linkops/cluster_linking and run it
# there. TARBALL=path checks a tarball built already (make test passes the one make artifact built).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
# Outside the repo: inside it, ansible-test would ask git and see an ignored directory.
work=$(mktemp -d "${TMPDIR:-/tmp}/linkops-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
build="$work/ansible_collections/linkops/cluster_linking"
mkdir -p "$build"
tarball=$(bash "$top/tests/artifact/tarball.sh" "$work")
tar -xzf "$tarball" -C "$build"
cd "$build"
# ansible-test bootstraps pip in its test venvs with a script it downloads from a host outside
# the package registries; give it a local stand-in under the name it looks for.
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" \
  "$top"/.venv/lib/python3.*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
mkdir -p ~/.ansible/test/cache
cp "$top/tests/sanity/get_pip.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
export PATH="$top/.venv/bin:$PATH"
echo "ansible-test sanity on $(basename "$tarball") ($(find . -type f | wc -l) files)"
ansible-test sanity --python 3.11 --requirements --color no "$@"

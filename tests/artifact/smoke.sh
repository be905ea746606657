#!/usr/bin/env bash
# make smoke: the collection as a user installs and runs it, once per leg (controller Python and
# ansible-core). Each leg, in a virtualenv of its own holding only ansible-core and confluent-kafka
# (.smoke-venv-<leg>, built once; rebuilt when its requirements change):
#   1. ansible-galaxy collection install of the tarball into an empty collections path;
#   2. ansible-doc on every module and every role of the installed collection (any error or warning fails);
#   3. a lab of its own (tests/lab/labctl.py up), the guide's test data on its source, then
#      linkops.cluster_linking.migrate (the installed playbook) with the lab inventory, the cutover
#      confirmed with -e, no terminal; it passes only when the destination holds the records and the
#      group's offset, the playbook promoted the mirror and the verification report says PASSED.
# Usage: smoke.sh [LEG...]   (default: every leg; TARBALL=path uses a tarball built already)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
devpy=$top/.venv/bin/python                    # the lab's own tools run from the dev venv
kafka_req=$(grep -i '^confluent-kafka' "$top/requirements-dev.txt")

# leg -> "python|ansible-core requirement". requires_ansible (meta/runtime.yml) is >=2.19.0.
declare -A LEG_PYTHON LEG_CORE
LEG_PYTHON[core2.19.0]=python3.11;  LEG_CORE[core2.19.0]='ansible-core==2.19.0'   # the oldest declared
LEG_PYTHON[newest-py3.11]=python3.11; LEG_CORE[newest-py3.11]='ansible-core>=2.19.0'  # newest for Python 3.11
LEG_PYTHON[newest-py3.13]=python3.13; LEG_CORE[newest-py3.13]='ansible-core>=2.19.0'  # newest of all
ALL_LEGS=(core2.19.0 newest-py3.11 newest-py3.13)

find_python() {  # python3.11 -> an interpreter of that version: PATH, then pyenv's versions
  local want=$1 cand
  for cand in "$(command -v "$want" || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"${want#python}".*/bin/"$want" \
              "$(command -v python3 || true)"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    if [ "$("$cand" -c 'import sys; print("python%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ]; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/linkops-smoke.XXXXXX")
labs=()
cleanup() {
  for lab in "${labs[@]}"; do "$devpy" "$top/tests/lab/labctl.py" down --dir "$lab" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

tarball=$(bash "$top/tests/artifact/tarball.sh" "$work")
# What the tarball holds: its modules and roles (ansible-doc must find every one).
mapfile -t modules < <(tar -tzf "$tarball" | sed -n 's|^plugins/modules/\([a-z_]*\)\.py$|linkops.cluster_linking.\1|p' | sort)
mapfile -t roles < <(tar -tzf "$tarball" | sed -n 's|^roles/\([a-z_]*\)/meta/argument_specs\.yml$|linkops.cluster_linking.\1|p' | sort)
# No developer tools on PATH: only the leg's venv and the system.
base_path=$(tr ':' '\n' <<<"$PATH" | grep -v -x -e "$top/.venv/bin" -e "$top/.bin" | paste -sd:)

run_leg() {
  local leg=$1 python venv req stamp_want dir coll lab log t0
  t0=$SECONDS
  python=$(find_python "${LEG_PYTHON[$leg]}") || {
    echo "smoke $leg: SKIPPED, no ${LEG_PYTHON[$leg]} on this machine (README: tested and declared versions)"
    return 0
  }
  venv=$top/.smoke-venv-$leg
  req=("${LEG_CORE[$leg]}" "$kafka_req")
  stamp_want="$python ${req[*]}"
  if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$stamp_want" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${req[@]}"
    echo "$stamp_want" >"$venv/.installed"
  fi
  local core
  core=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("ansible-core"))')
  echo "smoke $leg: $("$venv/bin/python" -V), ansible-core $core, $tarball"

  dir=$work/$leg
  coll=$dir/collections
  mkdir -p "$coll"
  # No ansible.cfg of the checkout: the installed copy is the only one Ansible can find.
  printf '[defaults]\ncollections_path = %s\ncollections_scan_sys_path = false\ninterpreter_python = auto_silent\nretry_files_enabled = false\n' \
    "$coll" >"$dir/ansible.cfg"
  (
    cd "$dir"
    export ANSIBLE_CONFIG=$dir/ansible.cfg PATH="$venv/bin:$base_path" ANSIBLE_LOCAL_TEMP=$dir/tmp ANSIBLE_NOCOLOR=1
    unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS
    ansible-galaxy collection install --offline -p "$coll" "$tarball" >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log"; exit 1; }
    # 2. ansible-doc: every module and role of the tarball, rendered, without a warning.
    for kind in module role; do
      if [ "$kind" = module ]; then names=("${modules[@]}"); else names=("${roles[@]}"); fi
      ansible-doc -t "$kind" --json "${names[@]}" >"$dir/doc-$kind.json" 2>"$dir/doc-$kind.err" \
        || { cat "$dir/doc-$kind.err"; echo "smoke $leg: ansible-doc -t $kind failed"; exit 1; }
      # Ansible's own complaints ([WARNING]: / [ERROR]: / ERROR!), not Python warnings of its dependencies
      # (ansible-core 2.21 warns about a collection inside its own package: not ours, so not counted)
      if grep -v -F "$venv/lib/" "$dir/doc-$kind.err" | grep -E '^\[(WARNING|ERROR|DEPRECATION WARNING)\]|^ERROR!'; then
        echo "smoke $leg: ansible-doc -t $kind complained"; exit 1
      fi
      "$venv/bin/python" - "$dir/doc-$kind.json" "$kind" "$coll" "${names[@]}" <<'PY'
import json, sys
path, kind, coll, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
docs = json.load(open(path))
bad = [n for n in names if not (docs.get(n) or {}).get('doc' if kind == 'module' else 'entry_points')]
if bad or len(names) < 2:
    sys.exit('ansible-doc -t %s rendered no documentation for %s' % (kind, bad or names))
files = {(docs[n].get('doc') or {}).get('filename') or docs[n].get('path') or '' for n in names}
if kind == 'module' and not all(f.startswith(coll) for f in files):
    sys.exit('ansible-doc read modules from outside the installed collection: %s' % sorted(files))
print('ansible-doc -t %s: %d documented (%s)' % (kind, len(names), ', '.join(n.split('.')[-1] for n in names)))
PY
    done
  )

  # 3. The migration, against a lab of this leg's own.
  lab=$dir/lab
  labs+=("$lab")
  "$devpy" "$top/tests/lab/labctl.py" up --dir "$lab" --brokers "${SMOKE_BROKERS:-noida}" >"$dir/lab-up.log" 2>&1 || { cat "$dir/lab-up.log"; return 1; }
  "$devpy" "$top/tests/lab/demo_data.py" --lab-dir "$lab" seed >"$dir/seed.log" 2>&1 || { cat "$dir/seed.log"; return 1; }
  log=$dir/migrate.log
  local rc=0
  (
    cd "$dir"
    export ANSIBLE_CONFIG=$dir/ansible.cfg PATH="$venv/bin:$base_path" ANSIBLE_LOCAL_TEMP=$dir/tmp ANSIBLE_NOCOLOR=1 \
           LINKOPS_LAB_DIR=$lab
    ansible-playbook -i "$top/playbooks/inventories/lab" linkops.cluster_linking.migrate \
      -e migrate_confirm_cutover=true </dev/null
  ) >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then tail -40 "$log"; echo "smoke $leg: migrate.yml exited $rc (log above)"; return 1; fi
  "$devpy" "$top/tests/lab/demo_data.py" --lab-dir "$lab" proof >"$dir/proof.json" 2>"$dir/proof.err" || { cat "$dir/proof.err"; return 1; }
  "$devpy" - "$log" "$dir/proof.json" "$lab/reports/test-cluster-link/report.json" "$coll" <<'PY' || { tail -40 "$log"; return 1; }
import json, re, sys
log, proof, report = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
coll = sys.argv[4]
problems = []
# migrate.yml's last line: the link created; the mirror (made by the link's auto-create filter, or by the
# mirrors phase) promoted
summary = re.search(r'"msg": "test-cluster-link: (create the link on lab_destination;.*?promote 1 topic\(s\) on lab_destination)\."', log)
if not summary:
    problems.append('the summary does not say the link was created and 1 topic promoted')
if not re.search(r'test-cluster-link\s*:\s*ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0', log):
    problems.append('the recap is not changed>0, failed=0')
if 'WARNING' in log and 'not the collection' in log:
    problems.append('the playbook ran modules of another copy of the collection')
records = proof.get('records', [])
if [r['value'] for r in records[:5]] != ['1', '2', '3', '4', '5'] or [r['offset'] for r in records[:5]] != [0, 1, 2, 3, 4]:
    problems.append('test-topic on the destination does not hold records 1..5 at offsets 0..4: %s' % records[:5])
if proof.get('committed_offset') != 5:
    problems.append("test-group's committed offset on the destination is %s, not 5" % proof.get('committed_offset'))
result = report.get('summary', {}).get('result') or report.get('result')
if result != 'PASSED':
    problems.append('the verification report says %s' % result)
if problems:
    sys.exit('smoke: the migration is not proved:\n  ' + '\n  '.join(problems))
print('PROVED: test-topic records 1..5 at offsets 0..4 and test-group at offset 5 on the destination; '
      'report %s; migrate.yml: %s' % (result, summary.group(1)))
PY
  "$devpy" "$top/tests/lab/labctl.py" down --dir "$lab" >/dev/null 2>&1 || true
  echo "smoke $leg: passed in $((SECONDS - t0)) s"
  ran=$((ran + 1))
}

legs=("$@")
[ ${#legs[@]} -gt 0 ] || legs=("${ALL_LEGS[@]}")
ran=0
for leg in "${legs[@]}"; do
  [ -n "${LEG_CORE[$leg]:-}" ] || { echo "smoke: no leg $leg (legs: ${ALL_LEGS[*]})" >&2; exit 2; }
  run_leg "$leg"
done
# a machine without any of the legs' Pythons proved nothing
[ "$ran" -gt 0 ] || { echo "smoke: no leg ran (no ${LEG_PYTHON[*]} here): nothing was proved" >&2; exit 1; }

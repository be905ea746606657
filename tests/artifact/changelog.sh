#!/usr/bin/env bash
# The changelog a release would publish: `antsibull-changelog release --version <galaxy.yml version>` in a
# temporary copy of the checkout (the checkout keeps its fragments until the release commit), then checks
# the CHANGELOG.rst it wrote: the release summary; every module, filter, lookup, role and playbook listed
# once as new (modules, plugins and roles through their version_added, playbooks through fragments);
# no Breaking Changes, Bugfixes, Deprecated or Removed sections. Prints the changelog's path in the copy
# when KEEP=1.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$top/.venv}
version=$(sed -n 's/^version: *//p' "$top/galaxy.yml")
work=$(mktemp -d "${TMPDIR:-/tmp}/linkops-changelog.XXXXXX")
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
copy=$work/ansible_collections/linkops/cluster_linking
mkdir -p "$copy"
cd "$top"
git ls-files --cached --others --exclude-standard \
  | while read -r f; do [ -f "$f" ] && [ ! -L "$f" ] && printf '%s\0' "$f"; done \
  | xargs -0 cp --parents -t "$copy"
cd "$copy"
"$venv/bin/antsibull-changelog" lint
env -u ANSIBLE_CONFIG PATH="$venv/bin:$PATH" "$venv/bin/antsibull-changelog" release --version "$version" >"$work/release.log" 2>&1 \
  || { cat "$work/release.log"; exit 1; }
"$venv/bin/python" - "$copy" "$version" <<'PY'
import glob, os, re, sys
copy, version = sys.argv[1], sys.argv[2]
text = open(os.path.join(copy, 'CHANGELOG.rst')).read()
names = lambda pattern: sorted(os.path.basename(os.path.dirname(p)) if p.endswith('/') else os.path.splitext(os.path.basename(p))[0]
                               for p in glob.glob(os.path.join(copy, pattern)))
expected = {
    'New Modules': names('plugins/modules/[a-z]*.py'),
    'New Roles': names('roles/*/'),
    'New Playbooks': names('playbooks/*.yml'),
    'Filter': names('plugins/filter/[a-z]*.py'),
    'Lookup': names('plugins/lookup/[a-z]*.py'),
}
problems = []
if not re.search(r'^v%s\n=+\n' % re.escape(version), text, re.M):
    problems.append('no v%s section' % version)
if 'Release Summary\n---' not in text:
    problems.append('no Release Summary')
for section in ('Breaking Changes', 'Bugfixes', 'Deprecated Features', 'Removed Features', 'Minor Changes', 'Major Changes'):
    if section in text:
        problems.append('a first release has no %s section' % section)


def listed(title):
    # the entries "- name - description" of one section (underlined with - or ~)
    m = re.search(r'^%s\n[-~]+\n\n((?:- .*\n)+)' % re.escape(title), text, re.M)
    return [line[2:].split(' - ')[0] for line in m.group(1).splitlines()] if m else []


for title, want in expected.items():
    got = listed(title)
    if sorted(got) != want:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        dupes = sorted({n for n in got if got.count(n) > 1})
        hint = ''
        if title == 'New Roles' and missing:
            hint = " (a role is new through 'version_added: %s' under main: in its meta/argument_specs.yml)" % version
        problems.append('%s: missing %s, unexpected %s, twice %s%s' % (title, missing, extra, dupes, hint))
if problems:
    sys.exit('changelog for %s is not clean:\n  %s' % (version, '\n  '.join(problems)))
print('changelog %s: release summary; new %s' % (version, ', '.join('%s %d' % (t.replace('New ', '').lower(), len(w))
                                                                    for t, w in expected.items())))
PY
[ "${KEEP:-}" = 1 ] && echo "$copy/CHANGELOG.rst"
exit 0

"""Every variable a playbook reads is documented exactly once, with its default, and every documented
variable is read.

"Read" means: named in a Jinja expression of ``playbooks/*.yml`` (templates, ``when``, ``until``,
``that``, ``failed_when``, ``changed_when``) and defined nowhere in the playbooks themselves (play,
block and task ``vars``, ``register``, ``set_fact``, Jinja ``set``) nor by Ansible (magic variables).
What is left is what an inventory or ``-e`` gives: ``docs/variables.md`` must have one table row for
each, with a default, and no other page may have a row defining one again. The roles' variables are
documented in their ``meta/argument_specs.yml``: every role default has an option there with the same
default, and every option has a default or is required.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from jinja2 import Environment, meta

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "variables.md"
EXPRESSION_KEYS = ("when", "until", "that", "failed_when", "changed_when")
MAGIC = {"inventory_hostname", "hostvars", "groups", "omit", "item", "ansible_check_mode", "ansible_diff_mode",
         "ansible_play_batch", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_playbook_python",
         "playbook_dir", "inventory_dir", "role_path", "ansible_verbosity", "lookup", "query", "now"}


class _AnyName(dict):
    """Filters and tests of any name parse (collection filters are not loaded here)."""

    def __contains__(self, key):
        return True

    def get(self, key, default=None):
        return dict.get(self, key) or (lambda *args, **kwargs: None)


def _jinja() -> Environment:
    env = Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    env.filters = _AnyName(env.filters)
    env.tests = _AnyName(env.tests)
    return env


def _walk(node, defined: set[str], templates: list[str]) -> None:
    if isinstance(node, str):
        templates.append(node)
    elif isinstance(node, list):
        for value in node:
            _walk(value, defined, templates)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "vars" and isinstance(value, dict):
                defined.update(value)
            elif key == "register":
                defined.add(value)
            elif key in ("ansible.builtin.set_fact", "set_fact") and isinstance(value, dict):
                defined.update(value)
            if key in EXPRESSION_KEYS:
                for expression in value if isinstance(value, list) else [value]:
                    if isinstance(expression, str):
                        templates.append("{{ " + expression + " }}")
            _walk(value, defined, templates)


def variables_read(paths) -> dict[str, set[str]]:
    """``{variable: {playbook file names}}`` of what the files read from outside."""
    env, reads, defined = _jinja(), {}, set(MAGIC)
    for path in paths:
        templates: list[str] = []
        _walk(yaml.safe_load(path.read_text()), defined, templates)
        for template in templates:
            defined.update(re.findall(r"\{%-?\s*set\s+(\w+)", template))
            for name in meta.find_undeclared_variables(env.parse(template)):
                reads.setdefault(name, set()).add(path.name)
    return {name: files for name, files in reads.items() if name not in defined}


def documented(text: str) -> dict[str, list[str]]:
    """``{variable: [default cell of each row naming it]}``: the rows of tables with a ``default`` column
    whose first cell is one backticked name (a reference entry, not a mention)."""
    rows: dict[str, list[str]] = {}
    with_default = False
    for line in text.splitlines():
        if not line.startswith("|"):
            with_default = False
        elif re.match(r"^\| *variable *\| *default *\|", line):
            with_default = True
        elif with_default:
            m = re.match(r"^\| `(\w+)` \| ([^|]*) \|", line)
            if m:
                rows.setdefault(m.group(1), []).append(m.group(2).strip())
    return rows


PLAYBOOKS = sorted((REPO / "playbooks").glob("*.yml"))
# What the roles register or set_fact is defined for the playbooks that include them.
ROLE_TASKS = sorted((REPO / "roles").glob("*/tasks/*.yml"))


def role_defaults() -> set[str]:
    """The roles' variables: documented in their argument specs, not in docs/variables.md."""
    names: set[str] = set()
    for path in (REPO / "roles").glob("*/defaults/main.yml"):
        names.update(yaml.safe_load(path.read_text()) or {})
    return names


def playbook_variables() -> dict[str, set[str]]:
    """What the playbooks read from the inventory or -e, less the roles' own variables."""
    read = variables_read(PLAYBOOKS)
    role_defined: set[str] = role_defaults()
    for path in ROLE_TASKS:
        _walk(yaml.safe_load(path.read_text()), role_defined, [])
    return {name: files for name, files in read.items() if name not in role_defined}


def test_the_scan_finds_what_the_playbooks_read():
    """The scan itself: names read in templates and conditions are found, names the playbooks define are not."""
    read = playbook_variables()
    assert {"link_topics", "linkops_clusters", "migrate_confirm_cutover", "rollout_gate_max_lag"} <= set(read)
    assert "migrate_link_name" not in read and "cluster_link_result" not in read and "_" not in read


def test_every_variable_a_playbook_reads_is_documented_once_with_a_default():
    read = playbook_variables()
    rows = documented(DOC.read_text())
    undocumented = {name: sorted(files) for name, files in read.items() if name not in rows}
    assert not undocumented, f"read by the playbooks but not in docs/variables.md: {undocumented}"
    twice = [name for name, defaults in rows.items() if len(defaults) > 1]
    assert not twice, f"documented more than once in docs/variables.md: {twice}"
    no_default = [name for name, defaults in rows.items() if not defaults[0]]
    assert not no_default, f"rows without a default: {no_default}"


def test_every_documented_variable_is_read():
    rows = set(documented(DOC.read_text()))
    unread = sorted(rows - set(playbook_variables()))
    assert not unread, f"docs/variables.md documents variables no playbook reads: {unread}"
    again = sorted(rows & role_defaults())
    assert not again, f"docs/variables.md documents role variables again (their argument specs do): {again}"


@pytest.mark.parametrize("page", sorted(p.name for p in (REPO / "docs").glob("*.md") if p != DOC))
def test_no_other_page_defines_a_playbook_variable_again(page):
    again = sorted(set(documented((REPO / "docs" / page).read_text())) & set(playbook_variables()))
    assert not again, f"docs/{page} has table rows for {again}: link to docs/variables.md instead"


@pytest.mark.parametrize("role", sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir()))
def test_role_defaults_match_the_argument_specs(role):
    base = REPO / "roles" / role
    defaults = yaml.safe_load((base / "defaults" / "main.yml").read_text()) or {}
    options = yaml.safe_load((base / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert sorted(set(defaults) - set(options)) == [], f"{role}: defaults without an argument spec"
    for name, spec in options.items():
        if spec.get("required"):
            continue
        assert name in defaults, f"{role}: option {name} has no default in defaults/main.yml"
        if not (isinstance(defaults[name], str) and "{{" in defaults[name]) and "default" in spec:
            assert spec["default"] == defaults[name], f"{role}: {name} documented default {spec['default']!r}, is {defaults[name]!r}"

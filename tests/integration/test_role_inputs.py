"""The roles refuse bad input before they touch anything: a missing required cluster dict names the
option (was: a cryptic filter error later), and a file mode given as a number names both mode options
(YAML reads 777 or 0600 unquoted as numbers). No lab is needed: nothing is reached."""

from __future__ import annotations


import pytest
import yaml

from linkops_it import VENV_BIN, ansible_env, run_ansible

CASES = {
    "cluster_link without its source": (
        {"name": "linkops.cluster_linking.cluster_link",
         "vars": {"cluster_link_destination": {"cluster_id": "c", "bootstrap_servers": "h:9092", "rest_url": "http://h"}}},
        "missing required arguments: cluster_link_source"),
    "verify without its clusters": (
        {"name": "linkops.cluster_linking.verify", "vars": {"verify_topics": ["t"]}},
        "missing required arguments: verify_destination, verify_source"),
    "link_files with an unquoted mode": (
        {"name": "linkops.cluster_linking.link_files", "vars": {"link_files_mode": 777}},
        "link_files_mode and link_files_dir_mode must be quoted octal strings"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_role_refuses_bad_input_naming_the_option(tmp_path, case):
    role, expected = CASES[case]
    files = tmp_path / "files"
    play = [{"name": case, "hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "The role", "ansible.builtin.include_role": {"name": role["name"]},
        "vars": {"link_files_dir": str(files), "link_files_source": {}, "link_files_destination": {},
                 **role["vars"]}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    proc = run_ansible([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                        str(tmp_path / "play.yml")], ansible_env(), timeout=300)
    output = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0, output
    assert expected in output, output
    assert "Traceback" not in output
    assert not files.exists(), "the role wrote files"

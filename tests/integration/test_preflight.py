"""migrate.yml's preflight stops a link before anything is written, saying what to install or set:
no Python at the interpreter the jump host is given, a Python without confluent-kafka, and ACL sync
asked for while the verification cannot read the source's ACLs (the lab's brokers have no authorizer,
so the admin API cannot read them: verify_acl_source must be rest there). Each time: the link fails
with the message and no link exists on the lab; a missing Python or confluent-kafka stops it before its
files are written on the jump host."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fleet_it import D, S, links_on, playbook, recap, write_inventory
from linkops_it import REPO, VENV_BIN, PlaybookRun, ansible_env, run_ansible, unique_name


# Answered beforehand: without a terminal an unanswered migrate.yml stops at its confirmation, before these checks.
CONFIRMED = {"migrate_confirm_cutover": True}


@pytest.fixture
def one_link(lab, tmp_path):
    name = unique_name("pre")
    lab.create_topic(S, f"{name}-t", partitions=1)
    return name, tmp_path


def assert_nothing_changed(lab, name, tmp, files=False):
    assert name not in links_on(lab, D)
    if not files:
        assert not (tmp / "files" / name).exists(), "files were written on the jump host"


def flat(output):
    return " ".join(output.split())


def migrate_with_python(lab, inventory, python):
    """migrate.yml with the jump host's interpreter set to ``python`` (``playbook`` pins the venv's)."""
    proc = run_ansible([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/migrate.yml",
                        "-e", f"ansible_python_interpreter={python}"],
                       ansible_env(LINKOPS_LAB_DIR=str(lab.workdir)), timeout=600)
    return PlaybookRun(proc.stdout + proc.stderr, proc.returncode)


def test_no_python_on_the_jump_host(lab, one_link):
    name, tmp = one_link
    inventory = write_inventory(tmp / "inventory", lab, {name: {"link_topics": [f"{name}-t"]}}, **CONFIRMED)
    run = migrate_with_python(lab, inventory, "/nonexistent/python3")
    assert run.rc != 0 and recap(run.output)[name]["failed"] == 1, run.output
    assert f"{name}: the jump host has no working Python at /nonexistent/python3" in flat(run.output), run.output
    assert "set ansible_python_interpreter" in flat(run.output)
    assert "deserialization" not in run.output
    assert "WARNING: these playbooks belong" not in run.output  # run from the checkout: its own collection
    assert_nothing_changed(lab, name, tmp)


def test_python_without_confluent_kafka(lab, one_link):
    name, tmp = one_link
    bare = tmp / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    inventory = write_inventory(tmp / "inventory", lab, {name: {"link_topics": [f"{name}-t"]}}, **CONFIRMED)
    run = migrate_with_python(lab, inventory, f"{bare}/bin/python")
    assert run.rc != 0, run.output
    text = flat(run.output)
    assert "on the jump host has no confluent-kafka" in text and "-m pip install 'confluent-kafka>=2.6'" in text, run.output
    assert_nothing_changed(lab, name, tmp)


def test_acl_sync_where_the_verification_cannot_read_acls(lab, one_link):
    name, tmp = one_link
    inventory = write_inventory(tmp / "inventory", lab, {name: {
        "link_topics": [f"{name}-t"],
        "link_acl_filters": [{"resource_type": "any", "pattern_type": "any", "operation": "any",
                              "permission_type": "any"}]}}, **CONFIRMED)
    run = playbook(lab, inventory, "migrate")
    assert run.rc != 0, run.output
    text = flat(run.output)
    assert "verify_acl_source: rest" in text and "Nothing was changed" in text, run.output
    # the jump host's files come first (the CP tools need them for the cluster checks); no link, no mirror
    assert_nothing_changed(lab, name, tmp, files=True)


def test_playbooks_of_another_copy_warn_which_collection_runs(tmp_path):
    """A copy of the collection's playbooks (here: a second checkout) run with this checkout's
    ansible.cfg uses this checkout's modules: the playbook says so, naming both places."""
    import shutil

    other = tmp_path / "other-copy"
    shutil.copytree(REPO / "playbooks", other / "playbooks", ignore=shutil.ignore_patterns("inventories"))
    shutil.copy(REPO / "galaxy.yml", other / "galaxy.yml")
    (tmp_path / "hosts.yml").write_text("cluster_links:\n  hosts:\n    some-link:\n      ansible_connection: local\n")
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                           str(other / "playbooks" / "verify.yml"), "--check"],
                          cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)
    text = flat(proc.stdout + proc.stderr)
    assert f"WARNING: these playbooks belong to the collection in {other.resolve()}" in text, text
    assert f"linkops.cluster_linking from {REPO.resolve()}" in text, text
    # then the inventory check stops it (this inventory names no clusters)
    assert proc.returncode != 0

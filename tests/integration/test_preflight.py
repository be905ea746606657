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
from linkops_it import unique_name


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


def test_no_python_on_the_jump_host(lab, one_link):
    name, tmp = one_link
    inventory = write_inventory(tmp / "inventory", lab, {name: {"link_topics": [f"{name}-t"]}})
    run = playbook(lab, inventory, "migrate", "-e", "ansible_python_interpreter=/nonexistent/python3")
    assert run.rc != 0 and recap(run.output)[name]["failed"] == 1, run.output
    assert f"{name}: the jump host has no working Python at /nonexistent/python3" in flat(run.output), run.output
    assert "set ansible_python_interpreter" in flat(run.output)
    assert "deserialization" not in run.output
    assert_nothing_changed(lab, name, tmp)


def test_python_without_confluent_kafka(lab, one_link):
    name, tmp = one_link
    bare = tmp / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    inventory = write_inventory(tmp / "inventory", lab, {name: {"link_topics": [f"{name}-t"]}})
    run = playbook(lab, inventory, "migrate", "-e", f"ansible_python_interpreter={bare}/bin/python")
    assert run.rc != 0, run.output
    text = flat(run.output)
    assert "on the jump host has no confluent-kafka" in text and "-m pip install 'confluent-kafka>=2.6'" in text, run.output
    assert_nothing_changed(lab, name, tmp)


def test_acl_sync_where_the_verification_cannot_read_acls(lab, one_link):
    name, tmp = one_link
    inventory = write_inventory(tmp / "inventory", lab, {name: {
        "link_topics": [f"{name}-t"],
        "link_acl_filters": [{"resource_type": "any", "pattern_type": "any", "operation": "any",
                              "permission_type": "any"}]}})
    run = playbook(lab, inventory, "migrate")
    assert run.rc != 0, run.output
    text = flat(run.output)
    assert "verify_acl_source: rest" in text and "Nothing was changed" in text, run.output
    # the jump host's files come first (the CP tools need them for the cluster checks); no link, no mirror
    assert_nothing_changed(lab, name, tmp, files=True)

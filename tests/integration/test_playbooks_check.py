"""`--check --diff` on every playbook leaves the lab unchanged (a lab of its own).

Two links in the inventory model: chk-dest (DESTINATION, one topic, a consumer group) and chk-pair
(a BIDIRECTIONAL pair). First rollout.yml --check on the empty lab (predicts both links, creates
nothing), then a real rollout, then drift by hand (a link config changed on the lab), then --check
--diff of migrate, rollout, failover, failback, verify and teardown (with teardown_force and
teardown_delete_topics, the most destructive settings). After each, the lab (links and their configs
on both clusters, mirrors and their states, topics, end offsets, group offsets, ACLs) is exactly as
before, and no report or jump host file was written. The example inventories parse and every playbook
passes --syntax-check against them.
"""

from __future__ import annotations

import subprocess

import pytest

from fleet_it import D, S, lab_snapshot, playbook, recap, write_inventory
from linkops_it import REPO, VENV_BIN, ansible_env, diff_text, start_lab, wait_until

DEST, PAIR = "chk-dest", "chk-pair"
TOPIC, DR_TOPIC, GROUP = "chk-orders", "chk-dr", "chk-group"
PLAYBOOKS = ("migrate", "rollout", "failover", "failback", "verify", "teardown")


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("check")
    lab = start_lab(tmp / "lab")
    out: dict = {"lab": lab, "tmp": tmp, "runs": {}, "snapshots": {}}
    try:
        lab.create_topic(S, TOPIC, partitions=2)
        lab.produce(S, TOPIC, [{"value": f"v{i}", "partition": i % 2} for i in range(6)])
        lab.consume(S, TOPIC, group=GROUP, commit=True)
        lab.create_topic(S, DR_TOPIC, partitions=1)
        lab.produce(S, DR_TOPIC, ["x", "y"])
        inventory = write_inventory(tmp / "inventory", lab, {
            DEST: {"link_topics": [TOPIC], "link_consumer_groups": [GROUP],
                   "link_consumer_group_filters": [{"name": GROUP}], "link_configs": {"consumer.offset.sync.ms": 1000}},
            PAIR: {"link_mode": "BIDIRECTIONAL", "link_topics": [DR_TOPIC],
                   "link_configs": {"consumer.offset.sync.ms": 1000}},
        })
        out["inventory"] = inventory
        empty = lab_snapshot(lab, [GROUP])
        out["runs"]["rollout_empty"] = playbook(lab, inventory, "rollout", "--check", "--diff")
        out["snapshots"]["rollout_empty"] = (empty, lab_snapshot(lab, [GROUP]))

        real = playbook(lab, inventory, "rollout", "-e", "rollout_gate_max_lag=0", "-e", "rollout_gate_interval=1")
        assert real.rc == 0, real.output
        wait_until(lambda: lab.group_offsets(D, GROUP).get(TOPIC) == {0: 3, 1: 3}, 120, "the group's offsets on D")
        # drift made by hand: the inventory says 1000
        status, body = lab.rest("PUT", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{DEST}/configs/"
                                       "consumer.offset.sync.ms", {"value": "5000"})
        assert status == 204, (status, body)

        extra = {"migrate": ["--limit", DEST, "-e", "migrate_confirm_cutover=true"],
                 "verify": ["--limit", DEST, "-e", "verify_acl_source=rest"],
                 # failback is for BIDIRECTIONAL pairs only (a DESTINATION link fails its preflight)
                 "failback": ["--limit", PAIR],
                 "teardown": ["-e", "teardown_force=true", "-e", "teardown_delete_topics=true"]}
        for name in PLAYBOOKS:
            before = lab_snapshot(lab, [GROUP])
            out["runs"][name] = playbook(lab, inventory, name, "--check", "--diff", *extra.get(name, []))
            out["snapshots"][name] = (before, lab_snapshot(lab, [GROUP]))
        yield out
    finally:
        lab.stop()


def test_rollout_check_on_an_empty_lab_predicts_and_creates_nothing(checked):
    run = checked["runs"]["rollout_empty"]
    assert run.rc == 0, run.output
    before, after = checked["snapshots"]["rollout_empty"]
    assert before == after
    assert after[f"{D}.links"] == {} and after[f"{S}.links"] == {}
    diff = diff_text(run.output)
    for link in (DEST, PAIR):
        assert f"+    link_name: {link}" in diff, run.output
    assert "+    link_mode: BIDIRECTIONAL" in diff
    assert "Traceback" not in run.output


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_check_changes_nothing(checked, name):
    run = checked["runs"][name]
    if name == "verify":
        # migrate.yml ran under --check: chk-orders is still a mirror (read-only), and verify says so
        assert run.rc == 2, run.output
        assert "1 of 5 checks failed: writable:chk-orders." in run.output, run.output
    else:
        assert run.rc == 0, run.output
    before, after = checked["snapshots"][name]
    assert before == after, f"{name}.yml --check changed the lab"
    assert "Traceback" not in run.output


def test_check_writes_no_report_and_no_file(checked):
    reports, files = checked["tmp"] / "reports", checked["tmp"] / "files"
    written = [p for d in (reports, files) if d.exists() for p in d.rglob("*") if p.is_file()]
    assert written == []


def test_rollout_check_reports_the_drift(checked):
    run = checked["runs"]["rollout"]
    diff = diff_text(run.output)
    assert "-        consumer.offset.sync.ms: '5000'" in diff and "+        consumer.offset.sync.ms: '1000'" in diff, \
        run.output
    hosts = recap(run.output)
    assert hosts[DEST]["changed"] >= 1 and hosts[PAIR]["changed"] == 0, run.output
    assert f"{PAIR} passed the gate" in run.output


def test_destructive_playbooks_predict_their_changes(checked):
    migrate = checked["runs"]["migrate"]
    assert migrate.task_status()["linkops.cluster_linking.cutover : Cutover | promote or fail over the mirror topics "
                                 "in batches, wait until STOPPED (promote)"] == "changed", migrate.output
    failover = checked["runs"]["failover"]
    assert "topics would be failed over" in " ".join(failover.output.split()), failover.output
    assert recap(failover.output)[DEST]["changed"] >= 1
    failback = checked["runs"]["failback"]
    assert "nothing to fail back" in failback.output, failback.output
    teardown = checked["runs"]["teardown"]
    assert recap(teardown.output)[DEST]["changed"] >= 2, teardown.output  # topics and link
    assert f"-    {TOPIC}: ACTIVE" in diff_text(teardown.output), teardown.output


@pytest.mark.parametrize("inventory", ["example", "example-dr"])
def test_example_inventories_parse_and_every_playbook_passes_syntax_check(inventory, tmp_path):
    password = tmp_path / "vault-password"
    password.write_text("linkops-example\n")
    password.chmod(0o600)
    path = REPO / "playbooks" / "inventories" / inventory
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", str(path), "--vault-password-file",
                           str(password), "--list"], cwd=REPO, env=ansible_env(), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "linkops_clusters" in proc.stdout and "example-" in proc.stdout  # the vault was decrypted
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "--syntax-check", "-i", str(path),
                           *[f"playbooks/{p}.yml" for p in PLAYBOOKS]], cwd=REPO, env=ansible_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

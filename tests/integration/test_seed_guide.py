"""The seed guide, run as written, on a lab of real Apache Kafka brokers (SASL_SSL PLAIN, the
StandardAuthorizer): the Apache Kafka tools (kafka-topics, kafka-console-producer/-consumer,
kafka-consumer-groups, kafka-acls: the real tool classes, installed by ``labctl.py install-tools``)
and the lab's CP tools (kafka-cluster-links, kafka-mirrors, kafka-configs --cluster-link), with only
the addresses and the file locations changed: the brokers' ports, ``$CONFIG_DIR`` for ``/tmp``,
``--replication-factor 1`` for a one-broker cluster, and the lab CA as the trust store of the two
config files. Then the same story the collection's way: playbooks/migrate.yml with the guide's ACL,
then playbooks/teardown.yml.

The JVM tools cost seconds each (``tool_seconds`` is printed at the end): independent read-only
checks run side by side.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from linkops_it import VENV_BIN, get_link, run_ansible_module, run_ansible_playbook, wait_until
from linkops_lab.brokers.kafka_broker import properties_text
from linkops_lab.cptools import install as cpinstall

LINK, TOPIC, GROUP, PRINCIPAL = "test-cluster-link", "test-topic", "test-group", "User:test-user"
TOPIC_FILTERS = {"topicFilters": [{"name": "*", "patternType": "LITERAL", "filterType": "INCLUDE"}]}
GROUP_FILTERS = {"groupFilters": [{"name": "*", "patternType": "LITERAL", "filterType": "INCLUDE"}]}
ACL_FILTERS = {"aclFilters": [{"resourceFilter": {"resourceType": "any", "patternType": "any"},
                               "accessFilter": {"operation": "any", "permissionType": "any"}}]}
PROMOTED = [f"Calculating max offset and ms lag for mirror topics: [{TOPIC}]",
            f"Finished calculating max offset lag and max lag ms for mirror topics: [{TOPIC}]",
            f"Request for stopping topic {TOPIC}'s mirror was successfully scheduled. Please use the describe "
            "command with the --pending-stopped-only option to monitor progress."]
# the guide's ACL as the collection takes it (link_acl_filters, docs/variables.md)
GUIDE_ACL_FILTER = {"resource_type": "topic", "resource_name": TOPIC, "pattern_type": "literal",
                    "principal": PRINCIPAL, "operation": "read", "permission_type": "allow"}

TIMINGS: list[tuple[str, float]] = []


class Shell:
    """Runs the guide's command lines with bash: the tools first on PATH, $SOURCE / $DESTINATION the
    brokers, $CONFIG_DIR where the guide has /tmp."""

    def __init__(self, lab, bin_dir: Path, config_dir: Path):
        self.env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
                        LINKOPS_LAB_DIR=str(lab.workdir), SOURCE=lab.source_bootstrap,
                        DESTINATION=lab.destination_bootstrap, CONFIG_DIR=str(config_dir))

    def start(self, line: str) -> tuple[str, float, subprocess.Popen]:
        return line, time.monotonic(), subprocess.Popen(
            ["bash", "-o", "pipefail", "-c", line], env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)

    def finish(self, started, ok: bool = True) -> subprocess.CompletedProcess:
        line, t0, proc = started
        try:
            out, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        TIMINGS.append((line.split(" --")[0], round(time.monotonic() - t0, 1)))
        done = subprocess.CompletedProcess(line, proc.returncode, out, err)
        assert "Traceback" not in out + err, f"{line}\n{out}{err}"
        if ok:
            assert proc.returncode == 0, f"{line}\nrc {proc.returncode}\n{out}{err}"
        return done

    def __call__(self, line: str, ok: bool = True) -> subprocess.CompletedProcess:
        return self.finish(self.start(line), ok)

    def together(self, *lines: str) -> list[subprocess.CompletedProcess]:
        """Independent commands side by side (each JVM spends most of its start waiting for a core)."""
        return [self.finish(s) for s in [self.start(line) for line in lines]]


def _write_config(path: Path, props: dict) -> None:
    path.write_text(properties_text(props))
    path.chmod(0o600)


@pytest.fixture(scope="module")
def guide(apache_kafka_lab, tmp_path_factory):
    lab = apache_kafka_lab
    base = tmp_path_factory.mktemp("seed-guide")
    bin_dir, config_dir = base / "bin", base / "tmp"
    config_dir.mkdir()
    cpinstall.install(bin_dir)                     # what `labctl.py install-tools` writes into .venv/bin
    for role in ("source", "destination"):         # bootstrap, SASL_SSL, PLAIN, the JAAS line, the lab CA
        _write_config(config_dir / f"{role}.config", lab.info[f"{role}_java_client_properties"])
    for name, doc in (("topic-filters.json", TOPIC_FILTERS), ("consumer-group-filters.json", GROUP_FILTERS),
                      ("acl-filters.json", ACL_FILTERS)):
        (config_dir / name).write_text(json.dumps(doc))
    return Shell(lab, bin_dir, config_dir)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def test_the_guide_as_written(apache_kafka_lab, guide):
    lab, sh = apache_kafka_lab, guide
    t0 = time.monotonic()
    src = "--bootstrap-server $SOURCE --command-config $CONFIG_DIR/source.config"
    dst = "--bootstrap-server $DESTINATION --command-config $CONFIG_DIR/destination.config"

    # --- on the source: a topic with 1..5, a group that read them, an ACL
    r = sh(f"kafka-topics {src} --create --topic {TOPIC} --partitions 1 --replication-factor 1")
    assert _lines(r.stdout) == [f"Created topic {TOPIC}."]
    listed, described = sh.together(f"kafka-topics {src} --list", f"kafka-topics {src} --describe --topic {TOPIC}")
    assert TOPIC in _lines(listed.stdout)
    assert f"Topic: {TOPIC}\t" in described.stdout and "PartitionCount: 1" in described.stdout
    sh(f"seq 1 5 | kafka-console-producer --bootstrap-server $SOURCE --producer.config $CONFIG_DIR/source.config "
       f"--topic {TOPIC}")
    r = sh(f"kafka-console-consumer --bootstrap-server $SOURCE --consumer.config $CONFIG_DIR/source.config "
           f"--topic {TOPIC} --from-beginning --group {GROUP} --max-messages 5")
    assert _lines(r.stdout) == ["1", "2", "3", "4", "5"]
    assert "Processed a total of 5 messages" in r.stderr
    groups, offsets = sh.together(f"kafka-consumer-groups {src} --list",
                                  f"kafka-consumer-groups {src} --describe --group {GROUP} --offsets")
    assert GROUP in _lines(groups.stdout)
    assert [GROUP, TOPIC, "0", "5", "5", "0"] in [line.split()[:6] for line in _lines(offsets.stdout)]
    r = sh(f"kafka-acls {src} --add --allow-principal {PRINCIPAL} --operation READ --topic {TOPIC}")
    assert f"(principal={PRINCIPAL}, host=*, operation=READ, permissionType=ALLOW)" in r.stdout
    r = sh(f"kafka-acls {src} --list")
    assert f"name={TOPIC}, patternType=LITERAL" in r.stdout
    assert f"(principal={PRINCIPAL}, host=*, operation=READ, permissionType=ALLOW)" in r.stdout

    # --- the link, on the destination, with the three filter files
    r = sh(f"kafka-cluster-links {dst} --create --link {LINK} --config-file $CONFIG_DIR/source.config "
           "--topic-filters-json-file $CONFIG_DIR/topic-filters.json "
           "--consumer-group-filters-json-file $CONFIG_DIR/consumer-group-filters.json "
           "--acl-filters-json-file $CONFIG_DIR/acl-filters.json")
    assert _lines(r.stdout) == [f"Cluster link '{LINK}' creation successfully completed."]

    def caught_up():
        out = sh(f"kafka-mirrors {dst} --describe --topics {TOPIC}", ok=False).stdout
        return out if "State: ACTIVE" in out and "\tLag: 0" in out and "DestLogEndOffset: 5" in out else None
    wait_until(caught_up, 120, "the mirror ACTIVE with lag 0", interval=1)
    # the group's offsets and the ACL arrive with the link's sync tasks (every few seconds)
    wait_until(lambda: lab.group_offsets("destination", GROUP) == {TOPIC: {0: 5}}, 90, "test-group synced", 1)
    r = sh(f"kafka-mirrors {dst} --promote --topics {TOPIC}")
    assert _lines(r.stdout) == PROMOTED
    wait_until(lambda: "State: STOPPED" in sh(f"kafka-mirrors {dst} --describe --topics {TOPIC}", ok=False).stdout,
               60, "the mirror STOPPED", 1)

    # --- on the destination: the topic, the group and the ACL are there; produce, then consume
    topics, offsets, acls = sh.together(
        f"kafka-topics {dst} --list", f"kafka-consumer-groups {dst} --describe --group {GROUP} --offsets",
        f"kafka-acls {dst} --list --principal {PRINCIPAL}")
    assert TOPIC in _lines(topics.stdout)
    assert [GROUP, TOPIC, "0", "5", "5", "0"] in [line.split()[:6] for line in _lines(offsets.stdout)]
    assert f"(principal={PRINCIPAL}, host=*, operation=READ, permissionType=ALLOW)" in acls.stdout
    sh(f"seq 6 10 | kafka-console-producer --bootstrap-server $DESTINATION "
       f"--producer.config $CONFIG_DIR/destination.config --topic {TOPIC}")
    r = sh(f"kafka-console-consumer --bootstrap-server $DESTINATION --consumer.config $CONFIG_DIR/destination.config "
           f"--topic {TOPIC} --from-beginning --group {GROUP} --max-messages 5")
    assert _lines(r.stdout) == ["6", "7", "8", "9", "10"]          # the group went on where it was on the source
    assert lab.group_offsets("destination", GROUP) == {TOPIC: {0: 10}}

    # --- the link: list, its configs, delete
    r = sh(f"kafka-cluster-links {dst} --list")
    ours = [line for line in _lines(r.stdout) if line.startswith(f"Link name: '{LINK}', link ID: '")]
    assert len(ours) == 1, r.stdout
    assert f"remote cluster ID: '{lab.source_cluster_id}'" in ours[0] and "link state: 'ACTIVE'" in ours[0]
    r = sh(f"kafka-configs {dst} --describe --cluster-link {LINK}")
    lines = _lines(r.stdout)
    assert lines[0] == f"Dynamic configs for cluster-link {LINK} are:"
    assert "  acl.sync.enable=true sensitive=false synonyms={}" in lines
    assert "  sasl.jaas.config=null sensitive=true synonyms={}" in lines
    r = sh(f"kafka-cluster-links {dst} --delete --link {LINK}")
    assert _lines(r.stdout) == [f"Cluster link '{LINK}' deletion successfully completed."]
    print(f"\nseed guide: {time.monotonic() - t0:.1f} s; tool_seconds {TIMINGS}")


def test_the_tools_refuse_wrong_credentials(apache_kafka_lab, guide):
    """A wrong password in a --command-config: the Apache tool fails as the broker refuses it; a link whose
    config file has it is refused at create (validate_link), naming what to check, never the password, by
    kafka-cluster-links and by the cluster_link module; the lab's CP tools refuse a wrong --command-config."""
    sh = guide
    config_dir = Path(sh.env["CONFIG_DIR"])
    props = dict(apache_kafka_lab.info["source_java_client_properties"])
    props["sasl.jaas.config"] = props["sasl.jaas.config"].replace('password="', 'password="Wr0ng-', 1)
    _write_config(config_dir / "wrong.config", props)
    r = sh("kafka-topics --bootstrap-server $SOURCE --command-config $CONFIG_DIR/wrong.config --list", ok=False)
    assert r.returncode == 1
    assert "Authentication failed: Invalid username or password" in r.stdout + r.stderr
    r = sh("kafka-cluster-links --bootstrap-server $DESTINATION --command-config $CONFIG_DIR/destination.config "
           f"--create --link wrong-password-link --config-file {shlex.quote(str(config_dir / 'wrong.config'))}",
           ok=False)
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: Unable to validate cluster link "
                               "'wrong-password-link'"), r.stdout
    assert "AUTHENTICATION_ERROR" in r.stdout and "sasl.jaas.config" in r.stdout
    assert "Wr0ng-" not in r.stdout + r.stderr
    status, _ = apache_kafka_lab.rest(
        "GET", f"/kafka/v3/clusters/{apache_kafka_lab.destination_cluster_id}/links/wrong-password-link")
    assert status == 404
    # the cluster_link module: the server's refusal, naming the configs to check, without the password
    lab = apache_kafka_lab
    creds = lab.info["source_link_credentials"]
    run = run_ansible_module(lab, "cluster_link", {
        "name": "wrong-password-link", "source_cluster_id": lab.source_cluster_id,
        "remote": {"bootstrap_servers": lab.source_bootstrap, "security_protocol": "SASL_SSL",
                   "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": creds["username"],
                   "sasl_password": "Wr0ng-" + creds["password"], "ssl_truststore_type": "PEM",
                   "ssl_truststore_location": lab.info["ca_file"]}})
    assert run.rc != 0 and run.result.get("_status") == "FAILED!", run.output
    assert "AUTHENTICATION_ERROR" in run.msg and "sasl.jaas.config" in run.msg, run.msg
    assert "Traceback" not in run.output and "Wr0ng-" not in run.output and creds["password"] not in run.output
    assert run.result.get("changed") is False and get_link(lab, "wrong-password-link")[0] == 404
    # the lab's CP tools try their --command-config against the broker too
    props = dict(apache_kafka_lab.info["destination_java_client_properties"])
    props["sasl.jaas.config"] = props["sasl.jaas.config"].replace('password="', 'password="Wr0ng-', 1)
    _write_config(config_dir / "wrong-destination.config", props)
    r = sh("kafka-mirrors --bootstrap-server $DESTINATION --command-config $CONFIG_DIR/wrong-destination.config "
           "--describe", ok=False)
    assert (r.returncode, r.stdout) == (1, "Error while executing mirror command: org.apache.kafka.common.errors."
                                           "SaslAuthenticationException: Authentication failed: Invalid username or "
                                           "password\n"), r.stdout + r.stderr


def _reset_destination(lab) -> None:
    """The destination as before the guide: no test-topic, no test-group, no ACL of test-user."""
    from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType
    admin = lab.admin("destination")
    admin.delete_consumer_groups([GROUP], request_timeout=30)[GROUP].result()
    admin.delete_topics([TOPIC], request_timeout=30)[TOPIC].result()
    flt = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, PRINCIPAL, None, AclOperation.ANY,
                           AclPermissionType.ANY)
    for fut in admin.delete_acls([flt], request_timeout=30).values():
        fut.result()
    wait_until(lambda: TOPIC not in lab.topics("destination"), 60, "test-topic deleted on the destination")
    wait_until(lambda: not _destination_acls(lab), 30, "test-user's ACL deleted on the destination")


def _destination_acls(lab) -> list[dict]:
    """The destination's ACLs of test-user through the lab's REST /acls (the broker's own ACLs)."""
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/acls",
                            params={"principal": PRINCIPAL})
    assert status == 200, body
    return [{k: a[k] for k in ("resource_type", "resource_name", "pattern_type", "operation", "permission")}
            for a in body["data"]]


def test_the_same_story_the_collections_way(apache_kafka_lab, guide):
    lab = apache_kafka_lab
    # the guide left test-topic (1..5), test-group (at 5) and the ACL on the source
    assert lab.end_offsets("source", TOPIC) == {0: 5} and lab.group_offsets("source", GROUP) == {TOPIC: {0: 5}}
    _reset_destination(lab)
    t0 = time.monotonic()
    run = run_ansible_playbook(["-i", "playbooks/inventories/lab", "playbooks/migrate.yml",
                                "-e", json.dumps({"link_acl_filters": [GUIDE_ACL_FILTER]})], lab.workdir, timeout=600)
    migrate_s = time.monotonic() - t0
    assert run.rc == 0, run.output
    assert run.recap()["failed"] == 0, run.output
    assert "Traceback" not in run.output
    records = lab.consume("destination", TOPIC)
    assert [r["value"] for r in records[:5]] == ["1", "2", "3", "4", "5"]
    assert lab.group_offsets("destination", GROUP) == {TOPIC: {0: 5}}
    assert _destination_acls(lab) == [{"resource_type": "TOPIC", "resource_name": TOPIC, "pattern_type": "LITERAL",
                                       "operation": "READ", "permission": "ALLOW"}]
    run = run_ansible_playbook(["-i", "playbooks/inventories/lab", "playbooks/teardown.yml",
                                "-e", "teardown_confirm=true"], lab.workdir, timeout=300)
    assert run.rc == 0, run.output
    assert run.recap()["failed"] == 0, run.output
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links")
    assert status == 200 and LINK not in [lk["link_name"] for lk in body["data"]]
    assert lab.topics("destination").get(TOPIC) == 1          # teardown keeps the promoted topic
    print(f"\nmigrate.yml {migrate_s:.1f} s, teardown.yml {time.monotonic() - t0 - migrate_s:.1f} s")

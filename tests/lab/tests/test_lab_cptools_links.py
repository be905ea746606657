"""kafka-cluster-links and kafka-configs --cluster-link, installed by ``labctl.py install-tools``
and run as real executables against the session lab (real REST, real brokers): create, list,
describe, delete, the --command-config checks, the link configs and that secrets are never
printed."""

from __future__ import annotations

import re
import time

import pytest

from cptools_runner import JAAS, props_file
from labtesting import unique

GROUP_FILTERS = '{"groupFilters":[{"name":"app-","patternType":"PREFIXED","filterType":"INCLUDE"}]}'
TOPIC_FILTERS = '{"topicFilters":[{"name":"auto-","patternType":"PREFIXED","filterType":"INCLUDE"}]}'
ACL_FILTERS = ('{"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"},'
               '"accessFilter":{"operation":"any","permissionType":"any"}}]}')


def _list_line(t, name, link_id, topics=None, state="ACTIVE"):
    line = (f"Link name: '{name}', link ID: '{link_id}', remote cluster ID: '{t.sid}', local "
            f"cluster ID: '{t.did}', remote cluster available: 'true', link state: '{state}'")
    return line if topics is None else line + f", topics: [{', '.join(topics)}]"


def test_list_without_links_and_unknown_link(tools):
    if tools.rest_links():
        pytest.skip("the session lab already has links (another test module ran first)")
    r = tools.links("--list", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "No cluster links found.\n")
    r = tools.links("--describe", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "No cluster links found.\n")


def test_unknown_bootstrap_is_a_connection_failure(tools):
    t0 = time.monotonic()
    r = tools.links("--list", "--bootstrap-server", "127.0.0.1:1")
    assert time.monotonic() - t0 < 10
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: org.apache.kafka."
                               "common.errors.TimeoutException: Timed out waiting for a node "
                               "assignment: no broker answers at '127.0.0.1:1'")
    assert tools.D in r.stdout and tools.S in r.stdout
    # localhost and a list of servers resolve to the lab cluster
    port = tools.D.rsplit(":", 1)[1]
    r = tools.links("--list", "--link", "nope", "--bootstrap-server", f"other:1,localhost:{port}")
    assert (r.returncode, r.stdout) == (0, "Link name 'nope' not found.\n")


def test_command_config_is_parsed_and_checked(tools, tmp_path):
    r = tools.links("--list", "--link", "x", "--bootstrap-server", tools.D, "--command-config",
                    str(tmp_path / "missing.properties"))
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: java.nio.file."
                               "NoSuchFileException:")
    assert "--command-config" in r.stdout
    good = tmp_path / "admin.properties"
    good.write_text("# admin client\n"
                    "security.protocol = SASL_SSL\n"
                    "sasl.mechanism: PLAIN\n"
                    "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule \\\n"
                    "    required username=\"admin\" \\\n"
                    "    password=\"p\\u0040ss\";\n")
    r = tools.links("--list", "--link", "x", "--bootstrap-server", tools.D, "--command-config",
                    str(good))
    assert (r.returncode, r.stdout) == (0, "Link name 'x' not found.\n")
    bad = tmp_path / "bad.properties"
    bad.write_text("security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n")
    for tool, args in [("kafka-cluster-links", ["--list"]), ("kafka-mirrors", ["--list"]),
                       ("kafka-configs", ["--describe", "--entity-type", "cluster-links"])]:
        r = tools(tool, *args, "--bootstrap-server", tools.D, "--command-config", str(bad))
        assert r.returncode == 1
        assert "Failed to create new KafkaAdminClient: security.protocol=SASL_SSL needs " \
               "sasl.jaas.config" in r.stdout + r.stderr


def test_link_create_list_describe_delete(tools, tmp_path):
    name = unique("cpt-link")
    cfg = props_file(tmp_path / "source.config", **{"bootstrap.servers": tools.S,
                                                    "consumer.offset.sync.ms": "1000"})
    groups = tmp_path / "groups.json"
    groups.write_text(GROUP_FILTERS + "\n")
    topics = tmp_path / "topics.json"
    topics.write_text(TOPIC_FILTERS)
    base = ["--link", name, "--config-file", cfg, "--consumer-group-filters-json-file",
            str(groups), "--topic-filters-json-file", str(topics), "--bootstrap-server", tools.D]

    r = tools.links("--create", *base, "--validate-only")
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' creation successfully validated.\n")
    assert name not in tools.rest_links()

    r = tools.links("--create", *base)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' creation successfully completed.\n")
    link = tools.rest_links()[name]
    assert link["source_cluster_id"] == tools.sid           # discovered from lab.json
    conf = tools.rest_configs(name)
    assert conf["consumer.offset.group.filters"]["value"] == GROUP_FILTERS
    assert conf["consumer.offset.sync.enable"]["value"] == "true"
    assert conf["auto.create.mirror.topics.filters"]["value"] == TOPIC_FILTERS
    assert conf["auto.create.mirror.topics.enable"]["value"] == "true"
    assert conf["consumer.offset.sync.ms"]["value"] == "1000"
    assert conf["acl.sync.enable"]["source"] == "DEFAULT_CONFIG"

    r = tools.links("--create", *base)
    assert (r.returncode, r.stdout) == (
        1, f"Error while executing cluster link command: Cluster link '{name}' already exists.\n")

    r = tools.links("--list", "--bootstrap-server", tools.D)
    assert r.returncode == 0
    assert _list_line(tools, name, link["cluster_link_id"]) in r.stdout.splitlines()
    r = tools.links("--list", "--link-name", name, "--include-topics", "--bootstrap-server", tools.D)
    assert r.stdout == _list_line(tools, name, link["cluster_link_id"], topics=[]) + "\n"

    r = tools.links("--describe", "--link", name, "--bootstrap-server", tools.D)
    assert r.returncode == 0
    first, configs_line = r.stdout.splitlines()
    host = tools.D.rsplit(":", 1)[0]
    assert re.fullmatch(
        rf"Link name: '{name}', link ID: '{link['cluster_link_id']}', remote cluster ID: "
        rf"'{tools.sid}', local cluster ID: '{tools.did}', link mode: 'DESTINATION', connection "
        rf"mode: 'OUTBOUND', link state: 'ACTIVE', link coordinator id: '\d+', link coordinator "
        rf"host: '{re.escape(host)}', topics: \[\]", first), first
    assert configs_line == (
        f"Configs: auto.create.mirror.topics.enable=true,auto.create.mirror.topics.filters="
        f"{TOPIC_FILTERS},bootstrap.servers={tools.S},consumer.offset.group.filters={GROUP_FILTERS},"
        f"consumer.offset.sync.enable=true,consumer.offset.sync.ms=1000")

    r = tools.links("--describe", "--link", "no-such-link", "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: ")
    assert "no-such-link" in r.stdout

    r = tools.links("--delete", "--link", name, "--validate-only", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' deletion successfully validated.\n")
    assert name in tools.rest_links()
    r = tools.links("--delete", "--link", name, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' deletion successfully completed.\n")
    assert name not in tools.rest_links()
    r = tools.links("--delete", "--link", name, "--bootstrap-server", tools.D)
    assert r.returncode == 1 and r.stdout.startswith("Error while executing cluster link command: ")


def test_link_create_inline_config_acl_filters_cluster_id_and_errors(tools, tmp_path):
    name = unique("cpt-inline")
    r = tools.links("--create", "--link", name, "--config",
                    f"bootstrap.servers={tools.S},acl.sync.ms=2000", "--acl-filters-json",
                    ACL_FILTERS, "--cluster-id", tools.sid, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' creation successfully completed.\n")
    conf = tools.rest_configs(name)
    assert conf["acl.filters"]["value"] == ACL_FILTERS
    assert conf["acl.sync.enable"]["value"] == "true"
    assert conf["acl.sync.ms"]["value"] == "2000"
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0

    # a sync enabled without its filters JSON: usage, no link (the CP tool's rule)
    cfg = props_file(tmp_path / "c1", **{"bootstrap.servers": tools.S,
                                         "consumer.offset.sync.enable": "true",
                                         "consumer.offset.group.filters": GROUP_FILTERS})
    r = tools.links("--create", "--link", name, "--config-file", cfg, "--bootstrap-server", tools.D)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("consumer.offset.sync.enable is set to true but the consumer group "
                               "filters JSON is not passed in. Please pass in the path to the JSON "
                               "file using the --consumer-group-filters-json-file option")
    bad = tmp_path / "bad.json"
    bad.write_text('{"groupFilters": [')
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--consumer-group-filters-json-file", str(bad), "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "is not valid JSON" in r.stderr
    bad.write_text('{"topicFilters": []}')
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--consumer-group-filters-json-file", str(bad), "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "must be an object with a 'groupFilters' list" in r.stderr
    # an explicit acl.sync.enable=false stays; the filters are stored all the same
    r = tools.links("--create", "--link", name, "--config",
                    f"bootstrap.servers={tools.S},acl.sync.enable=false", "--acl-filters-json",
                    ACL_FILTERS, "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    conf = tools.rest_configs(name)
    assert (conf["acl.sync.enable"]["value"], conf["acl.filters"]["value"]) == ("false", ACL_FILTERS)
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0
    r = tools.links("--create", "--link", name, "--config-file", str(tmp_path / "missing"),
                    "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "NoSuchFileException" in r.stdout and "--config-file" in r.stdout
    # the remote cluster id cannot be discovered for a bootstrap outside the lab
    r = tools.links("--create", "--link", name, "--config", "bootstrap.servers=10.255.255.1:9092",
                    "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "pass --cluster-id" in r.stdout
    # a wrong --cluster-id fails the server's link validation ...
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--cluster-id", "WRONGclusterID00000000", "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.startswith(f"Error while executing cluster link command: Unable to validate "
                               f"cluster link '{name}'")
    assert name not in tools.rest_links()
    # ... which --exclude-validate-link skips
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--cluster-id", "WRONGclusterID00000000", "--exclude-validate-link",
                    "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    assert tools.rest_links()[name]["source_cluster_id"] == "WRONGclusterID00000000"
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0


def test_secrets_never_printed(tools, tmp_path):
    name = unique("cpt-secret")
    cfg = tmp_path / "secure.config"
    cfg.write_text(f"bootstrap.servers={tools.S}\nsecurity.protocol=SASL_SSL\n"
                   f"sasl.mechanism=PLAIN\nsasl.jaas.config={JAAS}\n")
    r = tools.links("--create", "--link", name, "--config-file", str(cfg), "--bootstrap-server",
                    tools.D)
    assert r.returncode == 0, r.stdout
    outputs = [r.stdout + r.stderr]
    r = tools.links("--describe", "--link", name, "--bootstrap-server", tools.D)
    assert "sasl.jaas.config=null" in r.stdout
    outputs.append(r.stdout + r.stderr)
    r = tools.configs("--describe", "--cluster-link", name, "--bootstrap-server", tools.D)
    assert "  sasl.jaas.config=null sensitive=true synonyms={}\n" in r.stdout
    outputs.append(r.stdout + r.stderr)
    # a server error of an alter that carries a secret: the args line hides it
    r = tools.configs("--alter", "--cluster-link", name, "--bootstrap-server", tools.D,
                      "--add-config", "no.such.config=1,sasl.jaas.config=[" + JAAS + "]")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0].startswith("Error while executing config command with args '")
    assert "sasl.jaas.config=[hidden]" in r.stderr
    outputs.append(r.stdout + r.stderr)
    assert not any("Sup3rSecret" in o for o in outputs), outputs
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0


def test_kafka_configs_describe_and_alter(tools, tmp_path):
    name = unique("cpt-cfg")
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--cluster-link", name)
    assert (r.returncode, r.stdout) == (0, f"Dynamic configs for cluster-link {name} are:\n"
                                           f"  bootstrap.servers={tools.S} sensitive=false "
                                           "synonyms={}\n")
    r = tools.configs("--bootstrap-server", tools.D, "--alter", "--cluster-link", name,
                      "--add-config", "consumer.offset.sync.ms=2000,cluster.link.paused=true")
    assert (r.returncode, r.stdout) == (0, f"Completed updating config for cluster-link {name}.\n")
    conf = tools.rest_configs(name)
    assert conf["consumer.offset.sync.ms"]["value"] == "2000"
    assert conf["cluster.link.paused"]["value"] == "true"
    assert tools.rest_links()[name]["link_state"] == "PAUSED"
    r = tools.links("--list", "--link", name, "--bootstrap-server", tools.D)
    assert r.stdout.endswith("remote cluster available: 'true', link state: 'PAUSED'\n")

    f = tmp_path / "alter.properties"
    f.write_text(f"consumer.offset.group.filters={GROUP_FILTERS}\nconsumer.offset.sync.enable=true\n")
    r = tools.configs("--bootstrap-server", tools.D, "--alter", "--entity-type", "cluster-links",
                      "--entity-name", name, "--add-config-file", str(f), "--delete-config",
                      "cluster.link.paused")
    assert (r.returncode, r.stdout) == (0, f"Completed updating config for cluster-link {name}.\n")
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--entity-type",
                      "cluster-links", "--entity-name", name)
    assert r.stdout.splitlines() == [
        f"Dynamic configs for cluster-link {name} are:",
        f"  bootstrap.servers={tools.S} sensitive=false synonyms={{}}",
        f"  consumer.offset.group.filters={GROUP_FILTERS} sensitive=false synonyms={{}}",
        "  consumer.offset.sync.enable=true sensitive=false synonyms={}",
        "  consumer.offset.sync.ms=2000 sensitive=false synonyms={}"]
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--cluster-link", name, "--all")
    lines = r.stdout.splitlines()
    assert lines[0] == f"All configs for cluster-link {name} are:"
    assert "  acl.sync.ms=5000 sensitive=false synonyms={}" in lines
    assert len(lines) > 30
    # all links: one block per link
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--entity-type", "cluster-links")
    assert f"Dynamic configs for cluster-link {name} are:" in r.stdout.splitlines()

    # errors
    r = tools.configs("--bootstrap-server", tools.D, "--alter", "--cluster-link", name,
                      "--delete-config", "acl.sync.ms,consumer.offset.sync.ms")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Invalid config(s): acl.sync.ms\n")
    assert tools.rest_configs(name)["consumer.offset.sync.ms"]["value"] == "2000"
    r = tools.configs("--bootstrap-server", tools.D, "--alter", "--cluster-link", name,
                      "--add-config", "consumer.offset.sync.enable=maybe")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0] == (
        f"Error while executing config command with args '--bootstrap-server {tools.D} --alter "
        f"--cluster-link {name} --add-config consumer.offset.sync.enable=maybe'")
    assert "consumer.offset.sync.enable" in r.stderr.splitlines()[1]
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--cluster-link", "no-such")
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 2 and "no-such" in r.stderr
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the CLI backend (_backend_cli.CliBackend): the exact argv of every command, the
parsing of every printed format of cluster-linking-api.md section 5, error mapping, secret handling
(0600 temp files, removed, secrets never in argv) and missing tools.

The tools are replaced by FakeTools, which records each argv, snapshots the files the command was
given (content and mode) while it "runs", and answers with recorded output.
"""

from __future__ import annotations

import os
import stat
import time

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _backend
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _backend_cli as cli
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _cli_commands as cli_commands
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _cli_output as cli_output
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError

BIN = "/opt/confluent/bin"
BOOT = "dest-1:9092"
PROPS = "/etc/kafka/admin.properties"
FILE_FLAGS = ("--config-file", "--add-config-file", "--topic-filters-json-file",
              "--consumer-group-filters-json-file", "--acl-filters-json-file")


class FakeTools:
    """The CP tools: answers[i] = (rc, stdout, stderr) for the i-th command (or one answer for all)."""

    def __init__(self, *answers, tools=("kafka-cluster-links", "kafka-mirrors", "kafka-configs", "kafka-topics"),
                 timeout_bin=None):
        self.answers = list(answers)
        self.calls = []
        self.files = []
        self.tools = set(tools)
        self.timeout_bin = timeout_bin
        self.searched = []

    def which(self, tool):
        self.searched.append(tool)
        if tool == "timeout":
            return self.timeout_bin
        return f"{BIN}/{tool}" if tool in self.tools else None

    def run(self, argv):
        self.calls.append(list(argv))
        files = {}
        for i, arg in enumerate(argv[:-1]):
            if arg in FILE_FLAGS:
                path = argv[i + 1]
                with open(path, encoding="utf-8") as handle:
                    files[arg] = {"path": path, "content": handle.read(),
                                  "mode": stat.S_IMODE(os.stat(path).st_mode)}
        self.files.append(files)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer


def backend(tools, tmp_path, **kw):
    kw.setdefault("command_config", PROPS)
    warnings = kw.pop("warnings", [])
    return cli.CliBackend(BOOT, tools.run, tools.which, tmpdir=str(tmp_path), warn=warnings.append, **kw)


def ok(out=""):
    return (0, out, "")


BASE = [f"{BIN}/kafka-cluster-links", "--bootstrap-server", BOOT, "--command-config", PROPS]

# --- recorded lines (cluster-linking-api.md section 5) -----------------------------------------

DESCRIBE_LINK = (
    "Link name: 'orders-link', link ID: 'eEBkTffYSESld6EO898x3w', remote cluster ID: 'LABsrcCLUSTERid0000001', "
    "local cluster ID: 'LABdstCLUSTERid0000002', link mode: 'DESTINATION', connection mode: 'OUTBOUND', "
    "link state: 'ACTIVE', link coordinator id: '0', link coordinator host: '127.0.0.1', topics: [orders, payments]\n"
    "Configs: bootstrap.servers=src:9092,consumer.offset.sync.ms=10000\n")
LIST_7X = (
    "Link name: 'a', link ID: 'id-a', remote cluster ID: 'SRC', local cluster ID: 'DST', "
    "remote cluster available: 'true', link state: 'ACTIVE'\n"
    "Link name: 'b', link ID: 'id-b', remote cluster ID: 'SRC2', local cluster ID: 'DST', "
    "remote cluster available: 'false', topics: [t1, t2]\n")
LIST_6X = "Link name: 'old', link ID: '2d3c1f6a-0000-4000-8000-000000000000', cluster ID: 'SRC'\n"
CONFIGS_DESCRIBE = (
    "Dynamic configs for cluster-link orders-link are:\n"
    "  bootstrap.servers=src-1:9092,src-2:9092 sensitive=false synonyms={}\n"
    "  sasl.jaas.config=null sensitive=true synonyms={}\n"
    "  consumer.offset.sync.ms=10000 sensitive=false synonyms={DYNAMIC_CLUSTER_LINK_CONFIG:consumer.offset.sync.ms=10000}\n"
    '  auto.create.mirror.topics.filters={"topicFilters":[{"name":"orders.","patternType":"PREFIXED",'
    '"filterType":"INCLUDE"}]} sensitive=false synonyms={}\n')
MIRRORS_DESCRIBE = (
    "Topic: orders\tLinkName: orders-link\tLinkId: eEBkTffYSESld6EO898x3w\tSourceTopic: orders\tState: ACTIVE"
    "\tSourceTopicId: AAAAAAAAAAAAAAAAAAAAAA\tStateTime: 2024-03-01 10:00:00\n"
    "\tPartition: 0\tState: ACTIVE\tDestLogEndOffset: 12\tLastFetchSourceHighWatermark: 12\tLag: 0"
    "\tTimeSinceLastFetchMs: 150\n"
    "\tPartition: 1\tState: ACTIVE\tDestLogEndOffset: 9\tLastFetchSourceHighWatermark: 14\tLag: 5"
    "\tTimeSinceLastFetchMs: 150\n"
    "Topic: dc1.pay\tLinkName: orders-link\tLinkId: eEBkTffYSESld6EO898x3w\tMirrorTopic: pay\t"
    "State: PendingRestoreMirror\tStateTime: 1709287200123\n"
    "\tPartition: 0\tState: PENDING_RESTORE\tDestLogEndOffset: 0\tLastFetchSourceHighWatermark: -1\tLag: 0"
    "\tTimeSinceLastFetchMs: -1\n")
PROMOTE_OK = (
    "Calculating max offset and ms lag for mirror topics: [orders, payments]\n"
    "Finished calculating max offset lag and max lag ms for mirror topics: [orders, payments]\n"
    "Request for stopping topic orders's mirror was successfully scheduled. Please use the describe command "
    "with the --pending-stopped-only option to monitor progress.\n"
    "Request for stopping topic payments's mirror was successfully scheduled. Please use the describe command "
    "with the --pending-stopped-only option to monitor progress.\n")
PROMOTE_PARTLY = (
    "Calculating max offset and ms lag for mirror topics: [orders, payments]\n"
    "Finished calculating max offset lag and max lag ms for mirror topics: [orders, payments]\n"
    "Request for stopping topic orders's mirror was successfully scheduled. Please use the describe command "
    "with the --pending-stopped-only option to monitor progress.\n"
    "Error encountered while stopping topic payments's mirror: org.apache.kafka.common.errors."
    "InvalidRequestException: Topic 'payments' has already stopped its mirror from 'orders-link'\n")


# --- command building --------------------------------------------------------------------------

def test_describe_link_argv_and_shape(tmp_path):
    tools = FakeTools(ok(DESCRIBE_LINK))
    b = backend(tools, tmp_path)
    link = b.get_link("orders-link")
    assert tools.calls == [BASE + ["--describe", "--link", "orders-link"]]
    assert link["link_name"] == "orders-link"
    assert link["cluster_link_id"] == "eEBkTffYSESld6EO898x3w"
    assert link["source_cluster_id"] == "LABsrcCLUSTERid0000001"
    assert link["destination_cluster_id"] is None and link["remote_cluster_id"] is None
    assert link["link_state"] == "ACTIVE"
    assert link["topic_names"] == ["orders", "payments"]
    assert "tasks" not in link
    assert b.call_count == 1
    # the local cluster ID came with it: no extra command
    assert b.cluster_id == "LABdstCLUSTERid0000002"
    assert b.call_count == 1


def test_no_command_config_no_flag(tmp_path):
    tools = FakeTools(ok(DESCRIBE_LINK))
    b = backend(tools, tmp_path, command_config=None)
    b.get_link("orders-link")
    assert tools.calls == [[f"{BIN}/kafka-cluster-links", "--bootstrap-server", BOOT,
                            "--describe", "--link", "orders-link"]]


def test_timeout_wraps_the_command_when_the_host_has_timeout(tmp_path):
    tools = FakeTools(ok(DESCRIBE_LINK), timeout_bin="/usr/bin/timeout")
    backend(tools, tmp_path, timeout=90).get_link("orders-link")
    assert tools.calls[0][:3] == ["/usr/bin/timeout", "--kill-after=10", "90s"]
    assert tools.calls[0][3:] == BASE + ["--describe", "--link", "orders-link"]


def test_timeout_is_reported_naming_cli_timeout(tmp_path):
    tools = FakeTools((124, "", ""), timeout_bin="/usr/bin/timeout")
    with pytest.raises(cli.CliError) as err:
        backend(tools, tmp_path, timeout=2.5).get_link("x")
    assert "cli_timeout (2.5 seconds)" in err.value.message
    assert tools.calls[0][2] == "2.500s"


def test_create_link_argv_files_and_secrets(tmp_path):
    tools = FakeTools(ok("Cluster link 'orders-link' creation successfully completed.\n"))
    b = backend(tools, tmp_path)
    secret = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p=s\\w";'
    filters = '{"topicFilters":[{"name":"orders.","patternType":"PREFIXED","filterType":"INCLUDE"}]}'
    groups = '{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}'
    b.create_link("orders-link", {"source_cluster_id": "SRC"}, {
        "bootstrap.servers": "src:9092", "sasl.jaas.config": secret, "auto.create.mirror.topics.filters": filters,
        "consumer.offset.group.filters": groups, "auto.create.mirror.topics.enable": "true"})
    (argv,) = tools.calls
    files = tools.files[0]
    assert argv == BASE + ["--create", "--link", "orders-link", "--cluster-id", "SRC",
                           "--config-file", files["--config-file"]["path"],
                           "--topic-filters-json-file", files["--topic-filters-json-file"]["path"],
                           "--consumer-group-filters-json-file", files["--consumer-group-filters-json-file"]["path"]]
    assert all(f["mode"] == 0o600 for f in files.values())
    assert files["--config-file"]["content"] == (
        "auto.create.mirror.topics.enable=true\nbootstrap.servers=src:9092\n"
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" '
        'password="p=s\\\\w";\n')
    assert files["--topic-filters-json-file"]["content"] == filters + "\n"
    assert files["--consumer-group-filters-json-file"]["content"] == groups + "\n"
    # the files are gone, and no argv carries a secret
    assert not any(os.path.exists(f["path"]) for f in files.values())
    assert not any("password" in a or "p=s" in a for a in argv)
    assert os.listdir(tmp_path) == []


def test_create_link_validate_only_and_acl_filters(tmp_path):
    tools = FakeTools(ok("Cluster link 'l' creation successfully validated.\n"))
    acl = '{"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"},' \
          '"accessFilter":{"operation":"any","permissionType":"any"}}]}'
    backend(tools, tmp_path).create_link("l", {"destination_cluster_id": "DST"}, {"acl.filters": acl,
                                                                                  "link.mode": "SOURCE"},
                                         validate_only=True)
    argv = tools.calls[0]
    assert argv[len(BASE):len(BASE) + 5] == ["--create", "--link", "l", "--cluster-id", "DST"]
    assert "--validate-only" in argv
    assert tools.files[0]["--acl-filters-json-file"]["content"] == acl + "\n"
    assert tools.files[0]["--config-file"]["content"] == "link.mode=SOURCE\n"


def test_temp_files_are_removed_when_the_command_fails(tmp_path):
    tools = FakeTools((1, "Error while executing cluster link command: Invalid config bad.key\n", ""))
    with pytest.raises(cli.CliError):
        backend(tools, tmp_path).create_link("l", {"source_cluster_id": "S"}, {"bad.key": "1"})
    assert tools.files[0]["--config-file"]["mode"] == 0o600
    assert os.listdir(tmp_path) == []


def test_temp_files_are_removed_when_the_runner_raises(tmp_path):
    def boom(argv):
        raise RuntimeError("killed")
    b = cli.CliBackend(BOOT, boom, FakeTools().which, tmpdir=str(tmp_path))
    with pytest.raises(RuntimeError):
        b.create_link("l", {"source_cluster_id": "S"}, {"sasl.jaas.config": "x"})
    assert os.listdir(tmp_path) == []


def test_alter_link_configs_one_command_set_and_delete(tmp_path):
    tools = FakeTools(ok("Completed updating config for cluster-link l.\n"))
    b = backend(tools, tmp_path)
    b.alter_link_configs("l", {"consumer.offset.sync.ms": "20000", "sasl.jaas.config": "SECRET-1"},
                         delete_names=["topic.config.sync.ms", "acl.sync.ms"])
    (argv,) = tools.calls
    path = tools.files[0]["--add-config-file"]["path"]
    assert argv == [f"{BIN}/kafka-configs", "--bootstrap-server", BOOT, "--command-config", PROPS,
                    "--alter", "--cluster-link", "l", "--delete-config", "acl.sync.ms,topic.config.sync.ms",
                    "--add-config-file", path]
    assert tools.files[0]["--add-config-file"]["content"] == \
        "consumer.offset.sync.ms=20000\nsasl.jaas.config=SECRET-1\n"
    assert tools.files[0]["--add-config-file"]["mode"] == 0o600
    assert not os.path.exists(path)
    assert not any("SECRET-1" in a for a in argv)


def test_alter_link_configs_nothing_to_do_runs_nothing(tmp_path):
    tools = FakeTools(ok())
    backend(tools, tmp_path).alter_link_configs("l", {}, ())
    assert tools.calls == []


def test_delete_link_argv(tmp_path):
    tools = FakeTools(ok("Cluster link 'l' deletion successfully completed.\n"))
    b = backend(tools, tmp_path)
    b.delete_link("l")
    b.delete_link("l", force=True)
    b.delete_link("l", validate_only=True)
    assert tools.calls == [BASE + ["--delete", "--link", "l"], BASE + ["--delete", "--link", "l", "--force"],
                           BASE + ["--delete", "--link", "l", "--validate-only"]]


def test_alter_validate_only_is_refused_before_any_command(tmp_path):
    tools = FakeTools(ok())
    with pytest.raises(ApiError) as err:
        backend(tools, tmp_path).alter_link_configs("l", {"a": "1"}, validate_only=True)
    assert "validate_only" in err.value.message and "api=rest" in err.value.message
    assert tools.calls == []


def test_list_links_argv_and_shape(tmp_path):
    tools = FakeTools(ok(LIST_7X))
    b = backend(tools, tmp_path)
    links = b.list_links()
    assert tools.calls == [BASE + ["--list", "--include-topics"]]
    assert [l["link_name"] for l in links] == ["a", "b"]
    assert b.cluster_id == "DST" and b.call_count == 1
    assert backend(FakeTools(ok("No cluster links found.\n")), tmp_path).list_links() == []


def test_list_all_mirrors(tmp_path):
    tools = FakeTools(ok(MIRRORS_DESCRIBE))
    mirrors = backend(tools, tmp_path).list_all_mirrors()
    assert tools.calls[0][len(BASE):] == ["--describe"]
    assert [(m["mirror_topic_name"], m["link_name"]) for m in mirrors] == [
        ("dc1.pay", "orders-link"), ("orders", "orders-link")]
    assert all("mirror_lags" in m for m in mirrors)


def test_get_mirror(tmp_path):
    warnings = []
    tools = FakeTools(ok(MIRRORS_DESCRIBE.split("Topic: dc1.pay", maxsplit=1)[0]))
    b = backend(tools, tmp_path, warnings=warnings)
    mirror = b.get_mirror("orders-link", "orders")
    assert tools.calls[0][0] == f"{BIN}/kafka-mirrors"
    assert tools.calls[0][len(BASE):] == ["--describe", "--topics", "orders"]
    assert mirror["mirror_status"] == "ACTIVE" and mirror["num_partitions"] == 2
    assert "mirror_state_transition_errors" not in mirror
    mirror = b.get_mirror("orders-link", "orders", include_state_transition_errors=True)
    assert mirror["mirror_state_transition_errors"] == []
    assert len(warnings) == 1 and "state transition errors" in warnings[0]
    # a mirror of another link, not a mirror, or no such topic: None
    assert b.get_mirror("other-link", "orders") is None
    assert backend(FakeTools(ok("No mirror topics found.\n")), tmp_path).get_mirror("l", "x") is None
    gone = (1, "", "Error while executing mirror command: Topic 'x' does not exist.\n")
    assert backend(FakeTools(gone), tmp_path).get_mirror("l", "x") is None


def test_delete_topic_escapes_the_regex(tmp_path):
    tools = FakeTools(ok())
    backend(tools, tmp_path).delete_topic("orders.v1")
    assert tools.calls == [[f"{BIN}/kafka-topics", "--bootstrap-server", BOOT, "--command-config", PROPS,
                            "--delete", "--topic", "orders\\.v1"]]
    missing = (1, "", "Error while executing topic command : Topic 'orders.v1' does not exist as expected\n")
    with pytest.raises(ApiError) as err:
        backend(FakeTools(missing), tmp_path).delete_topic("orders.v1")
    assert err.value.status == 404
    assert err.value.message == ("kafka-topics --delete failed (exit code 1): "
                                 "Topic 'orders.v1' does not exist as expected")


def test_create_mirror_argv(tmp_path):
    tools = FakeTools(ok("Created topic orders.\n"))
    b = backend(tools, tmp_path)
    b.create_mirror("l", "orders")
    b.create_mirror("l", "dc1.pay", source_topic_name="pay", configs={"retention.ms": 86400000})
    mirrors = [f"{BIN}/kafka-mirrors", "--bootstrap-server", BOOT, "--command-config", PROPS]
    assert tools.calls[0] == mirrors + ["--create", "--mirror-topic", "orders", "--link", "l"]
    path = tools.files[1]["--config-file"]["path"]
    assert tools.calls[1] == mirrors + ["--create", "--mirror-topic", "dc1.pay", "--link", "l",
                                        "--source-topic", "pay", "--config-file", path]
    assert tools.files[1]["--config-file"]["content"] == "retention.ms=86400000\n"


def test_create_mirror_on_an_existing_topic(tmp_path):
    tools = FakeTools((1, "Error while executing mirror command: Topic 'orders' already exists.\n", ""))
    with pytest.raises(ApiError) as err:
        backend(tools, tmp_path).create_mirror("l", "orders")
    assert err.value.status == 409
    assert "Topic 'orders' already exists." in err.value.message
    assert err.value.to_result()["command"] == "kafka-mirrors --create"


@pytest.mark.parametrize("action,flag,extra", [
    ("promote", "--promote", []),
    ("failover", "--failover", []),
    ("pause", "--pause", []),
    ("resume", "--unpause", []),
    ("reverse-and-start", "--reverse-and-start", []),
    ("reverse-and-pause", "--reverse-and-pause", []),
    ("truncate-and-restore", "--truncate-and-restore", ["--link", "l"]),
])
def test_batch_action_is_one_command_for_all_topics(tmp_path, action, flag, extra):
    topics = [f"t{i}" for i in range(200)]
    out = "".join(f"Request for stopping topic {t}'s mirror was successfully scheduled.\n" for t in topics)
    tools = FakeTools(ok(out))
    succeeded, failed = backend(tools, tmp_path).alter_mirrors("l", action, topics)
    assert tools.calls == [[f"{BIN}/kafka-mirrors", "--bootstrap-server", BOOT, "--command-config", PROPS,
                            flag, "--topics", ",".join(topics)] + extra]
    assert list(succeeded) == topics and failed == {}
    assert succeeded["t0"] == {"mirror_lags": [], "messages_truncated": None, "partition_level_truncation_data": []}


def test_every_rest_action_has_a_flag():
    assert set(cli_commands.ACTION_FLAGS) >= set(_mirrors_actions().values())


def _mirrors_actions():
    from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirrors
    return _mirrors.ACTIONS


def test_list_mirrors_argv_and_shape(tmp_path):
    tools = FakeTools(ok(MIRRORS_DESCRIBE))
    mirrors = backend(tools, tmp_path).list_mirrors("orders-link")
    assert tools.calls == [[f"{BIN}/kafka-mirrors", "--bootstrap-server", BOOT, "--command-config", PROPS,
                            "--describe", "--links", "orders-link"]]
    assert sorted(mirrors) == ["dc1.pay", "orders"]
    orders = mirrors["orders"]
    assert orders["link_name"] == "orders-link"
    assert orders["source_topic_name"] == "orders"
    assert orders["mirror_status"] == "ACTIVE"
    assert orders["num_partitions"] == 2
    assert orders["mirror_lags"] == [{"partition": 0, "lag": 0, "last_source_fetch_offset": 12},
                                     {"partition": 1, "lag": 5, "last_source_fetch_offset": 14}]
    assert orders["state_time_ms"] == int(time.mktime(time.strptime("2024-03-01 10:00:00",
                                                                    "%Y-%m-%d %H:%M:%S"))) * 1000
    pay = mirrors["dc1.pay"]
    assert pay["source_topic_name"] == "pay"          # the older MirrorTopic: field
    assert pay["mirror_status"] == "PENDING_RESTORE"  # CamelCase state of the tool
    assert pay["state_time_ms"] == 1709287200123
    assert pay["mirror_lags"] == [{"partition": 0, "lag": 0, "last_source_fetch_offset": -1}]


def test_list_mirrors_empty_link_and_missing_link(tmp_path):
    # a link without mirrors: the describe prints nothing found, the link exists
    tools = FakeTools(ok("No mirror topics found.\n"), ok(DESCRIBE_LINK.replace("orders-link", "empty")))
    b = backend(tools, tmp_path)
    assert b.list_mirrors("empty") == {}
    assert b.call_count == 2
    # a link that does not exist: ApiError 404
    tools = FakeTools(ok("No mirror topics found.\n"),
                      (1, "Error while executing cluster link command: Cluster link 'nope' does not exist.\n", ""))
    with pytest.raises(ApiError) as err:
        backend(tools, tmp_path).list_mirrors("nope")
    assert err.value.status == 404
    # the tool itself says the link does not exist
    tools = FakeTools((1, "", "Error while executing mirror command: Cluster link 'nope' does not exist.\n"))
    with pytest.raises(ApiError) as err:
        backend(tools, tmp_path).list_mirrors("nope")
    assert err.value.status == 404
    assert err.value.message.endswith("Cluster link 'nope' does not exist.")


def test_list_mirrors_keeps_only_the_link_asked_for(tmp_path):
    other = MIRRORS_DESCRIBE.replace("LinkName: orders-link\tLinkId: eEBkTffYSESld6EO898x3w\tMirrorTopic",
                                     "LinkName: other\tLinkId: x\tMirrorTopic")
    mirrors = backend(FakeTools(ok(other)), tmp_path).list_mirrors("orders-link")
    assert sorted(mirrors) == ["orders"]


def test_get_link_on_a_tool_without_describe_uses_list(tmp_path):
    tools = FakeTools((1, "", "describe is not a recognized option\n"), ok(LIST_6X.replace("old", "l")))
    b = backend(tools, tmp_path)
    link = b.get_link("l")
    assert tools.calls == [BASE + ["--describe", "--link", "l"], BASE + ["--list", "--link", "l", "--include-topics"]]
    assert link["link_name"] == "l" and link["source_cluster_id"] == "SRC"
    b.get_link("l")  # remembered: no second --describe
    assert tools.calls[-1] == BASE + ["--list", "--link", "l", "--include-topics"] and len(tools.calls) == 3


def test_get_link_with_a_missing_command_config_file_fails(tmp_path):
    missing = (1, "Error while executing cluster link command: java.nio.file.NoSuchFileException: /x.properties "
                  "(the file given to --command-config does not exist)\n", "")
    with pytest.raises(ApiError) as err:
        backend(FakeTools(missing), tmp_path).get_link("l")
    assert err.value.status == 400 and "/x.properties" in err.value.message


def test_get_link_missing_is_none(tmp_path):
    for answer in [(1, "Error while executing cluster link command: Cluster link 'x' does not exist.\n", ""),
                   (0, "Link name 'x' not found.\n", "")]:
        assert backend(FakeTools(answer), tmp_path).get_link("x") is None


def test_get_link_with_tasks_warns_when_the_tool_prints_none(tmp_path):
    warnings = []
    b = backend(FakeTools(ok(DESCRIBE_LINK)), tmp_path, warnings=warnings)
    link = b.get_link("orders-link", include_tasks=True)
    assert link["tasks"] == []
    b.get_link("orders-link", include_tasks=True)
    assert len(warnings) == 1 and "could not be checked" in warnings[0] and "api=rest" in warnings[0]


def test_get_link_with_printed_tasks(tmp_path):
    out = DESCRIBE_LINK + ("Task: AclSync State: IN_ERROR Errors: MISCONFIGURATION_ERROR: acl.filters is not set\n"
                           "Task: TopicConfigsSync State: ACTIVE\n")
    warnings = []
    link = backend(FakeTools(ok(out)), tmp_path, warnings=warnings).get_link("orders-link", include_tasks=True)
    assert link["tasks"] == [
        {"task_name": "AclSync", "state": "IN_ERROR",
         "errors": [{"error_code": "MISCONFIGURATION_ERROR", "error_message": "acl.filters is not set"}]},
        {"task_name": "TopicConfigsSync", "state": "ACTIVE", "errors": []}]
    assert warnings == []


def test_link_configs_parse(tmp_path):
    tools = FakeTools(ok(CONFIGS_DESCRIBE))
    entries = backend(tools, tmp_path, cluster_id="DST").get_link_configs("orders-link")
    assert tools.calls == [[f"{BIN}/kafka-configs", "--bootstrap-server", BOOT, "--command-config", PROPS,
                            "--describe", "--cluster-link", "orders-link"]]
    by_name = {e["name"]: e for e in entries}
    assert by_name["bootstrap.servers"]["value"] == "src-1:9092,src-2:9092"
    assert by_name["sasl.jaas.config"]["value"] is None
    assert by_name["sasl.jaas.config"]["is_sensitive"] is True
    assert by_name["consumer.offset.sync.ms"]["source"] == "DYNAMIC_CLUSTER_LINK_CONFIG"
    assert by_name["auto.create.mirror.topics.filters"]["value"].startswith('{"topicFilters":[')
    assert all(e["is_default"] is False and e["cluster_id"] == "DST" for e in entries)
    # what the reconcilers read from it
    from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_configs import dynamic_configs
    assert dynamic_configs(entries) == {
        "bootstrap.servers": "src-1:9092,src-2:9092", "sasl.jaas.config": None,
        "consumer.offset.sync.ms": "10000",
        "auto.create.mirror.topics.filters": by_name["auto.create.mirror.topics.filters"]["value"]}


def test_all_configs_listing_takes_the_source_from_synonyms():
    out = ("All configs for cluster-link l are:\n"
           "  consumer.offset.sync.ms=10000 sensitive=false synonyms={DYNAMIC_CLUSTER_LINK_CONFIG:"
           "consumer.offset.sync.ms=10000, DEFAULT_CONFIG:consumer.offset.sync.ms=30000}\n"
           "  acl.sync.ms=5000 sensitive=false synonyms={DEFAULT_CONFIG:acl.sync.ms=5000}\n")
    entries = {e["name"]: e for e in cli_output.parse_config_entries(out)}
    assert entries["consumer.offset.sync.ms"]["is_default"] is False
    assert entries["acl.sync.ms"]["is_default"] is True
    assert entries["acl.sync.ms"]["source"] == "DEFAULT_CONFIG"


def test_list_lines_7x_and_6x():
    links, local = cli_output.parse_links(LIST_7X)
    assert local == "DST"
    assert [(l["link_name"], l["cluster_link_id"], l["source_cluster_id"], l["link_state"]) for l in links] == [
        ("a", "id-a", "SRC", "ACTIVE"), ("b", "id-b", "SRC2", "UNAVAILABLE")]
    assert links[1]["topic_names"] == ["t1", "t2"]
    links, local = cli_output.parse_links(LIST_6X)
    assert local is None and links[0]["source_cluster_id"] == "SRC"


def test_source_and_bidirectional_links_put_the_remote_id_in_the_right_field():
    line = ("Link name: 's', link ID: 'i', remote cluster ID: 'R', local cluster ID: 'L', link mode: '%s', "
            "connection mode: 'OUTBOUND', link state: 'ACTIVE'")
    source, dummy = cli_output.parse_link_line(line % "SOURCE")
    assert (source["source_cluster_id"], source["destination_cluster_id"]) == (None, "R")
    bidi, dummy = cli_output.parse_link_line(line % "BIDIRECTIONAL")
    assert bidi["remote_cluster_id"] == "R" and bidi["link_mode"] == "BIDIRECTIONAL"


def test_cluster_id_option_costs_nothing_and_discovery_costs_one_command(tmp_path):
    tools = FakeTools(ok(LIST_7X))
    b = backend(tools, tmp_path, cluster_id="GIVEN")
    assert b.cluster_id == "GIVEN" and tools.calls == []
    b = backend(tools, tmp_path)
    assert b.cluster_id == "DST" and b.cluster_id == "DST"
    assert tools.calls == [BASE + ["--list"]]


def test_cluster_id_without_links_says_set_cluster_id(tmp_path):
    with pytest.raises(cli.CliError) as err:
        backend(FakeTools(ok("No cluster links found.\n")), tmp_path).cluster_id
    assert "Set cluster_id" in err.value.message and BOOT in err.value.message


def test_list_topic_names(tmp_path):
    tools = FakeTools(ok("__consumer_offsets\norders\n[2024-01-01 00:00:00,000] WARN something (x)\npay.v1\n"))
    assert backend(tools, tmp_path).list_topic_names() == {"__consumer_offsets", "orders", "pay.v1"}
    assert tools.calls[0][0] == f"{BIN}/kafka-topics" and tools.calls[0][-1] == "--list"


# --- batch results ------------------------------------------------------------------------------

def test_batch_with_a_per_topic_error(tmp_path):
    tools = FakeTools((1, PROMOTE_PARTLY, ""))
    succeeded, failed = backend(tools, tmp_path).alter_mirrors("orders-link", "promote", ["orders", "payments"])
    assert list(succeeded) == ["orders"]
    assert failed == {"payments": "InvalidRequestException: Topic 'payments' has already stopped its mirror "
                                  "from 'orders-link'"}
    assert len(tools.calls) == 1


def test_batch_all_ok_and_topic_without_a_line(tmp_path):
    succeeded, failed = backend(FakeTools(ok(PROMOTE_OK)), tmp_path).alter_mirrors(
        "orders-link", "promote", ["orders", "payments", "ghost"])
    assert list(succeeded) == ["orders", "payments"]
    assert failed == {"ghost": "kafka-mirrors printed no result for this topic"}


def test_batch_that_fails_as_a_whole_raises(tmp_path):
    tools = FakeTools((1, "", "Error while executing mirror command: Cluster link 'l' does not exist.\n"))
    with pytest.raises(ApiError) as err:
        backend(tools, tmp_path).alter_mirrors("l", "failover", ["a", "b"])
    assert err.value.status == 404
    assert err.value.message == ("kafka-mirrors --failover failed (exit code 1): "
                                 "Cluster link 'l' does not exist.")


def test_batch_error_lines_of_the_lab_tools():
    """docs/lab.md "CP tools": a per-topic failure in the topic's place, exit 1."""
    out = ("Request for pausing topic a's mirror was successfully scheduled.\n"
           "Error encountered while pausing topic b's mirror: java.util.concurrent.ExecutionException: "
           "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic 'b' is not a mirror topic "
           "of any cluster link.\n"
           "Request for unpausing topic c's mirror was successfully scheduled.\n"
           "Request for reversing local mirror and pausing remote mirror for topic d was successfully scheduled.\n")
    done, failed = cli_output.parse_batch(out, ["a", "b", "c", "d"])
    assert sorted(done) == ["a", "c", "d"]
    assert failed == {"b": "UnknownTopicOrPartitionException: Topic 'b' is not a mirror topic of any cluster link."}


def test_topic_names_that_look_like_errors_are_not_errors():
    names = ["error-events", "failed.orders", "invalid_x"]
    out = "".join(f"Request for stopping topic {n}'s mirror was successfully scheduled.\n" for n in names)
    done, failed = cli_output.parse_batch(out, names)
    assert sorted(done) == sorted(names) and failed == {}


def test_parse_batch_reverse_and_truncate_lines():
    done, failed = cli_output.parse_batch(
        "Request for reversing local mirror and starting remote mirror for topic a was successfully scheduled.\n"
        "Request for truncate and restore for topic b was successfully scheduled. 42 messages will be truncated.\n",
        ["a", "b"])
    assert done == {"a": {}, "b": {"messages_truncated": 42}} and failed == {}


def test_truncate_and_restore_reports_messages_truncated(tmp_path):
    out = ("Request for truncate and restore for topic a was successfully scheduled. 7 messages will be truncated.\n")
    succeeded, failed = backend(FakeTools(ok(out)), tmp_path).alter_mirrors("l", "truncate-and-restore", ["a"])
    assert succeeded == {"a": {"mirror_lags": [], "messages_truncated": 7, "partition_level_truncation_data": []}}
    assert failed == {}


def test_unknown_action_is_refused(tmp_path):
    with pytest.raises(cli.CliError):
        backend(FakeTools(ok()), tmp_path).alter_mirrors("l", "explode", ["a"])


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,status", [
    ("Cluster link 'x' does not exist.", 404),
    ("Link name 'x' not found.", 404),
    ("Topic 'x' already exists.", 409),
    ("org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed", 401),
    ("org.apache.kafka.common.errors.ClusterAuthorizationException: Cluster authorization failed.", 403),
    ("Invalid config no.such.config", 400),
    ("Topic 'orders.v1' does not exist as expected", 404),
    ("org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic 'b' is not a mirror topic", 404),
    # a missing file is no missing link: get_link must not answer "absent" (and create it again)
    ("java.nio.file.NoSuchFileException: /etc/x.properties (the file given to --command-config does not exist)", 400),
    ("Timed out waiting for a node assignment: no broker answers at 'x'", 400),
])
def test_status_inference(text, status):
    assert cli_output.infer_status(text) == status


def test_error_line_picks_the_tool_error_and_drops_the_prefix():
    assert cli_output.error_line("", "[2024-01-01] WARN x\nError while executing cluster link command: Boom.\n"
                                     "\tat kafka.admin.X\n") == "Boom."
    assert cli_output.error_line("Error while executing config command with args '--bootstrap-server b --alter'\n"
                                 "org.apache.kafka.common.errors.InvalidConfigurationException: Unknown config x\n",
                                 "") == "org.apache.kafka.common.errors.InvalidConfigurationException: Unknown config x"
    assert cli_output.error_line("", "Missing required argument \"[link]\"\n") == 'Missing required argument "[link]"'


def test_secrets_sent_are_redacted_from_error_messages(tmp_path):
    tools = FakeTools((1, "Error while executing config command: Invalid value SECRET-42 for sasl.jaas.config\n",
                       ""))
    with pytest.raises(ApiError) as err:
        backend(tools, tmp_path).alter_link_configs("l", {"sasl.jaas.config": "SECRET-42"})
    assert "SECRET-42" not in err.value.message and "********" in err.value.message
    assert "SECRET-42" not in repr(err.value.to_result())


def test_cli_error_is_an_api_error_with_result_fields(tmp_path):
    with pytest.raises(ApiError) as err:
        backend(FakeTools((2, "", "Error while executing cluster link command: nope\n")), tmp_path).delete_link("l")
    result = err.value.to_result()
    assert result["rc"] == 2 and result["status"] == 400 and result["command"] == "kafka-cluster-links --delete"


# --- missing tools ------------------------------------------------------------------------------

def test_missing_tool_names_the_tool_and_cli_path(tmp_path):
    tools = FakeTools(ok(), tools=("kafka-cluster-links",))
    b = backend(tools, tmp_path, cli_path="/x")
    with pytest.raises(cli.CliError) as err:
        b.list_mirrors("l")
    assert err.value.message.startswith("kafka-mirrors not found in cli_path /x or PATH;")
    assert "set cli_path" in err.value.message
    assert tools.calls == []
    b = backend(tools, tmp_path)
    with pytest.raises(cli.CliError) as err:
        b.list_topic_names()
    assert "kafka-topics not found in PATH (cli_path is not set)" in err.value.message
    assert "kafka-topics.sh" in tools.searched  # Apache Kafka's name is tried too


# --- the interface ------------------------------------------------------------------------------

def test_cli_backend_implements_every_backend_method():
    import inspect
    abstract = [n for n, v in vars(_backend.Backend).items() if callable(v) and not n.startswith("_")
                and "NotImplementedError" in inspect.getsource(v)]  # not the helpers every backend shares
    assert "create_link" in abstract and "note_resend" not in abstract
    missing = [n for n in abstract if vars(cli.CliBackend).get(n) is None]
    assert missing == []
    differ = [n for n in abstract
              if inspect.signature(getattr(_backend.Backend, n)) != inspect.signature(getattr(cli.CliBackend, n))]
    assert differ == [], "the CLI backend takes other arguments than the Backend contract"
    for prop in ("cluster_id", "call_count"):
        assert isinstance(vars(cli.CliBackend)[prop], property)


def test_normalize_status():
    assert cli_output.normalize_status("PendingSetupForRestoreMirror") == "PENDING_SETUP_FOR_RESTORE"
    assert cli_output.normalize_status("PendingMirror") == "PENDING_MIRROR"
    assert cli_output.normalize_status("ACTIVE") == "ACTIVE"
    assert cli_output.normalize_status("Stopped") == "STOPPED"
    assert cli_output.normalize_status("link_paused") == "LINK_PAUSED"


# --- choosing the backend (_rest_options.connect) -------------------------------------------------

class FakeModule:
    """What connect() uses of an AnsibleModule."""

    def __init__(self, tmp_path, **params):
        self.params = dict(api="rest", rest_url=None, cluster_id=None, rest_username=None, rest_password=None,
                           rest_token=None, client_cert=None, client_key=None, ca_path=None,
                           validate_certs=True, request_timeout=30, retries=3, retry_max_delay=30, bootstrap_server=None,
                           command_config=None, cli_path=None, cli_timeout=300)
        self.params.update(params)
        self.tmpdir = str(tmp_path)
        self.warnings = []
        self.commands = []

    def fail_json(self, **result):
        raise SystemExit(result)

    def warn(self, text):
        self.warnings.append(text)

    def get_bin_path(self, tool, required=False, opt_dirs=None):
        return f"{opt_dirs[0]}/{tool}" if opt_dirs else None

    def run_command(self, argv, expand_user_and_vars=True):
        assert expand_user_and_vars is False  # argument values are passed as they are
        self.commands.append(argv)
        return 0, DESCRIBE_LINK, ""


def test_connect_rest_needs_rest_url(tmp_path):
    from ansible_collections.linkops.cluster_linking.plugins.module_utils import _rest_options as ro
    with pytest.raises(SystemExit) as err:
        ro.connect(FakeModule(tmp_path))
    msg = err.value.args[0]["msg"]
    assert "rest_url is required with api=rest" in msg and "KAFKA_REST_URL" in msg
    backend_ = ro.connect(FakeModule(tmp_path, rest_url="http://x:8090/kafka", cluster_id="C"))
    assert backend_.name == "rest" and ro.call_counts(backend_) == {"rest_requests": 0, "rest_retries": 0}


def test_connect_cli(tmp_path):
    from ansible_collections.linkops.cluster_linking.plugins.module_utils import _rest_options as ro
    with pytest.raises(SystemExit) as err:
        ro.connect(FakeModule(tmp_path, api="cli"))
    assert "bootstrap_server is required with api=cli" in err.value.args[0]["msg"]
    with pytest.raises(SystemExit) as err:
        ro.connect(FakeModule(tmp_path, api="cli", bootstrap_server=BOOT, command_config=str(tmp_path / "nope")))
    assert "command_config" in err.value.args[0]["msg"] and "is not a file" in err.value.args[0]["msg"]
    with pytest.raises(SystemExit) as err:
        ro.connect(FakeModule(tmp_path, api="cli", bootstrap_server=BOOT, cli_path=str(tmp_path / "nodir")))
    assert "cli_path" in err.value.args[0]["msg"]
    props = tmp_path / "admin.properties"
    props.write_text("security.protocol=PLAINTEXT\n")
    module = FakeModule(tmp_path, api="cli", bootstrap_server=BOOT, command_config=str(props),
                        cli_path=str(tmp_path), cli_timeout=0)
    backend_ = ro.connect(module)
    assert backend_.name == "cli"
    assert backend_.get_link("orders-link")["link_name"] == "orders-link"
    assert module.commands == [[str(tmp_path / "kafka-cluster-links"), "--bootstrap-server", BOOT,
                                "--command-config", str(props), "--describe", "--link", "orders-link"]]
    assert ro.call_counts(backend_) == {"cli_commands": 1, "cli_retries": 0}

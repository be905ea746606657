"""link_filters with real ansible runs: filter files (check, apply, idempotent, check-modify, modify),
the preview against the lab's source cluster, bad input, and secrets."""

from __future__ import annotations

import json
import os
import socket
import stat

import pytest
from linkops_it import diff_has, diff_text, run_ansible_module

S = "source"

TOPIC_FILTERS = [{"name": "app1.", "pattern_type": "prefixed"},
                 {"name": "app1.tmp", "pattern_type": "prefixed", "filter_type": "exclude"}]
GROUP_FILTERS = [{"name": "*"}]
ACL_FILTERS = [{"resource_type": "topic", "resource_name": "app1.", "pattern_type": "prefixed",
                "principal": "User:Bob", "host": "*", "operation": "read", "permission_type": "allow"},
               {"resource_type": "group", "pattern_type": "any", "operation": "DescribeConfigs",
                "permission_type": "ALLOW"}]

TOPIC_DOC = {"topicFilters": [{"name": "app1.", "patternType": "PREFIXED", "filterType": "INCLUDE"},
                              {"name": "app1.tmp", "patternType": "PREFIXED", "filterType": "EXCLUDE"}]}
GROUP_DOC = {"groupFilters": [{"name": "*", "patternType": "LITERAL", "filterType": "INCLUDE"}]}
ACL_DOC = {"aclFilters": [
    {"resourceFilter": {"resourceType": "topic", "name": "app1.", "patternType": "prefixed"},
     "accessFilter": {"principal": "User:Bob", "host": "*", "operation": "read", "permissionType": "allow"}},
    {"resourceFilter": {"resourceType": "group", "patternType": "any"},
     "accessFilter": {"operation": "describeConfigs", "permissionType": "allow"}}]}

FILES = {"topic_filters": "topic-filters.json", "consumer_group_filters": "consumer-group-filters.json",
         "acl_filters": "acl-filters.json"}


@pytest.fixture
def run_local():
    """link_filters runs that need no lab (the file tests): no REST options, no lab started."""
    def _run(module, args, **kw):
        return run_ansible_module(None, module, args, **kw)
    return _run


def run_filters(run_module, args, **kw):
    run = run_module("link_filters", args, connect=False, **kw)
    assert "Traceback" not in run.output, run.output
    return run


def assert_clean_failure(run, *named):
    assert run.rc != 0, run.output
    assert run.result.get("_status") == "FAILED!", run.output
    assert run.msg and "\n" not in run.msg.strip(), f"not a one-line message: {run.msg!r}"
    for text in named:
        assert text in run.msg, f"{text!r} not named in: {run.msg}"
    assert "Traceback" not in run.output and "MODULE FAILURE" not in run.output, run.output


def snapshot(directory):
    """{name: (text, mode, inode, mtime_ns)} of the files in directory."""
    result = {}
    for name in sorted(os.listdir(directory)):
        st = os.stat(os.path.join(directory, name))
        with open(os.path.join(directory, name)) as handle:
            result[name] = (handle.read(), stat.S_IMODE(st.st_mode), st.st_ino, st.st_mtime_ns)
    return result


def on_disk(directory, name):
    with open(os.path.join(directory, name)) as handle:
        return json.load(handle)


def mode_of(directory, name):
    return stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode)


def test_files_check_apply_idempotent_check_modify_modify(run_local, tmp_path):
    dest = str(tmp_path)
    args = {"dest": dest, "mode": "0600", "topic_filters": TOPIC_FILTERS,
            "consumer_group_filters": GROUP_FILTERS, "acl_filters": ACL_FILTERS}

    # check: predicts three new files, shows their text, writes nothing
    run = run_filters(run_local, args, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert {k: v["changed"] for k, v in run.result["files"].items()} == dict.fromkeys(FILES, True)
    assert diff_has(run.output, "+", '"name": "app1.tmp",'), run.output
    assert diff_has(run.output, "+", '"operation": "describeConfigs",'), run.output
    assert f"+++ after: {dest}/acl-filters.json" in run.output
    assert os.listdir(dest) == []

    # apply: the files hold exactly the documents, mode 0600
    run = run_filters(run_local, args, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert sorted(os.listdir(dest)) == sorted(FILES.values())
    assert on_disk(dest, "topic-filters.json") == TOPIC_DOC
    assert on_disk(dest, "consumer-group-filters.json") == GROUP_DOC
    assert on_disk(dest, "acl-filters.json") == ACL_DOC
    assert all(mode_of(dest, name) == 0o600 for name in FILES.values())
    assert run.result["documents"] == {"topic_filters": TOPIC_DOC, "consumer_group_filters": GROUP_DOC,
                                       "acl_filters": ACL_DOC}
    assert run.result["link_configs"] == {
        "auto.create.mirror.topics.filters":
            '{"topicFilters":[{"name":"app1.","patternType":"PREFIXED","filterType":"INCLUDE"},'
            '{"name":"app1.tmp","patternType":"PREFIXED","filterType":"EXCLUDE"}]}',
        "consumer.offset.group.filters": '{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}',
        "acl.filters": json.dumps(ACL_DOC, separators=(",", ":")),
    }
    assert run.result["files"]["acl_filters"]["path"] == os.path.join(dest, "acl-filters.json")
    assert diff_has(run.output, "+", '"principal": "User:Bob",'), run.output
    applied = snapshot(dest)

    # idempotent: nothing changed, nothing rewritten
    run = run_filters(run_local, args, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False
    assert not any(v["changed"] for v in run.result["files"].values())
    assert diff_text(run.output) == ""
    assert snapshot(dest) == applied

    # check-modify: one more topic filter; only the topic file would change, nothing is written
    modified = dict(args, topic_filters=TOPIC_FILTERS + [{"name": "app2.", "pattern_type": "PREFIXED"}])
    run = run_filters(run_local, modified, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert {k: v["changed"] for k, v in run.result["files"].items()} == {
        "topic_filters": True, "consumer_group_filters": False, "acl_filters": False}
    assert diff_has(run.output, "+", '"name": "app2.",'), run.output
    assert f"--- before: {dest}/topic-filters.json" in run.output
    assert "acl-filters.json" not in diff_text(run.output)
    assert snapshot(dest) == applied

    # modify: the topic file is replaced (atomically: a new inode), the others are untouched, mode kept
    run = run_filters(run_local, modified, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert on_disk(dest, "topic-filters.json")["topicFilters"][-1] == {
        "name": "app2.", "patternType": "PREFIXED", "filterType": "INCLUDE"}
    after = snapshot(dest)
    assert after["topic-filters.json"][2] != applied["topic-filters.json"][2]
    assert after["topic-filters.json"][1] == 0o600
    assert after["acl-filters.json"] == applied["acl-filters.json"]
    assert after["consumer-group-filters.json"] == applied["consumer-group-filters.json"]

    # a mode change alone: check predicts it, the real run changes the mode and not the content
    run = run_filters(run_local, dict(modified, mode="0640"), check=True, diff=True)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert diff_has(run.output, "-", "mode: '0600'") and diff_has(run.output, "+", "mode: '0640'"), run.output
    assert mode_of(dest, "acl-filters.json") == 0o600
    run = run_filters(run_local, dict(modified, mode="0640"))
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert all(mode_of(dest, name) == 0o640 for name in FILES.values())
    assert not any(v["content_changed"] for v in run.result["files"].values())
    assert snapshot(dest)["acl-filters.json"][2] == after["acl-filters.json"][2]


def test_same_content_in_other_formatting_is_not_a_change(run_local, tmp_path):
    path = tmp_path / "acl.json"
    path.write_text(json.dumps(ACL_DOC, indent=8, sort_keys=True))
    os.chmod(path, 0o600)
    before = path.read_text()
    run = run_filters(run_local, {"acl_filters": ACL_FILTERS, "acl_filters_path": str(path), "mode": "0600"},
                      diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False
    assert path.read_text() == before

    # a file that is not JSON is replaced, its old text shown in the diff
    path.write_text("not json\n")
    run = run_filters(run_local, {"acl_filters": ACL_FILTERS, "acl_filters_path": str(path)}, diff=True)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert diff_has(run.output, "-", "not json"), run.output
    assert json.loads(path.read_text()) == ACL_DOC


def test_only_the_given_documents_are_written(run_local, tmp_path):
    run = run_filters(run_local, {"dest": str(tmp_path), "consumer_group_filters": GROUP_FILTERS})
    assert run.rc == 0, run.output
    assert os.listdir(tmp_path) == ["consumer-group-filters.json"]
    assert list(run.result["link_configs"]) == ["consumer.offset.group.filters"]


def test_without_dest_nothing_is_written_but_the_documents_are_returned(run_local, tmp_path):
    everything = {"resource_type": "any", "pattern_type": "any", "operation": "any", "permission_type": "any"}
    run = run_filters(run_local, {"acl_filters": [everything]})
    assert run.rc == 0, run.output
    assert run.result["changed"] is False
    assert run.result["files"] == {}
    assert run.result["link_configs"] == {"acl.filters": '{"aclFilters":[{"resourceFilter":{"resourceType":"any",'
                                                         '"patternType":"any"},"accessFilter":{"operation":"any",'
                                                         '"permissionType":"any"}}]}'}


def test_preview_on_the_lab_source(lab, run_module, unique, tmp_path):
    prefix = unique("itlf") + "."
    matched = [prefix + "orders", prefix + "payments"]
    excluded = prefix + "tmp.scratch"
    internal = "_" + unique("itlf-internal")
    for topic in matched + [excluded, internal]:
        lab.create_topic(S, topic, partitions=2)
    lab.produce(S, matched[0], ["a", "b", "c"])
    group, other_group = prefix + "billing", unique("itlf-other")
    lab.consume(S, matched[0], group=group, commit=True)
    lab.consume(S, matched[0], group=other_group, commit=True)

    args = {"dest": str(tmp_path), "mode": "0600",
            "topic_filters": [{"name": prefix, "pattern_type": "PREFIXED"},
                              {"name": prefix + "tmp.", "pattern_type": "PREFIXED", "filter_type": "EXCLUDE"}],
            "consumer_group_filters": [{"name": prefix, "pattern_type": "PREFIXED"}],
            "acl_filters": [{"resource_type": "topic", "resource_name": prefix, "pattern_type": "prefixed",
                             "operation": "read", "permission_type": "allow"}],
            "source_bootstrap_servers": lab.source_bootstrap, "source_client_config": lab.client_config,
            "timeout": 20}

    # check mode: the preview runs, nothing is written
    run = run_filters(run_module, args, check=True)
    assert run.rc == 0, run.output
    preview = run.result["preview"]
    assert preview["source_bootstrap_servers"] == lab.source_bootstrap
    assert preview["topics"]["matched"] == matched
    assert excluded in preview["topics"]["not_matched"]
    assert internal not in preview["topics"]["not_matched"] + preview["topics"]["matched"]
    assert preview["topics"]["total"] >= 4
    assert preview["consumer_groups"]["matched"] == [group]
    assert other_group in preview["consumer_groups"]["not_matched"]
    acls = preview["acls"]
    assert acls["available"] is False
    assert acls["message"].startswith("ACL preview unavailable: the cluster has no authorizer"), acls
    assert acls["matched"] == []
    assert run.result["changed"] is True
    assert os.listdir(tmp_path) == []

    # a * filter reaches internal topics: listed apart, never as matched
    run = run_filters(run_module, {"topic_filters": [{"name": "*"}],
                                   "source_bootstrap_servers": lab.source_bootstrap,
                                   "source_client_config": lab.client_config})
    assert run.rc == 0, run.output
    topics = run.result["preview"]["topics"]
    assert internal in topics["internal_matched"]
    assert not any(name.startswith("_") for name in topics["matched"])
    assert set(matched + [excluded]) <= set(topics["matched"])
    assert "acls" not in run.result["preview"] and "consumer_groups" not in run.result["preview"]

    # the real run writes the files and returns the same preview
    run = run_filters(run_module, args)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert run.result["preview"]["topics"]["matched"] == matched
    assert sorted(os.listdir(tmp_path)) == sorted(FILES.values())


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_acl_operation_is_refused_and_nothing_is_written(run_local, tmp_path):
    bad = dict(ACL_FILTERS[1], operation="describe_configs")
    run = run_filters(run_local, {"dest": str(tmp_path), "topic_filters": TOPIC_FILTERS,
                                  "acl_filters": [ACL_FILTERS[0], bad]})
    assert_clean_failure(run, "acl_filters[1].operation", "'describe_configs'", "use describeConfigs")
    assert os.listdir(tmp_path) == []


def test_bad_input_messages(run_local, tmp_path):
    dest = str(tmp_path)
    cases = [
        ({"acl_filters": [dict(ACL_FILTERS[0], principal="Bob")]}, ["acl_filters[0].principal", "Type:name"]),
        ({"acl_filters": [{"resource_type": "topic", "pattern_type": "literal", "operation": "read"}]},
         ["acl_filters[0].permission_type", "required"]),
        ({"acl_filters": []}, ["acl_filters", "at least one"]),
        ({"acl_filters": [dict(ACL_FILTERS[0], resource_type="transactional_id")]},
         ["acl_filters[0].resource_type", "transactionalId"]),
        ({"topic_filters": [{"name": "*", "pattern_type": "PREFIXED"}]}, ["topic_filters[0]", "LITERAL"]),
        ({"consumer_group_filters": [{"name": "g", "filter_type": "WHITELIST"}]},
         ["consumer_group_filters[0].filter_type", "INCLUDE"]),
        ({"acl_filters_path": os.path.join(dest, "a.json"), "topic_filters": TOPIC_FILTERS},
         ["acl_filters_path", "acl_filters"]),
        ({"dest": os.path.join(dest, "missing"), "topic_filters": TOPIC_FILTERS}, ["does not exist"]),
        ({"topic_filters_path": dest, "topic_filters": TOPIC_FILTERS}, ["is a directory"]),
        ({"topic_filters": TOPIC_FILTERS, "source_client_config": {"security.protocol": "SSL"}},
         ["source_bootstrap_servers"]),
        ({}, ["topic_filters", "acl_filters"]),
    ]
    for args, named in cases:
        run = run_filters(run_local, dict({"dest": dest}, **args))
        assert_clean_failure(run, *named)
    assert os.listdir(dest) == []


def test_unreachable_source_fails_cleanly_and_writes_nothing(run_local, tmp_path):
    bootstrap = f"127.0.0.1:{closed_port()}"
    run = run_filters(run_local, {"dest": str(tmp_path), "topic_filters": TOPIC_FILTERS,
                                  "source_bootstrap_servers": bootstrap, "timeout": 3})
    assert_clean_failure(run, "source_bootstrap_servers=" + bootstrap)
    assert os.listdir(tmp_path) == []


def test_a_client_password_never_shows(lab, run_module, unique, tmp_path):
    canary = unique("CANARY")
    config = dict(lab.client_config, **{"sasl.password": canary, "sasl.username": "probe"})
    args = {"dest": str(tmp_path), "topic_filters": TOPIC_FILTERS, "acl_filters": ACL_FILTERS,
            "source_bootstrap_servers": lab.source_bootstrap, "source_client_config": config, "timeout": 10}
    run = run_filters(run_module, args, check=True, diff=True, verbose=3)
    assert run.rc == 0, run.output
    assert canary not in run.output
    run = run_filters(run_module, args, diff=True, verbose=3)
    assert run.rc == 0, run.output
    assert canary not in run.output
    for name in os.listdir(tmp_path):
        assert canary not in (tmp_path / name).read_text()
    # and when the cluster cannot be reached
    failing = dict(args, source_bootstrap_servers=f"127.0.0.1:{closed_port()}", timeout=3)
    run = run_filters(run_module, failing, verbose=3)
    assert run.rc != 0
    assert canary not in run.output

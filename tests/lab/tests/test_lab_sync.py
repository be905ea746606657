"""What a link keeps in sync besides records: consumer group offsets (only for
groups nobody consumes on the destination), topic configs, and the tasks that
report a sync enabled without its filters."""

from __future__ import annotations

import json
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

from labtesting import recent_ts, unique, wait_until


def name_filter(key, *names, pattern="PREFIXED"):
    return json.dumps({key: [{"name": n, "patternType": pattern, "filterType": "INCLUDE"}
                             for n in names]})


def tasks(rest, link):
    _, body = rest("GET", f"/clusters/{{D}}/links/{link}", params={"include_tasks": True}, expect=200)
    return {t["task_name"]: t for t in body["tasks"]}


def test_sync_enabled_without_filters_puts_its_task_in_error(rest):
    name = unique("nofilters")
    rest.create_link(name, configs={"acl.sync.enable": "true", "acl.sync.ms": "1000",
                                    "auto.create.mirror.topics.enable": "true",
                                    "consumer.offset.sync.enable": "true",
                                    "consumer.offset.sync.ms": "1000"})
    try:   # created all the same (as on Confluent); the tasks say what is wrong
        t = tasks(rest, name)
        assert t["AclSync"]["state"] == "IN_ERROR"
        assert t["AclSync"]["errors"] == [{
            "error_code": "MISCONFIGURATION_ERROR",
            "error_message": "ACL migration is enabled but acl.filters is not set. Please set "
                             "acl.filters to proceed with ACL migration."}]
        for task, config in (("AutoCreateMirror", "auto.create.mirror.topics.filters"),
                             ("ConsumerOffsetSync", "consumer.offset.group.filters")):
            assert t[task]["state"] == "IN_ERROR", t[task]
            assert [e["error_code"] for e in t[task]["errors"]] == ["MISCONFIGURATION_ERROR"]
            assert config in t[task]["errors"][0]["error_message"]
        assert t["TopicConfigsSync"] == {"task_name": "TopicConfigsSync", "state": "ACTIVE", "errors": []}
        time.sleep(1.5)                       # the sync loops ran and found the same problem
        assert {k: v["state"] for k, v in tasks(rest, name).items()} == {
            "AclSync": "IN_ERROR", "AutoCreateMirror": "IN_ERROR", "ConsumerOffsetSync": "IN_ERROR",
            "TopicConfigsSync": "ACTIVE"}

        # setting the filters fixes them
        acl_filters = json.dumps({"aclFilters": [{
            "resourceFilter": {"resourceType": "any", "patternType": "any"},
            "accessFilter": {"principal": "User:nobody-here", "operation": "any",
                             "permissionType": "any"}}]})
        rest("PUT", f"/clusters/{{D}}/links/{name}/configs:alter", {"data": [
            {"name": "acl.filters", "value": acl_filters},
            {"name": "auto.create.mirror.topics.filters",
             "value": name_filter("topicFilters", unique("nothing-matches"))},
            {"name": "consumer.offset.group.filters",
             "value": name_filter("groupFilters", unique("nothing-matches"))}]}, expect=204)
        wait_until(lambda: {k: (v["state"], v["errors"]) for k, v in tasks(rest, name).items()} == {
            k: ("ACTIVE", []) for k in ("AclSync", "AutoCreateMirror", "ConsumerOffsetSync",
                                        "TopicConfigsSync")}, 15, "every task ACTIVE")

        # turning a sync off: NOT_CONFIGURED
        rest("PUT", f"/clusters/{{D}}/links/{name}/configs/acl.sync.enable", {"value": "false"},
             expect=204)
        assert tasks(rest, name)["AclSync"] == {"task_name": "AclSync", "state": "NOT_CONFIGURED",
                                                "errors": []}
    finally:
        rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


def test_offsets_synced_only_for_groups_without_active_members(rest, lab):
    """A group that already consumes on the destination keeps its own progress;
    idle groups get the source's committed offsets; unfiltered groups nothing."""
    prefix = unique("sync")
    name, topic = unique("offsets"), unique("payments")
    rest.create_link(name, configs={"consumer.offset.sync.enable": "true",
                                    "consumer.offset.sync.ms": "500",
                                    "consumer.offset.group.filters":
                                        name_filter("groupFilters", prefix + "-")})
    idle, busy, other = f"{prefix}-idle", f"{prefix}-busy", unique("unfiltered")
    try:
        lab.create_topic("source", topic, 1)
        lab.produce("source", topic, [{"value": f"v{i}", "timestamp": recent_ts(i)} for i in range(10)])
        rest.create_mirror(name, topic)
        rest.wait_mirror(name, topic)
        member = Consumer(lab.client_conf("destination", **{
            "group.id": busy, "enable.auto.commit": False, "auto.offset.reset": "earliest"}))
        try:
            member.subscribe([topic])
            wait_until(lambda: member.poll(0.2) is not None or member.assignment(), 20,
                       "the destination consumer to join its group")
            member.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)
            for g in (idle, busy, other):
                lab.consume("source", topic, group=g, commit=True)      # all at 10 on the source
                assert lab.group_offsets("source", g) == {topic: {0: 10}}
            wait_until(lambda: lab.group_offsets("destination", idle) == {topic: {0: 10}}, 20,
                       "the idle group's offsets on the destination")
            time.sleep(1.5)                                             # three more sync rounds
            assert lab.group_offsets("destination", busy) == {topic: {0: 3}}
            assert lab.group_offsets("destination", other) == {}
            # the link left the busy group alone instead of failing to overwrite it
            errors = tasks(rest, name)["ConsumerOffsetSync"]["errors"]
            assert not [e for e in errors if e["error_code"] == "INTERNAL_ERROR"], errors
        finally:
            member.close()
        wait_until(lambda: lab.group_offsets("destination", busy) == {topic: {0: 10}}, 20,
                   "the group's offsets synced once it has no members on the destination")
        assert lab.group_offsets("destination", other) == {}
    finally:
        rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


def test_topic_configs_follow_the_source_until_promoted(rest, lab):
    name, topic = unique("tcfg"), unique("ledger")
    rest.create_link(name, configs={"topic.config.sync.ms": "500"})
    try:
        lab.create_topic("source", topic, 2, {"retention.ms": "86400000",
                                              "max.message.bytes": "1500000"})
        rest.create_mirror(name, topic)
        rest.wait_mirror(name, topic)

        def dynamic(cluster):
            res = list(lab.admin(cluster).describe_configs(
                [ConfigResource("topic", topic)]).values())[0].result()
            return {n: c.value for n, c in res.items() if not c.is_default}

        def alter_source(*ops):
            change = ConfigResource("topic", topic, incremental_configs=[
                ConfigEntry(k, v, incremental_operation=op) for k, v, op in ops])
            list(lab.admin("source").incremental_alter_configs([change]).values())[0].result()

        before = dynamic("destination")
        assert before.get("retention.ms") == "86400000" and before.get("max.message.bytes") == "1500000"
        # a changed value, a new one, a removed one
        alter_source(("retention.ms", "172800000", AlterConfigOpType.SET),
                     ("segment.ms", "3600000", AlterConfigOpType.SET),
                     ("max.message.bytes", None, AlterConfigOpType.DELETE))
        assert "max.message.bytes" not in dynamic("source")
        wait_until(lambda: (lambda d: d.get("retention.ms") == "172800000"
                            and d.get("segment.ms") == "3600000"
                            and "max.message.bytes" not in d)(dynamic("destination")), 15,
                   "the mirror's configs to follow the source")
        # once promoted the topic is independent: source changes no longer reach it
        assert rest.action(name, "promote", [topic])["data"][0]["error_code"] is None
        rest.wait_mirror(name, topic, status="STOPPED", lag0=False)
        alter_source(("retention.ms", "259200000", AlterConfigOpType.SET))
        time.sleep(1.6)                                                 # three sync intervals
        assert dynamic("destination").get("retention.ms") == "172800000"
    finally:
        rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)

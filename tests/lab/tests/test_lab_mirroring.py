"""The emulator really mirrors: records, offsets, consumer offsets, auto-create,
promote/failover, pause, and failure detection."""

from __future__ import annotations

import json
import time

import pytest
from confluent_kafka import TopicPartition

from linkops_lab.kafka import watermarks
from labtesting import recent_ts, unique, wait_until

pytestmark = pytest.mark.usefixtures("copy_running")   # conftest.copy_running: a test that paused copying resumes it


def group_filter(*names, pattern="PREFIXED"):
    return json.dumps({"groupFilters": [{"name": n, "patternType": pattern, "filterType": "INCLUDE"}
                                        for n in names]})


def sample_records(n, partitions):
    recs = []
    for i in range(n):
        recs.append({
            "partition": i % partitions,
            "key": None if i % 7 == 0 else f"key-{i}",
            "value": None if i % 11 == 5 else f"value-{i}-" + "x" * (i % 50),
            "headers": [("trace", f"t{i}"), ("dup", "a"), ("dup", "b")] if i % 3 == 0 else None,
            "timestamp": recent_ts(i),
        })
    return recs


def test_mirror_copies_records_with_offsets(rest, lab, link):
    topic = unique("orders")
    lab.create_topic("source", topic, 4)
    lab.produce("source", topic, sample_records(200, 4))
    _, _ = rest.create_mirror(link, topic)
    first = rest.mirror(link, topic)
    assert first["mirror_status"] in ("PENDING_MIRROR", "ACTIVE")
    assert first["num_partitions"] == 4 and first["source_topic_name"] == topic
    assert lab.topics("destination")[topic] == 4
    m = rest.wait_mirror(link, topic)
    assert [l["partition"] for l in m["mirror_lags"]] == [0, 1, 2, 3]
    assert all(l["last_source_fetch_offset"] == 50 for l in m["mirror_lags"])
    src = lab.consume("source", topic)
    dst = lab.consume("destination", topic)
    assert len(src) == 200 and dst == src  # partition, offset, key, value, timestamp, headers
    assert lab.end_offsets("destination", topic) == lab.end_offsets("source", topic)
    # records produced later are copied too
    lab.produce("source", topic, sample_records(40, 4))
    rest.wait_mirror(link, topic)
    assert wait_until(lambda: lab.end_offsets("destination", topic) == {p: 60 for p in range(4)},
                      10, "new records on the destination")
    assert lab.consume("destination", topic) == lab.consume("source", topic)


def test_offset_sync_only_for_filtered_groups(rest, lab):
    name = unique("osync")
    rest.create_link(name, configs={"consumer.offset.sync.enable": "true",
                                    "consumer.offset.sync.ms": "500",
                                    "consumer.offset.group.filters": group_filter("app-")})
    topic = unique("events")
    lab.create_topic("source", topic, 3)
    lab.produce("source", topic, sample_records(90, 3))
    rest.create_mirror(name, topic)
    rest.wait_mirror(name, topic)
    in_group, out_group = unique("app-billing"), unique("other")
    lab.consume("source", topic, group=in_group, commit=True, max_records=40)
    lab.consume("source", topic, group=out_group, commit=True)
    expected = lab.group_offsets("source", in_group)[topic]
    assert sum(expected.values()) == 40
    synced = wait_until(lambda: lab.group_offsets("destination", in_group).get(topic) == expected,
                        15, "offsets of the filtered group on the destination")
    assert synced
    # a later commit on the source follows
    lab.consume("source", topic, group=in_group, commit=True)
    wait_until(lambda: lab.group_offsets("destination", in_group).get(topic) == {0: 30, 1: 30, 2: 30},
               15, "updated offsets on the destination")
    # the unfiltered group was never synced (several sync rounds have run by now)
    assert lab.group_offsets("destination", out_group) == {}
    _, link = rest("GET", f"/clusters/{{D}}/links/{name}", params={"include_tasks": True}, expect=200)
    task = {t["task_name"]: t for t in link["tasks"]}["ConsumerOffsetSync"]
    assert task["state"] == "ACTIVE" and task["errors"] == []
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


def test_auto_create_mirrors_from_topic_filters(rest, lab):
    name = unique("auto")
    pfx = unique("ac") + "-"
    filters = {"topicFilters": [{"name": pfx, "patternType": "PREFIXED", "filterType": "INCLUDE"},
                                {"name": pfx + "skip", "patternType": "PREFIXED", "filterType": "EXCLUDE"}]}
    rest.create_link(name, configs={"auto.create.mirror.topics.enable": "true",
                                    "auto.create.mirror.topics.filters": json.dumps(filters)})
    wanted, excluded, unrelated = pfx + "orders", pfx + "skip-me", unique("unrelated")
    for t in (wanted, excluded, unrelated):
        lab.create_topic("source", t, 2)
    lab.produce("source", wanted, sample_records(10, 2))
    rest.wait_mirror(name, wanted, timeout=20)
    assert lab.consume("destination", wanted) == lab.consume("source", wanted)
    _, mirrors = rest("GET", f"/clusters/{{D}}/links/{name}/mirrors", expect=200)
    assert [m["mirror_topic_name"] for m in mirrors["data"]] == [wanted]
    assert excluded not in lab.topics("destination") and unrelated not in lab.topics("destination")
    # a topic created later is picked up too
    later = pfx + "later"
    lab.create_topic("source", later, 1)
    rest.wait_mirror(name, later, timeout=20)
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


def test_promote_needs_lag_zero_then_stops_copying(rest, lab):
    name = unique("promo")
    rest.create_link(name, configs={"consumer.offset.sync.enable": "true",
                                    "consumer.offset.sync.ms": "60000",   # only the final sync
                                    "consumer.offset.group.filters": group_filter("*", pattern="LITERAL")})
    topic, witness = unique("cutover"), unique("witness")
    for t in (topic, witness):
        lab.create_topic("source", t, 2)
        lab.produce("source", t, sample_records(20, 2))
        rest.create_mirror(name, t)
    rest.wait_mirror(name, topic)
    rest.wait_mirror(name, witness)

    # with copying paused the lag is real and promote is refused per topic (HTTP 200)
    lab.knobs(copy_paused=True)
    lab.produce("source", topic, sample_records(6, 2))
    lagging = wait_until(lambda: sum(l["lag"] for l in rest.mirror(name, topic)["mirror_lags"]) == 6,
                         10, "lag of 6")
    assert lagging
    res = rest.action(name, "promote", [topic])
    entry = res["data"][0]
    assert entry["error_code"] == 400 and topic in entry["error_message"] and "lag" in entry["error_message"]
    assert sum(l["lag"] for l in entry["mirror_lags"]) == 6
    assert rest.mirror(name, topic)["mirror_status"] == "ACTIVE"

    lab.knobs(copy_paused=False)
    rest.wait_mirror(name, topic)
    group = unique("consumer")
    lab.consume("source", topic, group=group, commit=True, max_records=10)
    # validate_only changes nothing
    res = rest.action(name, "promote", [topic], params={"validate_only": True})
    assert res["data"][0]["error_code"] is None
    assert rest.mirror(name, topic)["mirror_status"] == "ACTIVE"
    res = rest.action(name, "promote", [topic])
    assert res["data"][0]["error_code"] is None and res["data"][0]["error_message"] is None
    assert rest.mirror(name, topic)["mirror_status"] in ("PENDING_STOPPED", "STOPPED")
    stopped = rest.wait_mirror(name, topic, status="STOPPED", lag0=False)
    assert stopped["mirror_topic_error"] == "NO_ERROR"
    # the final offset sync happened before STOPPED
    assert lab.group_offsets("destination", group).get(topic) == lab.group_offsets("source", group)[topic]

    # promoting again: per-topic error "already stopped"
    res = rest.action(name, "promote", [topic])
    assert res["data"][0]["error_code"] == 400
    assert res["data"][0]["error_message"] == f"Topic '{topic}' has already stopped its mirror from '{name}'"
    res = rest.action(name, "failover", [topic])
    assert res["data"][0]["error_code"] == 400

    # the stopped topic is writable and no longer copied
    ends = lab.end_offsets("destination", topic)
    lab.produce("source", topic, sample_records(4, 2))
    lab.produce("destination", topic, [{"partition": 0, "value": "written-after-cutover"}])
    lab.produce("source", witness, [{"partition": 0, "value": "witness"}])
    wait_until(lambda: lab.end_offsets("destination", witness)[0] == 11, 10,
               "the witness record on the still-active mirror")
    assert lab.end_offsets("destination", topic) == {0: ends[0] + 1, 1: ends[1]}
    assert rest.mirror(name, topic)["mirror_status"] == "STOPPED"
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


def test_failover_stops_at_once_without_lag_check(rest, lab, link):
    topic = unique("dr")
    lab.create_topic("source", topic, 1)
    rest.create_mirror(link, topic)
    rest.wait_mirror(link, topic)
    lab.knobs(copy_paused=True)
    lab.produce("source", topic, sample_records(5, 1))
    wait_until(lambda: rest.mirror(link, topic)["mirror_lags"][0]["lag"] == 5, 10, "lag of 5")
    res = rest.action(link, "failover", [topic, "not-a-mirror"])
    by_topic = {d["mirror_topic_name"]: d for d in res["data"]}
    assert by_topic[topic]["error_code"] is None
    assert by_topic["not-a-mirror"]["error_code"] == 404
    lab.knobs(copy_paused=False)
    rest.wait_mirror(link, topic, status="STOPPED", lag0=False)
    # nothing was copied after the failover
    assert lab.end_offsets("destination", topic) == {0: 0}
    lab.produce("destination", topic, ["local write"])
    assert lab.end_offsets("destination", topic) == {0: 1}


def test_pattern_batch_and_pause_resume(rest, lab, link):
    topics = [unique("pat") for _ in range(3)]
    for t in topics:
        lab.create_topic("source", t, 1)
        rest.create_mirror(link, t)
    for t in topics:
        rest.wait_mirror(link, t)
    _, res = rest("POST", f"/clusters/{{D}}/links/{link}/mirrors:pause",
                  {"mirror_topic_name_pattern": "pat-.*"}, expect=200)
    assert sorted(d["mirror_topic_name"] for d in res["data"]) == sorted(topics)
    lab.produce("source", topics[0], ["while paused"])
    m = wait_until(lambda: (lambda m: m if m["mirror_lags"][0]["lag"] == 1 else None)(
        rest.mirror(link, topics[0])), 10, "lag while paused")
    assert m["mirror_status"] == "PAUSED"
    rest.action(link, "resume", topics)
    rest.wait_mirror(link, topics[0])
    assert lab.end_offsets("destination", topics[0]) == {0: 1}


def test_cluster_link_paused(rest, lab, link):
    topic = unique("lp")
    lab.create_topic("source", topic, 1)
    rest.create_mirror(link, topic)
    rest.wait_mirror(link, topic)
    rest("PUT", f"/clusters/{{D}}/links/{link}/configs/cluster.link.paused", {"value": "true"},
         expect=204)
    assert rest.mirror(link, topic)["mirror_status"] == "LINK_PAUSED"
    assert rest("GET", f"/clusters/{{D}}/links/{link}", expect=200)[1]["link_state"] == "PAUSED"
    lab.produce("source", topic, ["a", "b"])
    wait_until(lambda: rest.mirror(link, topic)["mirror_lags"][0]["lag"] == 2, 10, "lag while link paused")
    rest("DELETE", f"/clusters/{{D}}/links/{link}/configs/cluster.link.paused", expect=204)
    rest.wait_mirror(link, topic)
    assert lab.end_offsets("destination", topic) == {0: 2}


def test_foreign_write_to_mirror_fails_it(rest, lab, link):
    """The lab broker cannot make mirror topics read-only; the emulator notices."""
    topic = unique("ro")
    lab.create_topic("source", topic, 1)
    lab.produce("source", topic, ["one"])
    rest.create_mirror(link, topic)
    rest.wait_mirror(link, topic)
    lab.produce("destination", topic, ["intruder"])
    lab.produce("source", topic, ["two"])
    m = rest.wait_mirror(link, topic, status="FAILED", lag0=False)
    assert m["mirror_topic_error"] == "ILLEGAL_STATE"
    _, detail = rest("GET", f"/clusters/{{D}}/links/{link}/mirrors/{topic}",
                     params={"include_state_transition_errors": True}, expect=200)
    assert "did not write" in detail["mirror_state_transition_errors"][0]["error_message"]
    res = rest.action(link, "promote", [topic])
    assert res["data"][0]["error_code"] == 400
    res = rest.action(link, "failover", [topic])
    assert res["data"][0]["error_code"] is None
    rest.wait_mirror(link, topic, status="STOPPED", lag0=False)


def test_source_with_expired_records_starts_at_log_start(rest, lab, link):
    """Records older than the source's retention are gone: the mirror starts at the
    source log start offset and keeps the source offsets (as on Confluent)."""
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource
    topic = unique("old")
    lab.create_topic("source", topic, 1, {"retention.ms": "1000"})
    lab.produce("source", topic, [{"value": "ancient", "timestamp": recent_ts() - 86_400_000}])
    wait_until(lambda: watermarks(lab.admin("source"), [(topic, 0)], spec="earliest")[(topic, 0)] == 1,
               15, "retention to remove the record")
    keep = ConfigResource("topic", topic, incremental_configs=[
        ConfigEntry("retention.ms", "604800000", incremental_operation=AlterConfigOpType.SET)])
    list(lab.admin("source").incremental_alter_configs([keep]).values())[0].result()
    lab.produce("source", topic, ["fresh"])
    rest.create_mirror(link, topic)
    m = rest.wait_mirror(link, topic, timeout=20)
    assert m["mirror_topic_error"] == "NO_ERROR"
    dst = lab.consume("destination", topic)
    assert [(r["offset"], r["value"]) for r in dst] == [(1, "fresh")]
    assert dst == lab.consume("source", topic)


def test_source_with_every_record_deleted_starts_at_its_end(rest, lab, link):
    """All records gone (log start == end > 0): the mirror starts there, empty, and the
    next record gets the same offset on both clusters."""
    topic = unique("allgone")
    lab.create_topic("source", topic, 1)
    lab.produce("source", topic, ["a", "b"])
    list(lab.admin("source").delete_records([TopicPartition(topic, 0, 2)]).values())[0].result()
    rest.create_mirror(link, topic)
    rest.wait_mirror(link, topic, timeout=20)
    assert lab.end_offsets("destination", topic) == {0: 2} and lab.consume("destination", topic) == []
    lab.produce("source", topic, ["c"])
    wait_until(lambda: lab.end_offsets("destination", topic) == {0: 3}, 15, "the new record copied")
    assert [(r["offset"], r["value"]) for r in lab.consume("destination", topic)] == [(2, "c")]


def test_records_removed_before_they_are_copied_fail_the_mirror(rest, lab, link):
    """Records the source removes (retention, DeleteRecords) before the link copied them
    cannot be mirrored with their offsets: the mirror FAILS (UNEXPECTED_TRUNCATION)
    instead of diverging."""
    topic = unique("removed")
    lab.create_topic("source", topic, 1)
    rest.create_mirror(link, topic)
    rest.wait_mirror(link, topic)
    rest.action(link, "pause", [topic])
    time.sleep(1.0)   # the paused mirror stops fetching within a worker round
    lab.produce("source", topic, ["x", "y", "z"])
    list(lab.admin("source").delete_records([TopicPartition(topic, 0, 2)]).values())[0].result()
    rest.action(link, "resume", [topic])
    m = rest.wait_mirror(link, topic, status="FAILED", lag0=False, timeout=20)
    assert m["mirror_topic_error"] == "UNEXPECTED_TRUNCATION"


def test_source_partitions_added_are_mirrored(rest, lab, link):
    from confluent_kafka.admin import NewPartitions
    topic = unique("grow")
    lab.create_topic("source", topic, 1)
    rest.create_mirror(link, topic)
    rest.wait_mirror(link, topic)
    list(lab.admin("source").create_partitions([NewPartitions(topic, 3)]).values())[0].result()
    lab.produce("source", topic, [{"partition": 2, "value": "p2"}])
    wait_until(lambda: rest.mirror(link, topic)["num_partitions"] == 3, 15, "3 partitions")
    rest.wait_mirror(link, topic)
    assert lab.consume("destination", topic) == lab.consume("source", topic)


def test_deleting_the_mirror_topic_removes_the_mirror(rest, lab, link):
    topic = unique("gone")
    lab.create_topic("source", topic, 1)
    rest.create_mirror(link, topic)
    rest.wait_mirror(link, topic)
    list(lab.admin("destination").delete_topics([topic]).values())[0].result()
    wait_until(lambda: rest("GET", f"/clusters/{{D}}/links/{link}/mirrors/{topic}")[0] == 404, 15,
               "the mirror to disappear")
    _, info = rest("GET", f"/clusters/{{D}}/links/{link}", expect=200)
    assert topic not in info["topic_names"]


def test_unreachable_source_makes_link_unavailable(rest, lab):
    name = unique("down")
    rest.create_link(name, configs={"bootstrap.servers": "127.0.0.1:1"},
                     params={"validate_link": False})
    link = wait_until(lambda: (lambda l: l if l["link_state"] == "UNAVAILABLE" else None)(
        rest("GET", f"/clusters/{{D}}/links/{name}", expect=200)[1]), 20, "link UNAVAILABLE")
    assert link["link_error"] == "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR" and link["link_error_message"]
    status, err = rest("POST", f"/clusters/{{D}}/links/{name}/mirrors", {"source_topic_name": "x"})
    assert status >= 500 and err["error_code"] == 50003
    rest("DELETE", f"/clusters/{{D}}/links/{name}", expect=200)


def test_offset_sync_skips_groups_active_on_destination(rest, lab):
    from confluent_kafka import Consumer
    name = unique("busy")
    rest.create_link(name, configs={"consumer.offset.sync.enable": "true",
                                    "consumer.offset.sync.ms": "300",
                                    "consumer.offset.group.filters": group_filter("*", pattern="LITERAL")})
    topic, group = unique("busy"), unique("active-group")
    lab.create_topic("source", topic, 1)
    lab.produce("source", topic, sample_records(5, 1))
    rest.create_mirror(name, topic)
    rest.wait_mirror(name, topic)
    member = Consumer(lab.client_conf("destination", **{"group.id": group, "enable.auto.commit": False,
                                                          "auto.offset.reset": "latest"}))
    try:
        member.subscribe([topic])
        wait_until(lambda: member.poll(0.2) is None and member.assignment(), 20, "a group member")
        lab.consume("source", topic, group=group, commit=True)

        def in_use():
            _, link = rest("GET", f"/clusters/{{D}}/links/{name}", params={"include_tasks": True})
            task = {t["task_name"]: t for t in link["tasks"]}["ConsumerOffsetSync"]
            return [e for e in task["errors"] if e["error_code"] == "CONSUMER_GROUP_IN_USE_ERROR"
                    and group in e["error_message"]]
        wait_until(in_use, 15, "CONSUMER_GROUP_IN_USE_ERROR for the active group")
        assert lab.group_offsets("destination", group) == {}
    finally:
        member.close()
    wait_until(lambda: lab.group_offsets("destination", group).get(topic) == {0: 5}, 20,
               "offsets synced once the group is empty")
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


def test_topic_configs_follow_the_source(rest, lab):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource
    name = unique("tcfg")
    rest.create_link(name, configs={"topic.config.sync.ms": "300"})
    topic = unique("cfg")
    lab.create_topic("source", topic, 1, {"retention.ms": "86400000"})
    rest.create_mirror(name, topic)
    rest.wait_mirror(name, topic)

    def dest_configs():
        res = list(lab.admin("destination").describe_configs(
            [ConfigResource("topic", topic)]).values())[0].result()
        return {n: c.value for n, c in res.items() if not c.is_default}
    assert dest_configs().get("retention.ms") == "86400000"      # copied at creation
    change = ConfigResource("topic", topic, incremental_configs=[
        ConfigEntry("retention.ms", "172800000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("max.message.bytes", "2000000", incremental_operation=AlterConfigOpType.SET)])
    list(lab.admin("source").incremental_alter_configs([change]).values())[0].result()
    wait_until(lambda: (lambda c: c.get("retention.ms") == "172800000"
                        and c.get("max.message.bytes") == "2000000")(dest_configs()), 15,
               "changed topic configs on the mirror")
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)

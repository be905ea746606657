"""The mirror state machine of reverse and truncate-and-restore over BIDIRECTIONAL links, checked
the way a user would: records and offsets on both clusters, writable topics, truncated records
gone; failover and promote refused while a mirror is pending."""

from __future__ import annotations

import json
import time

import pytest
from confluent_kafka.admin import ConfigResource

from labtesting import unique, wait_until
from sides import bidi_mirror, bidi_pair, cleanup, records

pytestmark = pytest.mark.usefixtures("copy_running")


# --------------------------------------------------------------------------- reverse

@pytest.mark.parametrize("action,remote_state", [
    ("reverse-and-start-mirror", "ACTIVE"),
    ("promote-local-and-pause-remote-mirror", "PAUSED"),   # the CP name of reverse-and-pause
])
def test_reverse_mirror(lab, dst, src, action, remote_state):
    name = unique("rev")
    gfilter = json.dumps({"groupFilters": [{"name": "*", "patternType": "LITERAL",
                                            "filterType": "INCLUDE"}]})
    bidi_pair(dst, src, lab, name, dst_configs={"consumer.offset.sync.enable": "true",
                                                "consumer.offset.sync.ms": "60000",
                                                "consumer.offset.group.filters": gfilter})
    topic = unique("rt")
    lab.create_topic("source", topic, 2)
    lab.produce("source", topic, records(10, 2))
    dst.create_mirror(name, topic)
    dst.wait_mirror(name, topic)
    group = unique("rev-group")
    lab.consume("source", topic, group=group, commit=True, max_records=7)
    # validate_only changes nothing
    res = dst.action(name, action, [topic], params={"validate_only": True})
    assert res["data"][0]["error_code"] is None
    assert dst.mirror(name, topic)["mirror_status"] == "ACTIVE"
    assert src.mirror(name, topic, expect=404)
    # records the mirror has not copied yet when the reverse starts are carried over first
    lab.knobs(copy_paused=True)
    lab.produce("source", topic, records(2, 2, tag="last"))
    wait_until(lambda: sum(l["lag"] for l in dst.mirror(name, topic)["mirror_lags"]) == 2, 10, "lag 2")
    res = dst.action(name, action, [topic])
    assert res["data"][0]["error_code"] is None and res["data"][0].get("messages_truncated") is None
    assert dst.mirror(name, topic)["mirror_status"] == "PENDING_SYNCHRONIZE"
    _, pending = dst("GET", f"/clusters/{{C}}/links/{name}/mirrors",
                     params={"mirror_status": "PENDING_SYNCHRONIZE"}, expect=200)
    assert [m["mirror_topic_name"] for m in pending["data"]] == [topic]
    time.sleep(1.5)   # three times pending_synchronize_ms: it still waits for the 2 records
    assert dst.mirror(name, topic)["mirror_status"] == "PENDING_SYNCHRONIZE"
    assert src.mirror(name, topic, expect=404)
    lab.knobs(copy_paused=False)
    stopped = dst.wait_mirror(name, topic, status="STOPPED", lag0=False, timeout=20)
    assert stopped["mirror_topic_error"] == "NO_ERROR"
    assert lab.consume("destination", topic) == lab.consume("source", topic)
    assert sum(lab.end_offsets("destination", topic).values()) == 12
    # the consumer offsets were synced before the switch
    assert lab.group_offsets("destination", group) == lab.group_offsets("source", group)
    # the source topic is now a mirror of the destination's over the source's half of the link
    remote = src.mirror(name, topic)
    assert remote["mirror_status"] == remote_state and remote["source_topic_name"] == topic
    assert topic in src.link(name)["topic_names"]
    # the old mirror is writable; what is written there reaches the source (unless paused)
    lab.produce("destination", topic, records(3, 2, tag="after"))
    if remote_state == "PAUSED":
        wait_until(lambda: sum(l["lag"] for l in src.mirror(name, topic)["mirror_lags"]) == 3, 10,
                   "lag on the paused reversed mirror")
        assert sum(lab.end_offsets("source", topic).values()) == 12
        res = src.action(name, "resume", [topic])
        assert res["data"][0]["error_code"] is None
    src.wait_mirror(name, topic)
    assert lab.consume("source", topic) == lab.consume("destination", topic)
    assert sum(lab.end_offsets("source", topic).values()) == 15
    # reversing a stopped mirror again: per-topic error with HTTP 200
    res = dst.action(name, "reverse-and-start-mirror", [topic])
    assert res["data"][0]["error_code"] == 400
    assert res["data"][0]["error_message"] == f"Topic '{topic}' has already stopped its mirror from '{name}'"
    cleanup(dst, src, name)


def test_reverse_refuses_mirrors_that_are_not_active(lab, dst, src):
    name, topic = bidi_mirror(dst, src, lab, "rev-bad", "rb")
    dst.action(name, "pause", [topic])
    res = dst.action(name, "reverse-and-start-mirror", [topic, "not-a-mirror"])
    by = {d["mirror_topic_name"]: d for d in res["data"]}
    assert by[topic]["error_code"] == 400 and "PAUSED" in by[topic]["error_message"]
    assert by["not-a-mirror"]["error_code"] == 404
    assert dst.mirror(name, topic)["mirror_status"] == "PAUSED"
    cleanup(dst, src, name)


# --------------------------------------------------------------------------- failback

def test_failover_truncate_and_restore_then_failback(lab, dst, src):
    """DR round trip: the destination fails over; the old primary (source) wrote
    records after the failover point; truncate-and-restore drops them and makes
    the source a mirror of the destination; reverse-and-start moves the primary
    back."""
    name = unique("fb")
    bidi_pair(dst, src, lab, name)
    topic = unique("orders")
    lab.create_topic("source", topic, 2, {"retention.ms": "604800000"})
    lab.produce("source", topic, records(12, 2, tag="before"))
    dst.create_mirror(name, topic)
    dst.wait_mirror(name, topic)
    # disaster: fail over on the destination while the source keeps writing
    lab.knobs(copy_paused=True)
    lab.produce("source", topic, records(3, 1, tag="lost"))    # partition 0 only
    res = dst.action(name, "failover", [topic])
    assert res["data"][0]["error_code"] is None
    dst.wait_mirror(name, topic, status="STOPPED", lag0=False)
    lab.knobs(copy_paused=False)
    assert lab.end_offsets("destination", topic) == {0: 6, 1: 6}
    lab.produce("destination", topic, records(2, 2, tag="new-primary"))
    assert lab.end_offsets("source", topic) == {0: 9, 1: 6}

    # errors first: a topic without a stopped remote mirror, an unknown topic
    other = unique("plain")
    lab.create_topic("source", other, 1)
    res = src.action(name, "truncate-and-restore", [other, unique("missing")])
    assert res["data"][0]["error_code"] == 400 and "no mirror" in res["data"][0]["error_message"]
    assert res["data"][1]["error_code"] == 404

    # validate_only reports what would be truncated and changes nothing
    params = {"include_partition_level_truncation_data": True}
    res = src.action(name, "truncate-and-restore", [topic], params={**params, "validate_only": True})
    entry = res["data"][0]
    assert entry["error_code"] is None and entry["messages_truncated"] == 3
    assert sorted(entry["partition_level_truncation_data"], key=lambda d: d["partition_id"]) == [
        {"partition_id": 0, "offset_truncated_to": 6, "messages_truncated": 3},
        {"partition_id": 1, "offset_truncated_to": 6, "messages_truncated": 0}]
    src.mirror(name, topic, expect=404)
    assert lab.end_offsets("source", topic) == {0: 9, 1: 6}

    group = unique("fb-group")
    lab.consume("source", topic, group=group, commit=True)   # committed at 9/6 on the old primary
    lab.knobs(pending_restore_ms=800)
    try:
        res = src.action(name, "truncate-and-restore", [topic])     # without per-partition data
        entry = res["data"][0]
        assert entry["error_code"] is None and entry["messages_truncated"] == 3
        assert entry["partition_level_truncation_data"] == []
        seen = {src.mirror(name, topic)["mirror_status"]}
        m = wait_until(lambda: (lambda m: seen.add(m["mirror_status"]) or (
            m if m["mirror_status"] == "ACTIVE" else None))(src.mirror(name, topic)), 30, "restore")
    finally:
        lab.knobs(pending_restore_ms=500)
    assert {"PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE"} <= seen, seen
    assert m["source_topic_name"] == topic
    src.wait_mirror(name, topic)
    # the records written on the old primary after the failover point are gone; the new
    # primary's records are there with the same offsets
    src_records, dst_records = lab.consume("source", topic), lab.consume("destination", topic)
    assert src_records == dst_records
    assert not [r for r in src_records if r["value"].startswith("lost")]
    assert lab.end_offsets("source", topic) == {0: 7, 1: 7}
    assert lab.group_offsets("source", group)[topic] == {0: 6, 1: 6}   # moved back to the cut
    futs = lab.admin("source").describe_configs([ConfigResource("topic", topic)], request_timeout=10)
    cfg = list(futs.values())[0].result(timeout=15)
    assert cfg["retention.ms"].value == "604800000"    # the recreated topic kept its configs
    # an already restoring/active mirror cannot be restored again
    res = src.action(name, "truncate-and-restore", [topic])
    assert res["data"][0]["error_code"] == 400

    # failback: the old primary takes over again
    res = src.action(name, "reverse-and-start-mirror", [topic])
    assert res["data"][0]["error_code"] is None
    src.wait_mirror(name, topic, status="STOPPED", lag0=False, timeout=20)
    back = dst.wait_mirror(name, topic)
    assert back["source_topic_name"] == topic
    lab.produce("source", topic, records(2, 2, tag="home-again"))
    dst.wait_mirror(name, topic)
    assert lab.consume("destination", topic) == lab.consume("source", topic)
    cleanup(dst, src, name)


def test_failover_and_promote_refused_while_pending(lab, dst, src):
    name, topic = bidi_mirror(dst, src, lab, "busy", "bz")
    lab.knobs(pending_synchronize_ms=3000)
    try:
        dst.action(name, "reverse-and-start-mirror", [topic])
        for action in ("promote", "failover", "pause"):
            res = dst.action(name, action, [topic])
            assert res["data"][0]["error_code"] == 400
            assert "PENDING_SYNCHRONIZE" in res["data"][0]["error_message"]
    finally:
        lab.knobs(pending_synchronize_ms=500)
    dst.wait_mirror(name, topic, status="STOPPED", lag0=False, timeout=20)
    cleanup(dst, src, name)

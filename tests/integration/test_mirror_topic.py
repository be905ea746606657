"""mirror_topic and mirror_topic_info against the lab: create, sync, promote, failover, refusals."""

from __future__ import annotations

import re

import pytest

from linkops_it import calls, create_link_via_rest, diff_has, link_configs, mirror, wait_until

pytestmark = pytest.mark.backends("rest", "cli")

D = "destination"
S = "source"


def seed_source_topic(lab, topic, partitions=3, per_partition=4):
    lab.create_topic(S, topic, partitions=partitions)
    records = [{"key": f"k{p}-{i}", "value": f"v{p}-{i}", "partition": p,
                "headers": {"trace": f"t{p}{i}", "origin": "it"}}
               for p in range(partitions) for i in range(per_partition)]
    lab.produce(S, topic, records)
    return records


def by_position(records):
    return sorted(records, key=lambda r: (r["partition"], r["offset"]))


def wait_caught_up(run_module, link, topic, timeout=60):
    """Poll mirror_topic_info (a real ansible run each time) until max_lag is 0."""
    def caught_up():
        info = run_module("mirror_topic_info", {"link_name": link, "topics": [topic]})
        assert info.rc == 0, info.output
        return info.result if info.result["max_lag"] == 0 and info.result["all_active"] else None
    return wait_until(caught_up, timeout, f"{topic} to catch up", interval=0.5)


def topic_state(lab, link, topic):
    status, body = mirror(lab, link, topic)
    return body["mirror_status"] if status == 200 else None


def test_mirror_create_sync_promote(lab, run_module, unique, link_name):
    topic, witness = unique("it-orders"), unique("it-witness")
    seed_source_topic(lab, topic)
    lab.create_topic(S, witness, partitions=1)
    create_link_via_rest(lab, link_name)
    assert "auto.create.mirror.topics.filters" not in link_configs(lab, link_name) or \
        not link_configs(lab, link_name)["auto.create.mirror.topics.filters"]["value"]
    active = {"link_name": link_name, "topics": [topic, witness], "state": "active", "wait_interval": 0.5}

    # check mode: predicts both creations, creates nothing
    run = run_module("mirror_topic", active, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["changed_topics"] == [topic, witness]
    assert diff_has(run.output, "-", f"{topic}: absent"), run.output
    assert diff_has(run.output, "+", f"{topic}: ACTIVE"), run.output
    assert mirror(lab, link_name, topic)[0] == 404
    assert topic not in lab.topics(D)

    # apply: both mirrors exist, the topic with the source's partition count
    run = run_module("mirror_topic", active)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert [(t["mirror_topic_name"], t["action"]) for t in run.result["topics"]] == [
        (topic, "created"), (witness, "created")]
    assert lab.topics(D)[topic] == 3
    assert topic_state(lab, link_name, topic) in ("ACTIVE", "PENDING_MIRROR")

    # idempotent
    run = run_module("mirror_topic", active)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False
    assert run.result["changed_topics"] == []

    # mirror_topic_info until lag 0, then the destination holds the same records at the same offsets
    info = wait_caught_up(run_module, link_name, topic)
    assert info["mirrors"][0]["mirror_topic_name"] == topic
    assert info["mirrors"][0]["num_partitions"] == 3
    assert info["missing"] == []
    source_records = by_position(lab.consume(S, topic))
    assert len(source_records) == 12
    assert by_position(lab.consume(D, topic)) == source_records

    # promote: check mode predicts it and changes nothing
    promote = {"link_name": link_name, "topics": [topic], "state": "promoted",
               "wait_timeout": 60, "wait_interval": 0.5}
    run = run_module("mirror_topic", promote, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["topics"][0]["action"] == "promoted"
    assert diff_has(run.output, "-", f"{topic}: ACTIVE"), run.output
    assert diff_has(run.output, "+", f"{topic}: STOPPED"), run.output
    assert topic_state(lab, link_name, topic) == "ACTIVE"

    run = run_module("mirror_topic", promote)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["topics"][0]["status"] == "STOPPED"
    assert topic_state(lab, link_name, topic) == "STOPPED"

    run = run_module("mirror_topic", promote)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False
    assert run.result["topics"][0]["status"] == "STOPPED"

    # the promoted topic is writable on the destination
    end_before = lab.end_offsets(D, topic)
    lab.produce(D, topic, [{"key": "after", "value": "written-on-destination", "partition": 1}])
    assert lab.end_offsets(D, topic) == {**end_before, 1: end_before[1] + 1}
    written = [r for r in lab.consume(D, topic) if r["partition"] == 1][-1]
    assert (written["offset"], written["value"]) == (end_before[1], "written-on-destination")

    # ...and no longer copied: new source records of both topics; the still-active witness
    # shows that the link copied after that, the promoted topic does not follow
    end_promoted = lab.end_offsets(D, topic)
    lab.produce(S, topic, [{"value": "late", "partition": p} for p in range(3)])
    lab.produce(S, witness, ["late"])
    wait_until(lambda: lab.end_offsets(D, witness).get(0) == 1, 30, "the witness mirror to copy")
    assert lab.end_offsets(D, topic) == end_promoted


def wait_active(lab, link, topic, timeout=30):
    wait_until(lambda: topic_state(lab, link, topic) == "ACTIVE", timeout, f"{topic} to be ACTIVE")


def create_mirror_via_rest(lab, link, topic):
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{link}/mirrors",
                            {"source_topic_name": topic})
    assert status in (201, 204), (status, body)
    wait_active(lab, link, topic)


def test_failed_over(lab, run_module, unique, link_name):
    topic = unique("it-dr")
    seed_source_topic(lab, topic, partitions=2, per_partition=2)
    create_link_via_rest(lab, link_name)
    create_mirror_via_rest(lab, link_name, topic)
    failover = {"link_name": link_name, "topics": [topic], "state": "failed_over",
                "wait_timeout": 60, "wait_interval": 0.5}

    run = run_module("mirror_topic", failover, check=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert topic_state(lab, link_name, topic) == "ACTIVE"

    run = run_module("mirror_topic", failover)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["topics"][0]["action"] == "failed_over"
    assert run.result["topics"][0]["status"] == "STOPPED"
    assert topic_state(lab, link_name, topic) == "STOPPED"

    run = run_module("mirror_topic", failover)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False

    end_before = lab.end_offsets(D, topic)[0]
    lab.produce(D, topic, [{"value": "after-failover", "partition": 0}])
    last = by_position([r for r in lab.consume(D, topic) if r["partition"] == 0])[-1]
    assert (last["offset"], last["value"]) == (end_before, "after-failover")


def test_promote_batch_with_a_non_mirror_topic_changes_nothing(lab, run_module, unique, link_name):
    topic, plain = unique("it-mirrored"), unique("it-plain")
    seed_source_topic(lab, topic, partitions=1, per_partition=2)
    lab.create_topic(D, plain, partitions=1)  # a normal destination topic, not a mirror
    create_link_via_rest(lab, link_name)
    create_mirror_via_rest(lab, link_name, topic)

    run = run_module("mirror_topic", {"link_name": link_name, "topics": [topic, plain], "state": "promoted",
                                      "wait_timeout": 20, "wait_interval": 0.5})
    assert run.rc != 0
    assert run.result["_status"] == "FAILED!"
    assert plain in run.msg
    assert topic not in run.msg.replace(plain, "")
    assert "Traceback" not in run.output
    assert topic_state(lab, link_name, topic) == "ACTIVE", "the mirror in the failed batch was promoted"


def test_create_batch_with_an_existing_non_mirror_topic_changes_nothing(lab, run_module, unique, link_name):
    new, plain = unique("it-new"), unique("it-plain")
    lab.create_topic(S, new, partitions=1)
    lab.create_topic(S, plain, partitions=1)
    lab.create_topic(D, plain, partitions=1)  # exists on the destination, not as a mirror
    create_link_via_rest(lab, link_name)

    run = run_module("mirror_topic", {"link_name": link_name, "topics": [new, plain], "state": "active",
                                      "wait_interval": 0.5})
    assert run.rc != 0
    assert plain in run.msg
    assert "Traceback" not in run.output
    assert mirror(lab, link_name, new)[0] == 404, "a mirror of the failed batch was created"
    assert new not in lab.topics(D)


def test_promote_with_lag_is_refused(lab, run_module, unique, link_name):
    topic = unique("it-lagging")
    seed_source_topic(lab, topic, partitions=1, per_partition=1)
    create_link_via_rest(lab, link_name)
    create_mirror_via_rest(lab, link_name, topic)
    wait_until(lambda: lab.end_offsets(D, topic).get(0) == 1, 30, "the first record to be copied")

    lab.knobs(copy_paused=True)
    try:
        lab.produce(S, topic, [f"r{i}" for i in range(7)])
        run = run_module("mirror_topic", {"link_name": link_name, "topics": [topic], "state": "promoted",
                                          "wait_timeout": 3, "wait_interval": 0.5})
        state_after = topic_state(lab, link_name, topic)
    finally:
        lab.knobs(copy_paused=False)
    assert run.rc != 0
    assert run.result["_status"] == "FAILED!"
    assert topic in run.msg
    assert re.search(r"lag\D{0,20}\b7\b", run.msg), run.msg
    assert "Traceback" not in run.output
    assert state_after == "ACTIVE"
    # still a mirror: it catches up once copying resumes
    wait_until(lambda: lab.end_offsets(D, topic).get(0) == 8, 30, "the mirror to catch up")


def test_reading_a_link_costs_one_request_however_many_mirrors(lab, run_module, unique, link_name):
    """Cost rule: a no-op run and an info read list the link's mirrors once, for 1 topic or 6."""
    topics = [unique("it-cost") for dummy in range(6)]
    for topic in topics:
        lab.create_topic(S, topic, partitions=1)
    create_link_via_rest(lab, link_name)
    run = run_module("mirror_topic", {"link_name": link_name, "topics": topics, "wait_interval": 0.5})
    assert run.rc == 0, run.output
    assert sorted(run.result["changed_topics"]) == sorted(topics)

    for listed in (topics[:1], topics):
        run = run_module("mirror_topic", {"link_name": link_name, "topics": listed})
        assert run.rc == 0, run.output
        assert run.result["changed"] is False
        assert calls(run.result) == 1, run.result
        info = run_module("mirror_topic_info", {"link_name": link_name, "topics": listed})
        assert info.rc == 0, info.output
        assert len(info.result["mirrors"]) == len(listed)
        assert calls(info.result) == 1, info.result


def test_parallel_creates_report_each_failure_and_start_nothing_after_it(lab, run_module, unique, link_name):
    """parallel: 4 creates in flight; a topic missing on the source fails with its own error, the creates in
    flight finish, no new one starts, and every listed topic is either created or named as not sent."""
    topics = [unique("it-par") for dummy in range(10)]
    missing = topics[1]  # never created on the source
    for topic in topics:
        if topic != missing:
            lab.create_topic(S, topic, partitions=1)
    create_link_via_rest(lab, link_name)
    run = run_module("mirror_topic", {"link_name": link_name, "topics": topics, "parallel": 4, "wait": False})
    assert run.rc != 0, run.output
    assert "Traceback" not in run.output
    assert f"Creating mirror topics failed: {missing}: " in run.msg, run.msg
    created = [t for t in topics if mirror(lab, link_name, t)[0] == 200]
    not_sent = re.search(r"Not sent after the failure: (.*)$", run.msg)
    skipped = not_sent.group(1).split(", ") if not_sent else []
    assert missing not in created
    assert sorted(created + skipped + [missing]) == sorted(topics), (created, skipped, run.msg)
    rows = dict((r["mirror_topic_name"], r["action"]) for r in run.result["topics"])
    assert rows[missing] == "failed" and all(rows[t] == "created" for t in created)

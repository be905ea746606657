"""mirror_topic states against the lab, on both backends: pause/resume, batches, lag at cutover,
reverse and truncate-and-restore on a bidirectional link, prefixes, absent, refusals; and
mirror_topic_info's filters. Each lifecycle runs check -> apply -> idempotent -> check-modify ->
modify -> delete and asserts changed, the diff and what the lab then holds."""

from __future__ import annotations

import pytest

from linkops_it import calls, create_link_via_rest, diff_has, mirror, wait_until

pytestmark = pytest.mark.backends("rest", "cli")

D = "destination"
S = "source"


# ------------------------------------------------------------------------------------------ helpers

def seed(lab, cluster, topic, partitions=2, per_partition=3, tag="r"):
    lab.create_topic(cluster, topic, partitions=partitions)
    lab.produce(cluster, topic, [{"key": f"k{p}-{i}", "value": f"{tag}{p}-{i}", "partition": p}
                                 for p in range(partitions) for i in range(per_partition)])


def by_position(records):
    return sorted(records, key=lambda r: (r["partition"], r["offset"]))


def status_on(lab, cluster, link, topic):
    path = f"/kafka/v3/clusters/{lab.cluster_id(cluster)}/links/{link}/mirrors/{topic}"
    code, body = lab.rest("GET", path, cluster=cluster)
    return body["mirror_status"] if code == 200 else None


def wait_status(lab, cluster, link, topic, status, timeout=30):
    wait_until(lambda: status_on(lab, cluster, link, topic) == status, timeout,
               f"{topic} on the {cluster} to be {status}")


def caught_up(lab, link, topic, timeout=30):
    def check():
        code, body = mirror(lab, link, topic)
        return code == 200 and body["mirror_status"] == "ACTIVE" and all(
            p["lag"] == 0 for p in body["mirror_lags"]) and \
            lab.end_offsets(D, topic) == lab.end_offsets(S, topic)
    wait_until(check, timeout, f"{topic} to catch up")


def on_source(lab, backend):
    """Connection options that make a module run address the lab's source cluster."""
    if backend == "cli":
        return {"bootstrap_server": lab.bootstrap(S), "cluster_id": lab.cluster_id(S)}
    return {"rest_url": lab.source_rest_url, "cluster_id": lab.cluster_id(S)}


def bidirectional_pair(lab, name):
    """A BIDIRECTIONAL link of the same name on both lab clusters (both OUTBOUND)."""
    def create(cluster, remote, extra):
        body = {"remote_cluster_id": lab.cluster_id(remote), **extra,
                "configs": [{"name": "link.mode", "value": "BIDIRECTIONAL"},
                            {"name": "bootstrap.servers", "value": lab.bootstrap(remote)}]}
        code, resp = lab.rest("POST", f"/kafka/v3/clusters/{lab.cluster_id(cluster)}/links", body,
                              params={"link_name": name}, cluster=cluster)
        assert code in (201, 204), (code, resp)
    create(D, S, {})
    code, link = lab.rest("GET", f"/kafka/v3/clusters/{lab.cluster_id(D)}/links/{name}")
    create(S, D, {"cluster_link_id": link["cluster_link_id"]})


@pytest.fixture
def bidi_link(lab, link_name):
    bidirectional_pair(lab, link_name)
    yield link_name
    lab.rest("DELETE", f"/kafka/v3/clusters/{lab.cluster_id(S)}/links/{link_name}", params={"force": True},
             cluster=S)


def row(run, topic):
    return {r["mirror_topic_name"]: r for r in run.result["topics"]}[topic]


# ------------------------------------------------------------------------------------------ pause/resume

def test_pause_resume_lifecycle(lab, run_module, unique, link_name):
    topic, witness = unique("st-paused"), unique("st-witness")
    seed(lab, S, topic)
    seed(lab, S, witness, partitions=1, per_partition=1)
    create_link_via_rest(lab, link_name)
    args = {"link_name": link_name, "topics": [topic, witness], "wait_interval": 0.5}

    # check -> apply -> idempotent
    run = run_module("mirror_topic", {**args, "state": "active"}, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert diff_has(run.output, "-", f"{topic}: absent") and diff_has(run.output, "+", f"{topic}: ACTIVE"), run.output
    assert mirror(lab, link_name, topic)[0] == 404
    run = run_module("mirror_topic", {**args, "state": "active"})
    assert run.rc == 0, run.output
    assert [r["action"] for r in run.result["topics"]] == ["created", "created"]
    assert [r["status"] for r in run.result["topics"]] == ["ACTIVE", "ACTIVE"]  # waited for the final status
    caught_up(lab, link_name, topic)
    run = run_module("mirror_topic", {**args, "state": "active"})
    assert run.rc == 0, run.output
    assert run.result["changed"] is False
    assert calls(run.result) == 1, run.result

    # check-modify: paused predicted, nothing paused
    paused = {"link_name": link_name, "topics": [topic], "state": "paused", "wait_interval": 0.5}
    run = run_module("mirror_topic", paused, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True and row(run, topic)["action"] == "paused"
    assert diff_has(run.output, "-", f"{topic}: ACTIVE") and diff_has(run.output, "+", f"{topic}: PAUSED"), run.output
    assert status_on(lab, D, link_name, topic) == "ACTIVE"

    # modify: paused, and copying stops for that topic while the witness goes on
    run = run_module("mirror_topic", paused, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert (row(run, topic)["status_before"], row(run, topic)["status"]) == ("ACTIVE", "PAUSED")
    assert status_on(lab, D, link_name, topic) == "PAUSED"
    end_paused = lab.end_offsets(D, topic)
    lab.produce(S, topic, [{"value": "while-paused", "partition": p} for p in range(2)])
    lab.produce(S, witness, ["while-paused"])
    wait_until(lambda: lab.end_offsets(D, witness).get(0) == 2, 30, "the witness to copy")
    assert lab.end_offsets(D, topic) == end_paused
    run = run_module("mirror_topic", paused)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False

    # resume: the records written meanwhile arrive
    run = run_module("mirror_topic", {**args, "state": "active"})
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert (row(run, topic)["action"], row(run, topic)["status"]) == ("resumed", "ACTIVE")
    assert row(run, witness)["action"] == "none"
    caught_up(lab, link_name, topic)
    assert by_position(lab.consume(D, topic)) == by_position(lab.consume(S, topic))


# ------------------------------------------------------------------------------------------ cutover

def test_promote_in_batches_reports_lag_at_cutover(lab, run_module, unique, link_name):
    topics = [unique("st-batch") for dummy in range(3)]
    for topic in topics:
        seed(lab, S, topic, partitions=1, per_partition=2)
    create_link_via_rest(lab, link_name)
    run = run_module("mirror_topic", {"link_name": link_name, "topics": topics, "wait_interval": 0.5})
    assert run.rc == 0, run.output
    for topic in topics:
        caught_up(lab, link_name, topic)
    promote = {"link_name": link_name, "topics": topics, "state": "promoted", "batch_size": 2,
               "wait_timeout": 60, "wait_interval": 0.5}
    run = run_module("mirror_topic", promote)
    assert run.rc == 0, run.output
    assert [(r["action"], r["status"], r["lag_at_cutover"]) for r in run.result["topics"]] == [
        ("promoted", "STOPPED", 0)] * 3
    assert run.result["max_lag_at_cutover"] == 0
    assert all(status_on(lab, D, link_name, t) == "STOPPED" for t in topics)
    # writable on the destination now
    lab.produce(D, topics[2], [{"value": "after-promote", "partition": 0}])
    assert lab.end_offsets(D, topics[2]) == {0: 3}
    run = run_module("mirror_topic", promote)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False and calls(run.result) == 1
    assert run.result["max_lag_at_cutover"] is None


def test_failover_reports_the_records_it_leaves_behind(lab, run_module, unique, link_name):
    topic = unique("st-dr")
    seed(lab, S, topic, partitions=2, per_partition=2)
    create_link_via_rest(lab, link_name)
    assert run_module("mirror_topic", {"link_name": link_name, "topics": [topic], "wait_interval": 0.5}).rc == 0
    caught_up(lab, link_name, topic)
    lab.knobs(copy_paused=True)
    try:
        lab.produce(S, topic, [{"value": f"lost-{i}", "partition": 1} for i in range(5)])
        run = run_module("mirror_topic", {"link_name": link_name, "topics": [topic], "state": "failed_over",
                                          "wait_timeout": 60, "wait_interval": 0.5})
    finally:
        lab.knobs(copy_paused=False)
    assert run.rc == 0, run.output
    assert (row(run, topic)["action"], row(run, topic)["status"]) == ("failed_over", "STOPPED")
    assert row(run, topic)["lag_at_cutover"] == 5
    assert run.result["max_lag_at_cutover"] == 5
    assert lab.end_offsets(D, topic) == {0: 2, 1: 2}
    lab.produce(D, topic, [{"value": "new-primary", "partition": 1}])
    assert lab.end_offsets(D, topic) == {0: 2, 1: 3}


def test_impossible_request_fails_before_any_change(lab, run_module, unique, link_name):
    stopped, active = unique("st-stopped"), unique("st-active")
    for topic in (stopped, active):
        seed(lab, S, topic, partitions=1, per_partition=1)
    create_link_via_rest(lab, link_name)
    assert run_module("mirror_topic", {"link_name": link_name, "topics": [stopped, active],
                                       "wait_interval": 0.5}).rc == 0
    assert run_module("mirror_topic", {"link_name": link_name, "topics": [stopped], "state": "failed_over",
                                       "wait_interval": 0.5}).rc == 0
    for check in (True, False):
        run = run_module("mirror_topic", {"link_name": link_name, "topics": [active, stopped], "state": "paused"},
                         check=check)
        assert run.rc != 0
        assert f"{stopped} is STOPPED (" in run.msg and "possible: present, promoted, failed_over" in run.msg
        assert f"{active} is" not in run.msg
        assert "nothing was changed" in run.msg
        assert "Traceback" not in run.output
    assert status_on(lab, D, link_name, active) == "ACTIVE"
    # reverse needs a bidirectional link: refused, named, before any call that changes something
    run = run_module("mirror_topic", {"link_name": link_name, "topics": [active], "state": "reversed"})
    assert run.rc != 0
    assert "reverse-and-start needs a BIDIRECTIONAL link without cluster.link.prefix; link.mode is DESTINATION" \
        in run.msg
    assert status_on(lab, D, link_name, active) == "ACTIVE"


# ------------------------------------------------------------------------------------------ bidirectional

def test_failover_restore_and_reverse_back(lab, run_module, unique, bidi_link, backend):
    """DR round trip with the module: fail over on the destination, restore the old primary
    (drops what it wrote after the failover point), then reverse so it is the primary again."""
    link, topic = bidi_link, unique("st-fb")
    seed(lab, S, topic, partitions=2, per_partition=3, tag="before")
    dest = {"link_name": link, "topics": [topic], "wait_timeout": 60, "wait_interval": 0.5}
    source = {**dest, **on_source(lab, backend)}
    assert run_module("mirror_topic", {**dest, "state": "active"}).rc == 0
    caught_up(lab, link, topic)

    # disaster: the source keeps writing while the destination fails over
    lab.knobs(copy_paused=True)
    try:
        lab.produce(S, topic, [{"value": f"lost-{i}", "partition": 0} for i in range(3)])
        run = run_module("mirror_topic", {**dest, "state": "failed_over"})
    finally:
        lab.knobs(copy_paused=False)
    assert run.rc == 0, run.output
    assert row(run, topic)["lag_at_cutover"] == 3
    lab.produce(D, topic, [{"value": "new-primary", "partition": 1}])

    # check: restored on the old primary, predicted, nothing truncated
    run = run_module("mirror_topic", {**source, "state": "restored"}, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True and row(run, topic)["action"] == "restored"
    assert diff_has(run.output, "-", f"{topic}: absent") and diff_has(run.output, "+", f"{topic}: ACTIVE"), \
        run.output
    assert lab.end_offsets(S, topic) == {0: 6, 1: 3}

    # apply: the records written after the failover point are gone, the new primary's are there
    run = run_module("mirror_topic", {**source, "state": "restored"}, diff=True)
    assert run.rc == 0, run.output
    r = row(run, topic)
    assert (r["status_before"], r["action"], r["status"]) == (None, "restored", "ACTIVE")
    assert r["messages_truncated"] == 3 and run.result["messages_truncated"] == 3
    if backend == "rest":
        assert sorted((d["partition_id"], d["offset_truncated_to"], d["messages_truncated"])
                      for d in r["partition_level_truncation_data"]) == [(0, 3, 3), (1, 3, 0)]
    wait_until(lambda: lab.end_offsets(S, topic) == {0: 3, 1: 4}, 30, "the restored topic to catch up")
    source_records = by_position(lab.consume(S, topic))
    assert not [x for x in source_records if x["value"].startswith("lost")]
    assert source_records == by_position(lab.consume(D, topic))

    # idempotent
    run = run_module("mirror_topic", {**source, "state": "restored"})
    assert run.rc == 0, run.output
    assert run.result["changed"] is False and calls(run.result) == 1

    # failback: reverse on the old primary; it is writable, the destination mirrors it again
    run = run_module("mirror_topic", {**source, "state": "reversed"}, check=True, diff=True)
    assert run.rc == 0, run.output
    assert diff_has(run.output, "-", f"{topic}: ACTIVE") and diff_has(run.output, "+", f"{topic}: STOPPED")
    run = run_module("mirror_topic", {**source, "state": "reversed"})
    assert run.rc == 0, run.output
    assert (row(run, topic)["action"], row(run, topic)["status"]) == ("reversed", "STOPPED")
    wait_status(lab, D, link, topic, "ACTIVE")
    lab.produce(S, topic, [{"value": "home-again", "partition": 0}])
    wait_until(lambda: lab.end_offsets(D, topic) == lab.end_offsets(S, topic) == {0: 4, 1: 4}, 30,
               "the destination to mirror the old primary again")
    run = run_module("mirror_topic", {**source, "state": "reversed"})
    assert run.rc == 0, run.output
    assert run.result["changed"] is False


def test_reversed_paused_leaves_the_remote_mirror_paused(lab, run_module, unique, bidi_link):
    link, topic = bidi_link, unique("st-revp")
    seed(lab, S, topic, partitions=1, per_partition=2)
    args = {"link_name": link, "topics": [topic], "wait_timeout": 60, "wait_interval": 0.5}
    assert run_module("mirror_topic", {**args, "state": "active"}).rc == 0
    caught_up(lab, link, topic)
    run = run_module("mirror_topic", {**args, "state": "reversed_paused"}, diff=True)
    assert run.rc == 0, run.output
    assert (row(run, topic)["action"], row(run, topic)["status"]) == ("reversed_paused", "STOPPED")
    assert diff_has(run.output, "+", f"{topic}: STOPPED"), run.output
    wait_status(lab, S, link, topic, "PAUSED")
    lab.produce(D, topic, [{"value": "written-on-the-new-primary", "partition": 0}])
    assert lab.end_offsets(D, topic) == {0: 3}
    assert lab.end_offsets(S, topic) == {0: 2}  # the remote mirror is paused
    run = run_module("mirror_topic", {**args, "state": "reversed_paused"})
    assert run.rc == 0 and run.result["changed"] is False, run.output


# ------------------------------------------------------------------------------------------ prefix

def test_source_names_on_a_prefixed_link(lab, run_module, unique, link_name):
    source_topic = unique("st-pfx")
    seed(lab, S, source_topic, partitions=1, per_partition=2)
    create_link_via_rest(lab, link_name, **{"cluster.link.prefix": "dc1."})
    args = {"link_name": link_name, "topics": [{"source_topic_name": source_topic,
                                                "configs": {"retention.ms": 3600000}}],
            "wait_interval": 0.5}
    run = run_module("mirror_topic", args, check=True, diff=True)
    assert run.rc == 0, run.output
    assert diff_has(run.output, "+", f"dc1.{source_topic}: ACTIVE"), run.output
    run = run_module("mirror_topic", args)
    assert run.rc == 0, run.output
    r = row(run, f"dc1.{source_topic}")
    assert (r["source_topic_name"], r["action"]) == (source_topic, "created")
    wait_until(lambda: lab.end_offsets(D, f"dc1.{source_topic}") == {0: 2}, 30, "the prefixed mirror to copy")
    run = run_module("mirror_topic", args)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False and calls(run.result) == 1
    # a name without the prefix is refused before anything is created
    other = unique("st-pfx")
    seed(lab, S, other, partitions=1, per_partition=1)
    run = run_module("mirror_topic", {"link_name": link_name, "topics": [other]})
    assert run.rc != 0
    assert f"name the topic 'dc1.{other}' or give source_topic_name" in run.msg
    assert f"dc1.{other}" not in lab.topics(D)


# ------------------------------------------------------------------------------------------ absent

def mirrors_to_delete(lab, run_module, unique, link_name):
    topic, keep = unique("st-absent"), unique("st-keep")
    for t in (topic, keep):
        seed(lab, S, t, partitions=1, per_partition=1)
    create_link_via_rest(lab, link_name)
    assert run_module("mirror_topic", {"link_name": link_name, "topics": [topic, keep], "wait_interval": 0.5}).rc == 0
    absent = {"link_name": link_name, "topics": [topic], "state": "absent", "wait_interval": 0.5,
              "wait_timeout": 20}
    return topic, keep, absent


def test_absent_needs_allow_delete_and_check_mode_predicts(lab, run_module, unique, link_name):
    topic, keep, absent = mirrors_to_delete(lab, run_module, unique, link_name)
    for check in (True, False):
        run = run_module("mirror_topic", absent, check=check)
        assert run.rc != 0
        assert f"state=absent deletes the topic {topic} and all its records" in run.msg
        assert "set allow_delete: true" in run.msg and "Nothing was deleted." in run.msg
    assert status_on(lab, D, link_name, topic) == "ACTIVE"
    run = run_module("mirror_topic", {**absent, "allow_delete": True}, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True and row(run, topic)["action"] == "deleted"
    assert diff_has(run.output, "-", f"{topic}: ACTIVE") and diff_has(run.output, "+", f"{topic}: absent"), run.output
    assert topic in lab.topics(D) and status_on(lab, D, link_name, topic) == "ACTIVE"
    # topics that are not mirrors of the link are absent already
    run = run_module("mirror_topic", {**absent, "topics": [unique("st-never")]})
    assert run.rc == 0, run.output
    assert run.result["changed"] is False and calls(run.result) == 1


def test_absent_deletes_the_mirror_topic(lab, run_module, unique, link_name):
    topic, keep, absent = mirrors_to_delete(lab, run_module, unique, link_name)
    run = run_module("mirror_topic", {**absent, "allow_delete": True}, diff=True)
    assert run.rc == 0, run.output
    assert (row(run, topic)["action"], row(run, topic)["status"]) == ("deleted", None)
    assert diff_has(run.output, "+", f"{topic}: absent"), run.output
    assert status_on(lab, D, link_name, topic) is None
    wait_until(lambda: topic not in lab.topics(D), 30, "the topic to be deleted")
    assert status_on(lab, D, link_name, keep) == "ACTIVE"
    run = run_module("mirror_topic", {**absent, "allow_delete": True})
    assert run.rc == 0, run.output
    assert run.result["changed"] is False


# ------------------------------------------------------------------------------------------ info

def test_info_status_filter_states_and_cost(lab, run_module, unique, link_name):
    a, b, c = (unique("st-info") for dummy in range(3))
    for t in (a, b, c):
        seed(lab, S, t, partitions=1, per_partition=1)
    create_link_via_rest(lab, link_name)
    assert run_module("mirror_topic", {"link_name": link_name, "topics": [a, b, c], "wait_interval": 0.5}).rc == 0
    assert run_module("mirror_topic", {"link_name": link_name, "topics": [b], "state": "paused"}).rc == 0
    assert run_module("mirror_topic", {"link_name": link_name, "topics": [c], "state": "failed_over",
                                       "wait_interval": 0.5}).rc == 0
    info = run_module("mirror_topic_info", {"link_name": link_name, "status": ["paused", "STOPPED"]})
    assert info.rc == 0, info.output
    assert [m["mirror_topic_name"] for m in info.result["mirrors"]] == sorted([b, c])
    assert info.result["states"] == {a: "ACTIVE", b: "PAUSED", c: "STOPPED"}
    assert info.result["status_counts"] == {"ACTIVE": 1, "PAUSED": 1, "STOPPED": 1}
    assert calls(info.result) == 1
    info = run_module("mirror_topic_info", {"link_name": link_name, "topics": [c, "not-a-mirror"]})
    assert info.rc == 0, info.output
    assert info.result["missing"] == ["not-a-mirror"] and info.result["all_stopped"] is False
    info = run_module("mirror_topic_info", {"link_name": link_name, "topics": [c]})
    assert info.result["all_stopped"] is True and info.result["all_active"] is False


# ------------------------------------------------------------------------------------------ bad input

def test_bad_options_fail_in_one_line_naming_the_option(lab, run_module, unique, link_name):
    create_link_via_rest(lab, link_name)
    run = run_module("mirror_topic", {"link_name": link_name, "topics": ["t"], "batch_size": 0, "max_lag": -1})
    assert run.rc != 0
    assert run.msg == ("batch_size must be 1 or more (topics per batch request), got 0; "
                       "max_lag must be 0 or more records, got -1."), run.msg
    run = run_module("mirror_topic", {"link_name": link_name, "topics": [{"name": "t", "source": "s"}]})
    assert run.rc != 0
    assert run.msg == "topics[0]: unknown keys source; use name, source_topic_name, configs.", run.msg
    run = run_module("mirror_topic", {"link_name": link_name, "topics": ["t"], "state": "resumed"})
    assert run.rc != 0 and "state" in run.msg and "reversed_paused" in run.msg
    assert "Traceback" not in run.output
    assert mirror(lab, link_name, "t")[0] == 404

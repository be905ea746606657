"""DR round trip with the playbooks, on an apache-kafka lab of its own (SASL_SSL, ACLs, HTTPS REST; the JVM
broker of the primary stopped and started): rollout.yml (a BIDIRECTIONAL pair), failover.yml with the
source broker stopped, failback.yml after it is back, then teardown.yml; and exactly which
records survive on each cluster.

Records (topic orders, 2 partitions; the source is the primary, the destination the DR cluster):
  A  8 records (4 per partition) on the primary, mirrored to DR        -> survive everywhere
  B  3 records on the primary's partition 0 that DR never copied       -> the RPO; truncated at failback
     (copying stalls, the DR copier has seen the primary's end offsets, then the primary's broker stops)
  C  3 records written on DR after the failover (2 on p0, 1 on p1)     -> survive everywhere
  D  2 records written on the old primary's p1 after it came back      -> truncated at failback
  E  1 record on the primary after the failback (p0)                   -> mirrored to DR again
Consumer group billing: committed on the primary at A's end (4/4), synced to DR; during the outage it
consumes C on DR (6/5); after the failback its offsets on the primary are DR's (6/5).
"""

from __future__ import annotations

import pytest

from fleet_it import D, S, lab_snapshot, links_on, mirror_status, playbook, read_json, recap, write_inventory
from linkops_it import start_apache_kafka_lab, wait_until

LINK, TOPIC, GROUP = "dr-orders", "orders", "billing"
A = [{"value": f"A{p}-{i}", "partition": p} for p in (0, 1) for i in range(4)]
B = [{"value": f"B0-{i}", "partition": 0} for i in range(3)]
C = [{"value": "C0-0", "partition": 0}, {"value": "C0-1", "partition": 0}, {"value": "C1-0", "partition": 1}]
DD = [{"value": f"D1-{i}", "partition": 1} for i in range(2)]
E = [{"value": "E0-0", "partition": 0}]


def values(lab, side):
    """``{partition: [values in offset order]}`` of the topic, checking offsets have no gaps."""
    out: dict[int, list[str]] = {0: [], 1: []}
    for r in sorted(lab.consume(side, TOPIC), key=lambda r: (r["partition"], r["offset"])):
        assert r["offset"] == len(out[r["partition"]]), r
        out[r["partition"]].append(r["value"])
    return out


def flat(text):
    """The output with every run of whitespace as one space (the callback wraps long messages)."""
    return " ".join(text.split())


def dr_mirror(lab):
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{LINK}/mirrors/{TOPIC}")
    assert status == 200, (status, body)
    return body


def link_mode(lab, side):
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.cluster_id(side)}/links/{LINK}/configs/link.mode",
                            cluster=side)
    assert status == 200, (status, body)
    return body["value"]


def dr_sequence(lab, tmp, out):
    """The whole story; stops (returns) after a playbook that failed, the tests then say which."""
    lab.create_topic(S, TOPIC, partitions=2)
    inventory = write_inventory(tmp / "inventory", lab, {LINK: {
        "link_mode": "BIDIRECTIONAL", "link_topics": [TOPIC], "link_consumer_groups": [GROUP],
        "link_consumer_group_filters": [{"name": GROUP}], "link_configs": {"consumer.offset.sync.ms": 1000}}})
    out["inventory"] = inventory
    gate = ["-e", "rollout_gate_max_lag=0", "-e", "rollout_gate_interval=1", "-e", "rollout_gate_timeout=60"]
    out["rollout"] = playbook(lab, inventory, "rollout", *gate)
    if out["rollout"].rc != 0:
        return out
    out["modes"] = (link_mode(lab, S), link_mode(lab, D))

    # normal operation: A is mirrored, billing's offsets too
    lab.produce(S, TOPIC, A)
    wait_until(lambda: lab.end_offsets(D, TOPIC) == {0: 4, 1: 4}, 60, "A on the DR cluster")
    lab.consume(S, TOPIC, group=GROUP, commit=True)
    wait_until(lambda: lab.group_offsets(D, GROUP).get(TOPIC) == {0: 4, 1: 4}, 60, "billing synced to DR")

    # copying stalls after the DR copier saw B on the primary; then the primary goes down
    lab.knobs(copy_round_ms=0)
    lab.produce(S, TOPIC, B)
    wait_until(lambda: dr_mirror(lab)["mirror_lags"][0]["last_source_fetch_offset"] == 7, 60,
               "the DR copier to see the primary's end offset 7 on partition 0")
    assert lab.end_offsets(D, TOPIC) == {0: 4, 1: 4}
    lab.stop_broker(S)
    wait_until(lambda: links_on(lab, D)[LINK]["link_state"] == "UNAVAILABLE", 60, "the link to notice the outage")

    out["failover"] = playbook(lab, inventory, "failover", "-e", "failover_confirm=true")
    lab.knobs(copy_round_ms=2000)
    out["after_failover"] = {"status": mirror_status(lab, D, LINK, TOPIC), "values": values(lab, D),
                             "group": lab.group_offsets(D, GROUP).get(TOPIC)}
    if out["failover"].rc != 0:
        return out

    # DR is the primary now; the old primary comes back and someone still writes to it
    lab.produce(D, TOPIC, C)
    lab.consume(D, TOPIC, group=GROUP, commit=True)
    lab.start_broker(S)
    lab.produce(S, TOPIC, DD)
    out["before_failback"] = {"source": values(lab, S), "dr": values(lab, D),
                              "dr_group": lab.group_offsets(D, GROUP).get(TOPIC)}

    before = lab_snapshot(lab, [GROUP])
    out["failback_check"] = playbook(lab, inventory, "failback", "--check", "--diff")
    out["check_unchanged"] = (before, lab_snapshot(lab, [GROUP]))
    out["check_wrote_report"] = (tmp / "reports" / LINK / "failback.json").exists()

    out["failback"] = playbook(lab, inventory, "failback", "-e", "failback_confirm=true")
    if out["failback"].rc != 0:
        return out
    out["after_failback"] = {"source_status": mirror_status(lab, S, LINK, TOPIC),
                             "dr_status": mirror_status(lab, D, LINK, TOPIC),
                             "source_group": lab.group_offsets(S, GROUP).get(TOPIC)}
    lab.produce(S, TOPIC, E)
    wait_until(lambda: lab.end_offsets(D, TOPIC) == {0: 7, 1: 5}, 60, "E mirrored to the DR cluster")
    out["final"] = {"source": values(lab, S), "dr": values(lab, D)}
    out["failback_again"] = playbook(lab, inventory, "failback", "-e", "failback_confirm=true")

    out["teardown"] = playbook(lab, inventory, "teardown", "-e", "teardown_confirm=true", "-e", "teardown_force=true")
    out["after_teardown"] = {"source_links": links_on(lab, S), "dr_links": links_on(lab, D),
                             "source_topics": lab.topics(S), "dr_topics": lab.topics(D)}


@pytest.fixture(scope="module")
def dr(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dr")
    lab = start_apache_kafka_lab(tmp / "lab")
    out: dict = {"lab": lab, "tmp": tmp}
    try:
        dr_sequence(lab, tmp, out)
        yield out
    finally:
        lab.stop()


def _ran(dr, key):
    run = dr.get(key)
    assert run is not None, f"the sequence stopped before {key}: " + "; ".join(
        f"{k}: rc {v.rc}" for k, v in dr.items() if hasattr(v, "rc"))
    return run


def test_rollout_creates_both_sides_of_the_pair(dr):
    run = _ran(dr, "rollout")
    assert run.rc == 0, run.output
    assert dr["modes"] == ("BIDIRECTIONAL", "BIDIRECTIONAL")
    assert f"{LINK} passed the gate" in run.output


def test_failover_with_the_source_down_records_the_rpo(dr):
    run = _ran(dr, "failover")
    assert run.rc == 0, run.output
    assert "link UNAVAILABLE (BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR" in run.output
    after = dr["after_failover"]
    assert after["status"] == "STOPPED"
    assert after["values"] == {0: [f"A0-{i}" for i in range(4)], 1: [f"A1-{i}" for i in range(4)]}
    assert after["group"] == {0: 4, 1: 4}
    report = read_json(dr["tmp"] / "reports" / LINK / "cutover.json")
    assert report["mode"] == "failover"
    (row,) = report["topics"]
    assert (row["topic"], row["action"]) == (TOPIC, "failed_over")
    assert sorted((p["partition"], p["lag"]) for p in row["partition_lags"]) == [(0, 3), (1, 0)]
    assert "RPO (last known lag" in run.output and "3 records (orders-0: 3)" in flat(run.output), run.output


def test_failback_check_changes_nothing(dr):
    run = _ran(dr, "failback_check")
    assert run.rc == 0, run.output
    before, after = dr["check_unchanged"]
    assert before == after
    assert f"{TOPIC}: absent" in run.output and f"{TOPIC}: ACTIVE" in run.output  # the predicted restore
    assert dr["check_wrote_report"] is False


def test_failback_truncates_what_the_old_primary_wrote_after_the_failover(dr):
    run = _ran(dr, "failback")
    assert run.rc == 0, run.output
    before = dr["before_failback"]
    assert before["source"] == {0: [f"A0-{i}" for i in range(4)] + [r["value"] for r in B],
                                1: [f"A1-{i}" for i in range(4)] + [r["value"] for r in DD]}
    report = read_json(dr["tmp"] / "reports" / LINK / "failback.json")
    assert report["messages_truncated"] == 5
    (row,) = report["topics"]
    assert sorted((p["partition_id"], p["offset_truncated_to"], p["messages_truncated"]) for p in row["partitions"]) \
        == [(0, 4, 3), (1, 4, 2)]
    assert "Truncated on lab_source (written there after the failover point): 5 records (orders: 5)" \
        in flat(run.output), run.output


def test_exactly_which_records_survive(dr):
    _ran(dr, "failback")
    final = dr["final"]
    expected = {0: [f"A0-{i}" for i in range(4)] + ["C0-0", "C0-1", "E0-0"],
                1: [f"A1-{i}" for i in range(4)] + ["C1-0"]}
    assert final["source"] == expected
    assert final["dr"] == expected


def test_original_direction_is_restored(dr):
    _ran(dr, "failback")
    after = dr["after_failback"]
    assert (after["source_status"], after["dr_status"]) == ("STOPPED", "ACTIVE")


def test_consumers_resume_on_the_primary_where_they_left_off_on_dr(dr):
    _ran(dr, "failback")
    assert dr["before_failback"]["dr_group"] == {0: 6, 1: 5}
    assert dr["after_failback"]["source_group"] == {0: 6, 1: 5}


def test_failback_again_has_nothing_to_do(dr):
    run = _ran(dr, "failback_again")
    assert run.rc == 0, run.output
    assert recap(run.output)[LINK]["changed"] == 0, run.output
    assert "nothing to fail back" in run.output


def test_teardown_removes_both_sides_and_keeps_the_topics(dr):
    run = _ran(dr, "teardown")
    assert run.rc == 0, run.output
    after = dr["after_teardown"]
    assert LINK not in after["source_links"] and LINK not in after["dr_links"]
    assert after["source_topics"][TOPIC] == after["dr_topics"][TOPIC] == 2

"""A mirror's start (start offsets latest and timestamp, the fill limit), pause and resume of a
mirror and of its link, deleting a link with mirrors that are not stopped, and unknown mirror
actions, on the lab's REST, checked the way a user would: records on the destination."""

from __future__ import annotations

import pytest

from labtesting import recent_ts, unique, wait_until
from sides import assert_error, bidi_pair, cleanup, records

pytestmark = pytest.mark.usefixtures("copy_running")


# --------------------------------------------------------------------------- start offsets

def test_mirror_start_offset_latest(lab, dst, src):
    name = unique("latest")
    dst.create_link(name, {"source_cluster_id": src.cid},
                    {"bootstrap.servers": src.bootstrap, "mirror.start.offset.spec": "latest"})
    topic = unique("lt")
    lab.create_topic("source", topic, 2)
    lab.produce("source", topic, records(9, 2, tag="old"))
    dst.create_mirror(name, topic)
    m = dst.wait_mirror(name, topic)
    assert [l["lag"] for l in m["mirror_lags"]] == [0, 0]
    from linkops_lab.kafka import watermarks
    tps = [(topic, 0), (topic, 1)]
    assert watermarks(lab.admin("destination"), tps, spec="earliest") == {(topic, 0): 5, (topic, 1): 4}
    assert lab.consume("destination", topic) == []
    lab.produce("source", topic, records(4, 2, tag="new"))
    dst.wait_mirror(name, topic)
    got = lab.consume("destination", topic)
    assert [(r["partition"], r["offset"], r["value"]) for r in got] == [
        (0, 5, "new-0"), (0, 6, "new-2"), (1, 4, "new-1"), (1, 5, "new-3")]
    assert got == [r for r in lab.consume("source", topic) if r["value"].startswith("new")]
    dst.delete_link(name)


def test_mirror_start_offset_timestamp(lab, dst, src):
    name = unique("ts")
    topic = unique("tst")
    lab.create_topic("source", topic, 1)
    base = recent_ts()
    lab.produce("source", topic, [{"value": f"v{i}", "timestamp": base + i * 60_000} for i in range(5)])
    from datetime import datetime, timezone
    start = datetime.fromtimestamp((base + 2 * 60_000) / 1000, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    dst.create_link(name, {"source_cluster_id": src.cid},
                    {"bootstrap.servers": src.bootstrap, "mirror.start.offset.spec": start})
    dst.create_mirror(name, topic)
    dst.wait_mirror(name, topic)
    assert [(r["offset"], r["value"]) for r in lab.consume("destination", topic)] == [
        (2, "v2"), (3, "v3"), (4, "v4")]
    dst.delete_link(name)


def test_mirror_start_offset_fill_limit(lab, dst, src):
    name = unique("limit")
    topic = unique("lim")
    lab.create_topic("source", topic, 1)
    lab.produce("source", topic, records(5))
    dst.create_link(name, {"source_cluster_id": src.cid},
                    {"bootstrap.servers": src.bootstrap, "mirror.start.offset.spec": "latest"})
    before = lab.knobs()["start_offset_fill_limit"]
    lab.knobs(start_offset_fill_limit=3)
    try:
        _, err = dst.create_mirror(name, topic, expect=400)
    finally:
        lab.knobs(start_offset_fill_limit=before)
    assert_error(err, 40002, "start_offset_fill_limit", "earliest")
    assert topic not in lab.topics("destination")
    dst.delete_link(name)


# --------------------------------------------------------------------------- pause, link pause, delete

def test_pause_resume_and_link_pause_stop_copying(lab, dst, src):
    name = unique("pp")
    bidi_pair(dst, src, lab, name)
    topic = unique("pp")
    lab.create_topic("destination", topic, 1)
    src.create_mirror(name, topic)          # a mirror on the source cluster this time
    src.wait_mirror(name, topic)
    res = src.action(name, "pause", [topic], params={"validate_only": True})
    assert res["data"][0]["error_code"] is None
    assert src.mirror(name, topic)["mirror_status"] == "ACTIVE"
    res = src.action(name, "pause", [topic])
    assert res["data"][0]["error_code"] is None
    lab.produce("destination", topic, records(2))
    wait_until(lambda: src.mirror(name, topic)["mirror_lags"][0]["lag"] == 2, 10, "lag while paused")
    assert src.mirror(name, topic)["mirror_status"] == "PAUSED"
    assert lab.end_offsets("source", topic) == {0: 0}
    src.action(name, "resume", [topic])
    src.wait_mirror(name, topic)
    src("PUT", f"/clusters/{{C}}/links/{name}/configs/cluster.link.paused", {"value": "true"}, expect=204)
    assert src.mirror(name, topic)["mirror_status"] == "LINK_PAUSED"
    _, listed = src("GET", f"/clusters/{{C}}/links/{name}/mirrors",
                    params={"mirror_status": "LINK_PAUSED"}, expect=200)
    assert [m["mirror_topic_name"] for m in listed["data"]] == [topic]
    lab.produce("destination", topic, records(1))
    wait_until(lambda: src.mirror(name, topic)["mirror_lags"][0]["lag"] == 1, 10, "lag while link paused")
    assert lab.end_offsets("source", topic) == {0: 2}
    src("PUT", f"/clusters/{{C}}/links/{name}/configs:alter",
        {"data": [{"name": "cluster.link.paused", "operation": "DELETE"}]}, expect=204)
    src.wait_mirror(name, topic)
    assert lab.end_offsets("source", topic) == {0: 3}
    # stopped mirrors cannot be paused or resumed
    src.action(name, "failover", [topic])
    src.wait_mirror(name, topic, status="STOPPED", lag0=False)
    for action in ("pause", "resume"):
        res = src.action(name, action, [topic])
        assert res["data"][0]["error_code"] == 400 and "already stopped" in res["data"][0]["error_message"]
    cleanup(dst, src, name)


@pytest.mark.parametrize("state", ["PAUSED", "PENDING_MIRROR"])
def test_delete_link_refused_while_mirrors_are_not_stopped(lab, dst, src, state):
    name = unique("del")
    src.create_link(name, {"source_cluster_id": dst.cid}, {"bootstrap.servers": dst.bootstrap})
    topic = unique("dl")
    lab.create_topic("destination", topic, 1)
    if state == "PENDING_MIRROR":
        lab.knobs(pending_mirror_ms=5000)
    try:
        src.create_mirror(name, topic)
        if state == "PAUSED":
            src.wait_mirror(name, topic)
            src.action(name, "pause", [topic])
        assert src.mirror(name, topic)["mirror_status"] == state
        _, err = src("DELETE", f"/clusters/{{C}}/links/{name}", expect=400)
        assert_error(err, 40002, name, topic, "force")
        src("DELETE", f"/clusters/{{C}}/links/{name}", params={"force": True}, expect=200)
    finally:
        lab.knobs(pending_mirror_ms=100)
    src("GET", f"/clusters/{{C}}/links/{name}", expect=404)
    assert topic in lab.topics("source")     # the topic stays, as an ordinary topic


def test_unknown_mirror_action_is_404(lab, dst):
    name = unique("act")
    dst.create_link(name, {"source_cluster_id": lab.source_cluster_id},
                    {"bootstrap.servers": lab.source_bootstrap})
    status, err = lab.rest("POST", f"/kafka/v3/clusters/{dst.cid}/links/{name}/mirrors:explode",
                           {"mirror_topic_names": ["x"]})
    assert status == 404 and err["error_code"] == 404
    dst.delete_link(name)

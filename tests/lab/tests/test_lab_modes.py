"""REST for both lab clusters and the link modes (DESTINATION/SOURCE/BIDIRECTIONAL,
OUTBOUND/INBOUND): each cluster's own REST, the create checks of each mode, source-initiated
and bidirectional links, checked the way a user would: records and offsets on the clusters.
Reverse and truncate-and-restore: test_lab_reverse_failback.py; start offsets, pause and
delete: test_lab_mirror_lifecycle.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from linkops_lab.lab import Lab
from labtesting import unique, wait_until
from sides import assert_error, bidi_pair, cleanup, records

LABCTL = Path(__file__).resolve().parents[1] / "labctl.py"

pytestmark = pytest.mark.usefixtures("copy_running")


# --------------------------------------------------------------------------- REST per cluster

@pytest.mark.parametrize("prefix", ["/kafka/v3", "/v3"])
def test_each_cluster_has_its_own_rest(lab, dst, src, prefix):
    assert lab.info["rest_url"] == lab.info["destination_rest_url"] == lab.destination_rest_url
    assert lab.source_rest_url and lab.source_rest_url != lab.destination_rest_url
    for side, other in ((dst, src), (src, dst)):
        _, body = side("GET", "/clusters", prefix=prefix, expect=200)
        assert [c["cluster_id"] for c in body["data"]] == [side.cid]
        url = lab.rest_url_of(side.cluster).rsplit("/kafka", 1)[0]
        assert body["data"][0]["metadata"]["self"].startswith(url)
        _, one = side("GET", "/clusters/{C}", prefix=prefix, expect=200)
        assert one["cluster_id"] == side.cid
        # the other cluster's id in the path: 404 with a Confluent error body
        for path in ("/clusters/%s", "/clusters/%s/links", "/clusters/%s/topics",
                     "/clusters/%s/links/-/mirrors"):
            _, err = side("GET", path % other.cid, prefix=prefix, expect=404)
            assert_error(err, 404, other.cid)
        _, health = side("GET", "/lab/v1/health", prefix="", expect=200)
        assert health["cluster_id"] == side.cid


def test_topics_listed_per_cluster(lab, dst, src):
    only_src, only_dst = unique("only-src"), unique("only-dst")
    lab.create_topic("source", only_src, 2)
    lab.create_topic("destination", only_dst, 1)
    src_topics = {t["topic_name"]: t for t in src("GET", "/clusters/{C}/topics", expect=200)[1]["data"]}
    dst_topics = {t["topic_name"] for t in dst("GET", "/clusters/{C}/topics", expect=200)[1]["data"]}
    assert src_topics[only_src]["partitions_count"] == 2 and src_topics[only_src]["cluster_id"] == src.cid
    assert only_dst not in src_topics and only_src not in dst_topics and only_dst in dst_topics


def test_links_live_on_the_cluster_that_created_them(lab, dst, src):
    name = unique("per-cluster")
    dst.create_link(name, {"source_cluster_id": src.cid}, {"bootstrap.servers": src.bootstrap})
    assert name in [l["link_name"] for l in dst("GET", "/clusters/{C}/links", expect=200)[1]["data"]]
    assert name not in [l["link_name"] for l in src("GET", "/clusters/{C}/links", expect=200)[1]["data"]]
    src("GET", f"/clusters/{{C}}/links/{name}", expect=404)
    # the same name on the other cluster is another link
    src.create_link(name, {"source_cluster_id": dst.cid}, {"bootstrap.servers": dst.bootstrap})
    a, b = dst.link(name), src.link(name)
    assert (a["source_cluster_id"], b["source_cluster_id"]) == (src.cid, dst.cid)
    assert a["cluster_link_id"] != b["cluster_link_id"]   # two DESTINATION links, not a pair
    src("DELETE", f"/clusters/{{C}}/links/{name}", expect=200)
    assert dst.link(name)["link_name"] == name
    dst("DELETE", f"/clusters/{{C}}/links/{name}", expect=200)


def test_labctl_status_and_env_show_both_rest_urls(lab):
    out = subprocess.run([sys.executable, str(LABCTL), "status", "--dir", str(lab.workdir)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"{lab.destination_rest_url}/v3/clusters/{lab.destination_cluster_id}" in out.stdout
    assert f"{lab.source_rest_url}/v3/clusters/{lab.source_cluster_id}" in out.stdout
    assert lab.rest_password not in out.stdout
    env = subprocess.run([sys.executable, str(LABCTL), "env", "--dir", str(lab.workdir)],
                         capture_output=True, text=True, timeout=60).stdout
    assert f"export LAB_SOURCE_REST_URL={lab.source_rest_url}" in env
    assert f"export LAB_DESTINATION_REST_URL={lab.destination_rest_url}" in env


def test_keep_data_reuses_both_rest_ports(tmp_path):
    d = tmp_path / "lab"
    with Lab.start(d) as first:
        ports = dict(first.info["emulator_ports"])
        status, _ = first.rest("POST", f"/v3/clusters/{first.source_cluster_id}/links", {
            "destination_cluster_id": first.destination_cluster_id,
            "configs": [{"name": "link.mode", "value": "SOURCE"},
                        {"name": "bootstrap.servers", "value": first.destination_bootstrap}]},
            params={"link_name": "kept", "validate_link": False}, cluster="source")
        assert status == 204
    assert json.loads((d / "ports.json").read_text())["emulator_source"] == ports["source"]
    with Lab.start(d, keep_data=True) as second:
        assert second.info["emulator_ports"] == ports
        status, link = second.rest("GET", f"/v3/clusters/{second.source_cluster_id}/links/kept",
                                   cluster="source")
        assert status == 200 and link["destination_cluster_id"] == second.destination_cluster_id
        assert second.rest("GET", f"/v3/clusters/{second.destination_cluster_id}/links/kept")[0] == 404


# --------------------------------------------------------------------------- create validation

def test_cluster_id_field_must_match_the_mode(lab, dst, src):
    name = unique("ids")
    cases = [
        ({"destination_cluster_id": src.cid}, {"bootstrap.servers": src.bootstrap},
         "destination_cluster_id", "DESTINATION"),
        ({"remote_cluster_id": src.cid}, {"bootstrap.servers": src.bootstrap},
         "remote_cluster_id", "DESTINATION"),
        ({}, {"bootstrap.servers": src.bootstrap}, "source_cluster_id", "required"),
        ({"source_cluster_id": src.cid}, {"link.mode": "SOURCE", "bootstrap.servers": src.bootstrap},
         "source_cluster_id", "SOURCE"),
        ({"destination_cluster_id": src.cid}, {"link.mode": "BIDIRECTIONAL",
                                               "bootstrap.servers": src.bootstrap},
         "destination_cluster_id", "BIDIRECTIONAL"),
        ({"source_cluster_id": src.cid, "remote_cluster_id": src.cid},
         {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": src.bootstrap}, "source_cluster_id",
         "BIDIRECTIONAL"),
        ({"destination_cluster_id": src.cid}, {"link.mode": "SOURCE", "connection.mode": "INBOUND"},
         "connection.mode=OUTBOUND", "SOURCE"),
        ({"source_cluster_id": dst.cid}, {"bootstrap.servers": src.bootstrap}, dst.cid,
         "two different clusters"),
        ({"source_cluster_id": src.cid}, {}, "bootstrap.servers"),
        ({"source_cluster_id": src.cid}, {"link.mode": "MIRROR", "bootstrap.servers": src.bootstrap},
         "link.mode"),
        ({"source_cluster_id": src.cid}, {"bootstrap.servers": src.bootstrap,
                                          "remote.link.connection.mode": "INBOUND"},
         "remote.link.connection.mode"),
        # an INBOUND half takes no credentials for the remote cluster (Terraform's rule too)
        ({"source_cluster_id": src.cid}, {"connection.mode": "INBOUND",
                                          "sasl.jaas.config": "x required;"},
         "INBOUND", "sasl.jaas.config"),
        ({"remote_cluster_id": src.cid}, {"link.mode": "BIDIRECTIONAL", "connection.mode": "INBOUND",
                                          "ssl.keystore.password": "pw"},
         "ssl.keystore.password"),
        # validate_link checks the id of the cluster at bootstrap.servers in every mode
        ({"destination_cluster_id": "NotTheDestination00000"},
         {"link.mode": "SOURCE", "bootstrap.servers": dst.bootstrap}, "NotTheDestination00000",
         dst.cid, "destination cluster ID"),
        ({"remote_cluster_id": "NotTheRemoteCluster000"},
         {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": src.bootstrap}, "remote cluster ID"),
    ]
    for ids, configs, *needles in cases:
        side = src if configs.get("link.mode") == "SOURCE" else dst
        _, err = side.create_link(name, ids, configs, expect=400)
        assert_error(err, 40002, *needles)
    for side in (dst, src):
        assert name not in [l["link_name"] for l in side("GET", "/clusters/{C}/links", expect=200)[1]["data"]]


def test_validate_only_and_validate_link_false(lab, dst, src):
    name = unique("vo")
    ids = {"destination_cluster_id": dst.cid}
    cfg = {"link.mode": "SOURCE", "bootstrap.servers": dst.bootstrap}
    src.create_link(name, ids, cfg, params={"validate_only": True})
    src("GET", f"/clusters/{{C}}/links/{name}", expect=404)
    # validate_link=false skips the remote check: an unreachable bootstrap is accepted
    _, err = src.create_link(name, ids, {**cfg, "bootstrap.servers": "127.0.0.1:1"}, expect=400)
    assert_error(err, 40002, "127.0.0.1:1")
    src.create_link(name, ids, {**cfg, "bootstrap.servers": "127.0.0.1:1"},
                    params={"validate_link": False, "validate_only": True})
    src("GET", f"/clusters/{{C}}/links/{name}", expect=404)
    src.create_link(name, ids, {**cfg, "bootstrap.servers": "127.0.0.1:1"},
                    params={"validate_link": False})
    assert src.link(name)["destination_cluster_id"] == dst.cid
    src("DELETE", f"/clusters/{{C}}/links/{name}", expect=200)


# --------------------------------------------------------------------------- source-initiated

def test_source_initiated_link(lab, dst, src):
    name = unique("src-init")
    topic = unique("si")
    lab.create_topic("source", topic, 2)
    lab.produce("source", topic, records(10, 2))
    # the destination half first: no credentials (a bootstrap is allowed, as Terraform sends
    # it, but not used); it waits for the source
    dst.create_link(name, {"source_cluster_id": src.cid},
                    {"link.mode": "DESTINATION", "connection.mode": "INBOUND",
                     "bootstrap.servers": src.bootstrap, "security.protocol": "PLAINTEXT",
                     "consumer.offset.sync.enable": "true", "consumer.offset.sync.ms": "300",
                     "consumer.offset.group.filters": json.dumps(
                         {"groupFilters": [{"name": "*", "patternType": "LITERAL",
                                            "filterType": "INCLUDE"}]})})
    half = dst.link(name)
    assert half["link_state"] == "UNAVAILABLE" and half["link_error"] == "REMOTE_LINK_NOT_FOUND_ERROR"
    assert src.cid in half["link_error_message"]
    _, err = dst.create_mirror(name, topic, expect=400)
    assert_error(err, 40002, "INBOUND")
    assert topic not in lab.topics("destination")
    # the source half: SOURCE/OUTBOUND with the destination's bootstrap and local.* settings
    src.create_link(name, {"destination_cluster_id": dst.cid},
                    {"link.mode": "SOURCE", "connection.mode": "OUTBOUND",
                     "bootstrap.servers": dst.bootstrap, "security.protocol": "PLAINTEXT",
                     "local.security.protocol": "PLAINTEXT",
                     "local.sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule "
                                               "required username=\"u\" password=\"local-secret\";"})
    d_link, s_link = dst.wait_link(name, "ACTIVE"), src.wait_link(name, "ACTIVE")
    assert d_link["cluster_link_id"] == s_link["cluster_link_id"] == half["cluster_link_id"]
    assert (d_link["source_cluster_id"], d_link["destination_cluster_id"], d_link["remote_cluster_id"]) \
        == (src.cid, None, None)
    assert (s_link["source_cluster_id"], s_link["destination_cluster_id"], s_link["remote_cluster_id"]) \
        == (None, dst.cid, None)
    _, cfgs = src("GET", f"/clusters/{{C}}/links/{name}/configs", expect=200)
    by = {c["name"]: c for c in cfgs["data"]}
    assert by["link.mode"]["value"] == "SOURCE" and by["local.sasl.jaas.config"]["value"] is None
    assert "local-secret" not in json.dumps(cfgs)
    # mirrors live on the destination half; the source half cannot hold any
    _, err = src.create_mirror(name, topic, expect=400)
    assert_error(err, 40002, "SOURCE")
    dst.create_mirror(name, topic)
    dst.wait_mirror(name, topic)
    assert lab.consume("destination", topic) == lab.consume("source", topic)
    group = unique("si-group")
    lab.consume("source", topic, group=group, commit=True, max_records=6)
    wait_until(lambda: lab.group_offsets("destination", group) == lab.group_offsets("source", group),
               15, "offsets synced over the source-initiated link")
    # without its source half the destination half is not connected: nothing is copied
    src("DELETE", f"/clusters/{{C}}/links/{name}", expect=200)
    dst.wait_link(name, "UNAVAILABLE")
    assert dst.mirror(name, topic)["mirror_status"] == "SOURCE_UNAVAILABLE"
    lab.produce("source", topic, records(4, 2, tag="late"))
    ends = lab.end_offsets("destination", topic)
    src.create_link(name, {"destination_cluster_id": dst.cid},
                    {"link.mode": "SOURCE", "bootstrap.servers": dst.bootstrap})
    wait_until(lambda: sum(lab.end_offsets("destination", topic).values()) == sum(ends.values()) + 4,
               20, "the records produced while disconnected copied")
    dst.wait_mirror(name, topic)
    assert lab.consume("destination", topic) == lab.consume("source", topic)
    src("DELETE", f"/clusters/{{C}}/links/{name}", expect=200)
    dst.delete_link(name)


def test_source_half_alone_is_not_connected(lab, dst, src):
    name = unique("src-alone")
    src.create_link(name, {"destination_cluster_id": dst.cid},
                    {"link.mode": "SOURCE", "bootstrap.servers": dst.bootstrap})
    link = src.wait_link(name, "UNAVAILABLE")
    assert link["link_error"] == "REMOTE_LINK_NOT_FOUND_ERROR" and "INBOUND" in link["link_error_message"]
    # a DESTINATION/OUTBOUND link of the same name is not its other half
    dst.create_link(name, {"source_cluster_id": src.cid}, {"bootstrap.servers": src.bootstrap})
    assert src.link(name)["link_state"] == "UNAVAILABLE"
    dst("DELETE", f"/clusters/{{C}}/links/{name}", expect=200)
    dst.create_link(name, {"source_cluster_id": src.cid}, {"connection.mode": "INBOUND"})
    src.wait_link(name, "ACTIVE")
    assert dst.link(name)["cluster_link_id"] == src.link(name)["cluster_link_id"]
    src.delete_link(name)
    dst.delete_link(name)


# --------------------------------------------------------------------------- bidirectional

def test_bidirectional_link_mirrors_both_ways(lab, dst, src):
    name = unique("bidi")
    dst.create_link(name, {"remote_cluster_id": src.cid},
                    {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": src.bootstrap})
    first = dst.link(name)
    assert (first["source_cluster_id"], first["destination_cluster_id"], first["remote_cluster_id"]) \
        == (None, None, src.cid)
    # the second side must carry the first side's cluster_link_id if it names one
    _, err = src.create_link(name, {"remote_cluster_id": dst.cid, "cluster_link_id": "AAAAAAAAAAAAAAAAAAAAAA"},
                             {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": dst.bootstrap},
                             expect=400)
    assert_error(err, 40002, first["cluster_link_id"], "AAAAAAAAAAAAAAAAAAAAAA")
    src.create_link(name, {"remote_cluster_id": dst.cid, "cluster_link_id": first["cluster_link_id"]},
                    {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": dst.bootstrap})
    second = src.link(name)
    assert second["cluster_link_id"] == first["cluster_link_id"]
    assert second["remote_cluster_id"] == dst.cid and second["source_cluster_id"] is None
    east, west = unique("east"), unique("west")
    lab.create_topic("source", east, 2)
    lab.create_topic("destination", west, 1)
    lab.produce("source", east, records(8, 2, tag="east"))
    lab.produce("destination", west, records(5, 1, tag="west"))
    dst.create_mirror(name, east)
    src.create_mirror(name, west)
    dst.wait_mirror(name, east)
    src.wait_mirror(name, west)
    assert lab.consume("destination", east) == lab.consume("source", east)
    assert lab.consume("source", west) == lab.consume("destination", west)
    assert dst.link(name)["topic_names"] == [east] and src.link(name)["topic_names"] == [west]
    _, everywhere = src("GET", "/clusters/{C}/links/-/mirrors", expect=200)
    assert west in [m["mirror_topic_name"] for m in everywhere["data"]]
    assert east not in [m["mirror_topic_name"] for m in everywhere["data"]]
    cleanup(dst, src, name)


def test_bidirectional_inbound_side(lab, dst, src):
    """One side OUTBOUND (remote.link.connection.mode=INBOUND), the other INBOUND
    without a bootstrap: the INBOUND side copies only while its peer exists."""
    name = unique("bidi-in")
    src.create_link(name, {"remote_cluster_id": dst.cid},
                    {"link.mode": "BIDIRECTIONAL", "connection.mode": "INBOUND"})
    assert src.link(name)["link_error"] == "REMOTE_LINK_NOT_FOUND_ERROR"
    dst.create_link(name, {"remote_cluster_id": src.cid},
                    {"link.mode": "BIDIRECTIONAL", "connection.mode": "OUTBOUND",
                     "remote.link.connection.mode": "INBOUND", "bootstrap.servers": src.bootstrap})
    src.wait_link(name, "ACTIVE")
    assert dst.link(name)["cluster_link_id"] == src.link(name)["cluster_link_id"]
    topic = unique("to-src")
    lab.create_topic("destination", topic, 1)
    lab.produce("destination", topic, records(3))
    src.create_mirror(name, topic)
    src.wait_mirror(name, topic)
    assert lab.consume("source", topic) == lab.consume("destination", topic)
    cleanup(dst, src, name)


def test_prefixed_bidirectional_link(lab, dst, src):
    name = unique("bidi-pfx")
    bidi_pair(dst, src, lab, name, dst_configs={"cluster.link.prefix": "west."},
              src_configs={"cluster.link.prefix": "east."})
    topic = unique("pt")
    lab.create_topic("source", topic, 1)
    lab.produce("source", topic, records(2))
    _, err = dst.create_mirror(name, topic, mirror_topic_name=topic, expect=400)
    assert_error(err, 40002, "west.", "Topic renaming for mirroring not yet supported")
    _, err = dst.create_mirror(name, topic, mirror_topic_name="other." + topic, expect=400)
    assert_error(err, 40002, "west." + topic)
    dst.create_mirror(name, topic, mirror_topic_name="west." + topic)
    dst.wait_mirror(name, "west." + topic)
    assert lab.consume("destination", "west." + topic) == lab.consume("source", topic)
    for action in ("reverse-and-start-mirror", "reverse-and-pause-mirror", "truncate-and-restore",
                   "promote-local-and-start-remote-mirror"):
        _, err = dst("POST", f"/clusters/{{C}}/links/{name}/mirrors:{action}",
                     {"mirror_topic_names": ["west." + topic]}, expect=400)
        assert_error(err, 40002, "cluster.link.prefix")
    assert dst.mirror(name, "west." + topic)["mirror_status"] == "ACTIVE"
    cleanup(dst, src, name)


def test_reverse_needs_a_bidirectional_pair(lab, dst, src):
    name = unique("notbidi")
    dst.create_link(name, {"source_cluster_id": src.cid}, {"bootstrap.servers": src.bootstrap})
    topic = unique("nb")
    lab.create_topic("source", topic, 1)
    dst.create_mirror(name, topic)
    dst.wait_mirror(name, topic)
    for action in ("reverse-and-start-mirror", "truncate-and-restore"):
        _, err = dst("POST", f"/clusters/{{C}}/links/{name}/mirrors:{action}",
                     {"mirror_topic_names": [topic]}, expect=400)
        assert_error(err, 40002, "BIDIRECTIONAL", "DESTINATION")
    dst.delete_link(name)
    # a bidirectional link whose other half is missing (or named differently)
    dst.create_link(name, {"remote_cluster_id": src.cid},
                    {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": src.bootstrap})
    src.create_link(name + "-x", {"remote_cluster_id": dst.cid},
                    {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": dst.bootstrap})
    _, err = dst("POST", f"/clusters/{{C}}/links/{name}/mirrors:reverse-and-start-mirror",
                 {"mirror_topic_names": [topic]}, expect=400)
    assert_error(err, 40002, "REMOTE_LINK_NOT_FOUND")
    dst.delete_link(name)
    src.delete_link(name + "-x")

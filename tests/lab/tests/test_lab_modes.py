"""REST for both lab clusters, link modes (DESTINATION/SOURCE/BIDIRECTIONAL,
OUTBOUND/INBOUND) and the mirror state machine of reverse and
truncate-and-restore, checked the way a user would: records and offsets on the
clusters, writable topics, truncated records gone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka.admin import ConfigResource

from linkops_lab.lab import Lab
from labtesting import recent_ts, unique, wait_until

LABCTL = Path(__file__).resolve().parents[1] / "labctl.py"
CLOUD_ONLY = ("promote-local-and-",)  # CP-only action names: not in the Cloud spec


class Side:
    """REST calls to one lab cluster's own REST server; ``{C}`` in a path is that
    cluster's id. Responses of Cloud-spec operations are checked against the spec."""

    def __init__(self, lab, spec, cluster):
        self.lab, self.spec, self.cluster = lab, spec, cluster
        self.cid = lab.cluster_id(cluster)
        self.bootstrap = lab.bootstrap(cluster)

    def __call__(self, method, path, body=None, *, params=None, expect=None, raw_body=None,
                 prefix="/kafka/v3"):
        full = prefix + path.replace("{C}", self.cid)
        status, data = self.lab.rest(method, full, body, params=params, raw_body=raw_body,
                                     cluster=self.cluster)
        if full.startswith(("/kafka/v3/", "/v3/")) and not any(x in full for x in CLOUD_ONLY):
            self.spec.check(method, full, status, data, params)
        if expect is not None:
            assert status == expect, f"{self.cluster}: {method} {full}: expected {expect}, got {status}: {data}"
        return status, data

    def create_link(self, name, body_ids, configs=None, params=None, expect=204):
        body = dict(body_ids)
        body["configs"] = [{"name": k, "value": v} for k, v in (configs or {}).items()]
        return self("POST", "/clusters/{C}/links", body, params={"link_name": name, **(params or {})},
                    expect=expect)

    def link(self, name):
        return self("GET", f"/clusters/{{C}}/links/{name}", expect=200)[1]

    def delete_link(self, name, force=True):
        return self("DELETE", f"/clusters/{{C}}/links/{name}", params={"force": force})

    def create_mirror(self, link, source_topic, expect=204, **extra):
        return self("POST", f"/clusters/{{C}}/links/{link}/mirrors",
                    {"source_topic_name": source_topic, **extra}, expect=expect)

    def mirror(self, link, topic, expect=200, **params):
        return self("GET", f"/clusters/{{C}}/links/{link}/mirrors/{topic}", params=params or None,
                    expect=expect)[1]

    def action(self, link, action, topics, params=None, expect=200):
        return self("POST", f"/clusters/{{C}}/links/{link}/mirrors:{action}",
                    {"mirror_topic_names": topics}, params=params, expect=expect)[1]

    def wait_mirror(self, link, topic, status="ACTIVE", lag0=True, timeout=30.0):
        last = []

        other = "source" if self.cluster == "destination" else "destination"

        def ok():
            code, m = self("GET", f"/clusters/{{C}}/links/{link}/mirrors/{topic}")
            last[:] = [(code, m)]
            if code == 200 and m["mirror_status"] == status and (
                    not lag0 or all(l["lag"] == 0 for l in m["mirror_lags"])):
                # lag 0 is computed from the last fetch when the source cannot be read at
                # that moment: also check the records themselves
                if lag0 and self.lab.end_offsets(self.cluster, topic) != self.lab.end_offsets(
                        other, m["source_topic_name"]):
                    return None
                return m
            return None
        try:
            return wait_until(ok, timeout, f"{self.cluster}: mirror {topic} of {link} to be {status}")
        except BaseException as exc:
            raise AssertionError(f"{exc}; last: {last}") from None

    def wait_link(self, name, state, timeout=20.0):
        return wait_until(lambda: (lambda l: l if l["link_state"] == state else None)(self.link(name)),
                          timeout, f"{self.cluster}: link {name} {state}")


@pytest.fixture(scope="module")
def dst(lab, spec):
    return Side(lab, spec, "destination")


@pytest.fixture(scope="module")
def src(lab, spec):
    return Side(lab, spec, "source")


@pytest.fixture(autouse=True)
def copy_running(lab):
    yield
    lab.knobs(copy_paused=False)


def assert_error(body, code, *needles):
    assert isinstance(body, dict) and set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code, body
    for n in needles:
        assert n in body["message"], body


def records(n, partitions=1, tag="r"):
    return [{"partition": i % partitions, "key": f"k{i}", "value": f"{tag}-{i}",
             "headers": {"h": str(i)}, "timestamp": recent_ts(i)} for i in range(n)]


def bidi_pair(dst, src, lab, name, *, dst_configs=None, src_configs=None):
    """A BIDIRECTIONAL link ``name`` on both clusters, both OUTBOUND."""
    dst.create_link(name, {"remote_cluster_id": src.cid},
                    {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": src.bootstrap,
                     **(dst_configs or {})})
    first = dst.link(name)["cluster_link_id"]
    src.create_link(name, {"remote_cluster_id": dst.cid, "cluster_link_id": first},
                    {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": dst.bootstrap,
                     **(src_configs or {})})
    return first


def cleanup(dst, src, name):
    dst.delete_link(name)
    src.delete_link(name)


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
    name = unique("rev-bad")
    bidi_pair(dst, src, lab, name)
    topic = unique("rb")
    lab.create_topic("source", topic, 1)
    dst.create_mirror(name, topic)
    dst.wait_mirror(name, topic)
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
    name = unique("busy")
    bidi_pair(dst, src, lab, name)
    topic = unique("bz")
    lab.create_topic("source", topic, 1)
    dst.create_mirror(name, topic)
    dst.wait_mirror(name, topic)
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

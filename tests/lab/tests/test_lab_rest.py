"""HTTP contract of the Cluster Linking emulator: routes, status codes, error
bodies, auth, both prefixes, and every response checked against the Cloud spec."""

from __future__ import annotations

import json

import pytest

from labtesting import unique, wait_until

PREFIXES = ["/kafka/v3", "/v3"]


def assert_error(body, code, *needles):
    assert isinstance(body, dict) and set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code, body
    for n in needles:
        assert n in body["message"], body


@pytest.mark.parametrize("prefix", PREFIXES)
def test_auth_required(lab, prefix):
    path = f"{prefix}/clusters/{lab.destination_cluster_id}/links"
    for auth in (False, ("lab", "wrong"), ("nobody", lab.rest_password)):
        status, body = lab.rest("GET", path, auth=auth)
        assert status == 401
        assert body == {"error_code": 40101, "message": "Authentication failed"}
    # unknown paths need auth too
    assert lab.rest("GET", f"{prefix}/nothing-here", auth=False)[0] == 401


@pytest.mark.parametrize("prefix", PREFIXES)
def test_clusters(rest, lab, prefix):
    _, body = rest("GET", "/clusters", prefix=prefix, expect=200)
    assert [c["cluster_id"] for c in body["data"]] == [lab.destination_cluster_id]
    assert body["data"][0]["metadata"]["self"].endswith(f"{prefix}/clusters/{lab.destination_cluster_id}")
    _, one = rest("GET", "/clusters/{D}", prefix=prefix, expect=200)
    assert one["cluster_id"] == lab.destination_cluster_id and one["kind"] == "KafkaCluster"
    status, err = rest("GET", "/clusters/nope/links", prefix=prefix, expect=404)
    assert_error(err, 404, "nope")
    status, err = rest("GET", "/clusters/nope", prefix=prefix, expect=404)
    assert_error(err, 404)


def test_unknown_route_and_method(lab):
    status, body = lab.rest("GET", "/kafka/v3/clusters/x/whatever")
    assert status == 404
    assert_error(body, 404)
    status, body = lab.rest("PATCH", f"/v3/clusters/{lab.destination_cluster_id}/links")
    assert status == 405
    assert_error(body, 405)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_link_create_get_list_delete(rest, lab, prefix):
    name = unique("link")
    body = {"source_cluster_id": lab.source_cluster_id,
            "configs": [{"name": "bootstrap.servers", "value": lab.source_bootstrap}]}
    # validate_only changes nothing
    rest("POST", "/clusters/{D}/links", body, prefix=prefix,
         params={"link_name": name, "validate_only": True}, expect=204)
    _, err = rest("GET", f"/clusters/{{D}}/links/{name}", prefix=prefix, expect=404)
    assert_error(err, 404, name)
    status, data = rest("POST", "/clusters/{D}/links", body, prefix=prefix,
                        params={"link_name": name}, expect=204)
    assert data is None
    _, dup = rest("POST", "/clusters/{D}/links", body, prefix=prefix, params={"link_name": name},
                  expect=400)
    assert_error(dup, 40002, name, "already exists")
    _, link = rest("GET", f"/clusters/{{D}}/links/{name}", prefix=prefix, expect=200)
    assert link["link_name"] == name
    assert link["source_cluster_id"] == lab.source_cluster_id
    assert len(link["cluster_link_id"]) == 22
    assert link["topic_names"] == [] and link["link_state"] == "ACTIVE"
    assert "tasks" not in link
    _, with_tasks = rest("GET", f"/clusters/{{D}}/links/{name}", prefix=prefix,
                         params={"include_tasks": True}, expect=200)
    assert {t["task_name"] for t in with_tasks["tasks"]} >= {"AutoCreateMirror", "ConsumerOffsetSync"}
    _, links = rest("GET", "/clusters/{D}/links", prefix=prefix, expect=200)
    assert name in [l["link_name"] for l in links["data"]]
    # delete: validate_only keeps it, then a real delete answers 200 with no body
    rest("DELETE", f"/clusters/{{D}}/links/{name}", prefix=prefix, params={"validate_only": True},
         expect=200)
    rest("GET", f"/clusters/{{D}}/links/{name}", prefix=prefix, expect=200)
    status, data = rest("DELETE", f"/clusters/{{D}}/links/{name}", prefix=prefix, expect=200)
    assert data is None
    rest("GET", f"/clusters/{{D}}/links/{name}", prefix=prefix, expect=404)
    _, err = rest("DELETE", f"/clusters/{{D}}/links/{name}", prefix=prefix, expect=404)
    assert_error(err, 404)


def test_link_create_validation(rest, lab):
    name = unique("badlink")
    # link_name is a required query parameter
    _, err = rest("POST", "/clusters/{D}/links", {"source_cluster_id": lab.source_cluster_id},
                  expect=400)
    assert err["error_code"] == 400
    # wrong source cluster id: validate_link (default true) catches it
    _, err = rest.create_link(name, source_cluster_id="NotTheSourceClusterId0", expect=400)
    assert_error(err, 40002, "NotTheSourceClusterId0", lab.source_cluster_id)
    # unreachable bootstrap
    _, err = rest.create_link(name, configs={"bootstrap.servers": "127.0.0.1:1"}, expect=400)
    assert_error(err, 40002, "127.0.0.1:1")
    # missing bootstrap.servers
    _, err = rest("POST", "/clusters/{D}/links", {"source_cluster_id": lab.source_cluster_id,
                                                  "configs": []},
                  params={"link_name": name}, expect=400)
    assert_error(err, 40002, "bootstrap.servers")
    # unknown config names are named in the error
    _, err = rest.create_link(name, configs={"no.such.config": "1"}, expect=400)
    assert_error(err, 40002, "no.such.config")
    _, err = rest.create_link(name, configs={"consumer.offset.sync.enable": "maybe"}, expect=400)
    assert_error(err, 40002, "consumer.offset.sync.enable")
    _, err = rest.create_link(name, configs={"auto.create.mirror.topics.filters": "{not json"},
                              expect=400)
    assert_error(err, 40002, "auto.create.mirror.topics.filters")
    # invalid JSON body
    _, err = rest("POST", "/clusters/{D}/links", params={"link_name": name}, raw_body=b"{oops",
                  expect=400)
    assert err["error_code"] == 400
    # a wrong id is accepted when validate_link=false
    rest.create_link(name, source_cluster_id="NotTheSourceClusterId0",
                     params={"validate_link": False})
    rest("DELETE", f"/clusters/{{D}}/links/{name}", expect=200)
    # nothing was left behind by the failures
    _, links = rest("GET", "/clusters/{D}/links", expect=200)
    assert name not in [l["link_name"] for l in links["data"]]


def test_link_configs(rest, lab):
    name = unique("cfg")
    jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";'
    rest.create_link(name, configs={"sasl.jaas.config": jaas, "ssl.truststore.password": "secret",
                                    "consumer.offset.sync.ms": "1000"})
    base = f"/clusters/{{D}}/links/{name}/configs"
    _, listing = rest("GET", base, expect=200)
    by_name = {c["name"]: c for c in listing["data"]}
    assert len(by_name) >= 50
    for sensitive in ("sasl.jaas.config", "ssl.key.password", "ssl.keystore.password",
                      "ssl.truststore.password"):
        assert by_name[sensitive]["is_sensitive"] is True and by_name[sensitive]["value"] is None
    assert by_name["sasl.jaas.config"]["source"] == "DYNAMIC_CLUSTER_LINK_CONFIG"
    assert by_name["sasl.jaas.config"]["is_default"] is False
    assert by_name["ssl.key.password"]["source"] == "DEFAULT_CONFIG"
    assert by_name["consumer.offset.sync.ms"]["value"] == "1000"
    assert by_name["bootstrap.servers"]["value"] == lab.source_bootstrap
    assert by_name["acl.sync.ms"] == {**by_name["acl.sync.ms"], "value": "5000", "is_default": True,
                                      "source": "DEFAULT_CONFIG", "is_read_only": False}
    assert by_name["num.cluster.link.fetchers"]["is_read_only"] is True
    assert "secret" not in json.dumps(listing) and "password=" not in json.dumps(listing)

    # PUT one config, read it back, DELETE resets to the default
    rest("PUT", f"{base}/consumer.offset.sync.ms", {"value": "2500"}, expect=204)
    _, one = rest("GET", f"{base}/consumer.offset.sync.ms", expect=200)
    assert (one["value"], one["source"], one["is_default"]) == ("2500", "DYNAMIC_CLUSTER_LINK_CONFIG", False)
    rest("DELETE", f"{base}/consumer.offset.sync.ms", expect=204)
    _, one = rest("GET", f"{base}/consumer.offset.sync.ms", expect=200)
    assert (one["value"], one["source"], one["is_default"]) == ("30000", "DEFAULT_CONFIG", True)
    _, err = rest("GET", f"{base}/no.such.config", expect=404)
    assert_error(err, 404, "no.such.config")

    # configs:alter is atomic: one bad entry, nothing applied
    alter = f"{base}:alter"
    _, err = rest("PUT", alter, {"data": [{"name": "acl.sync.ms", "value": "7000"},
                                          {"name": "no.such.config", "value": "x"}]}, expect=400)
    assert_error(err, 40002, "no.such.config")
    assert rest("GET", f"{base}/acl.sync.ms", expect=200)[1]["value"] == "5000"
    # validate_only changes nothing
    rest("PUT", alter, {"data": [{"name": "acl.sync.ms", "value": "7000"}]},
         params={"validate_only": True}, expect=204)
    assert rest("GET", f"{base}/acl.sync.ms", expect=200)[1]["value"] == "5000"
    rest("PUT", alter, {"data": [{"name": "acl.sync.ms", "value": "7000"},
                                 {"name": "ssl.truststore.password", "operation": "DELETE"}]},
         expect=204)
    assert rest("GET", f"{base}/acl.sync.ms", expect=200)[1]["value"] == "7000"
    assert rest("GET", f"{base}/ssl.truststore.password", expect=200)[1]["is_default"] is True

    # read-only and create-only configs cannot be changed
    for cfg, value in (("link.mode", "SOURCE"), ("connection.mode", "INBOUND"),
                       ("cluster.link.prefix", "x."), ("num.cluster.link.fetchers", "3")):
        _, err = rest("PUT", f"{base}/{cfg}", {"value": value}, expect=400)
        assert_error(err, 40002, cfg)
    _, err = rest("PUT", f"{base}/no.such.config", {"value": "1"}, expect=400)
    assert_error(err, 40002, "no.such.config")
    _, err = rest("DELETE", f"{base}/no.such.config", expect=400)
    assert_error(err, 40002, "no.such.config")
    _, err = rest("GET", "/clusters/{D}/links/nolink/configs", expect=404)
    assert_error(err, 404, "nolink")
    rest("DELETE", f"/clusters/{{D}}/links/{name}", expect=200)


def test_mirror_errors(rest, lab):
    name = unique("merr")
    rest.create_link(name)
    base = f"/clusters/{{D}}/links/{name}/mirrors"
    _, err = rest("POST", base, {"source_topic_name": unique("missing")}, expect=404)
    assert err["error_code"] == 40403 and "does not exist" in err["message"]
    _, err = rest("POST", base, {"mirror_topic_name": "x"}, expect=400)
    assert err["error_code"] == 400
    # destination topic already exists
    topic = unique("exists")
    lab.create_topic("source", topic, 1)
    lab.create_topic("destination", topic, 1)
    _, err = rest("POST", base, {"source_topic_name": topic}, expect=400)
    assert err == {"error_code": 40002, "message": f"Topic '{topic}' already exists."}
    # renaming without a prefix is not supported
    other = unique("src")
    lab.create_topic("source", other, 1)
    _, err = rest("POST", base, {"source_topic_name": other, "mirror_topic_name": other + "-x"},
                  expect=400)
    assert_error(err, 40002)
    _, err = rest("GET", f"{base}/{topic}", expect=404)
    assert_error(err, 404, topic)
    _, err = rest("GET", base, params={"mirror_status": "BOGUS"}, expect=400)
    assert err["error_code"] == 400
    _, err = rest("POST", "/clusters/{D}/links/nolink/mirrors", {"source_topic_name": other},
                  expect=404)
    assert_error(err, 404, "nolink")
    # batch actions report unknown topics per topic, with HTTP 200
    _, res = rest("POST", f"{base}:promote", {"mirror_topic_names": ["nope"]}, expect=200)
    assert res["data"][0]["mirror_topic_name"] == "nope" and res["data"][0]["error_code"] == 404
    _, err = rest("POST", f"{base}:promote", {}, expect=400)
    assert err["error_code"] == 400
    rest("DELETE", f"/clusters/{{D}}/links/{name}", expect=200)


def test_prefixed_link(rest, lab):
    name = unique("pfx")
    rest.create_link(name, configs={"cluster.link.prefix": "dr."})
    topic = unique("orders")
    lab.create_topic("source", topic, 2)
    _, err = rest.create_mirror(name, topic, mirror_topic_name=topic, expect=400)
    assert_error(err, 40002, "dr.")
    rest.create_mirror(name, topic)
    m = rest.wait_mirror(name, "dr." + topic)
    assert m["source_topic_name"] == topic and m["num_partitions"] == 2
    assert "dr." + topic in lab.topics("destination")
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


def test_delete_link_with_mirrors_needs_force(rest, lab):
    name = unique("del")
    rest.create_link(name)
    topic = unique("t")
    lab.create_topic("source", topic, 1)
    rest.create_mirror(name, topic)
    rest.wait_mirror(name, topic, lag0=False)
    _, err = rest("DELETE", f"/clusters/{{D}}/links/{name}", expect=400)
    assert_error(err, 40002, name, topic)
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True, "validate_only": True},
         expect=200)
    rest("GET", f"/clusters/{{D}}/links/{name}", expect=200)
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)
    rest("GET", f"/clusters/{{D}}/links/{name}", expect=404)
    # the topic stays on the destination as an ordinary topic
    assert topic in lab.topics("destination")


def test_delete_link_after_all_mirrors_stopped(rest, lab):
    name = unique("delstop")
    rest.create_link(name)
    topic = unique("t")
    lab.create_topic("source", topic, 1)
    rest.create_mirror(name, topic)
    rest.wait_mirror(name, topic)
    res = rest.action(name, "failover", [topic])
    assert res["data"][0]["error_code"] is None
    rest.wait_mirror(name, topic, status="STOPPED", lag0=False)
    rest("DELETE", f"/clusters/{{D}}/links/{name}", expect=200)


def test_mirror_listing_and_filter(rest, lab):
    name = unique("list")
    rest.create_link(name)
    topics = [unique("a"), unique("b")]
    for t in topics:
        lab.create_topic("source", t, 2)
        rest.create_mirror(name, t)
    for t in topics:
        rest.wait_mirror(name, t)
    rest.action(name, "pause", [topics[1]])
    _, listing = rest("GET", f"/clusters/{{D}}/links/{name}/mirrors", expect=200)
    assert sorted(m["mirror_topic_name"] for m in listing["data"]) == sorted(topics)
    for m in listing["data"]:
        assert len(m["mirror_lags"]) == 2 and m["link_name"] == name
    _, paused = rest("GET", f"/clusters/{{D}}/links/{name}/mirrors",
                     params={"mirror_status": "PAUSED"}, expect=200)
    assert [m["mirror_topic_name"] for m in paused["data"]] == [topics[1]]
    _, everywhere = rest("GET", "/clusters/{D}/links/-/mirrors", params={"mirror_status": "PAUSED"},
                         expect=200)
    assert topics[1] in [m["mirror_topic_name"] for m in everywhere["data"]]
    assert topics[0] not in [m["mirror_topic_name"] for m in everywhere["data"]]
    _, link = rest("GET", f"/clusters/{{D}}/links/{name}", expect=200)
    assert sorted(link["topic_names"]) == sorted(topics)
    res = rest.action(name, "resume", [topics[1]])
    assert res["data"][0]["error_code"] is None
    rest.wait_mirror(name, topics[1])
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


def test_every_response_was_validated(spec):
    # runs last in this module: the checker saw many responses
    assert spec.validated > 50


def test_spec_checker_rejects_bad_bodies(spec, lab):
    """The checker is not a rubber stamp."""
    path = f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/l/mirrors/t"
    good = {"kind": "KafkaMirrorData", "metadata": {"self": "x"}, "link_name": "l",
            "mirror_topic_name": "t", "source_topic_name": "t", "num_partitions": 1,
            "mirror_lags": [{"partition": 0, "lag": 0, "last_source_fetch_offset": 0}],
            "mirror_status": "ACTIVE", "state_time_ms": 1}
    spec.check("GET", path, 200, good)
    for bad in ({**good, "mirror_status": "RUNNING"}, {k: v for k, v in good.items() if k != "mirror_lags"}):
        with pytest.raises(AssertionError):
            spec.check("GET", path, 200, bad)
    with pytest.raises(AssertionError):
        spec.check("GET", path, 404, {"error_code": "x"})


def test_fault_injection_knob(rest, lab):
    """``inject_errors`` lets client tests see 429 (Jetty HTML, as in the spec) and 5xx."""
    lab.knobs(inject_errors=[{"status": 429, "count": 1, "method": "GET", "path_contains": "/links"},
                             {"status": 503, "count": 1, "path_contains": "/links"}])
    try:
        status, body = rest("GET", "/clusters/{D}/links")
        assert status == 429 and "Too Many Requests" in body
        status, body = rest("GET", "/clusters/{D}/links")
        assert status == 503 and body["error_code"] == 50003
        rest("GET", "/clusters/{D}/links", expect=200)
        assert all(f["count"] == 0 for f in lab.knobs()["inject_errors"])
    finally:
        lab.knobs(inject_errors=[])


@pytest.mark.parametrize("prefix", PREFIXES)
def test_list_topics(rest, lab, prefix):
    name = unique("plain")
    lab.create_topic("destination", name, partitions=3)
    _, body = rest("GET", "/clusters/{D}/topics", prefix=prefix, expect=200)
    topics = {t["topic_name"]: t for t in body["data"]}
    assert topics[name]["partitions_count"] == 3
    assert topics[name]["is_internal"] is False
    assert topics[name]["metadata"]["self"].endswith(f"{prefix}/clusters/{lab.destination_cluster_id}/topics/{name}")
    status, err = rest("GET", "/clusters/nope/topics", prefix=prefix, expect=404)
    assert_error(err, 404, "nope")

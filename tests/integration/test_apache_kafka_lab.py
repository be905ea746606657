"""The lab of real Apache Kafka brokers (``labctl.py up --brokers apache-kafka``), one of its own for the module,
as its brokers are stopped and started: SASL_SSL (PLAIN) with the lab CA, the StandardAuthorizer, distinct
cluster ids. (make demo on it: test_migrate_playbook.py.)

Links with their own credentials: the read-only link user (SCRAM) copies; a wrong password or an
untrusted CA is refused at create (validate_link) and, created without the check, leaves the link
UNAVAILABLE with AUTHENTICATION_ERROR. A broker stopped and started keeps its data. Skipped, with
the reason, where Java 17+ or the Kafka jars (Maven or the cache) are missing.

Consumer offset sync across broker restarts: with confluent-kafka/librdkafka 2.16 an admin client that was
connected when a broker restarted times out on every OffsetFetch afterwards, on Apache Kafka brokers as on
noida (measured 2026-12-07: records were copied again, but the link's ConsumerOffsetSync stayed IN_ERROR with
``_TIMED_OUT``). The emulator's offset sync then reads and commits the group's offsets with a short-lived
consumer of the group (emulator/sync.py): after both brokers of a link were stopped and started again, new
committed offsets of a filtered group reach the destination. Broker restarts are kept off the session's
shared apache_kafka_lab: librdkafka 2.16 can abort the emulator right after one (an assertion in
``rd_kafka_enq_once_del_source_return`` under a ListOffsets that met FENCED_LEADER_EPOCH, seen 2026-12-07).
"""

from __future__ import annotations

import pytest

from linkops_it import (delete_link, get_link, link_security_configs, start_apache_kafka_lab, unique_name,
                        wait_until)
from linkops_lab.brokers import apache_kafka
from linkops_lab.lab import Lab


@pytest.fixture(scope="module")
def ak_lab(tmp_path_factory):
    with start_apache_kafka_lab(tmp_path_factory.mktemp("apache-kafka-lab")) as lab:
        yield lab


def test_lab_json_describes_sasl_ssl_clusters(ak_lab):
    info = ak_lab.info
    assert info["kind"] == "apache-kafka" and ak_lab.kind == "apache-kafka"
    assert info["source_cluster_id"] != info["destination_cluster_id"]
    for role in ("source", "destination"):
        cfg = info[f"{role}_client_config"]
        assert cfg["security.protocol"] == "SASL_SSL" and cfg["sasl.username"] == "admin"
        assert cfg["ssl.ca.location"] == info["ca_file"]
        assert info[f"{role}_java_client_properties"]["ssl.truststore.type"] == "PEM"
        assert info[f"{role}_link_credentials"]["username"] == "link"
        assert ak_lab.health()[role] == "ok"
    assert info["source_client_config"]["sasl.password"] != info["destination_client_config"]["sasl.password"]
    assert (ak_lab.workdir / "lab.json").stat().st_mode & 0o777 == 0o600


# ----------------------------------------------------------------- a link's own credentials
def _link_configs(lab: Lab, **configs: str) -> dict[str, str]:
    """A link to the lab's source over SASL_SSL with the lab CA as the read-only link user (SCRAM-SHA-512),
    ``configs`` overriding any of it."""
    return {"bootstrap.servers": lab.source_bootstrap, **link_security_configs(lab), **configs}


def _create_link(lab: Lab, name: str, topic: str, **configs: str) -> None:
    """The link (``_link_configs``) and a mirror of ``topic`` on it, through the REST API."""
    cfg = _link_configs(lab, **configs)
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links",
                            {"source_cluster_id": lab.source_cluster_id,
                             "configs": [{"name": k, "value": v} for k, v in cfg.items()]},
                            params={"link_name": name})
    assert status == 204, body
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{name}/mirrors",
                            {"source_topic_name": topic})
    assert status == 204, body


def _link(lab: Lab, name: str) -> dict:
    return get_link(lab, name)[1]


@pytest.fixture(scope="module")
def source_topic(ak_lab):
    topic = unique_name("ak-sec")
    ak_lab.create_topic("source", topic, partitions=2)
    ak_lab.produce("source", topic, [{"value": str(i), "partition": i % 2} for i in range(6)])
    return topic


def test_a_link_with_the_read_only_link_user_copies(ak_lab, source_topic):
    name = unique_name("ak-link-user")
    _create_link(ak_lab, name, source_topic)
    try:
        wait_until(lambda: ak_lab.end_offsets("destination", source_topic) == {0: 3, 1: 3}
                   if source_topic in ak_lab.topics("destination") else None, 90, "the mirror's records")
        assert _link(ak_lab, name)["link_state"] == "ACTIVE"
    finally:
        delete_link(ak_lab, name)    # no link polls the brokers the later tests restart


@pytest.mark.parametrize("problem", ["wrong password", "untrusted CA"])
def test_a_link_that_cannot_authenticate_is_unavailable(ak_lab, source_topic, problem, tmp_path):
    creds = ak_lab.info["source_link_credentials"]
    password = creds["password"] + ("x" if problem == "wrong password" else "")
    configs = {"sasl.mechanism": "PLAIN",
               "sasl.jaas.config": apache_kafka.jaas_config(creds["username"], password)}
    if problem == "untrusted CA":
        other_ca = apache_kafka.ensure_ca(tmp_path)[0]          # a CA that signed nothing here
        configs["ssl.truststore.location"] = str(other_ca)
    name = unique_name("ak-bad")
    body = {"source_cluster_id": ak_lab.source_cluster_id,
            "configs": [{"name": k, "value": v} for k, v in _link_configs(ak_lab, **configs).items()]}
    path = f"/kafka/v3/clusters/{ak_lab.destination_cluster_id}/links"
    # validate_link (the default) connects with the link's settings, as Confluent Server does: refused
    status, refused = ak_lab.rest("POST", path, body, params={"link_name": name})
    assert status == 400 and refused["error_code"] == 40002, refused
    assert "AUTHENTICATION_ERROR" in refused["message"] and password not in str(refused)
    # without it, the link is created and cannot connect
    status, body = ak_lab.rest("POST", path, body, params={"link_name": name, "validate_link": False})
    assert status == 204, body

    def unavailable():
        link = _link(ak_lab, name)
        return link if link.get("link_state") == "UNAVAILABLE" else None

    try:
        link = wait_until(unavailable, 60, f"link {name} UNAVAILABLE")
        assert link["link_error"] == "AUTHENTICATION_ERROR", link
        assert password not in str(link)
    finally:
        delete_link(ak_lab, name)


def test_stop_and_start_a_broker_keeps_its_data(ak_lab, source_topic):
    """labctl stop-broker / start-broker (Lab.stop_broker / start_broker) on a JVM broker: the same
    port, data, users and cluster id; lab.json names the new process."""
    old_pid = ak_lab.info["pids"]["source_broker"]
    assert ak_lab.stop_broker("source") is True
    assert ak_lab.health()["source"] != "ok"
    assert ak_lab.start_broker("source") is True
    assert ak_lab.start_broker("source") is False                # already running
    assert ak_lab.health()["source"] == "ok"
    assert ak_lab.end_offsets("source", source_topic) == {0: 3, 1: 3}
    info = Lab.attach(ak_lab.workdir).info
    assert info["pids"]["source_broker"] != old_pid and info["source_cluster_id"] == ak_lab.source_cluster_id


def test_offset_sync_goes_on_after_both_brokers_restart(ak_lab):
    lab = ak_lab
    topic, group, link = unique_name("restart"), unique_name("restart-group"), unique_name("restart-link")
    lab.create_topic("source", topic, partitions=1)
    lab.produce("source", topic, [str(i) for i in range(3)])
    assert len(lab.consume("source", topic, group=group, commit=True)) == 3
    _create_link(lab, link, topic, **{
        "consumer.offset.sync.enable": "true", "consumer.offset.sync.ms": "1000",
        "consumer.offset.group.filters": '{"groupFilters":[{"name":"%s","patternType":"LITERAL",'
                                         '"filterType":"INCLUDE"}]}' % group})
    cid = lab.destination_cluster_id
    try:
        wait_until(lambda: lab.group_offsets("destination", group) == {topic: {0: 3}}, 90, "the first offset sync")
        for cluster in ("source", "destination"):
            assert lab.stop_broker(cluster) and lab.start_broker(cluster)
        lab.produce("source", topic, [str(i) for i in range(3, 5)])
        assert len(lab.consume("source", topic, group=group, commit=True)) == 2
        wait_until(lambda: lab.end_offsets("destination", topic) == {0: 5}, 120, "copying after the restarts")
        wait_until(lambda: lab.group_offsets("destination", group) == {topic: {0: 5}}, 60,
                   "the offset sync after the restarts")
        status, body = lab.rest("GET", f"/kafka/v3/clusters/{cid}/links/{link}", params={"include_tasks": True})
        task = next(t for t in body["tasks"] if t["task_name"] == "ConsumerOffsetSync")
        assert task["state"] == "ACTIVE" and task["errors"] == [], task
    finally:
        status, body = lab.rest("DELETE", f"/kafka/v3/clusters/{cid}/links/{link}", params={"force": True})
        assert status in (200, 204), body

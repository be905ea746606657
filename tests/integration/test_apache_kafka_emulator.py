"""The emulator against real Apache Kafka brokers (the shared apache_kafka_lab).

REST ``/acls`` of an apache-kafka lab cluster is the broker's own ACLs: what the REST API creates the
Kafka admin API (and the authorizer) sees, and the other way round.

Consumer offset sync across broker restarts: with confluent-kafka/librdkafka 2.16 an admin client that was
connected when a broker restarted times out on every OffsetFetch afterwards, on Apache Kafka brokers as on
noida (measured 2026-12-07: records were copied again, but the link's ConsumerOffsetSync stayed IN_ERROR with
``_TIMED_OUT``). The emulator's offset sync then reads and commits the group's offsets with a short-lived
consumer of the group (emulator/sync.py): after both brokers of a link were stopped and started again, new
committed offsets of a filtered group reach the destination.
"""

from __future__ import annotations

from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType

from linkops_it import unique_name, wait_until


def _broker_acls(lab, principal: str) -> set[tuple]:
    flt = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, principal, None, AclOperation.ANY,
                           AclPermissionType.ANY)
    return {(b.restype.name, b.name, b.resource_pattern_type.name, b.operation.name, b.permission_type.name)
            for b in lab.admin("destination").describe_acls(flt, request_timeout=30).result()}


def test_rest_acls_are_the_brokers_acls(apache_kafka_lab):
    lab = apache_kafka_lab
    principal, topic = f"User:{unique_name('rest-acl')}", unique_name("acl-topic")
    path = f"/kafka/v3/clusters/{lab.destination_cluster_id}/acls"
    acl = {"resource_type": "TOPIC", "resource_name": topic, "pattern_type": "PREFIXED", "principal": principal,
           "host": "*", "operation": "DESCRIBE_CONFIGS", "permission": "ALLOW"}
    status, body = lab.rest("POST", path, acl)
    assert status == 201, body
    wait_until(lambda: _broker_acls(lab, principal) == {("TOPIC", topic, "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW")},
               30, "the ACL in the broker")
    status, body = lab.rest("GET", path, params={"principal": principal})
    assert status == 200 and [{k: a[k] for k in acl} for a in body["data"]] == [acl], body
    status, body = lab.rest("POST", path, dict(acl, resource_type="CLUSTER", resource_name="not-kafka-cluster"))
    assert status == 400 and body["error_code"] == 40002, body
    status, body = lab.rest("DELETE", path, params={"resource_type": "ANY", "pattern_type": "ANY", "operation": "ANY",
                                                    "permission": "ANY", "principal": principal})
    assert status == 200 and [{k: a[k] for k in acl} for a in body["data"]] == [acl], body
    wait_until(lambda: not _broker_acls(lab, principal), 30, "the ACL gone from the broker")


def test_offset_sync_goes_on_after_both_brokers_restart(apache_kafka_lab):
    lab = apache_kafka_lab
    topic, group, link = unique_name("restart"), unique_name("restart-group"), unique_name("restart-link")
    lab.create_topic("source", topic, partitions=1)
    lab.produce("source", topic, [str(i) for i in range(3)])
    assert len(lab.consume("source", topic, group=group, commit=True)) == 3
    configs = {"bootstrap.servers": lab.source_bootstrap, **_link_security(lab),
               "consumer.offset.sync.enable": "true", "consumer.offset.sync.ms": "1000",
               "consumer.offset.group.filters": '{"groupFilters":[{"name":"%s","patternType":"LITERAL",'
                                                '"filterType":"INCLUDE"}]}' % group}
    cid = lab.destination_cluster_id
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{cid}/links", {
        "source_cluster_id": lab.source_cluster_id,
        "configs": [{"name": k, "value": v} for k, v in configs.items()]}, params={"link_name": link})
    assert status == 204, body
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{cid}/links/{link}/mirrors", {"source_topic_name": topic})
    assert status == 204, body
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


def _link_security(lab) -> dict[str, str]:
    """The link's own settings: the lab's read-only link user over SASL_SSL with the lab CA."""
    from linkops_lab.brokers.kafka_broker import jaas_config
    creds = lab.info["source_link_credentials"]
    return {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
            "sasl.jaas.config": jaas_config(creds["username"], creds["password"]),
            "ssl.truststore.type": "PEM", "ssl.truststore.location": lab.info["ca_file"]}

"""The emulator against real Apache Kafka brokers (the shared apache_kafka_lab).

REST ``/acls`` of an apache-kafka lab cluster is the broker's own ACLs: what the REST API creates the
Kafka admin API (and the authorizer) sees, and the other way round. (Offset sync across broker restarts:
test_apache_kafka_lab.py, on a lab of its own.)
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

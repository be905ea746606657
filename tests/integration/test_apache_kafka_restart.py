"""Consumer offset sync across broker restarts, on real Apache Kafka brokers.

On the noida lab, an emulator admin client that was connected when a broker restarted times out on every
consumer-group request afterwards (confluent-kafka/librdkafka 2.16), so offset sync stops until the lab
restarts (docs/lab.md; tests/integration/test_dr.py keeps that as a strict xfail). Against Apache Kafka
brokers the same clients recover: after both brokers of a link were stopped and started again, new
committed offsets of a filtered group still reach the destination, and the mirror copies on.
"""

from __future__ import annotations

from linkops_it import unique_name, wait_until


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
        wait_until(lambda: lab.group_offsets("destination", group) == {topic: {0: 5}}, 120,
                   "the offset sync after the restarts")
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

#!/usr/bin/env python3
"""The demo's test data, as the manual migration guide prepares it, and the proof read back.

    demo_data.py --lab-dir .lab seed   topic test-topic (1 partition) on the source with records
                                       1..5, consumer group test-group that has read them, and the
                                       ACL User:test-user READ on test-topic (in the lab's ACL store,
                                       through the source's Kafka REST v3). Does nothing for what is
                                       there already.
    demo_data.py --lab-dir .lab proof  reads test-topic, test-group's committed offsets and
                                       User:test-user's ACLs on the destination; prints them as JSON.

Both print one JSON object; `changed` says whether seed wrote anything.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from linkops_lab.brokers.lab_tls import client_context   # tests/lab is this script's directory

TOPIC, GROUP, VALUES = "test-topic", "test-group", ["1", "2", "3", "4", "5"]
ACL = {"resource_type": "TOPIC", "resource_name": TOPIC, "pattern_type": "LITERAL", "principal": "User:test-user",
       "host": "*", "operation": "READ", "permission": "ALLOW"}


def _rest(lab: dict, side: str, method: str, path: str, body: dict | None = None) -> dict:
    """One Kafka REST v3 call to the lab's REST server of a cluster (the ACL store of noida brokers)."""
    base = lab.get(f"{side}_rest_url") or lab["rest_url"]
    request = urllib.request.Request(
        f"{base}/v3/clusters/{lab[f'{side}_cluster_id']}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    token = base64.b64encode(f"{lab['rest_username']}:{lab['rest_password']}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    context = None
    if lab.get("rest_tls"):     # HTTPS REST: trust the lab CA, show the client certificate under mTLS
        context = client_context(lab["rest_ca_path"], lab.get("rest_client_cert"), lab.get("rest_client_key"))
    with urllib.request.urlopen(request, timeout=10, context=context) as answer:
        text = answer.read()
    return json.loads(text) if text else {}


def acls_of(lab: dict, side: str, principal: str) -> list[dict]:
    query = urllib.parse.urlencode({"principal": principal})
    return [{k: a.get(k) for k in ACL} for a in _rest(lab, side, "GET", f"/acls?{query}").get("data") or []]


def seed_acl(lab: dict) -> bool:
    """The guide's ACL step on the source: User:test-user may READ test-topic. True when created."""
    if ACL in acls_of(lab, "source", ACL["principal"]):
        return False
    _rest(lab, "source", "POST", "/acls", ACL)
    return True


def _config(lab: dict, side: str, **extra) -> dict:
    config = {"bootstrap.servers": lab[f"{side}_bootstrap"]}
    # that cluster's settings (SASL_SSL with apache-kafka brokers); lab.json before them: the shared ones
    settings = lab.get(f"{side}_client_config") or lab.get("client_config") or {}
    config.update({k: str(v) for k, v in settings.items()})
    config.update(extra)
    return config


def _end_offset(lab: dict, side: str, topic: str) -> int:
    consumer = Consumer(_config(lab, side, **{"group.id": f"demo-probe-{uuid.uuid4()}"}))
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        consumer.close()


def _read_all(lab: dict, side: str, topic: str, group: str | None, commit: bool) -> list[dict]:
    consumer = Consumer(_config(lab, side, **{
        "group.id": group or f"demo-reader-{uuid.uuid4()}", "enable.auto.commit": "false",
        "auto.offset.reset": "earliest"}))
    records: list[dict] = []
    try:
        end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
        if group:
            consumer.subscribe([topic])
        else:
            consumer.assign([TopicPartition(topic, 0, 0)])
        while not records or records[-1]["offset"] < end - 1:
            msg = consumer.poll(10)
            if msg is None:
                raise RuntimeError(f"timed out reading {topic} on the {side} cluster")
            if msg.error():
                raise KafkaException(msg.error())
            records.append({"partition": msg.partition(), "offset": msg.offset(),
                            "value": msg.value().decode() if msg.value() is not None else None,
                            "headers": [k for k, _ in (msg.headers() or [])]})
        if commit and records:
            consumer.commit(offsets=[TopicPartition(topic, 0, records[-1]["offset"] + 1)], asynchronous=False)
    finally:
        consumer.close()
    return records


def seed(lab: dict) -> dict:
    admin = AdminClient(_config(lab, "source"))
    if TOPIC not in admin.list_topics(timeout=10).topics:
        for future in admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)]).values():
            future.result()
    acl_created = seed_acl(lab)
    if _end_offset(lab, "source", TOPIC) > 0:
        return {"changed": acl_created, "topic": TOPIC, "acl": ACL, "msg": "test data already present"}
    producer = Producer(_config(lab, "source"))
    for value in VALUES:
        producer.produce(TOPIC, value=value.encode(), partition=0)
    if producer.flush(30):
        raise RuntimeError("records not delivered to the source cluster")
    _read_all(lab, "source", TOPIC, GROUP, commit=True)
    return {"changed": True, "topic": TOPIC, "records": VALUES, "group": GROUP, "acl": ACL}


def proof(lab: dict) -> dict:
    records = _read_all(lab, "destination", TOPIC, None, commit=False)
    consumer = Consumer(_config(lab, "destination", **{"group.id": GROUP}))
    try:
        committed = consumer.committed([TopicPartition(TOPIC, 0)], timeout=10)[0].offset
    finally:
        consumer.close()
    return {"changed": False, "topic": TOPIC, "records": records, "group": GROUP, "committed_offset": committed,
            "acls": acls_of(lab, "destination", ACL["principal"]), "expected_acl": ACL}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lab-dir", default=".lab")
    parser.add_argument("action", choices=["seed", "proof"])
    args = parser.parse_args()
    try:
        lab = json.loads((Path(args.lab_dir) / "lab.json").read_text())
        print(json.dumps((seed if args.action == "seed" else proof)(lab)))
    except (OSError, ValueError, KafkaException, RuntimeError) as exc:  # urllib's errors are OSErrors
        print(f"demo_data.py {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

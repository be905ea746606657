#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) linkops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: migration_verify
short_description: Prove that a Kafka migration worked by comparing source and destination clusters
version_added: 0.1.0
description:
  - Compares a source and a destination Kafka cluster with confluent-kafka and reports one result row per check.
  - Checks that each topic in O(topics) exists on the destination with the same partition count as on the source.
  - Checks that the end offsets (high watermarks) of every partition are equal on both clusters. They are read
    before the probe writes anything.
  - For each group in O(consumer_groups), checks that the committed offsets on the destination equal those on the
    source, for every partition of the listed topics on which the source group has committed an offset.
  - With O(probe=true), produces one record with the header C(linkops-probe) to partition 0 of each topic on the
    B(destination) and consumes it back by offset.
  - Metadata is read with batched AdminClient calls, one DescribeTopics and one ListOffsets per cluster however
    many topics and partitions there are, plus one committed-offsets request per consumer group and cluster
    (the client accepts one group per request; they are sent together).
  - The module fails when any check fails, naming the failed checks in C(msg), and still returns all data.
author:
  - linkops maintainers (@linkops)
requirements:
  - confluent-kafka >= 2.3.0 (Python)
extends_documentation_fragment:
  - linkops.cluster_linking._attributes
attributes:
  check_mode:
    support: full
    details:
      - All read-only checks run in check mode; the probe is skipped and reported as skipped.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The module never reports a change. Probe records that earlier runs left on partition 0 of a destination
        topic are recognised by their C(linkops-probe) header and do not make a later end offset comparison fail.
options:
  source_bootstrap_servers:
    description:
      - Bootstrap servers of the source cluster, as C(host:port[,host:port...]).
    type: str
    required: true
  source_client_config:
    description:
      - Extra librdkafka settings for clients of the source cluster, for example C(security.protocol),
        C(sasl.mechanism), C(sasl.username), C(sasl.password), C(ssl.ca.location), C(receive.message.max.bytes).
      - Every value is passed to librdkafka as a string; YAML booleans become C(true) or C(false).
      - Values of secret-like keys (names containing C(password), C(secret), C(jaas), C(ssl.key.pem) or
        C(sasl.oauthbearer.config)) are masked in all module output.
      - C(bootstrap.servers) here is ignored; O(source_bootstrap_servers) wins.
    type: dict
    default: {}
  destination_bootstrap_servers:
    description:
      - Bootstrap servers of the destination cluster, as C(host:port[,host:port...]).
    type: str
    required: true
  destination_client_config:
    description:
      - Extra librdkafka settings for clients of the destination cluster; see O(source_client_config).
      - The probe's producer and consumer use these settings too.
    type: dict
    default: {}
  topics:
    description:
      - Topics to compare. Names are the same on both clusters.
    type: list
    elements: str
    required: true
  consumer_groups:
    description:
      - Consumer groups whose committed offsets on the listed O(topics) must be equal on both clusters.
      - A listed group without any committed offset on those topics on the source fails its check, because
        there is nothing to prove.
    type: list
    elements: str
    default: []
  probe:
    description:
      - After the other checks, produce one record with the header C(linkops-probe) to partition 0 of each
        topic on the destination and consume it back by offset.
      - Skipped in check mode and for topics missing on the destination.
    type: bool
    default: true
  timeout:
    description:
      - Timeout in seconds for each request to a cluster, and for producing and consuming the probe records.
    type: int
    default: 30
notes:
  - The probe writes one record per topic to the destination although the module reports C(changed=false).
    Run it after the mirror topics have been promoted; a mirror topic that is still read-only rejects the record
    and the probe check fails.
  - Clients of the lab brokers (noida-db) need C(receive.message.max.bytes) raised (for example V(1000000000) with
    C(fetch.max.bytes) below it) in O(destination_client_config) for the probe; librdkafka requires
    C(receive.message.max.bytes) to be at least C(fetch.max.bytes) + 512.
  - Partition numbers are strings in the returned dictionaries (JSON object keys).
  - When a cluster cannot be reached within O(timeout), the module fails with a one-line message naming the
    side (O(source_bootstrap_servers) or O(destination_bootstrap_servers)) and its bootstrap servers.
seealso:
  - name: confluent-kafka Python client
    description: The client library used by this module.
    link: https://docs.confluent.io/platform/current/clients/confluent-kafka-python/html/index.html
  - name: librdkafka configuration properties
    description: Settings accepted in O(source_client_config) and O(destination_client_config).
    link: https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md
"""

EXAMPLES = r"""
- name: Verify a migration over SASL_SSL, including group offsets and a probe
  linkops.cluster_linking.migration_verify:
    source_bootstrap_servers: onprem-kafka-1.example.com:9092
    source_client_config:
      security.protocol: SASL_SSL
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: migrator
      sasl.password: "{{ vault_source_password }}"
      ssl.ca.location: /etc/pki/kafka/ca.pem
    destination_bootstrap_servers: pkc-abc12.eu-west-1.aws.confluent.cloud:9092
    destination_client_config:
      security.protocol: SASL_SSL
      sasl.mechanism: PLAIN
      sasl.username: "{{ ccloud_api_key }}"
      sasl.password: "{{ ccloud_api_secret }}"
    topics:
      - orders
      - payments
    consumer_groups:
      - billing
  register: verify

- name: Show the failed checks without failing the play
  linkops.cluster_linking.migration_verify:
    source_bootstrap_servers: 127.0.0.1:29092
    destination_bootstrap_servers: 127.0.0.1:29093
    destination_client_config:
      receive.message.max.bytes: "1000000000"
      fetch.max.bytes: "500000000"
    topics: [orders]
    probe: false
  register: verify
  ignore_errors: true

- name: Print them
  ansible.builtin.debug:
    var: verify.failed_checks

- name: Read-only verification (no probe record is written)
  linkops.cluster_linking.migration_verify:
    source_bootstrap_servers: 127.0.0.1:29092
    destination_bootstrap_servers: 127.0.0.1:29093
    topics: [orders, payments]
  check_mode: true
"""

RETURN = r"""
checks:
  description:
    - One row per check, in the order topics (C(topic_exists:T), C(partitions:T), C(end_offsets:T)),
      consumer groups (C(group_offsets:G)), probes (C(probe:T)).
  returned: success or when a check failed
  type: list
  elements: dict
  contains:
    name:
      description: Check name, C(<kind>:<topic or group>).
      type: str
      sample: end_offsets:orders
    ok:
      description: Whether the check passed. A check that could not run because a prerequisite failed is V(false).
      type: bool
      sample: true
    detail:
      description: Human-readable result.
      type: str
      sample: end offsets equal on 6 partitions
    skipped:
      description: V(true) when the check did not run (probe in check mode, topic missing).
      type: bool
      sample: false
  sample:
    - {name: "topic_exists:orders", ok: true, detail: "topic orders exists on the destination with 6 partitions",
       skipped: false}
    - {name: "partitions:orders", ok: true, detail: "6 partitions on both clusters", skipped: false}
    - {name: "end_offsets:orders", ok: true, detail: "end offsets equal on 6 partitions", skipped: false}
    - {name: "group_offsets:billing", ok: true, detail: "committed offsets equal on 6 partitions of 1 topics",
       skipped: false}
    - {name: "probe:orders", ok: true,
       detail: "produced to partition 0 at offset 1042 and consumed back the same value", skipped: false}
failed_checks:
  description: Names of the checks whose RV(checks[].ok) is V(false).
  returned: success or when a check failed
  type: list
  elements: str
  sample: ["end_offsets:payments"]
topics:
  description:
    - Per topic, the partition counts and end offsets read on both clusters (before the probe).
    - Partition numbers are strings.
  returned: success or when a check failed
  type: dict
  contains:
    partitions:
      description: Partition count on each cluster; V(null) where the topic does not exist.
      type: dict
      sample: {source: 6, destination: 6}
    source_end_offsets:
      description: High watermark per partition on the source.
      type: dict
      sample: {"0": 1042, "1": 998}
    destination_end_offsets:
      description: High watermark per partition on the destination.
      type: dict
      sample: {"0": 1042, "1": 998}
    destination_probe_records:
      description:
        - Per partition, how many records after the source's end offset on the destination were written by
          earlier probes (and therefore accepted by the end offset check). Empty when there are none.
      type: dict
      sample: {"0": 1}
  sample:
    orders:
      partitions: {source: 2, destination: 2}
      source_end_offsets: {"0": 1042, "1": 998}
      destination_end_offsets: {"0": 1043, "1": 998}
      destination_probe_records: {"0": 1}
consumer_groups:
  description:
    - Per group, committed offsets by topic and partition on each cluster, for the partitions of the listed
      O(topics). Partitions without a committed offset are left out. Partition numbers are strings.
  returned: success or when a check failed
  type: dict
  sample:
    billing:
      source: {orders: {"0": 1000, "1": 998}}
      destination: {orders: {"0": 1000, "1": 998}}
probe:
  description:
    - Per topic, where the probe record was written, or why the probe was skipped. Empty when O(probe=false).
  returned: success or when a check failed
  type: dict
  contains:
    partition:
      description: Partition the probe record was produced to.
      type: int
      sample: 0
    offset:
      description: Offset of the probe record on the destination.
      type: int
      sample: 1042
    consumed:
      description: Whether the record was consumed back.
      type: bool
      sample: true
    error:
      description: Why the probe failed, when it did.
      type: str
      sample: "produce failed: TOPIC_AUTHORIZATION_FAILED: Broker: Topic authorization failed"
    skipped:
      description: V(true) when the probe did not run for this topic.
      type: bool
      sample: true
    reason:
      description: Why the probe was skipped.
      type: str
      sample: check mode
  sample:
    orders: {partition: 0, offset: 1042, consumed: true}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_clients import (
    CONFLUENT_KAFKA_IMPORT_ERROR,
    HAS_CONFLUENT_KAFKA,
    secret_values,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._migration_checks import (
    Cluster,
    ClusterError,
    failure_message,
    verify_migration,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            source_bootstrap_servers=dict(type="str", required=True),
            source_client_config=dict(type="dict", default={}),
            destination_bootstrap_servers=dict(type="str", required=True),
            destination_client_config=dict(type="dict", default={}),
            topics=dict(type="list", elements="str", required=True),
            consumer_groups=dict(type="list", elements="str", default=[]),
            probe=dict(type="bool", default=True),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for side in ("source", "destination"):
        module.no_log_values.update(secret_values(params["%s_client_config" % side]))

    if not HAS_CONFLUENT_KAFKA:
        module.fail_json(msg=missing_required_lib("confluent-kafka"), exception=CONFLUENT_KAFKA_IMPORT_ERROR)
    if params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got %d" % params["timeout"])
    if not params["topics"]:
        module.fail_json(msg="topics must name at least one topic")

    source = Cluster("source", params["source_bootstrap_servers"], params["source_client_config"],
                     params["timeout"])
    destination = Cluster("destination", params["destination_bootstrap_servers"],
                          params["destination_client_config"], params["timeout"])
    try:
        result = verify_migration(source, destination, params["topics"], params["consumer_groups"],
                                  params["probe"], module.check_mode)
    except ClusterError as exc:
        module.fail_json(msg=str(exc))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="migration verification error: %s" % exc, exception=traceback.format_exc())

    if result["failed_checks"]:
        module.fail_json(msg=failure_message(result["checks"]), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

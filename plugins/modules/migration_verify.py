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
version_added: 1.0.0
description:
  - Compares a source and a destination Kafka cluster with confluent-kafka and reports one result row per check.
  - Checks that each topic in O(topics) exists on the destination with the same partition count as on the source.
  - Checks that the end offsets (high watermarks) of every partition are equal on both clusters. They are read
    before the probe writes anything.
  - For each group in O(consumer_groups), checks that the committed offsets on the destination equal those on the
    source, for every partition of the listed topics on which the source group has committed an offset.
  - With O(acl_filters), checks that every ACL of the source that the filters select exists on the destination
    with the same resource, pattern type, principal, host, operation and permission, as a link with
    C(acl.sync.enable) copies them. The ACLs are read with the Kafka admin API (O(acl_source=admin)) or, where
    the brokers have no authorizer but the REST server keeps the ACLs, with Kafka REST v3 (O(acl_source=rest)).
  - Checks, B(without writing), that each topic on the destination takes producers (C(writable:T)); it is no
    longer a mirror topic or its mirror is C(STOPPED) (promoted or failed over; a mirror that is still C(ACTIVE) or
    C(PAUSED) is read-only), read with one C(GET /v3/clusters/{cluster_id}/links/-/mirrors) at
    O(destination_rest_url); and, with O(producer_principal), that this principal has an ALLOW of C(WRITE) (or
    C(ALL)) on the topic and no matching DENY, where the destination's ACLs are readable (O(acl_source)). What
    could not be read is named in the row and does not fail it.
  - By default nothing is written to any cluster. Only with O(probe=true) does the module write; one record with
    the header C(linkops-probe) to partition 0 of O(probe_topic) (its own topic, created with one partition when
    missing) or of each topic in O(probe_topics), on the B(destination), consumed back by offset.
  - Metadata is read with batched AdminClient calls, one DescribeTopics and one ListOffsets per cluster however
    many topics and partitions there are (and one more ListOffsets on the destination for the log start offsets, to
    count the records copied), plus one committed-offsets request per consumer group and cluster
    (the client accepts one group per request; they are sent together).
  - ACLs are read once per cluster however many filters there are, with a filter that selects every ACL
    (one DescribeAcls request, or one C(GET /v3/clusters/{cluster_id}/acls)); the filters are applied locally.
  - The module fails when any check fails, naming the failed checks in C(msg), and still returns all data.
author:
  - linkops maintainers (@linkops)
requirements:
  - confluent-kafka >= 2.3.0 (Python)
extends_documentation_fragment:
  - linkops.cluster_linking._attributes
  - linkops.cluster_linking._filters.acl_filters
attributes:
  check_mode:
    support: full
    details:
      - All read-only checks run in check mode; the probe is skipped and reported as skipped, and the probe topic is
        not created.
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
      - Bootstrap servers of the source cluster, as C(host:port[,host:port...]) (an IPv6 address as
        C([address]:port)); anything else fails before any connection.
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
      - Bootstrap servers of the destination cluster, as C(host:port[,host:port...]), like
        O(source_bootstrap_servers).
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
      - Topics to compare. Each is a topic name (the same on both clusters) or a mapping as
        M(linkops.cluster_linking.mirror_topic) takes it; C(name) is the topic on the destination (for example the
        mirror topic with the link's C(cluster.link.prefix)), C(source_topic_name) the topic on the source (default
        C(name)); C(configs) is accepted and ignored.
      - Checks and returned data are named by the destination topic.
    type: list
    elements: raw
    required: true
  consumer_groups:
    description:
      - Consumer groups whose committed offsets on the listed O(topics) must be equal on both clusters.
      - A listed group without any committed offset on those topics on the source fails its check, because
        there is nothing to prove.
    type: list
    elements: str
    default: []
  acl_filters:
    description:
      - ACL filters in the form of M(linkops.cluster_linking.link_filters) (the link's C(acl.filters)). Every ACL
        of the source that one of them selects must exist on the destination; ACLs the filters select that exist
        only on the destination are counted but do not fail the check.
      - The check adds one row C(acls:<principal>) per principal that owns a selected source ACL, naming the
        missing ACLs in its detail. When the filters select no ACL on the source, the row C(acls:source) fails
        (nothing to prove). When a cluster's ACLs cannot be read, the row C(acls:source) or C(acls:destination)
        fails saying why.
      - Values are checked as M(linkops.cluster_linking.link_filters) checks them; a bad entry fails the module
        naming C(acl_filters[index].field).
      - Left out or empty, ACLs are not checked.
  acl_source:
    description:
      - Where the ACLs of both clusters are read.
      - V(admin) uses the Kafka admin API (DescribeAcls) with the O(source_client_config) and
        O(destination_client_config) clients; their principals need DESCRIBE on the cluster resource. A cluster
        without an authorizer keeps no ACLs there, and its row says so.
      - V(rest) uses Kafka REST v3 (C(GET /v3/clusters/{cluster_id}/acls)) at O(source_rest_url) and
        O(destination_rest_url), for example Confluent Server's C(/kafka) endpoint, Confluent Cloud, or the lab,
        whose brokers have no authorizer but whose REST servers keep the ACLs.
    type: str
    choices: [admin, rest]
    default: admin
  source_rest_url:
    description:
      - With O(acl_source=rest), the Kafka REST URL of the source cluster, in front of C(/v3), for example
        V(https://broker:8090/kafka).
    type: str
  source_cluster_id:
    description:
      - With O(acl_source=rest), the source cluster's id in REST paths; asked from C(GET /v3/clusters) when left
        out (one more request).
    type: str
  source_rest_username:
    description: HTTP Basic user for O(source_rest_url); needs O(source_rest_password).
    type: str
  source_rest_password:
    description: HTTP Basic password for O(source_rest_url).
    type: str
  source_rest_token:
    description: Bearer token for O(source_rest_url), instead of a user and password.
    type: str
  source_rest_validate_certs:
    description: Whether to check the TLS certificate of O(source_rest_url).
    type: bool
    default: true
  source_rest_ca_path:
    description: CA bundle (PEM) for O(source_rest_url).
    type: path
  source_rest_client_cert:
    description: Client certificate (PEM) for mutual TLS with O(source_rest_url); needs O(source_rest_client_key).
    type: path
  source_rest_client_key:
    description: Private key (PEM) of O(source_rest_client_cert).
    type: path
  destination_rest_url:
    description:
      - With O(acl_source=rest), the Kafka REST URL of the destination cluster, in front of C(/v3).
    type: str
  destination_cluster_id:
    description:
      - With O(acl_source=rest), the destination cluster's id in REST paths; asked from C(GET /v3/clusters) when
        left out.
    type: str
  destination_rest_username:
    description: HTTP Basic user for O(destination_rest_url); needs O(destination_rest_password).
    type: str
  destination_rest_password:
    description: HTTP Basic password for O(destination_rest_url).
    type: str
  destination_rest_token:
    description: Bearer token for O(destination_rest_url), instead of a user and password.
    type: str
  destination_rest_validate_certs:
    description: Whether to check the TLS certificate of O(destination_rest_url).
    type: bool
    default: true
  destination_rest_ca_path:
    description: CA bundle (PEM) for O(destination_rest_url).
    type: path
  destination_rest_client_cert:
    description:
      - Client certificate (PEM) for mutual TLS with O(destination_rest_url); needs O(destination_rest_client_key).
    type: path
  destination_rest_client_key:
    description: Private key (PEM) of O(destination_rest_client_cert).
    type: path
  check_writable:
    description:
      - Check without writing that each topic in O(topics) takes producers on the destination (rows C(writable:T));
        see the description. Turn it off to verify a link whose mirrors are still active (a DR rehearsal).
    type: bool
    default: true
  producer_principal:
    description:
      - The principal the producers use on the destination, as C(Type:name) (for example V(User:orders-app)).
      - The writability check requires an ALLOW of C(WRITE) or C(ALL) on each topic for it (or C(User:*)) from host
        C(*), and no matching DENY, where the destination's ACLs can be read (O(acl_source)); where they cannot
        (a cluster without an authorizer) the row says so and does not fail.
    type: str
  probe:
    description:
      - Write to the destination; produce one record with the header and key C(linkops-probe) to partition 0 of
        O(probe_topic), or of each topic in O(probe_topics), and consume it back by offset.
      - Needs O(probe_topic) or O(probe_topics); nothing is probed, and nothing written, otherwise.
      - B(This writes into the topics named.) Into a business topic, every consumer of that topic reads the
        probe record after the cutover; prefer O(probe_topic).
      - Skipped in check mode and for topics missing on the destination.
    type: bool
    default: false
  probe_topic:
    description:
      - The probe's own topic on the destination, for example V(linkops-probe). Created with one partition (the
        cluster's default replication factor) when missing, unless in check mode.
      - Mutually exclusive with O(probe_topics).
    type: str
  probe_topics:
    description:
      - Topics on the destination that may take a probe record, when the probe must prove that these very topics
        take writes. One record is written to partition 0 of each; they stay there.
      - Mutually exclusive with O(probe_topic).
    type: list
    elements: str
  timeout:
    description:
      - Timeout in seconds for each request to a cluster, and for producing and consuming the probe records.
      - Each committed-offsets request has its own timeout from when it is sent; requests waiting for a place among
        the O(max_in_flight) are not timed yet, so the timeout need not grow with the number of groups.
    type: int
    default: 30
  max_in_flight:
    description:
      - Most committed-offsets requests (one per consumer group in O(consumer_groups)) sent to a cluster and not
        answered yet. A new one is sent when the oldest is answered.
      - Each asks the group for its own commits only, so it stays small however many partitions the topics have.
    type: int
    default: 8
notes:
  - With O(probe=true) the probe writes one record per probed topic to the destination although the module
    reports C(changed=false); without it the module writes nothing. A mirror topic that is still read-only rejects
    the record and the probe check fails.
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
    destination_rest_url: https://pkc-abc12.eu-west-1.aws.confluent.cloud:443/kafka
    destination_cluster_id: lkc-abc12
    destination_rest_username: "{{ ccloud_api_key }}"
    destination_rest_password: "{{ ccloud_api_secret }}"
    producer_principal: User:sa-orders
    # one record into a topic of its own (created when missing), never into orders or payments
    probe: true
    probe_topic: linkops-probe
  register: verify

- name: Show the failed checks without failing the play
  linkops.cluster_linking.migration_verify:
    source_bootstrap_servers: 127.0.0.1:29092
    destination_bootstrap_servers: 127.0.0.1:29093
    destination_client_config:
      receive.message.max.bytes: "1000000000"
      fetch.max.bytes: "500000000"
    topics: [orders]
  register: verify
  ignore_errors: true

- name: Print them
  ansible.builtin.debug:
    var: verify.failed_checks

- name: Verify that the link synced the ACLs of two applications (brokers with an authorizer)
  linkops.cluster_linking.migration_verify:
    source_bootstrap_servers: onprem-kafka-1.example.com:9092
    source_client_config: "{{ linkops_clusters.onprem | linkops.cluster_linking.kafka_client_config }}"
    destination_bootstrap_servers: pkc-abc12.eu-west-1.aws.confluent.cloud:9092
    destination_client_config: "{{ linkops_clusters.cloud | linkops.cluster_linking.kafka_client_config }}"
    topics: [orders]
    acl_filters:
      - {resource_type: any, pattern_type: any, principal: "User:orders-app", operation: any, permission_type: any}
      - {resource_type: any, pattern_type: any, principal: "User:billing-app", operation: any, permission_type: any}

- name: Read the ACLs from the REST servers instead (the lab's brokers have no authorizer)
  linkops.cluster_linking.migration_verify:
    source_bootstrap_servers: "{{ lab.source_bootstrap }}"
    source_client_config: "{{ lab.client_config }}"
    destination_bootstrap_servers: "{{ lab.destination_bootstrap }}"
    destination_client_config: "{{ lab.client_config }}"
    topics: [test-topic, {name: eu.payments, source_topic_name: payments}]
    acl_filters:
      - {resource_type: topic, resource_name: test-, pattern_type: prefixed, operation: any, permission_type: any}
    acl_source: rest
    source_rest_url: "{{ lab.source_rest_url }}"
    source_rest_username: "{{ lab.rest_username }}"
    source_rest_password: "{{ lab.rest_password }}"
    destination_rest_url: "{{ lab.destination_rest_url }}"
    destination_rest_username: "{{ lab.rest_username }}"
    destination_rest_password: "{{ lab.rest_password }}"

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
      consumer groups (C(group_offsets:G)), ACLs (C(acls:<principal>), C(acls:source), C(acls:destination)),
      writability (C(writable:T)), probes (C(probe:T), only with O(probe=true)).
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
    - {name: "acls:User:orders-app", ok: true, detail: "3 ACLs present on the destination", skipped: false}
    - {name: "writable:orders", ok: true, skipped: false,
       detail: "mirror of link orders-link is STOPPED (promoted or failed over); User:sa-orders has WRITE on orders
                (literal orders); nothing was written"}
    - {name: "probe:linkops-probe", ok: true,
       detail: "produced to partition 0 at offset 7 and consumed back the same value", skipped: false}
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
    source_topic:
      description: The topic's name on the source.
      type: str
      sample: orders
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
    destination_start_offsets:
      description: Log start offset per partition on the destination.
      type: dict
      sample: {"0": 0, "1": 0}
    records_copied:
      description:
        - Records on the destination's partitions (end minus log start offsets), less earlier probe records;
          V(null) when the topic is missing there.
      type: int
      sample: 2040
    destination_probe_records:
      description:
        - Per partition, how many records after the source's end offset on the destination were written by
          earlier probes (and therefore accepted by the end offset check). Empty when there are none.
      type: dict
      sample: {"0": 1}
  sample:
    orders:
      source_topic: orders
      partitions: {source: 2, destination: 2}
      source_end_offsets: {"0": 1042, "1": 998}
      destination_end_offsets: {"0": 1043, "1": 998}
      destination_start_offsets: {"0": 0, "1": 0}
      destination_probe_records: {"0": 1}
      records_copied: 2040
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
acls:
  description:
    - What the ACL check read and found; empty without O(acl_filters).
    - ACL bindings are dicts in the filter spelling with keys C(resourceType), C(name), C(patternType),
      C(principal), C(host), C(operation), C(permissionType).
  returned: success or when a check failed
  type: dict
  contains:
    acl_source:
      description: Where the ACLs were read (O(acl_source)).
      type: str
      sample: rest
    filters:
      description: The validated filters, as the link's C(acl.filters) spells them.
      type: list
      elements: dict
    source_total:
      description: ACLs read on the source (all of them, before filtering).
      type: int
      sample: 12
    destination_total:
      description: ACLs read on the destination.
      type: int
      sample: 15
    source_selected:
      description: Source ACLs the filters select.
      type: int
      sample: 3
    destination_selected:
      description: Destination ACLs the filters select.
      type: int
      sample: 3
    missing:
      description: Selected source ACLs that are not on the destination.
      type: list
      elements: dict
      sample: [{resourceType: topic, name: orders, patternType: literal, principal: "User:orders-app", host: "*",
                operation: read, permissionType: allow}]
    destination_only:
      description: Selected destination ACLs that are not on the source (they do not fail the check).
      type: list
      elements: dict
    compared:
      description: Every selected source ACL, with C(on_destination) saying whether the destination has it.
      type: list
      elements: dict
      sample: [{resourceType: topic, name: orders, patternType: literal, principal: "User:orders-app", host: "*",
                operation: read, permissionType: allow, on_destination: true}]
    principals:
      description: Per principal, how many selected source ACLs there are, are present and are missing.
      type: dict
      sample: {"User:orders-app": {source: 3, present: 2, missing: 1, destination_only: 0}}
    errors:
      description: Per side, why its ACLs could not be read (only then; the other keys are left out).
      type: dict
      sample: {source: "could not read the source cluster's ACLs with the Kafka REST API (...): HTTP 401"}
  sample:
    acl_source: rest
    source_selected: 1
    destination_selected: 1
    missing: []
    principals: {"User:orders-app": {source: 1, present: 1, missing: 0, destination_only: 0}}
admin_requests:
  description:
    - Kafka admin requests sent to each cluster - connecting, one DescribeTopics, one ListOffsets, and one
      committed-offsets request per consumer group (not counting the ACL reads and the probe).
    - So a constant number of requests per kind plus one per group, however many topics and partitions are verified.
  returned: success or when a check failed
  type: dict
  sample: {"source": 503, "destination": 503}
rest_requests:
  description:
    - Kafka REST requests made, both clusters together; the ACL reads (O(acl_source=rest)) and the destination's
      mirror list (the writability check), one each.
  returned: when O(source_rest_url) or O(destination_rest_url) is given
  type: int
  sample: 3
writable:
  description: What the writability check read; empty with O(check_writable=false).
  returned: success or when a check failed
  type: dict
  sample: {mirror_state_read: true, producer_principal: "User:sa-orders", acls_read: true}
clusters:
  description: Each cluster's id (as it reports it) and bootstrap servers, for the report's header.
  returned: success or when a check failed
  type: dict
  sample: {source: {cluster_id: 4Lw1r3Ln0V2sQ9aBcDeFgH, bootstrap_servers: "onprem-kafka-1.example.com:9092"},
           destination: {cluster_id: lkc-abc12, bootstrap_servers: "pkc-abc12.eu-west-1.aws.confluent.cloud:9092"}}
phases:
  description: When the verification started and ended (seconds since the epoch), for the report's header.
  returned: success or when a check failed
  type: list
  elements: dict
  sample: [{name: verify, start: 1795320430.125, end: 1795320431.5}]
probe:
  description:
    - Per probed topic, where the probe record was written, or why the probe was skipped. Empty when O(probe=false).
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
    dedicated:
      description: V(true) for O(probe_topic), the probe's own topic.
      type: bool
      sample: true
  sample:
    linkops-probe: {partition: 0, offset: 7, consumed: true, dedicated: true}
"""

import functools
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.linkops.cluster_linking.plugins.module_utils._acl_checks import (
    ACL_SOURCES,
    AclReadError,
    AdminAcls,
    RestAcls,
    acl_checks,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._filters import (
    ACL_FILTER_ENTRY_SPEC,
    FilterError,
    build_acl_filter_entries,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_clients import (
    CONFLUENT_KAFKA_IMPORT_ERROR,
    HAS_CONFLUENT_KAFKA,
    secret_values,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_reads import Cluster, ClusterError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._migration_checks import (
    failure_message,
    topic_pairs,
    verify_migration,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestClient
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_tls import prefixed_names
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import check_migration_verify, validate_module
from ansible_collections.linkops.cluster_linking.plugins.module_utils._writable_checks import WritableCheck

SIDES = ("source", "destination")


def rest_options(side):
    """The REST options of one side: <side>_rest_url, <side>_cluster_id, credentials, TLS."""
    return {
        "%s_rest_url" % side: dict(type="str"),
        "%s_cluster_id" % side: dict(type="str"),
        "%s_rest_username" % side: dict(type="str"),
        "%s_rest_password" % side: dict(type="str", no_log=True),
        "%s_rest_token" % side: dict(type="str", no_log=True),
        "%s_rest_validate_certs" % side: dict(type="bool", default=True),
        "%s_rest_ca_path" % side: dict(type="path"),
        "%s_rest_client_cert" % side: dict(type="path"),
        "%s_rest_client_key" % side: dict(type="path", no_log=False),
    }


def rest_client(params, side):
    return RestClient(
        params["%s_rest_url" % side], cluster_id=params["%s_cluster_id" % side],
        username=params["%s_rest_username" % side], password=params["%s_rest_password" % side],
        token=params["%s_rest_token" % side], client_cert=params["%s_rest_client_cert" % side],
        client_key=params["%s_rest_client_key" % side], ca_path=params["%s_rest_ca_path" % side],
        validate_certs=params["%s_rest_validate_certs" % side], timeout=params["timeout"],
        option_names=prefixed_names("%s_" % side))


class OnceAcls:
    """An ACL reader that reads once: the ACL check and the writability check share the destination's ACLs."""

    def __init__(self, reader):
        self.reader = reader
        self._answer = None

    def read(self):
        if self._answer is None:
            try:
                self._answer = ("ok", self.reader.read())
            except AclReadError as exc:  # kept to raise again for the second reader
                self._answer = ("error", exc)
        if self._answer[0] == "error":
            raise self._answer[1]
        return self._answer[1]


def argument_spec():
    spec = dict(
        source_bootstrap_servers=dict(type="str", required=True),
        source_client_config=dict(type="dict", default={}),
        destination_bootstrap_servers=dict(type="str", required=True),
        destination_client_config=dict(type="dict", default={}),
        topics=dict(type="list", elements="raw", required=True),
        consumer_groups=dict(type="list", elements="str", default=[]),
        acl_filters=dict(type="list", elements="dict", options=ACL_FILTER_ENTRY_SPEC),
        acl_source=dict(type="str", default="admin", choices=list(ACL_SOURCES)),
        check_writable=dict(type="bool", default=True),
        producer_principal=dict(type="str"),
        probe=dict(type="bool", default=False),
        probe_topic=dict(type="str"),
        probe_topics=dict(type="list", elements="str"),
        timeout=dict(type="int", default=30),
        max_in_flight=dict(type="int", default=8),
    )
    for side in SIDES:
        spec.update(rest_options(side))
    return spec


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[(("%s_rest_token" % side), ("%s_rest_%s" % (side, other)))
                            for side in SIDES for other in ("username", "password")],
        required_together=[(("%s_rest_%s" % (side, a)), ("%s_rest_%s" % (side, b)))
                           for side in SIDES for a, b in (("username", "password"), ("client_cert", "client_key"))],
        supports_check_mode=True,
    )
    params = module.params
    for side in SIDES:
        module.no_log_values.update(secret_values(params["%s_client_config" % side]))

    if not HAS_CONFLUENT_KAFKA:
        module.fail_json(msg=missing_required_lib("confluent-kafka"), exception=CONFLUENT_KAFKA_IMPORT_ERROR)
    validate_module(module, check_migration_verify)
    if not params["topics"]:
        module.fail_json(msg="topics must name at least one topic")
    try:
        topic_pairs(params["topics"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    acl_entries = None
    if params["acl_filters"]:
        try:
            acl_entries = build_acl_filter_entries(params["acl_filters"], "acl_filters")
        except FilterError as exc:
            module.fail_json(msg=str(exc))
        if params["acl_source"] == "rest":
            missing = ["%s_rest_url" % side for side in SIDES if not params["%s_rest_url" % side]]
            if missing:
                module.fail_json(msg="acl_source=rest reads the ACLs of both clusters with Kafka REST v3; set %s "
                                     "(the URL in front of /v3, e.g. https://broker:8090/kafka), or use "
                                     "acl_source=admin." % " and ".join(missing))

    source = Cluster("source", params["source_bootstrap_servers"], params["source_client_config"],
                     params["timeout"], params["max_in_flight"])
    destination = Cluster("destination", params["destination_bootstrap_servers"],
                          params["destination_client_config"], params["timeout"], params["max_in_flight"])
    clusters = {"source": source, "destination": destination}

    acl_check = None
    rest_clients = dict((side, rest_client(params, side)) for side in SIDES if params["%s_rest_url" % side])
    if params["acl_source"] == "rest":
        readers = dict((side, OnceAcls(RestAcls(rest_clients[side], side))) for side in SIDES if side in rest_clients)
    else:
        readers = dict((side, OnceAcls(AdminAcls(clusters[side]))) for side in SIDES)
    if acl_entries is not None:
        acl_check = functools.partial(acl_checks, acl_entries, readers, params["acl_source"])

    writable_check = None
    if params["check_writable"]:
        writable_check = WritableCheck(rest_clients.get("destination"), params["producer_principal"],
                                       readers.get("destination"),
                                       no_rest_reason="destination_rest_url not given")
    probe = []
    if params["probe"]:
        probe = [params["probe_topic"]] if params["probe_topic"] else params["probe_topics"]

    try:
        result = verify_migration(source, destination, params["topics"], params["consumer_groups"],
                                  probe, module.check_mode, acl_check=acl_check, writable_check=writable_check,
                                  probe_topic=params["probe_topic"])
    except ClusterError as exc:
        module.fail_json(msg=str(exc))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="migration verification error: %s" % exc, exception=traceback.format_exc())

    result["admin_requests"] = dict((side, cluster.requests) for side, cluster in clusters.items())
    if rest_clients:
        result["rest_requests"] = sum(client.request_count for client in rest_clients.values())
    if result["failed_checks"]:
        module.fail_json(msg=failure_message(result["checks"]), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright (c) linkops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reads of ``linkops.cluster_linking.migration_verify`` (and ``link_filters``' preview): ``Cluster``,
one side of a migration with its AdminClient and client settings, and ``ClusterError`` for a cluster
that cannot be used at all. ``Cluster`` asks a cluster with batched calls (one DescribeTopics and one
ListOffsets per cluster, one committed-offsets call per group for that group's own commits, at most
``in_flight`` at a time, each with its own timeout), counts the admin requests it sends, reads back
earlier probe records, and runs the produce/consume probe; it returns plain dicts with int partition keys
and judges nothing: ``_migration_checks`` turns what it reads into check results.
"""

from __future__ import annotations

import time
import uuid
from collections import deque

from ansible_collections.linkops.cluster_linking.plugins.module_utils._auth_hints import client_config_hint
from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_clients import (
    HAS_CONFLUENT_KAFKA,
    ClientLog,
    KafkaException,
    build_client_config,
    kafka_error_code_name,
    kafka_error_text,
)

if HAS_CONFLUENT_KAFKA:
    from confluent_kafka import (
        Consumer,
        ConsumerGroupTopicPartitions,
        Producer,
        TopicCollection,
        TopicPartition,
    )
    from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

PROBE_HEADER = "linkops-probe"
PROBE_PARTITION = 0

#: Error names that mean "the cluster (not one topic) is unusable": reported as ClusterError.
CLUSTER_LEVEL_ERRORS = frozenset((
    "_TIMED_OUT", "_TRANSPORT", "_ALL_BROKERS_DOWN", "_RESOLVE", "_AUTHENTICATION", "_SSL",
    "SASL_AUTHENTICATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED", "_DESTROY",
))


def select_committed(committed, topics):
    """From ``[(topic, partition, offset), ...]`` keep real commits (offset >= 0) of ``topics``.

    Returns {topic: {partition: offset}}; topics without commits are left out.
    """
    wanted = set(topics)
    result = {}
    for topic, partition, offset in committed:
        if topic in wanted and offset is not None and offset >= 0:
            result.setdefault(topic, {})[partition] = offset
    return result


class ClusterError(Exception):
    """A whole cluster could not be used (unreachable, timed out, authentication failed)."""

    def __init__(self, side, bootstrap_servers, action, detail):
        self.side = side
        self.bootstrap_servers = bootstrap_servers
        message = "%s cluster unusable (%s_bootstrap_servers=%s): %s failed: %s%s" % (
            side, side, bootstrap_servers, action, detail, client_config_hint(side, detail))
        super().__init__(message)


#: Committed-offset requests (one per group) in flight at once per cluster, unless told otherwise.
DEFAULT_IN_FLIGHT = 8


class Cluster:
    """One side of the migration, with its AdminClient and client settings.

    timeout: seconds for each request (a request waiting in the window is not yet timed). in_flight: the most
    committed-offset requests sent and not answered yet. requests: admin requests sent so far.
    """

    def __init__(self, side, bootstrap_servers, client_config, timeout, in_flight=DEFAULT_IN_FLIGHT):
        self.side = side
        self.bootstrap_servers = bootstrap_servers
        self.client_config = client_config or {}
        self.timeout = timeout
        self.in_flight = max(1, int(in_flight or 1))
        self.requests = 0
        self.log = ClientLog(side)
        self._admin = None

    # -- plumbing

    def config(self, defaults=None, overrides=None):
        base = build_client_config(self.bootstrap_servers, self.client_config, defaults, overrides)
        return self.log.attach(base)

    def _client(self, factory, kind, config):
        """Create a client; a bad setting in *_client_config becomes a one-line ClusterError."""
        try:
            return factory(config)
        except (KafkaException, ValueError, TypeError) as exc:
            raise ClusterError(self.side, self.bootstrap_servers, "creating the %s" % kind,
                               "%s (check %s_client_config)" % (kafka_error_text(exc), self.side))

    @property
    def admin(self):
        if self._admin is None:
            self._admin = self._client(AdminClient, "admin client", self.config())
        return self._admin

    def _fail(self, action, exc):
        if self._admin is not None:
            try:
                self._admin.poll(0)  # serve queued log lines and error callbacks
            except Exception:  # pragma: no cover - best effort only
                pass
        detail = kafka_error_text(exc)
        if kafka_error_code_name(exc) == "_TIMED_OUT":
            detail = "timed out after %ss" % self.timeout
        last = self.log.last_error
        if last and last not in detail:
            detail += "; last client error: %s" % last
        raise ClusterError(self.side, self.bootstrap_servers, action, detail)

    def _result(self, future, action):
        try:
            return future.result(timeout=self.timeout + 10)
        except KafkaException as exc:
            if kafka_error_code_name(exc) in CLUSTER_LEVEL_ERRORS:
                self._fail(action, exc)
            raise
        except Exception as exc:  # concurrent.futures.TimeoutError and friends
            self._fail(action, exc)

    # -- reads

    def connect(self):
        """Describe the cluster once, so an unreachable cluster fails fast with a clear message."""
        try:
            self.requests += 1
            description = self._result(self.admin.describe_cluster(request_timeout=self.timeout),
                                       "connecting")
        except KafkaException as exc:
            self._fail("connecting", exc)
        return description.cluster_id

    def partition_counts(self, topics):
        """{topic: partition count or None when the topic does not exist}; one DescribeTopics."""
        if not topics:
            return {}
        self.requests += 1
        futures = self.admin.describe_topics(TopicCollection(list(topics)), request_timeout=self.timeout)
        counts = {}
        for topic in topics:
            try:
                description = self._result(futures[topic], "describing topics")
                counts[topic] = len(description.partitions)
            except KafkaException as exc:
                if kafka_error_code_name(exc) == "UNKNOWN_TOPIC_OR_PART":
                    counts[topic] = None
                else:
                    self._fail("describing topic %s" % topic, exc)
        return counts

    def end_offsets(self, partition_counts, earliest=False):
        """{topic: {partition: high watermark}} for every partition (``earliest``: the log start
        offsets instead); one ListOffsets call."""
        request = {}
        for topic, count in partition_counts.items():
            for partition in range(count or 0):
                request[TopicPartition(topic, partition)] = OffsetSpec.earliest() if earliest else OffsetSpec.latest()
        result = {topic: {} for topic, count in partition_counts.items() if count is not None}
        if not request:
            return result
        self.requests += 1
        futures = self.admin.list_offsets(request, request_timeout=self.timeout)
        for tp, future in futures.items():
            try:
                info = self._result(future, "listing end offsets")
            except KafkaException as exc:
                self._fail("listing end offsets of %s[%d]" % (tp.topic, tp.partition), exc)
            result.setdefault(tp.topic, {})[tp.partition] = info.offset
        return result

    def create_topic(self, topic, partitions=1):
        """Create ``topic`` (the probe's own topic) with the cluster's default replication; one CreateTopics.
        Returns None, or why it could not be created."""
        future = self.admin.create_topics([NewTopic(topic, num_partitions=partitions)],
                                          request_timeout=self.timeout)[topic]
        try:
            self._result(future, "creating topic %s" % topic)
        except KafkaException as exc:
            if kafka_error_code_name(exc) != "TOPIC_ALREADY_EXISTS":
                return "could not create the probe topic %s: %s" % (topic, kafka_error_text(exc))
        return None

    def committed_offsets(self, groups, partition_counts):
        """{group: {topic: {partition: offset}}} of the given topics' partitions.

        Each group is asked for its own commits only (ListConsumerGroupOffsets without partitions: the
        broker answers with the partitions the group committed), not for every partition of every topic:
        with 10,000 partitions and 500 groups that request was 10,000 partitions long per group and timed
        out. One request per group (the AdminClient takes one group per call), at most ``in_flight`` at a
        time; the answers keep the topics and partitions asked about.
        """
        if not any(partition_counts.values()):
            return {group: {} for group in groups}
        result = {}
        pending = deque()
        for group in groups:
            if len(pending) >= self.in_flight:  # wait for the oldest answer before sending one more
                done, future = pending.popleft()
                result[done] = self._own_commits(done, future, partition_counts)
            self.requests += 1
            pending.append((group, self.admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group)], request_timeout=self.timeout)[group]))
        while pending:
            done, future = pending.popleft()
            result[done] = self._own_commits(done, future, partition_counts)
        return result

    def _own_commits(self, group, future, partition_counts):
        action = "reading committed offsets of group %s" % group
        try:
            answer = self._result(future, action)
        except KafkaException as exc:
            self._fail(action, exc)
        committed = [(tp.topic, tp.partition, tp.offset) for tp in answer.topic_partitions or []
                     if tp.error is None and tp.partition < (partition_counts.get(tp.topic) or 0)]
        return select_committed(committed, partition_counts)

    def count_probe_records(self, ranges):
        """Read ``{topic: (partition, start, end)}`` and count records carrying the probe header.

        Returns {topic: (probe records, records read)}. One consumer for all topics.
        """
        if not ranges:
            return {}
        expected = {topic: end - start for topic, (partition, start, end) in ranges.items()}
        seen = {topic: [0, 0] for topic in ranges}
        consumer = self._consumer()
        try:
            consumer.assign([TopicPartition(topic, partition, start)
                             for topic, (partition, start, end) in ranges.items()])
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline and any(seen[t][1] < expected[t] for t in seen):
                message = consumer.poll(0.2)
                if message is None or message.error():
                    continue
                topic = message.topic()
                if topic not in ranges:
                    continue
                partition, start, end = ranges[topic]
                if message.partition() != partition or not start <= message.offset() < end:
                    continue
                seen[topic][1] += 1
                if any(key == PROBE_HEADER for key, _value in (message.headers() or [])):
                    seen[topic][0] += 1
        finally:
            consumer.close()
        return {topic: tuple(counts) for topic, counts in seen.items()}

    def _consumer(self):
        config = self.config(
            defaults={"group.id": "linkops-migration-verify", "auto.offset.reset": "error"},
            overrides={"enable.auto.commit": "false", "enable.auto.offset.store": "false",
                       "enable.partition.eof": "false"},
        )
        return self._client(Consumer, "consumer", config)

    # -- write

    def probe(self, topics, partition=PROBE_PARTITION):
        """Produce one record with the ``linkops-probe`` header to ``partition`` of each topic,
        then consume each back by offset. One producer and one consumer for all topics.

        Returns {topic: {partition, offset, consumed, value_match, header_match, error}}.
        """
        results = {}
        if not topics:
            return results
        token = "linkops-probe-%s" % uuid.uuid4().hex
        value = token.encode("utf-8")
        producer = self._client(Producer, "producer", self.config(
            defaults={"message.timeout.ms": str(int(self.timeout * 1000))},
            overrides={"acks": "all"},
        ))

        def delivered(topic):
            def callback(err, msg):
                if err is not None:
                    results[topic] = {"partition": partition, "error": "produce failed: %s" % kafka_error_text(err)}
                else:
                    results[topic] = {"partition": msg.partition(), "offset": msg.offset()}
            return callback

        for topic in topics:
            try:
                producer.produce(topic, value=value, key=PROBE_HEADER.encode("utf-8"), partition=partition,
                                 headers=[(PROBE_HEADER, value)], on_delivery=delivered(topic))
            except (KafkaException, BufferError) as exc:
                results[topic] = {"partition": partition, "error": "produce failed: %s" % kafka_error_text(exc)}
            producer.poll(0)
        producer.flush(self.timeout)
        for topic in topics:
            if topic not in results:
                last = self.log.last_error
                results[topic] = {"partition": partition, "error": "produce not acknowledged within %ss%s"
                                  % (self.timeout, "; last client error: %s" % last if last else "")}

        to_read = {topic: r for topic, r in results.items() if "error" not in r}
        for r in to_read.values():
            r.update(consumed=False, value_match=False, header_match=False)
        if not to_read:
            return results
        consumer = self._consumer()
        last_error = None
        try:
            consumer.assign([TopicPartition(topic, r["partition"], r["offset"]) for topic, r in to_read.items()])
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline and not all(r["consumed"] for r in to_read.values()):
                message = consumer.poll(0.2)
                if message is None:
                    continue
                if message.error():
                    last_error = kafka_error_text(message.error())
                    continue
                r = to_read.get(message.topic())
                if r is None or message.partition() != r["partition"] or message.offset() != r["offset"]:
                    continue
                r["consumed"] = True
                r["value_match"] = message.value() == value
                r["header_match"] = (PROBE_HEADER, value) in [
                    (k, v if isinstance(v, bytes) or v is None else str(v).encode("utf-8"))
                    for k, v in (message.headers() or [])]
        finally:
            consumer.close()
        for topic, r in to_read.items():
            if not r["consumed"]:
                last = last_error or self.log.last_error
                r["error"] = ("produced to partition %d at offset %d but did not consume it back within %ss%s"
                              % (r["partition"], r["offset"], self.timeout,
                                 "; last client error: %s" % last if last else ""))
        return results

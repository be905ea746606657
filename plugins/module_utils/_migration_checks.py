# -*- coding: utf-8 -*-
# Copyright (c) linkops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks behind ``linkops.cluster_linking.migration_verify``.

Two layers:

* pure functions (``partition_checks``, ``compare_end_offsets``, ``compare_group_offsets``,
  ``probe_check``, ...) that turn plain dicts into result rows ``{name, ok, detail, skipped}``;
  unit-tested without brokers;
* ``Cluster`` and ``verify_migration`` that read both clusters with batched AdminClient calls
  (one DescribeTopics and one ListOffsets per cluster, one committed-offsets call per group and
  cluster, issued together) and run the produce/consume probe on the destination.

Offsets use int partition keys internally; ``str_keys`` makes them JSON-safe for results.
"""

from __future__ import annotations

import time
import uuid

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
    from confluent_kafka.admin import AdminClient, OffsetSpec

PROBE_HEADER = "linkops-probe"
PROBE_PARTITION = 0
#: Largest gap (destination end offset minus source end offset on the probe partition) that is
#: read back to see whether it consists only of earlier probe records.
MAX_PROBE_TAIL = 1000

#: Error names that mean "the cluster (not one topic) is unusable": reported as ClusterError.
CLUSTER_LEVEL_ERRORS = frozenset((
    "_TIMED_OUT", "_TRANSPORT", "_ALL_BROKERS_DOWN", "_RESOLVE", "_AUTHENTICATION", "_SSL",
    "SASL_AUTHENTICATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED", "_DESTROY",
))

SIDES = ("source", "destination")


# --------------------------------------------------------------------------------------------
# Pure helpers


def check(name, ok, detail, skipped=False):
    """One result row."""
    return {"name": name, "ok": bool(ok), "detail": detail, "skipped": bool(skipped)}


def str_keys(mapping):
    """Recursively turn dict keys into strings (partition numbers -> "0", "1", ...)."""
    if isinstance(mapping, dict):
        return {str(key): str_keys(value) for key, value in mapping.items()}
    return mapping


def failed_names(checks):
    return [row["name"] for row in checks if not row["ok"]]


def failure_message(checks, limit=20):
    failed = failed_names(checks)
    names = ", ".join(failed[:limit])
    if len(failed) > limit:
        names += ", and %d more" % (len(failed) - limit)
    return "Migration verification failed: %d of %d checks failed: %s" % (len(failed), len(checks), names)


def _partition_list(partitions, limit=10):
    text = ", ".join(str(p) for p in partitions[:limit])
    if len(partitions) > limit:
        text += ", ... (%d in all)" % len(partitions)
    return text


def partition_checks(topic, source_count, destination_count, source_topic=None):
    """Rows ``topic_exists:T`` and ``partitions:T``; a count of None means the topic is missing.
    ``source_topic`` is the topic's name on the source when it differs from ``topic``."""
    source_topic = source_topic or topic
    rows = []
    if destination_count is None:
        rows.append(check("topic_exists:%s" % topic, False, "topic %s does not exist on the destination" % topic))
    else:
        rows.append(check("topic_exists:%s" % topic, True,
                          "topic %s exists on the destination with %d partitions" % (topic, destination_count)))
    name = "partitions:%s" % topic
    if source_count is None:
        rows.append(check(name, False, "topic %s does not exist on the source" % source_topic))
    elif destination_count is None:
        rows.append(check(name, False, "not compared: topic %s does not exist on the destination" % topic,
                          skipped=True))
    elif source_count != destination_count:
        rows.append(check(name, False, "partition count differs: source %d, destination %d"
                          % (source_count, destination_count)))
    else:
        rows.append(check(name, True, "%d partitions on both clusters" % source_count))
    return rows


def probe_tail_ranges(source_offsets, destination_offsets, partition=PROBE_PARTITION, max_tail=MAX_PROBE_TAIL):
    """Where the destination is ahead on the probe partition by at most ``max_tail`` records,
    return ``(start, end)`` to read back (earlier probes may account for the difference); else None."""
    if partition not in source_offsets or partition not in destination_offsets:
        return None
    start, end = source_offsets[partition], destination_offsets[partition]
    if start < 0 or end <= start or end - start > max_tail:
        return None
    return (start, end)


def compare_end_offsets(topic, source_offsets, destination_offsets, probe_records=None, missing=None):
    """Row ``end_offsets:T``.

    ``source_offsets``/``destination_offsets``: {partition(int): high watermark}.
    ``probe_records``: {partition: n} where the destination's last n records on that partition
    were all written by an earlier probe (they are allowed on top of the source's end offset).
    ``missing``: text when the comparison cannot be made (topic missing), gives a skipped failure.
    """
    name = "end_offsets:%s" % topic
    if missing:
        return check(name, False, "not compared: %s" % missing, skipped=True)
    probe_records = probe_records or {}
    partitions = sorted(set(source_offsets) | set(destination_offsets))
    differing = []
    allowed = []
    for partition in partitions:
        src = source_offsets.get(partition)
        dst = destination_offsets.get(partition)
        if src == dst:
            continue
        extra = probe_records.get(partition, 0)
        if src is not None and dst is not None and extra and dst - extra == src:
            allowed.append((partition, extra))
            continue
        differing.append((partition, src, dst))
    if differing:
        parts = ["%s: source %s, destination %s" % (p, "missing" if s is None else s, "missing" if d is None else d)
                 for p, s, d in differing[:10]]
        if len(differing) > 10:
            parts.append("... (%d partitions differ)" % len(differing))
        return check(name, False, "end offsets differ on partition " + "; ".join(parts))
    detail = "end offsets equal on %d partitions" % len(partitions)
    if allowed:
        detail += " (destination also holds %s after the mirrored data)" % ", ".join(
            "%d linkops probe record(s) on partition %d" % (n, p) for p, n in allowed)
    return check(name, True, detail)


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


def compare_group_offsets(group, source, destination):
    """Row ``group_offsets:G``: every partition the source group committed (on the listed topics)
    must have the same committed offset on the destination. ``source``/``destination`` are
    {topic: {partition: offset}} as built by ``select_committed``."""
    name = "group_offsets:%s" % group
    total = sum(len(parts) for parts in source.values())
    if not total:
        return check(name, False, "source group %s has no committed offsets on the listed topics" % group)
    differing = []
    for topic in sorted(source):
        for partition in sorted(source[topic]):
            src = source[topic][partition]
            dst = destination.get(topic, {}).get(partition)
            if src != dst:
                differing.append("%s[%s]: source %s, destination %s"
                                 % (topic, partition, src, "not committed" if dst is None else dst))
    if differing:
        text = "; ".join(differing[:10])
        if len(differing) > 10:
            text += "; ... (%d partitions differ)" % len(differing)
        return check(name, False, "committed offsets differ: " + text)
    return check(name, True, "committed offsets equal on %d partitions of %d topics" % (total, len(source)))


def probe_check(topic, result):
    """Row ``probe:T`` from a probe result dict (see ``Cluster.probe``)."""
    name = "probe:%s" % topic
    if result.get("skipped"):
        return check(name, result.get("ok", True), "skipped: %s" % result.get("reason", ""), skipped=True)
    if result.get("error"):
        return check(name, False, result["error"])
    if result.get("consumed") and result.get("value_match") and result.get("header_match"):
        return check(name, True, "produced to partition %d at offset %d and consumed back the same value"
                     % (result["partition"], result["offset"]))
    if result.get("consumed"):
        return check(name, False, "record at partition %d offset %d did not match what was produced"
                     % (result["partition"], result["offset"]))
    return check(name, False, "produced to partition %d at offset %d but could not consume it back"
                 % (result["partition"], result["offset"]))


def probe_public(result):
    """The part of a probe result that goes into the module's ``probe`` return value."""
    if result.get("skipped"):
        return {"skipped": True, "reason": result.get("reason", "")}
    keys = ("partition", "offset", "consumed", "error")
    return {key: result.get(key) for key in keys if key in result}


# --------------------------------------------------------------------------------------------
# Talking to clusters


class ClusterError(Exception):
    """A whole cluster could not be used (unreachable, timed out, authentication failed)."""

    def __init__(self, side, bootstrap_servers, action, detail):
        self.side = side
        self.bootstrap_servers = bootstrap_servers
        message = "%s cluster unusable (%s_bootstrap_servers=%s): %s failed: %s%s" % (
            side, side, bootstrap_servers, action, detail, client_config_hint(side, detail))
        super().__init__(message)


class Cluster:
    """One side of the migration, with its AdminClient and client settings."""

    def __init__(self, side, bootstrap_servers, client_config, timeout):
        self.side = side
        self.bootstrap_servers = bootstrap_servers
        self.client_config = client_config or {}
        self.timeout = timeout
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
            description = self._result(self.admin.describe_cluster(request_timeout=self.timeout),
                                       "connecting")
        except KafkaException as exc:
            self._fail("connecting", exc)
        return description.cluster_id

    def partition_counts(self, topics):
        """{topic: partition count or None when the topic does not exist}; one DescribeTopics."""
        if not topics:
            return {}
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

    def end_offsets(self, partition_counts):
        """{topic: {partition: high watermark}} for every partition; one ListOffsets call."""
        request = {}
        for topic, count in partition_counts.items():
            for partition in range(count or 0):
                request[TopicPartition(topic, partition)] = OffsetSpec.latest()
        result = {topic: {} for topic, count in partition_counts.items() if count is not None}
        if not request:
            return result
        futures = self.admin.list_offsets(request, request_timeout=self.timeout)
        for tp, future in futures.items():
            try:
                info = self._result(future, "listing end offsets")
            except KafkaException as exc:
                self._fail("listing end offsets of %s[%d]" % (tp.topic, tp.partition), exc)
            result.setdefault(tp.topic, {})[tp.partition] = info.offset
        return result

    def committed_offsets(self, groups, partition_counts):
        """{group: {topic: {partition: offset}}} for the given partitions.

        The AdminClient accepts one group per ListConsumerGroupOffsets call, so the calls for
        all groups are issued first and collected afterwards.
        """
        partitions = [TopicPartition(topic, p)
                      for topic, count in sorted(partition_counts.items()) for p in range(count or 0)]
        if not partitions:
            return {group: {} for group in groups}
        pending = {}
        for group in groups:
            request = [ConsumerGroupTopicPartitions(group, list(partitions))]
            pending[group] = self.admin.list_consumer_group_offsets(
                request, request_timeout=self.timeout)[group]
        result = {}
        topics = list(partition_counts)
        for group, future in pending.items():
            try:
                answer = self._result(future, "reading committed offsets of group %s" % group)
            except KafkaException as exc:
                self._fail("reading committed offsets of group %s" % group, exc)
            committed = [(tp.topic, tp.partition, tp.offset) for tp in answer.topic_partitions
                         if tp.error is None]
            result[group] = select_committed(committed, topics)
        return result

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


# --------------------------------------------------------------------------------------------
# Orchestration


def topic_pairs(topics, option="topics"):
    """``[(destination name, source name), ...]`` from topic entries, in order, without repeats.

    An entry is a topic name (the same on both clusters) or a mapping as mirror_topic takes it:
    ``name`` (the topic on the destination, for example a mirror with the link's prefix),
    ``source_topic_name`` (the topic on the source; default ``name``) and ``configs`` (ignored).
    Raises ValueError naming ``option[index]`` for an entry that is neither.
    """
    pairs = []
    seen = set()
    for index, entry in enumerate(topics or []):
        where = "%s[%d]" % (option, index)
        if isinstance(entry, dict):
            unknown = sorted(str(key) for key in entry if key not in ("name", "source_topic_name", "configs"))
            if unknown:
                raise ValueError("%s: unknown key(s) %s; a topic is a name or a mapping with name and "
                                 "source_topic_name" % (where, ", ".join(unknown)))
            name = entry.get("name") or entry.get("source_topic_name")
            source_name = entry.get("source_topic_name") or name
        else:
            name = source_name = entry
        for value in (name, source_name):
            if not isinstance(value, str) or not value.strip():
                raise ValueError("%s: give a topic name, or a mapping with name (the topic on the destination) "
                                 "and source_topic_name (the topic on the source), got %r" % (where, entry))
        if name not in seen:
            seen.add(name)
            pairs.append((name, source_name))
    return pairs


def _by_destination(pairs, by_source):
    """Re-key a {source topic: value} dict by destination topic name."""
    return {name: by_source[source_name] for name, source_name in pairs if source_name in by_source}


def verify_migration(source, destination, topics, consumer_groups, probe, check_mode, acl_check=None):
    """Run every check. ``source``/``destination`` are ``Cluster`` objects.

    ``topics``: entries as ``topic_pairs`` takes them; checks and returned data are named by the
    destination topic. ``acl_check``: None, or a callable returning (rows, data) (see ``_acl_checks``);
    its rows come after the group rows and before the probes.

    Returns a dict with checks, failed_checks, topics, consumer_groups, acls, probe (JSON-safe).
    Raises ClusterError when a cluster cannot be used at all.
    """
    pairs = topic_pairs(topics)
    topics = [name for name, _source_name in pairs]
    source_names = list(dict.fromkeys(source_name for _name, source_name in pairs))
    source_of = dict(pairs)
    consumer_groups = list(dict.fromkeys(consumer_groups))
    source.connect()
    destination.connect()

    src_counts_by_source = source.partition_counts(source_names)
    src_counts = _by_destination(pairs, src_counts_by_source)
    dst_counts = destination.partition_counts(topics)

    # End offsets are read before the probe writes anything.
    src_end = _by_destination(pairs, source.end_offsets(src_counts_by_source))
    dst_end = destination.end_offsets(dst_counts)

    # Earlier probe runs leave records on the destination; read them back when they could explain
    # a destination that is ahead, so that a second run is still green.
    tail_ranges = {}
    for topic in topics:
        span = probe_tail_ranges(src_end.get(topic, {}), dst_end.get(topic, {}))
        if span:
            tail_ranges[topic] = (PROBE_PARTITION, span[0], span[1])
    tails = destination.count_probe_records(tail_ranges)
    probe_records = {}
    for topic, (probes, read) in tails.items():
        partition, start, end = tail_ranges[topic]
        if probes == read == end - start:
            probe_records[topic] = {partition: probes}

    checks = []
    topic_data = {}
    for topic in topics:
        source_name = source_of[topic]
        checks.extend(partition_checks(topic, src_counts.get(topic), dst_counts.get(topic), source_name))
        missing = None
        if src_counts.get(topic) is None and dst_counts.get(topic) is None:
            missing = ("topic %s does not exist on either cluster" % topic if source_name == topic else
                       "topic %s does not exist on the source nor %s on the destination" % (source_name, topic))
        elif src_counts.get(topic) is None:
            missing = "topic %s does not exist on the source" % source_name
        elif dst_counts.get(topic) is None:
            missing = "topic %s does not exist on the destination" % topic
        checks.append(compare_end_offsets(topic, src_end.get(topic, {}), dst_end.get(topic, {}),
                                          probe_records.get(topic), missing))
        topic_data[topic] = {
            "source_topic": source_name,
            "partitions": {"source": src_counts.get(topic), "destination": dst_counts.get(topic)},
            "source_end_offsets": src_end.get(topic, {}),
            "destination_end_offsets": dst_end.get(topic, {}),
            "destination_probe_records": probe_records.get(topic, {}),
        }

    group_data = {}
    if consumer_groups:
        # Ask both sides for the partitions that exist on the source.
        existing_source = {name: count for name, count in src_counts_by_source.items() if count is not None}
        existing = {topic: count for topic, count in src_counts.items() if count is not None}
        src_groups_raw = source.committed_offsets(consumer_groups, existing_source)
        src_groups = {group: _by_destination(pairs, offsets) for group, offsets in src_groups_raw.items()}
        dst_groups = destination.committed_offsets(consumer_groups, existing)
        for group in consumer_groups:
            checks.append(compare_group_offsets(group, src_groups.get(group, {}), dst_groups.get(group, {})))
            group_data[group] = {"source": src_groups.get(group, {}), "destination": dst_groups.get(group, {})}

    acl_data = {}
    if acl_check is not None:
        acl_rows, acl_data = acl_check()
        checks.extend(acl_rows)

    probe_data = {}
    if probe:
        probe_topics = [topic for topic in topics if dst_counts.get(topic)]
        if check_mode:
            raw = {topic: {"skipped": True, "ok": True, "reason": "check mode"} for topic in probe_topics}
        else:
            raw = destination.probe(probe_topics)
        for topic in topics:
            if topic not in raw:
                raw[topic] = {"skipped": True, "ok": False,
                              "reason": "topic %s does not exist on the destination" % topic}
            checks.append(probe_check(topic, raw[topic]))
            probe_data[topic] = probe_public(raw[topic])

    return {
        "checks": checks,
        "failed_checks": failed_names(checks),
        "topics": str_keys(topic_data),
        "consumer_groups": str_keys(group_data),
        "acls": acl_data,
        "probe": probe_data,
    }

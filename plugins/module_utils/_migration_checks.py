# -*- coding: utf-8 -*-
# Copyright (c) linkops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks behind ``linkops.cluster_linking.migration_verify``: the comparisons.

Pure functions (``partition_checks``, ``compare_end_offsets``, ``compare_group_offsets``,
``probe_check``, ...) turn what ``_kafka_reads.Cluster`` read into result rows
``{name, ok, detail, skipped}`` and are unit-tested without brokers; ``verify_migration`` asks both
clusters (any objects with ``Cluster``'s read methods) for what the checks need, in order (end offsets
before the probe writes), and assembles the rows and the returned data.

Offsets use int partition keys internally; ``str_keys`` makes them JSON-safe for results.
"""

from __future__ import annotations

from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_reads import PROBE_PARTITION

#: Largest gap (destination end offset minus source end offset on the probe partition) that is
#: read back to see whether it consists only of earlier probe records.
MAX_PROBE_TAIL = 1000


# --------------------------------------------------------------------------------------------
# Comparisons


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


def compare_group_offsets(group, source, destination):
    """Row ``group_offsets:G``: every partition the source group committed (on the listed topics)
    must have the same committed offset on the destination. ``source``/``destination`` are
    {topic: {partition: offset}} as built by ``_kafka_reads.select_committed``."""
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
    """Row ``probe:T`` from a probe result dict (see ``_kafka_reads.Cluster.probe``)."""
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
    """Run every check. ``source``/``destination`` are ``_kafka_reads.Cluster`` objects.

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

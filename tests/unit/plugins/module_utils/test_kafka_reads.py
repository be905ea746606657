# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Committed offsets per group: each group asked for its own commits, a bounded number in flight, counted."""

from __future__ import annotations

import pytest

confluent_kafka = pytest.importorskip("confluent_kafka")

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition  # noqa: E402

from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_reads import (  # noqa: E402
    Cluster, ClusterError)


class Answer:
    """A future of the AdminClient; counts as in flight until its result is taken."""

    def __init__(self, admin, value):
        self.admin, self.value = admin, value

    def result(self, timeout=None):
        self.admin.in_flight -= 1
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


class FakeAdmin:
    """list_consumer_group_offsets as the AdminClient offers it: one group per call, a future per group."""

    def __init__(self, commits):
        self.commits = commits  # {group: [(topic, partition, offset)]} or an exception to raise
        self.requests = []
        self.in_flight = self.most_in_flight = 0

    def list_consumer_group_offsets(self, request, request_timeout=None):
        assert len(request) == 1 and isinstance(request[0], ConsumerGroupTopicPartitions)
        group = request[0].group_id
        self.requests.append((group, request[0].topic_partitions, request_timeout))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        value = self.commits.get(group, [])
        if not isinstance(value, Exception):
            value = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p, o) for t, p, o in value])
        return {group: Answer(self, value)}


def cluster(admin, in_flight=3):
    side = Cluster("source", "broker:9092", {}, timeout=7, in_flight=in_flight)
    side._admin = admin
    return side


def test_each_group_is_asked_for_its_own_commits_only():
    admin = FakeAdmin({"g1": [("orders", 0, 5), ("orders", 1, -1), ("other", 0, 9)],
                       "g2": [("orders", 1, 3), ("payments", 0, 2), ("orders", 7, 1)]})
    side = cluster(admin)
    got = side.committed_offsets(["g1", "g2", "g3"], {"orders": 2, "payments": 1, "empty": None})
    # no partition list in the request: the broker answers with the group's own commits
    assert admin.requests == [("g1", None, 7), ("g2", None, 7), ("g3", None, 7)]
    # only the verified topics' existing partitions, only real commits (offset >= 0)
    assert got == {"g1": {"orders": {0: 5}}, "g2": {"orders": {1: 3}, "payments": {0: 2}}, "g3": {}}
    assert side.requests == 3


def test_no_more_requests_in_flight_than_the_bound_and_one_per_group():
    groups = ["g%03d" % i for i in range(500)]
    admin = FakeAdmin(dict((g, [("t%d" % (i % 20), i % 5, i)]) for i, g in enumerate(groups)))
    side = cluster(admin, in_flight=8)
    got = side.committed_offsets(groups, dict(("t%d" % i, 5) for i in range(20)))
    assert admin.most_in_flight == 8 and admin.in_flight == 0
    assert side.requests == len(admin.requests) == 500
    assert got["g123"] == {"t3": {3: 123}}


def test_without_partitions_to_verify_no_request_is_sent():
    admin = FakeAdmin({})
    assert cluster(admin).committed_offsets(["g"], {"gone": None}) == {"g": {}}
    assert admin.requests == []


def test_a_timed_out_group_read_names_the_group_and_the_cluster():
    admin = FakeAdmin({"slow": KafkaException(KafkaError(KafkaError._TIMED_OUT))})
    with pytest.raises(ClusterError) as err:
        cluster(admin).committed_offsets(["ok", "slow"], {"orders": 1})
    assert "reading committed offsets of group slow failed: timed out after 7s" in str(err.value)
    assert "source_bootstrap_servers=broker:9092" in str(err.value)

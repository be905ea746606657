# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the pure comparison logic behind migration_verify (no brokers)."""

from __future__ import annotations

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _kafka_clients as kc
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _kafka_reads as kr
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _migration_checks as mc


def by_name(rows):
    return {row["name"]: row for row in rows}


# -- partitions / existence


def test_partition_checks_equal():
    rows = by_name(mc.partition_checks("orders", 6, 6))
    assert rows["topic_exists:orders"]["ok"] is True
    assert rows["partitions:orders"]["ok"] is True
    assert rows["partitions:orders"]["detail"] == "6 partitions on both clusters"


def test_partition_checks_count_differs():
    rows = by_name(mc.partition_checks("orders", 6, 3))
    assert rows["topic_exists:orders"]["ok"] is True
    assert rows["partitions:orders"]["ok"] is False
    assert "source 6, destination 3" in rows["partitions:orders"]["detail"]


def test_partition_checks_missing_on_destination():
    rows = by_name(mc.partition_checks("orders", 6, None))
    assert rows["topic_exists:orders"]["ok"] is False
    assert rows["partitions:orders"]["ok"] is False
    assert rows["partitions:orders"]["skipped"] is True


def test_partition_checks_missing_on_source():
    rows = by_name(mc.partition_checks("orders", None, 6))
    assert rows["topic_exists:orders"]["ok"] is True
    assert rows["partitions:orders"]["ok"] is False
    assert "source" in rows["partitions:orders"]["detail"]


# -- end offsets


def test_end_offsets_equal():
    row = mc.compare_end_offsets("t", {0: 10, 1: 5}, {0: 10, 1: 5})
    assert row == {"name": "end_offsets:t", "ok": True, "detail": "end offsets equal on 2 partitions",
                   "skipped": False}


def test_end_offsets_differ_names_partition():
    row = mc.compare_end_offsets("t", {0: 10, 1: 5}, {0: 10, 1: 4})
    assert row["ok"] is False
    assert "1: source 5, destination 4" in row["detail"]


def test_end_offsets_missing_partition_on_destination():
    row = mc.compare_end_offsets("t", {0: 1, 1: 0}, {0: 1})
    assert row["ok"] is False
    assert "1: source 0, destination missing" in row["detail"]


def test_end_offsets_many_differences_are_truncated():
    src = {p: 10 for p in range(50)}
    dst = {p: 0 for p in range(50)}
    row = mc.compare_end_offsets("t", src, dst)
    assert row["ok"] is False
    assert "(50 partitions differ)" in row["detail"]
    assert row["detail"].count("source 10") == 10


def test_end_offsets_earlier_probe_records_are_accepted():
    row = mc.compare_end_offsets("t", {0: 10, 1: 5}, {0: 12, 1: 5}, probe_records={0: 2})
    assert row["ok"] is True
    assert "2 linkops probe record(s) on partition 0" in row["detail"]


def test_end_offsets_probe_records_must_explain_the_whole_gap():
    row = mc.compare_end_offsets("t", {0: 10}, {0: 13}, probe_records={0: 2})
    assert row["ok"] is False


def test_end_offsets_probe_records_do_not_excuse_destination_behind():
    row = mc.compare_end_offsets("t", {0: 10}, {0: 8}, probe_records={0: 2})
    assert row["ok"] is False


def test_end_offsets_not_compared_when_topic_missing():
    row = mc.compare_end_offsets("t", {}, {}, missing="topic t does not exist on the destination")
    assert row["ok"] is False
    assert row["skipped"] is True
    assert row["detail"].startswith("not compared:")


@pytest.mark.parametrize("src, dst, expected", [
    ({0: 10}, {0: 12}, (10, 12)),
    ({0: 10}, {0: 10}, None),          # equal: nothing to read
    ({0: 10}, {0: 9}, None),           # destination behind: never probes
    ({0: 0}, {0: 5000}, None),         # too far ahead to be probes
    ({1: 0}, {1: 3}, None),            # only the probe partition
    ({}, {0: 3}, None),
])
def test_probe_tail_ranges(src, dst, expected):
    assert mc.probe_tail_ranges(src, dst) == expected


# -- consumer group offsets


def test_select_committed_keeps_real_commits_of_listed_topics():
    committed = [("a", 0, 5), ("a", 1, -1001), ("b", 0, 7), ("other", 0, 3), ("a", 2, None)]
    assert kr.select_committed(committed, ["a", "b"]) == {"a": {0: 5}, "b": {0: 7}}


def test_group_offsets_equal():
    src = {"a": {0: 5, 1: 6}, "b": {0: 1}}
    row = mc.compare_group_offsets("g", src, {"a": {0: 5, 1: 6}, "b": {0: 1}})
    assert row["ok"] is True
    assert row["detail"] == "committed offsets equal on 3 partitions of 2 topics"


def test_group_offsets_extra_destination_commits_are_ignored():
    row = mc.compare_group_offsets("g", {"a": {0: 5}}, {"a": {0: 5, 1: 9}})
    assert row["ok"] is True


def test_group_offsets_differ():
    row = mc.compare_group_offsets("g", {"a": {0: 5, 1: 6}}, {"a": {0: 5, 1: 4}})
    assert row["ok"] is False
    assert "a[1]: source 6, destination 4" in row["detail"]


def test_group_offsets_not_committed_on_destination():
    row = mc.compare_group_offsets("g", {"a": {0: 5}}, {})
    assert row["ok"] is False
    assert "a[0]: source 5, destination not committed" in row["detail"]


def test_group_offsets_nothing_on_source_fails():
    row = mc.compare_group_offsets("g", {}, {"a": {0: 1}})
    assert row["ok"] is False
    assert "no committed offsets" in row["detail"]


# -- probe


def test_probe_check_ok():
    row = mc.probe_check("t", {"partition": 0, "offset": 41, "consumed": True, "value_match": True,
                               "header_match": True})
    assert row["ok"] is True
    assert "offset 41" in row["detail"]


def test_probe_check_mismatch():
    row = mc.probe_check("t", {"partition": 0, "offset": 41, "consumed": True, "value_match": True,
                               "header_match": False})
    assert row["ok"] is False


def test_probe_check_not_consumed_and_error():
    assert mc.probe_check("t", {"partition": 0, "offset": 1, "consumed": False})["ok"] is False
    row = mc.probe_check("t", {"partition": 0, "error": "produce failed: X"})
    assert row == {"name": "probe:t", "ok": False, "detail": "produce failed: X", "skipped": False}


def test_probe_check_skipped_in_check_mode_is_ok():
    result = {"skipped": True, "ok": True, "reason": "check mode"}
    row = mc.probe_check("t", result)
    assert row["ok"] is True and row["skipped"] is True
    assert row["detail"] == "skipped: check mode"
    assert mc.probe_public(result) == {"skipped": True, "reason": "check mode"}


def test_probe_public_hides_internal_fields():
    result = {"partition": 0, "offset": 3, "consumed": True, "value_match": True, "header_match": True}
    assert mc.probe_public(result) == {"partition": 0, "offset": 3, "consumed": True}


# -- summary helpers


def test_str_keys_recurses():
    assert mc.str_keys({"t": {0: 1, 1: {2: 3}}}) == {"t": {"0": 1, "1": {"2": 3}}}


def test_failed_names_and_message():
    rows = [mc.check("a:x", True, ""), mc.check("b:x", False, ""), mc.check("c:x", False, "")]
    assert mc.failed_names(rows) == ["b:x", "c:x"]
    assert mc.failure_message(rows) == "Migration verification failed: 2 of 3 checks failed: b:x, c:x"


def test_failure_message_is_truncated():
    rows = [mc.check("c:%d" % i, False, "") for i in range(25)]
    assert mc.failure_message(rows, limit=3).endswith("c:0, c:1, c:2, and 22 more")


def test_cluster_error_names_side_and_bootstrap():
    exc = kr.ClusterError("destination", "h:9092", "connecting", "timed out after 3s")
    assert str(exc) == ("destination cluster unusable (destination_bootstrap_servers=h:9092): "
                        "connecting failed: timed out after 3s")
    assert "\n" not in str(exc)


# -- client configuration


@pytest.mark.parametrize("key, secret", [
    ("sasl.password", True),
    ("ssl.key.password", True),
    ("ssl.keystore.password", True),
    ("sasl.jaas.config", True),
    ("sasl.oauthbearer.client.secret", True),
    ("ssl.key.pem", True),
    ("sasl.username", False),
    ("ssl.ca.location", False),
    ("security.protocol", False),
])
def test_is_secret_key(key, secret):
    assert kc.is_secret_key(key) is secret


def test_secret_values_and_mask():
    config = {"sasl.username": "u", "sasl.password": "p4ss", "ssl.key.password": 1234, "empty.secret": "",
              "other.secret": None}
    assert sorted(kc.secret_values(config)) == ["1234", "p4ss"]
    masked = kc.mask_config(config)
    assert masked["sasl.username"] == "u"
    assert masked["sasl.password"] == kc.MASK


def test_build_client_config_precedence_and_strings():
    config = kc.build_client_config(
        "b:9092",
        {"receive.message.max.bytes": 1000000000, "enable.ssl.certificate.verification": False,
         "bootstrap.servers": "ignored:1", "group.id": "mine", "skip.me": None},
        defaults={"group.id": "default", "auto.offset.reset": "error"},
        overrides={"enable.auto.commit": "false"},
    )
    assert config["bootstrap.servers"] == "b:9092"
    assert config["receive.message.max.bytes"] == "1000000000"
    assert config["enable.ssl.certificate.verification"] == "false"
    assert config["group.id"] == "mine"
    assert config["auto.offset.reset"] == "error"
    assert config["enable.auto.commit"] == "false"
    assert config["client.id"] == kc.DEFAULT_CLIENT_ID
    assert "skip.me" not in config


def test_client_log_keeps_last_error_without_prefix():
    log = kc.ClientLog("test")
    log.logger.info("CONFWARN [rdkafka#producer-1] [thrd:app]: property is a consumer property")
    assert log.last_error is None
    log.logger.info("FAIL [rdkafka#producer-1] [thrd:h:1/bootstrap]: h:1/bootstrap: Connect to h:1 failed: "
                    "Connection refused")
    assert log.last_error == "Connect to h:1 failed: Connection refused"


# -- orchestration with stand-in clusters


class FakeCluster:
    def __init__(self, counts, ends, groups=None, tails=None):
        self.counts, self.ends, self.groups, self.tails = counts, ends, groups or {}, tails or {}
        self.probed = None
        self.calls = []

    def connect(self):
        self.calls.append("connect")

    def partition_counts(self, topics):
        self.calls.append("partition_counts")
        return {t: self.counts.get(t) for t in topics}

    def end_offsets(self, counts):
        self.calls.append("end_offsets")
        return {t: dict(self.ends.get(t, {})) for t, c in counts.items() if c is not None}

    def committed_offsets(self, groups, counts):
        self.calls.append("committed_offsets")
        return {g: self.groups.get(g, {}) for g in groups}

    def count_probe_records(self, ranges):
        self.calls.append("count_probe_records")
        return {t: self.tails[t] for t in ranges}

    def probe(self, topics):
        self.probed = list(topics)
        self.calls.append("probe")
        return {t: {"partition": 0, "offset": 7, "consumed": True, "value_match": True, "header_match": True}
                for t in topics}


def test_verify_migration_all_green_with_earlier_probe_record():
    src = FakeCluster({"a": 2}, {"a": {0: 5, 1: 3}}, groups={"g": {"a": {0: 5}}})
    dst = FakeCluster({"a": 2}, {"a": {0: 6, 1: 3}}, groups={"g": {"a": {0: 5}}}, tails={"a": (1, 1)})
    result = mc.verify_migration(src, dst, ["a", "a"], ["g"], probe=True, check_mode=False)
    assert result["failed_checks"] == []
    assert [r["name"] for r in result["checks"]] == [
        "topic_exists:a", "partitions:a", "end_offsets:a", "group_offsets:g", "probe:a"]
    assert result["topics"]["a"]["destination_probe_records"] == {"0": 1}
    assert result["topics"]["a"]["source_end_offsets"] == {"0": 5, "1": 3}
    assert result["consumer_groups"] == {"g": {"source": {"a": {"0": 5}}, "destination": {"a": {"0": 5}}}}
    assert result["probe"] == {"a": {"partition": 0, "offset": 7, "consumed": True}}
    # offsets are read before the probe writes
    assert dst.calls == ["connect", "partition_counts", "end_offsets", "count_probe_records",
                         "committed_offsets", "probe"]
    assert dst.probed == ["a"]


def test_verify_migration_tail_with_foreign_record_fails():
    src = FakeCluster({"a": 1}, {"a": {0: 5}})
    dst = FakeCluster({"a": 1}, {"a": {0: 7}}, tails={"a": (1, 2)})
    result = mc.verify_migration(src, dst, ["a"], [], probe=False, check_mode=False)
    assert result["failed_checks"] == ["end_offsets:a"]
    assert result["probe"] == {}


def test_verify_migration_check_mode_skips_probe_and_missing_topic():
    src = FakeCluster({"a": 1, "b": 1}, {"a": {0: 1}, "b": {0: 1}})
    dst = FakeCluster({"a": 1}, {"a": {0: 1}})
    result = mc.verify_migration(src, dst, ["a", "b"], [], probe=True, check_mode=True)
    assert dst.probed is None
    assert result["probe"]["a"] == {"skipped": True, "reason": "check mode"}
    assert result["probe"]["b"]["skipped"] is True
    assert result["failed_checks"] == ["topic_exists:b", "partitions:b", "end_offsets:b", "probe:b"]
    assert result["topics"]["b"]["partitions"] == {"source": 1, "destination": None}


# -- topics named differently on the two clusters, and the ACL hook


def test_topic_pairs_names_and_mappings():
    assert mc.topic_pairs(["a", {"name": "p.b", "source_topic_name": "b", "configs": {}}, {"source_topic_name": "c"},
                           {"name": "d"}, "a"]) == [("a", "a"), ("p.b", "b"), ("c", "c"), ("d", "d")]


@pytest.mark.parametrize("entry, text", [
    ({"name": "x", "topic": "y"}, "topics[1]: unknown key(s) topic"),
    ({"configs": {}}, "topics[1]: give a topic name"),
    (3, "topics[1]: give a topic name"),
    ("", "topics[1]: give a topic name"),
])
def test_topic_pairs_bad_entries_name_the_index(entry, text):
    with pytest.raises(ValueError) as info:
        mc.topic_pairs(["ok", entry])
    assert str(info.value).startswith(text)


def test_verify_migration_compares_renamed_topics_and_groups():
    src = FakeCluster({"orders": 1}, {"orders": {0: 5}}, groups={"g": {"orders": {0: 5}}})
    dst = FakeCluster({"dc1.orders": 1}, {"dc1.orders": {0: 5}}, groups={"g": {"dc1.orders": {0: 5}}})
    result = mc.verify_migration(src, dst, [{"name": "dc1.orders", "source_topic_name": "orders"}], ["g"],
                                 probe=False, check_mode=False)
    assert result["failed_checks"] == []
    assert [r["name"] for r in result["checks"]] == [
        "topic_exists:dc1.orders", "partitions:dc1.orders", "end_offsets:dc1.orders", "group_offsets:g"]
    assert result["topics"]["dc1.orders"]["source_topic"] == "orders"
    assert result["topics"]["dc1.orders"]["source_end_offsets"] == {"0": 5}
    assert result["consumer_groups"]["g"]["source"] == {"dc1.orders": {"0": 5}}


def test_verify_migration_renamed_topic_missing_on_source_names_the_source_topic():
    src = FakeCluster({}, {})
    dst = FakeCluster({"dc1.orders": 1}, {"dc1.orders": {0: 5}})
    result = mc.verify_migration(src, dst, [{"name": "dc1.orders", "source_topic_name": "orders"}], [],
                                 probe=False, check_mode=False)
    rows = by_name(result["checks"])
    assert rows["partitions:dc1.orders"]["detail"] == "topic orders does not exist on the source"
    assert rows["end_offsets:dc1.orders"]["detail"] == "not compared: topic orders does not exist on the source"


def test_verify_migration_acl_rows_come_after_groups_before_probes():
    src = FakeCluster({"a": 1}, {"a": {0: 1}}, groups={"g": {"a": {0: 1}}})
    dst = FakeCluster({"a": 1}, {"a": {0: 1}}, groups={"g": {"a": {0: 1}}})
    calls = []

    def acl_check():
        calls.append(list(dst.calls))
        return [mc.check("acls:User:x", False, "1 of 1 ACLs missing")], {"acl_source": "rest"}

    result = mc.verify_migration(src, dst, ["a"], ["g"], probe=True, check_mode=False, acl_check=acl_check)
    assert [r["name"] for r in result["checks"]] == [
        "topic_exists:a", "partitions:a", "end_offsets:a", "group_offsets:g", "acls:User:x", "probe:a"]
    assert result["failed_checks"] == ["acls:User:x"]
    assert result["acls"] == {"acl_source": "rest"}
    assert "probe" not in calls[0]  # ACLs are read before the probe writes


def test_verify_migration_without_acl_check_returns_empty_acls():
    src = FakeCluster({"a": 1}, {"a": {0: 1}})
    dst = FakeCluster({"a": 1}, {"a": {0: 1}})
    assert mc.verify_migration(src, dst, ["a"], [], probe=False, check_mode=False)["acls"] == {}

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for filter documents (_filters) and link config comparison (_link_configs)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _filters as f
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_configs as lc


# -- build_filter_entries --------------------------------------------------------------------


def test_build_filter_entries_defaults_and_spelling():
    entries = f.build_filter_entries([{"name": "orders"}], "topic_filters")
    assert entries == [{"name": "orders", "patternType": "LITERAL", "filterType": "INCLUDE"}]


@pytest.mark.parametrize("pattern, filter_type", [
    ("prefixed", "exclude"), ("Prefixed", "Exclude"), (" PREFIXED ", "EXCLUDE"),
])
def test_build_filter_entries_enums_case_insensitive_written_upper(pattern, filter_type):
    entries = f.build_filter_entries([{"name": "app.", "pattern_type": pattern, "filter_type": filter_type}],
                                     "topic_filters")
    assert entries == [{"name": "app.", "patternType": "PREFIXED", "filterType": "EXCLUDE"}]


def test_build_filter_entries_bad_pattern_type_names_option_index_and_allowed_values():
    with pytest.raises(f.FilterError) as err:
        f.build_filter_entries([{"name": "a"}, {"name": "b", "pattern_type": "REGEX"}], "topic_filters")
    message = str(err.value)
    assert message.startswith("topic_filters[1].pattern_type:")
    assert "'REGEX'" in message
    assert "LITERAL" in message and "PREFIXED" in message


def test_build_filter_entries_bad_filter_type_names_option_and_allowed_values():
    with pytest.raises(f.FilterError) as err:
        f.build_filter_entries([{"name": "g", "filter_type": "whitelist"}], "consumer_group_filters")
    message = str(err.value)
    assert message.startswith("consumer_group_filters[0].filter_type:")
    assert "INCLUDE" in message and "EXCLUDE" in message


def test_filter_error_is_a_value_error():
    assert issubclass(f.FilterError, ValueError)


def test_star_needs_literal():
    with pytest.raises(f.FilterError) as err:
        f.build_filter_entries([{"name": "*", "pattern_type": "prefixed"}], "topic_filters")
    assert "topic_filters[0]" in str(err.value)
    assert "LITERAL" in str(err.value)
    assert f.build_filter_entries([{"name": "*", "pattern_type": "literal"}], "topic_filters") == [
        {"name": "*", "patternType": "LITERAL", "filterType": "INCLUDE"}]


@pytest.mark.parametrize("entry", [{}, {"name": ""}, {"name": "   "}, {"name": None}, {"name": 5}])
def test_missing_name(entry):
    with pytest.raises(f.FilterError) as err:
        f.build_filter_entries([{"name": "ok"}, entry], "topic_filters")
    assert str(err.value).startswith("topic_filters[1].name:")


def test_entry_not_a_mapping():
    with pytest.raises(f.FilterError) as err:
        f.build_filter_entries(["orders"], "topic_filters")
    assert str(err.value).startswith("topic_filters[0]:")


def test_empty_or_none_entries():
    assert f.build_filter_entries([], "topic_filters") == []
    assert f.build_filter_entries(None, "topic_filters") == []


# -- filter_document / parse -----------------------------------------------------------------


def test_filter_document_topic_exact_text():
    entries = f.build_filter_entries([
        {"name": "app1", "pattern_type": "PREFIXED"},
        {"name": "_", "pattern_type": "PREFIXED", "filter_type": "EXCLUDE"},
    ], "topic_filters")
    assert f.filter_document("topic", entries) == (
        '{"topicFilters":[{"name":"app1","patternType":"PREFIXED","filterType":"INCLUDE"},'
        '{"name":"_","patternType":"PREFIXED","filterType":"EXCLUDE"}]}')


def test_filter_document_group_exact_text():
    entries = f.build_filter_entries([{"name": "*"}], "consumer_group_filters")
    assert f.filter_document("group", entries) == (
        '{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}')


def test_filter_document_empty():
    assert f.filter_document("topic", []) == '{"topicFilters":[]}'


def test_filter_kinds_map_to_link_configs():
    assert f.FILTER_KINDS["topic"] == ("topicFilters", "auto.create.mirror.topics.filters")
    assert f.FILTER_KINDS["group"] == ("groupFilters", "consumer.offset.group.filters")


def test_parse_filter_document():
    text = '{"topicFilters":[{"name":"a","patternType":"LITERAL","filterType":"INCLUDE"}]}'
    assert f.parse_filter_document(text) == json.loads(text)
    assert f.parse_filter_document("") is None
    assert f.parse_filter_document(None) is None
    assert f.parse_filter_document("{not json") is None


# -- filter_matches --------------------------------------------------------------------------


def _entries(*specs):
    return f.build_filter_entries([dict(zip(("name", "pattern_type", "filter_type"), s)) for s in specs], "t")


@pytest.mark.parametrize("name, expected", [
    ("orders.created", True),
    ("orders.internal.x", False),   # excluded by prefix
    ("payments", True),            # literal include
    ("payments2", False),          # literal is not a prefix
    ("other", False),              # nothing includes it
])
def test_filter_matches_prefix_literal_exclude(name, expected):
    entries = _entries(("orders.", "PREFIXED", "INCLUDE"), ("payments", "LITERAL", "INCLUDE"),
                       ("orders.internal", "PREFIXED", "EXCLUDE"))
    assert f.filter_matches(entries, name) is expected


def test_filter_matches_star_and_exclude():
    entries = _entries(("*", "LITERAL", "INCLUDE"), ("_", "PREFIXED", "EXCLUDE"))
    assert f.filter_matches(entries, "anything") is True
    assert f.filter_matches(entries, "_confluent-internal") is False


def test_filter_matches_nothing_without_include():
    assert f.filter_matches([], "x") is False
    assert f.filter_matches(_entries(("x", "LITERAL", "EXCLUDE")), "y") is False


# -- normalize_value / values_equal ----------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (True, "true"), (False, "false"), (0, "0"), (10000, "10000"), ("earliest", "earliest"),
    (None, None), ({"b": 1, "a": [1, 2]}, '{"a":[1,2],"b":1}'), ([1, "x"], '[1,"x"]'),
])
def test_normalize_value(value, expected):
    assert lc.normalize_value(value) == expected


def test_normalize_value_filter_dict_round_trips():
    doc = {"topicFilters": [{"name": "a", "patternType": "LITERAL", "filterType": "INCLUDE"}]}
    assert json.loads(lc.normalize_value(doc)) == doc


def test_values_equal_plain():
    assert lc.values_equal("consumer.offset.sync.ms", "10000", "10000")
    assert not lc.values_equal("consumer.offset.sync.ms", "10000", "30000")
    assert not lc.values_equal("bootstrap.servers", "a:9092", None)


@pytest.mark.parametrize("name", sorted(lc.JSON_CONFIGS))
def test_values_equal_json_configs_by_content(name):
    wanted = '{"topicFilters":[{"name":"a","patternType":"LITERAL","filterType":"INCLUDE"}]}'
    current = ('{ "topicFilters" : [ { "filterType" : "INCLUDE", "patternType" : "LITERAL",'
               ' "name" : "a" } ] }')
    assert lc.values_equal(name, wanted, current)
    assert not lc.values_equal(
        name, wanted, '{"topicFilters":[{"name":"b","patternType":"LITERAL","filterType":"INCLUDE"}]}')


def test_values_equal_json_order_of_list_matters():
    a = '{"topicFilters":[{"name":"a"},{"name":"b"}]}'
    b = '{"topicFilters":[{"name":"b"},{"name":"a"}]}'
    assert not lc.values_equal("auto.create.mirror.topics.filters", a, b)


def test_values_equal_json_empty_and_invalid():
    name = "consumer.offset.group.filters"
    assert not lc.values_equal(name, '{"groupFilters":[]}', "")
    assert not lc.values_equal(name, '{"groupFilters":[]}', "{broken")
    assert lc.values_equal(name, "", None)  # empty and unset are both "no document"


def test_values_equal_json_looking_value_of_other_config():
    assert lc.values_equal("some.json.config", '{"a":1,"b":2}', '{"b": 2, "a": 1}')


# -- dynamic_configs -------------------------------------------------------------------------


def _entry(name, value, source="DYNAMIC_CLUSTER_LINK_CONFIG", **extra):
    entry = {"name": name, "value": value, "source": source, "is_default": source != "DYNAMIC_CLUSTER_LINK_CONFIG",
             "is_read_only": False, "is_sensitive": False}
    entry.update(extra)
    return entry


def test_dynamic_configs_only_link_source():
    entries = [
        _entry("bootstrap.servers", "src:9092"),
        _entry("consumer.offset.sync.ms", "30000", source="DEFAULT_CONFIG"),
        _entry("link.mode", "DESTINATION", source="STATIC_BROKER_CONFIG", is_default=False),
        _entry("consumer.offset.sync.enable", "true"),
    ]
    assert lc.dynamic_configs(entries) == {"bootstrap.servers": "src:9092", "consumer.offset.sync.enable": "true"}


def test_dynamic_configs_secrets_map_to_none():
    entries = [
        _entry("sasl.jaas.config", None, is_sensitive=True),
        _entry("ssl.truststore.password", "leaked?"),  # sensitive by name even if the server forgot the flag
        _entry("custom.token", "abc", is_sensitive=True),
    ]
    assert lc.dynamic_configs(entries) == {"sasl.jaas.config": None, "ssl.truststore.password": None,
                                           "custom.token": None}


def test_dynamic_configs_cp_style_sensitive_key():
    # CP spelling: sensitive / read_only, no is_default
    entries = [
        {"name": "local.sasl.jaas.config", "value": None, "source": "DYNAMIC_CLUSTER_LINK_CONFIG",
         "sensitive": True, "read_only": False},
        {"name": "ssl.keystore.key", "value": "PEM", "source": "DYNAMIC_CLUSTER_LINK_CONFIG",
         "sensitive": True, "read_only": False},
        {"name": "bootstrap.servers", "value": "s:9092", "source": "DYNAMIC_CLUSTER_LINK_CONFIG",
         "sensitive": False, "read_only": False},
        {"name": "retry.backoff.ms", "value": "100", "source": "DEFAULT_CONFIG", "sensitive": False,
         "read_only": True},
    ]
    assert lc.dynamic_configs(entries) == {"local.sasl.jaas.config": None, "ssl.keystore.key": None,
                                           "bootstrap.servers": "s:9092"}


def test_dynamic_configs_without_source_uses_is_default():
    entries = [{"name": "a", "value": "1", "is_default": False}, {"name": "b", "value": "2", "is_default": True}]
    assert lc.dynamic_configs(entries) == {"a": "1"}


# -- is_sensitive ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "sasl.jaas.config", "local.sasl.jaas.config", "ssl.truststore.password", "ssl.key.password",
    "sasl.oauthbearer.client.secret", "basic.auth.user.info", "SASL.JAAS.CONFIG",
])
def test_is_sensitive_by_name(name):
    assert lc.is_sensitive(name)


@pytest.mark.parametrize("name", ["bootstrap.servers", "sasl.mechanism", "consumer.offset.sync.enable"])
def test_is_not_sensitive_by_name(name):
    assert not lc.is_sensitive(name)
    assert lc.is_sensitive(name, {"is_sensitive": True})
    assert lc.is_sensitive(name, {"sensitive": True})


def test_is_sensitive_pem_private_key():
    assert lc.is_sensitive("ssl.keystore.key")
    assert lc.displayable_configs({"ssl.keystore.key": "-----BEGIN PRIVATE KEY-----x"}) == {}


# -- config_changes --------------------------------------------------------------------------


def test_config_changes_only_differing_keys():
    wanted = {"bootstrap.servers": "src:9092", "consumer.offset.sync.ms": "10000", "sasl.mechanism": "PLAIN"}
    current = {"bootstrap.servers": "src:9092", "consumer.offset.sync.ms": "30000"}
    assert lc.config_changes(wanted, current) == {"consumer.offset.sync.ms": "10000", "sasl.mechanism": "PLAIN"}


def test_config_changes_none_is_skipped():
    assert lc.config_changes({"a.b": None}, {}) == {}


def test_config_changes_nothing_to_do():
    wanted = {"auto.create.mirror.topics.filters":
              '{"topicFilters":[{"name":"a","patternType":"LITERAL","filterType":"INCLUDE"}]}'}
    current = {"auto.create.mirror.topics.filters":
               '{"topicFilters": [{"filterType": "INCLUDE", "name": "a", "patternType": "LITERAL"}]}'}
    assert lc.config_changes(wanted, current) == {}


def test_config_changes_leaves_unwanted_keys_alone():
    wanted = {"bootstrap.servers": "src:9092"}
    current = {"bootstrap.servers": "src:9092", "consumer.offset.sync.enable": "true", "acl.sync.enable": "true"}
    assert lc.config_changes(wanted, current) == {}


@pytest.mark.parametrize("update_password, expected", [
    ("on_create", {}),
    ("always", {"sasl.jaas.config": "JAAS-LINE"}),
])
def test_config_changes_secrets_follow_update_password(update_password, expected):
    wanted = {"sasl.jaas.config": "JAAS-LINE", "bootstrap.servers": "s:1"}
    current = {"sasl.jaas.config": None, "bootstrap.servers": "s:1"}
    assert lc.config_changes(wanted, current, update_password) == expected


def test_config_changes_secret_the_link_does_not_have_is_sent_with_on_create():
    # a secret the link does not have at all is new, not an update: on_create sends it, once
    assert lc.config_changes({"sasl.jaas.config": "X"}, {}) == {"sasl.jaas.config": "X"}
    assert lc.config_changes({"sasl.jaas.config": "X"}, {}, "always") == {"sasl.jaas.config": "X"}
    assert lc.config_changes({"sasl.jaas.config": "X"}, {"sasl.jaas.config": None}) == {}


# -- displayable_configs / secret_names ------------------------------------------------------


def test_displayable_configs_hides_secrets_and_parses_filters():
    topic_doc = '{"topicFilters":[{"name":"a","patternType":"PREFIXED","filterType":"INCLUDE"}]}'
    configs = {
        "bootstrap.servers": "src:9092",
        "sasl.jaas.config": "org.apache...PlainLoginModule required username=\"u\" password=\"p\";",
        "ssl.truststore.password": None,
        "auto.create.mirror.topics.filters": topic_doc,
        "consumer.offset.group.filters": "",
        "acl.filters": "{broken",
    }
    shown = lc.displayable_configs(configs)
    assert shown == {
        "bootstrap.servers": "src:9092",
        "auto.create.mirror.topics.filters": json.loads(topic_doc),
        "consumer.offset.group.filters": "",
        "acl.filters": "{broken",
    }
    assert list(shown) == sorted(shown)
    assert "PlainLoginModule" not in json.dumps(shown)


def test_secret_names():
    assert lc.secret_names({"sasl.jaas.config": None, "bootstrap.servers": "x", "ssl.key.password": "k"}) == [
        "sasl.jaas.config", "ssl.key.password"]

# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for link_filters: ACL filter validation (_filters), documents, canonical compare,
matching, and the pure preview helpers (_filter_preview). No brokers."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ConfigEntry,
    ResourcePatternType,
    ResourceType,
)

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _filter_preview as fp
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _filters as f
from ansible_collections.linkops.cluster_linking.plugins.modules import link_filters as module

# The example of cluster-linking-api.md section 3, in YAML form and as Confluent documents it.
BOB = {"resource_type": "topic", "resource_name": "foo", "pattern_type": "prefixed", "principal": "User:Bob",
       "host": "*", "operation": "read", "permission_type": "allow"}
BOB_JSON = ('{"aclFilters":[{"resourceFilter":{"resourceType":"topic","name":"foo","patternType":"prefixed"},'
            '"accessFilter":{"principal":"User:Bob","host":"*","operation":"read","permissionType":"allow"}}]}')
EVERYTHING = {"resource_type": "any", "pattern_type": "any", "operation": "any", "permission_type": "any"}


def acl(**changes):
    entry = dict(BOB)
    entry.update(changes)
    return entry


def error_of(entries, option="acl_filters"):
    with pytest.raises(f.FilterError) as err:
        f.build_acl_filter_entries(entries, option)
    return str(err.value)


# -- ACL filter documents -----------------------------------------------------------------------


def test_acl_document_exact_json_of_the_reference_example():
    assert f.canonical_json(f.acl_filter_document([BOB])) == BOB_JSON


def test_acl_sync_everything_leaves_optional_fields_out():
    assert f.acl_filter_document([EVERYTHING]) == {"aclFilters": [{
        "resourceFilter": {"resourceType": "any", "patternType": "any"},
        "accessFilter": {"operation": "any", "permissionType": "any"}}]}


def test_acl_optional_fields_given_as_none_are_left_out():
    # what AnsibleModule hands over for options the user did not give
    entry = dict(EVERYTHING, resource_name=None, principal=None, host=None)
    assert f.build_acl_filter_entries([entry]) == f.build_acl_filter_entries([EVERYTHING])


def test_acl_camel_case_aliases_are_accepted():
    entry = {"resourceType": "group", "name": "billing", "patternType": "literal", "operation": "read",
             "permissionType": "deny"}
    # the module's argument spec maps aliases to the snake_case keys and keeps both
    canonical = {"resource_type": "group", "resource_name": "billing", "pattern_type": "literal",
                 "operation": "read", "permission_type": "deny"}
    canonical.update(entry)
    assert f.build_acl_filter_entries([canonical]) == [{
        "resourceFilter": {"resourceType": "group", "name": "billing", "patternType": "literal"},
        "accessFilter": {"operation": "read", "permissionType": "deny"}}]


@pytest.mark.parametrize("field", ["resource_type", "pattern_type", "operation", "permission_type"])
def test_acl_required_fields_name_option_index_and_values(field):
    entry = acl()
    del entry[field]
    message = error_of([EVERYTHING, EVERYTHING, entry])
    assert message.startswith("acl_filters[2].%s: required" % field), message
    assert "any" in message


@pytest.mark.parametrize("field, value, what, allowed", [
    ("resource_type", "topics", "an ACL resource type", f.ACL_RESOURCE_TYPES),
    ("pattern_type", "regex", "an ACL pattern type", f.ACL_PATTERN_TYPES),
    ("operation", "frobnicate", "an ACL operation", f.ACL_OPERATIONS),
    ("permission_type", "maybe", "an ACL permission type", f.ACL_PERMISSION_TYPES),
])
def test_acl_unknown_values_list_the_allowed_ones(field, value, what, allowed):
    message = error_of([acl(**{field: value})])
    assert message == "acl_filters[0].%s: '%s' is not %s; use one of %s." % (field, value, what, ", ".join(allowed))


@pytest.mark.parametrize("field", ["resource_type", "operation", "permission_type", "pattern_type"])
def test_acl_unknown_enum_member_is_refused(field):
    # Kafka maps it to UNKNOWN, which the server refuses
    assert "'unknown' is not" in error_of([acl(**{field: "unknown"})])


# SecurityUtils: exact PascalCase, or the upper-cased value among the upper-cased PascalCase names.
@pytest.mark.parametrize("value", ["describeConfigs", "DescribeConfigs", "DESCRIBECONFIGS", "describeconfigs"])
def test_acl_operation_case_rules_accept(value):
    entries = f.build_acl_filter_entries([acl(operation=value)])
    assert entries[0]["accessFilter"]["operation"] == "describeConfigs"


@pytest.mark.parametrize("value", ["describe_configs", "DESCRIBE_CONFIGS", "Describe_Configs", "describe-configs"])
def test_acl_operation_underscores_are_not_stripped(value):
    message = error_of([EVERYTHING, EVERYTHING, acl(operation=value)])
    assert message.startswith("acl_filters[2].operation: '%s' is not an ACL operation; use describeConfigs" % value)


def test_acl_operation_message_of_the_brief():
    assert error_of([EVERYTHING, EVERYTHING, acl(operation="describe_configs")]) == (
        "acl_filters[2].operation: 'describe_configs' is not an ACL operation; use describeConfigs "
        "(Kafka does not accept underscores or dashes here).")


@pytest.mark.parametrize("value, canonical", [
    ("transactionalId", "transactionalId"), ("TransactionalId", "transactionalId"),
    ("TRANSACTIONALID", "transactionalId"), ("delegationtoken", "delegationToken"), ("Topic", "topic"),
    ("CLUSTER", "cluster"), ("user", "user"), ("ANY", "any"),
])
def test_acl_resource_type_spellings(value, canonical):
    entries = f.build_acl_filter_entries([acl(resource_type=value)])
    assert entries[0]["resourceFilter"]["resourceType"] == canonical


def test_acl_resource_type_with_underscore_suggests_camel_case():
    assert error_of([acl(resource_type="transactional_id")]) == (
        "acl_filters[0].resource_type: 'transactional_id' is not an ACL resource type; use transactionalId "
        "(Kafka does not accept underscores or dashes here).")


@pytest.mark.parametrize("field, value, canonical", [
    ("pattern_type", "PREFIXED", "prefixed"), ("pattern_type", "Literal", "literal"), ("pattern_type", "MATCH", "match"),
    ("permission_type", "ALLOW", "allow"), ("permission_type", "Deny", "deny"),
    ("operation", "IdempotentWrite", "idempotentWrite"), ("operation", "ALL", "all"),
    ("operation", "clusteraction", "clusterAction"),
])
def test_acl_values_written_in_documentation_spelling(field, value, canonical):
    part, key = {"pattern_type": ("resourceFilter", "patternType"),
                 "permission_type": ("accessFilter", "permissionType"),
                 "operation": ("accessFilter", "operation")}[field]
    assert f.build_acl_filter_entries([acl(**{field: value})])[0][part][key] == canonical


def test_acl_values_are_not_trimmed_but_the_fix_is_named():
    message = error_of([acl(permission_type="allow ")])
    assert "'allow ' is not an ACL permission type; use allow" in message


@pytest.mark.parametrize("principal", ["User:Bob", "User:*", "Group:ops", "User:CN=app,O=acme:x"])
def test_acl_principal_type_name_accepted(principal):
    assert f.build_acl_filter_entries([acl(principal=principal)])[0]["accessFilter"]["principal"] == principal


@pytest.mark.parametrize("principal", ["Bob", "User:", ":Bob", " :Bob"])
def test_acl_principal_must_be_type_colon_name(principal):
    message = error_of([acl(principal=principal)])
    assert message.startswith("acl_filters[0].principal: '%s' is not a principal; write it as Type:name" % principal)


@pytest.mark.parametrize("field", ["resource_name", "principal", "host"])
def test_acl_optional_fields_must_not_be_empty(field):
    message = error_of([acl(**{field: ""})])
    assert message.startswith("acl_filters[0].%s: give " % field)
    assert "leave the field out" in message


def test_acl_empty_list_is_refused():
    for entries in ([], None):
        message = error_of(entries)
        assert message.startswith("acl_filters: give at least one ACL filter")


def test_acl_entry_must_be_a_mapping():
    assert error_of([BOB, "User:Bob"]).startswith("acl_filters[1]: each ACL filter is a mapping")


def test_acl_unknown_fields_are_refused():
    message = error_of([acl(resourceFilter={"resourceType": "topic"})])
    assert message.startswith("acl_filters[0]: unknown field(s) resourceFilter;")
    assert "resource_type" in message


def test_acl_option_name_is_used_in_messages():
    assert error_of([acl(operation="x")], "link_acl_filters").startswith("link_acl_filters[0].operation:")


def test_acl_spec_keys_match_the_builder():
    # every option of the argument spec is read by the builder, and nothing is required in the spec
    # (so that a missing field is reported with its index)
    assert sorted(f.ACL_FILTER_ENTRY_SPEC) == sorted(row[0] for row in f._ACL_FIELDS)
    assert not any(spec.get("required") for spec in f.ACL_FILTER_ENTRY_SPEC.values())


# -- topic and group documents ------------------------------------------------------------------


def test_topic_document_exact_json_of_the_reference_example():
    doc = f.topic_filter_document([{"name": "app1", "pattern_type": "prefixed", "filter_type": "include"},
                                   {"name": "_", "pattern_type": "PREFIXED", "filter_type": "EXCLUDE"}])
    assert f.canonical_json(doc) == (
        '{"topicFilters":[{"name":"app1","patternType":"PREFIXED","filterType":"INCLUDE"},'
        '{"name":"_","patternType":"PREFIXED","filterType":"EXCLUDE"}]}')
    # the same text the existing cluster_link path stores
    assert f.canonical_json(doc) == f.filter_document("topic", doc["topicFilters"])


def test_group_document_exact_json():
    doc = f.group_filter_document([{"name": "*"}])
    assert f.canonical_json(doc) == '{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}'


def test_documents_name_their_option_in_errors():
    with pytest.raises(f.FilterError) as err:
        f.group_filter_document([{"name": "g", "filter_type": "whitelist"}])
    assert str(err.value).startswith("consumer_group_filters[0].filter_type:")
    with pytest.raises(f.FilterError) as err:
        f.topic_filter_document([{"name": "*", "pattern_type": "prefixed"}])
    assert str(err.value).startswith("topic_filters[0]:")


def test_filter_kinds_include_acl():
    assert f.FILTER_KINDS["acl"] == ("aclFilters", "acl.filters")
    assert f.filter_document("acl", f.build_acl_filter_entries([BOB])) == BOB_JSON


# -- canonical compare --------------------------------------------------------------------------


def test_documents_equal_ignores_formatting_and_key_order():
    doc = f.acl_filter_document([BOB])
    assert f.documents_equal(doc, BOB_JSON)
    assert f.documents_equal(json.dumps(doc, indent=4, sort_keys=True), doc)
    assert f.documents_equal(module.file_text(doc), BOB_JSON)


def test_documents_equal_sees_real_changes():
    doc = f.acl_filter_document([BOB])
    assert not f.documents_equal(doc, f.acl_filter_document([acl(operation="write")]))
    assert not f.documents_equal(doc, f.acl_filter_document([BOB, EVERYTHING]))
    # list order is part of the content
    a = f.topic_filter_document([{"name": "a"}, {"name": "b"}])
    b = f.topic_filter_document([{"name": "b"}, {"name": "a"}])
    assert not f.documents_equal(a, b)


@pytest.mark.parametrize("text", ["", None, "{not json", "null"])
def test_documents_equal_invalid_or_empty_equals_nothing(text):
    assert not f.documents_equal(text, {"topicFilters": []})


def test_file_text_is_indented_json_with_newline():
    doc = f.group_filter_document([{"name": "*"}])
    text = module.file_text(doc)
    assert text.endswith("}\n") and text.count("\n") > 3
    assert json.loads(text) == doc
    assert list(json.loads(text)["groupFilters"][0]) == ["name", "patternType", "filterType"]


# -- ACL matching (Kafka AclBindingFilter semantics) --------------------------------------------


def binding(**changes):
    value = {"resourceType": "topic", "name": "orders", "patternType": "literal", "principal": "User:bob",
             "host": "*", "operation": "read", "permissionType": "allow"}
    value.update(changes)
    return value


def entries(**changes):
    entry = dict(EVERYTHING)
    entry.update(changes)
    return f.build_acl_filter_entries([entry])


def test_acl_match_everything():
    for b in (binding(), binding(resourceType="group", patternType="prefixed", operation="describeConfigs",
                                 permissionType="deny", principal="User:*", host="10.0.0.1")):
        assert f.acl_filter_matches(entries(), b)


def test_acl_match_resource_type():
    assert f.acl_filter_matches(entries(resource_type="topic"), binding())
    assert not f.acl_filter_matches(entries(resource_type="group"), binding())


def test_acl_prefixed_filter_selects_prefixed_acls_of_that_exact_name():
    flt = entries(resource_type="topic", resource_name="ord", pattern_type="prefixed")
    assert f.acl_filter_matches(flt, binding(name="ord", patternType="prefixed"))
    assert not f.acl_filter_matches(flt, binding(name="orders", patternType="prefixed"))
    assert not f.acl_filter_matches(flt, binding(name="ord", patternType="literal"))


def test_acl_literal_filter_selects_literal_acls_of_that_name():
    flt = entries(resource_name="orders", pattern_type="literal")
    assert f.acl_filter_matches(flt, binding())
    assert not f.acl_filter_matches(flt, binding(name="*"))
    assert not f.acl_filter_matches(flt, binding(patternType="prefixed"))


def test_acl_match_filter_selects_acls_that_apply_to_the_name():
    flt = entries(resource_name="orders.created", pattern_type="match")
    assert f.acl_filter_matches(flt, binding(name="orders.created"))
    assert f.acl_filter_matches(flt, binding(name="*"))
    assert f.acl_filter_matches(flt, binding(name="orders.", patternType="prefixed"))
    assert not f.acl_filter_matches(flt, binding(name="payments.", patternType="prefixed"))
    assert not f.acl_filter_matches(flt, binding(name="orders"))


def test_acl_any_pattern_with_name_selects_that_name_of_any_pattern_type():
    flt = entries(resource_name="orders")
    assert f.acl_filter_matches(flt, binding())
    assert f.acl_filter_matches(flt, binding(patternType="prefixed"))
    assert not f.acl_filter_matches(flt, binding(name="orders2"))


def test_acl_access_filter_fields():
    assert f.acl_filter_matches(entries(principal="User:bob"), binding())
    assert not f.acl_filter_matches(entries(principal="User:alice"), binding())
    assert not f.acl_filter_matches(entries(principal="User:*"), binding())  # exact, as Kafka compares it
    assert not f.acl_filter_matches(entries(host="10.0.0.1"), binding())
    assert f.acl_filter_matches(entries(operation="read"), binding())
    assert not f.acl_filter_matches(entries(operation="write"), binding())
    assert f.acl_filter_matches(entries(permission_type="allow"), binding())
    assert not f.acl_filter_matches(entries(permission_type="deny"), binding())


def test_acl_match_any_entry_of_several():
    flt = f.build_acl_filter_entries([dict(EVERYTHING, resource_type="group"), dict(EVERYTHING, operation="read")])
    assert f.acl_filter_matches(flt, binding())
    assert not f.acl_filter_matches(flt, binding(operation="write"))


# -- preview helpers ----------------------------------------------------------------------------


def test_split_topics_keeps_internal_topics_apart():
    flt = f.build_filter_entries([{"name": "*"}, {"name": "other"}, {"name": "legacy.", "pattern_type": "PREFIXED",
                                                                     "filter_type": "EXCLUDE"}], "topic_filters")
    names = ["other", "app1.orders", "__consumer_offsets", "_schemas", "legacy.x", "app1.pay"]
    assert fp.split_topics(flt, names) == {
        "matched": ["app1.orders", "app1.pay", "other"],
        "not_matched": ["legacy.x"],
        "internal_matched": ["__consumer_offsets", "_schemas"],
        "total": 6,
    }


def test_split_topics_internal_topics_not_selected_are_left_out():
    flt = f.build_filter_entries([{"name": "app1", "pattern_type": "PREFIXED"}], "topic_filters")
    assert fp.split_topics(flt, ["_schemas", "app1.x", "b"]) == {
        "matched": ["app1.x"], "not_matched": ["b"], "internal_matched": [], "total": 3}


def test_split_groups():
    flt = f.build_filter_entries([{"name": "app1", "pattern_type": "PREFIXED"},
                                  {"name": "app1-test", "filter_type": "EXCLUDE"}], "consumer_group_filters")
    assert fp.split_groups(flt, ["app1-test", "app1-consumer", "other", "_confluent-x"]) == {
        "matched": ["app1-consumer"], "not_matched": ["_confluent-x", "app1-test", "other"], "total": 4}


@pytest.mark.parametrize("name, spelling", [
    ("TOPIC", "topic"), ("TRANSACTIONAL_ID", "transactionalId"), ("BROKER", "cluster"),
    ("DESCRIBE_CONFIGS", "describeConfigs"), ("IDEMPOTENT_WRITE", "idempotentWrite"), ("ALLOW", "allow"),
    ("PREFIXED", "prefixed"),
])
def test_enum_spelling(name, spelling):
    assert fp.enum_spelling(name) == spelling


def test_binding_dict_from_confluent_kafka_binding():
    real = AclBinding(ResourceType.BROKER, "kafka-cluster", ResourcePatternType.LITERAL, "User:ops", "*",
                      AclOperation.DESCRIBE_CONFIGS, AclPermissionType.ALLOW)
    assert fp.binding_dict(real) == {"resourceType": "cluster", "name": "kafka-cluster", "patternType": "literal",
                                     "principal": "User:ops", "host": "*", "operation": "describeConfigs",
                                     "permissionType": "allow"}


def test_binding_spelling_is_accepted_by_the_validator():
    # what the preview shows can be copied back into acl_filters
    for operation in AclOperation:
        if operation.name == "UNKNOWN":
            continue
        spelled = fp.enum_spelling(operation.name)
        assert f.build_acl_filter_entries([acl(operation=spelled)])[0]["accessFilter"]["operation"] == spelled


def test_split_acls():
    bindings = [binding(), binding(name="payments"), binding(operation="write")]
    flt = entries(resource_type="topic", resource_name="orders", pattern_type="literal", operation="any")
    result = fp.split_acls(flt, bindings)
    assert result["available"] is True and result["message"] is None
    assert result["matched"] == [binding(), binding(operation="write")]
    assert (result["not_matched_count"], result["total"]) == (1, 3)


def test_acls_unavailable():
    expected = {"available": False, "message": fp.NO_AUTHORIZER, "matched": [], "not_matched_count": 0, "total": 0}
    assert fp.acls_unavailable(fp.NO_AUTHORIZER) == expected


def test_empty_acl_listing_without_authorizer_config():
    bindings, message = fp.empty_acl_listing(None)
    assert bindings is None
    assert message.startswith("ACL preview unavailable: the cluster has no authorizer")


@pytest.mark.parametrize("value", ["", None])
def test_empty_acl_listing_with_empty_authorizer(value):
    bindings, message = fp.empty_acl_listing(ConfigEntry("authorizer.class.name", value))
    assert bindings is None
    assert message == "ACL preview unavailable: the cluster has no authorizer (authorizer.class.name is empty)"


def test_empty_acl_listing_with_an_authorizer_is_available_but_says_why_it_may_be_empty():
    authorizer = "io.confluent.kafka.security.authorizer.ConfluentServerAuthorizer"
    bindings, message = fp.empty_acl_listing(ConfigEntry("authorizer.class.name", authorizer))
    assert bindings == []
    assert authorizer in message and "DESCRIBE on the cluster" in message

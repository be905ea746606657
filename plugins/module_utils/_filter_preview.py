# -*- coding: utf-8 -*-
# Copyright (c) linkops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Preview of what link filters select on the source cluster (``link_filters`` module).

Two layers, like ``_migration_checks`` (comparisons) over ``_kafka_reads`` (reads):

* pure functions (``split_topics``, ``split_groups``, ``binding_dict``, ``split_acls``) that apply
  validated filter entries (see ``_filters``) to names and ACL bindings; unit-tested without brokers;
* ``SourcePreview``: one AdminClient call each for topics (metadata), consumer groups
  (ListGroups) and ACLs (DescribeAcls with a match-everything filter); matching is done locally.
  An empty ACL listing costs two more requests (DescribeCluster, DescribeConfigs of one broker),
  since librdkafka drops the SECURITY_DISABLED error of DescribeAcls (see acl_bindings).

Read-only: nothing is created or changed on the cluster.
"""

from __future__ import annotations

from ansible_collections.linkops.cluster_linking.plugins.module_utils._filters import (
    acl_filter_matches,
    filter_matches,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_clients import (
    HAS_CONFLUENT_KAFKA,
    KafkaException,
    kafka_error_code_name,
    kafka_error_text,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_reads import Cluster

if HAS_CONFLUENT_KAFKA:
    from confluent_kafka.admin import (
        AclBindingFilter,
        ConfigResource,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

DEFAULT_CLIENT_ID = "linkops-link-filters"

#: Topics whose names start with this are internal (Kafka's __consumer_offsets and
#: __transaction_state, Confluent's _confluent-*, _schemas ...): never counted as matched.
INTERNAL_PREFIX = "_"

NO_AUTHORIZER = "ACL preview unavailable: the cluster has no authorizer"
AUTHORIZER_CONFIG = "authorizer.class.name"


# --------------------------------------------------------------------------------------------
# Pure helpers


def is_internal_topic(name):
    return name.startswith(INTERNAL_PREFIX)


def split_topics(entries, names):
    """{matched, not_matched, internal_matched, total} for source topic names.

    Internal topics (names starting with ``_``) are never in ``matched``; the ones the filters would
    select are listed in ``internal_matched``, the others are left out.
    """
    result = {"matched": [], "not_matched": [], "internal_matched": [], "total": 0}
    for name in sorted(names):
        result["total"] += 1
        selected = filter_matches(entries, name)
        if is_internal_topic(name):
            if selected:
                result["internal_matched"].append(name)
        elif selected:
            result["matched"].append(name)
        else:
            result["not_matched"].append(name)
    return result


def split_groups(entries, names):
    """{matched, not_matched, total} for consumer group ids."""
    result = {"matched": [], "not_matched": [], "total": 0}
    for name in sorted(names):
        result["total"] += 1
        result["matched" if filter_matches(entries, name) else "not_matched"].append(name)
    return result


def enum_spelling(name):
    """Kafka enum name as the filter JSON spells it: DESCRIBE_CONFIGS -> describeConfigs.

    librdkafka calls Kafka's CLUSTER resource type BROKER.
    """
    if name == "BROKER":
        return "cluster"
    parts = str(name).lower().split("_")
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


def binding_dict(binding):
    """A confluent-kafka AclBinding as a flat dict in the filter spelling."""
    return {
        "resourceType": enum_spelling(binding.restype.name),
        "name": binding.name,
        "patternType": enum_spelling(binding.resource_pattern_type.name),
        "principal": binding.principal,
        "host": binding.host,
        "operation": enum_spelling(binding.operation.name),
        "permissionType": enum_spelling(binding.permission_type.name),
    }


_BINDING_ORDER = ("resourceType", "patternType", "name", "principal", "host", "operation", "permissionType")


def _binding_key(binding):
    return tuple(binding[key] or "" for key in _BINDING_ORDER)


def split_acls(entries, bindings, message=None):
    """{available, message, matched, not_matched_count, total} for flat binding dicts."""
    matched = sorted((b for b in bindings if acl_filter_matches(entries, b)), key=_binding_key)
    return {"available": True, "message": message, "matched": matched,
            "not_matched_count": len(bindings) - len(matched), "total": len(bindings)}


def acls_unavailable(message):
    return {"available": False, "message": message, "matched": [], "not_matched_count": 0, "total": 0}


def empty_acl_listing(authorizer_entry):
    """(bindings or None, message) for an empty ACL listing, from the broker's authorizer.class.name
    config entry (a confluent-kafka ConfigEntry, or None when the broker does not report it)."""
    value = getattr(authorizer_entry, "value", None) if authorizer_entry is not None else None
    if authorizer_entry is None:
        return None, NO_AUTHORIZER + " (it lists no ACLs and does not report %s)" % AUTHORIZER_CONFIG
    if not value:
        return None, NO_AUTHORIZER + " (%s is empty)" % AUTHORIZER_CONFIG
    return [], ("the source lists no ACLs; its authorizer is %s, so either it has none or the client may not "
                "describe them (that needs DESCRIBE on the cluster)" % value)


# --------------------------------------------------------------------------------------------
# Talking to the source cluster


class SourcePreview(Cluster):
    """The source cluster, read with one AdminClient call per kind of object."""

    def __init__(self, bootstrap_servers, client_config, timeout):
        super().__init__("source", bootstrap_servers, client_config, timeout)

    def config(self, defaults=None, overrides=None):
        merged = {"client.id": DEFAULT_CLIENT_ID}
        merged.update(defaults or {})
        return super().config(merged, overrides)

    def topic_names(self):
        """All topic names (internal ones included); one Metadata request."""
        try:
            metadata = self.admin.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            self._fail("listing topics", exc)
        return list(metadata.topics)

    def group_ids(self):
        """(group ids, warnings); one ListGroups request to each broker, issued by one call."""
        try:
            listing = self._result(self.admin.list_consumer_groups(request_timeout=self.timeout),
                                   "listing consumer groups")
        except KafkaException as exc:
            self._fail("listing consumer groups", exc)
        warnings = ["listing consumer groups: %s" % kafka_error_text(err) for err in (listing.errors or [])]
        return [group.group_id for group in listing.valid], warnings

    def acl_bindings(self):
        """(flat binding dicts or None, message or None).

        One DescribeAcls request with a filter that matches every ACL. librdkafka drops the
        top-level error code of a DescribeAcls response, so a cluster without an authorizer
        (SECURITY_DISABLED) and a client that may not describe ACLs both come back as an empty
        list. Only then, one DescribeConfigs request reads a broker's authorizer.class.name to tell
        which it is. None bindings mean the ACLs could not be read; the message says why.
        """
        everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                      AclOperation.ANY, AclPermissionType.ANY)
        try:
            bindings = self._result(self.admin.describe_acls(everything, request_timeout=self.timeout),
                                    "describing ACLs")
        except KafkaException as exc:
            if kafka_error_code_name(exc) == "SECURITY_DISABLED":
                return None, NO_AUTHORIZER
            return None, "ACL preview unavailable: %s" % kafka_error_text(exc)
        if bindings:
            return [binding_dict(binding) for binding in bindings], None
        return self._empty_acl_listing()

    def _empty_acl_listing(self):
        try:
            broker = self._result(self.admin.describe_cluster(request_timeout=self.timeout),
                                  "describing the cluster").nodes[0].id
            resource = ConfigResource(ConfigResource.Type.BROKER, str(broker))
            futures = self.admin.describe_configs([resource], request_timeout=self.timeout)
            configs = self._result(list(futures.values())[0], "describing broker configs")
        except (KafkaException, IndexError) as exc:
            return None, ("ACL preview unavailable: the source lists no ACLs and its authorizer could not be "
                          "read (%s)" % kafka_error_text(exc))
        return empty_acl_listing(configs.get(AUTHORIZER_CONFIG))


def preview(source, topic_entries=None, group_entries=None, acl_entries=None):
    """What the given (validated) filter entries select on the source; None entries are skipped.

    Returns (preview dict, warnings). Raises ClusterError when the cluster cannot be used.
    """
    result = {"source_bootstrap_servers": source.bootstrap_servers}
    warnings = []
    if topic_entries is not None:
        result["topics"] = split_topics(topic_entries, source.topic_names())
    if group_entries is not None:
        groups, group_warnings = source.group_ids()
        warnings.extend(group_warnings)
        result["consumer_groups"] = split_groups(group_entries, groups)
    if acl_entries is not None:
        bindings, message = source.acl_bindings()
        result["acls"] = (acls_unavailable(message) if bindings is None
                          else split_acls(acl_entries, bindings, message))
    return result, warnings

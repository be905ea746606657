# -*- coding: utf-8 -*-
# Copyright (c) linkops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ACL check of ``linkops.cluster_linking.migration_verify``: the destination must hold every
ACL of the source that the ACL filters select (what a link with ``acl.sync.enable`` copies).

Two layers, like ``_migration_checks`` (comparisons) over ``_kafka_reads`` (reads):

* pure functions (``rest_binding``, ``binding_text``, ``compare_acls``) over flat binding dicts in
  the filter spelling of ``_filters.acl_filter_matches`` (``{resourceType: topic, name, patternType:
  literal, principal, host, operation: describeConfigs, permissionType: allow}``); unit-tested;
* readers, one per cluster, that list **all** the ACLs of a cluster in one call and leave the
  matching to ``compare_acls``: ``AdminAcls`` (one DescribeAcls request with a match-everything
  filter) and ``RestAcls`` (one ``GET /v3/clusters/{id}/acls``, plus the pages a server may link
  with ``metadata.next``). The REST reader is for clusters whose brokers have no authorizer but
  whose REST server keeps ACLs (the lab), or where only REST is reachable.

Result rows: ``acls:<principal>`` per principal that owns a selected source ACL (the missing ACLs
named in the detail); ``acls:source`` / ``acls:destination`` when a cluster's ACLs could not be read,
and ``acls:source`` when the filters select no ACL on the source (nothing to prove).
"""

from __future__ import annotations

from ansible_collections.linkops.cluster_linking.plugins.module_utils._filter_preview import (
    AUTHORIZER_CONFIG,
    binding_dict,
    enum_spelling,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._filters import acl_filter_matches
from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_clients import (
    HAS_CONFLUENT_KAFKA,
    KafkaException,
    kafka_error_code_name,
    kafka_error_text,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestError, path_quote

if HAS_CONFLUENT_KAFKA:
    from confluent_kafka.admin import (
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
        ConfigResource,
        ResourcePatternType,
        ResourceType,
    )

ACL_SOURCES = ("admin", "rest")

#: How each reader is named in messages.
SOURCE_LABELS = {"admin": "Kafka admin API", "rest": "Kafka REST API"}

#: Most missing ACLs named in one row's detail (all of them are in the returned data).
DETAIL_LIMIT = 5

#: Most pages followed through metadata.next before giving up (a server that loops).
MAX_PAGES = 1000

_BINDING_FIELDS = ("resourceType", "name", "patternType", "principal", "host", "operation", "permissionType")


class AclReadError(Exception):
    """The ACLs of one cluster could not be read; the message says why and what to do."""


# --------------------------------------------------------------------------------------------
# Pure helpers


def rest_binding(entry):
    """A Kafka REST v3 ``AclData`` entry as a flat binding dict in the filter spelling."""
    def field(key):
        value = entry.get(key)
        return None if value is None else str(value)
    return {
        "resourceType": enum_spelling(field("resource_type")),
        "name": field("resource_name"),
        "patternType": enum_spelling(field("pattern_type")),
        "principal": field("principal"),
        "host": field("host"),
        "operation": enum_spelling(field("operation")),
        "permissionType": enum_spelling(field("permission")),
    }


def binding_key(binding):
    """Identity of a binding (all seven fields); None sorts as an empty string."""
    return tuple(binding.get(key) or "" for key in _BINDING_FIELDS)


def binding_text(binding):
    """One readable line: ``ALLOW User:bob READ on topic orders (literal) from host *``."""
    return "%s %s %s on %s %s (%s) from host %s" % (
        str(binding.get("permissionType") or "?").upper(), binding.get("principal"),
        _upper_snake(binding.get("operation")), binding.get("resourceType"), binding.get("name"),
        binding.get("patternType"), binding.get("host"))


def _upper_snake(value):
    """describeConfigs -> DESCRIBE_CONFIGS (how kafka-acls prints operations)."""
    text = str(value or "?")
    out = []
    for char in text:
        if char.isupper() and out:
            out.append("_")
        out.append(char.upper())
    return "".join(out)


def _check(name, ok, detail, skipped=False):
    return {"name": name, "ok": bool(ok), "detail": detail, "skipped": bool(skipped)}


def _sorted(bindings):
    return sorted(bindings, key=binding_key)


def compare_acls(entries, source_bindings, destination_bindings, how="admin"):
    """Rows and data for the ACL check.

    ``entries``: validated ACL filter entries (``_filters.build_acl_filter_entries``).
    ``source_bindings`` / ``destination_bindings``: every ACL of each cluster as flat dicts.
    Every source ACL the filters select must exist on the destination with the same seven fields.
    ACLs the filters select that exist only on the destination do not fail the check; they are counted.

    Returns (rows, data) where data is JSON-safe.
    """
    label = SOURCE_LABELS.get(how, how)
    selected_source = _dedupe(b for b in source_bindings if acl_filter_matches(entries, b))
    selected_destination = _dedupe(b for b in destination_bindings if acl_filter_matches(entries, b))
    on_destination = set(binding_key(b) for b in selected_destination)
    on_source = set(binding_key(b) for b in selected_source)
    missing = [b for b in selected_source if binding_key(b) not in on_destination]
    destination_only = [b for b in selected_destination if binding_key(b) not in on_source]

    principals = {}
    for binding in selected_source:
        entry = principals.setdefault(binding["principal"], {"source": 0, "present": 0, "missing": 0,
                                                             "destination_only": 0})
        entry["source"] += 1
        entry["missing" if binding_key(binding) not in on_destination else "present"] += 1
    for binding in destination_only:
        if binding["principal"] in principals:
            principals[binding["principal"]]["destination_only"] += 1

    rows = []
    if not selected_source:
        rows.append(_check(
            "acls:source", False,
            "no ACL on the source matches acl_filters (%d ACLs read with the %s), so there is nothing to prove; "
            "check acl_filters, and that the source's ACLs are where acl_source reads them"
            % (len(source_bindings), label)))
    for principal in sorted(principals):
        counts = principals[principal]
        lost = [b for b in missing if b["principal"] == principal]
        if lost:
            named = "; ".join(binding_text(b) for b in lost[:DETAIL_LIMIT])
            if len(lost) > DETAIL_LIMIT:
                named += "; ... (%d missing in all)" % len(lost)
            detail = "%d of %d ACLs missing on the destination: %s" % (len(lost), counts["source"], named)
        else:
            detail = "%d ACL%s present on the destination" % (counts["source"], "" if counts["source"] == 1 else "s")
        if counts["destination_only"]:
            detail += " (%d more selected by acl_filters only on the destination)" % counts["destination_only"]
        rows.append(_check("acls:%s" % principal, not lost, detail))

    data = {
        "acl_source": how,
        "filters": entries,
        "source_total": len(source_bindings),
        "destination_total": len(destination_bindings),
        "source_selected": len(selected_source),
        "destination_selected": len(selected_destination),
        "missing": missing,
        "destination_only": destination_only,
        "principals": principals,
    }
    return rows, data


def _dedupe(bindings):
    seen = {}
    for binding in bindings:
        seen.setdefault(binding_key(binding), binding)
    return _sorted(seen.values())


def unreadable_rows(errors):
    """Rows ``acls:<side>`` for sides whose ACLs could not be read ({side: message})."""
    sides = sorted(errors, key=lambda side: side != "source")
    return [_check("acls:%s" % side, False, errors[side]) for side in sides]


def acl_checks(entries, readers, how):
    """Read every ACL of both clusters (``readers``: {"source": r, "destination": r}, each with
    ``read()``) and compare them. A cluster whose ACLs cannot be read gives a failed row naming it.

    Returns (rows, data).
    """
    bindings, errors = {}, {}
    for side in ("source", "destination"):
        try:
            bindings[side] = readers[side].read()
        except AclReadError as exc:
            errors[side] = str(exc)
    if errors:
        data = {"acl_source": how, "filters": entries, "errors": errors}
        return unreadable_rows(errors), data
    return compare_acls(entries, bindings["source"], bindings["destination"], how)


# --------------------------------------------------------------------------------------------
# Readers


class AdminAcls:
    """Every ACL of a cluster through the Kafka admin API (DescribeAcls), for ``_kafka_reads.Cluster``.

    One DescribeAcls request with a filter that matches everything. librdkafka drops the top-level
    error of a DescribeAcls response, so a cluster without an authorizer answers with an empty list;
    only then one DescribeCluster and one DescribeConfigs read ``authorizer.class.name`` to tell the
    two apart, and a cluster without an authorizer is reported as unreadable (use acl_source=rest).
    """

    def __init__(self, cluster):
        self.cluster = cluster

    def _where(self):
        return "the %s cluster's ACLs (%s_bootstrap_servers=%s)" % (
            self.cluster.side, self.cluster.side, self.cluster.bootstrap_servers)

    def read(self):
        everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                      AclOperation.ANY, AclPermissionType.ANY)
        admin = self.cluster.admin
        try:
            bindings = admin.describe_acls(everything, request_timeout=self.cluster.timeout).result(
                timeout=self.cluster.timeout + 10)
        except KafkaException as exc:
            raise AclReadError(self._explain(exc))
        except Exception as exc:  # concurrent.futures.TimeoutError and friends
            raise AclReadError("could not read %s with the Kafka admin API: %s" % (self._where(), exc))
        if bindings:
            return [binding_dict(binding) for binding in bindings]
        self._check_authorizer()
        return []

    def _explain(self, exc):
        code = kafka_error_code_name(exc)
        text = kafka_error_text(exc)
        if code == "SECURITY_DISABLED":
            return ("could not read %s with the Kafka admin API: the cluster has no authorizer (%s); if its REST "
                    "server keeps ACLs, set acl_source=rest" % (self._where(), text))
        if code == "CLUSTER_AUTHORIZATION_FAILED":
            return ("could not read %s with the Kafka admin API: %s; the client's principal needs DESCRIBE on the "
                    "cluster resource" % (self._where(), text))
        return "could not read %s with the Kafka admin API: %s" % (self._where(), text)

    def _check_authorizer(self):
        """An empty listing: fine when the cluster has an authorizer, unreadable when it has none."""
        admin, timeout = self.cluster.admin, self.cluster.timeout
        try:
            broker = admin.describe_cluster(request_timeout=timeout).result(timeout=timeout + 10).nodes[0].id
            resource = ConfigResource(ConfigResource.Type.BROKER, str(broker))
            futures = admin.describe_configs([resource], request_timeout=timeout)
            configs = list(futures.values())[0].result(timeout=timeout + 10)
        except (KafkaException, IndexError) as exc:
            raise AclReadError("%s: the Kafka admin API lists no ACLs and the broker's %s could not be read (%s)"
                               % (self._where(), AUTHORIZER_CONFIG, kafka_error_text(exc)))
        entry = configs.get(AUTHORIZER_CONFIG)
        if entry is None or not getattr(entry, "value", None):
            raise AclReadError(
                "could not read %s with the Kafka admin API: the cluster has no authorizer (%s %s), so it keeps "
                "no ACLs; where a REST server keeps them (Confluent Server's REST, the lab) set acl_source=rest"
                % (self._where(), AUTHORIZER_CONFIG, "not reported" if entry is None else "empty"))


class RestAcls:
    """Every ACL of a cluster through Kafka REST v3: ``GET /v3/clusters/{cluster_id}/acls`` without a
    filter (every ACL), following ``metadata.next`` when a server pages the list."""

    def __init__(self, client, side):
        self.client = client
        self.side = side

    def read(self):
        try:
            path = "/v3/clusters/%s/acls" % self._cluster_id()
            bindings = []
            for _page in range(MAX_PAGES):
                body = self.client.request("GET", path)
                for entry in body.get("data") or []:
                    bindings.append(rest_binding(entry))
                path = self._next_path((body.get("metadata") or {}).get("next"))
                if path is None:
                    return bindings
            raise AclReadError("could not read the %s cluster's ACLs with the Kafka REST API at %s: more than %d "
                               "pages" % (self.side, self.client.base_url, MAX_PAGES))
        except RestError as exc:
            raise AclReadError("could not read the %s cluster's ACLs with the Kafka REST API (%s_rest_url=%s): %s"
                               % (self.side, self.side, self.client.base_url, exc))

    def _cluster_id(self):
        return path_quote(self.client.cluster_id)

    def _next_path(self, url):
        """The path of the next page below the client's base URL, or None."""
        if not url:
            return None
        url = str(url)
        if url.startswith(self.client.base_url):
            return url[len(self.client.base_url):]
        # Servers may answer with another host name for themselves: keep the path from /v3 on.
        marker = url.find("/v3/")
        if marker < 0:
            raise AclReadError("could not read the %s cluster's ACLs: the REST server's next page %s is not a "
                               "Kafka REST v3 URL" % (self.side, url))
        return url[marker:]

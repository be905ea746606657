# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the ACL check of migration_verify (_acl_checks): comparison, REST and admin readers.

No services: the REST reader runs the real RestClient against a fake ``opener``; the admin reader
gets a fake AdminClient that answers with real confluent-kafka AclBinding / ConfigEntry objects.
"""

from __future__ import annotations

import io
import json
import urllib.error
from concurrent.futures import Future

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, ConfigEntry, ResourcePatternType,
                                   ResourceType)

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _acl_checks as ac
from ansible_collections.linkops.cluster_linking.plugins.module_utils._filters import build_acl_filter_entries
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestClient


def binding(**over):
    b = {"resourceType": "topic", "name": "orders", "patternType": "literal", "principal": "User:app",
         "host": "*", "operation": "read", "permissionType": "allow"}
    b.update(over)
    return b


def rest_entry(**over):
    e = {"kind": "KafkaAcl", "metadata": {"self": "http://x"}, "cluster_id": "c1", "resource_type": "TOPIC",
         "resource_name": "orders", "pattern_type": "LITERAL", "principal": "User:app", "host": "*",
         "operation": "READ", "permission": "ALLOW"}
    e.update(over)
    return e


def filters(*entries):
    return build_acl_filter_entries(list(entries), "acl_filters")


EVERYTHING_OF = {"resource_type": "any", "pattern_type": "any", "operation": "any", "permission_type": "any"}


def of_principal(principal):
    return dict(EVERYTHING_OF, principal=principal)


def by_name(rows):
    return {row["name"]: row for row in rows}


# -- pure helpers


def test_rest_binding_spells_like_the_filters():
    assert ac.rest_binding(rest_entry(resource_type="TRANSACTIONAL_ID", resource_name="tx", pattern_type="PREFIXED",
                                      operation="DESCRIBE_CONFIGS", permission="DENY")) == {
        "resourceType": "transactionalId", "name": "tx", "patternType": "prefixed", "principal": "User:app",
        "host": "*", "operation": "describeConfigs", "permissionType": "deny"}
    assert ac.rest_binding(rest_entry(resource_type="CLUSTER", resource_name="kafka-cluster"))["resourceType"] \
        == "cluster"


def test_binding_text_reads_like_kafka_acls():
    assert ac.binding_text(binding(operation="describeConfigs")) == \
        "ALLOW User:app DESCRIBE_CONFIGS on topic orders (literal) from host *"


def test_compare_all_present_one_row_per_principal():
    src = [binding(), binding(operation="write"), binding(principal="User:other")]
    dst = list(reversed(src)) + [binding(principal="User:unrelated")]
    rows, data = ac.compare_acls(filters(of_principal("User:app"), of_principal("User:other")), src, dst, "rest")
    assert [r["name"] for r in rows] == ["acls:User:app", "acls:User:other"]
    assert all(r["ok"] for r in rows)
    assert by_name(rows)["acls:User:app"]["detail"] == "2 ACLs present on the destination"
    assert by_name(rows)["acls:User:other"]["detail"] == "1 ACL present on the destination"
    assert data["source_selected"] == 3 and data["destination_selected"] == 3
    assert (data["source_total"], data["destination_total"]) == (3, 4)
    assert data["missing"] == [] and data["destination_only"] == []
    assert data["acl_source"] == "rest"


def test_compare_names_the_missing_acl():
    src = [binding(), binding(operation="write")]
    dst = [binding()]
    rows, data = ac.compare_acls(filters(of_principal("User:app")), src, dst)
    assert rows == [{"name": "acls:User:app", "ok": False, "skipped": False,
                     "detail": "1 of 2 ACLs missing on the destination: "
                               "ALLOW User:app WRITE on topic orders (literal) from host *"}]
    assert data["missing"] == [binding(operation="write")]
    assert data["principals"] == {"User:app": {"source": 2, "present": 1, "missing": 1, "destination_only": 0}}


def test_compare_every_field_counts():
    # same ACL but another host, pattern type or permission is not the same ACL
    src = [binding()]
    for different in (binding(host="10.0.0.1"), binding(patternType="prefixed"), binding(permissionType="deny")):
        rows, _data = ac.compare_acls(filters(EVERYTHING_OF), src, [different])
        assert rows[0]["ok"] is False, different


def test_compare_only_selected_acls_matter():
    src = [binding(), binding(name="payments")]
    dst = [binding()]
    flt = filters({"resource_type": "topic", "resource_name": "orders", "pattern_type": "literal",
                   "operation": "any", "permission_type": "any"})
    rows, data = ac.compare_acls(flt, src, dst)
    assert [r["ok"] for r in rows] == [True]
    assert data["source_selected"] == 1


def test_compare_destination_only_acls_are_counted_not_failed():
    src = [binding()]
    dst = [binding(), binding(operation="write")]
    rows, data = ac.compare_acls(filters(of_principal("User:app")), src, dst)
    assert rows[0]["ok"] is True
    assert "(1 more selected by acl_filters only on the destination)" in rows[0]["detail"]
    assert data["destination_only"] == [binding(operation="write")]


def test_compare_nothing_selected_on_the_source_fails():
    rows, _data = ac.compare_acls(filters(of_principal("User:nobody")), [binding()], [binding()], "admin")
    assert [r["name"] for r in rows] == ["acls:source"]
    assert rows[0]["ok"] is False
    assert "no ACL on the source matches acl_filters (1 ACLs read with the Kafka admin API)" in rows[0]["detail"]


def test_compare_many_missing_are_truncated_in_detail_but_all_returned():
    src = [binding(name="t%02d" % i) for i in range(12)]
    rows, data = ac.compare_acls(filters(EVERYTHING_OF), src, [])
    assert rows[0]["detail"].startswith("12 of 12 ACLs missing on the destination: ")
    assert rows[0]["detail"].endswith("; ... (12 missing in all)")
    assert rows[0]["detail"].count("ALLOW User:app") == ac.DETAIL_LIMIT
    assert len(data["missing"]) == 12


def test_compare_duplicates_count_once():
    rows, data = ac.compare_acls(filters(EVERYTHING_OF), [binding(), dict(binding())], [binding()])
    assert data["source_selected"] == 1
    assert rows[0]["detail"] == "1 ACL present on the destination"


class Reader:
    def __init__(self, bindings=None, error=None):
        self.bindings, self.error, self.reads = bindings, error, 0

    def read(self):
        self.reads += 1
        if self.error:
            raise ac.AclReadError(self.error)
        return self.bindings


def test_acl_checks_reads_each_cluster_once_and_compares():
    src, dst = Reader([binding()]), Reader([binding()])
    rows, data = ac.acl_checks(filters(EVERYTHING_OF), {"source": src, "destination": dst}, "rest")
    assert (src.reads, dst.reads) == (1, 1)
    assert [r["name"] for r in rows] == ["acls:User:app"] and rows[0]["ok"]
    assert data["acl_source"] == "rest"


def test_acl_checks_unreadable_sides_fail_naming_them():
    rows, data = ac.acl_checks(filters(EVERYTHING_OF),
                               {"source": Reader(error="src broken"), "destination": Reader(error="dst broken")},
                               "admin")
    assert rows == [{"name": "acls:source", "ok": False, "detail": "src broken", "skipped": False},
                    {"name": "acls:destination", "ok": False, "detail": "dst broken", "skipped": False}]
    assert data["errors"] == {"source": "src broken", "destination": "dst broken"}


# -- REST reader (real RestClient, fake opener)


class FakeResponse:
    def __init__(self, body):
        self._body = body

    def read(self):
        return self._body


class FakeOpener:
    """Answers by URL path (no query); records the URLs asked and the auth used."""

    def __init__(self, routes):
        self.routes = routes
        self.urls = []
        self.auth = []

    def __call__(self, url, data=None, headers=None, method=None, url_username=None, url_password=None, **kw):
        self.urls.append(url)
        self.auth.append((url_username, url_password, (headers or {}).get("Authorization")))
        answer = self.routes[url]
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(json.dumps(answer).encode("utf-8"))


def acl_list(entries, next_url=None):
    return {"kind": "KafkaAclList", "metadata": {"self": "x", "next": next_url}, "data": entries}


def test_rest_reader_lists_every_acl_in_one_request():
    entries = [rest_entry(), rest_entry(operation="WRITE")]
    opener = FakeOpener({"http://src:8090/kafka/v3/clusters/c1/acls": acl_list(entries)})
    client = RestClient("http://src:8090/kafka", cluster_id="c1", username="u", password="p", opener=opener,
                        sleep=lambda s: None)
    assert ac.RestAcls(client, "source").read() == [binding(), binding(operation="write")]
    assert opener.urls == ["http://src:8090/kafka/v3/clusters/c1/acls"]
    assert opener.auth == [("u", "p", None)]
    assert client.request_count == 1


def test_rest_reader_asks_the_cluster_id_and_follows_next_pages():
    opener = FakeOpener({
        "http://src/v3/clusters": {"data": [{"cluster_id": "c/1"}]},
        "http://src/v3/clusters/c%2F1/acls": acl_list([rest_entry()], "http://other-name/v3/clusters/c%2F1/acls?p=2"),
        "http://src/v3/clusters/c%2F1/acls?p=2": acl_list([rest_entry(resource_name="payments")]),
    })
    client = RestClient("http://src/v3", token="t", opener=opener, sleep=lambda s: None)
    assert ac.RestAcls(client, "source").read() == [binding(), binding(name="payments")]
    assert len(opener.urls) == 3
    assert opener.auth[0] == (None, None, "Bearer t")


def test_rest_reader_error_names_side_option_and_status():
    error = urllib.error.HTTPError("http://dst/kafka/v3/clusters/c2/acls", 401, "Unauthorized",
                                   {"Content-Type": "application/json"},
                                   io.BytesIO(b'{"error_code": 401, "message": "Unauthorized"}'))
    opener = FakeOpener({"http://dst/kafka/v3/clusters/c2/acls": error})
    client = RestClient("http://dst/kafka", cluster_id="c2", username="u", password="secret-pw", opener=opener,
                        sleep=lambda s: None)
    with pytest.raises(ac.AclReadError) as info:
        ac.RestAcls(client, "destination").read()
    text = str(info.value)
    assert text.startswith("could not read the destination cluster's ACLs with the Kafka REST API "
                           "(destination_rest_url=http://dst/kafka): ")
    assert "HTTP 401" in text and "secret-pw" not in text


def test_rest_reader_refuses_a_next_page_that_is_not_rest_v3():
    opener = FakeOpener({"http://src/v3/clusters/c1/acls": acl_list([], "http://elsewhere/page2")})
    client = RestClient("http://src", cluster_id="c1", opener=opener, sleep=lambda s: None)
    with pytest.raises(ac.AclReadError, match="not a Kafka REST v3 URL"):
        ac.RestAcls(client, "source").read()


# -- admin reader (fake AdminClient, real confluent-kafka objects)


def done(value=None, error=None):
    future = Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


class FakeNode:
    id = 1


class FakeDescription:
    nodes = [FakeNode()]


class FakeAdmin:
    def __init__(self, bindings=None, error=None, authorizer=None):
        self.bindings, self.error, self.authorizer = bindings or [], error, authorizer
        self.calls = []

    def describe_acls(self, acl_filter, request_timeout=None):
        self.calls.append(("describe_acls", acl_filter.restype.name, acl_filter.name,
                           acl_filter.resource_pattern_type.name, acl_filter.principal, acl_filter.operation.name))
        return done(self.bindings, self.error)

    def describe_cluster(self, request_timeout=None):
        self.calls.append(("describe_cluster",))
        return done(FakeDescription())

    def describe_configs(self, resources, request_timeout=None):
        self.calls.append(("describe_configs", resources[0].name))
        configs = {}
        if self.authorizer is not None:
            configs["authorizer.class.name"] = ConfigEntry("authorizer.class.name", self.authorizer)
        return {resources[0]: done(configs)}


class FakeCluster:
    side = "destination"
    bootstrap_servers = "b:9092"
    timeout = 5

    def __init__(self, admin):
        self.admin = admin


def test_admin_reader_one_describe_acls_matching_everything():
    admin = FakeAdmin([AclBinding(ResourceType.TOPIC, "orders", ResourcePatternType.LITERAL, "User:app", "*",
                                  AclOperation.READ, AclPermissionType.ALLOW),
                       AclBinding(ResourceType.BROKER, "kafka-cluster", ResourcePatternType.LITERAL, "User:app", "*",
                                  AclOperation.DESCRIBE_CONFIGS, AclPermissionType.ALLOW)])
    assert ac.AdminAcls(FakeCluster(admin)).read() == [
        binding(), binding(resourceType="cluster", name="kafka-cluster", operation="describeConfigs")]
    assert admin.calls == [("describe_acls", "ANY", None, "ANY", None, "ANY")]


def test_admin_reader_empty_listing_with_an_authorizer_is_empty():
    admin = FakeAdmin([], authorizer="org.apache.kafka.metadata.authorizer.StandardAuthorizer")
    assert ac.AdminAcls(FakeCluster(admin)).read() == []
    assert [c[0] for c in admin.calls] == ["describe_acls", "describe_cluster", "describe_configs"]


@pytest.mark.parametrize("authorizer, said", [(None, "not reported"), ("", "empty")])
def test_admin_reader_without_authorizer_points_to_acl_source_rest(authorizer, said):
    with pytest.raises(ac.AclReadError) as info:
        ac.AdminAcls(FakeCluster(FakeAdmin([], authorizer=authorizer))).read()
    text = str(info.value)
    assert "the destination cluster's ACLs (destination_bootstrap_servers=b:9092)" in text
    assert "no authorizer (authorizer.class.name %s)" % said in text
    assert "set acl_source=rest" in text


@pytest.mark.parametrize("code, hint", [(KafkaError.SECURITY_DISABLED, "set acl_source=rest"),
                                        (KafkaError.CLUSTER_AUTHORIZATION_FAILED, "DESCRIBE on the cluster")])
def test_admin_reader_errors_say_what_to_do(code, hint):
    admin = FakeAdmin(error=KafkaException(KafkaError(code)))
    with pytest.raises(ac.AclReadError, match=hint):
        ac.AdminAcls(FakeCluster(admin)).read()

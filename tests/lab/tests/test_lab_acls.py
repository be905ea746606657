"""ACLs in the lab: Kafka REST v3 /acls on both clusters, and the link's ACL sync.

The lab brokers have no authorizer, so the emulator keeps each cluster's ACLs
(linkops_lab/emulator/acls.py); these tests use them the way a migration would: create ACLs on
the source, let the link copy them, check them on the destination."""

from __future__ import annotations

import inspect
import json
import time

import pytest

from labtesting import unique, wait_until

PREFIX = "/kafka/v3"
FAST = {"pending_mirror_ms": 100, "copy_interval_ms": 50}


def cluster_rest(lab, cluster, method, path, body=None, params=None):
    """``lab.rest`` to ``cluster``'s own REST server (each lab cluster has one)."""
    if "cluster" in inspect.signature(lab.rest).parameters:
        return lab.rest(method, path, body, params=params, cluster=cluster)
    return lab.rest(method, path, body, params=params)


@pytest.fixture
def acl_rest(lab, spec):
    """``acl_rest(cluster, method, path, body=None, params=None, expect=None)``:
    a request to ``cluster``'s REST API (``path`` relative to
    ``/kafka/v3/clusters/<id>``), checked against the spec."""
    def call(cluster, method, path="/acls", body=None, params=None, expect=None, cid=None):
        full = f"{PREFIX}/clusters/{cid or lab.cluster_id(cluster)}{path}"
        status, data = cluster_rest(lab, cluster, method, full, body, params)
        spec.check(method, full, status, data, params)
        if expect is not None:
            assert status == expect, f"{method} {full} {params}: expected {expect}, got {status}: {data}"
        return status, data
    return call


def acl(principal, resource_type="TOPIC", name="orders", pattern="LITERAL", operation="READ",
        permission="ALLOW", host="*"):
    return {"resource_type": resource_type, "resource_name": name, "pattern_type": pattern,
            "principal": principal, "host": host, "operation": operation, "permission": permission}


def key(a):
    return tuple(a[k] for k in ("resource_type", "resource_name", "pattern_type", "principal",
                                "host", "operation", "permission"))


def listed(acl_rest, cluster, **params):
    _, body = acl_rest(cluster, "GET", params=params, expect=200)
    return {key(a) for a in body["data"]}


def test_create_list_delete_with_kafka_filter_semantics(acl_rest, lab):
    p = f"User:{unique('alice')}"
    orders, prefixed, wildcard, group = (acl(p), acl(p, name="orders-", pattern="PREFIXED"),
                                         acl(p, name="*", operation="DESCRIBE"),
                                         acl(p, "GROUP", "billing", permission="DENY"))
    status, body = acl_rest("destination", "POST", body=orders, expect=201)
    assert body is None
    acl_rest("destination", "POST", body=orders, expect=201)            # same ACL again: kept once
    acl_rest("destination", "POST", "/acls:batch", {"data": [prefixed, wildcard, group]}, expect=201)

    _, body = acl_rest("destination", "GET", params={"principal": p}, expect=200)
    assert body["kind"] == "KafkaAclList"
    assert body["metadata"]["self"].endswith(f"/clusters/{lab.destination_cluster_id}/acls?principal="
                                             + p.replace(":", "%3A"))
    assert {key(a) for a in body["data"]} == {key(orders), key(prefixed), key(wildcard), key(group)}
    first = next(a for a in body["data"] if key(a) == key(orders))
    assert first["kind"] == "KafkaAcl" and first["cluster_id"] == lab.destination_cluster_id
    assert first["metadata"]["self"].endswith(
        "/acls?resource_type=TOPIC&resource_name=orders&pattern_type=LITERAL&principal="
        + p.replace(":", "%3A") + "&host=*&operation=READ&permission=ALLOW")

    assert listed(acl_rest, "destination", principal=p, resource_type="GROUP") == {key(group)}
    # MATCH: every ACL that applies to the topic "orders-eu": the prefix and the wildcard
    assert listed(acl_rest, "destination", principal=p, resource_type="TOPIC", pattern_type="MATCH",
                  resource_name="orders-eu") == {key(prefixed), key(wildcard)}
    # ANY (the default) compares the name exactly, "*" included
    assert listed(acl_rest, "destination", principal=p, resource_name="*") == {key(wildcard)}
    assert listed(acl_rest, "destination", principal=p, resource_type="TOPIC",
                  pattern_type="LITERAL") == {key(orders), key(wildcard)}
    assert listed(acl_rest, "destination", principal=p, operation="DESCRIBE") == {key(wildcard)}
    assert listed(acl_rest, "destination", principal=p, permission="DENY") == {key(group)}
    assert listed(acl_rest, "destination", principal=p, host="10.0.0.1") == set()

    _, body = acl_rest("destination", "DELETE", params={
        "resource_type": "TOPIC", "resource_name": "orders", "pattern_type": "ANY",
        "principal": p, "operation": "ANY", "permission": "ANY"}, expect=200)
    assert [key(a) for a in body["data"]] == [key(orders)]
    assert listed(acl_rest, "destination", principal=p) == {key(prefixed), key(wildcard), key(group)}
    _, body = acl_rest("destination", "DELETE", params={
        "resource_type": "ANY", "pattern_type": "ANY", "principal": p, "operation": "ANY",
        "permission": "ANY"}, expect=200)
    assert {key(a) for a in body["data"]} == {key(prefixed), key(wildcard), key(group)}
    assert listed(acl_rest, "destination", principal=p) == set()
    _, body = acl_rest("destination", "DELETE", params={
        "resource_type": "ANY", "pattern_type": "ANY", "principal": p, "operation": "ANY",
        "permission": "ANY"}, expect=200)
    assert body == {"data": []}


def test_invalid_acl_requests_are_refused(acl_rest, lab):
    p = f"User:{unique('mallory')}"
    cases = [
        (acl(p, "CLUSTER", "my-cluster"), 40002, "The only valid name for the CLUSTER resource is kafka-cluster"),
        (acl(p, pattern="MATCH"), 40002, "Invalid patternType MATCH"),
        (acl(p, operation="ANY"), 40002, "Invalid operation ANY"),
        (acl(p, permission="ANY"), 40002, "Invalid permissionType ANY"),
        (acl(p, "ANY"), 40002, "Invalid resourceType ANY"),
        (acl(p, name=""), 40002, "Resource name should not be empty"),
        (acl("alice"), 40002, "principalType:principalName"),
        (acl(p, "topic"), 400, "resource_type"),
        ({k: v for k, v in acl(p).items() if k != "host"}, 400, "host"),
    ]
    for body, code, text in cases:
        _, err = acl_rest("destination", "POST", body=body, expect=400)
        assert err["error_code"] == code and text in err["message"], (body, err)
    # a batch with one bad entry creates nothing
    _, err = acl_rest("destination", "POST", "/acls:batch",
                      {"data": [acl(p), acl(p, "CLUSTER", "x")]}, expect=400)
    assert err == {"error_code": 40002, "message": "data[1]: The only valid name for the CLUSTER "
                                                   "resource is kafka-cluster"}
    assert listed(acl_rest, "destination", principal=p) == set()
    # DELETE needs the four enums (the spec's example message)
    _, err = acl_rest("destination", "DELETE", params={"principal": p}, expect=400)
    assert err == {"error_code": 400, "message": "resource_type cannot be unspecified or UNKNOWN"}
    _, err = acl_rest("destination", "GET", params={"resource_type": "BOGUS"}, expect=400)
    assert "BOGUS" in err["message"]
    _, err = acl_rest("destination", "GET", cid="no-such-cluster", expect=404)
    assert err["error_code"] == 404 and "no-such-cluster" in err["message"]


def test_each_cluster_has_its_own_acls(acl_rest, lab):
    p = f"User:{unique('bob')}"
    acl_rest("source", "POST", body=acl(p, operation="WRITE"), expect=201)
    assert listed(acl_rest, "source", principal=p) == {key(acl(p, operation="WRITE"))}
    assert listed(acl_rest, "destination", principal=p) == set()
    _, body = acl_rest("source", "GET", params={"principal": p}, expect=200)
    assert body["data"][0]["cluster_id"] == lab.source_cluster_id


def test_acl_sync_copies_matching_acls_and_deletes_stale_ones(acl_rest, rest, lab):
    p, other = f"User:{unique('app')}", f"User:{unique('ops')}"
    a = acl(p)                                               # topic ACLs of p: synced
    b = acl(p, name="app-", pattern="PREFIXED", operation="WRITE")
    c = acl(p, "GROUP", "app-group")                         # a group ACL: outside the filter
    stale = acl(p, name="retired", operation="DESCRIBE")     # on the destination only, in the filter
    local_group = acl(p, "GROUP", "dest-only")               # on the destination only, outside it
    local_other = acl(other, name="orders")                  # another principal: outside it
    acl_rest("source", "POST", "/acls:batch", {"data": [a, b, c]}, expect=201)
    acl_rest("destination", "POST", "/acls:batch", {"data": [stale, local_group, local_other]},
             expect=201)
    # values as users write them: SecurityUtils accepts PascalCase and upper case
    filters = {"aclFilters": [{"resourceFilter": {"resourceType": "Topic", "patternType": "any"},
                               "accessFilter": {"principal": p, "operation": "ANY",
                                                "permissionType": "Any"}}]}
    name = unique("aclsync")
    rest.create_link(name, configs={"acl.sync.enable": "true", "acl.sync.ms": "1000",
                                    "acl.filters": json.dumps(filters)})
    try:
        def dest():
            return listed(acl_rest, "destination", principal=p)
        wait_until(lambda: dest() == {key(a), key(b), key(local_group)}, 20,
                   "source topic ACLs on the destination, the stale one gone")
        assert listed(acl_rest, "destination", principal=other) == {key(local_other)}
        _, link = rest("GET", f"/clusters/{{D}}/links/{name}", params={"include_tasks": True},
                       expect=200)
        task = {t["task_name"]: t for t in link["tasks"]}["AclSync"]
        assert task == {"task_name": "AclSync", "state": "ACTIVE", "errors": []}

        # later changes on the source follow
        new = acl(p, name="invoices", operation="DESCRIBE_CONFIGS")
        acl_rest("source", "POST", body=new, expect=201)
        acl_rest("source", "DELETE", params={"resource_type": "TOPIC", "resource_name": "orders",
                                             "pattern_type": "LITERAL", "principal": p,
                                             "operation": "READ", "permission": "ALLOW"}, expect=200)
        wait_until(lambda: dest() == {key(b), key(new), key(local_group)}, 20,
                   "the new ACL added and the deleted one removed on the destination")
    finally:
        rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)
    # the link is gone, the synced ACLs stay
    assert listed(acl_rest, "destination", principal=p) == {key(b), key(new), key(local_group)}


def test_acl_sync_paused_link_copies_nothing(acl_rest, rest, lab):
    p = f"User:{unique('paused')}"
    filters = {"aclFilters": [{"resourceFilter": {"resourceType": "any", "patternType": "any"},
                               "accessFilter": {"principal": p, "operation": "any",
                                                "permissionType": "any"}}]}
    name = unique("aclpause")
    rest.create_link(name, configs={"acl.sync.enable": "true", "acl.sync.ms": "1000",
                                    "acl.filters": json.dumps(filters),
                                    "cluster.link.paused": "true"})
    try:
        acl_rest("source", "POST", body=acl(p), expect=201)
        _, link = rest("GET", f"/clusters/{{D}}/links/{name}", params={"include_tasks": True},
                       expect=200)
        assert {t["task_name"]: t for t in link["tasks"]}["AclSync"]["state"] == "LINK_PAUSED"
        time.sleep(2.5)  # two sync intervals
        assert listed(acl_rest, "destination", principal=p) == set()
        rest("PUT", f"/clusters/{{D}}/links/{name}/configs/cluster.link.paused", {"value": "false"},
             expect=204)
        wait_until(lambda: listed(acl_rest, "destination", principal=p) == {key(acl(p))}, 20,
                   "the ACL synced once the link is resumed")
    finally:
        rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True}, expect=200)


@pytest.mark.parametrize("bad, text", [
    ('{"aclFilters": []}', "aclFilters field cannot be empty"),
    ('{"aclFilters": [{"resourceFilter": {"resourceType": "topic", "patternType": "literal"}, '
     '"accessFilter": {"operation": "describe_configs", "permissionType": "allow"}}]}',
     "Unknown operation: describe_configs"),
    ('{"aclFilters": [{"resourceFilter": {"resourceType": "topic", "patternType": "literal", '
     '"extra": "x"}, "accessFilter": {"operation": "read", "permissionType": "allow"}}]}',
     "unrecognized field"),
    ('{"aclFilters": [{"resourceFilter": {"resourceType": "topic", "patternType": "literal"}, '
     '"accessFilter": {"principal": "alice", "operation": "read", "permissionType": "allow"}}]}',
     "principalType:principalName"),
    ('{"aclFilters": [{"resourceFilter": {"patternType": "literal"}, '
     '"accessFilter": {"operation": "read", "permissionType": "allow"}}]}',
     "resourceType field may not be null"),
])
def test_invalid_acl_filters_are_refused(rest, bad, text):
    status, err = rest.create_link(unique("badacl"), configs={"acl.sync.enable": "true",
                                                              "acl.filters": bad}, expect=None)
    assert status == 400 and err["error_code"] == 40002, err
    assert "acl.filters" in err["message"] and text in err["message"], err


def test_acls_survive_a_lab_restart(tmp_path):
    """ACLs are kept in the emulator state file: ``--keep-data`` brings them back."""
    from linkops_lab.lab import Lab
    p = "User:persisted"
    with Lab.start(tmp_path, knobs=FAST) as first:
        for cluster in ("source", "destination"):
            status, _ = cluster_rest(first, cluster, "POST",
                                     f"{PREFIX}/clusters/{first.cluster_id(cluster)}/acls",
                                     acl(p, name=cluster))
            assert status == 201
    with Lab.start(tmp_path, knobs=FAST, keep_data=True) as second:
        for cluster in ("source", "destination"):
            status, body = cluster_rest(second, cluster, "GET",
                                        f"{PREFIX}/clusters/{second.cluster_id(cluster)}/acls")
            assert status == 200 and [key(a) for a in body["data"]] == [key(acl(p, name=cluster))]
    with Lab.start(tmp_path, knobs=FAST) as fresh:   # a fresh start forgets them
        status, body = fresh.rest("GET", f"{PREFIX}/clusters/{fresh.destination_cluster_id}/acls")
        assert status == 200 and body["data"] == []

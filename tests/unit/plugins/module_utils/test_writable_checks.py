"""The writability check of migration_verify (module_utils/_writable_checks.py): no write, a clear row per topic."""

from __future__ import annotations

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _writable_checks as w
from ansible_collections.linkops.cluster_linking.plugins.module_utils._acl_checks import AclReadError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestError


def acl(principal="User:app", name="orders", pattern="literal", operation="write", permission="allow", host="*"):
    return {"resourceType": "topic", "name": name, "patternType": pattern, "principal": principal, "host": host,
            "operation": operation, "permissionType": permission}


def test_write_acl_verdicts():
    assert w.write_acl_verdict([acl()], "User:app", "orders")[0] is True
    assert w.write_acl_verdict([acl(operation="all")], "User:app", "orders")[0] is True
    assert w.write_acl_verdict([acl(name="ord", pattern="prefixed")], "User:app", "orders")[0] is True
    assert w.write_acl_verdict([acl(principal="User:*", name="*")], "User:app", "orders")[0] is True
    assert w.write_acl_verdict([acl(operation="read")], "User:app", "orders") == (
        False, "User:app has no ALLOW of WRITE on orders on the destination")
    assert w.write_acl_verdict([acl(name="other")], "User:app", "orders")[0] is False
    assert w.write_acl_verdict([acl(host="10.0.0.1")], "User:app", "orders")[0] is False
    allowed, text = w.write_acl_verdict([acl(), acl(permission="deny")], "User:app", "orders")
    assert allowed is False and "DENIED WRITE on orders" in text


def test_mirror_states():
    assert w.mirror_verdict(None) == (True, "not a mirror topic")
    assert w.mirror_verdict({"mirror_status": "STOPPED", "link_name": "l"})[0] is True
    ok, text = w.mirror_verdict({"mirror_status": "ACTIVE", "link_name": "l"})
    assert ok is False and "read-only until promoted" in text


class Rest:
    def __init__(self, mirrors=None, error=None):
        self.mirrors, self.error, self.calls = mirrors or [], error, []

    def cluster(self, method, path):
        self.calls.append((method, path))
        if self.error:
            raise RestError(self.error, status=401)
        return {"data": self.mirrors}


class Acls:
    def __init__(self, bindings=None, error=None):
        self.bindings, self.error = bindings, error

    def read(self):
        if self.error:
            raise AclReadError(self.error)
        return self.bindings


def test_rows_read_the_mirrors_once_and_name_what_was_checked():
    rest = Rest([{"mirror_topic_name": "a", "mirror_status": "STOPPED", "link_name": "l"},
                 {"mirror_topic_name": "b", "mirror_status": "ACTIVE", "link_name": "l"}])
    rows, data = w.WritableCheck(rest, "User:app", Acls([acl(name="a")]))(["a", "b", "c", "gone"], {"a", "b", "c"})
    assert rest.calls == [("GET", "/links/-/mirrors")]
    by = {r["name"]: r for r in rows}
    assert by["writable:a"]["ok"] is True and by["writable:a"]["detail"].endswith("nothing was written")
    assert by["writable:b"]["ok"] is False and "ACTIVE" in by["writable:b"]["detail"]
    assert by["writable:c"]["ok"] is False and "no ALLOW of WRITE on c" in by["writable:c"]["detail"]
    assert by["writable:gone"]["skipped"] is True
    assert data == {"mirror_state_read": True, "producer_principal": "User:app", "acls_read": True}


def test_what_cannot_be_read_is_named_and_does_not_fail():
    rows, data = w.WritableCheck(None, "User:app", Acls(error="the cluster has no authorizer"),
                                 no_rest_reason="destination_rest_url not given")(["a"], {"a"})
    assert rows[0]["ok"] is True
    assert "mirror state not read (destination_rest_url not given)" in rows[0]["detail"]
    assert "WRITE of User:app not checked: the destination's ACLs are not readable (the cluster has no authorizer)" \
        in rows[0]["detail"]
    assert data["acls_read"] is False and data["mirror_state_read"] is False
    rows, _data = w.WritableCheck(Rest(error="denied"))(["a"], {"a"})
    assert rows[0]["ok"] is True and "did not list the mirrors" in rows[0]["detail"]

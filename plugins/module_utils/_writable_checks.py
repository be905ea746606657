# -*- coding: utf-8 -*-
# Copyright (c) linkops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The writability check of ``linkops.cluster_linking.migration_verify``: after a cutover every
migrated topic on the destination must take producers, proven **without writing** to it.

One row ``writable:T`` per topic from what is read anyway or cheaply:

* the mirror state, from one ``GET /v3/clusters/{id}/links/-/mirrors`` on the destination's REST
  endpoint: a topic still mirrored (``ACTIVE``, ``PAUSED``, ...) is read-only; ``STOPPED`` (promoted or
  failed over) or no mirror at all is writable;
* with a producer principal, the destination's ACLs (read once, as the ACL check reads them): an
  ALLOW of WRITE (or ALL) on the topic for the principal or ``User:*`` from host ``*``, and no DENY
  that matches. Where the ACLs cannot be read (no authorizer) the principal is not checked, and
  the row says so without failing.

Pure functions (``write_acl_verdict``, ``writable_rows``) over flat binding dicts in the filter spelling
(``_acl_checks``), unit-tested; ``WritableCheck`` does the two reads.
"""

from __future__ import annotations

from ansible_collections.linkops.cluster_linking.plugins.module_utils._acl_checks import AclReadError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestError

WRITE_OPERATIONS = ("write", "all")
WILDCARD_PRINCIPALS = ("User:*",)


def _row(name, ok, detail, skipped=False):
    return {"name": name, "ok": bool(ok), "detail": detail, "skipped": bool(skipped)}


def _covers(binding, topic):
    if str(binding.get("resourceType") or "").lower() != "topic":
        return False
    name, pattern = binding.get("name") or "", str(binding.get("patternType") or "").lower()
    if pattern == "literal":
        return name in (topic, "*")
    if pattern == "prefixed":
        return topic.startswith(name)
    return False


def write_acl_verdict(bindings, principal, topic):
    """(allowed, text): whether ``principal`` may write to ``topic`` by these ACL bindings."""
    principals = (principal,) + WILDCARD_PRINCIPALS
    writes = [b for b in bindings if str(b.get("operation") or "").lower() in WRITE_OPERATIONS]
    relevant = [b for b in writes if _covers(b, topic) and b.get("principal") in principals]
    denies = [b for b in relevant if str(b.get("permissionType") or "").lower() == "deny"]
    if denies:
        d = denies[0]
        return False, "%s is DENIED %s on %s by a %s ACL (%s from host %s)" % (
            principal, str(d.get("operation")).upper(), topic, d.get("patternType"), d.get("principal"), d.get("host"))
    allows = [b for b in relevant if str(b.get("permissionType") or "").lower() == "allow" and b.get("host") == "*"]
    if allows:
        a = allows[0]
        return True, "%s has %s on %s (%s %s)" % (principal, str(a.get("operation")).upper(), topic,
                                                  a.get("patternType"), a.get("name"))
    return False, "%s has no ALLOW of WRITE on %s on the destination" % (principal, topic)


def mirror_verdict(mirror):
    """(writable, text) from the destination's mirror of a topic (None: the topic is not a mirror)."""
    if mirror is None:
        return True, "not a mirror topic"
    status = mirror.get("mirror_status") or "unknown"
    link = mirror.get("link_name") or "?"
    if status == "STOPPED":
        return True, "mirror of link %s is STOPPED (promoted or failed over)" % link
    return False, "still a mirror topic of link %s (%s), so it is read-only until promoted or failed over" % (
        link, status)


def writable_rows(topics, existing, mirrors, mirrors_error, bindings, acl_error, principal):
    """Rows ``writable:T``.

    ``existing``: the topics that exist on the destination. ``mirrors``: {topic: mirror} or None when
    the mirror state was not read (``mirrors_error`` says why). ``bindings``: the destination's ACLs, or
    None when not read (``acl_error`` says why, None when no principal was given)."""
    rows = []
    for topic in topics:
        name = "writable:%s" % topic
        if topic not in existing:
            rows.append(_row(name, False, "not checked: topic %s does not exist on the destination" % topic,
                             skipped=True))
            continue
        ok, parts = True, []
        if mirrors is None:
            parts.append("mirror state not read (%s)" % mirrors_error)
        else:
            writable, text = mirror_verdict(mirrors.get(topic))
            ok = ok and writable
            parts.append(text)
        if principal:
            if bindings is None:
                parts.append("WRITE of %s not checked: %s" % (principal, acl_error))
            else:
                allowed, text = write_acl_verdict(bindings, principal, topic)
                ok = ok and allowed
                parts.append(text)
        rows.append(_row(name, ok, "; ".join(parts) + "; nothing was written"))
    return rows


class WritableCheck:
    """Reads the destination's mirrors (``rest``: a RestClient or None) and, with ``principal``, its ACLs
    (``acl_reader``: an object with ``read()`` raising ``AclReadError``, or None)."""

    def __init__(self, rest, principal=None, acl_reader=None, no_rest_reason="no destination_rest_url given"):
        self.rest = rest
        self.principal = principal
        self.acl_reader = acl_reader
        self.no_rest_reason = no_rest_reason

    def mirrors(self):
        if self.rest is None:
            return None, self.no_rest_reason
        try:
            data = self.rest.cluster("GET", "/links/-/mirrors").get("data") or []
        except RestError as exc:
            return None, "the destination's REST endpoint did not list the mirrors: %s" % exc
        return dict((m.get("mirror_topic_name"), m) for m in data), None

    def acls(self):
        if not self.principal:
            return None, None
        if self.acl_reader is None:
            return None, "no ACL reader"
        try:
            return self.acl_reader.read(), None
        except AclReadError as exc:  # the cluster has no authorizer, or the client may not describe ACLs
            return None, "the destination's ACLs are not readable (%s)" % exc

    def __call__(self, topics, existing):
        mirrors, mirrors_error = self.mirrors()
        bindings, acl_error = self.acls()
        rows = writable_rows(topics, existing, mirrors, mirrors_error, bindings, acl_error, self.principal)
        data = {"mirror_state_read": mirrors is not None, "producer_principal": self.principal,
                "acls_read": bindings is not None}
        return rows, data

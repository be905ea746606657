"""Helpers for tests that use the lab: a spec-checking REST caller and polling."""

from __future__ import annotations

import time
import uuid

import pytest


class Rest:
    """``rest(method, path, body, params=..., prefix="/kafka/v3", expect=...)``.

    ``path`` is relative to the prefix (``/clusters/...``); ``{D}`` in it is the
    destination cluster id. Returns ``(status, body)``; checks the response
    against the spec unless ``auth`` is overridden."""

    def __init__(self, lab: Lab, spec: SpecChecker):
        self.lab, self.spec = lab, spec
        self.D = lab.destination_cluster_id

    def __call__(self, method, path, body=None, *, params=None, prefix="/kafka/v3", expect=None,
                 auth=True, raw_body=None):
        full = prefix + path.replace("{D}", self.D)
        status, data = self.lab.rest(method, full, body, params=params, auth=auth, raw_body=raw_body)
        if auth is True:
            self.spec.check(method, full, status, data, params)
        if expect is not None:
            assert status == expect, f"{method} {full}: expected {expect}, got {status}: {data}"
        return status, data

    # conveniences
    def create_link(self, name, *, configs=None, source_cluster_id=None, params=None, expect=204):
        cfgs = {"bootstrap.servers": self.lab.source_bootstrap}
        cfgs.update(configs or {})
        body = {"source_cluster_id": source_cluster_id or self.lab.source_cluster_id,
                "configs": [{"name": k, "value": v} for k, v in cfgs.items()]}
        return self("POST", "/clusters/{D}/links", body, params={"link_name": name, **(params or {})},
                    expect=expect)

    def create_mirror(self, link, source_topic, expect=204, **extra):
        return self("POST", f"/clusters/{{D}}/links/{link}/mirrors",
                    {"source_topic_name": source_topic, **extra}, expect=expect)

    def mirror(self, link, topic):
        return self("GET", f"/clusters/{{D}}/links/{link}/mirrors/{topic}", expect=200)[1]

    def action(self, link, action, topics, params=None):
        return self("POST", f"/clusters/{{D}}/links/{link}/mirrors:{action}",
                    {"mirror_topic_names": topics}, params=params, expect=200)[1]

    def wait_mirror(self, link, topic, *, status="ACTIVE", lag0=True, timeout=30.0):
        def ok():
            code, m = self("GET", f"/clusters/{{D}}/links/{link}/mirrors/{topic}")
            if code == 404:  # e.g. an auto-created mirror that does not exist yet
                return None
            assert code == 200, (code, m)
            if m["mirror_status"] == status and (not lag0 or all(l["lag"] == 0 for l in m["mirror_lags"])):
                return m
            return None
        seen = []

        def ok_tracked():
            res = ok()
            if not res:
                seen[:] = [self("GET", f"/clusters/{{D}}/links/{link}/mirrors/{topic}")]
            return res
        try:
            return wait_until(ok_tracked, timeout, f"mirror {topic} of {link} to be {status}" +
                              (" with lag 0" if lag0 else ""))
        except BaseException as exc:
            raise AssertionError(f"{exc}; last response: {seen[-1] if seen else None}") from None


def wait_until(fn, timeout=30.0, what="condition", interval=0.05):
    """Poll ``fn`` until it returns a truthy value; return it or fail."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def recent_ts(i: int = 0) -> int:
    """A record timestamp one hour ago: old timestamps fall to the brokers'
    7-day time retention."""
    return int(time.time() * 1000) - 3_600_000 + i

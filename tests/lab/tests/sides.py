"""Helpers of the tests of link modes and the mirror state machine (test_lab_modes.py,
test_lab_reverse_failback.py, test_lab_mirror_lifecycle.py): ``Side``, REST calls to one lab
cluster's own REST server (responses of Cloud-spec operations checked against the spec),
``records`` to produce, ``bidi_pair`` (a BIDIRECTIONAL link on both clusters), ``bidi_mirror``
(and a mirror on it), ``cleanup`` and ``assert_error``. The fixtures ``dst`` / ``src`` (a
``Side`` of each cluster) and ``copy_running`` are in conftest.py."""

from __future__ import annotations

from labtesting import recent_ts, unique, wait_until

CLOUD_ONLY = ("promote-local-and-",)  # CP-only action names: not in the Cloud spec


class Side:
    """REST calls to one lab cluster's own REST server; ``{C}`` in a path is that
    cluster's id. Responses of Cloud-spec operations are checked against the spec."""

    def __init__(self, lab, spec, cluster):
        self.lab, self.spec, self.cluster = lab, spec, cluster
        self.cid = lab.cluster_id(cluster)
        self.bootstrap = lab.bootstrap(cluster)

    def __call__(self, method, path, body=None, *, params=None, expect=None, raw_body=None,
                 prefix="/kafka/v3"):
        full = prefix + path.replace("{C}", self.cid)
        status, data = self.lab.rest(method, full, body, params=params, raw_body=raw_body,
                                     cluster=self.cluster)
        if full.startswith(("/kafka/v3/", "/v3/")) and not any(x in full for x in CLOUD_ONLY):
            self.spec.check(method, full, status, data, params)
        if expect is not None:
            assert status == expect, f"{self.cluster}: {method} {full}: expected {expect}, got {status}: {data}"
        return status, data

    def create_link(self, name, body_ids, configs=None, params=None, expect=204):
        body = dict(body_ids)
        body["configs"] = [{"name": k, "value": v} for k, v in (configs or {}).items()]
        return self("POST", "/clusters/{C}/links", body, params={"link_name": name, **(params or {})},
                    expect=expect)

    def link(self, name):
        return self("GET", f"/clusters/{{C}}/links/{name}", expect=200)[1]

    def delete_link(self, name, force=True):
        return self("DELETE", f"/clusters/{{C}}/links/{name}", params={"force": force})

    def create_mirror(self, link, source_topic, expect=204, **extra):
        return self("POST", f"/clusters/{{C}}/links/{link}/mirrors",
                    {"source_topic_name": source_topic, **extra}, expect=expect)

    def mirror(self, link, topic, expect=200, **params):
        return self("GET", f"/clusters/{{C}}/links/{link}/mirrors/{topic}", params=params or None,
                    expect=expect)[1]

    def action(self, link, action, topics, params=None, expect=200):
        return self("POST", f"/clusters/{{C}}/links/{link}/mirrors:{action}",
                    {"mirror_topic_names": topics}, params=params, expect=expect)[1]

    def wait_mirror(self, link, topic, status="ACTIVE", lag0=True, timeout=30.0):
        last = []

        other = "source" if self.cluster == "destination" else "destination"

        def ok():
            code, m = self("GET", f"/clusters/{{C}}/links/{link}/mirrors/{topic}")
            last[:] = [(code, m)]
            if code == 200 and m["mirror_status"] == status and (
                    not lag0 or all(l["lag"] == 0 for l in m["mirror_lags"])):
                # lag 0 is computed from the last fetch when the source cannot be read at
                # that moment: also check the records themselves
                if lag0 and self.lab.end_offsets(self.cluster, topic) != self.lab.end_offsets(
                        other, m["source_topic_name"]):
                    return None
                return m
            return None
        try:
            return wait_until(ok, timeout, f"{self.cluster}: mirror {topic} of {link} to be {status}")
        except BaseException as exc:
            raise AssertionError(f"{exc}; last: {last}") from None

    def wait_link(self, name, state, timeout=20.0):
        return wait_until(lambda: (lambda l: l if l["link_state"] == state else None)(self.link(name)),
                          timeout, f"{self.cluster}: link {name} {state}")


def assert_error(body, code, *needles):
    assert isinstance(body, dict) and set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code, body
    for n in needles:
        assert n in body["message"], body


def records(n, partitions=1, tag="r"):
    return [{"partition": i % partitions, "key": f"k{i}", "value": f"{tag}-{i}",
             "headers": {"h": str(i)}, "timestamp": recent_ts(i)} for i in range(n)]


def bidi_pair(dst, src, lab, name, *, dst_configs=None, src_configs=None):
    """A BIDIRECTIONAL link ``name`` on both clusters, both OUTBOUND."""
    dst.create_link(name, {"remote_cluster_id": src.cid},
                    {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": src.bootstrap,
                     **(dst_configs or {})})
    first = dst.link(name)["cluster_link_id"]
    src.create_link(name, {"remote_cluster_id": dst.cid, "cluster_link_id": first},
                    {"link.mode": "BIDIRECTIONAL", "bootstrap.servers": dst.bootstrap,
                     **(src_configs or {})})
    return first


def bidi_mirror(dst, src, lab, link_prefix, topic_prefix):
    """``bidi_pair`` with a new one-partition topic of the source mirrored (ACTIVE, caught up) on
    the destination: returns (link name, topic)."""
    name = unique(link_prefix)
    bidi_pair(dst, src, lab, name)
    topic = unique(topic_prefix)
    lab.create_topic("source", topic, 1)
    dst.create_mirror(name, topic)
    dst.wait_mirror(name, topic)
    return name, topic


def cleanup(dst, src, name):
    dst.delete_link(name)
    src.delete_link(name)

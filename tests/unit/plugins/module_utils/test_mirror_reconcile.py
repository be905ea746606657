# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of mirror_topic's reconciler (_mirror_reconcile) and its REST calls (_mirrors).

FakeMirrorRest is a small in-memory Kafka REST v3 for the mirrors of one cluster, with the
server's own rules for batch actions (written here independently of _mirror_states), so a plan
that the reconciler lets through but the server refuses shows up as a per-topic error.
Time is faked.
"""

from __future__ import annotations

import copy
import threading
import time
from urllib.parse import unquote

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirror_reconcile as mr
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirrors
from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import RestBackend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestError

# status -> the statuses it moves to on each read of the mirror list (server-side progress)
ADVANCE = {
    "PENDING_MIRROR": "ACTIVE",
    "PENDING_STOPPED": "STOPPED",
    "PENDING_SYNCHRONIZE": "PENDING_STOPPED",
    "PENDING_SETUP_FOR_RESTORE": "PENDING_RESTORE",
    "PENDING_RESTORE": "ACTIVE",
}
# action -> (statuses the server accepts it in, status it sets)
SERVER_RULES = {
    "promote": (("ACTIVE", "PAUSED"), "PENDING_STOPPED"),
    "failover": (("ACTIVE", "PAUSED", "FAILED", "LINK_FAILED", "SOURCE_UNAVAILABLE", "LINK_PAUSED",
                  "PENDING_MIRROR"), "PENDING_STOPPED"),
    "pause": (("ACTIVE", "PAUSED"), "PAUSED"),
    "resume": (("ACTIVE", "PAUSED"), "ACTIVE"),
    "reverse-and-start-mirror": (("ACTIVE",), "PENDING_SYNCHRONIZE"),
    "reverse-and-pause-mirror": (("ACTIVE",), "PENDING_SYNCHRONIZE"),
    "truncate-and-restore": (("STOPPED",), "PENDING_SETUP_FOR_RESTORE"),
}


class FakeMirrorRest:
    """links: name -> {"configs": {...}}; mirrors: link -> {topic: mirror}; plain_topics: other topics.

    Each GET of a link's mirrors serves the current state, then advances it one step (ADVANCE),
    lets every partition lag drop by lag_drain and forgets mirrors whose topic was deleted.
    """

    def __init__(self, cluster_id="dst-1"):
        self.cluster_id = cluster_id
        self.request_count = 0
        self.calls = []
        self.links = {}
        self.mirrors = {}
        self.plain_topics = set()
        self.lag_drain = 0
        self.new_mirror_status = "PENDING_MIRROR"
        self.frozen = set()          # topics whose status never advances
        self.end_in = {}             # topic -> status it turns to (instead of ADVANCE) after an action
        self.action_errors = {}      # topic -> (code, message) a batch action answers
        self.fail = {}               # (method, path) -> RestError
        self.transition_errors = {}  # topic -> [{error_code, error_message}]
        self.deleted = set()         # topics deleted; gone from the mirror list after one more read
        self.truncated = {}          # topic -> messages truncated by truncate-and-restore
        self.time = None
        self.sleeps_at_action = []
        self.promote_needs_caught_up = True

    # -- setup ------------------------------------------------------------------------------

    def add_link(self, name, **configs):
        self.links[name] = {"configs": dict(configs)}
        self.mirrors.setdefault(name, {})

    def add_mirror(self, link, topic, status="ACTIVE", lags=(0,), source=None):
        self.mirrors.setdefault(link, {})[topic] = {
            "link_name": link, "mirror_topic_name": topic, "source_topic_name": source or topic,
            "num_partitions": len(lags), "mirror_status": status, "state_time_ms": 1,
            "mirror_topic_error": "NO_ERROR",
            "mirror_lags": [{"partition": i, "lag": lag, "last_source_fetch_offset": 100}
                            for i, lag in enumerate(lags)],
        }

    # -- inspection -------------------------------------------------------------------------

    @property
    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]

    def actions(self):
        return [(c[1].split(":", 1)[1], c[3]["mirror_topic_names"]) for c in self.writes if ":" in c[1]]

    def status(self, link, topic):
        return self.mirrors[link][topic]["mirror_status"] if topic in self.mirrors[link] else None

    # -- RestClient.cluster() ---------------------------------------------------------------

    def cluster(self, method, path, query=None, body=None):
        self.request_count += 1
        self.calls.append((method, path, copy.deepcopy(query), copy.deepcopy(body)))
        if (method, path) in self.fail:
            raise self.fail[(method, path)]
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "topics":
            return self._topics(method, parts[1:])
        name, rest = parts[1], parts[2:]
        if name not in self.links:
            raise RestError("%s %s failed: HTTP 404, error 40403: link not found" % (method, path),
                            status=404, error_code=40403, method=method)
        if rest == ["configs"]:
            configs = {"link.mode": "DESTINATION", "cluster.link.prefix": None}
            configs.update(self.links[name]["configs"])
            return {"data": [{"name": k, "value": v} for k, v in sorted(configs.items())]}
        if rest == ["mirrors"] and method == "GET":
            data = copy.deepcopy([m for t, m in sorted(self.mirrors[name].items())])
            self._advance(name)
            return {"data": data}
        if rest == ["mirrors"] and method == "POST":
            return self._create(name, body)
        if len(rest) == 2 and rest[0] == "mirrors" and method == "GET":
            mirror = self.mirrors[name].get(rest[1])
            if mirror is None:
                raise RestError("not found", status=404, error_code=40403)
            mirror = copy.deepcopy(mirror)
            if (query or {}).get("include_state_transition_errors"):
                mirror["mirror_state_transition_errors"] = self.transition_errors.get(rest[1], [])
            return mirror
        if len(rest) == 1 and rest[0].startswith("mirrors:"):
            return self._batch(name, rest[0].split(":", 1)[1], body["mirror_topic_names"], query)
        raise AssertionError("unexpected request %s %s" % (method, path))

    def _topics(self, method, rest):
        names = set(self.plain_topics)
        for mirrors in self.mirrors.values():
            names.update(mirrors)
        if method == "GET" and not rest:
            return {"data": [{"topic_name": n} for n in sorted(names)]}
        if method == "DELETE" and len(rest) == 1:
            if rest[0] not in names or rest[0] in self.deleted:
                raise RestError("DELETE failed: HTTP 404, error 40403: no topic", status=404, error_code=40403)
            self.plain_topics.discard(rest[0])
            self.deleted.add(rest[0])
            return {}
        raise AssertionError("unexpected topics request %s %s" % (method, rest))

    def _create(self, link, body):
        prefix = self.links[link]["configs"].get("cluster.link.prefix") or ""
        source = body["source_topic_name"]
        topic = body.get("mirror_topic_name") or prefix + source
        if topic != prefix + source:
            raise RestError("POST failed: HTTP 400, error 400: Topic renaming for mirroring not yet supported",
                            status=400, error_code=400)
        self.add_mirror(link, topic, status=self.new_mirror_status, source=source)
        self.mirrors[link][topic]["configs"] = dict((c["name"], c["value"]) for c in body.get("configs") or [])
        return {}

    def _advance(self, link):
        for topic in list(self.mirrors[link]):
            if topic in self.deleted:
                del self.mirrors[link][topic]
                continue
            mirror = self.mirrors[link][topic]
            if topic not in self.frozen and mirror["mirror_status"] in ADVANCE:
                mirror["mirror_status"] = ADVANCE[mirror["mirror_status"]]
            for lag in mirror["mirror_lags"]:
                lag["lag"] = max(0, lag["lag"] - self.lag_drain)

    def _batch(self, link, action, names, query):
        if self.time is not None:
            self.sleeps_at_action.append(len(self.time.sleeps))
        data = []
        allowed, to = SERVER_RULES[action]
        for topic in names:
            if action == "truncate-and-restore" and topic in self.plain_topics and topic not in self.mirrors[link]:
                self.add_mirror(link, topic, status="STOPPED")  # the old primary's topic: restorable
                self.plain_topics.discard(topic)
            mirror = self.mirrors[link].get(topic)
            code, message = self.action_errors.get(topic, (None, None))
            lags = copy.deepcopy(mirror["mirror_lags"]) if mirror else []
            if code is None and mirror is None:
                code, message = 404, "Topic '%s' is not a mirror topic of '%s'" % (topic, link)
            elif code is None and mirror["mirror_status"] not in allowed:
                code, message = 400, "Topic '%s' cannot %s in state %s" % (topic, action, mirror["mirror_status"])
            elif code is None and action == "promote" and self.promote_needs_caught_up and any(p["lag"] for p in lags):
                code, message = 400, "Topic '%s' has not caught up" % topic
            entry = {"mirror_topic_name": topic, "error_code": code, "error_message": message,
                     "mirror_lags": lags, "messages_truncated": None, "partition_level_truncation_data": []}
            if code is None:
                mirror["mirror_status"] = self.end_in.get(topic, to)
                if action == "truncate-and-restore":
                    entry["messages_truncated"] = self.truncated.get(topic, 0)
                    assert (query or {}).get("include_partition_level_truncation_data") is True
                    entry["partition_level_truncation_data"] = [
                        {"partition_id": 0, "offset_truncated_to": 10, "messages_truncated": entry["messages_truncated"]}]
            data.append(entry)
        return {"kind": "KafkaPromoteMirror", "data": data}


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def reconciler(rest, link="l1", **kwargs):
    fake_time = FakeTime()
    kwargs.setdefault("wait_timeout", 60)
    kwargs.setdefault("wait_interval", 2.0)
    rest.time = fake_time
    rec = mr.MirrorReconciler(RestBackend(rest), link, sleep=fake_time.sleep, clock=fake_time.clock, **kwargs)
    return rec, fake_time


def run(rest, topics, state, check_mode=False, link="l1", **kwargs):
    rec, fake_time = reconciler(rest, link, **kwargs)
    return rec.ensure(mr.parse_topics(topics), state, check_mode), fake_time


def rows(result):
    return dict((r["mirror_topic_name"], r) for r in result["topics"])


def fails(rest, topics, state, check_mode=False, **kwargs):
    rec, dummy = reconciler(rest, **kwargs)
    with pytest.raises(mr.MirrorFailure) as err:
        rec.ensure(mr.parse_topics(topics), state, check_mode)
    return err.value


def link_with(*mirrors, **configs):
    rest = FakeMirrorRest()
    rest.add_link("l1", **configs)
    for spec in mirrors:
        topic, status = spec[:2]
        rest.add_mirror("l1", topic, status=status, lags=spec[2] if len(spec) > 2 else (0,))
    return rest


# =============================================================================================
# parse_topics
# =============================================================================================


def test_parse_topics_names_and_dicts():
    parsed = mr.parse_topics(["a", {"name": "b.x", "source_topic_name": "src_b"}, {"name": "c-1"},
                              {"source_topic_name": "only.src", "configs": {"retention.ms": 1000, "x.flag": True}}])
    assert [p.as_tuple() for p in parsed] == [
        ("a", None, {}), ("b.x", "src_b", {}), ("c-1", None, {}),
        (None, "only.src", {"retention.ms": "1000", "x.flag": "true"})]


@pytest.mark.parametrize("bad, fragment", [
    ("bad topic", "characters Kafka refuses"),
    ("..", "not allowed"),
    (".", "not allowed"),
    ("x" * 250, "250 characters long"),
    ("", "non-empty"),
    (None, "non-empty"),
    ("t/1", "characters Kafka refuses"),
])
def test_parse_topics_rejects_illegal_names(bad, fragment):
    with pytest.raises(mr.MirrorFailure) as err:
        mr.parse_topics(["ok", bad])
    assert str(err.value).startswith("topics[1].name:")
    assert fragment in str(err.value)


def test_parse_topics_accepts_249_chars():
    assert mr.parse_topics(["x" * 249])[0].name == "x" * 249


@pytest.mark.parametrize("entry, fragment", [
    ({"name": "a", "source_topic_name": "bad topic"}, "topics[0].source_topic_name:"),
    ({"name": "a", "source": "b"}, "topics[0]: unknown keys source; use name, source_topic_name, configs."),
    ({"configs": {}}, "topics[0]: give name, source_topic_name or both."),
    ({"name": "a", "configs": ["retention.ms=1"]}, "topics[0].configs: a mapping"),
    ({"name": "a", "configs": {"retention.ms": None}}, "topics[0].configs: 'retention.ms': give a config name"),
    ({"name": "a", "configs": {"x": {"nested": 1}}}, "topics[0].configs: 'x'"),
])
def test_parse_topics_bad_entries(entry, fragment):
    with pytest.raises(mr.MirrorFailure) as err:
        mr.parse_topics([entry])
    assert fragment in str(err.value)


def test_parse_topics_duplicates_and_empty():
    with pytest.raises(mr.MirrorFailure) as err:
        mr.parse_topics(["a", {"name": "a"}])
    assert "listed twice" in str(err.value)
    with pytest.raises(mr.MirrorFailure) as err:
        mr.parse_topics([])
    assert "topics is empty" in str(err.value)


# =============================================================================================
# present / active: create, resume, wait
# =============================================================================================


def test_active_creates_missing_resumes_paused_and_leaves_active_alone():
    rest = link_with(("a", "ACTIVE"), ("b", "PAUSED"))
    result, fake_time = run(rest, ["a", "b", "c", {"name": "d", "configs": {"retention.ms": 5}}], "active")
    assert result["changed"] is True
    creates = [c for c in rest.writes if c[1] == "/links/l1/mirrors"]
    assert [c[3] for c in creates] == [{"source_topic_name": "c"},
                                       {"source_topic_name": "d", "configs": [{"name": "retention.ms", "value": "5"}]}]
    assert rest.actions() == [("resume", ["b"])]
    r = rows(result)
    assert [(n, r[n]["status_before"], r[n]["action"], r[n]["status"]) for n in "abcd"] == [
        ("a", "ACTIVE", "none", "ACTIVE"), ("b", "PAUSED", "resumed", "ACTIVE"),
        ("c", None, "created", "ACTIVE"), ("d", None, "created", "ACTIVE")]
    assert result["diff"] == {"before": {"a": "ACTIVE", "b": "PAUSED", "c": "absent", "d": "absent"},
                              "after": {"a": "ACTIVE", "b": "ACTIVE", "c": "ACTIVE", "d": "ACTIVE"}}


def test_active_no_op_costs_one_request():
    rest = link_with(("a", "ACTIVE"), ("b", "ACTIVE"))
    for wait in (True, False):
        rest.calls, rest.request_count = [], 0
        result, fake_time = run(rest, ["a", {"source_topic_name": "b"}], "active", wait=wait)
        assert result["changed"] is False
        assert [c[:2] for c in rest.calls] == [("GET", "/links/l1/mirrors")]
        assert fake_time.sleeps == []


def test_check_mode_predicts_and_writes_nothing():
    rest = link_with(("b", "PAUSED"))
    result, fake_time = run(rest, ["b", "c"], "active", check_mode=True)
    assert result["changed"] is True
    assert rest.writes == []
    assert fake_time.sleeps == []
    assert [r["action"] for r in result["topics"]] == ["resumed", "created"]
    assert [r["status"] for r in result["topics"]] == ["PAUSED", None]  # as now, in check mode
    assert result["diff"]["after"] == {"b": "ACTIVE", "c": "ACTIVE"}


def test_check_mode_on_a_link_an_earlier_task_would_create():
    rest = FakeMirrorRest()
    rec, dummy = reconciler(rest, link="new-link")
    result = rec.ensure(mr.parse_topics(["a", {"source_topic_name": "b"}]), "active", True)
    assert rec.link_missing is True
    assert result["changed"] is True
    assert [r["mirror_topic_name"] for r in result["topics"]] == ["a", "b"]
    assert rest.writes == []


def test_created_mirror_is_waited_for_until_active():
    rest = link_with()
    result, fake_time = run(rest, ["a"], "active")
    assert rows(result)["a"]["status"] == "ACTIVE"
    assert fake_time.sleeps == [2.0]  # served PENDING_MIRROR once after the create


def test_wait_false_does_not_poll():
    rest = link_with()
    result, fake_time = run(rest, ["a"], "active", wait=False)
    assert result["changed"] is True
    assert fake_time.sleeps == []
    assert rows(result)["a"]["status"] == "PENDING_MIRROR"


def test_created_mirror_that_fails_ends_the_wait_with_transition_errors():
    rest = link_with()
    rest.transition_errors["a"] = [{"error_code": "SOURCE_TOPIC_MAY_BE_DELETED", "error_message": "gone"}]
    original = rest._advance

    def advance(link):
        original(link)
        if "a" in rest.mirrors[link]:
            rest.mirrors[link]["a"]["mirror_status"] = "FAILED"
            rest.mirrors[link]["a"]["mirror_topic_error"] = "SOURCE_TOPIC_MAY_BE_DELETED"
    rest._advance = advance
    err = fails(rest, ["a"], "active")
    assert err.changed is True
    assert str(err) == ("A topic cannot get there while waiting for mirrors to reach ACTIVE: "
                        "a (FAILED, max lag 0): it ended FAILED (SOURCE_TOPIC_MAY_BE_DELETED). "
                        "State transition errors: a: SOURCE_TOPIC_MAY_BE_DELETED: gone.")
    row = err.topics[0]
    assert row["action"] == "created" and row["state_transition_errors"] == ["SOURCE_TOPIC_MAY_BE_DELETED: gone"]


def test_present_accepts_every_existing_status_and_creates_the_rest():
    rest = link_with(("a", "STOPPED"), ("b", "FAILED"), ("c", "PENDING_SYNCHRONIZE"))
    result, dummy = run(rest, ["a", "b", "c", "d"], "present")
    assert [r["action"] for r in result["topics"]] == ["none", "none", "none", "created"]
    assert rest.actions() == []


def test_stopped_topic_cannot_become_active_and_nothing_changes():
    rest = link_with(("a", "STOPPED"), ("b", "FAILED"))
    err = fails(rest, ["a", "b", "new"], "active")
    assert str(err).startswith("Cannot bring 2 of the listed topics of link l1 to state active; nothing was changed: "
                               "a is STOPPED (it stopped mirroring and is a writable topic;")
    # the link was read (to create "new"): it is not bidirectional, so restored is not offered
    assert "possible: present, promoted, failed_over, reversed, reversed_paused, absent)" in str(err)
    assert "b is FAILED (its mirror failed (see mirror_topic_error); possible: present, failed_over, absent)" in str(err)
    assert rest.writes == []
    assert [c[1] for c in rest.calls] == ["/links/l1/mirrors", "/links/l1/configs"]  # read once
    assert err.changed is False


def test_refusal_names_twenty_topics_then_counts():
    rest = link_with(*[("t%02d" % i, "FAILED") for i in range(23)])
    err = fails(rest, ["t%02d" % i for i in range(23)], "paused")
    assert "t19 is FAILED" in str(err) and "t20 is" not in str(err)
    assert str(err).endswith("; and 3 more.")


def test_plain_topic_clash_refuses_the_whole_batch_before_creating():
    rest = link_with()
    rest.plain_topics.add("plain")
    for check_mode in (True, False):
        err = fails(rest, ["new", "plain"], "active", check_mode)
        assert "plain already exists on cluster dst-1 as a topic that is not a mirror of link l1" in str(err)
        assert "nothing was created" in str(err)
    assert rest.writes == []


def test_create_error_is_reported_per_topic():
    rest = link_with()
    rest.fail[("POST", "/links/l1/mirrors")] = RestError("POST failed: HTTP 400, error 40002: no such source topic",
                                                         status=400)
    err = fails(rest, ["a"], "active")
    assert "Creating mirror topics failed: a: POST failed: HTTP 400, error 40002: no such source topic" == str(err)
    assert err.topics[0]["action"] == "failed"


class SlowCreates(FakeMirrorRest):
    """Creates take a while and run on several threads: records how many were in flight at most."""

    def __init__(self, failing=(), delay=0.02):
        super().__init__()
        self.failing, self.delay = set(failing), delay
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def cluster(self, method, path, query=None, body=None):
        if method != "POST" or not path.endswith("/mirrors"):
            return super().cluster(method, path, query, body)
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            with self.lock:
                if body["source_topic_name"] in self.failing:
                    self.request_count += 1
                    self.calls.append((method, path, None, copy.deepcopy(body)))
                    raise RestError("POST failed: HTTP 400, error 40002: no such source topic", status=400)
                return super().cluster(method, path, query, body)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_creates_run_on_a_bounded_pool_with_the_same_requests_and_results():
    names = ["t%02d" % i for i in range(24)]
    results = {}
    for parallel in (1, 4):
        rest = SlowCreates()
        rest.add_link("l1")
        result, dummy = run(rest, names, "active", parallel=parallel, wait=False)
        posts = sorted(c[3]["source_topic_name"] for c in rest.writes)
        results[parallel] = (posts, [(r["mirror_topic_name"], r["action"]) for r in result["topics"]], rest.request_count)
        assert rest.most_in_flight == parallel
    assert results[1] == results[4]
    # the creates, and the reads: mirrors, link configs (prefix), topics (clashes), mirrors after
    assert results[4][0] == names and results[4][2] == 24 + 4


def test_a_failed_create_stops_new_creates_and_each_topic_is_reported():
    rest = SlowCreates(failing={"b"})
    rest.add_link("l1")
    err = fails(rest, ["a", "b", "c", "d"], "active", parallel=1)
    assert str(err) == ("Creating mirror topics failed: b: POST failed: HTTP 400, error 40002: no such source topic. "
                        "Not sent after the failure: c, d")
    assert [c[3]["source_topic_name"] for c in rest.writes] == ["a", "b"]
    assert dict((r["mirror_topic_name"], r["action"]) for r in err.topics) == {
        "a": "created", "b": "failed", "c": "none", "d": "none"}
    assert err.changed


def test_with_a_pool_the_creates_in_flight_finish_and_no_new_one_starts():
    names = ["t%02d" % i for i in range(20)]
    rest = SlowCreates(failing={"t00"})
    rest.add_link("l1")
    err = fails(rest, names, "active", parallel=4)
    sent = [c[3]["source_topic_name"] for c in rest.writes]
    assert "t00" in sent and len(sent) < len(names)  # the ones in flight finish, nothing after them starts
    assert "Not sent after the failure" in str(err)


def test_missing_link_says_to_create_it():
    rest = FakeMirrorRest(cluster_id="dst-9")
    for state in ("active", "promoted", "paused"):
        err = fails(rest, ["a"], state)
        assert "Link l1 does not exist on cluster dst-9; create it with linkops.cluster_linking.cluster_link" in str(err)
    assert rest.writes == []


def test_other_errors_on_list_propagate():
    rest = link_with()
    rest.fail[("GET", "/links/l1/mirrors")] = RestError("GET failed: HTTP 500", status=500)
    rec, dummy = reconciler(rest)
    with pytest.raises(RestError):
        rec.ensure(mr.parse_topics(["a"]), "active", False)


# -- prefixes and source names ---------------------------------------------------------------


def test_prefixed_link_names_mirrors_prefix_plus_source():
    rest = link_with(**{"cluster.link.prefix": "dc1."})
    rest.add_mirror("l1", "dc1.known", source="known")
    result, dummy = run(rest, [{"source_topic_name": "orders"}, "dc1.payments", {"source_topic_name": "known"}],
                        "active")
    creates = [c[3] for c in rest.writes if c[1] == "/links/l1/mirrors"]
    assert creates == [{"source_topic_name": "orders", "mirror_topic_name": "dc1.orders"},
                       {"source_topic_name": "payments", "mirror_topic_name": "dc1.payments"}]
    assert [(r["mirror_topic_name"], r["source_topic_name"], r["action"]) for r in result["topics"]] == [
        ("dc1.orders", "orders", "created"), ("dc1.payments", "payments", "created"), ("dc1.known", "known", "none")]


def test_source_only_entry_found_in_the_list_costs_no_config_read():
    rest = link_with(**{"cluster.link.prefix": "dc1."})
    rest.add_mirror("l1", "dc1.known", source="known")
    result, dummy = run(rest, [{"source_topic_name": "known"}], "active")
    assert result["changed"] is False
    assert rest.request_count == 1


@pytest.mark.parametrize("entry, fragment", [
    ("payments", "link l1 has cluster.link.prefix 'dc1.', so its mirror topics are named 'dc1.<source topic>'; "
                 "name the topic 'dc1.payments' or give source_topic_name"),
    ({"name": "x.orders", "source_topic_name": "orders"},
     "the mirror of source topic orders on link l1 must be named 'dc1.orders'"),
])
def test_prefix_mismatch_refused_before_creating(entry, fragment):
    rest = link_with(**{"cluster.link.prefix": "dc1."})
    err = fails(rest, ["dc1.fine", entry], "active")
    assert fragment in str(err)
    assert rest.writes == []


def test_renaming_on_a_link_without_prefix_is_refused_before_creating():
    rest = link_with()
    err = fails(rest, [{"name": "c", "source_topic_name": "src.c"}], "active")
    assert "the mirror of source topic src.c on link l1 must be named 'src.c'" in str(err)
    assert rest.writes == []


def test_same_mirror_twice_via_name_and_source():
    rest = link_with(("a", "ACTIVE"))
    err = fails(rest, ["a", {"source_topic_name": "a"}], "active")
    assert str(err) == "topics: a is listed twice."


# =============================================================================================
# paused / resume
# =============================================================================================


def test_pause_in_batches_of_batch_size():
    rest = link_with(*[("t%d" % i, "ACTIVE") for i in range(5)] + [("p", "PAUSED")])
    result, dummy = run(rest, ["t%d" % i for i in range(5)] + ["p"], "paused", batch_size=2)
    assert rest.actions() == [("pause", ["t0", "t1"]), ("pause", ["t2", "t3"]), ("pause", ["t4"])]
    assert [r["action"] for r in result["topics"]] == ["paused"] * 5 + ["none"]
    assert all(r["status"] == "PAUSED" for r in result["topics"])
    assert result["diff"]["after"] == dict(("t%d" % i, "PAUSED") for i in range(5)) | {"p": "PAUSED"}


def test_paused_twice_is_ok():
    rest = link_with(("a", "PAUSED"))
    result, dummy = run(rest, ["a"], "paused")
    assert result["changed"] is False and rest.writes == []


def test_paused_refuses_an_absent_topic():
    rest = link_with(("a", "ACTIVE"))
    err = fails(rest, ["a", "b"], "paused")
    assert "b is not a mirror (not a mirror topic of the link; present or active creates it; possible: present, " \
           "active, absent)" in str(err)
    assert rest.writes == []


def test_link_paused_refused_for_active_naming_cluster_link():
    rest = link_with(("a", "LINK_PAUSED"))
    err = fails(rest, ["a"], "active")
    assert "a is LINK_PAUSED (its link is paused (cluster.link.paused=true; linkops.cluster_linking.cluster_link " \
           "paused: false resumes it)" in str(err)


# =============================================================================================
# promote / failover
# =============================================================================================


def test_promote_lag_gate_then_one_batch_then_wait_for_stopped():
    rest = link_with(("a", "ACTIVE", (5, 3)), ("b", "ACTIVE", (0, 0)), ("c", "PAUSED", (1,)))
    rest.lag_drain = 2
    result, fake_time = run(rest, ["a", "b", "c"], "promoted")
    assert rest.actions() == [("promote", ["a", "b", "c"])]
    # lag 5 -> 3 -> 1 -> 0: three polls before promoting
    assert rest.sleeps_at_action == [3]
    assert set(fake_time.sleeps) == {2.0}
    r = rows(result)
    assert all(r[n]["status"] == "STOPPED" and r[n]["action"] == "promoted" for n in "abc")
    assert all(r[n]["lag_at_cutover"] == 0 for n in "abc")
    assert result["diff"] == {"before": {"a": "ACTIVE", "b": "ACTIVE", "c": "PAUSED"},
                              "after": {"a": "STOPPED", "b": "STOPPED", "c": "STOPPED"}}


def test_promote_with_max_lag_sends_while_lag_is_small_and_records_it():
    rest = link_with(("a", "ACTIVE", (3, 1)))
    rest.promote_needs_caught_up = False  # a server that finishes the sync itself
    result, fake_time = run(rest, ["a"], "promoted", max_lag=3)
    assert rest.sleeps_at_action == [0]
    assert rest.actions() == [("promote", ["a"])]
    assert rows(result)["a"]["lag_at_cutover"] == 3


def test_promote_only_acts_on_topics_not_yet_stopped_and_waits_for_pending():
    rest = link_with(("a", "STOPPED"), ("b", "ACTIVE"), ("c", "PENDING_STOPPED"))
    result, dummy = run(rest, ["a", "b", "c"], "promoted")
    assert rest.actions() == [("promote", ["b"])]
    r = rows(result)
    assert [r[n]["action"] for n in "abc"] == ["none", "promoted", "none"]
    assert [r[n]["status"] for n in "abc"] == ["STOPPED"] * 3
    assert r["a"]["lag_at_cutover"] is None


@pytest.mark.parametrize("state", ["promoted", "failed_over"])
def test_already_stopped_is_one_request(state):
    rest = link_with(("a", "STOPPED", (7,)), ("b", "STOPPED"))
    result, fake_time = run(rest, ["a", "b"], state)
    assert result["changed"] is False
    assert rest.request_count == 1 and fake_time.sleeps == []


def test_promote_per_topic_failure_in_200_response():
    rest = link_with(("a", "ACTIVE"), ("b", "ACTIVE"))
    rest.action_errors["b"] = (400, "Topic 'b' has already stopped its mirror from 'l1'")
    err = fails(rest, ["a", "b"], "promoted")
    assert str(err) == "Promote failed for b: error 400: Topic 'b' has already stopped its mirror from 'l1'"
    assert err.changed is True
    r = dict((row["mirror_topic_name"], row) for row in err.topics)
    assert r["b"]["action"] == "failed" and r["a"]["action"] == "promoted"


def test_a_failed_batch_stops_the_later_batches():
    rest = link_with(*[("t%d" % i, "ACTIVE") for i in range(5)])
    rest.action_errors["t1"] = (400, "boom")
    err = fails(rest, ["t%d" % i for i in range(5)], "failed_over", batch_size=2)
    assert rest.actions() == [("failover", ["t0", "t1"])]
    assert str(err) == ("Failover failed for t1: error 400: boom. 3 topics of later batches were not sent: "
                        "t2, t3, t4")
    assert [r["action"] for r in err.topics] == ["failed_over", "failed", "none", "none", "none"]


def test_topic_without_result_is_a_failure():
    rest = link_with(("a", "ACTIVE"), ("b", "ACTIVE"))
    original = rest._batch

    def drop_b(link, action, names, query):
        out = original(link, action, names, query)
        out["data"] = [d for d in out["data"] if d["mirror_topic_name"] != "b"]
        return out
    rest._batch = drop_b
    err = fails(rest, ["a", "b"], "promoted")
    assert "b: the server returned no result for this topic" in str(err)


def test_failover_does_not_wait_for_lag_and_records_the_lag_at_cutover():
    rest = link_with(("a", "ACTIVE", (1000, 5)), ("b", "FAILED", (3,)), ("c", "SOURCE_UNAVAILABLE", (2,)))
    result, fake_time = run(rest, ["a", "b", "c"], "failed_over")
    assert [c[:2] for c in rest.calls[:2]] == [("GET", "/links/l1/mirrors"), ("POST", "/links/l1/mirrors:failover")]
    assert rest.sleeps_at_action == [0]
    r = rows(result)
    assert [r[n]["lag_at_cutover"] for n in "abc"] == [1000, 3, 2]
    assert [r[n]["action"] for n in "abc"] == ["failed_over"] * 3


def test_promote_refuses_failed_and_source_unavailable_topics():
    rest = link_with(("a", "FAILED"), ("b", "SOURCE_UNAVAILABLE"), ("c", "ACTIVE"))
    err = fails(rest, ["a", "b", "c"], "promoted")
    assert "a is FAILED" in str(err) and "b is SOURCE_UNAVAILABLE" in str(err) and "c is" not in str(err)
    assert "possible: present, failed_over, restored, absent" in str(err)  # for b
    assert rest.writes == []


def test_promote_of_topics_that_are_not_mirrors():
    rest = link_with(("a", "ACTIVE"))
    err = fails(rest, ["a", "x", "y"], "failed_over")
    assert "x is not a mirror" in str(err) and "y is not a mirror" in str(err)
    assert rest.writes == []


def test_promote_check_mode_no_post_no_wait():
    rest = link_with(("a", "ACTIVE", (50,)))
    result, fake_time = run(rest, ["a"], "promoted", check_mode=True)
    assert result["changed"] is True
    assert rest.writes == [] and fake_time.sleeps == []
    assert result["topics"][0]["action"] == "promoted"
    assert result["diff"] == {"before": {"a": "ACTIVE"}, "after": {"a": "STOPPED"}}


def test_lag_gate_timeout_names_waiting_topics_and_lag():
    rest = link_with(("a", "ACTIVE", (2, 7, 1)), ("b", "ACTIVE", (0,)), ("c", "PAUSED", (4,)))
    err = fails(rest, ["a", "b", "c"], "promoted", wait_timeout=10, wait_interval=3)
    assert str(err) == ("Timed out after 10s waiting for lag to reach 0 before promoting: "
                        "a (ACTIVE, max lag 7), c (PAUSED, max lag 4).")
    assert rest.actions() == []
    assert err.changed is False


def test_lag_gate_with_max_lag_wording():
    rest = link_with(("a", "ACTIVE", (9,)))
    err = fails(rest, ["a"], "promoted", wait_timeout=1, wait_interval=1, max_lag=5)
    assert "waiting for every partition lag to be at most 5 before promoting: a (ACTIVE, max lag 9)" in str(err)


def test_lag_gate_ends_when_a_topic_fails_meanwhile():
    rest = link_with(("a", "ACTIVE", (9,)))
    original = rest._advance

    def fail_a(link):
        original(link)
        rest.mirrors[link]["a"]["mirror_status"] = "FAILED"
    rest._advance = fail_a
    err = fails(rest, ["a"], "promoted")
    assert str(err).startswith("A topic cannot get there while waiting for lag to reach 0 before promoting: "
                               "a (FAILED, max lag 9): it is FAILED now, promote needs ACTIVE or PAUSED")
    assert rest.actions() == []


def test_timeout_message_names_twenty_topics_then_counts_the_rest():
    rest = link_with(*[("t%02d" % i, "ACTIVE", (1,)) for i in range(25)])
    err = fails(rest, ["t%02d" % i for i in range(25)], "promoted", wait_timeout=1, wait_interval=1)
    assert "t19 (ACTIVE, max lag 1) and 5 more." in str(err)
    assert "t20" not in str(err)


def test_stopped_wait_timeout_reads_transition_errors_of_at_most_five_topics():
    names = ["t%d" % i for i in range(7)]
    rest = link_with(*[(n, "ACTIVE") for n in names])
    rest.frozen.update(names)  # accepted, but never leave PENDING_STOPPED
    rest.transition_errors["t0"] = [{"error_code": "INTERNAL", "error_message": "stuck"}]
    err = fails(rest, names, "promoted", wait_timeout=4, wait_interval=2)
    assert str(err).startswith("Timed out after 4s waiting for mirrors to reach STOPPED: t0 (PENDING_STOPPED, max lag 0)")
    assert str(err).endswith("State transition errors: t0: INTERNAL: stuck.")
    reads = [c for c in rest.calls if c[0] == "GET" and c[1].startswith("/links/l1/mirrors/")]
    assert [c[1] for c in reads] == ["/links/l1/mirrors/t%d" % i for i in range(5)]
    assert all(c[2] == {"include_state_transition_errors": True} for c in reads)
    r = dict((row["mirror_topic_name"], row) for row in err.topics)
    assert r["t0"]["state_transition_errors"] == ["INTERNAL: stuck"]
    assert r["t1"]["state_transition_errors"] == []
    assert "state_transition_errors" not in r["t6"]
    assert err.changed is True


def test_failover_from_failed_is_not_a_dead_end_while_the_list_still_says_failed():
    rest = link_with(("a", "FAILED"))
    rest.end_in["a"] = "FAILED"  # the server accepts, the next read still shows FAILED, then STOPPED
    original = rest._advance
    reads = []

    def later(link):
        original(link)
        reads.append(1)
        if len(reads) == 2:
            rest.mirrors[link]["a"]["mirror_status"] = "STOPPED"
    rest._advance = later
    result, fake_time = run(rest, ["a"], "failed_over")
    assert rows(result)["a"]["status"] == "STOPPED"


# =============================================================================================
# reversed, reversed_paused, restored
# =============================================================================================


def bidirectional(*mirrors, **configs):
    configs.setdefault("link.mode", "BIDIRECTIONAL")
    return link_with(*mirrors, **configs)


@pytest.mark.parametrize("state, action, label", [
    ("reversed", "reverse-and-start-mirror", "reversed"),
    ("reversed_paused", "reverse-and-pause-mirror", "reversed_paused"),
])
def test_reverse_on_a_bidirectional_link(state, action, label):
    rest = bidirectional(("a", "ACTIVE"), ("b", "STOPPED"))
    result, dummy = run(rest, ["a", "b"], state)
    assert rest.actions() == [(action, ["a"])]
    assert [c[1] for c in rest.calls if c[0] == "GET"][:2] == ["/links/l1/mirrors", "/links/l1/configs"]
    r = rows(result)
    assert (r["a"]["action"], r["a"]["status"]) == (label, "STOPPED")
    assert (r["b"]["action"], r["b"]["status"]) == ("none", "STOPPED")


@pytest.mark.parametrize("configs, fragment", [
    ({}, "link.mode is DESTINATION"),
    ({"link.mode": "BIDIRECTIONAL", "cluster.link.prefix": "w."}, "it has cluster.link.prefix 'w.'"),
])
def test_reverse_refused_on_other_links(configs, fragment):
    rest = link_with(("a", "ACTIVE"), **configs)
    err = fails(rest, ["a"], "reversed")
    assert "a is ACTIVE (reverse-and-start needs a BIDIRECTIONAL link without cluster.link.prefix; " in str(err)
    assert fragment in str(err)
    assert "possible: present, active, paused, promoted, failed_over, restored, absent)" in str(err)
    assert rest.writes == []


def test_reversed_no_op_does_not_read_the_link():
    rest = link_with(("a", "STOPPED"))
    result, dummy = run(rest, ["a"], "reversed")
    assert result["changed"] is False and rest.request_count == 1


def test_restored_truncates_and_reports_per_topic():
    rest = bidirectional(("a", "STOPPED"), ("b", "STOPPED"), ("c", "ACTIVE"))
    rest.truncated = {"a": 12, "b": 0}
    result, fake_time = run(rest, ["a", "b", "c"], "restored")
    assert rest.actions() == [("truncate-and-restore", ["a", "b"])]
    call = [c for c in rest.writes if c[1].endswith(":truncate-and-restore")][0]
    assert call[2] == {"include_partition_level_truncation_data": True}
    r = rows(result)
    assert [(r[n]["action"], r[n]["status"], r[n]["messages_truncated"]) for n in "abc"] == [
        ("restored", "ACTIVE", 12), ("restored", "ACTIVE", 0), ("none", "ACTIVE", None)]
    assert r["a"]["partition_level_truncation_data"] == [
        {"partition_id": 0, "offset_truncated_to": 10, "messages_truncated": 12}]
    assert result["diff"]["after"] == {"a": "ACTIVE", "b": "ACTIVE", "c": "ACTIVE"}


def test_restored_takes_the_old_primarys_topic_that_is_not_a_mirror():
    rest = bidirectional()
    rest.plain_topics.add("orders")
    result, dummy = run(rest, ["orders"], "restored")
    assert [c[1] for c in rest.calls[:3]] == ["/links/l1/mirrors", "/links/l1/configs", "/topics"]
    assert rest.actions() == [("truncate-and-restore", ["orders"])]
    r = rows(result)["orders"]
    assert (r["status_before"], r["action"], r["status"]) == (None, "restored", "ACTIVE")
    assert result["diff"] == {"before": {"orders": "absent"}, "after": {"orders": "ACTIVE"}}


def test_restored_refuses_a_topic_the_cluster_does_not_have():
    rest = bidirectional(("a", "STOPPED"))
    err = fails(rest, ["a", "nope"], "restored")
    assert str(err) == ("Cannot bring 1 of the listed topics of link l1 to state restored; nothing was changed: "
                        "nope is not a mirror (no such topic on cluster dst-1; restored takes a stopped mirror, or "
                        "the old primary's topic after a failover; possible: present, active, restored, absent).")
    assert rest.writes == []


def test_restored_refused_on_a_destination_link():
    rest = link_with(("a", "STOPPED"))
    err = fails(rest, ["a"], "restored")
    assert "truncate-and-restore needs a BIDIRECTIONAL link" in str(err)
    assert rest.writes == []


# =============================================================================================
# absent
# =============================================================================================


def test_absent_needs_allow_delete_and_says_what_it_would_delete():
    rest = link_with(("a", "ACTIVE"), ("b", "STOPPED"))
    for check_mode in (True, False):
        err = fails(rest, ["a", "b", "gone"], "absent", check_mode)
        assert str(err) == ("state=absent deletes the topics a, b and all their records on cluster dst-1 (the REST "
                            "API removes a mirror only by deleting its topic); b already stopped mirroring and may "
                            "hold records written since; set allow_delete: true to do that. Nothing was deleted.")
    assert rest.writes == []


def test_absent_deletes_topics_and_waits_until_the_mirrors_are_gone():
    rest = link_with(("a", "ACTIVE"), ("b", "STOPPED"))
    result, fake_time = run(rest, ["a", "b", "gone"], "absent", allow_delete=True)
    assert [c[:2] for c in rest.writes] == [("DELETE", "/topics/a"), ("DELETE", "/topics/b")]
    assert result["changed"] is True
    assert [(r["mirror_topic_name"], r["action"], r["status"]) for r in result["topics"]] == [
        ("a", "deleted", None), ("b", "deleted", None), ("gone", "none", None)]
    assert [r["source_topic_name"] for r in result["topics"]] == ["a", "b", None]
    assert result["diff"] == {"before": {"a": "ACTIVE", "b": "STOPPED", "gone": "absent"},
                              "after": {"a": "absent", "b": "absent", "gone": "absent"}}
    assert "a" not in rest.mirrors["l1"]
    again, dummy = run(rest, ["a", "b", "gone"], "absent")
    assert again["changed"] is False


def test_absent_check_mode_predicts_deletion():
    rest = link_with(("a", "ACTIVE"))
    result, dummy = run(rest, ["a"], "absent", check_mode=True, allow_delete=True)
    assert result["changed"] is True and rest.writes == []
    assert result["topics"][0]["action"] == "deleted"
    assert result["diff"]["after"] == {"a": "absent"}


def test_absent_on_a_missing_link_is_nothing_to_do():
    rest = FakeMirrorRest()
    rec, dummy = reconciler(rest, link="nolink")
    result = rec.ensure(mr.parse_topics(["a"]), "absent", False)
    assert result["changed"] is False and rec.link_missing is True


def test_delete_error_is_reported():
    rest = link_with(("a", "ACTIVE"))
    rest.fail[("DELETE", "/topics/a")] = RestError("DELETE failed: HTTP 403", status=403)
    err = fails(rest, ["a"], "absent", allow_delete=True)
    assert str(err) == "Deleting mirror topics failed: a: DELETE failed: HTTP 403"
    assert err.topics[0]["action"] == "failed"


# =============================================================================================
# the REST helpers (_mirrors)
# =============================================================================================


def test_create_mirror_sends_mirror_name_only_when_it_differs():
    rest = link_with()
    _mirrors.create_mirror(rest, "l1", "same", "same")
    rest.links["l1"]["configs"]["cluster.link.prefix"] = "dst."
    _mirrors.create_mirror(rest, "l1", "dst.t", "t", configs={"b": "2", "a": "1"})
    assert [c[3] for c in rest.writes] == [
        {"source_topic_name": "same"},
        {"source_topic_name": "t", "mirror_topic_name": "dst.t",
         "configs": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]},
    ]


def test_get_mirror_and_404_is_none():
    rest = link_with(("a", "ACTIVE"))
    assert _mirrors.get_mirror(rest, "l1", "a")["mirror_status"] == "ACTIVE"
    assert rest.calls[-1][2] == {"include_state_transition_errors": None}
    assert _mirrors.get_mirror(rest, "l1", "nope") is None
    assert _mirrors.get_mirror(rest, "nolink", "a") is None


@pytest.mark.parametrize("action, path", [
    ("promote", "mirrors:promote"), ("failover", "mirrors:failover"), ("pause", "mirrors:pause"),
    ("resume", "mirrors:resume"), ("reverse-and-start", "mirrors:reverse-and-start-mirror"),
    ("reverse-and-pause", "mirrors:reverse-and-pause-mirror"), ("truncate-and-restore", "mirrors:truncate-and-restore"),
])
def test_every_batch_action_path(action, path):
    assert _mirrors.ACTIONS[action] == path


def info_mirrors(*specs):
    rest = link_with(*specs)
    return _mirrors.list_mirrors(rest, "l1")


def test_info_report_whole_link():
    report = _mirrors.info_report(info_mirrors(("b", "ACTIVE", (0, 4)), ("a", "PAUSED", (2,)), ("c", "STOPPED")))
    assert [r["mirror_topic_name"] for r in report["mirrors"]] == ["a", "b", "c"]
    assert report["states"] == {"a": "PAUSED", "b": "ACTIVE", "c": "STOPPED"}
    assert report["status_counts"] == {"PAUSED": 1, "ACTIVE": 1, "STOPPED": 1}
    assert (report["max_lag"], report["total_lag"], report["missing"]) == (4, 6, [])
    assert report["all_active"] is False and report["all_stopped"] is False
    assert report["mirrors"][1]["mirror_lags"] == [
        {"partition": 0, "lag": 0, "last_source_fetch_offset": 100},
        {"partition": 1, "lag": 4, "last_source_fetch_offset": 100}]


def test_info_report_topics_status_filter_and_missing():
    mirrors = info_mirrors(("a", "ACTIVE", (3,)), ("b", "STOPPED", (9,)), ("c", "STOPPED"), ("d", "ACTIVE"))
    report = _mirrors.info_report(mirrors, ["c", "b", "x", "c"], ["stopped"])
    assert [r["mirror_topic_name"] for r in report["mirrors"]] == ["c", "b"]
    assert report["missing"] == ["x"]
    assert report["all_stopped"] is False  # x is missing
    report = _mirrors.info_report(mirrors, ["b", "c"])
    assert report["all_stopped"] is True and report["max_lag"] == 9
    report = _mirrors.info_report(mirrors, None, ["ACTIVE"])
    assert [r["mirror_topic_name"] for r in report["mirrors"]] == ["a", "d"]
    assert report["status_counts"] == {"ACTIVE": 2, "STOPPED": 2}  # before the filter
    assert report["max_lag"] == 3
    report = _mirrors.info_report(mirrors, ["a", "d"])
    assert report["all_active"] is True
    empty = _mirrors.info_report({}, None)
    assert (empty["all_active"], empty["all_stopped"], empty["max_lag"]) == (False, False, 0)


def test_mirror_lag_ignores_negative_and_missing_lags():
    mirror = {"mirror_lags": [{"partition": 0, "lag": -3}, {"partition": 1, "lag": 4},
                              {"partition": 2, "lag": None}, {"partition": 3, "lag": 2}]}
    assert _mirrors.mirror_lag(mirror) == (4, 6)
    assert _mirrors.mirror_lag({"mirror_lags": []}) == (0, 0)
    assert _mirrors.mirror_lag({}) == (0, 0)

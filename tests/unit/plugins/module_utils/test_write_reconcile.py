# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes whose answer was lost (issue 15): the reconcilers read the object again and carry on.

LosingAnswers wraps the in-memory REST fakes of test_reconcile.py (links) and
test_mirror_reconcile.py (mirrors) so that chosen writes raise AnswerLost, either after the
fake server acted (the answer was lost on the way back) or before it acted (the request was
lost on the way there). Either way the module must end where a clean run ends, with no write
repeated that had landed, and each write that had not landed sent again exactly once.
"""

from __future__ import annotations

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_reconcile as lr
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirror_reconcile as mr
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirror_states as st
from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import RestBackend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import AnswerLost, RetryPolicy

from test_mirror_reconcile import FakeMirrorRest, FakeTime  # noqa: E402  (same directory)
from test_reconcile import FakeRest, link_params  # noqa: E402


class LosingAnswers:
    """A REST fake whose writes matching a rule lose their answer.

    rules: [(method, path fragment, acted, count)]: the next `count` matching writes raise
    AnswerLost; with acted=True the fake server handled them first.
    """

    def __init__(self, rest, *rules):
        self.rest = rest
        self.rules = [list(rule) for rule in rules]
        self.retry = RetryPolicy(sleep=lambda s: None)
        self.lost = []

    def __getattr__(self, name):
        return getattr(self.rest, name)

    def cluster(self, method, path, query=None, body=None):
        for rule in self.rules:
            rule_method, fragment, acted, count = rule
            if count and method == rule_method and fragment in path:
                rule[3] -= 1
                if acted:
                    self.rest.cluster(method, path, query, body)
                else:
                    self.rest.request_count += 1
                    self.rest.calls.append((method, path, query, body))
                self.lost.append((method, path, acted))
                raise AnswerLost('%s %s: the connection was lost after the request was sent (Remote end closed '
                                 'connection without response); the server may have acted.' % (method, path),
                                 method=method)
        return self.rest.cluster(method, path, query, body)


def writes(rest, method, fragment):
    return [c for c in rest.calls if c[0] == method and fragment in c[1]]


# =============================================================================================
# the decision for a batch action's topic, from its status read again
# =============================================================================================


@pytest.mark.parametrize("status, state, decision", [
    ("PENDING_STOPPED", "promoted", mr.LANDED),   # the promote landed: wait for STOPPED as usual
    ("STOPPED", "promoted", mr.LANDED),
    ("ACTIVE", "promoted", mr.RESEND),            # it did not land: send it again
    ("PAUSED", "promoted", mr.RESEND),
    ("FAILED", "promoted", mr.REFUSED),           # it went elsewhere: report, do not guess
    (None, "promoted", mr.REFUSED),
    ("PENDING_STOPPED", "failed_over", mr.LANDED),
    ("SOURCE_UNAVAILABLE", "failed_over", mr.RESEND),
    ("PAUSED", "paused", mr.LANDED),
    ("ACTIVE", "paused", mr.RESEND),
    ("ACTIVE", "active", mr.LANDED),              # resume landed
    ("PAUSED", "active", mr.RESEND),
    ("PENDING_SYNCHRONIZE", "reversed", mr.LANDED),
    ("ACTIVE", "reversed", mr.RESEND),
    ("PENDING_SETUP_FOR_RESTORE", "restored", mr.LANDED),
    ("STOPPED", "restored", mr.RESEND),
])
def test_after_lost_answer_decision(status, state, decision):
    assert mr.after_lost_answer(status, state) == decision


def test_every_status_and_state_has_a_decision():
    for state in st.WANTED_STATES:
        for status in st.STATUSES + (None,):
            assert mr.after_lost_answer(status, state) in (mr.LANDED, mr.RESEND, mr.REFUSED)


# =============================================================================================
# mirror_topic
# =============================================================================================


def mirror_run(rest, topics, state, *rules, **kwargs):
    losing = LosingAnswers(rest, *rules)
    fake_time = FakeTime()
    rest.time = fake_time
    kwargs.setdefault("wait_timeout", 60)
    rec = mr.MirrorReconciler(RestBackend(losing), "l1", sleep=fake_time.sleep, clock=fake_time.clock, **kwargs)
    return rec.ensure(mr.parse_topics(topics), state, False), losing


def mirror_link(*mirrors):
    rest = FakeMirrorRest()
    rest.add_link("l1")
    for topic, status in mirrors:
        rest.add_mirror("l1", topic, status=status)
    return rest


def test_promote_that_landed_is_waited_on_and_not_sent_again():
    rest = mirror_link(("a", "ACTIVE"), ("b", "ACTIVE"))
    result, losing = mirror_run(rest, ["a", "b"], "promoted", ("POST", "mirrors:promote", True, 1))
    assert len(writes(rest, "POST", "mirrors:promote")) == 1
    assert [(r["mirror_topic_name"], r["status"], r["action"]) for r in result["topics"]] == [
        ("a", "STOPPED", "promoted"), ("b", "STOPPED", "promoted")]
    assert result["changed"] is True
    assert all(r["lag_at_cutover"] == 0 for r in result["topics"])
    assert losing.retry.count == 0
    assert any("it landed" in line for line in losing.retry.lines)


def test_promote_that_did_not_land_is_sent_again_once():
    rest = mirror_link(("a", "ACTIVE"), ("b", "ACTIVE"))
    result, losing = mirror_run(rest, ["a", "b"], "promoted", ("POST", "mirrors:promote", False, 1))
    promotes = writes(rest, "POST", "mirrors:promote")
    assert [c[3]["mirror_topic_names"] for c in promotes] == [["a", "b"], ["a", "b"]]
    assert [r["status"] for r in result["topics"]] == ["STOPPED", "STOPPED"]
    assert losing.retry.count == 1
    assert "sent again" in losing.retry.lines[-1]


def test_promote_sent_again_only_for_the_topics_it_did_not_reach():
    rest = mirror_link(("a", "ACTIVE"), ("b", "ACTIVE"))
    rest.frozen.add("a")  # a stays PENDING_STOPPED a while: the first request reached it
    rest.mirrors["l1"]["a"]["mirror_status"] = "ACTIVE"

    class PartlyActed(LosingAnswers):
        def cluster(self, method, path, query=None, body=None):
            if method == "POST" and "mirrors:promote" in path and not self.lost:
                self.rest.cluster(method, path, query, {"mirror_topic_names": ["a"]})
                self.lost.append(path)
                raise AnswerLost("lost", method=method)
            return self.rest.cluster(method, path, query, body)

    rest.frozen.discard("a")
    losing = PartlyActed(rest)
    fake_time = FakeTime()
    rest.time = fake_time
    rec = mr.MirrorReconciler(RestBackend(losing), "l1", sleep=fake_time.sleep, clock=fake_time.clock,
                              wait_timeout=60)
    result = rec.ensure(mr.parse_topics(["a", "b"]), "promoted", False)
    promotes = writes(rest, "POST", "mirrors:promote")
    assert [c[3]["mirror_topic_names"] for c in promotes] == [["a"], ["b"]]
    assert [r["status"] for r in result["topics"]] == ["STOPPED", "STOPPED"]


def test_promote_whose_answer_is_lost_twice_fails_naming_the_topics():
    rest = mirror_link(("a", "ACTIVE"))
    with pytest.raises(mr.MirrorFailure) as err:
        mirror_run(rest, ["a"], "promoted", ("POST", "mirrors:promote", False, 2))
    assert "Promote failed for a" in err.value.message
    assert "may have acted" in err.value.message
    assert len(writes(rest, "POST", "mirrors:promote")) == 2  # the first and one resend, no more


def test_resend_refused_because_the_first_promote_landed_late_counts_as_landed():
    rest = mirror_link(("a", "ACTIVE"))

    class LateServer(LosingAnswers):
        """The first promote lands only after the read that follows the lost answer."""
        def cluster(self, method, path, query=None, body=None):
            if method == "POST" and "mirrors:promote" in path and not self.lost:
                self.lost.append(path)
                self.rest.calls.append((method, path, query, body))
                raise AnswerLost("lost", method=method)
            if method == "POST" and "mirrors:promote" in path:
                self.rest.mirrors["l1"]["a"]["mirror_status"] = "PENDING_STOPPED"  # the first one, late
            return self.rest.cluster(method, path, query, body)

    losing = LateServer(rest)
    fake_time = FakeTime()
    rest.time = fake_time
    rec = mr.MirrorReconciler(RestBackend(losing), "l1", sleep=fake_time.sleep, clock=fake_time.clock,
                              wait_timeout=60)
    result = rec.ensure(mr.parse_topics(["a"]), "promoted", False)
    assert result["topics"][0]["status"] == "STOPPED"
    assert result["topics"][0]["action"] == "promoted"


def test_create_that_landed_counts_as_done():
    rest = mirror_link()
    result, losing = mirror_run(rest, ["a", "b"], "active", ("POST", "/mirrors", True, 1))
    assert len(writes(rest, "POST", "/mirrors")) == 2  # one per mirror: a's was not sent again
    assert [(r["mirror_topic_name"], r["action"], r["status"]) for r in result["topics"]] == [
        ("a", "created", "ACTIVE"), ("b", "created", "ACTIVE")]
    assert losing.retry.count == 0


def test_create_that_did_not_land_is_sent_again_once():
    rest = mirror_link()
    result, losing = mirror_run(rest, ["a"], "active", ("POST", "/mirrors", False, 1))
    assert len(writes(rest, "POST", "/mirrors")) == 2
    assert result["topics"][0]["action"] == "created" and result["changed"] is True
    assert losing.retry.count == 1


def test_create_resent_and_refused_as_existing_counts_as_created():
    rest = mirror_link()

    class LateCreate(LosingAnswers):
        def cluster(self, method, path, query=None, body=None):
            if method == "POST" and path.endswith("/mirrors") and not self.lost:
                self.lost.append(path)
                raise AnswerLost("lost", method=method)
            if method == "POST" and path.endswith("/mirrors"):
                self.rest.add_mirror("l1", "a", status="ACTIVE")
                raise RestError("POST failed: HTTP 400, error 40002: Topic 'a' already exists.", status=400,
                                error_code=40002)
            return self.rest.cluster(method, path, query, body)

    losing = LateCreate(rest)
    fake_time = FakeTime()
    rest.time = fake_time
    rec = mr.MirrorReconciler(RestBackend(losing), "l1", sleep=fake_time.sleep, clock=fake_time.clock)
    result = rec.ensure(mr.parse_topics(["a"]), "active", False)
    assert result["topics"][0]["action"] == "created"


def test_create_lost_twice_fails():
    rest = mirror_link()
    with pytest.raises(mr.MirrorFailure) as err:
        mirror_run(rest, ["a"], "active", ("POST", "/mirrors", False, 2))
    assert "sent twice and lost its answer" in err.value.message


def test_delete_whose_answer_was_lost_is_sent_again_and_404_means_done():
    rest = mirror_link(("a", "ACTIVE"))
    result, losing = mirror_run(rest, ["a"], "absent", ("DELETE", "/topics/a", True, 1), allow_delete=True)
    assert len(writes(rest, "DELETE", "/topics/a")) == 2
    assert result["topics"][0]["action"] == "deleted"


# =============================================================================================
# cluster_link
# =============================================================================================


def link_run(rest, params, *rules):
    losing = LosingAnswers(rest, *rules)
    return lr.reconcile(RestBackend(losing), params, False), losing


def test_link_create_that_landed_counts_as_done():
    rest = FakeRest()
    result, losing = link_run(rest, link_params(), ("POST", "/links", True, 1))
    assert len(writes(rest, "POST", "/links")) == 1
    assert result["changed"] is True and result["link"]["link_name"] == "l1"
    assert losing.retry.count == 0
    assert any("the create landed" in line for line in losing.retry.lines)


def test_link_create_that_did_not_land_is_sent_again_once():
    rest = FakeRest()
    result, losing = link_run(rest, link_params(), ("POST", "/links", False, 1))
    assert len(writes(rest, "POST", "/links")) == 2
    assert "l1" in rest.links and result["changed"] is True
    assert losing.retry.count == 1


def test_link_create_resent_and_refused_as_existing_counts_as_done():
    rest = FakeRest()

    class LateCreate(LosingAnswers):
        def cluster(self, method, path, query=None, body=None):
            if method == "POST" and path == "/links" and not self.lost:
                self.lost.append(path)
                self.rest.calls.append((method, path, query, body))
                raise AnswerLost("lost", method=method)
            if method == "POST" and path == "/links":
                self.rest.cluster(method, path, query, body)  # the first create, late
                raise RestError("POST /links failed: HTTP 400, error 40002: Cluster link 'l1' already exists.",
                                status=400, error_code=40002)
            return self.rest.cluster(method, path, query, body)

    result = lr.reconcile(RestBackend(LateCreate(rest)), link_params(), False)
    assert result["changed"] is True and "l1" in rest.links


def test_link_create_lost_twice_fails():
    rest = FakeRest()
    with pytest.raises(lr.LinkFailure) as err:
        link_run(rest, link_params(), ("POST", "/links", False, 2))
    assert "Creating link l1 failed" in err.value.message and "may have acted" in err.value.message
    assert len(writes(rest, "POST", "/links")) == 2


@pytest.mark.parametrize("acted, puts", [(True, 1), (False, 2)])
def test_link_alter_whose_answer_was_lost(acted, puts):
    rest = FakeRest()
    rest.add_link("l1", configs={"bootstrap.servers": "src:9092", "security.protocol": "SASL_SSL",
                                 "sasl.mechanism": "PLAIN", "consumer.offset.sync.ms": "30000",
                                 "sasl.jaas.config": "set-before"})
    params = link_params(configs={"consumer.offset.sync.ms": 10000})
    result, losing = link_run(rest, params, ("PUT", "configs:alter", acted, 1))
    assert len(writes(rest, "PUT", "configs:alter")) == puts
    assert rest.links["l1"]["configs"]["consumer.offset.sync.ms"] == "10000"
    assert result["changed"] is True and result["configs_set"] == ["consumer.offset.sync.ms"]
    assert losing.retry.count == puts - 1


@pytest.mark.parametrize("acted, deletes", [(True, 1), (False, 2)])
def test_link_delete_whose_answer_was_lost(acted, deletes):
    rest = FakeRest()
    rest.add_link("l1")
    result, losing = link_run(rest, link_params(state="absent"), ("DELETE", "/links/l1", acted, 1))
    assert len(writes(rest, "DELETE", "/links/l1")) == deletes
    assert "l1" not in rest.links and result["changed"] is True


def test_errors_that_say_the_server_refused_are_not_reconciled():
    rest = FakeRest()
    rest.fail[("POST", "/links")] = RestError("POST /links failed: HTTP 400, error 40002: bad", status=400)
    with pytest.raises(lr.LinkFailure):
        lr.reconcile(RestBackend(rest), link_params(), False)
    assert len(writes(rest, "POST", "/links")) == 1

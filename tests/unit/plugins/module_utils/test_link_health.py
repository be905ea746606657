# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The health of a link (what the rollout gate asserts on), its wait, and what cluster_link_info reads for it."""

from __future__ import annotations

import json
import urllib.parse

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_health as lh
from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import RestBackend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_info import read_links
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestClient

ACTIVE_LINK = {"link_name": "L", "link_state": "ACTIVE", "link_error": "NO_ERROR", "tasks": []}


def row(name, status="ACTIVE", lag=0, error="NO_ERROR"):
    return {"mirror_topic_name": name, "status": status, "max_lag": lag, "mirror_topic_error": error}


def test_a_healthy_link_is_ok_with_its_counts_and_lag():
    state = lh.health(ACTIVE_LINK, [row("a", lag=5), row("b", "STOPPED", lag=900)], ["a", "b"], max_lag=10)
    assert state["ok"] and state["reasons"] == []
    # a STOPPED mirror's lag does not count: it is not mirroring any more
    assert (state["max_lag"], state["status_counts"], state["mirror_count"]) == (5, {"ACTIVE": 1, "STOPPED": 1}, 2)
    assert state["summary"] == 'link ACTIVE, 2 mirrors {"ACTIVE": 1, "STOPPED": 1}, max lag 5'


def test_each_problem_is_a_reason_and_the_mirrors_not_ready_are_named():
    link = dict(ACTIVE_LINK, tasks=[{"task_name": "AclSync", "state": "IN_ERROR",
                                     "errors": [{"error_code": "AUTH", "error_message": "denied"}]}])
    state = lh.health(link, [row("a", lag=5000), row("b", "PAUSED"), row("c", "PENDING_MIRROR")],
                      ["a", "b", "c", "x"], max_lag=1000)
    assert not state["ok"]
    assert state["reasons"] == ["task AclSync (AUTH: denied)", "no mirror topic x", "1 mirror is PAUSED: b",
                                "1 mirror is PENDING_MIRROR: c", "lag above 1000: a max lag 5000"]
    assert state["not_ready"] == ["x", "b", "c", "a"] and state["not_ready_count"] == 4
    assert state["failed"] == [] and state["unavailable"] == []


def test_without_a_lag_limit_lag_is_reported_but_not_judged():
    state = lh.health(ACTIVE_LINK, [row("a", lag=10 ** 6)])
    assert state["ok"] and state["max_lag"] == 10 ** 6


def test_dead_and_unavailable_states_are_told_apart():
    paused = lh.health(dict(ACTIVE_LINK, link_state="PAUSED"), [row("a", "LINK_PAUSED")])
    assert paused["failed"] == ["L"]
    down = lh.health(dict(ACTIVE_LINK, link_state="UNAVAILABLE", link_error="AUTHENTICATION_ERROR"),
                     [row("a", "SOURCE_UNAVAILABLE"), row("b", "FAILED", error="UNKNOWN_TOPIC")])
    assert down["reasons"][0] == "the link is UNAVAILABLE (AUTHENTICATION_ERROR)"
    assert "1 mirror is FAILED: b (UNKNOWN_TOPIC)" in down["reasons"]
    assert down["unavailable"] == ["L", "a"] and down["failed"] == ["b"]


def test_a_missing_link_is_not_ok_and_waits():
    state = lh.health(None, [], ["a"], name="L")
    assert state["reasons"] == ["link L does not exist"] and state["failed"] == [] and state["not_ready"] == ["a"]


def test_thousands_of_mirrors_make_short_reasons():
    rows = [row("t%04d" % i, "PAUSED") for i in range(2000)]
    state = lh.health(ACTIVE_LINK, rows)
    assert state["reasons"] == ["2000 mirrors are PAUSED: " + ", ".join("t%04d" % i for i in range(10))
                                + " and 1990 more"]
    assert len(state["not_ready"]) == 10 and state["not_ready_count"] == 2000


def test_several_links_name_the_link_in_each_reason():
    both = lh.combine([lh.health(ACTIVE_LINK, [row("a")]), lh.health(None, [], name="M")], ["L", "M"])
    assert not both["ok"] and both["reasons"] == ["M: link M does not exist"]
    assert lh.combine([lh.health(ACTIVE_LINK, [row("a")])], ["L"])["ok"]
    assert not lh.combine([], [])["ok"]


# ---------------------------------------------------------------- the results of the run's own tasks

LINK_RESULT = {"changed": False, "link": ACTIVE_LINK}
MIRROR_RESULT = {"changed": False, "topics": [row("a"), row("b")], "unlisted_mirror_count": 0}


def test_the_link_and_mirror_results_of_the_run_answer_the_first_try():
    state = lh.from_results(LINK_RESULT, MIRROR_RESULT, ["a", "b"], 0)
    assert state["ok"] and state["mirror_count"] == 2
    params = {"names": ["L"], "reuse_link_result": LINK_RESULT, "reuse_mirror_result": MIRROR_RESULT,
              "health_topics": ["a", "b"], "health_max_lag": 0}
    result = lh.reused_result(lh.reused_health(params), {"rest_requests": 0})
    assert result["reused"] and result["all_mirrors_active"] and result["rest_requests"] == 0


def test_results_that_do_not_show_the_whole_link_are_not_used():
    assert lh.from_results(LINK_RESULT, dict(MIRROR_RESULT, unlisted_mirror_count=3)) is None
    assert lh.from_results(LINK_RESULT, {k: v for k, v in MIRROR_RESULT.items() if k != "unlisted_mirror_count"}) is None
    assert lh.from_results(LINK_RESULT, {"skipped": True}) is None
    assert lh.from_results({"failed": True, "msg": "x"}, MIRROR_RESULT) is None
    # an unhealthy first read is not reused: the gate reads again
    params = {"names": ["L"], "reuse_link_result": LINK_RESULT,
              "reuse_mirror_result": dict(MIRROR_RESULT, topics=[row("a", "PAUSED")])}
    assert lh.reused_health(params) is None
    assert lh.reused_health(dict(params, names=["L", "M"], reuse_mirror_result=MIRROR_RESULT)) is None


# ---------------------------------------------------------------- the wait

class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def reads(*states):
    queue = list(states)

    def read():
        return {"health": queue.pop(0) if len(queue) > 1 else queue[0]}
    return read


def waiting(**extra):
    return dict({"ok": False, "failed": [], "unavailable": [], "reasons": ["1 mirror is PENDING_MIRROR: a"]}, **extra)


def test_the_wait_goes_on_until_healthy_with_one_progress_call_per_try():
    clock, tries = Clock(), []
    result, verdict = lh.wait_for_health(reads(waiting(), waiting(), {"ok": True}), 60, 5, 10,
                                         sleep=clock.sleep, clock=clock, on_try=lambda r, left: tries.append(left))
    assert verdict == "ok" and tries == [60, 55] and clock.now == 10


def test_a_state_that_does_not_heal_stops_the_wait_at_once():
    clock = Clock()
    result, verdict = lh.wait_for_health(reads(waiting(failed=["L"])), 600, 5, 60, sleep=clock.sleep, clock=clock)
    assert verdict == "failed" and clock.now == 0
    assert "stopped waiting at once: L does not recover" in lh.verdict_message("L", result["health"], verdict, 600, 60)


def test_an_unavailable_remote_stops_the_wait_after_the_grace_not_the_timeout():
    clock = Clock()
    result, verdict = lh.wait_for_health(reads(waiting(), waiting(unavailable=["L"])), 600, 5, 20,
                                         sleep=clock.sleep, clock=clock)
    assert verdict == "unavailable" and clock.now == 25  # unavailable from the read at 5 s, given up at 25 s


def test_the_grace_starts_again_when_the_remote_came_back():
    clock = Clock()
    down, up = waiting(unavailable=["L"]), waiting()
    result, verdict = lh.wait_for_health(reads(down, down, up, down, down, {"ok": True}), 600, 5, 10,
                                         sleep=clock.sleep, clock=clock)
    assert verdict == "ok"


def test_the_wait_ends_at_the_timeout():
    clock = Clock()
    result, verdict = lh.wait_for_health(reads(waiting()), 12, 5, 60, sleep=clock.sleep, clock=clock)
    assert verdict == "timeout" and clock.now == 12


def test_the_progress_line_names_the_link_the_mirrors_the_lag_and_the_time_left():
    state = lh.health(ACTIVE_LINK, [row("a", lag=4000), row("b", "PENDING_MIRROR")], max_lag=100)
    line = lh.progress_line("L", state, 42.7)
    assert line == ('L: not healthy yet, 2 mirrors not ready (b, a), link ACTIVE, 2 mirrors '
                    '{"ACTIVE": 1, "PENDING_MIRROR": 1}, max lag 4000, 42 s left')


# ---------------------------------------------------------------- what cluster_link_info reads

class Routes:
    """open_url stand-in answering GETs by path; records the requests."""

    def __init__(self, routes):
        self.routes, self.paths = routes, []

    def __call__(self, url, **kwargs):
        path = urllib.parse.urlsplit(url).path.split("/clusters/c1", 1)[1]
        self.paths.append(path)

        body = json.dumps(self.routes[path]).encode()

        class Answer:
            def read(self):
                return body
        return Answer()


MIRRORS = {"data": [{"mirror_topic_name": "a", "link_name": "L", "mirror_status": "ACTIVE",
                     "mirror_lags": [{"partition": 0, "lag": 7}]}]}


def test_a_named_link_is_read_with_two_requests_and_no_other_link_or_mirror():
    routes = Routes({"/links/L": dict(ACTIVE_LINK, topic_names=["a"]), "/links/L/mirrors": MIRRORS})
    backend = RestBackend(RestClient("http://rest", cluster_id="c1", opener=routes))
    result = read_links(backend, names=["L"], include_configs=False, health_topics=["a"], health_max_lag=10)
    assert routes.paths == ["/links/L", "/links/L/mirrors"]
    assert result["health"]["ok"] and result["links"][0]["health"]["max_lag"] == 7
    assert "configs" not in result["links"][0]


def test_a_named_link_that_does_not_exist_is_missing_and_not_healthy():
    def opener(url, **kwargs):
        raise __import__("urllib.error").error.HTTPError(url, 404, "Not Found", {}, None)
    backend = RestBackend(RestClient("http://rest", cluster_id="c1", opener=opener, retries=0))
    result = read_links(backend, names=["gone"], include_configs=False)
    assert result["missing"] == ["gone"] and result["health"]["reasons"] == ["link gone does not exist"]

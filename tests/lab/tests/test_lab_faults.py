"""Faults on demand: a stopped source broker, and REST answers that fail.

These tests stop brokers and change the fault knobs, so they use their own lab
(not the session lab of conftest.py)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from labtesting import Rest, recent_ts, unique, wait_until

HERE = Path(__file__).resolve().parents[1]   # tests/lab: labctl.py
KNOBS = {"pending_mirror_ms": 100, "copy_interval_ms": 50, "metadata_interval_ms": 200,
         "pending_stopped_ms": 200}


@pytest.fixture(scope="module")
def flab(tmp_path_factory):
    from linkops_lab.lab import Lab
    with Lab.start(tmp_path_factory.mktemp("faultlab"), knobs=KNOBS) as running:
        yield running


@pytest.fixture(scope="module")
def frest(flab, spec):
    return Rest(flab, spec)


@pytest.fixture(autouse=True)
def no_faults_after(request):
    yield
    if "flab" in request.fixturenames:
        lab = request.getfixturevalue("flab")
        lab.start_broker("source")
        lab.knobs(faults={})


def records(n, partitions, start=0):
    return [{"partition": i % partitions, "key": f"k{i}", "value": f"v{i}", "timestamp": recent_ts(i)}
            for i in range(start, start + n)]


def link_state(rest, name):
    return rest("GET", f"/clusters/{{D}}/links/{name}", params={"include_tasks": True}, expect=200)[1]


def test_source_broker_down_and_back(flab, frest):
    """Stopping the source moves the link to UNAVAILABLE and its mirrors to
    SOURCE_UNAVAILABLE within the availability-check settings; after the restart
    they are ACTIVE again and every record (old and new) is on the destination."""
    fast, slow, topic = unique("fast"), unique("slow"), unique("orders")
    flab.create_topic("source", topic, 3)
    flab.produce("source", topic, records(300, 3))
    frest.create_link(fast, configs={"availability.check.ms": "500",
                                     "availability.check.consecutive.failure.threshold": "2",
                                     "consumer.offset.sync.enable": "true",
                                     "consumer.offset.group.filters": json.dumps({"groupFilters": [
                                         {"name": "*", "patternType": "LITERAL",
                                          "filterType": "INCLUDE"}]})})
    # Confluent's defaults: a source outage is noticed after about 5 minutes
    frest.create_link(slow, configs={"availability.check.ms": "60000",
                                     "availability.check.consecutive.failure.threshold": "5"})
    frest.create_mirror(fast, topic)
    frest.wait_mirror(fast, topic)
    slow_topic = unique("slowtopic")
    flab.create_topic("source", slow_topic, 1)
    frest.create_mirror(slow, slow_topic)
    frest.wait_mirror(slow, slow_topic)

    assert flab.stop_broker("source") is True
    stopped = time.monotonic()
    link = wait_until(lambda: (lambda l: l if l["link_state"] == "UNAVAILABLE" else None)(
        link_state(frest, fast)), 30, "the link to become UNAVAILABLE")
    detect_s = time.monotonic() - stopped
    assert link["link_error"] == "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR"
    assert flab.source_bootstrap in link["link_error_message"]
    assert {t["task_name"]: t["state"] for t in link["tasks"]}["ConsumerOffsetSync"] == "LINK_UNAVAILABLE"
    m = frest.mirror(fast, topic)
    assert m["mirror_status"] == "SOURCE_UNAVAILABLE"
    _, listing = frest("GET", f"/clusters/{{D}}/links/{fast}/mirrors",
                       params={"mirror_status": "SOURCE_UNAVAILABLE"}, expect=200)
    assert [x["mirror_topic_name"] for x in listing["data"]] == [topic]
    # promote needs the source; failover would not
    res = frest.action(fast, "promote", [topic], params={"validate_only": True})["data"][0]
    assert res["error_code"] == 400 and "unavailable" in res["error_message"]
    # the link with 60 s x 5 has not given up on the source yet
    assert link_state(frest, slow)["link_state"] == "ACTIVE"
    assert frest.mirror(slow, slow_topic)["mirror_status"] == "ACTIVE"
    assert flab.health()["source"] != "ok"

    assert flab.start_broker("source") is True
    assert flab.start_broker("source") is False          # already running
    flab.produce("source", topic, records(200, 3, start=300))
    m = frest.wait_mirror(fast, topic, timeout=60)
    assert link_state(frest, fast)["link_state"] == "ACTIVE"
    assert link_state(frest, fast)["link_error"] == "NO_ERROR"
    src, dst = flab.consume("source", topic), flab.consume("destination", topic)
    assert len(src) == 500 and dst == src                # no record lost or duplicated
    print(f"source outage noticed after {detect_s:.1f} s (availability.check.ms=500, threshold 2)")


def test_labctl_stop_and_start_broker(flab):
    def labctl(*args):
        return subprocess.run([sys.executable, str(HERE / "labctl.py"), *args, "--dir",
                               str(flab.workdir)], capture_output=True, text=True, timeout=120)
    out = labctl("stop-broker", "--cluster", "source")
    assert out.returncode == 0 and "source broker stopped" in out.stdout, out
    status = labctl("status")
    assert status.returncode == 1 and "NOT RUNNING" in status.stdout
    again = labctl("stop-broker", "--cluster", "source")
    assert again.returncode == 0 and "was not running" in again.stdout
    out = labctl("start-broker", "--cluster", "source")
    assert out.returncode == 0 and f"started on {flab.source_bootstrap}" in out.stdout, out
    assert labctl("status").returncode == 0
    bad = labctl("stop-broker", "--cluster", "nowhere")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    # the Lab object finds the broker labctl started; take it back so the lab stops it
    assert flab.health()["source"] == "ok"
    assert flab.stop_broker("source") is True and flab.start_broker("source") is True


def _count(flab, n, method="GET", path=None):
    path = path or f"/kafka/v3/clusters/{flab.destination_cluster_id}/links"
    seen = Counter()
    for _ in range(n):
        try:
            status, body = flab.rest(method, path, timeout=10)
            seen[status] += 1
            if status == 429:
                assert body.startswith("<html>") and "429 Too Many Requests" in body
            elif status >= 500:
                assert body["error_code"] == 50003 and "Injected lab fault" in body["message"]
        except (ConnectionError, http.client.HTTPException, OSError):
            seen["drop"] += 1
    return seen


def test_fractions_of_requests_fail(flab):
    flab.knobs(faults={"503": 0.25, "429": 0.25, "drop": 0.1, "seed": 11})
    seen = _count(flab, 400)
    assert sum(seen.values()) == 400
    # 100 / 100 / 40 expected; the bounds are more than 5 standard deviations wide
    assert 55 <= seen[503] <= 145 and 55 <= seen[429] <= 145 and 12 <= seen["drop"] <= 70, seen
    assert seen[200] == 400 - seen[503] - seen[429] - seen["drop"]
    # the lab's own endpoints are never affected, so the faults can always be turned off
    assert flab.knobs(faults={})["faults"] == {}
    assert _count(flab, 30) == Counter({200: 30})


def test_faults_scoped_to_method_and_path(flab):
    flab.knobs(faults={"503": 1.0, "methods": ["POST"], "path_contains": "/mirrors"})
    name = unique("scoped")
    status, _ = flab.rest("POST", f"/kafka/v3/clusters/{flab.destination_cluster_id}/links",
                          {"source_cluster_id": flab.source_cluster_id,
                           "configs": [{"name": "bootstrap.servers", "value": flab.source_bootstrap}]},
                          params={"link_name": name})
    assert status == 204                                  # POST outside /mirrors: served
    assert _count(flab, 5, path=f"/kafka/v3/clusters/{flab.destination_cluster_id}/links/{name}/mirrors") \
        == Counter({200: 5})                              # GET: served
    status, body = flab.rest("POST", f"/kafka/v3/clusters/{flab.destination_cluster_id}/links/{name}"
                             "/mirrors", {"source_topic_name": "x"})
    assert status == 503 and body["error_code"] == 50003
    flab.knobs(faults={})
    flab.rest("DELETE", f"/kafka/v3/clusters/{flab.destination_cluster_id}/links/{name}")


def test_latency(flab):
    path = f"/kafka/v3/clusters/{flab.destination_cluster_id}/links"
    flab.knobs(faults={"latency_ms": 400})
    t = time.monotonic()
    assert flab.rest("GET", path)[0] == 200
    assert time.monotonic() - t >= 0.4
    t = time.monotonic()
    flab.knobs()                                          # /lab/ is not delayed
    assert time.monotonic() - t < 0.4
    flab.knobs(faults={})
    t = time.monotonic()
    assert flab.rest("GET", path)[0] == 200
    assert time.monotonic() - t < 0.4


@pytest.mark.parametrize("bad, text", [
    ({"503": 1.5}, "fraction between 0 and 1"),
    ({"503": 0.6, "drop": 0.6}, "at most 1"),
    ({"teapot": 0.1}, "unknown key 'teapot'"),
    ({"latency_ms": -1}, "latency_ms"),
    ("not json", "not valid JSON"),
])
def test_bad_fault_settings_are_refused(flab, bad, text):
    status, err = flab.rest("PUT", "/lab/v1/knobs", {"faults": bad})
    assert status == 400 and text in err["message"], err
    assert flab.knobs()["faults"] == {}


def test_knob_set_from_labctl_and_env(flab, tmp_path):
    out = subprocess.run([sys.executable, str(HERE / "labctl.py"), "knobs", "--dir", str(flab.workdir),
                          'faults={"503": 0.5, "seed": 3}'], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out
    assert json.loads(out.stdout)["faults"] == {"503": 0.5, "seed": 3}
    flab.knobs(faults={})
    # an invalid LAB_FAULTS stops Lab.start with a message naming it
    from linkops_lab.lab import Lab, LabError
    env = dict(os.environ, LAB_FAULTS='{"503": 2}')
    old = os.environ.copy()
    os.environ.update(env)
    try:
        with pytest.raises(LabError, match="LAB_FAULTS: faults\\['503'\\] must be a fraction"):
            Lab.start(tmp_path / "badenv", knobs=KNOBS)
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert not (tmp_path / "badenv" / "lab.json").exists()
    with pytest.raises(LabError, match="knobs: faults: unknown key 'drops'"):
        Lab.start(tmp_path / "badknob", knobs={**KNOBS, "faults": {"drops": 0.1}})


def test_unresolvable_bootstrap_is_named(frest):
    name = unique("nodns")
    frest.create_link(name, configs={"bootstrap.servers": "no-such-host.invalid:9092",
                                     "availability.check.ms": "200",
                                     "availability.check.consecutive.failure.threshold": "2"},
                      params={"validate_link": False})
    try:
        link = wait_until(lambda: (lambda l: l if l["link_state"] == "UNAVAILABLE" else None)(
            link_state(frest, name)), 30, "the link to become UNAVAILABLE")
        assert link["link_error"] == "UNRESOLVABLE_BOOTSTRAP_ERROR"
        assert "no-such-host.invalid:9092" in link["link_error_message"]
    finally:
        frest("DELETE", f"/clusters/{{D}}/links/{name}", expect=200)

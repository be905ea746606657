"""Writes survive rate limits and lost answers (issue 15), against the lab through a fault proxy.

fault_proxy.FaultProxy sits between the modules and the lab's REST endpoint: it answers 503 and
429 (with Retry-After) instead of the emulator, drops connections before forwarding, and - the
case the lab's own faults knob cannot make - drops the answer of a write *after* the emulator
acted. Its request log records what reached the emulator, so the tests count side effects.

The migration sequence here is the REST part of migrate.yml as module runs: cluster_link (create),
mirror_topic active (create the mirrors), mirror_topic promoted (lag gate, promote, wait for
STOPPED). Each round must succeed on its first run, with one create per link and per mirror and
one accepted promote per topic (a promote the emulator refused would be a duplicate). The suite
runs a few rounds per fault mode; tests/bench/bench_write_faults.py runs migrate.yml itself 20
times per mode and reports the figures.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from fault_proxy import FaultProxy, side_effects
from linkops_it import delete_link, get_link, install_cp_tools, mirror, run_ansible_module, unique_name

S = "source"
TOPICS_PER_ROUND = 2

# mode: (faults, seed); the seeds make the first round meet every case (the writes draw from their own
# stream, so which writes fail does not depend on how often a task polled):
FAULT_MODES = {
    # the mix: 8% 503, 7% 429, 5% dropped connections (before the emulator saw the request);
    # seed 671: the link create is answered 503, the first mirror create is dropped (re-read: not
    # there, sent again), the promote is answered 429
    "mix": ({"503": 0.08, "429": 0.07, "drop": 0.05}, 671),
    # 30% of the write answers lost after the emulator acted; seed 3: the answers of the link create,
    # the first mirror create and the promote are lost (re-read: all landed, none sent again)
    "lost": ({"drop_after": 0.30}, 3),
}
ROUNDS = 1


@pytest.fixture
def proxy(lab):
    running = FaultProxy(lab.rest_url, seed=15)
    yield running
    running.close()


def migrate_round(lab, run_module, proxy, link, topics):
    """cluster_link, mirror_topic active, mirror_topic promoted through the proxy; returns the runs."""
    via = {"rest_url": proxy.url}
    runs = {}
    started = time.monotonic()
    runs["link"] = run_module("cluster_link", dict(via, name=link, source_cluster_id=lab.source_cluster_id,
                                                   source_bootstrap_servers=lab.source_bootstrap,
                                                   configs={"consumer.offset.sync.ms": 1000}), verbose=3)
    runs["mirrors"] = run_module("mirror_topic", dict(via, link_name=link, topics=topics, state="active",
                                                      wait_interval=0.5, wait_timeout=120), verbose=3)
    runs["promote"] = run_module("mirror_topic", dict(via, link_name=link, topics=topics, state="promoted",
                                                      wait_interval=0.5, wait_timeout=120), verbose=3)
    print(f"round {link}: {time.monotonic() - started:.1f} s")
    return runs


@pytest.mark.parametrize("mode", sorted(FAULT_MODES))
def test_each_round_converges_on_its_first_run_without_duplicates(lab, run_module, proxy, mode):
    faults, seed = FAULT_MODES[mode]
    proxy.set_faults(faults, seed)
    retried = lost = 0
    for dummy in range(ROUNDS):
        link = unique_name(f"it-faults-{mode}")
        topics = [unique_name("it-faults-t") for dummy2 in range(TOPICS_PER_ROUND)]
        for topic in topics:
            lab.create_topic(S, topic, partitions=2)
            lab.produce(S, topic, [{"key": "k", "value": str(i), "partition": i % 2} for i in range(6)])
        start = len(proxy.log)
        try:
            runs = migrate_round(lab, run_module, proxy, link, topics)
            for step, run in runs.items():
                assert run.rc == 0, f"{mode}: {step} failed on its first run:\n{run.output}"
                assert "Traceback" not in run.output
            assert runs["link"].result["changed"] is True
            assert [t["action"] for t in runs["mirrors"].result["topics"]] == ["created"] * len(topics)
            assert [t["status"] for t in runs["promote"].result["topics"]] == ["STOPPED"] * len(topics)
            for topic in topics:
                status, body = mirror(lab, link, topic)
                assert status == 200 and body["mirror_status"] == "STOPPED", body
            effects = side_effects(proxy.log[start:])
            assert effects["link_creates"] == {link: 1}, effects
            assert effects["mirror_creates"] == {t: 1 for t in topics}, effects
            assert effects["promotes"] == {t: 1 for t in topics}, effects
            assert effects["refused_promotes"] == [], effects
            retried += sum(run.result.get("rest_retries", 0) for run in runs.values())
            lost += sum(1 for run in runs.values() for line in run.result.get("rest_retry_log") or []
                        if "answer was lost" in line or "landed" in line)
        finally:
            delete_link(lab, link)
    injected = proxy.faults_injected()
    print(f"{mode}: faults injected {injected}, retries {retried}, lost answers reconciled {lost}")
    assert injected, "the proxy injected no fault: the test proved nothing"
    assert retried or lost


def test_every_write_answered_429_three_times_waits_retry_after(lab, run_module, proxy):
    """Each write is answered 429 with Retry-After: 2 three times, then served: the task succeeds,
    counts 3 retries per write, and never came back sooner than the server asked."""
    proxy.set_faults({"each_write_429": 3, "retry_after": "2"})
    link = unique_name("it-429")
    try:
        run = run_module("cluster_link", {"rest_url": proxy.url, "name": link,
                                          "source_cluster_id": lab.source_cluster_id,
                                          "source_bootstrap_servers": lab.source_bootstrap}, verbose=3)
        assert run.rc == 0, run.output
        assert run.result["changed"] is True
        assert run.result["rest_retries"] == 3
        log = run.result["rest_retry_log"]
        assert len(log) == 3 and all("HTTP 429" in line and "(Retry-After: 2 s)" in line for line in log), log
        waits = [float(re.search(r" in ([0-9.]+) s", line).group(1)) for line in log]
        assert all(w >= 2 for w in waits), waits
        posts = [e for e in proxy.log if e.method == "POST" and e.path.endswith("/links")]
        assert [e.fault for e in posts] == ["429", "429", "429", None]
        gaps = [b.t - a.t for a, b in zip(posts, posts[1:])]
        assert all(g >= 2 for g in gaps), gaps
        assert side_effects(proxy.log)["link_creates"] == {link: 1}
    finally:
        delete_link(lab, link)


def test_retry_after_longer_than_retry_max_delay_fails_naming_it(lab, run_module, proxy):
    proxy.set_faults({"each_write_429": 1, "retry_after": "120"})
    link = unique_name("it-429-long")
    try:
        run = run_module("cluster_link", {"rest_url": proxy.url, "name": link, "retry_max_delay": 5,
                                          "source_cluster_id": lab.source_cluster_id,
                                          "source_bootstrap_servers": lab.source_bootstrap})
        assert run.rc != 0
        assert "HTTP 429" in run.msg and "more than retry_max_delay (5)" in run.msg, run.msg
        assert run.result["rest_retries"] == 0
        assert side_effects(proxy.log)["link_creates"] == {}
    finally:
        delete_link(lab, link)


def test_cli_create_whose_answer_was_lost_is_described_not_repeated(lab, proxy, tmp_path):
    """api=cli: the lab's kafka-cluster-links reaches the emulator through the proxy, which drops the
    answer of the create after the emulator made the link. The tool fails with a lost connection; the
    module describes the link, finds it, and counts the create as done: one create reached the emulator."""
    problem = install_cp_tools()
    if problem:
        pytest.fail(problem)
    info = json.loads((Path(lab.workdir) / "lab.json").read_text())
    info["rest_url"] = info["destination_rest_url"] = proxy.url
    fd = os.open(tmp_path / "lab.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(info, handle)
    via_proxy = SimpleNamespace(workdir=tmp_path, destination_bootstrap=lab.destination_bootstrap,
                                kind=lab.kind, info=info)
    proxy.set_faults({"script": [{"method": "POST", "status": "drop_after", "count": 1}]})
    link = unique_name("it-cli-lost")
    try:
        run = run_ansible_module(via_proxy, "cluster_link", {
            "name": link, "source_cluster_id": lab.source_cluster_id,
            "source_bootstrap_servers": lab.source_bootstrap}, backend="cli", verbose=3)
        assert run.rc == 0, run.output
        assert run.result["changed"] is True
        assert get_link(lab, link)[0] == 200
        creates = [e for e in proxy.log if e.method == "POST" and e.path.endswith("/links")]
        assert [(e.fault, e.status < 300) for e in creates] == [("drop_after", True)], creates
        assert run.result["cli_retries"] == 0
        assert any("the create landed" in line for line in run.result["cli_retry_log"]), run.result
    finally:
        delete_link(lab, link)

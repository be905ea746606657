"""The lab at fleet size (docs/lab.md "A lab that holds a fleet"): the state file is written in the
background, a burst of requests costs a few writes and a restart still brings every change back;
the PENDING_STOPPED mirrors of a promote all stop in one copier round; the request counts of
``GET /lab/v1/stats``."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka.admin import NewTopic

from labtesting import unique, wait_until

FAST = {"pending_mirror_ms": 100, "pending_stopped_ms": 300, "copy_interval_ms": 50}


def stats(lab, cluster="destination"):
    status, body = lab.rest("GET", "/lab/v1/stats", cluster=cluster)
    assert status == 200, body
    return body


def source_topics(lab, names, partitions=1):
    for fut in lab.admin("source").create_topics([NewTopic(t, partitions, 1) for t in names]).values():
        fut.result()


def mirrors(lab, link):
    status, body = lab.rest("GET", f"/v3/clusters/{lab.destination_cluster_id}/links/{link}/mirrors")
    assert status == 200, body
    return {m["mirror_topic_name"]: m for m in body["data"]}


def test_a_burst_of_changes_is_saved_in_few_writes_and_survives_a_restart(tmp_path):
    """30 creates (8 at a time), their PENDING_MIRROR -> ACTIVE changes, a pause and a promote: the
    state file is written at most once a state_save_ms (1 s here), not once per change, and a
    restart with keep_data brings every change back, the last one (made just before the stop)
    included."""
    from linkops_lab.lab import Lab
    d = tmp_path / "lab"
    topics = [unique("kept") for _ in range(30)]
    with Lab.start(d, knobs={**FAST, "state_save_ms": 1000}) as first:
        D = first.destination_cluster_id
        source_topics(first, topics)
        first.produce("source", topics[0], ["a", "b"])
        assert first.rest("POST", f"/v3/clusters/{D}/links", {
            "source_cluster_id": first.source_cluster_id,
            "configs": [{"name": "bootstrap.servers", "value": first.source_bootstrap}]},
            params={"link_name": "L"})[0] == 204
        before, started = stats(first)["state_writes"], time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda t: first.rest("POST", f"/v3/clusters/{D}/links/L/mirrors",
                                                          {"source_topic_name": t})[0], topics))
        assert statuses == [204] * 30
        wait_until(lambda: all(m["mirror_status"] == "ACTIVE" and not any(l["lag"] for l in m["mirror_lags"])
                               for m in mirrors(first, "L").values()) and len(mirrors(first, "L")) == 30,
                   60, "30 mirrors ACTIVE with lag 0")
        paused, promoted = topics[:5], topics[5:10]
        assert first.rest("POST", f"/v3/clusters/{D}/links/L/mirrors:pause",
                          {"mirror_topic_names": paused})[0] == 200
        assert first.rest("POST", f"/v3/clusters/{D}/links/L/mirrors:promote",
                          {"mirror_topic_names": promoted})[0] == 200
        wait_until(lambda: all(mirrors(first, "L")[t]["mirror_status"] == "STOPPED" for t in promoted), 30,
                   "the promoted mirrors STOPPED")
        # some 60 changes, written at most once a second (a write per change would break this); the
        # first write comes state_save_ms after the first change, which a fast run may not have waited for
        wait_until(lambda: stats(first)["state_writes"] > before, 10, "the state file written")
        writes, elapsed = stats(first)["state_writes"] - before, time.monotonic() - started
        assert 1 <= writes <= elapsed + 2, (writes, elapsed)
        # whatever the last write missed is written when the emulator stops
        assert first.rest("PUT", f"/v3/clusters/{D}/links/L/configs/consumer.offset.sync.ms",
                          {"value": "12345"})[0] == 204
        expected = {t: m["mirror_status"] for t, m in mirrors(first, "L").items()}
    assert json.loads((d / "emulator-state.json").read_text())["version"] == 2
    assert (d / "emulator-state.json").stat().st_mode & 0o777 == 0o600
    with Lab.start(d, knobs=FAST, keep_data=True) as second:
        got = {t: m["mirror_status"] for t, m in mirrors(second, "L").items()}
        assert got == expected
        assert [got[t] for t in paused] == ["PAUSED"] * 5 and [got[t] for t in promoted] == ["STOPPED"] * 5
        status, cfg = second.rest("GET", f"/v3/clusters/{second.destination_cluster_id}/links/L/configs/"
                                  "consumer.offset.sync.ms")
        assert status == 200 and cfg["value"] == "12345"
        # the kept mirrors still copy
        second.produce("source", topics[20], ["after restart"])
        wait_until(lambda: second.end_offsets("destination", topics[20]) == {0: 1}, 20, "copy after restart")


def test_a_promote_stops_every_mirror_in_one_round(rest, lab, link):
    """40 mirrors promoted in one batch: all turn STOPPED together, in one copier round (the same
    state_time_ms), not one after another."""
    topics = [unique("one-round") for _ in range(40)]
    source_topics(lab, topics, partitions=2)
    for t in topics:
        rest.create_mirror(link, t)
    wait_until(lambda: all(m["mirror_status"] == "ACTIVE" and not any(l["lag"] for l in m["mirror_lags"])
                           for t, m in mirrors(lab, link).items() if t in topics)
               and set(topics) <= set(mirrors(lab, link)), 60, "40 mirrors ACTIVE")
    res = rest.action(link, "promote", topics)
    assert [r["error_code"] for r in res["data"]] == [None] * 40, res
    wait_until(lambda: all(mirrors(lab, link)[t]["mirror_status"] == "STOPPED" for t in topics), 30,
               "40 mirrors STOPPED")
    now = mirrors(lab, link)
    assert len({now[t]["state_time_ms"] for t in topics}) == 1, sorted(now[t]["state_time_ms"] for t in topics)


def test_stats_count_the_requests_of_each_route(lab):
    D = lab.destination_cluster_id
    before = stats(lab)
    link = unique("counted")
    for _ in range(3):
        assert lab.rest("GET", f"/kafka/v3/clusters/{D}/links/{link}")[0] == 404
    after = stats(lab)
    route = "GET /clusters/{cluster_id}/links/{link}"
    assert after["requests"] - before["requests"] == 3
    assert after["requests_by_route"][route] - before["requests_by_route"].get(route, 0) == 3
    # each cluster's REST counts its own requests
    assert stats(lab, "source")["cluster_id"] == lab.source_cluster_id


def test_a_quiet_link_polls_its_source_less_the_more_partitions_it_has():
    """The copier's poll schedule (emulator/copier.py ``_polled``): a poll that found nothing doubles
    the wait up to copy_idle_max_ms (1 s); a link of 500 quiet partitions waits 2 s (at most 250
    partitions a second), one of 100 keeps the 1 s; a copy polls again at once."""
    from types import SimpleNamespace

    from linkops_lab.emulator.copier import LinkWorker

    def waits(partitions, polls=6, took=0.01):
        w = SimpleNamespace(emu=SimpleNamespace(knobs={"copy_interval_ms": 100, "copy_idle_max_ms": 1000}),
                            _copy_wait=0.0, _next_copy=0.0)
        out = []
        for _ in range(polls):
            before = time.monotonic()
            LinkWorker._polled(w, False, took, partitions)
            out.append(round(w._next_copy - before, 1))
        LinkWorker._polled(w, True, took, partitions)
        assert (w._copy_wait, w._next_copy) == (0.0, 0.0)
        return out

    assert waits(100) == [0.4, 0.4, 0.4, 0.8, 1.0, 1.0]
    assert waits(500) == [2.0] * 6
    assert waits(10) == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert waits(10, took=0.5) == [2.5] * 6      # never sooner than 5 times the poll took

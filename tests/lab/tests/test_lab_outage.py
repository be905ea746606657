"""During a source outage the emulator reports each mirror's last known lag, as Confluent does:
the source end offset the destination last heard of minus what it holds, never 0 because the
source cannot be read now. A failover then freezes that lag (the RPO). On a lab of its own:
the test stops the source broker.
"""

from __future__ import annotations

import pytest

from linkops_lab.lab import Lab
from labtesting import Rest, unique, wait_until
from spec_check import SpecChecker

TOPIC = "payments"


@pytest.fixture(scope="module")
def outage(tmp_path_factory):
    with Lab.start(tmp_path_factory.mktemp("outage"),
                   knobs={"pending_stopped_ms": 300, "pending_mirror_ms": 100, "copy_interval_ms": 50}) as lab:
        yield lab, Rest(lab, SpecChecker.load())


def lags(mirror):
    return {p["partition"]: p["lag"] for p in mirror["mirror_lags"]}


def test_mirror_keeps_its_last_known_lag_while_the_source_is_down(outage):
    lab, rest = outage
    link = unique("outage")
    lab.create_topic("source", TOPIC, partitions=2)
    rest.create_link(link)
    rest.create_mirror(link, TOPIC)
    lab.produce("source", TOPIC, [{"value": f"a{i}", "partition": i % 2} for i in range(6)])
    rest.wait_mirror(link, TOPIC)
    assert lab.end_offsets("destination", TOPIC) == {0: 3, 1: 3}

    # copying stalls after the copier saw 4 more records on partition 1; then the source goes down
    lab.knobs(copy_round_ms=0)
    lab.produce("source", TOPIC, [{"value": f"b{i}", "partition": 1} for i in range(4)])
    wait_until(lambda: rest.mirror(link, TOPIC)["mirror_lags"][1]["last_source_fetch_offset"] == 7, 30,
               "the copier to see the source's end offset 7 on partition 1")
    assert lab.stop_broker("source")
    wait_until(lambda: rest("GET", f"/clusters/{{D}}/links/{link}", expect=200)[1]["link_state"] == "UNAVAILABLE",
               60, "the link to notice the outage")

    mirror = rest.mirror(link, TOPIC)
    assert lags(mirror) == {0: 0, 1: 4}, mirror
    assert [p["last_source_fetch_offset"] for p in mirror["mirror_lags"]] == [3, 7]
    _, listing = rest("GET", f"/clusters/{{D}}/links/{link}/mirrors", expect=200)
    (row,) = [m for m in listing["data"] if m["mirror_topic_name"] == TOPIC]
    assert lags(row) == {0: 0, 1: 4}

    # a failover without the source freezes that lag: what the playbook records as the RPO
    (result,) = rest.action(link, "failover", [TOPIC])["data"]
    assert result["error_code"] is None or result["error_code"] == 0, result
    assert {p["partition"]: p["lag"] for p in result["mirror_lags"]} == {0: 0, 1: 4}
    stopped = rest.wait_mirror(link, TOPIC, status="STOPPED", lag0=False)
    assert lags(stopped) == {0: 0, 1: 4}
    lab.knobs(copy_round_ms=2000)


def test_a_link_whose_source_checks_keep_failing_makes_its_clients_anew_every_10_s(monkeypatch):
    """librdkafka 2.16: a client that lived through a broker restart can fail every metadata request
    after the broker is back (test_dr.py's link stayed UNAVAILABLE for minutes once while a new client
    connected at once). While the checks fail, the link's clients are made anew every 10 s; the old
    admin client is kept, not destroyed (destroying one with timed-out requests can abort)."""
    from types import SimpleNamespace

    from linkops_lab.emulator import copier

    now = [1000.0]
    monkeypatch.setattr(copier, "time", SimpleNamespace(monotonic=lambda: now[0]))
    renewed, closed = [], []
    emu = SimpleNamespace(renew_admin=lambda bootstrap, conf: renewed.append(bootstrap),
                          link_client_config=lambda bootstrap, link: {})
    worker = SimpleNamespace(emu=emu, link=SimpleNamespace(name="L"), _failing_since=None, _renewed_at=0.0,
                             _close_clients=lambda: closed.append(now[0]))
    for second in range(31):           # one failed check a second for 30 s
        now[0] = 1000.0 + second
        copier.LinkWorker._renew_failing_clients(worker, "127.0.0.1:9092")
    assert closed == [1010.0, 1020.0, 1030.0]
    assert renewed == ["127.0.0.1:9092"] * 3

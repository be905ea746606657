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


def test_a_link_whose_source_checks_keep_failing_while_the_source_answers_makes_new_clients(monkeypatch):
    """librdkafka 2.16: a client that lived through a broker restart can fail every metadata request
    after the broker is back (test_dr.py's link stayed UNAVAILABLE for minutes once, while a new client
    connected at once). While the checks fail with a connection error and the source accepts TCP
    connections, the link's clients are made anew, looked at every 10 s; not while the source is down,
    nor when it refuses the credentials (new clients would fail alike, and each costs threads)."""
    from types import SimpleNamespace

    from linkops_lab.emulator import copier

    now, up = [1000.0], [False]
    monkeypatch.setattr(copier, "time", SimpleNamespace(monotonic=lambda: now[0]))

    def run(link_error, seconds=31, up_from=15):
        renewed, closed = [], []
        emu = SimpleNamespace(drop_admin=lambda bootstrap, conf, keep: renewed.append((bootstrap, keep)),
                              link_client_config=lambda bootstrap, link: {}, reachable=lambda bootstrap: up[0])
        worker = SimpleNamespace(emu=emu, link=SimpleNamespace(name="L", link_error=link_error), _failing_since=None,
                                 _renewed_at=0.0, _close_clients=lambda: closed.append(now[0]))
        for second in range(seconds):           # one failed check a second; the broker back at up_from
            now[0], up[0] = 1000.0 + second, second >= up_from
            copier.LinkWorker._renew_failing_clients(worker, "127.0.0.1:9092")
        assert renewed == [("127.0.0.1:9092", True)] * len(closed)   # the old admin client is kept
        return closed

    transport = "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR"   # what a "Broker transport failure" makes
    assert run(transport) == [1020.0, 1030.0]          # looked at 1010 (down), 1020 and 1030 (up)
    assert run(transport, up_from=99) == []            # down all along
    assert run("AUTHENTICATION_ERROR") == []


def test_reachable_means_a_host_of_the_bootstrap_accepts_tcp():
    import socket

    from linkops_lab.emulator.clients import Clients

    reachable = Clients.reachable

    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))       # bound, not listening: refused
        up, down = listening.getsockname()[1], closed.getsockname()[1]
        assert reachable(f"127.0.0.1:{up}")
        assert reachable(f"SASL_SSL://127.0.0.1:{down}, 127.0.0.1:{up}")
        assert not reachable(f"127.0.0.1:{down}")
        assert not reachable("no-port-given")

"""rollout.yml's health gate on a lab of its own: a healthy link passes, a re-run judges it from the run's own
results (3 REST requests in all), and a link whose source is down fails after rollout_gate_unavailable_grace
with one progress line per try, not after rollout_gate_timeout."""

from __future__ import annotations

import re

import pytest

from fleet_it import D, S, links_on, playbook, write_inventory
from linkops_it import start_lab, wait_until

LINK = "gate-1"
TOPIC = "gate-1-orders"


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gate")
    lab = start_lab(tmp / "lab")
    try:
        lab.create_topic(S, TOPIC, partitions=2)
        lab.produce(S, TOPIC, [{"value": f"v{i}", "partition": i % 2} for i in range(6)])
        inventory = write_inventory(tmp / "inventory", lab, {LINK: {"link_topics": [TOPIC]}})
        yield {"lab": lab, "inventory": inventory}
    finally:
        lab.stop()


GATE = ["-e", "rollout_gate_max_lag=0", "-e", "rollout_gate_interval=1"]


def test_a_healthy_link_passes_and_a_rerun_costs_three_requests(gated):
    first = playbook(gated["lab"], gated["inventory"], "rollout", *GATE, "-e", "rollout_gate_timeout=120")
    assert first.rc == 0, first.output
    assert f"{LINK} passed the gate: link ACTIVE, 1 mirrors" in first.output
    again = playbook(gated["lab"], gated["inventory"], "rollout", *GATE, "-v")
    assert again.rc == 0, again.output
    requests = [int(n) for n in re.findall(r"^\s*rest_requests: (\d+)$", again.output, re.M)]
    # cluster_link: the link and its configs; mirror_topic: its mirrors; the gate: nothing (judged from those)
    assert sum(requests) == 3, again.output
    assert re.search(r"^\s*reused: true$", again.output, re.M), again.output


def test_an_unavailable_source_fails_the_gate_after_the_grace(gated):
    lab = gated["lab"]
    lab.stop_broker(S)
    try:
        wait_until(lambda: links_on(lab, D)[LINK]["link_state"] == "UNAVAILABLE", 90, "the link to notice the outage")
        run = playbook(lab, gated["inventory"], "rollout", "--tags", "gate", *GATE,
                       "-e", "rollout_gate_timeout=600", "-e", "rollout_gate_unavailable_grace=4")
    finally:
        lab.start_broker(S)
    assert run.rc != 0, run.output
    assert f"Health gate: link {LINK} on lab_destination is not healthy: the link is UNAVAILABLE" in run.output
    progress = [line for line in run.output.splitlines() if line.startswith(f"{LINK}: not healthy yet")]
    # one line per try, and far fewer tries than a 600 s timeout at 1 s would make
    assert 1 <= len(progress) <= 30, run.output
    assert "s left" in progress[0] and "link UNAVAILABLE" in progress[0]
    assert "Traceback" not in run.output

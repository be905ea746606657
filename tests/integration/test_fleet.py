"""playbooks/rollout.yml over a fleet of 6 links, on a lab of its own.

The default batches (serial [1, 2]: a canary, then batches of 2). The third link is made to fail: its
inventory carries a link config left over from a maintenance, cluster.link.paused: true, so the link
is created PAUSED and its mirror never copies. The rollout must stop at the health gate of that
batch: the canary and the first batch are linked and healthy, the links of later batches do not exist
on the lab. The operator fixes the inventory (cluster.link.paused: false) and runs the rollout again:
it resumes, the links that passed are not changed, all six pass the gate.
"""

from __future__ import annotations

import time

import pytest
import yaml

from fleet_it import D, S, links_on, mirror_status, mirrors_on, playbook, recap, write_inventory
from linkops_it import start_lab

LINKS = [f"fleet-{i}" for i in range(1, 7)]
BAD = "fleet-3"
GATE = ["-e", "rollout_gate_max_lag=0", "-e", "rollout_gate_interval=1", "-e", "rollout_gate_timeout=90"]


def topic_of(link):
    return f"{link}-orders"


def host_vars(link, paused=None):
    configs = {"consumer.offset.sync.ms": 1000}
    if paused is not None:
        configs["cluster.link.paused"] = paused
    return {"link_topics": [topic_of(link)], "link_configs": configs}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    lab = start_lab(tmp / "lab")
    try:
        for link in LINKS:
            lab.create_topic(S, topic_of(link), partitions=2)
            lab.produce(S, topic_of(link), [{"value": f"{link}-{i}", "partition": i % 2} for i in range(10)])
        links = {link: host_vars(link, paused=True if link == BAD else None) for link in LINKS}
        inventory = write_inventory(tmp / "inventory", lab, links)
        started = time.monotonic()
        first = playbook(lab, inventory, "rollout", *GATE)
        state = {"links": links_on(lab, D), "mirrors": mirrors_on(lab, D), "seconds": time.monotonic() - started}
        yield {"lab": lab, "inventory": inventory, "first": first, "after_first": state}
    finally:
        lab.stop()


def test_rollout_stops_at_the_gate_of_the_failing_batch(fleet):
    first = fleet["first"]
    assert first.rc != 0, first.output
    hosts = recap(first.output)
    # the canary, then the batch with the failing link; nothing after it
    assert set(hosts) == {"fleet-1", "fleet-2", BAD}, first.output
    assert hosts[BAD]["failed"] == 1 and hosts["fleet-1"]["failed"] == hosts["fleet-2"]["failed"] == 0
    plays = [line for line in first.output.splitlines() if line.startswith("PLAY [Roll out")]
    assert len(plays) == 2, first.output
    # the gate stopped it, at once (a paused link does not recover by itself), naming the link and why
    assert f"Health gate: link {BAD} on lab_destination is not healthy: the link is PAUSED" in first.output, \
        first.output
    assert "links of later batches are not touched" in first.output
    assert "fleet-2 passed the gate" in first.output
    # it did not wait for the 90 s timeout (a read or two while the new link settles, at most)
    assert first.output.count(f"FAILED - RETRYING: [{BAD}]") <= 5, first.output


def test_later_batches_are_untouched(fleet):
    links = fleet["after_first"]["links"]
    assert {"fleet-1", "fleet-2", BAD} <= set(links)
    assert not {"fleet-4", "fleet-5", "fleet-6"} & set(links), sorted(links)
    for link in ("fleet-4", "fleet-5", "fleet-6"):
        assert topic_of(link) not in fleet["lab"].topics(D)
    assert links[BAD]["link_state"] == "PAUSED"


def test_links_that_passed_are_healthy(fleet):
    lab, mirrors = fleet["lab"], fleet["after_first"]["mirrors"]
    for link in ("fleet-1", "fleet-2"):
        assert mirrors[(link, topic_of(link))]["mirror_status"] == "ACTIVE"
        assert lab.end_offsets(D, topic_of(link)) == lab.end_offsets(S, topic_of(link)) == {0: 5, 1: 5}
    assert mirrors[(BAD, topic_of(BAD))]["mirror_status"] == "LINK_PAUSED"


def test_fix_and_resume(fleet):
    """The operator fixes the inventory; the rollout resumes and leaves the links that passed alone."""
    lab, inventory = fleet["lab"], fleet["inventory"]
    (inventory / "host_vars" / f"{BAD}.yml").write_text(yaml.safe_dump(host_vars(BAD, paused=False)))
    again = playbook(lab, inventory, "rollout", *GATE)
    assert again.rc == 0, again.output
    hosts = recap(again.output)
    assert set(hosts) == set(LINKS) | {"localhost"}, again.output
    for link in ("fleet-1", "fleet-2"):
        assert hosts[link]["changed"] == 0, f"{link} was changed on the re-run:\n{again.output}"
    for link in (BAD, "fleet-4", "fleet-5", "fleet-6"):
        assert hosts[link]["changed"] >= 1 and hosts[link]["failed"] == 0, again.output
    assert set(LINKS) <= set(links_on(lab, D))
    for link in LINKS:
        assert mirror_status(lab, D, link, topic_of(link)) == "ACTIVE"
        assert lab.end_offsets(D, topic_of(link)) == lab.end_offsets(S, topic_of(link))
        assert f"'{link}: healthy" in again.output, again.output

"""status.yml on the session lab: what an operator reads for a small fleet, and that reading changes nothing.

The fleet (one inventory host per link, the source cluster with a SASL password so that the links carry a
sasl.jaas.config):
  sta   2 mirrors: one ACTIVE and caught up, one PAUSED with 4 records not copied (the max lag)
  stb   1 mirror, promoted (STOPPED: a writable topic)
  stc   a BIDIRECTIONAL pair (rollout.yml): the link on both clusters, its mirror ACTIVE
  stm   in the inventory, never created: "no link ... on lab_destination"

Made with migrate.yml's link and mirrors phases (rollout.yml for the pair) and the mirror_topic module;
then status.yml runs, and again under --check at -vvv. Each run: rc 0, nothing changed on the lab, two
tasks per link, neither the REST password nor the SASL password nor a JAAS line in the output.
"""

from __future__ import annotations

import pytest

from fleet_it import D, S, cluster_dict, lab_snapshot, playbook, recap, write_inventory
from linkops_it import run_ansible_module, unique_name, wait_until

SASL_PASSWORD = "status-sasl-" + unique_name("pw")


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def fleet(lab, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("status")
    a, b, c, m = (unique_name(p) for p in ("sta", "stb", "stc", "stm"))
    topics = {a: [f"{a}-t1", f"{a}-t2"], b: [f"{b}-t"], c: [f"{c}-t"], m: [f"{m}-t"]}
    for name in (a, b, c):
        for topic in topics[name]:
            lab.create_topic(S, topic, partitions=2 if topic.endswith("-t1") else 1)
    lab.produce(S, f"{a}-t1", [{"key": f"k{i}", "value": f"v{i}"} for i in range(6)])

    # The links reach the source with SASL (the lab brokers are plaintext: the clients keep PLAINTEXT).
    source = cluster_dict(lab, S)
    source.update(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="link-user",
                  sasl_password=SASL_PASSWORD,
                  client_config={**source["client_config"], "security.protocol": "PLAINTEXT"})
    inventory = write_inventory(
        tmp / "inventory", lab,
        {a: {"link_topics": topics[a]}, b: {"link_topics": topics[b]},
         c: {"link_topics": topics[c], "link_mode": "BIDIRECTIONAL"}, m: {"link_topics": topics[m]}},
        linkops_clusters={"lab_source": source, "lab_destination": cluster_dict(lab, D)})

    run = playbook(lab, inventory, "migrate", "--tags", "link,mirrors", "--limit", f"{a},{b}")
    assert run.rc == 0, run.output
    run = playbook(lab, inventory, "rollout", "--limit", c, "-e", "rollout_gate_timeout=120")
    assert run.rc == 0, run.output
    promoted = run_ansible_module(lab, "mirror_topic", {"link_name": b, "topics": topics[b], "state": "promoted"})
    assert promoted.rc == 0, promoted.output
    paused = run_ansible_module(lab, "mirror_topic", {"link_name": a, "topics": [f"{a}-t2"], "state": "paused"})
    assert paused.rc == 0, paused.output
    lab.produce(S, f"{a}-t2", [{"key": "k", "value": f"late{i}"} for i in range(4)])
    wait_until(lambda: lab.end_offsets(D, f"{a}-t1") == lab.end_offsets(S, f"{a}-t1"), 60, f"{a}-t1 caught up")

    before = lab_snapshot(lab)
    runs = {"apply": playbook(lab, inventory, "status"),
            "check": playbook(lab, inventory, "status", "--check", "-vvv")}
    return {"a": a, "b": b, "c": c, "m": m, "runs": runs, "before": before, "after": lab_snapshot(lab),
            "lab": lab}


@pytest.mark.parametrize("mode", ["apply", "check"])
def test_status_says_what_each_link_is_in_plain_words(fleet, mode):
    a, b, c, m = fleet["a"], fleet["b"], fleet["c"], fleet["m"]
    run = fleet["runs"][mode]
    assert run.rc == 0, run.output
    out = _flat(run.output)
    # the headline of each link: state, mirrors by status with what the status means, max lag
    assert f"{a} on lab_destination: link ACTIVE; 2 mirrors: 1 ACTIVE (mirroring), 1 PAUSED (paused); max lag 4" in out
    assert f"{b} on lab_destination: link ACTIVE; 1 mirror: 1 STOPPED (promoted or failed over); max lag 0" in out
    assert f"{c} on lab_destination: link ACTIVE; 1 mirror: 1 ACTIVE (mirroring); max lag 0" in out
    assert f"no link {m} on lab_destination" in out
    # the details: the promoted topic named and explained, the lagging one, the link, tasks, configs
    assert f"1 STOPPED: promoted or failed over (writable topics, no longer mirroring) - {b}-t" in out
    assert f"1 PAUSED: paused (not copying; mirror_topic state active resumes it) - {a}-t2" in out
    assert "lag 4 records on the most lagging partition, 4 in total" in out
    assert "link DESTINATION/OUTBOUND, remote cluster lab_source" in out
    assert "tasks none IN_ERROR (" in out
    assert f"configs bootstrap.servers = {fleet['lab'].bootstrap(S)}" in out
    assert "security.protocol = SASL_PLAINTEXT" in out
    assert "secrets sasl.jaas.config (set; values never shown)" in out
    if mode == "apply":  # plain words, not the module's raw booleans
        assert "all_mirrors_active" not in out and "status_counts" not in out
    # the other side of the BIDIRECTIONAL pair, on the source cluster
    assert f"{c} on lab_source: link ACTIVE; 0 mirrors; max lag 0" in out
    assert "link BIDIRECTIONAL/OUTBOUND, remote cluster lab_destination" in out
    # the summary over every link
    assert (f"TOTAL: 4 links read (a BIDIRECTIONAL pair on both clusters: 1 pairs), 1 missing; "
            f"mirrors: 2 ACTIVE, 1 PAUSED, 1 STOPPED; max lag 4 ({a} on lab_destination)") in out


@pytest.mark.parametrize("mode", ["apply", "check"])
def test_status_changes_nothing_and_costs_two_tasks_per_link(fleet, mode):
    run = fleet["runs"][mode]
    assert run.rc == 0, run.output
    hosts = recap(run.output)
    for link in (fleet["a"], fleet["b"], fleet["c"], fleet["m"]):
        assert hosts[link] == {**hosts[link], "ok": 2, "changed": 0, "failed": 0}, run.output
        # at most the play's one run_once check of which collection copy runs (skipped from the checkout)
        assert hosts[link]["skipped"] <= 1, run.output
    assert hosts["localhost"]["changed"] == 0
    assert fleet["after"] == fleet["before"]


@pytest.mark.parametrize("mode", ["apply", "check"])
def test_status_never_shows_a_secret(fleet, mode):
    output = fleet["runs"][mode].output
    assert fleet["lab"].rest_password not in output
    assert SASL_PASSWORD not in output
    assert "PlainLoginModule" not in output and "password=" not in output
    assert "sasl.jaas.config =" not in _flat(output) and "sasl.jaas.config:" not in output

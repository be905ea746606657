"""cluster_link_info against the lab: links with mode, state, configs, tasks, mirrors and lag; cost."""

from __future__ import annotations

import json
import uuid

import pytest

from linkops_it import calls, create_link_via_rest, delete_link, link_configs, mirror, unique_name, wait_until

pytestmark = pytest.mark.backends("rest", "cli")

D = "destination"
S = "source"


def create_mirror_via_rest(lab, link, topic):
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{link}/mirrors",
                            {"source_topic_name": topic})
    assert status in (201, 204), (status, body)
    wait_until(lambda: mirror(lab, link, topic)[1].get("mirror_status") == "ACTIVE", 30, f"{topic} ACTIVE")


@pytest.fixture
def two_links(lab):
    names = [unique_name("it-info-a"), unique_name("it-info-b")]
    yield names
    for name in names:
        delete_link(lab, name)


def test_info_reports_links_configs_mirrors_and_lag(lab, run_module, unique, two_links, backend):
    small, big = two_links
    topics = [unique("it-info-t%d" % i) for i in range(6)]
    for topic in topics:
        lab.create_topic(S, topic, partitions=2)
        lab.produce(S, topic, [{"value": f"v{i}", "partition": i % 2} for i in range(4)])
    create_link_via_rest(lab, small, **{"consumer.offset.sync.ms": "12000"})
    create_link_via_rest(lab, big)
    create_mirror_via_rest(lab, small, topics[0])
    for topic in topics[1:]:
        create_mirror_via_rest(lab, big, topic)
    lab.knobs(copy_paused=True)  # new records stay behind: real lag
    try:
        lab.produce(S, topics[0], [{"value": "late", "partition": 1}] * 3)

        run = run_module("cluster_link_info", {"names": [small, big, "it-no-such-link"]})
        assert run.rc == 0, run.output
        result = run.result
        assert result["changed"] is False
        assert [l["link_name"] for l in result["links"]] == [small, big]
        assert result["missing"] == ["it-no-such-link"]
        assert result["exists"] is False and result["all_active"] is False

        a, b = result["links"]
        assert a["link_mode"] == "DESTINATION" and a["connection_mode"] == "OUTBOUND"
        assert a["remote_cluster_id"] == lab.source_cluster_id == a["source_cluster_id"]
        assert a["link_state"] == "ACTIVE"
        status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{small}")
        assert a["cluster_link_id"] == body["cluster_link_id"]
        # dynamic configs only, as the lab has them
        dynamic = {k: e["value"] for k, e in link_configs(lab, small).items()
                   if e["source"] == "DYNAMIC_CLUSTER_LINK_CONFIG"}
        assert a["configs"] == dynamic
        assert a["configs"]["consumer.offset.sync.ms"] == "12000"
        # mirrors with per-partition lag: 3 records behind on partition 1
        assert [m["mirror_topic_name"] for m in a["mirrors"]] == [topics[0]]
        lags = {p["partition"]: p["lag"] for p in a["mirrors"][0]["mirror_lags"]}
        assert lags == {0: 0, 1: 3}
        assert a["max_lag"] == 3 and a["total_lag"] == 3 and a["mirror_count"] == 1
        assert b["mirror_count"] == 5 and b["status_counts"] == {"ACTIVE": 5}
        assert [m["mirror_topic_name"] for m in b["mirrors"]] == sorted(topics[1:])
        assert b["max_lag"] == 0 and b["all_mirrors_active"] is True
        assert result["max_lag"] == 3
        assert result["status_counts"] == {"ACTIVE": 6}

        # reading one link costs the same with 1 or 5 mirrors (the link with its tasks + configs + its mirrors)
        costs = []
        for name in (small, big):
            one = run_module("cluster_link_info", {"names": [name]})
            assert one.rc == 0, one.output
            assert one.result["exists"] is True and one.result["all_active"] is True
            costs.append(calls(one.result))
        assert costs[0] == costs[1], costs
        if backend == "rest":
            assert costs[0] == 3, costs
    finally:
        lab.knobs(copy_paused=False)

    # all links of the cluster when no names are given; include_mirrors=false costs one call less
    every = run_module("cluster_link_info", {"include_mirrors": False})
    assert every.rc == 0, every.output
    assert {small, big} <= {l["link_name"] for l in every.result["links"]}
    assert all(l["mirrors"] == [] for l in every.result["links"])
    if backend == "rest":
        n = len(every.result["links"])
        assert calls(every.result) == 1 + 2 * n, every.result


def test_info_default_configs_and_secrets_by_name(lab, run_module, link_name, backend):
    canary = f"CANARY-{uuid.uuid4().hex}"
    jaas = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
            f'username="u" password="{canary}";')
    create_link_via_rest(lab, link_name, **{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
                                            "sasl.jaas.config": jaas, "ssl.truststore.password": canary})
    run = run_module("cluster_link_info", {"names": [link_name], "include_default_configs": True}, verbose=3)
    assert run.rc == 0, run.output
    link = run.result["links"][0]
    assert link["secrets_set"] == ["sasl.jaas.config", "ssl.truststore.password"]
    assert "sasl.jaas.config" not in link["configs"]
    assert link["configs"]["security.protocol"] == "SASL_PLAINTEXT"
    every = link_configs(lab, link_name)
    if backend == "rest":
        # defaults too: every non-secret config the lab lists
        assert set(link["configs"]) == {k for k, e in every.items() if not e["is_sensitive"]}
        assert link["configs"]["consumer.offset.sync.ms"] == every["consumer.offset.sync.ms"]["value"]
    else:
        # the CP tools print only the configs set on the link, and the module says so
        assert set(link["configs"]) == {"bootstrap.servers", "security.protocol", "sasl.mechanism"}
        assert "include_default_configs: the CP tools print only" in run.output
    assert canary not in run.output

    run = run_module("cluster_link_info", {"names": [link_name]})
    assert set(run.result["links"][0]["configs"]) == {"bootstrap.servers", "security.protocol", "sasl.mechanism"}


@pytest.mark.backends("rest")  # the CP tools do not print link tasks
def test_info_reports_tasks_in_error_for_until_loops(lab, run_module, link_name):
    create_link_via_rest(lab, link_name, **{"consumer.offset.sync.enable": "true"})
    run = run_module("cluster_link_info", {"names": [link_name], "include_mirrors": False})
    assert run.rc == 0, run.output
    link = run.result["links"][0]
    tasks = {t["task_name"]: t for t in link["tasks"]}
    assert tasks["ConsumerOffsetSync"]["state"] == "IN_ERROR"
    assert len(link["tasks_in_error"]) == 1
    assert link["tasks_in_error"][0].startswith("ConsumerOffsetSync (MISCONFIGURATION_ERROR: ")
    assert run.result["tasks_in_error"] == [f"{link_name}: {link['tasks_in_error'][0]}"]

    # the fix, then the loop condition holds
    group_filters = json.dumps({"groupFilters": [{"name": "*", "patternType": "LITERAL", "filterType": "INCLUDE"}]})
    status, body = lab.rest("PUT", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{link_name}"
                            "/configs/consumer.offset.group.filters", {"value": group_filters})
    assert status == 204, body
    run = run_module("cluster_link_info", {"names": [link_name], "include_mirrors": False})
    assert run.result["tasks_in_error"] == [] and run.result["all_active"] is True

    # include_tasks=false: one request less, no tasks
    run = run_module("cluster_link_info", {"names": [link_name], "include_mirrors": False, "include_tasks": False})
    assert run.result["links"][0]["tasks"] == []
    assert calls(run.result) == 2


def test_info_on_a_cluster_link_that_is_paused(lab, run_module, link_name):
    create_link_via_rest(lab, link_name, **{"cluster.link.paused": "true"})
    run = run_module("cluster_link_info", {"names": [link_name]})
    assert run.rc == 0, run.output
    assert run.result["links"][0]["link_state"] == "PAUSED"
    assert run.result["all_active"] is False

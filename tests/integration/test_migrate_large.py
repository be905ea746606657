"""A larger migration with the playbooks, on a lab of its own: 20 topics x 3 partitions, 3 consumer
groups and the ACLs of 3 applications, with an inventory in the model of docs/fleet.md.

migrate.yml (preflight, link with group and ACL filters, 20 mirrors in one task, sync wait, promote in
batches of 8, verify) must succeed; then verify.yml (role verify, ACLs read from the lab's REST /acls
since its brokers have no authorizer) must pass every check and write a PASSED report. The lab is read
back: every topic and partition, end offsets, the groups' committed offsets and the ACLs are on the
destination, every mirror is STOPPED, cutover.json has the 20 topics.
"""

from __future__ import annotations

import pytest

from fleet_it import D, S, mirrors_on, playbook, read_json, recap, write_inventory
from linkops_it import start_lab, wait_until

LINK = "big-link"
TOPICS = [f"big-{i:02d}" for i in range(20)]
PARTITIONS = 3
GROUPS = {"app-a": TOPICS[:7], "app-b": TOPICS[7:14], "app-c": TOPICS[14:]}
PRINCIPALS = [f"User:{g}" for g in GROUPS]


PROBE_HEADER = "linkops-probe"


def by_position(records):
    return sorted(((r["partition"], r["offset"], r["key"], r["value"]) for r in records))


def acls(lab, side, principal=None):
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.cluster_id(side)}/acls",
                            params={"principal": principal} if principal else None, cluster=side)
    assert status == 200, (status, body)
    return sorted((a["resource_type"], a["resource_name"], a["pattern_type"], a["principal"], a["operation"])
                  for a in body["data"])


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("large")
    lab = start_lab(tmp / "lab")
    try:
        for n, topic in enumerate(TOPICS):
            lab.create_topic(S, topic, partitions=PARTITIONS)
            lab.produce(S, topic, [{"key": f"k{i}", "value": f"{topic}-{i}", "partition": i % PARTITIONS}
                                   for i in range(10 + n)])
        for group, topics in GROUPS.items():
            for topic in topics:
                lab.consume(S, topic, group=group, commit=True, max_records=7)
        entries = []
        for group, topics in GROUPS.items():
            entries += [{"resource_type": "TOPIC", "resource_name": t, "pattern_type": "LITERAL",
                         "principal": f"User:{group}", "host": "*", "operation": "READ", "permission": "ALLOW"}
                        for t in topics[:2]]
            entries.append({"resource_type": "GROUP", "resource_name": group, "pattern_type": "LITERAL",
                            "principal": f"User:{group}", "host": "*", "operation": "READ", "permission": "ALLOW"})
        status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.source_cluster_id}/acls:batch",
                                {"data": entries}, cluster=S)
        assert status == 201, (status, body)

        inventory = write_inventory(tmp / "inventory", lab, {LINK: {
            "link_topics": TOPICS,
            "link_consumer_groups": list(GROUPS),
            "link_consumer_group_filters": [{"name": "app-", "pattern_type": "prefixed"}],
            "link_acl_filters": [{"resource_type": "any", "pattern_type": "any", "principal": p, "operation": "any",
                                  "permission_type": "any"} for p in PRINCIPALS],
            "link_configs": {"consumer.offset.sync.ms": 1000, "acl.sync.ms": 1000},
            "link_cutover_batch_size": 8,
        }}, migrate_confirm_cutover=True, link_acl_source="rest", verify_acl_source="rest")
        out = {"lab": lab, "tmp": tmp}
        out["migrate"] = playbook(lab, inventory, "migrate")
        if out["migrate"].rc == 0:
            wait_until(lambda: all(acls(lab, D, p) == acls(lab, S, p) for p in PRINCIPALS), 60,
                       "the link to sync the applications' ACLs")
            out["verify"] = playbook(lab, inventory, "verify")
        yield out
    finally:
        lab.stop()


def test_migrate_yml_moves_20_topics(large):
    run = large["migrate"]
    assert run.rc == 0, run.output
    assert recap(run.output)[LINK]["failed"] == 0
    lab = large["lab"]
    dest_topics = lab.topics(D)
    for topic in TOPICS:
        assert dest_topics.get(topic) == PARTITIONS, topic
        # the same records at the same offsets, and nothing else: the verification writes nothing by default
        copied = lab.consume(D, topic)
        assert not [r for r in copied if any(h[0] == PROBE_HEADER for h in r["headers"] or [])], topic
        assert by_position(copied) == by_position(lab.consume(S, topic)), topic
    mirrors = mirrors_on(lab, D)
    assert sorted(t for (link, t), m in mirrors.items() if link == LINK and m["mirror_status"] == "STOPPED") == TOPICS


def test_group_offsets_and_acls_are_on_the_destination(large):
    lab = large["lab"]
    assert large["migrate"].rc == 0, large["migrate"].output
    for group, topics in GROUPS.items():
        source = lab.group_offsets(S, group)
        assert sorted(source) == sorted(topics)
        assert lab.group_offsets(D, group) == source, group
    for principal in PRINCIPALS:
        assert len(acls(lab, D, principal)) == 3 and acls(lab, D, principal) == acls(lab, S, principal)


def test_cutover_json_lists_every_topic(large):
    report = read_json(large["tmp"] / "reports" / LINK / "cutover.json")
    assert report["mode"] == "promote"
    assert sorted(r["topic"] for r in report["topics"]) == TOPICS
    assert {r["action"] for r in report["topics"]} == {"promoted"}
    assert all(r["max_lag"] == 0 for r in report["topics"])


def test_verify_passes_every_check(large):
    run = large.get("verify")
    assert run is not None and run.rc == 0, (run or large["migrate"]).output
    report = read_json(large["tmp"] / "reports" / LINK / "report.json")
    assert report["summary"]["result"] == "PASSED"
    names = [c["name"] for c in report["checks"]]
    for topic in TOPICS:
        for check in ("topic_exists", "partitions", "end_offsets", "writable"):
            assert f"{check}:{topic}" in names
    for group in GROUPS:
        assert f"group_offsets:{group}" in names
    for principal in PRINCIPALS:
        assert f"acls:{principal}" in names
    assert all(c["ok"] for c in report["checks"]), [c for c in report["checks"] if not c["ok"]]
    for name in ("report.html", "report.md", "junit.xml"):
        assert (large["tmp"] / "reports" / LINK / name).is_file()

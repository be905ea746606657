"""migration_verify's ACL check against the lab: ACLs created on the source's REST server, a link that
syncs them (acl.sync.enable + acl.filters), then verify passes; an ACL deleted on the destination makes
the check fail naming it. On the noida lab (no authorizer; the lab's REST servers keep the ACLs)
acl_source=rest reads them and acl_source=admin fails saying so; on the apache-kafka lab (the
StandardAuthorizer) acl_source=admin reads each broker's own ACLs over SASL_SSL."""

from __future__ import annotations

import json

import pytest

from linkops_it import create_link_via_rest, delete_link, mirror, run_ansible_module, unique_name, wait_until

S, D = "source", "destination"


def acl(principal, topic, operation="READ", pattern="LITERAL"):
    return {"resource_type": "TOPIC", "resource_name": topic, "pattern_type": pattern, "principal": principal,
            "host": "*", "operation": operation, "permission": "ALLOW"}


def acls_of(lab, cluster, principal):
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.cluster_id(cluster)}/acls",
                            params={"principal": principal}, cluster=cluster)
    assert status == 200, (status, body)
    return body["data"]


def verify_args(lab, topic, principal, rest=True, **over):
    """migration_verify's options for the ACLs of ``principal``: each cluster's Kafka client settings from
    lab.json (on apache-kafka SASL_SSL as the lab's admin user) and, with ``rest``, acl_source=rest and both
    REST servers; ``over`` on top."""
    def client(side):
        return {k: v for k, v in (lab.info.get(f"{side}_client_config") or lab.client_config).items()
                if k != "bootstrap.servers"}
    args = {
        "source_bootstrap_servers": lab.source_bootstrap, "source_client_config": client(S),
        "destination_bootstrap_servers": lab.destination_bootstrap, "destination_client_config": client(D),
        # the mirror stays ACTIVE (read-only) here: only the ACLs are under test
        "topics": [topic], "check_writable": False,
        "acl_filters": [{"resource_type": "any", "pattern_type": "any", "principal": principal,
                         "operation": "any", "permission_type": "any"}],
    }
    if rest:
        args.update({
            "acl_source": "rest",
            "source_rest_url": lab.source_rest_url, "source_cluster_id": lab.source_cluster_id,
            "source_rest_username": lab.rest_username, "source_rest_password": lab.rest_password,
            "destination_rest_url": lab.destination_rest_url, "destination_cluster_id": lab.destination_cluster_id,
            "destination_rest_username": lab.rest_username, "destination_rest_password": lab.rest_password,
        })
    args.update(over)
    return args


@pytest.fixture
def synced(lab):
    yield from _synced(lab)


@pytest.fixture
def ak_synced(apache_kafka_lab):
    yield from _synced(apache_kafka_lab)


def _synced(lab):
    """A topic mirrored over a link that syncs the ACLs of a fresh principal; the link is deleted
    afterwards (synced ACLs stay, as on Confluent)."""
    link, topic, principal = unique_name("it-acl-link"), unique_name("it-acl-t"), "User:" + unique_name("it-app")
    lab.create_topic(S, topic, partitions=2)
    lab.produce(S, topic, [{"value": f"v{i}", "partition": i % 2} for i in range(6)])
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.source_cluster_id}/acls:batch",
                            {"data": [acl(principal, topic), acl(principal, topic, "WRITE"),
                                      acl(principal, "it-acl-", "DESCRIBE", "PREFIXED")]}, cluster=S)
    assert status == 201, (status, body)
    filters = {"aclFilters": [{"resourceFilter": {"resourceType": "any", "patternType": "any"},
                               "accessFilter": {"principal": principal, "operation": "any",
                                                "permissionType": "any"}}]}
    create_link_via_rest(lab, link, **{"acl.sync.enable": "true", "acl.sync.ms": "1000",
                                       "acl.filters": json.dumps(filters)})
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{link}/mirrors",
                            {"source_topic_name": topic})
    assert status in (201, 204), (status, body)
    wait_until(lambda: len(acls_of(lab, D, principal)) == 3, 30, "the link to sync 3 ACLs")
    wait_until(lambda: lab.end_offsets(D, topic) == lab.end_offsets(S, topic)
               and mirror(lab, link, topic)[1].get("mirror_status") == "ACTIVE", 30, "the mirror to catch up")
    yield {"link": link, "topic": topic, "principal": principal}
    delete_link(lab, link)


def delete_write_acl(lab, synced):
    """Delete the link (its sync would put the ACL back; synced ACLs stay), then the principal's WRITE ACL
    on the destination."""
    delete_link(lab, synced["link"])
    status, body = lab.rest("DELETE", f"/kafka/v3/clusters/{lab.destination_cluster_id}/acls",
                            params={"resource_type": "TOPIC", "resource_name": synced["topic"],
                                    "pattern_type": "LITERAL", "principal": synced["principal"], "host": "*",
                                    "operation": "WRITE", "permission": "ALLOW"})
    assert status == 200 and len(body["data"]) == 1, (status, body)


def test_synced_acls_pass_then_a_deleted_one_fails_naming_it(lab, synced):
    principal, topic = synced["principal"], synced["topic"]
    ok = run_ansible_module(None, "migration_verify", verify_args(lab, topic, principal), connect=False)
    assert ok.rc == 0, ok.output
    rows = {r["name"]: r for r in ok.result["checks"]}
    assert rows[f"acls:{principal}"] == {"name": f"acls:{principal}", "ok": True, "skipped": False,
                                         "detail": "3 ACLs present on the destination"}
    assert ok.result["acls"]["source_selected"] == 3 and ok.result["acls"]["missing"] == []
    # one GET /acls per cluster (the cluster ids are given)
    assert ok.result["rest_requests"] == 2
    assert lab.rest_password not in ok.output

    # the sync would put it back: stop the link first (synced ACLs stay), then delete one ACL
    delete_write_acl(lab, synced)

    bad = run_ansible_module(None, "migration_verify", verify_args(lab, topic, principal), connect=False)
    assert bad.rc != 0, bad.output
    assert bad.result["failed_checks"] == [f"acls:{principal}"]
    assert f"acls:{principal}" in bad.msg
    row = {r["name"]: r for r in bad.result["checks"]}[f"acls:{principal}"]
    assert row["detail"] == (f"1 of 3 ACLs missing on the destination: ALLOW {principal} WRITE on topic {topic} "
                             "(literal) from host *")
    assert bad.result["acls"]["missing"] == [{
        "resourceType": "topic", "name": topic, "patternType": "literal", "principal": principal, "host": "*",
        "operation": "write", "permissionType": "allow"}]
    # the other checks still pass
    assert all(r["ok"] for r in bad.result["checks"] if not r["name"].startswith("acls:"))


def test_admin_source_reads_the_brokers_acls_on_apache_kafka(apache_kafka_lab, ak_synced):
    lab, principal, topic = apache_kafka_lab, ak_synced["principal"], ak_synced["topic"]
    from_brokers = verify_args(lab, topic, principal, rest=False, acl_source="admin")
    ok = run_ansible_module(None, "migration_verify", from_brokers, connect=False)
    assert ok.rc == 0, ok.output
    rows = {r["name"]: r for r in ok.result["checks"]}
    assert rows[f"acls:{principal}"]["ok"] is True, rows
    assert rows[f"acls:{principal}"]["detail"] == "3 ACLs present on the destination"
    assert ok.result["acls"]["acl_source"] == "admin" and ok.result["acls"]["source_selected"] == 3
    assert ok.result.get("rest_requests", 0) == 0      # the brokers, not a REST server
    for password in (lab.info["source_client_config"]["sasl.password"],
                     lab.info["destination_client_config"]["sasl.password"]):
        assert password not in ok.output

    # stop the sync, then delete one ACL on the destination broker (the authorizer's own)
    delete_write_acl(lab, ak_synced)
    bad = run_ansible_module(None, "migration_verify", from_brokers, connect=False)
    assert bad.rc != 0, bad.output
    assert bad.result["failed_checks"] == [f"acls:{principal}"]
    row = {r["name"]: r for r in bad.result["checks"]}[f"acls:{principal}"]
    assert row["detail"] == (f"1 of 3 ACLs missing on the destination: ALLOW {principal} WRITE on topic {topic} "
                             "(literal) from host *")


def test_filters_that_select_nothing_fail_and_check_mode_reads_acls(lab, synced):
    run = run_ansible_module(None, "migration_verify",
                             verify_args(lab, synced["topic"], "User:" + unique_name("nobody")), connect=False,
                             check=True)
    assert run.rc != 0, run.output
    assert run.result["failed_checks"] == ["acls:source"]
    assert "no ACL on the source matches acl_filters" in run.msg + str(run.result["checks"])


def test_admin_source_on_brokers_without_authorizer_says_use_rest(lab, synced):
    args = verify_args(lab, synced["topic"], synced["principal"], acl_source="admin")
    run = run_ansible_module(None, "migration_verify", args, connect=False)
    assert run.rc != 0, run.output
    assert run.result["failed_checks"] == ["acls:source", "acls:destination"]
    for row in run.result["checks"][-2:]:
        assert "no authorizer" in row["detail"] and "acl_source=rest" in row["detail"]


def test_bad_acl_options_fail_clearly(lab, synced):
    topic, principal = synced["topic"], synced["principal"]
    run = run_ansible_module(None, "migration_verify",
                             verify_args(lab, topic, principal, destination_rest_url=None), connect=False)
    assert run.rc != 0 and "set destination_rest_url" in run.msg, run.output
    bad_filter = [{"resource_type": "topic", "pattern_type": "literal", "operation": "describe_configs",
                   "permission_type": "allow"}]
    run = run_ansible_module(None, "migration_verify",
                             verify_args(lab, topic, principal, acl_filters=bad_filter), connect=False)
    assert run.rc != 0, run.output
    assert run.msg.startswith("acl_filters[0].operation: 'describe_configs' is not an ACL operation; "
                              "use describeConfigs"), run.msg
    run = run_ansible_module(None, "migration_verify",
                             verify_args(lab, topic, principal, destination_rest_password="wrong-canary-pw"),
                             connect=False)
    assert run.rc != 0, run.output
    assert run.result["failed_checks"] == ["acls:destination"]
    assert "HTTP 401" in run.result["checks"][-1]["detail"]
    assert "wrong-canary-pw" not in run.output
    assert "Traceback" not in run.output

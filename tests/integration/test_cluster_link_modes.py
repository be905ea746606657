"""cluster_link in every mode against the lab (both clusters serve REST v3):

* a source-initiated link: the DESTINATION/INBOUND half on the destination, then the SOURCE half
  on the source cluster's REST (remote = the destination, local = the source itself);
* a BIDIRECTIONAL pair, one link of the same name on each cluster;
* a DESTINATION link from a properties file with TLS options, paused, purge_configs and validate_only.

Each goes check -> apply -> idempotent -> check-modify -> modify -> delete, asserting changed, the
--diff content and the lab's resulting state. Canary passwords (remote, local, truststore) never
appear in any result, diff or -vvv output.
"""

from __future__ import annotations

import inspect
import json
import uuid

import pytest

from linkops_it import calls, diff_has, diff_text, unique_name, wait_until

D = "destination"
S = "source"


def need_source_rest(lab):
    """SOURCE and BIDIRECTIONAL links are created through the source cluster's REST: a lab without it
    (lab.json source_rest_url) cannot run the test."""
    if not getattr(lab, "source_rest_url", None):
        pytest.xfail("the lab serves no REST for the source cluster (lab.json source_rest_url), so SOURCE and "
                     "BIDIRECTIONAL links and INBOUND halves cannot be created there")


def cluster_rest(lab, cluster, method, path, body=None, params=None):
    """A request to ``cluster``'s REST (its own server when the lab has one per cluster)."""
    if "cluster" in inspect.signature(lab.rest).parameters:
        return lab.rest(method, path, body, params=params, cluster=cluster)
    return lab.rest(method, path, body, params=params)


def on(lab, cluster):
    """The REST connection options of a lab cluster (the destination's are the default)."""
    if cluster == D:
        return {}
    return {"rest_url": lab.source_rest_url, "cluster_id": lab.source_cluster_id}


def lab_link(lab, cluster, name):
    cid = lab.cluster_id(cluster)
    return cluster_rest(lab, cluster, "GET", f"/kafka/v3/clusters/{cid}/links/{name}", params={"include_tasks": True})


def lab_configs(lab, cluster, name):
    cid = lab.cluster_id(cluster)
    status, body = cluster_rest(lab, cluster, "GET", f"/kafka/v3/clusters/{cid}/links/{name}/configs")
    assert status == 200, (status, body)
    return {e["name"]: e for e in body["data"]}


def dynamic(lab, cluster, name):
    return {k: e["value"] for k, e in lab_configs(lab, cluster, name).items()
            if e["source"] == "DYNAMIC_CLUSTER_LINK_CONFIG"}


def changed_lines(output):
    return [l for l in diff_text(output).splitlines() if l.startswith(("+", "-")) and not l.startswith(("---", "+++"))]


@pytest.fixture
def pair_name(lab):
    """A link name used on both clusters; both links are deleted after the test."""
    name = unique_name("it-pair")
    yield name
    for cluster in (S, D):
        cid = lab.cluster_id(cluster)
        if cluster == D or getattr(lab, "source_rest_url", None):
            cluster_rest(lab, cluster, "DELETE", f"/kafka/v3/clusters/{cid}/links/{name}", params={"force": True})


@pytest.fixture
def canaries():
    return {k: f"CANARY-{k}-{uuid.uuid4().hex}" for k in ("remote", "local", "truststore")}


def assert_hidden(run, canaries):
    for canary in canaries.values():
        assert canary not in run.output, f"a canary password is in the output:\n{run.output}"


def test_source_initiated_link(lab, run_module, pair_name, canaries, unique):
    name = pair_name
    need_source_rest(lab)
    inbound = dict(name=name, link_mode="DESTINATION", connection_mode="INBOUND",
                   remote_cluster_id=lab.source_cluster_id)

    # -- the destination half: check, apply, idempotent
    run = run_module("cluster_link", inbound, check=True, diff=True)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert diff_has(run.output, "+", "connection_mode: INBOUND"), run.output
    assert diff_has(run.output, "+", f"remote_cluster_id: {lab.source_cluster_id}"), run.output
    assert lab_link(lab, D, name)[0] == 404
    run = run_module("cluster_link", inbound)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    status, body = lab_link(lab, D, name)
    assert status == 200 and body["source_cluster_id"] == lab.source_cluster_id, body
    assert dynamic(lab, D, name) == {"link.mode": "DESTINATION", "connection.mode": "INBOUND"}
    run = run_module("cluster_link", inbound)
    assert run.rc == 0 and run.result["changed"] is False, run.output

    # -- the source half, on the source cluster's REST
    source = dict(name=name, link_mode="SOURCE", remote_cluster_id=lab.destination_cluster_id,
                  remote={"bootstrap_servers": lab.destination_bootstrap, "security_protocol": "SASL_PLAINTEXT",
                          "sasl_mechanism": "PLAIN", "sasl_username": "link-remote",
                          "sasl_password": canaries["remote"], "ssl_truststore_location": "/etc/kafka/trust.jks",
                          "ssl_truststore_password": canaries["truststore"]},
                  local={"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                         "sasl_username": "link-local", "sasl_password": canaries["local"]},
                  configs={"consumer.offset.sync.ms": 15000}, **on(lab, S))
    run = run_module("cluster_link", source, check=True, diff=True, verbose=3)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert diff_has(run.output, "+", "link_mode: SOURCE"), run.output
    assert diff_has(run.output, "+", "local.security.protocol: SASL_PLAINTEXT"), run.output
    assert diff_has(run.output, "+", "- local.sasl.jaas.config"), run.output
    assert lab_link(lab, S, name)[0] == 404
    assert_hidden(run, canaries)

    run = run_module("cluster_link", source, diff=True, verbose=3)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert_hidden(run, canaries)
    assert run.result["link"]["link_mode"] == "SOURCE"
    assert sorted(run.result["link"]["secrets_set"]) == ["local.sasl.jaas.config", "sasl.jaas.config",
                                                         "ssl.truststore.password"]
    status, body = lab_link(lab, S, name)
    assert status == 200, body
    assert body["destination_cluster_id"] == lab.destination_cluster_id
    assert body["cluster_link_id"] == lab_link(lab, D, name)[1]["cluster_link_id"]
    configs = lab_configs(lab, S, name)
    assert configs["link.mode"]["value"] == "SOURCE"
    assert configs["bootstrap.servers"]["value"] == lab.destination_bootstrap
    assert configs["local.sasl.mechanism"]["value"] == "SCRAM-SHA-512"
    assert configs["ssl.truststore.location"]["value"] == "/etc/kafka/trust.jks"
    for secret in ("sasl.jaas.config", "local.sasl.jaas.config", "ssl.truststore.password"):
        assert configs[secret]["source"] == "DYNAMIC_CLUSTER_LINK_CONFIG" and configs[secret]["value"] is None
    # both halves are up once the source half exists
    wait_until(lambda: lab_link(lab, D, name)[1].get("link_state") == "ACTIVE", 30, "the INBOUND half ACTIVE")

    run = run_module("cluster_link", source, diff=True, verbose=3)
    assert run.rc == 0 and run.result["changed"] is False, run.output
    assert_hidden(run, canaries)

    # a mirror over the source-initiated link really copies
    topic = unique("it-si")
    lab.create_topic(S, topic, partitions=1)
    lab.produce(S, topic, ["a", "b", "c"])
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{name}/mirrors",
                            {"source_topic_name": topic})
    assert status in (201, 204), body
    wait_until(lambda: lab.end_offsets(D, topic).get(0) == 3, 30, "the mirror to copy over the SOURCE link")

    # check-modify, then modify: one config of the source half
    modified = dict(source, configs={"consumer.offset.sync.ms": 20000})
    run = run_module("cluster_link", modified, check=True, diff=True)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert changed_lines(run.output) == ["-        consumer.offset.sync.ms: '15000'",
                                         "+        consumer.offset.sync.ms: '20000'"], run.output
    assert lab_configs(lab, S, name)["consumer.offset.sync.ms"]["value"] == "15000"
    run = run_module("cluster_link", modified, verbose=3)
    assert run.rc == 0 and run.result["configs_set"] == ["consumer.offset.sync.ms"], run.output
    assert lab_configs(lab, S, name)["consumer.offset.sync.ms"]["value"] == "20000"
    assert_hidden(run, canaries)

    # rotating the secrets: sent, named in the diff, never shown
    run = run_module("cluster_link", dict(modified, update_password="always"), diff=True, verbose=3)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert run.result["configs_set"] == ["local.sasl.jaas.config", "sasl.jaas.config", "ssl.truststore.password"]
    assert diff_has(run.output, "+", "- ssl.truststore.password"), run.output
    assert_hidden(run, canaries)

    # settings fixed at creation: a clear error naming the option, nothing changed
    before = dynamic(lab, S, name)
    run = run_module("cluster_link", dict(modified, link_mode="BIDIRECTIONAL"))
    assert run.rc != 0 and "link_mode is 'SOURCE', not 'BIDIRECTIONAL'" in run.msg, run.output
    run = run_module("cluster_link", dict(modified, remote_cluster_id="someOtherCluster000001"))
    assert run.rc != 0 and "remote_cluster_id is" in run.msg and "Nothing was changed" in run.msg, run.output
    assert dynamic(lab, S, name) == before
    # and a SOURCE link that is INBOUND is refused before any request
    run = run_module("cluster_link", dict(modified, connection_mode="INBOUND"))
    assert run.rc != 0 and "link_mode SOURCE needs connection_mode OUTBOUND" in run.msg, run.output
    assert "rest_requests" not in run.result

    # the destination half reads as DESTINATION/INBOUND, with its mirror
    info = run_module("cluster_link_info", {"names": [name]})
    assert info.rc == 0, info.output
    half = info.result["links"][0]
    assert (half["link_mode"], half["connection_mode"], half["remote_cluster_id"]) == (
        "DESTINATION", "INBOUND", lab.source_cluster_id)
    assert [m["mirror_topic_name"] for m in half["mirrors"]] == [topic]

    # delete: the source half (check first), then the destination half with its mirror (force)
    gone = {"name": name, "state": "absent", **on(lab, S)}
    run = run_module("cluster_link", gone, check=True)
    assert run.rc == 0 and run.result["changed"] is True and lab_link(lab, S, name)[0] == 200
    run = run_module("cluster_link", gone)
    assert run.rc == 0 and run.result["changed"] is True and lab_link(lab, S, name)[0] == 404
    run = run_module("cluster_link", {"name": name, "state": "absent", "force": True})
    assert run.rc == 0 and run.result["changed"] is True and lab_link(lab, D, name)[0] == 404


def test_bidirectional_pair(lab, run_module, pair_name):
    name = pair_name
    need_source_rest(lab)
    east = dict(name=name, link_mode="BIDIRECTIONAL", remote_cluster_id=lab.source_cluster_id,
                remote={"bootstrap_servers": lab.source_bootstrap},
                local={"security_protocol": "PLAINTEXT"})

    run = run_module("cluster_link", east, check=True, diff=True)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert diff_has(run.output, "+", "link_mode: BIDIRECTIONAL"), run.output
    assert lab_link(lab, D, name)[0] == 404
    run = run_module("cluster_link", east)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    first_id = run.result["link"]["cluster_link_id"]
    status, body = lab_link(lab, D, name)
    assert body["remote_cluster_id"] == lab.source_cluster_id and body["source_cluster_id"] is None, body
    assert dynamic(lab, D, name)["link.mode"] == "BIDIRECTIONAL"

    # the other side, on the source cluster, expecting the first side's link id
    west = dict(name=name, link_mode="BIDIRECTIONAL", remote_cluster_id=lab.destination_cluster_id,
                cluster_link_id=first_id, remote={"bootstrap_servers": lab.destination_bootstrap},
                **on(lab, S))
    run = run_module("cluster_link", west, check=True)
    assert run.rc == 0 and run.result["changed"] is True and lab_link(lab, S, name)[0] == 404, run.output
    run = run_module("cluster_link", west)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    status, body = lab_link(lab, S, name)
    assert body["cluster_link_id"] == first_id and body["remote_cluster_id"] == lab.destination_cluster_id
    for cluster in (D, S):
        wait_until(lambda c=cluster: lab_link(lab, c, name)[1].get("link_state") == "ACTIVE", 30,
                   f"the {cluster} side ACTIVE")

    # idempotent on both sides
    for args in (east, west):
        run = run_module("cluster_link", args)
        assert run.rc == 0 and run.result["changed"] is False, run.output

    # check-modify, modify: pause one side
    run = run_module("cluster_link", dict(west, paused=True), check=True, diff=True)
    assert run.rc == 0 and changed_lines(run.output) == ["+        cluster.link.paused: 'true'"], run.output
    run = run_module("cluster_link", dict(west, paused=True))
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert lab_link(lab, S, name)[1]["link_state"] == "PAUSED"
    assert lab_link(lab, D, name)[1]["link_state"] == "ACTIVE"

    # a different link id or prefix on an existing side is refused, nothing changed
    run = run_module("cluster_link", dict(west, cluster_link_id="AAAAAAAAAAAAAAAAAAAAAA"))
    assert run.rc != 0 and f"cluster_link_id is '{first_id}'" in run.msg, run.output
    run = run_module("cluster_link", dict(east, prefix="east."))
    assert run.rc != 0 and "prefix is not set, not 'east.'" in run.msg, run.output

    # both sides read back as BIDIRECTIONAL by cluster_link_info
    info = run_module("cluster_link_info", {"names": [name], **on(lab, S)})
    assert info.rc == 0, info.output
    assert info.result["links"][0]["link_mode"] == "BIDIRECTIONAL"
    assert info.result["links"][0]["link_state"] == "PAUSED"

    for args in (west, east):
        run = run_module("cluster_link", {"name": name, "state": "absent", **{k: v for k, v in args.items()
                                                                              if k in ("rest_url", "cluster_id")}})
        assert run.rc == 0 and run.result["changed"] is True, run.output
    assert lab_link(lab, S, name)[0] == 404 and lab_link(lab, D, name)[0] == 404


@pytest.mark.backends("rest", "cli")
def test_properties_file_tls_paused_purge_and_validate_only(lab, run_module, link_name, canaries, tmp_path,
                                                            backend):
    name = link_name
    jaas = ('org.apache.kafka.common.security.plain.PlainLoginModule required username="u" '
            f'password="{canaries["remote"]}";')
    props = tmp_path / "source.config"
    # written as kafka-cluster-links --config-file reads it: escapes and a continued line
    props.write_text("# the source cluster\n"
                     f"bootstrap.servers={lab.source_bootstrap}\n"
                     "security.protocol : SASL_PLAINTEXT\n"
                     "sasl.mechanism=PLAIN\n"
                     "sasl.jaas.config=" + jaas.replace(" required ", " required \\\n    ") + "\n"
                     f"ssl.truststore.password={canaries['truststore']}\n"
                     "ssl.truststore.location=C\\:\\\\certs\\\\trust.jks\n")
    args = {"name": name, "source_cluster_id": lab.source_cluster_id, "properties_file": str(props),
            "configs": {"topic.config.sync.ms": 7000, "consumer.offset.sync.ms": 9000}}

    # validate_only create: the server checks it, nothing is created
    run = run_module("cluster_link", dict(args, validate_only=True), verbose=3)
    assert run.rc == 0, run.output
    assert run.result["validated"] is True and run.result["changed"] is True
    assert lab_link(lab, D, name)[0] == 404
    assert_hidden(run, canaries)
    # ... and a bad request is refused by the server, still creating nothing
    bad = run_module("cluster_link", dict(args, validate_only=True, source_cluster_id="wrongClusterId00000001"))
    assert bad.rc != 0 and bad.msg.startswith(f"Validating link {name} failed"), bad.output
    assert lab_link(lab, D, name)[0] == 404

    # check, apply, idempotent
    run = run_module("cluster_link", args, check=True, diff=True, verbose=3)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert diff_has(run.output, "+", "ssl.truststore.location: C:\\certs\\trust.jks"), run.output
    assert diff_has(run.output, "+", "- ssl.truststore.password"), run.output
    assert lab_link(lab, D, name)[0] == 404
    assert_hidden(run, canaries)
    run = run_module("cluster_link", args, diff=True, verbose=3)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert_hidden(run, canaries)
    configs = lab_configs(lab, D, name)
    assert configs["ssl.truststore.location"]["value"] == "C:\\certs\\trust.jks"
    assert configs["security.protocol"]["value"] == "SASL_PLAINTEXT"
    assert configs["sasl.jaas.config"]["value"] is None and configs["ssl.truststore.password"]["value"] is None
    run = run_module("cluster_link", args, diff=True, verbose=3)
    assert run.rc == 0 and run.result["changed"] is False, run.output
    assert_hidden(run, canaries)

    # check-modify: pause, and purge the configs the task no longer names
    modified = dict(args, configs={"consumer.offset.sync.ms": 9000}, paused=True, purge_configs=True)
    run = run_module("cluster_link", modified, check=True, diff=True, verbose=3)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert run.result["configs_set"] == ["cluster.link.paused"]
    assert run.result["configs_reset"] == ["topic.config.sync.ms"]
    assert changed_lines(run.output) == ["+        cluster.link.paused: 'true'",
                                         "-        topic.config.sync.ms: '7000'"], run.output
    assert "cluster.link.paused" not in dynamic(lab, D, name)
    assert_hidden(run, canaries)

    if backend == "rest":
        # validate_only modify: validated by the server, nothing changed
        run = run_module("cluster_link", dict(modified, validate_only=True))
        assert run.rc == 0 and run.result["validated"] is True and run.result["changed"] is True, run.output
        assert dynamic(lab, D, name)["topic.config.sync.ms"] == "7000"
    else:
        run = run_module("cluster_link", dict(modified, validate_only=True))
        assert run.rc != 0 and "validate_only" in run.msg and "api=cli" in run.msg, run.output
        assert dynamic(lab, D, name)["topic.config.sync.ms"] == "7000"

    # modify: one request sets and resets
    run = run_module("cluster_link", modified, verbose=3)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert_hidden(run, canaries)
    now = dynamic(lab, D, name)
    assert now["cluster.link.paused"] == "true"
    assert "topic.config.sync.ms" not in now
    assert lab_configs(lab, D, name)["topic.config.sync.ms"]["value"] == "5000"  # back to the default
    assert {"bootstrap.servers", "sasl.jaas.config", "ssl.truststore.password"} <= set(now)  # never purged
    assert lab_link(lab, D, name)[1]["link_state"] == "PAUSED"
    run = run_module("cluster_link", modified)
    assert run.rc == 0 and run.result["changed"] is False, run.output

    # resume; paused: false on a link whose default is false is no change afterwards
    run = run_module("cluster_link", dict(modified, paused=False))
    assert run.rc == 0 and run.result["configs_set"] == ["cluster.link.paused"], run.output
    assert lab_link(lab, D, name)[1]["link_state"] == "ACTIVE"

    # validate_only delete keeps the link; then delete
    gone = {"name": name, "state": "absent"}
    run = run_module("cluster_link", dict(gone, validate_only=True))
    assert run.rc == 0 and run.result["validated"] is True and run.result["changed"] is True, run.output
    assert lab_link(lab, D, name)[0] == 200
    run = run_module("cluster_link", gone)
    assert run.rc == 0 and run.result["changed"] is True and lab_link(lab, D, name)[0] == 404


@pytest.mark.backends("rest", "cli")
def test_mode_errors_before_any_call(lab, run_module, link_name):
    cases = [
        ({"link_mode": "SOURCE", "source_cluster_id": "x"}, "source_cluster_id names the source cluster"),
        ({"connection_mode": "INBOUND", "source_cluster_id": "x", "source_bootstrap_servers": "b:1"},
         "takes no remote connection settings"),
        ({"source_cluster_id": "x", "source_bootstrap_servers": "b:1", "local": {"security_protocol": "SSL"}},
         "local settings (local.*) are for SOURCE and BIDIRECTIONAL links"),
        ({"link_mode": "BIDIRECTIONAL", "remote": {"bootstrap_servers": "b:1"}},
         "remote_cluster_id is required to create a BIDIRECTIONAL link"),
        ({"properties_file": "/nonexistent/link.config", "source_cluster_id": "x"}, "properties_file: cannot read"),
    ]
    for extra, fragment in cases:
        run = run_module("cluster_link", dict(extra, name=link_name))
        assert run.rc != 0 and fragment in run.msg, (extra, run.output)
        assert "Traceback" not in run.output
    assert lab_link(lab, D, link_name)[0] == 404


def test_json_dump_of_link_view_has_no_secret(lab, run_module, link_name, canaries):
    """The whole result as JSON (what a register: + to_json would expose) holds no canary."""
    args = {"name": link_name, "source_cluster_id": lab.source_cluster_id,
            "remote": {"bootstrap_servers": lab.source_bootstrap, "security_protocol": "SASL_PLAINTEXT",
                       "sasl_mechanism": "SCRAM-SHA-256", "sasl_username": "u", "sasl_password": canaries["remote"],
                       "ssl_keystore_type": "PEM", "ssl_keystore_key": canaries["local"],
                       "ssl_truststore_certificates": canaries["truststore"]}}
    run = run_module("cluster_link", args, diff=True, verbose=3)
    assert run.rc == 0, run.output
    text = json.dumps(run.result)
    for canary in canaries.values():
        assert canary not in text
    assert_hidden(run, canaries)
    assert calls(run.result) is not None


def lab_acls(lab, cluster, principal):
    cid = lab.cluster_id(cluster)
    status, body = cluster_rest(lab, cluster, "GET", f"/kafka/v3/clusters/{cid}/acls", params={"principal": principal})
    assert status == 200, (status, body)
    return {(a["resource_type"], a["resource_name"], a["pattern_type"], a["operation"]) for a in body["data"]}


@pytest.mark.backends("rest", "cli")
def test_acl_filters_sync_source_acls(lab, run_module, link_name, unique):
    principal = f"User:{unique('it-acl')}"
    acls = [{"resource_type": "TOPIC", "resource_name": "orders.", "pattern_type": "PREFIXED",
             "principal": principal, "host": "*", "operation": "READ", "permission": "ALLOW"},
            {"resource_type": "GROUP", "resource_name": "orders-app", "pattern_type": "LITERAL",
             "principal": principal, "host": "*", "operation": "READ", "permission": "ALLOW"}]
    status, body = cluster_rest(lab, S, "POST", f"/kafka/v3/clusters/{lab.source_cluster_id}/acls:batch", {"data": acls})
    assert status == 201, body
    topic_acls = [{"resource_type": "topic", "pattern_type": "any", "principal": principal,
                   "operation": "any", "permission_type": "allow"}]
    args = {"name": link_name, "source_cluster_id": lab.source_cluster_id,
            "source_bootstrap_servers": lab.source_bootstrap, "acl_filters": topic_acls,
            "configs": {"acl.sync.ms": 1000}}

    run = run_module("cluster_link", args, check=True, diff=True)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    assert diff_has(run.output, "+", "acl.sync.enable: 'true'"), run.output
    assert diff_has(run.output, "+", f"principal: {principal}"), run.output
    assert lab_link(lab, D, link_name)[0] == 404

    run = run_module("cluster_link", args)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    stored = json.loads(lab_configs(lab, D, link_name)["acl.filters"]["value"])
    assert stored == {"aclFilters": [{"resourceFilter": {"resourceType": "topic", "patternType": "any"},
                                      "accessFilter": {"principal": principal, "operation": "any",
                                                       "permissionType": "allow"}}]}
    wait_until(lambda: lab_acls(lab, D, principal) == {("TOPIC", "orders.", "PREFIXED", "READ")}, 30,
               "the source topic ACL on the destination (and not the group ACL)")

    run = run_module("cluster_link", args)
    assert run.rc == 0 and run.result["changed"] is False, run.output

    # check-modify, modify: the group ACLs too
    both = dict(args, acl_filters=topic_acls + [dict(topic_acls[0], resource_type="GROUP")])
    run = run_module("cluster_link", both, check=True, diff=True)
    assert run.rc == 0 and run.result["configs_set"] == ["acl.filters"], run.output
    assert diff_has(run.output, "+", "resourceType: group"), run.output
    run = run_module("cluster_link", both)
    assert run.rc == 0 and run.result["changed"] is True, run.output
    wait_until(lambda: lab_acls(lab, D, principal) == {("TOPIC", "orders.", "PREFIXED", "READ"),
                                                       ("GROUP", "orders-app", "LITERAL", "READ")}, 30,
               "the group ACL synced as well")

    # a value Kafka would refuse fails before any request, naming the entry
    run = run_module("cluster_link", dict(args, acl_filters=[dict(topic_acls[0], operation="describe_configs")]))
    assert run.rc != 0 and run.msg.startswith("acl_filters[0].operation"), run.output

    run = run_module("cluster_link", {"name": link_name, "state": "absent"})
    assert run.rc == 0 and run.result["changed"] is True and lab_link(lab, D, link_name)[0] == 404

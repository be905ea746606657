"""cluster_link against the lab: check mode, create, idempotence, modify, delete, secrets."""

from __future__ import annotations

import json
import uuid

import pytest

from linkops_it import diff_has, diff_text, get_link, link_configs

pytestmark = pytest.mark.backends("rest", "cli")


def link_args(lab, name, **extra):
    args = {"name": name, "source_cluster_id": lab.source_cluster_id,
            "source_bootstrap_servers": lab.source_bootstrap}
    args.update(extra)
    return args


def test_link_check_apply_idempotent_modify_delete(lab, run_module, link_name):
    name = link_name
    filters = [{"name": "orders.", "pattern_type": "PREFIXED"},
               {"name": "orders.internal", "filter_type": "EXCLUDE"}]
    wanted = link_args(lab, name, topic_filters=filters,
                       configs={"consumer.offset.sync.ms": 10000, "topic.config.sync.ms": 7000})

    # 1. check mode: predicts a creation, creates nothing
    run = run_module("cluster_link", wanted, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True, run.output
    assert run.result["link"]["link_name"] == name
    assert diff_has(run.output, "-", "{}"), run.output
    assert diff_has(run.output, "+", f"link_name: {name}"), run.output
    assert diff_has(run.output, "+", "consumer.offset.sync.ms: '10000'"), run.output
    status, dummy = get_link(lab, name)
    assert status == 404, "check mode created the link"

    # 2. apply: the link exists with the configs asked for
    run = run_module("cluster_link", wanted)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["link"]["link_state"] == "ACTIVE"
    status, body = get_link(lab, name)
    assert status == 200, body
    assert body["source_cluster_id"] == lab.source_cluster_id
    configs = link_configs(lab, name)
    assert configs["bootstrap.servers"]["value"] == lab.source_bootstrap
    assert configs["consumer.offset.sync.ms"]["value"] == "10000"
    assert configs["topic.config.sync.ms"]["value"] == "7000"
    assert configs["auto.create.mirror.topics.enable"]["value"] == "true"
    stored_filters = json.loads(configs["auto.create.mirror.topics.filters"]["value"])
    assert stored_filters == {"topicFilters": [
        {"name": "orders.", "patternType": "PREFIXED", "filterType": "INCLUDE"},
        {"name": "orders.internal", "patternType": "LITERAL", "filterType": "EXCLUDE"}]}

    # 3. the same task again changes nothing
    run = run_module("cluster_link", wanted, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False, run.output
    assert run.result["configs_set"] == []

    # 4. check mode with one config changed: reported, shown in the diff, not applied
    modified = dict(wanted, configs={"consumer.offset.sync.ms": 20000, "topic.config.sync.ms": 7000})
    run = run_module("cluster_link", modified, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["configs_set"] == ["consumer.offset.sync.ms"]
    assert diff_has(run.output, "-", "consumer.offset.sync.ms: '10000'"), run.output
    assert diff_has(run.output, "+", "consumer.offset.sync.ms: '20000'"), run.output
    # nothing else changes
    assert [l for l in diff_text(run.output).splitlines()
            if l[:1] in ("+", "-") and not l.startswith(("---", "+++"))] == [
        "-        consumer.offset.sync.ms: '10000'", "+        consumer.offset.sync.ms: '20000'"], run.output
    assert link_configs(lab, name)["consumer.offset.sync.ms"]["value"] == "10000"

    # 5. modify: only that config is set
    run = run_module("cluster_link", modified)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert run.result["configs_set"] == ["consumer.offset.sync.ms"]
    configs = link_configs(lab, name)
    assert configs["consumer.offset.sync.ms"]["value"] == "20000"
    assert configs["topic.config.sync.ms"]["value"] == "7000"
    assert json.loads(configs["auto.create.mirror.topics.filters"]["value"]) == stored_filters
    assert get_link(lab, name)[1]["cluster_link_id"] == run.result["link"]["cluster_link_id"]

    # 6. check-mode delete predicts the deletion and deletes nothing
    gone = {"name": name, "state": "absent"}
    run = run_module("cluster_link", gone, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert get_link(lab, name)[0] == 200, "check mode deleted the link"

    # 7. delete, then deleting again changes nothing
    run = run_module("cluster_link", gone)
    assert run.rc == 0, run.output
    assert run.result["changed"] is True
    assert get_link(lab, name)[0] == 404
    run = run_module("cluster_link", gone)
    assert run.rc == 0, run.output
    assert run.result["changed"] is False


def test_link_secrets_are_never_shown(lab, run_module, link_name):
    name = link_name
    canary = f"CANARY-{uuid.uuid4().hex}"
    args = link_args(lab, name, source_security_protocol="SASL_PLAINTEXT",
                     source_sasl_mechanism="PLAIN", source_sasl_username="link-user",
                     source_sasl_password=canary, configs={"ssl.key.password": canary})

    created = run_module("cluster_link", args, diff=True, verbose=3)
    assert created.rc == 0, created.output
    assert created.result["changed"] is True
    assert set(created.result["link"]["secrets_set"]) >= {"sasl.jaas.config", "ssl.key.password"}
    assert canary not in created.output

    # rotating the secrets (update_password=always) sends them again: still never shown
    rotated = run_module("cluster_link", dict(args, update_password="always"), diff=True, verbose=3)
    assert rotated.rc == 0, rotated.output
    assert rotated.result["changed"] is True
    assert canary not in rotated.output

    # the default (on_create) does not resend them, so a re-run is not a change
    again = run_module("cluster_link", args, diff=True, verbose=3)
    assert again.rc == 0, again.output
    assert again.result["changed"] is False, again.output
    assert canary not in again.output

    configs = link_configs(lab, name)
    assert configs["security.protocol"]["value"] == "SASL_PLAINTEXT"
    for secret in ("sasl.jaas.config", "ssl.key.password"):
        assert configs[secret]["is_sensitive"] is True
        assert configs[secret]["value"] is None
    assert canary not in json.dumps(configs)
    assert canary not in json.dumps(get_link(lab, name)[1])


def test_link_secret_configs_and_jaas_line_are_never_shown(lab, run_module, link_name):
    canaries = {key: f"CANARY-{uuid.uuid4().hex}" for key in (
        "jaas", "ssl.keystore.key", "ssl.keystore.password", "ssl.truststore.certificates")}
    jaas = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
            f'username="link-user" password="{canaries["jaas"]}";')
    args = link_args(lab, link_name, source_security_protocol="SASL_PLAINTEXT", source_sasl_mechanism="PLAIN",
                     source_sasl_jaas_config=jaas,
                     configs={k: v for k, v in canaries.items() if k != "jaas"})

    run = run_module("cluster_link", args, diff=True, verbose=3)
    assert run.rc == 0, run.output
    assert set(run.result["link"]["secrets_set"]) == {
        "sasl.jaas.config", "ssl.keystore.key", "ssl.keystore.password", "ssl.truststore.certificates"}
    for canary in canaries.values():
        assert canary not in run.output
    configs = link_configs(lab, link_name)
    assert all(configs[k]["value"] is None for k in run.result["link"]["secrets_set"])

    # a failed task (the server refuses an unknown config) does not show them either
    failing = dict(args, name=link_name + "-x", configs=dict(args["configs"], **{"no.such.config": "1"}))
    run = run_module("cluster_link", failing, diff=True, verbose=3)
    assert run.rc != 0 and "no.such.config" in run.msg, run.output
    for canary in canaries.values():
        assert canary not in run.output

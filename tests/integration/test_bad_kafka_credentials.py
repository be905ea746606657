"""Bad input (issue 9): a wrong SASL password, SASL mechanism or trust store in the module options that
carry Kafka client settings - migration_verify's and link_filters' <side>_client_config, and the link
configs of cluster_link - against real Apache Kafka brokers (SASL_SSL, PLAIN and SCRAM-SHA-512, the lab
CA). Each fails in one line naming the option to fix, never shows the password, and changes nothing: a
link whose configs cannot reach the source is refused at create (validate_link, as Confluent does).

The session's apache-kafka lab (conftest.apache_kafka_lab; its REST is HTTPS, the lab's default for that
kind); skipped, with the reason, where Java 17+ or the Kafka jars are missing.
"""

from __future__ import annotations

import pytest

from linkops_it import delete_link, get_link, run_ansible_module, unique_name
from linkops_lab.brokers import lab_tls
from test_bad_input import assert_clean_failure, lab_snapshot

CANARY = "CANARY-" + unique_name("pw")


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    return str(lab_tls.ensure_ca(tmp_path_factory.mktemp("other-ca"))[0])


def client_config(lab, side, **changes):
    """The lab's librdkafka settings of ``side`` (SASL_SSL as its admin, the lab CA) with ``changes``."""
    config = dict(lab.info[f"{side}_client_config"])
    config.update({k.replace("_", "."): v for k, v in changes.items()})
    return config


BAD_CLIENT_SETTINGS = [  # (changes, what the message must name)
    ({"sasl_password": CANARY}, ["source_client_config", "sasl.password", "Authentication failed"]),
    ({"sasl_mechanism": "SCRAM-SHA-256"}, ["source_client_config", "sasl.mechanism", "SCRAM-SHA-256"]),
    ({"ssl_ca_location": "OTHER_CA"}, ["source_client_config", "ssl.ca.location", "certificate verify failed"]),
]


def assert_secret_free(run, lab):
    assert CANARY not in run.output
    for side in ("source", "destination"):
        assert lab.info[f"{side}_client_config"]["sasl.password"] not in run.output
        assert lab.info[f"{side}_link_credentials"]["password"] not in run.output


@pytest.mark.parametrize("changes,named", BAD_CLIENT_SETTINGS, ids=["password", "mechanism", "truststore"])
def test_migration_verify(apache_kafka_lab, other_ca, changes, named):
    lab = apache_kafka_lab
    changes = {k: (other_ca if v == "OTHER_CA" else v) for k, v in changes.items()}
    before = lab_snapshot(lab)
    run = run_ansible_module(lab, "migration_verify", {
        "source_bootstrap_servers": lab.source_bootstrap, "source_client_config": client_config(lab, "source", **changes),
        "destination_bootstrap_servers": lab.destination_bootstrap,
        "destination_client_config": client_config(lab, "destination"),
        "topics": [unique_name("absent")], "timeout": 10, "probe": False}, connect=False)
    assert_clean_failure(run, *named)
    assert_secret_free(run, lab)
    assert lab_snapshot(lab) == before


def test_link_filters_preview(apache_kafka_lab, tmp_path):
    lab = apache_kafka_lab
    run = run_ansible_module(lab, "link_filters", {
        "topic_filters": [{"name": "orders", "pattern_type": "PREFIXED"}], "dest": str(tmp_path / "filters"),
        "source_bootstrap_servers": lab.source_bootstrap,
        "source_client_config": client_config(lab, "source", sasl_password=CANARY), "timeout": 10}, connect=False)
    assert_clean_failure(run, "source_client_config", "sasl.password")
    assert_secret_free(run, lab)
    assert not (tmp_path / "filters").exists() or not any((tmp_path / "filters").iterdir())


def link_args(lab, name, **changes):
    """A link to the lab source as the read-only link user, SASL_SSL PLAIN, trusting the lab CA."""
    cred = lab.info["source_link_credentials"]
    args = {"name": name, "source_cluster_id": lab.source_cluster_id, "source_bootstrap_servers": lab.source_bootstrap,
            "source_security_protocol": "SASL_SSL", "source_sasl_mechanism": "PLAIN",
            "source_sasl_username": cred["username"], "source_sasl_password": cred["password"],
            "configs": {"ssl.truststore.type": "PEM", "ssl.truststore.location": lab.info["ca_file"]}}
    args.update(changes)
    return args


def test_cluster_link_with_good_credentials_is_created(apache_kafka_lab):
    """The control: the same options with the right values make a link (validate_link passes)."""
    lab, name = apache_kafka_lab, unique_name("cred-ok")
    try:
        run = run_ansible_module(lab, "cluster_link", link_args(lab, name))
        assert run.rc == 0 and run.result["changed"] is True, run.output
        assert_secret_free(run, lab)
        assert get_link(lab, name)[1]["link_error"] == "NO_ERROR"
    finally:
        delete_link(lab, name)


@pytest.mark.parametrize("case", ["password", "mechanism", "truststore"])
def test_cluster_link_refused_naming_the_option(apache_kafka_lab, other_ca, case):
    lab, name = apache_kafka_lab, unique_name(f"cred-{case}")
    changes, named = {
        "password": ({"source_sasl_password": CANARY}, ["source_sasl_password", "sasl.jaas.config"]),
        "mechanism": ({"source_sasl_mechanism": "SCRAM-SHA-256"}, ["source_sasl_mechanism", "sasl.mechanism"]),
        "truststore": ({"configs": {"ssl.truststore.type": "PEM", "ssl.truststore.location": other_ca}},
                       ["configs.ssl.truststore.location"]),
    }[case]
    before = lab_snapshot(lab)
    run = run_ansible_module(lab, "cluster_link", link_args(lab, name, **changes))
    assert_clean_failure(run, name, "AUTHENTICATION_ERROR", *named)
    assert_secret_free(run, lab)
    assert run.result.get("changed") is False, run.output
    assert get_link(lab, name)[0] == 404
    assert lab_snapshot(lab) == before

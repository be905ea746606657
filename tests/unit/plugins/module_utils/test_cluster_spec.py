"""A cluster described once in inventory, turned into module and client options (_cluster_spec.py)."""

from __future__ import annotations

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils._cluster_spec import (
    ClusterSpecError, connection_options, kafka_client_config, link_remote)

CLOUD = {"cluster_id": "lkc-1", "bootstrap_servers": "b:9092", "rest_url": "https://r/kafka",
         "rest_username": "key", "rest_password": "secret", "security_protocol": "SASL_SSL",
         "sasl_mechanism": "PLAIN", "sasl_username": "key", "sasl_password": "secret",
         "ssl_truststore_location": "/ca.pem", "ssl_truststore_type": "PEM",
         "client_config": {"receive.message.max.bytes": "1000000000"}}


def test_rest_options_map_the_rest_keys_only():
    assert connection_options(CLOUD) == {"api": "rest", "cluster_id": "lkc-1", "rest_url": "https://r/kafka",
                                         "rest_username": "key", "rest_password": "secret"}


def test_cli_options_use_bootstrap_and_the_command_config():
    assert connection_options(CLOUD, "cli", "/j/destination.properties", "/opt/cp/bin") == {
        "api": "cli", "cluster_id": "lkc-1", "bootstrap_server": "b:9092",
        "command_config": "/j/destination.properties", "cli_path": "/opt/cp/bin"}


@pytest.mark.parametrize("cluster, api, message", [
    ({"bootstrap_servers": "b"}, "rest", "no rest_url"),
    ({"rest_url": "r"}, "cli", "no bootstrap_servers"),
    ({"rest_url": "r", "rest_pasword": "x"}, "rest", "unknown keys rest_pasword"),
    ("cloud", "rest", "must be a dict"),
    ({"rest_url": "r"}, "grpc", "api must be rest or cli"),
])
def test_bad_cluster_dicts_name_the_key(cluster, api, message):
    with pytest.raises(ClusterSpecError, match=message):
        connection_options(cluster, api)


def test_kafka_client_config_maps_security_and_keeps_extra_settings():
    assert kafka_client_config(CLOUD) == {
        "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.username": "key",
        "sasl.password": "secret", "ssl.ca.location": "/ca.pem", "receive.message.max.bytes": "1000000000"}
    assert kafka_client_config({"bootstrap_servers": "b", "ssl_truststore_location": "/t.jks"}) == {}


def test_link_remote_keeps_only_what_the_link_needs():
    assert link_remote(CLOUD) == {"bootstrap_servers": "b:9092", "security_protocol": "SASL_SSL",
                                  "sasl_mechanism": "PLAIN", "sasl_username": "key", "sasl_password": "secret",
                                  "ssl_truststore_location": "/ca.pem", "ssl_truststore_type": "PEM"}
    with pytest.raises(ClusterSpecError, match="no bootstrap_servers"):
        link_remote({"rest_url": "r"})

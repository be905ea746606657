"""_auth_hints: the setting a failed connection points at is the cause the message names first."""

from __future__ import annotations

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils._auth_hints import (
    link_config_hint, suspect_setting)

ADVICE = (" Check the link's sasl.mechanism and sasl.jaas.config (username and password), and that "
          "ssl.truststore.location / ssl.truststore.certificates hold the CA of the remote cluster's certificate.")


@pytest.mark.parametrize("reason, setting", [
    ("SASL authentication error: Authentication failed: Invalid username or password (after 301ms in state AUTH_REQ).",
     "sasl.password"),
    ("SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be "
     "verified", "ssl.ca.location"),
    ("SASL mechanism handshake failed: Broker: Unsupported SASL mechanism: broker's supported mechanisms: PLAIN",
     "sasl.mechanism"),
    # Java names the mechanism of a refused login: still the password
    ("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
     "sasl.password"),
])
def test_the_cause_named_first_wins_over_advice_after_it(reason, setting):
    assert suspect_setting(reason)[0] == setting
    assert suspect_setting(reason + ADVICE)[0] == setting


def test_no_cause_no_setting():
    assert suspect_setting("Connection refused") is None
    assert suspect_setting(None) is None


def test_link_hint_names_the_option_the_user_set():
    text = "SASL authentication error: Authentication failed" + ADVICE
    hint = link_config_hint({"source_sasl_password": "x", "source_sasl_mechanism": "PLAIN"}, text)
    assert hint == ("check the link config sasl.jaas.config (option source_sasl_password): "
                    "it must give the right SASL username and password")


def test_the_link_error_code_before_the_reason_does_not_decide():
    text = ("cannot connect to the remote cluster at 'b:9092' (AUTHENTICATION_ERROR): sasl_ssl://b:9092/bootstrap: "
            "SASL SCRAM-SHA-256 mechanism handshake failed: Broker: Unsupported SASL mechanism: broker's supported "
            "mechanisms: PLAIN,SCRAM-SHA-512" + ADVICE)
    assert suspect_setting(text)[0] == "sasl.mechanism"
    assert suspect_setting("link_error AUTHENTICATION_ERROR: no message given")[0] == "sasl.password"

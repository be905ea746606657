"""TLS failures of REST calls (_rest_tls) and the Kafka client setting a failure points at (_auth_hints).

The ssl errors are the ones Python raises (checked against the lab's HTTPS emulator in
tests/integration/test_rest_tls.py); here each is fed in directly, and once through RestClient to see
that such a write is neither retried nor reported as possibly landed.
"""

from __future__ import annotations

import ssl
import urllib.error

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _auth_hints as hints
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestClient, RestError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_tls import prefixed_names, tls_failure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import AnswerLost

URL = "https://127.0.0.1:8090/kafka"


def verify_error(message):
    err = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %s (_ssl.c:1006)"
                                       % message)
    err.verify_message = message
    err.reason = "CERTIFICATE_VERIFY_FAILED"
    return urllib.error.URLError(err)


def alert(reason, text):
    err = ssl.SSLError(1, "[SSL: %s] %s (_ssl.c:2580)" % (reason, text))
    err.reason = reason
    return err


def test_an_untrusted_certificate_names_ca_path_and_validate_certs():
    msg = tls_failure(verify_error("self-signed certificate in certificate chain"), URL)
    assert "(rest_url)" in msg and "set ca_path" in msg and "validate_certs=false" in msg
    assert "self-signed certificate in certificate chain" in msg and "_ssl.c" not in msg


def test_a_wrong_ca_names_the_ca_path_given():
    msg = tls_failure(verify_error("unable to get local issuer certificate"), URL, ca_path="/x/ca.pem")
    assert "ca_path /x/ca.pem does not hold the CA" in msg


def test_a_host_name_mismatch_names_rest_url_and_the_host():
    msg = tls_failure(verify_error("Hostname mismatch, certificate is not valid for '127.1'."),
                      "https://127.1:8090/kafka", ca_path="/x/ca.pem")
    assert "not valid for the host 127.1" in msg and "rest_url" in msg and "ca_path" not in msg


@pytest.mark.parametrize("exc", [
    alert("TLSV13_ALERT_CERTIFICATE_REQUIRED", "tlsv13 alert certificate required"),       # with the answer
    urllib.error.URLError(ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:2427)")),
])
def test_a_refused_handshake_asks_for_a_client_certificate(exc):
    msg = tls_failure(exc, URL)
    assert "refused the TLS handshake" in msg and "set client_cert and client_key" in msg


def test_a_refused_client_certificate_names_it():
    exc = urllib.error.URLError(alert("TLSV1_ALERT_UNKNOWN_CA", "tlsv1 alert unknown ca"))
    msg = tls_failure(exc, URL, client_cert="/c.pem", client_key="/k.pem")
    assert "does not accept client_cert /c.pem" in msg


def test_https_to_a_plain_http_endpoint():
    exc = urllib.error.URLError(alert("WRONG_VERSION_NUMBER", "wrong version number"))
    assert "use an http:// rest_url" in tls_failure(exc, URL)


def test_tls_files_that_cannot_be_loaded(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("no pem here\n")
    msg = tls_failure(alert("PEM_LIB", "PEM lib"), URL, ca_path=str(bad))
    assert msg.startswith("ca_path: %s holds no PEM CA certificate" % bad)
    msg = tls_failure(alert("PEM_LIB", "PEM lib"), URL, client_cert="/c.pem", client_key="/k.pem")
    assert msg.startswith("client_cert/client_key: /c.pem and /k.pem")


def test_other_errors_are_not_tls_failures():
    assert tls_failure(urllib.error.URLError(ConnectionRefusedError(111, "refused")), URL) is None
    assert tls_failure(OSError("boom"), URL) is None


def test_prefixed_option_names():
    msg = tls_failure(verify_error("unable to get local issuer certificate"), URL, names=prefixed_names("destination_"))
    assert "(destination_rest_url)" in msg and "destination_rest_ca_path" in msg
    assert "destination_rest_validate_certs=false" in msg


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_rest_client_fails_at_once_and_the_write_did_not_land(method):
    calls = []

    def opener(url, **kw):
        calls.append(url)
        raise alert("TLSV13_ALERT_CERTIFICATE_REQUIRED", "tlsv13 alert certificate required")

    client = RestClient(URL, cluster_id="c1", opener=opener, sleep=lambda s: None, retries=5)
    with pytest.raises(RestError) as err:
        client.cluster(method, "/links", body={} if method == "POST" else None)
    assert not isinstance(err.value, AnswerLost)
    assert "client_cert" in err.value.message and len(calls) == 1


@pytest.mark.parametrize("text,setting", [
    ("SASL authentication error: Authentication failed: Invalid username or password", "sasl.password"),
    ("SASL SCRAM-SHA-256 mechanism handshake failed: Broker: Unsupported SASL mechanism", "sasl.mechanism"),
    ("SSL handshake failed: error:0A000086:SSL routines::certificate verify failed", "ssl.ca.location"),
    ("Connect to ipv4#127.0.0.1:1 failed: Connection refused", None),
])
def test_the_setting_a_failure_points_at(text, setting):
    found = hints.suspect_setting(text)
    assert (found[0] if found else None) == setting
    hint = hints.client_config_hint("source", text)
    assert (setting in hint and "source_client_config" in hint) if setting else hint == ""


def test_link_hints_name_the_option_the_user_set():
    text = "Unable to validate cluster link 'l': ... Authentication failed: Invalid username or password"
    assert "option source_sasl_password" in hints.link_config_hint({"source_sasl_password": "x"}, text)
    assert "option remote.sasl_password" in hints.link_config_hint({"remote": {"sasl_password": "x"}}, text)
    assert "option configs.sasl.jaas.config" in hints.link_config_hint({"configs": {"sasl.jaas.config": "x"}}, text)
    assert "properties_file (sasl.jaas.config)" in hints.link_config_hint({"properties_file": "/p"}, text)
    cert = "SSL handshake failed: certificate verify failed"
    assert "ssl.truststore.location (option remote.ssl_truststore_location)" in hints.link_config_hint(
        {"remote": {"ssl_truststore_location": "/ca"}}, cert)
    assert hints.link_config_hint({}, "Timed out") == ""


def test_link_auth_failure():
    link = {"link_state": "UNAVAILABLE", "link_error": "AUTHENTICATION_ERROR",
            "link_error_message": "Cannot reach the source cluster: SASL authentication error: Authentication failed"}
    msg = hints.link_auth_failure(link, {"source_sasl_password": "secret"})
    assert "AUTHENTICATION_ERROR" in msg and "option source_sasl_password" in msg and "secret" not in msg
    assert hints.link_auth_failure(dict(link, link_error="NO_ERROR"), {}) is None

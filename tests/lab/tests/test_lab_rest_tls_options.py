"""The lab's REST TLS choice (lab.rest_tls_choice, labctl.py up --rest-tls/--no-rest-tls/--rest-mtls) and
its certificates (lab_tls): no lab is started here; tests/integration/test_rest_tls.py runs HTTPS labs."""

from __future__ import annotations

import ssl

import pytest

from linkops_lab import ctl
from linkops_lab.brokers import lab_tls
from linkops_lab.lab import LabError, rest_tls_choice


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    for var in ("LAB_REST_TLS", "LAB_REST_MTLS"):
        monkeypatch.delenv(var, raising=False)


def test_defaults_by_broker_kind():
    assert rest_tls_choice("noida") == (False, False)
    assert rest_tls_choice("apache-kafka") == (True, False)


def test_options_and_environment(monkeypatch):
    assert rest_tls_choice("noida", rest_tls=True) == (True, False)
    assert rest_tls_choice("apache-kafka", rest_tls=False) == (False, False)
    assert rest_tls_choice("noida", rest_mtls=True) == (True, True)
    monkeypatch.setenv("LAB_REST_TLS", "1")
    assert rest_tls_choice("noida") == (True, False)
    assert rest_tls_choice("noida", rest_tls=False) == (False, False)     # the argument wins
    monkeypatch.setenv("LAB_REST_TLS", "0")
    monkeypatch.setenv("LAB_REST_MTLS", "1")
    with pytest.raises(LabError, match="need HTTPS"):
        rest_tls_choice("apache-kafka")
    monkeypatch.setenv("LAB_REST_TLS", "maybe")
    with pytest.raises(LabError, match="LAB_REST_TLS='maybe': use 1 or 0"):
        rest_tls_choice("noida")


def test_labctl_flags():
    parse = ctl.build_parser().parse_args
    assert (parse(["up"]).rest_tls, parse(["up"]).rest_mtls) == (None, None)
    assert parse(["up", "--rest-tls"]).rest_tls is True
    assert parse(["up", "--no-rest-tls"]).rest_tls is False
    assert parse(["up", "--rest-mtls"]).rest_mtls is True


def test_client_certificate_of_the_lab_ca(tmp_path):
    cert, key = lab_tls.ensure_client_cert(tmp_path, "rest-client")
    ca, _ = lab_tls.ensure_ca(tmp_path)
    assert (cert.stat().st_mode & 0o777, key.stat().st_mode & 0o777) == (0o600, 0o600)
    assert lab_tls.ensure_client_cert(tmp_path, "rest-client") == (cert, key)       # made once
    info = ssl._ssl._test_decode_cert(str(cert))
    assert dict(x[0] for x in info["subject"])["commonName"] == "rest-client"
    assert "subjectAltName" not in info
    ctx = lab_tls.client_context(ca, cert, key)                                      # cert and key match
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname

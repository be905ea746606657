"""The REST modules over HTTPS (issue 9, item 5): a lab whose emulator serves TLS with a certificate of
the lab CA (SAN IP:127.0.0.1, DNS:localhost), and one that also requires client certificates (mTLS).

Both labs run noida brokers (only the REST side matters here; they start in seconds). The good runs use
the options a user would (ca_path; validate_certs; client_cert/client_key). Every bad one - no CA, a
wrong CA, a host name the certificate does not list, a CA file that is no PEM, no or a foreign client
certificate - must fail in one line naming the option to fix, without a traceback, and change nothing
(the lab's links, mirrors and topics are read before and after, as test_bad_input.py does).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from linkops_it import TEST_KNOBS, get_link, mirror, run_ansible_module, run_ansible_playbook, unique_name
from linkops_lab.brokers import lab_tls
from linkops_lab.lab import Lab
from test_bad_input import assert_clean_failure, lab_snapshot


def _start(tmp_path_factory, name, **tls):
    with pytest.MonkeyPatch.context() as mp:
        for var in ("LAB_BROKERS", "LAB_REST_TLS", "LAB_REST_MTLS", "LAB_SOURCE_BOOTSTRAP",
                    "LAB_DESTINATION_BOOTSTRAP"):
            mp.delenv(var, raising=False)
        return Lab.start(tmp_path_factory.mktemp(name), knobs=TEST_KNOBS, kind="noida", **tls)


@pytest.fixture(scope="module")
def https_lab(tmp_path_factory):
    with _start(tmp_path_factory, "https-lab", rest_tls=True) as lab:
        yield lab


@pytest.fixture(scope="module")
def mtls_lab(tmp_path_factory):
    with _start(tmp_path_factory, "mtls-lab", rest_mtls=True) as lab:
        yield lab


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A CA the labs do not use, and a client certificate it signed."""
    work = tmp_path_factory.mktemp("other-ca")
    ca = lab_tls.ensure_ca(work)[0]
    cert, key = lab_tls.ensure_client_cert(work, "intruder")
    return {"ca": str(ca), "client_cert": str(cert), "client_key": str(key)}


def rest(lab, **changes):
    """The lab destination's REST options (rest_connection) with ``changes``; None removes an option."""
    args = dict(lab.rest_connection())
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


def new_link(lab, name):
    return {"name": name, "source_cluster_id": lab.source_cluster_id,
            "source_bootstrap_servers": lab.source_bootstrap}


def run(lab, module, args, conn, **kw):
    return run_ansible_module(lab, module, dict(conn, **args), connect=False, **kw)


def assert_refused(lab, module, args, conn, *named):
    """The run fails cleanly naming ``named`` and the lab is as it was."""
    before = lab_snapshot(lab)
    result = run(lab, module, args, conn)
    assert_clean_failure(result, *named)
    assert result.result.get("changed") is False, result.output
    assert lab_snapshot(lab) == before
    return result


# ------------------------------------------------------------------ HTTPS

def test_lab_json_describes_the_https_endpoint(https_lab):
    info = https_lab.info
    assert info["rest_url"].startswith("https://127.0.0.1:") and info["source_rest_url"].startswith("https://")
    assert info["rest_tls"] is True and info["rest_mtls"] is False
    assert Path(info["rest_ca_path"]) == https_lab.workdir / "tls" / "ca.crt"
    assert "rest_client_cert" not in info
    for key in ("rest_ca_path", "rest_server_cert"):
        assert Path(info[key]).stat().st_mode & 0o777 == 0o600
    assert https_lab.health() == {"source": "ok", "destination": "ok", "emulator": "ok"}


def test_modules_with_ca_path(https_lab):
    lab, name, conn = https_lab, unique_name("tls-link"), rest(https_lab)
    assert conn["rest_url"].startswith("https://") and conn["ca_path"] == lab.rest_ca_path
    lab.create_topic("source", name, partitions=2)
    created = run(lab, "cluster_link", new_link(lab, name), conn)
    assert created.rc == 0 and created.result["changed"] is True, created.output
    mirrored = run(lab, "mirror_topic", {"link_name": name, "topics": [name]}, conn)
    assert mirrored.rc == 0 and mirrored.result["changed"] is True, mirrored.output
    assert mirror(lab, name, name)[0] == 200
    info = run(lab, "cluster_link_info", {"names": [name]}, conn)
    assert info.rc == 0, info.output
    assert [link["link_name"] for link in info.result["links"]] == [name]


def test_validate_certs_without_ca_path_fails_as_untrusted(https_lab):
    lab = https_lab
    result = assert_refused(lab, "cluster_link", new_link(lab, unique_name("tls-untrusted")),
                            rest(lab, ca_path=None, validate_certs=True), "rest_url", "ca_path", "not trusted")
    assert "validate_certs" in result.msg
    # a read fails the same way, at once (a refused certificate is not retried)
    info = run(lab, "cluster_link_info", {}, rest(lab, ca_path=None))
    assert_clean_failure(info, "rest_url", "ca_path", "not trusted")
    assert info.result.get("rest_retries") == 0, info.result


def test_validate_certs_false_works_without_ca_path(https_lab):
    info = run(https_lab, "cluster_link_info", {}, rest(https_lab, ca_path=None, validate_certs=False))
    assert info.rc == 0, info.output
    assert isinstance(info.result["links"], list)


def test_a_wrong_ca_fails_naming_ca_path(https_lab, other_ca):
    lab = https_lab
    result = assert_refused(lab, "cluster_link", new_link(lab, unique_name("tls-wrong-ca")),
                            rest(lab, ca_path=other_ca["ca"]), "rest_url", "ca_path", other_ca["ca"])
    assert "does not hold the CA" in result.msg


def test_a_host_name_the_certificate_does_not_list(https_lab):
    """127.1 reaches 127.0.0.1, but the certificate names IP:127.0.0.1 and DNS:localhost only."""
    lab = https_lab
    url = lab.rest_url.replace("://127.0.0.1:", "://127.1:")
    result = assert_refused(lab, "cluster_link", new_link(lab, unique_name("tls-host")), rest(lab, rest_url=url),
                            "rest_url", "127.1", "not valid for the host")
    assert "subject alternative names" in result.msg
    # localhost is in the certificate: the same endpoint by that name works
    ok = run(lab, "cluster_link_info", {}, rest(lab, rest_url=lab.rest_url.replace("127.0.0.1", "localhost")))
    assert ok.rc == 0, ok.output


def test_a_ca_file_that_is_no_pem(https_lab, tmp_path):
    lab = https_lab
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    assert_refused(lab, "mirror_topic", {"link_name": unique_name("tls-nolink"), "topics": ["t1"]},
                   rest(lab, ca_path=str(bogus)), "ca_path", str(bogus), "no PEM CA certificate")


def test_http_url_of_an_https_endpoint_fails_cleanly(https_lab):
    lab = https_lab
    url = lab.rest_url.replace("https://", "http://")
    result = assert_refused(lab, "cluster_link", new_link(lab, unique_name("tls-http")),
                            rest(lab, rest_url=url, request_retries=0), "rest_url")
    assert url in result.msg


# ------------------------------------------------------------------ mutual TLS

def test_lab_json_describes_the_client_certificate(mtls_lab):
    info = mtls_lab.info
    assert info["rest_tls"] is True and info["rest_mtls"] is True
    for key in ("rest_ca_path", "rest_client_cert", "rest_client_key"):
        assert Path(info[key]).stat().st_mode & 0o777 == 0o600, key
    assert mtls_lab.health()["emulator"] == "ok"


def test_modules_with_a_client_certificate(mtls_lab):
    lab, name, conn = mtls_lab, unique_name("mtls-link"), rest(mtls_lab)
    assert conn["client_cert"] == lab.rest_client_cert and conn["client_key"] == lab.rest_client_key
    lab.create_topic("source", name)
    created = run(lab, "cluster_link", new_link(lab, name), conn)
    assert created.rc == 0 and created.result["changed"] is True, created.output
    mirrored = run(lab, "mirror_topic", {"link_name": name, "topics": [name]}, conn)
    assert mirrored.rc == 0 and mirrored.result["changed"] is True, mirrored.output
    info = run(lab, "cluster_link_info", {"names": [name]}, conn)
    assert info.rc == 0 and info.result["links"][0]["link_name"] == name, info.output
    assert get_link(lab, name)[0] == 200


def test_without_a_client_certificate(mtls_lab):
    lab = mtls_lab
    conn = rest(lab, client_cert=None, client_key=None)
    result = assert_refused(lab, "cluster_link", new_link(lab, unique_name("mtls-nocert")), conn,
                            "rest_url", "client_cert", "client_key", "refused the TLS handshake")
    assert "may have acted" not in result.msg         # the server never saw the request
    info = run(lab, "cluster_link_info", {}, conn)
    assert_clean_failure(info, "client_cert")
    assert info.result.get("rest_retries") == 0, info.result


def test_a_client_certificate_of_another_ca(mtls_lab, other_ca):
    lab = mtls_lab
    conn = rest(lab, client_cert=other_ca["client_cert"], client_key=other_ca["client_key"])
    assert_refused(lab, "cluster_link", new_link(lab, unique_name("mtls-foreign")), conn,
                   "client_cert", other_ca["client_cert"], "does not accept")


def test_migration_verify_names_its_own_tls_options(mtls_lab):
    """migration_verify's REST options carry a side prefix: the message names destination_rest_*."""
    lab = mtls_lab
    result = run(lab, "migration_verify", {
        "source_bootstrap_servers": lab.source_bootstrap, "destination_bootstrap_servers": lab.destination_bootstrap,
        "topics": [unique_name("absent")], "timeout": 10, "probe": False, "acl_source": "rest",
        "acl_filters": [{"resource_type": "any", "pattern_type": "any", "operation": "any",
                         "permission_type": "any"}],
        "source_rest_url": lab.source_rest_url, "source_rest_username": lab.rest_username,
        "source_rest_password": lab.rest_password, "source_rest_ca_path": lab.rest_ca_path,
        "source_rest_client_cert": lab.rest_client_cert, "source_rest_client_key": lab.rest_client_key,
        "destination_rest_url": lab.destination_rest_url, "destination_rest_username": lab.rest_username,
        "destination_rest_password": lab.rest_password}, {})
    assert result.rc != 0, result.output
    assert "destination_rest_url" in result.output and "destination_rest_ca_path" in result.output, result.output
    assert "Traceback" not in result.output and lab.rest_password not in result.output


# ------------------------------------------------------------------ the lab's own clients over mTLS

def test_the_lab_cp_tools_over_mtls(mtls_lab, monkeypatch, capsys):
    """The lab's kafka-cluster-links reaches the REST emulator with the CA and client certificate of lab.json."""
    from linkops_lab.cptools import cluster_links
    name = unique_name("mtls-cp")
    lab = mtls_lab
    lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links",
             {"source_cluster_id": lab.source_cluster_id,
              "configs": [{"name": "bootstrap.servers", "value": lab.source_bootstrap}]}, params={"link_name": name})
    monkeypatch.setenv("LINKOPS_LAB_DIR", str(lab.workdir))
    assert cluster_links.main(["--bootstrap-server", lab.destination_bootstrap, "--list"]) == 0
    assert f"'{name}'" in capsys.readouterr().out


def test_the_lab_inventory_over_mtls(mtls_lab):
    """playbooks/inventories/lab gives the clusters rest_ca_path, rest_client_cert and rest_client_key from
    lab.json: status.yml reads the destination over mTLS (its one link, test-cluster-link, is not there)."""
    run = run_ansible_playbook(["-i", "playbooks/inventories/lab", "playbooks/status.yml"], mtls_lab.workdir)
    assert run.rc == 0, run.output
    assert "test-cluster-link" in run.output and "TLS" not in run.output, run.output
    assert mtls_lab.rest_password not in run.output

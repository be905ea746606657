"""The contract checks are not a rubber stamp.

* ``contract.Contract`` rejects wrong bodies, wrong statuses and wrong
  requests, finds the right operation (Cloud first, Platform for its aliases)
  and never puts a secret into an error.
* The adjusted specs are valid OpenAPI documents.
* End to end: a lab emulator logs a line when it serves a request the spec
  forbids or sends a malformed response (through the lab-only
  ``inject_errors`` knob), and the ``contract_violations`` fixture of
  tests/conftest.py hands the line to the test.
* The root plugin (tests/conftest.py) fails exactly the test during which a
  violation was logged, holds violations of labs started in a background
  thread for the test that uses that lab, and fails the session for
  violations nobody claimed (run in a pytest subprocess / on the class).
"""

from __future__ import annotations

import importlib.util
import json
import os
import textwrap
from pathlib import Path

import pytest

from linkops_lab import contract as labcontract

pytest_plugins = ["pytester"]

ROOT_CONFTEST = Path(__file__).resolve().parents[2] / "conftest.py"
D = "LABdstCLUSTERid0000002"
MIRROR = {"kind": "KafkaMirrorData", "metadata": {"self": "x"}, "link_name": "l",
          "mirror_topic_name": "t", "source_topic_name": "t", "num_partitions": 1,
          "mirror_lags": [{"partition": 0, "lag": 0, "last_source_fetch_offset": 0}],
          "mirror_status": "ACTIVE", "state_time_ms": 1}
AUTH = {"Authorization": "Basic <redacted>"}


@pytest.fixture(scope="module")
def contract():
    from spec_check import spec_cache_path
    return labcontract.Contract.load(spec_cache_path())


def _op(contract, method, path):
    op = contract.operation(method, path)
    assert op is not None, f"{method} {path}"
    return op


def test_operation_lookup(contract):
    base = f"/kafka/v3/clusters/{D}"
    assert _op(contract, "GET", f"{base}/links/-/mirrors").operation_id == "listKafkaMirrorTopics"
    assert _op(contract, "GET", f"{base}/links/L/mirrors").operation_id == "listKafkaMirrorTopicsUnderLink"
    assert _op(contract, "GET", f"{base}/links/L/mirrors/T").operation_id == "readKafkaMirrorTopic"
    assert _op(contract, "POST", f"{base}/links/L/mirrors:promote").spec_name == "cloud"
    assert _op(contract, "POST", f"{base}/links/L/mirrors:reverse-and-start-mirror").spec_name == "cloud"
    alias = _op(contract, "POST", f"{base}/links/L/mirrors:promote-local-and-start-remote-mirror")
    assert alias.spec_name == "platform"
    assert _op(contract, "GET", "/kafka/v3/clusters").spec_name == "platform"
    assert contract.operation("GET", f"{base}/links/L/nothing") is None
    assert contract.operation("PATCH", f"{base}/links/L") is None
    assert labcontract.Contract.kafka_path("/v3/clusters") == "/kafka/v3/clusters"


def test_response_checks_reject_wrong_bodies(contract):
    path = f"/kafka/v3/clusters/{D}/links/l/mirrors/t"
    op = _op(contract, "GET", path)
    assert contract.check_response(op, "GET", path, 200, "application/json", MIRROR) == []
    errs = contract.check_response(op, "GET", path, 200, "application/json", {**MIRROR, "mirror_status": "RUNNING"})
    assert errs and "RUNNING" in errs[0] and "mirror_status" in errs[0]
    no_lags = {k: v for k, v in MIRROR.items() if k != "mirror_lags"}
    assert any("mirror_lags" in e for e in contract.check_response(op, "GET", path, 200, "application/json", no_lags))
    # an undocumented status must carry an Error body
    assert contract.check_response(op, "GET", path, 404, "application/json",
                                   {"error_code": 404, "message": "gone"}) == []
    errs = contract.check_response(op, "GET", path, 404, "application/json", {"error_code": "x"})
    assert any("error_code" in e for e in errs) and any("message" in e for e in errs)
    assert contract.check_response(op, "GET", path, 404, "text/plain", "gone")
    # a 200 where the spec documents a body must have one; a 204 must not carry JSON the spec lacks
    assert contract.check_response(op, "GET", path, 200, None, None)
    link_path = f"/kafka/v3/clusters/{D}/links"
    create = _op(contract, "POST", link_path)
    assert contract.check_response(create, "POST", link_path, 204, None, None) == []
    # the 429 Jetty page is documented as text/html; JSON there is not
    assert contract.check_response(create, "POST", link_path, 429, "text/html", "<html></html>") == []
    assert contract.check_response(create, "POST", link_path, 429, "application/json", {"x": 1})


def test_properties_the_spec_does_not_know(contract):
    """OpenAPI allows extra properties unless a schema forbids them; the lab does not: neither the
    emulator nor a client may invent fields (checked through allOf, nested objects and arrays)."""
    path = f"/kafka/v3/clusters/{D}/links/l/mirrors/t"
    op = _op(contract, "GET", path)
    body = {**MIRROR, "extra": 1, "metadata": {"self": "x", "foo": 2},
            "mirror_lags": [{"partition": 0, "lag": 0, "last_source_fetch_offset": 0, "bar": 3}]}
    assert contract.check_response(op, "GET", path, 200, "application/json", body) == [
        "metadata/foo: property not in the spec's schema", "mirror_lags/0/bar: property not in the spec's schema",
        "extra: property not in the spec's schema"]
    # the Platform alias answers in the Platform shape: no truncation fields
    alias_path = f"/kafka/v3/clusters/{D}/links/l/mirrors:promote-local-and-pause-remote-mirror"
    alias = _op(contract, "POST", alias_path)
    item = {"kind": "AlterMirrorsData", "metadata": {"self": "x"}, "mirror_topic_name": "t",
            "error_code": None, "error_message": None, "mirror_lags": []}
    answer = {"kind": "KafkaPromoteMirror", "metadata": {"self": "x", "next": None}, "data": [item]}
    assert contract.check_response(alias, "POST", alias_path, 200, "application/json", answer) == []
    answer["data"] = [{**item, "messages_truncated": None}]
    assert contract.check_response(alias, "POST", alias_path, 200, "application/json", answer) == [
        "data/0/messages_truncated: property not in the spec's schema"]
    # the Cloud action has them
    cloud_path = f"/kafka/v3/clusters/{D}/links/l/mirrors:reverse-and-pause-mirror"
    cloud = _op(contract, "POST", cloud_path)
    answer["data"] = [{**item, "messages_truncated": None, "partition_level_truncation_data": []}]
    assert contract.check_response(cloud, "POST", cloud_path, 200, "application/json", answer) == []
    # requests: an unknown field in a config entry and at the top
    link_path = f"/kafka/v3/clusters/{D}/links"
    create = _op(contract, "POST", link_path)
    req = {"source_cluster_id": "a", "configs": [{"name": "x", "value": "y", "operation": "SET"}], "mode": "x"}
    errs = contract.check_request(create, "POST", link_path, [("link_name", "L")], AUTH, json.dumps(req).encode(),
                                  "application/json")
    assert errs == ["configs/0/operation: property not in the spec's schema", "mode: property not in the spec's schema"]


def test_adjustment_nullable_config_value(contract):
    path = f"/kafka/v3/clusters/{D}/links/l/configs/sasl.jaas.config"
    op = _op(contract, "GET", path)
    entry = {"kind": "KafkaLinkConfigData", "metadata": {"self": "x"}, "cluster_id": D, "link_name": "l",
             "name": "sasl.jaas.config", "value": None, "is_default": False, "is_read_only": False,
             "is_sensitive": True, "source": "DYNAMIC_CLUSTER_LINK_CONFIG", "synonyms": []}
    assert contract.check_response(op, "GET", path, 200, "application/json", entry) == []
    assert contract.check_response(op, "GET", path, 200, "application/json", {**entry, "value": 5})


def test_request_checks(contract):
    path = f"/kafka/v3/clusters/{D}/links"
    create = _op(contract, "POST", path)
    good = json.dumps({"source_cluster_id": "src", "configs": [{"name": "bootstrap.servers", "value": "h:9092"}]})
    ok = contract.check_request(create, "POST", path, [("link_name", "L")], AUTH, good.encode(), "application/json")
    assert ok == []
    # a body the schema rejects
    bad = json.dumps({"source_cluster_id": 7, "configs": "bootstrap.servers=h:9092"}).encode()
    errs = contract.check_request(create, "POST", path, [("link_name", "L")], AUTH, bad, "application/json")
    assert any("source_cluster_id" in e for e in errs) and any("configs" in e for e in errs)
    # a required query parameter missing, an undeclared one, a boolean that is not true/false
    errs = contract.check_request(create, "POST", path, [("validate_only", "yes"), ("dry_run", "true")], AUTH,
                                  good.encode(), "application/json")
    text = " | ".join(errs)
    assert "link_name" in text and "'dry_run' is not declared" in text and "'yes' is not a boolean" in text
    # no credentials at all
    assert contract.check_request(create, "POST", path, [("link_name", "L")], {}, good.encode(), "application/json")
    # a required property missing (the spec does not mark the body itself required)
    mirror_path = f"{path}/L/mirrors"
    create_mirror = _op(contract, "POST", mirror_path)
    errs = contract.check_request(create_mirror, "POST", mirror_path, [], AUTH, b'{"mirror_topic_name": "t"}',
                                  "application/json")
    assert any("source_topic_name" in e for e in errs), errs
    assert contract.check_request(create_mirror, "POST", mirror_path, [], AUTH,
                                  b'{"source_topic_name": "t"}', "application/json") == []
    # a body that is not JSON at all
    assert contract.check_request(create_mirror, "POST", mirror_path, [], AUTH, b'source_topic_name=t',
                                  "application/x-www-form-urlencoded")


def test_errors_never_show_secrets(contract):
    path = f"/kafka/v3/clusters/{D}/links"
    create = _op(contract, "POST", path)
    secret = "hunter2-very-secret"
    body = {"source_cluster_id": "src", "configs": [
        {"name": "sasl.jaas.config", "value": ["org.apache...PlainLoginModule required password='%s';" % secret]},
        {"name": "ssl.truststore.password", "value": {"p": secret}},
        {"name": "bootstrap.servers", "value": 9092}]}
    errs = contract.check_request(create, "POST", path, [("link_name", "L")], AUTH, json.dumps(body).encode(),
                                  "application/json")
    assert errs, "non-string config values must be reported"
    assert secret not in json.dumps(errs)
    assert labcontract.redact_query([("password", secret), ("a", "1")]) == {"password": "<redacted>", "a": "1"}


@pytest.mark.parametrize("name", ["cloud", "platform"])
def test_adjusted_specs_are_valid_openapi(name):
    """The adjustments keep each spec a valid OpenAPI 3.0 document (the emulator skips this
    ~1 s validation). The Platform spec has a response without ``description`` outside Cluster
    Linking, so only its linking paths (and the components they may use) are validated."""
    from openapi_spec_validator import validate
    spec = labcontract.load_spec_dicts(None)[name]
    if name == "platform":
        spec = dict(spec)
        spec["paths"] = {k: v for k, v in spec["paths"].items() if "/links" in k or k == "/kafka/v3/clusters"}
        comps = dict(spec["components"])
        comps["responses"] = {k: v for k, v in comps.get("responses", {}).items() if "description" in v}
        spec["components"] = comps
    validate(spec)


# ------------------------------------------------------------------------------ end to end

def _checking(lab):
    if not os.environ.get(labcontract.ENV) or os.environ.get("LAB_TEST_ATTACH"):
        pytest.skip("the emulator checks only when tests/conftest.py set LAB_CONTRACT_LOG before it started")


@pytest.mark.parametrize("cluster", ["destination", "source"])
def test_emulator_logs_a_request_it_should_not_have_accepted(lab, contract_violations, cluster):
    _checking(lab)
    if cluster == "source" and not getattr(lab, "source_rest_url", None):
        pytest.skip("this lab has no REST server for the source cluster")
    cid = lab.destination_cluster_id if cluster == "destination" else lab.source_cluster_id
    kwargs = {} if cluster == "destination" else {"cluster": "source"}
    status, _ = lab.rest("GET", f"/kafka/v3/clusters/{cid}/links", params={"not_a_parameter": "1"}, **kwargs)
    assert status == 200  # the emulator ignores unknown query parameters ...
    lines = contract_violations.take(wait=5)
    # ... but the spec does not declare it: a client relying on it is off-contract
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["side"] == "request" and line["operation"] == "listKafkaLinks" and line["spec"] == "cloud"
    assert line["method"] == "GET" and line["status"] == 200 and line["query"] == {"not_a_parameter": "1"}
    assert any("'not_a_parameter' is not declared" in e for e in line["errors"])
    assert line["lab"] == str(lab.workdir)
    rest_url = lab.rest_url if cluster == "destination" else lab.source_rest_url
    assert str(line["port"]) in rest_url


def test_emulator_logs_a_malformed_response(lab, contract_violations):
    """``inject_errors`` (a lab-only knob for client retry tests) can answer with any status: a 200
    carrying an Error body is a malformed ``KafkaLinkDataList``."""
    _checking(lab)
    path = f"/kafka/v3/clusters/{lab.destination_cluster_id}/links"
    lab.knobs(inject_errors=[{"status": 200, "count": 1, "method": "GET", "path_contains": "/links"}])
    try:
        status, body = lab.rest("GET", path)
    finally:
        lab.knobs(inject_errors=[])
    assert status == 200 and "data" not in body, (status, body)
    lines = contract_violations.take(wait=5)
    assert [(l["side"], l["operation"], l["status"]) for l in lines] == [("response", "listKafkaLinks", 200)]
    assert any("'data' is a required property" in e for e in lines[0]["errors"]), lines[0]["errors"]
    # the next (real) answer is fine again
    assert lab.rest("GET", path)[0] == 200
    assert contract_violations.take() == []


# ------------------------------------------------------------------------------ the pytest plugin

def _load_root_conftest():
    spec = importlib.util.spec_from_file_location("root_contract_conftest_under_test", ROOT_CONFTEST)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_violations_go_to_the_test_that_uses_the_lab(tmp_path):
    mod = _load_root_conftest()
    path = tmp_path / "contract.jsonl"
    log = mod.ContractLog(path)
    fg, bg = str(tmp_path / "lab-main"), str(tmp_path / "migrate-lab")
    log.background.add(bg)

    def write(lab, n):
        with open(path, "a") as fh:
            fh.write(json.dumps({"lab": lab, "n": n, "side": "response", "errors": ["x"]}) + "\n")

    write(fg, 1)
    write(bg, 2)
    with open(path, "a") as fh:
        fh.write('{"lab": "%s", "n": 3' % fg)   # a line still being written is not read yet
    assert [e["n"] for e in log.take({fg})] == [1]
    with open(path, "a") as fh:
        fh.write(', "errors": []}\n')
    # a test that does not use the background lab does not get its violations ...
    assert [e["n"] for e in log.take(set())] == [3]
    # ... the test that uses it does
    write(bg, 4)
    assert [e["n"] for e in log.take({bg})] == [2, 4]
    assert log.pending == {}
    text = mod.format_violations([{"side": "response", "method": "GET", "path": "/kafka/v3/x",
                                   "query": {"a": "1"}, "status": 200, "operation": "op", "spec": "cloud",
                                   "client": "ansible-httpget", "lab": fg, "port": 1,
                                   "errors": ["e%d" % i for i in range(12)]}], "title")
    assert "response: GET /kafka/v3/x?a=1 -> 200 [op, cloud spec]; client ansible-httpget" in text
    assert "- e9" in text and "- ... 2 more" in text and "e10" not in text


def test_labs_started_off_the_main_thread_are_background_labs(tmp_path):
    """The session wraps Lab.start (linkops_lab/lab.py) to note labs started in a thread, e.g. the
    migrate.yml lab of the integration tests."""
    import threading
    from linkops_lab.lab import Lab
    if not os.environ.get(labcontract.ENV):
        pytest.skip("LAB_CONTRACT=off")
    assert getattr(Lab.start, "_contract_wrapped", False), "tests/conftest.py did not wrap Lab.start"
    log = _load_root_conftest().ContractLog(tmp_path / "c.jsonl")
    log.lab_started(tmp_path / "main-lab")
    t = threading.Thread(target=log.lab_started, args=(tmp_path / "thread-lab",))
    t.start()
    t.join()
    assert log.background == {str(tmp_path / "thread-lab")}


def test_plugin_fails_the_test_that_logged_a_violation(pytester, monkeypatch):
    """A pytest session with the root conftest: the test during which a line was logged errors at
    teardown showing it; the others pass; a test can take() expected lines; a line logged after the
    last test fails the session."""
    pytester.makeconftest(ROOT_CONFTEST.read_text())
    pytester.makepyfile(test_inner=textwrap.dedent("""
        import json, os

        def log(n, lab="/nowhere"):
            with open(os.environ["LAB_CONTRACT_LOG"], "a") as fh:
                fh.write(json.dumps({"side": "response", "method": "GET", "path": "/kafka/v3/clusters",
                                     "status": 200, "lab": lab, "errors": ["boom %d" % n]}) + "\\n")

        def test_a_clean():
            pass

        def test_b_violation():
            log(1)

        def test_c_expected(contract_violations):
            log(2)
            assert [e["errors"] for e in contract_violations.take()] == [["boom 2"]]

        def test_d_clean_again():
            pass
    """))
    inner_log = pytester.path / "inner-contract.jsonl"
    monkeypatch.setenv(labcontract.ENV, str(inner_log))
    monkeypatch.delenv("LAB_CONTRACT", raising=False)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=4, errors=1)
    out = result.stdout.str()
    assert "ERROR at teardown of test_b_violation" in out
    assert "OpenAPI contract violations while this test ran" in out and "boom 1" in out
    assert "boom 2" not in out
    assert "1 failed a test, 1 were provoked on purpose, 0 no test claimed" in out
    assert len(inner_log.read_text().splitlines()) == 2


def test_plugin_under_xdist_reports_every_workers_violations(pytester, monkeypatch):
    """With pytest-xdist (how `make test` runs) every worker keeps its own log: a violation still
    fails the test that logged it, and a line no test claimed, logged in a worker after its last
    test, fails the whole session and is shown by the controller."""
    pytester.makeconftest(ROOT_CONFTEST.read_text())
    logger = textwrap.dedent("""
        import json, os
        import pytest

        def log(text):
            with open(os.environ["LAB_CONTRACT_LOG"], "a") as fh:
                fh.write(json.dumps({"side": "response", "method": "GET", "path": "/kafka/v3/clusters",
                                     "status": 200, "lab": "/nowhere", "errors": [text]}) + "\\n")
    """)
    pytester.makepyfile(
        test_one=logger + textwrap.dedent("""
            def test_violation():
                log("boom in one")

            def test_expected(contract_violations):
                log("expected in one")
                assert [e["errors"] for e in contract_violations.take()] == [["expected in one"]]
        """),
        test_two=logger + textwrap.dedent("""
            @pytest.fixture(scope="module", autouse=True)
            def late_line():
                yield
                log("late in two")

            def test_clean():
                pass
        """))
    monkeypatch.delenv(labcontract.ENV, raising=False)
    monkeypatch.delenv("LAB_CONTRACT", raising=False)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=3, errors=1)
    assert result.ret != 0
    out = result.stdout.str()
    assert "OpenAPI contract violations while this test ran" in out and "boom in one" in out
    assert "expected in one" not in out
    assert "1 failed a test, 1 were provoked on purpose, 1 no test claimed" in out
    assert "violations no test claimed (they fail the session)" in out and "late in two" in out

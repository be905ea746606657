# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for cluster_link (_link_reconcile) logic (mirror_topic: test_mirror_reconcile.py).

Everything runs against FakeRest, a small in-memory Kafka REST v3 (links, link configs,
mirrors and batch actions) with the RestClient.cluster() interface. Time is faked.
"""

from __future__ import annotations

import copy
import json
from urllib.parse import unquote

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_reconcile as lr
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _links
from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import RestBackend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._client_properties import jaas_quote
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestError

PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"

# What the server itself flags as sensitive (Kafka PASSWORD-type configs): reads back as null.
SERVER_SENSITIVE_SUFFIXES = ("jaas.config", "password", "secret", "ssl.keystore.key")


def server_sensitive(name):
    return name.endswith(SERVER_SENSITIVE_SUFFIXES)


class FakeRest:
    """In-memory Kafka REST v3 for one destination cluster.

    links: name -> {"link": {...}, "configs": {name: value}}
    mirrors: link name -> {topic: mirror dict}
    Each GET of a link's mirrors first serves the current state, then advances it one step:
    PENDING_MIRROR -> ACTIVE, PENDING_STOPPED -> STOPPED, and every partition lag drops by lag_drain.
    """

    def __init__(self, cluster_id="dst-1"):
        self.cluster_id = cluster_id
        self.request_count = 0
        self.calls = []
        self.links = {}
        self.mirrors = {}
        self.lag_drain = 0
        self.new_mirror_status = "ACTIVE"
        self.fail = {}           # (method, path) -> RestError to raise
        self.action_errors = {}  # topic -> (error_code, error_message) for batch actions
        self.action_skip = set()  # topics a batch action answers nothing for
        self.lags_at_action = None
        self.time = None  # a FakeTime, to record how many sleeps came before a batch action
        self.sleeps_at_action = None
        self.plain_topics = set()  # topics on the cluster that are not mirrors
        self.tasks = []  # link tasks served with include_tasks=true

    # -- setup helpers -----------------------------------------------------------------------

    def add_link(self, name, source_cluster_id="src-1", configs=None):
        self.links[name] = {
            "link": {"link_name": name, "source_cluster_id": source_cluster_id, "cluster_link_id": "cl-" + name,
                     "link_state": "ACTIVE", "link_error": "NO_ERROR", "link_error_message": None,
                     "topic_names": []},
            "configs": dict(configs or {}),
        }
        self.mirrors.setdefault(name, {})

    def add_mirror(self, link, topic, status="ACTIVE", lags=(0,), source=None):
        self.mirrors.setdefault(link, {})[topic] = {
            "link_name": link, "mirror_topic_name": topic, "source_topic_name": source or topic,
            "num_partitions": len(lags), "mirror_status": status, "state_time_ms": 1,
            "mirror_topic_error": "NO_ERROR",
            "mirror_lags": [{"partition": i, "lag": lag, "last_source_fetch_offset": 100} for i, lag in enumerate(lags)],
        }

    # -- inspection helpers ------------------------------------------------------------------

    @property
    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]

    def config_entries(self, link):
        entries = [{"name": "consumer.offset.sync.ms", "value": "30000", "source": "DEFAULT_CONFIG",
                    "is_default": True, "is_read_only": False, "is_sensitive": False}]
        for name, value in sorted(self.links[link]["configs"].items()):
            sensitive = server_sensitive(name)
            entries.append({"name": name, "value": None if sensitive else value,
                            "source": "DYNAMIC_CLUSTER_LINK_CONFIG", "is_default": False,
                            "is_read_only": False, "is_sensitive": sensitive})
        return entries

    # -- the RestClient interface ------------------------------------------------------------

    def cluster(self, method, path, query=None, body=None):
        self.request_count += 1
        self.calls.append((method, path, copy.deepcopy(query), copy.deepcopy(body)))
        if (method, path) in self.fail:
            raise self.fail[(method, path)]
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["topics"] and method == "GET":
            names = set(self.plain_topics)
            for mirrors in self.mirrors.values():
                names.update(mirrors)
            return {"data": [{"topic_name": n} for n in sorted(names)]}
        if parts == ["links"] and method == "POST":
            return self._create_link(query, body)
        if parts[0] != "links" or len(parts) < 2:
            raise AssertionError("unexpected request %s %s" % (method, path))
        name, rest = parts[1], parts[2:]
        if name not in self.links:
            raise RestError("%s %s failed: HTTP 404, error 40403: link not found" % (method, path),
                            status=404, error_code=40403, method=method)
        link = self.links[name]
        if not rest and method == "GET":
            found = copy.deepcopy(link["link"])
            if (query or {}).get("include_tasks"):
                found["tasks"] = copy.deepcopy(self.tasks)
            return found
        if not rest and method == "DELETE":
            del self.links[name]
            return {}
        if rest == ["configs"] and method == "GET":
            return {"data": self.config_entries(name)}
        if rest == ["configs:alter"] and method == "PUT":
            for item in body["data"]:
                assert item["operation"] == "SET"
                link["configs"][item["name"]] = item["value"]
            return {}
        if rest == ["mirrors"] and method == "GET":
            data = copy.deepcopy(list(self.mirrors[name].values()))
            self._advance(name)
            return {"data": data}
        if rest == ["mirrors"] and method == "POST":
            topic = body.get("mirror_topic_name") or body["source_topic_name"]
            self.add_mirror(name, topic, status=self.new_mirror_status, source=body["source_topic_name"])
            return {}
        if len(rest) == 1 and rest[0] in ("mirrors:promote", "mirrors:failover"):
            return self._batch(name, rest[0].split(":")[1], body["mirror_topic_names"])
        raise AssertionError("unexpected request %s %s" % (method, path))

    def _create_link(self, query, body):
        name = query["link_name"]
        if name in self.links:
            raise RestError("POST /links failed: HTTP 400, error 40002: link exists", status=400, error_code=40002)
        self.add_link(name, body.get("source_cluster_id"),
                      dict((c["name"], c["value"]) for c in body.get("configs") or []))
        return {}

    def _advance(self, link):
        for mirror in self.mirrors[link].values():
            if mirror["mirror_status"] == "PENDING_MIRROR":
                mirror["mirror_status"] = "ACTIVE"
            elif mirror["mirror_status"] == "PENDING_STOPPED":
                mirror["mirror_status"] = "STOPPED"
            for lag in mirror["mirror_lags"]:
                lag["lag"] = max(0, lag["lag"] - self.lag_drain)

    def _batch(self, link, action, names):
        if self.time is not None:
            self.sleeps_at_action = len(self.time.sleeps)
        self.lags_at_action = dict((n, max(p["lag"] for p in self.mirrors[link][n]["mirror_lags"]))
                                   for n in names if n in self.mirrors[link])
        data = []
        for topic in names:
            if topic in self.action_skip:
                continue
            mirror = self.mirrors[link].get(topic)
            code, message = self.action_errors.get(topic, (None, None))
            if code is None and mirror["mirror_status"] == "STOPPED":
                code, message = 400, "Topic '%s' has already stopped its mirror from '%s'" % (topic, link)
            if code is None and action == "promote" and self.lags_at_action[topic] > 0:
                code, message = 400, "Topic '%s' has not caught up" % topic
            if code is None:
                mirror["mirror_status"] = "PENDING_STOPPED"
            data.append({"kind": "KafkaAlterMirrorsData", "mirror_topic_name": topic, "error_code": code,
                         "error_message": message, "mirror_lags": []})
        return {"kind": "KafkaPromoteMirror", "data": data}


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


# =============================================================================================
# cluster_link
# =============================================================================================

USER = 'link"user'
PASSWORD = 'pa\\ss"w0rd-VERY-SECRET'


def link_params(**overrides):
    params = dict(
        name="l1", state="present", source_cluster_id="src-1", source_bootstrap_servers="src:9092",
        source_security_protocol="SASL_SSL", source_sasl_mechanism="PLAIN", source_sasl_username=USER,
        source_sasl_password=PASSWORD, source_sasl_jaas_config=None, configs={}, topic_filters=None,
        consumer_group_filters=None, update_password="on_create", force=False,
    )
    params.update(overrides)
    return params


def body_configs(call):
    return dict((c["name"], c["value"]) for c in call[3]["configs"])


def assert_no_secrets(result):
    text = json.dumps(result)
    assert PASSWORD not in text
    assert json.dumps(PASSWORD)[1:-1] not in text
    assert "pa\\\\ss" not in text
    assert "LoginModule" not in text


def test_jaas_quote_escapes_backslash_then_quote():
    assert jaas_quote('a"b\\c') == '"a\\"b\\\\c"'


@pytest.mark.parametrize("mechanism, module", [(None, PLAIN), ("PLAIN", PLAIN), ("SCRAM-SHA-256", SCRAM),
                                               ("SCRAM-SHA-512", SCRAM)])
def test_jaas_config_modules(mechanism, module):
    assert lr.jaas_config(mechanism, "u", "p") == '%s required username="u" password="p";' % module


def test_jaas_config_other_mechanism_needs_jaas_option():
    with pytest.raises(lr.LinkFailure) as err:
        lr.jaas_config("OAUTHBEARER", "u", "p")
    assert "source_sasl_jaas_config" in str(err.value)


def test_username_with_a_mechanism_without_jaas_line_changes_nothing():
    """Bad input through the whole reconcile: the error names the option to use instead, nothing is
    written, and the password is not in the message."""
    rest = FakeRest()
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(rest), link_params(source_sasl_mechanism="GSSAPI"), False)
    assert "GSSAPI" in str(err.value) and "source_sasl_jaas_config" in str(err.value)
    assert PASSWORD not in str(err.value)
    assert rest.writes == []


def test_create_when_absent():
    rest = FakeRest()
    result = lr.reconcile(RestBackend(rest), link_params(configs={"consumer.offset.sync.ms": 10000}), check_mode=False)

    posts = rest.writes
    assert len(posts) == 1
    method, path, query, body = posts[0]
    assert (method, path) == ("POST", "/links")
    assert query == {"link_name": "l1", "validate_only": None}
    assert body["source_cluster_id"] == "src-1"
    expected_jaas = (PLAIN + ' required username="link\\"user" password="pa\\\\ss\\"w0rd-VERY-SECRET";')
    assert body_configs(posts[0]) == {
        "bootstrap.servers": "src:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.jaas.config": expected_jaas,
        "consumer.offset.sync.ms": "10000",
    }
    assert [c["name"] for c in body["configs"]] == sorted(c["name"] for c in body["configs"])

    assert result["changed"] is True
    assert result["configs_set"] == ["bootstrap.servers", "consumer.offset.sync.ms", "sasl.jaas.config",
                                     "sasl.mechanism", "security.protocol"]
    assert result["before"] == {}
    assert result["after"]["source_cluster_id"] == "src-1"
    assert result["after"]["secrets_set"] == ["sasl.jaas.config"]
    assert "sasl.jaas.config" not in result["after"]["configs"]
    assert result["link"]["cluster_link_id"] == "cl-l1"
    assert result["link"]["configs"]["bootstrap.servers"] == "src:9092"
    assert_no_secrets(result)


def test_create_with_topic_and_group_filters_enables_features():
    rest = FakeRest()
    params = link_params(
        source_sasl_username=None, source_sasl_password=None, source_security_protocol=None, source_sasl_mechanism=None,
        topic_filters=[{"name": "orders.", "pattern_type": "prefixed"}],
        consumer_group_filters=[{"name": "*"}])
    lr.reconcile(RestBackend(rest), params, check_mode=False)
    configs = body_configs(rest.writes[0])
    assert configs == {
        "bootstrap.servers": "src:9092",
        "auto.create.mirror.topics.enable": "true",
        "auto.create.mirror.topics.filters":
            '{"topicFilters":[{"name":"orders.","patternType":"PREFIXED","filterType":"INCLUDE"}]}',
        "consumer.offset.sync.enable": "true",
        "consumer.offset.group.filters":
            '{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}',
    }


def test_explicit_enable_config_wins_over_filter_default():
    rest = FakeRest()
    params = link_params(topic_filters=[{"name": "a"}], configs={"auto.create.mirror.topics.enable": False})
    lr.reconcile(RestBackend(rest), params, check_mode=False)
    assert body_configs(rest.writes[0])["auto.create.mirror.topics.enable"] == "false"


def test_empty_filter_list_does_not_enable_feature():
    configs = lr.wanted_configs(link_params(topic_filters=[]))
    assert configs["auto.create.mirror.topics.filters"] == '{"topicFilters":[]}'
    assert "auto.create.mirror.topics.enable" not in configs


def test_bad_filter_becomes_link_failure():
    rest = FakeRest()
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(rest), link_params(topic_filters=[{"name": "a"}, {"name": "b", "pattern_type": "regex"}]), False)
    assert "topic_filters[1].pattern_type" in str(err.value)
    assert rest.writes == []


def test_create_in_check_mode_makes_no_write():
    rest = FakeRest()
    result = lr.reconcile(RestBackend(rest), link_params(), check_mode=True)
    assert result["changed"] is True
    assert rest.writes == []
    assert "l1" not in rest.links
    assert result["link"]["link_name"] == "l1"
    assert result["link"]["configs"]["bootstrap.servers"] == "src:9092"
    assert_no_secrets(result)


def test_create_needs_source_cluster_id_and_bootstrap():
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(FakeRest()), link_params(source_cluster_id=None), False)
    assert "source_cluster_id" in str(err.value)
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(FakeRest()), link_params(source_bootstrap_servers=None), False)
    assert "source_bootstrap_servers" in str(err.value)


def test_bootstrap_from_configs_is_enough_to_create():
    rest = FakeRest()
    lr.reconcile(RestBackend(rest), link_params(source_bootstrap_servers=None, configs={"bootstrap.servers": "b:1"}), False)
    assert body_configs(rest.writes[0])["bootstrap.servers"] == "b:1"


def test_create_failure_is_link_failure():
    rest = FakeRest()
    rest.fail[("POST", "/links")] = RestError("POST x failed: HTTP 400, error 40002: bad", status=400)
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(rest), link_params(), False)
    assert str(err.value).startswith("Creating link l1 failed: POST x failed: HTTP 400")
    assert PASSWORD not in str(err.value)


def test_second_run_is_idempotent():
    rest = FakeRest()
    params = link_params(configs={"consumer.offset.sync.ms": 10000, "acl.sync.enable": True},
                         topic_filters=[{"name": "orders.", "pattern_type": "PREFIXED"}])
    lr.reconcile(RestBackend(rest), params, check_mode=False)
    # the server reads back the JSON with different spacing and key order, and the secret as null
    stored = rest.links["l1"]["configs"]
    stored["auto.create.mirror.topics.filters"] = (
        '{ "topicFilters": [ {"filterType": "INCLUDE", "patternType": "PREFIXED", "name": "orders."} ] }')
    writes_before = len(rest.writes)

    result = lr.reconcile(RestBackend(rest), params, check_mode=False)
    assert result["changed"] is False
    assert result["configs_set"] == []
    assert len(rest.writes) == writes_before
    assert result["before"] == result["after"]
    assert_no_secrets(result)


def test_one_changed_config_is_one_alter_with_that_key():
    rest = FakeRest()
    rest.add_link("l1", configs={"bootstrap.servers": "src:9092", "security.protocol": "SASL_SSL",
                                 "sasl.mechanism": "PLAIN", "sasl.jaas.config": "old-jaas",
                                 "consumer.offset.sync.ms": "30000", "acl.sync.enable": "true"})
    result = lr.reconcile(RestBackend(rest), link_params(configs={"consumer.offset.sync.ms": 10000}), check_mode=False)
    assert result["changed"] is True
    assert result["configs_set"] == ["consumer.offset.sync.ms"]
    assert len(rest.writes) == 1
    method, path, query, body = rest.writes[0]
    assert (method, path) == ("PUT", "/links/l1/configs:alter")
    assert body == {"data": [{"name": "consumer.offset.sync.ms", "value": "10000", "operation": "SET"}]}
    assert rest.links["l1"]["configs"]["acl.sync.enable"] == "true"  # not wanted, left alone
    assert rest.links["l1"]["configs"]["sasl.jaas.config"] == "old-jaas"  # on_create: secret not resent
    assert result["before"]["configs"]["consumer.offset.sync.ms"] == "30000"
    assert result["after"]["configs"]["consumer.offset.sync.ms"] == "10000"
    assert result["link"]["configs"]["consumer.offset.sync.ms"] == "10000"
    assert_no_secrets(result)


def test_changed_config_in_check_mode_predicts_without_write():
    rest = FakeRest()
    rest.add_link("l1", configs={"bootstrap.servers": "src:9092"})
    params = link_params(source_security_protocol=None, source_sasl_mechanism=None, source_sasl_username=None,
                         source_sasl_password=None, configs={"consumer.offset.sync.enable": True})
    result = lr.reconcile(RestBackend(rest), params, check_mode=True)
    assert result["changed"] is True
    assert result["configs_set"] == ["consumer.offset.sync.enable"]
    assert rest.writes == []
    assert result["after"]["configs"]["consumer.offset.sync.enable"] == "true"
    assert "consumer.offset.sync.enable" not in result["before"]["configs"]


def test_update_password_always_resends_the_secret():
    rest = FakeRest()
    lr.reconcile(RestBackend(rest), link_params(), False)
    result = lr.reconcile(RestBackend(rest), link_params(update_password="always"), False)
    assert result["changed"] is True
    assert result["configs_set"] == ["sasl.jaas.config"]
    method, path, query, body = rest.writes[-1]
    assert path == "/links/l1/configs:alter"
    assert [d["name"] for d in body["data"]] == ["sasl.jaas.config"]
    assert_no_secrets(result)


def test_alter_failure_is_link_failure_naming_the_configs():
    rest = FakeRest()
    rest.add_link("l1", configs={"bootstrap.servers": "old:9092"})
    rest.fail[("PUT", "/links/l1/configs:alter")] = RestError("PUT failed: HTTP 400", status=400)
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(rest), link_params(source_sasl_username=None, source_sasl_password=None), False)
    assert "bootstrap.servers" in str(err.value)
    assert "l1" in str(err.value)


def test_conflicting_bootstrap_servers():
    rest = FakeRest()
    params = link_params(configs={"bootstrap.servers": "other:9092"})
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(rest), params, check_mode=False)
    assert "configs.bootstrap.servers" in str(err.value)
    assert "source_bootstrap_servers" in str(err.value)
    assert rest.writes == []


def test_same_bootstrap_in_both_places_is_fine():
    configs = lr.wanted_configs(link_params(configs={"bootstrap.servers": "src:9092"}))
    assert configs["bootstrap.servers"] == "src:9092"


def test_conflicting_jaas_sources():
    with pytest.raises(lr.LinkFailure) as err:
        lr.wanted_configs(link_params(configs={"sasl.jaas.config": "x"}))
    assert "source_sasl_username" in str(err.value)
    assert PASSWORD not in str(err.value)


@pytest.mark.parametrize("bad", ["", " bootstrap.servers", "a b"])
def test_bad_config_names(bad):
    with pytest.raises(lr.LinkFailure) as err:
        lr.wanted_configs(link_params(configs={bad: "x"}))
    assert str(err.value).startswith("configs:")


def test_changing_source_cluster_id_fails():
    rest = FakeRest()
    rest.add_link("l1", source_cluster_id="src-1", configs={"bootstrap.servers": "src:9092"})
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(rest), link_params(source_cluster_id="src-OTHER"), check_mode=False)
    message = str(err.value)
    assert "src-1" in message and "src-OTHER" in message
    assert "cannot be changed" in message
    assert rest.writes == []


def test_existing_link_without_source_cluster_id_option_is_fine():
    rest = FakeRest()
    rest.add_link("l1", configs={"bootstrap.servers": "src:9092"})
    params = link_params(source_cluster_id=None, source_security_protocol=None, source_sasl_mechanism=None,
                         source_sasl_username=None, source_sasl_password=None)
    assert lr.reconcile(RestBackend(rest), params, False)["changed"] is False


@pytest.mark.parametrize("force, expected_query", [(True, {"force": True}), (False, {"force": None})])
def test_absent_deletes_with_force_flag(force, expected_query):
    rest = FakeRest()
    rest.add_link("l1", configs={"bootstrap.servers": "src:9092", "sasl.jaas.config": "secret-jaas"})
    result = lr.reconcile(RestBackend(rest), link_params(state="absent", force=force), check_mode=False)
    assert result["changed"] is True
    assert result["after"] == {}
    assert result["link"] == {}
    assert result["before"]["configs"] == {"bootstrap.servers": "src:9092"}
    assert result["before"]["secrets_set"] == ["sasl.jaas.config"]
    assert rest.writes == [("DELETE", "/links/l1", expected_query, None)]
    assert "l1" not in rest.links
    assert "secret-jaas" not in json.dumps(result)


def test_absent_check_mode_and_already_absent():
    rest = FakeRest()
    rest.add_link("l1", configs={"bootstrap.servers": "src:9092"})
    result = lr.reconcile(RestBackend(rest), link_params(state="absent"), check_mode=True)
    assert result["changed"] is True
    assert rest.writes == []
    rest2 = FakeRest()
    result = lr.reconcile(RestBackend(rest2), link_params(state="absent"), check_mode=False)
    assert result["changed"] is False
    assert rest2.writes == []


def test_delete_failure_hints_at_force():
    rest = FakeRest()
    rest.add_link("l1")
    rest.fail[("DELETE", "/links/l1")] = RestError("DELETE failed: HTTP 400: link has mirrors", status=400)
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(rest), link_params(state="absent"), False)
    assert "force=true" in str(err.value)
    rest.fail[("DELETE", "/links/l1")] = RestError("DELETE failed: HTTP 500", status=500)
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(RestBackend(rest), link_params(state="absent", force=True), False)
    assert "force=true" not in str(err.value)


def test_non_404_error_on_get_link_propagates():
    rest = FakeRest()
    rest.fail[("GET", "/links/l1")] = RestError("GET failed: HTTP 403", status=403)
    with pytest.raises(RestError):
        lr.reconcile(RestBackend(rest), link_params(), False)


@pytest.mark.parametrize("update_password", ["on_create", "always"])
@pytest.mark.parametrize("check_mode", [False, True])
def test_diff_never_contains_secrets(update_password, check_mode):
    rest = FakeRest()
    results = [lr.reconcile(RestBackend(rest), link_params(update_password=update_password), check_mode)]
    if not check_mode:
        params = link_params(update_password=update_password, configs={"consumer.offset.sync.ms": 5})
        results.append(lr.reconcile(RestBackend(rest), params, check_mode))
        results.append(lr.reconcile(RestBackend(rest), link_params(state="absent"), check_mode))
    for result in results:
        assert_no_secrets({"before": result["before"], "after": result["after"]})
        assert_no_secrets(result)


def test_jaas_config_option_is_used_verbatim_and_hidden():
    rest = FakeRest()
    jaas = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientSecret="zzz";'
    params = link_params(source_sasl_mechanism="OAUTHBEARER", source_sasl_username=None, source_sasl_password=None,
                         source_sasl_jaas_config=jaas)
    result = lr.reconcile(RestBackend(rest), params, False)
    assert body_configs(rest.writes[0])["sasl.jaas.config"] == jaas
    assert "zzz" not in json.dumps(result)


def test_server_sensitive_config_not_matching_suffix_is_idempotent_and_hidden():
    rest = FakeRest()
    pem = "-----BEGIN PRIVATE KEY-----MIIEv...-----END PRIVATE KEY-----"
    params = link_params(source_security_protocol="SSL", source_sasl_mechanism=None, source_sasl_username=None,
                         source_sasl_password=None, configs={"ssl.keystore.type": "PEM", "ssl.keystore.key": pem})
    lr.reconcile(RestBackend(rest), params, False)
    result = lr.reconcile(RestBackend(rest), params, False)
    assert pem not in json.dumps(result)
    assert result["changed"] is False


# =============================================================================================
# the REST helpers the reconcilers use (_links, _mirrors)
# =============================================================================================


def test_get_link_query_and_404_is_none():
    rest = FakeRest()
    assert _links.get_link(rest, "nope") is None
    rest.add_link("l 1")
    assert _links.get_link(rest, "l 1", include_tasks=True)["link_name"] == "l 1"
    assert rest.calls[-1][:3] == ("GET", "/links/l%201", {"include_tasks": True})
    _links.get_link(rest, "l 1")
    assert rest.calls[-1][2] == {"include_tasks": None}


def test_wait_for_link_polls_until_readable():
    rest = FakeRest()
    fake_time = FakeTime()
    reads = []

    def appears_on_third_read(method, path, query=None, body=None):
        reads.append(path)
        if len(reads) == 3:
            rest.add_link("l1")
        return FakeRest.cluster(rest, method, path, query, body)
    rest.cluster = appears_on_third_read
    link = _links.wait_for_link(RestBackend(rest), "l1", present=True, timeout=10, interval=0.5,
                                sleep=fake_time.sleep, clock=fake_time.clock)
    assert link["link_name"] == "l1"
    assert fake_time.sleeps == [0.5, 0.5]


def test_wait_for_link_times_out():
    rest = FakeRest()
    rest.add_link("l1")
    fake_time = FakeTime()
    with pytest.raises(ApiError) as err:
        _links.wait_for_link(RestBackend(rest), "l1", present=False, timeout=2, interval=1,
                             sleep=fake_time.sleep, clock=fake_time.clock)
    assert "Link l1 is still present after 2 seconds." == err.value.message

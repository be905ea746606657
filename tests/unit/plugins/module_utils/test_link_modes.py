# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for cluster_link's link modes, config diffing and purge, validate_only, the
Java properties parser, and cluster_link_info's reading (_link_modes, _link_configs,
_link_reconcile, _properties, _link_info).

FakeBackend is an in-memory Backend: links with their cluster id fields and dynamic configs, a
table of defaults (served like GET configs: every config, defaults included, secrets as null).
"""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_configs as lc
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_info as li
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_modes as lm
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_reconcile as lr
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _properties as props
from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import Backend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError

DEFAULTS = {
    "link.mode": "DESTINATION", "connection.mode": "OUTBOUND", "cluster.link.prefix": None,
    "cluster.link.paused": "false", "consumer.offset.sync.ms": "30000", "topic.config.sync.ms": "5000",
    "acl.sync.enable": "false", "security.protocol": "PLAINTEXT", "sasl.mechanism": "GSSAPI",
    "bootstrap.servers": None, "sasl.jaas.config": None, "ssl.truststore.password": None,
    "auto.create.mirror.topics.enable": "false", "auto.create.mirror.topics.filters": "",
}
SECRET = "s3cr3t-\"canary\\-PASSWORD"
LOCAL_SECRET = "l0cal-canary-PASSWORD"
TRUST_SECRET = "trust-canary-PASSWORD"


class FakeBackend(Backend):
    name = "fake"

    def __init__(self):
        self.links = {}
        self.calls = []
        self.refuse = None  # ApiError raised by the next write

    cluster_id = "dst-1"

    @property
    def call_count(self):
        return len(self.calls)

    @property
    def writes(self):
        return [c for c in self.calls if c[0] not in ("get_link", "get_link_configs")]

    def add(self, name, field="source_cluster_id", remote="src-1", **configs):
        self.links[name] = {
            "link": {"link_name": name, field: remote, "cluster_link_id": "cl-" + name, "link_state": "ACTIVE",
                     "link_error": "NO_ERROR", "topic_names": []},
            "configs": dict(configs),
        }

    def get_link(self, name, include_tasks=False):
        self.calls.append(("get_link", name))
        found = self.links.get(name)
        if found is None:
            return None
        link = copy.deepcopy(found["link"])
        if include_tasks:
            link["tasks"] = []
        return link

    def get_link_configs(self, name):
        self.calls.append(("get_link_configs", name))
        dynamic = self.links[name]["configs"]
        entries = []
        for key in sorted(set(DEFAULTS) | set(dynamic)):
            sensitive = lc.is_sensitive(key)
            if key in dynamic:
                entries.append({"name": key, "value": None if sensitive else dynamic[key],
                                "source": "DYNAMIC_CLUSTER_LINK_CONFIG", "is_sensitive": sensitive})
            else:
                entries.append({"name": key, "value": None if sensitive else DEFAULTS[key],
                                "source": "DEFAULT_CONFIG", "is_sensitive": sensitive})
        return entries

    def _write(self, call):
        self.calls.append(call)
        if self.refuse is not None:
            raise self.refuse

    def create_link(self, name, cluster_ids, configs, validate_only=False):
        self._write(("create_link", name, dict(cluster_ids), dict(configs), validate_only))
        if validate_only:
            return
        field = [k for k in cluster_ids if k != "cluster_link_id"][0]
        self.add(name, field, cluster_ids[field], **configs)
        if cluster_ids.get("cluster_link_id"):
            self.links[name]["link"]["cluster_link_id"] = cluster_ids["cluster_link_id"]

    def alter_link_configs(self, name, set_configs, delete_names=(), validate_only=False):
        self._write(("alter_link_configs", name, dict(set_configs), sorted(delete_names), validate_only))
        if validate_only:
            return
        configs = self.links[name]["configs"]
        configs.update(set_configs)
        for key in delete_names:
            configs.pop(key, None)

    def delete_link(self, name, force=False, validate_only=False):
        self._write(("delete_link", name, force, validate_only))
        if not validate_only:
            del self.links[name]

    def list_links(self):
        self.calls.append(("list_links",))
        return [copy.deepcopy(v["link"]) for k, v in sorted(self.links.items())]

    def list_all_mirrors(self):
        self.calls.append(("list_all_mirrors",))
        return copy.deepcopy(self.mirrors)

    def list_mirrors(self, link_name):
        self.calls.append(("list_mirrors", link_name))
        if link_name not in self.links:
            raise ApiError("no such link", status=404)
        return dict((m["mirror_topic_name"], copy.deepcopy(m)) for m in self.mirrors if m["link_name"] == link_name)

    mirrors = ()


def params(**overrides):
    base = dict(name="l1", state="present", link_mode=None, connection_mode=None, remote_cluster_id=None,
                source_cluster_id=None, cluster_link_id=None, prefix=None, remote=None, local=None,
                source_bootstrap_servers=None, source_security_protocol=None, source_sasl_mechanism=None,
                source_sasl_username=None, source_sasl_password=None, source_sasl_jaas_config=None,
                properties_file=None, configs={}, purge_configs=False, topic_filters=None,
                consumer_group_filters=None, paused=None, update_password="on_create", force=False,
                validate_only=False)
    base.update(overrides)
    return base


def remote(**overrides):
    base = dict((k, None) for k in lr.REMOTE_SPEC)
    base.update(overrides)
    return base


def local(**overrides):
    base = dict((k, None) for k in lr.LOCAL_SPEC)
    base.update(overrides)
    return base


def assert_no_secret(result):
    text = json.dumps(result)
    for secret in (SECRET, json.dumps(SECRET)[1:-1], LOCAL_SECRET, TRUST_SECRET, "LoginModule"):
        assert secret not in text


# =============================================================================================
# Java properties
# =============================================================================================


def test_properties_separators_comments_and_blanks():
    text = ("# a comment\n"
            "! another\n"
            "\n"
            "   \t\n"
            "a=1\n"
            "b : 2\n"
            "c 3\n"
            "d\t=\t4\n"
            "   e=5\n"
            "f:=6\n"
            "g=\n"
            "h\n")
    assert props.parse_properties(text) == {"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "=6",
                                            "g": "", "h": ""}


def test_properties_value_keeps_trailing_blanks_and_inner_separators():
    assert props.parse_properties("k=a b=c:d  ") == {"k": "a b=c:d  "}


def test_properties_escapes():
    text = ("key\\=with\\:seps\\ and\\ space=v\n"
            "tabs=a\\tb\\nc\\rd\\fe\n"
            "backslash=C:\\\\dir\\\\file\n"
            "unicode=caf\\u00e9 \\u20AC\n"
            "other=\\q\\#\\!\n")
    assert props.parse_properties(text) == {
        "key=with:seps and space": "v",
        "tabs": "a\tb\nc\rd\fe",
        "backslash": "C:\\dir\\file",
        "unicode": "caf\u00e9 \u20ac",
        "other": "q#!",
    }


def test_properties_continued_lines():
    text = ("list=a,\\\n"
            "     b,\\\n"
            "\t c\n"
            "even=ends with two\\\\\n"
            "next=1\n"
            "cont=x\\\n"
            "#not a comment\n")
    assert props.parse_properties(text) == {"list": "a,b,c", "even": "ends with two\\", "next": "1",
                                            "cont": "x#not a comment"}


def test_properties_comment_line_is_not_continued():
    assert props.parse_properties("# comment \\\nk=v\n") == {"k": "v"}


def test_properties_continuation_at_end_of_text():
    assert props.parse_properties("k=v\\") == {"k": "v"}


def test_properties_line_endings_and_duplicates():
    assert props.parse_properties("a=1\r\nb=2\rc=3\na=4") == {"a": "4", "b": "2", "c": "3"}


def test_properties_jaas_line_round_trips_through_the_writer():
    jaas = lr.jaas_config("PLAIN", "user", SECRET)
    settings = {"sasl.jaas.config": jaas, "bootstrap.servers": "h1:9092,h2:9092", " odd key=": " v:\\x\n"}
    assert props.parse_properties(props.to_java_properties(settings)) == settings


def test_properties_malformed_unicode_names_the_line():
    with pytest.raises(props.PropertiesError) as err:
        props.parse_properties("a=1\nb=\\u12G4\n")
    assert "line 2" in str(err.value) and "\\u" in str(err.value)


def test_properties_bytes_utf8_and_latin1():
    assert props.parse_properties("k=caf\u00e9".encode("utf-8")) == {"k": "caf\u00e9"}
    assert props.parse_properties(b"k=caf\xe9") == {"k": "caf\u00e9"}


def test_load_properties_file(tmp_path):
    path = tmp_path / "source.config"
    path.write_text("bootstrap.servers=src:9092\n")
    assert props.load_properties_file(str(path)) == {"bootstrap.servers": "src:9092"}
    with pytest.raises(props.PropertiesError) as err:
        props.load_properties_file(str(tmp_path / "missing.config"))
    assert "missing.config" in str(err.value)


# =============================================================================================
# modes: resolve, check, identity
# =============================================================================================


def test_resolve_modes_defaults_options_and_configs():
    assert lm.resolve_modes(None, None, {}) == ("DESTINATION", "OUTBOUND")
    assert lm.resolve_modes("SOURCE", None, {}) == ("SOURCE", "OUTBOUND")
    assert lm.resolve_modes(None, None, {"link.mode": "bidirectional", "connection.mode": "INBOUND"}) == (
        "BIDIRECTIONAL", "INBOUND")
    assert lm.resolve_modes("SOURCE", None, {"link.mode": "source"}) == ("SOURCE", "OUTBOUND")


def test_resolve_modes_conflict_and_bad_value():
    with pytest.raises(lm.ModeError) as err:
        lm.resolve_modes("SOURCE", None, {"link.mode": "DESTINATION"})
    assert "link_mode SOURCE conflicts with link.mode=DESTINATION" in str(err.value)
    with pytest.raises(lm.ModeError) as err:
        lm.resolve_modes(None, None, {"connection.mode": "SIDEWAYS"})
    assert "connection.mode 'SIDEWAYS'" in str(err.value) and "OUTBOUND, INBOUND" in str(err.value)


def test_source_link_must_be_outbound():
    with pytest.raises(lm.ModeError) as err:
        lm.check_options("SOURCE", "INBOUND", {}, {}, False, None)
    assert "link_mode SOURCE needs connection_mode OUTBOUND" in str(err.value)


@pytest.mark.parametrize("mode", ["DESTINATION", "BIDIRECTIONAL"])
def test_inbound_takes_no_remote_connection_settings(mode):
    configs = {"bootstrap.servers": "x:1", "sasl.jaas.config": "J", "acl.sync.enable": "false"}
    origins = {"bootstrap.servers": "remote.bootstrap_servers", "sasl.jaas.config": "remote.sasl_username"}
    with pytest.raises(lm.ModeError) as err:
        lm.check_options(mode, "INBOUND", configs, origins, False, "r")
    message = str(err.value)
    assert "connection_mode INBOUND takes no remote connection settings" in message
    assert "remote.bootstrap_servers (bootstrap.servers)" in message
    assert "remote.sasl_username (sasl.jaas.config)" in message
    assert "acl.sync.enable" not in message
    assert "J" not in message.replace("JAAS", "")


def test_inbound_destination_needs_no_bootstrap_to_create():
    lm.check_options("DESTINATION", "INBOUND", {"acl.sync.enable": "false"}, {}, True, "src-1")


def test_local_settings_refused_on_destination_links():
    with pytest.raises(lm.ModeError) as err:
        lm.check_options("DESTINATION", "OUTBOUND", {"local.security.protocol": "SSL"},
                         {"local.security.protocol": "local.security_protocol"}, False, None)
    assert "local.security_protocol (local.security.protocol)" in str(err.value)
    lm.check_options("SOURCE", "OUTBOUND", {"local.security.protocol": "SSL"}, {}, False, None)
    lm.check_options("BIDIRECTIONAL", "OUTBOUND", {"local.security.protocol": "SSL"}, {}, False, None)


@pytest.mark.parametrize("mode, option, field", [
    ("DESTINATION", "source_cluster_id (or remote_cluster_id)", "source_cluster_id"),
    ("SOURCE", "remote_cluster_id", "destination_cluster_id"),
    ("BIDIRECTIONAL", "remote_cluster_id", "remote_cluster_id"),
])
def test_create_needs_the_remote_id_named_per_mode(mode, option, field):
    with pytest.raises(lm.ModeError) as err:
        lm.check_options(mode, "OUTBOUND", {"bootstrap.servers": "b:1"}, {}, True, None)
    assert str(err.value).startswith(option + " is required")
    assert "sent as %s" % field in str(err.value)


def test_create_outbound_needs_bootstrap():
    with pytest.raises(lm.ModeError) as err:
        lm.check_options("SOURCE", "OUTBOUND", {}, {}, True, "dst-1")
    assert str(err.value).startswith("remote.bootstrap_servers")
    with pytest.raises(lm.ModeError) as err:
        lm.check_options("DESTINATION", "OUTBOUND", {}, {}, True, "src-1")
    assert str(err.value).startswith("source_bootstrap_servers or remote.bootstrap_servers")


@pytest.mark.parametrize("field, mode", [("source_cluster_id", "DESTINATION"),
                                         ("destination_cluster_id", "SOURCE"),
                                         ("remote_cluster_id", "BIDIRECTIONAL")])
def test_identity_from_the_id_field_when_configs_do_not_say(field, mode):
    identity = lm.identity_of({"link_name": "l", field: "r-1", "cluster_link_id": "c"}, [])
    assert identity == {"link_mode": mode, "connection_mode": "OUTBOUND", "remote_cluster_id": "r-1",
                        "prefix": None, "cluster_link_id": "c"}


def test_identity_from_configs():
    entries = [{"name": "link.mode", "value": "BIDIRECTIONAL"}, {"name": "connection.mode", "value": "INBOUND"},
               {"name": "cluster.link.prefix", "value": "west."}]
    identity = lm.identity_of({"remote_cluster_id": "w"}, entries)
    assert identity["link_mode"] == "BIDIRECTIONAL"
    assert identity["connection_mode"] == "INBOUND"
    assert identity["prefix"] == "west."


def test_identity_conflicts_compare_only_what_is_asked():
    current = {"link_mode": "DESTINATION", "connection_mode": "OUTBOUND", "remote_cluster_id": "src-1",
               "prefix": None, "cluster_link_id": "c1"}
    assert lm.identity_conflicts(current, {"link_mode": "DESTINATION", "connection_mode": "OUTBOUND",
                                           "remote_cluster_id": None, "prefix": None,
                                           "cluster_link_id": None}) == []
    assert lm.identity_conflicts(current, {"prefix": ""}) == []
    problems = lm.identity_conflicts(current, {"link_mode": "SOURCE", "remote_cluster_id": "src-2",
                                               "prefix": "dc1.", "cluster_link_id": "c2"})
    assert problems == ["link_mode is 'DESTINATION', not 'SOURCE'", "remote_cluster_id is 'src-1', not 'src-2'",
                        "prefix is not set, not 'dc1.'", "cluster_link_id is 'c1', not 'c2'"]


# =============================================================================================
# build_spec: options -> configs per mode
# =============================================================================================


def test_destination_spec_from_flat_source_options_is_unchanged():
    spec = lr.build_spec(params(source_cluster_id="src-1", source_bootstrap_servers="s:1",
                                source_security_protocol="SASL_SSL", source_sasl_mechanism="PLAIN",
                                source_sasl_username="u", source_sasl_password=SECRET))
    assert spec.mode == "DESTINATION" and spec.connection_mode == "OUTBOUND"
    assert spec.cluster_ids() == {"source_cluster_id": "src-1"}
    assert sorted(spec.create_configs) == ["bootstrap.servers", "sasl.jaas.config", "sasl.mechanism",
                                           "security.protocol"]
    assert spec.secret_values() == [spec.create_configs["sasl.jaas.config"]]


def test_source_spec_maps_remote_and_local_and_sends_link_mode():
    spec = lr.build_spec(params(
        link_mode="SOURCE", remote_cluster_id="dst-1",
        remote=remote(bootstrap_servers="dst:9092", security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                      sasl_username="link", sasl_password=SECRET, ssl_truststore_location="/etc/trust.jks",
                      ssl_truststore_password=TRUST_SECRET, ssl_truststore_type="JKS"),
        local=local(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="me",
                    sasl_password=LOCAL_SECRET, listener_name="INTERNAL")))
    assert spec.cluster_ids() == {"destination_cluster_id": "dst-1"}
    c = spec.create_configs
    assert c["link.mode"] == "SOURCE"
    assert "connection.mode" not in c
    assert c["bootstrap.servers"] == "dst:9092"
    assert c["sasl.mechanism"] == "SCRAM-SHA-512"
    assert c["sasl.jaas.config"].startswith("org.apache.kafka.common.security.scram.ScramLoginModule required")
    assert c["ssl.truststore.location"] == "/etc/trust.jks"
    assert c["ssl.truststore.password"] == TRUST_SECRET
    assert c["local.security.protocol"] == "SASL_PLAINTEXT"
    assert c["local.listener.name"] == "INTERNAL"
    assert c["local.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="me" password="%s";'
        % LOCAL_SECRET)
    assert "link.mode" not in spec.configs  # never altered
    assert sorted(spec.secret_values()) == sorted([c["sasl.jaas.config"], TRUST_SECRET, c["local.sasl.jaas.config"]])


def test_inbound_destination_half_spec():
    spec = lr.build_spec(params(link_mode="DESTINATION", connection_mode="INBOUND", remote_cluster_id="src-1"))
    assert spec.cluster_ids() == {"source_cluster_id": "src-1"}
    assert spec.create_configs == {"link.mode": "DESTINATION", "connection.mode": "INBOUND"}
    assert spec.configs == {}


def test_bidirectional_spec_with_prefix_and_cluster_link_id():
    spec = lr.build_spec(params(link_mode="BIDIRECTIONAL", remote_cluster_id="east", cluster_link_id="abc",
                                prefix="east.", remote=remote(bootstrap_servers="east:9092")))
    assert spec.cluster_ids() == {"remote_cluster_id": "east", "cluster_link_id": "abc"}
    assert spec.create_configs["cluster.link.prefix"] == "east."
    assert "cluster.link.prefix" not in spec.configs
    assert spec.prefix == "east."


def test_pem_contents_are_secrets():
    spec = lr.build_spec(params(source_cluster_id="s", remote=remote(
        bootstrap_servers="b:1", security_protocol="SSL", ssl_keystore_type="PEM",
        ssl_keystore_key="-----BEGIN PRIVATE KEY-----K", ssl_keystore_certificate_chain="-----BEGIN CERT-----C",
        ssl_truststore_certificates="-----BEGIN CERT-----T", ssl_key_password="kp",
        ssl_endpoint_identification_algorithm="")))
    assert spec.create_configs["ssl.endpoint.identification.algorithm"] == ""
    assert sorted(spec.secret_values()) == sorted(["-----BEGIN PRIVATE KEY-----K", "-----BEGIN CERT-----C",
                                                   "-----BEGIN CERT-----T", "kp"])


@pytest.mark.parametrize("overrides, fragment", [
    (dict(link_mode="SOURCE", source_cluster_id="x"), "source_cluster_id names the source cluster of a DESTINATION"),
    (dict(link_mode="SOURCE", source_bootstrap_servers="b:1"), "source_bootstrap_servers is for DESTINATION links"),
    (dict(link_mode="BIDIRECTIONAL", source_sasl_username="u", source_sasl_password="p"),
     "source_sasl_username, source_sasl_password are for DESTINATION links"),
    (dict(remote_cluster_id="a", source_cluster_id="b"), "remote_cluster_id and source_cluster_id are mutually"),
    (dict(link_mode="SOURCE", connection_mode="INBOUND"), "link_mode SOURCE needs connection_mode OUTBOUND"),
    (dict(connection_mode="INBOUND", source_bootstrap_servers="b:1"),
     "source_bootstrap_servers (bootstrap.servers)"),
    (dict(local=local(security_protocol="SSL")), "local.security_protocol (local.security.protocol)"),
    (dict(remote=remote(sasl_username="u")), "remote.sasl_username and remote.sasl_password go together"),
    (dict(remote=remote(sasl_username="u", sasl_password="p", sasl_jaas_config="j")),
     "remote.sasl_jaas_config and remote.sasl_username are mutually exclusive"),
    (dict(local=local(sasl_username="u", sasl_password="p", sasl_mechanism="GSSAPI"), link_mode="SOURCE"),
     "for GSSAPI give local.sasl_jaas_config"),
    (dict(remote=remote(bootstrap_servers="a:1"), source_bootstrap_servers="b:1"),
     "remote.bootstrap_servers conflicts with source_bootstrap_servers"),
    (dict(link_mode="SOURCE", configs={"link.mode": "BIDIRECTIONAL"}), "link_mode SOURCE conflicts with link.mode"),
    (dict(prefix="a.", configs={"cluster.link.prefix": "b."}), "prefix conflicts with configs.cluster.link.prefix"),
    (dict(paused=True, configs={"cluster.link.paused": "false"}), "paused conflicts with configs.cluster.link.paused"),
])
def test_options_that_do_not_fit_fail_before_any_call(overrides, fragment):
    backend = FakeBackend()
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(backend, params(**overrides), check_mode=False)
    assert fragment in str(err.value)
    assert backend.calls == []


def test_properties_file_keys_join_the_configs_and_set_the_mode(tmp_path):
    path = tmp_path / "link.config"
    path.write_text("# written for kafka-cluster-links --config-file\n"
                    "bootstrap.servers=dst-1:9092,\\\n    dst-2:9092\n"
                    "link.mode=SOURCE\n"
                    "security.protocol=SASL_SSL\n"
                    "sasl.mechanism=PLAIN\n"
                    "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
                    "    username=\"k\" password=\"%s\";\n"
                    "consumer.offset.sync.ms: 5000\n" % json.dumps(SECRET)[1:-1].replace("\\", "\\\\"))
    spec = lr.build_spec(params(properties_file=str(path), remote_cluster_id="dst-1",
                                configs={"consumer.offset.sync.ms": 5000}))
    assert spec.mode == "SOURCE"
    assert spec.cluster_ids() == {"destination_cluster_id": "dst-1"}
    assert spec.create_configs["bootstrap.servers"] == "dst-1:9092,dst-2:9092"
    jaas = spec.create_configs["sasl.jaas.config"]
    assert jaas.endswith('password=%s;' % json.dumps(SECRET))
    assert jaas in spec.secret_values()
    assert spec.origins["bootstrap.servers"] == "properties_file (key bootstrap.servers)"


def test_properties_file_conflict_names_both_places(tmp_path):
    path = tmp_path / "link.config"
    path.write_text("bootstrap.servers=a:1\n")
    with pytest.raises(lr.LinkFailure) as err:
        lr.build_spec(params(properties_file=str(path), source_bootstrap_servers="b:1"))
    assert str(err.value) == ("source_bootstrap_servers conflicts with properties_file (key bootstrap.servers); "
                              "set it in one place only.")


def test_properties_file_errors_name_the_option(tmp_path):
    with pytest.raises(lr.LinkFailure) as err:
        lr.build_spec(params(properties_file=str(tmp_path / "nope")))
    assert str(err.value).startswith("properties_file: cannot read")
    bad = tmp_path / "bad"
    bad.write_text("a=\\uZZZZ\n")
    with pytest.raises(lr.LinkFailure) as err:
        lr.build_spec(params(properties_file=str(bad)))
    assert "line 1" in str(err.value)


def test_paused_sets_cluster_link_paused():
    assert lr.build_spec(params(paused=True)).configs == {"cluster.link.paused": "true"}
    assert lr.build_spec(params(paused=False)).configs == {"cluster.link.paused": "false"}


# =============================================================================================
# reconcile: create per mode, immutable settings, diffing, purge, validate_only
# =============================================================================================


def test_create_source_link_sends_destination_cluster_id_and_local_configs():
    backend = FakeBackend()
    result = lr.reconcile(backend, params(link_mode="SOURCE", remote_cluster_id="dst-1",
                                          remote=remote(bootstrap_servers="dst:9092", sasl_username="k",
                                                        sasl_password=SECRET, security_protocol="SASL_SSL",
                                                        sasl_mechanism="PLAIN"),
                                          local=local(security_protocol="PLAINTEXT")), check_mode=False)
    (call,) = backend.writes
    assert call[0] == "create_link"
    assert call[2] == {"destination_cluster_id": "dst-1"}
    assert call[3]["link.mode"] == "SOURCE"
    assert call[3]["local.security.protocol"] == "PLAINTEXT"
    assert result["changed"] is True
    assert result["link"]["link_mode"] == "SOURCE"
    assert result["link"]["remote_cluster_id"] == "dst-1"
    assert result["after"]["link_mode"] == "SOURCE"
    assert result["after"]["remote_cluster_id"] == "dst-1"
    assert result["after"]["secrets_set"] == ["sasl.jaas.config"]
    assert_no_secret(result)


def test_check_mode_create_predicts_what_the_read_back_shows():
    predicted = lr.reconcile(FakeBackend(), params(link_mode="BIDIRECTIONAL", remote_cluster_id="east",
                                                   prefix="east.", remote=remote(bootstrap_servers="e:1")), True)
    backend = FakeBackend()
    real = lr.reconcile(backend, params(link_mode="BIDIRECTIONAL", remote_cluster_id="east", prefix="east.",
                                        remote=remote(bootstrap_servers="e:1")), False)
    assert predicted["after"] == real["after"]
    again = lr.reconcile(backend, params(link_mode="BIDIRECTIONAL", remote_cluster_id="east", prefix="east.",
                                         remote=remote(bootstrap_servers="e:1")), False)
    assert again["changed"] is False
    assert again["before"] == predicted["after"]


def test_create_inbound_half_then_second_run_is_ok():
    backend = FakeBackend()
    args = params(link_mode="DESTINATION", connection_mode="INBOUND", remote_cluster_id="src-1")
    first = lr.reconcile(backend, args, False)
    assert first["changed"] is True
    assert backend.writes[0][2:4] == ({"source_cluster_id": "src-1"},
                                      {"link.mode": "DESTINATION", "connection.mode": "INBOUND"})
    second = lr.reconcile(backend, args, False)
    assert second["changed"] is False
    assert len(backend.writes) == 1


@pytest.mark.parametrize("overrides, option", [
    (dict(link_mode="SOURCE", remote_cluster_id="src-1", remote=remote(bootstrap_servers="s:1")), "link_mode"),
    (dict(connection_mode="INBOUND"), "connection_mode"),
    (dict(remote_cluster_id="src-2"), "remote_cluster_id"),
    (dict(source_cluster_id="src-2"), "remote_cluster_id"),
    (dict(prefix="dc1."), "prefix"),
    (dict(cluster_link_id="other"), "cluster_link_id"),
])
def test_immutable_setting_that_differs_fails_naming_it_and_changes_nothing(overrides, option):
    backend = FakeBackend()
    backend.add("l1", **{"bootstrap.servers": "s:1", "consumer.offset.sync.ms": "1000"})
    args = params(configs={"consumer.offset.sync.ms": 2000})
    args.update(overrides)
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(backend, args, check_mode=False)
    message = str(err.value)
    assert message.startswith("Link l1 cannot be changed in place: %s is " % option)
    assert "Nothing was changed" in message and "state=absent" in message
    assert backend.writes == []


def test_existing_link_mode_is_read_from_configs():
    backend = FakeBackend()
    backend.add("l1", field="destination_cluster_id", remote="dst-1",
                **{"link.mode": "SOURCE", "bootstrap.servers": "d:1"})
    result = lr.reconcile(backend, params(link_mode="SOURCE", remote_cluster_id="dst-1", paused=True), False)
    assert result["changed"] is True
    assert backend.writes == [("alter_link_configs", "l1", {"cluster.link.paused": "true"}, [], False)]
    assert result["link"]["link_mode"] == "SOURCE"
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(backend, params(paused=True), False)
    assert "link_mode is 'SOURCE', not 'DESTINATION'" in str(err.value)


def test_value_equal_to_the_default_is_not_a_change():
    backend = FakeBackend()
    backend.add("l1", **{"bootstrap.servers": "s:1"})
    result = lr.reconcile(backend, params(paused=False, configs={"consumer.offset.sync.ms": 30000}), False)
    assert result["changed"] is False
    assert backend.writes == []
    result = lr.reconcile(backend, params(paused=True), True)
    assert result["configs_set"] == ["cluster.link.paused"]
    assert result["after"]["configs"]["cluster.link.paused"] == "true"
    assert "cluster.link.paused" not in result["before"]["configs"]


def test_new_secret_is_sent_once_with_on_create_and_named_in_the_diff():
    backend = FakeBackend()
    backend.add("l1", **{"bootstrap.servers": "s:1"})
    args = params(remote=remote(security_protocol="SSL", ssl_truststore_password=TRUST_SECRET))
    first = lr.reconcile(backend, args, False)
    assert first["configs_set"] == ["security.protocol", "ssl.truststore.password"]
    assert first["after"]["secrets_updated"] == ["ssl.truststore.password"]
    assert first["after"]["secrets_set"] == ["ssl.truststore.password"]
    assert "secrets_updated" not in first["before"]
    second = lr.reconcile(backend, args, False)
    assert second["changed"] is False
    rotated = lr.reconcile(backend, dict(args, update_password="always"), False)
    assert rotated["configs_set"] == ["ssl.truststore.password"]
    assert rotated["after"]["secrets_updated"] == ["ssl.truststore.password"]
    for result in (first, second, rotated):
        assert_no_secret(result)


def test_purge_resets_unwanted_non_secret_dynamic_configs_in_the_same_request():
    backend = FakeBackend()
    backend.add("l1", **{"bootstrap.servers": "s:1", "sasl.jaas.config": "J", "link.mode": "DESTINATION",
                         "consumer.offset.sync.ms": "1000", "topic.config.sync.ms": "7000",
                         "cluster.link.paused": "true"})
    args = params(purge_configs=True, configs={"consumer.offset.sync.ms": 2000})

    predicted = lr.reconcile(backend, args, check_mode=True)
    assert predicted["changed"] is True
    assert predicted["configs_set"] == ["consumer.offset.sync.ms"]
    assert predicted["configs_reset"] == ["cluster.link.paused", "topic.config.sync.ms"]
    assert backend.writes == []
    assert "topic.config.sync.ms" not in predicted["after"]["configs"]
    assert predicted["before"]["configs"]["topic.config.sync.ms"] == "7000"

    result = lr.reconcile(backend, args, check_mode=False)
    assert backend.writes == [("alter_link_configs", "l1", {"consumer.offset.sync.ms": "2000"},
                               ["cluster.link.paused", "topic.config.sync.ms"], False)]
    assert result["after"] == predicted["after"]
    assert result["link"]["configs"] == result["after"]["configs"]
    assert sorted(backend.links["l1"]["configs"]) == ["bootstrap.servers", "consumer.offset.sync.ms",
                                                      "link.mode", "sasl.jaas.config"]
    again = lr.reconcile(backend, args, check_mode=False)
    assert again["changed"] is False and again["configs_reset"] == []


def test_without_purge_unwanted_configs_stay():
    backend = FakeBackend()
    backend.add("l1", **{"bootstrap.servers": "s:1", "topic.config.sync.ms": "7000"})
    result = lr.reconcile(backend, params(configs={"consumer.offset.sync.ms": 2000}), False)
    assert result["configs_reset"] == []
    assert backend.links["l1"]["configs"]["topic.config.sync.ms"] == "7000"


def test_purge_names_keeps_secrets_identity_and_bootstrap():
    current = {"bootstrap.servers": "b", "link.mode": "SOURCE", "cluster.link.prefix": "p.", "a": "1",
               "sasl.jaas.config": None, "ssl.keystore.password": None, "x.secret.thing": None, "wanted": "2"}
    assert lc.purge_names({"wanted": "3"}, current, lr.PURGE_KEEP) == ["a"]


def test_validate_only_create_sends_the_flag_and_creates_nothing():
    backend = FakeBackend()
    result = lr.reconcile(backend, params(source_cluster_id="src-1", source_bootstrap_servers="s:1",
                                          validate_only=True), False)
    assert result["validated"] is True
    assert result["changed"] is True
    assert [c[0] for c in backend.writes] == ["create_link"]
    assert backend.writes[0][-1] is True
    assert "l1" not in backend.links
    assert result["link"]["link_name"] == "l1"


def test_validate_only_alter_and_delete_change_nothing():
    backend = FakeBackend()
    backend.add("l1", **{"bootstrap.servers": "s:1", "topic.config.sync.ms": "7000"})
    result = lr.reconcile(backend, params(validate_only=True, purge_configs=True, paused=True), False)
    assert result["validated"] is True and result["changed"] is True
    assert backend.writes == [("alter_link_configs", "l1", {"cluster.link.paused": "true"},
                               ["topic.config.sync.ms"], True)]
    assert backend.links["l1"]["configs"] == {"bootstrap.servers": "s:1", "topic.config.sync.ms": "7000"}
    result = lr.reconcile(backend, params(state="absent", validate_only=True, force=True), False)
    assert result["validated"] is True and result["changed"] is True
    assert backend.writes[-1] == ("delete_link", "l1", True, True)
    assert "l1" in backend.links


def test_validate_only_in_check_mode_sends_nothing():
    backend = FakeBackend()
    result = lr.reconcile(backend, params(source_cluster_id="src-1", source_bootstrap_servers="s:1",
                                          validate_only=True), True)
    assert result["validated"] is False
    assert backend.writes == []


def test_validate_only_refusal_is_reported_as_validation():
    backend = FakeBackend()
    backend.refuse = ApiError("POST /links failed: HTTP 400, error 400: bad bootstrap", status=400)
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(backend, params(source_cluster_id="src-1", source_bootstrap_servers="s:1",
                                     validate_only=True), False)
    assert str(err.value).startswith("Validating link l1 failed: POST /links failed")
    assert err.value.changed is False


def test_absent_without_options_needs_no_spec():
    backend = FakeBackend()
    backend.add("l1", **{"bootstrap.servers": "s:1"})
    result = lr.reconcile(backend, params(state="absent", link_mode="SOURCE", source_cluster_id="x"), False)
    assert result["changed"] is True
    assert backend.writes == [("delete_link", "l1", False, False)]


# =============================================================================================
# cluster_link_info
# =============================================================================================


def mirror_row(link, topic, lags, status="ACTIVE"):
    return {"link_name": link, "mirror_topic_name": topic, "source_topic_name": topic, "num_partitions": len(lags),
            "mirror_status": status, "mirror_topic_error": "NO_ERROR", "state_time_ms": 1,
            "mirror_lags": [{"partition": i, "lag": lag, "last_source_fetch_offset": 9} for i, lag in enumerate(lags)]}


def info_backend(mirrors_per_link):
    backend = FakeBackend()
    backend.add("a", **{"bootstrap.servers": "s:1", "sasl.jaas.config": "J", "consumer.offset.sync.ms": "1000"})
    backend.add("b", field="destination_cluster_id", remote="dst-9", **{"link.mode": "SOURCE"})
    backend.mirrors = [mirror_row("a", "a%03d" % i, [0, 2]) for i in range(mirrors_per_link)] + [
        mirror_row("b", "b%03d" % i, [5], "PAUSED") for i in range(mirrors_per_link)] + [mirror_row("gone", "x", [1])]
    return backend


@pytest.mark.parametrize("mirrors_per_link", [1, 50])
def test_info_cost_does_not_depend_on_mirrors(mirrors_per_link):
    backend = info_backend(mirrors_per_link)
    result = li.read_links(backend)
    assert backend.call_count == 1 + 2 * 2 + 1
    a, b = result["links"]
    assert a["mirror_count"] == b["mirror_count"] == mirrors_per_link
    assert a["max_lag"] == 2 and a["total_lag"] == 2 * mirrors_per_link
    assert b["status_counts"] == {"PAUSED": mirrors_per_link}
    assert result["max_lag"] == 5
    assert result["status_counts"] == {"ACTIVE": mirrors_per_link, "PAUSED": mirrors_per_link}
    assert result["all_mirrors_active"] is False


def test_info_identity_configs_and_secrets():
    result = li.read_links(info_backend(1), names=["b", "a", "nope", "a"])
    assert [l["link_name"] for l in result["links"]] == ["b", "a"]
    assert result["missing"] == ["nope"]
    assert result["exists"] is False and result["all_active"] is False
    b, a = result["links"]
    assert (b["link_mode"], b["remote_cluster_id"], b["destination_cluster_id"], b["source_cluster_id"]) == (
        "SOURCE", "dst-9", "dst-9", None)
    assert (a["link_mode"], a["remote_cluster_id"], a["source_cluster_id"]) == ("DESTINATION", "src-1", "src-1")
    assert a["configs"] == {"bootstrap.servers": "s:1", "consumer.offset.sync.ms": "1000"}
    assert a["secrets_set"] == ["sasl.jaas.config"]
    assert "J" not in json.dumps(a["configs"])


def test_info_default_configs():
    result = li.read_links(info_backend(1), names=["a"], include_default_configs=True)
    configs = result["links"][0]["configs"]
    assert configs["consumer.offset.sync.ms"] == "1000"
    assert configs["topic.config.sync.ms"] == "5000"
    assert "sasl.jaas.config" not in configs and "ssl.truststore.password" not in configs
    assert result["links"][0]["secrets_set"] == ["sasl.jaas.config"]


def test_info_without_tasks_and_mirrors_costs_less():
    backend = info_backend(3)
    result = li.read_links(backend, names=["a"], include_tasks=False, include_mirrors=False)
    assert [c[0] for c in backend.calls] == ["get_link", "get_link_configs"]
    assert result["links"][0]["mirrors"] == [] and result["all_active"] is True


@pytest.mark.parametrize("mirrors_per_link", [1, 50])
def test_a_named_link_reads_only_itself_and_its_own_mirrors(mirrors_per_link):
    backend = info_backend(mirrors_per_link)
    result = li.read_links(backend, names=["b"], include_configs=False, health_max_lag=10)
    assert backend.calls == [("get_link", "b"), ("list_mirrors", "b")]
    b = result["links"][0]
    assert b["mirror_count"] == mirrors_per_link and "configs" not in b
    assert result["health"]["reasons"] == ["%d %s PAUSED: %s" % (
        mirrors_per_link, "mirror is" if mirrors_per_link == 1 else "mirrors are",
        ", ".join("b%03d" % i for i in range(min(10, mirrors_per_link)))
        + (" and %d more" % (mirrors_per_link - 10) if mirrors_per_link > 10 else ""))]
    assert b["health"] == result["health"]


def test_info_tasks_in_error():
    backend = info_backend(0)
    original = backend.get_link

    def with_tasks(name, include_tasks=False):
        link = original(name, include_tasks)
        if include_tasks and name == "a":
            link["tasks"] = [{"task_name": "AclSync", "state": "IN_ERROR",
                              "errors": [{"error_code": "MISCONFIGURATION_ERROR", "error_message": "no filters"}]},
                             {"task_name": "TopicConfigsSync", "state": "ACTIVE", "errors": []}]
        return link
    backend.get_link = with_tasks
    result = li.read_links(backend)
    assert result["links"][0]["tasks_in_error"] == ["AclSync (MISCONFIGURATION_ERROR: no filters)"]
    assert result["tasks_in_error"] == ["a: AclSync (MISCONFIGURATION_ERROR: no filters)"]


def test_info_on_a_cluster_without_links():
    backend = FakeBackend()
    result = li.read_links(backend)
    health = result.pop("health")
    assert result == {"links": [], "missing": [], "exists": False, "all_active": False, "all_mirrors_active": False,
                      "tasks_in_error": [], "max_lag": 0, "status_counts": {}}
    assert health["ok"] is False and health["reasons"] == []
    assert [c[0] for c in backend.calls] == ["list_links"]


# =============================================================================================
# ACL filters
# =============================================================================================


def acl_entry(**overrides):
    entry = dict(resource_type="TOPIC", resource_name="orders.", pattern_type="Prefixed", principal="User:app",
                 host=None, operation="READ", permission_type="allow")
    entry.update(overrides)
    return entry


def test_acl_filters_store_the_document_and_enable_sync():
    spec = lr.build_spec(params(acl_filters=[acl_entry(), acl_entry(resource_type="group", resource_name="app",
                                                                    pattern_type="literal", principal=None,
                                                                    operation="describeconfigs")]))
    assert spec.configs["acl.sync.enable"] == "true"
    assert json.loads(spec.configs["acl.filters"]) == {"aclFilters": [
        {"resourceFilter": {"resourceType": "topic", "name": "orders.", "patternType": "prefixed"},
         "accessFilter": {"principal": "User:app", "operation": "read", "permissionType": "allow"}},
        {"resourceFilter": {"resourceType": "group", "name": "app", "patternType": "literal"},
         "accessFilter": {"operation": "describeConfigs", "permissionType": "allow"}}]}
    assert spec.origins["acl.filters"] == "acl_filters"


def test_acl_filters_explicit_enable_wins_and_empty_list_turns_sync_off():
    spec = lr.build_spec(params(acl_filters=[acl_entry()], configs={"acl.sync.enable": False}))
    assert spec.configs["acl.sync.enable"] == "false"
    spec = lr.build_spec(params(acl_filters=[]))
    assert spec.configs == {"acl.filters": "", "acl.sync.enable": "false"}


def test_bad_acl_filter_fails_naming_the_entry_before_any_call():
    backend = FakeBackend()
    with pytest.raises(lr.LinkFailure) as err:
        lr.reconcile(backend, params(acl_filters=[acl_entry(), acl_entry(operation="describe_configs")]), False)
    assert str(err.value).startswith("acl_filters[1].operation: 'describe_configs'")
    assert backend.calls == []


def test_acl_filters_compare_by_content():
    backend = FakeBackend()
    stored = ('{ "aclFilters": [ {"accessFilter": {"permissionType": "allow", "operation": "read", '
              '"principal": "User:app"}, "resourceFilter": {"patternType": "prefixed", "name": "orders.", '
              '"resourceType": "topic"}} ] }')
    backend.add("l1", **{"bootstrap.servers": "s:1", "acl.filters": stored, "acl.sync.enable": "true"})
    result = lr.reconcile(backend, params(acl_filters=[acl_entry()]), False)
    assert result["changed"] is False
    result = lr.reconcile(backend, params(acl_filters=[acl_entry(operation="write")]), True)
    assert result["configs_set"] == ["acl.filters"]
    assert result["after"]["configs"]["acl.filters"]["aclFilters"][0]["accessFilter"]["operation"] == "write"

"""Input rules (module_utils/_validate.py): each bad value fails naming the option and the fix.

Also: REST path segments are URL-encoded (_links, _mirrors), filter names follow the rules through
_filters, and a properties file's content never appears in a message.
"""

from __future__ import annotations

import os
from urllib.parse import unquote

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _filters as f
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _links
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirrors
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _properties as props
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _validate as v


def fails(check, *args, **kw):
    with pytest.raises(v.InputError) as err:
        check(*args, **kw)
    message = err.value.message
    assert "\n" not in message, message
    return message


# -------------------------------------------------------------------------------- link names

@pytest.mark.parametrize("name", ["orders-link", "a", "dc1.dc2_link", "x" * 249, "_internal", ".hidden"])
def test_link_names_kafka_accepts(name):
    v.check_link_name(name)


@pytest.mark.parametrize("name, fragment", [
    (".", "not allowed"), ("..", "not allowed"), ("", "non-empty"), (None, "non-empty"),
    ("--help", "starts with '-'"), ("-x", "starts with '-'"), ("a/b", "ASCII letters"),
    ("a b", "ASCII letters"), ("l\u00e9", "ASCII letters"), ("x" * 250, "at most 249"),
    ("a%2e", "ASCII letters"), ("{'a': 1}", "mapping or a list"),
])
def test_link_names_refused_naming_the_option(name, fragment):
    message = fails(v.check_link_name, name, "link_name")
    assert message.startswith("link_name: ") and fragment in message


def test_link_name_list_names_the_index():
    assert fails(v.check_link_names, ["ok", ".."], "names").startswith("names[1]: ")


# -------------------------------------------------------------------------- REST path segments

class RecordingClient:
    """Records the paths the REST helpers build; answers like an empty cluster."""

    def __init__(self):
        self.paths = []

    def cluster(self, method, path, query=None, body=None):
        self.paths.append(path)
        return {"data": []}


@pytest.mark.parametrize("call", [
    _links.get_link_configs,
    lambda c, n: _links.alter_link_configs(c, n, {"a": "1"}),
    _links.delete_link,
    _mirrors.list_mirrors,
])
def test_every_link_path_segment_is_url_encoded(call):
    client = RecordingClient()
    name = "a/../b?c#d%e f"
    call(client, name)
    segment = client.paths[0].split("/")[2]
    assert unquote(segment) == name
    assert not set("/?# ") & set(segment)


def test_mirror_paths_encode_every_segment():
    client = RecordingClient()
    _mirrors.get_mirror(client, "l/1", "t?2")
    _mirrors.create_mirror(client, "l/1", "t?2")
    _mirrors.delete_topic(client, "t?2")
    assert client.paths == ["/links/l%2F1/mirrors/t%3F2", "/links/l%2F1/mirrors", "/topics/t%3F2"]


# ----------------------------------------------------------------------------- bootstrap servers

@pytest.mark.parametrize("value", ["b:9092", "b-1.example.com:9093,b-2.example.com:9093", "10.0.0.1:9092",
                                   "[::1]:9092", "broker_1:9092", "a:1, b:2"])
def test_bootstrap_accepted(value):
    v.check_bootstrap(value, "remote.bootstrap_servers")


@pytest.mark.parametrize("value, fragment", [
    ("not a host", "not a host name"), ("host:notaport", "port must be a number"), ("", "give host:port"),
    ("h:0", "port must be"), ("h:65536", "port must be"), ("h", "has no port"), ("a:1,,b:2", "empty entry"),
    ("SASL_SSL://h:9092", "scheme"), ("h:1;rm -rf /", "port"), ("$(id):9092", "not a host name"),
    ("[zz]:1", "IPv6"), ("-h:1", "not a host name"),
])
def test_bootstrap_refused(value, fragment):
    message = fails(v.check_bootstrap, value, "source_bootstrap_servers")
    assert message.startswith("source_bootstrap_servers: ") and fragment in message


def test_bootstrap_none_is_not_given():
    v.check_bootstrap(None, "source_bootstrap_servers")


# ------------------------------------------------------------------------------- filter names

@pytest.mark.parametrize("name, pattern, kind", [
    ("*", "LITERAL", "topic"), ("orders", "LITERAL", "topic"), ("orders.", "PREFIXED", "topic"),
    (".", "PREFIXED", "topic"), ("*", "LITERAL", "group"), ("app:orders@eu/1+x=y", "LITERAL", "group"),
])
def test_filter_names_accepted(name, pattern, kind):
    v.check_filter_name(name, pattern, kind, "topic_filters[0].name")


@pytest.mark.parametrize("name, pattern, kind, fragment", [
    ("a\nb", "LITERAL", "topic", "not a topic name"), ('"x"', "LITERAL", "topic", "not a topic name"),
    ("$(id)", "LITERAL", "topic", "not a topic name"), ("$(id)", "LITERAL", "group", "consumer group"),
    ("g'1", "LITERAL", "group", "consumer group"), ("g 1", "LITERAL", "group", "consumer group"),
    ("orders*", "LITERAL", "topic", "'*' is allowed only"), ("*", "PREFIXED", "topic", "needs pattern_type LITERAL"),
    ("or*ders", "PREFIXED", "group", "'*' is allowed only"), ("..", "LITERAL", "topic", "not allowed"),
    ("", "LITERAL", "topic", "give a topic name"),
])
def test_filter_names_refused(name, pattern, kind, fragment):
    message = fails(v.check_filter_name, name, pattern, kind, "consumer_group_filters[2].name")
    assert message.startswith("consumer_group_filters[2].name: ") and fragment in message


def test_filters_module_applies_the_name_rules_per_kind():
    with pytest.raises(f.FilterError) as err:
        f.build_filter_entries([{"name": "ok"}, {"name": "bad name"}], "topic_filters")
    assert str(err.value).startswith("topic_filters[1].name: ")
    # a group ID may hold ':' (not a topic name character): the option name picks the kind
    assert f.build_filter_entries([{"name": "app:1"}], "consumer_group_filters")[0]["name"] == "app:1"
    assert f.group_filter_document([{"name": "app:1"}])["groupFilters"][0]["name"] == "app:1"
    with pytest.raises(f.FilterError):
        f.topic_filter_document([{"name": "app:1"}])


# ------------------------------------------------------------------------------ properties files

def test_properties_known_names():
    for name in ("bootstrap.servers", "security.protocol", "sasl.jaas.config", "sasl.login.callback.handler.class",
                 "ssl.truststore.location", "local.sasl.mechanism", "link.mode", "consumer.offset.sync.ms",
                 "client.dns.lookup", "cluster.link.prefix"):
        assert v.property_name_known(name), name
    for name in ("root", "root:x:0:0:root:/root:/bin/bash", "daemon", "foo.bar", "local.root", "Bootstrap.Servers",
                 "", "sasl jaas"):
        assert not v.property_name_known(name), name


def test_properties_file_that_is_not_one_names_lines_never_content(tmp_path):
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                    "bootstrap.servers=b:9092\nS3CR3T-CANARY=1\n")
    message = fails(v.check_properties_file, str(path), props.load_properties_lines)
    assert message.startswith("properties_file: lines 1, 2, 4 are not a link config")
    for content in ("root", "daemon", "bash", "S3CR3T", "CANARY", "b:9092"):
        assert content not in message


def test_properties_file_bad_bootstrap_value_not_shown(tmp_path):
    path = tmp_path / "source.config"
    path.write_text("security.protocol=SASL_SSL\nbootstrap.servers=secret-host no port\n")
    message = fails(v.check_properties_file, str(path), props.load_properties_lines)
    assert message == "properties_file: line 2: bootstrap.servers is not host:port[,host:port...] (value not shown)."


def test_properties_file_missing_names_the_option(tmp_path):
    message = fails(v.check_properties_file, str(tmp_path / "nope"), props.load_properties_lines)
    assert message.startswith("properties_file: cannot read ")


def test_properties_lines_keep_numbers_and_duplicates():
    text = "# c\na=1\nb = 2 \\\n  3\na=4\n"
    assert props.parse_properties_lines(text) == [(2, "a", "1"), (3, "b", "2 3"), (5, "a", "4")]
    assert props.parse_properties(text) == {"a": "4", "b": "2 3"}


def test_properties_malformed_escape_does_not_echo_the_text():
    with pytest.raises(props.PropertiesError) as err:
        props.parse_properties("k=\\uZZZZSECRET\n")
    assert "ZZZZ" not in str(err.value) and "line 1" in str(err.value)


# --------------------------------------------------------------------------- connection options

@pytest.mark.parametrize("url", ["https://b:8090/kafka", "http://proxy:8082", "http://10.0.0.1:8090/kafka/v3",
                                 "https://[::1]:8090"])
def test_rest_url_accepted(url):
    v.check_rest_url(url)


@pytest.mark.parametrize("url, fragment", [
    ("not a url", "not a URL"), ("", "not a URL"), ("ftp://h", "http:// or https://"), ("h:8090", "http://"),
    ("http://", "with a host"), ("http://h:x", "no valid port"), ("http://h/?a=1", "query"),
])
def test_rest_url_refused(url, fragment):
    message = fails(v.check_rest_url, url)
    assert message.startswith("rest_url: ") and fragment in message


def test_rest_url_credentials_never_shown():
    message = fails(v.check_rest_url, "http://admin:S3CRET@host:port/kafka")
    assert "S3CRET" not in message and "admin" not in message


@pytest.mark.parametrize("params, fragment", [
    ({"request_timeout": -1}, "request_timeout must be more than 0 seconds, got -1"),
    ({"request_timeout": 0}, "request_timeout must be more than 0"),
    ({"cli_timeout": -5, "api": "cli", "bootstrap_server": "b:1"}, "cli_timeout must be 0 or more"),
    ({"api": "cli", "bootstrap_server": "nope"}, "bootstrap_server: "),
    ({"rest_url": "not a url"}, "rest_url: "),
    ({"rest_url": "http://h:1", "cluster_id": "../x"}, "cluster_id: "),
])
def test_backend_options(params, fragment):
    assert fragment in fails(v.check_backend_options, params)


def test_missing_certificate_files_name_the_option_and_path(tmp_path):
    for option in ("ca_path", "client_cert", "client_key"):
        path = str(tmp_path / ("missing-" + option))
        message = fails(v.check_backend_options, {"rest_url": "https://h:1", option: path})
        assert message.startswith(option + ": ") and path in message and "does not exist" in message
    message = fails(v.check_backend_options, {"rest_url": "https://h:1", "ca_path": str(tmp_path)})
    assert "is not a file" in message
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    v.check_backend_options({"rest_url": "https://h:1", "ca_path": str(ca)})
    if os.geteuid() != 0:
        ca.chmod(0)
        assert "cannot be read" in fails(v.check_backend_options, {"rest_url": "https://h:1", "ca_path": str(ca)})


def test_migration_verify_side_options(tmp_path):
    params = {"source_bootstrap_servers": "s:1", "destination_bootstrap_servers": "d:1", "timeout": 30,
              "destination_rest_ca_path": str(tmp_path / "nope.pem")}
    assert fails(v.check_migration_verify, params).startswith("destination_rest_ca_path: ")
    params = {"source_bootstrap_servers": "s 1", "destination_bootstrap_servers": "d:1", "timeout": 30}
    assert fails(v.check_migration_verify, params).startswith("source_bootstrap_servers: ")
    params = {"source_bootstrap_servers": "s:1", "destination_bootstrap_servers": "d:1", "timeout": 0}
    assert fails(v.check_migration_verify, params).startswith("timeout must be more than 0")


# ----------------------------------------------------------------------------- info modules

def test_mirror_topic_info_rules():
    good = {"link_name": "l", "topics": ["t"], "status": ["active", "STOPPED"], "max_lag": 0,
            "wait_timeout": 0, "wait_interval": 0.5}
    v.check_mirror_topic_info(good)
    assert fails(v.check_mirror_topic_info, dict(good, status=["ACTIVE", "RUNNING"])).startswith("status[1]: ")
    assert fails(v.check_mirror_topic_info, dict(good, topics=["{'a': 1}"])).startswith("topics[0]: ")
    message = fails(v.check_mirror_topic_info, dict(good, max_lag=-1, wait_timeout=-2, wait_interval=0))
    assert message == ("max_lag must be 0 or more records, got -1; wait_timeout must be 0 or more seconds, got -2; "
                       "wait_interval must be more than 0 seconds, got 0.")
    assert fails(v.check_mirror_topic_info, dict(good, link_name="..")).startswith("link_name: ")


def test_cluster_link_info_names():
    v.check_cluster_link_info({"names": None})
    assert fails(v.check_cluster_link_info, {"names": ["a", "{'x': 1}"]}).startswith("names[1]: ")


def test_mirror_topic_numbers_in_one_message():
    message = fails(v.check_mirror_topic, {"link_name": "l", "batch_size": 0, "max_lag": -1, "wait_timeout": 1,
                                           "wait_interval": 1})
    assert message == ("batch_size must be 1 or more (topics per batch request), got 0; "
                       "max_lag must be 0 or more records, got -1.")


# ------------------------------------------------------------------------------- cluster_link

def test_cluster_link_options(tmp_path):
    base = {"name": "l", "configs": {}}
    v.check_cluster_link(base)
    cases = [
        ({"name": ".."}, "name: "),
        ({"source_bootstrap_servers": "host:notaport"}, "source_bootstrap_servers: "),
        ({"remote": {"bootstrap_servers": ""}}, "remote.bootstrap_servers: "),
        ({"configs": {"bootstrap.servers": "not a host"}}, "configs.bootstrap.servers: "),
        ({"source_cluster_id": "a/b"}, "source_cluster_id: "),
        ({"remote_cluster_id": "x y"}, "remote_cluster_id: "),
        ({"prefix": "dc1 "}, "prefix: "),
        ({"properties_file": str(tmp_path / "none")}, "properties_file: cannot read"),
    ]
    for extra, start in cases:
        assert fails(v.check_cluster_link, dict(base, **extra)).startswith(start), extra


# ---------------------------------------------------------------------------- migration_report

REPORT = {"dest": None, "checks": [{"name": "topic_exists:t", "ok": True, "detail": "", "skipped": False}],
          "cutover": [{"topic": "t", "action": "promoted", "max_lag": 0, "epoch": 1.5, "time": "x",
                       "partition_lags": []}],
          "lag_samples": [{"time": 1, "max_lag": 0, "total_lag": 0, "phase": "sync_wait"}],
          "generated_at": "2026-12-07T03:00:00Z"}


def test_report_good_input(tmp_path):
    v.check_migration_report(dict(REPORT, dest=str(tmp_path / "new" / "dir")))


@pytest.mark.parametrize("extra, start", [
    ({"checks": [{"bogus": 1}]}, "checks[0]: unknown key(s) 'bogus'"),
    ({"checks": [{"name": "x", "ok": "maybe"}]}, "checks[0].ok: must be true or false"),
    ({"checks": [{"name": "x"}]}, "checks[0].ok: required"),
    ({"checks": [{"ok": True}]}, "checks[0].name: "),
    ({"checks": [{"name": "x", "ok": True, "skipped": "no"}]}, "checks[0].skipped: "),
    ({"checks": [{"name": "x", "ok": True, "detail": {"a": 1}}]}, "checks[0].detail: "),
    ({"cutover": [{"topic": "t", "action": "exploded"}]}, "cutover[0].action: "),
    ({"cutover": [{"topic": "t t", "action": "promoted"}]}, "cutover[0].topic: "),
    ({"cutover": [{"topic": "t", "action": "promoted", "max_lag": -3}]}, "cutover[0].max_lag: "),
    ({"cutover": [{"topic": "t", "action": "promoted", "epoch": "soon"}]}, "cutover[0].epoch: "),
    ({"lag_samples": [{"time": "soon"}]}, "lag_samples[0].time: "),
    ({"lag_samples": [{"time": 1, "max_lag": "lots"}]}, "lag_samples[0].max_lag: "),
    ({"generated_at": "yesterday"}, "generated_at: "),
    ({"generated_at": "2026-12-07T03:00:00Z<script>"}, "generated_at: "),
])
def test_report_bad_input(tmp_path, extra, start):
    message = fails(v.check_migration_report, dict(REPORT, dest=str(tmp_path), **extra))
    assert message.startswith(start), message


def test_report_dest_rules(tmp_path):
    afile = tmp_path / "file"
    afile.write_text("x")
    assert "is not a directory" in fails(v.check_migration_report, dict(REPORT, dest=str(afile)))
    assert "cannot be created" in fails(v.check_migration_report, dict(REPORT, dest=str(afile / "sub")))
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            message = fails(v.check_migration_report, dict(REPORT, dest=str(locked / "r")))
            assert message.startswith("dest: ") and "not writable" in message
        finally:
            locked.chmod(0o700)

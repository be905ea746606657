"""The lab's CP tools (tests/lab/linkops_lab/cptools): kafka-cluster-links, kafka-mirrors and
kafka-configs --cluster-link, installed by ``labctl.py install-tools`` and run
as real executables against the session lab (real REST, real brokers).

The first tests need no lab: the Java properties parser, the --add-config
parser, the --command-config shape checks, the installer and usage errors.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from linkops_lab.cptools import cluster_links, configs, mirrors
from linkops_lab.cptools import apache
from linkops_lab.cptools import install as cpinstall
from linkops_lab.cptools.common import check_client_security
from linkops_lab.cptools.errors import CommandError, UsageError
from linkops_lab.cptools.properties import load_properties, parse_config_list, parse_properties
from labtesting import recent_ts, unique, wait_until

HERE = Path(__file__).resolve().parents[1]   # tests/lab: labctl.py

REPO = HERE.parents[1]
JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'username="link-user" password="Sup3rSecret!";')
GROUP_FILTERS = '{"groupFilters":[{"name":"app-","patternType":"PREFIXED","filterType":"INCLUDE"}]}'
TOPIC_FILTERS = '{"topicFilters":[{"name":"auto-","patternType":"PREFIXED","filterType":"INCLUDE"}]}'
ACL_FILTERS = ('{"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"},'
               '"accessFilter":{"operation":"any","permissionType":"any"}}]}')


# --------------------------------------------------------------------------- no lab needed

def test_properties_separators_comments_and_whitespace():
    text = ("# comment\n"
            "! also a comment\n"
            "   \n"
            "a=1\n"
            "b : 2\n"
            "c 3\n"
            "  d\t=\t4  \n"           # leading whitespace skipped, trailing kept (as Java does)
            "e=\n"
            "f\n"
            "key\\=with\\:seps\\ and\\ spaces = v\n"
            "url=http://h:1/x=y\n"
            "a=last wins\n")
    assert parse_properties(text) == {
        "a": "last wins", "b": "2", "c": "3", "d": "4  ", "e": "", "f": "",
        "key=with:seps and spaces": "v", "url": "http://h:1/x=y"}


def test_properties_line_continuation():
    text = ("jaas=org.Module required \\\n"
            "      username=\"u\" \\\n"
            "   password=\"p\";\n"
            "even=ends with two\\\\\n"
            "next=x\n"
            "# a comment ending with a backslash \\\n"
            "after=comment\n"
            "cont=a\\\n"
            "   # not a comment here\n"
            "last=end \\\n")
    props = parse_properties(text)
    assert props["jaas"] == 'org.Module required username="u" password="p";'
    assert props["even"] == "ends with two\\"
    assert props["next"] == "x"
    assert props["after"] == "comment"
    assert props["cont"] == "a# not a comment here"
    assert props["last"] == "end "


def test_properties_escapes_and_line_ends():
    props = parse_properties("t=a\\tb\\nc\\rd\\fe\r\nu=\\u0041\\u00e9x\rq=\\q\\\\\\=\n")
    assert props == {"t": "a\tb\nc\rd\fe", "u": "A\u00e9x", "q": "q\\="}
    with pytest.raises(ValueError, match="Malformed"):
        parse_properties("bad=\\u12G4\n")


def test_load_properties_reads_iso_8859_1_and_names_the_option(tmp_path):
    f = tmp_path / "c.properties"
    f.write_bytes(b"latin=\xe9\nutf8=\xc3\xa9\nescaped=\\u00e9\n")
    assert load_properties(str(f), "config-file") == {
        "latin": "\u00e9", "utf8": "\u00c3\u00a9", "escaped": "\u00e9"}
    with pytest.raises(CommandError, match=r"NoSuchFileException: .*nope.*--command-config"):
        load_properties(str(tmp_path / "nope"), "command-config")
    (tmp_path / "bad").write_text("x=\\u00\n")
    with pytest.raises(CommandError, match=r"Malformed .*--config-file"):
        load_properties(str(tmp_path / "bad"), "config-file")


def test_parse_config_list_like_apache_config_command():
    assert parse_config_list("a=1, b = 2,c=[x,y],d=,") == {"a": "1", "b": "2", "c": "x,y", "d": ""}
    assert parse_config_list("sasl.jaas.config=[M required u=\"a\" p=\"b\";]") == {
        "sasl.jaas.config": 'M required u="a" p="b";'}
    with pytest.raises(UsageError, match='format "key=val"'):
        parse_config_list("a=1,b")
    with pytest.raises(UsageError):
        parse_config_list('j=M required u="a";')  # an '=' outside brackets


def test_command_config_shape_checks(tmp_path):
    check_client_security({}, "x")
    check_client_security({"security.protocol": "sasl_ssl", "sasl.mechanism": "PLAIN",
                           "sasl.jaas.config": JAAS}, "x")
    check_client_security({"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                           "sasl.jaas.config": JAAS.replace("plain.PlainLoginModule",
                                                            "scram.ScramLoginModule")}, "x")
    bad = [
        ({"security.protocol": "TLS"}, "security.protocol"),
        ({"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}, "needs sasl.jaas.config"),
        ({"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
          "sasl.jaas.config": "PlainLoginModule username=x"}, "not a JAAS login module line"),
        ({"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256",
          "sasl.jaas.config": JAAS}, "needs ScramLoginModule"),
        ({"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
          "sasl.jaas.config": JAAS.replace(' password="Sup3rSecret!"', "")}, "no password"),
        ({"security.protocol": "SSL", "ssl.truststore.location": str(tmp_path / "none.jks")},
         "does not exist"),
    ]
    for props, msg in bad:
        with pytest.raises(CommandError) as exc:
            check_client_security(props, "--command-config f")
        assert msg in str(exc.value)
        assert "Sup3rSecret" not in str(exc.value)


@pytest.fixture(scope="session")
def bin_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cptools-bin")
    r = subprocess.run([sys.executable, str(HERE / "labctl.py"), "install-tools", "--bin", str(d)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"in {d}" in r.stdout
    return d


def test_install_writes_marked_wrappers_and_never_overwrites_a_real_tool(bin_dir, tmp_path):
    for tool in ("kafka-cluster-links", "kafka-mirrors", "kafka-configs"):
        path = bin_dir / tool
        assert os.access(path, os.X_OK)
        text = path.read_text()
        assert text.startswith(f"#!{os.path.abspath(sys.executable)}\n")
        assert cpinstall.MARKER in text
    # a re-run rewrites its own wrappers
    assert cpinstall.install(bin_dir) == [bin_dir / t for t in cpinstall.ALL_TOOLS]
    for tool, main_class in apache.TOOLS.items():          # the real Apache Kafka tools
        assert f"({main_class})" in (bin_dir / tool).read_text() and not cpinstall.is_stale(bin_dir / tool, tool)
    other = tmp_path / "bin"
    other.mkdir()
    (other / "kafka-configs").write_text("#!/bin/sh\necho real\n")
    r = subprocess.run([sys.executable, str(HERE / "labctl.py"), "install-tools", "--bin",
                        str(other)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "not a linkops lab wrapper" in r.stderr and "--force" in r.stderr
    assert (other / "kafka-configs").read_text() == "#!/bin/sh\necho real\n"
    assert not (other / "kafka-mirrors").exists()
    r = subprocess.run([sys.executable, str(HERE / "labctl.py"), "install-tools", "--bin",
                        str(other), "--force"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and cpinstall.is_ours(other / "kafka-configs")
    # a path a shebang cannot hold goes through /bin/sh
    text = cpinstall.wrapper_text("kafka-mirrors", "/opt/my venv/bin/python")
    assert text.startswith("#!/bin/sh\n'''exec' \"/opt/my venv/bin/python\" \"$0\" \"$@\"\n")


def test_kafka_configs_sends_cluster_links_to_the_lab_and_the_rest_to_apache():
    lab = [["--describe", "--cluster-link", "l"], ["--describe", "--cluster-l=l"],
           ["--alter", "--entity-type", "cluster-links", "--entity-name", "l", "--add-config", "a=1"],
           ["--describe", "--entity-type=cluster-link"], ["--help"], ["--version"], [],
           ["--describe", "--bogus"], ["--bootstrap", "h:1", "--describe", "--cluster-link", "l"]]
    theirs = [["--describe", "--topic", "t"], ["--describe", "--entity-type", "topics", "--entity-name", "t"],
              ["--alter", "--entity-type", "brokers", "--entity-default", "--add-config", "a=1"],
              ["--describe", "--broker", "1"], ["--describe", "--user", "u"]]
    for argv in lab:
        assert apache._names_cluster_link(argv) or apache._names_no_entity(argv), argv
    for argv in theirs:
        assert not (apache._names_cluster_link(argv) or apache._names_no_entity(argv)), argv


def test_apache_tools_say_how_to_get_the_jars(bin_dir, tmp_path):
    env = dict(os.environ, LINKOPS_LAB_CACHE=str(tmp_path / "empty-cache"))
    r = _exec(bin_dir, "kafka-topics", "--list", "--bootstrap-server", "h:1", env=env)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("kafka-topics: cannot run Apache Kafka's org.apache.kafka.tools.TopicCommand: ")
    assert "labctl.py fetch" in r.stderr and "Traceback" not in r.stderr
    r = _exec(bin_dir, "kafka-configs", "--describe", "--topic", "t", "--bootstrap-server", "h:1", env=env)
    assert r.returncode == 1 and "kafka.admin.ConfigCommand" in r.stderr and "labctl.py fetch" in r.stderr


def test_make_venv_installs_the_tools():
    r = subprocess.run(["make", "-n", "-B", ".venv/bin/kafka-mirrors"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "tests/lab/labctl.py install-tools" in r.stdout
    r = subprocess.run(["make", "-n", "-p", "venv"], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert re.search(r"^venv: .*\.venv/bin/kafka-mirrors", r.stdout, re.M)


def _exec(bin_dir, tool, *args, env=None, timeout=120):
    r = subprocess.run([str(bin_dir / tool), *args], capture_output=True, text=True, env=env,
                       timeout=timeout)
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert "Exception in thread" not in r.stdout + r.stderr
    return r


def test_version_help_and_usage_errors(bin_dir, tmp_path):
    env = dict(os.environ, LINKOPS_LAB_DIR=str(tmp_path))   # no lab there: usage comes first
    for tool in ("kafka-cluster-links", "kafka-mirrors", "kafka-configs"):
        r = _exec(bin_dir, tool, "--version", env=env)
        assert r.returncode == 0
        assert "linkops lab emulation" in r.stdout and "not to Confluent Server" in r.stdout
        r = _exec(bin_dir, tool, "--help", env=env)
        assert r.returncode == 0 and "linkops lab emulation" in r.stdout
        assert re.search(r"^--bootstrap-server <String: host:port> +REQUIRED", r.stdout, re.M)
        r = _exec(bin_dir, tool, env=env)              # no arguments: usage, exit 1
        assert r.returncode == 1 and r.stdout == "" and "Option" in r.stderr
        r = _exec(bin_dir, tool, "--describe", "--bogus", env=env)
        assert r.returncode == 1 and r.stderr.startswith("bogus is not a recognized option\n")
        other = "--alter" if tool == "kafka-configs" else "--list"
        r = _exec(bin_dir, tool, other, "--describe", "--bootstrap-server", "h:1", env=env)
        assert r.returncode == 1 and "exactly one action" in r.stderr.splitlines()[0]


def test_usage_error_messages(tmp_path, monkeypatch, capsys):
    """The tools' main(argv) in this process (the executables run the same code; spawning
    one per case is slow on a loaded machine)."""
    monkeypatch.setenv("LINKOPS_LAB_DIR", str(tmp_path))    # no lab there: usage comes first
    mains = {"kafka-cluster-links": cluster_links.main, "kafka-mirrors": mirrors.main,
             "kafka-configs": configs.main}

    def run(tool, *args):
        rc = mains[tool](list(args))
        cap = capsys.readouterr()
        assert "Traceback" not in cap.out + cap.err
        return SimpleNamespace(returncode=rc, stdout=cap.out, stderr=cap.err)
    cases = [
        ("kafka-cluster-links", ["--list"], "Missing required argument '[bootstrap-server]'"),
        ("kafka-cluster-links", ["--create", "--link", "x", "--bootstrap-server", "h:1"],
         "Command must include required configs for cluster link creation"),
        ("kafka-cluster-links", ["--delete", "--bootstrap-server", "h:1"],
         "Missing required argument '[link]'"),
        ("kafka-cluster-links", ["--list", "--force", "--bootstrap-server", "h:1"],
         "Option '[list]' can't be used with option '[force]'"),
        ("kafka-cluster-links", ["--list", "--acl-filters-json", "{}", "--bootstrap-server", "h:1"],
         "Option '[acl-filters-json]' can't be used with option '[list]'"),
        ("kafka-cluster-links", ["--create", "--link", "x", "--config", "a=b", "--link-name", "y",
                                 "--bootstrap-server", "h:1"],
         "Options '[link]' and '[link-name]' name the same link"),
        ("kafka-cluster-links", ["--list", "--bootstrap-server"],
         "Option bootstrap-server requires an argument"),
        ("kafka-mirrors", ["--describe"], 'Missing required argument "[bootstrap-server]"'),
        ("kafka-mirrors", ["--create", "--link", "l", "--bootstrap-server", "h:1"],
         'Missing required argument "[mirror-topic]"'),
        ("kafka-mirrors", ["--promote", "--bootstrap-server", "h:1"],
         "--promote needs --topics and/or --link."),
        ("kafka-mirrors", ["--truncate-and-restore", "--topics", "t", "--bootstrap-server", "h:1"],
         "--truncate-and-restore needs both --topics and --link."),
        ("kafka-mirrors", ["--promote", "--topics", "t", "--pending-stopped-only",
                           "--bootstrap-server", "h:1"],
         'Option "[pending-stopped-only]" can\'t be used with option "[promote]"'),
        ("kafka-mirrors", ["--create", "--mirror-topic", "t", "--link", "l", "--replication-factor",
                           "three", "--bootstrap-server", "h:1"],
         "Cannot parse argument 'three' of option replication-factor"),
        ("kafka-configs", ["--describe", "--alter", "--cluster-link", "l", "--bootstrap-server",
                           "h:1"], "Command must include exactly one action: --describe, --alter"),
        ("kafka-configs", ["--describe", "--cluster-link", "l", "--add-config", "a=1",
                           "--bootstrap-server", "h:1"],
         'Option "[describe]" can\'t be used with option "[add-config]"'),
    ]
    for tool, args, message in cases:
        r = run(tool, *args)
        assert r.returncode == 1, (tool, args, r.stdout, r.stderr)
        assert r.stdout == "", (tool, args, r.stdout)
        assert r.stderr.splitlines()[0].startswith(message), (tool, args, r.stderr)
        assert "Option" in r.stderr and "Description" in r.stderr   # the usage table follows
    # argument errors of kafka-configs: one line, no table (Apache ConfigCommand)
    for args, message in [
        (["--alter", "--cluster-link", "l"], "At least one of --add-config, --add-config-file, "
                                             "or --delete-config must be specified with --alter"),
        (["--describe", "--topic", "t"], "The linkops lab's kafka-configs handles only cluster "
                                         "links"),
        (["--describe", "--entity-type", "brokers"], "--entity-type brokers is not supported"),
        (["--alter", "--cluster-link", "l", "--add-config", "a=1", "--add-config-file", "f"],
         "Only one of --add-config or --add-config-file must be specified"),
    ]:
        r = run("kafka-configs", *args, "--bootstrap-server", "h:1")
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.splitlines() == [r.stderr.splitlines()[0]]
        assert message in r.stderr, r.stderr


def test_no_lab_running(bin_dir, tmp_path):
    env = dict(os.environ, LINKOPS_LAB_DIR=str(tmp_path / "none"))
    r = _exec(bin_dir, "kafka-cluster-links", "--list", "--bootstrap-server", "127.0.0.1:9092",
              env=env)
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: no linkops lab is "
                               f"running: {tmp_path / 'none' / 'lab.json'} does not exist")


# --------------------------------------------------------------------------- against the lab

class Tools:
    def __init__(self, lab, bin_dir):
        self.lab = lab
        self.bin = bin_dir
        self.env = dict(os.environ, LINKOPS_LAB_DIR=str(lab.workdir))
        self.env.pop("LINKOPS_CPTOOLS_TRACE", None)
        self.D = lab.destination_bootstrap
        self.S = lab.source_bootstrap
        self.did = lab.destination_cluster_id
        self.sid = lab.source_cluster_id

    def __call__(self, tool, *args, env=None):
        return _exec(self.bin, tool, *args, env=env or self.env)

    def links(self, *args):
        return self("kafka-cluster-links", *args)

    def mirrors(self, *args):
        return self("kafka-mirrors", *args)

    def configs(self, *args):
        return self("kafka-configs", *args)

    def rest_configs(self, link):
        status, body = self.lab.rest("GET", f"/kafka/v3/clusters/{self.did}/links/{link}/configs")
        assert status == 200, body
        return {c["name"]: c for c in body["data"]}

    def rest_links(self):
        status, body = self.lab.rest("GET", f"/kafka/v3/clusters/{self.did}/links")
        assert status == 200, body
        return {lk["link_name"]: lk for lk in body["data"]}

    def emulator_requests(self, needle):
        log = Path(self.lab.info["logs"]["emulator"]).read_text(errors="replace")
        return sum(1 for line in log.splitlines() if needle in line)


@pytest.fixture(scope="module")
def tools(lab, bin_dir):
    return Tools(lab, bin_dir)


def _props(path: Path, **items) -> str:
    path.write_text("".join(f"{k.replace('_', '.')}={v}\n" for k, v in items.items()))
    return str(path)


def _list_line(t, name, link_id, topics=None, state="ACTIVE"):
    line = (f"Link name: '{name}', link ID: '{link_id}', remote cluster ID: '{t.sid}', local "
            f"cluster ID: '{t.did}', remote cluster available: 'true', link state: '{state}'")
    return line if topics is None else line + f", topics: [{', '.join(topics)}]"


def test_list_without_links_and_unknown_link(tools):
    if tools.rest_links():
        pytest.skip("the session lab already has links (another test module ran first)")
    r = tools.links("--list", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "No cluster links found.\n")
    r = tools.links("--describe", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "No cluster links found.\n")


def test_unknown_bootstrap_is_a_connection_failure(tools):
    t0 = time.monotonic()
    r = tools.links("--list", "--bootstrap-server", "127.0.0.1:1")
    assert time.monotonic() - t0 < 10
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: org.apache.kafka."
                               "common.errors.TimeoutException: Timed out waiting for a node "
                               "assignment: no broker answers at '127.0.0.1:1'")
    assert tools.D in r.stdout and tools.S in r.stdout
    # localhost and a list of servers resolve to the lab cluster
    port = tools.D.rsplit(":", 1)[1]
    r = tools.links("--list", "--link", "nope", "--bootstrap-server", f"other:1,localhost:{port}")
    assert (r.returncode, r.stdout) == (0, "Link name 'nope' not found.\n")


def test_command_config_is_parsed_and_checked(tools, tmp_path):
    r = tools.links("--list", "--link", "x", "--bootstrap-server", tools.D, "--command-config",
                    str(tmp_path / "missing.properties"))
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: java.nio.file."
                               "NoSuchFileException:")
    assert "--command-config" in r.stdout
    good = tmp_path / "admin.properties"
    good.write_text("# admin client\n"
                    "security.protocol = SASL_SSL\n"
                    "sasl.mechanism: PLAIN\n"
                    "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule \\\n"
                    "    required username=\"admin\" \\\n"
                    "    password=\"p\\u0040ss\";\n")
    r = tools.links("--list", "--link", "x", "--bootstrap-server", tools.D, "--command-config",
                    str(good))
    assert (r.returncode, r.stdout) == (0, "Link name 'x' not found.\n")
    bad = tmp_path / "bad.properties"
    bad.write_text("security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n")
    for tool, args in [("kafka-cluster-links", ["--list"]), ("kafka-mirrors", ["--list"]),
                       ("kafka-configs", ["--describe", "--entity-type", "cluster-links"])]:
        r = tools(tool, *args, "--bootstrap-server", tools.D, "--command-config", str(bad))
        assert r.returncode == 1
        assert "Failed to create new KafkaAdminClient: security.protocol=SASL_SSL needs " \
               "sasl.jaas.config" in r.stdout + r.stderr


def test_link_create_list_describe_delete(tools, tmp_path):
    name = unique("cpt-link")
    cfg = _props(tmp_path / "source.config", **{"bootstrap.servers": tools.S,
                                                "consumer.offset.sync.ms": "1000"})
    groups = tmp_path / "groups.json"
    groups.write_text(GROUP_FILTERS + "\n")
    topics = tmp_path / "topics.json"
    topics.write_text(TOPIC_FILTERS)
    base = ["--link", name, "--config-file", cfg, "--consumer-group-filters-json-file",
            str(groups), "--topic-filters-json-file", str(topics), "--bootstrap-server", tools.D]

    r = tools.links("--create", *base, "--validate-only")
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' creation successfully validated.\n")
    assert name not in tools.rest_links()

    r = tools.links("--create", *base)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' creation successfully completed.\n")
    link = tools.rest_links()[name]
    assert link["source_cluster_id"] == tools.sid           # discovered from lab.json
    conf = tools.rest_configs(name)
    assert conf["consumer.offset.group.filters"]["value"] == GROUP_FILTERS
    assert conf["consumer.offset.sync.enable"]["value"] == "true"
    assert conf["auto.create.mirror.topics.filters"]["value"] == TOPIC_FILTERS
    assert conf["auto.create.mirror.topics.enable"]["value"] == "true"
    assert conf["consumer.offset.sync.ms"]["value"] == "1000"
    assert conf["acl.sync.enable"]["source"] == "DEFAULT_CONFIG"

    r = tools.links("--create", *base)
    assert (r.returncode, r.stdout) == (
        1, f"Error while executing cluster link command: Cluster link '{name}' already exists.\n")

    r = tools.links("--list", "--bootstrap-server", tools.D)
    assert r.returncode == 0
    assert _list_line(tools, name, link["cluster_link_id"]) in r.stdout.splitlines()
    r = tools.links("--list", "--link-name", name, "--include-topics", "--bootstrap-server", tools.D)
    assert r.stdout == _list_line(tools, name, link["cluster_link_id"], topics=[]) + "\n"

    r = tools.links("--describe", "--link", name, "--bootstrap-server", tools.D)
    assert r.returncode == 0
    first, configs_line = r.stdout.splitlines()
    host = tools.D.rsplit(":", 1)[0]
    assert re.fullmatch(
        rf"Link name: '{name}', link ID: '{link['cluster_link_id']}', remote cluster ID: "
        rf"'{tools.sid}', local cluster ID: '{tools.did}', link mode: 'DESTINATION', connection "
        rf"mode: 'OUTBOUND', link state: 'ACTIVE', link coordinator id: '\d+', link coordinator "
        rf"host: '{re.escape(host)}', topics: \[\]", first), first
    assert configs_line == (
        f"Configs: auto.create.mirror.topics.enable=true,auto.create.mirror.topics.filters="
        f"{TOPIC_FILTERS},bootstrap.servers={tools.S},consumer.offset.group.filters={GROUP_FILTERS},"
        f"consumer.offset.sync.enable=true,consumer.offset.sync.ms=1000")

    r = tools.links("--describe", "--link", "no-such-link", "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: ")
    assert "no-such-link" in r.stdout

    r = tools.links("--delete", "--link", name, "--validate-only", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' deletion successfully validated.\n")
    assert name in tools.rest_links()
    r = tools.links("--delete", "--link", name, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' deletion successfully completed.\n")
    assert name not in tools.rest_links()
    r = tools.links("--delete", "--link", name, "--bootstrap-server", tools.D)
    assert r.returncode == 1 and r.stdout.startswith("Error while executing cluster link command: ")


def test_link_create_inline_config_acl_filters_cluster_id_and_errors(tools, tmp_path):
    name = unique("cpt-inline")
    r = tools.links("--create", "--link", name, "--config",
                    f"bootstrap.servers={tools.S},acl.sync.ms=2000", "--acl-filters-json",
                    ACL_FILTERS, "--cluster-id", tools.sid, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{name}' creation successfully completed.\n")
    conf = tools.rest_configs(name)
    assert conf["acl.filters"]["value"] == ACL_FILTERS
    assert conf["acl.sync.enable"]["value"] == "true"
    assert conf["acl.sync.ms"]["value"] == "2000"
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0

    # a sync enabled without its filters JSON: usage, no link (the CP tool's rule)
    cfg = _props(tmp_path / "c1", **{"bootstrap.servers": tools.S,
                                      "consumer.offset.sync.enable": "true",
                                      "consumer.offset.group.filters": GROUP_FILTERS})
    r = tools.links("--create", "--link", name, "--config-file", cfg, "--bootstrap-server", tools.D)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("consumer.offset.sync.enable is set to true but the consumer group "
                               "filters JSON is not passed in. Please pass in the path to the JSON "
                               "file using the --consumer-group-filters-json-file option")
    bad = tmp_path / "bad.json"
    bad.write_text('{"groupFilters": [')
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--consumer-group-filters-json-file", str(bad), "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "is not valid JSON" in r.stderr
    bad.write_text('{"topicFilters": []}')
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--consumer-group-filters-json-file", str(bad), "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "must be an object with a 'groupFilters' list" in r.stderr
    # an explicit acl.sync.enable=false stays; the filters are stored all the same
    r = tools.links("--create", "--link", name, "--config",
                    f"bootstrap.servers={tools.S},acl.sync.enable=false", "--acl-filters-json",
                    ACL_FILTERS, "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    conf = tools.rest_configs(name)
    assert (conf["acl.sync.enable"]["value"], conf["acl.filters"]["value"]) == ("false", ACL_FILTERS)
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0
    r = tools.links("--create", "--link", name, "--config-file", str(tmp_path / "missing"),
                    "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "NoSuchFileException" in r.stdout and "--config-file" in r.stdout
    # the remote cluster id cannot be discovered for a bootstrap outside the lab
    r = tools.links("--create", "--link", name, "--config", "bootstrap.servers=10.255.255.1:9092",
                    "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "pass --cluster-id" in r.stdout
    # a wrong --cluster-id fails the server's link validation ...
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--cluster-id", "WRONGclusterID00000000", "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.startswith(f"Error while executing cluster link command: Unable to validate "
                               f"cluster link '{name}'")
    assert name not in tools.rest_links()
    # ... which --exclude-validate-link skips
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--cluster-id", "WRONGclusterID00000000", "--exclude-validate-link",
                    "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    assert tools.rest_links()[name]["source_cluster_id"] == "WRONGclusterID00000000"
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0


def test_secrets_never_printed(tools, tmp_path):
    name = unique("cpt-secret")
    cfg = tmp_path / "secure.config"
    cfg.write_text(f"bootstrap.servers={tools.S}\nsecurity.protocol=SASL_SSL\n"
                   f"sasl.mechanism=PLAIN\nsasl.jaas.config={JAAS}\n")
    r = tools.links("--create", "--link", name, "--config-file", str(cfg), "--bootstrap-server",
                    tools.D)
    assert r.returncode == 0, r.stdout
    outputs = [r.stdout + r.stderr]
    r = tools.links("--describe", "--link", name, "--bootstrap-server", tools.D)
    assert "sasl.jaas.config=null" in r.stdout
    outputs.append(r.stdout + r.stderr)
    r = tools.configs("--describe", "--cluster-link", name, "--bootstrap-server", tools.D)
    assert "  sasl.jaas.config=null sensitive=true synonyms={}\n" in r.stdout
    outputs.append(r.stdout + r.stderr)
    # a server error of an alter that carries a secret: the args line hides it
    r = tools.configs("--alter", "--cluster-link", name, "--bootstrap-server", tools.D,
                      "--add-config", "no.such.config=1,sasl.jaas.config=[" + JAAS + "]")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0].startswith("Error while executing config command with args '")
    assert "sasl.jaas.config=[hidden]" in r.stderr
    outputs.append(r.stdout + r.stderr)
    assert not any("Sup3rSecret" in o for o in outputs), outputs
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0


def test_kafka_configs_describe_and_alter(tools, tmp_path):
    name = unique("cpt-cfg")
    r = tools.links("--create", "--link", name, "--config", f"bootstrap.servers={tools.S}",
                    "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--cluster-link", name)
    assert (r.returncode, r.stdout) == (0, f"Dynamic configs for cluster-link {name} are:\n"
                                           f"  bootstrap.servers={tools.S} sensitive=false "
                                           "synonyms={}\n")
    r = tools.configs("--bootstrap-server", tools.D, "--alter", "--cluster-link", name,
                      "--add-config", "consumer.offset.sync.ms=2000,cluster.link.paused=true")
    assert (r.returncode, r.stdout) == (0, f"Completed updating config for cluster-link {name}.\n")
    conf = tools.rest_configs(name)
    assert conf["consumer.offset.sync.ms"]["value"] == "2000"
    assert conf["cluster.link.paused"]["value"] == "true"
    assert tools.rest_links()[name]["link_state"] == "PAUSED"
    r = tools.links("--list", "--link", name, "--bootstrap-server", tools.D)
    assert r.stdout.endswith("remote cluster available: 'true', link state: 'PAUSED'\n")

    f = tmp_path / "alter.properties"
    f.write_text(f"consumer.offset.group.filters={GROUP_FILTERS}\nconsumer.offset.sync.enable=true\n")
    r = tools.configs("--bootstrap-server", tools.D, "--alter", "--entity-type", "cluster-links",
                      "--entity-name", name, "--add-config-file", str(f), "--delete-config",
                      "cluster.link.paused")
    assert (r.returncode, r.stdout) == (0, f"Completed updating config for cluster-link {name}.\n")
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--entity-type",
                      "cluster-links", "--entity-name", name)
    assert r.stdout.splitlines() == [
        f"Dynamic configs for cluster-link {name} are:",
        f"  bootstrap.servers={tools.S} sensitive=false synonyms={{}}",
        f"  consumer.offset.group.filters={GROUP_FILTERS} sensitive=false synonyms={{}}",
        "  consumer.offset.sync.enable=true sensitive=false synonyms={}",
        "  consumer.offset.sync.ms=2000 sensitive=false synonyms={}"]
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--cluster-link", name, "--all")
    lines = r.stdout.splitlines()
    assert lines[0] == f"All configs for cluster-link {name} are:"
    assert "  acl.sync.ms=5000 sensitive=false synonyms={}" in lines
    assert len(lines) > 30
    # all links: one block per link
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--entity-type", "cluster-links")
    assert f"Dynamic configs for cluster-link {name} are:" in r.stdout.splitlines()

    # errors
    r = tools.configs("--bootstrap-server", tools.D, "--alter", "--cluster-link", name,
                      "--delete-config", "acl.sync.ms,consumer.offset.sync.ms")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "Invalid config(s): acl.sync.ms\n")
    assert tools.rest_configs(name)["consumer.offset.sync.ms"]["value"] == "2000"
    r = tools.configs("--bootstrap-server", tools.D, "--alter", "--cluster-link", name,
                      "--add-config", "consumer.offset.sync.enable=maybe")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0] == (
        f"Error while executing config command with args '--bootstrap-server {tools.D} --alter "
        f"--cluster-link {name} --add-config consumer.offset.sync.enable=maybe'")
    assert "consumer.offset.sync.enable" in r.stderr.splitlines()[1]
    r = tools.configs("--bootstrap-server", tools.D, "--describe", "--cluster-link", "no-such")
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 2 and "no-such" in r.stderr
    assert tools.links("--delete", "--link", name, "--bootstrap-server", tools.D).returncode == 0


def poll(fn, timeout=30.0, what="condition"):
    """wait_until for conditions that run a tool: every 0.3 s, not 0.05 s."""
    return wait_until(fn, timeout, what, interval=0.3)


def _describe_re(topic, link, link_id, source, state):
    return (rf"Topic: {topic}\tLinkName: {link}\tLinkId: {link_id}\tSourceTopic: {source}\t"
            rf"State: {state}\tSourceTopicId: AAAAAAAAAAAAAAAAAAAAAA\t"
            rf"StateTime: \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d")


def test_mirrors_create_describe_and_batch_actions(tools, tmp_path, lab):
    link = unique("cpt-mir")
    a, b, c = unique("cpt-a"), unique("cpt-b"), unique("cpt-c")
    for t, n in ((a, 2), (b, 1), (c, 1)):
        lab.create_topic("source", t, partitions=n)
    lab.produce("source", a, [{"value": f"v{i}", "partition": i % 2, "timestamp": recent_ts(i)}
                              for i in range(5)])
    lab.produce("source", b, [{"value": "x", "timestamp": recent_ts()}])
    r = tools.links("--create", "--link", link, "--config", f"bootstrap.servers={tools.S}",
                    "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    link_id = tools.rest_links()[link]["cluster_link_id"]

    r = tools.mirrors("--create", "--mirror-topic", a, "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Created topic {a}.\n")
    cfg = _props(tmp_path / "topic.config", **{"retention.ms": "86400000"})
    r = tools.mirrors("--create", "--mirror-topic", b, "--source-topic", b, "--link", link,
                      "--replication-factor", "1", "--config-file", cfg, "--bootstrap-server",
                      tools.D)
    assert (r.returncode, r.stdout) == (0, f"Created topic {b}.\n")
    r = tools.mirrors("--create", "--mirror-topic", c, "--link", link, "--bootstrap-server", tools.D)
    assert r.returncode == 0
    r = tools.mirrors("--create", "--mirror-topic", a, "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (
        1, f"Error while executing mirror command: Topic '{a}' already exists.\n")
    r = tools.mirrors("--create", "--mirror-topic", "renamed", "--source-topic", a, "--link", link,
                      "--bootstrap-server", tools.D)
    assert r.returncode == 1 and r.stdout.startswith("Error while executing mirror command: ")

    from confluent_kafka.admin import ConfigResource
    res = lab.admin("destination").describe_configs([ConfigResource("topic", b)])
    assert list(res.values())[0].result()["retention.ms"].value == "86400000"

    r = tools.mirrors("--list", "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "".join(f"{t}\n" for t in sorted((a, b, c))))

    def described():
        res = tools.mirrors("--describe", "--topics", a, "--links", link, "--bootstrap-server",
                            tools.D)
        return res if "State: ACTIVE" in res.stdout and "\tLag: 0\t" in res.stdout \
            and "Lag: 5" not in res.stdout and "DestLogEndOffset: 3" in res.stdout else None
    r = poll(described, 30, f"mirror {a} ACTIVE with lag 0")
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(_describe_re(a, link, link_id, a, "ACTIVE"), lines[0]), lines[0]
    ends = lab.end_offsets("destination", a)
    assert ends == {0: 3, 1: 2}
    for p in (0, 1):
        assert lines[1 + p] == (f"\tPartition: {p}\tState: ACTIVE\tDestLogEndOffset: {ends[p]}\t"
                                f"LastFetchSourceHighWatermark: {ends[p]}\tLag: 0\t"
                                "TimeSinceLastFetchMs: -1")
    r = tools.mirrors("--describe", "--link", link, "--bootstrap-server", tools.D)
    assert [ln.split("\t")[0] for ln in r.stdout.splitlines() if ln.startswith("Topic: ")] == [
        f"Topic: {t}" for t in sorted((a, b, c))]
    r = tools.mirrors("--describe", "--topics", "no-such-topic", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "No mirror topics found.\n")

    # pause: one request for the whole batch, per-topic lines, an unknown topic fails (exit 1)
    needle = f"POST /kafka/v3/clusters/{tools.did}/links/{link}/mirrors:pause "
    before = tools.emulator_requests(needle)
    r = tools.mirrors("--pause", "--topics", f"{a},{b},nosuch", "--link", link,
                      "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        f"Request for pausing topic {a}'s mirror was successfully scheduled.",
        f"Request for pausing topic {b}'s mirror was successfully scheduled.",
        "Error encountered while pausing topic nosuch's mirror: java.util.concurrent."
        "ExecutionException: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: "
        f"Topic 'nosuch' is not a mirror topic of cluster link '{link}'."]
    assert tools.emulator_requests(needle) == before + 1
    r = tools.mirrors("--describe", "--topics", f"{a},{b}", "--bootstrap-server", tools.D)
    assert sum("\tState: PAUSED\t" in ln for ln in r.stdout.splitlines()) == 5
    # unpause by --topics alone: the tool finds the link (one read), then one request
    needle = f"POST /kafka/v3/clusters/{tools.did}/links/{link}/mirrors:resume "
    before = tools.emulator_requests(needle)
    r = tools.mirrors("--unpause", "--topics", f"{a},{b}", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout.splitlines()) == (0, [
        f"Request for unpausing topic {a}'s mirror was successfully scheduled.",
        f"Request for unpausing topic {b}'s mirror was successfully scheduled."])
    assert tools.emulator_requests(needle) == before + 1
    r = tools.mirrors("--unpause", "--topics", "not-a-mirror", "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "Error encountered while unpausing topic not-a-mirror's mirror" \
        in r.stdout

    # promote refuses a lagging mirror (per-topic error from the server)
    lab.knobs(copy_paused=True)
    try:
        lab.produce("source", c, [{"value": "late", "timestamp": recent_ts()}])
        r = tools.mirrors("--promote", "--topics", c, "--link", link, "--bootstrap-server", tools.D)
    finally:
        lab.knobs(copy_paused=False)
    assert r.returncode == 1
    assert r.stdout.splitlines()[:2] == [
        f"Calculating max offset and ms lag for mirror topics: [{c}]",
        f"Finished calculating max offset lag and max lag ms for mirror topics: [{c}]"]
    assert r.stdout.splitlines()[2].startswith(
        f"Error encountered while stopping topic {c}'s mirror: java.util.concurrent."
        "ExecutionException: org.apache.kafka.common.errors.InvalidRequestException: ")
    assert "lag" in r.stdout.splitlines()[2]

    # promote two topics once caught up
    poll(lambda: "\tLag: 0\t" in tools.mirrors("--describe", "--topics", c,
                                                     "--bootstrap-server", tools.D).stdout, 30)
    r = tools.mirrors("--promote", "--topics", f"{a},{c}", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout.splitlines()) == (0, [
        f"Calculating max offset and ms lag for mirror topics: [{a}, {c}]",
        f"Finished calculating max offset lag and max lag ms for mirror topics: [{a}, {c}]"] + [
        f"Request for stopping topic {t}'s mirror was successfully scheduled. Please use the "
        "describe command with the --pending-stopped-only option to monitor progress."
        for t in (a, c)])

    def stopped():
        res = tools.mirrors("--describe", "--topics", f"{a},{c}", "--pending-stopped-only",
                            "--bootstrap-server", tools.D)
        assert res.returncode == 0
        assert res.stdout == "No mirror topics found.\n" or "State: PENDING_STOPPED" in res.stdout
        return res.stdout == "No mirror topics found.\n"
    poll(stopped, 30, "the promoted mirrors to leave PENDING_STOPPED")
    r = tools.mirrors("--describe", "--topics", a, "--bootstrap-server", tools.D)
    assert re.fullmatch(_describe_re(a, link, link_id, a, "STOPPED"), r.stdout.splitlines()[0])
    r = tools.mirrors("--promote", "--topics", a, "--link", link, "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.splitlines()[2] == (
        f"Error encountered while stopping topic {a}'s mirror: java.util.concurrent."
        "ExecutionException: org.apache.kafka.common.errors.InvalidRequestException: "
        f"Topic '{a}' has already stopped its mirror from '{link}'")

    # failover by --link alone: every mirror of the link that is not stopped (here b)
    r = tools.mirrors("--failover", "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Request for stopping topic {b}'s mirror was "
                                           "successfully scheduled. Please use the describe "
                                           "command with the --pending-stopped-only option to "
                                           "monitor progress.\n")
    poll(lambda: tools.mirrors("--describe", "--topics", b, "--pending-stopped-only",
                                     "--bootstrap-server", tools.D).stdout
               == "No mirror topics found.\n", 30)
    r = tools.mirrors("--failover", "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "No mirror topics found.\n")

    # reverse / truncate on a DESTINATION link: the server refuses the whole request
    for action in ("--reverse-and-start", "--reverse-and-pause"):
        r = tools.mirrors(action, "--topics", b, "--link", link, "--bootstrap-server", tools.D)
        assert r.returncode == 1
        assert r.stdout.startswith("Error while executing mirror command: ") and "BIDIRECTIONAL" \
            in r.stdout
    r = tools.links("--delete", "--link", link, "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout


def test_delete_link_with_mirrors_needs_force(tools, lab):
    link, t = unique("cpt-force"), unique("cpt-f")
    lab.create_topic("source", t)
    assert tools.links("--create", "--link", link, "--config", f"bootstrap.servers={tools.S}",
                       "--bootstrap-server", tools.D).returncode == 0
    assert tools.mirrors("--create", "--mirror-topic", t, "--link", link, "--bootstrap-server",
                         tools.D).returncode == 0
    r = tools.links("--list", "--link", link, "--include-topics", "--bootstrap-server", tools.D)
    assert r.stdout.endswith(f", topics: [{t}]\n")
    r = tools.links("--delete", "--link", link, "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.startswith(f"Error while executing cluster link command: Cluster link '{link}' "
                               "cannot be deleted")
    r = tools.links("--delete", "--link", link, "--force", "--validate-only", "--bootstrap-server",
                    tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{link}' deletion successfully validated.\n")
    r = tools.links("--delete", "--link", link, "--force", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{link}' deletion successfully completed.\n")


def test_bidirectional_reverse_and_truncate_and_restore(tools, lab, tmp_path):
    """Both halves of a BIDIRECTIONAL link created with the tool (one on each
    cluster), then reverse-and-start, reverse-and-pause, failover and
    truncate-and-restore, all through kafka-mirrors."""
    if not lab.info.get("source_rest_url"):
        pytest.xfail("this lab serves no REST for the source cluster (no source_rest_url in "
                     "lab.json): the emulator predates bidirectional links")
    link, t, u = unique("cpt-bd"), unique("cpt-r"), unique("cpt-p")
    for topic in (t, u):
        lab.create_topic("source", topic, partitions=2)
        lab.produce("source", topic, [{"value": f"s{i}", "partition": i % 2,
                                       "timestamp": recent_ts(i)} for i in range(4)])
    on_d = _props(tmp_path / "d.config", **{"link.mode": "BIDIRECTIONAL",
                                             "bootstrap.servers": tools.S})
    on_s = _props(tmp_path / "s.config", **{"link.mode": "BIDIRECTIONAL",
                                             "bootstrap.servers": tools.D})
    r = tools.links("--create", "--link", link, "--config-file", on_d, "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    r = tools.links("--create", "--link", link, "--config-file", on_s, "--bootstrap-server", tools.S)
    assert r.returncode == 0, r.stdout
    r = tools.links("--describe", "--link", link, "--bootstrap-server", tools.S)
    assert f"remote cluster ID: '{tools.did}', local cluster ID: '{tools.sid}', link mode: " \
           "'BIDIRECTIONAL'" in r.stdout
    for topic in (t, u):
        r = tools.mirrors("--create", "--mirror-topic", topic, "--link", link, "--bootstrap-server",
                          tools.D)
        assert r.returncode == 0, r.stdout

    def caught_up(topic, server, state="ACTIVE"):
        out = tools.mirrors("--describe", "--topics", topic, "--bootstrap-server", server).stdout
        return f"\tState: {state}\t" in out and out.count("\tLag: 0\t") == 2
    for topic in (t, u):
        poll(lambda: caught_up(topic, tools.D), 30, f"{topic} caught up")

    r = tools.mirrors("--reverse-and-start", "--topics", t, "--link", link, "--bootstrap-server",
                      tools.D)
    assert (r.returncode, r.stdout) == (0, "Request for reversing local mirror and starting remote "
                                           f"mirror for topic {t} was successfully scheduled.\n")
    r = tools.mirrors("--reverse-and-pause", "--topics", u, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "Request for reversing local mirror and pausing remote "
                                           f"mirror for topic {u} was successfully scheduled.\n")
    poll(lambda: caught_up(t, tools.S), 30, f"{t} mirrored back on the source cluster")
    poll(lambda: "\tState: PAUSED\t" in tools.mirrors(
        "--describe", "--topics", u, "--bootstrap-server", tools.S).stdout, 30)
    r = tools.mirrors("--describe", "--topics", t, "--bootstrap-server", tools.D)
    assert "\tState: STOPPED\t" in r.stdout.splitlines()[0]

    # the destination is now the primary of t; fail the source's mirror over, write on the
    # old primary, then truncate-and-restore it back to what the failed-over mirror holds
    r = tools.mirrors("--failover", "--topics", t, "--bootstrap-server", tools.S)
    assert r.returncode == 0, r.stdout
    poll(lambda: "\tState: STOPPED\t" in tools.mirrors(
        "--describe", "--topics", t, "--bootstrap-server", tools.S).stdout, 30)
    lab.produce("destination", t, [{"value": "after-failover", "partition": 1,
                                    "timestamp": recent_ts()}] * 3)
    r = tools.mirrors("--truncate-and-restore", "--topics", t, "--link", link,
                      "--include-partition-data", "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines() == [
        f"Request for truncate and restore for topic {t} was successfully scheduled. 3 messages "
        "will be truncated.",
        "\tPartition: 0\tOffsetTruncatedTo: 2\tMessagesTruncated: 0",
        "\tPartition: 1\tOffsetTruncatedTo: 2\tMessagesTruncated: 3"]
    poll(lambda: caught_up(t, tools.D), 30, f"{t} restored as a mirror on the destination")
    assert lab.end_offsets("destination", t) == {0: 2, 1: 2}
    r = tools.mirrors("--truncate-and-restore", "--topics", t, "--link", link,
                      "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.startswith(f"Error encountered while truncating and restoring topic {t}'s "
                               "mirror: java.util.concurrent.ExecutionException: ")
    for server in (tools.D, tools.S):
        r = tools.links("--delete", "--link", link, "--force", "--bootstrap-server", server)
        assert r.returncode == 0, r.stdout

"""The lab's CP tools (tests/lab/linkops_lab/cptools) without a lab: the Java properties parser,
the --add-config parser, the --command-config shape checks, the installer (``labctl.py
install-tools``), kafka-configs' dispatch to the Apache tools and the usage errors. The tools
run against the session lab in test_lab_cptools_links.py (kafka-cluster-links, kafka-configs
--cluster-link) and test_lab_cptools_mirrors.py (kafka-mirrors).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from linkops_lab.cptools import cluster_links, configs, mirrors
from linkops_lab.cptools import apache
from linkops_lab.cptools import install as cpinstall
from linkops_lab.cptools.common import check_client_security
from linkops_lab.cptools.errors import CommandError, UsageError
from linkops_lab.cptools.properties import load_properties, parse_config_list, parse_properties
from cptools_runner import HERE, JAAS, REPO, run_tool


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
    r = run_tool(bin_dir, "kafka-topics", "--list", "--bootstrap-server", "h:1", env=env)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("kafka-topics: cannot run Apache Kafka's org.apache.kafka.tools.TopicCommand: ")
    assert "labctl.py fetch" in r.stderr and "Traceback" not in r.stderr
    r = run_tool(bin_dir, "kafka-configs", "--describe", "--topic", "t", "--bootstrap-server", "h:1", env=env)
    assert r.returncode == 1 and "kafka.admin.ConfigCommand" in r.stderr and "labctl.py fetch" in r.stderr


def test_make_venv_installs_the_tools():
    r = subprocess.run(["make", "-n", "-B", ".venv/bin/kafka-mirrors"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "tests/lab/labctl.py install-tools" in r.stdout
    r = subprocess.run(["make", "-n", "-p", "venv"], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert re.search(r"^venv: .*\.venv/bin/kafka-mirrors", r.stdout, re.M)


def test_version_help_and_usage_errors(bin_dir, tmp_path):
    env = dict(os.environ, LINKOPS_LAB_DIR=str(tmp_path))   # no lab there: usage comes first
    for tool in ("kafka-cluster-links", "kafka-mirrors", "kafka-configs"):
        r = run_tool(bin_dir, tool, "--version", env=env)
        assert r.returncode == 0
        assert "linkops lab emulation" in r.stdout and "not to Confluent Server" in r.stdout
        r = run_tool(bin_dir, tool, "--help", env=env)
        assert r.returncode == 0 and "linkops lab emulation" in r.stdout
        assert re.search(r"^--bootstrap-server <String: host:port> +REQUIRED", r.stdout, re.M)
        r = run_tool(bin_dir, tool, env=env)              # no arguments: usage, exit 1
        assert r.returncode == 1 and r.stdout == "" and "Option" in r.stderr
        r = run_tool(bin_dir, tool, "--describe", "--bogus", env=env)
        assert r.returncode == 1 and r.stderr.startswith("bogus is not a recognized option\n")
        other = "--alter" if tool == "kafka-configs" else "--list"
        r = run_tool(bin_dir, tool, other, "--describe", "--bootstrap-server", "h:1", env=env)
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
    r = run_tool(bin_dir, "kafka-cluster-links", "--list", "--bootstrap-server", "127.0.0.1:9092",
                 env=env)
    assert r.returncode == 1
    assert r.stdout.startswith("Error while executing cluster link command: no linkops lab is "
                               f"running: {tmp_path / 'none' / 'lab.json'} does not exist")

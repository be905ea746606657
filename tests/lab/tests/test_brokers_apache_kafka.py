"""The lab's apache-kafka broker kind (tests/lab/linkops_lab/brokers/apache_kafka.py).

One pair of real Apache Kafka KRaft brokers for the whole module (source and
destination; a JVM costs seconds to start), plus one short-lived broker whose
parent is SIGKILLed and one that cannot bind its port.  The cheap tests (JAAS
escaping, missing Java/Maven, the fetch lock) need no JVM.  Everything skips
with the reason when Java 17+ or the jars (Maven or the cache) are missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

MODULE_PATH = Path(__file__).resolve().parents[1] / "linkops_lab" / "brokers" / "apache_kafka.py"


def _load_module():
    """Load the module from its file: works with or without the linkops_lab
    package's __init__ files, and does not import the rest of the lab."""
    name = "_linkops_lab_apache_kafka_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, MODULE_PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


ak = _load_module()

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import (  # noqa: E402
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient, ConfigResource,
    NewTopic, ResourcePatternType, ResourceType)

QUIET = {"log_level": 0}


# --------------------------------------------------------------------------- no JVM
def test_jaas_line_and_properties_escaping():
    line = ak.jaas_config('us"er', 'p\\a"ss word', "SCRAM-SHA-512")
    assert line == ('org.apache.kafka.common.security.scram.ScramLoginModule required '
                    'username="us\\"er" password="p\\\\a\\"ss word";')
    assert ak.jaas_config("a", "b").startswith(
        "org.apache.kafka.common.security.plain.PlainLoginModule required ")
    # a .properties file keeps backslashes: Java reads back the JAAS line unchanged
    text = ak.properties_text({"sasl.jaas.config": line, "k": " lead"})
    assert text == ("sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                    'required username="us\\\\"er" password="p\\\\\\\\a\\\\"ss word";\n'
                    "k=\\ lead\n")


def test_old_java_is_refused_with_the_noida_hint(tmp_path, monkeypatch):
    fake = tmp_path / "java"
    fake.write_text('#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n')
    fake.chmod(0o755)
    monkeypatch.setenv("LINKOPS_LAB_JAVA", str(fake))
    with pytest.raises(ak.Unavailable, match=r"Java 11 .* needs Java 17\+.*--brokers noida"):
        ak.check_java()
    monkeypatch.setenv("LINKOPS_LAB_JAVA", str(tmp_path / "nojava"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ak.Unavailable, match=r"nojava is not an executable.*--brokers noida"):
        ak.check_java()


def test_missing_or_offline_maven_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LINKOPS_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LINKOPS_LAB_MVN", str(tmp_path / "no-mvn"))
    with pytest.raises(ak.Unavailable, match=r"not cached in .*Maven \(`mvn`\) is not installed"
                                             r".*--brokers noida"):
        ak.fetch("4.1.1")
    offline = tmp_path / "mvn"
    offline.write_text("#!/bin/sh\necho '[ERROR] Failed to execute goal: Could not transfer "
                       "artifact org.apache.kafka:kafka_2.13:pom:4.1.1: Unknown host "
                       "repo.maven.apache.org'\nexit 1\n")
    offline.chmod(0o755)
    monkeypatch.setenv("LINKOPS_LAB_MVN", str(offline))
    with pytest.raises(ak.Unavailable, match=r"(?s)Maven could not reach its repository "
                                             r"\(offline\?\).*--brokers noida"):
        ak.fetch("4.1.1")
    assert not ak.libs_dir("4.1.1").exists()          # nothing half-made is left as the cache
    assert not list((tmp_path / "cache").glob("*/libs.tmp-*"))


def test_concurrent_fetches_run_maven_once(tmp_path):
    """Three processes fetch at once (as pytest-xdist workers would): one runs
    Maven, the others wait on the lock and find the finished directory."""
    calls = tmp_path / "calls"
    fake = tmp_path / "mvn"
    fake.write_text(f"""#!/bin/sh
echo run >> {calls}
for a in "$@"; do case "$a" in -DoutputDirectory=*) out="${{a#-DoutputDirectory=}}";; esac; done
sleep 1
echo jar > "$out/kafka_2.13-9.9.9.jar"
echo jar > "$out/kafka-tools-9.9.9.jar"
""")
    fake.chmod(0o755)
    env = {**os.environ, "LINKOPS_LAB_CACHE": str(tmp_path / "cache"), "LINKOPS_LAB_MVN": str(fake)}
    code = ("import importlib.util,sys; s=importlib.util.spec_from_file_location('ak', sys.argv[1]);"
            "m=importlib.util.module_from_spec(s); sys.modules['ak']=m; s.loader.exec_module(m);"
            "print(m.fetch('9.9.9'))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(MODULE_PATH)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len({o.strip() for o, _ in outs}) == 1
    libs = Path(outs[0][0].strip())
    assert calls.read_text().count("run") == 1
    assert sorted(p.name for p in libs.iterdir()) == [
        "MANIFEST.json", "kafka-tools-9.9.9.jar", "kafka_2.13-9.9.9.jar"]


# --------------------------------------------------------------------------- one pair of JVMs
@pytest.fixture(scope="module")
def available():
    try:
        ak.check_available()
    except ak.Unavailable as exc:
        pytest.skip(f"apache-kafka broker kind unavailable: {exc}")


@pytest.fixture(scope="module")
def pair(available, tmp_path_factory):
    # jit="c1": these tests move little data, and C1 only saves CPU at start
    brokers = ak.start_many(["source", "destination"], tmp_path_factory.mktemp("apache-kafka"),
                            jit="c1")
    try:
        yield brokers
    finally:
        for b in brokers.values():
            b.stop()
    for b in brokers.values():
        print(f"{b.cluster}: {b.timings}")


def _admin(conf):
    return AdminClient({**conf, **QUIET})


def _create_topic(broker, topic, partitions=1):
    adm = _admin(broker.client_config())
    adm.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)


def _produce(conf, topic, values):
    errors = []
    p = Producer({**conf, **QUIET, "linger.ms": 0})
    for v in values:
        p.produce(topic, v.encode(), on_delivery=lambda err, _m: err and errors.append(err))
    assert p.flush(30) == 0
    return errors


def _read(conf, topic, n, group=None, timeout=30):
    c = Consumer({**conf, **QUIET, "group.id": group or "lab-test-reader",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        got, end = [], time.monotonic() + timeout
        while len(got) < n and time.monotonic() < end:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().retriable() or m.error().code() == KafkaError._TRANSPORT:
                    continue                    # e.g. just after a broker restart
                raise KafkaException(m.error())
            got.append(m.value().decode())
        if group:
            c.commit(asynchronous=False)
        return got
    finally:
        c.close()


def _first_error(conf, codes, timeout=15):
    """Connect with ``conf``; return the first client error whose code is in
    ``codes`` (authentication/TLS failures reach error_cb) or None."""
    errors = []
    p = Producer({**conf, **QUIET, "error_cb": errors.append})
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        p.poll(0.2)
        for e in errors:
            if e.code() in codes:
                return e
    return None


def test_two_clusters_with_their_own_ids(pair):
    src, dst = pair["source"], pair["destination"]
    assert src.cluster_id != dst.cluster_id
    assert src.bootstrap != dst.bootstrap
    for b in (src, dst):
        assert b.bootstrap.startswith("127.0.0.1:")
        md = _admin(b.client_config()).list_topics(timeout=10)
        assert md.cluster_id == b.cluster_id
        assert [br.host for br in md.brokers.values()] == ["127.0.0.1"]
        assert b.alive()
    assert ak.wait(dst.bootstrap, dst.client_config("link", "SCRAM-SHA-512")) == dst.cluster_id
    info = src.info()
    json.dumps(info)
    assert info["client_config"]["security.protocol"] == "SASL_SSL"


def test_secrets_are_private_files(pair):
    src = pair["source"]
    tls = src.workdir / "tls"
    for path in (tls / "ca.key", tls / "ca.crt", src.keystore, pair["destination"].keystore,
                 src.config_file, src.dir / "lab-broker.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(src.keystore)],
                          capture_output=True, text=True, check=True).stdout
    assert "IP Address:127.0.0.1" in text and "DNS:localhost" in text
    assert src.users["admin"] not in (src.workdir / "source-broker.log").read_text()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
@pytest.mark.parametrize("cluster", ["source", "destination"])
def test_produce_consume_over_sasl_ssl(pair, cluster, mechanism):
    b = pair[cluster]
    topic = f"t-{mechanism.lower()}"
    _create_topic(b, topic)
    conf = b.client_config("admin", mechanism)
    assert conf["security.protocol"] == "SASL_SSL" and conf["ssl.ca.location"] == str(b.ca_file)
    assert _produce(conf, topic, ["a", "b", "c"]) == []
    assert _read(conf, topic, 3) == ["a", "b", "c"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_wrong_password_is_refused(pair, mechanism):
    conf = {**pair["source"].client_config("link", mechanism), "sasl.password": "wrong"}
    err = _first_error(conf, {KafkaError._AUTHENTICATION})
    assert err is not None, "a wrong password was not refused"
    assert "Authentication failed" in err.str() or "Invalid" in err.str()


def test_client_that_does_not_trust_the_lab_ca_is_refused(pair, tmp_path):
    other = ak.ensure_ca(tmp_path)[0]             # another CA: valid, but not the lab's
    conf = {**pair["source"].client_config(), "ssl.ca.location": str(other)}
    err = _first_error(conf, {KafkaError._SSL, KafkaError._TRANSPORT})
    assert err is not None and "certificate verify failed" in err.str(), err


def test_link_principal_reads_but_cannot_create_or_write(pair):
    src = pair["source"]
    _create_topic(src, "orders")
    admin = src.client_config()
    assert _produce(admin, "orders", ["1", "2"]) == []
    link = src.client_config("link", "SCRAM-SHA-512")
    # READ topics and groups (commits an offset as the group)
    assert _read(link, "orders", 2, group="link-group") == ["1", "2"]
    adm = _admin(link)
    assert "orders" in adm.list_topics(timeout=10).topics
    # DESCRIBE_CONFIGS on topics
    cfg = adm.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "orders")])
    assert "retention.ms" in next(iter(cfg.values())).result(30)
    # DESCRIBE on the cluster: it may read the ACLs (ACL sync)
    acls = adm.describe_acls(AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY,
                                              None, None, AclOperation.ANY,
                                              AclPermissionType.ANY)).result(30)
    assert {(a.principal, a.operation) for a in acls} >= {("User:link", AclOperation.READ)}
    # but no CREATE, no WRITE, no ALTER of ACLs
    with pytest.raises(KafkaException) as exc:
        adm.create_topics([NewTopic("not-allowed", 1, 1)])["not-allowed"].result(30)
    assert exc.value.args[0].code() in (KafkaError.TOPIC_AUTHORIZATION_FAILED,
                                        KafkaError.CLUSTER_AUTHORIZATION_FAILED)
    errors = _produce(link, "orders", ["x"])
    assert [e.code() for e in errors] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    grant = AclBinding(ResourceType.TOPIC, "orders", ResourcePatternType.LITERAL, "User:link",
                       "*", AclOperation.WRITE, AclPermissionType.ALLOW)
    with pytest.raises(KafkaException) as exc:
        adm.create_acls([grant])[grant].result(30)
    assert exc.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    assert _read(admin, "orders", 3, timeout=3) == ["1", "2"]


def test_super_user_creates_acls_that_the_authorizer_enforces(pair):
    dst = pair["destination"]
    _create_topic(dst, "audit")
    adm = _admin(dst.client_config("admin", "SCRAM-SHA-512"))
    link = dst.client_config("link", "PLAIN")
    assert [e.code() for e in _produce(link, "audit", ["no"])] == [
        KafkaError.TOPIC_AUTHORIZATION_FAILED]
    grant = AclBinding(ResourceType.TOPIC, "audit", ResourcePatternType.LITERAL, "User:link",
                       "*", AclOperation.WRITE, AclPermissionType.ALLOW)
    adm.create_acls([grant])[grant].result(30)
    deadline = time.monotonic() + 15     # the authorizer applies metadata asynchronously
    while _produce(link, "audit", ["yes"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _read(link, "audit", 1) == ["yes"]
    filt = AclBindingFilter(ResourceType.TOPIC, "audit", ResourcePatternType.LITERAL,
                            "User:link", "*", AclOperation.WRITE, AclPermissionType.ALLOW)
    assert [a.name for a in adm.delete_acls([filt])[filt].result(30)] == ["audit"]


def test_java_client_properties_work_with_the_apache_tools(pair, tmp_path):
    """The real Apache tool classes from the same jars, with --command-config
    files from java_client_properties (PEM trust store, escaped JAAS line)."""
    src = pair["source"]
    admin_props = src.write_java_client_properties(tmp_path / "admin.config")
    assert stat.S_IMODE(admin_props.stat().st_mode) == 0o600
    props = src.java_client_properties("link", "SCRAM-SHA-512")
    assert props["ssl.truststore.type"] == "PEM"
    assert props["sasl.jaas.config"].endswith(f'password="{src.users["link"]}";')
    link_props = src.write_java_client_properties(tmp_path / "link.config", "link",
                                                  "SCRAM-SHA-512")
    _create_topic(src, "tools-topic")
    acl_tool = subprocess.run(src.tool_command(
        "org.apache.kafka.tools.AclCommand", "--bootstrap-server", src.bootstrap,
        "--command-config", str(admin_props), "--list", "--topic", "*"),
        capture_output=True, text=True, timeout=120)
    assert acl_tool.returncode == 0, acl_tool.stderr[-2000:]
    assert "principal=User:link" in acl_tool.stdout and "operation=READ" in acl_tool.stdout
    topics = subprocess.run(src.tool_command(
        "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", src.bootstrap,
        "--command-config", str(link_props), "--list"),
        capture_output=True, text=True, timeout=120)
    assert topics.returncode == 0, topics.stderr[-2000:]
    assert topics.stdout.split() == ["__consumer_offsets", "orders", "t-plain", "t-scram-sha-512",
                                     "tools-topic"]      # nothing but the names: no log lines


def test_a_crashed_broker_restarts_with_its_data(pair):
    """Fault tests stop and start a broker: SIGKILL, then start it again with
    keep_data (what a new process would do from lab-broker.json)."""
    src = pair["source"]
    old = (src.port, src.cluster_id, dict(src.users), src.pid)
    with pytest.raises(ak.ApacheKafkaError, match="still running"):
        ak.start("source", src.workdir, keep_data=True, jit="c1")
    src.kill()
    assert not src.alive() and not ak.pid_alive(old[3])
    again = ak.start("source", src.workdir, keep_data=True, jit="c1")
    pair["source"] = again                      # the fixture stops this one
    assert (again.port, again.cluster_id, again.users) == old[:3] and again.pid != old[3]
    link = again.client_config("link", "SCRAM-SHA-512")   # SCRAM users and ACLs survive
    assert _read(link, "orders", 2) == ["1", "2"]


def test_stop_leaves_no_process(pair):
    pids = {name: b.pid for name, b in pair.items()}
    for b in pair.values():
        b.stop()
        assert not b.alive()
        assert b.timings["stop_s"] < 20
    for name, pid in pids.items():
        assert not ak.pid_alive(pid), f"{name} broker pid {pid} survived stop()"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", pair[name].port)) != 0
        attached = ak.ApacheKafkaBroker.attach(name, pair[name].workdir)
        assert attached.pid == pid and not attached.alive()
        attached.stop()                             # a no-op: never signals a reused pid


# --------------------------------------------------------------------------- failures
def test_killed_parent_takes_its_broker_down(available, tmp_path):
    """A process that started a broker is SIGKILLed: the JVM goes too."""
    parent = subprocess.Popen([sys.executable, str(MODULE_PATH), "up", "--workdir", str(tmp_path),
                               "orphan"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True,
                              env={**os.environ, "LINKOPS_LAB_KAFKA_JIT": "c1"})
    try:
        line = parent.stdout.readline()
        assert line, parent.stderr.read()[-2000:]
        jvm = json.loads(line)["orphan"]["pid"]
        assert ak.pid_alive(jvm)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while ak.pid_alive(jvm) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not ak.pid_alive(jvm), "the broker JVM outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait(10)


def test_a_broker_that_cannot_start_is_a_clear_error_and_no_orphan(available, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        before = _java_pids_under(tmp_path)
        with pytest.raises(ak.ApacheKafkaError, match=r"broker of busy exited .* see .*busy-broker"
                                                      r"\.log"):
            ak.start("busy", tmp_path, port=port, ready_timeout=60, jit="c1")
    assert before == [] and _java_pids_under(tmp_path) == []


def _java_pids_under(path: Path) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if str(path).encode() in cmd and b"java" in cmd and ak.pid_alive(int(d.name)):
                out.append(int(d.name))
    return out

"""One Apache Kafka KRaft lab broker (part of ``apache_kafka``): ``ApacheKafkaBroker`` (its
server.properties with the SASL_SSL ``CLIENT`` and SASL_PLAINTEXT ``CONTROLLER`` listeners, the
users, the StandardAuthorizer and log4j2 files; the format and start commands of its JVM; spawn,
wait until ready, the link principal's ACLs, the warm-up, stop/kill/attach/restart; the client
settings of the lab's clients: librdkafka dicts and Java ``--command-config`` properties), with
the JAAS and ``.properties`` escaping it writes them with, new KRaft cluster ids and the users
and ACLs every lab broker has. Starting several at once is ``apache_kafka.start_many``."""

from __future__ import annotations

import base64
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from ..procs import pid_alive, pid_cmdline as _cmdline
from .kafka_dist import (TOOLS_LOG4J2 as _TOOLS_LOG4J2, ApacheKafkaError, _tail, find_java, jvm_command,
                         kafka_version, libs_dir)
from .lab_tls import _private_dir, _write_private

SUPER_USER = "admin"
LINK_USER = "link"
MECHANISMS = ("PLAIN", "SCRAM-SHA-512")

# The ACLs a Cluster Link's principal needs on its source cluster:
# (resource type, name, pattern type, operation)
LINK_ACLS = (
    ("TOPIC", "*", "LITERAL", "READ"),
    ("TOPIC", "*", "LITERAL", "DESCRIBE"),
    ("TOPIC", "*", "LITERAL", "DESCRIBE_CONFIGS"),
    ("GROUP", "*", "LITERAL", "READ"),
    ("GROUP", "*", "LITERAL", "DESCRIBE"),
    ("BROKER", "kafka-cluster", "LITERAL", "DESCRIBE"),   # the cluster: DescribeAcls (ACL sync)
)

_PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
_SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"


def _die_with_parent() -> None:  # preexec_fn: SIGKILL the child when its parent (thread) dies
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def jaas_quote(value: str) -> str:
    """A JAAS option value in double quotes, with ``\\`` and ``"`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jaas_config(username: str, password: str, mechanism: str = "PLAIN") -> str:
    """The ``sasl.jaas.config`` line a Java client uses for ``mechanism``."""
    module = _PLAIN_MODULE if mechanism == "PLAIN" else _SCRAM_MODULE
    return f"{module} required username={jaas_quote(username)} password={jaas_quote(password)};"


def properties_escape(value: str, key: bool = False) -> str:
    """Escape a value (or key) for a Java ``.properties`` file."""
    out = []
    for i, ch in enumerate(value):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif (key and ch in "=: " or key and i == 0 and ch in "#!"
              or not key and i == 0 and ch == " "):
            out.append("\\" + ch)
        elif ord(ch) > 126:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def properties_text(props: dict[str, Any]) -> str:
    return "".join(f"{properties_escape(str(k), key=True)}={properties_escape(str(v))}\n"
                   for k, v in props.items())


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID, base64url without padding (22 chars)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):          # Kafka avoids ids that look like options
            return cid


# --------------------------------------------------------------------------- the broker
class ApacheKafkaBroker:
    """One running (or stopped) lab broker; see the module docstring."""

    def __init__(self, cluster: str, workdir: Path, *, port: int, controller_port: int,
                 cluster_id: str, users: dict[str, str], libs: Path, java: str,
                 die_with_parent: bool = True, cds: Path | None = None,
                 cds_dump: Path | None = None, jit: str | None = None):
        self.cluster = cluster
        self.workdir = Path(workdir).resolve()
        self.dir = self.workdir / f"{cluster}-kafka"
        self.data_dir = self.dir / "data"
        self.port, self.controller_port = port, controller_port
        self.bootstrap = f"127.0.0.1:{port}"
        self.cluster_id = cluster_id
        self.users = dict(users)
        self.libs, self.java = libs, java
        self.die_with_parent = die_with_parent
        self.cds, self.cds_dump = cds, cds_dump
        self.jit = jit or os.environ.get("LINKOPS_LAB_KAFKA_JIT") or "full"
        if self.jit not in ("full", "c1"):
            raise ValueError(f"jit must be 'full' or 'c1', not {self.jit!r}")
        self.ca_file = self.workdir / "tls" / "ca.crt"
        self.keystore = self.workdir / "tls" / f"{cluster}-broker.pem"
        self.config_file = self.dir / "server.properties"
        self.log_path = self.workdir / f"{cluster}-broker.log"
        self.popen: subprocess.Popen | None = None
        self.pid: int | None = None
        self.timings: dict[str, float] = {}

    # -- client settings ------------------------------------------------------
    def _creds(self, user: str, mechanism: str) -> str:
        if mechanism not in MECHANISMS:
            raise ValueError(f"mechanism must be one of {MECHANISMS}, not {mechanism!r}")
        try:
            return self.users[user]
        except KeyError:
            raise ValueError(f"no lab user {user!r} on {self.cluster} "
                             f"(users: {sorted(self.users)})") from None

    def client_config(self, user: str = SUPER_USER, mechanism: str = "PLAIN", *,
                      bootstrap: bool = True) -> dict[str, str]:
        """librdkafka settings for ``user`` over SASL_SSL with ``mechanism``."""
        conf = {"security.protocol": "SASL_SSL", "sasl.mechanism": mechanism,
                "sasl.username": user, "sasl.password": self._creds(user, mechanism),
                "ssl.ca.location": str(self.ca_file)}
        if bootstrap:
            conf = {"bootstrap.servers": self.bootstrap, **conf}
        return conf

    def java_client_properties(self, user: str = SUPER_USER, mechanism: str = "PLAIN", *,
                               bootstrap: bool = True) -> dict[str, str]:
        """Java client settings (the Apache tools' ``--command-config``)."""
        props = {"security.protocol": "SASL_SSL", "sasl.mechanism": mechanism,
                 "sasl.jaas.config": jaas_config(user, self._creds(user, mechanism), mechanism),
                 "ssl.truststore.type": "PEM", "ssl.truststore.location": str(self.ca_file)}
        if bootstrap:
            props = {"bootstrap.servers": self.bootstrap, **props}
        return props

    def write_java_client_properties(self, path: str | os.PathLike, user: str = SUPER_USER,
                                     mechanism: str = "PLAIN") -> Path:
        path = Path(path)
        _write_private(path, properties_text(self.java_client_properties(user, mechanism)))
        return path

    @property
    def data_path(self) -> Path:
        """This broker's directory (configuration, data): kept by stop() and restart()."""
        return self.dir

    def info(self) -> dict[str, Any]:
        """JSON-able description (for lab.json; contains the passwords)."""
        return {"kind": "apache-kafka", "cluster": self.cluster, "bootstrap": self.bootstrap,
                "cluster_id": self.cluster_id, "port": self.port,
                "controller_port": self.controller_port, "pid": self.pid,
                "dir": str(self.dir), "log": str(self.log_path), "ca_file": str(self.ca_file),
                "users": dict(self.users), "kafka_version": kafka_version(),
                "client_config": self.client_config(),
                "java_client_properties": self.java_client_properties(),
                "timings": dict(self.timings)}

    # -- files ------------------------------------------------------------------
    def _server_properties(self) -> dict[str, str]:
        admin_pw = self.users[SUPER_USER]
        plain_users = " ".join(f"user_{u}={jaas_quote(p)}" for u, p in self.users.items())
        plain_jaas = (f"{_PLAIN_MODULE} required username={jaas_quote(SUPER_USER)} "
                      f"password={jaas_quote(admin_pw)} {plain_users};")
        scram_jaas = (f"{_SCRAM_MODULE} required username={jaas_quote(SUPER_USER)} "
                      f"password={jaas_quote(admin_pw)};")
        ctl_jaas = (f"{_PLAIN_MODULE} required username={jaas_quote(SUPER_USER)} "
                    f"password={jaas_quote(admin_pw)} user_{SUPER_USER}={jaas_quote(admin_pw)};")
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": (f"CLIENT://127.0.0.1:{self.port},"
                          f"CONTROLLER://127.0.0.1:{self.controller_port}"),
            "advertised.listeners": f"CLIENT://127.0.0.1:{self.port}",
            "listener.security.protocol.map": "CLIENT:SASL_SSL,CONTROLLER:SASL_PLAINTEXT",
            "inter.broker.listener.name": "CLIENT",
            "controller.listener.names": "CONTROLLER",
            # SASL
            "sasl.enabled.mechanisms": ",".join(MECHANISMS),
            "sasl.mechanism.inter.broker.protocol": "PLAIN",
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.client.sasl.enabled.mechanisms": ",".join(MECHANISMS),
            "listener.name.client.plain.sasl.jaas.config": plain_jaas,
            "listener.name.client.scram-sha-512.sasl.jaas.config": scram_jaas,
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": ctl_jaas,
            # TLS (PEM files)
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_file),
            "ssl.client.auth": "none",
            # authorizer
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{SUPER_USER}",
            "allow.everyone.if.no.acl.found": "false",
            # storage, one node
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "5",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # a restarted node waits for the session of its previous incarnation to expire
            # before it is caught up (default 9 s)
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "500",
            "auto.create.topics.enable": "false",
            # small machine
            "num.network.threads": "2",
            "num.io.threads": "2",
            "num.recovery.threads.per.data.dir": "1",
            "background.threads": "2",
            "log.cleaner.threads": "1",
            "log.cleaner.dedupe.buffer.size": "16777216",
        }

    def _write_files(self) -> None:
        _private_dir(self.dir)
        _write_private(self.config_file, properties_text(self._server_properties()))
        _write_private(self.dir / "log4j2.properties", _LOG4J2)
        _write_private(self.dir / "tools-log4j2.properties", _TOOLS_LOG4J2)
        self._save()

    def _save(self) -> None:
        _write_private(self.dir / "lab-broker.json", json.dumps({
            "cluster": self.cluster, "cluster_id": self.cluster_id, "port": self.port,
            "controller_port": self.controller_port, "users": self.users, "pid": self.pid,
            "java": self.java, "libs": str(self.libs), "jit": self.jit}, indent=2) + "\n")

    def _jvm(self, heap: str, main: str, *args: str, log4j: str = "log4j2.properties") -> list[str]:
        # Short-lived tools start faster with C1 only. The broker needs C2 for throughput
        # (C1 only: 1.7x the broker CPU per produced record and 3.6x per consumed one over
        # SASL_SSL), but C2 costs about 3 CPU-s more at start: jit="c1" for test labs.
        broker = main == "kafka.Kafka"
        return jvm_command(self.java, self.libs, main, *args, heap=heap, log4j=self.dir / log4j,
                           logs_dir=self.dir / "logs", c1_only=not broker or self.jit == "c1",
                           cds=self.cds, cds_dump=self.cds_dump if broker else None)

    def _format_cmd(self) -> list[str]:
        scram = [a for u, p in self.users.items()
                 for a in ("--add-scram", f"SCRAM-SHA-512=[name={u},password={p}]")]
        return self._jvm("256m", "kafka.tools.StorageTool", "format", "--config",
                         str(self.config_file), "--cluster-id", self.cluster_id,
                         "--ignore-formatted", *scram)

    def _start_cmd(self) -> list[str]:
        heap = os.environ.get("LINKOPS_LAB_KAFKA_HEAP") or "512m"
        return self._jvm(heap, "kafka.Kafka", str(self.config_file))

    # -- lifecycle --------------------------------------------------------------
    def _spawn(self) -> None:
        """Start the JVM (from the calling thread: PR_SET_PDEATHSIG binds to it)."""
        with open(self.log_path, "ab") as logf:
            self.popen = subprocess.Popen(
                self._start_cmd(), stdin=subprocess.DEVNULL, stdout=logf,
                stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent else None)
        self.pid = self.popen.pid
        self._spawned_at = time.monotonic()
        self._save()

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_alive(self.pid) and str(self.config_file) in _cmdline(self.pid)

    @classmethod
    def attach(cls, cluster: str, workdir: str | os.PathLike) -> "ApacheKafkaBroker":
        """The broker of ``cluster`` that an earlier ``start`` left in ``workdir``
        (e.g. from ``labctl up`` in another process): stop(), alive(), settings."""
        workdir = Path(workdir).resolve()
        path = workdir / f"{cluster}-kafka" / "lab-broker.json"
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ApacheKafkaError(f"no Apache Kafka broker of {cluster} in {workdir}: {exc}") from None
        java = saved.get("java") or find_java()
        libs = Path(saved["libs"]) if saved.get("libs") else libs_dir()
        b = cls(cluster, workdir, port=saved["port"], controller_port=saved["controller_port"],
                cluster_id=saved["cluster_id"], users=saved["users"], libs=libs, java=java,
                die_with_parent=False, jit=saved.get("jit"))
        b.pid = saved.get("pid")
        return b

    def tool_command(self, main: str, *args: str, heap: str = "256m") -> list[str]:
        """A java command line that runs an Apache Kafka tool class from the same
        jars, e.g. ``tool_command("org.apache.kafka.tools.TopicCommand",
        "--bootstrap-server", b.bootstrap, "--command-config", path, "--list")``.
        It logs WARN and above to stderr only: stdout is the tool's own output."""
        return self._jvm(heap, main, *args, log4j="tools-log4j2.properties")

    def _admin(self, user: str = SUPER_USER, **extra: Any):
        from confluent_kafka.admin import AdminClient
        return AdminClient({**self.client_config(user), "log_level": 0,
                            "socket.connection.setup.timeout.ms": 3000, **extra})

    def _wait_ready(self, deadline: float) -> None:
        from confluent_kafka import KafkaException
        adm = self._admin()
        last: Any = None
        while True:
            if not self.alive():
                code = self.popen.returncode if self.popen is not None else "?"
                raise ApacheKafkaError(
                    f"the Apache Kafka broker of {self.cluster} exited with {code} before it "
                    f"answered on {self.bootstrap}; see {self.log_path}:\n{_tail(self.log_path)}")
            try:
                md = adm.list_topics(timeout=2)
                if md.brokers and md.cluster_id:
                    if md.cluster_id != self.cluster_id:
                        raise ApacheKafkaError(
                            f"{self.bootstrap} answers with cluster id {md.cluster_id}, not "
                            f"{self.cluster_id} (another process on the port?)")
                    break
            except KafkaException as exc:
                last = exc
            if time.monotonic() > deadline:
                raise ApacheKafkaError(
                    f"the Apache Kafka broker of {self.cluster} did not answer metadata on "
                    f"{self.bootstrap} over SASL_SSL in time (last: {last}); see "
                    f"{self.log_path}:\n{_tail(self.log_path)}")
            time.sleep(0.2)
        self.timings["ready_s"] = round(time.monotonic() - self._spawned_at, 2)

    def _apply_link_acls(self) -> None:
        from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType,
                                           ResourcePatternType, ResourceType)
        t0 = time.monotonic()
        bindings = [AclBinding(getattr(ResourceType, rtype), name,
                               getattr(ResourcePatternType, ptype), f"User:{LINK_USER}", "*",
                               getattr(AclOperation, op), AclPermissionType.ALLOW)
                    for rtype, name, ptype, op in LINK_ACLS]
        adm = self._admin()           # keep a reference: the futures need the handle
        futs = adm.create_acls(bindings, request_timeout=30)
        for binding, fut in futs.items():
            try:
                fut.result()
            except Exception as exc:  # noqa: BLE001 - one clear line
                raise ApacheKafkaError(f"{self.cluster}: creating the link ACL {binding} "
                                       f"failed: {exc}") from None
        self.timings["acls_s"] = round(time.monotonic() - t0, 2)

    def _warm_up(self, timeout: float = 60.0) -> None:
        """Have the broker load its group coordinator and fetch its producer ids now.

        A fresh (or restarted) broker answers the first OffsetFetch with
        COORDINATOR_LOAD_IN_PROGRESS until ``__consumer_offsets`` is loaded, and
        librdkafka 2.16's AdminClient ``list_consumer_group_offsets`` crashes its process
        on that answer (SIGSEGV in rd_kafka_cgrp_op from rd_kafka_handle_OffsetFetch:
        an admin client has no consumer group; seen in the emulator's offset sync on a
        fresh lab). The first InitProducerId gets the same answer until the broker has
        its block of producer ids. So a child process (a crash costs only the child)
        asks with a consumer and an idempotent producer, which retry safely, until
        both are ready."""
        t0 = time.monotonic()
        conf = json.dumps(self.client_config())
        deadline, last = t0 + timeout, ""
        while True:
            try:
                proc = subprocess.run([sys.executable, "-c", _WARM_UP_SCRIPT], input=conf,
                                      capture_output=True, text=True, timeout=30,
                                      preexec_fn=_die_with_parent)
                if proc.returncode == 0:
                    break
                last = f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
            except subprocess.TimeoutExpired:
                last = "timed out"
            if time.monotonic() > deadline:
                raise ApacheKafkaError(f"{self.cluster}: the broker's group coordinator or "
                                       f"producer ids were not ready within {timeout}s ({last}); "
                                       f"see {self.log_path}")
            time.sleep(0.2)
        self.timings["warm_up_s"] = round(time.monotonic() - t0, 2)

    def stop(self, timeout: float = 20.0, *, graceful: bool = True) -> None:
        """SIGTERM the broker's process group, wait, SIGKILL if needed; idempotent.
        ``graceful=False``: SIGKILL at once (a crash; Kafka recovers its log at start)."""
        if self.pid is None or not self.alive():
            return      # never started, or already gone (and reaped: its pid may be reused)
        t0 = time.monotonic()
        steps = ((signal.SIGTERM, timeout),) if graceful else ()
        for sig, wait in steps + ((signal.SIGKILL, 10.0),):
            if not self.alive():
                break
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                break
            except PermissionError:
                os.kill(self.pid, sig)
            end = time.monotonic() + wait
            while self.alive() and time.monotonic() < end:
                time.sleep(0.05)
        try:   # nothing else of its group may survive
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.popen is not None:
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.timings["stop_s"] = round(time.monotonic() - t0, 2)

    def kill(self) -> None:
        """SIGKILL (a crash, for fault tests); data is kept."""
        self.stop(graceful=False)

    def restart(self, ready_timeout: float = 90.0) -> None:
        """Start the stopped broker again: same ports, data, users, cluster id."""
        if self.alive():
            return
        self._spawn()
        try:
            self._wait_ready(time.monotonic() + ready_timeout)
        except BaseException:
            self.stop(timeout=5)
            raise

    def __enter__(self) -> "ApacheKafkaBroker":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"<ApacheKafkaBroker {self.cluster} {self.bootstrap} id={self.cluster_id} "
                f"pid={self.pid} alive={self.alive()}>")


# Warm-up of a fresh broker (ApacheKafkaBroker._warm_up): an idempotent producer until it holds a
# producer id (its state is "Assigned"), then a consumer's OffsetFetch until the group coordinator
# (__consumer_offsets) answers. Exits 0 when both are ready.
_WARM_UP_SCRIPT = """
import json, logging, sys, threading, time
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
conf = json.loads(sys.stdin.read())
assigned = threading.Event()
class Seen(logging.Handler):
    def emit(self, record):
        if "-> Assigned" in record.getMessage():
            assigned.set()
logger = logging.getLogger("warm-up"); logger.setLevel(logging.DEBUG)
logger.addHandler(Seen()); logger.propagate = False
p = Producer({**conf, "enable.idempotence": True, "debug": "eos", "log_level": 7}, logger=logger)
end = time.monotonic() + 25
while not assigned.is_set() and time.monotonic() < end:
    p.poll(0.1)
if not assigned.is_set():
    sys.exit(3)
c = Consumer({**conf, "group.id": "_lab-warm-up", "enable.auto.commit": False, "log_level": 0})
while True:
    try:
        c.committed([TopicPartition("_lab-warm-up", 0)], timeout=10)
        break
    except KafkaException as exc:
        if time.monotonic() > end + 20:
            print(exc, file=sys.stderr)
            sys.exit(4)
        time.sleep(0.2)
c.close()
"""


_LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = STDOUT
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
logger.controller.name = kafka.server.ControllerServer
logger.controller.level = INFO
logger.acceptor.name = kafka.network.DataPlaneAcceptor
logger.acceptor.level = INFO
logger.selector.name = org.apache.kafka.common.network.Selector
logger.selector.level = INFO
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = INFO
logger.signal.name = org.apache.kafka.common.utils.LoggingSignalHandler
logger.signal.level = INFO
"""


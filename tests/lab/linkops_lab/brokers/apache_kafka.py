"""The lab's "apache-kafka" broker kind: real Apache Kafka 4.x KRaft brokers.

One JVM per cluster ("source", "destination", ...): a combined broker+controller
on free 127.0.0.1 ports, its own cluster id, data and log directory, with

* a ``CLIENT`` listener, SASL_SSL, mechanisms PLAIN and SCRAM-SHA-512, its
  certificate signed by a lab CA made at first start (``<workdir>/tls/``,
  files mode 0600; SAN ``IP:127.0.0.1``, ``DNS:localhost``); key store and
  trust store are PEM files (``ssl.keystore.type=PEM``);
* a ``CONTROLLER`` listener (SASL_PLAINTEXT, PLAIN, 127.0.0.1 only) that only
  the node itself uses;
* the StandardAuthorizer, ``super.users=User:admin`` (the lab itself) and a
  link principal ``User:link`` that holds only what a Cluster Link needs on
  its source cluster: READ, DESCRIBE and DESCRIBE_CONFIGS on every topic, READ
  and DESCRIBE on every group, DESCRIBE on the cluster (ACL sync).  It can not
  create topics nor write.

The jars (``org.apache.kafka:kafka_2.13``, ``kafka-tools`` and their runtime
dependencies, with log4j2 behind slf4j) come from Maven Central through
``tests/lab/maven/pom.xml`` into a per-machine cache outside the git tree:
``$LINKOPS_LAB_CACHE`` or ``$XDG_CACHE_HOME/linkops-lab`` or
``~/.cache/linkops-lab``, directory ``kafka-<version>-<pom hash>/libs``.
Fetched once (a file lock serialises concurrent callers, e.g. pytest-xdist
workers; the jars are copied into a temporary directory that is renamed into
place when complete).

Files, all under ``workdir`` (the lab directory; secrets mode 0600)::

    tls/ca.crt, tls/ca.key            the lab CA (kept across fresh starts in the same dir)
    tls/<cluster>-broker.pem          key + certificate + CA (ssl.keystore.type=PEM)
    <cluster>-kafka/server.properties the broker's configuration (has the passwords)
    <cluster>-kafka/lab-broker.json   ports, cluster id, users, pid (attach/restart)
    <cluster>-kafka/data/             the KRaft metadata log and the topic data
    <cluster>-broker.log              the JVM's output (log4j2: WARN, plus start/stop,
                                      failed authentications and authorizer denials)

Use::

    brokers = start_many(["source", "destination"], workdir)   # both in parallel
    b = brokers["source"]                  # or: b = start("source", workdir)
    b.bootstrap, b.cluster_id
    b.client_config()                      # librdkafka dict (admin, PLAIN)
    b.client_config("link", "SCRAM-SHA-512")
    b.java_client_properties()             # for the Apache tools' --command-config
    b.write_java_client_properties(path)   # the same as a file, mode 0600
    b.tool_command("org.apache.kafka.tools.TopicCommand", "--list", ...)  # an Apache tool
    b.info()                               # JSON-able, for lab.json
    b.kill(); b.restart()                  # a crash and a start on the same port and data
    start("source", workdir, keep_data=True)        # the same from another process
    ApacheKafkaBroker.attach("source", workdir)     # stop()/alive() from another process
    b.stop()

The first start on a machine also makes a class-data-sharing archive of the
broker's classes (``ensure_cds``: one training start, about 20 s) next to the
jars; every later JVM (broker, format, tools) maps it and starts with about a
third less CPU.  ``jit="c1"`` starts brokers cheaper still but they run slower:
for tests that move little data.

Children die with the thread that started them (PR_SET_PDEATHSIG, SIGKILL;
``die_with_parent=False`` for a lab that outlives its starter, as ``labctl
up``): call ``start``/``start_many`` from a thread that lives as long as the
brokers (the main thread).  Each JVM runs in its own session and process
group; ``stop()`` sends SIGTERM to the group, waits, then SIGKILL.

This module imports only the standard library; ``confluent_kafka`` is
imported where a broker is waited for (metadata over SASL_SSL) and its ACLs
are created.  Run it as a script to fetch the jars, start brokers by hand or
run a self-check::

    python apache_kafka.py fetch            # jars + CDS archive; prints dirs, timings, sizes
    python apache_kafka.py up --workdir D source destination   # until Ctrl-C
    python apache_kafka.py selfcheck

Environment: ``LINKOPS_LAB_CACHE`` (jar cache), ``LINKOPS_LAB_KAFKA_VERSION``
(default ``KAFKA_VERSION``), ``LINKOPS_LAB_JAVA`` (the java binary; else
``$JAVA_HOME/bin/java``, else ``java`` on PATH), ``LINKOPS_LAB_MVN`` (else
``mvn`` on PATH), ``LINKOPS_LAB_KAFKA_HEAP`` (default ``512m``),
``LINKOPS_LAB_KAFKA_JVM_OPTS`` (extra JVM options), ``LINKOPS_LAB_KAFKA_JIT``
(``full`` or ``c1``), ``LINKOPS_LAB_KAFKA_CDS=0`` (no CDS archive).
"""

from __future__ import annotations

import base64
import ctypes
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

KIND = "apache-kafka"
# For the lab's kind interface (brokers/__init__.py): no extra librdkafka settings are needed
# beyond a broker's client_config(), and the clusters report their own distinct ids.
CLIENT_CONFIG: dict[str, str] = {}
DEFAULT_CLUSTER_IDS: dict[str, str] = {}
# links to these brokers connect with their own security configs (the emulator's link_security)
LINK_SECURITY = True
READY_TIMEOUT = 180.0      # a JVM on a loaded 2-core machine: the lab waits at least this long

KAFKA_VERSION = "4.1.1"
MIN_JAVA = 17
HERE = Path(__file__).resolve().parent
POM = HERE.parents[1] / "maven" / "pom.xml"          # tests/lab/maven/pom.xml

SUPER_USER = "admin"
LINK_USER = "link"
MECHANISMS = ("PLAIN", "SCRAM-SHA-512")

NOIDA_HINT = ("or run the lighter lab without Java: `labctl.py up --brokers noida` "
              "(env LAB_BROKERS=noida)")

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


class ApacheKafkaError(RuntimeError):
    """The Apache Kafka broker kind is unavailable, or a broker could not start."""


class Unavailable(ApacheKafkaError):
    """A prerequisite is missing (Java 17+, Maven or the jar cache): skip, or use noida."""


# --------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # preexec_fn: SIGKILL the child when its parent (thread) dies
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False


def _write_private(path: Path, data: str | bytes) -> None:
    """Write a file readable by its owner only (atomically)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


class _FileLock:
    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> "_FileLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        assert self.fd is not None
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


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


# --------------------------------------------------------------------------- java, maven
def find_java() -> str:
    cand = os.environ.get("LINKOPS_LAB_JAVA")
    if not cand and os.environ.get("JAVA_HOME"):
        cand = str(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    if not cand:
        cand = shutil.which("java") or ""
    if not cand or not os.access(cand, os.X_OK):
        found = f"{cand} is not an executable" if cand else "no `java` was found"
        raise Unavailable(f"Java {MIN_JAVA}+ is needed for the Apache Kafka lab brokers and "
                          f"{found} (install a JDK/JRE 17+, e.g. `apt-get install "
                          f"openjdk-17-jre-headless`, or set JAVA_HOME), {NOIDA_HINT}")
    return cand


_JAVA_VERSIONS: dict[str, str] = {}


def _java_version_text(java: str) -> str:
    if java not in _JAVA_VERSIONS:
        try:
            out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"{java} -version failed: {exc}; {NOIDA_HINT}") from None
        _JAVA_VERSIONS[java] = (out.stderr + out.stdout).strip()
    return _JAVA_VERSIONS[java]


def java_version(java: str | None = None) -> int:
    java = java or find_java()
    text = _java_version_text(java)
    m = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not m:
        raise Unavailable(f"cannot tell the Java version from `{java} -version`: "
                          f"{text[:200]}; {NOIDA_HINT}")
    major = int(m.group(1))
    if major == 1 and m.group(2):           # 1.8 -> 8
        major = int(m.group(2))
    return major


def check_java(java: str | None = None) -> str:
    java = java or find_java()
    major = java_version(java)
    if major < MIN_JAVA:
        raise Unavailable(f"Java {major} at {java} is too old: Apache Kafka 4.x needs Java "
                          f"{MIN_JAVA}+ (install openjdk-17, set JAVA_HOME or LINKOPS_LAB_JAVA), "
                          f"{NOIDA_HINT}")
    return java


def kafka_version() -> str:
    return os.environ.get("LINKOPS_LAB_KAFKA_VERSION") or KAFKA_VERSION


def cache_root() -> Path:
    if os.environ.get("LINKOPS_LAB_CACHE"):
        return Path(os.environ["LINKOPS_LAB_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "linkops-lab"


def _pom_hash() -> str:
    try:
        return hashlib.sha256(POM.read_bytes()).hexdigest()[:8]
    except OSError:
        raise ApacheKafkaError(f"{POM} is missing (it lists the Kafka jars to fetch)") from None


def libs_dir(version: str | None = None) -> Path:
    """Where the jars of ``version`` are (or will be) cached."""
    return cache_root() / f"kafka-{version or kafka_version()}-{_pom_hash()}" / "libs"


def cached_libs(version: str | None = None) -> Path | None:
    d = libs_dir(version)
    return d if (d / "MANIFEST.json").is_file() else None


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def fetch(version: str | None = None, *, quiet: bool = True) -> Path:
    """Make sure the jars of ``version`` are in the cache; return the libs dir.

    Runs ``mvn dependency:copy-dependencies`` once per machine; concurrent
    callers wait on a file lock and then find the finished directory."""
    version = version or kafka_version()
    target = libs_dir(version)
    if (target / "MANIFEST.json").is_file():
        return target
    root = target.parent
    root.mkdir(parents=True, exist_ok=True)
    with _FileLock(root.with_name(root.name + ".lock")):
        if (target / "MANIFEST.json").is_file():       # another process fetched it
            return target
        mvn = os.environ.get("LINKOPS_LAB_MVN") or shutil.which("mvn")
        if not mvn or not os.access(mvn, os.X_OK):
            raise Unavailable(
                f"the Apache Kafka {version} jars are not cached in {target} and Maven (`mvn`) is "
                "not installed to fetch them (install it, e.g. `apt-get install maven`, and let it "
                f"reach Maven Central once), {NOIDA_HINT}")
        tmp = Path(tempfile.mkdtemp(prefix="libs.tmp-", dir=root))
        log = root / "mvn.log"
        cmd = [mvn, "-B", "-f", str(POM), f"-Dkafka.version={version}",
               "dependency:copy-dependencies", f"-DoutputDirectory={tmp}",
               "-DincludeScope=runtime"]
        if quiet:
            cmd.insert(2, "-q")
        t0 = time.monotonic()
        try:
            with open(log, "wb") as fh:
                proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=POM.parent, timeout=1800)
        except subprocess.TimeoutExpired:
            shutil.rmtree(tmp, ignore_errors=True)
            raise Unavailable(f"fetching the Apache Kafka {version} jars with Maven took more "
                              f"than 30 minutes; see {log}; {NOIDA_HINT}") from None
        jars = sorted(p.name for p in tmp.glob("*.jar"))
        if proc.returncode != 0 or not any(j.startswith(f"kafka_2.13-{version}") for j in jars):
            shutil.rmtree(tmp, ignore_errors=True)
            tail = _tail(log, 8)
            offline = re.search(r"(Could not transfer|Unknown host|Network is unreachable|"
                                r"offline|Connection refused|Could not resolve)", tail, re.I)
            why = ("Maven could not reach its repository (offline?)" if offline
                   else f"mvn exited with {proc.returncode}")
            raise Unavailable(f"could not fetch the Apache Kafka {version} jars: {why}; see {log}:"
                              f"\n{tail}\nRun it again where Maven Central is reachable, "
                              f"{NOIDA_HINT}")
        manifest = {"kafka_version": version, "jars": jars, "pom": str(POM),
                    "pom_sha256_8": _pom_hash(), "fetched_at": int(time.time()),
                    "fetch_seconds": round(time.monotonic() - t0, 2),
                    "bytes": _dir_size(tmp)}
        (tmp / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
        os.chmod(tmp, 0o755)
        if target.exists():                 # an incomplete leftover (no manifest)
            shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)
    return target


def check_available(version: str | None = None, *, fetch_jars: bool = True) -> Path:
    """Raise ``Unavailable`` with what is missing; return the libs dir."""
    check_java()
    if not fetch_jars:
        found = cached_libs(version)
        if found is None:
            raise Unavailable(f"the Apache Kafka jars are not cached in {libs_dir(version)}")
        return found
    return fetch(version)


def classpath(libs: Path) -> str:
    """The jars in a fixed order (a CDS archive is only used with the same class path)."""
    return ":".join(str(p) for p in sorted(libs.glob("*.jar")))


def cds_archive_path(libs: Path, java: str) -> Path:
    ident = hashlib.sha256((os.path.realpath(java) + "\n" + _java_version_text(java)).encode())
    return libs.parent / f"cds-{ident.hexdigest()[:12]}.jsa"


def ensure_cds(libs: Path, java: str) -> Path | None:
    """A class-data-sharing archive of the broker's classes, made once per
    machine and JDK by a training run (a broker started, waited for and
    stopped in a temporary directory): later JVMs start about twice as fast.
    None when disabled (LINKOPS_LAB_KAFKA_CDS=0) or when it could not be made
    (the reason is in ``<cache>/.../cds-*.failed``; brokers then start without)."""
    if os.environ.get("LINKOPS_LAB_KAFKA_CDS", "1") in ("0", "false", "no"):
        return None
    jsa = cds_archive_path(libs, java)
    failed = jsa.with_suffix(".failed")
    if jsa.is_file():
        return jsa
    def recently_failed() -> bool:      # retried after a day (it may have been the load)
        return failed.exists() and time.time() - failed.stat().st_mtime < 86400

    if recently_failed():
        return None
    with _FileLock(libs.parent / "cds.lock"):
        if jsa.is_file():
            return jsa
        if recently_failed():
            return None
        tmp_jsa = jsa.with_name(f".{jsa.name}.{os.getpid()}.tmp")
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="cds-training-", dir=libs.parent) as tmp:
            try:
                b = start_many(["cds-training"], tmp, link_acls=False, jit="c1", warm_up=False, _cds=None,
                               _cds_dump=tmp_jsa)["cds-training"]
                b.stop(timeout=120)
                if not tmp_jsa.is_file():
                    raise ApacheKafkaError("the training JVM wrote no archive: "
                                           + _tail(b.log_path, 5))
                os.replace(tmp_jsa, jsa)
            except Exception as exc:  # noqa: BLE001 - CDS is only an optimisation
                failed.write_text(f"{type(exc).__name__}: {exc}\n")
                tmp_jsa.unlink(missing_ok=True)
                return None
        (libs.parent / "cds-seconds.txt").write_text(f"{time.monotonic() - t0:.2f}\n")
    return jsa


# --------------------------------------------------------------------------- TLS
def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if not exe:
        raise Unavailable("`openssl` is needed to make the lab CA and certificates "
                          f"(apt-get install openssl), {NOIDA_HINT}")
    proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    if proc.returncode != 0:
        raise ApacheKafkaError(f"openssl {args[0]} failed: {proc.stderr.strip()[-400:]}")


def ensure_ca(workdir: Path) -> tuple[Path, Path]:
    """The lab CA under ``<workdir>/tls`` (made at first use): (cert, key)."""
    tls = _private_dir(Path(workdir) / "tls")
    crt, key = tls / "ca.crt", tls / "ca.key"
    with _FileLock(tls / ".lock"):
        if crt.is_file() and key.is_file():
            return crt, key
        with tempfile.TemporaryDirectory(dir=tls) as tmp:
            t = Path(tmp)
            _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-sha256", "-days", "3650",
                     "-keyout", "ca.key", "-out", "ca.crt",
                     "-subj", f"/O=linkops lab/CN=linkops lab CA {secrets.token_hex(4)}",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=t)
            for name in ("ca.key", "ca.crt"):
                os.chmod(t / name, 0o600)
            os.replace(t / "ca.key", key)
            os.replace(t / "ca.crt", crt)
    return crt, key


def ensure_server_cert(workdir: Path, name: str,
                       hosts: Iterable[str] = ("127.0.0.1", "localhost")) -> Path:
    """A PEM key store for server ``name`` signed by the lab CA: private key
    (PKCS#8) + certificate + CA certificate in one file; returns its path."""
    ca_crt, ca_key = ensure_ca(workdir)
    tls = Path(workdir) / "tls"
    pem = tls / f"{name}.pem"
    with _FileLock(tls / ".lock"):
        if pem.is_file():
            return pem
        sans = ",".join(("IP:" if re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+:[0-9a-fA-F:]*", h)
                         else "DNS:") + h for h in hosts)
        with tempfile.TemporaryDirectory(dir=tls) as tmp:
            t = Path(tmp)
            (t / "ext.cnf").write_text(
                f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth,clientAuth\n")
            _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-keyout", "key.pem",
                     "-out", "req.csr", "-subj", f"/O=linkops lab/CN={name}", cwd=t)
            _openssl("x509", "-req", "-in", "req.csr", "-CA", str(ca_crt), "-CAkey", str(ca_key),
                     "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "825",
                     "-sha256", "-extfile", "ext.cnf", "-out", "crt.pem", cwd=t)
            data = ((t / "key.pem").read_text() + (t / "crt.pem").read_text()
                    + ca_crt.read_text())
            _write_private(pem, data)
    return pem


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
        jit = [] if main == "kafka.Kafka" and self.jit != "c1" else ["-XX:TieredStopAtLevel=1"]
        opts = [f"-Xmx{heap}", "-Xss1m", "-XX:+UseSerialGC", *jit,
                "-XX:-UsePerfData", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.dir / log4j}",
                f"-Dkafka.logs.dir={self.dir / 'logs'}"]
        if self.cds_dump is not None and main == "kafka.Kafka":
            opts.append(f"-XX:ArchiveClassesAtExit={self.cds_dump}")
        elif self.cds is not None and self.cds.is_file():
            opts.append(f"-XX:SharedArchiveFile={self.cds}")
        opts += os.environ.get("LINKOPS_LAB_KAFKA_JVM_OPTS", "").split()
        return [self.java, *opts, "-cp", classpath(self.libs), main, *args]

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


_TOOLS_LOG4J2 = """\
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
"""


def start_many(clusters: Iterable[str], workdir: str | os.PathLike, *,
               ports: dict[str, int] | None = None, keep_data: bool = False,
               die_with_parent: bool = True, link_acls: bool = True,
               users: dict[str, str] | None = None, ready_timeout: float = 120.0,
               version: str | None = None, jit: str | None = None,
               warm_up: bool = True, _cds: Any = "auto",
               _cds_dump: Path | None = None) -> dict[str, ApacheKafkaBroker]:
    """Start one broker per cluster name, in parallel; return them by name.

    ``ports``: fixed client ports by cluster (default free ones).
    ``keep_data``: reuse data, users, cluster id and ports of an earlier run in
    ``workdir`` (a restart); default: start empty with a new cluster id.
    ``jit``: ``"full"`` (default; env LINKOPS_LAB_KAFKA_JIT) or ``"c1"``: C1 only,
    about 3 CPU-s less per broker start, much slower under load (for test labs).
    ``warm_up``: load each broker's group coordinator and producer ids before it is
    handed out (``ApacheKafkaBroker._warm_up``: librdkafka's AdminClient crashes otherwise).
    ``link_acls``: grant ``User:link`` the LINK_ACLS (every cluster can be a
    link's source: reverse links, failback).  ``users``: extra SASL users
    (name -> password; PLAIN and SCRAM-SHA-512; with ``keep_data`` a user new
    to the data directory gets PLAIN only: SCRAM users are made at format time).
    On any failure every broker started here is stopped before the error is raised."""
    clusters = list(clusters)
    if len(set(clusters)) != len(clusters) or not clusters:
        raise ValueError(f"cluster names must be distinct and non-empty: {clusters}")
    java = check_java()
    libs = fetch(version)
    cds = ensure_cds(libs, java) if _cds == "auto" else _cds
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    ensure_ca(workdir)
    brokers: dict[str, ApacheKafkaBroker] = {}
    for name in clusters:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"bad cluster name {name!r}")
        bdir = workdir / f"{name}-kafka"
        if (bdir / "lab-broker.json").is_file() and ApacheKafkaBroker.attach(name, workdir).alive():
            raise ApacheKafkaError(f"the Apache Kafka broker of {name} in {workdir} is still "
                                   "running: stop it first")
        saved = {}
        if keep_data and (bdir / "lab-broker.json").is_file():
            saved = json.loads((bdir / "lab-broker.json").read_text())
        elif bdir.exists():
            shutil.rmtree(bdir)
        port = (ports or {}).get(name) or saved.get("port") or free_port()
        cport = saved.get("controller_port") or free_port()
        all_users = saved.get("users") or {SUPER_USER: secrets.token_urlsafe(18),
                                           LINK_USER: secrets.token_urlsafe(18)}
        for u, p in (users or {}).items():
            all_users.setdefault(u, p)
        b = ApacheKafkaBroker(name, workdir, port=port, controller_port=cport,
                              cluster_id=saved.get("cluster_id") or new_cluster_id(),
                              users=all_users, libs=libs, java=java,
                              die_with_parent=die_with_parent, cds=cds, cds_dump=_cds_dump,
                              jit=jit or saved.get("jit"))
        ensure_server_cert(workdir, f"{name}-broker")
        b._write_files()
        brokers[name] = b
    tls_s = round(time.monotonic() - t0, 2)
    fmts: dict[str, subprocess.Popen] = {}
    try:
        # format all in parallel (short-lived JVMs)
        t1 = time.monotonic()
        for name, b in brokers.items():
            (b.dir / "logs").mkdir(exist_ok=True)
            if (b.data_dir / "meta.properties").is_file():
                continue                        # keep_data: formatted already
            fmts[name] = subprocess.Popen(b._format_cmd(), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          cwd=b.dir, start_new_session=True,
                                          preexec_fn=_die_with_parent)
        for name, p in fmts.items():
            try:
                out, _ = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, _ = p.communicate()
            if p.returncode != 0:
                raise ApacheKafkaError(f"formatting the storage of {name} failed "
                                       f"({p.returncode}): {out.decode(errors='replace')[-800:]}")
        format_s = round(time.monotonic() - t1, 2)
        for b in brokers.values():
            b.timings.update(tls_s=tls_s, format_s=format_s)
            b._spawn()
        deadline = time.monotonic() + ready_timeout
        for b in brokers.values():
            b._wait_ready(deadline)
        for b in brokers.values():
            # ACLs live in the cluster metadata: once per data directory
            if link_acls and not (b.dir / "acls.done").exists():
                b._apply_link_acls()
                (b.dir / "acls.done").touch()
            if warm_up:
                b._warm_up()
            b.timings["total_s"] = round(time.monotonic() - t0, 2)
    except BaseException:
        for p in fmts.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for b in brokers.values():
            b.stop(timeout=5)
        raise
    return brokers


def start(cluster: str, workdir: str | os.PathLike, **kwargs: Any) -> ApacheKafkaBroker:
    """Start one broker; see ``start_many`` for the options."""
    port = kwargs.pop("port", None)
    if port:
        kwargs["ports"] = {cluster: port}
    return start_many([cluster], workdir, **kwargs)[cluster]


def wait(bootstrap: str, client_config: dict | None = None, timeout: float = 60.0) -> str:
    """Wait until the broker at ``bootstrap`` answers metadata with ``client_config``
    (e.g. a broker's ``client_config()``); return the cluster id it reports."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    adm = AdminClient({**(client_config or {}), "bootstrap.servers": bootstrap, "log_level": 0,
                       "socket.connection.setup.timeout.ms": 3000})
    deadline, last = time.monotonic() + timeout, None
    while True:
        try:
            md = adm.list_topics(timeout=2)
            if md.brokers and md.cluster_id:
                return md.cluster_id
        except KafkaException as exc:
            last = exc
        if time.monotonic() > deadline:
            raise ApacheKafkaError(f"{bootstrap} did not answer metadata within {timeout}s: {last}")
        time.sleep(0.2)


# --------------------------------------------------------------------------- the lab's kind interface
# (brokers/__init__.py; start_many above is part of it)
def marker(cluster: str, workdir: str | os.PathLike) -> str:
    """A string in the broker JVM's command line: its server.properties."""
    return str(Path(workdir).resolve() / f"{cluster}-kafka" / "server.properties")


def restart(cluster: str, workdir: str | os.PathLike, port: int | str | None = None, *,
            die_with_parent: bool = True, ready_timeout: float = READY_TIMEOUT) -> ApacheKafkaBroker:
    """The stopped broker of ``cluster`` again: same port, data, users and cluster id."""
    return start(cluster, workdir, keep_data=True, die_with_parent=die_with_parent,
                 port=int(port) if port else None, ready_timeout=ready_timeout)


def stop(proc: Any, timeout: float = 20.0) -> None:
    """Stop the broker of the lab's ``procs.Proc`` (SIGTERM to its group, then SIGKILL); data stays."""
    proc.stop(timeout)


def lab_entries(cluster: str, broker: ApacheKafkaBroker) -> dict[str, Any]:
    """What lab.json records of this cluster beyond its admin client_config."""
    return {f"{cluster}_java_client_properties": broker.java_client_properties(),
            f"{cluster}_link_credentials": {"username": LINK_USER,
                                           "password": broker.users[LINK_USER],
                                           "mechanisms": list(MECHANISMS)},
            "ca_file": str(broker.ca_file)}


# --------------------------------------------------------------------------- script
def _selfcheck(workdir: Path) -> dict:
    from confluent_kafka import Consumer, Producer
    out: dict[str, Any] = {}
    brokers = start_many(["source", "destination"], workdir)
    try:
        for name, b in brokers.items():
            adm = b._admin()
            from confluent_kafka.admin import NewTopic
            adm.create_topics([NewTopic("selfcheck", 1, 1)])["selfcheck"].result()
            for mech in MECHANISMS:
                p = Producer(b.client_config(SUPER_USER, mech))
                p.produce("selfcheck", mech.encode())
                assert p.flush(30) == 0
            c = Consumer({**b.client_config(SUPER_USER, "SCRAM-SHA-512"), "group.id": "sc",
                          "auto.offset.reset": "earliest"})
            c.subscribe(["selfcheck"])
            got = []
            end = time.monotonic() + 30
            while len(got) < 2 and time.monotonic() < end:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    got.append(m.value().decode())
            c.close()
            del p, adm                       # closed before the broker stops: no noise
            out[name] = {"cluster_id": b.cluster_id, "bootstrap": b.bootstrap,
                         "consumed": got, "timings": b.timings}
    finally:
        for b in brokers.values():
            b.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch", help="fetch the jars into the cache and make the CDS archive "
                                 "(once per machine)")
    up = sub.add_parser("up", help="start brokers, print their info as JSON, run until killed")
    up.add_argument("--workdir", required=True)
    up.add_argument("--keep-data", action="store_true")
    up.add_argument("clusters", nargs="*", default=["source", "destination"])
    sc = sub.add_parser("selfcheck", help="start two brokers, produce/consume, stop")
    sc.add_argument("--workdir")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "fetch":
            java = check_java()
            t0 = time.monotonic()
            d = fetch(quiet=False)
            t1 = time.monotonic()
            jsa = ensure_cds(d, java)
            man = json.loads((d / "MANIFEST.json").read_text())
            print(json.dumps({"libs": str(d), "fetch_seconds": round(t1 - t0, 2),
                              "cds_seconds": round(time.monotonic() - t1, 2),
                              "libs_bytes": _dir_size(d), "jars": len(man["jars"]),
                              "cds_archive": str(jsa) if jsa else None,
                              "cds_bytes": jsa.stat().st_size if jsa else 0,
                              "fetch_seconds_when_fetched": man.get("fetch_seconds")}))
        elif args.cmd == "up":
            brokers = start_many(args.clusters, args.workdir, keep_data=args.keep_data)
            # block them only now: the JVMs must not inherit a blocked SIGTERM
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            print(json.dumps({n: b.info() for n, b in brokers.items()}), flush=True)
            try:
                signal.sigwait({signal.SIGINT, signal.SIGTERM})
            finally:
                for b in brokers.values():
                    b.stop()
        elif args.cmd == "selfcheck":
            wd = Path(args.workdir or tempfile.mkdtemp(prefix="apache-kafka-selfcheck-"))
            print(json.dumps(_selfcheck(wd), indent=2))
    except ApacheKafkaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

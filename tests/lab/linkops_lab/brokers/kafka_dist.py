"""The jars and the JVM of the lab's Apache Kafka brokers (part of ``apache_kafka``): finding
Java 17+ (``find_java``/``check_java``), fetching ``org.apache.kafka:kafka_2.13``, ``kafka-tools``
and their runtime dependencies with Maven through ``tests/lab/maven/pom.xml`` into a per-machine
cache outside the git tree (``fetch``, ``libs_dir``, ``cache_root``: once per machine, behind a
file lock, renamed into place when complete), the class path and the class-data-sharing archive
of the broker's classes (``ensure_cds``), plus the kind's errors (``ApacheKafkaError``,
``Unavailable``) and the file lock they share. Standard library only."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

KAFKA_VERSION = "4.1.1"
MIN_JAVA = 17
HERE = Path(__file__).resolve().parent
POM = HERE.parents[1] / "maven" / "pom.xml"          # tests/lab/maven/pom.xml

NOIDA_HINT = ("or run the lighter lab without Java: `labctl.py up --brokers noida` "
              "(env LAB_BROKERS=noida)")


class ApacheKafkaError(RuntimeError):
    """The Apache Kafka broker kind is unavailable, or a broker could not start."""


class Unavailable(ApacheKafkaError):
    """A prerequisite is missing (Java 17+, Maven or the jar cache): skip, or use noida."""


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


# log4j2 of the Apache tools: WARN and above on stderr, nothing on stdout (stdout is the tool's output)
TOOLS_LOG4J2 = """\
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
"""


def jvm_command(java: str, libs: Path, main: str, *args: str, heap: str, log4j: Path,
                logs_dir: Path | None = None, c1_only: bool = True, cds: Path | None = None,
                cds_dump: Path | None = None) -> list[str]:
    """The java command line of a broker or an Apache tool class from the cached jars:
    small heap, serial GC, ``-XX:TieredStopAtLevel=1`` (C1 only: cheaper starts) unless
    ``c1_only=False``, ``log4j`` as the log4j2 configuration, the class-data-sharing archive
    ``cds`` when it exists (or ``cds_dump`` to write one at exit), then
    ``$LINKOPS_LAB_KAFKA_JVM_OPTS``."""
    opts = [f"-Xmx{heap}", "-Xss1m", "-XX:+UseSerialGC",
            *(["-XX:TieredStopAtLevel=1"] if c1_only else []),
            "-XX:-UsePerfData", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}"]
    if logs_dir is not None:
        opts.append(f"-Dkafka.logs.dir={logs_dir}")
    if cds_dump is not None:
        opts.append(f"-XX:ArchiveClassesAtExit={cds_dump}")
    elif cds is not None and cds.is_file():
        opts.append(f"-XX:SharedArchiveFile={cds}")
    opts += os.environ.get("LINKOPS_LAB_KAFKA_JVM_OPTS", "").split()
    return [java, *opts, "-cp", classpath(libs), main, *args]


def cds_archive_path(libs: Path, java: str) -> Path:
    ident = hashlib.sha256((os.path.realpath(java) + "\n" + _java_version_text(java)).encode())
    return libs.parent / f"cds-{ident.hexdigest()[:12]}.jsa"


def ensure_cds(libs: Path, java: str, *,
               start_many: Callable[..., dict[str, Any]] | None = None) -> Path | None:
    """A class-data-sharing archive of the broker's classes, made once per
    machine and JDK by a training run (a broker started, waited for and
    stopped in a temporary directory): later JVMs start about twice as fast.
    None when disabled (LINKOPS_LAB_KAFKA_CDS=0) or when it could not be made
    (the reason is in ``<cache>/.../cds-*.failed``; brokers then start without)."""
    if start_many is None:       # the training broker: ``apache_kafka.start_many``
        from .apache_kafka import start_many
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


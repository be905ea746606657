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

The kind lives in four modules, each re-exported here (import every name from
this one): ``kafka_dist`` (Java, the Maven fetch of the jars into the cache, the
CDS archive, the errors), ``lab_tls`` (the lab CA and certificates via openssl),
``kafka_broker`` (``ApacheKafkaBroker``: config, format, start/stop/attach/restart,
ACLs, client settings) and this one (``start_many`` and the lab's kind interface,
used by brokers/__init__.py, startup.py and lab.py; the script below).  The processes'
helpers come from ``linkops_lab.procs``.

These modules import only the standard library; ``confluent_kafka`` is
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

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

if __package__ != "linkops_lab.brokers":
    # loaded from its file (tests/lab/tests/test_brokers_apache_kafka.py, `python apache_kafka.py`):
    # its sibling modules are imported from the linkops_lab package in tests/lab
    import importlib.util
    if importlib.util.find_spec("linkops_lab") is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# The parts (re-exported here: every public name is importable from this module)
from linkops_lab.procs import free_port, pid_alive  # noqa: F401
from linkops_lab.brokers.kafka_dist import (  # noqa: F401
    HERE, KAFKA_VERSION, MIN_JAVA, NOIDA_HINT, POM, ApacheKafkaError, Unavailable, _FileLock,
    _dir_size, _java_version_text, _pom_hash, _tail, cache_root, cached_libs, cds_archive_path,
    check_available, check_java, classpath, find_java, fetch, java_version, kafka_version,
    libs_dir)
from linkops_lab.brokers.kafka_dist import ensure_cds as _ensure_cds
from linkops_lab.brokers.lab_tls import (  # noqa: F401
    _openssl, _private_dir, _write_private, ensure_ca, ensure_server_cert)
from linkops_lab.brokers.kafka_broker import (  # noqa: F401
    _LOG4J2, _PLAIN_MODULE, _SCRAM_MODULE, _TOOLS_LOG4J2, _WARM_UP_SCRIPT, LINK_ACLS, LINK_USER,
    MECHANISMS, SUPER_USER, ApacheKafkaBroker, _cmdline, _die_with_parent, jaas_config,
    jaas_quote, new_cluster_id, properties_escape, properties_text)

KIND = "apache-kafka"
# For the lab's kind interface (brokers/__init__.py): no extra librdkafka settings are needed
# beyond a broker's client_config(), and the clusters report their own distinct ids.
CLIENT_CONFIG: dict[str, str] = {}
DEFAULT_CLUSTER_IDS: dict[str, str] = {}
# links to these brokers connect with their own security configs (the emulator's link_security)
LINK_SECURITY = True
# the StandardAuthorizer: REST /acls and ACL sync use the brokers' ACLs (emulator/broker_acls.py)
BROKER_ACLS = True
READY_TIMEOUT = 180.0      # a JVM on a loaded 2-core machine: the lab waits at least this long


def ensure_cds(libs: Path, java: str) -> Path | None:
    """``kafka_dist.ensure_cds``: its training broker is started with ``start_many``."""
    return _ensure_cds(libs, java, start_many=start_many)


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

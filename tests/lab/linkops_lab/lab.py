"""The local Cluster Linking lab as a Python object.

Two Kafka-protocol brokers ("source" and "destination", of a broker kind in brokers/:
noida-db's Kafka service, the default, or Apache Kafka with SASL_SSL: ``kind="apache-kafka"``
or env LAB_BROKERS) plus the Cluster Linking emulator (Kafka REST v3 for each
cluster on its own port, see emulator/), each in its own process group, all
on 127.0.0.1. ``labctl.py`` (ctl.py) is the command-line face of this module.

Typical use in pytest (a session fixture)::

    from linkops_lab.lab import Lab   # tests/lab on the path (pytest.ini: pythonpath)

    @pytest.fixture(scope="session")
    def lab(tmp_path_factory):
        with Lab.start(tmp_path_factory.mktemp("lab")) as lab:   # or Lab.attach(".lab")
            yield lab

    def test_x(lab):
        lab.create_topic("source", "orders", partitions=3)
        lab.produce("source", "orders", [{"key": "k", "value": "v", "headers": {"h": "1"}}])
        status, body = lab.rest("GET", f"/v3/clusters/{lab.destination_cluster_id}/links")
        records = lab.consume("destination", "orders", group="g", commit=True)

``Lab.start(workdir, **options)`` starts everything and writes
``<workdir>/lab.json`` (mode 0600); ``Lab.attach(workdir)`` opens a lab that
``labctl.py up`` started; ``stop()`` (or leaving the ``with`` block) stops
what this object started, or with ``Lab.attach`` everything lab.json lists.
Attributes mirror lab.json: ``rest_url`` (``http://127.0.0.1:PORT/kafka``, or
``https://`` when the REST is served over TLS; append ``/v3/clusters/...``; the
destination cluster's REST), the same as ``destination_rest_url``,
``source_rest_url`` (the source cluster's REST, same credentials),
``rest_username``, ``rest_password``, ``rest_tls`` / ``rest_mtls`` (HTTPS; client
certificates required), ``rest_ca_path`` (the lab CA that signs the REST
certificate, or None over http), ``rest_client_cert`` / ``rest_client_key`` (a client
certificate of the lab CA and its key, with ``rest_mtls``; else None),
``rest_connection()`` (those as the modules' connection options),
``source_bootstrap``, ``destination_bootstrap``, ``source_cluster_id``,
``destination_cluster_id``, ``client_config`` (librdkafka settings every
client of the lab brokers needs; with apache-kafka brokers the per-cluster
``<cluster>_client_config`` adds SASL_SSL: use ``client_conf(cluster)``),
``kind`` (the broker kind), ``info`` (the whole lab.json dict).

Data helpers take ``cluster`` = ``"source"`` or ``"destination"``:
``create_topic``, ``produce``, ``produce_bench``, ``consume``,
``group_offsets``, ``end_offsets``, ``topics``, ``admin``, ``client_conf``.
Emulator helpers: ``rest`` (authenticated request to the emulator;
``cluster="source"`` sends it to the source cluster's REST), ``knobs``
(get/set lab timing knobs at run time).

Environment (read by ``Lab.start``): LAB_BROKERS (the broker kind: noida, the default, or
apache-kafka), LAB_SOURCE_BOOTSTRAP /
LAB_DESTINATION_BOOTSTRAP (use external clusters instead of starting brokers),
LAB_SOURCE_CLUSTER_ID / LAB_DESTINATION_CLUSTER_ID, LAB_SOURCE_CLIENT_CONFIG /
LAB_DESTINATION_CLIENT_CONFIG (JSON dicts of librdkafka settings),
LAB_REST_USERNAME / LAB_REST_PASSWORD, LAB_REST_TLS (1: HTTPS REST; 0: http; default
https with apache-kafka brokers, else http), LAB_REST_MTLS (1: HTTPS that requires a client
certificate), LAB_EMULATOR_PORT (destination REST) /
LAB_SOURCE_EMULATOR_PORT (source REST), LAB_SOURCE_PORT /
LAB_DESTINATION_PORT, LAB_EXTERNAL_READY_TIMEOUT (seconds to wait for an
external cluster, default 15), and the timing knobs LAB_PENDING_STOPPED_MS,
LAB_PENDING_MIRROR_MS, LAB_PENDING_SYNCHRONIZE_MS, LAB_PENDING_RESTORE_MS,
LAB_AUTO_CREATE_INTERVAL_MS, LAB_COPY_INTERVAL_MS, LAB_METADATA_INTERVAL_MS.
The start itself (brokers, emulator process, lab.json's entries) is startup.py's.
See docs/lab.md.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterable

from linkops_lab import brokers, kafka
from linkops_lab.errors import LabError
from linkops_lab.kafka import LabKafkaError
from linkops_lab.procs import Proc, pdeathsig_preexec, write_private
from linkops_lab.procs import pid_alive  # noqa: F401  (part of this module's API: the tests use it)
from linkops_lab.startup import CLUSTERS, rest_tls_choice, start_all


class Lab:
    """A running lab; see the module docstring."""

    def __init__(self, workdir: str | os.PathLike, info: dict, procs: list[Proc], owned: bool):
        self.workdir = Path(workdir).resolve()
        self.info = info
        self._procs = procs
        self._owned = owned
        self._admins: dict[str, Any] = {}
        self.kind = brokers.resolve(info.get("kind") or "noida")   # lab.json before kinds: noida
        for key in ("rest_url", "rest_username", "rest_password", "source_bootstrap",
                    "destination_bootstrap", "source_cluster_id", "destination_cluster_id",
                    "client_config"):
            setattr(self, key, info[key])
        # a lab.json written before the source cluster had its own REST: destination only
        self.destination_rest_url = info.get("destination_rest_url") or info["rest_url"]
        self.source_rest_url = info.get("source_rest_url")
        self.rest_tls = bool(info.get("rest_tls"))
        self.rest_mtls = bool(info.get("rest_mtls"))
        self.rest_ca_path = info.get("rest_ca_path")
        self.rest_client_cert = info.get("rest_client_cert")
        self.rest_client_key = info.get("rest_client_key")
        self._ssl_context = None
        if owned:
            atexit.register(self.stop)

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def start(cls, workdir: str | os.PathLike = ".lab", *, keep_data: bool = False,
              die_with_parent: bool = True, knobs: dict | None = None,
              ready_timeout: float = 60.0, kind: str | None = None,
              rest_tls: bool | None = None, rest_mtls: bool | None = None) -> "Lab":
        """Start brokers (unless external ones are configured) and the emulator.

        ``keep_data`` reuses broker data and emulator state left in ``workdir``
        by an earlier run (default: start empty). ``die_with_parent`` makes the
        children exit when this process dies (off for ``labctl up``; the
        apache-kafka JVMs die with the calling *thread*: start from the main one).
        ``knobs`` overrides emulator timing knobs (see docs/lab.md).
        ``kind``: the broker kind (brokers/: ``noida``, ``apache-kafka``; default
        ``$LAB_BROKERS``, else noida). ``rest_tls``: serve the REST over HTTPS with a
        certificate of the lab CA; ``rest_mtls``: HTTPS that requires a client certificate
        of the lab CA (default: ``rest_tls_choice``)."""
        kind = brokers.resolve(kind)
        tls = rest_tls_choice(kind, rest_tls, rest_mtls)
        workdir = Path(workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        existing = workdir / "lab.json"
        if existing.exists():
            try:
                other = cls.attach(workdir)
            except LabError:
                other = None
            if other is not None and any(p.alive() for p in other._procs):
                raise LabError(f"a lab is already running in {workdir} (labctl.py down first)")
            existing.unlink()
        procs: list[Proc] = []
        preexec = pdeathsig_preexec if die_with_parent else None
        try:
            info = start_all(workdir, procs, keep_data, preexec, knobs or {}, ready_timeout,
                             kind, die_with_parent, tls, lambda info: cls(workdir, info, [], owned=False))
        except BaseException:
            for p in reversed(procs):
                p.stop()
            raise
        write_private(existing, json.dumps(info, indent=2) + "\n")
        # with die_with_parent the lab also stops when this interpreter exits normally
        return cls(workdir, info, procs, owned=die_with_parent)

    @classmethod
    def attach(cls, workdir: str | os.PathLike = ".lab") -> "Lab":
        """Open the lab described by ``<workdir>/lab.json`` (started by labctl up)."""
        path = Path(workdir).resolve() / "lab.json"
        try:
            info = json.loads(path.read_text())
        except FileNotFoundError:
            raise LabError(f"no lab in {Path(workdir).resolve()} (no lab.json): run labctl.py up") from None
        except json.JSONDecodeError as exc:
            raise LabError(f"{path} is not valid JSON: {exc}") from None
        kind = brokers.get(info.get("kind") or "noida")
        markers = {"source_broker": kind.marker("source", Path(workdir).resolve()),
                   "destination_broker": kind.marker("destination", Path(workdir).resolve()),
                   "emulator": info.get("emulator_config", "serve-emulator")}
        procs = [Proc(name, pid, markers.get(name, ""))
                 for name, pid in info.get("pids", {}).items()]
        # stop order: emulator first
        procs.sort(key=lambda p: p.name != "emulator")
        procs.reverse()
        return cls(workdir, info, procs, owned=False)

    def stop(self) -> None:
        """Stop every process of this lab (emulator first) and wait for exit."""
        self._admins.clear()  # close our connections first (no "disconnected" noise)
        for p in sorted(self._procs, key=lambda p: p.name != "emulator"):
            p.stop()
        self._procs = []
        try:
            atexit.unregister(self.stop)
        except Exception:
            pass

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def processes(self) -> dict[str, dict]:
        return {p.name: {"pid": p.pid, "alive": p.alive()} for p in self._procs}

    # ------------------------------------------------------------------ faults
    def stop_broker(self, cluster: str, timeout: float = 15.0) -> bool:
        """Stop the lab broker of ``cluster`` (SIGTERM; its data stays: noida-db keeps
        its records and committed offsets in ``<workdir>/<cluster>-data``, Apache
        Kafka everything in ``<workdir>/<cluster>-kafka``), e.g. to see a link go
        UNAVAILABLE. Returns False when it was not running."""
        self._check(cluster)
        if self.info.get("external", {}).get(cluster):
            raise LabError(f"the {cluster} cluster is external ({self.bootstrap(cluster)}): "
                           "the lab cannot stop it")
        proc = self._broker_proc(cluster)
        self._admins.pop(cluster, None)
        if proc is None:
            return False
        brokers.get(self.kind).stop(proc, timeout)
        return True

    def _broker_proc(self, cluster: str) -> "Proc | None":
        """The running broker process of ``cluster``: one this object started,
        or the one lab.json names (e.g. started by ``labctl.py start-broker``)."""
        name = f"{cluster}_broker"
        procs = [p for p in self._procs if p.name == name]
        try:
            pid = json.loads((self.workdir / "lab.json").read_text()).get("pids", {}).get(name)
        except (OSError, ValueError):
            pid = None
        if pid and all(p.pid != pid for p in procs):
            procs.append(Proc(name, pid, brokers.get(self.kind).marker(cluster, self.workdir)))
        return next((p for p in procs if p.alive()), None)

    def start_broker(self, cluster: str, ready_timeout: float = 60.0) -> bool:
        """Start the lab broker of ``cluster`` again on the same port with the
        same data directory (after ``stop_broker``). Returns False when it was
        already running."""
        self._check(cluster)
        if self.info.get("external", {}).get(cluster):
            raise LabError(f"the {cluster} cluster is external: the lab cannot start it")
        name = f"{cluster}_broker"
        if self._broker_proc(cluster) is not None:
            return False
        port = self.bootstrap(cluster).rsplit(":", 1)[1]
        kind = brokers.get(self.kind)
        try:
            b = kind.restart(cluster, self.workdir, port, die_with_parent=self._owned,
                             ready_timeout=max(ready_timeout, getattr(kind, "READY_TIMEOUT", 0)))
        except LabError:
            raise
        except RuntimeError as exc:
            raise LabError(f"{cluster} broker did not come back on {self.bootstrap(cluster)}: "
                           f"{exc}") from None
        self._procs = [p for p in self._procs if p.name != name] + [
            Proc(name, b.pid, kind.marker(cluster, self.workdir), b.popen)]
        self.info.setdefault("pids", {})[name] = b.pid
        write_private(self.workdir / "lab.json", json.dumps(self.info, indent=2) + "\n")
        return True

    def broker_data_path(self, cluster: str) -> Path:
        """Where the lab broker of ``cluster`` keeps its data."""
        self._check(cluster)
        return self.workdir / (f"{cluster}-kafka" if self.kind == "apache-kafka" else f"{cluster}-data")

    def health(self) -> dict[str, str]:
        """``{component: "ok" | error}`` for both clusters and the emulator."""
        out = {}
        for role in CLUSTERS:
            try:
                kafka.wait_ready(self.bootstrap(role), self._extra(role), timeout=3)
                out[role] = "ok"
            except LabKafkaError as exc:
                out[role] = str(exc)
        problems = []
        for role in CLUSTERS:
            if role == "source" and not self.source_rest_url:
                continue
            try:
                status, body = self.rest("GET", "/lab/v1/health", timeout=3, cluster=role)
                if status != 200:
                    problems.append(f"{role} REST: HTTP {status}: {body}")
            except (OSError, LabError) as exc:
                problems.append(f"{role} REST: {exc}")
        out["emulator"] = "; ".join(problems) or "ok"
        return out

    # ------------------------------------------------------------------ emulator access
    def rest_url_of(self, cluster: str) -> str:
        """The REST base URL (``http://127.0.0.1:PORT/kafka``, ``https://`` over TLS) of ``cluster``."""
        self._check(cluster)
        url = self.destination_rest_url if cluster == "destination" else self.source_rest_url
        if not url:
            raise LabError(f"this lab has no REST server for the {cluster} cluster (lab.json "
                           "predates it: restart the lab)")
        return url

    def rest_connection(self, cluster: str = "destination") -> dict[str, str]:
        """The modules' REST connection options for ``cluster``: rest_url, rest_username,
        rest_password, cluster_id, and over HTTPS ca_path (plus client_cert and client_key
        with mTLS)."""
        out = {"rest_url": self.rest_url_of(cluster), "rest_username": self.rest_username,
               "rest_password": self.rest_password, "cluster_id": self.cluster_id(cluster)}
        for option, value in (("ca_path", self.rest_ca_path), ("client_cert", self.rest_client_cert),
                              ("client_key", self.rest_client_key)):
            if value and self.rest_tls:
                out[option] = value
        return out

    def ssl_context(self):
        """The ``ssl.SSLContext`` of the lab's own HTTPS requests (None over http)."""
        if not self.rest_tls:
            return None
        if self._ssl_context is None:
            from linkops_lab.brokers import lab_tls
            self._ssl_context = lab_tls.client_context(self.rest_ca_path, self.rest_client_cert,
                                                       self.rest_client_key)
        return self._ssl_context

    def rest(self, method: str, path: str, body: Any = None, *, params: dict | None = None,
             auth: tuple[str, str] | None | bool = True, timeout: float = 30.0,
             raw_body: bytes | None = None, cluster: str = "destination") -> tuple[int, Any]:
        """Request to the emulator's REST server of ``cluster`` ("destination",
        the default, or "source"). ``path`` starts with ``/kafka/v3``, ``/v3`` or
        ``/lab``. Returns ``(status, parsed JSON body or None)``."""
        from urllib.parse import urlencode
        rest_url = self.rest_url_of(cluster)
        base = rest_url[: -len("/kafka")] if rest_url.endswith("/kafka") else rest_url
        url = base + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(
                {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in params.items()})
        data = raw_body if raw_body is not None else (
            json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if auth:
            user, pw = auth if isinstance(auth, tuple) else (self.rest_username, self.rest_password)
            req.add_header("Authorization",
                           "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode())
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context()) as resp:
                status, payload, ctype = resp.status, resp.read(), resp.headers.get("Content-Type")
        except urllib.error.HTTPError as exc:
            status, payload, ctype = exc.code, exc.read(), exc.headers.get("Content-Type")
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ConnectionRefusedError):   # say why, in CI's output too
                raise urllib.error.URLError(f"{exc.reason} ({url}): {self._emulator_state()}") from exc
            raise
        if payload and ctype and "json" in ctype:
            return status, json.loads(payload)
        return status, (payload.decode() if payload else None)

    def _emulator_state(self) -> str:
        """Whether the emulator process runs, and the last lines of its log that are not request or
        librdkafka lines (what a refused connection needs explained); a line that names a password or
        a JAAS config is left out."""
        procs = self.processes().get("emulator")
        state = ("the emulator process is not one this object tracks" if procs is None else
                 f"the emulator process {procs['pid']} is {'running' if procs['alive'] else 'gone'}")
        try:
            lines = Path(self.info["logs"]["emulator"]).read_text(errors="replace").splitlines()
        except (KeyError, OSError):
            return state
        wanted = [line for line in lines if not line.startswith("%") and " -> " not in line][-15:]
        return state + "; the end of its log:\n" + "\n".join(
            "[a line naming a password or JAAS config, left out]"
            if "password" in line.lower() or "jaas" in line.lower() else line for line in wanted)

    def knobs(self, **changes: Any) -> dict:
        """Read or change emulator knobs at run time (e.g. ``copy_paused=True``,
        ``pending_stopped_ms=2000``); returns the current values."""
        status, body = self.rest("PUT" if changes else "GET", "/lab/v1/knobs",
                                 changes if changes else None)
        if status != 200:
            raise LabError(f"knobs: HTTP {status}: {body}")
        return body

    # ------------------------------------------------------------------ Kafka helpers
    def bootstrap(self, cluster: str) -> str:
        self._check(cluster)
        return self.info[f"{cluster}_bootstrap"]

    def cluster_id(self, cluster: str) -> str:
        self._check(cluster)
        return self.info[f"{cluster}_cluster_id"]

    def _extra(self, cluster: str) -> dict:
        return self.info.get(f"{cluster}_client_config") or self.client_config

    @staticmethod
    def _check(cluster: str) -> None:
        if cluster not in CLUSTERS:
            raise ValueError(f"cluster must be 'source' or 'destination', not {cluster!r}")

    def client_conf(self, cluster: str, kind: str = "consumer", **overrides: Any) -> dict:
        """A complete librdkafka config for a client of ``cluster``."""
        return kafka.client_conf(self.bootstrap(cluster), self._extra(cluster), kind=kind,
                                 **overrides)

    def admin(self, cluster: str):
        if cluster not in self._admins:
            self._admins[cluster] = kafka.admin(self.bootstrap(cluster), self._extra(cluster))
        return self._admins[cluster]

    def create_topic(self, cluster: str, topic: str, partitions: int = 1,
                     config: dict | None = None) -> None:
        kafka.create_topic(self.admin(cluster), topic, partitions, config)

    def topics(self, cluster: str) -> dict[str, int]:
        """``{topic: partition count}`` (internal topics included)."""
        return kafka.topic_partitions(self.admin(cluster))

    def produce(self, cluster: str, topic: str, records: Iterable[Any]) -> int:
        """Produce records (dicts ``{value, key?, partition?, headers?, timestamp?}``
        or plain values) and wait for delivery."""
        return kafka.produce(self.bootstrap(cluster), topic, records, self._extra(cluster))

    def produce_bench(self, cluster: str, topic: str, count: int, size: int) -> dict:
        return kafka.produce_bench(self.bootstrap(cluster), topic, count, size,
                                   self._extra(cluster))

    def consume(self, cluster: str, topic: str, *, group: str | None = None, commit: bool = False,
                max_records: int | None = None, timeout: float = 30.0) -> list[dict]:
        """Records from the beginning (or ``group``'s committed offsets) to the end
        as dicts ``{partition, offset, key, value, timestamp, headers}``."""
        return kafka.consume(self.bootstrap(cluster), topic, group=group, commit=commit,
                             max_records=max_records, extra=self._extra(cluster),
                             timeout=timeout)

    def group_offsets(self, cluster: str, group: str) -> dict[str, dict[int, int]]:
        """Committed offsets ``{topic: {partition: offset}}`` of ``group``."""
        return kafka.committed_offsets(self.admin(cluster), group)

    def end_offsets(self, cluster: str, topic: str) -> dict[int, int]:
        """High watermarks ``{partition: offset}`` of ``topic``."""
        return kafka.end_offsets(self.admin(cluster), topic)

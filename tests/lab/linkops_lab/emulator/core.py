"""Cluster Linking emulator of the lab: Kafka REST v3 for every lab cluster.

Serves the Cluster Linking part of the Confluent Cloud Kafka REST v3 contract
(``/kafka/v3/clusters/...`` and ``/v3/clusters/...``) for each lab cluster on
its own port (like one Confluent Server per cluster), keeps link and mirror
state per cluster (persisted to a JSON file), and really copies records from
the remote cluster of a link into the mirror topics on the cluster that holds
the link, preserving partitions, offsets, keys, values, headers and
timestamps. Link modes DESTINATION, SOURCE and BIDIRECTIONAL with connection
modes OUTBOUND and INBOUND; the mirror state machine with the PENDING_*,
reverse and truncate-and-restore phases. It also syncs committed consumer
group offsets and topic configs and auto-creates mirrors from topic filters.
docs/lab.md lists where it differs from Confluent Server.

Run it with ``labctl.py serve-emulator --config FILE`` (the lab does this);
the config file is JSON::

    {"host": "127.0.0.1", "username": "lab", "password": "...",
     "clusters": [
        {"name": "destination", "cluster_id": "...", "bootstrap": "...", "client_config": {},
         "port": 0},
        {"name": "source", "cluster_id": "...", "bootstrap": "...", "client_config": {},
         "port": 0}],
     "state_file": "...", "port_file": "...",
     "knobs": {"pending_stopped_ms": 500, ...}}

A cluster with a ``port`` (0: any free port) gets a REST server; one without
is only known as a remote cluster (bootstrap -> cluster id). The port file
receives ``{"<name>": port, ...}``. The older single-cluster form
(``"destination": {...}``, ``"port"``, ``"clusters": [remote, ...]``) is still
read: only the destination is served then.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import signal
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
)

from linkops_lab import kafka
from linkops_lab.emulator import acls, contract_hook, faults
from linkops_lab.emulator.linkconfigs import (
    CONFIG_DEFS,
    ConfigValueError,
    check_value,
    filters_match,
    parse_name_filters,
)

log = logging.getLogger("lab.emulator")

DEFAULT_KNOBS = {
    # how long a mirror stays PENDING_STOPPED after promote/failover
    "pending_stopped_ms": 500,
    # how long a new mirror stays PENDING_MIRROR before it turns ACTIVE
    "pending_mirror_ms": 200,
    # reverse-and-start/pause-mirror: minimum time in PENDING_SYNCHRONIZE (it also
    # waits until the data has caught up)
    "pending_synchronize_ms": 500,
    # truncate-and-restore: time in PENDING_SETUP_FOR_RESTORE and in PENDING_RESTORE each
    "pending_restore_ms": 500,
    # most filler records the lab writes to start a mirror partition above offset 0
    # (mirror.start.offset.spec=latest or a timestamp, restore from a truncated log)
    "start_offset_fill_limit": 1000000,
    # how often auto-create looks for new source topics
    "auto_create_interval_ms": 1000,
    # how often an idle link looks for new records
    "copy_interval_ms": 100,
    # how often the source cluster's metadata is refreshed
    "metadata_interval_ms": 500,
    # lab-only: stop copying records on every link (lag builds up)
    "copy_paused": False,
    # max time one copy round may take before state is re-read
    "copy_round_ms": 2000,
    # lab-only fault injection for REST clients: a list of
    # {"status": 429|5xx|..., "count": N, "method": "GET"?, "path_contains": "..."?};
    # matching authenticated /v3 requests get that status (429: Jetty HTML page,
    # others: {"error_code": 50003 or status, "message": ...}) until count is used up
    "inject_errors": [],
    # lab-only REST faults by fraction ({"503": 0.2, "429": 0.1, "drop": 0.05,
    # "latency_ms": 200, ...}; see faults.py); LAB_FAULTS sets it at start
    "faults": {},
    # source availability check when a link does not set availability.check.ms /
    # availability.check.consecutive.failure.threshold (Confluent: 60000 ms x 5)
    "availability_check_ms": 500,
    "availability_check_threshold": 2,
}

MIRROR_STATUSES = ("ACTIVE", "FAILED", "LINK_FAILED", "LINK_PAUSED", "PAUSED", "PENDING_STOPPED",
                   "SOURCE_UNAVAILABLE", "STOPPED", "PENDING_MIRROR", "PENDING_SYNCHRONIZE",
                   "PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE")

PENDING_STATUSES = ("PENDING_MIRROR", "PENDING_STOPPED", "PENDING_SYNCHRONIZE",
                    "PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE")
LINK_MODES = ("DESTINATION", "SOURCE", "BIDIRECTIONAL")
CONNECTION_MODES = ("OUTBOUND", "INBOUND")
# the create-request field that names the remote cluster, per link.mode
REMOTE_ID_FIELD = {"DESTINATION": "source_cluster_id", "SOURCE": "destination_cluster_id",
                   "BIDIRECTIONAL": "remote_cluster_id"}
REMOTE_LINK_NOT_FOUND = "REMOTE_LINK_NOT_FOUND_ERROR"
REVERSE_ACTIONS = ("reverse-and-start-mirror", "reverse-and-pause-mirror")
# batch mirror actions (Cloud names) and the Confluent Platform names accepted for them
MIRROR_ACTIONS = ("promote", "failover", "pause", "resume", "reverse-and-start-mirror",
                  "reverse-and-pause-mirror", "truncate-and-restore")
ACTION_ALIASES = {"promote-local-and-start-remote-mirror": "reverse-and-start-mirror",
                  "promote-local-and-pause-remote-mirror": "reverse-and-pause-mirror"}

LINK_NAME_RE = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
TOPIC_NAME_RE = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


def now_ms() -> int:
    return int(time.time() * 1000)


def new_cluster_link_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class ApiError(Exception):
    def __init__(self, status: int, error_code: int, message: str):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, 40002, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, 404, message)


# --------------------------------------------------------------------------- state

class Mirror:
    def __init__(self, link_name: str, name: str, source_topic: str, num_partitions: int,
                 status: str = "PENDING_MIRROR"):
        self.link_name = link_name
        self.name = name
        self.source_topic = source_topic
        self.num_partitions = num_partitions
        self.status = status
        self.state_time_ms = now_ms()
        self.error = "NO_ERROR"
        self.transition_errors: list[dict] = []
        self.pending_until = 0.0
        self.stop_kind: str | None = None
        self.frozen_lags: list[dict] | None = None
        # partition -> next destination offset the link expects to write
        self.expected: dict[int, int] = {}
        # partition -> source high watermark seen at the last fetch
        self.last_fetch: dict[int, int] = {}
        # topic configs the link copied from the source topic
        self.synced_configs: dict[str, str] = {}
        # partition -> log end offset when the mirror became STOPPED (truncate-and-restore
        # on the old primary truncates to these)
        self.stop_offsets: dict[int, int] | None = None
        # reverse-and-start/pause: state of the remote side's new mirror (ACTIVE/PAUSED)
        self.reverse_to: str | None = None
        # truncate-and-restore: partition -> offset the local topic is truncated to
        self.truncate_to: dict[int, int] | None = None
        # truncate-and-restore: what was truncated ([{partition_id, offset_truncated_to,
        # messages_truncated}])
        self.truncation: list[dict] | None = None

    def set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.state_time_ms = now_ms()

    def fail(self, error: str, message: str) -> None:
        log.warning("mirror %s of link %s FAILED: %s (%s)", self.name, self.link_name, message, error)
        self.error = error
        self.transition_errors.append({"error_code": "INTERNAL_ERROR", "error_message": message})
        self.set_status("FAILED")

    def to_state(self) -> dict:
        return {"name": self.name, "source_topic": self.source_topic,
                "num_partitions": self.num_partitions, "status": self.status,
                "state_time_ms": self.state_time_ms, "error": self.error,
                "transition_errors": self.transition_errors, "stop_kind": self.stop_kind,
                "frozen_lags": self.frozen_lags, "synced_configs": self.synced_configs,
                "stop_offsets": self.stop_offsets, "reverse_to": self.reverse_to,
                "truncate_to": self.truncate_to, "truncation": self.truncation}

    @classmethod
    def from_state(cls, link_name: str, st: dict) -> "Mirror":
        m = cls(link_name, st["name"], st["source_topic"], st["num_partitions"], st["status"])
        m.state_time_ms = st["state_time_ms"]
        m.error = st.get("error", "NO_ERROR")
        m.transition_errors = st.get("transition_errors", [])
        m.stop_kind = st.get("stop_kind")
        m.frozen_lags = st.get("frozen_lags")
        m.synced_configs = st.get("synced_configs") or {}
        m.stop_offsets = {int(p): o for p, o in (st.get("stop_offsets") or {}).items()} or None
        m.reverse_to = st.get("reverse_to")
        m.truncate_to = {int(p): o for p, o in (st.get("truncate_to") or {}).items()} or None
        m.truncation = st.get("truncation")
        if m.status in PENDING_STATUSES:
            m.pending_until = time.monotonic()
        return m


class Link:
    """A cluster link held by the cluster ``cluster_id`` (the cluster whose REST
    created it); ``remote_cluster_id`` is the cluster at the other end."""

    def __init__(self, name: str, remote_cluster_id: str, configs: dict[str, str | None],
                 cluster_id: str | None = None):
        self.name = name
        self.cluster_link_id = new_cluster_link_id()
        self.link_id = str(uuid.uuid4())
        self.remote_cluster_id = remote_cluster_id
        self.cluster_id = cluster_id    # the local cluster (set by the emulator)
        self.configs = configs          # dynamic configs only
        self.created_ms = now_ms()
        self.mirrors: dict[str, Mirror] = {}
        self.available = True
        self.link_error = "NO_ERROR"
        self.link_error_message: str | None = None
        self.task_errors: dict[str, list[dict]] = {}

    def config(self, name: str) -> str | None:
        if name in self.configs:
            return self.configs[name]
        return CONFIG_DEFS[name].default

    def flag(self, name: str) -> bool:
        return (self.config(name) or "false").lower() == "true"

    def int_config(self, name: str) -> int:
        return int(self.config(name) or CONFIG_DEFS[name].default or 0)

    @property
    def paused(self) -> bool:
        return self.flag("cluster.link.paused")

    @property
    def prefix(self) -> str:
        return self.config("cluster.link.prefix") or ""

    @property
    def mode(self) -> str:
        return (self.config("link.mode") or "DESTINATION").upper()

    @property
    def connection_mode(self) -> str:
        return (self.config("connection.mode") or "OUTBOUND").upper()

    @property
    def source_cluster_id(self) -> str | None:
        """The cluster this link's mirrors copy from (the remote one), or for a
        SOURCE-mode link its own cluster."""
        return self.cluster_id if self.mode == "SOURCE" else self.remote_cluster_id

    def to_state(self) -> dict:
        return {"name": self.name, "cluster_link_id": self.cluster_link_id, "link_id": self.link_id,
                "cluster_id": self.cluster_id, "remote_cluster_id": self.remote_cluster_id,
                "configs": self.configs, "created_ms": self.created_ms,
                "mirrors": [m.to_state() for m in self.mirrors.values()]}

    @classmethod
    def from_state(cls, st: dict, cluster_id: str | None = None) -> "Link":
        remote = st.get("remote_cluster_id") or st.get("source_cluster_id")
        link = cls(st["name"], remote, st["configs"], st.get("cluster_id") or cluster_id)
        link.cluster_link_id = st["cluster_link_id"]
        link.link_id = st["link_id"]
        link.created_ms = st["created_ms"]
        for ms in st.get("mirrors", []):
            m = Mirror.from_state(link.name, ms)
            link.mirrors[m.name] = m
        return link


def display_status(link: Link, m: Mirror) -> str:
    if m.status in ("ACTIVE", "PAUSED") and not link.available:
        return "SOURCE_UNAVAILABLE"
    if m.status == "ACTIVE" and link.paused:
        return "LINK_PAUSED"
    return m.status


class Cluster:
    """A Kafka cluster the emulator knows. A served one (``port`` not None) has
    its own REST server and holds links."""

    def __init__(self, name: str, cluster_id: str, bootstrap: str, client_config: dict | None,
                 port: int | None = None):
        self.name = name
        self.cluster_id = cluster_id
        self.bootstrap = bootstrap
        self.client_config = dict(client_config or {})
        self.port = port
        self.links: dict[str, Link] = {}

    @property
    def served(self) -> bool:
        return self.port is not None


def config_clusters(config: dict) -> list[Cluster]:
    """The clusters of an emulator config (see the module docstring), served first."""
    out: list[Cluster] = []
    if "destination" in config:  # the single-cluster form
        d = config["destination"]
        out.append(Cluster("destination", d["cluster_id"], d["bootstrap"], d.get("client_config"),
                           int(config.get("port", 0))))
        for i, c in enumerate(config.get("clusters", [])):
            port = c.get("port")
            out.append(Cluster(c.get("name") or f"remote{i}", c["cluster_id"], c["bootstrap"],
                               c.get("client_config"), None if port is None else int(port)))
    else:
        for i, c in enumerate(config["clusters"]):
            port = c.get("port")
            out.append(Cluster(c.get("name") or f"cluster{i}", c["cluster_id"], c["bootstrap"],
                               c.get("client_config"), None if port is None else int(port)))
    ids = [c.cluster_id for c in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"emulator config: cluster ids must differ: {ids}")
    if not any(c.served for c in out):
        raise ValueError("emulator config: no cluster has a 'port' to serve")
    return sorted(out, key=lambda c: not c.served)


# --------------------------------------------------------------------------- emulator

class Emulator:
    def __init__(self, config: dict):
        self.config = config
        self.lock = threading.RLock()
        self.knobs = dict(DEFAULT_KNOBS)
        self.knobs.update(config.get("knobs") or {})
        clusters = config_clusters(config)
        self.clusters: dict[str, Cluster] = {c.cluster_id: c for c in clusters}
        served = [c for c in clusters if c.served]
        dest = next((c for c in served if c.name == "destination"), served[0])
        # the default cluster (the destination): code that predates several served
        # clusters uses these, and ``links`` (that cluster's links by name)
        self.cluster_id: str = dest.cluster_id
        self.dest_bootstrap: str = dest.bootstrap
        self.dest_client_config: dict = dest.client_config
        # bootstrap (normalised) -> (cluster id, client config)
        self.known: dict[frozenset, tuple[str, dict]] = {}
        for c in clusters:
            self.known[self._norm(c.bootstrap)] = (c.cluster_id, c.client_config)
        self.state_file: str | None = config.get("state_file")
        # (cluster id, link name) -> worker
        self.workers: dict[tuple[str, str], LinkWorker] = {}
        self._admins: dict[str, AdminClient] = {}
        self.dest_admin = self.admin_for(self.dest_bootstrap)
        self.stopping = threading.Event()
        self.acls = acls.AclStore(on_change=self.save)  # ACLs of every lab cluster (acls.py)
        self._load()

    # -- clusters
    @property
    def links(self) -> dict[str, "Link"]:
        """The default (destination) cluster's links by name."""
        return self.clusters[self.cluster_id].links

    def served(self) -> list[Cluster]:
        return [c for c in self.clusters.values() if c.served]

    def cluster(self, cid: str | None = None) -> Cluster:
        return self.clusters[cid or self.cluster_id]

    def all_links(self) -> list[Link]:
        with self.lock:
            return [l for c in self.served() for l in c.links.values()]

    def local_cluster(self, link: Link) -> Cluster:
        return self.clusters[link.cluster_id or self.cluster_id]

    def local_admin(self, link: Link) -> AdminClient:
        return self.admin_for(self.local_cluster(link).bootstrap)

    def cluster_admin(self, cid: str | None = None) -> AdminClient:
        return self.admin_for(self.cluster(cid).bootstrap)

    def peer_link(self, link: Link) -> Link | None:
        """The same-named link on the remote cluster that forms a pair with
        ``link`` (SOURCE <-> DESTINATION, BIDIRECTIONAL <-> BIDIRECTIONAL), if the
        remote cluster is one of the emulator's clusters and has it."""
        remote = self.clusters.get(link.remote_cluster_id)
        if remote is None or not remote.served:
            return None
        peer = remote.links.get(link.name)
        if peer is None or peer.remote_cluster_id != link.cluster_id:
            return None
        if not self.pairs(link.mode, link.connection_mode, peer.mode, peer.connection_mode):
            return None
        return peer

    @staticmethod
    def pairs(mode: str, conn: str, other_mode: str, other_conn: str) -> bool:
        """Whether two same-named links on two clusters are the halves of one
        link: SOURCE with DESTINATION/INBOUND (source-initiated), or two
        BIDIRECTIONAL ones."""
        if mode == "BIDIRECTIONAL" or other_mode == "BIDIRECTIONAL":
            return mode == other_mode
        if mode == "SOURCE":
            return other_mode == "DESTINATION" and other_conn == "INBOUND"
        return other_mode == "SOURCE" and conn == "INBOUND"

    def connection(self, link: Link) -> tuple[str | None, str | None, str | None]:
        """How ``link`` reaches its remote cluster: ``(bootstrap, error, message)``.

        OUTBOUND links connect to ``bootstrap.servers``. An INBOUND link waits for
        the remote cluster to connect: it works only while the remote cluster has
        the same-named OUTBOUND link pointing at this cluster (the emulator then
        reaches the remote cluster at its own bootstrap). A SOURCE link is only
        usable once the destination holds its DESTINATION/INBOUND half."""
        peer = self.peer_link(link)
        local = self.local_cluster(link)
        if link.connection_mode == "INBOUND":
            if peer is None or peer.connection_mode != "OUTBOUND":
                want = ("link.mode=SOURCE" if link.mode == "DESTINATION" else
                        "link.mode=BIDIRECTIONAL, connection.mode=OUTBOUND")
                return None, REMOTE_LINK_NOT_FOUND, (
                    f"Cluster link '{link.name}' is INBOUND: it waits for cluster "
                    f"'{link.remote_cluster_id}' to connect with a link of the same name "
                    f"({want}) pointing at cluster '{local.cluster_id}', and there is none.")
            return self.clusters[peer.cluster_id].bootstrap, None, None
        bootstrap = link.config("bootstrap.servers")
        if link.mode == "SOURCE" and (peer is None or peer.connection_mode != "INBOUND"):
            return bootstrap, REMOTE_LINK_NOT_FOUND, (
                f"Source cluster link '{link.name}' has no destination half: create link "
                f"'{link.name}' with link.mode=DESTINATION and connection.mode=INBOUND on "
                f"cluster '{link.remote_cluster_id}'.")
        return bootstrap, None, None

    def remote_bootstrap(self, link: Link) -> str | None:
        """Bootstrap of the cluster ``link``'s mirrors copy from, or None when the
        link has no connection to it."""
        bootstrap, error, _ = self.connection(link)
        return None if error else bootstrap

    # -- helpers
    @staticmethod
    def _norm(bootstrap: str) -> frozenset:
        out = set()
        for hp in bootstrap.split(","):
            hp = hp.strip()
            for pfx in ("PLAINTEXT://", "SASL_PLAINTEXT://", "SSL://", "SASL_SSL://"):
                if hp.upper().startswith(pfx):
                    hp = hp[len(pfx):]
            host, _, port = hp.rpartition(":")
            if host in ("localhost", "::1", "[::1]"):
                host = "127.0.0.1"
            out.add(f"{host}:{port}")
        return frozenset(out)

    def client_config_for(self, bootstrap: str) -> dict:
        known = self.known.get(self._norm(bootstrap))
        return dict(known[1]) if known else {}

    def admin_for(self, bootstrap: str) -> AdminClient:
        with self.lock:
            adm = self._admins.get(bootstrap)
            if adm is None:
                adm = kafka.admin(bootstrap, self.client_config_for(bootstrap),
                                  **{"socket.connection.setup.timeout.ms": 3000})
                self._admins[bootstrap] = adm
            return adm

    def remote_cluster_id(self, bootstrap: str, timeout: float = 5.0) -> str:
        """Cluster id of the cluster at ``bootstrap``: the lab's logical id for a
        known bootstrap, else what its metadata reports. Raises KafkaException."""
        md = self.admin_for(bootstrap).list_topics(timeout=timeout)
        known = self.known.get(self._norm(bootstrap))
        return known[0] if known else md.cluster_id

    def save(self) -> None:
        if not self.state_file:
            return
        with self.lock:
            doc = {"version": 2, "cluster_id": self.cluster_id, "knobs": self.knobs,
                   "clusters": {c.cluster_id: {"links": [l.to_state() for l in c.links.values()]}
                                for c in self.served()},
                   "acls": self.acls.to_state()}
            tmp = self.state_file + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(doc, fh, indent=1)
            os.replace(tmp, self.state_file)

    def _load(self) -> None:
        if not self.state_file or not os.path.exists(self.state_file):
            return
        with open(self.state_file) as fh:
            doc = json.load(fh)
        per_cluster = doc.get("clusters")
        if per_cluster is None:  # the single-cluster form: the links of the destination
            per_cluster = {doc.get("cluster_id") or self.cluster_id: {"links": doc.get("links", [])}}
        count = 0
        for cid, cdoc in per_cluster.items():
            cluster = self.clusters.get(cid)
            if cluster is None or not cluster.served:
                log.warning("state file: links of cluster %s dropped (not served now)", cid)
                continue
            for st in cdoc.get("links", []):
                link = Link.from_state(st, cid)
                link.cluster_id = cid
                cluster.links[link.name] = link
                count += 1
        self.acls.load_state(doc.get("acls"))
        log.info("loaded %d link(s) from %s", count, self.state_file)

    def start_workers(self) -> None:
        with self.lock:
            for link in self.all_links():
                self._start_worker(link)

    def _start_worker(self, link: Link) -> None:
        w = LinkWorker(self, link)
        self.workers[(link.cluster_id, link.name)] = w
        w.start()

    def shutdown(self) -> None:
        self.stopping.set()
        with self.lock:
            workers = list(self.workers.values())
        for w in workers:
            w.stop()
        for w in workers:
            w.join(timeout=10)
        self.save()

    def check_cluster(self, cid: str) -> None:
        """404 unless ``cid`` is a cluster this emulator serves (the HTTP layer
        also checks that it is the cluster of the port the request came to)."""
        c = self.clusters.get(cid)
        if c is None or not c.served:
            raise not_found(f"Cluster {cid} cannot be found.")

    def get_link(self, name: str, cid: str | None = None) -> Link:
        link = self.cluster(cid).links.get(name)
        if link is None:
            raise not_found(f"Cluster link '{name}' does not exist.")
        return link

    # -- watermarks and lags
    def lags(self, link: Link, mirrors: list[Mirror]) -> dict[str, list[dict]]:
        """Per-mirror ``mirror_lags`` from fresh watermarks (one batched
        ListOffsets request per cluster)."""
        return self.lags_checked(link, mirrors)[0]

    def lags_checked(self, link: Link, mirrors: list[Mirror]) -> tuple[dict[str, list[dict]], bool]:
        """``(lags, source_read)``: ``source_read`` is False when the source
        watermarks could not be read now (the lags then use the last fetch)."""
        live = [m for m in mirrors if m.status != "STOPPED" or m.frozen_lags is None]
        src_tps = [(m.source_topic, p) for m in live for p in range(m.num_partitions)]
        dst_tps = [(m.name, p) for m in live for p in range(m.num_partitions)]
        src_wm: dict = {}
        dst_wm: dict = {}
        source_read = not src_tps
        bootstrap = self.remote_bootstrap(link)
        if src_tps and link.available and bootstrap:
            try:
                src_wm = kafka.watermarks(self.admin_for(bootstrap), src_tps, timeout=3)
                source_read = True
            except Exception as exc:  # source unreachable: fall back to the last fetch
                log.info("source watermarks for link %s unavailable: %s", link.name, exc)
        if dst_tps:
            try:
                dst_wm = kafka.watermarks(self.local_admin(link), dst_tps, timeout=5)
            except Exception as exc:
                log.info("destination watermarks unavailable: %s", exc)
        out = {}
        for m in mirrors:
            if m.status == "STOPPED" and m.frozen_lags is not None:
                out[m.name] = m.frozen_lags
                continue
            lags = []
            for p in range(m.num_partitions):
                src = src_wm.get((m.source_topic, p), -1)
                if src < 0:  # not read now (or no offset yet): the last fetch
                    src = m.last_fetch.get(p)
                dst = dst_wm.get((m.name, p), -1)
                if dst < 0:
                    dst = m.expected.get(p, 0)
                lag = max(0, (src if src is not None else dst) - dst)
                lags.append({"partition": p, "lag": lag,
                             "last_source_fetch_offset": m.last_fetch.get(p, src if src is not None else -1)})
            out[m.name] = lags
        return out, source_read

    # -- links
    def create_link(self, name: str, body: dict, validate_only: bool, validate_link: bool,
                    cid: str | None = None) -> None:
        local = self.cluster(cid)
        if not LINK_NAME_RE.match(name or ""):
            raise bad_request(f"Cluster link name '{name}' is illegal: it must be 1-249 characters "
                              "from [a-zA-Z0-9._-].")
        if not isinstance(body, dict):
            raise ApiError(400, 400, "Request body must be a JSON object.")
        configs = self._validate_new_configs(body.get("configs") or [], creating=True)
        mode = (configs.get("link.mode") or "DESTINATION").upper()
        conn = (configs.get("connection.mode") or "OUTBOUND").upper()
        if mode == "SOURCE" and conn != "OUTBOUND":
            raise bad_request("A cluster link with link.mode=SOURCE must use connection.mode=OUTBOUND "
                              "(the source cluster opens the connection to the destination); the "
                              "destination half is link.mode=DESTINATION, connection.mode=INBOUND.")
        field = REMOTE_ID_FIELD[mode]
        for other in REMOTE_ID_FIELD.values():
            if other != field and body.get(other) not in (None, ""):
                raise bad_request(
                    f"'{other}' cannot be used for a cluster link with link.mode={mode}: give the "
                    f"remote cluster's ID as '{field}' (source_cluster_id for DESTINATION, "
                    "destination_cluster_id for SOURCE, remote_cluster_id for BIDIRECTIONAL).")
        remote_id = body.get(field)
        if not remote_id or not isinstance(remote_id, str):
            raise bad_request(f"'{field}' is required for a cluster link with link.mode={mode}.")
        if remote_id == local.cluster_id:
            raise bad_request(f"'{field}' is '{remote_id}', the ID of this cluster: a cluster link "
                              "connects two different clusters.")
        expected_link_id = body.get("cluster_link_id")
        if expected_link_id is not None and (not isinstance(expected_link_id, str)
                                             or not expected_link_id):
            raise ApiError(400, 400, "cluster_link_id must be a non-empty string.")
        bootstrap = configs.get("bootstrap.servers")
        if conn == "INBOUND":
            creds = sorted(n for n in configs if not n.startswith("local.") and (
                CONFIG_DEFS[n].sensitive or n == "ssl.keystore.location"))
            if creds:
                raise bad_request(
                    f"A cluster link with connection.mode=INBOUND does not connect to the remote "
                    f"cluster, so it takes no credentials for it: remove {', '.join(creds)} (they "
                    "belong on the OUTBOUND half of the link).")
        if conn == "OUTBOUND" and not bootstrap:
            raise bad_request('Missing required configuration "bootstrap.servers" which has no '
                              'default value.')
        if configs.get("remote.link.connection.mode") is not None and mode != "BIDIRECTIONAL":
            raise bad_request("remote.link.connection.mode applies only to link.mode=BIDIRECTIONAL.")
        if configs.get("cluster.link.prefix") is not None and not TOPIC_NAME_RE.match(
                configs["cluster.link.prefix"]):
            raise bad_request("Invalid value for configuration cluster.link.prefix: "
                              "it may only contain [a-zA-Z0-9._-].")
        if name in local.links:
            raise bad_request(f"Cluster link '{name}' already exists.")
        # the other half of the link, if it was created first: its ID is ours
        peer = None
        remote = self.clusters.get(remote_id)
        if remote is not None and remote.served:
            cand = remote.links.get(name)
            if cand is not None and cand.remote_cluster_id == local.cluster_id \
                    and self.pairs(mode, conn, cand.mode, cand.connection_mode):
                peer = cand
        if peer is not None and expected_link_id and expected_link_id != peer.cluster_link_id:
            raise bad_request(
                f"Unable to validate cluster link '{name}': the cluster link ID of link '{name}' on "
                f"cluster '{remote_id}' is '{peer.cluster_link_id}', not the expected "
                f"cluster_link_id '{expected_link_id}'.")
        if validate_link and conn == "OUTBOUND":
            try:
                found = self.remote_cluster_id(bootstrap, timeout=5)
            except KafkaException as exc:
                with self.lock:  # do not keep a client retrying an address that does not answer
                    self._admins.pop(bootstrap, None)
                raise bad_request(
                    f"Unable to validate cluster link '{name}': cannot connect to the remote "
                    f"cluster at '{bootstrap}' (BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR): "
                    f"{exc.args[0].str()}") from None
            if found != remote_id:
                what = {"DESTINATION": "source", "SOURCE": "destination",
                        "BIDIRECTIONAL": "remote"}[mode]
                raise bad_request(
                    f"Unable to validate cluster link '{name}': the cluster at '{bootstrap}' has "
                    f"cluster ID '{found}', not the expected {what} cluster ID '{remote_id}'.")
        if validate_only:
            return
        with self.lock:
            if name in local.links:
                raise bad_request(f"Cluster link '{name}' already exists.")
            link = Link(name, remote_id, configs, local.cluster_id)
            if peer is not None:
                link.cluster_link_id = peer.cluster_link_id
            elif expected_link_id:
                link.cluster_link_id = expected_link_id
            local.links[name] = link
            _, error, message = self.connection(link)
            if error:  # not connected yet (no other half): visible at once, not after a worker round
                link.available, link.link_error, link.link_error_message = False, error, message
            self.save()
            self._start_worker(link)
        log.info("created link %s on %s (%s/%s) -> %s (%s)", name, local.cluster_id, mode, conn,
                 remote_id, bootstrap)

    def delete_link(self, name: str, force: bool, validate_only: bool, cid: str | None = None) -> None:
        local = self.cluster(cid)
        link = self.get_link(name, local.cluster_id)
        with self.lock:
            active = sorted(m.name for m in link.mirrors.values() if m.status != "STOPPED")
        if active and not force:
            raise bad_request(
                f"Cluster link '{name}' cannot be deleted because it has mirror topics that are "
                f"not stopped: {active}. Promote or fail them over first, or delete with force=true.")
        if validate_only:
            return
        with self.lock:
            local.links.pop(name, None)
            worker = self.workers.pop((local.cluster_id, name), None)
            self.save()
        if worker:
            worker.stop()
            worker.join(timeout=10)
        log.info("deleted link %s on %s (force=%s)", name, local.cluster_id, force)

    def _validate_new_configs(self, items: Any, creating: bool) -> dict[str, str | None]:
        if not isinstance(items, list):
            raise ApiError(400, 400, "configs must be a list of {name, value} objects")
        out: dict[str, str | None] = {}
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ApiError(400, 400, "configs must be a list of {name, value} objects")
            name, value = item["name"], item.get("value")
            self._check_settable(name, value, creating)
            out[name] = value
        return out

    def _check_settable(self, name: str, value: Any, creating: bool) -> None:
        d = CONFIG_DEFS.get(name)
        if d is None:
            raise bad_request(f"Unknown cluster link config name: '{name}'.")
        if d.read_only:
            raise bad_request(f"Cluster link config '{name}' is read-only and cannot be set.")
        if d.create_only and not creating:
            raise bad_request(f"Cluster link config '{name}' can only be set when the cluster link "
                              "is created.")
        if value is not None and not isinstance(value, str):
            raise ApiError(400, 400, f"The value of config '{name}' must be a string.")
        try:
            check_value(name, value)
        except ConfigValueError as exc:
            # like Kafka, a sensitive value is never echoed back in an error
            shown = "[hidden]" if d.sensitive else repr(value)
            raise bad_request(f"Invalid value {shown} for configuration {name}: {exc}") from None

    def alter_configs(self, link_name: str, ops: list[tuple[str, str, str | None]],
                      validate_only: bool, cid: str | None = None) -> None:
        """Apply SET/DELETE ops atomically: all are validated before any is applied."""
        link = self.get_link(link_name, cid)
        for op, name, value in ops:
            if op == "SET":
                if value is None:
                    raise bad_request(f"Config '{name}' needs a value for operation SET.")
                self._check_settable(name, value, creating=False)
            elif op == "DELETE":
                self._check_settable(name, None, creating=False)
                if name == "bootstrap.servers" and link.connection_mode == "OUTBOUND":
                    raise bad_request("Cluster link config 'bootstrap.servers' cannot be deleted.")
            else:
                raise ApiError(400, 400, f"Unknown operation '{op}': use SET or DELETE.")
        if validate_only:
            return
        with self.lock:
            for op, name, value in ops:
                if op == "SET":
                    link.configs[name] = value
                else:
                    link.configs.pop(name, None)
            self.save()

    # -- mirrors
    def create_mirror(self, link_name: str, body: dict, origin: str = "REST",
                      cid: str | None = None) -> Mirror:
        link = self.get_link(link_name, cid)
        local_admin = self.local_admin(link)
        if link.mode == "SOURCE":
            raise bad_request(f"Cluster link '{link_name}' has link.mode=SOURCE: mirror topics are "
                              "created on the destination cluster, on its half of the link "
                              "(link.mode=DESTINATION).")
        source = body.get("source_topic_name")
        if not isinstance(source, str) or not source:
            raise ApiError(400, 400, "source_topic_name is required.")
        expected_name = link.prefix + source
        mirror_name = body.get("mirror_topic_name") or expected_name
        if mirror_name != expected_name:
            if link.prefix:
                raise bad_request(f"Mirror topic name '{mirror_name}' must be the link prefix "
                                  f"'{link.prefix}' followed by the source topic name "
                                  f"('{expected_name}'): Topic renaming for mirroring not yet "
                                  "supported.")
            raise bad_request("Topic renaming for mirroring not yet supported")
        if not TOPIC_NAME_RE.match(mirror_name) or mirror_name in (".", ".."):
            raise bad_request(f"Topic name '{mirror_name}' is illegal.")
        rf = body.get("replication_factor")
        if rf is not None and (not isinstance(rf, int) or rf < 1 and rf != -1):
            raise bad_request("Replication factor must be a positive integer.")
        configs = body.get("configs") or []
        if not isinstance(configs, list) or any(
                not isinstance(c, dict) or not isinstance(c.get("name"), str) for c in configs):
            raise ApiError(400, 400, "configs must be a list of {name, value} objects")
        start_spec = link.config("mirror.start.offset.spec") or "earliest"
        bootstrap, conn_error, conn_message = self.connection(link)
        if conn_error:
            raise bad_request(f"Cannot create mirror topic '{mirror_name}': {conn_message}")
        if not link.available:
            raise ApiError(500, 50003, f"The source cluster of link '{link_name}' is unavailable.")
        try:
            # full metadata: asking for one topic makes brokers with
            # auto.create.topics.enable create it
            src_md = self.admin_for(bootstrap).list_topics(timeout=5)
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot read the source cluster: {exc.args[0].str()}") from None
        t = src_md.topics.get(source)
        if t is None or t.error is not None or not t.partitions:
            raise ApiError(404, 40403, f"Topic '{source}' does not exist on the source cluster "
                                       f"of link '{link_name}'.")
        num_partitions = len(t.partitions)
        with self.lock:
            for other in self.local_cluster(link).links.values():
                if mirror_name in other.mirrors:
                    raise bad_request(f"Topic '{mirror_name}' already exists.")
        dest_topics = kafka.topic_partitions(local_admin, timeout=5)
        if mirror_name in dest_topics:
            raise bad_request(f"Topic '{mirror_name}' already exists.")
        starts = self._start_offsets(bootstrap, source, num_partitions, start_spec)
        source_configs = self._source_topic_configs(bootstrap, source)
        topic_configs = dict(source_configs)
        topic_configs.update({c["name"]: c.get("value") for c in configs
                              if c.get("value") is not None})
        futs = local_admin.create_topics(
            [NewTopic(mirror_name, num_partitions, 1, config=topic_configs)],
            operation_timeout=10, request_timeout=10)
        try:
            futs[mirror_name].result()
        except KafkaException as exc:
            err = exc.args[0]
            if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                raise bad_request(f"Topic '{mirror_name}' already exists.") from None
            raise bad_request(err.str()) from None
        kafka.wait_for_topic(local_admin, mirror_name, num_partitions, timeout=10)
        if any(starts.values()):
            try:
                self.fill_partitions(self.local_cluster(link), mirror_name, starts)
            except Exception as exc:
                self._delete_topic(local_admin, mirror_name)
                raise ApiError(500, 50003, f"Cannot start mirror topic '{mirror_name}' at the "
                                           f"offsets {starts}: {exc}") from None
        with self.lock:
            if link.name not in self.local_cluster(link).links:
                raise not_found(f"Cluster link '{link_name}' does not exist.")
            m = Mirror(link.name, mirror_name, source, num_partitions)
            m.pending_until = time.monotonic() + self.knobs["pending_mirror_ms"] / 1000
            m.expected = dict(starts)
            m.synced_configs = source_configs
            link.mirrors[mirror_name] = m
            self.save()
        log.info("%s: created mirror %s of %s on link %s of %s (%d partitions, start %s)", origin,
                 mirror_name, source, link.name, link.cluster_id, num_partitions, start_spec)
        return m

    def _start_offsets(self, bootstrap: str, topic: str, partitions: int, spec: str) -> dict[int, int]:
        """Per partition, the source offset a new mirror starts at for
        ``mirror.start.offset.spec``: ``earliest`` the source log start offset,
        ``latest`` the high watermark, a timestamp the first offset at or after it."""
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        try:
            if spec in ("earliest", "latest"):
                offs = kafka.watermarks(self.admin_for(bootstrap), [(topic, p) for p in range(partitions)],
                                        spec=spec, timeout=5)
                starts = {p: offs[(topic, p)] for p in range(partitions)}
            else:
                ts = int(datetime.fromisoformat(spec.replace("Z", "+00:00")).timestamp() * 1000)
                futs = self.admin_for(bootstrap).list_offsets(
                    {tp: OffsetSpec.for_timestamp(ts) for tp in tps}, request_timeout=5)
                highs = kafka.watermarks(self.admin_for(bootstrap),
                                         [(topic, p) for p in range(partitions)], timeout=5)
                starts = {}
                for tp, fut in futs.items():
                    off = fut.result().offset
                    starts[tp.partition] = off if off >= 0 else highs[(topic, tp.partition)]
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot read the source offsets of '{topic}' for "
                                       f"mirror.start.offset.spec={spec}: {exc.args[0].str()}") from None
        except ValueError:
            raise bad_request(f"Invalid mirror.start.offset.spec '{spec}'.") from None
        limit = int(self.knobs["start_offset_fill_limit"])
        if sum(starts.values()) > limit:
            raise bad_request(
                f"The lab cannot start a mirror of '{topic}' at mirror.start.offset.spec={spec}: it "
                f"would have to write {sum(starts.values())} filler records (knob "
                f"start_offset_fill_limit={limit})" + ("; use earliest." if spec != "earliest" else
                                                        ": the source log starts that far in."))
        return starts

    def fill_partitions(self, cluster: Cluster, topic: str, starts: dict[int, int]) -> None:
        """Make the empty partitions of ``topic`` on ``cluster`` start at the
        offsets ``starts`` (Kafka cannot create a log that begins above 0): write
        that many filler records, then delete them with DeleteRecords, so the
        log start offset and the high watermark both equal the start offset."""
        want = {p: n for p, n in starts.items() if n > 0}
        if not want:
            return
        adm = self.admin_for(cluster.bootstrap)
        producer = Producer(kafka.client_conf(cluster.bootstrap, cluster.client_config,
                                              kind="producer", **{
                                                  "linger.ms": 20, "batch.size": 1000000,
                                                  "queue.buffering.max.messages": 2000000}))
        errors: list[str] = []

        def on_delivery(err, _msg):
            if err is not None and len(errors) < 3:
                errors.append(str(err))

        for p, n in want.items():
            for _ in range(n):
                while True:
                    try:
                        producer.produce(topic, None, None, p, on_delivery,
                                         headers=[("lab-filler", b"1")])
                        break
                    except BufferError:
                        producer.poll(0.05)
        if producer.flush(60) or errors:
            raise RuntimeError(f"filler records not delivered: {errors[:1]}")
        highs = kafka.watermarks(adm, [(topic, p) for p in want], timeout=10)
        bad = {p: highs[(topic, p)] for p in want if highs[(topic, p)] != want[p]}
        if bad:
            raise RuntimeError(f"partitions {bad} did not end at {want} (someone else wrote to them)")
        futs = adm.delete_records([TopicPartition(topic, p, n) for p, n in want.items()],
                                  request_timeout=10)
        for fut in futs.values():
            fut.result()
        lows = kafka.watermarks(adm, [(topic, p) for p in want], spec="earliest", timeout=10)
        bad = {p: lows[(topic, p)] for p in want if lows[(topic, p)] != want[p]}
        if bad:
            raise RuntimeError(f"log start offsets {bad} are not {want} after DeleteRecords")

    @staticmethod
    def _delete_topic(adm: AdminClient, topic: str, timeout: float = 15.0) -> None:
        """Delete ``topic`` and wait until the metadata no longer lists it."""
        try:
            list(adm.delete_topics([topic], operation_timeout=10, request_timeout=10).values())[0].result()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
        deadline = time.monotonic() + timeout
        while topic in kafka.topic_partitions(adm, timeout=5):
            if time.monotonic() > deadline:
                raise RuntimeError(f"topic {topic!r} still listed {timeout}s after deletion")
            time.sleep(0.05)

    def topic_configs(self, bootstrap: str, topic: str) -> dict[str, str]:
        """Dynamic (non-default) configs of ``topic`` at ``bootstrap``."""
        return self._source_topic_configs(bootstrap, topic)

    def _source_topic_configs(self, bootstrap: str, topic: str) -> dict[str, str]:
        """Dynamic (non-default) topic configs of the source topic, to copy."""
        try:
            futs = self.admin_for(bootstrap).describe_configs(
                [ConfigResource("topic", topic)], request_timeout=5)
            res = list(futs.values())[0].result()
        except Exception:
            return {}
        return {n: c.value for n, c in res.items()
                if not c.is_default and c.value is not None and not c.is_sensitive
                and int(c.source) == 1}

    def _targets(self, link: Link, body: dict, candidates: list[str]) -> list[str]:
        names = body.get("mirror_topic_names")
        pattern = body.get("mirror_topic_name_pattern")
        if names:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ApiError(400, 400, "mirror_topic_names must be a list of strings.")
            return list(dict.fromkeys(names))
        if pattern:
            if not isinstance(pattern, str):
                raise ApiError(400, 400, "mirror_topic_name_pattern must be a string.")
            try:
                rx = re.compile(pattern)
            except re.error as exc:
                raise bad_request(f"Invalid mirror_topic_name_pattern: {exc}") from None
            return sorted(n for n in candidates if rx.fullmatch(n))
        raise ApiError(400, 400, "One of mirror_topic_names or mirror_topic_name_pattern "
                                 "is required.")

    def _check_reversible(self, link: Link, action: str) -> Link:
        """The peer link for a reverse / truncate-and-restore action, or a 400."""
        if link.mode != "BIDIRECTIONAL":
            raise bad_request(f"mirrors:{action} needs a BIDIRECTIONAL cluster link; link "
                              f"'{link.name}' has link.mode={link.mode}.")
        if link.prefix:
            raise bad_request(f"mirrors:{action} cannot be used on cluster link '{link.name}' "
                              f"because it has cluster.link.prefix '{link.prefix}': reverse "
                              "operations need the same topic names on both clusters.")
        peer = self.peer_link(link)
        if peer is None:
            raise bad_request(
                f"mirrors:{action} failed: cluster '{link.remote_cluster_id}' has no "
                f"BIDIRECTIONAL cluster link named '{link.name}' pointing at this cluster "
                f"({REMOTE_LINK_NOT_FOUND}); both halves of a bidirectional link must have the "
                "same name.")
        if peer.prefix:
            raise bad_request(f"mirrors:{action} cannot be used: the link '{link.name}' on cluster "
                              f"'{peer.cluster_id}' has cluster.link.prefix '{peer.prefix}'.")
        return peer

    def alter_mirrors(self, link_name: str, action: str, body: dict, validate_only: bool,
                      cid: str | None = None, include_truncation: bool = False) -> list[dict]:
        """One batch action; returns one result dict per topic (``name``,
        ``error_code``, ``error_message``, ``mirror_lags``, ``messages_truncated``,
        ``partition_level_truncation_data``)."""
        action = ACTION_ALIASES.get(action, action)
        link = self.get_link(link_name, cid)
        peer = None
        if action in REVERSE_ACTIONS or action == "truncate-and-restore":
            peer = self._check_reversible(link, action)
        if action == "truncate-and-restore":
            with self.lock:
                candidates = sorted(set(link.mirrors) | {m.name for m in peer.mirrors.values()})
            targets = self._targets(link, body, candidates)
            return self._truncate_and_restore(link, peer, targets, validate_only, include_truncation)
        with self.lock:
            targets = self._targets(link, body, list(link.mirrors))
            mirrors = [link.mirrors[n] for n in targets if n in link.mirrors]
        lags, source_read = self.lags_checked(link, mirrors)
        remote_topics: dict[str, int] | None = None
        if peer is not None and mirrors:
            try:
                remote_topics = kafka.topic_partitions(self.cluster_admin(peer.cluster_id), timeout=5)
            except Exception:
                remote_topics = None
        results = []
        changed = False

        def result(name, code, message, mlags):
            results.append({"name": name, "error_code": code, "error_message": message,
                            "mirror_lags": mlags, "messages_truncated": None,
                            "partition_level_truncation_data": []})

        with self.lock:
            for name in targets:
                m = link.mirrors.get(name)
                if m is None:
                    result(name, 404, f"Topic '{name}' is not a mirror topic of cluster link "
                                      f"'{link_name}'.", [])
                    continue
                err = self._transition_error(link, m, action, lags[name])
                if err is None and action == "promote" and not source_read:
                    err = (f"Topic '{name}' cannot be promoted because the source cluster cannot "
                           "be reached to check the mirror lag; use failover instead.")
                if err is None and action in REVERSE_ACTIONS:
                    if remote_topics is None:
                        err = (f"Topic '{name}' cannot be reversed: cluster '{peer.cluster_id}' "
                               "cannot be reached (both clusters must be up).")
                    elif m.source_topic not in remote_topics:
                        err = (f"Topic '{name}' cannot be reversed: its source topic "
                               f"'{m.source_topic}' no longer exists on cluster '{peer.cluster_id}'.")
                if err:
                    result(name, 400, err, lags[name])
                    continue
                result(name, None, None, lags[name])
                if validate_only:
                    continue
                changed = True
                if action in ("promote", "failover"):
                    m.stop_kind = action
                    m.pending_until = time.monotonic() + self.knobs["pending_stopped_ms"] / 1000
                    m.set_status("PENDING_STOPPED")
                elif action == "pause":
                    m.set_status("PAUSED")
                elif action == "resume":
                    m.set_status("ACTIVE")
                elif action in REVERSE_ACTIONS:
                    m.reverse_to = "PAUSED" if action == "reverse-and-pause-mirror" else "ACTIVE"
                    m.pending_until = time.monotonic() + self.knobs["pending_synchronize_ms"] / 1000
                    m.set_status("PENDING_SYNCHRONIZE")
            if changed:
                self.save()
        return results

    def _truncate_and_restore(self, link: Link, peer: Link, targets: list[str], validate_only: bool,
                              include_truncation: bool) -> list[dict]:
        """truncate-and-restore on the old primary: each topic must be the source of
        a STOPPED mirror on the remote side of the link; the local topic is cut back
        to that mirror's log end offsets at stop time and becomes a mirror of it."""
        local_admin = self.local_admin(link)
        remote_admin = self.cluster_admin(peer.cluster_id)
        try:
            local_topics = kafka.topic_partitions(local_admin, timeout=5)
            remote_topics = kafka.topic_partitions(remote_admin, timeout=5)
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot read the clusters of link '{link.name}': "
                                       f"{exc.args[0].str()}") from None
        present = [n for n in targets if n in local_topics]
        try:
            local_ends = kafka.watermarks(
                local_admin, [(n, p) for n in present for p in range(local_topics[n])], timeout=5)
            remote_ends = kafka.watermarks(
                remote_admin, [(n, p) for n in present if n in remote_topics
                               for p in range(remote_topics[n])], timeout=5)
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot read the end offsets: {exc.args[0].str()}") from None
        busy_groups = self._groups_consuming(local_admin, set(present))
        results = []
        changed = False
        with self.lock:
            for name in targets:
                out = {"name": name, "error_code": None, "error_message": None, "mirror_lags": [],
                       "messages_truncated": None, "partition_level_truncation_data": []}
                results.append(out)
                m = link.mirrors.get(name)
                rm = peer.mirrors.get(name)
                err = None
                if m is not None and m.status in ("PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE"):
                    err = f"Topic '{name}' is already being restored from '{link.name}'."
                elif m is not None and m.status != "STOPPED":
                    err = (f"Topic '{name}' is a mirror topic of '{link.name}' in state "
                           f"{display_status(link, m)}; truncate-and-restore applies to the old "
                           "primary of a failed-over mirror.")
                elif name not in local_topics:
                    out["error_code"], out["error_message"] = 404, (
                        f"Topic '{name}' does not exist on cluster '{link.cluster_id}'.")
                    continue
                elif rm is None or rm.source_topic != name:
                    err = (f"Topic '{name}' has no mirror on cluster '{peer.cluster_id}' over link "
                           f"'{link.name}': truncate-and-restore needs the remote topic to be a "
                           "stopped (failed-over or promoted) mirror of this topic.")
                elif rm.status != "STOPPED":
                    err = (f"The mirror topic '{name}' on cluster '{peer.cluster_id}' is "
                           f"{display_status(peer, rm)}, not STOPPED: fail it over first.")
                elif not rm.stop_offsets:
                    err = (f"The offsets at which the mirror topic '{name}' on cluster "
                           f"'{peer.cluster_id}' stopped are not known.")
                elif rm.num_partitions != local_topics[name]:
                    err = (f"Topic '{name}' has {local_topics[name]} partitions here and "
                           f"{rm.num_partitions} on cluster '{peer.cluster_id}'.")
                elif busy_groups.get(name):
                    err = (f"Topic '{name}' is being consumed by the active consumer group(s) "
                           f"{sorted(busy_groups[name])}; stop them before truncate-and-restore.")
                if err:
                    out["error_code"], out["error_message"] = 400, err
                    continue
                data, lags = [], []
                for p in range(rm.num_partitions):
                    end = local_ends[(name, p)]
                    to = min(end, rm.stop_offsets.get(p, 0))
                    data.append({"partition_id": p, "offset_truncated_to": to,
                                 "messages_truncated": end - to})
                    rend = remote_ends.get((name, p), to)
                    lags.append({"partition": p, "lag": max(0, rend - to),
                                 "last_source_fetch_offset": -1})
                out["messages_truncated"] = sum(d["messages_truncated"] for d in data)
                out["mirror_lags"] = lags
                if include_truncation:
                    out["partition_level_truncation_data"] = data
                if validate_only:
                    continue
                nm = Mirror(link.name, name, name, rm.num_partitions, "PENDING_SETUP_FOR_RESTORE")
                nm.truncate_to = {d["partition_id"]: d["offset_truncated_to"] for d in data}
                nm.truncation = data
                nm.pending_until = time.monotonic() + self.knobs["pending_restore_ms"] / 1000
                link.mirrors[name] = nm
                changed = True
                log.info("truncate-and-restore of %s on %s: %d record(s) to truncate", name,
                         link.cluster_id, out["messages_truncated"])
            if changed:
                self.save()
        return results

    @staticmethod
    def _groups_consuming(adm: AdminClient, topics: set[str]) -> dict[str, set[str]]:
        """``{topic: {group, ...}}`` of consumer groups with active members assigned to
        partitions of ``topics`` (best effort: unreadable groups are skipped)."""
        out: dict[str, set[str]] = {}
        if not topics:
            return out
        try:
            groups = [g.group_id for g in adm.list_consumer_groups(request_timeout=5).result().valid]
            if not groups:
                return out
            futs = adm.describe_consumer_groups(groups, request_timeout=5)
        except Exception:
            return out
        for g, fut in futs.items():
            try:
                desc = fut.result()
            except Exception:
                continue
            for member in desc.members or []:
                for tp in (member.assignment.topic_partitions if member.assignment else []):
                    if tp.topic in topics:
                        out.setdefault(tp.topic, set()).add(g)
        return out

    def _transition_error(self, link: Link, m: Mirror, action: str, lags: list[dict]) -> str | None:
        st = m.status
        busy = ("PENDING_SYNCHRONIZE", "PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE")
        if action in ("promote", "failover"):
            if st in ("STOPPED", "PENDING_STOPPED"):
                return f"Topic '{m.name}' has already stopped its mirror from '{link.name}'"
            if st in busy:
                verb = "promoted" if action == "promote" else "failed over"
                return f"Topic '{m.name}' cannot be {verb} while its mirror is in state {st}."
            if action == "promote":
                if st == "FAILED":
                    return (f"Topic '{m.name}' cannot be promoted because its mirror has failed "
                            f"({m.error}); use failover instead.")
                if st == "PENDING_MIRROR":
                    return f"Topic '{m.name}' cannot be promoted while its mirror is still being set up."
                if not link.available:
                    return (f"Topic '{m.name}' cannot be promoted because the source cluster is "
                            "unavailable; use failover instead.")
                total = sum(l["lag"] for l in lags)
                if total:
                    worst = max(lags, key=lambda l: l["lag"])
                    return (f"Topic '{m.name}' cannot be promoted because its mirror lag is not zero "
                            f"(total lag {total}, partition {worst['partition']} lag "
                            f"{worst['lag']}); wait until it is caught up or use failover.")
            return None
        if action == "pause":
            if st in ("ACTIVE", "PAUSED"):
                return None
            if st in ("STOPPED", "PENDING_STOPPED"):
                return f"Topic '{m.name}' has already stopped its mirror from '{link.name}'"
            return f"Topic '{m.name}' cannot be paused in state {display_status(link, m)}."
        if action == "resume":
            if st in ("ACTIVE", "PAUSED"):
                return None
            if st in ("STOPPED", "PENDING_STOPPED"):
                return f"Topic '{m.name}' has already stopped its mirror from '{link.name}'"
            return f"Topic '{m.name}' cannot be resumed in state {display_status(link, m)}."
        if action in REVERSE_ACTIONS:
            if st in ("STOPPED", "PENDING_STOPPED"):
                return f"Topic '{m.name}' has already stopped its mirror from '{link.name}'"
            if st != "ACTIVE":
                return (f"Topic '{m.name}' cannot be reversed in state {display_status(link, m)}: "
                        "its mirror must be ACTIVE.")
            if link.paused:
                return (f"Topic '{m.name}' cannot be reversed while cluster link '{link.name}' is "
                        "paused (cluster.link.paused=true).")
            if not link.available:
                return (f"Topic '{m.name}' cannot be reversed because the remote cluster is "
                        "unavailable (both clusters must be up).")
            return None
        return f"Operation '{action}' is not supported by the lab emulator."


# --------------------------------------------------------------------------- worker

class LinkWorker(threading.Thread):
    """Copies records, syncs offsets, auto-creates mirrors and drives the
    PENDING_* transitions of one link."""

    def __init__(self, emu: Emulator, link: Link):
        super().__init__(name=f"link-{link.name}@{link.cluster_id}", daemon=True)
        self.emu = emu
        self.link = link
        self.local = emu.local_cluster(link)       # the cluster that holds the link
        self.local_admin = emu.admin_for(self.local.bootstrap)
        self._halt = threading.Event()
        self._src_bootstrap: str | None = None
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._src_topics: dict[str, int] = {}
        self._next_metadata = 0.0
        self._next_auto_create = 0.0
        self._next_offset_sync = 0.0
        self._next_config_sync = 0.0
        self._failures = 0
        # source (topic, partition) -> next offset the consumer will deliver
        self._assigned: dict[tuple[str, int], int] = {}
        # assigned partitions whose fetching is paused because the source has nothing new for them
        # (the lab broker answers an empty fetch at once instead of waiting fetch.wait.max.ms, so an
        # idle assigned partition would keep the consumer and the broker busy)
        self._fetch_paused: set[tuple[str, int]] = set()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        try:
            while not self._halt.is_set() and not self.emu.stopping.is_set():
                busy = False
                try:
                    busy = self.tick()
                except Exception:
                    log.exception("link %s: worker round failed", self.link.name)
                    self._halt.wait(1.0)
                if not busy:
                    self._halt.wait(self.emu.knobs["copy_interval_ms"] / 1000)
        finally:
            self._close_clients()

    def _close_clients(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:
                pass
            self._consumer = None
        if self._producer is not None:
            self._producer.flush(5)
            self._producer = None

    def _clients(self, bootstrap: str) -> None:
        if bootstrap == self._src_bootstrap and self._consumer is not None:
            return
        self._close_clients()
        self._assigned = {}
        self._fetch_paused = set()
        self._src_bootstrap = bootstrap
        src_extra = self.emu.client_config_for(bootstrap)
        self._consumer = Consumer(kafka.client_conf(bootstrap, src_extra, kind="consumer", **{
            "group.id": f"_confluent-cluster-link-lab-{self.link.name}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_uncommitted",
            "fetch.wait.max.ms": 50,
            "enable.partition.eof": False,
        }))
        self._producer = Producer(kafka.client_conf(
            self.local.bootstrap, self.local.client_config, kind="producer", **{
                "enable.idempotence": True,
                "linger.ms": 5,
                "batch.size": 1000000,
                "queue.buffering.max.messages": 2000000,
                "queue.buffering.max.kbytes": 2000000,
            }))

    # -- one round
    def _fetch_only(self, consumer: Consumer, keys: set[tuple[str, int]]) -> None:
        """Fetch the assigned partitions in ``keys`` (the source has records for them), pause the rest."""
        idle = set(self._assigned) - keys
        resume = [TopicPartition(t, p) for (t, p) in self._fetch_paused - idle]
        pause = [TopicPartition(t, p) for (t, p) in idle - self._fetch_paused]
        if resume:
            consumer.resume(resume)
        if pause:
            consumer.pause(pause)
        self._fetch_paused = idle

    def tick(self) -> bool:
        emu, link = self.emu, self.link
        with emu.lock:
            bootstrap, conn_error, conn_message = emu.connection(link)
            if conn_error:
                # INBOUND without the remote half, or SOURCE without its destination half
                if link.available or link.link_error != conn_error:
                    log.info("link %s on %s: not connected (%s)", link.name, link.cluster_id,
                             conn_error)
                link.available, link.link_error, link.link_error_message = (
                    False, conn_error, conn_message)
            elif link.link_error == REMOTE_LINK_NOT_FOUND:
                log.info("link %s on %s: connected", link.name, link.cluster_id)
                link.available, link.link_error, link.link_error_message = True, "NO_ERROR", None
        if conn_error:
            self._transitions()
            self._finish_pending()
            return False
        if link.mode == "SOURCE":
            # the source half only carries the connection; its destination half mirrors
            if time.monotonic() >= self._next_metadata:
                self._refresh_metadata(bootstrap)
                self._next_metadata = time.monotonic() + emu.knobs["metadata_interval_ms"] / 1000
            return False
        now = time.monotonic()
        if now >= self._next_metadata:
            self._refresh_metadata(bootstrap)
            self._next_metadata = now + emu.knobs["metadata_interval_ms"] / 1000
        self._clients(bootstrap)
        self._transitions()
        busy = False
        with emu.lock:
            copy_ok = link.available and not link.paused and not emu.knobs["copy_paused"]
            mirrors = [m for m in link.mirrors.values()
                       if m.status in ("ACTIVE", "PENDING_SYNCHRONIZE", "PENDING_RESTORE")
                       or (m.status == "PENDING_STOPPED" and m.stop_kind == "promote")]
        if copy_ok and mirrors:
            busy = self._copy(bootstrap, mirrors)
        elif self._assigned and self._consumer is not None:
            # nothing to copy (paused, link paused, ...): stop fetching, as a paused mirror does
            self._consumer.unassign()
            self._assigned = {}
            self._fetch_paused = set()
        self._finish_pending()
        self._finish_synchronize(bootstrap)
        if link.available and time.monotonic() >= self._next_offset_sync:
            with emu.lock:
                enabled = link.flag("consumer.offset.sync.enable")
                interval = link.int_config("consumer.offset.sync.ms")
            if enabled and not link.paused:
                self._sync_offsets(bootstrap)
            self._next_offset_sync = time.monotonic() + max(interval, 100) / 1000
        if link.available and time.monotonic() >= self._next_config_sync:
            with emu.lock:
                interval = link.int_config("topic.config.sync.ms")
            if not link.paused:
                self._sync_topic_configs(bootstrap)
            self._next_config_sync = time.monotonic() + max(interval, 200) / 1000
        acls.maybe_sync(self)  # AclSync every acl.sync.ms
        if link.available and time.monotonic() >= self._next_auto_create:
            self._auto_create()
            self._next_auto_create = time.monotonic() + emu.knobs["auto_create_interval_ms"] / 1000
        return busy

    def _refresh_metadata(self, bootstrap: str) -> None:
        emu, link = self.emu, self.link
        try:
            self._src_topics = kafka.topic_partitions(emu.admin_for(bootstrap), timeout=2)
            ok, err = True, None
        except Exception as exc:
            ok, err = False, str(exc)
        with emu.lock:  # availability.check.* link configs (faults.py)
            faults.record_source_check(self, ok, err, bootstrap)
        if not ok:
            return
        if link.mode == "SOURCE":
            return
        # mirrored topics deleted on the destination disappear; partition changes follow the source
        try:
            dest_topics = kafka.topic_partitions(self.local_admin, timeout=3)
        except Exception:
            return
        changed = False
        with emu.lock:
            for m in list(link.mirrors.values()):
                if m.status in ("PENDING_MIRROR", "PENDING_SETUP_FOR_RESTORE"):
                    continue
                if m.name not in dest_topics:
                    log.info("link %s: mirror topic %s was deleted on the destination",
                             link.name, m.name)
                    del link.mirrors[m.name]
                    changed = True
                    continue
                if m.status not in ("ACTIVE", "PAUSED"):
                    continue
                src_parts = self._src_topics.get(m.source_topic)
                if src_parts is None:
                    m.fail("SOURCE_TOPIC_MAY_BE_DELETED",
                           f"Source topic '{m.source_topic}' no longer exists.")
                    changed = True
                elif src_parts < m.num_partitions:
                    m.fail("SOURCE_PARTITIONS_DECREASED",
                           f"Source topic '{m.source_topic}' has {src_parts} partitions, fewer than "
                           f"the mirror's {m.num_partitions}.")
                    changed = True
                elif src_parts > m.num_partitions:
                    try:
                        futs = self.local_admin.create_partitions(
                            [NewPartitions(m.name, src_parts)], request_timeout=10)
                        list(futs.values())[0].result()
                        kafka.wait_for_topic(self.local_admin, m.name, src_parts, timeout=10)
                        for p in range(m.num_partitions, src_parts):
                            m.expected[p] = 0
                        log.info("link %s: mirror %s grew to %d partitions", link.name, m.name,
                                 src_parts)
                        m.num_partitions = src_parts
                        changed = True
                        self._src_bootstrap = None  # new clients see the new partitions
                    except Exception as exc:
                        log.warning("could not add partitions to %s: %s", m.name, exc)
            if changed:
                emu.save()

    def _transitions(self) -> None:
        emu, link = self.emu, self.link
        now = time.monotonic()
        with emu.lock:
            changed = False
            setup = []
            for m in link.mirrors.values():
                if m.status in ("PENDING_MIRROR", "PENDING_RESTORE") and now >= m.pending_until:
                    m.set_status("ACTIVE")
                    changed = True
                elif m.status == "PENDING_SETUP_FOR_RESTORE" and now >= m.pending_until:
                    setup.append(m)
            if changed:
                emu.save()
        for m in setup:
            try:
                self._setup_restore(m)
            except Exception as exc:  # retried next round
                log.warning("link %s: restore setup of %s failed: %s", link.name, m.name, exc)
                with emu.lock:
                    if len(m.transition_errors) < 20:
                        m.transition_errors.append({"error_code": "INTERNAL_ERROR",
                                                    "error_message": f"Restore setup failed: {exc}"})
                    m.pending_until = time.monotonic() + 1.0

    def _setup_restore(self, m: Mirror) -> None:
        """PENDING_SETUP_FOR_RESTORE: cut the local topic back to ``m.truncate_to``.

        Kafka has no API that removes the tail of a log, so when records must go
        the lab recreates the topic (same partitions and dynamic configs) and lets
        the copier fill it again from the remote topic with the same offsets (the
        remote mirror holds exactly the records up to the truncation point);
        committed group offsets beyond the truncation point are moved back to it.
        With nothing to truncate the topic is kept and mirroring continues from
        its end."""
        emu, link, adm = self.emu, self.link, self.local_admin
        bootstrap = emu.remote_bootstrap(link)
        if bootstrap is None or not link.available:
            raise RuntimeError("the remote cluster is not reachable")
        parts = range(m.num_partitions)
        ends = kafka.watermarks(adm, [(m.name, p) for p in parts], timeout=5)
        cut = {p: m.truncate_to.get(p, 0) for p in parts}
        if any(ends[(m.name, p)] > cut[p] for p in parts):
            configs = emu.topic_configs(self.local.bootstrap, m.name)
            groups = {}
            try:
                for g in adm.list_consumer_groups(request_timeout=5).result().valid:
                    offs = kafka.committed_offsets(adm, g.group_id, timeout=5).get(m.name)
                    if offs:
                        groups[g.group_id] = offs
            except Exception as exc:
                log.info("link %s: reading group offsets of %s failed: %s", link.name, m.name, exc)
            self._close_clients()
            self._src_bootstrap = None
            emu._delete_topic(adm, m.name)
            futs = adm.create_topics([NewTopic(m.name, m.num_partitions, 1, config=configs)],
                                     operation_timeout=10, request_timeout=10)
            futs[m.name].result()
            kafka.wait_for_topic(adm, m.name, m.num_partitions, timeout=10)
            lows = kafka.watermarks(emu.admin_for(bootstrap),
                                    [(m.source_topic, p) for p in parts], spec="earliest", timeout=5)
            starts = {p: lows[(m.source_topic, p)] for p in parts}
            emu.fill_partitions(self.local, m.name, starts)
            expected = starts
            for g, offs in groups.items():
                tps = [TopicPartition(m.name, p, min(off, cut.get(p, off))) for p, off in offs.items()]
                try:
                    for fut in adm.alter_consumer_group_offsets(
                            [ConsumerGroupTopicPartitions(g, tps)], request_timeout=5).values():
                        fut.result()
                except Exception as exc:
                    log.info("link %s: restoring offsets of group %s failed: %s", link.name, g, exc)
            log.info("link %s: truncated %s to %s (recreated, re-copying from the remote)",
                     link.name, m.name, cut)
        else:
            expected = {p: ends[(m.name, p)] for p in parts}
        with emu.lock:
            if m.status != "PENDING_SETUP_FOR_RESTORE":
                return
            m.expected = dict(expected)
            m.last_fetch = {}
            m.pending_until = time.monotonic() + emu.knobs["pending_restore_ms"] / 1000
            m.set_status("PENDING_RESTORE")
            emu.save()

    def _finish_synchronize(self, bootstrap: str) -> None:
        """PENDING_SYNCHRONIZE (reverse-and-start/pause): once the minimum time has
        passed and the local mirror has every record of the remote topic, sync the
        consumer offsets a last time, stop the local mirror (writable) and make the
        remote topic a mirror of it over the remote half of the link."""
        emu, link = self.emu, self.link
        now = time.monotonic()
        with emu.lock:
            due = [m for m in link.mirrors.values()
                   if m.status == "PENDING_SYNCHRONIZE" and now >= m.pending_until]
        for m in due:
            peer = emu.peer_link(link)
            if peer is None or not link.available or link.paused:
                continue
            parts = range(m.num_partitions)
            try:
                local_ends = kafka.watermarks(self.local_admin, [(m.name, p) for p in parts],
                                              timeout=5)
                remote_ends = kafka.watermarks(emu.admin_for(bootstrap),
                                               [(m.source_topic, p) for p in parts], timeout=5)
            except Exception as exc:
                log.info("link %s: synchronize check of %s failed: %s", link.name, m.name, exc)
                continue
            ends = {p: local_ends[(m.name, p)] for p in parts}
            if any(ends[p] != remote_ends[(m.source_topic, p)] or ends[p] != m.expected.get(p)
                   for p in parts):
                continue  # still copying
            if link.flag("consumer.offset.sync.enable"):
                self._sync_offsets(bootstrap, only_topics={m.name})
            with emu.lock:
                if m.status != "PENDING_SYNCHRONIZE" or emu.peer_link(link) is not peer:
                    continue
                m.frozen_lags = [{"partition": p, "lag": 0, "last_source_fetch_offset": ends[p]}
                                 for p in parts]
                m.stop_offsets = dict(ends)
                m.stop_kind = "reverse"
                m.set_status("STOPPED")
                rm = Mirror(peer.name, m.source_topic, m.name, m.num_partitions,
                            m.reverse_to or "ACTIVE")
                rm.expected = dict(ends)
                peer.mirrors[rm.name] = rm
                emu.save()
            log.info("link %s: reversed %s: now a writable topic on %s, mirrored to %s as %s (%s)",
                     link.name, m.name, link.cluster_id, peer.cluster_id, rm.name, rm.status)

    def _finish_pending(self) -> None:
        emu, link = self.emu, self.link
        now = time.monotonic()
        with emu.lock:
            due = [m for m in link.mirrors.values()
                   if m.status == "PENDING_STOPPED" and now >= m.pending_until]
        if not due:
            return
        for m in due:
            lags = emu.lags(link, [m])[m.name]
            if m.stop_kind == "promote":
                behind = sum(l["lag"] for l in lags)
                if behind and link.available and now < m.pending_until + 30:
                    continue  # let the copy loop catch up first
                remote = emu.remote_bootstrap(link)
                if link.flag("consumer.offset.sync.enable") and remote:
                    self._sync_offsets(remote, only_topics={m.name})
            try:
                ends = kafka.watermarks(self.local_admin,
                                        [(m.name, p) for p in range(m.num_partitions)], timeout=5)
                stop_offsets = {p: ends[(m.name, p)] for p in range(m.num_partitions)}
            except Exception:
                stop_offsets = None
            with emu.lock:
                if m.status != "PENDING_STOPPED":
                    continue
                m.frozen_lags = lags
                m.stop_offsets = stop_offsets
                m.set_status("STOPPED")
                log.info("link %s: mirror %s STOPPED (%s)", link.name, m.name, m.stop_kind)
                emu.save()

    # -- copying
    def _copy(self, bootstrap: str, mirrors: list[Mirror]) -> bool:
        """One copy round for the copyable mirrors of this link.

        The source consumer keeps one assignment (every partition of every
        copyable mirror, at the offset the destination expects next) across
        rounds and is only re-assigned when that set or a position changes, so
        prefetched records are never thrown away. Each round copies up to the
        source high watermarks read at its start (or until ``copy_round_ms``),
        flushes, and checks the destination high watermarks."""
        emu = self.emu
        src_admin = emu.admin_for(bootstrap)
        by_source: dict[tuple[str, int], Mirror] = {}
        for m in mirrors:
            for p in range(m.num_partitions):
                by_source[(m.source_topic, p)] = m
        src_wm = kafka.watermarks(src_admin, by_source.keys(), timeout=5)
        dst_wm = kafka.watermarks(self.local_admin, [(m.name, p) for (_, p), m in by_source.items()],
                                  timeout=5)
        want: dict[tuple[str, int], int] = {}
        failed = False
        skip = set()
        with emu.lock:
            for (st, p), m in by_source.items():
                if m.status == "FAILED":
                    continue
                src, dst = src_wm[(st, p)], dst_wm[(m.name, p)]
                if src < 0 or dst < 0:  # no offset yet (e.g. a partition just created): next round
                    skip.add((st, p))
                    continue
                m.last_fetch[p] = src
                exp = m.expected.get(p)
                if exp is None:
                    exp = m.expected[p] = dst
                if dst > exp:
                    m.fail("ILLEGAL_STATE",
                           f"Partition {p} of mirror topic '{m.name}' has {dst - exp} record(s) the "
                           "link did not write: something produced to the mirror topic on the "
                           "destination (the lab broker does not make mirror topics read-only).")
                    failed = True
                    continue
                if dst < exp:
                    m.expected[p] = dst   # an earlier write did not land; resume from the broker
                if src < dst:
                    m.fail("UNEXPECTED_TRUNCATION",
                           f"Source partition {st}-{p} ends at {src}, before the mirror's {dst}: "
                           "the source topic was truncated or recreated.")
                    failed = True
                    continue
            for (st, p), m in by_source.items():
                if m.status != "FAILED" and (st, p) not in skip:
                    want[(st, p)] = m.expected[p]
        if failed:
            emu.save()
        self._clients(bootstrap)  # a restore earlier in this round may have closed them
        consumer, producer = self._consumer, self._producer
        if want != {k: self._assigned.get(k) for k in want} or set(self._assigned) != set(want):
            consumer.assign([TopicPartition(st, p, off) for (st, p), off in want.items()])
            self._assigned = dict(want)
            consumer.resume([TopicPartition(st, p) for (st, p) in want])  # no pause left from before
            self._fetch_paused = set()
        pending = {k for k, off in want.items() if src_wm[k] > off}
        self._fetch_only(consumer, pending)
        if not pending:
            return False
        starts = dict(want)
        touched: set[tuple[str, int]] = set()
        delivery_errors: list[str] = []

        def on_delivery(err, _msg):
            if err is not None and len(delivery_errors) < 5:
                delivery_errors.append(str(err))

        deadline = time.monotonic() + emu.knobs["copy_round_ms"] / 1000
        gaps: list[tuple[Mirror, int, int, int]] = []
        copied = 0
        assigned = self._assigned
        while pending and time.monotonic() < deadline and not self._halt.is_set():
            msgs = consumer.consume(num_messages=20000, timeout=0.1)
            for msg in msgs:
                if msg.error():
                    if msg.error().code() != KafkaError._PARTITION_EOF:
                        log.info("link %s: fetch error %s", self.link.name, msg.error())
                    continue
                key = (msg.topic(), msg.partition())
                nxt = assigned.get(key)
                if nxt is None:
                    continue
                off = msg.offset()
                if off < nxt:
                    continue
                m = by_source[key]
                if off > nxt:
                    gaps.append((m, key[1], nxt, off))
                    del assigned[key]          # re-assigned next round
                    pending.discard(key)
                    continue
                ts_type, ts = msg.timestamp()
                while True:
                    try:
                        if ts_type:
                            producer.produce(m.name, msg.value(), msg.key(), key[1], on_delivery,
                                             timestamp=ts, headers=msg.headers())
                        else:
                            producer.produce(m.name, msg.value(), msg.key(), key[1], on_delivery,
                                             headers=msg.headers())
                        break
                    except BufferError:
                        producer.poll(0.05)
                assigned[key] = nxt + 1
                touched.add(key)
                copied += 1
                if nxt + 1 >= src_wm[key]:
                    pending.discard(key)
            producer.poll(0)
        remaining = producer.flush(30)
        if remaining or delivery_errors:
            log.warning("link %s: %d undelivered, errors %s", self.link.name, remaining,
                        delivery_errors[:2])
        # Partitions that still lag but received nothing: the records they need may be gone (retention
        # moved the log start past them, and the consumer silently reset to it). One batched read.
        stalled = [k for k in pending if k not in touched and k in assigned]
        if stalled:
            try:
                lows = kafka.watermarks(self.emu.admin_for(self._src_bootstrap), stalled, spec="earliest")
            except Exception:
                lows = {}
            gaps.extend((by_source[k], k[1], assigned[k], lows[k]) for k in stalled
                        if lows.get(k, -1) > assigned[k])
        # verify what landed
        check = {(by_source[k].name, k[1]): k for k in touched}
        after = kafka.watermarks(self.local_admin, check.keys(), timeout=5) if check else {}
        with emu.lock:
            for (mt, p), k in check.items():
                m = by_source[k]
                nxt = assigned.get(k, starts[k])
                hw = after[(mt, p)]
                if hw < 0:  # not readable now: checked again next round
                    assigned.pop(k, None)
                    continue
                if hw == nxt:
                    m.expected[p] = nxt
                elif hw < nxt:
                    m.expected[p] = hw  # partial write: retried next round
                    assigned.pop(k, None)
                else:
                    m.fail("ILLEGAL_STATE",
                           f"Partition {p} of mirror topic '{mt}' ended at {hw} after copying up to "
                           f"{nxt}: records were written to the mirror topic by someone else.")
            for m, p, nxt, off in gaps:
                if m.status == "FAILED":
                    continue
                try:
                    low = kafka.watermarks(self.emu.admin_for(self._src_bootstrap),
                                           [(m.source_topic, p)], spec="earliest")
                    low = low[(m.source_topic, p)]
                except Exception:
                    low = off if nxt == starts[(m.source_topic, p)] else -1
                if low > nxt:
                    m.fail("UNEXPECTED_TRUNCATION",
                           f"Source partition {m.source_topic}-{p} starts at offset {low} (retention "
                           f"or deleted records) but the mirror needs offset {nxt}: records the "
                           "link had not copied yet are gone (offsets would diverge).")
                else:
                    m.fail("UNSUPPORTED_MESSAGE_FORMAT",
                           f"Source partition {m.source_topic}-{p} skips from offset {nxt} to {off} "
                           "(compaction or transaction markers); the lab cannot copy it with the "
                           "same offsets.")
            if gaps or any(m.status == "FAILED" for m in mirrors):
                emu.save()
        return copied > 0

    # -- consumer offsets
    def _sync_offsets(self, bootstrap: str, only_topics: set[str] | None = None) -> None:
        emu, link = self.emu, self.link
        with emu.lock:
            try:
                gfilters = parse_name_filters(link.config("consumer.offset.group.filters"),
                                              "groupFilters")
            except ConfigValueError:
                gfilters = []
            prefix = link.prefix if link.flag("consumer.group.prefix.enable") else ""
            # source topic -> mirror topic, only for mirrors still syncing
            topics = {m.source_topic: m for m in link.mirrors.values()
                      if (m.status in ("ACTIVE", "PAUSED", "PENDING_SYNCHRONIZE")
                          or m.status == "PENDING_STOPPED" and m.stop_kind == "promote")
                      and (only_topics is None or m.name in only_topics)}
        errors: list[dict] = []
        if not gfilters:
            link.task_errors["ConsumerOffsetSync"] = [{
                "error_code": "MISCONFIGURATION_ERROR",
                "error_message": "Consumer offset sync is enabled but consumer.offset.group.filters "
                                 "is not set."}]
            return
        if not topics:
            link.task_errors["ConsumerOffsetSync"] = []
            return
        src_admin = emu.admin_for(bootstrap)
        try:
            groups = [g.group_id for g in src_admin.list_consumer_groups(request_timeout=5)
                      .result().valid]
        except Exception as exc:
            log.info("link %s: list groups failed: %s", link.name, exc)
            return
        groups = [g for g in groups if filters_match(gfilters, g)
                  and not g.startswith("_confluent-cluster-link-lab-")]
        wanted: dict[str, dict[tuple[str, int], int]] = {}
        for g in groups:
            try:
                committed = kafka.committed_offsets(src_admin, g, timeout=5)
            except Exception as exc:
                errors.append({"error_code": "INTERNAL_ERROR",
                               "error_message": f"Reading offsets of group '{g}' failed: {exc}"})
                continue
            offs = {}
            for st, parts in committed.items():
                m = topics.get(st)
                if m is None:
                    continue
                for p, off in parts.items():
                    if p < m.num_partitions:
                        offs[(m.name, p)] = off
            if offs:
                wanted[prefix + g] = offs
        if not wanted:
            link.task_errors["ConsumerOffsetSync"] = errors
            return
        dest = self.local_admin
        dst_hw = kafka.watermarks(dest, {tp for offs in wanted.values() for tp in offs},
                                  timeout=5)
        try:
            futs = dest.describe_consumer_groups(list(wanted), request_timeout=5)
            active = set()
            for g, fut in futs.items():
                try:
                    if fut.result().members:
                        active.add(g)
                except KafkaException:
                    pass
        except Exception:
            active = set()
        for g, offs in wanted.items():
            if g in active:
                errors.append({"error_code": "CONSUMER_GROUP_IN_USE_ERROR",
                               "error_message": f"Group '{g}' has active members on the "
                                                "destination; its offsets are not synced."})
                continue
            try:
                current = kafka.committed_offsets(dest, g, timeout=5)
            except Exception:
                current = {}
            tps = []
            for (mt, p), off in sorted(offs.items()):
                if off > dst_hw.get((mt, p), 0):
                    continue  # not mirrored that far yet
                if current.get(mt, {}).get(p) != off:
                    tps.append(TopicPartition(mt, p, off))
            if not tps:
                continue
            try:
                futs = dest.alter_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(g, tps)], request_timeout=5)
                for fut in futs.values():
                    refused = [tp for tp in fut.result().topic_partitions if tp.error]
                    if refused:  # e.g. UNKNOWN_MEMBER_ID: a member joined meanwhile
                        raise KafkaException(refused[0].error)
                log.info("link %s: synced %d offset(s) of group %s", link.name, len(tps), g)
            except Exception as exc:
                errors.append({"error_code": "INTERNAL_ERROR",
                               "error_message": f"Writing offsets of group '{g}' failed: {exc}"})
        link.task_errors["ConsumerOffsetSync"] = errors

    # -- topic configs
    def _sync_topic_configs(self, bootstrap: str) -> None:
        """Copy changed dynamic topic configs of the source topics to their
        mirrors (two batched DescribeConfigs, one IncrementalAlterConfigs)."""
        emu, link = self.emu, self.link
        with emu.lock:
            mirrors = [m for m in link.mirrors.values() if m.status in ("ACTIVE", "PAUSED")]
        if not mirrors:
            return
        try:
            futs = emu.admin_for(bootstrap).describe_configs(
                [ConfigResource("topic", m.source_topic) for m in mirrors], request_timeout=5)
            src = {}
            for res, fut in futs.items():
                src[res.name] = {n: c.value for n, c in fut.result().items()
                                 if int(c.source) == 1 and c.value is not None and not c.is_sensitive}
        except Exception as exc:
            log.info("link %s: topic config sync skipped: %s", link.name, exc)
            return
        changes = []
        for m in mirrors:
            want = src.get(m.source_topic, {})
            ops = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                   for k, v in sorted(want.items()) if m.synced_configs.get(k) != v]
            ops += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE)
                    for k in sorted(m.synced_configs) if k not in want]
            if ops:
                changes.append((m, want, ops))
        if not changes:
            return
        futs = self.local_admin.incremental_alter_configs(
            [ConfigResource("topic", m.name, incremental_configs=ops) for m, _, ops in changes],
            request_timeout=10)
        results = {res.name: fut for res, fut in futs.items()}
        with emu.lock:
            for m, want, _ in changes:
                try:
                    results[m.name].result()
                    m.synced_configs = dict(want)
                    log.info("link %s: synced topic configs of %s", link.name, m.name)
                except Exception as exc:
                    log.warning("link %s: topic config sync of %s failed: %s", link.name, m.name, exc)
            emu.save()

    # -- auto-create
    def _auto_create(self) -> None:
        emu, link = self.emu, self.link
        with emu.lock:
            if not link.flag("auto.create.mirror.topics.enable") or link.paused:
                return
            try:
                tfilters = parse_name_filters(link.config("auto.create.mirror.topics.filters"),
                                              "topicFilters")
            except ConfigValueError:
                tfilters = []
            mirrored = {m.source_topic for m in link.mirrors.values()}
            all_mirrors = {n for l in self.local.links.values() for n in l.mirrors}
            prefix = link.prefix
        if not tfilters:
            link.task_errors["AutoCreateMirror"] = [{
                "error_code": "MISCONFIGURATION_ERROR",
                "error_message": "Auto-create mirror topics is enabled but "
                                 "auto.create.mirror.topics.filters is not set."}]
            return
        candidates = [t for t in sorted(self._src_topics)
                      if not t.startswith("__") and t not in mirrored
                      and prefix + t not in all_mirrors and filters_match(tfilters, t)]
        errors = []
        if candidates:
            try:
                dest_topics = kafka.topic_partitions(self.local_admin, timeout=3)
            except Exception:
                return
            for t in candidates:
                if prefix + t in dest_topics:
                    errors.append({"error_code": "TOPIC_EXISTS_ERROR",
                                   "error_message": f"Topic '{prefix + t}' already exists on the "
                                                    "destination and is not a mirror."})
                    continue
                try:
                    emu.create_mirror(link.name, {"source_topic_name": t}, origin="auto-create",
                                      cid=link.cluster_id)
                except ApiError as exc:
                    errors.append({"error_code": "INTERNAL_ERROR", "error_message": exc.message})
        link.task_errors["AutoCreateMirror"] = errors


# --------------------------------------------------------------------------- HTTP

class Api:
    """Routes requests to the emulator and renders Kafka REST v3 bodies for one
    served cluster (each served cluster has its own Api and HTTP server)."""

    def __init__(self, emu: Emulator, cluster: Cluster | None = None):
        self.emu = emu
        self.cluster = cluster or emu.cluster()
        self.cid = self.cluster.cluster_id
        c = r"(?P<cid>[^/]+)"
        l = r"(?P<link>[^/]+)"
        self.routes = [
            (r"/clusters", {"GET": self.list_clusters}),
            (rf"/clusters/{c}", {"GET": self.get_cluster}),
            (rf"/clusters/{c}/topics", {"GET": self.list_topics}),
            (rf"/clusters/{c}/topics/(?P<topic>[^/]+)", {"DELETE": self.delete_topic}),
            (rf"/clusters/{c}/links", {"GET": self.list_links, "POST": self.post_link}),
            (rf"/clusters/{c}/links/-/mirrors", {"GET": self.list_all_mirrors}),
            (rf"/clusters/{c}/links/{l}", {"GET": self.get_link, "DELETE": self.delete_link}),
            (rf"/clusters/{c}/links/{l}/configs", {"GET": self.list_configs}),
            (rf"/clusters/{c}/links/{l}/configs:alter", {"PUT": self.alter_configs}),
            (rf"/clusters/{c}/links/{l}/configs/(?P<name>[^/]+)",
             {"GET": self.get_config, "PUT": self.put_config, "DELETE": self.delete_config}),
            (rf"/clusters/{c}/links/{l}/mirrors", {"GET": self.list_mirrors,
                                                    "POST": self.post_mirror}),
            (rf"/clusters/{c}/links/{l}/mirrors:(?P<action>[a-z-]+)", {"POST": self.mirror_action}),
            (rf"/clusters/{c}/links/{l}/mirrors/(?P<topic>[^/]+)", {"GET": self.get_mirror}),
        ]
        self.routes += acls.routes(self)  # /clusters/{cid}/acls[:batch] for every lab cluster
        self.routes = [(re.compile("^" + rx + "$"), methods) for rx, methods in self.routes]

    # -- rendering helpers
    def base(self, req) -> str:
        return f"http://{req.host}{req.prefix}"

    def cluster_url(self, req) -> str:
        return f"{self.base(req)}/clusters/{self.cid}"

    def check(self, cid: str) -> None:
        """404 unless ``cid`` is the cluster this port serves."""
        if cid != self.cid:
            raise not_found(f"Cluster {cid} cannot be found.")

    def render_cluster(self, req) -> dict:
        cu = self.cluster_url(req)
        return {
            "kind": "KafkaCluster",
            "metadata": {"self": cu, "resource_name": f"crn:///kafka={self.cid}"},
            "cluster_id": self.cid,
            "controller": {"related": f"{cu}/brokers/1"},
            "acls": {"related": f"{cu}/acls"},
            "brokers": {"related": f"{cu}/brokers"},
            "broker_configs": {"related": f"{cu}/broker-configs"},
            "consumer_groups": {"related": f"{cu}/consumer-groups"},
            "topics": {"related": f"{cu}/topics"},
            "partition_reassignments": {"related": f"{cu}/topics/-/partitions/-/reassignment"},
        }

    def render_link(self, req, link: Link, include_tasks: bool = False) -> dict:
        emu = self.emu
        with emu.lock:
            mirrors = list(link.mirrors.values())
            state = "ACTIVE"
            if not link.available:
                state = "UNAVAILABLE"
            elif link.paused:
                state = "PAUSED"
            body = {
                "kind": "KafkaLinkData",
                "metadata": {"self": f"{self.cluster_url(req)}/links/{link.name}",
                             "resource_name": None},
                "link_name": link.name,
                "link_id": link.link_id,
                "cluster_link_id": link.cluster_link_id,
                "topic_names": sorted(m.name for m in mirrors),
                "link_state": state,
                "link_error": link.link_error,
                "link_error_message": link.link_error_message,
            }
            # the remote cluster's id in the field that goes with the link's mode (as in
            # the create request); the other two are null
            field = REMOTE_ID_FIELD[link.mode]
            for f in REMOTE_ID_FIELD.values():
                body[f] = link.remote_cluster_id if f == field else None
            counts: dict[str, int] = {}
            for m in mirrors:
                ds = display_status(link, m)
                cat = {"ACTIVE": "ACTIVE", "PAUSED": "PAUSED", "LINK_PAUSED": "PAUSED",
                       "FAILED": "IN_ERROR", "LINK_FAILED": "IN_ERROR",
                       "SOURCE_UNAVAILABLE": "IN_ERROR", "STOPPED": "NOT_APPLICABLE"}.get(ds, "PENDING")
                counts[cat] = counts.get(cat, 0) + 1
            body["category_counts"] = [{"state_category": k, "count": v}
                                       for k, v in sorted(counts.items())]
            if include_tasks:
                body["tasks"] = self.render_tasks(link)
        return body

    def render_tasks(self, link: Link) -> list[dict]:
        tasks = []
        link_state = None
        if not link.available:
            link_state = "LINK_UNAVAILABLE"
        elif link.paused:
            link_state = "LINK_PAUSED"

        def task(name: str, enabled: bool, filters_cfg: str | None, errors: list[dict]) -> dict:
            if not enabled:
                return {"task_name": name, "state": "NOT_CONFIGURED", "errors": []}
            if link_state:
                return {"task_name": name, "state": link_state, "errors": []}
            if filters_cfg is not None and not (link.config(filters_cfg) or "").strip():
                errors = [{"error_code": "MISCONFIGURATION_ERROR",
                           "error_message": f"{name} is enabled but {filters_cfg} is not set."}]
            elif filters_cfg is not None:  # the filters were set after the task's last run
                errors = [e for e in errors if not (e["error_code"] == "MISCONFIGURATION_ERROR"
                                                    and filters_cfg in e["error_message"])]
            return {"task_name": name, "state": "IN_ERROR" if errors else "ACTIVE",
                    "errors": errors}

        tasks.append(acls.render_task(link, link_state))
        tasks.append(task("AutoCreateMirror", link.flag("auto.create.mirror.topics.enable"),
                          "auto.create.mirror.topics.filters",
                          list(link.task_errors.get("AutoCreateMirror", []))))
        tasks.append(task("ConsumerOffsetSync", link.flag("consumer.offset.sync.enable"),
                          "consumer.offset.group.filters",
                          list(link.task_errors.get("ConsumerOffsetSync", []))))
        tasks.append(task("TopicConfigsSync", True, None, []))
        return tasks

    def render_mirror(self, req, link: Link, m: Mirror, lags: list[dict],
                      transition_errors: bool = False) -> dict:
        body = {
            "kind": "KafkaMirrorData",
            "metadata": {"self": f"{self.cluster_url(req)}/links/{link.name}/mirrors/{m.name}",
                         "resource_name": f"crn:///kafka={self.cid}/topic={m.name}"},
            "link_name": link.name,
            "mirror_topic_name": m.name,
            "source_topic_name": m.source_topic,
            "num_partitions": m.num_partitions,
            "mirror_lags": lags,
            "mirror_status": display_status(link, m),
            "mirror_topic_error": m.error,
            "state_time_ms": m.state_time_ms,
        }
        if transition_errors:
            body["mirror_state_transition_errors"] = list(m.transition_errors)
        return body

    def render_config(self, req, link: Link, name: str) -> dict:
        d = CONFIG_DEFS[name]
        dynamic = name in link.configs
        value = link.configs[name] if dynamic else d.default
        return {
            "kind": "KafkaLinkConfigData",
            "metadata": {"self": f"{self.cluster_url(req)}/links/{link.name}/configs/{name}",
                         "resource_name": None},
            "cluster_id": self.cid,
            "name": name,
            "value": None if d.sensitive else value,
            "is_default": not dynamic,
            "is_read_only": d.read_only,
            "is_sensitive": d.sensitive,
            "source": "DYNAMIC_CLUSTER_LINK_CONFIG" if dynamic else "DEFAULT_CONFIG",
            "synonyms": [],
            "link_name": link.name,
        }

    def collection(self, req, kind: str, self_url: str, data: list) -> dict:
        return {"kind": kind, "metadata": {"self": self_url, "next": None}, "data": data}

    # -- handlers: each returns (status, body-or-None)
    def list_clusters(self, req):
        return 200, self.collection(req, "KafkaClusterList", f"{self.base(req)}/clusters",
                                    [self.render_cluster(req)])

    def get_cluster(self, req, cid):
        self.emu.check_cluster(cid)
        return 200, self.render_cluster(req)

    def list_topics(self, req, cid):
        """ListKafkaTopics: this cluster's topics (read-only here; no create/delete)."""
        self.check(cid)
        try:
            md = self.emu.cluster_admin(self.cid).list_topics(timeout=10)
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot list topics of the destination cluster: {exc}")
        cu = self.cluster_url(req)
        data = []
        for name in sorted(md.topics):
            tu = f"{cu}/topics/{name}"
            partitions = md.topics[name].partitions
            replicas = max((len(p.replicas) for p in partitions.values()), default=1)
            data.append({
                "kind": "KafkaTopic",
                "metadata": {"self": tu, "resource_name": f"crn:///kafka={self.cid}/topic={name}"},
                "cluster_id": self.cid, "topic_name": name, "is_internal": name.startswith("__"),
                "replication_factor": replicas, "partitions_count": len(partitions),
                "partitions": {"related": f"{tu}/partitions"}, "configs": {"related": f"{tu}/configs"},
                "partition_reassignments": {"related": f"{tu}/partitions/-/reassignment"},
            })
        return 200, self.collection(req, "KafkaTopicList", f"{cu}/topics", data)

    def delete_topic(self, req, cid, topic):
        """DeleteKafkaTopic: deletes the topic on this cluster's broker; a mirror of it disappears
        when the link's worker sees the topic gone (as Confluent's GET mirror then answers 404)."""
        self.check(cid)
        topic = unquote(topic)
        admin = self.emu.cluster_admin(self.cid)
        try:
            if topic not in admin.list_topics(timeout=10).topics:
                raise ApiError(404, 40403, "This server does not host this topic-partition.")
            admin.delete_topics([topic], operation_timeout=10)[topic].result(timeout=15)
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot delete topic {topic}: {exc}")
        log.info("deleted topic %s on %s", topic, self.cid)
        return 204, None

    def list_links(self, req, cid):
        self.check(cid)
        with self.emu.lock:
            links = sorted(self.cluster.links.values(), key=lambda l: l.name)
        return 200, self.collection(req, "KafkaLinkDataList", f"{self.cluster_url(req)}/links",
                                    [self.render_link(req, l) for l in links])

    def post_link(self, req, cid):
        self.check(cid)
        name = req.query_str("link_name")
        if not name:
            raise ApiError(400, 400, "Query parameter 'link_name' is required.")
        body = req.json_body(required=True)
        self.emu.create_link(name, body, req.query_bool("validate_only", False),
                             req.query_bool("validate_link", True), cid=self.cid)
        return 204, None

    def get_link(self, req, cid, link):
        self.check(cid)
        lk = self.emu.get_link(link, self.cid)
        return 200, self.render_link(req, lk, req.query_bool("include_tasks", False))

    def delete_link(self, req, cid, link):
        self.check(cid)
        self.emu.delete_link(link, req.query_bool("force", False),
                             req.query_bool("validate_only", False), cid=self.cid)
        return 200, None

    def list_configs(self, req, cid, link):
        self.check(cid)
        lk = self.emu.get_link(link, self.cid)
        with self.emu.lock:
            data = [self.render_config(req, lk, n) for n in sorted(CONFIG_DEFS)]
        return 200, self.collection(req, "KafkaLinkConfigDataList",
                                    f"{self.cluster_url(req)}/links/{link}/configs", data)

    def get_config(self, req, cid, link, name):
        self.check(cid)
        lk = self.emu.get_link(link, self.cid)
        if name not in CONFIG_DEFS:
            raise not_found(f"Config '{name}' cannot be found for cluster link '{link}'.")
        with self.emu.lock:
            return 200, self.render_config(req, lk, name)

    def put_config(self, req, cid, link, name):
        self.check(cid)
        body = req.json_body(required=True)
        if not isinstance(body, dict) or "value" not in body:
            raise ApiError(400, 400, "Request body must be {\"value\": \"...\"}.")
        self.emu.alter_configs(link, [("SET", name, body["value"])], validate_only=False,
                               cid=self.cid)
        return 204, None

    def delete_config(self, req, cid, link, name):
        self.check(cid)
        self.emu.alter_configs(link, [("DELETE", name, None)], validate_only=False, cid=self.cid)
        return 204, None

    def alter_configs(self, req, cid, link):
        self.check(cid)
        body = req.json_body(required=True)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ApiError(400, 400, "Request body must be {\"data\": [{name, value, operation}]}.")
        ops = []
        for item in data:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ApiError(400, 400, "Each entry of data needs a 'name'.")
            op = (item.get("operation") or "SET").upper()
            ops.append((op, item["name"], item.get("value")))
        validate_only = req.query_bool("validate_only", False) or bool(body.get("validate_only"))
        self.emu.alter_configs(link, ops, validate_only, cid=self.cid)
        return 204, None

    def _mirror_list(self, req, links: list[Link]):
        status = req.query_str("mirror_status")
        if status is not None and status not in MIRROR_STATUSES:
            raise ApiError(400, 400, f"Invalid mirror_status '{status}': expected one of "
                                     f"{', '.join(MIRROR_STATUSES)}.")
        data = []
        for lk in links:
            with self.emu.lock:
                mirrors = sorted(lk.mirrors.values(), key=lambda m: m.name)
            if status:
                mirrors = [m for m in mirrors if display_status(lk, m) == status]
            lags = self.emu.lags(lk, mirrors)
            with self.emu.lock:
                data.extend(self.render_mirror(req, lk, m, lags[m.name]) for m in mirrors)
        return data

    def list_mirrors(self, req, cid, link):
        self.check(cid)
        lk = self.emu.get_link(link, self.cid)
        data = self._mirror_list(req, [lk])
        return 200, self.collection(req, "KafkaMirrorDataList",
                                    f"{self.cluster_url(req)}/links/{link}/mirrors", data)

    def list_all_mirrors(self, req, cid):
        self.check(cid)
        with self.emu.lock:
            links = sorted(self.cluster.links.values(), key=lambda l: l.name)
        data = self._mirror_list(req, links)
        return 200, self.collection(req, "KafkaMirrorDataList",
                                    f"{self.cluster_url(req)}/links/-/mirrors", data)

    def get_mirror(self, req, cid, link, topic):
        self.check(cid)
        lk = self.emu.get_link(link, self.cid)
        m = lk.mirrors.get(topic)
        if m is None:
            raise not_found(f"Topic '{topic}' is not a mirror topic of cluster link '{link}'.")
        lags = self.emu.lags(lk, [m])
        with self.emu.lock:
            return 200, self.render_mirror(req, lk, m, lags[m.name],
                                           req.query_bool("include_state_transition_errors", False))

    def post_mirror(self, req, cid, link):
        self.check(cid)
        body = req.json_body(required=True)
        if not isinstance(body, dict):
            raise ApiError(400, 400, "Request body must be a JSON object.")
        self.emu.create_mirror(link, body, cid=self.cid)
        return 204, None

    def mirror_action(self, req, cid, link, action):
        self.check(cid)
        if action not in MIRROR_ACTIONS and action not in ACTION_ALIASES:
            raise ApiError(404, 404, "HTTP 404 Not Found")
        self.emu.get_link(link, self.cid)
        body = req.json_body(required=True)
        if not isinstance(body, dict):
            raise ApiError(400, 400, "Request body must be a JSON object.")
        results = self.emu.alter_mirrors(
            link, action, body, req.query_bool("validate_only", False), cid=self.cid,
            include_truncation=req.query_bool("include_partition_level_truncation_data", False))
        data = []
        for r in results:
            data.append({
                "kind": "AlterMirrorsData",
                "metadata": {"self": f"{self.cluster_url(req)}/links/{link}/mirrors/{r['name']}",
                             "resource_name": None},
                "mirror_topic_name": r["name"],
                "error_code": r["error_code"],
                "error_message": r["error_message"],
                "mirror_lags": r["mirror_lags"],
                "messages_truncated": r["messages_truncated"],
                "partition_level_truncation_data": r["partition_level_truncation_data"],
            })
            if action in ACTION_ALIASES:  # the Confluent Platform shape: no truncation fields
                del data[-1]["messages_truncated"], data[-1]["partition_level_truncation_data"]
        return 200, {"kind": "KafkaPromoteMirror",
                     "metadata": {"self": f"{self.cluster_url(req)}/links/{link}/mirrors",
                                  "next": None},
                     "data": data}

    # lab-only control endpoints
    def lab_knobs(self, req):
        if req.method == "PUT":
            body = req.json_body(required=True)
            if not isinstance(body, dict):
                raise ApiError(400, 400, "Request body must be a JSON object of knobs.")
            unknown = set(body) - set(DEFAULT_KNOBS)
            if unknown:
                raise bad_request(f"Unknown knob(s): {sorted(unknown)}")
            injections = body.get("inject_errors")
            if injections is not None and (not isinstance(injections, list) or not all(
                    isinstance(f, dict) and "status" in f for f in injections)):
                raise bad_request("inject_errors must be a list of {status, count?, method?, "
                                  "path_contains?} objects.")
            if "faults" in body:
                try:
                    body["faults"] = faults.parse(body["faults"])
                except ValueError as exc:
                    raise bad_request(str(exc)) from None
            with self.emu.lock:
                self.emu.knobs.update(body)
        with self.emu.lock:
            return 200, json.loads(json.dumps(self.emu.knobs))

    JETTY_429 = ("<html> <head> <meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>"
                 " <title>Error 429 Too Many Requests</title> </head> <body> <h2>HTTP ERROR 429 Too "
                 "Many Requests</h2> </body> </html>")

    def injected(self, req):
        """A fault from the ``inject_errors`` knob for this request, or None."""
        with self.emu.lock:
            for rule in self.emu.knobs.get("inject_errors") or []:
                if rule.get("count", 1) <= 0:
                    continue
                if rule.get("method") and rule["method"].upper() != req.method:
                    continue
                if rule.get("path_contains") and rule["path_contains"] not in req.path:
                    continue
                rule["count"] = rule.get("count", 1) - 1
                status = int(rule.get("status", 503))
                if status == 429:
                    return 429, RawBody(self.JETTY_429, "text/html;charset=utf-8")
                code = 50003 if status >= 500 else status
                return status, {"error_code": code,
                                "message": rule.get("message") or f"Injected lab error {status}"}
        return None

    def dispatch(self, req):
        path = req.path
        if not path.startswith("/lab/"):
            fault = self.injected(req)
            if fault:
                return fault
        if path in ("/lab/v1/knobs",) and req.method in ("GET", "PUT"):
            return self.lab_knobs(req)
        if path == "/lab/v1/health" and req.method == "GET":
            return 200, {"status": "ok", "cluster_id": self.cid, "cluster": self.cluster.name}
        for prefix in ("/kafka/v3", "/v3"):
            if path.startswith(prefix + "/"):
                req.prefix = prefix
                rest = path[len(prefix):]
                for rx, methods in self.routes:
                    mt = rx.match(rest)
                    if mt:
                        fn = methods.get(req.method)
                        if fn is None:
                            raise ApiError(405, 405, "HTTP 405 Method Not Allowed")
                        kwargs = {k: unquote(v) for k, v in mt.groupdict().items()}
                        if "cid" in kwargs:
                            self.check(kwargs["cid"])  # another cluster's id: 404, as on a real server
                        return fn(req, **kwargs)
                break
        raise ApiError(404, 404, "HTTP 404 Not Found")


class RawBody:
    """A non-JSON response body."""

    def __init__(self, text: str, content_type: str):
        self.text, self.content_type = text, content_type


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, method: str):
        self.method = method
        parts = urlsplit(handler.path)
        self.path = parts.path.rstrip("/") or "/"
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.host = handler.headers.get("Host") or "%s:%s" % handler.server.server_address[:2]
        self.prefix = ""
        self.handler = handler
        self._body: bytes | None = None

    def query_str(self, name: str) -> str | None:
        vals = self.query.get(name)
        return vals[-1] if vals else None

    def query_bool(self, name: str, default: bool) -> bool:
        v = self.query_str(name)
        if v is None or v == "":
            return default
        if v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise ApiError(400, 400, f"Cannot deserialize value of type `boolean` from String "
                                 f"\"{v}\" (query parameter '{name}')")

    def raw_body(self) -> bytes:
        if self._body is None:
            n = int(self.handler.headers.get("Content-Length") or 0)
            self._body = self.handler.rfile.read(n) if n else b""
        return self._body

    def json_body(self, required: bool = False):
        raw = self.raw_body()
        if not raw.strip():
            if required:
                raise ApiError(400, 400, "Request body is required.")
            return {}
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, 400, f"Unexpected request body: {exc}") from None


def make_handler(api: Api, username: str, password: str):
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lab-cluster-linking-emulator"

        def log_message(self, fmt, *args):  # route access logs to logging
            log.debug("%s %s", self.address_string(), fmt % args)

        def _send(self, status: int, body: Any) -> None:
            if body is None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if isinstance(body, RawBody):
                data, ctype = body.text.encode(), body.content_type
            else:
                data, ctype = json.dumps(body).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            if faults.intercept(self, method, api.emu.knobs):  # the faults knob (faults.py)
                return
            req = Request(self, method)
            try:
                auth = self.headers.get("Authorization") or ""
                if not secrets.compare_digest(auth.encode(), expected.encode()):
                    raise ApiError(401, 40101, "Authentication failed")
                status, body = api.dispatch(req)
            except ApiError as exc:
                status, body = exc.status, {"error_code": exc.error_code, "message": exc.message}
            except Exception as exc:  # never leak a traceback to the client
                log.exception("%s %s failed", method, self.path)
                status, body = 500, {"error_code": 500, "message": f"Internal Server Error: {exc}"}
            # drain an unread body so keep-alive stays in sync
            try:
                req.raw_body()
            except Exception:
                pass
            log.info("%s %s -> %s", method, self.path, status)
            contract_hook.observe(self, req, status, body)  # OpenAPI checks when LAB_CONTRACT_LOG is set
            self._send(status, body)

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_PUT(self):
            self._handle("PUT")

        def do_DELETE(self):
            self._handle("DELETE")

        def do_PATCH(self):
            self._handle("PATCH")

    return Handler


class EmulatorServer:
    """The emulator plus one HTTP server per served cluster; ``serve_forever``
    until ``shutdown``."""

    def __init__(self, config: dict):
        self.emu = Emulator(config)
        host = config.get("host", "127.0.0.1")
        self.httpds: dict[str, ThreadingHTTPServer] = {}
        self.ports: dict[str, int] = {}
        try:
            for cluster in self.emu.served():
                api = Api(self.emu, cluster)
                handler = make_handler(api, config["username"], config["password"])
                httpd = ThreadingHTTPServer((host, int(cluster.port or 0)), handler)
                httpd.daemon_threads = True
                self.httpds[cluster.name] = httpd
                self.ports[cluster.name] = httpd.server_address[1]
        except BaseException:
            for httpd in self.httpds.values():
                httpd.server_close()
            raise
        first = self.emu.cluster().name
        self.httpd = self.httpds[first]        # the default (destination) cluster's server
        self.port = self.ports[first]

    def serve_forever(self) -> None:
        self.emu.start_workers()
        threads = []
        for name, httpd in self.httpds.items():
            if httpd is self.httpd:
                continue
            t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                 name=f"http-{name}", daemon=True)
            t.start()
            threads.append(t)
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            for httpd in self.httpds.values():
                if httpd is not self.httpd:
                    httpd.shutdown()
            for t in threads:
                t.join(timeout=5)
            for httpd in self.httpds.values():
                httpd.server_close()
            self.emu.shutdown()

    def shutdown(self) -> None:
        self.httpd.shutdown()


def serve(config_path: str) -> int:
    with open(config_path) as fh:
        config = json.load(fh)
    logging.basicConfig(level=os.environ.get("LAB_EMULATOR_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    server = EmulatorServer(config)
    port_file = config.get("port_file")
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(server.ports, fh)
        os.replace(tmp, port_file)
    for c in server.emu.served():
        log.info("emulator: REST for cluster %s (%s) on %s:%d", c.cluster_id, c.name,
                 config.get("host", "127.0.0.1"), server.ports[c.name])

    def on_signal(signum, _frame):
        log.info("signal %d: shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.serve_forever()
    log.info("emulator stopped")
    return 0

"""The emulator's model: what a link and a mirror are, and the state that holds them.

The knobs and their defaults (``DEFAULT_KNOBS``), the mirror statuses, link and connection
modes, the REST error type (``ApiError``), ``Mirror``, ``Link``, ``Cluster`` (a lab cluster, with
its links when the emulator serves its REST), and ``State``: the clusters, the knobs, the ACL
store, lookups (a link by name, the remote bootstrap and the connection of a link, its peer on
the other lab cluster), lags from watermarks, and the state file (``save`` and load, so
``up --keep-data`` brings links, configs, mirrors and ACLs back). The client settings and admin
clients of each cluster and link are in clients.py (a mixin of ``State``). The operations that
change links and mirrors are in links.py and mirrors.py; core.py puts them together."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING

from confluent_kafka.admin import AdminClient

from linkops_lab import kafka
from linkops_lab.emulator import acls, metadata, statefile
from linkops_lab.emulator.clients import Clients
from linkops_lab.emulator.linkconfigs import CONFIG_DEFS

if TYPE_CHECKING:  # annotations only (no import cycle)
    from linkops_lab.emulator.copier import LinkWorker

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
    # how often a link looks for new records; a link that found none waits twice as long each
    # round, up to copy_idle_max_ms (a request that adds or changes a mirror wakes it at once)
    "copy_interval_ms": 100,
    "copy_idle_max_ms": 1000,
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
    # how long a change waits before the state file is written (changes within it: one write)
    "state_save_ms": 200,
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

    def set_status(self, status: str, at_ms: int | None = None) -> None:
        """Change the status; ``at_ms``: the time of the change (one round's changes share it)."""
        if status != self.status:
            self.status = status
            self.state_time_ms = at_ms or now_ms()

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


# --------------------------------------------------------------------------- state

class State(Clients):
    """The clusters, their links and mirrors, the knobs, the ACLs, and the state file; the admin
    clients come from ``Clients`` (clients.py)."""

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
        self._init_clients(clusters, config)
        self.state_file: str | None = config.get("state_file")
        self.state_writer = statefile.StateWriter(
            self.state_file, self._state_text,
            delay=lambda: self.knobs["state_save_ms"] / 1000) if self.state_file else None
        # (cluster id, link name) -> worker
        self.workers: dict[tuple[str, str], LinkWorker] = {}  # started by core.Emulator
        self.topics_cache = metadata.TopicsCache()   # topic lists shared by the copiers
        # counts the topics the lab deleted and created again (truncate-and-restore): a copier whose
        # clients predate one makes new ones, as Apache Kafka brokers give the new topic a new topic id
        # that a consumer's cached metadata does not know (its fetches of the old id never recover)
        self.topics_recreated = 0
        self.config_sync_reads = metadata.ReadBudget(100)   # topics/s the config syncs describe
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

    # -- the state file
    def save(self) -> None:
        """The state changed: the state file is written soon, in the background (statefile.py)."""
        if self.state_writer is not None:
            self.state_writer.request()

    def _state_text(self) -> str:
        with self.lock:
            return statefile.dumps({
                "version": 2, "cluster_id": self.cluster_id, "knobs": self.knobs,
                "clusters": {c.cluster_id: {"links": [l.to_state() for l in c.links.values()]}
                             for c in self.served()},
                "acls": self.acls.to_state()})

    def wake(self, link: Link, poll: bool = True) -> None:
        """Make the copier of ``link`` run a round now (a mirror was added or changed state);
        ``poll``: and poll the source at once (copier.LinkWorker.wake)."""
        worker = self.workers.get((link.cluster_id, link.name))
        if worker is not None:
            worker.wake(poll)

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
                src_wm = kafka.watermarks(self.admin_for(bootstrap, link), src_tps, timeout=3)
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

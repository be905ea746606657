"""The emulator's Kafka clients: which settings reach each lab cluster, and the admin clients made
with them. A bootstrap is known by its normalised host:port set (``known``: cluster id and the
emulator's client settings); an OUTBOUND link to a cluster served with ``link_security`` (the
apache-kafka lab brokers) connects with its own ``security.protocol``, SASL and trust store configs,
as Confluent Server does (``link_client_config``), so a link with a wrong password fails as it would
there. ``admin_for`` keeps one admin client per cluster and per distinct link settings, and records
the last error each link client saw (``last_client_error``). A mixin of ``model.State``, which calls
``_init_clients`` first in its constructor."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from confluent_kafka.admin import AdminClient

from linkops_lab import kafka

if TYPE_CHECKING:  # annotations only (model imports this module)
    from linkops_lab.emulator.model import Cluster, Link

_JAAS_OPTION = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))')


def jaas_options(line: str) -> dict[str, str]:
    """The options of a ``sasl.jaas.config`` line (``username``, ``password``, ...)."""
    out = {}
    for m in _JAAS_OPTION.finditer(line):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        out[m.group(1)] = re.sub(r"\\(.)", r"\1", value)
    return out


class Clients:
    """Client settings and admin clients of the lab clusters (a mixin of model.State, under its ``lock``)."""

    def _init_clients(self, clusters: "list[Cluster]", config: dict) -> None:
        # bootstrap (normalised) -> (cluster id, client config)
        self.known: dict[frozenset, tuple[str, dict]] = {}
        # clusters whose links connect with their own security configs (apache-kafka brokers)
        self.link_security: set[frozenset] = set()
        for c in clusters:
            self.known[self._norm(c.bootstrap)] = (c.cluster_id, c.client_config)
        for c in config.get("clusters", []):
            if c.get("link_security"):
                self.link_security.add(self._norm(c["bootstrap"]))
        self.client_errors: dict = {}   # admin client key -> last error its error_cb saw
        self._admins: dict[str, AdminClient] = {}
        # replaced clients (drop_admin keep=True), kept: destroying a librdkafka client whose requests timed out
        # can abort the process (confluentinc/librdkafka#3663)
        self._retired_admins: list[AdminClient] = []

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

    def link_client_config(self, bootstrap: str, link: "Link | None") -> dict:
        """The client settings a link uses for the remote cluster at ``bootstrap``.

        For a cluster served with ``link_security`` (the apache-kafka lab brokers), an
        OUTBOUND link connects with its own ``security.protocol``, ``sasl.mechanism``,
        ``sasl.jaas.config`` (username and password) and ``ssl.truststore.*`` /
        ``ssl.endpoint.identification.algorithm`` configs, as Confluent Server does;
        otherwise (and for INBOUND halves) the emulator's settings of that cluster."""
        base = self.client_config_for(bootstrap)
        if (link is None or self._norm(bootstrap) not in self.link_security
                or link.connection_mode != "OUTBOUND" or link.mode == "SOURCE"):
            return base
        conf = {k: v for k, v in base.items() if not k.startswith(("security.", "sasl.", "ssl."))}
        protocol = (link.config("security.protocol") or "PLAINTEXT").upper()
        conf["security.protocol"] = protocol
        if protocol.startswith("SASL"):
            conf["sasl.mechanism"] = link.config("sasl.mechanism") or "GSSAPI"
            opts = jaas_options(link.config("sasl.jaas.config") or "")
            if "username" in opts:
                conf["sasl.username"] = opts["username"]
            if "password" in opts:
                conf["sasl.password"] = opts["password"]
        if protocol.endswith("SSL"):
            store_type = (link.config("ssl.truststore.type") or "JKS").upper()
            if link.config("ssl.truststore.certificates") and store_type == "PEM":
                conf["ssl.ca.pem"] = link.config("ssl.truststore.certificates")
            elif link.config("ssl.truststore.location") and store_type == "PEM":
                conf["ssl.ca.location"] = link.config("ssl.truststore.location")
            # a JKS/PKCS12 trust store librdkafka cannot read: the system CAs (not the lab CA)
            algo = link.config("ssl.endpoint.identification.algorithm")
            conf["ssl.endpoint.identification.algorithm"] = "https" if algo else "none"
        return conf

    def admin_for(self, bootstrap: str, link: "Link | None" = None) -> AdminClient:
        """An admin client of the cluster at ``bootstrap``: the emulator's own, or with
        ``link`` the one that link's configs make (``link_client_config``)."""
        conf = self.link_client_config(bootstrap, link) if link is not None else None
        if conf is None or conf == self.client_config_for(bootstrap):
            conf = self.client_config_for(bootstrap)
        key = self.admin_key(bootstrap, conf)
        with self.lock:
            adm = self._admins.get(key)
            if adm is None:
                extra = {"socket.connection.setup.timeout.ms": 3000}
                if key != bootstrap:
                    errors = self.client_errors

                    def on_error(err, key=key):
                        if not err.str().endswith("brokers are down"):
                            errors[key] = err.str()
                    # a link whose credentials fail retries for ever: errors go to error_cb
                    extra.update(error_cb=on_error, log_level=2)
                adm = kafka.admin(bootstrap, conf, **extra)
                self._admins[key] = adm
            return adm

    def admin_key(self, bootstrap: str, conf: dict) -> object:
        """The key of the admin client with settings ``conf`` in ``_admins``: the bootstrap for the
        emulator's own settings of that cluster, else the bootstrap and the settings."""
        return bootstrap if conf == self.client_config_for(bootstrap) else (bootstrap, tuple(sorted(conf.items())))

    def drop_admin(self, bootstrap: str, conf: dict, keep: bool = False) -> None:
        """Forget the admin client with settings ``conf`` and its last error (a client whose address
        or credentials fail retries for ever); the next ``admin_for`` makes a new one. ``keep``: keep
        the old client instead of destroying it (see ``_retired_admins``)."""
        key = self.admin_key(bootstrap, conf)
        with self.lock:
            old = self._admins.pop(key, None)
            self.client_errors.pop(key, None)
            if keep and old is not None:
                self._retired_admins.append(old)

    @classmethod
    def reachable(cls, bootstrap: str, timeout: float = 1.0) -> bool:
        """Whether one of the hosts of ``bootstrap`` accepts a TCP connection."""
        import socket
        for hp in cls._norm(bootstrap):
            host, _, port = hp.rpartition(":")
            try:
                with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                    return True
            except (OSError, ValueError):
                continue
        return False

    def last_client_error(self, bootstrap: str, link: "Link | None") -> str | None:
        """The last error the error callback of ``link``'s own admin client saw (e.g. a
        failed SASL authentication or TLS handshake, which metadata calls only time out on)."""
        key = self.admin_key(bootstrap, self.link_client_config(bootstrap, link))
        adm = self._admins.get(key)
        if adm is not None:
            try:
                adm.poll(0)            # error_cb runs when the client is polled
            except Exception:  # noqa: BLE001
                pass
        return self.client_errors.get(key)

    def remote_cluster_id(self, bootstrap: str, timeout: float = 5.0, link: "Link | None" = None) -> str:
        """Cluster id of the cluster at ``bootstrap``, asked with ``link``'s own client settings when
        given: the lab's logical id for a known bootstrap, else what the cluster reports
        (DescribeCluster: not the metadata of every topic). Raises KafkaException."""
        found = self.admin_for(bootstrap, link).describe_cluster(request_timeout=timeout).result().cluster_id
        known = self.known.get(self._norm(bootstrap))
        return known[0] if known else found

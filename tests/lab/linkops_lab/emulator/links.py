"""Link operations of the emulator: create (with ``validate_only`` / ``validate_link``, link and
connection modes, the remote cluster id check), delete (``force``), and config changes
(``alter_configs``: set and reset, with the lab's config table in linkconfigs.py deciding what is
settable and valid). A mixin of ``core.Emulator``; it works on ``model.State`` under its lock
and starts or stops the link's copier through the emulator."""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import KafkaException

from linkops_lab.emulator.faults import link_error_for, link_validation_error
from linkops_lab.emulator.linkconfigs import CONFIG_DEFS, ConfigValueError, check_value
from linkops_lab.emulator.model import (
    ApiError, LINK_NAME_RE, Link, REMOTE_ID_FIELD, TOPIC_NAME_RE, bad_request)

log = logging.getLogger("lab.emulator")


class LinkOps:
    """Link operations of the emulator (a mixin of core.Emulator over model.State)."""

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
            # as Confluent Server: connect with the link's own settings (credentials, trust store)
            found = self._validated_remote_id(name, bootstrap, Link(name, remote_id, configs, local.cluster_id))
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

    def _validated_remote_id(self, name: str, bootstrap: str, probe: "Link") -> str:
        """validate_link: the remote cluster's id, read with the link's own security configs on a lab
        broker served with link_security (else the emulator's settings of that cluster), as Confluent
        refuses to create a link that cannot read the remote cluster: HTTP 400 naming the failure (an
        address that does not answer, a wrong SASL password or mechanism, an untrusted CA). With the
        link's own configs a refused login or certificate fails at once, other failures after 15 s."""
        conf = self.link_client_config(bootstrap, probe)
        own = conf != self.client_config_for(bootstrap)
        deadline = time.monotonic() + (15 if own else 0)
        while True:
            try:
                return self.remote_cluster_id(bootstrap, timeout=1 if own else 5, link=probe)
            except KafkaException as exc:
                err = (self.last_client_error(bootstrap, probe) if own else None) or exc.args[0].str()
            # a refused login or certificate is final; anything else may be a slow broker
            if link_error_for(bootstrap, err) == "AUTHENTICATION_ERROR" or time.monotonic() > deadline:
                break
        self.drop_admin(bootstrap, conf)   # it would retry for ever
        raise bad_request(link_validation_error(name, bootstrap, err))

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
        self.wake(link)

"""The emulator's Kafka REST v3 API for one served cluster: the route table, request parameters and
bodies to emulator calls (``core.Emulator``), and the rendering of clusters, links, configs, tasks,
mirrors and topics in the shapes of the Confluent Cloud spec, under ``/kafka/v3`` and ``/v3``;
the lab-only ``/lab/v1/knobs`` and the counted ``inject_errors``. ACL routes come from acls.py.
A handler returns ``(status, body)``; errors are ``model.ApiError``."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from typing import TYPE_CHECKING
from urllib.parse import unquote

from confluent_kafka import KafkaException

from linkops_lab.emulator import acls, faults, supervisor
from linkops_lab.emulator.linkconfigs import CONFIG_DEFS
from linkops_lab.emulator.model import (
    ACTION_ALIASES, ApiError, Cluster, DEFAULT_KNOBS, Link, MIRROR_ACTIONS, MIRROR_STATUSES, Mirror,
    REMOTE_ID_FIELD, bad_request, display_status, not_found)

if TYPE_CHECKING:  # annotations only (no import cycle)
    from linkops_lab.emulator.core import Emulator

log = logging.getLogger("lab.emulator")


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
        # each route with a readable name for the request counts: /clusters/{cid}/links/{link}/...
        self.routes = [(re.compile("^" + rx + "$"), methods,
                        re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", rx).replace("{cid}", "{cluster_id}"))
                       for rx, methods in self.routes]
        # requests this cluster's REST received (lab paths left out): total and per route
        self._count_lock = threading.Lock()
        self.request_count = 0
        self.route_counts: dict[str, int] = {}

    def count(self, req, route: str | None = None) -> None:
        """Count a request (``route`` None: only the total; the route once it is known)."""
        if req.path.startswith("/lab/"):
            return
        with self._count_lock:
            if route is None:
                self.request_count += 1
            else:
                self.route_counts[route] = self.route_counts.get(route, 0) + 1

    def lab_stats(self) -> dict:
        """``GET /lab/v1/stats``: what this REST server answered and how often the state file
        was written (the fleet benchmark reads the request counts here)."""
        writer = self.emu.state_writer
        with self._count_lock:
            return {"cluster_id": self.cid, "requests": self.request_count,
                    "requests_by_route": dict(sorted(self.route_counts.items())),
                    "state_writes": writer.writes if writer else 0,
                    "state_last_write_seconds": round(writer.last_write_s, 4) if writer else 0.0}

    # -- rendering helpers
    def base(self, req) -> str:
        return f"{req.scheme}://{req.host}{req.prefix}"

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
            for link in self.emu.all_links():
                self.emu.wake(link)        # new timings apply now, not after the current wait
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
            return 200, {"status": "ok", "cluster_id": self.cid, "cluster": self.cluster.name,
                         "worker": supervisor.worker_number(), "worker_pid": os.getpid()}
        if path == "/lab/v1/stats" and req.method == "GET":
            return 200, self.lab_stats()
        for prefix in ("/kafka/v3", "/v3"):
            if path.startswith(prefix + "/"):
                req.prefix = prefix
                rest = path[len(prefix):]
                for rx, methods, name in self.routes:
                    mt = rx.match(rest)
                    if mt:
                        self.count(req, f"{req.method} {name}")
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

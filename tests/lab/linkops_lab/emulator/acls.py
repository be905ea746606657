"""ACLs of the lab clusters and the cluster link's ACL sync.

An apache-kafka lab broker has an authorizer: its ACLs are the broker's, read and changed
through the Kafka admin API (broker_acls.py). A noida broker has none (``describe_acls``
answers SECURITY_DISABLED), so the emulator keeps that cluster's ACLs itself:

* ``AclStore``: the ACL bindings per cluster id, persisted in the emulator
  state file (``{"acls": {cluster_id: [binding, ...]}}``); only for clusters
  without ``broker_acls`` (noida, external clusters).
* ``routes(api)``: Kafka REST v3 ``/clusters/{cluster_id}/acls`` (GET with the
  spec's filter query parameters, POST one ACL, DELETE by filter returning the
  deleted ACLs) and ``/acls:batch`` (POST several), for every cluster the lab
  knows (source and destination), in the shapes of the Confluent Cloud spec
  (``AclDataList``, ``AclData``, the DELETE ``{"data": [...]}`` list), on the
  broker's ACLs or the store (``broker_acls.for_cluster``).
* ``parse_acl_filters``: the ``acl.filters`` link config (cluster-linking-api.md
  section 3) parsed like Confluent Server's ``AclJson``: unknown properties
  rejected; ``resourceType``, ``patternType``, ``operation``, ``permissionType``
  required; values looked up like Kafka ``SecurityUtils`` (exact PascalCase,
  then upper-cased, underscores not stripped: ``describeConfigs`` and
  ``DESCRIBECONFIGS`` work, ``describe_configs`` does not); ``principal`` must
  be ``Type:name``; a missing ``name``/``principal``/``host`` matches anything.
* ``AclFilter.matches``: Kafka's ``AclBindingFilter`` semantics (``ANY`` and
  ``MATCH`` pattern types, ``*`` literal resources, prefixes).
* ``maybe_sync(worker)``: the link's AclSync task. Every ``acl.sync.ms`` it
  copies the source cluster's ACLs that match ``acl.filters`` to the
  destination, and deletes destination ACLs that match the filters but are no
  longer on the source (as Confluent documents: keep destination-only ACLs out
  of the filters). A source broker's ACLs are read with the link's own client
  (its credentials: the link principal needs DESCRIBE on the cluster), a
  destination broker's are changed with the lab's. ``render_task(link,
  link_state)`` is the task's REST entry.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from urllib.parse import quote, urlencode

log = logging.getLogger("lab.acls")

# Kafka enums (org.apache.kafka.common.resource.ResourceType, PatternType,
# org.apache.kafka.common.acl.AclOperation, AclPermissionType)
RESOURCE_TYPES = ("UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID",
                  "DELEGATION_TOKEN", "USER")
PATTERN_TYPES = ("UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED")
OPERATIONS = ("UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
              "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
              "CREATE_TOKENS", "DESCRIBE_TOKENS")
PERMISSIONS = ("UNKNOWN", "ANY", "DENY", "ALLOW")

# what Kafka REST v3 accepts and returns (the Cloud spec's enums)
REST_RESOURCE_TYPES = ("UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID",
                       "DELEGATION_TOKEN")
REST_OPERATIONS = OPERATIONS[:13]

CLUSTER_RESOURCE_NAME = "kafka-cluster"
WILDCARD = "*"

ACL_SYNC_MISCONFIGURED = ("ACL migration is enabled but acl.filters is not set. Please set "
                          "acl.filters to proceed with ACL migration.")


class AclFilterError(ValueError):
    """``acl.filters`` is not a valid ACL filter document."""


# --------------------------------------------------------------------------- SecurityUtils

def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:].lower() for part in name.split("_") if part)


def _lookup_table(values: tuple[str, ...]) -> dict[str, str]:
    table = {}
    for v in values:
        table[_pascal(v)] = v
        table[_pascal(v).upper()] = v
    return table


_RT = _lookup_table(RESOURCE_TYPES)
_OP = _lookup_table(OPERATIONS)
_PERM = _lookup_table(PERMISSIONS)


def _security_utils(table: dict[str, str], value: str) -> str:
    """Kafka ``SecurityUtils.valueFromMap``: exact key, then the upper-cased key."""
    return table.get(value) or table.get(value.upper()) or "UNKNOWN"


def resource_type(value: str) -> str:
    return _security_utils(_RT, value)


def operation(value: str) -> str:
    return _security_utils(_OP, value)


def permission_type(value: str) -> str:
    return _security_utils(_PERM, value)


def pattern_type(value: str) -> str:
    """``PatternType.fromString``: the upper-cased enum name."""
    v = value.upper()
    return v if v in PATTERN_TYPES else "UNKNOWN"


def check_principal(principal: str) -> None:
    """Kafka ``SecurityUtils.parseKafkaPrincipal``."""
    if not principal or ":" not in principal:
        raise AclFilterError("expected a string in format principalType:principalName but got "
                             f"{principal}")


# --------------------------------------------------------------------------- bindings and filters

@dataclass(frozen=True, order=True)
class Acl:
    """One ACL binding (all fields are Kafka enum names / plain strings)."""
    resource_type: str
    resource_name: str
    pattern_type: str
    principal: str
    host: str
    operation: str
    permission: str


@dataclass(frozen=True)
class AclFilter:
    """Kafka ``AclBindingFilter``; ``None`` name/principal/host match anything."""
    resource_type: str = "ANY"
    resource_name: str | None = None
    pattern_type: str = "ANY"
    principal: str | None = None
    host: str | None = None
    operation: str = "ANY"
    permission: str = "ANY"

    def matches(self, acl: Acl) -> bool:
        # ResourcePatternFilter.matches
        if self.resource_type != "ANY" and self.resource_type != acl.resource_type:
            return False
        if self.pattern_type not in ("ANY", "MATCH") and self.pattern_type != acl.pattern_type:
            return False
        if self.resource_name is not None:
            if self.pattern_type in ("ANY", acl.pattern_type):
                if self.resource_name != acl.resource_name:
                    return False
            elif acl.pattern_type == "LITERAL":   # MATCH against a literal ACL
                if self.resource_name != acl.resource_name and acl.resource_name != WILDCARD:
                    return False
            elif acl.pattern_type == "PREFIXED":  # MATCH against a prefixed ACL
                if not self.resource_name.startswith(acl.resource_name):
                    return False
            else:
                return False
        # AccessControlEntryFilter.matches
        if self.principal is not None and self.principal != acl.principal:
            return False
        if self.host is not None and self.host != acl.host:
            return False
        if self.operation != "ANY" and self.operation != acl.operation:
            return False
        return self.permission == "ANY" or self.permission == acl.permission


def parse_acl_filters(value: str | None) -> list[AclFilter]:
    """Parse ``acl.filters`` like Confluent Server's ``AclJson.parse``.

    An empty or missing value gives ``[]`` (ACL sync then reports a
    misconfiguration). Raises ``AclFilterError`` naming the problem."""
    if value is None or not value.strip():
        return []
    try:
        doc = json.loads(value)
    except json.JSONDecodeError as exc:
        raise AclFilterError(f"Exception while parsing ACL JSON: {exc.msg} at line {exc.lineno} "
                             f"column {exc.colno}") from None
    if not isinstance(doc, dict):
        raise AclFilterError('Exception while parsing ACL JSON: expected an object {"aclFilters": [...]}')
    unknown = set(doc) - {"aclFilters"}
    if unknown:
        raise AclFilterError(f"Exception while parsing ACL JSON: unrecognized field(s) "
                             f"{sorted(unknown)} (known: aclFilters)")
    filters = doc.get("aclFilters")
    if filters is None:
        raise AclFilterError("acl.filters cannot be the JSON null")
    if not isinstance(filters, list):
        raise AclFilterError("Exception while parsing ACL JSON: aclFilters must be a list")
    if not filters:
        raise AclFilterError("aclFilters field cannot be empty")
    out = []
    for i, f in enumerate(filters):
        where = f"aclFilters[{i}]"
        if not isinstance(f, dict):
            raise AclFilterError(f"Exception while parsing ACL JSON: {where} must be an object")
        unknown = set(f) - {"resourceFilter", "accessFilter"}
        if unknown:
            raise AclFilterError(f"Exception while parsing ACL JSON: unrecognized field(s) "
                                 f"{sorted(unknown)} in {where} (known: accessFilter, resourceFilter)")
        rf, af = f.get("resourceFilter"), f.get("accessFilter")
        for name, obj, known in (("resourceFilter", rf, {"resourceType", "name", "patternType"}),
                                 ("accessFilter", af,
                                  {"principal", "host", "operation", "permissionType"})):
            if not isinstance(obj, dict):
                raise AclFilterError(f"{where}.{name} is missing or not an object")
            unknown = set(obj) - known
            if unknown:
                raise AclFilterError(f"Exception while parsing ACL JSON: unrecognized field(s) "
                                     f"{sorted(unknown)} in {where}.{name} (known: "
                                     f"{', '.join(sorted(known))})")
            for k, v in obj.items():
                if v is not None and not isinstance(v, str):
                    raise AclFilterError(f"{where}.{name}.{k} must be a string")

        def required(obj: dict, key: str) -> str:
            v = obj.get(key)
            if v is None:
                raise AclFilterError(f"{key} field may not be null.")
            if v == "":
                raise AclFilterError(f"{key} field may not be empty.")
            return v

        rt = required(rf, "resourceType")
        if resource_type(rt) == "UNKNOWN":
            raise AclFilterError(f"Unknown resourceType: {rt}")
        pt = required(rf, "patternType")
        if pattern_type(pt) == "UNKNOWN":
            raise AclFilterError(f"Unknown patternType: {pt}")
        perm = required(af, "permissionType")
        if permission_type(perm) == "UNKNOWN":
            raise AclFilterError(f"Unknown permissionType: {perm}")
        op = required(af, "operation")
        if operation(op) == "UNKNOWN":
            raise AclFilterError(f"Unknown operation: {op}")
        principal = af.get("principal")
        if principal is not None:
            check_principal(principal)
        out.append(AclFilter(resource_type(rt), rf.get("name"), pattern_type(pt), principal,
                             af.get("host"), operation(op), permission_type(perm)))
    return out


def check_acl_filters(value: str | None) -> None:
    """Config validator for ``acl.filters`` (raises ``AclFilterError``)."""
    parse_acl_filters(value)


# --------------------------------------------------------------------------- store

class AclStore:
    """ACL bindings per cluster id. Thread-safe; ``on_change`` (e.g. the
    emulator's ``save``) runs after every change."""

    def __init__(self, on_change=None):
        self._lock = threading.RLock()
        self._acls: dict[str, set[Acl]] = {}
        self.on_change = on_change

    def list(self, cluster_id: str, flt: AclFilter | None = None) -> list[Acl]:
        with self._lock:
            acls = self._acls.get(cluster_id, set())
            return sorted(a for a in acls if flt is None or flt.matches(a))

    def matching(self, cluster_id: str, filters: list[AclFilter]) -> set[Acl]:
        with self._lock:
            return {a for a in self._acls.get(cluster_id, set()) if any(f.matches(a) for f in filters)}

    def create(self, cluster_id: str, acls: list[Acl]) -> list[Acl]:
        """Add bindings (existing ones are kept once); returns the new ones."""
        with self._lock:
            have = self._acls.setdefault(cluster_id, set())
            new = [a for a in dict.fromkeys(acls) if a not in have]
            have.update(new)
        if new:
            self._changed()
        return new

    def delete(self, cluster_id: str, filters: list[AclFilter]) -> list[Acl]:
        """Remove every binding matched by one of ``filters``; returns them."""
        with self._lock:
            have = self._acls.get(cluster_id, set())
            gone = sorted(a for a in have if any(f.matches(a) for f in filters))
            have.difference_update(gone)
        if gone:
            self._changed()
        return gone

    def remove(self, cluster_id: str, acls: set[Acl]) -> list[Acl]:
        """Remove exactly these bindings."""
        with self._lock:
            have = self._acls.get(cluster_id, set())
            gone = sorted(a for a in acls if a in have)
            have.difference_update(gone)
        if gone:
            self._changed()
        return gone

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def to_state(self) -> dict:
        with self._lock:
            return {cid: [asdict(a) for a in sorted(acls)] for cid, acls in self._acls.items() if acls}

    def load_state(self, state: dict | None) -> None:
        with self._lock:
            self._acls = {cid: {Acl(**a) for a in items} for cid, items in (state or {}).items()}


# --------------------------------------------------------------------------- REST

def _api_error(status: int, error_code: int, message: str) -> Exception:
    from linkops_lab.emulator.model import ApiError  # model imports this module; import at call time
    return ApiError(status, error_code, message)


def _bad(message: str) -> Exception:
    return _api_error(400, 40002, message)


def _enum_param(req, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    v = req.query_str(name)
    if v is None or v == "":
        return default
    if v not in allowed:
        raise _api_error(400, 400, f"Cannot deserialize value of type `{name}` from String \"{v}\": "
                                   f"not one of the values accepted: {list(allowed)}")
    return v


def _acl_self(cluster_url: str, a: Acl) -> str:
    q = urlencode([("resource_type", a.resource_type), ("resource_name", a.resource_name),
                   ("pattern_type", a.pattern_type), ("principal", a.principal), ("host", a.host),
                   ("operation", a.operation), ("permission", a.permission)], quote_via=quote,
                  safe="*")
    return f"{cluster_url}/acls?{q}"


def render_acl(cluster_url: str, cluster_id: str, a: Acl) -> dict:
    return {"kind": "KafkaAcl", "metadata": {"self": _acl_self(cluster_url, a)},
            "cluster_id": cluster_id, "resource_type": a.resource_type,
            "resource_name": a.resource_name, "pattern_type": a.pattern_type,
            "principal": a.principal, "host": a.host, "operation": a.operation,
            "permission": a.permission}


def acl_from_body(item) -> Acl:
    """A ``CreateAclRequestData`` checked like Kafka's ``AclControlManager.validateNewAcl``."""
    if not isinstance(item, dict):
        raise _api_error(400, 400, "An ACL must be a JSON object.")
    fields = ("resource_type", "resource_name", "pattern_type", "principal", "host", "operation",
              "permission")
    missing = [f for f in fields if not isinstance(item.get(f), str)]
    if missing:
        raise _api_error(400, 400, f"Missing required string field(s): {', '.join(missing)}.")
    unknown = set(item) - set(fields)
    if unknown:
        raise _api_error(400, 400, f"Unrecognized field(s): {sorted(unknown)}.")
    rt, pt, op, perm = (item["resource_type"], item["pattern_type"], item["operation"],
                        item["permission"])
    for name, v, allowed in (("resource_type", rt, REST_RESOURCE_TYPES),
                             ("pattern_type", pt, PATTERN_TYPES),
                             ("operation", op, REST_OPERATIONS),
                             ("permission", perm, PERMISSIONS)):
        if v not in allowed:
            raise _api_error(400, 400, f"Cannot deserialize value of type `{name}` from String "
                                       f"\"{v}\": not one of the values accepted: {list(allowed)}")
    if rt in ("ANY", "UNKNOWN"):
        raise _bad(f"Invalid resourceType {rt}")
    if pt not in ("LITERAL", "PREFIXED"):
        raise _bad(f"Invalid patternType {pt}")
    if op in ("ANY", "UNKNOWN"):
        raise _bad(f"Invalid operation {op}")
    if perm not in ("ALLOW", "DENY"):
        raise _bad(f"Invalid permissionType {perm}")
    if not item["resource_name"]:
        raise _bad("Resource name should not be empty")
    if rt == "CLUSTER" and item["resource_name"] != CLUSTER_RESOURCE_NAME:
        raise _bad(f"The only valid name for the CLUSTER resource is {CLUSTER_RESOURCE_NAME}")
    try:
        check_principal(item["principal"])
    except AclFilterError as exc:
        raise _bad(f"Invalid principal: {exc}") from None
    if not item["host"]:
        raise _bad("Invalid host: the host must not be empty (use * for any host)")
    return Acl(rt, item["resource_name"], pt, item["principal"], item["host"], op, perm)


class AclRoutes:
    """The ``/acls`` handlers; ``api`` is the emulator's ``Api`` (for URLs)."""

    def __init__(self, api):
        self.api = api
        self.emu = api.emu

    def routes(self) -> list:
        c = r"(?P<cid>[^/]+)"
        return [
            (rf"/clusters/{c}/acls", {"GET": self.list_acls, "POST": self.create_acl,
                                      "DELETE": self.delete_acls}),
            (rf"/clusters/{c}/acls:batch", {"POST": self.batch_create}),
        ]

    def _cluster(self, req, cid: str) -> str:
        """The cluster's URL; 404 for a cluster this REST server does not serve."""
        check = getattr(self.api, "check", None)
        if check is not None:      # one REST server (port) per cluster: only its own id
            check(cid)
        elif cid not in {self.emu.cluster_id} | {k[0] for k in self.emu.known.values()}:
            raise _api_error(404, 404, f"Cluster {cid} cannot be found.")
        return f"{self.api.base(req)}/clusters/{cid}"

    def _filter(self, req, required: bool) -> AclFilter:
        names = ("resource_type", "pattern_type", "operation", "permission")
        if required:
            for n in names:
                v = req.query_str(n)
                if v is None or v == "" or v == "UNKNOWN":
                    raise _api_error(400, 400, f"{n} cannot be unspecified or UNKNOWN")
        rt = _enum_param(req, "resource_type", REST_RESOURCE_TYPES, "ANY")
        pt = _enum_param(req, "pattern_type", PATTERN_TYPES, "ANY")
        op = _enum_param(req, "operation", REST_OPERATIONS, "ANY")
        perm = _enum_param(req, "permission", PERMISSIONS, "ANY")
        for n, v in (("resource_type", rt), ("pattern_type", pt), ("operation", op),
                     ("permission", perm)):
            if v == "UNKNOWN":
                raise _api_error(400, 400, f"{n} cannot be unspecified or UNKNOWN")
        return AclFilter(rt, req.query_str("resource_name"), pt, req.query_str("principal"),
                         req.query_str("host"), op, perm)

    def _acls(self, cid: str, call, *args):
        """``call`` (a method name of ``broker_acls.for_cluster``) on cluster ``cid``'s ACLs;
        a broker's error is 400 40002 (invalid ACLs) or 503 50003 with Kafka's message."""
        from linkops_lab.emulator import broker_acls
        try:
            return getattr(broker_acls.for_cluster(self.emu, cid), call)(*args)
        except broker_acls.BrokerAclError as exc:
            if exc.code.startswith("INVALID") or exc.code in ("SECURITY_DISABLED", "POLICY_VIOLATION"):
                raise _bad(str(exc)) from None
            raise _api_error(503, 50003, str(exc)) from None

    def list_acls(self, req, cid):
        cu = self._cluster(req, cid)
        flt = self._filter(req, required=False)
        query = [(k, vals[-1]) for k, vals in req.query.items()]
        self_url = f"{cu}/acls" + ("?" + urlencode(query, quote_via=quote, safe="*") if query else "")
        data = [render_acl(cu, cid, a) for a in self._acls(cid, "list", flt)]
        return 200, {"kind": "KafkaAclList", "metadata": {"self": self_url, "next": None},
                     "data": data}

    def create_acl(self, req, cid):
        self._cluster(req, cid)
        acl = acl_from_body(req.json_body(required=True))
        if self._acls(cid, "create", [acl]):
            log.info("cluster %s: created ACL %s", cid, acl)
        return 201, None

    def batch_create(self, req, cid):
        self._cluster(req, cid)
        body = req.json_body(required=True)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise _api_error(400, 400, 'The request body must be {"data": [ACL, ...]}.')
        acls = []
        for i, item in enumerate(items):
            try:
                acls.append(acl_from_body(item))
            except Exception as exc:  # name the entry
                if isinstance(getattr(exc, "message", None), str):
                    exc.message = f"data[{i}]: {exc.message}"
                raise
        new = self._acls(cid, "create", acls)
        log.info("cluster %s: created %d ACL(s) (%d requested)", cid, len(new), len(acls))
        return 201, None

    def delete_acls(self, req, cid):
        cu = self._cluster(req, cid)
        flt = self._filter(req, required=True)
        gone = self._acls(cid, "delete", [flt])
        if gone:
            log.info("cluster %s: deleted %d ACL(s)", cid, len(gone))
        return 200, {"data": [render_acl(cu, cid, a) for a in gone]}


def routes(api) -> list:
    """``(regex, {method: handler})`` pairs for the emulator's ``Api.routes``."""
    return AclRoutes(api).routes()


# --------------------------------------------------------------------------- sync

def sync_ends(emu, link) -> tuple[str | None, str]:
    """``(source, destination)`` cluster ids of the link's ACL sync: ACLs flow
    from the remote cluster (the one at ``bootstrap.servers`` when the lab knows
    it, else the link's remote cluster id) to the cluster holding the link.
    The source is None when the lab does not know that cluster."""
    dst = getattr(link, "cluster_id", None) or emu.cluster_id
    known_ids = {k[0] for k in emu.known.values()}
    bootstrap = link.config("bootstrap.servers")
    if bootstrap:
        known = emu.known.get(emu._norm(bootstrap))
        return (known[0] if known else None), dst
    remote = getattr(link, "remote_cluster_id", None) or link.source_cluster_id
    return (remote if remote in known_ids else None), dst


def sync_once(emu, link) -> dict:
    """One ACL sync round for ``link``: returns ``{"created": [...], "deleted":
    [...]}``; task errors go to ``link.task_errors["AclSync"]``."""
    try:
        filters = parse_acl_filters(link.config("acl.filters"))
    except AclFilterError as exc:
        link.task_errors["AclSync"] = [{"error_code": "MISCONFIGURATION_ERROR",
                                        "error_message": f"Invalid acl.filters: {exc}"}]
        return {"created": [], "deleted": []}
    if not filters:
        link.task_errors["AclSync"] = [{"error_code": "MISCONFIGURATION_ERROR",
                                        "error_message": ACL_SYNC_MISCONFIGURED}]
        return {"created": [], "deleted": []}
    src, dst = sync_ends(emu, link)
    if src is None:
        link.task_errors["AclSync"] = [{
            "error_code": "INTERNAL_ERROR",
            "error_message": "The lab does not know the ACLs of the link's source cluster at "
                             f"'{link.config('bootstrap.servers') or link.source_cluster_id}' "
                             "(only the lab's own clusters have ACLs)."}]
        return {"created": [], "deleted": []}
    from linkops_lab.emulator import broker_acls
    bootstrap = emu.remote_bootstrap(link)
    # a source broker's ACLs are read as the link: with its own credentials
    source = broker_acls.for_cluster(
        emu, src, emu.admin_for(bootstrap, link) if bootstrap else None)
    destination = broker_acls.for_cluster(emu, dst)
    try:
        want = source.matching(filters)
        have = destination.matching(filters)
        created = destination.create(sorted(want - have))
        deleted = destination.remove(have - want)
    except broker_acls.BrokerAclError as exc:
        hint = (" (the link's principal needs DESCRIBE on the source cluster to read its ACLs)"
                if "AUTHORIZATION" in exc.code and "DescribeAcls" in str(exc) else "")
        link.task_errors["AclSync"] = [{"error_code": "INTERNAL_ERROR",
                                        "error_message": f"ACL sync failed: {exc}{hint}"}]
        return {"created": [], "deleted": []}
    if created or deleted:
        log.info("link %s: ACL sync created %d and deleted %d ACL(s) on %s", link.name,
                 len(created), len(deleted), dst)
    link.task_errors["AclSync"] = []
    return {"created": created, "deleted": deleted}


def maybe_sync(worker) -> None:
    """Called from every round of a link worker: sync ACLs when due."""
    emu, link = worker.emu, worker.link
    now = time.monotonic()
    if now < getattr(worker, "_next_acl_sync", 0.0):
        return
    with emu.lock:
        # a source-initiated link syncs from its destination half (link.mode=DESTINATION)
        enabled = link.flag("acl.sync.enable") and (link.config("link.mode") or "").upper() != "SOURCE"
        interval = link.int_config("acl.sync.ms")
    worker._next_acl_sync = now + max(interval, 100) / 1000
    if not enabled:
        link.task_errors.pop("AclSync", None)
        return
    if not link.available or link.paused:
        return
    sync_once(emu, link)


def render_task(link, link_state: str | None) -> dict:
    """The ``AclSync`` entry of ``GET /links/{link}?include_tasks=true``."""
    if not link.flag("acl.sync.enable"):
        return {"task_name": "AclSync", "state": "NOT_CONFIGURED", "errors": []}
    if link_state:
        return {"task_name": "AclSync", "state": link_state, "errors": []}
    errors = list(link.task_errors.get("AclSync") or [])
    if not (link.config("acl.filters") or "").strip():
        errors = [{"error_code": "MISCONFIGURATION_ERROR", "error_message": ACL_SYNC_MISCONFIGURED}]
    else:  # the filters were set after the last sync round
        errors = [e for e in errors if e["error_message"] != ACL_SYNC_MISCONFIGURED]
    return {"task_name": "AclSync", "state": "IN_ERROR" if errors else "ACTIVE", "errors": errors}

"""Cluster link config table of the lab emulator.

Defaults follow a Confluent Cloud ``GET .../links/{link}/configs`` response
(Terraform provider test data) plus the Confluent Platform settings the
collection uses (``cluster.link.paused``, ``mirror.start.offset.spec``,
keystore/truststore passwords, availability checks). See docs/lab.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable


class ConfigValueError(ValueError):
    pass


@dataclass(frozen=True)
class ConfigDef:
    name: str
    default: str | None
    read_only: bool = False       # reported is_read_only=true; cannot be set or altered
    sensitive: bool = False       # value reads back as null
    create_only: bool = False     # may be set at creation, not altered afterwards
    check: Callable[[str], None] | None = None


def _bool(v: str) -> None:
    if v.lower() not in ("true", "false"):
        raise ConfigValueError("Expected value to be either true or false")


def _int(minimum: int | None = None) -> Callable[[str], None]:
    def check(v: str) -> None:
        try:
            n = int(v)
        except ValueError:
            raise ConfigValueError("Expected value to be a 32-bit integer") from None
        if minimum is not None and n < minimum:
            raise ConfigValueError(f"Value must be at least {minimum}")
    return check


def _enum(*allowed: str) -> Callable[[str], None]:
    def check(v: str) -> None:
        if v.upper() not in allowed:
            raise ConfigValueError(f"String must be one of: {', '.join(allowed)}")
    return check


def _start_spec(v: str) -> None:
    if v in ("earliest", "latest"):
        return
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$", v):
        raise ConfigValueError("Expected 'earliest', 'latest' or an ISO-8601 timestamp")


_PATTERN_TYPES = ("LITERAL", "PREFIXED")
_FILTER_TYPES = ("INCLUDE", "EXCLUDE")


def parse_name_filters(value: str | None, key: str) -> list[dict]:
    """Parse a topic/group filter JSON document (``{key: [{name, patternType,
    filterType}]}``) into normalised dicts. Empty value -> []."""
    if value is None or value.strip() == "":
        return []
    try:
        doc = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigValueError(f"Invalid JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or set(doc) != {key} or not isinstance(doc[key], list):
        raise ConfigValueError(f"Expected a JSON object with the single field '{key}' holding a list")
    out = []
    for i, f in enumerate(doc[key]):
        if not isinstance(f, dict):
            raise ConfigValueError(f"{key}[{i}] must be an object")
        unknown = set(f) - {"name", "patternType", "filterType"}
        if unknown:
            raise ConfigValueError(f"{key}[{i}] has unknown field(s) {sorted(unknown)}")
        name = f.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigValueError(f"{key}[{i}].name must be a non-empty string")
        pt = str(f.get("patternType", "")).upper()
        if pt not in _PATTERN_TYPES:
            raise ConfigValueError(f"{key}[{i}].patternType must be LITERAL or PREFIXED")
        ft = str(f.get("filterType", "INCLUDE")).upper()
        if ft not in _FILTER_TYPES:
            raise ConfigValueError(f"{key}[{i}].filterType must be INCLUDE or EXCLUDE")
        out.append({"name": name, "patternType": pt, "filterType": ft})
    return out


def filters_match(filters: list[dict], name: str) -> bool:
    """True when an INCLUDE filter matches ``name`` and no EXCLUDE filter does."""
    def hit(f: dict) -> bool:
        if f["patternType"] == "LITERAL":
            return f["name"] == "*" or f["name"] == name
        return name.startswith(f["name"])
    included = any(hit(f) for f in filters if f["filterType"] == "INCLUDE")
    excluded = any(hit(f) for f in filters if f["filterType"] == "EXCLUDE")
    return included and not excluded


def _topic_filters(v: str) -> None:
    parse_name_filters(v, "topicFilters")


def _group_filters(v: str) -> None:
    parse_name_filters(v, "groupFilters")


def _acl_filters(v: str) -> None:
    """Parsed like Confluent Server's AclJson, by the same code the lab's ACL sync uses."""
    from linkops_lab.emulator.acls import AclFilterError, parse_acl_filters
    try:
        parse_acl_filters(v)
    except AclFilterError as exc:
        raise ConfigValueError(str(exc)) from None


_SECURITY = _enum("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_TLS = "TLSv1.2,TLSv1.3"

_DEFS = [
    ConfigDef("acl.filters", "", check=_acl_filters),
    ConfigDef("acl.sync.enable", "false", check=_bool),
    ConfigDef("acl.sync.ms", "5000", check=_int(1000)),
    ConfigDef("auto.create.mirror.topics.enable", "false", check=_bool),
    ConfigDef("auto.create.mirror.topics.filters", "", check=_topic_filters),
    ConfigDef("availability.check.consecutive.failure.threshold", "5", check=_int(1)),
    ConfigDef("availability.check.ms", "60000", check=_int(0)),
    ConfigDef("bootstrap.servers", None),
    ConfigDef("client.dns.lookup", "use_all_dns_ips"),
    ConfigDef("cluster.link.paused", "false", check=_bool),
    ConfigDef("cluster.link.prefix", None, create_only=True),
    ConfigDef("cluster.link.retry.timeout.ms", "300000", read_only=True),
    ConfigDef("connection.mode", "OUTBOUND", create_only=True, check=_enum("OUTBOUND", "INBOUND")),
    ConfigDef("connections.max.idle.ms", "600000", read_only=True),
    ConfigDef("consumer.group.prefix.enable", "false", check=_bool),
    ConfigDef("consumer.offset.group.filters", "", check=_group_filters),
    ConfigDef("consumer.offset.sync.enable", "false", check=_bool),
    ConfigDef("consumer.offset.sync.ms", "30000", check=_int(0)),
    ConfigDef("link.mode", "DESTINATION", create_only=True,
              check=_enum("DESTINATION", "SOURCE", "BIDIRECTIONAL")),
    ConfigDef("local.listener.name", None),
    ConfigDef("local.sasl.jaas.config", None, sensitive=True),
    ConfigDef("local.sasl.mechanism", "GSSAPI"),
    ConfigDef("local.security.protocol", "PLAINTEXT", check=_SECURITY),
    ConfigDef("local.ssl.cipher.suites", None),
    ConfigDef("local.ssl.enabled.protocols", _TLS),
    ConfigDef("local.ssl.endpoint.identification.algorithm", "https"),
    ConfigDef("local.ssl.key.password", None, sensitive=True),
    ConfigDef("local.ssl.keystore.certificate.chain", None, sensitive=True),
    ConfigDef("local.ssl.keystore.key", None, sensitive=True),
    ConfigDef("local.ssl.keystore.location", None),
    ConfigDef("local.ssl.keystore.password", None, sensitive=True),
    ConfigDef("local.ssl.keystore.type", "JKS"),
    ConfigDef("local.ssl.protocol", "TLSv1.3"),
    ConfigDef("local.ssl.truststore.certificates", None, sensitive=True),
    ConfigDef("local.ssl.truststore.location", None),
    ConfigDef("local.ssl.truststore.password", None, sensitive=True),
    ConfigDef("local.ssl.truststore.type", "JKS"),
    ConfigDef("metadata.max.age.ms", "300000", read_only=True),
    ConfigDef("mirror.start.offset.spec", "earliest", check=_start_spec),
    # set on the OUTBOUND half of a bidirectional pair whose other half is INBOUND
    ConfigDef("remote.link.connection.mode", None, create_only=True,
              check=_enum("OUTBOUND", "INBOUND")),
    ConfigDef("num.cluster.link.fetchers", "1", read_only=True),
    ConfigDef("replica.fetch.backoff.ms", "1000", read_only=True),
    ConfigDef("replica.fetch.max.bytes", "5242880", read_only=True),
    ConfigDef("replica.fetch.min.bytes", "1", read_only=True),
    ConfigDef("replica.fetch.response.max.bytes", "10485760", read_only=True),
    ConfigDef("replica.fetch.wait.max.ms", "500", read_only=True),
    ConfigDef("replica.socket.receive.buffer.bytes", "-1", check=_int(-1)),
    ConfigDef("replica.socket.timeout.ms", "30000", read_only=True),
    ConfigDef("request.timeout.ms", "30000", read_only=True),
    ConfigDef("retry.backoff.ms", "100", read_only=True),
    ConfigDef("sasl.client.callback.handler.class", None),
    ConfigDef("sasl.jaas.config", None, sensitive=True),
    ConfigDef("sasl.login.callback.handler.class", None),
    ConfigDef("sasl.mechanism", "GSSAPI"),
    ConfigDef("security.protocol", "PLAINTEXT", check=_SECURITY),
    ConfigDef("socket.connection.setup.timeout.max.ms", "30000", read_only=True),
    ConfigDef("socket.connection.setup.timeout.ms", "10000", read_only=True),
    ConfigDef("ssl.cipher.suites", None),
    ConfigDef("ssl.enabled.protocols", _TLS),
    ConfigDef("ssl.endpoint.identification.algorithm", "https"),
    ConfigDef("ssl.key.password", None, sensitive=True),
    ConfigDef("ssl.keystore.certificate.chain", None, sensitive=True),
    ConfigDef("ssl.keystore.key", None, sensitive=True),
    ConfigDef("ssl.keystore.location", None),
    ConfigDef("ssl.keystore.password", None, sensitive=True),
    ConfigDef("ssl.keystore.type", "JKS"),
    ConfigDef("ssl.protocol", "TLSv1.3"),
    ConfigDef("ssl.truststore.certificates", None, sensitive=True),
    ConfigDef("ssl.truststore.location", None),
    ConfigDef("ssl.truststore.password", None, sensitive=True),
    ConfigDef("ssl.truststore.type", "JKS"),
    ConfigDef("topic.config.sync.include", ""),
    ConfigDef("topic.config.sync.ms", "5000", check=_int(0)),
]

CONFIG_DEFS: dict[str, ConfigDef] = {d.name: d for d in _DEFS}


def check_value(name: str, value: str | None) -> None:
    """Raise ConfigValueError when ``value`` is not valid for ``name``."""
    d = CONFIG_DEFS[name]
    if value is None:
        return
    if not isinstance(value, str):
        raise ConfigValueError("Value must be a string")
    if d.check is not None:
        d.check(value)

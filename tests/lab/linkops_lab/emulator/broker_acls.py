"""Where a lab cluster's ACLs live: in its broker, or in the emulator.

An apache-kafka lab broker has the StandardAuthorizer: its ACLs are real, and the emulator
reads and changes them through the Kafka admin API (``BrokerAcls``: DescribeAcls, CreateAcls,
DeleteAcls with confluent-kafka), as Confluent Server does behind its REST ``/acls`` and its
cluster links' ACL sync. The emulator config marks such clusters with ``"broker_acls": true``
(``startup.py``, from the broker kind's ``BROKER_ACLS``). A noida broker has no authorizer
(``describe_acls`` answers SECURITY_DISABLED): the emulator keeps that cluster's ACLs itself
(``acls.AclStore``, seen through ``StoreAcls``).

``for_cluster(emu, cid, admin=None)`` gives one or the other, with the same methods:
``list(filter)``, ``matching(filters)``, ``create(acls)`` (the new ones), ``delete(filters)``
and ``remove(acls)`` (the removed ones). ``admin`` is the client to use for a broker (a link's
own client of its source, with the link's credentials); default: the emulator's (super user).
librdkafka knows no ``DELEGATION_TOKEN`` or ``USER`` resources nor the token operations: broker
ACLs of those kinds are not seen (``list`` skips them).
"""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType,
                                   ResourcePatternType, ResourceType)

from linkops_lab.emulator.acls import Acl, AclFilter

TIMEOUT = 10.0
# the Kafka enum name <-> librdkafka's (the CLUSTER resource is librdkafka's BROKER)
_RT_TO_RD = {"CLUSTER": "BROKER"}
_RT_FROM_RD = {"BROKER": "CLUSTER"}


class BrokerAclError(RuntimeError):
    """A DescribeAcls/CreateAcls/DeleteAcls request failed; ``code`` is Kafka's error name."""

    def __init__(self, message: str, code: str = "UNKNOWN", retriable: bool = False):
        super().__init__(message)
        self.code, self.retriable = code, retriable


def broker_acl_clusters(emu) -> set[str]:
    """Ids of the clusters whose ACLs are their broker's (emulator config ``broker_acls``)."""
    ids = getattr(emu, "_broker_acl_ids", None)
    if ids is None:
        ids = {c["cluster_id"] for c in emu.config.get("clusters", []) if c.get("broker_acls")}
        emu._broker_acl_ids = ids
    return ids


def _rd_enum(enum, name: str):
    return getattr(enum, _RT_TO_RD.get(name, name)) if enum is ResourceType else getattr(enum, name)


def _binding(acl: Acl, cls=AclBinding):
    """``acl`` as a librdkafka ``AclBinding`` (or, with ``cls=AclBindingFilter``, the filter that
    matches exactly it)."""
    return cls(_rd_enum(ResourceType, acl.resource_type), acl.resource_name,
               getattr(ResourcePatternType, acl.pattern_type), acl.principal, acl.host,
               getattr(AclOperation, acl.operation), getattr(AclPermissionType, acl.permission))


def _acl(b) -> Acl | None:
    names = (b.restype.name, b.resource_pattern_type.name, b.operation.name, b.permission_type.name)
    if "UNKNOWN" in names:
        return None
    return Acl(_RT_FROM_RD.get(names[0], names[0]), b.name, names[1], b.principal, b.host,
               names[2], names[3])


_EVERYTHING = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                               AclOperation.ANY, AclPermissionType.ANY)


def _error(what: str, exc: BaseException) -> BrokerAclError:
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
    if err is not None and hasattr(err, "name"):
        return BrokerAclError(f"{what} failed: {err.name()}: {err.str()}", err.name(),
                              bool(err.retriable()))
    return BrokerAclError(f"{what} failed: {exc}")


class BrokerAcls:
    """The ACLs of a broker with an authorizer, through the Kafka admin API."""

    def __init__(self, admin, where: str):
        self.admin, self.where = admin, where

    def _all(self) -> list[Acl]:
        try:
            found = self.admin.describe_acls(_EVERYTHING, request_timeout=TIMEOUT).result()
        except Exception as exc:  # noqa: BLE001 - one error type for the callers
            raise _error(f"DescribeAcls on {self.where}", exc) from None
        return sorted(a for a in map(_acl, found) if a is not None)

    def list(self, flt: AclFilter | None = None) -> list[Acl]:
        return [a for a in self._all() if flt is None or flt.matches(a)]

    def matching(self, filters: list[AclFilter]) -> set[Acl]:
        return {a for a in self._all() if any(f.matches(a) for f in filters)}

    def create(self, acls: list[Acl]) -> list[Acl]:
        have = set(self._all())
        new = [a for a in dict.fromkeys(acls) if a not in have]
        if not new:
            return []
        futs = self.admin.create_acls([_binding(a) for a in new], request_timeout=TIMEOUT)
        for fut in futs.values():
            try:
                fut.result()
            except Exception as exc:  # noqa: BLE001
                raise _error(f"CreateAcls on {self.where}", exc) from None
        return new

    def _delete(self, filters: list[AclBindingFilter]) -> list[Acl]:
        if not filters:
            return []
        futs = self.admin.delete_acls(filters, request_timeout=TIMEOUT)
        gone: set[Acl] = set()
        for fut in futs.values():
            try:
                gone.update(a for a in map(_acl, fut.result()) if a is not None)
            except Exception as exc:  # noqa: BLE001
                raise _error(f"DeleteAcls on {self.where}", exc) from None
        return sorted(gone)

    def delete(self, filters: list[AclFilter]) -> list[Acl]:
        # the matching ACLs one by one (exact filters): Kafka's MATCH and the lab's filter agree
        return self._delete([_binding(a, AclBindingFilter) for a in self.matching(filters)])

    def remove(self, acls: set[Acl]) -> list[Acl]:
        return self._delete([_binding(a, AclBindingFilter) for a in sorted(acls)])


class StoreAcls:
    """One cluster's ACLs in the emulator's ``AclStore`` (noida and external clusters)."""

    def __init__(self, store, cid: str):
        self.store, self.cid = store, cid

    def list(self, flt: AclFilter | None = None) -> list[Acl]:
        return self.store.list(self.cid, flt)

    def matching(self, filters: list[AclFilter]) -> set[Acl]:
        return self.store.matching(self.cid, filters)

    def create(self, acls: list[Acl]) -> list[Acl]:
        return self.store.create(self.cid, acls)

    def delete(self, filters: list[AclFilter]) -> list[Acl]:
        return self.store.delete(self.cid, filters)

    def remove(self, acls: set[Acl]) -> list[Acl]:
        return self.store.remove(self.cid, acls)


def for_cluster(emu, cid: str, admin=None) -> BrokerAcls | StoreAcls:
    """The ACLs of cluster ``cid``: its broker's (with ``admin``, default the emulator's
    client of that cluster) or the emulator's store."""
    if cid in broker_acl_clusters(emu):
        return BrokerAcls(admin if admin is not None else emu.cluster_admin(cid), f"cluster {cid}")
    return StoreAcls(emu.acls, cid)

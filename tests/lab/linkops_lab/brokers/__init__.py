"""The broker kinds of the lab: one module per kind, behind the small interface ``lab.Lab`` uses.

Kinds (``KINDS``; ``labctl.py up --brokers KIND``, env ``LAB_BROKERS``; default ``DEFAULT_KIND`` for
``Lab.start``, the tests' fast lab, and ``UP_DEFAULT_KIND`` for ``labctl.py up``, ``make demo`` and molecule):
``noida`` (noida.py: the noida-db Kafka service, plaintext, no Java) and ``apache-kafka``
(apache_kafka.py: Apache Kafka 4.x KRaft brokers, SASL_SSL, ACLs; Java 17+).

A kind module has

* ``KIND`` (its name), ``CLIENT_CONFIG`` (the librdkafka settings every client of such a broker
  needs, whatever the cluster), ``DEFAULT_CLUSTER_IDS`` (``{"source": id, "destination": id}``:
  the ids the lab gives its clusters of this kind; empty when the brokers report distinct ids of
  their own, which the lab then uses: ``LAB_*_CLUSTER_ID`` only names clusters of a kind with
  defaults, and external ones);
* ``start_many(roles, workdir, *, ports, keep_data, die_with_parent, ready_timeout)``: one broker
  per role on 127.0.0.1 (``ports[role]`` or a free port), each in its own session, waited for
  until it answers metadata; returns ``{role: broker}``. On failure nothing it started survives;
* ``restart(role, workdir, port, *, die_with_parent, ready_timeout)``: the broker of ``role``
  again, on the same port with the same data (after ``stop``), waited for; returns the broker;
* ``marker(role, workdir)``: a string in the broker's command line (``procs.Proc`` checks it
  before it signals a pid it read from lab.json);
* ``stop(proc, timeout)``: ``proc`` is the lab's ``procs.Proc`` of the broker; its data stays;
* ``lab_entries(role, broker)``: extra lab.json keys for the cluster (``{}`` if none);
* optional: ``READY_TIMEOUT`` (the least the lab waits for a broker to start) and
  ``LINK_SECURITY`` (True: links to such a cluster connect with their own ``security.protocol``,
  ``sasl.*`` and ``ssl.*`` configs, the emulator's ``link_security``) and ``BROKER_ACLS`` (True:
  the brokers have an authorizer, and the emulator's REST ``/acls`` and ACL sync use their ACLs
  through the Kafka admin API instead of its own store: the emulator's ``broker_acls``).

A broker (what ``start_many``/``restart`` return) has ``bootstrap``, ``cluster_id`` (what it
reports), ``pid``, ``popen``, ``log_path``, ``data_path`` (its data directory) and
``client_config(bootstrap=False)`` (the librdkafka settings of the lab's own, all-powerful
client of that cluster, beyond ``CLIENT_CONFIG``: e.g. SASL_SSL with the super user).
A new kind is a module with these names and an entry in ``KINDS``.
"""

from __future__ import annotations

import os
from importlib import import_module

from linkops_lab.errors import LabError

KINDS = {"noida": "linkops_lab.brokers.noida",
         "apache-kafka": "linkops_lab.brokers.apache_kafka"}
ALIASES = {"noida-db": "noida", "apache": "apache-kafka", "kafka": "apache-kafka"}
DEFAULT_KIND = "noida"
UP_DEFAULT_KIND = "apache-kafka"   # what users start: real brokers with SASL_SSL, ACLs and HTTPS REST
ENV = "LAB_BROKERS"


def resolve(kind: str | None = None, default: str = DEFAULT_KIND) -> str:
    """The canonical name of broker kind ``kind`` (default: ``$LAB_BROKERS``, else ``default``)."""
    name = (kind or os.environ.get(ENV) or default).strip().lower()
    name = ALIASES.get(name, name)
    if name not in KINDS:
        source = "" if kind else f" (from {ENV})"
        raise LabError(f"unknown broker kind {kind or os.environ.get(ENV)!r}{source}: "
                       f"choose one of {', '.join(KINDS)}")
    return name


def get(kind: str | None = None):
    """The module of broker kind ``kind`` (see ``resolve``)."""
    return import_module(KINDS[resolve(kind)])

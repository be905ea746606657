"""The broker kinds of the lab: one module per kind, behind the small interface ``lab.Lab`` uses.

A kind module has ``KIND`` (its name), ``CLIENT_CONFIG`` (the librdkafka settings every client
of such a broker needs), ``DEFAULT_CLUSTER_IDS`` (``{"source": id, "destination": id}``: the
ids the lab gives its clusters of this kind), ``start(data_dir, port, log_path, cwd, preexec)``
(one broker on 127.0.0.1:port with its data in ``data_dir``, in its own session; returns the
``subprocess.Popen``), ``wait(bootstrap, client_config, timeout)`` (until it answers metadata;
returns the cluster id it reports) and ``stop(proc, timeout)`` (``proc`` is the lab's
``procs.Proc`` of the broker; its data stays). Today the lab starts one kind, noida-db
(noida.py). A new kind is a module with these names and an entry in ``KINDS``.
"""

from __future__ import annotations

from importlib import import_module

KINDS = {"noida-db": "linkops_lab.brokers.noida"}
DEFAULT_KIND = "noida-db"


def get(kind: str | None = None):
    """The module of broker kind ``kind`` (default: ``DEFAULT_KIND``)."""
    return import_module(KINDS[kind or DEFAULT_KIND])

"""The Cluster Linking emulator as one object: ``Emulator`` is the state (model.py) with the link
operations (links.py) and the mirror operations (mirrors.py), and it runs one copier
(copier.py) per link. It serves the Cluster Linking part of Kafka REST v3 (api.py, server.py) for
each lab cluster on its own port, like one Confluent Server per cluster, keeps link and mirror
state per cluster in a JSON file, and really copies records from the remote cluster of a link into
the mirror topics on the cluster that holds the link. Link modes DESTINATION, SOURCE and
BIDIRECTIONAL with connection modes OUTBOUND and INBOUND; the mirror state machine with the
PENDING_*, reverse and truncate-and-restore phases. docs/lab.md lists where it differs from
Confluent Server."""

from __future__ import annotations

from linkops_lab.emulator.copier import LinkWorker
from linkops_lab.emulator.links import LinkOps
from linkops_lab.emulator.mirrors import MirrorOps
from linkops_lab.emulator.model import Link, State


class Emulator(LinkOps, MirrorOps, State):
    """The emulator: ``State`` with its operations, and a copier per link."""

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
        if self.state_writer is not None:
            self.state_writer.flush()   # first: the lab waits 15 s for a stop, then kills
        with self.lock:
            workers = list(self.workers.values())
        for w in workers:
            w.stop()
        for w in workers:
            w.join(timeout=10)
        if self.state_writer is not None:
            self.state_writer.close()   # writes what is not saved yet

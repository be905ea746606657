"""Topic metadata of the lab clusters, shared by the link copiers: every copier reads the topics of
its source and of its own cluster (deleted mirror topics, partition counts, auto-create candidates),
and with 20 links on one cluster of 10,000 topics twenty copiers asking every
``metadata_interval_ms`` would keep the emulator busy. ``TopicsCache.get`` answers from a read of
the same client (so the same cluster and credentials) that is younger than ``max_age``, or, for a
large cluster, younger than ``AGE_PER_TOPIC`` per topic it listed (a read costs the emulator about
50 us of CPU per topic, measured at 10,000 topics: they are read every 20 s, not twice a second; a
topic deleted on such a cluster is noticed that much later). A failed read is
not kept: every caller sees its own failure (the availability check counts them)."""

from __future__ import annotations

import threading
import time
import weakref

from confluent_kafka.admin import AdminClient

from linkops_lab import kafka


AGE_PER_TOPIC = 0.002   # seconds


class TopicsCache:
    """``{topic: partitions}`` per admin client, shared by the threads that ask."""

    def __init__(self):
        self._lock = threading.Lock()
        # admin -> (lock, [read at (monotonic), topics, wall-clock ms when the read began]); weak, so a
        # client the emulator dropped takes its entry with it (an id() could be reused by a new client)
        self._entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self, adm: AdminClient, max_age: float, timeout: float = 5.0) -> tuple[dict[str, int], int]:
        """``(topics, read_ms)``: the topics of the cluster ``adm`` talks to, read at most
        ``max_age`` seconds ago (or longer ago when reading takes long, see the module
        docstring), and the wall-clock time in ms when that read began (what changed after it,
        e.g. a topic created since, may be missing). Raises what ``list_topics`` raises."""
        with self._lock:
            lock, entry = self._entries.setdefault(adm, (threading.Lock(), [0.0, None, 0]))
        with lock:                      # one read at a time per client; the others use its answer
            read_at, topics, read_ms = entry
            if topics is not None and time.monotonic() - read_at < max(max_age, len(topics) * AGE_PER_TOPIC):
                return topics, read_ms
            started, read_ms = time.monotonic(), int(time.time() * 1000)
            topics = kafka.topic_partitions(adm, timeout=timeout)
            entry[:] = [started, topics, read_ms]
            return topics, read_ms


class ReadBudget:
    """A rate shared by the copiers for reads whose cost grows with the topics they name (the
    topic config sync describes every mirror's source topic): ``take(n)`` grants up to ``n`` of
    at most ``per_second`` topics a second (a token bucket holding one second's worth). A lab of
    a few hundred mirrors never waits; 10,000 mirrors are synced in turns, a full pass every
    ``10,000 / per_second`` seconds, instead of 1.6 s of CPU every topic.config.sync.ms (measured:
    describing 1,000 topics costs the emulator about 160 ms of CPU)."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self._tokens = per_second
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self, n: int) -> int:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.per_second, self._tokens + (now - self._at) * self.per_second)
            self._at = now
            granted = min(n, int(self._tokens))
            self._tokens -= granted
            return granted

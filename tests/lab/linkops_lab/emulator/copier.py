"""The copier: one ``LinkWorker`` thread per link. Each round it checks the link's connection and
the source's availability, refreshes the source metadata, and copies new records partition by
partition into the mirror topics with the same offsets, keys, values, headers and timestamps,
pausing the fetch of partitions with nothing new. From the same round it drives the PENDING_*
transitions (phases.py) and runs the sync tasks (sync.py, ACL sync in acls.py)."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import NewPartitions

from linkops_lab import kafka
from linkops_lab.emulator import acls, faults, metadata
from linkops_lab.emulator.model import Link, Mirror, REMOTE_LINK_NOT_FOUND
from linkops_lab.emulator.phases import PhasesMixin
from linkops_lab.emulator.sync import SyncMixin

if TYPE_CHECKING:  # annotations only (no import cycle)
    from linkops_lab.emulator.core import Emulator

log = logging.getLogger("lab.emulator")

# a quiet link polls its source at most 250 partitions a second (the links of 10,000 mirrors idle at a
# bounded cost); links of up to 250 partitions, every test's, keep copy_idle_max_ms (1 s)
IDLE_POLL_PER_PARTITION = 0.004   # seconds
# librdkafka 2.16: a client that lived through a restart of the source broker can go on failing every
# metadata request ("Broker transport failure") after the broker is back, while a new client connects
# at once. A link whose source checks keep failing while the source accepts connections makes its
# clients anew, looking at most this often.
RENEW_CLIENTS_AFTER_S = 10.0


class LinkWorker(PhasesMixin, SyncMixin, threading.Thread):
    """Copies records, syncs offsets, auto-creates mirrors and drives the
    PENDING_* transitions of one link."""

    def __init__(self, emu: Emulator, link: Link):
        super().__init__(name=f"link-{link.name}@{link.cluster_id}", daemon=True)
        self.emu = emu
        self.link = link
        self.local = emu.local_cluster(link)       # the cluster that holds the link
        self.local_admin = emu.admin_for(self.local.bootstrap)
        self._halt = threading.Event()
        self._wake = threading.Event()
        # the source watermark poll: due at _next_copy; a poll that finds nothing doubles the wait
        # (copy_interval_ms up to copy_idle_max_ms), a copy or a wake() resets it
        self._next_copy = 0.0
        self._copy_wait = 0.0
        # noted by _transitions, the round's one pass over the mirrors
        self._stopping: list[Mirror] = []
        self._synchronizing: list[Mirror] = []
        self._next_pending = 0.0
        # wall-clock ms of the topic lists this link last checked its mirrors against
        self._checked_read_ms = (0, 0)
        self._src_bootstrap: str | None = None
        self._src_conf: dict | None = None
        self._clients_recreated = 0   # emu.topics_recreated when the clients were made
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._src_topics: dict[str, int] = {}
        self._next_metadata = 0.0
        self._next_auto_create = 0.0
        self._next_offset_sync = 0.0
        self._next_config_sync = 0.0
        self._failures = 0
        self._failing_since: float | None = None   # the first of the source checks failing now
        self._renewed_at = 0.0
        # source (topic, partition) -> next offset the consumer will deliver
        self._assigned: dict[tuple[str, int], int] = {}
        # assigned partitions whose fetching is paused because the source has nothing new for them
        # (the lab broker answers an empty fetch at once instead of waiting fetch.wait.max.ms, so an
        # idle assigned partition would keep the consumer and the broker busy)
        self._fetch_paused: set[tuple[str, int]] = set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()

    def wake(self, poll: bool = True) -> None:
        """Run a round now: the link's mirrors changed. ``poll``: also poll the source at once
        (a new mirror is polled when its PENDING_MIRROR phase ends, not before)."""
        if poll:
            self._next_copy = 0.0
            self._copy_wait = 0.0
        self._wake.set()

    def run(self) -> None:
        try:
            while not self._halt.is_set() and not self.emu.stopping.is_set():
                self._wake.clear()
                busy = False
                try:
                    busy = self.tick()
                except Exception:
                    log.exception("link %s: worker round failed", self.link.name)
                    self._halt.wait(1.0)
                if not busy:
                    self._wake.wait(self._idle_for())
        finally:
            self._close_clients()

    def _idle_for(self) -> float:
        """Seconds until the next thing of this link is due: a source poll, a metadata read, a
        sync task, the end of a PENDING_* phase. Something overdue (a mirror that waits for
        data or a retry) is looked at again after copy_interval_ms."""
        due = [self._next_copy, self._next_metadata, self._next_offset_sync, self._next_config_sync,
               self._next_auto_create, getattr(self, "_next_acl_sync", 0.0)]
        due.append(self._next_pending)
        wait = min(due) - time.monotonic()
        if wait <= 0:
            wait = self.emu.knobs["copy_interval_ms"] / 1000
        return min(wait, max(self.emu.knobs["copy_idle_max_ms"], 1000) / 1000)

    def _polled(self, copied: bool, took: float = 0.0, partitions: int = 0) -> None:
        """Schedule the next source poll: at once after a copy, else after a wait that doubles
        from copy_interval_ms up to copy_idle_max_ms, at least 5 times as long as the poll took (a
        poll of many partitions is not repeated back to back), and at least IDLE_POLL_PER_PARTITION
        per partition polled (a quiet link of 500 partitions polls every 2 s, not every second)."""
        knobs = self.emu.knobs
        base = knobs["copy_interval_ms"] / 1000
        if copied:
            self._copy_wait = 0.0
            self._next_copy = 0.0
            return
        self._copy_wait = min(max(self._copy_wait * 2, base), max(knobs["copy_idle_max_ms"] / 1000, base))
        self._next_copy = time.monotonic() + max(self._copy_wait, took * 5, partitions * IDLE_POLL_PER_PARTITION)

    def _renew_failing_clients(self, bootstrap: str) -> None:
        """While the source checks keep failing with a connection error (the link's ``link_error``)
        although the source accepts TCP connections (a stuck client), make the link's clients anew;
        looked at once every RENEW_CLIENTS_AFTER_S. A source that is down, or refuses the link's
        credentials, is left alone: new clients would fail the same way."""
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if now - max(self._failing_since, self._renewed_at) < RENEW_CLIENTS_AFTER_S:
            return
        self._renewed_at = now
        if self.link.link_error not in ("BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR", "TIMEOUT_ERROR") \
                or not self.emu.reachable(bootstrap):
            return
        log.info("link %s: the source checks have failed for %.0f s while %s accepts connections: new "
                 "clients", self.link.name, now - self._failing_since, bootstrap)
        self.emu.drop_admin(bootstrap, self.emu.link_client_config(bootstrap, self.link), keep=True)
        self._close_clients()      # _clients makes the consumer and the producer again

    def _close_clients(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close()
            except Exception:
                pass
            self._consumer = None
        if self._producer is not None:
            self._producer.flush(5)
            self._producer = None

    def _clients(self, bootstrap: str) -> None:
        src_extra = self.emu.link_client_config(bootstrap, self.link)  # the link's own security
        recreated = self.emu.topics_recreated
        if (bootstrap == self._src_bootstrap and self._consumer is not None
                and src_extra == self._src_conf and recreated == self._clients_recreated):
            return
        self._clients_recreated = recreated
        self._close_clients()
        self._assigned = {}
        self._fetch_paused = set()
        self._src_bootstrap = bootstrap
        self._src_conf = src_extra
        # with the link's own credentials, failures are the link's link_error, not log lines
        quiet = {"log_level": 2} if src_extra != self.emu.client_config_for(bootstrap) else {}
        self._consumer = Consumer(kafka.client_conf(bootstrap, src_extra, kind="consumer", **quiet, **{
            "group.id": f"_confluent-cluster-link-lab-{self.link.name}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_uncommitted",
            "fetch.wait.max.ms": 50,
            "enable.partition.eof": False,
        }))
        self._producer = Producer(kafka.client_conf(
            self.local.bootstrap, self.local.client_config, kind="producer", **{
                "enable.idempotence": True,
                "linger.ms": 5,
                "batch.size": 1000000,
                "queue.buffering.max.messages": 2000000,
                "queue.buffering.max.kbytes": 2000000,
            }))

    # -- one round
    def _fetch_only(self, consumer: Consumer, keys: set[tuple[str, int]]) -> None:
        """Fetch the assigned partitions in ``keys`` (the source has records for them), pause the rest."""
        idle = set(self._assigned) - keys
        resume = [TopicPartition(t, p) for (t, p) in self._fetch_paused - idle]
        pause = [TopicPartition(t, p) for (t, p) in idle - self._fetch_paused]
        if resume:
            consumer.resume(resume)
        if pause:
            consumer.pause(pause)
        self._fetch_paused = idle

    def tick(self) -> bool:
        emu, link = self.emu, self.link
        with emu.lock:
            bootstrap, conn_error, conn_message = emu.connection(link)
            if conn_error:
                # INBOUND without the remote half, or SOURCE without its destination half
                if link.available or link.link_error != conn_error:
                    log.info("link %s on %s: not connected (%s)", link.name, link.cluster_id,
                             conn_error)
                link.available, link.link_error, link.link_error_message = (
                    False, conn_error, conn_message)
            elif link.link_error == REMOTE_LINK_NOT_FOUND:
                log.info("link %s on %s: connected", link.name, link.cluster_id)
                link.available, link.link_error, link.link_error_message = True, "NO_ERROR", None
        if conn_error:
            self._transitions()
            self._finish_pending()
            self._polled(False)
            return False
        if link.mode == "SOURCE":
            # the source half only carries the connection; its destination half mirrors
            if time.monotonic() >= self._next_metadata:
                self._refresh_metadata(bootstrap)
                self._next_metadata = time.monotonic() + self._metadata_wait()
            self._polled(False)
            return False
        now = time.monotonic()
        if now >= self._next_metadata:
            self._refresh_metadata(bootstrap)
            self._next_metadata = now + self._metadata_wait()
        self._clients(bootstrap)
        self._transitions()
        busy = False
        if time.monotonic() >= self._next_copy:
            with emu.lock:
                copy_ok = link.available and not link.paused and not emu.knobs["copy_paused"]
                mirrors = [m for m in link.mirrors.values()
                           if m.status in ("ACTIVE", "PENDING_SYNCHRONIZE", "PENDING_RESTORE")
                           or (m.status == "PENDING_STOPPED" and m.stop_kind == "promote")]
            started = time.monotonic()
            if copy_ok and mirrors:
                busy = self._copy(bootstrap, mirrors)
            elif self._assigned and self._consumer is not None:
                # nothing to copy (paused, link paused, ...): stop fetching, as a paused mirror does
                self._consumer.unassign()
                self._assigned = {}
                self._fetch_paused = set()
            self._polled(busy, time.monotonic() - started,
                         sum(m.num_partitions for m in mirrors) if copy_ok else 0)
        self._finish_pending()
        self._finish_synchronize(bootstrap)
        if link.available and time.monotonic() >= self._next_offset_sync:
            with emu.lock:
                enabled = link.flag("consumer.offset.sync.enable")
                interval = link.int_config("consumer.offset.sync.ms")
            if enabled and not link.paused:
                self._sync_offsets(bootstrap)
            self._next_offset_sync = time.monotonic() + max(interval, 100) / 1000
        if link.available and time.monotonic() >= self._next_config_sync:
            with emu.lock:
                interval = link.int_config("topic.config.sync.ms")
            if not link.paused:
                self._sync_topic_configs(bootstrap)
            self._next_config_sync = time.monotonic() + max(interval, 200) / 1000
        acls.maybe_sync(self)  # AclSync every acl.sync.ms
        if link.available and time.monotonic() >= self._next_auto_create:
            self._auto_create()
            self._next_auto_create = time.monotonic() + emu.knobs["auto_create_interval_ms"] / 1000
        return busy

    def _refresh_metadata(self, bootstrap: str) -> None:
        emu, link = self.emu, self.link
        try:
            self._src_topics, src_read_ms = emu.topics_cache.get(emu.admin_for(bootstrap, link),
                                                                 self._metadata_age(), timeout=2)
            ok, err = True, None
        except Exception as exc:
            ok, err = False, str(exc)
            # why it failed (authentication, TLS) only the client's error callback heard
            cause = emu.last_client_error(bootstrap, link)
            if cause and cause not in err:
                err = f"{cause} ({err})"
        with emu.lock:  # availability.check.* link configs (faults.py)
            faults.record_source_check(self, ok, err, bootstrap)
        if not ok:
            self._renew_failing_clients(bootstrap)
            return
        self._failing_since = None
        if link.mode == "SOURCE":
            return
        # mirrored topics deleted on the destination disappear; partition changes follow the source
        try:
            dest_topics, dest_read_ms = emu.topics_cache.get(self.local_admin, self._metadata_age(), timeout=3)
        except Exception:
            return
        if (src_read_ms, dest_read_ms) == self._checked_read_ms:
            return                  # the same (shared) lists as last time: nothing new to see
        self._checked_read_ms = (src_read_ms, dest_read_ms)
        changed = False
        with emu.lock:
            for m in list(link.mirrors.values()):
                if m.status in ("PENDING_MIRROR", "PENDING_SETUP_FOR_RESTORE"):
                    continue
                if m.state_time_ms >= min(src_read_ms, dest_read_ms):
                    continue  # a shared read from before this mirror's last change: not a proof
                if m.name not in dest_topics:
                    log.info("link %s: mirror topic %s was deleted on the destination",
                             link.name, m.name)
                    del link.mirrors[m.name]
                    changed = True
                    continue
                if m.status not in ("ACTIVE", "PAUSED"):
                    continue
                src_parts = self._src_topics.get(m.source_topic)
                if src_parts is None:
                    m.fail("SOURCE_TOPIC_MAY_BE_DELETED",
                           f"Source topic '{m.source_topic}' no longer exists.")
                    changed = True
                elif src_parts < m.num_partitions:
                    m.fail("SOURCE_PARTITIONS_DECREASED",
                           f"Source topic '{m.source_topic}' has {src_parts} partitions, fewer than "
                           f"the mirror's {m.num_partitions}.")
                    changed = True
                elif src_parts > m.num_partitions:
                    try:
                        futs = self.local_admin.create_partitions(
                            [NewPartitions(m.name, src_parts)], request_timeout=10)
                        list(futs.values())[0].result()
                        kafka.wait_for_topic(self.local_admin, m.name, src_parts, timeout=10)
                        for p in range(m.num_partitions, src_parts):
                            m.expected[p] = 0
                        log.info("link %s: mirror %s grew to %d partitions", link.name, m.name,
                                 src_parts)
                        m.num_partitions = src_parts
                        changed = True
                        self._src_bootstrap = None  # new clients see the new partitions
                    except Exception as exc:
                        log.warning("could not add partitions to %s: %s", m.name, exc)
            if changed:
                emu.save()

    def _metadata_age(self) -> float:
        return self.emu.knobs["metadata_interval_ms"] / 1000

    def _metadata_wait(self) -> float:
        """Seconds until the next metadata read of this link: metadata_interval_ms, or as long
        as the shared lists are reused (metadata.AGE_PER_TOPIC) for a large cluster."""
        return max(self._metadata_age(), len(self._src_topics) * metadata.AGE_PER_TOPIC)

    # -- copying
    def _copy(self, bootstrap: str, mirrors: list[Mirror]) -> bool:
        """One copy round for the copyable mirrors of this link.

        The source consumer keeps one assignment (every partition of every
        copyable mirror, at the offset the destination expects next) across
        rounds and is only re-assigned when that set or a position changes, so
        prefetched records are never thrown away. Each round copies up to the
        source high watermarks read at its start (or until ``copy_round_ms``),
        flushes, and checks the destination high watermarks."""
        emu = self.emu
        self._clients(bootstrap)
        by_source: dict[tuple[str, int], Mirror] = {}
        for m in mirrors:
            for p in range(m.num_partitions):
                by_source[(m.source_topic, p)] = m
        # the source high watermarks through the link's consumer (cheap for thousands of
        # partitions); the destination's only where the source moved or nothing is known yet
        src_wm = kafka.end_offsets_of(self._consumer, by_source.keys(), timeout=5)
        with emu.lock:
            look = [(m.name, p) for (st, p), m in by_source.items()
                    if m.expected.get(p) is None or src_wm.get((st, p), -1) != m.expected.get(p)]
        dst_wm = kafka.watermarks(self.local_admin, look, timeout=5)
        want: dict[tuple[str, int], int] = {}
        failed = False
        skip = set()
        with emu.lock:
            for (st, p), m in by_source.items():
                if m.status == "FAILED":
                    continue
                src = src_wm.get((st, p), -1)
                dst = dst_wm.get((m.name, p), m.expected.get(p, -1))
                if src < 0 or dst < 0:  # no offset yet (e.g. a partition just created): next round
                    skip.add((st, p))
                    continue
                m.last_fetch[p] = src
                exp = m.expected.get(p)
                if exp is None:
                    exp = m.expected[p] = dst
                if dst > exp:
                    m.fail("ILLEGAL_STATE",
                           f"Partition {p} of mirror topic '{m.name}' has {dst - exp} record(s) the "
                           "link did not write: something produced to the mirror topic on the "
                           "destination (the lab broker does not make mirror topics read-only).")
                    failed = True
                    continue
                if dst < exp:
                    m.expected[p] = dst   # an earlier write did not land; resume from the broker
                if src < dst:
                    m.fail("UNEXPECTED_TRUNCATION",
                           f"Source partition {st}-{p} ends at {src}, before the mirror's {dst}: "
                           "the source topic was truncated or recreated.")
                    failed = True
                    continue
            for (st, p), m in by_source.items():
                if m.status != "FAILED" and (st, p) not in skip:
                    want[(st, p)] = m.expected[p]
        if failed:
            emu.save()
        self._clients(bootstrap)  # a restore earlier in this round may have closed them
        consumer, producer = self._consumer, self._producer
        added = [k for k in want if k not in self._assigned]
        if added and len(added) < len(want) and all(
                self._assigned.get(k) == off for k, off in want.items() if k in self._assigned) \
                and not set(self._assigned) - set(want):
            # only new partitions (new mirrors): add them, keep the others' prefetched records
            consumer.incremental_assign([TopicPartition(st, p, want[(st, p)]) for st, p in added])
            # librdkafka keeps a partition's pause across unassign/assign (a mirror paused, then resumed)
            consumer.resume([TopicPartition(st, p) for st, p in added])
            self._assigned.update({k: want[k] for k in added})
        elif want != {k: self._assigned.get(k) for k in want} or set(self._assigned) != set(want):
            consumer.assign([TopicPartition(st, p, off) for (st, p), off in want.items()])
            self._assigned = dict(want)
            consumer.resume([TopicPartition(st, p) for (st, p) in want])  # no pause left from before
            self._fetch_paused = set()
        pending = {k for k, off in want.items() if src_wm[k] > off}
        self._fetch_only(consumer, pending)
        if not pending:
            return False
        starts = dict(want)
        touched: set[tuple[str, int]] = set()
        delivery_errors: list[str] = []

        def on_delivery(err, _msg):
            if err is not None and len(delivery_errors) < 5:
                delivery_errors.append(str(err))

        deadline = time.monotonic() + emu.knobs["copy_round_ms"] / 1000
        gaps: list[tuple[Mirror, int, int, int]] = []
        copied = 0
        assigned = self._assigned
        while pending and time.monotonic() < deadline and not self._halt.is_set():
            msgs = consumer.consume(num_messages=20000, timeout=0.1)
            for msg in msgs:
                if msg.error():
                    if msg.error().code() != KafkaError._PARTITION_EOF:
                        log.info("link %s: fetch error %s", self.link.name, msg.error())
                    continue
                key = (msg.topic(), msg.partition())
                nxt = assigned.get(key)
                if nxt is None:
                    continue
                off = msg.offset()
                if off < nxt:
                    continue
                m = by_source[key]
                if off > nxt:
                    gaps.append((m, key[1], nxt, off))
                    del assigned[key]          # re-assigned next round
                    pending.discard(key)
                    continue
                ts_type, ts = msg.timestamp()
                while True:
                    try:
                        if ts_type:
                            producer.produce(m.name, msg.value(), msg.key(), key[1], on_delivery,
                                             timestamp=ts, headers=msg.headers())
                        else:
                            producer.produce(m.name, msg.value(), msg.key(), key[1], on_delivery,
                                             headers=msg.headers())
                        break
                    except BufferError:
                        producer.poll(0.05)
                assigned[key] = nxt + 1
                touched.add(key)
                copied += 1
                if nxt + 1 >= src_wm[key]:
                    pending.discard(key)
            producer.poll(0)
        # the partitions copied up to the round's watermarks stop fetching until a poll finds more: a
        # resumed partition with nothing new keeps the consumer and the broker busy until the next round
        self._fetch_only(consumer, pending)
        remaining = producer.flush(30)
        if remaining or delivery_errors:
            log.warning("link %s: %d undelivered, errors %s", self.link.name, remaining,
                        delivery_errors[:2])
        # Partitions that still lag but received nothing: the records they need may be gone (retention
        # moved the log start past them, and the consumer silently reset to it). One batched read.
        stalled = [k for k in pending if k not in touched and k in assigned]
        if stalled:
            try:
                lows = kafka.watermarks(self.emu.admin_for(self._src_bootstrap, self.link), stalled, spec="earliest")
            except Exception:
                lows = {}
            gaps.extend((by_source[k], k[1], assigned[k], lows[k]) for k in stalled
                        if lows.get(k, -1) > assigned[k])
        # verify what landed
        check = {(by_source[k].name, k[1]): k for k in touched}
        after = kafka.watermarks(self.local_admin, check.keys(), timeout=5) if check else {}
        with emu.lock:
            for (mt, p), k in check.items():
                m = by_source[k]
                nxt = assigned.get(k, starts[k])
                hw = after[(mt, p)]
                if hw < 0:  # not readable now: checked again next round
                    assigned.pop(k, None)
                    continue
                if hw == nxt:
                    m.expected[p] = nxt
                elif hw < nxt:
                    m.expected[p] = hw  # partial write: retried next round
                    assigned.pop(k, None)
                else:
                    m.fail("ILLEGAL_STATE",
                           f"Partition {p} of mirror topic '{mt}' ended at {hw} after copying up to "
                           f"{nxt}: records were written to the mirror topic by someone else.")
            for m, p, nxt, off in gaps:
                if m.status == "FAILED":
                    continue
                try:
                    low = kafka.watermarks(self.emu.admin_for(self._src_bootstrap, self.link),
                                           [(m.source_topic, p)], spec="earliest")
                    low = low[(m.source_topic, p)]
                except Exception:
                    low = off if nxt == starts[(m.source_topic, p)] else -1
                if low > nxt:
                    m.fail("UNEXPECTED_TRUNCATION",
                           f"Source partition {m.source_topic}-{p} starts at offset {low} (retention "
                           f"or deleted records) but the mirror needs offset {nxt}: records the "
                           "link had not copied yet are gone (offsets would diverge).")
                else:
                    m.fail("UNSUPPORTED_MESSAGE_FORMAT",
                           f"Source partition {m.source_topic}-{p} skips from offset {nxt} to {off} "
                           "(compaction or transaction markers); the lab cannot copy it with the "
                           "same offsets.")
            if gaps or any(m.status == "FAILED" for m in mirrors):
                emu.save()
        return copied > 0

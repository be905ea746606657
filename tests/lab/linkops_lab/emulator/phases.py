"""The PENDING_* phases of a link's mirrors, driven by its copier each round: PENDING_MIRROR and
PENDING_RESTORE end (the mirror turns ACTIVE), PENDING_SETUP_FOR_RESTORE cuts the local topic
back (truncate-and-restore), PENDING_STOPPED turns STOPPED (failover, promote) and
PENDING_SYNCHRONIZE reverses a mirror over a bidirectional link. A mixin of
``copier.LinkWorker``; the operations that start a phase are in mirrors.py."""

from __future__ import annotations

import logging
import time

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import NewTopic

from linkops_lab import kafka
from linkops_lab.emulator.model import Mirror, PENDING_STATUSES

log = logging.getLogger("lab.emulator")


class PhasesMixin:
    """The PENDING_* transitions of a link's worker (a mixin of copier.LinkWorker)."""

    def _transitions(self) -> None:
        """The one pass of a round over the link's mirrors: PENDING_MIRROR and PENDING_RESTORE
        end, PENDING_SETUP_FOR_RESTORE is set up; what else is due (``_stopping``,
        ``_synchronizing``) and when the next phase ends (``_next_pending``) are noted for the
        rest of the round."""
        emu, link = self.emu, self.link
        now = time.monotonic()
        self._stopping, self._synchronizing, self._next_pending = [], [], float("inf")
        with emu.lock:
            changed = False
            setup = []
            for m in link.mirrors.values():
                status = m.status
                if status not in PENDING_STATUSES:
                    continue
                if now < m.pending_until:
                    self._next_pending = min(self._next_pending, m.pending_until)
                elif status in ("PENDING_MIRROR", "PENDING_RESTORE"):
                    m.set_status("ACTIVE")
                    changed = True
                    self._next_copy = 0.0   # copy it at once
                elif status == "PENDING_SETUP_FOR_RESTORE":
                    setup.append(m)
                elif status == "PENDING_STOPPED":
                    self._stopping.append(m)
                else:
                    self._synchronizing.append(m)
                if m.status in PENDING_STATUSES and now >= m.pending_until:
                    self._next_pending = now    # overdue: looked at again after copy_interval_ms
            if changed:
                emu.save()
        for m in setup:
            try:
                self._setup_restore(m)
            except Exception as exc:  # retried next round
                log.warning("link %s: restore setup of %s failed: %s", link.name, m.name, exc)
                with emu.lock:
                    if len(m.transition_errors) < 20:
                        m.transition_errors.append({"error_code": "INTERNAL_ERROR",
                                                    "error_message": f"Restore setup failed: {exc}"})
                    m.pending_until = time.monotonic() + 1.0

    def _setup_restore(self, m: Mirror) -> None:
        """PENDING_SETUP_FOR_RESTORE: cut the local topic back to ``m.truncate_to``.

        Kafka has no API that removes the tail of a log, so when records must go
        the lab recreates the topic (same partitions and dynamic configs) and lets
        the copier fill it again from the remote topic with the same offsets (the
        remote mirror holds exactly the records up to the truncation point);
        committed group offsets beyond the truncation point are moved back to it.
        With nothing to truncate the topic is kept and mirroring continues from
        its end."""
        emu, link, adm = self.emu, self.link, self.local_admin
        bootstrap = emu.remote_bootstrap(link)
        if bootstrap is None or not link.available:
            raise RuntimeError("the remote cluster is not reachable")
        parts = range(m.num_partitions)
        ends = kafka.watermarks(adm, [(m.name, p) for p in parts], timeout=5)
        cut = {p: m.truncate_to.get(p, 0) for p in parts}
        if any(ends[(m.name, p)] > cut[p] for p in parts):
            configs = emu.topic_configs(self.local.bootstrap, m.name)
            groups = {}
            try:
                for g in adm.list_consumer_groups(request_timeout=5).result().valid:
                    offs = kafka.committed_offsets(adm, g.group_id, timeout=5).get(m.name)
                    if offs:
                        groups[g.group_id] = offs
            except Exception as exc:
                log.info("link %s: reading group offsets of %s failed: %s", link.name, m.name, exc)
            self._close_clients()
            self._src_bootstrap = None
            emu._delete_topic(adm, m.name)
            futs = adm.create_topics([NewTopic(m.name, m.num_partitions, 1, config=configs)],
                                     operation_timeout=10, request_timeout=10)
            futs[m.name].result()
            with emu.lock:
                emu.topics_recreated += 1
            kafka.wait_for_topic(adm, m.name, m.num_partitions, timeout=10)
            lows = kafka.watermarks(emu.admin_for(bootstrap, link),
                                    [(m.source_topic, p) for p in parts], spec="earliest", timeout=5)
            starts = {p: lows[(m.source_topic, p)] for p in parts}
            emu.fill_partitions(self.local, m.name, starts)
            expected = starts
            for g, offs in groups.items():
                tps = [TopicPartition(m.name, p, min(off, cut.get(p, off))) for p, off in offs.items()]
                try:
                    for fut in adm.alter_consumer_group_offsets(
                            [ConsumerGroupTopicPartitions(g, tps)], request_timeout=5).values():
                        fut.result()
                except Exception as exc:
                    log.info("link %s: restoring offsets of group %s failed: %s", link.name, g, exc)
            log.info("link %s: truncated %s to %s (recreated, re-copying from the remote)",
                     link.name, m.name, cut)
        else:
            expected = {p: ends[(m.name, p)] for p in parts}
        with emu.lock:
            if m.status != "PENDING_SETUP_FOR_RESTORE":
                return
            m.expected = dict(expected)
            m.last_fetch = {}
            m.pending_until = time.monotonic() + emu.knobs["pending_restore_ms"] / 1000
            m.set_status("PENDING_RESTORE")
            emu.save()

    def _finish_synchronize(self, bootstrap: str) -> None:
        """PENDING_SYNCHRONIZE (reverse-and-start/pause): once the minimum time has
        passed and the local mirror has every record of the remote topic, sync the
        consumer offsets a last time, stop the local mirror (writable) and make the
        remote topic a mirror of it over the remote half of the link."""
        emu, link = self.emu, self.link
        with emu.lock:
            due = [m for m in self._synchronizing if m.status == "PENDING_SYNCHRONIZE"]
        if not due or emu.peer_link(link) is None or not link.available or link.paused:
            return
        # every due mirror in one round: one end-offset read per cluster, one offset sync
        try:
            local_ends = kafka.watermarks(
                self.local_admin, [(m.name, p) for m in due for p in range(m.num_partitions)], timeout=5)
            remote_ends = kafka.watermarks(
                emu.admin_for(bootstrap, link),
                [(m.source_topic, p) for m in due for p in range(m.num_partitions)], timeout=5)
        except Exception as exc:
            log.info("link %s: synchronize check of %d mirror(s) failed: %s", link.name, len(due), exc)
            return
        caught_up = [m for m in due if all(
            local_ends[(m.name, p)] == remote_ends[(m.source_topic, p)] == m.expected.get(p)
            for p in range(m.num_partitions))]   # the others are still copying
        if caught_up and link.flag("consumer.offset.sync.enable"):
            self._sync_offsets(bootstrap, only_topics={m.name for m in caught_up})
        for m in caught_up:
            parts = range(m.num_partitions)
            ends = {p: local_ends[(m.name, p)] for p in parts}
            peer = emu.peer_link(link)
            with emu.lock:
                if m.status != "PENDING_SYNCHRONIZE" or emu.peer_link(link) is not peer:
                    continue
                m.frozen_lags = [{"partition": p, "lag": 0, "last_source_fetch_offset": ends[p]}
                                 for p in parts]
                m.stop_offsets = dict(ends)
                m.stop_kind = "reverse"
                m.set_status("STOPPED")
                rm = Mirror(peer.name, m.source_topic, m.name, m.num_partitions,
                            m.reverse_to or "ACTIVE")
                rm.expected = dict(ends)
                peer.mirrors[rm.name] = rm
                emu.save()
            emu.wake(peer)
            log.info("link %s: reversed %s: now a writable topic on %s, mirrored to %s as %s (%s)",
                     link.name, m.name, link.cluster_id, peer.cluster_id, rm.name, rm.status)

    def _finish_pending(self) -> None:
        """PENDING_STOPPED -> STOPPED for every mirror whose time is up, in one round: one lag
        read, one offset sync and one end-offset read for all of them, one state save. A
        promoted mirror that still lags waits (up to 30 s) for the copy to catch up."""
        emu, link = self.emu, self.link
        now = time.monotonic()
        with emu.lock:
            due = [m for m in self._stopping if m.status == "PENDING_STOPPED"]
        if not due:
            return
        lags = emu.lags(link, due)
        ready = []
        for m in due:
            if (m.stop_kind == "promote" and sum(l["lag"] for l in lags[m.name])
                    and link.available and now < m.pending_until + 30):
                continue  # let the copy loop catch up first
            ready.append(m)
        if not ready:
            return
        promoted = {m.name for m in ready if m.stop_kind == "promote"}
        remote = emu.remote_bootstrap(link)
        if promoted and link.flag("consumer.offset.sync.enable") and remote:
            self._sync_offsets(remote, only_topics=promoted)
        try:
            ends = kafka.watermarks(self.local_admin,
                                    [(m.name, p) for m in ready for p in range(m.num_partitions)], timeout=5)
        except Exception:
            ends = {}
        with emu.lock:
            at_ms = int(time.time() * 1000)
            for m in ready:
                if m.status != "PENDING_STOPPED":
                    continue
                m.frozen_lags = lags[m.name]
                offsets = {p: ends.get((m.name, p)) for p in range(m.num_partitions)}
                m.stop_offsets = None if None in offsets.values() else offsets
                m.set_status("STOPPED", at_ms)
            emu.save()
        log.info("link %s: %d mirror(s) STOPPED (%s)", link.name, len(ready),
                 ", ".join(sorted(m.name for m in ready)[:5]) + (" ..." if len(ready) > 5 else ""))

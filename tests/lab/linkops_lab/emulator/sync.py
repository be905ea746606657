"""The sync tasks of a link, run by its copier each on its own interval: consumer group offsets of
the filtered groups (``ConsumerOffsetSync``), topic configs of mirrored topics
(``TopicConfigsSync``) and auto-create of mirrors for source topics that pass the filters
(``AutoCreateMirror``); ACL sync (``AclSync``) is in acls.py with the rest of the ACLs. A mixin of
``copier.LinkWorker``."""

from __future__ import annotations

import logging

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

from linkops_lab import kafka
from linkops_lab.emulator.linkconfigs import ConfigValueError, filters_match, parse_name_filters
from linkops_lab.emulator.model import ApiError

log = logging.getLogger("lab.emulator")


def _timed_out(exc: Exception) -> bool:
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
    return getattr(err, "code", lambda: None)() == KafkaError._TIMED_OUT


def _group_consumer(bootstrap: str, extra: dict, group: str) -> Consumer:
    """A consumer of ``group`` that never subscribes: it reads and commits the group's offsets
    through the group coordinator like an admin client's OffsetFetch / OffsetCommit."""
    return Consumer(kafka.client_conf(bootstrap, extra, kind="consumer", **{
        "group.id": group, "enable.auto.commit": False, "log_level": 0}))


def committed_offsets(adm, bootstrap: str, extra: dict, group: str,
                      tps: list[tuple[str, int]]) -> dict[str, dict[int, int]]:
    """``group``'s committed offsets (``{topic: {partition: offset}}``) through the admin client
    ``adm``; when that times out, through a fresh consumer of the group. librdkafka 2.16: an admin
    client that was connected when the broker restarted times out on every OffsetFetch afterwards
    (metadata and ListOffsets recover), and replacing the admin client crashes the process later;
    a short-lived consumer is a new connection."""
    try:
        return kafka.committed_offsets(adm, group, timeout=5)
    except KafkaException as exc:
        if not _timed_out(exc) or not tps:
            raise
    c = _group_consumer(bootstrap, extra, group)
    try:
        found = c.committed([TopicPartition(t, p) for t, p in tps], timeout=5)
    finally:
        c.close()
    out: dict[str, dict[int, int]] = {}
    for tp in found:
        if tp.error is None and tp.offset >= 0:
            out.setdefault(tp.topic, {})[tp.partition] = tp.offset
    return out


class SyncMixin:
    """The sync tasks of a link's worker (a mixin of copier.LinkWorker)."""

    # -- consumer offsets
    def _sync_offsets(self, bootstrap: str, only_topics: set[str] | None = None) -> None:
        emu, link = self.emu, self.link
        with emu.lock:
            try:
                gfilters = parse_name_filters(link.config("consumer.offset.group.filters"),
                                              "groupFilters")
            except ConfigValueError:
                gfilters = []
            prefix = link.prefix if link.flag("consumer.group.prefix.enable") else ""
            # source topic -> mirror topic, only for mirrors still syncing
            topics = {m.source_topic: m for m in link.mirrors.values()
                      if (m.status in ("ACTIVE", "PAUSED", "PENDING_SYNCHRONIZE")
                          or m.status == "PENDING_STOPPED" and m.stop_kind == "promote")
                      and (only_topics is None or m.name in only_topics)}
        errors: list[dict] = []
        if not gfilters:
            link.task_errors["ConsumerOffsetSync"] = [{
                "error_code": "MISCONFIGURATION_ERROR",
                "error_message": "Consumer offset sync is enabled but consumer.offset.group.filters "
                                 "is not set."}]
            return
        if not topics:
            link.task_errors["ConsumerOffsetSync"] = []
            return
        src_admin = emu.admin_for(bootstrap, link)
        try:
            groups = [g.group_id for g in src_admin.list_consumer_groups(request_timeout=5)
                      .result().valid]
        except Exception as exc:
            log.info("link %s: list groups failed: %s", link.name, exc)
            return
        groups = [g for g in groups if filters_match(gfilters, g)
                  and not g.startswith("_confluent-cluster-link-lab-")]
        wanted: dict[str, dict[tuple[str, int], int]] = {}
        src_extra = emu.link_client_config(bootstrap, link)
        src_tps = [(st, p) for st, m in topics.items() for p in range(m.num_partitions)]
        for g in groups:
            try:
                committed = committed_offsets(src_admin, bootstrap, src_extra, g, src_tps)
            except Exception as exc:
                errors.append({"error_code": "INTERNAL_ERROR",
                               "error_message": f"Reading offsets of group '{g}' failed: {exc}"})
                continue
            offs = {}
            for st, parts in committed.items():
                m = topics.get(st)
                if m is None:
                    continue
                for p, off in parts.items():
                    if p < m.num_partitions:
                        offs[(m.name, p)] = off
            if offs:
                wanted[prefix + g] = offs
        if not wanted:
            link.task_errors["ConsumerOffsetSync"] = errors
            return
        dest = self.local_admin
        local = emu.local_cluster(link)
        dst_hw = kafka.watermarks(dest, {tp for offs in wanted.values() for tp in offs},
                                  timeout=5)
        try:
            futs = dest.describe_consumer_groups(list(wanted), request_timeout=5)
            active = set()
            for g, fut in futs.items():
                try:
                    if fut.result().members:
                        active.add(g)
                except KafkaException:
                    pass
        except Exception:
            active = set()
        for g, offs in wanted.items():
            if g in active:
                errors.append({"error_code": "CONSUMER_GROUP_IN_USE_ERROR",
                               "error_message": f"Group '{g}' has active members on the "
                                                "destination; its offsets are not synced."})
                continue
            try:
                current = committed_offsets(dest, local.bootstrap, local.client_config, g, sorted(offs))
            except Exception:
                current = {}
            tps = []
            for (mt, p), off in sorted(offs.items()):
                if off > dst_hw.get((mt, p), 0):
                    continue  # not mirrored that far yet
                if current.get(mt, {}).get(p) != off:
                    tps.append(TopicPartition(mt, p, off))
            if not tps:
                continue
            try:
                try:
                    futs = dest.alter_consumer_group_offsets(
                        [ConsumerGroupTopicPartitions(g, tps)], request_timeout=5)
                    for fut in futs.values():
                        refused = [tp for tp in fut.result().topic_partitions if tp.error]
                        if refused:  # e.g. UNKNOWN_MEMBER_ID: a member joined meanwhile
                            raise KafkaException(refused[0].error)
                except KafkaException as exc:
                    if not _timed_out(exc):
                        raise
                    c = _group_consumer(local.bootstrap, local.client_config, g)   # see committed_offsets
                    try:
                        c.commit(offsets=tps, asynchronous=False)
                    finally:
                        c.close()
                log.info("link %s: synced %d offset(s) of group %s", link.name, len(tps), g)
            except Exception as exc:
                errors.append({"error_code": "INTERNAL_ERROR",
                               "error_message": f"Writing offsets of group '{g}' failed: {exc}"})
        link.task_errors["ConsumerOffsetSync"] = errors

    # -- topic configs
    def _sync_topic_configs(self, bootstrap: str) -> None:
        """Copy changed dynamic topic configs of the source topics to their
        mirrors (two batched DescribeConfigs, one IncrementalAlterConfigs). With
        thousands of mirrors a round takes the next ones in turn, as many as the
        emulator's shared ``config_sync_reads`` rate grants (metadata.ReadBudget)."""
        emu, link = self.emu, self.link
        with emu.lock:
            mirrors = [m for m in link.mirrors.values() if m.status in ("ACTIVE", "PAUSED")]
        if not mirrors:
            return
        start = getattr(self, "_config_sync_next", 0) % len(mirrors)
        count = emu.config_sync_reads.take(len(mirrors))
        mirrors = (mirrors[start:] + mirrors[:start])[:count]
        self._config_sync_next = start + count
        if not mirrors:
            return
        try:
            futs = emu.admin_for(bootstrap, link).describe_configs(
                [ConfigResource("topic", m.source_topic) for m in mirrors], request_timeout=5)
            src = {}
            for res, fut in futs.items():
                src[res.name] = {n: c.value for n, c in fut.result().items()
                                 if int(c.source) == 1 and c.value is not None and not c.is_sensitive}
        except Exception as exc:
            log.info("link %s: topic config sync skipped: %s", link.name, exc)
            return
        changes = []
        for m in mirrors:
            want = src.get(m.source_topic, {})
            ops = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                   for k, v in sorted(want.items()) if m.synced_configs.get(k) != v]
            ops += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE)
                    for k in sorted(m.synced_configs) if k not in want]
            if ops:
                changes.append((m, want, ops))
        if not changes:
            return
        futs = self.local_admin.incremental_alter_configs(
            [ConfigResource("topic", m.name, incremental_configs=ops) for m, _, ops in changes],
            request_timeout=10)
        results = {res.name: fut for res, fut in futs.items()}
        with emu.lock:
            for m, want, _ in changes:
                try:
                    results[m.name].result()
                    m.synced_configs = dict(want)
                    log.info("link %s: synced topic configs of %s", link.name, m.name)
                except Exception as exc:
                    log.warning("link %s: topic config sync of %s failed: %s", link.name, m.name, exc)
            emu.save()

    # -- auto-create
    def _auto_create(self) -> None:
        emu, link = self.emu, self.link
        with emu.lock:
            if not link.flag("auto.create.mirror.topics.enable") or link.paused:
                return
            try:
                tfilters = parse_name_filters(link.config("auto.create.mirror.topics.filters"),
                                              "topicFilters")
            except ConfigValueError:
                tfilters = []
            mirrored = {m.source_topic for m in link.mirrors.values()}
            all_mirrors = {n for l in self.local.links.values() for n in l.mirrors}
            prefix = link.prefix
        if not tfilters:
            link.task_errors["AutoCreateMirror"] = [{
                "error_code": "MISCONFIGURATION_ERROR",
                "error_message": "Auto-create mirror topics is enabled but "
                                 "auto.create.mirror.topics.filters is not set."}]
            return
        candidates = [t for t in sorted(self._src_topics)
                      if not t.startswith("__") and t not in mirrored
                      and prefix + t not in all_mirrors and filters_match(tfilters, t)]
        errors = []
        if candidates:
            try:
                dest_topics = kafka.topic_partitions(self.local_admin, timeout=3)
            except Exception:
                return
            for t in candidates:
                if prefix + t in dest_topics:
                    errors.append({"error_code": "TOPIC_EXISTS_ERROR",
                                   "error_message": f"Topic '{prefix + t}' already exists on the "
                                                    "destination and is not a mirror."})
                    continue
                try:
                    emu.create_mirror(link.name, {"source_topic_name": t}, origin="auto-create",
                                      cid=link.cluster_id)
                except ApiError as exc:
                    errors.append({"error_code": "INTERNAL_ERROR", "error_message": exc.message})
        link.task_errors["AutoCreateMirror"] = errors

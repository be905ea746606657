"""Mirror operations of the emulator: create a mirror (its topic on the link's cluster with the
source's partition count, start offsets and filler records), and the batch actions (promote,
failover, pause, resume, reverse-and-start/pause, truncate-and-restore) with the checks Confluent
makes before each (lag for promote, link state, the pair of links for reverse). It sets the
mirror statuses; the copier (copier.py, phases.py) then moves a mirror through its PENDING_* phases. A
mixin of ``core.Emulator`` over ``model.State``."""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, OffsetSpec

from linkops_lab import kafka
from linkops_lab.emulator.model import (
    ACTION_ALIASES, ApiError, Cluster, Link, Mirror, REMOTE_LINK_NOT_FOUND, REVERSE_ACTIONS,
    TOPIC_NAME_RE, bad_request, display_status, not_found)

log = logging.getLogger("lab.emulator")


class MirrorOps:
    """Mirror operations of the emulator (a mixin of core.Emulator over model.State)."""

    # -- mirrors
    def create_mirror(self, link_name: str, body: dict, origin: str = "REST",
                      cid: str | None = None) -> Mirror:
        link = self.get_link(link_name, cid)
        local_admin = self.local_admin(link)
        if link.mode == "SOURCE":
            raise bad_request(f"Cluster link '{link_name}' has link.mode=SOURCE: mirror topics are "
                              "created on the destination cluster, on its half of the link "
                              "(link.mode=DESTINATION).")
        source = body.get("source_topic_name")
        if not isinstance(source, str) or not source:
            raise ApiError(400, 400, "source_topic_name is required.")
        expected_name = link.prefix + source
        mirror_name = body.get("mirror_topic_name") or expected_name
        if mirror_name != expected_name:
            if link.prefix:
                raise bad_request(f"Mirror topic name '{mirror_name}' must be the link prefix "
                                  f"'{link.prefix}' followed by the source topic name "
                                  f"('{expected_name}'): Topic renaming for mirroring not yet "
                                  "supported.")
            raise bad_request("Topic renaming for mirroring not yet supported")
        if not TOPIC_NAME_RE.match(mirror_name) or mirror_name in (".", ".."):
            raise bad_request(f"Topic name '{mirror_name}' is illegal.")
        rf = body.get("replication_factor")
        if rf is not None and (not isinstance(rf, int) or rf < 1 and rf != -1):
            raise bad_request("Replication factor must be a positive integer.")
        configs = body.get("configs") or []
        if not isinstance(configs, list) or any(
                not isinstance(c, dict) or not isinstance(c.get("name"), str) for c in configs):
            raise ApiError(400, 400, "configs must be a list of {name, value} objects")
        start_spec = link.config("mirror.start.offset.spec") or "earliest"
        bootstrap, conn_error, conn_message = self.connection(link)
        if conn_error:
            raise bad_request(f"Cannot create mirror topic '{mirror_name}': {conn_message}")
        if not link.available:
            raise ApiError(500, 50003, f"The source cluster of link '{link_name}' is unavailable.")
        # this one topic's metadata on each cluster (DescribeTopics: never auto-creates it)
        try:
            num_partitions = kafka.partition_count(self.admin_for(bootstrap, link), source)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_AUTHORIZATION_FAILED:
                raise ApiError(500, 50003, f"Cannot read the source cluster: {exc.args[0].str()}") from None
            num_partitions = None   # a topic the link may not describe is one it cannot see
        if not num_partitions:
            raise ApiError(404, 40403, f"Topic '{source}' does not exist on the source cluster "
                                       f"of link '{link_name}'.")
        with self.lock:
            for other in self.local_cluster(link).links.values():
                if mirror_name in other.mirrors:
                    raise bad_request(f"Topic '{mirror_name}' already exists.")
        try:
            exists = kafka.partition_count(local_admin, mirror_name) is not None
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot read the destination cluster: {exc.args[0].str()}") from None
        if exists:
            raise bad_request(f"Topic '{mirror_name}' already exists.")
        starts = self._start_offsets(bootstrap, source, num_partitions, start_spec)
        source_configs = self._source_topic_configs(bootstrap, source)
        topic_configs = dict(source_configs)
        topic_configs.update({c["name"]: c.get("value") for c in configs
                              if c.get("value") is not None})
        futs = local_admin.create_topics(
            [NewTopic(mirror_name, num_partitions, 1, config=topic_configs)],
            operation_timeout=10, request_timeout=10)
        try:
            futs[mirror_name].result()
        except KafkaException as exc:
            err = exc.args[0]
            if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                raise bad_request(f"Topic '{mirror_name}' already exists.") from None
            raise bad_request(err.str()) from None
        kafka.wait_for_topic(local_admin, mirror_name, num_partitions, timeout=10)
        if any(starts.values()):
            try:
                self.fill_partitions(self.local_cluster(link), mirror_name, starts)
            except Exception as exc:
                self._delete_topic(local_admin, mirror_name)
                raise ApiError(500, 50003, f"Cannot start mirror topic '{mirror_name}' at the "
                                           f"offsets {starts}: {exc}") from None
        with self.lock:
            if link.name not in self.local_cluster(link).links:
                raise not_found(f"Cluster link '{link_name}' does not exist.")
            m = Mirror(link.name, mirror_name, source, num_partitions)
            m.pending_until = time.monotonic() + self.knobs["pending_mirror_ms"] / 1000
            m.expected = dict(starts)
            m.synced_configs = source_configs
            link.mirrors[mirror_name] = m
            self.save()
        self.wake(link, poll=False)   # it copies when PENDING_MIRROR ends
        log.info("%s: created mirror %s of %s on link %s of %s (%d partitions, start %s)", origin,
                 mirror_name, source, link.name, link.cluster_id, num_partitions, start_spec)
        return m

    def _start_offsets(self, bootstrap: str, topic: str, partitions: int, spec: str) -> dict[int, int]:
        """Per partition, the source offset a new mirror starts at for
        ``mirror.start.offset.spec``: ``earliest`` the source log start offset,
        ``latest`` the high watermark, a timestamp the first offset at or after it."""
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        try:
            if spec in ("earliest", "latest"):
                offs = kafka.watermarks(self.admin_for(bootstrap), [(topic, p) for p in range(partitions)],
                                        spec=spec, timeout=5)
                starts = {p: offs[(topic, p)] for p in range(partitions)}
            else:
                ts = int(datetime.fromisoformat(spec.replace("Z", "+00:00")).timestamp() * 1000)
                futs = self.admin_for(bootstrap).list_offsets(
                    {tp: OffsetSpec.for_timestamp(ts) for tp in tps}, request_timeout=5)
                highs = kafka.watermarks(self.admin_for(bootstrap),
                                         [(topic, p) for p in range(partitions)], timeout=5)
                starts = {}
                for tp, fut in futs.items():
                    off = fut.result().offset
                    starts[tp.partition] = off if off >= 0 else highs[(topic, tp.partition)]
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot read the source offsets of '{topic}' for "
                                       f"mirror.start.offset.spec={spec}: {exc.args[0].str()}") from None
        except ValueError:
            raise bad_request(f"Invalid mirror.start.offset.spec '{spec}'.") from None
        limit = int(self.knobs["start_offset_fill_limit"])
        if sum(starts.values()) > limit:
            raise bad_request(
                f"The lab cannot start a mirror of '{topic}' at mirror.start.offset.spec={spec}: it "
                f"would have to write {sum(starts.values())} filler records (knob "
                f"start_offset_fill_limit={limit})" + ("; use earliest." if spec != "earliest" else
                                                        ": the source log starts that far in."))
        return starts

    def fill_partitions(self, cluster: Cluster, topic: str, starts: dict[int, int]) -> None:
        """Make the empty partitions of ``topic`` on ``cluster`` start at the
        offsets ``starts`` (Kafka cannot create a log that begins above 0): write
        that many filler records, then delete them with DeleteRecords, so the
        log start offset and the high watermark both equal the start offset."""
        want = {p: n for p, n in starts.items() if n > 0}
        if not want:
            return
        adm = self.admin_for(cluster.bootstrap)
        producer = Producer(kafka.client_conf(cluster.bootstrap, cluster.client_config,
                                              kind="producer", **{
                                                  "linger.ms": 20, "batch.size": 1000000,
                                                  "queue.buffering.max.messages": 2000000}))
        errors: list[str] = []

        def on_delivery(err, _msg):
            if err is not None and len(errors) < 3:
                errors.append(str(err))

        for p, n in want.items():
            for _ in range(n):
                while True:
                    try:
                        producer.produce(topic, None, None, p, on_delivery,
                                         headers=[("lab-filler", b"1")])
                        break
                    except BufferError:
                        producer.poll(0.05)
        if producer.flush(60) or errors:
            raise RuntimeError(f"filler records not delivered: {errors[:1]}")
        highs = kafka.watermarks(adm, [(topic, p) for p in want], timeout=10)
        bad = {p: highs[(topic, p)] for p in want if highs[(topic, p)] != want[p]}
        if bad:
            raise RuntimeError(f"partitions {bad} did not end at {want} (someone else wrote to them)")
        futs = adm.delete_records([TopicPartition(topic, p, n) for p, n in want.items()],
                                  request_timeout=10)
        for fut in futs.values():
            fut.result()
        lows = kafka.watermarks(adm, [(topic, p) for p in want], spec="earliest", timeout=10)
        bad = {p: lows[(topic, p)] for p in want if lows[(topic, p)] != want[p]}
        if bad:
            raise RuntimeError(f"log start offsets {bad} are not {want} after DeleteRecords")

    @staticmethod
    def _delete_topic(adm: AdminClient, topic: str, timeout: float = 15.0) -> None:
        """Delete ``topic`` and wait until the metadata no longer lists it."""
        try:
            list(adm.delete_topics([topic], operation_timeout=10, request_timeout=10).values())[0].result()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
        deadline = time.monotonic() + timeout
        while topic in kafka.topic_partitions(adm, timeout=5):
            if time.monotonic() > deadline:
                raise RuntimeError(f"topic {topic!r} still listed {timeout}s after deletion")
            time.sleep(0.05)

    def topic_configs(self, bootstrap: str, topic: str) -> dict[str, str]:
        """Dynamic (non-default) configs of ``topic`` at ``bootstrap``."""
        return self._source_topic_configs(bootstrap, topic)

    def _source_topic_configs(self, bootstrap: str, topic: str) -> dict[str, str]:
        """Dynamic (non-default) topic configs of the source topic, to copy."""
        try:
            futs = self.admin_for(bootstrap).describe_configs(
                [ConfigResource("topic", topic)], request_timeout=5)
            res = list(futs.values())[0].result()
        except Exception:
            return {}
        return {n: c.value for n, c in res.items()
                if not c.is_default and c.value is not None and not c.is_sensitive
                and int(c.source) == 1}

    def _targets(self, link: Link, body: dict, candidates: list[str]) -> list[str]:
        names = body.get("mirror_topic_names")
        pattern = body.get("mirror_topic_name_pattern")
        if names:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ApiError(400, 400, "mirror_topic_names must be a list of strings.")
            return list(dict.fromkeys(names))
        if pattern:
            if not isinstance(pattern, str):
                raise ApiError(400, 400, "mirror_topic_name_pattern must be a string.")
            try:
                rx = re.compile(pattern)
            except re.error as exc:
                raise bad_request(f"Invalid mirror_topic_name_pattern: {exc}") from None
            return sorted(n for n in candidates if rx.fullmatch(n))
        raise ApiError(400, 400, "One of mirror_topic_names or mirror_topic_name_pattern "
                                 "is required.")

    def _check_reversible(self, link: Link, action: str) -> Link:
        """The peer link for a reverse / truncate-and-restore action, or a 400."""
        if link.mode != "BIDIRECTIONAL":
            raise bad_request(f"mirrors:{action} needs a BIDIRECTIONAL cluster link; link "
                              f"'{link.name}' has link.mode={link.mode}.")
        if link.prefix:
            raise bad_request(f"mirrors:{action} cannot be used on cluster link '{link.name}' "
                              f"because it has cluster.link.prefix '{link.prefix}': reverse "
                              "operations need the same topic names on both clusters.")
        peer = self.peer_link(link)
        if peer is None:
            raise bad_request(
                f"mirrors:{action} failed: cluster '{link.remote_cluster_id}' has no "
                f"BIDIRECTIONAL cluster link named '{link.name}' pointing at this cluster "
                f"({REMOTE_LINK_NOT_FOUND}); both halves of a bidirectional link must have the "
                "same name.")
        if peer.prefix:
            raise bad_request(f"mirrors:{action} cannot be used: the link '{link.name}' on cluster "
                              f"'{peer.cluster_id}' has cluster.link.prefix '{peer.prefix}'.")
        return peer

    def alter_mirrors(self, link_name: str, action: str, body: dict, validate_only: bool,
                      cid: str | None = None, include_truncation: bool = False) -> list[dict]:
        """One batch action; returns one result dict per topic (``name``,
        ``error_code``, ``error_message``, ``mirror_lags``, ``messages_truncated``,
        ``partition_level_truncation_data``)."""
        action = ACTION_ALIASES.get(action, action)
        link = self.get_link(link_name, cid)
        peer = None
        if action in REVERSE_ACTIONS or action == "truncate-and-restore":
            peer = self._check_reversible(link, action)
        if action == "truncate-and-restore":
            with self.lock:
                candidates = sorted(set(link.mirrors) | {m.name for m in peer.mirrors.values()})
            targets = self._targets(link, body, candidates)
            return self._truncate_and_restore(link, peer, targets, validate_only, include_truncation)
        with self.lock:
            targets = self._targets(link, body, list(link.mirrors))
            mirrors = [link.mirrors[n] for n in targets if n in link.mirrors]
        lags, source_read = self.lags_checked(link, mirrors)
        remote_topics: dict[str, int] | None = None
        if peer is not None and mirrors:
            try:
                remote_topics = kafka.topic_partitions(self.cluster_admin(peer.cluster_id), timeout=5)
            except Exception:
                remote_topics = None
        results = []
        changed = False

        def result(name, code, message, mlags):
            results.append({"name": name, "error_code": code, "error_message": message,
                            "mirror_lags": mlags, "messages_truncated": None,
                            "partition_level_truncation_data": []})

        started = time.monotonic()   # the mirrors of one request end their phase together
        with self.lock:
            for name in targets:
                m = link.mirrors.get(name)
                if m is None:
                    result(name, 404, f"Topic '{name}' is not a mirror topic of cluster link "
                                      f"'{link_name}'.", [])
                    continue
                err = self._transition_error(link, m, action, lags[name])
                if err is None and action == "promote" and not source_read:
                    err = (f"Topic '{name}' cannot be promoted because the source cluster cannot "
                           "be reached to check the mirror lag; use failover instead.")
                if err is None and action in REVERSE_ACTIONS:
                    if remote_topics is None:
                        err = (f"Topic '{name}' cannot be reversed: cluster '{peer.cluster_id}' "
                               "cannot be reached (both clusters must be up).")
                    elif m.source_topic not in remote_topics:
                        err = (f"Topic '{name}' cannot be reversed: its source topic "
                               f"'{m.source_topic}' no longer exists on cluster '{peer.cluster_id}'.")
                if err:
                    result(name, 400, err, lags[name])
                    continue
                result(name, None, None, lags[name])
                if validate_only:
                    continue
                changed = True
                if action in ("promote", "failover"):
                    m.stop_kind = action
                    m.pending_until = started + self.knobs["pending_stopped_ms"] / 1000
                    m.set_status("PENDING_STOPPED")
                elif action == "pause":
                    m.set_status("PAUSED")
                elif action == "resume":
                    m.set_status("ACTIVE")
                elif action in REVERSE_ACTIONS:
                    m.reverse_to = "PAUSED" if action == "reverse-and-pause-mirror" else "ACTIVE"
                    m.pending_until = started + self.knobs["pending_synchronize_ms"] / 1000
                    m.set_status("PENDING_SYNCHRONIZE")
            if changed:
                self.save()
        if changed:
            self.wake(link)
        return results

    def _truncate_and_restore(self, link: Link, peer: Link, targets: list[str], validate_only: bool,
                              include_truncation: bool) -> list[dict]:
        """truncate-and-restore on the old primary: each topic must be the source of
        a STOPPED mirror on the remote side of the link; the local topic is cut back
        to that mirror's log end offsets at stop time and becomes a mirror of it."""
        local_admin = self.local_admin(link)
        remote_admin = self.cluster_admin(peer.cluster_id)
        try:
            local_topics = kafka.topic_partitions(local_admin, timeout=5)
            remote_topics = kafka.topic_partitions(remote_admin, timeout=5)
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot read the clusters of link '{link.name}': "
                                       f"{exc.args[0].str()}") from None
        present = [n for n in targets if n in local_topics]
        try:
            local_ends = kafka.watermarks(
                local_admin, [(n, p) for n in present for p in range(local_topics[n])], timeout=5)
            remote_ends = kafka.watermarks(
                remote_admin, [(n, p) for n in present if n in remote_topics
                               for p in range(remote_topics[n])], timeout=5)
        except KafkaException as exc:
            raise ApiError(500, 50003, f"Cannot read the end offsets: {exc.args[0].str()}") from None
        busy_groups = self._groups_consuming(local_admin, set(present))
        results = []
        changed = False
        with self.lock:
            for name in targets:
                out = {"name": name, "error_code": None, "error_message": None, "mirror_lags": [],
                       "messages_truncated": None, "partition_level_truncation_data": []}
                results.append(out)
                m = link.mirrors.get(name)
                rm = peer.mirrors.get(name)
                err = None
                if m is not None and m.status in ("PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE"):
                    err = f"Topic '{name}' is already being restored from '{link.name}'."
                elif m is not None and m.status != "STOPPED":
                    err = (f"Topic '{name}' is a mirror topic of '{link.name}' in state "
                           f"{display_status(link, m)}; truncate-and-restore applies to the old "
                           "primary of a failed-over mirror.")
                elif name not in local_topics:
                    out["error_code"], out["error_message"] = 404, (
                        f"Topic '{name}' does not exist on cluster '{link.cluster_id}'.")
                    continue
                elif rm is None or rm.source_topic != name:
                    err = (f"Topic '{name}' has no mirror on cluster '{peer.cluster_id}' over link "
                           f"'{link.name}': truncate-and-restore needs the remote topic to be a "
                           "stopped (failed-over or promoted) mirror of this topic.")
                elif rm.status != "STOPPED":
                    err = (f"The mirror topic '{name}' on cluster '{peer.cluster_id}' is "
                           f"{display_status(peer, rm)}, not STOPPED: fail it over first.")
                elif not rm.stop_offsets:
                    err = (f"The offsets at which the mirror topic '{name}' on cluster "
                           f"'{peer.cluster_id}' stopped are not known.")
                elif rm.num_partitions != local_topics[name]:
                    err = (f"Topic '{name}' has {local_topics[name]} partitions here and "
                           f"{rm.num_partitions} on cluster '{peer.cluster_id}'.")
                elif busy_groups.get(name):
                    err = (f"Topic '{name}' is being consumed by the active consumer group(s) "
                           f"{sorted(busy_groups[name])}; stop them before truncate-and-restore.")
                if err:
                    out["error_code"], out["error_message"] = 400, err
                    continue
                data, lags = [], []
                for p in range(rm.num_partitions):
                    end = local_ends[(name, p)]
                    to = min(end, rm.stop_offsets.get(p, 0))
                    data.append({"partition_id": p, "offset_truncated_to": to,
                                 "messages_truncated": end - to})
                    rend = remote_ends.get((name, p), to)
                    lags.append({"partition": p, "lag": max(0, rend - to),
                                 "last_source_fetch_offset": -1})
                out["messages_truncated"] = sum(d["messages_truncated"] for d in data)
                out["mirror_lags"] = lags
                if include_truncation:
                    out["partition_level_truncation_data"] = data
                if validate_only:
                    continue
                nm = Mirror(link.name, name, name, rm.num_partitions, "PENDING_SETUP_FOR_RESTORE")
                nm.truncate_to = {d["partition_id"]: d["offset_truncated_to"] for d in data}
                nm.truncation = data
                nm.pending_until = time.monotonic() + self.knobs["pending_restore_ms"] / 1000
                link.mirrors[name] = nm
                changed = True
                log.info("truncate-and-restore of %s on %s: %d record(s) to truncate", name,
                         link.cluster_id, out["messages_truncated"])
            if changed:
                self.save()
        if changed:
            self.wake(link)
        return results

    @staticmethod
    def _groups_consuming(adm: AdminClient, topics: set[str]) -> dict[str, set[str]]:
        """``{topic: {group, ...}}`` of consumer groups with active members assigned to
        partitions of ``topics`` (best effort: unreadable groups are skipped)."""
        out: dict[str, set[str]] = {}
        if not topics:
            return out
        try:
            groups = [g.group_id for g in adm.list_consumer_groups(request_timeout=5).result().valid]
            if not groups:
                return out
            futs = adm.describe_consumer_groups(groups, request_timeout=5)
        except Exception:
            return out
        for g, fut in futs.items():
            try:
                desc = fut.result()
            except Exception:
                continue
            for member in desc.members or []:
                for tp in (member.assignment.topic_partitions if member.assignment else []):
                    if tp.topic in topics:
                        out.setdefault(tp.topic, set()).add(g)
        return out

    def _transition_error(self, link: Link, m: Mirror, action: str, lags: list[dict]) -> str | None:
        st = m.status
        busy = ("PENDING_SYNCHRONIZE", "PENDING_SETUP_FOR_RESTORE", "PENDING_RESTORE")
        if action in ("promote", "failover"):
            if st in ("STOPPED", "PENDING_STOPPED"):
                return f"Topic '{m.name}' has already stopped its mirror from '{link.name}'"
            if st in busy:
                verb = "promoted" if action == "promote" else "failed over"
                return f"Topic '{m.name}' cannot be {verb} while its mirror is in state {st}."
            if action == "promote":
                if st == "FAILED":
                    return (f"Topic '{m.name}' cannot be promoted because its mirror has failed "
                            f"({m.error}); use failover instead.")
                if st == "PENDING_MIRROR":
                    return f"Topic '{m.name}' cannot be promoted while its mirror is still being set up."
                if not link.available:
                    return (f"Topic '{m.name}' cannot be promoted because the source cluster is "
                            "unavailable; use failover instead.")
                total = sum(l["lag"] for l in lags)
                if total:
                    worst = max(lags, key=lambda l: l["lag"])
                    return (f"Topic '{m.name}' cannot be promoted because its mirror lag is not zero "
                            f"(total lag {total}, partition {worst['partition']} lag "
                            f"{worst['lag']}); wait until it is caught up or use failover.")
            return None
        if action == "pause":
            if st in ("ACTIVE", "PAUSED"):
                return None
            if st in ("STOPPED", "PENDING_STOPPED"):
                return f"Topic '{m.name}' has already stopped its mirror from '{link.name}'"
            return f"Topic '{m.name}' cannot be paused in state {display_status(link, m)}."
        if action == "resume":
            if st in ("ACTIVE", "PAUSED"):
                return None
            if st in ("STOPPED", "PENDING_STOPPED"):
                return f"Topic '{m.name}' has already stopped its mirror from '{link.name}'"
            return f"Topic '{m.name}' cannot be resumed in state {display_status(link, m)}."
        if action in REVERSE_ACTIONS:
            if st in ("STOPPED", "PENDING_STOPPED"):
                return f"Topic '{m.name}' has already stopped its mirror from '{link.name}'"
            if st != "ACTIVE":
                return (f"Topic '{m.name}' cannot be reversed in state {display_status(link, m)}: "
                        "its mirror must be ACTIVE.")
            if link.paused:
                return (f"Topic '{m.name}' cannot be reversed while cluster link '{link.name}' is "
                        "paused (cluster.link.paused=true).")
            if not link.available:
                return (f"Topic '{m.name}' cannot be reversed because the remote cluster is "
                        "unavailable (both clusters must be up).")
            return None
        return f"Operation '{action}' is not supported by the lab emulator."

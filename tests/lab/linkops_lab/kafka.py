"""Small confluent-kafka helpers shared by the lab (labctl, Lab, emulator, tests).

Every client of the lab brokers must carry ``BASE_CLIENT_CONFIG``: the noida-db
Kafka service ignores fetch size limits, so a consumer has to accept large
responses (``receive.message.max.bytes``) and keep ``fetch.max.bytes`` below it.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Iterable

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicCollection,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

BASE_CLIENT_CONFIG: dict[str, str] = {
    "receive.message.max.bytes": "1000000000",
    "fetch.max.bytes": "524288000",
}

# librdkafka settings that only make sense for one client type; filtered out
# of the shared config when building the other types so no warning is printed.
_CONSUMER_ONLY = {"fetch.max.bytes", "fetch.min.bytes", "fetch.wait.max.ms",
                  "max.partition.fetch.bytes", "auto.offset.reset", "isolation.level"}


class LabKafkaError(RuntimeError):
    """A lab data-helper failure with a one-line message."""


def client_conf(bootstrap: str, extra: dict | None = None, *, kind: str = "admin",
                **overrides: Any) -> dict:
    # librdkafka's informational lines (e.g. "BGQUEUE ... Purging 1 unserved events" when an
    # admin client is dropped) would land on the data helpers' stderr, whose failures are one line
    conf: dict[str, Any] = {**BASE_CLIENT_CONFIG, "log_level": 3}
    conf.update(extra or {})
    if kind != "consumer":
        for key in _CONSUMER_ONLY:
            conf.pop(key, None)
    conf["bootstrap.servers"] = bootstrap
    conf.update(overrides)
    return conf


def admin(bootstrap: str, extra: dict | None = None, **overrides: Any) -> AdminClient:
    return AdminClient(client_conf(bootstrap, extra, kind="admin", **overrides))


def cluster_id(bootstrap: str, extra: dict | None = None, timeout: float = 5.0) -> str:
    md = admin(bootstrap, extra).list_topics(timeout=timeout)
    return md.cluster_id


def topic_partitions(adm: AdminClient, timeout: float = 10.0) -> dict[str, int]:
    md = adm.list_topics(timeout=timeout)
    return {name: len(t.partitions) for name, t in md.topics.items() if t.error is None}


def create_topic(adm: AdminClient, topic: str, partitions: int = 1,
                 config: dict | None = None, timeout: float = 10.0) -> None:
    futs = adm.create_topics([NewTopic(topic, partitions, 1, config=config or {})],
                             operation_timeout=timeout, request_timeout=timeout)
    try:
        futs[topic].result()
    except KafkaException as exc:
        raise LabKafkaError(exc.args[0].str()) from None
    wait_for_topic(adm, topic, partitions, timeout)


def wait_for_topic(adm: AdminClient, topic: str, partitions: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = partition_count(adm, topic, timeout=timeout)  # not list_topics(topic=...): it may auto-create
        except KafkaException:
            found = None
        if found is not None and found >= partitions:
            return
        if time.monotonic() > deadline:
            raise LabKafkaError(f"topic {topic!r} did not appear within {timeout}s")
        time.sleep(0.05)


# Partitions per ListOffsets call. librdkafka's cost per call grows faster than linearly with the
# partitions it asks for (measured on the lab, 10,000 one-partition topics: one AdminClient call
# 870 ms of CPU, 100-partition calls 224 ms in all; a Consumer's offsets_for_times in calls of 100:
# 29 ms in all), so many partitions are asked for in chunks.
OFFSETS_CHUNK = 200


def _chunks(items: list, size: int = OFFSETS_CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def watermarks(adm: AdminClient, tps: Iterable[tuple[str, int]], spec: str = "latest",
               timeout: float = 10.0) -> dict[tuple[str, int], int]:
    """Batched offsets for many partitions: ListOffsets requests of up to ``OFFSETS_CHUNK``
    partitions, all sent before the first answer is read.

    ``spec`` is ``latest`` (high watermark) or ``earliest`` (log start)."""
    tps = list(tps)
    if not tps:
        return {}
    offset_spec = OffsetSpec.latest() if spec == "latest" else OffsetSpec.earliest()
    calls = [adm.list_offsets({TopicPartition(t, p): offset_spec for t, p in chunk},
                              request_timeout=timeout) for chunk in _chunks(tps)]
    out = {}
    for futs in calls:
        for tp, fut in futs.items():
            out[(tp.topic, tp.partition)] = fut.result().offset
    return out


def end_offsets_of(consumer: Consumer, tps: Iterable[tuple[str, int]],
                   timeout: float = 10.0) -> dict[tuple[str, int], int]:
    """High watermarks of many partitions through a consumer (``offsets_for_times`` with the
    "latest" timestamp, in chunks of ``OFFSETS_CHUNK``): far cheaper than an AdminClient's
    ``list_offsets`` for thousands of partitions, as no future is made per partition. A
    partition whose offset could not be read is -1; a failed request raises KafkaException."""
    out: dict[tuple[str, int], int] = {}
    for chunk in _chunks(list(tps)):
        for tp in consumer.offsets_for_times([TopicPartition(t, p, -1) for t, p in chunk],
                                             timeout=timeout):
            out[(tp.topic, tp.partition)] = tp.offset if tp.error is None else -1
    return out


def partition_count(adm: AdminClient, topic: str, timeout: float = 5.0) -> int | None:
    """The partition count of one topic, None when it does not exist. DescribeTopics asks
    for this topic's metadata only and, unlike ``list_topics(topic=...)``, never makes a
    broker with auto.create.topics.enable create it. Other errors raise KafkaException."""
    try:
        desc = adm.describe_topics(TopicCollection([topic]), request_timeout=timeout)[topic].result()
    except KafkaException as exc:
        if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            return None
        raise
    return len(desc.partitions)


# what a broker answers for a partition whose leadership is still settling (a topic just created)
_SETTLING = (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART)


def end_offsets(adm: AdminClient, topic: str, timeout: float = 10.0) -> dict[int, int]:
    """The high watermark of each partition of ``topic``. A retriable error (a topic just created
    whose leader the brokers do not agree on yet: NOT_LEADER_FOR_PARTITION) is asked again until
    ``timeout``."""
    parts = partition_count(adm, topic, timeout)     # this topic's metadata only
    if parts is None:
        raise LabKafkaError(f"topic {topic!r} does not exist")
    deadline = time.monotonic() + timeout
    while True:
        try:
            wm = watermarks(adm, [(topic, p) for p in range(parts)], timeout=timeout)
        except KafkaException as exc:
            err = exc.args[0]
            if not (err.retriable() or err.code() in _SETTLING) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        return {p: off for (_, p), off in sorted(wm.items())}


def _to_bytes(value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode()


def produce(bootstrap: str, topic: str, records: Iterable[Any], extra: dict | None = None,
            timeout: float = 30.0) -> int:
    """Produce records and wait for delivery; returns the number delivered.

    A record is a dict ``{value, key?, partition?, headers?, timestamp?}`` or a
    plain value (str/bytes/None). Headers are a dict or a list of pairs."""
    producer = Producer(client_conf(bootstrap, extra, kind="producer",
                                    **{"linger.ms": 5, "enable.idempotence": True,
                                       "queue.buffering.max.messages": 1000000}))
    errors: list[str] = []
    count = 0

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(str(err))

    for rec in records:
        if not isinstance(rec, dict):
            rec = {"value": rec}
        kwargs: dict[str, Any] = {"value": _to_bytes(rec.get("value")),
                                  "on_delivery": on_delivery}
        if rec.get("key") is not None:
            kwargs["key"] = _to_bytes(rec["key"])
        if rec.get("partition") is not None:
            kwargs["partition"] = int(rec["partition"])
        if rec.get("timestamp") is not None:
            kwargs["timestamp"] = int(rec["timestamp"])
        headers = rec.get("headers")
        if headers:
            items = headers.items() if isinstance(headers, dict) else headers
            kwargs["headers"] = [(k, _to_bytes(v)) for k, v in items]
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.05)
        count += 1
    remaining = producer.flush(timeout)
    if remaining:
        raise LabKafkaError(f"{remaining} records not delivered to {topic!r} within {timeout}s")
    if errors:
        raise LabKafkaError(f"produce to {topic!r} failed: {errors[0]}")
    return count


def produce_bench(bootstrap: str, topic: str, count: int, size: int,
                  extra: dict | None = None, timeout: float = 120.0) -> dict:
    """Produce ``count`` records of ``size`` bytes (round-robin partitions)."""
    producer = Producer(client_conf(bootstrap, extra, kind="producer",
                                    **{"linger.ms": 20, "batch.size": 1000000,
                                       "queue.buffering.max.messages": 2000000,
                                       "queue.buffering.max.kbytes": 2000000}))
    payload = (b"x" * size)
    errors: list[str] = []

    def on_delivery(err, _msg):
        if err is not None and len(errors) < 5:
            errors.append(str(err))

    t0 = time.monotonic()
    for i in range(count):
        while True:
            try:
                producer.produce(topic, payload, key=str(i).encode(), on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10000 == 0:
            producer.poll(0)
    remaining = producer.flush(timeout)
    elapsed = time.monotonic() - t0
    if remaining or errors:
        raise LabKafkaError(f"benchmark produce failed: {remaining} undelivered, {errors[:1]}")
    return {"records": count, "bytes": count * size, "seconds": round(elapsed, 3),
            "records_per_second": round(count / elapsed) if elapsed else None}


def _decode(b: bytes | None) -> str | None:
    if b is None:
        return None
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(b).decode()


def committed_offsets(adm: AdminClient, group: str, timeout: float = 10.0) -> dict[str, dict[int, int]]:
    """Committed offsets of a group as ``{topic: {partition: offset}}``."""
    futs = adm.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)],
                                           request_timeout=timeout)
    out: dict[str, dict[int, int]] = {}
    for fut in futs.values():
        for tp in fut.result().topic_partitions:
            if tp.error is None and tp.offset >= 0:
                out.setdefault(tp.topic, {})[tp.partition] = tp.offset
    return out


def consume(bootstrap: str, topic: str, *, group: str | None = None, commit: bool = False,
            max_records: int | None = None, extra: dict | None = None,
            timeout: float = 30.0) -> list[dict]:
    """Read ``topic`` from the beginning (or from ``group``'s committed offsets)
    up to the high watermarks taken at the start; return records as dicts.

    With ``commit`` (needs ``group``) the offsets after the last record read are
    committed for the group."""
    if commit and not group:
        raise LabKafkaError("--commit needs --group")
    adm = admin(bootstrap, extra)
    ends = end_offsets(adm, topic, timeout)
    lows = watermarks(adm, [(topic, p) for p in ends], spec="earliest", timeout=timeout)
    starts = {p: lows[(topic, p)] for p in ends}
    if group:
        committed = committed_offsets(adm, group, timeout).get(topic, {})
        for p, off in committed.items():
            if p in starts:
                starts[p] = max(off, starts[p])
    pending = {p: ends[p] for p in ends if starts[p] < ends[p]}
    records: list[dict] = []
    positions = dict(starts)
    consumer = Consumer(client_conf(bootstrap, extra, kind="consumer", **{
        "group.id": group or "labctl-reader",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_uncommitted",
    }))
    try:
        if pending:
            consumer.assign([TopicPartition(topic, p, starts[p]) for p in pending])
        deadline = time.monotonic() + timeout
        while pending and (max_records is None or len(records) < max_records):
            if time.monotonic() > deadline:
                raise LabKafkaError(f"timed out reading {topic!r}: still pending {pending}")
            msgs = consumer.consume(num_messages=10000, timeout=0.5)
            for m in msgs:
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise LabKafkaError(f"consume from {topic!r} failed: {m.error()}")
                p = m.partition()
                if p not in pending or m.offset() >= pending[p]:
                    continue
                if max_records is not None and len(records) >= max_records:
                    break
                ts_type, ts = m.timestamp()
                records.append({
                    "partition": p,
                    "offset": m.offset(),
                    "key": _decode(m.key()),
                    "value": _decode(m.value()),
                    "timestamp": ts if ts_type != 0 else None,
                    "headers": [[k, _decode(v)] for k, v in (m.headers() or [])],
                })
                positions[p] = m.offset() + 1
                if positions[p] >= pending[p]:
                    del pending[p]
        if commit:
            offs = [TopicPartition(topic, p, off) for p, off in positions.items()]
            if offs:
                consumer.commit(offsets=offs, asynchronous=False)
    finally:
        consumer.close()
    records.sort(key=lambda r: (r["partition"], r["offset"]))
    return records


def wait_ready(bootstrap: str, extra: dict | None = None, timeout: float = 30.0) -> str:
    """Wait until a broker answers metadata; return the cluster id it reports."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    adm = admin(bootstrap, extra, **{"socket.connection.setup.timeout.ms": 2000, "log_level": 0})
    while time.monotonic() < deadline:
        try:
            md = adm.list_topics(timeout=2)
            if md.brokers:
                return md.cluster_id
        except KafkaException as exc:
            last = exc
        time.sleep(0.1)
    raise LabKafkaError(f"broker {bootstrap} not ready after {timeout}s: {last}")

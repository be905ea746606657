"""``kafka-mirrors`` for the linkops lab: create, list and describe mirror
topics, and the batch actions (promote, failover, pause, unpause,
reverse-and-start, reverse-and-pause, truncate-and-restore), through the lab's
Kafka REST v3 emulator.

A batch action sends one REST request per link for all its topics (normally
one request per command) and prints one line per topic, errors included; the
exit code is 1 when any topic failed. See docs/lab.md, "CP tools", for every
printed line.
"""

from __future__ import annotations

import sys
import time

from linkops_lab.cptools.broker_auth import authenticate
from linkops_lab.cptools.common import (
    COMMON_OPTS, Opt, OptionParser, Parsed, RestClient, check_invalid_with, err, java_list,
    load_command_config, load_lab, out, require_one_action, run_tool)
from linkops_lab.cptools.errors import CommandError, RestError, UsageError
from linkops_lab.cptools.properties import load_properties

TOOL = "kafka-mirrors"
HEADER = ("This tool creates, lists, describes and changes the state of mirror topics. (linkops "
          "lab emulation of the Confluent Platform tool: it talks to the lab's Kafka REST v3 "
          "emulator.)")

BATCH = {  # option -> (REST action, verb of the error line)
    "promote": ("promote", "stopping"),
    "failover": ("failover", "stopping"),
    "pause": ("pause", "pausing"),
    "unpause": ("resume", "unpausing"),
    "reverse-and-start": ("reverse-and-start-mirror", "reversing"),
    "reverse-and-pause": ("reverse-and-pause-mirror", "reversing"),
    "truncate-and-restore": ("truncate-and-restore", "truncating and restoring"),
}
ACTIONS = ["create", "list", "describe"] + list(BATCH)

OPTS = COMMON_OPTS + [
    Opt("create", "Creates a mirror topic (--mirror-topic, --link)."),
    Opt("list", "Lists mirror topics, one name a line (of one link with --link)."),
    Opt("describe", "Describes mirror topics and their partitions."),
    Opt("promote", "Stops mirroring once the mirror has caught up (needs the source cluster)."),
    Opt("failover", "Stops mirroring at once, without a lag check."),
    Opt("pause", "Pauses mirroring."),
    Opt("unpause", "Resumes paused mirroring."),
    Opt("reverse-and-start", "Makes the local mirror writable and starts the remote topic "
        "mirroring it (bidirectional links)."),
    Opt("reverse-and-pause", "As --reverse-and-start, but leaves the remote mirror paused."),
    Opt("truncate-and-restore", "Truncates the local topic to the remote's stopped mirror and "
        "makes it a mirror again (needs --topics and --link)."),
    Opt("mirror-topic", "The name of the mirror topic to create.", arg="topic"),
    Opt("source-topic", "The source topic of the mirror (default: the mirror topic's name).",
        arg="topic"),
    Opt("link", "The cluster link.", arg="link name"),
    Opt("links", "Describe only mirrors of these cluster links.", arg="link1,link2", multi=True),
    Opt("topics", "The mirror topics to act on or describe.", arg="topic1,topic2", multi=True),
    Opt("replication-factor", "Replication factor of the mirror topic (the lab accepts it and "
        "uses 1).", arg="replication factor", type="Integer"),
    Opt("config-file", "Property file with topic configs of the mirror topic.", arg="file"),
    Opt("pending-stopped-only", "With --describe: only mirrors whose stop is still pending."),
    Opt("include-partition-data", "With --truncate-and-restore: print per-partition truncation "
        "data."),
    Opt("force", "Do not ask for confirmation (the lab never asks)."),
]


def _fail(message: str) -> None:
    out(f"Error while executing mirror command: {message}")


def _check_args(p: Parsed) -> str:
    if not p.has("bootstrap-server"):
        raise UsageError('Missing required argument "[bootstrap-server]"')
    action = require_one_action(
        p, ACTIONS, "Command must include exactly one action: --create, --list, --describe, "
                    "--promote, --failover, --pause, --unpause, --reverse-and-start, "
                    "--reverse-and-pause or --truncate-and-restore.")
    for opt in ("mirror-topic", "source-topic", "replication-factor", "config-file"):
        check_invalid_with(p, opt, [a for a in ACTIONS if a != "create"])
    check_invalid_with(p, "pending-stopped-only", [a for a in ACTIONS if a != "describe"])
    check_invalid_with(p, "links", [a for a in ACTIONS if a != "describe"])
    check_invalid_with(p, "include-partition-data",
                       [a for a in ACTIONS if a != "truncate-and-restore"])
    check_invalid_with(p, "topics", ["create", "list"])
    if action == "create":
        for req in ("mirror-topic", "link"):
            if not p.has(req):
                raise UsageError(f'Missing required argument "[{req}]"')
        rf = p.value("replication-factor")
        if rf is not None:
            try:
                int(rf)
            except ValueError:
                raise UsageError(f"Cannot parse argument '{rf}' of option replication-factor: "
                                 "an integer is required") from None
    if action == "truncate-and-restore" and not (p.list("topics") and p.has("link")):
        raise UsageError("--truncate-and-restore needs both --topics and --link.")
    if action in BATCH and not (p.list("topics") or p.has("link")):
        raise UsageError(f"--{action} needs --topics and/or --link.")
    return action


def _create(p: Parsed, rest: RestClient) -> int:
    mirror = p.value("mirror-topic")
    source = p.value("source-topic") or mirror
    body: dict = {"source_topic_name": source}
    if mirror != source:
        body["mirror_topic_name"] = mirror
    if p.has("replication-factor"):
        body["replication_factor"] = int(p.value("replication-factor"))
    if p.has("config-file"):
        configs = load_properties(p.value("config-file"), "config-file")
        body["configs"] = [{"name": k, "value": v} for k, v in configs.items()]
    rest.call("POST", f"/links/{p.value('link')}/mirrors", body)
    out(f"Created topic {mirror}.")
    return 0


def _mirrors(rest: RestClient, link: str | None, status: str | None = None) -> list[dict]:
    path = f"/links/{link}/mirrors" if link else "/links/-/mirrors"
    return (rest.call("GET", path, params={"mirror_status": status}) or {}).get("data") or []


def _list(p: Parsed, rest: RestClient) -> int:
    for name in sorted({m.get("mirror_topic_name") for m in _mirrors(rest, p.value("link"))}):
        out(name)
    return 0


def _dest_log_end_offsets(cluster, mirrors: list[dict]) -> dict[tuple[str, int], int]:
    """Log end offsets of the mirror partitions on the cluster at
    --bootstrap-server (one batched ListOffsets request); {} if unreadable."""
    tps = [(m["mirror_topic_name"], lag["partition"]) for m in mirrors
           for lag in m.get("mirror_lags") or []]
    if not tps:
        return {}
    try:
        from linkops_lab import kafka
        adm = kafka.admin(cluster.bootstrap, cluster.client_config, log_level=0)
        return kafka.watermarks(adm, tps, timeout=10)
    except Exception as exc:  # shown as -1, with one warning
        err(f"WARN could not read the log end offsets of the mirror topics from "
            f"{cluster.bootstrap}: {' '.join(str(exc).split())}")
        return {}


def _describe(p: Parsed, cluster, rest: RestClient) -> int:
    status = "PENDING_STOPPED" if p.has("pending-stopped-only") else None
    mirrors = _mirrors(rest, None, status)
    links = set(p.list("links")) | ({p.value("link")} if p.has("link") else set())
    topics = set(p.list("topics"))
    mirrors = [m for m in mirrors if (not links or m.get("link_name") in links)
               and (not topics or m.get("mirror_topic_name") in topics)]
    if not mirrors:
        out("No mirror topics found.")
        return 0
    link_ids = {lk.get("link_name"): lk.get("cluster_link_id") or lk.get("link_id") or ""
                for lk in (rest.call("GET", "/links") or {}).get("data") or []}
    leo = _dest_log_end_offsets(cluster, mirrors)
    for m in mirrors:
        name, state = m.get("mirror_topic_name"), m.get("mirror_status")
        ms = m.get("state_time_ms")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000)) if ms else "-"
        out(f"Topic: {name}\tLinkName: {m.get('link_name')}\tLinkId: "
            f"{link_ids.get(m.get('link_name'), '')}\tSourceTopic: {m.get('source_topic_name')}"
            f"\tState: {state}\tSourceTopicId: AAAAAAAAAAAAAAAAAAAAAA\tStateTime: {when}")
        for lag in sorted(m.get("mirror_lags") or [], key=lambda x: x.get("partition", 0)):
            part = lag.get("partition")
            out(f"\tPartition: {part}\tState: {state}\tDestLogEndOffset: "
                f"{leo.get((name, part), -1)}\tLastFetchSourceHighWatermark: "
                f"{lag.get('last_source_fetch_offset', -1)}\tLag: {lag.get('lag', -1)}"
                f"\tTimeSinceLastFetchMs: -1")
    return 0


def _exception_class(code) -> str:
    if code in (404, 40403, 40404):
        return "org.apache.kafka.common.errors.UnknownTopicOrPartitionException"
    if code in (401, 403, 40101, 40301):
        return "org.apache.kafka.common.errors.TopicAuthorizationException"
    if code in (400, 40002) or (isinstance(code, int) and 400 <= code < 500):
        return "org.apache.kafka.common.errors.InvalidRequestException"
    return "org.apache.kafka.common.KafkaException"


def _success_lines(action: str, topic: str, result: dict, with_partitions: bool) -> list[str]:
    if action in ("promote", "failover"):
        return [f"Request for stopping topic {topic}'s mirror was successfully scheduled. Please "
                "use the describe command with the --pending-stopped-only option to monitor "
                "progress."]
    if action == "pause":
        return [f"Request for pausing topic {topic}'s mirror was successfully scheduled."]
    if action == "unpause":
        return [f"Request for unpausing topic {topic}'s mirror was successfully scheduled."]
    if action == "reverse-and-start":
        return [f"Request for reversing local mirror and starting remote mirror for topic "
                f"{topic} was successfully scheduled."]
    if action == "reverse-and-pause":
        return [f"Request for reversing local mirror and pausing remote mirror for topic "
                f"{topic} was successfully scheduled."]
    lines = [f"Request for truncate and restore for topic {topic} was successfully scheduled. "
             f"{result.get('messages_truncated') or 0} messages will be truncated."]
    if with_partitions:
        for d in sorted(result.get("partition_level_truncation_data") or [],
                        key=lambda x: x.get("partition_id", 0)):
            lines.append(f"\tPartition: {d.get('partition_id')}\tOffsetTruncatedTo: "
                         f"{d.get('offset_truncated_to')}\tMessagesTruncated: "
                         f"{d.get('messages_truncated')}")
    return lines


def _batch(p: Parsed, action: str, rest: RestClient) -> int:
    rest_action, verb = BATCH[action]
    link = p.value("link")
    topics = list(dict.fromkeys(p.list("topics")))
    groups: dict[str, list[str]] = {}
    errors: dict[str, tuple[object, str]] = {}
    if topics and link:
        groups[link] = topics
    elif topics:
        owner = {m.get("mirror_topic_name"): m.get("link_name") for m in _mirrors(rest, None)}
        for t in topics:
            if t in owner:
                groups.setdefault(owner[t], []).append(t)
            else:
                errors[t] = (404, f"Topic '{t}' is not a mirror topic of any cluster link.")
    else:
        topics = sorted(m.get("mirror_topic_name") for m in _mirrors(rest, link)
                        if m.get("mirror_status") != "STOPPED")
        if not topics:
            out("No mirror topics found.")
            return 0
        groups[link] = topics
    if action == "promote":
        out(f"Calculating max offset and ms lag for mirror topics: {java_list(topics)}")
        out(f"Finished calculating max offset lag and max lag ms for mirror topics: "
            f"{java_list(topics)}")
    results: dict[str, dict] = {}
    params = {"include_partition_level_truncation_data": True} \
        if action == "truncate-and-restore" and p.has("include-partition-data") else None
    for lname, names in groups.items():
        try:
            data = rest.call("POST", f"/links/{lname}/mirrors:{rest_action}",
                             {"mirror_topic_names": names}, params)
        except RestError as exc:
            if len(groups) == 1 and not errors:
                raise CommandError(exc.message) from None
            for t in names:
                errors[t] = (exc.error_code or exc.status, exc.message)
            continue
        for item in (data or {}).get("data") or []:
            results[item.get("mirror_topic_name")] = item
    failed = False
    for t in topics:
        item = results.get(t)
        if t in errors or item is None or item.get("error_code"):
            failed = True
            code, message = errors.get(t) or (
                (item.get("error_code"), item.get("error_message") or "")
                if item else (500, "the server returned no result for this topic"))
            out(f"Error encountered while {verb} topic {t}'s mirror: "
                f"java.util.concurrent.ExecutionException: {_exception_class(code)}: {message}")
            continue
        for line in _success_lines(action, t, item, p.has("include-partition-data")):
            out(line)
    return 1 if failed else 0


def _run(p: Parsed) -> int:
    action = _check_args(p)
    props = load_command_config(p)
    lab = load_lab()
    cluster = lab.resolve(p.value("bootstrap-server"))
    authenticate(props, cluster.bootstrap, lab.info)
    rest = RestClient(cluster)
    if action == "create":
        return _create(p, rest)
    if action == "list":
        return _list(p, rest)
    if action == "describe":
        return _describe(p, cluster, rest)
    return _batch(p, action, rest)


def main(argv: list[str] | None = None) -> int:
    return run_tool(TOOL, OptionParser(OPTS), HEADER, _run, argv, _fail)


if __name__ == "__main__":
    sys.exit(main())

"""kafka-mirrors, installed by ``labctl.py install-tools`` and run as a real executable against
the session lab (real REST, real brokers): create, describe and the batch actions, delete of a
link with mirrors, and reverse and truncate-and-restore over a bidirectional link."""

from __future__ import annotations

import re

import pytest

from cptools_runner import props_file
from labtesting import recent_ts, unique, wait_until


def poll(fn, timeout=30.0, what="condition"):
    """wait_until for conditions that run a tool: every 0.3 s, not 0.05 s."""
    return wait_until(fn, timeout, what, interval=0.3)


def _describe_re(topic, link, link_id, source, state):
    return (rf"Topic: {topic}\tLinkName: {link}\tLinkId: {link_id}\tSourceTopic: {source}\t"
            rf"State: {state}\tSourceTopicId: AAAAAAAAAAAAAAAAAAAAAA\t"
            rf"StateTime: \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d")


def test_mirrors_create_describe_and_batch_actions(tools, tmp_path, lab):
    link = unique("cpt-mir")
    a, b, c = unique("cpt-a"), unique("cpt-b"), unique("cpt-c")
    for t, n in ((a, 2), (b, 1), (c, 1)):
        lab.create_topic("source", t, partitions=n)
    lab.produce("source", a, [{"value": f"v{i}", "partition": i % 2, "timestamp": recent_ts(i)}
                              for i in range(5)])
    lab.produce("source", b, [{"value": "x", "timestamp": recent_ts()}])
    r = tools.links("--create", "--link", link, "--config", f"bootstrap.servers={tools.S}",
                    "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    link_id = tools.rest_links()[link]["cluster_link_id"]

    r = tools.mirrors("--create", "--mirror-topic", a, "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Created topic {a}.\n")
    cfg = props_file(tmp_path / "topic.config", **{"retention.ms": "86400000"})
    r = tools.mirrors("--create", "--mirror-topic", b, "--source-topic", b, "--link", link,
                      "--replication-factor", "1", "--config-file", cfg, "--bootstrap-server",
                      tools.D)
    assert (r.returncode, r.stdout) == (0, f"Created topic {b}.\n")
    r = tools.mirrors("--create", "--mirror-topic", c, "--link", link, "--bootstrap-server", tools.D)
    assert r.returncode == 0
    r = tools.mirrors("--create", "--mirror-topic", a, "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (
        1, f"Error while executing mirror command: Topic '{a}' already exists.\n")
    r = tools.mirrors("--create", "--mirror-topic", "renamed", "--source-topic", a, "--link", link,
                      "--bootstrap-server", tools.D)
    assert r.returncode == 1 and r.stdout.startswith("Error while executing mirror command: ")

    from confluent_kafka.admin import ConfigResource
    res = lab.admin("destination").describe_configs([ConfigResource("topic", b)])
    assert list(res.values())[0].result()["retention.ms"].value == "86400000"

    r = tools.mirrors("--list", "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "".join(f"{t}\n" for t in sorted((a, b, c))))

    def described():
        res = tools.mirrors("--describe", "--topics", a, "--links", link, "--bootstrap-server",
                            tools.D)
        return res if "State: ACTIVE" in res.stdout and "\tLag: 0\t" in res.stdout \
            and "Lag: 5" not in res.stdout and "DestLogEndOffset: 3" in res.stdout else None
    r = poll(described, 30, f"mirror {a} ACTIVE with lag 0")
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(_describe_re(a, link, link_id, a, "ACTIVE"), lines[0]), lines[0]
    ends = lab.end_offsets("destination", a)
    assert ends == {0: 3, 1: 2}
    for p in (0, 1):
        assert lines[1 + p] == (f"\tPartition: {p}\tState: ACTIVE\tDestLogEndOffset: {ends[p]}\t"
                                f"LastFetchSourceHighWatermark: {ends[p]}\tLag: 0\t"
                                "TimeSinceLastFetchMs: -1")
    r = tools.mirrors("--describe", "--link", link, "--bootstrap-server", tools.D)
    assert [ln.split("\t")[0] for ln in r.stdout.splitlines() if ln.startswith("Topic: ")] == [
        f"Topic: {t}" for t in sorted((a, b, c))]
    r = tools.mirrors("--describe", "--topics", "no-such-topic", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "No mirror topics found.\n")

    # pause: one request for the whole batch, per-topic lines, an unknown topic fails (exit 1)
    needle = f"POST /kafka/v3/clusters/{tools.did}/links/{link}/mirrors:pause "
    before = tools.emulator_requests(needle)
    r = tools.mirrors("--pause", "--topics", f"{a},{b},nosuch", "--link", link,
                      "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        f"Request for pausing topic {a}'s mirror was successfully scheduled.",
        f"Request for pausing topic {b}'s mirror was successfully scheduled.",
        "Error encountered while pausing topic nosuch's mirror: java.util.concurrent."
        "ExecutionException: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: "
        f"Topic 'nosuch' is not a mirror topic of cluster link '{link}'."]
    assert tools.emulator_requests(needle) == before + 1
    r = tools.mirrors("--describe", "--topics", f"{a},{b}", "--bootstrap-server", tools.D)
    assert sum("\tState: PAUSED\t" in ln for ln in r.stdout.splitlines()) == 5
    # unpause by --topics alone: the tool finds the link (one read), then one request
    needle = f"POST /kafka/v3/clusters/{tools.did}/links/{link}/mirrors:resume "
    before = tools.emulator_requests(needle)
    r = tools.mirrors("--unpause", "--topics", f"{a},{b}", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout.splitlines()) == (0, [
        f"Request for unpausing topic {a}'s mirror was successfully scheduled.",
        f"Request for unpausing topic {b}'s mirror was successfully scheduled."])
    assert tools.emulator_requests(needle) == before + 1
    r = tools.mirrors("--unpause", "--topics", "not-a-mirror", "--bootstrap-server", tools.D)
    assert r.returncode == 1 and "Error encountered while unpausing topic not-a-mirror's mirror" \
        in r.stdout

    # promote refuses a lagging mirror (per-topic error from the server)
    lab.knobs(copy_paused=True)
    try:
        lab.produce("source", c, [{"value": "late", "timestamp": recent_ts()}])
        r = tools.mirrors("--promote", "--topics", c, "--link", link, "--bootstrap-server", tools.D)
    finally:
        lab.knobs(copy_paused=False)
    assert r.returncode == 1
    assert r.stdout.splitlines()[:2] == [
        f"Calculating max offset and ms lag for mirror topics: [{c}]",
        f"Finished calculating max offset lag and max lag ms for mirror topics: [{c}]"]
    assert r.stdout.splitlines()[2].startswith(
        f"Error encountered while stopping topic {c}'s mirror: java.util.concurrent."
        "ExecutionException: org.apache.kafka.common.errors.InvalidRequestException: ")
    assert "lag" in r.stdout.splitlines()[2]

    # promote two topics once caught up
    poll(lambda: "\tLag: 0\t" in tools.mirrors("--describe", "--topics", c,
                                               "--bootstrap-server", tools.D).stdout, 30)
    r = tools.mirrors("--promote", "--topics", f"{a},{c}", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout.splitlines()) == (0, [
        f"Calculating max offset and ms lag for mirror topics: [{a}, {c}]",
        f"Finished calculating max offset lag and max lag ms for mirror topics: [{a}, {c}]"] + [
        f"Request for stopping topic {t}'s mirror was successfully scheduled. Please use the "
        "describe command with the --pending-stopped-only option to monitor progress."
        for t in (a, c)])

    def stopped():
        res = tools.mirrors("--describe", "--topics", f"{a},{c}", "--pending-stopped-only",
                            "--bootstrap-server", tools.D)
        assert res.returncode == 0
        assert res.stdout == "No mirror topics found.\n" or "State: PENDING_STOPPED" in res.stdout
        return res.stdout == "No mirror topics found.\n"
    poll(stopped, 30, "the promoted mirrors to leave PENDING_STOPPED")
    r = tools.mirrors("--describe", "--topics", a, "--bootstrap-server", tools.D)
    assert re.fullmatch(_describe_re(a, link, link_id, a, "STOPPED"), r.stdout.splitlines()[0])
    r = tools.mirrors("--promote", "--topics", a, "--link", link, "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.splitlines()[2] == (
        f"Error encountered while stopping topic {a}'s mirror: java.util.concurrent."
        "ExecutionException: org.apache.kafka.common.errors.InvalidRequestException: "
        f"Topic '{a}' has already stopped its mirror from '{link}'")

    # failover by --link alone: every mirror of the link that is not stopped (here b)
    r = tools.mirrors("--failover", "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Request for stopping topic {b}'s mirror was "
                                           "successfully scheduled. Please use the describe "
                                           "command with the --pending-stopped-only option to "
                                           "monitor progress.\n")
    poll(lambda: tools.mirrors("--describe", "--topics", b, "--pending-stopped-only",
                               "--bootstrap-server", tools.D).stdout
         == "No mirror topics found.\n", 30)
    r = tools.mirrors("--failover", "--link", link, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "No mirror topics found.\n")

    # reverse / truncate on a DESTINATION link: the server refuses the whole request
    for action in ("--reverse-and-start", "--reverse-and-pause"):
        r = tools.mirrors(action, "--topics", b, "--link", link, "--bootstrap-server", tools.D)
        assert r.returncode == 1
        assert r.stdout.startswith("Error while executing mirror command: ") and "BIDIRECTIONAL" \
            in r.stdout
    r = tools.links("--delete", "--link", link, "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout


def test_delete_link_with_mirrors_needs_force(tools, lab):
    link, t = unique("cpt-force"), unique("cpt-f")
    lab.create_topic("source", t)
    assert tools.links("--create", "--link", link, "--config", f"bootstrap.servers={tools.S}",
                       "--bootstrap-server", tools.D).returncode == 0
    assert tools.mirrors("--create", "--mirror-topic", t, "--link", link, "--bootstrap-server",
                         tools.D).returncode == 0
    r = tools.links("--list", "--link", link, "--include-topics", "--bootstrap-server", tools.D)
    assert r.stdout.endswith(f", topics: [{t}]\n")
    r = tools.links("--delete", "--link", link, "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.startswith(f"Error while executing cluster link command: Cluster link '{link}' "
                               "cannot be deleted")
    r = tools.links("--delete", "--link", link, "--force", "--validate-only", "--bootstrap-server",
                    tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{link}' deletion successfully validated.\n")
    r = tools.links("--delete", "--link", link, "--force", "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, f"Cluster link '{link}' deletion successfully completed.\n")


def test_bidirectional_reverse_and_truncate_and_restore(tools, lab, tmp_path):
    """Both halves of a BIDIRECTIONAL link created with the tool (one on each
    cluster), then reverse-and-start, reverse-and-pause, failover and
    truncate-and-restore, all through kafka-mirrors."""
    if not lab.info.get("source_rest_url"):
        pytest.xfail("this lab serves no REST for the source cluster (no source_rest_url in "
                     "lab.json): the emulator predates bidirectional links")
    link, t, u = unique("cpt-bd"), unique("cpt-r"), unique("cpt-p")
    for topic in (t, u):
        lab.create_topic("source", topic, partitions=2)
        lab.produce("source", topic, [{"value": f"s{i}", "partition": i % 2,
                                       "timestamp": recent_ts(i)} for i in range(4)])
    on_d = props_file(tmp_path / "d.config", **{"link.mode": "BIDIRECTIONAL",
                                                "bootstrap.servers": tools.S})
    on_s = props_file(tmp_path / "s.config", **{"link.mode": "BIDIRECTIONAL",
                                                "bootstrap.servers": tools.D})
    r = tools.links("--create", "--link", link, "--config-file", on_d, "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    r = tools.links("--create", "--link", link, "--config-file", on_s, "--bootstrap-server", tools.S)
    assert r.returncode == 0, r.stdout
    r = tools.links("--describe", "--link", link, "--bootstrap-server", tools.S)
    assert f"remote cluster ID: '{tools.did}', local cluster ID: '{tools.sid}', link mode: " \
           "'BIDIRECTIONAL'" in r.stdout
    for topic in (t, u):
        r = tools.mirrors("--create", "--mirror-topic", topic, "--link", link, "--bootstrap-server",
                          tools.D)
        assert r.returncode == 0, r.stdout

    def caught_up(topic, server, state="ACTIVE"):
        out = tools.mirrors("--describe", "--topics", topic, "--bootstrap-server", server).stdout
        return f"\tState: {state}\t" in out and out.count("\tLag: 0\t") == 2
    for topic in (t, u):
        poll(lambda: caught_up(topic, tools.D), 30, f"{topic} caught up")

    r = tools.mirrors("--reverse-and-start", "--topics", t, "--link", link, "--bootstrap-server",
                      tools.D)
    assert (r.returncode, r.stdout) == (0, "Request for reversing local mirror and starting remote "
                                           f"mirror for topic {t} was successfully scheduled.\n")
    r = tools.mirrors("--reverse-and-pause", "--topics", u, "--bootstrap-server", tools.D)
    assert (r.returncode, r.stdout) == (0, "Request for reversing local mirror and pausing remote "
                                           f"mirror for topic {u} was successfully scheduled.\n")
    poll(lambda: caught_up(t, tools.S), 30, f"{t} mirrored back on the source cluster")
    poll(lambda: "\tState: PAUSED\t" in tools.mirrors(
        "--describe", "--topics", u, "--bootstrap-server", tools.S).stdout, 30)
    r = tools.mirrors("--describe", "--topics", t, "--bootstrap-server", tools.D)
    assert "\tState: STOPPED\t" in r.stdout.splitlines()[0]

    # the destination is now the primary of t; fail the source's mirror over, write on the
    # old primary, then truncate-and-restore it back to what the failed-over mirror holds
    r = tools.mirrors("--failover", "--topics", t, "--bootstrap-server", tools.S)
    assert r.returncode == 0, r.stdout
    poll(lambda: "\tState: STOPPED\t" in tools.mirrors(
        "--describe", "--topics", t, "--bootstrap-server", tools.S).stdout, 30)
    lab.produce("destination", t, [{"value": "after-failover", "partition": 1,
                                    "timestamp": recent_ts()}] * 3)
    r = tools.mirrors("--truncate-and-restore", "--topics", t, "--link", link,
                      "--include-partition-data", "--bootstrap-server", tools.D)
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines() == [
        f"Request for truncate and restore for topic {t} was successfully scheduled. 3 messages "
        "will be truncated.",
        "\tPartition: 0\tOffsetTruncatedTo: 2\tMessagesTruncated: 0",
        "\tPartition: 1\tOffsetTruncatedTo: 2\tMessagesTruncated: 3"]
    poll(lambda: caught_up(t, tools.D), 30, f"{t} restored as a mirror on the destination")
    assert lab.end_offsets("destination", t) == {0: 2, 1: 2}
    r = tools.mirrors("--truncate-and-restore", "--topics", t, "--link", link,
                      "--bootstrap-server", tools.D)
    assert r.returncode == 1
    assert r.stdout.startswith(f"Error encountered while truncating and restoring topic {t}'s "
                               "mirror: java.util.concurrent.ExecutionException: ")
    for server in (tools.D, tools.S):
        r = tools.links("--delete", "--link", link, "--force", "--bootstrap-server", server)
        assert r.returncode == 0, r.stdout

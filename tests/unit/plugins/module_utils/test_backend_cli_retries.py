# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CLI backend's retries and lost answers (issue 15): which tool failures run a command again,
which make a write's outcome unknown (CliAnswerLost: the reconcilers describe the object), and
which are reported as they are. FakeTools (test_backend_cli.py) plays the CP tools."""

from __future__ import annotations

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _backend_cli as cli
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _cli_output as cli_output
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import RetryPolicy, outcome_unknown

from test_backend_cli import DESCRIBE_LINK, FakeTools, backend, ok  # noqa: E402  (same directory)

THROTTLED = (1, "", "Error while executing cluster link command: org.apache.kafka.common.errors."
                    "ThrottlingQuotaExceededException: The throttling quota has been exceeded.\n")
LAB_503 = (1, "", "Error while executing mirror command: Injected lab fault: HTTP 503 Service Unavailable\n")
DROPPED = (1, "", "Error while executing cluster link command: cannot reach the lab's Kafka REST endpoint "
                  "http://127.0.0.1:1/kafka for the destination cluster: Remote end closed connection without "
                  "response (is the lab up? `labctl.py status`)\n")
TIMED_OUT = (1, "", "Error while executing cluster link command: org.apache.kafka.common.errors.TimeoutException: "
                    "Timed out waiting for a node assignment.\n")
PROMOTED = "Request for stopping topic a's mirror was successfully scheduled. Please use the describe command.\n"


def retrying(tools, tmp_path, **kw):
    sleeps = []
    b = backend(tools, tmp_path, **kw)
    b.retry_policy = RetryPolicy(retries=3, sleep=sleeps.append, rand=lambda: 1.0)
    return b, sleeps


@pytest.mark.parametrize("message, kind", [
    (THROTTLED[2], "not_acted"), (LAB_503[2], "not_acted"), ("HTTP 429: Too Many Requests", "not_acted"),
    ("[Errno 111] Connection refused", "not_acted"), (DROPPED[2], "dropped"),
    ("java.io.IOException: Connection reset by peer", "dropped"), (TIMED_OUT[2], "timed_out"),
    ("Cluster link 'x' does not exist.", None), ("Topic 'a' already exists.", None),
])
def test_failure_kind(message, kind):
    assert cli_output.failure_kind(message) == kind


@pytest.mark.parametrize("failure", [THROTTLED, LAB_503], ids=["throttled", "503"])
def test_a_write_the_server_did_not_act_on_is_run_again(tmp_path, failure):
    tools = FakeTools(failure, failure, ok("Cluster link 'l' creation successfully completed.\n"))
    b, sleeps = retrying(tools, tmp_path)
    b.create_link("l", {"source_cluster_id": "src"}, {"bootstrap.servers": "s:9092"})
    assert len(tools.calls) == 3
    assert sleeps == [1.0, 2.0]
    assert b.retry_policy.count == 2
    assert b.retry_policy.lines[0].startswith("kafka-cluster-links --create: ")


def test_retries_end_with_the_tool_error(tmp_path):
    tools = FakeTools(LAB_503)
    b, sleeps = retrying(tools, tmp_path)
    with pytest.raises(cli.CliError) as err:
        b.create_mirror("l", "a")
    assert not outcome_unknown(err.value)
    assert len(tools.calls) == 4 and len(sleeps) == 3
    assert "HTTP 503" in err.value.message


@pytest.mark.parametrize("failure", [DROPPED, TIMED_OUT], ids=["dropped", "timed-out"])
def test_a_write_that_lost_its_connection_is_an_unknown_outcome(tmp_path, failure):
    tools = FakeTools(failure)
    b, sleeps = retrying(tools, tmp_path)
    with pytest.raises(cli.CliAnswerLost) as err:
        b.create_link("l", {"source_cluster_id": "src"}, {"bootstrap.servers": "s:9092"})
    assert outcome_unknown(err.value)
    assert "may have acted" in err.value.message
    assert len(tools.calls) == 1 and sleeps == []


def test_a_write_stopped_at_cli_timeout_is_an_unknown_outcome(tmp_path):
    tools = FakeTools((124, "", ""), timeout_bin="/usr/bin/timeout")
    b, sleeps = retrying(tools, tmp_path, timeout=5)
    with pytest.raises(cli.CliAnswerLost) as err:
        b.alter_mirrors("l", "promote", ["a"])
    assert "cli_timeout" in err.value.message and outcome_unknown(err.value)


def test_a_read_that_lost_its_connection_is_run_again(tmp_path):
    tools = FakeTools(DROPPED, ok(DESCRIBE_LINK))
    b, sleeps = retrying(tools, tmp_path)
    assert b.get_link("orders-link")["link_name"] == "orders-link"
    assert len(tools.calls) == 2 and sleeps == [1.0]


def test_a_read_whose_tool_died_of_a_signal_is_run_again_and_a_write_is_not(tmp_path):
    """A tool killed by a signal (rc -11: SIGSEGV, nothing printed) lost its answer: on a read it is asked
    again; the same death on a write is not run again but reported as an answer lost (the server may have
    acted), as a dropped connection is."""
    tools = FakeTools((-11, "", ""), ok(DESCRIBE_LINK))
    b, sleeps = retrying(tools, tmp_path)
    assert b.get_link("orders-link")["link_name"] == "orders-link"
    assert len(tools.calls) == 2 and sleeps == [1.0]
    tools = FakeTools((-11, "", ""), ok("Cluster link 'l' creation successfully completed.\n"))
    b, sleeps = retrying(tools, tmp_path)
    with pytest.raises(cli.CliError) as lost:
        b.create_link("l", {"source_cluster_id": "src"}, {"bootstrap.servers": "s:9092"})
    assert len(tools.calls) == 1 and sleeps == []
    assert isinstance(lost.value, cli.CliAnswerLost) and "the server may have acted" in lost.value.message


def test_a_read_that_timed_out_is_not_run_again(tmp_path):
    """An unreachable cluster times out every time: the user hears about it at once."""
    tools = FakeTools(TIMED_OUT, ok(DESCRIBE_LINK))
    b, sleeps = retrying(tools, tmp_path)
    with pytest.raises(cli.CliError) as err:
        b.get_link("orders-link")
    assert not outcome_unknown(err.value)
    assert len(tools.calls) == 1


def test_a_batch_with_per_topic_results_is_an_answer_not_a_failure(tmp_path):
    out = PROMOTED + "Error while executing mirror command: HTTP 503 for b\n"
    tools = FakeTools((1, out, ""))
    b, sleeps = retrying(tools, tmp_path)
    succeeded, failed = b.alter_mirrors("l", "promote", ["a"])
    assert list(succeeded) == ["a"] and len(tools.calls) == 1


def test_a_batch_refused_as_a_whole_by_throttling_is_run_again(tmp_path):
    tools = FakeTools(THROTTLED, ok(PROMOTED))
    b, sleeps = retrying(tools, tmp_path)
    succeeded, failed = b.alter_mirrors("l", "promote", ["a"])
    assert list(succeeded) == ["a"] and failed == {}
    assert len(tools.calls) == 2 and b.retry_policy.count == 1

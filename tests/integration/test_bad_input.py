"""Bad input: a one-line error naming the option or endpoint, no traceback, nothing changed."""

from __future__ import annotations

import socket

from linkops_it import create_link_via_rest, get_link, link_names, run_ansible_module


def assert_clean_failure(run, *named):
    assert run.rc != 0, run.output
    assert run.result.get("_status") == "FAILED!", run.output
    assert run.msg and "\n" not in run.msg.strip(), f"not a one-line message: {run.msg!r}"
    # what the user reads first: the whole message on the one [ERROR] line
    assert any(line.startswith("[ERROR]") and line.endswith(run.msg.strip())
               for line in run.output.splitlines()), run.output
    for text in named:
        assert text in run.msg, f"{text!r} not named in: {run.msg}"
    assert "Traceback" not in run.output, run.output
    assert "MODULE FAILURE" not in run.output, run.output


def new_link(lab, name, **extra):
    args = {"name": name, "source_cluster_id": lab.source_cluster_id,
            "source_bootstrap_servers": lab.source_bootstrap}
    args.update(extra)
    return args


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unknown_link_config_is_refused_by_the_server(lab, run_module, link_name):
    run = run_module("cluster_link", new_link(lab, link_name, configs={"no.such.link.config": "1"}))
    assert_clean_failure(run, "no.such.link.config", link_name)
    assert get_link(lab, link_name)[0] == 404
    assert link_name not in link_names(lab)


def test_topic_filter_with_unknown_pattern_type(lab, run_module, link_name):
    run = run_module("cluster_link", new_link(lab, link_name, topic_filters=[
        {"name": "orders.", "pattern_type": "PREFIXED"}, {"name": "x", "pattern_type": "FUZZY"}]))
    # the second entry is the bad one
    assert_clean_failure(run, "topic_filters[1].pattern_type", "FUZZY")
    assert get_link(lab, link_name)[0] == 404

    run = run_module("cluster_link", new_link(lab, link_name, topic_filters=[
        {"name": "x", "pattern_type": "FUZZY"}]))
    assert_clean_failure(run, "topic_filters[0].pattern_type", "FUZZY")
    assert get_link(lab, link_name)[0] == 404


def test_mirror_topic_name_kafka_would_refuse(lab, run_module, link_name):
    create_link_via_rest(lab, link_name)
    run = run_module("mirror_topic", {"link_name": link_name, "topics": ["bad topic!"]})
    assert_clean_failure(run, "topics[0]", "bad topic!")
    assert run.result.get("rest_requests") == 0, "a request was sent for an invalid topic name"
    assert get_link(lab, link_name)[1]["topic_names"] == []
    assert "bad topic!" not in lab.topics("destination")


def test_unreachable_rest_url_names_the_endpoint(lab, link_name):
    url = f"http://127.0.0.1:{closed_port()}/kafka"
    args = new_link(lab, link_name, rest_url=url, rest_username=lab.rest_username,
                    rest_password=lab.rest_password, cluster_id=lab.destination_cluster_id,
                    request_retries=0)
    run = run_ansible_module(lab, "cluster_link", args, connect=False)
    assert_clean_failure(run, url, "rest_url")
    assert get_link(lab, link_name)[0] == 404


def test_wrong_rest_password(lab, run_module, link_name):
    run = run_module("cluster_link", new_link(lab, link_name, rest_password="not-the-password"))
    assert_clean_failure(run, "401", "rest_username", "rest_password")
    assert "not-the-password" not in run.output
    assert get_link(lab, link_name)[0] == 404


def test_offset_sync_without_group_filters_fails_naming_the_task(lab, run_module, link_name):
    """Confluent accepts the link but its ConsumerOffsetSync task is IN_ERROR: say so, don't report ok."""
    run = run_module("cluster_link", new_link(lab, link_name, configs={"consumer.offset.sync.enable": True}))
    assert_clean_failure(run, link_name, "ConsumerOffsetSync", "MISCONFIGURATION_ERROR", "IN_ERROR")
    assert run.result.get("changed") is True
    assert get_link(lab, link_name)[0] == 200, "the link was created (and the task says so)"


def test_migration_verify_never_shows_a_client_secret(lab, run_module, unique):
    """A password in the Kafka client settings stays hidden, even at -vvv and when checks fail."""
    canary = unique("CANARY")
    config = dict(lab.client_config, **{"sasl.password": canary, "sasl.username": "probe"})
    run = run_module("migration_verify", {
        "source_bootstrap_servers": lab.source_bootstrap, "source_client_config": config,
        "destination_bootstrap_servers": lab.destination_bootstrap, "destination_client_config": config,
        "topics": [unique("it-absent")], "timeout": 10,
    }, verbose=3, connect=False)
    assert run.rc != 0, run.output
    assert "topic_exists:" in run.output
    assert canary not in run.output
    assert "Traceback" not in run.output

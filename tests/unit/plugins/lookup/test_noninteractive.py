"""The lookup linkops.cluster_linking.noninteractive: why a run cannot ask a question, read from real
processes (a child whose stdin is /dev/null, one whose stdin is its controlling pseudo-terminal in the
foreground, one in the background of that terminal), AAP's variables and ansible-runner's environment."""

from __future__ import annotations

import fcntl
import os
import pty
import subprocess
import termios

import pytest

from ansible_collections.linkops.cluster_linking.plugins.lookup import noninteractive


def _session_with_terminal():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@pytest.fixture
def terminal_child():
    """A process in a session of its own whose stdin is its controlling terminal (an operator's shell)."""
    main, child = pty.openpty()
    proc = subprocess.Popen(["sleep", "30"], stdin=child, stdout=child, stderr=child, preexec_fn=_session_with_terminal)
    os.close(child)
    yield proc
    proc.kill()
    proc.wait()
    os.close(main)


def test_stdin_not_a_terminal():
    proc = subprocess.Popen(["sleep", "30"], stdin=subprocess.DEVNULL)
    try:
        assert noninteractive.stdin_is_foreground_terminal(proc.pid) is False
        assert noninteractive.reason({}, environ={}, pid=proc.pid).startswith("no terminal")
    finally:
        proc.kill()
        proc.wait()


def test_stdin_the_foreground_terminal(terminal_child):
    assert noninteractive.stdin_is_foreground_terminal(terminal_child.pid) is True
    assert noninteractive.reason({}, environ={}, pid=terminal_child.pid) == ""


def test_a_job_of_aap_or_ansible_runner_cannot_ask_even_with_a_terminal(terminal_child):
    pid = terminal_child.pid
    assert noninteractive.reason({"awx_job_id": 42}, environ={}, pid=pid) == "an AAP job (awx_job_id is set)"
    assert noninteractive.reason({"tower_job_id": "7"}, environ={}, pid=pid) == "an AAP job (tower_job_id is set)"
    assert noninteractive.reason({}, environ={"AWX_ISOLATED_DATA_DIR": "/runner/artifacts/1"}, pid=pid).startswith(
        "run by ansible-runner")
    assert noninteractive.reason({}, environ={"ANSIBLE_STDOUT_CALLBACK": "awx_display"}, pid=pid).startswith(
        "run by ansible-runner")
    # an empty survey variable is not a job id
    assert noninteractive.reason({"awx_job_id": ""}, environ={}, pid=pid) == ""


def test_a_process_without_proc_entry_is_left_to_the_question():
    assert noninteractive.stdin_is_foreground_terminal(2 ** 22 + 12345) is None
    assert noninteractive.reason({}, environ={}, pid=2 ** 22 + 12345) == ""

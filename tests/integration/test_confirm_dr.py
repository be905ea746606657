"""failover.yml and failback.yml questions over three BIDIRECTIONAL link pairs (one batch), on the
session lab: one question names every link of the batch and what happens to it, and a link without a yes
(given now, or beforehand with failover_confirm / failback_confirm) is refused before its first write.

For each playbook, in order: no terminal (CI, AAP without a survey answer); "no" typed in a terminal;
true for one link as a host var while the others carry the survey's "false"; true for all. After each
run the lab says which links were failed over (their DR mirror STOPPED) or failed back (the DR mirror
ACTIVE again): exactly the confirmed ones.
"""

from __future__ import annotations

import pytest

from fleet_it import (REFUSED, D, S, links_with_topics, mirror_status, playbook, playbook_in_terminal, recap,
                      host_vars_added, refused_hosts)
from linkops_it import wait_until

GATE = ["-e", "rollout_gate_max_lag=0", "-e", "rollout_gate_interval=1", "-e", "rollout_gate_timeout=90"]


@pytest.fixture(scope="module")
def pairs(lab, tmp_path_factory):
    """Three BIDIRECTIONAL pairs made by rollout.yml, each mirroring one topic of 4 records."""
    made = links_with_topics(lab, tmp_path_factory.mktemp("confirm-dr"), "cd", link_mode="BIDIRECTIONAL")
    rollout = playbook(lab, made["inventory"], "rollout", *GATE)
    assert rollout.rc == 0, rollout.output
    return {**made, "state": {}}


def dr_status(pairs):
    return {n: mirror_status(pairs["lab"], D, n, f"{n}-t") for n in pairs["names"]}


def expect(pairs, status_by_link):
    wait_until(lambda: dr_status(pairs) == status_by_link, 30, f"DR mirrors {status_by_link}")


def scenarios(pairs, name, variable, untouched, done):
    """The four answers for one playbook; ``untouched``/``done`` are the DR mirror status of a refused /
    a confirmed link."""
    names, lab, inventory = pairs["names"], pairs["lab"], pairs["inventory"]

    run = playbook(lab, inventory, name)
    assert run.rc != 0, run.output
    assert refused_hosts(run.output) == set(names), run.output
    assert f"{variable}=true" in run.output
    # no terminal: refused at once, nothing asked (an AAP job without the survey answer ends the same way)
    assert "Nobody can answer a question in this run (no terminal" in " ".join(run.output.split()), run.output
    assert "Type yes to go on" not in run.output
    expect(pairs, dict.fromkeys(names, untouched))

    run, questions = playbook_in_terminal(lab, inventory, name, "no")
    assert run.rc != 0, run.output
    assert len(questions) == 1, questions
    question = " ".join(questions[0].split())
    assert all(f"- {n}: " in question and f"({n}-t)" in question for n in names), question
    assert refused_hosts(run.output) == set(names), run.output
    expect(pairs, dict.fromkeys(names, untouched))

    first, *others = names
    with host_vars_added(inventory, {n: {variable: True if n == first else "false"} for n in names}):
        run = playbook(lab, inventory, name)
    assert run.rc != 0, run.output
    assert recap(run.output)[first]["failed"] == 0, run.output
    assert refused_hosts(run.output) == set(others), run.output
    expect(pairs, {first: done, **dict.fromkeys(others, untouched)})

    run = playbook(lab, inventory, name, "-e", f"{variable}=true")
    assert run.rc == 0, run.output
    assert REFUSED not in run.output
    expect(pairs, dict.fromkeys(names, done))


def test_failover_fails_over_exactly_the_confirmed_links(pairs):
    scenarios(pairs, "failover", "failover_confirm", untouched="ACTIVE", done="STOPPED")
    pairs["state"]["failed_over"] = True


def test_failback_fails_back_exactly_the_confirmed_links(pairs):
    if not pairs["state"].get("failed_over"):
        pytest.skip("needs the failover test's end state")
    scenarios(pairs, "failback", "failback_confirm", untouched="STOPPED", done="ACTIVE")
    # the old primary is the primary again: its topics are writable, not mirrors being restored
    assert all(mirror_status(pairs["lab"], S, n, f"{n}-t") == "STOPPED" for n in pairs["names"])

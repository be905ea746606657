"""teardown.yml's question over three links (one batch), on the session lab: one question names every
link of the batch and what is deleted, and a link without a yes (given now, or beforehand with
teardown_confirm) is kept.

In order: no terminal (CI, AAP without a survey answer); "no" typed in a terminal; true for one link as a
host var while the others carry the survey's "false"; "yes" typed in a terminal for the rest. After each
run the lab says which links are gone: exactly the confirmed ones.
"""

from __future__ import annotations

import pytest

from fleet_it import (REFUSED, D, links_on, links_with_topics, playbook, playbook_in_terminal, recap, refused_hosts,
                      host_vars_added)


@pytest.fixture(scope="module")
def links(lab, tmp_path_factory):
    """Three links with one mirror each, made by migrate.yml's link and mirrors phases."""
    made = links_with_topics(lab, tmp_path_factory.mktemp("confirm-teardown"), "ct", records=0,
                             group_vars={"teardown_force": True})
    run = playbook(lab, made["inventory"], "migrate", "--tags", "link,mirrors")
    assert run.rc == 0, run.output
    return made


def existing(links):
    on_lab = links_on(links["lab"], D)
    return {n: n in on_lab for n in links["names"]}


def test_teardown_deletes_exactly_the_confirmed_links(links):
    names, lab, inventory = links["names"], links["lab"], links["inventory"]
    assert existing(links) == dict.fromkeys(names, True)

    run = playbook(lab, inventory, "teardown")
    assert run.rc != 0, run.output
    assert refused_hosts(run.output) == set(names), run.output
    assert "teardown_confirm=true" in run.output
    # no terminal: refused at once, nothing asked (an AAP job without the survey answer ends the same way)
    assert "Nobody can answer a question in this run (no terminal" in " ".join(run.output.split()), run.output
    assert "Type yes to go on" not in run.output
    assert existing(links) == dict.fromkeys(names, True)

    run, questions = playbook_in_terminal(lab, inventory, "teardown", "no")
    assert run.rc != 0, run.output
    assert len(questions) == 1, questions
    question = " ".join(questions[0].split())
    assert all(f"- {n}: delete link {n} on lab_destination (topics are kept)" in question for n in names), question
    assert refused_hosts(run.output) == set(names), run.output
    assert existing(links) == dict.fromkeys(names, True)

    first, *others = names
    with host_vars_added(inventory, {n: {"teardown_confirm": True if n == first else "false"} for n in names}):
        run = playbook(lab, inventory, "teardown")
    assert run.rc != 0, run.output
    assert recap(run.output)[first]["failed"] == 0, run.output
    assert refused_hosts(run.output) == set(others), run.output
    assert existing(links) == {first: False, **dict.fromkeys(others, True)}

    # the question names only the links that still have something to delete
    run, questions = playbook_in_terminal(lab, inventory, "teardown", "yes")
    assert run.rc == 0, run.output
    assert len(questions) == 1, questions
    question = " ".join(questions[0].split())
    assert f"- {first}: " not in question and all(f"- {n}: delete link" in question for n in others), question
    assert REFUSED not in run.output
    assert existing(links) == dict.fromkeys(names, False)
    # topics are kept
    assert all(f"{n}-t" in lab.topics(D) for n in names)

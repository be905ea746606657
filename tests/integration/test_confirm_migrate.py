"""migrate.yml's cutover question over three links (one batch), on the session lab: one question names
every link of the batch and what happens to it, the answer applies to all of them, and a link without a
yes (given now, or beforehand with migrate_confirm_cutover) is refused before its promote.

The answers, in the order an operator meets them: no terminal (CI, AAP without a survey answer); the
survey's "false"; "no" typed in a terminal; true for one link only (host var); true for all (extra var).
After each run the lab says which links' mirrors were promoted (STOPPED): exactly the confirmed ones.
"""

from __future__ import annotations

import pytest

from fleet_it import (REFUSED, D, links_with_topics, mirror_status, playbook, playbook_in_terminal, recap,
                      host_vars_added, refused_hosts)


@pytest.fixture(scope="module")
def links(lab, tmp_path_factory):
    """Three links, each with one topic of 4 records, and an inventory for them."""
    return links_with_topics(lab, tmp_path_factory.mktemp("confirm-migrate"), "cm")


def promoted(links):
    """``{link: True when its mirror is STOPPED}`` read from the lab."""
    return {n: mirror_status(links["lab"], D, n, f"{n}-t") == "STOPPED" for n in links["names"]}


def migrate(links, *args):
    return playbook(links["lab"], links["inventory"], "migrate", "--skip-tags", "verify", *args)


def test_no_terminal_refuses_every_link(links):
    run = migrate(links)
    assert run.rc != 0, run.output
    hosts = recap(run.output)
    assert all(hosts[n]["failed"] == 1 for n in links["names"]), run.output
    assert refused_hosts(run.output) == set(links["names"]), run.output
    assert "migrate_confirm_cutover=true" in run.output
    # the links and mirrors exist (those phases need no question); nothing was promoted
    assert promoted(links) == dict.fromkeys(links["names"], False)
    assert all(mirror_status(links["lab"], D, n, f"{n}-t") == "ACTIVE" for n in links["names"])


def test_survey_false_refuses_every_link(links):
    run = migrate(links, "-e", "migrate_confirm_cutover=false")
    assert run.rc != 0, run.output
    assert refused_hosts(run.output) == set(links["names"]), run.output
    assert promoted(links) == dict.fromkeys(links["names"], False)


def test_no_in_a_terminal_refuses_every_link_after_one_question_naming_all(links):
    run, questions = playbook_in_terminal(links["lab"], links["inventory"], "migrate", "no", "--skip-tags", "verify")
    assert run.rc != 0, run.output
    assert len(questions) == 1, questions
    question = " ".join(questions[0].split())
    for n in links["names"]:
        assert f"{n}: promote 1 mirror topic on lab_destination ({n}-t)" in question, question
    assert refused_hosts(run.output) == set(links["names"]), run.output
    assert promoted(links) == dict.fromkeys(links["names"], False)


def test_true_for_one_link_promotes_only_that_link(links):
    first, *others = links["names"]
    with host_vars_added(links["inventory"], {first: {"migrate_confirm_cutover": True}}):
        run = migrate(links)
    assert run.rc != 0, run.output
    hosts = recap(run.output)
    assert hosts[first]["failed"] == 0, run.output
    assert refused_hosts(run.output) == set(others), run.output
    assert promoted(links) == {first: True, **dict.fromkeys(others, False)}


def test_true_for_all_promotes_the_rest_and_asks_nothing(links):
    run = migrate(links, "-e", "migrate_confirm_cutover=true")
    assert run.rc == 0, run.output
    assert REFUSED not in run.output
    assert promoted(links) == dict.fromkeys(links["names"], True)

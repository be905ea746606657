"""migrate.yml's cutover question over three links (one batch), on the session lab: one question names
every link of the batch and what happens to it, the answer applies to all of them, and a link without a
yes (given now, or beforehand with migrate_confirm_cutover) is refused before its promote. Where nobody
can answer (no terminal, an AAP job), a link without a yes given beforehand is refused at once, before its
link is created.

The answers, in the order an operator meets them: no terminal (CI, AAP without a survey answer), with no
answer, the survey's "false" or an answer that is neither true nor false; an AAP job (awx_job_id) even with
a terminal; "no" typed in a terminal; the survey's "yes" for one link only (host var); true for all (extra var).
After each run the lab says which links exist and which mirrors were promoted (STOPPED): exactly the
confirmed ones.
"""

from __future__ import annotations

import pytest

from fleet_it import (REFUSED, D, links_on, links_with_topics, mirror_status, playbook, playbook_in_terminal, recap,
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


def linked(links):
    """``{link: True when it exists on the destination}``."""
    on_lab = links_on(links["lab"], D)
    return {n: n in on_lab for n in links["names"]}


def test_no_terminal_refuses_every_link_before_its_link_is_created(links):
    """One run, three answers: none, the survey's "false", and one that is neither true nor false."""
    unanswered, false, maybe = links["names"]
    with host_vars_added(links["inventory"], {false: {"migrate_confirm_cutover": "false"},
                                              maybe: {"migrate_confirm_cutover": "maybe"}}):
        run = migrate(links)
    assert run.rc != 0, run.output
    assert all(recap(run.output)[n]["failed"] == 1 for n in links["names"]), run.output
    flat = " ".join(run.output.split())
    assert refused_hosts(run.output) == {unanswered, false}, run.output
    assert "Nobody can answer a question in this run (no terminal" in flat, run.output
    assert "migrate_confirm_cutover=true" in flat
    assert f'{maybe}: migrate_confirm_cutover is "maybe", neither true nor false' in flat, flat
    assert "Type yes to go on" not in run.output
    assert linked(links) == dict.fromkeys(links["names"], False)


def test_an_aap_job_asks_nothing_even_with_a_terminal(links):
    run, questions = playbook_in_terminal(links["lab"], links["inventory"], "migrate", "yes", "--skip-tags", "verify",
                                          "-e", "awx_job_id=42")
    assert questions == []
    assert run.rc != 0, run.output
    assert refused_hosts(run.output) == set(links["names"]), run.output
    assert "Nobody can answer a question in this run (an AAP job (awx_job_id is set))" in " ".join(run.output.split())
    assert linked(links) == dict.fromkeys(links["names"], False)


def test_no_in_a_terminal_refuses_every_link_after_one_question_naming_all(links):
    run, questions = playbook_in_terminal(links["lab"], links["inventory"], "migrate", "no", "--skip-tags", "verify")
    assert run.rc != 0, run.output
    assert len(questions) == 1, questions
    question = " ".join(questions[0].split())
    for n in links["names"]:
        assert f"{n}: promote 1 mirror topic on lab_destination ({n}-t)" in question, question
    assert refused_hosts(run.output) == set(links["names"]), run.output
    # with a terminal the question comes at the cutover: the links and mirrors exist, nothing was promoted
    assert linked(links) == dict.fromkeys(links["names"], True)
    assert promoted(links) == dict.fromkeys(links["names"], False)
    assert all(mirror_status(links["lab"], D, n, f"{n}-t") == "ACTIVE" for n in links["names"])


def test_survey_yes_for_one_link_promotes_only_that_link(links):
    first, *others = links["names"]
    answers = {n: {"migrate_confirm_cutover": "yes" if n == first else "no"} for n in links["names"]}
    with host_vars_added(links["inventory"], answers):
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

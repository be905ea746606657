"""What migrate.yml tells the operator, on the session lab: under --check a summary of what it would do;
while the sync wait waits, a line per link with the lag and the time left; on timeout the lag, that a
re-run resumes and which variables to raise; the lag samples of every run kept in lag-samples.jsonl;
after the re-run, a summary of what it did."""

from __future__ import annotations

import json

from fleet_it import D, S, mirror_status, playbook, write_inventory
from linkops_it import unique_name


def flat(output):
    return " ".join(output.split())


def test_dry_run_summary_progress_timeout_and_samples_across_runs(lab, tmp_path):
    name = unique_name("prog")
    topic = f"{name}-t"
    lab.create_topic(S, topic, partitions=1)
    lab.produce(S, topic, [{"value": str(i), "partition": 0} for i in range(5)])
    inventory = write_inventory(tmp_path / "inventory", lab, {name: {"link_topics": [topic]}},
                                migrate_confirm_cutover=True)
    reports = tmp_path / "reports" / name

    check = playbook(lab, inventory, "migrate", "--check", "--diff")
    assert check.rc == 0, check.output
    assert (f"{name} (--check: nothing was changed): would create the link on lab_destination; would create 1 of 1 "
            f"mirror topic(s); then would wait for lag 0 and promote 1 topic(s) on lab_destination") in flat(check.output)
    assert f"{name} on lab_source: topics {topic} (1 of" in flat(check.output), check.output

    lab.knobs(copy_paused=True)
    try:
        stuck = playbook(lab, inventory, "migrate", "-e", "link_wait_timeout=24", "--skip-tags", "verify")
    finally:
        lab.knobs(copy_paused=False)
    text = flat(stuck.output)
    assert stuck.rc != 0, stuck.output
    assert f"{name}: 1 of 1 mirror topics not caught up yet, max lag 5 (" in text, stuck.output
    assert (f"{name}: Timed out after 24s: {topic} (ACTIVE). Largest lag 5" in text
            and "A re-run resumes" in text and "Raise link_wait_timeout (now 24 s)" in text), stuck.output
    assert mirror_status(lab, D, name, topic) == "ACTIVE"  # not promoted
    first = [json.loads(line) for line in (reports / "lag-samples.jsonl").read_text().splitlines()]
    assert first and all(s["max_lag"] == 5 for s in first)

    done = playbook(lab, inventory, "migrate", "--skip-tags", "verify")
    assert done.rc == 0, done.output
    assert (f"{name}: the link on lab_destination is as the inventory says; the 1 mirror topic(s) were there "
            f"already; promote 1 topic(s) on lab_destination.") in flat(done.output), done.output
    samples = [json.loads(line) for line in (reports / "lag-samples.jsonl").read_text().splitlines()]
    assert samples[:len(first)] == first, "the samples of the first run were rewritten"
    assert len({s["run_started"] for s in samples}) == 2 and samples[-1]["max_lag"] == 0

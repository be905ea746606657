"""mirror_topic_info wait_for: which topics keep the condition from holding."""

from __future__ import annotations

from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirrors import info_report
from ansible_collections.linkops.cluster_linking.plugins.modules.mirror_topic_info import _sample, _waiting


def mirror(name, status, *lags):
    return {"mirror_topic_name": name, "mirror_status": status,
            "mirror_lags": [{"partition": i, "lag": lag} for i, lag in enumerate(lags)]}


MIRRORS = {"a": mirror("a", "ACTIVE", 0, 0), "b": mirror("b", "ACTIVE", 3, 1),
           "c": mirror("c", "STOPPED", 0), "d": mirror("d", "PAUSED", 0)}


def test_caught_up_needs_every_mirror_active_or_stopped_within_max_lag():
    report = info_report(MIRRORS, ["x", "a", "b", "c", "d"])
    assert _waiting(report, "caught_up", 0) == ["x", "b", "d"]
    assert _waiting(report, "caught_up", 3) == ["x", "d"]
    assert _waiting(info_report(MIRRORS, ["a", "c"]), "caught_up", 0) == []


def test_stopped_needs_every_mirror_stopped():
    assert _waiting(info_report(MIRRORS, ["a", "c"]), "stopped", 0) == ["a"]
    assert _waiting(info_report(MIRRORS, ["c"]), "stopped", 0) == []


def test_a_sample_holds_the_lags_and_counts_of_one_read():
    sample = _sample(info_report(MIRRORS, ["a", "b"]))
    assert (sample["max_lag"], sample["total_lag"], sample["status_counts"]) == (3, 4, {"ACTIVE": 2})
    assert sample["phase"] == "sync_wait" and sample["time"] > 1.7e9


def test_the_sync_wait_progress_line_names_the_mirrors_waited_for():
    from ansible_collections.linkops.cluster_linking.plugins.action.mirror_topic_info import progress_line
    states = dict(("t%02d" % i, "ACTIVE") for i in range(1, 30))
    result = {"waiting": ["t%02d" % i for i in range(12)], "missing": ["t00"], "states": states, "max_lag": 1500}
    line = progress_line("L", result, [{"max_lag": 3000}, {"max_lag": 1500}], 61.5)
    assert line == ("L: 12 of 30 mirror topics not caught up yet, 1 of them not mirrors yet, max lag 1,500 "
                    "(falling from 3,000), 61 s left (waiting for t00, t01, t02, t03, t04, t05, t06, t07, t08, t09 "
                    "and 2 more)")
